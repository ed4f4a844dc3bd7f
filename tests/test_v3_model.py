# Ref: IHI0069 (GICv3 and GICv4) ICH_*_EL2 and ICV_*_EL1 register pages; docs/architecture-v3.md,
#      v3 0, v3 1.4, v3 2, v3 3 and rules V1-V20
"""Directed tests of the GICv3 interface (`VirtualInterface(arch="v3")`), one
group per rule of docs/architecture-v3.md, on the golden model and on the
Amaranth RTL (`engine` fixture).

Every expected value is a literal worked out by hand from the architecture
(register layouts, masks, the candidate / preemption / drop rules and the
worked examples of V19); no expected value is computed by model code. The
helpers below only *encode* inputs (an LR value, a VMCR value) from the
architectural field positions."""
import pytest

from vgic.sim.driver import RTLEngine
from vgic.sim.model import VirtualInterface

INVALID, PENDING, ACTIVE, PENDING_ACTIVE = 0, 1, 2, 3
SPURIOUS = 1023
HCR, VTR, VMCR = "ICH_HCR_EL2", "ICH_VTR_EL2", "ICH_VMCR_EL2"
MISR, EISR, ELRSR = "ICH_MISR_EL2", "ICH_EISR_EL2", "ICH_ELRSR_EL2"
IAR0, IAR1, EOIR0, EOIR1 = "ICV_IAR0_EL1", "ICV_IAR1_EL1", "ICV_EOIR0_EL1", "ICV_EOIR1_EL1"
HPPIR0, HPPIR1, DIR, RPR = "ICV_HPPIR0_EL1", "ICV_HPPIR1_EL1", "ICV_DIR_EL1", "ICV_RPR_EL1"
PMR, BPR0, BPR1, CTLR = "ICV_PMR_EL1", "ICV_BPR0_EL1", "ICV_BPR1_EL1", "ICV_CTLR_EL1"
IGRPEN0, IGRPEN1 = "ICV_IGRPEN0_EL1", "ICV_IGRPEN1_EL1"
ALL64 = 2**64 - 1
# ICH_HCR_EL2 bits (v3 2.1)
EN, UIE, LRENPIE, NPIE = 1 << 0, 1 << 1, 1 << 2, 1 << 3
VGRP0EIE, VGRP0DIE, VGRP1EIE, VGRP1DIE = 1 << 4, 1 << 5, 1 << 6, 1 << 7
# ICH_MISR_EL2 bits (v3 2.4)
M_EOI, M_U, M_LRENP, M_NP, M_VGRP0E, M_VGRP0D, M_VGRP1E, M_VGRP1D = (1 << i for i in range(8))


def LR(n):
    return f"ICH_LR{n}_EL2"


def AP(g, n, guest=False):
    return f"ICV_AP{g}R{n}_EL1" if guest else f"ICH_AP{g}R{n}_EL2"


ENGINE = ["model"]           # set per test by the `engine` fixture below


RTL_BUILDS = {}               # one Amaranth RTL per configuration, reset for each test


@pytest.fixture(autouse=True, params=["model", "rtl"])
def engine(request):
    """Every test on the golden model and on the Amaranth RTL (the same
    accesses through the memory-mapped layout, sim/driver.py; one build per
    configuration, reset before each test)."""
    ENGINE[0] = request.param
    yield request.param
    ENGINE[0] = "model"


def make(num_lrs=4, **kw):
    cfg = dict(pri_bits=5, pre_bits=5, id_bits=24, rp_masked=True)
    cfg.update(kw)
    if ENGINE[0] == "rtl":
        VirtualInterface(num_lrs=num_lrs, arch="v3", **cfg)      # a bad parameter: its ValueError
        key = (num_lrs, tuple(sorted(cfg.items())))
        if key not in RTL_BUILDS:
            RTL_BUILDS[key] = RTLEngine(num_lrs, arch="v3", **cfg)
        rtl = RTL_BUILDS[key]
        rtl.reset()
        return rtl
    return VirtualInterface(num_lrs=num_lrs, arch="v3", **cfg)


def lr(state, vid, prio, grp=1, hw=0, eoi=0, pintid=0):
    """An ICH_LR<n>_EL2 value from its fields (v3 2.8 layout)."""
    return state << 62 | hw << 61 | grp << 60 | prio << 48 | eoi << 41 | pintid << 32 | vid


def vmcr(pmr=0xF8, bpr0=0, bpr1=0, eoim=0, cbpr=0, eng0=1, eng1=1):
    """An ICH_VMCR_EL2 value from its fields (v3 2.3 layout); binary points
    below the minimum are stored as the minimum."""
    return pmr << 24 | bpr0 << 21 | bpr1 << 18 | eoim << 9 | cbpr << 4 | eng1 << 1 | eng0


def rd(m, name):
    return m.read_sysreg(name)


def wr(m, name, value):
    m.write_sysreg(name, value)


def running(num_lrs=4, hcr=EN, vm=None, **kw):
    """A model with HCR.En = 1 and the guest's interface on: VPMR 0xF8,
    minimum binary points, both groups enabled."""
    m = make(num_lrs, **kw)
    wr(m, HCR, hcr)
    wr(m, VMCR, vmcr() if vm is None else vm)
    return m


def snapshot(m):
    napr = 4
    return ([rd(m, LR(n)) for n in range(m.num_lrs)]
            + [rd(m, AP(g, n)) for g in (0, 1) for n in range(napr)]
            + [rd(m, HCR), rd(m, VMCR)])


def eoicount(m):
    return rd(m, HCR) >> 27


# -- v3 0: parameters, ICH_VTR_EL2, parameter errors ---------------------------------

@pytest.mark.parametrize("num_lrs,pri,pre,ids,vtr", [
    (4, 5, 5, 24, 0x90B80003),          # QEMU virt / cortex-a57, the traces' value
    (1, 5, 5, 24, 0x90B80000),
    (16, 5, 5, 24, 0x90B8000F),
    (4, 8, 5, 24, 0xF0B80003),
    (4, 6, 6, 16, 0xB4380003),
    (4, 7, 6, 24, 0xD4B80003),
    (16, 8, 7, 16, 0xF838000F),
])
def test_v3_0_vtr_encodes_the_parameters(num_lrs, pri, pre, ids, vtr):
    """v3 0, v3 2.2: PRIbits [31:29] = PRI - 1, PREbits [28:26] = PRE - 1, IDbits
    [25:23] (1: 24 bits), SEIS 0, A3V 1, nV4 1, TDS 1, ListRegs = NLR - 1. RO."""
    m = make(num_lrs, pri_bits=pri, pre_bits=pre, id_bits=ids)
    assert rd(m, VTR) == vtr
    wr(m, VTR, ALL64)
    wr(m, VTR, 0)
    assert rd(m, VTR) == vtr
    assert m.read("ICH", 0xC8) == vtr and m.read("ICH", 0xCC) == 0


@pytest.mark.parametrize("kw", [
    dict(num_lrs=0), dict(num_lrs=17), dict(pri_bits=4), dict(pri_bits=9),
    dict(pre_bits=4), dict(pre_bits=6), dict(pri_bits=6, pre_bits=7),
    dict(pri_bits=8, pre_bits=8), dict(id_bits=20), dict(id_bits=32), dict(id_bits=8),
])
def test_v3_0_parameter_errors(kw):
    """v3 0: NLR 1..16, PRI 5..8, PRE 5..min(7, PRI), ID 16 or 24; other values
    raise ValueError (pre_bits 6 with the default pri_bits 5 is PRE > PRI)."""
    kw = {"num_lrs": 4, **kw}
    with pytest.raises(ValueError):
        make(**kw)


@pytest.mark.parametrize("kw", [dict(num_lrs=1), dict(num_lrs=16), dict(pri_bits=8, pre_bits=7),
                                dict(pri_bits=7, pre_bits=7), dict(pri_bits=6, pre_bits=6),
                                dict(id_bits=16), dict(rp_masked=False)])
def test_v3_0_parameter_limits_are_accepted(kw):
    """v3 0: the range ends build."""
    m = make(**{"num_lrs": 4, **kw})
    assert rd(m, RPR) == 0xFF


# -- V18: reset -------------------------------------------------------------------------

@pytest.mark.parametrize("num_lrs,elrsr", [(1, 0x1), (4, 0xF), (16, 0xFFFF)])
@pytest.mark.parametrize("pri,ctlr", [(5, 0x8C00), (8, 0x8F00)])
def test_v18_reset_values(num_lrs, elrsr, pri, ctlr):
    """V18 (v3 open point 20, QEMU values): HCR 0, VMCR 0x004C0008, LRs and APs 0,
    ELRSR = all implemented LRs, EISR 0, MISR 0, RPR 0xFF, IAR/HPPIR 1023, lines low;
    the ICV views: PMR 0, BPR0 2, BPR1 3, CTLR RO fields only, IGRPEN 0."""
    m = make(num_lrs, pri_bits=pri)
    assert rd(m, HCR) == 0
    assert rd(m, VMCR) == 0x004C0008
    assert [rd(m, LR(n)) for n in range(16)] == [0] * 16
    assert [rd(m, AP(g, 0)) for g in (0, 1)] == [0, 0]
    assert rd(m, ELRSR) == elrsr
    assert (rd(m, EISR), rd(m, MISR)) == (0, 0)
    assert rd(m, RPR) == 0xFF
    assert [rd(m, r) for r in (HPPIR0, HPPIR1, IAR0, IAR1)] == [SPURIOUS] * 4
    assert (m.virq, m.vfiq, m.maint) == (0, 0, 0)
    assert m.forwarded == []
    assert m.traps == {"TC": 0, "TALL0": 0, "TALL1": 0, "TSEI": 0, "TDIR": 0}
    assert [rd(m, r) for r in (PMR, BPR0, BPR1, CTLR, IGRPEN0, IGRPEN1)] == [0, 2, 3, ctlr, 0, 0]


@pytest.mark.parametrize("num_lrs,elrsr", [(1, 0x1), (4, 0xF), (16, 0xFFFF)])
def test_v18_reset_after_activity(num_lrs, elrsr):
    """V18: reset() returns every register to the reset values after use."""
    m = running(num_lrs, hcr=EN | UIE | 0x1C00, vm=vmcr(pmr=0xA0, bpr0=5, bpr1=6, eoim=1, cbpr=1))
    wr(m, LR(num_lrs - 1), lr(PENDING, 40, 0x40))
    wr(m, AP(0, 0), 0x40)
    wr(m, AP(1, 0), 0x1100)
    m.reset()
    assert rd(m, HCR) == 0 and rd(m, VMCR) == 0x004C0008
    assert [rd(m, LR(n)) for n in range(num_lrs)] == [0] * num_lrs
    assert rd(m, AP(0, 0)) == rd(m, AP(1, 0)) == 0
    assert rd(m, ELRSR) == elrsr and rd(m, RPR) == 0xFF
    assert (m.virq, m.vfiq, m.maint) == (0, 0, 0)
    assert m.traps == {"TC": 0, "TALL0": 0, "TALL1": 0, "TSEI": 0, "TDIR": 0}


# -- v3 1.3 / v3 open point 17: registers a configuration lacks ---------------------------

@pytest.mark.parametrize("num_lrs", [1, 4])
def test_v3_open_point_17_lr_above_nlr_is_raz_wi(num_lrs):
    """v3 open point 17: ICH_LR<n>_EL2 with n >= NLR reads 0 and ignores writes
    (system-register and memory-mapped), and does not take part in anything."""
    m = running(num_lrs)
    for n in range(num_lrs, 16):
        wr(m, LR(n), lr(PENDING, 40 + n, 0x40))
        assert rd(m, LR(n)) == 0
        m.write("ICH", 0x100 + 8 * n, 40 + n)
        m.write("ICH", 0x104 + 8 * n, 0x50400000)
        assert m.read("ICH", 0x100 + 8 * n) == 0 and m.read("ICH", 0x104 + 8 * n) == 0
    assert rd(m, ELRSR) == {1: 0x1, 4: 0xF}[num_lrs]
    assert rd(m, HPPIR1) == SPURIOUS and m.virq == 0


@pytest.mark.parametrize("pri,pre,present", [(5, 5, 1), (6, 6, 2), (7, 7, 4), (8, 7, 4)])
def test_v3_open_point_17_ap_above_napr_is_raz_wi(pri, pre, present):
    """v3 open point 17, v3 2.7: NAPR = 1, 2, 4 for PRE 5, 6, 7; ICH_AP<g>R<n> and
    ICV_AP<g>R<n> with n >= NAPR read 0 and ignore writes; the others are RW."""
    m = make(4, pri_bits=pri, pre_bits=pre)
    for g in (0, 1):
        for n in range(4):
            wr(m, AP(g, n), 0x8000_0001)
            want = 0x8000_0001 if n < present else 0
            assert rd(m, AP(g, n)) == want
            assert rd(m, AP(g, n, guest=True)) == want
            assert m.read("ICH", (0x00 if g == 0 else 0x40) + 8 * n) == want
    if present == 1:
        assert rd(m, RPR) == 0x00       # only the first AP register of each bank exists: bit 0 -> 0x00


