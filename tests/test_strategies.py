"""Properties of the public strategies: shapes broadcast as promised, layouts keep the logical shape inside
their storage, built tensors hold the drawn values with sentinels elsewhere."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import strategies as tst
from strategies.layouts import extent

FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None)


@FAST
@given(st.data())
def test_broadcastable_to_never_changes_target(data):
    target = data.draw(tst.shapes(), label="target")
    operand = data.draw(tst.broadcastable_to(target), label="operand")
    assert tst.broadcast_shape(target, operand) == target
    assert torch.broadcast_shapes(target, operand) == torch.Size(target)


@FAST
@given(st.data())
def test_expanding_always_changes_target(data):
    target = data.draw(tst.shapes(), label="target")
    operand = data.draw(tst.expanding(target), label="operand")
    assert tst.broadcast_shape(target, operand) not in (None, target)


@FAST
@given(st.data())
def test_layouts_keep_shape_and_fit_their_storage(data):
    shape = data.draw(tst.shapes(), label="shape")
    layout = data.draw(tst.layouts(shape), label="layout")
    assert layout.shape == shape and len(layout.stride) == len(shape)
    assert extent(shape, layout.stride, layout.offset) <= layout.storage_size
    view = torch.empty(layout.storage_size).as_strided(shape, layout.stride, layout.offset)
    assert view.shape == shape
    overlapping = any(s == 0 and n > 1 for s, n in zip(layout.stride, shape)) and math.prod(shape) > 1
    assert layout.has_internal_overlap == overlapping
    assert layout.has_internal_overlap == (layout.kind == "expanded" and math.prod(shape) > 1)


@FAST
@given(st.data())
def test_layout_kinds_are_what_they_say(data):
    shape = data.draw(tst.shapes(min_dims=2, allow_empty=False), label="shape")
    for kind in ("contiguous", "permuted", "strided"):
        layout = data.draw(tst.layouts(shape, kinds=(kind,)), label=kind)
        positions = torch.arange(layout.storage_size).as_strided(shape, layout.stride, layout.offset)
        assert positions.unique().numel() == positions.numel()  # no two elements share memory
        if kind == "contiguous":
            assert positions.is_contiguous()
        if kind == "permuted":  # dense: exactly the storage, in another order
            assert positions.numel() == layout.storage_size
    if len(shape) == 4:
        cl = data.draw(tst.layouts(shape, kinds=("channels_last",)), label="channels_last")
        assert torch.empty(cl.storage_size).as_strided(shape, cl.stride).is_contiguous(
            memory_format=torch.channels_last)


@FAST
@given(st.data())
def test_built_tensors_hold_values_and_sentinels(data):
    dtype = data.draw(st.sampled_from(tst.CORE_DTYPES), label="dtype")
    shape = data.draw(tst.shapes(), label="shape")
    built = data.draw(tst.built_tensors(dtype, shape), label="built")
    t = built.tensor
    assert t.dtype == dtype and tuple(t.shape) == shape and t.device.type == "cpu"
    assert t.stride() == built.layout.stride and t.storage_offset() == built.layout.offset
    assert t.untyped_storage().data_ptr() == built.storage.untyped_storage().data_ptr()
    outside = built.storage[~built.footprint()]
    assert bool((outside == torch.tensor(tst.SENTINEL).to(dtype)).all())
    assert int(built.footprint().sum()) <= max(t.numel(), 0)


@FAST
@given(st.data())
def test_bounds_are_respected(data):
    dtype = data.draw(st.sampled_from([torch.int8, torch.uint8, torch.float16, torch.float32, torch.float64]))
    values = data.draw(tst.arrays(dtype, (5,), tst.Bounds(1.5, 3)), label="values")
    assert np.all((values >= 1.5) & (values <= 3))
    assert all(1.5 <= v <= 3 for v in [data.draw(tst.scalars("float", tst.Bounds(1.5, 3)))])


def test_full_range_draws_reach_special_values():
    """NaN, +-inf, -0.0 and integer extremes are reachable from the default elements."""
    seen = set()

    @settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @given(tst.elements(torch.float32), tst.elements(torch.int8))
    def collect(f, i):
        f = float(f)
        if math.isnan(f):
            seen.add("nan")
        elif math.isinf(f):
            seen.add("inf")
        elif f == 0 and math.copysign(1, f) < 0:
            seen.add("-0.0")
        if int(i) in (-128, 127):
            seen.add("int extreme")
    collect()
    assert seen == {"nan", "inf", "-0.0", "int extreme"}


@pytest.mark.parametrize("kind", tst.SCALAR_KINDS)
def test_scalars_have_their_kind(kind):
    @settings(max_examples=20, deadline=None, derandomize=True, database=None)
    @given(tst.scalars(kind))
    def check(value):
        assert type(value).__name__ == {"bool": "bool", "int": "int", "float": "float", "complex": "complex"}[kind]
    check()


def test_dtype_support_probe():
    assert set(tst.CORE_DTYPES) <= set(tst.supported_dtypes("cpu"))
    assert tst.supported_dtypes("meta") != ()
    assert tst.dtype_from_name(tst.dtype_name(torch.bfloat16)) is torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype"):
        tst.dtype_from_name("float7")


def test_tensors_strategy_is_usable_on_its_own():
    @settings(max_examples=20, deadline=None, derandomize=True, database=None)
    @given(tst.tensors(torch.float64, (2, 3)))
    def check(t):
        assert t.shape == (2, 3) and t.dtype == torch.float64
    check()


def test_strategies_built_from_equal_arguments_are_one_object():
    """Built inside draws, strategies are reused (no per-example validation); see strategies/reuse.py."""
    assert tst.layouts((2, 3)) is tst.layouts((2, 3))
    assert tst.built_tensors(torch.float32, (2,), "cpu") is tst.built_tensors(torch.float32, (2,), "cpu")
    assert tst.built_tensors(torch.float32, (2,)) is not tst.built_tensors(torch.float64, (2,))
    assert tst.shapes(min_dims=1) is tst.shapes(min_dims=1) is not tst.shapes(min_dims=2)


def test_reuse_tells_apart_what_equality_does_not():
    from strategies.reuse import sampled_from

    assert sampled_from((0, 1)) is sampled_from((0, 1))
    for a, b in [((0, 1), (False, True)), ((1,), (1.0,)), ((0.0,), (-0.0,)), ((1.0,), (1 + 0j,))]:
        assert sampled_from(a) is not sampled_from(b), (a, b)
        assert [type(v) for v in sampled_from(b).elements] == [type(v) for v in b]
    assert repr(sampled_from((-0.0,)).elements[0]) == "-0.0"


def test_unhashable_arguments_build_a_fresh_strategy():
    from strategies.reuse import sampled_from

    masks = [np.zeros(2, dtype=bool), np.ones(2, dtype=bool)]
    assert sampled_from(tuple(masks)) is not sampled_from(tuple(masks))
    assert tst.layouts((2, 2), kinds=["contiguous"]) is not tst.layouts((2, 2), kinds=["contiguous"])
