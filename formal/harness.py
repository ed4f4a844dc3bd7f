# Ref: arch 2.4-2.8 (MISR, EISR, ELRSR, APR, LR), arch 2.14 (RPR), arch 1.4 (access rules),
#      R1-R14; rtl/regbus.py (ready, settled, 3-cycle response); rtl/timing.py (when
#      things happen); issue 7 properties 1-7.
"""Formal harness around the real VirtualInterface (not part of the design).

The register bus is driven by free inputs (any request, any address, any data,
every cycle; the only assumption is the bus rule that r_stb and w_stb are never
both 1), the clock domain's reset is free too. The properties of one group are
added as Amaranth Assert/Assume/Cover statements; formal/run.py exports the
harness to RTLIL (platform "formal", so the blocks add their own invariants,
see formal/README.md) and formal/<group>.sby proves it.

State is read from the blocks' ports only (`top.lr_bank.status.lr`, `elrsr`,
`eisr`, `top.lr_bank.select.best`; `top.vcpu.gicv.ctlr`, `vmprimask`, `bpr`,
`abpr`, `apr`, `top.vcpu.select.apr_upto`, `gmask0/1`; `top.hyp.gich.hcr`;
`top.maintenance.gich.misr`), and group `bus` proves
that the register reads return exactly that state, so the properties are about
the architectural registers. Every expected value below is the rule of
docs/architecture.md written out in Amaranth (definitions of arch 3: prio, en,
gmask, gprio, RP, vid_out, R5 candidate; class Arch), not the RTL's expression.

Group `cpus` (CLUSTER_GROUPS) has a harness of its own, ClusterHarness (at the
end): a 2-CPU rtl/cluster.py Cluster, each CPU compared with a lone
VirtualInterface fed only that CPU's requests. The GICv3 groups (v3_*) are
formal/harness_v3.py's Harness3, on the same bus machinery (`watch_bus`,
`bus_timing`, `assert_no_deadlock` below). `harness(group, ...)` builds the
harness of any group.
"""
from amaranth.hdl import Elaboratable, Module, Signal, Const, Cat, Mux, Assert, Assume, Cover
from amaranth.asserts import AnySeq

from vgic.rtl import regs
from vgic.rtl.regs import (LR_FIELDS, HCR_FIELDS, CTLR_FIELDS, VMCR_FIELDS, MISR_BITS, MAX_LRS,
                           INVALID, PENDING, ACTIVE, PENDING_ACTIVE, SPURIOUS, SPURIOUS_GRP1)
from vgic.rtl.regbus import ADDR_WIDTH, LATENCY, needs_settled

__all__ = ["GROUPS", "CLUSTER_GROUPS", "Harness", "ClusterHarness", "harness", "watch_bus",
           "bus_timing", "assert_no_deadlock"]

# property group -> what it proves (the .sby file of the same name runs it)
GROUPS = {
    "elrsr_eisr": "1. GICH_ELRSR/EISR equal their definition over the LRs (arch 2.5, 2.6, R12)",
    "misr":       "2. each GICH_MISR bit and maint_irq = HCR.En && MISR != 0 (arch 2.4, R13, R14)",
    "iar":        "3. GICV_IAR/AIAR acknowledge per R5/R6a/R6b, HPPIR per R7, lines per R6; no other read has side effects (arch 1.4 rule 4)",
    "isolation":  "4. GICV accesses change only LR State and HCR.EOICount (arch 2.8, R10, R11)",
    "apr":        "5. EOIR/AEOIR drop the lowest set APR bit only; RPR = highest active priority (R4, R8, R9)",
    "eoi":        "5b. EOIR/AEOIR/DIR deactivate the matched LR, count unmatched EOIs, forward HW pINTIDs (R8-R11)",
    "bus":        "6. every request is acked exactly LATENCY = 3 cycles later, ready/settled are live, derived reads wait for settled; reads return and writes store the registers (regbus, timing, arch 1.4, 2.19)",
    "cover":      "7. reachability: every MISR bit, EOICount wrap, a preempting IAR, the lines",
    "cpus":       "8. several CPUs (rtl/cluster.py, 2 CPUs): each CPU interface is a lone one fed only its own requests and those through its GICH view; one deactivation at a time, deact_cpu names it",
}
# groups whose harness is ClusterHarness (a 2-CPU rtl/cluster.py), not Harness
CLUSTER_GROUPS = ("cpus",)
CLUSTER_CPUS = 2


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


class ArchState:
    """What the architectural-state classes (`Arch` here, `Arch3` in
    formal/harness_v3.py) share: named, memoized definitions and the
    registered copies `past` builds."""

    def _signal(self, key, width, expr):
        """`expr` as a named signal, built once (the N*N terms of R5 reuse it)."""
        if key not in self._memo:
            s = Signal(width, name=f"{self.name}_{key}")
            self.m.d.comb += s.eq(expr)
            self._memo[key] = s
        return self._memo[key]

    def _registered(self, value, name, enable):
        """A copy of `value`, registered in the cycles where `enable` is 1."""
        r = Signal(len(value), name=name)
        with self.m.If(enable):
            self.m.d.sync += r.eq(value)
        return r


class Arch(ArchState):
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
            return self._registered(value, f"{name}_{suffix}", enable)
        return Arch(self.m, name, self.num_lrs, [reg(v, f"lr{n}") for n, v in enumerate(self.lr)],
                    reg(self.hcr, "hcr"), reg(self.ctlr, "ctlr"), reg(self.pmr, "pmr"),
                    reg(self.bpr, "bpr"), reg(self.abpr, "abpr"), reg(self.apr, "apr"))

    def same_as(self, other):
        """Every register of this state equals `other`'s."""
        return (Cat(*(self.lr[n] == other.lr[n] for n in range(self.num_lrs))).all()
                & (self.hcr == other.hcr) & (self.apr == other.apr) & (self.ctlr == other.ctlr)
                & (self.pmr == other.pmr) & (self.bpr == other.bpr) & (self.abpr == other.abpr))

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


