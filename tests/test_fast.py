"""The fast engine (sim/fast.py: the RTL in Verilator) behaves as the golden
model: on the QEMU conformance traces and on a random sequence, every read
value, line level and forwarded deactivation is the model's. Behaviour only;
speed is measured by bench/bench_sim.py."""
import contextlib
import functools
import io
import json
import pathlib
import re
import shutil
import subprocess

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

def _timed(capsys, tmp_path, lines, *options):
    p = tmp_path / "t.jsonl"
    p.write_text("".join(json.dumps(l) + "\n" for l in lines))
    code, _, err = _replay(capsys, p, "--engine", "fast", "--timing", *options,
                           "-o", tmp_path / "o.jsonl")
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


# -- `vgic replay --timing --bus B`: the core behind a bridge ------------------------
BRIDGES = ["axi4lite", "apb", "wishbone", "wishbone-pipelined"]

# Each bus's timing as documented (rtl/regbus.py, the bridges' docstrings in
# rtl/bridges/, docs/verilog.md section 6), with the core not holding off:
# (cycles from a request's first cycle on the bus to its response, for a read
# and for a write; the fewest cycles from one request's first cycle to the
# next's, back to back).
#   core       ack LATENCY = 3 cycles after the strobe; one request per clock
#   axi4lite   RVALID 4 cycles after the AR handshake, BVALID 2 after AW/W;
#              one read per four clocks, one write per two
#   apb        setup phase, then PREADY in the third access cycle (two wait
#              states): 3 cycles; one transfer per four clocks, no overlap
#   wishbone   ACK three cycles after STB; one transfer per four clocks
#   wishbone-pipelined  ACK three cycles after each accepted request; one per clock
DOCUMENTED = {
    "core":               {"read": 3, "write": 3, "read_period": 1, "write_period": 1},
    "axi4lite":           {"read": 4, "write": 2, "read_period": 4, "write_period": 2},
    "apb":                {"read": 3, "write": 3, "read_period": 4, "write_period": 4},
    "wishbone":           {"read": 3, "write": 3, "read_period": 4, "write_period": 4},
    "wishbone-pipelined": {"read": 3, "write": 3, "read_period": 1, "write_period": 1},
}


@functools.cache
def _write_hold_off(num_lrs=4):
    """H: the cycles of ready = 0 after a write of GICH_VMCR (rtl/top.py; 0 if
    the core takes the next request in the next cycle), measured on the core
    in Amaranth's simulator. The next request reaches the core H + 1 cycles
    after the write at the earliest, whatever the bus. Writes and reads of
    GICH_VMCR do not wait for settled (rtl/regbus.py SETTLED_READS)."""
    from amaranth.sim import Simulator
    from vgic.rtl import regs
    from vgic.rtl.top import VirtualInterface
    from vgic.sim.driver import bus_wait_lines
    dut, hold = VirtualInterface(num_lrs), []

    async def bench(ctx):
        bus = dut.bus
        await bus_wait_lines(ctx, bus)
        ctx.set(bus.addr, regs.GICH_VMCR.word)
        ctx.set(bus.w_strb, 0b1111)
        ctx.set(bus.w_stb, 1)
        await ctx.tick()
        ctx.set(bus.w_stb, 0)
        n = 0
        while not ctx.get(bus.ready):
            assert n < 64, "ready stuck at 0"
            await ctx.tick()
            n += 1
        hold.append(n)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return hold[0]


def _span(n, period, latency):
    """Cycles from the first request to the last response, both counted, of n
    requests each starting `period` cycles after the one before."""
    return (n - 1) * period + latency + 1


@pytest.mark.parametrize("bus", BRIDGES)
def test_timing_through_a_bridge_of_back_to_back_reads(fast4, capsys, tmp_path, bus):
    """100 reads of GICH_VTR through each bridge take what the bus's documented
    timing gives (e.g. APB: 100 transfers of 4 cycles, setup + 3 access cycles,
    = 400 cycles; AXI4-Lite: one read per 4 clocks, the last answered 4 cycles
    after its handshake = 401)."""
    doc = DOCUMENTED[bus]
    code, err, cpa = _timed(capsys, tmp_path, [{"op": "read", "reg": "GICH_VTR"}] * 100,
                            "--bus", bus)
    assert code == 0, err
    assert f"through the {bus} bridge" in err
    assert cpa == pytest.approx(_span(100, doc["read_period"], doc["read"]) / 100, abs=1e-3)


@pytest.mark.parametrize("bus", ["core"] + BRIDGES)
def test_timing_of_back_to_back_writes_waits_for_the_core(fast4, capsys, tmp_path, bus):
    """100 writes of GICH_VMCR: requests go every max(the bus's write period,
    H + 1) cycles (_write_hold_off), and the last response comes the bus's
    write latency after the last request (AXI4-Lite's B one cycle earlier
    than the others' ACK/PREADY)."""
    doc = DOCUMENTED[bus]
    lines = [{"op": "write", "reg": "GICH_VMCR", "value": 0}] * 100
    code, err, cpa = _timed(capsys, tmp_path, lines, "--bus", bus)
    assert code == 0, err
    period = max(doc["write_period"], _write_hold_off() + 1)
    assert cpa == pytest.approx(_span(100, period, doc["write"]) / 100, abs=1e-3)


