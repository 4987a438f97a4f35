"""The random, metadata, nn.functional, dunder, nn.init and foreach checks fail on deliberately broken ops.

Each test patches one callable with a plausible backend bug, runs the same property function the suite
runs (``conformance/suite/test_more_families.py``) and asserts which check caught it;
``test_real_torch_passes`` runs the same properties on the unpatched callables.
"""
from __future__ import annotations

import hypothesis
import torch
import torch.nn.functional as F
from hypothesis import Phase

from conformance import mutation_properties, properties
from conformance.properties import RunOptions
from strategies.dtypes import CORE_DTYPES
from conformance.catalog import metadata_ops, nn_ops, random_ops

from .planted import PLANTED, expect_failure, patch_method

FLOAT = (torch.float32,)
# Fewer examples than the generic planted settings (these properties check more per example), no shrinking:
# the first failing example already names the check.
FAST = hypothesis.settings(PLANTED, max_examples=100, phases=[Phase.explicit, Phase.reuse, Phase.generate])


def options() -> RunOptions:
    return RunOptions(settings=FAST, operand_dtypes=CORE_DTYPES)


def spec(specs, name):
    return next(s for s in specs if s.name == name)


def random_run(name, dtypes=FLOAT):
    return lambda: mutation_properties.random_op_conforms(spec(random_ops.SPECS, name), "cpu", options(), dtypes=dtypes)


def metadata_run(name, dtypes=FLOAT):
    return lambda: mutation_properties.metadata_op_conforms(spec(metadata_ops.SPECS, name), "cpu", options(),
                                                            dtypes=dtypes)


def init_run(name):
    return lambda: mutation_properties.init_conforms(spec(nn_ops.INIT_SPECS, name), "cpu", options(), dtypes=FLOAT)


def generic_run(specs, name, dtype=torch.float32):
    return lambda: properties.inplace_agrees_with_twin(spec(specs, name), dtype, "cpu", options())


def foreach_run(name, dtypes=FLOAT):
    return lambda: mutation_properties.foreach_conforms((spec(nn_ops.FOREACH, name),), "cpu", options(), dtypes=dtypes)


def test_real_torch_passes():
    random_run("exponential_")()
    random_run("bernoulli_", (torch.int64,))()
    metadata_run("unsqueeze_")()
    metadata_run("resize_")()
    init_run("torch.nn.init.kaiming_uniform_")()
    generic_run(nn_ops.DUNDERS, "__iadd__")()
    generic_run(nn_ops.ACTIVATIONS, "torch.nn.functional.relu_")()
    foreach_run("torch._foreach_add_")()


# ---- random ------------------------------------------------------------------------------------------

UNIFORM_, NORMAL_, EXPONENTIAL_ = torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.exponential_
BERNOULLI_, RANDOM_ = torch.Tensor.bernoulli_, torch.Tensor.random_


def test_random_support_values_past_the_interval(monkeypatch):
    patch_method(monkeypatch, "uniform_", lambda self, *a, **kw: UNIFORM_(self, *a, **kw).add_(2))
    expect_failure("support", random_run("uniform_"))


def test_random_seed_generator_ignored(monkeypatch):
    patch_method(monkeypatch, "normal_", lambda self, mean=0.0, std=1.0, generator=None: NORMAL_(self, mean, std))
    expect_failure("seed", random_run("normal_"))


def test_random_distribution_wrong_rate(monkeypatch):
    def exponential_(self, lambd=1.0, generator=None):
        return EXPONENTIAL_(self, lambd * 2, generator=generator)  # the mean is 1 / (2 lambd)
    patch_method(monkeypatch, "exponential_", exponential_)
    expect_failure("distribution", random_run("exponential_"))


def test_random_twin_values_same_law_other_draws(monkeypatch):
    def bernoulli_(self, p=0.5, generator=None):
        BERNOULLI_(self, 1 - p, generator=generator)
        return self.neg_().add_(1)  # 1 - Bernoulli(1 - p): the same law, other values than torch.bernoulli
    patch_method(monkeypatch, "bernoulli_", bernoulli_)
    expect_failure("twin-values", random_run("bernoulli_"))


