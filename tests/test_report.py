"""The conformance report, crashes and timeouts: ``--conformance-report``, ``--test-timeout``, JUnit ids and
``inplace-conformance report``.

Crashes and hangs are planted in real suite runs: a pytest plugin (written to a temporary folder) replaces
ops after collection with a segfault (``neg_``), a Python-level hang (``cos_``: ``time.sleep``), a hang
that ignores SIGALRM (``sin_``: the watchdog thread must end it) and a hang that holds the GIL (``exp_``:
only faulthandler can end it). Pytest runs in a subprocess, as a user runs it.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from conformance import cli
from conformance.report_model import RunReport, ReportError, load, parse_nodeid, schema, validate, write_atomically
from conformance.watchdog import TestTimeout, Watchdog

ROOT = pathlib.Path(__file__).resolve().parents[1]
SUITE = "conformance/suite/test_pointwise.py::test_inplace_agrees_with_twin"


def test_id(op: str, dtype: str = "float32") -> str:
    return f"{SUITE}[{op}-{dtype}-cpu]"


test_id.__test__ = False

PLANTED = '''
"""Planted after collection, so that only the tests that call these ops are hit."""
import ctypes, os, signal, time
import torch

def segfault(self, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGSEGV)

def python_hang(self, *args, **kwargs):
    time.sleep(1000)

def signal_proof_hang(self, *args, **kwargs):
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
    time.sleep(1000)

def gil_holding_hang(self, *args, **kwargs):
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
    ctypes.PyDLL(None).sleep(1000)

_add_ = torch.Tensor.add_
def add_without_version_bump(self, other, **kwargs):
    _add_(self.data, other, **kwargs)
    return self

def pytest_collection_finish(session):
    torch.Tensor.neg_, torch.Tensor.cos_, torch.Tensor.sin_ = segfault, python_hang, signal_proof_hang
    torch.Tensor.exp_, torch.Tensor.add_ = gil_holding_hang, add_without_version_bump
'''


def pytest_run(args, tmp_path, *, timeout=400, background=False, plant=True):
    (tmp_path / "planted_crashes.py").write_text(PLANTED)
    """pytest in ``tmp_path`` (its example database too), node ids relative to the checkout; the ``dev``
    profile whatever ``CI`` says, so that the passing tests stay well within the short timeouts."""
    args = [str(ROOT / arg) if arg.startswith("conformance/") else arg for arg in args]
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *(["-p", "planted_crashes"] * plant), "-q",
               f"--rootdir={ROOT}", "--hypothesis-profile=dev", *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    env.pop("PYTEST_XDIST_WORKER", None)
    if background:
        return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)


def by_op(document) -> dict:
    return {r["op"]: r for r in document["records"]}


def assert_valid(document):
    jsonschema.validate(document, schema())
    assert validate(document) == []


# the model, without pytest ------------------------------------------------------------------------------

def make_document() -> dict:
    run = RunReport({"versions": {"kit": "0.1.0", "torch": "2.13.0", "hypothesis": "6", "python": "3.11"},
                     "devices": ["cpu"], "capabilities": {"cpu": {"values": True, "dtypes": ["float32"]}},
                     "targets": ["eager"], "profile": "dev", "seed": None},
                    parse=lambda nodeid: parse_nodeid(nodeid, {"cpu"}, {"eager"}, {"float32"}))
    run.collected = [test_id(op) for op in ("add_", "mul_", "neg_", "abs_")] + [f"{SUITE}[sub_-cpu]", "t.py::test_x"]
    run.add_phase(test_id("add_"), "setup", "passed", 0.01)
    run.add_phase(test_id("add_"), "call", "failed", 1.5, "[version] add_ ...", {
        "examples": 12, "failed_check": "version", "message": "[version] add_ on self float32\n  expected: ...",
        "reproduction": "import torch\nself = torch.zeros(2)\nresult = self.add_(1)  # <planted & 'quoted'>",
        "command": f"pytest '{test_id('add_')}' --reproduce-blob=AXic"})
    run.add_phase(test_id("add_"), "teardown", "passed", 0.01)
    run.add_phase(test_id("mul_"), "call", "passed", 0.2, None, {"examples": 20})
    run.add_phase(test_id("abs_"), "setup", "xfailed", 0.0, "known torch issue x")
    run.crashed(test_id("neg_"), "the process running it died")
    run.add_phase(f"{SUITE}[sub_-cpu]", "call", "skipped", 0.0, "not implemented")
    run.add_phase("t.py::test_x", "call", "passed", 0.0)
    return run.document(complete=True, exit_status=1, finished="2026-01-01T00:00:00+00:00")


def test_schema_is_valid_json_schema_and_both_validators_accept_a_report():
    jsonschema.Draft202012Validator.check_schema(schema())
    assert_valid(make_document())


@pytest.mark.parametrize("breakage", [
    lambda d: d.pop("records"),
    lambda d: d.update(complete="yes"),
    lambda d: d["records"][0].update(outcome="exploded"),
    lambda d: d["records"][0].update(duration="1 s"),
    lambda d: d["records"][0].update(examples=-1),
    lambda d: d["records"][0].pop("nodeid"),
    lambda d: d["counts"].pop("crashed"),
    lambda d: d["versions"].update(torch=2),
])
def test_both_validators_reject_a_broken_report(breakage):
    document = make_document()
    breakage(document)
    assert list(jsonschema.Draft202012Validator(schema()).iter_errors(document))
    assert validate(document)


def test_ids_are_split_into_op_dtype_device_target():
    devices, targets, dtypes = {"cpu", "cuda:1"}, {"eager", "compile"}, {"float16", "float64"}
    parse = lambda nodeid: parse_nodeid(nodeid, devices, targets, dtypes)  # noqa: E731
    assert parse("s/t.py::test_inplace_agrees_with_twin[add_-float16-cpu]") == {
        "file": "s/t.py", "check": "inplace_agrees_with_twin", "op": "add_", "dtype": "float16", "device": "cpu",
        "target": "eager"}
    assert parse("s/t.py::test_a[add_-float16-cuda:1-compile]")["target"] == "compile"
    vendor = parse_nodeid("s/t.py::test_a[add_-float16-cpu-MyMode]", devices, {"": "eager", "MyMode": "v.m:MyMode"},
                          dtypes)
    assert (vendor["op"], vendor["dtype"], vendor["target"]) == ("add_", "float16", "v.m:MyMode")
    assert parse("s/t.py::test_a[mul_-cpu]") == {**parse("s/t.py::test_a[mul_-cpu]"), "op": "mul_", "dtype": None}
    assert parse("s/t.py::test_grad[float64-cpu]")["op"] is None
    assert parse("s/t.py::test_opt[Adam-foreach-cpu]")["op"] == "Adam-foreach"
    assert parse("s/t.py::test_catalog")["op"] is None and parse("s/t.py::test_catalog")["device"] is None
    assert parse("s/t.py::TestX::test_y[add_-cpu]")["check"] == "y"


def test_a_record_keeps_its_worst_phase_and_a_crash_overrides_everything():
    document = make_document()
    records = {r["nodeid"]: r for r in document["records"]}
    add = records[test_id("add_")]
    assert (add["outcome"], add["phase"], add["failed_check"], add["examples"]) == ("failed", "call", "version", 12)
    assert add["duration"] == pytest.approx(1.52)
    assert records[test_id("neg_")]["outcome"] == "crashed"
    assert document["counts"] == {"passed": 2, "failed": 1, "xfailed": 1, "skipped": 1, "crashed": 1}
    assert document["not_run"] == []


def test_atomic_write_leaves_the_old_document_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    write_atomically(path, '{"old": true}')
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    def broken_replace(source, target):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomically(path, '{"new": true}')
    assert json.loads(path.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left behind


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_timeout_raises_only_inside_a_phase():
    watchdog = Watchdog(use_faulthandler=False)
    watchdog.arm("between phases", 0.3)  # the watchdog thread would end this process at 0.6 s
    watchdog.interruptible = False
    try:
        time.sleep(0.4)  # the alarm fires here: not inside a phase, so nothing is raised
    finally:
        watchdog.disarm()
    assert watchdog.fired is None
    watchdog.interruptible = True
    watchdog.arm("in a phase", 0.3)
    try:
        with pytest.raises(TestTimeout, match="timed out after 0.3 s"):
            time.sleep(0.4)
    finally:
        watchdog.disarm()
    assert watchdog.fired.startswith("timed out after 0.3 s, in:") and "test_report.py" in watchdog.fired


# runs of the suite ---------------------------------------------------------------------------------------

def test_under_xdist_crashes_and_hangs_are_crashed_tests_and_the_report_is_complete(tmp_path):
    """Two workers; a segfault, three kinds of hang and two real passing ops; JUnit XML alongside. (One
    test: the run is the expensive part.)"""
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    result = pytest_run([*(test_id(op) for op in ("abs_", "neg_", "cos_", "sin_", "exp_", "floor_")),
                         f"--conformance-report={report}", f"--junitxml={junit}", "-n", "2", "--test-timeout=5"],
                        tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    document = json.loads(report.read_text())
    assert_valid(document)
    assert document["complete"] and document["workers"] == 2 and document["exit_status"] == 1
    assert document["collected"] == len(document["records"]) == 6 and document["not_run"] == []
    assert document["test_timeout"] == 5
    assert document["versions"]["torch"] and document["devices"] == ["cpu"] and document["targets"] == ["eager"]
    records = by_op(document)
    # the segfault: the worker died, xdist replaced it, the run went on
    assert records["neg_"]["outcome"] == "crashed", records["neg_"]
    assert "process running it died" in records["neg_"]["reason"]
    for op in ("abs_", "floor_"):
        assert records[op]["outcome"] == "passed" and records[op]["examples"] > 0, records[op]
    # a Python-level hang: stopped at the timeout, its worker went on
    assert records["cos_"]["outcome"] == "crashed" and records["cos_"]["reason"] == "timed out after 5 s"
    assert "python_hang" in records["cos_"]["message"]  # where it hung
    # a hang that ignores SIGALRM: the watchdog thread ended the worker, with the stack of the hanging call
    assert records["sin_"]["outcome"] == "crashed"
    assert records["sin_"]["reason"] == "timed out after 5 s (did not stop on SIGALRM; process ended)"
    assert "signal_proof_hang" in records["sin_"]["message"]
    # a hang holding the GIL: faulthandler ended the worker
    assert records["exp_"]["outcome"] == "crashed", records["exp_"]
    # JUnit XML keeps the readable ids and none of the report's plumbing
    tree = ET.parse(junit)
    names = {case.get("name") for case in tree.iter("testcase")}
    assert {"test_inplace_agrees_with_twin[abs_-float32-cpu]", "test_inplace_agrees_with_twin[neg_-float32-cpu]"} \
        <= names, names
    assert not [p for p in tree.iter("property") if p.get("name") == "inplace-conformance"]


def test_junit_xml_add_id(tmp_path):
    junit = tmp_path / "junit.xml"
    result = pytest_run([test_id("add_"), f"--junitxml={junit}"], tmp_path, plant=False)
    assert result.returncode == 0, result.stdout + result.stderr
    names = [case.get("name") for case in ET.parse(junit).iter("testcase")]
    assert names == ["test_inplace_agrees_with_twin[add_-float32-cpu]"]


def test_in_process_segfault_leaves_a_report_naming_the_test(tmp_path):
    report = tmp_path / "report.json"
    result = pytest_run([test_id("abs_"), test_id("neg_"), test_id("floor_"), f"--conformance-report={report}"],
                        tmp_path)
    assert result.returncode == -signal.SIGSEGV, result.stdout + result.stderr
    document = json.loads(report.read_text())
    assert_valid(document)
    assert not document["complete"] and document["finished"] is None
    assert document["running"] == [test_id("neg_")]
    assert [(r["op"], r["outcome"]) for r in document["records"]] == [("abs_", "passed")]


def test_in_process_hangs_are_recorded_and_a_signal_proof_one_ends_the_run(tmp_path):
    report = tmp_path / "report.json"
    result = pytest_run([test_id("cos_"), test_id("abs_"), test_id("sin_"), test_id("floor_"),
                         f"--conformance-report={report}", "--test-timeout=5"], tmp_path)
    assert result.returncode == 70, result.stdout + result.stderr  # watchdog.HANG_EXIT_STATUS
    assert "timed out after 5 s (did not stop on SIGALRM; process ended)" in result.stdout + result.stderr
    document = json.loads(report.read_text())
    assert_valid(document)
    records = by_op(document)
    assert records["cos_"]["outcome"] == "crashed" and records["cos_"]["reason"] == "timed out after 5 s"
    assert records["abs_"]["outcome"] == "passed"  # the run went on after the first hang
    assert records["sin_"]["outcome"] == "crashed" and "process ended" in records["sin_"]["reason"]
    assert not document["complete"] and test_id("sin_") in document["interrupted"]
    assert "floor_" not in records


def test_sigterm_keeps_collected_results_and_failure_details(tmp_path):
    report = tmp_path / "report.json"
    process = pytest_run([test_id("add_"), test_id("abs_"), test_id("cos_"), f"--conformance-report={report}",
                          "--test-timeout=0"], tmp_path, background=True)
    deadline, snapshots = time.monotonic() + 120, 0
    try:
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if report.exists():
                document = json.loads(report.read_text())  # every snapshot is a whole document
                snapshots += 1
                if document["running"] == [test_id("cos_")]:
                    break
        else:
            pytest.fail("the hanging test never started")
        assert_valid(document)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    document = json.loads(report.read_text())
    assert_valid(document)
    assert not document["complete"] and document["interrupted"] == "SIGTERM" and document["finished"]
    records = by_op(document)
    assert records["abs_"]["outcome"] == "passed"
    add = records["add_"]
    assert (add["outcome"], add["failed_check"], add["phase"]) == ("failed", "version", "call"), add
    assert add["reason"].startswith("[version] add_ on self float32")
    assert "add_(" in add["reproduction"] and "import torch" in add["reproduction"]
    assert re.fullmatch(r"pytest '.+\[add_-float32-cpu\]' --reproduce-blob=\S+", add["command"]), add["command"]
    assert add["examples"] > 0


def test_failure_of_a_property_not_parametrized_by_op_has_its_clause_and_replay_command(tmp_path):
    (tmp_path / "planted_mul.py").write_text("import torch\n"
                                             "def pytest_collection_finish(session):\n"
                                             "    torch.Tensor.mul_ = lambda self, other: self  # writes nothing\n")
    report, test = tmp_path / "report.json", "conformance/suite/test_autograd.py::test_version_counters[cpu]"
    result = pytest_run([test, "-p", "planted_mul", f"--conformance-report={report}"], tmp_path, plant=False)
    assert result.returncode == 1, result.stdout + result.stderr
    record = json.loads(report.read_text())["records"][0]
    assert (record["op"], record["dtype"], record["device"], record["check"]) == (None, None, "cpu",
                                                                                  "version_counters")
    assert record["outcome"] == "failed" and record["failed_check"] == "version-bump", record
    assert record["command"].startswith(f"pytest '{test}' --reproduce-blob="), record  # not from plugin.py


@pytest.mark.parametrize("args, message", [
    (["--conformance-report=/no/such/folder/report.json"], "cannot write the conformance report to"),
    (["--test-timeout=soon"], "--test-timeout must be a number of seconds"),
    (["--test-timeout=-1"], "--test-timeout must be a number of seconds"),
])
def test_bad_options_are_one_clear_line(tmp_path, args, message):
    result = pytest_run([test_id("abs_"), *args], tmp_path)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and message in errors[0], output


# inplace-conformance report ------------------------------------------------------------------------------

def render(args):
    out, err = _Capture(), _Capture()
    old, sys.stderr = sys.stderr, err
    try:
        status = cli.main(["report", *args], out=out)
    finally:
        sys.stderr = old
    return status, out.text, err.text


class _Capture:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_report_command_writes_a_self_contained_page_and_a_markdown_summary(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(make_document()))
    status, markdown, _ = render([str(path)])
    assert status == 0
    page = (tmp_path / "run.html").read_text()
    assert "<script" in page and "<style>" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing loaded from elsewhere
    assert "<planted" not in page and "\\u003cplanted" in page  # data cannot close the script element
    assert "cpu <span class=sep>/</span> eager" in page
    assert "| failed | 1 |" in markdown and "| crashed | 1 |" in markdown
    assert "| `test_inplace_agrees_with_twin[add_-float32-cpu]` | inplace_agrees_with_twin | version |" in markdown
    assert f"pytest '{test_id('add_')}' --reproduce-blob=AXic" in markdown
    assert render([str(path), "--fail-on", "failed,crashed", "--no-html"])[0] == 1
    assert render([str(path), "--fail-on", "xfailed", "--html", str(tmp_path / "other.html")])[0] == 1
    assert (tmp_path / "other.html").exists()


def test_report_command_flags_an_incomplete_report(tmp_path):
    document = make_document()
    document.update(complete=False, interrupted="SIGTERM", running=[test_id("cos_")])
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document))
    status, markdown, _ = render([str(path), "--fail-on", "crashed"])
    assert status == 1 and "**Incomplete report**: SIGTERM" in markdown and test_id("cos_") in markdown
    assert "Incomplete report" in (tmp_path / "run.html").read_text()


@pytest.mark.parametrize("content, message", [
    (None, "no such report"),
    ("{not json", "is not JSON"),
    ('{"records": []}', "is not a conformance report: at $: missing 'schema_version'"),
])
def test_report_command_bad_input_is_one_error_line(tmp_path, content, message):
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    status, out, err = render([str(path)])
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("inplace-conformance: error: ") and message in err, err
    assert not (tmp_path / "run.html").exists()
    with pytest.raises(ReportError):
        load(path)


def test_report_command_rejects_unknown_outcome(tmp_path):
    status, _, err = render([str(tmp_path / "x.json"), "--fail-on", "exploded"])
    assert status == 2 and "unknown outcome exploded" in err


# the page in a real browser ------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


def chromium(args, tmp_path):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{CHROMIUM} is missing: CI must test the HTML report in a real browser")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_page_opens_a_reproduction_in_a_real_browser(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(make_document()))
    assert render([str(path)])[0] == 0
    page = (tmp_path / "run.html").as_uri()
    plain = chromium(["--dump-dom", page], tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "<aside id=\"detail\" hidden" in plain.stdout and "self.add_(1)" not in _panel(plain.stdout)
    fragment = "#test=" + urllib.parse.quote(test_id("add_"), safe="")
    opened = chromium(["--dump-dom", page + fragment], tmp_path)
    panel = _panel(opened.stdout)
    assert "<aside id=\"detail\">" in opened.stdout, opened.stdout[-2000:]
    assert "result = self.add_(1)  # &lt;planted &amp; 'quoted'&gt;" in panel  # the snippet, as text
    assert f"pytest '{test_id('add_')}' --reproduce-blob=AXic" in panel
    assert 'class="cell failed open"' in opened.stdout  # the clicked cell is marked
    screenshot = tmp_path / "report.png"
    shot = chromium([f"--screenshot={screenshot}", "--window-size=1300,800", page + fragment], tmp_path)
    assert shot.returncode == 0 and screenshot.stat().st_size > 10_000, shot.stderr


def _panel(dom: str) -> str:
    start = dom.find("<aside")
    return dom[start:dom.find("</aside>", start)]
