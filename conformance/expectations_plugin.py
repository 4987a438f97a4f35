"""Expected failures kept by a vendor: ``--xfails-file``, ``--skips-file``, ``--xfails-as-skips``,
``--update-xfails``. The file format is in :mod:`conformance.expectations`; docs/expectations.md.

Marks: a test an xfails-file entry matches is a non-strict xfail, as the kit's known torch issues are; a
test already marked xfail (a known issue, a crash known issue that must not run, a mark of its own) keeps
its mark, the entry still counts as matched. A skips-file entry wins over both.

``--update-xfails`` rewrites the xfails file at the end of the session from the results the session's
process saw (under pytest-xdist the controller, from the reports the workers send): see :func:`_update`.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
import tempfile
import warnings

import pytest

from .expectations import ExpectationsError, ExpectationsFile, load, rewrite

_STATE = pytest.StashKey["_State"]()


class UnmatchedExpectationWarning(pytest.PytestWarning):
    """An entry of an expectations file that matches no collected test (renamed, fixed or mistyped)."""


def pytest_addoption(parser):
    group = parser.getgroup("inplace-conformance")
    group.addoption("--xfails-file", default=None, metavar="FILE",
                    help="tests expected to fail: one node id, test name or prefix a line, # comments give the "
                         "reason (see docs/expectations.md); marked xfail (non-strict)")
    group.addoption("--skips-file", default=None, metavar="FILE",
                    help="tests not to run, same format as --xfails-file; marked skip")
    group.addoption("--xfails-as-skips", action="store_true", default=False,
                    help="skip instead of running every test expected to fail (xfails file, known torch issues, "
                         "xfail marks): a faster run that learns nothing about them")
    group.addoption("--update-xfails", action="store_true", default=False,
                    help="rewrite --xfails-file from this run: add the tests that failed, remove the entries whose "
                         "every test that ran passed; comments and entries of tests not run are kept")


@dataclasses.dataclass
class _State:
    xfails: ExpectationsFile | None
    skips: ExpectationsFile | None
    as_skips: bool
    update: bool
    results: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)  # nodeid -> (outcome, message)
    summary: str | None = None


def pytest_configure(config):
    xfails_path, skips_path = config.getoption("xfails_file"), config.getoption("skips_file")
    update, as_skips = config.getoption("update_xfails"), config.getoption("xfails_as_skips")
    if update and not xfails_path:
        raise pytest.UsageError("--update-xfails needs --xfails-file FILE (the file to rewrite; created if missing)")
    if update and as_skips:
        raise pytest.UsageError("--update-xfails needs the expected failures to run: drop --xfails-as-skips")
    root = config.invocation_params.dir
    try:
        xfails = load(xfails_path, "--xfails-file", missing_ok=update, base=root) if xfails_path else None
        skips = load(skips_path, "--skips-file", base=root) if skips_path else None
    except ExpectationsError as error:
        raise pytest.UsageError(str(error)) from None
    state = config.stash[_STATE] = _State(xfails, skips, as_skips, update)
    if update and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Recorder(state), "inplace-conformance-xfails-recorder")


def _state(config) -> _State | None:
    return config.stash.get(_STATE, None)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Before the other hooks: warn about entries matching no collected test (before ``-k``, ``-m`` or a
    split select). After them (known issues marked, tests deselected): mark the selected tests."""
    state = _state(config)
    if state is not None and getattr(config, "workerinput", {}).get("workerid", "gw0") == "gw0":
        _warn_unmatched(state, items)  # under xdist every worker collects the same tests: the first warns
    result = yield
    if state is not None:
        for item in items:
            _mark(state, item)
    return result


def _warn_unmatched(state: _State, items) -> None:
    for file in (state.xfails, state.skips):
        if file is None:
            continue
        unmatched = [entry for entry in file.entries
                     if not any(entry.matches(item.nodeid, item.name) for item in items)]
        if unmatched:
            listed = "; ".join(f"line {entry.line}: {entry.text}" for entry in unmatched)
            warnings.warn(UnmatchedExpectationWarning(
                f"{file.option} {file.shown}: "
                f"{'1 entry matches' if len(unmatched) == 1 else f'{len(unmatched)} entries match'} "
                f"no collected test: {listed}"))


