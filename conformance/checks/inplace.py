"""The contract of one in-place call (DESIGN.md points 1 to 4), checked on one drawn :class:`Case`.

Order of work: compute the twin on untouched copies (and check it leaves them alone), predict from the
twin and the inputs whether the in-place call must raise, snapshot every storage, make the call, then
check identity, storage, sentinels outside the view, other views, values and the version counter.
"""
from __future__ import annotations

import dataclasses

import torch

from strategies.dtypes import dtype_name
from strategies.tensors import BuiltTensor

from .. import targets
from ..capabilities import has
from .compare import bitwise_equal, comparable, explain, mismatches
from .failure import ConformanceFailure
from .repro import call_text, describe_tensor, reproduction


@dataclasses.dataclass(frozen=True)
class Expectation:
    """What the contract says of a call before it is made."""

    must_raise: tuple[str, ...]   # reasons the call must raise
    before_write: bool            # every reason is checked before any write, so nothing may change
    may_raise: bool               # an operand partially overlaps self: raising is allowed
    overlap: str | None           # "full", "partial" or None


@dataclasses.dataclass(frozen=True)
class Outcome:
    value: object = None
    error: BaseException | None = None

    @property
    def raised(self) -> bool:
        return self.error is not None

    def describe(self) -> str:
        if self.error is None:
            return "returned without error"
        return f"raised {type(self.error).__name__}: {str(self.error).splitlines()[0] if str(self.error) else ''}"


def call(fn, *args, **kwargs) -> Outcome:
    try:
        return Outcome(value=fn(*args, **kwargs))
    except (targets.Signal, ConformanceFailure):  # a target's own verdict on the call, not its outcome
        raise
    except Exception as error:  # noqa: BLE001 - any exception is an outcome to compare
        # Without its traceback: kept, its frames (the whole Hypothesis stack, through f_back) would hold the
        # caller's locals, which hold the error: a cycle per raising call, left to the garbage collector.
        return Outcome(error=error.with_traceback(None))


@dataclasses.dataclass(frozen=True)
class StorageMetadata:
    data_ptr: int | None  # None where data pointers identify nothing (``meta``: always 0)
    offset: int
    shape: tuple
    stride: tuple
    dtype: torch.dtype
    device: torch.device

    @classmethod
    def of(cls, t: torch.Tensor) -> "StorageMetadata":
        ptr = t.untyped_storage().data_ptr() if has(str(t.device), "data_ptr") else None
        return cls(ptr, t.storage_offset(), tuple(t.shape), t.stride(), t.dtype, t.device)


def overlap_with_self(case) -> str | None:
    """How the operands that share ``self``'s storage overlap it: "full", "partial" or None."""
    self_built: BuiltTensor = case.self
    footprint = None
    status = None
    for _, operand in case.built_operands():
        if operand.storage is not self_built.storage:
            continue
        if footprint is None:
            footprint = self_built.footprint()
        same_view = (operand.layout.stride, operand.layout.offset) == (self_built.layout.stride, self_built.layout.offset)
        if same_view:
            status = status or "full"
        elif bool((operand.footprint() & footprint).any()):
            status = "partial"
    return status


def expectation(case, twin: Outcome) -> Expectation:
    """Whether the in-place call must raise, from the twin's outcome and the inputs alone."""
    self_t = case.self.tensor
    reasons, before_write = [], True
    if case.self.layout.has_internal_overlap:
        reasons.append("self has internal overlap (more than one element shares a memory location)")
    if twin.raised:
        reasons.append(f"the out-of-place twin {twin.describe()}")
        before_write = False
    elif isinstance(twin.value, torch.Tensor):
        result = twin.value
        if tuple(result.shape) != tuple(self_t.shape):
            reasons.append(f"the broadcast shape {tuple(result.shape)} differs from self's shape {tuple(self_t.shape)}")
        if not torch.can_cast(result.dtype, self_t.dtype):
            reasons.append(f"result type {dtype_name(result.dtype)} can't be cast to {dtype_name(self_t.dtype)}")
        declared = case.op.declared_raise(self_t.dtype, result.dtype)
        if declared:
            reasons.append(f"declared: {declared}")
    overlap = overlap_with_self(case)
    return Expectation(tuple(reasons), before_write, overlap == "partial", overlap)


def twin_device(case) -> str:
    """Where the twin runs: the reference device, except for a tested device whose values cannot be read
    (``meta``): its inputs cannot be copied elsewhere, and only metadata and errors are compared there."""
    if case.reference_device and has(case.device, "values"):
        return case.reference_device
    return case.device


def _copies(case, device: str):
    """Untouched copies of every input: a fresh storage viewed with the same layout (strides, offset,
    zero strides included), so the twin sees what the in-place call sees, on ``device``."""
    copies: dict[int, torch.Tensor] = {}

    def copy(built: BuiltTensor) -> torch.Tensor:
        storage = copies.setdefault(id(built), built.storage.detach().clone().to(device))
        return storage.as_strided(built.layout.shape, built.layout.stride, built.layout.offset)
    self_copy = copy(case.self)
    args = [copy(a) if isinstance(a, BuiltTensor) else a for a in case.args]
    kwargs = {k: copy(v) if isinstance(v, BuiltTensor) else v for k, v in case.kwargs.items()}
    return self_copy, args, kwargs


