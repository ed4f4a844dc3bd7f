# Ref: arch 2.4-2.8 (MISR, EISR, ELRSR, APR, LR), arch 2.14 (RPR), arch 1.4 (access rules),
#      R1-R13; rtl/regbus.py (3-cycle response); issue 7 properties 1-7.
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
is the rule of docs/architecture.md written out in Amaranth (definitions of arch 3:
prio, en, gmask, gprio, RP, vid_out, R5 candidate), not the RTL's expression.
"""
from amaranth.hdl import (Elaboratable, Module, Signal, Const, Cat, Mux, Fragment,
                          Assert, Assume, Cover)
from amaranth.asserts import AnySeq

from vgic.rtl import regs
from vgic.rtl.regs import (LR_FIELDS, HCR_FIELDS, CTLR_FIELDS, VMCR_FIELDS, MISR_BITS, MAX_LRS,
                           INVALID, PENDING, ACTIVE, PENDING_ACTIVE, SPURIOUS, SPURIOUS_GRP1)
from vgic.rtl.regbus import ADDR_WIDTH, LATENCY

__all__ = ["GROUPS", "Harness"]

# property group -> what it proves (the .sby file of the same name runs it)
GROUPS = {
    "elrsr_eisr": "1. GICH_ELRSR/EISR equal their definition over the LRs (arch 2.5, 2.6, R12)",
    "misr":       "2. each GICH_MISR bit and maint_irq = HCR.En && MISR != 0 (arch 2.4, R13, R14)",
    "iar":        "3. GICV_IAR/AIAR acknowledge per R5/R6a/R6b, HPPIR per R7, lines per R6; no other read has side effects (arch 1.4 rule 4)",
    "isolation":  "4. GICV accesses change only LR State and HCR.EOICount (arch 2.8, R10, R11)",
    "apr":        "5. EOIR/AEOIR drop the lowest set APR bit only; RPR = highest active priority (R4, R8, R9)",
    "eoi":        "5b. EOIR/AEOIR/DIR deactivate the matched LR, count unmatched EOIs, forward HW pINTIDs (R8-R11)",
    "bus":        "6. every request is acked exactly LATENCY = 3 cycles later; reads return and writes store the registers (regbus, arch 1.4, 2.19)",
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
    the arch 3 definitions over it. Built twice: on the current
    values and on their copies one cycle earlier (`past`)."""

    def __init__(self, m, name, num_lrs, lr, hcr, ctlr, pmr, bpr, abpr, apr):
        self.m, self.name, self.num_lrs = m, name, num_lrs
        self.lr, self.hcr, self.ctlr, self.pmr = lr, hcr, ctlr, pmr
        self.bpr, self.abpr, self.apr = bpr, abpr, apr
        self._memo = {}

    def past(self, name, enable):
        """The same state, registered in the cycles where `enable` is 1."""
        def reg(value, suffix):
            r = Signal(len(value), name=f"{name}_{suffix}")
            with self.m.If(enable):
                self.m.d.sync += r.eq(value)
            return r
        return Arch(self.m, name, self.num_lrs, [reg(v, f"lr{n}") for n, v in enumerate(self.lr)],
                    reg(self.hcr, "hcr"), reg(self.ctlr, "ctlr"), reg(self.pmr, "pmr"),
                    reg(self.bpr, "bpr"), reg(self.abpr, "abpr"), reg(self.apr, "apr"))

    def _signal(self, key, width, expr):
        """`expr` as a named signal, built once (the N*N terms of R5 reuse it)."""
        if key not in self._memo:
            s = Signal(width, name=f"{self.name}_{key}")
            self.m.d.comb += s.eq(expr)
            self._memo[key] = s
        return self._memo[key]

    # -- fields -------------------------------------------------------------
    def lrf(self, n, name):
        return f(self.lr[n], LR_FIELDS, name)

    def hcrf(self, name):
        return f(self.hcr, HCR_FIELDS, name)

    def ctl(self, name):
        return f(self.ctlr, CTLR_FIELDS, name)

    def state(self, n):
        return self.lrf(n, "State")

    # -- arch 2.5, 2.6: EISR and ELRSR ------------------------------------------------
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

    # -- arch 2.4: MISR ---------------------------------------------------------------
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
        return self._signal(f"gprio{n}", 8, self.prio(n) & self.gmask(self.lrf(n, "Grp1")))

    def rp(self):
        """Running priority: 0x100 idle, else the lowest set APR bit << 3 (R4)."""
        return self._signal("rp", 9, Mux(self.apr == 0, 0x100, Cat(Const(0, 3), ctz(self.apr))))

    def rpr(self):
        """GICV_RPR (arch 2.14): 0xFF idle."""
        return Mux(self.apr == 0, 0xFF, Cat(Const(0, 3), ctz(self.apr)))

    def vid_out(self, n):
        return Cat(self.lrf(n, "VirtualID"),
                   Mux(self.lrf(n, "HW"), 0, self.lrf(n, "CPUID")))

    def candidate(self, n):
        """R5: pending only (01), group enabled, priority below the mask."""
        return self._signal(f"cand{n}", 1, (self.state(n) == PENDING)
                            & self.en(self.lrf(n, "Grp1")) & (self.prio(n) < self.pmr))

    def is_best(self, n):
        """R5: the candidate with the smallest prio; ties go to the lowest index."""
        if f"best{n}" not in self._memo:
            beaten = []
            for k in range(self.num_lrs):
                if k != n:
                    better = self.prio(k) <= self.prio(n) if k < n else self.prio(k) < self.prio(n)
                    beaten.append(self.candidate(k) & better)
            self._signal(f"best{n}", 1, self.candidate(n) & ~Cat(*beaten, Const(0)).any())
        return self._memo[f"best{n}"]

    def best_field(self, value):
        """value(n) of the best candidate (0 when there is none)."""
        out = Const(0)
        for n in range(self.num_lrs):
            out = out | Mux(self.is_best(n), value(n), 0)
        return out

    def preempts(self):
        """R5: best exists && gprio(best) < RP."""
        return self.best_field(lambda n: self.gprio(n) < self.rp()) != 0

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

    def highest_pending(self, alias):
        """R7 (GICV_HPPIR, alias=False; GICV_AHPPIR, alias=True): the R5 best
        without the running-priority test; 1023 with HCR.En = 0."""
        value = Const(SPURIOUS, 13)
        for n in reversed(range(self.num_lrs)):
            grp1 = self.lrf(n, "Grp1")
            if alias:
                result = Mux(grp1, self.vid_out(n), SPURIOUS)
            else:
                result = Mux(grp1 & ~self.ctl("AckCtl"), SPURIOUS_GRP1, self.vid_out(n))
            value = Mux(self.is_best(n), result, value)
        return Mux(self.hcrf("En"), value, SPURIOUS)

    def lines(self):
        """R6: (VIRQ, VFIQ)."""
        fiq = self.best_field(lambda n: ~self.lrf(n, "Grp1")) & self.ctl("FIQEn")
        go = self.hcrf("En") & self.preempts()
        return go & ~fiq, go & fiq

    def matches(self, n, vid, src):
        """R8/R9 match: VirtualID == vid, State 10 or 11; for a vSGI (vid < 16,
        HW = 0) also CPUID == the written source CPUID (R8, open point 30; HW = 1 LRs
        have no CPUID field, as in sim/model/lr_bank.py)."""
        return ((self.lrf(n, "VirtualID") == vid)
                & ((self.state(n) == ACTIVE) | (self.state(n) == PENDING_ACTIVE))
                & ((vid >= 16) | self.lrf(n, "HW") | (self.lrf(n, "CPUID") == src)))

    def apr_bit(self, n):
        """R4: the APR bit an acknowledge of LR n sets: gprio(n) >> 3."""
        return (Const(1, 32) << self.gprio(n)[3:8])[:32]


