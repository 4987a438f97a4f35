"""Indexing assignment (``t[key] = value``) and the functional forms it lowers to, against a NumPy oracle.

The oracle is NumPy on a copy of ``self``'s whole storage: ``ids[key]`` (``ids`` numbers every storage
element, viewed with ``self``'s shape, strides and offset) names the storage locations ``a[key]``
writes, and ``a[key] = v`` becomes ``buf[ids[key]] = v`` (``np.add.at`` for ``accumulate=True``). Working
on the storage rather than a dense copy keeps sentinels outside the view and zero-stride (expanded)
``self`` exact. Torch's documented departures from NumPy are stated as rules in :func:`expectation`.

A call that raises after writing part of its result where the contract allows it (an out-of-bounds index
met inside the kernel) is not a failure but a :class:`Finding`, returned for the suite to report.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch

from strategies.dtypes import dtype_name
from strategies.indices import AssignedValue, IndexKey, Mask
from strategies.shapes import broadcast_shape
from strategies.tensors import BuiltTensor

from .. import targets
from .failure import ConformanceFailure
from .inplace import StorageMetadata, call
from .repro import describe_tensor, reproduction, scalar_literal

FORMS = ("setitem", "index_put", "masked_fill", "masked_scatter", "select_fill", "slice_copy")
"""``t[key] = v`` and the calls it lowers to: ``index_put_`` (accumulate False/True), ``masked_fill_``,
``masked_scatter_``, ``select(dim, i).fill_(v)`` and ``slice(dim, start, stop, step).copy_(v)``."""

SETITEM_CHECKS = {
    "assigned-values": "every position the key names holds the assigned value (one of them, for duplicates)",
    "unassigned-unchanged": "every position of self the key does not name keeps its value",
}
"""Checks of this module beyond :data:`~conformance.checks.failure.CHECKS` (whose names it also uses)."""

_VIA_FLOAT32 = (torch.bfloat16, torch.float8_e4m3fn, torch.float8_e5m2)


FINDING_KINDS = {
    "partial-write-before-error": "the call raised after writing part of its result (an in-kernel error: an "
                                  "out-of-bounds index, a short masked_scatter_ source)",
    "unchecked-index": "an out-of-bounds index was accepted because the indexed result is empty (NumPy raises)",
}


@dataclasses.dataclass(frozen=True)
class Finding:
    """An exception-safety finding: not a contract failure, reported next to the verdict."""

    kind: str          # one of FINDING_KINDS
    form: str
    subject: str
    observed: str
    reproduction: str

    def __str__(self) -> str:
        return (f"[{self.kind}] {self.form} on {self.subject}: {self.observed}\n"
                + "\n".join("    " + line for line in self.reproduction.splitlines()))


@dataclasses.dataclass(eq=False)
class Assignment:
    """One drawn assignment: the form, ``self``, the positions written (``key``) and the value.

    ``key`` is the key on ``self`` whose positions the call writes, for every form: the drawn key of
    ``t[key] = v``, the index tensors of ``index_put_``, the (broadcast) mask of the masked forms, or
    ``(:, ..., i)`` / ``(:, ..., slice)`` for ``select``/``slice``. ``mask`` keeps the mask as passed.
    """

    form: str
    device: str
    self: BuiltTensor
    key: IndexKey
    value: AssignedValue
    accumulate: bool = False
    dim: int = 0
    mask: np.ndarray | None = None

    # -- how the call is made and spelled -----------------------------------------------------------
    def apply(self, t: torch.Tensor):
        """Make the call on ``t``; returns (what it returned, what it must return) for the identity check."""
        value = self.value.torch()
        if self.form == "setitem":  # the mutating call runs on the --target (conformance.targets)
            targets.wrap(_setitem)(t, self.key.torch(self.device), value)
            return None, None
        if self.form == "index_put":
            return targets.wrap(torch.Tensor.index_put_)(t, self.key.torch(self.device), value,
                                                         accumulate=self.accumulate), t
        if self.form in ("masked_fill", "masked_scatter"):
            mask = torch.from_numpy(self.mask.copy()).to(self.device)
            return targets.wrap(getattr(torch.Tensor, self.form + "_"))(t, mask, value), t
        index = self.key.components[self.dim]
        if self.form == "select_fill":
            view = t.select(self.dim, index)
            return targets.wrap(torch.Tensor.fill_)(view, value), view
        view = torch.ops.aten.slice.Tensor(t, self.dim, index.start, index.stop, index.step or 1)
        return targets.wrap(torch.Tensor.copy_)(view, value), view

    def call_text(self) -> str:
        value = "value" if self.value.is_tensor else scalar_literal(self.value.value)
        if self.form == "setitem":
            return f"self[{self.key.text()}] = {value}"
        if self.form == "index_put":
            return f"self.index_put_(({self.key.text()}), {value}, accumulate={self.accumulate})"
        if self.form in ("masked_fill", "masked_scatter"):
            return f"self.{self.form}_(torch.tensor({self.mask.tolist()!r}), {value})"
        index = self.key.components[self.dim]
        if self.form == "select_fill":
            return f"self.select({self.dim}, {index}).fill_({value})"
        return (f"torch.ops.aten.slice.Tensor(self, {self.dim}, {index.start}, {index.stop}, "
                f"{index.step or 1}).copy_({value})")

    def named_inputs(self) -> list[tuple[str, object]]:
        """For :func:`~conformance.checks.repro.reproduction`: self and a tensor value."""
        return [("self", self.self)] + ([("value", self.value.value)] if self.value.is_tensor else [])

    def __repr__(self) -> str:
        lay = self.self.layout
        head = f"<{dtype_name(self.self.tensor.dtype)} {lay.kind} shape={lay.shape} stride={lay.stride} offset={lay.offset}>"
        return f"{head}: {self.call_text()} with value {self.value!r}"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


# -- NumPy views of torch data ----------------------------------------------------------------------

def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A NumPy copy of ``t`` (bfloat16 and float8 through float32, which holds them exactly)."""
    t = t.detach().cpu()
    return (t.to(torch.float32) if t.dtype in _VIA_FLOAT32 else t).numpy().copy()


