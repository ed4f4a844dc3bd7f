# Ref: IHI0048B 5.3 (GICH_LR<n>, GICH_EISR, GICH_ELRSR); arch 2.5, 2.6, 2.8, R5, R10;
#      IHI0069 ICH_LR<n>_EL2, ICH_EISR_EL2, ICH_ELRSR_EL2; v3 2.5, 2.6, 2.8, V4, V10
"""List-register bank: storage, ELRSR/EISR, candidate selection, vID match.

One bank for both architectures: where a field sits is the layout's
(rtl/regs.py LRLayout: LR_V2, or V3Config.lr_layout); what the hardware does
with the fields is the same, except where `match self.layout.arch` says."""
from ...rtl.regs import (LR_FIELDS, LR_WMASK, LR_V2, INVALID, PENDING, ACTIVE, PENDING_ACTIVE,
                         field)


def lr_get(value, name):
    return field(value, LR_FIELDS, name)


def prio(value):
    """8-bit priority of an LR: Priority field << 3 (R2)."""
    return lr_get(value, "Priority") << 3


def per_contents(query):
    """Cache a query's result until the LR contents change: a speed-up of the
    model only (the differential runs ask VIRQ, VFIQ and MISR after every
    transaction). Keyed on the contents themselves, so a change made any way,
    even by assigning to ``lr`` directly, is seen."""
    def cached(self, *args):
        contents = (tuple(self.lr), self.layout)
        if contents != self._contents:
            self._contents, self._results = contents, {}
        key = (query.__name__, args)
        if key not in self._results:
            self._results[key] = query(self, *args)
        return self._results[key]
    cached.__name__, cached.__doc__ = query.__name__, query.__doc__
    return cached


def vid_out(value):
    """VirtualID, with the vSGI source CPUID in [12:10] when HW = 0."""
    if lr_get(value, "HW"):
        return lr_get(value, "VirtualID")
    return lr_get(value, "VirtualID") | (lr_get(value, "CPUID") << 10)


class LRBank:
    def __init__(self, num_lrs, v3=None):
        self.num_lrs = num_lrs
        self.v3 = v3                                # V3Config, or None for GICv2
        self.legacy_live = False                    # set by the vCPU: the GICv2 frame is live
        self.reset()

    @property
    def layout(self):
        """GICH_LR<n>'s; ICH_LR<n>_EL2's; in legacy operation (v3 10) its GICv2
        reading (vINTID[9:0], the source CPU in [12:10])."""
        if self.v3 is None:
            return LR_V2
        return self.v3.legacy_lr_layout if self.legacy_live else self.v3.lr_layout

    def get(self, n, name):
        """Field `name` (common name, rtl/regs.py LRLayout) of LR n."""
        return self.layout.get(self.lr[n], name)

    def prio(self, n):
        """The 8-bit priority of LR n (R2; V4: stored masked to PRIMASK)."""
        return self.get(n, "Priority") << self.layout.prio_shift

    def vid_out(self, n):
        """The vID an acknowledge or HPPIR returns (R6a, V6; legacy: L3): a
        vSGI's source CPU in [12:10] where the layout carries one (HW = 0)."""
        if self.layout.sgi_cpuid and not self.get(n, "HW"):
            return self.get(n, "vINTID") | self.get(n, "CPUID") << 10
        return self.get(n, "vINTID")

    def reset(self):
        # R15: LRs reset to 0 (invalid) as on GIC-400
        self.lr = [0] * self.num_lrs
        self._contents, self._results = None, {}       # per_contents cache

    # -- hypervisor port (GICH_LR<n>) --------------------------------------
    def read(self, n):
        return self.lr[n] if n < self.num_lrs else 0        # above ListRegs: RAZ

    def write(self, n, value):
        if n < self.num_lrs:                                  # above ListRegs: WI
            self.lr[n] = value & LR_WMASK if self.v3 is None else self.v3.lr_mask(value)

    def state(self, n):
        return self.get(n, "State")

    # -- status vectors -----------------------------------------------------
    # Ref: GICH_ELRSR: State == 00 && (HW == 1 || EOI == 0)
    @per_contents
    def elrsr(self):
        g = self.layout.get
        return sum(1 << n for n, v in enumerate(self.lr)
                   if g(v, "State") == INVALID and (g(v, "HW") or not g(v, "EOI")))

    # Ref: GICH_EISR: State == 00 && HW == 0 && EOI == 1
    @per_contents
    def eisr(self):
        g = self.layout.get
        return sum(1 << n for n, v in enumerate(self.lr)
                   if g(v, "State") == INVALID and not g(v, "HW") and g(v, "EOI"))

    @per_contents
    def valid_count(self):
        return sum(1 for v in self.lr if self.layout.get(v, "State") != INVALID)

    @per_contents
    def any_pending(self):
        """Some LR in state 01 (pending only; 11 does not count, open point 5)."""
        return any(self.layout.get(v, "State") == PENDING for v in self.lr)

    # -- candidate selection (R5) ------------------------------------------
    @per_contents
    def best(self, enable_grp0, enable_grp1, pmr=0x100):
        """Index of the highest-priority pending LR of an enabled group with
        priority below `pmr` (GICv2's R5 filters by PMR here; GICv3's V4 does
        not: pmr 0x100); ties go to the lowest index. None if no candidate."""
        best = None
        for n in range(self.num_lrs):
            if self.get(n, "State") != PENDING:
                continue
            enabled = enable_grp1 if self.get(n, "Group") else enable_grp0
            if enabled and self.prio(n) < pmr:
                if best is None or self.prio(n) < self.prio(best):
                    best = n
        return best

    # -- vID match for EOIR/AEOIR/DIR (R8, R9) -----------------------------
    def match(self, vid, src=0):
        """Lowest-index LR holding vid in state active or active+pending.
        GICv2: for a vSGI (vid < 16, HW = 0) the CPUID must equal the
        writer's src. GICv3: the whole vINTID field is compared (V8, V9)."""
        for n in range(self.num_lrs):
            if self.get(n, "vINTID") != vid or self.get(n, "State") not in (ACTIVE, PENDING_ACTIVE):
                continue
            if (self.layout.sgi_cpuid and vid < 16 and not self.get(n, "HW")
                    and self.get(n, "CPUID") != src):
                continue
            return n
        return None

    # -- state changes made by the hardware (only State ever changes) -----
    def acknowledge(self, n):
        """R6a, V6: pending -> active."""
        self.lr[n] = self.layout.with_state(self.lr[n], ACTIVE)

    def drop(self, n):
        """V16: an acknowledged vINTID 1020-1023 leaves its LR invalid."""
        self.lr[n] = self.layout.with_state(self.lr[n], INVALID)

    def deactivate(self, n):
        """R10, V10: 10 -> 00, 11 -> 01. Returns the pINTID to forward to the
        Distributor for an HW = 1 LR, else None. A pINTID that is not a PPI or
        SPI (0-15, 1020 and up: UNPREDICTABLE) is not forwarded (open point
        11, v3 open point 13)."""
        state = self.get(n, "State")
        self.lr[n] = self.layout.with_state(self.lr[n], PENDING if state == PENDING_ACTIVE else INVALID)
        if self.get(n, "HW"):
            pintid = self.get(n, "pINTID")
            if 16 <= pintid < 1020:
                return pintid
        return None
