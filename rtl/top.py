# Ref: IHI0048B ch. 5; arch 1 (frames) and arch 1.4 (access rules)
"""VirtualInterface: the RTL top. Connects the blocks (wiring.connect, one
signature per interface between them, declared in rtl/lr_bank.py, vcpu.py and
hyp.py), registers each request at its entry, and drives the register bus's
ready and settled.

Twin of sim/model/top.py. The register bus (rtl/regbus.py) enters here; each
block decodes the offsets of its own frame (map in rtl/regs.py). When things
happen, cycle by cycle: rtl/timing.py, the one account of the core's timing.
"""
from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect

from . import regs, sysregs
from .regbus import RegBusSignature, AddrDecode, predecode, names, settled_regs
from .timing import Timing
from .lr_bank import LRBank, prefix_or
from .vcpu import VCPU
from .hyp import Hyp
from .maintenance import Maintenance

__all__ = ["VirtualInterface"]


class VirtualInterface(wiring.Component):
    """One CPU's virtual interface, GICv2 (GICH, GICV) or GICv3 (`arch="v3"`:
    ICH_*_EL2 and ICV_*_EL1 on the memory-mapped layout of rtl/sysregs.py,
    with the V3Config parameters pri_bits, pre_bits, id_bits, rp_masked),
    `num_lrs` list registers. `timing`: its latencies (rtl/timing.py).

    Ports: bus (RegBusSignature), virq, vfiq, maint_irq, deact_valid (a
    1-cycle pulse: deactivate deact_pintid in the Distributor), deact_pintid
    (10 bits; GICv3 13); GICv3 also `traps` (ICH_HCR_EL2's TC, TALL0,
    TALL1, TSEI, TDIR, for the PE to act on: v3 1.2)."""

    def __init__(self, num_lrs=4, iidr=regs.IIDR_DEFAULT, arch="v2", **v3):
        try:
            if arch not in ("v2", "v3"):
                raise ValueError(f"arch must be 'v2' or 'v3', got {arch!r}")
            if arch == "v2" and v3:
                raise ValueError(f"{', '.join(v3)}: parameters of arch v3")
            self.v3 = sysregs.V3Config(num_lrs, **v3) if arch == "v3" else None
            self.num_lrs = regs.check_num_lrs(num_lrs)
            if isinstance(iidr, bool) or not isinstance(iidr, int) or not 0 <= iidr < 2**32:
                raise ValueError(f"iidr must be a 32-bit value (GICV_IIDR), got {iidr!r}")
        except (ValueError, TypeError):
            self._MustUse__silence = True    # never built: no "never used" warning
            raise
        self.arch, self.iidr = arch, iidr
        self.timing = Timing(num_lrs)
        super().__init__({
            "bus":          In(RegBusSignature()),
            "virq":         Out(1),
            "vfiq":         Out(1),
            "maint_irq":    Out(1),
            "deact_valid":  Out(1),
            "deact_pintid": Out(10 if self.v3 is None else 13),
            **({} if self.v3 is None else {"traps": Out(len(sysregs.TRAP_BITS))}),
        })
        # the blocks, public so that a harness can watch their ports
        self.lr_bank = LRBank(num_lrs, self.v3)
        self.vcpu = VCPU(iidr, self.timing.match_latency, self.v3)
        self.hyp = Hyp(num_lrs, self.v3)
        self.maintenance = Maintenance(num_lrs, self.v3)

    def elaborate(self, platform):
        m = Module()
        timing = self.timing
        m.submodules.lr_bank = lrs = self.lr_bank
        m.submodules.vcpu = vcpu = self.vcpu
        m.submodules.hyp = hyp = self.hyp
        m.submodules.maintenance = maint = self.maintenance
        bus = self.bus

        # -- entry (edge ending t): the accepted request, registered, with its
        #    address predecoded for the blocks' decodes (regbus.names)
        ready = Signal()                 # a register (rtl/timing.py)
        settled = Signal()               # a register; bus.settled: below (rtl/timing.py)
        bus_dec = AddrDecode(predecode(bus.addr))      # a view: the entry's decode, early
        v3 = self.v3
        words = _Words(v3)               # the words this top decodes itself
        waits = Cat(names(bus_dec, w) for w in words.settled).any()
        take_r = bus.r_stb & ready & (bus.settled | ~waits)
        take_w = bus.w_stb & ready
        req_r, req_w = Signal(name="req_r"), Signal(name="req_w")
        req_w_full = Signal(name="req_w_full")          # partial writes are ignored (arch 1.4 rule 1)
        addr = Signal.like(bus.addr, name="req_addr")
        w_data = Signal.like(bus.w_data, name="req_w_data")
        dec = Signal(AddrDecode, name="req_dec")
        w_upto = Signal(32, name="req_w_upto")         # for APR's prefix ORs (vcpu.py)
        req_iar, req_aiar = Signal(name="req_iar"), Signal(name="req_aiar")   # IAR/AIAR reads
        m.d.sync += [
            req_iar.eq(take_r & words.hit(bus_dec, "iar", vcpu)),
            req_aiar.eq(take_r & words.hit(bus_dec, "aiar", vcpu)),
            w_upto.eq(prefix_or(m, bus.w_data, "bus_w_upto")),
            req_r.eq(take_r), req_w.eq(take_w), req_w_full.eq(take_w & (bus.w_strb == 0b1111)),
            addr.eq(bus.addr), dec.eq(bus_dec), w_data.eq(bus.w_data),
        ]
        m.d.comb += bus.ready.eq(ready)

        # -- decode (cycle t+1): every block sees the request; each decodes
        #    the words of its own frame (names() is the whole address). All
        #    that the top itself drives into the blocks is here: the request,
        #    the LR bank's data (an LR write's value, an EOIR/AEOIR/DIR's vID
        #    to match) and lines_load (the state has settled: load the lines)
        m.d.comb += [
            hyp.dec.eq(dec), hyp.addr.eq(addr), hyp.w_data.eq(w_data),
            hyp.r_stb.eq(req_r), hyp.w_stb.eq(req_w_full),
            vcpu.dec.eq(dec), vcpu.w_data.eq(w_data), vcpu.w_upto.eq(w_upto),
            vcpu.r_stb.eq(req_r), vcpu.w_stb.eq(req_w_full),
            vcpu.iar_stb.eq(req_iar), vcpu.aiar_stb.eq(req_aiar),
            lrs.w_data.eq(w_data),
            vcpu.lines_load.eq(bus.settled), maint.lines_load.eq(bus.settled),
        ]
        # three-cycle response (rtl/regbus.py): the blocks register their read
        # muxes' first stage at the decode edge and answer 0 for any address
        # that is not theirs, so their answers are ORed and registered here at
        # the next (unmapped addresses read 0)
        in_flight = Signal()
        m.d.sync += [
            in_flight.eq(req_r | req_w), bus.ack.eq(in_flight),
            bus.r_data.eq(vcpu.r_data | hyp.r_data),
        ]

        # -- ready: low for match_latency cycles after an EOIR/AEOIR/DIR (GICv3:
        #    and for the two cycles after a write of a mask source, words.stall);
        #    known from the bus in its cycle, then from the decode
        eoi_taken = take_w & words.hit(bus_dec, "eoi", vcpu)
        not_busy = ~eoi_taken & ~(vcpu.eoi_stb if timing.match_latency > 1 else 0)
        if words.stall:
            stall_taken, stall_prev = Signal(), Signal()
            m.d.comb += stall_taken.eq(take_w & Cat(names(bus_dec, w) for w in words.stall).any())
            m.d.sync += stall_prev.eq(stall_taken)
            not_busy = not_busy & ~stall_taken & ~stall_prev
        m.d.sync += ready.eq(not_busy)
        if timing.match_latency > 2:
            raise NotImplementedError("ready covers a match of at most 2 cycles")

        # -- settled: counters of the cycles until the derived state is
        #    valid, loaded at the decode of a request that changes state (a
        #    write, an acknowledge); 0 already in the decode cycle of any
        #    write or IAR/AIAR read (whether it acknowledges is known then).
        #    A write of the masks' sources has a counter of its own, so that
        #    a request right after it (an LR write) never shortens its wait.
        req_changes = req_w | req_iar | req_aiar
        landed = req_w | vcpu.select.ack_stb
        settle = Signal(range(timing.settle + timing.match_latency))
        settle_m = Signal(range(timing.settle_masks), init=timing.settle_masks - 1)
        masks = req_w_full & Cat(names(dec, w) for w in words.masks).any()
        with m.If(landed):
            m.d.sync += settle.eq(Mux(vcpu.eoi_stb, timing.settle - 1 + timing.match_latency,
                                      timing.settle - 1))
        with m.Elif(settle != 0):
            m.d.sync += settle.eq(settle - 1)
        with m.If(masks):
            m.d.sync += settle_m.eq(timing.settle_masks - 1)
        with m.Elif(settle_m != 0):
            m.d.sync += settle_m.eq(settle_m - 1)
        # settled: the counters reach 0 at this edge and nothing lands (the
        # decode cycle of a write or IAR/AIAR read itself: below)
        m.d.sync += settled.eq(~landed & (settle <= 1) & (settle_m <= 1))
        m.d.comb += bus.settled.eq(settled & ~req_changes)

        if platform == "formal":
            # Formal-only invariants (formal/README.md), true in every reachable
            # state: k-induction then starts from a consistent counter and
            # ready. f_past: 0 in the first cycle after reset.
            from amaranth.hdl import Assert
            eoi_busy = Signal(timing.match_latency)      # bit k: cycle t+2+k after an EOI at t
            m.d.sync += eoi_busy.eq(Cat(vcpu.eoi_stb, eoi_busy[:-1]))
            f_past = Signal()
            m.d.sync += f_past.eq(1)
            eoi_dec = req_w & words.hit(dec, "eoi", vcpu)
            stall_dec = Const(0, 1)
            if words.stall:
                stall_dec = req_w & Cat(names(dec, w) for w in words.stall).any()
                stall_dec_prev = Signal()
                m.d.sync += stall_dec_prev.eq(stall_dec)
                stall_dec = stall_dec | stall_dec_prev
            settle_eoi = timing.settle - 1 + timing.match_latency
            m.d.comb += [
                # the counters never exceed their loads; settled only at 0
                Assert(settle <= settle_eoi),
                Assert(~settled | ((settle == 0) & (settle_m == 0))),
                # ready is 0 exactly in the first cycle after reset, in the
                # match_latency cycles after an EOIR/AEOIR/DIR was taken and
                # (GICv3) in the two cycles after a mask source's write was
                Assert(ready == (f_past & ~eoi_dec & ~stall_dec
                                 & ~(eoi_busy[0] if timing.match_latency > 1 else 0))),
                # settled is 0 while a write or an acknowledge lands
                Assert(~bus.settled | ~req_w),
                Assert(~bus.settled | ~vcpu.select.ack_stb),
                Assert(~req_w_full | req_w),
                # the entry's APR prefix ORs are those of its data
                Assert(w_upto == Cat(w_data[:i + 1] != 0 for i in range(32))),
                # no EOIR/AEOIR/DIR is decoded while another one's match runs,
                # and during the match the counter runs down from its load
                Assert(~vcpu.eoi_stb | (eoi_busy == 0)),
            ]
            for k in range(timing.match_latency):
                m.d.comb += Assert(~eoi_busy[k] | (settle == settle_eoi - k))

        # -- between the blocks: one signature per interface, declaring its
        #    members and who drives them (the block that has it Out)
        connect(m, lrs.select, vcpu.select)               # lr_bank.SelectSignature
        connect(m, lrs.status, hyp.status, maint.status)  # lr_bank.LRStatusSignature
        connect(m, hyp.lr_write, lrs.lr_write)            # lr_bank.LRWriteSignature
        connect(m, vcpu.gicv, hyp.gicv, maint.gicv)       # vcpu.GICVSignature
        connect(m, hyp.control, vcpu.control)             # vcpu.ControlSignature
        connect(m, hyp.gich, maint.gich)                  # hyp.GICHSignature
        # -- outputs ---------------------------------------------------------------
        m.d.comb += [
            self.virq.eq(vcpu.virq), self.vfiq.eq(vcpu.vfiq),
            self.maint_irq.eq(maint.maint_irq),
            self.deact_valid.eq(vcpu.deact_valid), self.deact_pintid.eq(vcpu.deact_pintid),
        ]
        if v3 is not None:
            hcr = hyp.gich.hcr
            m.d.comb += self.traps.eq(Cat(getattr(hcr, name) for name in sysregs.TRAP_BITS))
        return m


