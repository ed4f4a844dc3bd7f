# Ref: rtl/regbus.py (bus timing); docs/architecture.md R6, R6a, R8, R13, R14
"""Cycle latencies of the core, measured in Amaranth simulation.

Cycle 0 is the cycle in which the register bus strobe (r_stb / w_stb) is
high; a latency of N cycles means the effect is first visible in cycle N,
i.e. after N rising clock edges. "Read data" is r_data in the ack cycle.

Measured, for each LR count asked for:
  - every readable register of both frames (r_stb -> ack with r_data);
  - GICH_LR write (pending)        -> virq rises    (R6)
  - GICV_PMR write (unmask)        -> virq rises    (R6: PMR resets to 0)
  - GICV_IAR read                  -> virq falls    (R6a)
  - GICV_EOIR write (LR.EOI = 1)   -> maint_irq rises (R8, R12, R13)
  - GICH_HCR = 0                   -> maint_irq falls (R14)
  - GICV_EOIR write (HW = 1 LR)    -> deact_valid pulse (R10)
  - Group 0 LR with FIQEn          -> vfiq rises    (R6)

Output: a table on stdout, JSON in build/bench_latency.json.
"""
import argparse
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAX_WAIT = 16                # cycles before an effect counts as "never"


def measure(num_lrs):
    from amaranth.sim import Simulator
    from vgic.rtl import regs
    from vgic.rtl.top import VirtualInterface
    from vgic.sim.stimulus import lr_value

    dut = VirtualInterface(num_lrs=num_lrs)
    bus = dut.bus
    has_ready = "ready" in bus.signature.members     # register bus with a hold-off
    # holdoff: the first cycle with ready = 1 again after each kind of request
    # (1 = the core takes a new request in the ack cycle; no ready port: always 1)
    results = {"reads": {}, "events": {}, "holdoff": {}}

    async def strobe(ctx, reg, value=None, watch=None, want=None):
        """One transaction on `reg`; returns (ack latency, r_data, latency of
        `watch` reaching `want`, counted from the strobe cycle)."""
        if has_ready:                       # a bus with hold-off: wait until taken
            for _ in range(MAX_WAIT):
                if ctx.get(bus.ready):
                    break
                await ctx.tick()
        seen = None
        if watch is not None and ctx.get(watch) == want:
            seen = 0
        ctx.set(bus.addr, reg.word)
        if value is None:
            ctx.set(bus.r_stb, 1)
        else:
            ctx.set(bus.w_data, value)
            ctx.set(bus.w_strb, 0xF)
            ctx.set(bus.w_stb, 1)
        ack_at, data, ready_at = None, None, None if has_ready else 1
        for cycle in range(1, MAX_WAIT + 1):
            await ctx.tick()
            ctx.set(bus.r_stb, 0)
            ctx.set(bus.w_stb, 0)
            if ack_at is None and ctx.get(bus.ack):
                ack_at, data = cycle, ctx.get(bus.r_data)
            if ready_at is None and ctx.get(bus.ready):
                ready_at = cycle
            if watch is not None and seen is None and ctx.get(watch) == want:
                seen = cycle
            if ack_at is not None and ready_at is not None and (watch is None or seen is not None):
                break
        results["holdoff"][f"{'read' if value is None else 'write'} {reg.full_name}"] = \
            max(results["holdoff"].get(f"{'read' if value is None else 'write'} {reg.full_name}", 0),
                ready_at or MAX_WAIT)
        return ack_at, data, seen

    async def idle(ctx, n=2):
        for _ in range(n):
            await ctx.tick()

    async def tb(ctx):
        R = regs
        # -- every readable register (side-effect-free state after reset) -----
        readable = [r for r in R.GICH + R.GICV if r.access in ("RW", "RO")
                    and not (r.name.startswith("LR") and int(r.name[2:]) >= num_lrs)]
        for r in readable:
            ack_at, _, _ = await strobe(ctx, r)
            results["reads"][r.full_name] = ack_at
            await idle(ctx, 1)

        ev = results["events"]
        # -- LR write -> virq rises (guest set up first) ------------------------
        await strobe(ctx, R.GICH_HCR, 1)
        await strobe(ctx, R.GICV_CTLR, 0x3)
        await strobe(ctx, R.GICV_PMR, 0xF8)
        await idle(ctx)
        _, _, ev["GICH_LR0 write (pending) -> virq rises"] = await strobe(
            ctx, R.lr(0), lr_value(42, 1, 0xA0), dut.virq, 1)
        await idle(ctx)
        # -- IAR read -> virq falls ----------------------------------------------
        _, data, ev["GICV_IAR read -> virq falls"] = await strobe(ctx, R.GICV_IAR, None, dut.virq, 0)
        assert data == 42, f"IAR returned {data}, expected 42"
        await idle(ctx)
        await strobe(ctx, R.GICV_EOIR, 42)
        # -- PMR write -> virq rises ----------------------------------------------
        await strobe(ctx, R.GICV_PMR, 0)
        await strobe(ctx, R.lr(0), lr_value(43, 1, 0xA0))
        await idle(ctx)
        _, _, ev["GICV_PMR write (unmask) -> virq rises"] = await strobe(
            ctx, R.GICV_PMR, 0xF8, dut.virq, 1)
        await strobe(ctx, R.GICV_IAR)
        await strobe(ctx, R.GICV_EOIR, 43)
        # -- EOIR with LR.EOI = 1 -> maint_irq rises --------------------------------
        await strobe(ctx, R.lr(0), lr_value(44, 1, 0xA0, eoi=1))
        await strobe(ctx, R.GICV_IAR)
        await idle(ctx)
        _, _, ev["GICV_EOIR write (LR.EOI=1) -> maint_irq rises"] = await strobe(
            ctx, R.GICV_EOIR, 44, dut.maint_irq, 1)
        await idle(ctx)
        # -- HCR = 0 -> maint_irq falls -----------------------------------------
        _, _, ev["GICH_HCR = 0 -> maint_irq falls"] = await strobe(
            ctx, R.GICH_HCR, 0, dut.maint_irq, 0)
        await strobe(ctx, R.lr(0), 0)
        await strobe(ctx, R.GICH_HCR, 1)
        # -- EOIR of an HW = 1 LR -> deact_valid ------------------------------------
        await strobe(ctx, R.lr(0), lr_value(45, 1, 0xA0, hw=1, pintid=77))
        await strobe(ctx, R.GICV_IAR)
        await idle(ctx)
        _, _, ev["GICV_EOIR write (HW=1) -> deact_valid pulse"] = await strobe(
            ctx, R.GICV_EOIR, 45, dut.deact_valid, 1)
        await idle(ctx)
        # -- Group 0 with FIQEn -> vfiq rises ---------------------------------------
        await strobe(ctx, R.GICV_CTLR, 0x3 | 0x8)
        await idle(ctx)
        _, _, ev["GICH_LR0 write (Group 0, FIQEn) -> vfiq rises"] = await strobe(
            ctx, R.lr(0), lr_value(46, 1, 0xA0), dut.vfiq, 1)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return results


