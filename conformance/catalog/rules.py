"""Documented behaviours that change how a check judges a call, declared in catalog entries.

A :class:`Rule` is a :class:`~conformance.catalog.spec.Deviation` that never makes the call raise by
design; the family checks (:mod:`conformance.checks.index_ops`) read it from ``spec.deviations``.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import torch

from .spec import Deviation


def _never(self_dtype: torch.dtype, result_dtype: torch.dtype) -> bool:
    return False


@dataclasses.dataclass(frozen=True)
class Rule(Deviation):
    """A documented behaviour with its one-line reason; not a reason to raise."""

    raises_when: Callable[[torch.dtype, torch.dtype], bool] = _never


EXPANDED_WRITES_THROUGH = Rule(
    "on an expanded (stride-0) self it writes through (a deprecation warning at most) instead of raising "
    "the internal-overlap error; each shared memory location then holds the value of one element sharing it")
DUPLICATES_WRITE_ANY = Rule(
    "with duplicate indices and no accumulation, which of the values written to one element wins is "
    "undefined: any one of them is accepted")


def has(spec, rule: Rule) -> bool:
    return rule in spec.deviations
