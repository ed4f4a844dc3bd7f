# Ref: IHI0048B 5.4 (GICV_* registers) and 3.3/4.4 (CPU interface rules it inherits);
#      digest 2.9-2.18 and rules R1-R11
"""Virtual CPU interface (GICV_*): CTLR, PMR, BPR, ABPR, APR storage, the
acknowledge/EOI/deactivate logic and the VIRQ/VFIQ lines.

Twin of sim/model/vcpu.py. GICH_VMCR and GICH_APR are the hypervisor's names
for storage held here: the hyp block decodes them and strobes vmcr_w_stb /
apr_w_stb (data on w_data). Requests arrive already frame-selected by the top;
r_data is combinational (the top registers it). Every side effect of a request
(LR State, APR, EOICount, a forwarded deactivation) lands on the clock edge
that ends the request's cycle.

CTLR, PMR, BPR and ABPR are written from explicit next-state values
(``*_next``): the LR bank registers its candidate bits from them. Two
registers are caches kept for speed, equal at all times to a function of the
others:
  gmask0/gmask1  the R3 group-priority masks of P[7:3] (from BPR, ABPR, CBPR)
  rp/rp_idle     the running priority >> 3 = index of the lowest set APR bit,
                 and APR == 0 (R4)
"""
from amaranth.hdl import Module, Signal, Mux, Cat, Const
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import regs
from .regs import (CTLR_FIELDS, VMCR_FIELDS, BPR_MIN, ABPR_MIN, IDLE_RPR, SPURIOUS,
                   SPURIOUS_GRP1, IIDR_DEFAULT)
from .regbus import ADDR_WIDTH
from .lr_bank import Best, Match

__all__ = ["CTLR", "VMCR", "VCPU"]

CTLR = regs.layout(CTLR_FIELDS)      # GICV_CTLR: .EnableGrp0 .EnableGrp1 .AckCtl .FIQEn .CBPR .EOImode
VMCR = regs.layout(VMCR_FIELDS)      # GICH_VMCR (write decode only: the storage is here)


def _clamp(value, minimum):
    """R3: a binary point below the minimum is stored as the minimum."""
    return Mux(value < minimum, minimum, value)


def _gmask(binary_point, minimum):
    """R3 tables: the group-priority bits of P[7:3] for a stored binary point
    (BPR n keeps P[7:n+1], minimum 2; ABPR n keeps P[7:n], minimum 3)."""
    return (Const(0x1F, 5) << (binary_point - minimum)[:3])[:5]


def _ctz32(m, x, name):
    """Index of the lowest set bit of a 32-bit value (x != 0): isolate it
    (x & -x, a carry chain), then encode the one-hot word (ORs of 16 bits)."""
    lowest = Signal(32, name=f"{name}_lowest")
    m.d.comb += lowest.eq(x & (~x + 1))
    return Cat(*[Cat(lowest[i] for i in range(32) if i >> b & 1).any() for b in range(5)])


