"""What a device can show the kit: probed once per device, lazily, as plain JSON-able values.

The checks consult these instead of naming devices: on ``meta`` element values and data pointers mean
nothing (no values, ``data_ptr()`` is 0), while shapes, strides, dtypes, errors and version counters still
do. A vendor backend gets the same treatment from what it can do, not from its name.
"""
from __future__ import annotations

import functools

import torch

from strategies.dtypes import dtype_name, supported_dtypes

#: Capability names a suite test may require (``@pytest.mark.requires("values")``), with what they mean.
CAPABILITIES = {
    "values": "element values can be read back (to the CPU)",
    "data_ptr": "data pointers identify storage (distinct and non-zero for distinct storages)",
    "version_counter": "in-place calls bump tensors' version counters",
    "autograd": "backward() runs and produces gradients on the device",
}


def _values(device: str) -> bool:
    t = torch.tensor([1.5, -2.0, 3.0], device=device)
    return t.cpu().tolist() == [1.5, -2.0, 3.0] and torch.equal(t, t.clone())


def _data_ptr(device: str) -> bool:
    a, b = torch.empty(4, device=device), torch.empty(4, device=device)
    pa, pb = a.untyped_storage().data_ptr(), b.untyped_storage().data_ptr()
    return pa != 0 and pb != 0 and pa != pb and a[1:].untyped_storage().data_ptr() == pa


def _version_counter(device: str) -> bool:
    t = torch.zeros(2, device=device)
    before = t._version
    t.add_(1)
    return t._version > before


def _autograd(device: str) -> bool:
    x = torch.ones(2, device=device, requires_grad=True)
    (x * x).sum().backward()
    return x.grad is not None and x.grad.device == x.device and tuple(x.grad.shape) == (2,)


_PROBES = {"values": _values, "data_ptr": _data_ptr, "version_counter": _version_counter, "autograd": _autograd}


def _holds(probe, device: str) -> bool:
    try:
        return bool(probe(device))
    except Exception:  # noqa: BLE001 - a probe that raises means the device lacks the capability
        return False


@functools.lru_cache(maxsize=None)
def probe(device: str) -> dict:
    """``{capability: bool, ..., "dtypes": [names]}`` for ``device`` (a canonical device string).

    Cached: each device is probed once per process, on first use (never at import).
    """
    found = {name: _holds(check, device) for name, check in _PROBES.items()}
    found["dtypes"] = [dtype_name(d) for d in supported_dtypes(device)]
    return found


def has(device: str, capability: str) -> bool:
    """Whether ``device`` has ``capability`` (a key of :data:`CAPABILITIES`)."""
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    return probe(str(device))[capability]


def missing(device: str, required) -> list[str]:
    """The capabilities among ``required`` that ``device`` lacks."""
    return [c for c in required if not has(device, c)]


def summary(device: str) -> str:
    """One line for the report header: ``meta: no values, no data_ptr, version_counter, autograd; 12 dtypes``."""
    found = probe(device)
    flags = ", ".join(name if found[name] else f"no {name}" for name in CAPABILITIES)
    return f"{device}: {flags}; {len(found['dtypes'])} dtypes"
