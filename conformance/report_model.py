"""The conformance report as data: one record per test, the run's header, atomic writes, loading and checking.

No pytest here: ``report_plugin`` feeds a :class:`RunReport` the phases of each test, the ``report`` command
loads a written document back. The format is published in ``report.schema.json`` (see docs/reports.md).
"""
from __future__ import annotations

import datetime
import functools
import json
import os
import pathlib
import tempfile
import threading
from importlib import resources

SCHEMA_VERSION = 1
OUTCOMES = ("passed", "failed", "xfailed", "skipped", "crashed")
SEVERITY = ("crashed", "failed", "xfailed", "skipped", "passed")
"""Outcomes from worst to best: a cell of several records shows the worst."""


class ReportError(ValueError):
    """A report file that is missing, not JSON or not a report: one line that says which."""


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def parse_nodeid(nodeid: str, devices=(), targets=(), dtypes=()) -> dict:
    """``file``, ``check``, ``op``, ``dtype``, ``device``, ``target`` of a suite test id.

    Ids read ``op-dtype-device[-target]`` (any of them may be absent): segments are taken from the right
    when they name a known target, device or dtype; what is left is the op (None when nothing is left).
    ``targets`` maps the id suffix of each target to its name (``{"MyMode": "vendor.modes:MyMode"}``); a
    plain collection of names is its own mapping. Works from the id alone, so a test whose worker crashed
    before reporting anything still gets a record.
    """
    path, _, name = nodeid.partition("::")
    function, _, params = name.rpartition("::")[2].partition("[")
    segments = params[:-1].split("-") if params.endswith("]") else []
    suffixes = dict(targets) if isinstance(targets, dict) else {t: t for t in targets}
    suffixes = {suffix: target for suffix, target in suffixes.items() if suffix and target != "eager"}
    found = {"target": "eager", "device": None, "dtype": None}
    if segments and segments[-1] in suffixes:
        found["target"] = suffixes[segments.pop()]
    for key, known in (("device", devices), ("dtype", dtypes)):
        if segments and segments[-1] in known:
            found[key] = segments.pop()
    return {"file": path, "check": function.removeprefix("test_"), "op": "-".join(segments) or None, **found}


def worst(outcomes) -> str:
    return min(outcomes, key=SEVERITY.index)


def _first_line(text: str | None) -> str | None:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), None)


class RunReport:
    """The records of one run, built phase by phase, rendered as one JSON document at any time.

    Thread-safe: a watchdog thread may record a hanging test while the main thread is stuck.
    """

    def __init__(self, header: dict, parse=parse_nodeid):
        self.header = {"schema_version": SCHEMA_VERSION, "started": now(), **header}
        self.parse = parse
        self._records: dict[str, dict] = {}
        self._lines: dict[str, str] = {}  # records as JSON, kept until they change: rewrites stay cheap
        self._running: dict[str, None] = {}
        self.collected: list[str] | None = None
        """Node ids of the collected tests, once known."""
        self._lock = threading.RLock()

    def start(self, nodeid: str) -> None:
        with self._lock:
            self._running[nodeid] = None

    def finish(self, nodeid: str) -> None:
        with self._lock:
            self._running.pop(nodeid, None)

    def record(self, nodeid: str) -> dict:
        """The record of ``nodeid``, created (passed, nothing run yet) on first use."""
        with self._lock:
            if nodeid not in self._records:
                self._records[nodeid] = {
                    "nodeid": nodeid, **self.parse(nodeid), "outcome": "passed", "duration": 0.0, "examples": None,
                    "reason": None, "failed_check": None, "message": None, "reproduction": None, "command": None,
                    "phase": None}
            return self._records[nodeid]

    def add_phase(self, nodeid: str, phase: str, outcome: str, duration: float, reason: str | None = None,
                  details: dict | None = None) -> None:
        """One phase (setup, call, teardown) of a test: the record keeps the worst outcome and its reason.

        ``details`` (from the test's process) may carry ``examples``, ``message``, ``failed_check``,
        ``reproduction``, ``command`` and ``crash`` (a reason that makes the outcome ``crashed``).
        """
        details = details or {}
        with self._lock:
            self._lines.pop(nodeid, None)
            record = self.record(nodeid)
            record["duration"] = round(record["duration"] + max(0.0, duration or 0.0), 6)
            if details.get("examples") is not None:
                record["examples"] = details["examples"]
            if details.get("crash"):
                outcome, reason = "crashed", details["crash"]
            if SEVERITY.index(outcome) < SEVERITY.index(record["outcome"]) or (
                    outcome == record["outcome"] != "passed" and record["reason"] is None):
                record.update(outcome=outcome, reason=_first_line(reason) or reason, phase=phase)
                for key in ("failed_check", "message", "reproduction", "command"):
                    if details.get(key) is not None:
                        record[key] = details[key]
            elif outcome == "passed" and reason and record["outcome"] == "passed":
                record["reason"] = _first_line(reason)  # an unexpected pass of an xfail says so

    def crashed(self, nodeid: str, reason: str, message: str | None = None, phase: str | None = None) -> None:
        """``nodeid`` killed its process (or hung): outcome ``crashed`` whatever was recorded before."""
        with self._lock:
            self._lines.pop(nodeid, None)
            record = self.record(nodeid)
            if record["outcome"] != "crashed":
                record.update(outcome="crashed", reason=_first_line(reason), phase=phase or record["phase"],
                              message=message or record["message"])
            self._running.pop(nodeid, None)

    def document(self, *, complete: bool = False, exit_status: int | None = None, finished: str | None = None,
                 interrupted: str | None = None) -> dict:
        """The report as a JSON-able dict (see ``report.schema.json``)."""
        return json.loads(self.text(complete=complete, exit_status=exit_status, finished=finished,
                                    interrupted=interrupted))

    def text(self, *, complete: bool = False, exit_status: int | None = None, finished: str | None = None,
             interrupted: str | None = None) -> str:
        """The report as JSON text: the header indented, one line per record."""
        with self._lock:
            counts = self.counts()
            not_run = [n for n in self.collected or () if n not in self._records and n not in self._running] \
                if finished else []
            head = {**self.header, "complete": complete, "interrupted": interrupted, "updated": now(),
                    "finished": finished, "exit_status": exit_status,
                    "collected": None if self.collected is None else len(self.collected),
                    "running": list(self._running), "not_run": not_run, "counts": counts}
            lines = []
            for nodeid, record in self._records.items():
                if nodeid not in self._lines:
                    self._lines[nodeid] = json.dumps(record, ensure_ascii=False)
                lines.append(self._lines[nodeid])
        text = json.dumps(head, ensure_ascii=False, indent=1)
        records = "[\n  " + ",\n  ".join(lines) + "\n ]" if lines else "[]"
        return text[:-2] + ',\n "records": ' + records + "\n}\n"

    def counts(self) -> dict[str, int]:
        with self._lock:
            outcomes = [record["outcome"] for record in self._records.values()]
        return {outcome: outcomes.count(outcome) for outcome in OUTCOMES}


