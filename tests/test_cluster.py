# Ref: IHI0048B 1.3 and 5.1 (GICH/GICV banked per CPU interface); GIC-400 TRM memory map
"""Several CPUs (rtl/cluster.py, sim/model/cluster.py): banking by the
requesting CPU, the processor-specific GICH views, RAZ/WI for CPUs the core
lacks, per-CPU lines and the deactivation port, on the model and the RTL.
Expected values come from the issue and GIC-400's map, not from the code."""
import random

import pytest

from conftest import other_cpus_traffic

from vgic.rtl import regs
from vgic.sim.diff import make_engine
from vgic.sim.stimulus import lr_value, PENDING, ACTIVE, INVALID

ENGINES = ["model", "rtl"]


def engine(kind, num_cpus, num_lrs=4):
    return make_engine(kind, num_lrs, num_cpus=num_cpus)


def program(e, cpu, vid, prio=0x10, hw=0, pintid=0, via=None):
    """A pending interrupt in CPU `cpu`'s LR0, its guest enabled and unmasked.
    `via`: the CPU that writes the GICH registers (through `cpu`'s view)."""
    gich = {"cpu": cpu} if via is None else {"cpu": via, "gich_cpu": cpu}
    e.write("GICH", regs.lr(0).offset,
            lr_value(vid=vid, state=PENDING, prio=prio, hw=hw, pintid=pintid), **gich)
    e.write("GICH", regs.GICH_HCR.offset, 1, **gich)
    e.write("GICV", regs.GICV_CTLR.offset, 1, cpu=cpu)
    e.write("GICV", regs.GICV_PMR.offset, 0xF8, cpu=cpu)


def state(e, cpu, n=0):
    return e.read("GICH", regs.lr(n).offset, cpu=cpu) >> 28 & 3


@pytest.mark.parametrize("kind", ENGINES)
@pytest.mark.parametrize("num_cpus", [2, 4])
def test_each_cpu_has_its_own_interface(kind, num_cpus):
    e = engine(kind, num_cpus)
    for c in range(num_cpus):
        program(e, c, vid=40 + c)
    assert e.virq == (1 << num_cpus) - 1                  # every CPU's line, bit n
    # an acknowledge by CPU 1 takes CPU 1's interrupt and no other
    assert e.read("GICV", regs.GICV_IAR.offset, cpu=1) == 41
    assert [state(e, c) for c in range(num_cpus)] == [ACTIVE if c == 1 else PENDING
                                                      for c in range(num_cpus)]
    assert e.virq == ((1 << num_cpus) - 1) & ~0b10
    assert e.read("GICV", regs.GICV_RPR.offset, cpu=1) == 0x10
    assert e.read("GICV", regs.GICV_RPR.offset, cpu=0) == regs.IDLE_RPR
    # registers are banked: GICV_PMR of CPU 0 is not CPU 1's
    e.write("GICV", regs.GICV_PMR.offset, 0x08, cpu=0)
    assert e.read("GICV", regs.GICV_PMR.offset, cpu=0) == 0x08
    assert e.read("GICV", regs.GICV_PMR.offset, cpu=1) == 0xF8
    assert e.virq & 1 == 0                                # CPU 0 now masks its interrupt
    e.write("GICV", regs.GICV_EOIR.offset, 41, cpu=1)
    assert state(e, 1) == INVALID and state(e, 0) == PENDING


@pytest.mark.parametrize("kind", ENGINES)
def test_processor_specific_view_reaches_another_cpu(kind):
    e = engine(kind, 4)
    program(e, 2, vid=77, via=0)                          # CPU 0 fills CPU 2's LR0
    assert e.virq == 0b0100
    assert e.read("GICH", regs.lr(0).offset, cpu=2) == lr_value(vid=77, state=PENDING, prio=0x10)
    assert e.read("GICH", regs.lr(0).offset, cpu=0) == 0  # CPU 0's own LR0 untouched
    # the same register through the view, from any CPU, and at its core address
    for by in range(4):
        assert e.read("GICH", regs.lr(0).offset, cpu=by, gich_cpu=2) >> 28 & 3 == PENDING
    assert e.read_addr(0x1000 + 0x200 * 2 + regs.lr(0).offset, cpu=3) >> 28 & 3 == PENDING
    assert e.read_addr(regs.ALIAS_BASE + 2 * regs.ALIAS_STRIDE, cpu=1) == 1   # GICH_HCR.En
    assert e.read("GICV", regs.GICV_IAR.offset, cpu=2) == 77


