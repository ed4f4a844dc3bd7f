# Ref: AMBA AXI4-Lite (IHI0022 B1), AMBA APB4 (IHI0024C), Wishbone B4;
#      rtl/regbus.py (core bus contract); rtl/bridges/access.py (error policy);
#      arch 1.4 (word accesses, reserved offsets RAZ/WI).
"""Bus bridges against a fake register target.

The fake target is a memory of 4096 words plus one side-effect register at
GICV_IAR's word (a read returns how many times it was read before), so that a
repeated or lost read shows; its `ready` and `settled` (rtl/regbus.py) fall as
each test asks. Each run records every strobe the bridge puts on
the core bus; the checks:

- the forwarded writes are exactly the accepted writes the policy forwards, in
  bus order, with their data; likewise the reads (so a side-effect read reaches
  the core exactly once);
- every read returns what the target held at its strobe (replaying the strobe
  log on a Python twin of the target), or 0 when the bridge answered it itself;
- every response code is the policy's (from the spec table in rtl/regs.py,
  computed here independently of the bridge's decoder);
- protocol rules (stable VALID/payload under back-pressure, no response before
  its request), and a cycle limit, so a hang fails.

The reset tests at the end run the bridges with the real core (rtl/top.py),
reset with it or alone, against the golden model.
"""
import gc
import random
import types
import warnings

import pytest
from amaranth import ClockDomain, Module, Mux, ResetInserter, Signal
from amaranth.hdl import UnusedElaboratable
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from vgic.rtl import regs
from vgic.rtl.regbus import ADDR_WIDTH, LATENCY, SETTLED_READS, RegBusSignature, cpu_bits
from vgic.rtl.bridges.axi4lite import AXI4LiteBridge
from vgic.rtl.bridges.apb import APBBridge
from vgic.rtl.bridges.wishbone import WishboneBridge
from vgic.rtl.bridges.uart import (CMD_READ, CMD_WRITE, EV_LINES, START_EVENT, START_RESP,
                                   UARTBridge)
from vgic.rtl.soc import BusVirtualInterface
from vgic.rtl.top import VirtualInterface
from vgic.sim.board import Event, Response, decode_event, decode_response, encode_request
from vgic.sim.model import VirtualInterface as ModelVirtualInterface

SIDE = regs.GICV_IAR          # the fake target's side-effect read
OKAY, SLVERR = 0, 2


def needs_settled(word, num_cpus=1):
    """A read of `word` waits for settled (rtl/regbus.py SETTLED_READS), with
    several CPUs also GICH_MISR in every processor-specific view: an int ->
    bool, or an Amaranth value -> an expression. Written here from the
    register table, apart from the bridges' own decode (access.py)."""
    words = [r.word for r in SETTLED_READS]
    if num_cpus > 1:
        words += [regs.alias_addr(c, r.offset) >> 2 for c in range(num_cpus)
                  for r in SETTLED_READS if r.frame == "GICH"]
    return word in words if isinstance(word, int) else word.matches(*words)


class FakeTarget(wiring.Component):
    """Register-bus target: full-word writes store, partial writes are ignored
    (like the core), reads of SIDE count, ack LATENCY cycles after a strobe
    (rtl/regbus.py LATENCY).
    ready is low for `hold` cycles after each accepted strobe and while the
    testbench drives `busy`; settled is low for `unsettle` cycles after each
    accepted write or read of SETTLED_READS and while the testbench drives
    `unsettled`, whatever ready is. Strobes the contract forbids (while ready =
    0; a read of SETTLED_READS while settled = 0) are not taken (the Recorder
    flags them). `lines`: the low 3 bits of the last full write's data, loaded
    in cycles with settled = 1 (so that in cycle c + 1 they reflect every write
    accepted before c, as the core's lines).
    num_cpus > 1: the bus carries `cpu`; busy and unsettled have a bit per
    CPU, and ready and settled are those of the presented cpu (combinational,
    as rtl/cluster.py's), so a strobe made before its cpu is presented shows."""

    def __init__(self, hold=0, unsettle=0, num_cpus=1):
        self.hold, self.unsettle, self.num_cpus = hold, unsettle, num_cpus
        super().__init__({"bus": In(RegBusSignature(cpu_bits(num_cpus))), "busy": In(num_cpus),
                          "unsettled": In(num_cpus), "lines": Out(3)})

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        wait = Signal(range(self.hold + 1))
        unwait = Signal(range(self.unsettle + 1))
        derived = bus.r_stb & needs_settled(bus.addr, self.num_cpus)
        take = Signal()
        busy, unsettled = self.busy, self.unsettled
        if self.num_cpus > 1:
            busy, unsettled = busy.bit_select(bus.cpu, 1), unsettled.bit_select(bus.cpu, 1)
        m.d.comb += [bus.ready.eq((wait == 0) & ~busy),
                     bus.settled.eq((unwait == 0) & ~unsettled),
                     take.eq(bus.ready & (bus.settled | ~derived))]
        with m.If((bus.r_stb | bus.w_stb) & take):
            m.d.sync += wait.eq(self.hold)
        with m.Elif(wait != 0):
            m.d.sync += wait.eq(wait - 1)
        with m.If((bus.w_stb | derived) & take):
            m.d.sync += unwait.eq(self.unsettle)
        with m.Elif(unwait != 0):
            m.d.sync += unwait.eq(unwait - 1)
        last_write = Signal(3)
        with m.If(take & bus.w_stb & (bus.w_strb == 0b1111)):
            m.d.sync += last_write.eq(bus.w_data[:3])
        with m.If(bus.settled):
            m.d.sync += self.lines.eq(last_write)
        m.submodules.mem = mem = Memory(shape=32, depth=2 ** ADDR_WIDTH, init=[])
        wp, rp = mem.write_port(), mem.read_port()
        count, side_val, side_q = Signal(32), Signal(32), Signal()
        m.d.comb += [
            wp.addr.eq(bus.addr), wp.data.eq(bus.w_data),
            wp.en.eq(take & bus.w_stb & (bus.w_strb == 0b1111)),
            rp.addr.eq(bus.addr), rp.en.eq(take & bus.r_stb),
        ]
        # the regbus LATENCY: the read port's data (t+1) registered LATENCY - 1 more
        # times, the strobe (t) LATENCY times
        acked = Signal(name="acked")
        m.d.sync += acked.eq(take & (bus.r_stb | bus.w_stb))
        data = Mux(side_q, side_val, rp.data)
        for k in range(LATENCY - 1):
            acked_k, data_k = Signal(name=f"acked_{k}"), Signal(32, name=f"data_{k}")
            m.d.sync += [acked_k.eq(acked), data_k.eq(data)]
            acked, data = acked_k, data_k
        m.d.comb += [bus.ack.eq(acked), bus.r_data.eq(data)]
        m.d.sync += side_q.eq(0)
        with m.If(take & bus.r_stb & (bus.addr == SIDE.word)):
            m.d.sync += [side_q.eq(1), side_val.eq(count), count.eq(count + 1)]
        return m


class FakeRef:
    """Python twin of FakeTarget."""

    def __init__(self):
        self.mem, self.count = {}, 0

    def read(self, word):
        if word == SIDE.word:
            self.count += 1
            return self.count - 1
        return self.mem.get(word, 0)

    def write(self, word, data, strb):
        if strb == 0b1111:
            self.mem[word] = data


def spec_outcome(addr, write, strb, num_lrs, errors, num_cpus=1, cpu=0):
    """(forwarded, error) for one access: arch 1.4 and the policy in
    rtl/bridges/access.py, decoded here from the register table by name.
    Several CPUs: by requester `cpu`; the processor-specific views of CPUs
    below num_cpus hold GICH (rtl/cluster.py), a requester >= num_cpus has
    no frames of its own."""
    addr &= (1 << regs.CORE_ADDR_BITS) - 1
    word_ok = addr % 4 == 0 and (not write or strb == 0b1111)
    frame, offset = regs.frame_of(addr)
    view = regs.alias_of(addr) if num_cpus > 1 else None
    if view is not None:
        frame, offset = ("GICH", view[1]) if view[0] < num_cpus else (None, addr)
    elif cpu >= num_cpus:
        frame = None
    reg = regs.decode(frame, offset) if frame else None
    mapped = reg is not None and reg.access != "RES" and not (
        reg.frame == "GICH" and reg.name.startswith("LR") and int(reg.name[2:]) >= num_lrs)
    if errors == "ignore":
        return word_ok, False
    return word_ok and mapped, not (word_ok and mapped)


def build(bridge_cls, hold=0, unsettle=0, **kw):
    m = Module()
    m.submodules.bridge = bridge = bridge_cls(**kw)
    m.submodules.target = target = FakeTarget(hold, unsettle, kw.get("num_cpus", 1))
    wiring.connect(m, bridge.reg, target.bus)
    bridge.target = target
    return m, bridge


def run_sim(m, bench, target=None, p_busy=0.0, p_unsettled=0.0, seed=0):
    """The fake target's busy and unsettled inputs driven high at random
    (p_busy, p_unsettled)."""
    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    if target is not None and (p_busy or p_unsettled):
        async def hold_off(ctx):
            rng = random.Random(seed + 99)
            bits = range(len(target.busy))          # several CPUs: one bit each
            while True:
                ctx.set(target.busy, sum((rng.random() < p_busy) << n for n in bits))
                ctx.set(target.unsettled, sum((rng.random() < p_unsettled) << n for n in bits))
                await ctx.tick()
        sim.add_testbench(hold_off, background=True)
    sim.run()


