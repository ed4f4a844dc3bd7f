# Ref: arch 2.1-2.19 and rules R1-R14, written out as executable pseudo-code below
"""Property tests (hypothesis) of the golden model against docs/architecture.md.

`SpecState` is the pseudo-code of docs/architecture.md (arch 3 and the register tables)
transcribed on its own, on a snapshot of the architectural state read back
through the registers. Random hypervisor + guest sequences run on the model
at random LR counts; after every access:

- the access's result, the new state and the forwarded deactivations equal
  what the rules give for the state before it (R5-R11, arch 2.19 masks);
- ELRSR/EISR agree with the LR contents (arch 2.5, 2.6); MISR bits equal their
  definitions (arch 2.4); maint == En && MISR != 0 (R13); VIRQ/VFIQ follow R6 and
  are never both 1; RPR follows APR (R4); HPPIR/AHPPIR follow R7;
- GICV accesses change only the State field of LRs (arch 2.8);
- the VMCR fields and GICV_CTLR/PMR/BPR/ABPR are one storage (arch 2.3).
"""
from dataclasses import dataclass, replace

from hypothesis import given, settings, strategies as st, HealthCheck

from vgic.rtl import regs
from vgic.sim.model import VirtualInterface

ALL_ONES = 0xFFFF_FFFF
LR_COUNTS = [1, 2, 3, 4, 5, 8, 16, 31, 32, 33, 48, 63, 64]


def ctz(x):
    return (x & -x).bit_length() - 1


# -- the architecture document's pseudo-code (arch 3) ---------------------------

def lr_state(v):
    return v >> 28 & 3


def lr_prio(v):
    return (v >> 23 & 0x1F) << 3                            # R2


def lr_grp1(v):
    return v >> 30 & 1


def lr_hw(v):
    return v >> 31


def lr_vid(v):
    return v & 0x3FF


def lr_cpuid(v):
    return v >> 10 & 7


def set_state(v, s):
    return (v & ~(3 << 28)) | s << 28


