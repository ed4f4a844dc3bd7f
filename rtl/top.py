# Ref: IHI0048B ch. 5; digest section 1 (frames) and 1.4 (access rules)
"""VirtualInterface: the RTL top. Wires the blocks and selects the frame.

Twin of sim/model/top.py. The register bus (rtl/regbus.py) is decoded by frame
here (map in rtl/regs.py); each block decodes the offsets of its own frame.
Timing, as seen from the bus:

    cycle t    r_stb or w_stb with addr/w_data/w_strb; the request is executed
               combinationally from registered state
    edge       every effect lands: registers, LR State, APR, EOICount, r_data, ack
    cycle t+1  ack = 1, r_data (reads), deact_valid/deact_pintid (a forwarded
               deactivation); virq, vfiq and maint_irq already show the new state

virq, vfiq and maint_irq are combinational functions of registered state only
(never of the bus inputs). deact_valid pulses for exactly one cycle per
deactivated HW = 1 LR, at most one per transaction, in the order of the guest's
EOIR/AEOIR/DIR writes, and in the same cycle the LR's new State is visible.
"""
from amaranth.hdl import Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import regs
from .regbus import RegBusSignature
from .lr_bank import LRBank
from .vcpu import VCPU
from .hyp import Hyp
from .maintenance import Maintenance

__all__ = ["VirtualInterface"]


def _frame_select(addr, frame):
    """addr (word address) lies in the frame's window of the core map."""
    first = regs.FRAME_BASE[frame] >> 2
    return (addr >= first) & (addr < first + (regs.FRAME_SIZE[frame] >> 2))


class VirtualInterface(wiring.Component):
    """One CPU's GICv2 virtual interface: GICH, GICV, `num_lrs` list registers."""
    bus:          In(RegBusSignature())
    virq:         Out(1)
    vfiq:         Out(1)
    maint_irq:    Out(1)
    deact_valid:  Out(1)         # 1-cycle pulse: deactivate deact_pintid in the Distributor
    deact_pintid: Out(10)

    def __init__(self, num_lrs=4, iidr=regs.IIDR_DEFAULT):
        try:
            self.num_lrs = regs.check_num_lrs(num_lrs)
            if isinstance(iidr, bool) or not isinstance(iidr, int) or not 0 <= iidr < 2**32:
                raise ValueError(f"iidr must be a 32-bit value (GICV_IIDR), got {iidr!r}")
        except ValueError:
            self._MustUse__silence = True    # never built: no "never used" warning
            raise
        self.iidr = iidr
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.lr_bank = lrs = LRBank(self.num_lrs)
        m.submodules.vcpu = vcpu = VCPU(self.iidr)
        m.submodules.hyp = hyp = Hyp(self.num_lrs)
        m.submodules.maintenance = maint = Maintenance()
        bus = self.bus

        # -- frame select; partial writes are ignored (digest 1.4 rule 1) -------
        gich = _frame_select(bus.addr, "GICH")
        gicv = _frame_select(bus.addr, "GICV")
        w_ok = bus.w_stb & (bus.w_strb == 0b1111)
        m.d.comb += [
            hyp.addr.eq(bus.addr), hyp.w_data.eq(bus.w_data),
            hyp.r_stb.eq(bus.r_stb & gich), hyp.w_stb.eq(w_ok & gich),
            vcpu.addr.eq(bus.addr), vcpu.w_data.eq(bus.w_data),
            vcpu.r_stb.eq(bus.r_stb & gicv), vcpu.w_stb.eq(w_ok & gicv),
        ]
        # one-cycle response, registered read data (unmapped addresses read 0)
        m.d.sync += [
            bus.ack.eq(bus.r_stb | bus.w_stb),
            bus.r_data.eq(Mux(bus.r_stb & gich, hyp.r_data, 0) |
                          Mux(bus.r_stb & gicv, vcpu.r_data, 0)),
        ]

        # -- LR bank ------------------------------------------------------------
        m.d.comb += [
            lrs.w_stb.eq(hyp.lr_w_stb), lrs.w_index.eq(hyp.lr_w_index),
            lrs.w_data.eq(bus.w_data),
            lrs.enable_grp0_next.eq(vcpu.ctlr_next.EnableGrp0),
            lrs.enable_grp1_next.eq(vcpu.ctlr_next.EnableGrp1),
            lrs.vmprimask_next.eq(vcpu.vmprimask_next),
            lrs.gmask0.eq(vcpu.gmask0), lrs.gmask1.eq(vcpu.gmask1),
            lrs.rp.eq(vcpu.rp), lrs.rp_idle.eq(vcpu.rp_idle),
            lrs.match_vid.eq(vcpu.match_vid), lrs.match_src.eq(vcpu.match_src),
            lrs.ack_stb.eq(vcpu.ack_stb), lrs.deact_stb.eq(vcpu.deact_stb),
            vcpu.best.eq(lrs.best), vcpu.match.eq(lrs.match),
        ]
        # -- vCPU <-> hyp -----------------------------------------------------------
        m.d.comb += [
            vcpu.en.eq(hyp.hcr.En),
            vcpu.vmcr_w_stb.eq(hyp.vmcr_w_stb), vcpu.apr_w_stb.eq(hyp.apr_w_stb),
            hyp.eoicount_inc.eq(vcpu.eoicount_inc),
            hyp.lr.eq(lrs.lr), hyp.eisr.eq(lrs.eisr), hyp.elrsr.eq(lrs.elrsr),
            hyp.misr.eq(maint.misr),
            hyp.ctlr.eq(vcpu.ctlr), hyp.vmprimask.eq(vcpu.vmprimask),
            hyp.bpr.eq(vcpu.bpr), hyp.abpr.eq(vcpu.abpr), hyp.apr.eq(vcpu.apr),
        ]
        # -- maintenance ----------------------------------------------------------
        m.d.comb += [
            maint.hcr.eq(hyp.hcr), maint.ctlr.eq(vcpu.ctlr),
            maint.eisr.eq(lrs.eisr), maint.valid.eq(lrs.valid), maint.pending.eq(lrs.pending),
        ]
        # -- outputs ---------------------------------------------------------------
        m.d.comb += [
            self.virq.eq(vcpu.virq), self.vfiq.eq(vcpu.vfiq),
            self.maint_irq.eq(maint.maint_irq),
            self.deact_valid.eq(vcpu.deact_valid), self.deact_pintid.eq(vcpu.deact_pintid),
        ]
        return m
