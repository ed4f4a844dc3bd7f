# Ref: issue 5 (`vgic verilog`); rtl/regs.py (address map); docs/verilog.md
"""`vgic verilog`: the file's module and ports, the header (parameters and the
address map from the register table), errors on bad parameters, and the reset
contract of docs/verilog.md in Icarus, in both of its language modes."""
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
    """docs/verilog.md "Reset": with Icarus in Verilog-2005 mode, where the
    registers start at their reset values, a bench that never asserts rst
    reads the register (GICH_VTR) at an address held constant from time 0,
    not X (in SystemVerilog mode a reset is required:
    test_icarus_minimum_reset_then_accesses)."""
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
    """docs/verilog.md's instantiation examples (one CPU, several) connect
    exactly the ports of the module each says it generated."""
    import pathlib
    doc = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "verilog.md").read_text()
    blocks = re.findall(r"```verilog\n(.*?)```", doc, re.S)
    assert len(blocks) == 2
    for block in blocks:
        cmd = re.search(r"// vgic verilog (.*)", block).group(1).split()
        args = dict(zip(cmd[::2], cmd[1::2]))
        text = generate(int(args["--lrs"]), args["--bus"], args["--name"],
                        num_cpus=int(args.get("--cpus", 1)))
        assert set(re.findall(r"^\s*\.(\w+)\s*\(", block, re.M)) == \
            top_ports(text, args["--name"])


