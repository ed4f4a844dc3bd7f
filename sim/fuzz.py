# Ref: project-internal (verification); stimulus in sim/stimulus.py, comparison in sim/diff.py
"""`vgic fuzz`: a long random differential run, golden model against an engine.

N transactions are spread over the LR counts asked for (default 1, 4, 64;
GICv3: 1, 4, 16). For each count a stream from sim/stimulus.py (GICv3,
`--arch v3`: sim/stimulus_v3.py, with the build's pri_bits, pre_bits,
id_bits and rp_masked), seeded by (seed, count, profile), goes through a
DiffRunner; the first divergence stops the run with its report and a
command line that reproduces it. A progress line (rate, transactions done,
seed) goes to stderr.

A GICv3 run works on every engine and CPU count (several CPUs: the
interleaved streams of sim/stimulus_v3.py's stream_cpus, ICH accesses
through other CPUs' views at 0x1000 + 0x200 n). Its --save trace is a GICv3 trace
(docs/traces.md, `vgic replay --arch v3`): 64-bit system registers by name;
an LR's two halves written back to back become one 64-bit access, and the
32-bit accesses that format cannot express (a lone LR half, a RES0 high
half, a partial write, the high half of an empty slot) are approximated or
left out with a note, and said so.

Engines (`--engine`): "rtl" (Amaranth simulation, sim/driver.py), "fast"
(Verilator, sim/fast.py), "model" (a second golden model: checks the fuzzer
itself). A new engine is one more name in sim/diff.py's ENGINES and one more
case in its `make_engine`.
"""
import itertools
import json
import sys
import time

from ..rtl import regs, sysregs
from .files import AtomicOutput, FileError, check_output
from .progress import StatusLine
from .diff import ENGINES, DiffRunner, Divergence, make_engine, minimize, run_diff
from .model import VirtualInterface, Cluster
from .trace import PHYSICAL_PREFIXES_V3, parse_lines
from .stimulus import CORE, PROFILES, RandomChoices, Txn, apply, stream, stream_cpus
from . import stimulus_v3

__all__ = ["ENGINES", "make_engine", "fuzz", "stream_seed", "save_trace", "run",
           "trace_lines_v3", "saved_txns_v3"]

DEFAULT_LRS = (1, 4, 64)
DEFAULT_LRS_V3 = (1, 4, 16)
# `vgic fuzz --arch v3` options -> V3Config parameters (rtl/sysregs.py)
V3_OPTIONS = {"--pri-bits": "pri_bits", "--pre-bits": "pre_bits", "--id-bits": "id_bits",
              "--rp-unmasked": "rp_masked", "--legacy": "legacy"}


def stream_seed(seed, num_lrs, profile, arch="v2"):
    """The seed of one LR count's stream (a string: random.Random hashes it
    the same way on every run and machine). GICv3 streams have their own."""
    return f"vgic-fuzz{'-v3' if arch == 'v3' else ''}/{seed}/{num_lrs}/{profile}"


def txn_stream(seed, num_lrs, profile, num_cpus=1, v3=None):
    """The fuzz stream of one LR count: one CPU's, or `num_cpus` streams
    (each seeded per CPU) interleaved (sim/stimulus.py stream_cpus). `v3`:
    None for GICv2, else the V3Config parameters of a GICv3 stream
    (sim/stimulus_v3.py)."""
    if v3 is not None and v3.get("legacy"):
        # a GICv2 guest on GICv3 (v3 10): GICv2 KVM-like streams, the hypervisor's
        # accesses as KVM makes them on ICH_*_EL2 (sim/convert.py)
        base = stream_seed(seed, num_lrs, profile) + "/legacy"
        if num_cpus == 1:
            txns = stream(RandomChoices(base), num_lrs, profile)
        else:
            txns = stream_cpus([f"{base}/cpu{k}" for k in range(num_cpus)], num_lrs, profile,
                               RandomChoices(f"{base}/mix{num_cpus}"))
        return legacy_txns(txns, RandomChoices(base + "/extra"), num_cpus)
    if v3 is not None:
        base = stream_seed(seed, num_lrs, profile, "v3")
        if num_cpus == 1:
            return stimulus_v3.stream(RandomChoices(base), num_lrs, profile, **v3)
        return stimulus_v3.stream_cpus([f"{base}/cpu{k}" for k in range(num_cpus)], num_lrs,
                                       profile, RandomChoices(f"{base}/mix{num_cpus}"), **v3)
    if num_cpus == 1:
        return stream(RandomChoices(stream_seed(seed, num_lrs, profile)), num_lrs, profile)
    base = stream_seed(seed, num_lrs, profile)
    return stream_cpus([f"{base}/cpu{k}" for k in range(num_cpus)], num_lrs, profile,
                       RandomChoices(f"{base}/mix{num_cpus}"))


