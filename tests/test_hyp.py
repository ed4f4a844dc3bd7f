# Ref: arch 1.1-1.4 (frames, access rules), arch 2.1 (GICH_HCR), arch 2.17 (IIDR), arch 2.19 (masks)
"""Hypervisor control frame and the access rules of both frames: HCR mask,
reserved offsets RAZ/WI, WO registers read 0, RO writes ignored, partial
(byte-enable) writes ignored, bad frame/offset/value errors."""
import pytest

from vgic.rtl import regs
from vgic.sim.model import VirtualInterface

from conftest import PENDING, ACTIVE, lr_value

ALL_ONES = 0xFFFF_FFFF
RO_REGS = ["GICH_VTR", "GICH_MISR", "GICH_EISR0", "GICH_EISR1", "GICH_ELRSR0", "GICH_ELRSR1",
           "GICV_IAR", "GICV_RPR", "GICV_HPPIR", "GICV_AIAR", "GICV_AHPPIR", "GICV_IIDR"]
WO_REGS = ["GICV_EOIR", "GICV_AEOIR", "GICV_DIR"]
RW_REGS = ["GICH_HCR", "GICH_VMCR", "GICH_APR", "GICH_LR0", "GICV_CTLR", "GICV_PMR",
           "GICV_BPR", "GICV_ABPR", "GICV_APR0"]
RESERVED_NAMES = ["GICV_APR1", "GICV_APR2", "GICV_APR3",
                  "GICV_NSAPR0", "GICV_NSAPR1", "GICV_NSAPR2", "GICV_NSAPR3"]


def busy_state(vgic):
    """A state where a stray write or a stray acknowledge would show: pending,
    active and EOI-maintenance LRs, APR, EOICount, every enable."""
    vgic.guest(ctlr=0x7, hcr=3 << 27 | 0xFF, bpr=3, abpr=4)
    n = vgic.num_lrs
    vgic.set_lr(0, lr_value(vid=40, state=PENDING, prio=0x40))
    if n > 1:
        vgic.set_lr(1, lr_value(vid=41, state=ACTIVE, prio=0x80, hw=1, pintid=41))
    if n > 2:
        vgic.set_lr(n - 1, lr_value(vid=42, state=0, eoi=1))
    vgic.wr("GICH_APR", 1 << 16)


def mapped(frame, offset):
    r = regs.decode(frame, offset)
    return r is not None and r.access != "RES"


def reserved_offsets(vgic):
    """Word offsets to probe: all of both frames on the model; on the RTL the
    register pages in full plus every register offset with one higher address
    bit flipped (catches an address decode that ignores a bit)."""
    if vgic.kind == "model":
        return [("GICH", o) for o in range(0, 0x1000, 4) if not mapped("GICH", o)] + \
               [("GICV", o) for o in range(0, 0x2000, 4) if not mapped("GICV", o)]
    probe = set()
    for frame, size, page in (("GICH", 0x1000, 0x200), ("GICV", 0x2000, 0x100)):
        probe |= {(frame, o) for o in range(0, page, 4)}
        if frame == "GICV":
            probe |= {(frame, 0x1000 + o) for o in range(0, page, 4)}
        for r in (regs.GICH if frame == "GICH" else regs.GICV):
            for bit in range(2, size.bit_length() - 1):
                probe.add((frame, r.offset ^ (1 << bit)))
    return sorted((f, o) for f, o in probe if not mapped(f, o))


# -- GICH_HCR (arch 2.1) --------------------------------------------------------------

def test_hcr_write_mask(vgic):
    """arch 2.1: GICH_HCR keeps EOICount [31:27] and [7:0]; [26:8] reserved (0xF80000FF)."""
    vgic.wr("GICH_HCR", ALL_ONES)
    assert vgic.rd("GICH_HCR") == 0xF800_00FF
    vgic.wr("GICH_HCR", 0x07FF_FF00)
    assert vgic.rd("GICH_HCR") == 0
    for bit in list(range(8)) + list(range(27, 32)):
        vgic.wr("GICH_HCR", 1 << bit)
        assert vgic.rd("GICH_HCR") == 1 << bit


def test_hcr_reset_zero(vgic):
    """arch 2.1/R15: HCR resets to 0 (GIC-400)."""
    assert vgic.rd("GICH_HCR") == 0


# -- GICV_IIDR (arch 2.17) ---------------------------------------------------------

def test_iidr_default(vgic):
    """arch 2.17 / open point 25: GICV_IIDR = 0x0002043B (Arm, GICv2, product 0)."""
    iidr = vgic.rd("GICV_IIDR")
    assert iidr == 0x0002_043B
    assert iidr & 0xFFF == 0x43B and (iidr >> 16) & 0xF == 0x2


@pytest.mark.model_only
def test_iidr_parameter(vgic):
    """arch 2.17: a parameter may set another IIDR (e.g. GIC-400's 0x0202143B)."""
    m = VirtualInterface(num_lrs=vgic.num_lrs, iidr=0x0202_143B)
    assert m.read("GICV", regs.GICV_IIDR.offset) == 0x0202_143B


