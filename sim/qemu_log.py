# Ref: QEMU 7.2 hw/intc/arm_gic.c, arm_gicv3_cpuif.c and trace-events; docs/traces.md
"""`vgic import qemu`: a QEMU GICv2 or GICv3 trace log into a replay trace.

QEMU's `log` trace backend writes one line per event, `NAME message`,
optionally prefixed `PID@SECONDS.MICROS:`. The events tell the GIC: a log of
the GICv2 events (gic_*) or of the GICv3 ones (gicv3_*), never both. Every
access to the virtual interface becomes one transaction, in log order; the
physical GIC's accesses are left out and counted.

GICv2: every GICH access (gic_hyp_*) and GICV access (gic_cpu_* of a `vcpu`).
QEMU recomputes the virtual lines only inside some accesses, as zero or more
gic_update_set_irq virq/vfiq lines (a line raised; lowering is not traced)
closed by one gic_update_maintenance_irq. A write is traced before it acts,
so a recomputation after its line belongs to it; a GICV read is traced after
it acts, so the recomputation between a `vcpu` gic_acknowledge_irq and the
read is the IAR's.

GICv3: every ICH_*_EL2 access (gicv3_ich_*) and ICV_*_EL1 access
(gicv3_icv_*), named architecturally (REGS3). Both reads and writes are
traced before QEMU recomputes, so a recomputation right after an access's
line is that access's, if the access is one after which QEMU recomputes
(REGS3: all three lines, gicv3_cpuif_virt_update + _set_irqs "FIQ %d IRQ %d"
+ _set_maint_irq; or vIRQ/vFIQ only, without the maintenance line). QEMU also
recomputes vIRQ/vFIQ on every exception level change, which belongs to no
access: that is why the importer must know which accesses recompute, and
how, instead of taking whatever follows.

Those transactions get `virq`, `vfiq` (and `maint` where QEMU recomputed
it); the others get none, since QEMU did not look at the lines then. A GICv3
write's value is the one written, before QEMU masks it; a read's is the one
returned, after its side effects (an ICV_IAR read has activated the LR).

Several CPUs (GICv3 only: QEMU's GICv2 gic_hyp_* events do not name the
CPU): each transaction of CPU n > 0 gets `"cpu": n`, n being the CPU's
affinity. QEMU makes an access and its recomputation under its global lock,
so nothing of another CPU comes between them: an event of another CPU ends
the access held back.

One pass, line by line, at most one transaction held back (an access waiting
for its recomputation): memory does not grow with the log.
"""
import json
import os
import re
import sys
import zlib
from collections import Counter
from dataclasses import dataclass, field

from ..rtl import regs
from .files import AtomicOutput, FileError, check_output, open_text
from .progress import StatusLine
from .trace import DEFAULT_BASES

__all__ = ["LogError", "Counts", "Importer", "scenario_name", "run"]

_X8 = r"0x([0-9a-fA-F]{8})"                  # %08x of a 32-bit value: always 8 digits
_IFACE = r"(cpu|vcpu) (\d+)"

# Message formats of the events read, as in QEMU 7.2 hw/intc/trace-events.
EVENTS = {
    "gic_hyp_read": re.compile(rf"hyp read at {_X8}: {_X8}"),
    "gic_hyp_write": re.compile(rf"hyp write at {_X8}: {_X8}"),
    "gic_cpu_read": re.compile(rf"{_IFACE} iface read at {_X8}: {_X8}"),
    "gic_cpu_write": re.compile(rf"{_IFACE} iface write at {_X8} {_X8}"),
    "gic_dist_read": re.compile(rf"dist read at {_X8} size (\d+): {_X8}"),
    "gic_dist_write": re.compile(rf"dist write at {_X8} size (\d+): {_X8}"),
    "gic_acknowledge_irq": re.compile(rf"{_IFACE} acknowledged irq (\d+)"),
    "gic_update_set_irq": re.compile(r"cpu\[(\d+)\]: (irq|fiq|virq|vfiq) = ([01])"),
    "gic_update_maintenance_irq": re.compile(r"cpu (\d+): maintenance = ([01])"),
    "gic_lr_entry": re.compile(rf"cpu (\d+): new lr entry (\d+): {_X8}"),
}

