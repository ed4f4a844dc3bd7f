# Ref: AMBA APB4 (ARM IHI0024C); rtl/regbus.py; access policy in access.py
"""APB4 completer to the core's register bus.

Zero wait states: the request goes to the core in the setup phase (PSEL = 1,
PENABLE = 0), exactly once per transfer; the access phase that follows is the
core's ack cycle, so PREADY is tied high and PRDATA comes straight from the
core's registered r_data. PSLVERR: the accesses access.py rejects when
errors="report" (rejected reads return PRDATA = 0). PPROT is ignored.
PADDR is a byte address; its low CORE_ADDR_BITS bits select the register.
"""
from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .. import regs
from ..regbus import RegBusSignature
from .access import AccessCheck, check_errors
from .axi4lite import check_addr_width

__all__ = ["APBSignature", "APBBridge"]


class APBSignature(wiring.Signature):
    """APB4, 32-bit data, directions as seen from the requester."""

    def __init__(self, addr_width=regs.CORE_ADDR_BITS):
        self.addr_width = check_addr_width(addr_width)
        super().__init__({
            "paddr":  Out(addr_width), "psel": Out(1), "penable": Out(1), "pwrite": Out(1),
            "pwdata": Out(32), "pstrb": Out(4), "pprot": Out(3),
            "pready": In(1), "prdata": In(32), "pslverr": In(1),
        })


class APBBridge(wiring.Component):
    """APB4 completer (``apb``) driving the core register bus (``reg``)."""

    def __init__(self, num_lrs=4, errors="ignore", addr_width=regs.CORE_ADDR_BITS):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.errors = check_errors(errors)
        super().__init__({
            "apb": In(APBSignature(addr_width)),
            "reg": Out(RegBusSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        apb, reg = self.apb, self.reg
        m.submodules.check = check = AccessCheck(self.num_lrs, self.errors)

        addr = apb.paddr[:regs.CORE_ADDR_BITS]
        setup = apb.psel & ~apb.penable
        m.d.comb += [
            check.addr.eq(addr), check.write.eq(apb.pwrite), check.strb.eq(apb.pstrb),
            reg.addr.eq(addr[2:]),
            reg.w_data.eq(apb.pwdata),
            reg.w_strb.eq(apb.pstrb),
            reg.w_stb.eq(setup & apb.pwrite & check.forward),
            reg.r_stb.eq(setup & ~apb.pwrite & check.forward),
        ]
        # Access phase = the core's ack cycle (one cycle after setup).
        r_core, error = Signal(), Signal()
        m.d.sync += [
            r_core.eq(setup & ~apb.pwrite & check.forward),
            error.eq(setup & check.error),
        ]
        m.d.comb += [
            apb.pready.eq(1),
            apb.prdata.eq(Mux(r_core, reg.r_data, 0)),
            apb.pslverr.eq(error),
        ]
        return m
