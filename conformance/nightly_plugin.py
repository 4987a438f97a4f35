"""Nightly runs: ``--time-budget`` shared across the tests, ``--example-db`` (a directory or Redis).

The budget: with ``B`` seconds, ``W`` xdist workers and ``N`` selected tests, each test is worth
``B * W / N`` seconds. Every worker (or the single pytest process) lets its ``k``-th test draw batches of
examples until ``k * B * W / N`` seconds after its first test started: time a quick test leaves unused flows
to the worker's later tests, and a test that overran takes it from them. See docs/nightly.md.
"""
from __future__ import annotations

import dataclasses
import time

import pytest
from hypothesis import settings
from hypothesis.database import ReadOnlyDatabase

from . import budget, example_db


def pytest_addoption(parser):
    group = parser.getgroup("inplace-conformance")
    group.addoption("--time-budget", default=None, metavar="DURATION",
                    help="wall-clock budget of the run, shared across its tests, e.g. 90s, 30m, 2h or plain "
                         "seconds; each test runs batches of examples until its share is spent or the "
                         "profile's max_examples ran (meant for --hypothesis-profile nightly)")
    group.addoption("--example-db", default=None, metavar="DIR|redis://HOST:PORT/N",
                    help="example database that keeps failures and replays them in the next run: a directory "
                         "(default: .hypothesis/examples) or a Redis server shared by several machines; "
                         "the derandomized ci profile replays it read-only")


def pytest_configure(config):
    state = getattr(config, "_conformance", None)
    if state is None:  # the main plugin refused the run
        return
    try:
        seconds = budget.parse_duration(config.getoption("time_budget")) if config.getoption("time_budget") \
            else None
        spec = config.getoption("example_db")
        database = example_db.open_database(spec) if spec else None
    except (budget.BudgetError, example_db.ExampleDbError) as error:
        raise pytest.UsageError(str(error)) from None
    state["time_budget"] = seconds
    options = state["options"]
    if options.settings.derandomize:  # Hypothesis keeps no database: the kit replays it read-only
        example_db.set_replay(ReadOnlyDatabase(database or example_db.default_database()))
    elif database is not None:
        state["options"] = dataclasses.replace(options, settings=settings(options.settings, database=database))
    state["example_db"] = database
    config._conformance_clock = _Clock(seconds) if seconds else None


def pytest_unconfigure(config):
    example_db.set_replay(None)
    budget.set_deadline(None)


def pytest_report_header(config):
    state = getattr(config, "_conformance", None)
    if state and (state.get("time_budget") or state.get("example_db") is not None):
        budget_text = f"{config.getoption('time_budget')} ({state['time_budget']:g} s)" if state.get("time_budget") \
            else "none"
        derandomized = state["options"].settings.derandomize
        replay = " (replayed read-only)" if derandomized else ""
        if derandomized and state.get("time_budget"):
            budget_text += ", unused: the profile is derandomized"
        return (f"inplace-conformance: time budget {budget_text}; "
                f"example database {example_db.describe(config.getoption('example_db'))}{replay}")


@dataclasses.dataclass
class _Clock:
    """Deadlines of one process's tests: the ``k``-th ends ``k * share`` seconds after the first began."""

    budget: float
    share: float = 0.0
    started: float | None = None
    tests: int = 0

    def next_deadline(self) -> float:
        now = time.monotonic()
        if self.started is None:
            self.started = now
        self.tests += 1
        return self.started + self.tests * self.share


def pytest_collection_finish(session):
    clock = getattr(session.config, "_conformance_clock", None)
    if clock is not None:
        workers = getattr(session.config, "workerinput", {}).get("workercount", 1)
        clock.share = clock.budget * workers / max(1, len(session.items))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    clock = getattr(item.config, "_conformance_clock", None)
    if clock is None:
        return (yield)
    budget.set_deadline(clock.next_deadline())
    try:
        return (yield)
    finally:
        budget.set_deadline(None)
