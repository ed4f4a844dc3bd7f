# Ref: project-internal (benchmark); the register bus contract in rtl/regbus.py and rtl/top.py,
#      the bridges' timing in rtl/bridges/*.py and docs/verilog.md section 6
"""Bus throughput: clock cycles per register access with requests back to back,
on the core's own register bus and through each bus bridge.

Each trace is replayed with `vgic replay TRACE --engine fast --timing --bus B`:
with B = core every access is issued to the core's register bus in the first
cycle the bus takes it (ready = 1), without waiting for earlier answers; with
a bridge (axi4lite, apb, wishbone, wishbone-pipelined) the core behind it is
driven by a manager that presents each request as soon as that bus lets it
(sim/fast.py HARNESS_BRIDGE). Either way the reads are checked against a
replay one at a time. The figure is the clock cycles from the first request
to the last response over the number of accesses (1.0 is one access per
clock; a hold-off after a write shows as more).

Traces, at --lrs list registers (default 4):
  kvm-sample   the recorded Linux 6.1 KVM run of tests/data/kvm (37,689 accesses)
  kvm-profile  --n transactions of sim/stimulus.py's `kvm` profile (seeded)
  storage      a burst of plain storage writes: every LR, HCR, VMCR, APR, --n in all
and any trace files given as arguments.

    python3 bench/bench_throughput.py [TRACE ...] [--lrs 4] [--n 20000] [--seed 1]
                                      [--buses core,axi4lite,apb,wishbone,wishbone-pipelined]

Prints a table, a column per bus; JSON in build/bench_throughput.json.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "kvm" / "kvm_linux_1vcpu.jsonl.gz"
BUSES = ["core", "axi4lite", "apb", "wishbone", "wishbone-pipelined"]


def write_txns(path, txns):
    from vgic.sim.fuzz import trace_lines
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(trace_lines(txns)) + "\n")


def storage_burst(num_lrs, n):
    """Writes of every LR, HCR, VMCR and APR in turn (no derived state read)."""
    from vgic.rtl import regs
    from vgic.sim.stimulus import Txn
    names = [regs.lr(i) for i in range(num_lrs)] + [regs.GICH_HCR, regs.GICH_VMCR, regs.GICH_APR]
    out = []
    for i in range(n):
        r = names[i % len(names)]
        value = 0x1000_0000 | (i & 0x3FF) if r.name.startswith("LR") else 0
        out.append(Txn("write", r.frame, r.offset, value))
    return out


def cycles_per_access(trace, num_lrs, out, bus="core"):
    """(cycles per access, stderr) of one `vgic replay --timing --bus` run."""
    cmd = [sys.executable, "-m", "vgic.sim.cli", "replay", str(trace), "--engine", "fast",
           "--timing", "--bus", bus, "--lrs", str(num_lrs), "-q", "-o", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"cycles per transaction: ([\d.]+)", p.stderr)
    if p.returncode != 0 or m is None:
        raise SystemExit(f"bench_throughput: {' '.join(cmd)} failed (exit {p.returncode}):\n"
                         f"{p.stderr}")
    return float(m.group(1)), p.stderr


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("traces", nargs="*", help="more traces to time (replay format)")
    ap.add_argument("--lrs", type=int, default=4, help="list registers (default 4)")
    ap.add_argument("--n", type=int, default=20000,
                    help="transactions of the generated traces (default 20,000)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the kvm profile (default 1)")
    ap.add_argument("--buses", default=",".join(BUSES),
                    help=f"comma-separated buses, a column each (default {','.join(BUSES)})")
    ap.add_argument("--build", default=str(ROOT / "build"), help="build folder (default build/)")
    args = ap.parse_args(argv)
    buses = [b for b in args.buses.split(",") if b]
    for b in buses:
        if b not in BUSES:
            ap.error(f"--buses: {b!r} is not one of {', '.join(BUSES)}")
    from vgic.sim.stimulus import generate

    build = pathlib.Path(args.build) / "bench_throughput"
    generated = {"kvm-profile": build / f"kvm-profile-{args.lrs}-{args.n}-{args.seed}.jsonl",
                 "storage": build / f"storage-{args.lrs}-{args.n}.jsonl"}
    write_txns(generated["kvm-profile"], generate(args.seed, args.lrs, args.n, "kvm"))
    write_txns(generated["storage"], storage_burst(args.lrs, args.n))
    traces = [("kvm-sample", SAMPLE), *generated.items(),
              *((pathlib.Path(t).name, pathlib.Path(t)) for t in args.traces)]

    rows = []
    for name, path in traces:
        row = {"trace": name, "path": str(path), "accesses": None, "per_bus": {}}
        for bus in buses:
            print(f"[bench-throughput] {name} ({bus}): {path}", file=sys.stderr, flush=True)
            cpa, err = cycles_per_access(path, args.lrs, build / f"out-{name}-{bus}.jsonl", bus)
            n = re.search(r"(\d+) transactions on fast", err)
            row["accesses"] = int(n.group(1)) if n else row["accesses"]
            row["per_bus"][bus] = cpa
        if "core" in row["per_bus"]:
            row["cycles_per_access"] = row["per_bus"]["core"]
        rows.append(row)
    print(f"Cycles per access, {args.lrs} LRs, requests issued as soon as each bus takes them "
          "(`vgic replay --engine fast --timing --bus B`)")
    print()
    print("| trace | transactions | " + " | ".join(buses) + " |")
    print("|---|---:|" + "---:|" * len(buses))
    for r in rows:
        accesses = f"{r['accesses']:,}" if r["accesses"] is not None else "?"
        print(f"| {r['trace']} | {accesses} | "
              + " | ".join(f"{r['per_bus'][b]:.3f}" for b in buses) + " |")
    out = pathlib.Path(args.build) / "bench_throughput.json"
    out.write_text(json.dumps({"lrs": args.lrs, "n": args.n, "seed": args.seed, "buses": buses,
                               "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