# -- v3 2.1: ICH_HCR_EL2, trap outputs -----------------------------------------------------

def test_v3_2_1_hcr_write_mask():
    """v3 2.1, v3 2.9: write mask 0xF8005CFF (TDS = 1, SEIS = 0, no GICv4.x): bits 8, 9,
    13 (TSEI), 15 (DVIM), [26:16] and [63:32] are RES0."""
    m = make()
    wr(m, HCR, ALL64)
    assert rd(m, HCR) == 0xF8005CFF
    wr(m, HCR, 0x0000_0000_07FF_A300)            # only RES0 bits
    assert rd(m, HCR) == 0
    for value in (0x0, 0x1, 0x2, 0x3, 0x1C00, 0x1C03, 0x8001C01, 0xF8000000):   # KVM's values
        wr(m, HCR, value)
        assert rd(m, HCR) == value


@pytest.mark.parametrize("value,traps", [
    (0x0400, {"TC": 1, "TALL0": 0, "TALL1": 0, "TSEI": 0, "TDIR": 0}),
    (0x0800, {"TC": 0, "TALL0": 1, "TALL1": 0, "TSEI": 0, "TDIR": 0}),
    (0x1000, {"TC": 0, "TALL0": 0, "TALL1": 1, "TSEI": 0, "TDIR": 0}),
    (0x2000, {"TC": 0, "TALL0": 0, "TALL1": 0, "TSEI": 0, "TDIR": 0}),
    (0x4000, {"TC": 0, "TALL0": 0, "TALL1": 0, "TSEI": 0, "TDIR": 1}),
    (0x1C01, {"TC": 1, "TALL0": 1, "TALL1": 1, "TSEI": 0, "TDIR": 0}),
    (0xFFFF_FFFF, {"TC": 1, "TALL0": 1, "TALL1": 1, "TSEI": 0, "TDIR": 1}),
])
def test_v3_2_1_traps_stored_and_exported(value, traps):
    """v3 2.1, v3 1.2: TC [10], TALL0 [11], TALL1 [12], TDIR [14] are stored and exported
    for the PE; TSEI [13] is RES0 with VTR.SEIS = 0 (v3 open point 15)."""
    m = make()
    wr(m, HCR, value)
    assert m.traps == traps
    assert rd(m, HCR) >> 13 & 1 == 0


def test_v3_open_point_15_tsei_res0():
    """v3 open point 15: TSEI with SEIS = 0 reads 0 (QEMU stores it)."""
    m = make()
    wr(m, HCR, 0x2001)
    assert rd(m, HCR) == 0x1


def test_v3_2_1_traps_change_no_behaviour():
    """v3 1.2: the trap decisions belong to the PE; with every trap bit set the
    interface itself still acknowledges through ICV_IAR1."""
    m = running(hcr=EN | 0x5C00)
    wr(m, LR(0), lr(PENDING, 40, 0x40))
    assert m.virq == 1
    assert rd(m, IAR1) == 40


# -- v3 2.3: ICH_VMCR_EL2 -----------------------------------------------------------------

@pytest.mark.parametrize("pri,ones", [(5, 0xF8FC021B), (6, 0xFCFC021B), (7, 0xFEFC021B),
                                      (8, 0xFFFC021B)])
def test_v3_2_3_vmcr_write_mask(pri, ones):
    """v3 2.3, v3 2.9: native mask 0xF8FC0213 at PRI 5 with VFIQEn (bit 3) RES1 and
    VAckCtl (bit 2) RES0; VPMR keeps PRIMASK bits (v3 open point 14)."""
    m = make(pri_bits=pri)
    wr(m, VMCR, ALL64)
    assert rd(m, VMCR) == ones
    wr(m, VMCR, 0)
    assert rd(m, VMCR) == 0x004C0008
    wr(m, VMCR, 0x4)                         # VAckCtl
    assert rd(m, VMCR) == 0x004C0008
    wr(m, VMCR, 0x0000_FFFF_0003_FDE0)       # RES0 bits only ([63:32], [17:10], [8:5])
    assert rd(m, VMCR) == 0x004C0008


@pytest.mark.parametrize("value,read", [
    (0x00000000, 0x004C0008),                # KVM's write: the minima, VFIQEn
    (0xF870000B, 0xF870000B),                # V19 example 1
    (0x8054000B, 0x8054000B),                # V19 example 2
    (0x00B80000, 0x00B80008),                # VBPR0 5, VBPR1 6
    (0x00200000, 0x004C0008),                # VBPR0 1 -> 2
    (0x00080000, 0x004C0008),                # VBPR1 2 -> 3
    (0x00E00000, 0x00EC0008),                # VBPR0 7, VBPR1 0 -> 3
    (0x001C0000, 0x005C0008),                # VBPR0 0 -> 2, VBPR1 7
    (0x00000213, 0x004C021B),                # VEOIM, VCBPR, VENG1, VENG0
])
def test_v3_2_3_vmcr_values(value, read):
    """v3 2.3: binary points below the minimum (VBPR0 2, VBPR1 3 at PRE 5) are
    stored as the minimum; write 0 reads 0x004C0008."""
    m = make()
    wr(m, VMCR, value)
    assert rd(m, VMCR) == read


@pytest.mark.parametrize("pri,pmr", [(5, 0x80), (6, 0x84), (7, 0x86), (8, 0x87)])
def test_v3_open_point_14_vpmr_masked_to_primask(pri, pmr):
    """v3 open point 14: VPMR written through ICH_VMCR_EL2 keeps only the PRI
    implemented bits (0x87 -> 0x80 at PRI 5, 0x87 at PRI 8)."""
    m = make(pri_bits=pri)
    wr(m, VMCR, 0x87000000)
    assert rd(m, VMCR) >> 24 == pmr
    assert rd(m, PMR) == pmr


def test_v3_2_3_vmcr_is_the_icv_storage():
    """v3 2.3: one storage, several names: ICV_PMR/BPR0/BPR1/CTLR/IGRPEN writes show in
    ICH_VMCR_EL2 at once, and a VMCR write shows in the ICV registers."""
    m = make()
    wr(m, PMR, 0xA8)
    assert rd(m, VMCR) == 0xA84C0008
    wr(m, BPR0, 4)
    assert rd(m, VMCR) == 0xA88C0008
    wr(m, BPR1, 6)
    assert rd(m, VMCR) == 0xA8980008
    wr(m, CTLR, 0x3)
    assert rd(m, VMCR) == 0xA8980218
    wr(m, IGRPEN0, 1)
    assert rd(m, VMCR) == 0xA8980219
    wr(m, IGRPEN1, 1)
    assert rd(m, VMCR) == 0xA898021B
    assert rd(m, CTLR) == 0x8C03
    wr(m, VMCR, 0xF870000B)
    assert [rd(m, r) for r in (PMR, BPR0, BPR1, CTLR, IGRPEN0, IGRPEN1)] == \
        [0xF8, 3, 4, 0x8C00, 1, 1]
    wr(m, VMCR, 0x00000201)
    assert [rd(m, r) for r in (PMR, BPR0, BPR1, CTLR, IGRPEN0, IGRPEN1)] == \
        [0, 2, 3, 0x8C02, 1, 0]


# -- v3 3 / v3 2.9: ICV write masks ---------------------------------------------------------

@pytest.mark.parametrize("pri,ones", [(5, 0xF8), (6, 0xFC), (7, 0xFE), (8, 0xFF)])
def test_v3_2_9_pmr_masked_to_primask(pri, ones):
    """v3 2.9, v3 3: ICV_PMR_EL1 keeps Priority & PRIMASK; [63:8] RES0."""
    m = make(pri_bits=pri)
    wr(m, PMR, 0xFF)
    assert rd(m, PMR) == ones
    wr(m, PMR, 0xFFFF_FFFF_FFFF_FF00 | 0x81)
    assert rd(m, PMR) == {5: 0x80, 6: 0x80, 7: 0x80, 8: 0x81}[pri]
    assert rd(m, VMCR) >> 24 == {5: 0x80, 6: 0x80, 7: 0x80, 8: 0x81}[pri]


@pytest.mark.parametrize("pri,ctlr", [(5, 0x8C00), (6, 0x8D00), (7, 0x8E00), (8, 0x8F00)])
def test_v3_2_9_ctlr_write_mask_and_ro_fields(pri, ctlr):
    """v3 2.9, v3 3, v3 open point 25: ICV_CTLR_EL1 writes keep CBPR [0] and EOImode
    [1]; PRIbits [10:8], IDbits [13:11], SEIS [14], A3V [15] are copies of VTR."""
    m = make(pri_bits=pri)
    assert rd(m, CTLR) == ctlr
    wr(m, CTLR, ALL64)
    assert rd(m, CTLR) == ctlr | 0x3
    wr(m, CTLR, 0x1)
    assert rd(m, CTLR) == ctlr | 0x1
    wr(m, CTLR, 0x2)
    assert rd(m, CTLR) == ctlr | 0x2
    wr(m, CTLR, ~0x3 & ALL64)
    assert rd(m, CTLR) == ctlr


@pytest.mark.parametrize("pri,ids,ctlr", [(5, 24, 0x8C00), (5, 16, 0x8400), (6, 16, 0x8500),
                                          (8, 16, 0x8700)])
def test_v3_open_point_25_ctlr_copies_vtr(pri, ids, ctlr):
    """v3 open point 25: ICV_CTLR_EL1 RO fields copy ICH_VTR_EL2 (IDbits 0 for 16 bits)."""
    assert rd(make(pri_bits=pri, id_bits=ids), CTLR) == ctlr


@pytest.mark.parametrize("reg,field", [(IGRPEN0, 0x1), (IGRPEN1, 0x2)])
def test_v3_2_9_igrpen_mask(reg, field):
    """v3 2.9: ICV_IGRPEN0/1_EL1 keep bit 0 only (= VENG0 / VENG1)."""
    m = make()
    wr(m, reg, ALL64)
    assert rd(m, reg) == 1 and rd(m, VMCR) == 0x004C0008 | field
    wr(m, reg, ALL64 - 1)
    assert rd(m, reg) == 0 and rd(m, VMCR) == 0x004C0008


@pytest.mark.parametrize("pri,pre,bpr0,bpr1,vmcr0", [
    (5, 5, [2, 2, 2, 3, 4, 5, 6, 7], [3, 3, 3, 3, 4, 5, 6, 7], 0x004C0008),
    (6, 6, [1, 1, 2, 3, 4, 5, 6, 7], [2, 2, 2, 3, 4, 5, 6, 7], 0x00280008),
    (7, 7, [0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 2, 3, 4, 5, 6, 7], 0x00040008),
    (8, 7, [0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 2, 3, 4, 5, 6, 7], 0x00040008),
])
def test_v2_binary_point_clamps(pri, pre, bpr0, bpr1, vmcr0):
    """V2, v3 0: MINBPR0 = 7 - PRE, MINBPR1 = MINBPR0 + 1 (2/3, 1/2, 0/1 for PRE
    5, 6, 7); writes below the minimum store the minimum, through ICV_BPR0/1 and
    through ICH_VMCR_EL2 (write 0)."""
    m = make(pri_bits=pri, pre_bits=pre)
    for v in range(8):
        wr(m, BPR0, v)
        assert rd(m, BPR0) == bpr0[v]
        assert rd(m, VMCR) >> 21 & 7 == bpr0[v]
        wr(m, BPR1, v)
        assert rd(m, BPR1) == bpr1[v]
        assert rd(m, VMCR) >> 18 & 7 == bpr1[v]
    wr(m, BPR0, 0xFFFF_FFF8)
    assert rd(m, BPR0) == bpr0[0]
    wr(m, BPR1, 0xFFFF_FFF8 | 5)
    assert rd(m, BPR1) == 5
    wr(m, VMCR, 0)
    assert rd(m, VMCR) == vmcr0


@pytest.mark.parametrize("bpr0,bpr1_view", [(2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 7)])
def test_v2_bpr1_with_vcbpr_reads_bpr0_plus_one_and_ignores_writes(bpr0, bpr1_view):
    """V2, v3 3: while VCBPR = 1, ICV_BPR1_EL1 reads min(VBPR0 + 1, 7) and writes are
    ignored (VMCR.VBPR1 keeps its value and is seen again once VCBPR = 0)."""
    m = make()
    wr(m, VMCR, vmcr(bpr0=bpr0, bpr1=5, cbpr=1))
    assert rd(m, BPR1) == bpr1_view
    wr(m, BPR1, 7)
    wr(m, BPR1, 3)
    assert rd(m, BPR1) == bpr1_view
    assert rd(m, VMCR) >> 18 & 7 == 5
    wr(m, CTLR, 0)                       # VCBPR = 0
    assert rd(m, BPR1) == 5


# -- v3 2.8 and v3 open point 16: ICH_LR<n>_EL2 write masks ---------------------------------

