"""The Hypothesis property of the ``out=`` family: one drawn case, every ``out`` arrangement checked on it.

Draws dominate the cost, so each example checks four calls on the same inputs: a fresh ``out`` with a drawn
layout, an ``out`` that must be resized, an empty ``out``, and one aliased arrangement (input, view of an
input's storage, or another ``out``).
"""
from __future__ import annotations

import dataclasses

from hypothesis import event, given, strategies as st

from strategies.layouts import LAYOUT_KINDS
from strategies.reuse import sampled_from
from strategies.shapes import shapes
from strategies.tensors import built_tensors

from .catalog import cases
from .checks.out import alias_candidates, check_out_alias, check_out_call, check_out_resize, functional, results
from .properties import RunOptions, for_implementation, run


OUT_LAYOUTS = {"dense": tuple(k for k in LAYOUT_KINDS if k != "expanded"), "hard": ("expanded", "contiguous")}


def _other_shape(shape):
    """Non-empty shapes other than ``shape``: the out must be resized, with a warning."""
    return shapes(min_dims=1, allow_empty=False).filter(lambda s: s != tuple(shape))


def out_agrees_with_functional(spec, dtype, device, options: RunOptions, *, mode: str = "dense",
                               database_key: str = "") -> str | None:
    """The ``out=`` contract of ``spec`` with inputs of ``dtype`` on ``device``; returns the functional op's
    "not implemented" message when the combination is unsupported (after checking error parity).

    ``mode="dense"`` draws ``out`` layouts without internal overlap and the aliased arrangements torch can
    detect; ``mode="hard"`` draws expanded (self-overlapping) ``out`` layouts, views of non-dense inputs and
    outs shared between outputs (see :func:`~conformance.checks.out.alias_candidates`).
    """
    __tracebackhide__ = True
    options, unimplemented = for_implementation(options, spec, dtype, device)

    @given(data=st.data())
    def prop(data):
        case = data.draw(cases(spec, dtype, device, operand_dtypes=options.operand_dtypes), label="inputs")
        expected = functional(case)
        if expected.raised:
            out = data.draw(built_tensors(dtype, tuple(case.self.tensor.shape), device,
                                          layout_kinds=OUT_LAYOUTS["dense"], label="out"))
            check_out_call(case, expected, [out])
            event("raised")
            return
        kinds = OUT_LAYOUTS[mode]
        outs = [data.draw(built_tensors(r.dtype, tuple(r.shape), device, layout_kinds=kinds, label=f"out{i}"))
                for i, r in enumerate(results(expected.value))]
        check_out_call(case, expected, outs)
        check_out_resize(case, expected, data.draw(_other_shape(results(expected.value)[0].shape), label="resize from"))
        check_out_resize(case, expected, (0,))
        candidates = alias_candidates(case, expected, mode)
        if candidates:
            alias = data.draw(sampled_from(tuple(candidates)), label="alias")
            if alias.kind == "input view":
                built = case.self if alias.target == "self" else dict(case.built_operands())[alias.target]
                room = built.layout.storage_size - results(expected.value)[alias.index].numel()
                alias = dataclasses.replace(alias, offset=data.draw(st.integers(0, room), label="alias offset"))
            check_out_alias(case, expected, alias)
            event(f"alias: {alias.kind}")

    run(prop, options, database_key or f"out-{spec.name}-{dtype}-{device}")
    return unimplemented
