"""Properties of the indexing strategies: keys mean in torch what their NumPy spelling (with torch's rule for
integers) says, invalid keys are invalid, values are of the kind they claim."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import strategies as tst
from strategies.indices import IntArray, Mask

FAST = settings(max_examples=80, deadline=None, derandomize=True, database=None)


def _torch_outcome(t, key):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return tuple(t[key].shape)
        except IndexError as error:
            return error


def _numpy_outcome(shape, key):
    first, second = key.torch_steps()
    try:
        return np.zeros(shape)[first][second].shape
    except IndexError as error:
        return error


@FAST
@given(st.data())
def test_valid_keys_select_what_numpy_with_torchs_integer_rule_selects(data):
    shape = data.draw(tst.shapes(max_side=3), label="shape")
    key = data.draw(tst.index_keys(shape), label="key")
    expected, observed = _numpy_outcome(shape, key), _torch_outcome(torch.zeros(shape), key.torch())
    # Index arrays and masks may fail to broadcast together: then both raise.
    assert isinstance(expected, IndexError) == isinstance(observed, IndexError), (key, expected, observed)
    if not isinstance(expected, IndexError):
        assert expected == observed, key
        integers = any(isinstance(c, int) or (isinstance(c, IntArray) and c.is_zero_dim) for c in key.components)
        if not integers:  # torch's integer rule is the only difference from NumPy's own spelling of the key
            assert np.zeros(shape)[key.numpy()].shape == observed, key
    assert not key.has_negative_step and not key.mask_mismatch(shape) and not key.out_of_bounds(shape)


@FAST
@given(st.data())
def test_key_errors_make_torch_raise_index_error(data):
    shape = data.draw(tst.shapes(max_side=3), label="shape")
    error = data.draw(st.sampled_from(tst.KEY_ERRORS), label="error")
    key = data.draw(tst.index_keys(shape, error=error), label="key")
    observed = _torch_outcome(torch.zeros(shape), key.torch())
    wrapped = _numpy_outcome(shape, key.wrapped(shape))
    empty_result = key.out_of_bounds(shape) and not isinstance(wrapped, IndexError) and 0 in wrapped
    if error == "mask-shape":
        assert key.mask_mismatch(shape)
    if not empty_result:  # known issue unchecked-index-empty-result
        assert isinstance(observed, IndexError), (key, observed)


@FAST
@given(st.data())
def test_negative_steps_are_drawn_on_request_and_torch_rejects_them(data):
    shape = data.draw(tst.shapes(min_dims=1, max_side=3), label="shape")
    key = data.draw(tst.index_keys(shape, negative_steps=True), label="key")
    assert key.has_negative_step
    with pytest.raises(ValueError, match="step must be greater than zero"):
        torch.zeros(shape)[key.torch()] = 0


@FAST
@given(st.data())
def test_index_tensors_are_tensors_index_put_takes(data):
    shape = data.draw(tst.shapes(min_dims=1, max_side=3), label="shape")
    key = data.draw(tst.index_tensors(shape), label="indices")
    assert key.components and all(isinstance(c, Mask) or (isinstance(c, IntArray) and c.spelling != "list"
                                                          and c.values.ndim) for c in key.components)
    indices = key.torch()
    assert isinstance(indices, tuple) and all(isinstance(i, torch.Tensor) for i in indices)
    expected = _numpy_outcome(shape, key)
    try:
        torch.zeros(shape).index_put_(indices, torch.tensor(1.0))
    except IndexError:
        assert isinstance(expected, IndexError)


@FAST
@given(st.data())
def test_assigned_values_are_of_their_kind(data):
    dtype = data.draw(st.sampled_from(tst.CORE_DTYPES), label="dtype")
    shape = data.draw(tst.shapes(max_side=3), label="shape")
    built = data.draw(tst.built_tensors(dtype, shape), label="self")
    target = data.draw(tst.shapes(max_side=3), label="target")
    value = data.draw(tst.assigned_values(dtype, target, self_built=built, other_dtypes=tst.CORE_DTYPES), label="value")
    if value.kind == "scalar":
        assert not value.is_tensor
        torch.zeros((), dtype=dtype).fill_(value.value)  # within dtype's range: no overflow error
        return
    t = value.value.tensor
    if value.kind.endswith("-of-self"):
        assert value.value.storage is built.storage and t.untyped_storage().data_ptr() == built.storage.data_ptr()
    elif value.kind == "other-dtype":
        assert t.dtype != dtype and (dtype.is_complex or not t.dtype.is_complex)
    else:
        assert t.dtype == dtype
    if value.kind == "0-d" or value.kind == "element-of-self":
        assert t.dim() == 0
    if value.kind == "unbroadcastable":
        assert tst.broadcast_shape(tuple(t.shape), target) != target
    elif value.kind in ("tensor", "other-dtype"):
        stripped = tuple(t.shape)[1:] if len(t.shape) > len(target) else tuple(t.shape)
        assert tst.broadcast_shape(stripped, target) == target


def test_integers_join_no_advanced_index_in_torch():
    """``t[0, :, [1, 2]]``: NumPy moves the advanced dimension to the front, torch does not."""
    key = tst.IndexKey((0, slice(None), IntArray(np.array([1, 2]), "list")))
    assert np.zeros((3, 4, 5))[key.numpy()].shape == (2, 4)
    first, second = key.torch_steps()
    assert np.zeros((3, 4, 5))[first][second].shape == (4, 2) == tuple(torch.zeros(3, 4, 5)[key.torch()].shape)
