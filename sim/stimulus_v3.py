# Ref: docs/architecture-v3.md (v3 0-5: the registers, rules V1-V20, the open points the
#      stimulus must reach; V18 and v3 2.8 for what Linux KVM writes); Linux KVM's vgic-v3
#      world switch; tests/data/kvm3/ (a real KVM vgic-v3 recording)
"""Stimulus for GICv3 differential testing: reproducible sequences of
hypervisor (ICH_*_EL2) and guest (ICV_*_EL1) accesses on the memory-mapped
layout of rtl/sysregs.py, shaped like KVM and a Linux guest, plus raw noise.

The GICv3 twin of sim/stimulus.py, with the same building blocks: `Txn`
(frames "ICH" and "ICV"), `apply`, the choice sources `RandomChoices` and
`DrawChoices` (so a Hypothesis strategy can drive and shrink it), episodes
made against a private shadow golden model so that the generated software
reacts to what it reads (ELRSR says which LRs are free, IAR says what to
EOI). The engines under comparison never see the shadow.

Accesses (v3 1.4): a 64-bit ICH_LR<n>_EL2 write is its low half then its
high half, a read of an LR reads both halves; every other register is one
32-bit access to its low half. Only noise touches the other high halves,
the holes between registers and partial byte enables.

Episodes:

- kvm:    one vCPU run as Linux KVM's vgic-v3 does it (the recording, V18,
          v3 2.8): `vcpu_load` (ICH_VMCR_EL2, ICH_AP0R<n>/AP1R<n>),
          `flush` (the interrupts waiting, active first then by priority,
          into LR0 upwards; UIE when they do not fit), `entry` (ICH_HCR_EL2
          with En and sometimes NPIE, LRENPIE, VGrp*IE, the trap bits TC,
          TALL0, TALL1, TDIR, then the LRs), the guest, `exit` (ICH_ELRSR_EL2,
          ICH_HCR_EL2 without En, the non-empty LRs read back and cleared,
          sometimes ICH_MISR_EL2/ICH_EISR_EL2), `fold` (what stays pending or
          active is restored next time, a level interrupt whose EOI
          maintenance fired may be injected again) and `vcpu_put` (VMCR and
          the AP registers read back). Interrupts: both groups, priorities
          from a small set (ties, equal group priorities, preemption) within
          pri_bits, vSGIs, PPIs, the virtual timer as HW = 1 PPI 27, SPIs
          with EOI = 1 (level) or HW = 1 with a pINTID, vLPIs, now and then
          vINTID 1020-1023, the extended ranges, a pINTID that is not a PPI
          or SPI, state 10 or 11, duplicate vINTIDs, RES0 bits set.
- guest:  a guest's use of its interface: IGRPEN0/1, PMR, BPR0/BPR1, CTLR
          (CBPR, EOImode); IAR0/IAR1 while vFIQ/vIRQ is up (nesting when a
          more urgent one preempts), now and then the other group's IAR;
          HPPIR0/1, RPR; EOIR0/1 in the right order and sometimes out of
          order or of the other group; DIR after EOImode 1 drops (and
          sometimes with EOImode 0); EOIRs and DIRs nothing matches
          (EOIcount), saving and restoring its AP registers.
- poke:   a hypervisor writing LRs, AP registers and VMCR behind the guest's
          back (any state, RES0 bits, registers the configuration lacks).
- noise:  raw 32-bit reads and writes of any word of the two frames: every
          register's both halves, holes, registers the configuration lacks;
          shaped and random values, partial byte enables, a rare reset.

Every choice is written so that its smallest value is the simplest behaviour
(what Hypothesis shrinks towards).
"""
from collections import deque
from dataclasses import dataclass, replace

from ..rtl import regs, sysregs
from ..rtl.regs import INVALID, PENDING, ACTIVE, PENDING_ACTIVE, SPURIOUS, field
from ..rtl.sysregs import LR3_FIELDS, V3Config
from .model import VirtualInterface
from .stimulus import DrawChoices, RandomChoices, Txn, apply

__all__ = ["Txn", "apply", "RandomChoices", "DrawChoices", "World", "VInt", "lr3_value",
           "Guest", "Hypervisor", "noise", "poke", "episodes", "stream", "stream_cpus",
           "generate", "sequences", "PROFILES", "TIMER_PPI"]

M32 = 0xFFFF_FFFF
TIMER_PPI = 27                 # the EL1 virtual timer: KVM's HW = 1 LR (v3 2.8 [rec])
LPI_BASE = 8192                # V15


def reg(name):
    """A register of rtl/sysregs.py by its full name ("ICH_LR3_EL2")."""
    r = sysregs.lookup(name)
    if r is None:
        raise ValueError(f"{name!r} is no GICv3 register (rtl/sysregs.py)")
    return r


def lr(n):
    return f"ICH_LR{n}_EL2"


def ap(g, n, side="ICH"):
    """ICH_AP<g>R<n>_EL2, or with side "ICV" the guest's ICV_AP<g>R<n>_EL1."""
    return f"ICH_AP{g}R{n}_EL2" if side == "ICH" else f"ICV_AP{g}R{n}_EL1"


