# Ref: arch 2.2 (GICH_VTR), arch 2.5 (EISR), arch 2.6 (ELRSR), arch 2.8 (GICH_LR<n>), arch 1.4 rule 2,
#      R5 (candidate selection), R8/R9 (vID match), R12, R15
"""List-register bank: LR storage and write mask, LRs above ListRegs, VTR,
ELRSR/EISR (both words), candidate selection and the EOI vID match.
Expected values come from docs/architecture.md, not from the model."""
import pytest

from conftest import INVALID, PENDING, ACTIVE, PENDING_ACTIVE, lr_value

ALL_ONES = 0xFFFF_FFFF
LR_WMASK_SPEC = 0xFF8F_FFFF          # arch 2.8/2.19: bits [22:20] reserved


def sample_lrs(n):
    """LR indices worth probing with n LRs: both ends and both sides of the
    EISR0/EISR1 word boundary."""
    return sorted({i for i in (0, 1, n // 2, 30, 31, 32, 33, n - 2, n - 1) if 0 <= i < n})


# -- GICH_VTR (arch 2.2) ----------------------------------------------------

@pytest.mark.lr_dependent
def test_vtr_listregs_is_num_lrs_minus_one(vgic):
    """arch 2.2 GICH_VTR: PRIbits = PREbits = 4 (5 bits), [25:6] RAZ, ListRegs = n - 1."""
    vtr = vgic.rd("GICH_VTR")
    assert vtr == 0x9000_0000 | (vgic.num_lrs - 1)
    assert vtr >> 29 == 4 and (vtr >> 26) & 7 == 4
    assert (vtr >> 26) & 7 <= vtr >> 29                      # PREbits <= PRIbits
    assert (vtr >> 6) & ((1 << 20) - 1) == 0


@pytest.mark.lr_dependent
def test_vtr_is_read_only(vgic):
    """arch 2.2 / 1.4 rule 3: a write to GICH_VTR is ignored."""
    before = vgic.rd("GICH_VTR")
    vgic.wr("GICH_VTR", 0)
    vgic.wr("GICH_VTR", ALL_ONES)
    assert vgic.rd("GICH_VTR") == before


def test_vtr_gic400_value_at_4_lrs(vgic):
    """arch 2.2: GIC-400 and QEMU read 0x90000003 with 4 LRs."""
    if vgic.num_lrs != 4:
        pytest.skip("GIC-400 value is for 4 LRs")
    assert vgic.rd("GICH_VTR") == 0x9000_0003


# -- GICH_LR<n> storage (arch 2.8, 2.19) ----------------------------------------

@pytest.mark.lr_dependent
def test_lr_reset_zero(vgic):
    """R15: all LRs reset to 0 (invalid)."""
    assert vgic.lrs() == [0] * vgic.num_lrs


@pytest.mark.lr_dependent
def test_lr_write_mask_drops_bits_22_20(vgic):
    """arch 2.8/2.19 GICH_LR<n> write mask 0xFF8FFFFF: reserved bits [22:20] read 0,
    every other bit is stored, on every implemented LR."""
    for n in range(vgic.num_lrs):
        vgic.set_lr(n, ALL_ONES)
    assert vgic.lrs() == [LR_WMASK_SPEC] * vgic.num_lrs
    for n in range(vgic.num_lrs):
        vgic.set_lr(n, 0x0070_0000)                          # only reserved bits
    assert vgic.lrs() == [0] * vgic.num_lrs


@pytest.mark.lr_dependent
def test_lr_each_register_is_its_own_storage(vgic):
    """arch 2.8: GICH_LR<n> at 0x100 + 4n, one register each (no aliasing)."""
    values = [lr_value(vid=(37 * n + 5) % 1020, prio=(n * 8) % 256, grp1=n & 1,
                       eoi=(n >> 1) & 1, cpuid=n % 8) for n in range(vgic.num_lrs)]
    for n, v in enumerate(values):
        vgic.set_lr(n, v)
    assert vgic.lrs() == values
    # rewriting one LR leaves the others alone
    last = vgic.num_lrs - 1
    vgic.set_lr(last, 0x8123_4567 & LR_WMASK_SPEC)
    assert vgic.lrs() == values[:-1] + [0x8123_4567 & LR_WMASK_SPEC]


@pytest.mark.lr_dependent
def test_lr_fields_round_trip(vgic):
    """arch 2.8: every field is hypervisor-owned storage (HW=1 layout with pINTID,
    HW=0 layout with EOI and CPUID)."""
    cases = [lr_value(vid=1019, state=INVALID, prio=0xF8, grp1=1, hw=1, pintid=1019),
             lr_value(vid=15, state=INVALID, prio=0x00, eoi=1, cpuid=7),
             0x1A08_002A, 0xDFFF_FFFF & LR_WMASK_SPEC]
    n = vgic.num_lrs - 1
    for v in cases:
        vgic.set_lr(n, v)
        assert vgic.lr(n) == v


@pytest.mark.lr_dependent
def test_lrs_above_listregs_raz_wi(vgic):
    """arch 1.4 rule 2 (QEMU quirk 2): GICH_LR<n> for n > VTR.ListRegs reads 0 and
    ignores writes, and such a write changes nothing else."""
    vgic.guest()
    before = vgic.snapshot()
    for n in range(vgic.num_lrs, 64):
        vgic.set_lr(n, lr_value(vid=40 + n, state=PENDING, prio=0x10, eoi=1))
        vgic.set_lr(n, ALL_ONES)
    for n in range(vgic.num_lrs, 64):
        assert vgic.lr(n) == 0, f"GICH_LR{n} above ListRegs"
    assert vgic.snapshot() == before
    assert vgic.rd("GICV_IAR") == 1023                       # nothing became pending


@pytest.mark.lr_dependent
def test_lr_above_listregs_never_signals(vgic):
    """arch 1.4 rule 2: a pending value written above ListRegs is not an LR: no VIRQ,
    no EISR, no ELRSR bit."""
    if vgic.num_lrs == 64:
        pytest.skip("no LR above ListRegs with 64 LRs")
    vgic.guest()
    n = vgic.num_lrs
    vgic.set_lr(n, lr_value(vid=77, state=PENDING, prio=0x00))
    assert vgic.lines == (0, 0, 0)
    assert vgic.rd("GICV_HPPIR") == 1023
    vgic.set_lr(n, lr_value(vid=77, state=INVALID, eoi=1))
    assert vgic.eisr() == 0
    assert vgic.elrsr() == (1 << vgic.num_lrs) - 1


# -- ELRSR / EISR (arch 2.5, 2.6, R12) -------------------------------------

@pytest.mark.lr_dependent
def test_elrsr_reset_all_implemented_lrs(vgic):
    """arch 2.6/R15: with every LR empty ELRSR = 2^(ListRegs+1) - 1, split over
    ELRSR0 (LR0-31) and ELRSR1 (LR32-63); EISR = 0."""
    n = vgic.num_lrs
    full = (1 << n) - 1
    assert vgic.rd("GICH_ELRSR0") == full & ALL_ONES
    assert vgic.rd("GICH_ELRSR1") == full >> 32
    assert vgic.rd("GICH_EISR0") == 0
    assert vgic.rd("GICH_EISR1") == 0


def expected_elrsr(state, hw, eoi):
    """arch 2.6: State == 00 && (HW == 1 || EOI == 0)."""
    return int(state == INVALID and (hw or not eoi))


def expected_eisr(state, hw, eoi):
    """arch 2.5: State == 00 && HW == 0 && EOI == 1."""
    return int(state == INVALID and not hw and eoi)


@pytest.mark.lr_dependent
@pytest.mark.parametrize("hw", [0, 1])
def test_elrsr_eisr_definitions(vgic, hw):
    """arch 2.5/2.6/R12: EISR and ELRSR bits follow the LR contents at once, for every
    State x HW x EOI (bit 19, which is pINTID[9] when HW = 1), on LRs on both
    sides of the word boundary. Other LRs' bits are unaffected."""
    n = vgic.num_lrs
    for idx in sample_lrs(n):
        for state in range(4):
            for eoi in (0, 1):
                if hw:
                    v = lr_value(vid=100, state=state, hw=1, pintid=(eoi << 9) | 40)
                else:
                    v = lr_value(vid=100, state=state, eoi=eoi)
                vgic.set_lr(idx, v)
                others = ((1 << n) - 1) & ~(1 << idx)
                want_elrsr = others | expected_elrsr(state, hw, eoi) << idx
                want_eisr = expected_eisr(state, hw, eoi) << idx
                assert vgic.elrsr() == want_elrsr, (idx, state, eoi)
                assert vgic.eisr() == want_eisr, (idx, state, eoi)
        vgic.set_lr(idx, 0)


@pytest.mark.lrs(model=(32, 33, 40, 63, 64), rtl=(33,))
def test_eisr1_elrsr1_at_33_to_64_lrs(vgic):
    """arch 2.5/2.6: EISR1/ELRSR1 bit k is LR 32+k; bits of unimplemented LRs read 0."""
    n = vgic.num_lrs
    hi = n - 32                                              # LRs in the second word
    assert vgic.rd("GICH_ELRSR1") == ((1 << hi) - 1 if hi > 0 else 0)
    if hi <= 0:
        assert vgic.rd("GICH_EISR1") == 0
        return
    last = n - 1
    vgic.set_lr(last, lr_value(vid=5, state=INVALID, eoi=1))
    assert vgic.rd("GICH_EISR1") == 1 << (last - 32)
    assert vgic.rd("GICH_EISR0") == 0
    assert vgic.rd("GICH_ELRSR1") == ((1 << hi) - 1) & ~(1 << (last - 32))
    assert vgic.rd("GICH_ELRSR0") == ALL_ONES
    assert vgic.rd("GICH_MISR") & 1 == 1                     # MISR.EOI from EISR1
    vgic.set_lr(32, lr_value(vid=6, state=ACTIVE))
    assert vgic.rd("GICH_ELRSR1") & 1 == 0
    vgic.set_lr(31, lr_value(vid=7, state=PENDING))
    assert vgic.rd("GICH_ELRSR0") == 0x7FFF_FFFF


@pytest.mark.lr_dependent
def test_eisr_set_on_deactivation_and_stays_until_rewrite(vgic):
    """arch 2.5/R10/R12: an EOI-maintenance LR deactivated by EOIR shows its EISR bit
    (ELRSR bit 0) and keeps it until the hypervisor rewrites the LR."""
    vgic.guest()
    n = vgic.num_lrs - 1
    vgic.set_lr(n, lr_value(vid=33, state=PENDING, prio=0x40, eoi=1))
    assert vgic.rd("GICV_IAR") == 33
    assert vgic.eisr() == 0
    vgic.wr("GICV_EOIR", 33)
    assert vgic.eisr() == 1 << n
    assert (vgic.elrsr() >> n) & 1 == 0
    for _ in range(3):                                       # reads do not clear it
        assert vgic.eisr() == 1 << n
        vgic.rd("GICV_IAR")
    vgic.set_lr(n, 0)
    assert vgic.eisr() == 0
    assert vgic.elrsr() == (1 << vgic.num_lrs) - 1


# -- candidate selection (R5) -----------------------------------------------

@pytest.mark.lr_dependent
def test_best_is_highest_priority_at_any_index(vgic):
    """R5: the candidate is the pending LR with the smallest priority value,
    wherever it is in the bank (here the last LR)."""
    vgic.guest()
    n = vgic.num_lrs
    for i in range(n):                                       # priorities fall with the index
        vgic.set_lr(i, lr_value(vid=100 + i, state=PENDING, prio=max(0, 0xF0 - 8 * i) & 0xF8))
    best = min(range(n), key=lambda i: (max(0, 0xF0 - 8 * i), i))
    assert vgic.rd("GICV_HPPIR") == 100 + best
    assert vgic.rd("GICV_IAR") == 100 + best
    # every LR pending at 0xF0 but the last one, at 0x08: the last one wins
    vgic.wr("GICH_APR", 0)
    for i in range(n):
        vgic.set_lr(i, lr_value(vid=100 + i, state=PENDING, prio=0xF0 if i < n - 1 else 0x08))
    assert vgic.rd("GICV_HPPIR") == 100 + n - 1
    assert vgic.rd("GICV_IAR") == 100 + n - 1
    assert vgic.rd("GICV_RPR") == 0x08


@pytest.mark.lr_dependent
def test_equal_priority_lowest_index_wins(vgic):
    """R5 / open point 2 (IMPLEMENTATION DEFINED, QEMU's choice): among equal
    priorities the lowest LR index wins."""
    vgic.guest()
    n = vgic.num_lrs
    for i in reversed(range(n)):
        vgic.set_lr(i, lr_value(vid=200 + i, state=PENDING, prio=0x80))
    for i in range(n):
        assert vgic.rd("GICV_HPPIR") == 200 + i
        vgic.set_lr(i, 0)
    assert vgic.rd("GICV_HPPIR") == 1023


@pytest.mark.lr_dependent
def test_best_tie_between_far_lrs(vgic):
    """R5 / open point 2: a tie between the last LR and a middle LR goes to the
    lower index; a strictly better priority in the last LR wins."""
    n = vgic.num_lrs
    if n < 2:
        pytest.skip("needs two LRs")
    vgic.guest()
    mid = n // 2 - 1 if n > 2 else 0
    vgic.set_lr(n - 1, lr_value(vid=300, state=PENDING, prio=0x48))
    vgic.set_lr(mid, lr_value(vid=301, state=PENDING, prio=0x48))
    assert vgic.rd("GICV_HPPIR") == 301
    vgic.set_lr(n - 1, lr_value(vid=300, state=PENDING, prio=0x40))
    assert vgic.rd("GICV_HPPIR") == 300


@pytest.mark.lr_dependent
def test_pending_active_is_not_a_candidate(vgic):
    """R5: an LR in state 11 (pending and active) is not a candidate; state 10
    and 00 neither. Only 01 is."""
    vgic.guest()
    n = vgic.num_lrs
    for state in (INVALID, ACTIVE, PENDING_ACTIVE):
        vgic.set_lr(0, lr_value(vid=50, state=state, prio=0x00))
        assert vgic.rd("GICV_HPPIR") == 1023
        assert vgic.rd("GICV_IAR") == 1023
        assert vgic.virq == 0
    if n > 1:
        vgic.set_lr(0, lr_value(vid=50, state=PENDING_ACTIVE, prio=0x00))
        vgic.set_lr(n - 1, lr_value(vid=51, state=PENDING, prio=0xF0))
        assert vgic.rd("GICV_HPPIR") == 51


@pytest.mark.lr_dependent
def test_disabled_group_is_not_a_candidate(vgic):
    """R5 (QEMU quirk 5): a pending LR of a disabled group does not hide a
    lower-priority LR of an enabled group, and IAR cannot acknowledge it."""
    n = vgic.num_lrs
    if n < 2:
        pytest.skip("needs two LRs")
    vgic.guest(ctlr=0x2 | 0x4)                               # EnableGrp1, AckCtl; Grp0 off
    vgic.set_lr(0, lr_value(vid=60, state=PENDING, prio=0x10, grp1=0))
    vgic.set_lr(n - 1, lr_value(vid=61, state=PENDING, prio=0x80, grp1=1))
    assert vgic.rd("GICV_HPPIR") == 61
    assert vgic.virq == 1
    assert vgic.rd("GICV_IAR") == 61
    assert vgic.lr_state(vgic.lr(0)) == PENDING
    assert vgic.lr_state(vgic.lr(n - 1)) == ACTIVE


@pytest.mark.lr_dependent
def test_pmr_masks_priority_equal_or_lower(vgic):
    """R5/arch 2.10: an LR is a candidate only if P < PMR (strictly)."""
    vgic.guest(pmr=0x80)
    n = vgic.num_lrs
    vgic.set_lr(n - 1, lr_value(vid=70, state=PENDING, prio=0x80))
    assert vgic.rd("GICV_HPPIR") == 1023
    assert vgic.virq == 0
    vgic.wr("GICV_PMR", 0x88)
    assert vgic.rd("GICV_HPPIR") == 70
    assert vgic.virq == 1


# -- vID match for EOIR/DIR (R8, R9) ------------------------------------------

@pytest.mark.lr_dependent
def test_eoi_matches_lr_at_any_index(vgic):
    """R8: EOIR finds the LR holding the vid in state 10, wherever it is."""
    vgic.guest()
    n = vgic.num_lrs
    for i in range(n - 1):
        vgic.set_lr(i, lr_value(vid=500 + i, state=ACTIVE, prio=0x80))
    vgic.set_lr(n - 1, lr_value(vid=499, state=ACTIVE, prio=0x80))
    vgic.wr("GICH_APR", 1 << 16)
    vgic.wr("GICV_EOIR", 499)
    assert vgic.lr_state(vgic.lr(n - 1)) == INVALID
    assert [vgic.lr_state(v) for v in vgic.lrs()[:-1]] == [ACTIVE] * (n - 1)
    assert vgic.rd("GICH_HCR") >> 27 == 0


@pytest.mark.lr_dependent
def test_eoi_does_not_match_pending_or_invalid_lr(vgic):
    """R8: match() only considers State 10 or 11; an LR with the vid that is
    pending or invalid is not deactivated, and the EOI counts (R11)."""
    vgic.guest()
    n = vgic.num_lrs
    vgic.set_lr(n - 1, lr_value(vid=80, state=PENDING, prio=0x80))
    vgic.wr("GICH_APR", 1 << 3)
    vgic.wr("GICV_EOIR", 80)
    assert vgic.lr(n - 1) == lr_value(vid=80, state=PENDING, prio=0x80)
    assert vgic.rd("GICH_HCR") >> 27 == 1
    assert vgic.rd("GICH_APR") == 0


@pytest.mark.lr_dependent
def test_duplicate_vid_eoi_hits_lowest_active_lr(vgic):
    """Section 4 #9 (UNPREDICTABLE, model choice): with two active LRs holding
    one vid, EOIR deactivates the lowest-index one."""
    n = vgic.num_lrs
    if n < 2:
        pytest.skip("needs two LRs")
    vgic.guest()
    vgic.set_lr(n - 1, lr_value(vid=90, state=ACTIVE, prio=0x80))
    vgic.set_lr(0, lr_value(vid=90, state=ACTIVE, prio=0x80))
    vgic.wr("GICH_APR", 1 << 16)
    vgic.wr("GICV_EOIR", 90)
    assert vgic.lr_state(vgic.lr(0)) == INVALID
    assert vgic.lr_state(vgic.lr(n - 1)) == ACTIVE


@pytest.mark.lr_dependent
def test_duplicate_vid_eoi_skips_pending_copy(vgic):
    """Section 4 #9: a pending LR with the same vid at a lower index is not a
    match; the active one further up is deactivated."""
    n = vgic.num_lrs
    if n < 2:
        pytest.skip("needs two LRs")
    vgic.guest()
    vgic.set_lr(0, lr_value(vid=91, state=PENDING, prio=0x80))
    vgic.set_lr(n - 1, lr_value(vid=91, state=ACTIVE, prio=0x80))
    vgic.wr("GICH_APR", 1 << 16)
    vgic.wr("GICV_EOIR", 91)
    assert vgic.lr_state(vgic.lr(0)) == PENDING
    assert vgic.lr_state(vgic.lr(n - 1)) == INVALID