@pytest.mark.parametrize("pri,ids,hw1,hw0", [
    (5, 24, 0xF0F81FFF_00FFFFFF, 0xD0F80200_00FFFFFF),
    (8, 24, 0xF0FF1FFF_00FFFFFF, 0xD0FF0200_00FFFFFF),
    (5, 16, 0xF0F81FFF_0000FFFF, 0xD0F80200_0000FFFF),
    (6, 16, 0xF0FC1FFF_0000FFFF, 0xD0FC0200_0000FFFF),
])
def test_v3_open_point_16_lr_write_mask(pri, ids, hw1, hw0):
    """v3 2.8, v3 open point 16: an LR keeps State, HW, Group, Priority & PRIMASK,
    vINTID [ID-1:0]; [44:32] only with HW = 1, with HW = 0 only EOI (bit 41);
    NMI (59) and [58:56], [47:45], the low priority bits are RES0."""
    m = make(pri_bits=pri, id_bits=ids)
    wr(m, LR(0), ALL64)
    assert rd(m, LR(0)) == hw1
    wr(m, LR(1), ALL64 & ~(1 << 61))
    assert rd(m, LR(1)) == hw0


@pytest.mark.parametrize("value,read", [
    (0x50D8_0000_0000_002B, 0x50D8_0000_0000_002B),     # V19 example 1, exact
    (0xD030_0000_0000_0001, 0xD030_0000_0000_0001),     # V19 example 4, state 11
    (0x7040_001B_0000_001B, 0x7040_001B_0000_001B),     # HW = 1 timer PPI 27 / pINTID 27
    (0x5040_0200_0000_0020, 0x5040_0200_0000_0020),     # EOI = 1
    (0x5040_03FF_0000_0020, 0x5040_0200_0000_0020),     # HW = 0: [40:32] dropped, EOI kept
    (0x5040_1C00_0000_0020, 0x5040_0000_0000_0020),     # HW = 0: [44:42] dropped
    (0x7040_1FFF_0000_0020, 0x7040_1FFF_0000_0020),     # HW = 1: all 13 pINTID bits
    (0x5847_0000_0000_0020, 0x5040_0000_0000_0020),     # NMI and priority [2:0] dropped
    (0x5040_E000_0000_0020, 0x5040_0000_0000_0020),     # [47:45]
    (0x5040_0000_FF12_3456, 0x5040_0000_0012_3456),     # vINTID [31:24]
])
def test_v3_2_8_lr_read_back(value, read):
    """v3 2.8, v3 open point 16: LR read-back values (PRI 5, 24-bit IDs)."""
    m = make()
    wr(m, LR(0), value)
    assert rd(m, LR(0)) == read


def test_v20_nmi_bits_res0():
    """V20: without FEAT_GICv3_NMI, LR bit 59 and ICH_AP1R0_EL2 bit 63 are RES0 and
    ICV_RPR_EL1 bit 63 reads 0."""
    m = make()
    wr(m, LR(0), 0x5840_0000_0000_0020)
    assert rd(m, LR(0)) == 0x5040_0000_0000_0020
    wr(m, AP(1, 0), 1 << 63)
    assert rd(m, AP(1, 0)) == 0
    assert rd(m, RPR) == 0xFF
    wr(m, AP(1, 0), 1 << 63 | 1 << 8)
    assert rd(m, AP(1, 0)) == 0x100
    assert rd(m, RPR) == 0x40


# -- v3 2.7, v3 open point 18: AP registers ----------------------------------------------------

def test_v3_open_point_18_ap_stored_as_written_and_aliased():
    """v3 2.7, v3 open point 18: ICH_AP<g>R<n>_EL2 store any 32-bit value as written;
    [63:32] RES0; ICV_AP<g>R<n>_EL1 are the same storage both ways."""
    m = make()
    wr(m, AP(0, 0), 0xFFFF_FFFF_FFFF_FFFF)
    assert rd(m, AP(0, 0)) == 0xFFFF_FFFF
    assert rd(m, AP(0, 0, guest=True)) == 0xFFFF_FFFF
    wr(m, AP(1, 0), 0x0A008800)
    assert rd(m, AP(1, 0, guest=True)) == 0x0A008800
    wr(m, AP(1, 0, guest=True), 0x04000000)
    assert rd(m, AP(1, 0)) == 0x04000000
    wr(m, AP(0, 0, guest=True), 0x40)
    assert rd(m, AP(0, 0)) == 0x40
    assert rd(m, RPR) == 0x30


# -- v3 2.4: ICH_MISR_EL2, one bit at a time ----------------------------------------------

@pytest.mark.parametrize("hcr,engs,misr,flipped", [
    (VGRP0EIE, (1, 0), M_VGRP0E, 0), (VGRP0EIE, (0, 1), 0, M_VGRP0E),
    (VGRP0DIE, (0, 1), M_VGRP0D, 0), (VGRP0DIE, (1, 0), 0, M_VGRP0D),
    (VGRP0DIE, (1, 1), 0, M_VGRP0D),
    (VGRP1EIE, (0, 1), M_VGRP1E, 0), (VGRP1EIE, (1, 0), 0, M_VGRP1E),
    (VGRP1DIE, (1, 0), M_VGRP1D, 0), (VGRP1DIE, (0, 1), 0, M_VGRP1D),
    (VGRP1DIE, (1, 1), 0, M_VGRP1D),
    (VGRP0DIE | VGRP1DIE, (0, 0), M_VGRP0D | M_VGRP1D, 0),
    (VGRP0EIE | VGRP1EIE, (1, 1), M_VGRP0E | M_VGRP1E, 0),
    (0xF0, (1, 0), 0x90, 0x60),
    (0xF0, (0, 1), 0x60, 0x90),
])
def test_v3_2_4_misr_group_enable_bits(hcr, engs, misr, flipped):
    """v3 2.4: VGrp0E/VGrp0D follow VENG0, VGrp1E/VGrp1D follow VENG1, each only with its
    HCR enable; maintenance = En && MISR != 0 (V13). Flipping both enables through
    ICV_IGRPEN0/1 acts on MISR at once (v3 2.3)."""
    m = make()
    wr(m, VMCR, vmcr(eng0=engs[0], eng1=engs[1]))
    wr(m, HCR, EN | hcr)
    assert rd(m, MISR) == misr
    assert m.maint == int(misr != 0)
    wr(m, IGRPEN0, 1 - engs[0])
    wr(m, IGRPEN1, 1 - engs[1])
    assert rd(m, MISR) == flipped
    assert m.maint == int(flipped != 0)
    wr(m, HCR, hcr)                              # En = 0: MISR unchanged, line low
    assert rd(m, MISR) == flipped and m.maint == 0


def test_v3_open_point_19_vgrp0d_uses_veng0():
    """v3 open point 19: MISR.VGrp0D tests VENG0 (QEMU 7.2 tests VENG1): VENG0 = 0 and
    VENG1 = 1 sets it, VENG0 = 1 and VENG1 = 0 does not."""
    m = make()
    wr(m, HCR, EN | VGRP0DIE)
    wr(m, VMCR, vmcr(eng0=0, eng1=1))
    assert rd(m, MISR) == 0x20 and m.maint == 1
    wr(m, VMCR, vmcr(eng0=1, eng1=0))
    assert rd(m, MISR) == 0 and m.maint == 0


@pytest.mark.parametrize("num_lrs", [1, 4, 16])
def test_v3_2_4_misr_np(num_lrs):
    """v3 2.4, v3 open point 9: NP while no LR is in state 01 (11 is not pending);
    only with NPIE."""
    m = make(num_lrs)
    wr(m, HCR, EN | NPIE)
    assert rd(m, MISR) == M_NP and m.maint == 1
    last = LR(num_lrs - 1)
    for state, misr in ((PENDING, 0), (ACTIVE, M_NP), (PENDING_ACTIVE, M_NP), (INVALID, M_NP)):
        wr(m, last, lr(state, 40, 0x40))
        assert rd(m, MISR) == misr, state
        assert m.maint == int(misr != 0)
    wr(m, last, lr(PENDING, 40, 0x40))
    wr(m, HCR, EN)
    wr(m, last, 0)
    assert rd(m, MISR) == 0                  # no NPIE


@pytest.mark.parametrize("num_lrs", [1, 4, 16])
def test_v3_2_4_misr_underflow(num_lrs):
    """v3 2.4: U while UIE and at most one LR has State != 00 (0 or 1 valid LRs); 11
    and 10 count as valid; with one LR it is always set."""
    m = make(num_lrs)
    wr(m, HCR, EN | UIE)
    assert rd(m, MISR) == M_U and m.maint == 1
    wr(m, LR(0), lr(PENDING_ACTIVE, 40, 0x40))
    assert rd(m, MISR) == M_U
    if num_lrs > 1:
        wr(m, LR(num_lrs - 1), lr(ACTIVE, 41, 0x40))
        assert rd(m, MISR) == 0 and m.maint == 0
        wr(m, LR(num_lrs - 1), lr(INVALID, 41, 0x40, eoi=0))
        assert rd(m, MISR) == M_U
    wr(m, HCR, EN)
    assert rd(m, MISR) == 0


def test_v3_2_4_misr_lrenp_needs_lrenpie():
    """v3 2.4, V11: LRENP while LRENPIE && EOIcount != 0; EOIcount 1 without LRENPIE
    leaves MISR and the line low."""
    m = make()
    wr(m, HCR, 0x08000001)
    assert rd(m, MISR) == 0 and m.maint == 0
    wr(m, HCR, 0x08000005)
    assert rd(m, MISR) == M_LRENP and m.maint == 1
    wr(m, HCR, 0xF8000005)
    assert rd(m, MISR) == M_LRENP
    wr(m, HCR, 0x00000005)
    assert rd(m, MISR) == 0 and m.maint == 0


@pytest.mark.parametrize("num_lrs", [1, 4, 16])
def test_v3_2_4_misr_eoi_has_no_enable(num_lrs):
    """v3 2.4, v3 2.5: MISR.EOI = EISR != 0, with no HCR enable bit; only HCR.En gates
    the line (V13)."""
    m = make(num_lrs)
    n = num_lrs - 1
    wr(m, LR(n), lr(INVALID, 40, 0x40, eoi=1))
    assert rd(m, EISR) == 1 << n
    assert rd(m, MISR) == M_EOI and m.maint == 0
    wr(m, HCR, EN)
    assert rd(m, MISR) == M_EOI and m.maint == 1
    wr(m, LR(n), lr(INVALID, 40, 0x40, eoi=0))      # V12: rewriting the LR clears it
    assert rd(m, EISR) == 0 and rd(m, MISR) == 0 and m.maint == 0


# -- v3 2.5 / 2.6: EISR and ELRSR -----------------------------------------------------------

COMBOS = [  # (LR value, ELRSR bit, EISR bit)
    (lr(INVALID, 40, 0x40), 1, 0),
    (lr(INVALID, 40, 0x40, eoi=1), 0, 1),
    (lr(INVALID, 27, 0x40, hw=1, pintid=0x21B), 1, 0),      # bit 41 set as pINTID[9]
    (lr(PENDING, 40, 0x40, eoi=1), 0, 0),
    (lr(ACTIVE, 40, 0x40, eoi=1), 0, 0),
    (lr(PENDING_ACTIVE, 40, 0x40), 0, 0),
    (lr(ACTIVE, 27, 0x40, hw=1, pintid=27), 0, 0),
    (lr(INVALID, 41, 0x80, grp=0, eoi=1), 0, 1),
]


@pytest.mark.parametrize("num_lrs", [1, 4, 16])
@pytest.mark.parametrize("combo", range(len(COMBOS)))
def test_v3_2_5_eisr_elrsr_formulas(num_lrs, combo):
    """v3 2.5, 2.6: EISR[n] = State 00 && HW 0 && EOI 1; ELRSR[n] = State 00 && (HW 1
    || EOI 0); unimplemented LRs read 0 in both."""
    value, el, ei = COMBOS[combo]
    m = make(num_lrs)
    n = num_lrs - 1
    wr(m, LR(n), value)
    others = {1: 0x0, 4: 0x7, 16: 0x7FFF}[num_lrs]
    assert rd(m, ELRSR) == others | el << n
    assert rd(m, EISR) == ei << n


def test_v3_2_5_eisr_elrsr_sixteen_lrs():
    """v3 2.5, 2.6: a 16-LR pattern (combination i % 8 in LR i) reads ELRSR 0x0505 and
    EISR 0x8282; both high halves and MISR.EOI follow."""
    m = make(16)
    for i in range(16):
        wr(m, LR(i), COMBOS[i % 8][0])
    assert rd(m, ELRSR) == 0x0505
    assert rd(m, EISR) == 0x8282
    assert rd(m, MISR) == M_EOI
    assert m.read("ICH", 0xE8) == 0x0505 and m.read("ICH", 0xD8) == 0x8282
    assert m.read("ICH", 0xEC) == 0 and m.read("ICH", 0xDC) == 0


# -- V1, V3: priority order and the running priority -------------------------------------

@pytest.mark.parametrize("pri,prio,pmr_eq,pmr_above", [(5, 0x80, 0x80, 0x88), (8, 0x81, 0x81, 0x82),
                                                      (8, 0xFE, 0xFE, 0xFF)])
