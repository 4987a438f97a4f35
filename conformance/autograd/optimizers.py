"""Property 5: ``nn.Parameter`` updates under ``no_grad`` keep the Parameter, its storage and its grad;
``torch.optim`` optimizers update in place, and their for-loop, ``foreach`` and ``fused`` forms agree."""
from __future__ import annotations

import functools
import inspect

import torch

from conformance.checks.compare import explain, mismatches
from conformance.checks.failure import ConformanceFailure

from .arguments import values

CHECKS = {
    "parameter-update": "an update under no_grad keeps the Parameter object, its storage and its grad",
    "optimizer-in-place": "optimizer.step() writes every parameter in place: same object and storage, version bumped",
    "optimizer-implementations-agree": "for-loop, foreach and fused implementations agree after several steps",
}

OPTIMIZERS = {
    "SGD": lambda flags: dict(lr=0.1, momentum=0.9, nesterov=flags[0], weight_decay=0.01 * flags[1],
                              maximize=flags[2]),
    "Adam": lambda flags: dict(lr=0.01, amsgrad=flags[0], weight_decay=0.01 * flags[1], maximize=flags[2]),
    "AdamW": lambda flags: dict(lr=0.01, amsgrad=flags[0], weight_decay=0.05 * flags[1], maximize=flags[2]),
    "RMSprop": lambda flags: dict(lr=0.01, momentum=0.5 * flags[0], centered=flags[1], maximize=flags[2]),
    "Adagrad": lambda flags: dict(lr=0.1, lr_decay=0.01 * flags[0], weight_decay=0.01 * flags[1], maximize=flags[2]),
}
"""Hyperparameters of each optimizer from three drawn flags."""

UPDATES = {
    "p.add_(p.grad, alpha=-0.1)": lambda p: p.add_(p.grad, alpha=-0.1),
    "p.mul_(0.9)": lambda p: p.mul_(0.9),
    "p.addcdiv_(p.grad, p.grad.abs() + 1, value=-0.1)": lambda p: p.addcdiv_(p.grad, p.grad.abs() + 1, value=-0.1),
    "p.copy_(p - 0.1 * p.grad)": lambda p: p.copy_(p - 0.1 * p.grad),
    "p[...] = 0.5": lambda p: p.__setitem__(Ellipsis, 0.5),
    "p -= 0.1 * p.grad": lambda p: p.__isub__(0.1 * p.grad),
}


def check_parameter_updates(shape, device, gen) -> int:
    __tracebackhide__ = True
    for text, update in UPDATES.items():
        data = values(shape, torch.float64, device, gen)
        p = torch.nn.Parameter(data.clone())
        p.grad = values(shape, torch.float64, device, gen)
        grad, grad_values, ptr, version = p.grad, p.grad.clone(), p.untyped_storage().data_ptr(), p._version
        expected = data.clone()  # the same update on a plain tensor
        expected.grad = grad_values.clone()
        update(expected)
        with torch.no_grad():
            result = update(p)
        problems = [what for what, bad in [
            ("returned another object", result is not None and result is not p),
            ("no longer an nn.Parameter", type(p) is not torch.nn.Parameter or not p.requires_grad),
            ("storage changed", p.untyped_storage().data_ptr() != ptr),
            ("version not increased", p._version <= version),
            ("grad replaced or changed", p.grad is not grad or not torch.equal(p.grad, grad_values)),
            ("values differ from the same update on a plain tensor", mismatches(expected, p.detach()) is not None),
        ] if bad]
        if problems:
            raise ConformanceFailure("parameter-update", f"{text} under no_grad, float64 shape={shape} on {device}",
                                     "in place, Parameter, storage and grad kept", "; ".join(problems),
                                     f"p = torch.nn.Parameter(torch.randn({shape}, dtype=torch.float64))\n"
                                     f"p.grad = torch.randn_like(p)\nwith torch.no_grad():\n    {text}")
    return len(UPDATES)


def implementations(name: str) -> tuple[str, ...]:
    """``for-loop`` and ``foreach``, and ``fused`` where the optimizer takes it. Whether the device runs the
    fused kernels is asked when the test runs (:func:`fused_unsupported`): at collection, the first
    optimizer built would import ``torch._dynamo`` (2 s) in every run, however few tests it selects."""
    takes_fused = "fused" in inspect.signature(getattr(torch.optim, name)).parameters
    return ("for-loop", "foreach", *(["fused"] if takes_fused else []))


@functools.lru_cache(maxsize=None)
def fused_unsupported(name: str, device: str) -> str | None:
    """Why one ``fused=True`` step of optimizer ``name`` fails on ``device`` (None: it runs)."""
    p = torch.nn.Parameter(torch.ones(2, dtype=torch.float64, device=device))
    p.grad = torch.ones_like(p)
    try:
        getattr(torch.optim, name)([p], fused=True).step()
    except (RuntimeError, TypeError) as error:
        return f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
    return None


def _form_kwargs(form: str) -> dict:
    return {"for-loop": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}[form]


def check_optimizer(name: str, form: str, shapes, flags, steps: int, device, gen) -> int:
    """Run ``steps`` steps of optimizer ``name`` in implementation ``form`` and in the for-loop one on the same
    parameters and grads: both in place, and ``form`` agreeing with the for-loop."""
    __tracebackhide__ = True
    hyper = OPTIMIZERS[name](flags)
    initial = [values(s, torch.float64, device, gen) for s in shapes]
    grads = [[values(s, torch.float64, device, gen) for s in shapes] for _ in range(steps)]
    finals = {}
    source = (f"params = [torch.nn.Parameter(torch.randn(s, dtype=torch.float64)) for s in {list(shapes)}]\n"
              f"opt = torch.optim.{name}(params, {', '.join(f'{k}={v!r}' for k, v in hyper.items())}, ...)\n"
              f"for p in params: p.grad = torch.randn_like(p)\nopt.step()")
    for impl in dict.fromkeys(("for-loop", form)):
        params = [torch.nn.Parameter(t.clone()) for t in initial]
        optimizer = getattr(torch.optim, name)(params, **hyper, **_form_kwargs(impl))
        for step in range(steps):
            for p, g in zip(params, grads[step]):
                p.grad = g.clone()
            before = [(p, p.untyped_storage().data_ptr(), p._version) for p in params]
            optimizer.step()
            for i, (p, ptr, version) in enumerate(before):
                current = optimizer.param_groups[0]["params"][i]
                problems = [what for what, bad in [
                    ("param_groups holds another object", current is not p),
                    ("storage changed", p.untyped_storage().data_ptr() != ptr),
                    ("version not increased", p._version <= version),
                    ("no longer an nn.Parameter", type(p) is not torch.nn.Parameter),
                ] if bad]
                if problems:
                    raise ConformanceFailure("optimizer-in-place", f"{name} ({impl}) step {step + 1}, parameter {i} "
                                             f"shape={tuple(p.shape)} on {device}", "updated in place",
                                             "; ".join(problems), source)
        finals[impl] = [p.detach().clone() for p in params]
    reference = finals.pop("for-loop")
    for form, got in finals.items():
        for i, (want, have) in enumerate(zip(reference, got)):
            mask = mismatches(want, have)
            if mask is not None:
                expected, observed = explain(want, have, mask)
                raise ConformanceFailure("optimizer-implementations-agree",
                                         f"{name} {form} vs for-loop after {steps} steps, parameter {i} on {device}",
                                         expected, observed, source)
    return steps * (len(finals) + 1)

