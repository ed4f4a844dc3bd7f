# Ref: arch 2.1 (GICH_HCR enables), arch 2.4 (GICH_MISR), R13 (maintenance line), R14
"""GICH_MISR bit by bit with its HCR enable, and the maintenance line
(level, = HCR.En && MISR != 0)."""
import pytest

from conftest import INVALID, PENDING, ACTIVE, PENDING_ACTIVE, lr_value

ALL_ONES = 0xFFFF_FFFF
# GICH_HCR bits (arch 2.1) and GICH_MISR bits (arch 2.4)
EN, UIE, LRENPIE, NPIE = 1 << 0, 1 << 1, 1 << 2, 1 << 3
VGRP0EIE, VGRP0DIE, VGRP1EIE, VGRP1DIE = 1 << 4, 1 << 5, 1 << 6, 1 << 7
M_EOI, M_U, M_LRENP, M_NP = 1 << 0, 1 << 1, 1 << 2, 1 << 3
M_VGRP0E, M_VGRP0D, M_VGRP1E, M_VGRP1D = 1 << 4, 1 << 5, 1 << 6, 1 << 7


def misr(vgic):
    return vgic.rd("GICH_MISR")


def check_line(vgic):
    """R13: maintenance = HCR.En && MISR != 0."""
    assert vgic.maint == int(bool(vgic.rd("GICH_HCR") & EN and misr(vgic)))


def test_misr_reset_zero(vgic):
    """arch 2.4/R15: MISR resets to 0, the line is low."""
    assert misr(vgic) == 0
    assert vgic.maint == 0


def test_misr_reserved_bits_read_zero(vgic):
    """arch 2.4: MISR [31:8] reserved; with every enable and every condition only
    bits [7:0] can be set. MISR is RO."""
    vgic.wr("GICH_HCR", ALL_ONES)
    vgic.set_lr(0, lr_value(vid=40, state=INVALID, eoi=1))
    assert misr(vgic) >> 8 == 0
    before = misr(vgic)
    vgic.wr("GICH_MISR", 0)
    vgic.wr("GICH_MISR", ALL_ONES)
    assert misr(vgic) == before


def test_no_enable_no_bit(vgic):
    """arch 2.4: with HCR = En only, every condition true gives no bit but EOI
    (which has no enable)."""
    vgic.wr("GICH_HCR", EN)
    assert misr(vgic) == 0                                  # 0 valid LRs, no pending: U, NP
    assert vgic.maint == 0
    vgic.wr("GICH_HCR", EN | 1 << 27)                       # EOICount != 0: LRENP
    assert misr(vgic) == 0
    vgic.wr("GICV_CTLR", 0x3)
    assert misr(vgic) == 0


# -- EOI (arch 2.4 bit 0) -----------------------------------------------------------

@pytest.mark.lr_dependent
def test_misr_eoi_from_any_eisr_bit(vgic):
    """arch 2.4 MISR.EOI: set while any EISR0/EISR1 bit is set; no HCR enable."""
    vgic.wr("GICH_HCR", EN)
    for n in sorted({0, vgic.num_lrs // 2, 31 % vgic.num_lrs, vgic.num_lrs - 1}):
        vgic.set_lr(n, lr_value(vid=40, state=INVALID, eoi=1))
        assert misr(vgic) == M_EOI
        assert vgic.maint == 1
        vgic.set_lr(n, 0)
        assert misr(vgic) == 0
        assert vgic.maint == 0


@pytest.mark.parametrize("value", [lr_value(vid=40, state=INVALID, eoi=0),
                                   lr_value(vid=40, state=PENDING, eoi=1),
                                   lr_value(vid=40, state=ACTIVE, eoi=1),
                                   lr_value(vid=40, state=PENDING_ACTIVE, eoi=1),
                                   lr_value(vid=40, state=INVALID, hw=1, pintid=0x200)])
def test_misr_eoi_clear_without_eisr(vgic, value):
    """arch 2.4/2.5: no EISR bit (valid state, EOI = 0 or HW = 1), no MISR.EOI."""
    vgic.wr("GICH_HCR", EN)
    vgic.set_lr(0, value)
    assert misr(vgic) & M_EOI == 0


def test_misr_eoi_after_guest_eoi(vgic):
    """arch 2.4/R12/R13: EOIR of an EOI=1 LR raises MISR.EOI and the line; the line
    drops when the hypervisor rewrites the LR."""
    vgic.guest(ctlr=0x1)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x40, eoi=1))
    assert vgic.rd("GICV_IAR") == 40
    assert vgic.maint == 0
    vgic.wr("GICV_EOIR", 40)
    assert misr(vgic) == M_EOI
    assert vgic.maint == 1
    vgic.set_lr(0, 0)
    assert vgic.maint == 0