# ---------------------------------------------------------------------------
# The shadow world: a GICv3 golden model that predicts what software reads
# ---------------------------------------------------------------------------
class World:
    """The transactions emitted so far (`out`) and a shadow model they ran on."""

    def __init__(self, num_lrs, **params):
        self.cfg = V3Config(num_lrs, **params)
        self.num_lrs = num_lrs
        self.shadow = VirtualInterface(num_lrs, arch="v3", **params)
        self.out = []

    def emit(self, txn):
        self.out.append(txn)
        return apply(self.shadow, txn)

    def read(self, name):
        """A 64-bit register read: both halves of an LR, the low half of any other."""
        r = reg(name)
        value = self.emit(Txn("read", r.frame, r.offset))
        if r.width == 64:
            value |= self.emit(Txn("read", r.frame, r.offset + 4)) << 32
        return value

    def write(self, name, value):
        """A 64-bit register write: an LR's low half then its high half; any
        other register's low half (its bits [63:32] are RES0 and not sent)."""
        r = reg(name)
        self.emit(Txn("write", r.frame, r.offset, value & M32))
        if r.width == 64:
            self.emit(Txn("write", r.frame, r.offset + 4, value >> 32 & M32))

    # what the software knows about its own configuration (it wrote it)
    def vmcr(self, name):
        return field(self.shadow.vcpu.vmcr3, sysregs.VMCR3_FIELDS, name)

    @property
    def eoimode(self):
        return self.vmcr("VEOIM")

    @property
    def napr(self):
        return self.cfg.napr


# ---------------------------------------------------------------------------
# Virtual interrupts and list register values
# ---------------------------------------------------------------------------
def lr3_value(vintid=0, state=INVALID, priority=0, group=0, hw=0, pintid=0, eoi=0, res0=0):
    """An ICH_LR<n>_EL2 value from its fields, written out from the layout of
    v3 2.8 rather than from rtl/sysregs.py's field table (so that the tests
    do not share a mistake there): State [63:62], HW [61], Group [60],
    Priority [55:48], pINTID [44:32] (HW = 1) or EOI [41] (HW = 0), vINTID
    [31:0]. `res0`: bits OR-ed in on purpose, to test the write mask."""
    if not (0 <= vintid < 2**32 and 0 <= state < 4 and 0 <= priority < 256
            and 0 <= pintid < 2**13 and group in (0, 1) and hw in (0, 1) and eoi in (0, 1)):
        raise ValueError(f"LR field out of range: vintid={vintid} state={state} "
                         f"priority={priority} pintid={pintid} group={group} hw={hw} eoi={eoi}")
    if hw and eoi or not hw and pintid:
        raise ValueError("pINTID exists only with HW = 1, EOI only with HW = 0")
    return (state << 62 | hw << 61 | group << 60 | priority << 48
            | (pintid << 32 if hw else eoi << 41) | vintid | res0)


@dataclass
class VInt:
    """A virtual interrupt as the hypervisor keeps it (in a queue, or as the
    last value of its LR)."""
    vintid: int
    priority: int
    group: int = 1
    hw: int = 0
    pintid: int = 0
    eoi: int = 0
    state: int = PENDING
    res0: int = 0                  # RES0 bits written by mistake (v3 open point 16)

    def lr(self):
        return lr3_value(self.vintid, self.state, self.priority, self.group, self.hw,
                         self.pintid, self.eoi, self.res0)

    @classmethod
    def from_lr(cls, value):
        """The interrupt an LR value read back holds."""
        g = lambda name: field(value, LR3_FIELDS, name)          # noqa: E731
        hw = g("HW")
        return cls(g("vINTID"), g("Priority"), g("Group"), hw, g("pINTID") if hw else 0,
                   0 if hw else g("EOI"), g("State"))

    @property
    def active(self):
        return self.state in (ACTIVE, PENDING_ACTIVE)


# Priorities drawn from a few values so that equal priorities, equal group
# priorities under a coarse binary point, and preemption are all common.
# Linux gives every interrupt 0xA0 (the recording); the low bits exist only
# with pri_bits 6..8.
PRIORITIES = (0xA0, 0x80, 0xA0, 0x88, 0x90, 0x98, 0x40, 0x48, 0x00, 0xF0, 0xF8,
              0xA4, 0xA2, 0xA1, 0x81, 0xFE, 0xFF)
# ICV_PMR_EL1 values: Linux's 0xF0, everything open (0xFF: RES0 bits below
# PRIMASK), masks that cut through the priorities, everything masked
PMRS = (0xF0, 0xFF, 0xA0, 0xA8, 0x90, 0x88, 0x80, 0x00, 0xA1)


def priority(ch, cfg):
    """An 8-bit priority within PRIMASK, now and then with RES0 bits set."""
    p = ch.pick(PRIORITIES) if ch.chance(0.85) else ch.integer(0, 0xFF)
    return p if ch.chance(0.05) else p & cfg.primask


def _lr_res0(ch, cfg, hw):
    """RES0 bits of an LR (v3 2.8, v3 open point 16): NMI, [58:56], [47:45],
    priority bits outside PRIMASK, vINTID bits at and above id_bits, and
    with HW = 0 the pINTID bits other than EOI."""
    spots = [1 << 59, ch.integer(1, 7) << 56, ch.integer(1, 7) << 45]
    if cfg.primask != 0xFF:
        spots.append((ch.integer(1, 0xFF) & ~cfg.primask & 0xFF or 1) << 48)
    if cfg.id_bits < 32:
        spots.append(1 << ch.integer(cfg.id_bits, 31))
    if not hw:
        spots.append(ch.pick((1 << 32, 1 << 40, 1 << 42, 1 << 44, 0x1DFF << 32)))
    return ch.pick(spots)