class _Words:
    """Word addresses the top decodes at its entry, per architecture: the
    reads that wait for settled (regbus.settled_regs), the acknowledges
    (GICV_IAR/AIAR; ICV_IAR0/IAR1_EL1), the EOIs that hold ready low
    (GICV_EOIR/AEOIR/DIR; ICV_EOIR0/EOIR1/DIR_EL1), and the writes whose
    settling takes settle_masks (the R3 masks' sources; GICv3 also the AP
    registers, whose apr_upto lands one edge after them: rtl/vcpu.py), and
    (GICv3) `stall`, the same writes, after which ready is low for two
    cycles: no EOIR is decoded before the LRs' group priorities (V8's
    check) and apr_upto have caught up with them."""

    def hit(self, dec, kind, vcpu):
        """The predecoded address names one of the `kind` words ("iar",
        "aiar", "eoi"); in a legacy build those of the view that is live
        (the GICv2 frame's while vcpu.gicv.legacy_live: v3 10)."""
        def any_of(words):
            return Cat(names(dec, w) for w in (words if isinstance(words, list) else [words])).any()
        native = any_of(getattr(self, kind))
        if not hasattr(self, "legacy"):
            return native if kind == "eoi" else names(dec, getattr(self, kind))
        return Mux(vcpu.gicv.legacy_live, any_of(self.legacy[kind]), native)

    def __init__(self, v3):
        self.settled = [reg.addr >> 2 for reg in settled_regs(v3)]
        if v3 is None:
            self.iar, self.aiar = regs.GICV_IAR.word, regs.GICV_AIAR.word
            self.eoi = [r.word for r in (regs.GICV_EOIR, regs.GICV_AEOIR, regs.GICV_DIR)]
            self.masks = [r.word for r in (regs.GICV_CTLR, regs.GICV_BPR, regs.GICV_ABPR,
                                           regs.GICH_VMCR)]
            self.stall = []
            return
        word = lambda name: sysregs.lookup(name).addr >> 2
        self.iar, self.aiar = word("ICV_IAR0_EL1"), word("ICV_IAR1_EL1")
        self.eoi = [word(n) for n in ("ICV_EOIR0_EL1", "ICV_EOIR1_EL1", "ICV_DIR_EL1")]
        self.masks = [word(n) for n in ("ICV_CTLR_EL1", "ICV_BPR0_EL1", "ICV_BPR1_EL1",
                                        "ICH_VMCR_EL2")]
        self.masks += [word(f"{f}_AP{g}R{n}_{el}") for f, el in (("ICH", "EL2"), ("ICV", "EL1"))
                       for g in range(2) for n in range(v3.napr)]
        if v3.legacy:
            # the GICv2 frame's words (rtl/regs.py) while it is live (v3 10): its
            # derived reads, mask sources and GICV_APR0 join the static lists;
            # an SRE write changes the whole view (a mask source, and apr_upto's
            # banks, like an AP write)
            self.legacy = {"iar": [regs.GICV_IAR.word], "aiar": [regs.GICV_AIAR.word],
                           "eoi": [r.word for r in (regs.GICV_EOIR, regs.GICV_AEOIR,
                                                    regs.GICV_DIR)]}
            self.masks += [r.word for r in (regs.GICV_CTLR, regs.GICV_BPR, regs.GICV_ABPR,
                                            regs.GICV_APR0)] + [word("ICC_SRE_EL1")]
        self.stall = self.masks
