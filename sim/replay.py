# Ref: docs/traces.md (the replay trace format, `vgic replay`)
"""`vgic replay`: run a JSON-lines trace on the golden model, an RTL engine,
or the model and an RTL engine in lock step.

A GICv2 transaction is one 32-bit register access. A GICv3 one (`--arch
v3`) is a 64-bit system-register access, run as 32-bit accesses on the
memory-mapped layout of rtl/sysregs.py, which every engine has: the low half
then the high half of a register with data in both (ICH_LR<n>_EL2), the low
half alone of any other (so an ICV_IAR1_EL1 read acknowledges once).

The trace streams: each line is read, checked, run and its result written
before the next is read, so memory does not grow with the trace. Results go
through a temporary file renamed into place only when the whole trace ran
(sim/files.py), so a bad line or a divergence near the end never leaves an
output file that looks complete.
"""
import collections
import json
import os
import re
import sys

from .diff import DiffRunner, Divergence, make_engine, observe
from .files import AtomicOutput, FileError, check_output
from .progress import StatusLine
from .stimulus import Txn
from ..rtl import regs, sysregs
from .trace import TraceError, address_map, check_arch, iter_trace, result_line

__all__ = ["make_engine", "replay", "replay_iter", "Comparison", "run"]

LINES = ("virq", "vfiq", "maint")


def _txn(t):
    return Txn(t.op, t.frame or "GICH", t.offset, t.value or 0, t.strb, t.cpu, t.gich_cpu)


def _txns(t):
    """The 32-bit accesses of a transaction (module docstring): a GICv2 one
    (or a reset) is one; a GICv3 register with data in its high half
    (SysReg.width 64) is two, the low half first."""
    if t.arch == "v2" or t.op == "reset":
        return [_txn(t)]
    reg, _ = sysregs.decode(t.frame, t.offset)
    halves = reg.halves if reg is not None else [(t.offset, 0)]     # t.offset: the slot's start
    return [Txn(t.op, t.frame, offset, ((t.value or 0) >> shift) & 0xFFFF_FFFF,
                0xF, t.cpu, t.gich_cpu) for offset, shift in halves]


def replay_iter(transactions, engines, names=("model", "rtl"), num_cpus=1):
    """Run transactions on one engine, or on two in lock step (sim/diff.py,
    which raises Divergence at the first difference; `names` name the two in
    its report). Yields (transaction, result line of the first engine) one at
    a time. A transaction of two 32-bit accesses (GICv3's 64-bit registers)
    reads low | high << 32, shows the lines after the second and the
    deactivations forwarded during both."""
    runner = DiffRunner(*engines, names=names) if len(engines) == 2 else None
    for t in transactions:
        if t.skipped:                        # physical GIC: passed over
            e = engines[0]
            yield t, result_line(t, t.value, e.virq, e.vfiq, e.maint, [], num_cpus)
            continue
        data, forwarded = 0, ()
        try:
            for half, txn in enumerate(_txns(t)):
                obs = runner.step(txn) if runner else observe(engines[0], txn)
                data |= (obs.data or 0) << 32 * half
                forwarded += obs.forwarded
        except Divergence as e:
            e.context = f"  trace line {t.lineno} (seq {t.seq})" + ("\n" + e.context if e.context else "")
            raise
        for e in engines:                    # what this access forwarded is in `forwarded`
            e.forwarded.clear()
        value = data if t.op == "read" else t.value
        yield t, result_line(t, value, obs.virq, obs.vfiq, obs.maint, forwarded, num_cpus)


def replay(transactions, engines):
    """replay_iter as a list of result lines (for short traces)."""
    return [r for _, r in replay_iter(transactions, engines)]


