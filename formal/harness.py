# Ref: digest 2.4-2.8 (MISR, EISR, ELRSR, APR, LR), 2.14 (RPR), 1.4 (access rules),
#      R1-R13; rtl/regbus.py (1-cycle response); issue 7 properties 1-7.
"""Formal harness around the real VirtualInterface (not part of the design).

The register bus is driven by free inputs (any request, any address, any data,
every cycle; the only assumption is the bus rule that r_stb and w_stb are never
both 1), the clock domain's reset is free too. The properties of one group are
added as Amaranth Assert/Assume/Cover statements; formal/run.py exports the
harness to RTLIL and formal/<group>.sby proves it.

State is read from the blocks' ports (LR bank `lr`, `elrsr`, `eisr`; vCPU
`ctlr`, `vmprimask`, `bpr`, `abpr`, `apr`; hyp `hcr`; maintenance `misr`), and
group `bus` proves that the register reads return exactly that state, so the
properties are about the architectural registers. Every expected value below
is the digest's rule written out in Amaranth (definitions of section 3:
prio, en, gmask, gprio, RP, vid_out, R5 candidate), not the RTL's expression.
"""
from amaranth.hdl import (Elaboratable, Module, Signal, Const, Cat, Mux, Fragment,
                          Assert, Assume, Cover)
from amaranth.asserts import AnySeq

from vgic.rtl import regs
from vgic.rtl.regs import (LR_FIELDS, HCR_FIELDS, CTLR_FIELDS, MISR_BITS, MAX_LRS,
                           INVALID, PENDING, ACTIVE, PENDING_ACTIVE, SPURIOUS, SPURIOUS_GRP1)
from vgic.rtl.regbus import ADDR_WIDTH

__all__ = ["GROUPS", "Harness"]

# property group -> what it proves (the .sby file of the same name runs it)
GROUPS = {
    "elrsr_eisr": "1. GICH_ELRSR/EISR equal their definition over the LRs (2.5, 2.6, R12)",
    "misr":       "2. each GICH_MISR bit and maint_irq = HCR.En && MISR != 0 (2.4, R13, R14)",
    "iar":        "3. GICV_IAR/AIAR acknowledge per R5/R6a/R6b; other reads have no side effect (1.4.4)",
    "isolation":  "4. GICV accesses change only LR State and HCR.EOICount (2.8, R10, R11)",
    "apr":        "5. EOIR/AEOIR drop the lowest set APR bit only; RPR = highest active priority (R4, R8, R9)",
    "bus":        "6. every request is acked exactly 1 cycle later; reads return the state (regbus, 1.4)",
    "cover":      "7. reachability: every MISR bit, EOICount wrap, a preempting IAR, the lines",
}


def f(value, fields, name):
    """A field of a register value (layouts from rtl/regs.py)."""
    lsb, width = fields[name]
    return value[lsb:lsb + width]


def lowest_set_bit(value):
    """One-hot of the lowest set bit of `value` (0 when value == 0), bit by bit."""
    bits = []
    for k in range(len(value)):
        bits.append(value[k] & (value[:k] == 0) if k else value[0])
    return Cat(*bits)


def ctz(value):
    """Index of the lowest set bit (don't care when value == 0)."""
    index = Const(0, 6)
    for k in reversed(range(len(value))):
        index = Mux(value[k], k, index)
    return index


