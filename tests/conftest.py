# Ref: arch 1 (frames), arch 2.8 (GICH_LR<n> layout); test harness only.
"""The `vgic` fixture: one virtual interface per test, on every engine.

Engines: "model" (vgic.sim.model.VirtualInterface) and "rtl"
(vgic.sim.driver.RTLEngine, an Amaranth simulation of the RTL with the same
interface). The fixture returns a `Dut`: the engine plus register-name
helpers, the LR count and a snapshot of every side-effect-free register.

LR counts (GICH_VTR.ListRegs + 1):
- every directed test runs on the model at 1, 4, 16 and 64 LRs;
- on the RTL at 4 LRs, plus 1 and 64 for tests marked `lr_dependent`;
- `@pytest.mark.lrs(model=(...), rtl=(...))` picks the counts explicitly;
- `@pytest.mark.model_only` for tests of the model's own Python API.
Several CPUs (rtl/cluster.py): every directed test also runs at 4 LRs on one
CPU of a 4-CPU core, other CPUs' traffic interleaved before each access
(`OnCPU`): on the model for each of CPUs 0..3 ("cpus-model-c<n>"), on the RTL
in Verilator for CPU 2 ("cpus-fast-c2", skipped without Verilator); the
answers must be those of a one-CPU core. VGIC_CPUS_RTL=1 adds the Amaranth
simulation on CPU 2 ("cpus-rtl-c2", slow).
Environment: VGIC_RTL_LRS=1,4,16,64 runs the RTL at those counts for every
test (a long run); VGIC_ENGINES=model (or rtl) runs one engine only.
"""
import importlib
import importlib.util
import os
import pathlib
import random

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _installed_elsewhere():
    """A message when `import vgic` finds another checkout than this one (an
    editable install of another tree: the tests would silently test it)."""
    spec = importlib.util.find_spec("vgic")
    if spec is None:
        return (f"the package 'vgic' is not installed; run `make setup` (pip install -e "
                f"'.[test,hw]') in {ROOT}")
    for name, folder in (("vgic", "vgic"), ("vgic.rtl", "rtl"), ("vgic.sim", "sim")):
        found = pathlib.Path(importlib.util.find_spec(name).origin).resolve().parent
        if found != ROOT / folder:
            return (f"these tests are in {ROOT}, but `import {name}` loads {found}: another "
                    f"checkout is installed. Run `make setup` (pip install -e '.[test,hw]') "
                    f"in {ROOT} to test this tree, or run the tests of the installed one.")
    return None


from vgic.rtl import regs                           # noqa: E402  (checked in pytest_configure)
from vgic.sim.model import VirtualInterface         # noqa: E402
from vgic.sim.stimulus import lr_value              # noqa: E402,F401  (the tests' LR encoder)

MODEL_LRS = (1, 4, 16, 64)
RTL_LRS = (4,)
RTL_LRS_DEPENDENT = (1, 4, 64)

# LR State encodings (arch 2.8)
INVALID, PENDING, ACTIVE, PENDING_ACTIVE = 0b00, 0b01, 0b10, 0b11


def _rtl_engine_class():
    """RTLEngine, or (None, reason) while the RTL helper has not written it yet.
    Any other import error is real and is raised when a test uses it."""
    if importlib.util.find_spec("vgic.sim.driver") is None:
        return None, "vgic.sim.driver does not exist yet (RTL engine being written)"
    module = importlib.import_module("vgic.sim.driver")
    if not hasattr(module, "RTLEngine"):
        return None, "vgic.sim.driver has no RTLEngine yet (RTL engine being written)"
    return module.RTLEngine, None


def _env_list(name):
    text = os.environ.get(name, "").strip()
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def pytest_configure(config):
    problem = _installed_elsewhere()
    if problem:
        pytest.exit(f"refusing to run: {problem}", returncode=4)
    config.addinivalue_line("markers", "lr_dependent: rule depends on the LR count; "
                                       "runs on the RTL at 1, 4 and 64 LRs")
    config.addinivalue_line("markers", "lrs(model=(...), rtl=(...)): explicit LR counts")
    config.addinivalue_line("markers", "model_only: checks the golden model's Python API")