@pytest.mark.parametrize("kind", ENGINES)
def test_views_and_requesters_the_core_lacks_are_raz_wi(kind):
    e = engine(kind, 3)                     # a 2-bit CPU number: CPU 3 does not exist
    for n in (3, 7):                        # views of CPUs 3..7: RAZ/WI
        e.write_addr(regs.alias_addr(n, regs.GICH_HCR.offset), 1, cpu=0)
        assert e.read_addr(regs.alias_addr(n, regs.GICH_HCR.offset), cpu=0) == 0
        assert e.read_addr(regs.alias_addr(n, regs.GICH_VTR.offset), cpu=0) == 0
    for c in range(3):
        assert e.read("GICH", regs.GICH_HCR.offset, cpu=c) == 0
        assert e.read("GICH", regs.GICH_VTR.offset, cpu=c) == regs.vtr_value(4)
    # a requester with no interface of its own: RAZ/WI, answered on the bus
    e.write("GICH", regs.GICH_HCR.offset, 1, cpu=3)
    assert e.read("GICH", regs.GICH_VTR.offset, cpu=3) == 0
    assert e.read("GICV", regs.GICV_IIDR.offset, cpu=3) == 0
    assert [e.read("GICH", regs.GICH_HCR.offset, cpu=c) for c in range(3)] == [0, 0, 0]


@pytest.mark.parametrize("kind", ENGINES)
def test_one_cpu_has_no_views(kind):
    e = engine(kind, 1)                     # the map of a single CPU interface
    e.write("GICH", regs.GICH_HCR.offset, 1)
    assert e.read_addr(regs.alias_addr(0, regs.GICH_HCR.offset)) == 0
    assert e.read_addr(regs.alias_addr(0, regs.GICH_VTR.offset)) == 0


@pytest.mark.parametrize("kind", ENGINES)
def test_deactivations_carry_their_cpu(kind):
    e = engine(kind, 4)
    program(e, 3, vid=50, hw=1, pintid=300)
    program(e, 1, vid=51, hw=1, pintid=301)
    assert e.read("GICV", regs.GICV_IAR.offset, cpu=3) == 50
    assert e.read("GICV", regs.GICV_IAR.offset, cpu=1) == 51
    e.write("GICV", regs.GICV_EOIR.offset, 51, cpu=1)
    e.write("GICV", regs.GICV_EOIR.offset, 50, cpu=3)
    e.write("GICV", regs.GICV_EOIR.offset, 50, cpu=2)     # CPU 2 has no such LR
    assert list(e.forwarded) == [301, 300]
    assert list(e.forwarded_cpu) == [1, 3]


