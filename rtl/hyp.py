# Ref: IHI0048B 5.3 (GICH_* registers); arch 2.1-2.8
"""Hypervisor control interface (GICH_*): HCR (with EOICount) and the GICH
frame's register decode.

Twin of sim/model/hyp.py. VMCR and APR are stored in the vCPU block (this
block reads them, `gicv`, and strobes their writes, `control`), the LRs,
EISR and ELRSR in the LR bank (`status`; writes: `lr_write`), MISR in the
maintenance block (`gich`, which also takes HCR from here). A request
arrives in its decode cycle (rtl/timing.py), registered by the top: strobes
(`w_stb` only for a full-word write), data, its word address and that
address predecoded (`addr`, `dec`, rtl/regbus.py). Writes land at the edge
ending that cycle (the LR bank's lr_write.sel, the vCPU's
control.vmcr_w_stb/apr_w_stb likewise). r_data is valid in the next cycle,
0 for any address not of this block (the top ORs the blocks' answers and
registers them again): the first 16 words (HCR .. ELRSR1) are selected by
the predecoded address's low field and registered with a hit flag
(regbus.first_words), APR is read from its register after that stage; the
LR window is muxed on the LR index's low 3 bits into groups of 8 LRs,
registered, and the group is selected after the registers (so with 64 LRs
no path runs from the address through a 64-way mux in one clock).
"""
from amaranth.hdl import Array, Cat, Module, Signal, Mux, Const
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

import operator
from functools import reduce

from . import regs, sysregs
from .regs import HCR_FIELDS
from .regbus import ADDR_WIDTH, AddrDecode, names, first_words
from .lr_bank import LRStatusSignature, LRWriteSignature
from .vcpu import VMCR, GICVSignature, ControlSignature

__all__ = ["HCR", "GICHSignature", "Hyp"]

HCR = regs.layout(HCR_FIELDS)        # GICH_HCR: .En .UIE .LRENPIE .NPIE .VGrp0EIE ... .EOICount
# ICH_HCR_EL2 (v3 2.1): the same fields at the same bits, and the trap controls
HCR3 = regs.layout({**HCR_FIELDS, **{k: sysregs.HCR3_FIELDS[k] for k in sysregs.TRAP_BITS}})


class GICHSignature(wiring.Signature):
    """hyp <-> maintenance: `hcr` (GICH_HCR, stored in the hyp block: the
    maintenance block's MISR enables and HCR.En for its line) and `misr`
    (GICH_MISR, computed in the maintenance block, read through the hyp
    block's GICH frame). Members as the hyp block sees them (it has it Out,
    the maintenance block In). When: rtl/timing.py."""

    def __init__(self, v3=None):
        self.v3 = v3
        super().__init__({
            "hcr":  Out(HCR if v3 is None else HCR3),
            "misr": In(8),
        })

    def __eq__(self, other):
        return isinstance(other, GICHSignature) and other.v3 == self.v3

    def __hash__(self):
        return hash((GICHSignature, self.v3))


