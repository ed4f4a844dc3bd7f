"""Waveforms (sim/wave.py): `vgic replay --vcd` writes a VCD of the RTL and a
GTKWave save file whose groups are the bus, the lines, GICH and GICV
registers and each LR decoded into its spec fields."""
import json
import re
import shutil
import subprocess

import pytest

from vgic.sim.cli import main
from vgic.sim.wave import vcd_signals


@pytest.fixture(scope="module")
def waves(tmp_path_factory):
    d = tmp_path_factory.mktemp("wave")
    trace = d / "t.jsonl"
    trace.write_text("\n".join(json.dumps(o) for o in [
        {"op": "write", "reg": "GICH_HCR", "value": 1},
        {"op": "write", "reg": "GICH_LR1", "value": 0x1A00002A},
        {"op": "write", "reg": "GICV_CTLR", "value": 1},
        {"op": "write", "reg": "GICV_PMR", "value": 0xF8},
        {"op": "read", "reg": "GICV_IAR"},
    ]) + "\n")
    vcd = d / "sub" / "run.vcd"
    assert main(["replay", str(trace), "--engine", "rtl", "--lrs", "2", "--vcd", str(vcd),
                 "-o", str(d / "out.jsonl")]) == 0
    return vcd, vcd.with_suffix(".gtkw")


def _refs(gtkw_text):
    """Signal lines of a save file, without their display alias."""
    return [re.sub(r"^\+\{[^}]*\} ", "", l) for l in gtkw_text.splitlines()
            if l and l[0] not in "[@-^*"]


def _groups(gtkw_text):
    lines = gtkw_text.splitlines()
    return [lines[i + 1][1:] for i, l in enumerate(lines) if l == "@800200"]


def test_gtkw_groups(waves):
    vcd, gtkw = waves
    assert vcd.exists() and gtkw.exists()
    assert _groups(gtkw.read_text()) == ["Register bus", "Output lines", "GICH registers",
                                          "GICV registers", "LR0", "LR1"]


def test_gtkw_signals_exist_in_the_vcd(waves):
    vcd, gtkw = waves
    signals = vcd_signals(vcd)
    refs = _refs(gtkw.read_text())
    assert len(refs) > 40
    for ref in refs:
        assert re.sub(r"\[\d+:0\]$", "", ref) in signals, ref
    for field in ("State", "VirtualID", "Priority", "Grp1", "HW", "EOI"):
        assert any(r.endswith(rf"\status__lr[1].{field}") or rf"\status__lr[1].{field}[" in r
                   for r in refs), field


def test_vcd_records_the_acknowledge(waves):
    """The VCD holds real activity: LR1.State goes pending (01) -> active (10)."""
    vcd, _ = waves
    text = vcd.read_text()
    ident = next(l.split()[3] for l in text.splitlines()
                 if l.startswith("$var") and l.split()[4] == r"\status__lr[1].State")
    values = re.findall(rf"^b([01]+) {re.escape(ident)}$", text, re.M)
    assert "1" in values and "10" in values


@pytest.mark.skipif(not (shutil.which("gtkwave") and shutil.which("xvfb-run")),
                    reason="needs Debian's gtkwave and xvfb (.ci/run installs them)")
def test_gtkwave_loads_every_signal(waves, tmp_path):
    """GTKWave itself (headless) opens the save file and shows every signal in it."""
    _, gtkw = waves
    script = tmp_path / "q.tcl"
    script.write_text('puts "SHOWN [llength [gtkwave::getDisplayedSignals]]"\ngtkwave::/File/Quit\n')
    out = subprocess.run(["xvfb-run", "-a", "gtkwave", "-S", str(script), str(gtkw)],
                         capture_output=True, text=True, timeout=120).stdout
    assert f"SHOWN {len(_refs(gtkw.read_text()))}" in out, out[-2000:]


def test_several_cpus_get_groups_per_cpu(tmp_path):
    """--cpus 2: the bus (with its CPU number) and the lines of the whole,
    then each CPU's registers and LRs, every signal present in the VCD."""
    trace = tmp_path / "t.jsonl"
    trace.write_text("\n".join(json.dumps(o) for o in [
        {"op": "write", "reg": "GICH_LR0", "value": 0x1A00002A, "cpu": 1},
        {"op": "write", "reg": "GICH_HCR", "value": 1, "cpu": 0, "gich_cpu": 1},
        {"op": "read", "reg": "GICV_IAR", "cpu": 1},
    ]) + "\n")
    vcd = tmp_path / "run.vcd"
    assert main(["replay", str(trace), "--engine", "rtl", "--lrs", "1", "--cpus", "2",
                 "--vcd", str(vcd), "-o", str(tmp_path / "out.jsonl"), "-q"]) == 0
    text = vcd.with_suffix(".gtkw").read_text()
    assert _groups(text) == ["Register bus", "Output lines",
                             "CPU0 GICH registers", "CPU0 GICV registers", "CPU0 LR0",
                             "CPU1 GICH registers", "CPU1 GICV registers", "CPU1 LR0"]
    signals = vcd_signals(vcd)
    refs = _refs(text)
    for ref in refs:
        assert re.sub(r"\[\d+:0\]$", "", ref) in signals, ref
    assert any(r.endswith(".bus__cpu") for r in refs)
    assert any(".cpu1." in r and r"\status__lr[0].State" in r for r in refs)


def test_gicv3_groups_name_ich_icv_and_decode_lrs_in_the_v3_layout(tmp_path):
    """--arch v3: ICH and ICV groups, each ICH_LR<n>_EL2 decoded into the
    spec's fields (vINTID, Group, pINTID), every signal present in the VCD;
    the acknowledge shows as LR1.State 01 -> 10."""
    trace = tmp_path / "t.jsonl"
    trace.write_text("\n".join(json.dumps(o) for o in [
        {"op": "write", "reg": "ICH_HCR_EL2", "value": 1},
        {"op": "write", "reg": "ICH_VMCR_EL2", "value": 0xF8000003},
        {"op": "write", "reg": "ICH_LR1_EL2", "value": "0x50A000000000002A"},
        {"op": "read", "reg": "ICV_IAR1_EL1", "value": 42},
    ]) + "\n")
    vcd = tmp_path / "run.vcd"
    assert main(["replay", str(trace), "--arch", "v3", "--engine", "rtl", "--lrs", "2",
                 "--vcd", str(vcd), "--compare", "-o", str(tmp_path / "out.jsonl"), "-q"]) == 0
    text = vcd.with_suffix(".gtkw").read_text()
    assert _groups(text) == ["Register bus", "Output lines", "ICH registers", "ICV registers",
                             "ICH_LR0", "ICH_LR1"]
    signals = vcd_signals(vcd)
    for ref in _refs(text):
        assert re.sub(r"\[\d+:0\]$", "", ref) in signals, ref
    for shown in ("LR1_vINTID", "LR1_Group", "LR1_pINTID", "AP0R", "AP1R", "IGRPEN1", "HCR_TALL1"):
        assert f"+{{{shown}}} " in text, shown
    vtext = vcd.read_text()
    ident = next(l.split()[3] for l in vtext.splitlines()
                 if l.startswith("$var") and l.split()[4] == r"\status__lr[1].State")
    values = re.findall(rf"^b([01]+) {re.escape(ident)}$", vtext, re.M)
    assert "1" in values and "10" in values
