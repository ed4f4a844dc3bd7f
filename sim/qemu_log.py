# Ref: QEMU 7.2 hw/intc/arm_gic.c and hw/intc/trace-events (GICv2 events); docs/traces.md
"""`vgic import qemu`: a QEMU GICv2 trace log into a replay trace.

QEMU's `log` trace backend writes one line per event, `NAME message`,
optionally prefixed `PID@SECONDS.MICROS:`. Every GICH access (gic_hyp_*) and
GICV access (gic_cpu_* of a `vcpu`) becomes one transaction, in log order.
Physical GICD/GICC accesses are left out and counted.

Line levels (docs/traces.md, "When the levels are present"): QEMU recomputes
the virtual lines only inside some accesses, as zero or more
gic_update_set_irq virq/vfiq lines (a line raised; lowering is not traced)
closed by one gic_update_maintenance_irq. A write is traced before it acts,
so a recomputation after its line belongs to it; a GICV read is traced after
it acts, so the recomputation between a `vcpu` gic_acknowledge_irq and the
read is the IAR's. Those transactions get `virq`, `vfiq` and `maint`; the
others get none, since QEMU did not look at the lines then.

One pass, line by line, at most one transaction held back (a write waiting
for its recomputation): memory does not grow with the log.
"""
import json
import os
import re
import sys
import zlib
from collections import Counter
from dataclasses import dataclass, field

from ..rtl import regs
from .files import AtomicOutput, FileError, check_output, open_text
from .progress import StatusLine
from .trace import DEFAULT_BASES

__all__ = ["LogError", "Counts", "Importer", "scenario_name", "run"]

_X8 = r"0x([0-9a-fA-F]{8})"                  # %08x of a 32-bit value: always 8 digits
_IFACE = r"(cpu|vcpu) (\d+)"

# Message formats of the events read, as in QEMU 7.2 hw/intc/trace-events.
EVENTS = {
    "gic_hyp_read": re.compile(rf"hyp read at {_X8}: {_X8}"),
    "gic_hyp_write": re.compile(rf"hyp write at {_X8}: {_X8}"),
    "gic_cpu_read": re.compile(rf"{_IFACE} iface read at {_X8}: {_X8}"),
    "gic_cpu_write": re.compile(rf"{_IFACE} iface write at {_X8} {_X8}"),
    "gic_dist_read": re.compile(rf"dist read at {_X8} size (\d+): {_X8}"),
    "gic_dist_write": re.compile(rf"dist write at {_X8} size (\d+): {_X8}"),
    "gic_acknowledge_irq": re.compile(rf"{_IFACE} acknowledged irq (\d+)"),
    "gic_update_set_irq": re.compile(r"cpu\[(\d+)\]: (irq|fiq|virq|vfiq) = ([01])"),
    "gic_update_maintenance_irq": re.compile(r"cpu (\d+): maintenance = ([01])"),
    "gic_lr_entry": re.compile(rf"cpu (\d+): new lr entry (\d+): {_X8}"),
}
# [PID@SECONDS.MICROS:]NAME[ message]
_LINE = re.compile(r"(?:\d+@\d+\.\d+:)?([A-Za-z_]\w*)(?: (.*))?")

PROGRESS_SECONDS = 2.0


class LogError(Exception):
    """A log the importer cannot use: str() is 'LOG:LINE: what is wrong'."""

    def __init__(self, path, lineno, message):
        super().__init__(f"{path}:{lineno}: {message}" if lineno else f"{path}: {message}")


@dataclass
class Counts:
    lines: int = 0
    written: int = 0
    with_levels: int = 0                        # transactions carrying virq/vfiq/maint
    physical: Counter = field(default_factory=Counter)     # "GICD read", "GICC write", ...
    events: Counter = field(default_factory=Counter)       # other events, by name
    skipped: Counter = field(default_factory=Counter)      # "unknown", "blank"
    stray: int = 0                              # recomputations that belong to no access

    @property
    def gic_events(self):
        return self.written + sum(self.physical.values()) + sum(self.events.values())


def scenario_name(path):
    """The log's file name without .gz and .log."""
    name = os.path.basename(path)
    for ext in (".gz", ".log"):
        if name.endswith(ext) and len(name) > len(ext):
            name = name[: -len(ext)]
    return name


