# Ref: arch 1.4 (access rules), R6 (output lines), R10 (deactivation forwarding), R13
"""Differential runner: the same transactions into two engines (the golden
model and the RTL, or any two objects with the model's interface), compared
after every transaction: the read data, the VIRQ, VFIQ and maintenance
levels, the deactivations forwarded to the Distributor during it and
(GICv3) the `traps` port.

The first difference stops the run with a `Divergence` (an AssertionError, so
pytest shows its report), whose `report()` names the transaction number, the
register (from rtl/regs.py), the signal, both values, the last transactions
before it and the reference engine's state.
"""
from collections import deque
from typing import NamedTuple

from ..rtl.regs import LR_FIELDS, field
from ..rtl import sysregs
from ..rtl.sysregs import LR3_FIELDS
from .stimulus import Txn, apply, describe
from .trace import ARCHS

__all__ = ["Observation", "Divergence", "DiffRunner", "observe", "run_diff", "minimize", "Txn",
           "make_engine"]

SIGNALS = ("read data", "virq", "vfiq", "maint", "forwarded", "traps")


class Observation(NamedTuple):
    """What an engine showed after one transaction."""
    data: object          # read data (int), or None for a write/reset
    virq: int
    vfiq: int
    maint: int
    forwarded: tuple      # pINTIDs forwarded during this transaction, oldest first
    traps: object = None  # GICv3: the `traps` port (sysregs.traps_word; CPU n's at [5n+4:5n])

    def values(self):
        return dict(zip(SIGNALS, self))

    def __str__(self):
        data = "" if self.data is None else f"-> {self.data:#010x}  "
        fw = f"  forwarded {list(self.forwarded)}" if self.forwarded else ""
        traps = f"  traps={self.traps:#b}" if self.traps else ""
        return f"{data}virq={self.virq} vfiq={self.vfiq} maint={self.maint}{fw}{traps}"


ENGINES = ("rtl", "fast", "model")


