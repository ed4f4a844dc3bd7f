# Ref: rtl/regbus.py (the core's register bus); arch 1.4 (access rules)
"""Driving the RTL from Python.

- ``bus_read`` / ``bus_write``: async helpers for Amaranth testbenches, one
  register-bus transaction each: wait until the bus takes the request (ready,
  and settled for a read in SETTLED_READS), strobe for one cycle, wait the bus
  latency, check ack, return the registered read data.
  ``bus_wait_lines`` ticks until virq, vfiq and maint_irq reflect the requests
  before (a cycle with ready and settled, then one more).
- ``RTLEngine``: the RTL in Amaranth's simulator behind the golden model's
  interface (``read``/``write``/``read_addr``/``write_addr``/``reset``,
  ``virq``/``vfiq``/``maint``, ``forwarded``), so sequential test code can
  write, read and assert as with ``vgic.sim.model.VirtualInterface``.

How RTLEngine steps the simulator: one background testbench serves requests,
one transaction at a time. A call stores a request and calls
``Simulator.advance()`` until the testbench has answered it. The testbench
ticks until the bus takes the request, strobes it, takes r_data from the ack
cycle, then ticks until the core is settled and one cycle more, collecting
deact_valid pulses on the way, and samples the lines there (the contract is
rtl/regbus.py's). While no request is waiting the simulation does not advance
at all.

Waveforms (``vcd_path``): every signal of the design. Scopes: ``bench.top``
(the bench: clk, rst), ``bench.top.vgic`` (the VirtualInterface: bus__addr,
bus__r_stb, bus__w_stb, bus__w_data, bus__w_strb, bus__ack, bus__r_data,
bus__ready, bus__settled, virq, vfiq, maint_irq, deact_valid, deact_pintid),
and one scope per block below it: ``lr_bank`` (status__lr[n] and its fields
status__lr[n].State, status__lr[n].Priority..., cand, select__best,
select__match, status__elrsr, status__eisr), ``vcpu`` (gicv__ctlr and its
fields, gicv__vmprimask, gicv__bpr, gicv__abpr, gicv__apr, rpr, iar,
hppir...), ``hyp`` (gich__hcr and its fields: gich__hcr.En,
gich__hcr.EOICount...), ``maintenance`` (gich__misr, maint_irq): a block's
ports are named <interface>__<member> (the signatures of rtl/lr_bank.py,
vcpu.py, hyp.py). Signals with a field layout appear whole and field by
field (VCD names like ``status__lr[3].State`` with a leading backslash).
"""
import os

from amaranth.hdl import Cat, ClockDomain, Elaboratable, Module
from amaranth.lib import data
from amaranth.sim import Simulator

from ..rtl import regs
from ..rtl.regbus import ADDR_WIDTH, LATENCY, needs_settled
from ..rtl.top import VirtualInterface

__all__ = ["ResetBench", "bus_wait_lines", "bus_read", "bus_write", "RTLEngine", "CLOCK_PERIOD"]

CLOCK_PERIOD = 10e-9            # 100 MHz in the waveform; the simulation is untimed


def _word(addr):
    if not isinstance(addr, int) or not 0 <= addr < 2**regs.CORE_ADDR_BITS or addr % 4:
        raise ValueError(f"register bus address {addr!r} must be a word-aligned byte address "
                         f"below {2**regs.CORE_ADDR_BITS:#x}")
    return addr >> 2


async def bus_wait_lines(ctx, bus):
    """Tick until virq, vfiq and maint_irq reflect every request accepted
    before (rtl/regbus.py): to a cycle with ready = 1 and settled = 1, then
    one more."""
    while not (ctx.get(bus.ready) and ctx.get(bus.settled)):
        await ctx.tick()
    await ctx.tick()


async def _wait_taken(ctx, bus, word, read):
    """Tick until the bus takes a request to `word` (rtl/regbus.py): ready,
    and for a read in SETTLED_READS settled."""
    settled = read and needs_settled(word)
    while not (ctx.get(bus.ready) and (not settled or ctx.get(bus.settled))):
        await ctx.tick()


