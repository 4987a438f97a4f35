"""Which (op, dtype, device) combinations the out-of-place twin implements at all.

The probe calls the twin once on a small deterministic case. Where it raises "not implemented", the suite
still checks error parity on a few drawn examples, then reports the combination as skipped.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from strategies.layouts import contiguous
from strategies.tensors import build

from .catalog.args import Choice, Operand, Scalar
from .catalog.case import Case
from .catalog.spec import OpSpec

_UNIMPLEMENTED = ("not implemented for", "not supported for", "Unsupported dtype", "does not support")


def _simple_value(arg, dtype, device):
    if isinstance(arg, Operand):
        if arg.tensor:
            return build(np.ones(2), contiguous((2,)), dtype, device)
        return 1 if "int" in arg.scalar_kinds else 0.5
    if isinstance(arg, Scalar):
        return 1 if "int" in arg.kinds else 0.5
    if isinstance(arg, Choice):
        return arg.options[0]
    raise TypeError(arg)


def minimal_case(spec: OpSpec, dtype: torch.dtype, device: str) -> Case:
    """``self`` = two ones (or the domain's lower bound), simplest values for every argument."""
    low = spec.domain.min_value if spec.domain and spec.domain.min_value is not None else 1
    case = Case(spec, device, build(np.full(2, max(low, 1)), contiguous((2,)), dtype, device))
    for arg in spec.args:
        if getattr(arg, "optional", False):
            continue
        value = _simple_value(arg, dtype, device)
        case.add_argument(arg, value)
    return case


@functools.lru_cache(maxsize=None)
def unimplemented_reason(spec: OpSpec, dtype: torch.dtype, device: str) -> str | None:
    """The twin's "not implemented" message for ``dtype`` on ``device``, or None when it runs."""
    self_t, args, kwargs = minimal_case(spec, dtype, device).call_arguments()
    try:
        spec.out_of_place()(self_t, *args, **kwargs)
    except Exception as error:  # noqa: BLE001 - meta's Python kernels raise ValueError too; markers decide
        message = str(error).splitlines()[0] if str(error) else ""
        if any(marker in message for marker in _UNIMPLEMENTED):
            return message
    return None