def _vlpi(ch, cfg):
    """A vLPI: 8192 up, mostly the first few; the top of the 16- or 24-bit range."""
    if ch.chance(0.8):
        return LPI_BASE + ch.integer(0, 63)
    return ch.integer(LPI_BASE, cfg.idmask)


KINDS = [(5, "spi"), (2, "timer"), (2, "sgi"), (1, "ppi"), (1.5, "hw_spi"), (1, "lpi"),
         (0.15, "hw_odd"), (0.1, "special"), (0.1, "extended")]


def new_vint(ch, cfg, taken=()):
    """A virtual interrupt as KVM would inject it (v3 2.8 [rec]): an SPI, level
    (EOI = 1) or edge; the virtual timer, HW = 1 PPI 27 backed by pINTID 27;
    a vSGI or PPI; an SPI forwarded from a device (HW = 1, its own pINTID);
    a vLPI (never EOI = 1, as KVM). Now and then what the architecture
    calls UNPREDICTABLE or KVM never writes: a pINTID that is not a PPI or
    SPI (v3 open point 13), vINTID 1020-1023 (V16), the extended ranges
    (V15), state 10 or 11 (HW = 1 too: v3 open point 12), a vINTID already
    in `taken` (v3 open point 11), RES0 bits."""
    kind = ch.weighted(KINDS)
    group = int(not ch.chance(0.35))
    v = VInt(0, priority(ch, cfg), group)
    match kind:
        case "spi":
            v.vintid = ch.integer(32, 63) if ch.chance(0.8) else ch.integer(32, 1019)
            v.eoi = int(ch.chance(0.4))                          # level: EOI maintenance
        case "timer":
            v.vintid, v.hw, v.pintid = TIMER_PPI, 1, TIMER_PPI
            v.group = int(not ch.chance(0.1))
        case "sgi":
            v.vintid = ch.integer(0, 7) if ch.chance(0.7) else ch.integer(0, 15)
        case "ppi":
            v.vintid = ch.integer(16, 31)
            v.eoi = int(ch.chance(0.2))
        case "hw_spi":
            v.vintid = ch.integer(32, 63) if ch.chance(0.8) else ch.integer(32, 1019)
            v.hw = 1
            v.pintid = v.vintid if ch.chance(0.6) else ch.integer(16, 1019)
        case "lpi":
            v.vintid, v.group = _vlpi(ch, cfg), 1
        case "hw_odd":
            v.vintid, v.hw = ch.integer(32, 63), 1
            v.pintid = ch.pick((0, 7, 15, 1020, 1023, 1024, 4096, 8191))
        case "special":
            v.vintid = ch.integer(1020, 1023)
        case "extended":
            v.vintid = ch.pick((1024, 1056, 1119, 4096, 5119, 8191))
    for _ in range(4):                   # a duplicate vINTID: occasionally
        if v.vintid not in taken or ch.chance(0.05):
            break
        v.vintid = ch.integer(32, 95)
    if ch.chance(0.05):
        v.state = ch.pick((PENDING_ACTIVE, ACTIVE)) if not v.hw or ch.chance(0.3) else ACTIVE
    if ch.chance(0.03):
        v.res0 = _lr_res0(ch, cfg, v.hw)
    return v


def random_lr(ch, cfg):
    """An LR value with every field drawn, the vINTID from a small set (so
    that duplicates, state 11, HW = 1 and EOI requests meet)."""
    hw = int(ch.chance(0.3))
    vintid = ch.integer(0, 40) if ch.chance(0.85) else ch.pick(
        (1020, 1023, LPI_BASE, LPI_BASE + 1, cfg.idmask, 1 << 24 | 33))
    value = lr3_value(vintid & M32, ch.integer(0, 3), priority(ch, cfg), int(ch.chance(0.5)), hw,
                      ch.integer(0, 8191) if hw else 0, 0 if hw else int(ch.chance(0.4)))
    if ch.chance(0.2):
        value |= _lr_res0(ch, cfg, hw)
    return value


