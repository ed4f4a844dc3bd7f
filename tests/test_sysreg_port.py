"""rtl/sysreg_port.py: the GICv3 system-register port (v3 1.3). MRS/MSR by
AArch64 encoding, 64-bit data, `undef` for an encoding this configuration
lacks, an MSR of a read-only register or an MRS of a write-only one; the
answers those of the golden model (the KVM vgic-v3 recording, a slice)."""
import gzip
import json
import pathlib

import pytest
from amaranth.sim import Simulator

from vgic.rtl.sysreg_port import SysRegVirtualInterface
from vgic.rtl import sysregs
from vgic.sim.model import VirtualInterface

KVM3 = pathlib.Path(__file__).parent / "data" / "kvm3" / "kvm3_linux_2vcpu.jsonl.gz"


def run(dut, body):
    """Run `body(access)` in a testbench; access(enc, write, value) -> (undef, r_data)."""
    results = []

    async def bench(ctx):
        s = dut.sys

        async def access(enc, write=False, value=0):
            while not ctx.get(s.ready):
                await ctx.tick()
            for name, field in zip(("op0", "op1", "crn", "crm", "op2"), enc):
                ctx.set(getattr(s, name), field)
            ctx.set(s.w_stb if write else s.r_stb, 1)
            ctx.set(s.w_data, value)
            await ctx.tick()
            ctx.set(s.w_stb, 0)
            ctx.set(s.r_stb, 0)
            for _ in range(20):
                if ctx.get(s.ack):
                    break
                await ctx.tick()
            else:
                raise AssertionError(f"no ack for {enc}")
            answer = (ctx.get(s.undef), ctx.get(s.r_data))
            await ctx.tick()
            return answer

        async def lines():
            for _ in range(8):                      # settle (rtl/timing.py), then sample
                await ctx.tick()
            return ctx.get(dut.virq), ctx.get(dut.vfiq), ctx.get(dut.maint_irq)

        results.append(await body(access, lines))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return results[0]


def test_undefined_encodings_and_directions():
    """v3 open point 17 on the port: LR4 with 4 LRs, AP1R1 with 5 preemption
    bits, ICC_SRE_EL1 (never virtual), ICC_SGI1R_EL1 (no ICV form), an MSR of
    ICH_VTR_EL2 (RO), an MRS of ICV_EOIR1_EL1 (WO): undef, and no effect."""
    dut = SysRegVirtualInterface(4)

    async def body(access, lines):
        out = {}
        out["LR4"] = await access((3, 4, 12, 12, 4))
        out["AP1R1"] = await access((3, 4, 12, 9, 1))
        out["SRE"] = await access((3, 0, 12, 12, 5))
        out["SGI1R"] = await access((3, 0, 12, 11, 5), write=True, value=1)
        out["VTR write"] = await access((3, 4, 12, 11, 1), write=True, value=5)
        out["EOIR1 read"] = await access((3, 0, 12, 12, 1))
        out["VTR"] = await access((3, 4, 12, 11, 1))
        return out

    out = run(dut, body)
    for name in ("LR4", "AP1R1", "SRE", "SGI1R", "VTR write", "EOIR1 read"):
        assert out[name] == (1, 0), name
    assert out["VTR"] == (0, 0x90B80003)               # unchanged by the refused MSR


def test_lr_is_64_bits_and_iar1_acknowledges_once():
    """ICH_LR0_EL2 written and read whole (both halves: v3 1.4); V19 example 1:
    HCR = 1, VMCR = 0xF870000B, LR0 = 0x50D8_0000_0000_002B -> ICV_IAR1 = 43,
    LR0 = 0x90D8..2B, AP1R0 = 0x04000000, RPR = 0xD0."""
    dut = SysRegVirtualInterface(4)
    enc = {name: sysregs.lookup(name).enc for name in (
        "ICH_HCR_EL2", "ICH_VMCR_EL2", "ICH_LR0_EL2", "ICV_IAR1_EL1", "ICH_AP1R0_EL2",
        "ICV_RPR_EL1")}

    async def body(access, lines):
        await access(enc["ICH_HCR_EL2"], True, 1)
        await access(enc["ICH_VMCR_EL2"], True, 0xF870000B)
        await access(enc["ICH_LR0_EL2"], True, 0x50D8_0000_0000_002B)
        before = await lines()
        lr0 = await access(enc["ICH_LR0_EL2"])
        iar = await access(enc["ICV_IAR1_EL1"])
        after = await lines()
        return (before, lr0, iar, after, await access(enc["ICH_LR0_EL2"]),
                await access(enc["ICH_AP1R0_EL2"]), await access(enc["ICV_RPR_EL1"]),
                await access(enc["ICV_IAR1_EL1"]))

    before, lr0, iar, after, lr0_after, ap1r0, rpr, iar_again = run(dut, body)
    assert before == (1, 0, 0)                         # virq
    assert lr0 == (0, 0x50D8_0000_0000_002B)
    assert iar == (0, 43)
    assert after == (0, 0, 0)
    assert lr0_after == (0, 0x90D8_0000_0000_002B)
    assert ap1r0 == (0, 0x0400_0000)
    assert rpr == (0, 0xD0)
    assert iar_again == (0, 1023)


@pytest.mark.parametrize("count", [1500])
def test_kvm_recording_through_the_port_matches_the_model(count):
    """The first accesses of the KVM vgic-v3 recording, each through the port,
    read what the golden model reads, with its line levels after each."""
    transactions = []
    with gzip.open(KVM3, "rt") as f:
        for line in f:
            o = json.loads(line)
            if "op" in o:
                transactions.append(o)
            if len(transactions) == count:
                break
    dut = SysRegVirtualInterface(4)
    model = VirtualInterface(4, arch="v3")

    async def body(access, lines):
        for o in transactions:
            undef, value = await access(sysregs.lookup(o["reg"]).enc, o["op"] == "write",
                                        o.get("value", 0))
            if o["op"] == "write":
                model.write_sysreg(o["reg"], o["value"])
                want = 0
            else:
                want = model.read_sysreg(o["reg"])
            got_lines = await lines()
            if (undef, value, got_lines) != (0, want, (model.virq, model.vfiq, model.maint)):
                return o, (undef, value, got_lines), (0, want, (model.virq, model.vfiq, model.maint))
        return None

    assert run(dut, body) is None
