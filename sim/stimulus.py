# Ref: IHI0048B ch. 5 (GICH/GICV programming model), 3.3/4.4 (CPU interface use);
#      arch 1-3 (R1-R16) and arch 4 (open points: the choices the model makes)
"""Stimulus for differential testing: reproducible register-transaction
sequences shaped like real use, plus raw noise.

A sequence is plain data: a list (or a lazy stream) of `Txn`. It is made by
*episodes* run against a private shadow golden model, so that a generator can
react the way software does (read ELRSR, pick a free LR; read IAR, EOI what it
got). The shadow only shapes the stimulus; the engines under comparison never
see it. Episodes:

- kvm:    a KVM-like world switch. Entry restores VMCR/APR and live LRs, reads
          ELRSR to find free LRs, fills them from a queue of virtual
          interrupts (HW=1 with pINTIDs, vSGIs with CPUIDs, Group 0/1, equal
          priorities, LR.EOI, now and then a duplicate vid or a State 11),
          sets HCR (En, UIE on overflow, NPIE, LRENPIE, EOICount). The guest
          then runs (see below). Exit reads MISR/EISR/ELRSR/APR/VMCR/HCR and
          the used LRs, clears them, writes HCR=0, recycles the LRs.
- guest:  guest code alone on the current state: configures CTLR (groups,
          AckCtl, FIQEn, CBPR, EOImode), PMR, BPR, ABPR; acknowledges through
          IAR/AIAR while VIRQ/VFIQ is up (nesting preemptions), EOIs in order
          and out of order, DIR with EOImode=1 (and without), HPPIR/AHPPIR/RPR.
- noise:  raw reads and writes of every offset of both frames (reserved ones,
          LRs above num_lrs, the DIR page, the unmapped hole), random and
          field-shaped values, partial byte enables, an occasional reset.

Randomness comes from a `Choices` object: `RandomChoices(seed)` for fuzzing
(reproducible: same seed, same sequence) or `DrawChoices(draw)` inside a
Hypothesis strategy, whose choices Hypothesis can shrink. Every choice is
written so that its smallest value is the simplest behaviour.
"""
import random
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

from ..rtl import regs, sysregs
from ..rtl.regs import (LR_FIELDS, CTLR_FIELDS, INVALID, PENDING, ACTIVE, PENDING_ACTIVE,
                        SPURIOUS_GRP1, field)
from .model import VirtualInterface

__all__ = ["Txn", "apply", "describe", "RandomChoices", "DrawChoices", "episodes", "stream",
           "stream_cpus", "generate", "sequences", "PROFILES"]

CORE = "CORE"          # Txn.frame for a raw core byte address (the unmapped hole too)


# ---------------------------------------------------------------------------
# Transactions
# ---------------------------------------------------------------------------
class Txn(NamedTuple):
    """One register transaction. `frame` is "GICH", "GICV" or "CORE" (then
    `offset` is a byte address on the core bus, see rtl/regs.py), or GICv3's
    memory-mapped "ICH"/"ICV" (rtl/sysregs.py). For a read, `value` and
    `strb` are unused."""
    op: str                 # "read", "write" or "reset"
    frame: str = "GICH"
    offset: int = 0
    value: int = 0
    strb: int = 0xF
    cpu: int = 0            # the requesting CPU (rtl/cluster.py)
    gich_cpu: int | None = None     # GICH through this CPU's processor-specific view

    def __str__(self):
        if self.op == "reset":
            return "reset"
        name = describe(self.frame, self.offset)
        if self.gich_cpu is not None:
            name += f" (CPU {self.gich_cpu}'s view)"
        by = f"CPU {self.cpu}: " if self.cpu else ""
        if self.op == "read":
            return f"{by}read  {name}"
        strb = "" if self.strb == 0xF else f" strb={self.strb:#06b}"
        return f"{by}write {name} = {self.value:#010x}{strb}"


