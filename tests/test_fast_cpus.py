"""The fast engine (sim/fast.py: the RTL in Verilator) with several CPU
interfaces (rtl/cluster.py) behaves as the golden model's Cluster
(sim/model/cluster.py): on independently seeded per-CPU streams interleaved,
with GICH accesses through other CPUs' processor-specific views, every read
value, every CPU's line levels and every forwarded deactivation with its CPU
is the model's. Also the timed issue (`issue(..., cpu=)`) and what stays as
it was with one CPU."""
import os
import random

import pytest

from vgic.rtl import regs
from vgic.rtl.regbus import LATENCY
from vgic.sim.diff import DiffRunner
from vgic.sim.model import Cluster
from vgic.sim.stimulus import generate

fast = pytest.importorskip("vgic.sim.fast")

GICH_VMCR, GICH_HCR = regs.GICH_VMCR.offset, 0x000


def _needs_verilator():
    try:
        fast.verilator_root()
    except fast.FastEngineError as e:
        pytest.skip(str(e))


def _engine(num_lrs, num_cpus):
    _needs_verilator()
    return fast.FastEngine(num_lrs, num_cpus=num_cpus)


def interleave(seed, num_lrs, num_cpus, per_cpu, profile="mixed"):
    """CPU k's stream generate(seed + k, ...) with cpu = k, the streams taken
    in runs of 1 to 8 transactions of a randomly chosen CPU. One in five GICH
    accesses of a CPU's stream is made by another CPU through the stream's
    CPU's processor-specific view (gich_cpu), and about one in a hundred goes
    through the view of a CPU the core lacks (RAZ/WI). A reset in any stream
    resets every CPU (both engines alike)."""
    rnd = random.Random(seed)
    streams = [iter(generate(seed + k, num_lrs, per_cpu, profile)) for k in range(num_cpus)]
    live = list(range(num_cpus))
    out = []
    while live:
        k = rnd.choice(live)
        for _ in range(rnd.randint(1, 8)):
            t = next(streams[k], None)
            if t is None:
                live.remove(k)
                break
            t = t._replace(cpu=k)
            if t.op != "reset" and t.frame == "GICH" and t.offset < regs.ALIAS_STRIDE:
                r = rnd.random()
                if r < 0.2:
                    t = t._replace(cpu=(k + rnd.randint(1, num_cpus - 1)) % num_cpus, gich_cpu=k)
                elif r < 0.21 and num_cpus < regs.MAX_CPUS:
                    t = t._replace(gich_cpu=rnd.randint(num_cpus, regs.MAX_CPUS - 1))
            out.append(t)
    return out


def compare(model, engine, txns):
    """DiffRunner (read data, the line masks, the forwarded pINTIDs) plus the
    CPU of every forwarded deactivation, after every transaction. Returns the
    number compared and the CPUs that deactivations were forwarded for."""
    runner, cpus = DiffRunner(model, engine, ("model", "fast")), set()
    for i, t in enumerate(txns):
        m0, e0 = len(model.forwarded_cpu), len(engine.forwarded_cpu)
        runner.step(t)
        if t.op == "reset":                  # a reset clears both lists
            m0 = e0 = 0
        got = engine.forwarded_cpu[e0:]
        assert got == model.forwarded_cpu[m0:], f"forwarded_cpu at #{i}: {t}"
        assert len(engine.forwarded_cpu) == len(engine.forwarded)
        cpus.update(got)
    return runner.count, cpus


# Each (CPUs, LRs) is a Verilator build (tens of seconds on a fresh clone, over
# a minute at 8 CPUs): by default two of them (8 CPUs are fuzzed on the Amaranth
# RTL in tests/test_cluster.py); VGIC_FAST_ALL=1 runs every pair, and every
# bridge below.
FULL = bool(os.environ.get("VGIC_FAST_ALL"))
SIZES = [(c, n) for c in (2, 4, 8) for n in (1, 4)] if FULL else [(2, 1), (4, 4)]