# -- GICv3 (hw/intc/arm_gicv3_cpuif.c, _dist.c, _redist.c) ----------------------------
_X64 = r"0x([0-9a-fA-F]{1,16})"             # 0x%" PRIx64: no leading zeros, 1..16 digits
_AFF = r"0x([0-9a-fA-F]{1,8})"              # 0x%x of a CPU's affinity (its `cpu`)
_INT = r"(-?\d+)"
FULL, IRQFIQ = "full", "vIRQ/vFIQ"          # what QEMU recomputes after an access

# The virtual interface's accesses: event -> (the register as QEMU's message
# names it, its architectural name, filled from the message's numbers, and
# what QEMU 7.2 recomputes right after the access: FULL = virt_update,
# virt_set_irqs, virt_set_maint_irq; IRQFIQ = the first two; None = nothing).
# Every ICH/ICV read but the IAR's recomputes nothing. QEMU skips the
# recomputation of an EOIR of a special INTID or with no active priority, a
# DIR with EOImode = 0 (seen: no maintenance line) and a BPR1 write while
# ICH_VMCR_EL2.VCBPR = 1 (the importer follows VCBPR).
REGS3 = {
    "gicv3_ich_ap_read": (r"ICH_AP([01])R([0-3])", "ICH_AP{}R{}_EL2", None),
    "gicv3_ich_ap_write": (r"ICH_AP([01])R([0-3])", "ICH_AP{}R{}_EL2", IRQFIQ),
    "gicv3_ich_hcr_read": ("ICH_HCR_EL2", "ICH_HCR_EL2", None),
    "gicv3_ich_hcr_write": ("ICH_HCR_EL2", "ICH_HCR_EL2", FULL),
    "gicv3_ich_vmcr_read": ("ICH_VMCR_EL2", "ICH_VMCR_EL2", None),
    "gicv3_ich_vmcr_write": ("ICH_VMCR_EL2", "ICH_VMCR_EL2", FULL),
    "gicv3_ich_lr_read": (r"ICH_LR(1[0-5]|[0-9])_EL2", "ICH_LR{}_EL2", None),
    "gicv3_ich_lr_write": (r"ICH_LR(1[0-5]|[0-9])_EL2", "ICH_LR{}_EL2", FULL),
    "gicv3_ich_vtr_read": ("ICH_VTR", "ICH_VTR_EL2", None),
    "gicv3_ich_misr_read": ("ICH_MISR", "ICH_MISR_EL2", None),
    "gicv3_ich_eisr_read": ("ICH_EISR", "ICH_EISR_EL2", None),
    "gicv3_ich_elrsr_read": ("ICH_ELRSR", "ICH_ELRSR_EL2", None),
    "gicv3_icv_iar_read": (r"ICV_IAR([01])", "ICV_IAR{}_EL1", FULL),
    "gicv3_icv_eoir_write": (r"ICV_EOIR([01])", "ICV_EOIR{}_EL1", FULL),
    "gicv3_icv_dir_write": ("ICV_DIR", "ICV_DIR_EL1", FULL),
    "gicv3_icv_hppir_read": (r"ICV_HPPIR([01])", "ICV_HPPIR{}_EL1", None),
    "gicv3_icv_rpr_read": ("ICV_RPR", "ICV_RPR_EL1", None),
    "gicv3_icv_igrpen_read": (r"ICV_IGRPEN([01])", "ICV_IGRPEN{}_EL1", None),
    "gicv3_icv_igrpen_write": (r"ICV_IGRPEN([01])", "ICV_IGRPEN{}_EL1", FULL),
    "gicv3_icv_pmr_read": ("ICV_PMR", "ICV_PMR_EL1", None),
    "gicv3_icv_pmr_write": ("ICV_PMR", "ICV_PMR_EL1", IRQFIQ),
    "gicv3_icv_bpr_read": (r"ICV_BPR([01])", "ICV_BPR{}_EL1", None),
    "gicv3_icv_bpr_write": (r"ICV_BPR([01])", "ICV_BPR{}_EL1", IRQFIQ),
    "gicv3_icv_ap_read": (r"ICV_AP([01])R([0-3])", "ICV_AP{}R{}_EL1", None),
    "gicv3_icv_ap_write": (r"ICV_AP([01])R([0-3])", "ICV_AP{}R{}_EL1", IRQFIQ),
    "gicv3_icv_ctlr_read": ("ICV_CTLR", "ICV_CTLR_EL1", None),
    "gicv3_icv_ctlr_write": ("ICV_CTLR", "ICV_CTLR_EL1", IRQFIQ),
}
# An AArch32 hypervisor's halves of a list register: read, but refused.
AARCH32_LR = {"gicv3_ich_lr32_read": r"ICH_LR(\d+)", "gicv3_ich_lr32_write": r"ICH_LR(\d+)",
              "gicv3_ich_lrc_read": r"ICH_LRC(\d+)", "gicv3_ich_lrc_write": r"ICH_LRC(\d+)"}