def settle_bound(timing):
    """The most cycles from a request that changes state (a write, an IAR/AIAR
    read) until settled is 1 (rtl/timing.py)."""
    return max(timing.settle + timing.match_latency, getattr(timing, "settle_masks", 0)) + 1


EOI_WORDS = (regs.GICV_EOIR.word, regs.GICV_AEOIR.word, regs.GICV_DIR.word)
ACK_WORDS = (regs.GICV_IAR.word, regs.GICV_AIAR.word)      # reads that may acknowledge


def _any_word(addr, words):
    return Cat(*(addr == w for w in words)).any()


def watch_bus(m, top, now, eoi_words, ack_words, needs_settled, frames, frame_size):
    """The bus machinery of every single-interface harness (GICv2 `Harness`,
    GICv3 `formal/harness_v3.py`): `top`'s register bus driven by free inputs,
    the request history, the capture of the last request (`last`) and of the
    state before it (`was = now.past(...)`), the window in which a property
    compares `was` with `now`, `expect`, `read_is` and the frame test
    (formal/README.md, "The harness"). What differs per architecture comes in
    as arguments: `now` (an `Arch`-like object with `past`), the word
    addresses of the EOIs (whose match lands match_latency edges later) and
    of the acknowledges, `needs_settled(addr)` (rtl/regbus.py) and the
    frames' byte bases and sizes. A register passed to read_is/was_read/
    was_write needs `.word` and `.full_name`.

    Returns (ctx, finish): ctx, the names a group method takes; finish(),
    to call once every group's read_is is in (it builds the expected read
    values)."""
    timing = top.timing
    M = timing.match_latency
    # -- the bus: any request every cycle (regbus: never r_stb and w_stb together).
    # Strobes are free even while the core does not take them (ready = 0,
    # or settled = 0 for a read of regbus.SETTLED_READS): the core must
    # ignore them, and the properties check that it does.
    bus = top.bus
    m.d.comb += [
        bus.addr.eq(AnySeq(ADDR_WIDTH)), bus.r_stb.eq(AnySeq(1)), bus.w_stb.eq(AnySeq(1)),
        bus.w_data.eq(AnySeq(32)), bus.w_strb.eq(AnySeq(4)),
        Assume(~(bus.r_stb & bus.w_stb)),
    ]
    ready, settled = bus.ready, bus.settled
    accepted, quiet = Signal(name="accepted"), Signal(name="quiet")
    m.d.comb += [
        # rtl/regbus.py: a request is taken with ready, a read of derived state
        # also needs settled
        accepted.eq(ready & (bus.w_stb | (bus.r_stb & (settled | ~needs_settled(bus.addr))))),
        # everything accepted before this cycle has landed and the derived
        # pipelines are valid (rtl/timing.py)
        quiet.eq(settled & ready),
    ]

    # History: after[k] = a request was accepted k cycles ago, hist[k] = that
    # request. after[LATENCY] is its response cycle (`responding`, `resp`).
    depth = max(LATENCY, 2 + M)
    after = [accepted]
    hist = [{"addr": bus.addr, "r_stb": bus.r_stb, "w_stb": bus.w_stb,
             "w_data": bus.w_data, "w_strb": bus.w_strb}]
    for k in range(1, depth + 1):
        stage = Signal(name=f"after_{k}")
        nxt = {key: Signal(len(sig), name=f"hist_{k}_{key}") for key, sig in hist[-1].items()}
        m.d.sync += [stage.eq(after[-1])] + [nxt[key].eq(hist[-1][key]) for key in nxt]
        after.append(stage)
        hist.append(nxt)
    responding, resp = after[LATENCY], hist[LATENCY]

    def writes(req, words):
        """`req` is a full-word write of one of `words` (partial writes are
        ignored by the core, regbus)."""
        return req["w_stb"] & (req["w_strb"] == 0b1111) & _any_word(req["addr"], words)

    # The last request (`last`) and the state before it (`was`) are captured
    # one cycle after its acceptance: a request accepted in cycle t lands at
    # the edge ending t+1 (rtl/timing.py), so the state in cycle t+1 is
    # exactly the state after every earlier request and before this one.
    # From cycle t+2 until the next capture (`window`; its last cycle is the
    # next request's t'+1) a property about the request compares `was` with
    # the state `now`. Once the request has landed (`landed`: from t+2,
    # t+2+match_latency for an EOIR/AEOIR/DIR, or whenever the bus is
    # `quiet`) each register must be final; before that either as it was or
    # final (`expect`). A reset clears all.
    cap = after[1]
    was = now.past("was", enable=cap)
    last = {}
    for key, sig in hist[1].items():
        last[key] = Signal(len(sig), name=f"last_{key}")
        with m.If(cap):
            m.d.sync += last[key].eq(sig)
    window = Signal(name="window")
    with m.If(cap):
        m.d.sync += window.eq(1)
    age = Signal(range(M + 1), name="age")               # cycle t+2+age
    with m.If(cap):
        m.d.sync += age.eq(0)
    with m.Elif(age != M):
        m.d.sync += age.eq(age + 1)
    last_eoi = writes(last, eoi_words)
    landed = Signal(name="landed")
    m.d.comb += landed.eq(window & (quiet | ~last_eoi | (age == M)))

    def expect(now_value, was_value, final):
        """`now_value` is `final` once landed, `was_value` or `final` before."""
        return Mux(landed, now_value == final, (now_value == was_value) | (now_value == final))

    def was_read(reg):
        return window & last["r_stb"] & (last["addr"] == reg.word)

    def was_write(reg):
        return window & writes(last, [reg.word])

    def read_resp(reg):
        """The response cycle of a read of `reg` (its value on bus.r_data)."""
        return responding & resp["r_stb"] & (resp["addr"] == reg.word)

    # Reads: the value a read of a register returns is a definition over the
    # state in cycle t+1 (`now` then; `was` from t+2), computed then and
    # checked on r_data in the response cycle t+3. For a read of derived
    # state (regbus.SETTLED_READS) this is the new contract's point: it is
    # taken only when settled, so it never answers from a stale pipeline.
    rd_terms = []
    rd_expected = [Signal(32, name=f"rd_expected_{k}") for k in (1, 2)]

    def read_is(reg, value):
        hit = [Signal(name=f"rd_{reg.full_name.lower()}_{k}") for k in (1, 2)]
        m.d.sync += [hit[0].eq(cap & hist[1]["r_stb"] & (hist[1]["addr"] == reg.word)),
                     hit[1].eq(hit[0])]
        rd_terms.append((reg.word, value))
        m.d.comb += Assert(~hit[1] | (bus.r_data == rd_expected[1]), src_loc_at=1)

    def in_frame(frame):
        first = frames[frame] >> 2
        end = first + (frame_size[frame] >> 2)
        return (last["addr"] >= first) & (last["addr"] < end)

    settled_1 = Signal(name="settled_1")                 # settled in the cycle before
    m.d.sync += settled_1.eq(settled)

    def finish():
        value = Const(0, 32)
        for word, v in rd_terms:
            value = Mux(hist[1]["addr"] == word, v, value)
        m.d.sync += [rd_expected[0].eq(value), rd_expected[1].eq(rd_expected[0])]

    ctx = dict(m=m, now=now, was=was, bus=bus, last=last, settled=settled, ready=ready,
               quiet=quiet, settled_1=settled_1, window=window, landed=landed, age=age,
               expect=expect, accepted=accepted, responding=responding, resp=resp,
               after=after, hist=hist, writes=writes, M=M, timing=timing,
               was_read=was_read, was_write=was_write, read_resp=read_resp,
               read_is=read_is, in_frame=in_frame, eoi_words=eoi_words,
               ack_words=ack_words, needs_settled=needs_settled)
    return ctx, finish