def test_rtl_ready_and_settled_are_per_cpu():
    """Back to back on the core bus: while CPU 0's EOIR match runs (ready low
    for CPU 0), CPU 1's request is taken at once; an IAR read of CPU 1 right
    after a write to CPU 0 does not wait for CPU 0 to settle."""
    from amaranth.sim import Simulator
    from vgic.rtl.cluster import Cluster
    from vgic.sim.driver import ResetBench, CLOCK_PERIOD

    dut = Cluster(2, 16)                    # 16 LRs: ready low for 2 cycles after an EOIR
    bench = ResetBench(dut)
    sim = Simulator(bench)
    sim.add_clock(CLOCK_PERIOD, domain="sync")
    seen = {}

    async def tb(ctx):
        bus = dut.bus
        await ctx.tick().repeat(12)         # out of reset, settled
        ctx.set(bus.cpu, 0)
        ctx.set(bus.addr, regs.GICV_EOIR.word)
        ctx.set(bus.w_stb, 1)
        ctx.set(bus.w_data, 1023)
        ctx.set(bus.w_strb, 0xF)
        assert ctx.get(bus.ready)
        await ctx.tick()
        ctx.set(bus.w_stb, 0)
        await ctx.tick()                    # decode cycle: CPU 0's match runs
        seen["cpu0_ready"] = ctx.get(bus.ready)
        ctx.set(bus.cpu, 1)
        seen["cpu1_ready"] = ctx.get(bus.ready)
        seen["cpu1_settled"] = ctx.get(bus.settled)
        ctx.set(bus.addr, regs.GICH_HCR.word)
        seen["cpu1_gich_ready"] = ctx.get(bus.ready)
        ctx.set(bus.cpu, 0)                 # CPU 0 through CPU 1's view: CPU 1's flags
        ctx.set(bus.addr, regs.alias_addr(1, regs.GICH_HCR.offset) >> 2)
        seen["view_ready"] = ctx.get(bus.ready)

    sim.add_testbench(tb)
    sim.run()
    assert seen == {"cpu0_ready": 0, "cpu1_ready": 1, "cpu1_settled": 1,
                    "cpu1_gich_ready": 1, "view_ready": 1}


def test_cluster_parameters_are_checked():
    from vgic.rtl.cluster import Cluster, build
    from vgic.rtl.top import VirtualInterface
    from vgic.sim.model import Cluster as ModelCluster
    for bad in (0, 9, 1.5, True):
        with pytest.raises(ValueError, match="num_cpus must be an integer from 1 to 8"):
            build(4, bad)
        with pytest.raises(ValueError, match="num_cpus"):
            ModelCluster(4, bad)
    with pytest.raises(ValueError, match="2 to 8 CPUs"):
        Cluster(1, 4)
    with pytest.raises(ValueError, match="num_lrs"):
        Cluster(2, 65)
    from amaranth.hdl import Fragment
    one, eight = build(1, 1), build(1, 8)
    assert isinstance(one, VirtualInterface) and len(eight.cpus) == 8
    for core in (one, eight):
        Fragment.get(core, None)            # elaborated: no "never used" warning


@pytest.mark.parametrize("num_cpus,lrs,n", [(2, 1, 1500), (4, 4, 1200), (8, 4, 600)])
def test_fuzz_rtl_against_model(num_cpus, lrs, n):
    """Interleaved per-CPU hypervisor+guest streams with cross-CPU GICH
    accesses (sim/stimulus.py stream_cpus), model against the RTL."""
    from vgic.sim.fuzz import fuzz
    assert fuzz(n, (lrs,), seed=num_cpus, engine="rtl", num_cpus=num_cpus) == {lrs: n}


def test_fuzz_stream_exercises_every_cpu_and_the_views():
    from vgic.sim.fuzz import txn_stream
    import itertools
    txns = list(itertools.islice(txn_stream(0, 4, "mixed", 4), 4000))
    assert {t.cpu for t in txns} == {0, 1, 2, 3}
    views = [t for t in txns if t.gich_cpu is not None]
    assert {t.gich_cpu for t in views if t.gich_cpu < 4} == {0, 1, 2, 3}
    assert any(t.gich_cpu != t.cpu for t in views)
    assert any(t.gich_cpu >= 4 for t in views)


