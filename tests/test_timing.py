# Ref: rtl/timing.py (the core's timing), rtl/regbus.py (ready, settled, LATENCY)
"""The register bus driven back to back: every request issued in the first
cycle the core takes it (ready, and settled for SETTLED_READS), without
waiting for earlier answers. The answers, the deactivations and the lines
must be those of the golden model run one request at a time.

Also the throughput the timing promises (a burst of storage writes at one per
cycle, an EOIR's short hold), and reset in the middle of a settling pipeline
and of an EOI.
"""
from collections import deque

import pytest
from amaranth.sim import Simulator

from vgic.rtl import regs
from vgic.rtl.regbus import LATENCY, needs_settled
from vgic.rtl.regs import lr as LR
from vgic.rtl.timing import Timing
from vgic.rtl.top import VirtualInterface
from vgic.sim.model import VirtualInterface as Model
from vgic.sim.driver import ResetBench
from vgic.sim.stimulus import CORE, Txn, apply, generate, lr_value


def _addr(txn):
    return txn.offset if txn.frame == CORE else regs.core_addr(txn.frame, txn.offset)


def run_back_to_back(num_lrs, txns):
    """Drive `txns` back to back; a reset among them is a one-cycle pulse in
    the first cycle the bench reaches it (requests in flight are wiped: no
    answer). Returns (per request: (read data or None, accept
    cycle), the lines seen in cycles whose previous cycle was settled as
    (cycle, virq, vfiq, maint), forwarded pINTIDs, total cycles)."""
    dut = VirtualInterface(num_lrs)
    bench = ResetBench(dut)
    out = {"answers": [None] * len(txns), "accepted": [None] * len(txns), "lines": [],
           "forwarded": [], "cycles": 0}

    async def tb(ctx):
        bus = dut.bus
        in_flight = deque()                      # (index, accept cycle)
        i, cycle, was_settled = 0, 0, False
        while i < len(txns) or in_flight:
            if in_flight and in_flight[0][1] + LATENCY == cycle:
                k, _ = in_flight.popleft()
                assert ctx.get(bus.ack), f"no ack for request {k}"
                if txns[k].op == "read":
                    out["answers"][k] = ctx.get(bus.r_data)
            else:
                assert not ctx.get(bus.ack), f"ack in cycle {cycle} with nothing due"
            if ctx.get(dut.deact_valid):
                out["forwarded"].append((cycle, ctx.get(dut.deact_pintid)))
            if was_settled:
                out["lines"].append((cycle, ctx.get(dut.virq), ctx.get(dut.vfiq),
                                     ctx.get(dut.maint_irq)))
            was_settled = bool(ctx.get(bus.settled))
            ctx.set(bus.r_stb, 0)
            ctx.set(bus.w_stb, 0)
            if i < len(txns) and txns[i].op == "reset":
                ctx.set(bench.sync.rst, 1)
                await ctx.tick()
                ctx.set(bench.sync.rst, 0)
                out["accepted"][i] = ("reset", cycle)
                in_flight.clear()
                cycle += 1
                i += 1
                was_settled = False
                continue
            if i < len(txns):
                txn = txns[i]
                word = _addr(txn) >> 2
                ok = ctx.get(bus.ready) and (txn.op == "write" or not needs_settled(word)
                                             or ctx.get(bus.settled))
                if ok:
                    ctx.set(bus.addr, word)
                    if txn.op == "read":
                        ctx.set(bus.r_stb, 1)
                    else:
                        ctx.set(bus.w_stb, 1)
                        ctx.set(bus.w_data, txn.value)
                        ctx.set(bus.w_strb, txn.strb)
                    in_flight.append((i, cycle))
                    out["accepted"][i] = ("bus", cycle)
                    i += 1
            await ctx.tick()
            cycle += 1
        # the lines after the last request, once settled
        for _ in range(64):
            if ctx.get(dut.deact_valid):
                out["forwarded"].append((cycle, ctx.get(dut.deact_pintid)))
            if was_settled:
                out["lines"].append((cycle, ctx.get(dut.virq), ctx.get(dut.vfiq),
                                     ctx.get(dut.maint_irq)))
                break
            was_settled = bool(ctx.get(bus.settled))
            await ctx.tick()
            cycle += 1
        out["cycles"] = cycle

    sim = Simulator(bench)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return out


