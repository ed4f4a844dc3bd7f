# Ref: issue "Several CPUs" (one virtual interface per CPU behind one bus); bench in
#      vgic_cluster_bench.py; runner as test_verilog_sim.py
"""The generated Verilog for several CPUs (`vgic verilog --cpus N`) in
Verilator and Icarus, via cocotb: one case per bus at 2 CPUs, the requester's
CPU number on the bus's user signal (AXI4-Lite AWUSER/ARUSER, APB PAUSER,
Wishbone TGA), with back-pressure. The bench (vgic_cluster_bench.py) checks a
GICV_IAR read by CPU 1 acknowledges CPU 1's list register and never CPU 0's,
then random traffic of both CPUs, every access, line and deactivation (with
deact_cpu) against the golden model (sim/model/cluster.py).

The CI set runs in Icarus; VGIC_COCOTB=full adds Verilator and 4 CPUs, with
both error policies. Builds land in build/cocotb/cluster-<case>/ (VGIC_BUILD
overrides build/). Environment as test_verilog_sim.py: VGIC_COCOTB_SIMS
(only these simulators), VGIC_RANDOM_OPS (default 200), VGIC_SEED (default 1).
"""
import os
import sys

import pytest

from vgic.sim.verilog import generate

from test_verilog_sim import BUILD, HERE, simulator_env

BUSES = ("axi4lite", "apb", "wishbone", "wishbone-pipelined")
# CI: Icarus (a build takes a second; Verilator's compile alone is about a
# minute of CPU per case), the two error policies spread over the buses
CASES = [
    ("icarus", "axi4lite", 2, 4, "report"),
    ("icarus", "apb", 2, 4, "ignore"),
    ("icarus", "wishbone", 2, 4, "report"),
    ("icarus", "wishbone-pipelined", 2, 4, "ignore"),
]


def cases():
    if os.environ.get("VGIC_COCOTB") == "full":
        chosen = [(sim, bus, cpus, 4, errors) for sim in ("verilator", "icarus") for bus in BUSES
                  for cpus in (2, 4) for errors in ("ignore", "report")]
    else:
        chosen = CASES
    sims = os.environ.get("VGIC_COCOTB_SIMS")
    chosen = [c for c in chosen if not sims or c[0] in sims.split(",")]
    return [pytest.param(*c, id=f"{c[0]}-{c[1]}-{c[2]}cpus-{c[3]}lr-{c[4]}") for c in chosen]


@pytest.mark.parametrize("sim,bus,cpus,lrs,errors", cases())
def test_generated_verilog_several_cpus(sim, bus, cpus, lrs, errors, monkeypatch):
    """The Verilog for `cpus` CPUs behind one bus passes the cluster bench."""
    from cocotb_tools.runner import get_runner

    simulator_env(sim, monkeypatch)
    name = "vgic_" + bus.replace("-", "_") + f"_{cpus}cpus"
    folder = BUILD / f"cluster-{sim}-{bus}-{cpus}cpus-{lrs}lr-{errors}"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{name}.v"
    text = generate(lrs, bus, name, errors, num_cpus=cpus)
    if not source.exists() or source.read_text() != text:     # unchanged: no rebuild
        source.write_text(text)

    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))                  # the bench module, for the simulator
    runner = get_runner(sim)
    build_args = ["-Wno-fatal", "-Wno-lint", "-Wno-style"] if sim == "verilator" else []
    runner.build(sources=[source], hdl_toplevel=name, build_dir=folder,
                 build_args=build_args, timescale=("1ns", "1ps"))
    runner.test(test_module="vgic_cluster_bench", hdl_toplevel=name, build_dir=folder,
                test_dir=folder, timescale=("1ns", "1ps"),
                extra_env={
                    "VGIC_BUS": bus, "VGIC_LRS": str(lrs), "VGIC_CPUS": str(cpus),
                    "VGIC_ERRORS": errors,
                    "VGIC_SEED": os.environ.get("VGIC_SEED", "1"),
                    "VGIC_RANDOM_OPS": os.environ.get("VGIC_RANDOM_OPS", "200"),
                })
