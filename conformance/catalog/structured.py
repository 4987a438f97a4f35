"""Ops whose arguments depend on ``self``: a drawn ``dim``, index tensors in range, matrix operands of
compatible shapes. :class:`StructuredSpec` adds what such an op needs to its catalog entry (the shapes
``self`` may take, the dtypes it implements); :class:`Drawn` is an argument drawn from ``self`` and the
arguments drawn before it; :func:`structured_cases` draws a :class:`~conformance.catalog.case.Case`.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import torch
from hypothesis import strategies as st

from strategies.dtypes import numpy_dtype
from strategies.layouts import LAYOUT_KINDS, Layout, layouts
from strategies.reuse import reused, sampled_from
from strategies.shapes import broadcastable_to, expanding, shapes
from strategies.tensors import BuiltTensor, build, built_tensors
from strategies.values import Bounds, arrays, scalars

from .args import Operand
from .case import Case, _aliased_self_and_operand, _draw_argument, _operand_dtype
from .spec import OpSpec

SELF_LAYOUTS = tuple(k for k in LAYOUT_KINDS if k != "expanded")
"""Layouts of ``self`` in the main property; an expanded ``self`` has a property of its own."""


def rarely(draw, label: str, one_in: int) -> bool:
    """True about one time in ``one_in``. Triggered by a middle value, not 0: Hypothesis draws bounds far
    more often than their share, and shrinks towards 0, that is towards the common path."""
    return draw(st.integers(0, one_in - 1), label=label) == one_in // 2


@dataclasses.dataclass(frozen=True)
class StructuredSpec(OpSpec):
    """An :class:`OpSpec` with the shapes ``self`` is drawn in and the dtypes the op implements.

    ``self_shapes`` is a strategy of shapes (None: any small shape). ``dtypes`` says which dtypes the op
    implements (None: all); on the others only error parity is checked, on a few examples.
    ``small_integers`` draws ``self`` and tensor operands as integers in [-2, 2] (exact in every dtype), for
    ops that sum in an unspecified order (a matrix product): any order then gives the same result.
    """

    self_shapes: st.SearchStrategy | None = None
    dtypes: Callable[[torch.dtype], bool] | None = None
    small_integers: bool = False

    def implements(self, dtype: torch.dtype) -> bool:
        return self.dtypes is None or self.dtypes(dtype)


@dataclasses.dataclass
class Draft:
    """A case being drawn: ``self``, the arguments so far by name, and sizes shared between operands."""

    self: BuiltTensor
    dtype: torch.dtype
    device: str
    operand_dtypes: tuple
    small_integers: bool = False
    alias_operands: bool = False
    values: dict = dataclasses.field(default_factory=dict)
    sizes: dict = dataclasses.field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.self.layout.shape

    def dim(self, name: str = "dim") -> int | None:
        """The drawn ``dim`` normalised to ``0..ndim-1`` (0 for a 0-d self), or None when out of range."""
        dim, ndim = self.values[name], max(len(self.shape), 1)
        return dim % ndim if -ndim <= dim < ndim else None

    def side(self, dim: int | None) -> int:
        """``self``'s size along ``dim`` (1 for a 0-d self or an invalid dim)."""
        return self.shape[dim] if dim is not None and self.shape else 1


@dataclasses.dataclass(frozen=True)
class Drawn:
    """An argument whose strategy is built from the :class:`Draft`: ``strategy(draft)``.

    ``tensor`` marks arguments that may be tensors (so ``OpSpec.tensor_operands`` lists them).
    """

    name: str
    strategy: Callable[[Draft], st.SearchStrategy]
    keyword: bool = False
    optional: bool = False
    tensor: bool = False


@st.composite
def operand_tensor(draw, draft: Draft, shape, name: str, *, dtype: torch.dtype | None = None,
                   bounds: Bounds | None = None) -> BuiltTensor:
    """A tensor operand of ``shape`` in any layout; ``self``'s dtype unless ``dtype`` is given, and now
    and then another operand dtype (type errors are part of the contract)."""
    if dtype is None:
        dtype = draft.dtype
        if rarely(draw, f"{name} dtype differs?", 8):
            dtype = _operand_dtype(draw, draft.dtype, draft.operand_dtypes)
    if draft.small_integers:
        return draw(small_integer_tensors(dtype, tuple(shape), draft.device, label=name))
    return draw(built_tensors(dtype, tuple(shape), draft.device, bounds=bounds, label=name))


