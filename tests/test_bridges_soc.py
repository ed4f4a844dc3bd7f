# Ref: rtl/soc.py; QEMU conformance traces (tests/data/qemu-7.2); golden model
"""The bus-wrapped top (rtl/soc.py: bridge + the real core) in the Amaranth
simulator, driven through each bus by the masters of test_bridges.py over the
QEMU conformance scenarios, and compared access by access with the golden
model: read values, response codes, virq/vfiq/maint_irq and the pulses on
deact_valid/deact_pintid. (The same top as Verilog, in Verilator and Icarus:
tests/cocotb.)"""
import pathlib
import random
import types

import pytest
from amaranth import ClockDomain, Module
from amaranth.sim import Simulator

from vgic.rtl import regs
from vgic.rtl.soc import BusVirtualInterface
from vgic.sim.model import VirtualInterface
from vgic.sim.trace import read_trace

from test_bridges import (Recorder, apb_requester, axi_manager, until_idle, wb_classic_master,
                          wb_pipelined_master, spec_outcome, SLVERR)

TRACES = pathlib.Path(__file__).resolve().parent / "data" / "qemu-7.2"


class SocRecorder(Recorder):
    """Also records the deactivation pulses."""

    def __init__(self, top):
        super().__init__(top.bridge.reg)
        self.top, self.deact = top, []

    async def tick(self, ctx, *sigs):
        valid, pintid, *vals = await super().tick(ctx, self.top.deact_valid,
                                                  self.top.deact_pintid, *sigs)
        if valid:
            self.deact.append(pintid)
        return vals


def trace_ops():
    ops = []
    for path in sorted(TRACES.glob("scenario_*.jsonl")):
        ops.append(("reset",))
        for t in read_trace(path):
            if t.op == "reset":
                ops.append(("reset",))
            elif not t.skipped:
                addr = regs.core_addr(t.frame, t.offset)
                ops.append(("w", addr, t.value, t.strb) if t.op == "write" else ("r", addr))
    return ops


async def one_access(ctx, bus, top, rec, port, op, rng):
    """Run one access over the bus; returns (read data or None, error flag)."""
    if bus == "axi4lite":
        writes = [op[1:]] if op[0] == "w" else []
        reads = [op[1]] if op[0] == "r" else []
        b, r = await axi_manager(ctx, port, rec, writes, reads, rng, p_valid=0.7, p_ready=0.6)
        return (None, b[0] == SLVERR) if b else (r[0][0], r[0][1] == SLVERR)
    if bus == "apb":
        master = apb_requester
    elif bus == "wishbone":
        master = wb_classic_master
    else:
        master = wb_pipelined_master
    ((data, err),) = await master(ctx, port, rec, [op], rng, p_idle=0.3)
    return (data if op[0] == "r" else None, bool(err))


@pytest.mark.parametrize("errors", ["ignore", "report"])
@pytest.mark.parametrize("bus", ["axi4lite", "apb", "wishbone", "wishbone-pipelined"])
def test_soc_conformance_scenarios_match_model(bus, errors):
    """Every conformance access through the bus gives the golden model's read
    value, response and output lines, and the same forwarded deactivations."""
    num_lrs = 4
    top = BusVirtualInterface(num_lrs=num_lrs, bus=bus, errors=errors)
    port = types.SimpleNamespace(**{n: getattr(top, top.prefix + n) for n in top.bus_members})
    rec = SocRecorder(top)
    model = VirtualInterface(num_lrs)
    ops = trace_ops()
    # A few accesses the traces do not make: unmapped, partial, beyond the LRs.
    ops += [("w", regs.lr(0).addr, 0x1A00002A, 0x7), ("r", 0x1000), ("r", regs.lr(num_lrs).addr),
            ("r", regs.lr(0).addr)]

    async def bench(ctx):
        rng = random.Random(5)
        for k, op in enumerate(ops):
            if op[0] == "reset":
                ctx.set(cd.rst, 1)
                await ctx.tick()
                ctx.set(cd.rst, 0)
                model.reset()
                rec.deact.clear()
                continue
            before = len(model.forwarded)
            rec.deact.clear()
            data, err = await one_access(ctx, bus, top, rec, port, op, rng)
            # the lines reflect the access in the cycle after one with ready =
            # settled = 1 (rtl/regbus.py), and its deactivation has been pulsed
            await until_idle(ctx, rec)
            await rec.tick(ctx)
            write = op[0] == "w"
            want_err = spec_outcome(op[1], write, op[3] if write else 0, num_lrs, errors)[1]
            assert err == want_err, f"access {k} {op}: error {err}, policy {want_err}"
            if write:
                model.write_addr(op[1], op[2], op[3])
            else:
                want = model.read_addr(op[1])
                assert data == want, f"access {k} {op}: read {data:#x}, model {want:#x}"
            lines = (ctx.get(top.virq), ctx.get(top.vfiq), ctx.get(top.maint_irq))
            assert lines == (model.virq, model.vfiq, model.maint), f"access {k} {op}: lines"
            assert rec.deact == model.forwarded[before:], f"access {k} {op}: deactivations"

    m = Module()
    m.domains.sync = cd = ClockDomain("sync")
    m.submodules.top = top
    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
