"""`vgic`: command-line entry point. Each subcommand's options are declared
here; its work is done by the module named beside it."""
import argparse
import sys

from .. import __version__


def _int(text):
    """An integer in decimal or 0x-hex."""
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}")


def _num_lrs(text):
    n = _int(text)
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError(f"number of list registers must be 1..64, got {n}")
    return n


def _num_cpus(text):
    n = _int(text)
    if not 1 <= n <= 8:
        raise argparse.ArgumentTypeError(f"number of CPUs must be 1..8 (as GIC-400), got {n}")
    return n


CPUS_HELP = ("number of CPU interfaces, 1..8 (default 1): GICH and GICV banked by the "
             "requesting CPU, CPU n's GICH also at core 0x1000 + 0x200*n (rtl/cluster.py)")



def _v3_options(p, legacy_help):
    """The GICv3 build's options (rtl/sysregs.py V3Config), one definition
    for every command that takes --arch v3; `legacy_help` what --legacy means
    for this command."""
    from ..rtl.sysregs import V3Config
    v3 = V3Config()
    p.add_argument("--pri-bits", type=_int, metavar="N",
                   help=f"(--arch v3) virtual priority bits, 5..8: ICH_VTR_EL2.PRIbits + 1 "
                        f"(default {v3.pri_bits})")
    p.add_argument("--pre-bits", type=_int, metavar="N",
                   help=f"(--arch v3) virtual preemption bits, 5..min(7, --pri-bits): "
                        f"ICH_VTR_EL2.PREbits + 1 (default {v3.pre_bits})")
    p.add_argument("--id-bits", type=_int, choices=[16, 24], metavar="{16,24}",
                   help=f"(--arch v3) virtual INTID bits: ICH_VTR_EL2.IDbits "
                        f"(default {v3.id_bits})")
    p.add_argument("--rp-unmasked", action="store_true",
                   help="(--arch v3) compare a candidate's group priority with the whole "
                        "running priority, as KVM's trap emulation does (default: both masked "
                        "by the candidate group's binary point, as QEMU; "
                        "docs/architecture-v3.md, v3 open point 1)")
    p.add_argument("--legacy", action="store_true",
                   help=f"(--arch v3) {legacy_help}; priority and preemption bits 5 "
                        "(docs/architecture-v3.md v3 10)")

