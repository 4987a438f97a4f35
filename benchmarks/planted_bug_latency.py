"""How long a planted bug takes to be found, shrunk and reported, from the start of a ``pytest -x`` run.

Each of the kit's planted-bug tests (``tests/test_*planted*.py`` less ``test_real_torch_passes``) plants one
bug and passes when the suite's property finds it, shrinks it and raises the failure report. The script
runs every one as its own ``pytest -x`` process (interpreter start, torch import, collection included) and
prints the median and the slowest wall times.

Usage: python benchmarks/planted_bug_latency.py [-k EXPR]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
PLANTED_FILES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*planted*.py"))
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-q"]


def planted_tests(select: str | None) -> list[str]:
    """Node ids of the planted-bug tests (the real-torch controls excluded)."""
    args = PYTEST + ["--collect-only", *PLANTED_FILES, "-k", f"not real_torch_passes{f' and ({select})' if select else ''}"]
    listing = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if "::" in line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="select", help="pytest -k expression: only these planted tests")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    times = {}
    for node in planted_tests(args.select):
        start = time.perf_counter()
        result = subprocess.run(PYTEST + ["-x", node], cwd=ROOT, env=env, capture_output=True, text=True)
        times[node] = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"{node}: the planted bug was not reported as expected (pytest exit {result.returncode})")
    slowest = sorted(times, key=times.get, reverse=True)[:3]
    print(f"planted-bug tests: {len(times)}, each its own `pytest -x` process")
    print(f"median: {statistics.median(times.values()):.1f} s (target: under 20 s)")
    print("slowest: " + ", ".join(f"{n.split('::')[-1]} {times[n]:.1f} s" for n in slowest))


if __name__ == "__main__":
    main()
