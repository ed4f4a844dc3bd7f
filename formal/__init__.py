"""Formal verification of the virtual interface (and, group cpus, of the
multi-CPU cluster): harness.py (properties),
one .sby per property group, run.py (`make formal`), mutants.py (the
mutation check of tests/test_formal.py)."""
