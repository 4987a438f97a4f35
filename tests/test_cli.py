"""The ``inplace-conformance`` command: the ``ops`` table and JSON, filters, and one-line errors."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
import torch

from conformance import cli, inventory

KEYS = {"name", "kind", "twin", "status", "reason", "checks", "covered_by", "family", "note"}


def run(*argv) -> tuple[int, str]:
    out = io.StringIO()
    status = cli.main(list(argv), out=out)
    return status, out.getvalue()


@pytest.fixture(scope="module")
def listing():
    status, text = run("ops", "--json")
    assert status == 0
    return json.loads(text)


def test_json_lists_one_object_per_discovered_callable(listing):
    assert len(listing) == len(inventory.build())
    assert len({(o["kind"], o["name"]) for o in listing}) == len(listing)
    for item in listing:
        assert set(item) == KEYS
        assert item["kind"] in inventory.KINDS and item["status"] in inventory.STATUSES
        if item["status"] == "checked":
            assert item["checks"] and item["family"]
        else:
            assert item["reason"] and not item["checks"]


def test_json_accounts_for_every_public_inplace_tensor_method(listing):
    methods = {o["name"]: o for o in listing if o["kind"] == "method"}
    assert set(methods) == {n for n in dir(torch.Tensor) if n.endswith("_") and not n.startswith("_")}
    assert methods["add_"]["status"] == "checked" and methods["add_"]["twin"] == "add"
    assert methods["apply_"]["status"] == "excluded" and "Python" in methods["apply_"]["reason"]


def test_json_says_how_aten_overloads_are_accounted(listing):
    entry = next(o for o in listing if o["name"] == "aten::add_.Scalar")
    assert entry["kind"] == "aten" and entry["covered_by"] == "add_" and entry["status"] == "checked"


def test_kind_and_status_filters(listing):
    status, text = run("ops", "--json", "--kind", "aten,dunder", "--status", "checked")
    assert status == 0
    shown = json.loads(text)
    assert shown == [o for o in listing if o["kind"] in ("aten", "dunder") and o["status"] == "checked"]


def test_table_has_a_row_per_callable_and_a_summary():
    status, text = run("ops", "--kind", "method")
    assert status == 0
    lines = text.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "STATUS", "TWIN", "DETAIL"]
    rows = [line for line in lines[1:] if line.split()[1:2] == ["method"]]
    assert len(rows) == len([n for n in dir(torch.Tensor) if n.endswith("_") and not n.startswith("_")])
    assert any(line.startswith("add_ ") and " checked " in line for line in rows)
    assert lines[-1].startswith("method: ") and "checked" in lines[-1]


@pytest.mark.parametrize("argv, says", [
    (["ops", "--kind", "nope"], "unknown kind nope"),
    (["ops", "--status", "maybe"], "invalid choice: 'maybe'"),
    (["nope"], "invalid choice: 'nope'"),
    ([], "required: COMMAND"),
    (["ops", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_input_is_one_line_and_exit_status_2(argv, says, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and err.startswith("inplace-conformance: error: ")


def test_console_entry_point_exits_non_zero_without_traceback():
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "ops", "--kind", "nope"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
