# Ref: arch 2.5, 2.6 (EISR/ELRSR), R3, R5 (candidate), R8/R9 (vID match), R6a/R10
"""The RTL LR bank alone, against the golden model's LR bank: random LR
contents (few priorities and vIDs, so ties and duplicate vIDs are common) at
LR counts that leave the trees full and partly empty. Checks, once the
pipelines have caught up (rtl/timing.py: the candidate stage and the tree,
then the match), the best candidate with its group priority, vID and R1
preemption bit, the vID match, the status vectors and the State changes of
acknowledge and deactivate."""
import random

import pytest
from amaranth.sim import Simulator

from vgic.rtl.lr_bank import LRBank
from vgic.sim.model.lr_bank import LRBank as ModelLRBank, vid_out

LR_COUNTS = [1, 2, 3, 5, 16, 17, 63, 64]


def random_lr(rng, vids):
    hw = rng.getrandbits(1)
    value = (hw << 31 | rng.getrandbits(1) << 30 | rng.choice([0, 1, 1, 1, 2, 3]) << 28
             | rng.choice([0, 4, 4, 9, 30, 31]) << 23 | rng.getrandbits(3) << 20
             | rng.choice(vids))
    if hw:
        value |= rng.choice([3, 15, 16, 500, 1019, 1020]) << 10
    else:
        value |= rng.getrandbits(1) << 19 | rng.randrange(8) << 10 | rng.getrandbits(6) << 13
    return value


def gmask_of(binary_point, minimum):
    """R3 tables, in P[7:3] terms."""
    return (0x1F << (binary_point - minimum)) & 0x1F


@pytest.mark.parametrize("num_lrs", LR_COUNTS)
def test_lr_bank_matches_the_model(num_lrs):
    rng = random.Random(num_lrs)
    dut = LRBank(num_lrs)
    model = ModelLRBank(num_lrs)
    vids = [rng.randrange(16) for _ in range(2)] + [rng.randrange(16, 1020) for _ in range(3)]

    async def settle(ctx, edges):
        for _ in range(edges):
            await ctx.tick()

    async def write_lr(ctx, n, value):
        ctx.set(dut.lr_write.sel, 1 << n)
        ctx.set(dut.w_data, value)
        await ctx.tick()
        ctx.set(dut.lr_write.sel, 0)
        model.write(n, value)

    best_latency = 1 + dut.timing.tree_stages          # the candidate stage, the tree

    def check(ctx, en0, en1, pmr5, gmask0, gmask1, rp):
        """After best_latency edges of still state: vectors, LRs and the candidate."""
        assert ctx.get(dut.status.elrsr) == model.elrsr()
        assert ctx.get(dut.status.eisr) == model.eisr()
        assert bin(ctx.get(dut.status.valid)).count("1") == model.valid_count()
        assert (ctx.get(dut.status.pending) != 0) == model.any_pending()
        for n in range(num_lrs):
            assert ctx.get(dut.status.lr[n]).as_value().value == model.read(n)
        b = model.best(en0, en1, pmr5 << 3)
        best = ctx.get(dut.select.best)
        assert best.valid == (b is not None)
        if b is None:
            return None
        v = model.lr[b]
        assert (best.prio, best.grp1) == (v >> 23 & 0x1F, v >> 30 & 1)
        assert best.vid == vid_out(v)
        assert best.idx == b
        assert best.gprio == (v >> 23 & 0x1F) & (gmask1 if v >> 30 & 1 else gmask0)   # R3
        assert best.pre == (best.gprio < rp)                                           # R1
        return b

    async def bench(ctx):
        for rnd in range(12):
            en0, en1 = rng.getrandbits(1), rng.getrandbits(1)
            pmr5 = rng.choice([0, 5, 31, 31, 20])
            bpr, abpr, cbpr = rng.randrange(2, 8), rng.randrange(3, 8), rng.getrandbits(1)
            gmask0 = gmask_of(bpr, 2)
            gmask1 = gmask0 if cbpr else gmask_of(abpr, 3)
            rp = rng.choice([32, 0, 3, 10, 31])              # running priority >> 3 (32: idle)
            upto = sum(1 << i for i in range(rp, 32))     # bit i: APR[i:0] != 0
            sel = dut.select
            for sig, val in ((sel.enable_grp0, en0), (sel.enable_grp1, en1),
                             (sel.vmprimask, pmr5), (sel.gmask0, gmask0), (sel.gmask1, gmask1),
                             (sel.apr_upto, upto)):
                ctx.set(sig, val)
            for n in rng.sample(range(num_lrs), min(num_lrs, 6)) if rnd else range(num_lrs):
                await write_lr(ctx, n, random_lr(rng, vids))
            await settle(ctx, best_latency)
            b = check(ctx, en0, en1, pmr5, gmask0, gmask1, rp)
            # acknowledge (R6a): the best LR goes 01 -> 10 as ack_stb's cycle
            # ends; the LR it moves is the root's as registered one edge later
            # (with the vCPU's response stage)
            if b is not None:
                await ctx.tick()
                ctx.set(dut.select.ack_stb, 1)
                await ctx.tick()
                ctx.set(dut.select.ack_stb, 0)
                model.acknowledge(b)
                await settle(ctx, best_latency)
                check(ctx, en0, en1, pmr5, gmask0, gmask1, rp)
            # vID match (R8/R9) and deactivate (R10)
            for _ in range(4):
                vid, src = rng.choice(vids), rng.randrange(8)
                ctx.set(dut.w_data, vid | src << 10)      # the EOIR/DIR value, its decode cycle
                await ctx.tick()
                ctx.set(dut.w_data, rng.getrandbits(32))  # then anything
                await settle(ctx, dut.timing.match_latency - 1)
                n = model.match(vid, src)
                match = ctx.get(dut.select.match)
                assert match.valid == (n is not None), (vid, src)
                if n is None:
                    continue
                v = model.lr[n]
                pintid = v >> 10 & 0x3FF
                assert match.pintid == pintid
                assert match.fwd == (v >> 31 and 16 <= pintid < 1020)       # R10
                ctx.set(dut.select.deact_stb, 1)
                await ctx.tick()
                ctx.set(dut.select.deact_stb, 0)
                model.deactivate(n)
                await settle(ctx, best_latency)
                check(ctx, en0, en1, pmr5, gmask0, gmask1, rp)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("bad", [0, 65, "4"])
def test_lr_bank_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="num_lrs"):
        LRBank(bad)
