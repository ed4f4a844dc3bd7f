"""Several GICv3 CPU interfaces behind one bus (rtl/cluster.py and
sim/model/cluster.py with arch="v3"; docs/architecture-v3.md v3 1.5): ICH and
ICV banked by the requester, CPU n's ICH registers through its view at
0x1000 + 0x200 n for anyone, absent CPUs RAZ/WI; the KVM vgic-v3 recording
on one CPU of four, its ICH half through that CPU's view from another CPU,
with the other CPUs busy, reads and signals what it does alone."""
import gzip
import json
import pathlib
import random

import pytest

from vgic.sim.driver import RTLEngine
from vgic.sim.model import Cluster, VirtualInterface

KVM3 = pathlib.Path(__file__).parent / "data" / "kvm3" / "kvm3_linux_2vcpu.jsonl.gz"


@pytest.fixture(params=["model", "rtl"])
def engine(request):
    def make(num_cpus, num_lrs=2):
        if request.param == "model":
            return Cluster(num_lrs, num_cpus, arch="v3")
        return RTLEngine(num_lrs, num_cpus=num_cpus, arch="v3")
    return make


def test_banked_by_requester_views_and_absent_cpus(engine):
    e = engine(3)
    # CPU 0 fills CPU 1's LR0 and HCR through CPU 1's view; CPU 1 enables its groups
    e.write_sysreg("ICH_LR0_EL2", 0x50A0_0000_0000_002A, cpu=0, gich_cpu=1)
    e.write_sysreg("ICH_HCR_EL2", 1, cpu=0, gich_cpu=1)
    e.write_sysreg("ICH_VMCR_EL2", 0xF800_0003, cpu=1)
    assert e.read_sysreg("ICH_LR0_EL2", cpu=1) == 0x50A0_0000_0000_002A
    assert e.read_sysreg("ICH_LR0_EL2", cpu=0) == 0               # CPU 0's own: untouched
    assert (e.line("virq", 0), e.line("virq", 1), e.line("virq", 2)) == (0, 1, 0)
    assert e.read_sysreg("ICV_IAR1_EL1", cpu=0) == 1023
    assert e.read_sysreg("ICV_IAR1_EL1", cpu=1) == 42
    assert e.read_sysreg("ICH_AP1R0_EL2", cpu=2, gich_cpu=1) == 1 << (0xA0 >> 3)
    assert e.read_sysreg("ICH_LR0_EL2", cpu=2, gich_cpu=1) == 0x90A0_0000_0000_002A
    # CPU 3's view and CPU 3 as requester: there is no CPU 3 (RAZ/WI)
    e.write_sysreg("ICH_HCR_EL2", 1, cpu=0, gich_cpu=3)
    assert e.read_sysreg("ICH_VTR_EL2", cpu=0, gich_cpu=3) == 0
    e.write_sysreg("ICH_HCR_EL2", 1, cpu=3)
    assert e.read_sysreg("ICH_VTR_EL2", cpu=3) == 0
    assert e.read_sysreg("ICH_VTR_EL2", cpu=2) == 0x90B8_0001
    # each CPU's traps: CPU 2 sets TALL1 (bit 12) through its own ICH
    e.write_sysreg("ICH_HCR_EL2", 1 << 12, cpu=2)
    assert e.traps == 0b00100 << 10                           # CPU 2's TALL1 (bit 2 of its 5)
    if not isinstance(e, RTLEngine):
        assert [c.traps["TALL1"] for c in e.cpus] == [0, 0, 1]


def _recording(count):
    out = []
    with gzip.open(KVM3, "rt") as f:
        for line in f:
            o = json.loads(line)
            if "op" in o:
                out.append(o)
            if len(out) == count:
                return out
    return out


@pytest.mark.parametrize("kind, count", [("model", 105003), ("rtl", 1200)])
def test_kvm_recording_on_cpu2_of_4_as_alone(kind, count):
    """CPU 2 runs the recording: its ICV accesses as requester 2, its ICH
    accesses by CPU 0 through CPU 2's view; between them CPUs 0, 1 and 3 do
    their own hypervisor and guest work. CPU 2 reads and signals exactly
    what a lone interface does (and the recorded values where recorded)."""
    cluster = (Cluster(4, 4, arch="v3") if kind == "model"
               else RTLEngine(4, num_cpus=4, arch="v3"))
    alone = VirtualInterface(4, arch="v3")
    rng = random.Random(3)
    for o in _recording(count):
        by = {"cpu": 0, "gich_cpu": 2} if o["reg"].startswith("ICH") else {"cpu": 2}
        if o["op"] == "write":
            cluster.write_sysreg(o["reg"], o["value"], **by)
            alone.write_sysreg(o["reg"], o["value"])
        else:
            got, want = cluster.read_sysreg(o["reg"], **by), alone.read_sysreg(o["reg"])
            assert got == want == o["value"], o
        for line in ("virq", "vfiq", "maint"):
            assert cluster.line(line, 2) == getattr(alone, line), (o, line)
            assert line not in o or o[line] == getattr(alone, line), (o, line)
        if rng.random() < 0.2:                       # another CPU's traffic
            other = rng.choice([0, 1, 3])
            cluster.write_sysreg("ICH_HCR_EL2", 1, cpu=other)
            cluster.write_sysreg("ICH_LR0_EL2", 0x5080_0000_0000_0000 | rng.randrange(32, 64),
                                 cpu=other)
            cluster.write_sysreg("ICH_VMCR_EL2", 0xF800_0003, cpu=other)
            cluster.read_sysreg("ICV_IAR1_EL1", cpu=other)
