"""What the kit knows about each in-place op: one small spec module per op family, indexed here."""
from __future__ import annotations

from . import out_variants, pointwise
from . import creation, index_ops, linalg, scans
from . import metadata_ops, nn_ops, random_ops
from .case import ALIASING_MODES, Case, cases
from .spec import Deviation, OpSpec

FAMILIES = {"pointwise": pointwise.SPECS, "out": out_variants.SPECS}
FAMILIES.update(scans=scans.SPECS, linalg=linalg.SPECS, index=index_ops.SPECS, creation=creation.SPECS)

FAMILIES.update({"random": random_ops.SPECS, "metadata": metadata_ops.SPECS,
                 "nn.functional": nn_ops.ACTIVATIONS + nn_ops.INPLACE_FLAG + (nn_ops.FEATURE_DROPOUT, nn_ops.EMBEDDING_RENORM)
                 + nn_ops.MODULES,
                 "nn.init": nn_ops.INIT_SPECS, "dunder": nn_ops.DUNDERS, "foreach": nn_ops.FOREACH})


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
