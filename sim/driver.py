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

from ..rtl import regs, sysregs
from ..rtl.regbus import ADDR_WIDTH, LATENCY, needs_settled
from ..rtl.cluster import build

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

    def __init__(self, num_lrs=4, vcd_path=None, iidr=regs.IIDR_DEFAULT, num_cpus=1, arch="v2",
                 **v3):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.num_cpus = regs.check_num_cpus(num_cpus)
        # rtl/cluster.py; GICv3 (arch "v3"): on the memory-mapped layout of rtl/sysregs.py
        self.dut = build(num_lrs, num_cpus, iidr, arch, **v3)
        self.v3 = self.dut.v3
        # the CPU interfaces (one: the dut itself); their own bus flags say
        # when each has settled
        self._cores = self.dut.cpus if num_cpus > 1 else [self.dut]
        self.forwarded_cpu = []
        self._bench = ResetBench(self.dut)
        self.sim = Simulator(self._bench)
        self.sim.add_clock(CLOCK_PERIOD, domain="sync")
        self.sim.add_testbench(self._serve, background=True)
        self._request = self._response = None
        self._lines, self._traps = (0, 0, 0), 0
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
        n = self.num_cpus
        cpu = bus.cpu if n > 1 else Cat()
        deact_cpu = dut.deact_cpu if n > 1 else Cat()
        traps = dut.traps if self.v3 is not None else Cat()
        request = data.StructLayout({
            "rst": 1, "r_stb": 1, "w_stb": 1, "addr": ADDR_WIDTH, "w_strb": 4, "w_data": 32,
            "cpu": len(cpu),
        })(Cat(self._bench.sync.rst, bus.r_stb, bus.w_stb, bus.addr, bus.w_strb, bus.w_data,
               cpu))
        # ready/settled: each CPU interface's own (the bus's are the selected one's)
        response = data.StructLayout({
            "ack": 1, "ready": n, "settled": n, "virq": n, "vfiq": n, "maint_irq": n,
            "deact_valid": 1, "deact_pintid": len(dut.deact_pintid), "deact_cpu": len(deact_cpu),
            "r_data": 32, "traps": len(traps),
        })(Cat(bus.ack, Cat(c.bus.ready for c in self._cores),
               Cat(c.bus.settled for c in self._cores), dut.virq, dut.vfiq, dut.maint_irq,
               dut.deact_valid, dut.deact_pintid, deact_cpu, bus.r_data, traps))
        every = (1 << n) - 1
        # Each cycle's outputs are read once; the current one's already were.
        while True:
            req = self._request
            if req is None:
                await ctx.delay(1e-12)          # only reached while the engine advances
                continue
            op, word, value, strb, cpu = req
            target = self._target(word, cpu)
            if op in ("read", "write") and target is not None:   # wait until the bus takes it
                settled = op == "read" and needs_settled(self._core_word(word), v3=self.v3)
                out = ctx.get(response)
                while not (out.ready >> target & 1
                           and (not settled or out.settled >> target & 1)):
                    await ctx.tick()
                    out = self._sampled(ctx.get(response))
            ctx.set(request, {"rst": op == "reset", "r_stb": op == "read",
                              "w_stb": op == "write", "addr": word, "w_strb": strb,
                              "w_data": value, "cpu": cpu})
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
                last = cycle >= LATENCY and out.settled == every
                await ctx.tick()
                cycle += 1
            self._lines = (out.virq, out.vfiq, out.maint_irq)
            self._traps = out.traps
            self._response = r_data if op == "read" else None
            self._request = None

    def _sampled(self, out):
        """One cycle's outputs, its deactivation (if any) taken."""
        if out.deact_valid:
            self.forwarded.append(out.deact_pintid)
            self.forwarded_cpu.append(out.deact_cpu)
        return out

    def _target(self, word, cpu):
        """The CPU interface a request goes to (rtl/cluster.py), or None."""
        alias = regs.alias_of(word << 2) if self.num_cpus > 1 else None
        n = cpu if alias is None else alias[0]
        return n if n < self.num_cpus else None

    def _core_word(self, word):
        """The word as the CPU interface sees it (a processor-specific view's: GICH's)."""
        alias = regs.alias_of(word << 2) if self.num_cpus > 1 else None
        return word if alias is None else alias[1] >> 2

    def _transact(self, op, word=0, value=0, strb=0b1111, cpu=0):
        if self._request is not None:
            raise RuntimeError("RTLEngine: re-entered while a transaction is in flight")
        if not 0 <= cpu < 2**(self.num_cpus - 1).bit_length():
            raise ValueError(f"requesting CPU {cpu!r}: the bus of {self.num_cpus} CPU(s) "
                             "cannot carry it")
        self._request = (op, word, value, strb, cpu)
        while self._request is not None:
            self.sim.advance()
        self.transactions += 1
        return self._response

    # -- the golden model's interface ---------------------------------------
    def _addr(self, frame, offset, gich_cpu):
        """Core byte address of the access, or None if not on the bus (regs.bus_addr)."""
        return regs.bus_addr(frame, offset, gich_cpu, self.num_cpus)

    def read(self, frame, offset, cpu=0, gich_cpu=None):
        """A 32-bit read of a register ("GICH"/"GICV", byte offset in the frame)
        by CPU `cpu`; `gich_cpu`: through that CPU's processor-specific GICH view."""
        addr = self._addr(frame, offset, gich_cpu)
        if addr is None or addr % 4:
            return 0        # the bus carries word addresses only: as the model, RAZ
        return self._transact("read", addr >> 2, cpu=cpu)

    def write(self, frame, offset, value, strb=0xF, cpu=0, gich_cpu=None):
        """A 32-bit write; byte enables other than 0b1111 are ignored by the core."""
        addr = self._addr(frame, offset, gich_cpu)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
            raise ValueError(f"write value {value!r} is not a 32-bit value")
        if isinstance(strb, bool) or not isinstance(strb, int) or not 0 <= strb <= 0xF:
            raise ValueError(f"byte enables {strb!r} must be 4 bits")
        if addr is None or addr % 4:
            return          # not expressible on the word-addressed bus: as the model, WI
        self._transact("write", addr >> 2, value, strb, cpu)

    def read_addr(self, addr, cpu=0):
        """A read at a core byte address (map in rtl/regs.py)."""
        if not 0 <= addr < 2**regs.CORE_ADDR_BITS or addr % 4:
            return 0
        return self._transact("read", addr >> 2, cpu=cpu)

    def write_addr(self, addr, value, strb=0xF, cpu=0):
        if not 0 <= addr < 2**regs.CORE_ADDR_BITS or addr % 4:
            return
        frame, offset = (regs if self.v3 is None else sysregs).frame_of(addr)
        if frame is not None:                         # a frame: its checks (write())
            self.write(frame, offset, value, strb, cpu)
        elif isinstance(value, int) and 0 <= value < 2**32 and isinstance(strb, int) \
                and 0 <= strb <= 0xF:                 # a view or unmapped: on the bus
            self._transact("write", addr >> 2, value, strb, cpu)

    # -- GICv3: whole system registers on the memory-mapped layout (v3 1.4) --
    def read_sysreg(self, name, cpu=0, gich_cpu=None):
        """A 64-bit read, as the model's: an ICH_LR<n>_EL2 as two 32-bit reads."""
        reg = sysregs.lookup(name)
        by = {"cpu": cpu, "gich_cpu": gich_cpu} if self.num_cpus > 1 else {}
        return sum(self.read(reg.frame, offset, **by) << shift for offset, shift in reg.halves)

    def write_sysreg(self, name, value, cpu=0, gich_cpu=None):
        reg = sysregs.lookup(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            raise ValueError(f"write value {value!r} is not a 64-bit value")
        by = {"cpu": cpu, "gich_cpu": gich_cpu} if self.num_cpus > 1 else {}
        for offset, shift in reg.halves:
            self.write(reg.frame, offset, value >> shift & 0xFFFF_FFFF, **by)

    @property
    def traps(self):
        """GICv3: the `traps` output (TC, TALL0, TALL1, TSEI, TDIR) after the
        last access (several CPUs: CPU n's bits at [5n+4:5n] of one integer)."""
        if self.num_cpus > 1:
            return self._traps
        return sysregs.traps_fields(self._traps)

    def reset(self):
        """Pulse the core's synchronous reset for one cycle (R15)."""
        self._transact("reset")
        self.forwarded.clear()
        self.forwarded_cpu.clear()

    def line(self, name, cpu):
        """One CPU's line ("virq", "vfiq", "maint")."""
        return getattr(self, name) >> cpu & 1

    # the lines: masks, bit n for CPU n (one CPU: 0 or 1)
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
