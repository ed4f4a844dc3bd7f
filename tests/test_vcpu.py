# Ref: arch 2.3 (GICH_VMCR), arch 2.7 (APR), arch 2.9-2.18 (GICV_*), rules R1-R11, R14-R16
"""Virtual CPU interface (GICV_*): register masks and clamps, the VMCR alias,
acknowledge / highest-pending tables, binary points and preemption, priority
drop and deactivation, EOICount, vSGI CPUID, HW=1 forwarding, output lines,
HCR.En = 0, reset and the worked trace. Expected values come from the spec."""
import pytest

from conftest import INVALID, PENDING, ACTIVE, PENDING_ACTIVE, lr_value

ALL_ONES = 0xFFFF_FFFF
# GICV_CTLR bits (arch 2.9)
GRP0, GRP1, ACKCTL, FIQEN, CBPR, EOIMODE = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 9
# R3 tables: stored binary point -> group-priority mask
BPR_GMASK = {2: 0xF8, 3: 0xF0, 4: 0xE0, 5: 0xC0, 6: 0x80, 7: 0x00}
ABPR_GMASK = {3: 0xF8, 4: 0xF0, 5: 0xE0, 6: 0xC0, 7: 0x80}


def eoicount(vgic):
    return vgic.rd("GICH_HCR") >> 27


def states(vgic):
    return [vgic.lr_state(v) for v in vgic.lrs()]


# -- GICV_CTLR / PMR / BPR / ABPR masks and clamps (arch 2.9-2.11, 2.19) ------------

def test_ctlr_write_mask_0x21f(vgic):
    """arch 2.9: GICV_CTLR keeps EOImode[9], CBPR, FIQEn, AckCtl, EnableGrp1/0 (0x21F)."""
    vgic.wr("GICV_CTLR", ALL_ONES)
    assert vgic.rd("GICV_CTLR") == 0x21F
    vgic.wr("GICV_CTLR", ~0x21F & ALL_ONES)
    assert vgic.rd("GICV_CTLR") == 0
    for bit in (0, 1, 2, 3, 4, 9):
        vgic.wr("GICV_CTLR", 1 << bit)
        assert vgic.rd("GICV_CTLR") == 1 << bit


def test_pmr_keeps_bits_7_3(vgic):
    """arch 2.10: GICV_PMR [7:3] stored, [2:0] RAZ/WI (0xFF reads 0xF8), [31:8] reserved."""
    vgic.wr("GICV_PMR", 0xFF)
    assert vgic.rd("GICV_PMR") == 0xF8
    vgic.wr("GICV_PMR", 0x07)
    assert vgic.rd("GICV_PMR") == 0
    vgic.wr("GICV_PMR", 0xFFFF_FF00 | 0x87)
    assert vgic.rd("GICV_PMR") == 0x80
    for v in range(0, 256, 13):
        vgic.wr("GICV_PMR", v)
        assert vgic.rd("GICV_PMR") == v & 0xF8


@pytest.mark.parametrize("value,stored", [(0, 2), (1, 2), (2, 2), (3, 3), (4, 4), (5, 5),
                                          (6, 6), (7, 7), (0xFFFF_FFF8, 2), (0xFFFF_FFF5, 5)])
def test_bpr_clamped_to_2(vgic, value, stored):
    """arch 2.11/R3 (open point 19): GICV_BPR [2:0], a value below 2 is stored as 2."""
    vgic.wr("GICV_BPR", value)
    assert vgic.rd("GICV_BPR") == stored
    assert (vgic.rd("GICH_VMCR") >> 21) & 7 == stored


@pytest.mark.parametrize("value,stored", [(0, 3), (1, 3), (2, 3), (3, 3), (4, 4), (5, 5),
                                          (6, 6), (7, 7), (0xFFFF_FFF9, 3), (0xFFFF_FFFE, 6)])
def test_abpr_clamped_to_3(vgic, value, stored):
    """arch 2.11/R3 (QEMU quirk 3, open point 18): GICV_ABPR below 3 is stored as 3."""
    vgic.wr("GICV_ABPR", value)
    assert vgic.rd("GICV_ABPR") == stored
    assert (vgic.rd("GICH_VMCR") >> 18) & 7 == stored


@pytest.mark.parametrize("cbpr", [0, 1])
def test_abpr_own_storage_whatever_cbpr(vgic, cbpr):
    """arch 2.11 (open point 27): with CBPR = 1 GICV_ABPR still reads back its own
    value and writes are stored (clamped to 3); BPR is not changed by them."""
    vgic.wr("GICV_CTLR", CBPR if cbpr else 0)
    vgic.wr("GICV_BPR", 4)
    vgic.wr("GICV_ABPR", 6)
    assert vgic.rd("GICV_ABPR") == 6
    assert vgic.rd("GICV_BPR") == 4
    vgic.wr("GICV_ABPR", 1)
    assert vgic.rd("GICV_ABPR") == 3
    assert vgic.rd("GICV_BPR") == 4


# -- GICH_VMCR alias (arch 2.3) ------------------------------------------------------

def test_vmcr_reset_and_write_zero(vgic):
    """arch 2.3/R15: VMCR resets to 0x004C0000 (VMBP 2, VMABP 3); a write of 0 reads
    back 0x004C0000 (GIC-400, Linux KVM relies on it)."""
    assert vgic.rd("GICH_VMCR") == 0x004C_0000
    vgic.wr("GICH_VMCR", ALL_ONES)
    vgic.wr("GICH_VMCR", 0)
    assert vgic.rd("GICH_VMCR") == 0x004C_0000
    assert (vgic.rd("GICV_CTLR"), vgic.rd("GICV_PMR"), vgic.rd("GICV_BPR"),
            vgic.rd("GICV_ABPR")) == (0, 0, 2, 3)


def test_vmcr_write_mask(vgic):
    """arch 2.3/2.19: VMCR write mask 0xF8FC021F; reserved [26:24], [17:10], [8:5] read 0."""
    vgic.wr("GICH_VMCR", ALL_ONES)
    assert vgic.rd("GICH_VMCR") == 0xF8FC_021F
    vgic.wr("GICH_VMCR", ~0xF8FC_021F & ALL_ONES)
    assert vgic.rd("GICH_VMCR") == 0x004C_0000               # binary points clamp


def test_vmcr_gic400_example(vgic):
    """arch 2.3: GIC-400: 0xF85C0201 reads back unchanged; the guest sees
    GICV_CTLR = 0x201, PMR = 0xF8, BPR = 2, ABPR = 7."""
    vgic.wr("GICH_VMCR", 0xF85C_0201)
    assert vgic.rd("GICH_VMCR") == 0xF85C_0201
    assert vgic.rd("GICV_CTLR") == 0x201
    assert vgic.rd("GICV_PMR") == 0xF8
    assert vgic.rd("GICV_BPR") == 2
    assert vgic.rd("GICV_ABPR") == 7


@pytest.mark.parametrize("vmbp,vmabp,bpr,abpr", [(0, 0, 2, 3), (1, 2, 2, 3), (2, 3, 2, 3),
                                                 (3, 4, 3, 4), (7, 7, 7, 7), (5, 1, 5, 3)])
def test_vmcr_binary_point_clamps(vgic, vmbp, vmabp, bpr, abpr):
    """arch 2.3: VMCR.VMBP >= 2 and VMCR.VMABP >= 3, clamped as through GICV_BPR/ABPR."""
    vgic.wr("GICH_VMCR", vmbp << 21 | vmabp << 18)
    assert vgic.rd("GICV_BPR") == bpr
    assert vgic.rd("GICV_ABPR") == abpr
    assert vgic.rd("GICH_VMCR") == bpr << 21 | abpr << 18


