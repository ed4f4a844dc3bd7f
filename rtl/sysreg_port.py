# Ref: IHI0069 (ICH_*_EL2 and ICV_*_EL1 are system registers: MRS/MSR with
#      op0, op1, CRn, CRm, op2); docs/architecture-v3.md, v3 1.3
"""The GICv3 interface's system-register port: what a CPU's system-register
pipeline drives, the AArch64 encoding and 64-bit data.

``SysRegBridge(v3)`` turns one MRS/MSR into the core's register-bus accesses
(rtl/regbus.py) on the memory-mapped layout (rtl/sysregs.py): an ICH_LR<n>_EL2
as two, low half first, every other register as one. ``SysRegVirtualInterface``
is the core behind it.

Handshake (directions as seen from the CPU, SysRegSignature):

    cycle t     ready = 1 and r_stb (MRS) or w_stb (MSR) = 1 with the
                encoding (op0, op1, CRn, CRm, op2) and, for MSR, w_data
    later       one cycle with ack = 1: r_data for an MRS (0 for MSR), or
                undef = 1 (and no effect): the encoding is no register of
                this configuration (an LR n >= num_lrs, an AP register
                n >= NAPR, ICC_SRE_EL1, the SGI registers, ...), an MSR of a
                read-only register or an MRS of a write-only one. The CPU
                takes the UNDEFINED exception then (v3 open point 17).

ready is low from the request to its ack: one access at a time. Which EL1
ICC_* accesses are virtual (ICV) is the CPU's decision (v3 1.2); it drives
them here with their own encodings.
"""
from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import regs, sysregs
from .regbus import RegBusSignature, needs_settled
from .top import VirtualInterface

__all__ = ["SysRegSignature", "SysRegBridge", "SysRegVirtualInterface", "encoding"]


def encoding(reg):
    """The 14-bit value Cat(op2, CRm, CRn, op1, op0) of a register's encoding."""
    op0, op1, crn, crm, op2 = reg.enc
    return op2 | crm << 3 | crn << 7 | op1 << 11 | op0 << 14


class SysRegSignature(wiring.Signature):
    """A system-register access, directions as seen from the CPU."""

    def __init__(self):
        super().__init__({
            "op0": Out(2), "op1": Out(3), "crn": Out(4), "crm": Out(4), "op2": Out(3),
            "r_stb": Out(1), "w_stb": Out(1), "w_data": Out(64),
            "ready": In(1), "ack": In(1), "undef": In(1), "r_data": In(64),
        })