# Newer QEMUs (9.1) with FEAT_GICv3_NMI: a guest's NMI acknowledge, read but refused.
NMI = {"gicv3_icv_nmiar1_read": "ICV_NMIAR1"}
# The physical CPU interface's accesses (left out): event -> the register in the message.
ICC = {
    "gicv3_icc_pmr_read": "ICC_PMR", "gicv3_icc_pmr_write": "ICC_PMR",
    "gicv3_icc_bpr_read": "ICC_BPR[01]", "gicv3_icc_bpr_write": "ICC_BPR[01]",
    "gicv3_icc_ap_read": "ICC_AP[01]R[0-3]", "gicv3_icc_ap_write": "ICC_AP[01]R[0-3]",
    "gicv3_icc_igrpen_read": "ICC_IGRPEN[01]", "gicv3_icc_igrpen_write": "ICC_IGRPEN[01]",
    "gicv3_icc_igrpen1_el3_read": "ICC_IGRPEN1_EL3",
    "gicv3_icc_igrpen1_el3_write": "ICC_IGRPEN1_EL3",
    "gicv3_icc_ctlr_read": "ICC_CTLR", "gicv3_icc_ctlr_write": "ICC_CTLR",
    "gicv3_icc_ctlr_el3_read": "ICC_CTLR_EL3", "gicv3_icc_ctlr_el3_write": "ICC_CTLR_EL3",
    "gicv3_icc_iar0_read": "ICC_IAR0", "gicv3_icc_iar1_read": "ICC_IAR1",
    "gicv3_icc_eoir_write": "ICC_EOIR[01]", "gicv3_icc_dir_write": "ICC_DIR",
    "gicv3_icc_hppir0_read": "ICC_HPPIR0", "gicv3_icc_hppir1_read": "ICC_HPPIR1",
    "gicv3_icc_rpr_read": "ICC_RPR",
    "gicv3_icc_nmiar1_read": "ICC_NMIAR1",                # QEMU 9.1, FEAT_GICv3_NMI
}
_MEM = rf"offset {_X64} data {_X64} size (\d+) secure ([01])"
_BAD = rf"offset {_X64} size (\d+) secure ([01]): error"
# Message formats of the GICv3 events read, as in QEMU 7.2 hw/intc/trace-events.
EVENTS3 = {
    **{name: re.compile(rf"GICv3 {reg} {name.rsplit('_', 1)[1]} cpu {_AFF} value {_X64}")
       for name, (reg, _, _) in REGS3.items()},
    **{name: re.compile(rf"GICv3 {reg} {name.rsplit('_', 1)[1]} cpu {_AFF} value {_X64}")
       for name, reg in {**AARCH32_LR, **NMI}.items()},
    **{name: re.compile(rf"GICv3 ({reg}) {name.rsplit('_', 1)[1]} cpu {_AFF} value {_X64}")
       for name, reg in ICC.items()},
    "gicv3_cpuif_virt_update": re.compile(rf"GICv3 CPU i/f {_AFF} virt HPPI update LR index "
                                          rf"{_INT} HPPVLPI {_INT} grp {_INT} prio {_INT}"),
    "gicv3_cpuif_virt_set_irqs": re.compile(rf"GICv3 CPU i/f {_AFF} virt HPPI update: setting "
                                            r"FIQ ([01]) IRQ ([01])"),
    "gicv3_cpuif_virt_set_maint_irq": re.compile(rf"GICv3 CPU i/f {_AFF} virt HPPI update: "
                                                 r"setting maintenance-irq ([01])"),
    "gicv3_cpuif_update": re.compile(rf"GICv3 CPU i/f {_AFF} HPPI update: irq {_INT} group "
                                     rf"{_INT} prio {_INT}"),
    "gicv3_cpuif_set_irqs": re.compile(rf"GICv3 CPU i/f {_AFF} HPPI update: setting FIQ ([01]) "
                                       r"IRQ ([01])"),
    "gicv3_icc_generate_sgi": re.compile(rf"GICv3 CPU i/f {_AFF} generating SGI {_INT} IRM "
                                         rf"{_INT} target affinity 0x([0-9a-fA-F]+)xx "
                                         r"targetlist 0x([0-9a-fA-F]+)"),
    "gicv3_dist_read": re.compile(rf"GICv3 distributor read: {_MEM}"),
    "gicv3_dist_badread": re.compile(rf"GICv3 distributor read: {_BAD}"),
    "gicv3_dist_write": re.compile(rf"GICv3 distributor write: {_MEM}"),
    "gicv3_dist_badwrite": re.compile(rf"GICv3 distributor write: {_MEM}: error"),
    "gicv3_dist_set_irq": re.compile(rf"GICv3 distributor interrupt {_INT} level changed to "
                                     rf"{_INT}"),
    "gicv3_redist_read": re.compile(rf"GICv3 redistributor {_AFF} read: {_MEM}"),
    "gicv3_redist_badread": re.compile(rf"GICv3 redistributor {_AFF} read: {_BAD}"),
    "gicv3_redist_write": re.compile(rf"GICv3 redistributor {_AFF} write: {_MEM}"),
    "gicv3_redist_badwrite": re.compile(rf"GICv3 redistributor {_AFF} write: {_MEM}: error"),
    "gicv3_redist_set_irq": re.compile(rf"GICv3 redistributor {_AFF} interrupt {_INT} level "
                                       rf"changed to {_INT}"),
    "gicv3_redist_send_sgi": re.compile(rf"GICv3 redistributor {_AFF} pending SGI {_INT}"),
}
_PHYSICAL3 = {"gicv3_dist_read": "GICD read", "gicv3_dist_badread": "GICD read",
              "gicv3_dist_write": "GICD write", "gicv3_dist_badwrite": "GICD write",
              "gicv3_redist_read": "GICR read", "gicv3_redist_badread": "GICR read",
              "gicv3_redist_write": "GICR write", "gicv3_redist_badwrite": "GICR write"}
