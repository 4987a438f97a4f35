"""Family rules on top of :func:`check_inplace_call`, for the index ops and fills.

* Duplicate indices without accumulation (``DUPLICATES_WRITE_ANY``): an element written more than once
  must hold one of the values written to it; every other element must equal the twin.
* An expanded ``self`` (``EXPANDED_WRITES_THROUGH``): the op may write through instead of raising; each
  memory location must then hold the twin's value of one of the elements that share it (with
  ``accumulate=True``: its old value plus the increments of all of them).

:func:`check_structured_call` picks the check a case needs from the rules its catalog entry declares.
"""
from __future__ import annotations

import math

import torch

from conformance.catalog.rules import DUPLICATES_WRITE_ANY, EXPANDED_WRITES_THROUGH, has

from .. import capabilities, targets
from .compare import bitwise_equal, explain, mismatches
from .failure import ConformanceFailure
from .inplace import (Outcome, StorageMetadata, _check_outside_view, _copies, call, check_inplace_call,
                      overlap_with_self, twin_device)
from .repro import call_text, describe_tensor, reproduction


def _positions(shape) -> torch.Tensor:
    """Row-major positions of a tensor of ``shape`` (a 0-d shape as one element)."""
    return torch.arange(max(math.prod(shape), 1)).reshape(shape or (1,))


def _source_part(source: torch.Tensor, shape) -> torch.Tensor:
    """The leading ``shape`` block of ``source`` (the part a scatter reads)."""
    return source.reshape(source.shape or (1,))[tuple(slice(0, n) for n in shape)]