def check_against_model(num_lrs, txns, out):
    """Answers, forwarded pINTIDs and every sampled line level equal the
    golden model's, one request at a time."""
    model = Model(num_lrs)
    resets = sum(t.op == "reset" for t in txns)    # a reset wipes answers and deactivations in flight
    # lines after the first k requests (k = 0 .. n), the model's
    lines_after = [(int(model.virq), int(model.vfiq), int(model.maint))]
    for k, txn in enumerate(txns):
        data = apply(model, txn)
        if txn.op == "read" and out["answers"][k] is not None or resets == 0:
            assert out["answers"][k] == data, (
                f"request {k} ({txn}): RTL read {out['answers'][k]:#x}, model {data:#x}")
        lines_after.append((int(model.virq), int(model.vfiq), int(model.maint)))
    if not resets:
        assert [p for _, p in out["forwarded"]] == list(model.forwarded)
    accept = [c for _, c in out["accepted"]]
    for cycle, *lines in out["lines"]:
        # settled in cycle - 1: the lines reflect every request accepted before it
        k = sum(1 for c in accept if c < cycle - 1)
        assert tuple(lines) == lines_after[k], (
            f"cycle {cycle}: lines {tuple(lines)} after {k} requests, model {lines_after[k]}")


@pytest.mark.parametrize("profile", ["kvm", "mixed"])
@pytest.mark.parametrize("num_lrs", [1, 2, 4, 5, 9, 64])
@pytest.mark.parametrize("seed", [1, 2])
def test_back_to_back_matches_the_model(num_lrs, profile, seed):
    txns = [t for t in generate(seed, num_lrs, 600, profile) if t.op != "reset"]
    out = run_back_to_back(num_lrs, txns)
    check_against_model(num_lrs, txns, out)


def W(reg, value):
    return Txn("write", reg.frame, reg.offset, value)


def R(reg):
    return Txn("read", reg.frame, reg.offset)


def _enable():
    return [W(regs.GICH_HCR, 1), W(regs.GICV_CTLR, 0b11), W(regs.GICV_PMR, 0xF8)]


def test_writes_then_iar_returns_the_right_vid():
    txns = _enable() + [W(LR(n), lr_value(vid=32 + n, prio=0x80 - 8 * n, state=1))
                        for n in range(4)] + [R(regs.GICV_IAR), R(regs.GICV_HPPIR)]
    out = run_back_to_back(4, txns)
    assert out["answers"][-2] == 35 and out["answers"][-1] == 34
    check_against_model(4, txns, out)


def test_storage_write_between_iar_and_eoir():
    txns = _enable() + [W(LR(0), lr_value(vid=40, prio=0x40, state=1, hw=1, pintid=100)),
                        R(regs.GICV_IAR), W(LR(1), lr_value(vid=41, prio=0x20, state=1)),
                        W(regs.GICV_EOIR, 40), R(LR(0)), R(regs.GICV_IAR)]
    out = run_back_to_back(4, txns)
    assert out["answers"][4] == 40 and out["answers"][-1] == 41
    assert [p for _, p in out["forwarded"]] == [100]
    check_against_model(4, txns, out)


@pytest.mark.parametrize("num_lrs", [1, 4, 16])
def test_eoir_followed_at_once_by_derived_reads_and_an_lr_write(num_lrs):
    last = num_lrs - 1
    txns = _enable() + [W(regs.GICH_HCR, 1 | 1 << 3), W(LR(last), lr_value(vid=50, prio=0x30, state=1, eoi=1)),
                        R(regs.GICV_IAR), W(regs.GICV_EOIR, 50),
                        R(regs.GICV_HPPIR), R(regs.GICV_RPR), R(regs.GICH_ELRSR0), R(regs.GICH_EISR0),
                        R(regs.GICH_MISR), W(LR(last), lr_value(vid=51, prio=0x30, state=1)),
                        R(regs.GICV_IAR)]
    out = run_back_to_back(num_lrs, txns)
    check_against_model(num_lrs, txns, out)
    assert out["answers"][-1] == 51


