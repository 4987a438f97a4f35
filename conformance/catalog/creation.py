"""Creation-like writes: ``copy_`` (dtype conversion, broadcasting source), ``fill_``, ``zero_``, and the
triangle masks ``tril_``/``triu_`` with a drawn ``diagonal``. One entry per op."""
from __future__ import annotations

from strategies.shapes import shapes
from strategies.values import Bounds

from .args import Operand, Scalar
from .index_args import fill_value
from .rules import EXPANDED_WRITES_THROUGH
from .structured import StructuredSpec

DIAGONAL = Scalar("diagonal", ("int",), Bounds(-5, 5), optional=True)

SPECS: tuple[StructuredSpec, ...] = (
    StructuredSpec("copy_", "torch.ops.aten.copy", "creation", (Operand("src", scalar_kinds=()),),
                   notes="any source dtype converts silently (complex to real drops the imaginary part)"),
    StructuredSpec("fill_", "torch.fill", "creation", (fill_value(),), deviations=(EXPANDED_WRITES_THROUGH,),
                   notes="a float value truncates into an integer self by design"),
    StructuredSpec("zero_", "torch.zeros_like", "creation", deviations=(EXPANDED_WRITES_THROUGH,)),
    StructuredSpec("tril_", "tril", "creation", (DIAGONAL,), self_shapes=shapes(min_dims=2, max_dims=3)),
    StructuredSpec("triu_", "triu", "creation", (DIAGONAL,), self_shapes=shapes(min_dims=2, max_dims=3)),
)