def describe(frame, offset):
    """Register name for a frame/offset, from the one register table:
    "GICV_IAR", "GICH_LR7", "GICH+0x3c (reserved)", "CORE 0x1004 (unmapped)";
    GICv3's memory-mapped layout (rtl/sysregs.py): "ICV_IAR1_EL1",
    "ICH_LR3_EL2 (high half)", "ICH+0x1f0 (reserved)"."""
    if frame in sysregs.FRAME_BASE:
        reg, half = sysregs.decode(frame, offset)
        if reg is None:
            return f"{frame}+{offset:#x} (reserved)"
        return reg.full_name + (" (high half)" if half else "")
    if frame == CORE:
        f, off = regs.frame_of(offset)
        if f is None:
            return f"CORE {offset:#06x} (unmapped)"
        frame, offset = f, off
    reg = regs.decode(frame, offset)
    if reg is None:
        return f"{frame}+{offset:#x} (reserved)"
    if reg.access == "RES":
        return f"{reg.full_name} (reserved)"
    return reg.full_name


def apply(engine, txn):
    """Perform `txn` on an engine (model or RTL). Returns the read data, or
    None for a write or a reset."""
    # the CPU fields only when used: a one-CPU engine need not know them
    by = {} if txn.cpu == 0 else {"cpu": txn.cpu}
    view = by if txn.gich_cpu is None else {**by, "gich_cpu": txn.gich_cpu}
    match txn.op:
        case "read":
            if txn.frame == CORE:
                return engine.read_addr(txn.offset, **by)
            return engine.read(txn.frame, txn.offset, **view)
        case "write":
            if txn.frame == CORE:
                engine.write_addr(txn.offset, txn.value, txn.strb, **by)
            else:
                engine.write(txn.frame, txn.offset, txn.value, txn.strb, **view)
            return None
        case "reset":
            engine.reset()
            return None
    raise ValueError(f"transaction {txn!r}: op must be 'read', 'write' or 'reset'")


