"""A PrivateUse1 backend written in Python, for the kit's own tests: ``--backend-setup tests.foo_backend``.

Importing it registers the device ``foo`` (as a vendor's C++ extension would); every ``foo`` tensor wraps a CPU
tensor and runs each aten op on it, so views of one ``foo`` tensor share memory, in-place ops write through
and version counters work. Its storages have no data pointer (the capability probe says so). Not a plugin of
the kit: a stand-in for a vendor's device, driven from Python on a CPU-only machine.
"""
from __future__ import annotations

import torch
from torch.utils._pytree import tree_map
from torch.utils.backend_registration import _setup_privateuseone_for_python_backend

_setup_privateuseone_for_python_backend("foo")

#: Relative error a planted rounding bug multiplies ``mul_``'s results by (see :func:`plant_rounding`).
ROUNDING = {"mul_": None}


class FooTensor(torch.Tensor):
    """A ``foo`` tensor: metadata of its own, values in the CPU tensor ``inner``."""

    @staticmethod
    def __new__(cls, inner: torch.Tensor):
        return torch.Tensor._make_wrapper_subclass(cls, inner.size(), strides=inner.stride(),
                                                   storage_offset=inner.storage_offset(), dtype=inner.dtype,
                                                   device="foo:0", requires_grad=inner.requires_grad)

    def __init__(self, inner: torch.Tensor):
        self.inner = inner

    def __repr__(self):
        return f"FooTensor({self.inner!r})"

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        def unwrap(x):
            if isinstance(x, FooTensor):
                return x.inner
            return torch.device("cpu") if isinstance(x, torch.device) and x.type == "foo" else x
        inner_args, inner_kwargs = tree_map(unwrap, tuple(args)), tree_map(unwrap, dict(kwargs or {}))
        out = func(*inner_args, **inner_kwargs)
        if func.__name__.split(".")[0] == "mul_" and ROUNDING["mul_"] is not None:
            out.mul_(1 - ROUNDING["mul_"])  # the planted rounding error (toward zero: nothing overflows)
        if func is torch.ops.aten._to_copy.default and (kwargs or {}).get("device") == torch.device("cpu"):
            return out  # to the CPU: a plain tensor
        if func._schema.is_mutable and args and isinstance(args[0], FooTensor) and out is inner_args[0]:
            return args[0]  # in place: self itself
        return tree_map(lambda x: FooTensor(x) if type(x) is torch.Tensor else x, out)


def _empty(size, dtype=None, layout=None, device=None, pin_memory=None, memory_format=None):
    return FooTensor(torch.empty(size, dtype=dtype, memory_format=memory_format or torch.contiguous_format))


def _empty_strided(size, stride, dtype=None, layout=None, device=None, pin_memory=None):
    return FooTensor(torch.empty_strided(size, stride, dtype=dtype))


def _copy_from(src, dst, non_blocking=False):
    (dst.inner if isinstance(dst, FooTensor) else dst).copy_(src.inner if isinstance(src, FooTensor) else src)
    return dst


_LIBRARY = torch.library.Library("aten", "IMPL")
_LIBRARY.impl("empty.memory_format", _empty, "PrivateUse1")
_LIBRARY.impl("empty_strided", _empty_strided, "PrivateUse1")
_LIBRARY.impl("_copy_from", _copy_from, "PrivateUse1")


def plant_rounding() -> None:
    """``--backend-setup tests.foo_backend:plant_rounding``: foo's ``mul_`` is off by a relative 1e-5."""
    ROUNDING["mul_"] = 1e-5
