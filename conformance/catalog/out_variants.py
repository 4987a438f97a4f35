"""``out=`` variants: a lean sample of ops whose aten schema has an ``out`` overload, one line each.

The sample covers what differs between ``out`` kernels rather than every op: a binary op with broadcasting
and ``alpha`` (``add``), a result-dtype promotion with a rounding mode (``div``), integer -> float (``exp``),
complex -> real (``abs``), a reduction with ``dim``/``keepdim`` and int -> int64 promotion (``sum``), a scan
(``cumsum``) and two multi-output reductions, one with outputs of one dtype (``aminmax``) and one with int64
indices (``max``). The name is the Python function, called with ``out=``; the twin is the same function
without it. Every other discovered ``out`` overload is listed as excluded with :data:`UNSAMPLED_REASON`.
"""
from __future__ import annotations

from .args import Choice, Operand, alpha
from .spec import OpSpec

OUT_CHECKS = ("out-error-parity", "out-identity", "out-storage", "out-outside-view", "out-version", "out-values",
              "out-resize", "out-alias")

UNSAMPLED_REASON = ("out= overload outside the sampled set: the out= contract is checked on a sample of "
                    "pointwise, reduction, scan and multi-output ops (conformance/catalog/out_variants.py)")

DIM = Choice("dim", (0, -1))
KEEPDIM = Choice("keepdim", (False, True), keyword=True)


def _out(name: str, family: str, *args) -> OpSpec:
    return OpSpec(f"torch.{name}", f"torch.{name}", f"out.{family}", args, kind="out", checks=OUT_CHECKS)


SPECS: tuple[OpSpec, ...] = (
    _out("add", "pointwise", Operand("other", scalar_kinds=("int", "float")), alpha(("int",))),
    _out("div", "pointwise", Operand("other", scalar_kinds=("int", "float")),
         Choice("rounding_mode", (None, "trunc", "floor"), keyword=True)),
    _out("exp", "pointwise"),
    _out("abs", "pointwise"),
    _out("sum", "reduction", DIM, KEEPDIM),
    _out("cumsum", "scan", DIM),
    _out("aminmax", "multi-output", Choice("dim", (0, -1), keyword=True), KEEPDIM),
    _out("max", "multi-output", DIM, KEEPDIM),
)
