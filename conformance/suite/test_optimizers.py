"""nn.Parameter updates and torch.optim optimizers against the contract (DESIGN.md point 6): in place,
Parameter, storage and grad kept, version bumped; foreach and fused forms agree with the for-loop form."""
from __future__ import annotations

import pytest

from conformance.autograd import properties
from conformance.autograd.optimizers import OPTIMIZERS, implementations


# The saved-tensor model relates tensors by storage address and the properties compare gradients and
# parameters by value: the plugin skips these tests on a device lacking one of these (``meta``).
pytestmark = pytest.mark.requires("values", "data_ptr", "autograd")


def pytest_generate_tests(metafunc):
    devices = metafunc.config._conformance["devices"]
    if "optimizer" in metafunc.fixturenames:
        metafunc.parametrize("optimizer, implementation, device", [
            pytest.param(name, form, d, id=f"{name}-{form}-{d}")
            for d in devices for name in OPTIMIZERS for form in implementations(name)])
    elif "device" in metafunc.fixturenames:
        metafunc.parametrize("device", devices)


def test_parameter_update_under_no_grad(device, conformance_options, request):
    properties.parameter_updates(device, conformance_options, request.node.nodeid)


def test_optimizer_steps_in_place(optimizer, implementation, device, conformance_options, request):
    """Several steps on drawn parameters and grads: in place at every step, equal to the for-loop form."""
    properties.optimizer_steps(optimizer, implementation, device, conformance_options, request.node.nodeid)
