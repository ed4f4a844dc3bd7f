# Ref: rtl/soc.py (bus-wrapped top), rtl/cluster.py (several CPUs), rtl/regs.py (address map)
"""`vgic verilog`: one self-contained Verilog file of the core behind a bus.

The file starts with a comment giving the parameters, the port list and the
address map (rendered from rtl/regs.py), followed by Amaranth's Verilog output
(the named top module plus its submodules, escaped names prefixed with the top
module's name, so two builds with different names can live in one design).

The top is rtl/soc.py's BusVirtualInterface: for several CPUs (num_cpus
2..8) rtl/cluster.py's Cluster behind a bridge that carries the requester's
CPU number (AWUSER/ARUSER, PAUSER, TGA). GICv3 (`arch="v3"`): the same
bridges in front of the memory-mapped layout of rtl/sysregs.py, or
(`bus="sysreg"`) rtl/sysreg_port.py's system-register port.
"""
import re
import sys
import time

from amaranth import Shape
from amaranth.lib.wiring import In

from .. import __version__
from ..rtl import regs, sysregs
from ..rtl.regbus import cpu_bits
from ..rtl.soc import BusVirtualInterface
from ..rtl.sysreg_port import SysRegVirtualInterface
from .files import AtomicOutput, FileError, check_output

__all__ = ["generate", "header", "check_module_name", "run", "CPU_PORTS"]

# Verilog-2005 / SystemVerilog keywords a module name could plausibly collide with.
_KEYWORDS = set("""
always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config
deassign default defparam design disable edge else end endcase endconfig endfunction
endgenerate endmodule endprimitive endspecify endtable endtask event for force forever
fork function generate genvar highz0 highz1 if ifnone incdir include initial inout input
instance integer join large liblist library localparam macromodule medium module nand
negedge nmos nor noshowcancelled not notif0 notif1 or output parameter pmos posedge
primitive pull0 pull1 pulldown pullup pulsestyle_onevent pulsestyle_ondetect rcmos real
realtime reg release repeat rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled
signed small specify specparam strong0 strong1 supply0 supply1 table task time tran
tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use uwire vectored wait wand
weak0 weak1 while wire wor xnor xor logic bit byte int shortint longint interface
package class program property sequence assert assume cover bind chandle clocking
""".split())

BUS_TITLES = {
    "axi4lite": "AXI4-Lite", "apb": "APB4", "wishbone": "Wishbone B4 classic",
    "wishbone-pipelined": "Wishbone B4 pipelined", "sysreg": "system-register port (GICv3)",
}

ERROR_TEXT = {
    "ignore": ("unaligned accesses and partial writes are dropped and answered",
               "OKAY (reads return 0); offsets without a register are RAZ/WI"),
    "report": ("unaligned accesses, partial writes and offsets without a register",
               "are dropped and answered with an error (SLVERR / PSLVERR / ERR)"),
}

# bus -> the bridge's port carrying the requester's CPU number (several CPUs)
CPU_PORTS = {
    "axi4lite": ("awuser", "aruser"), "apb": ("pauser",), "wishbone": ("tga",),
    "wishbone-pipelined": ("tga",),
}
_CPU_PORT_NOTES = {
    "awuser": "requester's CPU number, bits [{hi}:0], with AW (higher bits ignored)",
    "aruser": "requester's CPU number, bits [{hi}:0], with AR (higher bits ignored)",
    "pauser": "requester's CPU number (APB5 PAUSER), with PADDR",
    "tga": "requester's CPU number (address tag TGA), with ADR",
}
_CLUSTER_PORT_NOTES = {
    "virq": "virtual IRQs, bit n to CPU n (level)",
    "vfiq": "virtual FIQs, bit n to CPU n (level)",
    "maint_irq": "maintenance interrupts, bit n of CPU n (level; PPI 25 on GIC-400)",
    "deact_cpu": "CPU interface (n) of the deactivation, valid with deact_valid",
}

_PORT_NOTES = {
    "clk": "clock; every register updates on its rising edge",
    "rst": "synchronous reset, active high (invert an AXI ARESETn / APB PRESETn)",
    "virq": "virtual IRQ to the CPU (level)",
    "vfiq": "virtual FIQ to the CPU (level)",
    "maint_irq": "maintenance interrupt (level; a PPI, INTID 25 on GIC-400)",
    "deact_valid": "1-cycle pulse: deactivate physical INTID deact_pintid in the Distributor",
    "deact_pintid": "physical INTID from the HW = 1 list register, valid with deact_valid",
    "traps": "ICH_HCR_EL2 {TDIR, TSEI, TALL1, TALL0, TC} (bits 4..0), for the PE to act on",
    "sys_op0": "MRS/MSR encoding op0 (with op1, crn, crm, op2), valid with a strobe",
    "sys_r_stb": "MRS: read the register the encoding names (when sys_ready)",
    "sys_w_stb": "MSR: write sys_w_data to it (when sys_ready)",
    "sys_ready": "the port takes a strobe (one access at a time)",
    "sys_ack": "1 cycle: the access is done; sys_r_data (MRS) valid",
    "sys_undef": "with sys_ack: no such register here, or the wrong direction (UNDEFINED)",
}