# ---------------------------------------------------------------------------
# Guest: a VM's software on its virtual CPU interface (ICV_*_EL1)
# ---------------------------------------------------------------------------
class Guest:
    def __init__(self, w, ch):
        self.w, self.ch = w, ch
        self.acked = []        # (vINTID, group) acknowledged, priority not yet dropped
        self.dropped = []      # vINTIDs dropped with EOImode 1, awaiting ICV_DIR_EL1
        self.configured = False

    def configure(self):
        """What a guest does at boot (the recording: PMR, BPR1, CTLR, the APs,
        IGRPEN1), with both groups, EOImode and CBPR varied."""
        ch, w = self.ch, self.w
        self.configured = True
        w.write("ICV_PMR_EL1", self.pmr())
        if ch.chance(0.6):
            w.write("ICV_BPR0_EL1", ch.integer(0, 7) if ch.chance(0.9) else ch.integer(0, M32))
        if ch.chance(0.6):
            w.write("ICV_BPR1_EL1", ch.integer(0, 7) if ch.chance(0.9) else ch.integer(0, M32))
        ctlr = int(ch.chance(0.3)) | int(ch.chance(0.35)) << 1            # CBPR, EOImode
        if ch.chance(0.05):
            ctlr = ch.integer(0, M32)                                     # read-only bits too
        w.write("ICV_CTLR_EL1", ctlr)
        if ch.chance(0.3):
            w.write("ICV_AP0R0_EL1", 0)
            w.write("ICV_AP1R0_EL1", 0)
        w.write("ICV_IGRPEN1_EL1", int(not ch.chance(0.1)) | (2 if ch.chance(0.03) else 0))
        w.write("ICV_IGRPEN0_EL1", int(not ch.chance(0.15)) | (2 if ch.chance(0.03) else 0))

    def pmr(self):
        ch = self.ch
        if ch.chance(0.2):
            return ch.pick(PMRS) if ch.chance(0.8) else ch.integer(0, 0xFF)
        return ch.pick(PMRS[:2])

    def group_to_take(self):
        """The group whose line is up: vFIQ is Group 0, vIRQ Group 1 (V5)."""
        if self.w.shadow.vfiq:
            return 0
        if self.w.shadow.virq:
            return 1
        return int(self.ch.chance(0.6))

    def acknowledge(self, g=None):
        """Read ICV_IAR<g>_EL1 (V6), now and then ICV_HPPIR<g>_EL1 first, now
        and then the other group's (which answers 1023)."""
        ch, w = self.ch, self.w
        if g is None:
            g = self.group_to_take()
            if ch.chance(0.08):
                g ^= 1
        if ch.chance(0.2):
            w.read(f"ICV_HPPIR{g}_EL1")
        intid = w.read(f"ICV_IAR{g}_EL1")
        if intid < 1020 or intid >= 1024:
            self.acked.append((intid, g))
        elif intid != SPURIOUS and ch.chance(0.2):
            w.write(f"ICV_EOIR{g}_EL1", intid)                 # a special INTID: ignored (V8)

    def eoi(self, index=-1):
        """Write ICV_EOIR<g>_EL1 for the interrupt acknowledged at `index`
        (-1, the last one: the right order), sometimes through the other
        group's register (v3 open point 5)."""
        ch, w = self.ch, self.w
        intid, g = self.acked.pop(index)
        if ch.chance(0.07):
            g ^= 1
        w.write(f"ICV_EOIR{g}_EL1", intid)
        if w.eoimode and intid < LPI_BASE:                      # a vLPI needs no DIR (V15)
            self.dropped.append(intid)

    def deactivate(self):
        """Write ICV_DIR_EL1 for a dropped interrupt, mostly the oldest."""
        ch, w = self.ch, self.w
        k = 0 if ch.chance(0.7) else ch.integer(0, len(self.dropped) - 1)
        w.write("ICV_DIR_EL1", self.dropped.pop(k))

    def bogus_intid(self):
        """An INTID nothing was acknowledged for: another LR's, a vLPI, a
        special one, one with bits above id_bits."""
        ch, w = self.ch, self.w
        kind = ch.weighted([(3, "lr"), (2, "spi"), (1, "sgi"), (1, "lpi"), (0.5, "special"),
                            (0.5, "wide")])
        match kind:
            case "lr" | "wide":
                intid = w.shadow.lrs.get(ch.integer(0, w.num_lrs - 1), "vINTID")
                return intid | (1 << ch.integer(w.cfg.id_bits, 31) if kind == "wide" else 0)
            case "spi":
                return ch.integer(32, 95)
            case "sgi":
                return ch.integer(0, 15)
            case "lpi":
                return _vlpi(ch, w.cfg)
            case _:
                return ch.integer(1020, 1023)

    def step(self):
        """One thing the guest does. Returns False when it has nothing to do
        and waits for an interrupt (WFI, which exits to the hypervisor)."""
        ch, w = self.ch, self.w
        if (w.shadow.virq or w.shadow.vfiq) and ch.chance(0.85):
            self.acknowledge()                                  # nested if one is running
            return True
        busy = self.acked or self.dropped
        stale = not self.acked and (w.shadow.vcpu.ap0 or w.shadow.vcpu.apr)
        # a guest whose interface was shut behind its back (a reset, noise, a poke
        # of VMCR) sets it up again soon
        shut = not (w.vmcr("VENG0") or w.vmcr("VENG1")) or w.vmcr("VPMR") == 0
        action = ch.weighted([
            (0 if busy else 3, "wfi"),
            (3 if stale else 0, "drop_stale"),
            (4 if self.acked else 0.3, "eoi"),
            (3 if self.dropped else 0.2, "dir"),
            (1 if len(self.acked) > 1 else 0, "eoi_out_of_order"),
            (1, "peek"), (0.5, "ack"), (0.6, "tune"), (0.3, "groups"), (0.25, "ctlr"),
            (0.3, "bogus_eoi"), (0.3, "bogus_dir"), (2 if shut else 0.05, "configure"),
            (0.1, "aps"),
            (0.04, "unmatched_storm"),
        ])
        match action:
            case "wfi":
                return False
            case "drop_stale":
                self.drop_stale()
            case "eoi":
                if self.acked:
                    self.eoi()
                else:
                    w.write(f"ICV_EOIR{ch.integer(0, 1)}_EL1", self.bogus_intid())
            case "dir":
                if self.dropped:
                    self.deactivate()
                else:
                    w.write("ICV_DIR_EL1", self.bogus_intid())
            case "eoi_out_of_order":
                self.eoi(ch.integer(0, len(self.acked) - 2))
            case "peek":
                w.read(ch.pick(("ICV_RPR_EL1", "ICV_HPPIR1_EL1", "ICV_HPPIR0_EL1", "ICV_CTLR_EL1",
                                "ICV_PMR_EL1", "ICV_BPR0_EL1", "ICV_BPR1_EL1", "ICV_IGRPEN0_EL1",
                                "ICV_IGRPEN1_EL1")))
            case "ack":
                self.acknowledge(ch.integer(0, 1))
            case "tune":
                match ch.integer(0, 2):
                    case 0: w.write("ICV_PMR_EL1", self.pmr())
                    case 1: w.write("ICV_BPR0_EL1", ch.integer(0, 7))
                    case 2: w.write("ICV_BPR1_EL1", ch.integer(0, 7))
            case "groups":
                w.write(f"ICV_IGRPEN{ch.integer(0, 1)}_EL1", int(not ch.chance(0.4)))
            case "ctlr":
                w.write("ICV_CTLR_EL1", ch.integer(0, 3))       # EOImode with drops pending too
            case "bogus_eoi":
                w.write(f"ICV_EOIR{ch.integer(0, 1)}_EL1", self.bogus_intid())
            case "bogus_dir":
                w.write("ICV_DIR_EL1", self.bogus_intid())
            case "configure":
                self.configure()
            case "aps":
                self.save_restore_aps()
            case "unmatched_storm":
                # EOIRs/DIRs that no LR holds: each counts in EOIcount (V11), which wraps at 32
                use_dir = w.eoimode
                for _ in range(ch.integer(1, 36)):
                    if not use_dir:
                        w.write("ICV_AP1R0_EL1", 1 << ch.integer(0, 31))   # something to drop
                        w.write(f"ICV_EOIR{ch.integer(0, 1)}_EL1", ch.integer(96, 1019))
                    else:
                        w.write("ICV_DIR_EL1", ch.integer(96, 1019))
        return True

    def drop_stale(self):
        """Active priorities nobody acknowledged (a poke, noise, a guest that
        lost track): RPR shows them; EOIRs drop them one by one (V8), or the
        guest clears its AP registers as Linux does at boot."""
        ch, w = self.ch, self.w
        if ch.chance(0.3):
            for g in (0, 1):
                for n in range(w.napr):
                    w.write(ap(g, n, "ICV"), 0)
            return
        for _ in range(ch.integer(1, 6)):
            if w.read("ICV_RPR_EL1") == 0xFF:
                return
            w.write(f"ICV_EOIR{ch.integer(0, 1)}_EL1", self.bogus_intid())

    def save_restore_aps(self):
        """A guest saving its active priorities and writing them back, or
        (rarely) writing a value of its own (v3 open point 18)."""
        ch, w = self.ch, self.w
        n = ch.integer(0, w.napr - 1)
        for g in (0, 1):
            v = w.read(ap(g, n, "ICV"))
            if ch.chance(0.1):
                v = 1 << ch.integer(0, 31) if ch.chance(0.7) else ch.integer(0, M32)
            w.write(ap(g, n, "ICV"), v)

    def reboot(self):
        """After a reset of the interface: the guest starts again."""
        self.acked.clear()
        self.dropped.clear()
        self.configured = False

    def run(self, steps):
        """Up to `steps` steps, until the guest waits for an interrupt."""
        for _ in range(steps):
            if not self.step():
                return