# ---------------------------------------------------------------------------
# Sources of choices
# ---------------------------------------------------------------------------
class RandomChoices:
    """Choices from a seeded `random.Random`: same seed, same sequence."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def integer(self, lo, hi):
        return self.rng.randint(lo, hi)

    def chance(self, p):
        return self.rng.random() < p

    def pick(self, options):
        return options[self.rng.randrange(len(options))]

    def weighted(self, table):
        """One item of [(weight, item), ...]."""
        x = self.rng.random() * sum(w for w, _ in table)
        for w, item in table:
            x -= w
            if x < 0:
                return item
        return table[-1][1]


class DrawChoices:
    """Choices drawn from Hypothesis (inside `st.composite`): shrinkable.
    Shrinking moves every choice towards its simplest value: integers
    towards `lo`, chances towards False, picks and weighted tables towards
    their first entry."""

    def __init__(self, draw):
        from hypothesis import strategies as st
        self.draw, self.st = draw, st

    def integer(self, lo, hi):
        return self.draw(self.st.integers(lo, hi))

    def chance(self, p):
        return self.draw(self.st.integers(0, 99)) >= round(100 * (1 - p))

    def pick(self, options):
        return options[self.integer(0, len(options) - 1)]

    def weighted(self, table):
        total = sum(round(w * 100) for w, _ in table)
        x = self.integer(0, total - 1)
        for w, item in table:
            x -= round(w * 100)
            if x < 0:
                return item
        return table[-1][1]


# ---------------------------------------------------------------------------
# The shadow world: a golden model that predicts what software would read
# ---------------------------------------------------------------------------
class World:
    def __init__(self, num_lrs):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.shadow = VirtualInterface(num_lrs)
        self.out = []

    def emit(self, txn):
        self.out.append(txn)
        return apply(self.shadow, txn)

    def read(self, reg):
        return self.emit(Txn("read", reg.frame, reg.offset))

    def write(self, reg, value, strb=0xF):
        self.emit(Txn("write", reg.frame, reg.offset, value & 0xFFFF_FFFF, strb))

    def read_pair(self, reg0, reg1):
        """EISR0/1 or ELRSR0/1 as one 64-bit vector (register 1 only if it has LRs)."""
        v = self.read(reg0)
        if self.num_lrs > 32:
            v |= self.read(reg1) << 32
        return v

    @property
    def lines_up(self):
        return self.shadow.virq or self.shadow.vfiq

    def ctl(self, name):
        return field(self.shadow.vcpu.ctlr, CTLR_FIELDS, name)


def lr_value(vid=0, state=INVALID, prio=0, grp1=0, hw=0, eoi=0, cpuid=0, pintid=0):
    """A GICH_LR<n> value from its fields, the one LR encoder of the stimulus,
    the tests and the benches. Written out from the layout (arch 2.8), not
    from rtl/regs.py's field table, so that the tests do not share a mistake
    there: HW[31] Grp1[30] State[29:28] Priority[27:23], then PhysicalID[19:10]
    (HW = 1) or EOI[19] and CPUID[12:10] (HW = 0), VirtualID[9:0]. `prio` is
    the 8-bit priority P; the LR keeps P[7:3]."""
    if prio & 7 or not 0 <= prio <= 0xF8:
        raise ValueError(f"priority {prio:#x}: the LR keeps P[7:3], so P is a multiple of 8")
    if not (0 <= vid < 1024 and 0 <= state < 4 and 0 <= cpuid < 8 and 0 <= pintid < 1024
            and grp1 in (0, 1) and hw in (0, 1) and eoi in (0, 1)):
        raise ValueError(f"LR field out of range: vid={vid} state={state} cpuid={cpuid} "
                         f"pintid={pintid} grp1={grp1} hw={hw} eoi={eoi}")
    if hw and (eoi or cpuid) or not hw and pintid:
        raise ValueError("PhysicalID exists only with HW = 1, EOI and CPUID only with HW = 0")
    return (hw << 31 | grp1 << 30 | state << 28 | (prio >> 3) << 23 | pintid << 10
            | eoi << 19 | cpuid << 10 | vid)


# Priorities (the LR's 5-bit field) drawn from a few values so that equal
# priorities, equal group priorities and preemption are all common.
_PRIOS = (0x14, 0x10, 0x11, 0x12, 0x08, 0x09, 0x1E, 0x00, 0x01, 0x1F)
_PMRS = (0xF0, 0xF8, 0xA0, 0x88, 0x80, 0x00)


def _pmr(ch):
    """Mostly what guests use (Linux: 0xF0), else a mask that cuts through the priorities."""
    if ch.chance(0.35):
        return ch.pick(_PMRS) if ch.chance(0.7) else ch.integer(0, 0xFF)
    return ch.pick(_PMRS[:2])


@dataclass
class VInt:
    """A virtual interrupt waiting in the hypervisor's queue."""
    vid: int
    prio5: int
    grp1: int = 0
    hw: int = 0
    pintid: int = 0
    eoi: int = 0
    cpuid: int = 0
    state: int = PENDING

    def lr(self):
        if self.hw:
            return lr_value(self.vid, self.state, self.prio5 << 3, self.grp1, hw=1,
                            pintid=self.pintid)
        return lr_value(self.vid, self.state, self.prio5 << 3, self.grp1, eoi=self.eoi,
                        cpuid=self.cpuid)


def _prio5(ch):
    return ch.pick(_PRIOS) if ch.chance(0.75) else ch.integer(0, 31)


def _vid(ch, kind):
    match kind:
        case "sgi": return ch.integer(0, 2) if ch.chance(0.5) else ch.integer(0, 15)
        case "ppi": return ch.integer(16, 31)
        case "spi": return ch.integer(32, 63) if ch.chance(0.8) else ch.integer(32, 1019)
        case _:     return ch.pick((1020, 1021, 1022, 1023, 0, 1019))


def new_vint(ch, taken=()):
    """A virtual interrupt as a hypervisor would inject it: an SPI/PPI, a vSGI
    with a source CPUID (the same SGI from several CPUs in several LRs), or an
    HW=1 interrupt with its pINTID; now and then an LR.EOI request, State 11
    (level re-asserted), a duplicate or an odd vid/pINTID. `taken`: the
    (vid, CPUID) pairs already in LRs or queued."""
    kind = ch.weighted([(5, "spi"), (2, "ppi"), (2, "sgi"), (0.1, "odd")])
    vid, cpuid = _vid(ch, kind), 0
    if kind == "sgi":
        cpuid = ch.integer(0, 7)
        if (vid, cpuid) in taken:
            cpuid = (cpuid + 1) % 8
    elif (vid, 0) in taken and not ch.chance(0.05):   # duplicate vids: occasionally
        for _ in range(4):
            vid = _vid(ch, "spi")
            if (vid, 0) not in taken:
                break
    v = VInt(vid, _prio5(ch), grp1=int(ch.chance(0.5)), cpuid=cpuid)
    if kind != "sgi" and ch.chance(0.3):
        v.hw = 1
        v.pintid = vid if ch.chance(0.6) else ch.integer(16, 1019)
        if ch.chance(0.03):
            v.pintid = ch.pick((0, 15, 1020, 1023))    # not a PPI/SPI: not forwarded
    else:
        v.eoi = int(ch.chance(0.25))
    if ch.chance(0.04):
        v.state = PENDING_ACTIVE
    return v


