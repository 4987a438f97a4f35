"""Property 2: every in-place op and assignment bumps the version counter; views, ``detach()`` and the base
share one counter; out-of-place twins never bump their inputs' counters."""
from __future__ import annotations

import functools

import torch

from conformance.catalog import FAMILIES
from conformance.checks.failure import ConformanceFailure

from .arguments import arguments, values

CHECKS = {
    "version-bump": "an in-place op or assignment increases the written tensor's version",
    "version-shared": "the base, its views and detach() see one version counter",
    "version-out-of-place": "an out-of-place op leaves its inputs' versions unchanged",
}

HANDLES = {
    "base": lambda t: t,
    "detach": lambda t: t.detach(),
    "view": lambda t: t.view(t.shape),
    "getitem": lambda t: t[...],
    "transpose": lambda t: t.transpose(0, -1),
    "select": lambda t: t.select(0, 0),
    "narrow": lambda t: t.narrow(-1, 0, 1),
    "unsqueeze": lambda t: t.unsqueeze(0),
}
"""Tensors that must share the base's counter (``self`` has at least one dimension)."""

ASSIGNMENTS = {
    "t[...] = v": lambda t: t.__setitem__(Ellipsis, 0.5),
    "t[0] = v": lambda t: t.__setitem__(0, 0.5),
    "t[all-False mask] = v": lambda t: t.__setitem__(torch.zeros_like(t, dtype=torch.bool), 0.5),
    "t += 0": lambda t: t.__iadd__(0),
    "t *= 1": lambda t: t.__imul__(1),
}


@functools.lru_cache(maxsize=None)
def float64_specs() -> tuple:
    """Pointwise specs whose in-place form runs on a plain float64 tensor."""
    out = []
    gen = torch.Generator().manual_seed(0)
    for spec in FAMILIES["pointwise"]:
        try:
            args, kwargs = arguments(spec, (2,), torch.float64, "cpu", gen)
            spec.inplace()(values((2,), torch.float64, "cpu", gen, spec.domain), *args, **kwargs)
        except (RuntimeError, TypeError, NotImplementedError):
            continue
        out.append(spec)
    return tuple(out)


def _fail(check, what, names, before, after):
    __tracebackhide__ = True
    raise ConformanceFailure(check, what, "versions " + ("unchanged" if check == "version-out-of-place" else
                                                         "increased"),
                             ", ".join(f"{n}: {b} -> {a}" for n, b, a in zip(names, before, after)),
                             f"t = torch.randn(3, 3, dtype=torch.float64)\nh = <{names[0]} of t>\n{what}")


def check_write(what: str, write, base: torch.Tensor, handle: str) -> bool:
    """Write through ``HANDLES[handle]`` of ``base``; every handle's version must increase. False: it raised."""
    __tracebackhide__ = True
    names = [handle] + [n for n in HANDLES if n != handle]
    tensors = [HANDLES[n](base) for n in names]
    before = [t._version for t in tensors]
    try:
        write(tensors[0])
    except (RuntimeError, TypeError, IndexError):  # not applicable to this handle (e.g. t[0] on a 0-d view)
        return False
    after = [t._version for t in tensors]
    if after[0] <= before[0]:
        _fail("version-bump", f"{what} through {handle}", names, before, after)
    if any(a <= b for a, b in zip(after, before)):
        _fail("version-shared", f"{what} through {handle}", names, before, after)
    return True


def check_pure(spec, base: torch.Tensor, args, kwargs) -> None:
    """The twin of ``spec`` on ``base`` and tensor arguments leaves every version unchanged."""
    __tracebackhide__ = True
    tensors = [base, *(a for a in [*args, *kwargs.values()] if isinstance(a, torch.Tensor))]
    before = [t._version for t in tensors]
    try:
        spec.out_of_place()(base, *args, **kwargs)
    except (RuntimeError, TypeError):
        return
    after = [t._version for t in tensors]
    if after != before:
        _fail("version-out-of-place", f"{spec.twin}(self, ...)", ["self", *map(str, range(len(tensors) - 1))],
              before, after)


def check_versions(shape, device, gen, start: int) -> int:
    """Every float64 catalog op and assignment through a rotating handle; returns how many writes ran."""
    __tracebackhide__ = True
    written = 0
    handles = list(HANDLES)
    for k, spec in enumerate(float64_specs()):
        base = values(shape, torch.float64, device, gen, spec.domain)
        args, kwargs = arguments(spec, shape, torch.float64, device, gen, tensors=bool(k % 2))
        check_pure(spec, base, args, kwargs)
        inplace = spec.inplace()
        written += check_write(f"{spec.name}(...)", lambda h: inplace(h, *args, **kwargs), base,
                               handles[(start + k) % len(handles)])
    for k, (what, write) in enumerate(ASSIGNMENTS.items()):
        written += check_write(what, write, values(shape, torch.float64, device, gen),
                               handles[(start + k) % len(handles)])
    return written
