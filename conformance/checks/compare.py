"""Value comparison: whole-tensor first (fast), element by element only to explain a failure."""
from __future__ import annotations

import torch

from strategies.dtypes import is_exact

from ..tolerances import DEFAULTS

# (rtol, atol) by dtype, as torch.testing.assert_close chooses them (a --tolerances file overrides them).
TOLERANCES = DEFAULTS


def comparable(t: torch.Tensor) -> torch.Tensor:
    """``t`` in a dtype every backend can compare: float8 as float32, complex32 as complex64, wide unsigned
    ints as int64.

    The kit's own comparisons must not depend on the kernels under test for the rarer dtypes.
    """
    if t.dtype in (torch.float8_e4m3fn, torch.float8_e5m2):
        return t.to(torch.float32)
    if t.dtype == torch.complex32:
        return t.to(torch.complex64)
    if t.dtype in (torch.uint16, torch.uint32):
        return t.to(torch.int64)
    if t.dtype == torch.uint64:
        return t.view(torch.int64)
    return t


def mismatches(expected: torch.Tensor, observed: torch.Tensor, tolerances=None) -> torch.Tensor | None:
    """Boolean mask of mismatching elements, or None when all agree.

    ``tolerances`` maps dtypes to ``(rtol, atol)`` (:meth:`conformance.tolerances.Tolerances.table`);
    None: the kit's defaults.

    Integers and bools must be equal; floating values within the dtype's tolerances, NaN where NaN,
    infinities of the same sign; complex values so part by part. ``expected`` and ``observed`` share dtype and shape.
    """
    if expected.shape != observed.shape:
        raise ValueError(f"shapes differ: {tuple(expected.shape)} vs {tuple(observed.shape)}")
    dtype = observed.dtype
    expected, observed = comparable(expected), comparable(observed)
    if torch.equal(expected, observed):  # one kernel; NaN or a rounding difference takes the longer way
        return None
    if is_exact(dtype):
        return expected != observed
    rtol, atol = (tolerances or TOLERANCES).get(dtype, TOLERANCES[torch.float32])
    if dtype.is_complex:
        # Real and imaginary parts separately: |a - b| of two complex values with an infinite part is NaN.
        e, o = (torch.view_as_real(t.to(torch.complex128).resolve_conj()) for t in (expected, observed))
        close = torch.isclose(e, o, rtol=rtol, atol=atol, equal_nan=True).all(dim=-1)
    else:
        close = torch.isclose(expected.to(torch.float64), observed.to(torch.float64), rtol=rtol, atol=atol,
                              equal_nan=True)
    if bool(close.all()):
        return None
    return ~close


def bitwise_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same shape, dtype and values, NaN equal to NaN: for storages that must not change at all."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    a, b = comparable(a), comparable(b)
    if torch.equal(a, b):
        return True
    if a.dtype.is_floating_point or a.dtype.is_complex:
        return bool(((a == b) | (a.isnan() & b.isnan())).all())
    return False


def explain(expected: torch.Tensor, observed: torch.Tensor, mask: torch.Tensor, limit: int = 5) -> tuple[str, str]:
    """Short expected/observed texts naming the first few mismatching indices (read on the CPU: a backend's
    tensors, subclasses included, need not support ``tolist``)."""
    expected, observed, mask = comparable(expected).cpu(), comparable(observed).cpu(), mask.cpu()
    where = mask.nonzero().tolist()
    total = len(where)
    where = where[:limit]
    exp = ", ".join(f"{tuple(i)}: {expected[tuple(i)].item()!r}" for i in where)
    obs = ", ".join(f"{tuple(i)}: {observed[tuple(i)].item()!r}" for i in where)
    more = f" (and {total - len(where)} more of {mask.numel()})" if total > len(where) else f" ({total} of {mask.numel()})"
    return exp + more, obs + more
