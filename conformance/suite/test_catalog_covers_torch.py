"""The catalog accounts for every in-place callable the installed torch offers (``inplace-conformance ops``).

A newer torch with a new in-place op fails :func:`test_every_discovered_callable_is_checked_or_excluded`,
which names the op and what to add, so the kit never silently under-covers. ``out=`` overloads are
accounted by sampling (see ``conformance/catalog/out_variants.py``) and never fail here.
"""
from __future__ import annotations

import torch

from conformance import discovery, inventory

METHOD_TARGET = 0.95
"""Share of the public in-place ``torch.Tensor`` methods that must be checked, not merely excluded."""


def unaccounted_report(entries) -> str:
    """One line per callable the catalog neither checks nor excludes, saying what to add; '' if none."""
    missing = [e for e in entries if e.status == "unknown"]
    if not missing:
        return ""
    lines = [f"{len(missing)} in-place callables of torch {torch.__version__} are neither checked nor excluded "
             "by the catalog:"]
    lines += [f"  {e.kind} {e.name}: {e.reason}" for e in missing]
    return "\n".join(lines)


def test_every_discovered_callable_is_checked_or_excluded():
    report = unaccounted_report(inventory.build(discovery.discover()))
    assert not report, report


def test_no_callable_is_both_checked_and_excluded():
    specs = {s.name for s in inventory.catalog.all_specs()}
    both = sorted(specs & set(inventory.catalog_exclusions()))
    assert not both, f"catalog entries both checked (an OpSpec) and excluded (EXCLUDED): {', '.join(both)}"


def test_most_tensor_methods_are_checked():
    methods = [e for e in inventory.build(discovery.discover(include_out=False)) if e.kind == "method"]
    checked = [e for e in methods if e.status == "checked"]
    share = len(checked) / len(methods)
    assert share >= METHOD_TARGET, (
        f"{len(checked)} of {len(methods)} in-place torch.Tensor methods checked ({share:.1%}), below "
        f"{METHOD_TARGET:.0%}; not checked: {', '.join(e.name for e in methods if e.status != 'checked')}")
