"""One strategy object per argument tuple, for strategies built inside draws.

Hypothesis validates a strategy and computes its label and emptiness the first time it draws from that
object. A strategy built inside a draw (the layouts of the drawn shape, the arrays of the drawn dtype) is a
new object on every example, so that work was repeated per example: about a sixth of the pointwise suite's
time (see benchmarks/README.md). Strategies are immutable, so one object built from the same arguments
serves every draw.
"""
from __future__ import annotations

import functools

from hypothesis import strategies as st

CACHE_SIZE = 4096
"""Distinct argument tuples kept per factory: far more than the kit's small shapes and dtypes make."""


def _key(value):
    """A hashable key that tells apart what ``==`` does not: ``1``, ``1.0`` and ``True``; ``0.0`` and
    ``-0.0``. Other values key as themselves (a frozen dataclass by its fields); raises TypeError for what
    cannot be hashed (lists, arrays, mutable dataclasses)."""
    if isinstance(value, tuple):
        return (tuple, tuple(_key(v) for v in value))
    if isinstance(value, (float, complex)):
        return (type(value), repr(value))
    hash(value)
    return (type(value), value)


def reused(factory):
    """``factory`` returning the same strategy object for the same arguments.

    Arguments that cannot be keyed (a list of layout kinds, an array, a mutable object) build a fresh
    strategy as before.
    """
    cache: dict = {}

    @functools.wraps(factory)
    def strategy(*args, **kwargs):
        try:
            key = (_key(args), _key(tuple(sorted(kwargs.items()))))
        except TypeError:
            return factory(*args, **kwargs)
        try:
            return cache[key]
        except KeyError:
            if len(cache) >= CACHE_SIZE:
                cache.clear()
            built = cache[key] = factory(*args, **kwargs)
            return built

    strategy.cache = cache
    return strategy


sampled_from = reused(st.sampled_from)
"""``st.sampled_from`` reused for the same tuple of elements (Hypothesis builds a new object per call)."""

permutations = reused(st.permutations)
"""``st.permutations`` reused for the same sequence (pass a tuple or a ``range``)."""