def _register(fragment, name):
    """The register called `name` in the module or its submodules, or None.
    Used only for strengthening invariants on local signals of the RTL's
    elaborate (not ports): rtl/top.py's hold-off counter `hold`, rtl/vcpu.py's
    `eoi_step` and responses, rtl/lr_bank.py's `best_sel`."""
    for stmt in fragment.statements.get("sync", []):
        for sig in stmt._lhs_signals():
            if sig.name == name:
                return sig
    for sub, *_ in fragment.subfragments:
        found = _register(sub, name)
        if found is not None:
            return found
    return None


class Harness(Elaboratable):
    """`group` (a key of GROUPS) around `top` (default: the real
    VirtualInterface(num_lrs); the mutation check passes a broken one).
    `strengthen=False` leaves out the invariants on RTL caches and counters
    that only help induction (a mutant, searched by BMC, must then fail a
    property of its group, not one of those)."""

    def __init__(self, group, num_lrs, top=None, strengthen=True):
        if group not in GROUPS:
            raise ValueError(f"unknown property group {group!r}; known: {', '.join(GROUPS)}")
        regs.check_num_lrs(num_lrs)
        if top is None:
            from vgic.rtl.top import VirtualInterface
            top = VirtualInterface(num_lrs=num_lrs)
        if top.num_lrs != num_lrs:
            raise ValueError(f"top has {top.num_lrs} LRs, harness expects {num_lrs}")
        self.group, self.num_lrs, self.top = group, num_lrs, top
        self.strengthen = strengthen

    def elaborate(self, platform):
        m = Module()
        top, N = self.top, self.num_lrs
        dut = Fragment.get(top, platform)
        blocks = {name: sub.origins[0] for sub, name, *_ in dut.subfragments}
        frags = {name: sub for sub, name, *_ in dut.subfragments}
        m.submodules.dut = dut
        lrb, vcpu, hyp, maint = (blocks[k] for k in ("lr_bank", "vcpu", "hyp", "maintenance"))

        # -- the bus: any request every cycle (regbus: never r_stb and w_stb together).
        # Strobes are free even while the core holds the bus off (ready = 0):
        # the core must ignore them, and the properties check that it does.
        bus = top.bus
        m.d.comb += [
            bus.addr.eq(AnySeq(ADDR_WIDTH)), bus.r_stb.eq(AnySeq(1)), bus.w_stb.eq(AnySeq(1)),
            bus.w_data.eq(AnySeq(32)), bus.w_strb.eq(AnySeq(4)),
            Assume(~(bus.r_stb & bus.w_stb)),
        ]
        ready = bus.ready if hasattr(bus, "ready") else Const(1)
        accepted = (bus.r_stb | bus.w_stb) & ready

        now = Arch(m, "now", N, [lrb.lr[n].as_value() for n in range(N)],
                   hcr=hyp.hcr.as_value(), ctlr=vcpu.ctlr.as_value(),
                   pmr=Cat(Const(0, 3), vcpu.vmprimask), bpr=vcpu.bpr, abpr=vcpu.abpr,
                   apr=vcpu.apr)

        # The last accepted request (`last`) and the state in its cycle (`was`),
        # captured when it is accepted. From the next cycle until another
        # request is accepted (`window`), a property about the request compares
        # `was` with the state `now`: once the core is ready again (`settled`)
        # every effect has landed and `now` must be the final state; before
        # that (ready = 0) each register is either still as it was or already
        # final (`expect`), which also rules out changes from anything else
        # early (short inductions). No state may change in idle cycles either.
        # `rdata` is the r_data of its response (LATENCY cycles after acceptance),
        # held. A reset clears all.
        was = now.past("was", enable=accepted)
        last = {}
        for name, sig in (("addr", bus.addr), ("r_stb", bus.r_stb), ("w_stb", bus.w_stb),
                          ("w_data", bus.w_data), ("w_strb", bus.w_strb)):
            last[name] = Signal(len(sig), name=f"last_{name}")
            with m.If(accepted):
                m.d.sync += last[name].eq(sig)
        has_last = Signal()
        with m.If(accepted):
            m.d.sync += has_last.eq(1)
        # The response (regbus LATENCY): `responding` LATENCY cycles after
        # acceptance, with the request's address and kind (`resp`); after[k]:
        # a request was accepted k cycles before (after[LATENCY] = responding).
        # Another read may be accepted in between (then `last` is that one); the
        # state `was` it captured is the same, since only a read that is not of
        # IAR/AIAR, which changes nothing, leaves the core ready in the next cycle.
        after = [accepted]
        hist = [{"addr": bus.addr, "r_stb": bus.r_stb, "w_stb": bus.w_stb,
                 "w_data": bus.w_data, "w_strb": bus.w_strb}]    # hist[k]: that request
        for k in range(1, LATENCY + 1):
            stage = Signal(name=f"after_{k}")
            nxt = {key: Signal(len(sig), name=f"hist_{k}_{key}") for key, sig in hist[-1].items()}
            m.d.sync += [stage.eq(after[-1])] + [nxt[key].eq(hist[-1][key]) for key in nxt]
            after.append(stage)
            hist.append(nxt)
        responding, resp = after[LATENCY], hist[LATENCY]
        # the cycle in which a request's decoded registers hold it (rtl/top.py:
        # registered at the entry at the edge ending t, decoded at the next)
        decoded, dec = after[2], hist[2]
        held = Signal(32)
        rdata = Mux(responding, bus.r_data, held)
        m.d.sync += held.eq(rdata)
        window = has_last
        settled = window & ready

        def expect(now_value, was_value, final):
            """`now_value` is `final` once settled, `was_value` or `final` before."""
            return Mux(ready, now_value == final, (now_value == was_value) | (now_value == final))

        def was_read(reg):
            return window & last["r_stb"] & (last["addr"] == reg.word)

        def read_resp(reg):
            """The response cycle of a read of `reg` (r_data valid: `rdata`)."""
            return responding & resp["r_stb"] & (resp["addr"] == reg.word)

        def was_write(reg):
            """A full-word write (partial writes are ignored by the core, regbus)."""
            return (window & last["w_stb"] & (last["w_strb"] == 0b1111)
                    & (last["addr"] == reg.word))

        def in_frame(frame):
            first = regs.FRAME_BASE[frame] >> 2
            end = first + (regs.FRAME_SIZE[frame] >> 2)
            return (last["addr"] >= first) & (last["addr"] < end)

        ctx = dict(m=m, now=now, was=was, bus=bus, last=last, settled=settled, ready=ready,
                   hold=_register(dut, "hold"), eoi_step=_register(frags["vcpu"], "eoi_step"),
                   frags=frags, top_frag=dut,
                   window=window, expect=expect,
                   accepted=accepted, responding=responding, after=after, decoded=decoded, dec=dec,
                   resp=resp,
                   rdata=rdata, N=N,
                   top=top, lrb=lrb, vcpu=vcpu, hyp=hyp, maint=maint,
                   was_read=was_read, read_resp=read_resp, was_write=was_write,
                   in_frame=in_frame)
        self._invariants(**ctx)
        getattr(self, f"_{self.group}")(**ctx)
        return m

    # Stored-value rules the other properties rely on (they also strengthen
    # the induction): R3 clamps, arch 2.8 reserved LR bits, arch 2.1 reserved HCR bits.
    def _invariants(self, m, now, vcpu, hyp, N, ready, top, hold, eoi_step, frags, top_frag,
                    last, after, decoded, dec, **_):
        # Property 6, no deadlock (in every group: it also bounds how long an
        # induction trace can hide stale pipeline state behind ready = 0):
        # ready is 0 for at most the hold-off that rtl/top.py documents
        # (hold_cycles after reset or a request, eoi_hold_cycles after an
        # EOIR/AEOIR/DIR), so every request is accepted within that bound.
        bound = max(getattr(top, "hold_cycles", 0), getattr(top, "eoi_hold_cycles", 0))
        waiting = Signal(range(bound + 2))
        with m.If(ready):
            m.d.sync += waiting.eq(0)
        with m.Elif(waiting <= bound):
            m.d.sync += waiting.eq(waiting + 1)
        m.d.comb += Assert(waiting <= bound)
        # Strengthening only: the hold-off counter of rtl/top.py counts down
        # from at most `bound`, and ready = (hold == 0) except in the cycle
        # after an accepted request (which may drop ready before it is
        # decoded). Its register is wider than `bound`, so without these an
        # induction would have to be deeper than its largest value.
        if self.strengthen and hold is not None and bound:
            m.d.comb += [Assert(hold <= bound), Assert(~ready | (hold == 0)),
                         Assert(ready | (hold != 0) | after[1]),
                         Assert(waiting + hold <= bound)]
        # Strengthening only: the vCPU's EOIR/AEOIR/DIR sequence (rtl/vcpu.py
        # `eoi_step`, one-hot: edges 2, 3, 4) runs in step with the hold-off it
        # started (rtl/top.py: eoi_hold_cycles - 2 loaded with the decoded
        # write, then counting down), so an induction cannot start from a
        # sequence further on than its hold-off.
        eoi_hold = getattr(top, "eoi_hold_cycles", None)
        if self.strengthen and hold is not None and eoi_step is not None and eoi_hold:
            for k in range(len(eoi_step)):
                m.d.comb += Assert(~eoi_step[k] | (hold == eoi_hold - 2 - k))
        # Strengthening only: the top's entry registers (rtl/top.py) hold the
        # request accepted in the cycle before, and nothing else.
        entry = {k: _register(top_frag, f"req_{k}") for k in ("r", "w", "addr", "w_data", "w_strb")}
        if self.strengthen and all(v is not None for v in entry.values()):
            m.d.comb += [Assert(entry["r"] == (after[1] & last["r_stb"])),
                         Assert(entry["w"] == (after[1] & last["w_stb"]))]
            with m.If(after[1]):
                m.d.comb += [Assert(entry["addr"] == last["addr"]),
                             Assert(entry["w_data"] == last["w_data"]),
                             Assert(entry["w_strb"] == last["w_strb"])]
        # Strengthening only: a request is decoded at the edge that ends the
        # cycle after its own and applied at the next (rtl/top.py), so the decoded registers
        # (rtl/vcpu.py `we_*` and the registered acknowledge `ack_stb`,
        # rtl/hyp.py `hcr_we` and its write strobes, the top's `w_data`) are set
        # only in the cycle after that decode (`decoded`, t+2), and
        # only for that request. Without these an induction could start with a
        # decoded write or acknowledge that no request made.
        w_full = decoded & dec["w_stb"] & (dec["w_strb"] == 0b1111)
        decodes = [(_register(frags["vcpu"], f"we_{k}"), [r.word for r in rs]) for k, rs in (
            ("ctlr", [regs.GICV_CTLR]), ("pmr", [regs.GICV_PMR]), ("bpr", [regs.GICV_BPR]),
            ("abpr", [regs.GICV_ABPR]), ("eoi", [regs.GICV_EOIR, regs.GICV_AEOIR]),
            ("dir", [regs.GICV_DIR]), ("apr", [regs.GICV_APR0]))]
        decodes += [(_register(frags["hyp"], "hcr_we"), [regs.GICH_HCR.word]),
                    (hyp.vmcr_w_stb, [regs.GICH_VMCR.word]), (hyp.apr_w_stb, [regs.GICH_APR.word])]
        decodes += [(hyp.lr_w_sel[n], [regs.lr(n).word]) for n in range(N)]
        w_data = _register(top_frag, "w_data")
        if self.strengthen and w_data is not None and all(d is not None for d, _ in decodes):
            for sig, words in decodes:
                m.d.comb += Assert(sig == (w_full & Cat(*(dec["addr"] == w for w in words)).any()))
            with m.If(w_full):
                m.d.comb += Assert(w_data == dec["w_data"])
            iar_read = decoded & dec["r_stb"] & ((dec["addr"] == regs.GICV_IAR.word)
                                                  | (dec["addr"] == regs.GICV_AIAR.word))
            m.d.comb += Assert(~vcpu.ack_stb | iar_read)
        m.d.comb += [
            Assert(now.bpr >= regs.BPR_MIN),                  # R3: BPR stored >= 2
            Assert(now.abpr >= regs.ABPR_MIN),                # R3: ABPR stored >= 3
            Assert((now.hcr & ~regs.GICH_HCR.wmask) == 0),    # arch 2.1: reserved HCR bits 0
        ]
        for n in range(N):
            m.d.comb += Assert((now.lr[n] & ~regs.LR_WMASK) == 0)   # arch 2.8: [22:20] not stored
        # Strengthening only: the vCPU keeps caches of R3/R4 values (rtl/vcpu.py
        # docstring: equal to a function of the others). An acknowledge updates
        # them from themselves, so without these an induction could start from
        # a stale cache; with them it cannot.
        if self.strengthen and all(hasattr(vcpu, k) for k in ("rp", "rp_idle", "gmask0", "gmask1")):
            with m.If(ready):
                m.d.comb += [
                    Assert(vcpu.rp_idle == (now.apr == 0)),
                    Assert((now.apr == 0) | (vcpu.rp == ctz(now.apr))),
                    Assert(vcpu.gmask0 == now.gmask(Const(0, 1))[3:]),
                    Assert(vcpu.gmask1 == now.gmask(Const(1, 1))[3:]),
                ]

    # -- 1. ELRSR / EISR --------------------------------------------------------------
    def _elrsr_eisr(self, m, now, was, rdata, ready, lrb, read_resp, **_):
        with m.If(ready):
            for n in range(MAX_LRS):
                m.d.comb += [
                    Assert(lrb.elrsr[n] == now.elrsr(n)),     # arch 2.6, R12 (0 above ListRegs)
                    Assert(lrb.eisr[n] == now.eisr(n)),       # arch 2.5, R12
                ]
        # what a read returns: the definition over the LRs of the request's cycle
        elrsr, eisr = was.elrsr_vec(), was.eisr_vec()
        with m.If(read_resp(regs.GICH_ELRSR0)):
            m.d.comb += Assert(rdata == elrsr[:32])
        with m.If(read_resp(regs.GICH_ELRSR1)):
            m.d.comb += Assert(rdata == elrsr[32:])
        with m.If(read_resp(regs.GICH_EISR0)):
            m.d.comb += Assert(rdata == eisr[:32])
        with m.If(read_resp(regs.GICH_EISR1)):
            m.d.comb += Assert(rdata == eisr[32:])

    # -- 2. MISR and the maintenance line ----------------------------------------------
    def _misr(self, m, now, was, rdata, ready, top, maint, read_resp, **_):
        bits = now.misr_bits()
        with m.If(ready):
            for name, bit in MISR_BITS.items():
                m.d.comb += Assert(maint.misr[bit] == bits[name])    # arch 2.4, one per bit
            m.d.comb += Assert(top.maint_irq == (now.hcrf("En") & (now.misr() != 0)))  # R13, R14
        with m.If(read_resp(regs.GICH_MISR)):
            m.d.comb += Assert(rdata == was.misr())

    # -- 3. acknowledge ----------------------------------------------------------------
    def _iar(self, m, now, was, rdata, ready, window, expect, last, N, top, was_read,
             read_resp, frags, decoded, dec, vcpu, **_):
        lr_same = [now.lr[n] == was.lr[n] for n in range(N)]
        all_same = Cat(*lr_same).all() & (now.apr == was.apr)

        def active(n):
            # the LR as it was, State 01 -> 10, nothing else (R6a)
            return ((was.lr[n] & ~(3 << LR_FIELDS["State"][0]))
                    | (ACTIVE << LR_FIELDS["State"][0]))

        def became_active(n):
            return now.lr[n] == active(n)

        for reg, alias in ((regs.GICV_IAR, False), (regs.GICV_AIAR, True)):
            expected, ack = was.acknowledge(alias)
            with m.If(was_read(reg) & ready):
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
                        & (rdata == was.vid_out(n)) & became_active(n)
                        & (now.apr == (was.apr | was.apr_bit(n)))
                        & Cat(*(lr_same[k] for k in range(N) if k != n)).all())
                spurious = ((rdata == SPURIOUS) | (rdata == SPURIOUS_GRP1)) & all_same
                m.d.comb += Assert(spurious | Cat(*grants).any())
            with m.If(was_read(reg)):
                # Exactly R6a/R6b: the acknowledged LR is the R5 best, nothing else
                # changes, APR gets its bit ...
                apr_final = was.apr
                for n in range(N):
                    m.d.comb += Assert(expect(now.lr[n], was.lr[n],
                                              Mux(ack[n], active(n), was.lr[n])))
                    apr_final = apr_final | Mux(ack[n], was.apr_bit(n), 0)
                m.d.comb += Assert(expect(now.apr, was.apr, apr_final))
            with m.If(read_resp(reg)):
                m.d.comb += Assert(rdata == expected)       # ... and the value read
            # Strengthening only: in the read's decoded cycle (t+2), the registered
            # acknowledge (rtl/vcpu.py `ack_stb`, `ack_bit`; rtl/lr_bank.py
            # `ack_sel`) is R6a's: whether it acknowledges, its LR and APR bit.
            ack_sel = _register(frags["lr_bank"], "ack_sel")
            ack_bit = _register(frags["vcpu"], "ack_bit")
            if self.strengthen and ack_sel is not None and ack_bit is not None:
                with m.If(decoded & dec["r_stb"] & (dec["addr"] == reg.word)):
                    m.d.comb += Assert(vcpu.ack_stb == Cat(*ack).any())
                    for n in range(N):
                        with m.If(ack[n]):
                            m.d.comb += [Assert(ack_sel[:N] == (1 << n)),
                                         Assert(ack_bit == was.apr_bit(n))]
        # Strengthening only: while ready, the vCPU's precomputed responses
        # (rtl/vcpu.py, two register stages after the LR bank's `best`) equal
        # their definitions over the current state, and the LR bank's one-hot
        # `best_sel` marks the LR an acknowledge takes. Without these an
        # induction could start inside a hold-off with a stale pipeline that a
        # read right after it would use.
        resp = {k: _register(frags["vcpu"], k)
                for k in ("iar", "iar_ok", "aiar", "aiar_ok", "hppir", "ahppir", "apr_set")}
        best_sel = _register(frags["lr_bank"], "best_sel")
        if self.strengthen and best_sel is not None and all(v is not None for v in resp.values()):
            with m.If(ready):
                for key, alias in (("iar", False), ("aiar", True)):
                    value, ack = now.acknowledge(alias)
                    m.d.comb += [Assert(resp[key] == value),
                                 Assert(resp[key + "_ok"] == Cat(*ack).any())]
                    for n in range(N):
                        with m.If(ack[n]):
                            m.d.comb += [Assert(best_sel[:N] == (1 << n)),
                                         Assert(resp["apr_set"] == now.apr_bit(n))]
                m.d.comb += [Assert(resp["hppir"] == now.highest_pending(False)),
                             Assert(resp["ahppir"] == now.highest_pending(True))]
        # R7: HPPIR/AHPPIR report the best candidate, no state change
        for reg, alias in ((regs.GICV_HPPIR, False), (regs.GICV_AHPPIR, True)):
            with m.If(read_resp(reg)):
                m.d.comb += Assert(rdata == was.highest_pending(alias))
        # R6: the lines are levels of the state (once the core is ready)
        virq, vfiq = now.lines()
        with m.If(ready):
            m.d.comb += [Assert(top.virq == virq), Assert(top.vfiq == vfiq)]
        # arch 1.4 rule 4: no other read changes an LR or APR
        other_read = (window & last["r_stb"] & ~was_read(regs.GICV_IAR)
                      & ~was_read(regs.GICV_AIAR))
        with m.If(other_read):
            m.d.comb += Assert(all_same)

    # -- 4. guest isolation ------------------------------------------------------------
    def _isolation(self, m, now, was, window, last, N, in_frame, **_):
        state_mask = 3 << LR_FIELDS["State"][0]
        eoicount_mask = 0x1F << HCR_FIELDS["EOICount"][0]
        gicv = window & in_frame("GICV")      # also while its effects land
        with m.If(gicv):
            changed = []
            for n in range(N):
                # arch 2.8: vID, pID/EOI/CPUID, Priority, Grp1, HW are the hypervisor's
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
        # a partial write changes nothing (regbus; arch 1.4 rule 1)
        with m.If(window & last["w_stb"] & (last["w_strb"] != 0b1111)):
            for n in range(N):
                m.d.comb += Assert(now.lr[n] == was.lr[n])
            m.d.comb += Assert((now.hcr == was.hcr) & (now.apr == was.apr)
                               & (now.ctlr == was.ctlr) & (now.pmr == was.pmr)
                               & (now.bpr == was.bpr) & (now.abpr == was.abpr))

    # -- 5b. priority drop side: deactivation, EOICount, forwarding ---------------------------
    def _eoi(self, m, now, was, ready, window, expect, accepted, last, N, top, was_write, **_):
        vid, src = last["w_data"][:10], last["w_data"][10:13]
        eoir = was_write(regs.GICV_EOIR) | was_write(regs.GICV_AEOIR)
        dir_ = was_write(regs.GICV_DIR)
        eoimode = was.ctl("EOImode")
        hit = [was.matches(n, vid, src) for n in range(N)]
        first = [hit[n] & ~Cat(*hit[:n], Const(0)).any() for n in range(N)]   # lowest index
        any_hit = Cat(*hit).any()
        live = (vid < 1020) & ((eoir & ~eoimode) | (dir_ & eoimode))   # R8 / R9 lookups
        deact = live & any_hit
        # R11: +1 for EOIR/AEOIR (EOImode 0) that dropped a priority and matched
        # nothing, and for DIR (EOImode 1) that matched nothing
        inc = (vid < 1020) & ~any_hit & ((eoir & ~eoimode & (was.apr != 0)) | (dir_ & eoimode))
        state_lsb = LR_FIELDS["State"][0]
        for n in range(N):
            # R10: 10 -> 00, 11 -> 01 on the matched LR; every other LR unchanged
            s0 = was.state(n)
            deactivated = ((was.lr[n] & ~(3 << state_lsb))
                           | (Mux(s0 == PENDING_ACTIVE, PENDING, INVALID) << state_lsb))
            with m.If(eoir | dir_):
                m.d.comb += Assert(expect(now.lr[n], was.lr[n],
                                          Mux(deact & first[n], deactivated, was.lr[n])))
        forward = Const(0)
        pid = Const(0, 10)
        for n in range(N):
            p = was.lrf(n, "PhysicalID")
            fwd_n = deact & first[n] & was.lrf(n, "HW") & (p >= 16) & (p < 1020)
            forward = forward | fwd_n
            pid = pid | Mux(fwd_n, p, 0)
        # R10: an HW = 1 LR forwards its pINTID (PPI/SPI) exactly once after the
        # write, before the core is ready again; nothing is forwarded otherwise.
        # `pulses` counts deact_valid cycles since the last accepted request.
        pulses, pintid = Signal(2), Signal(10)
        with m.If(accepted):
            m.d.sync += pulses.eq(0)
        with m.Elif(top.deact_valid & (pulses != 3)):
            m.d.sync += [pulses.eq(pulses + 1), pintid.eq(top.deact_pintid)]
        pulses_now = pulses + top.deact_valid
        pintid_now = Mux(top.deact_valid, top.deact_pintid, pintid)
        with m.If(window):
            m.d.comb += Assert(Mux(ready, pulses_now == forward, pulses_now <= forward))
            with m.If(forward & (pulses_now != 0)):
                m.d.comb += Assert(pintid_now == pid)
        # R11: EOICount + 1 mod 32 exactly when due; a GICH_HCR write sets it
        with m.If(window & ~was_write(regs.GICH_HCR)):
            m.d.comb += Assert(expect(now.hcrf("EOICount"), was.hcrf("EOICount"),
                                      (was.hcrf("EOICount") + inc)[:5]))

    # -- 5. active priorities --------------------------------------------------------
    def _apr(self, m, now, was, rdata, window, expect, last, was_read, read_resp, was_write,
             **_):
        vid = last["w_data"][:10]
        eoi = was_write(regs.GICV_EOIR) | was_write(regs.GICV_AEOIR)
        with m.If(eoi & (vid < 1020)):
            # R4, R8: clear the lowest set bit (the highest active priority), only it
            m.d.comb += Assert(expect(now.apr, was.apr, was.apr & ~lowest_set_bit(was.apr)))
        with m.If(eoi & (vid >= 1020)):
            m.d.comb += Assert(now.apr == was.apr)              # R8: special IDs ignored
        with m.If(was_write(regs.GICV_DIR)):
            m.d.comb += Assert(now.apr == was.apr)              # R9: DIR never touches APR
        # APR changes only by an acknowledge, a drop, or a GICH_APR/GICV_APR0 write
        other = (window & ~eoi & ~was_read(regs.GICV_IAR) & ~was_read(regs.GICV_AIAR)
                 & ~was_write(regs.GICH_APR) & ~was_write(regs.GICV_APR0))
        with m.If(other):
            m.d.comb += Assert(now.apr == was.apr)
        # arch 2.14, R4: GICV_RPR reads the highest active priority, 0xFF when none
        with m.If(read_resp(regs.GICV_RPR)):
            m.d.comb += Assert(rdata == was.rpr())
        # arch 2.16: GICV_APR0 and GICH_APR are one storage
        with m.If(read_resp(regs.GICH_APR) | read_resp(regs.GICV_APR0)):
            m.d.comb += Assert(rdata == was.apr)

    # -- 6. the bus ------------------------------------------------------------------
    def _bus(self, m, now, was, bus, rdata, ready, accepted, responding, resp, window, expect,
             last, N, top, read_resp, was_write, **_):
        # regbus: ack exactly LATENCY cycles after each accepted request (a strobe
        # with ready = 1), never otherwise: a strobe while ready = 0 is ignored
        has_cycle = Signal()
        m.d.sync += has_cycle.eq(1)
        with m.If(has_cycle):
            m.d.comb += Assert(bus.ack == responding)

        # Reads return the state the other groups read (so their properties
        # are about the architectural registers). arch 2.3: VMCR is another name
        # for GICV_CTLR/PMR/BPR/ABPR.
        vmcr = Const(0, 32)
        for name, value in (("VMPriMask", was.pmr[3:]), ("VMBP", was.bpr), ("VMABP", was.abpr),
                            ("VEM", was.ctl("EOImode")), ("VMCBPR", was.ctl("CBPR")),
                            ("VMFIQEn", was.ctl("FIQEn")), ("VMAckCtl", was.ctl("AckCtl")),
                            ("VMGrp1En", was.ctl("EnableGrp1")), ("VMGrp0En", was.ctl("EnableGrp0"))):
            vmcr = vmcr | (value << VMCR_FIELDS[name][0])
        reads = [(regs.GICH_HCR, was.hcr), (regs.GICH_VMCR, vmcr),
                 (regs.GICH_VTR, regs.vtr_value(N)),                  # arch 2.2
                 (regs.GICH_APR, was.apr), (regs.GICV_APR0, was.apr),  # arch 2.16: one storage
                 (regs.GICV_CTLR, was.ctlr), (regs.GICV_PMR, was.pmr),
                 (regs.GICV_BPR, was.bpr), (regs.GICV_ABPR, was.abpr),
                 (regs.GICV_IIDR, regs.IIDR_DEFAULT)]                 # arch 2.17
        reads += [(regs.lr(n), was.lr[n]) for n in range(N)]
        for reg, value in reads:
            with m.If(read_resp(reg)):
                m.d.comb += Assert(rdata == value)
        # arch 1.4 rules 2 and 3: reserved offsets, LRs above ListRegs and write-only
        # registers read 0 (the registers of the other groups' reads excluded)
        known = {r.word for r, _ in reads} | {r.word for r in (
            regs.GICH_MISR, regs.GICH_EISR0, regs.GICH_EISR1, regs.GICH_ELRSR0,
            regs.GICH_ELRSR1, regs.GICV_IAR, regs.GICV_AIAR, regs.GICV_HPPIR,
            regs.GICV_AHPPIR, regs.GICV_RPR)}
        with m.If(responding & resp["r_stb"]
                  & ~Cat(*(resp["addr"] == w for w in sorted(known))).any()):
            m.d.comb += Assert(rdata == 0)

        # Writes store the value through the write masks and clamps of arch 2.19
        w = last["w_data"]
        clamp = lambda v, lo: Mux(v < lo, lo, v)
        with m.If(was_write(regs.GICH_HCR)):
            m.d.comb += Assert(expect(now.hcr, was.hcr, w & regs.GICH_HCR.wmask))
        for n in range(N):
            with m.If(was_write(regs.lr(n))):
                m.d.comb += Assert(expect(now.lr[n], was.lr[n], w & regs.LR_WMASK))
        with m.If(was_write(regs.GICH_VMCR)):
            m.d.comb += [   # VMCR[9,4:0] is GICV_CTLR
                Assert(expect(now.ctlr, was.ctlr, w & regs.GICV_CTLR.wmask)),
                Assert(expect(now.pmr, was.pmr, Cat(Const(0, 3), f(w, VMCR_FIELDS, "VMPriMask")))),
                Assert(expect(now.bpr, was.bpr, clamp(f(w, VMCR_FIELDS, "VMBP"), regs.BPR_MIN))),
                Assert(expect(now.abpr, was.abpr,
                              clamp(f(w, VMCR_FIELDS, "VMABP"), regs.ABPR_MIN))),
            ]
        with m.If(was_write(regs.GICH_APR) | was_write(regs.GICV_APR0)):
            m.d.comb += Assert(expect(now.apr, was.apr, w))
        with m.If(was_write(regs.GICV_CTLR)):
            m.d.comb += Assert(expect(now.ctlr, was.ctlr, w & regs.GICV_CTLR.wmask))
        with m.If(was_write(regs.GICV_PMR)):
            m.d.comb += Assert(expect(now.pmr, was.pmr, w & regs.GICV_PMR.wmask))
        with m.If(was_write(regs.GICV_BPR)):
            m.d.comb += Assert(expect(now.bpr, was.bpr, clamp(w[:3], regs.BPR_MIN)))
        with m.If(was_write(regs.GICV_ABPR)):
            m.d.comb += Assert(expect(now.abpr, was.abpr, clamp(w[:3], regs.ABPR_MIN)))
        # RO registers, reserved offsets and LRs above ListRegs: WI (arch 1.4 rules 2 and 3)
        writable = [regs.GICH_HCR, regs.GICH_VMCR, regs.GICH_APR, regs.GICV_CTLR,
                    regs.GICV_PMR, regs.GICV_BPR, regs.GICV_ABPR, regs.GICV_APR0,
                    regs.GICV_EOIR, regs.GICV_AEOIR, regs.GICV_DIR] + [regs.lr(n) for n in range(N)]
        other = window & last["w_stb"] & ~Cat(*(last["addr"] == r.word for r in writable)).any()
        with m.If(other):
            for n in range(N):
                m.d.comb += Assert(now.lr[n] == was.lr[n])
            m.d.comb += Assert((now.hcr == was.hcr) & (now.apr == was.apr)
                               & (now.ctlr == was.ctlr) & (now.pmr == was.pmr)
                               & (now.bpr == was.bpr) & (now.abpr == was.abpr))

    # -- 7. covers (mode cover, from reset) -----------------------------------------------
    def _cover(self, m, now, was, rdata, settled, top, maint, read_resp, in_frame, **_):
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
        m.d.comb += Cover(settled & in_frame("GICV") & (was.hcrf("EOICount") == 31) & (eoicount == 0))
        # a preempting acknowledge: an interrupt is active (APR != 0) and IAR returns a vID
        m.d.comb += Cover(read_resp(regs.GICV_IAR) & (was.apr != 0) & (rdata < 1020))
        m.d.comb += Cover(top.virq)
        m.d.comb += Cover(top.vfiq)
        m.d.comb += Cover(top.maint_irq)
        m.d.comb += Cover(top.deact_valid)
