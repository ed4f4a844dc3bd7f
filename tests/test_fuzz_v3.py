# Ref: docs/architecture-v3.md (v3 0-5, rules V1-V20, the open points the stimulus must
#      reach); sim/stimulus_v3.py; sim/fuzz.py (`vgic fuzz --arch v3`)
"""GICv3 random differential testing: the stimulus of sim/stimulus_v3.py and
`vgic fuzz --arch v3`.

- The golden model against the Amaranth RTL at 1, 4 and 16 LRs over the
  build parameters (pri_bits 5..8, pre_bits 5..7, id_bits 16/24, rp_masked).
- The stimulus reaches the behaviours it is meant to (measured on the model
  alone, decoding the state from the bit positions of docs/architecture-v3.md,
  not from the generator's code), and tells the golden model from models with
  one rule broken.
- The command line: options, errors, --save and --minimize.
"""
import collections
import json

import pytest
from hypothesis import HealthCheck, given, settings

from vgic.rtl import sysregs
from vgic.sim.diff import DiffRunner, Divergence, run_diff
from vgic.sim.model import VirtualInterface
from vgic.sim.stimulus_v3 import (RandomChoices, Txn, apply, generate, lr3_value, sequences,
                                  stream)

M32 = 0xFFFF_FFFF


def model(num_lrs, **params):
    return VirtualInterface(num_lrs, arch="v3", **params)


# ---------------------------------------------------------------------------
# The golden model against the RTL (Amaranth's simulator: a few hundred
# transactions a second, so each build gets a few thousand)
# ---------------------------------------------------------------------------
RTL_BUILDS = [
    # num_lrs, params, transactions, profile
    (1, {}, 2000, "mixed"),
    (1, dict(pri_bits=8, pre_bits=6, id_bits=16, rp_masked=False), 1500, "mixed"),
    (4, dict(pri_bits=8, pre_bits=7, id_bits=16, rp_masked=False), 2500, "mixed"),
    (4, dict(pri_bits=6, pre_bits=6), 2000, "mixed"),
    (4, dict(pri_bits=7, pre_bits=7, rp_masked=False), 1500, "kvm"),
    (4, dict(pri_bits=5, pre_bits=5, id_bits=16), 1500, "noise"),
    (16, dict(pri_bits=8, pre_bits=5, rp_masked=False), 1500, "mixed"),
    (16, dict(pri_bits=5, pre_bits=5, id_bits=16), 1500, "kvm"),
]


def _build_id(build):
    n, params, count, profile = build
    text = ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"
    return f"{n}lrs-{text}-{profile}"


@pytest.mark.parametrize("build", RTL_BUILDS, ids=_build_id)
def test_model_against_rtl(build):
    """`vgic fuzz --arch v3` in small: no divergence between the golden model
    and the RTL."""
    from vgic.sim.fuzz import fuzz
    num_lrs, params, count, profile = build
    assert fuzz(count, (num_lrs,), seed=11, engine="rtl", profile=profile,
                v3=params) == {num_lrs: count}


# ---------------------------------------------------------------------------
# Reproducible and well-formed
# ---------------------------------------------------------------------------
def test_same_seed_same_sequence():
    assert generate(7, 4, 1500) == generate(7, 4, 1500)
    assert generate(7, 4, 1500) != generate(8, 4, 1500)


def test_shorter_run_is_a_prefix():
    """A divergence at transaction k reproduces with -n k+1 (same stream)."""
    assert generate(3, 16, 2000, pri_bits=8)[:700] == generate(3, 16, 700, pri_bits=8)


def test_parameters_shape_the_stream():
    assert generate(3, 4, 2000) != generate(3, 4, 2000, pri_bits=8)


@pytest.mark.parametrize("profile", ["mixed", "kvm", "noise"])
@pytest.mark.parametrize("num_lrs, params", [(1, {}), (4, dict(id_bits=16)),
                                             (16, dict(pri_bits=8, pre_bits=7))])
