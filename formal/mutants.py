# Ref: issue 7 (mutation check); the rule each mutant breaks is named in its docstring.
"""Deliberately broken variants of the RTL, at least one per property group.

Each must make its group FAIL with a counterexample from reset
(tests/test_formal.py checks it), which shows that the group's properties
constrain the design and are not vacuous. A mutant is the real
VirtualInterface with one connection of rtl/top.py re-driven after
elaboration: Amaranth keeps the last assignment to a signal in a module, so
the added statement replaces the top's own. For the groups of a Cluster
(formal/harness.py CLUSTER_GROUPS) it is the real 2-CPU Cluster with
connections of rtl/cluster.py re-driven the same way (ClusterMutant).
Nothing here is part of the design.
"""
from dataclasses import replace

from amaranth.hdl import Cat, Const, Mux, Signal

from vgic.rtl import regs, sysregs
from vgic.rtl.cluster import Cluster
from vgic.rtl.regbus import ADDR_WIDTH, predecode
from vgic.rtl.top import VirtualInterface

__all__ = ["MUTANTS", "V3_MUTANTS", "Mutant", "ClusterMutant", "describe", "mutant"]


class Mutant(VirtualInterface):
    """VirtualInterface with `patch(top, module)` applied to the top's module
    (and `patch.prepare(top)`, if it has one, before the top elaborates).
    `params`: VirtualInterface's (arch="v3" and the V3Config parameters for
    the GICv3 groups)."""

    def __init__(self, num_lrs, patch, **params):
        self.patch = patch
        super().__init__(num_lrs=num_lrs, **params)
        if hasattr(patch, "prepare"):
            patch.prepare(self)

    def elaborate(self, platform):
        m = super().elaborate(platform)
        self.patch(self, m)
        return m


class ClusterMutant(Cluster):
    """Cluster (formal/harness.py CLUSTER_CPUS CPUs) with `patch(cluster,
    module)` applied to the cluster's module."""

    def __init__(self, num_cpus, num_lrs, patch):
        self.patch = patch
        super().__init__(num_cpus, num_lrs)

    def elaborate(self, platform):
        m = super().elaborate(platform)
        self.patch(self, m)
        return m


def elrsr_ignores_eoi(top, m):
    """GICH_ELRSR reads State == 00, forgetting `HW == 1 || EOI == 0` (arch 2.6)."""
    lrs, hyp = m.submodules["lr_bank"], m.submodules["hyp"]
    m.d.comb += hyp.status.elrsr.eq(Cat(lr.State == regs.INVALID for lr in lrs.status.lr))


def np_ignores_pending(top, m):
    """MISR.NP is set only with no valid LR, not with no pending LR (arch 2.4)."""
    lrs, maint = m.submodules["lr_bank"], m.submodules["maintenance"]
    m.d.comb += maint.status.pending.eq(lrs.status.valid)


def pmr_ignored(top, m):
    """Candidate selection without the priority mask (R5: prio < PMR)."""
    m.d.comb += m.submodules["lr_bank"].select.vmprimask.eq(Const(0x1F, 5))


def gicv_aliases_gich(top, m):
    """The GICH decode ignores the frame: a guest write at GICV offset X also
    writes GICH offset X (GICV_CTLR -> GICH_HCR, GICV+0x100 -> GICH_LR0), arch 2.8, 1.4."""
    bus, hyp = top.bus, m.submodules["hyp"]
    addr, w_ok = Signal(ADDR_WIDTH, name="mutant_addr"), Signal(name="mutant_w_ok")
    m.d.sync += [addr.eq(bus.addr & 0x3FF),      # as the top's entry registers them
                 w_ok.eq(bus.w_stb & bus.ready & (bus.w_strb == 0b1111))]
    m.d.comb += [hyp.addr.eq(addr), hyp.dec.eq(predecode(addr)), hyp.w_stb.eq(w_ok)]


def eoir_writes_apr(top, m):
    """A GICV_EOIR/AEOIR/DIR write also lands in GICH_APR (its value) instead
    of only dropping the highest active priority (R4, R8, R9)."""
    hyp, vcpu = m.submodules["hyp"], m.submodules["vcpu"]
    m.d.comb += vcpu.control.apr_w_stb.eq(hyp.control.apr_w_stb | vcpu.eoi_stb)   # in its decode cycle


def matched_eoi_counts(top, m):
    """EOICount also increments when an EOIR/DIR did find its LR (R11: only
    unmatched EOIs count)."""
    hyp, vcpu = m.submodules["hyp"], m.submodules["vcpu"]
    m.d.comb += hyp.control.eoicount_inc.eq(vcpu.control.eoicount_inc | vcpu.select.deact_stb)


def writes_not_acked(top, m):
    """Only reads get their ack, two cycles early (rtl/regbus.py: every request,
    LATENCY = 3 cycles later)."""
    m.d.sync += top.bus.ack.eq(top.bus.r_stb)


