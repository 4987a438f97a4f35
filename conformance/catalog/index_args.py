"""Argument strategies of the index ops: index tensors in range (duplicates included, now and then one
out of bounds), and the sources, values and masks whose shapes follow from ``self`` and the index."""
from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from strategies.reuse import sampled_from
from strategies.shapes import shapes
from strategies.values import scalars

from .structured import Draft, Drawn, index_tensor, one_way_shape, operand_tensor, rarely, scalar_or_0d


def _length(draw, name: str) -> int:
    """A small length, zero one time in ten."""
    low = 0 if rarely(draw, f"{name} may be empty?", 10) else 1
    return draw(st.integers(low, 4), label=f"{name} length")


def along_index() -> Drawn:
    """``index`` of ``index_add_``/``index_copy_``/``index_fill_``/``index_reduce_``: a 1-d index into
    ``self`` along ``dim``; its length is kept as ``sizes["k"]``."""
    @st.composite
    def strategy(draw, draft: Draft):
        draft.sizes["k"] = _length(draw, "index")
        return draw(index_tensor((draft.sizes["k"],), draft.side(draft.dim()), "index", draft.device))
    return Drawn("index", strategy, tensor=True)


def along_source(name: str = "source") -> Drawn:
    """The source of an index op along ``dim``: ``self``'s shape with ``dim`` resized to the index length."""
    def strategy(draft: Draft):
        dim, shape = draft.dim(), list(draft.shape)
        if shape and dim is not None:
            shape[dim] = draft.sizes["k"]
        return operand_tensor(draft, shape, name)
    return Drawn(name, strategy, tensor=True)


def fill_value(name: str = "value") -> Drawn:
    """A Python scalar or a 0-d tensor to fill with."""
    return Drawn(name, lambda draft: scalar_or_0d(draft, name), tensor=True)


def scatter_index() -> Drawn:
    """``index`` of the scatter ops: ``self``'s number of dims, no larger than ``self`` off ``dim``."""
    @st.composite
    def strategy(draw, draft: Draft):
        dim = draft.dim()
        shape = tuple(_length(draw, f"index side {d}") if d == dim else
                      draw(st.integers(0, side), label=f"index side {d}") for d, side in enumerate(draft.shape))
        draft.sizes["index shape"] = shape
        return draw(index_tensor(shape, draft.side(dim), "index", draft.device))
    return Drawn("index", strategy, tensor=True)


def scatter_source(name: str = "src", *, scalar: bool = False) -> Drawn:
    """The source of a scatter op: at least the index's size along every dim; with ``scalar``, now and
    then a Python scalar (``scatter_(dim, index, value)``)."""
    @st.composite
    def strategy(draw, draft: Draft):
        if scalar and rarely(draw, f"{name} is a scalar?", 4):
            kind = draw(sampled_from(("int", "float")), label=f"{name} kind")
            return draw(scalars(kind), label=f"{name} (value)")
        shape = tuple(side + draw(st.integers(0, 1), label=f"{name} extra side {d}")
                      for d, side in enumerate(draft.sizes["index shape"]))
        return draw(operand_tensor(draft, shape, name))
    return Drawn(name, strategy, tensor=True)


def put_index() -> Drawn:
    """``index`` of ``put_``: any small shape, flat indices into ``self`` in ``[-numel, numel)``."""
    @st.composite
    def strategy(draw, draft: Draft):
        shape = draw(shapes(max_dims=2), label="index shape")
        draft.sizes["index shape"] = shape
        return draw(index_tensor(shape, math.prod(draft.shape), "index", draft.device, negative=True))
    return Drawn("index", strategy, tensor=True)


def put_source() -> Drawn:
    """``source`` of ``put_``: as many elements as the index, in its shape or flat."""
    @st.composite
    def strategy(draw, draft: Draft):
        shape = draft.sizes["index shape"]
        if draw(st.booleans(), label="source flat?"):
            shape = (math.prod(shape),)
        return draw(operand_tensor(draft, shape, "source"))
    return Drawn("source", strategy, tensor=True)


def index_put_indices() -> Drawn:
    """``indices`` of ``index_put_``: a tuple of 1-d int64 tensors, one per leading dim of ``self``, of one
    length (or length 1, which broadcasts). A tuple of plain tensors: reproductions print them as
    ``tensor([...])``."""
    @st.composite
    def strategy(draw, draft: Draft):
        count = draw(st.integers(1, max(len(draft.shape), 1)), label="indexed dims")
        draft.sizes["k"] = length = _length(draw, "indices")
        draft.sizes["indexed dims"] = count
        tensors = []
        for d in range(count):
            n = 1 if length and rarely(draw, f"indices[{d}] broadcasts?", 6) else length
            side = draft.side(d if draft.shape else None)
            tensors.append(draw(index_tensor((n,), side, f"indices[{d}]", draft.device, negative=True)).tensor)
        return tuple(tensors)
    return Drawn("indices", strategy)


def index_put_values() -> Drawn:
    """``values`` of ``index_put_``: broadcastable to the indexed shape ``(k, *self.shape[count:])``."""
    @st.composite
    def strategy(draw, draft: Draft):
        target = (draft.sizes["k"],) + tuple(draft.shape[draft.sizes["indexed dims"]:])
        return draw(operand_tensor(draft, draw(one_way_shape(target, "values")), "values"))
    return Drawn("values", strategy, tensor=True)


def mask() -> Drawn:
    """A bool mask that broadcasts to ``self`` (one time in ten one that would enlarge it)."""
    @st.composite
    def strategy(draw, draft: Draft):
        shape = draw(one_way_shape(draft.shape, "mask"))
        return draw(operand_tensor(draft, shape, "mask", dtype=torch.bool))
    return Drawn("mask", strategy, tensor=True)


def masked_source() -> Drawn:
    """``source`` of ``masked_scatter_``: about ``self.numel()`` elements (one fewer now and then), in
    ``self``'s shape or flat."""
    @st.composite
    def strategy(draw, draft: Draft):
        numel = math.prod(draft.shape)
        if draw(st.booleans(), label="source in self's shape?"):
            shape = draft.shape
        else:
            short = numel > 0 and rarely(draw, "source one element short?", 10)
            shape = (numel - 1 if short else draw(st.integers(numel, numel + 2), label="source numel"),)
        return draw(operand_tensor(draft, shape, "source"))
    return Drawn("source", strategy, tensor=True)


@st.composite
def diagonal_shapes(draw):
    """``fill_diagonal_``'s self: any matrix (tall ones exercise ``wrap``), or a cube with equal sides."""
    if rarely(draw, "cube?", 4):
        ndim = draw(st.integers(3, 4), label="cube ndim")
        return (draw(st.integers(1, 3), label="cube side"),) * ndim
    return draw(shapes(min_dims=2, max_dims=2, max_side=6), label="matrix shape")