class Arch:
    """Architectural state (GICH_LR<n>, HCR, GICV_CTLR, PMR, BPR, ABPR, APR) and
    the digest's section 3 definitions over it. Built twice: on the current
    values and on their copies one cycle earlier (`past`)."""

    def __init__(self, num_lrs, lr, hcr, ctlr, pmr, bpr, abpr, apr):
        self.num_lrs = num_lrs
        self.lr, self.hcr, self.ctlr, self.pmr = lr, hcr, ctlr, pmr
        self.bpr, self.abpr, self.apr = bpr, abpr, apr

    def past(self, m, name):
        """The same state, registered: its value in the previous cycle."""
        def reg(value, suffix):
            r = Signal(len(value), name=f"{name}_{suffix}")
            m.d.sync += r.eq(value)
            return r
        return Arch(self.num_lrs, [reg(v, f"lr{n}") for n, v in enumerate(self.lr)],
                    reg(self.hcr, "hcr"), reg(self.ctlr, "ctlr"), reg(self.pmr, "pmr"),
                    reg(self.bpr, "bpr"), reg(self.abpr, "abpr"), reg(self.apr, "apr"))

    # -- fields -------------------------------------------------------------
    def lrf(self, n, name):
        return f(self.lr[n], LR_FIELDS, name)

    def hcrf(self, name):
        return f(self.hcr, HCR_FIELDS, name)

    def ctl(self, name):
        return f(self.ctlr, CTLR_FIELDS, name)

    def state(self, n):
        return self.lrf(n, "State")

    # -- 2.5, 2.6: EISR and ELRSR ------------------------------------------------
    def elrsr(self, n):
        if n >= self.num_lrs:
            return Const(0)                                  # unimplemented LR reads 0
        return (self.state(n) == INVALID) & (self.lrf(n, "HW") | ~self.lrf(n, "EOI"))

    def eisr(self, n):
        if n >= self.num_lrs:
            return Const(0)
        return (self.state(n) == INVALID) & ~self.lrf(n, "HW") & self.lrf(n, "EOI")

    def elrsr_vec(self):
        return Cat(*(self.elrsr(n) for n in range(MAX_LRS)))

    def eisr_vec(self):
        return Cat(*(self.eisr(n) for n in range(MAX_LRS)))

    # -- 2.4: MISR ---------------------------------------------------------------
    def misr_bits(self):
        h, c = self.hcrf, self.ctl
        valid = [self.state(n) != INVALID for n in range(self.num_lrs)]
        n_valid = sum((v.as_unsigned() for v in valid), Const(0, 7))
        no_pending = Cat(*(self.state(n) == PENDING for n in range(self.num_lrs))) == 0
        return {
            "EOI":    self.eisr_vec() != 0,
            "U":      h("UIE") & (n_valid <= 1),
            "LRENP":  h("LRENPIE") & (h("EOICount") != 0),
            "NP":     h("NPIE") & no_pending,
            "VGrp0E": h("VGrp0EIE") & c("EnableGrp0"),
            "VGrp0D": h("VGrp0DIE") & ~c("EnableGrp0"),
            "VGrp1E": h("VGrp1EIE") & c("EnableGrp1"),
            "VGrp1D": h("VGrp1DIE") & ~c("EnableGrp1"),
        }

    def misr(self):
        bits = self.misr_bits()
        value = Const(0, 8)
        for name, bit in MISR_BITS.items():
            value = value | (bits[name].as_unsigned() << bit)
        return value

    # -- section 3 definitions -----------------------------------------------------
    def prio(self, n):
        return Cat(Const(0, 3), self.lrf(n, "Priority"))   # R2: P[7:3], 8-bit value

    def en(self, grp1):
        return Mux(grp1, self.ctl("EnableGrp1"), self.ctl("EnableGrp0"))

    def gmask(self, grp1):
        bpr_mask = (Const(0xFF, 8) << (self.bpr + 1))[:8]
        abpr_mask = (Const(0xFF, 8) << self.abpr)[:8]
        return Mux(~grp1 | self.ctl("CBPR"), bpr_mask, abpr_mask)

    def gprio(self, n):
        return self.prio(n) & self.gmask(self.lrf(n, "Grp1"))

    def rp(self):
        """Running priority: 0x100 idle, else the lowest set APR bit << 3 (R4)."""
        return Mux(self.apr == 0, 0x100, Cat(Const(0, 3), ctz(self.apr)))

    def rpr(self):
        """GICV_RPR (2.14): 0xFF idle."""
        return Mux(self.apr == 0, 0xFF, Cat(Const(0, 3), ctz(self.apr)))

    def vid_out(self, n):
        return Cat(self.lrf(n, "VirtualID"),
                   Mux(self.lrf(n, "HW"), 0, self.lrf(n, "CPUID")))

    def candidate(self, n):
        """R5: pending only (01), group enabled, priority below the mask."""
        return ((self.state(n) == PENDING) & self.en(self.lrf(n, "Grp1"))
                & (self.prio(n) < self.pmr))

    def is_best(self, n):
        """R5: the candidate with the smallest prio; ties go to the lowest index."""
        beaten = Const(0)
        for k in range(self.num_lrs):
            if k == n:
                continue
            better = self.prio(k) <= self.prio(n) if k < n else self.prio(k) < self.prio(n)
            beaten = beaten | (self.candidate(k) & better)
        return self.candidate(n) & ~beaten

    def any_candidate(self):
        return Cat(*(self.candidate(n) for n in range(self.num_lrs))) != 0

    def acknowledge(self, alias):
        """R6a (alias=False, GICV_IAR) / R6b (alias=True, GICV_AIAR): the value
        read and, per LR, whether that LR is acknowledged."""
        gate = ~self.hcrf("En") | ~(self.ctl("EnableGrp0") | self.ctl("EnableGrp1"))
        ack = []
        value = Const(SPURIOUS, 13)
        for n in reversed(range(self.num_lrs)):
            grp1 = self.lrf(n, "Grp1")
            preempts = self.gprio(n) < self.rp()
            if alias:
                ok = grp1 & preempts
                result = Mux(ok, self.vid_out(n), SPURIOUS)
            else:
                ok = (~grp1 | self.ctl("AckCtl")) & preempts
                result = Mux(grp1 & ~self.ctl("AckCtl"), SPURIOUS_GRP1,
                             Mux(preempts, self.vid_out(n), SPURIOUS))
            best = self.is_best(n) & ~gate
            ack.insert(0, best & ok)
            value = Mux(best, result, value)
        return value, ack

    def apr_bit(self, n):
        """R4: the APR bit an acknowledge of LR n sets: gprio(n) >> 3."""
        return (Const(1, 32) << self.gprio(n)[3:8])[:32]


