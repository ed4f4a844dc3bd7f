# Ref: AMBA AXI4-Lite (ARM IHI0022, ch. B1); rtl/regbus.py; access policy in access.py
"""AXI4-Lite subordinate to the core's register bus.

- AW, W and AR each have a one-entry skid buffer: AWREADY/WREADY/ARREADY are
  registers (high while the buffer is empty), so AW and W may arrive in either
  order or together, and no READY depends combinationally on any input.
- A write is issued to the core in the cycle both its address and its data are
  available (from the buffer or straight from the bus) and the B slot is free or
  being emptied; BVALID follows one cycle later. A read likewise: RVALID one cycle
  after it is issued, RDATA straight from the core's registered r_data, held in a
  register while RREADY is low. With READY/VALID held high and the core ready this
  gives one transaction per clock and a latency of one cycle, reads and writes
  alternating when both are waiting.
- Every issued request gets exactly one response, and a request reaches the core
  exactly once (an IAR read under R back-pressure is not repeated).
- When the register bus has a ``ready`` hold-off (rtl/regbus.py), nothing is issued
  while it is low; requests wait in the skid buffers.
- BRESP/RRESP: OKAY, or SLVERR for the accesses access.py rejects when
  errors="report". AWPROT/ARPROT are accepted and ignored.
- The address is a byte address; its low CORE_ADDR_BITS bits select the register
  (rtl/regs.py), higher bits (addr_width > 14) are ignored.
"""
from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .. import regs
from ..regbus import RegBusSignature
from .access import AccessCheck, check_errors, core_ready

__all__ = ["AXI4LiteSignature", "AXI4LiteBridge", "OKAY", "SLVERR"]

OKAY, SLVERR = 0b00, 0b10


def check_addr_width(addr_width):
    if isinstance(addr_width, bool) or not isinstance(addr_width, int) or \
            not regs.CORE_ADDR_BITS <= addr_width <= 64:
        raise ValueError(f"addr_width must be an integer from {regs.CORE_ADDR_BITS} to 64 "
                         f"(the core decodes the low {regs.CORE_ADDR_BITS} bits), got {addr_width!r}")
    return addr_width


class AXI4LiteSignature(wiring.Signature):
    """AXI4-Lite, 32-bit data, directions as seen from the manager."""

    def __init__(self, addr_width=regs.CORE_ADDR_BITS):
        self.addr_width = check_addr_width(addr_width)
        super().__init__({
            "awaddr":  Out(addr_width), "awprot": Out(3), "awvalid": Out(1), "awready": In(1),
            "wdata":   Out(32), "wstrb": Out(4), "wvalid": Out(1), "wready": In(1),
            "bresp":   In(2), "bvalid": In(1), "bready": Out(1),
            "araddr":  Out(addr_width), "arprot": Out(3), "arvalid": Out(1), "arready": In(1),
            "rdata":   In(32), "rresp": In(2), "rvalid": In(1), "rready": Out(1),
        })


