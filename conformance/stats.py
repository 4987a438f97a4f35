"""How many examples the kit's properties ran in the current test: read by the report, reset per test."""
from __future__ import annotations

_examples = 0


def reset() -> None:
    global _examples
    _examples = 0


def count_example() -> None:
    global _examples
    _examples += 1


def examples() -> int:
    return _examples
