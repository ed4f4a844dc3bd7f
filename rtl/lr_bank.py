# Ref: IHI0048B 5.3 (GICH_LR<n>, GICH_EISR, GICH_ELRSR); arch 2.5, 2.6, 2.8, R3, R5, R8-R10
"""List-register bank: storage, ELRSR/EISR, candidate selection, vID match.

Twin of sim/model/lr_bank.py. The hardware changes only State (acknowledge,
deactivate); every other field is written by the hypervisor alone. When
each result is valid: rtl/timing.py (this block's stages are named there).

Candidate selection (R5, R1), a pipeline over registered state that runs
every cycle:

    candidate     cand[n]: LR n is pending (01), its group enabled, its
                  priority below PMR; pre[n]: it preempts the running
                  priority (R1: no APR bit at or below its group priority,
                  from the vCPU's select.apr_upto and the LR's gprio
                  register, R3);
                  le_i_j: LR i's Priority <= LR j's (the two lowest tree
                  levels look these up)
    tree          a binary tree, lower indices on the left so that ties go
                  to the lowest index; a leaf is LR n (valid = cand[n]) with
                  its Priority, Grp1, group priority, pre[n], index and
                  vid_out; registered per Timing.tree_registered.
                  `select.best` is the root.

The vID match (R8, R9) for an EOIR/AEOIR/DIR whose value is on w_data in its
decode cycle: per LR, whether it holds that vID in State 10/11 (and the vSGI
source check) is registered every cycle; then the lowest-index hit with its
forwarding bit and pINTID (`select.match`), in one stage up to 8 LRs, else
per group of 8 (registered) and across the groups (Timing.match_latency).

Interfaces (declared below, one signature each): SelectSignature with the
vCPU, LRStatusSignature to the hyp and maintenance blocks, LRWriteSignature
from the hyp block.

GICv3 (`v3`, a V3Config: v3 2.8, V4-V10, V16): the same bank with the 64-bit
ICH_LR<n>_EL2 layout (`lr_layout`), written a 32-bit half at a time; where
it differs, `if v3` says so: the candidate is not filtered by PMR (V4; each
leaf carries `pmr_ok` for V5 instead), priorities are 8 bits and group
priorities `pre_bits` wide, the R1 test may use the running priority masked
by the group's binary point (V5, `rp_masked`), the vID match compares the
whole vINTID (no source CPUID), and an acknowledged vINTID 1020-1023 leaves
its LR invalid (V16).
"""
import operator
from functools import reduce

from amaranth.hdl import Module, Signal, Mux, Cat, Const
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from . import regs
from .timing import Timing
from .regs import LR_FIELDS, LR_WMASK, MAX_LRS, INVALID, PENDING, ACTIVE
from .sysregs import LR3_FIELDS

__all__ = ["LR", "Best", "Match", "lr_layout", "best_layout", "match_layout", "SelectSignature", "LRStatusSignature", "LRWriteSignature",
           "LRBank", "below_any", "prefix_or"]

LR = regs.layout(LR_FIELDS)          # GICH_LR<n>: .HW .Grp1 .State .Priority .EOI .CPUID ...


def lr_layout(v3=None):
    """The RTL view of one LR: GICH_LR<n> (LR), or ICH_LR<n>_EL2 under the
    same field names (Group is `Grp1`, vINTID `VirtualID`, pINTID
    `PhysicalID`; rtl/sysregs.py LR3_FIELDS)."""
    if v3 is None:
        return LR
    f = LR3_FIELDS
    return regs.layout({"VirtualID": (0, v3.id_bits), "PhysicalID": f["pINTID"], "EOI": f["EOI"],
                        "Priority": f["Priority"], "Grp1": f["Group"], "HW": f["HW"],
                        "State": f["State"]}, 64)


def best_layout(v3=None):
    """Best, or its GICv3 form: 8-bit prio, `pre_bits`-wide gprio, the vINTID,
    and pmr_ok (V5: the priority is below ICV_PMR_EL1)."""
    if v3 is None:
        return Best
    return data.StructLayout({"valid": 1, "prio": 8, "grp1": 1, "gprio": v3.pre_bits, "pre": 1,
                              "pmr_ok": 1, "idx": 6, "vid": v3.id_bits})


def match_layout(v3=None):
    """Match, or its GICv3 form: a 13-bit pINTID, and `fits`: the LR has the
    EOIR's group and the priority it dropped (V8's check, registered per LR
    with the vID match)."""
    if v3 is None:
        return Match
    return data.StructLayout({"valid": 1, "fwd": 1, "pintid": 13, "fits": 1})


