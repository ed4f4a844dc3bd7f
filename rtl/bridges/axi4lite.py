# Ref: AMBA AXI4-Lite (ARM IHI0022, ch. B1); rtl/regbus.py; access policy in access.py
"""AXI4-Lite subordinate to the core's register bus.

- AW, W and AR each have a one-entry skid buffer: AWREADY/WREADY/ARREADY are
  registers (high while the buffer is empty), so AW and W may arrive in either
  order or together, and no READY depends combinationally on any input.
- Requests reach the core only from the buffers: the core's address, data and
  strobes are functions of registers alone, so no AXI input travels through
  the core's register decode and read mux in the same cycle (Fmax; see
  docs/benchmarks.md). A write is issued once its address and data are both
  buffered and no B response is outstanding (BVALID low), a read once its
  address is buffered and RVALID is low; when both could go, the one not served
  last time goes first, and no read is issued while one is in flight.
  BVALID follows one cycle after the issue (every later request sees the
  write, rtl/regbus.py); RVALID three cycles after it, with the core's ack
  (its LATENCY); RDATA comes
  straight from the core's registered r_data, held in a register while RREADY
  is low.
- Timing with VALID/READY held high and the core ready: a request is issued in
  the cycle after its handshake; a write is answered in the next cycle (2
  cycles from handshake to response, one write per 2 cycles), a read two
  cycles later (4 cycles, one read per 4 cycles); reads and writes
  interleave.
- Every issued request gets exactly one response, and a request reaches the core
  exactly once (an IAR read under R back-pressure is not repeated).
- Nothing is issued while the core's ``ready`` is low, and a read of a derived
  register (regbus.SETTLED_READS) waits for ``settled`` too (rtl/regbus.py);
  requests wait in the skid buffers (a read waiting for ``settled`` keeps its
  turn).
- BRESP/RRESP: OKAY, or SLVERR for the accesses access.py rejects when
  errors="report". AWPROT/ARPROT are accepted and ignored.
- The address is a byte address; its low CORE_ADDR_BITS bits select the register
  (rtl/regs.py), higher bits (addr_width > 14) are ignored.
- Reset (access.py, "Reset"): the interface's reset (ARESETn). It empties the
  skid buffers and the response slots: a write whose AW and W handshakes
  completed but whose B was not taken gets no B, a read accepted but not
  answered no R; BVALID and RVALID are low from its first edge, AWREADY,
  WREADY and ARREADY high. A reset of the core alone loses no response.
- Several CPUs (num_cpus > 1, rtl/cluster.py): the requester's CPU number
  comes on the address channels' user signals, AWUSER with AW and ARUSER
  with AR, in their low cpu_bits bits (regbus.cpu_bits); higher bits, up to
  user_width (default: cpu_bits), are ignored. Arm's GICs take the
  requester the same way (docs/verilog.md, "Several CPUs"). Each is held in
  its channel's skid buffer with the address and goes to the core with the
  request (``reg.cpu``, a register like ``reg.addr``, so the core's
  ``ready``/``settled``, which depend on them, still come from registers
  alone). With num_cpus = 1 there are no user signals (the bridge is as
  before).
"""
from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .. import regs
from ..regbus import LATENCY, RegBusSignature, cpu_bits
from .access import AccessCheck, check_errors, check_num_cpus, in_flight, needs_settled

__all__ = ["AXI4LiteSignature", "AXI4LiteBridge", "OKAY", "SLVERR"]

OKAY, SLVERR = 0b00, 0b10


def check_addr_width(addr_width):
    if isinstance(addr_width, bool) or not isinstance(addr_width, int) or \
            not regs.CORE_ADDR_BITS <= addr_width <= 64:
        raise ValueError(f"addr_width must be an integer from {regs.CORE_ADDR_BITS} to 64 "
                         f"(the core decodes the low {regs.CORE_ADDR_BITS} bits), got {addr_width!r}")
    return addr_width


MAX_USER_WIDTH = 1024            # the widest user signal a bridge takes (AXI sets no limit)


def check_sideband_width(name, width):
    """The width of a user/tag signal (AxUSER, PAUSER, TGA): 0 (none) to
    MAX_USER_WIDTH."""
    if isinstance(width, bool) or not isinstance(width, int) or not 0 <= width <= MAX_USER_WIDTH:
        raise ValueError(f"{name} must be an integer from 0 to {MAX_USER_WIDTH}, got {width!r}")
    return width


def check_user_width(user_width, num_cpus):
    """The AWUSER/ARUSER width for num_cpus CPUs: None for the default
    (regbus.cpu_bits(num_cpus), 0 for one CPU: no user signals); otherwise
    at least cpu_bits(num_cpus), and 0 only for one CPU."""
    need = cpu_bits(check_num_cpus(num_cpus))
    if user_width is None:
        return need
    check_sideband_width("user_width", user_width)
    if num_cpus == 1 and user_width:
        raise ValueError(f"user_width {user_width}: with one CPU there is no CPU number to "
                         "carry and no AWUSER/ARUSER (leave user_width unset or 0)")
    if user_width < need:
        raise ValueError(f"user_width {user_width} cannot carry the CPU number of {num_cpus} "
                         f"CPUs: AWUSER/ARUSER need at least {need} bits")
    return user_width