# ---------------------------------------------------------------------------
# Guest: software running on the virtual CPU interface
# ---------------------------------------------------------------------------
class Guest:
    def __init__(self, w, ch):
        self.w, self.ch = w, ch
        self.acked = []        # (IAR value, via AIAR) in acknowledge order
        self.dropped = []      # priority-dropped, awaiting GICV_DIR (EOImode 1)

    def configure(self):
        """Enable groups, choose AckCtl/FIQEn/CBPR/EOImode, PMR and binary points."""
        ch, w = self.ch, self.w
        ctlr = (int(not ch.chance(0.2)) | int(not ch.chance(0.15)) << 1 | int(ch.chance(0.4)) << 2
                | int(ch.chance(0.3)) << 3 | int(ch.chance(0.3)) << 4 | int(ch.chance(0.35)) << 9)
        if ch.chance(0.05):
            ctlr = ch.integer(0, 0xFFFF_FFFF)          # reserved bits set too
        w.write(regs.GICV_PMR, _pmr(ch))
        if ch.chance(0.6):
            w.write(regs.GICV_BPR, ch.integer(0, 7))
        if ch.chance(0.6):
            w.write(regs.GICV_ABPR, ch.integer(0, 7))
        w.write(regs.GICV_CTLR, ctlr)

    def acknowledge(self, alias=None):
        ch, w = self.ch, self.w
        if alias is None:
            alias = ch.chance(0.15)
        if ch.chance(0.2):
            w.read(regs.GICV_AHPPIR if alias else regs.GICV_HPPIR)   # look before taking
        v = w.read(regs.GICV_AIAR if alias else regs.GICV_IAR)
        if (v & 0x3FF) == SPURIOUS_GRP1 and not alias and ch.chance(0.8):
            alias = True
            v = w.read(regs.GICV_AIAR)
        if (v & 0x3FF) < 1020:
            self.acked.append((v, alias))

    def eoi(self, index):
        """EOI the acknowledged interrupt at `index` (-1: the last, the proper order)."""
        ch, w = self.ch, self.w
        v, alias = self.acked.pop(index)
        if ch.chance(0.1):
            alias = not alias                          # wrong EOI register
        w.write(regs.GICV_AEOIR if alias else regs.GICV_EOIR, v)
        if w.ctl("EOImode"):
            self.dropped.append(v)

    def step(self):
        ch, w = self.ch, self.w
        if w.lines_up and ch.chance(0.85):
            self.acknowledge()
            return
        action = ch.weighted([
            (4 if self.acked else 0.3, "eoi"),
            (3 if self.dropped else 0.2, "dir"),
            (1 if len(self.acked) > 1 else 0, "eoi_out_of_order"),
            (1, "peek"), (0.4, "ack"), (0.6, "tune"), (0.3, "bogus_eoi"),
            (0.15, "configure"), (0.05, "unmatched_storm"),
        ])
        match action:
            case "eoi":
                if self.acked:
                    self.eoi(-1)
                else:
                    w.write(regs.GICV_EOIR, ch.integer(0, 1023))
            case "eoi_out_of_order":
                self.eoi(ch.integer(0, len(self.acked) - 2))
            case "dir":
                if self.dropped:
                    i = len(self.dropped) - 1 if ch.chance(0.3) else 0
                    w.write(regs.GICV_DIR, self.dropped.pop(i if ch.chance(0.8) else ch.integer(0, i)))
                else:
                    w.write(regs.GICV_DIR, _vid(ch, ch.pick(("spi", "sgi", "ppi"))))
            case "peek":
                w.read(ch.pick((regs.GICV_HPPIR, regs.GICV_AHPPIR, regs.GICV_RPR, regs.GICV_APR0,
                                regs.GICV_CTLR, regs.GICV_PMR, regs.GICV_BPR, regs.GICV_ABPR,
                                regs.GICV_IIDR)))
            case "ack":
                self.acknowledge()
            case "tune":
                reg = ch.pick((regs.GICV_PMR, regs.GICV_BPR, regs.GICV_ABPR, regs.GICV_CTLR))
                if reg is regs.GICV_PMR:
                    w.write(reg, _pmr(ch))
                elif reg is regs.GICV_CTLR:
                    w.write(reg, w.shadow.vcpu.ctlr ^ (1 << ch.pick((0, 1, 2, 3, 4, 9))))
                else:
                    w.write(reg, ch.integer(0, 7))
            case "bogus_eoi":
                reg = ch.pick((regs.GICV_EOIR, regs.GICV_AEOIR, regs.GICV_DIR))
                w.write(reg, ch.pick((1023, 1022, 1020, ch.integer(0, 0x1FFF), ch.integer(0, 63))))
            case "configure":
                self.configure()
            case "unmatched_storm":
                # EOIs/DIRs of interrupts no LR holds (evicted by the hypervisor):
                # each one counts in EOICount (R11), which wraps at 32
                reg = regs.GICV_DIR if w.ctl("EOImode") else regs.GICV_EOIR
                for _ in range(ch.integer(1, 36)):
                    if reg is regs.GICV_EOIR and ch.chance(0.5):
                        w.write(regs.GICV_APR0, 1 << ch.integer(0, 31))   # something to drop
                    w.write(reg, ch.integer(64, 1019))

    def run(self, steps):
        for _ in range(steps):
            self.step()