def test_random_version_written_through_data(monkeypatch):
    def random_(self, *args, **kwargs):
        RANDOM_(self.data, *args, **kwargs)
        return self
    patch_method(monkeypatch, "random_", random_)
    expect_failure("version", random_run("random_", (torch.int64,)))


# ---- metadata ----------------------------------------------------------------------------------------

UNSQUEEZE_, T_, RESIZE_, REQUIRES_GRAD_ = (torch.Tensor.unsqueeze_, torch.Tensor.t_, torch.Tensor.resize_,
                                           torch.Tensor.requires_grad_)


def test_metadata_unsqueeze_at_the_wrong_dim(monkeypatch):
    # a valid positive dim is taken as 0; out-of-range dims still raise as in torch
    patch_method(monkeypatch, "unsqueeze_", lambda self, dim: UNSQUEEZE_(self, 0 if 0 < dim <= self.dim() else dim))
    expect_failure("metadata", metadata_run("unsqueeze_"))


def test_metadata_identity_t_returns_a_view(monkeypatch):
    patch_method(monkeypatch, "t_", lambda self: self.t())
    expect_failure("identity", metadata_run("t_"))


def test_metadata_storage_resize_copies_even_when_it_fits(monkeypatch):
    def resize_(self, *sizes, **kw):
        RESIZE_(self, *sizes, **kw)
        return self.set_(self.untyped_storage().clone(), self.storage_offset(), self.shape, self.stride())
    patch_method(monkeypatch, "resize_", resize_)
    expect_failure("storage", metadata_run("resize_"))


def test_metadata_twin_values_resize_loses_old_elements(monkeypatch):
    def resize_(self, *sizes, **kw):
        RESIZE_(self, *sizes, **kw)
        self.data.fill_(0)  # forgets the old elements
        return self
    patch_method(monkeypatch, "resize_", resize_)
    expect_failure("twin-values", metadata_run("resize_"))


def test_metadata_autograd_requires_grad_flag_ignored(monkeypatch):
    patch_method(monkeypatch, "requires_grad_", lambda self, requires_grad=True: REQUIRES_GRAD_(self, True))
    expect_failure("autograd", metadata_run("requires_grad_"))


# ---- torch.nn.init -----------------------------------------------------------------------------------

INIT_UNIFORM, INIT_ZEROS, INIT_KAIMING = torch.nn.init.uniform_, torch.nn.init.zeros_, torch.nn.init.kaiming_uniform_


def test_init_values_in_range_interval_too_wide(monkeypatch):
    monkeypatch.setattr(torch.nn.init, "uniform_",
                        lambda tensor, a=0.0, b=1.0, generator=None: INIT_UNIFORM(tensor, a, b + 1, generator))
    expect_failure("values-in-range", init_run("torch.nn.init.uniform_"))


def test_init_identity_returns_a_detached_alias(monkeypatch):
    monkeypatch.setattr(torch.nn.init, "zeros_", lambda tensor: INIT_ZEROS(tensor).detach())
    expect_failure("identity", init_run("torch.nn.init.zeros_"))


def test_init_seed_generator_ignored(monkeypatch):
    monkeypatch.setattr(torch.nn.init, "kaiming_uniform_",
                        lambda tensor, generator=None, **kw: INIT_KAIMING(tensor, **kw))
    expect_failure("seed", init_run("torch.nn.init.kaiming_uniform_"))


# ---- dunders and torch.nn.functional -----------------------------------------------------------------

ADD_ = torch.Tensor.add_
LEAKY_RELU = F.leaky_relu


def test_dunder_identity_iadd_rebinds(monkeypatch):
    # x += y rebinding x to a copy of the result (computed in place, so errors match torch's)
    patch_method(monkeypatch, "__iadd__", lambda self, other: ADD_(self, other).clone())
    expect_failure("identity", generic_run(nn_ops.DUNDERS, "__iadd__"))


def test_functional_identity_relu_out_of_place(monkeypatch):
    monkeypatch.setattr(F, "relu_", lambda input: torch.relu_(input).clone())  # a copy of the result
    expect_failure("identity", generic_run(nn_ops.ACTIVATIONS, "torch.nn.functional.relu_"))


