# Ref: docs/traces.md ("vgic convert"); docs/architecture-v3.md, v3 10 and v3 10.7;
#      docs/architecture.md, arch 2.1-2.8 (GICH_*) and v3 2.1-2.8 (ICH_*_EL2)
"""`vgic convert`: a GICv2 trace and its GICv3 legacy-operation twin, both ways.

In legacy operation a GICv2 guest runs on a GICv3 core: the guest still uses
the GICv2 GICV frame (GICV_* names, unchanged), the hypervisor the ICH_*_EL2
system registers (`vgic replay --arch v3 --legacy`). ``v2-to-v3legacy``
turns each GICH_* access into the ICH_*_EL2 access KVM makes for the same
guest; ``v3legacy-to-v2`` does the reverse. Values are translated field by
field from the field tables (rtl/regs.py, rtl/sysregs.py):

    GICH_HCR      ICH_HCR_EL2     the same bits (En .. VGrp1DIE, EOICount)
    GICH_VMCR     ICH_VMCR_EL2    VMPriMask [31:27] = VPMR [31:24] >> 3; the rest the same bits
    GICH_LR<n>    ICH_LR<n>_EL2   State, HW, Grp1/Group, Priority << 3, vINTID [9:0];
                                  HW = 0: CPUID = vINTID [12:10], EOI 19 = 41;
                                  HW = 1: PhysicalID [19:10] = pINTID [41:32]
    GICH_APR      ICH_AP1R0_EL2   the same 32 bits
    GICH_MISR, GICH_EISR0, GICH_ELRSR0   ICH_MISR_EL2, ICH_EISR_EL2, ICH_ELRSR_EL2
    GICH_VTR      ICH_VTR_EL2     renamed; a read's value is not carried (it differs by design)

A field the target cannot hold (a GICv3 priority with bits [2:0] set, a trap
bit of ICH_HCR_EL2, LR 16 and above, a pINTID above 1023, ...) stops the
conversion with FILE:LINE. Bits the source register reserves are left out of a
written value (the line says so and keeps the original value under
``v2_value`` / ``v3legacy_value``, from which a conversion back restores it)
and are an error in a read value. An access with no counterpart (a GICH_EISR1
read, a zero ICH_AP0R0_EL2 write, a physical-GIC access, ...) becomes a note
line that keeps the whole original line (``v2_line`` / ``v3legacy_line``); a
conversion back restores it. So line N of the output is always line N of the
input, and converting there and back gives the original transactions.
"""
import gzip
import json
import re
import sys
import zlib
from collections import Counter
from dataclasses import dataclass, field as dc_field

from ..rtl import regs, sysregs
from ..rtl.regs import HCR_FIELDS, VMCR_FIELDS, LR_FIELDS, MISR_BITS
from ..rtl.sysregs import HCR3_FIELDS, VMCR3_FIELDS, LR3_FIELDS
from .files import AtomicOutput, FileError, check_output, open_text
from .progress import StatusLine
from .trace import ARCHS, TraceError, address_map, iter_transactions

__all__ = ["DIRECTIONS", "V2_TO_V3", "V3_TO_V2", "Converter", "Unrepresentable",
           "v2_to_v3", "v3_to_v2", "convert_lines", "convert_file", "run"]

V2_TO_V3, V3_TO_V2 = "v2-to-v3legacy", "v3legacy-to-v2"
DIRECTIONS = (V2_TO_V3, V3_TO_V2)
SUFFIX = {V2_TO_V3: "-v3legacy", V3_TO_V2: "-v2"}      # appended to `scenario`
TAG = {"v2": "v2", "v3": "v3legacy"}                    # key prefixes: v2_line, v3legacy_value
NOTE = "vgic convert: "
PROGRESS_SECONDS = 2.0
# the trace reader's name for a legacy trace (ICH_*_EL2, GICV_*, ICC_SRE_EL1), as
# `vgic replay --arch v3 --legacy` reads it; without it, each line by its names
LEGACY_ARCH = "v3-legacy" if "v3-legacy" in ARCHS else None


class Unrepresentable(ValueError):
    """A value with a field the other architecture cannot hold: str() says which."""


def _mask(lsb, width):
    return ((1 << width) - 1) << lsb


# ---------------------------------------------------------------------------
# Field maps: one Pair per field both registers have
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    """GICv2 field `v2` (lsb, width) = GICv3 field `v3` (lsb, width), the
    GICv3 value being the GICv2 one << `shift` (a priority: GICv2 keeps bits
    [7:3] of the 8-bit value, GICv3 all 8)."""
    name2: str
    v2: tuple
    name3: str
    v3: tuple
    shift: int = 0

    def __post_init__(self):
        assert self.v2[1] + self.shift == self.v3[1], self