def test_vmcr_fields_alias_gicv_both_ways(vgic):
    """arch 2.3: VMPriMask = PMR[7:3], VMBP = BPR, VMABP = ABPR, VEM/VMCBPR/VMFIQEn/
    VMAckCtl/VMGrp1En/VMGrp0En = CTLR bits 9,4,3,2,1,0: one storage, seen at
    once through either name."""
    for k in range(32):
        ctlr = [0, 0x21F, 0x201, 0x01E, 0x011, 0x00A, 0x204, 0x013][k % 8]
        pmr = (k * 8) & 0xF8
        bpr = 2 + k % 6
        abpr = 3 + k % 5
        vmcr = (pmr >> 3) << 27 | bpr << 21 | abpr << 18 | ctlr
        # hypervisor name -> guest names
        vgic.wr("GICH_VMCR", vmcr)
        assert (vgic.rd("GICV_CTLR"), vgic.rd("GICV_PMR"), vgic.rd("GICV_BPR"),
                vgic.rd("GICV_ABPR")) == (ctlr, pmr, bpr, abpr)
        assert vgic.rd("GICH_VMCR") == vmcr
        # guest names -> hypervisor name
        vgic.wr("GICH_VMCR", 0)
        vgic.wr("GICV_CTLR", ctlr)
        vgic.wr("GICV_PMR", pmr | 5)
        vgic.wr("GICV_BPR", bpr)
        vgic.wr("GICV_ABPR", abpr)
        assert vgic.rd("GICH_VMCR") == vmcr


def test_vmcr_single_guest_field_write_leaves_others(vgic):
    """arch 2.3: a write to one GICV register changes only its own VMCR field."""
    vgic.wr("GICH_VMCR", 0xF85C_0201)
    vgic.wr("GICV_PMR", 0x40)
    assert vgic.rd("GICH_VMCR") == 0x405C_0201
    vgic.wr("GICV_BPR", 6)
    assert vgic.rd("GICH_VMCR") == 0x40DC_0201
    vgic.wr("GICV_ABPR", 4)
    assert vgic.rd("GICH_VMCR") == 0x40D0_0201
    vgic.wr("GICV_CTLR", 0x1C)
    assert vgic.rd("GICH_VMCR") == 0x40D0_001C


def test_vmcr_write_takes_effect_at_once(vgic):
    """arch 2.3/R6: a VMCR write is seen at once on signalling: enabling Group 0 and
    unmasking PMR through VMCR raises VIRQ; setting VMFIQEn moves it to VFIQ."""
    vgic.wr("GICH_HCR", 1)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x50))
    assert vgic.lines == (0, 0, 0)
    vgic.wr("GICH_VMCR", 0x1F << 27 | 1)                    # PMR 0xF8, VMGrp0En
    assert (vgic.virq, vgic.vfiq) == (1, 0)
    vgic.wr("GICH_VMCR", 0x1F << 27 | 1 | 1 << 3)           # + VMFIQEn
    assert (vgic.virq, vgic.vfiq) == (0, 1)
    vgic.wr("GICH_VMCR", 0x0A << 27 | 1)                    # PMR 0x50: masked
    assert (vgic.virq, vgic.vfiq) == (0, 0)


# -- GICV_IAR / GICV_AIAR (R6a, R6b) ----------------------------------------------

def test_iar_acknowledges_group0(vgic):
    """R6a: IAR returns vid_out, LR 01 -> 10, APR |= 1 << (gprio >> 3)."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=42, state=PENDING, prio=0xA0))
    assert vgic.rd("GICV_IAR") == 42
    assert vgic.lr(0) == lr_value(vid=42, state=ACTIVE, prio=0xA0)
    assert vgic.rd("GICH_APR") == 1 << 20
    assert vgic.rd("GICV_RPR") == 0xA0
    assert vgic.rd("GICV_IAR") == 1023                       # nothing else pending


def test_iar_hcr_en_0_returns_1023(vgic):
    """R6a/R14: with HCR.En = 0, IAR and AIAR return 1023 and nothing changes."""
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL, hcr=0)
    vgic.set_lr(0, lr_value(vid=42, state=PENDING, prio=0xA0))
    if vgic.num_lrs > 1:
        vgic.set_lr(1, lr_value(vid=43, state=PENDING, prio=0xA0, grp1=1))
    before = vgic.snapshot()
    assert vgic.rd("GICV_IAR") == 1023
    assert vgic.rd("GICV_AIAR") == 1023
    assert vgic.snapshot() == before


def test_iar_both_groups_disabled_returns_1023(vgic):
    """R6a: with EnableGrp0 = EnableGrp1 = 0, IAR/AIAR return 1023."""
    vgic.guest(ctlr=ACKCTL)
    vgic.set_lr(0, lr_value(vid=42, state=PENDING, prio=0xA0))
    before = vgic.snapshot()
    assert vgic.rd("GICV_IAR") == 1023
    assert vgic.rd("GICV_AIAR") == 1023
    assert vgic.snapshot() == before


def test_iar_no_candidate_returns_1023(vgic):
    """R6a: no candidate (no LR pending) gives 1023."""
    vgic.guest()
    assert vgic.rd("GICV_IAR") == 1023
    vgic.set_lr(0, lr_value(vid=42, state=ACTIVE, prio=0xA0))
    assert vgic.rd("GICV_IAR") == 1023
    assert vgic.rd("GICH_APR") == 0


def test_iar_group1_without_ackctl_returns_1022(vgic):
    """R6a/arch 2.9 AckCtl = 0: IAR returns 1022 for a Group 1 best, nothing changes."""
    vgic.guest(ctlr=GRP0 | GRP1)
    vgic.set_lr(0, lr_value(vid=42, state=PENDING, prio=0xA0, grp1=1))
    assert vgic.virq == 1                                    # R6: still signalled
    before = vgic.snapshot()
    assert vgic.rd("GICV_IAR") == 1022
    assert vgic.snapshot() == before


def test_iar_1022_before_running_priority_test(vgic):
    """R6a / open point 28 (QEMU's order): the 1022 answer does not look at RP:
    a Group 1 best that cannot preempt still gives 1022 with AckCtl = 0."""
    vgic.guest(ctlr=GRP0 | GRP1)
    vgic.wr("GICH_APR", 1 << 2)                              # RP = 0x10
    vgic.set_lr(0, lr_value(vid=42, state=PENDING, prio=0xA0, grp1=1))
    assert vgic.virq == 0
    assert vgic.rd("GICV_IAR") == 1022
    assert vgic.lr_state(vgic.lr(0)) == PENDING


def test_iar_group1_with_ackctl(vgic):
    """R6a/arch 2.9 AckCtl = 1: IAR acknowledges Group 1 too (APR bit from ABPR)."""
    vgic.guest(ctlr=GRP1 | ACKCTL, abpr=5)
    vgic.set_lr(0, lr_value(vid=77, state=PENDING, prio=0x98, grp1=1))
    assert vgic.rd("GICV_IAR") == 77
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE
    assert vgic.rd("GICH_APR") == 1 << ((0x98 & 0xE0) >> 3)


def test_iar_equal_group_priority_does_not_preempt(vgic):
    """R1/R6a: gprio(best) >= RP gives 1023; an equal group priority never preempts."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=42, state=PENDING, prio=0x80))
    vgic.wr("GICH_APR", 1 << 16)                             # RP = 0x80
    assert vgic.virq == 0
    assert vgic.rd("GICV_IAR") == 1023
    vgic.wr("GICH_APR", 1 << 17)                             # RP = 0x88
    assert vgic.virq == 1
    assert vgic.rd("GICV_IAR") == 42
    assert vgic.rd("GICH_APR") == 1 << 17 | 1 << 16


def test_aiar_group0_best_returns_1023(vgic):
    """R6b: AIAR with a Group 0 best returns 1023 and nothing changes."""
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL)
    vgic.set_lr(0, lr_value(vid=42, state=PENDING, prio=0x10))
    if vgic.num_lrs > 1:
        vgic.set_lr(1, lr_value(vid=43, state=PENDING, prio=0x20, grp1=1))
    before = vgic.snapshot()
    assert vgic.rd("GICV_AIAR") == 1023
    assert vgic.snapshot() == before