_VMCR_VCBPR, _CTLR_CBPR = 1 << 4, 1 << 0

# [PID@SECONDS.MICROS:]NAME[ message]
_LINE = re.compile(r"(?:\d+@\d+\.\d+:)?([A-Za-z_]\w*)(?: (.*))?")

PROGRESS_SECONDS = 2.0


class LogError(Exception):
    """A log the importer cannot use: str() is 'LOG:LINE: what is wrong'."""

    def __init__(self, path, lineno, message):
        super().__init__(f"{path}:{lineno}: {message}" if lineno else f"{path}: {message}")


@dataclass
class Counts:
    lines: int = 0
    written: int = 0
    with_levels: int = 0                        # transactions carrying virq/vfiq/maint
    physical: Counter = field(default_factory=Counter)     # "GICD read", "GICC write", ...
    events: Counter = field(default_factory=Counter)       # other events, by name
    skipped: Counter = field(default_factory=Counter)      # "unknown", "blank"
    stray: int = 0                              # recomputations that belong to no access
    gic: str = None                             # "GICv2" or "GICv3", from the first GIC event
    cpus: set = field(default_factory=set)      # the CPUs of the transactions written
    el_changes: int = 0                         # GICv3: vIRQ/vFIQ recomputations of no access

    @property
    def gic_events(self):
        return self.written + sum(self.physical.values()) + sum(self.events.values())


def scenario_name(path):
    """The log's file name without .gz and .log."""
    name = os.path.basename(path)
    for ext in (".gz", ".log"):
        if name.endswith(ext) and len(name) > len(ext):
            name = name[: -len(ext)]
    return name


