# Ref: project-internal (no spec register); the core's one register bus.
"""The internal register bus between a bus bridge and the core.

Single-cycle strobes, a fixed 3-cycle response, and two flow-control
signals (directions as seen from the initiator, i.e. a bridge); when the
core raises and drops them: rtl/timing.py.

    cycle t:   ready = 1 (and settled = 1 for a read in SETTLED_READS), and
               r_stb or w_stb = 1 with addr (word address), w_data, w_strb:
               the request is accepted
    cycle t+3: ack = 1; for a read, r_data holds the value (registered): the
               state after every request accepted before cycle t

- LATENCY = 3: the cycles from the strobe to ack. Every later request sees a
  write's effects, so an initiator may answer a write from cycle t+1 on
  without waiting for ack.
- ready (core -> initiator, a register): a strobe may be issued only in a
  cycle with ready = 1; the core ignores strobes while ready = 0 (no ack, no
  effect). Initiators must not issue them.
- settled (core -> initiator, a register): a read of a register whose value
  the core derives from other state (SETTLED_READS: GICV_IAR, AIAR, HPPIR,
  AHPPIR, RPR and GICH_MISR) may be issued only in a cycle with ready = 1
  and settled = 1; the core ignores it otherwise. Every other request needs
  ready alone.
- Lines: if settled = 1 in cycle c, virq, vfiq and maint_irq in cycle c + 1
  reflect every request accepted before cycle c, and every deactivation
  those requests forwarded has been pulsed on deact_valid (an initiator that
  wants the lines after a request waits for that).
- One strobe = one transaction: an IAR/AIAR read acknowledges once per
  accepted r_stb. r_stb and w_stb are never both 1.
- While ready stays 1 a new request may be issued in any cycle, including
  t+1 (back-to-back transactions, one per clock, three in flight).
- w_strb other than 0b1111 (a partial write): the core ignores the write
  (registers are word-accessible only); bridges may also report an error.
- addr is a word address of CORE_ADDR_BITS - 2 = 12 bits (16 KiB window,
  map in rtl/regs.py).
"""
import operator
from functools import reduce

from amaranth.hdl import Cat, Mux, Signal
from amaranth.lib import data
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import regs, sysregs
from .regs import CORE_ADDR_BITS

__all__ = ["RegBusSignature", "cpu_bits", "ADDR_WIDTH", "LATENCY", "SETTLED_READS", "needs_settled",
           "settled_words", "settled_regs",
           "AddrDecode", "predecode", "names", "first_words"]

ADDR_WIDTH = CORE_ADDR_BITS - 2
assert ADDR_WIDTH == 12                 # three 4-bit fields (AddrDecode)
LATENCY = 3                      # cycles from an accepted strobe to its ack
# reads answered from state the core derives (they wait for `settled`)
SETTLED_READS = (regs.GICV_IAR, regs.GICV_AIAR, regs.GICV_HPPIR, regs.GICV_AHPPIR,
                 regs.GICV_RPR, regs.GICH_MISR)
# GICv3 (rtl/sysregs.py): the same reads under their ICV_*/ICH_* names
SETTLED_READS_V3 = tuple(sysregs.lookup(n) for n in (
    "ICV_IAR0_EL1", "ICV_IAR1_EL1", "ICV_HPPIR0_EL1", "ICV_HPPIR1_EL1", "ICV_RPR_EL1",
    "ICH_MISR_EL2"))


def settled_regs(v3=None):
    """SETTLED_READS of an architecture (v3: a V3Config, or None for GICv2);
    a legacy build has both the GICv3 ones and the GICv2 frame's."""
    if v3 is None:
        return SETTLED_READS
    if v3.legacy:
        return SETTLED_READS_V3 + tuple(r for r in SETTLED_READS if r.frame == "GICV")
    return SETTLED_READS_V3


def settled_words(num_cpus=1, v3=None):
    """Word addresses of the reads that wait for `settled` (SETTLED_READS,
    GICv3's with `v3`), with num_cpus > 1 also GICH's among them in each
    CPU's processor-specific view (rtl/cluster.py)."""
    reads = settled_regs(v3)
    words = [reg.addr >> 2 for reg in reads]
    if regs.check_num_cpus(num_cpus) > 1:
        words += [regs.alias_addr(n, reg.offset) >> 2 for n in range(num_cpus)
                  for reg in reads if reg.frame in ("GICH", "ICH")]
    return words


def needs_settled(word, num_cpus=1, v3=None):
    """A read of word address `word` waits for `settled`: a bool for an int,
    else an Amaranth expression (1 bit) of the address value."""
    words = settled_words(num_cpus, v3)
    return word in words if isinstance(word, int) else word.matches(*words)


def cpu_bits(num_cpus):
    """Width of the bus's requester CPU number: 0 for one CPU (no `cpu`)."""
    return (num_cpus - 1).bit_length()


class RegBusSignature(wiring.Signature):
    """`cpu_bits` > 0 (several CPUs, rtl/cluster.py): a `cpu` member, the
    requesting CPU's number, valid with the strobes; `ready` and `settled`
    then answer for the CPU interface that the presented `cpu` and `addr`
    select (combinationally from them)."""
    def __init__(self, cpu_bits=0):
        self.cpu_bits = cpu_bits
        super().__init__({
            **({"cpu": Out(cpu_bits)} if cpu_bits else {}),
            "addr":   Out(ADDR_WIDTH),
            "r_stb":  Out(1),
            "w_stb":  Out(1),
            "w_data": Out(32),
            "w_strb": Out(4),
            "r_data": In(32),
            "ack":    In(1),
            "ready":  In(1),
            "settled": In(1),
        })

    def __eq__(self, other):
        return isinstance(other, RegBusSignature) and other.cpu_bits == self.cpu_bits

    def __hash__(self):
        return hash((RegBusSignature, self.cpu_bits))


class AddrDecode(data.Struct):
    """A word address predecoded: each 4-bit field one-hot (the core registers
    it at its entry, rtl/top.py), so that any one register's decode is an AND
    of three bits (`names`)."""
    lo:  16                          # 1 << addr[3:0]
    mid: 16                          # 1 << addr[7:4]
    hi:  16                          # 1 << addr[11:8]


def predecode(addr):
    """The AddrDecode value of a word address."""
    return Cat(1 << addr[:4], 1 << addr[4:8], 1 << addr[8:12])


def names(dec, word):
    """The predecoded address `dec` is word address `word`."""
    return dec.lo[word & 0xF] & dec.mid[word >> 4 & 0xF] & dec.hi[word >> 8]


def first_words(m, dec, values):
    """Stage 1 of a block's read mux (rtl/vcpu.py, rtl/hyp.py): its frame's
    first 16 words, `values` = {Reg: value} (others read 0), selected by the
    predecoded address's low field, and whether the address names one of
    them; both registered. Returns (word, hit)."""
    base = min(reg.word for reg in values) & ~0xF     # the frame's first word
    word, hit = Signal(32, name="first_word"), Signal(name="first_hit")
    terms = []
    for reg, value in values.items():
        assert base <= reg.word < base + 16, f"{reg.full_name} is not in the first 16 words"
        terms.append(Mux(dec.lo[reg.word - base], value, 0))
    m.d.sync += [word.eq(reduce(operator.or_, terms)),
                 hit.eq(dec.mid[base >> 4 & 0xF] & dec.hi[base >> 8])]
    return word, hit