@dataclass(frozen=True)
class Only:
    """A field only one side has, which means something there (not RES0):
    a non-zero value has no form on the other side."""
    name: str
    at: tuple           # (lsb, width)
    why: str


@dataclass(frozen=True)
class RegMap:
    v2: str             # GICv2 register name without "GICH_"
    v3: str             # GICv3 name without "ICH_" and "_EL2"
    pairs: tuple
    only2: tuple = ()   # Only fields of the GICv2 register
    only3: tuple = ()   # Only fields of the GICv3 register

    def pairs_for(self, value, to_v3):
        return self.pairs, (self.only2 if to_v3 else self.only3)


def _same(names2, fields2, fields3, names3=None):
    return tuple(Pair(n2, fields2[n2], n3, fields3[n3])
                 for n2, n3 in zip(names2, names3 or names2))


_HCR_BITS = ("En", "UIE", "LRENPIE", "NPIE", "VGrp0EIE", "VGrp0DIE", "VGrp1EIE", "VGrp1DIE")
HCR = RegMap("HCR", "HCR",
             _same(_HCR_BITS + ("EOICount",), HCR_FIELDS, HCR3_FIELDS, _HCR_BITS + ("EOIcount",)),
             only3=tuple(Only(n, HCR3_FIELDS[n], "a trap control GICv2 does not have")
                         for n in sysregs.TRAP_BITS))

_VMCR_NAMES = (("VMGrp0En", "VENG0"), ("VMGrp1En", "VENG1"), ("VMAckCtl", "VAckCtl"),
               ("VMFIQEn", "VFIQEn"), ("VMCBPR", "VCBPR"), ("VEM", "VEOIM"),
               ("VMABP", "VBPR1"), ("VMBP", "VBPR0"), ("VMPriMask", "VPMR"))
VMCR = RegMap("VMCR", "VMCR", tuple(
    Pair(n2, VMCR_FIELDS[n2], n3, VMCR3_FIELDS[n3], VMCR3_FIELDS[n3][1] - VMCR_FIELDS[n2][1])
    for n2, n3 in _VMCR_NAMES))

MISR = RegMap("MISR", "MISR", tuple(Pair(n, (b, 1), n, (b, 1)) for n, b in MISR_BITS.items()))

_LR_HIGH = Only("LRs 16-31", (16, 16), "GICv3 has at most 16 list registers")
EISR = RegMap("EISR0", "EISR", (Pair("LR0-15", (0, 16), "LR0-15", (0, 16)),), only2=(_LR_HIGH,))
ELRSR = RegMap("ELRSR0", "ELRSR", (Pair("LR0-15", (0, 16), "LR0-15", (0, 16)),), only2=(_LR_HIGH,))
APR = RegMap("APR", "AP1R0", (Pair("APR", (0, 32), "AP1R0", (0, 32)),))


class LRMap(RegMap):
    """GICH_LR<n> = ICH_LR<n>_EL2: which fields pair depends on HW (arch 2.8,
    v3 2.8). HW = 0: the vSGI source CPU (GICv2 CPUID [12:10]) is vINTID
    [12:10] and EOI moves from bit 19 to 41; HW = 1: PhysicalID [19:10] is
    pINTID [41:32]. GICH_LR [22:20] and, with HW = 0, [18:13] are reserved;
    so are ICH_LR [58:56], [47:45] and, with HW = 0, [44:42] and [40:32]."""
    COMMON = (Pair("State", LR_FIELDS["State"], "State", LR3_FIELDS["State"]),
              Pair("HW", LR_FIELDS["HW"], "HW", LR3_FIELDS["HW"]),
              Pair("Grp1", LR_FIELDS["Grp1"], "Group", LR3_FIELDS["Group"]),
              Pair("Priority", LR_FIELDS["Priority"], "Priority", LR3_FIELDS["Priority"],
                   LR3_FIELDS["Priority"][1] - LR_FIELDS["Priority"][1]),
              Pair("VirtualID", LR_FIELDS["VirtualID"], "vINTID[9:0]",
                   (LR3_FIELDS["vINTID"][0], LR_FIELDS["VirtualID"][1])))
    HW0 = COMMON + (Pair("CPUID", LR_FIELDS["CPUID"], "vINTID[12:10]",
                         (LR3_FIELDS["vINTID"][0] + 10, 3)),
                    Pair("EOI", LR_FIELDS["EOI"], "EOI", LR3_FIELDS["EOI"]))
    HW1 = COMMON + (Pair("PhysicalID", LR_FIELDS["PhysicalID"], "pINTID[9:0]",
                         (LR3_FIELDS["pINTID"][0], LR_FIELDS["PhysicalID"][1])),)
    NMI = Only("NMI", LR3_FIELDS["NMI"], "a non-maskable interrupt (FEAT_GICv3_NMI)")
    ONLY3_HW0 = (Only("vINTID[31:13]", (13, 19), "a vINTID of 8192 or more (GICv2: a 10-bit "
                      "VirtualID and a source CPU in [12:10])"), NMI)
    ONLY3_HW1 = (Only("vINTID[31:10]", (10, 22), "a vINTID of 1024 or more with HW = 1 "
                      "(GICv2's VirtualID has 10 bits)"),
                 Only("pINTID[12:10]", (LR3_FIELDS["pINTID"][0] + 10, 3), "a pINTID of 1024 "
                      "or more (GICv2's PhysicalID has 10 bits)"), NMI)

    def __init__(self, n):
        super().__init__(f"LR{n}", f"LR{n}", ())

    def pairs_for(self, value, to_v3):
        hw = (value >> (LR_FIELDS if to_v3 else LR3_FIELDS)["HW"][0]) & 1
        if to_v3:
            return (self.HW1 if hw else self.HW0), ()
        return (self.HW1, self.ONLY3_HW1) if hw else (self.HW0, self.ONLY3_HW0)


