"""Contract clauses shared by the family checks (random, metadata, init, foreach): one helper per clause.

Each helper raises :class:`ConformanceFailure` with the same check name as the generic pointwise check
(``identity``, ``storage``, ``version``, ``outside-view``, ``views-see-write``), so a report reads the
same for every family. ``repro`` is a zero-argument callable returning the reproduction snippet.
"""
from __future__ import annotations

import dataclasses

import torch

from strategies.tensors import BuiltTensor

from .. import targets
from ..capabilities import has
from .compare import bitwise_equal, comparable
from .failure import ConformanceFailure
from .inplace import StorageMetadata, call, check_twin_purity
from .repro import PREAMBLE, call_text, describe_tensor, reproduction, storage_literal


def expect_identity(result, self_t: torch.Tensor, subject: str, repro) -> None:
    if result is not self_t:
        observed = f"a tensor of shape {tuple(result.shape)}" if isinstance(result, torch.Tensor) else repr(result)
        raise ConformanceFailure("identity", subject, "returns self itself", f"returned {observed}", repro())


def expect_metadata_kept(before: StorageMetadata, self_t: torch.Tensor, subject: str, repro) -> None:
    after = StorageMetadata.of(self_t)
    if after != before:
        changed = [f.name for f in dataclasses.fields(before) if getattr(before, f.name) != getattr(after, f.name)]
        raise ConformanceFailure("storage", subject, f"{', '.join(changed)} unchanged",
                                 ", ".join(f"{n}: {getattr(before, n)} -> {getattr(after, n)}" for n in changed),
                                 repro())


def expect_version_bumped(before: int, self_t: torch.Tensor, subject: str, repro) -> None:
    if self_t._version <= before:
        raise ConformanceFailure("version", subject, f"version counter above {before}",
                                 f"version counter {self_t._version}", repro())


def _readable(built: BuiltTensor) -> bool:
    """Whether ``built``'s values can be read (not on ``meta``): the value clauses below apply only then."""
    return has(str(built.storage.device), "values")


def expect_outside_view_kept(built: BuiltTensor, storage_before: torch.Tensor, subject: str, repro) -> None:
    if not _readable(built):
        return
    outside = ~built.footprint().to(built.storage.device)
    if not bitwise_equal(built.storage[outside], storage_before[outside]):
        raise ConformanceFailure("outside-view", subject, "no element outside self's view changes",
                                 f"storage {comparable(storage_before).tolist()} became "
                                 f"{comparable(built.storage).tolist()}", repro())


def expect_views_see_write(built: BuiltTensor, subject: str, repro) -> None:
    if not _readable(built):
        return
    lay = built.layout
    reread = built.storage.as_strided(lay.shape, lay.stride, lay.offset)
    if not bitwise_equal(reread, built.tensor):
        raise ConformanceFailure("views-see-write", subject, "a second view of the storage reads self's values",
                                 f"it reads {comparable(reread).tolist()} while self reads "
                                 f"{comparable(built.tensor).tolist()}", repro())


def expect_unchanged(built: BuiltTensor, storage_before: torch.Tensor, reason: str, outcome: str, subject: str,
                     repro) -> None:
    """After a call that raised for a reason checked before any write: the whole storage is unchanged."""
    if _readable(built) and not bitwise_equal(built.storage, storage_before):
        raise ConformanceFailure("unchanged-on-error", subject, f"storage unchanged after raising ({reason})",
                                 f"storage changed; the call {outcome}", repro())


def tensor_lines(name: str, built: BuiltTensor, storage_before: torch.Tensor, device: str) -> list[str]:
    """Source rebuilding ``built`` (as it was before the call) under the name ``name``, in a storage NumPy
    owns where ``built``'s cannot grow."""
    lay = built.layout
    storage = storage_literal(storage_before, device)
    if not built.storage.untyped_storage().resizable():
        storage = f"torch.from_numpy({storage}.numpy().copy())  # a storage that cannot grow"
    return [f"{name}_storage = {storage}",
            f"{name} = {name}_storage.as_strided({lay.shape}, {lay.stride}, {lay.offset})"]


def snippet(*lines: str) -> str:
    return "\n".join([PREAMBLE, *lines])


def check_declared_no_op(case, reason: str) -> None:
    """A call the catalog declares a no-op (``reason``): where the twin raises it raises too; otherwise it
    returns ``self`` with its metadata and every storage element unchanged. The version clause is lifted
    (``reason`` says why). Raises :class:`ConformanceFailure`."""
    __tracebackhide__ = True
    self_t = case.self.tensor
    subject = f"{case.op.name} on self {describe_tensor(self_t)} (declared no-op: {reason})"
    before, meta = case.self.storage.clone(), StorageMetadata.of(self_t)
    args, kwargs = case.call_arguments()[1:]

    def repro() -> str:
        return reproduction(case, {id(case.self.storage): before}, f"result = {call_text(case, case.op.name)}")

    twin, _ = check_twin_purity(case, subject, repro)
    outcome = call(targets.wrap(case.op.inplace()), self_t, *args, **kwargs)
    if twin.raised != outcome.raised:
        raise ConformanceFailure("error-parity", subject, f"the same outcome as the twin, which {twin.describe()}",
                                 outcome.describe(), repro())
    if outcome.raised:
        return
    expect_identity(outcome.value, self_t, subject, repro)
    expect_metadata_kept(meta, self_t, subject, repro)
    if has(case.device, "values") and not bitwise_equal(case.self.storage, before):
        raise ConformanceFailure("outside-view", subject, "no storage element changes",
                                 f"storage {comparable(before).tolist()} became "
                                 f"{comparable(case.self.storage).tolist()}", repro())
