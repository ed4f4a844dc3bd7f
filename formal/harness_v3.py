# Ref: docs/architecture-v3.md: v3 0 (parameters), v3 1.4 (memory-mapped layout),
#      v3 2.1-2.9 (ICH registers, write masks), v3 3 (ICV registers), V1-V18, v3 open points
#      1-5, 9-11, 13, 14, 16-19, 21, 22, 24, 30; rtl/regbus.py, rtl/timing.py.
"""Formal harness around the GICv3 VirtualInterface (`arch="v3"`; not part of
the design): the property groups of formal/harness.py restated for GICv3.

The machinery is formal/harness.py's (`watch_bus`: the free bus, the request
history, the capture of the last request `last` and of the state before it
`was`, the window, `expect`, `read_is`, the frames; `bus_timing`,
`assert_no_deadlock`); only the state, its definitions and the register map
differ. The core keeps the GICv2 core's timing contract (rtl/timing.py), so
the windows, the latencies and the induction depths are the same.

State is read from the blocks' ports only: the LRs (`top.lr_bank.status.lr`,
64 bits each), `elrsr`/`eisr`, `top.lr_bank.select.best`; ICH_HCR_EL2
(`top.hyp.gich.hcr`); the vCPU's storage (`top.vcpu.gicv`: `ctlr` holds VENG0,
VENG1, VAckCtl, VFIQEn, VCBPR and VEOIM under GICv2 names, `vmprimask` VPMR's
pri_bits implemented bits, `bpr` VBPR0, `abpr` VBPR1, `ap0` and `apr` the
Group 0 and Group 1 AP banks), assembled here into the architectural
ICH_VMCR_EL2 value (v3 2.3) so that every definition reads VMCR's fields;
`top.vcpu.select.apr_upto`/`gmask0/1` (strengthening only); MISR
(`top.maintenance.gich.misr`); the `traps` output. Group v3_bus proves that
reads return exactly that state (ICH_VMCR_EL2 included) and writes store it.

Every expected value is the rule of docs/architecture-v3.md written out in
Amaranth (class Arch3: the definitions of v3 4 `prio`, `vid`, `en`, `bp`,
`gmask`, `gprio`, `APbits`, `RP`, V4's candidate and best, V5's `beats_rp`
and `can_signal`), not the RTL's expression: e.g. V4's "smallest priority,
ties to the lowest index" is an all-pairs comparison, V5's masked test is
`gprio < RP & gmask` (the RTL tests an AP prefix OR at `gprio | ~gmask`), the
drop clears the lowest set bit of AP0 | AP1 from AP0 first (the RTL
precomputes both banks' drops from apr_upto).

Legacy operation (v3 10, groups v3_legacy_*): the build legacy=True; the
GICv2 frame's rules through `legacy_view`, the GICv3 state as the frame sees
it in formal/harness.py's `Arch` (the GICv2 design's definitions).

Known RTL issues (KNOWN_RTL_ISSUES, formal/README.md "Suspected RTL bugs"):
none open. The mechanism stays for the next one: a group in WORKAROUND_GROUPS
assumes the bus never presents a listed sequence, and a task tagged rtlbug
runs without the assumption, expected to FAIL until the RTL is fixed.
"""
from amaranth.hdl import Elaboratable, Module, Signal, Const, Cat, Mux, Assert, Assume, Cover

from vgic.rtl import regs, sysregs
from vgic.rtl.sysregs import LR3_FIELDS, HCR3_FIELDS, VMCR3_FIELDS, TRAP_BITS, V3Config
from vgic.rtl.regs import MISR_BITS, INVALID, PENDING, ACTIVE, PENDING_ACTIVE, SPURIOUS
from vgic.rtl.regbus import needs_settled

from formal.harness import (f, lowest_set_bit, ctz, watch_bus, bus_timing, assert_no_deadlock,
                            assert_forwarded, assert_lines, _any_word, Arch, ArchState)

__all__ = ["V3_GROUPS", "VARIANTS", "KNOWN_RTL_ISSUES", "Arch3", "Harness3", "Reg3"]

# property group -> what it proves (formal/<group>.sby runs it)
V3_GROUPS = {
    "v3_elrsr_eisr": "v3 1. ICH_ELRSR_EL2/ICH_EISR_EL2 equal their definitions over the LRs, every cycle and on every read (v3 2.5, 2.6, V12)",
    "v3_misr":       "v3 2. each ICH_MISR_EL2 bit (VGrp0D/E on VENG0) and maint_irq = HCR.En && MISR != 0 (v3 2.4, V12, V13, V14)",
    "v3_iar":        "v3 3. ICV_IAR0/IAR1 acknowledge only their own group per V4-V6 and V16, HPPIR0/1 per V7, vIRQ/vFIQ per V5; no other read has side effects (V17)",
    "v3_apr":        "v3 4. EOIR0/EOIR1 drop the lowest set bit of AP0 | AP1, from AP0 on a tie, nothing with no active priority; DIR never; RPR (V3, V8, V9, v3 open points 2, 3)",
    "v3_eoi":        "v3 5. EOIR0/EOIR1 deactivate only an LR of their group at the dropped priority (V8), vLPIs whatever VEOIM; DIR with VEOIM (V9); EOIcount (V11); forwarding (V10)",
    "v3_isolation":  "v3 6. ICV accesses change no LR field but State (01->10, 01->00 for 1020-1023, 10->00, 11->01, one LR) and no ICH_HCR_EL2 bit but EOIcount (+1 mod 32); partial writes change nothing (v3 2.8, V6, V10, V11, V16)",
    "v3_bus":        "v3 7. the bus: ack after LATENCY = 3, ready/settled live, derived reads wait for settled, nothing changes but where a request lands; every read returns and every write stores the registers of v3 1.4 (masks, clamps, RAZ/WI, high halves); traps = HCR (v3 1.4, 2.1-2.9, 3)",
    "v3_cover":      "v3 8. reachability from reset: both IARs acknowledging, both banks active, a drop on a tie, an EOIR failing V8's check, a vLPI EOIR with VEOIM = 1, V16, a masked-RP refusal, EOIcount wraps, every MISR bit, the lines",
    # legacy operation (v3 10; the build legacy=True, pri_bits = pre_bits = 5)
    "v3_legacy_isolation": "v3 10 a. whatever ICC_SRE_EL1.SRE: guest-window accesses (GICV frame, ICV registers, ICC_SRE_EL1) change no LR field but State (01->10, 10->00, 11->01; 01->00 for 1020-1023 only with SRE = 1, V16) in at most one LR and no ICH_HCR_EL2 bit but EOIcount (+1 mod 32); with SRE = 0 never ICH_AP0R0_EL2 (L1); partial writes change nothing",
    "v3_legacy_iar":       "v3 10 b. with SRE = 0: GICV_IAR/AIAR acknowledge per L2 (R6a/R6b on the state of v3 10.5, 1022 before RP) into ICH_AP1R0_EL2 alone (L1) and return vid_out (L3); HPPIR/AHPPIR (R7, R14); the lines (R6, L5); the ICV registers read 0",
    "v3_legacy_eoi":       "v3 10 c. with SRE = 0: GICV_EOIR/AEOIR drop the lowest bit of ICH_AP1R0_EL2 (L1), DIR never; deactivation by L4's match (R8-R10), EOIcount (R11), forwarding; GICV_RPR, GICV_APR0 = ICH_AP1R0_EL2",
}
LEGACY = "v3_legacy_"

# task-name suffixes (formal/run.py: lrs<N>_<variant>...) -> harness arguments
VARIANTS = {
    "pri8": dict(pri_bits=8, pre_bits=7),     # the widest build: PRIMASK 0xFF, 4 AP registers per bank
    # without the assumptions for KNOWN_RTL_ISSUES: the tasks tagged rtlbug,
    # expected to FAIL until the RTL is fixed
    "strict": dict(workarounds=False),
}
# the groups whose properties need the workarounds; none since the fixes below
WORKAROUND_GROUPS = ()

