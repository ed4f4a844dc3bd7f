"""Synthesizable Amaranth hardware of the GICv2 virtual interface."""
