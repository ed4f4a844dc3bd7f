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


def build_parser():
    p = argparse.ArgumentParser(
        prog="vgic",
        description="GICv2 virtual interface (GICH/GICV): golden model, RTL, replay and tools.")
    p.add_argument("--version", action="version", version=f"vgic {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    # -- replay: sim/replay.py ------------------------------------------------
    r = sub.add_parser(
        "replay", help="replay a JSON-lines register trace on the model and/or the RTL",
        description="Replay a JSON-lines trace (format: shared/conformance/README.md, "
                    "'Replay contract') and print one JSON result line per transaction. "
                    "Exit status: 0 ok, 1 divergence (--engine both) or mismatch "
                    "(--compare), 2 bad input.")
    r.add_argument("trace", help="input trace, one JSON object per line")
    r.add_argument("--lrs", type=_num_lrs, default=4, help="number of list registers, 1..64 (default 4)")
    r.add_argument("--engine", choices=["model", "rtl", "both"], default="model",
                   help="model: golden model; rtl: Amaranth simulation of the RTL; "
                        "both: run both and stop at the first divergence (default model)")
    r.add_argument("-o", "--output", metavar="FILE", help="write results here instead of stdout")
    r.add_argument("--compare", action="store_true",
                   help="compare each read value and line level with the one recorded in "
                        "the trace, print a summary on stderr, exit 1 on any difference")
    r.add_argument("--vcd", metavar="FILE",
                   help="(rtl/both) write a VCD of the RTL run and a GTKWave save file beside it")
    r.add_argument("--gich-base", type=_int, default=0x0803_0000,
                   help="absolute GICH base for 'addr' fields (default 0x08030000, QEMU virt)")
    r.add_argument("--gicv-base", type=_int, default=0x0804_0000,
                   help="absolute GICV base for 'addr' fields (default 0x08040000, QEMU virt)")
    # -- regs: sim/docs.py -----------------------------------------------------
    d = sub.add_parser("regs", help="print the register map (Markdown) from rtl/regs.py",
                       description="Print the GICH/GICV register map as a Markdown table, "
                                   "rendered from the one register table in rtl/regs.py.")
    d.add_argument("--update", metavar="README",
                   help="rewrite the generated block of this Markdown file instead of printing")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "replay":
        from .replay import run
    elif args.command == "regs":
        from .docs import run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