def settled_early(top, m):
    """`settled` rises one cycle too early after every request (rtl/timing.py
    settle one less than the pipelines need), so a read of derived state
    (IAR, HPPIR, ...) and the lines can see a stale pipeline."""


def _settle_one_less(top):
    for name in ("settle", "settle_masks"):      # every settle figure the top loads
        if hasattr(top.timing, name):
            setattr(top.timing, name, getattr(top.timing, name) - 1)


settled_early.prepare = _settle_one_less


def eoicount_stuck(top, m):
    """EOICount never increments (R11), so its wrap is unreachable."""
    m.d.comb += m.submodules["hyp"].control.eoicount_inc.eq(0)


def _route(top, m, target):
    """Re-drive rtl/cluster.py's routing: each request goes to the CPU
    interface `target(bus, view, view_cpu)` (view: a word of the
    processor-specific views, view_cpu: the CPU its address names), strobes
    and flow control alike."""
    bus = top.bus
    view = bus.addr[10:12] == regs.ALIAS_BASE >> 12
    to = Signal(4, name="mutant_target")
    m.d.comb += to.eq(target(bus, view, bus.addr[7:10]))
    nowhere = to >= top.num_cpus
    for n, cpu in enumerate(top.cpus):
        m.d.comb += [cpu.bus.r_stb.eq(bus.r_stb & (to == n)),
                     cpu.bus.w_stb.eq(bus.w_stb & (to == n))]
    m.d.comb += [
        bus.ready.eq(Mux(nowhere, 1, Cat(c.bus.ready for c in top.cpus).bit_select(to, 1))),
        bus.settled.eq(Mux(nowhere, 1, Cat(c.bus.settled for c in top.cpus).bit_select(to, 1))),
    ]


def view_off_by_one(top, m):
    """The processor-specific views' CPU decode is off by one: the view of CPU
    n (0x1000 + 0x200 n) reaches CPU n + 1 (rtl/cluster.py)."""
    _route(top, m, lambda bus, view, view_cpu: Mux(view, view_cpu + 1, bus.cpu))


def gicv_to_all(top, m):
    """A GICV write by any CPU also lands in every other CPU's GICV (the
    requester's number ignored for the GICV frame's writes): one guest's
    EOIR, CTLR, PMR ... reach every CPU interface (rtl/cluster.py)."""
    bus = top.bus
    view = bus.addr[10:12] == regs.ALIAS_BASE >> 12
    to = Mux(view, bus.addr[7:10], bus.cpu)              # the cluster's own routing
    gicv = bus.addr >= regs.FRAME_BASE["GICV"] >> 2      # words 0x800-0xFFF
    for n, cpu in enumerate(top.cpus):
        m.d.comb += cpu.bus.w_stb.eq(bus.w_stb & ((to == n) | gicv))


# name -> (group that must fail, patch, BMC depth from reset at 1 LR). The
# depth covers the shortest counterexample (requests back to back, a read of
# derived state once settled, rtl/timing.py) with a margin: measured, the
# step of the first failing assertion + 4 or 5.
MUTANTS = {
    "elrsr_ignores_eoi":  ("elrsr_eisr", elrsr_ignores_eoi, 10),   # fails at step 5
    "np_ignores_pending": ("misr", np_ignores_pending, 10),        # 6
    "pmr_ignored":        ("iar", pmr_ignored, 12),                # 8
    "settled_early":      ("iar", settled_early, 12),              # 7
    "gicv_aliases_gich":  ("isolation", gicv_aliases_gich, 8),     # 3
    "eoir_writes_apr":    ("apr", eoir_writes_apr, 8),             # 3
    "matched_eoi_counts": ("eoi", matched_eoi_counts, 10),         # 5
    "writes_not_acked":   ("bus", writes_not_acked, 6),            # 1
    "eoicount_stuck":     ("cover", eoicount_stuck, None),   # cover: the group's depth
    "view_off_by_one":    ("cpus", view_off_by_one, 5),          # 0
    "gicv_to_all":        ("cpus", gicv_to_all, 6),              # 2
}


# -- GICv3 (formal/harness_v3.py, groups v3_*) ------------------------------------------
# A mutant is the real VirtualInterface(arch="v3") with one connection of
# rtl/top.py re-driven, as above, or, where what it breaks lives inside a block
# (rtl/vcpu.py, rtl/lr_bank.py), a statement added last to that block's own
# module (`_in_block`: it replaces the block's assignment in the cycles where
# it applies), or a block built with another parameter.