def check_module_name(name):
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name):
        raise ValueError(f"module name {name!r} is not a plain Verilog identifier "
                         f"(letters, digits, _ and $, not starting with a digit or $)")
    if name in _KEYWORDS:
        raise ValueError(f"module name {name!r} is a Verilog/SystemVerilog keyword")
    return name


def _address_map(num_lrs, num_cpus=1):
    rows = []
    for r in regs.GICH + regs.GICV:
        if r.frame == "GICH" and r.name.startswith("LR"):
            n = int(r.name[2:])
            if n == 0:
                last = regs.lr(num_lrs - 1)
                rows.append((f"0x{r.addr:04X}-0x{last.addr:04X}",
                             f"GICH_LR0..GICH_LR{num_lrs - 1}", r.access))
            continue
        if num_cpus > 1 and r.frame == "GICV" and r.offset == 0:
            for n in range(num_cpus):                 # between GICH and GICV
                base = regs.alias_addr(n, 0)
                rows.append((f"0x{base:04X}-0x{base + regs.ALIAS_STRIDE - 1:04X}",
                             f"CPU {n}'s GICH (view)", ""))
        rows.append((f"0x{r.addr:04X}", r.full_name, r.access))
    return rows


def header(top, name):
    """The comment block at the top of the generated file."""
    num_cpus = getattr(top, "num_cpus", 1)
    title = (f"GICv2 virtual interface (GICH, GICV, {top.num_lrs} list registers)"
             if num_cpus == 1 else
             f"GICv2 virtual interfaces of {num_cpus} CPUs (GICH, GICV, "
             f"{top.num_lrs} list registers each)")
    lines = [
        f"{name}: {title}",
        f"Bus slave port: {BUS_TITLES[top.bus]}.",
        f"Generated by vgic {__version__} (`vgic verilog`); do not edit, regenerate.",
        "",
        "Parameters:",
        f"  list registers   {top.num_lrs} (GICH_VTR = 0x{regs.vtr_value(top.num_lrs):08X})",
        f"  bus              {top.bus} ({BUS_TITLES[top.bus]}), 32-bit data, ports {top.prefix}*",
        f"  address          {top.addr_width}-bit byte address, low {regs.CORE_ADDR_BITS} "
        f"bits decoded (a {2 ** regs.CORE_ADDR_BITS // 1024} KiB window)"
        + (f"; {top.prefix}adr is the word address [{top.addr_width - 1}:2]"
           if top.bus.startswith("wishbone") else ""),
        f"  bus errors       {top.errors}: {ERROR_TEXT[top.errors][0]}",
        f"                   {ERROR_TEXT[top.errors][1]}",
        f"  GICV_IIDR        0x{top.iidr:08X}",
    ]
    if num_cpus > 1:
        cb = cpu_bits(num_cpus)
        carriers = ", ".join(f"{top.prefix}{p}[{cb - 1}:0]" for p in CPU_PORTS[top.bus])
        lines += [
            f"  CPUs             {num_cpus}: a GICH and a GICV per CPU, chosen by the requester's "
            "CPU number",
            f"                   ({carriers}; a number >= {num_cpus} has none: RAZ/WI);",
            "                   the lines are vectors, bit n for CPU n; deactivations carry",
            "                   deact_cpu, in the order the bus took the EOIR/AEOIR/DIR writes,",
            "                   one per cycle at most (rtl/cluster.py)",
        ]
    t = top.core.timing
    lines += [
        f"  core timing      ready = 0 for {t.match_latency} cycle(s) after an EOIR/AEOIR/DIR, else 1;",
        f"                   settled = 0 for {t.settle} cycles after a write or an acknowledge",
        f"                   ({t.settle_masks} after GICV_CTLR/BPR/ABPR, GICH_VMCR;",
        f"                   {t.settle + t.match_latency} after EOIR/AEOIR/DIR): reads of IAR, AIAR, HPPIR,",
        "                   AHPPIR, RPR and MISR wait for it (the bridge does), the",
        "                   lines follow once settled (rtl/timing.py).",
    ]
    lines += [
        "",
        "Ports:",
    ]
    width = max(len(p) for p in top.signature.members) + 2
    ports = [("clk", "input", 1), ("rst", "input", 1)] + [
        (p, "input" if m.flow == In else "output", Shape.cast(m.shape).width)
        for p, m in top.signature.members.items()]
    notes = dict(_PORT_NOTES)
    if num_cpus > 1:
        notes.update(_CLUSTER_PORT_NOTES)
        notes.update({top.prefix + p: n.format(hi=cpu_bits(num_cpus) - 1)
                      for p, n in _CPU_PORT_NOTES.items()})
    for p, d, w in ports:
        vec = f"[{w - 1}:0]" if w > 1 else ""
        note = notes.get(p, "")
        lines.append(f"  {d:<6} {vec:>7} {p:<{width}} {note}".rstrip())
    lines += [
        "",
        "Address map (byte offset in the window; GIC-400 puts this window at its +0x4000):",
    ]
    for addr, reg, access in _address_map(top.num_lrs, num_cpus):
        lines.append(f"  {addr:<14} {reg:<22} {access}")
    if num_cpus == 1:
        lines.append("  Every other offset reads 0 and ignores writes (RAZ/WI); 0x1000-0x1FFF and "
                     "0x0200-0x0FFF hold no register.")
    else:
        last = regs.alias_addr(num_cpus - 1, 0) + regs.ALIAS_STRIDE
        lines += [
            "  GICH at 0x0000 and GICV at 0x2000 are the requesting CPU's own; the",
            "  processor-specific views at 0x1000 + 0x200*n hold CPU n's GICH (offsets",
            "  0x000-0x1FF) for any requester (on GIC-400 these three are at +0x4000, +0x6000",
            "  and +0x5000 + 0x200*n).",
            "  Every other offset reads 0 and ignores writes (RAZ/WI); "
            + (f"0x{last:04X}-0x1FFF and " if last < 0x2000 else "")
            + "0x0200-0x0FFF hold no register.",
        ]
    return "/*\n" + "\n".join((" * " + l).rstrip() for l in lines) + "\n */\n"