def translate(value, rmap, to_v3, lenient=False):
    """(translated value, reserved bits of `value` left out). Raises
    Unrepresentable for a field the target cannot hold, unless `lenient`
    (a write to a read-only register, which both cores ignore): then such
    fields are left out like reserved bits."""
    pairs, only = rmap.pairs_for(value, to_v3)
    src_bits = 32 if to_v3 else 64
    covered = out = lost = 0
    for p in pairs:
        (lsb, width), (dlsb, _) = (p.v2, p.v3) if to_v3 else (p.v3, p.v2)
        covered |= _mask(lsb, width)
        x = (value >> lsb) & ((1 << width) - 1)
        if to_v3:
            y = x << p.shift
        elif x & ((1 << p.shift) - 1):
            if not lenient:
                raise Unrepresentable(
                    f"{p.name3} = {x:#04x} has bits [{p.shift - 1}:0] set, but GICv2's "
                    f"{p.name2} holds bits [7:{p.shift}] only")
            lost |= (x & ((1 << p.shift) - 1)) << lsb
            y = x >> p.shift
        else:
            y = x >> p.shift
        out |= y << dlsb
    for o in only:
        covered |= _mask(*o.at)
        x = (value >> o.at[0]) & ((1 << o.at[1]) - 1)
        if x and not lenient:
            raise Unrepresentable(f"{o.name} = {x:#x}: {o.why}")
        lost |= x << o.at[0]
    return out, (value & ~covered & ((1 << src_bits) - 1)) | lost


# GICv2 name (without GICH_) -> RegMap, and GICv3 name (without ICH_, _EL2) -> RegMap;
# LRs 0-15 only (GICv3 has no more)
_BY_V2 = {m.v2: m for m in (HCR, VMCR, MISR, EISR, ELRSR, APR)}
_BY_V3 = {m.v3: m for m in (HCR, VMCR, MISR, EISR, ELRSR, APR)}
_BY_V2.update({f"LR{n}": LRMap(n) for n in range(sysregs.MAX_LRS)})
_BY_V3.update({f"LR{n}": LRMap(n) for n in range(sysregs.MAX_LRS)})


def register_map(name, to_v3):
    """The RegMap of GICH_<name> (`to_v3`) or ICH_<name>_EL2. Raises Unrepresentable."""
    table = _BY_V2 if to_v3 else _BY_V3
    if name in table:
        return table[name]
    raise Unrepresentable(f"GICH_{name} has no ICH_*_EL2 counterpart" if to_v3 else
                          f"ICH_{name}_EL2 has no GICH counterpart")


def counterpart(name, to_v3):
    """The full name of the other side's register: "HCR" -> "ICH_HCR_EL2"."""
    m = register_map(name, to_v3)
    return f"ICH_{m.v3}_EL2" if to_v3 else f"GICH_{m.v2}"


def v2_to_v3(name, value, lenient=False):
    """GICH_<name> = value as (ICH name, ICH_*_EL2 value, reserved bits left
    out). `name` without "GICH_" ("HCR", "LR3"). Raises Unrepresentable."""
    m = register_map(name, True)
    out, lost = translate(value, m, True, lenient)
    return f"ICH_{m.v3}_EL2", out, lost


