"""Kit-written out-of-place references for in-place ops that have no twin in torch.

Written with out-of-place ops only (``arange``, ``fill``, ``where``), so that they do not share code with the
in-place op they check.
"""
from __future__ import annotations

import torch


def fill_diagonal(self: torch.Tensor, fill_value, wrap: bool = False) -> torch.Tensor:
    """``self.fill_diagonal_(fill_value, wrap)`` out of place (NumPy's ``fill_diagonal`` semantics).

    A matrix's diagonal elements sit every ``columns + 1`` elements in row-major order; without ``wrap``
    a tall matrix stops after the square part. An n-d self needs equal sides.
    """
    if self.dim() < 2:
        raise RuntimeError("fill_diagonal_: dimensions must larger than 1")
    if self.dim() > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("fill_diagonal_: all dimensions of input must be of equal length")
    rows, columns = self.shape[0], self.shape[1]
    flat = torch.arange(self.numel(), device=self.device).reshape(self.shape)
    if self.dim() == 2:
        step = columns + 1
        end = self.numel() if wrap else min(rows, columns) * columns
        on_diagonal = (flat % step == 0) & (flat < end)
    else:
        step = sum(rows ** i for i in range(self.dim()))
        on_diagonal = flat % step == 0
    # A 1-d fill, as fill_diagonal_ fills its diagonal: it raises where the value overflows the dtype.
    value = torch.fill(torch.empty(1, dtype=self.dtype, device=self.device), fill_value)
    return torch.where(on_diagonal, value, self)
