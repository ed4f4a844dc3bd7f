# Ref: rtl/top.py (core ports), rtl/bridges/* (bus bridges)
"""The core behind a standard bus, with flat ports for a Verilog top level.

``BusVirtualInterface(num_lrs, bus, num_cpus=1)`` is rtl/top.py's
VirtualInterface (several CPUs: rtl/cluster.py's Cluster) behind one bridge;
with ``arch="v3"`` (and the V3Config parameters) the GICv3 interface on its
memory-mapped layout (rtl/sysregs.py, docs/architecture-v3.md v3 1.4).
Its ports are the bus's standard signal names with a prefix
(``s_axil_awaddr``, ``s_apb_psel``, ``s_wb_cyc``, ...; with several CPUs the
requester's number too: ``s_axil_awuser``/``aruser``, ``s_apb_pauser``,
``s_wb_tga``), the core's outputs (``virq``, ``vfiq``, ``maint_irq``,
``deact_valid``, ``deact_pintid``; several CPUs: the lines one bit per CPU
and ``deact_cpu``), and, once converted to Verilog, ``clk`` and ``rst``
(synchronous, active high).

``rst`` (the ``sync`` domain's reset) resets the bridge and the core together:
it is the bus port's reset (rtl/bridges/access.py, "Reset"; docs/verilog.md,
"Reset"), to be asserted with the bus manager's reset or while the port is
idle, for one rising edge or more; transactions in progress are abandoned
without a response. After it the core takes requests from the next cycle
and derived reads once settled (rtl/timing.py), the bridge keeping them
waiting.
"""
from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from . import regs
from .cluster import build
from .bridges.axi4lite import AXI4LiteBridge
from .bridges.apb import APBBridge
from .bridges.wishbone import WishboneBridge
from .bridges.access import check_errors

__all__ = ["BUSES", "BusVirtualInterface"]

# bus name -> (bridge class, extra bridge arguments, port prefix, bridge port name)
BUSES = {
    "axi4lite":           (AXI4LiteBridge, {}, "s_axil_", "axi"),
    "apb":                (APBBridge, {}, "s_apb_", "apb"),
    "wishbone":           (WishboneBridge, {"pipelined": False}, "s_wb_", "wb"),
    "wishbone-pipelined": (WishboneBridge, {"pipelined": True}, "s_wb_", "wb"),
}


def check_bus(bus):
    if bus not in BUSES:
        raise ValueError(f"bus must be one of {', '.join(BUSES)}, got {bus!r}")
    return bus


class BusVirtualInterface(wiring.Component):
    """The core of `num_cpus` CPU interfaces of `num_lrs` LRs (cluster.build)
    behind a bus bridge, with flat prefixed ports."""

    def __init__(self, num_lrs=4, bus="axi4lite", errors="ignore",
                 addr_width=regs.CORE_ADDR_BITS, iidr=regs.IIDR_DEFAULT, num_cpus=1, arch="v2",
                 **v3):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.num_cpus = regs.check_num_cpus(num_cpus)
        self.bus = check_bus(bus)
        self.errors = check_errors(errors)
        self.addr_width = addr_width
        self.iidr = iidr
        cls, extra, self.prefix, self._port = BUSES[bus]
        cpus = {"num_cpus": num_cpus} if num_cpus > 1 else {}
        if arch not in ("v2", "v3"):
            raise ValueError(f"arch must be 'v2' or 'v3', got {arch!r}")
        if arch == "v2" and v3:
            raise ValueError(f"{', '.join(v3)}: parameters of arch v3")
        self.core = build(num_lrs, num_cpus, iidr, arch, **v3)
        self.arch, self.v3 = arch, getattr(self.core, "v3", None)
        layout = {"v3": self.v3} if self.v3 is not None else {}
        self.bridge = cls(num_lrs=num_lrs, errors=errors, addr_width=addr_width, **cpus, **extra,
                          **layout)
        # The bridge's bus port, one flat port per signal, same direction.
        bus_port = self.bridge.signature.members[self._port].signature
        self.bus_members = {name: m for name, m in bus_port.members.items()}
        members = {self.prefix + name: m for name, m in self.bus_members.items()}
        for name, m in self.core.signature.members.items():
            if name != "bus":
                members[name] = m
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.bridge = bridge = self.bridge
        m.submodules.core = core = self.core
        wiring.connect(m, bridge.reg, core.bus)
        bridge_bus = getattr(bridge, self._port)
        for name, member in self.bus_members.items():
            outer, inner = getattr(self, self.prefix + name), getattr(bridge_bus, name)
            if member.flow == In:
                m.d.comb += inner.eq(outer)
            else:
                m.d.comb += outer.eq(inner)
        for name in self.signature.members:
            if not name.startswith(self.prefix):
                m.d.comb += getattr(self, name).eq(getattr(core, name))
        return m
