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
"""
from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .. import regs
from ..regbus import RegBusSignature, needs_settled
from .access import AccessCheck, check_errors, in_flight
from .axi4lite import check_addr_width

__all__ = ["WishboneSignature", "WishboneBridge"]


class WishboneSignature(wiring.Signature):
    """Wishbone B4, 32-bit data, 8-bit granularity, directions as seen from the
    master. addr_width is the byte address width; ADR has addr_width - 2 bits."""

    def __init__(self, addr_width=regs.CORE_ADDR_BITS, pipelined=False):
        self.addr_width = check_addr_width(addr_width)
        self.pipelined = bool(pipelined)
        members = {
            "adr": Out(addr_width - 2), "dat_w": Out(32), "dat_r": In(32), "sel": Out(4),
            "cyc": Out(1), "stb": Out(1), "we": Out(1), "ack": In(1), "err": In(1),
        }
        if pipelined:
            members["stall"] = In(1)
        super().__init__(members)


class WishboneBridge(wiring.Component):
    """Wishbone B4 slave (``wb``) driving the core register bus (``reg``)."""

    def __init__(self, num_lrs=4, errors="ignore", pipelined=False,
                 addr_width=regs.CORE_ADDR_BITS):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.errors = check_errors(errors)
        self.pipelined = bool(pipelined)
        super().__init__({
            "wb": In(WishboneSignature(addr_width, pipelined)),
            "reg": Out(RegBusSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        wb, reg = self.wb, self.reg
        m.submodules.check = check = AccessCheck(self.num_lrs, self.errors)

        word = wb.adr[:regs.CORE_ADDR_BITS - 2]
        start = Signal()
        started = in_flight(m, start, "started")     # cycles t+1 .. t+LATENCY after a start
        busy = started[-1]               # this cycle answers a request (ACK/ERR)
        # the core takes this request now: ready, and settled for a derived read
        takes = reg.ready & (reg.settled | wb.we | ~needs_settled(word))
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
