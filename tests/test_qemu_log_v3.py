"""`vgic import qemu` (sim/qemu_log.py) on QEMU 7.2 GICv3 logs: told from
GICv2 logs by their events. The recorded KVM vgic-v3 run must become exactly
its trace; small logs written here check each rule and each error."""
import contextlib
import gzip
import io
import json
import pathlib
import random
import re

import pytest

from vgic.sim.cli import main
from cli_run import run

DATA = pathlib.Path(__file__).resolve().parent / "data" / "kvm3"
SAMPLE_LOG = DATA / "qemu-gicv3-linux_2vcpu.log.gz"
SAMPLE_TRACE = DATA / "kvm3_linux_2vcpu.jsonl.gz"


def ev(name, message):
    return f"{name} GICv3 {message}\n"


def reg(name, what, value, cpu="0x0"):
    """An ICH/ICV/ICC access line: reg("icv_iar_read", "ICV_IAR1", 0x21)."""
    op = name.rsplit("_", 1)[1]
    return ev(f"gicv3_{name}", f"{what} {op} cpu {cpu} value {value:#x}")


def lines(fiq, irq, maint=None, cpu="0x0"):
    """One recomputation of the virtual lines, as QEMU 7.2 logs it: vIRQ/vFIQ
    only (maint None: an exception level change, an ICH_AP write, ...) or all three."""
    text = (ev("gicv3_cpuif_virt_update", f"CPU i/f {cpu} virt HPPI update LR index 0 "
                                          "HPPVLPI 0 grp 0 prio 255") +
            ev("gicv3_cpuif_virt_set_irqs", f"CPU i/f {cpu} virt HPPI update: setting "
                                            f"FIQ {fiq} IRQ {irq}"))
    if maint is not None:
        text += ev("gicv3_cpuif_virt_set_maint_irq", f"CPU i/f {cpu} virt HPPI update: "
                                                     f"setting maintenance-irq {maint}")
    return text


# One guest interrupt under KVM: LR0 filled and the interface turned on (each
# write recomputes all three lines), the APRs restored (vIRQ/vFIQ only), an
# exception level change (vIRQ/vFIQ, of no access), the guest acknowledges
# (the IAR read is traced, then recomputes) and ends it (an EOI maintenance
# interrupt), KVM reads VMCR and an exception level change follows, an EOIR of
# 1023 (QEMU returns before recomputing; the next recomputation is an
# exception level change's).
BASIC = (
    reg("ich_vtr_read", "ICH_VTR", 0x90B80003) +
    reg("ich_lr_write", "ICH_LR0_EL2", 0x50A0000000000021) + lines(0, 0, 0) +
    reg("ich_hcr_write", "ICH_HCR_EL2", 0x1) + lines(0, 1, 0) +
    reg("ich_ap_write", "ICH_AP1R0", 0x0) + lines(0, 1) +
    lines(0, 1) +
    reg("icv_iar_read", "ICV_IAR1", 0x21) + lines(0, 0, 0) +
    reg("icv_eoir_write", "ICV_EOIR1", 0x21) + lines(0, 0, 1) +
    reg("ich_vmcr_read", "ICH_VMCR_EL2", 0x4C0008) + lines(0, 0) +
    reg("icv_eoir_write", "ICV_EOIR1", 0x3FF) + lines(0, 0) +
    reg("ich_misr_read", "ICH_MISR", 0x1))


def imported(tmp_path, capsys, text, *options):
    """Import `text`; (exit status, transactions, stderr)."""
    log, out = tmp_path / "run.log", tmp_path / "out.jsonl"
    log.write_text(text)
    code, _, err = run(capsys, "import", "qemu", log, "-o", out, "-q", *options)
    ts = [json.loads(l) for l in out.read_text().splitlines()] if out.exists() else []
    return code, [t for t in ts if "op" in t], err


