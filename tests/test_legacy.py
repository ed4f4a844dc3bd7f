"""Legacy operation (docs/architecture-v3.md v3 10): a GICv2 guest on the
GICv3 list registers, `VirtualInterface(arch="v3", legacy=True)`, on the
golden model and the Amaranth RTL.

The guest cannot tell: every GICv2 trace we have, translated by `vgic
convert v2-to-v3legacy`, replays on the legacy core with the GICV read values,
line levels and deactivations of the GICv2 run, and ICH reads equal to the
translations of the GICH reads (ICH_VTR_EL2 aside). Then the rules L1-L6 and
ICC_SRE_EL1's choice of view, with literal values."""
import gzip
import os
import pathlib

import pytest

from vgic.sim.convert import convert_lines, v2_to_v3
from vgic.sim.diff import make_engine
from vgic.sim.fuzz import trace_lines
from vgic.sim.replay import replay_iter
from vgic.sim.stimulus import generate
from vgic.sim.trace import parse_lines

DATA = pathlib.Path(__file__).parent / "data"
SCENARIOS = sorted((DATA / "qemu-7.2").glob("scenario_*.jsonl"))
KVM = DATA / "kvm" / "kvm_linux_1vcpu.jsonl.gz"


def _lines(path, limit=None):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    return lines if limit is None else lines[:limit]


def _same_run(v2_lines, engine, num_lrs=4):
    """Replay a GICv2 trace on the GICv2 model and its translation on the
    legacy core `engine`; compare transaction by transaction (by seq)."""
    legacy = list(convert_lines(v2_lines, "v2-to-v3legacy"))
    want = {t.seq: r for t, r in replay_iter(parse_lines(v2_lines), [make_engine("model", num_lrs)])
            if not t.skipped}
    core = make_engine(engine, num_lrs, arch="v3", legacy=True)
    got = {t.seq: r for t, r in replay_iter(parse_lines(legacy, arch="v3-legacy"), [core])}
    assert set(got) <= set(want) and len(got) > 0.5 * len(want)
    for seq, a in got.items():
        b = want[seq]
        assert [a[k] for k in ("op", "virq", "vfiq", "maint", "deactivate")] == \
            [b[k] for k in ("op", "virq", "vfiq", "maint", "deactivate")], (seq, a, b)
        if a["op"] != "read" or a["reg"] == "ICH_VTR_EL2":
            continue
        if a["reg"].startswith("GICV_"):
            assert (a["reg"], a["value"]) == (b["reg"], b["value"]), seq
        else:
            assert v2_to_v3(b["reg"].removeprefix("GICH_"), b["value"])[:2] == \
                (a["reg"], a["value"]), seq
    return len(got)


@pytest.mark.parametrize("engine", ["model", "rtl"])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_qemu_scenarios_translated_run_as_on_gicv2(path, engine):
    assert _same_run(_lines(path), engine) > 10


@pytest.mark.parametrize("engine, limit", [("model", None), ("rtl", 3000)])
def test_kvm_run_translated_runs_as_on_gicv2(engine, limit):
    assert _same_run(_lines(KVM, limit), engine) > (limit or 30000) * 0.7


@pytest.mark.parametrize("engine, count", [("model", 6000), ("rtl", 800)])
@pytest.mark.parametrize("num_lrs", [1, 4])
def test_random_kvm_sequences_translated_run_as_on_gicv2(engine, count, num_lrs):
    v2 = trace_lines(generate(7 + num_lrs, num_lrs, count, profile="kvm"))
    assert _same_run(v2, engine, num_lrs) > count * 0.5


# -- the rules, with literal values -------------------------------------------------

@pytest.fixture(params=["model", "rtl"])
def core(request):
    return make_engine(request.param, 4, arch="v3", legacy=True)


GICV = {"CTLR": 0x000, "PMR": 0x004, "IAR": 0x00C, "EOIR": 0x010, "RPR": 0x014, "HPPIR": 0x018,
        "AIAR": 0x020, "AHPPIR": 0x028, "APR0": 0x0D0, "IIDR": 0x0FC, "DIR": 0x1000}


def lr(state, vid, prio, grp=0, hw=0, eoi=0, pintid=0, cpu=0):
    """ICH_LR<n>_EL2 from its fields (v3 2.8), a vSGI's source CPU in [12:10] (L3)."""
    return (state << 62 | hw << 61 | grp << 60 | prio << 48 | eoi << 41 | pintid << 32
            | cpu << 10 | vid)


