# Ref: docs/traces.md (the replay trace format)
"""JSON-lines register traces: reading line by line (with file:line errors)
and result lines. ``iter_trace`` streams a file of any length (plain or
gzip); ``read_trace`` is the same as a list, for short traces.

`arch` chooses the register names: "v2", GICv2's GICH/GICV frames
(rtl/regs.py: 32-bit registers, absolute addresses through an address
map); "v3", GICv3's system registers (rtl/sysregs.py: ICH_*_EL2 and
ICV_*_EL1, 64-bit values, named by `reg` or by their slot of the
memory-mapped layout, never by an address)."""
import gzip
import json
import zlib
from dataclasses import dataclass, field

from ..rtl import regs, sysregs
from .files import FileError, open_text

__all__ = ["Transaction", "TraceError", "iter_trace", "read_trace", "iter_transactions",
           "parse_lines", "result_line", "address_map", "check_arch", "DEFAULT_BASES", "ARCHS"]

# Absolute address maps. Only GICH/GICV are modelled; windows of the physical
# GIC (GICD, GICC, other CPUs' GICH aliases) are passed over ("skipped").
DEFAULT_BASES = {"GICH": 0x0803_0000, "GICV": 0x0804_0000}          # QEMU virt
QEMU_PHYSICAL = {"GICD": (0x0800_0000, 0x1000), "GICC": (0x0801_0000, 0x2000)}
PHYSICAL_PREFIXES = ("GICD_", "GICC_")
# GICv3: the physical CPU interface's system registers, the Distributor and
# the Redistributors, passed over by name as GICv2's GICD_/GICC_
PHYSICAL_PREFIXES_V3 = ("ICC_", "GICD_", "GICR_")
# "v3-legacy": a GICv3 core in legacy operation (docs/architecture-v3.md v3
# 10): the hypervisor's ICH_*_EL2, the guest's GICv2 GICV_* frame, the VM's
# ICC_SRE_EL1 (and ICV_* once it sets SRE)
ARCHS = ("v2", "v3", "v3-legacy")


@dataclass(frozen=True)
class Window:
    base: int
    size: int
    frame: str                  # "GICH"/"GICV", or a label for a passed-over window
    offset: int = 0             # frame offset at `base`
    modelled: bool = True
    view: int | None = None     # a processor-specific GICH view: its CPU


def address_map(gich_base=None, gicv_base=None, gic400_base=None, num_cpus=1):
    """The absolute windows: QEMU virt by default, GICH/GICV bases overridable,
    or the GIC-400 layout from its base (GICD +0x1000, GICC +0x2000, GICH
    +0x4000, the processor-specific GICH views +0x5000 + 0x200*cpu, GICV
    +0x6000; arch 1.3). Views of CPUs at or above `num_cpus` are passed over
    (a recording of a larger system replayed on fewer CPUs)."""
    if gic400_base is not None:
        if gich_base is not None or gicv_base is not None:
            raise ValueError("give either the GIC-400 base or the GICH/GICV bases, not both")
        b = gic400_base
        wins = [Window(b + 0x1000, 0x1000, "GICD", modelled=False),
                Window(b + 0x2000, 0x2000, "GICC", modelled=False),
                Window(b + 0x4000, 0x1000, "GICH")]
        wins += [Window(b + 0x5000 + 0x200 * cpu, 0x200, "GICH", view=cpu) if cpu < num_cpus
                 else Window(b + 0x5000 + 0x200 * cpu, 0x200, f"GICH(CPU{cpu})", modelled=False)
                 for cpu in range(regs.MAX_CPUS)]
        return wins + [Window(b + 0x6000, 0x2000, "GICV")]
    ours = [Window(DEFAULT_BASES["GICH"] if gich_base is None else gich_base,
                   regs.FRAME_SIZE["GICH"], "GICH"),
            Window(DEFAULT_BASES["GICV"] if gicv_base is None else gicv_base,
                   regs.FRAME_SIZE["GICV"], "GICV")]
    if _overlap(*ours):
        raise ValueError(f"the GICH window {ours[0].base:#x}+{ours[0].size:#x} and the GICV "
                         f"window {ours[1].base:#x}+{ours[1].size:#x} overlap")
    # QEMU's physical windows only where they do not collide with the user's map
    physical = [Window(base, size, name, modelled=False)
                for name, (base, size) in QEMU_PHYSICAL.items()]
    return [w for w in physical if not any(_overlap(w, o) for o in ours)] + ours