def v3_to_v2(name, value, lenient=False):
    """ICH_<name>_EL2 = value as (GICH name, GICH value, reserved bits left
    out). `name` without "ICH_" and "_EL2". Raises Unrepresentable."""
    m = register_map(name, False)
    out, lost = translate(value, m, False, lenient)
    return f"GICH_{m.v2}", out, lost


# ---------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------
@dataclass
class Counts:
    lines: int = 0
    transactions: int = 0
    hyp: int = 0                    # GICH <-> ICH translated
    guest: int = 0                  # GICV carried
    resets: int = 0
    left_out: Counter = dc_field(default_factory=Counter)     # reason -> note lines written
    annotated: Counter = dc_field(default_factory=Counter)    # reason -> lines
    restored: int = 0               # note lines of an earlier conversion turned back
    other: int = 0                  # titles, checks, notes, blank lines

    @property
    def converted(self):
        return self.transactions - sum(self.left_out.values())


class Converter:
    """One direction of the translation, a line at a time: `line(lineno,
    text)` gives the output line for input line `lineno` (a string without
    its newline). Raises TraceError (FILE:LINE: what is wrong)."""

    def __init__(self, direction, path="<trace>", amap=None):
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
        self.direction, self.path = direction, path
        self.to_v3 = direction == V2_TO_V3
        self.src, self.dst = ("v2", "v3") if self.to_v3 else ("v3", "v2")
        self.amap = address_map() if amap is None else amap
        self.counts = Counts()

    # -- helpers ---------------------------------------------------------------
    def error(self, lineno, message):
        return TraceError(self.path, lineno, message)

    def _parse(self, text, lineno, arch):
        """The trace reader's Transaction of one line (None: not a transaction),
        with its error messages at this line number."""
        try:
            ts = list(iter_transactions([text], self.path, self.amap if arch == "v2" else None,
                                        regs.MAX_CPUS, arch))
        except TraceError as e:
            raise self.error(lineno, e.message) from None
        return ts[0] if ts else None

    def _scenario(self, obj):
        s = obj.get("scenario")
        if not isinstance(s, str):
            return
        back = SUFFIX[V3_TO_V2 if self.to_v3 else V2_TO_V3]
        obj["scenario"] = s[:-len(back)] if s.endswith(back) else s + SUFFIX[self.direction]

    @staticmethod
    def _strip_note(obj):
        """Drop what an earlier conversion wrote into `note`."""
        note = obj.get("note")
        if not isinstance(note, str):
            return
        if note.startswith(NOTE):
            del obj["note"]
        else:
            obj["note"] = re.sub(r" \[" + re.escape(NOTE) + r".*\]$", "", note)

    @staticmethod
    def _annotate(obj, text):
        note = obj.get("note")
        obj["note"] = f"{note} [{NOTE}{text}]" if isinstance(note, str) and note else NOTE + text

    def _left_out(self, obj, seq, reason, text):
        """A note line in place of a transaction with no counterpart; the
        original line is kept whole for a conversion back."""
        self.counts.left_out[reason] += 1
        note = {}
        if "scenario" in obj:
            note["scenario"] = obj["scenario"]
            self._scenario(note)
        note["seq"] = seq
        key = f"{TAG[self.src]}_line"
        note["note"] = f"{NOTE}{text} (the original line under {key})"
        note[key] = obj
        return note

    # -- one line --------------------------------------------------------------
    def line(self, lineno, text):
        self.counts.lines += 1
        if not text.strip():
            self.counts.other += 1
            return ""
        try:
            obj = json.loads(text)
            bad = not isinstance(obj, dict)
        except (ValueError, RecursionError):
            bad = True
        if bad:
            self._parse(text, lineno, "v2")           # raises the reader's message
            raise self.error(lineno, "expected a JSON object")
        if "op" not in obj:
            self._parse(text, lineno, "v2")           # a misspelt 'op' or a stray 'reg': error
            return json.dumps(self._other(obj, lineno))
        return json.dumps(self._transaction(obj, text, lineno))

    def _other(self, obj, lineno):
        """A title, check or note line: kept (scenario renamed), except a note
        line of an earlier conversion, whose original line comes back."""
        kept = obj.get(f"{TAG[self.dst]}_line")
        if isinstance(kept, dict) and "op" in kept:
            t = self._parse(json.dumps(kept), lineno, self._reader(kept, self.dst))
            self._check_target(t, lineno)
            self.counts.restored += 1
            self.counts.transactions += 1
            self._count(t)
            return kept if "seq" in kept else _with_seq(kept, obj.get("seq", t.seq))
        self.counts.other += 1
        obj = dict(obj)
        self._scenario(obj)
        return obj

    def _count(self, t):
        if t.op == "reset":
            self.counts.resets += 1
        elif t.frame == "GICV":
            self.counts.guest += 1
        else:
            self.counts.hyp += 1

    @staticmethod
    def _reader(obj, side):
        """The trace reader's arch for a line of a GICv2 trace (`side` "v2")
        or of a legacy one ("v3")."""
        if side == "v2":
            return "v2"
        return LEGACY_ARCH or Converter._arch_of(obj)

    @staticmethod
    def _arch_of(obj):
        """Which register table names the line's register: "v3" for ICH_*,
        ICV_*, ICC_*, GICR_* or an ICH/ICV frame, else "v2" (GICH_*, GICV_*,
        GICD_*, GICC_*, an address, and whatever the GICv2 reader refuses)."""
        name, frame = obj.get("reg"), obj.get("frame")
        if obj.get("op") == "reset":
            return "v2"
        if isinstance(name, str):
            return "v3" if name.upper().startswith(("ICH_", "ICV_", "ICC_", "GICR_")) else "v2"
        return "v3" if frame in sysregs.FRAME_SIZE else "v2"

    def _check_target(self, t, lineno):
        """A restored line must be one the target trace can hold."""
        if t.op == "reset" or t.skipped or t.reg.upper() == "ICC_SRE_EL1":
            return
        hyp = "ICH" if self.to_v3 else "GICH"
        if t.frame not in (hyp, "GICV"):
            raise self.error(lineno, f"the line kept under {TAG[self.dst]}_line names {t.reg}, "
                                     f"which a {'GICv3 legacy' if self.to_v3 else 'GICv2'} "
                                     "trace cannot hold")

    def _transaction(self, obj, text, lineno):
        if self.to_v3 and self._arch_of(obj) == "v3":
            name = obj.get("reg") if isinstance(obj.get("reg"), str) else obj.get("frame")
            raise self.error(lineno, f"{name} is a GICv3 register: this is not a GICv2 trace "
                                     f"(vgic convert {V3_TO_V2} converts the other way)")
        name = obj.get("reg")
        if not self.to_v3 and (obj.get("frame") == "GICH" or isinstance(name, str)
                               and name.upper().startswith("GICH_")):
            raise self.error(lineno, f"{name or 'frame GICH'} is a GICv2 hypervisor register: "
                                     "this is not a GICv3 legacy trace, whose hypervisor side is "
                                     f"ICH_*_EL2 (vgic convert {V2_TO_V3} converts the other way)")
        t = self._parse(text, lineno, self._reader(obj, self.src))
        if "seq" not in obj:
            t.seq = self.counts.transactions        # the reader's default, made explicit
        self.counts.transactions += 1
        big = [x for x in t.recorded.get("deactivate", []) if x >= 1024]
        if big and not self.to_v3:
            raise self.error(lineno, f"'deactivate' lists pINTID {big[0]}: GICv2's PhysicalID "
                                     "has 10 bits (0..1023)")
        if t.op == "reset":
            self.counts.resets += 1
            return self._carry(obj, t)
        if not self.to_v3 and t.reg.upper() == "ICC_SRE_EL1":
            return self._sre(obj, t, lineno)
        if t.skipped:
            return self._left_out(obj, t.seq, "physical-GIC accesses",
                                  f"{t.reg}: a physical-GIC access, left out")
        if t.frame == "GICV":
            return self._guest(obj, t)
        if self.to_v3:
            return self._gich(obj, t, lineno)
        if t.frame == "GICH":
            raise self.error(lineno, f"{t.reg} in a GICv3 legacy trace: its hypervisor side is "
                                     f"ICH_*_EL2 (vgic convert {V2_TO_V3} makes one from a GICv2 "
                                     "trace)")
        if t.frame == "ICV":
            raise self.error(lineno, f"{t.reg}: a GICv3 guest's register; in legacy operation the "
                                     "guest uses the GICv2 GICV frame, so this access has no "
                                     "GICv2 form")
        return self._ich(obj, t, lineno)

    def _carry(self, obj, t):
        """A line kept as it is: scenario renamed, seq explicit, notes of an
        earlier conversion dropped."""
        out = dict(obj) if "seq" in obj else _with_seq(obj, t.seq)
        self._scenario(out)
        self._strip_note(out)
        for k in ("v2_value", "v3legacy_value"):
            out.pop(k, None)
        return out

    def _guest(self, obj, t):
        """A GICV access: unchanged, but named by `reg` alone, as a legacy trace
        names it (no absolute address, frame or offset: the legacy trace has
        no GICv2 address map); so an access the GICV frame ignores with no
        name to give it (an offset without a register, a partial write) is
        left out."""
        if t.op == "write" and t.strb != 0xF:
            return self._left_out(obj, t.seq, "partial writes",
                                  f"{t.reg} write with strb {t.strb:#x}: ignored by the core, "
                                  "and a legacy trace has no byte enables; left out")
        reg = regs.decode("GICV", t.offset)
        if reg is None:
            return self._left_out(obj, t.seq, "accesses of offsets without a register",
                                  f"{t.reg}: no register there (RAZ/WI), and a legacy trace "
                                  "names GICV registers by name; left out")
        self.counts.guest += 1
        return self._renamed(obj, t, reg.full_name)

    def _sre(self, obj, t, lineno):
        """ICC_SRE_EL1: the VM's SRE = 0 is what makes it a GICv2 guest; writing
        SRE = 1 switches it to the GICv3 registers, which GICv2 cannot express."""
        if t.op == "write" and t.value & 1:
            raise self.error(lineno, f"ICC_SRE_EL1 write {t.value:#x} sets SRE: the guest leaves "
                                     "legacy operation, which a GICv2 trace cannot express")
        return self._left_out(obj, t.seq, "ICC_SRE_EL1 accesses",
                               "ICC_SRE_EL1 (SRE = 0: a GICv2 guest) has no GICv2 register, "
                               "left out")

    # -- the hypervisor's registers --------------------------------------------
    def _gich(self, obj, t, lineno):
        """GICH_* -> ICH_*_EL2."""
        reg = regs.decode("GICH", t.offset)
        if reg is None:
            return self._left_out(obj, t.seq, "accesses of offsets without a register",
                                  f"{t.reg}: no register there (RAZ/WI), left out")
        if t.op == "write" and t.strb != 0xF:
            return self._left_out(obj, t.seq, "partial writes",
                                  f"{t.reg} write with strb {t.strb:#x}: the core ignores a "
                                  "partial write and a system register has no byte enables; "
                                  "left out")
        name = reg.name
        if name in ("EISR1", "ELRSR1"):
            if t.op == "read" and t.value:
                raise self.error(lineno, f"{t.reg} read {t.value:#010x}: LRs 32 and above; GICv3 "
                                         "has at most 16 list registers")
            return self._left_out(obj, t.seq, "GICH_EISR1/GICH_ELRSR1 accesses",
                                  f"{t.reg} {t.op}: LRs 32-63, which GICv3 does not have "
                                  "(ICH_EISR_EL2 and ICH_ELRSR_EL2 cover LRs 0-15); left out")
        if name.startswith("LR") and int(name[2:]) >= sysregs.MAX_LRS:
            raise self.error(lineno, f"{t.reg}: GICv3 has at most {sysregs.MAX_LRS} list "
                                     "registers (ICH_LR0_EL2..ICH_LR15_EL2); a GICv2 trace "
                                     f"using LR{sysregs.MAX_LRS} or above cannot be translated")
        self.counts.hyp += 1
        if name == "VTR":
            return self._vtr(obj, t, "ICH_VTR_EL2")
        return self._value_line(obj, t, lineno, name, v2_to_v3)

    def _ich(self, obj, t, lineno):
        """ICH_*_EL2 -> GICH_*."""
        reg, _ = sysregs.decode(t.frame, t.offset)
        if reg is None:
            return self._left_out(obj, t.seq, "accesses of offsets without a register",
                                  f"{t.reg}: no register there (RAZ/WI), left out")
        name = reg.name
        if name.startswith(("AP0R", "AP1R")) and name != "AP1R0":
            if t.value:
                why = ("the GICV frame keeps every active priority in ICH_AP1R0_EL2"
                       if name.startswith("AP0R") else
                       "GICv2's 5 preemption bits need one active-priority register")
                raise self.error(lineno, f"{t.reg} {t.op} {t.value:#x}: {why}; a non-zero "
                                         f"{t.reg} has no GICv2 form")
            return self._left_out(obj, t.seq, "zero ICH_AP0R<n>/ICH_AP1R<n> (n > 0) accesses",
                                  f"{t.reg} {t.op} of 0: no GICH register (GICH_APR is "
                                  "ICH_AP1R0_EL2), left out")
        self.counts.hyp += 1
        if name == "VTR":
            return self._vtr(obj, t, "GICH_VTR")
        return self._value_line(obj, t, lineno, name, v3_to_v2)

    def _vtr(self, obj, t, target):
        """GICH_VTR <-> ICH_VTR_EL2: the name only. A read's value is left out
        (the two registers differ by design: a conversion back restores it
        from the value kept under v2_value / v3legacy_value); a write (ignored
        by both cores) keeps its low 32 bits."""
        keep = f"{TAG[self.src]}_value"
        back = obj.get(f"{TAG[self.dst]}_value")
        out = self._renamed(obj, t, target)
        if t.op == "read":
            restored = back if isinstance(back, int) and not isinstance(back, bool) else None
            if restored is not None:
                out = _insert_after(out, "reg", "value", restored)
                digits = 18 if self.to_v3 else 10
                out = _insert_after(out, "value", "hex", f"{restored:#0{digits}x}")
            else:
                out.pop("value", None)
                out.pop("hex", None)
                if t.value is not None:
                    out[keep] = t.value
                    self.counts.annotated["VTR reads without their value"] += 1
                    self._annotate(out, f"{t.reg} read {t.value:#x}: the value is not carried "
                                        f"over ({target} differs by design), so --compare does "
                                        "not check it")
        else:
            back = back if isinstance(back, int) and back & 0xFFFF_FFFF == t.value else None
            value = t.value & 0xFFFF_FFFF if back is None else back
            out["value"] = value
            self._hex(obj, out, value)
            if value != t.value and back is None:
                out[keep] = t.value
                self.counts.annotated["write values with reserved bits left out"] += 1
                self._annotate(out, f"bits {t.value & ~0xFFFF_FFFF:#x} of the value "
                                    f"{t.value:#x} written to {t.reg} (read-only) have no "
                                    f"{target} form: left out")
        return out

    def _hex(self, obj, out, value):
        if "hex" in obj:
            out["hex"] = f"{value:#0{18 if self.to_v3 else 10}x}"

    def _renamed(self, obj, t, target):
        """The line of an access with its register named `target`: `reg` in
        place of the first naming key, no address, frame, offset or strb (a
        full one: partial writes are left out before)."""
        out = self._carry(obj, t)
        first = next((k for k in out if k in ("reg", "addr", "frame", "offset")), None)
        out = _replace_key(out, first, "reg", target) if first else {**out, "reg": target}
        for k in ("addr", "frame", "offset", "strb"):
            out.pop(k, None)
        if t.gich_cpu is not None and "gich_cpu" not in out:
            out["gich_cpu"] = t.gich_cpu      # an address in a GIC-400 processor-specific view
        return out

    def _value_line(self, obj, t, lineno, name, fn):
        """A hypervisor access whose value is translated field by field by
        `fn` (v2_to_v3 or v3_to_v2; `name` the source register's short name)."""
        source = regs.lookup(f"GICH_{name}") if self.to_v3 else sysregs.lookup(f"ICH_{name}_EL2")
        lenient = t.op == "write" and source.access == "RO"
        try:
            target = counterpart(name, self.to_v3)
            out = self._renamed(obj, t, target)
            if t.value is None:
                return out
            _, value, lost = fn(name, t.value, lenient)
        except Unrepresentable as e:
            raise self.error(lineno, f"{t.reg} {t.op} {t.value:#x}: {e}; it has no "
                                     f"{'ICH_*_EL2' if self.to_v3 else 'GICv2'} form") from None
        if lost and t.op == "read":
            raise self.error(lineno, f"{t.reg} read {t.value:#x}: bits {lost:#x} are reserved "
                                     f"(RES0) in {t.reg}, which reads 0 there; the recorded "
                                     "value has no translation")
        # a value a conversion back should restore: kept by an earlier conversion,
        # and still translating to what this line holds
        back = obj.get(f"{TAG[self.dst]}_value")
        if isinstance(back, int) and not isinstance(back, bool) and back >= 0:
            short = target.removeprefix("GICH_") if not self.to_v3 else \
                target.removeprefix("ICH_").removesuffix("_EL2")
            try:
                again = (v3_to_v2 if self.to_v3 else v2_to_v3)(short, back, True)[1]
            except Unrepresentable:
                again = None
            if again == t.value:
                value, lost = back, 0
        out["value"] = value
        self._hex(obj, out, value)
        if lost:
            out[f"{TAG[self.src]}_value"] = t.value
            what = "RO register's " if lenient else ""
            self.counts.annotated["write values with reserved bits left out"] += 1
            self._annotate(out, f"bits {lost:#x} of the {what}value {t.value:#x} written to "
                                f"{t.reg} have no {target} form (reserved, or ignored by the "
                                "core): left out")
        return out