def legacy_txns(txns, ch=None, num_cpus=1):
    """GICv2 Txns as the same guest's on a legacy GICv3 core: GICV accesses
    unchanged, each GICH one the ICH_*_EL2 access KVM would make (a 64-bit
    LR as two 32-bit halves; its CPU and view kept); what has no counterpart
    (an LR above 15, GICH_EISR1, partial writes, raw core addresses) is left
    out. With `ch` (RandomChoices), before about one transaction in 40 also
    what only a GICv3 host does (legacy_extra), by one of `num_cpus` CPUs."""
    from .convert import Unrepresentable, v2_to_v3
    for txn in txns:
        if ch is not None and ch.chance(0.025):
            yield from legacy_extra(ch, ch.integer(0, num_cpus - 1) if num_cpus > 1 else 0)
        if txn.op == "reset" or txn.frame == "GICV":
            yield txn
            continue
        reg = regs.decode(txn.frame, txn.offset) if txn.frame == "GICH" else None
        if reg is None or reg.access == "RES" or txn.strb != 0xF:
            continue
        try:
            name, value, _ = v2_to_v3(reg.name, txn.value if txn.op == "write" else 0,
                                      lenient=True)
        except Unrepresentable:
            continue
        r3 = sysregs.lookup(name)
        for offset, shift in r3.halves:
            yield txn._replace(frame=r3.frame, offset=offset, value=value >> shift & 0xFFFF_FFFF)


def legacy_extra(ch, cpu=0):
    """What a GICv2 trace cannot say, between its accesses: the hypervisor
    restoring ICH_AP0R0_EL2 or ICH_AP1R0_EL2 with some value (the GICv2 frame
    never consults AP0R: L1), or the VM switching to the ICV registers
    (ICC_SRE_EL1.SRE = 1), a few ICV accesses, and back (v3 10.2, 10.3)."""
    kind = ch.pick(("ap0r", "ap1r", "sre"))
    if kind != "sre":
        r = sysregs.lookup("ICH_AP0R0_EL2" if kind == "ap0r" else "ICH_AP1R0_EL2")
        value = ch.pick((0, 1 << ch.integer(0, 31), ch.integer(0, 0xFFFF_FFFF)))
        yield Txn("write", r.frame, r.offset, value, cpu=cpu)
        return
    sre = sysregs.lookup("ICC_SRE_EL1")
    icv = [r for r in sysregs.SYSREGS if r.frame == "ICV" and r.prefix != "ICC"]
    yield Txn("write", sre.frame, sre.offset, 1, cpu=cpu)
    for _ in range(ch.integer(1, 6)):
        r = ch.pick(icv)
        if r.access != "WO" and (r.access == "RO" or ch.chance(0.6)):
            yield Txn("read", r.frame, r.offset, 0, cpu=cpu)
        else:
            yield Txn("write", r.frame, r.offset, ch.pick((0, 1, ch.integer(0, 0xFFFF_FFFF))),
                      cpu=cpu)
    yield Txn("write", sre.frame, sre.offset, 0, cpu=cpu)


def cpus_kw(num_cpus, v3=None):
    """make_engine's keyword arguments beyond (name, num_lrs): num_cpus only
    when there are several, arch and the V3Config parameters for GICv3."""
    cpus = {"num_cpus": num_cpus} if num_cpus > 1 else {}
    return cpus if v3 is None else {**cpus, "arch": "v3", **v3}