def transactions(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        return [json.loads(l) for l in f if '"op"' in l]


def levels(t):
    return tuple(t.get(k) for k in ("virq", "vfiq", "maint"))


# -- the recorded run -----------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_import(tmp_path_factory):
    """(the imported trace, the summary on stderr)"""
    out = tmp_path_factory.mktemp("sample3") / "kvm3.jsonl"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["import", "qemu", str(SAMPLE_LOG), "-o", str(out), "-q"]) == 0
    return out, err.getvalue()


def test_sample_log_gives_the_sample_trace(sample_import):
    """Every field of every transaction (but the scenario, the file's name)."""
    ours, theirs = transactions(sample_import[0]), transactions(SAMPLE_TRACE)
    assert len(ours) == len(theirs) == 105003
    strip = lambda ts: [{k: v for k, v in t.items() if k != "scenario"} for t in ts]  # noqa: E731
    assert strip(ours) == strip(theirs)
    assert sum("virq" in t for t in ours) == 59146 and sum("maint" in t for t in ours) == 46152


def test_sample_title_and_summary(sample_import):
    out, err = sample_import
    first = json.loads(out.read_text().splitlines()[0])
    assert first["scenario"] == "qemu-gicv3-linux_2vcpu" and "op" not in first
    assert "qemu-gicv3-linux_2vcpu.log.gz" in first["title"]
    assert "a GICv3 log: 105,003 ICH/ICV transactions" in err
    assert "59,146 with line levels" in err and "from 777,093 lines" in err
    assert "physical accesses left out: 28,040" in err
    assert "6,519 GICR write" in err and "10,630 ICC write" in err and "329 GICD write" in err
    assert "exception level changes): 239,803" in err
    assert "lines skipped: 0" in err and "warning" not in err and "note" not in err


# -- the rules, on small logs ---------------------------------------------------------

def test_levels_only_from_the_accesses_own_recomputation(capsys, tmp_path):
    code, ts, err = imported(tmp_path, capsys, BASIC)
    assert code == 0, err
    got = [(t["op"], t["reg"], t["value"], *levels(t)) for t in ts]
    assert got == [
        ("read", "ICH_VTR_EL2", 0x90B80003, None, None, None),     # reads: never
        ("write", "ICH_LR0_EL2", 0x50A0000000000021, 0, 0, 0),      # all three lines
        ("write", "ICH_HCR_EL2", 1, 1, 0, 0),                       # vIRQ raised
        ("write", "ICH_AP1R0_EL2", 0, 1, 0, None),                  # vIRQ/vFIQ only
        ("read", "ICV_IAR1_EL1", 0x21, 0, 0, 0),                    # traced, then recomputed
        ("write", "ICV_EOIR1_EL1", 0x21, 0, 0, 1),                  # EOI maintenance
        ("read", "ICH_VMCR_EL2", 0x4C0008, None, None, None),       # not the EL change's
        ("write", "ICV_EOIR1_EL1", 0x3FF, None, None, None),        # QEMU did not recompute
        ("read", "ICH_MISR_EL2", 1, None, None, None),
    ]
    assert [t["seq"] for t in ts] == list(range(9))
    assert ts[1]["hex"] == "0x50a0000000000021" and ts[4]["hex"] == "0x0000000000000021"
    assert list(ts[1]) == ["scenario", "seq", "op", "reg", "value", "hex", "virq", "vfiq", "maint"]
    assert all(t["scenario"] == "run" for t in ts)
    assert "a GICv3 log: 9 ICH/ICV transactions" in err and "5 with line levels" in err
    assert "exception level changes): 3" in err and "warning" not in err


