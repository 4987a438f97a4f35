"""Random, metadata, torch.nn.functional, dunder, torch.nn.init and foreach in-place callables against
the contract (DESIGN.md points 1 to 4, with each family's own value clauses).

Activations, ``inplace=True`` functions and dunders run the generic pointwise property, one item per
catalog dtype. Random, metadata and init items draw the dtype among the catalog's inside Hypothesis (ids
``uniform_-cpu``), and foreach ops that share argument forms share every draw: draws dominate the cost.
"""
from __future__ import annotations

import pytest

from conformance import mutation_properties, properties
from conformance.catalog import metadata_ops, nn_ops, random_ops
from strategies.dtypes import dtype_name, supported_dtypes

FUNCTIONAL = nn_ops.ACTIVATIONS + nn_ops.INPLACE_FLAG + (nn_ops.FEATURE_DROPOUT,) + nn_ops.MODULES
MAIN_ALIASING = (None, None, None, "dense")  # one example in four: an operand that is a dense view of self
FOREACH_GROUPS = mutation_properties.foreach_groups(nn_ops.FOREACH)


def _group_id(group) -> str:
    first = group[0].name.removeprefix("torch.")
    return first if len(group) == 1 else f"{first}+{len(group) - 1}"


def pytest_generate_tests(metafunc):
    devices = metafunc.config._conformance["devices"]
    name = metafunc.function.__name__
    if name in ("test_functional_agrees_with_twin", "test_dunder_agrees_with_twin"):
        specs = FUNCTIONAL if name.startswith("test_functional") else nn_ops.DUNDERS
        metafunc.parametrize("spec, dtype, device", [
            pytest.param(s, d, dev, id=f"{s.name}-{dtype_name(d)}-{dev}")
            for dev in devices for s in specs for d in supported_dtypes(dev, s.dtypes)])
    elif name == "test_foreach_ops":
        metafunc.parametrize("group, device", [pytest.param(g, dev, id=f"{_group_id(g)}-{dev}")
                                               for dev in devices for g in FOREACH_GROUPS])
    elif "spec" in metafunc.fixturenames:
        specs = {"test_random_op": random_ops.SPECS, "test_random_op_rejects_invalid_parameters": random_ops.SPECS,
                 "test_metadata_op": metadata_ops.SPECS,
                 "test_init_op": nn_ops.INIT_SPECS,
                 "test_metadata_op_numpy_storage": tuple(s for s in metadata_ops.SPECS if s.storage_rule == "resize"),
                 "test_embedding_renorm": (nn_ops.EMBEDDING_RENORM,)}[name]
        metafunc.parametrize("spec, device", [pytest.param(s, dev, id=f"{s.name}-{dev}")
                                              for dev in devices for s in specs])


def _dtypes(spec, device):
    dtypes = supported_dtypes(device, spec.dtypes)
    if not dtypes:
        pytest.skip(f"{device} supports none of {spec.name}'s dtypes")
    return dtypes


def test_functional_agrees_with_twin(spec, dtype, device, conformance_options, request):
    """F.*_ activations, functions and modules with inplace=True against their twins (inplace=False); for
    random ones both under the same generator seed. Declared no-op calls change nothing."""
    if spec.no_op:
        mutation_properties.flagged_op_conforms(spec, dtype, device, conformance_options,
                                                database_key=request.node.nodeid)
        return
    unimplemented = properties.inplace_agrees_with_twin(spec, dtype, device, conformance_options,
                                                        database_key=request.node.nodeid)
    if unimplemented:
        pytest.skip(f"not implemented on {device} (error parity checked): {unimplemented}")


def test_dunder_agrees_with_twin(spec, dtype, device, conformance_options, request):
    """``x op= y`` keeps x's identity and storage and agrees with ``x op y`` (operands may alias x)."""
    unimplemented = properties.inplace_agrees_with_twin(spec, dtype, device, conformance_options,
                                                        aliasing=MAIN_ALIASING, database_key=request.node.nodeid)
    if unimplemented:
        pytest.skip(f"not implemented on {device} (error parity checked): {unimplemented}")


@pytest.mark.requires("values")
def test_random_op(spec, device, conformance_options, request):
    """Storage contract, support, same values for the same seed, twin on contiguous self, distribution."""
    mutation_properties.random_op_conforms(spec, device, conformance_options, dtypes=_dtypes(spec, device),
                                           database_key=request.node.nodeid)


def test_random_op_rejects_invalid_parameters(spec, device, conformance_options, request):
    """Parameters outside the distribution's domain (from > to, std < 0, p outside [0, 1], ...) raise and
    write nothing."""
    mutation_properties.random_op_rejects_invalid(spec, device, conformance_options, dtypes=_dtypes(spec, device),
                                                  database_key=request.node.nodeid)


def test_metadata_op(spec, device, conformance_options, request):
    """Same object, metadata and values of the view twin, storage rule, version (declared exceptions)."""
    mutation_properties.metadata_op_conforms(spec, device, conformance_options, dtypes=_dtypes(spec, device),
                                             database_key=request.node.nodeid)


@pytest.mark.requires("values")
def test_metadata_op_numpy_storage(spec, device, conformance_options, request):
    """resize_ on a storage NumPy owns: growing must raise and leave self unchanged; shrinking works."""
    if device != "cpu":
        pytest.skip("NumPy-owned storages live on the CPU")
    mutation_properties.metadata_op_conforms(spec, device, conformance_options, dtypes=_dtypes(spec, device),
                                             numpy_storage=True, database_key=request.node.nodeid)


@pytest.mark.requires("values")
def test_init_op(spec, device, conformance_options, request):
    """torch.nn.init: identity (also on nn.Parameter), storage, version, values obey the rule, seed."""
    mutation_properties.init_conforms(spec, device, conformance_options, dtypes=_dtypes(spec, device),
                                      database_key=request.node.nodeid)


@pytest.mark.requires("values")
def test_embedding_renorm(spec, device, conformance_options, request):
    """torch.embedding_renorm_ (a 2-D weight, drawn row indices) against the kit's reference twin."""
    mutation_properties.embedding_renorm_conforms(spec, device, conformance_options, dtypes=_dtypes(spec, device),
                                                  database_key=request.node.nodeid)


@pytest.mark.requires("values")
def test_foreach_ops(group, device, conformance_options, request):
    """Each foreach op of the group against a loop of its single-tensor op, on shared draws."""
    mutation_properties.foreach_conforms(group, device, conformance_options, dtypes=_dtypes(group[0], device),
                                         database_key=request.node.nodeid)
