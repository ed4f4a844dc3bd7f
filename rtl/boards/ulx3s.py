# Ref: docs/boards.md ("ULX3S"); amaranth_boards/ulx3s.py (pins); Lattice
# TN1263 "ECP5 and ECP5-5G sysCLOCK PLL/DLL Design and Usage Guide" (EHXPLLL)
"""ULX3S 85F (LFE5U-85F-6BG381): BoardCore on the FT231X (the USB port US1).

Clock: the 25 MHz oscillator (G2) into EHXPLLL, 75 MHz out: 25 clock cycles
per bit at 3 Mbaud. LEDs D0-D3: virq, vfiq, maint_irq, deact_valid
(stretched); D4 link_error; D7 a heartbeat. Reset: button F1 (FIRE1, R1).
64 LRs (the architecture's maximum; the LFE5U-85F has room for it and it
meets 75 MHz with margin).
"""
import os

from amaranth.hdl import Instance, Signal
from amaranth.lib import io

from .common import BoardTop

__all__ = ["ULX3S85FTop", "ecp5_pll"]


def ecp5_pll(f_in, f_out):
    """EHXPLLL settings (CLKI_DIV, CLKFB_DIV, CLKOP_DIV) for exactly f_out Hz
    from f_in Hz, feedback from CLKOP: f_out = f_in * CLKFB_DIV / CLKI_DIV,
    VCO = f_out * CLKOP_DIV in 400-800 MHz, PFD >= 3.125 MHz (TN1263, as ecppll)."""
    for clki in range(1, 129):
        pfd = f_in / clki
        if pfd < 3.125e6:
            break
        for clkfb in range(1, 81):
            if f_in * clkfb != f_out * clki:
                continue
            ok = [d for d in range(1, 129) if 400e6 <= f_out * d <= 800e6]
            if ok:      # the VCO nearest the middle of its range
                return clki, clkfb, min(ok, key=lambda d: abs(f_out * d - 600e6))
    raise ValueError(f"no exact ECP5 PLL setting for {f_out} Hz from {f_in} Hz")


class ULX3S85FTop(BoardTop):
    name = "ulx3s-85f"
    clk_in_freq = 25_000_000
    clk_freq = 75_000_000
    default_lrs = 64
    bitstream_ext = "bit"

    @classmethod
    def make_platform(cls):
        from amaranth_boards.ulx3s import ULX3S_85F_Platform
        return ULX3S_85F_Platform()

    def clock(self, m, platform):
        clk_in = self.buffer(m, platform, "i", "clk25", 0)
        # (keep: the net keeps the name the clock constraint uses)
        clk = Signal(name="clk", attrs={"keep": 1})
        locked = Signal(name="pll_locked")
        clki, clkfb, clkop = ecp5_pll(self.clk_in_freq, self.clk_freq)
        m.submodules.pll = Instance(
            "EHXPLLL",
            a_FREQUENCY_PIN_CLKI=str(self.clk_in_freq // 1_000_000),
            a_FREQUENCY_PIN_CLKOP=str(self.clk_freq // 1_000_000),
            a_ICP_CURRENT="12", a_LPF_RESISTOR="8",
            a_MFG_ENABLE_FILTEROPAMP="1", a_MFG_GMCREF_SEL="2",
            p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED",
            p_STDBY_ENABLE="DISABLED", p_DPHASE_SOURCE="DISABLED",
            p_OUTDIVIDER_MUXA="DIVA", p_OUTDIVIDER_MUXB="DIVB",
            p_OUTDIVIDER_MUXC="DIVC", p_OUTDIVIDER_MUXD="DIVD",
            p_CLKI_DIV=clki, p_CLKFB_DIV=clkfb,
            p_CLKOP_ENABLE="ENABLED", p_CLKOP_DIV=clkop,
            p_CLKOP_CPHASE=clkop - 1, p_CLKOP_FPHASE=0,
            p_FEEDBK_PATH="CLKOP",
            i_CLKI=clk_in, i_CLKFB=clk, o_CLKOP=clk,
            i_RST=0, i_STDBY=0,
            i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1,
            i_PHASELOADREG=1, i_PLLWAKESYNC=0, i_ENCLKOP=0,
            o_LOCK=locked)
        return clk, locked

    def request_io(self, m, platform):
        uart = platform.request("uart", 0, dir="-")       # (rts, dtr: left unused)
        rx, tx = io.Buffer("i", uart.rx), io.Buffer("o", uart.tx)
        m.submodules.uart_rx, m.submodules.uart_tx = rx, tx
        button = self.buffer(m, platform, "i", "button_fire", 0)     # FIRE1, active high
        led = {n: self.buffer(m, platform, "o", "led", n) for n in (0, 1, 2, 3, 4, 7)}
        leds = {"virq": [led[0]], "vfiq": [led[1]], "maint_irq": [led[2]],
                "deact": [led[3]], "link_error": [led[4]], "heartbeat": [led[7]]}
        return rx.i, tx.o, button, leds

    @classmethod
    def program_cmd(cls, bitstream):
        # ECP5: into the SRAM (lost at power-off; add -f for the flash)
        tool = os.environ.get("OPENFPGALOADER", "openFPGALoader")
        return [tool, "-b", "ulx3s", "-m", str(bitstream)]
