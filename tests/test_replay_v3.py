# Ref: docs/traces.md (GICv3 traces); docs/architecture-v3.md (the GICv3 interface)
"""`vgic replay --arch v3` (sim/trace.py, sim/replay.py, sim/diff.py): GICv3
traces of ICH_*_EL2/ICV_*_EL1 system registers, 64-bit values run as 32-bit
accesses on the memory-mapped layout of rtl/sysregs.py, clear errors with
file:line, and the lock-step runner on two GICv3 models."""
import gzip
import json
import os
import pathlib

import pytest

from vgic.sim.diff import DiffRunner, Divergence, make_engine
from vgic.sim.model import VirtualInterface
from vgic.sim.replay import replay_iter
from vgic.sim.stimulus import describe
from vgic.sim.trace import TraceError, iter_trace, parse_lines, read_trace
from cli_run import run, write_trace

ROOT = pathlib.Path(__file__).resolve().parents[1]
KVM3 = ROOT / "tests" / "data" / "kvm3" / "kvm3_linux_2vcpu.jsonl.gz"


def test_kvm_vgic_v3_recording_replays_with_no_difference(capsys):
    """The real KVM vgic-v3 recording: every read value and recorded level
    matches (the 64-bit LRs through their two halves)."""
    code, out, err = run(capsys, "replay", KVM3, "--arch", "v3", "--compare", "-q")
    assert code == 0, err
    assert "vgic replay: 105003 transactions on model (4 LRs, arch v3)" in err
    assert "compared with the recording: 214180 values, 0 difference(s)" in err
    first = json.loads(out[:out.index("\n")])
    assert first == {"seq": 0, "op": "write", "reg": "ICH_HCR_EL2", "value": 0,
                     "hex": "0x0000000000000000", "virq": 0, "vfiq": 0, "maint": 0,
                     "deactivate": []}


# A hand-written trace, its results worked out from docs/architecture-v3.md:
# (trace line, expected (reg, value, virq, vfiq, maint, deactivate))
HAND = [
    ({"op": "write", "reg": "ICH_HCR_EL2", "value": 1},                    # En
     ("ICH_HCR_EL2", 1, 0, 0, 0, [])),
    ({"op": "write", "reg": "icv_igrpen1_el1", "value": 1},                # case ignored
     ("ICV_IGRPEN1_EL1", 1, 0, 0, 0, [])),
    ({"op": "write", "reg": "ICV_PMR_EL1", "value": "0xf8"},
     ("ICV_PMR_EL1", 0xF8, 0, 0, 0, [])),
    # LR0: State 01 (pending), Group 1, Priority 0xA0, vINTID 32
    ({"op": "write", "reg": "ICH_LR0_EL2", "value": "0x50a0000000000020"},
     ("ICH_LR0_EL2", 0x50A0_0000_0000_0020, 1, 0, 0, [])),
    ({"op": "read", "reg": "ICH_ELRSR_EL2"},                               # LR1..3 empty
     ("ICH_ELRSR_EL2", 0b1110, 1, 0, 0, [])),
    ({"op": "read", "reg": "ICV_HPPIR1_EL1"}, ("ICV_HPPIR1_EL1", 32, 1, 0, 0, [])),
    ({"op": "read", "reg": "ICV_IAR1_EL1"}, ("ICV_IAR1_EL1", 32, 0, 0, 0, [])),
    ({"op": "read", "reg": "ICH_LR0_EL2"},                                 # now active (10)
     ("ICH_LR0_EL2", 0x90A0_0000_0000_0020, 0, 0, 0, [])),
    ({"op": "read", "reg": "ICV_RPR_EL1"}, ("ICV_RPR_EL1", 0xA0, 0, 0, 0, [])),
    ({"op": "read", "reg": "ICH_AP1R0_EL2"},                               # bit 0xA0 >> 3 = 20
     ("ICH_AP1R0_EL2", 1 << 20, 0, 0, 0, [])),
    ({"op": "write", "reg": "ICV_EOIR1_EL1", "value": 32}, ("ICV_EOIR1_EL1", 32, 0, 0, 0, [])),
    ({"op": "read", "frame": "ICH", "offset": "0x100"},                    # LR0 by its slot
     ("ICH_LR0_EL2", 0x10A0_0000_0000_0020, 0, 0, 0, [])),
    # LR1: pending, HW = 1, Group 1, Priority 0xA0, pINTID 33, vINTID 33
    ({"op": "write", "reg": "ICH_LR1_EL2", "value": "0x70a0002100000021"},
     ("ICH_LR1_EL2", 0x70A0_0021_0000_0021, 1, 0, 0, [])),
    ({"op": "read", "reg": "ICV_IAR1_EL1"}, ("ICV_IAR1_EL1", 33, 0, 0, 0, [])),
    ({"op": "write", "reg": "ICV_EOIR1_EL1", "value": 33},                 # forwards pINTID 33
     ("ICV_EOIR1_EL1", 33, 0, 0, 0, [33])),
    ({"op": "read", "reg": "ICH_LR1_EL2"}, ("ICH_LR1_EL2", 0x30A0_0021_0000_0021, 0, 0, 0, [])),
    ({"op": "write", "reg": "ICH_LR7_EL2", "value": "0xffffffffffffffff"},   # 4 LRs: WI
     ("ICH_LR7_EL2", 2**64 - 1, 0, 0, 0, [])),
    ({"op": "read", "reg": "ICH_LR7_EL2"}, ("ICH_LR7_EL2", 0, 0, 0, 0, [])),
    ({"op": "read", "frame": "ICH", "offset": "0x1f0"}, ("ICH+0x1f0", 0, 0, 0, 0, [])),   # a hole
    ({"op": "read", "reg": "ICH_VTR_EL2"}, ("ICH_VTR_EL2", 0x90B8_0003, 0, 0, 0, [])),
    ({"op": "reset"}, (None, None, 0, 0, 0, [])),
    ({"op": "read", "reg": "ICH_VMCR_EL2"}, ("ICH_VMCR_EL2", 0x004C_0008, 0, 0, 0, [])),   # V18
    ({"op": "write", "reg": "ICH_HCR_EL2", "value": 3},                    # En, UIE: no LR valid
     ("ICH_HCR_EL2", 3, 0, 0, 1, [])),
]