# ---------------------------------------------------------------------------
# Hypervisor: a KVM-like world switch around the guest
# ---------------------------------------------------------------------------
class Hypervisor:
    def __init__(self, w, ch, guest):
        self.w, self.ch, self.guest = w, ch, guest
        self.queue = deque()   # VInts waiting for a free LR
        self.live = {}         # LR index -> value still live at the last exit
        self.vmcr = 0          # saved GICH_VMCR (KVM starts at 0: reset binary points)
        self.apr = 0           # saved GICH_APR
        self.eoicount = 0
        self.used = set()      # LRs written during this run

    def taken_vids(self):
        """(vid, CPUID) of every interrupt in an LR or queued (CPUID 0 unless a vSGI)."""
        def key(vid, cpuid):
            return (vid, cpuid if vid < 16 else 0)
        lrs = [self.w.shadow.lrs.read(n) for n in range(self.w.num_lrs)]
        return ({key(v & 0x3FF, v >> 10 & 7) for v in lrs + list(self.live.values()) if v >> 28 & 3}
                | {key(q.vid, q.cpuid) for q in self.queue})

    def device_events(self):
        """New interrupts for this vCPU (devices, IPIs, timers)."""
        ch = self.ch
        n = ch.integer(0, 3)
        if ch.chance(0.08 if self.w.num_lrs <= 4 else 0.01):
            n = self.w.num_lrs + ch.integer(0, 2)        # burst: overflow the LRs
        for _ in range(n):
            self.queue.append(new_vint(ch, self.taken_vids()))
        if ch.chance(0.1):
            # the same IPI from several CPUs at once: one LR per source CPU
            sgi, prio5, grp1 = ch.integer(0, 15), _prio5(ch), int(ch.chance(0.5))
            first = ch.integer(0, 7)
            for k in range(ch.integer(2, 4)):
                if (sgi, (first + k) % 8) not in self.taken_vids():
                    self.queue.append(VInt(sgi, prio5, grp1, cpuid=(first + k) % 8,
                                           eoi=int(ch.chance(0.2))))

    def entry(self):
        ch, w = self.ch, self.w
        hcr_first = ch.chance(0.3)                       # KVM versions differ in the order
        if hcr_first:
            self.write_hcr()
        w.write(regs.GICH_VMCR, self.vmcr if not ch.chance(0.05) else ch.integer(0, 0xFFFF_FFFF))
        w.write(regs.GICH_APR, self.apr)
        # restore the LRs still live at the last exit
        for n, v in sorted(self.live.items()):
            w.write(regs.lr(n), v)
            self.used.add(n)
        self.live.clear()
        # fill free LRs from the queue, found through ELRSR
        if self.queue:
            free = w.read_pair(regs.GICH_ELRSR0, regs.GICH_ELRSR1)
            slots = [n for n in range(w.num_lrs) if free >> n & 1]
            if ch.chance(0.2):
                slots.reverse()
            for n in slots:
                if not self.queue:
                    break
                w.write(regs.lr(n), self.queue.popleft().lr())
                self.used.add(n)
        if not hcr_first:
            self.write_hcr()

    def write_hcr(self):
        ch = self.ch
        if ch.chance(0.05):
            self.eoicount = ch.pick((31, 30, 29))                    # about to wrap (R11)
        hcr = (1 | int(bool(self.queue) or ch.chance(0.25)) << 1   # En, UIE on overflow
               | int(ch.chance(0.6)) << 2 | int(ch.chance(0.3)) << 3  # LRENPIE, NPIE
               | self.eoicount << 27)
        if ch.chance(0.15):
            hcr |= ch.integer(0, 15) << 4                            # VGrp*IE
        if ch.chance(0.03):
            hcr = ch.integer(0, 0xFFFF_FFFF) & ~(0 if ch.chance(0.5) else 1)
        self.w.write(regs.GICH_HCR, hcr)

    def exit(self):
        ch, w = self.ch, self.w
        if ch.chance(0.25):
            # stop the vCPU interface first, keeping the maintenance enables:
            # MISR still shows its conditions with En = 0 (R14)
            w.write(regs.GICH_HCR, w.shadow.hyp.hcr & ~1)
            w.read(regs.GICH_MISR)
        elif w.shadow.maint or ch.chance(0.5):
            w.read(regs.GICH_MISR)
        eisr = w.read_pair(regs.GICH_EISR0, regs.GICH_EISR1)
        elrsr = w.read_pair(regs.GICH_ELRSR0, regs.GICH_ELRSR1)
        self.apr = w.read(regs.GICH_APR)
        self.vmcr = w.read(regs.GICH_VMCR) if not ch.chance(0.05) else self.vmcr
        if ch.chance(0.6):
            hcr = w.read(regs.GICH_HCR)
            self.eoicount = 0 if ch.chance(0.5) else hcr >> 27   # LRENP handled, or carried
        clear = ch.chance(0.85)
        busy = {n for n in range(w.num_lrs) if eisr >> n & 1 or not elrsr >> n & 1}
        for n in sorted(self.used | busy):
            v = w.read(regs.lr(n))
            state = field(v, LR_FIELDS, "State")
            known = {a & 0x3FF for a, _ in self.guest.acked} | {d & 0x3FF for d in self.guest.dropped}
            retire = 0.2 if state == PENDING else 0.05 if (v & 0x3FF) in known else 0.5
            if state != INVALID and ch.chance(retire):
                pass                                     # retired (emulated, migrated, or stale)
            elif state != INVALID:
                if state == ACTIVE and not v >> 31 and ch.chance(0.15):
                    v |= PENDING_ACTIVE << 28            # level interrupt asserted again
                if ch.chance(0.85):
                    self.live[n] = v                     # still pending/active: restore later
                else:
                    self.queue.append(VInt(v & 0x3FF, field(v, LR_FIELDS, "Priority"),
                                           field(v, LR_FIELDS, "Grp1"), v >> 31,
                                           field(v, LR_FIELDS, "PhysicalID"),
                                           field(v, LR_FIELDS, "EOI") if not v >> 31 else 0,
                                           field(v, LR_FIELDS, "CPUID") if not v >> 31 else 0,
                                           state))
            elif eisr >> n & 1 and ch.chance(0.3):
                # level interrupt still asserted after its EOI maintenance: inject again
                self.queue.append(VInt(v & 0x3FF, field(v, LR_FIELDS, "Priority"),
                                       field(v, LR_FIELDS, "Grp1")))
            if clear or (eisr >> n & 1) or not elrsr >> n & 1:
                w.write(regs.lr(n), 0)
        self.used.clear()
        w.write(regs.GICH_HCR, 0)

    def run(self):
        """One world switch: device events, entry, guest, exit."""
        ch, w = self.ch, self.w
        self.device_events()
        self.entry()
        steps = ch.integer(1, 24 + 2 * len(self.used))   # more work with more LRs in use
        for _ in range(steps):
            self.guest.step()
            if w.shadow.maint and ch.chance(0.4):
                break                                    # maintenance IRQ traps to the host
        self.exit()