def check_twin_purity(case, subject: str, repro) -> tuple[Outcome, torch.Tensor]:
    """Run the twin on copies; fail if it changed or bumped any of them. Returns the outcome and self's copy."""
    device = twin_device(case)
    self_copy, args, kwargs = _copies(case, device)
    inputs = [self_copy] + [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
    before = [(t.clone(), t._version) for t in inputs]
    outcome = call(case.op.out_of_place(), self_copy, *args, **kwargs)
    values = has(device, "values")
    for t, (snapshot, version) in zip(inputs, before):
        if t._version != version or (values and not bitwise_equal(t, snapshot)):
            raise ConformanceFailure(
                "twin-purity", subject, f"{case.op.twin} leaves its inputs alone (version {version})",
                f"an input changed (version {t._version}, values "
                f"{'unknown' if not values else 'same' if bitwise_equal(t, snapshot) else 'changed'})",
                repro())
    return outcome, self_copy


def check_inplace_call(case, *, tolerances=None, compare_values: bool = True) -> Outcome:
    """Check the whole contract for one call; raise :class:`ConformanceFailure` on the first breach.

    On a device whose values cannot be read (``meta``), the checks of values (unchanged storage after an
    error, sentinels, other views, twin values) do not apply; identity, metadata, errors and version do.
    """
    __tracebackhide__ = True
    spec, self_t = case.op, case.self.tensor
    values = has(case.device, "values")
    subject = f"{spec.name} on self {describe_tensor(self_t)}"
    storages = {id(b.storage): b.storage for _, b in [("self", case.self)] + case.built_operands()}
    before = {key: s.clone() for key, s in storages.items()}
    twin_text = call_text(case, spec.twin, "self.clone()", twin=True)

    def repro(last_line: str = "") -> str:
        text = f"expected = {twin_text}\nresult = {call_text(case, spec.name)}"
        return reproduction(case, before, text + (f"\n{last_line}" if last_line else ""))

    twin, _ = check_twin_purity(case, subject, repro)
    expect = expectation(case, twin)
    meta, version = StorageMetadata.of(self_t), self_t._version
    args, kwargs = case.call_arguments()[1:]
    outcome = call(targets.wrap(spec.inplace()), self_t, *args, **kwargs)
    if not outcome.raised and twin.raised and targets.current().name != "eager" and targets.kernel_lacks_dtype(
            twin.error):
        return outcome  # the target computes a dtype eager's kernels lack: no twin to compare with

    if outcome.raised:
        if not expect.must_raise and not expect.may_raise:
            raise ConformanceFailure("error-parity", subject,
                                     f"no error (the twin returned {_describe_value(twin.value)})",
                                     outcome.describe(), repro())
        if expect.before_write:
            if StorageMetadata.of(self_t) != meta:
                raise ConformanceFailure("unchanged-on-error", subject, "self's metadata unchanged after raising",
                                         f"{meta} became {StorageMetadata.of(self_t)}", repro())
            for key, storage in storages.items() if values else ():
                if not bitwise_equal(storage, before[key]):
                    reason = expect.must_raise[0] if expect.must_raise else "partial overlap"
                    raise ConformanceFailure("unchanged-on-error", subject,
                                             f"storage unchanged after raising ({reason})",
                                             f"storage changed; the call {outcome.describe()}", repro())
        return outcome

    if expect.must_raise:
        raise ConformanceFailure("error-parity", subject, f"raises because {expect.must_raise[0]}",
                                 "returned without error", repro())
    if outcome.value is not self_t:
        raise ConformanceFailure("identity", subject, "returns self itself",
                                 f"returned another object: {_describe_value(outcome.value)}", repro())
    after = StorageMetadata.of(self_t)
    if after != meta:
        changed = [f.name for f in dataclasses.fields(meta) if getattr(meta, f.name) != getattr(after, f.name)]
        raise ConformanceFailure("storage", subject, f"{', '.join(changed)} unchanged",
                                 ", ".join(f"{n}: {getattr(meta, n)} -> {getattr(after, n)}" for n in changed), repro())
    if self_t._version <= version:
        raise ConformanceFailure("version", subject, f"version counter above {version}",
                                 f"version counter {self_t._version}", repro())
    if not values:
        return outcome
    _check_outside_view(case, storages, before, subject, repro)
    reread = case.self.storage.as_strided(case.self.layout.shape, case.self.layout.stride, case.self.layout.offset)
    if not bitwise_equal(reread, self_t):
        raise ConformanceFailure("views-see-write", subject, "a second view of the storage reads self's values",
                                 f"it reads {comparable(reread).tolist()} while self reads {comparable(self_t).tolist()}", repro())
    if compare_values:
        _check_values(case, twin.value, expect, tolerances or case.tolerances, subject, repro)
    return outcome


def _check_outside_view(case, storages, before, subject, repro):
    footprint = case.self.footprint().to(case.self.storage.device)
    for key, storage in storages.items():
        if storage is case.self.storage:
            changed = not bitwise_equal(storage[~footprint], before[key][~footprint])
            where = "outside self's view"
        else:
            changed = not bitwise_equal(storage, before[key])
            where = "in an operand that does not share self's storage"
        if changed:
            raise ConformanceFailure("outside-view", subject, f"no element {where} changes",
                                     f"storage {comparable(before[key]).tolist()} became {comparable(storage).tolist()}", repro())


def _check_values(case, twin_value, expect, tolerances, subject, repro):
    self_t = case.self.tensor
    expected = twin_value.to(self_t.dtype)
    observed = self_t.detach().to(expected.device)
    mask = mismatches(expected, observed, tolerances)
    if mask is not None:
        exp, obs = explain(expected, observed, mask)
        check = "overlap" if expect.overlap == "partial" else "twin-values"
        raise ConformanceFailure(check, subject, f"equal to {case.op.twin} on copies: {exp}", obs,
                                 repro("torch.testing.assert_close(result, expected.to(result.dtype), equal_nan=True)"))


def _describe_value(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor {describe_tensor(value)}"
    return repr(value)