class Best(data.Struct):
    """A candidate-tree node, and the root: the highest-priority pending
    candidate (R5) and what the responses need of it."""
    valid:    1
    prio:     5                      # Priority field, P[7:3]
    grp1:     1
    gprio:    5                      # group priority >> 3 (R3): the APR bit it sets (R4)
    pre:      1                      # it preempts: gprio < the running priority (R1)
    idx:      6                      # the LR
    vid:      13                     # vid_out: VirtualID, CPUID in [12:10] when HW = 0


class Match(data.Struct):
    """The lowest-index LR that an EOIR/AEOIR/DIR value names (R8, R9)."""
    valid:  1
    fwd:    1                        # deactivating it forwards pintid (R10): HW = 1, PPI/SPI
    pintid: 10                       # PhysicalID


class SelectSignature(wiring.Signature):
    """LR bank <-> vCPU: candidate selection (R1, R3, R5), acknowledge (R6a),
    vID match and deactivation (R8-R10). Members as the LR bank sees them
    (the bank has it Out, the vCPU In). The LR bank drives `best` (the R5
    candidate) and `match` (the lowest-index LR holding an EOIR/AEOIR/DIR's
    vID). The vCPU drives the R5 filter (GICV_CTLR.EnableGrp0/1,
    GICV_PMR[7:3]), the R3 masks of P[7:3] (gmask0: Group 0, gmask1: Group
    1), APR's prefix ORs (apr_upto, bit i = APR[i:0] != 0: R1), ack_stb (LR
    best.idx 01 -> 10) and deact_stb (the matched LR 10 -> 00, 11 -> 01).
    When each is valid: rtl/timing.py."""

    def __init__(self, v3=None):
        # GICv3: vmprimask is ICV_PMR_EL1's pri_bits implemented bits, the
        # masks pre_bits wide, apr_upto over both AP banks ORed (32 * NAPR)
        pri, pre = (5, 5) if v3 is None else (v3.pri_bits, v3.pre_bits)
        self.v3 = v3
        super().__init__({
            "best":        Out(best_layout(v3)),
            "match":       Out(match_layout(v3)),
            "enable_grp0": In(1),
            "enable_grp1": In(1),
            "vmprimask":   In(pri),
            "gmask0":      In(pre),
            "gmask1":      In(pre),
            "apr_upto":    In(1 << pre),
            "ack_stb":     In(1),
            "deact_stb":   In(1),
            # GICv3 (V8): an EOIR's group and the AP index it drops, with its vID
            **({} if v3 is None else {"eoi_grp1": In(1), "eoi_idx": In(pre)}),
            # legacy builds (v3 10): the GICv2 frame is live (the VM's SRE = 0)
            **({"legacy_live": In(1)} if v3 is not None and v3.legacy else {}),
        })

    def __eq__(self, other):
        return isinstance(other, SelectSignature) and other.v3 == self.v3

    def __hash__(self):
        return hash((SelectSignature, self.v3))


class LRStatusSignature(wiring.Signature):
    """The LRs and their status vectors, LR bank -> hyp (GICH_LR<n>, EISR,
    ELRSR reads) and maintenance (MISR): the LR values (`lr`, num_lrs of
    them) and one bit per LR, 0 above num_lrs: elrsr, eisr (R12), valid
    (State != 00: MISR.U), pending (State == 01: MISR.NP). Members as the LR
    bank sees them (it has it Out, every reader In). When: rtl/timing.py."""

    def __init__(self, num_lrs, v3=None):
        self.num_lrs, self.v3 = num_lrs, v3
        super().__init__({
            "lr":      Out(data.ArrayLayout(lr_layout(v3), num_lrs)),
            "elrsr":   Out(MAX_LRS),
            "eisr":    Out(MAX_LRS),
            "valid":   Out(MAX_LRS),
            "pending": Out(MAX_LRS),
        })

    def __eq__(self, other):
        return (isinstance(other, LRStatusSignature) and other.num_lrs == self.num_lrs
                and other.v3 == self.v3)

    def __hash__(self):
        return hash((LRStatusSignature, self.num_lrs, self.v3))