# ---------------------------------------------------------------------------
# Raw noise: every offset of both frames
# ---------------------------------------------------------------------------
_GICH_OFFSETS = tuple(r.offset for r in regs.GICH)
_GICV_OFFSETS = tuple(r.offset for r in regs.GICV) + tuple(r.offset for r in regs.RESERVED_NAMES)


def random_lr(ch):
    """An LR value with every field random but the vid from a small set, so
    that state 11, duplicate vids, HW=1 and EOI requests meet."""
    hw = int(ch.chance(0.3))
    vid = ch.integer(0, 40) if ch.chance(0.9) else ch.integer(0, 1023)
    state, prio, grp1 = ch.integer(0, 3), _prio5(ch) << 3, int(ch.chance(0.5))
    pintid = ch.integer(0, 1023) if hw else 0
    eoi, cpuid = int(ch.chance(0.4)), ch.integer(0, 7)      # drawn either way: same stream
    if hw:
        return lr_value(vid, state, prio, grp1, hw=1, pintid=pintid)
    return lr_value(vid, state, prio, grp1, eoi=eoi, cpuid=cpuid)


def _noise_address(ch):
    where = ch.weighted([(6, "reg"), (1, "gich"), (1, "gicv"), (0.4, "dirpage"), (0.3, "hole")])
    match where:
        case "reg":
            if ch.chance(0.5):
                return "GICH", ch.pick(_GICH_OFFSETS)
            return "GICV", ch.pick(_GICV_OFFSETS)
        case "gich":
            return "GICH", 4 * (ch.integer(0, 0x7F) if ch.chance(0.7) else ch.integer(0, 0x3FF))
        case "gicv":
            return "GICV", 4 * (ch.integer(0, 0x3F) if ch.chance(0.7) else ch.integer(0, 0x7FF))
        case "dirpage":
            return "GICV", 0x1000 + 4 * ch.integer(0, 0x3FF)
        case _:
            return CORE, 0x1000 + 4 * ch.integer(0, 0x3FF)


