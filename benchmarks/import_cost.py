"""Import cost of the kit against torch alone: median wall time of a fresh interpreter that imports
``torch`` vs one that imports ``conformance, strategies`` (which import torch), and their ratio.

Usage: python benchmarks/import_cost.py [--runs N]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def median_import_time(statement: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], cwd=ROOT, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    median_import_time("import torch", 2)  # warm the file cache
    torch_s = median_import_time("import torch", args.runs)
    kit_s = median_import_time("import conformance, strategies", args.runs)
    print(f"import torch: {torch_s:.3f} s (median of {args.runs})")
    print(f"import conformance, strategies: {kit_s:.3f} s (median of {args.runs})")
    print(f"ratio: {kit_s / torch_s:.2f}x (target: at most 1.5x)")


if __name__ == "__main__":
    main()
