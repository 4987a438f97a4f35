"""Report what every test did, and stop tests that hang: ``--conformance-report PATH``, ``--test-timeout``.

The process that runs a test adds what only it knows (examples run, the broken contract clause, the
reproduction) to the test's reports as a user property; the pytest process that owns the session (the
pytest-xdist controller under ``-n``) gathers the reports into a :class:`~conformance.report_model.RunReport`
and rewrites the JSON document atomically as it goes: before each test when tests run in-process (so that a
crash of the process leaves a report naming the test that was running), every few seconds under xdist, and
at the end of the session with ``complete: true``. A worker that crashes (a segfault in a kernel, a hang the
watchdog ended) is reported by xdist: its test is recorded as ``crashed``. See docs/reports.md.
"""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import platform
import signal
import tempfile
import threading
import time

import pytest

from . import stats
from .report_model import RunReport, now, parse_nodeid, write_atomically
from .watchdog import Watchdog

PROPERTY = "inplace-conformance"
"""Name of the user property that carries a test's details from its process to the report."""
DEFAULT_TIMEOUT = 600.0
"""Seconds a test of the conformance suite may run unless ``--test-timeout`` says otherwise."""
WRITE_INTERVAL = 2.0
"""Seconds between rewrites of the report under pytest-xdist (a worker crash loses nothing: the controller
keeps the results; a crash of the controller loses at most this much)."""
MESSAGE_LIMIT = 20_000
"""Characters of a failure message kept in the report."""
_HANG_DIR = "conformance_hang_dir"
_TESTS = pytest.StashKey["_Tests"]()


def pytest_addoption(parser):
    group = parser.getgroup("inplace-conformance")
    group.addoption("--conformance-report", default=None, metavar="PATH",
                    help="write a JSON report of the run to PATH (one record per test; schema: "
                         "conformance/report.schema.json); render it with `inplace-conformance report PATH`")
    group.addoption("--test-timeout", default=None, metavar="SECONDS",
                    help=f"stop a test that runs longer than SECONDS and report it as crashed (default: "
                         f"{DEFAULT_TIMEOUT:g} for the conformance suite's tests, none for others; 0: never)")



def pytest_configure(config):
    timeout = _parse_timeout(config.getoption("test_timeout"))
    path = config.getoption("conformance_report")
    reporter = None
    if path is not None and not hasattr(config, "workerinput"):
        reporter = Reporter(config, config.invocation_params.dir / pathlib.Path(path).expanduser(), timeout)
        reporter.start()
        config.pluginmanager.register(reporter, "inplace-conformance-reporter")
    config.stash[_TESTS] = _Tests(config, timeout, reporter)


def pytest_unconfigure(config):
    tests = config.stash.get(_TESTS, None)
    if tests is not None:
        tests.watchdog.disarm()
        os.close(tests.stream)


def _parse_timeout(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise pytest.UsageError(f"--test-timeout must be a number of seconds (0: no timeout), not {text!r}")
    return value


# each test, in the process that runs it -----------------------------------------------------------------

class _Tests:
    """Per-test work in the process that runs the tests: timeouts, example counts, details for the report."""

    def __init__(self, config, timeout: float | None, reporter: Reporter | None):
        self.config, self.timeout, self.reporter = config, timeout, reporter
        self.details = config.getoption("conformance_report") is not None  # also true on xdist workers
        self.suite_dir = pathlib.Path(__file__).resolve().parent / "suite"
        self.stream = os.dup(2)  # stderr before pytest captures it per test: where hang stacks go
        self.watchdog = Watchdog(self.on_hang, stream=self.stream,
                                 use_faulthandler=not float(config.getini("faulthandler_timeout") or 0))

    def timeout_for(self, item) -> float | None:
        if self.timeout is not None:
            return self.timeout or None
        return DEFAULT_TIMEOUT if pathlib.Path(item.path).resolve().is_relative_to(self.suite_dir) else None

    def on_hang(self, nodeid: str, reason: str, stacks: str) -> None:
        """In the watchdog thread, just before the process ends: record the hanging test."""
        if self.reporter is not None:  # tests run in the process that writes the report
            self.reporter.hung(nodeid, reason, stacks)
        elif hasattr(self.config, "workerinput") and self.config.workerinput.get(_HANG_DIR):
            note = pathlib.Path(self.config.workerinput[_HANG_DIR]) / f"{os.getpid()}.json"
            write_atomically(note, json.dumps({"nodeid": nodeid, "reason": reason, "stacks": stacks}))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    tests = item.config.stash[_TESTS]
    seconds = tests.timeout_for(item)
    if seconds:
        tests.watchdog.arm(item.nodeid, seconds)
    try:
        return (yield)
    finally:
        if seconds:
            tests.watchdog.disarm()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item):
    stats.reset()
    with _interruptible(item):
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item):
    with _interruptible(item):
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    with _interruptible(item):
        return (yield)