def reference(num_lrs, num_cpus=1, v3=None):
    """The golden model the engine is compared with."""
    arch = {} if v3 is None else {"arch": "v3", **v3}
    if num_cpus == 1:
        return VirtualInterface(num_lrs, **arch)
    return Cluster(num_lrs, num_cpus, **arch)


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
         check_every=256, num_cpus=1, v3=None):
    """Run `n` transactions spread over `lrs`. Returns {num_lrs: count} run.
    Raises FuzzFailure (with the transactions up to the divergence) on the
    first divergence. `progress` is a Progress or None. `v3`: None for
    GICv2, or the V3Config parameters (pri_bits, pre_bits, id_bits,
    rp_masked; {} for the defaults) of a GICv3 run."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: expected one of {', '.join(PROFILES)}")
    counts = {}
    total_done = 0
    for num_lrs, share in zip(lrs, split(n, lrs)):
        if share == 0:
            continue
        built = time.monotonic()
        try:
            dut = make_engine(engine, num_lrs, **cpus_kw(num_cpus, v3))
        except Exception as e:
            raise EngineUnavailable(f"{type(e).__name__}: {e}") from e
        if progress is not None:
            progress.start += time.monotonic() - built     # the rate counts running only
        ref = reference(num_lrs, num_cpus, v3)
        runner = DiffRunner(ref, dut, names=("model", engine))
        # the stream is not kept (memory stays flat): a failure regenerates its prefix
        txns = txn_stream(seed, num_lrs, profile, num_cpus, v3)
        done = 0                          # transactions of this count compared so far
        try:
            for i, txn in zip(range(share), txns):
                runner.step(txn)
                done = i + 1
                if progress is not None and i % check_every == 0:
                    progress.update(num_lrs, i, share)
        except Divergence as d:
            prefix = txn_stream(seed, num_lrs, profile, num_cpus, v3)
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


def save_trace(path, txns, num_cpus=1, v3=None, num_lrs=None):
    """Write `txns` as a replay trace. GICv3 (`v3` the V3Config parameters,
    `num_lrs` the LR count): returns trace_lines_v3's counts, else None."""
    counts = None
    if v3 is not None:
        lines, counts = trace_lines_v3(txns, num_lrs, v3, num_cpus)
    else:
        lines = trace_lines(txns, num_cpus)
    with AtomicOutput(path) as f:
        f.write("\n".join(lines) + "\n")
        f.commit()
    return counts


# -- the GICv3 trace (docs/traces.md, "GICv3 traces") ---------------------------
M32 = 0xFFFF_FFFF


