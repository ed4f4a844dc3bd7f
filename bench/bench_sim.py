# Ref: project-internal (benchmark); engines in sim/model, sim/driver.py, sim/fast.py
"""Simulation speed: transactions per second on one random sequence.

The sequence comes from sim/stimulus.py (profile "mixed": KVM-like world
switches, guest acknowledge/EOI, raw register noise), seeded, generated before
any timing starts. Each engine runs it from reset and, after every
transaction, the read data, virq, vfiq, maint and forwarded deactivations are
fetched (sim/diff.py `observe`), as a differential run does:

  model        the golden model alone (sim/model)
  rtl          the RTL in Amaranth's simulator (sim/driver.py RTLEngine)
  fast         the RTL in Verilator via ctypes (sim/fast.py FastEngine)
  fast-batch   FastEngine.run_batch: the whole sequence in one C call
  diff rtl     model and rtl in lock step with the divergence checks (sim/diff.py)
  diff fast    model and fast likewise: what `vgic fuzz --engine fast` does

The Amaranth simulator is slow, so it runs the first --rtl-n transactions
of the same sequence; every figure is also given as a ratio to it (measured
in the same run), and as a ratio to the Amaranth simulator doing the same
work ("same mode": an engine alone vs rtl alone, a lock-step diff vs diff rtl). The fast engine's build (cached under build/fast/) is not
timed. Output: a table on stdout, JSON in build/bench_sim.json.
"""
import argparse
import json
import os
import pathlib
import platform
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def machine():
    """bench_hw's machine description, plus the load average (a shared machine)."""
    from bench_hw import machine as cpu         # bench/ is on sys.path (a script)
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {**cpu(), "system": platform.platform(), "load_1min": load}


