# Ref: project-internal (benchmark); docs/boards.md ("Resource use and Fmax")
"""Resource use and post-route Fmax of each board build (rtl/boards/).

Builds every board (or those given) with `vgic.rtl.boards.build` into
BUILD/bench_boards/<board>/ (or, with --reuse, reads the result.json of an
earlier `make board` in BUILD/board/<board>/), and prints one row per board:
device, LRs, design clock, logic cells, FFs, PLL, I/O, post-route Fmax
(nextpnr's estimate) and its margin over the design clock, build time; then
the critical path with its RTL source lines (bench_hw.summarize_path).
JSON in BUILD/bench_boards.json.
"""
import argparse
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import bench_hw                                             # noqa: E402
from vgic.rtl.boards import BOARDS                          # noqa: E402
from vgic.rtl.boards import build as bb                     # noqa: E402

LOGIC = {"ICESTORM_LC": "LC", "TRELLIS_COMB": "LUT/COMB"}
FF = {"TRELLIS_FF": "FF"}
RAM = ("ICESTORM_RAM", "ICESTORM_SPRAM", "DP16KD", "TRELLIS_RAMW")


def log(msg):
    print(f"[bench-boards {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _used(util, keys):
    for k in keys:
        if k in util:
            u = util[k]
            return f"{u['used']}/{u['available']} ({100 * u['used'] / u['available']:.0f}%)"
    return "-"


def table(results):
    hdr = ["board", "device", "LRs", "clock MHz", "clk/bit", "logic cells", "FF",
           "RAM", "PLL", "I/O", "Fmax MHz", "margin", "build s"]
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["board"], "-", "-", "-", "-", "error", "-", "-", "-", "-", "-", "-", "-"])
            continue
        u = r["utilization"]
        ram = sum(u[k]["used"] for k in RAM if k in u)
        fmax = r["fmax_mhz"]
        margin = f"{100 * (fmax / r['clk_mhz'] - 1):+.0f}%" if fmax else "-"
        rows.append([r["board"], r["device"], r["num_lrs"], f"{r['clk_mhz']:g}",
                     r["clocks_per_bit"], _used(u, LOGIC), _used(u, FF) if "TRELLIS_FF" in u
                     else "(in LCs)", ram, _used(u, ("ICESTORM_PLL", "EHXPLLL")),
                     _used(u, ("SB_IO", "TRELLIS_IO")), f"{fmax:.1f}" if fmax else "-",
                     margin + ("" if r["timing_met"] else " FAIL"), f"{r['total_s']:.0f}"])
    return bench_hw.markdown_table(hdr, rows)


def critical_path(build_dir):
    try:
        rep = json.loads((pathlib.Path(build_dir) / f"{bb.NAME}_report.json").read_text())
    except (OSError, ValueError):
        return None
    return bench_hw.summarize_path(rep)


def main(argv=None):
    p = argparse.ArgumentParser(prog="bench_boards.py", description=__doc__.split("\n\n")[0])
    p.add_argument("boards", nargs="*", default=list(BOARDS),
                   help=f"boards (default all: {', '.join(BOARDS)})")
    p.add_argument("--build", default=str(ROOT / "build"), help="build folder (default build/)")
    p.add_argument("--reuse", action="store_true",
                   help="read BUILD/board/<board>/result.json (from `make board`) instead of "
                        "building")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed (default 1)")
    p.add_argument("--json", default=None, help="JSON output (default BUILD/bench_boards.json)")
    args = p.parse_args(argv)
    for b in args.boards:
        if b not in BOARDS:
            p.error(f"unknown board {b!r} (known: {', '.join(BOARDS)})")
    build = pathlib.Path(args.build)
    results = []
    for b in args.boards:
        if args.reuse:
            d = build / "board" / b
            try:
                r = json.loads((d / "result.json").read_text())
            except (OSError, ValueError) as e:
                r = {"board": b, "error": f"no result in {d}: {e}"}
        else:
            d = build / "bench_boards" / b
            log(f"building {b} in {d}")
            try:
                r = bb.build(b, build_dir=d, seed=args.seed)
                log(f"{b}: Fmax {r['fmax_mhz']:.1f} MHz at {r['clk_mhz']:g} MHz, "
                    f"{r['total_s']:.0f} s")
            except (RuntimeError, ValueError) as e:
                r = {"board": b, "error": str(e)}
                log(f"{b}: FAILED: {e}")
        if "error" not in r:
            r["critical_path"] = critical_path(d)
        results.append(r)
    print(table(results))
    for r in results:
        cp = r.get("critical_path")
        if cp:
            print(f"  critical path {r['board']}: {cp['delay_ns']} ns, {cp['logic_levels']} logic "
                  f"levels ({cp['routing_ns']} ns routing), {cp['from']} -> {cp['to']}; "
                  f"RTL: {', '.join(cp['rtl_sources'][:8]) or '-'}")
        if "error" in r:
            print(f"  {r['board']}: error: {r['error']}")
    jpath = pathlib.Path(args.json) if args.json else build / "bench_boards.json"
    jpath.parent.mkdir(parents=True, exist_ok=True)
    jpath.write_text(json.dumps({
        "command": "python3 bench/bench_boards.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": bench_hw.machine(),
        "yosys": bench_hw.yosys_version(), "results": results}, indent=1))
    print(f"bench-boards: JSON {jpath}")
    return 1 if any("error" in r or not r.get("timing_met") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
