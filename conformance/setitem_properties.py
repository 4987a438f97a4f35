"""Hypothesis properties of indexing assignment: draw an :class:`Assignment` of one form, check it.

No pytest here. Each example draws ``self`` (any layout the strategies draw, non-contiguous and expanded
included), a scenario (a valid key, or one of the key errors, or a negative step) and a value, then runs
:func:`~conformance.checks.setitem.check_assignment`. Exception-safety findings are reported through
``event``/``note`` and appended to the caller's list, so the suite can show them without failing.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import hypothesis
import torch
from hypothesis import event, given, note, strategies as st

from strategies.indices import (VALUE_KINDS, IndexKey, Mask, assigned_values, broadcast_masks, index_keys,
                                index_tensors)
from strategies.reuse import reused, sampled_from
from strategies.shapes import broadcast_shape, shapes
from strategies.tensors import built_tensors

from .checks.setitem import FORMS, Assignment, check_assignment, storage_ids, unimplemented
from .properties import UNIMPLEMENTED_EXAMPLES, RunOptions, run

MAX_SIDE = 3
"""Sides of ``self`` up to 3 (4 dims): small arrays draw fast, and indices into them repeat often."""

SCENARIOS = ("valid",) * 6 + ("negative-step", "out-of-bounds-int", "out-of-bounds-array", "mask-shape")
"""Weights of what a ``t[key] = v`` example draws: mostly valid keys, now and then each kind of error."""

DEVICE_SAFE_ERRORS = ("negative-step", "out-of-bounds-int", "mask-shape")
"""Off the CPU an out-of-bounds index tensor trips a device-side assert that poisons the whole process,
so out-of-bounds *index tensors* are drawn on the CPU only (integers are checked on the host everywhere)."""

VALUE_KINDS_BY_FORM = {
    "setitem": tuple(k for k in VALUE_KINDS if k != "window-of-self"),
    "index_put": ("0-d", "tensor", "other-dtype", "element-of-self", "unbroadcastable"),
    "masked_fill": ("scalar", "0-d", "other-dtype", "element-of-self"),
    "masked_scatter": ("tensor", "other-dtype"),
    "select_fill": ("scalar", "0-d", "other-dtype", "element-of-self"),
    "slice_copy": ("0-d", "tensor", "other-dtype", "element-of-self", "unbroadcastable"),
}
"""The values each form's main property draws. A window of self's own storage (partial overlap of source
and destination) has its own property, :func:`assignment_from_self_conforms`: torch cannot see every
such overlap (known issues), and one undetected case must not hide the rest of a form's contract."""


def _target_shape(built, key: IndexKey):
    try:
        first, second = key.torch_steps()
        return storage_ids(built.layout)[first][second].shape
    except IndexError:
        return None


@reused
@st.composite
def assignments(draw, form: str, dtype: torch.dtype, device: str = "cpu", *, other_dtypes=(),
                kinds=None, scenarios=SCENARIOS) -> Assignment:
    """One call of ``form`` (see :data:`~conformance.checks.setitem.FORMS`) on a drawn ``self``.

    ``kinds`` (default: :data:`VALUE_KINDS_BY_FORM`) are the value kinds drawn, ``scenarios`` the
    weights of valid keys and key errors.
    """
    min_dims = 1 if form in ("select_fill", "slice_copy", "index_put") else 0  # index_put_: no 0-d mask
    shape = draw(shapes(min_dims=min_dims, max_side=MAX_SIDE), label="self shape")
    built = draw(built_tensors(dtype, shape, device, label="self"))
    if device != "cpu":
        scenarios = tuple(s for s in scenarios if s in ("valid",) + DEVICE_SAFE_ERRORS)
    main = kinds is None
    kinds = kinds or VALUE_KINDS_BY_FORM[form]
    extra = {"accumulate": False, "dim": 0, "mask": None}
    if form == "setitem":
        scenario = draw(sampled_from(tuple(scenarios)), label="scenario")
        key = draw(index_keys(shape, negative_steps=scenario == "negative-step",
                              error=None if scenario in ("valid", "negative-step") else scenario), label="key")
    elif form == "index_put":
        error = draw(sampled_from(tuple(s for s in scenarios if s in ("valid", "out-of-bounds-array", "mask-shape"))),
                     label="scenario")
        key = draw(index_tensors(shape, error=None if error == "valid" else error), label="indices")
        extra["accumulate"] = draw(st.booleans(), label="accumulate")
        if extra["accumulate"] and main:  # re-read after each add when self is expanded: the overlap property's job
            kinds = tuple(k for k in kinds if k != "element-of-self")
    elif form in ("masked_fill", "masked_scatter"):
        mismatched = "mask-shape" in scenarios and draw(st.integers(0, 7), label="mismatched mask?") == 0
        mask = draw(broadcast_masks(shape, mismatched=mismatched))
        extra["mask"] = mask
        fits = broadcast_shape(mask.shape, shape) == shape
        key = IndexKey((Mask(np.broadcast_to(mask, shape)),)) if fits else IndexKey(())
    else:
        dims = [d for d, side in enumerate(shape) if side] or [0]
        dim = draw(sampled_from(tuple(dims)), label="dim")
        side = shape[dim]
        if form == "select_fill":
            index = draw(st.integers(-side - 1, side) if side else st.just(0), label="index")
        else:
            bound = st.one_of(st.none(), st.integers(-side - 1, side + 1))
            index = slice(draw(bound, label="start"), draw(bound, label="stop"),
                          draw(sampled_from((None, 1, 2, 3)), label="step"))
        key, extra["dim"] = IndexKey((slice(None),) * dim + (index,)), dim
    target = _target_shape(built, key)
    if form == "masked_scatter" and target is not None:
        count = math.prod(target)
        target = (draw(st.integers(max(count - 1, 0), count + 2), label="source length"),)
    elif form in ("masked_fill", "select_fill"):
        target = ()
    value = draw(assigned_values(dtype, target, device, self_built=built, other_dtypes=other_dtypes, kinds=kinds),
                 label="value")
    return Assignment(form, device, built, key, value, **extra)


