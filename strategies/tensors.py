"""Values and layouts -> tensors on a device, plus a record of how each tensor was built.

A :class:`BuiltTensor` keeps the flat storage tensor and the :class:`~strategies.layouts.Layout` next to
the view, so that checks can look at elements outside the view and failure reports can rebuild the exact
tensor (values, dtype, strides, storage offset, device).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
from hypothesis import strategies as st

from .dtypes import numpy_dtype
from .layouts import LAYOUT_KINDS, Layout, layouts
from .reuse import reused
from .shapes import Shape, shapes
from .values import FULL_RANGE, Bounds, arrays

SENTINEL = 77
"""Value of storage elements outside a view: a write outside the view changes it."""


@dataclasses.dataclass
class BuiltTensor:
    """A view (``tensor``) into a flat ``storage`` tensor, as laid out by ``layout``."""

    tensor: torch.Tensor
    storage: torch.Tensor
    layout: Layout

    def footprint(self) -> torch.Tensor:
        """Boolean mask over ``storage``: True where an element of the view lives."""
        mask = torch.zeros(self.layout.storage_size, dtype=torch.bool)
        if self.tensor.numel():
            index = torch.arange(self.layout.storage_size).as_strided(
                self.layout.shape, self.layout.stride, self.layout.offset)
            mask[index.reshape(-1)] = True
        return mask


def build(values: np.ndarray, layout: Layout, dtype: torch.dtype, device: str,
          storage: torch.Tensor | None = None) -> BuiltTensor:
    """Lay ``values`` out in a fresh storage (sentinels elsewhere) and view it as ``layout``.

    The storage is written in NumPy and converted in one out-of-place step, so building inputs never
    depends on the in-place machinery under test. Pass ``storage`` to view an existing storage instead
    (aliasing operands); ``values`` are then ignored.
    """
    if storage is None:
        flat = np.full(layout.storage_size, SENTINEL, dtype=numpy_dtype(dtype))
        if values.size:
            itemsize = flat.itemsize
            window = np.lib.stride_tricks.as_strided(
                flat[layout.offset:], layout.shape, [s * itemsize for s in layout.stride], writeable=True)
            window[...] = values
        storage = torch.from_numpy(flat).to(dtype=dtype, device=device)
    view = storage.as_strided(layout.shape, layout.stride, layout.offset)
    return BuiltTensor(view, storage, layout)


@reused
@st.composite
def built_tensors(draw, dtype: torch.dtype, shape: Shape, device: str = "cpu", *,
                  layout_kinds=LAYOUT_KINDS, bounds: Bounds | None = FULL_RANGE, label: str = "tensor"
                  ) -> BuiltTensor:
    """A :class:`BuiltTensor` of ``shape`` and ``dtype`` with a drawn layout and drawn values."""
    layout = draw(layouts(shape, kinds=layout_kinds), label=f"{label} layout")
    # Expanded dims share memory: draw one value for them and broadcast.
    value_shape = tuple(1 if s == 0 and side > 1 else side for side, s in zip(shape, layout.stride))
    values = draw(arrays(dtype, value_shape, bounds), label=f"{label} values")
    return build(np.broadcast_to(values, shape), layout, dtype, device)


def tensors(dtype: torch.dtype, shape: Shape | None = None, device: str = "cpu", *,
            layout_kinds=LAYOUT_KINDS, bounds: Bounds | None = FULL_RANGE) -> st.SearchStrategy[torch.Tensor]:
    """Tensors of ``dtype`` on ``device`` with drawn (or given) shape, layout and values."""
    shape_strategy = st.just(tuple(shape)) if shape is not None else shapes()
    return shape_strategy.flatmap(
        lambda s: built_tensors(dtype, s, device, layout_kinds=layout_kinds, bounds=bounds)
    ).map(lambda built: built.tensor)