def assert_lines(m, top, levels, settled_1, after, hist, ack_words):
    """The lines' timing (rtl/timing.py; R6, V5): if settled in cycle c, the
    lines (top.virq, top.vfiq) in c+1 are `levels` (the definition's (vIRQ,
    vFIQ) of the state of c, registered here; the state in c+1 is the same);
    otherwise they hold, except that an acknowledge (a read of `ack_words`)
    landing drops them."""
    lines = Cat(top.virq, top.vfiq)
    lines_1, expected = Signal(2), Signal(2)
    m.d.sync += [lines_1.eq(lines), expected.eq(Cat(*levels))]
    has_1 = Signal()
    m.d.sync += has_1.eq(1)
    ack_landed = after[2] & hist[2]["r_stb"] & _any_word(hist[2]["addr"], ack_words)
    with m.If(settled_1):
        m.d.comb += Assert(lines == expected, src_loc_at=1)
    with m.Elif(has_1):
        m.d.comb += Assert((lines == lines_1) | (ack_landed & (lines == 0)), src_loc_at=1)


def assert_forwarded(m, top, after, window, landed, forward, pid):
    """R10 (V10 for GICv3): when the last request's deactivation `forward`s
    (an HW = 1 LR with a PPI/SPI pINTID `pid`), deact_valid pulses exactly
    once, with deact_pintid = pid, in the cycle after the deactivation lands
    (before the next request is captured); nothing is forwarded otherwise.
    `pulses` counts deact_valid cycles since the capture."""
    pulses, pintid = Signal(2), Signal(len(top.deact_pintid))
    with m.If(after[1]):
        m.d.sync += pulses.eq(0)
    with m.Elif(top.deact_valid & (pulses != 3)):
        m.d.sync += [pulses.eq(pulses + 1), pintid.eq(top.deact_pintid)]
    pulses_now = pulses + top.deact_valid
    pintid_now = Mux(top.deact_valid, top.deact_pintid, pintid)
    with m.If(window):
        m.d.comb += Assert(Mux(landed, pulses_now == forward, pulses_now <= forward),
                           src_loc_at=1)
        with m.If(forward & (pulses_now != 0)):
            m.d.comb += Assert(pintid_now == pid, src_loc_at=1)


def assert_no_deadlock(m, ready, M):
    """rtl/timing.py: ready is 0 for at most M (match_latency) cycles in a row."""
    unready, unready_1 = Signal(range(M + 2), name="unready"), Signal(range(M + 2))
    m.d.comb += unready.eq(Mux(ready, 0, Mux(unready_1 > M, unready_1, unready_1 + 1)))
    m.d.sync += unready_1.eq(unready)
    m.d.comb += Assert(unready <= M)


