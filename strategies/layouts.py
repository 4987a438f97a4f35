"""Memory layouts that keep a tensor's logical shape but change its strides, storage offset and aliasing.

A :class:`Layout` says where the elements of a logical shape live in a flat storage. Tensors are built
from the storage as ``storage.as_strided(shape, stride, offset)``, so the kit never relies on the in-place
machinery it checks to build its inputs. Elements of the storage outside the view hold sentinels.
"""
from __future__ import annotations

import dataclasses
import math

from hypothesis import strategies as st

from .reuse import permutations, reused, sampled_from
from .shapes import Shape

LAYOUT_KINDS = ("contiguous", "permuted", "strided", "channels_last", "expanded")


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where the elements of ``shape`` live in a storage of ``storage_size`` elements."""

    kind: str
    shape: Shape
    stride: tuple[int, ...]
    offset: int
    storage_size: int

    @property
    def has_internal_overlap(self) -> bool:
        """More than one element maps to one memory location (a zero stride on a side above 1)."""
        return math.prod(self.shape) > 1 and any(s == 0 and side > 1 for s, side in zip(self.stride, self.shape))

    @property
    def is_contiguous(self) -> bool:
        return self.stride == contiguous_strides(self.shape) or math.prod(self.shape) <= 1

    def shifted(self, by: int, storage_size: int | None = None) -> "Layout":
        """The same view moved ``by`` elements along the storage (for partially overlapping aliases)."""
        return dataclasses.replace(self, offset=self.offset + by,
                                   storage_size=storage_size or self.storage_size + max(by, 0))


def contiguous_strides(shape: Shape) -> tuple[int, ...]:
    strides, step = [], 1
    for side in reversed(shape):
        strides.append(step)
        step *= max(side, 1)
    return tuple(reversed(strides))


def extent(shape: Shape, stride, offset: int) -> int:
    """The storage size needed to hold the view: one past its last element."""
    if math.prod(shape) == 0:
        return offset
    return offset + sum((side - 1) * s for side, s in zip(shape, stride)) + 1


def contiguous(shape: Shape) -> Layout:
    return Layout("contiguous", shape, contiguous_strides(shape), 0, max(math.prod(shape), 1))


@reused
@st.composite
def permuted(draw, shape: Shape) -> Layout:
    """A contiguous buffer of the permuted shape, viewed back in the logical order (e.g. a transpose)."""
    order = draw(permutations(range(len(shape))), label="permutation")
    inner = contiguous_strides(tuple(shape[i] for i in order))
    stride = [0] * len(shape)
    for pos, dim in enumerate(order):
        stride[dim] = inner[pos]
    return Layout("permuted", shape, tuple(stride), 0, max(math.prod(shape), 1))


@reused
@st.composite
def strided(draw, shape: Shape) -> Layout:
    """A stepped slice of a larger buffer, starting at a storage offset: ``buf[o:][::s0, ::s1, ...]``."""
    steps = [draw(st.integers(1, 3), label=f"step[{i}]") for i in range(len(shape))]
    pads = [draw(st.integers(0, 2), label=f"pad[{i}]") for i in range(len(shape))]
    outer = tuple(side * step + pad for side, step, pad in zip(shape, steps, pads))
    outer_strides = contiguous_strides(outer)
    stride = tuple(s * step for s, step in zip(outer_strides, steps))
    offset = draw(st.integers(0, 5), label="storage offset")
    size = max(offset + math.prod(outer), extent(shape, stride, offset), 1)
    return Layout("strided", shape, stride, offset, size)


def channels_last(shape: Shape) -> Layout:
    """NHWC memory order for a 4-d NCHW logical shape."""
    n, c, h, w = shape
    stride = (h * w * c, 1, w * c, c)
    return Layout("channels_last", shape, stride, 0, max(math.prod(shape), 1))


@reused
@st.composite
def expanded(draw, shape: Shape) -> Layout:
    """Zero strides on some dims (as ``t.expand``): several elements share one memory location."""
    dims = [i for i, side in enumerate(shape) if side > 1]
    chosen = draw(st.sets(sampled_from(tuple(dims)), min_size=1), label="expanded dims") if dims else set()
    base = tuple(1 if i in chosen else side for i, side in enumerate(shape))
    stride = tuple(0 if i in chosen else s for i, s in enumerate(contiguous_strides(base)))
    return Layout("expanded", shape, stride, 0, max(math.prod(base), 1))


@reused
@st.composite
def layouts(draw, shape: Shape, *, kinds=LAYOUT_KINDS) -> Layout:
    """Any layout of ``shape`` among ``kinds``; kinds that do not apply to the shape are skipped."""
    usable = [k for k in kinds if k != "channels_last" or len(shape) == 4]
    if "expanded" in usable and not any(side > 1 for side in shape):
        usable.remove("expanded")
    kind_ = draw(sampled_from(tuple(usable)), label="layout")
    if kind_ == "contiguous":
        return contiguous(shape)
    if kind_ == "channels_last":
        return channels_last(shape)
    return draw({"permuted": permuted, "strided": strided, "expanded": expanded}[kind_](shape))
