# Ref: IHI0048B 5.4 (GICV_* registers) and 3.3/4.4 (CPU interface rules it inherits);
#      arch 2.9-2.18 and rules R1-R11
"""Virtual CPU interface (GICV_*): CTLR, PMR, BPR, ABPR, APR storage, the
acknowledge/EOI/deactivate logic and the VIRQ/VFIQ lines.

Twin of sim/model/vcpu.py. GICH_VMCR and GICH_APR are the hypervisor's names
for storage held here: the hyp block decodes them and strobes vmcr_w_stb /
apr_w_stb (data on w_data). A request (accepted in cycle t) arrives
registered by the top in cycle t+1, frame-selected (`r_stb`, `w_stb`), with
its word address predecoded (`dec`: one-hot 4-bit fields, so that the decode
of any one register is an AND of three bits, rtl/regbus.py `names`); the top holds the bus off while the pipelines below
refresh. r_data is valid in cycle t+2, from the
read pipeline's first stage (registered) and APR0, and 0 for any address not
of this block (the top ORs the blocks' answers and registers them again,
rtl/regbus.py).

Registers computed every cycle from the state (valid once it has been still
long enough, see rtl/top.py):
  gmask0/gmask1   edge 1: the R3 group-priority masks of P[7:3]
  apr_low, rp     edges 1, 2, 3: per APR byte its lowest set bit and whether
                  it has one, then the lowest set bit (one-hot) and APR == 0
                  (rp_idle), then its index (the running priority >> 3, R4)
  rpr             edge 4: GICV_RPR from rp and rp_idle
  response        two register stages after the LR bank's `best`: the R1
                  preemption test, then the IAR/AIAR/HPPIR/AHPPIR values,
                  whether IAR/AIAR would acknowledge, the APR bit an
                  acknowledge sets, and the lines (loaded only on lines_load)

An IAR/AIAR read uses only those registers: the value read and whether it
acknowledges (`ack_stb`) are registered at the edge that ends cycle t+1,
with the APR bit it sets (`ack_bit`, apr_set captured every cycle) and, in
the LR bank, the LR it acknowledges (`ack_sel`, best_sel likewise); State
01 -> 10 and APR |= the bit land at the next. A write is decoded at the edge
that ends cycle t+1 (one-hot `we`) and lands at the next, with w_data
registered by the top. An EOIR/AEOIR/DIR write is then a 3-edge sequence:
edge 1 registers the LR bank's vID and source comparisons (eoi_stb, w_data),
edge 2 drops the priority (APR), edge 4 applies the match result
(deactivate, forward, EOICount), the edges being counted from the one that
ends the cycle after the write's decode.
"""
from amaranth.hdl import Module, Signal, Mux, Cat, Const
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import regs
from .regs import (CTLR_FIELDS, VMCR_FIELDS, BPR_MIN, ABPR_MIN, IDLE_RPR, SPURIOUS,
                   SPURIOUS_GRP1, IIDR_DEFAULT)
from .regbus import AddrDecode, names, first_words
from .lr_bank import Best, Match, below_any

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


