# Ref: docs/boards.md ("The link protocol"); rtl/board.py, rtl/bridges/uart.py (the board side)
"""`vgic board`: the host side of the UART link to a board running BoardCore.

- crc8, encode_request, Response, Event: the frames of docs/boards.md.
- Link: requests over a byte stream (a pyserial port, or SimSerial), one at
  a time, with sequence numbers; every fault is a LinkError naming it.
- SimSerial: the same BoardCore design in Verilator (the UART included),
  with a serial-port-like interface (write, read in simulated time), board
  reset and fault injection, so the same host code runs without a board.
- run: `vgic board replay` (as `vgic replay`, same result lines) and
  `vgic board info`.
"""
import ctypes
import json
import sys
import time
from typing import NamedTuple

from ..rtl import regs
from ..rtl.boards import BOARDS      # each board's top: its design clock and UART rate
from ..rtl.bridges.uart import (CMD_INFO, CMD_READ, CMD_RESET, CMD_WRITE, EV_DEACT, EV_LINES,
                                MAGIC, START_EVENT, START_REQ, START_RESP, crc8_byte)

__all__ = ["BOARDS", "crc8", "encode_request", "decode_response", "decode_event", "Response",
           "Event", "LinkError", "Link", "SimSerial", "open_serial", "INFO_NAMES", "run"]

STATUS = {0: "done", 1: "CRC error", 2: "sequence error", 3: "unknown command or bad address",
          4: "frame timeout (the request was cut short)"}
INFO_NAMES = ("magic", "build id", "LRs", "CPUs", "baud", "clock (Hz)", "protocol version")


def crc8(data, crc=0):
    """CRC-8/SMBUS (poly 0x07, init 0, no reflection, no final XOR)."""
    for b in data:
        crc = crc8_byte(crc, b)
    return crc


def encode_request(seq, cmd, addr=0, data=0):
    body = bytes([seq & 0xFF, cmd]) + addr.to_bytes(2, "little") + data.to_bytes(4, "little")
    return bytes([START_REQ]) + body + bytes([crc8(body)])


class Response(NamedTuple):
    seq: int
    status: int
    data: int
    lines: int                # bit 0 virq, 1 vfiq, 2 maint_irq

    def encode(self):
        body = bytes([self.seq, self.status]) + self.data.to_bytes(4, "little") + bytes([self.lines])
        return bytes([START_RESP]) + body + bytes([crc8(body)])


class Event(NamedTuple):
    kind: int                 # EV_DEACT, EV_LINES
    value: int

    def encode(self):
        body = bytes([self.kind]) + self.value.to_bytes(2, "little")
        return bytes([START_EVENT]) + body + bytes([crc8(body)])


class LinkError(Exception):
    """The link failed: str() says how (and, from Link, for which request)."""


def decode_response(frame):
    if len(frame) != 9 or frame[0] != START_RESP:
        raise LinkError(f"not a response frame: {frame.hex(' ')}")
    if crc8(frame[1:8]) != frame[8]:
        raise LinkError(f"response CRC error (frame {frame.hex(' ')})")
    return Response(frame[1], frame[2], int.from_bytes(frame[3:7], "little"), frame[7])


def decode_event(frame):
    if len(frame) != 5 or frame[0] != START_EVENT:
        raise LinkError(f"not an event frame: {frame.hex(' ')}")
    if crc8(frame[1:4]) != frame[4]:
        raise LinkError(f"event CRC error (frame {frame.hex(' ')})")
    return Event(frame[1], int.from_bytes(frame[2:4], "little"))


def _lines(bits):
    return bits & 1, bits >> 1 & 1, bits >> 2 & 1