def test_register_names(capsys, tmp_path):
    """QEMU's names in the messages become the architectural ones."""
    text = "".join(reg(*a) for a in [
        ("ich_ap_read", "ICH_AP0R3", 0), ("ich_lr_read", "ICH_LR15_EL2", 0),
        ("ich_eisr_read", "ICH_EISR", 0), ("ich_elrsr_read", "ICH_ELRSR", 0xF),
        ("ich_hcr_read", "ICH_HCR_EL2", 1), ("icv_iar_read", "ICV_IAR0", 0x3FF),
        ("icv_hppir_read", "ICV_HPPIR1", 0x3FF), ("icv_rpr_read", "ICV_RPR", 0xFF),
        ("icv_igrpen_read", "ICV_IGRPEN0", 0), ("icv_igrpen_write", "ICV_IGRPEN1", 1),
        ("icv_bpr_read", "ICV_BPR0", 2), ("icv_ap_read", "ICV_AP1R1", 0),
        ("icv_ctlr_read", "ICV_CTLR", 0), ("icv_pmr_write", "ICV_PMR", 0xF0),
        ("icv_dir_write", "ICV_DIR", 0x21), ("icv_eoir_write", "ICV_EOIR0", 0x20)])
    code, ts, err = imported(tmp_path, capsys, text)
    assert code == 0, err
    assert [t["reg"] for t in ts] == [
        "ICH_AP0R3_EL2", "ICH_LR15_EL2", "ICH_EISR_EL2", "ICH_ELRSR_EL2", "ICH_HCR_EL2",
        "ICV_IAR0_EL1", "ICV_HPPIR1_EL1", "ICV_RPR_EL1", "ICV_IGRPEN0_EL1", "ICV_IGRPEN1_EL1",
        "ICV_BPR0_EL1", "ICV_AP1R1_EL1", "ICV_CTLR_EL1", "ICV_PMR_EL1", "ICV_DIR_EL1",
        "ICV_EOIR0_EL1"]
    assert not any("virq" in t for t in ts)            # no recomputation in this log
    assert "note: no gicv3_cpuif_virt_set_irqs events, so no line levels" in err


def test_a_bpr1_write_while_vcbpr_recomputes_nothing(capsys, tmp_path):
    """QEMU ignores ICV_BPR1 writes while ICH_VMCR_EL2.VCBPR = 1 (set by a VMCR
    write or ICV_CTLR.CBPR): the vIRQ/vFIQ recomputation after it is an
    exception level change's."""
    code, ts, err = imported(tmp_path, capsys,
                             reg("icv_bpr_write", "ICV_BPR1", 3) + lines(0, 1) +
                             reg("icv_ctlr_write", "ICV_CTLR", 0x1) + lines(0, 1) +
                             reg("icv_bpr_write", "ICV_BPR1", 3) + lines(0, 1) +
                             reg("icv_bpr_write", "ICV_BPR0", 3) + lines(0, 1) +
                             reg("ich_vmcr_write", "ICH_VMCR_EL2", 0x0) + lines(0, 1, 0) +
                             reg("icv_bpr_write", "ICV_BPR1", 3) + lines(0, 1))
    assert code == 0, err
    assert [(t["reg"], t.get("virq")) for t in ts] == [
        ("ICV_BPR1_EL1", 1), ("ICV_CTLR_EL1", 1), ("ICV_BPR1_EL1", None), ("ICV_BPR0_EL1", 1),
        ("ICH_VMCR_EL2", 1), ("ICV_BPR1_EL1", 1)]


