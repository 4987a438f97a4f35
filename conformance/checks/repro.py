"""Copy-pasteable reproductions: Python that rebuilds a case's exact tensors and makes the call."""
from __future__ import annotations

import math

import torch

from strategies.dtypes import dtype_name
from strategies.tensors import BuiltTensor

from ..capabilities import has

PREAMBLE = 'import torch\nnan, inf = float("nan"), float("inf")'

# NumPy-less dtypes are spelled through a wider dtype that holds their values exactly.
_VIA = {torch.bfloat16: torch.float32, torch.float8_e4m3fn: torch.float32, torch.float8_e5m2: torch.float32,
        torch.complex32: torch.complex64}


def scalar_literal(value) -> str:
    """A Python literal for ``value`` that evaluates back to it under :data:`PREAMBLE`."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, complex):
        return f"complex({scalar_literal(value.real)}, {scalar_literal(value.imag)})"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(scalar_literal(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else (
            f"({inner})" if isinstance(value, tuple) else f"[{inner}]")
    return repr(value)


def storage_literal(storage: torch.Tensor, device: str) -> str:
    """``torch.tensor([...], dtype=...)`` rebuilding a flat storage on ``device``; ``torch.empty(n, ...)``
    where the device holds no values (``meta``)."""
    dtype = storage.dtype
    if not has(str(storage.device), "values"):
        return f'torch.empty({storage.numel()}, dtype=torch.{dtype_name(dtype)}, device="{storage.device}")'
    spelled_dtype = _VIA.get(dtype, dtype)
    values = ", ".join(scalar_literal(v) for v in storage.cpu().to(spelled_dtype).tolist())
    text = f"torch.tensor([{values}], dtype=torch.{dtype_name(spelled_dtype)})"
    if dtype in _VIA:
        text += f".to(torch.{dtype_name(dtype)})"
    return text + (f'.to("{device}")' if device != "cpu" else "")


def reproduction(case, storages_before: dict[int, torch.Tensor], call: str) -> str:
    """Source that rebuilds every input of ``case`` as it was before the call, then makes ``call``.

    ``storages_before`` maps ``id(storage)`` to a copy of that storage taken before the call; tensors that
    shared a storage share it again in the snippet.
    """
    lines = [PREAMBLE]
    storage_names: dict[int, str] = {}
    for name, value in case.named_inputs():
        if not isinstance(value, BuiltTensor) or (value is case.self and name != "self"):
            continue
        key = id(value.storage)
        if key not in storage_names:
            storage_names[key] = f"{name}_storage"
            lines.append(f"{name}_storage = {storage_literal(storages_before.get(key, value.storage), case.device)}")
        lay = value.layout
        lines.append(f"{name} = {storage_names[key]}.as_strided({lay.shape}, {lay.stride}, {lay.offset})")
    lines.append(call)
    return "\n".join(lines)


def call_text(case, method: str, receiver: str = "self", *, twin: bool | None = None) -> str:
    """The call as written in a reproduction: ``self.add_(other, alpha=2)`` for a method,
    ``torch.nn.functional.relu_(self)`` for a dotted path, ``torch.nn.ReLU(inplace=True)(self)`` for a module.

    Fixed keywords a spec adds to the in-place call or to its ``twin`` (``inplace=True``) are spelled out;
    ``twin`` defaults to whether the receiver is a copy (``self.clone()``), as twins always run on copies.
    """
    def spelled(name, value):
        if value is case.self:
            return "self"
        return name if isinstance(value, BuiltTensor) else scalar_literal(value)
    spec = case.op
    twin = receiver != "self" if twin is None else twin
    fixed = getattr(spec, "twin_kwargs" if twin else "call_kwargs", ())
    parts = [spelled(n, v) for n, v in zip(case.arg_names, case.args)]
    parts += [f"{k}={spelled(k, v)}" for k, v in case.kwargs.items()]
    fixed_parts = [f"{k}={scalar_literal(v)}" for k, v in fixed]
    if getattr(spec, "module", False):
        return f"{method}({', '.join(fixed_parts)})({', '.join([receiver] + parts)})"
    if "." in method:
        return f"{method}({', '.join([receiver] + parts + fixed_parts)})"
    return f"{receiver}.{method}({', '.join(parts + fixed_parts)})"


def describe_tensor(t: torch.Tensor) -> str:
    """``float16 shape=(2, 3) stride=(1, 2) offset=5 device=cpu``: the fixed way failures name a tensor."""
    return (f"{dtype_name(t.dtype)} shape={tuple(t.shape)} stride={t.stride()} "
            f"offset={t.storage_offset()} device={t.device}")
