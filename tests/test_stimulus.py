# Ref: docs/architecture.md R1-R16 (the behaviours the stimulus must reach); sim/stimulus.py
"""The stimulus generators: reproducible, well-formed, shaped like real use
(they reach the behaviours named in each test), and strong enough to tell
the golden model from a model with one rule broken (mutation tests).

Reachability is measured by running the stream on the golden model and
watching its state; the expected behaviours are the spec's, not the
generator's code.
"""
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

from vgic.rtl import regs
from vgic.rtl.regs import LR_FIELDS, field
from vgic.sim.diff import DiffRunner, Divergence
from vgic.sim.model import VirtualInterface
from vgic.sim.model.lr_bank import lr_get, prio, vid_out
from vgic.sim.stimulus import (CORE, RandomChoices, Txn, apply, describe, generate, sequences,
                               stream)

LRS = (1, 4, 64)
COVERAGE_LENGTH = 15000


# ---------------------------------------------------------------------------
# Reproducible and well-formed
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("num_lrs", LRS)
def test_same_seed_same_sequence(num_lrs):
    assert generate(7, num_lrs, 800) == generate(7, num_lrs, 800)


@pytest.mark.parametrize("num_lrs", LRS)
def test_different_seeds_differ(num_lrs):
    assert generate(7, num_lrs, 300) != generate(8, num_lrs, 300)


def test_shorter_run_is_a_prefix():
    """A divergence at transaction k reproduces with -n k+1 (same stream)."""
    assert generate(3, 4, 1000)[:250] == generate(3, 4, 250)


@pytest.mark.parametrize("profile", ["mixed", "kvm", "noise"])
@pytest.mark.parametrize("num_lrs", LRS)
def test_transactions_are_well_formed(num_lrs, profile):
    """Every transaction is a word access inside a frame (or the core window),
    with a 32-bit value and 4-bit byte enables, that the model accepts."""
    model = VirtualInterface(num_lrs)
    for t in generate(11, num_lrs, 3000, profile):
        assert t.op in ("read", "write", "reset")
        if t.op != "reset":
            size = 1 << regs.CORE_ADDR_BITS if t.frame == CORE else regs.FRAME_SIZE[t.frame]
            assert 0 <= t.offset < size and t.offset % 4 == 0, t
            assert 0 <= t.value < 2**32 and 0 <= t.strb <= 0xF, t
        apply(model, t)


def test_unknown_profile_is_rejected():
    with pytest.raises(ValueError, match="profile"):
        next(stream(RandomChoices(0), 4, "everything"))


def test_txn_text_names_registers():
    assert str(Txn("read", "GICV", 0x00C)) == "read  GICV_IAR"
    assert str(Txn("write", "GICH", 0x104, 0x1A00002A)) == "write GICH_LR1 = 0x1a00002a"
    assert str(Txn("write", "GICH", 0x000, 1, 0b0011)) == "write GICH_HCR = 0x00000001 strb=0b0011"
    assert describe("GICV", 0x0D4) == "GICV_APR1 (reserved)"
    assert describe(CORE, 0x1004) == "CORE 0x1004 (unmapped)"
    assert describe(CORE, 0x3000) == "GICV_DIR"


# ---------------------------------------------------------------------------
# Shaped like real use: behaviours reached
# ---------------------------------------------------------------------------
def _state(v):
    return field(v, LR_FIELDS, "State")