def test_physical_events_are_left_out_and_counted(capsys, tmp_path):
    physical = (
        ev("gicv3_dist_read", "distributor read: offset 0x4 data 0x37a0007 size 4 secure 0") +
        ev("gicv3_dist_write", "distributor write: offset 0x0 data 0x12 size 4 secure 0") +
        ev("gicv3_dist_badread", "distributor read: offset 0xfff0 size 4 secure 0: error") +
        ev("gicv3_redist_read", "redistributor 0x0 read: offset 0x8 data 0x1000011 size 8 "
                                "secure 0") +
        ev("gicv3_redist_write", "redistributor 0x1 write: offset 0x10080 data 0xffffffff "
                                 "size 4 secure 0") +
        reg("icc_iar1_read", "ICC_IAR1", 0x1B) + reg("icc_eoir_write", "ICC_EOIR1", 0x1B) +
        reg("icc_dir_write", "ICC_DIR", 0x1B) + reg("icc_ap_write", "ICC_AP0R0", 0) +
        ev("gicv3_icc_generate_sgi", "CPU i/f 0x0 generating SGI 1 IRM 0 target affinity "
                                     "0x0xx targetlist 0x2") +
        ev("gicv3_cpuif_update", "CPU i/f 0x0 HPPI update: irq 27 group 2 prio 160") +
        ev("gicv3_cpuif_set_irqs", "CPU i/f 0x0 HPPI update: setting FIQ 0 IRQ 1") +
        ev("gicv3_redist_set_irq", "redistributor 0x0 interrupt 25 level changed to 1") +
        ev("gicv3_dist_set_irq", "distributor interrupt 33 level changed to 1") +
        ev("gicv3_redist_send_sgi", "redistributor 0x1 pending SGI 1"))
    code, ts, err = imported(tmp_path, capsys, BASIC + physical + BASIC)
    assert code == 0, err
    assert len(ts) == 18
    assert ("physical accesses left out: 9 (2 GICD read, 1 GICD write, 1 GICR read, "
            "1 GICR write, 1 ICC read, 3 ICC write)") in err
    assert "1 gicv3_icc_generate_sgi" in err and "1 gicv3_redist_send_sgi" in err


def test_a_physical_access_ends_the_wait_for_a_recomputation(capsys, tmp_path):
    code, ts, err = imported(tmp_path, capsys,
                             reg("ich_hcr_write", "ICH_HCR_EL2", 1) +
                             reg("icc_pmr_write", "ICC_PMR", 0xF0) + lines(0, 1, 0))
    assert code == 0 and "virq" not in ts[0]
    assert "warning: 1 recomputation(s) of the virtual lines belong to no ICH/ICV access" in err


def test_pid_time_prefix_is_accepted(capsys, tmp_path):
    prefixed = "".join(f"4242@1700000000.{i:06d}:{line}\n"
                       for i, line in enumerate(BASIC.splitlines()))
    _, plain, _ = imported(tmp_path, capsys, BASIC)
    code, ts, err = imported(tmp_path, capsys, prefixed)
    assert code == 0, err
    assert ts == plain


# -- bad input ------------------------------------------------------------------------

BAD = [
    ("gicv3_ich_lr_write GICv3 ICH_LR0_EL2 write cpu 0x0 value", "cannot read its message"),
    ("gicv3_ich_lr_write GICv3 ICH_LR16_EL2 write cpu 0x0 value 0x0", "cannot read its message"),
    ("gicv3_icv_iar_read GICv3 ICV_IAR1 read cpu 0x0 value 0x10000000000000000",
     "cannot read its message"),
    ("gicv3_cpuif_virt_set_irqs GICv3 CPU i/f 0x0 virt HPPI update: setting FIQ 0",
     "cannot read its message"),
    ("gicv3_redist_write GICv3 redistributor 0x0 write: offset 0x80 data", "cannot read"),
    ("gicv3_ich_hcr_write", "truncated line: gicv3_ich_hcr_write without its message"),
    ("gicv3_icv_eoir_wr", "truncated line"),
    ("gicv3_its_read GICv3 ITS read: offset 0x8 data 0x0 size 8", "unknown event 'gicv3_its_read'"),
    ("gicv3_ich_lrc_write GICv3 ICH_LRC0 write cpu 0x0 value 0x50a00000",
     "an AArch32 hypervisor's access to half of a list register"),
]