def _overlap(a, b):
    return a.base < b.base + b.size and b.base < a.base + a.size


class TraceError(Exception):
    """A bad input line: str() is 'FILE:LINE: what is wrong'."""

    def __init__(self, path, lineno, message):
        super().__init__(f"{path}:{lineno}: {message}")
        self.path, self.lineno, self.message = path, lineno, message


@dataclass
class Transaction:
    lineno: int
    seq: int
    op: str                     # "read", "write", "reset"
    reg: str = ""               # full name, or FRAME+0xOFF for an unnamed offset
    frame: str = ""             # "GICH"/"GICV" (v3: "ICH"/"ICV"); "" for reset and skipped lines
    offset: int = 0
    value: int | None = None    # write: value written; read: value recorded (or None)
    strb: int = 0xF
    skipped: bool = False       # GICD_/GICC_ access: physical GIC, out of scope
    recorded: dict = field(default_factory=dict)   # virq/vfiq/maint/deactivate as recorded
    cpu: int = 0                # the requesting CPU
    gich_cpu: int | None = None # GICH through this CPU's processor-specific view
    arch: str = "v2"            # "v3": a 64-bit system-register access, frame "ICH"/"ICV"
                                # and offset its slot in the memory-mapped layout

    def core_addr(self, num_cpus=1):
        """The core byte address of the access (rtl/regs.py), or None: a view
        of a CPU the core lacks, or an offset beyond a view's registers."""
        if self.gich_cpu is not None and self.gich_cpu >= num_cpus:
            return None
        return regs.bus_addr(self.frame, self.offset, self.gich_cpu, num_cpus)


def _int_field(obj, key, path, lineno, bits=32):
    v = obj[key]
    if isinstance(v, bool):
        raise TraceError(path, lineno, f"'{key}' must be an integer or hex string, got {v!r}")
    if isinstance(v, str):
        try:
            v = int(v, 0)
        except ValueError:
            raise TraceError(path, lineno, f"'{key}' is not a number: {v!r}") from None
    if not isinstance(v, int):
        raise TraceError(path, lineno, f"'{key}' must be an integer or hex string, got {v!r}")
    if not 0 <= v < 2**bits:
        raise TraceError(path, lineno, f"'{key}' = {v:#x} does not fit in {bits} bits")
    return v


def _resolve_addr(addr, amap):
    """(window, frame offset) for an absolute address, or None."""
    for w in amap:
        if w.base <= addr < w.base + w.size:
            return w, w.offset + addr - w.base
    return None


# keys that only a transaction has: a line with one of them but no 'op' is a mistake
ACCESS_KEYS = ("reg", "addr", "frame", "offset", "value", "strb")


