"""Per check family: what the checks add to the cost of drawing the examples (issue 7's "at most 2x").

For each family the script runs a selection of its suite tests twice in this process, under the ``ci``
profile on the CPU: once as the suite runs them, once with the family's check functions replaced by stubs
that do nothing. Both runs draw the same examples (``ci`` is derandomized and no draw depends on a check's
result), so per example

    ratio = (time of the test calls with the checks) / (time of the same calls drawing only)

Times are the tests' call phases (not collection or fixtures), examples are counted by
:mod:`conformance.stats`; each run is repeated (``--repeat``, alternating) and the fastest kept, so that the
first run's warm-up (first kernel calls, Hypothesis' caches) favours neither. Known torch bugs (xfailed tests) run in both: their failures are shrunk in the
first run, which is part of what the checks cost. In the ``out=`` family the stubbed run still computes the
functional result, which the property needs to draw ``out`` tensors of the right shapes.

Usage: python benchmarks/check_overhead.py [--family NAME ...] [--repeat N]
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pathlib
import sys
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from conformance import stats  # noqa: E402
from conformance.checks.inplace import Outcome  # noqa: E402

SUITE = "conformance/suite/"
FAMILIES = {
    # family: (suite files, pytest -k selection or None for all, {module: {check function: stub result}})
    "pointwise": (["test_pointwise.py"], "float32 or int64 or strided",
                  {"conformance.properties": {"check_inplace_call": Outcome()}}),
    "structured": (["test_families.py"], "float32 or int64 or expanded or aliases",
                   {"conformance.family_properties": {"check_structured_call": Outcome()}}),
    "setitem": (["test_setitem.py"], None,
                {"conformance.setitem_properties": {"check_assignment": ("returned", None)}}),
    "out": (["test_out.py"], None,
            {"conformance.out_property": dict.fromkeys(("check_out_call", "check_out_resize", "check_out_alias"))}),
    "more families": (["test_more_families.py"], None, {
        "conformance.properties": {"check_inplace_call": Outcome()},
        "conformance.mutation_properties": {
            "check_inplace_call": Outcome(), **dict.fromkeys((
                "check_declared_no_op", "check_random_call", "check_random_distribution", "check_random_rejects",
                "check_metadata_call", "check_init_call", "check_foreach_call"))}}),
    "autograd": (["test_autograd.py", "test_optimizers.py"], None, {
        "conformance.autograd.properties": {
            "check_program": "stub", "check_gradients": "stub", **dict.fromkeys((
                "check_versions", "check_leaf_rules", "check_optimizer", "check_parameter_updates"))}}),
}


class CallTimer:
    """A pytest plugin summing the call phase's time and the examples run over every test."""

    def __init__(self):
        self.seconds = 0.0
        self.examples = 0

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        before, start = stats.examples(), time.perf_counter()
        try:
            return (yield)
        finally:
            self.seconds += time.perf_counter() - start
            self.examples += stats.examples() - before


@contextlib.contextmanager
def stubbed(stubs: dict):
    """Replace each named check function by one that returns its stub result and does nothing else."""
    saved = []
    for module_name, functions in stubs.items():
        module = importlib.import_module(module_name)
        for name, result in functions.items():
            saved.append((module, name, getattr(module, name)))
            setattr(module, name, lambda *args, _result=result, **kwargs: _result)
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def run_family(files, select) -> CallTimer:
    timer = CallTimer()
    args = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "0", "--no-header", "--tb=no",
            "-W", "ignore", "--hypothesis-profile", "ci", *[str(ROOT / SUITE / f) for f in files]]
    if select:
        args += ["-k", select]
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        pytest.main(args, plugins=[timer])
    return timer


def main() -> None:
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", action="append", choices=sorted(FAMILIES), help="only these families")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each kind; the fastest counts")
    args = parser.parse_args()
    os.chdir(ROOT)
    run_family(FAMILIES["pointwise"][0], "add_ and float32")  # warm-up: imports and first kernel calls
    print(f"{'family':14} {'examples':>8} {'draw only':>10} {'draw+checks':>12} {'ratio':>6}  (ci profile, -n 0)")
    worst = 0.0
    for name in args.family or FAMILIES:
        files, select, stubs = FAMILIES[name]
        per_checked = per_drawn = float("inf")
        for _ in range(args.repeat):
            with stubbed(stubs):
                drawn = run_family(files, select)
            checked = run_family(files, select)
            per_drawn = min(per_drawn, drawn.seconds / max(drawn.examples, 1))
            per_checked = min(per_checked, checked.seconds / max(checked.examples, 1))
        ratio = per_checked / per_drawn
        worst = max(worst, ratio)
        print(f"{name:14} {checked.examples:8d} {1e3 * per_drawn:8.2f}ms {1e3 * per_checked:10.2f}ms {ratio:5.2f}x",
              flush=True)
    print(f"worst ratio: {worst:.2f}x (target: at most 2x)")


if __name__ == "__main__":
    main()