class Recorder:
    """Per-cycle sampling of the core bus: the strobe log, and `settled` per
    cycle."""

    def __init__(self, reg, num_cpus=1):
        self.reg, self.log, self.cycles = reg, [], 0
        self.num_cpus = num_cpus
        self.times = []                      # the cycle (0-based) of each strobe in log
        self.settled = []                    # settled in each cycle
        self.cpus = []                       # several CPUs: reg.cpu of each strobe in log

    async def tick(self, ctx, *sigs):
        reg = self.reg
        cpu = (reg.cpu,) if self.num_cpus > 1 else ()
        _, _, r_stb, w_stb, addr, data, strb, ready, settled, *vals = await ctx.tick().sample(
            reg.r_stb, reg.w_stb, reg.addr, reg.w_data, reg.w_strb, reg.ready, reg.settled,
            *cpu, *sigs)
        if cpu:
            cpu, *vals = vals
        assert not (r_stb and w_stb), "r_stb and w_stb in the same cycle (regbus contract)"
        assert ready or not (r_stb or w_stb), "a strobe while ready = 0 (regbus contract)"
        assert settled or not (r_stb and needs_settled(addr, self.num_cpus)), \
            f"a read of word {addr:#x} while settled = 0 (regbus contract)"
        self.settled.append(settled)
        if w_stb:
            self.log.append(("w", addr, data, strb))
        if r_stb:
            self.log.append(("r", addr, None, None))
        if r_stb or w_stb:
            self.times.append(self.cycles)
            if self.num_cpus > 1:
                self.cpus.append(cpu)
        self.cycles += 1
        return vals


def check_results(writes, reads, log, wresps, rresps, num_lrs, errors, num_cpus=1,
                  wcpus=None, rcpus=None, log_cpus=None):
    """writes: [(addr, data, strb)], reads: [addr], each in bus order;
    wresps: [err], rresps: [(data, err)] in the same orders. Several CPUs:
    wcpus/rcpus the requesters of writes/reads, log_cpus the core bus's cpu
    of each strobe in log (Recorder.cpus): each request reaches the core with
    its own requester's number."""
    assert len(wresps) == len(writes) and len(rresps) == len(reads)
    wcpus = wcpus or [0] * len(writes)
    rcpus = rcpus or [0] * len(reads)

    def outcome(a, write, strb, cpu):
        return spec_outcome(a, write, strb, num_lrs, errors, num_cpus, cpu)
    exp_w = [(a >> 2 & 0xFFF, d, s) for (a, d, s), c in zip(writes, wcpus)
             if outcome(a, True, s, c)[0]]
    assert [(a, d, s) for k, a, d, s in log if k == "w"] == exp_w
    exp_r = [a >> 2 & 0xFFF for a, c in zip(reads, rcpus) if outcome(a, False, 0, c)[0]]
    assert [a for k, a, _, _ in log if k == "r"] == exp_r
    if num_cpus > 1:
        assert len(log_cpus) == len(log)
        assert [c for (k, *_), c in zip(log, log_cpus) if k == "w"] == \
            [c for (a, d, s), c in zip(writes, wcpus) if outcome(a, True, s, c)[0]]
        assert [c for (k, *_), c in zip(log, log_cpus) if k == "r"] == \
            [c for a, c in zip(reads, rcpus) if outcome(a, False, 0, c)[0]]
    ref, values = FakeRef(), []
    for k, a, d, s in log:
        if k == "w":
            ref.write(a, d, s)
        else:
            values.append(ref.read(a))
    values = iter(values)
    for (a, d, s), c, err in zip(writes, wcpus, wresps):
        assert err == outcome(a, True, s, c)[1], f"write {a:#x} strb {s:#x} by CPU {c}"
    for a, c, (data, err) in zip(reads, rcpus, rresps):
        fwd, exp_err = outcome(a, False, 0, c)
        assert err == exp_err, f"read {a:#x} by CPU {c}"
        assert data == (next(values) if fwd else 0), f"read {a:#x}"


# -- AXI4-Lite manager ---------------------------------------------------------

async def axi_manager(ctx, axi, rec, writes, reads, rng, p_valid=1.0, p_ready=1.0,
                      max_cycles=20000, aw_user=None, ar_user=None):
    """Drive writes on AW/W and reads on AR independently, with VALID raised
    with probability p_valid per idle cycle and BREADY/RREADY with p_ready;
    aw_user/ar_user: AWUSER/ARUSER of each write/read (several CPUs).
    Returns ([bresp], [(rdata, rresp)])."""
    aw_i = w_i = ar_i = 0
    aw_on = w_on = ar_on = False
    bresps, rresps = [], []
    prev_b = prev_r = None
    for _ in range(max_cycles):
        if not aw_on and aw_i < len(writes) and rng.random() < p_valid:
            aw_on = True
            ctx.set(axi.awaddr, writes[aw_i][0])
            ctx.set(axi.awprot, rng.randrange(8))
            if aw_user is not None:
                ctx.set(axi.awuser, aw_user[aw_i])
        if not w_on and w_i < len(writes) and rng.random() < p_valid:
            w_on = True
            ctx.set(axi.wdata, writes[w_i][1])
            ctx.set(axi.wstrb, writes[w_i][2])
        if not ar_on and ar_i < len(reads) and rng.random() < p_valid:
            ar_on = True
            ctx.set(axi.araddr, reads[ar_i])
            if ar_user is not None:
                ctx.set(axi.aruser, ar_user[ar_i])
        ctx.set(axi.awvalid, aw_on)
        ctx.set(axi.wvalid, w_on)
        ctx.set(axi.arvalid, ar_on)
        bready, rready = rng.random() < p_ready, rng.random() < p_ready
        ctx.set(axi.bready, bready)
        ctx.set(axi.rready, rready)
        awready, wready, arready, bvalid, bresp, rvalid, rdata, rresp = await rec.tick(
            ctx, axi.awready, axi.wready, axi.arready, axi.bvalid, axi.bresp,
            axi.rvalid, axi.rdata, axi.rresp)
        # AXI: a VALID stays high, with its payload, until its handshake
        if prev_b is not None:
            assert bvalid and bresp == prev_b, "B changed before its handshake"
        if prev_r is not None:
            assert rvalid and (rdata, rresp) == prev_r, "R changed before its handshake"
        prev_b = bresp if bvalid and not bready else None
        prev_r = (rdata, rresp) if rvalid and not rready else None
        # a response only after its request's handshakes
        if bvalid:
            assert len(bresps) < min(aw_i, w_i), "BVALID before AW and W handshakes"
        if rvalid:
            assert len(rresps) < ar_i, "RVALID before the AR handshake"
        if aw_on and awready:
            aw_on, aw_i = False, aw_i + 1
        if w_on and wready:
            w_on, w_i = False, w_i + 1
        if ar_on and arready:
            ar_on, ar_i = False, ar_i + 1
        if bvalid and bready:
            bresps.append(bresp)
        if rvalid and rready:
            rresps.append((rdata, rresp))
        if len(bresps) == len(writes) and len(rresps) == len(reads):
            for sig in (axi.awvalid, axi.wvalid, axi.arvalid):
                ctx.set(sig, 0)
            return bresps, rresps
    raise AssertionError(f"hang: {len(bresps)}/{len(writes)} B and {len(rresps)}/{len(reads)} "
                         f"R responses after {max_cycles} cycles")


def run_axi(writes, reads, num_lrs=4, errors="ignore", seed=0, hold=0, p_busy=0.0,
            unsettle=0, p_unsettled=0.0, **kw):
    m, bridge = build(AXI4LiteBridge, hold, unsettle, num_lrs=num_lrs, errors=errors)
    rec = Recorder(bridge.reg)
    out = {}

    async def bench(ctx):
        out["b"], out["r"] = await axi_manager(ctx, bridge.axi, rec, writes, reads,
                                               random.Random(seed), **kw)
    run_sim(m, bench, bridge.target, p_busy, p_unsettled, seed)
    wresps = [b == SLVERR for b in out["b"]]
    assert all(b in (OKAY, SLVERR) for b in out["b"])
    assert all(r in (OKAY, SLVERR) for _, r in out["r"])
    rresps = [(d, r == SLVERR) for d, r in out["r"]]
    check_results(writes, reads, rec.log, wresps, rresps, num_lrs, errors)
    return rec


LR0, LR1, HCR = regs.lr(0).addr, regs.lr(1).addr, regs.GICH_HCR.addr


def random_ops(rng, n, num_lrs=4):
    """Addresses that hit real registers, the side-effect word, unmapped and
    unaligned offsets; full and partial byte enables."""
    pool = [r.addr for r in regs.GICH + regs.GICV] + [SIDE.addr] * 8 + \
           [0x1000, 0x1FFC, 0x0200, regs.RESERVED_NAMES[0].addr, regs.lr(num_lrs).addr]
    def addr():
        a = rng.choice(pool)
        return a + rng.randrange(1, 4) if rng.random() < 0.08 else a
    writes = [(addr(), rng.getrandbits(32), 0xF if rng.random() < 0.85 else rng.randrange(15))
              for _ in range(n)]
    reads = [addr() for _ in range(n)]
    return writes, reads