@dataclass(frozen=True)
class SpecState:
    n: int
    lrs: tuple
    hcr: int
    ctlr: int
    pmr: int
    bpr: int
    abpr: int
    apr: int

    # shared definitions (section 3)
    def en_grp(self, g):
        return self.ctlr >> g & 1

    def gmask(self, g):
        if g == 0 or self.ctlr >> 4 & 1:
            return (0xFF << (self.bpr + 1)) & 0xFF
        return (0xFF << self.abpr) & 0xFF

    def gprio(self, i):
        return lr_prio(self.lrs[i]) & self.gmask(lr_grp1(self.lrs[i]))

    @property
    def rp(self):
        return 0x100 if self.apr == 0 else ctz(self.apr) << 3

    @property
    def en(self):
        return self.hcr & 1

    def vid_out(self, i):
        v = self.lrs[i]
        return lr_vid(v) | (0 if lr_hw(v) else lr_cpuid(v) << 10)

    # R5
    def best(self):
        cands = [i for i, v in enumerate(self.lrs)
                 if lr_state(v) == 1 and self.en_grp(lr_grp1(v)) and lr_prio(v) < self.pmr]
        return min(cands, key=lambda i: (lr_prio(self.lrs[i]), i)) if cands else None

    def preempts(self):
        b = self.best()
        return b is not None and self.gprio(b) < self.rp

    # R6
    def lines(self):
        b = self.best()
        fiq = b is not None and lr_grp1(self.lrs[b]) == 0 and self.ctlr >> 3 & 1
        p = self.en and self.preempts()
        return int(bool(p and not fiq)), int(bool(p and fiq))

    # arch 2.5, 2.6
    def eisr(self):
        return sum(1 << i for i, v in enumerate(self.lrs)
                   if lr_state(v) == 0 and not lr_hw(v) and v >> 19 & 1)

    def elrsr(self):
        return sum(1 << i for i, v in enumerate(self.lrs)
                   if lr_state(v) == 0 and (lr_hw(v) or not v >> 19 & 1))

    # arch 2.4
    def misr(self):
        h, c = self.hcr, self.ctlr
        valid = sum(1 for v in self.lrs if lr_state(v) != 0)
        pending = any(lr_state(v) == 1 for v in self.lrs)
        bits = [self.eisr() != 0,
                h >> 1 & 1 and valid <= 1,
                h >> 2 & 1 and h >> 27 != 0,
                h >> 3 & 1 and not pending,
                h >> 4 & 1 and c & 1,
                h >> 5 & 1 and not c & 1,
                h >> 6 & 1 and c >> 1 & 1,
                h >> 7 & 1 and not c >> 1 & 1]
        return sum(1 << k for k, b in enumerate(bits) if b)

    def maint(self):
        return int(bool(self.en and self.misr()))           # R13

    def rpr(self):
        return 0xFF if self.apr == 0 else ctz(self.apr) << 3  # R4, arch 2.14

    def vmcr(self):
        return (self.pmr >> 3) << 27 | self.bpr << 21 | self.abpr << 18 | self.ctlr

    # R6a / R6b: (result, new state)
    def acknowledge(self, alias):
        if not self.en or not (self.ctlr & 3):
            return 1023, self
        b = self.best()
        if b is None:
            return 1023, self
        g = lr_grp1(self.lrs[b])
        if alias and not g:
            return 1023, self
        if not alias and g and not self.ctlr >> 2 & 1:
            return 1022, self
        gp = self.gprio(b)
        if gp >= self.rp:
            return 1023, self
        lrs = list(self.lrs)
        lrs[b] = set_state(lrs[b], 2)
        return self.vid_out(b), replace(self, lrs=tuple(lrs), apr=self.apr | 1 << (gp >> 3))

    # R7
    def highest_pending(self, alias):
        b = self.best()
        if not self.en or b is None:
            return 1023
        g = lr_grp1(self.lrs[b])
        if alias:
            return self.vid_out(b) if g else 1023
        if g and not self.ctlr >> 2 & 1:
            return 1022
        return self.vid_out(b)

    def match(self, vid, src):
        for i, v in enumerate(self.lrs):
            if lr_vid(v) == vid and lr_state(v) in (2, 3):
                if vid < 16 and not lr_hw(v) and lr_cpuid(v) != src:
                    continue                                 # open point 30
                return i
        return None

    # R10: (new lrs, forwarded list)
    def deactivate(self, lrs, i):
        v = lrs[i]
        lrs[i] = set_state(v, 1 if lr_state(v) == 3 else 0)
        pintid = v >> 10 & 0x3FF
        return [pintid] if lr_hw(v) and 16 <= pintid < 1020 else []

    def count(self):
        return (self.hcr & 0x07FF_FFFF) | (((self.hcr >> 27) + 1) % 32) << 27   # R11

    # R8: (new state, forwarded)
    def eoi(self, value):
        vid, src = value & 0x3FF, value >> 10 & 7
        if vid >= 1020:
            return self, []
        dropped = self.apr != 0
        s = replace(self, apr=self.apr & (self.apr - 1))
        if self.ctlr >> 9 & 1:
            return s, []
        i = self.match(vid, src)
        if i is not None:
            lrs = list(self.lrs)
            fwd = self.deactivate(lrs, i)
            return replace(s, lrs=tuple(lrs)), fwd
        if dropped:
            return replace(s, hcr=self.count()), []
        return s, []

    # R9
    def dir(self, value):
        vid, src = value & 0x3FF, value >> 10 & 7
        if not self.ctlr >> 9 & 1 or vid >= 1020:
            return self, []
        i = self.match(vid, src)
        if i is not None:
            lrs = list(self.lrs)
            fwd = self.deactivate(lrs, i)
            return replace(self, lrs=tuple(lrs)), fwd
        return replace(self, hcr=self.count()), []

    # arch 2.19 write masks and clamps
    def write(self, name, v):
        if name.startswith("GICH_LR"):
            i = int(name[7:])
            if i >= self.n:
                return self                                  # arch 1.4 rule 2
            lrs = list(self.lrs)
            lrs[i] = v & 0xFF8F_FFFF
            return replace(self, lrs=tuple(lrs))
        match name:
            case "GICH_HCR":
                return replace(self, hcr=v & 0xF800_00FF)
            case "GICH_VMCR":
                return replace(self, ctlr=v & 0x21F, pmr=(v >> 27) << 3,
                               bpr=max(2, v >> 21 & 7), abpr=max(3, v >> 18 & 7))
            case "GICH_APR" | "GICV_APR0":
                return replace(self, apr=v)
            case "GICV_CTLR":
                return replace(self, ctlr=v & 0x21F)
            case "GICV_PMR":
                return replace(self, pmr=v & 0xF8)
            case "GICV_BPR":
                return replace(self, bpr=max(2, v & 7))
            case "GICV_ABPR":
                return replace(self, abpr=max(3, v & 7))
        raise AssertionError(name)


