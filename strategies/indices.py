"""Index keys for ``t[key]`` and ``t[key] = value``: basic, advanced and mixed, valid or deliberately not.

A key is drawn as an :class:`IndexKey`, a tuple of components that knows how to spell itself for torch
(tensors on a device, Python lists), for NumPy (arrays) and in a reproduction. Components:

* ``int`` (negative too), ``slice`` (with steps; negative steps only when asked), ``Ellipsis``, ``None``;
* :class:`IntArray`: integer indices as an int64 or int32 tensor or a Python list, duplicates included;
  all integer arrays of a key broadcast to one drawn shape;
* :class:`Mask`: a boolean tensor covering one or more consecutive dimensions (full or partial rank).

Invalid keys (out-of-bounds integers or index arrays, masks of the wrong shape) are drawn on request, so
error behaviour is checked with the same machinery as values.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from hypothesis import assume, strategies as st

from .layouts import Layout, contiguous_strides
from .reuse import reused, sampled_from
from .shapes import Shape, broadcast_shape, broadcastable_to, expanding, shapes
from .tensors import BuiltTensor, built_tensors
from .values import Bounds

INT_ARRAY_SPELLINGS = ("int64", "int32", "list")
KEY_ERRORS = ("out-of-bounds-int", "out-of-bounds-array", "mask-shape")
"""The invalid keys :func:`index_keys` draws on request."""


@dataclasses.dataclass(frozen=True, eq=False)
class IntArray:
    """Integer indices into one dimension, spelled as a tensor of ``spelling`` dtype or a Python list."""

    values: np.ndarray
    spelling: str = "int64"

    def torch(self, device: str):
        if self.spelling == "list":
            return self.values.tolist()
        return torch.from_numpy(self.values.astype(np.int64)).to(device=device, dtype=getattr(torch, self.spelling))

    def text(self) -> str:
        if self.spelling == "list":
            return repr(self.values.tolist())
        return f"torch.tensor({self.values.tolist()!r}, dtype=torch.{self.spelling})"

    @property
    def is_zero_dim(self) -> bool:
        """A 0-d integer tensor: torch treats it as a plain integer (basic indexing)."""
        return self.values.ndim == 0


@dataclasses.dataclass(frozen=True, eq=False)
class Mask:
    """A boolean mask over ``values.ndim`` consecutive dimensions."""

    values: np.ndarray

    def torch(self, device: str):
        return torch.from_numpy(self.values.copy()).to(device)  # copy(): keeps 0-d masks 0-d

    def text(self) -> str:
        return f"torch.tensor({self.values.tolist()!r})"


def _component_text(c) -> str:
    if c is Ellipsis:
        return "..."
    if isinstance(c, slice):
        parts = ["" if c.start is None else str(c.start), "" if c.stop is None else str(c.stop)]
        return ":".join(parts) + ("" if c.step is None else f":{c.step}")
    if isinstance(c, (IntArray, Mask)):
        return c.text()
    return repr(c)


@dataclasses.dataclass(frozen=True, eq=False)
class IndexKey:
    """A key as drawn: ``components``, passed bare (not in a tuple) when ``bare`` and there is one."""

    components: tuple
    bare: bool = False

    def torch(self, device: str = "cpu"):
        """The key as torch takes it: tensors on ``device``, lists as lists."""
        parts = tuple(c.torch(device) if isinstance(c, (IntArray, Mask)) else c for c in self.components)
        return parts[0] if self.bare and len(parts) == 1 else parts

    def numpy(self) -> tuple:
        """The key as NumPy takes it, every component in one tuple."""
        return tuple(c.values if isinstance(c, (IntArray, Mask)) else c for c in self.components)

    def torch_steps(self) -> tuple[tuple, tuple]:
        """The key as two NumPy keys applied in turn, following torch's rule for integers.

        Torch applies integers (and 0-d integer tensors) as ``select`` before any advanced index, so they
        never join the advanced indices; NumPy treats them as advanced indices, which moves the advanced
        result dimensions to the front when a slice separates them (``t[0, :, [1, 2]]`` is (4, 2) in torch,
        (2, 4) in NumPy on a (3, 4, 5) array). The first key takes the integers (a NumPy view), the second
        everything else.
        """
        first, second = [], []
        for c in self.components:
            if isinstance(c, IntArray) and c.is_zero_dim:
                first.append(int(c.values))
            elif isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                first.append(c)
            elif c is None:
                second.append(None)
            elif c is Ellipsis:
                first.append(Ellipsis)
                second.append(Ellipsis)
            else:
                span = c.values.ndim if isinstance(c, Mask) else 1
                first.extend([slice(None)] * span)
                second.append(c.values if isinstance(c, (IntArray, Mask)) else c)
        return tuple(first), tuple(second)

    @property
    def has_negative_step(self) -> bool:
        return any(isinstance(c, slice) and c.step is not None and c.step < 0 for c in self.components)

    @property
    def is_advanced(self) -> bool:
        """Whether torch lowers the key to ``index_put_`` (some mask or integer array of rank >= 1)."""
        return any(isinstance(c, Mask) or (isinstance(c, IntArray) and not c.is_zero_dim) for c in self.components)

    def _placed(self, shape: Shape):
        """``(component, first dim it indexes)`` for every component but ``None`` and ``Ellipsis``."""
        comps = [c for c in self.components if c is not None]
        spans = [c.values.ndim if isinstance(c, Mask) else (0 if c is Ellipsis else 1) for c in comps]
        dim = 0
        for i, (c, span) in enumerate(zip(comps, spans)):
            if c is Ellipsis:
                dim = len(shape) - sum(spans[i + 1:])
                continue
            yield c, dim
            dim += span

    def out_of_bounds(self, shape: Shape) -> bool:
        """Whether an integer array of the key holds an index outside its dimension of ``shape``."""
        return any(isinstance(c, IntArray) and c.values.size and dim < len(shape)
                   and (c.values.min() < -shape[dim] or c.values.max() >= shape[dim])
                   for c, dim in self._placed(shape))

    def mask_mismatch(self, shape: Shape) -> bool:
        """Whether a mask's shape differs from the dimensions it covers (torch raises IndexError; NumPy
        also accepts an empty mask on a size-1 dimension)."""
        return any(isinstance(c, Mask) and c.values.shape != tuple(shape[dim:dim + c.values.ndim])
                   for c, dim in self._placed(shape))

    def wrapped(self, shape: Shape) -> "IndexKey":
        """The key with out-of-bounds array indices wrapped into range (to learn the result's shape)."""
        placed = {id(c): dim for c, dim in self._placed(shape)}
        def fix(c):
            if not isinstance(c, IntArray) or id(c) not in placed or placed[id(c)] >= len(shape):
                return c
            side = shape[placed[id(c)]]
            return IntArray(c.values % side, c.spelling) if side else c
        return IndexKey(tuple(fix(c) for c in self.components), self.bare)

    def text(self) -> str:
        """The key as written between brackets: ``0, 1::2, torch.tensor([0, 0])``."""
        if not self.components:
            return "()"
        inner = ", ".join(_component_text(c) for c in self.components)
        return inner if len(self.components) > 1 or self.bare else inner + ","

    def __repr__(self) -> str:
        return f"[{self.text()}]"


def _index_values(draw, side: int, shape: Shape, label: str) -> np.ndarray:
    """Integer indices in ``[-side, side)`` of ``shape``; duplicates are likely on purpose."""
    if side == 0 or math.prod(shape) == 0:
        return np.zeros(shape if side else tuple(0 for _ in shape) or (0,), dtype=np.int64)
    flat = draw(st.lists(st.integers(-side, side - 1), min_size=math.prod(shape), max_size=math.prod(shape)),
                label=label)
    return np.array(flat, dtype=np.int64).reshape(shape)


@reused
@st.composite
def _slices(draw, side: int, negative_step: bool) -> slice:
    bound = st.one_of(st.none(), st.integers(-side - 1, side + 1))
    start, stop = draw(bound, label="slice start"), draw(bound, label="slice stop")
    step = draw(sampled_from((-1, -2)) if negative_step else sampled_from((None, 1, 2, 3)), label="slice step")
    return slice(start, stop, step)


@reused
@st.composite
def index_keys(draw, shape: Shape, *, negative_steps: bool = False, error: str | None = None,
               max_mask_dims: int = 2) -> IndexKey:
    """A valid key for ``shape`` (or one with the key error ``error``, one of :data:`KEY_ERRORS`).

    Every dimension is addressed by an integer, a slice, an integer array, part of a mask, or nothing
    (dropped at the end or absorbed by one ``Ellipsis``); ``None`` may be inserted anywhere. With
    ``negative_steps`` one slice has a negative step (torch raises ``ValueError``).
    """
    ndim = len(shape)
    adv_shape = draw(shapes(max_dims=2, max_side=3, allow_empty=False), label="index arrays' broadcast shape")
    dim = 0
    comps: list = []
    while dim < ndim:
        side = shape[dim]
        kinds = ["full", "slice", "array", "mask"] + (["int"] if side else [])
        kind = draw(sampled_from(tuple(kinds)), label=f"dim {dim} index kind")
        if kind == "mask":
            span = draw(st.integers(1, min(max_mask_dims, ndim - dim)), label="mask rank")
            mask_shape = shape[dim:dim + span]
            values = draw(st.lists(st.booleans(), min_size=math.prod(mask_shape), max_size=math.prod(mask_shape)),
                          label="mask values")
            comps.append(Mask(np.array(values, dtype=bool).reshape(mask_shape)))
            dim += span
            continue
        if kind == "int":
            comps.append(draw(st.integers(-side, side - 1), label=f"dim {dim} int"))
        elif kind == "slice":
            comps.append(draw(_slices(side, False)))
        elif kind == "full":
            comps.append(slice(None))
        else:
            spelling = draw(sampled_from(tuple(INT_ARRAY_SPELLINGS)), label="index array spelling")
            arr_shape = draw(broadcastable_to(adv_shape), label="index array shape")
            if spelling == "list" and not arr_shape:
                arr_shape = (1,)
            comps.append(IntArray(_index_values(draw, side, arr_shape, f"dim {dim} indices"), spelling))
        dim += 1

    if error is None:
        # A mask indexes with its True positions: their count must broadcast with the integer arrays.
        assume(_advanced_indices_broadcast(comps))
    else:
        comps = _make_invalid(draw, comps, shape, error)
    if negative_steps:
        comps = _with_negative_step(draw, comps, ndim)

    comps = _absorb_fulls(draw, comps)
    if draw(st.integers(0, 3), label="insert None?") == 0:
        at = draw(st.integers(0, len(comps)), label="None position")
        comps.insert(at, None)
    bare = len(comps) == 1 and draw(st.booleans(), label="bare key")
    return IndexKey(tuple(comps), bare)


def _advanced_indices_broadcast(comps: list) -> bool:
    """Whether the integer arrays and masks of ``comps`` broadcast together (as NumPy and torch require)."""
    shapes_ = [c.values.shape if isinstance(c, IntArray) else (int(c.values.sum()),)
               for c in comps if isinstance(c, (IntArray, Mask))]
    return broadcast_shape(*shapes_) is not None


def _with_negative_step(draw, comps: list, ndim: int) -> list:
    """One slice of ``comps`` (or a new or replaced one, when there is none) gets a negative step."""
    slots = [i for i, c in enumerate(comps) if isinstance(c, slice)]
    if slots:
        i = draw(sampled_from(tuple(slots)), label="negative-step slice")
        comps[i] = slice(comps[i].start, comps[i].stop, -(comps[i].step or 1))
        return comps
    used = sum(c.values.ndim if isinstance(c, Mask) else 1 for c in comps)
    if used < ndim:
        return comps + [slice(None, None, -1)]
    if not comps:
        return comps
    span = comps[-1].values.ndim if isinstance(comps[-1], Mask) else 1
    return comps[:-1] + [slice(None, None, -1)] + [slice(None)] * (span - 1)


def _absorb_fulls(draw, comps: list) -> list:
    """Drop trailing ``:`` components, or replace one run of them (possibly empty) by ``...``."""
    choice = draw(sampled_from(("keep", "drop trailing", "ellipsis")), label="full-slice spelling")
    if choice == "drop trailing":
        while comps and isinstance(comps[-1], slice) and comps[-1] == slice(None):
            comps.pop()
    elif choice == "ellipsis":
        start = draw(st.integers(0, len(comps)), label="ellipsis position")
        stop = start
        while stop < len(comps) and isinstance(comps[stop], slice) and comps[stop] == slice(None):
            stop += 1
        stop = draw(st.integers(start, stop), label="ellipsis end")
        comps = comps[:start] + [Ellipsis] + comps[stop:]
    return comps


def _make_invalid(draw, comps: list, shape: Shape, error: str) -> list:
    """Break one component of a valid key (``comps`` address dims in order) the way ``error`` says."""
    dims, dim = [], 0
    for c in comps:
        dims.append(dim)
        dim += c.values.ndim if isinstance(c, Mask) else 1
    if error == "mask-shape":
        masks = [i for i, c in enumerate(comps) if isinstance(c, Mask) and c.values.ndim]
        if masks:
            i = draw(sampled_from(tuple(masks)), label="mismatched mask")
            mshape = list(comps[i].values.shape)
            j = draw(st.integers(0, len(mshape) - 1), label="mismatched mask dim")
            mshape[j] += 1 if mshape[j] == 0 or draw(st.booleans(), label="grow mask") else -1
        else:
            i = draw(st.integers(0, len(comps)), label="mismatched mask position")
            d = dims[i] if i < len(comps) else dim
            mshape = [shape[d] + 1 if d < len(shape) else 1]
        return comps[:i] + [Mask(np.ones(mshape, dtype=bool))] + comps[i + 1:]
    want_array = error == "out-of-bounds-array"
    if want_array:
        slots = [i for i, c in enumerate(comps) if isinstance(c, IntArray) and c.values.size]
    else:
        slots = [i for i, c in enumerate(comps) if isinstance(c, int)]
    slots = slots or [i for i, c in enumerate(comps) if isinstance(c, (int, slice, IntArray))]
    if not slots:
        if dim >= len(shape):
            return comps + [0]  # one index more than self has dimensions
        comps, dims, slots = comps + [slice(None)], dims + [dim], [len(comps)]
    i = draw(sampled_from(tuple(slots)), label="out-of-bounds position")
    side = shape[dims[i]]
    bad = draw(sampled_from((side, side + 1, -side - 1)), label="out-of-bounds index")
    old = comps[i]
    if not want_array:
        comps[i] = bad
    elif isinstance(old, IntArray) and old.values.size:
        values = old.values.copy().reshape(-1)
        values[draw(st.integers(0, values.size - 1), label="out-of-bounds element")] = bad
        comps[i] = IntArray(values.reshape(old.values.shape), old.spelling)
    else:
        comps[i] = IntArray(np.array([0, bad]))
    return comps


@reused
@st.composite
def index_tensors(draw, shape: Shape, *, error: str | None = None) -> IndexKey:
    """A key of tensors only, as ``index_put_(indices, ...)`` takes it: int64 or int32 arrays and masks.

    Consecutive leading dimensions are indexed (at least one); the rest are taken whole.
    """
    ndim = len(shape)
    adv_shape = draw(shapes(max_dims=2, max_side=3, allow_empty=False), label="index arrays' broadcast shape")
    used = draw(st.integers(1, max(ndim, 1)), label="indexed dims")
    comps, dim = [], 0
    while dim < min(used, ndim):
        side = shape[dim]
        if draw(st.integers(0, 3), label=f"dim {dim} mask?") == 0 or side == 0:
            span = draw(st.integers(1, min(2, ndim - dim)), label="mask rank")
            mshape = shape[dim:dim + span]
            values = draw(st.lists(st.booleans(), min_size=math.prod(mshape), max_size=math.prod(mshape)),
                          label="mask values")
            comps.append(Mask(np.array(values, dtype=bool).reshape(mshape)))
            dim += span
            continue
        spelling = draw(sampled_from(("int64", "int32")), label="index dtype")
        arr_shape = draw(broadcastable_to(adv_shape), label="index array shape") or (1,)
        comps.append(IntArray(_index_values(draw, side, arr_shape, f"dim {dim} indices"), spelling))
        dim += 1
    if ndim == 0:
        comps = [Mask(np.array(draw(st.booleans(), label="0-d mask")))]
    if error is not None:
        comps = _make_invalid(draw, comps, shape, error)
        comps = [c if not isinstance(c, (int, slice)) else IntArray(np.array([c if isinstance(c, int) else 0]))
                 for c in comps]
    return IndexKey(tuple(comps))


@reused
@st.composite
def broadcast_masks(draw, shape: Shape, *, mismatched: bool = False) -> np.ndarray:
    """A boolean mask that broadcasts to ``shape`` (``masked_fill_``/``masked_scatter_``), or one that does not."""
    mshape = draw(expanding(shape) if mismatched else broadcastable_to(shape), label="mask shape")
    values = draw(st.lists(st.booleans(), min_size=math.prod(mshape), max_size=math.prod(mshape)), label="mask values")
    return np.array(values, dtype=bool).reshape(mshape)


# --- values assigned through a key ---------------------------------------------------------------------

VALUE_KINDS = ("scalar", "0-d", "tensor", "other-dtype", "element-of-self", "window-of-self", "unbroadcastable")
"""What :func:`assigned_values` draws: a Python scalar, a 0-d tensor, a tensor that broadcasts to the
indexed shape (maybe with extra leading 1s), one of another dtype (values in [0, 100], which every dtype
holds, so the cast is defined), a 0-d view of one element of ``self``, a window of ``self``'s storage of
the indexed shape (source and destination partially overlap), or a tensor that cannot broadcast."""

OTHER_DTYPE_BOUNDS = Bounds(0, 100)


@dataclasses.dataclass(eq=False)
class AssignedValue:
    """A value to assign: a Python scalar or a :class:`~strategies.tensors.BuiltTensor`, and its kind."""

    kind: str
    value: object

    @property
    def is_tensor(self) -> bool:
        return isinstance(self.value, BuiltTensor)

    def torch(self):
        return self.value.tensor if self.is_tensor else self.value

    def __repr__(self) -> str:
        if not self.is_tensor:
            return repr(self.value)
        lay = self.value.layout
        return f"<{self.kind} {str(self.value.tensor.dtype).removeprefix('torch.')} shape={lay.shape} " \
               f"stride={lay.stride} offset={lay.offset}>"


def fitting_scalars(dtype: torch.dtype) -> st.SearchStrategy:
    """Python scalars torch converts to ``dtype`` without an overflow error (bool, int, float, complex).

    Out-of-range scalars raise "value cannot be converted to type ... without overflow" by design; that
    conversion is not what assignment checks, so only scalars inside ``dtype``'s range are drawn.
    """
    if dtype == torch.bool:
        return st.one_of(st.booleans(), sampled_from((0, 1)))
    if not (dtype.is_floating_point or dtype.is_complex):
        info = torch.iinfo(dtype)
        lo, hi = max(info.min, -(2**63)), min(info.max, 2**63 - 1)
        return st.one_of(st.integers(lo, hi), sampled_from((lo, hi, 0)), st.booleans(),
                         st.floats(max(lo, -100), min(hi, 100)))
    top = float(torch.finfo(dtype).max)
    has_inf = dtype not in (torch.float8_e4m3fn,)
    reals = st.one_of(st.floats(-top, top), sampled_from((0.0, -0.0, float("nan"))),
                      sampled_from((float("inf"), float("-inf")) if has_inf else (1.0,)),
                      st.integers(-300, 300), st.booleans())
    if dtype.is_complex:
        part = st.floats(-top / 2, top / 2)
        return st.one_of(reals, st.builds(complex, part, part), sampled_from((complex("nan+1j"), complex("1+infj"))))
    return reals


def self_view(draw, self_built: BuiltTensor, shape: Shape | None) -> BuiltTensor:
    """A view of ``self``'s storage: a window of ``shape`` at a drawn offset (when it fits in the storage),
    else one element of ``self`` (``shape`` None)."""
    size = self_built.layout.storage_size
    if shape is not None and 0 < math.prod(shape) <= size:
        offset = draw(st.integers(0, size - math.prod(shape)), label="window offset")
        stride = contiguous_strides(shape)
    else:
        lay = self_built.layout
        if self_built.tensor.numel() == 0:
            shape, stride, offset = (), (), draw(st.integers(0, size - 1), label="element offset")
        else:
            element = [draw(st.integers(0, side - 1), label="element of self") for side in lay.shape]
            shape, stride = (), ()
            offset = lay.offset + sum(i * s for i, s in zip(element, lay.stride))
    layout = Layout("alias", shape, stride, offset, size)
    return BuiltTensor(self_built.storage.as_strided(shape, stride, offset), self_built.storage, layout)


@reused
@st.composite
def assigned_values(draw, dtype: torch.dtype, target_shape: Shape | None, device: str = "cpu", *,
                    self_built: BuiltTensor | None = None, other_dtypes=(), kinds=VALUE_KINDS) -> AssignedValue:
    """A value for ``t[key] = value`` where ``t[key]`` has ``target_shape`` (None: unknown, the key is
    invalid; then only scalars and 0-d tensors are drawn)."""
    usable = [k for k in kinds if target_shape is not None or k in ("scalar", "0-d")]
    usable = [k for k in usable if not k.endswith("-of-self") or self_built is not None]
    # Complex values reach a real self only as a cast that drops the imaginary part (or raises): not drawn.
    other_dtypes = [d for d in other_dtypes if d != dtype and (dtype.is_complex or not d.is_complex)]
    usable = [k for k in usable if k != "other-dtype" or other_dtypes]
    kind = draw(sampled_from(tuple(usable)), label="value kind")
    if kind == "scalar":
        return AssignedValue(kind, draw(fitting_scalars(dtype), label="scalar value"))
    if kind.endswith("-of-self"):
        return AssignedValue(kind, self_view(draw, self_built, target_shape if kind == "window-of-self" else None))
    value_dtype, bounds = dtype, None
    if kind == "0-d":
        shape = ()
    elif kind == "unbroadcastable":
        shape = draw(expanding(target_shape), label="unbroadcastable shape")
    else:
        shape = draw(broadcastable_to(target_shape), label="value shape")
        if draw(st.integers(0, 4), label="extra leading 1?") == 0:
            shape = (1,) + shape
        if kind == "other-dtype":
            value_dtype = draw(sampled_from(tuple(other_dtypes)), label="value dtype")
            bounds = OTHER_DTYPE_BOUNDS
    return AssignedValue(kind, draw(built_tensors(value_dtype, shape, device, bounds=bounds, label="value")))