def bus_timing(m, now, bus, ready, settled, accepted, responding, after, hist, writes, timing,
               M, ack_words, eoi_words, needs_settled, **_):
    """The bus's timing properties (group bus of either architecture): the
    ack, the liveness of settled, no change but where a request lands, and
    the reads of derived state that are not taken. `now.same_as(prev)`: the
    whole architectural state equal."""
    # regbus: ack exactly LATENCY cycles after each accepted request (a strobe
    # with ready = 1, and settled = 1 for a read of derived state), never
    # otherwise: a strobe that is not taken is ignored
    has_1 = Signal()
    m.d.sync += has_1.eq(1)
    with m.If(has_1):
        m.d.comb += Assert(bus.ack == responding)

    # Liveness of settled (rtl/timing.py): settled is 1 at the latest
    # settle + match_latency + 1 cycles after the last accepted write or
    # IAR/AIAR read (settle_masks + 1 after a write of the masks' sources,
    # if longer; after reset sooner), and stays 1 until the next.
    bound = settle_bound(timing)
    since = Signal(range(bound + 1), name="unsettled_since")
    restart = accepted & (bus.w_stb | (bus.r_stb & _any_word(bus.addr, ack_words)))
    with m.If(restart):
        m.d.sync += since.eq(1)
    with m.Elif(since != bound):
        m.d.sync += since.eq(since + 1)
    m.d.comb += Assert((since < bound) | settled)

    # Nothing changes but at the edge where an accepted request lands
    # (rtl/timing.py: the edge ending t+1; for an EOIR/AEOIR/DIR up to the
    # one ending t+1+match_latency, where its match result lands): strobes
    # that are not taken, and idle cycles, change no register.
    prev = now.past("prev", enable=Const(1))
    same = now.same_as(prev)
    lands = after[2] | Cat(*(after[k] & writes(hist[k], eoi_words)
                             for k in range(3, 3 + M))).any()
    with m.If(has_1 & ~lands):
        m.d.comb += Assert(same)
    # The new contract: a read of derived state (regbus.SETTLED_READS) while
    # settled = 0 (ready = 1) is not taken: no ack, and no change (at the
    # edge ending t+1, where it would have landed).
    ignored = [Signal(name=f"ignored_read_{k}") for k in range(1, LATENCY + 1)]
    m.d.sync += [ignored[0].eq(bus.r_stb & ready & ~settled & needs_settled(bus.addr))]
    m.d.sync += [ignored[k].eq(ignored[k - 1]) for k in range(1, LATENCY)]
    with m.If(ignored[1]):
        m.d.comb += Assert(same)
    with m.If(ignored[LATENCY - 1]):
        m.d.comb += Assert(~bus.ack)


