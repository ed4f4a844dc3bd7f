# Ref: AMBA APB4 (ARM IHI0024C); rtl/regbus.py; access policy in access.py
"""APB4 completer to the core's register bus.

The request goes to the core exactly once per transfer, in its first cycle in
which the core takes it: normally the setup phase (PSEL = 1, PENABLE = 0), so
the core's ack cycle (three cycles later, rtl/regbus.py) is the access phase's
third cycle and the transfer has two wait states. PREADY is high in the ack
cycle, with PRDATA straight from the core's registered r_data. While the
core's ``ready`` is low, and for a read of a derived register
(regbus.SETTLED_READS) while ``settled`` is low (rtl/regbus.py), the access
phase waits with PREADY low. PSLVERR: the accesses access.py rejects when
errors="report" (rejected reads return PRDATA = 0). PPROT is ignored. PADDR is
a byte address; its low CORE_ADDR_BITS bits select the register.

Reset (access.py, "Reset"): the interface's reset (PRESETn); a transfer in
progress gets no PREADY, and the next transfer (PSEL low during the reset) is
answered on its own. A reset of the core alone loses no transfer.

Several CPUs (num_cpus > 1, rtl/cluster.py): the requester's CPU number is
PAUSER (the request user signal APB5 added: AMBA APB specification,
IHI0024 issue D and later; here exactly regbus.cpu_bits wide). It belongs to
the transfer as PADDR does: valid from the setup phase and, APB requiring
it, stable until PREADY; it goes to the core with the request
(``reg.cpu``), in the same cycles as PADDR. The core's ``ready`` and
``settled`` then depend on PADDR and PAUSER in that cycle; PREADY still
comes from registers alone. With num_cpus = 1 there is no PAUSER (the bridge
is as before).
"""
from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .. import regs
from ..regbus import RegBusSignature, cpu_bits
from .access import AccessCheck, check_errors, check_num_cpus, in_flight, needs_settled
from .axi4lite import check_addr_width, check_sideband_width

__all__ = ["APBSignature", "APBBridge"]


class APBSignature(wiring.Signature):
    """APB4, 32-bit data, directions as seen from the requester; user_width > 0:
    PAUSER of that width (APB5)."""

    def __init__(self, addr_width=regs.CORE_ADDR_BITS, user_width=0):
        self.addr_width = check_addr_width(addr_width)
        self.user_width = check_sideband_width("user_width", user_width)
        super().__init__({
            "paddr":  Out(addr_width), "psel": Out(1), "penable": Out(1), "pwrite": Out(1),
            "pwdata": Out(32), "pstrb": Out(4), "pprot": Out(3),
            **({"pauser": Out(user_width)} if user_width else {}),
            "pready": In(1), "prdata": In(32), "pslverr": In(1),
        })


class APBBridge(wiring.Component):
    """APB4 completer (``apb``) driving the core register bus (``reg``);
    num_cpus > 1: the requester's CPU number on PAUSER, on ``reg.cpu``."""

    def __init__(self, num_lrs=4, errors="ignore", addr_width=regs.CORE_ADDR_BITS, num_cpus=1,
                 v3=None):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.v3 = v3                         # GICv3's memory-mapped layout (rtl/sysregs.py)
        self.errors = check_errors(errors)
        self.num_cpus = check_num_cpus(num_cpus)
        cb = cpu_bits(num_cpus)
        super().__init__({
            "apb": In(APBSignature(addr_width, cb)),
            "reg": Out(RegBusSignature(cb)),
        })

    def elaborate(self, platform):
        m = Module()
        apb, reg = self.apb, self.reg
        m.submodules.check = check = AccessCheck(self.num_lrs, self.errors, self.num_cpus, self.v3)

        addr = apb.paddr[:regs.CORE_ADDR_BITS]
        # issued: this transfer's request went to the core (cleared when it ends)
        issued = Signal()
        # the core takes it now: ready, and settled for a derived read (rtl/regbus.py;
        # several CPUs: those of the CPU interface PAUSER and PADDR select, below)
        takes = reg.ready & (reg.settled | apb.pwrite | ~needs_settled(addr[2:], self.num_cpus, self.v3))
        issue = apb.psel & ~issued & takes
        m.d.comb += [
            check.addr.eq(addr), check.write.eq(apb.pwrite), check.strb.eq(apb.pstrb),
            reg.addr.eq(addr[2:]),
            reg.w_data.eq(apb.pwdata),
            reg.w_strb.eq(apb.pstrb),
            reg.w_stb.eq(issue & apb.pwrite & check.forward),
            reg.r_stb.eq(issue & ~apb.pwrite & check.forward),
        ]
        if self.num_cpus > 1:
            m.d.comb += [reg.cpu.eq(apb.pauser), check.cpu.eq(apb.pauser)]
        # PREADY in the core's ack cycle (LATENCY cycles after the issue): the
        # issue's answer passes through as many registers as the core's does.
        ack = in_flight(m, issue, "issued")[-1]
        r_core = in_flight(m, issue & ~apb.pwrite & check.forward, "r_core")[-1]
        error = in_flight(m, issue & check.error, "error")[-1]
        with m.If(issue):
            m.d.sync += issued.eq(1)
        with m.Elif(~apb.psel | (apb.penable & ack)):
            m.d.sync += issued.eq(0)
        m.d.comb += [
            apb.pready.eq(ack),
            apb.prdata.eq(Mux(r_core, reg.r_data, 0)),
            apb.pslverr.eq(error),
        ]
        return m