SMALL_INTEGERS = Bounds(-2, 2)


@reused
@st.composite
def small_integer_tensors(draw, dtype: torch.dtype, shape, device: str, *, layout_kinds=LAYOUT_KINDS,
                          label: str = "tensor") -> BuiltTensor:
    """A tensor in any layout whose values are integers in [-2, 2] (complex: both parts), so that sums of
    their products are exact in every dtype (bfloat16 included) whatever the order."""
    if dtype == torch.bool:
        return draw(built_tensors(dtype, shape, device, layout_kinds=layout_kinds, label=label))
    layout = draw(layouts(shape, kinds=layout_kinds), label=f"{label} layout")
    value_shape = tuple(1 if s == 0 and side > 1 else side for side, s in zip(shape, layout.stride))
    values = draw(arrays(torch.int8, value_shape, SMALL_INTEGERS), label=f"{label} values").astype(numpy_dtype(dtype))
    if dtype.is_complex:
        values = values + 1j * draw(arrays(torch.int8, value_shape, SMALL_INTEGERS), label=f"{label} imaginary parts")
    return build(np.broadcast_to(values, shape), layout, dtype, device)


@reused
@st.composite
def index_tensor(draw, shape, size: int, name: str, device: str, *, negative: bool = False) -> BuiltTensor:
    """An int64 index tensor of ``shape`` in any layout with values in ``[0, size)`` (``[-size, size)``
    when ``negative``), duplicates included; now and then one value out of bounds among in-bounds ones
    (so that a kernel may write the in-bounds part before it raises)."""
    layout = draw(layouts(tuple(shape)), label=f"{name} layout")
    value_shape = tuple(1 if s == 0 and side > 1 else side for side, s in zip(shape, layout.stride))
    bounds = Bounds(-size if negative else 0, size - 1) if size else Bounds(0, 2)
    values = draw(arrays(torch.int64, value_shape, bounds), label=f"{name} values")
    if values.size and (size == 0 or rarely(draw, f"{name} out of bounds?", 8)):
        where = draw(st.integers(0, values.size - 1), label=f"{name} out-of-bounds position")
        values.flat[where] = size + draw(st.integers(0, 2), label=f"{name} out-of-bounds excess")
    return build(np.broadcast_to(values, tuple(shape)), layout, torch.int64, device)


@reused
@st.composite
def one_way_shape(draw, target, name: str):
    """A shape that broadcasts to ``target``; one time in ten one that would enlarge it (must raise)."""
    if target and rarely(draw, f"{name} expands self?", 10):
        return draw(expanding(target), label=f"{name} shape (expands self)")
    return draw(broadcastable_to(target), label=f"{name} shape")


@st.composite
def scalar_or_0d(draw, draft: Draft, name: str, kinds=("bool", "int", "float", "complex")):
    """A Python scalar of one of ``kinds`` or a 0-d tensor (``fill_``, ``masked_fill_`` values)."""
    if draw(st.booleans(), label=f"{name} is a 0-d tensor?"):
        return draw(operand_tensor(draft, (), name))
    kind = draw(sampled_from(tuple(kinds)), label=f"{name} kind")
    return draw(scalars(kind), label=name)


def dims(name: str = "dim") -> Drawn:
    """A dimension of ``self``, negative ones included; one time in twelve out of range."""
    @st.composite
    def strategy(draw, draft: Draft):
        ndim = max(len(draft.shape), 1)
        if rarely(draw, f"{name} out of range?", 12):
            return draw(sampled_from((ndim, -ndim - 1)), label=name)
        return draw(st.integers(-ndim, ndim - 1), label=name)
    return Drawn(name, strategy)