def test_v1_equal_priority_never_passes_the_mask(pri, prio, pmr_eq, pmr_above):
    """V1, V5: the PMR test is strict (prio < VPMR)."""
    m = running(pri_bits=pri)
    wr(m, LR(0), lr(PENDING, 40, prio))
    wr(m, PMR, pmr_eq)
    assert m.virq == 0 and rd(m, IAR1) == SPURIOUS
    assert rd(m, LR(0)) >> 62 == PENDING
    wr(m, PMR, pmr_above)
    assert m.virq == 1
    assert rd(m, IAR1) == 40


def test_v1_equal_group_priority_never_preempts():
    """V1, V5: against a running priority, equal group priority does not preempt even
    when the full priority is lower (VBPR1 4: 0x58 active -> RP 0x50; 0x50 pending
    waits, 0x48 preempts)."""
    m = running(vm=vmcr(bpr1=4))
    wr(m, LR(0), lr(PENDING, 40, 0x58))
    assert rd(m, IAR1) == 40
    assert rd(m, AP(1, 0)) == 0x400 and rd(m, RPR) == 0x50
    wr(m, LR(1), lr(PENDING, 41, 0x50))
    assert m.virq == 0 and rd(m, IAR1) == SPURIOUS
    wr(m, LR(1), lr(PENDING, 41, 0x48))
    assert m.virq == 1 and rd(m, IAR1) == 41
    assert rd(m, AP(1, 0)) == 0x500 and rd(m, RPR) == 0x40


@pytest.mark.parametrize("pre,pri,aps,rpr", [
    (5, 5, {}, 0xFF),
    (5, 5, {(0, 0): 0x40, (1, 0): 0x1100}, 0x30),
    (5, 5, {(1, 0): 0x04000000}, 0xD0),
    (5, 5, {(1, 0): 0x80000000}, 0xF8),
    (5, 5, {(0, 0): 0x80000001}, 0x00),
    (5, 8, {(1, 0): 0x0A008800}, 0x58),
    (6, 6, {(1, 1): 0x1}, 0x80),
    (6, 6, {(0, 1): 0x80000000, (1, 1): 0x1}, 0x80),
    (6, 6, {(0, 1): 0x80000000}, 0xFC),
    (6, 6, {(0, 0): 0x2, (1, 1): 0x1}, 0x04),
    (7, 7, {(0, 3): 0x80000000}, 0xFE),
    (7, 8, {(1, 2): 0x1, (0, 3): 0x1}, 0x80),
    (7, 7, {(0, 0): 0x2, (1, 2): 0x1}, 0x02),
    (7, 8, {(1, 1): 0x10}, 0x48),
])
def test_v3_running_priority_from_both_banks(pre, pri, aps, rpr):
    """V3, v3 2.7: RPR = lowest set bit over AP0R and AP1R (as one 32 * NAPR-bit vector)
    << (8 - PRE); 0xFF when idle."""
    m = make(pri_bits=pri, pre_bits=pre)
    for (g, n), v in aps.items():
        wr(m, AP(g, n), v)
    assert rd(m, RPR) == rpr


# -- V2: binary points and the AP bit of an acknowledge --------------------------------------

@pytest.mark.parametrize("grp,vm,ap,rpr", [
    # Group 0: VBPR0 = b, group priority = bits [7:b+1] of 0xE8
    (0, vmcr(bpr0=2), 0x20000000, 0xE8),
    (0, vmcr(bpr0=3), 0x10000000, 0xE0),
    (0, vmcr(bpr0=4), 0x10000000, 0xE0),
    (0, vmcr(bpr0=5), 0x01000000, 0xC0),
    (0, vmcr(bpr0=6), 0x00010000, 0x80),
    (0, vmcr(bpr0=7), 0x00000001, 0x00),
    # Group 1, VCBPR = 0: VBPR1 = b, group priority = bits [7:b]
    (1, vmcr(bpr1=3, bpr0=7), 0x20000000, 0xE8),
    (1, vmcr(bpr1=4), 0x10000000, 0xE0),
    (1, vmcr(bpr1=5), 0x10000000, 0xE0),
    (1, vmcr(bpr1=6), 0x01000000, 0xC0),
    (1, vmcr(bpr1=7), 0x00010000, 0x80),
    # Group 1, VCBPR = 1: VBPR0 applies, VBPR1 (7) is not used
    (1, vmcr(bpr0=2, bpr1=7, cbpr=1), 0x20000000, 0xE8),
    (1, vmcr(bpr0=3, bpr1=7, cbpr=1), 0x10000000, 0xE0),
    (1, vmcr(bpr0=5, bpr1=7, cbpr=1), 0x01000000, 0xC0),
    (1, vmcr(bpr0=7, bpr1=3, cbpr=1), 0x00000001, 0x00),
])
def test_v2_ap_bit_from_group_priority(grp, vm, ap, rpr):
    """V2, V6, v3 2.7: the acknowledge sets the AP bit of the group priority (PRE 5:
    bit = group priority >> 3) in the bank of the interrupt's group; RPR reports it."""
    m = running(vm=vm)
    wr(m, LR(0), lr(PENDING, 40, 0xE8, grp=grp))
    assert rd(m, IAR1 if grp else IAR0) == 40
    assert rd(m, AP(grp, 0)) == ap
    assert rd(m, AP(1 - grp, 0)) == 0
    assert rd(m, RPR) == rpr
    assert rd(m, LR(0)) == lr(ACTIVE, 40, 0xE8, grp=grp)


def test_v2_coarsest_group0_binary_point():
    """V2 (VBPR0 7: gmask 0x00, one AP bit): a Group 0 acknowledge sets AP0R0 bit 0,
    RPR 0x00, and nothing preempts it afterwards, not even priority 0x00."""
    m = running(vm=vmcr(bpr0=7))
    wr(m, LR(0), lr(PENDING, 40, 0xE8, grp=0))
    assert rd(m, IAR0) == 40
    assert rd(m, AP(0, 0)) == 0x1 and rd(m, RPR) == 0x00
    wr(m, LR(1), lr(PENDING, 41, 0x00, grp=0))
    wr(m, LR(2), lr(PENDING, 42, 0x00, grp=1))
    assert (m.virq, m.vfiq) == (0, 0)
    assert rd(m, IAR0) == SPURIOUS and rd(m, IAR1) == SPURIOUS


def test_v2_bpr0_write_moves_the_bpr1_view():
    """V2, v3 3: with VCBPR = 1 a write to ICV_BPR0 changes what ICV_BPR1 reads
    (min(VBPR0 + 1, 7)) and the Group 1 group priority at once."""
    m = running(vm=vmcr(bpr0=2, bpr1=3, cbpr=1))
    wr(m, AP(1, 0), 0x100)                       # RP 0x40
    wr(m, LR(0), lr(PENDING, 40, 0x48))          # 0x48 vs 0x40: group priority decides
    assert rd(m, BPR1) == 3 and m.virq == 0
    wr(m, BPR0, 5)                               # gmask 0xC0: 0x40 vs 0x40 still no
    assert rd(m, BPR1) == 6 and m.virq == 0
    wr(m, AP(1, 0), 0x1000)                      # RP 0x60 -> masked 0x40: 0x40 < 0x40 no
    assert m.virq == 0
    wr(m, BPR0, 2)                               # gmask 0xF8: 0x48 < 0x60
    assert rd(m, BPR1) == 3 and m.virq == 1
    assert rd(m, IAR1) == 40 and rd(m, AP(1, 0)) == 0x1200


def test_v2_ap_index_pre6():
    """V2, v3 2.7 (PRE 6: bit k of APxR<n> = priority (32n + k) << 2): Group 0 at 0xE8
    -> AP0R1 bit 26; Group 1 at 0x44 -> AP1R0 bit 17; a coarse VBPR0 3 puts 0xE8 at
    group priority 0xE0 -> AP0R1 bit 24."""
    m = running(pri_bits=6, pre_bits=6, vm=vmcr(pmr=0xFC))
    assert rd(m, VMCR) == 0xFC280008 | 0x3
    wr(m, LR(0), lr(PENDING, 40, 0xE8, grp=0))
    wr(m, LR(1), lr(PENDING, 41, 0x44, grp=1))
    assert rd(m, HPPIR1) == 41
    assert rd(m, IAR1) == 41
    assert [rd(m, AP(1, n)) for n in range(2)] == [0x00020000, 0]
    assert rd(m, RPR) == 0x44
    assert rd(m, IAR0) == SPURIOUS               # 0xE8 does not preempt 0x44
    wr(m, EOIR1, 41)
    assert rd(m, LR(1)) == lr(INVALID, 41, 0x44, grp=1)
    assert rd(m, IAR0) == 40
    assert [rd(m, AP(0, n)) for n in range(2)] == [0, 0x04000000]
    assert rd(m, RPR) == 0xE8
    wr(m, EOIR0, 40)
    assert [rd(m, AP(0, n)) for n in range(2)] == [0, 0] and rd(m, RPR) == 0xFF
    # coarse binary point
    wr(m, VMCR, vmcr(pmr=0xFC, bpr0=3))
    wr(m, LR(0), lr(PENDING, 40, 0xE8, grp=0))
    assert rd(m, IAR0) == 40
    assert [rd(m, AP(0, n)) for n in range(2)] == [0, 0x01000000]
    assert rd(m, RPR) == 0xE0


@pytest.mark.parametrize("pri", [7, 8])
def test_v2_ap_index_pre7(pri):
    """V2, v3 2.7 (PRE 7: four registers, bit k of APxR<n> = priority (32n + k) << 1):
    Group 0 at 0xE8 -> AP0R3 bit 20; Group 1 at 0x86 -> AP1R2 bit 3; at 0x42 ->
    AP1R1 bit 1; each preempts the one before; EOIR drops the highest."""
    m = running(pri_bits=pri, pre_bits=7, vm=vmcr(pmr=0xFE))
    assert rd(m, VMCR) == 0xFE04000B
    wr(m, LR(0), lr(PENDING, 40, 0xE8, grp=0))
    assert rd(m, IAR0) == 40
    assert [rd(m, AP(0, n)) for n in range(4)] == [0, 0, 0, 0x00100000]
    assert rd(m, RPR) == 0xE8
    wr(m, LR(1), lr(PENDING, 41, 0x86))
    assert m.virq == 1 and rd(m, IAR1) == 41
    assert rd(m, RPR) == 0x86
    wr(m, LR(2), lr(PENDING, 42, 0x42))
    assert rd(m, IAR1) == 42
    assert [rd(m, AP(1, n)) for n in range(4)] == [0, 0x2, 0x8, 0]
    assert rd(m, RPR) == 0x42
    wr(m, EOIR1, 42)
    assert [rd(m, AP(1, n)) for n in range(4)] == [0, 0, 0x8, 0]
    assert rd(m, RPR) == 0x86
    assert rd(m, LR(2)) >> 62 == INVALID and rd(m, LR(1)) >> 62 == ACTIVE


# -- V4: candidate selection ------------------------------------------------------------------

@pytest.mark.parametrize("num_lrs", [1, 4, 16])
def test_v4_lowest_priority_value_wins(num_lrs):
    """V4: the pending LR with the smallest priority value is the candidate, wherever
    it sits; the last implemented LR takes part."""
    m = running(num_lrs)
    last = num_lrs - 1
    wr(m, LR(last), lr(PENDING, 99, 0x40))
    assert rd(m, HPPIR1) == 99
    if num_lrs > 1:
        wr(m, LR(0), lr(PENDING, 10, 0x80))
        assert rd(m, HPPIR1) == 99
        wr(m, LR(0), lr(PENDING, 10, 0x38))
        assert rd(m, HPPIR1) == 10
    assert rd(m, IAR1) == (10 if num_lrs > 1 else 99)


@pytest.mark.parametrize("num_lrs,a,b", [(4, 1, 3), (16, 3, 9), (16, 0, 15)])
def test_v4_ties_go_to_the_lowest_index(num_lrs, a, b):
    """V4, v3 open point 6: equal priorities -> the lowest LR index."""
    m = running(num_lrs)
    wr(m, LR(b), lr(PENDING, 200 + b, 0x80))
    wr(m, LR(a), lr(PENDING, 200 + a, 0x80))
    assert rd(m, HPPIR1) == 200 + a
    assert rd(m, IAR1) == 200 + a
    assert rd(m, LR(a)) >> 62 == ACTIVE and rd(m, LR(b)) >> 62 == PENDING
    # the same across groups: Group 0 in the higher index still loses the tie
    m = running(num_lrs)
    wr(m, LR(b), lr(PENDING, 200 + b, 0x80, grp=0))
    wr(m, LR(a), lr(PENDING, 200 + a, 0x80, grp=1))
    assert rd(m, HPPIR1) == 200 + a and rd(m, HPPIR0) == SPURIOUS
    assert m.virq == 1 and m.vfiq == 0