def test_functional_inplace_flag_returns_a_copy(monkeypatch):
    def leaky_relu(input, negative_slope=0.01, inplace=False):
        return LEAKY_RELU(input, negative_slope, inplace=inplace).clone()  # a copy, even with inplace=True
    monkeypatch.setattr(F, "leaky_relu", leaky_relu)
    expect_failure("identity", generic_run(nn_ops.INPLACE_FLAG, "torch.nn.functional.leaky_relu"))


# ---- torch._foreach_*_ -------------------------------------------------------------------------------

FOREACH_ADD_, FOREACH_SQRT_, FOREACH_DIV_ = torch._foreach_add_, torch._foreach_sqrt_, torch._foreach_div_


def test_foreach_version_last_tensor_skipped(monkeypatch):
    def add_(tensors, *args, **kw):  # the last of two or more tensors is left out
        FOREACH_ADD_(tensors[:-1] if len(tensors) > 1 else tensors, *args, **kw)
    monkeypatch.setattr(torch, "_foreach_add_", add_)
    expect_failure("version", foreach_run("torch._foreach_add_"))


def test_foreach_twin_values_drift(monkeypatch):
    def sqrt_(tensors):
        FOREACH_SQRT_(tensors)
        for t in tensors:
            t.mul_(1.01)
    monkeypatch.setattr(torch, "_foreach_sqrt_", sqrt_)
    expect_failure("twin-values", foreach_run("torch._foreach_sqrt_"))


def test_foreach_error_parity_cast_error_swallowed(monkeypatch):
    def div_(tensors, *args, **kw):
        try:
            return FOREACH_DIV_(tensors, *args, **kw)
        except RuntimeError:
            return None
    monkeypatch.setattr(torch, "_foreach_div_", div_)
    expect_failure("error-parity", foreach_run("torch._foreach_div_", (torch.int64,)))


# ---- more clauses, one broken implementation each ------------------------------------------------------

SQUEEZE_, TRANSPOSE_ = torch.Tensor.squeeze_, torch.Tensor.transpose_
INIT_EYE, INIT_ONES = torch.nn.init.eye_, torch.nn.init.ones_
DROPOUT = F.dropout


def test_random_error_parity_expanded_self_written(monkeypatch):
    def uniform_(self, *args, **kwargs):
        try:
            return UNIFORM_(self, *args, **kwargs)
        except RuntimeError:
            return self  # swallows the internal-overlap error
    patch_method(monkeypatch, "uniform_", uniform_)
    expect_failure("error-parity", random_run("uniform_"))


def test_metadata_error_parity_t_on_any_rank(monkeypatch):
    patch_method(monkeypatch, "t_", lambda self: TRANSPOSE_(self, 0, 1) if self.dim() >= 2 else T_(self))
    expect_failure("error-parity", metadata_run("t_"))


def test_metadata_unchanged_on_error_squeeze_half_done(monkeypatch):
    patch_method(monkeypatch, "squeeze_", lambda self, *dims: _half_done_squeeze(self, *dims))
    expect_failure("unchanged-on-error", metadata_run("squeeze_"))


def _half_done_squeeze(self, *dims):
    """squeeze_ that unsqueezes self before raising on an out-of-range dim."""
    if dims and not isinstance(dims[0], int):
        return SQUEEZE_(self, *dims)
    if dims and not -max(self.dim(), 1) <= dims[0] < max(self.dim(), 1):
        UNSQUEEZE_(self, 0)  # changes self, then raises like torch
        raise IndexError(f"Dimension out of range (got {dims[0]})")
    return SQUEEZE_(self, *dims)


def test_init_twin_values_eye_fills_ones(monkeypatch):
    monkeypatch.setattr(torch.nn.init, "eye_",
                        lambda tensor: INIT_ONES(tensor) if tensor.dim() == 2 else INIT_EYE(tensor))
    expect_failure("twin-values", init_run("torch.nn.init.eye_"))