def test_axi_back_to_back_timing():
    """AXI4-Lite with VALID and READY always high (rtl/bridges/axi4lite.py,
    "Timing"): a request reaches the core in the cycle after its handshake; a
    write is answered in the next cycle (one per 2 cycles), a read LATENCY (3)
    cycles after its issue, with the core's ack (one per 4 cycles); mixed, a
    write goes in the cycle after each read, and another while the read is in
    flight (when both can go, the one not served last goes first)."""
    assert LATENCY == 3
    writes = [(regs.lr(n).addr, 0x1000 + n, 0xF) for n in range(4)]
    reads = [regs.lr(n).addr for n in range(4)]
    rec = run_axi(writes, [])
    assert [k for k, *_ in rec.log] == ["w"] * 4
    assert rec.times == [1, 3, 5, 7]
    assert rec.cycles == 7 + 2              # the last B is seen in the cycle after its issue
    rec = run_axi([], reads)
    assert [k for k, *_ in rec.log] == ["r"] * 4
    assert rec.times == [1, 5, 9, 13] and rec.cycles == 13 + 4   # R three cycles after issue
    rec = run_axi(writes, reads)
    assert [k for k, *_ in rec.log] == ["r", "w", "w"] * 2 + ["r", "r"]
    assert rec.times == [1, 2, 4, 5, 6, 8, 9, 13] and rec.cycles == 13 + 4


@pytest.mark.parametrize("w_delay,aw_delay", [(0, 5), (5, 0), (3, 3)])
def test_axi_aw_w_either_order(w_delay, aw_delay):
    """AXI4-Lite: AW and W are independent; the write is issued once both are
    in, whichever came first, with the address of AW and the data of W."""
    m, bridge = build(AXI4LiteBridge)
    rec = Recorder(bridge.reg)
    axi = bridge.axi

    async def bench(ctx):
        ctx.set(axi.bready, 1)
        aw_done = w_done = seen_b = False
        for cycle in range(20):
            aw_on, w_on = cycle >= aw_delay and not aw_done, cycle >= w_delay and not w_done
            ctx.set(axi.awvalid, aw_on)
            ctx.set(axi.awaddr, LR1)
            ctx.set(axi.wvalid, w_on)
            ctx.set(axi.wdata, 0xCAFE0001)
            ctx.set(axi.wstrb, 0xF)
            awready, wready, bvalid, bresp = await rec.tick(
                ctx, axi.awready, axi.wready, axi.bvalid, axi.bresp)
            if bvalid:
                assert aw_done and w_done and not seen_b and bresp == OKAY
                seen_b = True
            aw_done |= aw_on and awready
            w_done |= w_on and wready
        assert seen_b
        assert rec.log == [("w", LR1 >> 2, 0xCAFE0001, 0xF)]
    run_sim(m, bench)


def test_axi_side_effect_read_once_under_r_backpressure():
    """AXI4-Lite: a read held by RREADY = 0 for many cycles reaches the core
    once, and RDATA/RVALID stay stable until the handshake."""
    m, bridge = build(AXI4LiteBridge)
    rec = Recorder(bridge.reg)
    axi = bridge.axi

    async def bench(ctx):
        ctx.set(axi.arvalid, 1)
        ctx.set(axi.araddr, SIDE.addr)
        ctx.set(axi.rready, 0)
        (arready,) = await rec.tick(ctx, axi.arready)
        assert arready
        ctx.set(axi.araddr, SIDE.addr)       # a second read queued behind it
        for _ in range(LATENCY):             # the issue cycle and the next two: RVALID
            (rvalid,) = await rec.tick(ctx, axi.rvalid)   # comes LATENCY cycles after the issue
            assert not rvalid
        for _ in range(30):
            rvalid, rdata = await rec.tick(ctx, axi.rvalid, axi.rdata)
            assert rvalid and rdata == 0
        assert [k for k, *_ in rec.log] == ["r"]
        ctx.set(axi.arvalid, 0)
        ctx.set(axi.rready, 1)
        got = []
        for _ in range(6):
            rvalid, rdata = await rec.tick(ctx, axi.rvalid, axi.rdata)
            if rvalid:
                got.append(rdata)
        assert got == [0, 1]                  # two reads, two counts, nothing repeated
        assert [k for k, *_ in rec.log] == ["r", "r"]
    run_sim(m, bench)


@pytest.mark.parametrize("errors", ["ignore", "report"])
def test_axi_error_policy(errors):
    """AXI4-Lite: unaligned accesses and partial writes never reach the core;
    with errors='report' they and unmapped offsets (0x1000, LR<n> for
    n >= num_lrs, reserved names) answer SLVERR, otherwise OKAY; RO writes and
    WO reads are OKAY either way."""
    writes = [(LR0, 1, 0xF), (LR0 + 2, 2, 0xF), (LR0, 3, 0x3), (LR0, 4, 0x0),
              (0x1000, 5, 0xF), (regs.lr(4).addr, 6, 0xF), (regs.GICH_VTR.addr, 7, 0xF),
              (regs.RESERVED_NAMES[0].addr, 8, 0xF), (LR1, 9, 0xF)]
    reads = [LR0, LR0 + 1, SIDE.addr + 3, 0x1000, regs.lr(4).addr, regs.GICV_EOIR.addr,
             SIDE.addr, LR1]
    run_axi(writes, [], errors=errors)
    run_axi([], reads, errors=errors)


@pytest.mark.parametrize("num_lrs", [1, 4, 64])
def test_axi_report_mode_lr_range(num_lrs):
    """errors='report': GICH_LR<n> is mapped exactly for n < num_lrs."""
    reads = [regs.lr(n).addr for n in range(min(num_lrs + 2, 64))]
    run_axi([], reads, num_lrs=num_lrs, errors="report")


@pytest.mark.parametrize("errors", ["ignore", "report"])
@pytest.mark.parametrize("seed", range(3))
def test_axi_random_backpressure(errors, seed):
    """AXI4-Lite: random mixes of reads and writes with random VALID gaps and
    random BREADY/RREADY: every access gets the right response, data and
    forwarding, and the protocol rules hold."""
    rng = random.Random(seed)
    writes, reads = random_ops(rng, 150)
    run_axi(writes, reads, errors=errors, seed=seed, p_valid=0.6, p_ready=0.5)


def test_axi_random_full_speed():
    """AXI4-Lite: the same with VALID and READY always high."""
    writes, reads = random_ops(random.Random(7), 150)
    run_axi(writes, reads, errors="report")


def test_axi_addr_width_high_bits_ignored():
    """AXI4-Lite with a 32-bit address: the low 14 bits select the register."""
    m, bridge = build(AXI4LiteBridge, addr_width=32)
    rec = Recorder(bridge.reg)

    async def bench(ctx):
        await axi_manager(ctx, bridge.axi, rec, [(0xABCD_4000 | LR1, 5, 0xF)],
                          [0x1234_C000 | LR1], random.Random(0))
    run_sim(m, bench)
    assert ("w", LR1 >> 2, 5, 0xF) in rec.log and ("r", LR1 >> 2, None, None) in rec.log


# -- APB4 requester -------------------------------------------------------------

async def apb_requester(ctx, apb, rec, ops, rng, p_idle=0.0, max_wait=50, users=None):
    """ops: [("w", addr, data, strb) | ("r", addr)]; users: PAUSER of each
    (several CPUs); returns [(prdata, pslverr)]."""
    out = []
    for i, op in enumerate(ops):
        while rng.random() < p_idle:
            ctx.set(apb.psel, 0)
            ctx.set(apb.penable, 0)
            await rec.tick(ctx)
        write = op[0] == "w"
        ctx.set(apb.psel, 1)
        ctx.set(apb.penable, 0)
        ctx.set(apb.pwrite, write)
        ctx.set(apb.paddr, op[1])
        ctx.set(apb.pwdata, op[2] if write else rng.getrandbits(32))
        ctx.set(apb.pstrb, op[3] if write else 0)     # APB4: PSTRB low on reads
        ctx.set(apb.pprot, rng.randrange(8))
        if users is not None:
            ctx.set(apb.pauser, users[i])
        await rec.tick(ctx)
        ctx.set(apb.penable, 1)
        for _ in range(max_wait):
            pready, prdata, pslverr = await rec.tick(ctx, apb.pready, apb.prdata, apb.pslverr)
            if pready:
                out.append((prdata, pslverr))
                break
        else:
            raise AssertionError(f"hang: PREADY low for {max_wait} cycles")
    ctx.set(apb.psel, 0)
    ctx.set(apb.penable, 0)
    return out


def run_seq(bridge_cls, requester, ops, num_lrs=4, errors="ignore", seed=0, hold=0,
            p_busy=0.0, unsettle=0, p_unsettled=0.0, **kw):
    """Sequential buses (APB, Wishbone): the strobe order is the op order."""
    m, bridge = build(bridge_cls, hold, unsettle, num_lrs=num_lrs, errors=errors,
                      **kw.pop("bridge", {}))
    rec = Recorder(bridge.reg)
    out = {}

    async def bench(ctx):
        bus = bridge.apb if bridge_cls is APBBridge else bridge.wb
        out["r"] = await requester(ctx, bus, rec, ops, random.Random(seed), **kw)
    run_sim(m, bench, bridge.target, p_busy, p_unsettled, seed)
    assert len(out["r"]) == len(ops)
    # Sequential: replay the ops one by one on the twin, writes and reads together.
    writes = [(op[1], op[2], op[3]) for op in ops if op[0] == "w"]
    reads = [op[1] for op in ops if op[0] == "r"]
    wresps = [bool(e) for op, (_, e) in zip(ops, out["r"]) if op[0] == "w"]
    rresps = [(d, bool(e)) for op, (d, e) in zip(ops, out["r"]) if op[0] == "r"]
    check_results(writes, reads, rec.log, wresps, rresps, num_lrs, errors)
    # and the log interleaves them in op order
    fwd = [op[0] for op in ops
           if spec_outcome(op[1], op[0] == "w", op[3] if op[0] == "w" else 0, num_lrs, errors)[0]]
    assert [k for k, *_ in rec.log] == fwd
    return rec