def test_timing_through_axi4lite_orders_reads_after_writes(fast4, capsys, tmp_path):
    """AXI's read and write channels are independent (AXI spec, A6: a manager
    that needs a read ordered after a write waits for the write's response),
    so the manager presents a read only once every earlier write has its B,
    and a write once every earlier read has its R. Write then read back
    GICH_VMCR, 50 times: each read returns the value just written, and each
    pair takes: AW/W handshake (cycle 0), write issue (1), B (2), AR handshake
    in the next cycle (3), read issue in the cycle after (4) or, if later,
    when the core takes it (write issue + H + 1, _write_hold_off), R 3 cycles
    after the read issue, next write in the cycle after: max(4, H + 2) + 4
    cycles."""
    lines = []
    for i in range(50):
        lines += [{"op": "write", "reg": "GICH_VMCR", "value": (i % 32) << 27},
                  {"op": "read", "reg": "GICH_VMCR"}]
    code, err, cpa = _timed(capsys, tmp_path, lines, "--bus", "axi4lite")
    assert code == 0, err
    pair = max(4, _write_hold_off() + 2) + 3 + 1
    assert cpa == pytest.approx(50 * pair / 100, abs=1e-3)


def _kvm_cycles_per_access(tmp_path, *options):
    from vgic.sim.cli import main
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["replay", str(KVM_SAMPLE), "--engine", "fast", "--timing", "--compare",
                     *options, "-q", "-o", str(tmp_path / "o.jsonl")])
    m = re.search(r"cycles per transaction: ([\d.]+)", err.getvalue())
    return code, err.getvalue(), float(m.group(1)) if m else None


@pytest.fixture(scope="module")
def kvm_core_figure(fast4, tmp_path_factory):
    code, err, cpa = _kvm_cycles_per_access(tmp_path_factory.mktemp("kvm-core"))
    assert code == 0, err
    return cpa


@pytest.mark.parametrize("bus", BRIDGES)
def test_timing_through_a_bridge_keeps_every_read_value(kvm_core_figure, tmp_path, bus):
    """The KVM sample through each bridge, requests as soon as the bus lets
    them: every read returns what it returned one at a time (else exit 1), the
    recording is matched, and no bridge is faster than the core's own bus."""
    code, err, cpa = _kvm_cycles_per_access(tmp_path, "--bus", bus)
    assert code == 0, err
    assert " 0 difference(s)" in err
    assert kvm_core_figure <= cpa < 20


def test_bus_needs_timing(capsys):
    example = pathlib.Path(__file__).resolve().parents[1] / "examples" / "basic_virq.jsonl"
    code, _, err = _replay(capsys, example, "--engine", "fast", "--bus", "apb")
    assert code == 2 and "--bus apb chooses the bus of --timing" in err


def test_bridge_engine_offers_the_timed_issue_only(fast4):
    engine = fast.FastEngine(4, bus="apb")
    try:
        with pytest.raises(fast.FastEngineError, match="timed issue only"):
            engine.read("GICH", 0x004)
    finally:
        engine.close()


@pytest.mark.skipif(not (shutil.which("gtkwave") and shutil.which("xvfb-run")),
                    reason="needs Debian's gtkwave and xvfb (.ci/run installs them)")
def test_gtkwave_loads_every_signal_of_the_fast_vcd(fast4, capsys, tmp_path):
    """GTKWave itself (headless) reads Verilator's VCD and shows every signal
    the save file lists (Verilator names fields lr[3].State unescaped, and
    Yosys's internal names would stop GTKWave's parser)."""
    example = pathlib.Path(__file__).resolve().parents[1] / "examples" / "basic_virq.jsonl"
    vcd = tmp_path / "w.vcd"
    code, _, err = _replay(capsys, example, "--engine", "fast", "--vcd", vcd, "-o",
                           tmp_path / "out.jsonl")
    assert code == 0, err
    gtkw = tmp_path / "w.gtkw"
    listed = sum(1 for l in gtkw.read_text().splitlines() if l.startswith("+"))
    script = tmp_path / "q.tcl"
    script.write_text('puts "SHOWN [llength [gtkwave::getDisplayedSignals]]"\ngtkwave::/File/Quit\n')
    out = subprocess.run(["xvfb-run", "-a", "gtkwave", "-S", str(script), str(gtkw)],
                         capture_output=True, text=True, timeout=120).stdout
    assert listed > 60 and f"SHOWN {listed}" in out, out[-2000:]