def iter_transactions(lines, path="<trace>", amap=None, num_cpus=1, arch="v2"):
    """Transactions of an iterable of text lines, one at a time. Raises
    TraceError at the first bad line (after yielding the ones before it).
    `num_cpus`: the core's CPUs ('cpu' and 'gich_cpu' must name one).
    `arch`: "v2" or "v3" (the register names; module docstring)."""
    check_arch(arch, num_cpus)
    amap = address_map() if amap is None and arch == "v2" else amap
    count = 0
    for lineno, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise TraceError(path, lineno, f"not valid JSON ({e.msg} at column {e.colno})") from None
        except ValueError as e:                      # e.g. an integer of thousands of digits
            raise TraceError(path, lineno, f"not valid JSON ({e})") from None
        except RecursionError:
            raise TraceError(path, lineno, "not valid JSON (nested too deeply)") from None
        if not isinstance(obj, dict):
            raise TraceError(path, lineno, "expected a JSON object")
        if "op" not in obj:
            misspelt = [k for k in obj if k.strip().lower() == "op"]
            if misspelt:
                raise TraceError(path, lineno, f"key {misspelt[0]!r}: did you mean 'op'?")
            given = [k for k in ACCESS_KEYS if k in obj]
            if given:
                raise TraceError(path, lineno, f"has {given[0]!r} but no 'op' "
                                 "('read', 'write' or 'reset')")
            continue                                    # title, check, note: not transactions
        yield _transaction(obj, count, path, lineno, amap, num_cpus, arch)
        count += 1


def parse_lines(lines, path="<trace>", amap=None, num_cpus=1, arch="v2"):
    """All transactions of an iterable of text lines, as a list."""
    return list(iter_transactions(lines, path, amap, num_cpus, arch))


def check_arch(arch, num_cpus=1):
    """ValueError unless `arch` is one this reader knows, with a CPU count it supports."""
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")


def _cpu_field(obj, key, path, lineno, num_cpus):
    n = obj[key]
    if isinstance(n, bool) or not isinstance(n, int):
        raise TraceError(path, lineno, f"'{key}' must be a CPU number (an integer), got {n!r}")
    if not 0 <= n < num_cpus:
        raise TraceError(path, lineno, f"'{key}' is {n}, but the core has {num_cpus} CPU"
                         f"{'s' if num_cpus > 1 else ''} (0..{num_cpus - 1}; --cpus)")
    return n


def _transaction(obj, count, path, lineno, amap, num_cpus=1, arch="v2"):
    op = obj["op"]
    if op not in ("read", "write", "reset"):
        raise TraceError(path, lineno, f"unknown op {op!r}: expected 'read', 'write' or 'reset'")
    seq = obj.get("seq", count)
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise TraceError(path, lineno, f"'seq' must be an integer, got {seq!r}")
    t = Transaction(lineno=lineno, seq=seq, op=op, arch=arch)
    for line_name in ("virq", "vfiq", "maint"):
        if line_name in obj:
            if isinstance(obj[line_name], bool) or obj[line_name] not in (0, 1):
                raise TraceError(path, lineno, f"'{line_name}' must be 0 or 1, got {obj[line_name]!r}")
            t.recorded[line_name] = int(obj[line_name])
    if "deactivate" in obj:
        d = obj["deactivate"]
        limit = 1024 if arch == "v2" else 1 << sysregs.LR3_FIELDS["pINTID"][1]
        if not isinstance(d, list) or not all(isinstance(x, int) and not isinstance(x, bool)
                                              and 0 <= x < limit for x in d):
            raise TraceError(path, lineno, f"'deactivate' must be a list of INTIDs "
                             f"0..{limit - 1}, got {d!r}")
        t.recorded["deactivate"] = d
    if op != "reset":
        if arch != "v2":
            _parse_sysreg_access(obj, t, path, lineno)
        else:
            _parse_access(obj, t, path, lineno, amap)
    hyp = "GICH" if arch == "v2" else "ICH"     # the frame with processor-specific views
    if "cpu" in obj:
        t.cpu = _cpu_field(obj, "cpu", path, lineno, num_cpus)
    if "gich_cpu" in obj:
        if op == "reset" or t.frame != hyp:
            raise TraceError(path, lineno, f"'gich_cpu' names a processor-specific {hyp} view: "
                             f"for {hyp} accesses only")
        n = _cpu_field(obj, "gich_cpu", path, lineno, num_cpus)
        if t.gich_cpu is not None and t.gich_cpu != n:
            raise TraceError(path, lineno, f"'gich_cpu' {n} but 'addr' is in CPU {t.gich_cpu}'s "
                             "view")
        t.gich_cpu = n
    if num_cpus == 1:
        t.gich_cpu = None                 # one CPU: its view is its own GICH
    return t


