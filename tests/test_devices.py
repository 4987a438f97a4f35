"""Devices as vendors meet them: any device string, backend setup, capabilities, meta, tolerances.

Each test runs pytest in a subprocess from the repository checkout, as a user would (``tests/test_plugin.py``'s
helpers), and would fail with the feature it names broken.
"""
from __future__ import annotations

import json
import textwrap

from .subprocess_runs import ROOT, SUITE, one_error_line, run

ADD_F32 = f"{SUITE}::test_inplace_agrees_with_twin[add_-float32-cpu]"
MUL_F32 = f"{SUITE}::test_inplace_agrees_with_twin[mul_-float32-cpu]"
SETITEM = ROOT / "conformance" / "suite" / "test_setitem.py"

# A vendor module: importing it registers the PrivateUse1 device "foo" (as a C++ extension's import would),
# and setup() records that it ran.
VENDOR = """
import os, torch
torch.utils.rename_privateuse1_backend("foo")

def setup():
    open(os.environ["SETUP_MARKER"], "w").write("called")

def broken():
    raise RuntimeError("driver 4.2 not found")

not_callable = 3
"""

# Records the run's shared state at the end of the session, and every attempt to initialise CUDA (on a CPU
# build is_initialized() stays False whatever happens, so the attempts themselves are counted).
STATE_PLUGIN = """
import json, os, torch
CUDA_INIT_CALLS = []
_lazy_init = torch.cuda._lazy_init
def _recording_lazy_init():
    CUDA_INIT_CALLS.append(1)
    return _lazy_init()
torch.cuda._lazy_init = _recording_lazy_init

def pytest_unconfigure(config):
    state = getattr(config, "_conformance", {})
    with open(os.environ["STATE_FILE"], "w") as f:
        json.dump({"capabilities": state.get("capabilities"), "cuda_initialized": torch.cuda.is_initialized(),
                   "cuda_init_calls": len(CUDA_INIT_CALLS)}, f)
"""


def _vendor(tmp_path):
    (tmp_path / "fakevendor.py").write_text(VENDOR)
    return {"SETUP_MARKER": str(tmp_path / "marker")}


# --- backend setup -----------------------------------------------------------------------------------------

def test_backend_setup_imports_the_module_and_calls_the_callable(tmp_path):
    env = _vendor(tmp_path)
    result = run([str(SUITE), "--backend-setup", "fakevendor:setup", "--device", "foo", "--collect-only"],
                 cwd=tmp_path, env=env)
    # The import registered "foo": it is known to torch (not "unknown device"), but there is no allocator.
    assert "device 'foo' is not usable here" in one_error_line(result)
    assert (tmp_path / "marker").read_text() == "called"


def test_without_backend_setup_a_privateuse1_name_is_unknown(tmp_path):
    line = one_error_line(run([str(SUITE), "--device", "foo", "--collect-only"], cwd=tmp_path))
    assert "unknown device 'foo'" in line and "--backend-setup" in line


def test_backend_setup_from_the_environment(tmp_path):
    env = {**_vendor(tmp_path), "INPLACE_CONFORMANCE_BACKEND_SETUP": "fakevendor:setup"}
    result = run([str(SUITE), "--device", "foo", "--collect-only"], cwd=tmp_path, env=env)
    assert "device 'foo' is not usable here" in one_error_line(result)
    assert (tmp_path / "marker").read_text() == "called"


def test_backend_setup_option_wins_over_the_environment(tmp_path):
    env = {**_vendor(tmp_path), "INPLACE_CONFORMANCE_BACKEND_SETUP": "fakevendor:broken"}
    result = run([ADD_F32, "--backend-setup", "fakevendor:setup", "--collect-only", "-q"], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "marker").read_text() == "called"


def test_backend_setup_module_alone_is_imported(tmp_path):
    env = _vendor(tmp_path)
    result = run([str(SUITE), "--backend-setup", "fakevendor", "--device", "foo", "--collect-only"],
                 cwd=tmp_path, env=env)
    assert "device 'foo' is not usable here" in one_error_line(result)
    assert not (tmp_path / "marker").exists()  # no callable named: none called


