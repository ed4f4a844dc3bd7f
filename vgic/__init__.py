"""vgic: the ARM GICv2 virtual interface (GICH/GICV) in Amaranth HDL.

``vgic.rtl`` is the hardware (directory ``rtl/``), ``vgic.sim`` the golden model,
drivers and tools (directory ``sim/``).
"""
__version__ = "0.1.0"