def test_engines_agree_on_random_banked_accesses():
    """Direct random accesses (any CPU, any view, raw addresses of the whole
    window), model against the RTL at 3 CPUs (a CPU number with no CPU)."""
    from vgic.sim.diff import DiffRunner
    from vgic.sim.stimulus import Txn, CORE
    rng = random.Random(5)
    ref, dut = engine("model", 3, 2), engine("rtl", 3, 2)
    runner = DiffRunner(ref, dut, names=("model", "rtl"))
    words = [r for r in regs.REGS if r.offset < regs.FRAME_SIZE[r.frame]]
    for _ in range(600):
        cpu = rng.randrange(4)
        if rng.random() < 0.3:
            t = Txn(rng.choice(["read", "write"]), CORE, rng.randrange(0x4000 // 4) * 4,
                    rng.randrange(2**32), cpu=cpu)
        else:
            r = rng.choice(words)
            view = rng.randrange(8) if r.frame == "GICH" and rng.random() < 0.4 else None
            t = Txn(rng.choice(["read", "write"]), r.frame, r.offset,
                    rng.choice([0, 1, 0xF8, 0x10000000 | rng.randrange(1024), rng.randrange(2**32)]),
                    cpu=cpu, gich_cpu=view)
        runner.step(t)


# -- recorded traces on one CPU of four ------------------------------------------
def _on_cpu(transactions, kind, cpu=2, num_cpus=4, seed=0):
    """Replay `transactions` (trace.Transaction) on CPU `cpu` of a `num_cpus`
    core, GICV accesses by that CPU, GICH accesses by another CPU through its
    view, with other CPUs' traffic interleaved. Returns one (value, lines,
    deactivations) per transaction: what CPU `cpu` showed."""
    from vgic.sim.diff import observe
    from vgic.sim.replay import _txn
    rng = random.Random(seed)
    e = engine(kind, num_cpus)
    out = []
    for t in transactions:
        if t.skipped:
            continue
        for o in other_cpus_traffic(rng, cpu, num_cpus, e.num_lrs):
            observe(e, o)
        txn = _txn(t)
        if txn.frame == "GICH":
            txn = txn._replace(cpu=rng.choice([c for c in range(num_cpus) if c != cpu]),
                               gich_cpu=cpu)
        else:
            txn = txn._replace(cpu=cpu)
        before = len(e.forwarded)
        obs = observe(e, txn)
        mine = [p for p, c in zip(e.forwarded[before:], e.forwarded_cpu[before:]) if c == cpu] \
            if t.op != "reset" else []
        out.append((obs.data if t.op == "read" else None,
                    tuple(getattr(obs, k) >> cpu & 1 for k in ("virq", "vfiq", "maint")), mine))
    return out


def _alone(transactions, kind):
    from vgic.sim.diff import observe
    from vgic.sim.replay import _txn
    e = engine(kind, 1)
    out = []
    for t in transactions:
        if t.skipped:
            continue
        before = len(e.forwarded)
        obs = observe(e, _txn(t))
        out.append((obs.data if t.op == "read" else None, (obs.virq, obs.vfiq, obs.maint),
                    list(e.forwarded[before:]) if t.op != "reset" else []))
    return out


def _data(*parts):
    import pathlib
    return pathlib.Path(__file__).resolve().parent.joinpath("data", *parts)


@pytest.mark.parametrize("kind", ENGINES)
@pytest.mark.parametrize("scenario", "abcdef")
def test_qemu_traces_on_cpu2_of_4(kind, scenario):
    from vgic.sim.trace import read_trace
    ts = read_trace(_data("qemu-7.2", f"scenario_{scenario}.jsonl"))
    assert _on_cpu(ts, kind, seed=ord(scenario)) == _alone(ts, kind)


@pytest.mark.parametrize("kind,count", [("model", None), ("rtl", 800)])
def test_kvm_sample_on_cpu2_of_4(kind, count):
    """The recorded KVM run (all of it on the model, a slice on the RTL) on
    CPU 2 of 4, its GICH half issued by other CPUs through CPU 2's view."""
    from vgic.sim.trace import read_trace
    ts = read_trace(_data("kvm", "kvm_linux_1vcpu.jsonl.gz"))[:count]
    alone = _alone(ts, kind)
    assert _on_cpu(ts, kind) == alone
    assert sum(1 for v, _, _ in alone if v is not None) > len(alone) // 4
