# Ref: project-internal (verification); stimulus in sim/stimulus.py, comparison in sim/diff.py
"""`vgic fuzz`: a long random differential run, golden model against an engine.

N transactions are spread over the LR counts asked for (default 1, 4, 64).
For each count a stream from sim/stimulus.py, seeded by (seed, count,
profile), goes through a DiffRunner; the first divergence stops the run with
its report and a command line that reproduces it. A progress line (rate,
transactions done, seed) goes to stderr.

Engines (`--engine`): "rtl" (Amaranth simulation, sim/driver.py), "fast"
(Verilator, sim/fast.py), "model" (a second golden model: checks the fuzzer
itself). A new engine is one more name in sim/diff.py's ENGINES and one more
case in its `make_engine`.
"""
import itertools
import json
import sys
import time

from ..rtl import regs
from .files import AtomicOutput, FileError, check_output
from .progress import StatusLine
from .diff import ENGINES, DiffRunner, Divergence, make_engine, minimize
from .model import VirtualInterface, Cluster
from .stimulus import CORE, PROFILES, RandomChoices, stream, stream_cpus

__all__ = ["ENGINES", "make_engine", "fuzz", "stream_seed", "save_trace", "run"]

DEFAULT_LRS = (1, 4, 64)


def stream_seed(seed, num_lrs, profile):
    """The seed of one LR count's stream (a string: random.Random hashes it
    the same way on every run and machine)."""
    return f"vgic-fuzz/{seed}/{num_lrs}/{profile}"


def txn_stream(seed, num_lrs, profile, num_cpus=1):
    """The fuzz stream of one LR count: one CPU's, or `num_cpus` streams
    (each seeded per CPU) interleaved (sim/stimulus.py stream_cpus)."""
    if num_cpus == 1:
        return stream(RandomChoices(stream_seed(seed, num_lrs, profile)), num_lrs, profile)
    base = stream_seed(seed, num_lrs, profile)
    return stream_cpus([f"{base}/cpu{k}" for k in range(num_cpus)], num_lrs, profile,
                       RandomChoices(f"{base}/mix{num_cpus}"))


def cpus_kw(num_cpus):
    """make_engine's num_cpus argument, given only when there are several."""
    return {"num_cpus": num_cpus} if num_cpus > 1 else {}


def reference(num_lrs, num_cpus=1):
    """The golden model the engine is compared with."""
    return VirtualInterface(num_lrs) if num_cpus == 1 else Cluster(num_lrs, num_cpus)


def split(n, lrs):
    """N transactions over the LR counts, the remainder to the first ones."""
    q, r = divmod(n, len(lrs))
    return [q + (1 if i < r else 0) for i in range(len(lrs))]


class Progress(StatusLine):
    """fuzz's status line: transactions done of the total, the current LR
    count's share, rate, seed, time left."""

    def __init__(self, total, seed, engine, out=None):
        super().__init__(out)
        self.total, self.seed, self.engine = total, seed, engine
        self.done = self.base = 0         # base: transactions of LR counts already finished

    def line(self, lrs, lrs_done, lrs_total):
        rate = self.done / self.elapsed
        eta = (self.total - self.done) / rate if rate else 0
        return (f"fuzz {self.engine}: {self.done:,}/{self.total:,} transactions "
                f"({lrs} LRs: {lrs_done:,}/{lrs_total:,})  {rate:,.0f} txn/s  "
                f"seed {self.seed}  elapsed {self.elapsed:.0f}s  eta {eta:.0f}s")

    def update(self, lrs, lrs_done, lrs_total, force=False):
        self.done = self.base + lrs_done
        if self.due() or force:
            self.show(self.line(lrs, lrs_done, lrs_total))


class EngineUnavailable(Exception):
    """The engine could not be built or loaded."""


class FuzzInterrupted(Exception):
    """Ctrl-C during `fuzz`: how far it got."""

    def __init__(self, num_lrs, done, total_done):
        super().__init__(f"interrupted at {num_lrs} LRs")
        self.num_lrs, self.done, self.total_done = num_lrs, done, total_done