@pytest.mark.parametrize("ackctl", [0, ACKCTL])
def test_aiar_acknowledges_group1_whatever_ackctl(vgic, ackctl):
    """R6b (QEMU quirk 1: AIAR not implemented there): AIAR acknowledges a
    Group 1 best whatever AckCtl is."""
    vgic.guest(ctlr=GRP0 | GRP1 | ackctl)
    vgic.set_lr(0, lr_value(vid=99, state=PENDING, prio=0x30, grp1=1, cpuid=0))
    assert vgic.rd("GICV_AIAR") == 99
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE
    assert vgic.rd("GICH_APR") == 1 << 6                    # ABPR 3: gmask 0xF8
    assert vgic.rd("GICV_AIAR") == 1023


def test_aiar_respects_running_priority(vgic):
    """R6b: same gates as IAR: a Group 1 best that does not preempt gives 1023."""
    vgic.guest(ctlr=GRP1)
    vgic.wr("GICH_APR", 1 << 6)                              # RP = 0x30
    vgic.set_lr(0, lr_value(vid=99, state=PENDING, prio=0x30, grp1=1))
    assert vgic.rd("GICV_AIAR") == 1023
    vgic.wr("GICH_APR", 1 << 7)                              # RP = 0x38
    assert vgic.rd("GICV_AIAR") == 99


def test_aiar_hcr_en_0_and_groups_disabled(vgic):
    """R6b: AIAR returns 1023 with HCR.En = 0 or with both groups disabled."""
    vgic.guest(ctlr=GRP1, hcr=0)
    vgic.set_lr(0, lr_value(vid=99, state=PENDING, prio=0x30, grp1=1))
    assert vgic.rd("GICV_AIAR") == 1023
    vgic.wr("GICH_HCR", 1)
    vgic.wr("GICV_CTLR", 0)
    assert vgic.rd("GICV_AIAR") == 1023
    assert vgic.lr_state(vgic.lr(0)) == PENDING


def test_acknowledge_never_gives_pending_active(vgic):
    """R6a: an acknowledge always moves the LR 01 -> 10, never 01 -> 11."""
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL)
    n = vgic.num_lrs
    for i in range(n):
        vgic.set_lr(i, lr_value(vid=32 + i, state=PENDING, prio=(0xF0 - 8 * i) % 0xF8, grp1=i & 1))
    for _ in range(n):
        vgic.wr("GICH_APR", 0)
        vgic.rd("GICV_IAR")
    assert all(s in (PENDING, ACTIVE) for s in states(vgic))
    assert PENDING_ACTIVE not in states(vgic)


# -- vSGI CPUID, HW = 1 vid_out (arch 2.8, 2.12, 2.15) ---------------------------------

def test_iar_returns_vsgi_cpuid(vgic):
    """arch 2.12: IAR [12:10] is the LR's CPUID (HW = 0)."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=7, state=PENDING, prio=0x40, cpuid=3))
    assert vgic.rd("GICV_HPPIR") == 3 << 10 | 7
    assert vgic.rd("GICV_IAR") == 3 << 10 | 7


def test_hppir_reports_vsgi_cpuid(vgic):
    """R7 (QEMU quirk 6): HPPIR and AHPPIR report CPUID [12:10] exactly as IAR."""
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL)
    vgic.set_lr(0, lr_value(vid=2, state=PENDING, prio=0x40, grp1=1, cpuid=5))
    assert vgic.rd("GICV_HPPIR") == 5 << 10 | 2
    assert vgic.rd("GICV_AHPPIR") == 5 << 10 | 2
    assert vgic.rd("GICV_AIAR") == 5 << 10 | 2


def test_hw1_vid_out_has_no_cpuid(vgic):
    """arch 2.8/R6a vid_out: with HW = 1 bits [19:10] are the pINTID, so IAR and
    HPPIR return only the VirtualID."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=45, state=PENDING, prio=0x40, hw=1, pintid=0x3FF))
    assert vgic.rd("GICV_HPPIR") == 45
    assert vgic.rd("GICV_IAR") == 45


# -- GICV_HPPIR / AHPPIR (R7) --------------------------------------------------

@pytest.mark.parametrize("grp1,ackctl,hppir,ahppir", [
    (0, 0, "vid", 1023), (0, 1, "vid", 1023), (1, 0, 1022, "vid"), (1, 1, "vid", "vid")])
def test_hppir_ahppir_table(vgic, grp1, ackctl, hppir, ahppir):
    """R7 table: HPPIR/AHPPIR for a Group 0 or Group 1 best, AckCtl 0 or 1."""
    vgic.guest(ctlr=GRP0 | GRP1 | (ACKCTL if ackctl else 0))
    vid = 300
    vgic.set_lr(vgic.num_lrs - 1, lr_value(vid=vid, state=PENDING, prio=0x60, grp1=grp1))
    before = vgic.snapshot()
    assert vgic.rd("GICV_HPPIR") == (vid if hppir == "vid" else hppir)
    assert vgic.rd("GICV_AHPPIR") == (vid if ahppir == "vid" else ahppir)
    assert vgic.snapshot() == before                         # arch 1.4 rule 4: no side effects


def test_hppir_none_is_1023(vgic):
    """R7: no candidate: HPPIR and AHPPIR read 1023 (also at reset, R15; QEMU
    quirk 1: AHPPIR reads 0 there)."""
    assert vgic.rd("GICV_HPPIR") == 1023
    assert vgic.rd("GICV_AHPPIR") == 1023
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL)
    assert vgic.rd("GICV_HPPIR") == 1023
    assert vgic.rd("GICV_AHPPIR") == 1023


def test_hppir_ignores_running_priority(vgic):
    """R7 example: while a 0x80 interrupt is active, HPPIR still reports an
    equal-priority pending 0x80 LR, but IAR returns 1023."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x80))
    assert vgic.rd("GICV_IAR") == 40
    if vgic.num_lrs > 1:
        vgic.set_lr(1, lr_value(vid=41, state=PENDING, prio=0x80))
        expect = 41
    else:
        vgic.wr("GICH_LR0", lr_value(vid=40, state=PENDING, prio=0x80))
        expect = 40
    assert vgic.rd("GICV_HPPIR") == expect
    assert vgic.rd("GICV_IAR") == 1023
    assert vgic.virq == 0


def test_hppir_hcr_en_0_or_groups_disabled(vgic):
    """R7: with HCR.En = 0, or both groups disabled, HPPIR/AHPPIR read 1023."""
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL, hcr=0)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x80, grp1=1))
    assert vgic.rd("GICV_HPPIR") == 1023
    assert vgic.rd("GICV_AHPPIR") == 1023
    vgic.wr("GICH_HCR", 1)
    assert vgic.rd("GICV_HPPIR") == 40
    vgic.wr("GICV_CTLR", ACKCTL)
    assert vgic.rd("GICV_HPPIR") == 1023
    assert vgic.rd("GICV_AHPPIR") == 1023


def test_hppir_filtered_by_pmr(vgic):
    """R7 / open point 4 (QEMU's choice): an LR with P >= PMR reads 1023."""
    vgic.guest(pmr=0x60)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x60))
    assert vgic.rd("GICV_HPPIR") == 1023
    vgic.wr("GICV_PMR", 0x68)
    assert vgic.rd("GICV_HPPIR") == 40


def test_hppir_group_disabled(vgic):
    """R5/R7: a pending LR of a disabled group is not reported."""
    vgic.guest(ctlr=GRP1 | ACKCTL)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x10, grp1=0))
    assert vgic.rd("GICV_HPPIR") == 1023
    vgic.wr("GICV_CTLR", GRP0 | ACKCTL)
    assert vgic.rd("GICV_HPPIR") == 40