def test_v4_priority_ff_is_a_candidate_at_pri8():
    """V4: with pri_bits 8 an LR at priority 0xFF is a candidate like any other (HPPIR
    reports it, it wins a tie by index) but never passes VPMR (at most 0xFF, V1)."""
    m = running(pri_bits=8, vm=vmcr(pmr=0xFF))
    wr(m, LR(0), lr(PENDING, 30, 0xFF, grp=0))
    wr(m, LR(1), lr(PENDING, 41, 0xFF, grp=1))
    assert rd(m, LR(0)) == lr(PENDING, 30, 0xFF, grp=0)
    assert rd(m, HPPIR0) == 30 and rd(m, HPPIR1) == SPURIOUS
    assert (m.virq, m.vfiq) == (0, 0)
    assert rd(m, IAR0) == SPURIOUS and rd(m, IAR1) == SPURIOUS
    wr(m, LR(0), lr(PENDING, 30, 0xFE, grp=0))
    assert m.vfiq == 1 and rd(m, IAR0) == 30


def test_v4_pending_active_is_not_a_candidate():
    """V4, v3 open point 9: State 11 is not a candidate."""
    m = running()
    wr(m, LR(0), lr(PENDING_ACTIVE, 40, 0x10))
    assert rd(m, HPPIR1) == SPURIOUS and m.virq == 0 and rd(m, IAR1) == SPURIOUS
    wr(m, LR(1), lr(PENDING, 41, 0x80))
    assert rd(m, HPPIR1) == 41
    assert m.virq == 1
    assert rd(m, IAR1) == 41
    assert rd(m, LR(0)) == lr(PENDING_ACTIVE, 40, 0x10)


def test_v4_disabled_group_is_excluded():
    """V4: an LR of a disabled group is no candidate; with it enabled, a more urgent
    Group 0 makes ICV_IAR1/HPPIR1 return 1023 (the other group's best)."""
    m = running(vm=vmcr(eng0=0, eng1=1))
    wr(m, LR(0), lr(PENDING, 30, 0x10, grp=0))
    wr(m, LR(1), lr(PENDING, 41, 0x80, grp=1))
    assert rd(m, HPPIR0) == SPURIOUS and rd(m, HPPIR1) == 41
    assert (m.virq, m.vfiq) == (1, 0)
    wr(m, IGRPEN0, 1)
    assert rd(m, HPPIR0) == 30 and rd(m, HPPIR1) == SPURIOUS
    assert (m.virq, m.vfiq) == (0, 1)
    assert rd(m, IAR1) == SPURIOUS
    wr(m, IGRPEN0, 0)
    assert rd(m, IAR1) == 41
    wr(m, IGRPEN1, 0)
    wr(m, LR(1), lr(PENDING, 42, 0x20, grp=1))
    assert rd(m, HPPIR1) == SPURIOUS and rd(m, HPPIR0) == SPURIOUS
    assert (m.virq, m.vfiq) == (0, 0)


def test_v4_running_priority_is_tested_after_selection():
    """V4, V5 (rp_masked=False): the candidate is chosen before the RP test: a Group 0
    best at 0x30 that cannot preempt RP 0x30 hides a Group 1 LR at 0x38 that could
    (VBPR1 5: 0x20 < 0x30): no line, ICV_IAR1 1023."""
    m = running(vm=vmcr(bpr1=5), rp_masked=False)
    wr(m, AP(1, 0), 0x40)                        # RP 0x30
    wr(m, LR(0), lr(PENDING, 30, 0x30, grp=0))
    wr(m, LR(1), lr(PENDING, 41, 0x38, grp=1))
    assert (m.virq, m.vfiq) == (0, 0)
    assert rd(m, IAR1) == SPURIOUS and rd(m, IAR0) == SPURIOUS
    assert rd(m, HPPIR0) == 30 and rd(m, HPPIR1) == SPURIOUS
    wr(m, LR(0), 0)
    assert m.virq == 1 and rd(m, IAR1) == 41


# -- V5: signalling ---------------------------------------------------------------------------

def test_v5_group0_is_vfiq_group1_is_virq():
    """V5, v3 2.3: in native mode Group 0 always signals vFIQ (VFIQEn is RES1, even
    after a VMCR write with bit 3 = 0), Group 1 vIRQ."""
    m = running()
    wr(m, VMCR, 0xF8000003)                      # bit 3 written 0
    wr(m, LR(0), lr(PENDING, 30, 0x40, grp=0))
    assert (m.virq, m.vfiq) == (0, 1)
    wr(m, LR(0), lr(PENDING, 30, 0x40, grp=1))
    assert (m.virq, m.vfiq) == (1, 0)


def test_v5_lines_are_levels():
    """V5, V17: the lines follow every LR, AP, VMCR/ICV and HCR change at once."""
    m = running()
    wr(m, LR(0), lr(PENDING, 40, 0x40))
    assert m.virq == 1
    wr(m, PMR, 0x40)
    assert m.virq == 0
    wr(m, PMR, 0x48)
    assert m.virq == 1
    wr(m, IGRPEN1, 0)
    assert m.virq == 0
    wr(m, IGRPEN1, 1)
    assert m.virq == 1
    wr(m, HCR, 0)
    assert m.virq == 0
    wr(m, HCR, EN)
    assert m.virq == 1
    wr(m, AP(0, 0), 0x1)                         # RP 0x00
    assert m.virq == 0
    wr(m, AP(0, 0), 0x0)
    assert m.virq == 1
    wr(m, VMCR, vmcr(pmr=0x38))
    assert m.virq == 0
    wr(m, VMCR, vmcr())
    assert m.virq == 1
    wr(m, LR(0), lr(ACTIVE, 40, 0x40))
    assert m.virq == 0
    wr(m, LR(0), lr(PENDING, 40, 0x40, grp=0))
    assert (m.virq, m.vfiq) == (0, 1)
    assert rd(m, IAR0) == 40
    assert (m.virq, m.vfiq) == (0, 0)


def test_v5_binary_point_and_ctlr_writes_reevaluate_preemption():
    """V5, V17: RP 0x40 (AP1R0 bit 8), Group 1 pending at 0x38: preempts with VBPR1
    3..6 (group priority 0x38/0x30/0x20/0x00 < masked RP), not with VBPR1 7 (gmask 0x80:
    0x00 < 0x00 fails); VCBPR = 1 then uses VBPR0 2 and preempts again."""
    m = running()
    wr(m, AP(1, 0), 0x100)
    wr(m, LR(0), lr(PENDING, 40, 0x38))
    for bpr1, line in ((3, 1), (4, 1), (5, 1), (6, 1), (7, 0)):
        wr(m, BPR1, bpr1)
        assert m.virq == line, bpr1
    assert rd(m, IAR1) == SPURIOUS
    wr(m, CTLR, 0x1)
    assert m.virq == 1
    assert rd(m, IAR1) == 40
    assert rd(m, AP(1, 0)) == 0x180                 # 0x38 >> 3 = bit 7


@pytest.mark.parametrize("pri", [5, 8])
def test_v5_preemption_uses_group_priority(pri):
    """V5, V2: VBPR1 5 (gmask 0xE0), RP 0x60: a pending 0x58 has group priority 0x40 and
    preempts; acknowledging it sets the AP bit of 0x40 (bit 8)."""
    m = running(pri_bits=pri, vm=vmcr(bpr1=5))
    wr(m, AP(1, 0), 0x1000)                      # RP 0x60
    wr(m, LR(0), lr(PENDING, 40, 0x58))
    assert m.virq == 1
    assert rd(m, IAR1) == 40
    assert rd(m, AP(1, 0)) == 0x1100 and rd(m, RPR) == 0x40
    wr(m, LR(1), lr(PENDING, 41, 0x5F if pri == 8 else 0x58))   # same group priority 0x40
    assert m.virq == 0 and rd(m, IAR1) == SPURIOUS


def test_v5_masked_running_priority_example_2():
    """V5, V19 example 2, v3 open point 1 (rp_masked=True): VMCR 0x8054000B, AP0R0 0x40
    (RP 0x30, Group 0), AP1R0 0x1100, LR3 Group 1 at 0x28: 0x28 & 0xE0 = 0x20 is not
    below 0x30 & 0xE0 = 0x20 -> ICV_IAR1 1023, virq 0; HPPIR1 still 34."""
    m = make(4)
    wr(m, HCR, 0x1)
    wr(m, VMCR, 0x8054000B)
    wr(m, AP(0, 0), 0x40)
    wr(m, AP(1, 0), 0x1100)
    wr(m, LR(3), 0x5028_0000_0000_0022)
    assert rd(m, RPR) == 0x30
    assert m.virq == 0 and m.vfiq == 0
    assert rd(m, HPPIR1) == 34
    assert rd(m, IAR1) == SPURIOUS
    assert rd(m, LR(3)) == 0x5028_0000_0000_0022
    assert rd(m, AP(0, 0)) == 0x40 and rd(m, AP(1, 0)) == 0x1100


def test_v3_open_point_1_unmasked_running_priority():
    """v3 open point 1 (rp_masked=False, KVM's form, the example of V5): VBPR1 5, RP 0x30
    from an active Group 0, pending Group 1 at 0x28: 0x20 < 0x30 -> acknowledged;
    AP1R0 gets bit 4 (group priority 0x20)."""
    m = make(4, rp_masked=False)
    wr(m, HCR, 0x1)
    wr(m, VMCR, 0x8054000B)
    wr(m, AP(0, 0), 0x40)
    wr(m, AP(1, 0), 0x1100)
    wr(m, LR(3), 0x5028_0000_0000_0022)
    assert m.virq == 1 and m.vfiq == 0
    assert rd(m, IAR1) == 34
    assert rd(m, LR(3)) == 0x9028_0000_0000_0022
    assert rd(m, AP(1, 0)) == 0x1110 and rd(m, AP(0, 0)) == 0x40
    assert rd(m, RPR) == 0x20
    assert m.virq == 0


@pytest.mark.parametrize("rp_masked,line", [(True, 0), (False, 1)])
def test_v3_open_point_1_same_rp_both_forms(rp_masked, line):
    """v3 open point 1: RP 0x48 (AP0R0 bit 9), Group 1 pending at 0x40 with VBPR1 4
    (gmask 0xF0): masked 0x40 < 0x40 fails, unmasked 0x40 < 0x48 passes."""
    m = running(vm=vmcr(bpr1=4), rp_masked=rp_masked)
    wr(m, AP(0, 0), 0x200)
    wr(m, LR(0), lr(PENDING, 40, 0x40))
    assert m.virq == line
    assert rd(m, IAR1) == (40 if line else SPURIOUS)


# -- V6: acknowledge --------------------------------------------------------------------------

def test_v6_worked_example_1():
    """V6, V19 example 1: HCR 1, VMCR 0xF870000B, LR0 0x50D8_0000_0000_002B ->
    ICV_IAR1 43, LR0 0x90D8..2B, AP1R0 0x04000000, RPR 0xD0."""
    m = make(4)
    wr(m, HCR, 0x1)
    wr(m, VMCR, 0xF870000B)
    wr(m, LR(0), 0x50D8_0000_0000_002B)
    assert m.virq == 1
    assert rd(m, IAR1) == 43
    assert rd(m, LR(0)) == 0x90D8_0000_0000_002B
    assert rd(m, AP(1, 0)) == 0x04000000 and rd(m, AP(0, 0)) == 0
    assert rd(m, RPR) == 0xD0
    assert m.virq == 0
    assert rd(m, ELRSR) == 0xE


def test_v6_group_split():
    """V6, V4: ICV_IAR0 acknowledges Group 0 only, ICV_IAR1 Group 1 only; the best of
    the other group makes them return 1023 and change nothing."""
    m = running()
    wr(m, LR(0), lr(PENDING, 30, 0x20, grp=0))
    wr(m, LR(1), lr(PENDING, 41, 0x40, grp=1))
    before = snapshot(m)
    assert rd(m, IAR1) == SPURIOUS
    assert snapshot(m) == before
    assert rd(m, IAR0) == 30
    assert rd(m, AP(0, 0)) == 0x10 and rd(m, AP(1, 0)) == 0
    assert rd(m, LR(0)) == lr(ACTIVE, 30, 0x20, grp=0)
    assert rd(m, HPPIR1) == 41                   # now the best, but 0x40 cannot preempt 0x20
    assert rd(m, IAR1) == SPURIOUS
    assert rd(m, IAR0) == SPURIOUS
    wr(m, EOIR0, 30)
    assert rd(m, IAR0) == SPURIOUS
    assert rd(m, IAR1) == 41
    assert rd(m, AP(1, 0)) == 0x100


@pytest.mark.parametrize("setup", ["none", "pmr", "rp", "en", "group_off", "other_group"])
def test_v6_spurious_changes_nothing(setup):
    """V6: 1023 with no candidate, masked by PMR, not preempting RP, HCR.En = 0, the
    group disabled, or the best in the other group; nothing changes."""
    m = running()
    if setup != "none":
        wr(m, LR(2), lr(PENDING, 40, 0x40))
    if setup == "pmr":
        wr(m, PMR, 0x40)
    elif setup == "rp":
        wr(m, AP(1, 0), 0x100)
    elif setup == "en":
        wr(m, HCR, 0)
    elif setup == "group_off":
        wr(m, IGRPEN1, 0)
    elif setup == "other_group":
        wr(m, LR(1), lr(PENDING, 30, 0x38, grp=0))
    before = snapshot(m)
    assert rd(m, IAR1) == SPURIOUS
    assert snapshot(m) == before
    assert rd(m, IAR0) == (30 if setup == "other_group" else SPURIOUS)


