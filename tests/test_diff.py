# Ref: docs/architecture.md R1-R16 (every rule, through the golden model); sim/diff.py, sim/stimulus.py
"""Differential tests: the golden model against the RTL (Amaranth simulation)
on generated transaction sequences, at 1, 4 and 64 LRs; and the differential
runner itself, against deliberately broken models.

CI volume (default): per LR count, HYP_EXAMPLES Hypothesis examples of up to
HYP_LENGTH transactions (about 5,000 in all: Hypothesis also draws short
ones) plus one seeded stream of STREAM_LENGTH: about 3 x (5,000 + 2,500) =
22,000 transactions. VGIC_DIFF_SCALE=k multiplies the number of examples and
the stream length (a longer local run).
Hypothesis is derandomized (same examples on every run, no database), so CI
is reproducible; a failure is shrunk and reported with the divergence report.
"""
import importlib.util
import os

import pytest
from hypothesis import HealthCheck, given, settings

from vgic.rtl import regs
from vgic.sim.diff import DiffRunner, Divergence, minimize, run_diff
from vgic.sim.model import VirtualInterface
from vgic.sim.stimulus import Txn, generate, sequences

LRS = (1, 4, 64)
SCALE = int(os.environ.get("VGIC_DIFF_SCALE", "1"))
HYP_EXAMPLES = 25 * SCALE
HYP_LENGTH = 300
STREAM_LENGTH = 2500 * SCALE


def _rtl_class():
    if importlib.util.find_spec("vgic.sim.driver") is None:
        pytest.skip("vgic.sim.driver does not exist yet")
    from vgic.sim.driver import RTLEngine
    return RTLEngine


_engines = {}


def rtl_engine(num_lrs):
    """One RTL simulation per LR count for the whole module, reset before use."""
    if num_lrs not in _engines:
        _engines[num_lrs] = _rtl_class()(num_lrs=num_lrs)
    engine = _engines[num_lrs]
    engine.reset()
    return engine


def R(name):
    r = regs.lookup(name)
    return r.frame, r.offset


def rd(name):
    return Txn("read", *R(name))


def wr(name, value, strb=0xF):
    return Txn("write", *R(name), value, strb)