def test_transactions_are_well_formed(num_lrs, params, profile):
    """Every transaction is a word access inside the ICH or ICV frame with a
    32-bit value and 4-bit byte enables; outside the noise every LR access
    comes as its low half followed by its high half, and no other
    register's high half is touched (v3 1.4 rule 5)."""
    m = model(num_lrs, **params)
    txns = generate(11, num_lrs, 4000, profile, **params)
    for i, t in enumerate(txns):
        assert t.op in ("read", "write", "reset"), t
        if t.op != "reset":
            assert t.frame in ("ICH", "ICV") and 0 <= t.offset < sysregs.FRAME_SIZE[t.frame], t
            assert t.offset % 4 == 0 and 0 <= t.value <= M32 and 0 <= t.strb <= 0xF, t
        if profile == "kvm" and t.op != "reset":
            reg, half = sysregs.decode(t.frame, t.offset)
            assert reg is not None and t.strb == 0xF, t
            if reg.width == 64:
                if half or i + 1 < len(txns):          # (the run may end between the halves)
                    other = txns[i + 1] if half == 0 else txns[i - 1]
                    assert (other.op, other.frame, other.offset) == (t.op, t.frame, t.offset ^ 4), t
            else:
                assert half == 0, t
        apply(m, t)


def test_lr_encoder_follows_the_layout():
    """v3 2.8: State [63:62], HW [61], Group [60], Priority [55:48], pINTID
    [44:32] or EOI [41], vINTID [31:0]; the KVM recording's values."""
    assert lr3_value(27, 0b01, 0xA0, 1, hw=1, pintid=27) == 0x70A0_001B_0000_001B
    assert lr3_value(43, 0b01, 0xD8, 1) == 0x50D8_0000_0000_002B
    assert lr3_value(33, 0b01, 0xA0, 1, eoi=1) == 0x50A0_0200_0000_0021
    with pytest.raises(ValueError):
        lr3_value(33, eoi=1, hw=1, pintid=27)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(sequences(4, max_length=120, pri_bits=7, pre_bits=6))
def test_hypothesis_draws_the_same_kind_of_sequences(seq):
    """DrawChoices drives the same generator (so Hypothesis can shrink a
    failing sequence); two golden models agree on whatever it draws."""
    assert seq and all(isinstance(t, Txn) for t in seq)
    run_diff(model(4, pri_bits=7, pre_bits=6), model(4, pri_bits=7, pre_bits=6), seq)


# ---------------------------------------------------------------------------
# Reach: the stream exercises what it is meant to (model only)
# ---------------------------------------------------------------------------
def _state(lr):
    return lr >> 62 & 3


