"""pytest (or Python) in a subprocess, as a user runs it from the checkout, for the tests of the plugin,
the expectation files and nightly runs; and the one-clear-line check of bad input."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SUITE = ROOT / "conformance" / "suite" / "test_pointwise.py"


def run(args, *, cwd=ROOT, env=None, python: bool = False, load_plugin: bool = False, without_ci: bool = False):
    """``python -m pytest args`` (``python args`` with ``python``) in ``cwd``, the checkout and ``cwd`` on the
    path. ``load_plugin`` names the kit's plugin (outside the checkout no conftest loads it); ``without_ci``
    drops ``CI`` from the environment, so that the ``dev`` profile (and its example database) applies."""
    command = [sys.executable, *(args if python else ["-m", "pytest", "-p", "no:cacheprovider",
                                                      *(["-p", "conformance.plugin"] * load_plugin), *args])]
    dropped = {"PYTEST_XDIST_WORKER", *(["CI"] * without_ci)}
    environment = {name: value for name, value in os.environ.items() if name not in dropped}
    environment.update({"PYTHONPATH": os.pathsep.join([str(ROOT), str(cwd)]), **(env or {})})
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


def one_error_line(result) -> str:
    """The single ``ERROR`` line of a run that bad input stopped: not a pass or a test failure (exit 0 or
    1), no traceback."""
    assert result.returncode not in (0, 1), result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, result.stdout + result.stderr
    return errors[0]
