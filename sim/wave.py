"""GTKWave save files (.gtkw) for VCDs of the RTL, with the signals grouped the
way a person debugging a lost or doubled interrupt reads them: the register
bus, the output lines, GICH registers, GICV registers, then each list
register decoded into its fields (names from the spec, rtl/regs.py).

The groups are picked from the VCD's own declarations, so the save file lists
only signals that exist in that VCD. A GICv3 core (its Group 0 bank
`gicv__ap0` in the VCD) gets ICH and ICV groups and its LRs decoded in the
ICH_LR<n>_EL2 names (rtl/sysregs.py)."""
import math
import os
import re

__all__ = ["vcd_signals", "write_gtkw"]

HEX, DEC, BIN = "@22", "@24", "@28"          # GTKWave trace flags (right-justified)
GROUP_BEGIN, GROUP_END = "@800200", "@1000200"
# LR State as words: a GTKWave text translate file (value -> name), arch 2.8
STATE_NAMES = {0: "invalid", 1: "pending", 2: "active", 3: "pend+act"}

# (group, [(signal path relative to the core's scope, format)]); {n} = LR index.
# The blocks' ports as the top names them: <interface>__<member> (rtl/top.py
# connects the blocks through the signatures of rtl/lr_bank.py, vcpu.py, hyp.py)
GROUPS = [
    ("Register bus", [("clk", BIN), ("rst", BIN), ("bus__addr", HEX), ("bus__r_stb", BIN),
                      ("bus__w_stb", BIN), ("bus__w_strb", BIN), ("bus__w_data", HEX),
                      ("bus__ack", BIN), ("bus__ready", BIN), ("bus__r_data", HEX)]),
    ("Output lines", [("virq", BIN), ("vfiq", BIN), ("maint_irq", BIN), ("deact_valid", BIN),
                      ("deact_pintid", DEC)]),
    ("GICH registers", [(r"\gich__hcr.En", BIN), (r"\gich__hcr.UIE", BIN),
                        (r"\gich__hcr.LRENPIE", BIN), (r"\gich__hcr.NPIE", BIN),
                        (r"\gich__hcr.VGrp0EIE", BIN), (r"\gich__hcr.VGrp0DIE", BIN),
                        (r"\gich__hcr.VGrp1EIE", BIN), (r"\gich__hcr.VGrp1DIE", BIN),
                        (r"\gich__hcr.EOICount", DEC), ("gich__misr", HEX),
                        ("status__eisr", HEX), ("status__elrsr", HEX), ("gicv__apr", HEX)]),
    ("GICV registers", [(r"\gicv__ctlr.EnableGrp0", BIN), (r"\gicv__ctlr.EnableGrp1", BIN),
                        (r"\gicv__ctlr.AckCtl", BIN), (r"\gicv__ctlr.FIQEn", BIN),
                        (r"\gicv__ctlr.CBPR", BIN), (r"\gicv__ctlr.EOImode", BIN),
                        ("gicv__vmprimask", HEX), ("gicv__bpr", DEC), ("gicv__abpr", DEC),
                        ("vcpu.rpr", HEX), ("vcpu.hppir", DEC),
                        (r"\select__best.valid", BIN), (r"\select__best.idx", DEC),
                        (r"\select__best.vid", DEC)]),
]
# GICv3 (rtl/top.py arch="v3"): the same blocks, ICH_*/ICV_* names (docs/architecture-v3.md)
GROUPS_V3 = GROUPS[:2] + [
    ("ICH registers", [(r"\gich__hcr.En", BIN), (r"\gich__hcr.UIE", BIN),
                       (r"\gich__hcr.LRENPIE", BIN), (r"\gich__hcr.NPIE", BIN),
                       (r"\gich__hcr.VGrp0EIE", BIN), (r"\gich__hcr.VGrp0DIE", BIN),
                       (r"\gich__hcr.VGrp1EIE", BIN), (r"\gich__hcr.VGrp1DIE", BIN),
                       (r"\gich__hcr.TC", BIN), (r"\gich__hcr.TALL0", BIN),
                       (r"\gich__hcr.TALL1", BIN), (r"\gich__hcr.TDIR", BIN),
                       (r"\gich__hcr.EOICount", DEC), ("gich__misr", HEX),
                       ("status__eisr", HEX), ("status__elrsr", HEX),
                       ("gicv__ap0", HEX, "AP0R"), ("gicv__apr", HEX, "AP1R")]),
    ("ICV registers", [(r"\gicv__ctlr.EnableGrp0", BIN, "IGRPEN0"),
                       (r"\gicv__ctlr.EnableGrp1", BIN, "IGRPEN1"),
                       (r"\gicv__ctlr.CBPR", BIN), (r"\gicv__ctlr.EOImode", BIN),
                       ("gicv__vmprimask", HEX, "PMR"), ("gicv__bpr", DEC, "BPR0"),
                       ("gicv__abpr", DEC, "BPR1"), ("vcpu.rpr", HEX),
                       (r"\select__best.valid", BIN), (r"\select__best.idx", DEC),
                       (r"\select__best.vid", DEC), (r"\select__best.pmr_ok", BIN)]),
]
LR_ARRAY = "status__lr"                      # the LR bank's LR values, as the top names them
LR_FIELDS = [("State", "STATE"), ("VirtualID", DEC), ("Priority", HEX), ("Grp1", BIN),
             ("HW", BIN), ("EOI", BIN), ("CPUID", DEC), ("PhysicalID", DEC)]
