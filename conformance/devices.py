"""Device strings from the command line: validated once, lazily, with one clear message on error."""
from __future__ import annotations

import torch


class DeviceError(ValueError):
    """A device the user named is unknown or unusable here."""


def validate_device(name: str) -> str:
    """The canonical spelling of ``name`` after checking torch knows it and can allocate on it."""
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as error:
        raise DeviceError(f"unknown device {name!r}: {str(error).splitlines()[0]}") from None
    try:
        torch.empty(1, device=device)
    except Exception as error:  # noqa: BLE001 - any failure means the device is unusable
        raise DeviceError(f"device {name!r} is not usable here: {str(error).splitlines()[0]}") from None
    return str(device)
