# Ref: docs/boards.md ("The link protocol"); rtl/regbus.py (the core's register bus)
"""The UART link to the core's register bus: an 8N1 receiver and transmitter
and the frame engine of docs/boards.md (requests in; event frames, then one
response out). One clock domain; sized for an iCE40 UP5K beside the core.

- UARTRx: a 2-flop synchronizer, the start bit checked at mid-bit, data bits
  sampled at mid-bit, a byte delivered only with a high stop bit (framing).
- UARTTx: one byte at a time from a 10-bit shift register.
- UARTBridge: parses a request (start byte, 9 more bytes, CRC-8/SMBUS, a
  timeout of 64 bit times between bytes), checks seq and the command, issues
  the request on the register bus (waiting for ready, and a read of a derived
  register for settled too, rtl/regbus.py), captures r_data at ack, waits for
  the core to settle (rtl/regbus.py), then sends an event frame for a
  forwarded deactivation and one for changed lines, then the response. A
  reset request pulses `core_rst` (a local reset of the core) and waits the
  same way.
"""
from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .. import regs
from ..regbus import RegBusSignature, needs_settled

__all__ = ["clocks_per_bit", "crc8_byte", "UARTRx", "UARTTx", "UARTBridge",
           "START_REQ", "START_RESP", "START_EVENT", "MAGIC", "PROTOCOL_VERSION"]

START_REQ, START_RESP, START_EVENT = 0xA5, 0x5A, 0x5B
CMD_READ, CMD_WRITE, CMD_RESET, CMD_INFO = 1, 2, 3, 4
ST_OK, ST_CRC, ST_SEQ, ST_CMD, ST_TIMEOUT = 0, 1, 2, 3, 4
EV_DEACT, EV_LINES = 1, 2
MAGIC = 0x5647_4943                     # "VGIC"
PROTOCOL_VERSION = 1
TIMEOUT_BITS = 64


def clocks_per_bit(clk_freq, baud, tolerance=0.02):
    """The integer divisor clk_freq/baud (rounded); ValueError if below 4 or if
    the rate it gives is off by more than `tolerance`."""
    div = max(1, round(clk_freq / baud))
    if div < 4:
        raise ValueError(f"baud {baud} at {clk_freq} Hz: {clk_freq / baud:.2f} clock cycles "
                         "per bit, at least 4 needed")
    error = abs(clk_freq / div - baud) / baud
    if error > tolerance:
        raise ValueError(f"baud {baud} at {clk_freq} Hz: divisor {div} gives "
                         f"{clk_freq / div:.0f} baud, {error:.1%} off (at most "
                         f"{tolerance:.0%})")
    return div


def crc8_byte(crc, byte):
    """CRC-8/SMBUS (poly 0x07, init 0, no reflection) of one more byte: an int
    for ints; for Amaranth values an XOR network (the CRC is linear: each
    output bit the XOR of some bits of crc ^ byte)."""
    if isinstance(crc, int) and isinstance(byte, int):
        c = crc ^ byte
        for _ in range(8):
            c = ((c << 1) ^ (0x07 if c & 0x80 else 0)) & 0xFF
        return c
    c = crc ^ byte
    return Cat(*[Cat(*[c[i] for i in range(8) if crc8_byte(0, 1 << i) >> k & 1]).xor()
                 for k in range(8)])