def test_v6_acknowledge_moves_pending_to_active_and_returns_vintid_not_pintid():
    """V6: 01 -> 10 (never 11); an HW = 1 LR returns its vINTID."""
    m = running()
    wr(m, LR(0), lr(PENDING, 27, 0x40, hw=1, pintid=30))
    assert rd(m, IAR1) == 27
    assert rd(m, LR(0)) == 0xB040_001E_0000_001B
    assert rd(m, ELRSR) == 0xE and rd(m, EISR) == 0


def test_v6_vintid_24_bits_returned():
    """V6, V15: the whole implemented vINTID is returned (24 bits)."""
    m = running()
    wr(m, LR(0), lr(PENDING, 0xABCDEF, 0x40))
    assert rd(m, HPPIR1) == 0xABCDEF
    assert rd(m, IAR1) == 0xABCDEF
    assert rd(m, AP(1, 0)) == 0x100


# -- V7: HPPIR ---------------------------------------------------------------------------------

def test_v7_hppir_not_filtered_by_pmr_rp_or_en():
    """V7, v3 open points 7 and 8: HPPIR reports the candidate of its group whatever
    PMR, RP and HCR.En say, and has no side effects."""
    m = running()
    wr(m, LR(0), lr(PENDING, 40, 0x40))
    wr(m, PMR, 0)
    assert rd(m, HPPIR1) == 40 and rd(m, HPPIR0) == SPURIOUS
    wr(m, PMR, 0xF8)
    wr(m, AP(0, 0), 0x1)
    assert rd(m, HPPIR1) == 40
    wr(m, AP(0, 0), 0)
    wr(m, HCR, 0)
    assert rd(m, HPPIR1) == 40
    before = snapshot(m)
    for _ in range(3):
        assert rd(m, HPPIR1) == 40
    assert snapshot(m) == before
    wr(m, LR(0), lr(PENDING, 40, 0x40, grp=0))
    assert rd(m, HPPIR0) == 40 and rd(m, HPPIR1) == SPURIOUS


# -- V8, V11: end of interrupt -----------------------------------------------------------------

def eoi_model(eoim=0, **kw):
    return running(vm=vmcr(eoim=eoim), **kw)


def test_v8_eoimode0_drops_and_deactivates():
    """V8, V10: VEOIM 0: the EOIR drops the running priority and deactivates the LR."""
    m = eoi_model()
    wr(m, LR(0), lr(PENDING, 50, 0xA0))
    assert rd(m, IAR1) == 50
    assert rd(m, AP(1, 0)) == 0x00100000
    wr(m, EOIR1, 50)
    assert rd(m, AP(1, 0)) == 0 and rd(m, RPR) == 0xFF
    assert rd(m, LR(0)) == 0x10A0_0000_0000_0032
    assert eoicount(m) == 0


def test_v8_eoimode1_drops_only_then_dir_deactivates():
    """V8, V9: VEOIM 1: EOIR drops the priority only; DIR deactivates, leaving the APs."""
    m = eoi_model(eoim=1)
    wr(m, LR(0), lr(PENDING, 50, 0xA0))
    wr(m, LR(1), lr(PENDING, 51, 0xC0))
    assert rd(m, IAR1) == 50
    wr(m, EOIR1, 50)
    assert rd(m, AP(1, 0)) == 0 and rd(m, LR(0)) == lr(ACTIVE, 50, 0xA0)
    assert rd(m, IAR1) == 51
    assert rd(m, AP(1, 0)) == 0x01000000
    wr(m, DIR, 50)
    assert rd(m, LR(0)) == lr(INVALID, 50, 0xA0)
    assert rd(m, AP(1, 0)) == 0x01000000
    assert eoicount(m) == 0


def test_v3_open_point_3_eoir_without_active_priority_is_ignored():
    """v3 open point 3, V8: with no AP bit set an EOIR changes nothing: no LR lookup (an
    active LR stays active) and no EOIcount."""
    m = eoi_model()
    wr(m, LR(0), lr(ACTIVE, 50, 0xA0))
    wr(m, EOIR1, 50)
    assert rd(m, LR(0)) == lr(ACTIVE, 50, 0xA0)
    wr(m, EOIR1, 77)
    wr(m, EOIR0, 77)
    assert rd(m, HCR) == EN


def test_v11_unmatched_eoir_counts_with_veoim0():
    """V11, V8: an EOIR that drops a priority but finds no active LR counts (VEOIM 0)."""
    m = eoi_model()
    wr(m, AP(1, 0), 0x00100000)
    wr(m, LR(0), lr(PENDING, 77, 0x40))          # pending, not active: no match
    wr(m, EOIR1, 77)
    assert rd(m, AP(1, 0)) == 0
    assert rd(m, HCR) == 0x08000001
    assert rd(m, LR(0)) == lr(PENDING, 77, 0x40)


def test_v3_open_point_4_unmatched_eoir_with_veoim1_does_not_count():
    """v3 open point 4: an unmatched EOIR with VEOIM 1 drops the priority and does not
    count in EOIcount (Arm's text; QEMU and KVM count)."""
    m = eoi_model(eoim=1)
    wr(m, AP(1, 0), 0x00100000)
    wr(m, EOIR1, 77)
    assert rd(m, AP(1, 0)) == 0
    assert rd(m, HCR) == EN


def test_v8_drop_across_both_banks():
    """V8, V3: the drop clears the lowest set bit over both banks, whichever EOIR is
    written: EOIR1 clears AP0R0 bit 6 (0x30), then EOIR0 clears AP1R0 bit 8 (0x40)."""
    m = eoi_model()
    wr(m, AP(0, 0), 0x40)
    wr(m, AP(1, 0), 0x1100)
    wr(m, EOIR1, 77)
    assert (rd(m, AP(0, 0)), rd(m, AP(1, 0))) == (0, 0x1100)
    assert rd(m, RPR) == 0x40
    wr(m, EOIR0, 78)
    assert (rd(m, AP(0, 0)), rd(m, AP(1, 0))) == (0, 0x1000)
    assert rd(m, RPR) == 0x60
    assert eoicount(m) == 2


def test_v3_open_point_2_tie_clears_group0_bank_first():
    """v3 open point 2: the same bit set in both banks: the Group 0 bank is cleared
    first, whichever EOIR."""
    m = eoi_model()
    wr(m, AP(0, 0), 0x100)
    wr(m, AP(1, 0), 0x100)
    wr(m, EOIR1, 77)
    assert (rd(m, AP(0, 0)), rd(m, AP(1, 0))) == (0, 0x100)
    wr(m, EOIR1, 77)
    assert (rd(m, AP(0, 0)), rd(m, AP(1, 0))) == (0, 0)
    assert rd(m, RPR) == 0xFF


def test_v8_tie_drop_then_group1_lr_deactivated():
    """V8, v3 open point 2: with bit 8 in both banks, EOIR1 of a Group 1 LR active at
    0x40 clears AP0R0 bit 8; the dropped priority 0x40 equals the LR's group priority
    and the group matches, so the LR is deactivated."""
    m = eoi_model()
    wr(m, AP(0, 0), 0x100)
    wr(m, AP(1, 0), 0x100)
    wr(m, LR(0), lr(ACTIVE, 40, 0x40, grp=1))
    wr(m, EOIR1, 40)
    assert (rd(m, AP(0, 0)), rd(m, AP(1, 0))) == (0, 0x100)
    assert rd(m, LR(0)) == lr(INVALID, 40, 0x40)


def test_v3_open_point_5_wrong_group_or_priority_keeps_the_lr_active():
    """v3 open point 5, V8: an EOIR whose LR has the wrong group, or a priority other
    than the dropped one: the drop stands, the LR stays active, no EOIcount."""
    m = eoi_model()
    wr(m, LR(0), lr(ACTIVE, 60, 0x40, grp=0))
    wr(m, AP(0, 0), 0x100)
    wr(m, EOIR1, 60)                             # Group 0 LR, EOIR1
    assert rd(m, AP(0, 0)) == 0
    assert rd(m, LR(0)) == lr(ACTIVE, 60, 0x40, grp=0)
    wr(m, LR(1), lr(ACTIVE, 61, 0x60, grp=1))
    wr(m, AP(1, 0), 0x1100)                      # 0x40 and 0x60 active
    wr(m, EOIR1, 61)                             # drops 0x40, LR at 0x60
    assert rd(m, AP(1, 0)) == 0x1000
    assert rd(m, LR(1)) == lr(ACTIVE, 61, 0x60)
    assert eoicount(m) == 0
    wr(m, EOIR1, 61)                             # now 0x60 is dropped: match
    assert rd(m, AP(1, 0)) == 0 and rd(m, LR(1)) == lr(INVALID, 61, 0x60)


def test_v8_priority_match_uses_group_priority():
    """V8, V2: the LR's priority is compared at its group priority: VBPR1 5, LR active
    at 0x58 (group priority 0x40), AP1R0 bit 8 -> deactivated."""
    m = running(vm=vmcr(bpr1=5))
    wr(m, LR(0), lr(PENDING, 40, 0x58))
    assert rd(m, IAR1) == 40 and rd(m, AP(1, 0)) == 0x100
    wr(m, EOIR1, 40)
    assert rd(m, AP(1, 0)) == 0 and rd(m, LR(0)) == lr(INVALID, 40, 0x58)


@pytest.mark.parametrize("vid", [1020, 1021, 1022, 1023])
def test_v8_eoir_of_special_ids_ignored(vid):
    """V8, V16: EOIR of 1020-1023 is ignored before the drop: the AP bit stays, no
    EOIcount, even when an active LR holds that vINTID."""
    m = eoi_model()
    wr(m, AP(1, 0), 0x100)
    wr(m, LR(0), lr(ACTIVE, vid, 0x40))
    wr(m, EOIR1, vid)
    wr(m, EOIR0, vid)
    assert rd(m, AP(1, 0)) == 0x100
    assert rd(m, LR(0)) == lr(ACTIVE, vid, 0x40)
    assert rd(m, HCR) == EN


def test_v8_worked_example_4_pending_active():
    """V8, V10, V19 example 4: LR0 0xD030..01 (11, Group 1, 0x30, vSGI 1), AP1R0 0x40,
    VEOIM 0: ICV_EOIR1 1 -> AP1R0 0, LR0 0x5030..01 (pending again), RPR 0xFF."""
    m = make(4)
    wr(m, HCR, 0x1)
    wr(m, VMCR, vmcr())
    wr(m, LR(0), 0xD030_0000_0000_0001)
    wr(m, AP(1, 0), 0x40)
    assert m.virq == 0
    wr(m, EOIR1, 1)
    assert rd(m, AP(1, 0)) == 0
    assert rd(m, LR(0)) == 0x5030_0000_0000_0001
    assert rd(m, RPR) == 0xFF
    assert m.virq == 1 and rd(m, HPPIR1) == 1


def test_v3_open_point_11_two_live_lrs_same_vintid():
    """v3 open point 11: two active LRs with the same vINTID: the lowest index is
    deactivated."""
    m = eoi_model()
    wr(m, LR(1), lr(ACTIVE, 70, 0x40))
    wr(m, LR(2), lr(ACTIVE, 70, 0x40))
    wr(m, AP(1, 0), 0x100)
    wr(m, EOIR1, 70)
    assert rd(m, LR(1)) == lr(INVALID, 70, 0x40)
    assert rd(m, LR(2)) == lr(ACTIVE, 70, 0x40)


def test_v8_eoir_value_bits_above_id_bits_ignored():
    """V8, V15: EOIR compares v[ID-1:0]: 0x1_0000_0032 (24 bits) matches vINTID 0x32."""
    m = eoi_model()
    wr(m, LR(0), lr(ACTIVE, 0x32, 0x40))
    wr(m, AP(1, 0), 0x100)
    wr(m, EOIR1, 0x1_FF00_0032)
    assert rd(m, LR(0)) == lr(INVALID, 0x32, 0x40)


# -- V9: DIR ---------------------------------------------------------------------------------

def test_v3_open_point_30_dir_with_veoim0_ignored():
    """V9, v3 open point 30: ICV_DIR with VEOIM 0 is ignored: no deactivation, no count."""
    m = eoi_model()
    wr(m, LR(0), lr(ACTIVE, 50, 0xA0))
    wr(m, DIR, 50)
    wr(m, DIR, 45)
    assert rd(m, LR(0)) == lr(ACTIVE, 50, 0xA0)
    assert rd(m, HCR) == EN


