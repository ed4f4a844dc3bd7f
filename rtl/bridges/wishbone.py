# Ref: Wishbone B4 (OpenCores, 2010), sections 3.1 (classic) and 5.1 (pipelined);
#      rtl/regbus.py; access policy in access.py
"""Wishbone B4 slave to the core's register bus, classic or pipelined.

32-bit port, 8-bit granularity: ADR is a word address (byte address bits
[addr_width-1:2]), SEL the byte selects.

- Classic (pipelined=False): a request (CYC & STB) goes to the core in its first
  cycle, ACK or ERR follows three cycles later (the register bus's LATENCY,
  rtl/regbus.py); the request is not issued again while STB is held until
  then. Four cycles per transfer.
- Pipelined (pipelined=True): a request is taken in every cycle with CYC & STB
  and STALL low (STALL is low unless the core holds off), and its ACK or ERR
  comes exactly three cycles later, in order. One transfer per cycle.
ACK/ERR are gated by CYC (an abandoned cycle sees no late response). ERR: the
accesses access.py rejects when errors="report" (rejected reads return 0).
A request waits for the core's ``ready``, and a read of a derived register
(regbus.SETTLED_READS) for ``settled`` too (rtl/regbus.py): classic delays
ACK/ERR, pipelined raises STALL (so STALL depends on ADR and WE).
Reset (access.py, "Reset"): the interface's reset (RST_I); requests in
progress get no ACK/ERR, then or after it (CYC low during the reset). A reset
of the core alone loses no response.

Several CPUs (num_cpus > 1, rtl/cluster.py): the requester's CPU number is
an address tag, TGA (Wishbone B4's user-defined tag of the address phase,
TGA_O at the master, TGA_I here; regbus.cpu_bits wide). It is qualified by
STB as ADR is and goes to the core with the request (``reg.cpu``), in the
cycle the request is taken; classic: held, with ADR, until ACK/ERR. The
core's ``ready``/``settled`` then depend on ADR and TGA in that cycle, so
pipelined STALL does too. With num_cpus = 1 there is no TGA (the bridge is
as before).
"""
from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .. import regs
from ..regbus import RegBusSignature, cpu_bits
from .access import AccessCheck, check_errors, check_num_cpus, in_flight, needs_settled
from .axi4lite import check_addr_width, check_sideband_width

__all__ = ["WishboneSignature", "WishboneBridge"]


class WishboneSignature(wiring.Signature):
    """Wishbone B4, 32-bit data, 8-bit granularity, directions as seen from the
    master. addr_width is the byte address width; ADR has addr_width - 2 bits.
    tga_width > 0: an address tag TGA of that width."""

    def __init__(self, addr_width=regs.CORE_ADDR_BITS, pipelined=False, tga_width=0):
        self.addr_width = check_addr_width(addr_width)
        self.pipelined = bool(pipelined)
        self.tga_width = check_sideband_width("tga_width", tga_width)
        members = {
            "adr": Out(addr_width - 2), **({"tga": Out(tga_width)} if tga_width else {}),
            "dat_w": Out(32), "dat_r": In(32), "sel": Out(4),
            "cyc": Out(1), "stb": Out(1), "we": Out(1), "ack": In(1), "err": In(1),
        }
        if pipelined:
            members["stall"] = In(1)
        super().__init__(members)


class WishboneBridge(wiring.Component):
    """Wishbone B4 slave (``wb``) driving the core register bus (``reg``);
    num_cpus > 1: the requester's CPU number on TGA, on ``reg.cpu``."""

    def __init__(self, num_lrs=4, errors="ignore", pipelined=False,
                 addr_width=regs.CORE_ADDR_BITS, num_cpus=1, v3=None):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.v3 = v3                         # GICv3's memory-mapped layout (rtl/sysregs.py)
        self.errors = check_errors(errors)
        self.pipelined = bool(pipelined)
        self.num_cpus = check_num_cpus(num_cpus)
        cb = cpu_bits(num_cpus)
        super().__init__({
            "wb": In(WishboneSignature(addr_width, pipelined, cb)),
            "reg": Out(RegBusSignature(cb)),
        })

    def elaborate(self, platform):
        m = Module()
        wb, reg = self.wb, self.reg
        m.submodules.check = check = AccessCheck(self.num_lrs, self.errors, self.num_cpus, self.v3)

        word = wb.adr[:regs.CORE_ADDR_BITS - 2]
        start = Signal()
        started = in_flight(m, start, "started")     # cycles t+1 .. t+LATENCY after a start
        busy = started[-1]               # this cycle answers a request (ACK/ERR)
        # the core takes this request now: ready, and settled for a derived read
        # (several CPUs: those of the CPU interface TGA and ADR select, below)
        takes = reg.ready & (reg.settled | wb.we | ~needs_settled(word, self.num_cpus, self.v3))
        # classic: the held request is not started again until its answer is out
        m.d.comb += start.eq(wb.cyc & wb.stb & takes
                             & (Const(1) if self.pipelined else ~Cat(started).any()))
        m.d.comb += [
            check.addr.eq(Cat(Const(0, 2), word)), check.write.eq(wb.we), check.strb.eq(wb.sel),
            reg.addr.eq(word),
            reg.w_data.eq(wb.dat_w),
            reg.w_strb.eq(wb.sel),
            reg.w_stb.eq(start & wb.we & check.forward),
            reg.r_stb.eq(start & ~wb.we & check.forward),
        ]
        if self.num_cpus > 1:
            m.d.comb += [reg.cpu.eq(wb.tga), check.cpu.eq(wb.tga)]
        if self.pipelined:
            m.d.comb += wb.stall.eq(~takes)

        # Response LATENCY cycles after the request (the core's ack cycle).
        r_core = in_flight(m, start & ~wb.we & check.forward, "r_core")[-1]
        error = in_flight(m, start & check.error, "error")[-1]
        m.d.comb += [
            wb.ack.eq(busy & ~error & wb.cyc),
            wb.err.eq(busy & error & wb.cyc),
            wb.dat_r.eq(Mux(r_core, reg.r_data, 0)),
        ]
        return m
