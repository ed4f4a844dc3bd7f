# Ref: rtl/regbus.py (bus contract), rtl/top.py (timing table), arch 1.4 (access rules),
#      R3, R4, R5, R6a, R8, R10, R16
"""The RTL top: Verilog conversion, parameter errors, register-bus timing
(cycle by cycle, ready hold-off), the deactivation port, and directed spec checks run on the
RTL (RTLEngine) and the golden model side by side. Expected values come from
docs/architecture.md; the model must agree at every step."""
import json
import pathlib
import random
import warnings

import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from vgic.rtl import regs
from vgic.rtl.timing import Timing
from vgic.rtl.top import VirtualInterface
from vgic.sim.driver import RTLEngine, bus_read, bus_wait_lines, bus_write
from vgic.sim.model import VirtualInterface as Model
from vgic.sim.stimulus import lr_value

CONFORMANCE = pathlib.Path(__file__).resolve().parent / "data" / "qemu-7.2"

HCR, LR0, LR1 = regs.GICH_HCR.addr, regs.lr(0).addr, regs.lr(1).addr
CTLR, PMR, IAR, EOIR = regs.GICV_CTLR.addr, regs.GICV_PMR.addr, regs.GICV_IAR.addr, regs.GICV_EOIR.addr


# -- conversion and parameters -------------------------------------------------