async def bus_read(ctx, bus, addr):
    """One read of the core byte address `addr` (e.g. ``regs.GICV_IAR.addr``):
    waits until the bus takes it (ready; settled too for SETTLED_READS),
    strobes for one cycle, returns r_data from the ack cycle (the testbench is
    then in that cycle)."""
    word = _word(addr)
    await _wait_taken(ctx, bus, word, read=True)
    ctx.set(bus.addr, word)
    ctx.set(bus.r_stb, 1)
    await ctx.tick()
    ctx.set(bus.r_stb, 0)
    for _ in range(LATENCY - 1):
        await ctx.tick()
    if not ctx.get(bus.ack):
        raise AssertionError(f"no ack {LATENCY} cycles after the read of {addr:#06x}")
    return ctx.get(bus.r_data)


async def bus_write(ctx, bus, addr, value, strb=0b1111):
    """One write of `value` to the core byte address `addr`: waits for ready,
    strobes for one cycle, returns in the ack cycle."""
    word = _word(addr)
    await _wait_taken(ctx, bus, word, read=False)
    ctx.set(bus.addr, word)
    ctx.set(bus.w_data, value)
    ctx.set(bus.w_strb, strb)
    ctx.set(bus.w_stb, 1)
    await ctx.tick()
    ctx.set(bus.w_stb, 0)
    for _ in range(LATENCY - 1):
        await ctx.tick()
    if not ctx.get(bus.ack):
        raise AssertionError(f"no ack {LATENCY} cycles after the write of {addr:#06x}")


class ResetBench(Elaboratable):
    """The DUT with an explicit sync domain (`sync`), so a testbench can pulse
    its reset (RTLEngine, tests/test_timing.py)."""

    def __init__(self, dut):
        self.dut = dut
        self.sync = ClockDomain("sync")

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = self.sync
        m.submodules.vgic = self.dut
        return m