# -- output lines (R6) ---------------------------------------------------------

@pytest.mark.parametrize("grp1,fiqen,lines", [(0, 0, (1, 0)), (0, 1, (0, 1)),
                                              (1, 0, (1, 0)), (1, 1, (1, 0))])
def test_virq_vfiq_by_group_and_fiqen(vgic, grp1, fiqen, lines):
    """R6/arch 2.8 Grp1/arch 2.9 FIQEn: Group 0 goes to VFIQ when FIQEn, else VIRQ;
    Group 1 always goes to VIRQ."""
    vgic.guest(ctlr=GRP0 | GRP1 | (FIQEN if fiqen else 0))
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x80, grp1=grp1))
    assert (vgic.virq, vgic.vfiq) == lines


def test_line_follows_best_not_any(vgic):
    """R6: the line comes from the best candidate only: a Group 1 best gives
    VIRQ and no VFIQ even while a lower Group 0 LR would go to VFIQ."""
    if vgic.num_lrs < 2:
        pytest.skip("needs two LRs")
    vgic.guest(ctlr=GRP0 | GRP1 | FIQEN | ACKCTL)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x80, grp1=0))
    vgic.set_lr(1, lr_value(vid=41, state=PENDING, prio=0x40, grp1=1))
    assert (vgic.virq, vgic.vfiq) == (1, 0)
    assert vgic.rd("GICV_IAR") == 41                         # RP 0x40 now: 0x80 waits
    assert (vgic.virq, vgic.vfiq) == (0, 0)
    vgic.wr("GICV_EOIR", 41)
    assert (vgic.virq, vgic.vfiq) == (0, 1)


def test_pmr_reset_masks_everything(vgic):
    """arch 2.10/R6: PMR resets to 0, so VIRQ first rises on the PMR write."""
    vgic.wr("GICH_HCR", 1)
    vgic.wr("GICV_CTLR", GRP0)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x00))
    assert vgic.virq == 0
    vgic.wr("GICV_PMR", 0x08)
    assert vgic.virq == 1


