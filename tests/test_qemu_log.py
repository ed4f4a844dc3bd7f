"""`vgic import qemu` (sim/qemu_log.py): a QEMU 7.2 GICv2 trace log into a
replay trace (docs/traces.md). The recorded KVM run must become exactly its
trace; small logs written here check each rule and each error."""
import errno
import gzip
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from vgic.sim import qemu_log
from vgic.sim.cli import main
from cli_run import run

DATA = pathlib.Path(__file__).resolve().parent / "data" / "kvm"
SAMPLE_LOG = DATA / "qemu-gic-linux_1vcpu.log.gz"
SAMPLE_TRACE = DATA / "kvm_linux_1vcpu.jsonl.gz"

# One guest interrupt, as QEMU 7.2 logs it: the hypervisor fills LR0 and turns
# the interface on (each write followed by its recomputation), the guest
# acknowledges (acknowledge, recomputation, then the read) and ends it.
BASIC = """\
gic_hyp_read hyp read at 0x00000004: 0x90000003
gic_hyp_write hyp write at 0x00000100: 0x1a00002a
gic_lr_entry cpu 0: new lr entry 0: 0x1a00002a
gic_update_maintenance_irq cpu 0: maintenance = 0
gic_hyp_write hyp write at 0x00000000: 0x00000001
gic_update_set_irq cpu[0]: virq = 1
gic_update_maintenance_irq cpu 0: maintenance = 0
gic_acknowledge_irq vcpu 0 acknowledged irq 42
gic_update_maintenance_irq cpu 0: maintenance = 0
gic_cpu_read vcpu 0 iface read at 0x0000000c: 0x0000002a
gic_cpu_write vcpu 0 iface write at 0x00000010 0x0000002a
gic_update_maintenance_irq cpu 0: maintenance = 0
gic_acknowledge_irq vcpu 0 acknowledged irq 1023
gic_cpu_read vcpu 0 iface read at 0x0000000c: 0x000003ff
"""


def write_log(tmp_path, text, name="run.log"):
    p = tmp_path / name
    p.write_text(text)
    return p


def imported(tmp_path, capsys, text, *options):
    """Import `text`; (exit status, transactions, stderr)."""
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "import", "qemu", write_log(tmp_path, text), "-o", out, "-q",
                       *options)
    lines = [json.loads(l) for l in out.read_text().splitlines()] if out.exists() else []
    return code, [t for t in lines if "op" in t], err


