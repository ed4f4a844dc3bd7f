# Ref: IHI0048B 5.3 (GICH_* registers); arch 2.1-2.8
"""Hypervisor control interface (GICH_*): HCR (with EOICount) and the GICH
frame's register decode. VMCR and APR are stored in the vCPU block, the LRs,
EISR and ELRSR in the LR bank, MISR in the maintenance block."""
from ...rtl import regs
from ...rtl.regs import HCR_FIELDS, field, with_field


class Hyp:
    def __init__(self, num_lrs, iidr):
        self.num_lrs = num_lrs
        self.iidr = iidr                     # GICV_IIDR (a build parameter)
        self.vtr = regs.vtr_value(num_lrs)
        self.lrs = self.vcpu = self.maintenance = None   # wired by the top
        self.reset()

    def reset(self):
        self.hcr = 0                         # R15 (architecturally UNKNOWN)
        self.forwarded = []                  # pINTIDs sent to the Distributor

    def hcr_field(self, name):
        return field(self.hcr, HCR_FIELDS, name)

    @property
    def en(self):
        return self.hcr_field("En")

    def eoicount_increment(self):
        """R11: EOICount + 1 modulo 32."""
        self.hcr = with_field(self.hcr, HCR_FIELDS, "EOICount", (self.hcr_field("EOICount") + 1) % 32)

    def forward_deactivation(self, pintid):
        """R10: an HW = 1 LR was deactivated; deactivate pINTID in the Distributor."""
        self.forwarded.append(pintid)

    # -- GICH frame ---------------------------------------------------------
    def read(self, reg):
        if reg.name.startswith("LR"):
            return self.lrs.read(int(reg.name[2:]))
        match reg.name:
            case "HCR":    return self.hcr
            case "VTR":    return self.vtr
            case "VMCR":   return self.vcpu.vmcr
            case "MISR":   return self.maintenance.misr
            case "EISR0":  return self.lrs.eisr() & 0xFFFF_FFFF
            case "EISR1":  return self.lrs.eisr() >> 32
            case "ELRSR0": return self.lrs.elrsr() & 0xFFFF_FFFF
            case "ELRSR1": return self.lrs.elrsr() >> 32
            case "APR":    return self.vcpu.apr
        return 0

    def write(self, reg, value):
        if reg.name.startswith("LR"):
            self.lrs.write(int(reg.name[2:]), value)
            return
        match reg.name:
            case "HCR":  self.hcr = value & reg.wmask
            case "VMCR": self.vcpu.vmcr = value & reg.wmask
            case "APR":  self.vcpu.apr = value & reg.wmask
        # RO registers and reserved offsets: ignored