class VCPU(wiring.Component):
    def __init__(self, iidr=IIDR_DEFAULT):
        if isinstance(iidr, bool) or not isinstance(iidr, int) or not 0 <= iidr < 2**32:
            self._MustUse__silence = True        # never built: no "never used" warning
            raise ValueError(f"iidr must be a 32-bit value, got {iidr!r}")
        self.iidr = iidr
        super().__init__({
            # GICV frame requests (frame-selected by the top)
            "addr":           In(ADDR_WIDTH),
            "r_stb":          In(1),
            "w_stb":          In(1),
            "w_data":         In(32),
            "r_data":         Out(32),
            # GICH_VMCR / GICH_APR writes decoded by the hyp block
            "vmcr_w_stb":     In(1),
            "apr_w_stb":      In(1),
            "en":             In(1),           # GICH_HCR.En
            # storage, and the values it takes at the next edge
            "ctlr":           Out(CTLR),
            "vmprimask":      Out(5),          # GICV_PMR[7:3] = GICH_VMCR.VMPriMask
            "bpr":            Out(3, init=BPR_MIN),
            "abpr":           Out(3, init=ABPR_MIN),
            "apr":            Out(32),         # GICV_APR0 = GICH_APR
            "ctlr_next":      Out(CTLR),
            "vmprimask_next": Out(5),
            # caches for the LR bank's leaves (R3, R4)
            "gmask0":         Out(5, init=0x1F),
            "gmask1":         Out(5, init=0x1F),
            "rp":             Out(5),
            "rp_idle":        Out(1, init=1),
            # LR bank
            "best":           In(Best),
            "match":          In(Match),
            "match_vid":      Out(10),
            "match_src":      Out(3),
            "ack_stb":        Out(1),          # acknowledge the best candidate
            "deact_stb":      Out(1),          # deactivate the matched LR
            # to the hyp block: R11
            "eoicount_inc":   Out(1),
            # lines (R6) and the Distributor deactivation request (R10), registered
            "virq":           Out(1),
            "vfiq":           Out(1),
            "deact_valid":    Out(1),
            "deact_pintid":   Out(10),
        })

    def elaborate(self, platform):
        m = Module()
        ctlr, best, match, apr = self.ctlr, self.best, self.match, self.apr
        ctlr_next, vmprimask_next = self.ctlr_next, self.vmprimask_next
        bpr_next = Signal(3)
        abpr_next = Signal(3)
        apr_drop = Signal()              # EOIR/AEOIR: clear the lowest set APR bit
        apr_write = Signal()             # GICV_APR0 or GICH_APR written with w_data
        m.d.comb += [ctlr_next.eq(ctlr), vmprimask_next.eq(self.vmprimask),
                     bpr_next.eq(self.bpr), abpr_next.eq(self.abpr)]

        # -- output lines (R6): the best candidate carries its R1 test ---------
        preempts = best.valid & best.preempts
        fiq = ~best.grp1 & ctlr.FIQEn
        m.d.comb += [
            self.virq.eq(self.en & preempts & ~fiq),
            self.vfiq.eq(self.en & preempts & fiq),
        ]

        # -- acknowledge (R6a, R6b) and highest pending (R7) --------------------
        no_cand = ~self.en | ~(ctlr.EnableGrp0 | ctlr.EnableGrp1) | ~best.valid
        grp1_hidden = best.grp1 & ~ctlr.AckCtl        # IAR/HPPIR report 1022
        iar = Signal(13)
        iar_ok = Signal()
        with m.If(no_cand):
            m.d.comb += iar.eq(SPURIOUS)
        with m.Elif(grp1_hidden):
            m.d.comb += iar.eq(SPURIOUS_GRP1)         # before the RP test (QEMU order)
        with m.Elif(~preempts):
            m.d.comb += iar.eq(SPURIOUS)
        with m.Else():
            m.d.comb += [iar.eq(best.vid), iar_ok.eq(1)]
        aiar = Signal(13)
        aiar_ok = Signal()
        with m.If(no_cand | ~best.grp1 | ~preempts):  # AIAR: Group 1 only
            m.d.comb += aiar.eq(SPURIOUS)
        with m.Else():
            m.d.comb += [aiar.eq(best.vid), aiar_ok.eq(1)]
        hppir = Signal(13)
        with m.If(~self.en | ~best.valid):
            m.d.comb += hppir.eq(SPURIOUS)
        with m.Elif(grp1_hidden):
            m.d.comb += hppir.eq(SPURIOUS_GRP1)
        with m.Else():
            m.d.comb += hppir.eq(best.vid)
        ahppir = Signal(13)
        m.d.comb += ahppir.eq(Mux(~self.en | ~best.valid | ~best.grp1, SPURIOUS, best.vid))

        rpr = Signal(8)                                # R4
        m.d.comb += rpr.eq(Mux(self.rp_idle, IDLE_RPR, Cat(Const(0, 3), self.rp)))

        # -- GICV frame reads (side effects: IAR/AIAR only, once per r_stb) ---
        with m.Switch(self.addr):
            with m.Case(regs.GICV_CTLR.word):
                m.d.comb += self.r_data.eq(ctlr)
            with m.Case(regs.GICV_PMR.word):
                m.d.comb += self.r_data.eq(Cat(Const(0, 3), self.vmprimask))
            with m.Case(regs.GICV_BPR.word):
                m.d.comb += self.r_data.eq(self.bpr)
            with m.Case(regs.GICV_ABPR.word):
                m.d.comb += self.r_data.eq(self.abpr)
            with m.Case(regs.GICV_IAR.word):
                m.d.comb += [self.r_data.eq(iar), self.ack_stb.eq(self.r_stb & iar_ok)]
            with m.Case(regs.GICV_AIAR.word):
                m.d.comb += [self.r_data.eq(aiar), self.ack_stb.eq(self.r_stb & aiar_ok)]
            with m.Case(regs.GICV_HPPIR.word):
                m.d.comb += self.r_data.eq(hppir)
            with m.Case(regs.GICV_AHPPIR.word):
                m.d.comb += self.r_data.eq(ahppir)
            with m.Case(regs.GICV_RPR.word):
                m.d.comb += self.r_data.eq(rpr)
            with m.Case(regs.GICV_APR0.word):
                m.d.comb += self.r_data.eq(apr)
            with m.Case(regs.GICV_IIDR.word):
                m.d.comb += self.r_data.eq(self.iidr)
            # WO registers (EOIR, AEOIR, DIR) and reserved offsets read 0

        # -- priority drop and deactivation (R8-R11) ----------------------------
        vid, src = self.w_data[:10], self.w_data[10:13]
        special = vid >= 1020                          # 1020-1023: ignored
        m.d.comb += [self.match_vid.eq(vid), self.match_src.eq(src)]
        m.d.sync += [self.deact_valid.eq(0), self.deact_pintid.eq(0)]

        def deactivate():
            """R10 on the matched LR; HW = 1 forwards pINTID (PPI/SPI only)."""
            m.d.comb += self.deact_stb.eq(1)
            with m.If(match.hw & (match.pintid >= 16) & (match.pintid < 1020)):
                m.d.sync += [self.deact_valid.eq(1), self.deact_pintid.eq(match.pintid)]

        # -- GICV frame writes ------------------------------------------------
        with m.If(self.w_stb):
            with m.Switch(self.addr):
                with m.Case(regs.GICV_CTLR.word):
                    m.d.comb += ctlr_next.eq(self.w_data & regs.GICV_CTLR.wmask)
                with m.Case(regs.GICV_PMR.word):
                    m.d.comb += vmprimask_next.eq(self.w_data[3:8])
                with m.Case(regs.GICV_BPR.word):
                    m.d.comb += bpr_next.eq(_clamp(self.w_data[:3], BPR_MIN))
                with m.Case(regs.GICV_ABPR.word):
                    m.d.comb += abpr_next.eq(_clamp(self.w_data[:3], ABPR_MIN))
                with m.Case(regs.GICV_EOIR.word, regs.GICV_AEOIR.word):
                    with m.If(~special):
                        m.d.comb += apr_drop.eq(1)        # drop the highest active priority
                        with m.If(~ctlr.EOImode):
                            with m.If(match.valid):
                                deactivate()
                            with m.Elif(apr != 0):
                                m.d.comb += self.eoicount_inc.eq(1)
                with m.Case(regs.GICV_DIR.word):
                    with m.If(~special & ctlr.EOImode):       # EOImode 0: ignored
                        with m.If(match.valid):
                            deactivate()
                        with m.Else():
                            m.d.comb += self.eoicount_inc.eq(1)   # no APR condition
                with m.Case(regs.GICV_APR0.word):
                    m.d.comb += apr_write.eq(1)
                # RO registers and reserved offsets: ignored

        # -- GICH_VMCR / GICH_APR: the same storage under the hypervisor's names
        vmcr = VMCR(self.w_data)
        with m.If(self.vmcr_w_stb):
            m.d.comb += [
                ctlr_next.eq(self.w_data & regs.GICV_CTLR.wmask),
                vmprimask_next.eq(vmcr.VMPriMask),
                bpr_next.eq(_clamp(vmcr.VMBP, BPR_MIN)),
                abpr_next.eq(_clamp(vmcr.VMABP, ABPR_MIN)),
            ]
        with m.If(self.apr_w_stb):
            m.d.comb += apr_write.eq(1)

        # -- registers ---------------------------------------------------------
        m.d.sync += [
            ctlr.eq(ctlr_next), self.vmprimask.eq(vmprimask_next),
            self.bpr.eq(bpr_next), self.abpr.eq(abpr_next),
            # R3: Group 0 (or both with CBPR) use BPR, Group 1 uses ABPR
            self.gmask0.eq(_gmask(bpr_next, BPR_MIN)),
            self.gmask1.eq(Mux(ctlr_next.CBPR, _gmask(bpr_next, BPR_MIN),
                               _gmask(abpr_next, ABPR_MIN))),
        ]
        # APR and its running-priority cache (R4), case by case so that no case
        # waits for another's logic
        dropped = Signal(32)
        m.d.comb += dropped.eq(apr & (apr - 1))
        with m.If(self.ack_stb):
            # acknowledge sets APR[gprio]; it preempted, so that is the new lowest bit
            m.d.sync += [apr.eq(apr | (1 << best.gprio)),
                         self.rp.eq(best.gprio), self.rp_idle.eq(0)]
        with m.Elif(apr_drop):
            m.d.sync += [apr.eq(dropped),
                         self.rp.eq(_ctz32(m, dropped, "rp_drop")), self.rp_idle.eq(dropped == 0)]
        with m.Elif(apr_write):
            m.d.sync += [apr.eq(self.w_data),
                         self.rp.eq(_ctz32(m, self.w_data, "rp_write")),
                         self.rp_idle.eq(self.w_data == 0)]
        return m
