"""Wall time of the whole conformance suite (``ci`` profile, CPU) at ``-n 0`` and ``-n 2``, the speed-up,
and each process' peak memory and CPU time.

Each run is ``CI=true pytest conformance -n N`` from the repository root, as README's first command runs
it; peak memory is each process' maximum resident set size and CPU time its user + system time
(``getrusage``), written by ``process_usage_plugin.py`` as its session ends.

``--repeat N`` runs the worker counts in turn N times (``-n 0``, ``-n 2``, ``-n 0``, ...) and computes the
speed-up from each count's median wall time: one pair of runs can be off by the machine's drift (20% on the
2-core VM); the runs of one round are minutes apart, and the rounds show how much that moves the figure.

Usage: python benchmarks/suite_wall.py [--workers 0,2] [--repeat N] [-- extra pytest arguments]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
HERE = pathlib.Path(__file__).resolve().parent


def run_suite(workers: str, extra: list[str]) -> tuple[float, dict[str, tuple[float, float]], str]:
    """Wall seconds, (peak memory in GiB, CPU seconds) per process, and pytest's summary line."""
    with tempfile.NamedTemporaryFile("r", suffix=".usage") as usage_file:
        env = {**os.environ, "CI": "true", "PROCESS_USAGE_FILE": usage_file.name,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider",
                                 "-p", "process_usage_plugin", "-n", workers, *extra],
                                cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        usage = {name: (int(kib) / 2**20, float(cpu))
                 for name, kib, cpu in (line.split() for line in usage_file.read().splitlines())}
    summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
    return seconds, usage, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="0,2", help="comma-separated -n values; the first is the base")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of runs; each count's median wall counts")
    parser.add_argument("extra", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args()
    counts = args.workers.split(",")
    walls: dict[str, list[float]] = {workers: [] for workers in counts}
    for _ in range(args.repeat):
        for workers in counts:
            seconds, usage, summary = run_suite(workers, args.extra)
            walls[workers].append(seconds)
            per_process = ", ".join(f"{name} {gib:.2f} GiB {cpu:.0f} s"
                                    for name, (gib, cpu) in sorted(usage.items()))
            print(f"-n {workers}: {seconds:.1f} s wall; peak memory and CPU time: {per_process}; {summary}",
                  flush=True)
    median = {workers: statistics.median(runs) for workers, runs in walls.items()}
    base, *others = counts
    for workers in others:
        rounds = ", ".join(f"{b / w:.2f}x" for b, w in zip(walls[base], walls[workers]))
        print(f"speed-up -n {workers} over -n {base}: {median[base] / median[workers]:.2f}x "
              f"(median walls {median[base]:.1f} s / {median[workers]:.1f} s; by round: {rounds})")


if __name__ == "__main__":
    main()
