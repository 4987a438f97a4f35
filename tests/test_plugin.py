"""The pytest plugin as users meet it: ids, options, bad input, one-line reproductions, no import side effects.

Each test runs pytest (or Python) in a subprocess, as a user would, from the repository checkout.
"""
from __future__ import annotations

import re
import textwrap

from .subprocess_runs import SUITE, one_error_line, run


def test_import_has_no_side_effects():
    code = textwrap.dedent("""
        import torch, hypothesis, hypothesis.errors
        before = {n: getattr(torch.Tensor, n) for n in dir(torch.Tensor)}
        profile = hypothesis.settings.get_current_profile_name()  # Hypothesis' own choice (ci under CI=true)
        import conformance, strategies, conformance.plugin, conformance.catalog, conformance.checks
        import conformance.properties, conformance.suite.test_pointwise
        assert not torch.cuda.is_initialized(), "CUDA initialised at import"
        import gc
        assert gc.get_freeze_count() == 0, "the garbage collector was frozen at import"
        assert hypothesis.settings.get_current_profile_name() == profile, "a profile was loaded at import"
        try:
            hypothesis.settings.get_profile("nightly")
        except hypothesis.errors.InvalidArgument:
            pass
        else:
            raise AssertionError("the kit's profiles were registered at import")
        assert before == {n: getattr(torch.Tensor, n) for n in dir(torch.Tensor)}, "torch.Tensor patched"
        print("clean")
    """)
    result = run(["-c", code], python=True)
    assert result.returncode == 0 and "clean" in result.stdout, result.stderr


def test_collection_builds_no_optimizer(tmp_path):
    """Collecting the suite (optimizer tests included) builds no optimizer: the first one imports
    ``torch._dynamo`` (2 s), which a run of a few selected tests, or ``--collect-only``, should not pay."""
    (tmp_path / "dynamo_probe.py").write_text(
        "import sys\n\ndef pytest_collection_finish(session):\n"
        "    print('items:', len(session.items), 'dynamo:', 'torch._dynamo' in sys.modules)\n")
    result = run([str(SUITE.parent / "test_optimizers.py"), "--collect-only", "-q", "-p", "dynamo_probe"],
                 cwd=tmp_path, load_plugin=True)
    assert re.search(r"items: \d+ dynamo: False", result.stdout), result.stdout + result.stderr

FREEZE_PROBE = """
import gc

def test_property(conformance_options):
    print("frozen:", gc.get_freeze_count())

def test_plain():
    print("frozen:", gc.get_freeze_count())
"""


def test_collection_is_frozen_out_of_the_garbage_collector_in_runs_of_the_kit(tmp_path):
    """What collection built is out of the collector's full passes in a run of the kit's properties, and
    left alone in a run of other tests (the plugin loads in every pytest run where the kit is installed)."""
    (tmp_path / "test_probe.py").write_text(FREEZE_PROBE)
    kit = run(["-p", "conformance.plugin", "-s", "-q", "test_probe.py"], cwd=tmp_path)
    other = run(["-p", "conformance.plugin", "-s", "-q", "test_probe.py::test_plain"], cwd=tmp_path)
    assert kit.returncode == 0 and other.returncode == 0, kit.stdout + other.stdout
    frozen = [int(n) for n in re.findall(r"frozen: (\d+)", kit.stdout)]
    assert len(frozen) == 2 and min(frozen) > 10_000, kit.stdout
    assert re.findall(r"frozen: (\d+)", other.stdout) == ["0"], other.stdout


def test_ids_read_op_dtype_device():
    result = run([str(SUITE), "--collect-only", "-q"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_inplace_agrees_with_twin[add_-float16-cpu]" in result.stdout
    assert "test_inplace_with_strided_aliased_operand[mul_-cpu]" in result.stdout


def test_unknown_device_is_one_clear_line():
    assert "unknown device 'nosuchdevice'" in one_error_line(run([str(SUITE), "--device", "nosuchdevice"]))


def test_unusable_device_is_one_clear_line():
    line = one_error_line(run([str(SUITE), "--device", "cpu", "--device", "cuda"]))
    assert "device 'cuda' is not usable here" in line


def test_unknown_profile_is_one_clear_line():
    line = one_error_line(run([str(SUITE), "--hypothesis-profile", "weekly"]))
    assert "unknown Hypothesis profile 'weekly'" in line and "nightly" in line


PLANTED_PLUGIN = """
import torch
_add_ = torch.Tensor.add_
def add_(self, other, **kw):  # planted bug: writes through .data, the version counter never moves
    _add_(self.data, other, **kw)
    return self
torch.Tensor.add_ = add_
"""


def test_failure_gives_a_one_line_reproduction_that_replays(tmp_path):
    (tmp_path / "planted_version_bug.py").write_text(PLANTED_PLUGIN)
    test_id = f"{SUITE}::test_inplace_agrees_with_twin[add_-float32-cpu]"
    first = run(["-p", "planted_version_bug", test_id], cwd=tmp_path, env={"CI": "true"})
    assert first.returncode == 1, first.stdout + first.stderr
    assert "[version] add_ on self float32" in first.stdout
    line = re.search(r"^pytest '(.+)' --reproduce-blob=(\S+)$", first.stdout, re.M)
    assert line, first.stdout
    again = run(["-p", "planted_version_bug", test_id, f"--reproduce-blob={line.group(2)}"], cwd=tmp_path)
    assert again.returncode == 1 and "[version] add_ on self float32" in again.stdout, again.stdout
    clean = run([test_id, f"--reproduce-blob={line.group(2)}"], cwd=tmp_path)
    assert "DidNotReproduce" in clean.stdout  # on real torch the same example passes
