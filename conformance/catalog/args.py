"""Argument descriptors: how to draw each argument of an in-place op, given the drawn ``self``.

A descriptor says *what kind* of argument an op takes (an operand that broadcasts to ``self``, a Python
scalar, one of a few choices); :mod:`conformance.catalog.case` turns descriptors into drawn values.
"""
from __future__ import annotations

import dataclasses

from strategies.values import SCALAR_KINDS, Bounds


@dataclasses.dataclass(frozen=True)
class Operand:
    """A tensor that broadcasts to ``self`` (any dtype the device supports), or a Python scalar.

    ``scalar_kinds=()`` makes it tensor-only; ``tensor=False`` scalar-only. Tensor operands are also
    drawn 0-d, expanded, non-contiguous, and (in the aliasing properties) as views of ``self``'s storage.
    """

    name: str
    scalar_kinds: tuple[str, ...] = SCALAR_KINDS
    tensor: bool = True
    bounds: Bounds | None = None
    keyword: bool = False
    optional: bool = False


@dataclasses.dataclass(frozen=True)
class Scalar:
    """A Python scalar of one of ``kinds`` (``int`` parameters such as ``decimals``, ``alpha`` and so on)."""

    name: str
    kinds: tuple[str, ...] = ("int", "float")
    bounds: Bounds | None = None
    keyword: bool = False
    optional: bool = False


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of a fixed set of values (``rounding_mode``, ``p`` of ``mvlgamma_``)."""

    name: str
    options: tuple
    keyword: bool = False


ArgDescriptor = Operand | Scalar | Choice


def alpha(kinds=("int", "float")) -> Scalar:
    """The ``alpha=`` multiplier of ``add_``/``sub_``."""
    return Scalar("alpha", kinds=kinds, bounds=Bounds(-4, 4), keyword=True, optional=True)
