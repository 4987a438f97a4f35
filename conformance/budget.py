"""The time budget of a run (``--time-budget``): parsing durations and the current test's deadline.

The nightly plugin sets the deadline of each test before it runs; :func:`conformance.properties.run`
reads it to stop running batches of examples. Outside pytest there is no deadline.
"""
from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")

_deadline: float | None = None


class BudgetError(ValueError):
    """A ``--time-budget`` value that is not a positive duration."""


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``30m``, ``2h``, ``1h30m``, ``1d`` or plain seconds (``5400``, ``2.5``)."""
    value = text.strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        parts = _DURATION.findall(value)
        if not parts or "".join(number + unit for number, unit in parts) != value:
            raise BudgetError(f"--time-budget {text!r} is not a duration: write 90s, 30m, 2h, 1h30m or "
                              f"plain seconds") from None
        seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if not seconds > 0 or seconds == float("inf"):
        raise BudgetError(f"--time-budget {text!r} must be a positive, finite duration")
    return seconds


def set_deadline(when: float | None) -> None:
    """The ``time.monotonic()`` by which the current test should stop drawing new batches (None: none)."""
    global _deadline
    _deadline = when


def deadline() -> float | None:
    return _deadline