@contextlib.contextmanager
def _interruptible(item):
    """The timeout may raise inside a phase (pytest reports what a phase raises), never in pytest's own
    bookkeeping between phases."""
    watchdog = item.config.stash[_TESTS].watchdog
    watchdog.interruptible = True
    try:
        yield
    finally:
        watchdog.interruptible = False


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Attach what only the test's process knows: examples run, a timeout, the broken contract clause, the
    reproduction. (The outermost wrapper: it sees the one-line reproduction that plugin.py appends.)"""
    report = yield
    tests = item.config.stash[_TESTS]
    if not tests.details:
        return report
    details = {"examples": stats.examples()} if call.when == "call" else {}
    excinfo, fired = call.excinfo, tests.watchdog.fired
    if fired:
        details["crash"] = fired.splitlines()[0].removesuffix(", in:")
        details["message"] = fired
    elif excinfo is not None and not excinfo.errisinstance(pytest.skip.Exception):
        failure = _conformance_failure(excinfo.value)
        details["message"] = (str(failure) if failure is not None else excinfo.exconly())[:MESSAGE_LIMIT]
        if failure is not None:
            details["failed_check"] = failure.check
            details["reproduction"] = failure.reproduction or None
        details["command"] = next((text for title, text in report.sections if title == "one-line reproduction"),
                                  None) or _command(item, report)
    if details:  # the report's own list (a copy of the item's): the reporter takes it out again
        report.user_properties.append((PROPERTY, details))
    return report


def _command(item, report) -> str | None:
    """``pytest 'ID' --reproduce-blob=...`` for any failing (or xfailing) property that printed a blob."""
    from .plugin import _BLOB

    match = _BLOB.search(str(report.longrepr))
    return f"pytest '{item.nodeid}' --reproduce-blob={match.group(1)}" if match else None


def _conformance_failure(error):
    """The first ConformanceFailure in ``error`` (Hypothesis groups distinct failures)."""
    from .checks.failure import ConformanceFailure

    if isinstance(error, ConformanceFailure):
        return error
    for inner in getattr(error, "exceptions", ()):
        found = _conformance_failure(inner)
        if found is not None:
            return found
    return None


# the report, in the process that owns the session -------------------------------------------------------

class Reporter:
    """Builds the run's report from the test reports pytest (or xdist's controller) receives, and writes it."""

    def __init__(self, config, path: pathlib.Path, timeout: float | None):
        self.config, self.path, self.timeout = config, path, timeout
        self.run = RunReport({})
        self.in_process = True
        self.last_write = 0.0
        self.interrupted: str | None = None
        self.hang_dir: str | None = None
        self.previous_sigterm = None

    def start(self) -> None:
        try:
            self.write()
        except OSError as error:
            raise pytest.UsageError(f"cannot write the conformance report to {self.path}: "
                                    f"{error.strerror or error}") from None
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self.previous_sigterm = signal.signal(signal.SIGTERM, self._terminate)

    def _terminate(self, signum, frame):
        """SIGTERM ends the session as Ctrl-C does: pytest finishes it and the report is written."""
        self.interrupted = "SIGTERM"
        raise KeyboardInterrupt("SIGTERM")

    def write(self, *, complete=False, exit_status=None, finished=None) -> None:
        self.run.header.update(_header(self.config, self))
        text = self.run.text(complete=complete, exit_status=exit_status, finished=finished,
                             interrupted=self.interrupted)
        write_atomically(self.path, text, sync=complete)
        self.last_write = time.monotonic()

    def hung(self, nodeid: str, reason: str, stacks: str) -> None:
        """The watchdog is ending this process (tests run in it): record the test and write the report."""
        self.interrupted = f"{nodeid} {reason}"
        self.run.crashed(nodeid, reason, message=f"{reason}\n{stacks}", phase="call")
        self.write()

    # hooks ---------------------------------------------------------------------------------------------
    def pytest_sessionstart(self, session):
        self.in_process = not self.config.pluginmanager.hasplugin("dsession")
        self.run.parse = _parser(self.config)  # every plugin has configured its devices and targets by now

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        """xdist: tell each worker where its watchdog leaves a note before ending a hang."""
        if self.hang_dir is None:
            self.hang_dir = tempfile.mkdtemp(prefix="inplace-conformance-hangs-")
        node.workerinput[_HANG_DIR] = self.hang_dir

    def pytest_collection_finish(self, session):
        self.run.collected = [item.nodeid for item in session.items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.run.collected = list(ids)

    def pytest_runtest_logstart(self, nodeid, location):
        self.run.start(nodeid)
        if self.in_process:
            self.write()  # should this test crash the process, the report names it

    def pytest_runtest_logfinish(self, nodeid, location):
        self.run.finish(nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        if report.when not in ("setup", "call", "teardown"):
            return  # xdist's report of a crashed worker (when="???"): see pytest_handlecrashitem
        details = {}
        for name, value in report.user_properties:
            if name == PROPERTY and isinstance(value, dict):
                details.update(value)
        if details:  # read: taken out before other plugins (JUnit XML) see the report
            report.user_properties = [(n, v) for n, v in report.user_properties if n != PROPERTY]
        outcome, reason = _outcome(report, details)
        self.run.add_phase(report.nodeid, report.when, outcome, report.duration, reason, details)
        if not self.in_process and time.monotonic() - self.last_write >= WRITE_INTERVAL:
            self.write()

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem, report, sched):
        """xdist: a worker died while running ``crashitem`` (a segfault, or its watchdog ended a hang):
        record the test as crashed; xdist starts a new worker and the run goes on."""
        worker = getattr(getattr(report, "node", None), "gateway", None)
        reason = (f"the process running it died (pytest-xdist worker {getattr(worker, 'id', '?')} crashed: a "
                  f"segfault, abort, os._exit or out of memory)")
        message = None
        for path in pathlib.Path(self.hang_dir).glob("*.json") if self.hang_dir else ():
            try:
                note = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if note.get("nodeid") == crashitem:
                path.unlink(missing_ok=True)
                reason, message = note["reason"], f"{note['reason']}\n{note.get('stacks', '')}"
                report.longrepr = f"{report.longrepr}: {reason}"
        self.run.crashed(crashitem, reason, message=message or str(report.longrepr))
        self.write()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        status = int(exitstatus)
        interrupted = status in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
        if interrupted and self.interrupted is None:
            self.interrupted = "KeyboardInterrupt" if status == pytest.ExitCode.INTERRUPTED else "internal error"
        self.write(complete=not interrupted, exit_status=status, finished=now())

    def pytest_terminal_summary(self, terminalreporter):
        counts = self.run.counts()
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n) or "no tests"
        terminalreporter.write_line(f"inplace-conformance report: {self.path} ({summary}); "
                                    f"render it with `inplace-conformance report {self.path}`")

    def pytest_unconfigure(self, config):
        if self.previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self.previous_sigterm)
        if self.hang_dir:
            for path in pathlib.Path(self.hang_dir).glob("*"):
                path.unlink(missing_ok=True)
            os.rmdir(self.hang_dir)


def _outcome(report, details) -> tuple[str, str | None]:
    """(outcome, reason) of one phase's report."""
    xfail = getattr(report, "wasxfail", None)
    if xfail is not None and report.skipped:
        return "xfailed", xfail or "expected to fail"
    if xfail is not None and report.passed:
        return "passed", f"unexpectedly passed (expected to fail: {xfail})"
    if report.skipped:
        longrepr = report.longrepr
        text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else longrepr
        return "skipped", str(text).removeprefix("Skipped: ")
    if report.failed:
        return "failed", details.get("message") or _last_error_line(report)
    return "passed", None


