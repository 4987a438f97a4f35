"""Property 3: in-place on a leaf that requires grad raises outside ``no_grad`` and works inside it (storage,
identity and grad kept); in-place on a view of a leaf, on an output of ``unbind``/``split``/``chunk``, and on a
view created in ``no_grad`` but written with grad enabled raises."""
from __future__ import annotations

import torch

from conformance.checks.compare import mismatches
from conformance.checks.failure import ConformanceFailure

from .arguments import arguments, values
from .versions import float64_specs

CHECKS = {
    "leaf-inplace-raises": "in-place on a leaf that requires grad raises with grad enabled, leaving it unchanged",
    "leaf-inplace-no-grad": "under no_grad the leaf is written in place: same object, storage, grad; version bumped",
    "view-inplace-raises": "in-place with grad enabled on a view of a leaf, a multi-output view, or a view made "
                           "in no_grad raises",
}

VIEW_RULES = {
    "view of a leaf": ("view of a leaf Variable", lambda leaf: leaf.select(0, 0)),
    "transposed view of a leaf": ("view of a leaf Variable", lambda leaf: leaf.transpose(0, -1)),
    "unbind output": ("multiple views", lambda leaf: (leaf * 1).unbind(0)[-1]),
    "split output": ("multiple views", lambda leaf: (leaf * 1).split(1)[0]),
    "chunk output": ("multiple views", lambda leaf: (leaf * 1).chunk(2)[-1]),
    "view made in no_grad": ("created in no_grad mode", None),
}


def _raises(fn, fragment: str) -> BaseException | None:
    try:
        fn()
    except RuntimeError as error:
        error = error.with_traceback(None)  # no reference cycle through its frames (see checks.inplace.call)
        return error if fragment in str(error) else RuntimeError(f"other error: {error}")
    return None


def _subject(spec, what, leaf):
    return f"{spec.name} on {what}, float64 shape={tuple(leaf.shape)} on {leaf.device}"


def _view_made_in_no_grad(leaf):
    intermediate = leaf * 1
    with torch.no_grad():
        return intermediate[...]


def check_leaf_rules(spec, shape, device, gen) -> None:
    __tracebackhide__ = True
    data = values(shape, torch.float64, device, gen, spec.domain)
    args, kwargs = arguments(spec, shape, torch.float64, device, gen)
    inplace = spec.inplace()
    leaf = data.clone().requires_grad_()
    leaf.grad = values(shape, torch.float64, device, gen)
    grad, grad_values, version = leaf.grad, leaf.grad.clone(), leaf._version
    source = f"leaf = torch.randn({shape}, dtype=torch.float64, requires_grad=True)\nleaf.{spec.name}(...)"
    error = _raises(lambda: inplace(leaf, *args, **kwargs), "leaf Variable that requires grad")
    if not isinstance(error, RuntimeError) or "other error" in str(error) or not torch.equal(leaf.detach(), data) \
            or leaf._version != version:
        raise ConformanceFailure("leaf-inplace-raises", _subject(spec, "a leaf", leaf),
                                 "RuntimeError 'a leaf Variable that requires grad', leaf unchanged",
                                 f"{error or 'returned'}; version {version} -> {leaf._version}", source)
    expected = spec.out_of_place()(data, *args, **kwargs).to(torch.float64)
    ptr = leaf.untyped_storage().data_ptr()
    with torch.no_grad():
        result = inplace(leaf, *args, **kwargs)
    problems = [p for p, bad in [
        ("returned another object", result is not leaf),
        ("storage changed", leaf.untyped_storage().data_ptr() != ptr),
        ("version not increased", leaf._version <= version),
        ("no longer a leaf requiring grad", not (leaf.is_leaf and leaf.requires_grad)),
        ("grad replaced or changed", leaf.grad is not grad or not torch.equal(grad, grad_values)),
        ("values differ from the twin", mismatches(expected, leaf.detach()) is not None),
    ] if bad]
    if problems:
        raise ConformanceFailure("leaf-inplace-no-grad", _subject(spec, "a leaf under no_grad", leaf),
                                 "written in place, identity, storage and grad kept, version bumped",
                                 "; ".join(problems), source.replace("leaf.", "with torch.no_grad(): leaf."))
    for what, (fragment, make) in VIEW_RULES.items():
        base = data.clone().requires_grad_()
        view = (make or _view_made_in_no_grad)(base)
        error = _raises(lambda: inplace(view, *args, **kwargs), fragment)
        if error is None or "other error" in str(error):
            raise ConformanceFailure("view-inplace-raises", _subject(spec, what, base),
                                     f"RuntimeError mentioning {fragment!r}", str(error or "returned"),
                                     f"{source}  # on the {what}")


def check_leaves(shape, device, gen, start: int, count: int) -> int:
    """The leaf and view rules for ``count`` float64 catalog ops from ``start``; returns how many ran."""
    specs = float64_specs()
    for k in range(count):
        check_leaf_rules(specs[(start + k) % len(specs)], shape, device, gen)
    return count