# ICH_LR<n>_EL2: the bank's field names (rtl/lr_bank.py lr_layout), shown as the spec's
LR_FIELDS_V3 = [("State", "STATE"), ("VirtualID", DEC, "vINTID"), ("Priority", HEX),
                ("Grp1", BIN, "Group"), ("HW", BIN), ("EOI", BIN), ("PhysicalID", DEC, "pINTID")]


def vcd_signals(vcd_path):
    """{full dotted name: width} from a VCD's declarations, named as GTKWave
    names them: a variable whose name has a '.' in it (a field, lr[3].State)
    escaped with a backslash, as Amaranth's VCDs write it already (Verilator's
    do not)."""
    signals, scope = {}, []
    with open(vcd_path) as f:
        for line in f:
            tok = line.split()
            if not tok:
                continue
            if tok[0] == "$enddefinitions":
                break
            if tok[0] == "$scope":
                scope.append(tok[2])
            elif tok[0] == "$upscope":
                scope.pop()
            elif tok[0] == "$var":
                var = tok[4]
                if "." in var and not var.startswith("\\"):
                    var = "\\" + var
                signals[".".join(scope + [var])] = int(tok[2])
    return signals


def _core_scope(signals):
    """The scope that holds the core's bus ports and its registers: the
    deepest with bus__addr (Verilator also lists the ports in a scope above).
    With several CPUs (rtl/cluster.py) it is the Cluster's, each CPU's in
    the scope `cpu<n>` below it: returns (scope, [CPU scopes]) (an empty
    list for one CPU)."""
    scopes = sorted((n[: -len(".bus__addr")] for n in signals if n.endswith(".bus__addr")), key=len)
    if not scopes:
        raise ValueError("VCD has no 'bus__addr': not a trace of rtl/top.py")
    cpus = {int(m.group(1)): sc for sc in scopes if (m := re.search(r"\.cpu(\d+)$", sc))}
    if cpus:
        top = cpus[0].rsplit(".", 1)[0]
        return top, [cpus[n] for n in sorted(cpus)]
    return scopes[-1], []


def _find(signals, top, rel):
    """The full name of a signal in the core's scope, or None if absent."""
    name = f"{top}.{rel}"
    return name if name in signals else None


def _ref(name, width):
    return name if width == 1 else f"{name}[{width - 1}:0]"


def _alias(rel):
    """Display name with spec names, no Amaranth escapes and no interface
    prefix: \\status__lr[3].State -> LR3_State, \\gich__hcr.En -> HCR_En,
    gich__misr -> misr, vcpu.rpr -> rpr."""
    rel = re.sub(r"^(?:status|select|gicv|gich|control|lr_write)__", "", rel.lstrip("\\"))
    rel = re.sub(r"^lr\[(\d+)\]", r"LR\1", rel)
    head, dot, tail = rel.partition(".")
    if not dot:
        return rel
    if head in ("hcr", "ctlr"):                 # GTKWave shows only what follows a '.'
        return f"{head.upper()}_{tail}"
    if head.startswith("LR") or head == "best":
        return f"{head}_{tail}"
    return tail