def test_v9_worked_example_3_unmatched_dir_counts():
    """V9, V11, V19 example 3: VEOIM 1, no LR holds 45: ICV_DIR 45 -> HCR 0x1 ->
    0x08000001; LRs and APs unchanged."""
    m = make(4)
    wr(m, HCR, 0x1)
    wr(m, VMCR, vmcr(eoim=1))
    wr(m, LR(0), lr(ACTIVE, 44, 0xA0))
    wr(m, LR(1), lr(PENDING, 45, 0xA0))          # pending, not active: no match
    wr(m, AP(1, 0), 0x00100000)
    wr(m, DIR, 45)
    assert rd(m, HCR) == 0x08000001
    assert rd(m, LR(0)) == lr(ACTIVE, 44, 0xA0)
    assert rd(m, LR(1)) == lr(PENDING, 45, 0xA0)
    assert rd(m, AP(1, 0)) == 0x00100000


def test_v9_dir_deactivates_without_touching_aps():
    """V9, V10: DIR (VEOIM 1) of an active LR: 10 -> 00, 11 -> 01; APs unchanged."""
    m = eoi_model(eoim=1)
    wr(m, AP(0, 0), 0x40)
    wr(m, AP(1, 0), 0x100)
    wr(m, LR(0), lr(ACTIVE, 50, 0x40))
    wr(m, LR(1), lr(PENDING_ACTIVE, 51, 0x30, grp=0))
    wr(m, DIR, 50)
    wr(m, DIR, 51)
    assert rd(m, LR(0)) == lr(INVALID, 50, 0x40)
    assert rd(m, LR(1)) == lr(PENDING, 51, 0x30, grp=0)
    assert (rd(m, AP(0, 0)), rd(m, AP(1, 0))) == (0x40, 0x100)
    assert eoicount(m) == 0


@pytest.mark.parametrize("vid,counts", [(1019, 1), (1020, 0), (1023, 0), (1056, 0), (4096, 0),
                                        (8191, 0), (8192, 0), (0xABCDEF, 0)])
def test_v3_open_point_22_dir_of_1020_and_up_ignored(vid, counts):
    """V9, v3 open points 22 and 21: without ExtRange a DIR of 1020 and up (specials,
    extended ranges, vLPIs) is ignored: no count, an LR holding it stays active."""
    m = eoi_model(eoim=1)
    wr(m, DIR, vid)
    assert eoicount(m) == counts
    wr(m, LR(0), lr(ACTIVE, vid, 0x40))
    wr(m, DIR, vid)
    assert rd(m, LR(0)) == lr(INVALID if counts else ACTIVE, vid, 0x40)
    assert eoicount(m) == counts


# -- V10 and v3 open points 12, 13: deactivation and HW = 1 forwarding ---------------------

@pytest.mark.parametrize("pintid,fwd", [(15, []), (16, [16]), (27, [27]), (539, [539]),
                                        (1019, [1019]), (1020, []), (1023, []), (8191, [])])
def test_v3_open_point_13_hw_forwarding_range(pintid, fwd):
    """V10, v3 open point 13: deactivating an HW = 1 LR forwards pINTID only for
    16..1019; an HW = 1 LR never sets EISR (bit 41 is pINTID[9] there)."""
    m = eoi_model()
    wr(m, LR(0), lr(PENDING, 27, 0x40, hw=1, pintid=pintid))
    assert rd(m, IAR1) == 27
    wr(m, EOIR1, 27)
    assert rd(m, LR(0)) >> 62 == INVALID
    assert m.forwarded == fwd
    assert rd(m, EISR) == 0 and rd(m, ELRSR) == 0xF and rd(m, MISR) == 0


def test_v10_hw_forwarding_through_dir():
    """V10, V9: with VEOIM 1 the EOIR forwards nothing; the DIR does, once."""
    m = eoi_model(eoim=1)
    wr(m, LR(0), lr(PENDING, 27, 0x40, hw=1, pintid=27))
    assert rd(m, IAR1) == 27
    wr(m, EOIR1, 27)
    assert m.forwarded == []
    wr(m, DIR, 27)
    assert m.forwarded == [27]
    wr(m, DIR, 27)                               # no active LR left: counts, no forward
    assert m.forwarded == [27] and eoicount(m) == 1


def test_v3_open_point_12_hw_pending_active():
    """v3 open point 12: HW = 1 in State 11: forward once and keep the LR pending."""
    m = eoi_model()
    wr(m, LR(0), lr(PENDING_ACTIVE, 27, 0x40, hw=1, pintid=27))
    wr(m, AP(1, 0), 0x100)
    wr(m, EOIR1, 27)
    assert rd(m, LR(0)) == lr(PENDING, 27, 0x40, hw=1, pintid=27)
    assert m.forwarded == [27]


def test_v10_pending_active_with_eoi_does_not_set_eisr():
    """V10, v3 2.5: 11 -> 01 on deactivation leaves the LR valid, so EOI = 1 does not set
    EISR; the later acknowledge and EOIR of the pending half do."""
    m = eoi_model()
    wr(m, LR(0), lr(PENDING_ACTIVE, 40, 0x40, eoi=1))
    wr(m, AP(1, 0), 0x100)
    wr(m, EOIR1, 40)
    assert rd(m, LR(0)) == lr(PENDING, 40, 0x40, eoi=1)
    assert rd(m, EISR) == 0 and rd(m, MISR) == 0
    assert rd(m, IAR1) == 40
    wr(m, EOIR1, 40)
    assert rd(m, LR(0)) == lr(INVALID, 40, 0x40, eoi=1)
    assert rd(m, EISR) == 0x1 and rd(m, MISR) == M_EOI and m.maint == 1


def test_v10_eoi_maintenance_after_deactivation():
    """V10, V13, v3 2.5: HW = 0, EOI = 1: deactivation leaves the LR invalid, sets
    EISR[n], MISR.EOI and the maintenance line; ELRSR[n] stays 0."""
    m = eoi_model()
    wr(m, LR(2), lr(PENDING, 40, 0x40, eoi=1))
    assert rd(m, IAR1) == 40
    assert rd(m, EISR) == 0 and m.maint == 0
    wr(m, EOIR1, 40)
    assert rd(m, LR(2)) == 0x1040_0200_0000_0028
    assert rd(m, EISR) == 0x4 and rd(m, MISR) == M_EOI and m.maint == 1
    assert rd(m, ELRSR) == 0xB
    assert m.forwarded == []


# -- V11: EOIcount -------------------------------------------------------------------------------

def test_v11_eoicount_wraps_mod_32():
    """V11, v3 open point 24: EOIcount 31 + 1 -> 0 (DIR and EOIR paths); other HCR bits
    unchanged."""
    m = running(hcr=0xF8000001 | LRENPIE, vm=vmcr(eoim=1))
    wr(m, DIR, 45)
    assert rd(m, HCR) == 0x00000005
    assert rd(m, MISR) == 0 and m.maint == 0
    wr(m, DIR, 45)
    assert rd(m, HCR) == 0x08000005
    assert rd(m, MISR) == M_LRENP and m.maint == 1
    wr(m, HCR, 0xF8000001)
    wr(m, VMCR, vmcr())
    wr(m, AP(1, 0), 0x100)
    wr(m, EOIR1, 45)
    assert rd(m, HCR) == 0x00000001


def test_v11_eoicount_counts_each_unmatched_deactivation():
    """V11: five unmatched DIRs (VEOIM 1) -> EOIcount 5 (HCR 0x28000001)."""
    m = eoi_model(eoim=1)
    for vid in (16, 31, 32, 45, 1019):
        wr(m, DIR, vid)
    assert rd(m, HCR) == 0x28000001


# -- V13, V14: maintenance line and HCR.En = 0 ------------------------------------------------

def test_v13_maintenance_needs_en():
    """V13: maint = En && MISR != 0; MISR itself ignores En."""
    m = make()
    wr(m, HCR, UIE)
    assert rd(m, MISR) == M_U and m.maint == 0
    wr(m, HCR, UIE | EN)
    assert m.maint == 1
    wr(m, HCR, EN)
    assert rd(m, MISR) == 0 and m.maint == 0


def test_v14_en_zero():
    """V14: HCR.En = 0: no vIRQ/vFIQ, no maintenance, IAR 1023 (nothing changes); LRs,
    APs and VMCR accessible; MISR/EISR/ELRSR keep their values; HPPIR still reports
    (v3 open point 8)."""
    m = running(hcr=UIE)
    wr(m, LR(0), lr(PENDING, 40, 0x40))
    wr(m, LR(1), lr(INVALID, 41, 0x40, eoi=1))
    assert (m.virq, m.vfiq, m.maint) == (0, 0, 0)
    assert rd(m, MISR) == M_EOI | M_U
    assert rd(m, EISR) == 0x2 and rd(m, ELRSR) == 0xC
    before = snapshot(m)
    assert rd(m, IAR1) == SPURIOUS
    assert snapshot(m) == before
    assert rd(m, HPPIR1) == 40
    wr(m, AP(1, 0), 0x200)
    assert rd(m, AP(1, 0)) == 0x200 and rd(m, RPR) == 0x48
    wr(m, AP(1, 0), 0)
    wr(m, LR(0), lr(PENDING, 40, 0x40, grp=0))
    assert (m.virq, m.vfiq) == (0, 0) and rd(m, IAR0) == SPURIOUS
    wr(m, HCR, UIE | EN)
    assert (m.virq, m.vfiq, m.maint) == (0, 1, 1)
    assert rd(m, IAR0) == 40


def test_v14_eoir_and_dir_keep_working_with_en_zero():
    """V14: with HCR.En = 0, EOIR and DIR still drop priorities, deactivate and count."""
    m = running(hcr=0, vm=vmcr(eoim=1))
    wr(m, LR(0), lr(ACTIVE, 40, 0x40, eoi=1))
    wr(m, AP(1, 0), 0x100)
    wr(m, EOIR1, 40)
    assert rd(m, AP(1, 0)) == 0 and rd(m, LR(0)) == lr(ACTIVE, 40, 0x40, eoi=1)
    wr(m, DIR, 40)
    assert rd(m, LR(0)) == lr(INVALID, 40, 0x40, eoi=1)
    assert rd(m, EISR) == 1 and rd(m, MISR) == M_EOI and m.maint == 0
    wr(m, DIR, 45)
    assert rd(m, HCR) == 0x08000000
    wr(m, VMCR, vmcr())
    wr(m, LR(1), lr(ACTIVE, 41, 0x60))
    wr(m, AP(1, 0), 0x1000)
    wr(m, EOIR1, 41)
    assert rd(m, AP(1, 0)) == 0 and rd(m, LR(1)) == lr(INVALID, 41, 0x60)


# -- V15: ID bits and vLPIs ------------------------------------------------------------------

def test_v15_id_bits_16_truncates_vintid():
    """V15, v3 open point 16: with 16-bit IDs, vINTID bits [31:16] are dropped on an LR
    write; IAR/HPPIR return the 16-bit value and EOIR compares v[15:0]."""
    m = running(id_bits=16)
    wr(m, LR(0), 0x5040_0000_0012_3456)
    assert rd(m, LR(0)) == 0x5040_0000_0000_3456
    wr(m, LR(1), lr(PENDING, 0x10020, 0x80))
    assert rd(m, LR(1)) == lr(PENDING, 0x20, 0x80)
    assert rd(m, HPPIR1) == 0x3456
    assert rd(m, IAR1) == 0x3456                  # a vLPI (>= 8192)
    wr(m, LR(0), lr(ACTIVE, 0x32, 0x40))
    wr(m, EOIR1, 0x10032)                         # [15:0] = 0x32
    assert rd(m, LR(0)) == lr(INVALID, 0x32, 0x40)
    assert rd(m, AP(1, 0)) == 0


@pytest.mark.parametrize("eoim", [0, 1])
@pytest.mark.parametrize("vid", [8192, 0xABCDEF])
def test_v15_vlpi_acknowledge_and_eoir_deactivates(eoim, vid):
    """V15, v3 open point 21: a vLPI acknowledges like any interrupt (01 -> 10, AP bit
    set); its EOIR deactivates the LR whatever VEOIM is."""
    m = eoi_model(eoim=eoim)
    wr(m, LR(0), lr(PENDING, vid, 0x40))
    assert rd(m, IAR1) == vid
    assert rd(m, LR(0)) == lr(ACTIVE, vid, 0x40) and rd(m, AP(1, 0)) == 0x100
    wr(m, EOIR1, vid)
    assert rd(m, AP(1, 0)) == 0
    assert rd(m, LR(0)) == lr(INVALID, vid, 0x40)
    assert eoicount(m) == 0


@pytest.mark.parametrize("eoim", [0, 1])
def test_v15_unmatched_vlpi_eoir_does_not_count(eoim):
    """V15, V11, v3 open point 21: an EOIR of a vLPI that no LR holds drops the priority
    and does not count."""
    m = eoi_model(eoim=eoim)
    wr(m, AP(1, 0), 0x100)
    wr(m, EOIR1, 8192)
    assert rd(m, AP(1, 0)) == 0
    assert rd(m, HCR) == EN


def test_v15_dir_ignores_vlpis():
    """V15, V9: DIR of a vLPI is ignored even with an active LR holding it."""
    m = eoi_model(eoim=1)
    wr(m, LR(0), lr(ACTIVE, 8200, 0x40))
    wr(m, DIR, 8200)
    assert rd(m, LR(0)) == lr(ACTIVE, 8200, 0x40)
    assert eoicount(m) == 0