def test_storage_burst_one_per_cycle():
    """Writes of every LR, HCR, VMCR and APR: one accepted per cycle."""
    for num_lrs in (1, 4, 64):
        names = [LR(n) for n in range(num_lrs)] + [regs.GICH_HCR, regs.GICH_VMCR, regs.GICH_APR]
        txns = [W(r, 0x1000_0000 | n if r.name.startswith("LR") else 0)
                for n, r in enumerate(names * 3)]
        out = run_back_to_back(num_lrs, txns)
        accept = [c for _, c in out["accepted"]]
        assert accept == list(range(accept[0], accept[0] + len(txns))), num_lrs


@pytest.mark.parametrize("num_lrs", [4, 16])
def test_eoir_holds_ready_for_the_match_only(num_lrs):
    t = Timing(num_lrs)
    txns = [W(regs.GICV_EOIR, 1023), R(regs.GICH_HCR), R(regs.GICH_HCR)]
    out = run_back_to_back(num_lrs, txns)
    accept = [c for _, c in out["accepted"]]
    assert accept[1] - accept[0] == 1 + t.match_latency and accept[2] == accept[1] + 1


@pytest.mark.parametrize("num_lrs", [1, 4, 5, 16, 64])
def test_a_derived_read_waits_settle_cycles_after_a_write(num_lrs):
    t = Timing(num_lrs)
    txns = _enable() + [W(LR(0), lr_value(vid=5, prio=0, state=1)), R(regs.GICV_HPPIR), R(LR(0))]
    out = run_back_to_back(num_lrs, txns)
    accept = [c for _, c in out["accepted"]]
    assert accept[-2] - accept[-3] == 1 + t.settle
    assert out["answers"][-2] == 5


@pytest.mark.parametrize("num_lrs", [1, 4, 16])
def test_an_lr_write_right_after_a_mask_write_does_not_shorten_its_wait(num_lrs):
    """rtl/timing.py: a GICV_BPR write needs settle_masks, an LR write only
    settle; taken back to back, an IAR waits for the longer. With APR bit 1
    active, an LR of priority 0x08 preempts under BPR 7 (group priority 0)
    but not under BPR 2 (group priority 1): the IAR must see BPR 2."""
    t = Timing(num_lrs)
    txns = _enable() + [W(regs.GICV_BPR, 7), W(regs.GICH_APR, 0b10), R(regs.GICV_RPR),
                        W(regs.GICV_BPR, 2), W(LR(0), lr_value(vid=70, prio=0x08, state=1)),
                        R(regs.GICV_IAR)]
    out = run_back_to_back(num_lrs, txns)
    assert out["answers"][-1] == 1023
    accept = [c for _, c in out["accepted"]]
    assert accept[-1] - accept[-3] == 1 + t.settle_masks
    check_against_model(num_lrs, txns, out)


def test_reset_while_settling_and_during_an_eoi():
    pending = lr_value(vid=60, prio=0x10, state=1, hw=1, pintid=200)
    # reset right after an LR write (settling), then after an EOIR (its match running)
    txns = (_enable() + [W(LR(0), pending), Txn("reset"), R(LR(0)), R(regs.GICV_IAR)]
            + _enable() + [W(LR(1), pending), R(regs.GICV_IAR), W(regs.GICV_EOIR, 60),
                           Txn("reset"), R(LR(1)), R(regs.GICV_HPPIR), R(regs.GICH_HCR)])
    out = run_back_to_back(4, txns)
    check_against_model(4, txns, out)
    assert out["answers"][len(_enable()) + 2] == 0               # LR0 after the reset
    assert out["forwarded"] == []                                # the EOI's deactivation wiped
