"""Scans, linear algebra, index ops and creation-like ops against the contract (DESIGN.md points 1 to 4),
with the rules their catalog entries declare. Op x dtype x device; ``self`` never expanded here: an
expanded ``self``, and matrix operands that are ``self``, have their own tests, on one dtype, since
overlap handling does not depend on the dtype; those run the profile's examples, the per-dtype test a
share of them (``family_properties.per_dtype``)."""
from __future__ import annotations

import pytest
import torch

from conformance import family_properties
from conformance.catalog import FAMILIES
from conformance.catalog.args import Operand
from strategies.dtypes import CORE_DTYPES, dtype_name, supported_dtypes

SPECS = FAMILIES["scans"] + FAMILIES["linalg"] + FAMILIES["index"] + FAMILIES["creation"]

# One example in four (about) draws an operand that is a dense view of self's storage (ops with a plain
# tensor operand, such as copy_'s src).
MAIN_ALIASING = (None, None, None, "dense")
ONE_DTYPE = torch.float32  # for properties that do not depend on the dtype


def pytest_generate_tests(metafunc):
    if not {"spec", "dtype", "device"} <= set(metafunc.fixturenames):
        return
    one_dtype = metafunc.function.__name__ in ("test_expanded_self", "test_operand_aliases_self")
    specs = FAMILIES["linalg"] if metafunc.function.__name__ == "test_operand_aliases_self" else SPECS
    metafunc.parametrize("spec, dtype, device", [
        pytest.param(spec, dtype, device, id=f"{spec.name}-{dtype_name(dtype)}-{device}")
        for device in metafunc.config._conformance["devices"]
        for spec in specs
        for dtype in ((ONE_DTYPE,) if one_dtype else supported_dtypes(device, CORE_DTYPES))])


def _aliasing(spec) -> tuple:
    return MAIN_ALIASING if any(isinstance(a, Operand) and a.tensor for a in spec.args) else (None,)


def test_structured_contract(spec, dtype, device, conformance_options, request):
    """Identity, storage, sentinels, other views, twin values (any written value where duplicate indices
    make it undefined), error parity, version, twin purity; overlap with a dense view of self for copy_."""
    unimplemented = family_properties.structured_contract(
        spec, dtype, device, family_properties.per_dtype(conformance_options), aliasing=_aliasing(spec),
        database_key=request.node.nodeid)
    if unimplemented:
        pytest.skip(f"error parity checked; the catalog declares: {unimplemented}")


def test_expanded_self(spec, dtype, device, conformance_options, request):
    """An expanded (stride-0) self: the internal-overlap error with self unchanged, or, where the catalog
    declares that the op writes through, values consistent with the twin at the elements sharing memory."""
    family_properties.structured_contract(spec, dtype, device, conformance_options, expanded=True,
                                          database_key=request.node.nodeid)


def test_operand_aliases_self(spec, dtype, device, conformance_options, request):
    """A matrix operand that is self (full overlap: equal to the twin on copies) or, for a square self, its
    transpose (partial overlap: raise, or equal the twin on copies): ``x.addmm_(x, x)``."""
    family_properties.structured_contract(spec, dtype, device, conformance_options, alias_operands=True,
                                          database_key=request.node.nodeid)