def trace_lines_v3(txns, num_lrs, v3, num_cpus=1):
    """Replay-format lines (`vgic replay --arch v3`) for GICv3 memory-mapped
    transactions, and counts {"merged", "approximated", "left out"}.

    A GICv3 trace names 64-bit system registers (or an empty 8-byte slot by
    frame and offset), and `vgic replay` runs an ICH_LR<n>_EL2 access as its
    low half then its high half and any other register as its low half. So:
    an LR's low half followed at once by its high half (the same operation,
    whole words) is one 64-bit access ("merged"); a lone LR half read is a
    read of the whole LR, and a lone LR half write a 64-bit write whose other
    half is the value that half held then (in a golden model run alongside),
    which the replay writes back unchanged ("approximated", with a note on
    the line); a RES0 high half of another register, the high half of an
    empty slot and a write with partial byte enables have no form in the
    format and become note lines ("left out": on the memory-mapped layout
    they are RAZ/WI or ignored, v3 1.4), and so does an access through the
    view of a CPU the core lacks (RAZ/WI, v3 1.5). With several CPUs the
    lines carry `cpu` and `gich_cpu` (the halves of one 64-bit access must
    share them). `seq` is the fuzz run's transaction number. A legacy build
    (`v3["legacy"]`) gives a legacy trace (`vgic replay --arch v3 --legacy`):
    the guest's GICv2 frame accesses by their GICV_* names (a reserved offset
    of the frame has no name: left out) and ICC_SRE_EL1 by its name."""
    shadow = reference(num_lrs, num_cpus, v3)
    legacy = bool(v3.get("legacy"))
    by = (lambda t: {"cpu": t.cpu, "gich_cpu": t.gich_cpu}) if num_cpus > 1 else (lambda t: {})
    out = [json.dumps({"scenario": "fuzz", "title": "vgic fuzz --arch v3"
                       + (" --legacy" if legacy else "") + ": transactions up to a divergence",
                       "arch": "v3-legacy" if legacy else "v3"})]
    counts = {"merged": 0, "approximated": 0, "left out": 0}
    i = 0
    while i < len(txns):
        t, used = txns[i], 1
        gicv = regs.decode(t.frame, t.offset) if legacy and t.frame == "GICV" else None
        if t.op == "reset":
            out.append(json.dumps({"seq": i, "op": "reset"}))
        elif gicv is not None and gicv.access != "RES" and (t.op == "read" or t.strb == 0xF):
            line = {"seq": i, "op": t.op, "reg": gicv.full_name}    # the guest's GICv2 frame
            if t.op == "write":
                line["value"] = f"{t.value:#010x}"
            out.append(json.dumps(line))
        elif t.frame not in sysregs.FRAME_BASE:
            counts["left out"] += 1
            out.append(json.dumps({"note": f"#{i} {t}: not on the ICH/ICV frames: left out"}))
        elif t.gich_cpu is not None and (t.gich_cpu >= num_cpus
                                         or t.offset >= regs.ALIAS_STRIDE):
            counts["left out"] += 1
            out.append(json.dumps({"note": f"#{i} {t}: no register there (RAZ/WI): left out"}))
        elif t.op == "write" and t.strb != 0xF:
            counts["left out"] += 1
            out.append(json.dumps({"note": f"#{i} {t}: a partial write (ignored by the "
                                           "layout) has no form in a v3 trace: left out"}))
        else:
            reg, half = sysregs.decode(t.frame, t.offset)
            line = {"seq": i, "op": t.op}
            if num_cpus > 1:
                line["cpu"] = t.cpu
                if t.gich_cpu is not None:
                    line["gich_cpu"] = t.gich_cpu
            if reg is None and half == 0:
                line.update(frame=t.frame, offset=f"{t.offset:#05x}")
                value = t.value
            elif reg is None or reg.width == 32 and half:
                counts["left out"] += 1
                what = ("the high half of an empty slot" if reg is None else
                        f"the high half of {reg.full_name} (RES0)")
                out.append(json.dumps({"note": f"#{i} {t}: {what}, RAZ/WI, has no form in a "
                                               "v3 trace: left out"}))
                apply(shadow, t)
                i += 1
                continue
            elif reg.width == 64:
                nxt = txns[i + 1] if i + 1 < len(txns) else None
                pair = (half == 0 and nxt is not None and nxt.op == t.op
                        and (nxt.frame, nxt.offset) == (t.frame, t.offset + 4)
                        and (nxt.cpu, nxt.gich_cpu) == (t.cpu, t.gich_cpu)
                        and (t.op == "read" or nxt.strb == 0xF))
                line["reg"] = reg.full_name
                if pair:
                    counts["merged"] += 1
                    value, used = t.value | nxt.value << 32, 2
                else:
                    counts["approximated"] += 1
                    if t.op == "read":
                        line["note"] = (f"the fuzz run read only the "
                                        f"{'high' if half else 'low'} half")
                    else:
                        other = shadow.read(t.frame, t.offset ^ 4, **by(t))
                        value = (other << 32 | t.value) if half == 0 else (t.value << 32 | other)
                        line["note"] = (f"the fuzz run wrote only the {'high' if half else 'low'} "
                                        f"half; the other is written with the value it held, "
                                        f"{other:#010x}")
            elif reg.full_name.startswith(PHYSICAL_PREFIXES_V3) and not legacy:
                # a name the replay passes over as the physical GIC's (ICC_SRE_EL1):
                # its slot instead
                line.update(frame=t.frame, offset=f"{t.offset:#05x}")
                value = t.value
            else:
                line["reg"] = reg.full_name
                value = t.value
            if t.op == "write":
                line["value"] = f"{value:#018x}"
            out.append(json.dumps(line))
        for k in range(used):
            apply(shadow, txns[i + k])
        i += used
    return out, counts