def coverage(num_lrs, count, seed=1, profile="mixed", **params):
    """Run the stream on the golden model and count behaviours, seen from the
    state before and after each access (decoded from the bit positions of
    docs/architecture-v3.md)."""
    m = model(num_lrs, **params)
    cfg = m.v3
    c = collections.Counter()
    maint_before = 0
    for t in generate(seed, num_lrs, count, profile, **params):
        if t.op == "reset":
            apply(m, t)
            c["reset"] += 1
            continue
        lrs0, hcr0, vmcr0 = list(m.lrs.lr), m.hyp.hcr, m.vcpu.vmcr3
        aps0 = (m.vcpu.ap0, m.vcpu.apr)
        forwarded0 = len(m.forwarded)
        out = apply(m, t)
        lrs1, aps1 = list(m.lrs.lr), (m.vcpu.ap0, m.vcpu.apr)
        reg, half = sysregs.decode(t.frame, t.offset)
        name = reg.full_name if reg is not None and not half else None
        deact = [(a, b) for a, b in zip(lrs0, lrs1) if (_state(a), _state(b)) in ((2, 0), (3, 1))]
        # -- the access itself
        if reg is None:
            c["hole"] += 1
        elif half and reg.width == 32:
            c["RES0 high half"] += 1
        elif not reg.implemented(cfg):
            c["register the configuration lacks"] += 1
        if t.op == "write" and t.strb != 0xF:
            c["partial write"] += 1
        if t.op == "read" and name in ("ICV_IAR0_EL1", "ICV_IAR1_EL1"):
            if out == 1023:
                c["IAR 1023"] += 1
            else:
                c[f"acknowledge, group {name[7]}"] += 1
                c["nested acknowledge"] += aps0 != (0, 0)
                c["vLPI acknowledged"] += out >= 8192
                c["vINTID 1020-1022 handed out (V16)"] += 1020 <= out <= 1022
        if t.op == "write" and name in ("ICV_EOIR0_EL1", "ICV_EOIR1_EL1"):
            if aps1 == aps0:
                c["EOIR without a drop"] += 1
            elif deact:
                c["EOIR deactivates"] += 1
                c["EOIR deactivates a vLPI with VEOIM = 1"] += bool(vmcr0 >> 9 & 1)
            elif any(_state(v) in (2, 3) and v & cfg.idmask == t.value & cfg.idmask for v in lrs0):
                c["EOIR drops, the LR stays active (v3 open point 5)"] += 1
            else:
                c["EOIR drops only"] += 1
        if t.op == "write" and name == "ICV_DIR_EL1":
            c["DIR deactivates" if deact else "DIR deactivates nothing"] += 1
            c["DIR with VEOIM = 0"] += not vmcr0 >> 9 & 1
        if t.frame == "ICV" and m.hyp.hcr >> 27 != hcr0 >> 27:
            c["EOIcount + 1"] += 1
            c["EOIcount wraps"] += hcr0 >> 27 == 31
        if (t.op == "write" and t.strb == 0xF and reg is not None and reg.width == 64
                and reg.implemented(cfg)):
            stored = lrs1[int(reg.name[2:])] >> 32 * half & M32
            c["LR write with RES0 bits dropped"] += stored != t.value
        if t.op == "write" and reg is not None and reg.width == 64 and half:
            n = int(reg.name[2:])
            if n < num_lrs and _state(lrs1[n]) == 0b11:
                c["LR written in state 11"] += 1
                c["HW = 1 LR written in state 11"] += lrs1[n] >> 61 & 1
        # -- what it did
        for a, b in deact:
            c["deactivation 11 -> 01"] += _state(a) == 3
            c["EOI maintenance (EISR)"] += bool(b >> 41 & 1 and not b >> 61 & 1)
        c["forwarded deactivation"] += len(m.forwarded) - forwarded0
        m.forwarded.clear()
        c["vFIQ high"] += m.vfiq
        c["vIRQ high"] += m.virq
        c["maintenance raised"] += m.maint and not maint_before
        maint_before = m.maint
        misr = m.hyp.read(sysregs.lookup("ICH_MISR_EL2"))
        for bit, field in enumerate(("EOI", "U", "LRENP", "NP", "VGrp0E", "VGrp0D", "VGrp1E",
                                     "VGrp1D")):
            c[f"ICH_MISR_EL2.{field}"] += misr >> bit & 1
        valid = [v & cfg.idmask for v in lrs1 if _state(v)]
        c["two valid LRs with one vINTID"] += len(valid) != len(set(valid))
        c["a pending LR while En = 0"] += not m.hyp.hcr & 1 and any(_state(v) == 1 for v in lrs1)
        c["trap bits set"] += bool(m.hyp.hcr & 0x5C00)
        for g in (0, 1):
            c[f"group {g} LR pending"] += any(_state(v) == 1 and v >> 60 & 1 == g for v in lrs1)
    return c