def test_init_parameter_loses_requires_grad(monkeypatch):
    def ones_(tensor):
        INIT_ONES(tensor)
        return tensor.requires_grad_(False) if isinstance(tensor, torch.nn.Parameter) else tensor
    monkeypatch.setattr(torch.nn.init, "ones_", ones_)
    expect_failure("parameter", init_run("torch.nn.init.ones_"))


def test_init_version_written_through_data(monkeypatch):
    def zeros_(tensor):
        INIT_ZEROS(tensor.data)  # .data does not bump the version
        return tensor
    monkeypatch.setattr(torch.nn.init, "zeros_", zeros_)
    expect_failure("version", init_run("torch.nn.init.zeros_"))


def test_init_unchanged_on_error_eye_writes_before_the_rank_check(monkeypatch):
    def eye_(tensor):
        with torch.no_grad():
            tensor.fill_(0)  # written before the ValueError
        return INIT_EYE(tensor)
    monkeypatch.setattr(torch.nn.init, "eye_", eye_)
    expect_failure("unchanged-on-error", init_run("torch.nn.init.eye_"))


def test_functional_declared_no_op_writes(monkeypatch):
    def dropout(input, p=0.5, training=True, inplace=False):
        if p == 0 and inplace:  # p=0 must leave input alone
            try:
                input.mul_(0.5)
            except RuntimeError:  # an expanded input: keep torch's outcome
                pass
            return input
        return DROPOUT(input, p, training, inplace)
    monkeypatch.setattr(F, "dropout", dropout)
    expect_failure("outside-view", lambda: mutation_properties.flagged_op_conforms(
        spec(nn_ops.INPLACE_FLAG, "torch.nn.functional.dropout"), torch.float32, "cpu", options()))


def test_foreach_identity_returns_copies(monkeypatch):
    def neg_(tensors):
        FOREACH_NEG_(tensors)
        return [t.clone() for t in tensors]
    monkeypatch.setattr(torch, "_foreach_neg_", neg_)
    expect_failure("identity", foreach_run("torch._foreach_neg_"))


def test_foreach_outside_view_operand_written(monkeypatch):
    def mul_(tensors, other, **kw):
        FOREACH_MUL_(tensors, other, **kw)
        if isinstance(other, list) and other and isinstance(other[0], torch.Tensor):
            other[0].data.add_(1)  # writes into an operand
    monkeypatch.setattr(torch, "_foreach_mul_", mul_)
    expect_failure("outside-view", foreach_run("torch._foreach_mul_"))


FOREACH_NEG_, FOREACH_MUL_ = torch._foreach_neg_, torch._foreach_mul_


EMBEDDING_RENORM_ = torch.embedding_renorm_


def test_embedding_renorm_twin_values_scales_every_row(monkeypatch):
    def embedding_renorm_(weight, indices, max_norm, norm_type):
        return EMBEDDING_RENORM_(weight, torch.arange(weight.shape[0]), max_norm, norm_type)  # ignores indices
    monkeypatch.setattr(torch, "embedding_renorm_", embedding_renorm_)
    expect_failure("twin-values", lambda: mutation_properties.embedding_renorm_conforms(
        nn_ops.EMBEDDING_RENORM, "cpu", options()))


def test_metadata_error_parity_resize_swallows_cannot_grow(monkeypatch):
    def resize_(self, *sizes, **kw):
        try:
            return RESIZE_(self, *sizes, **kw)
        except RuntimeError:
            return self  # "not resizable" swallowed
    patch_method(monkeypatch, "resize_", resize_)
    expect_failure("error-parity", lambda: mutation_properties.metadata_op_conforms(
        spec(metadata_ops.SPECS, "resize_"), "cpu", options(), dtypes=FLOAT, numpy_storage=True))


def test_random_error_parity_invalid_rate_accepted(monkeypatch):
    def exponential_(self, lambd=1.0, generator=None):
        return EXPONENTIAL_(self, abs(lambd) or 1.0, generator=generator)  # "repairs" lambd <= 0
    patch_method(monkeypatch, "exponential_", exponential_)
    expect_failure("error-parity", lambda: mutation_properties.random_op_rejects_invalid(
        spec(random_ops.SPECS, "exponential_"), "cpu", options(), dtypes=FLOAT))
