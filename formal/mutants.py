# Ref: issue 7 (mutation check); the rule each mutant breaks is named in its docstring.
"""Deliberately broken variants of the RTL, one per property group.

Each must make its group FAIL with a counterexample from reset
(tests/test_formal.py checks it), which shows that the group's properties
constrain the design and are not vacuous. A mutant is the real
VirtualInterface with one connection of rtl/top.py re-driven after
elaboration: Amaranth keeps the last assignment to a signal in a module, so
the added statement replaces the top's own. Nothing here is part of the design.
"""
from amaranth.hdl import Cat, Const, Signal

from vgic.rtl import regs
from vgic.rtl.regbus import ADDR_WIDTH, predecode
from vgic.rtl.top import VirtualInterface

__all__ = ["MUTANTS", "Mutant", "describe", "mutant"]


class Mutant(VirtualInterface):
    """VirtualInterface with `patch(top, module)` applied to the top's module."""

    def __init__(self, num_lrs, patch):
        self.patch = patch
        super().__init__(num_lrs=num_lrs)

    def elaborate(self, platform):
        m = super().elaborate(platform)
        self.patch(self, m)
        return m


def elrsr_ignores_eoi(top, m):
    """GICH_ELRSR reads State == 00, forgetting `HW == 1 || EOI == 0` (arch 2.6)."""
    lrs, hyp = m.submodules["lr_bank"], m.submodules["hyp"]
    m.d.comb += hyp.elrsr.eq(Cat(lr.State == regs.INVALID for lr in lrs.lr))


def np_ignores_pending(top, m):
    """MISR.NP is set only with no valid LR, not with no pending LR (arch 2.4)."""
    lrs, maint = m.submodules["lr_bank"], m.submodules["maintenance"]
    m.d.comb += maint.pending.eq(lrs.valid)


def pmr_ignored(top, m):
    """Candidate selection without the priority mask (R5: prio < PMR)."""
    lrs = m.submodules["lr_bank"]
    port = lrs.vmprimask_next if hasattr(lrs, "vmprimask_next") else lrs.vmprimask
    m.d.comb += port.eq(Const(0x1F, 5))


def gicv_aliases_gich(top, m):
    """The GICH decode ignores the frame: a guest write at GICV offset X also
    writes GICH offset X (GICV_CTLR -> GICH_HCR, GICV+0x100 -> GICH_LR0), arch 2.8, 1.4."""
    bus, hyp = top.bus, m.submodules["hyp"]
    addr, w_ok = Signal(ADDR_WIDTH, name="mutant_addr"), Signal(name="mutant_w_ok")
    m.d.sync += [addr.eq(bus.addr & 0x3FF),      # as the top's entry registers them
                 w_ok.eq(bus.w_stb & bus.ready & (bus.w_strb == 0b1111))]
    m.d.comb += [hyp.addr.eq(addr), hyp.dec.eq(predecode(addr)), hyp.w_stb.eq(w_ok)]


def eoir_writes_apr(top, m):
    """A GICV_EOIR write also lands in GICH_APR instead of only dropping the
    highest active priority (R4, R8)."""
    bus, hyp, vcpu = top.bus, m.submodules["hyp"], m.submodules["vcpu"]
    eoir = [Signal(name=f"mutant_eoir_{k}") for k in range(2)]   # decoded as the blocks do
    m.d.sync += [eoir[0].eq(bus.w_stb & bus.ready & (bus.w_strb == 0b1111)
                            & (bus.addr == regs.GICV_EOIR.word)),
                 eoir[1].eq(eoir[0])]
    m.d.comb += vcpu.apr_w_stb.eq(hyp.apr_w_stb | eoir[1])


def matched_eoi_counts(top, m):
    """EOICount also increments when an EOIR/DIR did find its LR (R11: only
    unmatched EOIs count)."""
    hyp, vcpu = m.submodules["hyp"], m.submodules["vcpu"]
    m.d.comb += hyp.eoicount_inc.eq(vcpu.eoicount_inc | vcpu.deact_stb)


def writes_not_acked(top, m):
    """Only reads get their ack, two cycles early (rtl/regbus.py: every request,
    LATENCY = 3 cycles later)."""
    m.d.sync += top.bus.ack.eq(top.bus.r_stb)


def eoicount_stuck(top, m):
    """EOICount never increments (R11), so its wrap is unreachable."""
    m.d.comb += m.submodules["hyp"].eoicount_inc.eq(0)


# name -> (group that must fail, patch, BMC depth from reset at 1 LR). The
# depth covers the transactions of the shortest counterexample, each followed
# by the bus hold-off (rtl/top.py: 7 cycles at 1 LR, 10 after an EOI), plus 2
# (measured: the step of the first failing assertion + 2).
MUTANTS = {
    "elrsr_ignores_eoi":  ("elrsr_eisr", elrsr_ignores_eoi, 20),
    "np_ignores_pending": ("misr", np_ignores_pending, 24),
    "pmr_ignored":        ("iar", pmr_ignored, 36),
    "gicv_aliases_gich":  ("isolation", gicv_aliases_gich, 13),
    "eoir_writes_apr":    ("apr", eoir_writes_apr, 13),
    "matched_eoi_counts": ("eoi", matched_eoi_counts, 24),
    "writes_not_acked":   ("bus", writes_not_acked, 4),
    "eoicount_stuck":     ("cover", eoicount_stuck, None),   # cover: the group's depth
}


def describe(name):
    """(group, description) of a named mutant."""
    if name not in MUTANTS:
        raise ValueError(f"unknown mutant {name!r}; known: {', '.join(MUTANTS)}")
    group, patch, _ = MUTANTS[name]
    return group, " ".join(patch.__doc__.split())


def mutant(name, num_lrs):
    """The broken top of a named mutant."""
    describe(name)
    return Mutant(num_lrs, MUTANTS[name][1])
