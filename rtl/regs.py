# Ref: IHI0048B ch. 5, GICH_* and GICV_* register summaries;
#      docs/architecture.md, arch 1 and arch 2.
"""The one register table of the virtual interface.

Imported by the RTL (address decode), the golden model (read/write dispatch),
the replay parser (register names) and the docs (address map). A register is
one line here; its behaviour lives in exactly one block (see ``block``).

Core address map (byte addresses on the internal register bus, a 16 KiB
window laid out like GIC-400 from its GICH base at +0x4000):

    0x0000-0x0FFF  GICH frame (registers at 0x000-0x1FF, the rest RAZ/WI)
    0x1000-0x1FFF  with several CPUs (rtl/cluster.py): the processor-specific
                   GICH views, CPU n's GICH registers at 0x1000 + 0x200 * n
                   (GIC-400's 0x5000 + 0x200 * n); with one CPU, or for a CPU
                   above num_cpus, unmapped (RAZ/WI)
    0x2000-0x3FFF  GICV frame, 8 KiB (GICV_DIR at 0x3000)
"""
from dataclasses import dataclass

__all__ = [
    "Reg", "REGS", "GICH", "GICV", "MAX_LRS", "CORE_ADDR_BITS", "FRAME_BASE",
    "FRAME_SIZE", "lookup", "decode", "core_addr", "frame_addr", "frame_at", "lr", "vtr_value",
    "IIDR_DEFAULT", "MAX_CPUS", "ALIAS_BASE", "ALIAS_STRIDE", "check_num_cpus",
    "alias_addr", "alias_of", "bus_addr",
]

MAX_LRS = 64
CORE_ADDR_BITS = 14                      # 16 KiB window, byte address
FRAME_BASE = {"GICH": 0x0000, "GICV": 0x2000}
FRAME_SIZE = {"GICH": 0x1000, "GICV": 0x2000}
IIDR_DEFAULT = 0x0002043B                # Arm (0x43B), architecture v2, product 0
# Several CPUs (rtl/cluster.py): GICH and GICV are banked by the requesting
# CPU; CPU n's GICH is also reached by any CPU at ALIAS_BASE + ALIAS_STRIDE * n
MAX_CPUS = 8
ALIAS_BASE, ALIAS_STRIDE = 0x1000, 0x200


@dataclass(frozen=True)
class Reg:
    frame: str          # "GICH" or "GICV"
    offset: int         # byte offset inside the frame
    name: str           # spec name without the frame prefix
    access: str         # "RW", "RO", "WO", or "RES" (reserved name: RAZ/WI)
    reset: int = 0      # value after reset with 4 LRs (GIC-400)
    wmask: int = 0      # writable bits (before clamps)

    @property
    def full_name(self):
        return f"{self.frame}_{self.name}"

    @property
    def addr(self):
        """Byte address on the core's internal register bus."""
        return FRAME_BASE[self.frame] + self.offset

    @property
    def word(self):
        """Word address on the core's internal register bus (addr >> 2)."""
        return self.addr >> 2


# Ref: IHI0048B table 5-2 (GICH_* summary), arch 1.1 and 2.1-2.8
GICH_HCR    = Reg("GICH", 0x000, "HCR",    "RW", 0x0000_0000, 0xF800_00FF)
GICH_VTR    = Reg("GICH", 0x004, "VTR",    "RO", 0x9000_0003, 0)
GICH_VMCR   = Reg("GICH", 0x008, "VMCR",   "RW", 0x004C_0000, 0xF8FC_021F)
GICH_MISR   = Reg("GICH", 0x010, "MISR",   "RO", 0, 0)
GICH_EISR0  = Reg("GICH", 0x020, "EISR0",  "RO", 0, 0)
GICH_EISR1  = Reg("GICH", 0x024, "EISR1",  "RO", 0, 0)
GICH_ELRSR0 = Reg("GICH", 0x030, "ELRSR0", "RO", 0x0000_000F, 0)
GICH_ELRSR1 = Reg("GICH", 0x034, "ELRSR1", "RO", 0, 0)
GICH_APR    = Reg("GICH", 0x0F0, "APR",    "RW", 0, 0xFFFF_FFFF)
GICH_LR_BASE = 0x100
LR_WMASK = 0xFF8F_FFFF                   # bits [22:20] reserved (arch 2.8)