def _parse_access(obj, t, path, lineno, amap):
    name = obj.get("reg")
    if name is not None and not isinstance(name, str):
        raise TraceError(path, lineno, f"'reg' must be a string, got {name!r}")
    at = None                                   # (window, frame offset) of 'addr' or 'frame'+'offset'
    if "frame" in obj or "offset" in obj:
        at = _frame_offset(obj, path, lineno, amap)
    elif "addr" in obj:
        addr = _int_field(obj, "addr", path, lineno, bits=64)
        at = _resolve_addr(addr, amap)
        if name is None and at is None:
            where = ", ".join(f"{w.frame} {w.base:#x}" for w in amap if w.modelled)
            raise TraceError(path, lineno, f"address {addr:#x} is in no known frame ({where}); "
                             "set the bases with --gich-base/--gicv-base or --gic400-base")
        if at is not None and at[1] % 4:
            raise TraceError(path, lineno, f"address {addr:#x} is not word aligned")
    if name is None and at is None:
        raise TraceError(path, lineno, f"a {t.op} needs 'reg' or 'addr' (or 'frame' and 'offset')")

    if name is not None and name.upper().startswith(PHYSICAL_PREFIXES):
        t.reg, t.skipped = name, True           # the physical GIC: out of scope
    elif name is not None:
        # the name decides; 'addr' is checked only where it points into a modelled frame
        reg = regs.lookup(name.upper())
        if reg is None:
            raise TraceError(path, lineno, _unknown_name(name, "v2"))
        if at is not None and at[0].modelled and (at[0].frame, at[1]) != (reg.frame, reg.offset):
            raise TraceError(path, lineno, f"'reg' {name} is at {reg.frame}+{reg.offset:#x} "
                             f"but {'frame/offset' if 'offset' in obj else repr('addr')} points at "
                             f"{at[0].frame}+{at[1]:#x}")
        t.reg, t.frame, t.offset = reg.full_name, reg.frame, reg.offset
    elif not at[0].modelled:
        t.reg, t.skipped = f"{at[0].frame}+{at[1]:#05x}", True
    else:
        frame, offset = at[0].frame, at[1]
        reg = regs.decode(frame, offset)
        t.reg = reg.full_name if reg else f"{frame}+{offset:#05x}"
        t.frame, t.offset = frame, offset
    if at is not None and at[0].modelled and at[0].view is not None and not t.skipped:
        t.gich_cpu = at[0].view

    if t.op == "write" and obj.get("value") is None:
        raise TraceError(path, lineno, "a write needs 'value' (an integer or hex string)")
    if "value" in obj and obj["value"] is not None:
        t.value = _int_field(obj, "value", path, lineno)
    if "strb" in obj:
        t.strb = _int_field(obj, "strb", path, lineno, bits=4)


def _frame_offset(obj, path, lineno, amap):
    """(window, offset) of a 'frame' + 'offset' pair (the 'addr', if also
    given, must agree)."""
    frame = obj.get("frame")
    if frame not in regs.FRAME_SIZE:
        hint = " (a GICv3 frame: replay with --arch v3)" if frame in sysregs.FRAME_SIZE else ""
        raise TraceError(path, lineno, f"'frame' must be one of {', '.join(regs.FRAME_SIZE)}, "
                         f"got {frame!r}{hint}")
    if "offset" not in obj:
        raise TraceError(path, lineno, "'frame' needs 'offset'")
    offset = _int_field(obj, "offset", path, lineno, bits=16)
    if offset >= regs.FRAME_SIZE[frame] or offset % 4:
        raise TraceError(path, lineno, f"offset {offset:#x} is not a word in the {frame} frame "
                         f"(0..{regs.FRAME_SIZE[frame] - 4:#x}, word aligned)")
    window = next(w for w in amap if w.modelled and w.frame == frame and w.view is None)
    if "addr" in obj:
        addr = _int_field(obj, "addr", path, lineno, bits=64)
        if _resolve_addr(addr, amap) != (window, offset):
            raise TraceError(path, lineno, f"'addr' {addr:#x} is not {frame}+{offset:#x} "
                             f"({frame} at {window.base:#x}; see --gich-base/--gicv-base)")
    return window, offset