class Hyp(wiring.Component):
    def __init__(self, num_lrs, v3=None):
        self.num_lrs = regs.block_num_lrs(self, num_lrs)
        self.v3 = v3
        super().__init__({
            # the request's address predecoded (registered by the top, cycle t+1)
            "dec":          In(AddrDecode),
            # the request, decode cycle (w_stb: a full-word write)
            "addr":         In(ADDR_WIDTH),
            "r_stb":        In(1),
            "w_stb":        In(1),
            "w_data":       In(32),
            "r_data":       Out(32),
            # GICH_HCR storage (gich.hcr), to the maintenance block; MISR from it
            "gich":         Out(GICHSignature(v3)),
            # to the vCPU: HCR.En, the GICH_VMCR / GICH_APR write strobes (data
            # on w_data); from it EOICount + 1 (R11)
            "control":      Out(ControlSignature(v3)),
            # LR bank: the write port (one-hot, data on w_data), the LR values
            # for the read mux, EISR, ELRSR
            "lr_write":     Out(LRWriteSignature(num_lrs, v3)),
            "status":       In(LRStatusSignature(num_lrs, v3)),
            # vCPU storage seen as GICH_VMCR and GICH_APR
            "gicv":         In(GICVSignature(v3)),
        })

    def elaborate(self, platform):
        if self.v3 is not None:
            return self._elaborate3()
        m = Module()
        hcr = self.gich.hcr

        # GICH_VMCR (arch 2.3): the guest's GICV_CTLR/PMR/BPR/ABPR, not a copy
        vmcr = Signal(VMCR)
        gicv, ctlr = self.gicv, self.gicv.ctlr
        m.d.comb += [
            vmcr.VMPriMask.eq(gicv.vmprimask),
            vmcr.VMBP.eq(gicv.bpr),
            vmcr.VMABP.eq(gicv.abpr),
            vmcr.VEM.eq(ctlr.EOImode),
            vmcr.VMCBPR.eq(ctlr.CBPR),
            vmcr.VMFIQEn.eq(ctlr.FIQEn),
            vmcr.VMAckCtl.eq(ctlr.AckCtl),
            vmcr.VMGrp1En.eq(ctlr.EnableGrp1),
            vmcr.VMGrp0En.eq(ctlr.EnableGrp0),
        ]
        vtr = regs.vtr_value(self.num_lrs)   # GICH_VTR: a constant of the build

        # GICH_LR<n> reads: the LR window (0x100-0x1FF) is 64 words, the word
        # address's low 6 bits are n; a balanced mux on those bits (LRs at and
        # above ListRegs + 1 read 0: RAZ). Stage 1 (registered): the low
        # `k1` bits pick one LR per group of 2**k1; after it, the registered
        # upper index bits pick the group.
        assert regs.lr(0).word % regs.MAX_LRS == 0 and regs.MAX_LRS == 64
        k = max(1, (self.num_lrs - 1).bit_length())
        k1 = min(k, 3)
        level = [self.status.lr[n].as_value() if n < self.num_lrs else Const(0, 32)
                 for n in range(1 << k)]
        for bit in self.addr[:k1]:
            level = [Mux(bit, level[i + 1], level[i]) for i in range(0, len(level), 2)]
        groups = [Signal(32, name=f"lr_group{g}") for g in range(len(level))]
        lr_hit = Signal()                # the request names an LR slot of this build
        group_index = Signal(max(1, k - k1))
        m.d.sync += [group.eq(value) for group, value in zip(groups, level)]
        m.d.sync += group_index.eq(self.addr[k1:k])
        m.d.sync += lr_hit.eq((self.addr[6:] == regs.lr(0).word >> 6) & (self.addr[k:6] == 0))
        lr_read = Array(groups)[group_index] if len(groups) > 1 else groups[0]

        # -- GICH frame reads (no side effects). Stage 1, registered at the edge
        #    ending t+1: the frame's first 16 words (HCR .. ELRSR1) by the
        #    predecoded address's low field, and which of them or APR the
        #    whole address names. After
        #    it: that value or the LR group's, 0 for any other address (the top
        #    ORs the blocks' answers). APR comes straight from its register then
        #    (no request's effect is in flight while a read is answered).
        low, hit_low = first_words(m, self.dec, {
            regs.GICH_HCR:    hcr.as_value(),
            regs.GICH_VTR:    Const(vtr, 32),
            regs.GICH_VMCR:   vmcr.as_value(),
            regs.GICH_MISR:   self.gich.misr,
            regs.GICH_EISR0:  self.status.eisr[:32],
            regs.GICH_EISR1:  self.status.eisr[32:],
            regs.GICH_ELRSR0: self.status.elrsr[:32],
            regs.GICH_ELRSR1: self.status.elrsr[32:],
        })
        hit_apr = Signal()
        m.d.sync += hit_apr.eq(names(self.dec, regs.GICH_APR.word))
        m.d.comb += self.r_data.eq(Mux(hit_low, low, 0) | Mux(hit_apr, self.gicv.apr, 0)
                                   | Mux(lr_hit, lr_read, 0))

        # -- GICH frame writes, landing at the decode edge; GICH_LR<n> none
        #    above ListRegs: WI. RO registers, reserved offsets: ignored
        def we(reg):
            return self.w_stb & names(self.dec, reg.word)
        m.d.comb += [
            self.control.vmcr_w_stb.eq(we(regs.GICH_VMCR)),
            self.control.apr_w_stb.eq(we(regs.GICH_APR)),
            self.lr_write.sel.eq(Cat(we(regs.lr(n)) for n in range(self.num_lrs))),
        ]
        m.d.comb += self.control.en.eq(hcr.En)
        # R11: EOICount + 1 modulo 32 (never at the edge of an HCR write:
        # the bus waits for the EOI's match, rtl/timing.py)
        with m.If(self.control.eoicount_inc):
            m.d.sync += hcr.EOICount.eq(hcr.EOICount + 1)
        with m.If(we(regs.GICH_HCR)):
            m.d.sync += hcr.eq(self.w_data & regs.GICH_HCR.wmask)
        return m

    # -- GICv3: ICH_*_EL2 through the memory-mapped layout (v3 1.4, 2) -------
    def _elaborate3(self):
        """The same roles: HCR stored here (v3 write mask), VMCR and the AP
        banks read from the vCPU's storage and written through `control`,
        the LRs a 32-bit half at a time. Reads: stage 1 registered at the
        decode edge (every register's word by its address), the AP registers
        straight from the banks after it."""
        m = Module()
        v3, hcr, gicv, ctlr = self.v3, self.gich.hcr, self.gicv, self.gicv.ctlr

        def word(name, half=0):
            return (sysregs.lookup(name).addr >> 2) + half

        def we(name, half=0):
            return self.w_stb & names(self.dec, word(name, half))

        low = ctlr.as_value()[:10] & 0x21F
        if v3.legacy:                        # VFIQEn, VAckCtl real only while the GICv2 frame is
            low = Mux(gicv.legacy_live, low, (low & 0x213) | 0x8)    # live (v3 10)
        vmcr = Cat(low, Const(0, 8), gicv.abpr, gicv.bpr,
                   Const(0, 8 - v3.pri_bits), gicv.vmprimask)        # ICH_VMCR_EL2 (v3 2.3)
        values = {(n, 0): v for n, v in {
            "ICH_HCR_EL2": hcr.as_value(), "ICH_VTR_EL2": Const(v3.vtr, 32),
            "ICH_VMCR_EL2": vmcr, "ICH_MISR_EL2": self.gich.misr,
            "ICH_EISR_EL2": self.status.eisr[:16], "ICH_ELRSR_EL2": self.status.elrsr[:16],
        }.items()}
        for n in range(self.num_lrs):
            lr = self.status.lr[n].as_value()
            values[f"ICH_LR{n}_EL2", 0], values[f"ICH_LR{n}_EL2", 1] = lr[:32], lr[32:]
        low = Signal(32, name="ich_read")
        m.d.sync += low.eq(reduce(operator.or_, (Mux(names(self.dec, word(n, h)), value, 0)
                                                  for (n, h), value in values.items())))
        ap_terms = []
        for g, bank in enumerate((gicv.ap0, gicv.apr)):
            for n in range(v3.napr):
                hit = Signal(name=f"hit_ap{g}r{n}")
                m.d.sync += hit.eq(names(self.dec, word(f"ICH_AP{g}R{n}_EL2")))
                ap_terms.append(Mux(hit, bank[32 * n:32 * n + 32], 0))
        m.d.comb += self.r_data.eq(reduce(operator.or_, ap_terms, low))

        # writes, landing at the decode edge; LRs and AP registers this build
        # lacks: RAZ/WI (v3 open point 17); high halves other than the LRs': RES0
        lr_lo = [we(f"ICH_LR{n}_EL2") for n in range(self.num_lrs)]
        lr_hi = [we(f"ICH_LR{n}_EL2", 1) for n in range(self.num_lrs)]
        m.d.comb += [
            self.control.vmcr_w_stb.eq(we("ICH_VMCR_EL2")),
            self.control.ap_w_stb.eq(Cat(we(f"ICH_AP{g}R{n}_EL2")
                                         for g in range(2) for n in range(v3.napr))),
            self.lr_write.sel.eq(Cat(lo | hi for lo, hi in zip(lr_lo, lr_hi))),
            self.lr_write.hi.eq(Cat(lr_hi).any()),
            self.control.en.eq(hcr.En),
        ]
        with m.If(self.control.eoicount_inc):                       # V11, modulo 32
            m.d.sync += hcr.EOICount.eq(hcr.EOICount + 1)
        with m.If(we("ICH_HCR_EL2")):
            m.d.sync += hcr.eq(self.w_data & v3.hcr_wmask)
        return m
