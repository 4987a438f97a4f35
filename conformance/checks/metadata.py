"""The contract of a metadata in-place call (``t_``, ``squeeze_``, ``resize_``, ``set_``, ``detach_``, ...).

The view twin runs first on another view of the same memory (an alias): where it raises, the in-place
call must raise and leave ``self``'s metadata and storage alone. Otherwise: the same object comes back
(``identity``); shape, strides and storage offset equal the twin's (``metadata``); values read through
``self`` equal the twin's (``twin-values``); no storage element changes (``outside-view``) and another view
of the same memory keeps its metadata and values (``views-see-write``); the storage is the one the op's
rule says (``storage``); the version counter is bumped unless the catalog declares otherwise
(``version``); autograd-only ops set the flags they promise (``autograd``).
"""
from __future__ import annotations

import torch

from strategies.tensors import BuiltTensor

from .. import targets
from ..capabilities import has
from .compare import bitwise_equal, comparable
from .failure import ConformanceFailure
from .inplace import call
from .mutation import expect_identity, expect_unchanged, snippet, tensor_lines
from .repro import describe_tensor, scalar_literal

METADATA_CHECKS = {
    "metadata": "shape, strides and storage offset equal those of the view twin",
    "autograd": "requires_grad_/detach_ leave the autograd flags they promise",
}


def _meta(t: torch.Tensor) -> tuple:
    """``(shape, strides, offset)``; an empty tensor's strides address nothing and are left out."""
    return tuple(t.shape), (t.stride() if t.numel() else None), t.storage_offset()


def _args_text(args) -> str:
    def literal(a):
        if isinstance(a, torch.Tensor):
            return f"torch.empty({tuple(a.shape)}, dtype={a.dtype})"
        if isinstance(a, torch.UntypedStorage):
            return "source.untyped_storage()"
        return scalar_literal(a)
    return ", ".join(literal(a) for a in args)


def check_metadata_call(spec, built: BuiltTensor, drawn_args: tuple, device: str, *,
                        subject_tensor: torch.Tensor | None = None) -> None:
    """Check ``self.<op>(*args)`` for a metadata op; ``subject_tensor`` replaces the built view as ``self``
    (a non-view or non-leaf tensor for ``detach_``)."""
    __tracebackhide__ = True
    self_t = built.tensor if subject_tensor is None else subject_tensor
    call_args, expected_args = spec.arguments(drawn_args, self_t.dtype, device)
    subject = f"{spec.name}({_args_text(call_args)}) on self {describe_tensor(self_t)}"
    storage_before = built.storage.clone()
    old_ptr, old_nbytes = _data_ptr(self_t, device), self_t.untyped_storage().nbytes()
    old_meta, version = _meta(self_t), self_t._version
    old_values = self_t.detach().clone()
    lay = built.layout
    sibling = built.storage.as_strided(lay.shape, lay.stride, lay.offset)  # another view of the same memory

    def repro(extra: str = "") -> str:
        source = ["source = torch.arange(24).to(self.dtype)"] if spec.name == "set_" and call_args else []
        return snippet(*tensor_lines("self", built, storage_before, device), *source,
                       f"result = self.{spec.name}({_args_text(call_args)})", *([extra] if extra else []))

    alias = (self_t.detach() if subject_tensor is not None
             else built.storage.as_strided(lay.shape, lay.stride, lay.offset))
    twin = call(spec.expected, alias, *expected_args)
    is_view_exception = spec.exception("view") and self_t._is_view()
    cannot_grow = (spec.storage_rule == "resize" and not twin.raised and not self_t.untyped_storage().resizable()
                   and _needed_bytes(twin.value, self_t) > old_nbytes)
    outcome = call(targets.wrap(spec.inplace()), self_t, *call_args)
    if twin.raised or is_view_exception or cannot_grow:
        reason = (spec.exception("view") if is_view_exception else
                  "the storage must grow and is not resizable" if cannot_grow else f"the view twin {twin.describe()}")
        if not outcome.raised:
            raise ConformanceFailure("error-parity", subject, f"raises because {reason}", "returned without error",
                                     repro())
        if _meta(self_t) != old_meta:
            raise ConformanceFailure("unchanged-on-error", subject, f"metadata {old_meta} unchanged after raising",
                                     f"{_meta(self_t)}", repro())
        expect_unchanged(built, storage_before, reason, outcome.describe(), subject, repro)
        return
    if outcome.raised:
        raise ConformanceFailure("error-parity", subject, "no error (the view twin succeeds)", outcome.describe(),
                                 repro())
    expect_identity(outcome.value, self_t, subject, repro)
    expected = twin.value
    if spec.storage_rule == "resize":
        shape, stride, offset = expected
        expected_meta = (shape, stride if all(shape) else None, offset)
    else:
        expected_meta = _meta(expected)
    if _meta(self_t) != expected_meta:
        raise ConformanceFailure("metadata", subject, f"(shape, strides, offset) {tuple(expected_meta)} as the twin's",
                                 f"{_meta(self_t)}", repro())
    if has(device, "data_ptr"):  # meta: every data_ptr is 0, the storage rule cannot be seen
        _check_storage_rule(spec, self_t, old_nbytes, old_ptr, expected, subject, repro)
    values = has(device, "values")  # meta: metadata, errors and versions only
    if values:
        _check_values(spec, self_t, expected, storage_before, lay.storage_size, subject, repro)
    if values and not bitwise_equal(built.storage[:lay.storage_size], storage_before):
        raise ConformanceFailure("outside-view", subject, "no storage element changes (a metadata op writes no data)",
                                 f"storage {comparable(storage_before).tolist()} became "
                                 f"{comparable(built.storage).tolist()}", repro())
    sibling_kept = _meta(sibling) == _meta(built.storage.as_strided(lay.shape, lay.stride, lay.offset))
    if not sibling_kept or (values and not bitwise_equal(sibling, old_values.to(sibling.dtype))):
        raise ConformanceFailure("views-see-write", subject,
                                 "another view of the same memory keeps its metadata and values",
                                 f"it became {_meta(sibling)}", repro())
    unchanged = _meta(self_t) == old_meta and _data_ptr(self_t, device) == old_ptr
    lifted = spec.exception("version") or (unchanged and spec.exception("version-if-unchanged"))
    if not lifted and self_t._version <= version:
        raise ConformanceFailure("version", subject, f"version counter above {version}",
                                 f"version counter {self_t._version}", repro())
    if spec.exception("version") and self_t._version != version:
        raise ConformanceFailure("version", subject, f"version counter {version} ({spec.exception('version')})",
                                 f"version counter {self_t._version}", repro())
    _check_autograd(spec, self_t, call_args, subject, repro)


