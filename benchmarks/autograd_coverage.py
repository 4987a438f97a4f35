"""How much the ``ci`` profile explores in the exactly-when property: distinct programs, mutations, outcomes.

Run: ``.venv/bin/python benchmarks/autograd_coverage.py [max_examples]`` (default 40, the ``ci`` count).
"""
from __future__ import annotations

import argparse
import collections
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, settings  # noqa: E402

from conformance.autograd import properties  # noqa: E402
from conformance.profiles import COMMON, PROFILES  # noqa: E402
from conformance.properties import RunOptions  # noqa: E402


def main(max_examples: int = PROFILES["ci"]["max_examples"]) -> None:
    ci = settings(**{**COMMON, **PROFILES["ci"], "max_examples": max_examples,
                     "suppress_health_check": list(HealthCheck)})
    programs, structures, runs, outcomes, channels = set(), set(), set(), collections.Counter(), collections.Counter()

    def observe(program, mutation, outcome):
        programs.add(program)
        structures.add((program.leaf_shapes, tuple(s.expr for s in program.steps)))
        runs.add((program, mutation))
        outcomes[("baseline" if mutation is None else "mutation", outcome)] += 1
        if mutation is not None:
            channels[(mutation.channel, outcome)] += 1

    start = time.perf_counter()
    properties.exactly_when("cpu", RunOptions(ci), "autograd-coverage", observe)
    elapsed = time.perf_counter() - start
    mutated = sum(1 for _, m in runs if m is not None)
    on_views = sum(1 for p in programs if any(s.view_of is not None for s in p.steps))
    inplace = sum(1 for p in programs if any(s.inplace is not None for s in p.steps))
    print(f"ci profile ({max_examples} examples): {len(programs)} distinct programs "
          f"({len(structures)} distinct op sequences), {mutated} distinct (program, mutation) runs, "
          f"{sum(outcomes.values())} runs checked in {elapsed:.2f} s")
    print(f"  programs with an in-place step: {inplace}, with an in-place step on a view: {on_views}")
    for (kind, outcome), n in sorted(outcomes.items()):
        print(f"  {kind:9} {outcome:8} {n}")
    print("  by channel: " + ", ".join(f"{c}/{o}: {n}" for (c, o), n in sorted(channels.items())))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("max_examples", nargs="?", type=int, default=PROFILES["ci"]["max_examples"],
                        help="examples of the property (default: the ci profile's)")
    main(parser.parse_args().max_examples)