class SysRegBridge(wiring.Component):
    """MRS/MSR (``sys``) to the core's register bus (``reg``)."""

    def __init__(self, v3):
        self.v3 = v3
        super().__init__({"sys": In(SysRegSignature()), "reg": Out(RegBusSignature())})

    def elaborate(self, platform):
        m = Module()
        sys, reg, v3 = self.sys, self.reg, self.v3
        enc = Cat(sys.op2, sys.crm, sys.crn, sys.op1, sys.op0)
        # decode against the one register table: the implemented registers only
        known = [r for r in sysregs.SYSREGS if r.implemented(v3)]
        hit = {r: enc == encoding(r) for r in known}
        word = Signal(12)
        wide = Signal()                  # ICH_LR<n>_EL2: both halves
        can_read = Signal()
        can_write = Signal()
        m.d.comb += [
            word.eq(_or(Mux(h, r.addr >> 2, 0) for r, h in hit.items())),
            wide.eq(_or(h for r, h in hit.items() if r.width == 64)),
            can_read.eq(_or(h for r, h in hit.items() if r.access != "WO")),
            can_write.eq(_or(h for r, h in hit.items() if r.access != "RO")),
        ]
        # the access in progress
        a_word, a_write, a_wide, a_half = Signal(12), Signal(), Signal(), Signal()
        a_data = Signal(64)
        settled_word = Signal()          # the read waits for `settled` (rtl/regbus.py)
        m.d.comb += settled_word.eq(needs_settled(a_word, v3=v3))
        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += sys.ready.eq(1)
                with m.If(sys.r_stb | sys.w_stb):
                    ok = Mux(sys.w_stb, can_write, can_read)
                    m.d.sync += [a_word.eq(word), a_write.eq(sys.w_stb), a_wide.eq(wide),
                                 a_half.eq(0), a_data.eq(Mux(sys.w_stb, sys.w_data, 0))]
                    with m.If(ok):
                        m.next = "ISSUE"
                    with m.Else():
                        m.next = "UNDEF"
            with m.State("UNDEF"):
                m.d.comb += [sys.ack.eq(1), sys.undef.eq(1)]
                m.next = "IDLE"
            with m.State("ISSUE"):
                # held until the core takes it (ready; settled for a derived read)
                m.d.comb += [
                    reg.addr.eq(a_word | a_half),
                    reg.r_stb.eq(~a_write), reg.w_stb.eq(a_write), reg.w_strb.eq(0b1111),
                    reg.w_data.eq(Mux(a_half, a_data[32:], a_data[:32])),
                ]
                with m.If(reg.ready & (a_write | ~settled_word | reg.settled)):
                    m.next = "WAIT"
            with m.State("WAIT"):
                with m.If(reg.ack):
                    with m.If(~a_write):
                        with m.If(a_half):
                            m.d.sync += a_data[32:].eq(reg.r_data)
                        with m.Else():
                            m.d.sync += a_data[:32].eq(reg.r_data)
                    with m.If(a_wide & ~a_half):
                        m.d.sync += a_half.eq(1)
                        m.next = "ISSUE"
                    with m.Else():
                        m.next = "DONE"
            with m.State("DONE"):
                m.d.comb += [sys.ack.eq(1), sys.r_data.eq(Mux(a_write, 0, a_data))]
                m.next = "IDLE"
        return m


def _or(terms):
    out = Const(0, 1)
    for t in terms:
        out = out | t
    return out


class SysRegVirtualInterface(wiring.Component):
    """A GICv3 CPU interface (rtl/top.py, arch="v3") behind its
    system-register port, with flat ports for a Verilog top level: the
    port's signals prefixed ``sys_`` (``sys_op0`` .. ``sys_r_data``) and the
    core's outputs (virq, vfiq, maint_irq, deact_valid, deact_pintid, traps).
    ``sys`` is the port as one interface object (SysRegSignature, flipped)."""
    prefix = "sys_"

    def __init__(self, num_lrs=4, iidr=regs.IIDR_DEFAULT, **v3):
        self.core = VirtualInterface(num_lrs, iidr, arch="v3", **v3)
        self.v3, self.num_lrs, self.iidr = self.core.v3, num_lrs, iidr
        self.bridge = SysRegBridge(self.v3)
        members = {self.prefix + name: (In if m.flow == Out else Out)(m.shape)
                   for name, m in SysRegSignature().members.items()}
        members.update({name: m for name, m in self.core.signature.members.items() if name != "bus"})
        super().__init__(members)

    @property
    def sys(self):
        return _Port({name: getattr(self, self.prefix + name) for name in SysRegSignature().members})

    def elaborate(self, platform):
        m = Module()
        m.submodules.bridge = bridge = self.bridge
        m.submodules.core = core = self.core
        wiring.connect(m, bridge.reg, core.bus)
        for name, member in SysRegSignature().members.items():
            outer, inner = getattr(self, self.prefix + name), getattr(bridge.sys, name)
            m.d.comb += (inner.eq(outer) if member.flow == Out else outer.eq(inner))
        for name in self.signature.members:
            if not name.startswith(self.prefix):
                m.d.comb += getattr(self, name).eq(getattr(core, name))
        return m


class _Port:
    """The flat `sys_*` ports under their SysRegSignature names."""

    def __init__(self, signals):
        self.__dict__.update(signals)
