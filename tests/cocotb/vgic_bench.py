# Ref: rtl/soc.py (ports), rtl/bridges/access.py (error policy), arch 1.4;
#      golden model sim/model (the scoreboard); conformance traces (tests/data/qemu-7.2).
"""cocotb bench for the Verilog from `vgic verilog`, run by test_verilog_sim.py.

Every access goes over the real bus port: AXI4-Lite through cocotbext-axi's
AxiLiteMaster, APB4 and Wishbone B4 (classic, pipelined) through the masters
of bus_masters.py. The golden model (vgic.sim.model.VirtualInterface) is the
scoreboard: each access is applied to it in the order the bus defines, and
every read value, every response code (OKAY/error, per the error policy), the
virq/vfiq/maint_irq levels and the deactivations on deact_valid/deact_pintid
are compared with it.

Accesses run in groups. AXI4-Lite: a group is a run of reads or a run of writes
issued together (AXI orders reads among reads and writes among writes only);
APB and Wishbone classic: one transfer after another; Wishbone pipelined: a
burst, one request per cycle. Idle cycles between groups are random; with
back-pressure on, AXI channels pause at random (VALID gaps on AW/W/AR, READY
gaps on B/R), APB/Wishbone masters insert random idle cycles.

Environment (set by the runner): VGIC_BUS, VGIC_LRS, VGIC_ERRORS, VGIC_SEED,
VGIC_RANDOM_OPS (length of each random run), VGIC_TRACES (conformance folder).
"""
import os
import pathlib
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge

from vgic.rtl import regs
from vgic.sim.model import VirtualInterface

from bus_masters import APBMaster, AXI4LiteMaster, WishboneMaster

BUS = os.environ.get("VGIC_BUS", "axi4lite")
LRS = int(os.environ.get("VGIC_LRS", "4"))
ERRORS = os.environ.get("VGIC_ERRORS", "ignore")
SEED = int(os.environ.get("VGIC_SEED", "1"))
RANDOM_OPS = int(os.environ.get("VGIC_RANDOM_OPS", "300"))
TRACES = os.environ.get("VGIC_TRACES", "")

WORD = (1 << regs.CORE_ADDR_BITS) - 1
SETTLE = 16              # cycles after a group before the lines are compared


def expected_error(addr, write, strb):
    """The error policy (rtl/bridges/access.py), from the register table."""
    if ERRORS == "ignore":
        return False
    addr &= WORD
    if addr % 4 or (write and strb != 0xF):
        return True
    frame, offset = regs.frame_of(addr)
    reg = regs.decode(frame, offset) if frame else None
    if reg is None or reg.access == "RES":
        return True
    return reg.frame == "GICH" and reg.name.startswith("LR") and int(reg.name[2:]) >= LRS


# -- the bench ----------------------------------------------------------------------

class Bench:
    def __init__(self, dut, seed):
        self.dut, self.rng = dut, random.Random(seed)
        self.model = VirtualInterface(LRS)
        self.deact = []
        self.count = 0
        dut.rst.value = 1
        if BUS == "axi4lite":
            self.master = AXI4LiteMaster(dut, self.rng)
        elif BUS == "apb":
            self.master = APBMaster(dut, self.rng)
        else:
            self.master = WishboneMaster(dut, self.rng, BUS == "wishbone-pipelined")
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        cocotb.start_soon(self._watch_deact())

    async def _watch_deact(self):
        """deact_valid is a one-cycle pulse per forwarded deactivation."""
        while True:
            await FallingEdge(self.dut.clk)
            if int(self.dut.deact_valid.value):
                self.deact.append(int(self.dut.deact_pintid.value))

    async def reset(self):
        # docs/verilog.md "Reset": the documented minimum, one rising edge
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 1)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        self.model.reset()
        self.deact.clear()
        self.check_lines("after reset")

    def check_lines(self, where):
        got = (int(self.dut.virq.value), int(self.dut.vfiq.value), int(self.dut.maint_irq.value))
        want = (int(self.model.virq), int(self.model.vfiq), int(self.model.maint))
        assert got == want, f"{where}: (virq, vfiq, maint_irq) = {got}, golden model {want}"

    async def group(self, ops, label):
        """Run ops (all of one direction on AXI) and check them on the model."""
        ops = [self.master.effective(op) for op in ops]
        before = len(self.model.forwarded)
        self.deact.clear()
        got = await self.master.run(ops)
        for k, (op, (data, err)) in enumerate(zip(ops, got)):
            where = f"{label}, access {self.count + k}: {describe(op)}"
            want_err = expected_error(op[1], op[0] == "w", op[3] if op[0] == "w" else 0xF)
            if op[0] == "w":
                self.model.write_addr(op[1] & WORD, op[2], op[3])
            else:
                want = self.model.read_addr(op[1] & WORD)
                assert data == want, f"{where}: read {data:#010x}, golden model {want:#010x}"
            assert err == want_err, f"{where}: error response {err}, policy says {want_err}"
        self.count += len(ops)
        # The core may update the lines a few cycles after the last response
        # (its hold-off after a transaction, rtl/regbus.py): let it settle.
        await ClockCycles(self.dut.clk, SETTLE)
        await FallingEdge(self.dut.clk)
        self.check_lines(f"{label}, after access {self.count - 1}")
        want = self.model.forwarded[before:]
        assert self.deact == want, f"{label}, up to access {self.count - 1}: deactivations " \
                                   f"{self.deact}, golden model {want}"
        await RisingEdge(self.dut.clk)         # the masters start right after an edge

    async def run(self, ops, label, max_group=6):
        """Split ops into groups (same direction on AXI; resets alone), with
        random idle cycles between groups."""
        i = 0
        while i < len(ops):
            if ops[i][0] == "reset":
                await self.reset()
                i += 1
                continue
            n = self.rng.randint(1, max_group)
            j = i + 1
            while j < len(ops) and j - i < n and ops[j][0] != "reset" and \
                    (BUS != "axi4lite" or ops[j][0] == ops[i][0]):
                j += 1
            await self.group(ops[i:j], label)
            i = j
            if self.rng.random() < 0.3:
                await ClockCycles(self.dut.clk, self.rng.randint(1, 4))


