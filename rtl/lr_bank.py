# Ref: IHI0048B 5.3 (GICH_LR<n>, GICH_EISR, GICH_ELRSR); digest 2.5, 2.6, 2.8, R1, R5, R10
"""List-register bank: storage, ELRSR/EISR, candidate selection, vID match.

Twin of sim/model/lr_bank.py.

Candidate selection (R5) is a log-depth tree over the LRs: 4-ary, each node
comparing all pairs of its children at once; lower indices sit on the left,
so ties go to the lowest index. Its leaves start from registers: ``cand``
holds, for every LR, the R5 leaf condition (pending, group enabled, priority
below PMR) of the current state; it is computed from the next-state values of
the LR, GICV_CTLR and GICV_PMR, so it is never stale. Each leaf also carries
its group priority (R3) and whether that beats the running priority (R1), so
the vCPU needs no comparison after the tree. Besides the winner's fields, the
tree gives a one-hot select per LR (the AND of the wins on its path), which
is what acknowledge uses.

The vID match (R8, R9) is a tree of the same shape (lowest-index hit).
The hardware changes only State (acknowledge, deactivate); every other field
is written by the hypervisor alone.
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
    valid:    1
    index:    INDEX
    prio:     5                      # Priority field, P[7:3]
    grp1:     1
    vid:      13                     # vid_out: VirtualID, CPUID in [12:10] when HW = 0
    gprio:    5                      # group priority >> 3 (R3)
    preempts: 1                      # gprio < running priority (R1)


class Match(data.Struct):
    """The lowest-index LR that an EOIR/AEOIR/DIR value names (R8, R9)."""
    valid:  1
    index:  INDEX
    hw:     1
    pintid: 10                       # PhysicalID (forwarded when HW = 1)


def _tree(m, leaves, left_wins, name, arity=4):
    """Reduce `leaves` in groups of up to `arity` children, level by level
    (one submodule per level; log_arity depth), to one node. Inside a node all
    pairs of children are compared at once: child i wins when it beats every
    child to its right (`left_wins(child_i, child_j)`) and no child to its left
    beats it. Returns the root and, per leaf, the AND of the wins on its path
    (1 for the leaf the root came from)."""
    nodes = [(leaf, [i]) for i, leaf in enumerate(leaves)]     # (value, leaf indices below)
    path = [[] for _ in leaves]                                # win terms per leaf
    level = 0
    while len(nodes) > 1:
        level += 1
        m.submodules[f"{name}_l{level}"] = stage = Module()
        up = []
        for g in range(0, len(nodes), arity):
            group = nodes[g:g + arity]
            if len(group) == 1:
                up.append(group[0])
                continue
            k = g // arity
            beats = {(i, j): Signal(name=f"{name}_l{level}_{k}_b{i}{j}")
                     for i in range(len(group)) for j in range(i + 1, len(group))}
            for (i, j), b in beats.items():
                stage.d.comb += b.eq(left_wins(group[i][0], group[j][0]))
            node = Signal(group[0][0].shape(), name=f"{name}_l{level}_{k}")
            value = 0
            for i, (child, child_leaves) in enumerate(group):
                win = Signal(name=f"{name}_l{level}_{k}_w{i}")
                stage.d.comb += win.eq(Cat(*[beats[i, j] for j in range(i + 1, len(group))],
                                           *[~beats[j, i] for j in range(i)]).all())
                value = value | Mux(win, child, 0)
                for leaf in child_leaves:
                    path[leaf].append(win)
            stage.d.comb += node.eq(value)
            up.append((node, sum((c[1] for c in group), [])))
        nodes = up
    sel = []
    m.submodules[f"{name}_sel"] = stage = Module()
    for i, terms in enumerate(path):
        s = Signal(name=f"{name}_sel{i}")
        stage.d.comb += s.eq(Cat(*terms).all() if terms else 1)
        sel.append(s)
    return nodes[0][0], sel


class LRBank(wiring.Component):
    """GICH_LR0..num_lrs-1 and everything computed from them.

    Ports:
      lr                      the LR values (the hyp block's read mux)
      w_stb, w_index, w_data  hypervisor write of GICH_LR<w_index> (masked here)
      enable_grp0/1_next, vmprimask_next   GICV_CTLR.EnableGrp0/1 and GICV_PMR[7:3]
                              as they will be after this cycle (R5 filter)
      gmask0, gmask1          group-priority masks of P[7:3] for Group 0/1 (R3)
      rp, rp_idle             running priority >> 3 (lowest set APR bit), APR == 0
      best                    R5 candidate, with its group priority and R1 test
      ack_stb                 acknowledge the best candidate: State 01 -> 10 (R6a)
      match_vid, match_src -> match    vID match for EOIR/AEOIR/DIR
      deact_stb               deactivate the matched LR: 10 -> 00, 11 -> 01 (R10)
      elrsr, eisr, valid, pending   one bit per LR (0 above num_lrs)
    """

    def __init__(self, num_lrs):
        try:
            self.num_lrs = regs.check_num_lrs(num_lrs)
        except ValueError:
            self._MustUse__silence = True    # never built: no "never used" warning
            raise
        super().__init__({
            "lr":               Out(data.ArrayLayout(LR, num_lrs)),
            "w_stb":            In(1),
            "w_index":          In(INDEX),
            "w_data":           In(32),
            "enable_grp0_next": In(1),
            "enable_grp1_next": In(1),
            "vmprimask_next":   In(5),
            "gmask0":           In(5),
            "gmask1":           In(5),
            "rp":               In(5),
            "rp_idle":          In(1),
            "best":             Out(Best),
            "ack_stb":          In(1),
            "match_vid":        In(10),
            "match_src":        In(3),
            "match":            Out(Match),
            "deact_stb":        In(1),
            "elrsr":            Out(MAX_LRS),
            "eisr":             Out(MAX_LRS),
            "valid":            Out(MAX_LRS),
            "pending":          Out(MAX_LRS),
        })

    def elaborate(self, platform):
        m = Module()
        n_lrs = self.num_lrs
        # R5 leaf condition of every LR, registered (see the module docstring)
        cand = Signal(n_lrs)
        cands, hits, cells = [], [], []
        m.submodules.match_leaves = match_leaves = Module()
        for n in range(n_lrs):
            lr = self.lr[n]
            m.submodules[f"lr{n}"] = cell = Module()      # LR n: storage, status bits, leaves
            cells.append(cell)

            # -- status vectors (R12: combinational in the LR contents)
            invalid = lr.State == regs.INVALID
            cell.d.comb += [
                self.elrsr[n].eq(invalid & (lr.HW | ~lr.EOI)),       # GICH_ELRSR
                self.eisr[n].eq(invalid & ~lr.HW & lr.EOI),          # GICH_EISR
                self.valid[n].eq(~invalid),                          # MISR.U
                self.pending[n].eq(lr.State == PENDING),             # MISR.NP: 01 only
            ]

            # -- R5 leaf, with R3 group priority and the R1 preemption test
            leaf = Signal(Best, name=f"cand{n}")
            gmask = Mux(lr.Grp1, self.gmask1, self.gmask0)
            gprio = lr.Priority & gmask
            cell.d.comb += [
                leaf.valid.eq(cand[n]),
                leaf.index.eq(n),
                leaf.prio.eq(lr.Priority),
                leaf.grp1.eq(lr.Grp1),
                leaf.vid.eq(Cat(lr.VirtualID, Mux(lr.HW, 0, lr.CPUID))),
                leaf.gprio.eq(gprio),
                leaf.preempts.eq(self.rp_idle | (gprio < self.rp)),
            ]
            cands.append(leaf)

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

        # Best candidate: the smaller priority wins, an invalid node loses, equal
        # priorities keep the left (lower-index) node.
        best, best_sel = _tree(m, cands, lambda l, r: l.valid & (~r.valid | (l.prio <= r.prio)),
                               "best")
        # vID match: the lowest-index hit.
        match, match_sel = _tree(m, hits, lambda l, r: l.valid, "match")
        m.d.comb += [self.best.eq(best), self.match.eq(match)]

        # -- storage: the hypervisor writes the whole LR, the hardware only State.
        #    Written as next-state expressions (no comb signals) so that the
        #    simulator evaluates them once per clock edge.
        for n in range(n_lrs):
            lr, cell = self.lr[n], cells[n]
            write = self.w_stb & (self.w_index == n)
            new = LR(self.w_data & LR_WMASK)
            state = Mux(write, new.State,
                    Mux(self.ack_stb & best_sel[n], ACTIVE,                  # R6a: 01 -> 10
                    Mux(self.deact_stb & match_sel[n], lr.State & 0b01,     # R10: 10 -> 00, 11 -> 01
                        lr.State)))
            grp1 = Mux(write, new.Grp1, lr.Grp1)
            prio = Mux(write, new.Priority, lr.Priority)
            with cell.If(write):
                cell.d.sync += lr.eq(new)
            with cell.Else():
                cell.d.sync += lr.State.eq(state)
            enabled = Mux(grp1, self.enable_grp1_next, self.enable_grp0_next)
            cell.d.sync += cand[n].eq((state == PENDING) & enabled & (prio < self.vmprimask_next))
        return m