def transactions(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        return [json.loads(l) for l in f if '"op"' in l]


def without_scenario(ts):
    return [{k: v for k, v in t.items() if k != "scenario"} for t in ts]


# -- the recorded run -----------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_import(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "kvm.jsonl"
    assert main(["import", "qemu", str(SAMPLE_LOG), "-o", str(out), "-q"]) == 0
    return out


def test_sample_log_gives_the_sample_trace(sample_import):
    """Same transactions in the same order: op, reg (or frame+offset+addr),
    value, and virq/vfiq/maint exactly where the sample has them."""
    ours, theirs = transactions(sample_import), transactions(SAMPLE_TRACE)
    assert len(ours) == len(theirs) == 37689
    assert without_scenario(ours) == without_scenario(theirs)
    assert sum("virq" in t for t in ours) == 23967


def test_sample_title_line(sample_import):
    first = json.loads(sample_import.read_text().splitlines()[0])
    assert first["scenario"] == "qemu-gic-linux_1vcpu"
    assert "qemu-gic-linux_1vcpu.log.gz" in first["title"] and "op" not in first


def test_sample_summary(capsys, tmp_path):
    code, _, err = run(capsys, "import", "qemu", SAMPLE_LOG, "-o", tmp_path / "t.jsonl", "-q")
    assert code == 0
    assert "37,689 GICH/GICV transactions" in err and "23,967 with line levels" in err
    assert "physical accesses left out: 16,629" in err
    assert "3,214 GICD write" in err and "7,049 GICC read" in err
    assert "lines skipped: 0" in err and "warning" not in err


def test_imported_sample_replays_without_difference(capsys, sample_import):
    """The golden model agrees with QEMU on every read value and line level."""
    code, _, err = run(capsys, "replay", sample_import, "--compare", "-q", "-o",
                       sample_import.with_suffix(".out"))
    assert code == 0, err[-2000:]
    assert " 0 difference(s)" in err


def test_gzip_and_plain_logs_give_the_same_trace(capsys, tmp_path, sample_import):
    plain = tmp_path / "qemu-gic-linux_1vcpu.log"
    with gzip.open(SAMPLE_LOG, "rt") as f:
        plain.write_text(f.read())
    out = tmp_path / "plain.jsonl"
    code, _, err = run(capsys, "import", "qemu", plain, "-o", out, "-q")
    assert code == 0, err
    assert transactions(out) == transactions(sample_import)


def test_progress_on_stderr_unless_quiet(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(qemu_log, "PROGRESS_SECONDS", 0.0)
    code, _, err = run(capsys, "import", "qemu", SAMPLE_LOG, "-o", tmp_path / "a.jsonl")
    assert code == 0 and "lines read" in err and "transactions written" in err
    code, _, err = run(capsys, "import", "qemu", SAMPLE_LOG, "-o", tmp_path / "b.jsonl", "-q")
    assert code == 0 and "lines read" not in err


# -- the rules, on small logs ---------------------------------------------------------

def test_levels_only_where_qemu_recomputed(capsys, tmp_path):
    code, ts, err = imported(tmp_path, capsys, BASIC)
    assert code == 0, err
    got = [(t["op"], t["reg"], t["value"], t.get("virq"), t.get("vfiq"), t.get("maint"))
           for t in ts]
    assert got == [
        ("read", "GICH_VTR", 0x90000003, None, None, None),      # GICH reads: never
        ("write", "GICH_LR0", 0x1A00002A, 0, 0, 0),               # recomputed, nothing raised
        ("write", "GICH_HCR", 1, 1, 0, 0),                        # virq raised
        ("read", "GICV_IAR", 42, 0, 0, 0),                        # acknowledged: recomputed
        ("write", "GICV_EOIR", 42, 0, 0, 0),
        ("read", "GICV_IAR", 1023, None, None, None),             # spurious: not recomputed
    ]
    assert [t["seq"] for t in ts] == list(range(6))
    assert all(t["scenario"] == "run" and t["hex"] == f"{t['value']:#010x}" for t in ts)


def test_pid_time_prefix_is_accepted(capsys, tmp_path):
    prefixed = "".join(f"4242@1700000000.{i:06d}:{line}\n"
                       for i, line in enumerate(BASIC.splitlines()))
    _, plain, _ = imported(tmp_path, capsys, BASIC)
    code, ts, err = imported(tmp_path, capsys, prefixed)
    assert code == 0, err
    assert ts == plain


def test_write_without_recomputation_has_no_levels(capsys, tmp_path):
    """Writes QEMU traces but ignores (GICV_APR1..3, a read-only GICH register)
    recompute nothing: no levels. Unnamed offsets go by frame, offset, addr."""
    code, ts, err = imported(tmp_path, capsys, """\
gic_cpu_write vcpu 0 iface write at 0x000000d4 0x00000000
gic_hyp_write hyp write at 0x00000004: 0x00000000
gic_cpu_write vcpu 0 iface write at 0x00000004 0x000000f0
gic_update_maintenance_irq cpu 0: maintenance = 0
""")
    assert code == 0, err
    assert ts[0] == {"scenario": "run", "seq": 0, "op": "write", "value": 0, "hex": "0x00000000",
                     "frame": "GICV", "offset": "0x0d4", "addr": "0x80400d4"}
    assert ts[1]["reg"] == "GICH_VTR" and "virq" not in ts[1]
    assert ts[2]["reg"] == "GICV_PMR" and (ts[2]["virq"], ts[2]["maint"]) == (0, 0)


def test_two_recomputations_of_one_write_the_last_wins(capsys, tmp_path):
    """A GICV_DIR that only counts (EOICount) recomputes twice in QEMU."""
    code, ts, err = imported(tmp_path, capsys, """\
gic_cpu_write vcpu 0 iface write at 0x00001000 0x00000021
gic_update_maintenance_irq cpu 0: maintenance = 0
gic_update_maintenance_irq cpu 0: maintenance = 1
gic_hyp_read hyp read at 0x00000000: 0x08000005
""")
    assert code == 0, err
    assert (ts[0]["reg"], ts[0]["maint"]) == ("GICV_DIR", 1) and "maint" not in ts[1]


def test_vfiq_and_physical_line_events(capsys, tmp_path):
    """virq/vfiq come from the virtual lines only; the physical irq/fiq lines
    are other events."""
    code, ts, err = imported(tmp_path, capsys, """\
gic_hyp_write hyp write at 0x00000000: 0x00000001
gic_update_set_irq cpu[0]: vfiq = 1
gic_update_maintenance_irq cpu 0: maintenance = 1
gic_update_set_irq cpu[0]: irq = 1
gic_hyp_read hyp read at 0x00000010: 0x00000008
""")
    assert code == 0, err
    assert (ts[0]["virq"], ts[0]["vfiq"], ts[0]["maint"]) == (0, 1, 1)
    assert "gic_update_set_irq" in err


def test_physical_accesses_are_left_out_and_counted(capsys, tmp_path):
    code, ts, err = imported(tmp_path, capsys, """\
gic_dist_read dist read at 0x00000004 size 4: 0x00000008
gic_dist_write dist write at 0x00000000 size 4: 0x00000001
gic_cpu_write cpu 0 iface write at 0x00000004 0x000000f0
gic_update_set_irq cpu[0]: irq = 1
gic_acknowledge_irq cpu 0 acknowledged irq 30
gic_cpu_read cpu 0 iface read at 0x0000000c: 0x0000001e
gic_hyp_read hyp read at 0x00000030: 0x0000000f
""")
    assert code == 0, err
    assert [t["reg"] for t in ts] == ["GICH_ELRSR0"]
    assert "physical accesses left out: 4 (1 GICC read, 1 GICC write, 1 GICD read, 1 GICD write)" in err
    assert "1 gic_acknowledge_irq" in err


def test_physical_iar_read_does_not_lend_levels_to_a_gicv_read(capsys, tmp_path):
    code, ts, err = imported(tmp_path, capsys, """\
gic_acknowledge_irq cpu 0 acknowledged irq 30
gic_cpu_read vcpu 0 iface read at 0x0000000c: 0x000003ff
""")
    assert code == 0 and "virq" not in ts[0]


def test_summary_notes_a_log_without_recomputations(capsys, tmp_path):
    code, ts, err = imported(tmp_path, capsys, "gic_hyp_write hyp write at 0x00000000: 0x00000001\n")
    assert code == 0 and "virq" not in ts[0]
    assert "no gic_update_maintenance_irq events, so no line levels" in err


def test_summary_warns_of_a_recomputation_of_no_access(capsys, tmp_path):
    code, ts, err = imported(tmp_path, capsys, """\
gic_hyp_read hyp read at 0x00000000: 0x00000001
gic_update_maintenance_irq cpu 0: maintenance = 0
gic_hyp_read hyp read at 0x00000000: 0x00000001
""")
    assert code == 0 and not any("virq" in t for t in ts)
    assert "warning: 1 recomputation(s) of the virtual lines belong to no GICH/GICV access" in err


def test_output_to_standard_output(capsys, tmp_path):
    code, out, err = run(capsys, "import", "qemu", write_log(tmp_path, BASIC), "-o", "-", "-q")
    assert code == 0, err
    lines = [json.loads(l) for l in out.splitlines()]
    assert "title" in lines[0] and len(lines) == 7
    assert "standard output" in err


# -- bad input ------------------------------------------------------------------------

BAD = [
    ("gic_hyp_write hyp write at 0x00000100: 0x1a00", "cannot read its message"),        # cut
    ("gic_update_maintenance_irq cpu 0: maintenance =", "cannot read its message"),
    ("gic_hyp_wri", "truncated line"),
    ("gic_hyp_read", "truncated line: gic_hyp_read without its message"),
    ("gic_update_bestirq vcpu 0 irq 42 priority 160 cpu priority mask 248 "
     "cpu running priority 256", "unknown event 'gic_update_bestirq'"),
    ("gic_hyp_read: Bad offset 1f0", "not a QEMU trace event line"),
]


@pytest.mark.parametrize("line, message", BAD)
def test_bad_line_stops_with_file_line_and_no_output(capsys, tmp_path, line, message):
    log = write_log(tmp_path, BASIC + line + "\n" + BASIC)
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "import", "qemu", log, "-o", out, "-q")
    assert code == 2
    assert f"{log}:15: " in err and message in err
    assert not out.exists() and list(tmp_path.iterdir()) == [log]      # no temporary file


def test_bad_input_does_not_touch_an_existing_output(capsys, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n")
    log = write_log(tmp_path, BASIC + "gic_hyp_write hyp write at 0x00000100\n")
    code, _, _ = run(capsys, "import", "qemu", log, "-o", out, "-q")
    assert code == 2 and out.read_text() == "precious\n"


def test_skip_unknown_counts_other_events(capsys, tmp_path):
    other = ("gic_set_irq irq 27 level 1 cpumask 0x00000001 target 0x00000001\n"
             "some other line of the log\n")
    code, ts, err = imported(tmp_path, capsys, other + BASIC + other, "--skip-unknown")
    assert code == 0, err
    assert len(ts) == 6
    assert "lines skipped: 4 (4 unknown)" in err


def test_skip_unknown_still_stops_at_a_malformed_known_event(capsys, tmp_path):
    code, _, err = imported(tmp_path, capsys, BASIC + "gic_lr_entry cpu 0: new lr entry 0:\n",
                            "--skip-unknown")
    assert code == 2 and ":15: gic_lr_entry: cannot read its message" in err


def test_more_than_one_cpu_is_an_error(capsys, tmp_path):
    """QEMU's gic_hyp_* events do not name the CPU: a GICv2 log of several
    CPUs cannot be split (a GICv3 one can: test_qemu_log_v3.py)."""
    code, _, err = imported(tmp_path, capsys, BASIC +
                            "gic_cpu_read vcpu 1 iface read at 0x0000000c: 0x000003ff\n")
    assert code == 2
    assert ":15: CPU 1 after CPU 0: a GICv2 log of more than one CPU cannot be split" in err
    assert "gic-version=3" in err


def test_offset_outside_the_frame(capsys, tmp_path):
    code, _, err = imported(tmp_path, capsys, "gic_hyp_read hyp read at 0x00001000: 0x00000000\n")
    assert code == 2 and ":1: GICH offset 0x1000 is not a word" in err


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("\n\n", "has no GIC trace events in 2 line(s)"),
    ("gic_dist_write dist write at 0x00000000 size 4: 0x00000001\n",
     "no GICH or GICV access in the log"),
])
def test_a_log_without_gich_gicv_accesses_is_an_error(capsys, tmp_path, text, message):
    code, _, err = imported(tmp_path, capsys, text)
    assert code == 2 and message in err
    assert not (tmp_path / "out.jsonl").exists()