def describe(op):
    frame, offset = regs.frame_of(op[1] & WORD)
    reg = regs.decode(frame, offset) if frame else None
    name = reg.full_name if reg else f"{op[1]:#06x}"
    if op[0] == "w":
        return f"write {name} = {op[2]:#010x} strb {op[3]:#x}"
    return f"read {name}"


def txn_ops(txns):
    """vgic.sim.stimulus / trace transactions -> bench ops (core byte addresses)."""
    out = []
    for t in txns:
        if t.op == "reset":
            out.append(("reset",))
            continue
        if getattr(t, "skipped", False):
            continue
        addr = t.offset if t.frame == "CORE" else regs.core_addr(t.frame, t.offset)
        out.append(("w", addr, t.value, t.strb) if t.op == "write" else ("r", addr))
    return out


# -- tests ----------------------------------------------------------------------------

@cocotb.test()
async def conformance_traces(dut):
    """The QEMU conformance scenarios (a-f) over the bus, against the model."""
    from vgic.sim.trace import read_trace
    bench = Bench(dut, SEED)
    await bench.reset()
    files = sorted(pathlib.Path(TRACES).glob("scenario_*.jsonl")) if TRACES else []
    assert files, f"no conformance traces found (VGIC_TRACES={TRACES!r})"
    for path in files:
        await bench.reset()
        await bench.run(txn_ops(read_trace(path)), path.name)


@cocotb.test()
async def random_full_speed(dut):
    """Random hypervisor/guest/noise sequences (vgic.sim.stimulus), no pauses."""
    from vgic.sim.stimulus import generate
    bench = Bench(dut, SEED + 1)
    await bench.reset()
    await bench.run(txn_ops(generate(SEED, LRS, RANDOM_OPS, "mixed")), "random")


@cocotb.test()
async def random_backpressure(dut):
    """The same with random pauses on every channel / idle cycles."""
    from vgic.sim.stimulus import generate
    bench = Bench(dut, SEED + 2)
    bench.master.backpressure(0.4)
    await bench.reset()
    await bench.run(txn_ops(generate(SEED + 100, LRS, RANDOM_OPS, "mixed")), "random+pauses")


@cocotb.test()
async def bus_errors_and_side_effects(dut):
    """Unaligned, partial and unmapped accesses answer per the error policy
    and change nothing; an IAR read under back-pressure acknowledges once."""
    bench = Bench(dut, SEED + 3)
    await bench.reset()
    lr0, lr = regs.lr(0).addr, regs.lr(LRS - 1).addr
    pending = (1 << 28) | (0x10 << 23) | 42               # LR: pending, priority 0x80, vID 42
    setup = [("w", regs.GICH_HCR.addr, 1, 0xF), ("w", regs.GICV_CTLR.addr, 1, 0xF),
             ("w", regs.GICV_PMR.addr, 0xF8, 0xF), ("w", lr, pending, 0xF)]
    await bench.run(setup, "setup", max_group=1)
    probes = [("w", lr0, 0xFFFFFFFF, 0x3), ("w", lr0, 0xFFFFFFFF, 0x0), ("w", lr0 + 2, 0xFFFF, 0xF),
              ("w", 0x1000, 1, 0xF), ("w", regs.GICH_VTR.addr, 0, 0xF),
              ("w", regs.RESERVED_NAMES[0].addr, 1, 0xF),
              ("r", regs.GICV_IAR.addr + 1), ("r", 0x1004), ("r", regs.GICV_EOIR.addr),
              ("r", regs.lr(LRS).addr if LRS < regs.MAX_LRS else 0x0200),
              ("r", lr0), ("r", lr), ("r", regs.GICH_ELRSR0.addr)]
    for op in probes:
        await bench.run([op], "error policy", max_group=1)
    bench.master.backpressure(0.7)
    await bench.run([("r", regs.GICV_IAR.addr), ("r", regs.GICV_IAR.addr), ("r", lr),
                     ("r", regs.GICH_APR.addr)], "IAR once")
    await bench.run([("w", regs.GICV_EOIR.addr, 42, 0xF)], "EOIR")
    await bench.run([("r", lr), ("r", regs.GICV_RPR.addr)], "after EOIR")
