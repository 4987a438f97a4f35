"""Linear algebra with ``beta * self + alpha * (product)``: operands of compatible shapes, drawn
``beta``/``alpha``. Letters name sides: ``self`` "np" with ``mat1`` "nm" and ``mat2`` "mp" is ``addmm_``.

Values are small integers and the multipliers dyadic, so that every order of summation (BLAS picks one by
layout) gives the same result and the twin comparison needs no reduction-order tolerance."""
from __future__ import annotations

import torch

from .args import Choice
from .structured import StructuredSpec, self_shapes, sized

# Multipliers that keep every sum of small integer products exact (see StructuredSpec.small_integers).
BETA = Choice("beta", (1, 0, -1, 2, 0.5, -0.5, -2), keyword=True)
ALPHA = Choice("alpha", (1, 0, -1, 2, 0.5, -0.5, -2), keyword=True)


def not_bool(dtype: torch.dtype) -> bool:
    """Matrix products are not implemented for bool (``addr_`` alone is)."""
    return dtype != torch.bool


def _linalg(name: str, self_letters: str, *operands: tuple[str, str], dtypes=not_bool) -> StructuredSpec:
    args = tuple(sized(arg, letters, self_letters) for arg, letters in operands)
    return StructuredSpec(f"{name}_", name, "linalg", (*args, BETA, ALPHA), self_shapes=self_shapes(self_letters),
                          dtypes=dtypes, small_integers=True, notes=f"self {self_letters}, " + ", ".join(f"{a} {l}" for a, l in operands))


SPECS: tuple[StructuredSpec, ...] = (
    _linalg("addmm", "np", ("mat1", "nm"), ("mat2", "mp")),
    _linalg("addmv", "n", ("mat", "nm"), ("vec", "m")),
    _linalg("addr", "nm", ("vec1", "n"), ("vec2", "m"), dtypes=None),
    _linalg("addbmm", "np", ("batch1", "bnm"), ("batch2", "bmp")),
    _linalg("baddbmm", "bnp", ("batch1", "bnm"), ("batch2", "bmp")),
)