def storage_ids(layout) -> np.ndarray:
    """``self``'s logical shape, each element holding the storage location it lives at."""
    ids = np.arange(layout.storage_size, dtype=np.int64)
    return np.lib.stride_tricks.as_strided(ids[layout.offset:] if layout.storage_size > layout.offset else ids,
                                           layout.shape, [s * ids.itemsize for s in layout.stride])


def as_value(value: AssignedValue, dtype: torch.dtype) -> np.ndarray:
    """The value as ``self``'s dtype would hold it, read before the call (torch's cast, in NumPy)."""
    if value.is_tensor:
        return to_numpy(value.value.tensor.detach().clone().to(dtype))
    v = value.value
    wide = torch.complex128 if isinstance(v, complex) else torch.float64 if isinstance(v, float) else torch.int64
    return to_numpy(torch.tensor(v, dtype=wide).to(dtype))


def same(a: np.ndarray, b: np.ndarray, signed_zeros: bool = True) -> np.ndarray:
    """Element-wise equality, NaN equal to NaN and (for exact copies) -0.0 different from 0.0."""
    if a.dtype.kind == "c":
        return same(a.real, b.real, signed_zeros) & same(a.imag, b.imag, signed_zeros)
    if a.dtype.kind != "f":
        return a == b
    both_nan = np.isnan(a) & np.isnan(b)  # any NaN equals any NaN (sign and payload may change on the way)
    eq = (a == b) | both_nan
    return eq & ((np.signbit(a) == np.signbit(b)) | both_nan) if signed_zeros else eq


# -- what the contract says before the call ---------------------------------------------------------

@dataclasses.dataclass
class Expectation:
    must_raise: tuple = ()            # error types one of which the call must raise
    reason: str = ""
    may_raise: tuple = ()             # error types the call may raise instead of succeeding
    may_reason: str = ""
    may_write_before_raising: bool = False  # an in-kernel error: a partial write is a finding
    storage: np.ndarray | None = None       # the storage after a successful call
    targets: np.ndarray | None = None       # storage locations written, one per value element
    values: np.ndarray | None = None        # the value broadcast to targets' shape
    tolerance: np.ndarray | None = None     # accumulate on floating dtypes: allowed error per location
    unchecked_index: bool = False           # an out-of-bounds index with an empty result: a finding if accepted


def _empty_result(ids: np.ndarray, key: IndexKey) -> bool:
    try:
        first, second = key.torch_steps()
        return ids[first][second].size == 0
    except IndexError:
        return False


@functools.lru_cache(maxsize=None)
def unimplemented(kernel: str, dtype: torch.dtype, device: str) -> str | None:
    """The "not implemented" message of ``kernel`` for ``dtype`` on ``device``, or None when it runs."""
    t = torch.zeros(2, dtype=torch.float32).to(device=device, dtype=dtype)
    mask = torch.tensor([True, False], device=device)
    try:
        if kernel == "index_put":
            t.index_put_((torch.tensor([0], device=device),), t[:1].clone())
        elif kernel == "masked_fill":
            t.masked_fill_(mask, 1)
        elif kernel == "masked_scatter":
            t.masked_scatter_(mask, t.clone())
    except NotImplementedError as error:
        return str(error).splitlines()[0]
    return None