def test_backend_setup_errors_are_one_clear_line(tmp_path):
    env = _vendor(tmp_path)
    cases = {
        "nosuchvendor": "cannot import 'nosuchvendor'",
        "fakevendor:missing": "module 'fakevendor' has no 'missing'",
        "fakevendor:broken": "broken() raised RuntimeError: driver 4.2 not found",
        "fakevendor:not_callable": "'not_callable' is not callable",
        "fakevendor:": "expected module or module:callable",
    }
    for spec, message in cases.items():
        line = one_error_line(run([str(SUITE), "--backend-setup", spec, "--collect-only"], cwd=tmp_path, env=env))
        assert message in line, (spec, line)


def test_a_privateuse1_backend_runs_the_suite():
    """``tests/foo_backend.py`` registers "foo" on import, as a vendor's extension does: the suite runs on it."""
    ids = [f"{SUITE}::test_inplace_agrees_with_twin[{op}-foo]" for op in ("add_-float32", "neg_-int64", "mul_-bool")]
    result = run([*ids, "--backend-setup", "tests.foo_backend", "--device", "foo"], env={"CI": "true"})
    assert result.returncode == 0 and "3 passed" in result.stdout, result.stdout + result.stderr
    assert "capabilities of foo: values, no data_ptr, version_counter, autograd" in result.stdout


# --- capabilities, meta ------------------------------------------------------------------------------------