def _in_block(name, block_patch):
    """A mutant patch applying `block_patch(block, module)` to block `name`
    of the top (lr_bank, vcpu, hyp, maintenance) after the block elaborates."""
    def patch(top, m):
        pass

    def prepare(top):
        block = getattr(top, name)
        elaborate = block.elaborate

        def patched(platform):
            module = elaborate(platform)
            block_patch(block, module)
            return module
        block.elaborate = patched
    patch.prepare = prepare
    patch.__doc__ = block_patch.__doc__
    return patch


def _v3_word(name):
    return sysregs.lookup(name).addr >> 2


def v3_elrsr_ignores_eoi(top, m):
    """ICH_ELRSR_EL2 reads State == 00, forgetting `HW == 1 || EOI == 0` (v3 2.6)."""
    elrsr_ignores_eoi(top, m)


def v3_vgrp0_tests_veng1(top, m):
    """ICH_MISR_EL2's Group 0 bits VGrp0E/VGrp0D test VENG1 instead of VENG0
    (QEMU tests VENG1 for VGrp0D: v3 2.4, v3 open point 19, v3 quirk 5)."""
    maint, vcpu = m.submodules["maintenance"], m.submodules["vcpu"]
    m.d.comb += maint.gicv.ctlr.EnableGrp0.eq(vcpu.gicv.ctlr.EnableGrp1)


def v3_iar1_acks_group0(top, m):
    """The vCPU takes every candidate for a Group 1 one: ICV_IAR1_EL1
    acknowledges a Group 0 interrupt (into AP1), IAR0 none, vFIQ never
    rises (V5, V6: IAR<g> takes only group g)."""
    m.d.comb += m.submodules["vcpu"].select.best.grp1.eq(1)


def v3_rp_unmasked(top, m):
    """The LR bank tests preemption against the whole running priority
    (rp_masked=False, KVM's emulation) in a top built with rp_masked=True
    (V5, v3 open point 1, V19 example 2)."""


def _lr_bank_unmasked(top):
    top.lr_bank.v3 = replace(top.lr_bank.v3, rp_masked=False)


v3_rp_unmasked.prepare = _lr_bank_unmasked


def _drop_ap1_first(vcpu, m):
    """On a tie (the most urgent active priority set in both banks) the
    priority drop clears AP1's bit first (KVM's choice; here AP0 first: V8,
    v3 open point 2)."""
    v3, gicv, upto = vcpu.v3, vcpu.gicv, vcpu.select.apr_upto
    eoir = vcpu._we3("ICV_EOIR0_EL1") | vcpu._we3("ICV_EOIR1_EL1")
    vid = vcpu.w_data[:v3.id_bits]
    drop = Signal(name="mutant_drop")                # the cycle after the decode, as the vCPU's
    m.d.sync += drop.eq(eoir & ~((vid >= 1020) & (vid <= 1023)) & upto[-1])
    lowest = Cat(upto[0], *(upto[i] & ~upto[i - 1] for i in range(1, len(upto))))
    in1 = (lowest & gicv.apr).any()
    with m.If(drop):
        m.d.sync += [gicv.apr.eq(Mux(in1, gicv.apr & ~lowest, gicv.apr)),
                     gicv.ap0.eq(Mux(in1, gicv.ap0, gicv.ap0 & ~lowest))]


v3_drop_ap1_first = _in_block("vcpu", _drop_ap1_first)


def v3_eoir_ignores_check(top, m):
    """EOIR0/EOIR1 without V8's check: the vCPU is told that the matched LR
    always has the EOIR's group and the dropped priority, so an EOIR1
    deactivates a Group 0 LR, or an LR of another priority (V8, v3 open
    point 5: the drop stands and the LR stays active)."""
    m.d.comb += m.submodules["vcpu"].select.match.fits.eq(1)


def v3_icv_aliases_ich(top, m):
    """The ICH decode ignores the frame: a guest write at ICV offset X also
    writes ICH offset X (0x20C0 -> ICH_HCR_EL2, ICV_IAR1_EL1 at 0x2100 ->
    ICH_LR0_EL2), v3 1.4, v3 2.8."""
    bus, hyp = top.bus, m.submodules["hyp"]
    addr, w_ok = Signal(ADDR_WIDTH, name="mutant_addr"), Signal(name="mutant_w_ok")
    m.d.sync += [addr.eq(bus.addr & 0x3FF),      # as the top's entry registers them
                 w_ok.eq(bus.w_stb & bus.ready & (bus.w_strb == 0b1111))]
    m.d.comb += [hyp.addr.eq(addr), hyp.dec.eq(predecode(addr)), hyp.w_stb.eq(w_ok)]


def _bpr1_ignores_cbpr(vcpu, m):
    """ICV_BPR1_EL1 writes land also while VCBPR = 1 (they must be ignored
    then: v3 3.7, V17)."""
    v3, w = vcpu.v3, vcpu.w_data
    with m.If(vcpu._we3("ICV_BPR1_EL1")):
        m.d.sync += vcpu.gicv.abpr.eq(Mux(w[:3] < v3.minbpr1, v3.minbpr1, w[:3]))


