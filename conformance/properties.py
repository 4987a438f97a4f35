"""Hypothesis properties over catalog ops: draw a case, run the checks. No pytest here.

Each property builds its ``@given`` test on call, with explicit settings, so the kit never changes
Hypothesis' global settings; ``database_key`` keeps each (op, dtype, device) test's saved examples apart.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import time
import unittest

import hypothesis
import torch
from hypothesis import Phase, event, given, strategies as st

from strategies.dtypes import supported_dtypes
from strategies.reuse import sampled_from

from . import budget, example_db, stats, targets
from .catalog import cases
from .checks import check_inplace_call
from .support import unimplemented_reason


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What a run asks of every property: settings, reference device, reproduction of one blob."""

    settings: hypothesis.settings
    reference_device: str | None = None
    reproduce_blob: str | None = None
    operand_dtypes: tuple = ()
    tolerances: object = None  # a conformance.tolerances.Tolerances from --tolerances, or None
    target: str = "eager"  # how the op under test runs (conformance.targets): eager, compile, fake, module:callable

    def tolerances_for(self, op: str, device: str) -> dict | None:
        """``{dtype: (rtol, atol)}`` for comparing ``op``'s results on ``device`` (None: the defaults)."""
        if self.tolerances is None:
            return None
        cross_device = self.reference_device is not None and self.reference_device != device
        return self.tolerances.table(op, cross_device=cross_device)


def run(test, options: RunOptions, database_key: str) -> None:
    """Run the Hypothesis test ``test`` under ``options`` with every checked call made on ``options.target``
    (:mod:`conformance.targets`); raises ``unittest.SkipTest`` when the target could run none of the examples."""
    __tracebackhide__ = True
    before = stats.examples()
    with targets.active(options.target) as tally:
        _run(test, options, database_key)
    if tally.not_applicable and tally.not_applicable == stats.examples() - before:
        raise unittest.SkipTest(f"target {options.target} ran none of {tally.not_applicable} examples: {tally.reason}")


def _run(test, options: RunOptions, database_key: str) -> None:
    """Run the Hypothesis test ``test`` under ``options``, keyed by ``database_key`` in the database.

    A derandomized run (``ci``) first replays the failures saved in :mod:`conformance.example_db`'s replay
    database. Under a time budget (:mod:`conformance.budget`) the examples run in batches until the
    test's deadline passes or ``max_examples`` have run.
    """
    __tracebackhide__ = True
    test = _counted(test)
    test.hypothesis.inner_test._hypothesis_internal_add_digest = portable_key(database_key).encode()
    run_settings = options.settings
    if options.reproduce_blob:
        test = hypothesis.reproduce_failure(hypothesis.__version__, options.reproduce_blob.encode())(test)
        _with_settings(test, run_settings)()
        return
    if run_settings.derandomize and example_db.replay_database() is not None:
        _replay(test, run_settings, example_db.replay_database())
    if budget.deadline() is None or run_settings.derandomize:
        _with_settings(test, run_settings)()  # derandomized batches would repeat the same examples
        return
    _batches(test, run_settings, budget.deadline())


def portable_key(database_key: str) -> str:
    """A node id's database key without the folders (``test_pointwise.py::test_x[add_-float16-cpu]``):
    the same test on machines that installed the kit in different places shares saved examples."""
    path, sep, rest = database_key.partition("::")
    return path.rsplit("/", 1)[-1] + sep + rest if sep else database_key


BATCHES = 20
"""Under a time budget, each batch is a Hypothesis run of ``max_examples / BATCHES`` examples (50 for
``nightly``: a little more than ``ci``'s 40, so the shortest budget still runs more than a CI run)."""


def _batches(test, run_settings: hypothesis.settings, deadline: float) -> None:
    """Batches of examples until ``deadline`` or ``max_examples``; the first always runs. Each batch is a
    whole Hypothesis run: a failure is shrunk, saved in the database and raised as usual."""
    __tracebackhide__ = True
    size = max(1, math.ceil(run_settings.max_examples / BATCHES))
    done = 0
    first = True
    while done < run_settings.max_examples and (first or time.monotonic() < deadline):
        batch = min(size, run_settings.max_examples - done)
        phases = [p for p in run_settings.phases if first or p not in (Phase.explicit, Phase.reuse)]
        before = stats.examples()
        _with_settings(test, hypothesis.settings(run_settings, max_examples=batch, phases=phases))()
        ran = stats.examples() - before
        if ran < batch:  # Hypothesis exhausted what the strategies can draw
            return
        done += ran
        first = False


