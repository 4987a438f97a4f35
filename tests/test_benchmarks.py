"""The benchmark scripts stay runnable: each parses its options, and check_overhead's stubs name functions
the properties really call (a renamed check would otherwise leave the checks in its "draw only" runs) and
replace them in the draw-only call only."""
from __future__ import annotations

import importlib
import pathlib
import subprocess
import sys
import types

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name != "process_usage_plugin.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_parses_its_options(script):
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def _check_overhead():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module("check_overhead")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_check_overhead_stubs_functions_the_properties_call():
    check_overhead = _check_overhead()
    for family, (files, _, stubs) in check_overhead.FAMILIES.items():
        for module_name, functions in stubs.items():
            module = importlib.import_module(module_name)
            for name in functions:
                assert callable(getattr(module, name, None)), f"{family}: {module_name}.{name} is gone"
        for file in files:
            assert (BENCHMARKS.parent / check_overhead.SUITE / file).is_file(), file


def test_check_overhead_pairs_a_draw_only_call_with_each_checked_call(monkeypatch):
    """Each test runs twice, back to back: once with the stubs in place, once with the real checks; the order
    alternates from test to test, and the real checks are back afterwards."""
    check_overhead = _check_overhead()
    module = types.ModuleType("fake_checks")
    module.check = lambda: "real"
    monkeypatch.setitem(sys.modules, "fake_checks", module)
    calls = []

    class Item:
        def runtest(self):  # what the plugin calls for the draw-only run
            calls.append(("draw only", module.check()))

    timer = check_overhead.PairedTimer({"fake_checks": {"check": "stub"}})
    for _ in range(2):
        hook = timer.pytest_runtest_call(Item())
        next(hook)  # pytest now runs the test itself
        calls.append(("checked", module.check()))
        with pytest.raises(StopIteration):
            hook.send(None)
    assert calls == [("draw only", "stub"), ("checked", "real"), ("checked", "real"), ("draw only", "stub")]
    assert module.check() == "real"


def test_check_overhead_weights_each_tests_draw_rate_by_its_checked_examples():
    """A known bug stops a checked call after one example while its draw-only call draws them all: the draw
    side counts that test for one example, at its own rate, not for all it drew."""
    timer = _check_overhead().PairedTimer({})
    timer.pairs = [([1.0, 10], [2.0, 10]),   # 0.1 s per example drawn, 0.2 s checked
                   ([4.0, 10], [0.5, 1]),    # xfailed after one example: 0.4 s per example drawn
                   ([0.0, 0], [9.0, 3])]     # no draw-only examples (a stub the property rejected): left out
    assert timer.examples() == 11
    drawn, checked = timer.per_example()
    assert drawn == pytest.approx((0.1 * 10 + 0.4 * 1) / 11)
    assert checked == pytest.approx(2.5 / 11)
