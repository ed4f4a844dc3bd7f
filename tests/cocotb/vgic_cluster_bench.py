# Ref: rtl/cluster.py (several CPUs), rtl/bridges/* (the requester's CPU number on
#      AWUSER/ARUSER, PAUSER, TGA), docs/verilog.md "Several CPUs";
#      golden model sim/model/cluster.py (the scoreboard).
"""cocotb bench for the Verilog of `vgic verilog --cpus N` (N > 1), run by
test_verilog_cluster.py.

Every access goes over the real bus port with the requester's CPU number on
the bus's user signal: AXI4-Lite (AWUSER with AW, ARUSER with AR), APB
(PAUSER), Wishbone (TGA), through the masters of bus_masters.py, with random
back-pressure (AXI: VALID gaps on AW/W/AR, READY gaps on B/R; APB/Wishbone: idle cycles). The
golden model (vgic.sim.model.Cluster) is the scoreboard: each access is
applied to it in the order the bus defines, and every read value, every
response code (per the error policy, views included), the virq/vfiq/maint_irq
vectors and the deactivations (deact_pintid with deact_cpu, in order) are
compared with it.

Environment (set by the runner): VGIC_BUS, VGIC_LRS, VGIC_CPUS, VGIC_ERRORS,
VGIC_SEED, VGIC_RANDOM_OPS (length of the random run).
"""
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge

from vgic.rtl import regs
from vgic.rtl.regbus import cpu_bits
from vgic.sim.model import Cluster

from bus_masters import APBMaster, AXI4LiteUserMaster, WishboneMaster

BUS = os.environ.get("VGIC_BUS", "axi4lite")
LRS = int(os.environ.get("VGIC_LRS", "4"))
CPUS = int(os.environ.get("VGIC_CPUS", "2"))
ERRORS = os.environ.get("VGIC_ERRORS", "ignore")
SEED = int(os.environ.get("VGIC_SEED", "1"))
RANDOM_OPS = int(os.environ.get("VGIC_RANDOM_OPS", "300"))

WORD = (1 << regs.CORE_ADDR_BITS) - 1
SETTLE = 16              # cycles after a group before the lines are compared
CB = cpu_bits(CPUS)


def expected_error(addr, write, strb, cpu):
    """The error policy (rtl/bridges/access.py) for several CPUs, from the
    register table: the views of CPUs below CPUS hold GICH, a requester
    numbered CPUS or above has no GICH/GICV of its own."""
    if ERRORS == "ignore":
        return False
    addr &= WORD
    if addr % 4 or (write and strb != 0xF):
        return True
    view = regs.alias_of(addr)
    if view is not None:
        frame, offset = ("GICH", view[1]) if view[0] < CPUS else (None, addr)
    else:
        frame, offset = regs.frame_of(addr) if cpu < CPUS else (None, addr)
    reg = regs.decode(frame, offset) if frame else None
    if reg is None or reg.access == "RES":
        return True
    return reg.frame == "GICH" and reg.name.startswith("LR") and int(reg.name[2:]) >= LRS


def describe(op, cpu):
    addr = op[1] & WORD
    view = regs.alias_of(addr)
    if view is not None:
        reg = regs.decode("GICH", view[1])
        name = f"CPU {view[0]}'s {reg.full_name if reg else hex(view[1])} (view)"
    else:
        frame, offset = regs.frame_of(addr)
        reg = regs.decode(frame, offset) if frame else None
        name = reg.full_name if reg else f"{addr:#06x}"
    if op[0] == "w":
        return f"CPU {cpu}: write {name} = {op[2]:#010x} strb {op[3]:#x}"
    return f"CPU {cpu}: read {name}"


# -- the bench ------------------------------------------------------------------------