def seq_ops(rng, n, num_lrs=4, word_addressed=False):
    """Random ops in one order; word_addressed (Wishbone: ADR has no byte bits)
    leaves out unaligned addresses."""
    writes, reads = random_ops(rng, n, num_lrs)
    if word_addressed:
        writes, reads = [(a & ~3, d, s) for a, d, s in writes], [a & ~3 for a in reads]
    ops = [("w", *w) for w in writes] + [("r", a) for a in reads]
    rng.shuffle(ops)
    return ops


def test_apb_two_wait_states():
    """APB4: each transfer takes setup + three access cycles (PREADY low twice,
    then high: the core's 3-cycle latency) and back-to-back transfers reach the
    core once each."""
    ops = [("w", LR0, 0x1234, 0xF), ("r", LR0), ("r", SIDE.addr), ("r", SIDE.addr)]
    rec = run_seq(APBBridge, apb_requester, ops)
    assert rec.cycles == (1 + LATENCY) * len(ops)


@pytest.mark.parametrize("errors", ["ignore", "report"])
@pytest.mark.parametrize("seed", range(2))
def test_apb_random(errors, seed):
    """APB4: random transfers with random idle cycles; PSLVERR per policy."""
    run_seq(APBBridge, apb_requester, seq_ops(random.Random(seed), 120), errors=errors,
            seed=seed, p_idle=0.3)


# -- Wishbone master ------------------------------------------------------------

async def wb_classic_master(ctx, wb, rec, ops, rng, p_idle=0.0, max_wait=50, users=None):
    """Classic cycles, STB held until ACK/ERR; users: TGA of each op (several
    CPUs); returns [(dat_r, err)]."""
    out = []
    for i, op in enumerate(ops):
        while rng.random() < p_idle:
            ctx.set(wb.stb, 0)
            ctx.set(wb.cyc, rng.random() < 0.5)
            await rec.tick(ctx)
        write = op[0] == "w"
        ctx.set(wb.cyc, 1)
        ctx.set(wb.stb, 1)
        ctx.set(wb.we, write)
        ctx.set(wb.adr, op[1] >> 2)
        ctx.set(wb.dat_w, op[2] if write else rng.getrandbits(32))
        ctx.set(wb.sel, op[3] if write else 0xF)
        if users is not None:
            ctx.set(wb.tga, users[i])
        for _ in range(max_wait):
            ack, err, dat_r = await rec.tick(ctx, wb.ack, wb.err, wb.dat_r)
            assert not (ack and err)
            if ack or err:
                out.append((dat_r, err))
                break
        else:
            raise AssertionError(f"hang: no ACK/ERR for {max_wait} cycles")
    ctx.set(wb.stb, 0)
    ctx.set(wb.cyc, 0)
    return out


async def wb_pipelined_master(ctx, wb, rec, ops, rng, p_idle=0.0, max_cycles=5000, users=None):
    """Pipelined: a request per cycle unless STALL or a random gap, CYC held
    until every ACK/ERR is in; users: TGA of each op (several CPUs); returns
    [(dat_r, err)] in request order."""
    out, i = [], 0
    ctx.set(wb.cyc, 1)
    for _ in range(max_cycles):
        on = i < len(ops) and rng.random() >= p_idle
        ctx.set(wb.stb, on)
        if on:
            op = ops[i]
            write = op[0] == "w"
            ctx.set(wb.we, write)
            ctx.set(wb.adr, op[1] >> 2)
            ctx.set(wb.dat_w, op[2] if write else rng.getrandbits(32))
            ctx.set(wb.sel, op[3] if write else 0xF)
            if users is not None:
                ctx.set(wb.tga, users[i])
        stall, ack, err, dat_r = await rec.tick(ctx, wb.stall, wb.ack, wb.err, wb.dat_r)
        assert not (ack and err)
        if ack or err:
            assert len(out) < i, "ACK/ERR without an outstanding request"
            out.append((dat_r, err))
        if on and not stall:
            i += 1
        if len(out) == len(ops):
            break
    else:
        raise AssertionError("hang: missing ACK/ERR")
    ctx.set(wb.stb, 0)
    ctx.set(wb.cyc, 0)
    return out


def test_wishbone_classic_four_cycles_per_transfer():
    """Wishbone classic: ACK three cycles after STB (LATENCY), the held request
    is not issued again (two side-effect reads give counts 0 and 1)."""
    ops = [("r", SIDE.addr), ("r", SIDE.addr), ("w", LR0, 7, 0xF), ("r", LR0)]
    rec = run_seq(WishboneBridge, wb_classic_master, ops)
    assert rec.cycles == (1 + LATENCY) * len(ops)


def test_wishbone_pipelined_one_per_cycle():
    """Wishbone pipelined: STALL low, one transfer per cycle, ACKs in order,
    each LATENCY (3) cycles after its request."""
    ops = [("w", LR0, 7, 0xF), ("r", LR0), ("r", SIDE.addr), ("r", SIDE.addr), ("w", LR1, 9, 0xF)]
    rec = run_seq(WishboneBridge, wb_pipelined_master, ops, bridge={"pipelined": True})
    assert rec.cycles == len(ops) + LATENCY


@pytest.mark.parametrize("pipelined", [False, True])
@pytest.mark.parametrize("errors", ["ignore", "report"])
def test_wishbone_random(pipelined, errors):
    """Wishbone B4 classic and pipelined: random transfers and gaps; ERR per
    policy; rejected accesses never reach the core."""
    master = wb_pipelined_master if pipelined else wb_classic_master
    run_seq(WishboneBridge, master, seq_ops(random.Random(3), 120, word_addressed=True),
            errors=errors,
            bridge={"pipelined": pipelined}, p_idle=0.3)


def test_wishbone_abandoned_cycle_gets_no_late_ack():
    """Wishbone: a master that drops CYC right after issuing sees no ACK
    outside its cycle."""
    m, bridge = build(WishboneBridge, pipelined=True)
    rec = Recorder(bridge.reg)
    wb = bridge.wb

    async def bench(ctx):
        ctx.set(wb.cyc, 1)
        ctx.set(wb.stb, 1)
        ctx.set(wb.adr, LR0 >> 2)
        await rec.tick(ctx)
        ctx.set(wb.cyc, 0)
        ctx.set(wb.stb, 0)
        for _ in range(3):
            ack, err = await rec.tick(ctx, wb.ack, wb.err)
            assert not ack and not err
    run_sim(m, bench)


# -- core hold-off (register bus `ready`) --------------------------------------------

@pytest.mark.parametrize("hold,p_busy", [(1, 0.0), (3, 0.3)])
@pytest.mark.parametrize("errors", ["ignore", "report"])
def test_axi_hold_off(hold, p_busy, errors):
    """AXI4-Lite with a core that holds ready low after each strobe (and at
    random): nothing is issued while ready = 0, every access still completes
    once with the right data and response, under back-pressure."""
    writes, reads = random_ops(random.Random(11), 100)
    run_axi(writes, reads, errors=errors, seed=4, hold=hold, p_busy=p_busy,
            p_valid=0.7, p_ready=0.6)


def test_axi_hold_off_full_speed():
    """AXI4-Lite, VALID/READY always high, ready low 2 cycles after each strobe:
    one transaction per 3 cycles from the cycle after the first handshake,
    nothing lost or repeated."""
    writes = [(regs.lr(n % 4).addr, n, 0xF) for n in range(40)]
    reads = [regs.lr(n % 4).addr if n % 3 else SIDE.addr for n in range(40)]
    rec = run_axi(writes, reads, hold=2)
    assert len(rec.log) == 80 and rec.times == [1 + 3 * k for k in range(80)]
    assert rec.cycles == rec.times[-1] + 2


@pytest.mark.parametrize("hold,p_busy", [(1, 0.0), (3, 0.3)])
def test_apb_hold_off(hold, p_busy):
    """APB4: PREADY stays low until the request went in; one strobe per transfer."""
    run_seq(APBBridge, apb_requester, seq_ops(random.Random(13), 80), errors="report",
            hold=hold, p_busy=p_busy, p_idle=0.2)


@pytest.mark.parametrize("pipelined", [False, True])
@pytest.mark.parametrize("hold,p_busy", [(1, 0.0), (3, 0.3)])
def test_wishbone_hold_off(pipelined, hold, p_busy):
    """Wishbone: classic delays ACK, pipelined raises STALL while ready = 0."""
    master = wb_pipelined_master if pipelined else wb_classic_master
    run_seq(WishboneBridge, master, seq_ops(random.Random(14), 80, word_addressed=True),
            errors="report", hold=hold, p_busy=p_busy, bridge={"pipelined": pipelined},
            p_idle=0.2)


# -- derived reads wait for `settled` (rtl/regbus.py) ------------------------------

BUSES = ["axi4lite", "apb", "wishbone", "wishbone-pipelined"]


