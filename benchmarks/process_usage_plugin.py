"""pytest plugin for benchmarks/suite_wall.py: each process (controller or xdist worker) appends its peak
resident memory and the CPU seconds it used to the file named by ``PROCESS_USAGE_FILE`` when its session ends."""
from __future__ import annotations

import os
import resource


def pytest_sessionfinish(session):
    path = os.environ.get("PROCESS_USAGE_FILE")
    if path:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "controller")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open(path, "a") as out:  # one short line per process: appends do not interleave
            out.write(f"{worker} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime:.1f}\n")
