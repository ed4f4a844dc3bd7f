# Ref: IHI0048B ch. 5; arch 1 (frames) and arch 1.4 (access rules)
"""VirtualInterface: the RTL top. Wires the blocks, selects the frame and
holds the register bus off while the core's pipelines catch up.

Twin of sim/model/top.py. The register bus (rtl/regbus.py) is decoded by frame
here (map in rtl/regs.py); each block decodes the offsets of its own frame.

Timing, as seen from the bus (cycle t: a request accepted, i.e. a strobe with
ready = 1):

    edge ending t   the request enters: its strobes, address and data are
                    registered here, the address also predecoded (three
                    one-hot 4-bit fields, rtl/regbus.py), so that no path
                    runs from the bus through more than one LUT
    edge ending t+1 the request is decoded: each block registers its read
                    value (the read pipeline's first stage; an IAR/AIAR read
                    returns the registered response computed beforehand) and,
                    for a write, which register it writes (one-hot enables,
                    the data registered here) or, for an IAR/AIAR read,
                    whether it acknowledges
    edge ending t+2 the request's effects land: the register written, or for
                    an IAR/AIAR read LR State 01 -> 10 and the APR bit
    cycle t+3       ack = 1, r_data (reads): the read pipeline's second stage
    hold-off        ready = 0 in cycles t+1 .. t+H: the effects land, then the
                    candidate pipeline, MISR and the responses refresh from
                    the new state.
                    H = P after any write and after any IAR/AIAR read:
                    P = 2 + max(L + 2, 4) + 1, L = ceil(log2 num_lrs), at
                    least 1 (the LR bank's candidate pipeline, or the vCPU's
                    running priority from APR, whichever is longer, then the
                    responses): P = 7 (1-4 LRs), 8 (5-8), 9 (9-16), 10 (17-32),
                    11 (33-64). H = P + 3 after a full-word EOIR/AEOIR/DIR
                    write: the vID match takes three more edges; its
                    deactivation lands at the edge ending t+5 and deact_valid
                    pulses in cycle t+6.
                    H = 1 after any other read whose word offset's low 4 bits
                    are those of IAR or AIAR (3 or 8): ready falls in cycle t+1
                    on those bits alone, before the request is decoded.
                    H = 0 after any other read: back-to-back reads, one per clock.
    cycle t+H+1     ready = 1: virq, vfiq and maint_irq (flip-flop outputs) have
                    changed, at most once, to the state after the request.

After reset, ready = 0 for P cycles. deact_valid pulses for exactly one cycle
per deactivated HW = 1 LR, at most one per transaction, in the order of the
guest's EOIR/AEOIR/DIR writes, in the cycle after the LR's new State lands.
"""
from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import regs
from .regbus import RegBusSignature, AddrDecode, predecode, names
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
    """One CPU's GICv2 virtual interface: GICH, GICV, `num_lrs` list registers.

    hold_cycles / eoi_hold_cycles: P and P + 3 of the timing table above
    (P: the edge that applies a decoded request, then the LR bank's and the
    vCPU's latencies)."""
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
        # the request enters and is decoded, it lands, then the LR bank's
        # candidate and select or the vCPU's running priority (whichever is
        # later), then the vCPU's responses
        self.hold_cycles = (2 + max(LRBank.latency(num_lrs), VCPU.apr_latency)
                            + VCPU.response_latency)
        self.eoi_hold_cycles = self.hold_cycles + VCPU.eoi_latency
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.lr_bank = lrs = LRBank(self.num_lrs)
        m.submodules.vcpu = vcpu = VCPU(self.iidr, LRBank.match_latency)
        m.submodules.hyp = hyp = Hyp(self.num_lrs)
        m.submodules.maintenance = maint = Maintenance()
        bus = self.bus

        # -- entry (edge ending t): the accepted request, registered, with its
        #    address predecoded for the blocks' decodes (regbus.names)
        ready = Signal()                 # = (hold == 0) and no request in the cycle before
        m.d.comb += [bus.ready.eq(ready), bus.settled.eq(ready)]   # the hold-off covers both
        r_stb, w_stb = Signal(name="req_r"), Signal(name="req_w")
        addr = Signal.like(bus.addr, name="req_addr")
        req_w_data = Signal.like(bus.w_data, name="req_w_data")
        req_w_strb = Signal.like(bus.w_strb, name="req_w_strb")
        dec = Signal(AddrDecode)         # the address predecoded (regbus.names)
        m.d.sync += [
            r_stb.eq(bus.r_stb & ready), w_stb.eq(bus.w_stb & ready),
            addr.eq(bus.addr), dec.eq(predecode(bus.addr)),
            req_w_data.eq(bus.w_data), req_w_strb.eq(bus.w_strb),
        ]
        m.d.comb += [vcpu.dec.eq(dec), hyp.dec.eq(dec)]

        # -- hold-off: ready = 0 while the pipelines refresh (timing table) ----
        hold = Signal(range(self.eoi_hold_cycles + 1), init=self.hold_cycles)
        hold_next = Signal(range(self.eoi_hold_cycles + 1))
        lines_load = Signal()            # = (hold <= 1): the responses are valid at the next edge
        # ready falls in cycle t+1 for any request that may start a hold-off,
        # known from the bus in cycle t by the strobe and, for a read, the word
        # offset's low 4 bits alone (those of IAR and AIAR); decoded in full
        # from the entry registers in cycle t+1 (`start`)
        iar_low = Cat(bus.addr[:4] == reg.word % 16 for reg in (regs.GICV_IAR, regs.GICV_AIAR))
        early = ready & (bus.w_stb | (bus.r_stb & iar_low.any()))
        start = w_stb | (r_stb & (names(dec, regs.GICV_IAR.word) | names(dec, regs.GICV_AIAR.word)))
        # an EOIR/AEOIR/DIR write starts its sequence in the vCPU one cycle
        # after it was decoded: hold-off P + 3 from t
        with m.If(vcpu.eoi_stb):
            m.d.comb += hold_next.eq(self.eoi_hold_cycles - 2)
        with m.Elif(start):
            m.d.comb += hold_next.eq(self.hold_cycles - 1)
        with m.Elif(hold != 0):
            m.d.comb += hold_next.eq(hold - 1)
        # ready = (hold_next == 0) unless early, lines_load = (hold_next <= 1),
        # written so that the requests only gate them (hold-offs are at least
        # 3 cycles long)
        assert self.hold_cycles >= 3
        m.d.sync += [hold.eq(hold_next), ready.eq(~early & ~start & (hold <= 1)),
                     lines_load.eq(~start & (hold <= 2))]

        # -- frame select; partial writes are ignored (arch 1.4 rule 1) -------
        gich = _frame_select(addr, "GICH")
        gicv = _frame_select(addr, "GICV")
        w_ok = w_stb & (req_w_strb == 0b1111)
        # writes: the blocks decode them at the edge ending t + 1 and apply
        # them at the next, with the data registered here (timing table)
        w_data = Signal.like(bus.w_data, name="w_data")
        m.d.sync += w_data.eq(req_w_data)
        m.d.comb += [
            hyp.addr.eq(addr), hyp.w_data.eq(w_data),
            hyp.r_stb.eq(r_stb & gich), hyp.w_stb.eq(w_ok & gich),
            vcpu.w_data.eq(w_data),
            vcpu.r_stb.eq(r_stb & gicv), vcpu.w_stb.eq(w_ok & gicv),
        ]
        # three-cycle response (rtl/regbus.py): the blocks register their read
        # muxes' first stage at the edge ending t+1 and answer 0 for any address
        # that is not theirs, so their answers are ORed and registered here at
        # the next (unmapped addresses read 0); loaded in every cycle, it
        # matters in the ack cycle of a read
        in_flight = Signal()             # a request was accepted two cycles before
        m.d.sync += [
            in_flight.eq(r_stb | w_stb), bus.ack.eq(in_flight),
            bus.r_data.eq(vcpu.r_data | hyp.r_data),
        ]

        # -- LR bank ------------------------------------------------------------
        m.d.comb += [
            lrs.w_sel.eq(hyp.lr_w_sel),
            lrs.w_data.eq(w_data),
            lrs.enable_grp0.eq(vcpu.ctlr.EnableGrp0),
            lrs.enable_grp1.eq(vcpu.ctlr.EnableGrp1),
            lrs.vmprimask.eq(vcpu.vmprimask),
            lrs.gmask0.eq(vcpu.gmask0), lrs.gmask1.eq(vcpu.gmask1),
            lrs.match_stb.eq(vcpu.eoi_stb),
            lrs.ack_stb.eq(vcpu.ack_stb), lrs.deact_stb.eq(vcpu.deact_stb),
            vcpu.best.eq(lrs.best), vcpu.best_vid.eq(lrs.best_vid), vcpu.match.eq(lrs.match),
        ]
        # -- vCPU <-> hyp -----------------------------------------------------------
        m.d.comb += [
            vcpu.en.eq(hyp.hcr.En),
            vcpu.vmcr_w_stb.eq(hyp.vmcr_w_stb), vcpu.apr_w_stb.eq(hyp.apr_w_stb),
            vcpu.lines_load.eq(lines_load),
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
            maint.lines_load.eq(lines_load),
        ]
        # -- outputs ---------------------------------------------------------------
        m.d.comb += [
            self.virq.eq(vcpu.virq), self.vfiq.eq(vcpu.vfiq),
            self.maint_irq.eq(maint.maint_irq),
            self.deact_valid.eq(vcpu.deact_valid), self.deact_pintid.eq(vcpu.deact_pintid),
        ]
        return m