# -- reserved offsets (arch 1.4 rule 2) ------------------------------------------------

@pytest.mark.lr_dependent
def test_reserved_offsets_raz_wi(vgic):
    """arch 1.1/1.2/1.4 rule 2: every offset of either frame that holds no register
    reads 0, ignores writes, and neither access changes anything (a read
    there does not acknowledge)."""
    busy_state(vgic)
    before = vgic.snapshot()
    for frame, offset in reserved_offsets(vgic):
        vgic.write(frame, offset, ALL_ONES)
        assert vgic.read(frame, offset) == 0, f"{frame}+{offset:#x}"
    assert vgic.snapshot() == before


@pytest.mark.parametrize("name", RESERVED_NAMES)
def test_reserved_names_raz_wi(vgic, name):
    """arch 1.2: GICV_APR1-3 (nothing to hold with 5 preemption bits) and GICV_NSAPRn
    (one security view) are reserved: RAZ/WI; APR0 is not touched."""
    busy_state(vgic)
    before = vgic.snapshot()
    vgic.wr(name, ALL_ONES)
    assert vgic.rd(name) == 0
    assert vgic.snapshot() == before


def test_gich_has_no_alias_above_0x200(vgic):
    """arch 1.1: all GICH registers live in 0x000-0x1FF; the rest of the 4 KiB page
    is reserved (no GIC-400-style repetition in the core)."""
    vgic.wr("GICH_HCR", 0x1F)
    vgic.set_lr(0, 0x1234)
    for k in range(1, 8):
        assert vgic.read("GICH", 0x200 * k) == 0
        assert vgic.read("GICH", 0x200 * k + 0x100) == 0


def test_gicv_dir_only_at_0x1000(vgic):
    """arch 1.2: GICV_DIR is at 0x1000; 0x1004-0x1FFC and 0x000+0x10 aliases aside
    from EOIR are reserved: a write of an active vid there deactivates nothing."""
    vgic.guest(ctlr=0x1 | 0x200)                              # EOImode 1
    vgic.set_lr(0, lr_value(vid=40, state=ACTIVE, prio=0x40))
    for offset in (0x1004, 0x1010, 0x1800, 0x1FFC, 0x0FFC):
        vgic.write("GICV", offset, 40)
    assert vgic.lr_state(vgic.lr(0)) == ACTIVE
    assert vgic.rd("GICH_HCR") >> 27 == 0
    vgic.write("GICV", 0x1000, 40)
    assert vgic.lr_state(vgic.lr(0)) == 0


# -- WO registers (arch 1.4 rule 3) -----------------------------------------------------

@pytest.mark.parametrize("name", WO_REGS)
def test_wo_registers_read_zero_without_effect(vgic, name):
    """arch 1.4 rule 3: reads of EOIR, AEOIR, DIR return 0 and change nothing."""
    busy_state(vgic)
    vgic.wr("GICV_CTLR", 0x207)                               # EOImode 1: DIR live
    before = vgic.snapshot()
    assert vgic.rd(name) == 0
    assert vgic.snapshot() == before


# -- RO registers (arch 1.4 rule 3) -------------------------------------------------

@pytest.mark.parametrize("name", RO_REGS)
def test_ro_register_writes_ignored(vgic, name):
    """arch 1.4 rule 3: writes to RO registers are ignored (a write to IAR does not
    acknowledge, to MISR/EISR/ELRSR changes nothing)."""
    busy_state(vgic)
    before = vgic.snapshot()
    for v in (ALL_ONES, 0, 40):
        vgic.wr(name, v)
    assert vgic.snapshot() == before


def test_only_iar_aiar_reads_have_side_effects(vgic):
    """arch 1.4 rule 4: reads of every register but IAR/AIAR change nothing."""
    busy_state(vgic)
    before = vgic.snapshot()
    for r in regs.GICH[:9] + [r for r in regs.GICV if r.name not in ("IAR", "AIAR")]:
        vgic.read(r.frame, r.offset)
    for n in range(vgic.num_lrs):
        vgic.lr(n)
    assert vgic.snapshot() == before


# -- partial writes (arch 1.4 rule 1) -------------------------------------------------

PARTIAL_STRB = [0b0000, 0b0001, 0b0010, 0b0100, 0b1000, 0b0011, 0b1100, 0b0111, 0b1110]


@pytest.mark.parametrize("name", RW_REGS + WO_REGS + ["GICH_LRlast"])
def test_partial_writes_ignored(vgic, name):
    """arch 1.4 rule 1 (UNPREDICTABLE, model choice): a write with byte enables other
    than 0b1111 is ignored entirely, for RW and WO registers alike."""
    busy_state(vgic)
    vgic.wr("GICV_CTLR", 0x207)                               # EOImode 1: DIR live
    if name == "GICH_LRlast":
        name = f"GICH_LR{vgic.num_lrs - 1}"
    before = vgic.snapshot()
    for strb in PARTIAL_STRB:
        for v in (ALL_ONES, 0, 41):
            vgic.wr(name, v, strb=strb)
    assert vgic.snapshot() == before


