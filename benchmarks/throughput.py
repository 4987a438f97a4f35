"""Throughput of the pointwise suite on this machine, three figures from one run:

1. examples per second of the suite's property (draw + all checks), over a fixed sample of op x dtype;
2. per-example cost of drawing alone, of drawing + checking, and their ratio (the checks' overhead);
3. wall time of ``pytest -n 0`` and ``pytest -n 2`` over the same selection, and the speed-up.

Usage: python benchmarks/throughput.py [--select PYTEST_K_EXPR] [--skip-xdist]
The default selection is every op on float32 and int64 (a quarter of the pointwise suite's dtypes).
"""
from __future__ import annotations

import argparse
import warnings
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

from conformance import properties  # noqa: E402
from conformance.catalog import pointwise  # noqa: E402
from conformance.checks.inplace import Outcome  # noqa: E402
from conformance.known_issues import issue_for  # noqa: E402
from conformance.profiles import register_profiles  # noqa: E402
from conformance.suite.test_pointwise import MAIN_ALIASING  # noqa: E402
from strategies.dtypes import CORE_DTYPES, dtype_name  # noqa: E402

SAMPLE_DTYPES = (torch.float32, torch.int64)


def run_sample(check) -> tuple[int, float]:
    """Run the suite's property over the sample with ``check`` in place of the contract checks."""
    register_profiles()
    options = properties.RunOptions(settings.get_profile("ci"), operand_dtypes=CORE_DTYPES)
    count = 0

    def counting(case, **kw):
        nonlocal count
        count += 1
        return check(case, **kw)

    original = properties.check_inplace_call
    properties.check_inplace_call = counting
    start = time.perf_counter()
    try:
        for spec in pointwise.SPECS:
            for dtype in SAMPLE_DTYPES:
                if issue_for(f"test_inplace_agrees_with_twin[{spec.name}-{dtype_name(dtype)}-cpu]"):
                    continue  # a known torch bug: the suite xfails it (or, for crashes, does not run it)
                aliasing = MAIN_ALIASING if spec.tensor_operands else (None,)
                properties.inplace_agrees_with_twin(spec, dtype, "cpu", options, aliasing=aliasing)
    finally:
        properties.check_inplace_call = original
    return count, time.perf_counter() - start


def pytest_wall_time(workers: str, select: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers, "-k", select,
                    str(ROOT / "conformance" / "suite" / "test_pointwise.py")],
                   cwd=ROOT, env={**os.environ, "CI": "true"}, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    warnings.simplefilter("ignore")  # torch's deprecation warnings for drawn inputs are not figures
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--select", default="float32 or int64", help="pytest -k expression for the xdist figure")
    parser.add_argument("--skip-xdist", action="store_true", help="skip the -n 0 / -n 2 comparison")
    args = parser.parse_args()

    run_sample(properties.check_inplace_call)  # warm-up: first calls of every kernel
    checked, checked_s = run_sample(properties.check_inplace_call)
    drawn, drawn_s = run_sample(lambda case, **kw: Outcome())
    print(f"sample: {len(pointwise.SPECS)} ops x {len(SAMPLE_DTYPES)} dtypes less known torch issues, ci profile")
    print(f"examples per second (draw + checks): {checked / checked_s:.0f}  ({checked} examples in {checked_s:.1f} s)")
    print(f"per example: draw only {1e3 * drawn_s / drawn:.2f} ms, draw + checks {1e3 * checked_s / checked:.2f} ms, "
          f"ratio {checked_s / checked / (drawn_s / drawn):.2f}x")
    if not args.skip_xdist:
        serial = pytest_wall_time("0", args.select)
        parallel = pytest_wall_time("2", args.select)
        print(f"pytest -k '{args.select}': -n 0 {serial:.1f} s, -n 2 {parallel:.1f} s, speed-up {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