class Timing:
    """`--timing`: the trace's accesses issued to a second fast engine back to
    back, each in the first cycle the bus takes it (FastEngine.issue), and its
    read data checked against the replay's (one at a time): answers must not
    depend on how closely requests follow each other. `bus` (`--bus`): the
    core's own register bus ("core"), or the core behind that bridge, driven
    by a manager that presents each request as soon as the bus lets it.
    GICv3 (`v3`, V3Config parameters): each 32-bit access of a transaction
    (_txns), checked half by half."""

    def __init__(self, num_lrs, bus="core", num_cpus=1, v3=None):
        from .fast import FastEngine
        self.bus, self.num_cpus, self.v3 = bus, num_cpus, v3
        arch = {} if v3 is None else {"arch": "v3", **v3}
        self.core = FastEngine(num_lrs, bus=bus, **({"num_cpus": num_cpus} if num_cpus > 1 else {}),
                               **arch)
        self.expected = collections.deque()     # (transaction, value) of reads issued

    def add(self, t, r):
        if t.skipped:
            return
        if t.op == "reset":
            self.core.issue("reset", 0)
        else:
            by = {"cpu": t.cpu} if self.num_cpus > 1 else {}
            for half, txn in enumerate(_txns(t)):          # GICv3's 64-bit registers: two
                addr = regs.bus_addr(txn.frame, txn.offset, txn.gich_cpu, self.num_cpus)
                if addr is None or (txn.gich_cpu or 0) >= self.num_cpus:
                    addr = regs.alias_addr(regs.MAX_CPUS - 1, 0)   # a view the core lacks: RAZ/WI
                self.core.issue(t.op, addr, txn.value, txn.strb, **by)
                if t.op == "read":
                    self.expected.append((t, r["value"] >> 32 * half & 0xFFFF_FFFF))
        if len(self.expected) >= 4096:
            self._check(self.core.take_reads())

    def _check(self, got):
        for value in got:
            t, want = self.expected.popleft()
            if value != want:
                raise TimingMismatch(t, want, value)

    def finish(self):
        """Bus cycles per access (resets not counted as accesses)."""
        self._check(self.core.take_reads(drain=True))
        cycles, issued = self.core.timing()
        self.core.close()
        return cycles / issued if issued else 0.0


class TimingMismatch(Exception):
    def __init__(self, t, want, got):
        super().__init__(f"trace line {t.lineno} (seq {t.seq}): read {t.reg} returned {got:#010x} "
                         f"with requests back to back, {want:#010x} one at a time")


class Comparison:
    """Replay results against the values recorded in the trace: every read
    value and every recorded virq/vfiq/maint/deactivate. Keeps the first
    `keep` differences (each with the transactions just before it) and
    counts the rest per register and field, so the report stays short."""

    def __init__(self, keep=20, context=3):
        self.keep, self.compared, self.total = keep, 0, 0
        self.first = []                                  # (t, field, recorded, ours, context)
        self.by_reg = collections.Counter()              # (reg, field) -> differences
        self._recent = collections.deque(maxlen=context)

    def add(self, t, r):
        if t.skipped:
            return
        checks = []
        if t.op == "read" and t.value is not None:
            checks.append(("value", t.value, r["value"]))
        checks += [(k, t.recorded[k], r[k]) for k in (*LINES, "deactivate") if k in t.recorded]
        self.compared += len(checks)
        for k, rec, ours in checks:
            if rec != ours:
                self.total += 1
                self.by_reg[(t.reg or "(reset)", k)] += 1
                if len(self.first) < self.keep:
                    self.first.append((t, k, rec, ours, list(self._recent)))
        self._recent.append((t, r))

    def verdict(self, tool, path, n, skipped, out, arch="v2"):
        """The report, a summary line and the exit status: 1 on a difference;
        2 if nothing was compared, or if most of the `n` transactions were
        `skipped` as physical-GIC accesses (a wrong address map looks like
        that: no false pass); else 0."""
        self.report(path, out)
        print(f"{tool}: compared with the recording: {self.compared} values, "
              f"{self.total} difference(s)", file=out)
        if self.total:
            return 1
        if self.compared == 0:
            print(f"{tool}: error: --compare found no recorded value to compare "
                  "(no read values or line levels in the trace)", file=out)
            return 2
        if skipped * 2 > n:
            check = ("check the address map (--gich-base/--gicv-base, --gic400-base)"
                     if arch == "v2" else "the trace is mostly not of the virtual interface")
            print(f"{tool}: error: {skipped} of {n} transactions were skipped as physical-GIC "
                  f"accesses; {check}", file=out)
            return 2
        return 0

    def report(self, path, out):
        for t, k, rec, ours, context in self.first:
            for c, cr in context:
                print(f"    {path}:{c.lineno}: seq {c.seq} {c.op} {c.reg or ''} -> "
                      f"value {cr.get('value')!r} virq={cr['virq']} vfiq={cr['vfiq']} "
                      f"maint={cr['maint']}", file=out)
            print(f"{path}:{t.lineno}: seq {t.seq} {t.op} {t.reg}: {k} recorded {rec!r}, "
                  f"replay {ours!r}", file=out)
        if self.total > len(self.first):
            print(f"... {self.total - len(self.first)} more; differences per register and field:",
                  file=out)
            for (reg, k), n in self.by_reg.most_common():
                print(f"    {reg} {k}: {n}", file=out)


