# Ref: ../shared/conformance/README.md, "Replay contract"
"""`vgic replay`: run a JSON-lines trace on the golden model, the RTL, or both."""
import json
import os
import sys
import tempfile
import time

from .diff import DiffRunner, Divergence, make_engine, observe
from .stimulus import Txn
from .trace import TraceError, address_map, read_trace, result_line

__all__ = ["make_engine", "replay", "run"]

LINES = ("virq", "vfiq", "maint")


def _txn(t):
    return Txn(t.op, t.frame or "GICH", t.offset, t.value or 0, t.strb)


def replay(transactions, engines, progress=None):
    """Run transactions on one engine, or on two in lock step (sim/diff.py,
    which raises Divergence at the first difference). Returns the result
    lines (of the first engine)."""
    runner = DiffRunner(*engines) if len(engines) == 2 else None
    results = []
    start = time.monotonic()
    for i, t in enumerate(transactions):
        if t.skipped:                        # physical GIC: passed over
            e = engines[0]
            results.append(result_line(t, t.value, e.virq, e.vfiq, e.maint, []))
            continue
        try:
            obs = runner.step(_txn(t)) if runner else observe(engines[0], _txn(t))
        except Divergence as e:
            e.context = f"  trace line {t.lineno} (seq {t.seq})" + ("\n" + e.context if e.context else "")
            raise
        value = obs.data if t.op == "read" else t.value
        results.append(result_line(t, value, obs.virq, obs.vfiq, obs.maint, obs.forwarded))
        if progress and (i + 1) % 5000 == 0:
            rate = (i + 1) / max(time.monotonic() - start, 1e-9)
            print(f"replay: {i + 1}/{len(transactions)} transactions, {rate:.0f}/s",
                  file=progress, flush=True)
    return results


def compare_recorded(transactions, results):
    """Differences between the results and the values recorded in the trace:
    list of (transaction, field, recorded, ours)."""
    diffs = []
    for t, r in zip(transactions, results):
        if t.skipped:
            continue
        if t.op == "read" and t.value is not None and r["value"] != t.value:
            diffs.append((t, "value", t.value, r["value"]))
        for k in (*LINES, "deactivate"):
            if k in t.recorded and t.recorded[k] != r[k]:
                diffs.append((t, k, t.recorded[k], r[k]))
    return diffs


def _write_atomically(path, text):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".replay-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def run(args):
    err = sys.stderr
    try:
        amap = address_map(args.gich_base, args.gicv_base, args.gic400_base)
    except ValueError as e:
        print(f"vgic replay: error: {e}", file=err)
        return 2
    try:
        transactions = read_trace(args.trace, amap)
    except TraceError as e:
        print(f"vgic replay: error: {e}", file=err)
        return 2
    if args.vcd and args.engine == "model":
        print("vgic replay: error: --vcd needs --engine rtl or both (the model has no waveform)",
              file=err)
        return 2
    kinds = ["model", "rtl"] if args.engine == "both" else [args.engine]
    engines = [make_engine(k, args.lrs, args.vcd if k == "rtl" else None) for k in kinds]
    try:
        results = replay(transactions, engines, progress=err)
    except Divergence as e:
        print(f"vgic replay: {args.trace}: {e.report()}", file=err)
        return 1
    finally:
        for e in engines:
            if hasattr(e, "close"):
                e.close()
        if args.vcd:                         # also (above all) after a divergence
            from .wave import write_gtkw
            write_gtkw(args.vcd, num_lrs=args.lrs)
    text = "".join(json.dumps(r) + "\n" for r in results)
    if args.output:
        _write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    n = sum(1 for t in transactions if not t.skipped)
    print(f"vgic replay: {n} transactions on {args.engine} ({args.lrs} LRs)"
          + (", no divergence" if args.engine == "both" else ""), file=err)
    if args.vcd:
        print(f"vgic replay: waveform {args.vcd}, GTKWave save file "
              f"{os.path.splitext(args.vcd)[0]}.gtkw", file=err)
    if args.compare:
        diffs = compare_recorded(transactions, results)
        for t, k, rec, ours in diffs:
            print(f"{args.trace}:{t.lineno}: seq {t.seq} {t.op} {t.reg}: {k} recorded "
                  f"{rec!r}, replay {ours!r}", file=err)
        print(f"vgic replay: compared with the recording: {len(diffs)} difference(s)", file=err)
        return 1 if diffs else 0
    return 0