def lr(n):
    """GICH_LR<n>, n = 0..63 (implemented only below num_lrs, else RAZ/WI)."""
    if not 0 <= n < MAX_LRS:
        raise ValueError(f"GICH_LR{n}: list register index must be 0..{MAX_LRS - 1}")
    return Reg("GICH", GICH_LR_BASE + 4 * n, f"LR{n}", "RW", 0, LR_WMASK)


# Ref: IHI0048B table 5-8 (GICV_* summary), arch 1.2 and 2.9-2.18
GICV_CTLR   = Reg("GICV", 0x000,  "CTLR",   "RW", 0, 0x0000_021F)
GICV_PMR    = Reg("GICV", 0x004,  "PMR",    "RW", 0, 0x0000_00F8)
GICV_BPR    = Reg("GICV", 0x008,  "BPR",    "RW", 2, 0x0000_0007)
GICV_IAR    = Reg("GICV", 0x00C,  "IAR",    "RO", 0x3FF, 0)
GICV_EOIR   = Reg("GICV", 0x010,  "EOIR",   "WO", 0, 0x0000_1FFF)
GICV_RPR    = Reg("GICV", 0x014,  "RPR",    "RO", 0xFF, 0)
GICV_HPPIR  = Reg("GICV", 0x018,  "HPPIR",  "RO", 0x3FF, 0)
GICV_ABPR   = Reg("GICV", 0x01C,  "ABPR",   "RW", 3, 0x0000_0007)
GICV_AIAR   = Reg("GICV", 0x020,  "AIAR",   "RO", 0x3FF, 0)
GICV_AEOIR  = Reg("GICV", 0x024,  "AEOIR",  "WO", 0, 0x0000_1FFF)
GICV_AHPPIR = Reg("GICV", 0x028,  "AHPPIR", "RO", 0x3FF, 0)
GICV_APR0   = Reg("GICV", 0x0D0,  "APR0",   "RW", 0, 0xFFFF_FFFF)
GICV_IIDR   = Reg("GICV", 0x0FC,  "IIDR",   "RO", IIDR_DEFAULT, 0)
GICV_DIR    = Reg("GICV", 0x1000, "DIR",    "WO", 0, 0x0000_1FFF)

# Names software knows from GICC or GICv3 that have nothing to hold here
# (5 preemption bits, one security state): reserved, RAZ/WI (arch 1.2).
RESERVED_NAMES = [Reg("GICV", 0x0D4 + 4 * i, f"APR{i + 1}", "RES") for i in range(3)] + \
                 [Reg("GICV", 0x0E0 + 4 * i, f"NSAPR{i}", "RES") for i in range(4)]

GICH = [GICH_HCR, GICH_VTR, GICH_VMCR, GICH_MISR, GICH_EISR0, GICH_EISR1,
        GICH_ELRSR0, GICH_ELRSR1, GICH_APR] + [lr(n) for n in range(MAX_LRS)]
GICV = [GICV_CTLR, GICV_PMR, GICV_BPR, GICV_IAR, GICV_EOIR, GICV_RPR,
        GICV_HPPIR, GICV_ABPR, GICV_AIAR, GICV_AEOIR, GICV_AHPPIR, GICV_APR0,
        GICV_IIDR, GICV_DIR]
REGS = GICH + GICV + RESERVED_NAMES

_BY_NAME = {r.full_name: r for r in REGS}
_BY_ADDR = {r.addr: r for r in REGS}


def lookup(name):
    """Register by full spec name ("GICV_IAR", "GICH_LR3"), or None."""
    return _BY_NAME.get(name)


def decode(frame, offset):
    """Register at (frame, byte offset), or None for an unmapped offset."""
    if frame not in FRAME_BASE or not 0 <= offset < FRAME_SIZE[frame]:
        return None
    return _BY_ADDR.get(FRAME_BASE[frame] + offset)


