"""Golden model of the GICv2 virtual interface, written from docs/architecture.md.

One module per hardware block, named like its twin in ``rtl/``:
``lr_bank``, ``vcpu``, ``hyp``, ``maintenance``, ``top``.
"""
from .top import VirtualInterface

__all__ = ["VirtualInterface"]
