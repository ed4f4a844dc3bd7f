# Ref: IHI0048B 5.4 (GICV_* registers) and 3.3/4.4 (CPU interface rules it inherits);
#      arch 2.9-2.18 and rules R1-R11
"""Virtual CPU interface (GICV_*): CTLR, PMR, BPR, ABPR, APR storage, the
acknowledge/EOI/deactivate logic and the VIRQ/VFIQ lines.

Twin of sim/model/vcpu.py. GICH_VMCR and GICH_APR are the hypervisor's names
for storage held here (`gicv`, GICVSignature: the hyp and maintenance blocks
read it): the hyp block decodes them and strobes control.vmcr_w_stb /
control.apr_w_stb (data on w_data; `control`, ControlSignature, also brings
HCR.En and takes EOICount + 1). A request arrives in its decode cycle
(rtl/timing.py), registered by the top: strobes (`w_stb` only for a
full-word write), data, and its word address predecoded (`dec`,
rtl/regbus.py `names`). Writes, acknowledges and the priority drop land at
the edge ending that cycle.
r_data is valid in the next cycle, 0 for any address not of this block (the
top ORs the blocks' answers and registers them again).

Computed every cycle from the state (valid when the top says settled,
rtl/timing.py); `select` is the interface with the LR bank (SelectSignature):
  select.gmask0/gmask1   the R3 group-priority masks of P[7:3] (candidate stage)
  select.apr_upto        bit i = APR[i:0] != 0, a register in step with APR: R1
                         for the LR bank's leaves, and RPR (R4) one edge later
  responses              from the LR bank's `select.best` (response stage): the
                         IAR/AIAR/HPPIR/AHPPIR values and whether IAR/AIAR
                         acknowledge (select.ack_stb)
An EOIR/AEOIR/DIR: in its decode cycle (eoi_stb) the LR bank registers the
vID matches and an EOIR/AEOIR of vID < 1020 drops the lowest set APR bit;
match_latency cycles later the match result (select.match) deactivates
(select.deact_stb), forwards or counts (control.eoicount_inc) (R8-R11).
"""
import operator
from functools import reduce

from amaranth.hdl import Module, Signal, Mux, Cat, Const
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import regs, sysregs
from .regs import (CTLR_FIELDS, VMCR_FIELDS, BPR_MIN, ABPR_MIN, IDLE_RPR, SPURIOUS,
                   SPURIOUS_GRP1, IIDR_DEFAULT)
from .regbus import AddrDecode, names, first_words
from .lr_bank import SelectSignature, prefix_or

__all__ = ["CTLR", "VMCR", "GICVSignature", "ControlSignature", "VCPU"]

CTLR = regs.layout(CTLR_FIELDS)      # GICV_CTLR: .EnableGrp0 .EnableGrp1 .AckCtl .FIQEn .CBPR .EOImode
VMCR = regs.layout(VMCR_FIELDS)      # GICH_VMCR (write decode only: the storage is here)


class GICVSignature(wiring.Signature):
    """The vCPU's GICV register storage, vCPU -> hyp (what GICH_VMCR and
    GICH_APR read) and maintenance (MISR.VGrp0E/0D/1E/1D from CTLR): ctlr
    (GICV_CTLR), vmprimask (GICV_PMR[7:3] = GICH_VMCR.VMPriMask), bpr, abpr
    (as stored: clamped, R3), apr (GICV_APR0 = GICH_APR). Registers of the
    vCPU; members as it sees them (it has it Out, every reader In). When they
    land: rtl/timing.py. GICv3 (v3 2.3, 2.7): the same storage as
    ICH_VMCR_EL2's fields (ctlr VENG0/1, VFIQEn (reads 1), VCBPR, VEOIM;
    vmprimask = VPMR's pri_bits implemented bits; bpr = VBPR0, abpr = VBPR1),
    apr = the Group 1 bank ICH_AP1R<NAPR-1..0>_EL2 as one vector, ap0 the
    Group 0 bank."""

    def __init__(self, v3=None):
        self.v3 = v3
        if v3 is None:
            super().__init__({
                "ctlr":      Out(CTLR),
                "vmprimask": Out(5),
                "bpr":       Out(3, init=BPR_MIN),
                "abpr":      Out(3, init=ABPR_MIN),
                "apr":       Out(32),
            })
            return
        super().__init__({
            # V18: VMCR reads 0x004C0008; legacy builds start with the GICv2
            # frame live and GICV_CTLR = 0 (v3 10)
            "ctlr":      Out(CTLR, init={} if v3.legacy else {"FIQEn": 1}),
            "vmprimask": Out(v3.pri_bits),
            "bpr":       Out(3, init=v3.minbpr0),
            "abpr":      Out(3, init=v3.minbpr1),
            "apr":       Out(32 * v3.napr),
            "ap0":       Out(32 * v3.napr),
            # legacy builds (v3 10): the GICv2 frame is live (the VM's SRE = 0)
            **({"legacy_live": Out(1)} if v3.legacy else {}),
        })

    def __eq__(self, other):
        return isinstance(other, GICVSignature) and other.v3 == self.v3

    def __hash__(self):
        return hash((GICVSignature, self.v3))