class UARTRx(wiring.Component):
    """8N1 receiver: `valid` pulses for one cycle with `data`."""
    rx:    In(1, init=1)
    data:  Out(8)
    valid: Out(1)

    def __init__(self, div):
        self.div = div
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        s1, s2 = Signal(init=1), Signal(init=1)          # synchronizer
        m.d.sync += [s1.eq(self.rx), s2.eq(s1)]
        busy = Signal()
        cnt = Signal(range(self.div))
        bit = Signal(range(10))                           # 0 start, 1-8 data, 9 stop
        m.d.sync += self.valid.eq(0)
        with m.If(~busy):
            with m.If(~s2):                               # a start bit's edge: to mid-bit
                m.d.sync += [busy.eq(1), cnt.eq(self.div // 2 - 1), bit.eq(0)]
        with m.Elif(cnt != 0):
            m.d.sync += cnt.eq(cnt - 1)
        with m.Else():
            m.d.sync += [cnt.eq(self.div - 1), bit.eq(bit + 1)]
            with m.If(bit == 0):
                m.d.sync += busy.eq(~s2)                  # a glitch, not a start bit
            with m.Elif(bit == 9):
                m.d.sync += [busy.eq(0), self.valid.eq(s2)]   # framing: stop bit high
            with m.Else():
                m.d.sync += self.data.eq(Cat(self.data[1:], s2))
        return m


class UARTTx(wiring.Component):
    """8N1 transmitter: a byte taken when `stb` and not `busy`."""
    tx:   Out(1, init=1)
    data: In(8)
    stb:  In(1)
    busy: Out(1)

    def __init__(self, div):
        self.div = div
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        shift = Signal(9)                                 # data bits then stop bit
        left = Signal(range(11))                          # bits still to send
        cnt = Signal(range(self.div))
        m.d.comb += self.busy.eq(left != 0)
        with m.If(~self.busy):
            with m.If(self.stb):
                m.d.sync += [self.tx.eq(0), shift.eq(Cat(self.data, 1)), left.eq(10),
                             cnt.eq(self.div - 1)]
        with m.Elif(cnt != 0):
            m.d.sync += cnt.eq(cnt - 1)
        with m.Else():
            m.d.sync += [cnt.eq(self.div - 1), left.eq(left - 1),
                         self.tx.eq(Mux(left == 1, 1, shift[0])), shift.eq(shift[1:])]
        return m


class UARTBridge(wiring.Component):
    """The frame engine (docs/boards.md) between the UART and the core's
    register bus (`reg`); `core_rst` resets the core (a reset request);
    `lines` = {maint_irq, vfiq, virq}, `deact_valid`/`deact_pintid` the core's;
    `link_error` sticky since reset: a response with a non-zero status."""

    def __init__(self, num_lrs, clk_freq, baud, build_id):
        self.num_lrs, self.clk_freq, self.baud, self.build_id = num_lrs, clk_freq, baud, build_id
        self.div = clocks_per_bit(clk_freq, baud)
        super().__init__({
            "rx": In(1, init=1), "tx": Out(1, init=1),
            "reg": Out(RegBusSignature()),
            "core_rst": Out(1),
            "lines": In(3), "deact_valid": In(1), "deact_pintid": In(10),
            "link_error": Out(1),
        })

    def info_words(self):
        return [MAGIC, self.build_id, self.num_lrs, 1, self.baud, self.clk_freq,
                PROTOCOL_VERSION]

    def elaborate(self, platform):
        m = Module()
        m.submodules.rx = urx = UARTRx(self.div)
        m.submodules.tx = utx = UARTTx(self.div)
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx)]
        reg = self.reg

        # -- the request being received: bytes 1-8, CRC over them ------------
        idx = Signal(range(10))                    # next byte; 0: waiting for a start byte
        seq, cmd = Signal(8), Signal(8)
        addr, data = Signal(16), Signal(32)
        crc = Signal(8)
        timer = Signal(range(TIMEOUT_BITS * self.div + 1))
        exp_seq, any_seq = Signal(8), Signal(init=1)  # any seq after a (board) reset
        status = Signal(3)
        rdata = Signal(32)                         # the response's data
        last_lines = Signal(3)                     # the lines as last reported
        deact, deact_id = Signal(), Signal(10)     # a deactivation to report
        wait = Signal()                            # the core reset's cycle
        derived = Signal()                         # a read that waits for settled

        # -- sender: one frame byte at a time, its CRC computed on the way ----
        tx_idx = Signal(range(9))
        tx_crc = Signal(8)
        cur = Signal(8)                            # the byte at tx_idx of the frame being sent
        ev_kind = Signal(2)
        ev_value = Signal(10)

        with m.If(self.deact_valid):               # at most one per request (rtl/top.py)
            m.d.sync += [deact.eq(1), deact_id.eq(self.deact_pintid)]

        def send(last, nxt):
            """Send the frame whose byte at tx_idx is `cur` (the CRC at `last`)."""
            byte = Mux(tx_idx == last, tx_crc, cur)
            m.d.comb += [utx.data.eq(byte), utx.stb.eq(~utx.busy)]
            with m.If(~utx.busy):
                m.d.sync += [tx_idx.eq(tx_idx + 1),
                             tx_crc.eq(Mux(tx_idx == 0, 0, crc8_byte(tx_crc, byte)))]
                with m.If(tx_idx == last):
                    m.d.sync += tx_idx.eq(0)
                    m.next = nxt

        with m.FSM():
            with m.State("RECEIVE"):
                with m.If(urx.valid):
                    m.d.sync += [timer.eq(0), crc.eq(crc8_byte(crc, urx.data)),
                                 idx.eq(Mux(idx == 9, 0, idx + 1))]
                    with m.Switch(idx):
                        with m.Case(0):
                            m.d.sync += [crc.eq(0), idx.eq(urx.data == START_REQ)]
                        with m.Case(1):
                            m.d.sync += seq.eq(urx.data)
                        with m.Case(2):
                            m.d.sync += cmd.eq(urx.data)
                        with m.Case(3, 4):
                            m.d.sync += addr.eq(Cat(addr[8:], urx.data))
                        with m.Case(5, 6, 7, 8):
                            m.d.sync += data.eq(Cat(data[8:], urx.data))
                        with m.Case(9):
                            m.d.sync += status.eq(Mux(urx.data != crc, ST_CRC, ST_OK))
                            m.next = "CHECK"
                with m.Elif(idx != 0):
                    m.d.sync += timer.eq(timer + 1)
                    with m.If(timer == TIMEOUT_BITS * self.div):   # a frame cut short
                        m.d.sync += [idx.eq(0), timer.eq(0), seq.eq(0), status.eq(ST_TIMEOUT),
                                     rdata.eq(0)]
                        m.next = "EVENTS"
            with m.State("CHECK"):
                m.d.sync += [rdata.eq(0), derived.eq((cmd == CMD_READ) &
                                                     needs_settled(addr[2:regs.CORE_ADDR_BITS]))]
                known = (cmd >= CMD_READ) & (cmd <= CMD_INFO)
                bad_addr = (cmd <= CMD_WRITE) & ((addr[:2] != 0) | (addr >> regs.CORE_ADDR_BITS != 0))
                with m.If(status != ST_OK):
                    m.next = "EVENTS"
                with m.Elif((seq != exp_seq) & ~any_seq & (cmd != CMD_RESET)):
                    m.d.sync += status.eq(ST_SEQ)
                    m.next = "EVENTS"
                with m.Elif(~known | bad_addr):
                    m.d.sync += status.eq(ST_CMD)
                    m.next = "EVENTS"
                with m.Else():
                    m.d.sync += [exp_seq.eq(seq + 1), any_seq.eq(0)]
                    with m.Switch(cmd):
                        with m.Case(CMD_READ, CMD_WRITE):
                            m.next = "ISSUE"
                        with m.Case(CMD_RESET):
                            m.d.sync += [wait.eq(1), self.core_rst.eq(1)]
                            m.next = "CORE_RESET"
                        with m.Case(CMD_INFO):
                            words = self.info_words()
                            with m.Switch(addr):
                                for i, w in enumerate(words):
                                    with m.Case(i):
                                        m.d.sync += rdata.eq(w)
                            m.next = "EVENTS"
            with m.State("ISSUE"):                 # the strobe, once the core takes it
                m.d.comb += [reg.addr.eq(addr[2:regs.CORE_ADDR_BITS]), reg.w_data.eq(data),
                             reg.w_strb.eq(0b1111)]
                with m.If(reg.ready & (reg.settled | ~derived)):
                    m.d.comb += [reg.r_stb.eq(cmd == CMD_READ), reg.w_stb.eq(cmd == CMD_WRITE)]
                    m.next = "ACK"
            with m.State("ACK"):
                with m.If(reg.ack):
                    m.d.sync += rdata.eq(Mux(cmd == CMD_READ, reg.r_data, 0))
                    m.next = "SETTLE"
            # core_rst high for one cycle, then one more cycle before SETTLE looks at
            # ready/settled; core_rst is a register, since it fans out to every core
            # flip-flop
            with m.State("CORE_RESET"):
                m.d.sync += [wait.eq(0), self.core_rst.eq(0)]
                with m.If(wait == 0):
                    m.next = "SETTLE"
            # ready and settled in this cycle: the lines reflect the request from the
            # next cycle on, EVENTS's first (rtl/regbus.py)
            with m.State("SETTLE"):
                with m.If(reg.ready & reg.settled):
                    m.next = "EVENTS"
            with m.State("EVENTS"):
                with m.If(deact):
                    m.d.sync += [deact.eq(0), ev_kind.eq(EV_DEACT), ev_value.eq(deact_id)]
                    m.next = "SEND_EVENT"
                with m.Elif(self.lines != last_lines):
                    m.d.sync += [last_lines.eq(self.lines), ev_kind.eq(EV_LINES),
                                 ev_value.eq(self.lines)]
                    m.next = "SEND_EVENT"
                with m.Else():
                    m.next = "SEND_RESPONSE"
            with m.State("SEND_EVENT"):
                with m.Switch(tx_idx):
                    with m.Case(0):
                        m.d.comb += cur.eq(START_EVENT)
                    with m.Case(1):
                        m.d.comb += cur.eq(ev_kind)
                    with m.Case(2):
                        m.d.comb += cur.eq(ev_value[:8])
                    with m.Case(3):
                        m.d.comb += cur.eq(ev_value[8:])
                send(4, "EVENTS")
            with m.State("SEND_RESPONSE"):
                with m.Switch(tx_idx):
                    with m.Case(0):
                        m.d.comb += cur.eq(START_RESP)
                    with m.Case(1):
                        m.d.comb += cur.eq(seq)
                    with m.Case(2):
                        m.d.comb += cur.eq(status)
                    for k in range(4):
                        with m.Case(3 + k):
                            m.d.comb += cur.eq(rdata.word_select(k, 8))
                    with m.Case(7):
                        m.d.comb += cur.eq(last_lines)
                send(8, "RECEIVE")
                with m.If(status != ST_OK):
                    m.d.sync += self.link_error.eq(1)
        return m