def _replace_key(d, old, new, value):
    """`d` with key `old` replaced by `new` = value at the same place (or
    `new` added at the end if `old` is absent)."""
    if old not in d:
        return {**{k: v for k, v in d.items() if k != new}, new: value}
    return {(new if k == old else k): (value if k == old else v)
            for k, v in d.items() if k != new or old == new}


def _with_seq(d, seq):
    """`d` with an explicit `seq`, after `scenario` (or first), as recordings have it."""
    if "scenario" not in d:
        return {"seq": seq, **d}
    return _insert_after(d, "scenario", "seq", seq)


def _insert_after(d, after, key, value):
    out = {}
    for k, v in d.items():
        out[k] = v
        if k == after:
            out[key] = value
    return out


def convert_lines(lines, direction, path="<trace>", amap=None):
    """Output lines (strings without newline) for an iterable of input lines;
    the Converter's counts are the generator's return value."""
    conv = Converter(direction, path, amap)
    for lineno, text in enumerate(lines, 1):
        yield conv.line(lineno, text)
    return conv.counts


# ---------------------------------------------------------------------------
# Files and the command
# ---------------------------------------------------------------------------
def output_for(path):
    """The output of a conversion: gzip-compressed when its name ends in .gz."""
    return AtomicOutput(path, compress=path not in (None, "-") and path.endswith(".gz"))