# ---------------------------------------------------------------------------
# Hypervisor: Linux KVM's vgic-v3, one function per step
# ---------------------------------------------------------------------------
TRAP_BITS = {"TC": 1 << 10, "TALL0": 1 << 11, "TALL1": 1 << 12, "TDIR": 1 << 14}


class Hypervisor:
    def __init__(self, w, ch, guest):
        self.w, self.ch, self.guest = w, ch, guest
        self.queue = deque()   # VInts waiting for an LR (KVM's ap_list)
        self.vmcr = 0          # saved ICH_VMCR_EL2 (KVM starts from 0: the minimum binary points)
        self.aps = {(g, n): 0 for g in (0, 1) for n in range(w.napr)}   # saved AP registers
        self.hcr = 0           # KVM's vgic_hcr: the value for the next entry
        self.eoicount = 0
        self.used = 0          # LRs written at the last entry (KVM's used_lrs)
        self.loaded = False

    # -- boot ----------------------------------------------------------------
    def init(self):
        """KVM at boot, in this order [rec]: HCR = 0, every LR = 0, VMCR = 0,
        AP0R0 = AP1R0 = 0 (V18)."""
        w = self.w
        w.write("ICH_HCR_EL2", 0)
        w.read("ICH_VTR_EL2")
        for n in range(w.num_lrs):
            w.write(lr(n), 0)
        w.write("ICH_VMCR_EL2", 0)
        w.write(ap(0, 0), 0)
        w.write(ap(1, 0), 0)

    def reboot(self):
        """After a reset of the interface: KVM's bookkeeping starts again."""
        self.queue.clear()
        self.vmcr, self.hcr, self.eoicount, self.used, self.loaded = 0, 0, 0, 0, False
        self.aps = dict.fromkeys(self.aps, 0)
        self.init()

    # -- vcpu_load / vcpu_put ----------------------------------------------------
    def vcpu_load(self):
        """__vgic_v3_restore_vmcr_aprs: VMCR, then the AP registers of both
        groups (the recording reads VTR for their number)."""
        ch, w = self.ch, self.w
        vmcr = self.vmcr if not ch.chance(0.04) else ch.integer(0, M32)  # RES0 bits, VFIQEn=0...
        w.write("ICH_VMCR_EL2", vmcr)
        if ch.chance(0.5):
            w.read("ICH_VTR_EL2")
        for g in (0, 1):
            for n in range(w.napr):
                w.write(ap(g, n), self.aps[g, n])
        self.loaded = True

    def vcpu_put(self):
        """__vgic_v3_save_vmcr_aprs: VMCR and the AP registers read back."""
        w = self.w
        self.vmcr = w.read("ICH_VMCR_EL2")
        if self.ch.chance(0.5):
            w.read("ICH_VTR_EL2")
        for g in (0, 1):
            for n in reversed(range(w.napr)):
                self.aps[g, n] = w.read(ap(g, n))
        self.loaded = False

    # -- interrupts arriving ---------------------------------------------------
    def taken(self):
        """vINTIDs of every interrupt queued or in an LR."""
        lrs = (self.w.shadow.lrs.get(n, "vINTID") for n in range(self.w.num_lrs)
               if self.w.shadow.lrs.state(n) != INVALID)
        return set(lrs) | {v.vintid for v in self.queue}

    def device_events(self):
        """New interrupts for this vCPU: devices, IPIs, the timer; now and
        then a burst that does not fit in the LRs."""
        ch, w = self.ch, self.w
        n = ch.integer(0, 4)
        if ch.chance(0.08 if w.num_lrs <= 4 else 0.02):
            n = w.num_lrs + ch.integer(0, 2)
        for _ in range(n):
            self.queue.append(new_vint(ch, w.cfg, self.taken()))

    # -- world switch -----------------------------------------------------------
    def flush(self):
        """vgic_flush_lr_state: the interrupts for LR0 upwards, active ones
        first, then by priority (KVM sorts its ap_list so); what does not fit
        waits, with UIE set to learn when LRs free up."""
        ch, w = self.ch, self.w
        pending = list(self.queue)
        if ch.chance(0.8):
            pending.sort(key=lambda v: (not v.active, v.priority))
        batch, rest = pending[:w.num_lrs], pending[w.num_lrs:]
        self.queue = deque(rest)
        uie = 1 << 1 if rest else 0
        return batch, uie

    def hcr_for_entry(self, uie):
        ch = self.ch
        hcr = 1 | uie                                               # En
        if ch.chance(0.2):
            hcr |= 1 << 3                                           # NPIE
        if ch.chance(0.3):
            hcr |= 1 << 2                                           # LRENPIE
        if ch.chance(0.1):
            hcr |= ch.integer(1, 15) << 4                           # VGrp0EIE..VGrp1DIE
        if ch.chance(0.15):                                         # trapping the guest
            for bit in TRAP_BITS.values():
                hcr |= bit if ch.chance(0.5) else 0
        if ch.chance(0.05):
            self.eoicount = ch.pick((31, 30, 1))                    # about to wrap (V11)
        hcr |= self.eoicount << 27
        if ch.chance(0.03):
            hcr |= ch.pick((1 << 13, 1 << 15, 1 << 8, 1 << 9, 0x07FF << 16))  # RES0 (v3 2.1)
        return hcr

    def entry(self):
        """__vgic_v3_restore_state: with LRs in use, HCR then LR0..LRn-1 (KVM
        writes nothing while no LR is used: En stays 0, V14)."""
        ch, w = self.ch, self.w
        batch, uie = self.flush()
        self.used = len(batch)
        hcr = self.hcr_for_entry(uie)
        lrs_first = ch.chance(0.25)
        if batch and not lrs_first or not batch and ch.chance(0.3):
            w.write("ICH_HCR_EL2", hcr)
        for n, v in enumerate(batch):
            w.write(lr(n), v.lr())
        if batch and lrs_first:
            w.write("ICH_HCR_EL2", hcr)
        self.hcr = hcr

    def exit(self):
        """__vgic_v3_save_state: ELRSR, HCR without En (UIE and the rest
        kept), each used LR that ELRSR does not report empty read back, each
        used LR cleared; then vgic_v3_fold_lr_state. Sometimes MISR and EISR
        first (KVM does not read them; a hypervisor may)."""
        ch, w = self.ch, self.w
        if w.shadow.maint or ch.chance(0.2):
            w.read("ICH_MISR_EL2")
            if ch.chance(0.6):
                w.read("ICH_EISR_EL2")
        used = self.used
        if ch.chance(0.15):
            used = max(used, ch.integer(0, w.num_lrs))              # a hypervisor tidying all LRs
        elrsr = w.read("ICH_ELRSR_EL2") if used or ch.chance(0.3) else 0
        w.write("ICH_HCR_EL2", (self.hcr & ~1) if ch.chance(0.7) else 0)
        if ch.chance(0.4):
            self.eoicount = w.read("ICH_HCR_EL2") >> 27 if ch.chance(0.5) else 0
        folded = []
        for n in range(used):
            if not elrsr >> n & 1:
                folded.append(VInt.from_lr(w.read(lr(n))))
            w.write(lr(n), 0)
        self.used = 0
        self.fold(folded)

    def fold(self, lrs):
        """What the guest left: pending or active interrupts go back to the
        queue (restored at the next entry, now and then with the level
        re-asserted: 10 -> 11), an EOI maintenance LR (level interrupt) is
        injected again if its line is still high, an HW = 1 one may fire
        again; now and then one is retired (migrated, or disabled), most often
    an active one the guest knows nothing of (it would stay active for ever)."""
        ch = self.ch
        known = {intid for intid, _ in self.guest.acked} | set(self.guest.dropped)
        for v in lrs:
            if v.state == INVALID:
                if (v.eoi or v.hw) and ch.chance(0.3):
                    self.queue.append(replace(v, state=PENDING))
                continue
            if ch.chance(0.2 if v.state == PENDING or v.vintid in known else 0.5):
                continue                                            # retired
            if v.state == ACTIVE and not v.hw and ch.chance(0.1):
                v.state = PENDING_ACTIVE
            self.queue.append(v)

    def touch_missing(self):
        """Registers the configuration lacks (v3 open point 17: RAZ/WI on this
        layout): LRs from num_lrs, AP registers from NAPR."""
        ch, w = self.ch, self.w
        for _ in range(ch.integer(1, 3)):
            if w.num_lrs < sysregs.MAX_LRS and ch.chance(0.6):
                n = ch.integer(w.num_lrs, sysregs.MAX_LRS - 1)
                w.write(lr(n), random_lr(ch, w.cfg))
                w.read(lr(n))
            elif w.napr < sysregs.MAX_APR:
                name = ap(ch.integer(0, 1), ch.integer(w.napr, sysregs.MAX_APR - 1),
                          ch.pick(("ICH", "ICV")))
                w.write(name, 1 << ch.integer(0, 31))
                w.read(name)

    def run(self):
        """One vCPU run: load (if not loaded), interrupts arrive, entry, the
        guest until it is done or a maintenance interrupt exits it, exit,
        sometimes put."""
        ch, w = self.ch, self.w
        if not self.loaded:
            self.vcpu_load()
        if not self.guest.configured:
            self.guest.configure()
        self.device_events()
        self.entry()
        for _ in range(ch.integer(1, 12 + 2 * self.used)):
            if not self.guest.step():
                break                                   # WFI: exits to KVM
            if w.shadow.maint and ch.chance(0.4):
                break                                   # the maintenance IRQ exits to KVM
        self.exit()
        if ch.chance(0.3):
            self.vcpu_put()


