# Ref: docs/boards.md ("iCEBreaker"); amaranth_boards/icebreaker.py (pins);
# Lattice TN1251 "iCE40 sysCLOCK PLL Design and Usage Guide" (SB_PLL40_PAD)
"""iCEBreaker (iCE40UP5K-SG48): BoardCore on the FT2232H's second channel.

Clock: the 12 MHz oscillator (pin 35) into SB_PLL40_PAD, 30 MHz out: 10 clock
cycles per bit at 3 Mbaud (36 MHz, 12 per bit, no longer meets timing since
the core takes back-to-back requests: the design reaches about 35.6 MHz
post-route on the UP5K). LEDs: the break-off PMOD's four green LEDs show
virq, vfiq, maint_irq and deact_valid (stretched), its red LED and the main
board's red LED link_error, the main board's green LED a heartbeat. Reset:
the user button (BTN_N, pin 10).
"""
import os

from amaranth.hdl import Instance, Signal
from amaranth.lib import io

from .common import BoardTop

__all__ = ["ICEBreakerTop", "ice40_pll"]


def ice40_pll(f_in, f_out):
    """SB_PLL40 settings (DIVR, DIVF, DIVQ, FILTER_RANGE) for exactly f_out Hz
    from f_in Hz (SIMPLE feedback): f_out = f_in * (DIVF+1) / ((DIVR+1) * 2**DIVQ),
    PFD 10-133 MHz, VCO 533-1066 MHz (TN1251, as icepll)."""
    for divr in range(16):
        pfd = f_in / (divr + 1)
        if not 10e6 <= pfd <= 133e6:
            continue
        for divq in range(1, 7):
            for divf in range(128):
                vco = pfd * (divf + 1)
                if 533e6 <= vco <= 1066e6 and vco / 2**divq == f_out:
                    ranges = [(17e6, 1), (26e6, 2), (44e6, 3), (66e6, 4), (101e6, 5)]
                    flt = next((r for limit, r in ranges if pfd < limit), 6)
                    return divr, divf, divq, flt
    raise ValueError(f"no exact iCE40 PLL setting for {f_out} Hz from {f_in} Hz")


class ICEBreakerTop(BoardTop):
    name = "icebreaker"
    clk_in_freq = 12_000_000
    clk_freq = 30_000_000
    default_lrs = 4
    bitstream_ext = "bin"

    @classmethod
    def make_platform(cls):
        from amaranth_boards.icebreaker import ICEBreakerPlatform
        platform = ICEBreakerPlatform()
        platform.add_resources(platform.break_off_pmod)
        return platform

    def clock(self, m, platform):
        pad = platform.request("clk12", 0, dir="-")
        # (keep: the net keeps the name the clock constraint uses)
        clk = Signal(name="clk", attrs={"keep": 1})
        locked = Signal(name="pll_locked")
        divr, divf, divq, flt = ice40_pll(self.clk_in_freq, self.clk_freq)
        m.submodules.pll = Instance(
            "SB_PLL40_PAD",
            p_FEEDBACK_PATH="SIMPLE",
            p_DIVR=divr, p_DIVF=divf, p_DIVQ=divq, p_FILTER_RANGE=flt,
            i_PACKAGEPIN=pad.io,
            i_RESETB=1, i_BYPASS=0,
            o_PLLOUTGLOBAL=clk, o_LOCK=locked)
        return clk, locked

    def request_io(self, m, platform):
        uart = platform.request("uart", 0, dir="-")
        rx, tx = io.Buffer("i", uart.rx), io.Buffer("o", uart.tx)
        m.submodules.uart_rx, m.submodules.uart_tx = rx, tx
        button = self.buffer(m, platform, "i", "button", 0)  # BTN_N, inverted by the resource
        led = {n: self.buffer(m, platform, "o", "led", n) for n in range(7)}
        leds = {
            "virq": [led[3]],                    # break-off LED2 (green)
            "vfiq": [led[4]],                    # break-off LED3 (green)
            "maint_irq": [led[5]],               # break-off LED4 (green)
            "deact": [led[6]],                   # break-off LED5 (green)
            "link_error": [led[2], led[0]],      # break-off LED1 (red) and main red LED
            "heartbeat": [led[1]],               # main board green LED
        }
        return rx.i, tx.o, button, leds

    @classmethod
    def program_cmd(cls, bitstream):
        # iCE40: into the SPI flash (the FPGA then boots from it); openFPGALoader's
        # "ice40_generic" board is the iCEBreaker's FT2232H wiring
        tool = os.environ.get("OPENFPGALOADER", "openFPGALoader")
        return [tool, "-b", "ice40_generic", "-f", str(bitstream)]
