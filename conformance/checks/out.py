"""The ``out=`` contract of one drawn call: written into ``out``, equal to the functional op, alias-safe.

For an op ``f`` with an ``out`` overload and inputs drawn as a :class:`~conformance.catalog.case.Case`:
``f(*inputs, out=out)`` returns ``out`` itself, keeps its storage, strides and the sentinels around it when
its shape already matches, bumps its version, leaves the inputs alone and equals ``f(*inputs)``; an ``out``
of another shape is resized (with a ``UserWarning`` when it had elements, as torch documents); and when
``out`` is an input, a view of an input's storage, or another ``out`` of the same call, the call raises or
gives the values a fresh ``out`` gets. Multi-output ops (``torch.aminmax``) take ``out`` as a tuple.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

import torch

from strategies.tensors import BuiltTensor

from .. import targets
from .compare import bitwise_equal, comparable, explain, mismatches
from .failure import ConformanceFailure
from .inplace import Outcome, StorageMetadata, call
from .repro import describe_tensor, reproduction, scalar_literal, storage_literal

OUT_CHECKS = {
    "out-error-parity": "the out= call raises exactly when the functional op raises",
    "out-identity": "the call returns the out tensor(s) themselves",
    "out-storage": "an out of the result's shape keeps its storage, offset, strides, dtype and device",
    "out-outside-view": "nothing changes outside out's view, and the inputs do not change",
    "out-version": "the call bumps the version counter of every out",
    "out-values": "out equals the functional op on the same inputs",
    "out-resize": "an out of another shape is resized to the result, with a warning if it had elements",
    "out-alias": "with out an input, a view of an input, or another out: raise, or the fresh-out values",
}
ALIAS_KINDS = ("input", "input view", "same out")


@dataclasses.dataclass(frozen=True)
class Alias:
    """How the aliased call builds its ``out``: ``kind`` (see ``ALIAS_KINDS``), which input or out, and
    for an input view the storage offset of ``out`` inside that input's storage."""

    kind: str
    target: str | int
    index: int = 0
    offset: int = 0
    other: int = 1


def results(value) -> tuple[torch.Tensor, ...]:
    """A functional result as a tuple of tensors (one per ``out``)."""
    return tuple(value) if isinstance(value, tuple) else (value,)


def _out_argument(outs):
    return tuple(outs) if len(outs) > 1 else outs[0]


def _call_text(case, out_text: str | None) -> str:
    def spelled(name, value):
        return name if isinstance(value, BuiltTensor) else scalar_literal(value)
    parts = ["self"] + [spelled(n, v) for n, v in zip(case.arg_names, case.args)]
    parts += [f"{k}={spelled(k, v)}" for k, v in case.kwargs.items()]
    if out_text:
        parts.append(f"out={out_text}")
    return f"{case.op.name}({', '.join(parts)})"


class _Context:
    """The subject line and reproduction of one case, shared by every sub-check."""

    def __init__(self, case):
        self.case = case
        self.subject = f"{case.op.name}(..., out=...) on self {describe_tensor(case.self.tensor)}"
        storages = [case.self] + [b for _, b in case.built_operands()]
        self.before = {id(b.storage): b.storage.clone() for b in storages}

    def repro(self, out_lines: list[str], out_text: str) -> str:
        text = "\n".join(out_lines + [f"expected = {_call_text(self.case, None)}",
                                      f"result = {_call_text(self.case, out_text)}"])
        return reproduction(self.case, self.before, text)

    def fail(self, check, expected, observed, out_lines=(), out_text="out"):
        raise ConformanceFailure(check, self.subject, expected, observed, self.repro(list(out_lines), out_text))


def functional(case) -> Outcome:
    """The functional op on copies of the inputs (the reference every ``out`` is compared with)."""
    self_t, args, kwargs = case.call_arguments(lambda t: t.detach().clone())
    return call(case.op.out_of_place(), self_t, *args, **kwargs)


def _call_with_out(case, outs, inputs=None):
    self_t, args, kwargs = inputs or case.call_arguments()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = call(targets.wrap(case.op.inplace()), self_t, *args, **kwargs, out=_out_argument(outs))
    return outcome, [w for w in caught if issubclass(w.category, UserWarning)]


def _out_lines(outs: list[BuiltTensor], storages: list[torch.Tensor], device: str) -> tuple[list[str], str]:
    lines = []
    for i, (built, storage) in enumerate(zip(outs, storages)):
        lay = built.layout
        lines.append(f"out{i}_storage = {storage_literal(storage, device)}")
        lines.append(f"out{i} = out{i}_storage.as_strided({lay.shape}, {lay.stride}, {lay.offset})")
    names = [f"out{i}" for i in range(len(outs))]
    return lines, (f"({', '.join(names)})" if len(names) > 1 else names[0])


