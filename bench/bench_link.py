# Ref: project-internal (benchmark); docs/boards.md (the link protocol), sim/board.py
"""The UART link: transactions per second a board does, from a simulation with
the bit timing.

The first --n accesses of the recorded KVM run (tests/data/kvm) go through
`vgic board`'s host code to the board design (BoardCore, UART included) in
Verilator (`SimSerial`), at each board's design clock, UART rate and LR count. Two
figures per board: transactions per second of board time (the simulated
clock: what the real board does at that rate, the host's own latency aside)
and of wall-clock time (how fast `--sim` runs here).

    python3 bench/bench_link.py [--n 5000] [--boards icebreaker,ulx3s-85f]

Prints a table; JSON in build/bench_link.json.
"""
import argparse
import gzip
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "kvm" / "kvm_linux_1vcpu.jsonl.gz"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=5000, help="accesses (default 5,000)")
    ap.add_argument("--boards", default="icebreaker,ulx3s-85f", help="comma-separated boards")
    ap.add_argument("--build", default=str(ROOT / "build"), help="build folder (default build/)")
    args = ap.parse_args(argv)
    from vgic.rtl import regs
    from vgic.rtl.boards import BOARDS
    from vgic.sim.board import Link, SimSerial
    from vgic.sim.trace import iter_transactions

    with gzip.open(SAMPLE, "rt") as f:
        lines = [l for _, l in zip(range(args.n + 1), f)]
    txns = [t for t in iter_transactions(lines, str(SAMPLE)) if t.op in ("read", "write")]
    rows = []
    for board in [b.strip() for b in args.boards.split(",") if b.strip()]:
        top = BOARDS[board]
        print(f"[bench-link] {board}: building the simulated board", file=sys.stderr, flush=True)
        port = SimSerial(num_lrs=top.default_lrs, board=board)
        link = Link(port)
        link.reset()
        start_cycles, start = port.cycles, time.perf_counter()
        for t in txns:
            addr = regs.core_addr(t.frame, t.offset)
            if t.op == "read":
                link.read(addr)
            else:
                link.write(addr, t.value)
        wall = time.perf_counter() - start
        board_s = (port.cycles - start_cycles) / top.clk_freq
        port.close()
        rows.append({"board": board, "lrs": top.default_lrs, "clk_hz": top.clk_freq, "baud": top.baud,
                     "transactions": len(txns), "board_seconds": board_s,
                     "board_txn_per_s": len(txns) / board_s, "wall_txn_per_s": len(txns) / wall})
    print("UART link, the KVM recording's first accesses, each board's LR count "
          "(`bench/bench_link.py`)")
    print()
    print("| board | LRs | clock | UART | transactions | board time (s) | transactions/s (board) "
          "| transactions/s (--sim, wall clock) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['board']} | {r['lrs']} | {r['clk_hz'] / 1e6:.0f} MHz | {r['baud'] / 1e6:.0f} Mbaud "
              f"| {r['transactions']:,} | {r['board_seconds']:.3f} | {r['board_txn_per_s']:,.0f} "
              f"| {r['wall_txn_per_s']:,.0f} |")
    out = pathlib.Path(args.build) / "bench_link.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