class Link:
    """Requests over `port` (write(bytes), read(n) returning fewer bytes on a
    timeout). Each request returns its Response and the Events before it;
    anything else raises LinkError and the request counts as not applied."""

    def __init__(self, port, seq=0):
        self.port, self.seq = port, seq & 0xFF
        self.requests = 0

    def _read(self, n, what):
        got = self.port.read(n)
        if len(got) != n:
            raise LinkError(f"no {what} in time (got {len(got)} of {n} bytes"
                            + (f": {bytes(got).hex(' ')}" if got else "") + ")")
        return bytes(got)

    def request(self, cmd, addr=0, data=0):
        """(Response, [Event]) of one request; LinkError on any failure."""
        seq = self.seq
        self.port.write(encode_request(seq, cmd, addr, data))
        events = []
        while True:
            start = self._read(1, "response")[0]
            if start == START_EVENT:
                events.append(decode_event(bytes([start]) + self._read(4, "event frame")))
                if events[-1].kind not in (EV_DEACT, EV_LINES):
                    raise LinkError(f"event of unknown kind {events[-1].kind:#04x}")
                continue
            if start != START_RESP:
                raise LinkError(f"unexpected byte {start:#04x} where a frame should start")
            r = decode_response(bytes([start]) + self._read(8, "response"))
            if r.status != 0:
                raise LinkError(f"the board answered status {r.status:#04x} "
                                f"({STATUS.get(r.status, 'unknown status')}), seq {r.seq}; "
                                "the request was not applied")
            if r.seq != seq:
                raise LinkError(f"response seq {r.seq}, expected {seq}")
            self.seq = (seq + 1) & 0xFF
            self.requests += 1
            return r, events

    def read(self, addr):
        return self.request(CMD_READ, addr)

    def write(self, addr, value):
        return self.request(CMD_WRITE, addr, value)

    def reset(self):
        return self.request(CMD_RESET)

    def info(self, index):
        return self.request(CMD_INFO, index)[0].data

    def info_words(self):
        return [self.info(i) for i in range(len(INFO_NAMES))]

    def resync(self):
        """Drop whatever the board still sends (after a fault), once it is quiet."""
        if hasattr(self.port, "reset_input_buffer"):
            if hasattr(self.port, "settle"):
                self.port.settle()
            else:
                time.sleep(0.05)
            self.port.reset_input_buffer()


def open_serial(port, baud, timeout=1.0):
    try:
        import serial
    except ImportError:
        raise LinkError("pyserial is needed to talk to a board: pip install pyserial") from None
    try:
        return serial.Serial(port, baud, timeout=timeout)
    except (serial.SerialException, OSError) as e:
        raise LinkError(f"cannot open {port}: {e}") from None


# -- the simulated board ------------------------------------------------------