# -- driving the model ------------------------------------------------------------

def rd(m, name):
    r = regs.lookup(name)
    return m.read(r.frame, r.offset)


def wr(m, name, value, strb=0xF):
    r = regs.lookup(name)
    m.write(r.frame, r.offset, value, strb)


def observe(m):
    """The architectural state, read back through the hypervisor's registers."""
    vmcr = rd(m, "GICH_VMCR")
    return SpecState(n=m.num_lrs, lrs=tuple(rd(m, f"GICH_LR{i}") for i in range(m.num_lrs)),
                     hcr=rd(m, "GICH_HCR"), ctlr=vmcr & 0x21F, pmr=(vmcr >> 27) << 3,
                     bpr=vmcr >> 21 & 7, abpr=vmcr >> 18 & 7, apr=rd(m, "GICH_APR"))


def check_derived(m, s):
    """Every derived register and line against the definitions of docs/architecture.md."""
    n = m.num_lrs
    assert rd(m, "GICH_VMCR") == s.vmcr()
    # arch 2.3 alias, seen from the guest
    assert (rd(m, "GICV_CTLR"), rd(m, "GICV_PMR"), rd(m, "GICV_BPR"),
            rd(m, "GICV_ABPR")) == (s.ctlr, s.pmr, s.bpr, s.abpr)
    assert rd(m, "GICV_APR0") == s.apr
    assert rd(m, "GICH_ELRSR0") | rd(m, "GICH_ELRSR1") << 32 == s.elrsr()
    assert rd(m, "GICH_EISR0") | rd(m, "GICH_EISR1") << 32 == s.eisr()
    assert s.elrsr() & s.eisr() == 0
    assert (s.elrsr() | s.eisr()) >> n == 0
    assert rd(m, "GICH_MISR") == s.misr()
    assert m.maint == s.maint()
    assert m.maint == int(bool(s.en and rd(m, "GICH_MISR")))
    assert (m.virq, m.vfiq) == s.lines()
    assert not (m.virq and m.vfiq)
    assert rd(m, "GICV_RPR") == s.rpr()
    assert rd(m, "GICV_HPPIR") == s.highest_pending(alias=False)
    assert rd(m, "GICV_AHPPIR") == s.highest_pending(alias=True)
    assert rd(m, "GICH_VTR") == 0x9000_0000 | (n - 1)


def only_state_changed(before, after):
    """arch 2.8: on GICV accesses the hardware changes only State [29:28]."""
    return all((a ^ b) & ~(3 << 28) == 0 for a, b in zip(before, after))


