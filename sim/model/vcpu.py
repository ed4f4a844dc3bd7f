# Ref: IHI0048B 5.4 (GICV_* registers) and 3.3/4.4 (CPU interface rules it inherits);
#      arch 2.9-2.18 and rules R1-R11
"""Virtual CPU interface (GICV_*): CTLR, PMR, BPR, ABPR, APR storage, the
acknowledge/EOI/deactivate state machine and the VIRQ/VFIQ lines.

GICH_VMCR and GICH_APR are the hypervisor's names for storage held here.
"""
from ...rtl import regs
from ...rtl.regs import (CTLR_FIELDS, VMCR_FIELDS, BPR_MIN, ABPR_MIN, IDLE_RPR,
                         SPURIOUS, SPURIOUS_GRP1, field)
from .lr_bank import lr_get, prio, vid_out


def ctz(x):
    return (x & -x).bit_length() - 1


class VCPU:
    def __init__(self, lr_bank, hyp):
        self.lrs = lr_bank
        self.hyp = hyp
        self.reset()

    def reset(self):
        # R15: CTLR = 0, PMR = 0, BPR = 2, ABPR = 3, APR = 0
        self.ctlr = 0
        self.pmr = 0
        self.bpr = BPR_MIN
        self.abpr = ABPR_MIN
        self.apr = 0

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

    # -- priorities (R3, R4) ------------------------------------------------
    def gmask(self, grp1):
        if not grp1 or self.ctl("CBPR"):
            return (0xFF << (self.bpr + 1)) & 0xFF
        return (0xFF << self.abpr) & 0xFF

    def gprio(self, n):
        v = self.lrs.lr[n]
        return prio(v) & self.gmask(lr_get(v, "Grp1"))

    def running_priority(self):
        """RP: 0x100 when idle, else the highest active group priority."""
        return 0x100 if self.apr == 0 else ctz(self.apr) << 3

    def rpr(self):
        return IDLE_RPR if self.apr == 0 else ctz(self.apr) << 3

    def best(self):
        return self.lrs.best(self.ctl("EnableGrp0"), self.ctl("EnableGrp1"), self.pmr)

    def preempts(self):
        b = self.best()
        return b is not None and self.gprio(b) < self.running_priority()

    # -- output lines (R6) --------------------------------------------------
    def _signal_fiq(self):
        b = self.best()
        return not lr_get(self.lrs.lr[b], "Grp1") and self.ctl("FIQEn")

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
        grp1 = lr_get(self.lrs.lr[b], "Grp1")
        if alias and not grp1:
            return SPURIOUS                       # AIAR: Group 0 is not its business
        if not alias and grp1 and not self.ctl("AckCtl"):
            return SPURIOUS_GRP1                  # 1022 before the RP test (QEMU order)
        gp = self.gprio(b)
        if gp >= self.running_priority():
            return SPURIOUS
        self.lrs.acknowledge(b)
        self.apr |= 1 << (gp >> 3)
        return vid_out(self.lrs.lr[b])

    # -- highest pending, no side effects (R7) -----------------------------
    def highest_pending(self, alias):
        if not self.hyp.en:
            return SPURIOUS
        b = self.best()
        if b is None:
            return SPURIOUS
        grp1 = lr_get(self.lrs.lr[b], "Grp1")
        if alias:
            return vid_out(self.lrs.lr[b]) if grp1 else SPURIOUS
        if grp1 and not self.ctl("AckCtl"):
            return SPURIOUS_GRP1
        return vid_out(self.lrs.lr[b])

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

    # -- GICV frame (register decode: rtl/regs.py) -------------------------
    def read(self, reg):
        match reg.name:
            case "CTLR":   return self.ctlr
            case "PMR":    return self.pmr
            case "BPR":    return self.bpr
            case "ABPR":   return self.abpr
            case "IAR":    return self.acknowledge(alias=False)
            case "AIAR":   return self.acknowledge(alias=True)
            case "HPPIR":  return self.highest_pending(alias=False)
            case "AHPPIR": return self.highest_pending(alias=True)
            case "RPR":    return self.rpr()
            case "APR0":   return self.apr
            case "IIDR":   return self.hyp.iidr
        return 0                                  # WO registers and reserved: 0

    def write(self, reg, value):
        match reg.name:
            case "CTLR":  self.ctlr = value & reg.wmask
            case "PMR":   self.pmr = value & reg.wmask
            case "BPR":   self.bpr = max(BPR_MIN, value & reg.wmask)
            case "ABPR":  self.abpr = max(ABPR_MIN, value & reg.wmask)
            case "EOIR" | "AEOIR": self.end_of_interrupt(value)
            case "DIR":   self.deactivate_interrupt(value)
            case "APR0":  self.apr = value & reg.wmask
        # RO registers and reserved offsets: ignored
