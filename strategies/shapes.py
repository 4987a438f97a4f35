"""Shapes: 0-d, empty and size-1 dimensions, and operand shapes that broadcast one way to ``self``.

An in-place op may broadcast its operands to ``self`` but never ``self`` to its operands, so operand shapes
come in two kinds: :func:`broadcastable_to` (legal) and :func:`expanding` (must raise).
"""
from __future__ import annotations

from hypothesis import strategies as st

from .reuse import reused, sampled_from

MAX_DIMS = 4
MAX_SIDE = 4

Shape = tuple[int, ...]


@reused
@st.composite
def shapes(draw, *, min_dims: int = 0, max_dims: int = MAX_DIMS, max_side: int = MAX_SIDE,
           allow_empty: bool = True) -> Shape:
    """A small shape; every size is 1..``max_side`` except, now and then, one empty (0) dimension."""
    ndim = draw(st.integers(min_dims, max_dims), label="ndim")
    sides = [draw(st.integers(1, max_side), label=f"side[{i}]") for i in range(ndim)]
    if allow_empty and ndim and draw(st.integers(0, 9), label="empty?") == 0:
        sides[draw(st.integers(0, ndim - 1), label="empty dim")] = 0
    return tuple(sides)


@reused
@st.composite
def broadcastable_to(draw, target: Shape) -> Shape:
    """A shape that broadcasts to ``target`` without changing it: trailing dims kept or set to 1."""
    keep = draw(st.integers(0, len(target)), label="operand ndim")
    trailing = target[len(target) - keep:]
    return tuple(side if draw(st.booleans(), label=f"keep side {i}") else 1 for i, side in enumerate(trailing))


def broadcast_shape(*shapes_: Shape) -> Shape | None:
    """The broadcast of ``shapes_``, or None when they do not broadcast."""
    ndim = max((len(s) for s in shapes_), default=0)
    out = []
    for i in range(-ndim, 0):
        sides = {s[i] for s in shapes_ if len(s) >= -i} - {1}
        if len(sides) > 1:
            return None
        out.append(sides.pop() if sides else 1)
    return tuple(out)


@reused
@st.composite
def expanding(draw, target: Shape) -> Shape:
    """A shape that broadcasts with ``target`` only by enlarging it: the in-place op must raise."""
    ones = [i for i, side in enumerate(target) if side == 1]
    if ones and draw(st.booleans(), label="grow a size-1 dim"):
        i = draw(sampled_from(tuple(ones)), label="grown dim")
        return target[:i] + (draw(st.integers(2, MAX_SIDE), label="grown side"),) + target[i + 1:]
    return (draw(st.integers(2, MAX_SIDE), label="new leading side"),) + target