class RTLEngine:
    """The RTL (rtl/top.py) in Amaranth's simulator, with the golden model's API.

    `vcd_path`: write a VCD of the whole run there (closed by ``close()``; use
    the engine as a context manager or call close() when done).
    """

    def __init__(self, num_lrs=4, vcd_path=None, iidr=regs.IIDR_DEFAULT):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.dut = VirtualInterface(num_lrs, iidr)
        self._bench = ResetBench(self.dut)
        self.sim = Simulator(self._bench)
        self.sim.add_clock(CLOCK_PERIOD, domain="sync")
        self.sim.add_testbench(self._serve, background=True)
        self._request = self._response = None
        self._lines = (0, 0, 0)
        self.forwarded = []
        self.transactions = 0
        self._vcd = None
        if vcd_path is not None:
            d = os.path.dirname(os.path.abspath(vcd_path))
            os.makedirs(d, exist_ok=True)
            self._vcd = self.sim.write_vcd(vcd_path, traces=self.traces())
            self._vcd.__enter__()
        self.reset()                            # starts the serving testbench
        self.transactions = 0

    def traces(self):
        """Signals worth tracing beyond the design's own: none needed today
        (the VCD holds every signal of the design); kept as the one place to add them."""
        return []

    # -- the serving testbench ------------------------------------------------
    async def _serve(self, ctx):
        dut, bus = self.dut, self.dut.bus
        # The request fields and the outputs as one view each: one ctx.set or
        # ctx.get per cycle (each set settles the design). The strobes are
        # dropped once, after the strobe's edge.
        request = data.StructLayout({
            "rst": 1, "r_stb": 1, "w_stb": 1, "addr": ADDR_WIDTH, "w_strb": 4, "w_data": 32,
        })(Cat(self._bench.sync.rst, bus.r_stb, bus.w_stb, bus.addr, bus.w_strb, bus.w_data))
        response = data.StructLayout({
            "ack": 1, "ready": 1, "settled": 1, "virq": 1, "vfiq": 1, "maint_irq": 1,
            "deact_valid": 1, "deact_pintid": len(dut.deact_pintid), "r_data": 32,
        })(Cat(bus.ack, bus.ready, bus.settled, dut.virq, dut.vfiq, dut.maint_irq,
               dut.deact_valid, dut.deact_pintid, bus.r_data))
        # Each cycle's outputs are read once; the current one's already were.
        while True:
            req = self._request
            if req is None:
                await ctx.delay(1e-12)          # only reached while the engine advances
                continue
            op, word, value, strb = req
            if op in ("read", "write"):         # wait until the bus takes it
                settled = op == "read" and needs_settled(word)
                out = ctx.get(response)
                while not (out.ready and (not settled or out.settled)):
                    await ctx.tick()
                    out = self._sampled(ctx.get(response))
            ctx.set(request, {"rst": op == "reset", "r_stb": op == "read",
                              "w_stb": op == "write", "addr": word, "w_strb": strb,
                              "w_data": value})
            await ctx.tick()
            ctx.set(request, {})
            cycle, r_data, last = 1, None, False      # cycle t+1 (rtl/regbus.py)
            while True:                 # to the ack cycle, then settled and one more
                out = self._sampled(ctx.get(response))
                if cycle == LATENCY:
                    if op in ("read", "write") and not out.ack:
                        raise AssertionError(f"RTL: no ack {LATENCY} cycles after the {op} "
                                             f"of {word << 2:#06x}")
                    r_data = out.r_data
                if last:
                    break
                last = cycle >= LATENCY and out.settled
                await ctx.tick()
                cycle += 1
            self._lines = (out.virq, out.vfiq, out.maint_irq)
            self._response = r_data if op == "read" else None
            self._request = None

    def _sampled(self, out):
        """One cycle's outputs, its deactivation (if any) taken."""
        if out.deact_valid:
            self.forwarded.append(out.deact_pintid)
        return out

    def _transact(self, op, word=0, value=0, strb=0b1111):
        if self._request is not None:
            raise RuntimeError("RTLEngine: re-entered while a transaction is in flight")
        self._request = (op, word, value, strb)
        while self._request is not None:
            self.sim.advance()
        self.transactions += 1
        return self._response

    # -- the golden model's interface ---------------------------------------
    def read(self, frame, offset):
        """A 32-bit read of a register ("GICH"/"GICV", byte offset in the frame)."""
        addr = regs.core_addr(frame, offset)          # validates frame/offset
        if addr % 4:
            return 0        # the bus carries word addresses only: as the model, RAZ
        return self._transact("read", addr >> 2)

    def write(self, frame, offset, value, strb=0xF):
        """A 32-bit write; byte enables other than 0b1111 are ignored by the core."""
        addr = regs.core_addr(frame, offset)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
            raise ValueError(f"write value {value!r} is not a 32-bit value")
        if isinstance(strb, bool) or not isinstance(strb, int) or not 0 <= strb <= 0xF:
            raise ValueError(f"byte enables {strb!r} must be 4 bits")
        if addr % 4:
            return          # not expressible on the word-addressed bus: as the model, WI
        self._transact("write", addr >> 2, value, strb)

    def read_addr(self, addr):
        """A read at a core byte address (map in rtl/regs.py)."""
        frame, offset = regs.frame_of(addr)
        if not 0 <= addr < 2**regs.CORE_ADDR_BITS or addr % 4:
            return 0
        if frame is None:                             # unmapped window: on the bus, RAZ
            return self._transact("read", addr >> 2)
        return self.read(frame, offset)

    def write_addr(self, addr, value, strb=0xF):
        frame, offset = regs.frame_of(addr)
        if not 0 <= addr < 2**regs.CORE_ADDR_BITS or addr % 4:
            return
        if frame is None:                             # unmapped window: on the bus, WI
            if isinstance(value, int) and 0 <= value < 2**32 and isinstance(strb, int) \
                    and 0 <= strb <= 0xF:
                self._transact("write", addr >> 2, value, strb)
            return
        self.write(frame, offset, value, strb)

    def reset(self):
        """Pulse the core's synchronous reset for one cycle (R15)."""
        self._transact("reset")
        self.forwarded.clear()

    @property
    def virq(self):
        return self._lines[0]

    @property
    def vfiq(self):
        return self._lines[1]

    @property
    def maint(self):
        return self._lines[2]

    # -- waveform file ----------------------------------------------------------
    def close(self):
        """Finish the VCD file (if any) after one idle cycle. The engine must
        not be used afterwards."""
        if self._vcd is not None:
            self._transact("idle")
            vcd, self._vcd = self._vcd, None
            vcd.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
