# Ref: project-internal (no spec register): the core's cycle timing, one place.
"""The core's timing, as seen from its register bus (rtl/regbus.py).

This is the one description of when things happen inside the core; the
blocks, the bridges, the drivers and the proofs refer to it. ``Timing(num_lrs)``
derives every figure below from the number of LRs.

Cycle t: a request accepted (a strobe with ready = 1, and settled = 1 for a
read in regbus.SETTLED_READS).

    edge ending t     entry: strobes, address (also predecoded, three one-hot
                      4-bit fields, regbus.AddrDecode), data and byte enables
                      registered. No path runs from the bus further than that.
    cycle t+1         decode: each block decodes the registered request.
    edge ending t+1   the request lands: a write stores its register; an
                      IAR/AIAR read that acknowledges moves its LR 01 -> 10 and
                      sets its APR bit (and drops virq/vfiq, which rise again
                      once settled if another interrupt still preempts); an
                      EOIR/AEOIR/DIR registers the LRs' vID matches. The read
                      pipeline's first stage registers the value (derived
                      registers from the response stage below).
    edge ending t+2   an EOIR/AEOIR drops the lowest set APR bit.
    edge ending t+1+M an EOIR/AEOIR/DIR's match result lands (M = match_latency:
                      1 up to 8 LRs, 2 above): deactivation (LR State),
                      EOICount, and deact_valid pulses in the next cycle.
    cycle t+3         ack = 1; r_data of a read (registered), the state after
                      every request accepted before t.

ready: 0 in cycles t+1 .. t+M after an EOIR/AEOIR/DIR (the match runs over
the LRs), and (GICv3) in cycles t+1 and t+2 after a write of what the
masks or the active priorities come from (ICV_CTLR/BPR0/BPR1_EL1,
ICH_VMCR_EL2, the AP registers; legacy builds also ICC_SRE_EL1 and the GICv2
frame's CTLR/BPR/ABPR/APR0): the LRs' group priorities, which an EOIR's
group/priority check (V8) reads at its decode, and apr_upto, the prefix ORs
of both AP banks, land up to two edges after it (rtl/vcpu.py,
rtl/lr_bank.py); 1 otherwise: every other request can follow in the next
cycle. ready is 0 in the first cycle after reset.

settled: the derived state is computed by pipelines that run every cycle
from the registers:

    candidate     1 edge: per LR the R5 condition (pending, group enabled,
                  below PMR), the pairwise Priority comparisons and the R1
                  test (no APR bit at or below its group priority, from
                  APR's prefix ORs `apr_upto`, bit i = APR[i:0] != 0, a
                  register that lands with APR); the group-priority masks
                  of BPR/ABPR
    tree          `tree_stages` edges: the highest-priority candidate, with
                  its vID, group priority and whether it preempts (R1, from
                  apr_upto); one registered stage up to 4 LRs, one per level
                  of the binary tree (ceil(log2 num_lrs)) above
    response      1 edge: IAR/AIAR/HPPIR/AHPPIR values and whether IAR/AIAR
                  acknowledge; RPR (from apr_upto, 1 edge) and MISR (2 edges)
                  are ready by then

settle = 1 + tree_stages + 1 edges after a request lands its derived
registers are valid; settle_masks = settle + 2 after a write of what the R3
masks come from (GICV_CTLR, BPR, ABPR, GICH_VMCR: the masks are one edge
behind them, and each LR's group priority, a register, one edge behind the
masks). settled = 0 in cycle t+1 after any write or IAR/AIAR read accepted
in cycle t, and while the pipelines catch up: a
request accepted in cycle t lets a SETTLED_READS read in from cycle
t+1+settle (a write of the mask sources: t+1+settle_masks; an
EOIR/AEOIR/DIR: t+1+M+settle); with several such requests, the latest of
those cycles. After reset: from cycle settle_masks - 1. A
read needing settled while it is 0 waits; every other request goes on.

Lines: virq, vfiq and maint_irq are registers loaded in cycles with settled =
1 (so in cycle c+1 they reflect every request accepted before c); an
acknowledge also clears virq/vfiq as it lands.
"""

__all__ = ["Timing"]


class Timing:
    """Every latency of the core for `num_lrs` list registers (module docstring)."""

    def __init__(self, num_lrs):
        self.num_lrs = num_lrs
        levels = max(1, (num_lrs - 1).bit_length())   # of the candidate tree
        # up to 4 LRs the whole tree (2 levels of look-ups of registered
        # comparisons) is one stage; above, one registered stage per level
        self.tree_stages = 1 if num_lrs <= 4 else levels
        self.settle = 1 + self.tree_stages + 1
        # a write of what the R3 masks are computed from (GICV_CTLR.CBPR,
        # BPR, ABPR, GICH_VMCR): two edges more (the masks, then each LR's
        # group priority)
        self.settle_masks = self.settle + 2
        # EOIR/AEOIR/DIR: the lowest-index vID match, in one stage up to 8
        # LRs, else per group of 8 LRs, then across the groups
        self.match_latency = 1 if num_lrs <= 8 else 2

    def tree_registered(self, level, levels):
        """Whether level `level` (1-based, of `levels`) of the candidate
        tree ends in a register: all of them above 4 LRs, else the last."""
        return self.num_lrs > 4 or level == levels

    def __repr__(self):
        return (f"Timing(num_lrs={self.num_lrs}: tree_stages={self.tree_stages}, "
                f"settle={self.settle}, match_latency={self.match_latency})")
