# Ref: arch 1.4 (access rules 1-3); bus error policy is a project choice.
"""Which bus accesses a bridge forwards to the core, and which it answers itself.

Every GICH/GICV register is a 32-bit word accessed as an aligned word (arch 1.4
rule 1). Whatever the error policy, a bridge never forwards:

- an unaligned access (byte address bits [1:0] != 0): forwarding it would hit the
  aligned word, so an unaligned read of GICV_IAR + 1 would acknowledge an interrupt;
- a partial write (byte enables other than 0b1111).

The bridge answers them itself: a read returns 0, a write has no effect.

``errors="ignore"`` (default): those accesses get an OKAY response. Every aligned
read and full-word write is forwarded; the core answers reserved offsets and LRs
beyond GICH_VTR.ListRegs as RAZ/WI (arch 1.4 rule 2).

``errors="report"``: those accesses get an error response (AXI SLVERR, APB
PSLVERR, Wishbone ERR), and so does any offset that holds no register for this
number of LRs (per rtl/regs.py: reserved names, gaps, LR<n> with n >= num_lrs,
core addresses 0x1000-0x1FFF); such accesses are not forwarded either. Writes to
RO registers and reads of WO registers are architected (ignored / read 0, rule 3)
and get OKAY.

Several CPUs (num_cpus > 1, rtl/cluster.py): the requester's CPU number
comes with the access (``cpu``). The processor-specific GICH views of the
CPUs that exist (0x1000 + 0x200 n, n < num_cpus, regs.alias_addr) hold
registers, at the offsets GICH holds them; the rest of 0x1000-0x1FFF does
not. A requester numbered num_cpus or above has no GICH and no GICV of its
own (the core answers RAZ/WI): with errors="report" its accesses to them are
errors, while the views answer it like any other CPU. A read of GICH_MISR
through a view waits for that CPU's ``settled`` as well
(regbus.needs_settled(word, num_cpus), re-exported here for the bridges).

An error response always means: the core saw nothing.

Reset (every bridge; docs/verilog.md "Reset"; AXI IHI0022 A3.1.2). A bridge's
reset is its bus port's reset. It is synchronous: from the first rising edge
with reset high the bridge answers nothing (AXI: BVALID and RVALID low) and
forgets every transaction in progress, which never gets a response, then or
later; the port takes requests again from the cycle after the reset. So it is
asserted with the reset of the bus's manager, or while the port is idle (every
response taken): a manager not reset with it would wait for those responses
forever. One rising edge is enough. The core may be reset
alone (a reset of its own beside the bridge's): a bridge times every response
itself (LATENCY cycles after the issue, ``in_flight``), never from the core's
``ack``, so every request it accepted still gets exactly one response, with the
policy's code. A request it hands to the core up to the core's last reset cycle
is wiped by the reset (a write leaves nothing; a read's data is undefined);
requests after that wait for the core's ``ready`` (low from the edge that starts
its reset, rtl/top.py), and reads of derived registers for ``settled`` too
(rtl/regbus.py). Both are registers: in the first cycle of the core's reset
they still show their earlier values.
"""
from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .. import regs, sysregs
from ..regbus import LATENCY, cpu_bits, needs_settled, settled_words

__all__ = ["ERROR_POLICIES", "check_errors", "mapped_words", "AccessCheck", "in_flight",
           "check_num_cpus", "settled_words", "needs_settled"]

ERROR_POLICIES = ("ignore", "report")


def check_errors(errors):
    if errors not in ERROR_POLICIES:
        raise ValueError(f"errors must be one of {', '.join(map(repr, ERROR_POLICIES))}, "
                         f"got {errors!r}")
    return errors


def check_num_cpus(num_cpus):
    """num_cpus of a bridge: 1 to regs.MAX_CPUS (ValueError naming it otherwise)."""
    return regs.check_num_cpus(num_cpus)