# --arch v3's parameters: option -> V3Config field (rtl/sysregs.py)
V3_OPTIONS = {"--lrs": "num_lrs", "--pri-bits": "pri_bits", "--pre-bits": "pre_bits",
              "--id-bits": "id_bits", "--rp-unmasked": "rp_masked", "--legacy": "legacy"}


def _option(args, option):
    """The value of a long option, None if not given (a flag: True or None)."""
    value = getattr(args, option[2:].replace("-", "_"), None)
    return None if value is False else value


def v3_params(args):
    """The V3Config parameters the options give, num_lrs aside (those not
    given: V3Config's defaults)."""
    params = {field: _option(args, option) for option, field in V3_OPTIONS.items()
              if option not in ("--lrs", "--rp-unmasked", "--legacy")
              and _option(args, option) is not None}
    if _option(args, "--rp-unmasked"):
        params["rp_masked"] = False
    if _option(args, "--legacy"):
        params["legacy"] = True
    return params


def reader_arch(args):
    """The trace reader's arch (sim/trace.py ARCHS): v3 in legacy operation
    reads GICV_* names as the guest's GICv2 frame."""
    arch = getattr(args, "arch", "v2")
    return "v3-legacy" if arch == "v3" and _option(args, "--legacy") else arch


def _check_arch_args(args):
    """--arch and its parameters: a message, or None."""
    arch = getattr(args, "arch", "v2")
    if arch == "v2":
        given = [o for o in V3_OPTIONS if o != "--lrs" and _option(args, o) is not None]
        if given:
            return (f"{', '.join(given)}: {'parameters' if len(given) > 1 else 'a parameter'} "
                    "of --arch v3 (this run is --arch v2)")
        return None
    try:
        check_arch(arch, args.cpus)
        sysregs.V3Config(args.lrs, **v3_params(args))
    except ValueError as e:                  # V3Config's message, in the options' names
        return re.sub(r"\b(%s)\b" % "|".join(V3_OPTIONS.values()),
                      lambda m: next(o for o, f in V3_OPTIONS.items() if f == m[1]), str(e))
    for option in ("--gich-base", "--gicv-base", "--gic400-base"):
        if _option(args, option) is not None:
            return (f"{option}: an address map of GICv2's frames; --arch v3 traces name "
                    "system registers, which have no address")
    return None


def _check_args(args):
    """Argument errors, found before anything runs: a message, or None."""
    problem = _check_arch_args(args)
    if problem:
        return problem
    if args.vcd and args.engine == "model":
        return "--vcd needs --engine rtl or both, or --engine fast (the model has no waveform)"
    if args.rtl != "amaranth" and args.engine != "both":
        return "--rtl chooses the RTL engine of --engine both"
    if args.timing and not (args.engine == "fast" or (args.engine == "both" and args.rtl == "fast")):
        return "--timing needs the fast engine (--engine fast, or --engine both --rtl fast)"
    if getattr(args, "bus", "core") != "core" and not args.timing:
        return f"--bus {args.bus} chooses the bus of --timing (add --timing)"
    try:
        check_output(args.output, inputs=[args.trace])
        if args.vcd:
            if args.output and os.path.abspath(args.output) == os.path.abspath(args.vcd):
                return f"--vcd {args.vcd}: the same file as -o"
            check_output(args.vcd, inputs=[args.trace], option="--vcd")
            check_output(os.path.splitext(args.vcd)[0] + ".gtkw", inputs=[args.trace],
                         option="--vcd (its GTKWave save file)")
    except FileError as e:
        return str(e)
    return None