# ---------------------------------------------------------------------------
# Behind the guest's back, and raw noise
# ---------------------------------------------------------------------------
def poke(w, ch):
    """A hypervisor writing LRs (any state, duplicates, RES0 bits, LRs the
    configuration lacks), the AP registers (values no acknowledge makes:
    v3 open point 18) or VMCR under a running guest."""
    for _ in range(ch.integer(1, 4)):
        what = ch.weighted([(6, "lr"), (1, "ap"), (1, "vmcr"), (0.5, "hcr")])
        match what:
            case "lr":
                n = (ch.integer(0, w.num_lrs - 1) if ch.chance(0.9)
                     else ch.integer(0, sysregs.MAX_LRS - 1))
                w.write(lr(n), random_lr(ch, w.cfg))
            case "ap":
                n = (ch.integer(0, w.napr - 1) if ch.chance(0.9)
                     else ch.integer(0, sysregs.MAX_APR - 1))
                w.write(ap(ch.integer(0, 1), n), 1 << ch.integer(0, 31) if ch.chance(0.9)
                        else ch.integer(0, M32))
            case "vmcr":
                w.write("ICH_VMCR_EL2", ch.integer(0, M32))
            case "hcr":
                w.write("ICH_HCR_EL2", ch.integer(0, M32) if ch.chance(0.3)
                        else 1 | ch.integer(0, 0xFF) | ch.integer(0, 31) << 27)


