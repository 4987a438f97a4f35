"""Per check family: what the checks add to the cost of drawing the examples (issue 7's "at most 2x").

For each family the script runs a selection of its suite tests in this process, under the ``ci`` profile on
the CPU, and calls every test twice, back to back: once as the suite runs it, once with the family's check
functions replaced by stubs that do nothing (the order alternates from test to test). Both calls draw the
same examples (``ci`` is derandomized and no draw depends on a check's result), so per example

    ratio = (time of the test calls with the checks) / (time of the same calls drawing only)

Pairing each test's two calls seconds apart cancels the machine's drift: the 2-core VM runs the same
command up to 20-25% slower from one minute to the next, which made a comparison of two whole runs (the
script's first design) swing between 1.7x and 2.1x for unchanged code.

Times are the tests' call phases (not collection or fixtures), examples are counted by
:mod:`conformance.stats`; ``--repeat`` runs the family again and the median run's ratio counts. Known torch
bugs (xfailed tests) run in both calls, but the checked call stops at its first failing example (the plugin
does not shrink expected failures) while the draw-only call draws them all; so each test's draw-only time
counts at its own rate per example, weighted by the examples its checked call ran, rather than the two sides
averaging over different mixes of tests. In the ``out=`` family the stubbed call still computes the
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


class PairedTimer:
    """A pytest plugin calling each test twice, back to back: drawing only (``stubs`` in place) and as the
    suite runs it; it records each call's time and examples, per test."""

    def __init__(self, stubs: dict):
        self.stubs = stubs
        self.pairs: list[tuple[list, list]] = []  # per test: ([seconds, examples] drawing only, [...] checked)

    def _draw_only(self, item, into: list) -> None:
        with stubbed(self.stubs), self._timing(into):
            try:
                item.runtest()
            except (Exception, pytest.skip.Exception, pytest.fail.Exception):  # noqa: BLE001
                pass  # a skip, or a stubbed check's result the property did not expect: the time still counts

    @contextlib.contextmanager
    def _timing(self, into: list):
        before, start = stats.examples(), time.perf_counter()
        try:
            yield
        finally:
            into[0] += time.perf_counter() - start
            into[1] += stats.examples() - before

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        drawn, checked = [0.0, 0], [0.0, 0]
        self.pairs.append((drawn, checked))
        draw_first = len(self.pairs) % 2 == 1  # alternate, so that a first call's warm-up favours neither
        if draw_first:
            self._draw_only(item, drawn)
        try:
            with self._timing(checked):
                return (yield)
        finally:
            if not draw_first:
                self._draw_only(item, drawn)

    def _counted(self) -> list[tuple[list, list]]:
        """The tests where both calls ran examples."""
        return [(drawn, checked) for drawn, checked in self.pairs if drawn[1] and checked[1]]

    def examples(self) -> int:
        """Examples the checked calls ran, in tests whose draw-only call ran some too."""
        return sum(checked[1] for _, checked in self._counted())

    def per_example(self) -> tuple[float, float]:
        """Seconds per example drawing only (each test's rate, weighted by its checked examples), and drawing
        and checking, over the tests where both calls ran examples."""
        examples = max(self.examples(), 1)
        draw = sum(drawn[0] / drawn[1] * checked[1] for drawn, checked in self._counted())
        return draw / examples, sum(checked[0] for _, checked in self._counted()) / examples


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


def run_family(files, select, plugin) -> None:
    args = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "0", "--no-header", "--tb=no",
            "-W", "ignore", "--hypothesis-profile", "ci", *[str(ROOT / SUITE / f) for f in files]]
    if select:
        args += ["-k", select]
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        pytest.main(args, plugins=[plugin])


def main() -> None:
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", action="append", choices=sorted(FAMILIES), help="only these families")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each family; the median counts")
    args = parser.parse_args()
    os.chdir(ROOT)
    # warm-up: imports and first kernel calls; the first optimizer built imports torch._dynamo (2 s once per
    # process, in whichever call of the first optimizer test comes first): a cost of neither side
    importlib.import_module("torch._dynamo")
    run_family(FAMILIES["pointwise"][0], "add_ and float32", PairedTimer(FAMILIES["pointwise"][2]))
    print(f"{'family':14} {'examples':>8} {'draw only':>10} {'draw+checks':>12} {'ratio':>6}  "
          f"(ci profile, -n 0; median of {args.repeat} run(s))")
    worst = 0.0
    for name in args.family or FAMILIES:
        files, select, stubs = FAMILIES[name]
        runs = []
        for _ in range(args.repeat):
            timer = PairedTimer(stubs)
            run_family(files, select, timer)
            drawn, checked = timer.per_example()
            runs.append((checked / drawn, drawn, checked, timer.examples()))
        ratio, drawn, checked, examples = sorted(runs)[len(runs) // 2]
        worst = max(worst, ratio)
        others = f"  (runs: {', '.join(f'{r[0]:.2f}x' for r in runs)})" if len(runs) > 1 else ""
        print(f"{name:14} {examples:8d} {1e3 * drawn:8.2f}ms {1e3 * checked:10.2f}ms {ratio:5.2f}x{others}",
              flush=True)
    print(f"worst ratio: {worst:.2f}x (target: at most 2x)")


if __name__ == "__main__":
    main()