def guest_on(core, ctlr=0b11, pmr=0xF8):
    core.write_sysreg("ICH_HCR_EL2", 1)
    core.write("GICV", GICV["CTLR"], ctlr)
    core.write("GICV", GICV["PMR"], pmr)


def test_out_of_reset_the_gicv2_frame_is_live(core):
    """v3 10: SRE = 0 out of reset; GICV_CTLR = 0, so ICH_VMCR_EL2 reads
    0x004C0000 (VFIQEn is the guest's, 0); ICC_SRE_EL1 reads DIB, DFB = 1."""
    assert core.read_sysreg("ICC_SRE_EL1") == 0b110
    assert core.read_sysreg("ICH_VMCR_EL2") == 0x004C_0000
    assert core.read("GICV", GICV["IIDR"]) == 0x0002_043B
    assert core.read("GICV", GICV["IAR"]) == 1023
    assert core.read_sysreg("ICV_IAR1_EL1") == 0                       # ICV_*: RAZ/WI


def test_l1_every_acknowledge_sets_its_bit_in_ap1r(core):
    """L1: a Group 0 (0x40) and a Group 1 (0x20) acknowledge both land in
    ICH_AP1R0_EL2 = GICV_APR0; ICH_AP0R0_EL2 stays 0."""
    guest_on(core, ctlr=0b111)                          # both groups, AckCtl
    core.write_sysreg("ICH_LR0_EL2", lr(1, 40, 0x40, grp=0))
    assert core.read("GICV", GICV["IAR"]) == 40
    core.write_sysreg("ICH_LR1_EL2", lr(1, 41, 0x20, grp=1))
    assert core.read("GICV", GICV["IAR"]) == 41         # 0x20 preempts 0x40
    assert core.read_sysreg("ICH_AP1R0_EL2") == (1 << 4) | (1 << 8)
    assert core.read("GICV", GICV["APR0"]) == (1 << 4) | (1 << 8)
    assert core.read_sysreg("ICH_AP0R0_EL2") == 0
    assert core.read("GICV", GICV["RPR"]) == 0x20


def test_the_window_answers_by_address_and_sre(core):
    """v3 10.2, 10.3: the GICv2 frame and the ICV registers share core
    0x2000-0x3FFF, so an access there answers as its address does, by SRE,
    whichever frame names it: 0x2128 is ICC_SRE_EL1 always (the frame's
    reserved offset 0x128 reaches it: DIB, DFB read 1, and a write of 1 there
    switches the window); with SRE = 1, GICV_EOIR's address (0x2010) is
    ICV_HPPIR0_EL1's low half; with SRE = 0, ICV_IAR0_EL1's (0x2000) is
    GICV_CTLR. (Found by the noise fuzz: the model answered by the name.)"""
    guest_on(core, ctlr=0b11)
    assert core.read("ICV", 0x000) == 0b11                 # GICV_CTLR
    assert core.read_sysreg("ICV_IAR0_EL1") == 0b11        # by name: the same address
    assert core.read("GICV", 0x128) == 0b110
    assert core.read("GICV", 0x12C) == 0                  # the high half: RES0
    core.write("GICV", 0x128, 1)
    assert core.read_sysreg("ICC_SRE_EL1") == 0b111
    assert core.read("GICV", GICV["IIDR"]) == 0            # no ICV register there
    assert core.read("GICV", GICV["EOIR"]) == 1023         # ICV_HPPIR0_EL1: none pending
    core.write("GICV", 0x128, 0)
    assert core.read("GICV", GICV["IIDR"]) == 0x0002_043B


def test_l1_the_frame_never_consults_ap0r_also_after_a_drop(core):
    """L1: with ICH_AP0R0_EL2 holding bits (the hypervisor's to restore), an
    EOI through the frame drops ICH_AP1R0_EL2's bit and the running priority
    is idle again: GICV_RPR reads 0xFF and a 0x80 interrupt preempts. (Formal
    group v3_legacy_iar found the RTL's drop counting AP0R in the running
    priority.)"""
    guest_on(core, ctlr=0b111)
    core.write_sysreg("ICH_AP0R0_EL2", 1 << 2)         # priority 0x10 active in AP0R
    core.write_sysreg("ICH_LR0_EL2", lr(1, 40, 0x40, grp=1))
    assert core.read("GICV", GICV["RPR"]) == 0xFF        # AP0R is not consulted
    assert core.read("GICV", GICV["IAR"]) == 40
    assert core.read("GICV", GICV["RPR"]) == 0x40
    core.write("GICV", GICV["EOIR"], 40)
    assert core.read("GICV", GICV["RPR"]) == 0xFF
    assert core.read_sysreg("ICH_AP0R0_EL2") == 1 << 2  # kept, untouched
    core.write_sysreg("ICH_LR1_EL2", lr(1, 41, 0x80, grp=1))
    assert core.read("GICV", GICV["IAR"]) == 41
    assert core.read("GICV", GICV["RPR"]) == 0x80