# each behaviour and the least it must be seen in 20,000 transactions at 4 LRs
REACH = {
    "acknowledge, group 0": 60, "acknowledge, group 1": 200, "nested acknowledge": 20,
    "IAR 1023": 50, "vLPI acknowledged": 10, "vINTID 1020-1022 handed out (V16)": 1,
    "EOIR deactivates": 80, "EOIR deactivates a vLPI with VEOIM = 1": 3,
    "EOIR drops, the LR stays active (v3 open point 5)": 20, "EOIR drops only": 50,
    "EOIR without a drop": 50,
    "DIR deactivates": 40, "DIR deactivates nothing": 40, "DIR with VEOIM = 0": 30,
    "EOIcount + 1": 100, "EOIcount wraps": 2,
    "deactivation 11 -> 01": 10, "EOI maintenance (EISR)": 10, "forwarded deactivation": 20,
    "vFIQ high": 200, "vIRQ high": 500, "maintenance raised": 100,
    "ICH_MISR_EL2.EOI": 100, "ICH_MISR_EL2.U": 100, "ICH_MISR_EL2.LRENP": 100,
    "ICH_MISR_EL2.NP": 100, "ICH_MISR_EL2.VGrp0E": 50, "ICH_MISR_EL2.VGrp0D": 50,
    "ICH_MISR_EL2.VGrp1E": 50, "ICH_MISR_EL2.VGrp1D": 50,
    "LR write with RES0 bits dropped": 20, "LR written in state 11": 20,
    "HW = 1 LR written in state 11": 5, "two valid LRs with one vINTID": 20,
    "a pending LR while En = 0": 100, "trap bits set": 200,
    "group 0 LR pending": 500, "group 1 LR pending": 500,
    "hole": 50, "RES0 high half": 50, "register the configuration lacks": 50,
    "partial write": 10, "reset": 1,
}


@pytest.fixture(scope="module")
def reach_4():
    return coverage(4, 20000)


@pytest.mark.parametrize("behaviour", sorted(REACH))
def test_stream_reaches(reach_4, behaviour):
    assert reach_4[behaviour] >= REACH[behaviour], \
        f"{behaviour}: {reach_4[behaviour]} times in 20,000 transactions, want {REACH[behaviour]}"


@pytest.mark.parametrize("num_lrs, params", [
    (1, dict(id_bits=16, rp_masked=False)),
    (16, dict(pri_bits=8, pre_bits=7)),
])
def test_stream_reaches_other_builds(num_lrs, params):
    """The central behaviours at 1 and 16 LRs with other parameters."""
    c = coverage(num_lrs, 20000, seed=2, **params)
    for behaviour in ("acknowledge, group 0", "acknowledge, group 1", "nested acknowledge",
                      "EOIR deactivates", "DIR deactivates", "EOIcount + 1",
                      "forwarded deactivation", "maintenance raised", "vFIQ high", "vIRQ high",
                      "ICH_MISR_EL2.U", "ICH_MISR_EL2.EOI", "LR write with RES0 bits dropped"):
        assert c[behaviour] >= 10, f"{behaviour}: {c[behaviour]}"


def test_kvm_profile_is_realistic():
    """The kvm profile: KVM's boot sequence first, then no noise: every access
    is to a register, the guest's ICV accesses and the hypervisor's ICH ones
    interleave, and interrupts are taken and ended."""
    txns = generate(5, 4, 5000, "kvm")
    names = [(t.op, sysregs.decode(t.frame, t.offset)[0].full_name) for t in txns[:12]]
    assert names[:3] == [("write", "ICH_HCR_EL2"), ("read", "ICH_VTR_EL2"),
                         ("write", "ICH_LR0_EL2")]
    assert ("write", "ICH_VMCR_EL2") in names
    c = coverage(4, 5000, seed=5, profile="kvm")
    assert c["hole"] == c["RES0 high half"] == c["partial write"] == c["reset"] == 0
    assert c["acknowledge, group 1"] >= 50 and c["EOIR deactivates"] >= 20


# ---------------------------------------------------------------------------
# Strength: the stream tells the golden model from one with a rule broken
# ---------------------------------------------------------------------------
def _diverges(ref, mutant, txns):
    try:
        DiffRunner(ref, mutant).run(txns)
    except Divergence:
        return True
    return False


def test_stream_tells_masked_from_unmasked_running_priority():
    """v3 open point 1 (V5, V19 example 2): the coarse binary points and
    nested acknowledges make the two preemption rules disagree."""
    txns = generate(1, 4, 20000)
    assert _diverges(model(4), model(4, rp_masked=False), txns)


def _mutant(num_lrs, patch):
    m = model(num_lrs)
    patch(m)
    return m