class Importer:
    """Turns log lines into transaction dicts: `feed` one line, get back the
    transactions it completes; `finish` at the end of the log."""

    def __init__(self, path, scenario, skip_unknown=False):
        self.path, self.scenario, self.skip_unknown = path, scenario, skip_unknown
        self.counts = Counts()
        self.cpu = None                 # GICv2: the one CPU seen; GICv3: the last event's
        self.pending = None             # a GICH/GICV write whose recomputation may follow
        self.raised = {}                # virq/vfiq raised in the recomputation under way
        self.acked = False              # a vcpu acknowledge seen; its IAR read not yet
        self.iar_levels = None          # the recomputation inside that IAR read
        self.gic_line = None            # the line of the first GIC event
        # GICv3
        self.expect = None              # what the held-back access awaits: FULL, IRQFIQ, "maint"
        self.recomputing = None         # a recomputation under way: "update", or after its
                                        # set_irqs "held" (lines given to the held-back
                                        # access), "full?" (awaiting the maintenance line)
                                        # or "free" (of no access, so far)
        self.vcbpr = {}                 # per CPU: ICH_VMCR_EL2.VCBPR as last written or read

    def _error(self, lineno, message):
        return LogError(self.path, lineno, message)

    def feed(self, lineno, text):
        self.counts.lines = lineno
        text = text.rstrip("\r\n")
        if not text.strip():
            self.counts.skipped["blank"] += 1
            return []
        m = _LINE.fullmatch(text)
        name, message = (m.group(1), m.group(2)) if m else (None, None)
        formats = EVENTS if name in EVENTS else EVENTS3 if name in EVENTS3 else None
        if formats is not None:
            self._check_gic(lineno, name, "GICv2" if formats is EVENTS else "GICv3")
            if message is None:
                raise self._error(lineno, f"truncated line: {name} without its message")
            args = formats[name].fullmatch(message)
            if args is None:
                raise self._error(lineno, f"{name}: cannot read its message {message!r} "
                                          "(truncated, or not QEMU 7.2's format)")
            if formats is EVENTS3:
                return self._event3(lineno, name, args.groups())
            return self._event(lineno, name, args.groups())
        if name and message is None and any(e.startswith(name) for e in (*EVENTS, *EVENTS3)):
            raise self._error(lineno, f"truncated line: {text!r}")
        if self.skip_unknown:
            self.counts.skipped["unknown"] += 1
            return []
        what = f"unknown event {name!r}" if name else f"not a QEMU trace event line: {text[:60]!r}"
        raise self._error(lineno, f"{what} (--skip-unknown skips lines of other events)")

    def _check_gic(self, lineno, name, gic):
        """A log is of one GIC: the first GIC event tells which."""
        c = self.counts
        if c.gic is None:
            c.gic, self.gic_line = gic, lineno
        elif gic != c.gic:
            raise self._error(lineno, f"{name}: a {gic} event in a {c.gic} log (its first "
                                      f"{c.gic} event is on line {self.gic_line}): a log "
                                      "mixing QEMU's GICv2 and GICv3 events is not one run")

    def _check_cpu(self, lineno, cpu):
        cpu = int(cpu)
        if self.cpu is None:
            self.cpu = cpu
        elif cpu != self.cpu:
            raise self._error(lineno, f"CPU {cpu} after CPU {self.cpu}: a GICv2 log of more "
                                      "than one CPU cannot be split by CPU (QEMU's gic_hyp_* "
                                      "events carry no CPU number); record GICv2 runs with "
                                      "-smp 1, or use gic-version=3, whose events name the CPU")

    def _switch3(self, lineno, aff):
        """An event of the CPU whose affinity (0x%x) is `aff`. QEMU runs each
        ICH/ICV access and its recomputation of the lines under its global
        lock, so an event of another CPU ends the held-back access and any
        recomputation under way: returns what that completes. CPU n is the
        affinity n (QEMU's virt machine numbers its first 16 CPUs so), 0..7."""
        cpu = int(aff, 16)
        if cpu >= regs.MAX_CPUS:
            raise self._error(lineno, f"CPU affinity {cpu:#x}: the importer takes affinity n "
                                      f"for CPU n, 0x0 to {regs.MAX_CPUS - 1:#x} (at most "
                                      f"{regs.MAX_CPUS} CPU interfaces)")
        if cpu == self.cpu:
            return []
        done = [] if self.cpu is None else self._end_all()
        self.cpu = cpu
        return done

    def _event(self, lineno, name, a):
        c = self.counts
        match name:
            case "gic_hyp_read" | "gic_hyp_write":
                op = "read" if name == "gic_hyp_read" else "write"
                return self._access(lineno, op, "GICH", int(a[0], 16), int(a[1], 16))
            case "gic_cpu_read" | "gic_cpu_write":
                self._check_cpu(lineno, a[1])
                op = "read" if name == "gic_cpu_read" else "write"
                if a[0] == "vcpu":
                    return self._access(lineno, op, "GICV", int(a[2], 16), int(a[3], 16))
                c.physical[f"GICC {op}"] += 1
                return self._end_access()
            case "gic_dist_read" | "gic_dist_write":
                c.physical["GICD read" if name == "gic_dist_read" else "GICD write"] += 1
                return self._end_access()
            case "gic_acknowledge_irq":
                # traced at the start of an IAR read, before anything it does
                self._check_cpu(lineno, a[1])
                c.events[name] += 1
                done = self._end_access()
                self.acked = a[0] == "vcpu"
                return done
            case "gic_update_set_irq":
                self._check_cpu(lineno, a[0])
                c.events[name] += 1
                if a[1] in ("virq", "vfiq"):
                    self.raised[a[1]] = int(a[2])
                return []
            case "gic_update_maintenance_irq":
                # the last event of a recomputation of the virtual lines
                self._check_cpu(lineno, a[0])
                c.events[name] += 1
                levels = {"virq": self.raised.get("virq", 0), "vfiq": self.raised.get("vfiq", 0),
                          "maint": int(a[1])}
                self.raised = {}
                if self.pending is not None:
                    self.pending[1].update(levels)        # a second one (GICV_DIR) wins
                elif self.acked:
                    self.iar_levels = levels
                else:
                    c.stray += 1
                return []
            case "gic_lr_entry":
                self._check_cpu(lineno, a[0])
                c.events[name] += 1
                return []
        raise AssertionError(name)

    def _event3(self, lineno, name, a):
        c = self.counts
        if name in REGS3:
            done = self._switch3(lineno, a[-2])
            _, reg, kind = REGS3[name]
            return done + self._access3(name.rsplit("_", 1)[1], reg.format(*a[:-2]),
                                        int(a[-1], 16), kind)
        if name in AARCH32_LR:
            raise self._error(lineno, f"{name}: an AArch32 hypervisor's access to half of a "
                                      "list register (ICH_LR<n>/ICH_LRC<n>): not supported, "
                                      "only AArch64's ICH_LR<n>_EL2")
        if name in NMI:
            raise self._error(lineno, f"{name}: a guest's ICV_NMIAR1_EL1 read (FEAT_GICv3_NMI, "
                                      "QEMU 9.1 and later): non-maskable interrupts are not "
                                      "modelled; record with a CPU without FEAT_NMI")
        done = []
        if name in ICC or name in _PHYSICAL3:
            if name in ICC:
                done = self._switch3(lineno, a[1])
                c.physical[f"ICC {name.rsplit('_', 1)[1]}"] += 1
            else:                       # (a GICR event's CPU is the redistributor's, not the
                c.physical[_PHYSICAL3[name]] += 1       # requester's)
            return done + self._end_all()
        c.events[name] += 1
        match name:
            case "gicv3_cpuif_virt_update":
                done = self._switch3(lineno, a[0])
                self._end_recomputation()
                self.recomputing = "update"
            case "gicv3_cpuif_virt_set_irqs":
                done = self._switch3(lineno, a[0])
                if self.recomputing != "update":
                    self._end_recomputation()
                    c.stray += 1                            # not after a virt_update
                levels = {"virq": int(a[2]), "vfiq": int(a[1])}
                if self.expect == IRQFIQ:
                    self.pending[1].update(levels)
                    self.expect, self.recomputing = None, "held"
                elif self.expect == FULL:
                    self.pending[1].update(levels)          # kept if the maintenance line follows
                    self.expect, self.recomputing = "maint", "full?"
                else:
                    self.recomputing = "free"
            case "gicv3_cpuif_virt_set_maint_irq":
                done = self._switch3(lineno, a[0])
                if self.recomputing == "full?":
                    self.pending[1]["maint"] = int(a[1])
                    self.expect = None
                else:
                    c.stray += 1                            # a whole recomputation of no access
                self.recomputing = None
            case "gicv3_cpuif_update" | "gicv3_cpuif_set_irqs" | "gicv3_icc_generate_sgi":
                done = self._switch3(lineno, a[0])          # the physical lines, an SGI sent
            case "gicv3_dist_set_irq" | "gicv3_redist_set_irq" | "gicv3_redist_send_sgi":
                pass                                        # the GIC's inputs
            case _:
                raise AssertionError(name)
        return done

    def _end_recomputation(self):
        """Something other than a maintenance line follows: a recomputation
        under way was of vIRQ/vFIQ only."""
        state, self.recomputing = self.recomputing, None
        if state == "update":
            self.counts.stray += 1                          # a virt_update without set_irqs
        elif state in ("free", "full?"):
            # an exception level change's; after an access that recomputes all
            # three lines it means that the access recomputed nothing (QEMU
            # returned early), so its levels are not known
            self.counts.el_changes += 1
            if state == "full?":
                self.pending[1].clear()
                self.expect = None

    def _access3(self, op, reg, value, kind):
        done = self._end_all()
        if reg == "ICV_BPR1_EL1" and op == "write" and self.vcbpr.get(self.cpu):
            kind = None                                     # ignored by QEMU, no recomputation
        elif reg == "ICH_VMCR_EL2":
            self.vcbpr[self.cpu] = bool(value & _VMCR_VCBPR)
        elif reg == "ICV_CTLR_EL1":
            self.vcbpr[self.cpu] = bool(value & _CTLR_CBPR)
        t = {"scenario": self.scenario, "seq": self.counts.written, "op": op,
             **({"cpu": self.cpu} if self.cpu else {}), "reg": reg,
             "value": value, "hex": f"{value:#018x}"}
        if kind is None:
            done.append(self._emit(t, {}))
        else:
            self.pending, self.expect = (t, {}), kind
        return done

    def _end_all(self):
        """Another access (GICv3: or CPU) begins, or the log ends: any
        recomputation under way is over, the held-back access complete."""
        self._end_recomputation()
        return self._end_access()

    def _end_access(self):
        """Another access begins: the held-back write is complete."""
        done = [] if self.pending is None else [self._emit(*self.pending)]
        self.pending, self.expect = None, None
        self.acked, self.iar_levels, self.raised = False, None, {}
        return done

    def _access(self, lineno, op, frame, offset, value):
        if offset >= regs.FRAME_SIZE[frame] or offset % 4:
            raise self._error(lineno, f"{frame} offset {offset:#x} is not a word in the "
                                      f"{regs.FRAME_SIZE[frame]:#x}-byte frame")
        levels = self.iar_levels if (op, frame, offset) == ("read", "GICV", 0x0C) else None
        if levels is None and self.iar_levels is not None:
            self.counts.stray += 1
        done = self._end_access()
        t = self._transaction(op, frame, offset, value)
        if op == "write":
            self.pending = (t, {})
        else:
            done.append(self._emit(t, levels or {}))
        return done

    def _transaction(self, op, frame, offset, value):
        t = {"scenario": self.scenario, "seq": self.counts.written, "op": op}
        reg = regs.decode(frame, offset)
        named = reg is not None and reg.access != "RES"
        if named:
            t["reg"] = reg.full_name
        t["value"], t["hex"] = value, f"{value:#010x}"
        if not named:
            t.update(frame=frame, offset=f"{offset:#05x}",
                     addr=f"{DEFAULT_BASES[frame] + offset:#x}")
        return t

    def _emit(self, t, levels):
        t.update(levels)
        self.counts.cpus.add(t.get("cpu", 0))
        self.counts.written += 1
        self.counts.with_levels += bool(levels)
        return t

    def finish(self):
        """The transactions still held back. Raises LogError for a log
        without GIC events or without accesses to the virtual interface."""
        done = self._end_all()
        c = self.counts
        if c.gic_events == 0:
            what = "is empty" if c.lines == 0 else f"has no GIC trace events in {c.lines} line(s)"
            raise LogError(self.path, 0, f"{what}; record with -trace events=FILE -D LOG, FILE "
                                         "listing the GICv2 gic_* or the GICv3 gicv3_* events "
                                         "(docs/traces.md)")
        if c.written == 0:
            which = "ICH or ICV" if c.gic == "GICv3" else "GICH or GICV"
            raise LogError(self.path, 0, f"no {which} access in the log (only the physical "
                                         "GIC's): nothing to replay; was a hypervisor running "
                                         "with virtualization=on?")
        return done