def in_flight(m, issued, name, depth=LATENCY):
    """`issued` (a 1-bit value of a request's cycle) through `depth` registers,
    as the core's answer goes: [cycle t+1, ..., cycle t+depth], the last one,
    by default, being the core's ack cycle (rtl/regbus.py LATENCY)."""
    stages = [Signal(name=f"{name}_{k}") for k in range(1, depth + 1)]
    m.d.sync += [stage.eq(prev) for stage, prev in zip(stages, [issued] + stages[:-1])]
    return stages


def mapped_words(num_lrs, num_cpus=1, views=None, v3=None):
    """Word addresses on the core bus that hold a register with num_lrs LRs:
    by default the requester's GICH and GICV and, with num_cpus > 1, every
    CPU's processor-specific GICH view; views=False: the former only,
    views=True: the latter only. GICv3 (`v3`): both halves of every register
    the configuration has (rtl/sysregs.py; v3 open point 17)."""
    regs.check_num_lrs(num_lrs)
    check_num_cpus(num_cpus)
    if v3 is not None:                   # (register, half) words
        own = [(r, h) for r in sysregs.SYSREGS if r.implemented(v3) for h in (0, 1)]
        if v3.legacy:                    # the GICv2 frame, in the guest's window (v3 10)
            own += [(r, 0) for r in regs.GICV]
    else:
        implemented_lrs = {regs.lr(n).name for n in range(num_lrs)}
        own = [(r, 0) for r in regs.GICH + regs.GICV
               if not (r.name.startswith("LR") and r.name not in implemented_lrs)]
    words = [] if views is True else [(r.addr >> 2) + h for r, h in own]
    if num_cpus > 1 and views is not False:
        words += [(regs.alias_addr(n, r.offset) >> 2) + h for n in range(num_cpus)
                  for r, h in own if r.frame in ("GICH", "ICH") and r.offset < regs.ALIAS_STRIDE]
    return sorted(words)


class AccessCheck(wiring.Component):
    """Decides, for one access, whether it is forwarded and whether it is an error.

    addr is the byte address (low CORE_ADDR_BITS bits), write = 1 for a write,
    strb the byte enables of a write (ignored for reads); with num_cpus > 1,
    cpu the requester's CPU number.
    """

    def __init__(self, num_lrs=4, errors="ignore", num_cpus=1, v3=None):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.v3 = v3
        self.errors = check_errors(errors)
        self.num_cpus = check_num_cpus(num_cpus)
        super().__init__({
            "addr": In(regs.CORE_ADDR_BITS), "write": In(1), "strb": In(4),
            **({"cpu": In(cpu_bits(num_cpus))} if num_cpus > 1 else {}),
            "forward": Out(1), "error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        # Ref: arch 1.4 rule 1 (aligned 32-bit word accesses only)
        word_ok = (self.addr[:2] == 0) & (~self.write | (self.strb == 0b1111))
        if self.errors == "ignore":
            m.d.comb += self.forward.eq(word_ok)
        else:
            # Ref: arch 1.4 rule 2; offsets from rtl/regs.py. An expression
            # (word == w for each mapped w, ORed), not an m.Switch: in Verilog it
            # becomes continuous assignments, which every simulator evaluates at
            # time 0 (a Switch would be one more `always @*` block to wake,
            # docs/verilog.md "Reset"). The same function for synthesis.
            mapped = Signal()
            word = self.addr[2:]
            if self.num_cpus == 1:
                m.d.comb += mapped.eq(word.matches(*mapped_words(self.num_lrs, v3=self.v3)))
            else:
                # the requester's own frames exist for CPUs 0..num_cpus-1 only;
                # the views of those CPUs for any requester
                own = word.matches(*mapped_words(self.num_lrs, self.num_cpus, views=False,
                                                  v3=self.v3))
                if self.num_cpus < 2 ** cpu_bits(self.num_cpus):
                    own = own & (self.cpu < self.num_cpus)
                view = word.matches(*mapped_words(self.num_lrs, self.num_cpus, views=True,
                                                  v3=self.v3))
                m.d.comb += mapped.eq(own | view)
            m.d.comb += [
                self.forward.eq(word_ok & mapped),
                self.error.eq(~(word_ok & mapped)),
            ]
        return m