def test_lines_follow_ctlr_apr_lr_hcr_changes(vgic):
    """R6: VIRQ is a level that tracks LR, APR, GICV and HCR changes."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x80))
    assert vgic.virq == 1
    vgic.wr("GICV_CTLR", GRP1)                               # group 0 disabled
    assert vgic.virq == 0
    vgic.wr("GICV_CTLR", GRP0)
    assert vgic.virq == 1
    vgic.wr("GICH_APR", 1 << 16)                             # RP 0x80
    assert vgic.virq == 0
    vgic.wr("GICV_APR0", 0)
    assert vgic.virq == 1
    vgic.wr("GICH_HCR", 0)
    assert vgic.virq == 0
    vgic.wr("GICH_HCR", 1)
    assert vgic.virq == 1
    vgic.set_lr(0, lr_value(vid=40, state=ACTIVE, prio=0x80))
    assert vgic.virq == 0


@pytest.mark.lr_dependent
def test_lines_never_both(vgic):
    """R6: VIRQ and VFIQ are never asserted together."""
    vgic.guest(ctlr=GRP0 | GRP1 | FIQEN | ACKCTL)
    n = vgic.num_lrs
    for i in range(n):
        vgic.set_lr(i, lr_value(vid=40 + i, state=PENDING, prio=(8 * (n - i)) % 0xF8, grp1=i & 1))
    for _ in range(n + 1):
        assert not (vgic.virq and vgic.vfiq)
        vgic.rd("GICV_IAR")


# -- binary points and preemption (R3, R4) -------------------------------------

def preemption_points(kind):
    """Pending priorities and running priorities to try (fewer on the RTL)."""
    ps = list(range(0, 0xF8, 8))
    rps = [0x100] + list(range(0, 0x100, 8)) if kind == "model" else [0x100, 0x00, 0x40, 0x88, 0xC8, 0xF0]
    return ps, rps


@pytest.mark.parametrize("grp1,cbpr", [(0, 0), (1, 0), (1, 1)])
def test_preemption_uses_group_priority(vgic, grp1, cbpr):
    """R1/R3/R5 (QEMU quirk 4): a pending LR preempts iff its group priority
    P & gmask < RP, gmask from BPR (Group 0, or CBPR = 1) or ABPR (Group 1),
    per the R3 tables, for every binary point."""
    if vgic.kind == "rtl" and vgic.num_lrs != 4:
        pytest.skip("RTL: exhaustive preemption at 4 LRs only")
    ps, rps = preemption_points(vgic.kind)
    table = ABPR_GMASK if grp1 and not cbpr else BPR_GMASK
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL | (CBPR if cbpr else 0))
    for bp, gmask in table.items():
        # set the point through the register that controls this group
        vgic.wr("GICV_ABPR" if grp1 and not cbpr else "GICV_BPR", bp)
        # and the other one to a value that would give a different answer
        vgic.wr("GICV_BPR" if grp1 and not cbpr else "GICV_ABPR", 7)
        for rp in rps:
            vgic.wr("GICH_APR", 0 if rp == 0x100 else 1 << (rp >> 3))
            for p in ps:
                vgic.set_lr(0, lr_value(vid=32, state=PENDING, prio=p, grp1=grp1))
                assert vgic.virq == int((p & gmask) < rp), (bp, hex(rp), hex(p))


@pytest.mark.parametrize("grp1,cbpr", [(0, 0), (1, 0), (1, 1)])
def test_acknowledge_sets_group_priority_bit(vgic, grp1, cbpr):
    """R4: acknowledging LR n sets APR[gprio(n) >> 3]; RPR = that group priority."""
    table = ABPR_GMASK if grp1 and not cbpr else BPR_GMASK
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL | (CBPR if cbpr else 0))
    for bp, gmask in table.items():
        vgic.wr("GICV_ABPR" if grp1 and not cbpr else "GICV_BPR", bp)
        for p in (0x00, 0x38, 0x88, 0xF0):
            vgic.wr("GICH_APR", 0)
            vgic.set_lr(0, lr_value(vid=32, state=PENDING, prio=p, grp1=grp1))
            assert vgic.rd("GICV_IAR") == 32
            assert vgic.rd("GICH_APR") == 1 << ((p & gmask) >> 3), (bp, hex(p))
            assert vgic.rd("GICV_RPR") == p & gmask


def test_r3_worked_example_group1_preempts_with_abpr(vgic):
    """R3 example (QEMU quirk 4): CBPR = 0, BPR = 2, ABPR = 5, Group 0 active at
    0x88 (RP 0x88): a pending Group 1 LR at 0x90 has gprio 0x80 and preempts."""
    if vgic.num_lrs < 2:
        pytest.skip("needs two LRs")
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL, bpr=2, abpr=5)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x88, grp1=0))
    assert vgic.rd("GICV_IAR") == 40
    assert vgic.rd("GICV_RPR") == 0x88
    vgic.set_lr(1, lr_value(vid=41, state=PENDING, prio=0x90, grp1=1))
    assert vgic.virq == 1
    assert vgic.rd("GICV_IAR") == 41
    assert vgic.rd("GICH_APR") == 1 << 17 | 1 << 16
    assert vgic.rd("GICV_RPR") == 0x80
    # with CBPR = 1 the Group 1 LR uses BPR: gprio 0x90 does not preempt 0x88
    vgic.wr("GICH_APR", 1 << 17)
    vgic.set_lr(1, lr_value(vid=41, state=PENDING, prio=0x90, grp1=1))
    vgic.wr("GICV_CTLR", GRP0 | GRP1 | ACKCTL | CBPR)
    assert vgic.virq == 0
    assert vgic.rd("GICV_IAR") == 1023


def test_r4_worked_example_bpr4(vgic):
    """R4 example: BPR = 4, an acknowledge at 0x88 sets bit 16 (0x80), RPR 0x80;
    a pending 0x80 does not preempt, a pending 0x60 does and sets bit 12:
    APR = 0x00011000."""
    vgic.guest(bpr=4)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x88))
    assert vgic.rd("GICV_IAR") == 40
    assert vgic.rd("GICH_APR") == 1 << 16
    assert vgic.rd("GICV_RPR") == 0x80
    last = vgic.num_lrs - 1
    if last == 0:
        vgic.wr("GICH_LR0", 0)
    vgic.set_lr(last, lr_value(vid=41, state=PENDING, prio=0x80))
    assert vgic.virq == 0
    assert vgic.rd("GICV_IAR") == 1023
    vgic.set_lr(last, lr_value(vid=42, state=PENDING, prio=0x60))
    assert vgic.virq == 1
    assert vgic.rd("GICV_IAR") == 42
    assert vgic.rd("GICH_APR") == 0x0001_1000
    assert vgic.rd("GICV_RPR") == 0x60


def test_best_that_cannot_preempt_blocks_lower_candidate(vgic):
    """R5 (unverified point, arch 4 "Further choices": take the highest candidate, then
    test it): when the best candidate cannot preempt, a lower-priority candidate of
    the other group is not signalled even though its own group priority would
    preempt (Group 1 at 0x48 with ABPR 7 has gprio 0x00 < RP 0x40)."""
    if vgic.num_lrs < 2:
        pytest.skip("needs two LRs")
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL, bpr=2, abpr=7)
    vgic.wr("GICH_APR", 1 << 8)                              # RP = 0x40
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x40, grp1=0))
    vgic.set_lr(1, lr_value(vid=41, state=PENDING, prio=0x48, grp1=1))
    assert vgic.virq == 0
    assert vgic.rd("GICV_HPPIR") == 40
    assert vgic.rd("GICV_IAR") == 1023
    assert vgic.rd("GICV_AIAR") == 1023
    vgic.set_lr(0, 0)                                        # now the Group 1 LR is best
    assert vgic.virq == 1
    assert vgic.rd("GICV_AIAR") == 41
    assert vgic.rd("GICH_APR") == 1 << 8 | 1 << 0


def test_bpr7_nothing_preempts_group0(vgic):
    """R3 table: BPR = 7 gives gmask 0 (one preemption level): once anything of
    Group 0 is active, no Group 0 interrupt preempts, even at priority 0."""
    vgic.guest(bpr=7)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0xF0))
    assert vgic.rd("GICV_IAR") == 40
    assert vgic.rd("GICH_APR") == 1
    assert vgic.rd("GICV_RPR") == 0x00
    vgic.set_lr(vgic.num_lrs - 1, lr_value(vid=41, state=PENDING, prio=0x00))
    assert vgic.virq == 0
    assert vgic.rd("GICV_IAR") == 1023


# -- APR / RPR (arch 2.7, 2.14, 2.16, R4) ----------------------------------------------

def test_rpr_from_apr_lowest_set_bit(vgic):
    """arch 2.14/R4: RPR = 0xFF when APR = 0, else (lowest set bit index) << 3, for
    every bit; higher bits do not matter."""
    assert vgic.rd("GICV_RPR") == 0xFF
    for k in range(32):
        vgic.wr("GICH_APR", 1 << k)
        assert vgic.rd("GICV_RPR") == k << 3
        vgic.wr("GICV_APR0", (ALL_ONES << k) & ALL_ONES)
        assert vgic.rd("GICV_RPR") == k << 3
    vgic.wr("GICH_APR", 0)
    assert vgic.rd("GICV_RPR") == 0xFF


def test_apr_one_storage_both_frames(vgic):
    """arch 2.7/2.16: GICH_APR and GICV_APR0 are the same 32 bits, RW from both."""
    for v in (ALL_ONES, 0x8000_0001, 0x1234_5678, 0):
        vgic.wr("GICH_APR", v)
        assert vgic.rd("GICV_APR0") == v
        vgic.wr("GICV_APR0", v ^ ALL_ONES)
        assert vgic.rd("GICH_APR") == v ^ ALL_ONES


def test_rpr_read_has_no_side_effects(vgic):
    """arch 1.4 rule 4: RPR reads change nothing; RPR writes (RO) are ignored."""
    vgic.wr("GICH_APR", 0x0000_0300)
    before = vgic.snapshot()
    vgic.wr("GICV_RPR", 0)
    for _ in range(3):
        assert vgic.rd("GICV_RPR") == 0x40
    assert vgic.snapshot() == before


# -- EOIR / AEOIR (R8) ----------------------------------------------------------

@pytest.mark.parametrize("eoir", ["GICV_EOIR", "GICV_AEOIR"])
def test_eoi_drops_priority_and_deactivates(vgic, eoir):
    """R8 (EOImode 0; QEMU quirk 1 for AEOIR, not implemented there): the
    priority drops (lowest APR bit cleared) and the matching LR is deactivated
    (10 -> 00); EOICount unchanged."""
    grp1 = int(eoir == "GICV_AEOIR")
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL)
    vgic.set_lr(0, lr_value(vid=50, state=PENDING, prio=0x50, grp1=grp1))
    assert vgic.rd("GICV_IAR") == 50
    vgic.wr(eoir, 50)
    assert vgic.lr(0) == lr_value(vid=50, state=INVALID, prio=0x50, grp1=grp1)
    assert vgic.rd("GICH_APR") == 0
    assert vgic.rd("GICV_RPR") == 0xFF
    assert eoicount(vgic) == 0


def test_eoi_nested_in_reverse_order(vgic):
    """R4/R8: nested acknowledges stack APR bits; each EOI clears the lowest."""
    if vgic.num_lrs < 3:
        pytest.skip("needs three LRs")
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=60, state=PENDING, prio=0xC0))
    assert vgic.rd("GICV_IAR") == 60
    vgic.set_lr(1, lr_value(vid=61, state=PENDING, prio=0x80))
    assert vgic.rd("GICV_IAR") == 61
    vgic.set_lr(2, lr_value(vid=62, state=PENDING, prio=0x40))
    assert vgic.rd("GICV_IAR") == 62
    assert vgic.rd("GICH_APR") == 1 << 24 | 1 << 16 | 1 << 8
    for vid, apr, rpr in ((62, 1 << 24 | 1 << 16, 0x80), (61, 1 << 24, 0xC0), (60, 0, 0xFF)):
        vgic.wr("GICV_EOIR", vid)
        assert vgic.rd("GICH_APR") == apr
        assert vgic.rd("GICV_RPR") == rpr
    assert states(vgic)[:3] == [INVALID] * 3


@pytest.mark.parametrize("vid", [1020, 1021, 1022, 1023])
def test_eoi_special_ids_ignored(vgic, vid):
    """R8/R11: an EOI of 1020-1023 is ignored: no drop, no EOICount change."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=vid, state=ACTIVE, prio=0x40))   # even if held
    vgic.wr("GICH_APR", 1 << 8)
    before = vgic.snapshot()
    vgic.wr("GICV_EOIR", vid)
    vgic.wr("GICV_AEOIR", vid)
    assert vgic.snapshot() == before


def test_eoi_ignores_bits_31_13(vgic):
    """arch 2.13: EOIR holds CPUID [12:10] and the ID [9:0]; [31:13] are reserved."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=50, state=ACTIVE, prio=0x50))
    vgic.wr("GICH_APR", 1 << 10)
    vgic.wr("GICV_EOIR", 0xFFFF_E000 | 50)
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert vgic.rd("GICH_APR") == 0


def test_eoi_wrong_vid_drops_and_counts(vgic):
    """R8 / open point 14: an EOI of a vid held by no active LR while another LR
    is active drops the priority, increments EOICount, and the active LR stays
    active."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=50, state=PENDING, prio=0x50))
    assert vgic.rd("GICV_IAR") == 50
    vgic.wr("GICV_EOIR", 51)
    assert vgic.rd("GICH_APR") == 0
    assert eoicount(vgic) == 1
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE


def test_eoi_other_active_vid_drops_lowest_bit_and_deactivates_named(vgic):
    """R8 / open point 14: the drop always clears the lowest APR bit; the named
    LR (if active) is deactivated even though it is not the highest active."""
    if vgic.num_lrs < 2:
        pytest.skip("needs two LRs")
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=60, state=PENDING, prio=0xC0))
    assert vgic.rd("GICV_IAR") == 60
    vgic.set_lr(1, lr_value(vid=61, state=PENDING, prio=0x40))
    assert vgic.rd("GICV_IAR") == 61
    vgic.wr("GICV_EOIR", 60)                                 # the outer one first
    assert vgic.rd("GICH_APR") == 1 << 24                    # bit 8 (0x40) dropped
    assert states(vgic)[:2] == [INVALID, ACTIVE]
    assert eoicount(vgic) == 0


def test_eoi_with_apr_zero_deactivates_without_count(vgic):
    """R8 / open point 12: an EOI that clears no APR bit never increments
    EOICount; a matching active LR is still deactivated (QEMU's choice)."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=50, state=ACTIVE, prio=0x50))
    vgic.wr("GICV_EOIR", 50)
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert eoicount(vgic) == 0
    vgic.wr("GICV_EOIR", 51)                                 # no match, no drop
    assert eoicount(vgic) == 0
    assert vgic.rd("GICH_APR") == 0


@pytest.mark.parametrize("eoir", ["GICV_EOIR", "GICV_AEOIR"])
def test_eoimode1_eoi_only_drops_priority(vgic, eoir):
    """R8 / open point 13, arch 2.9 EOImode = 1: EOIR/AEOIR only drop the priority:
    the LR stays active, EOICount unchanged, also for an unknown vid."""
    grp1 = int(eoir == "GICV_AEOIR")
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL | EOIMODE)
    vgic.set_lr(0, lr_value(vid=50, state=PENDING, prio=0x50, grp1=grp1))
    assert vgic.rd("GICV_IAR") == 50
    vgic.wr(eoir, 50)
    assert vgic.rd("GICH_APR") == 0
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE
    assert eoicount(vgic) == 0
    vgic.wr("GICH_APR", 1 << 4)
    vgic.wr(eoir, 77)                                        # unknown vid
    assert vgic.rd("GICH_APR") == 0
    assert eoicount(vgic) == 0
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE


def test_eoi_pending_active_goes_pending(vgic):
    """R10: deactivating an LR in state 11 leaves it pending (01)."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=50, state=PENDING_ACTIVE, prio=0x50))
    vgic.wr("GICH_APR", 1 << 10)
    assert vgic.virq == 0
    vgic.wr("GICV_EOIR", 50)
    assert vgic.lr(0) == lr_value(vid=50, state=PENDING, prio=0x50)
    assert vgic.virq == 1
    assert vgic.rd("GICV_IAR") == 50


def test_eoir_group1_vid_without_ackctl_acts_normally(vgic):
    """R8 (UNPREDICTABLE by analogy with GICC, model choice): EOIR of a Group 1
    vid with AckCtl = 0 drops and deactivates like any EOI."""
    vgic.guest(ctlr=GRP0 | GRP1)
    vgic.set_lr(0, lr_value(vid=50, state=PENDING, prio=0x50, grp1=1))
    assert vgic.rd("GICV_AIAR") == 50
    vgic.wr("GICV_EOIR", 50)
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert vgic.rd("GICH_APR") == 0


def test_valid_lr_with_special_vid_acts_as_any_vid(vgic):
    """arch 2.8 / open point 10 (UNPREDICTABLE, model choice): a pending LR with vid
    1020-1023 is a candidate like any other (IAR returns its vid and activates
    it), but EOI/DIR of 1020-1023 are ignored, so only the hypervisor can
    retire it."""
    vgic.guest(ctlr=GRP0 | EOIMODE)
    vgic.set_lr(0, lr_value(vid=1021, state=PENDING, prio=0x50))
    assert vgic.virq == 1
    assert vgic.rd("GICV_IAR") == 1021
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE
    assert vgic.rd("GICH_APR") == 1 << 10
    vgic.wr("GICV_EOIR", 1021)
    vgic.wr("GICV_DIR", 1021)
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE
    assert vgic.rd("GICH_APR") == 1 << 10
    assert eoicount(vgic) == 0


def test_aeoir_group0_vid_acts_like_eoir(vgic):
    """Section 4 #15 (UNPREDICTABLE, model choice): AEOIR of a Group 0 vid drops
    the priority and deactivates the LR, exactly as EOIR would."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=50, state=PENDING, prio=0x50, grp1=0))
    assert vgic.rd("GICV_IAR") == 50
    vgic.wr("GICV_AEOIR", 50)
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert vgic.rd("GICH_APR") == 0


# -- vSGI matching on EOI/DIR (R8, R9, open point 30) -------------------------------

def test_vsgi_eoi_matches_vid_and_cpuid(vgic):
    """R8 / open point 30: for vid < 16 the EOI matches vid and CPUID: of two
    active vSGI 2 LRs from CPUs 1 and 3, EOIR 3<<10|2 deactivates CPU 3's."""
    if vgic.num_lrs < 2:
        pytest.skip("needs two LRs")
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=2, state=ACTIVE, prio=0x50, cpuid=1))
    vgic.set_lr(1, lr_value(vid=2, state=ACTIVE, prio=0x40, cpuid=3))
    vgic.wr("GICH_APR", 1 << 8 | 1 << 10)
    vgic.wr("GICV_EOIR", 3 << 10 | 2)
    assert states(vgic)[:2] == [ACTIVE, INVALID]
    vgic.wr("GICV_EOIR", 1 << 10 | 2)
    assert states(vgic)[:2] == [INVALID, INVALID]
    assert eoicount(vgic) == 0