v3_bpr1_ignores_cbpr = _in_block("vcpu", _bpr1_ignores_cbpr)


def v3_iar0_never_acks(top, m):
    """ICV_IAR0_EL1 reads never acknowledge (V6): a Group 0 acknowledge is
    unreachable."""
    m.d.comb += m.submodules["vcpu"].iar_stb.eq(0)


def v3_legacy_gicv_aliases_ich(top, m):
    """In a legacy build the ICH decode ignores the frame: a guest write to
    the GICv2 frame also writes the ICH register at the same offset
    (GICV_APR0 at 0x20D0 -> ICH_AP1R0_EL2 ... ; v3 10.3)."""
    v3_icv_aliases_ich(top, m)


def _ack_into_ap0r(vcpu, m):
    """The frame's acknowledge of a Group 0 interrupt also sets a bit of
    ICH_AP0R0_EL2 (the native two-bank rule; L1: the frame keeps every active
    priority in ICH_AP1R0_EL2 and never touches ICH_AP0R0_EL2)."""
    gicv = vcpu.gicv
    with m.If(vcpu.select.ack_stb & vcpu._live & ~vcpu.select.best.grp1):
        m.d.sync += gicv.ap0.eq(gicv.ap0 | 1)


v3_legacy_ack_into_ap0r = _in_block("vcpu", _ack_into_ap0r)


def _drop_from_ap0r(vcpu, m):
    """A priority drop through the frame (GICV_EOIR/AEOIR) also clears the
    lowest set bit of ICH_AP0R0_EL2 (L1: the frame drops from ICH_AP1R0_EL2
    alone)."""
    gicv = vcpu.gicv
    drop = Signal(name="mutant_drop")
    m.d.sync += drop.eq(vcpu._we2(regs.GICV_EOIR, regs.GICV_AEOIR) & (vcpu.w_data[:10] < 1020))
    with m.If(drop):
        m.d.sync += gicv.ap0.eq(gicv.ap0 & (gicv.ap0 - 1))


v3_legacy_drop_from_ap0r = _in_block("vcpu", _drop_from_ap0r)


V3_MUTANTS = {                                  # (BMC depth: the failing step + 4 or 5)
    "v3_elrsr_ignores_eoi":   ("v3_elrsr_eisr", v3_elrsr_ignores_eoi, 10),   # fails at step 5
    "v3_vgrp0_tests_veng1":   ("v3_misr", v3_vgrp0_tests_veng1, 10),         # 6
    "v3_iar1_acks_group0":    ("v3_iar", v3_iar1_acks_group0, 12),           # 8
    "v3_rp_unmasked":         ("v3_iar", v3_rp_unmasked, 14),                # 10
    "v3_drop_ap1_first":      ("v3_apr", v3_drop_ap1_first, 12),             # 8
    "v3_eoir_ignores_check":  ("v3_eoi", v3_eoir_ignores_check, 12),         # 7
    "v3_icv_aliases_ich":     ("v3_isolation", v3_icv_aliases_ich, 8),       # 3
    "v3_bpr1_ignores_cbpr":   ("v3_bus", v3_bpr1_ignores_cbpr, 8),           # 4
    "v3_iar0_never_acks":     ("v3_cover", v3_iar0_never_acks, None),  # cover: the group's depth
    "v3_legacy_gicv_aliases_ich": ("v3_legacy_isolation", v3_legacy_gicv_aliases_ich, 8),
    "v3_legacy_ack_into_ap0r":    ("v3_legacy_iar", v3_legacy_ack_into_ap0r, 12),
    "v3_legacy_drop_from_ap0r":   ("v3_legacy_eoi", v3_legacy_drop_from_ap0r, 12),
}
MUTANTS.update(V3_MUTANTS)


def describe(name):
    """(group, description) of a named mutant."""
    if name not in MUTANTS:
        raise ValueError(f"unknown mutant {name!r}; known: {', '.join(MUTANTS)}")
    group, patch, _ = MUTANTS[name]
    return group, " ".join(patch.__doc__.split())


def mutant(name, num_lrs, **params):
    """The broken top of a named mutant (`params`: V3Config parameters of a
    GICv3 group's variant)."""
    group, _ = describe(name)
    from formal.harness import CLUSTER_GROUPS, CLUSTER_CPUS
    if group in CLUSTER_GROUPS:
        return ClusterMutant(CLUSTER_CPUS, num_lrs, MUTANTS[name][1])
    if group.startswith("v3_legacy_"):
        return Mutant(num_lrs, MUTANTS[name][1], arch="v3", **{"legacy": True, **params})
    if group.startswith("v3_"):
        return Mutant(num_lrs, MUTANTS[name][1], arch="v3", **params)
    return Mutant(num_lrs, MUTANTS[name][1])
