"""Metadata in-place methods of ``torch.Tensor``: they change how ``self`` views its storage, not the data.

Each entry names its view twin (``t_`` -> ``t``) and how to draw its arguments from ``self``'s shape. The
contract (``conformance/checks/metadata.py``): the same object comes back; its shape, strides and storage
offset equal the twin's applied to another view of the same memory; values read through it equal the
twin's; no storage element changes; other views keep their metadata; the version counter is bumped. The
storage rule is ``view`` (same storage), ``resize`` (same storage when it fits, otherwise it may
reallocate and must keep the old elements), ``set`` (``source``'s storage) or ``autograd`` (only the
autograd metadata changes). Declared exceptions name the clause they lift and why.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import torch
from hypothesis import strategies as st

from strategies.dtypes import CORE_DTYPES
from strategies.layouts import contiguous_strides
from strategies.shapes import shapes

from .spec import OpSpec

@dataclasses.dataclass(frozen=True)
class MetadataSpec(OpSpec):
    """A metadata op: ``draw_args(shape)`` draws its arguments (a strategy of tuples), ``expected(alias,
    *args)`` is the tensor whose metadata and values ``self`` must have afterwards (for ``resize``: its
    ``(shape, strides, offset)``; it raises where the in-place call must raise);
    ``materialize(drawn, dtype, device)`` makes tensor arguments for self's
    dtype (see :meth:`arguments`). ``exceptions`` maps a lifted clause to its one-line reason."""

    family: str = "metadata"
    checks: tuple[str, ...] = ("identity", "metadata", "storage", "twin-values", "outside-view", "views-see-write",
                               "version", "error-parity", "unchanged-on-error", "autograd")
    draw_args: Callable = None
    expected: Callable = None
    storage_rule: str = "view"
    exceptions: tuple[tuple[str, str], ...] = ()
    dtypes: tuple[torch.dtype, ...] = CORE_DTYPES
    materialize: Callable = None

    def exception(self, clause: str) -> str | None:
        return dict(self.exceptions).get(clause)

    def arguments(self, drawn: tuple, dtype: torch.dtype, device: str) -> tuple[tuple, tuple]:
        """``(call arguments, arguments for expected)`` from the drawn ones (tensors made for self's dtype)."""
        return self.materialize(drawn, dtype, device) if self.materialize else (drawn, drawn)


def _dim(ndim: int, extra: int = 0) -> st.SearchStrategy:
    """A dim of a tensor with ``ndim`` dims (``extra`` more for ops that add one), sometimes out of range."""
    top = max(ndim + extra, 1)
    return st.integers(-top - 1, top)


def _no_args(shape):
    return st.just(())


def _two_dims(shape):
    return st.tuples(_dim(len(shape)), _dim(len(shape)))


def _squeeze_args(shape):
    ndim = len(shape)
    return st.one_of(st.just(()), st.tuples(_dim(ndim)),
                     st.tuples(st.lists(st.integers(-max(ndim, 1), max(ndim, 1) - 1), max_size=3, unique=True)
                               .map(tuple)))


def _unsqueeze_args(shape):
    return st.tuples(_dim(len(shape), extra=1))


@st.composite
def _as_strided_args(draw, shape):
    size = draw(shapes(max_dims=3), label="as_strided size")
    stride = tuple(draw(st.integers(0, 4), label=f"as_strided stride[{i}]") for i in range(len(size)))
    offset = draw(st.integers(0, 6), label="as_strided storage offset")
    return size, stride, offset


def _resize_args(shape):
    return st.tuples(shapes(max_dims=3, max_side=6))


def _resized(alias: torch.Tensor, sizes) -> tuple:
    """``(shape, strides, storage offset)`` that ``resize_(sizes)`` must leave: the same shape keeps the
    strides, another gets contiguous strides from the same offset (memory that may lie past the storage)."""
    sizes = tuple(sizes)
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"negative size in {sizes}")
    if sizes == tuple(alias.shape):
        return sizes, alias.stride(), alias.storage_offset()
    return sizes, contiguous_strides(sizes), alias.storage_offset()


def _requires_grad(alias: torch.Tensor, flag: bool) -> torch.Tensor:
    if flag and not (alias.dtype.is_floating_point or alias.dtype.is_complex):
        raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
    return alias