class FuzzFailure(Exception):
    """A divergence during `fuzz`: the Divergence, and where it happened."""

    def __init__(self, divergence, num_lrs, txns):
        super().__init__(str(divergence))
        self.divergence, self.num_lrs, self.txns = divergence, num_lrs, txns


def fuzz(n, lrs=DEFAULT_LRS, seed=0, engine="rtl", profile="mixed", progress=None,
         check_every=256, num_cpus=1):
    """Run `n` transactions spread over `lrs`. Returns {num_lrs: count} run.
    Raises FuzzFailure (with the transactions up to the divergence) on the
    first divergence. `progress` is a Progress or None."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: expected one of {', '.join(PROFILES)}")
    counts = {}
    total_done = 0
    for num_lrs, share in zip(lrs, split(n, lrs)):
        if share == 0:
            continue
        built = time.monotonic()
        try:
            dut = make_engine(engine, num_lrs, **cpus_kw(num_cpus))
        except Exception as e:
            raise EngineUnavailable(f"{type(e).__name__}: {e}") from e
        if progress is not None:
            progress.start += time.monotonic() - built     # the rate counts running only
        ref = reference(num_lrs, num_cpus)
        runner = DiffRunner(ref, dut, names=("model", engine))
        # the stream is not kept (memory stays flat): a failure regenerates its prefix
        txns = txn_stream(seed, num_lrs, profile, num_cpus)
        done = 0                          # transactions of this count compared so far
        try:
            for i, txn in zip(range(share), txns):
                runner.step(txn)
                done = i + 1
                if progress is not None and i % check_every == 0:
                    progress.update(num_lrs, i, share)
        except Divergence as d:
            prefix = txn_stream(seed, num_lrs, profile, num_cpus)
            raise FuzzFailure(d, num_lrs, list(itertools.islice(prefix, done + 1))) from None
        except KeyboardInterrupt:
            raise FuzzInterrupted(num_lrs, done, total_done + done) from None
        finally:
            close = getattr(dut, "close", None)
            if close is not None:
                close()
        if progress is not None:
            progress.update(num_lrs, share, share, force=True)
            progress.base += share
        counts[num_lrs] = share
        total_done += share
    return counts


# -- saving a failing sequence in the replay format --------------------------
def trace_lines(txns, num_cpus=1):
    """Replay-format JSON lines (docs/traces.md) for a list of Txn. Accesses to the core's unmapped hole have no
    address in that format and become comment lines."""
    from .trace import DEFAULT_BASES
    out = [json.dumps({"scenario": "fuzz", "title": "vgic fuzz: transactions up to a divergence"})]
    for seq, t in enumerate(txns):
        if t.op == "reset":
            out.append(json.dumps({"seq": seq, "op": "reset"}))
            continue
        frame, offset = (regs.frame_of(t.offset) if t.frame == CORE else (t.frame, t.offset))
        view = t.gich_cpu
        if t.frame == CORE and frame is None and num_cpus > 1 and regs.alias_of(t.offset):
            view, offset = regs.alias_of(t.offset)           # a processor-specific view
            frame = "GICH" if view < num_cpus else None
        if view is not None and (view >= num_cpus or offset >= regs.ALIAS_STRIDE):
            out.append(json.dumps({"note": f"#{seq} {t.op} through the GICH view of CPU {view} "
                                           f"at {offset:#05x} (RAZ/WI) left out"}))
            continue
        if frame is None:
            out.append(json.dumps({"note": f"#{seq} {t.op} of unmapped core address "
                                           f"{t.offset:#06x} (RAZ/WI) left out"}))
            continue
        line = {"seq": seq, "op": t.op}
        if num_cpus > 1:
            line["cpu"] = t.cpu
            if view is not None:
                line["gich_cpu"] = view
        reg = regs.decode(frame, offset)
        if reg is not None and reg.access != "RES":
            line["reg"] = reg.full_name
        else:
            line["addr"] = f"{DEFAULT_BASES[frame] + offset:#010x}"
        if t.op == "write":
            line["value"] = f"{t.value:#010x}"
            if t.strb != 0xF:
                line["strb"] = t.strb
        out.append(json.dumps(line))
    return out


def save_trace(path, txns, num_cpus=1):
    with AtomicOutput(path) as f:
        f.write("\n".join(trace_lines(txns, num_cpus)) + "\n")
        f.commit()


# -- command line ------------------------------------------------------------
def parse_lrs(text):
    """'1,4,64' -> (1, 4, 64), with a clear error."""
    try:
        out = tuple(int(t, 0) for t in text.split(",") if t.strip())
    except ValueError:
        raise ValueError(f"--lrs {text!r}: expected comma-separated integers, e.g. 1,4,64") from None
    if not out:
        raise ValueError(f"--lrs {text!r}: no LR count given")
    for n in out:
        regs.check_num_lrs(n)
    return out


def run(args):
    """Entry point of `vgic fuzz` (options: sim/cli.py)."""
    try:
        lrs = parse_lrs(args.lrs)
    except ValueError as e:
        print(f"vgic fuzz: {e}", file=sys.stderr)
        return 2
    if args.n < 0:
        print(f"vgic fuzz: -n must be at least 0, got {args.n}", file=sys.stderr)
        return 2
    try:
        check_output(args.save, option="--save")
    except FileError as e:
        print(f"vgic fuzz: {e}", file=sys.stderr)
        return 2
    progress = None if args.quiet else Progress(args.n, args.seed, args.engine)
    start = time.monotonic()
    try:
        counts = fuzz(args.n, lrs, args.seed, args.engine, args.profile, progress,
                      num_cpus=args.cpus)
    except FuzzFailure as f:
        if progress is not None:
            progress.finish()
        d = f.divergence
        print(d.report(), file=sys.stderr)
        cpus = f" --cpus {args.cpus}" if args.cpus > 1 else ""
        print(f"reproduce: vgic fuzz -n {d.index + 1} --lrs {f.num_lrs} --seed {args.seed} "
              f"--engine {args.engine} --profile {args.profile}{cpus}", file=sys.stderr)
        txns = f.txns
        if args.minimize:
            print(f"minimizing {len(txns)} transactions...", file=sys.stderr)
            ref = reference(f.num_lrs, args.cpus)
            dut = make_engine(args.engine, f.num_lrs, **cpus_kw(args.cpus))

            def reset_pair():
                ref.reset()
                dut.reset()
                return ref, dut
            txns = minimize(txns, reset_pair)
            print(f"minimal sequence ({len(txns)} transactions):", file=sys.stderr)
            for i, t in enumerate(txns):
                print(f"  #{i:<4} {t}", file=sys.stderr)
        if args.save:
            save_trace(args.save, txns, args.cpus)
            cpus = f" --cpus {args.cpus}" if args.cpus > 1 else ""
            print(f"saved {len(txns)} transactions to {args.save} "
                  f"(vgic replay {args.save} --lrs {f.num_lrs}{cpus} --engine both)",
                  file=sys.stderr)
        return 1
    except FuzzInterrupted as i:
        if progress is not None:
            progress.finish()
        print(f"vgic fuzz: interrupted after {i.total_done:,} transactions, no divergence "
              f"(at {i.num_lrs} LRs, {i.done:,} of that count's stream; seed {args.seed}, "
              f"profile {args.profile}, engine {args.engine}).\n"
              f"reproduce up to there: vgic fuzz -n {i.done} --lrs {i.num_lrs} "
              f"{f'--cpus {args.cpus} ' if args.cpus > 1 else ''}--seed "
              f"{args.seed} --engine {args.engine} --profile {args.profile}", file=sys.stderr)
        return 130
    except EngineUnavailable as e:
        if progress is not None:
            progress.finish()
        print(f"vgic fuzz: engine {args.engine!r} is not available: {e}", file=sys.stderr)
        return 2
    if progress is not None:
        progress.finish()
    elapsed = time.monotonic() - start
    total = sum(counts.values())
    per = ", ".join(f"{n} LRs: {c:,}" for n, c in counts.items())
    cpus = f"{args.cpus} CPUs, " if args.cpus > 1 else ""
    print(f"fuzz {args.engine}: {total:,} transactions, no divergence ({cpus}{per}); seed {args.seed}; "
          f"{elapsed:.1f}s, {total / max(elapsed, 1e-9):,.0f} txn/s", file=sys.stderr)
    return 0
