"""The README's register map is the one rendered from rtl/regs.py (no second copy)."""
import pathlib

from vgic.sim.docs import register_map_markdown, splice

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_register_map_is_generated_from_the_table():
    text = README.read_text()
    assert splice(text, register_map_markdown()) == text, "run `make docs` to refresh README.md"


def test_register_map_lists_every_register_once():
    table = register_map_markdown()
    for name in ["GICH_HCR", "GICH_VTR", "GICH_VMCR", "GICH_MISR", "GICH_EISR0", "GICH_EISR1",
                 "GICH_ELRSR0", "GICH_ELRSR1", "GICH_APR", "GICV_CTLR", "GICV_PMR", "GICV_BPR",
                 "GICV_IAR", "GICV_EOIR", "GICV_RPR", "GICV_HPPIR", "GICV_ABPR", "GICV_AIAR",
                 "GICV_AEOIR", "GICV_AHPPIR", "GICV_APR0", "GICV_IIDR", "GICV_DIR"]:
        assert table.count(f"| {name} |") == 1, name
    assert "| 0x3000 | 0x1000 | GICV_DIR | WO |" in table       # digest 1.2: DIR at +0x1000