@st.composite
def _set_args(draw, shape):
    """Drawn ``set_`` arguments, with ``"source"`` standing for a 24-element tensor of self's dtype."""
    form = draw(st.sampled_from(["tensor", "storage", "empty"]), label="set_ form")
    if form == "empty":
        return ()
    if form == "tensor":
        return ("source", draw(st.integers(0, 4), label="source start"))
    size = draw(shapes(max_dims=2, max_side=3), label="set_ size")
    stride = tuple(draw(st.integers(0, 4), label=f"set_ stride[{i}]") for i in range(len(size)))
    return ("source storage", draw(st.integers(0, 4), label="set_ offset"), size, stride)


def _set_materialize(drawn, dtype, device):
    """``(call arguments, arguments of expected)``: the source tensor for the second, its storage for the first."""
    if not drawn:
        return (), ()
    source = torch.arange(24, device=device).to(dtype)
    if drawn[0] == "source":
        return (source[drawn[1]:],), (source[drawn[1]:],)
    _, offset, size, stride = drawn
    return (source.untyped_storage(), offset, size, stride), (source, offset, size, stride)


def _set_expected(alias, *args):
    if not args:
        return torch.empty(0, dtype=alias.dtype, device=alias.device)
    if len(args) == 1:
        return args[0]
    source, offset, size, stride = args
    return source.as_strided(size, stride, offset)


def _resize_as_materialize(drawn, dtype, device):
    other = torch.empty(drawn[0], dtype=dtype, device=device)
    return (other,), (other,)


RESIZE_NO_OP = ("version-if-unchanged",
                "resize_ to self's own shape returns early, changing nothing, and does not bump the version")
SAME = lambda alias, *args: alias  # noqa: E731 - autograd-only ops keep every piece of metadata

SPECS: tuple[MetadataSpec, ...] = (
    MetadataSpec("t_", "t", draw_args=_no_args, expected=lambda a: a.t(), notes="t() raises above 2 dims"),
    MetadataSpec("transpose_", "transpose", draw_args=_two_dims, expected=lambda a, d0, d1: a.transpose(d0, d1)),
    MetadataSpec("swapdims_", "swapdims", draw_args=_two_dims, expected=lambda a, d0, d1: a.swapdims(d0, d1)),
    MetadataSpec("swapaxes_", "swapaxes", draw_args=_two_dims, expected=lambda a, d0, d1: a.swapaxes(d0, d1)),
    MetadataSpec("squeeze_", "squeeze", draw_args=_squeeze_args, expected=lambda a, *d: a.squeeze(*d)),
    MetadataSpec("unsqueeze_", "unsqueeze", draw_args=_unsqueeze_args, expected=lambda a, d: a.unsqueeze(d)),
    MetadataSpec("as_strided_", "as_strided", draw_args=_as_strided_args,
                 expected=lambda a, size, stride, offset: a.as_strided(size, stride, offset),
                 notes="sizes, strides and offsets past the storage must raise"),
    MetadataSpec("resize_", "resize_", draw_args=_resize_args, expected=_resized, storage_rule="resize",
                 exceptions=(RESIZE_NO_OP,),
                 notes="twin: contiguous strides from the same offset; growing may reallocate, keeps old elements"),
    MetadataSpec("resize_as_", "resize_", draw_args=_resize_args, materialize=_resize_as_materialize,
                 expected=lambda a, o: _resized(a, o.shape), storage_rule="resize", exceptions=(RESIZE_NO_OP,)),
    MetadataSpec("set_", "as_strided", draw_args=_set_args, materialize=_set_materialize, expected=_set_expected,
                 storage_rule="set",
                 notes="self takes source's storage, offset, sizes and strides; set_() makes self empty"),
    MetadataSpec("detach_", "detach", draw_args=_no_args, expected=SAME, storage_rule="autograd", exceptions=(
        ("version", "detach_ changes autograd metadata only and does not bump the version by design"),
        ("view", "detach_ on a view raises by design (\"Can't detach views in-place\")"),
    ), notes="on a non-leaf: grad_fn None and requires_grad False afterwards"),
    MetadataSpec("requires_grad_", "requires_grad_", draw_args=lambda shape: st.tuples(st.booleans()),
                 expected=_requires_grad, storage_rule="autograd", exceptions=(
                     ("version", "requires_grad_ changes autograd metadata only and does not bump the version"),
                 ), notes="requires_grad_(True) raises on integer and bool dtypes (no gradients)"),
)