# -- U (arch 2.4 bit 1) --------------------------------------------------------------

@pytest.mark.lr_dependent
@pytest.mark.parametrize("state", [PENDING, ACTIVE, PENDING_ACTIVE])
def test_misr_u_counts_valid_lrs(vgic, state):
    """arch 2.4 MISR.U / R13 example: with UIE, 0 or 1 valid LRs (State != 00) give
    U; 2 valid LRs (here the first and the last) clear it."""
    vgic.wr("GICH_HCR", EN | UIE)
    assert misr(vgic) == M_U and vgic.maint == 1
    vgic.set_lr(0, lr_value(vid=40, state=state, prio=0x40))
    assert misr(vgic) == M_U and vgic.maint == 1
    if vgic.num_lrs > 1:
        vgic.set_lr(vgic.num_lrs - 1, lr_value(vid=41, state=state, prio=0x40))
        assert misr(vgic) & M_U == 0
        assert vgic.maint == 0
        vgic.wr("GICH_HCR", EN)
        assert misr(vgic) == 0


def test_misr_u_ignores_invalid_lr_waiting_on_eoi(vgic):
    """arch 2.4 MISR.U: an invalid LR still waiting on EOI maintenance is not valid."""
    if vgic.num_lrs < 2:
        pytest.skip("needs two LRs")
    vgic.wr("GICH_HCR", EN | UIE)
    vgic.set_lr(0, lr_value(vid=40, state=ACTIVE, prio=0x40))
    vgic.set_lr(1, lr_value(vid=41, state=INVALID, eoi=1))
    assert misr(vgic) == M_U | M_EOI


def test_misr_u_follows_guest_eoi(vgic):
    """arch 2.4/R13: U rises when a guest EOI leaves at most one valid LR."""
    if vgic.num_lrs < 2:
        pytest.skip("needs two LRs")
    vgic.guest(ctlr=0x1, hcr=EN | UIE)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x40))
    vgic.set_lr(1, lr_value(vid=41, state=PENDING, prio=0x50))
    assert misr(vgic) & M_U == 0
    assert vgic.rd("GICV_IAR") == 40
    assert misr(vgic) & M_U == 0
    vgic.wr("GICV_EOIR", 40)
    assert misr(vgic) & M_U == M_U
    assert vgic.maint == 1


@pytest.mark.lr_dependent
def test_misr_u_many_lrs(vgic):
    """arch 2.4 MISR.U: all LRs valid: U only if there is exactly one LR."""
    vgic.wr("GICH_HCR", EN | UIE)
    for n in range(vgic.num_lrs):
        vgic.set_lr(n, lr_value(vid=40 + n, state=ACTIVE, prio=0x40))
    assert (misr(vgic) & M_U != 0) == (vgic.num_lrs == 1)


# -- LRENP (arch 2.4 bit 2) ------------------------------------------------------------

def test_misr_lrenp(vgic):
    """arch 2.4 MISR.LRENP: LRENPIE && EOICount != 0, for every EOICount value."""
    for count in range(32):
        vgic.wr("GICH_HCR", count << 27 | EN | LRENPIE)
        assert misr(vgic) == (M_LRENP if count else 0)
        check_line(vgic)
        vgic.wr("GICH_HCR", count << 27 | EN)
        assert misr(vgic) == 0