def _noise_value(ch, frame, offset):
    kind = ch.weighted([(5, "shaped"), (3, "random"), (1, "special")])
    if kind == "random":
        return ch.integer(0, 0xFFFF_FFFF)
    if kind == "special":
        return ch.pick((0, 0xFFFF_FFFF, 0x3FF, 0x3FE, 0x1C00, 0x8000_0000, 0x5555_5555))
    reg = regs.decode(frame, offset) if frame != CORE else None
    name = reg.name if reg else ""
    if name.startswith("LR"):
        return random_lr(ch)
    match name:
        case "HCR":
            return ch.integer(0, 0xFF) | ch.integer(0, 31) << 27
        case "VMCR":
            return (ch.integer(0, 31) << 27 | ch.integer(0, 7) << 21 | ch.integer(0, 7) << 18
                    | ch.integer(0, 1) << 9 | ch.integer(0, 31))
        case "APR" | "APR0":
            return (1 << ch.integer(0, 31)) | (ch.integer(0, 0xFFFF_FFFF) if ch.chance(0.3) else 0)
        case "CTLR":
            return ch.integer(0, 31) | ch.integer(0, 1) << 9
        case "PMR" | "BPR" | "ABPR":
            return ch.integer(0, 0xFF)
        case "EOIR" | "AEOIR" | "DIR":
            return ch.integer(0, 40) | (ch.integer(0, 7) << 10 if ch.chance(0.3) else 0)
    return ch.integer(0, 0xFFFF_FFFF)


def noise(w, ch, count):
    for _ in range(count):
        if ch.chance(0.005):
            w.emit(Txn("reset"))
            continue
        frame, offset = _noise_address(ch)
        if ch.chance(0.5):
            w.emit(Txn("read", frame, offset))
        else:
            strb = 0xF if not ch.chance(0.1) else ch.integer(0, 0xE)
            w.emit(Txn("write", frame, offset, _noise_value(ch, frame, offset), strb))


