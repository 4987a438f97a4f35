"""Pointwise in-place methods of ``torch.Tensor`` against the contract (DESIGN.md points 1 to 4)."""
from __future__ import annotations

import pytest

from conformance import properties
from conformance.catalog import pointwise
from conformance.plugin import parametrize_ops

WITH_TENSOR_OPERAND = [s for s in pointwise.SPECS if s.tensor_operands]

# One example in four (about) draws an operand that is a dense view of self's storage.
MAIN_ALIASING = (None, None, None, "dense")


def pytest_generate_tests(metafunc):
    specs = WITH_TENSOR_OPERAND if "aliased" in metafunc.function.__name__ else pointwise.SPECS
    parametrize_ops(metafunc, specs)


def test_inplace_agrees_with_twin(spec, dtype, device, conformance_options, request):
    """Identity, storage, sentinels, other views, twin values, error parity, version, twin purity, and
    (for ops with a tensor operand) full and partial overlap with a dense view of self."""
    aliasing = MAIN_ALIASING if spec.tensor_operands else (None,)
    unimplemented = properties.inplace_agrees_with_twin(spec, dtype, device, conformance_options,
                                                        aliasing=aliasing, database_key=request.node.nodeid)
    if unimplemented:
        pytest.skip(f"not implemented on {device} (error parity checked): {unimplemented}")


def test_inplace_with_strided_aliased_operand(spec, device, conformance_options, request):
    """An operand that is a stepped, non-dense view of self's storage: raise, or agree with the twin.

    Overlap detection does not depend on the dtype, so each example draws one (among those implemented).
    """
    properties.inplace_agrees_with_twin(spec, None, device, conformance_options, aliasing=("strided",),
                                        database_key=request.node.nodeid)