def test_full_write_after_partial_works(vgic):
    """arch 1.4 rule 1: the same write with strb = 0b1111 does take effect."""
    vgic.wr("GICV_PMR", 0x80, strb=0b0001)
    assert vgic.rd("GICV_PMR") == 0
    vgic.wr("GICV_PMR", 0x80, strb=0b1111)
    assert vgic.rd("GICV_PMR") == 0x80


# -- unaligned offsets (arch 1.4 rule 1) ---------------------------------------------

def test_unaligned_offsets_raz_wi(vgic):
    """arch 1.4 rule 1 / open point 26 (model choice): an unaligned offset is not a
    register: it reads 0 and writes are ignored (IAR+1 does not acknowledge)."""
    busy_state(vgic)
    before = vgic.snapshot()
    for r in (regs.GICH_HCR, regs.GICH_APR, regs.lr(0), regs.GICV_IAR, regs.GICV_EOIR,
              regs.GICV_PMR, regs.GICV_DIR):
        for d in (1, 2, 3):
            assert vgic.read(r.frame, r.offset + d) == 0
            vgic.write(r.frame, r.offset + d, ALL_ONES)
    assert vgic.snapshot() == before


# -- bad input -----------------------------------------------------------------

@pytest.mark.parametrize("frame,offset", [("GICD", 0), ("GICC", 0), ("gich", 0), ("", 0),
                                          ("GICH", -4), ("GICH", 0x1000), ("GICV", 0x2000),
                                          ("GICV", -1), ("GICH", 1 << 40)])
def test_bad_frame_or_offset_raises(vgic, frame, offset):
    """arch 1.1/1.2: frames are GICH (4 KiB) and GICV (8 KiB); anything else is an
    error of the caller, reported as ValueError, on read and write."""
    with pytest.raises(ValueError):
        vgic.read(frame, offset)
    with pytest.raises(ValueError):
        vgic.write(frame, offset, 0)


@pytest.mark.parametrize("value", [-1, 2**32, 2**40])
def test_bad_write_value_raises(vgic, value):
    """Registers are 32 bits: a value outside 0..2^32-1 is a ValueError."""
    with pytest.raises(ValueError):
        vgic.wr("GICH_HCR", value)
    assert vgic.rd("GICH_HCR") == 0


@pytest.mark.parametrize("strb", [-1, 0x10, 0xFF])
def test_bad_strb_raises(vgic, strb):
    """Byte enables are 4 bits: anything else is a ValueError."""
    with pytest.raises(ValueError):
        vgic.wr("GICH_HCR", 1, strb=strb)
    assert vgic.rd("GICH_HCR") == 0


@pytest.mark.parametrize("num_lrs", [0, 65, -1, 4.0, "4", True, None])
def test_bad_num_lrs_raises(num_lrs):
    """arch 2.2: ListRegs + 1 is 1..64; any other LR count is rejected with a message."""
    with pytest.raises(ValueError, match="num_lrs"):
        VirtualInterface(num_lrs=num_lrs)


@pytest.mark.parametrize("iidr", [-1, 2**32, "0x43b", None])
def test_bad_iidr_raises(iidr):
    """arch 2.17: the IIDR parameter is a 32-bit value."""
    with pytest.raises(ValueError, match="iidr"):
        VirtualInterface(num_lrs=4, iidr=iidr)


# -- core byte-address view (rtl/regs.py map) -----------------------------------

@pytest.mark.model_only
def test_core_address_map(vgic):
    """Core map: GICH at 0x0000, GICV at 0x2000 (DIR at 0x3000), 0x1000-0x1FFF
    unmapped; read_addr/write_addr reach the same registers as read/write."""
    m = vgic.engine
    m.write_addr(regs.GICH_HCR.addr, 1)
    assert m.read("GICH", regs.GICH_HCR.offset) == 1
    m.write("GICV", regs.GICV_PMR.offset, 0xF8)
    assert m.read_addr(0x2000 + regs.GICV_PMR.offset) == 0xF8
    assert regs.GICV_DIR.addr == 0x3000
    for addr in (0x1000, 0x1100, 0x1FFC):
        m.write_addr(addr, ALL_ONES)
        assert m.read_addr(addr) == 0
    assert m.read("GICH", 0) == 1


# -- the README's table of choices stays true ------------------------------------

def test_choices_doc_names_existing_tests():
    """README.md: every test named in the table of choices exists (a row's
    `file.py::test` sets the file for the `::test` names after it)."""
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parent
    doc = (root.parent / "README.md").read_text()
    named, missing = 0, []
    for row in doc.splitlines():
        current = None
        for ref in re.findall(r"`([^`]*::[^`]*)`", row if row.startswith("|") else ""):
            file, name = ref.split("::")
            current = file or current
            named += 1
            if f"def {name}(" not in (root / current).read_text():
                missing.append(f"{current}::{name}")
    assert named > 30
    assert missing == []
