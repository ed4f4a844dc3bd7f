"""`vgic replay` and the trace reader (sim/replay.py, sim/trace.py): the
trace format of docs/traces.md, streaming, clear errors on bad input, and no
false pass."""
import gzip
import json
import os
import pathlib
import stat
import subprocess
import sys

import pytest

from vgic.sim.cli import main
from cli_run import run, write_trace

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "basic_virq.jsonl"


def test_example_trace_matches_its_spec_expectations(capsys):
    """The shipped example's recorded values were written from docs/architecture.md
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
    assert r[0]["value"] == 0x9000003F          # ListRegs = 63 (arch 2.2)
    assert r[1]["value"] == 0xFFFFFFFF          # LR32..63 empty (arch 2.6)


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
    +0x6000 with GICV_DIR at +0x7000 (arch 1.3); GICD/GICC and the other
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


# -- streaming, output files, false passes (issue 14) ---------------------------

def long_trace(tmp_path, n, last=None, name="long.jsonl"):
    """n reads of GICH_VTR with their recorded value, then an optional last line."""
    p = tmp_path / name
    with open(p, "w") as f:
        for i in range(n):
            f.write(json.dumps({"seq": i, "op": "read", "reg": "GICH_VTR", "value": 0x90000003})
                    + "\n")
        if last is not None:
            f.write(last + "\n")
    return p


def test_bad_line_near_the_end_of_a_long_trace_leaves_no_output(capsys, tmp_path):
    """The trace streams, so the bad line is found after 20,000 ran: exit 2 with
    file:line, the -o file is not created, and an existing one is untouched."""
    p = long_trace(tmp_path, 20000, '{"op": "read", "reg": "GICH_NOPE"}')
    out_file = tmp_path / "out.jsonl"
    code, out, err = run(capsys, "replay", p, "-o", out_file, "-q")
    assert code == 2 and f"{p}:20001: unknown register name 'GICH_NOPE'" in err
    assert not out_file.exists()
    out_file.write_text("precious\n")
    code, out, err = run(capsys, "replay", p, "-o", out_file, "-q")
    assert code == 2 and out_file.read_text() == "precious\n"
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]   # no temporary left
    code, out, err = run(capsys, "replay", p, "-q")                         # to stdout
    assert code == 2 and out == ""


def test_gzip_trace_and_frame_offset_lines(capsys, tmp_path):
    """A .gz trace reads like the plain one; 'frame' + 'offset' name a register
    (and an unnamed offset) without an absolute address."""
    lines = [{"op": "write", "frame": "GICH", "offset": "0x000", "value": 1},
             {"op": "read", "frame": "GICH", "offset": 0, "value": 1},
             {"op": "write", "frame": "GICV", "offset": "0x0d4", "value": 5,
              "addr": "0x80400d4"},
             {"op": "read", "frame": "GICV", "offset": "0x0d4", "value": 0}]
    p = tmp_path / "t.jsonl.gz"
    with gzip.open(p, "wt") as f:
        f.writelines(json.dumps(o) + "\n" for o in lines)
    code, out, err = run(capsys, "replay", p, "--compare")
    assert code == 0, err
    r = [json.loads(l) for l in out.splitlines()]
    assert [x["reg"] for x in r] == ["GICH_HCR", "GICH_HCR", "GICV_APR1", "GICV_APR1"]


@pytest.mark.parametrize("line, message", [
    ('{"op": "read", "frame": "GICX", "offset": 0}', "'frame' must be one of"),
    ('{"op": "read", "frame": "GICV", "offset": "0x2000"}', "not a word in the GICV frame"),
    ('{"op": "read", "frame": "GICV", "offset": 4, "addr": "0x08030004"}', "'addr' 0x8030004 is not GICV+0x4"),
    ('{"Op": "read", "reg": "GICH_HCR"}', "did you mean 'op'"),
    ('{"reg": "GICH_HCR", "value": 1}', "has 'reg' but no 'op'"),
    ('{"op": "write", "reg": "GICH_HCR", "value": null}', "a write needs 'value'"),
    ('{"op": "write", "reg": "GICH_HCR", "value": ' + "9" * 5000 + '}', "not valid JSON"),
    ('{"op": "read", "reg": "GICH_HCR", "x": ' + "[" * 100000 + "]" * 100000 + '}', "not valid JSON"),
    ('{"op": "read", "reg": "GICH_HCR", "virq": true}', "'virq' must be 0 or 1"),
])
def test_more_bad_input(capsys, tmp_path, line, message):
    p = write_trace(tmp_path, {"op": "read", "reg": "GICH_HCR"}, line)
    code, out, err = run(capsys, "replay", p)
    assert code == 2 and out == ""
    assert f"{p}:2: " in err and message in err
    assert "Traceback" not in err


def test_a_trace_without_transactions_is_an_error(capsys, tmp_path):
    p = write_trace(tmp_path, {"title": "nothing here"})
    code, out, err = run(capsys, "replay", p, "--compare")
    assert code == 2 and "no transactions" in err


def test_compare_of_nothing_recorded_is_not_a_pass(capsys, tmp_path):
    """Writes without line levels and reads without values: nothing to compare."""
    p = write_trace(tmp_path, {"op": "write", "reg": "GICH_HCR", "value": 1},
                    {"op": "read", "reg": "GICH_HCR"})
    code, _, err = run(capsys, "replay", p, "--compare")
    assert code == 2 and "no recorded value to compare" in err


def test_user_map_over_qemus_physical_windows_is_not_skipped(capsys, tmp_path):
    """--gich-base/--gicv-base where QEMU virt has its GICD/GICC: the accesses
    are the user's GICH/GICV, compared, and a wrong value is found."""
    p = write_trace(tmp_path,
                    {"op": "read", "addr": "0x08000004", "value": 0x90000003},   # GICH_VTR
                    {"op": "read", "addr": "0x08010014", "value": 0x12})         # GICV_RPR: 0xFF
    code, out, err = run(capsys, "replay", p, "--gich-base", "0x08000000",
                         "--gicv-base", "0x08010000", "--compare")
    r = [json.loads(l) for l in out.splitlines()]
    assert code == 1, err
    assert [x["reg"] for x in r] == ["GICH_VTR", "GICV_RPR"] and not any("skipped" in x for x in r)
    assert "value recorded 18, replay 255" in err


