"""Each contract check fails on a deliberately broken in-place op, through the property the suite runs.

Every test patches one ``torch.Tensor`` method with a plausible backend bug, then runs
``properties.inplace_agrees_with_twin`` exactly as ``conformance/suite/test_pointwise.py`` does, and asserts
which check caught it. ``test_real_torch_passes`` runs the same properties on the unpatched methods.
"""
from __future__ import annotations

import itertools

import torch

from conformance import properties
from conformance.catalog import spec_named
from conformance.suite.test_pointwise import MAIN_ALIASING

from .planted import expect_failure, options, patch_method

ADD_ = torch.Tensor.add_
ADD = torch.Tensor.add
NEG_ = torch.Tensor.neg_


def run(name, dtype=torch.float32, aliasing=MAIN_ALIASING):
    spec = spec_named(name)
    return lambda: properties.inplace_agrees_with_twin(spec, dtype, "cpu", options(), aliasing=aliasing)


def test_real_torch_passes():
    run("add_")()
    run("neg_", torch.int32, (None,))()


def test_identity_a_new_tensor_returned(monkeypatch):
    patch_method(monkeypatch, "add_", lambda self, other, **kw: ADD(self, other, **kw))
    expect_failure("identity", run("add_"))


def test_storage_result_moved_to_a_new_buffer(monkeypatch):
    def add_(self, other, **kw):
        result = ADD(self, other, **kw).as_strided(self.shape, self.stride()) if self.numel() else ADD(self, other, **kw)
        return self.set_(result.untyped_storage(), self.storage_offset(), self.shape, self.stride())
    patch_method(monkeypatch, "add_", add_)
    expect_failure("storage", run("add_"))


def test_outside_view_write_past_the_view(monkeypatch):
    def neg_(self):
        NEG_(self)
        if self.numel():
            last = self.storage_offset() + sum((n - 1) * s for n, s in zip(self.shape, self.stride()))
            storage = self.new_empty(0).set_(self.untyped_storage())
            if last + 1 < storage.numel():
                storage.data[last + 1] = 0  # an off-by-one write after the view's last element
        return self
    patch_method(monkeypatch, "neg_", neg_)
    expect_failure("outside-view", run("neg_", aliasing=(None,)))


def test_twin_values_non_contiguous_self_never_written_back(monkeypatch):
    def add_(self, other, **kw):
        if self.is_contiguous():
            return ADD_(self, other, **kw)
        ADD_(self.contiguous(), other, **kw)  # computes into a temporary that is dropped
        return self.mul_(1)
    patch_method(monkeypatch, "add_", add_)
    expect_failure("twin-values", run("add_"))


def test_error_parity_int_self_accepts_float_operand(monkeypatch):
    def add_(self, other, **kw):
        if isinstance(other, torch.Tensor):
            other = other.to(self.dtype)  # silently truncates instead of refusing the cast
        return ADD_(self, other, **kw)
    patch_method(monkeypatch, "add_", add_)
    expect_failure("error-parity", run("add_", torch.int64))


def test_error_parity_spurious_error_on_0d_operand(monkeypatch):
    def add_(self, other, **kw):
        if isinstance(other, torch.Tensor) and other.dim() == 0:
            raise RuntimeError("0-d operands are not supported")
        return ADD_(self, other, **kw)
    patch_method(monkeypatch, "add_", add_)
    expect_failure("error-parity", run("add_"))


def test_unchanged_on_error_writes_before_the_broadcast_check(monkeypatch):
    def add_(self, other, **kw):
        try:
            return ADD_(self, other, **kw)
        except RuntimeError:
            self.data.zero_()  # a kernel that wrote before validating the shapes
            raise
    patch_method(monkeypatch, "add_", add_)
    expect_failure("unchanged-on-error", run("add_"))