class Bench:
    def __init__(self, dut, seed):
        self.dut, self.rng = dut, random.Random(seed)
        self.model = Cluster(LRS, CPUS)
        self.deact = []
        self.count = 0
        dut.rst.value = 1
        if BUS == "axi4lite":
            self.master = AXI4LiteUserMaster(dut, self.rng, CB)
        elif BUS == "apb":
            self.master = APBMaster(dut, self.rng, CPUS)
        else:
            self.master = WishboneMaster(dut, self.rng, BUS == "wishbone-pipelined", tagged=True)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        cocotb.start_soon(self._watch_deact())

    async def _watch_deact(self):
        """deact_valid: one-cycle pulses, each with its deact_pintid and deact_cpu."""
        while True:
            await FallingEdge(self.dut.clk)
            if int(self.dut.deact_valid.value):
                self.deact.append((int(self.dut.deact_pintid.value),
                                   int(self.dut.deact_cpu.value)))

    async def reset(self):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 1)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        self.model.reset()
        self.deact.clear()
        self.check_lines("after reset")

    def check_lines(self, where):
        got = (int(self.dut.virq.value), int(self.dut.vfiq.value), int(self.dut.maint_irq.value))
        want = (self.model.virq, self.model.vfiq, self.model.maint)
        assert got == want, f"{where}: (virq, vfiq, maint_irq) = {got}, golden model {want}"

    async def group(self, ops, label):
        """ops: [(op, cpu)] (all of one direction on AXI); checked on the model."""
        if BUS.startswith("wishbone"):                 # ADR is a word address
            ops = [((op[0], op[1] & ~3, *op[2:]), cpu) for op, cpu in ops]
        self.deact.clear()
        got = await self.master.run([op for op, _ in ops], [cpu for _, cpu in ops])
        forwarded = []
        for k, ((op, cpu), (data, err)) in enumerate(zip(ops, got)):
            where = f"{label}, access {self.count + k}: {describe(op, cpu)}"
            strb = op[3] if op[0] == "w" else 0xF
            want_err = expected_error(op[1], op[0] == "w", strb, cpu)
            before = len(self.model.forwarded)
            if op[0] == "w":
                self.model.write_addr(op[1] & WORD, op[2], op[3], cpu=cpu)
            else:
                want = self.model.read_addr(op[1] & WORD, cpu=cpu)
                assert data == want, f"{where}: read {data:#010x}, golden model {want:#010x}"
            forwarded += zip(self.model.forwarded[before:], self.model.forwarded_cpu[before:])
            assert err == want_err, f"{where}: error response {err}, policy says {want_err}"
        self.count += len(ops)
        await ClockCycles(self.dut.clk, SETTLE)
        await FallingEdge(self.dut.clk)
        self.check_lines(f"{label}, after access {self.count - 1}")
        assert self.deact == forwarded, f"{label}, up to access {self.count - 1}: " \
                                        f"deactivations {self.deact}, golden model {forwarded}"
        await RisingEdge(self.dut.clk)
        return [data for data, _ in got]

    async def run(self, ops, label, max_group=6):
        """ops: [(op, cpu)], split into groups (one direction on AXI), with
        random idle cycles between groups."""
        i = 0
        while i < len(ops):
            n = self.rng.randint(1, max_group)
            j = i + 1
            while j < len(ops) and j - i < n and (BUS != "axi4lite" or ops[j][0][0] == ops[i][0][0]):
                j += 1
            await self.group(ops[i:j], label)
            i = j
            if self.rng.random() < 0.3:
                await ClockCycles(self.dut.clk, self.rng.randint(1, 4))


def lr_value(vid, prio, state=0b01, hw_pintid=None, group1=False):
    value = (state << 28) | (prio >> 3 << 23) | vid | (group1 << 30)
    return value if hw_pintid is None else value | (1 << 31) | (hw_pintid << 10)


def gich(offset, rng, cpu):
    """A GICH offset, in the requester's own frame or (a third of the time)
    through some CPU's processor-specific view (one beyond the last
    sometimes)."""
    if rng.random() < 0.33:
        return regs.alias_addr(rng.randrange(min(CPUS + 1, regs.MAX_CPUS)), offset)
    return regs.core_addr("GICH", offset)


