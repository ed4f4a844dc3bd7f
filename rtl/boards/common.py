# Ref: docs/boards.md (boards, pins, clocks); rtl/board.py (BoardCore)
"""What every board top shares: BoardCore on the board's FTDI UART, the
core's lines on LEDs, the reset (power-on timer, PLL lock, a button), and a
heartbeat LED.

A board (icebreaker.py, ulx3s.py) subclasses BoardTop and supplies:
`make_platform()` (its amaranth-boards platform), `clk_in_freq`, `clk_freq`
(the design clock, Hz), `default_lrs`, `bitstream_ext`, `clock(m, platform)`
(a PLL: returns the clock signal and the PLL's lock output),
`request_io(m, platform)` (the UART pins, the reset button, and the LED
outputs of each line) and `program_cmd(bitstream)` (the openFPGALoader
command line).
"""
from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Module, ResetSignal, Signal
from amaranth.lib import io
from amaranth.lib.cdc import FFSynchronizer

from ..board import BoardCore

__all__ = ["BoardTop", "LINES"]

# The LED functions, in the order docs/boards.md lists them.
LINES = ("virq", "vfiq", "maint_irq", "deact", "link_error", "heartbeat")


class BoardTop(Elaboratable):
    name = None                 # board name (boards/__init__.py BOARDS key)
    clk_in_freq = None          # the board oscillator, Hz
    clk_freq = None             # the design clock (PLL output), Hz
    baud = 3_000_000            # UART rate (FTDI 3 Mbaud)
    default_lrs = 4
    bitstream_ext = None        # "bin" (iCE40) or "bit" (ECP5)
    POR_BITS = 12               # power-on reset: 2**12 clock cycles after PLL lock
    DEACT_STRETCH_S = 0.05      # deact_valid (a one-cycle pulse) lights its LED 50 ms

    def __init__(self, num_lrs=None, build_id=0, clk_freq=None, baud=None):
        self.num_lrs = self.default_lrs if num_lrs is None else num_lrs
        self.build_id = build_id
        if clk_freq is not None:        # another PLL output (a whole number of Hz)
            self.clk_freq = int(clk_freq)
        if baud is not None:            # another UART rate
            self.baud = int(baud)
        try:
            if self.clk_freq % self.baud:
                raise ValueError(f"{self.name}: {self.clk_freq} Hz is not a whole number of "
                                 f"clock cycles per bit at {self.baud} baud")
            self.core = BoardCore(num_lrs=self.num_lrs, clk_freq=self.clk_freq,
                                  baud=self.baud, build_id=build_id)
        except ValueError:
            self._MustUse__silence = True    # never built: no "never used" warning
            raise

    @property
    def clocks_per_bit(self):
        return self.clk_freq // self.baud

    # -- board-specific ------------------------------------------------------
    @classmethod
    def make_platform(cls):                     # -> the amaranth-boards platform
        raise NotImplementedError

    def clock(self, m, platform):               # -> (clock signal, PLL lock signal)
        raise NotImplementedError

    def request_io(self, m, platform):          # -> (rx, tx, button, {line: [led outputs]})
        raise NotImplementedError

    @staticmethod
    def buffer(m, platform, direction, name, number=0):
        """The input (.i) or output (.o) of an io.Buffer on the pin of a
        one-pin resource; the resource's inversion is applied."""
        buf = io.Buffer(direction, platform.request(name, number, dir="-"))
        m.submodules[f"{name}_{number}"] = buf
        return buf.i if direction == "i" else buf.o

    @classmethod
    def program_cmd(cls, bitstream):
        raise NotImplementedError

    # -- shared --------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        clk, locked = self.clock(m, platform)
        platform.add_clock_constraint(clk, self.clk_freq)
        rx, tx, button, leds = self.request_io(m, platform)

        # Reset: held while the PLL is not locked, for 2**POR_BITS cycles after
        # it locks (power-on) and while the button is pressed; the button and
        # the lock are synchronized, the reset itself is a register of the
        # clock it resets (synchronous release).
        m.domains.por = ClockDomain("por", reset_less=True, local=True)
        m.domains.sync = ClockDomain("sync")
        m.d.comb += [ClockSignal("por").eq(clk), ClockSignal("sync").eq(clk)]
        locked_s = Signal()
        button_s = Signal()
        m.submodules.lock_sync = FFSynchronizer(locked, locked_s, o_domain="por")
        m.submodules.button_sync = FFSynchronizer(button, button_s, o_domain="por")
        por = Signal(self.POR_BITS + 1)        # counts up from 0 (FPGA init value)
        por_done = por[-1]
        rst = Signal(init=1)
        with m.If(~locked_s):
            m.d.por += por.eq(0)
        with m.Elif(~por_done):
            m.d.por += por.eq(por + 1)
        m.d.por += rst.eq(~por_done | button_s)
        m.d.comb += ResetSignal("sync").eq(rst)
        self.rst = rst                          # (for tests)

        m.submodules.core = core = self.core
        rx_s = Signal(init=1)
        m.submodules.rx_sync = FFSynchronizer(rx, rx_s, init=1)
        m.d.comb += [core.rx.eq(rx_s), tx.eq(core.tx)]

        # heartbeat: blinks with a period of 1 to 2 s: the PLL runs and the
        # design is out of reset
        beat = Signal(range(self.clk_freq))
        m.d.sync += beat.eq(beat + 1)
        # deact_valid is a one-cycle pulse: stretched to about DEACT_STRETCH_S,
        # counted in ticks of 2**k cycles (the heartbeat counter's low bits:
        # short carry chains, Fmax of the core not of the LED)
        k = max(1, (self.clk_freq // 1000).bit_length() - 1)    # a tick <= 1 ms
        tick = Signal()
        m.d.sync += tick.eq(beat[:k] == 0)
        ticks = max(2, int(self.DEACT_STRETCH_S * self.clk_freq / 2**k))
        stretch = Signal(range(ticks + 1))
        with m.If(core.deact_valid):
            m.d.sync += stretch.eq(ticks)
        with m.Elif(tick & (stretch != 0)):
            m.d.sync += stretch.eq(stretch - 1)

        value = {"virq": core.virq, "vfiq": core.vfiq, "maint_irq": core.maint_irq,
                 "deact": stretch != 0, "link_error": core.link_error,
                 "heartbeat": beat[-1]}
        for line, outs in leds.items():
            for o in outs:
                m.d.comb += o.eq(value[line])
        return m
