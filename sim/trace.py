# Ref: docs/traces.md (the replay trace format)
"""JSON-lines register traces: reading line by line (with file:line errors)
and result lines. ``iter_trace`` streams a file of any length (plain or
gzip); ``read_trace`` is the same as a list, for short traces."""
import gzip
import json
import zlib
from dataclasses import dataclass, field

from ..rtl import regs
from .files import FileError, open_text

__all__ = ["Transaction", "TraceError", "iter_trace", "read_trace", "iter_transactions",
           "parse_lines", "result_line", "address_map", "DEFAULT_BASES"]

# Absolute address maps. Only GICH/GICV are modelled; windows of the physical
# GIC (GICD, GICC, other CPUs' GICH aliases) are passed over ("skipped").
DEFAULT_BASES = {"GICH": 0x0803_0000, "GICV": 0x0804_0000}          # QEMU virt
QEMU_PHYSICAL = {"GICD": (0x0800_0000, 0x1000), "GICC": (0x0801_0000, 0x2000)}
PHYSICAL_PREFIXES = ("GICD_", "GICC_")


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
    frame: str = ""             # "GICH"/"GICV"; "" for reset and skipped lines
    offset: int = 0
    value: int | None = None    # write: value written; read: value recorded (or None)
    strb: int = 0xF
    skipped: bool = False       # GICD_/GICC_ access: physical GIC, out of scope
    recorded: dict = field(default_factory=dict)   # virq/vfiq/maint/deactivate as recorded
    cpu: int = 0                # the requesting CPU
    gich_cpu: int | None = None # GICH through this CPU's processor-specific view

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


def iter_transactions(lines, path="<trace>", amap=None, num_cpus=1):
    """Transactions of an iterable of text lines, one at a time. Raises
    TraceError at the first bad line (after yielding the ones before it).
    `num_cpus`: the core's CPUs ('cpu' and 'gich_cpu' must name one)."""
    amap = address_map() if amap is None else amap
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
        yield _transaction(obj, count, path, lineno, amap, num_cpus)
        count += 1


def parse_lines(lines, path="<trace>", amap=None, num_cpus=1):
    """All transactions of an iterable of text lines, as a list."""
    return list(iter_transactions(lines, path, amap, num_cpus))


def _cpu_field(obj, key, path, lineno, num_cpus):
    n = obj[key]
    if isinstance(n, bool) or not isinstance(n, int):
        raise TraceError(path, lineno, f"'{key}' must be a CPU number (an integer), got {n!r}")
    if not 0 <= n < num_cpus:
        raise TraceError(path, lineno, f"'{key}' is {n}, but the core has {num_cpus} CPU"
                         f"{'s' if num_cpus > 1 else ''} (0..{num_cpus - 1}; --cpus)")
    return n


def _transaction(obj, count, path, lineno, amap, num_cpus=1):
    op = obj["op"]
    if op not in ("read", "write", "reset"):
        raise TraceError(path, lineno, f"unknown op {op!r}: expected 'read', 'write' or 'reset'")
    seq = obj.get("seq", count)
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise TraceError(path, lineno, f"'seq' must be an integer, got {seq!r}")
    t = Transaction(lineno=lineno, seq=seq, op=op)
    for line_name in ("virq", "vfiq", "maint"):
        if line_name in obj:
            if isinstance(obj[line_name], bool) or obj[line_name] not in (0, 1):
                raise TraceError(path, lineno, f"'{line_name}' must be 0 or 1, got {obj[line_name]!r}")
            t.recorded[line_name] = int(obj[line_name])
    if "deactivate" in obj:
        d = obj["deactivate"]
        if not isinstance(d, list) or not all(isinstance(x, int) and not isinstance(x, bool)
                                              and 0 <= x < 1024 for x in d):
            raise TraceError(path, lineno, f"'deactivate' must be a list of INTIDs 0..1023, got {d!r}")
        t.recorded["deactivate"] = d
    if op != "reset":
        _parse_access(obj, t, path, lineno, amap)
    if "cpu" in obj:
        t.cpu = _cpu_field(obj, "cpu", path, lineno, num_cpus)
    if "gich_cpu" in obj:
        if op == "reset" or t.frame != "GICH":
            raise TraceError(path, lineno, "'gich_cpu' names a processor-specific GICH view: "
                             "for GICH accesses only")
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
            raise TraceError(path, lineno, f"unknown register name {name!r}")
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
        raise TraceError(path, lineno, f"'frame' must be one of {', '.join(regs.FRAME_SIZE)}, "
                         f"got {frame!r}")
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


def iter_trace(path, amap=None, num_cpus=1):
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
            yield from iter_transactions(lines(), path, amap, num_cpus)
        except UnicodeDecodeError:
            raise TraceError(path, lineno + 1, "not UTF-8 text") from None
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise TraceError(path, lineno + 1, f"cannot read: {e}") from None


def read_trace(path, amap=None, num_cpus=1):
    """A whole trace file as a list (validated before anything runs)."""
    return list(iter_trace(path, amap, num_cpus))


def result_line(t, value, virq, vfiq, maint, deactivate, num_cpus=1):
    """One output line (a dict), laid out like the recorded traces. With
    several CPUs the lines come as masks (bit n: CPU n): virq, vfiq and maint
    are then the requesting CPU's, and virq_cpus... list every CPU's."""
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
        d["hex"] = None if value is None else f"{value:#010x}"
    d.update(virq=virq, vfiq=vfiq, maint=maint, deactivate=list(deactivate))
    if num_cpus > 1:
        d.update(every)
    if t.skipped:
        d["skipped"] = True
    return d
