# Ref: issue 5 (`vgic verilog`); rtl/regs.py (address map); docs/verilog.md
"""`vgic verilog`: the file's module and ports, the header (parameters and the
address map from the register table), and errors on bad parameters."""
import gc
import re
import subprocess
import warnings

import pytest
from amaranth.hdl import UnusedElaboratable

from vgic.rtl import regs
from vgic.rtl.soc import BusVirtualInterface
from vgic.sim.verilog import generate, header as verilog_header
from vgic.sim.cli import main

PORTS = {
    "axi4lite": ["s_axil_" + n for n in (
        "awaddr awprot awvalid awready wdata wstrb wvalid wready bresp bvalid bready "
        "araddr arprot arvalid arready rdata rresp rvalid rready").split()],
    "apb": ["s_apb_" + n for n in
            "paddr psel penable pwrite pwdata pstrb pprot pready prdata pslverr".split()],
    "wishbone": ["s_wb_" + n for n in "adr dat_w dat_r sel cyc stb we ack err".split()],
    "wishbone-pipelined": ["s_wb_" + n for n in "adr dat_w dat_r sel cyc stb we ack err stall".split()],
}
COMMON = ["clk", "rst", "virq", "vfiq", "maint_irq", "deact_valid", "deact_pintid"]


def top_ports(text, name):
    m = re.search(rf"^module {name}\((.*?)\);", text, re.S | re.M)
    assert m, f"no module {name} in the output"
    return {p.strip() for p in m.group(1).split(",")}


@pytest.mark.parametrize("bus", list(PORTS))
def test_module_and_ports(bus):
    """The named top module has exactly the bus's standard signals with the
    prefix, the clock and reset, the interrupt lines and the deactivation port."""
    text = generate(2, bus, "my_gic")
    assert top_ports(text, "my_gic") == set(PORTS[bus] + COMMON)
    # submodules carry the top's name, so two builds can share a design
    others = re.findall(r"^module ([^\s(]+)", text, re.M)
    assert all(o == "my_gic" or o.startswith("\\my_gic.") for o in others), others
    assert "`timescale" not in text


def test_port_widths():
    text = generate(4, "axi4lite", "v", addr_width=32)
    assert re.search(r"input \[31:0\] s_axil_awaddr;", text)
    assert re.search(r"output \[9:0\] deact_pintid;", text)
    text = generate(4, "wishbone", "v")
    assert re.search(r"input \[11:0\] s_wb_adr;", text)      # word address, byte bits [13:2]