# ---------------------------------------------------------------------------
# Model vs RTL
# ---------------------------------------------------------------------------
def _hypothesis_test(num_lrs):
    @settings(max_examples=HYP_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(seq=sequences(num_lrs, HYP_LENGTH))
    def test(seq):
        run_diff(VirtualInterface(num_lrs), rtl_engine(num_lrs), seq)
    test.__doc__ = (f"Model and RTL agree on every read, line and forwarded deactivation "
                    f"for Hypothesis sequences at {num_lrs} LRs.")
    return test


test_model_vs_rtl_hypothesis_1_lr = _hypothesis_test(1)
test_model_vs_rtl_hypothesis_4_lrs = _hypothesis_test(4)
test_model_vs_rtl_hypothesis_64_lrs = _hypothesis_test(64)


@pytest.mark.parametrize("num_lrs", LRS)
def test_model_vs_rtl_seeded_stream(num_lrs):
    """Model and RTL agree over one long seeded stream (state carried across
    many world switches: EOICount, saved VMCR/APR, recycled LRs)."""
    runner = DiffRunner(VirtualInterface(num_lrs), rtl_engine(num_lrs))
    assert runner.run(generate(f"ci/{num_lrs}", num_lrs, STREAM_LENGTH)) == STREAM_LENGTH


# ---------------------------------------------------------------------------
# The runner catches and reports a divergence (expected values: the spec)
# ---------------------------------------------------------------------------
class IdleRprF8(VirtualInterface):
    """Broken: idle GICV_RPR reads 0xF8 (arch 2.14 says 0xFF)."""
    def read(self, frame, offset):
        v = super().read(frame, offset)
        return 0xF8 if (frame, offset) == R("GICV_RPR") and v == 0xFF else v


class NoVirq(VirtualInterface):
    """Broken: the VIRQ line never rises (R6)."""
    virq = property(lambda self: 0)


class NoForwarding(VirtualInterface):
    """Broken: HW=1 deactivations are not forwarded (R10)."""
    def __init__(self, num_lrs=4):
        super().__init__(num_lrs)
        self.hyp.forward_deactivation = lambda pintid: None


class TiesToHighestLR(VirtualInterface):
    """Broken: among equal-priority pending LRs the highest index wins
    (R5: the lowest index)."""
    def __init__(self, num_lrs=4):
        super().__init__(num_lrs)
        lrs, best = self.lrs, self.lrs.best

        def reversed_best(g0, g1, pmr):
            saved = lrs.lr
            lrs.lr = saved[::-1]
            try:
                b = best(g0, g1, pmr)
            finally:
                lrs.lr = saved
            return None if b is None else len(saved) - 1 - b
        lrs.best = reversed_best


# R16: HCR.En, LR0 pending Group 0 P=0xA0 vid 42, CTLR.EnableGrp0, PMR 0xF8
R16_SETUP = [wr("GICH_HCR", 1), wr("GICH_LR0", 0x1A00002A), wr("GICV_CTLR", 1),
             wr("GICV_PMR", 0xF8)]


def test_divergence_in_read_data_is_reported():
    """A wrong read value stops the run at that transaction with the register,
    both values and the transactions before it."""
    seq = [wr("GICH_HCR", 1), rd("GICV_CTLR"), rd("GICV_RPR"), rd("GICV_IAR")]
    with pytest.raises(Divergence) as info:
        run_diff(VirtualInterface(4), IdleRprF8(4), seq, names=("model", "broken"))
    d = info.value
    assert (d.index, d.register, d.signal) == (2, "GICV_RPR", "read data")
    assert (d.expected, d.actual) == (0xFF, 0xF8)
    assert [i for i, _, _ in d.history] == [0, 1]
    text = d.report()
    assert "transaction #2" in text and "GICV_RPR" in text
    assert "model" in text and "0x000000ff" in text and "broken" in text and "0x000000f8" in text
    assert "write GICH_HCR = 0x00000001" in text and "read  GICV_CTLR" in text
    assert isinstance(d, AssertionError)


def test_divergence_on_a_line_is_reported():
    """R6/R16: VIRQ rises on the PMR write; an engine whose VIRQ stays low
    diverges there, on signal virq."""
    with pytest.raises(Divergence) as info:
        run_diff(VirtualInterface(4), NoVirq(4), R16_SETUP + [rd("GICV_IAR")])
    d = info.value
    assert (d.index, d.register, d.signal, d.expected, d.actual) == (3, "GICV_PMR", "virq", 1, 0)
    assert "virq" in d.report()


def test_divergence_in_forwarded_deactivations_is_reported():
    """R10: EOIR of an HW=1 LR forwards its pINTID; an engine that does not
    diverges on signal forwarded at the EOIR."""
    seq = [wr("GICH_HCR", 1), wr("GICH_LR2", 0x9A00C82A), wr("GICV_CTLR", 1),
           wr("GICV_PMR", 0xF8), rd("GICV_IAR"), wr("GICV_EOIR", 42)]   # HW=1, pINTID 50
    with pytest.raises(Divergence) as info:
        run_diff(VirtualInterface(4), NoForwarding(4), seq)
    d = info.value
    assert (d.index, d.register, d.signal) == (5, "GICV_EOIR", "forwarded")
    assert (d.expected, d.actual) == ((50,), ())
    assert "pINTID 50" in d.report()


def test_reserved_offset_named_in_report():
    """A divergence at an offset with no register names the frame and offset."""
    class ReservedReadsOnes(VirtualInterface):
        def read(self, frame, offset):
            return 0xFFFF_FFFF if (frame, offset) == ("GICH", 0x3C) else super().read(frame, offset)
    with pytest.raises(Divergence) as info:
        run_diff(VirtualInterface(1), ReservedReadsOnes(1), [Txn("read", "GICH", 0x3C)])
    assert info.value.register == "GICH+0x3c (reserved)"


def test_generated_stimulus_catches_a_subtle_bug():
    """The generated sequences reach equal-priority pending LRs and tell a
    wrong tie-break (R5) from the right one within a few thousand transactions."""
    with pytest.raises(Divergence):
        run_diff(VirtualInterface(4), TiesToHighestLR(4), generate(0, 4, 5000))


def test_identical_engines_never_diverge():
    """Two golden models fed the same stream agree (the runner compares like with like)."""
    assert run_diff(VirtualInterface(4), VirtualInterface(4), generate(1, 4, 3000)) == 3000


def test_minimize_keeps_a_diverging_shorter_sequence():
    """Delta debugging shortens a diverging stream to a few transactions that
    still diverge."""
    seq = generate(2, 4, 400)
    with pytest.raises(Divergence) as info:
        run_diff(VirtualInterface(4), IdleRprF8(4), seq)
    prefix = seq[:info.value.index + 1]
    assert len(prefix) > 1
    short = minimize(prefix, lambda: (VirtualInterface(4), IdleRprF8(4)))
    assert short == [rd("GICV_RPR")]          # from reset APR = 0: RPR is idle (R15)


# ---------------------------------------------------------------------------
# vgic fuzz (sim/fuzz.py)
# ---------------------------------------------------------------------------
def test_fuzz_cli_clean_run(capsys):
    """Two golden models: no divergence, exit 0, a summary with the seed."""
    from vgic.sim.cli import main
    assert main(["fuzz", "-n", "900", "--engine", "model", "--seed", "5"]) == 0
    err = capsys.readouterr().err
    assert "900 transactions, no divergence" in err and "seed 5" in err and "txn/s" in err


def test_fuzz_cli_reports_saves_and_minimizes_a_divergence(monkeypatch, tmp_path, capsys):
    """A divergent engine: exit 1, the report, a command that reproduces it, a
    minimized sequence saved as a replay trace that still diverges."""
    from vgic.sim import fuzz
    from vgic.sim.cli import main
    from vgic.sim.trace import read_trace
    monkeypatch.setattr(fuzz, "make_engine", lambda name, num_lrs: IdleRprF8(num_lrs))
    out = tmp_path / "div.jsonl"
    assert main(["fuzz", "-n", "3000", "--lrs", "4", "--engine", "model", "-q",
                 "--save", str(out), "--minimize"]) == 1
    err = capsys.readouterr().err
    assert "DIVERGENCE at transaction #" in err and "GICV_RPR" in err
    assert "reproduce: vgic fuzz -n " in err and "--lrs 4 --seed 0" in err
    saved = [t for t in read_trace(str(out)) if not t.skipped]
    assert [(t.op, t.reg) for t in saved] == [("read", "GICV_RPR")]


def test_fuzz_cli_rejects_bad_lr_list(capsys):
    from vgic.sim.cli import main
    assert main(["fuzz", "-n", "10", "--lrs", "4,65", "--engine", "model"]) == 2
    assert "65" in capsys.readouterr().err


def test_fuzz_spreads_n_over_lr_counts():
    from vgic.sim.fuzz import fuzz
    assert fuzz(1000, (1, 4, 64), engine="model") == {1: 334, 4: 333, 64: 333}


def test_fuzz_cli_ctrl_c_prints_a_summary(monkeypatch, capsys):
    """Ctrl-C during `vgic fuzz`: how far it got, the seed, the command that
    reruns up to there; no traceback, exit 130."""
    from vgic.sim import fuzz
    from vgic.sim.cli import main

    class Interrupted(VirtualInterface):
        steps = 0

        def read(self, frame, offset):
            Interrupted.steps += 1
            if Interrupted.steps == 500:
                raise KeyboardInterrupt
            return super().read(frame, offset)
    monkeypatch.setattr(fuzz, "make_engine", lambda name, num_lrs: Interrupted(num_lrs))
    assert main(["fuzz", "-n", "3000", "--lrs", "1,4", "--engine", "model", "-q",
                 "--seed", "9"]) == 130
    err = capsys.readouterr().err
    assert "interrupted after" in err and "seed 9" in err
    assert "reproduce up to there: vgic fuzz -n " in err and "--lrs 1 --seed 9" in err
    assert "Traceback" not in err


def test_fuzz_cli_bad_save_path_is_an_error_before_the_run(tmp_path, capsys):
    from vgic.sim.cli import main
    assert main(["fuzz", "-n", "10", "--engine", "model", "--save", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