def _engines(args):
    """The engines to run, with their names for the report."""
    rtl = "fast" if args.engine == "fast" or (args.engine == "both" and args.rtl == "fast") else "rtl"
    kinds = ["model", rtl] if args.engine == "both" else [rtl if args.engine != "model" else "model"]
    cpus = {"num_cpus": args.cpus} if args.cpus > 1 else {}
    if getattr(args, "arch", "v2") == "v3":
        cpus.update(arch="v3", **v3_params(args))
    return kinds, [make_engine(k, args.lrs, args.vcd if k != "model" else None, **cpus)
                   for k in kinds]


def run(args):
    err = sys.stderr
    problem = _check_args(args)
    arch = getattr(args, "arch", "v2")
    try:
        amap = address_map(args.gich_base, args.gicv_base, args.gic400_base, args.cpus)
    except ValueError as e:
        problem = problem or str(e)
    if problem:
        print(f"vgic replay: error: {problem}", file=err)
        return 2
    try:
        kinds, engines = _engines(args)
        timing = (Timing(args.lrs, getattr(args, "bus", "core"), args.cpus,
                         v3_params(args) if arch == "v3" else None) if args.timing else None)
    except Exception as e:                   # Verilator missing, build failure
        print(f"vgic replay: error: engine {args.engine} is not available: {e}", file=err)
        return 2
    what = "+".join(kinds)
    comparison = Comparison(keep=args.max_report) if args.compare else None
    progress = None if args.quiet else StatusLine(err, interval=2.0)
    n = skipped = 0
    t = None
    try:
        with AtomicOutput(args.output) as out:
            for t, r in replay_iter(iter_trace(args.trace, amap, args.cpus, reader_arch(args)),
                                    engines,
                                    tuple(kinds), args.cpus):
                n += 1
                skipped += t.skipped
                out.write(json.dumps(r) + "\n")
                if comparison is not None:
                    comparison.add(t, r)
                if timing is not None:
                    timing.add(t, r)
                if progress is not None and n % 1024 == 0 and progress.due():
                    progress.show(f"replay {what}: {n:,} transactions, "
                                  f"{n / progress.elapsed:,.0f}/s")
            if n == 0:
                print(f"vgic replay: error: {args.trace}: no transactions (lines with 'op')",
                      file=err)
                return 2
            per_access = timing.finish() if timing is not None else None
            out.commit()
    except TraceError as e:
        _finish(progress)
        print(f"vgic replay: error: {e}", file=err)
        return 2
    except Divergence as e:
        _finish(progress)
        print(f"vgic replay: {args.trace}: {e.report()}", file=err)
        return 1
    except TimingMismatch as e:
        _finish(progress)
        print(f"vgic replay: {args.trace}: --timing: {e}", file=err)
        return 1
    except KeyboardInterrupt:
        _finish(progress)
        where = f" (last: {args.trace}:{t.lineno}, seq {t.seq})" if t is not None else ""
        print(f"\nvgic replay: interrupted after {n:,} transactions{where}; no output written",
              file=err)
        return 130
    finally:
        if timing is not None:
            timing.core.close()
        for e in engines:
            if hasattr(e, "close"):
                e.close()
        if args.vcd and os.path.exists(args.vcd):     # also (above all) after a divergence
            from .wave import write_gtkw
            write_gtkw(args.vcd, num_lrs=args.lrs, num_cpus=args.cpus)
    _finish(progress)
    ran = n - skipped
    cpus = f", {args.cpus} CPUs" if args.cpus > 1 else ""
    cpus += ", arch v3" if arch == "v3" else ""
    print(f"vgic replay: {ran} transactions on {what} ({args.lrs} LRs{cpus})"
          + (f", {skipped} physical-GIC accesses skipped" if skipped else "")
          + (", no divergence" if len(engines) == 2 else ""), file=err)
    if per_access is not None:
        via = "" if timing.bus == "core" else f" (through the {timing.bus} bridge)"
        print(f"cycles per transaction: {per_access:.3f}{via}", file=err)
    if args.vcd:
        print(f"vgic replay: waveform {args.vcd}, GTKWave save file "
              f"{os.path.splitext(args.vcd)[0]}.gtkw", file=err)
    return 0 if comparison is None else comparison.verdict("vgic replay", args.trace, n, skipped,
                                                          err, arch)



def _finish(progress):
    if progress is not None:
        progress.finish()