def random_ops(rng, n):
    """Hypervisors and guests of every CPU interleaved: LR writes (pending,
    active, HW with a physical INTID), GICH_HCR/VMCR and GICV control writes,
    acknowledges, EOIs and deactivations, reads of every register, through
    the own frames and the views; a few unaligned, partial and unmapped
    accesses. vINTIDs are few, so that EOIs find their LRs."""
    ops = []
    for _ in range(n):
        cpu = rng.randrange(2 ** CB)
        x = rng.random()
        if x < 0.25:
            vid = rng.randrange(32, 40)
            hw = rng.randrange(100, 104) if rng.random() < 0.5 else None
            state = rng.choice((1, 1, 1, 2) if hw else (1, 1, 1, 2, 3))   # HW: not both
            value = lr_value(vid, rng.choice((0x40, 0x80, 0xA0)), state, hw, rng.random() < 0.3)
            op = ("w", gich(regs.lr(rng.randrange(LRS)).offset, rng, cpu), value, 0xF)
        elif x < 0.32:
            op = ("w", gich(regs.GICH_HCR.offset, rng, cpu), 1 | rng.getrandbits(8) & 0xFE, 0xF)
        elif x < 0.36:
            op = ("w", gich(regs.GICH_VMCR.offset, rng, cpu),
                  0x1F << 27 | rng.choice((1, 3, 0x201, 0x0B)), 0xF)
        elif x < 0.42:
            reg, value = rng.choice([(regs.GICV_CTLR, rng.choice((1, 3, 0x201, 0x0B))),
                                     (regs.GICV_PMR, 0xF8), (regs.GICV_BPR, rng.randrange(8))])
            op = ("w", reg.addr, value, 0xF)
        elif x < 0.55:
            op = ("r", rng.choice((regs.GICV_IAR, regs.GICV_IAR, regs.GICV_AIAR)).addr)
        elif x < 0.66:
            reg = rng.choice((regs.GICV_EOIR, regs.GICV_EOIR, regs.GICV_AEOIR, regs.GICV_DIR))
            op = ("w", reg.addr, rng.randrange(32, 40), 0xF)
        elif x < 0.94:
            reg = rng.choice([r for r in regs.GICH + regs.GICV if r.access in ("RO", "RW")
                              and not (r.name.startswith("LR") and int(r.name[2:]) >= LRS + 1)])
            addr = gich(reg.offset, rng, cpu) if reg.frame == "GICH" else reg.addr
            op = ("r", addr)
        else:
            addr = rng.choice((regs.lr(0).addr + 2, 0x1FFC, 0x0200, regs.GICV_CTLR.addr + 1,
                               regs.alias_addr(0, 0x40)))
            op = ("w", addr, rng.getrandbits(32), rng.choice((0xF, 0x3))) if rng.random() < 0.5 \
                else ("r", addr)
        ops.append((op, cpu))
    return ops


# -- tests ------------------------------------------------------------------------------

@cocotb.test()
async def iar_acknowledges_requesters_lr(dut):
    """Each CPU's GICH programmed through its own number (LR0 pending, HW = 1)
    and through CPU 0's use of the views (LR1; then that CPU's GICH_MISR, a
    derived read); a GICV_IAR read by CPU 1 acknowledges CPU 1's LR0, never
    CPU 0's (read back by both and through the views); an EOIR by CPU 1
    deactivates CPU 1's physical INTID with deact_cpu = 1. Back-pressure on."""
    bench = Bench(dut, SEED)
    bench.master.backpressure(0.4)
    await bench.reset()
    lr0, lr1 = regs.lr(0), regs.lr(1 if LRS > 1 else 0)
    setup = []
    for c in range(CPUS):
        setup += [(("w", regs.GICH_HCR.addr, 0x11, 0xF), c), (("w", regs.GICV_CTLR.addr, 1, 0xF), c),
                  (("w", regs.GICV_PMR.addr, 0xF8, 0xF), c),
                  (("w", lr0.addr, lr_value(40 + c, 0x80, hw_pintid=100 + c), 0xF), c)]
    await bench.run(setup, "setup")
    for c in range(CPUS):
        if LRS > 1:
            await bench.run([(("w", regs.alias_addr(c, lr1.offset), lr_value(60 + c, 0xA0), 0xF), 0)],
                            "views")
        await bench.run([(("w", regs.alias_addr(c, regs.GICH_VMCR.offset), 0x1F << 27 | 1, 0xF), 0)],
                        "views")
        await bench.run([(("r", regs.alias_addr(c, regs.GICH_MISR.offset)), 0)], "views")
    assert bench.model.virq == (1 << CPUS) - 1
    (iar,) = await bench.group([(("r", regs.GICV_IAR.addr), 1)], "IAR by CPU 1")
    assert iar == 41, f"GICV_IAR read by CPU 1 returned {iar}, not CPU 1's vINTID 41"
    got = await bench.group([(("r", lr0.addr), 0), (("r", lr0.addr), 1),
                             (("r", regs.alias_addr(0, lr0.offset)), 1),
                             (("r", regs.alias_addr(1, lr0.offset)), 0)], "LR0s")
    assert [v >> 28 & 3 for v in got] == [0b01, 0b10, 0b01, 0b10], \
        "CPU 0's LR0 must stay pending, CPU 1's be active"
    assert bench.model.virq == ((1 << CPUS) - 1) & ~0b10
    await bench.group([(("w", regs.GICV_EOIR.addr, 41, 0xF), 1)], "EOIR by CPU 1")
    assert bench.model.forwarded == [101] and bench.model.forwarded_cpu == [1]


@cocotb.test()
async def random_backpressure(dut):
    """Random hypervisor/guest traffic of every CPU, with back-pressure."""
    bench = Bench(dut, SEED + 2)
    bench.master.backpressure(0.4)
    await bench.reset()
    await bench.run(random_ops(bench.rng, RANDOM_OPS), "random+pauses")