class VCPU(wiring.Component):
    response_latency = 1             # edges from a valid best_sel to valid responses (its
                                     # first stage samples `best` together with best_sel)
    eoi_latency = 3                  # edges from an EOIR/AEOIR/DIR to its last state change
    apr_latency = 4                  # edges from an APR change until the response's first
                                     # stage has sampled rp/rp_idle (cf. LRBank.latency)

    def __init__(self, iidr=IIDR_DEFAULT, match_latency=3):
        if isinstance(iidr, bool) or not isinstance(iidr, int) or not 0 <= iidr < 2**32:
            self._MustUse__silence = True        # never built: no "never used" warning
            raise ValueError(f"iidr must be a 32-bit value, got {iidr!r}")
        assert match_latency == self.eoi_latency
        self.iidr = iidr
        super().__init__({
            # the request's address predecoded (registered by the top, cycle t+1)
            "dec":          In(AddrDecode),
            # GICV frame requests, cycle t+1 (registered, frame-selected and
            # accepted by the top); w_data is registered by the top: valid
            # when a write lands, the cycle after w_stb
            "r_stb":        In(1),
            "w_stb":        In(1),
            "w_data":       In(32),
            "r_data":       Out(32),
            # GICH_VMCR / GICH_APR writes decoded by the hyp block
            "vmcr_w_stb":   In(1),
            "apr_w_stb":    In(1),
            "en":           In(1),           # GICH_HCR.En
            # storage
            "ctlr":         Out(CTLR),
            "vmprimask":    Out(5),          # GICV_PMR[7:3] = GICH_VMCR.VMPriMask
            "bpr":          Out(3, init=BPR_MIN),
            "abpr":         Out(3, init=ABPR_MIN),
            "apr":          Out(32),         # GICV_APR0 = GICH_APR
            # computed from the storage (registered)
            "gmask0":       Out(5),
            "gmask1":       Out(5),
            "rp":           Out(5),
            "rp_idle":      Out(1),
            # LR bank
            "best":         In(Best),
            "best_vid":     In(13),          # best's vID, one edge later (as `cand` here)
            "match":        In(Match),
            "ack_stb":      Out(1),          # an IAR/AIAR read acknowledged at the last edge
            "deact_stb":    Out(1),          # deactivate the matched LR
            # to the top and the LR bank: an EOIR/AEOIR/DIR sequence starts (longer
            # hold-off; the vID match takes its value from w_data)
            "eoi_stb":      Out(1),
            # to the hyp block: R11
            "eoicount_inc": Out(1),
            # lines (R6), loaded when the top says the state has settled
            "lines_load":   In(1),
            "virq":         Out(1),
            "vfiq":         Out(1),
            # the Distributor deactivation request (R10), a one-cycle pulse
            "deact_valid":  Out(1),
            "deact_pintid": Out(10),
        })

    def elaborate(self, platform):
        m = Module()
        ctlr, best, match, apr = self.ctlr, self.best, self.match, self.apr

        # -- R3, R4: computed from the storage ----------------------------------
        # the lowest set APR bit in two stages: per byte (its lowest set bit,
        # whether it has one), then across the bytes
        apr_first = Signal(32)           # edge 1: each byte's lowest set bit, one-hot
        apr_any = Signal(4)              # edge 1: the byte has a set bit
        apr_low = Signal(32)             # edge 2: the lowest set APR bit, one-hot
        byte_below = [below_any(m, apr[8 * g:8 * g + 8], f"apr{g}") for g in range(4)]
        m.d.sync += [
            self.gmask0.eq(_gmask(self.bpr, BPR_MIN)),     # Group 0, or both with CBPR
            self.gmask1.eq(Mux(ctlr.CBPR, _gmask(self.bpr, BPR_MIN), _gmask(self.abpr, ABPR_MIN))),
            apr_any.eq(Cat(apr[8 * g:8 * g + 8].any() for g in range(4))),
            apr_first.eq(Cat(apr[i] & ~byte_below[i // 8][i % 8] for i in range(32))),
            apr_low.eq(Cat(apr_first[8 * g:8 * g + 8] & Cat(~below).replicate(8)
                           for g, below in enumerate(below_any(m, apr_any, "apr_any")))),
            self.rp_idle.eq(apr_any == 0),
            self.rp.eq(Cat(Cat(apr_low[i] for i in range(32) if i >> b & 1).any()
                           for b in range(5))),
        ]
        rpr = Signal(8)                  # GICV_RPR (R4), edge 4
        m.d.sync += rpr.eq(Mux(self.rp_idle, IDLE_RPR, Cat(Const(0, 3), self.rp)))

        # -- response, stage 1: the R1 preemption test of the best candidate,
        #    and the conditions stage 2 chooses by (so that each of its bits is
        #    one small function of registers)
        cand = Signal(Best, name="cand")
        preempts = Signal()
        avail = Signal()                 # HCR.En, a group enabled, a candidate
        seen = Signal()                  # HCR.En, a candidate (HPPIR/AHPPIR)
        hidden = Signal()                # Group 1 with AckCtl = 0: IAR/HPPIR report 1022
        fiq = Signal()                   # Group 0 with FIQEn: signalled as vFIQ
        m.d.sync += [
            cand.eq(best),
            preempts.eq(best.valid & (self.rp_idle | (best.gprio < self.rp))),
            avail.eq(self.en & (ctlr.EnableGrp0 | ctlr.EnableGrp1) & best.valid),
            seen.eq(self.en & best.valid),
            hidden.eq(best.grp1 & ~ctlr.AckCtl),
            fiq.eq(~best.grp1 & ctlr.FIQEn),
        ]

        # -- response, stage 2: R6 lines, R6a/R6b acknowledge, R7 highest pending
        iar = Signal(13)
        iar_ok = Signal()
        with m.If(~avail):
            m.d.sync += [iar.eq(SPURIOUS), iar_ok.eq(0)]
        with m.Elif(hidden):
            m.d.sync += [iar.eq(SPURIOUS_GRP1), iar_ok.eq(0)]   # before the RP test (QEMU order)
        with m.Elif(~preempts):
            m.d.sync += [iar.eq(SPURIOUS), iar_ok.eq(0)]
        with m.Else():
            m.d.sync += [iar.eq(self.best_vid), iar_ok.eq(1)]
        aiar = Signal(13)
        aiar_ok = Signal()
        with m.If(avail & cand.grp1 & preempts):       # AIAR: Group 1 only
            m.d.sync += [aiar.eq(self.best_vid), aiar_ok.eq(1)]
        with m.Else():
            m.d.sync += [aiar.eq(SPURIOUS), aiar_ok.eq(0)]
        hppir = Signal(13)
        with m.If(~seen):
            m.d.sync += hppir.eq(SPURIOUS)
        with m.Elif(hidden):
            m.d.sync += hppir.eq(SPURIOUS_GRP1)
        with m.Else():
            m.d.sync += hppir.eq(self.best_vid)
        ahppir = Signal(13)
        m.d.sync += ahppir.eq(Mux(seen & cand.grp1, self.best_vid, SPURIOUS))
        apr_set = Signal(32)             # R4: the APR bit an acknowledge sets
        m.d.sync += apr_set.eq(1 << cand.gprio)
        with m.If(self.lines_load):
            m.d.sync += [
                self.virq.eq(seen & preempts & ~fiq),
                self.vfiq.eq(seen & preempts & fiq),
            ]

        # -- GICV frame reads. Stage 1, registered at the edge ending t+1: the
        #    frame's first 16 words (CTLR .. AHPPIR) by the predecoded address's
        #    low field, and which of them, APR0 or IIDR the whole address
        #    names. r_data, cycle t+2: that value, 0 for
        #    any other address (WO registers EOIR/AEOIR/DIR, reserved offsets,
        #    the GICH frame), so the top can OR the blocks' answers. APR0 comes
        #    straight from its register then: it cannot change before the read
        #    is answered (the bus was ready, so no request's effect is in flight).
        low, hit_low = first_words(m, self.dec, {
            regs.GICV_CTLR:   ctlr.as_value(),
            regs.GICV_PMR:    Cat(Const(0, 3), self.vmprimask),
            regs.GICV_BPR:    self.bpr,
            regs.GICV_IAR:    iar,
            regs.GICV_RPR:    rpr,
            regs.GICV_HPPIR:  hppir,
            regs.GICV_ABPR:   self.abpr,
            regs.GICV_AIAR:   aiar,
            regs.GICV_AHPPIR: ahppir,
        })                               # EOIR, AEOIR and words 11-15 read 0
        hit_apr, hit_iidr = Signal(), Signal()
        m.d.sync += [
            hit_apr.eq(names(self.dec, regs.GICV_APR0.word)),
            hit_iidr.eq(names(self.dec, regs.GICV_IIDR.word)),
        ]
        m.d.comb += self.r_data.eq(Mux(hit_low, low, 0) | Mux(hit_apr, apr, 0)
                                   | Mux(hit_iidr, self.iidr, 0))
        # the read's side effect (R6a): an IAR/AIAR read acknowledges when its
        # registered response says so; registered below
        ack_now = Signal()
        m.d.comb += ack_now.eq(self.r_stb & ((names(self.dec, regs.GICV_IAR.word) & iar_ok)
                                             | (names(self.dec, regs.GICV_AIAR.word) & aiar_ok)))

        # -- GICV frame writes: decoded at the edge ending t+1 (one-hot `we`),
        #    they land at the next with w_data (registered by the top)
        vid = self.w_data[:10]
        eoi_dir = Signal()               # the sequence running is a DIR (else EOIR/AEOIR)
        eoi_step = Signal(3)             # one-hot: edges 2, 3, 4 of the sequence
        words = {"ctlr": [regs.GICV_CTLR], "pmr": [regs.GICV_PMR], "bpr": [regs.GICV_BPR],
                 "abpr": [regs.GICV_ABPR], "eoi": [regs.GICV_EOIR, regs.GICV_AEOIR],
                 "dir": [regs.GICV_DIR], "apr": [regs.GICV_APR0]}   # RO, reserved: ignored
        we = {k: Signal(name=f"we_{k}") for k in words}
        m.d.sync += [we[k].eq(self.w_stb & Cat(names(self.dec, r.word) for r in rs).any())
                     for k, rs in words.items()]
        with m.If(we["ctlr"]):
            m.d.sync += ctlr.eq(self.w_data & regs.GICV_CTLR.wmask)
        with m.If(we["pmr"]):
            m.d.sync += self.vmprimask.eq(self.w_data[3:8])
        with m.If(we["bpr"]):
            m.d.sync += self.bpr.eq(_clamp(self.w_data[:3], BPR_MIN))
        with m.If(we["abpr"]):
            m.d.sync += self.abpr.eq(_clamp(self.w_data[:3], ABPR_MIN))
        vid_special = vid >= 1020        # the written vID is 1020-1023
        special = Signal()               # the sequence's vID is special: ignored (R8, R9)
        with m.If(we["eoi"] | we["dir"]):
            m.d.comb += self.eoi_stb.eq(1)
            m.d.sync += [eoi_dir.eq(we["dir"]), special.eq(vid_special)]
        drop = Signal()                  # an EOIR/AEOIR of vID < 1020: edge 2 drops (R8)
        m.d.sync += drop.eq(we["eoi"] & ~vid_special)
        with m.If(we["apr"]):
            m.d.sync += apr.eq(self.w_data)
        m.d.sync += eoi_step.eq(Cat(self.eoi_stb, eoi_step[:2]))

        # -- GICH_VMCR / GICH_APR: the same storage under the hypervisor's names
        vmcr = VMCR(self.w_data)
        with m.If(self.vmcr_w_stb):
            m.d.sync += [
                ctlr.eq(self.w_data & regs.GICV_CTLR.wmask),
                self.vmprimask.eq(vmcr.VMPriMask),
                self.bpr.eq(_clamp(vmcr.VMBP, BPR_MIN)),
                self.abpr.eq(_clamp(vmcr.VMABP, ABPR_MIN)),
            ]
        with m.If(self.apr_w_stb):
            m.d.sync += apr.eq(self.w_data)

        # -- acknowledge (R6a, R4): APR[gprio] set at the edge after the read
        #    (the bit captured with it); the LR bank moves State likewise
        ack_bit = Signal(32)             # apr_set as it was at the last edge (captured every cycle)
        m.d.sync += [self.ack_stb.eq(ack_now), ack_bit.eq(apr_set)]
        with m.If(self.ack_stb):
            m.d.sync += apr.eq(apr | ack_bit)

        # -- priority drop and deactivation (R8-R11) ----------------------------
        # the drop clears the lowest set bit (apr_low) and notes whether there
        # was one (~rp_idle): both registered from APR, which has not changed
        # since the EOIR/AEOIR was accepted (the bus was ready: nothing in flight)
        dropped = Signal()                             # APR was non-zero at the drop
        with m.If(drop):
            m.d.sync += [apr.eq(apr & ~apr_low), dropped.eq(~self.rp_idle)]   # drop the highest
        # what the match result will do: EOIR/AEOIR with EOImode 0 deactivate, or
        # count an unmatched EOI if a priority was dropped (EOImode 1: drop only);
        # DIR with EOImode 1 deactivates, or counts with no APR condition
        # (with EOImode 0 it is ignored)
        on_match = Signal()
        on_miss = Signal()
        m.d.sync += [
            on_match.eq(~special & Mux(eoi_dir, ctlr.EOImode, ~ctlr.EOImode)),
            on_miss.eq(~special & Mux(eoi_dir, ctlr.EOImode, ~ctlr.EOImode & dropped)),
        ]
        m.d.comb += [
            self.deact_stb.eq(eoi_step[2] & on_match & match.valid),           # R10
            self.eoicount_inc.eq(eoi_step[2] & on_miss & ~match.valid),        # R11
        ]
        m.d.sync += [
            self.deact_valid.eq(self.deact_stb & match.fwd),   # one-cycle pulse
            self.deact_pintid.eq(Mux(self.deact_stb & match.fwd, match.pintid, 0)),
        ]
        return m