def test_a_hand_written_trace_gives_the_expected_results(capsys, tmp_path):
    p = write_trace(tmp_path, {"title": "one vIRQ, one HW vIRQ"}, *(line for line, _ in HAND))
    code, out, err = run(capsys, "replay", p, "--arch", "v3")
    assert code == 0, err
    results = [json.loads(l) for l in out.splitlines()]
    assert len(results) == len(HAND)
    for r, (line, want) in zip(results, HAND):
        got = (r["reg"], r.get("value"), r["virq"], r["vfiq"], r["maint"], r["deactivate"])
        assert got == want, line
        if r["op"] != "reset":
            assert r["hex"] == f"0x{want[1]:016x}"                # 16 hex digits
    assert results[3]["hex"] == "0x50a0000000000020"
    assert results[0]["hex"] == "0x0000000000000001"


def test_compare_holds_the_replay_to_the_recorded_64_bit_values(capsys, tmp_path):
    p = write_trace(tmp_path, *(dict(line, value=want[1]) if line["op"] == "read" else line
                                for line, want in HAND))
    code, _, err = run(capsys, "replay", p, "--arch", "v3", "--compare")
    assert code == 0 and "0 difference(s)" in err
    wrong = write_trace(tmp_path,
                        {"op": "write", "reg": "ICH_LR2_EL2", "value": "0x50a0000000000020"},
                        {"op": "read", "reg": "ICH_LR2_EL2", "value": "0x40a0000000000020"})
    code, _, err = run(capsys, "replay", wrong, "--arch", "v3", "--compare")
    assert code == 1
    assert (f"{wrong}:2: seq 1 read ICH_LR2_EL2: value recorded {0x40A0_0000_0000_0020}, "
            f"replay {0x50A0_0000_0000_0020}") in err


