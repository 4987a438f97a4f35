"""The structured families (scans, linalg, index, creation) catch deliberately broken in-place ops.

Each test patches one ``torch.Tensor`` method with a plausible backend bug, then runs
``family_properties.structured_contract`` exactly as ``conformance/suite/test_families.py`` does, and asserts
which check caught it. The rules (duplicate indices, expanded self) are also shown not to reject behaviour
the documentation allows: a different winner among duplicate writes passes.
"""
from __future__ import annotations

import hypothesis
import pytest
import torch
from hypothesis import Phase

from conformance import family_properties
from conformance.catalog import spec_named
from conformance.checks import ConformanceFailure
from conformance.suite.test_families import MAIN_ALIASING

from .planted import PLANTED, expect_failure, options, patch_method

ORIGINAL = {name: getattr(torch.Tensor, name) for name in (
    "cumsum_", "addmm_", "addmv_", "index_add_", "index_put_", "put_", "masked_fill_", "scatter_",
    "fill_diagonal_", "copy_", "tril_", "zero_")}
FAST = hypothesis.settings(PLANTED, phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking
QUICK = hypothesis.settings(FAST, max_examples=60)


def run(name, dtype=torch.float32, *, expanded=False, settings=FAST, aliasing=(None,)):
    spec = spec_named(name)
    return lambda: family_properties.structured_contract(spec, dtype, "cpu", options(settings=settings),
                                                         expanded=expanded, aliasing=aliasing)


def test_real_torch_passes():
    for name, dtype in (("cumsum_", torch.int32), ("addmm_", torch.float64), ("index_put_", torch.int64),
                        ("put_", torch.float32), ("scatter_", torch.int16), ("masked_scatter_", torch.bool),
                        ("copy_", torch.complex64), ("fill_diagonal_", torch.int8)):
        run(name, dtype, settings=QUICK)()
    for name in ("index_put_", "masked_fill_", "index_fill_", "fill_", "zero_", "index_add_", "addmm_"):
        run(name, expanded=True, settings=QUICK)()


# scans

def test_scans_negative_dim_counted_from_the_front(monkeypatch):
    def cumsum_(self, dim, **kw):
        if -self.dim() <= dim < 0:
            dim = -dim - 1  # -1 read as 0, -2 as 1, ...
        return ORIGINAL["cumsum_"](self, dim, **kw)
    patch_method(monkeypatch, "cumsum_", cumsum_)
    expect_failure("twin-values", run("cumsum_", torch.int64))


# linear algebra

def test_linalg_beta_ignored(monkeypatch):
    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return ORIGINAL["addmm_"](self, mat1, mat2, alpha=alpha)  # drops beta: always adds all of self
    patch_method(monkeypatch, "addmm_", addmm_)
    expect_failure("twin-values", run("addmm_"))


def test_linalg_self_scaled_before_an_aliasing_operand_is_read(monkeypatch):
    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        self.mul_(beta)  # scales self in place first: an operand that is self is read already scaled
        return ORIGINAL["addmm_"](self, mat1, mat2, beta=1, alpha=alpha)
    patch_method(monkeypatch, "addmm_", addmm_)
    spec = spec_named("addmm_")
    with pytest.raises(ConformanceFailure) as info:  # self itself: twin-values; its transpose: overlap
        family_properties.structured_contract(spec, torch.float32, "cpu", options(settings=FAST),
                                              alias_operands=True)
    assert info.value.check in ("twin-values", "overlap"), info.value


def test_linalg_expanded_self_cleared_before_the_overlap_check(monkeypatch):
    def addmm_(self, mat1, mat2, **kw):
        if self.numel() > 1 and 0 in self.stride():
            storage = self.new_empty(0).set_(self.untyped_storage())
            storage.data.zero_()  # a kernel that clears its output before validating it
        return ORIGINAL["addmm_"](self, mat1, mat2, **kw)
    patch_method(monkeypatch, "addmm_", addmm_)
    expect_failure("unchanged-on-error", run("addmm_", expanded=True))


# index ops

def test_index_add_duplicates_not_summed(monkeypatch):
    def index_add_(self, dim, index, source, *, alpha=1):
        ORIGINAL["index_add_"](self.clone(), dim, index, source, alpha=alpha)  # raises where torch does
        if not self.numel():
            return ORIGINAL["index_add_"](self, dim, index, source, alpha=alpha)
        return self.index_copy_(dim, index, source * alpha)  # the last duplicate wins instead of the sum
    patch_method(monkeypatch, "index_add_", index_add_)
    expect_failure("twin-values", run("index_add_", torch.int32))


def test_index_put_accumulate_ignored(monkeypatch):
    def index_put_(self, indices, values, accumulate=False):
        return ORIGINAL["index_put_"](self, indices, values)  # accumulate=True treated as False
    patch_method(monkeypatch, "index_put_", index_put_)
    expect_failure("twin-values", run("index_put_", torch.int64))


def test_put_duplicates_summed_without_accumulate(monkeypatch):
    def put_(self, index, source, accumulate=False):
        flat = index.reshape(-1) % max(self.numel(), 1)
        if not accumulate and flat.numel() != flat.unique().numel():
            # A backend that adds colliding writes: neither written value survives.
            ORIGINAL["put_"](self, index, torch.zeros_like(source))
            return ORIGINAL["put_"](self, index, source, accumulate=True)
        return ORIGINAL["put_"](self, index, source, accumulate=accumulate)
    patch_method(monkeypatch, "put_", put_)
    failure = expect_failure("twin-values", run("put_", torch.int64))
    assert "written" in failure.expected, failure


def test_duplicates_rule_accepts_any_written_value(monkeypatch):
    differed = []

    def put_(self, index, source, accumulate=False):
        last_wins = ORIGINAL["put_"](self.clone(), index, source, accumulate=accumulate)  # raises alike
        if accumulate or not index.numel():
            return ORIGINAL["put_"](self, index, source, accumulate=accumulate)
        # Apply the writes in reverse order: the first duplicate wins, which the documentation allows.
        flat_index, flat_source = index.reshape(-1), source.reshape(-1)
        for k in reversed(range(flat_index.numel())):
            ORIGINAL["put_"](self, flat_index[k:k + 1], flat_source[k:k + 1])
        differed.append(not torch.equal(self, last_wins))
        return self
    patch_method(monkeypatch, "put_", put_)
    run("put_", torch.int64)()
    assert any(differed), "no drawn case had duplicate indices with different values"


def test_masked_fill_ignores_a_broadcast_mask(monkeypatch):
    def masked_fill_(self, mask, value):
        ORIGINAL["masked_fill_"](self.clone(), mask, value)  # raises where torch does
        broadcast = mask.shape != self.shape and torch.broadcast_shapes(mask.shape, self.shape) == self.shape
        if broadcast and mask.numel() and bool(mask.any()):
            return self.fill_(value)  # a kernel that does not expand the mask: fills everything
        return ORIGINAL["masked_fill_"](self, mask, value)
    patch_method(monkeypatch, "masked_fill_", masked_fill_)
    expect_failure("twin-values", run("masked_fill_", torch.int16))


def test_masked_fill_expanded_self_writes_a_wrong_value(monkeypatch):
    def masked_fill_(self, mask, value):
        ORIGINAL["masked_fill_"](self, mask, value)
        if self.numel() and 0 in self.stride():
            ORIGINAL["masked_fill_"](self, torch.ones((), dtype=torch.bool), 3)  # writes through, wrongly
        return self
    patch_method(monkeypatch, "masked_fill_", masked_fill_)
    failure = expect_failure("twin-values", run("masked_fill_", torch.int64, expanded=True))
    assert "shared by" in failure.expected, failure


def test_masked_fill_through_data_skips_the_version_bump(monkeypatch):
    patch_method(monkeypatch, "masked_fill_", lambda self, mask, value: (
        ORIGINAL["masked_fill_"](self.data, mask, value), self)[1])
    expect_failure("version", run("masked_fill_", expanded=True))


def test_scatter_out_of_bounds_index_not_rejected(monkeypatch):
    def scatter_(self, dim, index, src, **kw):
        if self.dim() and -self.dim() <= dim < self.dim() and self.shape[dim] and index.numel():
            index = index.clamp(0, self.shape[dim] - 1)  # clamps instead of raising
        return ORIGINAL["scatter_"](self, dim, index, src, **kw)
    patch_method(monkeypatch, "scatter_", scatter_)
    expect_failure("error-parity", run("scatter_", torch.int32))


def test_fill_diagonal_wrap_ignored(monkeypatch):
    patch_method(monkeypatch, "fill_diagonal_", lambda self, value, wrap=False: ORIGINAL["fill_diagonal_"](
        self, value, False))
    expect_failure("twin-values", run("fill_diagonal_"))


# creation-like

def test_copy_through_float32_loses_int64_precision(monkeypatch):
    def copy_(self, src, non_blocking=False):
        if self.dtype == torch.int64 and src.dtype == torch.int64:
            src = src.to(torch.float32)  # a conversion path that detours through float32
        return ORIGINAL["copy_"](self, src, non_blocking)
    patch_method(monkeypatch, "copy_", copy_)
    expect_failure("twin-values", run("copy_", torch.int64, aliasing=MAIN_ALIASING))


def test_tril_diagonal_ignored(monkeypatch):
    patch_method(monkeypatch, "tril_", lambda self, diagonal=0: ORIGINAL["tril_"](self))
    expect_failure("twin-values", run("tril_", torch.uint8))


def test_zero_skips_non_contiguous_self(monkeypatch):
    patch_method(monkeypatch, "zero_", lambda self: ORIGINAL["zero_"](self) if self.is_contiguous() else self.mul_(1))
    expect_failure("twin-values", run("zero_"))