def written_values(case) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(targets, values)``: the row-major positions of ``self`` that the call writes, and what it writes
    there, for the ops that may write one element several times without accumulating; None for others
    (or when the call accumulates, writes a single scalar, or is invalid)."""
    self_t, args, kwargs = case.call_arguments(lambda t: t.detach().cpu())
    shape, name = tuple(self_t.shape), case.op.name
    try:
        if name == "index_put_" and not kwargs.get("accumulate", False):
            indices, values = args
            rest = shape[len(indices):]
            flat = torch.zeros((), dtype=torch.int64)
            for d, index in enumerate(torch.broadcast_tensors(*indices)):
                flat = flat * shape[d] + index % shape[d]
            targets = flat[:, None] * math.prod(rest) + torch.arange(math.prod(rest))
            return targets.reshape(-1), values.broadcast_to((flat.numel(), *rest)).reshape(-1)
        if name == "index_copy_":
            dim, index, source = args
            dim = dim % max(len(shape), 1)
            return _positions(shape).index_select(dim, index).reshape(-1), source.reshape(-1)
        if name == "scatter_" and isinstance(args[2], torch.Tensor):
            dim, index, source = args
            dim = dim % max(len(shape), 1)
            targets = _positions(shape).gather(dim, index.reshape(index.shape or (1,)))
            return targets.reshape(-1), _source_part(source, targets.shape).reshape(-1)
        if name == "put_" and not kwargs.get("accumulate", False):
            index, source = args
            return index.reshape(-1) % max(math.prod(shape), 1), source.reshape(-1)
    except (RuntimeError, IndexError, ValueError, ZeroDivisionError):
        return None  # an invalid call: the twin raises too, error parity decides
    return None


def ambiguous(targets: torch.Tensor) -> torch.Tensor:
    """The positions written more than once."""
    unique, counts = targets.unique(return_counts=True)
    return unique[counts > 1]


def _one_of(candidates: torch.Tensor, value: torch.Tensor) -> bool:
    """Whether ``value`` equals (within tolerance) one of ``candidates`` (a 1-d tensor of one dtype)."""
    candidates, value = _components(candidates), _components(value)
    mask = mismatches(candidates, value.expand(candidates.shape))
    return mask is None or not bool(mask.reshape(candidates.shape[0], -1).any(1).all())


def check_duplicate_writes(case, twin_value: torch.Tensor, writes, subject: str, repro) -> None:
    """Elements written several times hold one of their written values; all others equal the twin."""
    __tracebackhide__ = True
    self_t = case.self.tensor
    observed = self_t.detach().cpu().reshape(-1)
    expected = twin_value.to(self_t.dtype).cpu().reshape(-1)
    targets, values = writes
    values = values.to(self_t.dtype)
    several = ambiguous(targets)
    determined = torch.ones(observed.shape, dtype=torch.bool)
    determined[several] = False
    once_expected, once_observed = _components(expected[determined]), _components(observed[determined])
    mask = mismatches(once_expected, once_observed)
    if mask is not None:
        exp, obs = explain(once_expected, once_observed, mask)
        raise ConformanceFailure("twin-values", subject, f"elements written once equal {case.op.twin} on copies "
                                 f"(flat positions among those written once): {exp}", obs, repro())
    for position in several.tolist():
        candidates = values[targets == position]
        if not _one_of(candidates, observed[position]):
            raise ConformanceFailure(
                "twin-values", subject,
                f"flat position {position}, written {candidates.numel()} times, holds one of {candidates.tolist()}",
                f"it holds {observed[position].item()!r}", repro())


def _accumulated(old: torch.Tensor, results: torch.Tensor) -> torch.Tensor:
    """``old`` plus the increments that turned ``old`` into each of ``results`` (complex part by part):
    what a location shared by several accumulating elements ends up holding."""
    dtype = old.dtype
    wide = torch.float64 if dtype.is_floating_point or dtype.is_complex else torch.int64
    old, results = _components(old).to(wide), _components(results).to(wide)
    increments = torch.where(results == old, torch.zeros_like(results), results - old)
    total = old + increments.sum(0)
    return torch.view_as_complex(total) if dtype.is_complex else total


def check_write_through(case, subject: str, repro) -> Outcome:
    """An expanded ``self`` under ``EXPANDED_WRITES_THROUGH``: raise with the storage unchanged, or write
    through, keeping identity, storage, version and sentinels, each location holding a value the twin
    gives one of the elements sharing it."""
    __tracebackhide__ = True
    self_t, spec = case.self.tensor, case.op
    storage = case.self.storage
    snapshot = storage.clone()
    self_copy, args, kwargs = _copies(case, twin_device(case))
    twin = call(spec.out_of_place(), self_copy, *args, **kwargs)
    meta, version = StorageMetadata.of(self_t), self_t._version
    _, args, kwargs = case.call_arguments()
    outcome = call(targets.wrap(spec.inplace()), self_t, *args, **kwargs)
    readable = capabilities.has(case.device, "values")
    if outcome.raised:
        if not twin.raised and readable and not bitwise_equal(storage, snapshot):
            raise ConformanceFailure("unchanged-on-error", subject, "storage unchanged after raising",
                                     f"storage changed; the call {outcome.describe()}", repro())
        return outcome
    if twin.raised:
        raise ConformanceFailure("error-parity", subject, f"raises because the twin {twin.describe()}",
                                 "returned without error", repro())
    if outcome.value is not self_t:
        raise ConformanceFailure("identity", subject, "returns self itself", "returned another object", repro())
    if StorageMetadata.of(self_t) != meta:
        raise ConformanceFailure("storage", subject, f"storage metadata {meta}", f"{StorageMetadata.of(self_t)}",
                                 repro())
    if self_t._version <= version:
        raise ConformanceFailure("version", subject, f"version counter above {version}",
                                 f"version counter {self_t._version}", repro())
    if not readable:
        return outcome
    _check_outside_view(case, {id(storage): storage}, {id(storage): snapshot}, subject, repro)
    where = torch.arange(case.self.layout.storage_size).as_strided(
        case.self.layout.shape, case.self.layout.stride, case.self.layout.offset).reshape(-1)
    expected = twin.value.to(self_t.dtype).cpu().reshape(-1)
    stored = storage.detach().cpu()
    original = snapshot.cpu()
    accumulates = bool(case.kwargs.get("accumulate", False))
    for location in where.unique().tolist():
        candidates = expected[where == location]
        sharing = candidates.numel()
        if accumulates:
            candidates = _accumulated(original[location], candidates).reshape(1).to(self_t.dtype)
        if not _one_of(candidates, stored[location]):
            raise ConformanceFailure(
                "twin-values", subject,
                f"storage element {location}, shared by {sharing} elements of self, holds one of "
                f"{case.op.twin}'s values there: {candidates.tolist()}", f"it holds {stored[location].item()!r}",
                repro())
    return outcome


def _components(t: torch.Tensor) -> torch.Tensor:
    """Complex values as (real, imag) pairs, so that an infinite part does not hide a close finite one."""
    return torch.view_as_real(t.resolve_conj().contiguous()) if t.dtype.is_complex else t


def check_values(case, twin_value: torch.Tensor, subject: str, repro) -> None:
    """``self`` equals the twin, complex values compared part by part (``(-1e38 - inf j)`` and
    ``(-1.0000001e38 - inf j)`` agree within tolerance; ``isclose`` on the complex values says they do not)."""
    __tracebackhide__ = True
    self_t = case.self.tensor
    expected = _components(twin_value.to(self_t.dtype).cpu())
    observed = _components(self_t.detach().cpu())
    tolerances = case.tolerances
    if tolerances and self_t.dtype.is_complex:  # parts are compared with the complex dtype's tolerances
        tolerances = {observed.dtype: tolerances.get(self_t.dtype, tolerances[observed.dtype])}
    mask = mismatches(expected, observed, tolerances)
    if mask is not None:
        exp, obs = explain(expected, observed, mask)
        check = "overlap" if overlap_with_self(case) == "partial" else "twin-values"
        raise ConformanceFailure(check, subject, f"equal to {case.op.twin} on copies: {exp}", obs,
                                 repro("torch.testing.assert_close(result, expected.to(result.dtype), equal_nan=True)"))


def check_structured_call(case) -> Outcome:
    """The contract for one call of a structured op, with the rules its catalog entry declares."""
    __tracebackhide__ = True
    spec, self_t = case.op, case.self.tensor
    subject = f"{spec.name} on self {describe_tensor(self_t)}"
    storages = {id(b.storage): b.storage.clone() for b in [case.self] + [v for _, v in case.built_operands()]}

    def repro(last_line: str = "") -> str:
        text = f"expected = {call_text(case, spec.twin, 'self.clone()')}\nresult = {call_text(case, spec.name)}"
        return reproduction(case, storages, text + (f"\n{last_line}" if last_line else ""))

    if case.self.layout.has_internal_overlap and has(spec, EXPANDED_WRITES_THROUGH):
        return check_write_through(case, subject, repro)
    readable = capabilities.has(case.device, "values")
    writes = written_values(case) if has(spec, DUPLICATES_WRITE_ANY) and readable else None
    self_copy, args, kwargs = _copies(case, twin_device(case))
    twin = call(spec.out_of_place(), self_copy, *args, **kwargs)
    outcome = check_inplace_call(case, compare_values=False)
    if outcome.raised or twin.raised or not readable:
        return outcome
    if writes is not None and ambiguous(writes[0]).numel():
        check_duplicate_writes(case, twin.value, writes, subject, repro)
    else:
        check_values(case, twin.value, subject, repro)
    return outcome