def assignment_conforms(form: str, dtype: torch.dtype, device: str, options: RunOptions, *,
                        findings: list | None = None, database_key: str = "") -> str | None:
    """The contract of ``form`` on ``self`` of ``dtype`` on ``device``, against NumPy.

    Appends exception-safety findings to ``findings``. Returns the "not implemented" message of the
    kernel ``form`` lowers to when the device lacks it for ``dtype`` (the property then checked that the
    call raises and leaves ``self`` alone), else None.
    """
    __tracebackhide__ = True
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; known: {', '.join(FORMS)}")
    collected = findings if findings is not None else []

    @given(data=st.data())
    def prop(data):
        a = data.draw(assignments(form, dtype, device, other_dtypes=options.operand_dtypes), label="assignment")
        _record(check_assignment(a), collected)

    kernel = {"index_put": "index_put", "masked_fill": "masked_fill", "masked_scatter": "masked_scatter"}.get(form)
    missing = unimplemented(kernel, dtype, device) if kernel else None
    if missing:  # a few examples suffice to check that the call raises and leaves self alone
        options = dataclasses.replace(options, settings=hypothesis.settings(
            options.settings, max_examples=min(UNIMPLEMENTED_EXAMPLES, options.settings.max_examples)))
    run(prop, options, database_key or f"setitem-{form}-{dtype}-{device}")
    return missing


OVERLAP_FORMS = ("setitem", "index_put", "masked_scatter", "slice_copy")
"""Forms whose value may be a window of ``self``'s own storage (the others take only 0-d values)."""


def assignment_from_self_conforms(form: str, dtypes, device: str, options: RunOptions, *,
                                  findings: list | None = None, database_key: str = "") -> None:
    """The value is a view of ``self``'s storage: a window of the indexed shape, or one element of ``self``.

    Torch may raise (its overlap check is conservative); a call that returns must equal NumPy's
    assignment of the value as read before the call. Overlap does not depend on the dtype, so each example
    draws one of ``dtypes`` (those whose kernel exists) rather than multiplying tests by dtype.
    """
    __tracebackhide__ = True
    kinds = ("window-of-self",) if form == "masked_scatter" else ("window-of-self", "element-of-self")
    kernel = {"index_put": "index_put", "masked_scatter": "masked_scatter"}.get(form)
    dtypes = [d for d in dtypes if not (kernel and unimplemented(kernel, d, device))]
    collected = findings if findings is not None else []

    @given(data=st.data())
    def prop(data):
        dtype = data.draw(sampled_from(tuple(dtypes)), label="dtype")
        a = data.draw(assignments(form, dtype, device, other_dtypes=options.operand_dtypes, kinds=kinds,
                                  scenarios=("valid",)), label="assignment")
        _record(check_assignment(a), collected)

    run(prop, options, database_key or f"setitem-self-{form}-{device}")


def _record(result, collected: list) -> None:
    outcome, finding = result
    event(outcome)
    if finding is not None:
        event(f"finding: {finding.kind}")
        note(str(finding))
        collected.append(finding)
