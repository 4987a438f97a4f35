"""Arguments for a catalog op built from a torch generator, not drawn: cheap, so one example checks every op."""
from __future__ import annotations

import torch

from conformance.catalog.args import Choice, Operand, Scalar


def _inside(bounds, value: float) -> float:
    if bounds is None:
        return value
    lo = -1e9 if bounds.min_value is None else bounds.min_value
    hi = 1e9 if bounds.max_value is None else bounds.max_value
    return min(max(value, lo), hi)


def values(shape, dtype, device, gen: torch.Generator, bounds=None) -> torch.Tensor:
    """Generic values (no exact zeros or ties) of ``dtype``, inside ``bounds`` (e.g. ``mvlgamma_``'s domain)."""
    real = torch.float64
    lo, hi = -1.49, 1.51
    if bounds is not None:
        lo = -1.5 if bounds.min_value is None else bounds.min_value
        hi = 1.5 if bounds.max_value is None else min(bounds.max_value, lo + 3)
    t = torch.empty(shape, dtype=real).uniform_(lo, hi, generator=gen)  # one kernel: these run per op and step
    if dtype.is_complex:
        t = torch.complex(t, torch.empty(shape, dtype=real).uniform_(-0.5, 0.5, generator=gen))
    return t.to(dtype=dtype, device=device)


def arguments(spec, shape, dtype, device, gen: torch.Generator, tensors: bool = True):
    """``(args, kwargs)`` for ``spec`` on a ``self`` of ``shape``: tensor operands of ``self``'s shape and dtype
    where allowed (``tensors``), else scalars; scalars inside their bounds; a random choice."""
    args, kwargs = [], {}
    for arg in spec.args:
        if isinstance(arg, Operand):
            if arg.tensor and (tensors or not arg.scalar_kinds):
                value = values(shape, dtype, device, gen, arg.bounds)
            else:
                value = _inside(arg.bounds, 0.75 if "float" in arg.scalar_kinds else 1)
        elif isinstance(arg, Scalar):
            value = _inside(arg.bounds, 0.75 if "float" in arg.kinds else 2)
        elif isinstance(arg, Choice):
            value = arg.options[int(torch.randint(len(arg.options), (), generator=gen))]
        else:
            raise TypeError(f"unknown argument descriptor {arg!r}")
        if getattr(arg, "keyword", False):
            kwargs[arg.name] = value
        else:
            args.append(value)
    return args, kwargs