def _compare(ctx, check, expected: torch.Tensor, observed: torch.Tensor, lines, out_text, what="out"):
    if tuple(observed.shape) != tuple(expected.shape) or observed.dtype != expected.dtype:
        ctx.fail(check, f"{what} of shape {tuple(expected.shape)} and dtype {expected.dtype}",
                 f"shape {tuple(observed.shape)}, dtype {observed.dtype}", lines, out_text)
    mask = mismatches(expected, observed.detach())
    if mask is not None:
        exp, obs = explain(expected, observed.detach(), mask)
        ctx.fail(check, f"{what} equal to the functional op: {exp}", obs, lines, out_text)


def check_out_call(case, expected: Outcome, outs: list[BuiltTensor]) -> Outcome:
    """``out`` tensors of the result's shapes and dtypes (drawn layouts, sentinels around them).

    An ``out`` with internal overlap (an expanded layout) aliases itself: the call may raise, and if it
    does not, its values must still be the functional op's (checked as ``out-alias``).
    """
    __tracebackhide__ = True
    ctx = _Context(case)
    out_storages_before = [b.storage.clone() for b in outs]
    lines, out_text = _out_lines(outs, out_storages_before, case.device)
    tensors = [b.tensor for b in outs]
    metas, versions = [StorageMetadata.of(t) for t in tensors], [t._version for t in tensors]
    outcome, _ = _call_with_out(case, tensors)
    overlap = any(b.layout.has_internal_overlap for b in outs)
    if expected.raised or outcome.raised:
        if expected.raised != outcome.raised and not overlap:
            ctx.fail("out-error-parity", f"the functional op {expected.describe()}",
                     f"the out= call {outcome.describe()}", lines, out_text)
        return outcome
    returned = results(outcome.value)
    if len(returned) != len(tensors) or any(r is not t for r, t in zip(returned, tensors)):
        ctx.fail("out-identity", "the out tensor(s) themselves",
                 f"{len(returned)} other object(s): {', '.join(type(r).__name__ for r in returned)}", lines, out_text)
    for i, (t, meta, version) in enumerate(zip(tensors, metas, versions)):
        after = StorageMetadata.of(t)
        if after != meta:
            changed = [f.name for f in dataclasses.fields(meta) if getattr(meta, f.name) != getattr(after, f.name)]
            ctx.fail("out-storage", f"out{i}: {', '.join(changed)} unchanged",
                     ", ".join(f"{n}: {getattr(meta, n)} -> {getattr(after, n)}" for n in changed), lines, out_text)
        if t._version <= version:
            ctx.fail("out-version", f"out{i}'s version counter above {version}", f"version {t._version}",
                     lines, out_text)
    for i, (built, before) in enumerate(zip(outs, out_storages_before)):
        outside = ~built.footprint().to(built.storage.device)
        if not bitwise_equal(built.storage[outside], before[outside]):
            ctx.fail("out-outside-view", f"no element of out{i}'s storage outside its view changes",
                     f"storage {comparable(before).tolist()} became {comparable(built.storage).tolist()}",
                     lines, out_text)
    for name, built in [("self", case.self)] + case.built_operands():
        if not bitwise_equal(built.storage, ctx.before[id(built.storage)]):
            ctx.fail("out-outside-view", f"input {name} unchanged", "it changed", lines, out_text)
    for i, (e, t) in enumerate(zip(results(expected.value), tensors)):
        _compare(ctx, "out-alias" if overlap else "out-values", e, t, lines, out_text, f"out{i}")
    return outcome


def check_out_resize(case, expected: Outcome, shape: tuple[int, ...]) -> None:
    """``out`` of ``shape`` (not the result's) is resized: a warning when it had elements, none when empty."""
    __tracebackhide__ = True
    if expected.raised:
        return
    ctx = _Context(case)
    wanted = results(expected.value)
    outs = [torch.zeros(shape, dtype=e.dtype, device=case.device) for e in wanted]
    lines = [f"out{i} = torch.zeros({shape}, dtype={e.dtype})" for i, e in enumerate(wanted)]
    out_text = f"({', '.join(f'out{i}' for i in range(len(outs)))})" if len(outs) > 1 else "out0"
    needs_resize = any(tuple(o.shape) != tuple(e.shape) for o, e in zip(outs, wanted))
    outcome, caught = _call_with_out(case, outs)
    if outcome.raised:
        ctx.fail("out-resize", "the call resizes out and succeeds", f"the call {outcome.describe()}", lines, out_text)
    for i, (e, o) in enumerate(zip(wanted, outs)):
        if tuple(o.shape) != tuple(e.shape):
            ctx.fail("out-resize", f"out{i} resized to {tuple(e.shape)}", f"shape {tuple(o.shape)}", lines, out_text)
        _compare(ctx, "out-values", e, o, lines, out_text, f"out{i}")
    if needs_resize and math.prod(shape) > 0 and not any("resized" in str(w.message) for w in caught):
        ctx.fail("out-resize", "a UserWarning that an out with elements was resized",
                 f"warnings: {[str(w.message)[:80] for w in caught]}", lines, out_text)


