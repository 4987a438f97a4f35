"""The contract of a ``torch._foreach_*_`` call against a loop of the single-tensor op.

The loop runs first on copies; the foreach call raises exactly when one of the loop's calls raises
(``error-parity``). Otherwise, for every tensor of the list: a returned list holds the same objects
(``identity``); storage, offset, shape and strides are kept (``storage``); the version is bumped
(``version``); no element outside its view changes, nor any operand (``outside-view``); another view
reads the new values (``views-see-write``); values equal the loop's (``twin-values``).
"""
from __future__ import annotations

import torch

from strategies.tensors import BuiltTensor

from .. import targets
from .compare import bitwise_equal, explain, mismatches
from .failure import ConformanceFailure
from .inplace import StorageMetadata, call
from .mutation import (expect_metadata_kept, expect_outside_view_kept, expect_version_bumped,
                       expect_views_see_write, snippet, tensor_lines)
from .repro import describe_tensor, scalar_literal
from ..catalog.spec import resolve


def _per_tensor(arg, i: int):
    """The ``i``-th tensor's share of a foreach argument: a list's element, else the argument itself."""
    if isinstance(arg, list):
        return arg[i].tensor if isinstance(arg[i], BuiltTensor) else arg[i]
    return arg.tensor if isinstance(arg, BuiltTensor) else arg


def _real(arg):
    if isinstance(arg, list):
        return [a.tensor if isinstance(a, BuiltTensor) else a for a in arg]
    return arg.tensor if isinstance(arg, BuiltTensor) else arg


def loop_reference(spec, copies: list[torch.Tensor], args: list, kwargs: dict) -> list[torch.Tensor]:
    """The single-tensor op applied to each copy in turn (raises where one of those calls raises)."""
    fn = resolve(spec.loop)
    out = []
    for i, t in enumerate(copies):
        a = [_per_tensor(x, i) for x in args]
        if spec.forms == ("ternary",):  # addcmul_(tensor1, tensor2, value=): a 1-d tensor holds one value per tensor
            value = a.pop()
            kwargs = {**kwargs, "value": value[i].item() if isinstance(value, torch.Tensor) else value}
        if spec.loop.startswith("torch."):  # out of place (torch.maximum): write back as in-place ops do
            a = [torch.tensor(x, dtype=torch.result_type(t, x)) if not isinstance(x, torch.Tensor) else x for x in a]
            result = fn(t, *a, **kwargs)
            if not torch.can_cast(result.dtype, t.dtype):
                raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output type {t.dtype}")
            out.append(t.copy_(result))
        else:
            out.append(fn(t, *a, **kwargs))
    return out


def _args_text(args, kwargs) -> str:
    def literal(a, name):
        if isinstance(a, list):
            return "[" + ", ".join(literal(x, f"{name}{j}") for j, x in enumerate(a)) + "]"
        if isinstance(a, BuiltTensor):
            return name
        if isinstance(a, torch.Tensor):
            return f"torch.tensor({a.tolist()}, dtype={a.dtype})"
        return scalar_literal(a)
    parts = [literal(a, f"arg{k}_") for k, a in enumerate(args)]
    return ", ".join(parts + [f"{k}={scalar_literal(v)}" for k, v in kwargs.items()])


def fresh(built: BuiltTensor) -> BuiltTensor:
    """A copy of ``built`` in a storage of its own, for running several ops on the same drawn inputs."""
    storage = built.storage.clone()
    lay = built.layout
    return BuiltTensor(storage.as_strided(lay.shape, lay.stride, lay.offset), storage, lay)


def fresh_arg(arg):
    if isinstance(arg, list):
        return [fresh_arg(a) for a in arg]
    return fresh(arg) if isinstance(arg, BuiltTensor) else arg


def check_foreach_call(spec, selves: list[BuiltTensor], args: list, kwargs: dict, device: str) -> None:
    """Check ``spec``'s foreach call on ``selves``; raise :class:`ConformanceFailure` on a breach."""
    __tracebackhide__ = True
    tensors = [b.tensor for b in selves]
    subject = f"{spec.name} on {len(tensors)} tensors, first {describe_tensor(tensors[0])}"
    operands = [x for a in args for x in (a if isinstance(a, list) else [a]) if isinstance(x, BuiltTensor)]
    before = {id(b.storage): b.storage.clone() for b in selves + operands}

    def repro(extra: str = "") -> str:
        lines = []
        for j, b in enumerate(selves):
            lines += tensor_lines(f"self{j}", b, before[id(b.storage)], device)
        for k, a in enumerate(args):
            for j, x in enumerate(a if isinstance(a, list) else [a]):
                if isinstance(x, BuiltTensor):
                    name = f"arg{k}_{j}" if isinstance(a, list) else f"arg{k}_"
                    lines += tensor_lines(name, x, before[id(x.storage)], device)
        selves_text = "[" + ", ".join(f"self{j}" for j in range(len(selves))) + "]"
        return snippet(*lines, f"result = {spec.name}({selves_text}, {_args_text(args, kwargs)})",
                       *([extra] if extra else []))

    copies = [t.detach().clone() for t in tensors]
    reference = call(loop_reference, spec, copies, [_clone_arg(a) for a in args], kwargs)
    metas = [(StorageMetadata.of(t), t._version) for t in tensors]
    outcome = call(targets.wrap(spec.inplace()), tensors, *[_real(a) for a in args], **kwargs)
    if reference.raised or outcome.raised:
        if reference.raised != outcome.raised:
            raise ConformanceFailure("error-parity", subject,
                                     f"the loop of {spec.loop} {reference.describe()}", outcome.describe(), repro())
        return
    if outcome.value is not None and (len(outcome.value) != len(tensors)
                                      or any(r is not t for r, t in zip(outcome.value, tensors))):
        raise ConformanceFailure("identity", subject, "the returned list holds the input tensors themselves",
                                 f"{len(outcome.value)} other objects", repro())
    for j, (built, (meta, version), expected) in enumerate(zip(selves, metas, reference.value)):
        where = f"{subject}, tensor {j} {describe_tensor(built.tensor)}"
        expect_metadata_kept(meta, built.tensor, where, repro)
        expect_version_bumped(version, built.tensor, where, repro)
        expect_outside_view_kept(built, before[id(built.storage)], where, repro)
        expect_views_see_write(built, where, repro)
        mask = mismatches(expected.to(built.tensor.dtype), built.tensor.detach())
        if mask is not None:
            exp, obs = explain(expected.to(built.tensor.dtype), built.tensor.detach(), mask)
            raise ConformanceFailure("twin-values", where, f"equal to the loop of {spec.loop}: {exp}", obs, repro())
    for x in operands:
        if not bitwise_equal(x.storage, before[id(x.storage)]):
            raise ConformanceFailure("outside-view", subject, "operands unchanged", "an operand changed", repro())


def _clone_arg(arg):
    if isinstance(arg, list):
        return [_clone_arg(a) for a in arg]
    if isinstance(arg, BuiltTensor):
        return arg.tensor.detach().clone()
    if isinstance(arg, torch.Tensor):
        return arg.clone()
    return arg