def timed(label, fn, n):
    print(f"[bench-sim] {label}: {n:,} transactions ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    fn()
    secs = time.perf_counter() - t0
    print(f"[bench-sim] {label}: {secs:.2f} s, {n / secs:,.0f} txn/s", file=sys.stderr, flush=True)
    return {"transactions": n, "seconds": round(secs, 4), "txn_per_s": n / secs}


def run_engine(engine, txns):
    from vgic.sim.diff import observe
    for t in txns:
        observe(engine, t)


def batch_ops(txns):
    """Transactions as FastEngine.run_batch ops (core byte addresses).
    Unaligned accesses are not bus transactions (RAZ/WI) and are left out."""
    from vgic.rtl import regs
    from vgic.sim.stimulus import CORE
    ops = []
    for t in txns:
        if t.op == "reset":
            ops.append(("reset", 0, 0, 0))
            continue
        addr = t.offset if t.frame == CORE else regs.core_addr(t.frame, t.offset)
        if addr % 4 or not 0 <= addr < 1 << regs.CORE_ADDR_BITS:
            continue
        ops.append((t.op, addr, t.value if t.op == "write" else 0, t.strb))
    return ops


def bench(num_lrs, n, rtl_n, seed, profile, engines):
    from vgic.sim.diff import DiffRunner
    from vgic.sim.model import VirtualInterface
    from vgic.sim.stimulus import generate

    t0 = time.perf_counter()
    txns = generate(seed, num_lrs, max(n, rtl_n), profile)
    print(f"[bench-sim] {num_lrs} LRs: sequence of {len(txns):,} transactions generated in "
          f"{time.perf_counter() - t0:.1f} s (seed {seed}, profile {profile})",
          file=sys.stderr, flush=True)
    rtl_txns, all_txns = txns[:rtl_n], txns[:n]
    res = {}
    if "model" in engines:
        res["model"] = timed("model", lambda: run_engine(VirtualInterface(num_lrs), all_txns), n)
    fast = None
    if any(e.startswith("fast") or e == "diff-fast" for e in engines):
        from vgic.sim.fast import FastEngine
        t0 = time.perf_counter()
        fast = FastEngine(num_lrs)
        print(f"[bench-sim] fast engine ready in {time.perf_counter() - t0:.1f} s "
              f"({fast.library})", file=sys.stderr, flush=True)
    if "rtl" in engines or "diff-rtl" in engines:
        from vgic.sim.driver import RTLEngine
    if "rtl" in engines:
        res["rtl"] = timed("rtl (Amaranth sim)", lambda: run_engine(RTLEngine(num_lrs), rtl_txns),
                           len(rtl_txns))
    if "fast" in engines:
        fast.reset()
        res["fast"] = timed("fast (Verilator)", lambda: run_engine(fast, all_txns), n)
    if "fast-batch" in engines:
        ops = batch_ops(all_txns)
        fast.reset()
        res["fast-batch"] = timed("fast-batch", lambda: fast.run_batch(ops), len(ops))
    if "diff-rtl" in engines:
        res["diff-rtl"] = timed("diff model vs rtl", lambda: DiffRunner(
            VirtualInterface(num_lrs), RTLEngine(num_lrs), ("model", "rtl")).run(rtl_txns),
            len(rtl_txns))
    if "diff-fast" in engines:
        fast.reset()
        res["diff-fast"] = timed("diff model vs fast", lambda: DiffRunner(
            VirtualInterface(num_lrs), fast, ("model", "fast")).run(all_txns), n)
    base = res.get("rtl", {}).get("txn_per_s")
    diff_base = res.get("diff-rtl", {}).get("txn_per_s")
    for k, r in res.items():
        r["vs_rtl"] = r["txn_per_s"] / base if base else None
        # the same work on the Amaranth simulator: alone vs alone, diff vs diff
        same = diff_base if k.startswith("diff") else (None if k == "model" else base)
        r["vs_rtl_same_mode"] = r["txn_per_s"] / same if same else None
    return res


LABELS = {"model": "golden model alone", "rtl": "RTL, Amaranth simulator",
          "fast": "RTL, fast engine (Verilator, per call)",
          "fast-batch": "RTL, fast engine (one batched call)",
          "diff-rtl": "model vs Amaranth sim (divergence checks)",
          "diff-fast": "model vs fast engine (divergence checks)"}


def table(per_lrs):
    hdr = ["LRs", "engine", "transactions", "seconds", "txn/s", "x Amaranth sim",
           "x Amaranth, same mode"]
    rows = []
    for n, res in per_lrs.items():
        for k, r in res.items():
            rows.append([str(n), LABELS[k], f"{r['transactions']:,}", f"{r['seconds']:.2f}",
                         f"{r['txn_per_s']:,.0f}",
                         "-" if r["vs_rtl"] is None else f"{r['vs_rtl']:,.1f}",
                         "-" if r.get("vs_rtl_same_mode") is None else f"{r['vs_rtl_same_mode']:,.1f}"])
    from bench_hw import markdown_table         # bench/ is on sys.path (a script)
    return markdown_table(hdr, rows)


ALL = ("model", "rtl", "fast", "fast-batch", "diff-rtl", "diff-fast")


def main(argv=None):
    p = argparse.ArgumentParser(prog="bench_sim.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lrs", default="4,64", help="comma-separated LR counts (default 4,64)")
    p.add_argument("-n", type=int, default=100_000,
                   help="transactions for the model and fast engines (default 100000)")
    p.add_argument("--rtl-n", type=int, default=2_000,
                   help="transactions for the Amaranth simulator (default 2000, the same "
                        "sequence's first ones)")
    p.add_argument("--seed", type=int, default=1, help="stimulus seed (default 1)")
    p.add_argument("--profile", default="mixed", choices=["mixed", "kvm", "noise"],
                   help="stimulus profile (sim/stimulus.py, default mixed)")
    p.add_argument("--engines", default=",".join(ALL),
                   help=f"comma-separated subset of {','.join(ALL)} (default all)")
    p.add_argument("--json", default=str(ROOT / "build" / "bench_sim.json"),
                   help="JSON output (default build/bench_sim.json)")
    args = p.parse_args(argv)
    try:
        lrs = [int(x) for x in args.lrs.split(",") if x.strip()]
    except ValueError:
        p.error(f"--lrs: expected comma-separated integers, got {args.lrs!r}")
    if not lrs or any(not 1 <= k <= 64 for k in lrs):
        p.error("--lrs: LR counts must be 1..64")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ALL:
            p.error(f"--engines: unknown engine {e!r} (expected {', '.join(ALL)})")
    if args.n < 1 or args.rtl_n < 1:
        p.error("-n and --rtl-n must be positive")
    t0 = time.monotonic()
    per = {k: bench(k, args.n, args.rtl_n, args.seed, args.profile, engines) for k in lrs}
    text = table(per)
    m = machine()
    print(text)
    print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
          f"load {m['load_1min']:.1f} (shared machine: absolute figures vary, ratios less)"
          if m["load_1min"] is not None else f"machine: {m['cpu']}, {m['cores']} cores")
    path = pathlib.Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": "python3 bench/bench_sim.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": m, "seed": args.seed, "profile": args.profile, "results": per,
        "table": text, "total_s": round(time.monotonic() - t0, 1)}, indent=1))
    print(f"bench-sim: JSON {path}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