def _end_time(vcd_path):
    """Last timestamp of a VCD (read from its tail)."""
    with open(vcd_path, "rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 65536))
        stamps = re.findall(rb"^#(\d+)", f.read(), re.M)
    return int(stamps[-1]) if stamps else 0


def write_gtkw(vcd_path, gtkw_path=None, num_lrs=None, num_cpus=None):
    """Write a .gtkw for vcd_path (default: beside it). Returns its path.
    Several CPUs (found in the VCD; `num_cpus` is accepted for symmetry):
    the bus and the lines of the whole, then each CPU's groups, named
    "CPU<n> ..."."""
    signals = vcd_signals(vcd_path)
    top, cpu_scopes = _core_scope(signals)
    gtkw_path = gtkw_path or os.path.splitext(vcd_path)[0] + ".gtkw"
    states = os.path.splitext(gtkw_path)[0] + ".state.txt"
    inner = cpu_scopes[0] if cpu_scopes else top          # a scope with the LRs
    if num_lrs is None:
        num_lrs = len({m.group(1) for n in signals
                       if (m := re.fullmatch(re.escape(inner) + rf"\.\\?{LR_ARRAY}\[(\d+)\]", n))})
    v3 = _find(signals, inner, "gicv__ap0") is not None
    base, lr_fields = (GROUPS_V3, LR_FIELDS_V3) if v3 else (GROUPS, LR_FIELDS)
    per_cpu = list(base[2:])
    for n in range(num_lrs):
        per_cpu.append((f"{'ICH_' if v3 else ''}LR{n}",
                        [(rf"\{LR_ARRAY}[{n}].{f}", *rest) for f, *rest in lr_fields]))
    if not cpu_scopes:
        groups = [(top, g, members) for g, members in base[:2] + per_cpu]
    else:
        bus, lines = GROUPS[:2]
        groups = [(top, bus[0], [("bus__cpu", DEC)] + bus[1]),
                  (top, lines[0], lines[1] + [("deact_cpu", DEC)])]
        groups += [(sc, f"CPU{n} {g}", members) for n, sc in enumerate(cpu_scopes)
                   for g, members in per_cpu]

    # zoom: the whole run in the wave pane of a 1600-pixel window (GTKWave's
    # zoom is log2; at this size a window spans about 5.4 * 2**-zoom time units)
    zoom = -math.log2(max(_end_time(vcd_path), 5) / 5)
    out = [f'[dumpfile] "{os.path.abspath(vcd_path)}"',
           f'[savefile] "{os.path.abspath(gtkw_path)}"',
           "[timestart] 0", "[size] 1600 1000", "[signals_width] 220", "[sst_width] 200",
           f"*{zoom:.6f} 0 -1", f"[treeopen] {top}."]
    for scope, group, members in groups:
        lines = []
        for rel, fmt, *shown in members:
            name = _find(signals, scope, rel)
            if name is None:
                continue
            if fmt == "STATE":
                lines += [f"^1 {os.path.abspath(states)}", "@2022"]
            else:
                lines.append(fmt)
            alias = _alias(rel)
            if shown:                    # the spec's name for it (GICv3); an LR's field: LR<n>_name
                alias = f"{alias.split('_')[0]}_{shown[0]}" if alias.startswith("LR") else shown[0]
            lines.append(f"+{{{alias}}} " + _ref(name, signals[name]))
        if lines:
            out += [GROUP_BEGIN, f"-{group}", *lines, GROUP_END, f"-{group}"]
    os.makedirs(os.path.dirname(os.path.abspath(gtkw_path)), exist_ok=True)
    with open(states, "w") as f:
        f.writelines(f"{v:x} {name}\n" for v, name in STATE_NAMES.items())
    with open(gtkw_path, "w") as f:
        f.write("\n".join(out) + "\n")
    return gtkw_path