def _kernels(a: Assignment) -> tuple[str, ...]:
    if a.form == "setitem":
        return ("index_put", "masked_fill") if a.key.is_advanced else ()
    return {"index_put": ("index_put",), "masked_fill": ("masked_fill",),
            "masked_scatter": ("masked_scatter",)}.get(a.form, ())


def _shares_storage(a: Assignment) -> bool:
    return a.value.is_tensor and a.value.value.storage is a.self.storage


def expectation(a: Assignment, storage_before: np.ndarray) -> Expectation:
    """Torch's rules for one assignment, with NumPy as the oracle for positions and values."""
    self_t, dtype = a.self.tensor, a.self.tensor.dtype
    missing = [m for m in (unimplemented(k, dtype, a.device) for k in _kernels(a)) if m]
    expect = Expectation()
    if missing:  # The kernel the call lowers to does not exist for this dtype: it must raise, unchanged.
        expect.may_raise, expect.may_reason = (NotImplementedError,), missing[0]
    if _shares_storage(a):  # torch's overlap check may come before any other
        expect.may_raise += (RuntimeError,)
        expect.may_reason = expect.may_reason or "the value is a view of self's storage (overlap)"
    # Torch rule: a slice with a negative step raises ValueError ("step must be greater than zero").
    if a.form == "setitem" and a.key.has_negative_step:
        return dataclasses.replace(expect, must_raise=(ValueError,), reason="the key has a negative slice step")
    if a.form in ("masked_fill", "masked_scatter") and broadcast_shape(a.mask.shape, self_t.shape) != self_t.shape:
        return dataclasses.replace(expect, must_raise=(RuntimeError,),
                                   reason=f"the mask's shape {a.mask.shape} does not broadcast to self's shape")
    shape = a.self.layout.shape
    if a.key.mask_mismatch(shape):
        return dataclasses.replace(expect, must_raise=(IndexError,),
                                   reason="a mask's shape differs from the dimensions it indexes")
    ids = storage_ids(a.self.layout)
    try:
        first, second = a.key.torch_steps()
        targets = ids[first][second]
    except IndexError as error:
        oob = a.key.out_of_bounds(shape)
        if oob and _empty_result(ids, a.key.wrapped(shape)):
            # Torch checks no index when the result is empty (known issue unchecked-index-empty-result).
            return dataclasses.replace(expect, may_raise=expect.may_raise + (IndexError,), storage=storage_before,
                                       targets=np.zeros(0, dtype=np.int64), unchecked_index=True,
                                       may_reason=f"NumPy raises IndexError: {error}")
        return dataclasses.replace(expect, must_raise=(IndexError,), reason=f"NumPy raises IndexError: {error}",
                                   may_write_before_raising=oob and a.key.is_advanced)
    value_ndim = a.value.value.tensor.dim() if a.value.is_tensor else 0
    if a.form in ("masked_fill", "select_fill") and value_ndim:
        return dataclasses.replace(expect, must_raise=(RuntimeError,),
                                   reason=f"{'masked_fill_' if a.form == 'masked_fill' else 'fill_'} takes only "
                                          "a 0-d value tensor")
    values = as_value(a.value, dtype)
    if a.form == "masked_scatter":
        flat = values.reshape(-1)
        if flat.size < targets.size:
            return dataclasses.replace(expect, must_raise=(RuntimeError,), may_write_before_raising=True,
                                       reason=f"the source has {flat.size} elements for {targets.size} mask positions")
        values = flat[:targets.size]
    # index_put_ lowers one mask and a one-element value (any shape) to masked_fill_.
    single_mask_fill = (len(a.key.components) == 1 and isinstance(a.key.components[0], Mask)
                        and a.value.value.tensor.numel() == 1 and not a.accumulate) if a.value.is_tensor else False
    if a.form == "index_put" and single_mask_fill:
        values = values.reshape(())
        missing = unimplemented("masked_fill", dtype, a.device)
        if missing:
            expect.may_raise, expect.may_reason = expect.may_raise + (NotImplementedError,), missing
    # Assignment drops a value's extra leading 1s (torch and NumPy); index_put_ and copy_ broadcast only.
    while a.form == "setitem" and values.ndim > targets.ndim and values.shape[0] == 1:
        values = values[0]
    try:
        values = np.broadcast_to(values, targets.shape)
    except ValueError:
        return dataclasses.replace(expect, must_raise=(RuntimeError,),
                                   reason=f"a value of shape {a.value.value.layout.shape} cannot broadcast to the "
                                          f"indexed shape {targets.shape}")
    other_dtype = a.value.is_tensor and a.value.value.tensor.dtype != dtype
    if other_dtype and a.form == "index_put" and (targets.size == 0 or single_mask_fill):
        # index_put_ lowers one mask and a one-element value to masked_fill_, which casts; with nothing to
        # write it may skip its dtype check.
        if not single_mask_fill:
            expect.may_raise += (RuntimeError,)
            expect.may_reason = expect.may_reason or "index_put_ requires the value's dtype to be self's"
    elif other_dtype and a.form in ("index_put", "masked_scatter"):
        return dataclasses.replace(expect, must_raise=(RuntimeError,),
                                   reason=f"{a.form}_ requires the value's dtype to be self's")
    if other_dtype and a.form == "setitem" and a.key.is_advanced:
        # pytorch#63935: index_put_ requires matching dtypes (by design, #96177); a single-mask key with a
        # one-element value lowers to masked_fill_ instead, which casts. Either outcome is torch's rule.
        expect.may_raise += (RuntimeError,)
        expect.may_reason = expect.may_reason or "advanced-index assignment of another dtype (pytorch#63935)"
    # Torch rule: copy_ (slice_copy, basic-key assignment), fill_ with a tensor value and masked_scatter_ raise
    # when the view they write has internal overlap (a zero stride); fill_ with a Python scalar, masked_fill_
    # and index_put_ write through it (every aliased element then gets one of the values written to it).
    written_view_overlaps = len(np.unique(targets)) < targets.size
    if a.self.layout.has_internal_overlap and (
            a.form == "masked_scatter" or (written_view_overlaps and (
                a.form == "slice_copy" or (a.form == "setitem" and not a.key.is_advanced)
                or (a.form == "select_fill" and a.value.is_tensor)))):
        return dataclasses.replace(expect, must_raise=(RuntimeError,),
                                   reason="the written view has internal overlap (a zero stride)")
    expected = storage_before.copy()
    flat_targets, flat_values = targets.reshape(-1), values.reshape(-1)
    if a.accumulate:
        np.add.at(expected, flat_targets, flat_values)
        if dtype.is_floating_point or dtype.is_complex:
            expect.tolerance = _summation_tolerance(storage_before, flat_targets, flat_values, dtype)
    else:
        expected[flat_targets] = flat_values
    expect.storage, expect.targets, expect.values = expected, flat_targets, flat_values
    return expect