def test_misr_lrenp_from_unmatched_eoi(vgic):
    """arch 2.4/R11: an EOIR with no LR raises EOICount and so LRENP; the
    hypervisor clears it by writing HCR."""
    vgic.guest(ctlr=0x1, hcr=EN | LRENPIE)
    vgic.wr("GICH_APR", 1 << 4)
    vgic.wr("GICV_EOIR", 500)
    assert misr(vgic) == M_LRENP
    assert vgic.maint == 1
    vgic.wr("GICH_HCR", EN | LRENPIE)
    assert misr(vgic) == 0
    assert vgic.maint == 0


def test_misr_lrenp_after_wrap_to_zero(vgic):
    """arch 2.1/R11: EOICount wrapping 31 -> 0 clears LRENP."""
    vgic.guest(ctlr=0x201, hcr=31 << 27 | EN | LRENPIE)       # EOImode 1 for DIR
    assert misr(vgic) == M_LRENP
    vgic.wr("GICV_DIR", 600)
    assert vgic.rd("GICH_HCR") >> 27 == 0
    assert misr(vgic) == 0
    assert vgic.maint == 0


# -- NP (arch 2.4 bit 3) -------------------------------------------------------------

@pytest.mark.lr_dependent
def test_misr_np_no_pending_lr(vgic):
    """arch 2.4 MISR.NP: NPIE && no LR in state 01; a pending LR anywhere clears it."""
    vgic.wr("GICH_HCR", EN | NPIE)
    assert misr(vgic) == M_NP
    assert vgic.maint == 1
    for n in sorted({0, vgic.num_lrs - 1}):
        vgic.set_lr(n, lr_value(vid=40, state=PENDING, prio=0x40))
        assert misr(vgic) == 0
        assert vgic.maint == 0
        vgic.set_lr(n, 0)
        assert misr(vgic) == M_NP


@pytest.mark.parametrize("state", [ACTIVE, PENDING_ACTIVE])
def test_misr_np_with_active_or_pending_active(vgic, state):
    """arch 2.4 MISR.NP / open point 5 / R13 example: only state 01 counts as
    pending: with only active or active+pending LRs NP is still set."""
    vgic.wr("GICH_HCR", EN | NPIE)
    vgic.set_lr(vgic.num_lrs - 1, lr_value(vid=40, state=state, prio=0x40))
    assert misr(vgic) == M_NP


def test_misr_np_disabled_group_pending_still_counts(vgic):
    """arch 2.4 MISR.NP is about LR state only: a pending LR of a disabled group, or
    masked by PMR, still clears NP."""
    vgic.wr("GICH_HCR", EN | NPIE)
    vgic.wr("GICV_CTLR", 0)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x40))
    assert misr(vgic) == 0


def test_misr_np_after_acknowledge(vgic):
    """arch 2.4 MISR.NP: acknowledging the last pending LR sets NP."""
    vgic.guest(ctlr=0x1, hcr=EN | NPIE)
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x40))
    assert vgic.maint == 0
    assert vgic.rd("GICV_IAR") == 40
    assert misr(vgic) == M_NP
    assert vgic.maint == 1


# -- VGrp0E/D, VGrp1E/D (arch 2.4 bits 4-7) --------------------------------------------

