"""A drawn call of an in-place op (:class:`Case`) and the Hypothesis strategy that draws it."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
from hypothesis import strategies as st

from strategies.layouts import LAYOUT_KINDS, Layout, extent, layouts
from strategies.reuse import reused, sampled_from
from strategies.shapes import broadcastable_to, expanding, shapes
from strategies.tensors import BuiltTensor, build, built_tensors
from strategies.values import arrays, scalars

from .args import Choice, Operand, Scalar
from .spec import OpSpec

ALIASING_MODES = ("dense", "strided")
"""How an operand aliases ``self`` in the aliasing properties: dense views (which torch's overlap check
can see) or stepped, non-dense views (which it cannot)."""


@dataclasses.dataclass
class Case:
    """Everything one in-place call needs: the op, ``self`` and the arguments, as built tensors or scalars."""

    op: OpSpec
    device: str
    self: BuiltTensor
    args: list = dataclasses.field(default_factory=list)
    kwargs: dict = dataclasses.field(default_factory=dict)
    arg_names: list = dataclasses.field(default_factory=list)
    reference_device: str | None = None  # where the twin runs; None: on ``device``
    tolerances: dict | None = None  # {dtype: (rtol, atol)} for value comparisons; None: the kit's defaults

    def __repr__(self) -> str:
        def short(v):
            if isinstance(v, BuiltTensor):
                lay = v.layout
                t = v.tensor
                return (f"<{str(t.dtype).removeprefix('torch.')} {lay.kind} shape={lay.shape} stride={lay.stride} "
                        f"offset={lay.offset}{' aliasing self' if v.storage is self.self.storage and v is not self.self else ''}>")
            return repr(v)
        parts = [short(a) for a in self.args] + [f"{k}={short(v)}" for k, v in self.kwargs.items()]
        return f"{short(self.self)}.{self.op.name}({', '.join(parts)})"

    def add_argument(self, arg, value) -> None:
        """Pass ``value`` for the descriptor ``arg``: by keyword or as the next positional argument."""
        if arg.keyword:
            self.kwargs[arg.name] = value
        else:
            self.args.append(value)
            self.arg_names.append(arg.name)

    def _repr_pretty_(self, printer, cycle) -> None:
        """How Hypothesis prints a drawn case: the call, not the dataclass fields."""
        printer.text(repr(self))

    def named_inputs(self) -> list[tuple[str, object]]:
        """``(name, value)`` for ``self`` and every argument, positional first."""
        return ([("self", self.self)] + list(zip(self.arg_names, self.args)) + list(self.kwargs.items()))

    def built_operands(self) -> list[tuple[str, BuiltTensor]]:
        return [(n, v) for n, v in self.named_inputs()[1:] if isinstance(v, BuiltTensor)]

    def call_arguments(self, convert=lambda t: t) -> tuple[torch.Tensor, list, dict]:
        """``self``, positional and keyword arguments with tensors passed through ``convert``."""
        def unwrap(v):
            return convert(v.tensor) if isinstance(v, BuiltTensor) else v
        return convert(self.self.tensor), [unwrap(a) for a in self.args], {k: unwrap(v) for k, v in self.kwargs.items()}


def _operand_dtype(draw, self_dtype: torch.dtype, operand_dtypes) -> torch.dtype:
    if not operand_dtypes or draw(st.booleans(), label="operand dtype same as self"):
        return self_dtype
    return draw(sampled_from(tuple(operand_dtypes)), label="operand dtype")


def _draw_operand(draw, arg: Operand, self_built: BuiltTensor, dtype, device, operand_dtypes):
    forms = (["tensor", "0-d tensor"] if arg.tensor else []) + (["scalar"] if arg.scalar_kinds else [])
    form = draw(sampled_from(tuple(forms)), label=f"{arg.name} form")
    if form == "scalar":
        kind_ = draw(sampled_from(tuple(arg.scalar_kinds)), label=f"{arg.name} scalar kind")
        return draw(scalars(kind_, arg.bounds), label=arg.name)
    operand_dtype = _operand_dtype(draw, dtype, operand_dtypes)
    if form == "0-d tensor":
        shape = ()
    elif draw(st.integers(0, 9), label=f"{arg.name} expands self?") == 0:
        shape = draw(expanding(self_built.layout.shape), label=f"{arg.name} shape (expands self)")
    else:
        shape = draw(broadcastable_to(self_built.layout.shape), label=f"{arg.name} shape")
    return draw(built_tensors(operand_dtype, shape, device, bounds=arg.bounds, label=arg.name))


def _draw_argument(draw, arg, self_built, dtype, device, operand_dtypes):
    if isinstance(arg, Operand):
        return _draw_operand(draw, arg, self_built, dtype, device, operand_dtypes)
    if isinstance(arg, Scalar):
        kind_ = draw(sampled_from(tuple(arg.kinds)), label=f"{arg.name} kind")
        return draw(scalars(kind_, arg.bounds), label=arg.name)
    if isinstance(arg, Choice):
        return draw(sampled_from(tuple(arg.options)), label=arg.name)
    raise TypeError(f"unknown argument descriptor {arg!r}")


@reused
@st.composite
def _aliased_self_and_operand(draw, spec: OpSpec, dtype, device, mode: str):
    """``self`` in a padded storage and one view of the same storage with ``self``'s shape.

    The view may be ``self`` itself, the same memory through another tensor object, the same memory in
    another order (a transpose), or shifted along the storage: full and partial overlap.
    """
    shape = draw(shapes(min_dims=1, allow_empty=False), label="self shape")
    kinds = ("contiguous", "permuted") if mode == "dense" else ("strided",)
    layout = draw(layouts(shape, kinds=kinds), label="self layout")
    lead = draw(st.integers(0, 4), label="lead padding")
    tail = draw(st.integers(0, 4), label="tail padding")
    layout = dataclasses.replace(layout, offset=layout.offset + lead, storage_size=layout.storage_size + lead + tail)
    values = draw(arrays(dtype, shape, spec.domain), label="self values")
    self_built = build(values, layout, dtype, device)
    relation = draw(sampled_from(("self", "same memory", "reordered", "shifted")), label="alias relation")
    if relation == "self":
        return self_built, self_built
    stride = layout.stride
    if relation == "reordered":
        stride = draw(layouts(shape, kinds=("permuted",)), label="alias order").stride
        if mode == "strided":
            stride = tuple(s * 2 for s in stride)
    alias_layout = Layout("alias", shape, stride, layout.offset, layout.storage_size)
    if relation == "shifted":
        room = layout.storage_size - extent(shape, stride, 0)
        offset = draw(st.integers(0, max(room, 0)), label="alias offset")
        alias_layout = dataclasses.replace(alias_layout, offset=offset)
    if extent(shape, alias_layout.stride, alias_layout.offset) > layout.storage_size:
        alias_layout = dataclasses.replace(alias_layout, stride=layout.stride, offset=layout.offset)
    return self_built, build(np.empty(0), alias_layout, dtype, device, storage=self_built.storage)


@reused
@st.composite
def cases(draw, spec: OpSpec, dtype: torch.dtype, device: str, *, operand_dtypes=(),
          aliasing: str | None = None, layout_kinds=LAYOUT_KINDS) -> Case:
    """A drawn :class:`Case` of ``spec`` with ``self`` of ``dtype`` on ``device``.

    ``operand_dtypes`` are the other dtypes tensor operands may take (type promotion and cast errors).
    With ``aliasing`` set, the first tensor operand is a view of ``self``'s storage (see ``ALIASING_MODES``).
    """
    alias = None
    if aliasing is not None:
        self_built, alias = draw(_aliased_self_and_operand(spec, dtype, device, aliasing))
    else:
        shape = draw(shapes(), label="self shape")
        self_built = draw(built_tensors(dtype, shape, device, layout_kinds=layout_kinds, bounds=spec.domain,
                                        label="self"))
    case = Case(spec, device, self_built)
    for arg in spec.args:
        if getattr(arg, "optional", False) and not draw(st.booleans(), label=f"pass {arg.name}?"):
            continue
        if alias is not None and isinstance(arg, Operand) and arg.tensor:
            value, alias = alias, None
        else:
            value = _draw_argument(draw, arg, self_built, dtype, device, operand_dtypes)
        case.add_argument(arg, value)
    return case
