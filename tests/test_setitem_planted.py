"""The indexing-assignment checks fail on deliberately broken assignments, through the suite's properties.

Each test patches ``torch.Tensor.__setitem__`` (or a method assignment lowers to) with a plausible backend
bug, runs ``setitem_properties.assignment_conforms`` exactly as ``conformance/suite/test_setitem.py`` does,
and asserts which check caught it. ``test_real_torch_passes`` runs the same properties unpatched.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conformance import setitem_properties
from conformance.checks.setitem import Assignment, check_assignment
from strategies.indices import AssignedValue, IndexKey, IntArray, Mask
from strategies.layouts import contiguous
from strategies.tensors import build

from .planted import expect_failure, options, patch_method

SETITEM = torch.Tensor.__setitem__
INDEX_PUT_ = torch.Tensor.index_put_
MASKED_FILL_ = torch.Tensor.masked_fill_


def run(form, dtype=torch.float32, findings=None):
    return lambda: setitem_properties.assignment_conforms(form, dtype, "cpu", options(), findings=findings)


def _widened(mask: torch.Tensor) -> torch.Tensor:
    """``mask`` with its first False position set too."""
    widened = mask.clone()
    if bool((~mask).any()):
        widened[tuple(i[:1] for i in (~mask).nonzero(as_tuple=True))] = True
    return widened


def _advanced(key) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, list) or (isinstance(k, torch.Tensor) and k.dim() > 0) for k in parts)


@pytest.mark.parametrize("form", ["setitem", "index_put"])
def test_real_torch_passes(form):
    """The patched tests' settings on unpatched torch (the suite runs every form and dtype)."""
    findings = []
    run(form, findings=findings)()
    assert all(f.kind in ("partial-write-before-error", "unchecked-index") for f in findings)


def test_mask_assignment_writes_where_the_mask_is_false(monkeypatch):
    def setitem(self, key, value):
        if not isinstance(value, torch.Tensor) or value.dim() == 0:  # a one-value write: one more position
            parts = key if isinstance(key, tuple) else (key,)
            parts = tuple(_widened(k) if isinstance(k, torch.Tensor) and k.dtype == torch.bool and k.dim() else k
                          for k in parts)
            key = parts if isinstance(key, tuple) else parts[0]
        return SETITEM(self, key, value)
    patch_method(monkeypatch, "__setitem__", setitem)
    expect_failure("unassigned-unchanged", run("setitem"))


def test_masked_fill_writes_where_the_mask_is_false(monkeypatch):
    patch_method(monkeypatch, "masked_fill_", lambda self, mask, value: MASKED_FILL_(self, torch.ones_like(mask), value))
    expect_failure("unassigned-unchanged", run("masked_fill"))


def test_non_contiguous_self_written_through_a_temporary_copy(monkeypatch):
    def setitem(self, key, value):
        if not self.is_contiguous() and 0 not in self.stride():
            SETITEM(self.contiguous(), key, value)  # the write lands in a copy...
            torch.autograd.graph.increment_version(self)  # ...though the version says self was written
            return None
        return SETITEM(self, key, value)
    patch_method(monkeypatch, "__setitem__", setitem)
    expect_failure("assigned-values", run("setitem"))


def test_advanced_index_assignment_skips_the_version_bump(monkeypatch):
    def setitem(self, key, value):
        return SETITEM(self.data if _advanced(key) else self, key, value)  # .data shares no version counter
    patch_method(monkeypatch, "__setitem__", setitem)
    expect_failure("version", run("setitem"))


def test_index_put_accumulate_drops_duplicates(monkeypatch):
    patch_method(monkeypatch, "index_put_",
                 lambda self, indices, values, accumulate=False: INDEX_PUT_(self, indices, values, False))
    expect_failure("assigned-values", run("index_put"))


def test_error_found_after_writing(monkeypatch):
    """A mask-shape or broadcast error raised after a first element was already written."""
    def setitem(self, key, value):
        try:
            return SETITEM(self, key, value)
        except (IndexError, RuntimeError):
            if self.numel() and not _advanced(key):
                first = (0,) * self.dim()
                SETITEM(self, first, 42.0 if self[first].item() != 42.0 else 43.0)
            raise
    patch_method(monkeypatch, "__setitem__", setitem)
    expect_failure("unchanged-on-error", run("setitem"))


def test_negative_step_accepted(monkeypatch):
    def setitem(self, key, value):
        parts = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, slice) and k.step is not None and k.step < 0 for k in parts):
            return None  # silently ignores the key instead of raising ValueError
        return SETITEM(self, key, value)
    patch_method(monkeypatch, "__setitem__", setitem)
    expect_failure("error-parity", run("setitem"))


def _assignment(key: IndexKey, shape=(5,), value=1.0) -> Assignment:
    built = build(np.arange(np.prod(shape), dtype=np.float32).reshape(shape), contiguous(shape), torch.float32, "cpu")
    return Assignment("setitem", "cpu", built, key, AssignedValue("scalar", value))


def test_out_of_bounds_partial_write_is_a_finding_not_a_failure():
    """torch 2.13 CPU writes x[0] before raising for index 10: reported as a finding, the check passes."""
    outcome, finding = check_assignment(_assignment(IndexKey((IntArray(np.array([0, 10])),), bare=True)))
    assert outcome == "raised IndexError"
    assert finding is not None and finding.kind == "partial-write-before-error"
    assert "self[torch.tensor([0, 10], dtype=torch.int64)] = 1.0" in finding.reproduction


def test_suite_collects_findings_from_the_property():
    """masked_scatter_ with a short source writes before raising on torch 2.13 CPU: a finding, not a failure."""
    findings = []
    run("masked_scatter", findings=findings)()
    assert any(f.kind == "partial-write-before-error" and f.form == "masked_scatter" for f in findings)


def test_mask_shape_error_leaves_self_unchanged_on_real_torch():
    outcome, finding = check_assignment(_assignment(IndexKey((Mask(np.ones(4, dtype=bool)),))))
    assert outcome == "raised IndexError" and finding is None


def test_empty_and_all_false_keys_still_bump_the_version():
    for key in (IndexKey((Mask(np.zeros(5, dtype=bool)),)), IndexKey((IntArray(np.zeros(0, dtype=np.int64)),)),
                IndexKey((slice(2, 2),))):
        assert check_assignment(_assignment(key)) == ("returned", None)