def poke_lrs(w, ch):
    """A hypervisor writing LRs behind the guest's back: any state (11 too),
    duplicate vids, HW=1, LRs above num_lrs."""
    for _ in range(ch.integer(1, 4)):
        n = ch.integer(0, w.num_lrs - 1) if ch.chance(0.9) else ch.integer(0, regs.MAX_LRS - 1)
        w.write(regs.lr(n), random_lr(ch))


# ---------------------------------------------------------------------------
# Streams and sequences
# ---------------------------------------------------------------------------
# Episode weights per profile: "mixed" (default), "kvm" (realistic only),
# "noise" (raw register noise only).
PROFILES = {
    "mixed": [(6, "kvm"), (2, "guest"), (2, "noise"), (1, "poke")],
    "kvm":   [(6, "kvm"), (1, "guest")],
    "noise": [(1, "noise")],
}


def episodes(ch, num_lrs, profile="mixed"):
    """An endless iterator of episodes (each a list of Txn) for a virtual
    interface with `num_lrs` LRs, starting from reset. Deterministic for a
    given source of choices."""
    if profile not in PROFILES:
        raise ValueError(f"unknown stimulus profile {profile!r}: expected one of {sorted(PROFILES)}")
    w = World(num_lrs)
    guest = Guest(w, ch)
    hyp = Hypervisor(w, ch, guest)
    table = PROFILES[profile]
    while True:
        match ch.weighted(table):
            case "kvm":
                if ch.chance(0.2):
                    guest.configure()
                hyp.run()
            case "guest":
                if ch.chance(0.3):
                    guest.configure()
                if ch.chance(0.8):
                    hyp.entry()
                guest.run(ch.integer(1, 16))
            case "noise":
                noise(w, ch, ch.integer(1, 24))
            case "poke":
                poke_lrs(w, ch)
                guest.run(ch.integer(0, 6))
        yield list(w.out)
        w.out.clear()


def stream(ch, num_lrs, profile="mixed"):
    """An endless iterator of Txn: the episodes one after the other."""
    for episode in episodes(ch, num_lrs, profile):
        yield from episode


def stream_cpus(seeds, num_lrs, profile="mixed", mix=None):
    """Several CPUs' streams interleaved (rtl/cluster.py): one stream per seed
    in `seeds`, CPU n's transactions carrying cpu = n, taken in runs of 1 to
    8 transactions of a CPU chosen by `mix` (a source of choices). One in five
    of CPU n's GICH accesses is made by another CPU through n's
    processor-specific view (as a hypervisor on one CPU tending another's
    interface); now and then a GICH access goes through the view of a CPU the
    core lacks (RAZ/WI). A reset in one stream resets every CPU: the other
    streams go on (their episodes adapt as a KVM would not; the comparison
    does not care)."""
    streams = [stream(RandomChoices(seed), num_lrs, profile) for seed in seeds]
    n = len(streams)
    while True:
        k = mix.integer(0, n - 1)
        for _ in range(mix.integer(1, 8)):
            t = next(streams[k])._replace(cpu=k)
            if t.frame == "GICH" and n > 1 and mix.chance(0.2):
                t = t._replace(cpu=(k + mix.integer(1, n - 1)) % n, gich_cpu=k)
            elif t.frame == "GICH" and n < regs.MAX_CPUS and mix.chance(0.01):
                t = t._replace(gich_cpu=mix.integer(n, regs.MAX_CPUS - 1))
            yield t


def generate(seed, num_lrs, count, profile="mixed"):
    """The first `count` transactions of the stream for `seed`."""
    it = stream(RandomChoices(seed), num_lrs, profile)
    return [next(it) for _ in range(count)]


def sequences(num_lrs, max_length=300, profile="mixed"):
    """Hypothesis strategy: a list of at most `max_length` Txn for `num_lrs`
    LRs (an int or a strategy of ints), built from shrinkable choices. After
    each episode a choice says whether to go on (3% stop), so shrinking
    shortens the sequence and brings a failure towards its start."""
    from hypothesis import strategies as st

    @st.composite
    def _sequences(draw):
        n = num_lrs if isinstance(num_lrs, int) else draw(num_lrs)
        ch = DrawChoices(draw)
        out = []
        for episode in episodes(ch, n, profile):
            out += episode
            if len(out) >= max_length or not ch.chance(0.97):
                return out[:max_length]

    return _sequences()