def test_stream_tells_a_mutant_eoir_without_group_check():
    """V8 / v3 open point 5: an EOIR whose LR has another group or group
    priority only drops the priority; the mutant deactivates the LR anyway."""
    from vgic.sim.model.vcpu import ctz

    def patch(m):
        v = m.vcpu

        def eoir(g, value):
            vid = value & v.v3.idmask
            if 1020 <= vid <= 1023 or not v.ap0 | v.apr:
                return
            k = ctz(v.ap0 | v.apr)
            if v.ap0 >> k & 1:
                v.ap0 &= ~(1 << k)
            else:
                v.apr &= ~(1 << k)
            n = m.lrs.match(vid)
            if n is None:
                if vid < 8192 and not v.ctl("EOImode"):
                    m.hyp.eoicount_increment()
            elif not v.ctl("EOImode") or vid >= 8192:
                v._deactivate(n)                      # no group or priority check
        v.end_of_interrupt3 = eoir
    txns = generate(1, 4, 20000)
    assert _diverges(model(4), _mutant(4, patch), txns)


def test_stream_tells_a_mutant_with_pending_and_active_as_candidate():
    """V4 / v3 open point 9: state 11 is not a candidate."""
    from vgic.rtl.regs import PENDING, PENDING_ACTIVE

    def patch(m):
        lrs = m.lrs

        def best(g0, g1, pmr=0x100):
            cands = [n for n in range(lrs.num_lrs) if lrs.state(n) in (PENDING, PENDING_ACTIVE)
                     and (g1 if lrs.get(n, "Group") else g0) and lrs.prio(n) < pmr]
            return min(cands, key=lambda n: (lrs.prio(n), n)) if cands else None
        lrs.best = best
    txns = generate(1, 4, 20000)
    assert _diverges(model(4), _mutant(4, patch), txns)


def test_stream_tells_a_mutant_trap_output():
    """V1.2: the `traps` port is compared too: a mutant whose TDIR output
    stays 0 diverges on "traps" after a write of ICH_HCR_EL2 with TDIR."""
    class Hyp(type(model(1).hyp)):
        @property
        def traps(self):
            return {**super().traps, "TDIR": 0}

    def patch(m):
        m.hyp.__class__ = Hyp
    txns = generate(1, 4, 20000)
    with pytest.raises(Divergence) as info:
        DiffRunner(model(4), _mutant(4, patch)).run(txns)
    assert info.value.signal == "traps" and info.value.register == "ICH_HCR_EL2"
    assert "TDIR" in info.value.report()


def test_stream_tells_a_mutant_hppir_filtered_by_pmr():
    """V7 / v3 open point 7: ICV_HPPIR<g>_EL1 is not filtered by the mask."""
    def patch(m):
        v = m.vcpu

        def hppir(g, orig=v.highest_pending3):
            b = v.best()
            if b is not None and v.lrs.prio(b) >= v.pmr:
                return 1023
            return orig(g)
        v.highest_pending3 = hppir
    txns = generate(1, 4, 20000)
    assert _diverges(model(4), _mutant(4, patch), txns)


# ---------------------------------------------------------------------------
# The command line and the saved trace
# ---------------------------------------------------------------------------
def test_fuzz_cli_v3_against_the_rtl(capsys):
    from vgic.sim.cli import main
    assert main(["fuzz", "--arch", "v3", "-n", "300", "--lrs", "4"]) == 0
    err = capsys.readouterr().err
    assert "fuzz rtl: 300 transactions, no divergence" in err
    assert "arch v3: --pri-bits 5 --pre-bits 5 --id-bits 24" in err and "4 LRs: 300" in err


def test_fuzz_cli_v3_default_lr_counts(capsys):
    from vgic.sim.cli import main
    assert main(["fuzz", "--arch", "v3", "-n", "3000", "--engine", "model", "-q",
                 "--pri-bits", "8", "--pre-bits", "7", "--id-bits", "16", "--rp-unmasked"]) == 0
    err = capsys.readouterr().err
    assert "1 LRs: 1,000, 4 LRs: 1,000, 16 LRs: 1,000" in err
    assert "--pri-bits 8 --pre-bits 7 --id-bits 16 --rp-unmasked" in err