def numbered(log, path):
    """(line number, text) of each line; a read error as a LogError."""
    lineno = 0
    try:
        for lineno, text in enumerate(log, 1):
            yield lineno, text
    except UnicodeDecodeError:
        raise LogError(path, lineno + 1, "not UTF-8 text") from None
    except (EOFError, zlib.error, OSError) as e:       # a gzip file cut short or damaged
        raise LogError(path, lineno + 1, f"cannot read on: {e}") from None


def convert(log, out, importer, progress=None):
    """Feed the log's lines to the importer and write each transaction as one
    JSON line to `out`, after a title line."""
    out.write(json.dumps({"scenario": importer.scenario,
                          "title": f"imported from {os.path.basename(importer.path)} "
                                   "by vgic import qemu"}) + "\n")
    for lineno, text in numbered(log, importer.path):
        for t in importer.feed(lineno, text):
            out.write(json.dumps(t) + "\n")
        if progress is not None and lineno % 4096 == 0 and progress.due():
            c = importer.counts
            progress.show(f"vgic import qemu: {c.lines:,} lines read, {c.written:,} "
                          f"transactions written, {progress.elapsed:.0f}s")
    for t in importer.finish():
        out.write(json.dumps(t) + "\n")
    return importer.counts


def summary(counts, output):
    """The end-of-run report (stderr)."""
    def listing(counter):
        return ", ".join(f"{n:,} {k}" for k, n in sorted(counter.items())) or "none"
    v3 = counts.gic == "GICv3"
    accesses = "ICH/ICV" if v3 else "GICH/GICV"
    text = [f"vgic import qemu: {'a GICv3 log: ' if v3 else ''}{counts.written:,} {accesses} "
            f"transactions written to {'standard output' if output in (None, '-') else output} "
            f"({counts.with_levels:,} with line levels), from {counts.lines:,} lines",
            f"  physical accesses left out: {sum(counts.physical.values()):,} "
            f"({listing(counts.physical)})",
            f"  other events: {listing(counts.events)}",
            f"  lines skipped: {sum(counts.skipped.values()):,} ({listing(counts.skipped)})"]
    if max(counts.cpus, default=0) > 0:
        text.insert(1, f"  CPUs {', '.join(str(n) for n in sorted(counts.cpus))} (each "
                       f"transaction's `cpu`): replay with --cpus {max(counts.cpus) + 1}")
    if v3:
        text.insert(-1, f"  vIRQ/vFIQ recomputations of no access (exception level changes): "
                       f"{counts.el_changes:,}")
        if counts.written and not counts.events["gicv3_cpuif_virt_set_irqs"]:
            text.append("  note: no gicv3_cpuif_virt_set_irqs events, so no line levels: add "
                        "gicv3_cpuif_virt_update, gicv3_cpuif_virt_set_irqs and "
                        "gicv3_cpuif_virt_set_maint_irq to the events file")
    elif counts.written and not counts.events["gic_update_maintenance_irq"]:
        text.append("  note: no gic_update_maintenance_irq events, so no line levels: add it "
                    "(and gic_update_set_irq, gic_acknowledge_irq) to the events file")
    if counts.stray:
        text.append(f"  warning: {counts.stray:,} recomputation(s) of the virtual lines belong "
                    f"to no {accesses} access (not QEMU 7.2's order of events?)")
    return "\n".join(text)


def run(args):
    """Entry point of `vgic import qemu` (options: sim/cli.py)."""
    progress = None
    try:
        with open_text(args.log) as log:
            check_output(args.output, inputs=[args.log])       # before any work
            progress = None if args.quiet else StatusLine(interval=PROGRESS_SECONDS)
            importer = Importer(args.log, scenario_name(args.log), args.skip_unknown)
            with AtomicOutput(args.output) as out:
                counts = convert(log, out, importer, progress)
                out.commit()
    except (LogError, FileError) as e:
        status, message = 2, f"vgic import qemu: error: {e}"
    except OSError as e:                                       # writing the output
        status, message = 2, f"vgic import qemu: error: {args.output}: {e.strerror or e}"
    except KeyboardInterrupt:
        status, message = 130, "vgic import qemu: interrupted; no output written"
    else:
        status, message = 0, summary(counts, args.output)
    finally:
        if progress is not None:
            progress.finish()
    print(message, file=sys.stderr)
    return status
