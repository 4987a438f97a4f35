"""Autograd against the contract (DESIGN.md points 5 and 6): backward raises exactly when a saved tensor was
mutated, version counters, leaf and view rules, and gradients through in-place ops."""
from __future__ import annotations

import pytest
import torch

from conformance.autograd import properties
from conformance.autograd.versions import float64_specs


# The saved-tensor model relates tensors by storage address and the properties compare gradients and
# parameters by value: the plugin skips these tests on a device lacking one of these (``meta``).
pytestmark = pytest.mark.requires("values", "data_ptr", "autograd")


def pytest_generate_tests(metafunc):
    devices = metafunc.config._conformance["devices"]
    if "spec" in metafunc.fixturenames:
        metafunc.parametrize("spec, device", [pytest.param(s, d, id=f"{s.name}-{d}")
                                              for d in devices for s in float64_specs()])
    elif "dtype" in metafunc.fixturenames:
        metafunc.parametrize("dtype, device", [pytest.param(t, d, id=f"{str(t).removeprefix('torch.')}-{d}")
                                               for d in devices for t in (torch.float64, torch.complex128)])
    elif "device" in metafunc.fixturenames:
        metafunc.parametrize("device", devices)


def test_backward_raises_exactly_when_saved_tensor_mutated(device, conformance_options, request):
    """A drawn forward program, then every mutation of every tensor through every channel: backward raises
    exactly when the kit's saved-tensor model says so; otherwise gradients equal the unmutated run's."""
    properties.exactly_when(device, conformance_options, request.node.nodeid)


def test_version_counters(device, conformance_options, request):
    """Every float64 catalog op and assignment bumps the counter shared by base, views and detach();
    out-of-place twins never bump their inputs."""
    properties.version_counters(device, conformance_options, request.node.nodeid)


def test_leaf_and_view_rules(spec, device, conformance_options, request):
    """In-place on a requires-grad leaf raises, works under no_grad; views of leaves, multi-output views and
    views made in no_grad raise when written with grad enabled."""
    properties.leaf_and_view_rules(spec, device, conformance_options, request.node.nodeid)


def test_inplace_gradients_agree(dtype, device, conformance_options, request):
    """Gradients (first and second order) through op_(x.clone()) equal those through op(x)."""
    properties.inplace_gradients(dtype, device, conformance_options, request.node.nodeid)