def make_engine(name, num_lrs, vcd_path=None, num_cpus=1, arch="v2", **v3):
    """A fresh engine in its reset state: "model" (golden model, sim/model),
    "rtl" (Amaranth simulation, sim/driver.py; a waveform into vcd_path when
    given) or "fast" (Verilator, sim/fast.py; likewise), of `num_cpus` CPU
    interfaces (rtl/cluster.py; their lines are masks, bit n for CPU n).
    `arch` "v3": the GICv3 interface, with V3Config's parameters in `v3`
    (pri_bits, pre_bits, id_bits, rp_masked; rtl/sysregs.py), on every
    engine and CPU count. Used by `vgic replay` and `vgic fuzz`."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    if arch == "v2" and v3:
        raise ValueError(f"{', '.join(v3)}: parameters of arch v3")
    arch_args = {"arch": "v3", **v3} if arch == "v3" else {}
    match name:
        case "model":
            from .model import VirtualInterface, Cluster
            if num_cpus > 1:
                return Cluster(num_lrs, num_cpus, **arch_args)
            return VirtualInterface(num_lrs, **arch_args)
        case "rtl":
            from .driver import RTLEngine
            return RTLEngine(num_lrs, vcd_path=vcd_path, num_cpus=num_cpus, **arch_args)
        case "fast":
            from .fast import FastEngine
            cpus = {"num_cpus": num_cpus} if num_cpus > 1 else {}
            if arch == "v3":
                cpus.update(arch="v3", **v3)
            return FastEngine(num_lrs=num_lrs, vcd_path=vcd_path, **cpus)


def observe(engine, txn, with_traps=False):
    """Apply `txn` and return the engine's Observation; `with_traps`: also
    its `traps` port (GICv3; the lock step compares it, a replay writes no
    such field)."""
    before = len(engine.forwarded)
    data = apply(engine, txn)
    if txn.op == "reset":
        before = 0                     # reset may clear the list of forwarded pINTIDs
    traps = None
    if with_traps and engine.v3 is not None:
        traps = engine.traps
        if not isinstance(traps, int):             # one CPU: a dict by name
            traps = sysregs.traps_word(traps)
    return Observation(data, int(engine.virq), int(engine.vfiq), int(engine.maint),
                       tuple(engine.forwarded[before:]), traps)


def _fmt(signal, value):
    if signal == "read data":
        return "(none)" if value is None else f"{value:#010x} ({value})"
    if signal == "forwarded":
        return "none" if not value else "pINTID " + ", ".join(str(p) for p in value)
    if signal == "traps":                        # CPU n's five bits at [5n+4:5n]
        cpu = (lambda i: f"CPU {i // 5} ") if value >> 5 else (lambda i: "")
        names = [cpu(i) + sysregs.TRAP_BITS[i % 5]
                 for i in range(value.bit_length()) if value >> i & 1]
        return f"{value:#b} ({', '.join(names)})"
    return str(value)


class Divergence(AssertionError):
    """Two engines disagreed. Attributes: index (0-based transaction number),
    txn, register (name from rtl/regs.py), signal ("read data", "virq",
    "vfiq", "maint", "forwarded" or "traps"; the first that differs), expected (the
    reference engine's value), actual (the other's), mismatches (every
    differing signal: {signal: (expected, actual)}), history ([(index, txn,
    Observation)] before it), names (reference, other), context (extra text)."""

    def __init__(self, index, txn, mismatches, history, names=("model", "rtl"), context=""):
        self.index, self.txn, self.mismatches = index, txn, mismatches
        self.signal = next(iter(mismatches))
        self.expected, self.actual = mismatches[self.signal]
        self.register = "(reset)" if txn.op == "reset" else describe(txn.frame, txn.offset)
        self.history, self.names, self.context = list(history), names, context
        super().__init__(self.report())

    def report(self):
        ref, dut = self.names
        width = max(len(ref), len(dut))
        lines = [f"DIVERGENCE at transaction #{self.index}: {self.txn}",
                 f"  register: {self.register}"]
        for signal, (exp, act) in self.mismatches.items():
            lines.append(f"  {signal}:")
            lines.append(f"    {ref:<{width}} = {_fmt(signal, exp)}")
            lines.append(f"    {dut:<{width}} = {_fmt(signal, act)}")
        if self.history:
            lines.append(f"  last {len(self.history)} transactions before it ({ref}'s view, "
                         "identical on both):")
            for i, txn, obs in self.history:
                lines.append(f"    #{i:<7} {str(txn):<44} {obs}")
        if self.context:
            lines.append(self.context)
        return "\n".join(lines)


def snapshot(engine):
    """A golden model's state (read from its attributes: no side effects),
    cheap enough to take before every transaction; None for other engines.
    A GICv3 model's starts with "v3" (format_state tells them apart)."""
    try:
        v = engine.vcpu
        if v.v3 is not None:
            return ("v3", engine.hyp.hcr, v.vmcr3, v.ap0, v.apr, tuple(engine.lrs.lr))
        return (engine.hyp.hcr, v.vmcr, v.apr, v.ctlr, v.pmr, v.bpr, v.abpr, tuple(engine.lrs.lr))
    except AttributeError:
        return None


def format_state(snap):
    """A `snapshot` as readable lines."""
    if snap is None:
        return ""
    if snap[0] == "v3":
        return _format_state_v3(*snap[1:])
    hcr, vmcr, apr, ctlr, pmr, bpr, abpr, lrs = snap
    out = [f"  reference state before it: HCR={hcr:#010x} VMCR={vmcr:#010x} "
           f"APR={apr:#010x} CTLR={ctlr:#x} PMR={pmr:#x} BPR={bpr} ABPR={abpr}"]
    live = [(n, v) for n, v in enumerate(lrs) if v]
    for n, v in live[:16]:
        f = {k: field(v, LR_FIELDS, k) for k in ("HW", "Grp1", "State", "Priority", "VirtualID")}
        extra = (f"pINTID={field(v, LR_FIELDS, 'PhysicalID')}" if f["HW"] else
                 f"EOI={field(v, LR_FIELDS, 'EOI')} CPUID={field(v, LR_FIELDS, 'CPUID')}")
        out.append(f"    LR{n:<2} = {v:#010x}  HW={f['HW']} Grp1={f['Grp1']} "
                   f"State={f['State']:02b} Priority={f['Priority'] << 3:#04x} "
                   f"vid={f['VirtualID']} {extra}")
    if len(live) > 16:
        out.append(f"    ... {len(live) - 16} more non-zero LRs")
    if not live:
        out.append("    all LRs 0")
    return "\n".join(out)


