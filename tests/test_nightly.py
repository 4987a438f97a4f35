"""Nightly runs: ``--time-budget`` batches, the example database (directory and a real Redis) replayed by
the next CI run, bad inputs, and pytest-split sharding of the suite.

Each test runs pytest in a subprocess on a small test file that drives :func:`conformance.properties.run`
the way the suite does (``conformance_options``, keyed by node id), or on a ``-k`` selection of the suite.
"""
from __future__ import annotations

import os
import pathlib
import re
import shutil
import socket
import subprocess
import time

import pytest

from .subprocess_runs import ROOT, SUITE, one_error_line
from .subprocess_runs import run as _run


def run(args, *, cwd, env=None):
    """pytest with the kit's plugin, outside CI's profile (nightly runs use the dev and nightly ones)."""
    return _run(args, cwd=cwd, env=env, load_plugin=True, without_ci=True)


# --- the time budget ---------------------------------------------------------------------------------

BUDGET_TESTS = """
import dataclasses, pathlib, time
import pytest
from hypothesis import given, settings, strategies as st
from conformance import properties, stats

@pytest.mark.parametrize("delay", [0, 0, 0, 0.005], ids=["quick0", "quick1", "quick2", "slow"])
def test_prop(delay, conformance_options, request):
    options = conformance_options
    if not delay:
        options = dataclasses.replace(options, settings=settings(options.settings, max_examples=50))
    stats.reset()

    @given(st.integers())
    def prop(x):
        time.sleep(delay)
    properties.run(prop, options, request.node.nodeid)
    with open("counts.txt", "a") as out:
        out.write(f"{request.node.callspec.id} {stats.examples()}\\n")
"""


def counts(path: pathlib.Path) -> dict[str, int]:
    return {name: int(n) for name, n in (line.split() for line in (path / "counts.txt").read_text().splitlines())}


def test_time_budget_stops_batches_and_unused_time_flows_to_later_tests(tmp_path):
    (tmp_path / "test_budget.py").write_text(BUDGET_TESTS)
    start = time.monotonic()
    result = run(["test_budget.py", "--hypothesis-profile", "nightly", "--time-budget", "4s",
                  f"--example-db={tmp_path / 'db'}"], cwd=tmp_path)
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stdout + result.stderr
    ran = counts(tmp_path)
    # Quick tests reach their max_examples and leave most of their 1 s share unused...
    assert [ran[f"quick{i}"] for i in range(3)] == [50, 50, 50], ran
    # ... which the slow test (at least 5 ms an example, batches of 50) spends: above what its own 1 s share
    # allows (200 examples, 250 with the batch that overruns it), below the nightly profile's 1000 (5 s).
    assert 350 <= ran["slow"] < 1000, ran
    assert elapsed < 30, elapsed


