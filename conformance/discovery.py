"""Discover every callable of the installed torch that writes into an existing tensor.

Nothing here is listed by hand: a newer torch with a new in-place op shows up in :func:`discover`, and the
catalog coverage test (``conformance/suite/test_catalog_covers_torch.py``) names it until the catalog checks
or excludes it. Sources: aten schemas (in-place overloads and ``out`` overloads), public ``torch.Tensor``
methods ending in ``_``, ``torch.*_``, ``torch.nn.functional.*_`` and functions taking ``inplace=``,
``torch.nn.init.*_``, in-place operator dunders and ``torch._foreach_*_``.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect

import torch

KIND_ORDER = ("method", "aten", "function", "init", "dunder", "foreach", "out")


@dataclasses.dataclass(frozen=True)
class Discovered:
    """One discovered callable.

    ``name`` spells it as the catalog does: a ``torch.Tensor`` method or dunder bare (``add_``,
    ``__iadd__``), other Python callables as dotted paths (``torch.nn.functional.relu``), aten overloads as
    ``aten::add_.Tensor`` and ``aten::add.out``. ``aten`` is the aten in-place op a Python callable reaches
    (``add_``), or the op an aten overload belongs to; it lets one checked callable account for the other
    entry points of the same kernel. ``note`` says how it is called when the name alone does not.
    """

    name: str
    kind: str
    twin: str | None
    aten: str | None = None
    note: str = ""


def _public(name: str) -> bool:
    return not name.startswith("_")


def _writes_first_tensor(schema) -> bool:
    """The first argument is ``Tensor(a!)``: a tensor (not a list) the op writes into."""
    args = schema.arguments
    if not args or str(args[0].type) != "Tensor":
        return False
    alias = args[0].alias_info
    return alias is not None and alias.is_write


def _overload_name(base: str, overload: str) -> str:
    return f"aten::{base}.{overload}" if overload else f"aten::{base}"


@functools.lru_cache(maxsize=1)
def _aten_schemas() -> tuple:
    return tuple(s for s in torch._C._jit_get_all_schemas() if s.name.startswith("aten::"))


@functools.lru_cache(maxsize=1)
def _aten_overloads() -> dict[str, frozenset[str]]:
    """aten op name (``add``) -> its overload names (``Tensor``, ``Scalar``, ``""`` for the default)."""
    table: dict[str, set[str]] = {}
    for schema in _aten_schemas():
        table.setdefault(schema.name.removeprefix("aten::"), set()).add(schema.overload_name)
    return {name: frozenset(overloads) for name, overloads in table.items()}


def _aten_twin(base: str, overload: str) -> str | None:
    """The functional overload with the same overload name, else the functional op, else None."""
    overloads = _aten_overloads().get(base)
    if overloads is None:
        return None
    return _overload_name(base, overload) if overload in overloads else f"aten::{base}"


def aten_inplace() -> list[Discovered]:
    """Public aten overloads named ``op_`` whose first argument is ``Tensor(a!)``."""
    found = []
    for schema in _aten_schemas():
        base = schema.name.removeprefix("aten::")
        if _public(base) and base.endswith("_") and _writes_first_tensor(schema):
            found.append(Discovered(_overload_name(base, schema.overload_name), "aten",
                                    _aten_twin(base[:-1], schema.overload_name), base))
    return found


def _inputs(schema) -> tuple[str, ...]:
    return tuple((a.name, str(a.type)) for a in schema.arguments if not a.is_out)


@functools.lru_cache(maxsize=1)
def _functional_by_inputs() -> dict[tuple, str]:
    """(op, argument names) -> the functional overload taking exactly those arguments."""
    table = {}
    for schema in _aten_schemas():
        if not any(a.is_out for a in schema.arguments):
            base = schema.name.removeprefix("aten::")
            table.setdefault((base, _inputs(schema)), _overload_name(base, schema.overload_name))
    return table


def _out_twin(base: str, schema) -> str | None:
    """The functional overload with the out overload's other arguments (``max.dim_max`` -> ``max.dim``),
    else the functional op."""
    return _functional_by_inputs().get((base, _inputs(schema))) or _aten_twin(base, "")


def aten_out() -> list[Discovered]:
    """Public aten overloads with ``out`` arguments (keyword ``Tensor(a!) out``; several for multi-output ops)."""
    found = []
    for schema in _aten_schemas():
        base = schema.name.removeprefix("aten::")
        if _public(base) and not base.endswith("_") and any(a.is_out for a in schema.arguments):
            found.append(Discovered(_overload_name(base, schema.overload_name), "out",
                                    _out_twin(base, schema), base))
    return found


def _aten_inplace_op(name: str) -> str | None:
    """``relu_`` when ``aten::relu_`` exists, else None."""
    name = name if name.endswith("_") else name + "_"
    return name if name in _aten_overloads() else None


def _callable_attr(obj, name: str) -> bool:
    return callable(getattr(obj, name, None))


def tensor_methods() -> list[Discovered]:
    """Public ``torch.Tensor`` methods ending in ``_``."""
    return [Discovered(n, "method", n[:-1] if _callable_attr(torch.Tensor, n[:-1]) else None, _aten_inplace_op(n))
            for n in dir(torch.Tensor) if _public(n) and n.endswith("_") and _callable_attr(torch.Tensor, n)]


def _module_functions(module, path: str, kind: str) -> list[Discovered]:
    return [Discovered(f"{path}.{n}", kind, f"{path}.{n[:-1]}" if _callable_attr(module, n[:-1]) else None,
                       _aten_inplace_op(n))
            for n in dir(module) if _public(n) and n.endswith("_") and _callable_attr(module, n)]


def torch_functions() -> list[Discovered]:
    """Public ``torch.*_`` functions (``torch.relu_``, ``torch.index_put_``)."""
    return _module_functions(torch, "torch", "function")


def _takes_inplace(fn) -> bool:
    try:
        return "inplace" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def functional() -> list[Discovered]:
    """``torch.nn.functional.*_`` and the functions that take ``inplace=`` (called with ``inplace=True``)."""
    F = torch.nn.functional
    found = _module_functions(F, "torch.nn.functional", "function")
    for n in dir(F):
        fn = getattr(F, n)
        if _public(n) and not n.endswith("_") and callable(fn) and _takes_inplace(fn):
            found.append(Discovered(f"torch.nn.functional.{n}", "function", f"torch.nn.functional.{n}",
                                    _aten_inplace_op(n), note="with inplace=True; twin with inplace=False"))
    return found


def init_functions() -> list[Discovered]:
    """``torch.nn.init.*_``: they fill a tensor in place and have no out-of-place twin."""
    init = torch.nn.init
    return [Discovered(f"torch.nn.init.{n}", "init", None)
            for n in dir(init) if _public(n) and n.endswith("_") and _callable_attr(init, n)]


def dunders() -> list[Discovered]:
    """In-place operator dunders ``__iop__`` of ``torch.Tensor`` whose binary ``__op__`` exists."""
    return [Discovered(n, "dunder", f"__{n[3:]}")
            for n in dir(torch.Tensor)
            if n.startswith("__i") and n.endswith("__") and _callable_attr(torch.Tensor, f"__{n[3:]}")
            and _callable_attr(torch.Tensor, n)]


def foreach() -> list[Discovered]:
    """``torch._foreach_*_``, checked against a loop of the single-tensor op."""
    return [Discovered(f"torch.{n}", "foreach", f"torch.{n[:-1]}" if _callable_attr(torch, n[:-1]) else None)
            for n in dir(torch) if n.startswith("_foreach_") and n.endswith("_") and _callable_attr(torch, n)]


def discover(include_out: bool = True) -> tuple[Discovered, ...]:
    """Every discovered callable, ordered by kind then name (duplicates across sources merged)."""
    sources = [tensor_methods, aten_inplace, torch_functions, functional, init_functions, dunders, foreach]
    if include_out:
        sources.append(aten_out)
    unique = {(d.kind, d.name): d for source in sources for d in source()}
    return tuple(sorted(unique.values(), key=lambda d: (KIND_ORDER.index(d.kind), d.name)))
