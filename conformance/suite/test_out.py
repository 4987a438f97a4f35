"""``out=`` variants against their contract: op x dtype x device (see ``conformance/catalog/out_variants.py``)."""
from __future__ import annotations

import pytest
import torch

from conformance.catalog import out_variants
from conformance.out_property import out_agrees_with_functional
from strategies.dtypes import dtype_name, supported_dtypes


DTYPES = (torch.bool, torch.uint8, torch.int32, torch.int64, torch.float16, torch.bfloat16, torch.float32,
          torch.complex64)
"""One dtype per way an out kernel differs (bool, unsigned, int, int64 indices, half, bfloat16, float,
complex): the out= path is shared across dtypes, so the other core dtypes add cost, not coverage."""
HARD_DTYPES = (torch.float32, torch.int64)
"""The hard-aliasing test runs on two dtypes: its arrangements do not depend on the dtype's kernels."""


def pytest_generate_tests(metafunc):
    if {"spec", "dtype", "device"} <= set(metafunc.fixturenames):
        hard = "hard" in metafunc.function.__name__
        metafunc.parametrize("spec, dtype, device", [
            pytest.param(spec, dtype, device, id=f"{spec.name}-{dtype_name(dtype)}-{device}")
            for device in metafunc.config._conformance["devices"]
            for spec in out_variants.SPECS
            for dtype in supported_dtypes(device, HARD_DTYPES if hard else DTYPES)])


@pytest.mark.requires("values")
def test_out_agrees_with_functional(spec, dtype, device, conformance_options, request):
    """Written into out (storage kept or resized with a warning), equal to the functional op, alias-safe."""
    unimplemented = out_agrees_with_functional(spec, dtype, device, conformance_options,
                                               database_key=request.node.nodeid)
    if unimplemented:
        pytest.skip(f"not implemented on {device} (error parity checked): {unimplemented}")


@pytest.mark.requires("values")
def test_out_with_hard_aliasing(spec, dtype, device, conformance_options, request):
    """An expanded (self-overlapping) out, out viewing a non-dense input, one tensor for two outs:
    raise, or the fresh-out values. Torch detects none of these (see known_issues.toml)."""
    unimplemented = out_agrees_with_functional(spec, dtype, device, conformance_options, mode="hard",
                                               database_key=request.node.nodeid)
    if unimplemented:
        pytest.skip(f"not implemented on {device}: {unimplemented}")