class ControlSignature(wiring.Signature):
    """hyp <-> vCPU controls. From the hyp block: `en` (GICH_HCR.En) and the
    write strobes of the vCPU storage under the hypervisor's names,
    vmcr_w_stb (GICH_VMCR) and apr_w_stb (GICH_APR), with the data on the
    request's w_data; from the vCPU: eoicount_inc (GICH_HCR.EOICount + 1,
    R11). Members as the hyp block sees them (it has it Out, the vCPU In;
    declared here, as hyp.py imports this module). When: rtl/timing.py.
    GICv3: ap_w_stb, one strobe per ICH_AP<g>R<n>_EL2 (bit g * NAPR + n),
    instead of apr_w_stb."""

    def __init__(self, v3=None):
        self.v3 = v3
        super().__init__({
            "en":           Out(1),
            "vmcr_w_stb":   Out(1),
            **({"apr_w_stb": Out(1)} if v3 is None else {"ap_w_stb": Out(2 * v3.napr)}),
            "eoicount_inc": In(1),
        })

    def __eq__(self, other):
        return isinstance(other, ControlSignature) and other.v3 == self.v3

    def __hash__(self):
        return hash((ControlSignature, self.v3))


def _clamp(value, minimum):
    """R3: a binary point below the minimum is stored as the minimum."""
    return Mux(value < minimum, minimum, value)


def _gmask(binary_point, minimum):
    """R3 tables: the group-priority bits of P[7:3] for a stored binary point
    (BPR n keeps P[7:n+1], minimum 2; ABPR n keeps P[7:n], minimum 3)."""
    return (Const(0x1F, 5) << (binary_point - minimum)[:3])[:5]