class AXI4LiteSignature(wiring.Signature):
    """AXI4-Lite, 32-bit data, directions as seen from the manager;
    user_width > 0: AWUSER and ARUSER of that width."""

    def __init__(self, addr_width=regs.CORE_ADDR_BITS, user_width=0):
        self.addr_width = check_addr_width(addr_width)
        self.user_width = check_sideband_width("user_width", user_width)
        aw_user = {"awuser": Out(user_width)} if user_width else {}
        ar_user = {"aruser": Out(user_width)} if user_width else {}
        super().__init__({
            "awaddr":  Out(addr_width), "awprot": Out(3), **aw_user,
            "awvalid": Out(1), "awready": In(1),
            "wdata":   Out(32), "wstrb": Out(4), "wvalid": Out(1), "wready": In(1),
            "bresp":   In(2), "bvalid": In(1), "bready": Out(1),
            "araddr":  Out(addr_width), "arprot": Out(3), **ar_user,
            "arvalid": Out(1), "arready": In(1),
            "rdata":   In(32), "rresp": In(2), "rvalid": In(1), "rready": Out(1),
        })


class AXI4LiteBridge(wiring.Component):
    """AXI4-Lite subordinate (``axi``) driving the core register bus (``reg``).
    num_cpus > 1: the requester's CPU number in AWUSER/ARUSER[cpu_bits-1:0],
    on ``reg.cpu``; user_width: the width of AWUSER/ARUSER (default cpu_bits)."""

    def __init__(self, num_lrs=4, errors="ignore", addr_width=regs.CORE_ADDR_BITS,
                 num_cpus=1, user_width=None, v3=None):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.v3 = v3                         # GICv3's memory-mapped layout (rtl/sysregs.py)
        self.errors = check_errors(errors)
        self.num_cpus = check_num_cpus(num_cpus)
        self.user_width = check_user_width(user_width, num_cpus)
        super().__init__({
            "axi": In(AXI4LiteSignature(addr_width, self.user_width)),
            "reg": Out(RegBusSignature(cpu_bits(num_cpus))),
        })

    def elaborate(self, platform):
        m = Module()
        axi, reg = self.axi, self.reg
        n = self.num_cpus
        cb = cpu_bits(n)
        m.submodules.wcheck = wcheck = AccessCheck(self.num_lrs, self.errors, n, self.v3)
        m.submodules.rcheck = rcheck = AccessCheck(self.num_lrs, self.errors, n, self.v3)

        # Skid buffers: READY = buffer empty.
        aw_full, aw_addr = Signal(name="aw_full"), Signal(regs.CORE_ADDR_BITS, name="aw_addr")
        w_full, w_data, w_strb = Signal(name="w_full"), Signal(32, name="w_data"), Signal(4, name="w_strb")
        ar_full, ar_addr = Signal(name="ar_full"), Signal(regs.CORE_ADDR_BITS, name="ar_addr")
        m.d.comb += [
            axi.awready.eq(~aw_full),
            axi.wready.eq(~w_full),
            axi.arready.eq(~ar_full),
        ]

        # Response slots. r_core: RDATA comes from the core's r_data this cycle.
        r_core, r_hold = Signal(name="r_core"), Signal(32, name="r_hold")
        m.d.comb += axi.rdata.eq(Mux(r_core, reg.r_data, r_hold))

        # Issue, from registers only: a direction whose request is buffered and
        # whose response slot is empty; when both can go, the one not served
        # last time goes first. That choice is made a cycle ahead, from the
        # registers' next values (go_w, go_r), so the core's address select
        # and strobes come straight from flip-flops; the core's `ready` and
        # `settled` are registers too, or (several CPUs) functions of the
        # registered cpu and address alone, and r_settle (the buffered read
        # needs settled) is registered below.
        go_w, go_r = Signal(name="go_w"), Signal(name="go_r")
        write_first = Signal(name="write_first")
        r_settle = Signal(name="r_settle")
        do_w = go_w & reg.ready
        do_r = go_r & reg.ready & (reg.settled | ~r_settle)
        aw_full_n = Mux(do_w, 0, aw_full) | (axi.awvalid & ~aw_full)
        w_full_n = Mux(do_w, 0, w_full) | (axi.wvalid & ~w_full)
        ar_full_n = Mux(do_r, 0, ar_full) | (axi.arvalid & ~ar_full)
        # a read issued LATENCY - 1 cycles ago (its data comes next), and those
        # issued since (none can be: one read in flight at a time)
        r_stages = in_flight(m, do_r, "r_issued", LATENCY - 1)
        r_wait = r_stages[-1]
        r_younger = Cat(r_stages[:-1]).any()
        bvalid_n = do_w | (axi.bvalid & ~axi.bready)
        rvalid_n = r_wait | (axi.rvalid & ~axi.rready)
        write_first_n = Mux(do_w, 0, Mux(do_r, 1, write_first))
        can_w_n = aw_full_n & w_full_n & ~bvalid_n
        can_r_n = ar_full_n & ~rvalid_n & ~do_r & ~r_younger
        pick_w_n = can_w_n & (~can_r_n | write_first_n)
        m.d.sync += [go_w.eq(pick_w_n), go_r.eq(can_r_n & ~pick_w_n),
                     write_first.eq(write_first_n)]
        # The address the core sees, the chosen buffer's, and the access checks
        # of the buffered requests are registers too, loaded from the buffers'
        # next contents.
        aw_addr_n = Mux(aw_full, aw_addr, axi.awaddr[:regs.CORE_ADDR_BITS])
        w_strb_n = Mux(w_full, w_strb, axi.wstrb)
        ar_addr_n = Mux(ar_full, ar_addr, axi.araddr[:regs.CORE_ADDR_BITS])
        core_addr = Signal(reg.addr.shape(), name="core_addr")
        w_forward, w_error = Signal(name="w_forward"), Signal(name="w_error")
        r_forward, r_error = Signal(name="r_forward"), Signal(name="r_error")
        m.d.comb += [
            wcheck.addr.eq(aw_addr_n), wcheck.write.eq(1), wcheck.strb.eq(w_strb_n),
            rcheck.addr.eq(ar_addr_n), rcheck.write.eq(0),
        ]
        m.d.sync += [
            core_addr.eq(Mux(pick_w_n, aw_addr_n[2:], ar_addr_n[2:])),
            w_forward.eq(wcheck.forward), w_error.eq(wcheck.error),
            r_forward.eq(rcheck.forward), r_error.eq(rcheck.error),
            r_settle.eq(needs_settled(ar_addr_n[2:], n, self.v3)),
        ]

        m.d.comb += [
            reg.addr.eq(core_addr),
            reg.w_data.eq(w_data),
            reg.w_strb.eq(w_strb),
            reg.w_stb.eq(do_w & w_forward),
            reg.r_stb.eq(do_r & r_forward),
        ]
        # Skid buffers: fill on a handshake, empty on issue (a full buffer takes
        # no handshake, so the two never meet); the flags and BVALID/RVALID take
        # the next values the issue choice above was made from.
        m.d.sync += [aw_full.eq(aw_full_n), w_full.eq(w_full_n), ar_full.eq(ar_full_n),
                     axi.bvalid.eq(bvalid_n), axi.rvalid.eq(rvalid_n)]
        with m.If(axi.awvalid & ~aw_full):
            m.d.sync += aw_addr.eq(axi.awaddr[:regs.CORE_ADDR_BITS])
        with m.If(axi.wvalid & ~w_full):
            m.d.sync += [w_data.eq(axi.wdata), w_strb.eq(axi.wstrb)]
        with m.If(axi.arvalid & ~ar_full):
            m.d.sync += ar_addr.eq(axi.araddr[:regs.CORE_ADDR_BITS])
        if cb:
            # Several CPUs: the requester's number (AWUSER/ARUSER low bits)
            # held in the AW/AR skid buffer with its address, and presented
            # with it (core_cpu, a register loaded like core_addr).
            aw_cpu, ar_cpu = Signal(cb, name="aw_cpu"), Signal(cb, name="ar_cpu")
            aw_cpu_n = Mux(aw_full, aw_cpu, axi.awuser[:cb])
            ar_cpu_n = Mux(ar_full, ar_cpu, axi.aruser[:cb])
            core_cpu = Signal(cb, name="core_cpu")
            m.d.comb += [wcheck.cpu.eq(aw_cpu_n), rcheck.cpu.eq(ar_cpu_n),
                         reg.cpu.eq(core_cpu)]
            m.d.sync += core_cpu.eq(Mux(pick_w_n, aw_cpu_n, ar_cpu_n))
            with m.If(axi.awvalid & ~aw_full):
                m.d.sync += aw_cpu.eq(axi.awuser[:cb])
            with m.If(axi.arvalid & ~ar_full):
                m.d.sync += ar_cpu.eq(axi.aruser[:cb])

        # B channel: the response is known at issue (the core holds every later
        # request off until the write has landed, rtl/regbus.py).
        with m.If(do_w):
            m.d.sync += axi.bresp.eq(Mux(w_error, SLVERR, OKAY))

        # R channel: core data arrives LATENCY cycles after issue (regbus),
        # RVALID with it; a rejected read answers 0.
        r_wait_forward = in_flight(m, r_forward, "r_forward", LATENCY - 1)[-1]
        r_wait_error = in_flight(m, r_error, "r_error", LATENCY - 1)[-1]
        with m.If(r_wait):
            m.d.sync += [
                axi.rresp.eq(Mux(r_wait_error, SLVERR, OKAY)),
                r_core.eq(r_wait_forward),
                r_hold.eq(0),
            ]
        with m.Else():
            with m.If(r_core):
                m.d.sync += [r_core.eq(0), r_hold.eq(reg.r_data)]
        return m