def header_v3(top, name):
    """The comment block of a GICv3 build (BusVirtualInterface with
    arch="v3", or SysRegVirtualInterface)."""
    v3, sysreg = top.v3, isinstance(top, SysRegVirtualInterface)
    lines = [
        f"{name}: GICv3 virtual CPU interface (ICH_*_EL2, ICV_*_EL1, {v3.num_lrs} list registers)",
        f"Port: {'the system-register port' if sysreg else BUS_TITLES[top.bus]}.",
        f"Generated by vgic {__version__} (`vgic verilog --arch v3`); do not edit, regenerate.",
        "",
        "Parameters (docs/architecture-v3.md, v3 0):",
        f"  list registers   {v3.num_lrs}; priority bits {v3.pri_bits}, preemption bits "
        f"{v3.pre_bits}, ID bits {v3.id_bits}",
        f"  ICH_VTR_EL2      0x{v3.vtr:08X}",
        f"  preemption       running priority {'masked' if v3.rp_masked else 'unmasked'} by the "
        "pending group's binary point (v3 open point 1)",
    ]
    if v3.legacy:
        lines += ["  legacy           yes (v3 10): ICC_SRE_EL1 at 0x2128 chooses the guest's window,",
                  "                   SRE = 0 (reset) the GICv2 GICV frame at 0x2000 (GICV_DIR at 0x3000),",
                  "                   SRE = 1 the ICV_* registers"]
    if not sysreg:
        lines += [f"  bus              {top.bus} ({BUS_TITLES[top.bus]}), 32-bit data, "
                  f"ports {top.prefix}*",
                  f"  bus errors       {top.errors}: {ERROR_TEXT[top.errors][0]}",
                  f"                   {ERROR_TEXT[top.errors][1]}"]
    lines += ["", "Ports:"]
    width = max(len(p) for p in top.signature.members) + 2
    ports = [("clk", "input", 1), ("rst", "input", 1)] + [
        (p, "input" if m.flow == In else "output", Shape.cast(m.shape).width)
        for p, m in top.signature.members.items()]
    for p, d, w in ports:
        vec = f"[{w - 1}:0]" if w > 1 else ""
        lines.append(f"  {d:<6} {vec:>7} {p:<{width}} {_PORT_NOTES.get(p, '')}".rstrip())
    lines += ["", "Registers (AArch64 encoding op0,op1,CRn,CRm,op2"
              + ("" if sysreg else "; byte offset in the window, low half, high half at +4")
              + "):"]
    for r in sysregs.SYSREGS:
        if r.implemented(v3):
            where = "" if sysreg else f"0x{r.addr:04X}  "
            lines.append(f"  {where}{r.full_name:<16} {','.join(map(str, r.enc)):<14} {r.access}"
                         + ("  64-bit" if r.width == 64 else ""))
    lines.append("  Any other encoding: UNDEFINED (sys_undef)." if sysreg else
                 "  Every other offset, and the high half of every register but ICH_LR<n>_EL2, "
                 "reads 0 and ignores writes.")
    return "/*\n" + "\n".join((" * " + l).rstrip() for l in lines) + "\n */\n"