def _summation_tolerance(before, targets, values, dtype) -> np.ndarray:
    """Per location, the error a sum in ``dtype`` may make in any order: terms x eps x sum of |terms|.

    Where that sum exceeds ``dtype``'s largest value, partial sums may overflow depending on order: any
    result is accepted there (infinite tolerance).
    """
    terms = np.ones(before.shape, dtype=np.float64)
    magnitude = np.abs(before).astype(np.float64)
    np.add.at(terms, targets, 1)
    np.add.at(magnitude, targets, np.abs(values).astype(np.float64))
    info = torch.finfo(dtype)
    tol = terms * info.eps * magnitude + info.tiny
    tol[~np.isfinite(magnitude) | (magnitude >= info.max)] = np.inf
    return tol


# -- the check ----------------------------------------------------------------------------------------

def check_assignment(a: Assignment) -> tuple[str, Finding | None]:
    """Make the call and check it against :func:`expectation`; raise :class:`ConformanceFailure` on a
    breach. Returns what happened ("returned", "raised <Type>") and a finding, if any."""
    __tracebackhide__ = True
    self_t, layout = a.self.tensor, a.self.layout
    subject = f"{a.form} on self {describe_tensor(self_t)}"
    storage = a.self.storage
    before_t = storage.clone()
    before = to_numpy(storage)
    value_before = None
    if a.value.is_tensor and not _shares_storage(a):
        value_before = a.value.value.storage.clone()

    def repro(extra: str = "") -> str:
        storages = {id(storage): before_t}
        if value_before is not None:
            storages[id(a.value.value.storage)] = value_before
        return reproduction(a, storages, a.call_text() + (f"\n{extra}" if extra else ""))

    expect = expectation(a, before)
    existing = storage.as_strided(layout.shape, layout.stride, layout.offset)  # a view made before the call
    meta, version = StorageMetadata.of(self_t), self_t._version
    outcome = call(a.apply, self_t)  # apply makes the mutating call on the target
    after = to_numpy(storage)
    changed = int((~same(after, before)).sum())

    if outcome.raised:
        allowed = expect.must_raise + expect.may_raise
        if not isinstance(outcome.error, allowed):
            wanted = " or ".join(t.__name__ for t in allowed) if allowed else "no error"
            why = expect.reason or expect.may_reason
            raise ConformanceFailure("error-parity", subject, wanted + (f" ({why})" if why else ""),
                                     outcome.describe(), repro())
        if changed:
            if expect.may_write_before_raising and isinstance(outcome.error, expect.must_raise):
                return f"raised {type(outcome.error).__name__}", Finding(
                    "partial-write-before-error", a.form, describe_tensor(self_t),
                    f"{outcome.describe()} after changing {changed} storage element(s)", repro())
            raise ConformanceFailure("unchanged-on-error", subject,
                                     f"storage unchanged after raising ({expect.reason or expect.may_reason})",
                                     f"{changed} storage element(s) changed; the call {outcome.describe()}", repro())
        if value_before is not None and not same(to_numpy(a.value.value.storage), to_numpy(value_before)).all():
            raise ConformanceFailure("outside-view", subject, "the value tensor unchanged", "it changed", repro())
        return f"raised {type(outcome.error).__name__}", None

    if expect.must_raise:
        raise ConformanceFailure("error-parity", subject, f"raises {expect.must_raise[0].__name__} because "
                                 f"{expect.reason}", "returned without error", repro())
    returned, receiver = outcome.value
    if returned is not receiver:
        raise ConformanceFailure("identity", subject, "returns the tensor it wrote into",
                                 f"returned {type(returned).__name__}", repro())
    meta_after = StorageMetadata.of(self_t)
    if meta_after != meta:
        names = [f.name for f in dataclasses.fields(meta) if getattr(meta, f.name) != getattr(meta_after, f.name)]
        raise ConformanceFailure("storage", subject, f"{', '.join(names)} unchanged",
                                 ", ".join(f"{n}: {getattr(meta, n)} -> {getattr(meta_after, n)}" for n in names), repro())
    if self_t._version <= version:
        raise ConformanceFailure("version", subject, f"version counter above {version} (even when no element "
                                 "changes)", f"version counter {self_t._version}", repro())
    if not same(to_numpy(existing), to_numpy(self_t)).all() or existing._version != self_t._version:
        raise ConformanceFailure("views-see-write", subject, "a view of the storage made before the call reads "
                                 f"self's values and version {self_t._version}",
                                 f"it reads {to_numpy(existing).tolist()} (version {existing._version}) while self "
                                 f"reads {to_numpy(self_t).tolist()}", repro())
    if value_before is not None and not same(to_numpy(a.value.value.storage), to_numpy(value_before)).all():
        raise ConformanceFailure("outside-view", subject, "the value tensor unchanged", "it changed", repro())
    _check_values(a, expect, before, after, subject, repro)
    if expect.unchecked_index:
        return "returned", Finding("unchecked-index", a.form, describe_tensor(self_t),
                                   f"returned without error although {expect.may_reason}", repro())
    return "returned", None