def build_parser():
    p = argparse.ArgumentParser(
        prog="vgic",
        description="GICv2 virtual interface (GICH/GICV): golden model, RTL, replay and tools.")
    p.add_argument("--version", action="version", version=f"vgic {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    # -- replay: sim/replay.py ------------------------------------------------
    from ..rtl.sysregs import MAX_LRS as V3_MAX_LRS, V3Config
    r = sub.add_parser(
        "replay", help="replay a JSON-lines register trace on the model and/or the RTL",
        description="Replay a JSON-lines trace (format: docs/traces.md; plain or gzip) and "
                    "write one JSON result line per transaction. The trace streams: memory "
                    "stays flat whatever its length. Results are written only when the whole "
                    "trace ran: a bad line or a divergence leaves no output file. "
                    "Exit status: 0 ok, 1 divergence (--engine both) or difference "
                    "(--compare), 2 bad input or option, or a --compare that compared "
                    "nothing, 130 interrupted.")
    r.add_argument("trace", help="input trace, one JSON object per line (.gz accepted)")
    r.add_argument("--lrs", type=_num_lrs, default=4,
                   help=f"number of list registers, 1..64, with --arch v3 1..{V3_MAX_LRS} "
                        "(default 4)")
    r.add_argument("--arch", choices=["v2", "v3"], default="v2",
                   help="v2: GICv2's GICH/GICV registers (rtl/regs.py); v3: GICv3's system "
                        "registers ICH_*_EL2 and ICV_*_EL1 (rtl/sysregs.py), 64-bit values, "
                        "every engine and CPU count (default v2). With "
                        f"v3's defaults and 4 LRs, ICH_VTR_EL2 = 0x{V3Config().vtr:08X}, as "
                        "QEMU's cortex-a57")
    _v3_options(r, "legacy operation: a GICv2 guest on the GICv3 list registers; the trace's "
                   "GICV_* accesses are the guest's GICv2 frame, ICH_*_EL2 the hypervisor's, "
                   "ICC_SRE_EL1 the VM's choice (0 out of reset: the GICV frame is live); "
                   "`vgic convert v2-to-v3legacy` makes such a trace of a GICv2 one")
    r.add_argument("--cpus", type=_num_cpus, default=1, metavar="N",
                   help=CPUS_HELP + "; a transaction's 'cpu' names its requester (default 0), "
                        "'gich_cpu' a GICH access through that CPU's view. Result lines then "
                        "carry 'cpu', the requester's virq/vfiq/maint, and every CPU's in "
                        "virq_cpus/vfiq_cpus/maint_cpus")
    r.add_argument("--engine", choices=["model", "rtl", "fast", "both"], default="model",
                   help="model: golden model; rtl: the RTL in Amaranth's simulator; fast: the "
                        "RTL in Verilator (built on first use, then cached); both: the model "
                        "and an RTL engine (--rtl) in lock step, stopping at the first "
                        "divergence (default model)")
    r.add_argument("--rtl", choices=["amaranth", "fast"], default="amaranth",
                   help="the RTL engine of --engine both: amaranth (Amaranth's simulator) or "
                        "fast (Verilator) (default amaranth)")
    r.add_argument("-o", "--output", metavar="FILE",
                   help="write results here instead of stdout (must not be the trace)")
    r.add_argument("--compare", action="store_true",
                   help="compare each read value and line level with the one recorded in "
                        "the trace; print the first differences (--max-report) with the "
                        "transactions before them, then counts per register; exit 1 on any "
                        "difference, 2 if nothing could be compared or most of the trace "
                        "was skipped as physical-GIC accesses")
    r.add_argument("--max-report", type=_int, default=20, metavar="N",
                   help="with --compare, show the first N differences in full (default 20)")
    r.add_argument("--vcd", metavar="FILE",
                   help="(rtl, fast, both) write a VCD of the RTL run and a GTKWave save file "
                        "beside it")
    r.add_argument("--timing", action="store_true",
                   help="(fast engine) also issue the accesses to the core's register bus back "
                        "to back, each in the first cycle the bus takes it, check that every "
                        "read returns what it returned one at a time, and print on stderr "
                        "'cycles per transaction: X' (clock cycles from the first request to "
                        "the last response over the number of reads and writes)")
    r.add_argument("--bus", choices=["core", "axi4lite", "apb", "wishbone", "wishbone-pipelined"],
                   default="core",
                   help="(with --timing) the bus the timed run uses: core (the core's register "
                        "bus), or the core behind its AXI4-Lite, APB4, Wishbone B4 classic or "
                        "pipelined bridge (the Verilog of `vgic verilog --bus`, built on first "
                        "use), each request presented as soon as that bus lets it: AXI4-Lite "
                        "waiting for B/R only when turning between writes and reads (AXI orders "
                        "nothing across its read and write channels), APB4 one transfer at a "
                        "time, Wishbone classic "
                        "one cycle at a time, pipelined one request per cycle while STALL is "
                        "low (default core)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    r.add_argument("--gich-base", type=_int, metavar="ADDR",
                   help="absolute GICH base for 'addr' fields (default 0x08030000, QEMU virt)")
    r.add_argument("--gicv-base", type=_int, metavar="ADDR",
                   help="absolute GICV base for 'addr' fields (default 0x08040000, QEMU virt)")
    r.add_argument("--gic400-base", type=_int, metavar="ADDR",
                   help="GIC-400 memory map from its base instead: GICH +0x4000 (and CPU 0's "
                        "alias +0x5000), GICV +0x6000; GICD, GICC and other CPUs' GICH "
                        "aliases are passed over. A 'reg' name always wins over 'addr'.")
    # -- import: sim/qemu_log.py ------------------------------------------------
    im = sub.add_parser(
        "import", help="turn another tool's log into a replay trace",
        description="Turn a log of another tool into a replay trace (docs/traces.md).")
    isub = im.add_subparsers(dest="source", metavar="SOURCE", required=True)
    q = isub.add_parser(
        "qemu", help="a QEMU GICv2 or GICv3 trace log (-trace ... -D LOG) into a replay trace",
        description="Read a log of QEMU's 'log' trace backend, plain or gzip-compressed, and "
                    "write every access to the virtual interface in order as a replay trace, "
                    "with the line levels where the log determines them (docs/traces.md). "
                    "The events tell the GIC, no option needed: GICv2 (gic_hyp_*, gic_cpu_*, "
                    "gic_dist_*, gic_acknowledge_irq, gic_update_set_irq, "
                    "gic_update_maintenance_irq, gic_lr_entry) gives the GICH and GICV "
                    "accesses; GICv3 (gicv3_ich_*, gicv3_icv_*, gicv3_cpuif_virt_update, "
                    "gicv3_cpuif_virt_set_irqs, gicv3_cpuif_virt_set_maint_irq) the ICH_*_EL2 "
                    "and ICV_*_EL1 accesses; a log with both is refused. Physical accesses "
                    "(GICD/GICC; gicv3_icc_*, gicv3_dist_*, gicv3_redist_*) are left out and "
                    "counted on stderr. A GICv3 log of several CPUs gives each access of "
                    "CPU n > 0 (affinity n, at most 7) a \"cpu\": n, to replay with --cpus; "
                    "a GICv2 log must be of one CPU (its GICH events do not name it). "
                    "Exit status: 0 ok, 2 bad input (file:line: what is "
                    "wrong; no output file is left behind).")
    q.add_argument("log", help="QEMU log file (plain text or .gz)")
    q.add_argument("-o", "--output", metavar="TRACE", required=True,
                   help="replay trace to write (JSON lines; '-' for standard output)")
    q.add_argument("--skip-unknown", action="store_true",
                   help="count and skip lines of events other than the GIC ones, instead "
                        "of stopping at the first")
    q.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    # -- regs: sim/docs.py -----------------------------------------------------
    d = sub.add_parser("regs", help="print the register map (Markdown) from rtl/regs.py",
                       description="Print the GICH/GICV register map (GICv3: the ICH/ICV "
                                   "system registers with their encodings and memory-mapped "
                                   "layout) as a Markdown table, rendered from the register "
                                   "table in rtl/regs.py (rtl/sysregs.py).")
    d.add_argument("--arch", choices=["v2", "v3"], default="v2",
                   help="the GICv2 map (default) or the GICv3 one")
    d.add_argument("--update", metavar="README",
                   help="rewrite the generated blocks (both maps) of this Markdown file "
                        "instead of printing")
    # -- fuzz: sim/fuzz.py -----------------------------------------------------
    f = sub.add_parser(
        "fuzz", help="random differential run: golden model against the RTL",
        description="Feed N random transactions (a KVM-like hypervisor, a guest, raw register "
                    "noise: sim/stimulus.py) to the golden model and to an engine, compare the "
                    "read data, virq/vfiq/maint and forwarded deactivations after every one, "
                    "and stop at the first divergence with a report. N is spread over the LR "
                    "counts. The same seed gives the same transactions. Progress on stderr. "
                    "Exit status: 0 no divergence, 1 divergence, 2 bad option or engine "
                    "not available.")
    f.add_argument("-n", type=_int, default=20000, metavar="N",
                   help="total number of transactions (default 20000)")
    f.add_argument("--lrs", default=None, metavar="LIST",
                   help="comma-separated LR counts, each 1..64, with --arch v3 1..16 "
                        "(default 1,4,64; with --arch v3 1,4,16)")
    f.add_argument("--seed", type=_int, default=0, help="stimulus seed (default 0)")
    f.add_argument("--cpus", type=_num_cpus, default=1, metavar="N",
                   help=CPUS_HELP + ". With N > 1: N independently seeded hypervisor+guest "
                        "streams interleaved, some GICH accesses made by another CPU "
                        "through the processor-specific view")
    f.add_argument("--engine", choices=["rtl", "fast", "model"], default="rtl",
                   help="rtl: Amaranth simulation of the RTL (sim/driver.py); fast: the RTL "
                        "in Verilator (sim/fast.py); model: a second golden model, to check "
                        "the fuzzer itself (default rtl)")
    f.add_argument("--profile", choices=["mixed", "kvm", "noise"], default="mixed",
                   help="mixed: hypervisor + guest + raw noise; kvm: realistic use only; "
                        "noise: raw register reads/writes only (default mixed)")
    f.add_argument("--arch", choices=["v2", "v3"], default="v2",
                   help="v2: the GICv2 interface (GICH/GICV); v3: the GICv3 interface "
                        "(ICH_*_EL2/ICV_*_EL1 on the memory-mapped layout of rtl/sysregs.py, "
                        "stimulus sim/stimulus_v3.py; with --cpus, ICH views at 0x1000 + "
                        "0x200 n) (default v2)")
    _v3_options(f, "a GICv2 guest on GICv3: GICv2 hypervisor+guest streams with the "
                   "hypervisor's accesses as KVM makes them on ICH_*_EL2, plus now and then "
                   "an ICH_AP0R0/AP1R0_EL2 restore or the VM switching to the ICV registers "
                   "and back (ICC_SRE_EL1); with --cpus, one such guest per CPU")
    f.add_argument("--save", metavar="FILE",
                   help="on a divergence, write the transactions up to it as a replay trace")
    f.add_argument("--minimize", action="store_true",
                   help="on a divergence, shorten the failing sequence first (delta debugging)")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    # -- verilog: sim/verilog.py -------------------------------------------------
    v = sub.add_parser(
        "verilog", help="write the core behind a standard bus as one Verilog file",
        description="Write one self-contained Verilog file: the virtual interface with "
                    "--lrs list registers behind an AXI4-Lite, APB4 or Wishbone B4 slave "
                    "port, ports named <prefix><standard signal> (s_axil_*, s_apb_*, s_wb_*) "
                    "plus clk, rst (synchronous, active high), virq, vfiq, maint_irq, "
                    "deact_valid, deact_pintid. A header comment gives the parameters, the "
                    "ports and the address map. Guide: docs/verilog.md. Exit status: 0 ok, "
                    "2 bad parameter.")
    v.add_argument("--lrs", type=_num_lrs, default=4,
                   help=f"number of list registers, 1..64, with --arch v3 1..{V3_MAX_LRS} "
                        "(default 4)")
    v.add_argument("--bus", choices=["axi4lite", "apb", "wishbone", "wishbone-pipelined", "sysreg"],
                   default="axi4lite",
                   help="slave port: AXI4-Lite, APB4, Wishbone B4 classic or pipelined; with "
                        "--arch v3 also sysreg, the system-register port a CPU drives "
                        "(rtl/sysreg_port.py) (default axi4lite)")
    v.add_argument("--arch", choices=["v2", "v3"], default="v2",
                   help="v2: GICv2 (GICH/GICV frames); v3: GICv3's ICH_*_EL2/ICV_*_EL1 on "
                        "the memory-mapped layout of rtl/sysregs.py behind --bus, or the "
                        "system-register port (--bus sysreg) (default v2)")
    _v3_options(v, "legacy operation too: a GICv2 guest's GICV frame on the GICv3 list "
                   "registers, chosen by ICC_SRE_EL1; behind a bus only")
    v.add_argument("--name", metavar="MODULE", default="vgic",
                   help="top module name, a Verilog identifier; submodules are named "
                        "MODULE.<block> (default vgic)")
    v.add_argument("--errors", choices=["ignore", "report"], default="ignore",
                   help="ignore: unaligned accesses and partial writes are dropped and "
                        "answered OKAY, unmapped offsets are RAZ/WI; report: those and "
                        "unmapped offsets are dropped and answered SLVERR/PSLVERR/ERR "
                        "(default ignore)")
    v.add_argument("--addr-width", type=_int, default=14, metavar="BITS",
                   help="byte address width of the bus port, 14..64; the low 14 bits are "
                        "decoded, the rest ignored (default 14)")
    v.add_argument("--iidr", type=_int, default=0x0002_043B,
                   help="GICV_IIDR value (default 0x0002043B: Arm, GICv2)")
    v.add_argument("--cpus", type=_num_cpus, default=1, metavar="N", help=CPUS_HELP + "; the "
                   "bus carries the requester's number (AWUSER/ARUSER, PAUSER, TGA: docs/verilog.md)")
    v.add_argument("-o", "--output", metavar="FILE",
                   help="output file (default: standard output)")
    # -- board: sim/board.py ----------------------------------------------------
    b = sub.add_parser(
        "board", help="run the core on an FPGA board over its UART link (or a simulated one)",
        description="Talk to a board running BoardCore (rtl/board.py) over its UART link "
                    "(protocol: docs/boards.md), or, with --sim, to the same design simulated "
                    "in Verilator, UART included. Exit status: 0 ok, 1 difference "
                    "(--compare), 2 bad input or option, link error or a --compare that "
                    "compared nothing, 130 interrupted.")
    bsub = b.add_subparsers(dest="board_command", metavar="ACTION", required=True)
    br = bsub.add_parser(
        "replay", help="replay a trace on the board (result lines as `vgic replay`'s)",
        description="Replay a JSON-lines trace (docs/traces.md) on the board, one request "
                    "per access, and write the same result lines as `vgic replay`. The core "
                    "is reset first. Stops at the first link error, naming the request.")
    br.add_argument("trace", help="input trace, one JSON object per line (.gz accepted)")
    bi = bsub.add_parser("info", help="print the board's info words",
                         description="Print the board's info words (docs/boards.md).")
    for q in (br, bi):
        where = q.add_mutually_exclusive_group(required=True)
        where.add_argument("--port", metavar="DEVICE",
                           help="the board's serial port, e.g. /dev/ttyUSB1 (needs pyserial)")
        where.add_argument("--sim", action="store_true",
                           help="the BoardCore design simulated in Verilator instead of a board")
        q.add_argument("--board", choices=["icebreaker", "ulx3s-85f"], required=q is br,
                       default=None if q is br else "icebreaker",
                       help="the board (its UART rate and, with --sim, its clock)")
        q.add_argument("--baud", type=_int, metavar="N",
                       help="UART rate (default the board's, 3000000); with --sim, the "
                            "simulated design's")
        q.add_argument("--lrs", type=_num_lrs, default=4,
                       help="number of list registers of the board's core (default 4)")
    br.add_argument("--compare", action="store_true",
                    help="compare read values and line levels with the recording, as "
                         "`vgic replay --compare`")
    br.add_argument("--max-report", type=_int, default=20, metavar="N",
                    help="with --compare: print the first N differences in full (default 20)")
    br.add_argument("-o", "--output", metavar="FILE",
                    help="write results here instead of stdout (must not be the trace)")
    br.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    br.add_argument("--gich-base", type=_int, metavar="ADDR",
                    help="absolute GICH base for 'addr' fields (as `vgic replay`)")
    br.add_argument("--gicv-base", type=_int, metavar="ADDR",
                    help="absolute GICV base for 'addr' fields (as `vgic replay`)")
    br.add_argument("--gic400-base", type=_int, metavar="ADDR",
                    help="GIC-400 memory map from its base (as `vgic replay`)")
    # -- convert: sim/convert.py -------------------------------------------------
    c = sub.add_parser(
        "convert", help="translate a GICv2 trace to its GICv3 legacy-operation twin, and back",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Translate a trace (docs/traces.md) between GICv2 (GICH_* and GICV_*) and GICv3
legacy operation, a GICv2 guest on a GICv3 core (ICH_*_EL2 and GICV_*, replayed
with `vgic replay --arch v3 --legacy`). Each GICH access becomes the ICH_*_EL2
access KVM makes for the same guest, and back; reads likewise. GICV accesses,
line levels (virq, vfiq, maint), deactivate lists, cpu and gich_cpu are kept.
Line N of the output is line N of the input.

  GICH_HCR    = ICH_HCR_EL2    the same bits; TC, TALL0, TALL1, TSEI, TDIR must be 0
  GICH_VMCR   = ICH_VMCR_EL2   VPMR [31:24] = VMPriMask [31:27] << 3; the other fields
                               at the same bits (VBPR0 = VMBP, VBPR1 = VMABP, ...)
  GICH_LR<n>  = ICH_LR<n>_EL2  State [63:62], HW [61], Group [60] from [31:28];
                               Priority [55:48] = GICH_LR [27:23] << 3; vINTID [9:0];
                               HW = 0: source CPU [12:10] at vINTID [12:10], EOI 19 -> 41;
                               HW = 1: PhysicalID [19:10] = pINTID [41:32]; n < 16
  GICH_APR    = ICH_AP1R0_EL2; GICH_MISR, GICH_EISR0, GICH_ELRSR0 = ICH_MISR_EL2,
                ICH_EISR_EL2, ICH_ELRSR_EL2 (the same bits, LRs 0-15)
  GICH_VTR    = ICH_VTR_EL2    renamed; a read's value is not carried (not compared)

A field the target cannot hold (priority bits [2:0], a pINTID above 1023, LR 16
and up, ...) is an error (FILE:LINE). Bits the source register reserves are
left out of written values (noted on the line). Accesses with no counterpart
(GICH_EISR1/ELRSR1, zero ICH_AP0R<n>/ICH_AP1R<n> with n > 0, ICC_SRE_EL1 with
SRE = 0, physical-GIC accesses) become note lines keeping the original line,
which a conversion back restores: there and back gives the same transactions.
Details: docs/traces.md ("vgic convert"); the architecture: docs/architecture-v3.md,
"Legacy operation". Exit status: 0 ok, 2 bad input (no output file is left), 130
interrupted.""")
    c.add_argument("direction", choices=["v2-to-v3legacy", "v3legacy-to-v2"],
                   help="v2-to-v3legacy: GICv2 trace in, legacy trace out; v3legacy-to-v2: "
                        "the reverse")
    c.add_argument("input", metavar="IN", help="input trace (plain or gzip)")
    c.add_argument("-o", "--output", metavar="OUT", required=True,
                   help="output trace, gzip-compressed if it ends in .gz ('-': standard output)")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    c.add_argument("--gich-base", type=_int, metavar="ADDR",
                   help="absolute GICH base for 'addr' fields of a GICv2 trace (as `vgic replay`)")
    c.add_argument("--gicv-base", type=_int, metavar="ADDR",
                   help="absolute GICV base for 'addr' fields of a GICv2 trace (as `vgic replay`)")
    c.add_argument("--gic400-base", type=_int, metavar="ADDR",
                   help="GIC-400 memory map from its base (as `vgic replay`)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "replay":
        from .replay import run
    elif args.command == "import":
        from .qemu_log import run
    elif args.command == "regs":
        from .docs import run
    elif args.command == "fuzz":
        from .fuzz import run
    elif args.command == "verilog":
        from .verilog import run
    elif args.command == "board":
        from .board import run
    elif args.command == "convert":
        from .convert import run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
