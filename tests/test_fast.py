"""The fast engine (sim/fast.py: the RTL in Verilator) behaves as the golden
model: on the QEMU conformance traces and on a random sequence, every read
value, line level and forwarded deactivation is the model's. Behaviour only;
speed is measured by bench/bench_sim.py."""
import json
import pathlib
import re

import pytest

from vgic.sim.diff import DiffRunner
from vgic.sim.model import VirtualInterface
from vgic.sim.replay import replay
from vgic.sim.stimulus import generate
from vgic.sim.trace import read_trace

fast = pytest.importorskip("vgic.sim.fast")

TRACES = pathlib.Path(__file__).resolve().parent / "data" / "qemu-7.2"


def _engine(num_lrs):
    try:
        fast.verilator_root()
    except fast.FastEngineError as e:
        pytest.skip(str(e))
    return fast.FastEngine(num_lrs)


@pytest.fixture(scope="module")
def fast4():
    return _engine(4)


@pytest.mark.parametrize("scenario", "abcdef")
def test_conformance_trace_same_as_model(fast4, scenario):
    """Replay contract: the QEMU scenarios give the model's results line by line."""
    transactions = read_trace(TRACES / f"scenario_{scenario}.jsonl")
    fast4.reset()
    # replay() raises its Divergence at the first differing result line
    results = replay(transactions, [VirtualInterface(4), fast4])
    assert len(results) == len(transactions)


@pytest.mark.parametrize("num_lrs, count", [(4, 4000), (64, 2000)])
def test_random_sequence_same_as_model(num_lrs, count):
    """Random KVM-like, guest and noise traffic (sim/stimulus.py): no divergence."""
    engine = _engine(num_lrs)
    assert DiffRunner(VirtualInterface(num_lrs), engine, ("model", "fast")).run(
        generate(7, num_lrs, count)) == count


def test_forwarded_deactivation_and_reset(fast4):
    """R10: EOIR of an HW = 1 LR forwards its pINTID; R15: reset clears the state."""
    fast4.reset()
    fast4.write("GICH", 0x000, 1)                          # GICH_HCR.En
    fast4.write("GICV", 0x000, 1)                          # EnableGrp0
    fast4.write("GICV", 0x004, 0xF8)                       # PMR
    fast4.write("GICH", 0x100, 1 << 31 | 1 << 28 | 0x14 << 23 | 300 << 10 | 55)
    assert fast4.virq == 1
    assert fast4.read("GICV", 0x00C) == 55                 # IAR
    assert fast4.virq == 0
    fast4.write("GICV", 0x010, 55)                         # EOIR
    assert fast4.forwarded == [300]
    fast4.reset()
    assert fast4.forwarded == [] and fast4.read("GICH", 0x100) == 0
    assert fast4.read("GICV", 0x00C) == 1023


# -- `vgic replay --engine fast` (sim/replay.py) ----------------------------------
KVM_SAMPLE = pathlib.Path(__file__).resolve().parent / "data" / "kvm" / "kvm_linux_1vcpu.jsonl.gz"


def _replay(capsys, *argv):
    from vgic.sim.cli import main
    code = main(["replay", *map(str, argv), "-q"])
    out, err = capsys.readouterr()
    return code, out, err


def test_replay_of_the_kvm_sample_on_fast_engine_matches_the_recording(fast4, capsys, tmp_path):
    """Real Linux KVM traffic (37,689 GICH/GICV accesses): every recorded read
    value and line level is reproduced by the RTL in Verilator."""
    out = tmp_path / "out.jsonl"
    code, _, err = _replay(capsys, KVM_SAMPLE, "--engine", "fast", "--compare", "-o", out)
    assert code == 0, err
    assert "37689 transactions on fast" in err and " 0 difference(s)" in err
    assert len(out.read_text().splitlines()) == 37689


def test_replay_engine_both_with_fast_rtl(fast4, capsys, tmp_path):
    """--engine both --rtl fast: the model and Verilator in lock step."""
    code, _, err = _replay(capsys, KVM_SAMPLE, "--engine", "both", "--rtl", "fast", "--compare",
                           "-o", tmp_path / "out.jsonl")
    assert code == 0, err
    assert "on model+fast" in err and "no divergence" in err and " 0 difference(s)" in err


def test_replay_fast_vcd(fast4, capsys, tmp_path):
    """--engine fast --vcd: Verilator's waveform with the GTKWave save file
    listing the bus, the lines and each LR's fields."""
    example = pathlib.Path(__file__).resolve().parents[1] / "examples" / "basic_virq.jsonl"
    vcd = tmp_path / "w.vcd"
    code, _, err = _replay(capsys, example, "--engine", "fast", "--vcd", vcd, "-o",
                           tmp_path / "out.jsonl")
    assert code == 0, err
    text = vcd.read_text()
    assert "$timescale 1ns $end" in text and "bus__r_data" in text
    gtkw = (tmp_path / "w.gtkw").read_text()
    for name in ("bus__addr", "virq", "hcr.En", "lr[3].State", "lr[0].VirtualID"):
        assert name in gtkw, name


# -- `vgic replay --timing`: requests back to back on the core's bus -----------------

def _timed(capsys, tmp_path, lines):
    p = tmp_path / "t.jsonl"
    p.write_text("".join(json.dumps(l) + "\n" for l in lines))
    code, _, err = _replay(capsys, p, "--engine", "fast", "--timing", "-o", tmp_path / "o.jsonl")
    m = re.search(r"cycles per transaction: ([\d.]+)", err)
    return code, err, float(m.group(1)) if m else None


def test_timing_of_back_to_back_reads(fast4, capsys, tmp_path):
    """rtl/regbus.py: reads that start no hold-off are taken one per clock and
    answered 3 cycles after their strobe, so 100 of them span 100 + 3 cycles."""
    code, err, cpa = _timed(capsys, tmp_path, [{"op": "read", "reg": "GICH_VTR"}] * 100)
    assert code == 0, err
    assert cpa == pytest.approx(103 / 100, abs=1e-3)


def test_timing_keeps_every_read_value(fast4, capsys, tmp_path):
    """The KVM sample issued back to back reads what it reads one at a time
    (a read returning another value would stop the run with exit 1)."""
    code, _, err = _replay(capsys, KVM_SAMPLE, "--engine", "fast", "--timing", "--compare",
                           "-o", tmp_path / "o.jsonl")
    assert code == 0, err
    cpa = float(re.search(r"cycles per transaction: ([\d.]+)", err).group(1))
    assert 1.0 <= cpa < 20


def test_timing_needs_the_fast_engine(capsys):
    example = pathlib.Path(__file__).resolve().parents[1] / "examples" / "basic_virq.jsonl"
    code, _, err = _replay(capsys, example, "--engine", "rtl", "--timing")
    assert code == 2 and "--timing needs the fast engine" in err
