# Ref: IHI0048B 5.3 (GICH_LR<n>, GICH_EISR, GICH_ELRSR); arch 2.5, 2.6, 2.8, R5, R10
"""List-register bank: storage, ELRSR/EISR, candidate selection, vID match."""
from ...rtl.regs import (LR_FIELDS, LR_WMASK, INVALID, PENDING, ACTIVE, PENDING_ACTIVE,
                         field, with_field)


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
        contents = tuple(self.lr)
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
    def __init__(self, num_lrs):
        self.num_lrs = num_lrs
        self.reset()

    def reset(self):
        # R15: LRs reset to 0 (invalid) as on GIC-400
        self.lr = [0] * self.num_lrs
        self._contents, self._results = None, {}       # per_contents cache

    # -- hypervisor port (GICH_LR<n>) --------------------------------------
    def read(self, n):
        return self.lr[n] if n < self.num_lrs else 0        # above ListRegs: RAZ

    def write(self, n, value):
        if n < self.num_lrs:                                  # above ListRegs: WI
            self.lr[n] = value & LR_WMASK

    def state(self, n):
        return lr_get(self.lr[n], "State")

    # -- status vectors -----------------------------------------------------
    # Ref: GICH_ELRSR: State == 00 && (HW == 1 || EOI == 0)
    @per_contents
    def elrsr(self):
        return sum(1 << n for n, v in enumerate(self.lr)
                   if lr_get(v, "State") == INVALID and (lr_get(v, "HW") or not lr_get(v, "EOI")))

    # Ref: GICH_EISR: State == 00 && HW == 0 && EOI == 1
    @per_contents
    def eisr(self):
        return sum(1 << n for n, v in enumerate(self.lr)
                   if lr_get(v, "State") == INVALID and not lr_get(v, "HW") and lr_get(v, "EOI"))

    @per_contents
    def valid_count(self):
        return sum(1 for v in self.lr if lr_get(v, "State") != INVALID)

    @per_contents
    def any_pending(self):
        """Some LR in state 01 (pending only; 11 does not count, open point 5)."""
        return any(lr_get(v, "State") == PENDING for v in self.lr)

    # -- candidate selection (R5) ------------------------------------------
    @per_contents
    def best(self, enable_grp0, enable_grp1, pmr):
        """Index of the highest-priority pending LR of an enabled group with
        priority below PMR; ties go to the lowest index. None if no candidate."""
        best = None
        for n, v in enumerate(self.lr):
            if lr_get(v, "State") != PENDING:
                continue
            enabled = enable_grp1 if lr_get(v, "Grp1") else enable_grp0
            if enabled and prio(v) < pmr:
                if best is None or prio(v) < prio(self.lr[best]):
                    best = n
        return best

    # -- vID match for EOIR/AEOIR/DIR (R8, R9) -----------------------------
    def match(self, vid, src):
        """Lowest-index LR holding vid in state active or active+pending.
        For a vSGI (vid < 16, HW = 0) the CPUID must equal the writer's src."""
        for n, v in enumerate(self.lr):
            if lr_get(v, "VirtualID") != vid or lr_get(v, "State") not in (ACTIVE, PENDING_ACTIVE):
                continue
            if vid < 16 and not lr_get(v, "HW") and lr_get(v, "CPUID") != src:
                continue
            return n
        return None

    # -- state changes made by the hardware (only State ever changes) -----
    def acknowledge(self, n):
        """R6a: pending -> active."""
        self.lr[n] = with_field(self.lr[n], LR_FIELDS, "State", ACTIVE)

    def deactivate(self, n):
        """R10: 10 -> 00, 11 -> 01. Returns the pINTID to forward to the
        Distributor for an HW = 1 LR, else None. A pINTID that is not a PPI or
        SPI (0-15, 1020-1023: UNPREDICTABLE) is not forwarded."""
        v = self.lr[n]
        new = PENDING if lr_get(v, "State") == PENDING_ACTIVE else INVALID
        self.lr[n] = with_field(v, LR_FIELDS, "State", new)
        if lr_get(v, "HW"):
            pintid = lr_get(v, "PhysicalID")
            if 16 <= pintid < 1020:
                return pintid
        return None
