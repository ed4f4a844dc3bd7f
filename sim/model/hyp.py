# Ref: IHI0048B 5.3 (GICH_* registers); arch 2.1-2.8; IHI0069 ICH_*_EL2; v3 2
"""Hypervisor control interface (GICH_* or ICH_*_EL2): HCR (with EOICount,
and in GICv3 the trap controls) and the hypervisor registers' decode. VMCR
and the active priorities are stored in the vCPU block, the LRs, EISR and
ELRSR in the LR bank, MISR in the maintenance block."""
from ...rtl import regs
from ...rtl.regs import HCR_FIELDS, field, with_field
from ...rtl.sysregs import HCR3_FIELDS, TRAP_BITS


class Hyp:
    def __init__(self, num_lrs, iidr, v3=None):
        self.num_lrs = num_lrs
        self.iidr = iidr                     # GICV_IIDR (a build parameter)
        self.v3 = v3                         # V3Config, or None for GICv2
        self.vtr = regs.vtr_value(num_lrs) if v3 is None else v3.vtr
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

    @property
    def traps(self):
        """GICv3: ICH_HCR_EL2's trap controls, outputs for the PE (v3 1.2)."""
        return {name: field(self.hcr, HCR3_FIELDS, name) for name in TRAP_BITS}

    def eoicount_increment(self):
        """R11: EOICount + 1 modulo 32."""
        self.hcr = with_field(self.hcr, HCR_FIELDS, "EOICount", (self.hcr_field("EOICount") + 1) % 32)

    def forward_deactivation(self, pintid):
        """R10: an HW = 1 LR was deactivated; deactivate pINTID in the Distributor."""
        self.forwarded.append(pintid)

    # -- register decode: rtl/regs.py (GICH frame), rtl/sysregs.py (ICH_*) ---
    def read(self, reg):
        if reg.name.startswith("LR"):                # GICH_LR<n>, ICH_LR<n>_EL2
            return self.lrs.read(int(reg.name[2:]))
        match reg.full_name:
            case "GICH_HCR" | "ICH_HCR_EL2":   return self.hcr
            case "GICH_VTR" | "ICH_VTR_EL2":   return self.vtr
            case "GICH_VMCR":                  return self.vcpu.vmcr
            case "ICH_VMCR_EL2":               return self.vcpu.vmcr3
            case "GICH_MISR" | "ICH_MISR_EL2": return self.maintenance.misr
            case "GICH_EISR0" | "ICH_EISR_EL2": return self.lrs.eisr() & 0xFFFF_FFFF
            case "GICH_EISR1":                 return self.lrs.eisr() >> 32
            case "GICH_ELRSR0" | "ICH_ELRSR_EL2": return self.lrs.elrsr() & 0xFFFF_FFFF
            case "GICH_ELRSR1":                return self.lrs.elrsr() >> 32
            case "GICH_APR":                   return self.vcpu.apr
            case name if name.startswith("ICH_AP"):    # ICH_AP<g>R<n>_EL2
                return self.vcpu.ap_read(int(reg.name[2]), int(reg.name[4]))
        return 0

    def write(self, reg, value):
        if reg.name.startswith("LR"):
            self.lrs.write(int(reg.name[2:]), value)
            return
        match reg.full_name:
            case "GICH_HCR":     self.hcr = value & reg.wmask
            case "ICH_HCR_EL2":  self.hcr = value & self.v3.hcr_wmask
            case "GICH_VMCR":    self.vcpu.vmcr = value & reg.wmask
            case "ICH_VMCR_EL2": self.vcpu.vmcr3 = value
            case "GICH_APR":     self.vcpu.apr = value & reg.wmask
            case name if name.startswith("ICH_AP"):
                self.vcpu.ap_write(int(reg.name[2]), int(reg.name[4]), value)   # as written (v3 open point 18)
        # RO registers and reserved offsets: ignored
