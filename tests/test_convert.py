"""`vgic convert` (sim/convert.py): a GICv2 trace and its GICv3 legacy-operation
twin. Expected values are worked out by hand from the register layouts
(GICH_LR: HW[31] Grp1[30] State[29:28] Priority[27:23] PhysicalID[19:10] or
EOI[19] CPUID[12:10], VirtualID[9:0]; ICH_LR<n>_EL2: State[63:62] HW[61]
Group[60] Priority[55:48] pINTID[44:32] or EOI[41], vINTID[31:0]), not from
the converter's field tables."""
import gzip
import json
import pathlib

import pytest

from vgic.sim.cli import main
from vgic.sim.convert import (V2_TO_V3, V3_TO_V2, Converter, Unrepresentable, convert_lines,
                              v2_to_v3, v3_to_v2)
from vgic.sim.trace import ARCHS, TraceError, parse_lines

DATA = pathlib.Path(__file__).resolve().parent / "data"
SCENARIOS = sorted((DATA / "qemu-7.2").glob("scenario_*.jsonl"))
KVM = DATA / "kvm" / "kvm_linux_1vcpu.jsonl.gz"
LEGACY = "v3-legacy" if "v3-legacy" in ARCHS else None


def _lines(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def _convert(lines, direction):
    return list(convert_lines(lines, direction))


def _one(direction, line):
    """The output of a one-line trace."""
    return json.loads(_convert([json.dumps(line)], direction)[0])


def _key(t):
    """What a transaction is, for the replay: everything but its line number."""
    return (t.seq, t.op, t.reg, t.frame, t.offset, t.value, t.strb, t.skipped,
            sorted(t.recorded.items()), t.cpu, t.gich_cpu)


def _legacy_transactions(lines):
    """A legacy trace as the replay reads it (`vgic replay --arch v3 --legacy`)."""
    if LEGACY:
        return parse_lines(lines, "<legacy>", num_cpus=8, arch=LEGACY)
    return [t for t in (parse_lines([ln], "<legacy>", num_cpus=8, arch=(
        "v3" if '"ICH_' in ln else "v2")) for ln in lines) for t in t]


# -- literal values of each mapping ------------------------------------------------

@pytest.mark.parametrize("name, v2, name3, v3", [
    # pending, Group 0, priority 0xA0 (field 0x14), vID 42 (QEMU scenario b's LR)
    ("LR0", 0x1A00_002A, "ICH_LR0_EL2", 0x40A0_0000_0000_002A),
    # active, Group 1, priority 0xA0, vID 42
    ("LR1", 0x6A00_002A, "ICH_LR1_EL2", 0x90A0_0000_0000_002A),
    # pending + active, Group 1, priority 0xF8 (field 0x1F), vID 1019, EOI
    ("LR3", 0x7F88_03FB, "ICH_LR3_EL2", 0xD0F8_0200_0000_03FB),
    # HW = 1: pending Group 1 timer PPI 27 backed by pINTID 27, priority 0
    ("LR2", 0xD000_6C1B, "ICH_LR2_EL2", 0x7000_001B_0000_001B),
    # HW = 1, pending Group 0, priority 0xF8 (field 0x1F), pINTID 1019 for vID 40
    ("LR15", 0x9F8F_EC28, "ICH_LR15_EL2", 0x60F8_03FB_0000_0028),
    # vSGI 3 from CPU 5, pending Group 0, priority 0x80, EOI: source CPU in vINTID [12:10]
    ("LR0", 0x1808_1403, "ICH_LR0_EL2", 0x4080_0200_0000_1403),
    # an invalid LR keeps its other fields
    ("LR0", 0x0A00_002A, "ICH_LR0_EL2", 0x00A0_0000_0000_002A),
    ("HCR", 0, "ICH_HCR_EL2", 0),
    ("HCR", 0x0800_0003, "ICH_HCR_EL2", 0x0800_0003),          # EOICount 1, UIE, En
    ("HCR", 0xF800_00FF, "ICH_HCR_EL2", 0xF800_00FF),          # every GICv2 field
    ("VMCR", 0, "ICH_VMCR_EL2", 0),
    ("VMCR", 0x004C_0000, "ICH_VMCR_EL2", 0x004C_0000),        # GICv2 reset: VMBP 2, VMABP 3
    # VMPriMask 0x1E (PMR 0xF0), VMBP 3, VMABP 4, VEM, VMGrp1En
    ("VMCR", 0xF070_0202, "ICH_VMCR_EL2", 0xF070_0202),
    # VMPriMask 0x01 = PMR 0x08: VPMR 0x08 at [31:24]; VMAckCtl, VMFIQEn, VMCBPR, VMGrp0En
    ("VMCR", 0x0800_001D, "ICH_VMCR_EL2", 0x0800_001D),
    ("APR", 0x0010_0000, "ICH_AP1R0_EL2", 0x0010_0000),
    ("APR", 0xFFFF_FFFF, "ICH_AP1R0_EL2", 0xFFFF_FFFF),
    ("MISR", 0xFF, "ICH_MISR_EL2", 0xFF),
    ("EISR0", 0x8001, "ICH_EISR_EL2", 0x8001),
    ("ELRSR0", 0xE, "ICH_ELRSR_EL2", 0xE),
])
def test_register_mapping_both_ways(name, v2, name3, v3):
    assert v2_to_v3(name, v2) == (name3, v3, 0)
    short = name3.removeprefix("ICH_").removesuffix("_EL2")
    assert v3_to_v2(short, v3) == (f"GICH_{name}", v2, 0)


def test_vmcr_priority_mask_is_vpmr_shifted_by_three():
    """VMPriMask [31:27] holds priority bits [7:3]; VPMR [31:24] the whole byte."""
    for mask5 in range(32):
        _, v3, _ = v2_to_v3("VMCR", mask5 << 27)
        assert v3 == (mask5 << 3) << 24


@pytest.mark.parametrize("name, value, words", [
    ("VMCR", 0xF400_0000, "VPMR = 0xf4 has bits [2:0] set"),          # priority 0xF4
    ("LR0", 0x40A4_0000_0000_002A, "Priority = 0xa4 has bits [2:0] set"),
    ("LR0", 0x70A0_0400_0000_002A, "a pINTID of 1024 or more"),        # HW = 1, pINTID 1024
    ("LR0", 0x70A0_001B_0000_042A, "vINTID of 1024 or more with HW = 1"),
    ("LR0", 0x40A0_0000_0000_202A, "vINTID of 8192 or more"),          # HW = 0, vINTID 0x202A
    ("LR0", 0x48A0_0000_0000_002A, "NMI"),
    ("HCR", 0x0000_0401, "TC = 0x1: a trap control"),                 # KVM's trap runs
    ("HCR", 0x0000_1C01, "a trap control"),
    ("HCR", 0x0000_4001, "TDIR"),
])
def test_v3_values_gicv2_cannot_hold_are_errors(name, value, words):
    with pytest.raises(Unrepresentable, match=words.replace("(", r"\(").replace("[", r"\[")):
        v3_to_v2(name, value)


def test_bits_lrs_above_15_have_no_gicv3_form():
    with pytest.raises(Unrepresentable, match="at most 16 list registers"):
        v2_to_v3("ELRSR0", 0x1_000F)
    with pytest.raises(Unrepresentable, match="no ICH_"):
        v2_to_v3("LR16", 0)


def test_reserved_bits_are_reported_not_translated():
    # GICH_HCR [26:8] is reserved in GICv2; bit 10 would be ICH_HCR_EL2.TC
    assert v2_to_v3("HCR", 0x0000_0401) == ("ICH_HCR_EL2", 0x1, 0x400)
    # GICH_LR [22:20] reserved; with HW = 0 also [18:13]
    assert v2_to_v3("LR0", 0x1A70_002A) == ("ICH_LR0_EL2", 0x40A0_0000_0000_002A, 0x0070_0000)
    assert v2_to_v3("LR0", 0x1A00_202A) == ("ICH_LR0_EL2", 0x40A0_0000_0000_002A, 0x2000)
    # ICH_LR with HW = 0: pINTID [40:32] is RES0 (only EOI, bit 41, means something)
    assert v3_to_v2("LR0", 0x40A0_0001_0000_002A) == ("GICH_LR0", 0x1A00_002A, 1 << 32)
    # ICH_AP1R0_EL2 [63:32] RES0
    assert v3_to_v2("AP1R0", 1 << 40 | 1) == ("GICH_APR", 1, 1 << 40)


# -- lines ----------------------------------------------------------------------------

def test_lr_write_line_is_translated_levels_and_note_kept():
    line = {"scenario": "b", "seq": 1, "op": "write", "reg": "GICH_LR0", "addr": "0x08030100",
            "value": 436207658, "hex": "0x1a00002a", "virq": 0, "vfiq": 0, "maint": 0,
            "note": "pending, prio 0xA0, vID 42, Grp0"}
    assert _one(V2_TO_V3, line) == {
        "scenario": "b-v3legacy", "seq": 1, "op": "write", "reg": "ICH_LR0_EL2",
        "value": 0x40A0_0000_0000_002A, "hex": "0x40a000000000002a", "virq": 0, "vfiq": 0,
        "maint": 0, "note": "pending, prio 0xA0, vID 42, Grp0"}


def test_gicv_line_is_unchanged_but_named_by_reg():
    line = {"seq": 5, "op": "read", "addr": "0x0804000c", "value": 42, "virq": 0, "cpu": 0}
    assert _one(V2_TO_V3, line) == {"seq": 5, "op": "read", "reg": "GICV_IAR", "value": 42,
                                    "virq": 0, "cpu": 0}
    line = {"seq": 6, "op": "write", "reg": "GICV_EOIR", "value": "0x2a", "deactivate": [27]}
    assert _one(V2_TO_V3, line) == {**line, "value": "0x2a"}


def test_several_cpus_are_carried_over():
    line = {"seq": 0, "op": "write", "reg": "GICH_HCR", "value": 1, "cpu": 1, "gich_cpu": 3}
    out = _one(V2_TO_V3, line)
    assert (out["reg"], out["cpu"], out["gich_cpu"]) == ("ICH_HCR_EL2", 1, 3)
    assert _one(V3_TO_V2, out) == line


def test_vtr_read_keeps_no_value_and_says_so():
    line = {"seq": 0, "op": "read", "reg": "GICH_VTR", "value": 0x9000_0003, "maint": 0}
    out = _one(V2_TO_V3, line)
    assert out["reg"] == "ICH_VTR_EL2" and "value" not in out and out["maint"] == 0
    assert out["note"].startswith("vgic convert: GICH_VTR read 0x90000003")
    assert _one(V3_TO_V2, out)["value"] == 0x9000_0003            # back: restored
    # a legacy recording's VTR read, converted to GICv2: no value either
    out = _one(V3_TO_V2, {"seq": 0, "op": "read", "reg": "ICH_VTR_EL2", "value": 0x90B8_0003})
    assert out["reg"] == "GICH_VTR" and "value" not in out and "ICH_VTR_EL2 read" in out["note"]


def test_eisr1_elrsr1_reads_become_note_lines_restored_on_the_way_back():
    line = {"scenario": "a", "seq": 6, "op": "read", "reg": "GICH_EISR1", "value": 0}
    out = _one(V2_TO_V3, line)
    assert "op" not in out and out["seq"] == 6 and out["v2_line"] == line
    assert out["scenario"] == "a-v3legacy" and "LRs 32-63" in out["note"]
    assert _one(V3_TO_V2, out) == line


def test_written_reserved_bits_are_left_out_noted_and_restored():
    line = {"seq": 3, "op": "write", "reg": "GICH_HCR", "value": 0x0000_0401}
    out = _one(V2_TO_V3, line)
    assert (out["value"], out["v2_value"]) == (1, 0x401) and "bits 0x400" in out["note"]
    assert _one(V3_TO_V2, out) == line


def test_legacy_only_accesses_become_note_lines():
    lines = [{"seq": 0, "op": "write", "reg": "ICC_SRE_EL1", "value": 0},
             {"seq": 1, "op": "write", "reg": "ICH_AP0R0_EL2", "value": 0},
             {"seq": 2, "op": "read", "reg": "ICH_AP1R1_EL2", "value": 0},
             {"seq": 3, "op": "write", "reg": "ICH_AP1R0_EL2", "value": 0x10_0000}]
    out = [json.loads(x) for x in _convert([json.dumps(x) for x in lines], V3_TO_V2)]
    assert [o.get("v3legacy_line") for o in out[:3]] == lines[:3]
    assert out[3] == {"seq": 3, "op": "write", "reg": "GICH_APR", "value": 0x10_0000}
    back = [json.loads(x) for x in _convert([json.dumps(x) for x in out], V2_TO_V3)]
    assert back == lines


@pytest.mark.parametrize("direction, line, words", [
    (V2_TO_V3, {"op": "write", "reg": "GICH_LR16", "value": 0}, "at most 16 list registers"),
    (V2_TO_V3, {"op": "read", "reg": "GICH_ELRSR1", "value": 1}, "LRs 32 and above"),
    (V2_TO_V3, {"op": "read", "reg": "GICH_ELRSR0", "value": 0x1_0000}, "at most 16"),
    (V2_TO_V3, {"op": "read", "reg": "GICH_HCR", "value": 0x400}, "reserved"),
    (V2_TO_V3, {"op": "write", "reg": "ICH_HCR_EL2", "value": 1}, "not a GICv2 trace"),
    (V3_TO_V2, {"op": "write", "reg": "ICH_VMCR_EL2", "value": 0xF400_0000}, "VPMR = 0xf4"),
    (V3_TO_V2, {"op": "write", "reg": "ICH_HCR_EL2", "value": 0x1C01}, "trap control"),
    (V3_TO_V2, {"op": "write", "reg": "ICH_AP0R0_EL2", "value": 1}, "ICH_AP1R0_EL2"),
    (V3_TO_V2, {"op": "write", "reg": "ICC_SRE_EL1", "value": 1}, "sets SRE"),
    (V3_TO_V2, {"op": "read", "reg": "ICV_IAR1_EL1", "value": 27}, "GICv3 guest"),
    (V3_TO_V2, {"op": "write", "reg": "GICH_HCR", "value": 1}, "not a GICv3 legacy trace"),
])
def test_errors_name_the_line(direction, line, words):
    lines = ['{"title": "t"}', "", json.dumps(line)]
    with pytest.raises(TraceError, match=words) as e:
        _convert(lines, direction)
    assert e.value.lineno == 3 and str(e.value).startswith("<trace>:3: ")


# -- round trips of the recordings ----------------------------------------------------

@pytest.mark.parametrize("path", SCENARIOS + [KVM], ids=lambda p: p.name.split(".")[0])
def test_round_trip_gives_back_the_transactions(path):
    original = _lines(path)
    legacy = _convert(original, V2_TO_V3)
    assert len(legacy) == len(original)
    back = _convert(legacy, V3_TO_V2)
    assert [_key(t) for t in parse_lines(back)] == [_key(t) for t in parse_lines(original)]
    # the legacy trace is one the replay reads; a hypervisor access is an ICH one
    kinds = {t.reg.split("_")[0] for t in _legacy_transactions(legacy) if t.op != "reset"}
    assert kinds <= {"ICH", "GICV"}
    # and converting the legacy trace back and forth again changes nothing
    assert _convert(back, V2_TO_V3) == legacy


def test_qemu_scenarios_translate_every_hypervisor_access():
    """Only scenario a has accesses without a GICv3 counterpart: its GICH_EISR1
    and GICH_ELRSR1 reads and its three physical-GIC reads."""
    for path in SCENARIOS:
        conv = Converter(V2_TO_V3, str(path))
        for n, text in enumerate(_lines(path), 1):
            conv.line(n, text)
        left = sum(conv.counts.left_out.values())
        assert left == (5 if path.name == "scenario_a.jsonl" else 0), path.name


def test_random_hypervisor_and_guest_sequences_round_trip():
    from vgic.sim.fuzz import trace_lines
    from vgic.sim.stimulus import generate
    for lrs, seed in ((1, 3), (4, 4)):
        original = trace_lines(generate(seed, lrs, 3000, profile="kvm"))
        legacy = _convert(original, V2_TO_V3)
        back = _convert(legacy, V3_TO_V2)
        assert [_key(t) for t in parse_lines(back)] == [_key(t) for t in parse_lines(original)]
        assert all(t.frame in ("ICH", "GICV") for t in _legacy_transactions(legacy)
                   if t.op != "reset")


# -- the command ----------------------------------------------------------------------

def test_cli_gzip_out_and_back(tmp_path, capsys):
    src = SCENARIOS[1]
    mid, back = tmp_path / "b.v3legacy.jsonl.gz", tmp_path / "b.jsonl"
    assert main(["convert", "v2-to-v3legacy", str(src), "-o", str(mid), "-q"]) == 0
    err = capsys.readouterr().err
    assert "20 transactions converted" in err and "11 GICH -> ICH_*_EL2" in err
    assert mid.read_bytes()[:2] == b"\x1f\x8b"
    assert main(["convert", "v3legacy-to-v2", str(mid), "-o", str(back), "-q"]) == 0
    assert [_key(t) for t in parse_lines(_lines(back))] == \
        [_key(t) for t in parse_lines(_lines(src))]


def test_cli_error_names_file_and_line_and_leaves_no_output(tmp_path, capsys):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"title": "x"}\n{"op": "write", "reg": "GICH_HCR", "value": 1}\n'
                   '{"op": "write", "reg": "GICH_LR20", "value": 0}\n')
    out = tmp_path / "out.jsonl"
    assert main(["convert", "v2-to-v3legacy", str(src), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"{src}:3: GICH_LR20" in err and "Traceback" not in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]


def test_cli_help_explains_the_mapping(capsys):
    with pytest.raises(SystemExit):
        main(["convert", "--help"])
    text = capsys.readouterr().out
    for words in ("GICH_LR<n>  = ICH_LR<n>_EL2", "ICH_AP1R0_EL2", "VPMR [31:24]",
                  "docs/architecture-v3.md", "Legacy operation"):
        assert words in text


# -- replay on the legacy core ----------------------------------------------------------

def _legacy_core():
    try:
        from vgic.sim.model import VirtualInterface
        VirtualInterface(4, arch="v3", legacy=True)
    except (TypeError, ValueError, ImportError):
        return False
    return LEGACY is not None


@pytest.mark.skipif(not _legacy_core(), reason="no legacy operation in the model")
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_translated_scenario_replays_on_the_legacy_core_as_on_gicv2(path, tmp_path, capsys):
    """`vgic replay --arch v3 --legacy --compare` of the translated scenario:
    the same verdict as the GICv2 replay of the original, the same GICV read
    values and line levels, and ICH reads that are the translations of the
    GICH reads (GICH_VTR aside)."""
    legacy = tmp_path / "legacy.jsonl"
    legacy.write_text("\n".join(_convert(_lines(path), V2_TO_V3)) + "\n")
    r2, r3 = tmp_path / "r2.jsonl", tmp_path / "r3.jsonl"
    rc2 = main(["replay", str(path), "--compare", "-q", "-o", str(r2)])
    rc3 = main(["replay", str(legacy), "--arch", "v3", "--legacy", "--compare", "-q",
                "-o", str(r3)])
    capsys.readouterr()
    assert rc3 == rc2
    v2 = {r["seq"]: r for r in map(json.loads, _lines(r2)) if not r.get("skipped")}
    v3 = {r["seq"]: r for r in map(json.loads, _lines(r3))}
    assert set(v3) <= set(v2)
    for seq, a in v3.items():
        b = v2[seq]
        assert [a[k] for k in ("op", "virq", "vfiq", "maint", "deactivate")] == \
            [b[k] for k in ("op", "virq", "vfiq", "maint", "deactivate")], seq
        if a["op"] != "read" or a["reg"] == "ICH_VTR_EL2":
            continue
        if a["reg"].startswith("GICV_"):
            assert (a["reg"], a["value"]) == (b["reg"], b["value"]), seq
        else:
            assert v2_to_v3(b["reg"].removeprefix("GICH_"), b["value"])[:2] == \
                (a["reg"], a["value"]), seq