def _numbered(f, path):
    """(line number, text) of each line of `f`; a read error as a TraceError."""
    lineno = 0
    try:
        for lineno, text in enumerate(f, 1):
            yield lineno, text
    except UnicodeDecodeError:
        raise TraceError(path, lineno + 1, "not UTF-8 text") from None
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise TraceError(path, lineno + 1, f"cannot read: {e}") from None


def convert_file(direction, src, dst, amap=None, progress=None):
    """Convert trace file `src` into `dst` (gzip when it ends in .gz; '-' or
    None: standard output). Returns the Counts. Raises TraceError or
    FileError; `dst` is then left as it was."""
    try:
        f = open_text(src)
    except FileError as e:
        raise TraceError(src, 0, str(e).removeprefix(f"{src}: ")) from None
    conv = Converter(direction, src, amap)
    with f, output_for(dst) as out:
        for lineno, text in _numbered(f, src):
            out.write(conv.line(lineno, text) + "\n")
            if progress is not None and lineno % 4096 == 0 and progress.due():
                progress.show(f"vgic convert: {lineno:,} lines, "
                              f"{conv.counts.transactions:,} transactions")
        if conv.counts.transactions == 0:
            raise TraceError(src, 0, "no transactions (lines with 'op'): nothing to convert")
        out.commit()
    return conv.counts


