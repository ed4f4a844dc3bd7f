# Ref: project-internal (benchmark); sim/replay.py (`vgic replay`), docs/traces.md
"""Replay at scale: `vgic replay --compare` throughput and peak memory per engine.

The trace is the recorded KVM run of tests/data/kvm (Linux 6.1 KVM, vgic-v2,
on QEMU 7.2) repeated, a reset between copies, up to --n transactions
(default 1,000,000), written once to build/bench_replay/. Each engine replays
it as one `vgic replay TRACE --compare -o OUT -q` command in a child process,
timed end to end (start-up, Verilog generation and loading of the cached
Verilator build included: the build itself is done once before timing).
Peak memory is the child's maximum resident set size (os.wait4). The
Amaranth simulator is slow, so it replays the first --rtl-n transactions;
its memory figure is for that slice.

    python3 bench/bench_replay.py [--n 1000000] [--rtl-n 20000] [--engines model,fast,both-fast,rtl]

Prints a table (transactions/s, seconds, peak RSS MB, differences); JSON in
build/bench_replay.json. `--arch v3`: the recorded KVM vgic-v3 run of
tests/data/kvm3 instead, replayed with `--arch v3` (JSON in
build/bench_replay_v3.json).
"""
import argparse
import gzip
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLES = {"v2": ROOT / "tests" / "data" / "kvm" / "kvm_linux_1vcpu.jsonl.gz",
           "v3": ROOT / "tests" / "data" / "kvm3" / "kvm3_linux_2vcpu.jsonl.gz"}
ENGINES = {                      # name -> `vgic replay` options
    "model": ["--engine", "model"],
    "fast": ["--engine", "fast"],
    "both-fast": ["--engine", "both", "--rtl", "fast"],
    "rtl": ["--engine", "rtl"],
}


def make_trace(path, n, arch="v2"):
    """The KVM sample repeated to n transaction lines (a reset line before each copy)."""
    with gzip.open(SAMPLES[arch], "rt") as f:
        lines = [l for l in f if '"op"' in l]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as out:
        done = 0
        while done < n:
            out.write('{"op": "reset"}\n')
            done += 1
            chunk = lines[: n - done]
            out.writelines(chunk)
            done += len(chunk)
    os.replace(tmp, path)


def replay(trace, options, out):
    """One `vgic replay` child: (seconds, peak RSS in MB, exit status, stderr)."""
    cmd = [sys.executable, "-m", "vgic.sim.cli", "replay", str(trace), "--compare", "-q",
           "-o", str(out), *options]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return secs, usage.ru_maxrss / 1024, p.returncode, err


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="trace length (default 1,000,000)")
    ap.add_argument("--rtl-n", type=int, default=20_000,
                    help="transactions for the Amaranth simulator (default 20,000)")
    ap.add_argument("--engines", default="model,fast,both-fast,rtl",
                    help=f"comma-separated, from {', '.join(ENGINES)}")
    ap.add_argument("--build", default=str(ROOT / "build"), help="build folder (default build/)")
    ap.add_argument("--arch", choices=["v2", "v3"], default="v2",
                    help="v2: the KVM vgic-v2 sample; v3: the KVM vgic-v3 sample (default v2)")
    args = ap.parse_args(argv)
    arch = [] if args.arch == "v2" else ["--arch", "v3"]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in engines if e not in ENGINES]
    if bad:
        ap.error(f"unknown engine(s) {', '.join(bad)}: expected {', '.join(ENGINES)}")
    build = pathlib.Path(args.build) / "bench_replay"
    traces = {}
    for n in sorted({args.n, min(args.rtl_n, args.n)}):
        traces[n] = build / f"kvm{'3' if arch else ''}-{n}.jsonl"
        if not traces[n].exists():
            print(f"[bench-replay] writing {traces[n]} ({n:,} transactions)", file=sys.stderr)
            make_trace(traces[n], n, args.arch)
    if any(e in ("fast", "both-fast") for e in engines):
        print("[bench-replay] building the fast engine (not timed)", file=sys.stderr, flush=True)
        from vgic.sim.fast import build_library
        from vgic.rtl.sysregs import V3Config
        build_library(4, v3=V3Config() if arch else None)

    rows = []
    for e in engines:
        n = min(args.rtl_n, args.n) if e == "rtl" else args.n
        print(f"[bench-replay] {e}: {n:,} transactions ...", file=sys.stderr, flush=True)
        secs, rss, code, err = replay(traces[n], ENGINES[e] + arch, build / f"out-{e}.jsonl")
        summary = [l for l in err.splitlines() if "difference(s)" in l]
        if code != 0:
            print(err, file=sys.stderr)
        rows.append({"engine": e, "transactions": n, "seconds": round(secs, 2),
                     "txn_per_s": round(n / secs), "peak_rss_mb": round(rss, 1), "exit": code,
                     "compare": summary[0].split(": ", 1)[-1] if summary else ""})
        print(f"[bench-replay] {e}: {secs:.1f} s, {n / secs:,.0f} txn/s, {rss:.0f} MB",
              file=sys.stderr, flush=True)

    print(f"`vgic replay --compare{' --arch v3' if arch else ''}` of the KVM "
          f"{'vgic-v3 ' if arch else ''}sample repeated (4 LRs), end to end per command")
    print()
    print("| engine | transactions | seconds | transactions/s | peak RSS (MB) | compare | exit |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for r in rows:
        print(f"| {r['engine']} | {r['transactions']:,} | {r['seconds']:.1f} | {r['txn_per_s']:,} "
              f"| {r['peak_rss_mb']:.0f} | {r['compare']} | {r['exit']} |")
    out = pathlib.Path(args.build) / f"bench_replay{'_v3' if arch else ''}.json"
    out.write_text(json.dumps({"n": args.n, "rtl_n": args.rtl_n, "rows": rows}, indent=1) + "\n")
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