_REG_SLOTS = tuple(sysregs.SYSREGS)


def _noise_address(ch):
    """(frame, offset): a register's low or high half (registers the
    configuration lacks included), or any word of the frames."""
    where = ch.weighted([(6, "reg"), (1.5, "high"), (1, "ich"), (1, "icv")])
    match where:
        case "reg" | "high":
            r = ch.pick(_REG_SLOTS)
            return r.frame, r.offset + (4 if where == "high" else 0)
        case "ich":
            return "ICH", 4 * (ch.integer(0, 0x7F) if ch.chance(0.7) else ch.integer(0, 0x3FF))
        case _:
            return "ICV", 4 * (ch.integer(0, 0x7F) if ch.chance(0.7) else ch.integer(0, 0x7FF))


def _noise_value(ch, cfg, frame, offset):
    kind = ch.weighted([(5, "shaped"), (3, "random"), (1, "special")])
    if kind == "random":
        return ch.integer(0, M32)
    if kind == "special":
        return ch.pick((0, M32, 1023, 1022, 1020, LPI_BASE, 0x1C00, 0x8000_0000, 0x5555_5555))
    r, half = sysregs.decode(frame, offset)
    name = r.name if r is not None else ""
    if name.startswith("LR"):
        v = random_lr(ch, cfg)
        return v >> 32 if half else v & M32
    match name:
        case "HCR":
            return ch.integer(0, 0xFF) | ch.integer(0, 7) << 10 | ch.integer(0, 31) << 27
        case "VMCR":
            return (ch.integer(0, 0xFF) << 24 | ch.integer(0, 7) << 21 | ch.integer(0, 7) << 18
                    | ch.integer(0, 1) << 9 | ch.integer(0, 31))
        case n if n.startswith("AP"):
            return (1 << ch.integer(0, 31)) | (ch.integer(0, M32) if ch.chance(0.1) else 0)
        case "CTLR" | "IGRPEN0" | "IGRPEN1":
            return ch.integer(0, 3)
        case "PMR" | "BPR0" | "BPR1":
            return ch.integer(0, 0xFF)
        case "EOIR0" | "EOIR1" | "DIR":
            return ch.integer(0, 40) if ch.chance(0.8) else _vlpi(ch, cfg)
    return ch.integer(0, M32)