def test_capabilities_are_probed_stored_and_printed(tmp_path):
    (tmp_path / "state_plugin.py").write_text(STATE_PLUGIN)
    state = tmp_path / "state.json"
    result = run(["-p", "state_plugin", ADD_F32, "--device", "cpu", "--device", "meta", "--collect-only"],
                 cwd=tmp_path, env={"STATE_FILE": str(state)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "capabilities of cpu: values, data_ptr, version_counter, autograd" in result.stdout
    assert "capabilities of meta: no values, no data_ptr, version_counter, autograd" in result.stdout
    capabilities = json.loads(state.read_text())["capabilities"]
    assert capabilities["cpu"]["values"] and capabilities["cpu"]["data_ptr"]
    assert not capabilities["meta"]["values"] and not capabilities["meta"]["data_ptr"]
    assert capabilities["meta"]["version_counter"] and capabilities["meta"]["autograd"]
    assert "float16" in capabilities["meta"]["dtypes"] and "complex128" in capabilities["cpu"]["dtypes"]


def test_collection_with_cpu_does_not_initialise_cuda(tmp_path):
    (tmp_path / "state_plugin.py").write_text(STATE_PLUGIN)
    state = tmp_path / "state.json"
    result = run(["-p", "state_plugin", str(ROOT / "conformance" / "suite"), "--collect-only", "-q"],
                 cwd=tmp_path, env={"STATE_FILE": str(state)})
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads(state.read_text())
    assert found["cuda_initialized"] is False and found["cuda_init_calls"] == 0, found
    # The recorder sees an attempt: asking for cuda tries to initialise it (and fails on a CPU build).
    asked = run(["-p", "state_plugin", ADD_F32, "--device", "cuda", "--collect-only"], cwd=tmp_path,
                env={"STATE_FILE": str(state)})
    if asked.returncode != 0:  # no usable CUDA here
        assert json.loads(state.read_text())["cuda_init_calls"] > 0


def test_meta_runs_the_checks_that_do_not_need_values():
    """On meta the checks that need values stand aside: no kit error reading values. (``--runxfail``: the
    known meta issues must show as what they are, error parity, not be hidden by their xfail.)"""
    test_id = f"{SUITE}::test_inplace_agrees_with_twin[neg_-float32-meta]"
    result = run([test_id, "--device", "meta", "--runxfail"], env={"CI": "true"})
    out = result.stdout + result.stderr
    for kit_error in ("Cannot copy out of meta tensor", "cannot be called on meta tensors", "aten::equal",
                      "NotImplementedError"):
        assert kit_error not in out, out
    assert result.returncode == 0 or "[error-parity] neg_ on self float32" in out, out


PLANTED_VERSION = """
import torch
_neg_ = torch.Tensor.neg_
def neg_(self):  # planted bug: writes through .data, the version counter never moves
    _neg_(self.data)
    return self
torch.Tensor.neg_ = neg_
"""


def test_meta_still_checks_the_version_counter(tmp_path):
    (tmp_path / "planted_neg.py").write_text(PLANTED_VERSION)
    test_id = f"{SUITE}::test_inplace_agrees_with_twin[neg_-float32-meta]"
    result = run(["-p", "planted_neg", test_id, "--device", "meta", "--runxfail"], cwd=tmp_path, env={"CI": "true"})
    assert result.returncode == 1 and "[version] neg_ on self float32" in result.stdout, result.stdout


def test_tests_needing_values_skip_naming_the_capability():
    test_id = f"{SETITEM}::test_out_of_bounds_index_raises_with_empty_result"
    result = run([test_id, "--device", "meta", "-rs"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "device meta lacks capability values" in result.stdout
    on_cpu = run([test_id, "-rs"])  # runs on the CPU (passes, or xfails on a known torch issue)
    assert on_cpu.returncode == 0 and "skipped" not in on_cpu.stdout, on_cpu.stdout


def test_unknown_capability_in_a_marker_is_one_clear_line(tmp_path):
    (tmp_path / "test_marked.py").write_text(textwrap.dedent("""
        import pytest
        @pytest.mark.requires("colour")
        @pytest.mark.parametrize("device", ["cpu"])
        def test_x(device):
            pass
    """))
    line = one_error_line(run(["-p", "conformance.plugin", str(tmp_path / "test_marked.py")], cwd=tmp_path))
    assert "unknown capability 'colour'" in line


def test_reference_device_without_values_is_one_clear_line():
    line = one_error_line(run([ADD_F32, "--reference-device", "meta"]))
    assert "reference device 'meta' lacks capability values" in line


def test_meta_with_a_cpu_reference_runs():
    test_id = f"{SUITE}::test_inplace_agrees_with_twin[neg_-float32-meta]"
    result = run([test_id, "--device", "meta", "--reference-device", "cpu", "--runxfail"], env={"CI": "true"})
    assert "Cannot copy out of meta tensor" not in result.stdout, result.stdout
    assert result.returncode == 0 or "[error-parity] neg_ on self float32" in result.stdout, result.stdout
    assert "reference device cpu" in result.stdout


# --- tolerances --------------------------------------------------------------------------------------------

# mul_ a relative 1e-5 off (toward zero, so nothing overflows): beyond float32's default rtol (1.3e-6).
PLANTED_ROUNDING = """
import torch
_mul_ = torch.Tensor.mul_
def mul_(self, other):
    return _mul_(_mul_(self, other), 1 - 1e-5)
torch.Tensor.mul_ = mul_
"""


def _tolerances(tmp_path, text):
    (tmp_path / "planted_rounding.py").write_text(PLANTED_ROUNDING)
    path = tmp_path / "tolerances.toml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_tolerance_override_changes_the_outcome(tmp_path):
    loose = _tolerances(tmp_path, """
        same_device = true
        [op."mul_".float32]
        rtol = 1e-4
    """)
    default = run(["-p", "planted_rounding", MUL_F32], cwd=tmp_path, env={"CI": "true"})
    assert default.returncode == 1 and "[twin-values] mul_ on self float32" in default.stdout, default.stdout
    relaxed = run(["-p", "planted_rounding", MUL_F32, "--tolerances", loose, "-v"], cwd=tmp_path, env={"CI": "true"})
    assert relaxed.returncode == 0 and "1 passed" in relaxed.stdout, relaxed.stdout
    assert "tolerances from" in relaxed.stdout  # named in the report header


def test_tolerance_defaults_section_applies_to_every_op(tmp_path):
    loose = _tolerances(tmp_path, """
        same_device = true
        [default.float32]
        rtol = 1e-4
    """)
    relaxed = run(["-p", "planted_rounding", MUL_F32, "--tolerances", loose], cwd=tmp_path, env={"CI": "true"})
    assert relaxed.returncode == 0, relaxed.stdout


def test_tolerances_apply_only_across_devices_by_default(tmp_path):
    loose = _tolerances(tmp_path, """
        [op."mul_".float32]
        rtol = 1e-4
    """)
    same = run(["-p", "planted_rounding", MUL_F32, "--tolerances", loose], cwd=tmp_path, env={"CI": "true"})
    assert same.returncode == 1 and "[twin-values]" in same.stdout, same.stdout


def test_tolerance_override_of_another_op_or_dtype_does_not_apply(tmp_path):
    other = _tolerances(tmp_path, """
        same_device = true
        [op."add_".float32]
        rtol = 1e-4
        [op."mul_".float64]
        rtol = 1e-4
    """)
    result = run(["-p", "planted_rounding", MUL_F32, "--tolerances", other], cwd=tmp_path, env={"CI": "true"})
    assert result.returncode == 1 and "[twin-values]" in result.stdout, result.stdout


def test_tolerances_apply_across_devices(tmp_path):
    """foo's mul_ rounds differently from the CPU twin (``--reference-device cpu``): a failure with the default
    float32 tolerance, a pass with the vendor's file (which applies across devices without same_device)."""
    loose = tmp_path / "foo.toml"
    loose.write_text('[op."mul_".float32]\nrtol = 1e-4\n')
    test_id = f"{SUITE}::test_inplace_agrees_with_twin[mul_-float32-foo]"
    args = [test_id, "--backend-setup", "tests.foo_backend:plant_rounding", "--device", "foo", "--reference-device", "cpu"]
    default = run(args, env={"CI": "true"})
    assert default.returncode == 1 and "[twin-values] mul_ on self float32" in default.stdout, default.stdout
    relaxed = run([*args, "--tolerances", str(loose)], env={"CI": "true"})
    assert relaxed.returncode == 0 and "1 passed" in relaxed.stdout, relaxed.stdout
    assert "cross-device comparisons" in relaxed.stdout


def test_bad_tolerance_files_are_one_clear_line(tmp_path):
    cases = {
        "[default.float16\nrtol = 1": "malformed TOML",
        "[default.float17]\nrtol = 1e-3": "unknown dtype 'float17'",
        '[op."nosuch_".float16]\nrtol = 1e-3': "unknown op 'nosuch_'",
        "[default.int32]\nrtol = 1e-3": "int32 is compared exactly",
        "[default.float16]\nrtl = 1e-3": "unknown key(s) rtl",
        "[default.float16]\nrtol = -1.0": "must be a finite number >= 0",
        '[default.float16]\nrtol = "big"': "must be a finite number >= 0",
        "same_device = 1": "same_device must be true or false",
        "[float16]\nrtol = 1e-3": "unknown key(s) float16",
    }
    for text, message in cases.items():
        path = tmp_path / "bad.toml"
        path.write_text(text)
        line = one_error_line(run([ADD_F32, "--tolerances", str(path), "--collect-only"]))
        assert message in line and "bad.toml" in line, (text, line)
    missing = one_error_line(run([ADD_F32, "--tolerances", str(tmp_path / "none.toml"), "--collect-only"]))
    assert "cannot read" in missing


def test_tolerance_table_merges_key_by_key():
    import torch

    from conformance.tolerances import DEFAULTS, parse
    tolerances = parse('[default.float16]\nrtol = 0.5\n[op."add_".float16]\natol = 0.25\n', {"add_", "mul_"})
    assert tolerances.table("add_", cross_device=False) is None  # same device: the kit's defaults
    add = tolerances.table("add_", cross_device=True)
    assert add[torch.float16] == (0.5, 0.25)                      # op atol over default rtol
    assert tolerances.table("mul_", cross_device=True)[torch.float16] == (0.5, DEFAULTS[torch.float16][1])
    assert add[torch.float32] == DEFAULTS[torch.float32]
