# Ref: IHI0069 (GICv3) ICH_*_EL2 and ICV_*_EL1 register pages; docs/architecture-v3.md,
#      v3 0, v3 1 and v3 2.9
"""The one register table of the GICv3 virtual CPU interface (`arch="v3"`).

Twin of rtl/regs.py (the GICv2 frames). Imported by the golden model (system
register and memory-mapped dispatch), the RTL (the system-register port's
decode), the replay parser (register names) and the docs (the map).

A register is its AArch64 encoding (op0, op1, CRn, CRm, op2); the
memory-mapped layout (v3 1.4) derives from it:

    0x0000-0x0FFF  ICH frame: (3,4,12,CRm,op2) at (CRm - 8) * 0x40 + op2 * 8
    0x1000-0x1FFF  with several CPUs: CPU n's ICH registers at 0x1000 + 0x200 n
    0x2000-0x3FFF  ICV frame: (3,0,12,CRm,op2) at 0x2000 + (CRm - 8) * 0x40 + op2 * 8,
                   ICV_PMR_EL1 (3,0,4,6,0) at 0x2180

Each register takes 8 bytes, its low 32 bits at +0 and its high 32 bits at +4.
Only ICH_LR<n>_EL2 has data in its high half (AArch32's ICH_LRC<n>); every
other high half is RES0.

`V3Config` is the build configuration (v3 0): the parameters, the constants
they imply (PRIMASK, NAPR, the binary-point minima, ICH_VTR_EL2) and the
write masks, next to the table so that every block reads them from one place.
"""
from dataclasses import dataclass

from . import regs
from .regs import LRLayout

__all__ = ["SysReg", "V3Config", "SYSREGS", "FRAME_BASE", "FRAME_SIZE", "MAX_LRS",
           "lookup", "decode", "by_encoding", "core_addr", "frame_of", "lr", "LR3_FIELDS",
           "HCR3_FIELDS", "VMCR3_FIELDS", "TRAP_BITS", "traps_word", "traps_fields"]

MAX_LRS = 16                             # ICH_VTR_EL2.ListRegs is 4 bits of use (v3 0)
MAX_APR = 4                              # AP registers per group with 7 preemption bits
FRAME_BASE = {"ICH": 0x0000, "ICV": 0x2000}
FRAME_SIZE = {"ICH": 0x1000, "ICV": 0x2000}


