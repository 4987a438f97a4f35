"""The contract of a ``torch.nn.init.*_`` call on one drawn tensor (or ``nn.Parameter`` over it).

Initialisers have no twin: the value clauses are the initialiser's rule (``values-in-range``: a range,
orthogonality, sparsity) or its exact result (``twin-values``), and for random ones the same values for
the same generator seed (``seed``). Identity, storage, version and sentinels are the generic clauses; a
tensor rank the initialiser does not accept must raise ``ValueError`` and change nothing. On an
``nn.Parameter`` (which requires grad) the call must work, keep the Parameter and its ``requires_grad``.
"""
from __future__ import annotations

import torch

from strategies.tensors import BuiltTensor

from .. import targets
from .compare import comparable, mismatches
from .failure import ConformanceFailure
from .inplace import StorageMetadata, call
from .mutation import (expect_identity, expect_metadata_kept, expect_outside_view_kept, expect_unchanged,
                       expect_version_bumped, expect_views_see_write, snippet, tensor_lines)
from .random import check_same_seed, seeded
from .repro import describe_tensor

INIT_CHECKS = {
    "values-in-range": "an initialiser's values obey its rule (range, orthogonality, sparsity)",
    "parameter": "on an nn.Parameter the call keeps the Parameter and its requires_grad",
}


def _kwargs_text(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _copy(built: BuiltTensor) -> torch.Tensor:
    lay = built.layout
    return built.storage.clone().as_strided(lay.shape, lay.stride, lay.offset)


def check_init_call(spec, built: BuiltTensor, kwargs: dict, seed: int, device: str, *,
                    as_parameter: bool = False) -> None:
    """Check ``init(self, **kwargs[, generator=g])``; raise :class:`ConformanceFailure` on a breach."""
    __tracebackhide__ = True
    self_t = torch.nn.Parameter(built.tensor) if as_parameter else built.tensor
    subject = f"{spec.name}({_kwargs_text(kwargs)}) on {'an nn.Parameter over ' if as_parameter else ''}" \
              f"self {describe_tensor(self_t)}"
    before = built.storage.clone()
    generator_kw = {"generator": seeded(device, seed)} if spec.random else {}
    copies = (_copy(built), _copy(built))

    def repro(extra: str = "") -> str:
        wrap = "torch.nn.Parameter(self)" if as_parameter else "self"
        gen = f', generator=torch.Generator("{device}").manual_seed({seed})' if spec.random else ""
        sep = ", " if kwargs else ""
        return snippet(*tensor_lines("self", built, before, device),
                       f"result = {spec.name}({wrap}{sep}{_kwargs_text(kwargs)}{gen})", *([extra] if extra else []))

    meta, version = StorageMetadata.of(self_t), self_t._version
    outcome = call(targets.wrap(spec.inplace()), self_t, **kwargs, **generator_kw)
    if self_t.dim() not in spec.dims:
        if not isinstance(outcome.error, ValueError):
            raise ConformanceFailure("error-parity", subject, f"ValueError: {self_t.dim()}-d tensors are not "
                                     f"supported (only {spec.dims})", outcome.describe(), repro())
        expect_unchanged(built, before, "unsupported rank", outcome.describe(), subject, repro)
        return
    if outcome.raised:
        raise ConformanceFailure("error-parity", subject, "no error", outcome.describe(), repro())
    expect_identity(outcome.value, self_t, subject, repro)
    if as_parameter and not (isinstance(outcome.value, torch.nn.Parameter) and self_t.requires_grad):
        raise ConformanceFailure("parameter", subject, "the same nn.Parameter, still requiring grad",
                                 f"requires_grad {self_t.requires_grad}", repro())
    expect_metadata_kept(meta, self_t, subject, repro)
    expect_version_bumped(version, self_t, subject, repro)
    expect_outside_view_kept(built, before, subject, repro)
    expect_views_see_write(built, subject, repro)
    values = self_t.detach()
    shape = tuple(values.shape)
    if spec.exact is not None:
        expected = spec.exact(shape, values.dtype, kwargs).to(values.device)
        if mismatches(expected, values) is not None:
            raise ConformanceFailure("twin-values", subject, f"{comparable(expected).tolist()}",
                                     f"{comparable(values).tolist()}", repro())
    if spec.rule is not None:
        v = comparable(values).cpu().double()
        ok = spec.rule(v, kwargs, shape, values.dtype)
        if not bool(ok.all()):
            raise ConformanceFailure("values-in-range", subject,
                                     f"values obeying {spec.name}'s rule ({spec.notes or 'see catalog'})",
                                     f"{v[~ok][:5].tolist() if ok.shape == v.shape else v.tolist()}", repro())
    if spec.random:
        check_same_seed(spec, values, copies, kwargs, seed, device, subject, repro)
