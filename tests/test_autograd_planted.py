"""Each autograd check fails on a deliberately broken torch, through the property the suite runs.

Every test patches one ``torch.Tensor`` method (or an optimizer) with a plausible bug, runs the same
``conformance.autograd.properties`` function as ``conformance/suite/test_autograd.py`` and
``test_optimizers.py``, and asserts which check caught it. ``test_real_torch_passes`` runs them unpatched.
"""
from __future__ import annotations

import unittest

import hypothesis
from hypothesis import Phase
import pytest
import torch

from conformance.autograd import properties
from conformance.autograd.gradients import differentiable_specs
from conformance.autograd.optimizers import OPTIMIZERS, fused_unsupported, implementations
from conformance.autograd.versions import float64_specs
from conformance.catalog import spec_named

from .planted import PLANTED, expect_failure, options, patch_method

PLANTED = hypothesis.settings(PLANTED, phases=[Phase.explicit, Phase.reuse, Phase.generate])
"""No shrinking: a planted bug only has to be found, and shrinking programs is slow."""
QUICK = hypothesis.settings(PLANTED, max_examples=40)
"""Real torch must pass; 40 examples (the ``ci`` count) keep that affordable: programs cost ~35 ms each."""

ADD_ = torch.Tensor.add_
EXP = torch.Tensor.exp
MUL = torch.Tensor.mul
MUL_ = torch.Tensor.mul_
DETACH = torch.Tensor.detach
SGD = torch.optim.SGD


@pytest.fixture(autouse=True)
def probe_catalog_first():
    """The catalog probes are cached: compute them on real torch, before any patch."""
    float64_specs()
    differentiable_specs(torch.float64)
    differentiable_specs(torch.complex128)


def exactly_when(settings=PLANTED):
    return properties.exactly_when("cpu", options(settings=settings), "planted-exactly-when")


def versions(settings=PLANTED):
    return properties.version_counters("cpu", options(settings=settings), "planted-versions")


def leaves(name="add_", settings=PLANTED):
    return lambda: properties.leaf_and_view_rules(spec_named(name), "cpu", options(settings=settings),
                                                  "planted-leaves")


def gradients(dtype=torch.float64, settings=PLANTED):
    return lambda: properties.inplace_gradients(dtype, "cpu", options(settings=settings), "planted-gradients")


def optimizer(name="SGD", form="foreach", settings=PLANTED):
    return lambda: properties.optimizer_steps(name, form, "cpu", options(settings=settings), "planted-optimizer")


def test_real_torch_passes():
    exactly_when(QUICK)
    versions(QUICK)
    leaves(settings=QUICK)()
    gradients(settings=QUICK)()
    properties.parameter_updates("cpu", options(settings=QUICK), "planted-parameters")
    optimizer(settings=QUICK)()


def add_through_data(self, *args, **kwargs):
    """An in-place add that forgets the version counter: it writes through ``.data``."""
    ADD_(self.data, *args, **kwargs)
    return self


def test_exactly_when_inplace_op_does_not_bump_version(monkeypatch):
    patch_method(monkeypatch, "add_", add_through_data)
    failure = expect_failure("autograd-raises", exactly_when)
    assert "add_(0.5)" in failure.reproduction


def test_exactly_when_out_of_place_op_bumps_its_input(monkeypatch):
    def exp(self):
        result = EXP(self)
        ADD_(DETACH(self), 0)  # a spurious write: bumps the input's counter
        return result
    patch_method(monkeypatch, "exp", exp)
    expect_failure("autograd-raises", exactly_when)


