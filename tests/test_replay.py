"""`vgic replay` and the trace reader (sim/replay.py, sim/trace.py): the
replay contract of ../shared/conformance/README.md and clear errors on bad input."""
import json
import pathlib
import subprocess
import sys

import pytest

from vgic.sim.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "basic_virq.jsonl"


def write_trace(tmp_path, *objs_or_text):
    p = tmp_path / "t.jsonl"
    p.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs_or_text))
    return p


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_example_trace_matches_its_spec_expectations(capsys):
    """The shipped example's recorded values were written from the spec digest
    (R6, R6a, R4, R10, R13); the model replays it with no difference."""
    code, out, err = run(capsys, "replay", EXAMPLE, "--compare")
    assert code == 0, err
    assert "0 difference(s)" in err
    results = [json.loads(l) for l in out.splitlines()]
    assert len(results) == 26
    assert results[14]["deactivate"] == [40]        # HW=1 LR forwarded pINTID 40


def test_output_lines_follow_the_contract(capsys, tmp_path):
    p = write_trace(tmp_path,
                    {"title": "x"},
                    {"seq": 7, "op": "write", "reg": "GICH_HCR", "value": "0x1"},
                    {"op": "read", "addr": "0x08030004"},
                    {"op": "reset"},
                    {"op": "read", "reg": "GICD_CTLR"},
                    {"check": "ignored"})
    code, out, err = run(capsys, "replay", p)
    assert code == 0, err
    r = [json.loads(l) for l in out.splitlines()]
    assert [x["op"] for x in r] == ["write", "read", "reset", "read"]
    assert r[0]["seq"] == 7 and r[0]["value"] == 1
    for x in r:
        assert {"seq", "op", "reg", "virq", "vfiq", "maint", "deactivate"} <= set(x)
    assert r[1]["reg"] == "GICH_VTR" and r[1]["value"] == 0x90000003   # by addr
    assert r[3]["skipped"] is True


def test_output_file(capsys, tmp_path):
    out_file = tmp_path / "sub" / "out.jsonl"
    code, out, _ = run(capsys, "replay", EXAMPLE, "-o", out_file)
    assert code == 0 and out == ""
    assert len(out_file.read_text().splitlines()) == 26


def test_lrs_option_changes_vtr(capsys, tmp_path):
    p = write_trace(tmp_path, {"op": "read", "reg": "GICH_VTR"}, {"op": "read", "reg": "GICH_ELRSR1"})
    code, out, _ = run(capsys, "replay", p, "--lrs", "64")
    r = [json.loads(l) for l in out.splitlines()]
    assert r[0]["value"] == 0x9000003F          # ListRegs = 63 (digest 2.2)
    assert r[1]["value"] == 0xFFFFFFFF          # LR32..63 empty (digest 2.6)


@pytest.mark.parametrize("line, message", [
    ("{not json", "not valid JSON"),
    ('[1, 2]', "expected a JSON object"),
    ('{"op": "poke", "reg": "GICH_HCR"}', "unknown op 'poke'"),
    ('{"op": "read", "reg": "GICH_FOO"}', "unknown register name 'GICH_FOO'"),
    ('{"op": "write", "reg": "GICH_HCR", "value": 4294967296}', "does not fit in 32 bits"),
    ('{"op": "write", "reg": "GICH_HCR", "value": -1}', "does not fit in 32 bits"),
    ('{"op": "write", "reg": "GICH_HCR", "value": "0xZZ"}', "'value' is not a number"),
    ('{"op": "write", "reg": "GICH_HCR"}', "a write needs 'value'"),
    ('{"op": "read"}', "needs 'reg' or 'addr'"),
    ('{"op": "read", "addr": "0x1000"}', "is in no known frame"),
    ('{"op": "read", "addr": "0x08030002"}', "not word aligned"),
    ('{"op": "read", "reg": "GICH_HCR", "addr": "0x08030004"}', "but 'addr' points at GICH+0x4"),
    ('{"op": "read", "reg": "GICH_HCR", "virq": 2}', "'virq' must be 0 or 1"),
])
def test_bad_input_names_file_line_and_problem(capsys, tmp_path, line, message):
    """Bad input stops with file:line: what is wrong, exit 2, no results printed."""
    p = write_trace(tmp_path, {"op": "read", "reg": "GICH_HCR"}, line)
    code, out, err = run(capsys, "replay", p)
    assert code == 2
    assert out == ""
    assert f"{p}:2: " in err and message in err


def test_bad_input_leaves_no_output_file(capsys, tmp_path):
    p = write_trace(tmp_path, {"op": "read", "reg": "GICH_HCR"}, "{oops")
    out_file = tmp_path / "out.jsonl"
    code, _, _ = run(capsys, "replay", p, "-o", out_file)
    assert code == 2 and not out_file.exists()


