# Ref: IHI0048B 1.3 and 5.1 (GICH/GICV banked per CPU interface); GIC-400 TRM,
#      memory map (GICH of the requester at 0x4000, of CPU n at 0x5000 + 0x200 n)
"""Cluster: the virtual interfaces of `num_cpus` CPUs (2..8) behind one
register bus, as GIC-400 has them. Twin of sim/model/cluster.py.

Each CPU has a whole VirtualInterface (rtl/top.py): its GICH and GICV state,
LR bank, maintenance logic and lines. The bus carries the requester's number
(`bus.cpu`), and each request goes to one CPU interface:

    GICH 0x0000-0x0FFF, GICV 0x2000-0x3FFF   the requesting CPU's
    0x1000 + 0x200 * n (regs.ALIAS_BASE)     CPU n's GICH, whoever asks (the
                                             processor-specific views)
    a CPU at or above num_cpus               none: RAZ/WI, answered here

`ready` and `settled` are those of the CPU interface the presented `cpu` and
`addr` select (a multiplexer, no register): one CPU's settling never stalls
another's requests. Each interface keeps the timing of rtl/timing.py.

Deactivations (HW = 1 LRs) leave on one port, `deact_valid`/`deact_pintid`
with `deact_cpu`: every EOIR/AEOIR/DIR pulses a fixed number of cycles after
the bus took it (rtl/timing.py), the same for every CPU, and the bus takes one
request per cycle, so pulses never collide and come in the order the bus took
the requests that caused them, across all CPUs.
"""
import operator
from functools import reduce

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import regs
from .regbus import RegBusSignature, LATENCY, cpu_bits
from .top import VirtualInterface

__all__ = ["Cluster", "build"]


def build(num_lrs=4, num_cpus=1, iidr=regs.IIDR_DEFAULT, arch="v2", **v3):
    """The core for `num_cpus` CPUs: a VirtualInterface for one (its map and
    cost those of a single CPU interface), a Cluster for more; `arch` and
    the GICv3 parameters as VirtualInterface's."""
    if regs.check_num_cpus(num_cpus) == 1:
        return VirtualInterface(num_lrs, iidr, arch, **v3)
    return Cluster(num_cpus, num_lrs, iidr, arch, **v3)


class Cluster(wiring.Component):
    """`num_cpus` VirtualInterfaces of `num_lrs` LRs each, one bus. The lines
    are vectors, bit n for CPU n. GICv3 (`arch="v3"`, rtl/sysregs.py): the
    same banking of the memory-mapped layout (ICH is the hypervisor's frame,
    its views at the same addresses; v3 1.5), `traps` CPU n's at [5n+4:5n]."""

    def __init__(self, num_cpus=2, num_lrs=4, iidr=regs.IIDR_DEFAULT, arch="v2", **v3):
        try:
            if regs.check_num_cpus(num_cpus) < 2:
                raise ValueError("a Cluster has 2 to 8 CPUs; for one, use VirtualInterface "
                                 "(or cluster.build)")
            self.cpus = [VirtualInterface(num_lrs, iidr, arch, **v3) for _ in range(num_cpus)]
        except ValueError:
            self._MustUse__silence = True    # never built: no "never used" warning
            raise
        self.num_cpus, self.num_lrs, self.iidr = num_cpus, num_lrs, iidr
        self.arch, self.v3 = arch, self.cpus[0].v3
        self.timing = self.cpus[0].timing
        cb = cpu_bits(num_cpus)
        super().__init__({
            "bus":          In(RegBusSignature(cb)),
            "virq":         Out(num_cpus),
            "vfiq":         Out(num_cpus),
            "maint_irq":    Out(num_cpus),
            "deact_valid":  Out(1),      # 1-cycle pulse: deactivate deact_pintid ...
            "deact_pintid": Out(len(self.cpus[0].deact_pintid)),
            "deact_cpu":    Out(cb),     # ... for the CPU interface deact_cpu
            **({} if self.v3 is None else {"traps": Out(len(self.cpus[0].traps) * num_cpus)}),
        })

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        for n, cpu in enumerate(self.cpus):
            m.submodules[f"cpu{n}"] = cpu

        # -- which CPU interface a request goes to
        word = bus.addr
        alias = word[10:12] == regs.ALIAS_BASE >> 12      # words 0x400-0x7FF
        target = Signal(3)
        m.d.comb += target.eq(Mux(alias, word[7:10], bus.cpu))
        gich_word = word[:7]                              # regs.ALIAS_STRIDE = 0x80 words
        assert regs.ALIAS_STRIDE == 0x80 << 2 and regs.ALIAS_BASE == 0x400 << 2
        hit = [target == n for n in range(self.num_cpus)]
        nowhere = target >= self.num_cpus     # RAZ/WI (never, with 8 CPUs)

        for n, cpu in enumerate(self.cpus):
            m.d.comb += [
                cpu.bus.addr.eq(Mux(alias, gich_word, word)),
                cpu.bus.w_data.eq(bus.w_data), cpu.bus.w_strb.eq(bus.w_strb),
                cpu.bus.r_stb.eq(bus.r_stb & hit[n]), cpu.bus.w_stb.eq(bus.w_stb & hit[n]),
            ]
        m.d.comb += [
            bus.ready.eq(Mux(nowhere, 1, Cat(c.bus.ready for c in self.cpus).bit_select(target, 1))),
            bus.settled.eq(Mux(nowhere, 1,
                               Cat(c.bus.settled for c in self.cpus).bit_select(target, 1))),
        ]

        # -- responses: one request per cycle, each answered LATENCY cycles
        #    later, so at most one interface acknowledges in a cycle; a request
        #    to no interface is acknowledged here with 0
        void = Signal(LATENCY)
        m.d.sync += void.eq(Cat((bus.r_stb | bus.w_stb) & nowhere, void[:-1]))
        m.d.comb += [
            bus.ack.eq(void[-1] | Cat(c.bus.ack for c in self.cpus).any()),
            bus.r_data.eq(reduce(operator.or_, (Mux(c.bus.ack, c.bus.r_data, 0)
                                                for c in self.cpus))),
        ]

        # -- lines and deactivations
        m.d.comb += [
            self.virq.eq(Cat(c.virq for c in self.cpus)),
            self.vfiq.eq(Cat(c.vfiq for c in self.cpus)),
            self.maint_irq.eq(Cat(c.maint_irq for c in self.cpus)),
            self.deact_valid.eq(Cat(c.deact_valid for c in self.cpus).any()),
            self.deact_pintid.eq(reduce(operator.or_, (Mux(c.deact_valid, c.deact_pintid, 0)
                                                       for c in self.cpus))),
            self.deact_cpu.eq(reduce(operator.or_, (Mux(c.deact_valid, n, 0)
                                                    for n, c in enumerate(self.cpus)))),
        ]
        if self.v3 is not None:
            m.d.comb += self.traps.eq(Cat(c.traps for c in self.cpus))
        return m
