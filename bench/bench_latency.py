# Ref: rtl/timing.py, rtl/regbus.py (bus timing); docs/architecture.md R6, R6a, R8, R13, R14
"""Cycle latencies of the core, measured in Amaranth simulation.

Cycle 0 is the cycle in which the register bus strobe (r_stb / w_stb) is
high; a latency of N cycles means the effect is first visible in cycle N,
i.e. after N rising clock edges. "Read data" is r_data in the ack cycle.
Each measured request is issued once the core is quiet (ready = settled =
1), so that only its own effects are counted; rtl/timing.py says what the
figures should be.

Measured, for each LR count asked for:
  - every readable register of both frames (r_stb -> ack with r_data);
  - GICH_LR write (pending)        -> virq rises    (R6)
  - GICV_IAR read                  -> virq falls    (R6a)
  - GICV_PMR write (unmask)        -> virq rises    (R6: PMR resets to 0)
  - GICV_EOIR write (LR.EOI = 1)   -> maint_irq rises (R8, R12, R13)
  - GICH_HCR = 0                   -> maint_irq falls (R14)
  - GICV_EOIR write (HW = 1 LR)    -> deact_valid pulse (R10)
  - Group 0 LR with FIQEn          -> vfiq rises    (R6)
  - the bus, after each kind of request (and after reset): the first cycle
    in which the core takes a next request (ready = 1), and the first in
    which it takes a read of regbus.SETTLED_READS (ready = settled = 1).

Output: a table on stdout, JSON in build/bench_latency.json.
"""
import argparse
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAX_WAIT = 24                # cycles before an effect counts as "never"
RESET = "reset (cycle 0 = the first cycle after it)"        # a kind of "request"


def measure(num_lrs):
    from amaranth.sim import Simulator
    from vgic.rtl import regs
    from vgic.rtl.top import VirtualInterface
    from vgic.sim.stimulus import lr_value

    dut = VirtualInterface(num_lrs=num_lrs)
    bus = dut.bus
    # ready / settled: per kind of request, the first cycle after its strobe
    # in which the core takes a next request (ready = 1) / a SETTLED_READS
    # read (ready = settled = 1); the largest over the requests of that kind
    results = {"timing": repr(dut.timing), "reads": {}, "events": {}, "ready": {}, "settled": {}}

    async def quiet(ctx):
        """Wait for a cycle with ready = settled = 1 (nothing in progress)."""
        for _ in range(MAX_WAIT):
            if ctx.get(bus.ready) and ctx.get(bus.settled):
                return
            await ctx.tick()
        raise AssertionError(f"{num_lrs} LRs: the core did not settle in {MAX_WAIT} cycles")

    def kind(reg, value, data):
        """The request's kind for the ready/settled rows: its direction and
        register (the LRs as one), and whether an IAR/AIAR read acknowledged."""
        name = "GICH_LR<n>" if reg.name.startswith("LR") else reg.full_name
        if value is not None:
            return f"write {name}"
        if reg in (regs.GICV_IAR, regs.GICV_AIAR):
            return f"read {name}" + (" (acknowledges)" if (data & 0x3FF) < 1020 else " (1023)")
        return f"read {name}"

    def record(key, ready_at, settled_at):
        for table, at in (("ready", ready_at), ("settled", settled_at)):
            results[table][key] = max(results[table].get(key, 0), MAX_WAIT if at is None else at)

    async def strobe(ctx, reg, value=None, watch=None, want=None):
        """One transaction on `reg`, issued in a quiet cycle; returns (ack
        latency, r_data, latency of `watch` reaching `want`, counted from the
        strobe cycle)."""
        await quiet(ctx)
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
        ack_at, data, ready_at, settled_at = None, None, None, None
        for cycle in range(1, MAX_WAIT + 1):
            await ctx.tick()
            ctx.set(bus.r_stb, 0)
            ctx.set(bus.w_stb, 0)
            if ack_at is None and ctx.get(bus.ack):
                ack_at, data = cycle, ctx.get(bus.r_data)
            if ready_at is None and ctx.get(bus.ready):
                ready_at = cycle
            if settled_at is None and ctx.get(bus.ready) and ctx.get(bus.settled):
                settled_at = cycle
            if watch is not None and seen is None and ctx.get(watch) == want:
                seen = cycle
            if None not in (ack_at, ready_at, settled_at) and (watch is None or seen is not None):
                break
        assert ack_at is not None, f"{reg.full_name}: no ack (the core did not take the request)"
        record(kind(reg, value, data), ready_at, settled_at)
        return ack_at, data, seen

    async def idle(ctx, n=2):
        for _ in range(n):
            await ctx.tick()

    async def tb(ctx):
        R = regs
        # -- reset: cycle 0 is the first cycle after it (the simulation starts
        #    in the reset state) --------------------------------------------------
        ready_at = settled_at = None
        for cycle in range(MAX_WAIT):
            if ready_at is None and ctx.get(bus.ready):
                ready_at = cycle
            if settled_at is None and ctx.get(bus.ready) and ctx.get(bus.settled):
                settled_at = cycle
            if settled_at is not None:
                break
            await ctx.tick()
        record(RESET, ready_at, settled_at)
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
        # -- the bus: the other kinds of request that change state --------------------
        await strobe(ctx, R.lr(0), lr_value(47, 1, 0xA0, grp1=1))
        _, data, _ = await strobe(ctx, R.GICV_AIAR)
        assert data & 0x3FF == 47, f"AIAR returned {data}, expected 47"
        await strobe(ctx, R.GICV_AEOIR, 47)
        await strobe(ctx, R.GICV_DIR, 1023)                 # EOImode = 0: no effect
        for reg in (R.GICV_BPR, R.GICV_ABPR, R.GICH_VMCR, R.GICV_APR0, R.GICH_APR):
            _, data, _ = await strobe(ctx, reg)
            await strobe(ctx, reg, data)                    # its own value back
        await strobe(ctx, R.GICV_IIDR, 0)                   # read-only: ignored
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
    # the bus: requests grouped by the first cycle in which the core takes a
    # next request (ready), and a SETTLED_READS read (ready and settled)
    for what, head in (("ready", "next request accepted (ready = 1)"),
                       ("settled", "next SETTLED_READS read accepted (ready = settled = 1)")):
        hgroups = {}
        for req in per_lrs[lrs[0]][what]:
            key = tuple(per_lrs[n][what].get(req, "-") for n in lrs)
            hgroups.setdefault(key, []).append(req)
        for key, reqs in sorted(hgroups.items(), key=lambda kv: [(v == "-", v) for v in kv[0]]):
            if len(reqs) <= 6:
                label = f"{head}: after " + ", ".join(reqs)
            else:
                reset = " (and after reset)" if RESET in reqs else ""
                reqs = [r for r in reqs if r != RESET]
                if all(r.startswith("read ") for r in reqs):
                    label = f"{head}: after a read of any of {len(reqs)} other registers{reset}"
                else:
                    label = f"{head}: after any of {len(reqs)} other kinds of request{reset}"
            rows.append([label] + [v if v == "-" else f"cycle {v}" for v in key])
    from bench_hw import markdown_table         # bench/ is on sys.path (a script)
    out.append(markdown_table(hdr, rows))
    return "\n".join(out)


def _c(v):
    return "never" if v is None else f"{v} cycle" + ("s" if v != 1 else "")


def main(argv=None):
    p = argparse.ArgumentParser(prog="bench_latency.py", description=__doc__.split("\n\n")[0],
                                epilog="Cycle 0 is the strobe cycle of the register bus "
                                       "(rtl/regbus.py); the expected figures: rtl/timing.py.")
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
