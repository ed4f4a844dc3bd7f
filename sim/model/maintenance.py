# Ref: IHI0048B 5.3 (GICH_MISR, GICH_HCR); arch 2.4, R13, R14
"""GICH_MISR and the maintenance interrupt line."""
from ...rtl.regs import MISR_BITS


class Maintenance:
    def __init__(self, lr_bank, vcpu, hyp):
        self.lrs, self.vcpu, self.hyp = lr_bank, vcpu, hyp

    @property
    def misr(self):
        h, c = self.hyp.hcr_field, self.vcpu.ctl
        bits = {
            "EOI":    self.lrs.eisr() != 0,                          # no enable bit
            "U":      h("UIE") and self.lrs.valid_count() <= 1,
            "LRENP":  h("LRENPIE") and h("EOICount") != 0,
            "NP":     h("NPIE") and not self.lrs.any_pending(),
            "VGrp0E": h("VGrp0EIE") and c("EnableGrp0"),
            "VGrp0D": h("VGrp0DIE") and not c("EnableGrp0"),
            "VGrp1E": h("VGrp1EIE") and c("EnableGrp1"),
            "VGrp1D": h("VGrp1DIE") and not c("EnableGrp1"),
        }
        return sum(1 << MISR_BITS[name] for name, on in bits.items() if on)

    @property
    def maint(self):
        """Level: HCR.En && MISR != 0 (MISR itself ignores En, R14)."""
        return int(bool(self.hyp.en and self.misr))