def _unknown_name(name, arch):
    """The message for a name the `arch` register table lacks: a register of
    the other architecture says which --arch replays it."""
    upper = name.upper()
    if arch == "v2" and (sysregs.lookup(upper) or upper.startswith(PHYSICAL_PREFIXES_V3)):
        return f"{name} is a GICv3 register: replay this trace with --arch v3"
    if arch == "v3" and (regs.lookup(upper) or upper.startswith(PHYSICAL_PREFIXES)):
        return f"{name} is a GICv2 register: replay this trace with --arch v2 (the default)"
    table = "GICH_*, GICV_* of rtl/regs.py" if arch == "v2" else \
        "ICH_*_EL2, ICV_*_EL1 of rtl/sysregs.py"
    return f"unknown register name {name!r} (--arch {arch} names: {table})"


def _parse_sysreg_access(obj, t, path, lineno):
    """A GICv3 access (rtl/sysregs.py): a 64-bit system register named by
    'reg', or by 'frame' + 'offset', the start of its 8-byte slot in the
    memory-mapped layout (a slot without a register: RAZ/WI). Registers the
    configuration lacks (ICH_LR7_EL2 with 4 LRs) are accepted: RAZ/WI, as
    the hardware."""
    if "addr" in obj:
        raise TraceError(path, lineno, "'addr': system registers have no address (--arch v3); "
                         "name the register with 'reg', or with 'frame' and 'offset' "
                         "(its place in the memory-mapped ICH/ICV layout)")
    if "strb" in obj:
        raise TraceError(path, lineno, "'strb': system registers are accessed whole, "
                         "without byte enables (--arch v3)")
    name = obj.get("reg")
    if name is not None and not isinstance(name, str):
        raise TraceError(path, lineno, f"'reg' must be a string, got {name!r}")
    at = _sysreg_slot(obj, path, lineno) if "frame" in obj or "offset" in obj else None
    if name is None and at is None:
        raise TraceError(path, lineno, f"a {t.op} needs 'reg' (or 'frame' and 'offset')")

    legacy = t.arch == "v3-legacy"
    if legacy and name is not None and name.upper().startswith("GICV_"):
        reg = regs.lookup(name.upper())         # the guest's GICv2 frame (v3 10)
        if reg is None:
            raise TraceError(path, lineno, f"unknown register name {name!r}")
        t.reg, t.frame, t.offset = reg.full_name, reg.frame, reg.offset
    elif legacy and name is not None and name.upper().startswith("GICH_"):
        raise TraceError(path, lineno, f"{name} is a GICv2 hypervisor register: in legacy "
                         "operation the hypervisor uses ICH_*_EL2 (`vgic convert "
                         "v2-to-v3legacy` translates a GICv2 trace)")
    elif name is not None and name.upper().startswith(PHYSICAL_PREFIXES_V3) and \
            not (legacy and sysregs.lookup(name.upper()) is not None):
        t.reg, t.skipped = name, True           # the physical GIC: out of scope
    elif name is not None:
        reg = sysregs.lookup(name.upper())
        if reg is None:
            raise TraceError(path, lineno, _unknown_name(name, "v3"))
        if at is not None and at != (reg.frame, reg.offset):
            raise TraceError(path, lineno, f"'reg' {name} is at {reg.frame}+{reg.offset:#x} "
                             f"but frame/offset points at {at[0]}+{at[1]:#x}")
        t.reg, t.frame, t.offset = reg.full_name, reg.frame, reg.offset
    else:
        frame, offset = at
        reg, _ = sysregs.decode(frame, offset)
        t.reg = reg.full_name if reg else f"{frame}+{offset:#05x}"
        t.frame, t.offset = frame, offset

    if t.op == "write" and obj.get("value") is None:
        raise TraceError(path, lineno, "a write needs 'value' (an integer or hex string)")
    if "value" in obj and obj["value"] is not None:
        t.value = _int_field(obj, "value", path, lineno, bits=32 if t.frame == "GICV" else 64)