def _mark(state: _State, item) -> None:
    skipped = state.skips.matching(item.nodeid, item.name) if state.skips else []
    if skipped:
        item.add_marker(pytest.mark.skip(reason=state.skips.reason(skipped[0])))
        return
    expected = state.xfails.matching(item.nodeid, item.name) if state.xfails else []
    marked = item.get_closest_marker("xfail")
    if state.as_skips and (expected or marked):
        reason = marked.kwargs.get("reason", "xfail mark") if marked else state.xfails.reason(expected[0])
        item.add_marker(pytest.mark.skip(reason=f"expected to fail, skipped (--xfails-as-skips): {reason}"))
    elif expected and marked is None:
        item.add_marker(pytest.mark.xfail(reason=state.xfails.reason(expected[0]), strict=False))


def test_name(nodeid: str) -> str:
    """The test's name in ``nodeid`` (``path.py::Class::test_x[params]`` -> ``test_x[params]``)."""
    base, bracket, params = nodeid.partition("[")
    return base.rsplit("::", 1)[-1] + bracket + params


class _Recorder:
    """What each test did, recorded in the process that owns the session (the controller under xdist, which
    receives every worker's reports). ``failed`` is a call that failed, ``xfailed`` an expected failure
    that failed, ``passed`` a call that passed (an xpass too); a test skipped or not run records nothing."""

    RANK = {"passed": 0, "xfailed": 1, "failed": 2}

    def __init__(self, state: _State):
        self.state = state

    def pytest_runtest_logreport(self, report):
        if report.when not in ("call", "???"):  # "???": xdist's report of a test that crashed its worker
            return
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "passed"
        else:
            outcome = "failed" if report.failed else "passed" if report.passed else None
        if outcome is None:
            return
        message = ""
        if outcome == "failed":
            crash = getattr(report.longrepr, "reprcrash", None)
            lines = (crash.message if crash else str(report.longrepr)).strip().splitlines()
            message = lines[0][:MESSAGE_LIMIT] if lines else ""
        previous = self.state.results.get(report.nodeid)
        if previous is None or self.RANK[outcome] > self.RANK[previous[0]]:
            self.state.results[report.nodeid] = (outcome, message)


MESSAGE_LIMIT = 120
"""Characters of a failure's first line kept as the comment of an entry --update-xfails adds."""


def _update(state: _State) -> str:
    """Rewrite the xfails file. An entry is removed when at least one test it matches ran and every one
    that ran passed; kept when one failed or xfailed, or none ran (deselected, skipped, not collected). A
    failed test no entry matches is added, exactly, with its failure's first line as comment. Comments
    stay. Returns the line the terminal summary prints."""
    file = state.xfails
    by_entry: dict[int, list[str]] = {}
    for nodeid, (outcome, _) in state.results.items():
        for entry in file.matching(nodeid, test_name(nodeid)):
            by_entry.setdefault(entry.line, []).append(outcome)
    remove = {line for line, outcomes in by_entry.items() if all(o == "passed" for o in outcomes)}
    add = [(nodeid, message) for nodeid, (outcome, message) in sorted(state.results.items())
           if outcome == "failed" and not file.matching(nodeid, test_name(nodeid))]
    if not remove and not add:
        return f"--update-xfails: {file.shown} unchanged"
    today = datetime.date.today().isoformat()
    _write_atomically(file.path, rewrite(file, remove, add, f"added by --update-xfails on {today}"))
    return f"--update-xfails: rewrote {file.shown}: {len(add)} added, {len(remove)} removed"


def _write_atomically(path: pathlib.Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    state = _state(session.config)
    if state is None or not state.update or hasattr(session.config, "workerinput"):
        return
    state.summary = _update(state)


def pytest_terminal_summary(terminalreporter, config):
    state = _state(config)
    if state is not None and state.summary:
        terminalreporter.write_line(state.summary)