def test_overlap_partial_overlap_read_after_write(monkeypatch):
    def add_(self, other, **kw):
        if kw or not isinstance(other, torch.Tensor) or other.shape != self.shape or self.dtype != other.dtype:
            return ADD_(self, other, **kw)
        # An element-by-element kernel without an overlap check, on any layout: reads other after earlier
        # writes (row-major over self's indices).
        for index in itertools.product(*map(range, self.shape)):
            self.data[index] = self[index] + other[index]
        return self.mul_(1)
    patch_method(monkeypatch, "add_", add_)
    expect_failure("overlap", run("add_", aliasing=("dense",)))


def test_version_counter_not_bumped(monkeypatch):
    patch_method(monkeypatch, "add_", lambda self, other, **kw: (ADD_(self.data, other, **kw), self)[1])
    expect_failure("version", run("add_"))


def test_twin_purity_out_of_place_bumps_its_input(monkeypatch):
    def add(self, other, **kw):
        result = ADD(self, other, **kw)
        self.mul_(1)  # an out-of-place op that touches its input
        return result
    patch_method(monkeypatch, "add", add)
    expect_failure("twin-purity", run("add_"))


def test_reproduction_snippet_replays_the_failing_call(monkeypatch):
    """The snippet in a failure rebuilds the exact inputs: it fails under the bug and passes on real torch."""
    def add_(self, other, **kw):
        if self.is_contiguous():
            return ADD_(self, other, **kw)
        ADD_(self.contiguous(), other, **kw)
        return self.mul_(1)
    patch_method(monkeypatch, "add_", add_)
    failure = expect_failure("twin-values", run("add_"))
    assert ".as_strided(" in failure.reproduction and "torch.testing.assert_close" in failure.reproduction
    try:
        exec(failure.reproduction, {})
    except AssertionError:
        pass
    else:
        raise AssertionError("the reproduction did not fail under the planted bug:\n" + failure.reproduction)
    monkeypatch.undo()
    exec(failure.reproduction, {})


def test_reproduction_spells_functions_and_fixed_keywords(monkeypatch):
    """A dotted op is called as a function, with the keywords its spec fixes (``inplace=True``)."""
    from conformance.catalog import all_specs

    relu = next(s for s in all_specs() if s.name == "torch.nn.functional.relu" and getattr(s, "call_kwargs", ()))
    relu_ = torch.nn.functional.relu

    def broken(input, inplace=False):
        return relu_(input.clone(), inplace=False) if inplace else relu_(input)  # inplace=True returns a copy
    monkeypatch.setattr(torch.nn.functional, "relu", broken)
    failure = expect_failure("identity", lambda: properties.inplace_agrees_with_twin(
        relu, torch.float32, "cpu", options(), aliasing=(None,)))
    assert "result = torch.nn.functional.relu(self, inplace=True)" in failure.reproduction
    assert "expected = torch.nn.functional.relu(self.clone(), inplace=False)" in failure.reproduction


def test_twin_runs_on_the_reference_device_with_the_inputs_layouts():
    """With a reference device, the twin's inputs are copies there, each with its original strides and offset."""
    import numpy as np

    from conformance.catalog.case import Case
    from conformance.checks.inplace import _copies
    from strategies.layouts import Layout
    from strategies.tensors import build

    layout = Layout("strided", (2, 2), (4, 2), 1, 9)
    self_built = build(np.arange(4.0).reshape(2, 2), layout, torch.float32, "cpu")
    other = build(np.ones((2, 2)), layout, torch.float32, "cpu")
    case = Case(spec_named("add_"), "cpu", self_built, [other], {}, ["other"], reference_device="meta")
    self_copy, (other_copy,), _ = _copies(case, case.reference_device)
    for copy, original in ((self_copy, self_built.tensor), (other_copy, other.tensor)):
        assert copy.device.type == "meta"
        assert (copy.shape, copy.stride(), copy.storage_offset()) == (original.shape, original.stride(), 1)
    on_cpu, _, _ = _copies(case, "cpu")
    assert on_cpu.untyped_storage().data_ptr() != self_built.tensor.untyped_storage().data_ptr()
    assert torch.equal(on_cpu, self_built.tensor)