def summary(direction, counts, src, dst):
    def listing(counter):
        return ", ".join(f"{n:,} {k}" for k, n in sorted(counter.items()))
    hyp = "GICH -> ICH_*_EL2" if direction == V2_TO_V3 else "ICH_*_EL2 -> GICH"
    where = "standard output" if dst in (None, "-") else dst
    left, noted = sum(counts.left_out.values()), sum(counts.annotated.values())
    text = [f"vgic convert {direction}: {counts.converted:,} transactions converted to {where} "
            f"({counts.hyp:,} {hyp}, {counts.guest:,} GICV unchanged, {counts.resets:,} resets), "
            f"{left:,} left out as note lines, {noted:,} annotated; {counts.lines:,} lines"]
    if left:
        text.append(f"  left out (each a note line keeping the original): "
                    f"{listing(counts.left_out)}")
    if noted:
        text.append(f"  annotated (note; the original value kept): {listing(counts.annotated)}")
    if counts.restored:
        text.append(f"  restored from the notes of an earlier conversion: {counts.restored:,}")
    return "\n".join(text)


def run(args):
    """Entry point of `vgic convert` (options: sim/cli.py)."""
    tool = "vgic convert"
    progress = None
    try:
        amap = address_map(args.gich_base, args.gicv_base, args.gic400_base, regs.MAX_CPUS)
    except ValueError as e:
        print(f"{tool}: error: {e}", file=sys.stderr)
        return 2
    try:
        open_text(args.input).close()
        check_output(args.output, inputs=[args.input])           # before any work
        progress = None if args.quiet else StatusLine(interval=PROGRESS_SECONDS)
        counts = convert_file(args.direction, args.input, args.output, amap, progress)
    except (TraceError, FileError) as e:
        status, message = 2, f"{tool}: error: {e}"
    except OSError as e:                                          # writing the output
        status, message = 2, f"{tool}: error: {args.output}: {e.strerror or e}"
    except KeyboardInterrupt:
        status, message = 130, f"{tool}: interrupted; no output written"
    else:
        status, message = 0, summary(args.direction, counts, args.input, args.output)
    finally:
        if progress is not None:
            progress.finish()
    print(message, file=sys.stderr)
    return status