# Known RTL issues (suspected bugs, formal/README.md "Suspected RTL bugs"):
# name -> (the writes after which an EOIR0/EOIR1 acts on stale state, in how
# many of the next cycles, what goes wrong). Tasks with workarounds assume the
# bus presents no EOIR0/EOIR1 in those cycles. (An AP register write followed
# by an EOIR, found by group v3_apr on 97fa2c7, was fixed in 704eb3a; an
# EOIR0/EOIR1 in the two cycles after a binary-point write, which tested V8's
# priority check under the old binary point, found by group v3_eoi, is fixed
# since: ready is low for the two cycles after any mask source's write,
# rtl/timing.py.)
KNOWN_RTL_ISSUES = {}


class Reg3:
    """One 32-bit word of the memory-mapped layout (v3 1.4): the low (half 0)
    or high (half 1) half of a register of rtl/sysregs.py. `word` and
    `full_name` as formal/harness.py's bus machinery wants them."""

    def __init__(self, name, half=0):
        self.reg = sysregs.lookup(name)
        if self.reg is None:
            raise ValueError(f"no GICv3 register {name!r}")
        self.half = half
        self.word = (self.reg.addr >> 2) + half
        self.full_name = name + ("_HI" if half else "")


def _words(regs_):
    return [r.word for r in regs_]


def set_field(value, fields, name, new):
    """`value` with field `name` (layouts of rtl/sysregs.py) replaced by `new`."""
    lsb, width = fields[name]
    mask = ((1 << width) - 1) << lsb
    keep = ((1 << len(value)) - 1) ^ mask
    return (value & keep) | ((new & ((1 << width) - 1)) << lsb)


def clamp(value, minimum):
    """v3 2.3, 3.7: a binary point below the minimum is stored as the minimum."""
    return Mux(value < minimum, minimum, value)


def special(vid):
    """The special INTIDs 1020-1023."""
    return (vid >= 1020) & (vid <= 1023)


class Arch3(ArchState):
    """Architectural state of v3 4 (the LRs, ICH_HCR_EL2, ICH_VMCR_EL2, the
    AP banks AP0 = ICH_AP0R<NAPR-1..0>_EL2 and AP1 = ICH_AP1R<..>_EL2 as
    vectors) and the definitions over it. Built twice: on the current values
    and on copies registered when `enable` (`past`)."""

    def __init__(self, m, name, cfg, lr, hcr, vmcr, ap0, ap1):
        self.m, self.name, self.cfg, self.num_lrs = m, name, cfg, cfg.num_lrs
        self.lr, self.hcr, self.vmcr, self.ap0, self.ap1 = lr, hcr, vmcr, ap0, ap1
        self._memo = {}
        # v3 0: derived constants, restated
        self.PRIMASK = (0xFF << (8 - cfg.pri_bits)) & 0xFF
        self.NAPR = 1 << (cfg.pre_bits - 5)
        self.MINBPR0 = 7 - cfg.pre_bits
        self.MINBPR1 = self.MINBPR0 + 1
        self.SHIFT = 8 - cfg.pre_bits
        self.IDMASK = (1 << cfg.id_bits) - 1

    def past(self, name, enable):
        def reg(value, suffix):
            return self._registered(value, f"{name}_{suffix}", enable)
        return Arch3(self.m, name, self.cfg, [reg(v, f"lr{n}") for n, v in enumerate(self.lr)],
                     reg(self.hcr, "hcr"), reg(self.vmcr, "vmcr"), reg(self.ap0, "ap0"),
                     reg(self.ap1, "ap1"))

    def values(self):
        return [*self.lr, self.hcr, self.vmcr, self.ap0, self.ap1]

    def same_as(self, other):
        """Every register of this state equals `other`'s."""
        return Cat(*(a == b for a, b in zip(self.values(), other.values()))).all()

    # -- fields (v3 2.1, 2.3, 2.8) --------------------------------------------
    def lrf(self, n, name):
        return f(self.lr[n], LR3_FIELDS, name)

    def hcrf(self, name):
        return f(self.hcr, HCR3_FIELDS, name)

    def vm(self, name):
        return f(self.vmcr, VMCR3_FIELDS, name)

    def state(self, n):
        return self.lrf(n, "State")

    def group(self, n):
        return self.lrf(n, "Group")

    def hw(self, n):
        return self.lrf(n, "HW")

    def bank(self, g):
        return self.ap1 if g else self.ap0

    # -- v3 4 definitions ---------------------------------------------------------
    def prio(self, n):
        return self.lrf(n, "Priority") & self.PRIMASK

    def vid(self, n):
        return self.lrf(n, "vINTID") & self.IDMASK

    def en(self, g):
        return Mux(g, self.vm("VENG1"), self.vm("VENG0"))

    def gmask(self, g):
        """(0xFF << (bp(g) + 1)) & 0xFF, bp(g) = VBPR0 for Group 0 or with
        VCBPR, else VBPR1 - 1 (so bp(g) + 1 = VBPR1)."""
        g0 = (Const(0xFF, 8) << (self.vm("VBPR0") + 1))[:8]
        g1 = (Const(0xFF, 8) << self.vm("VBPR1"))[:8]
        return Mux(~g | self.vm("VCBPR"), g0, g1)

    def gprio(self, n):
        return self._signal(f"gprio{n}", 8, self.prio(n) & self.gmask(self.group(n)))

    def apbits(self):
        return self.ap0 | self.ap1

    def rp(self):
        """V3: 0xFF idle, else the lowest set bit of AP0 | AP1 << SHIFT."""
        ap = self.apbits()
        return self._signal("rp", 8, Mux(ap == 0, 0xFF, (ctz(ap) << self.SHIFT)[:8]))

    def beats_rp(self, n):
        """V5: RP idle, or gprio < RP masked by the pending group's gmask
        (rp_masked, v3 open point 1) or whole."""
        rp = self.rp()
        against = rp & self.gmask(self.group(n)) if self.cfg.rp_masked else rp
        return self._signal(f"beats{n}", 1, (rp == 0xFF) | (self.gprio(n) < against))

    def pmr_ok(self, n):
        return self.prio(n) < self.vm("VPMR")

    def can_signal(self, n):
        return self._signal(f"can{n}", 1, self.hcrf("En") & self.pmr_ok(n) & self.beats_rp(n))

    def candidate(self, n):
        """V4: pending (01 only) and its group enabled; no mask, RP or En."""
        return self._signal(f"cand{n}", 1, (self.state(n) == PENDING) & self.en(self.group(n)))

    def is_best(self, n):
        """V4: the candidate with the smallest prio, the lowest index on a tie."""
        if f"best{n}" not in self._memo:
            beaten = []
            for k in range(self.num_lrs):
                if k != n:
                    better = self.prio(k) <= self.prio(n) if k < n else self.prio(k) < self.prio(n)
                    beaten.append(self.candidate(k) & better)
            self._signal(f"best{n}", 1, self.candidate(n) & ~Cat(*beaten, Const(0)).any())
        return self._memo[f"best{n}"]

    def any_candidate(self):
        return Cat(*(self.candidate(n) for n in range(self.num_lrs))).any()

    def lines(self):
        """V5: (vIRQ, vFIQ): the best can be signalled, Group 1 / Group 0."""
        sig = [self.is_best(n) & self.can_signal(n) for n in range(self.num_lrs)]
        virq = Cat(*(s & self.group(n) for n, s in enumerate(sig))).any()
        vfiq = Cat(*(s & ~self.group(n) for n, s in enumerate(sig))).any()
        return virq, vfiq

    def ap_bit(self, n):
        """V6: the AP bit an acknowledge of LR n sets: gprio(n) >> SHIFT."""
        width = 32 * self.NAPR
        return (Const(1, width) << self.gprio(n)[self.SHIFT:])[:width]

    def acknowledge(self, g):
        """V6, a read of ICV_IAR<g>_EL1: (value, [LR n acknowledged])."""
        ack, value = [], Const(SPURIOUS, 32)
        for n in range(self.num_lrs):
            a = self.is_best(n) & (self.group(n) == g) & self.can_signal(n)
            ack.append(a)
            value = Mux(a, self.vid(n), value)
        return value, ack

    def acked(self, n):
        """LR n after its acknowledge: State 10, or 00 for vINTID 1020-1023 (V16)."""
        lsb = LR3_FIELDS["State"][0]
        new = Mux(special(self.vid(n)), INVALID, ACTIVE)
        return (self.lr[n] & (((1 << 64) - 1) ^ (3 << lsb))) | (new.as_unsigned() << lsb)

    def hppir(self, g):
        """V7: the best if of group g, else 1023; no PMR, RP or En."""
        value = Const(SPURIOUS, 32)
        for n in range(self.num_lrs):
            value = Mux(self.is_best(n) & (self.group(n) == g), self.vid(n), value)
        return value

    def matches(self, n, vid):
        """V8, V9: LR n holds `vid` active (10) or pending and active (11)."""
        s = self.state(n)
        return (self.vid(n) == vid) & ((s == ACTIVE) | (s == PENDING_ACTIVE))

    def deactivated(self, n):
        """V10: 10 -> 00, 11 -> 01."""
        lsb = LR3_FIELDS["State"][0]
        new = Mux(self.state(n) == PENDING_ACTIVE, PENDING, INVALID)
        return (self.lr[n] & (((1 << 64) - 1) ^ (3 << lsb))) | (new.as_unsigned() << lsb)

    # -- v3 2.4-2.6: MISR, EISR, ELRSR --------------------------------------------
    def elrsr(self, n):
        if n >= self.num_lrs:
            return Const(0)
        return (self.state(n) == INVALID) & (self.hw(n) | ~self.lrf(n, "EOI"))

    def eisr(self, n):
        if n >= self.num_lrs:
            return Const(0)
        return (self.state(n) == INVALID) & ~self.hw(n) & self.lrf(n, "EOI")

    def elrsr_vec(self):
        return Cat(*(self.elrsr(n) for n in range(sysregs.MAX_LRS)))

    def eisr_vec(self):
        return Cat(*(self.eisr(n) for n in range(sysregs.MAX_LRS)))

    def misr_bits(self):
        h, v = self.hcrf, self.vm
        n_valid = sum(((self.state(n) != INVALID).as_unsigned() for n in range(self.num_lrs)),
                      Const(0, 5))
        no_pending = Cat(*(self.state(n) == PENDING for n in range(self.num_lrs))) == 0
        return {
            "EOI":    self.eisr_vec() != 0,
            "U":      h("UIE") & (n_valid <= 1),
            "LRENP":  h("LRENPIE") & (h("EOIcount") != 0),
            "NP":     h("NPIE") & no_pending,
            "VGrp0E": h("VGrp0EIE") & v("VENG0"),
            "VGrp0D": h("VGrp0DIE") & ~v("VENG0"),           # v3 open point 19
            "VGrp1E": h("VGrp1EIE") & v("VENG1"),
            "VGrp1D": h("VGrp1DIE") & ~v("VENG1"),
        }

    def misr(self):
        bits = self.misr_bits()
        value = Const(0, 8)
        for name, bit in MISR_BITS.items():
            value = value | (bits[name].as_unsigned() << bit)
        return value

    # -- write masks (v3 2.1, 2.3, 2.8), restated ------------------------------------
    HCR_WMASK = 0xF800_5CFF          # v3 2.1: En..VGrp1DIE, TC, TALL0, TALL1, TDIR, EOIcount

    def lr_keep(self, hw):
        """v3 2.8: the bits of an LR that a write keeps, by its HW bit."""
        base = 0xF000_0000_0000_0000 | self.PRIMASK << 48 | self.IDMASK
        return Mux(hw, Const(base | 0x1FFF << 32, 64), Const(base | 1 << 41, 64))

    def vmcr_written(self, w):
        """ICH_VMCR_EL2 after a write of `w` (v3 2.3): VPMR's PRIMASK bits,
        VBPR0/VBPR1 clamped, VEOIM, VCBPR, VENG1/0; VFIQEn reads 1, VAckCtl 0."""
        F = VMCR3_FIELDS
        v = Const(0, 32)
        v = set_field(v, F, "VFIQEn", Const(1))
        for name in ("VENG0", "VENG1", "VCBPR", "VEOIM"):
            v = set_field(v, F, name, f(w, F, name))
        v = set_field(v, F, "VBPR0", clamp(f(w, F, "VBPR0"), self.MINBPR0))
        v = set_field(v, F, "VBPR1", clamp(f(w, F, "VBPR1"), self.MINBPR1))
        v = set_field(v, F, "VPMR", f(w, F, "VPMR") & self.PRIMASK)
        return v