@pytest.mark.parametrize("via", ["GICV_CTLR", "GICH_VMCR"])
@pytest.mark.parametrize("ctlr", [0, 1, 2, 3])
def test_misr_vgrp_enable_disable(vgic, via, ctlr):
    """arch 2.4 MISR.VGrp0E/VGrp0D/VGrp1E/VGrp1D: each enable reports its group's
    EnableGrp (E when 1, D when 0), set through GICV_CTLR or GICH_VMCR."""
    g0, g1 = ctlr & 1, ctlr >> 1 & 1
    vgic.wr(via, ctlr)
    for enable, bit, cond in ((VGRP0EIE, M_VGRP0E, g0), (VGRP0DIE, M_VGRP0D, not g0),
                              (VGRP1EIE, M_VGRP1E, g1), (VGRP1DIE, M_VGRP1D, not g1)):
        vgic.wr("GICH_HCR", EN | enable)
        assert misr(vgic) == (bit if cond else 0), hex(enable)
        assert vgic.maint == int(bool(cond))
    vgic.wr("GICH_HCR", EN | VGRP0EIE | VGRP0DIE | VGRP1EIE | VGRP1DIE)
    assert misr(vgic) == (M_VGRP0E if g0 else M_VGRP0D) | (M_VGRP1E if g1 else M_VGRP1D)


def test_misr_vgrp_follows_guest_ctlr_at_once(vgic):
    """R13: the line drops when the guest's GICV_CTLR change removes the cause."""
    vgic.wr("GICH_HCR", EN | VGRP0DIE)
    assert vgic.maint == 1
    vgic.wr("GICV_CTLR", 1)
    assert misr(vgic) == 0
    assert vgic.maint == 0
    vgic.wr("GICV_CTLR", 2)
    assert misr(vgic) == M_VGRP0D
    assert vgic.maint == 1


# -- all together, the line and En ------------------------------------------------

@pytest.mark.lr_dependent
def test_misr_all_bits_at_once(vgic):
    """arch 2.4: every condition true with every enable set gives all 8 bits
    that can be true together (EnableGrp decides E vs D)."""
    vgic.wr("GICH_HCR", 1 << 27 | 0xFF)
    vgic.set_lr(vgic.num_lrs - 1, lr_value(vid=40, state=INVALID, eoi=1))
    assert misr(vgic) == M_EOI | M_U | M_LRENP | M_NP | M_VGRP0D | M_VGRP1D
    vgic.wr("GICV_CTLR", 3)
    assert misr(vgic) == M_EOI | M_U | M_LRENP | M_NP | M_VGRP0E | M_VGRP1E
    assert vgic.maint == 1


def test_misr_computed_with_en_0(vgic):
    """R13/R14 / open point 6 (QEMU: MISR reads 0xA with En = 0, line low):
    MISR shows its conditions whatever HCR.En is; the line needs En."""
    vgic.wr("GICH_HCR", UIE | NPIE)
    assert misr(vgic) == M_U | M_NP
    assert vgic.maint == 0
    vgic.set_lr(0, lr_value(vid=40, state=INVALID, eoi=1))
    assert misr(vgic) == M_EOI | M_U | M_NP
    assert vgic.maint == 0
    vgic.wr("GICH_HCR", EN | UIE | NPIE)
    assert vgic.maint == 1
    vgic.wr("GICH_HCR", UIE | NPIE)
    assert vgic.maint == 0


def test_line_drops_when_enable_cleared(vgic):
    """R13: the line drops when the hypervisor clears the enable in HCR."""
    vgic.wr("GICH_HCR", EN | UIE)
    assert vgic.maint == 1
    vgic.wr("GICH_HCR", EN)
    assert vgic.maint == 0


@pytest.mark.parametrize("hcr", [0x00, 0x01, 0x03, 0x0B, 0x0D, 0x51, 0xA1, 0xFF, 0xFE, 0x8000_000F])
def test_line_equals_en_and_misr(vgic, hcr):
    """R13: maintenance == HCR.En && MISR != 0, over several HCR/LR/CTLR states."""
    vgic.wr("GICH_HCR", hcr)
    check_line(vgic)
    for ctlr in (0, 3):
        vgic.wr("GICV_CTLR", ctlr)
        for value in (lr_value(vid=40, state=PENDING, prio=0x40),
                      lr_value(vid=40, state=INVALID, eoi=1), 0):
            vgic.set_lr(0, value)
            check_line(vgic)