class LRWriteSignature(wiring.Signature):
    """A hypervisor write of GICH_LR<n>, hyp -> LR bank: `sel`, one-hot, LR n
    takes the request's data (the LR bank's own w_data port). Members as the
    hyp block sees them (it has it Out, the LR bank In). When:
    rtl/timing.py. GICv3: `hi` says which 32-bit half (v3 1.4)."""

    def __init__(self, num_lrs, v3=None):
        self.num_lrs, self.v3 = num_lrs, v3
        super().__init__({
            "sel": Out(num_lrs),
            **({"hi": Out(1)} if v3 is not None else {}),
        })

    def __eq__(self, other):
        return (isinstance(other, LRWriteSignature) and other.num_lrs == self.num_lrs
                and other.v3 == self.v3)

    def __hash__(self):
        return hash((LRWriteSignature, self.num_lrs, self.v3))


def _tree(m, leaves, left_wins, name, registered):
    """Reduce `leaves` pairwise, level by level (one submodule per level, at
    least one level even for a single leaf), to one node: a node keeps its
    left child when `left_wins(left, right, left's leaf indices, right's leaf
    indices)`, else the right one. A level's nodes are registers when
    `registered(level, levels)`, else combinational. Returns the root."""
    levels = max(1, (len(leaves) - 1).bit_length())
    nodes = [(leaf, [i]) for i, leaf in enumerate(leaves)]     # (value, leaf indices below)
    for level in range(1, levels + 1):
        m.submodules[f"{name}_l{level}"] = stage = Module()
        domain = stage.d.sync if registered(level, levels) else stage.d.comb
        up = []
        for i in range(0, len(nodes), 2):
            pair = nodes[i:i + 2]
            node = Signal(pair[0][0].shape(), name=f"{name}_l{level}_{i // 2}")
            if len(pair) == 1:                                # odd one out: passed up
                domain += node.eq(pair[0][0])
                below = pair[0][1]
            else:
                (l, l_leaves), (r, r_leaves) = pair
                decide = Signal(name=f"{name}_l{level}_{i // 2}_decide")
                stage.d.comb += decide.eq(left_wins(l, r, l_leaves, r_leaves))
                domain += node.eq(Mux(decide, l, r))
                below = l_leaves + r_leaves
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


