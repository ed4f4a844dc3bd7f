# Ref: project-internal (no spec register); the core's one register bus.
"""The internal register bus between a bus bridge and the core.

Single-cycle strobes, fixed 2-cycle response, and a hold-off (signal
directions as seen from the initiator, i.e. a bridge):

    cycle t:   ready = 1 and r_stb or w_stb = 1 with addr (word address),
               w_data, w_strb: the request is accepted
    cycle t+2: ack = 1; for a read, r_data holds the value (registered),
               the state as it was in cycle t

- LATENCY = 2: the cycles from the strobe to ack. The core decodes a request
  at the edge that ends cycle t and applies it at the next; its read mux is
  two register stages (rtl/top.py), so that no path runs from the bus to a
  register's enable or through the whole read mux in one clock (Fmax,
  docs/benchmarks.md). Every later request sees a write's effects (the core
  holds ready low until they have landed), so an initiator may answer a
  write from cycle t+1 on without waiting for ack.

- ready (core -> initiator): a strobe may be issued only in a cycle with
  ready = 1; the core ignores strobes while ready = 0 (no ack, no effect).
  Initiators must not issue them.
- After an accepted request the core may hold ready low for a number of
  cycles (cycle t+1 being the first) while its pipelines catch up with
  the new state; rtl/top.py documents when and for how long. When ready is 1
  again, virq, vfiq and maint_irq reflect the request, and a deactivation it
  forwarded has been pulsed on deact_valid.
- One strobe = one transaction: an IAR/AIAR read acknowledges once per
  accepted r_stb. r_stb and w_stb are never both 1.
- While ready stays 1, a new request may be issued in any cycle, including
  t+1 (back-to-back transactions, one per clock, two in flight).
- w_strb other than 0b1111 (a partial write): the core ignores the write
  (registers are word-accessible only); bridges may also report an error.
- addr is a word address of CORE_ADDR_BITS - 2 = 12 bits (16 KiB window,
  map in rtl/regs.py).
"""
from amaranth.hdl import Array, Const, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .regs import CORE_ADDR_BITS

__all__ = ["RegBusSignature", "ADDR_WIDTH", "LATENCY", "first_words"]

ADDR_WIDTH = CORE_ADDR_BITS - 2
LATENCY = 2                      # cycles from an accepted strobe to its ack


class RegBusSignature(wiring.Signature):
    def __init__(self):
        super().__init__({
            "addr":   Out(ADDR_WIDTH),
            "r_stb":  Out(1),
            "w_stb":  Out(1),
            "w_data": Out(32),
            "w_strb": Out(4),
            "r_data": In(32),
            "ack":    In(1),
            "ready":  In(1),
        })


def first_words(m, addr, values):
    """Stage 1 of a block's read mux (rtl/vcpu.py, rtl/hyp.py): its frame's
    first 16 words, `values` = {Reg: value} (others read 0), muxed on the word
    address's low 4 bits, and whether the address names one of those words;
    both registered. Returns (word, hit)."""
    base = min(reg.word for reg in values) & ~0xF     # the frame's first word
    words = [Const(0, 32)] * 16
    for reg, value in values.items():
        assert base <= reg.word < base + 16, f"{reg.full_name} is not in the first 16 words"
        words[reg.word - base] = value
    word, hit = Signal(32, name="first_word"), Signal(name="first_hit")
    m.d.sync += [word.eq(Array(words)[addr[:4]]), hit.eq(addr[4:] == base >> 4)]
    return word, hit