SIM_TOP = "vgic_board"
HARNESS = r"""
#include "V@TOP@.h"
#include "verilated.h"
#include <cstdint>
#include <deque>

struct Sb {
    VerilatedContext ctx;
    V@TOP@* top;
    int div;                          // clock cycles per bit
    std::deque<uint8_t> in;           // host -> board, not yet on the wire
    bool in_busy; int in_bit, in_cnt; uint16_t in_shift;
    std::deque<uint8_t> out;          // board -> host, decoded
    int out_state, out_cnt, out_bit; uint8_t out_byte;
    uint64_t cycles, framing;
};

// one clock cycle: drive rx, decode tx (sampled mid-bit), rising edge
static void cycle(Sb* s) {
    V@TOP@* t = s->top;
    if (!s->in_busy && !s->in.empty()) {
        s->in_shift = (uint16_t)((1u << 9) | ((unsigned)s->in.front() << 1));
        s->in.pop_front();
        s->in_busy = true; s->in_bit = 0; s->in_cnt = 0;
    }
    if (s->in_busy) {
        t->rx = (s->in_shift >> s->in_bit) & 1;
        if (++s->in_cnt == s->div) { s->in_cnt = 0; if (++s->in_bit == 10) s->in_busy = false; }
    } else {
        t->rx = 1;
    }
    t->clk = 0; t->eval();
    int tx = t->tx & 1;
    if (s->out_state == 0) {
        if (!tx) { s->out_state = 1; s->out_cnt = s->div / 2; s->out_bit = 0; s->out_byte = 0; }
    } else if (--s->out_cnt == 0) {
        s->out_cnt = s->div;
        if (s->out_bit == 0) { if (tx) s->out_state = 0; }
        else if (s->out_bit <= 8) s->out_byte |= (uint8_t)(tx << (s->out_bit - 1));
        else { if (tx) s->out.push_back(s->out_byte); else s->framing++; s->out_state = 0; }
        s->out_bit++;
    }
    t->clk = 1; t->eval();
    s->cycles++;
}

extern "C" {
void* sb_new(int div) {
    Sb* s = new Sb();
    s->ctx.randReset(0);
    s->top = new V@TOP@(&s->ctx, "top");
    s->div = div;
    s->in_busy = false; s->in_bit = s->in_cnt = 0; s->in_shift = 0;
    s->out_state = s->out_cnt = s->out_bit = 0; s->out_byte = 0;
    s->cycles = s->framing = 0;
    s->top->rx = 1; s->top->rst = 1;
    cycle(s);
    s->top->rst = 0;
    return s;
}
void sb_free(void* p) { Sb* s = (Sb*)p; s->top->final(); delete s->top; delete s; }
void sb_write(void* p, const uint8_t* buf, int n) {
    Sb* s = (Sb*)p;
    for (int i = 0; i < n; i++) s->in.push_back(buf[i]);
}
// run until n bytes came back or max_cycles passed; copy up to n, return the count
int sb_read(void* p, uint8_t* buf, int n, uint64_t max_cycles) {
    Sb* s = (Sb*)p;
    for (uint64_t c = 0; (int)s->out.size() < n && c < max_cycles; c++) cycle(s);
    int k = (int)s->out.size() < n ? (int)s->out.size() : n;
    for (int i = 0; i < k; i++) { buf[i] = s->out.front(); s->out.pop_front(); }
    return k;
}
void sb_run(void* p, uint64_t cycles) { Sb* s = (Sb*)p; for (uint64_t c = 0; c < cycles; c++) cycle(s); }
// the board's reset (the whole design) for one cycle
void sb_reset(void* p) { Sb* s = (Sb*)p; s->top->rst = 1; cycle(s); s->top->rst = 0; }
// bytes not yet fully sent to the board; bytes received, not yet read
int sb_pending(void* p) { Sb* s = (Sb*)p; return (int)s->in.size() + (s->in_busy ? 1 : 0); }
int sb_received(void* p) { return (int)((Sb*)p)->out.size(); }
void sb_clear_input(void* p) { ((Sb*)p)->out.clear(); }
uint64_t sb_cycles(void* p) { return ((Sb*)p)->cycles; }
uint64_t sb_framing(void* p) { return ((Sb*)p)->framing; }
// bit 0 virq, 1 vfiq, 2 maint_irq, 3 link_error
int sb_leds(void* p) {
    V@TOP@* t = ((Sb*)p)->top;
    return (t->virq & 1) | (t->vfiq & 1) << 1 | (t->maint_irq & 1) << 2 | (t->link_error & 1) << 3;
}
}
"""

_sim_libs = {}


def _sim_library(num_lrs, clk_freq, baud, build_id, log=None):
    from amaranth.back import verilog
    from ..rtl.board import BoardCore
    from .fast import build_design
    key = (num_lrs, clk_freq, baud, build_id)
    if key not in _sim_libs:
        v = verilog.convert(BoardCore(num_lrs, clk_freq, baud, build_id), name=SIM_TOP,
                            emit_src=False)
        path = build_design(f"board-lrs{num_lrs}", v, HARNESS.replace("@TOP@", SIM_TOP),
                            SIM_TOP, log=log)
        lib = ctypes.CDLL(str(path))
        vp, u64, i = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int
        lib.sb_new.restype = vp
        lib.sb_new.argtypes = [i]
        for name in ("sb_free", "sb_reset", "sb_clear_input"):
            getattr(lib, name).argtypes = [vp]
        lib.sb_write.argtypes = [vp, ctypes.c_char_p, i]
        lib.sb_read.argtypes = [vp, ctypes.c_char_p, i, u64]
        lib.sb_read.restype = i
        lib.sb_run.argtypes = [vp, u64]
        for name, rt in (("sb_pending", i), ("sb_received", i), ("sb_cycles", u64),
                         ("sb_framing", u64), ("sb_leds", i)):
            getattr(lib, name).argtypes = [vp]
            getattr(lib, name).restype = rt
        _sim_libs[key] = lib
    return _sim_libs[key]