class AXI4LiteBridge(wiring.Component):
    """AXI4-Lite subordinate (``axi``) driving the core register bus (``reg``)."""

    def __init__(self, num_lrs=4, errors="ignore", addr_width=regs.CORE_ADDR_BITS):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.errors = check_errors(errors)
        super().__init__({
            "axi": In(AXI4LiteSignature(addr_width)),
            "reg": Out(RegBusSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        axi, reg = self.axi, self.reg
        m.submodules.wcheck = wcheck = AccessCheck(self.num_lrs, self.errors)
        m.submodules.rcheck = rcheck = AccessCheck(self.num_lrs, self.errors)

        # Skid buffers: READY = buffer empty. A request is "available" from the
        # buffer, or from the bus while the buffer is empty.
        aw_full, aw_addr = Signal(), Signal(regs.CORE_ADDR_BITS)
        w_full, w_data, w_strb = Signal(), Signal(32), Signal(4)
        ar_full, ar_addr = Signal(), Signal(regs.CORE_ADDR_BITS)
        m.d.comb += [
            axi.awready.eq(~aw_full),
            axi.wready.eq(~w_full),
            axi.arready.eq(~ar_full),
        ]
        aw_have = aw_full | axi.awvalid
        w_have = w_full | axi.wvalid
        ar_have = ar_full | axi.arvalid
        cur_aw = Mux(aw_full, aw_addr, axi.awaddr[:regs.CORE_ADDR_BITS])
        cur_wdata = Mux(w_full, w_data, axi.wdata)
        cur_wstrb = Mux(w_full, w_strb, axi.wstrb)
        cur_ar = Mux(ar_full, ar_addr, axi.araddr[:regs.CORE_ADDR_BITS])

        # Response slots. r_core: RDATA comes from the core's r_data this cycle.
        r_core, r_hold = Signal(), Signal(32)
        b_free = ~axi.bvalid | axi.bready
        r_free = ~axi.rvalid | axi.rready
        m.d.comb += axi.rdata.eq(Mux(r_core, reg.r_data, r_hold))

        # Issue: one request per cycle while the core is ready; when both
        # directions wait, the one not served last time goes first.
        ready = core_ready(reg)
        want_w = aw_have & w_have & b_free & ready
        want_r = ar_have & r_free & ready
        write_first = Signal()
        do_w = want_w & (~want_r | write_first)
        do_r = want_r & ~do_w

        m.d.comb += [
            wcheck.addr.eq(cur_aw), wcheck.write.eq(1), wcheck.strb.eq(cur_wstrb),
            rcheck.addr.eq(cur_ar), rcheck.write.eq(0),
            reg.addr.eq(Mux(do_w, cur_aw[2:], cur_ar[2:])),
            reg.w_data.eq(cur_wdata),
            reg.w_strb.eq(cur_wstrb),
            reg.w_stb.eq(do_w & wcheck.forward),
            reg.r_stb.eq(do_r & rcheck.forward),
        ]
        with m.If(do_w):
            m.d.sync += write_first.eq(0)
        with m.Elif(do_r):
            m.d.sync += write_first.eq(1)

        # Skid buffer updates: fill on a handshake not issued at once, empty on issue.
        with m.If(do_w):
            m.d.sync += [aw_full.eq(0), w_full.eq(0)]
        with m.Else():
            with m.If(axi.awvalid & ~aw_full):
                m.d.sync += [aw_full.eq(1), aw_addr.eq(axi.awaddr[:regs.CORE_ADDR_BITS])]
            with m.If(axi.wvalid & ~w_full):
                m.d.sync += [w_full.eq(1), w_data.eq(axi.wdata), w_strb.eq(axi.wstrb)]
        with m.If(do_r):
            m.d.sync += ar_full.eq(0)
        with m.Elif(axi.arvalid & ~ar_full):
            m.d.sync += [ar_full.eq(1), ar_addr.eq(axi.araddr[:regs.CORE_ADDR_BITS])]

        # B channel: the response is known at issue (the core takes the write at
        # the clock edge that ends the issue cycle).
        with m.If(do_w):
            m.d.sync += [axi.bvalid.eq(1), axi.bresp.eq(Mux(wcheck.error, SLVERR, OKAY))]
        with m.Elif(axi.bready):
            m.d.sync += axi.bvalid.eq(0)

        # R channel: core data arrives one cycle after issue (regbus contract);
        # a rejected read answers 0.
        with m.If(do_r):
            m.d.sync += [
                axi.rvalid.eq(1),
                axi.rresp.eq(Mux(rcheck.error, SLVERR, OKAY)),
                r_core.eq(rcheck.forward),
                r_hold.eq(0),
            ]
        with m.Else():
            with m.If(axi.rready):
                m.d.sync += axi.rvalid.eq(0)
            with m.If(r_core):
                m.d.sync += [r_core.eq(0), r_hold.eq(reg.r_data)]
        return m