@pytest.mark.parametrize("line, message", BAD)
def test_bad_line_stops_with_file_line_and_no_output(capsys, tmp_path, line, message):
    n = BASIC.count("\n")
    log, out = tmp_path / "bad.log", tmp_path / "out.jsonl"
    log.write_text(BASIC + line + "\n" + BASIC)
    code, _, err = run(capsys, "import", "qemu", log, "-o", out, "-q")
    assert code == 2
    assert f"{log}:{n + 1}: " in err and message in err
    assert not out.exists()


@pytest.mark.parametrize("first, second", [
    (BASIC, "gic_hyp_write hyp write at 0x00000000: 0x00000001\n"),
    ("gic_cpu_read vcpu 0 iface read at 0x0000000c: 0x000003ff\n", BASIC),
    ("gic_dist_write dist write at 0x00000000 size 4: 0x00000001\n", BASIC),
], ids=["v3-then-GICH", "GICV-then-v3", "GICD-then-v3"])
def test_a_log_mixing_gicv2_and_gicv3_events_is_an_error(capsys, tmp_path, first, second):
    n = first.count("\n")
    code, _, err = imported(tmp_path, capsys, first + second, "--skip-unknown")
    assert code == 2
    assert f"run.log:{n + 1}: " in err and "mixing QEMU's GICv2 and GICv3 events" in err
    assert "its first GICv" in err and "event is on line 1" in err


def test_nmi_acknowledges_of_newer_qemus(capsys, tmp_path):
    """QEMU 9.1's FEAT_GICv3_NMI events: the host's ICC_NMIAR1 read is a
    physical access like the others; a guest's ICV_NMIAR1 read stops the
    import (an acknowledge the model does not have)."""
    code, ts, err = imported(tmp_path, capsys, BASIC + reg("icc_nmiar1_read", "ICC_NMIAR1",
                                                            0x3FF))
    assert code == 0 and len(ts) == 9 and "ICC read" in err
    n = BASIC.count("\n")
    code, _, err = imported(tmp_path, capsys, BASIC + reg("icv_nmiar1_read", "ICV_NMIAR1", 0x21))
    assert code == 2 and f":{n + 1}: gicv3_icv_nmiar1_read: a guest's ICV_NMIAR1_EL1 read" in err


# -- several CPUs ---------------------------------------------------------------------

def test_each_access_gets_its_cpu_and_only_its_own_cpus_recomputation(capsys, tmp_path):
    """CPU 1's events between CPU 0's: CPU n > 0's accesses carry `cpu`; an
    exception level change of CPU 1 right after CPU 0's ICH_AP write is not
    that write's; ICH_VMCR_EL2.VCBPR is followed per CPU."""
    one, seven = {"cpu": "0x1"}, {"cpu": "0x7"}
    text = (reg("ich_lr_write", "ICH_LR0_EL2", 0x50A0000000000021) + lines(0, 0, 0) +
            reg("ich_lr_write", "ICH_LR0_EL2", 0x50A0000000000022, **one) + lines(0, 1, 0, **one) +
            reg("ich_ap_write", "ICH_AP1R0", 0) + lines(0, 1, **one) +
            reg("ich_vmcr_write", "ICH_VMCR_EL2", 0x10, **one) + lines(0, 1, 1, **one) +
            reg("icv_bpr_write", "ICV_BPR1", 3) + lines(1, 0) +
            reg("icv_bpr_write", "ICV_BPR1", 3, **one) + lines(1, 1, **one) +
            reg("ich_misr_read", "ICH_MISR", 0, **seven))
    code, ts, err = imported(tmp_path, capsys, text)
    assert code == 0, err
    assert [(t["seq"], t.get("cpu"), t["reg"], levels(t)) for t in ts] == [
        (0, None, "ICH_LR0_EL2", (0, 0, 0)),
        (1, 1, "ICH_LR0_EL2", (1, 0, 0)),
        (2, None, "ICH_AP1R0_EL2", (None, None, None)),     # CPU 1's change is not its
        (3, 1, "ICH_VMCR_EL2", (1, 0, 1)),
        (4, None, "ICV_BPR1_EL1", (0, 1, None)),            # CPU 0: VCBPR = 0
        (5, 1, "ICV_BPR1_EL1", (None, None, None)),         # CPU 1: VCBPR = 1, ignored
        (6, 7, "ICH_MISR_EL2", (None, None, None)),
    ]
    assert "CPUs 0, 1, 7 (each transaction's `cpu`): replay with --cpus 8" in err
    assert "exception level changes): 2" in err