class SimSerial:
    """BoardCore in Verilator behind a serial-port-like object: write(bytes)
    queues bytes for the board's rx at the bit timing; read(n) runs simulated
    time until n bytes came back on tx or `timeout` (simulated seconds, after
    the bytes still queued have gone out) passed.

    Faults for tests: inject(kind, index) spoils the next write's byte at
    `index`: "corrupt" (bit 0 flipped), "drop" or "dup"."""

    def __init__(self, num_lrs=4, board="icebreaker", build_id=0, timeout=0.002, log=None,
                 baud=None):
        self.clk_freq, self.baud = BOARDS[board].clk_freq, baud or BOARDS[board].baud
        from ..rtl.bridges.uart import clocks_per_bit
        self.div = clocks_per_bit(self.clk_freq, self.baud)
        self.num_lrs, self.timeout = num_lrs, timeout
        self._lib = _sim_library(num_lrs, self.clk_freq, self.baud, build_id, log)
        self._p = self._lib.sb_new(self.div)
        self._fault = None

    def close(self):
        if self._p:
            self._lib.sb_free(self._p)
            self._p = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def inject(self, kind, index):
        assert kind in ("corrupt", "drop", "dup")
        self._fault = (kind, index)

    def write(self, data):
        data = bytearray(data)
        if self._fault:
            kind, i = self._fault
            self._fault = None
            if kind == "corrupt":
                data[i] ^= 1
            elif kind == "drop":
                del data[i]
            else:
                data.insert(i, data[i])
        self._lib.sb_write(self._p, bytes(data), len(data))
        return len(data)

    def read(self, n):
        bits = 10 * self._lib.sb_pending(self._p)
        limit = bits * self.div + int(self.timeout * self.clk_freq)
        buf = ctypes.create_string_buffer(n)
        got = self._lib.sb_read(self._p, buf, n, limit)
        return buf.raw[:got]

    def run(self, seconds):
        self._lib.sb_run(self._p, int(seconds * self.clk_freq))

    def settle(self):
        """Let the board finish (longer than its frame timeout)."""
        self._lib.sb_run(self._p, (10 * self._lib.sb_pending(self._p) + 200) * self.div)

    def reset_input_buffer(self):
        self._lib.sb_clear_input(self._p)

    def board_reset(self):
        self._lib.sb_reset(self._p)

    @property
    def cycles(self):
        return self._lib.sb_cycles(self._p)

    @property
    def seconds(self):
        """Simulated board time so far."""
        return self.cycles / self.clk_freq

    @property
    def leds(self):
        """(virq, vfiq, maint_irq, link_error) as the board shows them."""
        v = self._lib.sb_leds(self._p)
        return v & 1, v >> 1 & 1, v >> 2 & 1, v >> 3 & 1


# -- vgic board ----------------------------------------------------------------

def _open(args, err):
    """The port (SimSerial for --sim), or None after printing why not."""
    board = getattr(args, "board", None) or "icebreaker"
    try:
        if args.sim:
            return SimSerial(num_lrs=getattr(args, "lrs", 4), board=board, baud=args.baud)
        return open_serial(args.port, args.baud or BOARDS[board].baud)
    except LinkError as e:
        print(f"vgic board: error: {e}", file=err)
    except ValueError as e:                  # a rate the design cannot make
        print(f"vgic board: error: --baud: {e}", file=err)
    except Exception as e:                   # Verilator missing, build failure
        print(f"vgic board: error: the simulated board is not available: {e}", file=err)
    return None


def _where(args):
    return "the simulated board" if args.sim else args.port


def _check_board(link, lrs):
    """Reset the link and the core; check the board is a VGIC with `lrs` LRs."""
    link.resync()
    try:
        words = link.info_words()
    except LinkError:                        # a seq from an earlier session: a reset re-bases it
        link.resync()
        link.reset()
        words = link.info_words()
    if words[0] != MAGIC:
        raise LinkError(f"not a VGIC board: info word 0 is {words[0]:#010x}, "
                        f"expected {MAGIC:#010x}")
    if lrs is not None and words[2] != lrs:
        raise LinkError(f"the board's core has {words[2]} LRs, --lrs says {lrs}")
    link.reset()
    return words


def run_info(args):
    err = sys.stderr
    port = _open(args, err)
    if port is None:
        return 2
    try:
        link = Link(port)
        try:
            _check_board(link, None)
        except LinkError as e:
            print(f"vgic board: error: {_where(args)}: {e}", file=err)
            return 2
        words = link.info_words()
    except LinkError as e:
        print(f"vgic board: error: {_where(args)}: info: {e}", file=err)
        return 2
    finally:
        port.close()
    for i, (name, w) in enumerate(zip(INFO_NAMES, words)):
        shown = {0: f"{w:#010x} ({w.to_bytes(4, 'big').decode('ascii', 'replace')})",
                 1: f"{w:08x}"}.get(i, str(w))
        print(f"{i} {name}: {shown}")
    return 0