def step(m, s, op):
    """Apply `op` to the model and to the spec state; compare. Returns the new
    spec state (as read back from the model, after the comparison)."""
    kind = op[0]
    fwd_before = len(m.forwarded)
    if kind == "write":
        _, name, value = op
        wr(m, name, value)
        expect, fwd = s.write(name, value), []
    elif kind in ("IAR", "AIAR"):
        got = rd(m, f"GICV_{kind}")
        want, expect = s.acknowledge(alias=kind == "AIAR")
        assert got == want, f"GICV_{kind}: {got} != {want}"
        fwd = []
    elif kind in ("EOIR", "AEOIR"):
        wr(m, f"GICV_{kind}", op[1])
        expect, fwd = s.eoi(op[1])
    elif kind == "DIR":
        wr(m, "GICV_DIR", op[1])
        expect, fwd = s.dir(op[1])
    elif kind == "partial":                                  # arch 1.4 rule 1: ignored
        _, name, value, strb = op
        wr(m, name, value, strb)
        expect, fwd = s, []
    elif kind == "reserved":                                 # arch 1.4 rule 2: RAZ/WI
        _, frame, offset, value = op
        m.write(frame, offset, value)
        assert m.read(frame, offset) == 0
        expect, fwd = s, []
    elif kind == "read":                                     # no side effects (arch 1.4 rule 4)
        rd(m, op[1])
        expect, fwd = s, []
    else:
        raise AssertionError(op)
    got = observe(m)
    assert got == expect, f"after {op}: {got} != {expect}"
    assert m.forwarded[fwd_before:] == fwd, f"after {op}: forwarded"
    if kind not in ("write", "partial", "reserved") or op[1].startswith("GICV"):
        assert only_state_changed(s.lrs, got.lrs)
    check_derived(m, got)
    return got


# -- strategies -------------------------------------------------------------------

VIDS = [2, 3, 16, 17, 18, 40, 41, 1019]                     # SGIs, duplicates likely
PINTIDS = [5, 16, 31, 200, 1019, 1020]
PRIOS = [0x00, 0x08, 0x10, 0x40, 0x48, 0x50, 0x80, 0x88, 0x90, 0xC0, 0xF0, 0xF8]
# offsets holding no register (checked against the table, so never a live one)
RESERVED = [(f, o) for f in ("GICH", "GICV")
            for o in (0x00C, 0x014, 0x02C, 0x040, 0x0D4, 0x0E0, 0x0EC, 0x0F4, 0x200, 0x30C,
                      0xFFC, 0x100C, 0x1FFC)
            if o < regs.FRAME_SIZE[f] and (regs.decode(f, o) is None or regs.decode(f, o).access == "RES")]
WORD = st.integers(0, ALL_ONES)


@st.composite
def lr_values(draw):
    """LR values biased towards live interrupts (mostly pending), a small vid
    pool (so duplicates and vSGIs from several CPUs occur), both layouts."""
    hw = draw(st.integers(0, 3)) == 0
    v = (hw << 31 | draw(st.integers(0, 1)) << 30
         | draw(st.sampled_from([1, 1, 1, 0, 2, 3])) << 28
         | (draw(st.sampled_from(PRIOS)) >> 3) << 23 | draw(st.sampled_from(VIDS)))
    if hw:
        v |= draw(st.sampled_from(PINTIDS)) << 10
    else:
        v |= draw(st.sampled_from([0, 0, 1])) << 19 | draw(st.sampled_from([0, 0, 1, 5])) << 10
    if draw(st.integers(0, 15)) == 0:
        v = draw(WORD)                                       # occasionally anything
    return v


def eoi_values():
    return st.builds(lambda vid, cpu, junk: vid | cpu << 10 | junk,
                     st.sampled_from(VIDS + [1020, 1023]), st.sampled_from([0, 0, 1, 5]),
                     st.sampled_from([0, 0, 0, 0xFFFF_E000]))


def apr_values():
    return st.one_of(st.just(0), st.builds(lambda k: 1 << k, st.integers(0, 31)), WORD)


def _write(name, values):
    return st.builds(lambda v: ("write", name, v), values)


RW_NAMES = ["GICH_HCR", "GICH_VMCR", "GICH_APR", "GICV_CTLR", "GICV_PMR", "GICV_BPR",
            "GICV_ABPR", "GICV_APR0", "GICH_LR0", "GICV_EOIR", "GICV_DIR"]
