"""The UART link (docs/boards.md): frames and CRC, and BoardCore simulated in
Verilator (sim/board.py SimSerial) driven by the host code of `vgic board`:
trace replays against the golden model, link faults, timeouts, resets."""
import glob
import gzip
import json
import os
import sys

import pytest

from vgic.rtl import regs
from vgic.rtl.board import BoardCore
from vgic.rtl.bridges.uart import clocks_per_bit
from vgic.sim.board import (Event, Link, LinkError, Response, crc8, decode_event,
                            decode_response, encode_request, open_serial)
from vgic.sim.cli import main

HERE = os.path.dirname(__file__)
QEMU = sorted(glob.glob(os.path.join(HERE, "data", "qemu-7.2", "scenario_*.jsonl")))
KVM = os.path.join(HERE, "data", "kvm", "kvm_linux_1vcpu.jsonl.gz")
LR0 = regs.core_addr("GICH", 0x100)


# -- frames ---------------------------------------------------------------------

def test_crc8_known_vectors():
    assert crc8(b"123456789") == 0xF4            # CRC-8/SMBUS check value
    assert crc8(b"") == 0
    assert crc8(b"\x00") == 0
    assert crc8(b"\x01") == 0x07
    assert crc8(b"\xff") == 0xF3


def test_request_layout():
    f = encode_request(0x12, 2, 0x2004, 0xDEADBEEF)
    assert len(f) == 10 and f[0] == 0xA5 and f[1] == 0x12 and f[2] == 2
    assert f[3:5] == b"\x04\x20" and f[5:9] == bytes.fromhex("efbeadde")
    assert f[9] == crc8(f[1:9])


def test_response_and_event_round_trip():
    for r in (Response(0, 0, 0, 0), Response(255, 4, 0xFFFFFFFF, 7), Response(3, 0, 0x1234, 5)):
        assert decode_response(r.encode()) == r
    for e in (Event(1, 1023), Event(2, 5)):
        assert decode_event(e.encode()) == e
    bad = bytearray(Response(1, 0, 42, 1).encode())
    bad[4] ^= 0x10
    with pytest.raises(LinkError, match="CRC"):
        decode_response(bytes(bad))
    with pytest.raises(LinkError, match="CRC"):
        decode_event(Event(1, 3).encode()[:4] + b"\x00")


def test_baud_divisor_checks():
    assert clocks_per_bit(12_000_000, 3_000_000) == 4
    assert clocks_per_bit(12_000_000, 115_200) == 104
    with pytest.raises(ValueError, match="off"):
        clocks_per_bit(25_000_000, 3_000_000)       # divisor 8: 4% fast
    with pytest.raises(ValueError):
        BoardCore(clk_freq=25_000_000, baud=3_000_000)


def test_pyserial_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "serial", None)
    with pytest.raises(LinkError, match="pyserial"):
        open_serial("/dev/null", 115200)


# -- the simulated board --------------------------------------------------------

def _sim(**kw):
    from vgic.sim.board import SimSerial
    try:
        return SimSerial(**kw)
    except Exception as e:                           # no Verilator / g++
        pytest.skip(f"simulated board not available: {e}")


@pytest.fixture
def board():
    port = _sim()
    yield port
    port.close()


def _replay(tmp_path, trace, name):
    out_b, out_m = tmp_path / f"{name}.board.jsonl", tmp_path / f"{name}.model.jsonl"
    rc = main(["board", "replay", str(trace), "--sim", "--board", "icebreaker", "--compare",
               "-q", "-o", str(out_b)])
    rc_model = main(["replay", str(trace), "--compare", "-q", "-o", str(out_m)])
    assert rc == rc_model                                # the same differences as the model's
    board_lines = out_b.read_text().splitlines()
    model_lines = out_m.read_text().splitlines()
    assert len(board_lines) == len(model_lines)
    for k, (b, m) in enumerate(zip(board_lines, model_lines)):
        assert json.loads(b) == json.loads(m), f"result line {k + 1}"


@pytest.mark.parametrize("trace", QEMU, ids=[os.path.basename(p) for p in QEMU])
def test_replay_qemu_scenarios(tmp_path, trace):
    _sim().close()
    _replay(tmp_path, trace, "qemu")


def test_replay_kvm_slice(tmp_path):
    _sim().close()
    trace = tmp_path / "kvm300.jsonl"
    with gzip.open(KVM, "rt") as f, open(trace, "w") as out:
        n = 0
        for line in f:
            if '"op"' in line:
                out.write(line)
                n += 1
                if n == 300:
                    break
    _replay(tmp_path, trace, "kvm")


def test_info(board, capsys):
    link = Link(board)
    words = link.info_words()
    assert words == [0x56474943, 0, 4, 1, 3_000_000, 30_000_000, 1]
    assert link.info(7) == 0 and link.info(0xFFFF) == 0
    assert main(["board", "info", "--sim"]) == 0
    out = capsys.readouterr().out
    assert "0 magic: 0x56474943 (VGIC)" in out
    assert "2 LRs: 4" in out and "4 baud: 3000000" in out and "6 protocol version: 1" in out