def prefix_or(m, bits, name):
    """Bit i: any(bits[:i + 1]), as a radix-4 prefix OR: each step is one
    LUT4 level (a bit ORs its prefix within its group with the totals of up
    to three earlier groups of the same group of four), so 32 bits take 3
    levels; each step a signal of its own. No carry chain."""
    n = len(bits)
    seen = bits                                        # OR from the start of i's group
    group = 1
    while group < n:
        step = Signal(n, name=f"{name}_or{group * 4}", attrs={"keep": 1})   # a LUT level: not re-chained by ABC
        m.d.comb += step.eq(Cat(
            Cat(seen[i], *(seen[k * group + group - 1]
                           for k in range(i // group // 4 * 4, i // group))).any()
            for i in range(n)))
        seen, group = step, group * 4
    return seen


def below_any(m, bits, name):
    """[any(bits[:i]) for each i]: prefix_or shifted up by one."""
    seen = prefix_or(m, bits, name)
    return [Const(0, 1)] + [seen[i] for i in range(len(bits) - 1)]


class LRBank(wiring.Component):
    """GICH_LR0..num_lrs-1 and everything computed from them.

    Ports (all in a request's decode cycle unless said otherwise, rtl/timing.py):
      w_data                  the request's data (from the top): a GICH_LR<n> write's
                              value, an EOIR/AEOIR/DIR's vID and source CPUID
      lr_write.sel            hypervisor write of GICH_LR<n> (LRWriteSignature: one-hot,
                              w_data lands at this edge, masked here)
      select                  to and from the vCPU (SelectSignature):
        .enable_grp0/1, .vmprimask   GICV_CTLR.EnableGrp0/1 and GICV_PMR[7:3] (R5 filter)
        .gmask0, .gmask1      group-priority masks of P[7:3] for Group 0/1 (R3)
        .apr_upto             bit i: APR[i:0] != 0 (R1: LR n preempts unless bit gprio is set)
        .best                 the R5 candidate (registered root of the tree)
        .ack_stb              an IAR/AIAR acknowledge lands: LR best.idx goes 01 -> 10 (R6a)
                              (best.idx as registered in the response stage)
        .match                vID match of an EOIR/AEOIR/DIR decoded in cycle d (its
                              vID and source CPUID on w_data then), valid in cycle
                              d + match_latency
        .deact_stb            deactivate the matched LR: 10 -> 00, 11 -> 01 (R10)
      status                  to the hyp and maintenance blocks (LRStatusSignature): the
                              LR values (`lr`, the hyp block's read mux) and elrsr,
                              eisr, valid, pending, one bit per LR (0 above num_lrs),
                              combinational
    """

    def __init__(self, num_lrs, v3=None):
        self.num_lrs = regs.block_num_lrs(self, num_lrs)
        self.v3 = v3
        self.timing = Timing(num_lrs)
        super().__init__({
            "w_data":   In(32),
            "lr_write": In(LRWriteSignature(num_lrs, v3)),
            "select":   Out(SelectSignature(v3)),
            "status":   Out(LRStatusSignature(num_lrs, v3)),
        })

    def elaborate(self, platform):
        m = Module()
        match_sel = Signal(self.num_lrs)         # one-hot: the lowest-index hit
        # one-hot: the LR that an acknowledge moves; registered like the
        # vCPU's response stage (both valid when settled)
        ack_sel = Signal(self.num_lrs)
        m.d.sync += ack_sel.eq(1 << self.select.best.idx)
        lrs, gprios, cands, hits, fwds, fits = self._storage(m, match_sel, ack_sel)
        self._status(m, lrs)
        self._candidates(m, lrs, gprios, cands)
        self._match(m, lrs, hits, fwds, fits, match_sel)
        return m

    def _storage(self, m, match_sel, ack_sel):
        """Per LR, in its own module: the register (the hypervisor writes the
        whole LR, the hardware only State), its group priority, the R5 leaf
        condition, the R8/R9 match of the EOIR/AEOIR/DIR value on w_data, and
        R10's forwarding bit."""
        sel, v3 = self.select, self.v3
        lrs, gprios, cands, hits, fwds, fits = [], [], [], [], [], []
        if v3 is None:
            new = LR(self.w_data)
            new_prio, new_grp1 = new.Priority, new.Grp1
            write = self.lr_write.sel
        else:                                # ICH_LR<n>_EL2[63:32]: Priority [23:16], Group [28]
            new_prio, new_grp1 = self.w_data[16 + v3.shift:24], self.w_data[28]
            write = Cat(s & self.lr_write.hi for s in self.lr_write.sel)
            hw = self.w_data[29]             # v3 open point 16: [44:32] with HW = 1, EOI alone with 0
            hi_mask = Mux(hw, 0xF000_1FFF | v3.primask << 16, 0xF000_0200 | v3.primask << 16)
        w_gprio = Signal(len(sel.gmask0))    # R3 of the LR being written
        m.d.comb += w_gprio.eq(new_prio & Mux(new_grp1, sel.gmask1, sel.gmask0))
        for n in range(self.num_lrs):
            m.submodules[f"lr{n}"] = cell = Module()
            lr = Signal(lr_layout(v3), name=f"lr{n}")
            with cell.If(self.lr_write.sel[n]):
                if v3 is None:
                    cell.d.sync += lr.eq(self.w_data & LR_WMASK)
                else:                        # one 32-bit half (v3 1.4), masked (v3 2.8)
                    with cell.If(self.lr_write.hi):
                        cell.d.sync += lr.as_value()[32:].eq(self.w_data & hi_mask)
                    with cell.Else():
                        cell.d.sync += lr.as_value()[:32].eq(self.w_data & v3.idmask)
            with cell.Elif(sel.ack_stb & ack_sel[n]):
                if v3 is None:
                    cell.d.sync += lr.State.eq(ACTIVE)               # R6a: 01 -> 10
                else:                                                # V6; V16: 1020-1023 -> 00
                    special = lr.VirtualID[2:] == 1020 >> 2
                    if v3.legacy:                                    # the GICv2 frame: R6a
                        special = special & ~sel.legacy_live
                    cell.d.sync += lr.State.eq(Mux(special, INVALID, ACTIVE))
            with cell.Elif(sel.deact_stb & match_sel[n]):
                cell.d.sync += lr.State.eq(lr.State & 0b01)          # R10: 10 -> 00, 11 -> 01

            # R3: the group priority, a register that lands with the LR (one
            # edge behind the masks): the R1 test below and the APR bit of an
            # acknowledge (R4) need no logic before them. (Registered in the
            # bank's own module: in the LR's, Yosys 0.70's ABC9 flow breaks
            # the netlist at 64 LRs.)
            gprio = Signal(len(sel.gmask0), name=f"gprio{n}")
            own = Signal(len(sel.gmask0), name=f"own_gprio{n}")
            top = lr.Priority if v3 is None else lr.Priority[v3.shift:]   # P[7:8-pre_bits]
            cell.d.comb += own.eq(top & Mux(lr.Grp1, sel.gmask1, sel.gmask0))
            m.d.sync += gprio.eq(Mux(write[n], w_gprio, own))

            # R5 leaf: pending (01 only), group enabled, priority below PMR
            # (V4: not PMR, which V5 tests on the candidate: pmr_ok)
            cand = Signal(name=f"cand{n}")
            enabled = Mux(lr.Grp1, sel.enable_grp1, sel.enable_grp0)
            if v3 is None:
                cell.d.sync += cand.eq((lr.State == PENDING) & enabled
                                       & _less(lr.Priority, sel.vmprimask))
            else:
                cell.d.sync += cand.eq((lr.State == PENDING) & enabled)

            # R8/R9: VirtualID matches, State 10 or 11; a vSGI (vid < 16, HW = 0)
            # also needs CPUID == the writer's source CPUID. Registered every
            # cycle; used after an EOIR/AEOIR/DIR's decode cycle.
            hit = Signal(name=f"hit{n}")
            if v3 is None:
                cell.d.sync += hit.eq((lr.VirtualID == self.w_data[:10]) & lr.State[1]
                                      & (lr.HW | (lr.VirtualID >= 16)
                                         | (lr.CPUID == self.w_data[10:13])))
            else:                                    # V8, V9: the whole vINTID
                whole = (lr.VirtualID == self.w_data[:v3.id_bits]) & lr.State[1]
                if v3.legacy:                        # the GICv2 frame: R8's vSGI match (L4)
                    vid, cpu = lr.VirtualID[:10], lr.VirtualID[10:13]
                    gicv2 = ((vid == self.w_data[:10]) & lr.State[1]
                             & (lr.HW | (vid >= 16) | (cpu == self.w_data[10:13])))
                    whole = Mux(sel.legacy_live, gicv2, whole)
                cell.d.sync += hit.eq(whole)
                # V8: the LR has the EOIR's group and the priority it drops
                fit = Signal(name=f"fit{n}")
                m.d.sync += fit.eq((lr.Grp1 == sel.eoi_grp1) & (gprio == sel.eoi_idx))
                fits.append(fit)
            # R10: deactivating LR n forwards its pINTID (HW = 1, and a PPI or SPI:
            # 0-15 and 1020-1023 would be UNPREDICTABLE; not forwarded, as in the model)
            fwd = Signal(name=f"fwd{n}")
            cell.d.sync += fwd.eq(lr.HW & (lr.PhysicalID >= 16) & (lr.PhysicalID < 1020))
            lrs.append(lr)
            gprios.append(gprio)
            cands.append(cand)
            hits.append(hit)
            fwds.append(fwd)
        m.d.comb += [self.status.lr[n].eq(lr) for n, lr in enumerate(lrs)]
        return lrs, gprios, cands, hits, fwds, fits

    def _status(self, m, lrs):
        """ELRSR, EISR and MISR's inputs (R12, V12: combinational in the LRs)."""
        status = self.status
        m.d.comb += [
            status.elrsr.eq(Cat((lr.State == INVALID) & (lr.HW | ~lr.EOI) for lr in lrs)),   # ELRSR
            status.eisr.eq(Cat((lr.State == INVALID) & ~lr.HW & lr.EOI for lr in lrs)),      # EISR
            status.valid.eq(Cat(lr.State != INVALID for lr in lrs)),                         # MISR.U
            status.pending.eq(Cat(lr.State == PENDING for lr in lrs)),                       # MISR.NP
        ]

    def _candidates(self, m, lrs, gprios, cands):
        """The tree (R5): the smaller priority wins, an invalid node loses,
        equal priorities keep the left (lower-index) node. A low level's
        comparison (at most 2 x 2 leaves below it) looks up registered
        pairwise comparisons of the LRs' Priority fields by the children's
        `idx`; higher levels compare the children's prio."""
        leaves = []
        sel, v3 = self.select, self.v3
        for n, (lr, gprio, cand) in enumerate(zip(lrs, gprios, cands)):
            leaf = Signal(best_layout(v3), name=f"leaf{n}")
            pre = Signal(name=f"pre{n}")                 # candidate stage: R1
            if v3 is not None and v3.rp_masked:
                # V5, v3 open point 1: gprio < RP & gmask, i.e. no AP bit at or
                # below the last index of gprio's group (gprio | ~gmask)
                last = gprio | ~Mux(lr.Grp1, sel.gmask1, sel.gmask0)
                if v3.legacy:                    # the GICv2 frame: R1, unmasked
                    last = Mux(sel.legacy_live, gprio, last)
                m.d.sync += pre.eq(~sel.apr_upto.bit_select(last, 1))
            else:
                m.d.sync += pre.eq(~sel.apr_upto.bit_select(gprio, 1))
            m.d.comb += [
                leaf.valid.eq(cand),
                leaf.prio.eq(lr.Priority),
                leaf.grp1.eq(lr.Grp1),
                leaf.gprio.eq(gprio),
                leaf.pre.eq(pre),
                leaf.idx.eq(n),
            ]
            if v3 is None:
                m.d.comb += leaf.vid.eq(Cat(lr.VirtualID, Mux(lr.HW, 0, lr.CPUID)))   # vid_out
            else:
                pmr_ok = Signal(name=f"pmr_ok{n}")       # V5: below ICV_PMR_EL1
                m.d.sync += pmr_ok.eq(_less(lr.Priority[8 - v3.pri_bits:], sel.vmprimask))
                vid = lr.VirtualID
                if v3.legacy:                            # the GICv2 frame: L3
                    vid = Mux(sel.legacy_live,
                              Cat(lr.VirtualID[:10], Mux(lr.HW, 0, lr.VirtualID[10:13])), vid)
                m.d.comb += [leaf.vid.eq(vid), leaf.pmr_ok.eq(pmr_ok)]
            leaves.append(leaf)

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

        root = _tree(m, leaves, left_wins, "best", self.timing.tree_registered)
        m.d.comb += self.select.best.eq(root)

    def _match(self, m, lrs, hits, fwds, fits, match_sel):
        """The lowest-index hit, in groups of 8 LRs: per group its lowest hit
        (one-hot, first_sel) with that LR's forwarding bit and pINTID, and
        which group holds the lowest hit of all (group_sel), so that no path
        runs through a 64-way priority or mux in one cycle. Up to 8 LRs (one
        group) combinational, else registered (Timing.match_latency)."""
        n_lrs = self.num_lrs
        m.submodules.match_sel = stage = Module()
        domain = stage.d.comb if self.timing.match_latency == 1 else stage.d.sync
        match_valid = Signal()
        hit_vec = Cat(hits)
        groups = range((n_lrs + 7) // 8)
        group_hit = Cat(hit_vec[8 * g:8 * g + 8].any() for g in groups)
        group_sel = Signal(len(groups))
        group_fwd = Signal(len(groups))
        pintid_bits = 10 if self.v3 is None else 13
        group_pintid = [Signal(pintid_bits, name=f"group_pintid{g}") for g in groups]
        group_fit = Signal(len(groups))         # GICv3 (V8): the hit LR fits the EOIR
        first_sel = Signal(n_lrs)
        domain += [
            match_valid.eq(hit_vec.any()),
            group_sel.eq(Cat(hit & ~below for hit, below in
                             zip(group_hit, below_any(stage, group_hit, "group_hit")))),
        ]
        for g in groups:
            ns = range(8 * g, min(8 * g + 8, n_lrs))
            first = [hits[n] & ~below for n, below in
                     zip(ns, below_any(stage, hit_vec[8 * g:8 * g + 8], f"hit_g{g}"))]
            domain += [
                first_sel[8 * g:8 * g + len(ns)].eq(Cat(first)),
                group_fwd[g].eq(Cat(f & fwds[n] for f, n in zip(first, ns)).any()),
                group_pintid[g].eq(reduce(operator.or_, (Mux(f, lrs[n].PhysicalID, 0)
                                                         for f, n in zip(first, ns)))),
            ]
            if self.v3 is not None:
                domain += group_fit[g].eq(Cat(f & fits[n] for f, n in zip(first, ns)).any())
        m.d.comb += match_sel.eq(Cat(first_sel[n] & group_sel[n // 8] for n in range(n_lrs)))
        match = self.select.match
        m.d.comb += [
            match.valid.eq(match_valid),
            match.fwd.eq((group_sel & group_fwd).any()),
            match.pintid.eq(reduce(operator.or_, (Mux(group_sel[g], group_pintid[g], 0)
                                                  for g in groups))),
        ]
        if self.v3 is not None:
            m.d.comb += match.fits.eq((group_sel & group_fit).any())