def test_compare_of_a_mostly_skipped_trace_is_not_a_pass(capsys, tmp_path):
    p = write_trace(tmp_path, {"op": "read", "reg": "GICH_VTR", "value": 0x90000003},
                    {"op": "read", "addr": "0x08000004", "value": 7},
                    {"op": "read", "addr": "0x08010004", "value": 7})
    code, _, err = run(capsys, "replay", p, "--compare")
    assert code == 2 and "2 of 3 transactions were skipped" in err


def test_overlapping_gich_and_gicv_windows_are_an_error(capsys, tmp_path):
    p = write_trace(tmp_path, {"op": "read", "reg": "GICH_HCR"})
    code, _, err = run(capsys, "replay", p, "--gich-base", "0x1000", "--gicv-base", "0x1800")
    assert code == 2 and "overlap" in err


def test_output_paths_are_checked_before_the_run(capsys, tmp_path, monkeypatch):
    """A bad -o or --vcd is an argument error (exit 2) before any engine is built."""
    from vgic.sim import replay
    monkeypatch.setattr(replay, "make_engine", lambda *a: pytest.fail("engine built"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for argv, message in [(["-o", tmp_path], "is a directory"),
                          (["-o", blocker / "out.jsonl"], "is not a directory"),
                          (["-o", EXAMPLE], "is the input file"),
                          (["--engine", "rtl", "--vcd", blocker / "w.vcd"], "is not a directory"),
                          (["--engine", "rtl", "--vcd", tmp_path / "a.vcd", "-o",
                            tmp_path / "a.vcd"], "the same file as -o")]:
        code, out, err = run(capsys, "replay", EXAMPLE, *argv)
        assert code == 2 and message in err, (argv, err)
    assert blocker.read_text() == "x"


def test_output_equal_to_input_keeps_the_trace(capsys, tmp_path):
    p = write_trace(tmp_path, {"op": "read", "reg": "GICH_HCR"})
    before = p.read_text()
    code, _, err = run(capsys, "replay", p, "-o", p)
    assert code == 2 and "is the input file" in err and p.read_text() == before


def test_output_file_mode_follows_the_umask(capsys, tmp_path):
    old = os.umask(0o022)
    try:
        code, _, _ = run(capsys, "replay", EXAMPLE, "-o", tmp_path / "out.jsonl")
    finally:
        os.umask(old)
    assert code == 0
    assert stat.S_IMODE(os.stat(tmp_path / "out.jsonl").st_mode) == 0o644


def test_many_differences_give_a_bounded_report(capsys, tmp_path):
    """5,000 wrong recorded values: the first few in full with the transactions
    before them, then counts per register and field."""
    p = tmp_path / "wrong.jsonl"
    with open(p, "w") as f:
        for i in range(5000):
            f.write(json.dumps({"seq": i, "op": "read", "reg": "GICV_RPR", "value": 0}) + "\n")
        f.write(json.dumps({"seq": 5000, "op": "read", "reg": "GICH_VTR", "value": 1}) + "\n")
    code, _, err = run(capsys, "replay", p, "--compare", "--max-report", "5")
    assert code == 1
    lines = err.splitlines()
    assert len(lines) < 40
    assert sum(": value recorded 0, replay 255" in l for l in lines) == 5
    assert "... 4996 more" in err
    assert "GICV_RPR value: 5000" in err and "GICH_VTR value: 1" in err
    assert "5001 values, 5001 difference(s)" in err


def test_ctrl_c_stops_with_a_summary(capsys, tmp_path, monkeypatch):
    """Ctrl-C during a replay: a one-line summary, no traceback, exit 130, no output."""
    from vgic.sim import replay
    from vgic.sim.model import VirtualInterface

    class Interrupted(VirtualInterface):
        def read(self, frame, offset):
            if self.reads == 100:
                raise KeyboardInterrupt
            self.reads += 1
            return super().read(frame, offset)

    def engine(kind, n, vcd=None):
        e = Interrupted(n)
        e.reads = 0
        return e
    monkeypatch.setattr(replay, "make_engine", engine)
    p = long_trace(tmp_path, 1000)
    out_file = tmp_path / "out.jsonl"
    code, out, err = run(capsys, "replay", p, "-o", out_file)
    assert code == 130 and not out_file.exists()
    assert "interrupted after 100 transactions" in err and f"{p}:101" not in err
    assert "Traceback" not in err


def test_rtl_option_needs_engine_both(capsys):
    code, _, err = run(capsys, "replay", EXAMPLE, "--rtl", "fast")
    assert code == 2 and "--rtl chooses the RTL engine of --engine both" in err


def test_amaranth_rtl_replays_a_slice_of_the_kvm_sample(capsys, tmp_path):
    """The first 2,000 accesses of the recorded KVM run on the RTL in Amaranth's
    simulator (slow: a slice), compared with the recording: 0 differences."""
    sample = ROOT / "tests" / "data" / "kvm" / "kvm_linux_1vcpu.jsonl.gz"
    with gzip.open(sample, "rt") as f:
        head = [next(f) for _ in range(2001)]          # title line + 2,000 accesses
    p = tmp_path / "slice.jsonl"
    p.write_text("".join(head))
    code, _, err = run(capsys, "replay", p, "--engine", "rtl", "--compare", "-q",
                       "-o", tmp_path / "out.jsonl")
    assert code == 0, err
    assert "2000 transactions on rtl" in err and " 0 difference(s)" in err


def test_tests_refuse_to_run_against_another_installed_checkout(tmp_path):
    """tests/conftest.py: with `vgic` installed from this tree, the tests of a
    copy elsewhere stop at once and say which tree is installed."""
    copy = tmp_path / "other" / "tests"
    copy.mkdir(parents=True)
    (copy / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    (copy / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(copy)], cwd=tmp_path / "other", capture_output=True, text=True)
    assert p.returncode == 4, p.stdout + p.stderr
    assert "another checkout is installed" in p.stdout + p.stderr
    assert f"loads {ROOT}/" in p.stdout + p.stderr


def test_output_to_a_device_writes_to_it_and_keeps_it(capsys, tmp_path):
    """-o /dev/null (or a FIFO): written to, never replaced by a regular file."""
    code, _, err = run(capsys, "replay", EXAMPLE, "-o", os.devnull)
    assert code == 0, err
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    import threading
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    code, _, err = run(capsys, "replay", EXAMPLE, "-o", fifo)
    reader.join(timeout=30)
    assert code == 0, err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert len(got[0].splitlines()) == 26


# -- several CPUs (--cpus; docs/traces.md) ------------------------------------------
def test_cpus_results_carry_the_cpu_and_every_cpus_lines(capsys, tmp_path):
    p = write_trace(tmp_path,
                    {"op": "write", "reg": "GICH_LR0", "value": "0x1000002a", "cpu": 2},
                    {"op": "write", "reg": "GICH_HCR", "value": 1, "cpu": 0, "gich_cpu": 2},
                    {"op": "write", "reg": "GICV_CTLR", "value": 1, "cpu": 2},
                    {"op": "write", "reg": "GICV_PMR", "value": "0xf8", "cpu": 2, "virq": 1},
                    {"op": "read", "reg": "GICV_IAR", "cpu": 1, "value": 1023},
                    {"op": "read", "reg": "GICV_IAR", "cpu": 2, "value": 42, "virq": 0})
    code, out, err = run(capsys, "replay", p, "--cpus", "3", "--compare")
    assert code == 0, err
    r = [json.loads(l) for l in out.splitlines()]
    assert [x["cpu"] for x in r] == [2, 0, 2, 2, 1, 2]
    assert r[1]["gich_cpu"] == 2 and "gich_cpu" not in r[0]
    assert r[3]["virq"] == 1 and r[3]["virq_cpus"] == [0, 0, 1]
    assert r[4]["virq"] == 0 and r[4]["virq_cpus"] == [0, 0, 1]      # CPU 1 sees nothing
    assert r[5]["value"] == 42 and r[5]["virq_cpus"] == [0, 0, 0]
    assert "3 CPUs" in err


@pytest.mark.parametrize("line,cpus,message", [
    ({"op": "read", "reg": "GICV_IAR", "cpu": 1}, 1, "'cpu' is 1, but the core has 1 CPU"),
    ({"op": "read", "reg": "GICV_IAR", "cpu": 4}, 4, "'cpu' is 4, but the core has 4 CPUs"),
    ({"op": "read", "reg": "GICV_IAR", "cpu": "1"}, 2, "'cpu' must be a CPU number"),
    ({"op": "read", "reg": "GICH_HCR", "gich_cpu": 2}, 2, "'gich_cpu' is 2"),
    ({"op": "read", "reg": "GICV_PMR", "gich_cpu": 0}, 2, "for GICH accesses only"),
    ({"op": "reset", "gich_cpu": 0}, 2, "for GICH accesses only"),
])
def test_bad_cpu_fields_name_file_and_line(capsys, tmp_path, line, cpus, message):
    p = write_trace(tmp_path, {"op": "write", "reg": "GICH_HCR", "value": 1}, line)
    code, out, err = run(capsys, "replay", p, "--cpus", cpus)
    assert code == 2 and out == ""
    assert f"{p}:2: " in err and message in err, err


def test_gic400_views_with_several_cpus(capsys, tmp_path):
    """--gic400-base with --cpus 2: +0x5000 + 0x200 n is CPU n's GICH for n < 2
    (gich_cpu n), the views of CPUs 2..7 are passed over as before."""
    base = 0x2C000000
    p = write_trace(tmp_path,
                    {"op": "write", "addr": hex(base + 0x5200), "value": 1, "cpu": 0},   # CPU1 HCR
                    {"op": "read", "addr": hex(base + 0x4000), "cpu": 1},                # own HCR
                    {"op": "read", "addr": hex(base + 0x4000), "cpu": 0},
                    {"op": "read", "addr": hex(base + 0x5400)})                           # CPU 2
    code, out, err = run(capsys, "replay", p, "--gic400-base", hex(base), "--cpus", "2")
    assert code == 0, err
    r = [json.loads(l) for l in out.splitlines()]
    assert r[0]["gich_cpu"] == 1 and r[0]["reg"] == "GICH_HCR"
    assert [r[1]["value"], r[2]["value"]] == [1, 0]
    assert r[3].get("skipped")


@pytest.mark.parametrize("engine", ["rtl", "both"])
def test_cpus_on_the_rtl(capsys, tmp_path, engine):
    p = write_trace(tmp_path,
                    {"op": "write", "reg": "GICH_LR0", "value": "0x1000002a", "cpu": 1},
                    {"op": "write", "reg": "GICH_HCR", "value": 1, "cpu": 0, "gich_cpu": 1},
                    {"op": "write", "reg": "GICV_CTLR", "value": 1, "cpu": 1},
                    {"op": "write", "reg": "GICV_PMR", "value": "0xf8", "cpu": 1},
                    {"op": "read", "reg": "GICV_IAR", "cpu": 0},
                    {"op": "read", "reg": "GICV_IAR", "cpu": 1})
    code, out, err = run(capsys, "replay", p, "--cpus", "2", "--engine", engine, "-q")
    assert code == 0, err
    r = [json.loads(l) for l in out.splitlines()]
    assert [r[4]["value"], r[5]["value"]] == [1023, 42]