class Recorder(VirtualInterface):
    """A GICv3 model that logs the 32-bit accesses it gets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = []

    def read(self, frame, offset):
        value = super().read(frame, offset)
        self.log.append(("read", frame, offset, value))
        return value

    def write(self, frame, offset, value, strb=0xF):
        self.log.append(("write", frame, offset, value))
        super().write(frame, offset, value, strb)


def test_a_64_bit_access_is_its_halves_on_the_memory_mapped_layout():
    """ICH_LR<n>_EL2: low half (+0) then high half (+4), for writes and reads;
    every other register: its low half alone (an IAR read acknowledges once,
    a value's high 32 bits are RES0 there)."""
    lines = ['{"op": "write", "reg": "ICH_HCR_EL2", "value": "0x100000001"}',
             '{"op": "write", "reg": "ICV_IGRPEN1_EL1", "value": 1}',
             '{"op": "write", "reg": "ICV_PMR_EL1", "value": 255}',
             '{"op": "write", "reg": "ICH_LR3_EL2", "value": "0x50a0000000000020"}',
             '{"op": "read", "reg": "ICH_LR3_EL2"}',
             '{"op": "read", "reg": "ICV_IAR1_EL1"}',
             '{"op": "read", "reg": "ICH_HCR_EL2"}']
    engine = Recorder(4, arch="v3")
    results = [r for _, r in replay_iter(parse_lines(lines, arch="v3"), [engine])]
    assert engine.log == [
        ("write", "ICH", 0xC0, 1),                                  # ICH_HCR_EL2, low half only
        ("write", "ICV", 0x138, 1),                                 # ICV_IGRPEN1_EL1
        ("write", "ICV", 0x180, 0xFF),                              # ICV_PMR_EL1
        ("write", "ICH", 0x118, 0x0000_0020), ("write", "ICH", 0x11C, 0x50A0_0000),
        ("read", "ICH", 0x118, 0x0000_0020), ("read", "ICH", 0x11C, 0x50A0_0000),
        ("read", "ICV", 0x100, 32),                                 # one acknowledge
        ("read", "ICH", 0xC0, 1)]
    assert results[4]["value"] == 0x50A0_0000_0000_0020               # low | high << 32
    assert results[5]["value"] == 32 and results[6]["value"] == 1


def test_a_high_half_write_keeps_the_low_half():
    """The second half of an LR write lands on the first (the model keeps the
    other half of a 64-bit register: AArch32's ICH_LR/ICH_LRC)."""
    lines = ['{"op": "write", "reg": "ICH_LR0_EL2", "value": "0x10a0000000000029"}',
             '{"op": "write", "reg": "ICH_LR0_EL2", "value": "0x20a0001500000015"}',
             '{"op": "read", "reg": "ICH_LR0_EL2"}']
    results = [r for _, r in replay_iter(parse_lines(lines, arch="v3"),
                                         [VirtualInterface(4, arch="v3")])]
    assert results[2]["value"] == 0x20A0_0015_0000_0015                 # HW = 1, pINTID 21


def test_v3_names_in_descriptions():
    assert describe("ICH", 0x118) == "ICH_LR3_EL2"
    assert describe("ICH", 0x11C) == "ICH_LR3_EL2 (high half)"
    assert describe("ICV", 0x100) == "ICV_IAR1_EL1"
    assert describe("ICV", 0x180) == "ICV_PMR_EL1"
    assert describe("ICH", 0x1F0) == "ICH+0x1f0 (reserved)"
    assert describe("GICH", 0x100) == "GICH_LR0"                       # GICv2 unchanged


@pytest.mark.parametrize("line, message", [
    ('{"op": "read", "reg": "ICH_FOO_EL2"}', "unknown register name 'ICH_FOO_EL2'"),
    ('{"op": "read", "reg": "ICH_LR16_EL2"}', "unknown register name 'ICH_LR16_EL2'"),
    ('{"op": "read", "reg": "GICH_HCR"}', "GICH_HCR is a GICv2 register: replay this trace "
                                          "with --arch v2"),
    ('{"op": "read", "reg": "gicv_iar"}', "gicv_iar is a GICv2 register"),
    ('{"op": "read", "reg": "ICH_HCR_EL2", "addr": "0x08030000"}',
     "'addr': system registers have no address"),
    ('{"op": "write", "reg": "ICH_LR0_EL2", "value": "0x10000000000000000"}',
     "'value' = 0x10000000000000000 does not fit in 64 bits"),
    ('{"op": "write", "reg": "ICH_LR0_EL2", "value": -1}', "does not fit in 64 bits"),
    ('{"op": "write", "reg": "ICH_HCR_EL2", "value": 1, "strb": 15}', "'strb': system registers"),
    ('{"op": "read", "frame": "ICH", "offset": "0x104"}', "offset 0x104 is not a register slot "
                                                          "of the ICH frame: inside ICH_LR0_EL2"),
    ('{"op": "read", "frame": "ICV", "offset": "0x2000"}', "not a register slot of the ICV frame"),
    ('{"op": "read", "frame": "GICV", "offset": 0}', "(a GICv2 frame: replay with --arch v2)"),
    ('{"op": "read", "reg": "ICH_HCR_EL2", "frame": "ICH", "offset": "0xc8"}',
     "'reg' ICH_HCR_EL2 is at ICH+0xc0 but frame/offset points at ICH+0xc8"),
    ('{"op": "read", "reg": "ICH_HCR_EL2", "cpu": 1}', "'cpu' is 1, but the core has 1 CPU"),
    ('{"op": "read", "reg": "ICV_IAR1_EL1", "gich_cpu": 0}',
     "'gich_cpu' names a processor-specific ICH view: for ICH accesses only"),
    ('{"op": "read"}', "a read needs 'reg' (or 'frame' and 'offset')"),
])
def test_bad_v3_input_names_file_line_and_problem(capsys, tmp_path, line, message):
    p = write_trace(tmp_path, {"op": "read", "reg": "ICH_HCR_EL2"}, line)
    code, out, err = run(capsys, "replay", p, "--arch", "v3")
    assert code == 2 and out == ""
    assert f"{p}:2: " in err and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("line, message", [
    ('{"op": "read", "reg": "ICH_LR0_EL2"}', "ICH_LR0_EL2 is a GICv3 register: replay this "
                                             "trace with --arch v3"),
    ('{"op": "read", "reg": "icv_iar1_el1"}', "icv_iar1_el1 is a GICv3 register"),
    ('{"op": "read", "reg": "GICR_CTLR"}', "GICR_CTLR is a GICv3 register"),
    ('{"op": "read", "frame": "ICV", "offset": 0}', "(a GICv3 frame: replay with --arch v3)"),
])
def test_a_gicv3_name_in_a_v2_run_says_which_arch(capsys, tmp_path, line, message):
    p = write_trace(tmp_path, {"op": "read", "reg": "GICH_HCR"}, line)
    code, out, err = run(capsys, "replay", p)
    assert code == 2 and f"{p}:2: " in err and message in err


def test_physical_gicv3_registers_are_skipped(capsys, tmp_path):
    p = write_trace(tmp_path, {"op": "read", "reg": "ICC_IAR1_EL1", "value": 5},
                    {"op": "write", "reg": "GICD_CTLR", "value": 1},
                    {"op": "read", "reg": "gicr_waker"},
                    {"op": "read", "reg": "ICH_VTR_EL2", "value": "0x90b80003"})
    code, out, err = run(capsys, "replay", p, "--arch", "v3")
    assert code == 0, err
    r = [json.loads(l) for l in out.splitlines()]
    assert [x.get("skipped", False) for x in r] == [True, True, True, False]
    assert r[0]["hex"] == "0x0000000000000005" and r[2]["hex"] is None
    assert "3 physical-GIC accesses skipped" in err


def test_the_reader_takes_arch():
    ts = parse_lines(['{"op": "write", "reg": "ich_lr1_el2", "value": "0xffffffffffffffff"}'],
                     arch="v3")
    assert (ts[0].reg, ts[0].frame, ts[0].offset, ts[0].value, ts[0].arch) == \
        ("ICH_LR1_EL2", "ICH", 0x108, 2**64 - 1, "v3")
    with pytest.raises(ValueError, match="arch must be one of v2, v3"):
        parse_lines([], arch="v4")
    with pytest.raises(TraceError, match="GICv3 register"):
        read_trace(KVM3)                                      # the default is v2


@pytest.mark.parametrize("option, vtr", [
    ([], 0x90B8_0003),                        # QEMU's cortex-a57
    (["--lrs", "16"], 0x90B8_000F),           # ListRegs = 15
    (["--pri-bits", "8", "--pre-bits", "7"], 0xF8B8_0003),  # PRIbits 7, PREbits 6
    (["--id-bits", "16"], 0x9038_0003),       # IDbits 0
])
def test_v3_parameters(capsys, tmp_path, option, vtr):
    p = write_trace(tmp_path, {"op": "read", "reg": "ICH_VTR_EL2"})
    code, out, err = run(capsys, "replay", p, "--arch", "v3", *option)
    assert code == 0, err
    assert json.loads(out)["value"] == vtr


def test_rp_unmasked(capsys, tmp_path):
    """docs/architecture-v3.md V19 example 2: Group 0 active at 0x30, a Group 1
    candidate at 0x28 with VBPR1 5 (gmask 0xE0): masked, 0x20 < 0x20 fails and
    IAR1 reads 1023; unmasked, 0x20 < 0x30 and it is taken."""
    p = write_trace(tmp_path,
                    {"op": "write", "reg": "ICH_HCR_EL2", "value": 1},
                    {"op": "write", "reg": "ICH_VMCR_EL2", "value": "0x8054000b"},
                    {"op": "write", "reg": "ICH_AP0R0_EL2", "value": "0x40"},
                    {"op": "write", "reg": "ICH_AP1R0_EL2", "value": "0x1100"},
                    {"op": "write", "reg": "ICH_LR3_EL2", "value": "0x5028000000000022"},
                    {"op": "read", "reg": "ICV_IAR1_EL1"})
    code, out, err = run(capsys, "replay", p, "--arch", "v3")
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["value"] == 1023
    code, out, err = run(capsys, "replay", p, "--arch", "v3", "--rp-unmasked")
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["value"] == 34


@pytest.mark.parametrize("argv, message", [
    (["--arch", "v3", "--lrs", "17"], "--lrs must be an integer from 1 to 16"),
    (["--arch", "v3", "--pri-bits", "4"], "--pri-bits must be 5..8"),
    (["--arch", "v3", "--pre-bits", "6"], "--pre-bits must be 5..5"),
    (["--pri-bits", "6"], "--pri-bits: a parameter of --arch v3"),
    (["--arch", "v2", "--rp-unmasked", "--id-bits", "16"],
     "--id-bits, --rp-unmasked: parameters of --arch v3"),
    (["--arch", "v3", "--gich-base", "0x1000"], "--gich-base: an address map of GICv2's frames"),
])
def test_bad_v3_options(capsys, tmp_path, argv, message):
    p = write_trace(tmp_path, {"op": "read", "reg": "ICH_HCR_EL2"})
    code, out, err = run(capsys, "replay", p, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_make_engine_passes_the_v3_parameters():
    m = make_engine("model", 8, arch="v3", pri_bits=8, pre_bits=6, id_bits=16, rp_masked=False)
    assert (m.v3.num_lrs, m.v3.pri_bits, m.v3.pre_bits, m.v3.id_bits, m.v3.rp_masked) == \
        (8, 8, 6, 16, False)
    assert make_engine("model", 4).arch == "v2"
    with pytest.raises(ValueError, match="pri_bits: parameters of arch v3"):
        make_engine("model", 4, pri_bits=8)
    assert make_engine("model", 4, num_cpus=2, arch="v3").v3.num_lrs == 4


def test_two_v3_models_in_lock_step_agree_on_the_kvm_recording():
    ts = iter_trace(KVM3, arch="v3")
    engines = [VirtualInterface(4, arch="v3"), VirtualInterface(4, arch="v3")]
    n = sum(1 for _ in replay_iter(ts, engines, names=("model", "model2")))
    assert n == 105003


def test_a_v3_divergence_names_the_half_and_the_v3_state():
    """DiffRunner with two GICv3 models, the second wrong in LR0's high half:
    the report names the half, the trace line, and the reference's state in
    ICH_* terms."""
    class BrokenHigh(VirtualInterface):
        def read(self, frame, offset):
            v = super().read(frame, offset)
            return v ^ 1 if (frame, offset) == ("ICH", 0x104) else v

    lines = ['{"op": "write", "reg": "ICH_HCR_EL2", "value": 1}',
             '{"op": "write", "reg": "ICH_LR0_EL2", "value": "0x70a0002100000021"}',
             '{"op": "read", "reg": "ICH_LR0_EL2"}']
    engines = [VirtualInterface(4, arch="v3"), BrokenHigh(4, arch="v3")]
    with pytest.raises(Divergence) as e:
        list(replay_iter(parse_lines(lines, path="t.jsonl", arch="v3"), engines,
                         names=("model", "broken")))
    d = e.value
    assert d.register == "ICH_LR0_EL2 (high half)" and d.signal == "read data"
    assert (d.expected, d.actual) == (0x70A0_0021, 0x70A0_0020)
    report = d.report()
    assert "DIVERGENCE at transaction #4: read  ICH_LR0_EL2 (high half)" in report
    assert "trace line 3 (seq 2)" in report
    assert "write ICH_LR0_EL2 (high half) = 0x70a00021" in report      # the history
    assert "ICH_HCR_EL2=0x00000001" in report
    assert ("ICH_LR0_EL2 = 0x70a0002100000021  State=01 HW=1 Group=1 Priority=0xa0 "
            "vINTID=33 pINTID=33") in report


def test_diff_runner_on_two_v3_models_directly():
    """DiffRunner takes GICv3 models and their memory-mapped Txns as it takes
    GICv2's; its report's state is in ICH_* terms."""
    from vgic.sim.stimulus import Txn

    txns = [Txn("write", "ICH", 0xC0, 1), Txn("write", "ICH", 0x100, 0x2A),
            Txn("write", "ICH", 0x104, 0x50A0_0000), Txn("read", "ICH", 0x104),
            Txn("read", "ICV", 0x180), Txn("reset")]
    assert DiffRunner(VirtualInterface(4, arch="v3"), VirtualInterface(4, arch="v3")).run(txns) == 6

    class WrongVTR(VirtualInterface):
        def read(self, frame, offset):
            return super().read(frame, offset) ^ (0x8 if (frame, offset) == ("ICH", 0xC8) else 0)

    runner = DiffRunner(VirtualInterface(4, arch="v3"), WrongVTR(4, arch="v3"))
    runner.run(txns[:3])
    with pytest.raises(Divergence) as e:
        runner.step(Txn("read", "ICH", 0xC8))
    assert e.value.register == "ICH_VTR_EL2"
    assert (e.value.index, e.value.expected, e.value.actual) == (3, 0x90B8_0003, 0x90B8_000B)
    assert "ICH_LR0_EL2 = 0x50a000000000002a  State=01 HW=0 Group=1 Priority=0xa0 vINTID=42 " \
           "EOI=0" in e.value.report()


def test_lock_step_collects_deactivations_over_both_halves():
    """The deactivation a GICv3 EOI forwards is reported once, whichever half
    carried it, and both engines saw the same accesses."""
    lines = ['{"op": "write", "reg": "ICH_HCR_EL2", "value": 1}',
             '{"op": "write", "reg": "ICV_IGRPEN1_EL1", "value": 1}',
             '{"op": "write", "reg": "ICV_PMR_EL1", "value": 255}',
             '{"op": "write", "reg": "ICH_LR0_EL2", "value": "0x70a0002100000021"}',
             '{"op": "read", "reg": "ICV_IAR1_EL1"}',
             '{"op": "write", "reg": "ICV_EOIR1_EL1", "value": 33}',
             '{"op": "write", "reg": "ICH_LR0_EL2", "value": 0}']
    ref, dut = Recorder(4, arch="v3"), Recorder(4, arch="v3")
    results = [r for _, r in replay_iter(parse_lines(lines, arch="v3"), [ref, dut])]
    assert [r["deactivate"] for r in results] == [[], [], [], [], [], [33], []]
    assert ref.log == dut.log and len(ref.log) == 9


def test_gzip_v3_trace_to_a_file(capsys, tmp_path):
    p = tmp_path / "t.jsonl.gz"
    with gzip.open(p, "wt") as f:
        f.write(json.dumps({"op": "read", "reg": "ICH_VMCR_EL2", "value": "0x4c0008"}) + "\n")
    out_file = tmp_path / "out.jsonl"
    code, out, err = run(capsys, "replay", p, "--arch", "v3", "--compare", "-o", out_file)
    assert code == 0 and out == "", err
    assert json.loads(out_file.read_text())["hex"] == "0x00000000004c0008"


def _verilator():
    from vgic.sim import fast
    try:
        fast.verilator_root()
        return True
    except fast.FastEngineError:
        return False


needs_verilator = pytest.mark.skipif(not _verilator(), reason="Verilator not installed")


@needs_verilator
def test_kvm3_on_model_and_fast_engine_in_lock_step(capsys, tmp_path):
    """The KVM vgic-v3 recording, whole, on the model and the Verilator build
    of the RTL in lock step (sim/diff.py), compared with the recording."""
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "replay", str(KVM3), "--arch", "v3", "--engine", "both",
                       "--rtl", "fast", "--compare", "-q", "-o", str(out))
    assert code == 0, err
    assert "105003 transactions on model+fast (4 LRs, arch v3), no divergence" in err
    assert "214180 values, 0 difference(s)" in err


@needs_verilator
@pytest.mark.parametrize("bus", ["core"] + (["axi4lite", "apb", "wishbone", "wishbone-pipelined"]
                                            if os.environ.get("VGIC_FAST_ALL") else []))
def test_kvm3_back_to_back_through_each_bus(capsys, tmp_path, bus):
    """--timing: the recording's accesses issued back to back (behind the
    bridges; every bridge with VGIC_FAST_ALL=1, a Verilator build each) read
    what one-at-a-time replay reads (sim/replay.py Timing)."""
    code, _, err = run(capsys, "replay", str(KVM3), "--arch", "v3", "--engine", "fast",
                       "--timing", "--bus", bus, "-q", "-o", str(tmp_path / "out.jsonl"))
    assert code == 0, err
    assert "cycles per transaction" in err


@needs_verilator
def test_an_eoir_right_after_an_ap_write_drops_from_the_written_value():
    """Found by the benchmark's critical path: apr_upto lands one edge after an
    AP register write, so an EOIR strobed in the very next cycle dropped
    nothing. ready is low for that cycle now (rtl/timing.py): back to back
    reads what one at a time does (V8: AP1R0 0b110 -> 0b100)."""
    from vgic.sim.fast import FastEngine
    from vgic.rtl import sysregs
    addr = {n: sysregs.lookup(n).addr for n in ("ICH_HCR_EL2", "ICH_AP1R0_EL2", "ICV_AP0R0_EL1",
                                                "ICV_EOIR1_EL1", "ICV_EOIR0_EL1", "ICV_RPR_EL1")}
    e = FastEngine(4, arch="v3")
    e.issue("write", addr["ICH_HCR_EL2"], 1)
    e.issue("write", addr["ICH_AP1R0_EL2"], 0b110)
    e.issue("write", addr["ICV_EOIR1_EL1"], 5)
    e.issue("read", addr["ICH_AP1R0_EL2"])
    e.issue("write", addr["ICV_AP0R0_EL1"], 0b1000)
    e.issue("read", addr["ICV_RPR_EL1"])
    e.issue("write", addr["ICV_EOIR0_EL1"], 5)
    e.issue("read", addr["ICV_RPR_EL1"])
    assert e.take_reads(drain=True) == [0b100, 2 << 3, 3 << 3]
    e.close()


@needs_verilator
def test_an_eoir_right_after_a_binary_point_write_checks_the_new_group_priority():
    """Found by formal group v3_eoi: V8's check read the LR's group priority
    registered under the old binary point when an EOIR came within two
    cycles of an ICH_VMCR_EL2 write. ready is low for those cycles now: LR0
    (active, Group 1, 0xF8) with VBPR0 7 under VCBPR has group priority 0,
    not the dropped 0xF8, so the EOIR leaves it active (formal's counterexample)."""
    from vgic.sim.fast import FastEngine
    from vgic.rtl import sysregs
    a = {n: sysregs.lookup(n).addr for n in ("ICH_HCR_EL2", "ICH_AP1R0_EL2", "ICH_LR0_EL2",
                                             "ICH_VMCR_EL2", "ICV_EOIR1_EL1")}
    e = FastEngine(4, arch="v3")
    e.issue("write", a["ICH_HCR_EL2"], 1)
    e.issue("write", a["ICH_AP1R0_EL2"], 0x8000_0000)
    e.issue("write", a["ICH_LR0_EL2"] + 4, 0xB8F8_03FC)       # active, Group 1, 0xF8
    e.issue("write", a["ICH_VMCR_EL2"], 0x38FC_0537)          # VCBPR 1, VBPR0 7
    e.issue("write", a["ICV_EOIR1_EL1"], 0)
    e.issue("read", a["ICH_LR0_EL2"] + 4)
    e.issue("read", a["ICH_AP1R0_EL2"])
    assert e.take_reads(drain=True) == [0xB0F8_03FC, 0]        # still active (NMI bit 59: RES0)
    e.close()