def pytest_generate_tests(metafunc):
    if "vgic" not in metafunc.fixturenames:
        return
    definition = metafunc.definition
    explicit = definition.get_closest_marker("lrs")
    if explicit is not None:
        model_lrs = explicit.kwargs.get("model", MODEL_LRS)
        rtl_lrs = explicit.kwargs.get("rtl", RTL_LRS)
    elif definition.get_closest_marker("lr_dependent") is not None:
        model_lrs, rtl_lrs = MODEL_LRS, RTL_LRS_DEPENDENT
    else:
        model_lrs, rtl_lrs = MODEL_LRS, RTL_LRS
    env_rtl = _env_list("VGIC_RTL_LRS")
    if env_rtl and explicit is None:
        rtl_lrs = tuple(int(n) for n in env_rtl)
    if definition.get_closest_marker("model_only") is not None:
        rtl_lrs = ()
    engines = _env_list("VGIC_ENGINES") or ["model", "rtl"]

    params = []
    if "model" in engines:
        params += [pytest.param(("model", n), id=f"model-{n}") for n in model_lrs]
    if "rtl" in engines:
        cls, reason = _rtl_engine_class()
        marks = [pytest.mark.skip(reason=reason)] if cls is None else []
        params += [pytest.param(("rtl", n), id=f"rtl-{n}", marks=marks) for n in rtl_lrs]
    if definition.get_closest_marker("model_only") is None and explicit is None:
        if "model" in engines:
            params += [pytest.param(("cpus-model", 4, c), id=f"cpus-model-c{c}")
                       for c in range(CPUS)]
        if "rtl" in engines:
            params.append(pytest.param(("cpus-fast", 4, 2), id="cpus-fast-c2"))
            if os.environ.get("VGIC_CPUS_RTL"):
                params.append(pytest.param(("cpus-rtl", 4, 2), id="cpus-rtl-c2"))
    metafunc.parametrize("vgic", params, indirect=True)


# RTL simulations are built once per LR count and reset before each test.
_rtl_cache = {}


@pytest.fixture
def vgic(request):
    kind, num_lrs, *cpu = request.param
    if kind.startswith("cpus-"):
        return Dut(on_cpu(kind.removeprefix("cpus-"), num_lrs, cpu[0]), kind, num_lrs)
    if kind == "model":
        return Dut(VirtualInterface(num_lrs=num_lrs), kind, num_lrs)
    if num_lrs not in _rtl_cache:
        cls, reason = _rtl_engine_class()
        if cls is None:
            pytest.skip(reason)
        _rtl_cache[num_lrs] = cls(num_lrs=num_lrs)
    engine = _rtl_cache[num_lrs]
    engine.reset()
    return Dut(engine, kind, num_lrs)


# -- one CPU of several (rtl/cluster.py) ---------------------------------------
CPUS = 4
_cpus_cache = {}


def on_cpu(kind, num_lrs, cpu):
    """CPU `cpu` of a CPUS-CPU engine ("model", "fast", "rtl"), reset, as an
    OnCPU. The Verilator build is made once per session (skip if missing)."""
    from vgic.sim.diff import make_engine
    if kind == "model":
        engine = make_engine("model", num_lrs, num_cpus=CPUS)
    else:
        if (kind, num_lrs) not in _cpus_cache:
            try:
                _cpus_cache[(kind, num_lrs)] = make_engine(kind, num_lrs, num_cpus=CPUS)
            except Exception as e:
                from vgic.sim.fast import FastEngineError
                if kind == "fast" and isinstance(e, FastEngineError):
                    _cpus_cache[(kind, num_lrs)] = e
                else:
                    raise
        engine = _cpus_cache[(kind, num_lrs)]
        if isinstance(engine, Exception):
            pytest.skip(f"fast engine not available: {engine}")
        engine.reset()
    return OnCPU(engine, cpu, seed=cpu)


def other_cpus_traffic(rng, cpu, num_cpus, num_lrs):
    """0 to 2 accesses by CPUs other than `cpu`, to their own interfaces or
    through the views of CPUs other than `cpu` (some the core lacks): state
    changes that CPU `cpu` must never see."""
    from vgic.sim.stimulus import Txn
    out = []
    for _ in range(rng.randrange(3)):
        by = rng.choice([c for c in range(num_cpus) if c != cpu])
        view = rng.choice([None, rng.choice([c for c in range(regs.MAX_CPUS) if c != cpu])])
        r = rng.choice([regs.GICH_HCR, regs.GICH_VMCR, regs.GICH_APR, regs.lr(0),
                        regs.lr(num_lrs - 1), regs.GICH_MISR, regs.GICV_CTLR, regs.GICV_PMR,
                        regs.GICV_IAR, regs.GICV_EOIR, regs.GICV_DIR, regs.GICV_BPR])
        value = rng.choice([1, 3, 0xF8, 0x1000_0000 | rng.randrange(32),
                            0x9000_0000 | rng.randrange(32) << 10 | rng.randrange(32)])
        out.append(Txn("read" if r.access == "RO" else rng.choice(["read", "write"]),
                       r.frame, r.offset, value, cpu=by,
                       gich_cpu=view if r.frame == "GICH" else None))
    return out