def test_missing_file(capsys, tmp_path):
    code, out, err = run(capsys, "replay", tmp_path / "nope.jsonl")
    assert code == 2 and "cannot read" in err


def test_compare_reports_differences(capsys, tmp_path):
    p = write_trace(tmp_path, {"op": "read", "reg": "GICV_RPR", "value": 0xF8})
    code, _, err = run(capsys, "replay", p, "--compare")
    assert code == 1
    assert ":1: seq 0 read GICV_RPR: value recorded 248, replay 255" in err   # idle RPR 0xFF


def test_bad_lrs_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["replay", str(EXAMPLE), "--lrs", "65"])
    assert e.value.code == 2
    assert "1..64" in capsys.readouterr().err


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "vgic.sim.cli", "replay", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--engine" in out and "--lrs" in out


def test_engine_both_stops_at_first_divergence(capsys, monkeypatch):
    """--engine both: a divergence stops the run with the transaction, the
    register, both values and the transactions before it; exit 1, no results."""
    from vgic.sim import replay
    from vgic.sim.model import VirtualInterface

    class BrokenRPR(VirtualInterface):
        def read(self, frame, offset):
            v = super().read(frame, offset)
            return v ^ 1 if (frame, offset) == ("GICV", 0x14) else v

    real = replay.make_engine
    monkeypatch.setattr(replay, "make_engine",
                        lambda k, n, vcd=None: BrokenRPR(n) if k == "rtl" else real(k, n, vcd))
    code, out, err = run(capsys, "replay", EXAMPLE, "--engine", "both")
    assert code == 1 and out == ""
    assert "DIVERGENCE at transaction #8" in err and "GICV_RPR" in err
    assert "model = 0x000000a0" in err and "rtl   = 0x000000a1" in err
    assert "trace line 10 (seq 8)" in err
    assert "read  GICV_IAR" in err                    # history before it


def test_vcd_needs_an_rtl_engine(capsys):
    code, _, err = run(capsys, "replay", EXAMPLE, "--vcd", "x.vcd")
    assert code == 2 and "--vcd needs --engine rtl or both" in err


def test_register_name_wins_over_an_address_from_another_memory_map(capsys, tmp_path):
    """A trace recorded on other hardware (GIC-400 at 0xFFFC0000) replays by
    its register names, whatever the default bases."""
    p = write_trace(tmp_path, {"op": "read", "reg": "GICH_VTR", "addr": "0xFFFC4004"},
                    {"op": "read", "reg": "gicv_rpr", "addr": "0xFFFC6014"})
    code, out, err = run(capsys, "replay", p)
    assert code == 0, err
    r = [json.loads(l) for l in out.splitlines()]
    assert (r[0]["reg"], r[0]["value"]) == ("GICH_VTR", 0x90000003)
    assert (r[1]["reg"], r[1]["value"]) == ("GICV_RPR", 0xFF)


def test_gic400_memory_map(capsys, tmp_path):
    """--gic400-base: GICH at +0x4000, CPU 0's GICH alias at +0x5000, GICV at
    +0x6000 with GICV_DIR at +0x7000 (digest 1.3); GICD/GICC and the other
    CPUs' aliases are passed over."""
    base = 0xFFFC0000
    p = write_trace(tmp_path,
                    {"op": "write", "addr": hex(base + 0x4000), "value": 1},          # HCR
                    {"op": "read", "addr": hex(base + 0x5000)},                       # alias
                    {"op": "read", "addr": hex(base + 0x6014)},                       # RPR
                    {"op": "write", "addr": hex(base + 0x7000), "value": 42},         # DIR
                    {"op": "read", "addr": hex(base + 0x5200)},                       # CPU1
                    {"op": "read", "addr": hex(base + 0x1004)})                       # GICD
    code, out, err = run(capsys, "replay", p, "--gic400-base", hex(base))
    assert code == 0, err
    r = [json.loads(l) for l in out.splitlines()]
    assert [x["reg"] for x in r[:4]] == ["GICH_HCR", "GICH_HCR", "GICV_RPR", "GICV_DIR"]
    assert r[1]["value"] == 1 and r[2]["value"] == 0xFF
    assert r[4]["skipped"] and r[5]["skipped"]


def test_gic400_base_excludes_frame_bases(capsys, tmp_path):
    p = write_trace(tmp_path, {"op": "read", "reg": "GICH_HCR"})
    code, _, err = run(capsys, "replay", p, "--gic400-base", "0", "--gich-base", "0x1000")
    assert code == 2 and "not both" in err
