"""Hypothesis strategies for torch tensors, built on ``hypothesis.extra.numpy``.

Usable on their own::

    from hypothesis import given
    import strategies as tst

    @given(tst.tensors(torch.float32, device="cpu"))
    def test_something(t): ...

Nothing here touches a device at import; :func:`supported_dtypes` probes lazily.
"""
from .dtypes import ALL_DTYPES, CORE_DTYPES, EXTENDED_DTYPES, dtype_from_name, dtype_name, supported_dtypes
from .indices import (KEY_ERRORS, VALUE_KINDS, AssignedValue, IndexKey, IntArray, Mask, assigned_values,
                      broadcast_masks, fitting_scalars, index_keys, index_tensors)
from .layouts import LAYOUT_KINDS, Layout, layouts
from .shapes import broadcast_shape, broadcastable_to, expanding, shapes
from .tensors import SENTINEL, BuiltTensor, build, built_tensors, tensors
from .values import SCALAR_KINDS, Bounds, arrays, elements, scalars

__all__ = [
    "ALL_DTYPES", "CORE_DTYPES", "EXTENDED_DTYPES", "LAYOUT_KINDS", "SCALAR_KINDS", "SENTINEL", "Bounds",
    "BuiltTensor", "Layout", "arrays", "broadcast_shape", "broadcastable_to", "build", "built_tensors",
    "dtype_from_name", "dtype_name", "elements", "expanding", "layouts", "scalars", "shapes",
    "supported_dtypes", "tensors",
    # indexing assignment (strategies/indices.py)
    "KEY_ERRORS", "VALUE_KINDS", "AssignedValue", "IndexKey", "IntArray", "Mask", "assigned_values",
    "broadcast_masks", "fitting_scalars", "index_keys", "index_tensors",
]
