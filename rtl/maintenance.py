# Ref: IHI0048B 5.3 (GICH_MISR, GICH_HCR); arch 2.4, R13, R14
"""GICH_MISR and the maintenance interrupt line.

Twin of sim/model/maintenance.py. Every MISR bit is a level computed from the
state (HCR, GICV_CTLR, the LRs) and registered: the per-LR vectors are first
reduced per group of 8 LRs (registered), so MISR is valid two edges after the
state changes (within Timing.settle, rtl/timing.py). MISR ignores HCR.En,
the line does not; the line register loads only when the top says the state
has settled (lines_load), so it never shows a state half way.
"""
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .regs import MAX_LRS, MISR_BITS
from .hyp import HCR
from .vcpu import CTLR

__all__ = ["Maintenance"]


def _any_many(pairs):
    """(any, more than one) over (any, more than one) pairs, as a log-depth tree."""
    while len(pairs) > 1:
        pairs = [(a_any | b_any, a_many | b_many | (a_any & b_any))
                 for (a_any, a_many), (b_any, b_many) in zip(pairs[::2], pairs[1::2])]
    return pairs[0]


class Maintenance(wiring.Component):
    """MISR and the maintenance interrupt line (level, = HCR.En && MISR != 0)."""
    hcr:        In(HCR)
    ctlr:       In(CTLR)
    eisr:       In(MAX_LRS)
    valid:      In(MAX_LRS)      # LR State != 00, one bit per LR
    pending:    In(MAX_LRS)      # LR State == 01
    lines_load: In(1)            # the state has settled: update maint_irq
    misr:       Out(8)
    maint_irq:  Out(1)

    def elaborate(self, platform):
        m = Module()
        h, c, misr, b = self.hcr, self.ctlr, self.misr, MISR_BITS
        # edge 1, per group of 8 LRs: any EOI (EISR), any pending, and for U
        # (zero or one valid LRs) whether any / more than one is valid
        groups = range(MAX_LRS // 8)
        eoi_any, pend_any = Signal(len(groups)), Signal(len(groups))
        valid_any, valid_many = Signal(len(groups)), Signal(len(groups))
        for g in groups:
            any_, many = _any_many([(self.valid[n], 0) for n in range(8 * g, 8 * g + 8)])
            m.d.sync += [
                eoi_any[g].eq(self.eisr[8 * g:8 * g + 8].any()),
                pend_any[g].eq(self.pending[8 * g:8 * g + 8].any()),
                valid_any[g].eq(any_), valid_many[g].eq(many),
            ]
        # edge 2: over the groups (a log-depth tree of (any, more than one) for U)
        at_most_one_valid = ~_any_many([(valid_any[g], valid_many[g]) for g in groups])[1]
        m.d.sync += [
            misr[b["EOI"]].eq(eoi_any != 0),                              # no enable bit
            misr[b["U"]].eq(h.UIE & at_most_one_valid),
            misr[b["LRENP"]].eq(h.LRENPIE & (h.EOICount != 0)),
            misr[b["NP"]].eq(h.NPIE & (pend_any == 0)),
            misr[b["VGrp0E"]].eq(h.VGrp0EIE & c.EnableGrp0),
            misr[b["VGrp0D"]].eq(h.VGrp0DIE & ~c.EnableGrp0),
            misr[b["VGrp1E"]].eq(h.VGrp1EIE & c.EnableGrp1),
            misr[b["VGrp1D"]].eq(h.VGrp1DIE & ~c.EnableGrp1),
        ]
        with m.If(self.lines_load):
            m.d.sync += self.maint_irq.eq(h.En & (misr != 0))            # R13, R14
        return m