# -- V16: vINTID 1020-1023 in an LR -------------------------------------------------------------

@pytest.mark.parametrize("vid", [1020, 1021, 1022, 1023])
@pytest.mark.parametrize("grp", [0, 1])
def test_v16_special_vintid_in_pending_lr(vid, grp):
    """V16, v3 open point 10: an LR with vINTID 1020-1023 that wins and can be signalled:
    the IAR of its group returns the ID and moves the LR to invalid, no AP bit."""
    m = running()
    wr(m, LR(1), lr(PENDING, vid, 0x40, grp=grp))
    assert rd(m, IAR0 if grp else IAR1) == SPURIOUS
    assert rd(m, LR(1)) == lr(PENDING, vid, 0x40, grp=grp)
    assert rd(m, IAR1 if grp else IAR0) == vid
    assert rd(m, LR(1)) == lr(INVALID, vid, 0x40, grp=grp)
    assert rd(m, AP(0, 0)) == rd(m, AP(1, 0)) == 0
    assert rd(m, RPR) == 0xFF
    assert (m.virq, m.vfiq) == (0, 0)


@pytest.mark.parametrize("vid", [1020, 1023])
def test_v16_hppir_reports_special_vintid(vid):
    """V16, V7: ICV_HPPIR reports a vINTID of 1020-1023 like any other, without effect."""
    m = running()
    wr(m, LR(0), lr(PENDING, vid, 0x40))
    assert rd(m, HPPIR1) == vid and rd(m, HPPIR0) == SPURIOUS
    assert rd(m, LR(0)) == lr(PENDING, vid, 0x40)
    assert m.virq == 1


def test_v16_special_vintid_masked_stays_pending():
    """V16: when it cannot be signalled (PMR), the IAR returns 1023 and the LR stays
    pending."""
    m = running()
    wr(m, PMR, 0x40)
    wr(m, LR(0), lr(PENDING, 1021, 0x40))
    assert rd(m, IAR1) == SPURIOUS
    assert rd(m, LR(0)) == lr(PENDING, 1021, 0x40)


# -- V17: side effects -------------------------------------------------------------------------

def test_v17_only_iar_reads_have_side_effects():
    """V17: reads of every register except ICV_IAR0/1 leave the state unchanged; reading
    a WO register (EOIR, DIR) returns 0 and does nothing."""
    m = running(hcr=EN | UIE | NPIE)
    wr(m, LR(0), lr(PENDING, 40, 0x40))
    wr(m, LR(1), lr(ACTIVE, 41, 0x30, grp=0, eoi=1))
    wr(m, AP(0, 0), 0x40)
    before = snapshot(m)
    names = [HCR, VTR, VMCR, MISR, EISR, ELRSR, HPPIR0, HPPIR1, BPR0, BPR1, CTLR, PMR, RPR,
             IGRPEN0, IGRPEN1, AP(0, 0, guest=True), AP(1, 0, guest=True)]
    first = [rd(m, n) for n in names]
    for n in (EOIR0, EOIR1, DIR):
        assert rd(m, n) == 0
    assert [rd(m, n) for n in names] == first
    assert snapshot(m) == before


def test_v17_writes_to_ro_registers_ignored():
    """V17, v3 2.9: writes to VTR, MISR, EISR, ELRSR, RPR, IAR0/1, HPPIR0/1 are ignored
    (a write to IAR1 acknowledges nothing)."""
    m = running(hcr=EN | UIE)
    wr(m, LR(0), lr(PENDING, 40, 0x40))
    before = snapshot(m)
    for n in (VTR, MISR, EISR, ELRSR, RPR, IAR0, IAR1, HPPIR0, HPPIR1):
        wr(m, n, ALL64)
        wr(m, n, 0)
    assert snapshot(m) == before
    assert rd(m, VTR) == 0x90B80003 and rd(m, MISR) == M_U and rd(m, ELRSR) == 0xE
    assert rd(m, RPR) == 0xFF and rd(m, HPPIR1) == 40


# -- V12: derived status follows LR writes at once ------------------------------------------

@pytest.mark.parametrize("num_lrs", [1, 4, 16])
def test_v12_status_follows_each_lr_write(num_lrs):
    """V12: EISR, ELRSR and MISR change with the LR write that changes them."""
    m = make(num_lrs)
    wr(m, HCR, EN | UIE | NPIE)
    full = {1: 0x1, 4: 0xF, 16: 0xFFFF}[num_lrs]
    assert rd(m, MISR) == M_U | M_NP and rd(m, ELRSR) == full
    wr(m, LR(0), lr(PENDING, 40, 0x40, eoi=1))
    assert rd(m, MISR) == M_U and rd(m, ELRSR) == full & ~1
    wr(m, LR(0), lr(INVALID, 40, 0x40, eoi=1))
    assert rd(m, MISR) == M_U | M_NP | M_EOI and rd(m, EISR) == 1
    wr(m, LR(0), 0)
    assert rd(m, MISR) == M_U | M_NP and rd(m, EISR) == 0 and rd(m, ELRSR) == full


# -- v3 1.4: the memory-mapped layout ------------------------------------------------------

def test_v3_1_4_ich_frame_offsets():
    """v3 1.4: ICH registers at (CRm - 8) * 0x40 + op2 * 8: AP0R<n> 0x00 + 8n, AP1R<n> 0x40
    + 8n, HCR 0xC0, VTR 0xC8, MISR 0xD0, EISR 0xD8, ELRSR 0xE8, VMCR 0xF8, LR<n> 0x100 +
    8n; high halves of 32-bit registers RAZ/WI."""
    m = make(4)
    m.write("ICH", 0xC0, EN | UIE)
    assert rd(m, HCR) == 0x3
    m.write("ICH", 0xC4, 0xFFFF_FFFF)
    assert rd(m, HCR) == 0x3 and m.read("ICH", 0xC4) == 0
    assert m.read("ICH", 0xC8) == 0x90B80003
    assert m.read("ICH", 0xD0) == M_U
    assert m.read("ICH", 0xE8) == 0xF and m.read("ICH", 0xD8) == 0
    assert m.read("ICH", 0xF8) == 0x004C0008
    m.write("ICH", 0xF8, 0xF870000B)
    assert rd(m, VMCR) == 0xF870000B
    m.write("ICH", 0x00, 0x40)
    m.write("ICH", 0x40, 0x1100)
    assert rd(m, AP(0, 0)) == 0x40 and rd(m, AP(1, 0)) == 0x1100
    assert m.read("ICH", 0x00) == 0x40 and m.read("ICH", 0x40) == 0x1100
    m.write("ICH", 0x08, 0x1)                    # AP0R1: not with PRE 5
    m.write("ICH", 0x48, 0x1)
    assert m.read("ICH", 0x08) == 0 and m.read("ICH", 0x48) == 0
    assert rd(m, RPR) == 0x30
    m.write("ICH", 0xC8, 0)                      # VTR is RO
    assert m.read("ICH", 0xC8) == 0x90B80003
    for off in (0x1F0, 0x200, 0x800, 0xFFC):     # no register
        m.write("ICH", off, 0xFFFF_FFFF)
        assert m.read("ICH", off) == 0


def test_v3_1_4_lr_halves_written_separately():
    """v3 1.4, v3 2.8: LR<n> low half at 0x100 + 8n, high half (AArch32 ICH_LRC<n>) at
    +4; each half is written on its own and keeps the other; the LR mask applies to the
    combined value."""
    m = running(4)
    m.write("ICH", 0x118, 0x0000002B)            # LR3 low
    assert rd(m, LR(3)) == 0x2B
    assert m.virq == 0
    m.write("ICH", 0x11C, 0x50D80000)            # LR3 high: pending Group 1 0xD8
    assert rd(m, LR(3)) == 0x50D8_0000_0000_002B
    assert m.read("ICH", 0x118) == 0x2B and m.read("ICH", 0x11C) == 0x50D80000
    assert m.virq == 1 and rd(m, HPPIR1) == 43
    m.write("ICH", 0x118, 0x0000002C)            # low only
    assert rd(m, LR(3)) == 0x50D8_0000_0000_002C
    m.write("ICH", 0x11C, 0x7040001B)            # HW = 1, pINTID 27
    assert rd(m, LR(3)) == 0x7040_001B_0000_002C
    m.write("ICH", 0x11C, 0x504003FF)            # HW = 0: only EOI of [41:32]
    assert rd(m, LR(3)) == 0x5040_0200_0000_002C
    m.write("ICH", 0x11C, 0xFFFF_FFFF)
    assert m.read("ICH", 0x11C) == 0xF0F81FFF
    m.write("ICH", 0x118, 0xFFFF_FFFF)
    assert rd(m, LR(3)) == 0xF0F8_1FFF_00FF_FFFF
    m.write("ICH", 0x11C, 0x10400200)            # State 00, EOI = 1
    assert rd(m, EISR) == 0x8 and rd(m, ELRSR) == 0x7


def test_v3_1_4_lr_offsets_sixteen():
    """v3 1.4: with 16 LRs LR<n> is at 0x100 + 8n (LR8 at 0x140 in CRm 13, LR15 at 0x178)."""
    m = make(16)
    for n in range(16):
        m.write("ICH", 0x100 + 8 * n, 0x100 + n)
        m.write("ICH", 0x104 + 8 * n, 0x50400000)
    for n in range(16):
        assert rd(m, LR(n)) == 0x5040_0000_0000_0100 + n
    assert rd(m, ELRSR) == 0


def test_v3_1_4_icv_frame_offsets():
    """v3 1.4: ICV registers at (CRm - 8) * 0x40 + op2 * 8 in the ICV frame: IAR1 0x100,
    EOIR1 0x108, HPPIR1 0x110, BPR1 0x118, CTLR 0x120, IGRPEN0 0x130, IGRPEN1 0x138,
    IAR0 0x000, EOIR0 0x008, HPPIR0 0x010, BPR0 0x018, AP0R0 0x020, AP1R0 0x040,
    DIR 0x0C8, RPR 0x0D8, PMR 0x180; reading a high half (0x104) acknowledges nothing."""
    m = make(4)
    m.write("ICH", 0xC0, EN)
    m.write("ICV", 0x180, 0xF8)
    m.write("ICV", 0x130, 1)
    m.write("ICV", 0x138, 1)
    m.write("ICV", 0x018, 3)
    m.write("ICV", 0x118, 4)
    assert rd(m, VMCR) == 0xF870000B
    assert m.read("ICV", 0x120) == 0x8C00
    assert m.read("ICV", 0x180) == 0xF8
    assert (m.read("ICV", 0x018), m.read("ICV", 0x118)) == (3, 4)
    wr(m, LR(0), 0x50D8_0000_0000_002B)
    assert m.read("ICV", 0x110) == 43 and m.read("ICV", 0x010) == SPURIOUS
    assert m.read("ICV", 0x104) == 0 and m.read("ICV", 0x114) == 0
    assert rd(m, LR(0)) == 0x50D8_0000_0000_002B
    assert m.read("ICV", 0x000) == SPURIOUS
    assert m.read("ICV", 0x100) == 43
    assert m.read("ICV", 0x040) == 0x04000000 and m.read("ICV", 0x0D8) == 0xD0
    wr(m, LR(1), lr(PENDING, 30, 0x80, grp=0))
    assert m.read("ICV", 0x010) == 30
    assert m.read("ICV", 0x000) == 30            # 0x80 preempts 0xD0
    assert m.read("ICV", 0x020) == 0x00010000 and m.read("ICV", 0x0D8) == 0x80
    m.write("ICV", 0x120, 0x2)                   # EOImode 1
    m.write("ICV", 0x008, 30)                    # EOIR0: drop 0x80
    assert m.read("ICV", 0x020) == 0 and rd(m, LR(1)) >> 62 == ACTIVE
    m.write("ICV", 0x0C8, 30)                    # DIR
    assert rd(m, LR(1)) >> 62 == INVALID
    m.write("ICV", 0x120, 0x0)
    m.write("ICV", 0x108, 43)                    # EOIR1
    assert rd(m, LR(0)) == 0x10D8_0000_0000_002B and m.read("ICV", 0x0D8) == 0xFF
    assert m.read("ICV", 0x108) == 0 and m.read("ICV", 0x0C8) == 0


def test_v3_1_4_icv_ap_registers_by_pre():
    """v3 1.4, v3 open point 17: ICV_AP0R<n> at 0x20 + 8n, ICV_AP1R<n> at 0x40 + 8n;
    PRE 7 has four of each."""
    m = make(4, pri_bits=8, pre_bits=7)
    for n in range(4):
        m.write("ICV", 0x20 + 8 * n, 0x10 + n)
        m.write("ICV", 0x40 + 8 * n, 0x20 + n)
    assert [rd(m, AP(0, n)) for n in range(4)] == [0x10, 0x11, 0x12, 0x13]
    assert [rd(m, AP(1, n)) for n in range(4)] == [0x20, 0x21, 0x22, 0x23]
    m = make(4)
    m.write("ICV", 0x28, 0x1)
    assert m.read("ICV", 0x28) == 0 and rd(m, RPR) == 0xFF