def test_without_time_budget_nightly_runs_max_examples(tmp_path):
    (tmp_path / "test_budget.py").write_text(BUDGET_TESTS.replace("0.005]", "0.0001]"))
    result = run(["test_budget.py", "--hypothesis-profile", "nightly", f"--example-db={tmp_path / 'db'}"],
                 cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert counts(tmp_path)["slow"] == 1000


@pytest.mark.parametrize("value", ["2x", "0", "-5", "h", "1h30", "inf"])
def test_bad_time_budget_is_one_clear_line(tmp_path, value):
    line = one_error_line(run([str(SUITE), "--collect-only", f"--time-budget={value}"], cwd=tmp_path))
    assert "--time-budget" in line and repr(value) in line


def test_time_budget_parses_durations():
    from conformance.budget import parse_duration
    assert [parse_duration(v) for v in ("90s", "30m", "2h", "1h30m", "5400", "2.5", "1d")] == \
        [90, 1800, 7200, 5400, 5400, 2.5, 86400]


# --- the example database: a failure found in one run is replayed first in the next (CI) run -----------

FAILING_TESTS = """
import os
from hypothesis import given, strategies as st
from conformance import properties

calls = []

def test_prop(conformance_options, request):
    @given(st.integers(0, 10**9))
    def prop(x):
        calls.append(x)
        if os.environ["MODE"] == "find":  # fails only after the first batch: found by a later one
            assert not (x > 10**8 and len(calls) > 150), "planted"
        else:  # near the saved example only: never drawn by a derandomized run of 40 examples
            with open("replayed.txt", "a") as out:
                out.write(f"{x}\\n")
            assert not 10**8 < x <= 10**8 + 1000, "planted"
    properties.run(prop, conformance_options, request.node.nodeid)
"""


def find_then_replay(tmp_path: pathlib.Path, database: str):
    """Nightly run in one directory finds and shrinks the failure; a CI run in another replays it.
    Returns both runs, the CI directory and the failing ``x`` found."""
    nightly, ci = tmp_path / "nightly", tmp_path / "ci"
    for directory in (nightly, ci):
        directory.mkdir()
        (directory / "test_prop.py").write_text(FAILING_TESTS)
    found = run(["test_prop.py", "--hypothesis-profile", "nightly", "--time-budget", "1h",
                 f"--example-db={database}"], cwd=nightly, env={"MODE": "find"})
    assert found.returncode == 1, found.stdout + found.stderr
    falsifying = re.search(r"x=(\d+),", found.stdout)
    assert falsifying and 10**8 < int(falsifying.group(1)) <= 10**8 + 1000, found.stdout  # shrunk
    replayed = run(["test_prop.py", "--hypothesis-profile", "ci", f"--example-db={database}"], cwd=ci,
                   env={"MODE": "replay"})
    return found, replayed, ci, falsifying.group(1)


def test_failure_found_by_nightly_is_replayed_first_by_ci(tmp_path):
    found, replayed, ci, x = find_then_replay(tmp_path, str(tmp_path / "db"))
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert (ci / "replayed.txt").read_text().split()[0] == x
    assert f"x={x}," in replayed.stdout
    # read-only: CI deletes nothing, the failure is still there for the next run
    again = run(["test_prop.py", "--hypothesis-profile", "ci", f"--example-db={tmp_path / 'db'}"], cwd=ci,
                env={"MODE": "replay"})
    assert again.returncode == 1


def test_ci_without_the_saved_failure_passes(tmp_path):
    """The control: the derandomized examples alone never meet the failure the database holds."""
    (tmp_path / "test_prop.py").write_text(FAILING_TESTS)
    result = run(["test_prop.py", "--hypothesis-profile", "ci", "--example-db", str(tmp_path / "empty")],
                 cwd=tmp_path, env={"MODE": "replay"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_replays_the_default_directory(tmp_path):
    """Without --example-db, nightly writes and CI reads Hypothesis' usual .hypothesis/examples (also
    under CI=true, where Hypothesis loads its own ci profile, which has no database)."""
    (tmp_path / "test_prop.py").write_text(FAILING_TESTS)
    found = run(["test_prop.py", "--hypothesis-profile", "nightly"], cwd=tmp_path, env={"MODE": "find", "CI": "true"})
    assert found.returncode == 1 and (tmp_path / ".hypothesis" / "examples").is_dir()
    replayed = run(["test_prop.py"], cwd=tmp_path, env={"MODE": "replay", "CI": "true"})
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert 10**8 < int((tmp_path / "replayed.txt").read_text().split()[0]) <= 10**8 + 1000


def test_example_db_that_is_a_file_is_one_clear_line(tmp_path):
    (tmp_path / "afile").write_text("")
    line = one_error_line(run([str(SUITE), "--collect-only", "--example-db", str(tmp_path / "afile")],
                              cwd=tmp_path))
    assert "--example-db" in line and "afile" in line


def test_example_db_unknown_scheme_is_one_clear_line(tmp_path):
    line = one_error_line(run([str(SUITE), "--collect-only", "--example-db", "ftp://host/db"], cwd=tmp_path))
    assert "redis://host:port/N" in line


# --- Redis: a real redis-server on loopback ------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("redis-server is not installed: CI must run the Redis example-database test (.ci/run)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_redis_example_db_shares_failures_between_machines(tmp_path, redis_url):
    import redis
    found, replayed, ci, x = find_then_replay(tmp_path, redis_url)
    assert redis.Redis.from_url(redis_url).keys(), "nothing saved in Redis"
    assert not (tmp_path / "nightly" / ".hypothesis" / "examples").exists()
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert (ci / "replayed.txt").read_text().split()[0] == x


def test_unreachable_redis_is_one_clear_line(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    line = one_error_line(run([str(SUITE), "--example-db", url], cwd=tmp_path))
    assert "cannot reach Redis" in line and url in line


# --- sharding with pytest-split ------------------------------------------------------------------------

def require(module: str) -> None:
    """Skip without ``module`` (the ``nightly`` extra) locally; fail under CI, which installs it."""
    try:
        __import__(module)
    except ImportError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{module} is not installed: CI installs the nightly extra (.ci/run)")
        pytest.skip(f"{module} is not installed: pip install 'torch-inplace-conformance[nightly]'")


def collected(result) -> list[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_split_groups_partition_the_suite_deterministically(tmp_path):
    """Three groups over the pointwise suite, with durations (as --store-durations writes them, for a third
    of the tests: pytest-split estimates the others): disjoint, their union the whole, the same each time."""
    require("pytest_split")
    everything = collected(run([str(SUITE), "--collect-only", "-q"], cwd=ROOT))
    path = tmp_path / "durations.json"
    path.write_text("{\n" + ",\n".join(f'"{nodeid}": {0.1 + (i % 7) * (i % 3)}'
                                       for i, nodeid in enumerate(everything[::3])) + "\n}\n")
    options = [f"--durations-path={path}"]
    groups = [collected(run([str(SUITE), "--collect-only", "-q", "--splits", "3", "--group", str(g), *options],
                            cwd=ROOT)) for g in (1, 2, 3)]
    assert all(groups) and sum(map(len, groups)) == len(everything)
    assert sorted(sum(groups, [])) == sorted(everything)  # the union, each test once
    again = collected(run([str(SUITE), "--collect-only", "-q", "--splits", "3", "--group", "2", *options],
                          cwd=ROOT))
    assert again == groups[1]


# --- HypoFuzz's view of the fuzz targets ---------------------------------------------------------------

HYPOFUZZ_VIEW = """
from hypothesis.internal.detection import is_hypothesis_test

def pytest_collection_finish(session):
    # What HypoFuzz fuzzes: Function items that are @given tests requesting no fixture but parametrize's.
    for item in session.items:
        params = set(item.callspec.params) if hasattr(item, "callspec") else set()
        fixtures = set(item.fixturenames) - params
        xfail = item.get_closest_marker("xfail") is not None
        print("FUZZ" if is_hypothesis_test(item.obj) and not fixtures and not xfail else "NOT", item.nodeid,
              sorted(fixtures))
"""


def test_hypofuzz_finds_the_fuzz_targets_and_they_run(tmp_path):
    """HypoFuzz collects with ``pytest --collect-only -m hypothesis`` and fuzzes @given tests that take no
    fixture; the suite's tests take fixtures, the fuzz targets none (known issues stay xfail: not fuzzed)."""
    (tmp_path / "hypofuzz_view.py").write_text(HYPOFUZZ_VIEW)
    targets = ROOT / "conformance" / "fuzz_targets.py"
    selection = ["-k", "add_-float32 or div_-int32 or mul_-cpu", "-p", "hypofuzz_view"]
    view = run([str(targets), "--collect-only", "-q", "-m", "hypothesis", *selection], cwd=tmp_path)
    fuzzed = [line.split()[1] for line in view.stdout.splitlines() if line.startswith("FUZZ ")]
    assert view.returncode == 0 and "fuzz_targets.py::test_inplace_agrees_with_twin[add_-float32-cpu]" in \
        " ".join(fuzzed), view.stdout + view.stderr
    assert not any("[div_-int32-cpu]" in nodeid or "[mul_-cpu]" in nodeid for nodeid in fuzzed)  # known issues
    suite = run([str(SUITE), "--collect-only", "-q", "-m", "hypothesis", *selection], cwd=tmp_path)
    assert "FUZZ " not in suite.stdout
    ran = run([str(targets), "-k", "add_-float32 or mul_-int8", "--hypothesis-profile", "dev"], cwd=tmp_path)
    assert ran.returncode == 0 and "3 passed" in ran.stdout, ran.stdout + ran.stderr