# word addresses the machinery needs
def _eoi_regs():
    return [Reg3(n) for n in ("ICV_EOIR0_EL1", "ICV_EOIR1_EL1", "ICV_DIR_EL1")]


def _ap_regs(napr):
    return [Reg3(f"{fr}_AP{g}R{n}_{el}") for fr, el in (("ICH", "EL2"), ("ICV", "EL1"))
            for g in range(2) for n in range(napr)]


def _mask_regs():
    return [Reg3(n) for n in ("ICV_CTLR_EL1", "ICV_BPR0_EL1", "ICV_BPR1_EL1", "ICH_VMCR_EL2")]


# legacy builds (v3 10): the GICv2 frame's EOIs and acknowledges at the same
# window, and the writes after which apr_upto is refreshed one edge later
LEGACY_EOIS = (regs.GICV_EOIR, regs.GICV_AEOIR, regs.GICV_DIR)
LEGACY_ACKS = (regs.GICV_IAR, regs.GICV_AIAR)
LEGACY_AP_SOURCES = [regs.GICV_APR0, Reg3("ICC_SRE_EL1")]


def legacy_view(m, name, arch3):
    """v3 10.5: the GICv3 state as the GICv2 frame sees it, as the GICv2
    harness's `Arch` (formal/harness.py), whose definitions are the GICv2
    design's rules (R1-R11) that L1-L6 apply to it. Each LR in the GICv2
    layout: VirtualID = vINTID[9:0]; for HW = 0 the source CPU vINTID[12:10]
    (L3, L4) and EOI, for HW = 1 pINTID (1023 for one above 1023: neither
    forwards, L4); Priority [7:3]. GICV_CTLR's bits are VMCR's (v3 10.4),
    PMR VPMR, BPR VBPR0, ABPR VBPR1, APR ICH_AP1R0_EL2 (L1); HCR's En and
    EOIcount sit where GICH_HCR has them."""
    lrs = []
    for n in range(arch3.num_lrs):
        vint, pint, hw = arch3.lrf(n, "vINTID"), arch3.lrf(n, "pINTID"), arch3.hw(n)
        pid = Mux(hw, Mux(pint < 1024, pint[:10], 1023),
                  Cat(vint[10:13], Const(0, 6), arch3.lrf(n, "EOI")))
        lr = Signal(32, name=f"{name}_lr{n}")
        m.d.comb += lr.eq(Cat(vint[:10], pid, Const(0, 3), arch3.lrf(n, "Priority")[3:],
                              arch3.state(n), arch3.group(n), hw))
        lrs.append(lr)
    vm = arch3.vm
    return Arch(m, name, arch3.num_lrs, lrs, hcr=arch3.hcr, ctlr=arch3.vmcr[:10] & 0x21F,
                pmr=vm("VPMR"), bpr=vm("VBPR0"), abpr=vm("VBPR1"), apr=arch3.ap1[:32])