def _replay(test, run_settings: hypothesis.settings, database) -> None:
    """Replay (and shrink, unless the settings exclude it) the failures saved under this test's key."""
    __tracebackhide__ = True
    phases = [p for p in run_settings.phases if p in (Phase.reuse, Phase.shrink)]
    if Phase.reuse not in phases:
        return
    try:
        _with_settings(test, hypothesis.settings(run_settings, derandomize=False, database=database,
                                                 phases=phases))()
    except unittest.SkipTest:  # nothing saved: Hypothesis was told to run no test case
        pass


def _with_settings(test, run_settings: hypothesis.settings):
    """``test`` (a ``@given`` test) set to run under ``run_settings`` on its next call."""
    test._hypothesis_internal_use_settings = run_settings
    return test


def _counted(test):
    """``test`` with every example it runs counted in :mod:`conformance.stats` (read by the report)."""
    inner = test.hypothesis.inner_test

    @functools.wraps(inner)
    def counting(*args, **kwargs):
        stats.count_example()
        try:
            return inner(*args, **kwargs)
        except targets.Signal as signal:  # the target checked all it checks, or could not run the call
            targets.note(signal)
            return None
    test.hypothesis.inner_test = counting
    return test


UNIMPLEMENTED_EXAMPLES = 5
"""Examples run where the twin is not implemented for the dtype: enough to check error parity."""


def for_implementation(options: RunOptions, spec, dtype: torch.dtype, device: str) -> tuple[RunOptions, str | None]:
    """``options`` cut to :data:`UNIMPLEMENTED_EXAMPLES` where the twin is not implemented for ``dtype`` on
    ``device``, with torch's "not implemented" message (None where it is implemented)."""
    unimplemented = unimplemented_reason(spec, dtype, device)
    if unimplemented:
        options = dataclasses.replace(options, settings=hypothesis.settings(
            options.settings, max_examples=min(UNIMPLEMENTED_EXAMPLES, options.settings.max_examples)))
    return options, unimplemented


def inplace_agrees_with_twin(spec, dtype: torch.dtype | None, device, options: RunOptions, *,
                             aliasing: tuple[str | None, ...] = (None,), database_key: str = "") -> str | None:
    """The whole contract of ``spec`` on ``self`` of ``dtype`` on ``device`` (DESIGN.md points 1 to 4).

    ``aliasing`` lists the ways an operand may alias ``self`` (see ``ALIASING_MODES``; None: it does not).
    With ``dtype=None`` each example draws a dtype among those the twin implements on ``device``.
    Returns the twin's "not implemented" message when ``dtype`` is unsupported (after checking error
    parity on a few examples), else None.
    """
    __tracebackhide__ = True
    unimplemented = None
    if dtype is None:
        dtypes = st.sampled_from([d for d in supported_dtypes(device) if not unimplemented_reason(spec, d, device)])
    else:
        dtypes = st.just(dtype)
        options, unimplemented = for_implementation(options, spec, dtype, device)

    @given(data=st.data())
    def prop(data):
        drawn_dtype = data.draw(dtypes, label="dtype")
        mode = data.draw(sampled_from(tuple(aliasing)), label="aliasing") if len(aliasing) > 1 else aliasing[0]
        case = data.draw(cases(spec, drawn_dtype, device, operand_dtypes=options.operand_dtypes, aliasing=mode),
                         label="case")
        case.reference_device = options.reference_device
        case.tolerances = options.tolerances_for(spec.name, device)
        outcome = check_inplace_call(case)
        event("raised" if outcome.raised else "returned")

    run(prop, options, database_key or f"{spec.name}-{dtype}-{device}-{aliasing}")
    return unimplemented