def saved_txns_v3(lines, num_cpus=1, legacy=False):
    """The 32-bit accesses `vgic replay --arch v3` makes for GICv3 trace
    lines (read through sim/trace.py, so the lines are checked too), as
    (seq of the trace line, Txn): an ICH_LR<n>_EL2 access as its low half
    then its high half, any other as its low half. `legacy`: a legacy
    trace (`--legacy`), whose GICV_* accesses are 32-bit."""
    out = []
    for t in parse_lines(lines, "<saved trace>", num_cpus=num_cpus,
                         arch="v3-legacy" if legacy else "v3"):
        if t.op == "reset":
            out.append((t.seq, Txn("reset")))
            continue
        if t.frame == "GICV":
            out.append((t.seq, Txn(t.op, t.frame, t.offset, t.value or 0)))
            continue
        reg, _ = sysregs.decode(t.frame, t.offset)
        for offset, shift in reg.halves if reg is not None else [(t.offset, 0)]:
            out.append((t.seq, Txn(t.op, t.frame, offset, (t.value or 0) >> shift & M32,
                                   cpu=t.cpu, gich_cpu=t.gich_cpu)))
    return out


# -- command line ------------------------------------------------------------
def parse_lrs(text, arch="v2"):
    """'1,4,64' -> (1, 4, 64), with a clear error; GICv3 counts are 1..16."""
    try:
        out = tuple(int(t, 0) for t in text.split(",") if t.strip())
    except ValueError:
        raise ValueError(f"--lrs {text!r}: expected comma-separated integers, e.g. 1,4,64") from None
    if not out:
        raise ValueError(f"--lrs {text!r}: no LR count given")
    for n in out:
        if arch == "v3" and not 1 <= n <= sysregs.MAX_LRS:
            raise ValueError(f"--lrs {text!r}: {n} list registers: GICv3 has 1..{sysregs.MAX_LRS} "
                             "(ICH_VTR_EL2.ListRegs + 1)")
        regs.check_num_lrs(n)
    return out


def v3_params(args):
    """The V3Config parameters of `vgic fuzz --arch v3`'s options ({} for the defaults)."""
    params = {f: getattr(args, f, None) for f in ("pri_bits", "pre_bits", "id_bits")}
    params = {k: v for k, v in params.items() if v is not None}
    if getattr(args, "rp_unmasked", False):
        params["rp_masked"] = False
    if getattr(args, "legacy", False):
        params["legacy"] = True
    return params


def check_arch(args, lrs):
    """The GICv3 options: V3Config parameters (None for --arch v2), or a
    message saying what is wrong."""
    arch = getattr(args, "arch", "v2")
    given = [o for o, f in V3_OPTIONS.items() if getattr(args, o[2:].replace("-", "_"), None)
             not in (None, False)]
    if arch == "v2":
        if given:
            return None, (f"{', '.join(given)}: {'options' if len(given) > 1 else 'an option'} "
                          "of --arch v3 (this run is --arch v2)")
        return None, None
    params = v3_params(args)
    try:
        for n in lrs:
            sysregs.V3Config(n, **params)
    except ValueError as e:                   # V3Config's message, in the options' names
        text = str(e)
        for option, name in V3_OPTIONS.items():
            text = text.replace(name, option)
        return None, text
    return params, None


def v3_flags(v3):
    """The command-line options that give the GICv3 build `v3` (all of them, explicit)."""
    if v3 is None:
        return ""
    cfg = sysregs.V3Config(**v3)
    return (f" --arch v3 --pri-bits {cfg.pri_bits} --pre-bits {cfg.pre_bits} "
            f"--id-bits {cfg.id_bits}" + (" --rp-unmasked" if not cfg.rp_masked else "")
            + (" --legacy" if cfg.legacy else ""))


