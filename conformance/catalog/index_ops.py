"""Index ops: writes at index tensors, scatters, puts, masked writes and the diagonal. One entry per op.

Documented behaviours are declared as rules (:mod:`conformance.catalog.rules`), never coded as ``if``s:
duplicate indices without accumulation may leave any written value; some ops write through an expanded
``self``. ``index_put_`` requires ``values`` of ``self``'s dtype (the twin raises alike, so error parity
covers it). An out-of-bounds index may leave the in-bounds part written: the twin raises, so the contract
asks only that the in-place call raise too; the suite counts the partial write as an exception-safety event.
"""
from __future__ import annotations

from strategies.shapes import shapes

from .args import Choice, Scalar, alpha
from .index_args import (along_index, along_source, diagonal_shapes, fill_value, index_put_indices,
                         index_put_values, mask, masked_source, put_index, put_source, scatter_index,
                         scatter_source)
from .rules import DUPLICATES_WRITE_ANY, EXPANDED_WRITES_THROUGH
from .structured import StructuredSpec, dims

INCLUDE_SELF = Choice("include_self", (True, False), keyword=True)
ACCUMULATE = Choice("accumulate", (False, True), keyword=True)


def _index(name, *args, deviations=(), **kw) -> StructuredSpec:
    return StructuredSpec(f"{name}_", name, "index", args, deviations=deviations, **kw)


SPECS: tuple[StructuredSpec, ...] = (
    _index("index_add", dims(), along_index(), along_source(), alpha()),
    _index("index_copy", dims(), along_index(), along_source(), deviations=(DUPLICATES_WRITE_ANY,)),
    _index("index_fill", dims(), along_index(), fill_value(), deviations=(EXPANDED_WRITES_THROUGH,)),
    _index("index_reduce", dims(), along_index(), along_source(), Choice("reduce", ("prod", "mean", "amax", "amin")),
           INCLUDE_SELF),
    _index("index_put", index_put_indices(), index_put_values(), ACCUMULATE,
           deviations=(DUPLICATES_WRITE_ANY, EXPANDED_WRITES_THROUGH), self_shapes=shapes(min_dims=1),
           notes="accumulate=True sums duplicates; accumulate=False leaves any one of them"),
    _index("scatter", dims(), scatter_index(), scatter_source(scalar=True), deviations=(DUPLICATES_WRITE_ANY,)),
    _index("scatter_add", dims(), scatter_index(), scatter_source()),
    _index("scatter_reduce", dims(), scatter_index(), scatter_source(),
           Choice("reduce", ("sum", "prod", "mean", "amax", "amin")), INCLUDE_SELF),
    _index("put", put_index(), put_source(), ACCUMULATE, deviations=(DUPLICATES_WRITE_ANY,)),
    _index("masked_fill", mask(), fill_value(), deviations=(EXPANDED_WRITES_THROUGH,)),
    _index("masked_scatter", mask(), masked_source()),
    StructuredSpec("fill_diagonal_", "conformance.catalog.references.fill_diagonal", "index", (
        Scalar("fill_value", ("bool", "int", "float")), Choice("wrap", (False, True), keyword=True)),
        self_shapes=diagonal_shapes(), notes="no out-of-place twin in torch: a kit-written reference"),
)
