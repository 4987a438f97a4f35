"""Element values as NumPy arrays drawn by ``hypothesis.extra.numpy``, and Python scalars.

By default values span the dtype's full range: NaN, +-inf, -0.0, subnormals and integer extremes. A
:class:`Bounds` restricts them for ops with a domain.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .dtypes import numpy_dtype
from .reuse import reused, sampled_from
from .shapes import Shape


@dataclasses.dataclass(frozen=True)
class Bounds:
    """A closed interval of allowed values; NaN and infinities are excluded when bounds are given."""

    min_value: float | None = None
    max_value: float | None = None
    allow_nan: bool = False

    def for_dtype(self, dtype: torch.dtype) -> dict:
        """Keyword arguments for ``hypothesis.extra.numpy.from_dtype`` clipped to ``dtype``'s range."""
        if dtype == torch.bool:
            return {}
        lo, hi = self.min_value, self.max_value
        if dtype.is_floating_point or dtype.is_complex:
            kw = {"allow_nan": self.allow_nan, "allow_infinity": False}
            if dtype.is_complex:
                bound = max(abs(v) for v in (lo, hi) if v is not None) if (lo, hi) != (None, None) else None
                return {**kw, "max_magnitude": bound} if bound is not None else kw
            width = {torch.float16: 16, torch.float32: 32, torch.float64: 64}.get(dtype, 32)
            if lo is not None:
                kw["min_value"] = float(np.array(lo, dtype=f"float{width}"))
            if hi is not None:
                kw["max_value"] = float(np.array(hi, dtype=f"float{width}"))
            kw["exclude_min"] = kw["exclude_max"] = False
            return kw
        info = torch.iinfo(dtype)
        lo = info.min if lo is None else max(info.min, int(np.ceil(lo)))
        hi = info.max if hi is None else min(info.max, int(np.floor(hi)))
        return {"min_value": lo, "max_value": max(lo, hi)}


FULL_RANGE = None


@functools.lru_cache(maxsize=None)
def elements(dtype: torch.dtype, bounds: Bounds | None = FULL_RANGE) -> st.SearchStrategy:
    """Scalar elements for arrays of ``dtype`` (drawn in its NumPy equivalent)."""
    np_dtype = numpy_dtype(dtype)
    # bfloat16 and float8 are drawn over float32's full range; torch rounds them when building the tensor.
    return hnp.from_dtype(np_dtype, **({} if bounds is None else bounds.for_dtype(dtype)))


@reused
def arrays(dtype: torch.dtype, shape: Shape, bounds: Bounds | None = FULL_RANGE) -> st.SearchStrategy:
    """NumPy arrays of ``shape`` whose elements suit ``dtype`` (see :func:`elements`)."""
    return hnp.arrays(numpy_dtype(dtype), shape, elements=elements(dtype, bounds))


SCALAR_KINDS = ("bool", "int", "float", "complex")

_INT_EXTREMES = (0, 1, -1, 2, 127, -128, 255, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63))


@reused
def scalars(kind: str, bounds: Bounds | None = FULL_RANGE) -> st.SearchStrategy:
    """Python scalars of one ``kind`` (bool, int, float or complex), as operands of in-place ops."""
    lo = None if bounds is None else bounds.min_value
    hi = None if bounds is None else bounds.max_value
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        small = st.integers(-300 if lo is None else int(np.ceil(lo)), 300 if hi is None else int(np.floor(hi)))
        extremes = sampled_from(tuple(v for v in _INT_EXTREMES if (lo is None or v >= lo) and (hi is None or v <= hi)))
        return st.one_of(small, extremes)
    if kind == "float":
        if bounds is None:
            return st.floats(width=32)
        return st.floats(lo, hi, allow_nan=bounds.allow_nan, allow_infinity=False, width=32)
    if kind == "complex":
        mag = None if bounds is None else max(abs(v) for v in (lo, hi) if v is not None)
        return st.complex_numbers(max_magnitude=mag, allow_nan=bounds is None, allow_infinity=bounds is None,
                                  width=64)
    raise ValueError(f"unknown scalar kind {kind!r}; known: {', '.join(SCALAR_KINDS)}")