# access kinds with weights; payloads that do not depend on the state are built once
OP_WEIGHTS = {"lr": 10, "IAR": 8, "AIAR": 4, "EOIR": 6, "AEOIR": 2, "DIR": 3, "hcr": 1,
              "vmcr": 1, "apr": 2, "ctlr": 2, "pmr": 1, "bp": 2, "partial": 1, "reserved": 1,
              "read": 1}
OP_KIND = st.sampled_from([k for k, w in OP_WEIGHTS.items() for _ in range(w)])
PAYLOAD = {
    "IAR": st.just(("IAR",)),
    "AIAR": st.just(("AIAR",)),
    "hcr": _write("GICH_HCR", st.one_of(WORD, st.builds(
        lambda e, c: e | c << 27 | 1, st.integers(0, 0xFF),
        st.one_of(st.sampled_from([31, 30, 1]), st.integers(0, 31))))),
    "vmcr": _write("GICH_VMCR", WORD),
    "apr": st.builds(lambda r, v: ("write", r, v), st.sampled_from(["GICH_APR", "GICV_APR0"]),
                     apr_values()),
    "ctlr": _write("GICV_CTLR", st.one_of(st.integers(0, 0x3FF), WORD)),
    "pmr": _write("GICV_PMR", st.one_of(st.sampled_from(PRIOS), WORD)),
    "bp": st.builds(lambda r, v: ("write", r, v), st.sampled_from(["GICV_BPR", "GICV_ABPR"]),
                    st.integers(0, 15)),
    "partial": st.builds(lambda r, v, b: ("partial", r, v, b), st.sampled_from(RW_NAMES), WORD,
                         st.integers(0, 14)),
    "reserved": st.builds(lambda fo, v: ("reserved", *fo, v), st.sampled_from(RESERVED), WORD),
    "read": st.builds(lambda r: ("read", r), st.sampled_from(
        ["GICV_HPPIR", "GICV_AHPPIR", "GICV_RPR", "GICV_EOIR", "GICV_DIR", "GICH_MISR"])),
}
LR_VALUES = lr_values()
EOI_VALUES = eoi_values()
_INDEX = {}


def index_below(k):
    if k not in _INDEX:
        _INDEX[k] = st.integers(0, k - 1)
    return _INDEX[k]


def draw_op(data, s):
    """One access, drawn with weights and from the current state `s`: EOIs
    mostly name an interrupt that is active in some LR, LR writes mostly hit
    implemented LRs."""
    kind = data.draw(OP_KIND)
    if kind in ("EOIR", "AEOIR", "DIR"):
        live = sorted({lr_vid(v) | (0 if lr_hw(v) else lr_cpuid(v) << 10)
                       for v in s.lrs if lr_state(v) in (2, 3)})
        if live and data.draw(index_below(3)):
            return kind, live[data.draw(index_below(len(live)))]
        return kind, data.draw(EOI_VALUES)
    if kind == "lr":
        i = data.draw(index_below(64 if data.draw(index_below(4)) == 0 else s.n))
        return "write", f"GICH_LR{i}", data.draw(LR_VALUES)
    return data.draw(PAYLOAD[kind])


@st.composite
def setups(draw, num_lrs):
    """A running guest most of the time: En, both groups, PMR open; random
    binary points, CBPR, AckCtl, FIQEn, EOImode and maintenance enables."""
    # (hypothesis favours small integers: "!= 9" makes En = 1 the common case)
    hcr = draw(st.integers(0, 0xFF)) & ~1 | (draw(st.integers(0, 9)) != 9)
    ctlr = draw(st.integers(0, 0x3FF)) & 0x21F
    if draw(st.integers(0, 4)) != 4:
        ctlr |= 3
    pmr = draw(st.one_of(st.just(0xF8), st.just(0xF8), st.sampled_from(PRIOS)))
    ops_ = [("write", "GICH_HCR", hcr), ("write", "GICV_CTLR", ctlr),
            ("write", "GICV_PMR", pmr),
            ("write", "GICV_BPR", draw(st.integers(0, 7))),
            ("write", "GICV_ABPR", draw(st.integers(0, 7)))]
    ops_ += [("write", f"GICH_LR{i}", draw(lr_values()))
             for i in range(draw(st.integers(0, min(num_lrs, 6))))]
    return ops_