class Harness3(Elaboratable):
    """GICv3 group `group` (a key of V3_GROUPS) around `top` (default: the real
    VirtualInterface(num_lrs, arch="v3", **params); the mutation check passes
    a broken one). `params`: the V3Config parameters (pri_bits, pre_bits,
    id_bits, rp_masked). `strengthen` as in formal/harness.py Harness.
    `workarounds`: assume the bus never presents the sequences of
    KNOWN_RTL_ISSUES (True: all of them; or the names of some; False: none;
    default: all in WORKAROUND_GROUPS, none elsewhere)."""

    def __init__(self, group, num_lrs, top=None, strengthen=True, workarounds=None, **params):
        if group not in V3_GROUPS:
            raise ValueError(f"unknown GICv3 property group {group!r}; known: {', '.join(V3_GROUPS)}")
        if group.startswith(LEGACY):         # the legacy build (v3 10)
            params = {"legacy": True, **params}
        cfg = V3Config(num_lrs, **params)
        if cfg.legacy != group.startswith(LEGACY):
            raise ValueError(f"group {group!r}: legacy builds (v3 10) are checked by the "
                             f"{LEGACY}* groups, and only they")
        if top is None:
            from vgic.rtl.top import VirtualInterface
            top = VirtualInterface(num_lrs, arch="v3", **params)
        if top.v3 != cfg:
            raise ValueError(f"top is {top.v3}, harness expects {cfg}")
        self.group, self.num_lrs, self.top, self.cfg = group, num_lrs, top, cfg
        if workarounds is None:
            workarounds = group in WORKAROUND_GROUPS
        self.strengthen, self.workarounds = strengthen, workarounds

    def elaborate(self, platform):
        m = Module()
        top, cfg, N = self.top, self.cfg, self.num_lrs
        m.submodules.dut = top
        lrb, vcpu, hyp, maint = top.lr_bank, top.vcpu, top.hyp, top.maintenance
        g = vcpu.gicv
        # ICH_VMCR_EL2 (v3 2.3) from the vCPU's storage ports (GICVSignature)
        F = VMCR3_FIELDS
        vmcr = Const(0, 32)
        for name, value in (("VENG0", g.ctlr.EnableGrp0), ("VENG1", g.ctlr.EnableGrp1),
                            ("VAckCtl", g.ctlr.AckCtl), ("VFIQEn", g.ctlr.FIQEn),
                            ("VCBPR", g.ctlr.CBPR), ("VEOIM", g.ctlr.EOImode),
                            ("VBPR1", g.abpr), ("VBPR0", g.bpr),
                            ("VPMR", Cat(Const(0, 8 - cfg.pri_bits), g.vmprimask))):
            vmcr = vmcr | (value.as_unsigned() << F[name][0])
        vmcr_sig = Signal(32, name="vmcr")
        m.d.comb += vmcr_sig.eq(vmcr)
        now = Arch3(m, "now", cfg, [lrb.status.lr[n].as_value() for n in range(N)],
                    hyp.gich.hcr.as_value(), vmcr_sig, g.ap0, g.apr)
        eoi_words = _words(_eoi_regs())
        ack_words = _words([Reg3("ICV_IAR0_EL1"), Reg3("ICV_IAR1_EL1")])
        if cfg.legacy:                       # the GICv2 frame's at the same window (v3 10.3)
            eoi_words += [r.word for r in LEGACY_EOIS]
            ack_words += [r.word for r in LEGACY_ACKS]
        ctx, finish = watch_bus(m, top, now, eoi_words=eoi_words, ack_words=ack_words,
                                needs_settled=lambda addr: needs_settled(addr, v3=cfg),
                                frames=sysregs.FRAME_BASE, frame_size=sysregs.FRAME_SIZE)
        ctx.update(N=N, cfg=cfg, top=top, lrb=lrb, vcpu=vcpu, hyp=hyp, maint=maint, live=None,
                   was_live=None)
        if cfg.legacy:
            # the frame is live while SRE = 0 (`live`, `was_live` before the
            # last request); `now2`/`was2`: the state as the frame sees it
            live, was_live = g.legacy_live, Signal(name="was_live")
            with m.If(ctx["after"][1]):
                m.d.sync += was_live.eq(live)
            now2 = legacy_view(m, "now2", now)
            ctx.update(live=live, was_live=was_live, now2=now2,
                       was2=now2.past("was2", enable=ctx["after"][1]))
        if self.workarounds:
            self._workarounds(**ctx)
        self._invariants(**ctx)
        getattr(self, "_" + self.group[len("v3_"):])(**ctx)
        finish()
        return m

    # -- known RTL issues: the bus never presents them (tasks with workarounds) ----
    def _workarounds(self, m, bus, accepted, writes, hist, now, **_):
        kinds = {"mask": _mask_regs()}
        eoir = writes(hist[0], _words([Reg3("ICV_EOIR0_EL1"), Reg3("ICV_EOIR1_EL1")]))
        chosen = KNOWN_RTL_ISSUES if self.workarounds is True else self.workarounds
        for name, (kind, cycles, _) in KNOWN_RTL_ISSUES.items():
            if name not in chosen:
                continue
            before = Signal(cycles, name=f"workaround_{name}")     # bit k: k + 1 cycles ago
            m.d.sync += before.eq(Cat(accepted & writes(hist[0], _words(kinds[kind])), before))
            m.d.comb += Assume(~(before.any() & eoir))

    # -- in every group: stored-value rules, no deadlock, strengthening ------------
    def _invariants(self, m, now, vcpu, N, M, ready, settled, after, hist, writes, live, **_):
        m.d.comb += [
            Assert(now.vm("VBPR0") >= now.MINBPR0),          # v3 2.3 clamps
            Assert(now.vm("VBPR1") >= now.MINBPR1),
            Assert((now.hcr & (0xFFFF_FFFF ^ Arch3.HCR_WMASK)) == 0),   # v3 2.1: RES0 (TSEI too)
        ]
        if live is None:                     # v3 2.3; legacy builds store both (v3 10.4)
            m.d.comb += [Assert(now.vm("VFIQEn") == 1),      # RES1 in native operation
                         Assert(now.vm("VAckCtl") == 0)]     # RES0
        for n in range(N):                                   # v3 2.8: RES0 bits of each LR
            m.d.comb += Assert((now.lr[n] & ~now.lr_keep(now.hw(n))) == 0)
        assert_no_deadlock(m, ready, max(M, 2))     # rtl/timing.py: 2 after a mask source
        if self.strengthen:
            # APbits' prefix ORs: a register that lands with the banks, except
            # after an AP write, which it follows one edge later (rtl/vcpu.py);
            # while the legacy frame is live, over ICH_AP1R0_EL2 alone (L1)
            ap = now.apbits() if live is None else Mux(live, now.ap1, now.apbits())
            refreshing = _ap_regs(now.NAPR) + ([] if live is None else LEGACY_AP_SOURCES)
            fresh = ~(after[2] & writes(hist[2], _words(refreshing)))
            with m.If(fresh):
                for i in range(len(ap)):
                    m.d.comb += Assert(vcpu.select.apr_upto[i] == (ap[:i + 1] != 0))
            with m.If(settled):                              # the V2 masks, P[7:SHIFT]
                m.d.comb += [
                    Assert(vcpu.select.gmask0 == now.gmask(Const(0, 1))[now.SHIFT:]),
                    Assert(vcpu.select.gmask1 == now.gmask(Const(1, 1))[now.SHIFT:]),
                ]

    # -- 1. ELRSR / EISR ------------------------------------------------------------
    def _elrsr_eisr(self, m, now, lrb, read_is, **_):
        for n in range(len(lrb.status.elrsr)):       # combinational in the LRs (V12): every cycle
            m.d.comb += [
                Assert(lrb.status.elrsr[n] == now.elrsr(n)),    # v3 2.6 (0 above num_lrs)
                Assert(lrb.status.eisr[n] == now.eisr(n)),      # v3 2.5
            ]
        read_is(Reg3("ICH_ELRSR_EL2"), now.elrsr_vec())
        read_is(Reg3("ICH_EISR_EL2"), now.eisr_vec())

    # -- 2. MISR and the maintenance line ----------------------------------------------
    def _misr(self, m, now, settled, settled_1, top, maint, read_is, **_):
        bits = now.misr_bits()
        with m.If(settled):
            for name, bit in MISR_BITS.items():
                m.d.comb += Assert(maint.gich.misr[bit] == bits[name])   # v3 2.4, one per bit
        # V13: if settled in cycle c, maint_irq in c+1 = En && MISR != 0 of the
        # state of c; otherwise it holds (rtl/regbus.py, Lines)
        line, line_1, expected, has_1 = top.maint_irq, Signal(), Signal(), Signal()
        m.d.sync += [line_1.eq(line), expected.eq(now.hcrf("En") & (now.misr() != 0)),
                     has_1.eq(1)]
        with m.If(settled_1):
            m.d.comb += Assert(line == expected)
        with m.Elif(has_1):
            m.d.comb += Assert(line == line_1)
        read_is(Reg3("ICH_MISR_EL2"), now.misr())    # a settled read: never stale

    # -- 3. acknowledge ------------------------------------------------------------------
    def _iar(self, m, now, was, bus, settled, settled_1, window, expect, last, N, top, lrb,
             after, hist, was_read, read_is, **_):
        banks_same = (now.ap0 == was.ap0) & (now.ap1 == was.ap1)
        lr_same = [now.lr[n] == was.lr[n] for n in range(N)]
        all_same = Cat(*lr_same).all() & banks_same
        first = after[2]                    # cycle t+2: `was`, `last` hold the read of t
        acks = []
        for grp in (0, 1):
            reg = Reg3(f"ICV_IAR{grp}_EL1")
            _, ack = was.acknowledge(grp)
            acks.append(Cat(*ack).any())
            # The issue's statement: 1023 and no change, or the vINTID of an LR
            # that was pending, of this group, enabled, below VPMR, beating RP,
            # with En; that LR now active (invalid for 1020-1023, V16), the AP
            # bit gprio >> SHIFT set in this group's bank only (none for V16),
            # no other LR changed. Registered in t+2, checked with r_data in t+3.
            grant = [Signal(name=f"iar{grp}_grant{n}") for n in range(N)]
            vid = [Signal(32, name=f"iar{grp}_grant{n}_vid") for n in range(N)]
            same, hit = Signal(name=f"iar{grp}_same"), Signal(name=f"iar{grp}_t3")
            for n in range(N):
                bank_ok = Mux(special(was.vid(n)), banks_same,
                              (now.bank(grp) == (was.bank(grp) | was.ap_bit(n)))
                              & (now.bank(1 - grp) == was.bank(1 - grp)))
                m.d.sync += [
                    grant[n].eq(was.hcrf("En") & (was.state(n) == PENDING) & (was.group(n) == grp)
                                & was.en(grp) & was.pmr_ok(n) & was.beats_rp(n)
                                & (now.lr[n] == was.acked(n)) & bank_ok
                                & Cat(*(lr_same[k] for k in range(N) if k != n), Const(1)).all()),
                    vid[n].eq(was.vid(n)),
                ]
            m.d.sync += [same.eq(all_same), hit.eq(first & was_read(reg))]
            with m.If(hit):
                m.d.comb += Assert(((bus.r_data == SPURIOUS) & same)
                                   | Cat(*(grant[n] & (bus.r_data == vid[n]) for n in range(N))).any())
            with m.If(was_read(reg)):
                # exactly V6: the best, if of this group and signallable, is acknowledged
                bank = was.bank(grp)
                for n in range(N):
                    m.d.comb += Assert(expect(now.lr[n], was.lr[n],
                                              Mux(ack[n], was.acked(n), was.lr[n])))
                    bank = bank | Mux(ack[n] & ~special(was.vid(n)), was.ap_bit(n), 0)
                m.d.comb += [Assert(expect(now.bank(grp), was.bank(grp), bank)),
                             Assert(now.bank(1 - grp) == was.bank(1 - grp))]
            read_is(reg, now.acknowledge(grp)[0])            # over the state before it
            with m.If(first & was_read(reg) & acks[-1]):      # an acknowledge drops the lines
                m.d.comb += Assert(~top.virq & ~top.vfiq)
        # V7
        read_is(Reg3("ICV_HPPIR0_EL1"), now.hppir(0))
        read_is(Reg3("ICV_HPPIR1_EL1"), now.hppir(1))
        # V5: if settled in cycle c, the lines in c+1 are the levels of the state
        # of c; otherwise they hold, except that an acknowledge landing drops them
        assert_lines(m, top, now.lines(), settled_1, after, hist,
                     _words([Reg3("ICV_IAR0_EL1"), Reg3("ICV_IAR1_EL1")]))
        m.d.comb += Assert(~(top.virq & top.vfiq))             # V5: never both
        # V17: no other read changes an LR or an AP register (a high half of
        # IAR0/IAR1 included, v3 1.4 rule 2)
        other_read = (window & last["r_stb"] & ~was_read(Reg3("ICV_IAR0_EL1"))
                      & ~was_read(Reg3("ICV_IAR1_EL1")))
        with m.If(other_read):
            m.d.comb += Assert(all_same)
        # Strengthening only: once settled, the candidate tree's root is V4's
        # best with the fields the responses use
        self._best_is(m, now, lrb, settled, N, now.beats_rp, now.vid)

    def _best_is(self, m, now, lrb, settled, N, pre, vid):
        """Strengthening only (groups v3_iar, v3_legacy_iar): once settled,
        `select.best` (rtl/lr_bank.py) is V4's best with its fields, `pre(n)`
        and `vid(n)` those the responses use."""
        if not self.strengthen:
            return
        best = lrb.select.best
        with m.If(settled):
            m.d.comb += Assert(best.valid == now.any_candidate())
            for n in range(N):
                with m.If(now.is_best(n)):
                    m.d.comb += [
                        Assert(best.idx == n),
                        Assert(best.prio == now.prio(n)),
                        Assert(best.grp1 == now.group(n)),
                        Assert(best.gprio == now.gprio(n)[now.SHIFT:]),
                        Assert(best.pre == pre(n)),
                        Assert(best.pmr_ok == now.pmr_ok(n)),
                        Assert(best.vid == vid(n)),
                    ]

    # -- 4. the priority drop across both banks -------------------------------------------
    def _apr(self, m, now, was, window, expect, last, was_read, was_write, read_is, **_):
        vid = last["w_data"] & now.IDMASK
        eoir = was_write(Reg3("ICV_EOIR0_EL1")) | was_write(Reg3("ICV_EOIR1_EL1"))
        ap = was.apbits()
        live = ~special(vid) & (ap != 0)          # V8; v3 open point 3: nothing with no AP bit
        lowest = lowest_set_bit(ap)               # the most urgent active priority, both banks
        in_ap0 = (lowest & was.ap0) != 0          # v3 open point 2: AP0 first on a tie
        with m.If(eoir & live):
            m.d.comb += [
                Assert(expect(now.ap0, was.ap0, Mux(in_ap0, was.ap0 & ~lowest, was.ap0))),
                Assert(expect(now.ap1, was.ap1, Mux(in_ap0, was.ap1, was.ap1 & ~lowest))),
            ]
        with m.If(eoir & ~live):                  # special INTIDs, or no active priority
            m.d.comb += Assert((now.ap0 == was.ap0) & (now.ap1 == was.ap1))
        with m.If(was_write(Reg3("ICV_DIR_EL1"))):             # V9: never the AP registers
            m.d.comb += Assert((now.ap0 == was.ap0) & (now.ap1 == was.ap1))
        # the banks change only by an acknowledge, a drop or an AP write
        ap_writes = Cat(*(was_write(r) for r in _ap_regs(now.NAPR))).any()
        other = (window & ~eoir & ~was_read(Reg3("ICV_IAR0_EL1"))
                 & ~was_read(Reg3("ICV_IAR1_EL1")) & ~ap_writes)
        with m.If(other):
            m.d.comb += Assert((now.ap0 == was.ap0) & (now.ap1 == was.ap1))
        # V3: RPR; v3 2.7, 3.10: the ICH and ICV AP registers are one storage
        read_is(Reg3("ICV_RPR_EL1"), now.rp())
        for g in range(2):
            for n in range(now.NAPR):
                word = now.bank(g)[32 * n:32 * n + 32]
                read_is(Reg3(f"ICH_AP{g}R{n}_EL2"), word)
                read_is(Reg3(f"ICV_AP{g}R{n}_EL1"), word)

    # -- 5. deactivation, EOIcount, forwarding ---------------------------------------------
    def _eoi(self, m, now, was, window, landed, expect, after, last, N, top, was_write, **_):
        vid = last["w_data"] & now.IDMASK
        eoir0, eoir1 = was_write(Reg3("ICV_EOIR0_EL1")), was_write(Reg3("ICV_EOIR1_EL1"))
        eoir, dir_ = eoir0 | eoir1, was_write(Reg3("ICV_DIR_EL1"))
        grp = eoir1                               # the EOIR's group g
        veoim = was.vm("VEOIM")
        lpi = vid >= 8192                         # V15: no active state of its own
        hit = [was.matches(n, vid) for n in range(N)]
        first = [hit[n] & ~Cat(*hit[:n], Const(0)).any() for n in range(N)]   # lowest index
        any_hit = Cat(*hit).any()
        ap = was.apbits()
        dropped = (ctz(ap) << now.SHIFT)[:8]      # the priority the EOIR drops (when ap != 0)
        # V8: special INTIDs and an empty AP (v3 open point 3) do nothing at all
        eoir_live = eoir & ~special(vid) & (ap != 0)
        # V9: only with VEOIM, below 1020 (v3 open points 22, 30)
        dir_live = dir_ & veoim & (vid < 1020)
        deact = []
        for n in range(N):
            # V8: the LR has the EOIR's group and the dropped priority (under
            # the EOIR group's binary point); v3 open point 5: else it stays
            fits = (was.group(n) == grp) & ((was.prio(n) & was.gmask(grp)) == dropped)
            deact.append((eoir_live & first[n] & fits & (~veoim | lpi)) | (dir_live & first[n]))
        # V11: +1 mod 32 for an unmatched EOIR (VEOIM 0, not a vLPI, a priority
        # dropped; v3 open point 4) or an unmatched DIR (VEOIM 1)
        inc = ~any_hit & ((eoir_live & ~lpi & ~veoim) | dir_live)
        for n in range(N):                        # V10: 10 -> 00, 11 -> 01; the others stay
            with m.If(eoir | dir_):
                m.d.comb += Assert(expect(now.lr[n], was.lr[n],
                                          Mux(deact[n], was.deactivated(n), was.lr[n])))
        # V10: an HW = 1 LR forwards its pINTID (16-1019, v3 open point 13) once,
        # in the cycle after its deactivation lands; nothing else is forwarded
        forward, pid = Const(0), Const(0, 13)
        for n in range(N):
            p = was.lrf(n, "pINTID")
            fwd = deact[n] & was.hw(n) & (p >= 16) & (p <= 1019)
            forward, pid = forward | fwd, pid | Mux(fwd, p, 0)
        assert_forwarded(m, top, after, window, landed, forward, pid)
        # V11: EOIcount changes exactly as due (an ICH_HCR_EL2 write sets it)
        with m.If(window & ~was_write(Reg3("ICH_HCR_EL2"))):
            m.d.comb += Assert(expect(now.hcrf("EOIcount"), was.hcrf("EOIcount"),
                                      (was.hcrf("EOIcount") + inc)[:5]))

    # -- 6. guest isolation ----------------------------------------------------------------
    def _isolation(self, m, now, was, window, last, N, in_frame, was_live, **_):
        state_mask = 3 << LR3_FIELDS["State"][0]
        count_mask = 0x1F << HCR3_FIELDS["EOIcount"][0]
        # V16 applies to the ICV registers only (legacy builds: while SRE = 1, v3 10.5)
        v16 = Const(1) if was_live is None else ~was_live
        with m.If(window & in_frame("ICV")):      # any ICV offset, read or write, while it lands
            changed = []                          # (legacy: the GICV frame, DIR, ICC_SRE_EL1 too)
            for n in range(N):
                # v3 2.8: every field but State is the hypervisor's
                m.d.comb += Assert(((now.lr[n] ^ was.lr[n]) & ~state_mask) == 0)
                # V6, V16, V10: the only State changes
                s0, s1 = was.state(n), now.state(n)
                m.d.comb += Assert((s0 == s1) | ((s0 == PENDING) & (s1 == ACTIVE))
                                   | ((s0 == PENDING) & (s1 == INVALID) & special(was.vid(n)) & v16)
                                   | ((s0 == ACTIVE) & (s1 == INVALID))
                                   | ((s0 == PENDING_ACTIVE) & (s1 == PENDING)))
                changed.append(s0 != s1)
            ch = Cat(*changed)
            m.d.comb += Assert((ch & (ch - 1)) == 0)          # at most one LR
            # ICH_HCR_EL2: only EOIcount, only by +1 mod 32 (V11); so also the traps
            m.d.comb += Assert(((now.hcr ^ was.hcr) & ~count_mask) == 0)
            m.d.comb += Assert((now.hcrf("EOIcount") == was.hcrf("EOIcount"))
                               | (now.hcrf("EOIcount") == (was.hcrf("EOIcount") + 1)[:5]))
            if was_live is not None:              # L1: the frame never touches ICH_AP0R0_EL2
                with m.If(was_live):
                    m.d.comb += Assert(now.ap0 == was.ap0)
        # v3 1.4 rule 1: a partial write changes nothing
        with m.If(window & last["w_stb"] & (last["w_strb"] != 0b1111)):
            m.d.comb += Assert(now.same_as(was))

    # -- 7. the bus ------------------------------------------------------------------------
    def _bus(self, **ctx):
        bus_timing(**ctx)
        self._bus_reads(**ctx)
        self._bus_writes(**ctx)

    # The side effects of reads and the results of writes are checked in cycle
    # t+2 (after[2]), the first after the request lands: a non-EOI request
    # has landed then, and bus_timing (this group) proves that nothing
    # changes until the next request lands, which is the next window's. (So
    # the whole window is covered; checking every cycle of it, as GICv2's
    # group bus does, proves the same and took v3_bus:lrs1 twice as long.)
    def _bus_reads(self, m, now, was, top, window, last, N, read_is, was_read, responding, resp,
                   after, **_):
        cfg = self.cfg
        # v3 1.2: the trap controls are ICH_HCR_EL2's, every cycle
        m.d.comb += Assert(top.traps == Cat(*(now.hcrf(name) for name in TRAP_BITS)))

        # Reads return the state (v3 1.4: the low half at +0, the high half at +4)
        vtr = ((cfg.pri_bits - 1) << 29 | (cfg.pre_bits - 1) << 26 | (cfg.id_bits == 24) << 23
               | 0 << 22 | 1 << 21 | 1 << 20 | 1 << 19 | (N - 1))             # v3 2.2
        ctlr_ro = ((cfg.pri_bits - 1) << 8 | (cfg.id_bits == 24) << 11 | 0 << 14 | 1 << 15)  # v3 3.8
        bpr0 = now.vm("VBPR0")
        reads = [
            (Reg3("ICH_HCR_EL2"), now.hcr), (Reg3("ICH_VTR_EL2"), Const(vtr, 32)),
            (Reg3("ICH_VMCR_EL2"), now.vmcr),
            (Reg3("ICV_BPR0_EL1"), bpr0),
            # v3 3.7: with VCBPR, min(VBPR0 + 1, 7)
            (Reg3("ICV_BPR1_EL1"), Mux(now.vm("VCBPR"), Mux(bpr0 == 7, 7, bpr0 + 1), now.vm("VBPR1"))),
            (Reg3("ICV_CTLR_EL1"), Const(ctlr_ro, 32) | now.vm("VCBPR") | (now.vm("VEOIM") << 1)),
            (Reg3("ICV_IGRPEN0_EL1"), now.vm("VENG0")), (Reg3("ICV_IGRPEN1_EL1"), now.vm("VENG1")),
            (Reg3("ICV_PMR_EL1"), now.vm("VPMR")),
        ]
        for g in range(2):
            for n in range(now.NAPR):
                word = now.bank(g)[32 * n:32 * n + 32]
                reads += [(Reg3(f"ICH_AP{g}R{n}_EL2"), word), (Reg3(f"ICV_AP{g}R{n}_EL1"), word)]
        for n in range(N):
            reads += [(Reg3(f"ICH_LR{n}_EL2"), now.lr[n][:32]),
                      (Reg3(f"ICH_LR{n}_EL2", 1), now.lr[n][32:])]
        for reg, value in reads:
            read_is(reg, value)
        # v3 1.4 rules 2-4: every other word reads 0 (high halves, LRs and AP
        # registers the build lacks, WO registers, reserved offsets, the views);
        # the derived registers are the other groups'
        known = {r.word for r, _ in reads} | {Reg3(n).word for n in (
            "ICH_MISR_EL2", "ICH_EISR_EL2", "ICH_ELRSR_EL2", "ICV_IAR0_EL1", "ICV_IAR1_EL1",
            "ICV_HPPIR0_EL1", "ICV_HPPIR1_EL1", "ICV_RPR_EL1")}
        with m.If(responding & resp["r_stb"] & ~_any_word(resp["addr"], sorted(known))):
            m.d.comb += Assert(top.bus.r_data == 0)
        # V17: no read changes ICH_HCR_EL2 or ICH_VMCR_EL2 (that no read but
        # an acknowledge changes an LR or an AP register: group v3_iar)
        with m.If(window & after[2] & last["r_stb"]):
            m.d.comb += Assert((now.hcr == was.hcr) & (now.vmcr == was.vmcr))

    def _bus_writes(self, m, now, was, window, last, N, was_write, after, **_):
        # Writes store the value through the masks and clamps of v3 2.9, and
        # change nothing else: per register of the state, its final value
        # after whichever write it is (`stores`), checked once per register
        F = VMCR3_FIELDS
        w = last["w_data"]
        state = {"hcr": (now.hcr, was.hcr), "vmcr": (now.vmcr, was.vmcr),
                 "ap0": (now.ap0, was.ap0), "ap1": (now.ap1, was.ap1)}
        state.update({f"lr{n}": (now.lr[n], was.lr[n]) for n in range(N)})
        final = {name: was_v for name, (_, was_v) in state.items()}
        writable = []

        def stores(reg, **values):
            writable.append(reg)
            for name, value in values.items():
                final[name] = Mux(was_write(reg), value, final[name])

        def vmcr_field(name, value):
            return set_field(was.vmcr, F, name, value)

        stores(Reg3("ICH_HCR_EL2"), hcr=w & Arch3.HCR_WMASK)                # v3 2.1
        stores(Reg3("ICH_VMCR_EL2"), vmcr=now.vmcr_written(w))              # v3 2.3
        for n in range(N):
            # v3 1.4: the halves are written independently; v3 2.8: the masks,
            # by the HW bit written (in the high half)
            stores(Reg3(f"ICH_LR{n}_EL2"), **{f"lr{n}": Cat(w & now.IDMASK, was.lr[n][32:])})
            keep_hi = now.lr_keep(w[29])[32:]
            stores(Reg3(f"ICH_LR{n}_EL2", 1), **{f"lr{n}": Cat(was.lr[n][:32], w & keep_hi)})
        for g in range(2):                        # v3 2.7, 3.10: one storage, stored as written
            for n in range(now.NAPR):
                bank = Cat(*(w if k == n else was.bank(g)[32 * k:32 * k + 32]
                             for k in range(now.NAPR)))
                for reg in (Reg3(f"ICH_AP{g}R{n}_EL2"), Reg3(f"ICV_AP{g}R{n}_EL1")):
                    stores(reg, **{f"ap{g}": bank})
        stores(Reg3("ICV_CTLR_EL1"),                                        # v3 3.8
               vmcr=set_field(vmcr_field("VCBPR", w[0]), F, "VEOIM", w[1]))
        stores(Reg3("ICV_IGRPEN0_EL1"), vmcr=vmcr_field("VENG0", w[0]))    # v3 3.9
        stores(Reg3("ICV_IGRPEN1_EL1"), vmcr=vmcr_field("VENG1", w[0]))
        stores(Reg3("ICV_PMR_EL1"), vmcr=vmcr_field("VPMR", w[:8] & now.PRIMASK))   # v3 3.6
        stores(Reg3("ICV_BPR0_EL1"), vmcr=vmcr_field("VBPR0", clamp(w[:3], now.MINBPR0)))  # v3 3.7
        stores(Reg3("ICV_BPR1_EL1"), vmcr=Mux(was.vm("VCBPR"), was.vmcr,   # ignored with VCBPR
                                              vmcr_field("VBPR1", clamp(w[:3], now.MINBPR1))))
        stored = Cat(*(was_write(reg) for reg in writable)).any()
        with m.If(after[2] & stored):                       # landed: t+2 (see _bus_reads)
            for name, (now_v, was_v) in state.items():
                m.d.comb += Assert(now_v == final[name])
        # the EOIs: groups v3_apr and v3_eoi; every other word: WI
        other = (window & last["w_stb"]
                 & ~_any_word(last["addr"], _words(writable + _eoi_regs())))
        with m.If(after[2] & other):
            m.d.comb += Assert(now.same_as(was))

    # -- 8. covers (mode cover, from reset) ---------------------------------------------------
    def _cover(self, m, now, was, landed, after, top, maint, last, was_read, was_write, settled,
               **_):
        for name, bit in MISR_BITS.items():
            m.d.comb += Cover(maint.gich.misr[bit])
        for line in (top.virq, top.vfiq, top.maint_irq, top.deact_valid):
            m.d.comb += Cover(line)
        first = after[2]
        iar = [was_read(Reg3(f"ICV_IAR{g}_EL1")) for g in range(2)]
        for g in range(2):                        # each IAR acknowledges: its bank gains a bit
            m.d.comb += Cover(first & iar[g] & (now.bank(g) != was.bank(g)))
        m.d.comb += Cover((now.ap0 != 0) & (now.ap1 != 0))             # both banks active
        eoir0, eoir1 = was_write(Reg3("ICV_EOIR0_EL1")), was_write(Reg3("ICV_EOIR1_EL1"))
        dir_ = was_write(Reg3("ICV_DIR_EL1"))
        eoir = eoir0 | eoir1
        # a drop on a tie: the lowest bit set in both banks, AP0 loses it (v3 open point 2)
        lowest = lowest_set_bit(was.apbits())
        m.d.comb += Cover(landed & eoir & ((lowest & was.ap0 & was.ap1) != 0)
                          & (now.ap1 == was.ap1) & (now.ap0 != was.ap0))
        vid = last["w_data"] & now.IDMASK
        hit0 = was.matches(0, vid)
        # V8's check failing: an EOIR1 drops a priority and finds LR0 active
        # with its INTID, but LR0 is Group 0: it stays active (v3 open point 5)
        m.d.comb += Cover(landed & eoir1 & ~was.vm("VEOIM") & (now.apbits() != was.apbits())
                          & hit0 & (was.group(0) == 0) & (now.lr[0] == was.lr[0]))
        # V15: a vLPI's EOIR deactivates its LR also with VEOIM = 1
        m.d.comb += Cover(landed & eoir & was.vm("VEOIM") & (vid >= 8192) & hit0
                          & (now.state(0) != was.state(0)))
        # V16: an acknowledge of vINTID 1020-1023 leaves its LR invalid
        m.d.comb += Cover(first & (iar[0] | iar[1]) & (was.state(0) == PENDING)
                          & (now.state(0) == INVALID))
        if self.cfg.rp_masked:
            # V5, v3 open point 1: the best is refused only because RP is masked
            m.d.comb += Cover(settled & now.is_best(0) & now.hcrf("En") & now.pmr_ok(0)
                              & (now.rp() != 0xFF) & (now.gprio(0) < now.rp()) & ~now.beats_rp(0))
        # V11: EOIcount wraps 31 -> 0, by an EOIR and by a DIR
        for by in (eoir, dir_):
            m.d.comb += Cover(landed & by & (was.hcrf("EOIcount") == 31)
                              & (now.hcrf("EOIcount") == 0))

    # -- 10. legacy operation (v3 10): the GICv2 frame on the GICv3 state -------------------
    # Group v3_legacy_isolation is _isolation above, with SRE free. Groups
    # v3_legacy_iar and v3_legacy_eoi hold SRE at 0 (the hypervisor never
    # sets it; the frame must then stay live) and state the GICv2 design's
    # rules through `now2`/`was2` (legacy_view); what they change is compared
    # on the whole 64-bit LRs and both AP banks.
    def _legacy_isolation(self, **ctx):
        self._isolation(**ctx)

    def _hold_frame(self, m, bus, live):
        sre = Reg3("ICC_SRE_EL1").word
        m.d.comb += [
            Assume(~(bus.w_stb & (bus.addr == sre) & (bus.w_strb == 0b1111) & bus.w_data[0])),
            Assert(live),
        ]

    def _legacy_iar(self, m, now, was, now2, was2, bus, live, settled, settled_1, window, expect,
                    last, N, top, lrb, after, hist, was_read, read_is, responding, resp, **_):
        self._hold_frame(m, bus, live)
        state_lsb = LR3_FIELDS["State"][0]
        banks_same = (now.ap0 == was.ap0) & (now.ap1 == was.ap1)
        lr_same = [now.lr[n] == was.lr[n] for n in range(N)]
        all_same = Cat(*lr_same).all() & banks_same
        first = after[2]                    # cycle t+2: `was`, `last` hold the read of t

        def active(n):                      # R6a: 01 -> 10, nothing else (no V16: L6)
            return (was.lr[n] & (((1 << 64) - 1) ^ (3 << state_lsb))) | (ACTIVE << state_lsb)

        for reg, alias in ((regs.GICV_IAR, False), (regs.GICV_AIAR, True)):
            _, ack = was2.acknowledge(alias)
            # R6a/R6b as stated: a spurious ID and no change, or vid_out of an
            # LR that was pending, of an enabled group (GICV_IAR's Group 1:
            # with VAckCtl), below VPMR, beating RP, with En; that LR now
            # active, its AP bit set in ICH_AP1R0_EL2 alone (L1), no other LR
            # changed. Registered in t+2, checked with r_data in t+3.
            grant = [Signal(name=f"l{reg.name.lower()}_grant{n}") for n in range(N)]
            vid = [Signal(13, name=f"l{reg.name.lower()}_grant{n}_vid") for n in range(N)]
            same, hit = Signal(name=f"l{reg.name.lower()}_same"), Signal(name=f"l{reg.name.lower()}_t3")
            for n in range(N):
                grp1 = was2.lrf(n, "Grp1")
                group_ok = grp1 if alias else (~grp1 | was2.ctl("AckCtl"))
                m.d.sync += [
                    grant[n].eq(was2.hcrf("En") & (was2.state(n) == PENDING) & was2.en(grp1)
                                & group_ok & (was2.prio(n) < was2.pmr)
                                & (was2.gprio(n) < was2.rp()) & (now.lr[n] == active(n))
                                & (now.ap1 == (was.ap1 | was2.apr_bit(n))) & (now.ap0 == was.ap0)
                                & Cat(*(lr_same[k] for k in range(N) if k != n)).all()),
                    vid[n].eq(was2.vid_out(n)),
                ]
            m.d.sync += [same.eq(all_same), hit.eq(first & was_read(reg))]
            rdata = bus.r_data
            with m.If(hit):
                m.d.comb += Assert((((rdata == SPURIOUS) | (rdata == regs.SPURIOUS_GRP1)) & same)
                                   | Cat(*(grant[n] & (rdata == vid[n]) for n in range(N))).any())
            with m.If(was_read(reg)):
                # exactly L2: the acknowledged LR is the best, the AP bit in AP1 (L1)
                ap1_final = was.ap1
                for n in range(N):
                    m.d.comb += Assert(expect(now.lr[n], was.lr[n],
                                              Mux(ack[n], active(n), was.lr[n])))
                    ap1_final = ap1_final | Mux(ack[n], was2.apr_bit(n), 0)
                m.d.comb += Assert(expect(now.ap1, was.ap1, ap1_final))
                m.d.comb += Assert(now.ap0 == was.ap0)
            read_is(reg, now2.acknowledge(alias)[0])
            with m.If(first & was_read(reg) & Cat(*ack).any()):     # the lines drop
                m.d.comb += Assert(~top.virq & ~top.vfiq)
        read_is(regs.GICV_HPPIR, now2.highest_pending(False))        # R7, R14
        read_is(regs.GICV_AHPPIR, now2.highest_pending(True))
        # R6, L5: the lines as in GICv2's group iar
        assert_lines(m, top, now2.lines(), settled_1, after, hist, _words(LEGACY_ACKS))
        # no other read changes an LR or an AP register (arch 1.4 rule 4)
        other_read = window & last["r_stb"] & ~was_read(regs.GICV_IAR) & ~was_read(regs.GICV_AIAR)
        with m.If(other_read):
            m.d.comb += Assert(all_same)
        # v3 10.3: in the guest's window only the frame's registers and
        # ICC_SRE_EL1 answer (the ICV registers read 0)
        first_w, end_w = sysregs.FRAME_BASE["ICV"] >> 2, (sysregs.FRAME_BASE["ICV"]
                                                          + sysregs.FRAME_SIZE["ICV"]) >> 2
        frame = [r.word for r in regs.REGS if r.frame == "GICV"] + [Reg3("ICC_SRE_EL1").word]
        with m.If(responding & resp["r_stb"] & (resp["addr"] >= first_w) & (resp["addr"] < end_w)
                  & ~_any_word(resp["addr"], frame)):
            m.d.comb += Assert(bus.r_data == 0)
        # Strengthening only: once settled, the candidate tree's root is the
        # best of the unmasked candidates (v3 10.5's best when it passes
        # VPMR, pmr_ok), with the frame's preemption test and vid_out
        self._best_is(m, now, lrb, settled, N, lambda n: now2.gprio(n) < now2.rp(), now2.vid_out)

    def _legacy_eoi(self, m, now, was, now2, was2, bus, live, window, landed, expect, after,
                    last, N, top, was_read, was_write, read_is, **_):
        self._hold_frame(m, bus, live)
        vid, src = last["w_data"][:10], last["w_data"][10:13]
        eoir = was_write(regs.GICV_EOIR) | was_write(regs.GICV_AEOIR)
        dir_ = was_write(regs.GICV_DIR)
        eoimode = was2.ctl("EOImode")
        # L4: the lowest LR matching R8's rule, whatever its group or priority
        # (open point 14); the drop needs no match
        hit = [was2.matches(n, vid, src) for n in range(N)]
        first = [hit[n] & ~Cat(*hit[:n], Const(0)).any() for n in range(N)]
        any_hit = Cat(*hit).any()
        deact = (vid < 1020) & ((eoir & ~eoimode) | (dir_ & eoimode)) & any_hit
        # R11: +1 for an EOIR/AEOIR (EOImode 0) that dropped a priority and
        # matched nothing (open point 12), and for a DIR (EOImode 1) that
        # matched nothing
        inc = (vid < 1020) & ~any_hit & ((eoir & ~eoimode & (was.ap1 != 0)) | (dir_ & eoimode))
        for n in range(N):                        # V10 on the 64-bit LR: 10 -> 00, 11 -> 01
            with m.If(eoir | dir_):
                m.d.comb += Assert(expect(now.lr[n], was.lr[n],
                                          Mux(deact & first[n], was.deactivated(n), was.lr[n])))
        # L4: an HW = 1 LR forwards its 13-bit pINTID when 16-1019, once
        forward, pid = Const(0), Const(0, 13)
        for n in range(N):
            p = was.lrf(n, "pINTID")
            fwd = deact & first[n] & was.hw(n) & (p >= 16) & (p <= 1019)
            forward, pid = forward | fwd, pid | Mux(fwd, p, 0)
        assert_forwarded(m, top, after, window, landed, forward, pid)
        with m.If(window & ~was_write(Reg3("ICH_HCR_EL2"))):      # R11 on EOIcount
            m.d.comb += Assert(expect(now.hcrf("EOIcount"), was.hcrf("EOIcount"),
                                      (was.hcrf("EOIcount") + inc)[:5]))
        # L1: the drop clears the lowest bit of ICH_AP1R0_EL2, never AP0; DIR
        # and special IDs drop nothing
        with m.If(eoir & (vid < 1020)):
            m.d.comb += Assert(expect(now.ap1, was.ap1, was.ap1 & ~lowest_set_bit(was.ap1)))
        with m.If((eoir & (vid >= 1020)) | dir_):
            m.d.comb += Assert(now.ap1 == was.ap1)
        ap1_writes = was_write(Reg3("ICH_AP1R0_EL2")) | was_write(regs.GICV_APR0)
        with m.If(window & ~eoir & ~was_read(regs.GICV_IAR) & ~was_read(regs.GICV_AIAR)
                  & ~ap1_writes):
            m.d.comb += Assert(now.ap1 == was.ap1)
        with m.If(window & ~was_write(Reg3("ICH_AP0R0_EL2"))):
            m.d.comb += Assert(now.ap0 == was.ap0)
        # R4, L1: GICV_RPR from ICH_AP1R0_EL2, 0xFF idle; GICV_APR0 is that register
        read_is(regs.GICV_RPR, now2.rpr())
        read_is(regs.GICV_APR0, now.ap1)
        read_is(Reg3("ICH_AP1R0_EL2"), now.ap1)
        read_is(Reg3("ICH_AP0R0_EL2"), now.ap0)
