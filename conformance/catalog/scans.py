"""Reductions and scans along a drawn ``dim``: ``cumsum_``, ``cumprod_``, ``renorm_``. One entry per op."""
from __future__ import annotations

import torch

from strategies.values import Bounds

from .args import Scalar
from .structured import StructuredSpec, dims


def floating(dtype) -> bool:
    """Floating and complex dtypes (``renorm_`` takes a vector norm)."""
    return dtype.is_floating_point or dtype.is_complex


def not_bool(dtype) -> bool:
    """The scan kernels are not implemented for bool."""
    return dtype != torch.bool


SPECS: tuple[StructuredSpec, ...] = (
    StructuredSpec("cumsum_", "cumsum", "scans", (dims(),), dtypes=not_bool,
                   notes="the twin promotes integers to int64; the in-place form wraps around in self's dtype"),
    StructuredSpec("cumprod_", "cumprod", "scans", (dims(),), dtypes=not_bool),
    StructuredSpec("renorm_", "renorm", "scans", (
        Scalar("p", ("int", "float"), Bounds(0.5, 4)), dims(), Scalar("maxnorm", ("int", "float"), Bounds(0, 8))),
        dtypes=floating, notes="renorm is defined for p > 0 and maxnorm >= 0"),
)
