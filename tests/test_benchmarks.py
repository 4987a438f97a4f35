"""The benchmark scripts stay runnable: each parses its options, and check_overhead's stubs name functions
the properties really call (a renamed check would otherwise leave the checks in its "draw only" runs)."""
from __future__ import annotations

import importlib
import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name != "process_usage_plugin.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_parses_its_options(script):
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_check_overhead_stubs_functions_the_properties_call():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        check_overhead = importlib.import_module("check_overhead")
    finally:
        sys.path.remove(str(BENCHMARKS))
    for family, (files, _, stubs) in check_overhead.FAMILIES.items():
        for module_name, functions in stubs.items():
            module = importlib.import_module(module_name)
            for name in functions:
                assert callable(getattr(module, name, None)), f"{family}: {module_name}.{name} is gone"
        for file in files:
            assert (BENCHMARKS.parent / check_overhead.SUITE / file).is_file(), file
