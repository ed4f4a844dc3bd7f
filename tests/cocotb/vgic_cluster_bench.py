# Ref: rtl/cluster.py (several CPUs), rtl/bridges/* (the requester's CPU number on
#      AWUSER/ARUSER, PAUSER, TGA), docs/verilog.md "Several CPUs";
#      golden model sim/model/cluster.py (the scoreboard).
"""cocotb bench for the Verilog of `vgic verilog --cpus N` (N > 1), run by
test_verilog_cluster.py.

Every access goes over the real bus port with the requester's CPU number on
the bus's user signal: AXI4-Lite (AWUSER with AW, ARUSER with AR), APB
(PAUSER), Wishbone (TGA), through the small masters below, with random back-pressure (AXI:
VALID gaps on AW/W/AR, READY gaps on B/R; APB/Wishbone: idle cycles). The
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


# -- bus masters: run(ops, cpus) -> [(read data or None, error flag)] ----------------
#
# Each drives its outputs right after a rising edge and samples the slave's at
# the falling edge before the next one (where the handshakes are decided).

class AXI4LiteMaster:
    """AXI4-Lite manager for a group of writes or of reads: AW and W run
    apart (VALID raised with probability p_valid per idle cycle), B and R
    taken with probability p_ready per cycle; several requests in flight."""

    def __init__(self, dut, rng):
        self.dut, self.rng, self.p = dut, rng, 0.0
        self.user_width = len(dut.s_axil_awuser)
        for name in ("awvalid", "wvalid", "arvalid", "bready", "rready", "awaddr", "awprot",
                     "awuser", "wdata", "wstrb", "araddr", "arprot", "aruser"):
            getattr(dut, "s_axil_" + name).value = 0

    def backpressure(self, p):
        self.p = p

    def user(self, cpu):
        """The CPU number in the low bits, random bits above it if the port
        is wider (the generated one is exactly as wide as the number)."""
        return cpu | self.rng.getrandbits(self.user_width) >> CB << CB

    async def run(self, ops, cpus):
        d, rng = self.dut, self.rng
        write = ops[0][0] == "w"
        n = len(ops)
        a_i = w_i = 0
        a_on = w_on = False
        out = []
        for _ in range(200 + 40 * n):
            if not a_on and a_i < n and rng.random() >= self.p:
                a_on = True
                if write:
                    d.s_axil_awaddr.value = ops[a_i][1]
                    d.s_axil_awprot.value = rng.randrange(8)
                    d.s_axil_awuser.value = self.user(cpus[a_i])
                else:
                    d.s_axil_araddr.value = ops[a_i][1]
                    d.s_axil_arprot.value = rng.randrange(8)
                    d.s_axil_aruser.value = self.user(cpus[a_i])
            if write and not w_on and w_i < n and rng.random() >= self.p:
                w_on = True
                d.s_axil_wdata.value = ops[w_i][2]
                d.s_axil_wstrb.value = ops[w_i][3]
            (d.s_axil_awvalid if write else d.s_axil_arvalid).value = int(a_on)
            d.s_axil_wvalid.value = int(w_on)
            ready = int(rng.random() >= self.p)
            (d.s_axil_bready if write else d.s_axil_rready).value = ready
            await FallingEdge(d.clk)
            a_ready = int((d.s_axil_awready if write else d.s_axil_arready).value)
            w_ready = int(d.s_axil_wready.value)
            valid = int((d.s_axil_bvalid if write else d.s_axil_rvalid).value)
            resp = int((d.s_axil_bresp if write else d.s_axil_rresp).value)
            data = None if write else int(d.s_axil_rdata.value)
            await RisingEdge(d.clk)
            if valid and ready:
                assert len(out) < (min(a_i, w_i) if write else a_i), \
                    "AXI: a response before its request's handshakes"
                assert resp in (0, 2), f"AXI: response {resp}"
                out.append((data, resp == 2))
            if a_on and a_ready:
                a_on, a_i = False, a_i + 1
            if w_on and w_ready:
                w_on, w_i = False, w_i + 1
            (d.s_axil_awvalid if write else d.s_axil_arvalid).value = int(a_on)
            d.s_axil_wvalid.value = int(w_on)
            if len(out) == n:
                break
        else:
            raise AssertionError(f"AXI: {len(out)} of {n} responses")
        d.s_axil_bready.value = 0
        d.s_axil_rready.value = 0
        return out


class APBMaster:
    """APB requester with PAUSER: setup phase, access phase until PREADY,
    random idle cycles between transfers."""

    def __init__(self, dut, rng):
        self.dut, self.rng, self.p_idle = dut, rng, 0.0
        for name in ("psel", "penable", "pwrite", "paddr", "pwdata", "pstrb", "pprot", "pauser"):
            getattr(dut, "s_apb_" + name).value = 0

    def backpressure(self, p):
        self.p_idle = p

    async def run(self, ops, cpus):
        d, out = self.dut, []
        for op, cpu in zip(ops, cpus):
            while self.rng.random() < self.p_idle:
                d.s_apb_psel.value = 0
                d.s_apb_penable.value = 0
                d.s_apb_pauser.value = self.rng.randrange(CPUS)     # not a transfer: ignored
                await RisingEdge(d.clk)
            write = op[0] == "w"
            d.s_apb_psel.value = 1
            d.s_apb_penable.value = 0
            d.s_apb_pwrite.value = int(write)
            d.s_apb_paddr.value = op[1]
            d.s_apb_pwdata.value = op[2] if write else 0
            d.s_apb_pstrb.value = op[3] if write else 0
            d.s_apb_pprot.value = self.rng.randrange(8)
            d.s_apb_pauser.value = cpu
            await RisingEdge(d.clk)
            d.s_apb_penable.value = 1
            for _ in range(100):
                await FallingEdge(d.clk)
                ready = int(d.s_apb_pready.value)
                result = (int(d.s_apb_prdata.value) if not write else None,
                          bool(int(d.s_apb_pslverr.value)))
                await RisingEdge(d.clk)
                if ready:
                    out.append(result)
                    break
            else:
                raise AssertionError("APB: PREADY low for 100 cycles")
        d.s_apb_psel.value = 0
        d.s_apb_penable.value = 0
        return out


class WishboneMaster:
    """Wishbone B4 with TGA: classic (STB held until ACK/ERR) or pipelined (a
    burst, one request per cycle unless STALL or a random gap)."""

    def __init__(self, dut, rng, pipelined):
        self.dut, self.rng, self.pipelined, self.p_idle = dut, rng, pipelined, 0.0
        for name in ("cyc", "stb", "we", "adr", "dat_w", "sel", "tga"):
            getattr(dut, "s_wb_" + name).value = 0

    def backpressure(self, p):
        self.p_idle = p

    def _present(self, op, cpu):
        d, write = self.dut, op[0] == "w"
        d.s_wb_stb.value = 1
        d.s_wb_we.value = int(write)
        d.s_wb_adr.value = (op[1] & WORD) >> 2
        d.s_wb_tga.value = cpu
        d.s_wb_dat_w.value = op[2] if write else 0
        d.s_wb_sel.value = op[3] if write else 0xF

    async def run(self, ops, cpus):
        d = self.dut
        out = []
        if not self.pipelined:
            for op, cpu in zip(ops, cpus):
                while self.rng.random() < self.p_idle:
                    d.s_wb_stb.value = 0
                    d.s_wb_cyc.value = self.rng.random() < 0.5
                    await RisingEdge(d.clk)
                d.s_wb_cyc.value = 1
                self._present(op, cpu)
                for _ in range(100):
                    await FallingEdge(d.clk)
                    ack, err = int(d.s_wb_ack.value), int(d.s_wb_err.value)
                    assert not (ack and err), "Wishbone: ACK and ERR together"
                    data = int(d.s_wb_dat_r.value)
                    await RisingEdge(d.clk)
                    if ack or err:
                        out.append((data if op[0] == "r" else None, bool(err)))
                        break
                else:
                    raise AssertionError("Wishbone: no ACK/ERR for 100 cycles")
                d.s_wb_stb.value = 0
            d.s_wb_cyc.value = 0
            return out
        i = 0
        d.s_wb_cyc.value = 1
        for _ in range(100 + 10 * len(ops)):
            on = i < len(ops) and self.rng.random() >= self.p_idle
            if on:
                self._present(ops[i], cpus[i])
            else:
                d.s_wb_stb.value = 0
            await FallingEdge(d.clk)
            stall, ack, err = int(d.s_wb_stall.value), int(d.s_wb_ack.value), int(d.s_wb_err.value)
            data = int(d.s_wb_dat_r.value)
            await RisingEdge(d.clk)
            assert not (ack and err), "Wishbone: ACK and ERR together"
            if ack or err:
                assert len(out) < i, "Wishbone: a response without a request"
                out.append((data if ops[len(out)][0] == "r" else None, bool(err)))
            if on and not stall:
                i += 1
            if len(out) == len(ops):
                break
        else:
            raise AssertionError("Wishbone: missing ACK/ERR")
        d.s_wb_stb.value = 0
        d.s_wb_cyc.value = 0
        return out


# -- the bench ------------------------------------------------------------------------

class Bench:
    def __init__(self, dut, seed):
        self.dut, self.rng = dut, random.Random(seed)
        self.model = Cluster(LRS, CPUS)
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