def _last_error_line(report) -> str:
    text = getattr(report, "longreprtext", "") or str(report.longrepr)
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return errors[0] if errors else (text.strip().splitlines() or ["failed"])[-1]


def _header(config, reporter: Reporter) -> dict:
    """The run's description, read from the configuration each time (other plugins add to it as they go)."""
    import hypothesis
    import torch

    from . import __version__

    conformance = getattr(config, "_conformance", None) or {}
    seed = config.getoption("hypothesis_seed", None)
    return {
        "versions": {"kit": __version__, "torch": str(torch.__version__), "hypothesis": hypothesis.__version__,
                     "python": platform.python_version(), "pytest": pytest.__version__,
                     "platform": platform.platform()},
        "devices": list(conformance.get("devices", [])),
        "reference_device": getattr(conformance.get("options"), "reference_device", None),
        "capabilities": {str(k): dict(v) for k, v in (conformance.get("capabilities") or {}).items()},
        "targets": list(conformance.get("targets", ["eager"])),
        "profile": str(conformance.get("profile", "")),
        "seed": None if seed is None else str(seed),
        "test_timeout": DEFAULT_TIMEOUT if reporter.timeout is None else (reporter.timeout or None),
        "workers": 0 if reporter.in_process else int(getattr(config.option, "numprocesses", 0) or 0),
        "invocation": [str(a) for a in config.invocation_params.args],
    }


def _parser(config):
    """``parse_nodeid`` with the run's devices and targets and the dtype names of test ids."""
    from strategies.dtypes import ALL_DTYPES, dtype_name

    conformance = getattr(config, "_conformance", None) or {}
    devices = set(conformance.get("devices", []))
    targets = {_target_suffix(name): name for name in conformance.get("targets", ["eager"])}
    dtypes = {dtype_name(d) for d in ALL_DTYPES}
    return lambda nodeid: parse_nodeid(nodeid, devices, targets, dtypes)


def _target_suffix(name: str) -> str:
    """The suffix a target's test ids end with (``compile``; a vendor wrapper's short name)."""
    try:
        from .targets import get
        return get(name).suffix
    except Exception:  # noqa: BLE001 - no targets module yet, or a target that cannot load: ids use the name
        return name