class Importer:
    """Turns log lines into transaction dicts: `feed` one line, get back the
    transactions it completes; `finish` at the end of the log."""

    def __init__(self, path, scenario, skip_unknown=False):
        self.path, self.scenario, self.skip_unknown = path, scenario, skip_unknown
        self.counts = Counts()
        self.cpu = None                 # the one CPU number seen so far
        self.pending = None             # a GICH/GICV write whose recomputation may follow
        self.raised = {}                # virq/vfiq raised in the recomputation under way
        self.acked = False              # a vcpu acknowledge seen; its IAR read not yet
        self.iar_levels = None          # the recomputation inside that IAR read
        self.gicv3 = False              # skipped lines of QEMU's GICv3 events

    def _error(self, lineno, message):
        return LogError(self.path, lineno, message)

    def feed(self, lineno, text):
        self.counts.lines = lineno
        text = text.rstrip("\r\n")
        if not text.strip():
            self.counts.skipped["blank"] += 1
            return []
        m = _LINE.fullmatch(text)
        name, message = (m.group(1), m.group(2)) if m else (None, None)
        if name in EVENTS:
            if message is None:
                raise self._error(lineno, f"truncated line: {name} without its message")
            args = EVENTS[name].fullmatch(message)
            if args is None:
                raise self._error(lineno, f"{name}: cannot read its message {message!r} "
                                          "(truncated, or not QEMU 7.2's format)")
            return self._event(lineno, name, args.groups())
        if name and message is None and any(e.startswith(name) for e in EVENTS):
            raise self._error(lineno, f"truncated line: {text!r}")
        if self.skip_unknown:
            self.counts.skipped["unknown"] += 1
            self.gicv3 = self.gicv3 or bool(name and name.startswith("gicv3_"))
            return []
        what = f"unknown event {name!r}" if name else f"not a QEMU trace event line: {text[:60]!r}"
        raise self._error(lineno, f"{what} (--skip-unknown skips lines of other events)")

    def _check_cpu(self, lineno, cpu):
        cpu = int(cpu)
        if self.cpu is None:
            self.cpu = cpu
        elif cpu != self.cpu:
            raise self._error(lineno, f"CPU {cpu} after CPU {self.cpu}: logs of more than one "
                                      "CPU are not supported yet (GICH accesses carry no CPU "
                                      "number in QEMU's log, and replay traces none)")

    def _event(self, lineno, name, a):
        c = self.counts
        match name:
            case "gic_hyp_read" | "gic_hyp_write":
                op = "read" if name == "gic_hyp_read" else "write"
                return self._access(lineno, op, "GICH", int(a[0], 16), int(a[1], 16))
            case "gic_cpu_read" | "gic_cpu_write":
                self._check_cpu(lineno, a[1])
                op = "read" if name == "gic_cpu_read" else "write"
                if a[0] == "vcpu":
                    return self._access(lineno, op, "GICV", int(a[2], 16), int(a[3], 16))
                c.physical[f"GICC {op}"] += 1
                return self._end_access()
            case "gic_dist_read" | "gic_dist_write":
                c.physical["GICD read" if name == "gic_dist_read" else "GICD write"] += 1
                return self._end_access()
            case "gic_acknowledge_irq":
                # traced at the start of an IAR read, before anything it does
                self._check_cpu(lineno, a[1])
                c.events[name] += 1
                done = self._end_access()
                self.acked = a[0] == "vcpu"
                return done
            case "gic_update_set_irq":
                self._check_cpu(lineno, a[0])
                c.events[name] += 1
                if a[1] in ("virq", "vfiq"):
                    self.raised[a[1]] = int(a[2])
                return []
            case "gic_update_maintenance_irq":
                # the last event of a recomputation of the virtual lines
                self._check_cpu(lineno, a[0])
                c.events[name] += 1
                levels = {"virq": self.raised.get("virq", 0), "vfiq": self.raised.get("vfiq", 0),
                          "maint": int(a[1])}
                self.raised = {}
                if self.pending is not None:
                    self.pending[1].update(levels)        # a second one (GICV_DIR) wins
                elif self.acked:
                    self.iar_levels = levels
                else:
                    c.stray += 1
                return []
            case "gic_lr_entry":
                self._check_cpu(lineno, a[0])
                c.events[name] += 1
                return []
        raise AssertionError(name)

    def _end_access(self):
        """Another access begins: the held-back write is complete."""
        done = [] if self.pending is None else [self._emit(*self.pending)]
        self.pending = None
        self.acked, self.iar_levels, self.raised = False, None, {}
        return done

    def _access(self, lineno, op, frame, offset, value):
        if offset >= regs.FRAME_SIZE[frame] or offset % 4:
            raise self._error(lineno, f"{frame} offset {offset:#x} is not a word in the "
                                      f"{regs.FRAME_SIZE[frame]:#x}-byte frame")
        levels = self.iar_levels if (op, frame, offset) == ("read", "GICV", 0x0C) else None
        if levels is None and self.iar_levels is not None:
            self.counts.stray += 1
        done = self._end_access()
        t = self._transaction(op, frame, offset, value)
        if op == "write":
            self.pending = (t, {})
        else:
            done.append(self._emit(t, levels or {}))
        return done

    def _transaction(self, op, frame, offset, value):
        t = {"scenario": self.scenario, "seq": self.counts.written, "op": op}
        reg = regs.decode(frame, offset)
        named = reg is not None and reg.access != "RES"
        if named:
            t["reg"] = reg.full_name
        t["value"], t["hex"] = value, f"{value:#010x}"
        if not named:
            t.update(frame=frame, offset=f"{offset:#05x}",
                     addr=f"{DEFAULT_BASES[frame] + offset:#x}")
        return t

    def _emit(self, t, levels):
        t.update(levels)
        self.counts.written += 1
        self.counts.with_levels += bool(levels)
        return t

    def finish(self):
        """The transactions still held back. Raises LogError for a log
        without GIC events or without GICH/GICV accesses."""
        done = self._end_access()
        c = self.counts
        if c.gic_events == 0:
            if self.gicv3:
                raise LogError(self.path, 0, "a GICv3 log (gicv3_* events): only QEMU's GICv2 "
                                             "events (gic_*) are read")
            what = "is empty" if c.lines == 0 else f"has no GIC trace events in {c.lines} line(s)"
            raise LogError(self.path, 0, f"{what}; record with -trace events=FILE -D LOG, FILE "
                                         "listing the GICv2 gic_* events (docs/traces.md)")
        if c.written == 0:
            raise LogError(self.path, 0, "no GICH or GICV access in the log (only the physical "
                                         "GIC's): nothing to replay; was a hypervisor running "
                                         "with virtualization=on?")
        return done


