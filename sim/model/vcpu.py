# Ref: IHI0048B 5.4 (GICV_* registers) and 3.3/4.4 (CPU interface rules it inherits);
#      arch 2.9-2.18 and rules R1-R11; IHI0069 ICV_*_EL1; v3 3 and rules V1-V18
"""Virtual CPU interface (GICV_* or ICV_*_EL1): the guest's state (CTLR, PMR,
the binary points, the active priorities), the acknowledge/EOI/deactivate
state machine and the VIRQ/VFIQ lines.

GICH_VMCR / ICH_VMCR_EL2 and GICH_APR / ICH_AP<g>R<n>_EL2 are the
hypervisor's names for storage held here. One storage for both
architectures: `ctlr` has GICV_CTLR's bit positions, which are also
ICH_VMCR_EL2's low bits (VENG0 = EnableGrp0 ... VEOIM = EOImode); `pmr` is
the 8-bit priority mask; `bpr`/`abpr` are GICV_BPR/ABPR = VBPR0/VBPR1;
`apr` holds GICV_APR0 (GICv2) or the Group 1 bank ICH_AP1R<n> (GICv3, all
NAPR registers as one integer), `ap0` the Group 0 bank (GICv3 only, 0 in
GICv2). Where the two architectures differ, the register's own `case` (its
full name) or `self.v3` says so.
"""
from ...rtl import regs
from ...rtl.regs import (CTLR_FIELDS, VMCR_FIELDS, BPR_MIN, ABPR_MIN, IDLE_RPR,
                         SPURIOUS, SPURIOUS_GRP1, field, with_field)


def ctz(x):
    return (x & -x).bit_length() - 1