def frame_addr(bases, sizes, frame, offset):
    """Byte address of (frame, offset) in a map of frames (`bases`, `sizes`:
    FRAME_BASE, FRAME_SIZE here or rtl/sysregs.py's), with a clear error."""
    if frame not in bases:
        raise ValueError(f"unknown frame {frame!r}: expected "
                         + " or ".join(repr(name) for name in bases))
    if not 0 <= offset < sizes[frame]:
        raise ValueError(f"offset {offset:#x} is outside the {sizes[frame]:#x}-byte {frame} frame")
    return bases[frame] + offset


def frame_at(bases, sizes, addr):
    """(frame, offset) of a byte address in a map of frames, or (None, addr)."""
    for frame, base in bases.items():
        if base <= addr < base + sizes[frame]:
            return frame, addr - base
    return None, addr


def core_addr(frame, offset):
    """Byte address on the internal register bus."""
    return frame_addr(FRAME_BASE, FRAME_SIZE, frame, offset)


def frame_of(addr):
    """(frame, offset) for a core byte address, or (None, addr) if unmapped."""
    return frame_at(FRAME_BASE, FRAME_SIZE, addr)


def alias_addr(cpu, offset):
    """Core byte address of GICH `offset` in CPU `cpu`'s processor-specific view."""
    if isinstance(cpu, bool) or not isinstance(cpu, int) or not 0 <= cpu < MAX_CPUS:
        raise ValueError(f"CPU {cpu!r}: a processor-specific GICH view is for CPU 0..{MAX_CPUS - 1}")
    if not 0 <= offset < ALIAS_STRIDE:
        raise ValueError(f"offset {offset:#x} is outside a {ALIAS_STRIDE:#x}-byte processor-specific "
                         "GICH view")
    return ALIAS_BASE + ALIAS_STRIDE * cpu + offset


def bus_addr(frame, offset, gich_cpu=None, num_cpus=1):
    """Core byte address of (frame, offset), through CPU `gich_cpu`'s
    processor-specific view if given (GICH only), or None where the access
    cannot reach a register: an offset beyond a view's registers, or a view
    with one CPU other than CPU 0's (with one CPU, CPU 0's view is its own GICH).
    GICv3's memory-mapped frames (rtl/sysregs.py) likewise: "ICH" has the
    views, "ICV" none."""
    if frame in ("ICH", "ICV"):
        from . import sysregs
        addr, hyp = sysregs.core_addr(frame, offset), frame == "ICH"
    else:
        addr, hyp = core_addr(frame, offset), frame == "GICH"   # validates frame/offset
    if gich_cpu is None or not hyp:
        if gich_cpu is not None:
            raise ValueError("gich_cpu names a processor-specific GICH view: GICH accesses only")
        return addr
    if offset >= ALIAS_STRIDE:
        return None
    if num_cpus == 1:
        return addr if gich_cpu == 0 else None
    return alias_addr(gich_cpu, offset)


def alias_of(addr):
    """(cpu, GICH offset) for a core byte address in the processor-specific
    views, or None."""
    if ALIAS_BASE <= addr < ALIAS_BASE + ALIAS_STRIDE * MAX_CPUS:
        return divmod(addr - ALIAS_BASE, ALIAS_STRIDE)
    return None


def check_num_cpus(num_cpus):
    if isinstance(num_cpus, bool) or not isinstance(num_cpus, int) or not 1 <= num_cpus <= MAX_CPUS:
        raise ValueError(f"num_cpus must be an integer from 1 to {MAX_CPUS} (GIC-400 has up to "
                         f"{MAX_CPUS} CPU interfaces), got {num_cpus!r}")
    return num_cpus


def vtr_value(num_lrs):
    """GICH_VTR: PRIbits = PREbits = 5 bits (field 4), ListRegs = num_lrs - 1."""
    return (4 << 29) | (4 << 26) | (num_lrs - 1)


def check_num_lrs(num_lrs):
    if isinstance(num_lrs, bool) or not isinstance(num_lrs, int) or not 1 <= num_lrs <= MAX_LRS:
        raise ValueError(f"num_lrs must be an integer from 1 to {MAX_LRS} (GICH_VTR.ListRegs + 1), "
                         f"got {num_lrs!r}")
    return num_lrs


def block_num_lrs(block, num_lrs):
    """check_num_lrs for a block's constructor: a block refused before it is
    built is also kept out of Amaranth's "never used" warning."""
    try:
        return check_num_lrs(num_lrs)
    except ValueError:
        block._MustUse__silence = True
        raise