class OnCPU:
    """CPU `cpu` of a several-CPU engine behind the one-CPU engine interface;
    before each of its accesses, other CPUs' traffic (other_cpus_traffic)."""

    def __init__(self, engine, cpu, seed=0):
        self.engine, self.cpu, self.num_lrs = engine, cpu, engine.num_lrs
        self.rng = random.Random(seed)

    def _others(self):
        from vgic.sim.stimulus import apply
        for t in other_cpus_traffic(self.rng, self.cpu, self.engine.num_cpus, self.num_lrs):
            apply(self.engine, t)

    def read(self, frame, offset):
        self._others()
        return self.engine.read(frame, offset, cpu=self.cpu)

    def write(self, frame, offset, value, strb=0xF):
        self._others()
        self.engine.write(frame, offset, value, strb, cpu=self.cpu)

    def reset(self):
        self.engine.reset()

    @property
    def virq(self):
        return self.engine.virq >> self.cpu & 1

    @property
    def vfiq(self):
        return self.engine.vfiq >> self.cpu & 1

    @property
    def maint(self):
        return self.engine.maint >> self.cpu & 1

    @property
    def forwarded(self):
        e = self.engine
        return [p for p, c in zip(e.forwarded, e.forwarded_cpu) if c == self.cpu]


def lr_state(value):
    return (value >> 28) & 3


def lr_fields(value):
    """Decode an LR value (arch 2.8) into a dict."""
    return {"hw": value >> 31 & 1, "grp1": value >> 30 & 1, "state": value >> 28 & 3,
            "prio": (value >> 23 & 0x1F) << 3, "pintid": value >> 10 & 0x3FF,
            "eoi": value >> 19 & 1, "cpuid": value >> 10 & 7, "vid": value & 0x3FF}


class Dut:
    """An engine (model or RTL) with register-name helpers."""

    lr_value = staticmethod(lr_value)
    lr_state = staticmethod(lr_state)
    lr_fields = staticmethod(lr_fields)

    def __init__(self, engine, kind, num_lrs):
        self.engine, self.kind, self.num_lrs = engine, kind, num_lrs

    def __repr__(self):
        return f"<Dut {self.kind} {self.num_lrs} LRs>"

    # raw interface
    def read(self, frame, offset):
        return self.engine.read(frame, offset)

    def write(self, frame, offset, value, strb=0xF):
        self.engine.write(frame, offset, value, strb)

    def reset(self):
        self.engine.reset()

    @property
    def virq(self):
        return int(self.engine.virq)

    @property
    def vfiq(self):
        return int(self.engine.vfiq)

    @property
    def maint(self):
        return int(self.engine.maint)

    @property
    def forwarded(self):
        return list(self.engine.forwarded)

    @property
    def lines(self):
        return (self.virq, self.vfiq, self.maint)

    # by register name, offsets from the one register table (rtl/regs.py)
    @staticmethod
    def reg(name):
        r = regs.lookup(name)
        if r is None:
            raise KeyError(f"no register named {name!r} in rtl/regs.py")
        return r

    def rd(self, name):
        r = self.reg(name)
        return self.read(r.frame, r.offset)

    def wr(self, name, value, strb=0xF):
        r = self.reg(name)
        self.write(r.frame, r.offset, value, strb)

    def lr(self, n):
        return self.rd(f"GICH_LR{n}")

    def set_lr(self, n, value=None, **fields):
        self.wr(f"GICH_LR{n}", lr_value(**fields) if value is None else value)

    def lrs(self):
        return [self.lr(n) for n in range(self.num_lrs)]

    def elrsr(self):
        return self.rd("GICH_ELRSR0") | self.rd("GICH_ELRSR1") << 32

    def eisr(self):
        return self.rd("GICH_EISR0") | self.rd("GICH_EISR1") << 32

    def guest(self, ctlr=0x3, pmr=0xF8, bpr=None, abpr=None, hcr=0x1):
        """Common setup: HCR (En), GICV_CTLR (both groups), PMR (unmask all)."""
        self.wr("GICH_HCR", hcr)
        self.wr("GICV_CTLR", ctlr)
        self.wr("GICV_PMR", pmr)
        if bpr is not None:
            self.wr("GICV_BPR", bpr)
        if abpr is not None:
            self.wr("GICV_ABPR", abpr)

    SNAPSHOT_REGS = ("GICH_HCR", "GICH_VTR", "GICH_VMCR", "GICH_MISR", "GICH_EISR0",
                     "GICH_EISR1", "GICH_ELRSR0", "GICH_ELRSR1", "GICH_APR",
                     "GICV_CTLR", "GICV_PMR", "GICV_BPR", "GICV_ABPR", "GICV_RPR",
                     "GICV_HPPIR", "GICV_AHPPIR", "GICV_APR0", "GICV_IIDR")

    def snapshot(self):
        """Every register readable without side effects, the LRs, the lines
        and the forwarded list."""
        snap = {name: self.rd(name) for name in self.SNAPSHOT_REGS}
        snap.update({f"GICH_LR{n}": self.lr(n) for n in range(self.num_lrs)})
        snap.update(virq=self.virq, vfiq=self.vfiq, maint=self.maint, forwarded=self.forwarded)
        return snap
