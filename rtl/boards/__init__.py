# Ref: docs/boards.md ("Adding a board")
"""FPGA board tops: BoardCore (rtl/board.py) on a board's FTDI UART, with a
PLL clock, a reset button and LEDs (amaranth-boards platforms). Build with
`python3 -m vgic.rtl.boards.build BOARD` (or `make board BOARD=...`).

BOARDS maps each board name to its top class (common.BoardTop subclasses).
"""
from .icebreaker import ICEBreakerTop
from .ulx3s import ULX3S85FTop

__all__ = ["BOARDS"]

BOARDS = {
    "icebreaker": ICEBreakerTop,
    "ulx3s-85f": ULX3S85FTop,
}
