# Ref: IHI0048B 1.3 and 5.1 (GICH/GICV banked per CPU interface); GIC-400 TRM,
#      memory map (GICH of the requester at 0x4000, of CPU n at 0x5000 + 0x200 n)
"""Cluster: the golden model of `num_cpus` CPU interfaces behind one bus.
Twin of rtl/cluster.py (which says where each request goes).

Accesses take the requesting CPU (`cpu`) and, for GICH, optionally the CPU
whose processor-specific view is used (`gich_cpu`; None: the requester's own
GICH). A view of a CPU at or above num_cpus is RAZ/WI; so is any access by a
requester at or above num_cpus (a bus can carry numbers no CPU has).

The lines (`virq`, `vfiq`, `maint`) are masks, bit n for CPU n (with one CPU,
0 or 1 as for VirtualInterface); `line(name, cpu)` gives one CPU's.
`forwarded` lists (pINTID) deactivations in order, `forwarded_cpu` the CPU
of each.

GICv3 (`arch="v3"` and V3Config's parameters): the same, on the
memory-mapped layout (rtl/sysregs.py): "ICH" has the views, "ICV" is the
requester's; read_sysreg/write_sysreg(name, value, cpu=0, gich_cpu=None);
`traps` every CPU's trap controls.
"""
from ...rtl import regs, sysregs
from .top import VirtualInterface

__all__ = ["Cluster"]


class Cluster:
    def __init__(self, num_lrs=4, num_cpus=1, iidr=regs.IIDR_DEFAULT, arch="v2", **v3):
        self.num_cpus = regs.check_num_cpus(num_cpus)
        self.cpus = [VirtualInterface(num_lrs, iidr, arch, **v3) for _ in range(num_cpus)]
        self.num_lrs, self.arch, self.v3 = num_lrs, arch, self.cpus[0].v3
        # the hypervisor's frame (with the processor-specific views) and the map
        self._hyp, self._map = ("GICH", regs) if self.v3 is None else ("ICH", sysregs)
        self.forwarded, self.forwarded_cpu = [], []

    def reset(self):
        for c in self.cpus:
            c.reset()
            c.forwarded.clear()
        self.forwarded.clear()
        self.forwarded_cpu.clear()

    # -- which CPU interface answers (rtl/cluster.py) ----------------------
    def _target(self, frame, cpu, gich_cpu):
        if _bad_cpu(cpu):
            raise ValueError(f"requesting CPU {cpu!r} must be 0..{regs.MAX_CPUS - 1}")
        n = gich_cpu if (frame == self._hyp and gich_cpu is not None) else cpu
        if gich_cpu is not None and frame != self._hyp:
            raise ValueError("gich_cpu names a processor-specific GICH view: GICH accesses only")
        if gich_cpu is not None and _bad_cpu(gich_cpu):
            raise ValueError(f"gich_cpu {gich_cpu!r} must be 0..{regs.MAX_CPUS - 1}")
        return self.cpus[n] if n < self.num_cpus else None

    def _collect(self, n, c):
        for p in c.forwarded:
            self.forwarded.append(p)
            self.forwarded_cpu.append(n)
        c.forwarded.clear()

    def _check(self, frame, offset):
        """Validates frame/offset. A legacy build's guests also have the GICv2
        GICV frame (v3 10), in the requester's ICV window."""
        legacy = frame == "GICV" and self.v3 is not None and self.v3.legacy
        (regs if legacy else self._map).core_addr(frame, offset)

    def read(self, frame, offset, cpu=0, gich_cpu=None):
        self._check(frame, offset)
        if gich_cpu is not None and frame == self._hyp and offset >= regs.ALIAS_STRIDE:
            return 0                                 # beyond a view's registers
        c = self._target(frame, cpu, gich_cpu)
        if c is None:
            return 0
        value = c.read(frame, offset)
        self._collect(self.cpus.index(c), c)
        return value

    def write(self, frame, offset, value, strb=0xF, cpu=0, gich_cpu=None):
        self._check(frame, offset)
        c = self._target(frame, cpu, gich_cpu)
        if gich_cpu is not None and frame == self._hyp and offset >= regs.ALIAS_STRIDE:
            c = None
        if c is None:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
                raise ValueError(f"write value {value!r} is not a 32-bit value")
            return
        c.write(frame, offset, value, strb)
        self._collect(self.cpus.index(c), c)

    # core byte-address view (the internal register bus map, rtl/regs.py)
    def _at(self, addr):
        alias = regs.alias_of(addr) if self.num_cpus > 1 else None
        if alias is not None:
            return self._hyp, alias[1], alias[0]
        frame, offset = self._map.frame_of(addr)
        return frame, offset, None

    def read_addr(self, addr, cpu=0):
        frame, offset, gich_cpu = self._at(addr)
        return 0 if frame is None else self.read(frame, offset, cpu, gich_cpu)

    def write_addr(self, addr, value, strb=0xF, cpu=0):
        frame, offset, gich_cpu = self._at(addr)
        if frame is not None:
            self.write(frame, offset, value, strb, cpu, gich_cpu)

    # -- GICv3: whole system registers (the one-CPU model's, by requester) ----
    def read_sysreg(self, name, cpu=0, gich_cpu=None):
        reg = sysregs.lookup(name)
        if reg is None or self.v3 is None:
            raise ValueError(f"{name!r} is no system register of this interface")
        return sum(self.read(reg.frame, offset, cpu, gich_cpu) << shift
                   for offset, shift in reg.halves)

    def write_sysreg(self, name, value, cpu=0, gich_cpu=None):
        reg = sysregs.lookup(name)
        if reg is None or self.v3 is None:
            raise ValueError(f"{name!r} is no system register of this interface")
        for offset, shift in reg.halves:
            self.write(reg.frame, offset, value >> shift & 0xFFFF_FFFF, 0xF, cpu, gich_cpu)

    # -- lines ---------------------------------------------------------------
    def line(self, name, cpu):
        return getattr(self.cpus[cpu], name)

    def _mask(self, name):
        return sum(getattr(c, name) << n for n, c in enumerate(self.cpus))

    @property
    def virq(self):
        return self._mask("virq")

    @property
    def vfiq(self):
        return self._mask("vfiq")

    @property
    def maint(self):
        return self._mask("maint")

    @property
    def traps(self):
        """GICv3: every CPU's ICH_HCR_EL2 trap controls, CPU n's at [5n+4:5n]
        (the RTL Cluster's `traps` port)."""
        return sum(sysregs.traps_word(c.traps) << 5 * n for n, c in enumerate(self.cpus))


def _bad_cpu(n):
    return isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < regs.MAX_CPUS
