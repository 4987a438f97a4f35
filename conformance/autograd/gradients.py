"""Property 4: gradients through ``op_(x.clone())`` equal gradients through the twin ``op(x)``, first and
second order, for the catalog's pointwise ops whose twin is differentiable on the dtype."""
from __future__ import annotations

import functools

import torch

from conformance.catalog import FAMILIES
from conformance.checks.compare import explain, mismatches
from conformance.checks.failure import ConformanceFailure

from .arguments import arguments, values

INPLACE_DERIVATIVE_NOT_IMPLEMENTED = {
    name: "derivatives.yaml declares not_implemented for the in-place form; the twin is differentiable"
    for name in ("acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_")
}
"""Declared gaps: backward through these in-place ops raises NotImplementedError by design."""

CHECKS = {
    "inplace-gradient": "first-order gradients through op_(x.clone()) equal those through op(x)",
    "inplace-gradient-2": "second-order gradients through op_(x.clone()) equal those through op(x)",
    "inplace-derivative-declared": "backward through op_ raises NotImplementedError exactly for the declared ops",
}


@functools.lru_cache(maxsize=None)
def differentiable_specs(dtype: torch.dtype) -> tuple:
    """Pointwise specs whose twin returns ``dtype`` with a grad_fn and whose in-place form runs on ``dtype``."""
    out = []
    gen = torch.Generator().manual_seed(0)
    for spec in FAMILIES["pointwise"]:
        try:
            x = values((2,), dtype, "cpu", gen, spec.domain).requires_grad_()
            args, kwargs = arguments(spec, (2,), dtype, "cpu", gen)
            result = spec.out_of_place()(x, *args, **kwargs)
            spec.inplace()(x.detach().clone(), *args, **kwargs)
        except (RuntimeError, TypeError, NotImplementedError):
            continue
        if result.requires_grad and result.dtype == dtype:
            out.append(spec)
    return tuple(out)


def _leaves(args, kwargs):
    return [v for v in [*args, *kwargs.values()] if isinstance(v, torch.Tensor)]


def _loss(out: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (out * weight.conj()).real.sum()


def _grads(fn, x, args, kwargs, weight, probe):
    """First- and second-order gradients of ``fn`` w.r.t. ``x`` and the tensor arguments (None: unused)."""
    inputs = [x, *_leaves(args, kwargs)]
    loss = _loss(fn(x, *args, **kwargs), weight)
    try:
        first = torch.autograd.grad(loss, inputs, create_graph=True, allow_unused=True)
    except (RuntimeError, NotImplementedError) as error:
        return error.with_traceback(None), None  # no reference cycle through its frames
    terms = [_loss(g, probe) for g in first if g is not None and g.requires_grad]
    if not terms:  # gradients independent of the inputs: second order is zero
        return first, (None,) * len(inputs)
    try:
        second = torch.autograd.grad(sum(terms), inputs, allow_unused=True)
    except (RuntimeError, NotImplementedError) as error:
        second = error.with_traceback(None)
    return first, second


def _compare(check, spec, dtype, device, want, got, source):
    """Raise ``check`` at the first gradient that differs; ``source()`` spells the case (built only then)."""
    __tracebackhide__ = True
    for i, (w, g) in enumerate(zip(want, got)):
        w = torch.zeros_like(g) if w is None and g is not None else w
        g = torch.zeros_like(w) if g is None and w is not None else g
        if w is None:
            continue
        mask = mismatches(w.detach(), g.detach())
        if mask is not None:
            expected, observed = explain(w.detach(), g.detach(), mask)
            raise ConformanceFailure(check, f"{spec.name} {dtype} shape={tuple(w.shape)} on {device}, input {i}",
                                     f"as through {spec.twin}: {expected}", observed, source())


def _literal(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"torch.tensor({value.detach().cpu().tolist()!r}, dtype={value.dtype}, requires_grad=True)"
    return repr(value)


def _reproduction(spec, x, args, kwargs, weight) -> str:
    """Source comparing the two first-order gradients w.r.t. ``x`` on the exact values of the case."""
    call_args = ", ".join([*(_literal(a) for a in args), *(f"{k}={_literal(v)}" for k, v in kwargs.items())])
    loss = "(({}) * w.conj()).real.sum()"
    return "\n".join([
        "import torch", f"x = {_literal(x)}", f"w = {_literal(weight.detach())}.detach()",
        f"twin = torch.autograd.grad({loss.format(f'torch.Tensor.{spec.twin}(x, {call_args})')}, x)",
        f"inplace = torch.autograd.grad({loss.format(f'torch.Tensor.{spec.name}(x.clone(), {call_args})')}, x)",
        "print(twin, inplace)",
    ])


def check_gradients(spec, shape, dtype, device, gen) -> str:
    """Compare in-place and twin gradients of ``spec`` on a ``self`` of ``shape``; returns what was compared."""
    __tracebackhide__ = True
    x = values(shape, dtype, device, gen, spec.domain).requires_grad_()
    args, kwargs = arguments(spec, shape, dtype, device, gen, tensors=bool(torch.randint(2, (), generator=gen)))
    for t in _leaves(args, kwargs):
        t.requires_grad_()
    weight, probe = values(shape, dtype, device, gen), values(shape, dtype, device, gen)
    inplace = spec.inplace()

    def through_inplace(x, *args, **kwargs):
        return inplace(x.clone(), *args, **kwargs)

    twin_first, twin_second = _grads(spec.out_of_place(), x, args, kwargs, weight, probe)
    first, second = _grads(through_inplace, x, args, kwargs, weight, probe)
    def source() -> str:  # a reproduction is spelled out only for a failure
        return _reproduction(spec, x, args, kwargs, weight)

    if isinstance(twin_first, BaseException):
        return "twin not differentiable here"
    declared = spec.name in INPLACE_DERIVATIVE_NOT_IMPLEMENTED
    if declared != isinstance(first, NotImplementedError):
        raise ConformanceFailure("inplace-derivative-declared", f"{spec.name} {dtype} on {device}",
                                 "raises NotImplementedError" if declared else f"differentiable like {spec.twin}",
                                 f"raised {first}" if isinstance(first, BaseException) else "returned gradients",
                                 source())
    if declared:
        return "declared not implemented"
    if isinstance(first, BaseException):
        raise ConformanceFailure("inplace-gradient", f"{spec.name} {dtype} on {device}",
                                 f"gradients as through {spec.twin}", f"raised {first}", source())
    _compare("inplace-gradient", spec, dtype, device, twin_first, first, source)
    if isinstance(twin_second, tuple) and isinstance(second, tuple):
        _compare("inplace-gradient-2", spec, dtype, device, twin_second, second, source)
        return "second order"
    if isinstance(twin_second, tuple) and isinstance(second, BaseException):
        raise ConformanceFailure("inplace-gradient-2", f"{spec.name} {dtype} on {device}",
                                 f"second order as through {spec.twin}", f"raised {second}", source())
    return "first order"