@pytest.mark.parametrize("argv, message", [
    (["--lrs", "4,17"], "17 list registers: GICv3 has 1..16"),
    (["--pri-bits", "9"], "--pri-bits must be 5..8"),
    (["--pri-bits", "6", "--pre-bits", "7"], "--pre-bits must be 5..6"),
])
def test_fuzz_cli_v3_errors(argv, message, capsys):
    from vgic.sim.cli import main
    assert main(["fuzz", "--arch", "v3", "-n", "10", *argv]) == 2
    assert message in capsys.readouterr().err


def test_fuzz_v3_several_cpus_against_rtl():
    """Two and three GICv3 CPU interfaces (v3 1.5): interleaved streams, ICH
    accesses through other CPUs' views and absent CPUs' views."""
    from vgic.sim.fuzz import fuzz
    assert fuzz(1000, (2,), seed=3, engine="rtl", num_cpus=3,
                v3=dict(pri_bits=8, pre_bits=6, id_bits=16)) == {2: 1000}


def test_stream_cpus_routes_ich_accesses_through_views():
    from vgic.sim.fuzz import txn_stream
    import itertools
    txns = list(itertools.islice(txn_stream(1, 4, "mixed", 3, {}), 6000))
    assert {t.cpu for t in txns} == {0, 1, 2}
    views = [t for t in txns if t.gich_cpu is not None]
    assert all(t.frame == "ICH" for t in views)
    assert any(t.gich_cpu != t.cpu and t.gich_cpu < 3 for t in views)
    assert any(t.gich_cpu >= 3 for t in views)                     # RAZ/WI
    for a, b in zip(txns, txns[1:]):                               # an LR's halves stay together
        reg, half = sysregs.decode(a.frame, a.offset) if a.op != "reset" else (None, 0)
        if reg is not None and reg.width == 64 and half == 0 and a.offset + 4 == b.offset:
            assert (a.cpu, a.gich_cpu) == (b.cpu, b.gich_cpu)


def test_fuzz_v3_on_the_fast_engine():
    """The Verilator build of the GICv3 core (skipped without Verilator)."""
    fast = pytest.importorskip("vgic.sim.fast")
    try:
        fast.verilator_root()
    except fast.FastEngineError as e:
        pytest.skip(str(e))
    from vgic.sim.fuzz import fuzz
    assert fuzz(20000, (4,), seed=2, engine="fast", v3={}) == {4: 20000}


def test_fuzz_cli_v3_options_need_arch_v3(capsys):
    from vgic.sim.cli import main
    assert main(["fuzz", "-n", "10", "--engine", "model", "--id-bits", "16",
                 "--rp-unmasked"]) == 2
    assert "--id-bits, --rp-unmasked: options of --arch v3" in capsys.readouterr().err


class IdleRpr(VirtualInterface):
    """A mutant: ICV_RPR_EL1 reads 0xF8 while idle instead of 0xFF (V3)."""

    def read(self, frame, offset):
        value = super().read(frame, offset)
        return 0xF8 if (frame, offset) == ("ICV", 0xD8) and value == 0xFF else value


def _idle_rpr(name, num_lrs, arch="v2", **params):
    assert arch == "v3"
    return IdleRpr(num_lrs, arch="v3", **params)


@pytest.mark.parametrize("minimize", [True, False])
def test_fuzz_cli_v3_reports_saves_and_minimizes(monkeypatch, tmp_path, capsys, minimize):
    """A divergent engine: exit 1, the report, the command that reproduces it
    (with the build's options), a GICv3 trace `vgic replay --arch v3` reads,
    and a check that the trace still diverges."""
    from vgic.sim import fuzz
    from vgic.sim.cli import main
    from vgic.sim.trace import read_trace
    monkeypatch.setattr(fuzz, "make_engine", _idle_rpr)
    out = tmp_path / "div.jsonl"
    assert main(["fuzz", "--arch", "v3", "-n", "3000", "--lrs", "4", "--engine", "model", "-q",
                 "--pri-bits", "6", "--save", str(out)] + (["--minimize"] if minimize else [])) == 1
    err = capsys.readouterr().err
    assert "DIVERGENCE at transaction #" in err and "ICV_RPR_EL1" in err
    assert "--lrs 4 --seed 0 --engine model --profile mixed --arch v3 --pri-bits 6" in err
    assert f"vgic replay {out} --lrs 4 --arch v3 --pri-bits 6 --pre-bits 5" in err
    assert "the saved trace reproduces the divergence" in err
    saved = read_trace(str(out), arch="v3")
    assert saved[-1].op == "read" and saved[-1].reg == "ICV_RPR_EL1"
    if minimize:
        assert [(t.op, t.reg) for t in saved] == [("read", "ICV_RPR_EL1")]