class Harness(Elaboratable):
    """`group` (a key of GROUPS) around `top` (default: the real
    VirtualInterface(num_lrs); the mutation check passes a broken one)."""

    def __init__(self, group, num_lrs, top=None):
        if group not in GROUPS:
            raise ValueError(f"unknown property group {group!r}; known: {', '.join(GROUPS)}")
        regs.check_num_lrs(num_lrs)
        if top is None:
            from vgic.rtl.top import VirtualInterface
            top = VirtualInterface(num_lrs=num_lrs)
        if top.num_lrs != num_lrs:
            raise ValueError(f"top has {top.num_lrs} LRs, harness expects {num_lrs}")
        self.group, self.num_lrs, self.top = group, num_lrs, top

    def elaborate(self, platform):
        m = Module()
        top, N = self.top, self.num_lrs
        dut = Fragment.get(top, platform)
        blocks = {name: sub.origins[0] for sub, name, *_ in dut.subfragments}
        m.submodules.dut = dut
        lrb, vcpu, hyp, maint = (blocks[k] for k in ("lr_bank", "vcpu", "hyp", "maintenance"))

        # -- the bus: any request every cycle (regbus: never r_stb and w_stb together)
        bus = top.bus
        m.d.comb += [
            bus.addr.eq(AnySeq(ADDR_WIDTH)), bus.r_stb.eq(AnySeq(1)), bus.w_stb.eq(AnySeq(1)),
            bus.w_data.eq(AnySeq(32)), bus.w_strb.eq(AnySeq(4)),
            Assume(~(bus.r_stb & bus.w_stb)),
        ]

        now = Arch(N, [lrb.lr[n].as_value() for n in range(N)], hcr=hyp.hcr.as_value(),
                   ctlr=vcpu.ctlr.as_value(), pmr=Cat(Const(0, 3), vcpu.vmprimask),
                   bpr=vcpu.bpr, abpr=vcpu.abpr, apr=vcpu.apr)
        was = now.past(m, "was")

        # the previous cycle's request; `valid` = there was a previous cycle and
        # no reset since (a reset also clears these registers)
        prev = {}
        for name, sig in (("addr", bus.addr), ("r_stb", bus.r_stb), ("w_stb", bus.w_stb),
                          ("w_data", bus.w_data), ("w_strb", bus.w_strb)):
            prev[name] = Signal(len(sig), name=f"was_{name}")
            m.d.sync += prev[name].eq(sig)
        valid = Signal()
        m.d.sync += valid.eq(1)

        def was_read(reg):
            return valid & prev["r_stb"] & (prev["addr"] == reg.word)

        def was_write(reg):
            """A full-word write (partial writes are ignored by the core, regbus)."""
            return (valid & prev["w_stb"] & (prev["w_strb"] == 0b1111)
                    & (prev["addr"] == reg.word))

        def in_frame(frame):
            first = regs.FRAME_BASE[frame] >> 2
            last = first + (regs.FRAME_SIZE[frame] >> 2)
            return (prev["addr"] >= first) & (prev["addr"] < last)

        ctx = dict(m=m, now=now, was=was, bus=bus, prev=prev, valid=valid, N=N,
                   top=top, lrb=lrb, vcpu=vcpu, hyp=hyp, maint=maint,
                   was_read=was_read, was_write=was_write, in_frame=in_frame)
        self._invariants(**ctx)
        getattr(self, f"_{self.group}")(**ctx)
        return m

    # Stored-value rules the other properties rely on (they also strengthen
    # the induction): R3 clamps, 2.8 reserved LR bits, 2.1 reserved HCR bits.
    def _invariants(self, m, now, vcpu, N, **_):
        m.d.comb += [
            Assert(now.bpr >= regs.BPR_MIN),                  # R3: BPR stored >= 2
            Assert(now.abpr >= regs.ABPR_MIN),                # R3: ABPR stored >= 3
            Assert((now.hcr & ~regs.GICH_HCR.wmask) == 0),    # 2.1: reserved HCR bits 0
        ]
        for n in range(N):
            m.d.comb += Assert((now.lr[n] & ~regs.LR_WMASK) == 0)   # 2.8: [22:20] not stored
        # Strengthening only: the vCPU keeps caches of R3/R4 values (rtl/vcpu.py
        # docstring: "equal at all times to a function of the others"). An
        # acknowledge updates them from themselves, so without these an
        # induction could start from a stale cache; with them it cannot.
        if all(hasattr(vcpu, k) for k in ("rp", "rp_idle", "gmask0", "gmask1")):
            m.d.comb += [
                Assert(vcpu.rp_idle == (now.apr == 0)),
                Assert((now.apr == 0) | (vcpu.rp == ctz(now.apr))),
                Assert(vcpu.gmask0 == now.gmask(Const(0, 1))[3:]),
                Assert(vcpu.gmask1 == now.gmask(Const(1, 1))[3:]),
            ]

    # -- 1. ELRSR / EISR --------------------------------------------------------------
    def _elrsr_eisr(self, m, now, was, bus, lrb, was_read, **_):
        for n in range(MAX_LRS):
            m.d.comb += [
                Assert(lrb.elrsr[n] == now.elrsr(n)),         # 2.6, R12 (0 above ListRegs)
                Assert(lrb.eisr[n] == now.eisr(n)),           # 2.5, R12
            ]
        # what a read returns: the definition over the LRs of the request's cycle
        elrsr, eisr = was.elrsr_vec(), was.eisr_vec()
        with m.If(was_read(regs.GICH_ELRSR0)):
            m.d.comb += Assert(bus.r_data == elrsr[:32])
        with m.If(was_read(regs.GICH_ELRSR1)):
            m.d.comb += Assert(bus.r_data == elrsr[32:])
        with m.If(was_read(regs.GICH_EISR0)):
            m.d.comb += Assert(bus.r_data == eisr[:32])
        with m.If(was_read(regs.GICH_EISR1)):
            m.d.comb += Assert(bus.r_data == eisr[32:])

    # -- 2. MISR and the maintenance line ----------------------------------------------
    def _misr(self, m, now, was, bus, top, maint, was_read, **_):
        bits = now.misr_bits()
        for name, bit in MISR_BITS.items():
            m.d.comb += Assert(maint.misr[bit] == bits[name])        # 2.4, one per bit
        m.d.comb += Assert(top.maint_irq == (now.hcrf("En") & (now.misr() != 0)))   # R13, R14
        with m.If(was_read(regs.GICH_MISR)):
            m.d.comb += Assert(bus.r_data == was.misr())

    # -- 3. acknowledge ----------------------------------------------------------------
    def _iar(self, m, now, was, bus, prev, valid, N, was_read, in_frame, **_):
        lr_same = [now.lr[n] == was.lr[n] for n in range(N)]
        all_same = Cat(*lr_same).all() & (now.apr == was.apr)

        def became_active(n):
            # the LR as it was, State 01 -> 10, nothing else (R6a)
            return now.lr[n] == ((was.lr[n] & ~(3 << LR_FIELDS["State"][0]))
                                 | (ACTIVE << LR_FIELDS["State"][0]))

        for reg, alias in ((regs.GICV_IAR, False), (regs.GICV_AIAR, True)):
            expected, ack = was.acknowledge(alias)
            with m.If(was_read(reg)):
                # Issue property 3 as stated: a spurious ID and no change, or the
                # vID of an LR that was pending, of an enabled group (and, for IAR
                # Group 1, AckCtl), below the mask and above the running
                # priority, that LR now active, APR bit gprio>>3 set, no other
                # LR changed.
                grants = []
                for n in range(N):
                    grp1 = was.lrf(n, "Grp1")
                    group_ok = grp1 if alias else (~grp1 | was.ctl("AckCtl"))
                    grants.append(
                        was.hcrf("En") & (was.state(n) == PENDING) & was.en(grp1) & group_ok
                        & (was.prio(n) < was.pmr) & (was.gprio(n) < was.rp())
                        & (bus.r_data == was.vid_out(n)) & became_active(n)
                        & (now.apr == (was.apr | was.apr_bit(n)))
                        & Cat(*(lr_same[k] for k in range(N) if k != n)).all())
                spurious = ((bus.r_data == SPURIOUS) | (bus.r_data == SPURIOUS_GRP1)) & all_same
                m.d.comb += Assert(spurious | Cat(*grants).any())
                # Exactly R6a/R6b: the value, and the acknowledged LR is the R5 best.
                m.d.comb += Assert(bus.r_data == expected)
                for n in range(N):
                    with m.If(ack[n]):
                        m.d.comb += Assert(became_active(n))
        # 1.4 rule 4: no other read changes an LR or APR
        other_read = (valid & prev["r_stb"] & ~was_read(regs.GICV_IAR)
                      & ~was_read(regs.GICV_AIAR))
        with m.If(other_read):
            m.d.comb += Assert(all_same)

    # -- 4. guest isolation ------------------------------------------------------------
    def _isolation(self, m, now, was, bus, prev, valid, N, in_frame, **_):
        state_mask = 3 << LR_FIELDS["State"][0]
        eoicount_mask = 0x1F << HCR_FIELDS["EOICount"][0]
        gicv = valid & (prev["r_stb"] | prev["w_stb"]) & in_frame("GICV")
        with m.If(gicv):
            changed = []
            for n in range(N):
                # 2.8: vID, pID/EOI/CPUID, Priority, Grp1, HW are the hypervisor's
                m.d.comb += Assert(((now.lr[n] ^ was.lr[n]) & ~state_mask) == 0)
                # R6a, R10: the only State changes are 01->10, 10->00, 11->01
                s0, s1 = was.state(n), now.state(n)
                m.d.comb += Assert((s0 == s1) | ((s0 == PENDING) & (s1 == ACTIVE))
                                   | ((s0 == ACTIVE) & (s1 == INVALID))
                                   | ((s0 == PENDING_ACTIVE) & (s1 == PENDING)))
                changed.append(s0 != s1)
            # one access changes at most one LR
            ch = Cat(*changed)
            m.d.comb += Assert((ch & (ch - 1)) == 0)
            # GICH_HCR: only EOICount, and only by + 1 modulo 32 (R11)
            m.d.comb += Assert(((now.hcr ^ was.hcr) & ~eoicount_mask) == 0)
            m.d.comb += Assert((now.hcrf("EOICount") == was.hcrf("EOICount"))
                               | (now.hcrf("EOICount") == (was.hcrf("EOICount") + 1)[:5]))
        # a partial write changes nothing (regbus; digest 1.4 rule 1)
        with m.If(valid & prev["w_stb"] & (prev["w_strb"] != 0b1111)):
            for n in range(N):
                m.d.comb += Assert(now.lr[n] == was.lr[n])
            m.d.comb += Assert((now.hcr == was.hcr) & (now.apr == was.apr)
                               & (now.ctlr == was.ctlr) & (now.pmr == was.pmr)
                               & (now.bpr == was.bpr) & (now.abpr == was.abpr))

    # -- 5. active priorities --------------------------------------------------------
    def _apr(self, m, now, was, bus, prev, valid, was_read, was_write, **_):
        vid = prev["w_data"][:10]
        eoi = was_write(regs.GICV_EOIR) | was_write(regs.GICV_AEOIR)
        with m.If(eoi & (vid < 1020)):
            # R4, R8: clear the lowest set bit (the highest active priority), only it
            m.d.comb += Assert(now.apr == (was.apr & ~lowest_set_bit(was.apr)))
        with m.If(eoi & (vid >= 1020)):
            m.d.comb += Assert(now.apr == was.apr)              # R8: special IDs ignored
        with m.If(was_write(regs.GICV_DIR)):
            m.d.comb += Assert(now.apr == was.apr)              # R9: DIR never touches APR
        # APR changes only by an acknowledge, a drop, or a GICH_APR/GICV_APR0 write
        other = (valid & (prev["r_stb"] | prev["w_stb"]) & ~eoi
                 & ~was_read(regs.GICV_IAR) & ~was_read(regs.GICV_AIAR)
                 & ~was_write(regs.GICH_APR) & ~was_write(regs.GICV_APR0))
        with m.If(other | ~(prev["r_stb"] | prev["w_stb"]) & valid):
            m.d.comb += Assert(now.apr == was.apr)
        # 2.14, R4: GICV_RPR reads the highest active priority, 0xFF when none
        with m.If(was_read(regs.GICV_RPR)):
            m.d.comb += Assert(bus.r_data == was.rpr())
        # 2.16: GICV_APR0 and GICH_APR are one storage
        with m.If(was_read(regs.GICH_APR) | was_read(regs.GICV_APR0)):
            m.d.comb += Assert(bus.r_data == was.apr)

    # -- 6. the bus ------------------------------------------------------------------
    def _bus(self, m, now, was, bus, prev, valid, N, was_read, **_):
        # regbus: ack exactly one cycle after each request, never otherwise
        with m.If(valid):
            m.d.comb += Assert(bus.ack == (prev["r_stb"] | prev["w_stb"]))
        # register reads return the state the other groups read (so their
        # properties are about the architectural registers)
        for n in range(MAX_LRS):
            with m.If(was_read(regs.lr(n))):
                m.d.comb += Assert(bus.r_data == (was.lr[n] if n < N else 0))   # 1.4.2 RAZ
        reads = [(regs.GICH_HCR, was.hcr), (regs.GICH_APR, was.apr), (regs.GICV_APR0, was.apr),
                 (regs.GICV_CTLR, was.ctlr), (regs.GICV_PMR, was.pmr),
                 (regs.GICV_BPR, was.bpr), (regs.GICV_ABPR, was.abpr)]
        for reg, value in reads:
            with m.If(was_read(reg)):
                m.d.comb += Assert(bus.r_data == value)
        # 1.4.3: write-only registers read 0
        for reg in (regs.GICV_EOIR, regs.GICV_AEOIR, regs.GICV_DIR):
            with m.If(was_read(reg)):
                m.d.comb += Assert(bus.r_data == 0)
        # no read data without a read
        with m.If(valid & ~prev["r_stb"]):
            m.d.comb += Assert(bus.r_data == 0)

    # -- 7. covers (mode cover, from reset) -----------------------------------------------
    def _cover(self, m, now, was, bus, prev, valid, top, maint, was_read, in_frame, **_):
        misr = {name: maint.misr[bit] for name, bit in MISR_BITS.items()}
        m.d.comb += Cover(misr["EOI"])
        m.d.comb += Cover(misr["U"])
        m.d.comb += Cover(misr["LRENP"])
        m.d.comb += Cover(misr["NP"])
        m.d.comb += Cover(misr["VGrp0E"])
        m.d.comb += Cover(misr["VGrp0D"])
        m.d.comb += Cover(misr["VGrp1E"])
        m.d.comb += Cover(misr["VGrp1D"])
        eoicount = now.hcrf("EOICount")
        m.d.comb += Cover(valid & in_frame("GICV") & (was.hcrf("EOICount") == 31) & (eoicount == 0))
        # a preempting acknowledge: an interrupt is active (APR != 0) and IAR returns a vID
        m.d.comb += Cover(was_read(regs.GICV_IAR) & (was.apr != 0) & (bus.r_data < 1020))
        m.d.comb += Cover(top.virq)
        m.d.comb += Cover(top.vfiq)
        m.d.comb += Cover(top.maint_irq)
        m.d.comb += Cover(top.deact_valid)
