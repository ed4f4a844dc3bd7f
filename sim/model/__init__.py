"""Golden model of the GICv2 virtual interface, written from docs/architecture.md.

One module per hardware block, named like its twin in ``rtl/``:
``lr_bank``, ``vcpu``, ``hyp``, ``maintenance``, ``top``, ``cluster`` (several CPUs).
"""
from .top import VirtualInterface
from .cluster import Cluster

__all__ = ["VirtualInterface", "Cluster"]
