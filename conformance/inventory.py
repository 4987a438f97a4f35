"""The inventory: every discovered callable joined with the catalog, as checked, excluded or unknown.

A callable is ``checked`` when a catalog :class:`~conformance.catalog.spec.OpSpec` names it, or when it is
another entry point of an aten in-place op that a checked callable reaches (``aten::add_.Tensor`` and
``torch.abs_`` are accounted by ``add_`` and ``abs_``: ``covered_by`` says so). It is ``excluded`` when a
catalog module's ``EXCLUDED`` dict gives a reason, ``unknown`` otherwise: the coverage test fails on those.
``out`` overloads are checked on a sample (``conformance/catalog/out_variants.py``); the others are listed
as excluded with the sampling reason.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil

from . import catalog, discovery
from .catalog import out_variants
from .discovery import KIND_ORDER, Discovered

STATUSES = ("checked", "excluded", "unknown")
KINDS = KIND_ORDER


@dataclasses.dataclass(frozen=True)
class Entry:
    """One line of the inventory (one object of ``inplace-conformance ops --json``)."""

    name: str
    kind: str
    twin: str | None
    status: str
    reason: str = ""
    checks: tuple[str, ...] = ()
    covered_by: str | None = None
    family: str | None = None
    note: str = ""

    def as_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["checks"] = list(self.checks)
        return data


@dataclasses.dataclass(frozen=True)
class Exclusion:
    reason: str
    module: str


def catalog_exclusions() -> dict[str, Exclusion]:
    """``EXCLUDED`` of every catalog module, merged: callable name -> reason and the module that says so."""
    found: dict[str, Exclusion] = {}
    for info in sorted(pkgutil.iter_modules(catalog.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{catalog.__name__}.{info.name}")
        for name, reason in getattr(module, "EXCLUDED", {}).items():
            found.setdefault(name, Exclusion(reason, module.__name__))
    return found


def _aten_base_of_spec(name: str) -> str | None:
    """``torch.ops.aten.gelu_`` (or ``.default``) -> ``gelu_``: a spec that calls an aten op directly."""
    if not name.startswith("torch.ops.aten."):
        return None
    return name.removeprefix("torch.ops.aten.").split(".")[0]


def todo(item: Discovered) -> str:
    """What to add to the catalog so that ``item`` is accounted for."""
    key = f"aten::{item.aten}" if item.kind == "aten" else item.name
    exclude = (f"or add {key!r}: '<one-line reason>' to EXCLUDED in its family module "
               "(conformance/catalog/excluded.py if it belongs to no family)")
    if item.kind == "aten":
        return (f"no checked callable reaches aten::{item.aten}: check one that does (a torch.Tensor method, "
                f"a torch function, or an OpSpec named 'torch.ops.aten.{item.aten}'), {exclude}")
    twin = f" (twin {item.twin!r})" if item.twin else ""
    return f"add an OpSpec named {item.name!r}{twin} to a family in conformance/catalog/ (FAMILIES), {exclude}"


def build(discovered=None, specs=None, exclusions=None) -> tuple[Entry, ...]:
    """The inventory of ``discovered`` (default: :func:`conformance.discovery.discover`) against the catalog."""
    discovered = discovery.discover() if discovered is None else discovered
    specs = catalog.all_specs() if specs is None else specs
    exclusions = catalog_exclusions() if exclusions is None else exclusions
    inplace_specs = {s.name: s for s in specs if s.kind != "out"}
    out_specs = {s.name.rsplit(".", 1)[-1]: s for s in specs if s.kind == "out"}
    aten_specs = {_aten_base_of_spec(n): s for n, s in inplace_specs.items() if _aten_base_of_spec(n)}

    # aten op -> the directly checked (then the excluded) Python callables that reach it, methods first.
    checked_backers: dict[str, list[Discovered]] = {}
    excluded_backers: dict[str, list[Discovered]] = {}
    for item in discovered:
        if item.kind in ("aten", "out") or not item.aten:
            continue
        if item.name in inplace_specs:
            checked_backers.setdefault(item.aten, []).append(item)
        elif item.name in exclusions:
            excluded_backers.setdefault(item.aten, []).append(item)

    def entry(item: Discovered, status: str, **fields) -> Entry:
        return Entry(item.name, item.kind, item.twin, status, note=item.note, **fields)

    def through(item: Discovered, spec, via: str) -> Entry:
        return entry(item, "checked", reason=f"accounted by {via}, which calls aten::{item.aten}",
                     checks=spec.checks, covered_by=via, family=spec.family)

    entries = []
    for item in discovered:
        if item.kind == "out":
            spec = out_specs.get(item.aten)
            if spec is not None:
                entries.append(entry(item, "checked", reason=f"accounted by {spec.name}(..., out=...)",
                                     checks=spec.checks, covered_by=spec.name, family=spec.family))
            else:
                entries.append(entry(item, "excluded", reason=out_variants.UNSAMPLED_REASON))
        elif item.name in inplace_specs:
            spec = inplace_specs[item.name]
            entries.append(entry(item, "checked", checks=spec.checks, family=spec.family))
        elif item.name in exclusions or (item.kind == "aten" and f"aten::{item.aten}" in exclusions):
            exclusion = exclusions.get(item.name) or exclusions[f"aten::{item.aten}"]
            entries.append(entry(item, "excluded", reason=exclusion.reason, family=exclusion.module))
        elif item.aten in aten_specs:
            spec = aten_specs[item.aten]
            entries.append(through(item, spec, spec.name))
        elif item.aten in checked_backers:
            via = checked_backers[item.aten][0]
            entries.append(through(item, inplace_specs[via.name], via.name))
        elif item.kind == "aten" and item.aten in excluded_backers:
            via = excluded_backers[item.aten][0]
            entries.append(entry(item, "excluded", covered_by=via.name,
                                 reason=f"reached only through {via.name}, excluded: {exclusions[via.name].reason}"))
        else:
            entries.append(entry(item, "unknown", reason=todo(item)))
    return tuple(entries)


def summary(entries) -> dict[str, dict[str, int]]:
    """Counts per kind and status: ``{"method": {"checked": 150, "excluded": 12, "unknown": 0}, ...}``."""
    counts = {kind: dict.fromkeys(STATUSES, 0) for kind in KINDS}
    for e in entries:
        counts[e.kind][e.status] += 1
    return {kind: c for kind, c in counts.items() if sum(c.values())}