def noise(w, ch, count):
    """`count` raw accesses. Returns whether one of them was a reset."""
    reset = False
    for _ in range(count):
        if ch.chance(0.005):
            w.emit(Txn("reset"))
            reset = True
            continue
        frame, offset = _noise_address(ch)
        if ch.chance(0.5):
            w.emit(Txn("read", frame, offset))
        else:
            strb = 0xF if not ch.chance(0.05) else ch.integer(0, 0xE)
            w.emit(Txn("write", frame, offset, _noise_value(ch, w.cfg, frame, offset), strb))
    return reset


# ---------------------------------------------------------------------------
# Streams and sequences
# ---------------------------------------------------------------------------
# Episode weights per profile, as sim/stimulus.py: "mixed" (default), "kvm"
# (realistic only), "noise" (raw register noise only).
PROFILES = {
    "mixed": [(6, "kvm"), (2, "guest"), (2, "noise"), (1, "poke"), (0.3, "missing")],
    "kvm":   [(6, "kvm"), (1, "guest")],
    "noise": [(1, "noise")],
}


def episodes(ch, num_lrs, profile="mixed", **params):
    """An endless iterator of episodes (each a list of Txn) for a GICv3
    interface with `num_lrs` LRs and the V3Config parameters `params`
    (pri_bits, pre_bits, id_bits, rp_masked), starting from reset.
    Deterministic for a given source of choices."""
    if profile not in PROFILES:
        raise ValueError(f"unknown stimulus profile {profile!r}: expected one of "
                         f"{sorted(PROFILES)}")
    w = World(num_lrs, **params)
    guest = Guest(w, ch)
    hyp = Hypervisor(w, ch, guest)
    table = PROFILES[profile]
    if profile != "noise":
        hyp.init()
    while True:
        match ch.weighted(table):
            case "kvm":
                if ch.chance(0.03):
                    guest.configure()
                hyp.run()
            case "guest":
                if ch.chance(0.15):
                    guest.configure()
                if ch.chance(0.7):
                    hyp.device_events()
                    hyp.entry()
                guest.run(ch.integer(1, 16))
            case "noise":
                if noise(w, ch, ch.integer(1, 24)) and profile != "noise":
                    guest.reboot()
                    hyp.reboot()
            case "poke":
                poke(w, ch)
                guest.run(ch.integer(0, 6))
            case "missing":
                hyp.touch_missing()
        yield list(w.out)
        w.out.clear()


def stream(ch, num_lrs, profile="mixed", **params):
    """An endless iterator of Txn: the episodes one after the other."""
    for episode in episodes(ch, num_lrs, profile, **params):
        yield from episode


def _accesses(txns):
    """A stream as register accesses: an LR's low half together with its high
    half right after it (one 64-bit access), every other transaction alone."""
    it = iter(txns)
    t = next(it)
    while True:
        nxt = next(it)
        reg_, half = sysregs.decode(t.frame, t.offset) if t.op != "reset" else (None, 0)
        if (reg_ is not None and reg_.width == 64 and half == 0
                and (nxt.op, nxt.frame, nxt.offset) == (t.op, t.frame, t.offset + 4)):
            yield [t, nxt]
            t = next(it)
        else:
            yield [t]
            t = nxt


def stream_cpus(seeds, num_lrs, profile="mixed", mix=None, **params):
    """Several CPU interfaces' streams interleaved (v3 1.5), as sim/stimulus.py's
    stream_cpus does for GICv2: one stream per seed in `seeds`, CPU n's
    transactions carrying cpu = n, taken in runs of 1 to 8 accesses of a CPU
    chosen by `mix` (a source of choices), an LR's two halves never split.
    One in five of CPU n's ICH accesses is made by another CPU through n's
    view (0x1000 + 0x200 n); now and then an ICH access goes through the view
    of a CPU the core lacks (RAZ/WI). A reset in one stream resets every CPU:
    the other streams go on."""
    streams = [_accesses(stream(RandomChoices(seed), num_lrs, profile, **params))
               for seed in seeds]
    n = len(streams)
    while True:
        k = mix.integer(0, n - 1)
        for _ in range(mix.integer(1, 8)):
            access = [t._replace(cpu=k) for t in next(streams[k])]
            if access[0].frame == "ICH" and access[0].op != "reset":
                if n > 1 and mix.chance(0.2):
                    by = (k + mix.integer(1, n - 1)) % n
                    access = [t._replace(cpu=by, gich_cpu=k) for t in access]
                elif n < regs.MAX_CPUS and mix.chance(0.01):
                    view = mix.integer(n, regs.MAX_CPUS - 1)
                    access = [t._replace(gich_cpu=view) for t in access]
            yield from access


def generate(seed, num_lrs, count, profile="mixed", **params):
    """The first `count` transactions of the stream for `seed`."""
    it = stream(RandomChoices(seed), num_lrs, profile, **params)
    return [next(it) for _ in range(count)]


def sequences(num_lrs, max_length=300, profile="mixed", **params):
    """Hypothesis strategy: a list of at most `max_length` Txn for `num_lrs`
    LRs (an int or a strategy of ints) and the V3Config `params`, built from
    shrinkable choices. After each episode a choice says whether to go on
    (3% stop), so shrinking shortens the sequence."""
    from hypothesis import strategies as st

    @st.composite
    def _sequences(draw):
        n = num_lrs if isinstance(num_lrs, int) else draw(num_lrs)
        ch = DrawChoices(draw)
        out = []
        for episode in episodes(ch, n, profile, **params):
            out += episode
            if len(out) >= max_length or not ch.chance(0.97):
                return out[:max_length]

    return _sequences()
