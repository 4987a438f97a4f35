"""Hypothesis profiles of the kit, registered by the pytest plugin (never at import).

``dev`` is quick and random, ``ci`` derandomized (the default when the ``CI`` environment variable is
true; it replays the example database read-only, see :mod:`conformance.example_db`), ``nightly`` runs many
more examples (within ``--time-budget``) and keeps failures in the example database.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from .example_db import default_database

PROFILES = {
    "dev": dict(max_examples=20),
    "ci": dict(max_examples=40, derandomize=True, database=None),
    "nightly": dict(max_examples=1000),
}
COMMON = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])


def register_profiles() -> None:
    """Register the kit's profiles. Hypothesis ships a ``ci`` profile of its own: the kit's extends it.
    ``dev`` and ``nightly`` keep Hypothesis' usual database even where Hypothesis loaded its ``ci`` profile
    (it does under ``CI=true``), which has none."""
    for name, values in PROFILES.items():
        try:
            parent = settings.get_profile(name)
        except Exception:  # noqa: BLE001 - InvalidArgument: no such profile yet
            parent = None
        keeps = values.get("derandomize") or (parent is not None and parent.database is not None)
        database = {} if keeps else {"database": default_database()}
        settings.register_profile(name, parent=parent, **COMMON, **database, **values)


def default_profile() -> str:
    """``ci`` under ``CI=true`` (or 1/yes), ``dev`` otherwise."""
    return "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"