class VCPU:
    def __init__(self, lr_bank, hyp, v3=None):
        self.lrs = lr_bank
        self.hyp = hyp
        self.v3 = v3                                  # V3Config, or None for GICv2
        self.shift = 3 if v3 is None else v3.shift    # AP bit = group priority >> shift
        self.reset()

    # -- legacy operation (v3 10): the VM's ICC_SRE_EL1.SRE = 0 makes the
    #    GICv2 frame live, with the GICv2 design's rules on this state ------
    @property
    def sre(self):
        return self._sre

    @sre.setter
    def sre(self, value):
        self._sre = value
        self.lrs.legacy_live = self.legacy_live

    @property
    def legacy_live(self):
        return self.v3 is not None and self.v3.legacy and not self._sre

    @property
    def v2_rules(self):
        """The GICv2 design's R-rules apply: GICv2, or the legacy frame live."""
        return self.v3 is None or self.legacy_live

    def reset(self):
        # R15: CTLR = 0, PMR = 0, BPR = 2, ABPR = 3, APR = 0.
        # V18: ICH_VMCR_EL2 reads 0x004C0008 (VFIQEn is RES1 in native mode);
        # legacy builds come out of reset with SRE = 0, as a GICv2 CPU interface
        self.sre = 0 if self.v3 is not None and self.v3.legacy else 1
        self.ctlr = 0 if self.v2_rules else 0x8
        self.pmr = 0
        self.bpr = BPR_MIN if self.v3 is None else self.v3.minbpr0
        self.abpr = ABPR_MIN if self.v3 is None else self.v3.minbpr1
        self.apr = 0
        self.ap0 = 0

    def ctl(self, name):
        return field(self.ctlr, CTLR_FIELDS, name)

    # -- GICH_VMCR: another name for CTLR/PMR/BPR/ABPR (arch 2.3) -------
    @property
    def vmcr(self):
        return ((self.pmr >> 3) << 27 | self.bpr << 21 | self.abpr << 18
                | (self.ctlr & 0x21F))

    @vmcr.setter
    def vmcr(self, value):
        self.ctlr = value & regs.GICV_CTLR.wmask
        self.pmr = field(value, VMCR_FIELDS, "VMPriMask") << 3
        self.bpr = max(BPR_MIN, field(value, VMCR_FIELDS, "VMBP"))
        self.abpr = max(ABPR_MIN, field(value, VMCR_FIELDS, "VMABP"))

    # -- ICH_VMCR_EL2 (v3 2.3): the same storage, VPMR 8 bits at [31:24] ----
    @property
    def vmcr3(self):
        ctlr = self.ctlr if self.legacy_live else (self.ctlr & 0x213) | 0x8
        return self.pmr << 24 | self.bpr << 21 | self.abpr << 18 | (ctlr & 0x21F)

    @vmcr3.setter
    def vmcr3(self, value):
        c = self.v3
        if self.legacy_live:                          # v3 10: VAckCtl, VFIQEn real
            value &= c.vmcr_wmask | 0xC
            self.ctlr = value & 0x21F
        else:
            value &= c.vmcr_wmask
            self.ctlr = (value & 0x213) | 0x8         # VFIQEn RES1, VAckCtl RES0 (native)
        self.pmr = value >> 24
        self.bpr = max(c.minbpr0, value >> 21 & 7)
        self.abpr = max(c.minbpr1, value >> 18 & 7)

    # -- ICH_AP<g>R<n>_EL2 / ICV_AP<g>R<n>_EL1: 32 bits of a bank (v3 2.7) ---
    def ap_read(self, g, n):
        return ((self.ap0 if g == 0 else self.apr) >> (32 * n)) & 0xFFFF_FFFF

    def ap_write(self, g, n, value):
        bank = self.ap0 if g == 0 else self.apr
        bank = (bank & ~(0xFFFF_FFFF << (32 * n))) | (value & 0xFFFF_FFFF) << (32 * n)
        if g == 0:
            self.ap0 = bank
        else:
            self.apr = bank

    # -- priorities (R3, R4) ------------------------------------------------
    def gmask(self, grp1):
        if not grp1 or self.ctl("CBPR"):
            return (0xFF << (self.bpr + 1)) & 0xFF
        return (0xFF << self.abpr) & 0xFF

    def gprio(self, n):
        return self.lrs.prio(n) & self.gmask(self.lrs.get(n, "Group"))

    def running_priority(self):
        """RP: 0x100 when idle, else the highest active group priority, over
        both banks in GICv3 (R4, V3; the legacy frame: ICH_AP1R alone, L1)."""
        apbits = self.apr if self.v2_rules else self.ap0 | self.apr
        return 0x100 if apbits == 0 else ctz(apbits) << self.shift

    def rpr(self):
        return min(IDLE_RPR, self.running_priority())

    def best(self):
        """R5: the candidate, PMR filtered; V4: not (PMR is V5's test)."""
        pmr = self.pmr if self.v2_rules else 0x100
        return self.lrs.best(self.ctl("EnableGrp0"), self.ctl("EnableGrp1"), pmr)

    def preempts(self):
        b = self.best()
        if b is None:
            return False
        rp = self.running_priority()
        if self.v2_rules:
            return self.gprio(b) < rp                                   # R1
        gm = self.gmask(self.lrs.get(b, "Group"))
        masked = rp == 0x100 or self.gprio(b) < (rp & gm)               # V5 (v3 open point 1)
        return (masked if self.v3.rp_masked else self.gprio(b) < rp) and self.lrs.prio(b) < self.pmr

    # -- output lines (R6, V5) ----------------------------------------------
    def _signal_fiq(self):
        """Group 0 with FIQEn (GICv3 native: Group 0 is always vFIQ; legacy: L5)."""
        return not self.lrs.get(self.best(), "Group") and (self.ctl("FIQEn") or not self.v2_rules)

    @property
    def virq(self):
        return int(bool(self.hyp.en and self.preempts() and not self._signal_fiq()))

    @property
    def vfiq(self):
        return int(bool(self.hyp.en and self.preempts() and self._signal_fiq()))

    # -- acknowledge (R6a, R6b) --------------------------------------------
    def acknowledge(self, alias):
        """GICV_IAR (alias=False) or GICV_AIAR (alias=True) read."""
        if not self.hyp.en or not (self.ctl("EnableGrp0") or self.ctl("EnableGrp1")):
            return SPURIOUS
        b = self.best()
        if b is None:
            return SPURIOUS
        grp1 = self.lrs.get(b, "Group")
        if alias and not grp1:
            return SPURIOUS                       # AIAR: Group 0 is not its business
        if not alias and grp1 and not self.ctl("AckCtl"):
            return SPURIOUS_GRP1                  # 1022 before the RP test (QEMU order)
        gp = self.gprio(b)
        if gp >= self.running_priority():
            return SPURIOUS
        self.lrs.acknowledge(b)
        self.apr |= 1 << (gp >> 3)
        return self.lrs.vid_out(b)

    # -- highest pending, no side effects (R7) -----------------------------
    def highest_pending(self, alias):
        if not self.hyp.en:
            return SPURIOUS
        b = self.best()
        if b is None:
            return SPURIOUS
        grp1 = self.lrs.get(b, "Group")
        if alias:
            return self.lrs.vid_out(b) if grp1 else SPURIOUS
        if grp1 and not self.ctl("AckCtl"):
            return SPURIOUS_GRP1
        return self.lrs.vid_out(b)

    # -- priority drop and deactivation (R8-R11) ---------------------------
    def _deactivate(self, n):
        pintid = self.lrs.deactivate(n)
        if pintid is not None:
            self.hyp.forward_deactivation(pintid)

    def end_of_interrupt(self, value):
        """GICV_EOIR / GICV_AEOIR write."""
        vid, src = value & 0x3FF, (value >> 10) & 0x7
        if vid >= 1020:
            return                                # special IDs: ignored
        dropped = self.apr != 0
        self.apr &= self.apr - 1                  # drop the highest active priority
        if self.ctl("EOImode"):
            return                                # EOImode 1: priority drop only
        n = self.lrs.match(vid, src)
        if n is not None:
            self._deactivate(n)
        elif dropped:
            self.hyp.eoicount_increment()

    def deactivate_interrupt(self, value):
        """GICV_DIR write."""
        vid, src = value & 0x3FF, (value >> 10) & 0x7
        if not self.ctl("EOImode") or vid >= 1020:
            return                                # UNPREDICTABLE with EOImode 0: ignored
        n = self.lrs.match(vid, src)
        if n is not None:
            self._deactivate(n)
        else:
            self.hyp.eoicount_increment()         # no APR condition; APR untouched

    # -- GICv3: IAR0/1, HPPIR0/1, EOIR0/1, DIR (V6-V11, V16) ----------------
    def acknowledge3(self, g):
        """ICV_IAR<g>_EL1 read (V6): the candidate, if it is of group g and
        can be signalled; 1023 otherwise, and nothing changes."""
        b = self.best()
        if b is None or self.lrs.get(b, "Group") != g or not (self.hyp.en and self.preempts()):
            return SPURIOUS
        vid = self.lrs.get(b, "vINTID")
        if 1020 <= vid <= 1023:
            self.lrs.drop(b)                      # V16: handed out, LR invalid, no AP bit
            return vid
        k = self.gprio(b) >> self.shift
        self.lrs.acknowledge(b)
        if g == 0:
            self.ap0 |= 1 << k
        else:
            self.apr |= 1 << k
        return vid

    def highest_pending3(self, g):
        """ICV_HPPIR<g>_EL1 (V7): not filtered by PMR, the running priority
        or HCR.En (v3 open points 7 and 8)."""
        b = self.best()
        return SPURIOUS if b is None or self.lrs.get(b, "Group") != g else self.lrs.get(b, "vINTID")

    def end_of_interrupt3(self, g, value):
        """ICV_EOIR<g>_EL1 write (V8)."""
        vid = value & self.v3.idmask
        if 1020 <= vid <= 1023:
            return
        apbits = self.ap0 | self.apr
        if apbits == 0:
            return                                # v3 open point 3: ignored entirely
        k = ctz(apbits)                           # the drop: across both banks, Group 0 first
        if self.ap0 >> k & 1:
            self.ap0 &= ~(1 << k)
        else:
            self.apr &= ~(1 << k)
        eoimode, lpi = self.ctl("EOImode"), vid >= 8192
        n = self.lrs.match(vid)
        if n is None:
            if not lpi and not eoimode:
                self.hyp.eoicount_increment()     # V11 (v3 open point 4: not with VEOIM = 1)
            return
        if self.lrs.get(n, "Group") == g and self.gprio(n) == k << self.shift:
            if not eoimode or lpi:                # a vLPI has no active state (V15)
                self._deactivate(n)
        # wrong group or priority: the drop stands, the LR stays active (v3 open point 5)

    def deactivate_interrupt3(self, value):
        """ICV_DIR_EL1 write (V9): only with VEOIM = 1; never touches the APs."""
        vid = value & self.v3.idmask
        if not self.ctl("EOImode") or vid >= 1020:
            return                                # v3 open points 22 and 30
        n = self.lrs.match(vid)
        if n is not None:
            self._deactivate(n)
        else:
            self.hyp.eoicount_increment()

    # -- ICV_CTLR_EL1, ICV_BPR1_EL1 (v3 3) -------------------------------------
    def ctlr3(self):
        return self.ctl("CBPR") | self.ctl("EOImode") << 1 | self.v3.ctlr_ro

    def bpr1_3(self):
        """With VCBPR = 1, ICV_BPR1_EL1 reads BPR0 + 1 (at most 7)."""
        return min(self.bpr + 1, 7) if self.ctl("CBPR") else self.abpr

    # -- register decode: rtl/regs.py (GICV frame), rtl/sysregs.py (ICV_*) ----
    def read(self, reg):
        match reg.full_name:
            case "GICV_CTLR":   return self.ctlr
            case "GICV_PMR" | "ICV_PMR_EL1": return self.pmr
            case "GICV_BPR" | "ICV_BPR0_EL1": return self.bpr
            case "GICV_ABPR":   return self.abpr
            case "GICV_IAR":    return self.acknowledge(alias=False)
            case "GICV_AIAR":   return self.acknowledge(alias=True)
            case "GICV_HPPIR":  return self.highest_pending(alias=False)
            case "GICV_AHPPIR": return self.highest_pending(alias=True)
            case "GICV_RPR" | "ICV_RPR_EL1": return self.rpr()
            case "GICV_APR0":   return self.apr
            case "GICV_IIDR":   return self.hyp.iidr
            case "ICV_CTLR_EL1":    return self.ctlr3()
            case "ICV_BPR1_EL1":    return self.bpr1_3()
            case "ICV_IAR0_EL1":    return self.acknowledge3(0)
            case "ICV_IAR1_EL1":    return self.acknowledge3(1)
            case "ICV_HPPIR0_EL1":  return self.highest_pending3(0)
            case "ICV_HPPIR1_EL1":  return self.highest_pending3(1)
            case "ICV_IGRPEN0_EL1": return self.ctl("EnableGrp0")
            case "ICV_IGRPEN1_EL1": return self.ctl("EnableGrp1")
            case "ICC_SRE_EL1":     return self.sre | 0b110       # DIB, DFB: RAO/WI (v3 10)
            case name if name.startswith("ICV_AP"):      # ICV_AP<g>R<n>_EL1
                return self.ap_read(int(reg.name[2]), int(reg.name[4]))
        return 0                                  # WO registers and reserved: 0

    def write(self, reg, value):
        c = self.v3
        match reg.full_name:
            case "GICV_CTLR":  self.ctlr = value & reg.wmask
            case "GICV_PMR":   self.pmr = value & reg.wmask
            case "GICV_BPR":   self.bpr = max(BPR_MIN, value & reg.wmask)
            case "GICV_ABPR":  self.abpr = max(ABPR_MIN, value & reg.wmask)
            case "GICV_EOIR" | "GICV_AEOIR": self.end_of_interrupt(value)
            case "GICV_DIR":   self.deactivate_interrupt(value)
            case "GICV_APR0":  self.apr = value & reg.wmask
            case "ICV_PMR_EL1":  self.pmr = value & c.primask
            case "ICV_BPR0_EL1": self.bpr = max(c.minbpr0, value & 7)
            case "ICV_BPR1_EL1":
                if not self.ctl("CBPR"):          # with VCBPR = 1: ignored
                    self.abpr = max(c.minbpr1, value & 7)
            case "ICV_CTLR_EL1":
                self.ctlr = with_field(with_field(self.ctlr, CTLR_FIELDS, "CBPR", value & 1),
                                       CTLR_FIELDS, "EOImode", value >> 1 & 1)
            case "ICV_IGRPEN0_EL1": self.ctlr = with_field(self.ctlr, CTLR_FIELDS, "EnableGrp0", value & 1)
            case "ICV_IGRPEN1_EL1": self.ctlr = with_field(self.ctlr, CTLR_FIELDS, "EnableGrp1", value & 1)
            case "ICC_SRE_EL1":   self.sre = value & 1
            case "ICV_EOIR0_EL1": self.end_of_interrupt3(0, value)
            case "ICV_EOIR1_EL1": self.end_of_interrupt3(1, value)
            case "ICV_DIR_EL1":   self.deactivate_interrupt3(value)
            case name if name.startswith("ICV_AP"):
                self.ap_write(int(reg.name[2]), int(reg.name[4]), value)
        # RO registers and reserved offsets: ignored