class Harness(Elaboratable):
    """`group` (a key of GROUPS) around `top` (default: the real
    VirtualInterface(num_lrs); the mutation check passes a broken one).
    `strengthen=False` leaves out the invariants that only help induction
    (a mutant, searched by BMC, must then fail a property of its group, not
    one of those); the blocks' own formal invariants (platform "formal")
    are part of the design and stay."""

    def __init__(self, group, num_lrs, top=None, strengthen=True):
        if group not in GROUPS:
            raise ValueError(f"unknown property group {group!r}; known: {', '.join(GROUPS)}")
        if group in CLUSTER_GROUPS:
            raise ValueError(f"group {group!r} is about a Cluster: ClusterHarness (or harness())")
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
        m.submodules.dut = top
        lrb, vcpu, hyp, maint = top.lr_bank, top.vcpu, top.hyp, top.maintenance
        gicv = vcpu.gicv
        now = Arch(m, "now", N, [lrb.status.lr[n].as_value() for n in range(N)],
                   hcr=hyp.gich.hcr.as_value(), ctlr=gicv.ctlr.as_value(),
                   pmr=Cat(Const(0, 3), gicv.vmprimask), bpr=gicv.bpr, abpr=gicv.abpr,
                   apr=gicv.apr)
        ctx, finish = watch_bus(m, top, now, eoi_words=EOI_WORDS, ack_words=ACK_WORDS,
                                needs_settled=needs_settled, frames=regs.FRAME_BASE,
                                frame_size=regs.FRAME_SIZE)
        ctx.update(N=N, top=top, lrb=lrb, vcpu=vcpu, hyp=hyp, maint=maint)
        self._invariants(**ctx)
        getattr(self, f"_{self.group}")(**ctx)
        finish()
        return m

    # In every group: the stored-value rules the other properties rely on (they
    # also strengthen the induction), and the bus's liveness (property 6).
    def _invariants(self, m, now, vcpu, N, M, ready, settled, accepted, bus, timing, **_):
        m.d.comb += [
            Assert(now.bpr >= regs.BPR_MIN),                  # R3: BPR stored >= 2
            Assert(now.abpr >= regs.ABPR_MIN),                # R3: ABPR stored >= 3
            Assert((now.hcr & ~regs.GICH_HCR.wmask) == 0),    # arch 2.1: reserved HCR bits 0
        ]
        for n in range(N):
            m.d.comb += Assert((now.lr[n] & ~regs.LR_WMASK) == 0)   # arch 2.8: [22:20] not stored

        # No deadlock (rtl/timing.py): ready is 0 for at most match_latency
        # cycles in a row (after an EOIR/AEOIR/DIR; one cycle after reset) ...
        assert_no_deadlock(m, ready, M)

        # Strengthening only (rtl/vcpu.py): APR's prefix ORs land with APR,
        # so they match it in every cycle; the R3 masks are valid once
        # settled (rtl/timing.py).
        if self.strengthen:
            for i in range(32):
                m.d.comb += Assert(vcpu.select.apr_upto[i] == (now.apr[:i + 1] != 0))
            with m.If(settled):
                m.d.comb += [
                    Assert(vcpu.select.gmask0 == now.gmask(Const(0, 1))[3:]),
                    Assert(vcpu.select.gmask1 == now.gmask(Const(1, 1))[3:]),
                ]

    # -- 1. ELRSR / EISR --------------------------------------------------------------
    def _elrsr_eisr(self, m, now, lrb, read_is, **_):
        for n in range(MAX_LRS):                 # combinational in the LRs (R12): every cycle
            m.d.comb += [
                Assert(lrb.status.elrsr[n] == now.elrsr(n)),   # arch 2.6, R12 (0 above ListRegs)
                Assert(lrb.status.eisr[n] == now.eisr(n)),     # arch 2.5, R12
            ]
        # what a read returns: the definition over the LRs of the state it reads
        elrsr, eisr = now.elrsr_vec(), now.eisr_vec()
        read_is(regs.GICH_ELRSR0, elrsr[:32])
        read_is(regs.GICH_ELRSR1, elrsr[32:])
        read_is(regs.GICH_EISR0, eisr[:32])
        read_is(regs.GICH_EISR1, eisr[32:])

    # -- 2. MISR and the maintenance line ----------------------------------------------
    def _misr(self, m, now, settled, settled_1, top, maint, read_is, **_):
        bits = now.misr_bits()
        with m.If(settled):                      # MISR (registered) is valid once settled
            for name, bit in MISR_BITS.items():
                m.d.comb += Assert(maint.gich.misr[bit] == bits[name])    # arch 2.4, one per bit
        # R13, R14: if settled in cycle c, maint_irq in c+1 = HCR.En && MISR != 0 of
        # the state in c (registered here; the state in c+1 is the same: a request
        # accepted in c lands only at the edge ending c+1); otherwise it holds
        line, line_1, expected = top.maint_irq, Signal(), Signal()
        m.d.sync += [line_1.eq(line), expected.eq(now.hcrf("En") & (now.misr() != 0))]
        has_1 = Signal()
        m.d.sync += has_1.eq(1)
        with m.If(settled_1):
            m.d.comb += Assert(line == expected)
        with m.Elif(has_1):
            m.d.comb += Assert(line == line_1)
        read_is(regs.GICH_MISR, now.misr())      # a SETTLED_READS read: never stale

    # -- 3. acknowledge ----------------------------------------------------------------
    def _iar(self, m, now, was, bus, settled, settled_1, window, expect, last, N, top, lrb,
             after, hist, was_read, read_is, **_):
        lr_same = [now.lr[n] == was.lr[n] for n in range(N)]
        all_same = Cat(*lr_same).all() & (now.apr == was.apr)
        first = after[2]                 # cycle t+2: `was`, `last` hold the request of t

        def active(n):
            # the LR as it was, State 01 -> 10, nothing else (R6a)
            return ((was.lr[n] & ~(3 << LR_FIELDS["State"][0]))
                    | (ACTIVE << LR_FIELDS["State"][0]))

        acks = []
        for reg, alias in ((regs.GICV_IAR, False), (regs.GICV_AIAR, True)):
            _, ack = was.acknowledge(alias)
            acks.append(Cat(*ack).any())
            # Issue property 3 as stated: a spurious ID and no change, or the
            # vID of an LR that was pending, of an enabled group (and, for IAR
            # Group 1, AckCtl), below the mask and above the running priority,
            # that LR now active, APR bit gprio>>3 set, no other LR changed.
            # The state part is known in cycle t+2 (the acknowledge landed at
            # the edge ending t+1), the value in t+3: registered in between.
            grant = [Signal(name=f"{reg.name.lower()}_grant{n}") for n in range(N)]
            vid = [Signal(13, name=f"{reg.name.lower()}_grant{n}_vid") for n in range(N)]
            same, hit = Signal(name=f"{reg.name.lower()}_same"), Signal(name=f"{reg.name.lower()}_t3")
            for n in range(N):
                grp1 = was.lrf(n, "Grp1")
                group_ok = grp1 if alias else (~grp1 | was.ctl("AckCtl"))
                m.d.sync += [
                    grant[n].eq(was.hcrf("En") & (was.state(n) == PENDING) & was.en(grp1)
                                & group_ok & (was.prio(n) < was.pmr) & (was.gprio(n) < was.rp())
                                & (now.lr[n] == active(n))
                                & (now.apr == (was.apr | was.apr_bit(n)))
                                & Cat(*(lr_same[k] for k in range(N) if k != n)).all()),
                    vid[n].eq(was.vid_out(n)),
                ]
            m.d.sync += [same.eq(all_same), hit.eq(first & was_read(reg))]
            rdata = bus.r_data
            with m.If(hit):
                m.d.comb += Assert((((rdata == SPURIOUS) | (rdata == SPURIOUS_GRP1)) & same)
                                   | Cat(*(grant[n] & (rdata == vid[n]) for n in range(N))).any())
            with m.If(was_read(reg)):
                # Exactly R6a/R6b: the acknowledged LR is the R5 best, nothing else
                # changes, APR gets its bit ...
                apr_final = was.apr
                for n in range(N):
                    m.d.comb += Assert(expect(now.lr[n], was.lr[n],
                                              Mux(ack[n], active(n), was.lr[n])))
                    apr_final = apr_final | Mux(ack[n], was.apr_bit(n), 0)
                m.d.comb += Assert(expect(now.apr, was.apr, apr_final))
            # ... and the value read (over the state before the read, never stale)
            read_is(reg, now.acknowledge(alias)[0])
            # an acknowledge drops the lines as it lands (rtl/timing.py)
            with m.If(first & was_read(reg) & acks[-1]):
                m.d.comb += Assert(~top.virq & ~top.vfiq)
        # R7: HPPIR/AHPPIR report the best candidate, no state change
        read_is(regs.GICV_HPPIR, now.highest_pending(False))
        read_is(regs.GICV_AHPPIR, now.highest_pending(True))
        # R6: if settled in cycle c, the lines in c+1 are the levels of the state
        # in c (registered here; the state in c+1 is the same). Otherwise they
        # hold, except that an acknowledge landing drops them.
        assert_lines(m, top, now.lines(), settled_1, after, hist, ACK_WORDS)
        # arch 1.4 rule 4: no other read changes an LR or APR
        other_read = (window & last["r_stb"] & ~was_read(regs.GICV_IAR)
                      & ~was_read(regs.GICV_AIAR))
        with m.If(other_read):
            m.d.comb += Assert(all_same)
        # Strengthening only: once settled, the LR bank's candidate tree root
        # `select.best` (rtl/lr_bank.py) is the R5 best candidate of the current state,
        # with the fields the vCPU's responses use.
        if self.strengthen:
            best = lrb.select.best
            with m.If(settled):
                m.d.comb += Assert(best.valid == now.any_candidate())
                for n in range(N):
                    with m.If(now.is_best(n)):
                        m.d.comb += [
                            Assert(best.idx == n),
                            Assert(best.prio == now.lrf(n, "Priority")),
                            Assert(best.grp1 == now.lrf(n, "Grp1")),
                            Assert(best.gprio == now.gprio(n)[3:]),
                            Assert(best.pre == (now.gprio(n) < now.rp())),
                            Assert(best.vid == now.vid_out(n)),
                        ]

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
    def _eoi(self, m, now, was, window, landed, expect, after, last, N, top, was_write, **_):
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
        assert_forwarded(m, top, after, window, landed, forward, pid)      # R10
        # R11: EOICount + 1 mod 32 exactly when due; a GICH_HCR write sets it
        with m.If(window & ~was_write(regs.GICH_HCR)):
            m.d.comb += Assert(expect(now.hcrf("EOICount"), was.hcrf("EOICount"),
                                      (was.hcrf("EOICount") + inc)[:5]))

    # -- 5. active priorities --------------------------------------------------------
    def _apr(self, m, now, was, window, expect, last, was_read, was_write, read_is, **_):
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
        read_is(regs.GICV_RPR, now.rpr())
        # arch 2.16: GICV_APR0 and GICH_APR are one storage
        read_is(regs.GICH_APR, now.apr)
        read_is(regs.GICV_APR0, now.apr)

    # -- 6. the bus ------------------------------------------------------------------
    def _bus(self, m, now, was, bus, ready, settled, accepted, responding, resp, window, expect,
             last, N, M, timing, after, hist, writes, read_is, was_write, **_):
        bus_timing(m=m, now=now, bus=bus, ready=ready, settled=settled, accepted=accepted,
                   responding=responding, after=after, hist=hist, writes=writes, timing=timing,
                   M=M, ack_words=ACK_WORDS, eoi_words=EOI_WORDS, needs_settled=needs_settled)

        # Reads return the state the other groups read (so their properties
        # are about the architectural registers). arch 2.3: VMCR is another name
        # for GICV_CTLR/PMR/BPR/ABPR.
        vmcr = Const(0, 32)
        for name, value in (("VMPriMask", now.pmr[3:]), ("VMBP", now.bpr), ("VMABP", now.abpr),
                            ("VEM", now.ctl("EOImode")), ("VMCBPR", now.ctl("CBPR")),
                            ("VMFIQEn", now.ctl("FIQEn")), ("VMAckCtl", now.ctl("AckCtl")),
                            ("VMGrp1En", now.ctl("EnableGrp1")), ("VMGrp0En", now.ctl("EnableGrp0"))):
            vmcr = vmcr | (value << VMCR_FIELDS[name][0])
        reads = [(regs.GICH_HCR, now.hcr), (regs.GICH_VMCR, vmcr),
                 (regs.GICH_VTR, Const(regs.vtr_value(N), 32)),           # arch 2.2
                 (regs.GICH_APR, now.apr), (regs.GICV_APR0, now.apr),  # arch 2.16: one storage
                 (regs.GICV_CTLR, now.ctlr), (regs.GICV_PMR, now.pmr),
                 (regs.GICV_BPR, now.bpr), (regs.GICV_ABPR, now.abpr),
                 (regs.GICV_IIDR, Const(regs.IIDR_DEFAULT, 32))]          # arch 2.17
        reads += [(regs.lr(n), now.lr[n]) for n in range(N)]
        for reg, value in reads:
            read_is(reg, value)
        # arch 1.4 rules 2 and 3: reserved offsets, LRs above ListRegs and write-only
        # registers read 0 (the registers of the other groups' reads excluded)
        known = {r.word for r, _ in reads} | {r.word for r in (
            regs.GICH_MISR, regs.GICH_EISR0, regs.GICH_EISR1, regs.GICH_ELRSR0,
            regs.GICH_ELRSR1, regs.GICV_IAR, regs.GICV_AIAR, regs.GICV_HPPIR,
            regs.GICV_AHPPIR, regs.GICV_RPR)}
        with m.If(responding & resp["r_stb"] & ~_any_word(resp["addr"], sorted(known))):
            m.d.comb += Assert(bus.r_data == 0)

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
        other = window & last["w_stb"] & ~_any_word(last["addr"], [r.word for r in writable])
        with m.If(other):
            for n in range(N):
                m.d.comb += Assert(now.lr[n] == was.lr[n])
            m.d.comb += Assert((now.hcr == was.hcr) & (now.apr == was.apr)
                               & (now.ctlr == was.ctlr) & (now.pmr == was.pmr)
                               & (now.bpr == was.bpr) & (now.abpr == was.abpr))

    # -- 7. covers (mode cover, from reset) -----------------------------------------------
    def _cover(self, m, now, was, landed, after, top, maint, was_read, in_frame, **_):
        misr = {name: maint.gich.misr[bit] for name, bit in MISR_BITS.items()}
        m.d.comb += Cover(misr["EOI"])
        m.d.comb += Cover(misr["U"])
        m.d.comb += Cover(misr["LRENP"])
        m.d.comb += Cover(misr["NP"])
        m.d.comb += Cover(misr["VGrp0E"])
        m.d.comb += Cover(misr["VGrp0D"])
        m.d.comb += Cover(misr["VGrp1E"])
        m.d.comb += Cover(misr["VGrp1D"])
        eoicount = now.hcrf("EOICount")
        m.d.comb += Cover(landed & in_frame("GICV") & (was.hcrf("EOICount") == 31) & (eoicount == 0))
        # a preempting acknowledge: an interrupt is active (APR != 0) and IAR
        # acknowledges another (APR gains a bit)
        m.d.comb += Cover(after[2] & was_read(regs.GICV_IAR) & (was.apr != 0)
                          & (now.apr != was.apr))
        m.d.comb += Cover(top.virq)
        m.d.comb += Cover(top.vfiq)
        m.d.comb += Cover(top.maint_irq)
        m.d.comb += Cover(top.deact_valid)


