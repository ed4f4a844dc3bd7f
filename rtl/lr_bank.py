# Ref: IHI0048B 5.3 (GICH_LR<n>, GICH_EISR, GICH_ELRSR); digest 2.5, 2.6, 2.8, R5, R10
"""List-register bank: storage, ELRSR/EISR, candidate selection, vID match.

Twin of sim/model/lr_bank.py. The candidate (R5) and the vID match (R8, R9)
are computed combinationally from the registered LRs, CTLR and PMR, each as a
log-depth binary tree over the LRs (lower indices on the left, so ties go to
the lowest index). The hardware changes only State (acknowledge, deactivate);
every other field is written by the hypervisor alone.
"""
from amaranth.hdl import Module, Signal, Mux, Cat
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from . import regs
from .regs import LR_FIELDS, LR_WMASK, MAX_LRS, PENDING, ACTIVE

__all__ = ["LR", "Best", "Match", "LRBank"]

LR = regs.layout(LR_FIELDS)          # GICH_LR<n>: .HW .Grp1 .State .Priority .EOI .CPUID ...
INDEX = range(MAX_LRS)               # LR index shape (6 bits)


class Best(data.Struct):
    """The highest-priority pending candidate (R5)."""
    valid: 1
    index: INDEX
    prio:  5                         # Priority field, P[7:3]
    grp1:  1
    vid:   13                        # vid_out: VirtualID, CPUID in [12:10] when HW = 0


class Match(data.Struct):
    """The lowest-index LR that an EOIR/AEOIR/DIR value names (R8, R9)."""
    valid:  1
    index:  INDEX
    hw:     1
    pintid: 10                       # PhysicalID (forwarded when HW = 1)


def _tree(m, leaves, left_wins, name):
    """Reduce `leaves` pairwise, level by level, to one node (log2 depth).
    Each node keeps its left child when `left_wins(left, right)`, else the right."""
    nodes, level = list(leaves), 0
    while len(nodes) > 1:
        up = []
        m.submodules[f"{name}_l{level + 1}"] = stage = Module()   # one level per submodule
        for i in range(0, len(nodes) - 1, 2):
            l, r = nodes[i], nodes[i + 1]
            node = Signal(l.shape(), name=f"{name}_l{level + 1}_{i // 2}")
            stage.d.comb += node.eq(Mux(left_wins(l, r), l, r))
            up.append(node)
        if len(nodes) % 2:
            up.append(nodes[-1])
        nodes, level = up, level + 1
    return nodes[0]


class LRBank(wiring.Component):
    """GICH_LR0..num_lrs-1 and everything computed from them.

    Ports:
      lr                      the LR values (the hyp block's read mux)
      w_stb, w_index, w_data  hypervisor write of GICH_LR<w_index> (masked here)
      enable_grp0/1, vmprimask   GICV_CTLR.EnableGrp0/1 and GICV_PMR[7:3]: candidate filter
      best                    R5 candidate
      match_vid, match_src -> match    vID match for EOIR/AEOIR/DIR
      ack_stb, ack_index      acknowledge: State 01 -> 10 (R6a)
      deact_stb, deact_index  deactivate: State 10 -> 00, 11 -> 01 (R10)
      elrsr, eisr, valid, pending   one bit per LR (0 above num_lrs)
    """

    def __init__(self, num_lrs):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        super().__init__({
            "lr":          Out(data.ArrayLayout(LR, num_lrs)),
            "w_stb":       In(1),
            "w_index":     In(INDEX),
            "w_data":      In(32),
            "enable_grp0": In(1),
            "enable_grp1": In(1),
            "vmprimask":   In(5),
            "best":        Out(Best),
            "match_vid":   In(10),
            "match_src":   In(3),
            "match":       Out(Match),
            "ack_stb":     In(1),
            "ack_index":   In(INDEX),
            "deact_stb":   In(1),
            "deact_index": In(INDEX),
            "elrsr":       Out(MAX_LRS),
            "eisr":        Out(MAX_LRS),
            "valid":       Out(MAX_LRS),
            "pending":     Out(MAX_LRS),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.match_leaves = match_leaves = Module()
        cands, hits = [], []
        for n in range(self.num_lrs):
            lr = self.lr[n]
            m.submodules[f"lr{n}"] = cell = Module()      # status bits and R5 leaf of LR n

            # -- storage: the hypervisor writes the whole LR, the hardware only State
            with m.If(self.w_stb & (self.w_index == n)):
                m.d.sync += lr.eq(self.w_data & LR_WMASK)
            with m.Elif(self.ack_stb & (self.ack_index == n)):
                m.d.sync += lr.State.eq(ACTIVE)                      # R6a: 01 -> 10
            with m.Elif(self.deact_stb & (self.deact_index == n)):
                m.d.sync += lr.State.eq(lr.State & 0b01)             # R10: 10 -> 00, 11 -> 01

            # -- status vectors (R12: combinational in the LR contents)
            invalid = lr.State == regs.INVALID
            cell.d.comb += [
                self.elrsr[n].eq(invalid & (lr.HW | ~lr.EOI)),       # GICH_ELRSR
                self.eisr[n].eq(invalid & ~lr.HW & lr.EOI),          # GICH_EISR
                self.valid[n].eq(~invalid),                          # MISR.U
                self.pending[n].eq(lr.State == PENDING),             # MISR.NP: 01 only
            ]

            # -- R5 leaf: pending (01 only), group enabled, priority below PMR
            cand = Signal(Best, name=f"cand{n}")
            enabled = Mux(lr.Grp1, self.enable_grp1, self.enable_grp0)
            cell.d.comb += [
                cand.valid.eq((lr.State == PENDING) & enabled & (lr.Priority < self.vmprimask)),
                cand.index.eq(n),
                cand.prio.eq(lr.Priority),
                cand.grp1.eq(lr.Grp1),
                cand.vid.eq(Cat(lr.VirtualID, Mux(lr.HW, 0, lr.CPUID))),
            ]
            cands.append(cand)

            # -- R8/R9 leaf: VirtualID matches, State 10 or 11; a vSGI (vid < 16,
            #    HW = 0) also needs CPUID == the writer's source CPUID
            hit = Signal(Match, name=f"hit{n}")
            sgi_src_ok = (self.match_vid >= 16) | lr.HW | (lr.CPUID == self.match_src)
            match_leaves.d.comb += [
                hit.valid.eq((lr.VirtualID == self.match_vid) & lr.State[1] & sgi_src_ok),
                hit.index.eq(n),
                hit.hw.eq(lr.HW),
                hit.pintid.eq(lr.PhysicalID),
            ]
            hits.append(hit)

        # Best candidate: smaller priority wins, an invalid node loses ({~valid, prio}
        # as the key), equal keys keep the left (lower-index) node.
        def key(c):
            return Cat(c.prio, ~c.valid)
        best = _tree(m, cands, lambda l, r: key(l) <= key(r), "best")
        # vID match: the lowest-index hit.
        match = _tree(m, hits, lambda l, r: l.valid, "match")
        m.d.comb += [self.best.eq(best), self.match.eq(match)]
        return m