def table(per_lrs):
    lrs = sorted(per_lrs)
    out = []
    names = list(per_lrs[lrs[0]]["events"])
    hdr = ["event (cycle 0 = strobe cycle)"] + [f"{n} LRs" for n in lrs]
    rows = [[name] + [_c(per_lrs[n]["events"].get(name)) for n in lrs] for name in names]
    reads = {}
    for n in lrs:
        for reg, c in per_lrs[n]["reads"].items():
            reads.setdefault(reg, {})[n] = c
    # registers grouped by latency: one row per distinct set of values
    # ("-": the register does not exist with that LR count)
    groups = {}
    for reg, by in reads.items():
        key = tuple(by.get(n, "-") for n in lrs)
        groups.setdefault(key, []).append(reg)
    for key, regs_ in groups.items():
        label = f"read -> ack + r_data: {len(regs_)} registers"
        if len(regs_) <= 4:
            label = "read -> ack + r_data: " + ", ".join(regs_)
        elif any(r.startswith("GICH_LR") for r in regs_):
            label += " (GICH_LR<n>)" if all(r.startswith("GICH_LR") for r in regs_) else ""
        rows.append([label] + [v if v == "-" else _c(v) for v in key])
    # bus hold-off: requests grouped by the cycle in which ready is 1 again
    hgroups = {}
    for req in per_lrs[lrs[0]]["holdoff"]:
        key = tuple(per_lrs[n]["holdoff"].get(req, "-") for n in lrs)
        hgroups.setdefault(key, []).append(req)
    for key, reqs in sorted(hgroups.items(), key=lambda kv: str(kv[0])):
        if len(reqs) <= 6:
            label = "next request accepted (ready = 1): after " + ", ".join(reqs)
        elif all(r.startswith("read ") for r in reqs):
            label = f"next request accepted (ready = 1): after a read of any of {len(reqs)} other registers"
        else:
            label = f"next request accepted (ready = 1): after {len(reqs)} kinds of request"
        rows.append([label] + [v if v == "-" else f"cycle {v}" for v in key])
    from bench_hw import markdown_table         # bench/ is on sys.path (a script)
    out.append(markdown_table(hdr, rows))
    return "\n".join(out)


def _c(v):
    return "never" if v is None else f"{v} cycle" + ("s" if v != 1 else "")


def main(argv=None):
    p = argparse.ArgumentParser(prog="bench_latency.py", description=__doc__.split("\n\n")[0],
                                epilog="Cycle 0 is the strobe cycle of the register bus "
                                       "(rtl/regbus.py).")
    p.add_argument("--lrs", default="1,4,64", help="comma-separated LR counts (default 1,4,64)")
    p.add_argument("--json", default=str(ROOT / "build" / "bench_latency.json"),
                   help="JSON output (default build/bench_latency.json)")
    args = p.parse_args(argv)
    try:
        lrs = [int(x) for x in args.lrs.split(",") if x.strip()]
    except ValueError:
        p.error(f"--lrs: expected comma-separated integers, got {args.lrs!r}")
    if not lrs or any(not 1 <= n <= 64 for n in lrs):
        p.error("--lrs: LR counts must be 1..64")
    per = {}
    for n in lrs:
        t0 = time.monotonic()
        per[n] = measure(n)
        print(f"[bench-latency] {n} LRs measured in {time.monotonic() - t0:.1f} s",
              file=sys.stderr, flush=True)
    text = table(per)
    print(text)
    path = pathlib.Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                "command": "python3 bench/bench_latency.py " + " ".join(
                                    sys.argv[1:] if argv is None else argv),
                                "cycle_0": "strobe cycle", "results": per,
                                "table": text}, indent=1))
    print(f"bench-latency: JSON {path}")
    bad = [(n, k) for n in per for k, v in per[n]["events"].items() if v is None]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