@pytest.mark.parametrize("num_lrs", [1, 4, 16, 64])
def test_converts_to_verilog_without_warnings(num_lrs):
    """Issue 4: the core converts with amaranth.back.verilog, no warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = verilog.convert(VirtualInterface(num_lrs), name="vgic_core")
    assert not [str(w.message) for w in caught]
    assert "module vgic_core" in text
    for port in ("bus__r_stb", "bus__ack", "bus__ready", "virq", "vfiq", "maint_irq",
                 "deact_valid", "deact_pintid"):
        assert port in text


@pytest.mark.parametrize("bad", [0, 65, -1, 4.0, "4", None, True])
def test_bad_num_lrs_is_a_clear_error(bad):
    """GICH_VTR.ListRegs + 1 is 1..64 (arch 2.2)."""
    with pytest.raises(ValueError, match="num_lrs must be an integer from 1 to 64"):
        VirtualInterface(bad)
    with pytest.raises(ValueError, match="num_lrs"):
        RTLEngine(bad)


@pytest.mark.parametrize("bad", [-1, 2**32, "0x43B", None])
def test_bad_iidr_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="iidr must be a 32-bit value"):
        VirtualInterface(4, iidr=bad)


def test_iidr_parameter_reads_back():
    """arch 2.17: GICV_IIDR is a build parameter (GIC-400 value as an example)."""
    e = RTLEngine(1, iidr=0x0202143B)
    assert e.read("GICV", regs.GICV_IIDR.offset) == 0x0202143B


def test_engine_rejects_bad_access_arguments():
    e = RTLEngine(1)
    with pytest.raises(ValueError, match="frame"):
        e.read("GICX", 0)
    with pytest.raises(ValueError, match="outside"):
        e.read("GICH", 0x1000)
    with pytest.raises(ValueError, match="32-bit"):
        e.write("GICH", 0, 2**32)


# -- register-bus timing (rtl/regbus.py) ------------------------------------------

def run_bench(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def idle(ctx, bus):
    ctx.set(bus.r_stb, 0)
    ctx.set(bus.w_stb, 0)


def request(ctx, bus, op, addr, value=0, strb=0b1111):
    """Drive one request for the current cycle (no wait)."""
    ctx.set(bus.addr, addr >> 2)
    ctx.set(bus.r_stb, op == "r")
    ctx.set(bus.w_stb, op == "w")
    ctx.set(bus.w_data, value)
    ctx.set(bus.w_strb, strb)


async def cycles_until_ready(ctx, bus, limit=40):
    """Ticks until ready is 1 (cycle t+1 counts as the first)."""
    n = 0
    while not ctx.get(bus.ready):
        assert n < limit, "ready stuck at 0"
        await ctx.tick()
        n += 1
    return n


async def setup_pending(ctx, bus, lrs):
    """HCR.En, LRs, CTLR both groups, PMR 0xF8; returns with the core ready."""
    await bus_write(ctx, bus, HCR, 1)
    for n, value in lrs:
        await bus_write(ctx, bus, regs.lr(n).addr, value)
    await bus_write(ctx, bus, CTLR, 3)
    await bus_write(ctx, bus, PMR, 0xF8)
    await bus_wait_lines(ctx, bus)


def test_read_latency_is_three_cycles_and_r_data_registered():
    """regbus: ready after the reset hold-off; ack exactly three cycles after
    the strobe (LATENCY), read data registered (not visible in the request
    cycle), ack for one cycle only; a plain read causes no hold-off."""
    dut = VirtualInterface(4)
    vtr = regs.vtr_value(4)

    async def bench(ctx):
        bus = dut.bus
        assert await cycles_until_ready(ctx, bus) == 1          # rtl/timing.py: after reset
        request(ctx, bus, "r", regs.GICH_VTR.addr)
        assert ctx.get(bus.ack) == 0 and ctx.get(bus.r_data) != vtr   # not combinational
        await ctx.tick()
        idle(ctx, bus)
        assert ctx.get(bus.ack) == 0 and ctx.get(bus.ready) == 1     # t+1: no ack yet
        await ctx.tick()
        assert ctx.get(bus.ack) == 0 and ctx.get(bus.ready) == 1     # t+2: nor here
        await ctx.tick()
        assert ctx.get(bus.ack) == 1 and ctx.get(bus.r_data) == vtr  # t+3
        assert ctx.get(bus.ready) == 1
        for _ in range(3):                       # no request, no ack
            await ctx.tick()
            assert ctx.get(bus.ack) == 0 and ctx.get(bus.ready) == 1

    run_bench(dut, bench)


@pytest.mark.parametrize("num_lrs", [1, 4, 16, 64])
def test_ready_and_settled_after_each_kind_of_request(num_lrs):
    """rtl/timing.py: for each kind of request, the cycles after it (t+1 ..)
    with ready = 0 and with settled = 0; ack only in t+3."""
    dut = VirtualInterface(num_lrs)
    t = Timing(num_lrs)
    m = t.match_latency

    async def transact(ctx, op, addr, value=0):
        """(cycles with ready = 0, cycles with settled = 0) after the request."""
        request(ctx, dut.bus, op, addr, value)
        await ctx.tick()
        idle(ctx, dut.bus)
        cycle, acks, not_ready, not_settled = 1, [], 0, 0
        while cycle <= 3 or not (ctx.get(dut.bus.ready) and ctx.get(dut.bus.settled)):
            acks.append(ctx.get(dut.bus.ack))
            not_ready += not ctx.get(dut.bus.ready)
            not_settled += not ctx.get(dut.bus.settled)
            assert cycle < 40, "ready or settled stuck at 0"
            await ctx.tick()
            cycle += 1
        assert acks[:3] == [0, 0, 1] and not any(acks[3:])
        return not_ready, not_settled

    async def bench(ctx):
        bus = dut.bus
        await bus_wait_lines(ctx, bus)
        assert await transact(ctx, "r", IAR) == (0, 1)               # 1023: nothing lands
        assert await transact(ctx, "r", regs.GICV_AIAR.addr) == (0, 1)
        assert await transact(ctx, "w", HCR, 1) == (0, t.settle)
        assert await transact(ctx, "w", regs.lr(num_lrs - 1).addr, lr_value(7, 1, 0x40)) == (0, t.settle)
        assert await transact(ctx, "w", CTLR, 1) == (0, t.settle_masks)
        assert await transact(ctx, "w", PMR, 0xF8) == (0, t.settle)
        assert await transact(ctx, "w", regs.GICH_VMCR.addr, 0xF84C_0003) == (0, t.settle_masks)
        assert await transact(ctx, "w", regs.GICH_APR.addr, 0) == (0, t.settle)
        assert await transact(ctx, "r", regs.GICV_HPPIR.addr) == (0, 0)
        assert await transact(ctx, "r", IAR) == (0, t.settle)        # acknowledges vID 7
        assert await transact(ctx, "w", EOIR, 7) == (m, t.settle + m)
        assert await transact(ctx, "w", regs.GICV_DIR.addr, 7) == (m, t.settle + m)
        assert await transact(ctx, "w", regs.GICH_VTR.addr, 0) == (0, t.settle)   # RO: a write all the same
        assert await transact(ctx, "r", regs.lr(num_lrs - 1).addr) == (0, 0)
        assert await transact(ctx, "r", regs.GICV_IAR.addr + 0x1000) == (0, 0)   # unmapped alias
        assert await transact(ctx, "r", regs.GICH_VTR.addr) == (0, 0)
        assert await transact(ctx, "r", regs.GICH_MISR.addr) == (0, 0)

    run_bench(dut, bench)


def test_strobes_while_not_ready_or_not_settled_are_ignored():
    """regbus: while ready = 0 the core takes no request, and while settled =
    0 no read of SETTLED_READS: no ack, no effect (an ignored IAR does not
    acknowledge)."""
    dut = VirtualInterface(4)

    async def bench(ctx):
        bus = dut.bus
        await setup_pending(ctx, bus, [(0, lr_value(40, 1, 0x80))])
        request(ctx, bus, "w", EOIR, 1023)
        await ctx.tick()
        assert ctx.get(bus.ready) == 0
        request(ctx, bus, "w", HCR, 0)                  # while ready = 0: ignored
        await ctx.tick()
        request(ctx, bus, "w", LR1, lr_value(41, 1, 0x80))   # ready again: taken
        await ctx.tick()
        assert ctx.get(bus.ready) == 1 and ctx.get(bus.settled) == 0
        request(ctx, bus, "r", IAR)                     # while settled = 0: ignored
        await ctx.tick()
        acks = []
        for _ in range(4):
            acks.append(ctx.get(bus.ack))
            idle(ctx, bus)
            await ctx.tick()
        assert acks == [1, 0, 1, 0] or acks == [0, 1, 0, 0], acks    # EOIR's, LR1 write's only
        assert await bus_read(ctx, bus, HCR) == 1
        assert await bus_read(ctx, bus, LR0) == lr_value(40, 1, 0x80)    # still pending
        assert await bus_read(ctx, bus, IAR) == 40

    run_bench(dut, bench)


def test_lines_change_only_when_settled():
    """rtl/timing.py / R6: virq does not move while the core settles, then
    shows the new state (PMR write: rises); an acknowledge clears it as it
    lands (at most 3 cycles after the IAR strobe)."""
    dut = VirtualInterface(4)

    async def watch(ctx, op, addr, value=0):
        request(ctx, dut.bus, op, addr, value)
        seen = []
        for _ in range(8):
            await ctx.tick()
            idle(ctx, dut.bus)
            seen.append((ctx.get(dut.virq), ctx.get(dut.bus.settled)))
        return seen

    async def bench(ctx):
        bus = dut.bus
        await bus_write(ctx, bus, HCR, 1)
        await bus_write(ctx, bus, LR0, lr_value(42, 0b01, 0xA0))
        await bus_write(ctx, bus, CTLR, 1)
        await bus_wait_lines(ctx, bus)
        assert ctx.get(dut.virq) == 0                        # PMR = 0 masks everything
        seen = await watch(ctx, "w", PMR, 0xF8)
        first_settled = [s for _, s in seen].index(1)
        assert [v for v, _ in seen] == [0] * (first_settled + 1) + [1] * (7 - first_settled)
        seen = await watch(ctx, "r", IAR)
        assert [v for v, _ in seen][1:] == [0] * 7 and seen[0][0] in (0, 1)   # falls by t+2

    run_bench(dut, bench)


def test_iar_acknowledges_once_per_strobe():
    """arch 1.4 rule 4 / regbus: an IAR read acknowledges once per r_stb; the
    address alone (no strobe) has no effect, and neither do HPPIR reads."""
    dut = VirtualInterface(4)

    async def bench(ctx):
        bus = dut.bus
        await setup_pending(ctx, bus, [(0, lr_value(42, 0b01, 0xA0))])
        assert ctx.get(dut.virq) == 1
        # the IAR address sits on the bus for several cycles without a strobe
        request(ctx, bus, "r", IAR)
        ctx.set(bus.r_stb, 0)
        for _ in range(3):
            await ctx.tick()
        assert ctx.get(dut.virq) == 1
        for _ in range(2):
            assert await bus_read(ctx, bus, regs.GICV_HPPIR.addr) == 42
        assert await bus_read(ctx, bus, IAR) == 42
        await bus_wait_lines(ctx, bus)
        assert ctx.get(dut.virq) == 0                     # R16: VIRQ falls
        ctx.set(bus.addr, IAR >> 2)                       # address stays, strobe gone
        for _ in range(3):
            await ctx.tick()
        assert await bus_read(ctx, bus, regs.GICH_APR.addr) == 1 << (0xA0 >> 3)
        assert await bus_read(ctx, bus, LR0) == 0x2A00002A   # R16: active
        assert await bus_read(ctx, bus, IAR) == 1023

    run_bench(dut, bench)


def test_back_to_back_reads_every_cycle():
    """regbus: while ready stays 1 a request may start in the cycle after the
    previous one. LR0 vID 5 at 0x10, LR1 vID 6 at 0x20 pending: reads one per
    clock, the last an IAR that acknowledges vID 5 (R5, R6a, R7)."""
    dut = VirtualInterface(4)
    seq = [regs.GICV_HPPIR.addr, LR0, LR1, regs.GICV_RPR.addr, regs.GICH_APR.addr,
           regs.GICV_IIDR.addr, IAR]
    expected = [5, lr_value(5, 1, 0x10), lr_value(6, 1, 0x20), 0xFF, 0, regs.IIDR_DEFAULT, 5]

    async def bench(ctx):
        bus = dut.bus
        await setup_pending(ctx, bus, [(0, lr_value(5, 1, 0x10)), (1, lr_value(6, 1, 0x20))])
        acks, got = [], []
        for addr in seq:
            assert ctx.get(bus.ready) == 1
            request(ctx, bus, "r", addr)
            await ctx.tick()
            acks.append(ctx.get(bus.ack))
            got.append(ctx.get(bus.r_data))
        idle(ctx, bus)
        for _ in range(2):
            await ctx.tick()
            acks.append(ctx.get(bus.ack))
            got.append(ctx.get(bus.r_data))
        # each answer three cycles after its request: three reads in flight
        assert acks == [0, 0] + [1] * len(seq) and got[2:] == expected
        await bus_wait_lines(ctx, bus)
        assert await bus_read(ctx, bus, LR0) == lr_value(5, 0b10, 0x10)
        assert await bus_read(ctx, bus, regs.GICV_RPR.addr) == 0x10

    run_bench(dut, bench)


def test_partial_writes_are_acknowledged_and_ignored():
    """arch 1.4 rule 1 / regbus: w_strb != 0b1111 is acked but changes nothing."""
    dut = VirtualInterface(4)

    async def bench(ctx):
        bus = dut.bus
        for strb in (0b0000, 0b0001, 0b0111, 0b1110, 0b1000):
            await bus_write(ctx, bus, HCR, 0xF80000FF, strb)
            await bus_write(ctx, bus, LR0, lr_value(3, 1, 0x10), strb)
        assert await bus_read(ctx, bus, HCR) == 0
        assert await bus_read(ctx, bus, LR0) == 0
        await bus_write(ctx, bus, HCR, 0xFFFF_FFFF)
        assert await bus_read(ctx, bus, HCR) == 0xF80000FF     # arch 2.1 write mask

    run_bench(dut, bench)


def test_unmapped_window_reads_zero():
    """regs.py map: 0x1000-0x1FFF is unmapped (RAZ/WI); GICH beyond 0x1FF reserved."""
    dut = VirtualInterface(4)

    async def bench(ctx):
        bus = dut.bus
        for addr in (0x1000, 0x1FFC, 0x0200, 0x0FFC, 0x2FFC, 0x3FFC):
            await bus_write(ctx, bus, addr, 0xFFFF_FFFF)
            assert await bus_read(ctx, bus, addr) == 0
        assert await bus_read(ctx, bus, HCR) == 0

    run_bench(dut, bench)


@pytest.mark.parametrize("num_lrs", [4, 16])
def test_deactivation_request_is_a_one_cycle_pulse(num_lrs):
    """R10 / rtl/timing.py: EOIR of an HW = 1 LR deactivates pINTID in the
    Distributor: one deact_valid pulse with deact_pintid, in cycle t+2+M
    (M = match_latency), ready again from t+1+M; the LR is then inactive."""
    dut = VirtualInterface(num_lrs)
    m = Timing(num_lrs).match_latency

    async def bench(ctx):
        bus = dut.bus
        await setup_pending(ctx, bus, [(0, lr_value(40, 1, 0x80, hw=1, pintid=77))])
        assert await bus_read(ctx, bus, IAR) == 40
        await bus_wait_lines(ctx, bus)
        request(ctx, bus, "w", EOIR, 40)
        pulses = []
        for cycle in range(1, 8):
            await ctx.tick()
            idle(ctx, bus)
            pulses.append((cycle, ctx.get(dut.deact_valid), ctx.get(dut.deact_pintid),
                           ctx.get(bus.ready)))
        assert [(c, pintid) for c, valid, pintid, _ in pulses if valid] == [(2 + m, 77)]
        assert [c for c, _, _, ready in pulses if not ready] == list(range(1, 1 + m))
        assert await bus_read(ctx, bus, LR0) == lr_value(40, 0, 0x80, hw=1, pintid=77)

    run_bench(dut, bench)


# -- RTLEngine next to the golden model ---------------------------------------------

_engines = {}


def engine(num_lrs):
    if num_lrs not in _engines:
        _engines[num_lrs] = RTLEngine(num_lrs)
    e = _engines[num_lrs]
    e.reset()
    return e


class Pair:
    """The RTL and the model, driven with the same transactions; every
    read value, line level and forwarded list must agree."""

    def __init__(self, num_lrs):
        self.rtl, self.model = engine(num_lrs), Model(num_lrs)

    def _check(self, what):
        a = (self.rtl.virq, self.rtl.vfiq, self.rtl.maint, self.rtl.forwarded)
        b = (self.model.virq, self.model.vfiq, self.model.maint, self.model.forwarded)
        assert a == b, f"after {what}: rtl (virq, vfiq, maint, fwd) {a} != model {b}"

    def rd(self, name):
        r = regs.lookup(name)
        a, b = self.rtl.read(r.frame, r.offset), self.model.read(r.frame, r.offset)
        assert a == b, f"read {name}: rtl {a:#x} != model {b:#x}"
        self._check(f"read {name}")
        return a

    def wr(self, name, value):
        r = regs.lookup(name)
        self.rtl.write(r.frame, r.offset, value)
        self.model.write(r.frame, r.offset, value)
        self._check(f"write {name}")

    @property
    def lines(self):
        return (self.rtl.virq, self.rtl.vfiq, self.rtl.maint)


@pytest.mark.parametrize("num_lrs", [1, 4, 64])
def test_r16_worked_trace(num_lrs):
    """R16: LR0 = 0x1A00002A, IAR 42, EOIR 42, then the EOI-maintenance variant."""
    p = Pair(num_lrs)
    empty = (1 << min(num_lrs, 32)) - 1
    p.wr("GICH_HCR", 1)
    p.wr("GICH_LR0", 0x1A00002A)
    p.wr("GICV_CTLR", 1)
    p.wr("GICV_PMR", 0xF8)
    assert p.lines == (1, 0, 0)
    assert p.rd("GICV_HPPIR") == 42
    assert p.rd("GICV_IAR") == 42 and p.lines == (0, 0, 0)
    assert p.rd("GICH_LR0") == 0x2A00002A
    assert p.rd("GICH_APR") == 0x00100000 and p.rd("GICV_RPR") == 0xA0
    assert p.rd("GICH_ELRSR0") == empty & ~1
    p.wr("GICV_EOIR", 42)
    assert p.rd("GICH_LR0") == 0x0A00002A and p.rd("GICH_ELRSR0") == empty
    assert p.rd("GICH_APR") == 0 and p.rd("GICV_RPR") == 0xFF
    p.wr("GICH_LR0", 0x1A08002A)
    assert p.rd("GICV_IAR") == 42
    p.wr("GICV_EOIR", 42)
    assert p.rd("GICH_ELRSR0") == empty & ~1 and p.rd("GICH_EISR0") == 1
    assert p.rd("GICH_MISR") == 1 and p.lines == (0, 0, 1)
    p.wr("GICH_LR0", 0)
    assert p.lines == (0, 0, 0)


def test_r3_group1_preempts_with_its_own_binary_point():
    """R3 example: CBPR = 0, BPR = 2, ABPR = 5, Group 0 at 0x88 active (RP 0x88):
    a pending Group 1 LR at 0x90 has group priority 0x80 and preempts."""
    p = Pair(4)
    p.wr("GICH_HCR", 1)
    p.wr("GICV_CTLR", 0x7)                    # both groups, AckCtl
    p.wr("GICV_PMR", 0xF8)
    p.wr("GICV_ABPR", 5)
    p.wr("GICH_LR0", lr_value(10, 1, 0x88))
    assert p.rd("GICV_IAR") == 10 and p.rd("GICV_RPR") == 0x88
    p.wr("GICH_LR1", lr_value(11, 1, 0x90, grp1=1))
    assert p.lines == (1, 0, 0)
    assert p.rd("GICV_IAR") == 11
    assert p.rd("GICH_APR") == 1 << (0x88 >> 3) | 1 << (0x80 >> 3)


def test_r4_apr_bits_follow_the_group_priority():
    """R4 example: BPR = 4, acknowledge at 0x88 sets bit 16 (RPR 0x80); a pending
    0x80 does not preempt, 0x60 does and sets bit 12: APR = 0x00011000."""
    p = Pair(4)
    p.wr("GICH_HCR", 1)
    p.wr("GICV_CTLR", 1)
    p.wr("GICV_PMR", 0xF8)
    p.wr("GICV_BPR", 4)
    p.wr("GICH_LR0", lr_value(1, 1, 0x88))
    assert p.rd("GICV_IAR") == 1 and p.rd("GICV_RPR") == 0x80
    p.wr("GICH_LR1", lr_value(2, 1, 0x80))
    assert p.lines == (0, 0, 0) and p.rd("GICV_IAR") == 1023
    p.wr("GICH_LR2", lr_value(3, 1, 0x60))
    assert p.lines == (1, 0, 0) and p.rd("GICV_IAR") == 3
    assert p.rd("GICH_APR") == 0x00011000


@pytest.mark.parametrize("num_lrs", [3, 5, 64])
def test_r5_selection_across_the_tree(num_lrs):
    """R5: the lowest priority value wins, ties to the lowest LR index, LRs of a
    disabled group, at or above PMR or in state 11 are not candidates; checked
    with the winner at every position of the tree."""
    p = Pair(num_lrs)
    p.wr("GICH_HCR", 1)
    p.wr("GICV_CTLR", 0x5)                    # Group 0 only, AckCtl
    p.wr("GICV_PMR", 0xF0)
    rng = random.Random(num_lrs)
    winners = range(num_lrs) if num_lrs < 8 else sorted({0, 1, 2, 15, 16, 31, 32, 33, 47, 62, 63}
                                                        | set(rng.sample(range(64), 4)))
    for winner in winners:
        for n in range(num_lrs):
            if n == winner:
                v = lr_value(100 + n, 1, 0x40)
            elif n < winner:                  # equal or better, but excluded
                v = rng.choice([lr_value(100 + n, 1, 0x40, grp1=1), lr_value(100 + n, 0b11, 0x10),
                                lr_value(100 + n, 1, 0xF0), lr_value(100 + n, 0b10, 0x00),
                                lr_value(100 + n, 1, 0x48)])
            else:                             # later index: equal priority loses the tie
                v = lr_value(100 + n, 1, rng.choice([0x40, 0x48, 0xE8]))
            p.wr(f"GICH_LR{n}", v)
        assert p.rd("GICV_HPPIR") == 100 + winner
        assert p.lines == (1, 0, 0)
    assert p.rd("GICV_IAR") == 100 + winners[-1]


@pytest.mark.parametrize("num_lrs", [4, 64])
def test_vsgi_eoi_matches_cpuid_and_hw_forwards(num_lrs):
    """R8 (vid < 16 also needs CPUID == source), R10 (HW = 1 forwards pINTID,
    only PPIs/SPIs 16..1019), R11 (no match after a drop: EOICount + 1)."""
    p = Pair(num_lrs)
    last = num_lrs - 1
    p.wr("GICH_HCR", 1)
    p.wr("GICV_CTLR", 1)
    p.wr("GICV_PMR", 0xF8)
    p.wr(f"GICH_LR{last}", lr_value(3, 0b10, 0x20, cpuid=5))      # active vSGI 3 from CPU 5
    p.wr("GICH_APR", 0b111)
    p.wr("GICV_EOIR", 3 | 4 << 10)                                  # wrong source CPU
    assert p.rd(f"GICH_LR{last}") >> 28 & 3 == 0b10
    assert p.rd("GICH_HCR") >> 27 == 1
    p.wr("GICV_EOIR", 3 | 5 << 10)
    assert p.rd(f"GICH_LR{last}") >> 28 & 3 == 0
    for pintid, forwarded in ((15, False), (16, True), (1019, True), (1020, False)):
        p.wr(f"GICH_LR{last}", lr_value(500, 0b11, 0x20, hw=1, pintid=pintid))
        before = list(p.rtl.forwarded)
        p.wr("GICV_EOIR", 500)
        assert p.rd(f"GICH_LR{last}") >> 28 & 3 == 0b01                # 11 -> 01
        assert p.rtl.forwarded == before + ([pintid] if forwarded else [])


@pytest.mark.parametrize("num_lrs", [1, 4, 64])
@pytest.mark.parametrize("scenario", "abcdef")
def test_conformance_scenarios_rtl_equals_model(num_lrs, scenario):
    """Scenarios a-f (QEMU traces) replayed on both: identical results at every step."""
    path = CONFORMANCE / f"scenario_{scenario}.jsonl"
    p = Pair(num_lrs)
    for line in path.read_text().splitlines():
        t = json.loads(line)
        r = regs.lookup(t.get("reg", ""))
        if t.get("op") not in ("read", "write") or r is None:
            continue
        if t["op"] == "read":
            p.rd(r.full_name)
        else:
            p.wr(r.full_name, int(t["value"], 0) if isinstance(t["value"], str) else t["value"])


@pytest.mark.parametrize("num_lrs", [1, 4, 64])
def test_reset_restores_r15_values(num_lrs):
    """R15 after a reset pulse, whatever came before."""
    p = Pair(num_lrs)
    p.wr("GICH_HCR", 0xF80000FF)
    p.wr("GICH_VMCR", 0xFFFFFFFF)
    p.wr("GICH_APR", 0x12345678)
    p.wr("GICH_LR0", 0xFFFFFFFF)
    p.rtl.reset()
    p.model.reset()
    expect = {"GICH_HCR": 0, "GICH_VMCR": 0x004C0000, "GICH_APR": 0, "GICH_LR0": 0,
              "GICH_MISR": 0, "GICH_EISR0": 0, "GICV_RPR": 0xFF, "GICV_IAR": 1023,
              "GICV_HPPIR": 1023, "GICV_AIAR": 1023, "GICV_AHPPIR": 1023,
              "GICH_ELRSR0": (1 << min(num_lrs, 32)) - 1,
              "GICH_ELRSR1": (1 << max(num_lrs - 32, 0)) - 1}
    for name, value in expect.items():
        assert p.rd(name) == value, name
    assert p.lines == (0, 0, 0)


@pytest.mark.parametrize("num_lrs", [1, 4, 64])
def test_short_random_sequence_rtl_equals_model(num_lrs):
    """A seeded random walk over every register (the fuzz target does the long
    runs): RTL and model agree after every transaction."""
    rng = random.Random(1000 + num_lrs)
    p = Pair(num_lrs)
    names = [r.full_name for r in regs.REGS if not r.name.startswith("LR")]
    lrs = [f"GICH_LR{n}" for n in range(min(num_lrs + 1, 64))]
    vids = [rng.randrange(16) for _ in range(3)] + [rng.randrange(16, 1020) for _ in range(3)]
    p.wr("GICH_HCR", 1)
    p.wr("GICV_CTLR", 3)
    p.wr("GICV_PMR", 0xF8)
    for _ in range(400):
        k = rng.random()
        if k < 0.3:
            p.wr(rng.choice(lrs), lr_value(rng.choice(vids), rng.choice([1, 1, 2, 3, 0]),
                                           rng.randrange(32) << 3, rng.getrandbits(1),
                                           hw := rng.getrandbits(1), 0 if hw else rng.getrandbits(1),
                                           0 if hw else rng.randrange(8),
                                           rng.choice([15, 16, 600, 1019, 1020]) if hw else 0))
        elif k < 0.5:
            p.rd(rng.choice(["GICV_IAR", "GICV_IAR", "GICV_AIAR"]))
        elif k < 0.65:
            p.wr(rng.choice(["GICV_EOIR", "GICV_AEOIR", "GICV_DIR"]),
                 rng.choice(vids) | rng.randrange(8) << 10)
        elif k < 0.75:
            name = rng.choice(names)
            value = rng.getrandbits(32)
            if name in ("GICH_APR", "GICV_APR0"):
                value = rng.choice([0, 1 << rng.randrange(32)])
            p.wr(name, value)
        else:
            p.rd(rng.choice(names + lrs))