def test_l2_1022_for_group1_without_ackctl_and_aiar_for_group1_only(core):
    """L2: with AckCtl = 0 a Group 1 candidate reads 1022 through GICV_IAR and
    GICV_HPPIR and is acknowledged by GICV_AIAR; a Group 0 one reads 1023
    through GICV_AIAR/AHPPIR."""
    guest_on(core)
    core.write_sysreg("ICH_LR0_EL2", lr(1, 50, 0x80, grp=1))
    assert core.read("GICV", GICV["HPPIR"]) == 1022
    assert core.read("GICV", GICV["IAR"]) == 1022
    assert core.read("GICV", GICV["AHPPIR"]) == 50
    assert core.read("GICV", GICV["AIAR"]) == 50
    core.write_sysreg("ICH_LR1_EL2", lr(1, 51, 0x40, grp=0))
    assert core.read("GICV", GICV["AHPPIR"]) == 1023
    assert core.read("GICV", GICV["AIAR"]) == 1023
    assert core.read("GICV", GICV["IAR"]) == 51


def test_l3_l4_vsgi_source_cpu_returned_and_matched(core):
    """L3: vSGI 3 from CPU 5 reads 0x1403; HW = 1 reads [12:10] as 0. L4: an
    EOIR naming another source CPU matches nothing (the LR stays active,
    EOIcount counts it), the right one deactivates."""
    guest_on(core)
    core.write_sysreg("ICH_LR0_EL2", lr(1, 3, 0x80, cpu=5, eoi=1))
    assert core.read("GICV", GICV["IAR"]) == 0x1403
    core.write("GICV", GICV["EOIR"], 0x0C03)                  # source CPU 3: no match
    assert core.read_sysreg("ICH_LR0_EL2") >> 62 == 0b10
    assert core.read_sysreg("ICH_HCR_EL2") >> 27 == 1
    core.write_sysreg("ICH_AP1R0_EL2", 1 << 16)               # active again at 0x80
    core.write("GICV", GICV["EOIR"], 0x1403)
    assert core.read_sysreg("ICH_LR0_EL2") >> 62 == 0
    assert core.read_sysreg("ICH_EISR_EL2") == 1              # EOI maintenance
    core.write_sysreg("ICH_LR1_EL2", lr(1, 0x1B, 0x80, hw=1, pintid=0x1B, cpu=7))
    assert core.read("GICV", GICV["IAR"]) == 0x1B             # HW = 1: [12:10] read 0
    core.write("GICV", GICV["EOIR"], 0x1B)
    assert core.forwarded[-1:] == [0x1B]


def test_l5_group0_is_vfiq_only_with_vfiqen(core):
    guest_on(core, ctlr=0b01)                                 # Group 0, FIQEn = 0
    core.write_sysreg("ICH_LR0_EL2", lr(1, 60, 0x80, grp=0))
    assert (core.virq, core.vfiq) == (1, 0)
    core.write("GICV", GICV["CTLR"], 0b1001)                  # FIQEn = 1
    assert (core.virq, core.vfiq) == (0, 1)
    assert core.read_sysreg("ICH_VMCR_EL2") & 0x21F == 0b1001 # VFIQEn real (v3 10)


def test_sre_1_switches_to_the_icv_registers(core):
    """v3 10: with SRE = 1 the GICV frame is RAZ/WI and ICV_* answer, with
    the native rules (Group 0 always vFIQ, VMCR's VFIQEn reads 1)."""
    core.write_sysreg("ICC_SRE_EL1", 1)
    assert core.read_sysreg("ICC_SRE_EL1") == 0b111
    core.write_sysreg("ICH_HCR_EL2", 1)
    core.write_sysreg("ICH_VMCR_EL2", 0xF800_0003)
    assert core.read_sysreg("ICH_VMCR_EL2") == 0xF84C_000B
    core.write_sysreg("ICH_LR0_EL2", lr(1, 70, 0x80, grp=1))
    assert core.read("GICV", GICV["IAR"]) == 0                # the frame: RAZ
    assert core.read_sysreg("ICV_IAR1_EL1") == 70
    core.write_sysreg("ICV_EOIR1_EL1", 70)
    assert core.read_sysreg("ICH_LR0_EL2") >> 62 == 0
    core.write_sysreg("ICC_SRE_EL1", 0)                       # back to the GICv2 frame
    core.write_sysreg("ICH_LR1_EL2", lr(1, 71, 0x80, grp=1))
    core.write("GICV", GICV["CTLR"], 0b111)
    assert core.read("GICV", GICV["IAR"]) == 71