def _sysreg_slot(obj, path, lineno):
    """(frame, offset) of a GICv3 'frame' + 'offset' pair: the start of an
    8-byte register slot of the memory-mapped layout (rtl/sysregs.py)."""
    frame = obj.get("frame")
    if frame not in sysregs.FRAME_SIZE:
        hint = " (a GICv2 frame: replay with --arch v2)" if frame in regs.FRAME_SIZE else ""
        raise TraceError(path, lineno, f"'frame' must be one of {', '.join(sysregs.FRAME_SIZE)} "
                         f"for --arch v3, got {frame!r}{hint}")
    if "offset" not in obj:
        raise TraceError(path, lineno, "'frame' needs 'offset'")
    offset = _int_field(obj, "offset", path, lineno, bits=16)
    size = sysregs.FRAME_SIZE[frame]
    if offset >= size or offset % 8:
        reg, _ = sysregs.decode(frame, offset)
        inside = f": inside {reg.full_name}, at {frame}+{reg.offset:#x}" if reg else ""
        raise TraceError(path, lineno, f"offset {offset:#x} is not a register slot of the {frame} "
                         f"frame{inside} (--arch v3 accesses a whole 64-bit register, 8 bytes "
                         f"from an 8-byte aligned offset, 0..{size - 8:#x})")
    return frame, offset


def iter_trace(path, amap=None, num_cpus=1, arch="v2"):
    """Transactions of a trace file (plain or gzip), read line by line."""
    try:
        f = open_text(path)
    except FileError as e:
        raise TraceError(path, 0, str(e).removeprefix(f"{path}: ")) from None
    with f:
        lineno = 0

        def lines():
            nonlocal lineno
            for lineno, text in enumerate(f, 1):
                yield text
        try:
            yield from iter_transactions(lines(), path, amap, num_cpus, arch)
        except UnicodeDecodeError:
            raise TraceError(path, lineno + 1, "not UTF-8 text") from None
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise TraceError(path, lineno + 1, f"cannot read: {e}") from None


def read_trace(path, amap=None, num_cpus=1, arch="v2"):
    """A whole trace file as a list (validated before anything runs)."""
    return list(iter_trace(path, amap, num_cpus, arch))


def result_line(t, value, virq, vfiq, maint, deactivate, num_cpus=1):
    """One output line (a dict), laid out like the recorded traces. With
    several CPUs the lines come as masks (bit n: CPU n): virq, vfiq and maint
    are then the requesting CPU's, and virq_cpus... list every CPU's.
    `hex` has 8 digits, or 16 for a GICv3 transaction (64-bit registers)."""
    d = {"seq": t.seq, "op": t.op, "reg": t.reg if t.op != "reset" else None}
    if num_cpus > 1:
        d["cpu"] = t.cpu
        if t.gich_cpu is not None:
            d["gich_cpu"] = t.gich_cpu
        every = {f"{k}_cpus": [v >> n & 1 for n in range(num_cpus)]
                 for k, v in (("virq", virq), ("vfiq", vfiq), ("maint", maint))}
        virq, vfiq, maint = (v >> t.cpu & 1 for v in (virq, vfiq, maint))
    if t.op != "reset":
        d["value"] = value
        d["hex"] = None if value is None else f"{value:#0{18 if t.arch != 'v2' and t.frame != 'GICV' else 10}x}"
    d.update(virq=virq, vfiq=vfiq, maint=maint, deactivate=list(deactivate))
    if num_cpus > 1:
        d.update(every)
    if t.skipped:
        d["skipped"] = True
    return d
