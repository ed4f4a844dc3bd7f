# Ref: rtl/soc.py and rtl/bridges/* (the ports), docs/verilog.md
"""Bus masters for the cocotb benches (vgic_bench.py, one CPU; vgic_cluster_bench.py,
several: the requester's CPU number on AWUSER/ARUSER, PAUSER, TGA).

Each has run(ops[, cpus]) -> [(read data or None, error flag)] for a group of
ops ("w", addr, value, strb) / ("r", addr), backpressure(p) and, where the
bus changes an op, effective(op): the op the core sees. They drive their
outputs right after a rising edge and sample the slave's at the falling edge
before the next one (where the handshakes are decided).
"""
import cocotb
from cocotb.triggers import FallingEdge, RisingEdge

from vgic.rtl import regs

WORD = (1 << regs.CORE_ADDR_BITS) - 1

__all__ = ["pauses", "AXI4LiteMaster", "AXI4LiteUserMaster", "APBMaster", "WishboneMaster"]


def pauses(rng, p):
    while True:
        yield rng.random() < p


class AXI4LiteMaster:
    """cocotbext-axi's AxiLiteMaster; a partial byte-enable pattern is sent as
    the contiguous run of lanes from its lowest to its highest set bit (the
    core treats every partial write alike: ignored), an unaligned access as a
    one-byte access at that address."""

    def __init__(self, dut, rng):
        from cocotbext.axi import AxiLiteBus, AxiLiteMaster
        self.dut, self.rng = dut, rng
        self.m = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)

    def backpressure(self, p):
        w, r = self.m.write_if, self.m.read_if
        for ch in (w.aw_channel, w.w_channel, w.b_channel, r.ar_channel, r.r_channel):
            if p:
                ch.set_pause_generator(pauses(self.rng, p))
            else:
                ch.clear_pause_generator()

    @staticmethod
    def shape(op):
        """(address, bytes) cocotbext sends, and the strobe it will put on WSTRB."""
        _, addr, value, strb = op
        data = value.to_bytes(4, "little")
        if addr % 4:
            return addr, data[addr % 4:addr % 4 + 1], 1 << (addr % 4)
        if strb == 0xF:
            return addr, data, 0xF
        lanes = [i for i in range(4) if strb >> i & 1] or [0]
        lo, hi = lanes[0], lanes[-1]
        return addr + lo, data[lo:hi + 1], ((1 << (hi - lo + 1)) - 1) << lo

    def effective(self, op):
        if op[0] == "w":
            return ("w", op[1], op[2], self.shape(op)[2])
        return op

    async def run(self, ops):
        if ops[0][0] == "w":
            tasks = [cocotb.start_soon(self.m.write(*self.shape(op)[:2])) for op in ops]
            return [(None, int((await t).resp) != 0) for t in tasks]
        tasks = [cocotb.start_soon(self.m.read(op[1], 1 if op[1] % 4 else 4)) for op in ops]
        out = []
        for op, t in zip(ops, tasks):
            resp = await t
            data = int.from_bytes(resp.data, "little") << (8 * (op[1] % 4))
            out.append((data, int(resp.resp) != 0))
        return out


class AXI4LiteUserMaster:
    """AXI4-Lite manager with AWUSER/ARUSER (cocotbext-axi's has no user
    signals), for a group of writes or of reads: AW and W run apart (VALID
    raised with probability 1 - p per idle cycle), B and R taken with
    probability 1 - p per cycle; several requests in flight. run(ops, cpus):
    each request's CPU number on its user signal."""

    def __init__(self, dut, rng, cpu_bits):
        self.dut, self.rng, self.p, self.cpu_bits = dut, rng, 0.0, cpu_bits
        self.user_width = len(dut.s_axil_awuser)
        for name in ("awvalid", "wvalid", "arvalid", "bready", "rready", "awaddr", "awprot",
                     "awuser", "wdata", "wstrb", "araddr", "arprot", "aruser"):
            getattr(dut, "s_axil_" + name).value = 0

    def backpressure(self, p):
        self.p = p

    def user(self, cpu):
        """The CPU number in the low bits, random bits above it if the port
        is wider (the generated one is exactly as wide as the number)."""
        cb = self.cpu_bits
        return cpu | self.rng.getrandbits(self.user_width) >> cb << cb

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
    """APB4 requester: setup phase, access phase until PREADY, random idle
    cycles between transfers when p_idle > 0. With `num_cpus`, each
    transfer's CPU number on PAUSER (APB5), a random one while idle."""

    def __init__(self, dut, rng, num_cpus=0):
        self.dut, self.rng, self.p_idle, self.num_cpus = dut, rng, 0.0, num_cpus
        for name in ("psel", "penable", "pwrite", "paddr", "pwdata", "pstrb", "pprot",
                     *(("pauser",) if num_cpus else ())):
            getattr(dut, "s_apb_" + name).value = 0

    def backpressure(self, p):
        self.p_idle = p

    effective = staticmethod(lambda op: op)

    async def run(self, ops, cpus=None):
        d, out = self.dut, []
        for op, cpu in zip(ops, cpus or [None] * len(ops)):
            while self.rng.random() < self.p_idle:
                d.s_apb_psel.value = 0
                d.s_apb_penable.value = 0
                if self.num_cpus:
                    d.s_apb_pauser.value = self.rng.randrange(self.num_cpus)   # not a transfer
                await RisingEdge(d.clk)
            write = op[0] == "w"
            d.s_apb_psel.value = 1
            d.s_apb_penable.value = 0
            d.s_apb_pwrite.value = int(write)
            d.s_apb_paddr.value = op[1]
            d.s_apb_pwdata.value = op[2] if write else 0
            d.s_apb_pstrb.value = op[3] if write else 0
            d.s_apb_pprot.value = self.rng.randrange(8)
            if cpu is not None:
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
    """Wishbone B4: classic (STB held until ACK/ERR) or pipelined (a burst,
    one request per cycle unless STALL or a random gap, CYC held until every
    response is in). ADR is the word address: unaligned ops are not expressible
    and are sent aligned (the caller passes the aligned op to the model). With
    `tagged`, run(ops, cpus) puts each request's CPU number on TGA."""

    def __init__(self, dut, rng, pipelined, tagged=False):
        self.dut, self.rng, self.pipelined, self.p_idle = dut, rng, pipelined, 0.0
        for name in ("cyc", "stb", "we", "adr", "dat_w", "sel", *(("tga",) if tagged else ())):
            getattr(dut, "s_wb_" + name).value = 0

    def backpressure(self, p):
        self.p_idle = p

    @staticmethod
    def effective(op):
        return (op[0], op[1] & ~3, *op[2:])

    def _present(self, op, cpu):
        d, write = self.dut, op[0] == "w"
        d.s_wb_stb.value = 1
        d.s_wb_we.value = int(write)
        d.s_wb_adr.value = (op[1] & WORD) >> 2
        if cpu is not None:
            d.s_wb_tga.value = cpu
        d.s_wb_dat_w.value = op[2] if write else 0
        d.s_wb_sel.value = op[3] if write else 0xF

    async def run(self, ops, cpus=None):
        d = self.dut
        cpus = cpus or [None] * len(ops)
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
