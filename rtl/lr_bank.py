# Ref: IHI0048B 5.3 (GICH_LR<n>, GICH_EISR, GICH_ELRSR); arch 2.5, 2.6, 2.8, R3, R5, R8-R10
"""List-register bank: storage, ELRSR/EISR, candidate selection, vID match.

Twin of sim/model/lr_bank.py. The hardware changes only State (acknowledge,
deactivate); every other field is written by the hypervisor alone.

Candidate selection (R5) is a pipeline that runs every cycle over registered
state, so its results are valid once the state has been still for
``best_latency`` cycles (the core holds its bus off that long, rtl/top.py):

    edge 1        cand[n]: LR n is pending (01), its group enabled, its
                  priority below PMR (the R5 leaf condition); and the
                  pairwise Priority comparisons the two lowest tree levels
                  look up (le_i_j: LR i's <= LR j's, 1.5 per LR)
    edges 2..L+1  a binary tree, one registered level per edge, lower
                  indices on the left so that ties go to the lowest index
                  (L = ceil(log2 num_lrs), at least 1); each node carries
                  valid, Priority, Grp1, its group priority (R3) and the LR
                  index; the vID only with more than 4 LRs, taken at
                  level 1 from the node's 2 LRs by index and carried up
                  (up to 4 LRs best_vid is fetched by the root's index)
    edge L+2      best_sel: one-hot, the LR the root came from (acknowledge
                  uses it), and best_vid: that LR's vID

The vID match (R8, R9) is a second pipeline over the vID/source CPUID of an
EOIR/AEOIR/DIR, on w_data while match_stb is 1: the edge ending that cycle
registers, per LR, whether its VirtualID equals the vID and whether the vSGI
source check passes; edge 1 after it each LR's hit (and whether deactivating
it forwards its pINTID), edge 2, per group of 8 LRs,
the group's lowest hit (one-hot) with its forwarding bit and pINTID, and
the group of the lowest hit of all (log-depth prefix ORs); ``match`` is then
that group's forwarding bit and pINTID, and the deactivated LR its lowest hit.
"""
import operator
from functools import reduce

from amaranth.hdl import Array, Module, Signal, Mux, Cat, Const
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from . import regs
from .regs import LR_FIELDS, LR_WMASK, MAX_LRS, INVALID, PENDING, ACTIVE

__all__ = ["LR", "Best", "Match", "LRBank"]

LR = regs.layout(LR_FIELDS)          # GICH_LR<n>: .HW .Grp1 .State .Priority .EOI .CPUID ...


class Best(data.Struct):
    """The highest-priority pending candidate (R5); its vID is the separate,
    one edge later port best_vid."""
    valid:    1
    prio:     5                      # Priority field, P[7:3]
    grp1:     1
    gprio:    5                      # group priority >> 3 (R3)


class Node(data.Struct):
    """A candidate-tree node: what the comparison and R1 need, and which LR
    it is; the vID only with more than 4 LRs (up to 4, it is fetched by the
    root's `idx`, so the tree stays narrow)."""
    valid:    1
    prio:     5
    grp1:     1
    gprio:    5
    idx:      6
    vid:      13                     # more than 4 LRs: from level 1 up (taken there by idx), else 0


class Match(data.Struct):
    """The lowest-index LR that an EOIR/AEOIR/DIR value names (R8, R9)."""
    valid:  1
    fwd:    1                        # deactivating it forwards pintid (R10): HW = 1, PPI/SPI
    pintid: 10                       # PhysicalID


def _tree(m, leaves, left_wins, name, also=None):
    """Reduce `leaves` pairwise, level by level (one registered level per
    edge, one submodule per level, at least one level even for a single
    leaf), to one node: a node keeps its left child when `left_wins(left,
    right, left's leaf indices, right's leaf indices)`, else the right one.
    `also(stage, node, its next value, leaf indices, level)` may add
    statements for a node (later assignments win). Returns the root."""
    nodes = [(leaf, [i]) for i, leaf in enumerate(leaves)]     # (value, leaf indices below)
    level = 0
    while len(nodes) > 1 or level == 0:
        level += 1
        m.submodules[f"{name}_l{level}"] = stage = Module()
        up = []
        for i in range(0, len(nodes), 2):
            pair = nodes[i:i + 2]
            node = Signal(pair[0][0].shape(), name=f"{name}_l{level}_{i // 2}")
            nxt = Signal(pair[0][0].shape(), name=f"{name}_l{level}_{i // 2}_next")
            if len(pair) == 1:                                # odd one out: passed up
                stage.d.comb += nxt.eq(pair[0][0])
                below = pair[0][1]
            else:
                (l, l_leaves), (r, r_leaves) = pair
                decide = Signal(name=f"{name}_l{level}_{i // 2}_decide")
                stage.d.comb += [decide.eq(left_wins(l, r, l_leaves, r_leaves)),
                                 nxt.eq(Mux(decide, l, r))]
                below = l_leaves + r_leaves
            stage.d.sync += node.eq(nxt)
            if also is not None:
                also(stage, node, nxt, below, level)
            up.append((node, below))
        nodes = up
    return nodes[0][0]


