"""Helpers of the command-line tests (test_replay*, test_qemu_log*): run
`vgic` in-process and write a trace file. Not a test module."""
import json

from vgic.sim.cli import main


def run(capsys, *argv):
    """`vgic ARGV...`: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_trace(tmp_path, *objs_or_text):
    """A trace file t.jsonl of JSON objects (or ready-made lines)."""
    p = tmp_path / "t.jsonl"
    p.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs_or_text))
    return p