def run(args):
    """Entry point of `vgic fuzz` (options: sim/cli.py)."""
    arch = getattr(args, "arch", "v2")
    try:
        default = DEFAULT_LRS_V3 if arch == "v3" else DEFAULT_LRS
        lrs = parse_lrs(args.lrs if args.lrs is not None else ",".join(map(str, default)), arch)
    except ValueError as e:
        print(f"vgic fuzz: {e}", file=sys.stderr)
        return 2
    v3, problem = check_arch(args, lrs)
    if problem:
        print(f"vgic fuzz: {problem}", file=sys.stderr)
        return 2
    flags = v3_flags(v3)
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
                      num_cpus=args.cpus, v3=v3)
    except FuzzFailure as f:
        if progress is not None:
            progress.finish()
        d = f.divergence
        print(d.report(), file=sys.stderr)
        cpus = f" --cpus {args.cpus}" if args.cpus > 1 else ""
        print(f"reproduce: vgic fuzz -n {d.index + 1} --lrs {f.num_lrs} --seed {args.seed} "
              f"--engine {args.engine} --profile {args.profile}{cpus}{flags}", file=sys.stderr)
        txns = f.txns
        if args.minimize:
            print(f"minimizing {len(txns)} transactions...", file=sys.stderr)
            ref = reference(f.num_lrs, args.cpus, v3)
            dut = make_engine(args.engine, f.num_lrs, **cpus_kw(args.cpus, v3))

            def reset_pair():
                ref.reset()
                dut.reset()
                return ref, dut
            txns = minimize(txns, reset_pair)
            print(f"minimal sequence ({len(txns)} transactions):", file=sys.stderr)
            for i, t in enumerate(txns):
                print(f"  #{i:<4} {t}", file=sys.stderr)
        if args.save:
            counts = save_trace(args.save, txns, args.cpus, v3, f.num_lrs)
            cpus = f" --cpus {args.cpus}" if args.cpus > 1 else ""
            replay = (f"vgic replay {args.save} --lrs {f.num_lrs}{cpus}{flags}"
                      " --engine both")
            print(f"saved {len(txns)} transactions to {args.save} ({replay})", file=sys.stderr)
            if v3 is not None:
                _report_v3_save(args, f, v3, counts)
        return 1
    except FuzzInterrupted as i:
        if progress is not None:
            progress.finish()
        print(f"vgic fuzz: interrupted after {i.total_done:,} transactions, no divergence "
              f"(at {i.num_lrs} LRs, {i.done:,} of that count's stream; seed {args.seed}, "
              f"profile {args.profile}, engine {args.engine}).\n"
              f"reproduce up to there: vgic fuzz -n {i.done} --lrs {i.num_lrs} "
              f"{f'--cpus {args.cpus} ' if args.cpus > 1 else ''}--seed "
              f"{args.seed} --engine {args.engine} --profile {args.profile}{flags}",
              file=sys.stderr)
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
    build = f"arch v3:{flags.removeprefix(' --arch v3')}, " if v3 is not None else ""
    print(f"fuzz {args.engine}: {total:,} transactions, no divergence ({build}{cpus}{per}); "
          f"seed {args.seed}; {elapsed:.1f}s, {total / max(elapsed, 1e-9):,.0f} txn/s",
          file=sys.stderr)
    return 0


VERIFY_LIMIT = 5000         # accesses of a saved GICv3 trace worth replaying to check it


def _report_v3_save(args, failure, v3, counts):
    """What the GICv3 trace could not carry as the fuzz run did it, and (for
    a trace of at most VERIFY_LIMIT accesses) whether replaying it, as `vgic
    replay --arch v3 --engine both` does, still diverges."""
    err = sys.stderr
    merged, approx, left = counts["merged"], counts["approximated"], counts["left out"]
    print(f"  {merged} LR accesses by halves saved as 64-bit accesses; {approx} lone LR "
          f"half accesses approximated, {left} accesses left out (notes in the trace)", file=err)
    with open(args.save, encoding="utf-8") as fh:
        replayed = saved_txns_v3(fh, args.cpus, legacy=bool(v3.get("legacy")))
    if len(replayed) > VERIFY_LIMIT:
        print(f"  ({len(replayed)} accesses: not replayed here to check it)", file=err)
        return
    ref = reference(failure.num_lrs, args.cpus, v3)
    dut = make_engine(args.engine, failure.num_lrs, **cpus_kw(args.cpus, v3))
    try:
        run_diff(ref, dut, [t for _, t in replayed], names=("model", args.engine))
    except Divergence as d:
        print(f"  the saved trace reproduces the divergence (at its line with seq "
              f"{replayed[d.index][0]}: {d.txn})", file=err)
    else:
        print("  the saved trace does NOT reproduce the divergence"
              + (" (it approximates or leaves out accesses the fuzz run made; reproduce "
                 "with the vgic fuzz command above)" if approx or left else ""), file=err)
    finally:
        close = getattr(dut, "close", None)
        if close is not None:
            close()