def _format_state_v3(hcr, vmcr, ap0, ap1, lrs):
    """A GICv3 model's `snapshot` (rtl/sysregs.py names; the AP registers of
    a group as one number, ICH_AP<g>R0_EL2 in its low 32 bits)."""
    out = [f"  reference state before it: ICH_HCR_EL2={hcr:#010x} ICH_VMCR_EL2={vmcr:#010x} "
           f"ICH_AP0R={ap0:#010x} ICH_AP1R={ap1:#010x}"]
    live = [(n, v) for n, v in enumerate(lrs) if v]
    for n, v in live:
        f = {k: field(v, LR3_FIELDS, k) for k in ("State", "HW", "Group", "Priority", "vINTID")}
        extra = (f"pINTID={field(v, LR3_FIELDS, 'pINTID')}" if f["HW"] else
                 f"EOI={field(v, LR3_FIELDS, 'EOI')}")
        out.append(f"    ICH_LR{n}_EL2 = {v:#018x}  State={f['State']:02b} HW={f['HW']} "
                   f"Group={f['Group']} Priority={f['Priority']:#04x} vINTID={f['vINTID']} {extra}")
    if not live:
        out.append("    all LRs 0")
    return "\n".join(out)


class DiffRunner:
    """Feeds transactions to a reference engine and a second engine and stops
    at the first difference. Keeps its position across `run` calls, so a
    long stream can be fed in chunks; `count` is the number compared so far."""

    def __init__(self, ref, dut, names=("model", "rtl"), history=8):
        self.ref, self.dut, self.names = ref, dut, names
        self.history = deque(maxlen=history)
        self.count = 0

    def step(self, txn):
        state = snapshot(self.ref)              # formatted only for a report
        exp, act = observe(self.ref, txn, True), observe(self.dut, txn, True)
        if exp != act:
            mismatches = {s: (e, a) for s, e, a in zip(SIGNALS, exp, act) if e != a}
            raise Divergence(self.count, txn, mismatches, self.history, self.names,
                             format_state(state))
        self.history.append((self.count, txn, exp))
        self.count += 1
        return exp

    def run(self, txns):
        """Compare every transaction of an iterable; returns the number run."""
        start = self.count
        for txn in txns:
            self.step(txn)
        return self.count - start


def run_diff(ref, dut, txns, names=("model", "rtl"), history=8):
    """One-shot: compare `txns` on two fresh (or reset) engines. Raises
    Divergence on the first difference, returns the number of transactions."""
    return DiffRunner(ref, dut, names, history).run(txns)


def minimize(txns, make_pair, budget=200):
    """Shorten a diverging sequence (delta debugging on whole transactions):
    returns a shorter list that still diverges. `make_pair()` gives two engines
    in their reset state. At most `budget` trial runs."""
    def diverges(seq):
        ref, dut = make_pair()
        try:
            run_diff(ref, dut, seq)
        except Divergence:
            return True
        return False

    seq, chunk, trials = list(txns), max(1, len(txns) // 2), 0
    while chunk >= 1 and trials < budget:
        i, shrunk = 0, False
        while i < len(seq) and trials < budget:
            candidate = seq[:i] + seq[i + chunk:]
            trials += 1
            if candidate and diverges(candidate):
                seq, shrunk = candidate, True
            else:
                i += chunk
        if not shrunk:
            chunk //= 2
    return seq