@pytest.mark.parametrize("num_cpus,num_lrs", SIZES)
def test_interleaved_cpus_same_as_model(num_cpus, num_lrs):
    """About 4000 transactions from num_cpus independently seeded streams:
    no divergence, the lines of every CPU (masks) and the CPU of every
    forwarded pINTID included; the run exercises every CPU, the views and
    forwarded deactivations."""
    engine = _engine(num_lrs, num_cpus)
    try:
        txns = interleave(100 * num_cpus + num_lrs, num_lrs, num_cpus, 4000 // num_cpus)
        assert {t.cpu for t in txns} == set(range(num_cpus))
        assert any(t.gich_cpu is not None and t.gich_cpu != t.cpu for t in txns)
        count, forwarded_for = compare(Cluster(num_lrs, num_cpus), engine, txns)
        assert count == len(txns)
        assert len(forwarded_for) > 1, "deactivations forwarded for one CPU only"
    finally:
        engine.close()


def test_lines_and_deactivation_of_each_cpu():
    """R10 per CPU: each CPU's interface raises its own virq bit; an EOIR of
    an HW = 1 LR forwards the pINTID with that CPU's number; another CPU
    reads and writes a GICH through its processor-specific view."""
    engine = _engine(4, 4)
    try:
        for cpu in (3, 1):
            engine.write("GICH", GICH_HCR, 1, cpu=cpu)
            engine.write("GICV", 0x000, 1, cpu=cpu)               # EnableGrp0
            engine.write("GICV", 0x004, 0xF8, cpu=cpu)            # PMR
        # CPU 0 fills CPU 3's LR0 through CPU 3's view
        engine.write("GICH", 0x100, 1 << 31 | 1 << 28 | 0x14 << 23 | 300 << 10 | 55,
                     cpu=0, gich_cpu=3)
        assert engine.virq == 0b1000 and engine.line("virq", 3) == 1
        assert engine.read("GICH", 0x100, cpu=3) == engine.read("GICH", 0x100, cpu=2, gich_cpu=3)
        assert engine.read("GICH", 0x100, cpu=0) == 0                 # CPU 0's own LR0
        assert engine.read("GICV", 0x00C, cpu=3) == 55                # IAR
        engine.write("GICH", 0x100, 1 << 31 | 1 << 28 | 0x14 << 23 | 77 << 10 | 9, cpu=1)
        assert engine.virq == 0b0010
        assert engine.read("GICV", 0x00C, cpu=1) == 9
        engine.write("GICV", 0x010, 9, cpu=1)                         # EOIR
        engine.write("GICV", 0x010, 55, cpu=3)
        assert engine.forwarded == [77, 300] and engine.forwarded_cpu == [1, 3]
        # run_batch: the requesting CPU as a fifth element, lines as masks
        engine.write("GICH", 0x100, 1 << 28 | 0x14 << 23 | 5, cpu=2)
        engine.write("GICH", GICH_HCR, 1, cpu=2)
        engine.write("GICV", 0x000, 1, cpu=2)
        res = engine.run_batch([("write", regs.core_addr("GICV", 0x004), 0xF8, 0xF, 2),
                                ("read", regs.core_addr("GICV", 0x00C), 0, 0xF, 2)])
        assert res == [(0, 0b0100, 0, 0), (5, 0, 0, 0)]
        engine.reset()
        assert engine.forwarded == [] and engine.forwarded_cpu == [] and engine.virq == 0
        assert engine.read("GICH", 0x100, cpu=3) == 0
    finally:
        engine.close()


def test_requesting_cpu_the_bus_cannot_carry():
    """As RTLEngine: a CPU number wider than the bus's cpu port is refused;
    with one CPU only 0 (the engine as before), a view other than CPU 0's RAZ/WI."""
    engine = _engine(4, 2)
    try:
        with pytest.raises(ValueError, match="cannot carry"):
            engine.read("GICV", 0x00C, cpu=2)
        with pytest.raises(ValueError, match="cannot carry"):
            engine.issue("read", 0x000, cpu=2)
        with pytest.raises(ValueError, match="GICH accesses only"):
            engine.read("GICV", 0x00C, gich_cpu=1)
    finally:
        engine.close()
    one = _engine(4, 1)
    try:
        with pytest.raises(ValueError, match="cannot carry"):
            one.read("GICH", 0x004, cpu=1)
        before = one.read("GICH", GICH_VMCR)
        one.write("GICH", GICH_VMCR, 0x1F << 27, gich_cpu=0)
        vmcr = one.read("GICH", GICH_VMCR)
        assert vmcr != before and vmcr == one.read("GICH", GICH_VMCR, gich_cpu=0)
        one.write("GICH", GICH_VMCR, 0, gich_cpu=1)                   # no such view: WI
        assert one.read("GICH", GICH_VMCR, gich_cpu=1) == 0 and one.read("GICH", GICH_VMCR) == vmcr
        assert one.virq == 0 and one.forwarded_cpu == []
    finally:
        one.close()


# -- the timed issue (`vgic replay --timing`) with several CPUs ----------------------

def _timed_reads(engine, num_cpus, count=400, seed=5):
    """Requests of num_cpus CPUs issued back to back (GICH_VMCR, GICV_PMR and
    GICH_LR1, own frames and others' views, and an EOIR now and then): every
    read returns what the model returns one at a time, every request is
    answered."""
    model = Cluster(4, num_cpus)
    rnd, expected = random.Random(seed), []
    vmcr, pmr, lr1 = (regs.core_addr("GICH", GICH_VMCR), regs.core_addr("GICV", 0x004),
                      regs.core_addr("GICH", 0x104))
    for _ in range(count):
        cpu = rnd.randrange(num_cpus)
        addr = rnd.choice([vmcr, pmr, lr1, regs.alias_addr(rnd.randrange(num_cpus), GICH_VMCR),
                           regs.alias_addr(rnd.randrange(num_cpus), 0x104)])
        if rnd.random() < 0.1:
            engine.issue("write", regs.core_addr("GICV", 0x010), 1023, cpu=cpu)      # EOIR
            model.write("GICV", 0x010, 1023, cpu=cpu)
        elif rnd.random() < 0.5:
            if addr == pmr:
                value = rnd.randrange(256)
            elif addr % regs.ALIAS_STRIDE == GICH_VMCR:             # own or a view's
                value = rnd.randrange(32) << 27                        # VMPriMask
            else:                                                      # an LR: state 00
                value = rnd.randrange(1 << 20)
            engine.issue("write", addr, value, cpu=cpu)
            model.write_addr(addr, value, cpu=cpu)
        else:
            engine.issue("read", addr, cpu=cpu)
            expected.append(model.read_addr(addr, cpu=cpu))
    assert len(set(expected)) > 8
    assert engine.take_reads(drain=True) == expected
    cycles, issued = engine.timing()
    assert issued == count and cycles >= count + LATENCY


def test_timed_issue_by_several_cpus_keeps_every_read_value():
    engine = _engine(4, 4)
    try:
        _timed_reads(engine, 4)
    finally:
        engine.close()


def _eoir_span(engine, cpus, n):
    """(cycles, requests) of n back-to-back writes of GICV_EOIR (1023: no
    interrupt to drop or deactivate), the i-th by CPU cpus[i % len(cpus)]."""
    for i in range(n):
        engine.issue("write", regs.core_addr("GICV", 0x010), 1023, cpu=cpus[i % len(cpus)])
    engine.take_reads(drain=True)
    return engine.timing()


def test_timed_issue_one_cpus_hold_off_does_not_stall_another():
    """rtl/timing.py: after an EOIR its CPU interface holds ready at 0 for M
    cycles (match_latency); rtl/cluster.py: ready is the addressed CPU
    interface's. So one CPU's EOIR writes go every M + 1 cycles, on the
    one-CPU core and on a cluster alike, while EOIRs alternating between two
    CPUs go one per clock."""
    from vgic.rtl.timing import Timing
    one, two, alt = _engine(4, 1), _engine(4, 2), _engine(4, 2)
    try:
        n, m = 100, Timing(4).match_latency
        assert _eoir_span(one, [0], n) == ((n - 1) * (m + 1) + LATENCY + 1, n)
        assert _eoir_span(two, [1], n) == ((n - 1) * (m + 1) + LATENCY + 1, n)
        assert _eoir_span(alt, [0, 1], n) == ((n - 1) + LATENCY + 1, n)
        assert one.forwarded == two.forwarded == alt.forwarded == []
    finally:
        for e in (one, two, alt):
            e.close()


def test_waveform_of_several_cpus(tmp_path):
    """vcd_path: Verilator's waveform of the cluster, with the requester's
    CPU number, the line vectors and deact_cpu."""
    _needs_verilator()
    vcd = tmp_path / "c.vcd"
    engine = fast.FastEngine(4, num_cpus=2, vcd_path=str(vcd))
    engine.write("GICH", GICH_VMCR, 1 << 27, cpu=1)
    assert engine.read("GICH", GICH_VMCR, cpu=0, gich_cpu=1) == engine.read("GICH", GICH_VMCR, cpu=1)
    engine.close()
    text = vcd.read_text()
    for name in ("bus__cpu", "deact_cpu", "virq [1:0]", "cpu1"):
        assert name in text, name


BRIDGES = ["axi4lite", "apb", "wishbone", "wishbone-pipelined"] if FULL else ["axi4lite"]


@pytest.mark.parametrize("bus", BRIDGES)
def test_timed_issue_through_a_bridge_by_several_cpus(bus):
    """The requester's CPU number on the bridge's port (AWUSER/ARUSER, PAUSER,
    TGA): requests of two CPUs through each bridge read what the model reads
    one at a time."""
    _needs_verilator()
    engine = fast.FastEngine(4, bus=bus, num_cpus=2)
    try:
        assert engine.virq == engine.vfiq == engine.maint == 0
        with pytest.raises(fast.FastEngineError, match="timed issue only"):
            engine.read("GICV", 0x00C, cpu=1)
        _timed_reads(engine, 2, count=300, seed=len(bus))
    finally:
        engine.close()


# -- one CPU: the same build inputs as before; several: their own cache entry --------

def _build_inputs(monkeypatch, **kw):
    seen = {}

    def fake(name, verilog, harness, top, log=None, trace=False, config="", lib_name=None):
        seen.update(name=name, harness=harness, config=config, verilog=verilog)
        return "lib"
    monkeypatch.setattr(fast, "build_design", fake)
    fast.build_library(4, verilog="module vgic_core; endmodule", **kw)
    return seen


def test_one_cpu_harness_has_no_cluster_part(monkeypatch):
    """num_cpus = 1 builds the one-CPU harness (no marker, no cpu port, no
    Verilator configuration: as before the cluster parts were added)."""
    for bus in fast.BUSES:
        one = _build_inputs(monkeypatch, bus=bus)
        assert one == _build_inputs(monkeypatch, bus=bus, num_cpus=1)
        assert "VGIC_" not in one["harness"].replace("VGIC_TRACE", "")
        assert "NUM_CPUS" not in one["harness"]
        assert ("threadContextp" in one["harness"]) == (bus != "core")   # scopes: bridges
        assert "bus___05Fcpu" not in one["harness"] and "deact_cpu" not in one["harness"]
        assert one["name"] == "lrs4" + ("" if bus == "core" else f"-{bus}")
    core = _build_inputs(monkeypatch)
    assert core["config"] == ""
    two = _build_inputs(monkeypatch, num_cpus=2)
    eight = _build_inputs(monkeypatch, num_cpus=8, trace=True)
    assert two["name"] == "lrs4-cpus2" and eight["name"] == "lrs4-cpus8-vcd"
    assert "#define NUM_CPUS 2" in two["harness"] and "bus___05Fcpu" in two["harness"]
    assert "cpu1__DOT__bus___05Fsettled" in two["harness"]
    assert two["config"].count("public_flat_rd") == 2 and eight["config"].count("public_flat_rd") == 8


def test_harness_text_markers():
    text = ("a\n#ifdef VGIC_CLUSTER\nb\n#else  // VGIC_CLUSTER\nc\n#endif  // VGIC_CLUSTER\nd\n"
            "#ifdef VGIC_SCOPES\ne\n#endif  // VGIC_SCOPES\n")
    assert fast.harness_text(text) == "a\nc\nd\n"
    assert fast.harness_text(text, cluster=True) == "a\nb\nd\n"
    assert fast.harness_text(text, scopes=True) == "a\nc\nd\ne\n"
    for bad in ("#ifdef VGIC_CLUSTER\n", "#else  // VGIC_CLUSTER\n",
                "#ifdef VGIC_CLUSTER\n#ifdef VGIC_SCOPES\n"):
        with pytest.raises(AssertionError):
            fast.harness_text(bad, cluster=True)
    with pytest.raises(TypeError):
        fast.harness_text(text, clusters=True)


@pytest.mark.parametrize("kw", [{"num_cpus": 2}, {"bus": "apb"}])
def test_engines_closed_in_any_order(kw):
    """Designs with Verilator scopes (the cluster's, a bridge's: public_flat_rd)
    register them in the thread's Verilator context: two engines of one
    library, the second closed first, then a third made (`vgic replay
    --timing` has two). Once hung in the first one's close. In a subprocess,
    so that a hang fails the test."""
    import subprocess
    import sys
    _needs_verilator()
    fast.build_library(4, **kw)              # built here, not in the time limit below
    code = (f"from vgic.sim.fast import FastEngine\n"
            f"a = FastEngine(4, **{kw!r}); b = FastEngine(4, **{kw!r})\n"
            f"b.close(); a.close(); c = FastEngine(4, **{kw!r}); c.close(); print('closed')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=180)
    assert out.stdout.strip() == "closed", out.stderr[-2000:]