def _data_ptr(t: torch.Tensor, device: str) -> int | None:
    """``t``'s storage address, None on a device whose data pointers identify nothing (capabilities)."""
    return t.untyped_storage().data_ptr() if has(device, "data_ptr") else None


def _check_storage_rule(spec, self_t, old_nbytes, old_ptr, expected, subject, repro) -> None:
    ptr = self_t.untyped_storage().data_ptr()
    if spec.storage_rule == "set":
        want = expected.untyped_storage().data_ptr() if expected.numel() or expected.untyped_storage().nbytes() else ptr
        ok, text = ptr == want, "source's storage"
    elif spec.storage_rule == "resize":
        ok = ptr == old_ptr or _needed_bytes(expected, self_t) > old_nbytes
        text = "the same storage (the new size fits in it)"
    else:
        ok, text = ptr == old_ptr, "the same storage"
    if not ok:
        raise ConformanceFailure("storage", subject, text, f"data_ptr {old_ptr:#x} -> {ptr:#x}", repro())


def _needed_bytes(resized: tuple, self_t: torch.Tensor) -> int:
    """Bytes of storage that ``(shape, strides, offset)`` needs."""
    shape, stride, offset = resized
    return (offset + sum((n - 1) * s for n, s in zip(shape, stride)) + 1) * self_t.element_size() if all(shape) else 0


def _check_values(spec, self_t, expected, storage_before, old_size, subject, repro) -> None:
    if spec.storage_rule == "resize":
        # Elements that lay in the old storage keep their values; those past it are uninitialised.
        shape, stride, offset = expected
        where = torch.arange(offset + sum((n - 1) * s for n, s in zip(shape, stride)) + 1).as_strided(
            shape, stride, offset) if all(shape) else torch.zeros(shape, dtype=torch.long)
        kept = where < old_size
        observed = self_t.detach().cpu()[kept]
        wanted = storage_before.cpu()[where[kept]]
    else:
        observed, wanted = self_t.detach(), expected.detach()
    if not bitwise_equal(observed, wanted.to(observed.device)):
        raise ConformanceFailure("twin-values", subject, f"values of the twin {comparable(wanted).tolist()}",
                                 f"{comparable(observed).tolist()}", repro())


def _check_autograd(spec, self_t, call_args, subject, repro) -> None:
    if spec.name == "requires_grad_" and self_t.requires_grad != bool(call_args[0]):
        raise ConformanceFailure("autograd", subject, f"requires_grad is {bool(call_args[0])}",
                                 f"requires_grad is {self_t.requires_grad}", repro())
    if spec.name == "detach_" and (self_t.requires_grad or self_t.grad_fn is not None):
        raise ConformanceFailure("autograd", subject, "requires_grad False and no grad_fn",
                                 f"requires_grad {self_t.requires_grad}, grad_fn {self_t.grad_fn}", repro())