def _less(a, b):
    """a < b (unsigned), as plain logic: no carry chain (5-bit fields, where a
    carry chain's entry and exit cost more than a LUT level)."""
    lt = Const(0, 1)
    for i in range(len(a)):                            # from the LSB up
        lt = (~a[i] & b[i]) | (~(a[i] ^ b[i]) & lt)
    return lt


def below_any(m, bits, name):
    """[any(bits[:i]) for each i], as a log-depth prefix OR (no carry chain);
    each step is a signal of its own (shared, not re-expanded)."""
    seen = bits                                        # seen[i]: any of bits[..i]
    span = 1
    while span < len(bits):
        step = Signal(len(bits), name=f"{name}_or{span}")
        m.d.comb += step.eq(Cat(seen[i] | seen[i - span] if i >= span else seen[i]
                                for i in range(len(bits))))
        seen, span = step, span * 2
    return [Const(0, 1)] + [seen[i] for i in range(len(bits) - 1)]


class LRBank(wiring.Component):
    """GICH_LR0..num_lrs-1 and everything computed from them.

    Ports:
      lr                      the LR values (the hyp block's read mux)
      w_sel, w_data           hypervisor write of GICH_LR<n> (one-hot w_sel; masked here)
      enable_grp0/1, vmprimask   GICV_CTLR.EnableGrp0/1 and GICV_PMR[7:3] (R5 filter)
      gmask0, gmask1          group-priority masks of P[7:3] for Group 0/1 (R3)
      best                    R5 candidate with its group priority (registered)
      best_vid                its vid_out (VirtualID, CPUID in [12:10] when HW = 0),
                              registered one edge after best, with best_sel
      ack_stb                 an IAR/AIAR read acknowledged at the last edge: the LR
                              best_sel marked then (ack_sel) goes 01 -> 10 (R6a)
      match_stb, w_data -> match   vID match for an EOIR/AEOIR/DIR: its vID and
                              source CPUID on w_data while match_stb is 1
      deact_stb               deactivate the matched LR: 10 -> 00, 11 -> 01 (R10)
      elrsr, eisr, valid, pending   one bit per LR (0 above num_lrs), combinational

    best_latency: edges after a change of the LRs, CTLR, PMR or the group
    masks until best and the acknowledge select are valid.
    match_latency: edges from the end of the match_stb cycle until match is valid.
    """
    match_latency = 3

    @staticmethod
    def latency(num_lrs):
        """best_latency for num_lrs LRs: cand, the tree levels, best_sel."""
        return 1 + max(1, (num_lrs - 1).bit_length()) + 1

    def __init__(self, num_lrs):
        try:
            self.num_lrs = regs.check_num_lrs(num_lrs)
        except ValueError:
            self._MustUse__silence = True    # never built: no "never used" warning
            raise
        self.best_latency = self.latency(num_lrs)
        super().__init__({
            "lr":          Out(data.ArrayLayout(LR, num_lrs)),
            "w_sel":       In(num_lrs),
            "w_data":      In(32),
            "enable_grp0": In(1),
            "enable_grp1": In(1),
            "vmprimask":   In(5),
            "gmask0":      In(5),
            "gmask1":      In(5),
            "best":        Out(Best),
            "best_vid":    Out(13),
            "ack_stb":     In(1),
            "match_stb":   In(1),        # an EOIR/AEOIR/DIR's value is on w_data
            "match":       Out(Match),
            "deact_stb":   In(1),
            "elrsr":       Out(MAX_LRS),
            "eisr":        Out(MAX_LRS),
            "valid":       Out(MAX_LRS),
            "pending":     Out(MAX_LRS),
        })

    def elaborate(self, platform):
        m = Module()
        n_lrs = self.num_lrs
        best_sel = Signal(n_lrs)         # one-hot: the LR `best` came from
        ack_sel = Signal(n_lrs)          # best_sel as it was at the last edge (captured every cycle)
        m.d.sync += ack_sel.eq(best_sel)
        match_sel = Signal(n_lrs)        # one-hot: the lowest-index hit
        lrs, cands, hits, fwds, leaves, vids = [], [], [], [], [], []
        for n in range(n_lrs):
            # LR n in its own module, driving only its own signals
            m.submodules[f"lr{n}"] = cell = Module()
            lr = Signal(LR, name=f"lr{n}")
            cand = Signal(name=f"cand{n}")               # edge 1: the R5 leaf condition
            hit = Signal(name=f"hit{n}")                 # match edge 1: holds the vID in 10/11
            lrs.append(lr)
            cands.append(cand)
            hits.append(hit)

            # -- storage: the hypervisor writes the whole LR, the hardware only State
            with cell.If(self.w_sel[n]):
                cell.d.sync += lr.eq(self.w_data & LR_WMASK)
            with cell.Elif(self.ack_stb & ack_sel[n]):
                cell.d.sync += lr.State.eq(ACTIVE)                   # R6a: 01 -> 10
            with cell.Elif(self.deact_stb & match_sel[n]):
                cell.d.sync += lr.State.eq(lr.State & 0b01)          # R10: 10 -> 00, 11 -> 01

            # -- R5 leaf: pending (01 only), group enabled, priority below PMR
            enabled = Mux(lr.Grp1, self.enable_grp1, self.enable_grp0)
            cell.d.sync += cand.eq((lr.State == PENDING) & enabled & _less(lr.Priority, self.vmprimask))
            leaf = Signal(Node, name=f"leaf{n}")
            cell.d.comb += [
                leaf.valid.eq(cand),
                leaf.prio.eq(lr.Priority),
                leaf.grp1.eq(lr.Grp1),
                leaf.gprio.eq(lr.Priority & Mux(lr.Grp1, self.gmask1, self.gmask0)),
                leaf.idx.eq(n),
            ]
            leaves.append(leaf)
            vids.append(Cat(lr.VirtualID, Mux(lr.HW, 0, lr.CPUID)))     # vid_out

            # -- R8/R9 leaf: VirtualID matches, State 10 or 11; a vSGI (vid < 16,
            #    HW = 0) also needs CPUID == the writer's source CPUID. The
            #    comparisons are registered with match_stb, then the hit.
            vid_eq = Signal(name=f"vid_eq{n}")
            src_ok = Signal(name=f"src_ok{n}")
            with cell.If(self.match_stb):
                cell.d.sync += [
                    vid_eq.eq(lr.VirtualID == self.w_data[:10]),
                    src_ok.eq(lr.HW | (lr.VirtualID >= 16) | (lr.CPUID == self.w_data[10:13])),
                ]
            cell.d.sync += hit.eq(vid_eq & src_ok & lr.State[1])
            # R10: deactivating LR n forwards its pINTID (HW = 1, and a PPI or SPI:
            # 0-15 and 1020-1023 would be UNPREDICTABLE; not forwarded, as in the model)
            fwd = Signal(name=f"fwd{n}")
            cell.d.sync += fwd.eq(lr.HW & (lr.PhysicalID >= 16) & (lr.PhysicalID < 1020))
            fwds.append(fwd)

        # -- the LR values and the status vectors (R12: combinational in the LRs)
        m.d.comb += [self.lr[n].eq(lr) for n, lr in enumerate(lrs)]
        m.d.comb += [
            self.elrsr.eq(Cat((lr.State == INVALID) & (lr.HW | ~lr.EOI) for lr in lrs)),   # ELRSR
            self.eisr.eq(Cat((lr.State == INVALID) & ~lr.HW & lr.EOI for lr in lrs)),      # EISR
            self.valid.eq(Cat(lr.State != INVALID for lr in lrs)),                         # MISR.U
            self.pending.eq(Cat(lr.State == PENDING for lr in lrs)),                       # MISR.NP
        ]

        # Best candidate: the smaller priority wins, an invalid node loses, equal
        # priorities keep the left (lower-index) node.
        # The comparison of a low tree level (at most 2 x 2 leaves below it)
        # is a lookup of registered pairwise comparisons of the LRs' Priority
        # fields (stable state, like cand), by the children's `idx`; higher
        # levels compare the children's prio.
        m.submodules.best_le = le_stage = Module()
        le = {}

        def prio_le(i, j):               # registered: LR i's Priority <= LR j's
            if (i, j) not in le:
                le[i, j] = Signal(name=f"le_{i}_{j}")
                le_stage.d.sync += le[i, j].eq(lrs[i].Priority <= lrs[j].Priority)
            return le[i, j]

        def left_wins(l, r, l_leaves, r_leaves):
            if len(l_leaves) * len(r_leaves) <= 4:
                bl, br = (len(l_leaves) - 1).bit_length(), (len(r_leaves) - 1).bit_length()
                table = Cat(prio_le(l_leaves[a], r_leaves[b]) if b < len(r_leaves) else 0
                            for a in range(len(l_leaves)) for b in range(1 << br))
                lower = table.bit_select(Cat(r.idx[:br], l.idx[:bl]), 1) if bl + br else table
            else:
                lower = ~_less(r.prio, l.prio)                # l.prio <= r.prio
            return l.valid & (~r.valid | lower)

        def fetch_vid(stage, node, nxt, below, level):
            # with more than 4 LRs, level 1 takes a node's vID from its 2 LRs
            # by its next idx and the tree carries it up (a fetch by the
            # root's idx would be a wide mux over LRs all over the chip)
            if level == 1 and n_lrs > 4:
                bits = (len(below) - 1).bit_length()
                pick = Array(vids[j] for j in below)[nxt.idx[:bits]] if bits else vids[below[0]]
                stage.d.sync += node.vid.eq(pick)

        root = _tree(m, leaves, left_wins, "best", also=fetch_vid)
        m.d.comb += [
            self.best.valid.eq(root.valid), self.best.prio.eq(root.prio),
            self.best.grp1.eq(root.grp1), self.best.gprio.eq(root.gprio),
        ]
        # the root's LR, one edge later: one-hot (acknowledge) and its vID
        m.submodules.best_sel = stage = Module()
        stage.d.sync += [
            best_sel.eq(1 << root.idx),
            # the root's vID: carried from level 1 up, or (up to 4 LRs) fetched here
            self.best_vid.eq(root.vid if n_lrs > 4 else Array(vids)[root.idx[:2]]),
        ]

        # vID match: the lowest-index hit, in groups of 8 LRs: per group its
        # lowest hit (one-hot, first_sel) with that LR's forwarding bit and
        # pINTID, and which group holds the lowest hit of all (group_sel), so
        # that no path runs through a 64-way priority or mux in one cycle;
        # match_sel (one-hot, the deactivation's) = first_sel in that group
        match_valid = Signal()
        m.submodules.match_sel = stage = Module()
        hit_vec = Cat(hits)
        groups = range((n_lrs + 7) // 8)
        group_hit = Cat(hit_vec[8 * g:8 * g + 8].any() for g in groups)
        group_sel = Signal(len(groups))
        group_fwd = Signal(len(groups))
        group_pintid = [Signal(10, name=f"group_pintid{g}") for g in groups]
        first_sel = Signal(n_lrs)
        stage.d.sync += [
            match_valid.eq(hit_vec.any()),
            group_sel.eq(Cat(hit & ~below for hit, below in
                             zip(group_hit, below_any(stage, group_hit, "group_hit")))),
        ]
        for g in groups:
            ns = range(8 * g, min(8 * g + 8, n_lrs))
            first = [hits[n] & ~below for n, below in
                     zip(ns, below_any(stage, hit_vec[8 * g:8 * g + 8], f"hit_g{g}"))]
            stage.d.sync += [
                first_sel[8 * g:8 * g + len(ns)].eq(Cat(first)),
                group_fwd[g].eq(Cat(f & fwds[n] for f, n in zip(first, ns)).any()),
                group_pintid[g].eq(reduce(operator.or_, (Mux(f, lrs[n].PhysicalID, 0)
                                                         for f, n in zip(first, ns)))),
            ]
        m.d.comb += match_sel.eq(Cat(first_sel[n] & group_sel[n // 8] for n in range(n_lrs)))
        m.d.comb += [
            self.match.valid.eq(match_valid),
            self.match.fwd.eq((group_sel & group_fwd).any()),
            self.match.pintid.eq(reduce(operator.or_, (Mux(group_sel[g], group_pintid[g], 0)
                                                       for g in groups))),
        ]
        return m