# Field layouts, (lsb, width), shared by the model (shifts) and the RTL (slices).
# Ref: arch 2.1 (GICH_HCR), 2.3 (GICH_VMCR), 2.8 (GICH_LR<n>), 2.9 (GICV_CTLR)
HCR_FIELDS = {
    "En": (0, 1), "UIE": (1, 1), "LRENPIE": (2, 1), "NPIE": (3, 1),
    "VGrp0EIE": (4, 1), "VGrp0DIE": (5, 1), "VGrp1EIE": (6, 1), "VGrp1DIE": (7, 1),
    "EOICount": (27, 5),
}
VMCR_FIELDS = {
    "VMGrp0En": (0, 1), "VMGrp1En": (1, 1), "VMAckCtl": (2, 1), "VMFIQEn": (3, 1),
    "VMCBPR": (4, 1), "VEM": (9, 1), "VMABP": (18, 3), "VMBP": (21, 3),
    "VMPriMask": (27, 5),
}
CTLR_FIELDS = {
    "EnableGrp0": (0, 1), "EnableGrp1": (1, 1), "AckCtl": (2, 1), "FIQEn": (3, 1),
    "CBPR": (4, 1), "EOImode": (9, 1),
}
LR_FIELDS = {
    "VirtualID": (0, 10), "CPUID": (10, 3), "PhysicalID": (10, 10), "EOI": (19, 1),
    "Priority": (23, 5), "State": (28, 2), "Grp1": (30, 1), "HW": (31, 1),
}
MISR_BITS = {
    "EOI": 0, "U": 1, "LRENP": 2, "NP": 3, "VGrp0E": 4, "VGrp0D": 5, "VGrp1E": 6, "VGrp1D": 7,
}
# LR State encodings
INVALID, PENDING, ACTIVE, PENDING_ACTIVE = 0b00, 0b01, 0b10, 0b11
SPURIOUS, SPURIOUS_GRP1 = 1023, 1022
BPR_MIN, ABPR_MIN = 2, 3                 # 5 priority bits: minimum binary points
IDLE_RPR = 0xFF


@dataclass(frozen=True)
class LRLayout:
    """Where a list register's fields sit, per architecture: one LR bank, the
    GICv2 (GICH_LR<n>) and GICv3 (ICH_LR<n>_EL2, rtl/sysregs.py) views.
    Field names are common to both: State, HW, Group, Priority, EOI,
    vINTID, pINTID. `prio_shift`: the 8-bit priority is Priority <<
    prio_shift. `sgi_cpuid`: a vSGI (HW = 0) carries its source CPU in
    [12:10], returned with the vID and matched by EOIR/DIR (GICv2)."""
    arch: str
    fields: dict
    prio_shift: int
    sgi_cpuid: bool

    def get(self, value, name):
        return field(value, self.fields, name)

    def with_state(self, value, state):
        return with_field(value, self.fields, "State", state)


def field(value, fields, name):
    lsb, width = fields[name]
    return (value >> lsb) & ((1 << width) - 1)


def with_field(value, fields, name, new):
    lsb, width = fields[name]
    mask = ((1 << width) - 1) << lsb
    return (value & ~mask) | ((new << lsb) & mask)


LR_V2 = LRLayout("v2", {"State": LR_FIELDS["State"], "HW": LR_FIELDS["HW"],
                        "Group": LR_FIELDS["Grp1"], "Priority": LR_FIELDS["Priority"],
                        "EOI": LR_FIELDS["EOI"], "vINTID": LR_FIELDS["VirtualID"],
                        "pINTID": LR_FIELDS["PhysicalID"], "CPUID": LR_FIELDS["CPUID"]},
                  prio_shift=3, sgi_cpuid=True)


def layout(fields, width=32):
    """Amaranth layout of a register from a field table above, for the RTL
    (``lr.State``, ``hcr.EOICount``). Fields may overlap (LR CPUID/PhysicalID)."""
    from amaranth.lib import data
    return data.FlexibleLayout(width, {name: data.Field(w, lsb) for name, (lsb, w) in fields.items()})