def sized(name: str, letters: str, self_letters: str) -> Drawn:
    """A matrix operand whose sides are named by ``letters`` (``"nm"``); ``self``'s sides are named by
    ``self_letters``; a letter not on ``self`` is drawn once per case, so operands agree. With
    ``draft.alias_operands``, an operand of ``self``'s shape is mostly ``self`` itself or, for a square
    ``self``, its transpose (the same memory read in another order): the result must then equal the twin on
    copies, or (transpose, a partial overlap) the call may raise."""
    @st.composite
    def strategy(draw, draft: Draft):
        draft.sizes.update(zip(self_letters, draft.shape))
        for letter in letters:
            if letter not in draft.sizes:
                if draft.shape and draft.alias_operands and draw(st.booleans(), label=f"{letter} is a side of self?"):
                    draft.sizes[letter] = draw(sampled_from(tuple(draft.shape)), label=f"size {letter}")
                    continue
                low = 0 if rarely(draw, f"{letter} may be 0?", 10) else 1
                draft.sizes[letter] = draw(st.integers(low, 3), label=f"size {letter}")
        shape = tuple(draft.sizes[c] for c in letters)
        if draft.alias_operands and shape == draft.shape and not rarely(draw, f"{name} a fresh tensor?", 3):
            return draw(_self_or_transpose(draft), label=f"{name} alias of self")
        return draw(operand_tensor(draft, shape, name))
    return Drawn(name, strategy, tensor=True)


@st.composite
def _self_or_transpose(draw, draft: Draft) -> BuiltTensor:
    square = len(draft.shape) == 2 and draft.shape[0] == draft.shape[1]
    if not square or draw(st.booleans(), label="self itself?"):
        return draft.self
    layout = draft.self.layout
    alias = Layout("alias", layout.shape, layout.stride[::-1], layout.offset, layout.storage_size)
    return build(np.empty(0), alias, draft.dtype, draft.device, storage=draft.self.storage)


def self_shapes(letters: str) -> st.SearchStrategy:
    """Shapes of ``len(letters)`` dims, for ops whose ``self`` is a matrix, vector or batch."""
    return shapes(min_dims=len(letters), max_dims=len(letters), max_side=4 if len(letters) < 3 else 3)


def _draw_value(draw, arg, draft: Draft):
    if isinstance(arg, Drawn):
        return draw(arg.strategy(draft), label=arg.name)
    return _draw_argument(draw, arg, draft.self, draft.dtype, draft.device, draft.operand_dtypes)


@reused
@st.composite
def structured_cases(draw, spec: StructuredSpec, dtype: torch.dtype, device: str, *, operand_dtypes=(),
                     layout_kinds=SELF_LAYOUTS, aliasing: str | None = None, alias_operands: bool = False) -> Case:
    """A drawn :class:`Case` of ``spec``: ``self`` in ``spec.self_shapes`` and ``layout_kinds``, then each
    argument in order, each drawn from ``self`` and the arguments before it.

    With ``aliasing`` set (ops with a plain :class:`Operand`, e.g. ``copy_``), that operand is a view of
    ``self``'s storage, as in :func:`conformance.catalog.case.cases`; ``alias_operands`` lets ``sized``
    operands be ``self`` or its transpose. An expanded layout needs a side above 1: other shapes fall back
    to contiguous.
    """
    alias = None
    if aliasing is not None:
        self_built, alias = draw(_aliased_self_and_operand(spec, dtype, device, aliasing))
    else:
        shape = draw(spec.self_shapes if spec.self_shapes is not None else shapes(), label="self shape")
        kinds = [k for k in layout_kinds if k != "expanded" or any(side > 1 for side in shape)] or ["contiguous"]
        if spec.small_integers:
            self_built = draw(small_integer_tensors(dtype, shape, device, layout_kinds=kinds, label="self"))
        else:
            self_built = draw(built_tensors(dtype, shape, device, layout_kinds=kinds, bounds=spec.domain,
                                            label="self"))
    draft = Draft(self_built, dtype, device, tuple(operand_dtypes), spec.small_integers, alias_operands)
    case = Case(spec, device, self_built)
    for arg in spec.args:
        if getattr(arg, "optional", False) and not draw(st.booleans(), label=f"pass {arg.name}?"):
            continue
        if alias is not None and isinstance(arg, Operand) and arg.tensor:
            value, alias = alias, None
        else:
            value = _draw_value(draw, arg, draft)
        draft.values[arg.name] = value
        case.add_argument(arg, value)
    return case


__all__ = ["SELF_LAYOUTS", "Draft", "Drawn", "StructuredSpec", "dims", "index_tensor", "one_way_shape",
           "operand_tensor", "rarely", "scalar_or_0d", "self_shapes", "sized", "small_integer_tensors",
           "structured_cases"]
