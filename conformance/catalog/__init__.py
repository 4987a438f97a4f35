"""What the kit knows about each in-place op: one small spec module per op family, indexed here."""
from __future__ import annotations

from . import pointwise
from .case import ALIASING_MODES, Case, cases
from .spec import Deviation, OpSpec

FAMILIES = {"pointwise": pointwise.SPECS}


def all_specs() -> tuple[OpSpec, ...]:
    return tuple(spec for specs in FAMILIES.values() for spec in specs)


def spec_named(name: str) -> OpSpec:
    """The catalog entry for ``name`` (``add_``); ``KeyError`` with the known names otherwise."""
    for spec in all_specs():
        if spec.name == name:
            return spec
    raise KeyError(f"unknown op {name!r}; the catalog knows {len(all_specs())} ops, "
                   "see `inplace-conformance ops`")


__all__ = ["ALIASING_MODES", "Case", "Deviation", "FAMILIES", "OpSpec", "all_specs", "cases", "spec_named"]