def test_a_cpu_affinity_above_7_is_an_error(capsys, tmp_path):
    n = BASIC.count("\n")
    code, _, err = imported(tmp_path, capsys, BASIC + lines(0, 0, cpu="0x100"))
    assert code == 2 and f":{n + 1}: CPU affinity 0x100: the importer takes affinity n" in err
    code, _, err = imported(tmp_path, capsys, BASIC + reg("ich_hcr_read", "ICH_HCR_EL2", 0,
                                                           cpu="0x8"))
    assert code == 2 and f":{n + 1}: CPU affinity 0x8" in err


def _sections(text_lines):
    """The log cut before each access line (ICH/ICV/ICC, GICD, GICR): under
    QEMU's global lock nothing of another CPU comes inside one piece."""
    access = re.compile(r"gicv3_(ich|icv|icc|dist|redist)_\w*(read|write) ")
    cuts = [i for i, line in enumerate(text_lines) if access.match(line)]
    return [text_lines[a:b] for a, b in zip([0] + cuts, cuts + [len(text_lines)]) if b > a]


def test_two_cpus_interleaved_import_as_each_alone(capsys, tmp_path):
    """The recorded run's first 200,000 lines as CPU 0 and, relabelled, as CPU
    1, interleaved piece by piece in random runs: each CPU's transactions are
    those of the one-CPU import, with their levels."""
    with gzip.open(SAMPLE_LOG, "rt") as f:
        head = [next(f) for _ in range(200_000)]
    alone_code, alone, _ = imported(tmp_path, capsys, "".join(head))
    assert alone_code == 0 and len(alone) > 10_000
    a = _sections(head)
    b = [[line.replace("cpu 0x0 ", "cpu 0x1 ").replace("CPU i/f 0x0 ", "CPU i/f 0x1 ")
          for line in piece] for piece in a]
    rng, mixed, i, j = random.Random(5), [], 0, 0
    while i < len(a) or j < len(b):
        take = rng.randint(1, 40)
        if rng.random() < 0.5 and i < len(a) or j == len(b):
            mixed += a[i:i + take]; i += take                     # noqa: E702
        else:
            mixed += b[j:j + take]; j += take                     # noqa: E702
    code, ts, err = imported(tmp_path, capsys, "".join(line for piece in mixed for line in piece))
    assert code == 0, err
    assert [t["seq"] for t in ts] == list(range(2 * len(alone)))
    strip = lambda t: {k: v for k, v in t.items() if k not in ("seq", "cpu")}   # noqa: E731
    want = [strip(t) for t in alone]
    assert [strip(t) for t in ts if "cpu" not in t] == want
    assert [strip(t) for t in ts if t.get("cpu") == 1] == want
    assert "CPUs 0, 1 (each transaction's `cpu`): replay with --cpus 2" in err
    # and the two-CPU model answers each CPU as QEMU did
    code, _, err = run(capsys, "replay", "--arch", "v3", "--cpus", "2", "--compare", "-q",
                       tmp_path / "out.jsonl", "-o", tmp_path / "replayed.jsonl")
    assert code == 0 and ", 0 difference(s)" in err


def test_a_log_without_ich_icv_accesses_is_an_error(capsys, tmp_path):
    code, _, err = imported(tmp_path, capsys, reg("icc_pmr_write", "ICC_PMR", 0xF0))
    assert code == 2 and "no ICH or ICV access in the log" in err
    assert not (tmp_path / "out.jsonl").exists()