def test_only_unknown_lines_skipped_is_an_error(capsys, tmp_path):
    code, _, err = imported(tmp_path, capsys, "hello\n", "--skip-unknown")
    assert code == 2 and "no GIC trace events" in err


def test_a_gicv3_log_is_named_as_such(capsys, tmp_path):
    """GICv3 events are read too (tests/test_qemu_log_v3.py); the summary says which GIC."""
    code, ts, err = imported(tmp_path, capsys, "gicv3_ich_hcr_write GICv3 ICH_HCR_EL2 write "
                             "cpu 0x0 value 0x0\n")
    assert code == 0, err
    assert "a GICv3 log" in err and [t["reg"] for t in ts] == ["ICH_HCR_EL2"]
    code, _, err = imported(tmp_path, capsys, BASIC)
    assert code == 0 and "GICv3" not in err


def test_missing_input(capsys, tmp_path):
    code, _, err = run(capsys, "import", "qemu", tmp_path / "nope.log", "-o", tmp_path / "o")
    assert code == 2 and "nope.log: cannot read" in err


def test_bad_output_path_is_refused_before_work(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(qemu_log.Importer, "feed", lambda *a: pytest.fail("work started"))
    log = write_log(tmp_path, BASIC)
    code, _, err = run(capsys, "import", "qemu", log, "-o", tmp_path)         # a directory
    assert code == 2 and "is a directory" in err
    code, _, err = run(capsys, "import", "qemu", log, "-o", log)              # the input
    assert code == 2 and "is the input file" in err and log.read_text() == BASIC


def test_damaged_gzip_input(capsys, tmp_path):
    whole = gzip.compress(BASIC.encode() * 200)
    log = tmp_path / "cut.log.gz"
    log.write_bytes(whole[: len(whole) // 2])
    code, _, err = run(capsys, "import", "qemu", log, "-o", tmp_path / "o.jsonl", "-q")
    assert code == 2 and f"{log}:" in err and "cannot read on" in err
    assert not (tmp_path / "o.jsonl").exists()


def test_ctrl_c_leaves_no_output(capsys, tmp_path, monkeypatch):
    real = qemu_log.Importer.feed

    def feed(self, lineno, text):
        if lineno == 5:
            raise KeyboardInterrupt
        return real(self, lineno, text)
    monkeypatch.setattr(qemu_log.Importer, "feed", feed)
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    code, _, err = run(capsys, "import", "qemu", write_log(tmp_path, BASIC), "-o", out, "-q")
    assert code == 130 and "interrupted" in err and "Traceback" not in err
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "run.log"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_sigint_while_reading_a_live_log(tmp_path):
    """A real Ctrl-C while the log is still being written (a named pipe):
    exit 130, a short message, no traceback, no output file."""
    fifo, out = tmp_path / "live.log", tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    child = subprocess.Popen([sys.executable, "-m", "vgic.sim.cli", "import", "qemu", str(fifo),
                              "-o", str(out)], stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while True:                          # opens once the importer has opened the log
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as e:
                if child.poll() is not None:
                    pytest.fail(f"the importer ended early: {child.stderr.read()}")
                assert e.errno == errno.ENXIO and time.monotonic() < deadline, e
                time.sleep(0.05)
        os.write(fd, BASIC.encode())
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        err = child.communicate(timeout=60)[1]
        os.close(fd)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert "interrupted; no output written" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.log"]


def test_exit_status_of_the_command(tmp_path):
    log = write_log(tmp_path, BASIC)
    ok = subprocess.run([sys.executable, "-m", "vgic.sim.cli", "import", "qemu", str(log),
                         "-o", str(tmp_path / "ok.jsonl")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = write_log(tmp_path, "gic_hyp_read hyp read at 0x0\n", "bad.log")
    r = subprocess.run([sys.executable, "-m", "vgic.sim.cli", "import", "qemu", str(bad),
                        "-o", str(tmp_path / "bad.jsonl")], capture_output=True, text=True)
    assert r.returncode == 2 and f"{bad}:1: " in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "bad.jsonl").exists()