def run_replay(args):
    from .files import AtomicOutput, FileError, check_output
    from .progress import StatusLine
    from .replay import Comparison
    from .trace import TraceError, address_map, iter_trace, result_line
    err = sys.stderr
    try:
        check_output(args.output, inputs=[args.trace])
        amap = address_map(args.gich_base, args.gicv_base, args.gic400_base)
    except (FileError, ValueError) as e:
        print(f"vgic board: error: {e}", file=err)
        return 2
    port = _open(args, err)
    if port is None:
        return 2
    link = Link(port)
    comparison = Comparison(keep=args.max_report) if args.compare else None
    progress = None if args.quiet else StatusLine(err, interval=2.0)
    n = skipped = 0
    t = None
    lines = (0, 0, 0)
    started = time.monotonic()
    try:
        try:
            _check_board(link, args.lrs)
        except LinkError as e:
            print(f"vgic board: error: {_where(args)}: {e}", file=err)
            return 2
        board_start = getattr(port, "seconds", None)
        with AtomicOutput(args.output) as out:
            for t in iter_trace(args.trace, amap):
                n += 1
                if t.skipped:
                    skipped += 1
                    r = result_line(t, t.value, *lines, [])
                else:
                    if t.op == "reset":
                        resp, events = link.reset()
                    elif t.op == "read":
                        resp, events = link.read(regs.core_addr(t.frame, t.offset))
                    elif t.strb != 0xF:              # a partial write: no effect (arch 1.4)
                        resp, events = link.request(CMD_INFO, 0)
                    else:
                        resp, events = link.write(regs.core_addr(t.frame, t.offset), t.value)
                    lines = _lines(resp.lines)
                    value = resp.data if t.op == "read" else t.value
                    r = result_line(t, value, *lines,
                                    [e.value for e in events if e.kind == EV_DEACT])
                out.write(json.dumps(r) + "\n")
                if comparison is not None:
                    comparison.add(t, r)
                if progress is not None and n % 256 == 0 and progress.due():
                    progress.show(f"board replay: {n:,} transactions, "
                                  f"{n / progress.elapsed:,.0f}/s")
            if n == 0:
                print(f"vgic board: error: {args.trace}: no transactions (lines with 'op')",
                      file=err)
                return 2
            out.commit()
        board_time = port.seconds - board_start if board_start is not None else None
    except TraceError as e:
        _finish(progress)
        print(f"vgic board: error: {e}", file=err)
        return 2
    except LinkError as e:
        _finish(progress)
        what = f"{t.op} {t.reg}".rstrip() if t is not None else "request"
        print(f"vgic board: error: link to {_where(args)} failed at {args.trace}:{t.lineno} "
              f"(seq {t.seq}, {what}, request seq {link.seq}): {e}; no output written", file=err)
        return 2
    except KeyboardInterrupt:
        _finish(progress)
        where = f" (last: {args.trace}:{t.lineno}, seq {t.seq})" if t is not None else ""
        print(f"\nvgic board: interrupted after {n:,} transactions{where}; no output written",
              file=err)
        return 130
    finally:
        port.close()
    _finish(progress)
    wall = max(time.monotonic() - started, 1e-9)
    ran = n - skipped
    print(f"vgic board: {ran} transactions on {args.board} ({args.lrs} LRs) over "
          f"{_where(args)}, {ran / wall:,.0f}/s"
          + (f", {skipped} physical-GIC accesses skipped" if skipped else ""), file=err)
    if board_time is not None:
        print(f"vgic board: simulated board time {board_time * 1e3:.3f} ms at {port.baud} baud: "
              f"{ran / max(board_time, 1e-12):,.0f} transactions/s on the board", file=err)
    return 0 if comparison is None else comparison.verdict("vgic board", args.trace, n, skipped, err)


def _finish(progress):
    if progress is not None:
        progress.finish()


def run(args):
    return run_info(args) if args.board_command == "info" else run_replay(args)
