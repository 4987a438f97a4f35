"""Hypothesis properties over the structured families (scans, linalg, index, creation). No pytest here.

Like :mod:`conformance.properties`, each property builds its ``@given`` test on call with explicit
settings and runs it through :func:`conformance.properties.run`.
"""
from __future__ import annotations

import dataclasses

import hypothesis
from hypothesis import event, given, strategies as st

from strategies.dtypes import dtype_name
from strategies.reuse import sampled_from

from . import capabilities
from .catalog.structured import SELF_LAYOUTS, StructuredSpec, structured_cases
from .checks.index_ops import check_structured_call
from .checks.compare import bitwise_equal
from .properties import UNIMPLEMENTED_EXAMPLES, RunOptions, run


PER_DTYPE_SHARE = 4
"""Structured ops run a quarter of the profile's examples per dtype (10 under ``ci``, 250 under ``nightly``):
each op is parametrized over every dtype, so it still sees several times the profile's examples in all."""


def per_dtype(options: RunOptions) -> RunOptions:
    """``options`` with the examples of one (op, dtype) test: the profile's share, at least
    :data:`~conformance.properties.UNIMPLEMENTED_EXAMPLES`."""
    examples = max(UNIMPLEMENTED_EXAMPLES, options.settings.max_examples // PER_DTYPE_SHARE)
    return dataclasses.replace(options, settings=hypothesis.settings(options.settings, max_examples=examples))


def structured_contract(spec: StructuredSpec, dtype, device, options: RunOptions, *, expanded: bool = False,
                        aliasing: tuple[str | None, ...] = (None,), alias_operands: bool = False,
                        database_key: str = "") -> str | None:
    """The whole contract of ``spec`` on ``self`` of ``dtype`` (DESIGN.md points 1 to 4) with the rules its
    catalog entry declares; ``expanded`` draws only expanded (stride-0) ``self``; ``alias_operands`` makes
    matrix operands of ``self``'s shape ``self`` itself or its transpose.

    Returns a reason when the catalog says the op does not implement ``dtype`` (after checking error parity
    on a few examples), else None.
    """
    __tracebackhide__ = True
    unimplemented = None if spec.implements(dtype) else f"{spec.name} does not implement {dtype_name(dtype)}"
    if unimplemented:
        options = dataclasses.replace(options, settings=hypothesis.settings(
            options.settings, max_examples=min(UNIMPLEMENTED_EXAMPLES, options.settings.max_examples)))
    kinds = ("expanded",) if expanded else SELF_LAYOUTS

    @given(data=st.data())
    def prop(data):
        mode = data.draw(sampled_from(tuple(aliasing)), label="aliasing") if len(aliasing) > 1 else aliasing[0]
        case = data.draw(structured_cases(spec, dtype, device, operand_dtypes=options.operand_dtypes,
                                          layout_kinds=kinds, aliasing=mode, alias_operands=alias_operands),
                         label="case")
        case.reference_device = options.reference_device
        case.tolerances = options.tolerances_for(spec.name, device)
        before = case.self.storage.clone()
        outcome = check_structured_call(case)
        if outcome.raised and capabilities.has(device, "values") and not bitwise_equal(before, case.self.storage):
            event("exception-safety: raised after writing part of self")
        event("raised" if outcome.raised else "returned")

    run(prop, options, database_key or f"{spec.name}-{dtype}-{device}-{expanded}-{aliasing}-{alias_operands}")
    return unimplemented