def coverage(num_lrs, length=COVERAGE_LENGTH, seed=0):
    """Run the stream on the model; return the set of behaviours seen."""
    m = VirtualInterface(num_lrs)
    seen = set()
    free = 0                                # last ELRSR value read
    acked = []                              # vids acknowledged, in order
    for t in generate(seed, num_lrs, length):
        name = describe(t.frame, t.offset) if t.op != "reset" else "reset"
        lrs_before = list(m.lrs.lr)
        apr_before, hcr_before, fw_before = m.vcpu.apr, m.hyp.hcr, len(m.forwarded)
        ctlr = m.vcpu.ctlr
        if name == "GICV_IAR":
            cands = [prio(v) for n, v in enumerate(m.lrs.lr) if _state(v) == 1
                     and (ctlr >> lr_get(v, "Grp1")) & 1 and prio(v) < m.vcpu.pmr]
            if len(cands) != len(set(cands)):
                seen.add("equal-priority pending LRs at an IAR read")
        value = apply(m, t)

        if t.op == "read" and name in ("GICH_ELRSR0", "GICH_ELRSR1"):
            free = value if name.endswith("0") else free | value << 32
        if t.op == "write" and name.startswith("GICH_LR") and t.value:
            n = int(name[7:])
            if n < num_lrs and free >> n & 1 and _state(lrs_before[n]) == 0:
                seen.add("LR filled where ELRSR showed it free")
            if n >= num_lrs:
                seen.add("LR above ListRegs written")
        if t.op == "read" and name in ("GICV_IAR", "GICV_AIAR") and value & 0x3FF < 1020:
            seen.add(f"acknowledge through {name[5:]}")
            lr = acked_lr(m, value)
            if lr is not None:
                seen.add(f"Group {lr_get(lr, 'Grp1')} acknowledged")
            if value >> 10:
                seen.add("vSGI acknowledged with CPUID != 0")
            if apr_before:
                seen.add("nested preemption (acknowledge with an active priority)")
            acked.append(value)
        if t.op == "read" and name == "GICV_IAR" and value == 1022:
            seen.add("IAR returns 1022 (Group 1, AckCtl = 0)")
        if t.op == "write" and name in ("GICV_EOIR", "GICV_AEOIR") and value is None:
            if acked and t.value == acked[-1]:
                seen.add("EOI of the last acknowledged interrupt")
                acked.pop()
            elif t.value in acked:
                seen.add("EOI out of order")
                acked.remove(t.value)
        if t.op == "write" and name == "GICV_DIR" and (ctlr >> 9) & 1:
            if any(_state(a) != _state(b) for a, b in zip(lrs_before, m.lrs.lr)):
                seen.add("DIR deactivates with EOImode = 1")
        if any(_state(a) == 3 and _state(b) == 1 for a, b in zip(lrs_before, m.lrs.lr)):
            seen.add("deactivation of a pending+active LR (11 -> 01)")
        if len(m.forwarded) > fw_before:
            seen.add("HW=1 deactivation forwarded")
        if hcr_before >> 27 == 31 and m.hyp.hcr >> 27 == 0 and not (t.op == "write" and name == "GICH_HCR"):
            seen.add("EOICount wraps 31 -> 0")
        if t.op == "read" and name == "GICH_MISR":
            for bit, b in regs.MISR_BITS.items():
                if value >> b & 1:
                    seen.add(f"MISR.{bit} read as 1")
        if t.op == "write" and name == "GICH_HCR" and t.value == 0:
            seen.add("HCR = 0 on exit")
        if m.virq:
            seen.add("VIRQ high")
        if m.vfiq:
            seen.add("VFIQ high")
        if m.maint:
            seen.add("maintenance line high")
        live = [v & 0x3FF for v in m.lrs.lr if _state(v)]
        if len(live) != len(set(live)):
            seen.add("two live LRs with the same vid")
        if any(_state(v) == 3 for v in m.lrs.lr):
            seen.add("LR in state pending+active")
        if any(v >> 31 and _state(v) for v in m.lrs.lr):
            seen.add("live HW=1 LR")
        if t.op == "reset":
            seen.add("reset")
        elif t.frame == CORE and regs.frame_of(t.offset)[0] is None:
            seen.add("unmapped core address accessed")
        elif name.endswith("(reserved)"):
            seen.add(f"reserved {t.frame} offset accessed")
        if t.op == "write" and t.strb != 0xF:
            seen.add("write with partial byte enables")
    return seen


def acked_lr(m, value):
    """The LR (value) that an acknowledge of `value` made active, if any."""
    for v in m.lrs.lr:
        if v & 0x3FF == value & 0x3FF and _state(v) in (2, 3):
            return v
    return None


BEHAVIOURS = [
    "LR filled where ELRSR showed it free", "acknowledge through IAR", "acknowledge through AIAR",
    "Group 0 acknowledged", "Group 1 acknowledged", "vSGI acknowledged with CPUID != 0",
    "nested preemption (acknowledge with an active priority)",
    "IAR returns 1022 (Group 1, AckCtl = 0)", "EOI of the last acknowledged interrupt",
    "EOI out of order", "DIR deactivates with EOImode = 1",
    "deactivation of a pending+active LR (11 -> 01)", "HW=1 deactivation forwarded",
    "EOICount wraps 31 -> 0", "HCR = 0 on exit", "VIRQ high", "VFIQ high",
    "maintenance line high", "LR in state pending+active", "live HW=1 LR", "reset",
    "unmapped core address accessed", "reserved GICH offset accessed",
    "reserved GICV offset accessed", "write with partial byte enables",
    "equal-priority pending LRs at an IAR read", "two live LRs with the same vid",
    "LR above ListRegs written",
] + [f"MISR.{bit} read as 1" for bit in regs.MISR_BITS]

