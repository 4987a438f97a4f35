"""The dtype universe, its NumPy mapping, and a per-device support probe.

Hypothesis draws values through NumPy (``hypothesis.extra.numpy``). Dtypes NumPy lacks (bfloat16, float8)
are drawn as float32 and rounded by torch when the tensor is built.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

#: The core dtypes every backend is expected to support, in report order.
CORE_DTYPES: tuple[torch.dtype, ...] = (
    torch.bool,
    torch.uint8,
    torch.int8,
    torch.int16,
    torch.int32,
    torch.int64,
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
    torch.complex64,
    torch.complex128,
)

#: Dtypes with partial support on most backends; kept only where the probe says the device has them.
EXTENDED_DTYPES: tuple[torch.dtype, ...] = (
    torch.uint16,
    torch.uint32,
    torch.uint64,
    torch.float8_e4m3fn,
    torch.float8_e5m2,
)

ALL_DTYPES = CORE_DTYPES + EXTENDED_DTYPES

_NUMPY_EQUIVALENT = {
    torch.bool: np.bool_,
    torch.uint8: np.uint8,
    torch.int8: np.int8,
    torch.int16: np.int16,
    torch.int32: np.int32,
    torch.int64: np.int64,
    torch.uint16: np.uint16,
    torch.uint32: np.uint32,
    torch.uint64: np.uint64,
    torch.float16: np.float16,
    torch.bfloat16: np.float32,
    torch.float8_e4m3fn: np.float32,
    torch.float8_e5m2: np.float32,
    torch.float32: np.float32,
    torch.float64: np.float64,
    torch.complex64: np.complex64,
    torch.complex128: np.complex128,
    torch.complex32: np.complex64,  # not drawn as self; results of float16 with complex operands
}


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float16`` -> ``"float16"``: the spelling used in test ids and reports."""
    return str(dtype).removeprefix("torch.")


def dtype_from_name(name: str) -> torch.dtype:
    """Inverse of :func:`dtype_name`; raises ``ValueError`` for an unknown name."""
    for dtype in ALL_DTYPES:
        if dtype_name(dtype) == name:
            return dtype
    raise ValueError(f"unknown dtype {name!r}; known: {', '.join(map(dtype_name, ALL_DTYPES))}")


def numpy_dtype(dtype: torch.dtype) -> np.dtype:
    """The NumPy dtype values of ``dtype`` are drawn in (float32 for dtypes NumPy lacks)."""
    return np.dtype(_NUMPY_EQUIVALENT[dtype])


def is_exact(dtype: torch.dtype) -> bool:
    """Integer and bool dtypes are compared bit for bit; floating and complex ones within tolerances."""
    return not (dtype.is_floating_point or dtype.is_complex)


def kind(dtype: torch.dtype) -> str:
    """One of ``bool``, ``int``, ``float``, ``complex``: the category torch's promotion rules use."""
    if dtype == torch.bool:
        return "bool"
    if dtype.is_complex:
        return "complex"
    if dtype.is_floating_point:
        return "float"
    return "int"


@functools.lru_cache(maxsize=None)
def supports_dtype(device: str, dtype: torch.dtype) -> bool:
    """Whether ``device`` can hold ``dtype`` at all: create, fill, copy (to and from the CPU where values
    exist: not on ``meta``), compare.

    Run lazily and cached per (device, dtype), so importing this module touches no device.
    """
    try:
        t = torch.empty(3, dtype=dtype, device=device)
        t.fill_(1)
        torch.empty_like(t).copy_(t)
        if t.device.type != "meta":
            t.copy_(t.cpu().to(device))
        (t == t).all()
    except (RuntimeError, TypeError, NotImplementedError, AssertionError):
        return False
    return True


def supported_dtypes(device: str, candidates=ALL_DTYPES) -> tuple[torch.dtype, ...]:
    """The dtypes among ``candidates`` that ``device`` supports, in report order."""
    return tuple(d for d in candidates if supports_dtype(device, d))