def test_vsgi_eoi_wrong_cpuid_is_no_match(vgic):
    """R8/R11 / open point 30: a vSGI EOI with another CPUID matches no LR:
    the priority drops and EOICount increments; the LR stays active."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=2, state=PENDING, prio=0x50, cpuid=1))
    assert vgic.rd("GICV_IAR") == 1 << 10 | 2
    vgic.wr("GICV_EOIR", 2)                                  # CPUID 0
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE
    assert eoicount(vgic) == 1
    assert vgic.rd("GICH_APR") == 0


def test_non_sgi_eoi_ignores_cpuid_bits(vgic):
    """R8: for vid >= 16 only the vid is matched; the CPUID bits written do not
    matter. (vid_out still shows an LR's CPUID field when HW = 0, arch 2.12.)"""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=16, state=PENDING, prio=0x50))
    assert vgic.rd("GICV_IAR") == 16
    vgic.wr("GICV_EOIR", 6 << 10 | 16)
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert eoicount(vgic) == 0
    vgic.set_lr(0, lr_value(vid=300, state=PENDING, prio=0x50, cpuid=6))
    assert vgic.rd("GICV_IAR") == 6 << 10 | 300
    vgic.wr("GICV_EOIR", 300)
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert eoicount(vgic) == 0


def test_hw1_low_vid_eoi_matches_vid_only(vgic):
    """R8 / open point 30 (model choice): with HW = 1, bits [12:10] are pINTID
    bits, not a CPUID: an EOI of a vid < 16 matches on the vid alone."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=3, state=PENDING, prio=0x50, hw=1, pintid=0x2C7))
    assert vgic.rd("GICV_IAR") == 3
    vgic.wr("GICV_EOIR", 3)
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert vgic.forwarded == [0x2C7]


def test_vsgi_dir_matches_vid_and_cpuid(vgic):
    """R9 / open point 30: DIR of a vSGI matches vid and CPUID too."""
    vgic.guest(ctlr=GRP0 | EOIMODE)
    vgic.set_lr(0, lr_value(vid=4, state=ACTIVE, prio=0x50, cpuid=6))
    vgic.wr("GICV_DIR", 5 << 10 | 4)
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE
    assert eoicount(vgic) == 1
    vgic.wr("GICV_DIR", 6 << 10 | 4)
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert eoicount(vgic) == 1


# -- GICV_DIR (R9) ---------------------------------------------------------------

def test_dir_with_eoimode0_ignored(vgic):
    """R9 / open point 7 (UNPREDICTABLE, QEMU ignores it): DIR with EOImode = 0
    changes nothing, matching LR or not."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=50, state=ACTIVE, prio=0x50))
    vgic.wr("GICH_APR", 1 << 10)
    before = vgic.snapshot()
    vgic.wr("GICV_DIR", 50)
    vgic.wr("GICV_DIR", 51)
    assert vgic.snapshot() == before


def test_dir_eoimode1_split_drop_and_deactivate(vgic):
    """R8/R9, arch 2.9 EOImode = 1: EOIR drops the priority, DIR deactivates; DIR
    never touches GICH_APR."""
    vgic.guest(ctlr=GRP0 | EOIMODE)
    vgic.set_lr(0, lr_value(vid=50, state=PENDING, prio=0x50))
    assert vgic.rd("GICV_IAR") == 50
    vgic.wr("GICV_DIR", 50)                                  # deactivate before the drop
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert vgic.rd("GICH_APR") == 1 << 10
    vgic.wr("GICV_EOIR", 50)
    assert vgic.rd("GICH_APR") == 0
    assert eoicount(vgic) == 0


def test_dir_no_match_counts_without_apr(vgic):
    """R9/R11: a DIR with no matching LR increments EOICount, with no APR
    condition, and leaves APR alone."""
    vgic.guest(ctlr=GRP0 | EOIMODE)
    vgic.wr("GICV_DIR", 123)
    assert eoicount(vgic) == 1
    vgic.wr("GICH_APR", 1 << 5)
    vgic.wr("GICV_DIR", 124)
    assert eoicount(vgic) == 2
    assert vgic.rd("GICH_APR") == 1 << 5


def test_dir_of_pending_only_lr_counts(vgic):
    """R9 / open point 8 (UNPREDICTABLE, QEMU: absent): DIR of a vid whose LR is
    only pending increments EOICount and leaves the LR pending."""
    vgic.guest(ctlr=GRP0 | EOIMODE)
    vgic.set_lr(0, lr_value(vid=50, state=PENDING, prio=0x50))
    vgic.wr("GICV_DIR", 50)
    assert vgic.lr_state(vgic.lr(0)) == PENDING
    assert eoicount(vgic) == 1


@pytest.mark.parametrize("vid", [1020, 1021, 1022, 1023])
def test_dir_special_ids_ignored(vgic, vid):
    """R9: DIR of 1020-1023 is ignored (no EOICount change)."""
    vgic.guest(ctlr=GRP0 | EOIMODE)
    before = vgic.snapshot()
    vgic.wr("GICV_DIR", vid)
    assert vgic.snapshot() == before


def test_dir_pending_active_goes_pending(vgic):
    """R9/R10: DIR of an LR in state 11 leaves it pending (01)."""
    vgic.guest(ctlr=GRP0 | EOIMODE)
    vgic.set_lr(0, lr_value(vid=50, state=PENDING_ACTIVE, prio=0x50))
    vgic.wr("GICV_DIR", 50)
    assert vgic.lr_state(vgic.lr(0)) == PENDING
    assert vgic.virq == 1


# -- EOICount (R11) ---------------------------------------------------------------

def test_eoicount_wraps_modulo_32(vgic):
    """arch 2.1/R11: EOICount increments modulo 32 (31 -> 0); other HCR bits kept."""
    vgic.guest(ctlr=GRP0 | EOIMODE, hcr=31 << 27 | 0x5)
    vgic.wr("GICV_DIR", 200)
    assert vgic.rd("GICH_HCR") == 0x5
    for k in range(1, 33):
        vgic.wr("GICV_DIR", 200)
        assert vgic.rd("GICH_HCR") == (k % 32) << 27 | 0x5


def test_eoicount_by_eoir_wrap(vgic):
    """R11 (a): EOIR (EOImode 0) that cleared an APR bit and matched no LR
    increments EOICount, modulo 32."""
    vgic.guest(hcr=30 << 27 | 1)
    for expect in (31, 0, 1):
        vgic.wr("GICH_APR", 1 << 3)
        vgic.wr("GICV_EOIR", 300)
        assert eoicount(vgic) == expect


def test_eoicount_writable_by_hypervisor(vgic):
    """arch 2.1: EOICount is writable by the hypervisor (clearing it)."""
    vgic.wr("GICH_HCR", 0xF800_0000)
    assert vgic.rd("GICH_HCR") == 0xF800_0000
    vgic.wr("GICH_HCR", 0x0800_0001)
    assert eoicount(vgic) == 1
    vgic.wr("GICH_HCR", 0)
    assert eoicount(vgic) == 0


def test_eoicount_counts_with_hcr_en_0(vgic):
    """R11/R14 (model choice): EOI and DIR writes still take effect with
    HCR.En = 0 (the registers stay accessible); an unmatched EOI counts."""
    vgic.guest(hcr=0)
    vgic.wr("GICH_APR", 1 << 3)
    vgic.wr("GICV_EOIR", 300)
    assert eoicount(vgic) == 1
    assert vgic.rd("GICH_APR") == 0


# -- HW = 1 forwarding (R10) -----------------------------------------------------

def test_hw_eoi_forwards_pintid(vgic):
    """R10: deactivating an HW = 1 LR on EOIR (EOImode 0) forwards its pINTID;
    no EISR bit (HW = 1), ELRSR set."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x40, hw=1, pintid=0x2A5))
    assert vgic.rd("GICV_IAR") == 40
    assert vgic.forwarded == []
    vgic.wr("GICV_EOIR", 40)
    assert vgic.forwarded == [0x2A5]
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert vgic.eisr() == 0
    assert vgic.elrsr() & 1 == 1
    assert vgic.rd("GICH_MISR") & 1 == 0


def test_hw_eoimode1_forwards_on_dir_only(vgic):
    """R10, arch 2.9 EOImode = 1: EOIR does not deactivate (no forward); DIR does."""
    vgic.guest(ctlr=GRP0 | EOIMODE)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x40, hw=1, pintid=33))
    assert vgic.rd("GICV_IAR") == 40
    vgic.wr("GICV_EOIR", 40)
    assert vgic.forwarded == []
    vgic.wr("GICV_DIR", 40)
    assert vgic.forwarded == [33]


def test_hw_forwards_in_order(vgic):
    """R10: forwarded deactivations are listed oldest first."""
    if vgic.num_lrs < 3:
        pytest.skip("needs three LRs")
    vgic.guest()
    for i, pintid in enumerate((100, 16, 1019)):
        vgic.set_lr(i, lr_value(vid=40 + i, state=ACTIVE, prio=0x40, hw=1, pintid=pintid))
    for vid in (41, 40, 42):
        vgic.wr("GICV_EOIR", vid)
    assert vgic.forwarded == [16, 100, 1019]


@pytest.mark.parametrize("pintid", [0, 15, 1020, 1023])
def test_hw_pintid_not_ppi_spi_not_forwarded(vgic, pintid):
    """arch 2.8 / open point 11 (UNPREDICTABLE, model choice): an HW = 1 LR whose
    pINTID is not a PPI/SPI (0-15, 1020-1023) is deactivated but nothing is
    forwarded."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=40, state=ACTIVE, prio=0x40, hw=1, pintid=pintid))
    vgic.wr("GICV_EOIR", 40)
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert vgic.forwarded == []


def test_hw_pending_active_forwards(vgic):
    """R10 / open point 29 (unverified, model choice): deactivating an HW = 1
    LR in state 11 forwards the deactivation and leaves the LR pending."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=40, state=PENDING_ACTIVE, prio=0x40, hw=1, pintid=77))
    vgic.wr("GICV_EOIR", 40)
    assert vgic.forwarded == [77]
    assert vgic.lr_state(vgic.lr(0)) == PENDING


def test_hw0_deactivation_forwards_nothing(vgic):
    """R10: an HW = 0 LR forwards nothing (its bits [19:10] are EOI/CPUID)."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=40, state=ACTIVE, prio=0x40, eoi=1, cpuid=7))
    vgic.wr("GICV_EOIR", 40)
    assert vgic.forwarded == []


def test_hw_no_forward_without_deactivation(vgic):
    """R10: only a deactivation forwards: an EOI that matches no LR, a DIR
    ignored with EOImode 0 and an acknowledge forward nothing."""
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x40, hw=1, pintid=50))
    assert vgic.rd("GICV_IAR") == 40
    vgic.wr("GICV_DIR", 40)                                  # EOImode 0: ignored
    vgic.wr("GICV_EOIR", 41)
    assert vgic.forwarded == []
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE


# -- HCR.En = 0 (R14) ----------------------------------------------------------

def test_hcr_en_0_silences_lines_but_registers_work(vgic):
    """R14: with HCR.En = 0 no VIRQ/VFIQ/maintenance, IAR/AIAR 1023; LR, APR,
    VMCR and GICV registers still read and write."""
    vgic.guest(ctlr=GRP0 | GRP1 | ACKCTL | FIQEN, hcr=0x2)  # UIE, no En
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x40))
    assert vgic.lines == (0, 0, 0)
    assert vgic.rd("GICH_MISR") == 0x2
    assert vgic.rd("GICV_IAR") == 1023
    assert vgic.rd("GICV_AIAR") == 1023
    vgic.wr("GICV_PMR", 0x80)
    vgic.wr("GICV_BPR", 5)
    vgic.wr("GICV_APR0", 0x10)
    assert (vgic.rd("GICV_PMR"), vgic.rd("GICV_BPR"), vgic.rd("GICH_APR")) == (0x80, 5, 0x10)
    vgic.wr("GICH_APR", 0)
    vgic.wr("GICH_HCR", 0x3)
    assert vgic.lines == (0, 1, 1)                           # FIQEn: Group 0 on VFIQ
    assert vgic.rd("GICV_IAR") == 40


# -- reset (R15) -------------------------------------------------------------------

def reset_values(n):
    """R15 / arch 1.1-1.2 reset column, for n LRs."""
    full = (1 << n) - 1
    vals = {"GICH_HCR": 0, "GICH_VTR": 0x9000_0000 | (n - 1), "GICH_VMCR": 0x004C_0000,
            "GICH_MISR": 0, "GICH_EISR0": 0, "GICH_EISR1": 0,
            "GICH_ELRSR0": full & ALL_ONES, "GICH_ELRSR1": full >> 32, "GICH_APR": 0,
            "GICV_CTLR": 0, "GICV_PMR": 0, "GICV_BPR": 2, "GICV_ABPR": 3, "GICV_RPR": 0xFF,
            "GICV_HPPIR": 0x3FF, "GICV_AHPPIR": 0x3FF, "GICV_APR0": 0, "GICV_IIDR": 0x0002_043B}
    vals.update({f"GICH_LR{i}": 0 for i in range(n)})
    vals.update(virq=0, vfiq=0, maint=0, forwarded=[])
    return vals


@pytest.mark.lr_dependent
def test_reset_values(vgic):
    """R15: reset values of every register (GIC-400's), no outputs asserted."""
    assert vgic.snapshot() == reset_values(vgic.num_lrs)
    assert vgic.rd("GICV_IAR") == 0x3FF
    assert vgic.rd("GICV_AIAR") == 0x3FF


@pytest.mark.lr_dependent
def test_reset_after_activity(vgic):
    """R15: reset() puts every register back, whatever happened before."""
    vgic.guest(ctlr=0x21F, hcr=0xF80000FF, bpr=5, abpr=6)
    for i in range(vgic.num_lrs):
        vgic.set_lr(i, lr_value(vid=40 + i, state=PENDING, prio=0x40, hw=1, pintid=40))
    vgic.rd("GICV_IAR")
    vgic.wr("GICV_DIR", 40)
    assert vgic.forwarded == [40]
    vgic.wr("GICH_APR", 0xF0F0)
    vgic.reset()
    assert vgic.snapshot() == reset_values(vgic.num_lrs)
    assert vgic.rd("GICV_IAR") == 0x3FF


# -- the worked trace (R16) ------------------------------------------------------

def test_r16_worked_trace(vgic):
    """R16 (QEMU scenario b): pending LR0 -> IAR -> active -> EOIR."""
    if vgic.num_lrs != 4:
        pytest.skip("ELRSR values of R16 are for 4 LRs")
    vgic.wr("GICH_HCR", 1)
    vgic.wr("GICH_LR0", 0x1A00_002A)
    vgic.wr("GICV_CTLR", 1)
    assert vgic.virq == 0
    vgic.wr("GICV_PMR", 0xF8)
    assert vgic.virq == 1
    assert vgic.rd("GICV_HPPIR") == 42
    assert vgic.rd("GICV_IAR") == 42
    assert vgic.virq == 0
    assert vgic.rd("GICH_LR0") == 0x2A00_002A
    assert vgic.rd("GICH_APR") == 0x0010_0000
    assert vgic.rd("GICV_RPR") == 0xA0
    assert vgic.rd("GICH_ELRSR0") == 0xE
    vgic.wr("GICV_EOIR", 42)
    assert vgic.rd("GICH_LR0") == 0x0A00_002A
    assert vgic.rd("GICH_ELRSR0") == 0xF
    assert vgic.rd("GICH_APR") == 0
    assert vgic.rd("GICV_RPR") == 0xFF
    assert vgic.lines == (0, 0, 0)
    # variant with LR0.EOI = 1
    vgic.wr("GICH_LR0", 0x1A08_002A)
    assert vgic.rd("GICV_IAR") == 42
    vgic.wr("GICV_EOIR", 42)
    assert vgic.rd("GICH_ELRSR0") == 0xE
    assert vgic.rd("GICH_EISR0") == 1
    assert vgic.rd("GICH_MISR") == 1
    assert vgic.maint == 1
    vgic.wr("GICH_LR0", 0)
    assert vgic.maint == 0
    assert vgic.rd("GICH_MISR") == 0


@pytest.mark.lr_dependent
def test_r16_trace_at_any_lr_count(vgic):
    """R16 on the last LR at every LR count (ELRSR relative to all-empty)."""
    n = vgic.num_lrs
    last = n - 1
    full = (1 << n) - 1
    vgic.guest(ctlr=GRP0)
    vgic.set_lr(last, 0x1A08_002A)
    assert vgic.virq == 1
    assert vgic.rd("GICV_IAR") == 42
    assert vgic.elrsr() == full & ~(1 << last)
    vgic.wr("GICV_EOIR", 42)
    assert vgic.lr(last) == 0x0A08_002A
    assert vgic.eisr() == 1 << last
    assert vgic.elrsr() == full & ~(1 << last)
    assert vgic.rd("GICH_MISR") == 1
    assert vgic.maint == 1
