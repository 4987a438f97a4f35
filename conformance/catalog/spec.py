"""One catalog entry: what the kit knows about an in-place op, declared rather than coded."""
from __future__ import annotations

import dataclasses
import importlib
from typing import Callable

import torch

from strategies.values import Bounds

from .args import ArgDescriptor

DtypePredicate = Callable[[torch.dtype], bool]


@dataclasses.dataclass(frozen=True)
class Deviation:
    """A documented exception to the contract, with the one-line reason a reviewer can check.

    ``raises_when(self_dtype, twin_result_dtype)`` says when the in-place call raises by design although
    the out-of-place twin succeeds and its result could be cast to ``self``'s dtype.
    """

    reason: str
    raises_when: Callable[[torch.dtype, torch.dtype], bool]


KINDS = ("method", "aten", "function", "init", "dunder", "foreach", "out")
"""How a discovered in-place callable is reached (see ``inplace-conformance ops``)."""

CONTRACT_CHECKS = ("identity", "storage", "outside-view", "views-see-write", "twin-values", "error-parity",
                   "unchanged-on-error", "overlap", "version", "twin-purity")


def resolve(path: str) -> Callable:
    """``add_`` -> ``torch.Tensor.add_``; a dotted path (``torch.nn.functional.relu_``) -> that object.

    A path outside ``torch`` (``conformance.catalog.references.fill_diagonal``) names a kit-written
    reference, for in-place ops that have no out-of-place twin in torch.
    """
    if "." not in path:
        return getattr(torch.Tensor, path)
    module, _, attr = path.rpartition(".")
    if module.split(".")[0] != "torch":
        return getattr(importlib.import_module(module), attr)
    obj = torch
    for part in module.split(".")[1:]:
        obj = getattr(obj, part)
    return getattr(obj, attr)


@dataclasses.dataclass(frozen=True)
class OpSpec:
    """An in-place op, its out-of-place twin and how to draw its arguments.

    ``name`` is the ``torch.Tensor`` method (``add_``) or a dotted path for other callables
    (``torch.nn.functional.relu_``); ``twin`` likewise (``add``). ``domain`` bounds ``self``'s values for
    ops that reject some inputs outright (``mvlgamma_``). ``checks`` names the contract checks that run.
    """

    name: str
    twin: str
    family: str
    args: tuple[ArgDescriptor, ...] = ()
    domain: Bounds | None = None
    deviations: tuple[Deviation, ...] = ()
    notes: str = ""
    kind: str = "method"
    checks: tuple[str, ...] = CONTRACT_CHECKS

    @property
    def tensor_operands(self) -> tuple[str, ...]:
        """Names of the arguments that may be tensors (and so may alias ``self``)."""
        return tuple(a.name for a in self.args if getattr(a, "tensor", False))

    def inplace(self) -> Callable:
        """The in-place callable, looked up at call time so that a patched torch is what gets checked."""
        return resolve(self.name)

    def out_of_place(self) -> Callable:
        return resolve(self.twin)

    def declared_raise(self, self_dtype: torch.dtype, result_dtype: torch.dtype) -> str | None:
        """The reason the in-place call raises by design for these dtypes, or None."""
        for deviation in self.deviations:
            if deviation.raises_when(self_dtype, result_dtype):
                return deviation.reason
        return None