# -- properties -------------------------------------------------------------------

@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_sequences_follow_the_spec(data):
    """R5-R11, arch 2.3-2.8, 2.19, 1.4: every step of a random hypervisor + guest
    sequence gives the rules' result and state; derived registers, lines
    and MISR always equal their definitions."""
    num_lrs = data.draw(st.sampled_from(LR_COUNTS), label="num_lrs")
    m = VirtualInterface(num_lrs=num_lrs)
    s = observe(m)
    # R15: HCR 0, VMCR 0x004C0000 (BPR 2, ABPR 3), APR 0, LRs 0
    assert s == SpecState(n=num_lrs, lrs=(0,) * num_lrs, hcr=0, ctlr=0, pmr=0, bpr=2, abpr=3,
                          apr=0)
    check_derived(m, s)
    for op in data.draw(setups(num_lrs), label="setup"):
        s = step(m, s, op)
    for _ in range(data.draw(st.integers(1, 40), label="length")):
        s = step(m, s, draw_op(data, s))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(LR_COUNTS), st.lists(st.tuples(st.integers(0, 63), lr_values()),
                                             max_size=80))
def test_elrsr_eisr_agree_with_lr_contents(num_lrs, writes):
    """arch 2.5/2.6/R12: after any LR writes, ELRSR/EISR equal their definitions on
    the LRs read back, and LRs above ListRegs stay RAZ."""
    m = VirtualInterface(num_lrs=num_lrs)
    for i, v in writes:
        wr(m, f"GICH_LR{i}", v)
        s = observe(m)
        assert rd(m, "GICH_ELRSR0") | rd(m, "GICH_ELRSR1") << 32 == s.elrsr()
        assert rd(m, "GICH_EISR0") | rd(m, "GICH_EISR1") << 32 == s.eisr()
        assert rd(m, f"GICH_LR{i}") == (v & 0xFF8F_FFFF if i < num_lrs else 0)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, ALL_ONES), st.integers(0, 0x3FF), st.integers(0, 0xFF),
       st.integers(0, 7), st.integers(0, 7))
def test_vmcr_gicv_alias_consistency(vmcr, ctlr, pmr, bpr, abpr):
    """arch 2.3: a VMCR write is seen through the GICV names, GICV writes are seen in
    VMCR, with the masks and clamps of 2.19."""
    m = VirtualInterface(num_lrs=4)
    wr(m, "GICH_VMCR", vmcr)
    assert (rd(m, "GICV_CTLR"), rd(m, "GICV_PMR"), rd(m, "GICV_BPR"), rd(m, "GICV_ABPR")) == \
        (vmcr & 0x21F, vmcr >> 27 << 3, max(2, vmcr >> 21 & 7), max(3, vmcr >> 18 & 7))
    assert rd(m, "GICH_VMCR") == (vmcr & 0xF800_021F) | max(2, vmcr >> 21 & 7) << 21 \
        | max(3, vmcr >> 18 & 7) << 18
    wr(m, "GICV_CTLR", ctlr)
    wr(m, "GICV_PMR", pmr)
    wr(m, "GICV_BPR", bpr)
    wr(m, "GICV_ABPR", abpr)
    assert rd(m, "GICH_VMCR") == ((pmr >> 3) << 27 | max(2, bpr) << 21 | max(3, abpr) << 18
                                  | (ctlr & 0x21F))


@settings(max_examples=200, deadline=None)
@given(apr_values())
def test_rpr_consistent_with_apr(apr):
    """R4/arch 2.14: RPR = 0xFF if APR == 0 else (index of the lowest set bit) << 3."""
    m = VirtualInterface(num_lrs=4)
    wr(m, "GICH_APR", apr)
    want = 0xFF if apr == 0 else ((apr & -apr).bit_length() - 1) << 3
    assert rd(m, "GICV_RPR") == want
