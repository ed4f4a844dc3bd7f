# Ref: docs/boards.md ("The link protocol"); rtl/top.py (the core), rtl/regbus.py
"""BoardCore: the core behind a UART link, for FPGA boards (boards/).

Ports: `rx`/`tx` (the UART, 8N1, idle high), the core's lines (`virq`,
`vfiq`, `maint_irq`, `deact_valid`) for LEDs, and `link_error` (a sticky
flag for an LED: a request frame was rejected since the last reset).
Parameters: `num_lrs`, `clk_freq` (Hz, the clock of the domain it runs in),
`baud` (the UART rate), `build_id` (32 bits, reported by the info command).

The protocol (framing, sequence numbers, CRC, events) is docs/boards.md's;
the host side is sim/board.py.
"""
from amaranth.hdl import Cat, Module, ResetInserter
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import regs
from .bridges.uart import UARTBridge, clocks_per_bit
from .top import VirtualInterface

__all__ = ["BoardCore"]


class BoardCore(wiring.Component):
    rx:          In(1, init=1)
    tx:          Out(1, init=1)
    virq:        Out(1)
    vfiq:        Out(1)
    maint_irq:   Out(1)
    deact_valid: Out(1)
    link_error:  Out(1)

    def __init__(self, num_lrs=4, clk_freq=12_000_000, baud=3_000_000, build_id=0):
        try:
            self.num_lrs = regs.check_num_lrs(num_lrs)
            if not isinstance(clk_freq, int) or clk_freq <= 0:
                raise ValueError(f"clk_freq must be a positive integer (Hz), got {clk_freq!r}")
            if not isinstance(baud, int) or baud <= 0 or clk_freq // baud < 4:
                raise ValueError(f"baud must be a positive integer with at least 4 clock "
                                 f"cycles per bit at {clk_freq} Hz, got {baud!r}")
            clocks_per_bit(clk_freq, baud)       # an integer divisor within 2%
            if not isinstance(build_id, int) or not 0 <= build_id < 2**32:
                raise ValueError(f"build_id must be a 32-bit value, got {build_id!r}")
        except ValueError:
            self._MustUse__silence = True    # never built: no "never used" warning
            raise
        self.clk_freq, self.baud, self.build_id = clk_freq, baud, build_id
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        core = VirtualInterface(self.num_lrs)
        m.submodules.link = link = UARTBridge(self.num_lrs, self.clk_freq, self.baud, self.build_id)
        # a reset request resets the core alone (the link keeps running)
        m.submodules.core = ResetInserter(link.core_rst)(core)
        wiring.connect(m, link.reg, core.bus)
        m.d.comb += [
            link.rx.eq(self.rx), self.tx.eq(link.tx), self.link_error.eq(link.link_error),
            link.lines.eq(Cat(core.virq, core.vfiq, core.maint_irq)),
            link.deact_valid.eq(core.deact_valid), link.deact_pintid.eq(core.deact_pintid),
            self.virq.eq(core.virq), self.vfiq.eq(core.vfiq),
            self.maint_irq.eq(core.maint_irq), self.deact_valid.eq(core.deact_valid),
        ]
        return m