def test_read_write_and_events(board):
    link = Link(board)
    link.reset()
    link.write(LR0, 0x1234)
    r, ev = link.read(LR0)
    assert r.status == 0 and r.data == 0x1234 and ev == []
    # a pending LR with the interface enabled raises virq: a line-change event
    link.write(regs.core_addr("GICH", 0x000), 1)                    # GICH_HCR.En
    link.write(regs.core_addr("GICV", 0x000), 1)                    # GICV_CTLR.EnableGrp0
    link.write(regs.core_addr("GICV", 0x004), 0xF8)                 # GICV_PMR
    r, ev = link.write(LR0, (1 << 28) | 27)                        # pending, group 0, vID 27
    assert r.lines & 1 and Event(2, r.lines) in ev
    assert board.leds[:3] == (r.lines & 1, r.lines >> 1 & 1, r.lines >> 2 & 1)
    # ack it, then EOI of an HW LR forwards its pINTID: a deactivation event
    link.write(LR0, (1 << 31) | (1 << 28) | (45 << 10) | 27)       # HW, pINTID 45
    r, ev = link.read(regs.core_addr("GICV", 0x00C))                # GICV_IAR
    assert r.data & 0x3FF == 27
    r, ev = link.write(regs.core_addr("GICV", 0x010), 27)           # GICV_EOIR
    assert Event(1, 45) in ev
    assert board.leds[3] == 0                                       # no link error


def _check_fault(board, kind, index, message):
    link = Link(board)
    link.reset()
    link.write(LR0, 0xA)
    board.inject(kind, index)
    with pytest.raises(LinkError, match=message):
        link.write(LR0, 0xB)
    assert board.leds[3] == 1                                       # link_error LED
    link.resync()
    r, _ = link.read(LR0)                                           # a fresh good request
    assert r.data == 0xA                                            # the bad one not applied
    r, _ = link.write(LR0, 0xC)
    assert link.read(LR0)[0].data == 0xC


@pytest.mark.parametrize("kind,index,message", [
    ("corrupt", 6, "CRC error"), ("corrupt", 9, "CRC error"), ("corrupt", 1, "sequence error|CRC"),
    ("drop", 5, "frame timeout"), ("dup", 5, "CRC error"), ("dup", 7, "CRC error"),
])
def test_link_faults_detected_not_applied(board, kind, index, message):
    _check_fault(board, kind, index, message)


def test_wrong_seq_and_bad_requests(board):
    link = Link(board)
    link.reset()
    link.write(LR0, 5)
    link.seq = (link.seq + 3) & 0xFF
    with pytest.raises(LinkError, match="sequence error"):
        link.write(LR0, 6)
    link.seq = (link.seq - 3) & 0xFF
    with pytest.raises(LinkError, match="unknown command"):
        link.write(LR0 + 2, 6)                                      # unaligned
    with pytest.raises(LinkError, match="unknown command"):
        link.request(0x09)
    with pytest.raises(LinkError, match="unknown command"):
        link.write(0x4000 | LR0, 6)                                 # beyond the core's window
    assert link.read(LR0)[0].data == 5


def test_frame_cut_short_then_good_frame(board):
    link = Link(board)
    link.reset()
    link.write(LR0, 0x77)
    board.write(encode_request(link.seq, 2, LR0, 0x99)[:6])        # cut short
    r = decode_response(board.read(9))
    assert (r.seq, r.status) == (0, 4)                              # timeout, not applied
    assert link.read(LR0)[0].data == 0x77
    # a reply that never comes: no response in time
    board.write(encode_request(link.seq, 2, LR0, 0x99)[:1])
    board.timeout = 10e-6                                           # 30 bit times
    with pytest.raises(LinkError, match="no response in time"):
        link.read(LR0)


def test_board_reset_mid_frame(board):
    link = Link(board)
    link.reset()
    link.write(LR0, 0x55)
    board.write(encode_request(link.seq, 2, LR0, 0x66)[:4])
    board.run(50 / board.baud)               # the 4 bytes (40 bit times), then 10: no timeout yet
    board.board_reset()
    assert board.leds == (0, 0, 0, 0)
    link.seq = 200                                                 # any seq after a board reset
    assert link.read(LR0)[0].data == 0                             # the core reset too
    link.write(LR0, 0x66)
    assert link.read(LR0)[0].data == 0x66


def test_replay_stops_on_link_error(tmp_path, monkeypatch, capsys):
    from vgic.sim import board as sb
    _sim().close()
    original = sb.SimSerial.write
    count = {"n": 0}

    def faulty(self, data):
        count["n"] += 1
        if count["n"] == 20:
            self.inject("corrupt", 7)
        return original(self, data)
    monkeypatch.setattr(sb.SimSerial, "write", faulty)
    out = tmp_path / "out.jsonl"
    rc = main(["board", "replay", QEMU[0], "--sim", "--board", "icebreaker", "-q", "-o", str(out)])
    assert rc == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "CRC error" in err and "scenario_a.jsonl:" in err and "not applied" in err
