# Ref: IHI0048B 5.3 (GICH_MISR, GICH_HCR); arch 2.4, R13, R14
"""GICH_MISR and the maintenance interrupt line.

Twin of sim/model/maintenance.py. Every MISR bit is a level computed from the
state (HCR from the hyp block, `gich.hcr`; GICV_CTLR from the vCPU,
`gicv.ctlr`; the LRs' status vectors from the LR bank, `status`) and
registered (`gich.misr`, read through the hyp block): the per-LR vectors
are first reduced per group of 8 LRs (registered), so MISR is valid two
edges after the state changes (within Timing.settle, rtl/timing.py). MISR
ignores HCR.En, the line does not; the line register loads only when the
top says the state has settled (lines_load), so it never shows a state
half way.
"""
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import regs
from .regs import MAX_LRS, MISR_BITS
from .lr_bank import LRStatusSignature
from .hyp import GICHSignature
from .vcpu import GICVSignature

__all__ = ["Maintenance"]


def _any_many(pairs):
    """(any, more than one) over (any, more than one) pairs, as a log-depth tree."""
    while len(pairs) > 1:
        pairs = [(a_any | b_any, a_many | b_many | (a_any & b_any))
                 for (a_any, a_many), (b_any, b_many) in zip(pairs[::2], pairs[1::2])]
    return pairs[0]


class Maintenance(wiring.Component):
    """MISR and the maintenance interrupt line (level, = HCR.En && MISR != 0).

    Ports: gich (GICHSignature: HCR in, MISR out), gicv (GICVSignature: CTLR
    is used), status (LRStatusSignature: eisr, valid, pending are used),
    lines_load (the state has settled: update maint_irq), maint_irq."""

    def __init__(self, num_lrs, v3=None):
        # GICv3 (v3 2.4): the same MISR bits from the same fields (VENG0/1 are
        # GICV_CTLR's EnableGrp0/1, v3 open point 19)
        self.num_lrs = regs.block_num_lrs(self, num_lrs)
        super().__init__({
            "gich":       In(GICHSignature(v3)),
            "gicv":       In(GICVSignature(v3)),
            "status":     In(LRStatusSignature(num_lrs, v3)),
            "lines_load": In(1),
            "maint_irq":  Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        h, c, misr, b = self.gich.hcr, self.gicv.ctlr, self.gich.misr, MISR_BITS
        eisr, valid, pending = self.status.eisr, self.status.valid, self.status.pending
        # edge 1, per group of 8 LRs: any EOI (EISR), any pending, and for U
        # (zero or one valid LRs) whether any / more than one is valid
        groups = range(MAX_LRS // 8)
        eoi_any, pend_any = Signal(len(groups)), Signal(len(groups))
        valid_any, valid_many = Signal(len(groups)), Signal(len(groups))
        for g in groups:
            any_, many = _any_many([(valid[n], 0) for n in range(8 * g, 8 * g + 8)])
            m.d.sync += [
                eoi_any[g].eq(eisr[8 * g:8 * g + 8].any()),
                pend_any[g].eq(pending[8 * g:8 * g + 8].any()),
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