@pytest.mark.skipif(not os.environ.get("VGIC_FAST_ALL"), reason="a Verilator build of its own: "
                    "VGIC_FAST_ALL=1 (CI time)")
def test_kvm_run_translated_on_the_verilator_build_back_to_back_through_axi(tmp_path):
    """The generated Verilog (the core behind the AXI4-Lite bridge, in
    Verilator): the translated KVM run issued back to back reads what the
    model reads one access at a time (sim/replay.py Timing)."""
    from vgic.sim import fast
    try:
        fast.verilator_root()
    except fast.FastEngineError as e:
        pytest.skip(str(e))
    from vgic.sim.cli import main
    legacy = tmp_path / "kvm-legacy.jsonl"
    legacy.write_text("\n".join(convert_lines(_lines(KVM), "v2-to-v3legacy")) + "\n")
    assert main(["replay", str(legacy), "--arch", "v3", "--legacy", "--engine", "fast",
                 "--timing", "--bus", "axi4lite", "--compare", "-q",
                 "-o", str(tmp_path / "out.jsonl")]) == 0


def test_vgic_fuzz_legacy_runs_model_against_rtl(capsys):
    """`vgic fuzz --arch v3 --legacy`: GICv2 KVM-like streams, the
    hypervisor's side on ICH_*_EL2, model against the Amaranth RTL."""
    from vgic.sim.cli import main
    assert main(["fuzz", "--arch", "v3", "--legacy", "-n", "600", "--lrs", "1,4",
                 "--profile", "kvm", "-q"]) == 0
    out = capsys.readouterr()
    assert "600 transactions, no divergence" in out.out + out.err and "--legacy" in out.out + out.err


def test_vgic_fuzz_legacy_several_cpus_runs_model_against_rtl(capsys):
    """`vgic fuzz --arch v3 --legacy --cpus 2`: each CPU's GICv2 guest and
    its hypervisor interleaved, some ICH accesses through another CPU's
    view, the GICV frame each requester's own."""
    from vgic.sim.cli import main
    assert main(["fuzz", "--arch", "v3", "--legacy", "--cpus", "2", "-n", "800", "--lrs", "1,4",
                 "-q"]) == 0
    out = capsys.readouterr()
    assert "800 transactions, no divergence" in out.out + out.err and "2 CPUs" in out.out + out.err


def test_vgic_fuzz_legacy_noise_runs_model_against_rtl(capsys):
    """`vgic fuzz --arch v3 --legacy --profile noise`: raw GICv2-frame offsets
    (reserved ones, ICC_SRE_EL1's slot among them) and partial writes, with
    SRE switched now and then: the model answers each address as the RTL."""
    from vgic.sim.cli import main
    assert main(["fuzz", "--arch", "v3", "--legacy", "-n", "1500", "--lrs", "1",
                 "--profile", "noise", "--seed", "12", "-q"]) == 0
    out = capsys.readouterr()
    assert "1,500 transactions, no divergence" in out.out + out.err


def test_open_point_27_1022_before_the_running_priority_test(core):
    """v3 open point 27 (the GICv2 order): with AckCtl = 0 a Group 1
    candidate that cannot preempt still reads 1022 through GICV_IAR, not 1023."""
    guest_on(core)
    core.write_sysreg("ICH_AP1R0_EL2", 1)                      # active at 0x00: nothing preempts
    core.write_sysreg("ICH_LR0_EL2", lr(1, 80, 0x80, grp=1))
    assert core.read("GICV", GICV["IAR"]) == 1022
    core.write_sysreg("ICH_LR0_EL2", lr(1, 81, 0x80, grp=0))
    assert core.read("GICV", GICV["IAR"]) == 1023              # Group 0: the RP test


def test_open_point_28_abpr_is_its_own_storage_while_cbpr(core):
    """v3 open point 28 (the GICv2 rule): GICV_ABPR keeps its own value and
    takes writes while CBPR = 1 (ICV_BPR1_EL1 would read BPR0 + 1)."""
    core.write("GICV", GICV["CTLR"], 1 << 4)                   # CBPR
    core.write("GICV", 0x008, 4)                               # GICV_BPR
    core.write("GICV", 0x01C, 6)                               # GICV_ABPR
    assert core.read("GICV", 0x01C) == 6
    assert (core.read_sysreg("ICH_VMCR_EL2") >> 18) & 7 == 6   # VBPR1