class VCPU(wiring.Component):
    def __init__(self, iidr=IIDR_DEFAULT, match_latency=1, v3=None):
        if isinstance(iidr, bool) or not isinstance(iidr, int) or not 0 <= iidr < 2**32:
            self._MustUse__silence = True        # never built: no "never used" warning
            raise ValueError(f"iidr must be a 32-bit value, got {iidr!r}")
        self.iidr = iidr
        self.match_latency = match_latency
        self.v3 = v3
        super().__init__({
            # the request, decode cycle: address predecoded, strobes (w_stb:
            # a full-word write), data
            "dec":          In(AddrDecode),
            "r_stb":        In(1),
            "iar_stb":      In(1),           # r_stb of GICV_IAR / GICV_AIAR (the top's entry decode;
                                             # GICv3: ICV_IAR0_EL1 / ICV_IAR1_EL1)
            "aiar_stb":     In(1),
            "w_stb":        In(1),
            "w_data":       In(32),
            "w_upto":       In(32),          # bit i: w_data[i:0] != 0 (APR's prefix ORs of a write)
            "r_data":       Out(32),
            # from the hyp block: HCR.En, GICH_VMCR / GICH_APR write strobes;
            # to it: EOICount + 1 (R11)
            "control":      In(ControlSignature(v3)),
            # the storage (registers), to the hyp and maintenance blocks
            "gicv":         Out(GICVSignature(v3)),
            # with the LR bank: to it the R5 filter, the R3 masks and APR's
            # prefix ORs (registered), the acknowledge and deactivate strobes;
            # from it `best` and `match`
            "select":       In(SelectSignature(v3)),
            "eoi_stb":      Out(1),          # an EOIR/AEOIR/DIR is decoded (top: ready, settled)
            # lines (R6), loaded when the top says settled
            "lines_load":   In(1),
            "virq":         Out(1),
            "vfiq":         Out(1),
            # the Distributor deactivation request (R10), a one-cycle pulse
            "deact_valid":  Out(1),
            "deact_pintid": Out(10 if v3 is None else 13),
        })

    def elaborate(self, platform):
        if self.v3 is not None:
            return self._elaborate3()
        m = Module()
        resp = self._responses(m)
        self._acknowledge(m, resp)
        drop = self._eoi(m)
        self._storage(m, drop, resp)
        rpr = Signal(8)                  # GICV_RPR (R4): the lowest set APR bit << 3, 0xFF with none
        upto = self.select.apr_upto
        lowest = Cat(upto[0], *(upto[i] & ~upto[i - 1] for i in range(1, 32)))   # one-hot
        m.d.sync += rpr.eq(Mux(upto[31], Cat(Const(0, 3), Cat(
            Cat(lowest[i] for i in range(32) if i >> b & 1).any() for b in range(5))), IDLE_RPR))
        self._reads(m, resp, rpr)
        return m

    def _storage(self, m, drop, resp):
        """The registers: GICV frame writes, GICH_VMCR/GICH_APR (the same
        storage under the hypervisor's names), the acknowledge's APR bit
        (R4), the EOI's priority drop (R8: `drop`, clear the lowest set bit).
        APR's prefix ORs (`select.apr_upto`, bit i = APR[i:0] != 0) land with
        APR whatever changes it; the R3 masks one edge behind their sources.
        The LR bank's R5 filter is CTLR's enables and PMR[7:3] as stored."""
        gicv, sel = self.gicv, self.select
        ctlr, w, apr = gicv.ctlr, self.w_data, gicv.apr
        def we(*rs):
            return self.w_stb & Cat(names(self.dec, r.word) for r in rs).any()
        with m.If(we(regs.GICV_CTLR)):
            m.d.sync += ctlr.eq(w & regs.GICV_CTLR.wmask)
        with m.If(we(regs.GICV_PMR)):
            m.d.sync += gicv.vmprimask.eq(w[3:8])
        with m.If(we(regs.GICV_BPR)):
            m.d.sync += gicv.bpr.eq(_clamp(w[:3], BPR_MIN))
        with m.If(we(regs.GICV_ABPR)):
            m.d.sync += gicv.abpr.eq(_clamp(w[:3], ABPR_MIN))
        vmcr = VMCR(w)
        with m.If(self.control.vmcr_w_stb):
            m.d.sync += [
                ctlr.eq(w & regs.GICV_CTLR.wmask),
                gicv.vmprimask.eq(vmcr.VMPriMask),
                gicv.bpr.eq(_clamp(vmcr.VMBP, BPR_MIN)),
                gicv.abpr.eq(_clamp(vmcr.VMABP, ABPR_MIN)),
            ]
        m.d.comb += [
            sel.enable_grp0.eq(ctlr.EnableGrp0),
            sel.enable_grp1.eq(ctlr.EnableGrp1),
            sel.vmprimask.eq(gicv.vmprimask),
        ]
        # APR's prefix ORs land with APR (the acknowledge's and the drop's
        # precomputed): the lowest set APR bit is where apr_upto turns to 1
        upto = sel.apr_upto
        apr_dropped, upto_dropped = Signal(32), Signal(32)
        below = Cat(Const(0, 1), upto[:31])              # bit i: APR[i-1:0] != 0
        m.d.sync += [apr_dropped.eq(apr & below),        # the lowest set bit cleared (R8)
                     upto_dropped.eq(prefix_or(m, apr & below, "upto_dropped"))]
        with m.If(we(regs.GICV_APR0) | self.control.apr_w_stb):
            m.d.sync += [apr.eq(w), upto.eq(self.w_upto)]
        with m.Elif(sel.ack_stb):
            m.d.sync += [apr.eq(resp["ack_apr"]), upto.eq(resp["ack_upto"])]
        with m.Elif(drop):
            m.d.sync += [apr.eq(apr_dropped), upto.eq(upto_dropped)]
        # RO and reserved offsets: ignored; EOIR/AEOIR/DIR: _eoi
        m.d.sync += [
            sel.gmask0.eq(_gmask(gicv.bpr, BPR_MIN)),     # Group 0, or both with CBPR
            sel.gmask1.eq(Mux(ctlr.CBPR, _gmask(gicv.bpr, BPR_MIN), _gmask(gicv.abpr, ABPR_MIN))),
        ]

    def _responses(self, m):
        """Response stage: R6a/R6b acknowledge, R7 highest pending, from the
        registered `select.best` (its `pre`: R1)."""
        ctlr, best = self.gicv.ctlr, self.select.best
        resp, seen = self._gicv_answers(m, best.valid, best.vid)
        # what an acknowledge of `best` makes of APR and its prefix ORs (R4)
        resp["ack_apr"], resp["ack_upto"] = Signal(32, name="ack_apr"), Signal(32, name="ack_upto")
        m.d.sync += [resp["ack_apr"].eq(self.gicv.apr | (1 << best.gprio)),
                     resp["ack_upto"].eq(self.select.apr_upto
                                         | Cat(best.gprio <= i for i in range(32)))]
        # R6 lines: loaded only when settled; an acknowledge clears them
        fiq = ~best.grp1 & ctlr.FIQEn                   # Group 0 with FIQEn: signalled as vFIQ
        with m.If(self.select.ack_stb):
            m.d.sync += [self.virq.eq(0), self.vfiq.eq(0)]
        with m.Elif(self.lines_load):
            m.d.sync += [
                self.virq.eq(seen & best.pre & ~fiq),
                self.vfiq.eq(seen & best.pre & fiq),
            ]
        return resp

    def _gicv_answers(self, m, valid, vid, prefix=""):
        """R6a/R6b/R7 from the registered `select.best` (its `pre`: R1; `valid`:
        a candidate below the mask): GICV_IAR, AIAR, HPPIR, AHPPIR (13-bit
        `vid`) and whether IAR/AIAR acknowledge, registered; and `seen` (En
        and a candidate). GICv2's answers, and the legacy frame's on GICv3
        state (v3 10)."""
        ctlr, best = self.gicv.ctlr, self.select.best
        avail = self.control.en & (ctlr.EnableGrp0 | ctlr.EnableGrp1) & valid
        seen = self.control.en & valid
        hidden = best.grp1 & ~ctlr.AckCtl           # Group 1 with AckCtl = 0: IAR/HPPIR report 1022
        resp = {k: Signal(13, name=prefix + k) for k in ("iar", "aiar", "hppir", "ahppir")}
        resp.update({k: Signal(name=prefix + k) for k in ("iar_ok", "aiar_ok")})
        with m.If(~avail):
            m.d.sync += [resp["iar"].eq(SPURIOUS), resp["iar_ok"].eq(0)]
        with m.Elif(hidden):
            m.d.sync += [resp["iar"].eq(SPURIOUS_GRP1), resp["iar_ok"].eq(0)]   # before the RP test (QEMU order)
        with m.Elif(~best.pre):
            m.d.sync += [resp["iar"].eq(SPURIOUS), resp["iar_ok"].eq(0)]
        with m.Else():
            m.d.sync += [resp["iar"].eq(vid), resp["iar_ok"].eq(1)]
        with m.If(avail & best.grp1 & best.pre):       # AIAR: Group 1 only
            m.d.sync += [resp["aiar"].eq(vid), resp["aiar_ok"].eq(1)]
        with m.Else():
            m.d.sync += [resp["aiar"].eq(SPURIOUS), resp["aiar_ok"].eq(0)]
        with m.If(~seen):
            m.d.sync += resp["hppir"].eq(SPURIOUS)
        with m.Elif(hidden):
            m.d.sync += resp["hppir"].eq(SPURIOUS_GRP1)
        with m.Else():
            m.d.sync += resp["hppir"].eq(vid)
        m.d.sync += resp["ahppir"].eq(Mux(seen & best.grp1, vid, SPURIOUS))
        return resp, seen

    def _reads(self, m, resp, rpr):
        """GICV frame reads. First stage, registered at the decode edge: the
        frame's first 16 words (CTLR .. AHPPIR) by the predecoded address's
        low field, and which of them, APR0 or IIDR the whole address names.
        r_data, next cycle: that value, 0 for any other address (WO
        registers, reserved offsets, the GICH frame), so the top can OR the
        blocks' answers. APR0 comes straight from its register then: a
        request accepted after this one lands only at that cycle's end."""
        low, hit_low = first_words(m, self.dec, {
            regs.GICV_CTLR:   self.gicv.ctlr.as_value(),
            regs.GICV_PMR:    Cat(Const(0, 3), self.gicv.vmprimask),
            regs.GICV_BPR:    self.gicv.bpr,
            regs.GICV_IAR:    resp["iar"],
            regs.GICV_RPR:    rpr,
            regs.GICV_HPPIR:  resp["hppir"],
            regs.GICV_ABPR:   self.gicv.abpr,
            regs.GICV_AIAR:   resp["aiar"],
            regs.GICV_AHPPIR: resp["ahppir"],
        })                               # EOIR, AEOIR and words 11-15 read 0
        hit_apr, hit_iidr = Signal(), Signal()
        m.d.sync += [
            hit_apr.eq(names(self.dec, regs.GICV_APR0.word)),
            hit_iidr.eq(names(self.dec, regs.GICV_IIDR.word)),
        ]
        m.d.comb += self.r_data.eq(Mux(hit_low, low, 0) | Mux(hit_apr, self.gicv.apr, 0)
                                   | Mux(hit_iidr, self.iidr, 0))

    def _acknowledge(self, m, resp):
        """R6a/R6b, R4: an IAR/AIAR read whose response acknowledges sets
        APR[gprio] as it lands; the LR bank moves State (select.ack_stb)."""
        m.d.comb += self.select.ack_stb.eq((self.iar_stb & resp["iar_ok"])
                                           | (self.aiar_stb & resp["aiar_ok"]))

    def _eoi(self, m):
        """R8-R11. Decode edge: an EOIR/AEOIR of vID < 1020 drops the lowest
        set APR bit; what the match result will do is registered. Then
        match_latency cycles later: deactivate, forward, or count."""
        apr, vid = self.gicv.apr, self.w_data[:10]
        eoir = self.w_stb & Cat(names(self.dec, r.word)
                                for r in (regs.GICV_EOIR, regs.GICV_AEOIR)).any()
        m.d.comb += self.eoi_stb.eq(eoir | (self.w_stb & names(self.dec, regs.GICV_DIR.word)))
        special = vid >= 1020                            # ignored (R8, R9)
        # EOIR/AEOIR with EOImode 0 deactivate, or count an unmatched EOI if a
        # priority was dropped (EOImode 1: drop only); DIR with EOImode 1
        # deactivates, or counts with no APR condition (EOImode 0: ignored)
        on_match, on_miss = Signal(), Signal()
        mode = self.gicv.ctlr.EOImode
        with m.If(self.eoi_stb):
            m.d.sync += [
                on_match.eq(~special & Mux(eoir, ~mode, mode)),
                on_miss.eq(~special & Mux(eoir, ~mode & (apr != 0), mode)),
            ]
        step = Signal(self.match_latency)                # cycle k+1 after the decode: step[k]
        m.d.sync += step.eq(Cat(self.eoi_stb, step[:-1]))
        done = step[-1]
        deact, match = self.select.deact_stb, self.select.match
        m.d.comb += [
            deact.eq(done & on_match & match.valid),                            # R10
            self.control.eoicount_inc.eq(done & on_miss & ~match.valid),        # R11
        ]
        m.d.sync += [
            self.deact_valid.eq(deact & match.fwd),                             # one-cycle pulse
            self.deact_pintid.eq(Mux(deact & match.fwd, match.pintid, 0)),
        ]
        drop = Signal()                                  # the cycle after the decode
        m.d.sync += drop.eq(eoir & ~special)             # drop the highest active priority
        return drop

    # -- GICv3: ICV_*_EL1 (v3 3, V2-V11, V16) --------------------------------
    # The same pipeline as GICv2's (rtl/timing.py): storage landing at the
    # decode edge, responses from the registered candidate, the EOI's drop one
    # edge later and its match M edges later. What differs: two AP banks
    # (apr_upto over their OR), IAR0/IAR1 and HPPIR0/HPPIR1 per group, PMR
    # tested on the candidate (pmr_ok, V5), the EOIR's checks (V8).
    def _elaborate3(self):
        m = Module()
        v3, gicv, sel = self.v3, self.gicv, self.select
        # legacy builds (v3 10): the VM's ICC_SRE_EL1.SRE, 0 out of reset: the
        # GICv2 frame is live, with the GICv2 design's rules (L1-L6)
        self._live = None
        if v3.legacy:
            sre = Signal(name="sre")
            with m.If(self.w_stb & names(self.dec, sysregs.lookup("ICC_SRE_EL1").addr >> 2)):
                m.d.sync += sre.eq(self.w_data[0])
            self._live, self._sre = ~sre, sre
            m.d.comb += [gicv.legacy_live.eq(~sre), sel.legacy_live.eq(~sre)]
        upto = sel.apr_upto                          # bit i: (ap0 | apr)[i:0] != 0
        width = len(upto)
        # the lowest set bit of both banks, one-hot and as an index (RPR, V3;
        # the drop, V8)
        lowest = Signal(width)
        m.d.comb += lowest.eq(Cat(upto[0], *(upto[i] & ~upto[i - 1] for i in range(1, width))))
        lowest_idx = Signal(v3.pre_bits)
        m.d.comb += lowest_idx.eq(Cat(Cat(lowest[i] for i in range(width) if i >> b & 1).any()
                                      for b in range(v3.pre_bits)))
        rpr = Signal(8)                              # ICV_RPR_EL1: idle 0xFF
        m.d.sync += rpr.eq(Mux(upto[-1], lowest_idx << v3.shift, IDLE_RPR))
        resp = self._responses3(m)
        # iar_stb/aiar_stb: ICV_IAR0/IAR1, or (legacy frame live) GICV_IAR/AIAR
        m.d.comb += sel.ack_stb.eq((self.iar_stb & resp["iar0_ok"])
                                   | (self.aiar_stb & resp["iar1_ok"]))
        drop = self._eoi3(m, lowest_idx)
        self._storage3(m, drop, resp, lowest)
        self._reads3(m, resp, rpr)
        return m

    def _we3(self, *names_):
        """A full-word write of one of the ICV_* registers `names_` (RAZ/WI
        while the legacy frame is live)."""
        hit = self.w_stb & Cat(names(self.dec, sysregs.lookup(n).addr >> 2) for n in names_).any()
        return hit & ~self._live if self._live is not None else hit

    def _we2(self, *gicv_regs):
        """Legacy builds: a write of GICv2 GICV_* registers while their frame is live."""
        return self.w_stb & self._live & Cat(names(self.dec, r.word) for r in gicv_regs).any()

    def _storage3(self, m, drop, resp, lowest):
        """ICV_* writes, ICH_VMCR_EL2 / ICH_AP<g>R<n>_EL2 through `control`,
        the acknowledge's AP bit (V6), the EOIR's drop (V8). apr_upto lands
        with the banks for an acknowledge or a drop; after a write of an AP
        register it is refreshed one edge later (the top counts such a write
        among the mask sources' for `settled`)."""
        v3, gicv, sel, ctlr, w = self.v3, self.gicv, self.select, self.gicv.ctlr, self.w_data
        we = self._we3
        with m.If(we("ICV_CTLR_EL1")):
            m.d.sync += [ctlr.CBPR.eq(w[0]), ctlr.EOImode.eq(w[1])]
        with m.If(we("ICV_IGRPEN0_EL1")):
            m.d.sync += ctlr.EnableGrp0.eq(w[0])
        with m.If(we("ICV_IGRPEN1_EL1")):
            m.d.sync += ctlr.EnableGrp1.eq(w[0])
        with m.If(we("ICV_PMR_EL1")):
            m.d.sync += gicv.vmprimask.eq(w[8 - v3.pri_bits:8])
        with m.If(we("ICV_BPR0_EL1")):
            m.d.sync += gicv.bpr.eq(_clamp(w[:3], v3.minbpr0))
        with m.If(we("ICV_BPR1_EL1") & ~ctlr.CBPR):          # with VCBPR = 1: ignored
            m.d.sync += gicv.abpr.eq(_clamp(w[:3], v3.minbpr1))
        with m.If(self.control.vmcr_w_stb):                  # ICH_VMCR_EL2 (v3 2.3)
            m.d.sync += [
                ctlr.eq((w & 0x213) | 0x8),                  # VFIQEn RES1, VAckCtl RES0
                gicv.vmprimask.eq(w[32 - v3.pri_bits:32]),
                gicv.bpr.eq(_clamp(w[21:24], v3.minbpr0)),
                gicv.abpr.eq(_clamp(w[18:21], v3.minbpr1)),
            ]
            if v3.legacy:                                    # v3 10: VAckCtl, VFIQEn real
                with m.If(self._live):
                    m.d.sync += ctlr.eq(w & 0x21F)
        if v3.legacy:                                        # the GICv2 frame (R-rules)
            with m.If(self._we2(regs.GICV_CTLR)):
                m.d.sync += ctlr.eq(w & regs.GICV_CTLR.wmask)
            with m.If(self._we2(regs.GICV_PMR)):
                m.d.sync += gicv.vmprimask.eq(w[3:8])
            with m.If(self._we2(regs.GICV_BPR)):
                m.d.sync += gicv.bpr.eq(_clamp(w[:3], BPR_MIN))
            with m.If(self._we2(regs.GICV_ABPR)):
                m.d.sync += gicv.abpr.eq(_clamp(w[:3], ABPR_MIN))
        m.d.comb += [
            sel.enable_grp0.eq(ctlr.EnableGrp0),
            sel.enable_grp1.eq(ctlr.EnableGrp1),
            sel.vmprimask.eq(gicv.vmprimask),
        ]
        # the banks: an AP write (ICV_AP<g>R<n>_EL1 or, through control,
        # ICH_AP<g>R<n>_EL2) stores 32 bits of a bank as written (v3 open point 18)
        banks = (gicv.ap0, gicv.apr)
        ap_written = Signal()
        writes = []
        for g in range(2):
            for n in range(v3.napr):
                stb = we(f"ICV_AP{g}R{n}_EL1") | self.control.ap_w_stb[g * v3.napr + n]
                writes.append(stb)
                with m.If(stb):
                    m.d.sync += banks[g][32 * n:32 * n + 32].eq(w)
        if v3.legacy:                        # GICV_APR0 is ICH_AP1R0_EL2 (L1); an SRE
            stb = self._we2(regs.GICV_APR0)  # write changes what apr_upto covers
            writes += [stb, self.w_stb & names(self.dec, sysregs.lookup("ICC_SRE_EL1").addr >> 2)]
            with m.If(stb):
                m.d.sync += gicv.apr[:32].eq(w)
        m.d.comb += ap_written.eq(Cat(writes).any())
        # the drop (V8): the lowest set bit of both banks, from the Group 0 bank
        # if it is set there (precomputed every cycle, like GICv2's)
        ap0_dropped, ap1_dropped, upto_dropped = (Signal(len(gicv.ap0), name=n) for n in
                                                  ("ap0_dropped", "ap1_dropped", "upto_dropped"))
        # per bit, no reduction: the lowest bit leaves the Group 0 bank if it is
        # there, else the Group 1 bank (a tie: Group 0 first, v3 open point 2)
        if self._live is None:
            ap0 = gicv.ap0
            after0, after1 = gicv.ap0 & ~lowest, gicv.apr & ~(lowest & ~gicv.ap0)
            seen0 = after0
        else:                                # the legacy frame: ICH_AP1R alone (L1), and
            ap0 = Mux(self._live, 0, gicv.ap0)   # apr_upto leaves AP0 out
            after0, after1 = gicv.ap0 & ~(lowest & ap0), gicv.apr & ~(lowest & ~ap0)
            seen0 = Mux(self._live, 0, after0)
        m.d.sync += [ap0_dropped.eq(after0), ap1_dropped.eq(after1),
                     upto_dropped.eq(prefix_or(m, seen0 | after1, "upto_dropped"))]
        # An AP write, an acknowledge and a drop land at different edges, and
        # after an AP write no request lands before apr_upto is refreshed from
        # the banks (ready is low for a cycle: rtl/timing.py)
        refresh = Signal()                   # the edge after an AP write
        m.d.sync += refresh.eq(ap_written)
        with m.If(sel.ack_stb & ~resp["ack_special"]):       # V6; V16: no AP bit
            with m.If(resp["ack_grp1"]):
                m.d.sync += gicv.apr.eq(resp["ack_bank"])
            with m.Else():
                m.d.sync += gicv.ap0.eq(resp["ack_bank"])
            m.d.sync += sel.apr_upto.eq(resp["ack_upto"])
        with m.Elif(drop):
            m.d.sync += [gicv.ap0.eq(ap0_dropped), gicv.apr.eq(ap1_dropped),
                         sel.apr_upto.eq(upto_dropped)]
        with m.Elif(refresh):
            m.d.sync += sel.apr_upto.eq(prefix_or(m, ap0 | gicv.apr, "upto_refresh"))
        # R3 masks, pre_bits wide: group priority bits of P[7:shift]
        m.d.sync += [
            sel.gmask0.eq(_gmask3(gicv.bpr + 1, v3.shift)),
            sel.gmask1.eq(Mux(ctlr.CBPR, _gmask3(gicv.bpr + 1, v3.shift),
                              _gmask3(gicv.abpr, v3.shift))),
        ]

    def _responses3(self, m):
        """V5-V7 from the registered candidate: IAR0/IAR1 (its group's, if it
        can be signalled), HPPIR0/HPPIR1 (no PMR, RP or En test), the lines."""
        v3, ctlr, best = self.v3, self.gicv.ctlr, self.select.best
        can = self.control.en & best.valid & best.pre & best.pmr_ok       # V5 can_signal
        resp = {k: Signal(v3.id_bits, name=k) for k in ("iar0", "iar1", "hppir0", "hppir1")}
        resp.update({k: Signal(name=k) for k in ("iar0_ok", "iar1_ok", "ack_grp1", "ack_special")})
        m.d.sync += [
            resp["iar0_ok"].eq(can & ~best.grp1),
            resp["iar1_ok"].eq(can & best.grp1),
            resp["iar0"].eq(Mux(can & ~best.grp1, best.vid, SPURIOUS)),
            resp["iar1"].eq(Mux(can & best.grp1, best.vid, SPURIOUS)),
            resp["hppir0"].eq(Mux(best.valid & ~best.grp1, best.vid, SPURIOUS)),
            resp["hppir1"].eq(Mux(best.valid & best.grp1, best.vid, SPURIOUS)),
            resp["ack_grp1"].eq(best.grp1),
            resp["ack_special"].eq((best.vid >= 1020) & (best.vid <= 1023)),      # V16
        ]
        # what an acknowledge makes of its group's bank and of apr_upto (V6)
        width = len(self.select.apr_upto)
        resp["ack_bank"], resp["ack_upto"] = Signal(width, name="ack_bank"), Signal(width, name="ack_upto")
        grp1 = best.grp1 if self._live is None else best.grp1 | self._live   # L1
        bank = Mux(grp1, self.gicv.apr, self.gicv.ap0)
        m.d.sync += [resp["ack_bank"].eq(bank | (1 << best.gprio)),
                     resp["ack_upto"].eq(self.select.apr_upto
                                         | Cat(best.gprio <= i for i in range(width)))]
        fiq = ~best.grp1 & ctlr.FIQEn                # native: Group 0 is always vFIQ
        if self._live is not None:
            fiq = ~best.grp1 & (ctlr.FIQEn | self._sre)      # legacy frame: L5 (VFIQEn)
            can = self._responses2(m, resp, can)
        with m.If(self.select.ack_stb):
            m.d.sync += [self.virq.eq(0), self.vfiq.eq(0)]
        with m.Elif(self.lines_load):
            m.d.sync += [self.virq.eq(can & ~fiq), self.vfiq.eq(can & fiq)]
        return resp

    def _responses2(self, m, resp, can):
        """Legacy builds: the GICv2 frame's answers (R5-R7 with the GICv2
        design's choices: PMR filters the candidate, AckCtl's 1022 before the
        running-priority test) from the same candidate, on GICv3 state; while
        the frame is live they replace the ICV answers (iar0/iar1 stand for
        GICV_IAR/AIAR), every acknowledge sets its bit in ICH_AP1R (L1), V16
        does not apply. Returns the lines' condition."""
        best, live = self.select.best, self._live
        v2, seen = self._gicv_answers(m, best.valid & best.pmr_ok, best.vid[:13], prefix="gicv_")
        iar_ok, aiar_ok = v2.pop("iar_ok"), v2.pop("aiar_ok")
        for k in ("iar0_ok", "iar1_ok", "ack_grp1", "ack_special"):
            resp[k + "_v3"] = resp[k]
            resp[k] = Signal(name=f"{k}_live")
        m.d.comb += [
            resp["iar0_ok"].eq(Mux(live, iar_ok, resp["iar0_ok_v3"])),
            resp["iar1_ok"].eq(Mux(live, aiar_ok, resp["iar1_ok_v3"])),
            resp["ack_grp1"].eq(live | resp["ack_grp1_v3"]),
            resp["ack_special"].eq(~live & resp["ack_special_v3"]),
        ]
        resp["gicv"] = v2
        return Mux(live, seen & best.pre, can)

    def _reads3(self, m, resp, rpr):
        """ICV_* reads: stage 1 registered at the decode edge (the value and
        whether the address names a register); the AP registers straight from
        the banks after it, as GICv2's APR0."""
        v3, gicv, ctlr = self.v3, self.gicv, self.gicv.ctlr
        values = {
            "ICV_IAR0_EL1": resp["iar0"], "ICV_IAR1_EL1": resp["iar1"],
            "ICV_HPPIR0_EL1": resp["hppir0"], "ICV_HPPIR1_EL1": resp["hppir1"],
            "ICV_BPR0_EL1": gicv.bpr,
            "ICV_BPR1_EL1": Mux(ctlr.CBPR, Mux(gicv.bpr == 7, 7, gicv.bpr + 1), gicv.abpr),
            "ICV_CTLR_EL1": Cat(ctlr.CBPR, ctlr.EOImode) | v3.ctlr_ro,
            "ICV_PMR_EL1": gicv.vmprimask << (8 - v3.pri_bits),
            "ICV_RPR_EL1": rpr,
            "ICV_IGRPEN0_EL1": ctlr.EnableGrp0, "ICV_IGRPEN1_EL1": ctlr.EnableGrp1,
        }
        live = self._live
        icv = (lambda hit: hit) if live is None else (lambda hit: hit & ~live)
        low = Signal(32, name="icv_read")
        terms = [Mux(icv(names(self.dec, sysregs.lookup(n).addr >> 2)), value, 0)
                 for n, value in values.items()]
        if live is not None:                 # ICC_SRE_EL1; the GICv2 frame (v3 10)
            v2 = resp["gicv"]
            terms.append(Mux(names(self.dec, sysregs.lookup("ICC_SRE_EL1").addr >> 2),
                             Cat(self._sre, Const(0b11, 2)), 0))
            terms += [Mux(live & names(self.dec, reg.word), value, 0) for reg, value in {
                regs.GICV_CTLR: gicv.ctlr.as_value(), regs.GICV_PMR: Cat(Const(0, 3), gicv.vmprimask),
                regs.GICV_BPR: gicv.bpr, regs.GICV_ABPR: gicv.abpr, regs.GICV_IAR: v2["iar"],
                regs.GICV_AIAR: v2["aiar"], regs.GICV_HPPIR: v2["hppir"],
                regs.GICV_AHPPIR: v2["ahppir"], regs.GICV_RPR: rpr,
                regs.GICV_IIDR: Const(self.iidr, 32)}.items()]
        m.d.sync += low.eq(reduce(operator.or_, terms))
        ap_terms = []
        for g, bank in enumerate((gicv.ap0, gicv.apr)):
            for n in range(v3.napr):
                hit = Signal(name=f"hit_ap{g}r{n}")
                m.d.sync += hit.eq(icv(names(self.dec, sysregs.lookup(f"ICV_AP{g}R{n}_EL1").addr >> 2)))
                ap_terms.append(Mux(hit, bank[32 * n:32 * n + 32], 0))
        if live is not None:                 # GICV_APR0 = ICH_AP1R0_EL2 (L1)
            hit = Signal(name="hit_gicv_apr0")
            m.d.sync += hit.eq(live & names(self.dec, regs.GICV_APR0.word))
            ap_terms.append(Mux(hit, gicv.apr[:32], 0))
        m.d.comb += self.r_data.eq(reduce(operator.or_, ap_terms, low))

    def _eoi3(self, m, lowest_idx):
        """V8-V11: EOIR0/EOIR1/DIR. Decode edge: what the match result will do
        is registered (with the EOIR's group and the priority it drops); an
        EOIR with an active priority drops it one edge later; M edges after
        the decode the match deactivates (an EOIR's only if the LR has its
        group and that priority) or counts."""
        v3, mode, upto = self.v3, self.gicv.ctlr.EOImode, self.select.apr_upto
        eoir0, eoir1, dir_ = self._we3("ICV_EOIR0_EL1"), self._we3("ICV_EOIR1_EL1"), self._we3("ICV_DIR_EL1")
        eoir = eoir0 | eoir1
        vid = self.w_data[:v3.id_bits]
        special = (vid >= 1020) & (vid <= 1023)
        lpi = vid >= 8192                            # no active state (V15)
        active = upto[-1]                            # some AP bit set (v3 open point 3)
        match_now = Mux(eoir, ~special & active & (~mode | lpi), mode & (vid < 1020))
        miss_now = Mux(eoir, ~special & active & ~mode & ~lpi, mode & (vid < 1020))
        drop_now = eoir & ~special & active
        if self._live is not None:                   # the GICv2 frame: R8-R11 (L4)
            eoir2 = self._we2(regs.GICV_EOIR, regs.GICV_AEOIR)
            dir2 = self._we2(regs.GICV_DIR)
            special2 = self.w_data[:10] >= 1020
            match_now = Mux(self._live, ~special2 & Mux(eoir2, ~mode, mode), match_now)
            miss_now = Mux(self._live, ~special2 & Mux(eoir2, ~mode & active, mode), miss_now)
            drop_now = drop_now | (eoir2 & ~special2)
            eoir, dir_ = eoir | eoir2, dir_ | dir2
        m.d.comb += self.eoi_stb.eq(eoir | dir_)
        on_match, on_miss, check = Signal(), Signal(), Signal()
        # the LR bank registers, with the vID match, whether the LR has this
        # EOIR's group and the priority it drops (select.match.fits)
        m.d.comb += [self.select.eoi_grp1.eq(eoir1), self.select.eoi_idx.eq(lowest_idx)]
        with m.If(self.eoi_stb):
            m.d.sync += [
                on_match.eq(match_now),
                on_miss.eq(miss_now),
                check.eq(eoir0 | eoir1),             # V8's checks: ICV_EOIR0/1 only
            ]
        step = Signal(self.match_latency)
        m.d.sync += step.eq(Cat(self.eoi_stb, step[:-1]))
        done = step[-1]
        deact, match = self.select.deact_stb, self.select.match
        fits = ~check | match.fits                                        # V8 (v3 open point 5)
        m.d.comb += [
            deact.eq(done & on_match & match.valid & fits),                   # V10
            self.control.eoicount_inc.eq(done & on_miss & ~match.valid),      # V11
        ]
        m.d.sync += [
            self.deact_valid.eq(deact & match.fwd),
            self.deact_pintid.eq(Mux(deact & match.fwd, match.pintid, 0)),
        ]
        drop = Signal()
        m.d.sync += drop.eq(drop_now)
        return drop


def _gmask3(shift_by, shift):
    """V2: the group-priority bits of P[7:shift] for an 8-bit mask 0xFF <<
    shift_by (Group 0, or Group 1 with VCBPR: VBPR0 + 1; Group 1: VBPR1)."""
    return (Const(0xFF, 8) << shift_by)[shift:8]