# What cannot happen with one LR (or with all 64 implemented)
IMPOSSIBLE = {
    1: {"EOI out of order", "equal-priority pending LRs at an IAR read",
        "two live LRs with the same vid", "nested preemption (acknowledge with an active priority)"},
    64: {"LR above ListRegs written"},
}


@pytest.fixture(scope="module")
def covered():
    return {n: coverage(n) for n in LRS}


@pytest.mark.parametrize("num_lrs", LRS)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_stream_reaches(covered, behaviour, num_lrs):
    if behaviour in IMPOSSIBLE.get(num_lrs, ()):
        pytest.skip(f"cannot happen with {num_lrs} LRs")
    assert behaviour in covered[num_lrs], f"not reached in {COVERAGE_LENGTH} transactions"


# ---------------------------------------------------------------------------
# Strong enough: each broken model (one rule changed) is told apart
# ---------------------------------------------------------------------------
def _mutant(breaks):
    class Mutant(VirtualInterface):
        def __init__(self, num_lrs=4):
            super().__init__(num_lrs)
            breaks(self)
    return Mutant


def _best_with(m, states=(1,), ties_high=False, filter_groups_after=False):
    lrs = m.lrs

    def best(g0, g1, pmr):
        b = None
        for n, v in enumerate(lrs.lr):
            en = 1 if filter_groups_after else (g1 if lr_get(v, "Grp1") else g0)
            if lr_get(v, "State") in states and en and prio(v) < pmr:
                if b is None or prio(v) < prio(lrs.lr[b]) or (ties_high and prio(v) == prio(lrs.lr[b])):
                    b = n
        if b is not None and filter_groups_after:
            return b if (g1 if lr_get(lrs.lr[b], "Grp1") else g0) else None
        return b
    lrs.best = best


def _replace(obj, name, make):
    setattr(obj, name, make(getattr(obj, name)))


def _dir_always(original):
    def deactivate_interrupt(value):
        vid, src = value & 0x3FF, value >> 10 & 7
        n = original.__self__.lrs.match(vid, src) if vid < 1020 else None
        if n is not None:
            original.__self__._deactivate(n)
        elif vid < 1020:
            original.__self__.hyp.eoicount_increment()
    return deactivate_interrupt