def _check_values(a: Assignment, expect: Expectation, before, after, subject, repro) -> None:
    expected = expect.storage
    if expect.tolerance is not None:
        wide = after.astype(np.complex128 if after.dtype.kind == "c" else np.float64)
        good = same(wide, expected.astype(wide.dtype), signed_zeros=False) | (np.abs(wide - expected) <= expect.tolerance)
    else:
        good = same(after, expected)
        if not good.all():  # Torch rule: duplicate targets without accumulation keep any one written value.
            locations, counts = np.unique(expect.targets, return_counts=True)
            for loc in locations[counts > 1]:
                if not good[loc]:
                    good[loc] = bool(same(expect.values[expect.targets == loc], np.broadcast_to(
                        after[loc], (int((expect.targets == loc).sum()),))).any())
    if good.all():
        return
    bad = np.flatnonzero(~good)
    footprint = a.self.footprint().numpy()
    written = np.zeros(after.shape, dtype=bool)
    written[expect.targets] = True
    if written[bad].any():
        check = "overlap" if _shares_storage(a) else "assigned-values"
        where = bad[written[bad]]
    elif footprint[bad].any():
        check, where = "unassigned-unchanged", bad[footprint[bad]]
    else:
        check, where = "outside-view", bad
    where = where[:5]
    raise ConformanceFailure(
        check, subject,
        "storage " + ", ".join(f"[{i}]: {expected[i]!r}" for i in where) + f" ({len(bad)} mismatching)",
        ", ".join(f"[{i}]: {after[i]!r}" for i in where) + f" (before the call: {[before[i] for i in where]!r})",
        repro())


def _setitem(t: torch.Tensor, key, value) -> None:
    """``t[key] = value`` as a function, for a target to run."""
    t[key] = value
