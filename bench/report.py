# Ref: project-internal (benchmark report)
"""Render the latest benchmark JSON files (build/bench_hw.json,
build/bench_hw_cpus.json, build/bench_hw_v3.json, build/bench_latency.json,
build/bench_sim.json) as Markdown, and with --update rewrite the generated
blocks of docs/benchmarks.md (between `<!-- BEGIN bench-X -->` and
`<!-- END bench-X -->`, X = hw, hw-cpus, hw-v3, latency, sim; --only X
rewrites just those); the text around them is kept."""
import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load(path):
    try:
        return json.loads(pathlib.Path(path).read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as e:
        raise SystemExit(f"report: error: {path}: not valid JSON ({e})")


def hw_block(doc):
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_hw
    m = doc["machine"]
    rtl = doc.get("rtl") or {}
    if rtl.get("commit"):
        where = (f"RTL of commit {rtl['commit'][:7]}" if not rtl.get("working_tree") else
                 f"RTL of the working tree at {rtl['commit'][:7]}"
                 + (" (rtl/ modified)" if rtl.get("rtl_modified") else ""))
    else:
        where = "RTL of the working tree"
    partial = "" if doc.get("complete", True) else " Partial run: not every configuration finished."
    v3 = any(r.get("arch", "v2") != "v2" for r in doc["results"])
    lines = [f"{where}.{partial}", "",
             f"Command: `{doc['command']}` ({doc['date']}, {doc.get('total_s', 0) / 60:.0f} min on "
             f"{m['cpu']}, {m['cores']} cores; {doc['yosys']}; "
             + (f"nextpnr seeds {doc['seeds'][0]}-{doc['seeds'][-1]}, Fmax the median with the range"
                if len(doc.get("seeds", [])) > 1 else f"nextpnr seed {doc['seed']}")
             + (f", synth options `{doc['synth_opts']}`" if doc.get("synth_opts") else "") + ").",
             "",
             "Area columns: the core's own cells after synthesis (the I/O harness is counted "
             "apart). LC used: iCE40 logic cells after place and route, harness included. "
             "Fmax: post-route, nextpnr's estimate (ECP5 LFE5U-25F speed 6 CABGA381, target "
             f"{_targets(doc, 'ecp5')} MHz; iCE40 UP5K sg48, target {_targets(doc, 'ice40')} MHz)."
             + (" arch: v2 = GICv2, v3 = GICv3 (core alone)"
                + (", v3 legacy = GICv3 with legacy operation (legacy=True)"
                   if any(r.get("legacy") for r in doc["results"]) else "")
                + "; pri/pre: priority / preemption bits (GICv2's are 5/5)." if v3 else ""),
             "", bench_hw.table(doc["results"]), "",
             "Targets (GICv2 rows):" if v3 else "Targets:", ""]
    lines += [f"- {t.strip()}" for t in bench_hw.target_lines(doc["results"])]
    paths = []
    for r in doc["results"]:
        for fam in ("ecp5", "ice40"):
            cp = r.get(fam, {}).get("critical_path")
            if cp:
                paths.append(f"- {r['config']} {fam}: {cp['delay_ns']} ns, {cp['logic_levels']} "
                             f"logic levels ({cp['routing_ns']} ns routing), `{cp['from']}` -> "
                             f"`{cp['to']}`; RTL lines: {', '.join(cp['rtl_sources'][:8]) or '-'}")
    slow = [f"- {r['config']}: " + ", ".join(f"{x['arrival_ns']} `{x['register']}`"
                                              for x in r["ecp5"]["slow_registers"][:6])
            for r in doc["results"] if r.get("ecp5", {}).get("slow_registers")]
    if slow:
        lines += ["", "Latest data arrivals on ECP5 (ns after the clock edge, setup not "
                  "included; one entry per register, `--slow`): what limits besides the "
                  "critical path.", ""] + slow
    if paths:
        lines += ["", "Critical paths (worst register-to-register path per run"
                  + (", of the median seed" if len(doc.get("seeds", [])) > 1 else "") + "):", ""] + paths
    return "\n".join(lines)


def _targets(doc, fam):
    vals = sorted({r[fam]["target_mhz"] for r in doc["results"] if r.get(fam, {}).get("target_mhz")})
    return "/".join(f"{v:g}" for v in vals) or "-"


def latency_block(doc):
    return f"Command: `{doc['command']}` ({doc['date']}). Cycle 0 = the register-bus strobe cycle.\n\n" \
           + doc["table"]


def sim_block(doc):
    m = doc["machine"]
    load = f", load average {m['load_1min']:.1f} (shared machine)" if m.get("load_1min") else ""
    return (f"Command: `{doc['command']}` ({doc['date']}; {m['cpu']}, {m['cores']} cores, "
            f"Python {m['python']}{load}; seed {doc['seed']}, profile {doc['profile']}).\n\n"
            + doc["table"])


def blocks(build):
    out = {}
    for key, fn, name in (("hw", hw_block, "bench_hw.json"),
                          ("hw-cpus", hw_block, "bench_hw_cpus.json"),   # --cpus rows
                          ("hw-v3", hw_block, "bench_hw_v3.json"),       # --arch v3 rows
                          ("latency", latency_block, "bench_latency.json"),
                          ("sim", sim_block, "bench_sim.json")):
        doc = _load(build / name)
        if doc is not None:
            out[key] = fn(doc)
    return out


def update(path, new):
    """Rewrite the blocks of `new` that the file has; returns their keys
    (an error if it has none of them)."""
    text = path.read_text()
    done = []
    for key, body in new.items():
        pat = re.compile(rf"(<!-- BEGIN bench-{key} -->\n).*?(<!-- END bench-{key} -->)", re.S)
        if pat.search(text):
            text = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
            done.append(key)
    if not done:
        raise SystemExit(f"report: error: {path}: no block <!-- BEGIN bench-KEY --> ... "
                         f"<!-- END bench-KEY --> for any of {', '.join(new)}")
    path.write_text(text)
    return done


def main(argv=None):
    p = argparse.ArgumentParser(prog="report.py", description=__doc__)
    p.add_argument("--build", default=str(ROOT / "build"), help="folder of the JSON files")
    p.add_argument("--update", metavar="MARKDOWN",
                   help="rewrite the generated blocks of this file (e.g. docs/benchmarks.md)")
    p.add_argument("--only", metavar="KEYS",
                   help="comma-separated block keys to render or rewrite (e.g. hw-v3; "
                        "default every block with a JSON file)")
    args = p.parse_args(argv)
    new = blocks(pathlib.Path(args.build))
    if args.only:
        keys = [k.strip() for k in args.only.split(",") if k.strip()]
        missing = [k for k in keys if k not in new]
        if missing:
            print(f"report: no JSON in {args.build} for block(s) {', '.join(missing)}",
                  file=sys.stderr)
            return 1
        new = {k: new[k] for k in keys}
    if not new:
        print("report: no benchmark JSON in " + args.build, file=sys.stderr)
        return 1
    if args.update:
        done = update(pathlib.Path(args.update), new)
        print(f"report: updated {', '.join(done)} in {args.update}", file=sys.stderr)
    else:
        for key, body in new.items():
            print(f"## {key}\n\n{body}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