def generate(num_lrs=4, bus="axi4lite", name=None, errors="ignore",
             addr_width=regs.CORE_ADDR_BITS, iidr=regs.IIDR_DEFAULT, num_cpus=1, arch="v2", **v3):
    """The Verilog text. Raises ValueError on a bad parameter."""
    from amaranth.back import verilog
    name = check_module_name(name or "vgic")
    if bus == "sysreg":
        if arch != "v3":
            raise ValueError("bus 'sysreg' (the system-register port) is for arch v3")
        if num_cpus > 1:
            raise ValueError("several CPUs for arch v3: not yet")
        top = SysRegVirtualInterface(num_lrs, iidr, **v3)
    else:
        top = BusVirtualInterface(num_lrs=num_lrs, bus=bus, errors=errors, addr_width=addr_width,
                                  iidr=iidr, num_cpus=num_cpus, arch=arch, **v3)
    text = verilog.convert(top, name=name, emit_src=False)
    head = header(top, name) if top.v3 is None else header_v3(top, name)
    return head + _start_combinational_blocks(text)


# Yosys makes each `always @*` block run once at time 0 by reading a variable
# initialised in its declaration. Simulators in SystemVerilog mode (Icarus
# -g2012, cocotb's default) do not count that initial value as an event, so a
# block whose inputs never change after time 0 would never run and its
# registers load X (docs/verilog.md, "Reset"). Declared without a value and
# set by an `initial` statement instead, it changes from X at time 0: an event
# the blocks see (Icarus in both modes, Verilator; tests/test_bridges_verilog.py).
_AUTO_INIT = re.compile(r"^(\s*)reg (\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+) +(?:= 0);$",
                        re.M)


def _start_combinational_blocks(text):
    return _AUTO_INIT.sub(lambda m: f"{m.group(1)}reg {m.group(2)} ;\n"
                                    f"{m.group(1)}initial {m.group(2)} = 1'b0;", text)


def run(args):
    start = time.monotonic()
    try:
        check_output(args.output)
    except FileError as e:
        print(f"vgic verilog: error: cannot write: {e}", file=sys.stderr)
        return 2
    try:
        num_cpus = getattr(args, "cpus", 1)
        arch = getattr(args, "arch", "v2")
        given = {k: getattr(args, k, None) for k in ("pri_bits", "pre_bits", "id_bits")}
        given = {k: v for k, v in given.items() if v is not None}
        if getattr(args, "rp_unmasked", False):
            given["rp_masked"] = False
        if getattr(args, "legacy", False):
            given["legacy"] = True
        if arch == "v2" and given:
            raise ValueError(", ".join("--" + k.replace("_", "-").replace("rp-masked", "rp-unmasked")
                                       for k in given) + ": options of --arch v3")
        if given.get("legacy") and args.bus == "sysreg":
            raise ValueError("--legacy with --bus sysreg: the guest's GICv2 frame is memory-mapped; "
                             "choose a bus (the system-register port has no GICV frame)")
        v3 = given if arch == "v3" else {}
        text = generate(args.lrs, args.bus, args.name, args.errors, args.addr_width, args.iidr,
                        num_cpus, arch, **v3)
    except ValueError as e:
        print(f"vgic verilog: error: {e}", file=sys.stderr)
        return 2
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        try:
            with AtomicOutput(args.output) as f:
                f.write(text)
                f.commit()
        except (OSError, FileError) as e:
            print(f"vgic verilog: error: cannot write {args.output}: "
                  f"{getattr(e, 'strerror', None) or e}", file=sys.stderr)
            return 2
        print(f"vgic verilog: wrote {args.output} ({args.bus}, {args.lrs} LRs, "
              + ("arch v3, " if arch == "v3" else "") +
              f"{num_cpus} CPU{'s' if num_cpus > 1 else ''}, "
              f"{len(text.splitlines())} lines, {time.monotonic() - start:.1f} s)", file=sys.stderr)
    return 0