@pytest.mark.parametrize("num_lrs", [1, 4, 64])
def test_header_address_map_from_register_table(num_lrs):
    """The header lists every register of rtl/regs.py at its core address,
    the LR range for this LR count, and GICH_VTR for it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)   # not converted: header only
        header = verilog_header(BusVirtualInterface(num_lrs, "apb"), "v")
        gc.collect()
    for r in regs.GICH + regs.GICV:
        if r.name.startswith("LR"):
            continue
        assert re.search(rf"0x{r.addr:04X}\s+{r.full_name}\s+{r.access}", header), r.full_name
    last = regs.lr(num_lrs - 1)
    assert f"0x{regs.lr(0).addr:04X}-0x{last.addr:04X}" in header
    assert f"GICH_LR0..GICH_LR{num_lrs - 1}" in header
    assert f"GICH_VTR = 0x{regs.vtr_value(num_lrs):08X}" in header


def test_header_names_error_policy():
    assert "bus errors       report" in generate(4, "axi4lite", "v", errors="report")
    assert "bus errors       ignore" in generate(4, "axi4lite", "v")


@pytest.mark.parametrize("argv,message", [
    (["--lrs", "0"], "1..64"),
    (["--lrs", "65"], "1..64"),
    (["--bus", "ahb"], "invalid choice"),
    (["--name", "2fast"], "not a plain Verilog identifier"),
    (["--name", "module"], "keyword"),
    (["--name", "a.b"], "not a plain Verilog identifier"),
    (["--addr-width", "13"], "addr_width"),
    (["--iidr", "0x100000000"], "iidr"),
    (["--errors", "maybe"], "invalid choice"),
])
def test_bad_parameters_exit_2_with_message(argv, message, capsys):
    with warnings.catch_warnings():
        # half-built components are dropped here, not in a later test
        warnings.simplefilter("ignore", UnusedElaboratable)
        try:
            status = main(["verilog", *argv])
        except SystemExit as e:          # argparse errors
            status = e.code
        gc.collect()
    assert status == 2
    assert message in capsys.readouterr().err


def test_cli_writes_file(tmp_path):
    out = tmp_path / "deep" / "dir" / "gic.v"
    assert main(["verilog", "--lrs", "3", "--bus", "wishbone-pipelined", "--name", "gic",
                 "-o", str(out)]) == 0
    text = out.read_text()
    assert top_ports(text, "gic") == set(PORTS["wishbone-pipelined"] + COMMON)
    assert text.startswith("/*\n * gic: GICv2 virtual interface")   # the header comes first
    assert "GICH_LR0..GICH_LR2" in text[:text.index("*/")]


def test_cli_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["verilog", "-o", str(blocker / "x.v")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_verilog_parses_in_icarus(tmp_path):
    """Icarus accepts the file as Verilog-2005 (when installed)."""
    import shutil
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog not installed")
    src = tmp_path / "v.v"
    src.write_text(generate(4, "axi4lite", "v"))
    r = subprocess.run(["iverilog", "-g2005", "-o", str(tmp_path / "v.vvp"), str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# An APB bench that holds PADDR at GICH_VTR from time 0 and never changes it:
# the core's read mux then depends only on values that never change after time 0.
CONSTANT_ADDR_BENCH = """`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = 0, psel = 0, penable = 0, pwrite = 0;
  reg [13:0] paddr = 14'h%04x;
  reg [31:0] pwdata = 0; reg [3:0] pstrb = 4'hf; reg [2:0] pprot = 0;
  wire [31:0] prdata; wire pready, pslverr, virq, vfiq, maint_irq, deact_valid; wire [9:0] pintid;
  v dut(.clk(clk), .rst(rst), .s_apb_paddr(paddr), .s_apb_penable(penable), .s_apb_pprot(pprot),
        .s_apb_prdata(prdata), .s_apb_pready(pready), .s_apb_psel(psel), .s_apb_pslverr(pslverr),
        .s_apb_pstrb(pstrb), .s_apb_pwdata(pwdata), .s_apb_pwrite(pwrite), .vfiq(vfiq),
        .virq(virq), .maint_irq(maint_irq), .deact_valid(deact_valid), .deact_pintid(pintid));
  always #5 clk = ~clk;
  initial begin
    repeat (12) @(posedge clk);
    #1 psel = 1;
    @(posedge clk); #1 penable = 1;
    @(posedge clk); while (!pready) @(posedge clk);
    $display("VTR %%h", prdata);
    $finish;
  end
endmodule
"""


def test_icarus_g2005_first_read_of_constant_address(tmp_path):
    """docs/verilog.md section 2: with Icarus in Verilog-2005 mode the first read
    of an address held constant from time 0 returns the register (GICH_VTR),
    not X (Icarus's SystemVerilog mode does not run `always @*` at time 0)."""
    import shutil
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog not installed")
    (tmp_path / "v.v").write_text(generate(1, "apb", "v"))
    (tmp_path / "tb.v").write_text(CONSTANT_ADDR_BENCH % regs.GICH_VTR.addr)
    r = subprocess.run(["iverilog", "-g2005", "-o", "sim", "tb.v", "v.v"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run(["vvp", "-n", "sim"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert f"VTR {regs.vtr_value(1):08x}" in out, out


def test_docs_instantiation_example_matches_ports():
    """docs/verilog.md's instantiation example connects exactly the ports of
    the module it says it generated."""
    import pathlib
    doc = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "verilog.md").read_text()
    block = re.search(r"```verilog\n(.*?)```", doc, re.S).group(1)
    cmd = re.search(r"// vgic verilog (.*)", block).group(1).split()
    args = dict(zip(cmd[::2], cmd[1::2]))
    text = generate(int(args["--lrs"]), args["--bus"], args["--name"])
    assert set(re.findall(r"^\s*\.(\w+)\s*\(", block, re.M)) == top_ports(text, args["--name"])


def test_header_states_core_hold_off():
    """The header gives the core's bus hold-off for this LR count (rtl/top.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)   # not converted: header only
        top = BusVirtualInterface(64, "axi4lite")
        text = verilog_header(top, "v")
        hold = getattr(top.core, "hold_cycles", None), getattr(top.core, "eoi_hold_cycles", None)
        del top
        gc.collect()
    if hold[0] is None:
        pytest.skip("this core has no bus hold-off")
    assert f"core hold-off    {hold[0]} cycles" in text
    assert f"{hold[1]} after EOIR/AEOIR/DIR" in text