def alias_candidates(case, expected: Outcome, mode: str = "dense") -> list[Alias]:
    """The aliased ``out`` arrangements this case allows, without offsets.

    ``mode="dense"``: ``out`` is an input of the result's dtype and shape, or a view of a dense input's
    storage (torch can see such overlaps). ``mode="hard"``: a view of a non-dense input's storage, or the
    same tensor as another ``out`` of one dtype.
    """
    if expected.raised:
        return []
    wanted = results(expected.value)
    found = []
    for i, e in enumerate(wanted):
        for name, built in [("self", case.self)] + case.built_operands():
            if built.tensor.dtype != e.dtype:
                continue
            dense = _dense(built)
            if mode == "dense" and dense and tuple(built.tensor.shape) == tuple(e.shape):
                found.append(Alias("input", name, i))
            if e.numel() and built.layout.storage_size >= e.numel() and dense == (mode == "dense"):
                found.append(Alias("input view", name, i))
        if mode == "hard":
            found += [Alias("same out", i, i, other=j) for j in range(i + 1, len(wanted)) if wanted[j].dtype == e.dtype]
    return found


def _dense(built: BuiltTensor) -> bool:
    """No gaps and no repeats: the view covers one contiguous run of its storage (torch sees its overlaps)."""
    where = built.footprint().nonzero()
    numel = built.tensor.numel()
    return numel == 0 or (len(where) == numel and int(where.max() - where.min()) + 1 == numel)


def _fresh_inputs(case):
    """Copies of every input storage, viewed as the case's tensors (aliases between inputs kept)."""
    copies: dict[int, torch.Tensor] = {}

    def rebuild(built: BuiltTensor) -> torch.Tensor:
        storage = copies.setdefault(id(built.storage), built.storage.clone())
        return storage.as_strided(built.layout.shape, built.layout.stride, built.layout.offset)
    named = {name: rebuild(b) for name, b in [("self", case.self)] + case.built_operands()}
    args = [named[n] if isinstance(v, BuiltTensor) else v for n, v in zip(case.arg_names, case.args)]
    kwargs = {k: named[k] if isinstance(v, BuiltTensor) else v for k, v in case.kwargs.items()}
    storages = {name: copies[id(b.storage)] for name, b in [("self", case.self)] + case.built_operands()}
    return (named["self"], args, kwargs), named, storages


def check_out_alias(case, expected: Outcome, alias: Alias) -> None:
    """``out`` aliasing an input or another ``out``: the call raises or gives the fresh-out values."""
    __tracebackhide__ = True
    ctx = _Context(case)
    wanted = results(expected.value)
    inputs, named, storages = _fresh_inputs(case)
    outs = [torch.empty(e.shape, dtype=e.dtype, device=case.device) for e in wanted]
    lines = [f"out{i} = torch.empty({tuple(e.shape)}, dtype={e.dtype})" for i, e in enumerate(wanted)]
    if alias.kind == "input":
        outs[alias.index] = named[alias.target]
        lines[alias.index] = f"out{alias.index} = {alias.target}"
    elif alias.kind == "input view":
        shape = tuple(wanted[alias.index].shape)
        stride = tuple(int(s) for s in torch.empty(shape).stride())
        outs[alias.index] = storages[alias.target].as_strided(shape, stride, alias.offset)
        lines[alias.index] = (f"out{alias.index} = {alias.target}_storage.as_strided({shape}, {stride}, "
                              f"{alias.offset})  # a view of {alias.target}'s storage")
    else:
        outs[alias.other] = outs[alias.index]
        lines[alias.other] = f"out{alias.other} = out{alias.index}"
    out_text = f"({', '.join(f'out{i}' for i in range(len(outs)))})" if len(outs) > 1 else "out0"
    outcome, _ = _call_with_out(case, outs, inputs)
    if outcome.raised:
        return
    for i, e in enumerate(wanted):
        _compare(ctx, "out-alias", e, outs[i], lines, out_text, f"out{i} ({alias.kind} alias)")