@dataclass(frozen=True)
class SysReg:
    frame: str          # "ICH" (hypervisor, EL2) or "ICV" (guest, EL1)
    name: str           # spec name without prefix and suffix: "LR3", "IAR1", "AP0R0"
    enc: tuple          # (op0, op1, CRn, CRm, op2)
    access: str         # "RW", "RO" or "WO"
    width: int = 32     # bits that can hold data: 64 for ICH_LR<n>_EL2 only
    prefix: str = ""    # the name's prefix when not the frame's: ICC_SRE_EL1

    @property
    def full_name(self):
        return (f"{self.prefix or self.frame}_{self.name}_"
                f"{'EL2' if self.frame == 'ICH' else 'EL1'}")

    @property
    def halves(self):
        """(byte offset in its frame, bit shift) of each 32-bit half that can
        hold data, low half first: a whole-register access is these word
        accesses (one, or two for ICH_LR<n>_EL2; v3 1.4)."""
        return [(self.offset + 4 * h, 32 * h) for h in range(self.width // 32)]

    @property
    def offset(self):
        """Byte offset of the low half in its frame (v3 1.4)."""
        op0, op1, crn, crm, op2 = self.enc
        if crn == 4:                                   # ICV_PMR_EL1
            return 0x180
        return (crm - 8) * 0x40 + op2 * 8

    @property
    def addr(self):
        return FRAME_BASE[self.frame] + self.offset

    def implemented(self, cfg):
        """Whether a configuration has this register (else UNDEFINED on the
        system-register port, RAZ/WI memory-mapped: v3 open point 17)."""
        if self.name.startswith("LR"):
            return int(self.name[2:]) < cfg.num_lrs
        if self.name[:2] == "AP":
            return int(self.name[4:]) < cfg.napr
        if self.prefix == "ICC":                       # ICC_SRE_EL1: legacy builds only
            return cfg.legacy
        return True


def _ich(name, crm, op2, access, width=32):
    return SysReg("ICH", name, (3, 4, 12, crm, op2), access, width)


def _icv(name, crm, op2, access, crn=12):
    return SysReg("ICV", name, (3, 0, crn, crm, op2), access)


def lr(n):
    """ICH_LR<n>_EL2, n = 0..15."""
    if not 0 <= n < MAX_LRS:
        raise ValueError(f"ICH_LR{n}_EL2: list register index must be 0..{MAX_LRS - 1}")
    return _ich(f"LR{n}", 12 + (n >> 3), n & 7, "RW", 64)


# Ref: IHI0069 ICH_*_EL2 summary; v3 1.1
ICH = ([_ich(f"AP0R{n}", 8, n, "RW") for n in range(MAX_APR)]
       + [_ich(f"AP1R{n}", 9, n, "RW") for n in range(MAX_APR)]
       + [_ich("HCR", 11, 0, "RW"), _ich("VTR", 11, 1, "RO"), _ich("MISR", 11, 2, "RO"),
          _ich("EISR", 11, 3, "RO"), _ich("ELRSR", 11, 5, "RO"), _ich("VMCR", 11, 7, "RW")]
       + [lr(n) for n in range(MAX_LRS)])
# Ref: IHI0069 ICC/ICV_*_EL1 summary (the encodings an EL1 access uses); v3 1.2
ICV = ([_icv("IAR0", 8, 0, "RO"), _icv("EOIR0", 8, 1, "WO"), _icv("HPPIR0", 8, 2, "RO"),
        _icv("BPR0", 8, 3, "RW")]
       + [_icv(f"AP0R{n}", 8, 4 + n, "RW") for n in range(MAX_APR)]
       + [_icv(f"AP1R{n}", 9, n, "RW") for n in range(MAX_APR)]
       + [_icv("DIR", 11, 1, "WO"), _icv("RPR", 11, 3, "RO"),
          _icv("IAR1", 12, 0, "RO"), _icv("EOIR1", 12, 1, "WO"), _icv("HPPIR1", 12, 2, "RO"),
          _icv("BPR1", 12, 3, "RW"), _icv("CTLR", 12, 4, "RW"), _icv("IGRPEN0", 12, 6, "RW"),
          _icv("IGRPEN1", 12, 7, "RW"), _icv("PMR", 6, 0, "RW", crn=4)]
       # the VM's own ICC_SRE_EL1 (never virtual), in legacy builds: SRE = 0 makes
       # the guest's window the GICv2 GICV frame (v3 10)
       + [SysReg("ICV", "SRE", (3, 0, 12, 12, 5), "RW", prefix="ICC")])
SYSREGS = ICH + ICV

_BY_NAME = {r.full_name: r for r in SYSREGS}
_BY_ADDR = {r.addr: r for r in SYSREGS}
_BY_ENC = {r.enc: r for r in SYSREGS}


def lookup(name):
    """Register by full name ("ICH_LR3_EL2", "ICV_IAR1_EL1"), or None."""
    return _BY_NAME.get(name)


def by_encoding(op0, op1, crn, crm, op2):
    """Register by AArch64 encoding, or None (not a register of this interface)."""
    return _BY_ENC.get((op0, op1, crn, crm, op2))


def decode(frame, offset):
    """(register, half) at a memory-mapped (frame, byte offset): half 0 for
    the low 32 bits, 1 for the high; (None, 0) for an offset no register has."""
    if frame not in FRAME_BASE or not 0 <= offset < FRAME_SIZE[frame]:
        return None, 0
    reg = _BY_ADDR.get(FRAME_BASE[frame] + (offset & ~7))
    return reg, (offset >> 2) & 1


def core_addr(frame, offset):
    """Byte address on the internal register bus."""
    return regs.frame_addr(FRAME_BASE, FRAME_SIZE, frame, offset)


def frame_of(addr):
    """(frame, offset) for a core byte address, or (None, addr) if unmapped."""
    return regs.frame_at(FRAME_BASE, FRAME_SIZE, addr)


# Field layouts, (lsb, width), as in rtl/regs.py. Ref: v3 2.1, 2.3, 2.8
HCR3_FIELDS = {
    "En": (0, 1), "UIE": (1, 1), "LRENPIE": (2, 1), "NPIE": (3, 1),
    "VGrp0EIE": (4, 1), "VGrp0DIE": (5, 1), "VGrp1EIE": (6, 1), "VGrp1DIE": (7, 1),
    "TC": (10, 1), "TALL0": (11, 1), "TALL1": (12, 1), "TSEI": (13, 1), "TDIR": (14, 1),
    "EOIcount": (27, 5),
}
VMCR3_FIELDS = {
    "VENG0": (0, 1), "VENG1": (1, 1), "VAckCtl": (2, 1), "VFIQEn": (3, 1), "VCBPR": (4, 1),
    "VEOIM": (9, 1), "VBPR1": (18, 3), "VBPR0": (21, 3), "VPMR": (24, 8),
}
LR3_FIELDS = {
    "vINTID": (0, 32), "pINTID": (32, 13), "EOI": (41, 1), "Priority": (48, 8),
    "NMI": (59, 1), "Group": (60, 1), "HW": (61, 1), "State": (62, 2),
}
TRAP_BITS = ("TC", "TALL0", "TALL1", "TSEI", "TDIR")     # outputs for the PE (v3 1.2)


def traps_word(traps):
    """{TRAP_BITS name: bit} as the `traps` port's bits (TC in bit 0)."""
    return sum(traps[name] << i for i, name in enumerate(TRAP_BITS))


def traps_fields(word):
    """The `traps` port's bits as {TRAP_BITS name: bit}: traps_word's inverse."""
    return {name: word >> i & 1 for i, name in enumerate(TRAP_BITS)}


@dataclass(frozen=True)
class V3Config:
    """A GICv3 build (v3 0). Raises ValueError on a parameter out of range."""
    num_lrs: int = 4
    pri_bits: int = 5
    pre_bits: int = 5
    id_bits: int = 24
    rp_masked: bool = True              # v3 open point 1: QEMU's masked running priority
    legacy: bool = False                # v3 open point 29, v3 10: the GICv2 GICV frame too
    seis: int = 0
    a3v: int = 1
    nv4: int = 1
    tds: int = 1

    def __post_init__(self):
        def check(name, ok, want):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not ok(v):
                raise ValueError(f"{name} must be {want} for arch v3, got {v!r}")
        check("num_lrs", lambda v: 1 <= v <= MAX_LRS, f"an integer from 1 to {MAX_LRS} "
              "(ICH_VTR_EL2.ListRegs + 1)")
        check("pri_bits", lambda v: 5 <= v <= 8, "5..8 (ICH_VTR_EL2.PRIbits + 1)")
        check("pre_bits", lambda v: 5 <= v <= min(7, self.pri_bits),
              f"5..{min(7, self.pri_bits)} (ICH_VTR_EL2.PREbits + 1, at most pri_bits and 7)")
        check("id_bits", lambda v: v in (16, 24), "16 or 24 (ICH_VTR_EL2.IDbits)")
        for flag in ("seis", "a3v", "nv4", "tds"):
            check(flag, lambda v: v in (0, 1), "0 or 1")
        if not isinstance(self.rp_masked, bool):
            raise ValueError(f"rp_masked must be True or False, got {self.rp_masked!r}")
        if not isinstance(self.legacy, bool):
            raise ValueError(f"legacy must be True or False, got {self.legacy!r}")
        if self.legacy and (self.pri_bits, self.pre_bits) != (5, 5):
            raise ValueError("legacy (a GICv2 guest's GICV frame) needs pri_bits = pre_bits = 5: "
                             "the GICv2 frame carries priority bits [7:3] and one GICV_APR0 "
                             f"(got pri_bits {self.pri_bits}, pre_bits {self.pre_bits})")

    # -- derived constants (v3 0) ---------------------------------------------
    @property
    def primask(self):
        return (0xFF << (8 - self.pri_bits)) & 0xFF

    @property
    def napr(self):
        return 1 << (self.pre_bits - 5)

    @property
    def minbpr0(self):
        return 7 - self.pre_bits

    @property
    def minbpr1(self):
        return self.minbpr0 + 1

    @property
    def shift(self):
        """AP bit index = group priority >> shift."""
        return 8 - self.pre_bits

    @property
    def idmask(self):
        return (1 << self.id_bits) - 1

    @property
    def vtr(self):
        """ICH_VTR_EL2 (v3 2.2)."""
        return ((self.pri_bits - 1) << 29 | (self.pre_bits - 1) << 26
                | (1 if self.id_bits == 24 else 0) << 23 | self.seis << 22 | self.a3v << 21
                | self.nv4 << 20 | self.tds << 19 | (self.num_lrs - 1))

    @property
    def ctlr_ro(self):
        """ICV_CTLR_EL1's read-only fields, copied from ICH_VTR_EL2 (v3 open point 25)."""
        return ((self.pri_bits - 1) << 8 | (1 if self.id_bits == 24 else 0) << 11
                | self.seis << 14 | self.a3v << 15)

    # -- write masks (v3 2.9) ---------------------------------------------------
    @property
    def hcr_wmask(self):
        """En..VGrp1DIE, TC, TALL0, TALL1, EOIcount; TSEI with SEIS, TDIR with TDS."""
        return 0xF800_1CFF | self.seis << 13 | self.tds << 14

    @property
    def vmcr_wmask(self):
        """VPMR (implemented bits, v3 open point 14), VBPR0/1, VEOIM, VCBPR,
        VENG1/0; VFIQEn reads 1 and VAckCtl 0 (native mode)."""
        return self.primask << 24 | 0x00FC_0213

    @property
    def legacy_lr_layout(self):
        """ICH_LR<n>_EL2 as the GICv2 frame reads it in legacy operation (v3
        10, L3): vINTID[9:0] the vID, vINTID[12:10] a vSGI's source CPU."""
        return LRLayout("v3legacy", {**LR3_FIELDS, "vINTID": (0, 10), "CPUID": (10, 3)},
                        prio_shift=0, sgi_cpuid=True)

    @property
    def lr_layout(self):
        return LRLayout("v3", {**LR3_FIELDS, "vINTID": (0, self.id_bits)}, prio_shift=0,
                        sgi_cpuid=False)

    def lr_mask(self, value):
        """The bits of an ICH_LR<n>_EL2 write that are kept (v3 2.8, v3 open point 16):
        State, HW, Group, Priority[PRIMASK], vINTID[id_bits]; [44:32] with HW = 1,
        only EOI (bit 41) with HW = 0."""
        low = 0xF000 | self.primask                  # bits [63:48] >> 48
        mask = low << 48 | self.idmask
        mask |= (0x1FFF << 32) if value >> 61 & 1 else (1 << 41)
        return value & mask
