"""Hypothesis profiles of the kit, registered by the pytest plugin (never at import).

``dev`` is quick and random, ``ci`` derandomized (the default when the ``CI`` environment variable is
true), ``nightly`` runs many more examples and keeps failures in the example database.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILES = {
    "dev": dict(max_examples=20),
    "ci": dict(max_examples=40, derandomize=True, database=None),
    "nightly": dict(max_examples=1000),
}
COMMON = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])


def register_profiles() -> None:
    """Register the kit's profiles. Hypothesis ships a ``ci`` profile of its own: the kit's extends it."""
    for name, values in PROFILES.items():
        try:
            parent = settings.get_profile(name)
        except Exception:  # noqa: BLE001 - InvalidArgument: no such profile yet
            parent = None
        settings.register_profile(name, parent=parent, **COMMON, **values)


def default_profile() -> str:
    """``ci`` under ``CI=true`` (or 1/yes), ``dev`` otherwise."""
    return "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"
