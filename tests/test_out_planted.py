"""Each ``out=`` check fails on a deliberately broken ``torch.add(..., out=)``, through the suite's property.

Every fake delegates to the real ``torch.add`` when called without ``out`` (so the functional twin stays
right) and misbehaves only on the ``out=`` path, the way a backend's out kernel could.
"""
from __future__ import annotations

import hypothesis
import pytest
import torch

from conformance.catalog import out_variants
from conformance.out_property import out_agrees_with_functional

from .planted import PLANTED, expect_failure, options

ADD = torch.add
# No shrinking: which check fails is what counts, and each example makes four out= calls.
SETTINGS = hypothesis.settings(PLANTED, max_examples=100, phases=[hypothesis.Phase.generate])


def run(name="torch.add", dtype=torch.float32, mode="dense"):
    spec = next(s for s in out_variants.SPECS if s.name == name)
    return lambda: out_agrees_with_functional(spec, dtype, "cpu", options(settings=SETTINGS), mode=mode)


def plant(monkeypatch, out_path):
    """``torch.add`` whose out= path is ``out_path(args, kwargs, out)``."""
    def add(*args, out=None, **kwargs):
        if out is None:
            return ADD(*args, **kwargs)
        return out_path(args, kwargs, out)
    monkeypatch.setattr(torch, "add", add)


@pytest.mark.parametrize("name, dtype", [("torch.add", torch.float32), ("torch.cumsum", torch.int64),
                                         ("torch.aminmax", torch.float32), ("torch.max", torch.float64)])
def test_real_torch_passes(name, dtype):
    run(name, dtype)()


def test_error_parity_rejects_non_contiguous_out(monkeypatch):
    def out_path(args, kwargs, out):
        if not out.is_contiguous():
            raise RuntimeError("out must be contiguous")
        return ADD(*args, out=out, **kwargs)
    plant(monkeypatch, out_path)
    expect_failure("out-error-parity", run())


def test_identity_returns_a_new_tensor(monkeypatch):
    plant(monkeypatch, lambda args, kwargs, out: ADD(*args, out=out, **kwargs).clone())
    expect_failure("out-identity", run())


def test_storage_out_moved_to_a_new_buffer(monkeypatch):
    def out_path(args, kwargs, out):
        result = ADD(*args, **kwargs)
        if tuple(result.shape) == tuple(out.shape):
            return out.set_(result.untyped_storage(), 0, result.shape, result.stride())
        return ADD(*args, out=out, **kwargs)
    plant(monkeypatch, out_path)
    expect_failure("out-storage", run())


def test_version_written_behind_autograd_s_back(monkeypatch):
    def out_path(args, kwargs, out):
        result = ADD(*args, **kwargs)
        if tuple(result.shape) == tuple(out.shape):
            out.data.copy_(result)  # .data: no version bump
            return out
        return ADD(*args, out=out, **kwargs)
    plant(monkeypatch, out_path)
    expect_failure("out-version", run())


def test_outside_view_kernel_scribbles_on_its_input(monkeypatch):
    def out_path(args, kwargs, out):
        ADD(*args, out=out, **kwargs)
        args[0].untyped_storage().fill_(7)  # uses self's storage as scratch space
        return out
    plant(monkeypatch, out_path)
    expect_failure("out-outside-view", run())


def test_values_off_by_one(monkeypatch):
    def out_path(args, kwargs, out):
        ADD(*args, out=out, **kwargs)
        return out.add_(1) if out.numel() else out
    plant(monkeypatch, out_path)
    expect_failure("out-values", run())


def test_resize_without_the_documented_warning(monkeypatch):
    def out_path(args, kwargs, out):
        result = ADD(*args, **kwargs)
        if tuple(out.shape) != tuple(result.shape):
            out.resize_(result.shape)  # silently
        return out.copy_(result)
    plant(monkeypatch, out_path)
    expect_failure("out-resize", run())


def test_alias_kernel_runs_twice_reading_its_own_output(monkeypatch):
    def out_path(args, kwargs, out):
        ADD(*args, out=out, **kwargs)
        return ADD(*args, out=out, **kwargs)  # second pass: reads self after out (== self) was written
    plant(monkeypatch, out_path)
    expect_failure("out-alias", run())


def test_catalog_names_every_out_check():
    from conformance.checks.out import OUT_CHECKS
    assert set(out_variants.OUT_CHECKS) == set(OUT_CHECKS)