MUTANTS = {
    # R5: pending+active (11) is not a candidate
    "state 11 is a candidate": lambda m: _best_with(m, states=(1, 3)),
    # R5: disabled groups are excluded before picking (QEMU quirk 5)
    "disabled group picked, then gated": lambda m: _best_with(m, filter_groups_after=True),
    # arch 2.4: MISR.NP counts State 01 only
    "MISR.NP counts state 11": lambda m: setattr(
        m.lrs, "any_pending", lambda: any(lr_get(v, "State") in (1, 3) for v in m.lrs.lr)),
    # arch 2.4: MISR.U counts valid LRs only
    "MISR.U counts EOI-waiting LRs": lambda m: setattr(
        m.lrs, "valid_count", lambda: sum(1 for v in m.lrs.lr if lr_get(v, "State")
                                          or (not lr_get(v, "HW") and lr_get(v, "EOI")))),
    # R7: HPPIR reports the CPUID (QEMU quirk 6)
    "HPPIR drops the CPUID": lambda m: _replace(m.vcpu, "highest_pending",
                                                lambda f: lambda alias: f(alias) & 0x3FF),
    # R7/R14: HPPIR reads 1023 with HCR.En = 0
    "HPPIR ignores HCR.En": lambda m: _replace(m.vcpu, "highest_pending", lambda f: lambda alias: (
        f(alias) if m.hyp.en or m.vcpu.best() is None else vid_out(m.lrs.lr[m.vcpu.best()]))),
    # R9: DIR with EOImode = 0 is ignored
    "DIR acts with EOImode = 0": lambda m: _replace(m.vcpu, "deactivate_interrupt", _dir_always),
    # R8: a vSGI EOI matches vid and CPUID
    "SGI match ignores CPUID": lambda m: _replace(m.lrs, "match", lambda f: lambda vid, src: next(
        (n for n, v in enumerate(m.lrs.lr) if v & 0x3FF == vid and lr_get(v, "State") in (2, 3)), None)),
    # R11: an EOIR that drops no priority does not count
    "EOICount counts EOIR with APR = 0": lambda m: _replace(m.vcpu, "end_of_interrupt", lambda f: lambda v: (
        m.hyp.eoicount_increment() if v & 0x3FF < 1020 and m.vcpu.apr == 0 and not m.vcpu.ctl("EOImode")
        and m.lrs.match(v & 0x3FF, v >> 10 & 7) is None else f(v))),
    # R11: EOICount wraps modulo 32
    "EOICount saturates at 31": lambda m: _replace(m.hyp, "eoicount_increment", lambda f: lambda: (
        None if m.hyp.hcr_field("EOICount") == 31 else f())),
    # R8: EOImode = 1 EOIs only drop the priority
    "EOIR deactivates with EOImode = 1": lambda m: _replace(m.vcpu, "end_of_interrupt", lambda f: lambda v: (
        f(v), m.vcpu.ctl("EOImode") and v & 0x3FF < 1020 and m.lrs.match(v & 0x3FF, v >> 10 & 7) is not None
        and m.vcpu._deactivate(m.lrs.match(v & 0x3FF, v >> 10 & 7)))),
    # R3: Group 1 uses ABPR unless CBPR
    "CBPR ignored": lambda m: setattr(m.vcpu, "gmask", lambda grp1: (
        (0xFF << m.vcpu.abpr) & 0xFF if grp1 else (0xFF << (m.vcpu.bpr + 1)) & 0xFF)),
    # R3/R1: preemption compares the group priority
    "preemption by full priority": lambda m: setattr(m.vcpu, "preempts", lambda: (
        m.vcpu.best() is not None and prio(m.lrs.lr[m.vcpu.best()]) < m.vcpu.running_priority())),
    # arch 2.6: ELRSR covers every implemented LR
    "ELRSR misses the last LR": lambda m: _replace(m.lrs, "elrsr", lambda f: lambda: f() & ~(1 << (m.num_lrs - 1))),
    # arch 1.4: partial writes are ignored
    "partial writes take effect": lambda m: _replace(m, "write", lambda f: lambda fr, off, v, strb=0xF: f(fr, off, v)),
    # R13/R14: MISR is computed whatever HCR.En is
    "MISR reads 0 with En = 0": lambda m: _replace(m.hyp, "read", lambda f: lambda reg: (
        0 if reg.name == "MISR" and not m.hyp.en else f(reg))),
    # R10: a pINTID that is not a PPI/SPI is not forwarded (model's choice)
    "any pINTID forwarded": lambda m: _replace(m.lrs, "deactivate", lambda f: lambda n: (
        lambda v, r: lr_get(v, "PhysicalID") if lr_get(v, "HW") else r)(m.lrs.lr[n], f(n))),
    # arch 2.11: ABPR minimum 3
    "ABPR clamped to 2": lambda m: _replace(m.vcpu, "write", lambda f: lambda reg, v: (
        setattr(m.vcpu, "abpr", max(2, v & 7)) if reg.name == "ABPR" else f(reg, v))),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_stream_tells_broken_model_apart(name):
    """Within 30,000 transactions at 4 LRs (a few seconds on the model)."""
    runner = DiffRunner(VirtualInterface(4), _mutant(MUTANTS[name])(4), names=("model", name))
    with pytest.raises(Divergence):
        runner.run(generate("mutants/4", 4, 30000))


def test_64_lrs_reach_eisr1_and_elrsr1():
    """With 64 LRs the hypervisor uses EISR1/ELRSR1: a model whose EISR1 is
    EISR0 again is told apart."""
    def breaks(m):
        _replace(m.hyp, "read", lambda f: lambda reg: m.lrs.eisr() & 0xFFFF_FFFF
                 if reg.name == "EISR1" else f(reg))
    runner = DiffRunner(VirtualInterface(64), _mutant(breaks)(64))
    with pytest.raises(Divergence):
        runner.run(generate("mutants/64", 64, 20000))


# ---------------------------------------------------------------------------
# Hypothesis strategy
# ---------------------------------------------------------------------------
@settings(max_examples=20, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seq=sequences(4, 150))
def test_strategy_gives_sequences_up_to_the_asked_length(seq):
    assert 1 <= len(seq) <= 150 and all(isinstance(t, Txn) for t in seq)


def test_strategy_shrinks_towards_the_simplest_world_switch():
    """The simplest choices (what Hypothesis shrinks towards, and its first
    example) give a plain KVM world switch: no raw noise, no partial writes."""
    seq = find(sequences(4, 40), lambda s: True,
               settings=settings(database=None, derandomize=True, phases=[Phase.generate],
                                 max_examples=1))
    assert all(t.op in ("read", "write") and t.strb == 0xF for t in seq)
    names = [describe(t.frame, t.offset) for t in seq]
    assert "GICH_HCR" in names and "GICH_VMCR" in names and "GICH_ELRSR0" in names
    assert not any("reserved" in n or "unmapped" in n for n in names)