@pytest.mark.parametrize("derived", SETTLED_READS, ids=lambda r: r.full_name)
@pytest.mark.parametrize("bus", BUSES)
def test_derived_read_waits_for_settled(bus, derived):
    """A fake core with ready = 1 throughout and settled held low for the first
    `release` cycles: a write and a read of GICH_LR0 reach the register bus
    while settled = 0; a read of a SETTLED_READS register is strobed in the
    first cycle with settled = 1, not before, and (but on AXI) the write after
    it follows."""
    cls, extra = BRIDGES[bus]
    m, bridge = build(cls, **extra)
    target, rec, release = bridge.target, Recorder(bridge.reg), 30
    ops = [("w", LR1, 5, 0xF), ("r", LR0), ("r", derived.addr), ("w", LR0, 7, 0xF)]
    got = []

    async def unsettle(ctx):
        ctx.set(target.unsettled, 1)
        for _ in range(release):
            await ctx.tick()
        ctx.set(target.unsettled, 0)

    async def bench(ctx):
        if bus == "axi4lite":
            ctx.set(bridge.axi.bready, 1)
        got.extend(await run_ops(ctx, bus, port_of(bridge), rec, ops, random.Random(0)))

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(unsettle)
    sim.add_testbench(bench)
    sim.run()
    assert rec.settled[:release + 1] == [0] * release + [1]
    when = {(k, a): t for (k, a, *_), t in zip(rec.log, rec.times)}
    assert len(when) == len(rec.log) == 4
    assert when["w", LR1 >> 2] < release and when["r", LR0 >> 2] < release
    assert when["r", derived.word] == release
    if bus != "axi4lite":                    # AXI: the channels are ordered apart
        assert when["w", LR0 >> 2] > release
    assert got == [(None, False), (0, False), (0, False), (None, False)]


@pytest.mark.parametrize("bus", BUSES)
def test_settled_random(bus):
    """Every bus with a fake core that drops settled for 3 cycles after each
    write or derived read, and at random, and ready at random: every access
    completes once with the right data and response (the Recorder checks that
    no derived read is strobed while settled = 0)."""
    kw = dict(errors="report", hold=1, p_busy=0.2, unsettle=3, p_unsettled=0.3, seed=5)
    rng = random.Random(15)
    if bus == "axi4lite":
        run_axi(*random_ops(rng, 80), p_valid=0.7, p_ready=0.6, **kw)
    else:
        cls, extra = BRIDGES[bus]
        run_seq(cls, MASTERS[bus], seq_ops(rng, 80, word_addressed=bus != "apb"),
                bridge=extra, p_idle=0.2, **kw)


# -- the UART link (rtl/bridges/uart.py) with the fake target ------------------------

UART_DIV = 4                        # clocks per bit


async def uart_send(ctx, rec, rx, frame):
    """`frame` on rx, 8N1, UART_DIV clocks per bit, ticking through `rec`."""
    for byte in frame:
        for bit in [0] + [byte >> i & 1 for i in range(8)] + [1]:
            ctx.set(rx, bit)
            for _ in range(UART_DIV):
                await rec.tick(ctx)