def test_open_point_29_legacy_is_a_parameter_off_by_default():
    """v3 open point 29: without legacy=True there is no GICV frame and no
    ICC_SRE_EL1 (RAZ/WI), and legacy needs 5 priority and preemption bits."""
    native = make_engine("model", 4, arch="v3")
    with pytest.raises(ValueError):
        native.read("GICV", 0x00C)
    assert native.read_sysreg("ICC_SRE_EL1") == 0
    with pytest.raises(ValueError, match="legacy .* needs pri_bits = pre_bits = 5"):
        make_engine("model", 4, arch="v3", legacy=True, pri_bits=8)


def test_l6_vintid_bits_above_12_are_not_the_guests(core):
    """L6: the GICv2 frame carries vINTID[9:0] (and the source CPU); an LR
    naming vINTID 8192 + 5 is read as 5 by GICV_IAR (a hypervisor error the
    guest cannot see as such)."""
    guest_on(core)
    core.write_sysreg("ICH_LR0_EL2", lr(1, 8192 + 5, 0x80, grp=0))
    assert core.read("GICV", GICV["IAR"]) == 5


class _IdleRpr:
    """Mutant models for `vgic fuzz --legacy --save`: the running priority
    reads 0xF8 while idle, through the GICv2 frame (GICV_RPR) or, after the
    VM set SRE, through ICV_RPR_EL1."""

    def __init__(self, frame, offset):
        self.at = (frame, offset)

    def engine(self, name, num_lrs, arch="v2", num_cpus=1, **params):
        from vgic.sim.model import Cluster, VirtualInterface
        at = self.at

        class IdleRpr(VirtualInterface):
            def read(self, frame, offset, **kw):
                value = super().read(frame, offset, **kw)
                return 0xF8 if (frame, offset) == at and value == 0xFF else value
        assert arch == "v3" and params.get("legacy")
        if num_cpus == 1:
            return IdleRpr(num_lrs, arch="v3", **params)
        cluster = Cluster(num_lrs, num_cpus, arch="v3", **params)
        cluster.cpus = [IdleRpr(num_lrs, arch="v3", **params) for _ in range(num_cpus)]
        return cluster


@pytest.mark.parametrize("reg,frame,offset,cpus", [("GICV_RPR", "GICV", 0x014, 1),
                                                   ("ICV_RPR_EL1", "ICV", 0x0D8, 1),
                                                   ("GICV_RPR", "GICV", 0x014, 2)])
def test_vgic_fuzz_legacy_save_writes_a_legacy_trace_that_reproduces(monkeypatch, tmp_path,
                                                                     capsys, reg, frame, offset,
                                                                     cpus):
    """`vgic fuzz --arch v3 --legacy --save`: the trace names the guest's
    GICV_* accesses, the ICH_*_EL2 ones, ICC_SRE_EL1 and the ICV_* ones the
    VM makes while SRE = 1 (with several CPUs, each access's `cpu`); `vgic
    replay --arch v3 --legacy` reads it, and it reproduces the divergence."""
    from vgic.sim import fuzz
    from vgic.sim.cli import main
    from vgic.sim.trace import read_trace
    monkeypatch.setattr(fuzz, "make_engine", _IdleRpr(frame, offset).engine)
    out = tmp_path / "div.jsonl"
    assert main(["fuzz", "--arch", "v3", "--legacy", "-n", "20000", "--lrs", "4",
                 "--engine", "model", "--profile", "kvm", "-q", "--save", str(out),
                 "--cpus", str(cpus)]) == 1
    err = capsys.readouterr().err
    assert "DIVERGENCE at transaction #" in err and reg in err
    cpus_flag = f" --cpus {cpus}" if cpus > 1 else ""
    assert f"vgic replay {out} --lrs 4{cpus_flag} --arch v3" in err and "--legacy" in err
    assert "0 accesses left out" in err
    assert "the saved trace reproduces the divergence" in err
    saved = read_trace(str(out), arch="v3-legacy", num_cpus=cpus)
    assert {t.cpu for t in saved if t.op != "reset"} == set(range(cpus))
    names = {t.reg for t in saved if t.op != "reset"}
    assert saved[-1].op == "read" and saved[-1].reg == reg
    assert "GICV_CTLR" in names and any(n.startswith("ICH_LR") for n in names)
    if frame == "ICV":
        assert "ICC_SRE_EL1" in names