def test_header_states_core_timing():
    """The header gives the core's timing for this LR count (rtl/timing.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)   # not converted: header only
        top = BusVirtualInterface(64, "axi4lite")
        text = verilog_header(top, "v")
        t = top.core.timing
        del top
        gc.collect()
    assert f"ready = 0 for {t.match_latency} cycle(s) after an EOIR/AEOIR/DIR" in text
    assert f"settled = 0 for {t.settle} cycles after a write" in text


# -- Reset (docs/verilog.md, section 2 "Reset") -----------------------------------------
#
# Benches in plain Verilog for Icarus, one per bus: every input of the module is
# a variable initialised in its declaration and the first access's address is
# held from time 0 (the case Icarus's SystemVerilog mode is weakest at); `rst`
# is high from time 0 for RESET rising edges (0: never), and the first access
# starts right after it, during the core's hold-off. Inputs change 1 ns after a
# rising edge, outputs are sampled at the falling edge before the next one; a
# wait longer than 200 cycles prints TIMEOUT and ends the run. Each access
# prints one line: "R <addr> <data> <err>" or "W <addr> <err>".

BENCH_PORTS = {
    "axi4lite": """
  reg [13:0] awaddr = 14'h%(a0)04x, araddr = 14'h%(a0)04x; reg [2:0] awprot = 0, arprot = 0;
  reg awvalid = 0, wvalid = 0, bready = 1, arvalid = 0, rready = 1;
  reg [31:0] wdata = 0; reg [3:0] wstrb = 4'hf;
  wire awready, wready, arready, bvalid, rvalid; wire [1:0] bresp, rresp; wire [31:0] rdata;""",
    "apb": """
  reg psel = 0, penable = 0, pwrite = %(w0)d; reg [13:0] paddr = 14'h%(a0)04x;
  reg [31:0] pwdata = 0; reg [3:0] pstrb = 0; reg [2:0] pprot = 0;
  wire [31:0] prdata; wire pready, pslverr;""",
    "wishbone": """
  reg cyc = 0, stb = 0, we = %(w0)d; reg [11:0] adr = 12'h%(w0a)03x;
  reg [31:0] dat_w = 0; reg [3:0] sel = 4'hf;
  wire [31:0] dat_r; wire ack, err;""",
}
BENCH_PORTS["wishbone-pipelined"] = BENCH_PORTS["wishbone"] + "\n  wire stall;"

BENCH_CONNECT = {   # .s_axil_awaddr(awaddr), ...: the bench's names are the bus's
    bus: ", ".join(f".{p}({p.split('_', 2)[2]})" for p in ports) for bus, ports in PORTS.items()}

# task acc(w, a, d, s): one access, its line printed when its response comes.
BENCH_ACCESS = {
    "axi4lite": """
  task acc(input w, input [13:0] a, input [31:0] d, input [3:0] s);
    reg aw, wd, ar;
    begin
      if (w) begin
        awaddr = a; wdata = d; wstrb = s; awvalid = 1; wvalid = 1;
        n = 0; while (awvalid || wvalid) begin
          @(negedge clk); aw = awvalid && awready === 1'b1; wd = wvalid && wready === 1'b1;
          @(posedge clk); #1 if (aw) awvalid = 0; if (wd) wvalid = 0; tick;
        end
        n = 0; while (bvalid !== 1'b1) begin @(negedge clk); if (bvalid !== 1'b1) begin @(posedge clk); #1 tick; end end
        $display("W %04x %b", a, bresp[1]);
        @(posedge clk); #1;
      end else begin
        araddr = a; arvalid = 1;
        n = 0; while (arvalid) begin
          @(negedge clk); ar = arready === 1'b1; @(posedge clk); #1 if (ar) arvalid = 0; tick;
        end
        n = 0; while (rvalid !== 1'b1) begin @(negedge clk); if (rvalid !== 1'b1) begin @(posedge clk); #1 tick; end end
        $display("R %04x %08x %b", a, rdata, rresp[1]);
        @(posedge clk); #1;
      end
    end
  endtask""",
    "apb": """
  task acc(input w, input [13:0] a, input [31:0] d, input [3:0] s);
    reg done;
    begin
      psel = 1; penable = 0; pwrite = w; paddr = a; pwdata = w ? d : 0; pstrb = w ? s : 0;
      @(posedge clk); #1 penable = 1;
      n = 0; done = 0; while (!done) begin
        @(negedge clk); done = pready === 1'b1;
        if (done) begin
          if (w) $display("W %04x %b", a, pslverr); else $display("R %04x %08x %b", a, prdata, pslverr);
        end
        @(posedge clk); #1 tick;
      end
      psel = 0; penable = 0;
    end
  endtask""",
    "wishbone": """
  task acc(input w, input [13:0] a, input [31:0] d, input [3:0] s);
    reg done;
    begin
      cyc = 1; stb = 1; we = w; adr = a[13:2]; dat_w = w ? d : 0; sel = w ? s : 4'hf;
      n = 0; done = 0; while (!done) begin
        @(negedge clk); done = ack === 1'b1 || err === 1'b1;
        if (done) begin
          if (w) $display("W %04x %b", a, err); else $display("R %04x %08x %b", a, dat_r, err);
        end
        @(posedge clk); #1 tick;
      end
      cyc = 0; stb = 0;
    end
  endtask""",
    "wishbone-pipelined": """
  task acc(input w, input [13:0] a, input [31:0] d, input [3:0] s);
    reg done;
    begin
      cyc = 1; stb = 1; we = w; adr = a[13:2]; dat_w = w ? d : 0; sel = w ? s : 4'hf;
      n = 0; done = 0; while (stb) begin
        @(negedge clk); done = stall === 1'b0; @(posedge clk); #1 if (done) stb = 0; tick;
      end
      n = 0; done = 0; while (!done) begin
        @(negedge clk); done = ack === 1'b1 || err === 1'b1;
        if (done) begin
          if (w) $display("W %04x %b", a, err); else $display("R %04x %08x %b", a, dat_r, err);
        end
        @(posedge clk); #1 tick;
      end
      cyc = 0;
    end
  endtask""",
}

BENCH = """`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = %(rst0)d;
  integer n;
  wire virq, vfiq, maint_irq, deact_valid; wire [9:0] deact_pintid;
%(ports)s
  v dut(.clk(clk), .rst(rst), %(connect)s, .virq(virq), .vfiq(vfiq), .maint_irq(maint_irq),
        .deact_valid(deact_valid), .deact_pintid(deact_pintid));
  always #5 clk = ~clk;
  task tick; begin n = n + 1; if (n > 200) begin $display("TIMEOUT"); $finish; end end endtask
%(access)s
%(extra)s
  initial begin
    if (rst) begin repeat (%(reset)d) @(posedge clk); #1 rst = 0; end
    else begin @(posedge clk); #1; end
%(steps)s
    $display("END");
    $finish;
  end
endmodule
"""


def icarus_run(tmp_path, bus, steps, std, reset=1, errors="ignore", lrs=1, extra="", first=None):
    """Generate the module, run `steps` (Verilog statements) on the bus's bench
    in Icarus -g<std>; returns the lines printed."""
    import shutil
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog not installed")
    first = first or ("r", regs.GICH_VTR.addr)
    (tmp_path / "v.v").write_text(generate(lrs, bus, "v", errors))
    ports = BENCH_PORTS[bus] % {"a0": first[1], "w0": first[0] == "w", "w0a": first[1] >> 2}
    (tmp_path / "tb.v").write_text(BENCH % {
        "rst0": reset > 0, "reset": reset, "ports": ports, "connect": BENCH_CONNECT[bus],
        "access": BENCH_ACCESS[bus], "extra": extra, "steps": steps})
    r = subprocess.run(["iverilog", f"-g{std}", "-o", "sim", "tb.v", "v.v"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run(["vvp", "-n", "sim"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60).stdout
    lines = [l for l in out.splitlines() if not l.startswith("VCD")]
    assert "TIMEOUT" not in lines, out
    assert lines and lines[-1] == "END", out
    return lines[:-1]


def acc_steps(ops):
    return "\n".join(f"    acc({int(op[0] == 'w')}, 14'h{op[1]:04x}, 32'h{op[2] if op[0] == 'w' else 0:08x}, "
                     f"4'h{op[3] if op[0] == 'w' else 0xF:x});" for op in ops)


def expected_lines(ops, lrs, errors, model=None):
    """What each access prints, from the golden model and the error policy
    (test_bridges.spec_outcome, decoded from the register table)."""
    from vgic.sim.model import VirtualInterface as Model
    from test_bridges import spec_outcome
    model = model or Model(lrs)
    out = []
    for op in ops:
        write = op[0] == "w"
        fwd, err = spec_outcome(op[1], write, op[3] if write else 0, lrs, errors)
        if write:
            if fwd:
                model.write_addr(op[1], op[2], op[3])
            out.append(f"W {op[1]:04x} {int(err)}")
        else:
            out.append(f"R {op[1]:04x} {model.read_addr(op[1]) if fwd else 0:08x} {int(err)}")
    return out


LR_VALUE = (1 << 28) | (0x10 << 23) | 42           # pending, priority 0x80, vID 42


def reset_ops():
    lr0 = regs.lr(0).addr
    return [("r", regs.GICH_VTR.addr),                 # its address held from time 0
            ("w", lr0, LR_VALUE, 0xF), ("r", lr0),
            ("w", lr0, 0xFFFFFFFF, 0x3), ("r", lr0),   # partial: ignored (or an error)
            ("r", 0x1000), ("r", regs.GICV_IAR.addr), ("w", regs.GICH_HCR.addr, 1, 0xF)]


# The documented minimum reset (docs/verilog.md "Reset"): one rising edge of rst,
# in both Icarus modes (sim/verilog.py wakes the `always @*` blocks at time 0).
MIN_RESET = 1


@pytest.mark.parametrize("errors", ["ignore", "report"])
@pytest.mark.parametrize("std", ["2005", "2012"])
@pytest.mark.parametrize("bus", list(PORTS))
def test_icarus_minimum_reset_then_accesses(tmp_path, bus, std, errors):
    """docs/verilog.md "Reset": with rst high from time 0 for the documented
    minimum of rising edges, the module works in Icarus in both modes,
    SystemVerilog (-g2012, cocotb's default) included: the first access, made
    in the cycle after the reset while the core still holds off and with its
    address held from time 0, and the ones after it return the golden model's
    data and the policy's response codes, nothing X, nothing hanging."""
    ops = reset_ops()
    lines = icarus_run(tmp_path, bus, acc_steps(ops), std, reset=MIN_RESET, errors=errors)
    assert lines == expected_lines(ops, 1, errors)


def test_icarus_g2012_without_reset(tmp_path):
    """The issue's bench, which never asserts rst, in Icarus -g2012: the
    registers' next values are computed in `always @*` blocks, which this
    mode ran only once an input changed, so before sim/verilog.py started
    them at time 0 some registers loaded X at the first edge and kept it (the
    core's ready, then xREADY; the read hung). Now the module starts in its
    reset state in every mode (a reset is still what docs/verilog.md asks)."""
    ops = reset_ops()
    lines = icarus_run(tmp_path, "axi4lite", acc_steps(ops), "2012", reset=0)
    assert lines == expected_lines(ops, 1, "ignore")


def test_icarus_g2005_without_reset(tmp_path):
    """In Verilog-2005 mode the registers start at their reset values (their
    declarations' initialisers), so the issue's bench, which never asserts
    rst, works; not part of the contract (docs/verilog.md "Reset")."""
    ops = reset_ops()
    lines = icarus_run(tmp_path, "axi4lite", acc_steps(ops), "2005", reset=0)
    assert lines == expected_lines(ops, 1, "ignore")


# abandon(a, d): AW and W of a write handshake, then the manager and the module
# are reset together (VALIDs low, rst high for `r` rising edges); the 3 * P
# cycles after it are watched for a B or R (there must be none) and for a low
# xREADY; prints "ABANDONED" and a line per violation.
AXI_ABANDON = """
  task abandon(input [13:0] a, input [31:0] d, input integer r);
    reg aw, wd;
    begin
      awaddr = a; wdata = d; wstrb = 4'hf; awvalid = 1; wvalid = 1;
      n = 0; while (awvalid || wvalid) begin
        @(negedge clk); aw = awvalid && awready === 1'b1; wd = wvalid && wready === 1'b1;
        @(posedge clk); #1 if (aw) awvalid = 0; if (wd) wvalid = 0; tick;
      end
      rst = 1; repeat (r) @(posedge clk); #1 rst = 0;
      repeat (%d) begin
        @(negedge clk);
        if (bvalid !== 1'b0 || rvalid !== 1'b0) $display("RESPONSE bvalid=%%b rvalid=%%b", bvalid, rvalid);
        if ({awready, wready, arready} !== 3'b111) $display("NOT READY %%b", {awready, wready, arready});
      end
      @(posedge clk); #1 $display("ABANDONED");
    end
  endtask"""


@pytest.mark.parametrize("std", ["2005", "2012"])
def test_icarus_axi_reset_abandons_accepted_write(tmp_path, std):
    """docs/verilog.md "Reset": rst is the AXI interface's reset (IHI0022
    A3.1.2). A write whose AW and W handshakes completed (waiting for the
    core's hold-off after a first write) when the manager and the module are
    reset together gets no B: BVALID and RVALID stay low after the reset until
    a new request, xREADY are high, and the accesses after it complete
    normally against the core's reset state (the abandoned write left no
    trace)."""
    from vgic.sim.model import VirtualInterface as Model
    lr0, lr1, lr2 = (regs.lr(n).addr for n in range(3))
    before = [("w", lr0, LR_VALUE, 0xF)]
    after = [("r", lr1), ("r", lr0), ("w", lr2, LR_VALUE + 1, 0xF), ("r", lr2)]
    steps = "\n".join([acc_steps(before),
                       f"    abandon(14'h{lr1:04x}, 32'h{LR_VALUE:08x}, {MIN_RESET});",
                       acc_steps(after)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)   # not built: its timing only
        t = BusVirtualInterface(4, "axi4lite").core.timing
        hold = t.settle_masks + t.match_latency
        gc.collect()
    lines = icarus_run(tmp_path, "axi4lite", steps, std, reset=MIN_RESET, lrs=4,
                       extra=AXI_ABANDON % (3 * hold))
    assert lines == (expected_lines(before, 4, "ignore") + ["ABANDONED"]
                     + expected_lines(after, 4, "ignore", Model(4)))


# -- several CPUs (`vgic verilog --cpus N`, rtl/cluster.py) ------------------------------

CPU_PORTS = {"axi4lite": ["s_axil_awuser", "s_axil_aruser"], "apb": ["s_apb_pauser"],
             "wishbone": ["s_wb_tga"], "wishbone-pipelined": ["s_wb_tga"]}


def port_width(text, direction, port):
    m = re.search(rf"^\s*{direction} (?:\[(\d+):0\] )?{port};", text, re.M)
    assert m, f"no {direction} {port}"
    return int(m.group(1)) + 1 if m.group(1) else 1


@pytest.mark.parametrize("num_cpus", [2, 4])
@pytest.mark.parametrize("bus", list(PORTS))
def test_several_cpus_ports(bus, num_cpus):
    """With --cpus N > 1 the top has the one-CPU ports plus the bus's CPU-number
    signal(s) (AWUSER/ARUSER, PAUSER, TGA; regbus.cpu_bits wide) and deact_cpu;
    the lines are N wide."""
    text = generate(2, bus, "v", num_cpus=num_cpus)
    assert top_ports(text, "v") == set(PORTS[bus] + COMMON + CPU_PORTS[bus] + ["deact_cpu"])
    cb = (num_cpus - 1).bit_length()
    for port in CPU_PORTS[bus]:
        assert port_width(text, "input", port) == cb
    assert port_width(text, "output", "deact_cpu") == cb
    for line in ("virq", "vfiq", "maint_irq"):
        assert port_width(text, "output", line) == num_cpus
    assert port_width(text, "output", "deact_pintid") == 10


def test_one_cpu_unchanged():
    """--cpus 1 is the one-CPU file, byte for byte."""
    assert generate(4, "apb", "v", num_cpus=1) == generate(4, "apb", "v")


@pytest.mark.parametrize("num_cpus", [2, 3, 8])
def test_several_cpus_header(num_cpus):
    """The header names the CPU count, the signal carrying the CPU number,
    and the processor-specific views (core 0x1000 + 0x200 n, GIC-400's 0x5000
    + 0x200 n), one row per CPU; the ports' notes mention the vectors."""
    text = generate(4, "axi4lite", "v", num_cpus=num_cpus)
    header = text[:text.index("*/")]
    cb = (num_cpus - 1).bit_length()
    assert f"GICv2 virtual interfaces of {num_cpus} CPUs" in header
    assert f"s_axil_awuser[{cb - 1}:0], s_axil_aruser[{cb - 1}:0]" in header
    for n in range(num_cpus):
        base = regs.alias_addr(n, 0)
        assert f"0x{base:04X}-0x{base + 0x1FF:04X}  CPU {n}'s GICH (view)" in header
    assert f"CPU {num_cpus}'s GICH" not in header
    assert "+0x5000 + 0x200*n" in header and "deact_cpu" in header
    assert re.search(rf"output\s+\[{num_cpus - 1}:0\] virq\s+virtual IRQs, bit n to CPU n", header)
    rest = f"0x{regs.alias_addr(num_cpus, 0):04X}-0x1FFF and " if num_cpus < 8 else ""
    assert f"(RAZ/WI); {rest}0x0200-0x0FFF hold no register" in header


def test_cli_cpus(tmp_path, capsys):
    """`vgic verilog --cpus 2` writes the several-CPU file and says so."""
    out = tmp_path / "gic.v"
    assert main(["verilog", "--cpus", "2", "--bus", "wishbone", "--name", "gic",
                 "-o", str(out)]) == 0
    assert top_ports(out.read_text(), "gic") == \
        set(PORTS["wishbone"] + COMMON + ["s_wb_tga", "deact_cpu"])
    assert "(wishbone, 4 LRs, 2 CPUs," in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "9", "two"])
def test_cli_bad_cpus(value, capsys):
    with pytest.raises(SystemExit) as e:
        main(["verilog", "--cpus", value])
    assert e.value.code == 2
    assert "--cpus" in capsys.readouterr().err


def test_several_cpus_parses_in_icarus(tmp_path):
    """Icarus accepts the several-CPU file as Verilog-2005."""
    import shutil
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog not installed")
    src = tmp_path / "v.v"
    src.write_text(generate(2, "axi4lite", "v", num_cpus=2))
    r = subprocess.run(["iverilog", "-g2005", "-o", str(tmp_path / "v.vvp"), str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