async def uart_receive(ctx, tx, out):
    """Bytes sent on tx (8N1, UART_DIV clocks per bit) appended to `out`."""
    while True:
        await ctx.tick()
        if ctx.get(tx):
            continue
        for _ in range(UART_DIV // 2):                # to the start bit's middle
            await ctx.tick()
        byte = 0
        for i in range(8):
            for _ in range(UART_DIV):
                await ctx.tick()
            byte |= ctx.get(tx) << i
        for _ in range(UART_DIV):
            await ctx.tick()
        assert ctx.get(tx), "no stop bit"
        out.append(byte)


async def uart_frames(ctx, rec, out, max_cycles=2000):
    """The frames received up to and including the next response."""
    frames = []
    for _ in range(max_cycles):
        if out and out[0] == START_EVENT and len(out) >= 5:
            frames.append(decode_event(bytes(out[:5])))
            del out[:5]
        elif out and out[0] == START_RESP and len(out) >= 9:
            frames.append(decode_response(bytes(out[:9])))
            del out[:9]
            return frames
        await rec.tick(ctx)
    raise AssertionError(f"no response in {max_cycles} cycles (frames {frames})")


@pytest.mark.parametrize("derived", [regs.GICV_IAR, regs.GICH_MISR], ids=lambda r: r.full_name)
def test_uart_waits_for_settled(derived):
    """The UART link with a fake core (ready = 1 throughout) whose settled falls
    for 12 cycles after each write or derived read and is held low by the test:
    a write and a read of GICH_LR0 are strobed while settled = 0, a read of a
    SETTLED_READS register only in the first cycle with settled = 1; each
    response (and the line-change event before it) waits for a settled cycle
    and reports the lines of the cycle after it (the fake's lines, loaded in
    settled cycles from the last write's data)."""
    m = Module()
    m.submodules.link = link = UARTBridge(num_lrs=4, clk_freq=UART_DIV * 1_000_000,
                                          baud=1_000_000, build_id=0)
    m.submodules.target = target = FakeTarget(unsettle=12)
    wiring.connect(m, link.reg, target.bus)
    m.d.comb += link.lines.eq(target.lines)
    rec, out = Recorder(link.reg), []

    def forget():
        rec.log.clear()
        rec.times.clear()

    async def held(ctx, frame, strobe):
        """Send `frame` with settled held low; `strobe` is strobed (or, if None,
        nothing) while it is; then release it. Returns the first settled cycle."""
        ctx.set(target.unsettled, 1)
        await uart_send(ctx, rec, link.rx, frame)
        for _ in range(40):
            await rec.tick(ctx)
        assert not out, "a frame while settled = 0"
        assert [e[:2] for e in rec.log] == ([strobe] if strobe else [])
        if strobe:
            assert not rec.settled[rec.times[0]]
        ctx.set(target.unsettled, 0)
        return rec.cycles

    async def bench(ctx):
        ctx.set(link.rx, 1)
        # a write: strobed at once, answered once settled, with its lines
        await uart_send(ctx, rec, link.rx, encode_request(0, CMD_WRITE, LR1, 0b011))
        assert await uart_frames(ctx, rec, out) == [Event(EV_LINES, 0b011),
                                                    Response(0, 0, 0, 0b011)]
        forget()
        # the same with settled held low: the write goes in, the frames wait
        await held(ctx, encode_request(1, CMD_WRITE, LR0, 0b101), ("w", LR0 >> 2))
        assert await uart_frames(ctx, rec, out) == [Event(EV_LINES, 0b101),
                                                    Response(1, 0, 0, 0b101)]
        forget()
        # a read of LR0 goes in with settled = 0
        await held(ctx, encode_request(2, CMD_READ, LR0), ("r", LR0 >> 2))
        assert await uart_frames(ctx, rec, out) == [Response(2, 0, 0b101, 0b101)]
        forget()
        # a derived read waits for settled
        release = await held(ctx, encode_request(3, CMD_READ, derived.addr), None)
        assert await uart_frames(ctx, rec, out) == [Response(3, 0, 0, 0b101)]
        assert [e[:2] for e in rec.log] == [("r", derived.word)]
        assert rec.times == [release] and rec.settled[release]

    async def receive(ctx):
        await uart_receive(ctx, link.tx, out)

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(receive, background=True)
    sim.add_testbench(bench)
    sim.run()


# -- parameters ------------------------------------------------------------------

@pytest.mark.parametrize("cls", [AXI4LiteBridge, APBBridge, WishboneBridge])
def test_bad_parameters(cls):
    """Constructors reject bad parameters with a message naming them."""
    with warnings.catch_warnings():
        # the half-built objects are dropped here, not in a later test
        warnings.simplefilter("ignore", UnusedElaboratable)
        for kwargs, name in [({"num_lrs": 0}, "num_lrs"), ({"errors": "slverr"}, "errors"),
                             ({"addr_width": 12}, "addr_width")]:
            with pytest.raises(ValueError, match=name):
                cls(**kwargs)
        gc.collect()


# -- reset (docs/verilog.md "Reset"; AXI IHI0022 A3.1.2) ------------------------------
#
# The contract: a bridge's reset is its bus port's reset. Asserted for one rising
# edge or more, together with the manager's reset, it abandons every transaction
# in progress without a response (AXI: BVALID and RVALID low from the first edge
# of reset, A3.1.2) and the port then works from the next cycle on. The core may
# be reset alone (its own reset, the bridge's not): every request the bridge
# accepted still gets exactly one response; the core applies a write it takes
# after its reset, and the reset wipes any it took before.

BRIDGES = {
    "axi4lite": (AXI4LiteBridge, {}),
    "apb": (APBBridge, {}),
    "wishbone": (WishboneBridge, {"pipelined": False}),
    "wishbone-pipelined": (WishboneBridge, {"pipelined": True}),
}
MASTERS = {"apb": apb_requester, "wishbone": wb_classic_master,
           "wishbone-pipelined": wb_pipelined_master}


def port_of(bridge):
    return bridge.axi if isinstance(bridge, AXI4LiteBridge) else \
        bridge.apb if isinstance(bridge, APBBridge) else bridge.wb


async def run_ops(ctx, bus, port, rec, ops, rng, users=None, **kw):
    """ops over one bus; returns [(read data or None, error)] in op order (AXI:
    writes and reads run on their channels concurrently, each in order).
    users: the requester's number (AWUSER/ARUSER, PAUSER, TGA) of each op."""
    if bus == "axi4lite":
        writes = [op[1:] for op in ops if op[0] == "w"]
        reads = [op[1] for op in ops if op[0] == "r"]
        if users is not None:
            kw["aw_user"] = [u for op, u in zip(ops, users) if op[0] == "w"]
            kw["ar_user"] = [u for op, u in zip(ops, users) if op[0] == "r"]
        b, r = await axi_manager(ctx, port, rec, writes, reads, rng, **kw)
        b, r = iter(b), iter(r)
        out = []
        for op in ops:
            if op[0] == "w":
                out.append((None, next(b) == SLVERR))
            else:
                data, resp = next(r)
                out.append((data, resp == SLVERR))
        return out
    if bus != "apb":
        ops = [(op[0], op[1] & ~3, *op[2:]) for op in ops]      # Wishbone: word addresses
    got = await MASTERS[bus](ctx, port, rec, ops, rng, users=users, **kw)
    return [(d if op[0] == "r" else None, bool(e)) for op, (d, e) in zip(ops, got)]


def readback_ops():
    """A write and read-back of LR2 and a read of GICH_VTR, with what the
    golden model says they return on a core in any state (the write sets the
    whole LR)."""
    model = ModelVirtualInterface(4)
    value = (1 << 28) | (0x10 << 23) | 77            # pending, priority 0x80, vID 77
    model.write_addr(regs.lr(2).addr, value)
    ops = [("w", regs.lr(2).addr, value, 0xF), ("r", regs.lr(2).addr), ("r", regs.GICH_VTR.addr)]
    return ops, [None, model.read_addr(regs.lr(2).addr), regs.vtr_value(4)]


@pytest.mark.parametrize("errors", ["ignore", "report"])
@pytest.mark.parametrize("bus", list(BRIDGES))
@pytest.mark.parametrize("seed", range(2))
def test_core_reset_alone_every_request_answered(bus, errors, seed):
    """A bridge and the real core with a reset of its own, asserted at random
    (1-3 cycles) under random traffic: every request whose handshake completed
    gets exactly one response, with the policy's code (access.py), whether it
    was waiting in the bridge, in the core's pipeline or in neither when the
    core was reset; the bus protocol rules hold throughout (the masters check
    them); afterwards the port works (a write reads back)."""
    cls, extra = BRIDGES[bus]
    m = Module()
    m.domains.sync = ClockDomain("sync")
    core_rst = Signal(name="core_rst")
    m.submodules.bridge = bridge = cls(num_lrs=4, errors=errors, **extra)
    core = VirtualInterface(num_lrs=4)
    m.submodules.core = ResetInserter(core_rst)(core)
    wiring.connect(m, bridge.reg, core.bus)
    rec = Recorder(bridge.reg)
    port = port_of(bridge)
    rng = random.Random(seed)
    writes, reads = random_ops(rng, 40)
    ops = [("w", *w) for w in writes] + [("r", a) for a in reads]
    rng.shuffle(ops)
    resets = {"n": 0, "stop": False}

    async def core_resets(ctx):
        r = random.Random(seed + 50)
        while True:
            for _ in range(r.randrange(3, 40)):
                await ctx.tick()
            if resets["stop"]:
                return
            ctx.set(core_rst, 1)
            resets["n"] += 1
            for _ in range(r.randrange(1, 4)):
                await ctx.tick()
            ctx.set(core_rst, 0)

    async def bench(ctx):
        kw = {"p_valid": 0.7, "p_ready": 0.6} if bus == "axi4lite" else {"p_idle": 0.3}
        got = await run_ops(ctx, bus, port, rec, ops, random.Random(seed + 1), **kw)
        for op, (_, err) in zip(ops, got):
            addr = op[1] if bus == "apb" or bus == "axi4lite" else op[1] & ~3
            strb = op[3] if op[0] == "w" else 0
            assert err == spec_outcome(addr, op[0] == "w", strb, 4, errors)[1], op
        assert resets["n"] >= 3, "the core was hardly reset: lengthen the run"
        resets["stop"] = True
        # nothing more comes on the response channels (and the core's last
        # reset is over)
        for _ in range(8):
            if bus == "axi4lite":
                bvalid, rvalid = await rec.tick(ctx, port.bvalid, port.rvalid)
                assert not bvalid and not rvalid, "a response without a request"
            else:
                await rec.tick(ctx)
        # the port and the core work after the resets (one access at a time:
        # AXI orders reads and writes apart)
        sim_ops, want = readback_ops()
        for op, data in zip(sim_ops, want):
            assert await run_ops(ctx, bus, port, rec, [op], random.Random(seed + 2)) == \
                [(data, False)], op

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(core_resets, background=True)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("length", [1, 3])
@pytest.mark.parametrize("delay", range(12))
def test_axi_write_gets_b_across_core_reset(delay, length):
    """The issue's case: an AXI4-Lite write whose AW and W handshakes have
    completed, then the core alone is reset (`delay` cycles later, for `length`
    cycles) while the write waits in the bridge for the core's hold-off, or
    goes in, or has gone in: the write gets exactly one B, OKAY, and is not
    repeated; the core holds it iff it took the write after its reset (before
    it, the reset wipes it)."""
    m = Module()
    m.domains.sync = ClockDomain("sync")
    core_rst = Signal(name="core_rst")
    m.submodules.bridge = bridge = AXI4LiteBridge(num_lrs=4)
    core = VirtualInterface(num_lrs=4)
    m.submodules.core = ResetInserter(core_rst)(core)
    wiring.connect(m, bridge.reg, core.bus)
    rec = Recorder(bridge.reg)
    axi = bridge.axi
    value = (1 << 28) | (0x10 << 23) | 42

    async def bench(ctx):
        # the first write (LR0) starts the core's hold-off; the second (LR1)
        # is accepted right after it and waits in the skid buffers
        await axi_manager(ctx, axi, rec, [(LR0, 5, 0xF)], [], random.Random(0))
        ctx.set(axi.awvalid, 1)
        ctx.set(axi.awaddr, LR1)
        ctx.set(axi.wvalid, 1)
        ctx.set(axi.wdata, value)
        ctx.set(axi.wstrb, 0xF)
        ctx.set(axi.bready, 1)
        awready, wready, bvalid = await rec.tick(ctx, axi.awready, axi.wready, axi.bvalid)
        assert awready and wready and not bvalid, "the second write is not accepted at once"
        ctx.set(axi.awvalid, 0)
        ctx.set(axi.wvalid, 0)
        bs, reset_cycles = 0, []
        for cycle in range(60):
            ctx.set(core_rst, delay <= cycle < delay + length)
            if delay <= cycle < delay + length:
                reset_cycles.append(rec.cycles)
            bvalid, bresp = await rec.tick(ctx, axi.bvalid, axi.bresp)
            if bvalid:
                assert bresp == OKAY
                bs += 1
        assert bs == 1, f"{bs} B responses for one write"
        writes = [t for (k, a, *_), t in zip(rec.log, rec.times) if k == "w" and a == LR1 >> 2]
        assert len(writes) == 1, "the write went to the core more than once"
        took_after = writes[0] > reset_cycles[-1]
        # read LR1 back (the core is ready again by now)
        _, ((data, resp),) = await axi_manager(ctx, axi, rec, [], [LR1], random.Random(0))
        model = ModelVirtualInterface(4)
        if took_after:
            model.write_addr(LR1, value)
        assert (data, resp) == (model.read_addr(LR1), OKAY)

    run_sim(m, bench)


async def until_idle(ctx, rec, limit=64):
    """Tick until the core bus shows ready = settled = 1 (the core takes any
    request)."""
    for _ in range(limit):
        if ctx.get(rec.reg.ready) and ctx.get(rec.reg.settled):
            return
        await rec.tick(ctx)
    raise AssertionError(f"the core not ready and settled for {limit} cycles")


def soc_port(top):
    return types.SimpleNamespace(**{n: getattr(top, top.prefix + n) for n in top.bus_members})


@pytest.mark.parametrize("pending", ["buffered", "issuing", "bvalid"])
def test_axi_shared_reset_abandons_write(pending):
    """The bridge and the core on one reset (rtl/soc.py, the Verilog top):
    a reset is the AXI interface's reset (IHI0022 A3.1.2), asserted with the
    manager's. A write whose AW and W handshakes completed but whose B was not
    taken when the reset comes (waiting in the skid buffers behind an earlier
    write's B, not taken either, going to the core in the reset's first
    cycle, or with BVALID high in it) gets no B: BVALID and RVALID are low from the first edge of
    the reset (it is synchronous) until the manager makes a new request;
    AWREADY/WREADY/ARREADY are high after it, and the next write and read
    complete normally (one B each, the data of the core after its reset)."""
    top = BusVirtualInterface(num_lrs=4, bus="axi4lite")
    m = Module()
    m.domains.sync = cd = ClockDomain("sync")
    m.submodules.top = top
    axi = soc_port(top)
    rec = Recorder(top.bridge.reg)
    value = (1 << 28) | (0x10 << 23) | 42
    lr2 = regs.lr(2).addr

    async def bench(ctx):
        ctx.set(cd.rst, 1)
        await ctx.tick()
        ctx.set(cd.rst, 0)
        await until_idle(ctx, rec)   # the core ready: a write goes in after its handshake
        ctx.set(axi.bready, pending != "buffered")
        if pending == "buffered":    # a first write, its B not taken (BVALID high)
            for sig, v in ((axi.awaddr, LR0), (axi.wdata, 5), (axi.wstrb, 0xF),
                           (axi.awvalid, 1), (axi.wvalid, 1)):
                ctx.set(sig, v)
            assert all(await rec.tick(ctx, axi.awready, axi.wready))
            ctx.set(axi.awvalid, 0)
            ctx.set(axi.wvalid, 0)
            await rec.tick(ctx)
            assert len(rec.log) == 1 and all(await rec.tick(ctx, axi.bvalid))
        ctx.set(axi.awvalid, 1)
        ctx.set(axi.awaddr, LR1)
        ctx.set(axi.wvalid, 1)
        ctx.set(axi.wdata, value)
        ctx.set(axi.wstrb, 0xF)
        ctx.set(axi.rready, 1)
        awready, wready = await rec.tick(ctx, axi.awready, axi.wready)
        assert awready and wready
        strobes = len(rec.log)
        ctx.set(axi.awvalid, 0)
        ctx.set(axi.wvalid, 0)
        if pending == "bvalid":
            await rec.tick(ctx)                          # the write goes to the core
            assert len(rec.log) == strobes + 1
        # the manager's reset and the bridge's, for one edge (BREADY: any value)
        ctx.set(cd.rst, 1)
        ctx.set(axi.bready, 0)
        (bvalid,) = await rec.tick(ctx, axi.bvalid)
        assert bvalid == (pending != "issuing")          # synchronous: until the edge
        assert len(rec.log) == strobes + (pending != "buffered")
        ctx.set(cd.rst, 0)
        ctx.set(axi.bready, 1)
        for _ in range(16):                              # over the core's reset hold-off
            awready, wready, arready, bvalid, rvalid = await rec.tick(
                ctx, axi.awready, axi.wready, axi.arready, axi.bvalid, axi.rvalid)
            assert not bvalid and not rvalid, "a response after the interface reset"
            assert awready and wready and arready
        b, ((data, resp),) = await axi_manager(ctx, axi, rec, [(lr2, value, 0xF)], [LR1],
                                               random.Random(1))
        assert b == [OKAY] and resp == OKAY
        _, ((data2, _),) = await axi_manager(ctx, axi, rec, [], [lr2], random.Random(1))
        model = ModelVirtualInterface(4)       # after the reset: LR1 as reset, LR2 written
        model.write_addr(lr2, value)
        assert (data, data2) == (model.read_addr(LR1), model.read_addr(lr2))

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


async def start_request(ctx, bus, port, rec, op):
    """Put one request on the bus and return right after its handshake edge
    (AXI: AR or AW+W, APB: the setup phase, Wishbone: STB taken), leaving the
    bus signals as they are."""
    write = op[0] == "w"
    if bus == "axi4lite":
        if write:
            for sig, v in ((port.awaddr, op[1]), (port.wdata, op[2]), (port.wstrb, op[3]),
                           (port.awvalid, 1), (port.wvalid, 1)):
                ctx.set(sig, v)
            ready = (port.awready, port.wready)
        else:
            ctx.set(port.araddr, op[1])
            ctx.set(port.arvalid, 1)
            ready = (port.arready,)
        assert all(await rec.tick(ctx, *ready)), "the request was not taken at once"
    elif bus == "apb":
        for sig, v in ((port.psel, 1), (port.penable, 0), (port.pwrite, write), (port.paddr, op[1]),
                       (port.pwdata, op[2] if write else 0), (port.pstrb, op[3] if write else 0)):
            ctx.set(sig, v)
        await rec.tick(ctx)
        ctx.set(port.penable, 1)
    else:
        for sig, v in ((port.cyc, 1), (port.stb, 1), (port.we, write), (port.adr, op[1] >> 2),
                       (port.dat_w, op[2] if write else 0), (port.sel, op[3] if write else 0xF)):
            ctx.set(sig, v)
        stall = await rec.tick(ctx, *([port.stall] if bus == "wishbone-pipelined" else []))
        assert not any(stall)


def quiet(ctx, bus, port):
    """The manager in reset: no request on the bus."""
    names = {"axi4lite": ("awvalid", "wvalid", "arvalid"), "apb": ("psel", "penable"),
             "wishbone": ("cyc", "stb"), "wishbone-pipelined": ("cyc", "stb")}[bus]
    for n in names:
        ctx.set(getattr(port, n), 0)


@pytest.mark.parametrize("op", ["r", "w"])
@pytest.mark.parametrize("delay", range(5))
@pytest.mark.parametrize("bus", list(BRIDGES))
def test_shared_reset_mid_transfer_leaves_no_stale_response(bus, delay, op):
    """Every bus, bridge and core on one reset (rtl/soc.py): a reset, with the
    manager's, `delay` cycles into a transfer (before, while or after it
    reaches the core) abandons it; the transfers after the reset get their own
    responses (no late ACK/PREADY/B/R of the abandoned one: the masters check
    the protocol, and the read data is that of the core after its reset), the
    first of them made in the cycle after the reset, during the core's
    hold-off."""
    top = BusVirtualInterface(num_lrs=4, bus=bus)
    m = Module()
    m.domains.sync = cd = ClockDomain("sync")
    m.submodules.top = top
    port = soc_port(top)
    rec = Recorder(top.bridge.reg)
    value = (1 << 28) | (0x10 << 23) | 42
    first = ("r", regs.GICH_VTR.addr) if op == "r" else ("w", LR0, value, 0xF)

    async def bench(ctx):
        ctx.set(cd.rst, 1)
        await ctx.tick()
        ctx.set(cd.rst, 0)
        await until_idle(ctx, rec)
        if bus == "axi4lite":
            ctx.set(port.bready, 1)
            ctx.set(port.rready, 1)
        await start_request(ctx, bus, port, rec, first)
        for _ in range(delay):
            await rec.tick(ctx)
        quiet(ctx, bus, port)
        ctx.set(cd.rst, 1)
        await rec.tick(ctx)
        ctx.set(cd.rst, 0)
        model = ModelVirtualInterface(4)
        ops = [("r", LR0), ("w", LR1, value, 0xF), ("r", LR1), ("r", regs.GICH_VTR.addr)]
        for o in ops:                   # one at a time (AXI orders reads and writes apart)
            ((data, err),) = await run_ops(ctx, bus, port, rec, [o], random.Random(delay))
            assert not err
            if o[0] == "w":
                model.write_addr(o[1], o[2], o[3])
            else:
                assert data == model.read_addr(o[1]), o

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


# -- several CPUs (rtl/cluster.py): the requester's CPU number ----------------------------
#
# Each bridge with num_cpus > 1 takes the requester's number from its bus
# (AXI4-Lite AWUSER/ARUSER low bits, APB PAUSER, Wishbone TGA) with the
# address and presents it on the core bus with the request (reg.cpu).

def cpu_ops(rng, n, num_cpus, word_addressed=False):
    """seq_ops, a quarter of them moved to the processor-specific views (of
    every CPU and one beyond: GICH_HCR, GICH_MISR (a derived read), LR0, an
    LR beyond 4 and a gap)."""
    views = [regs.alias_addr(c, off) for c in range(min(num_cpus + 1, regs.MAX_CPUS))
             for off in (regs.GICH_HCR.offset, regs.GICH_MISR.offset, regs.lr(0).offset,
                         regs.lr(5).offset, 0x40)]
    return [(op[0], rng.choice(views), *op[2:]) if rng.random() < 0.25 else op
            for op in seq_ops(rng, n, word_addressed=word_addressed)]


def run_cpu_numbers(bus, num_cpus, errors, seed, user_width=None, n=60):
    """Random ops by random requesters over `bus` (the user signal's bits above
    the CPU number random too, for AXI with user_width wider than it), with
    random VALID/READY or idle gaps, and a fake core whose ready and settled
    are the presented CPU's, each dropped at random: every request reaches the
    core once, with its requester's number, and gets the right answer."""
    cls, extra = BRIDGES[bus]
    kw = dict(extra, num_lrs=4, errors=errors, num_cpus=num_cpus)
    if user_width is not None:
        kw["user_width"] = user_width
    m, bridge = build(cls, 1, 3, **kw)
    cb = cpu_bits(num_cpus)
    rec = Recorder(bridge.reg, num_cpus)
    rng = random.Random(seed)
    ops = cpu_ops(rng, n, num_cpus, word_addressed=bus != "apb" and bus != "axi4lite")
    width = user_width or cb
    users = [rng.getrandbits(width) for _ in ops]
    cpus = [u & ((1 << cb) - 1) for u in users]
    out = {}

    async def bench(ctx):
        mkw = {"p_valid": 0.6, "p_ready": 0.5} if bus == "axi4lite" else {"p_idle": 0.3}
        out["got"] = await run_ops(ctx, bus, port_of(bridge), rec, ops, random.Random(seed + 1),
                                   users=users, **mkw)
    run_sim(m, bench, bridge.target, p_busy=0.2, p_unsettled=0.3, seed=seed)
    got = out["got"]
    writes = [op[1:] for op in ops if op[0] == "w"]
    reads = [op[1] for op in ops if op[0] == "r"]
    check_results(writes, reads, rec.log,
                  [e for op, (_, e) in zip(ops, got) if op[0] == "w"],
                  [(d, e) for op, (d, e) in zip(ops, got) if op[0] == "r"],
                  4, errors, num_cpus,
                  [c for op, c in zip(ops, cpus) if op[0] == "w"],
                  [c for op, c in zip(ops, cpus) if op[0] == "r"], rec.cpus)
    assert set(rec.cpus) == set(range(2 ** cb))       # every number came through
    return rec


@pytest.mark.parametrize("errors", ["ignore", "report"])
@pytest.mark.parametrize("num_cpus", [2, 4])
@pytest.mark.parametrize("bus", BUSES)
def test_cpu_number_reaches_core(bus, num_cpus, errors):
    """Every bus at 2 and 4 CPUs: each request reaches the core bus with its
    requester's number, under back-pressure, with ready/settled those of that
    CPU (the Recorder's contract checks would catch a strobe made on another
    CPU's flags); the views of GICH answer per policy."""
    run_cpu_numbers(bus, num_cpus, errors, seed=num_cpus + (errors == "report"))


@pytest.mark.parametrize("errors", ["ignore", "report"])
def test_axi_user_high_bits_ignored_and_missing_cpu(errors):
    """AXI4-Lite at 3 CPUs with a 5-bit AWUSER/ARUSER: bits [1:0] carry the
    CPU number, bits [4:2] are ignored; number 3 names no CPU: its own
    GICH/GICV accesses are errors with errors='report' (the views answer it)."""
    run_cpu_numbers("axi4lite", 3, errors, seed=7, user_width=5, n=80)


def test_one_cpu_adds_nothing():
    """num_cpus = 1 (the default): no user signals, no cpu on the core bus;
    more: the user signals, AXI's as wide as user_width."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)    # not elaborated: ports only
        for bridge, port in [(AXI4LiteBridge(), "axi"), (APBBridge(), "apb"),
                             (WishboneBridge(pipelined=True), "wb")]:
            members = bridge.signature.members
            assert "cpu" not in members["reg"].signature.members
            assert not {"awuser", "aruser", "pauser", "tga"} & set(members[port].signature.members)
        for bridge, port, names in [(AXI4LiteBridge(num_cpus=4, user_width=8), "axi",
                                     {"awuser": 8, "aruser": 8}),
                                    (AXI4LiteBridge(num_cpus=5), "axi", {"awuser": 3, "aruser": 3}),
                                    (APBBridge(num_cpus=2), "apb", {"pauser": 1}),
                                    (WishboneBridge(num_cpus=8), "wb", {"tga": 3})]:
            members = bridge.signature.members
            assert members["reg"].signature.members["cpu"].shape == cpu_bits(bridge.num_cpus)
            got = {n: members[port].signature.members[n].shape for n in names}
            assert got == names
        del bridge
        gc.collect()


@pytest.mark.parametrize("cls", [AXI4LiteBridge, APBBridge, WishboneBridge])
def test_bad_cpu_parameters(cls):
    """num_cpus outside 1..8, and (AXI) a user_width that cannot carry the CPU
    number or comes with one CPU, are refused with a message naming them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        for kwargs, name in [({"num_cpus": 0}, "num_cpus"), ({"num_cpus": 9}, "num_cpus"),
                             ({"num_cpus": True}, "num_cpus"), ({"num_cpus": 2.0}, "num_cpus")]:
            with pytest.raises(ValueError, match=name):
                cls(**kwargs)
        if cls is AXI4LiteBridge:
            for kwargs in [{"num_cpus": 4, "user_width": 1}, {"num_cpus": 1, "user_width": 2},
                           {"num_cpus": 2, "user_width": -1}, {"num_cpus": 2, "user_width": "3"},
                           {"num_cpus": 2, "user_width": 4096}]:
                with pytest.raises(ValueError, match="user_width"):
                    cls(**kwargs)
        gc.collect()


def lr_value(vid, prio, hw_pintid=None):
    """A pending group 0 LR (and with HW = 1, its physical INTID)."""
    value = (1 << 28) | (prio >> 3 << 23) | vid
    return value if hw_pintid is None else value | (1 << 31) | (hw_pintid << 10)


@pytest.mark.parametrize("num_cpus", [2, 4])
@pytest.mark.parametrize("bus", BUSES)
def test_iar_acknowledges_requesters_lr(bus, num_cpus):
    """The real Cluster behind each bridge, under back-pressure: every CPU's
    GICH is programmed through its own CPU number (an LR0 pending, HW = 1,
    priority 0x80) and through CPU 0's use of the views (an LR1 pending at
    0xA0, then a read of that CPU's GICH_MISR, which waits for its settled);
    a GICV_IAR read as CPU 1 returns CPU 1's vINTID and makes CPU 1's
    LR0 active, never CPU 0's (read back as CPU 0 and CPU 1 and through the
    views); an EOIR by CPU 1 deactivates CPU 1's physical INTID, deact_cpu = 1;
    every read, and the lines, match the golden model (sim/model/cluster.py)."""
    from vgic.rtl.cluster import Cluster
    from vgic.sim.model import Cluster as ModelCluster
    cls, extra = BRIDGES[bus]
    m = Module()
    m.submodules.bridge = bridge = cls(num_lrs=4, num_cpus=num_cpus, **extra)
    m.submodules.core = core = Cluster(num_cpus, 4)
    wiring.connect(m, bridge.reg, core.bus)
    rec, port = Recorder(bridge.reg, num_cpus), port_of(bridge)
    model = ModelCluster(4, num_cpus)
    lr0, lr1 = regs.lr(0), regs.lr(1)
    setup = []
    for c in range(num_cpus):
        setup += [(("w", regs.GICH_HCR.addr, 0x11, 0xF), c), (("w", regs.GICV_CTLR.addr, 1, 0xF), c),
                  (("w", regs.GICV_PMR.addr, 0xF8, 0xF), c),
                  (("w", lr0.addr, lr_value(40 + c, 0x80, 100 + c), 0xF), c)]
    # CPU 0 through the views: each CPU's LR1 and GICH_VMCR (the same mask
    # and enable as above; settled falls longest after it, rtl/timing.py),
    # then that CPU's GICH_MISR (VGrp0E, HCR.VGrp0EIE = 1 above), a derived
    # read, which waits for that CPU's settled
    for c in range(num_cpus):
        setup += [(("w", regs.alias_addr(c, lr1.offset), lr_value(60 + c, 0xA0), 0xF), 0),
                  (("w", regs.alias_addr(c, regs.GICH_VMCR.offset), 0x1F << 27 | 1, 0xF), 0),
                  (("r", regs.alias_addr(c, regs.GICH_MISR.offset)), 0)]
    probe = [(("r", regs.GICV_IAR.addr), 1), (("r", lr0.addr), 0), (("r", lr0.addr), 1),
             (("r", regs.alias_addr(1, lr0.offset)), 0), (("r", regs.alias_addr(0, lr0.offset)), 1),
             (("r", regs.GICV_HPPIR.addr), 0), (("r", regs.GICV_RPR.addr), 1)]
    eoi = [(("w", regs.GICV_EOIR.addr, 41, 0xF), 1), (("r", lr0.addr), 1),
           (("r", regs.alias_addr(0, lr0.offset)), 1)]
    deact = []

    async def watch(ctx):
        async for _, _, valid, pintid, cpu in ctx.tick().sample(
                core.deact_valid, core.deact_pintid, core.deact_cpu):
            if valid:
                deact.append((pintid, cpu))

    async def step(ctx, ops, seed):
        kw = {"p_valid": 0.6, "p_ready": 0.5} if bus == "axi4lite" else {"p_idle": 0.3}
        groups = [[]]                 # AXI orders reads and writes apart: a run at a time
        for op in ops:
            if bus == "axi4lite" and groups[-1] and groups[-1][-1][0][0] != op[0][0]:
                groups.append([])
            groups[-1].append(op)
        got = []
        for k, group in enumerate(groups):
            got += await run_ops(ctx, bus, port, rec, [op for op, _ in group],
                                 random.Random(seed * 100 + k), users=[c for _, c in group], **kw)
        for (op, c), (data, err) in zip(ops, got):
            assert not err, (op, c)
            if op[0] == "w":
                model.write_addr(op[1], op[2], op[3], cpu=c)
            else:
                want = model.read_addr(op[1], cpu=c)
                assert data == want, f"{op} by CPU {c}: {data:#x}, golden model {want:#x}"
        return [data for data, _ in got]

    async def lines(ctx):
        for _ in range(30):
            await rec.tick(ctx)
        got = ctx.get(core.virq), ctx.get(core.vfiq), ctx.get(core.maint_irq)
        assert got == (model.virq, model.vfiq, model.maint)
        return got

    async def bench(ctx):
        await step(ctx, setup, 1)
        virq, _, _ = await lines(ctx)
        assert virq == (1 << num_cpus) - 1               # every CPU has one to take
        iar, lr0_cpu0, lr0_cpu1, view1, view0, *_ = await step(ctx, probe, 2)
        assert iar == 41                                 # CPU 1's LR0 vINTID
        assert lr0_cpu0 >> 28 & 3 == 0b01 and view0 >> 28 & 3 == 0b01   # CPU 0's still pending
        assert lr0_cpu1 >> 28 & 3 == 0b10 and view1 >> 28 & 3 == 0b10   # CPU 1's active
        virq, _, _ = await lines(ctx)
        assert virq == ((1 << num_cpus) - 1) & ~0b10    # CPU 1 took its interrupt
        assert deact == []
        await step(ctx, eoi, 3)
        await lines(ctx)
        assert deact == [(101, 1)] and model.forwarded == [101] and model.forwarded_cpu == [1]

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(watch, background=True)
    sim.add_testbench(bench)
    sim.run()