def test_fuzz_cli_v3_saves_several_cpus(monkeypatch, tmp_path, capsys):
    """With several CPUs the saved GICv3 trace carries cpu and gich_cpu and
    replays (`vgic replay --arch v3 --cpus N`) to the same divergence."""
    from vgic.sim import fuzz
    from vgic.sim.cli import main
    from vgic.sim.model import Cluster
    from vgic.sim.trace import read_trace

    class IdleRprCluster(Cluster):
        def read(self, frame, offset, cpu=0, gich_cpu=None):
            value = super().read(frame, offset, cpu, gich_cpu)
            return 0xF8 if (frame, offset, cpu) == ("ICV", 0xD8, 1) and value == 0xFF else value
    monkeypatch.setattr(fuzz, "make_engine", lambda name, num_lrs, num_cpus=1, **kw:
                        IdleRprCluster(num_lrs, num_cpus, **kw))
    out = tmp_path / "div.jsonl"
    assert main(["fuzz", "--arch", "v3", "--cpus", "2", "-n", "4000", "--lrs", "4",
                 "--engine", "model", "-q", "--save", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--cpus 2 --arch v3" in err and "the saved trace reproduces the divergence" in err
    saved = read_trace(str(out), num_cpus=2, arch="v3")
    assert {t.cpu for t in saved if t.op != "reset"} == {0, 1}
    assert any(t.gich_cpu is not None for t in saved)
    assert (saved[-1].reg, saved[-1].cpu) == ("ICV_RPR_EL1", 1)


def test_saved_trace_of_kvm_traffic_is_exact():
    """KVM-like traffic has only whole-register accesses: its GICv3 trace
    replays (as `vgic replay --arch v3` runs it) exactly the fuzzed accesses,
    every LR's two halves merged into one 64-bit line."""
    from vgic.sim.fuzz import saved_txns_v3, trace_lines_v3
    txns = generate(4, 4, 3000, "kvm", id_bits=16)
    lines, counts = trace_lines_v3(txns, 4, dict(id_bits=16))
    assert counts["approximated"] == counts["left out"] == 0 and counts["merged"] > 200
    assert [t for _, t in saved_txns_v3(lines)] == txns
    lr_line = next(json.loads(x) for x in lines if '"ICH_LR0_EL2"' in x and "write" in x)
    assert len(lr_line["value"]) == 18                  # 0x + 16 hex digits


def test_saved_trace_of_noise_keeps_the_state():
    """Noise has lone LR halves, RES0 high halves, holes and partial writes:
    the trace approximates or leaves them out (with notes), and replaying it
    leaves the golden model in the state the fuzzed accesses left it in."""
    from vgic.sim.fuzz import saved_txns_v3, trace_lines_v3
    txns = [t for t in generate(9, 4, 3000, "noise") if t.op != "reset"]
    lines, counts = trace_lines_v3(txns, 4, {})
    assert counts["approximated"] > 10 and counts["left out"] > 10
    assert any('"note"' in x and "op" not in json.loads(x) for x in lines)
    a, b = model(4), model(4)
    for t in txns:
        apply(a, t)
    for _, t in saved_txns_v3(lines):
        apply(b, t)
    assert (a.lrs.lr, a.hyp.hcr, a.vcpu.vmcr3, a.vcpu.ap0, a.vcpu.apr) == \
        (b.lrs.lr, b.hyp.hcr, b.vcpu.vmcr3, b.vcpu.ap0, b.vcpu.apr)


def test_stream_object_is_lazy_and_endless():
    it = stream(RandomChoices(0), 1, "noise")
    assert len([next(it) for _ in range(5000)]) == 5000