class CloneFreeMul(torch.autograd.Function):
    """A mul whose backward reads its inputs from ctx attributes: no SavedVariable, so no version check."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a.detach(), b.detach()
        return MUL(a.detach(), b.detach())

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.b, grad * ctx.a


def test_exactly_when_backward_uses_mutated_saved_tensor_silently(monkeypatch):
    def mul(self, other):
        return CloneFreeMul.apply(self, other) if isinstance(other, torch.Tensor) and other.shape == self.shape \
            else MUL(self, other)
    patch_method(monkeypatch, "mul", mul)
    expect_failure("autograd-gradients", exactly_when)


def test_version_bump_missing(monkeypatch):
    patch_method(monkeypatch, "add_", add_through_data)
    expect_failure("version-bump", versions)


def test_version_shared_detach_gets_its_own_counter(monkeypatch):
    patch_method(monkeypatch, "detach", lambda self: self.data)
    expect_failure("version-shared", versions)


def test_version_out_of_place_bumps_input(monkeypatch):
    def exp(self):
        result = EXP(self)
        ADD_(DETACH(self), 0)
        return result
    patch_method(monkeypatch, "exp", exp)
    expect_failure("version-out-of-place", versions)


def test_leaf_inplace_allowed_on_a_leaf(monkeypatch):
    patch_method(monkeypatch, "add_", add_through_data)
    expect_failure("leaf-inplace-raises", leaves())


def test_leaf_no_grad_update_moves_storage(monkeypatch):
    def add_(self, *args, **kwargs):
        if torch.is_grad_enabled():
            return ADD_(self, *args, **kwargs)
        return self.set_(ADD_(self.clone(), *args, **kwargs))
    patch_method(monkeypatch, "add_", add_)
    expect_failure("leaf-inplace-no-grad", leaves())


def test_view_inplace_allowed_on_views(monkeypatch):
    def add_(self, *args, **kwargs):
        return add_through_data(self, *args, **kwargs) if self._base is not None else ADD_(self, *args, **kwargs)
    patch_method(monkeypatch, "add_", add_)
    expect_failure("view-inplace-raises", leaves())


def test_inplace_gradient_lost_through_data(monkeypatch):
    def sin_(self):
        self.data.copy_(torch.sin(self.data))
        return self
    patch_method(monkeypatch, "sin_", sin_)
    expect_failure("inplace-gradient", gradients())


def test_inplace_second_order_gradient_wrong(monkeypatch):
    def sin_(self):
        x = self.detach().clone()
        return self.copy_(torch.sin(x) + (self - x) * torch.cos(x))  # right value and first order only
    patch_method(monkeypatch, "sin_", sin_)
    expect_failure("inplace-gradient-2", gradients())


def test_inplace_derivative_declared_gap_closed(monkeypatch):
    patch_method(monkeypatch, "acosh_", lambda self: self.copy_(torch.acosh(self)))
    expect_failure("inplace-derivative-declared", gradients(torch.complex128))


def test_parameter_update_rebinds_data(monkeypatch):
    def mul_(self, other):
        if isinstance(self, torch.nn.Parameter) and not torch.is_grad_enabled():
            self.data = MUL(self.data, other)
            return self
        return MUL_(self, other)
    patch_method(monkeypatch, "mul_", mul_)
    expect_failure("parameter-update", lambda: properties.parameter_updates("cpu", options(), "planted-parameters"))


class RebindingSGD(SGD):
    """An SGD whose step rebinds ``p.data`` to a new tensor instead of writing in place."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                p.data = p.data - group["lr"] * p.grad
        return None


class SkewedForeachSGD(SGD):
    """An SGD whose foreach form uses a slightly wrong learning rate."""

    @torch.no_grad()
    def step(self, closure=None):
        if self.defaults["foreach"]:
            for group in self.param_groups:
                group["lr"] *= 1.001
        return super().step(closure)


def test_optimizer_step_rebinds_data(monkeypatch):
    monkeypatch.setattr(torch.optim, "SGD", RebindingSGD)
    expect_failure("optimizer-in-place", optimizer("SGD", "for-loop"))


def test_optimizer_foreach_disagrees(monkeypatch):
    monkeypatch.setattr(torch.optim, "SGD", SkewedForeachSGD)
    expect_failure("optimizer-implementations-agree", optimizer("SGD", "foreach"))


class FusedlessAdam(torch.optim.Adam):
    """An Adam on a device without fused kernels: ``fused=True`` fails at the first step."""

    def step(self, closure=None):
        if self.defaults.get("fused"):
            raise RuntimeError("planted: no fused Adam kernel on this device")
        return super().step(closure)


@pytest.fixture
def fresh_fused_probe():
    fused_unsupported.cache_clear()  # the probe's answer is cached per (optimizer, device) for the session
    yield
    fused_unsupported.cache_clear()


def test_fused_form_skips_with_the_error_where_a_fused_step_fails(monkeypatch, fresh_fused_probe):
    monkeypatch.setattr(torch.optim, "Adam", FusedlessAdam)
    with pytest.raises(unittest.SkipTest, match="fused Adam does not step on cpu: RuntimeError: planted"):
        optimizer("Adam", "fused")()
    optimizer("Adam", "foreach", settings=QUICK)()  # the other forms still run


def test_fused_steps_on_the_cpu(fresh_fused_probe):
    assert [name for name in OPTIMIZERS if "fused" in implementations(name)] == ["SGD", "Adam", "AdamW", "Adagrad"]
    assert {name: fused_unsupported(name, "cpu") for name in ("SGD", "Adam", "AdamW", "Adagrad")} == dict.fromkeys(
        ("SGD", "Adam", "AdamW", "Adagrad"))