def write_atomically(path: str | os.PathLike, text: str, *, sync: bool = False) -> None:
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``: a reader (or a
    crash) sees the old document or the new one, never half of one."""
    path = pathlib.Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; a report is an ordinary file
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            if sync:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def schema() -> dict:
    """The published JSON schema of the report (``conformance/report.schema.json``)."""
    return json.loads(resources.files("conformance").joinpath("report.schema.json").read_text(encoding="utf-8"))


def load(path: str | os.PathLike) -> dict:
    """A report read from ``path`` and checked against the schema; :class:`ReportError` says what is wrong."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"no such report: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ReportError(f"cannot read {path}: {error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(f"{path} is not JSON: {error}") from None
    problems = validate(document)
    if problems:
        raise ReportError(f"{path} is not a conformance report: {problems[0]}"
                          + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""))
    return document


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
          "integer": int, "number": (int, float)}


def validate(document, schema_: dict | None = None) -> list[str]:
    """Problems of ``document`` against the report schema, as ``at $.records[3].outcome: ...`` lines.

    Checks the part of JSON Schema the report schema uses (type, enum, required, properties, items,
    additionalProperties, minimum, local $ref), so reading a report needs no extra package; the kit's tests
    check that it agrees with the ``jsonschema`` package.
    """
    root = schema_ or schema()
    problems: list[str] = []

    def check(value, node, where):
        if "$ref" in node:
            node = _resolve(root, node["$ref"])
        types = node.get("type")
        if types is not None:
            names = [types] if isinstance(types, str) else types
            if not any(isinstance(value, _TYPES[n]) and not (isinstance(value, bool) and n in ("integer", "number"))
                       for n in names):
                problems.append(f"at {where}: expected {' or '.join(names)}, got {type(value).__name__}")
                return
        if "enum" in node and value not in node["enum"]:
            problems.append(f"at {where}: {value!r} is not one of {node['enum']}")
        if "minimum" in node and isinstance(value, (int, float)) and value < node["minimum"]:
            problems.append(f"at {where}: {value} is below {node['minimum']}")
        if isinstance(value, dict):
            for key in node.get("required", ()):
                if key not in value:
                    problems.append(f"at {where}: missing {key!r}")
            properties = node.get("properties", {})
            extra = node.get("additionalProperties", True)
            for key, item in value.items():
                if key in properties:
                    check(item, properties[key], f"{where}.{key}")
                elif extra is False:
                    problems.append(f"at {where}: unexpected {key!r}")
                elif isinstance(extra, dict):
                    check(item, extra, f"{where}.{key}")
        if isinstance(value, list) and "items" in node:
            for index, item in enumerate(value):
                check(item, node["items"], f"{where}[{index}]")

    check(document, root, "$")
    return problems


def _resolve(root: dict, ref: str) -> dict:
    """The node a local reference ``#/$defs/name`` points at."""
    node = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node
