"""Hypothesis properties of the autograd contract, built per call with explicit settings (see
:func:`conformance.properties.run`). Draws are few and cheap (shapes, seeds, one program); each example then
checks many runs, ops or steps, built from a seeded torch generator."""
from __future__ import annotations

import dataclasses
import unittest

import hypothesis
import torch
from hypothesis import event, given, strategies as st

from conformance.properties import RunOptions, run

from .exactly_when import check_program
from .gradients import check_gradients, differentiable_specs
from .leaves import check_leaf_rules
from .optimizers import OPTIMIZERS, check_optimizer, check_parameter_updates, fused_unsupported
from .program import MUTATORS, programs
from .versions import HANDLES, check_versions

GRADIENT_OPS_PER_EXAMPLE = 8
"""Gradient agreement costs about 3 ms per op (second order included): each example checks 8 ops spread
over the catalog, from a drawn start, so that the ``ci`` profile's 40 examples cover every op."""


def _eager_only(options: RunOptions) -> None:
    """These properties call torch directly: on another target they would check eager torch under its name."""
    if options.target != "eager":
        raise unittest.SkipTest(f"runs eagerly only (target {options.target}); the exactly-when property runs "
                                "its forward on the target")


def unsupported_reason(device: str) -> str | None:
    """Why the autograd properties cannot run on ``device`` (None: they can)."""
    if torch.device(device).type == "meta":
        return "meta tensors have no values and no storage addresses, which the saved-tensor model relates by"
    return None


def _generator(data) -> torch.Generator:
    return torch.Generator().manual_seed(data.draw(st.integers(0, 2**16), label="seed"))


def _shape(data, min_dims: int = 1) -> tuple[int, ...]:
    rank = data.draw(st.integers(min_dims, 3), label="rank")
    return tuple(data.draw(st.lists(st.integers(2, 3), min_size=rank, max_size=rank), label="shape"))


def exactly_when(device: str, options: RunOptions, database_key: str, observe=None) -> None:
    """Property 1: a drawn program, unmutated and then with every mutation; backward raises exactly when
    predicted. ``observe(program, mutation, outcome)`` sees every checked run."""
    @given(data=st.data())
    def prop(data):
        program = data.draw(programs(), label="program")
        offset = data.draw(st.integers(0, len(MUTATORS) - 1), label="mutator offset")
        event(f"baseline {check_program(program, device, offset, observe)}")

    run(prop, options, database_key)


def version_counters(device: str, options: RunOptions, database_key: str) -> None:
    """Property 2: every float64 catalog op and assignment through a rotating view handle."""
    _eager_only(options)
    @given(data=st.data())
    def prop(data):
        shape = _shape(data)
        start = data.draw(st.integers(0, len(HANDLES) - 1), label="first handle")
        check_versions(shape, device, _generator(data), start)

    run(prop, options, database_key)


LEAF_EXAMPLES_DIVISOR = 8
"""The leaf and view rules are structural (values barely matter) and run once per catalog op: each op gets
an eighth of the profile's examples (5 under ``ci``)."""


def leaf_and_view_rules(spec, device: str, options: RunOptions, database_key: str) -> None:
    """Property 3 for one float64 catalog op on a drawn shape."""
    _eager_only(options)
    examples = max(1, options.settings.max_examples // LEAF_EXAMPLES_DIVISOR)
    options = dataclasses.replace(options, settings=hypothesis.settings(options.settings, max_examples=examples))
    @given(data=st.data())
    def prop(data):
        check_leaf_rules(spec, _shape(data), device, _generator(data))

    run(prop, options, database_key)


def inplace_gradients(dtype: torch.dtype, device: str, options: RunOptions, database_key: str) -> None:
    """Property 4: first- and second-order gradients of in-place ops equal their twins'."""
    _eager_only(options)
    specs = differentiable_specs(dtype)
    stride = max(1, len(specs) // GRADIENT_OPS_PER_EXAMPLE)

    @given(data=st.data())
    def prop(data):
        shape = _shape(data, min_dims=0)
        start = data.draw(st.integers(0, stride - 1), label="first op")
        gen = _generator(data)
        for spec in specs[start::stride]:
            event(check_gradients(spec, shape, dtype, device, gen))

    run(prop, options, database_key)


def parameter_updates(device: str, options: RunOptions, database_key: str) -> None:
    """Property 5a: updates of an ``nn.Parameter`` under ``no_grad``."""
    _eager_only(options)
    @given(data=st.data())
    def prop(data):
        check_parameter_updates(_shape(data), device, _generator(data))

    run(prop, options, database_key)


def optimizer_steps(name: str, form: str, device: str, options: RunOptions, database_key: str) -> None:
    """Property 5b: optimizer ``name`` in implementation ``form`` steps in place and agrees with the for-loop
    implementation (1 to 3 parameters, 2 to 4 steps)."""
    _eager_only(options)
    assert name in OPTIMIZERS, name
    why = fused_unsupported(name, device) if form == "fused" else None
    if why:
        raise unittest.SkipTest(f"fused {name} does not step on {device}: {why}")

    @given(data=st.data())
    def prop(data):
        shapes = [_shape(data) for _ in range(data.draw(st.integers(1, 3), label="parameters"))]
        flags = tuple(data.draw(st.lists(st.booleans(), min_size=3, max_size=3), label="flags"))
        steps = data.draw(st.integers(2, 4), label="steps")
        check_optimizer(name, form, shapes, flags, steps, device, _generator(data))

    run(prop, options, database_key)
