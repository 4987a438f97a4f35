"""Device strings from the command line and a vendor's backend setup: checked once, lazily, with one clear
message on error.

Any torch device string is accepted: ``cpu``, ``cuda``, ``cuda:1``, ``mps``, ``xpu``, ``meta`` and the name of
a PrivateUse1 backend once its module registered it (``--backend-setup``, run before the devices are checked).
"""
from __future__ import annotations

import importlib
import os

import torch

#: Environment variable read when ``--backend-setup`` is not given: a vendor's CI needs no new flag.
BACKEND_SETUP_ENV = "INPLACE_CONFORMANCE_BACKEND_SETUP"


class DeviceError(ValueError):
    """A device the user named is unknown or unusable here, or the backend setup failed."""


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def backend_setup_spec(option: str | None) -> str | None:
    """The ``module[:callable]`` to run: the option, else :data:`BACKEND_SETUP_ENV`, else None."""
    return option or os.environ.get(BACKEND_SETUP_ENV) or None


def run_backend_setup(spec: str | None) -> str | None:
    """Import ``module`` of ``module[:callable]`` (which often registers a PrivateUse1 device by itself) and
    call ``callable()`` when one is named. Returns ``spec``; raises :class:`DeviceError` on any failure."""
    if not spec:
        return None
    module_name, _, attribute = spec.partition(":")
    if not module_name or (":" in spec and not attribute):
        raise DeviceError(f"backend setup {spec!r}: expected module or module:callable")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - a vendor module may fail to import in any way
        raise DeviceError(f"backend setup {spec!r}: cannot import {module_name!r}: {_first_line(error)}") from None
    if not attribute:
        return spec
    target = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise DeviceError(f"backend setup {spec!r}: module {module_name!r} has no {attribute!r}") from None
    if not callable(target):
        raise DeviceError(f"backend setup {spec!r}: {attribute!r} is not callable")
    try:
        target()
    except Exception as error:  # noqa: BLE001 - whatever the vendor's setup raises is reported in one line
        raise DeviceError(f"backend setup {spec!r}: {attribute}() raised {_first_line(error)}") from None
    return spec


def validate_device(name: str) -> str:
    """The canonical spelling of ``name`` after checking torch knows it and can allocate on it."""
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as error:
        hint = " (a PrivateUse1 backend? name the module that registers it with --backend-setup)"
        raise DeviceError(f"unknown device {name!r}: {str(error).splitlines()[0]}{hint}") from None
    try:
        torch.empty(1, device=device)
    except Exception as error:  # noqa: BLE001 - any failure means the device is unusable
        raise DeviceError(f"device {name!r} is not usable here: {_first_line(error)}") from None
    return str(device)