def numbered(log, path):
    """(line number, text) of each line; a read error as a LogError."""
    lineno = 0
    try:
        for lineno, text in enumerate(log, 1):
            yield lineno, text
    except UnicodeDecodeError:
        raise LogError(path, lineno + 1, "not UTF-8 text") from None
    except (EOFError, zlib.error, OSError) as e:       # a gzip file cut short or damaged
        raise LogError(path, lineno + 1, f"cannot read on: {e}") from None


def convert(log, out, importer, progress=None):
    """Feed the log's lines to the importer and write each transaction as one
    JSON line to `out`, after a title line."""
    out.write(json.dumps({"scenario": importer.scenario,
                          "title": f"imported from {os.path.basename(importer.path)} "
                                   "by vgic import qemu"}) + "\n")
    for lineno, text in numbered(log, importer.path):
        for t in importer.feed(lineno, text):
            out.write(json.dumps(t) + "\n")
        if progress is not None and lineno % 4096 == 0 and progress.due():
            c = importer.counts
            progress.show(f"vgic import qemu: {c.lines:,} lines read, {c.written:,} "
                          f"transactions written, {progress.elapsed:.0f}s")
    for t in importer.finish():
        out.write(json.dumps(t) + "\n")
    return importer.counts


def summary(counts, output):
    """The end-of-run report (stderr)."""
    def listing(counter):
        return ", ".join(f"{n:,} {k}" for k, n in sorted(counter.items())) or "none"
    text = [f"vgic import qemu: {counts.written:,} GICH/GICV transactions written to "
            f"{'standard output' if output in (None, '-') else output} "
            f"({counts.with_levels:,} with line levels), from {counts.lines:,} lines",
            f"  physical accesses left out: {sum(counts.physical.values()):,} "
            f"({listing(counts.physical)})",
            f"  other events: {listing(counts.events)}",
            f"  lines skipped: {sum(counts.skipped.values()):,} ({listing(counts.skipped)})"]
    if counts.written and not counts.events["gic_update_maintenance_irq"]:
        text.append("  note: no gic_update_maintenance_irq events, so no line levels: add it "
                    "(and gic_update_set_irq, gic_acknowledge_irq) to the events file")
    if counts.stray:
        text.append(f"  warning: {counts.stray:,} recomputation(s) of the virtual lines belong "
                    "to no GICH/GICV access (not QEMU 7.2's order of events?)")
    return "\n".join(text)


def run(args):
    """Entry point of `vgic import qemu` (options: sim/cli.py)."""
    progress = None
    try:
        with open_text(args.log) as log:
            check_output(args.output, inputs=[args.log])       # before any work
            progress = None if args.quiet else StatusLine(interval=PROGRESS_SECONDS)
            importer = Importer(args.log, scenario_name(args.log), args.skip_unknown)
            with AtomicOutput(args.output) as out:
                counts = convert(log, out, importer, progress)
                out.commit()
    except (LogError, FileError) as e:
        status, message = 2, f"vgic import qemu: error: {e}"
    except OSError as e:                                       # writing the output
        status, message = 2, f"vgic import qemu: error: {args.output}: {e.strerror or e}"
    except KeyboardInterrupt:
        status, message = 130, "vgic import qemu: interrupted; no output written"
    else:
        status, message = 0, summary(counts, args.output)
    finally:
        if progress is not None:
            progress.finish()
    print(message, file=sys.stderr)
    return status