# -- 8. several CPUs (rtl/cluster.py) -------------------------------------------------------
def harness(group, num_lrs, top=None, strengthen=True, **variant):
    """The harness of `group`: ClusterHarness for CLUSTER_GROUPS, Harness3
    (formal/harness_v3.py) for the GICv3 groups (V3_GROUPS, named v3_*;
    `variant`: V3Config parameters, `workarounds`), else Harness."""
    if group.startswith("v3_"):
        from formal.harness_v3 import Harness3
        return Harness3(group, num_lrs, top=top, strengthen=strengthen, **variant)
    if variant:
        raise ValueError(f"group {group!r} (GICv2) takes no variant, got {', '.join(variant)}")
    cls = ClusterHarness if group in CLUSTER_GROUPS else Harness
    return cls(group, num_lrs, top=top, strengthen=strengthen)


class ClusterHarness(Elaboratable):
    """Group `cpus` around `top` (default: the real Cluster(CLUSTER_CPUS,
    num_lrs); the mutation check passes a broken one) and, for every CPU j,
    a reference: a lone VirtualInterface(num_lrs), `refs[j]`.

    The bus is free as in Harness: any `cpu`, address, data, byte enables and
    strobes every cycle, also while the selected CPU interface has ready = 0
    or settled = 0 (it must ignore them); only never r_stb and w_stb
    together. Reset is free. refs[j] gets, by the map of rtl/regs.py (not by
    the cluster's decode), exactly the requests that belong to CPU j: those
    with cpu == j outside the processor-specific views (its banked GICH and
    GICV, at their addresses), and those of any requester at
    regs.alias_addr(j, offset) (as GICH `offset`). In every other cycle its
    strobes are 0 and its address, data and byte enables are free (not the
    cluster's), so it never sees another CPU's requests at all.

    Proven, every cycle, for every j: CPU j of the cluster is that lone
    interface. Its state (LRs; GICH_HCR, EOICount included; GICV_CTLR, PMR,
    BPR, ABPR, APR; MISR), its lines (the cluster's virq[j], vfiq[j],
    maint_irq[j]), its deactivations, its ready, settled, ack and read data
    equal the reference's. So a request by another CPU (GICH or GICV, read
    or write, taken or not, directly or through any view but j's) never
    changes CPU j's state nor, then or later, its lines; and CPU j's own
    requests, and any through its view, act on it exactly as on a lone CPU
    interface. On the cluster's bus: a request for CPU j sees CPU j's ready
    and settled, and its response (ack, r_data, LATENCY cycles later) is CPU
    j's, alone; a request that is no CPU's (the view of a CPU at or above
    num_cpus) is acknowledged with 0 (RAZ/WI), and the cluster acknowledges
    nothing else. The deactivation port: at most one CPU pulses deact_valid
    in a cycle; the port pulses exactly then, deact_cpu names that CPU and
    deact_pintid is its pINTID.
    """

    def __init__(self, group, num_lrs, top=None, strengthen=True):
        if group not in CLUSTER_GROUPS:
            raise ValueError(f"ClusterHarness proves {', '.join(CLUSTER_GROUPS)}, not {group!r}")
        regs.check_num_lrs(num_lrs)
        from vgic.rtl.cluster import Cluster
        from vgic.rtl.top import VirtualInterface
        if top is None:
            top = Cluster(CLUSTER_CPUS, num_lrs)
        if top.num_lrs != num_lrs:
            raise ValueError(f"top has {top.num_lrs} LRs, harness expects {num_lrs}")
        self.group, self.num_lrs, self.top = group, num_lrs, top
        self.refs = [VirtualInterface(num_lrs=num_lrs, iidr=top.iidr) for _ in top.cpus]
        self.strengthen = strengthen

    def elaborate(self, platform):
        m = Module()
        cl = self.top
        m.submodules.dut = cl
        bus = cl.bus
        m.d.comb += [
            bus.cpu.eq(AnySeq(len(bus.cpu))),
            bus.addr.eq(AnySeq(ADDR_WIDTH)), bus.r_stb.eq(AnySeq(1)), bus.w_stb.eq(AnySeq(1)),
            bus.w_data.eq(AnySeq(32)), bus.w_strb.eq(AnySeq(4)),
            Assume(~(bus.r_stb & bus.w_stb)),
        ]
        mine = []                        # the presented request is CPU j's
        for j, ref in enumerate(self.refs):
            m.submodules[f"ref{j}"] = ref
            mine.append(self._watch(m, j, ref))
        # -- a request that is no CPU's (the view of a CPU at or above
        #    num_cpus) is RAZ/WI: acknowledged LATENCY cycles later with 0; the
        #    cluster acknowledges nothing else than that and its CPUs' answers
        void = Signal(LATENCY, name="void_requests")
        m.d.sync += void.eq(Cat((bus.r_stb | bus.w_stb) & ~Cat(*mine).any(), void[:-1]))
        m.d.comb += Assert(bus.ack == (void[-1] | Cat(*(ref.bus.ack for ref in self.refs)).any()))
        with m.If(void[-1]):
            m.d.comb += Assert(bus.r_data == 0)

        # -- the deactivation port (rtl/cluster.py): the CPUs' pulses never
        #    collide; the port pulses exactly when one CPU does, and names it
        valids = Cat(*(cpu.deact_valid for cpu in cl.cpus))
        m.d.comb += [
            Assert((valids & (valids - 1)) == 0),
            Assert(cl.deact_valid == valids.any()),
        ]
        for n, cpu in enumerate(cl.cpus):
            with m.If(cpu.deact_valid):
                m.d.comb += [Assert(cl.deact_cpu == n),
                             Assert(cl.deact_pintid == cpu.deact_pintid)]
        return m

    def _watch(self, m, j, ref):
        """refs[j] fed CPU j's requests; CPU j of the cluster asserted equal to it."""
        cl, bus, N = self.top, self.top.bus, self.num_lrs
        cpu = cl.cpus[j]
        # -- the requests of CPU j, by the map (rtl/regs.py, byte addresses)
        byte = Cat(Const(0, 2), bus.addr)
        views = (byte >= regs.ALIAS_BASE) & (byte < regs.ALIAS_BASE + regs.ALIAS_STRIDE * regs.MAX_CPUS)
        base = regs.alias_addr(j, 0)
        in_view = (byte >= base) & (byte < base + regs.ALIAS_STRIDE)
        for_j = Signal(name=f"for_cpu{j}")            # the presented request is CPU j's
        m.d.comb += for_j.eq(Mux(views, in_view, bus.cpu == j))
        word = Signal(ADDR_WIDTH, name=f"cpu{j}_addr")  # what CPU j's interface is asked for
        offset = (byte - base)[:(regs.ALIAS_STRIDE - 1).bit_length()]    # GICH offset in the view
        m.d.comb += word.eq(Mux(views, (regs.core_addr("GICH", 0) + offset) >> 2, bus.addr))
        rbus = ref.bus
        m.d.comb += [
            rbus.addr.eq(Mux(for_j, word, AnySeq(ADDR_WIDTH))),
            rbus.w_data.eq(Mux(for_j, bus.w_data, AnySeq(32))),
            rbus.w_strb.eq(Mux(for_j, bus.w_strb, AnySeq(4))),
            rbus.r_stb.eq(bus.r_stb & for_j),
            rbus.w_stb.eq(bus.w_stb & for_j),
        ]

        # -- CPU j of the cluster is the lone interface, every cycle: state ...
        g, rg = cpu.vcpu.gicv, ref.vcpu.gicv
        for k in range(N):
            m.d.comb += Assert(cpu.lr_bank.status.lr[k].as_value()
                               == ref.lr_bank.status.lr[k].as_value())
        m.d.comb += [
            Assert(cpu.hyp.gich.hcr.as_value() == ref.hyp.gich.hcr.as_value()),
            Assert(g.ctlr.as_value() == rg.ctlr.as_value()),
            Assert(g.vmprimask == rg.vmprimask),
            Assert(g.bpr == rg.bpr),
            Assert(g.abpr == rg.abpr),
            Assert(g.apr == rg.apr),
            Assert(cpu.maintenance.gich.misr == ref.maintenance.gich.misr),
        ]
        # ... its lines (the cluster's, bit j), deactivations and bus
        m.d.comb += [
            Assert(cl.virq[j] == ref.virq),
            Assert(cl.vfiq[j] == ref.vfiq),
            Assert(cl.maint_irq[j] == ref.maint_irq),
            Assert(cpu.deact_valid == ref.deact_valid),
            Assert(~ref.deact_valid | (cpu.deact_pintid == ref.deact_pintid)),
            Assert(cpu.bus.ready == rbus.ready),
            Assert(cpu.bus.settled == rbus.settled),
            Assert(cpu.bus.ack == rbus.ack),
            Assert(~rbus.ack | (cpu.bus.r_data == rbus.r_data)),
        ]
        if self.strengthen:
            # Strengthening only: APR's prefix ORs, a register that lands with
            # APR (rtl/vcpu.py), are the same too (else the induction may
            # start from two that differ unseen until the lines load; it
            # fails without this)
            m.d.comb += Assert(cpu.vcpu.select.apr_upto == ref.vcpu.select.apr_upto)

        # -- the cluster's bus: a request for CPU j sees CPU j's flow control,
        #    and its response (LATENCY cycles later) is CPU j's, alone
        with m.If(for_j):
            m.d.comb += [Assert(bus.ready == rbus.ready), Assert(bus.settled == rbus.settled)]
        with m.If(rbus.ack):
            m.d.comb += [Assert(bus.ack), Assert(bus.r_data == rbus.r_data)]
        return for_j
