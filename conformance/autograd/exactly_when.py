"""Property 1: ``backward()`` raises "modified by an inplace operation" exactly when the model predicts it,
and without an error the gradients equal those of the unmutated program whenever no saved tensor was touched.
"""
from __future__ import annotations

import torch

from conformance.checks.compare import bitwise_equal
from conformance.checks.failure import ConformanceFailure

from conformance import targets

from .compiled import execute_on_target, forward_on_target, source as target_source
from .program import Mutation, Program, Run, execute, mutations

MESSAGE = "modified by an inplace operation"

CHECKS = {
    "autograd-raises": "backward raises the in-place error exactly when a write reached a saved tensor",
    "autograd-gradients": "without an error and with no saved tensor touched, gradients equal the unmutated run",
}


def _describe(run: Run) -> str:
    return "returned" if run.error is None else f"raised {type(run.error).__name__}: {str(run.error).splitlines()[0]}"


def check_run(program: Program, run: Run, mutation: Mutation | None, baseline: Run | None, device: str,
              source=None) -> str:
    """Check one run against the model; returns its outcome ("raised", "clean", "escaped").
    ``source(mutation)`` spells the run in a failure (default: the eager program)."""
    __tracebackhide__ = True
    source = source or program.source
    predicted = run.predicted_raise()
    raised = run.error is not None and MESSAGE in str(run.error)
    subject = f"program of {len(program.steps)} steps, mutation {mutation or 'none'} on {device}"
    if raised != bool(predicted) or (run.error is not None and not raised):
        expected = (f"backward raises: {predicted[0].text!r} wrote into a saved tensor" if predicted
                    else "backward returns: no counted write reached a tensor saved for backward")
        raise ConformanceFailure("autograd-raises", subject, expected, _describe(run), source(mutation))
    if raised:
        return "raised"
    if run.touched_saved():
        return "escaped"
    if baseline is not None:
        for i, (want, got) in enumerate(zip(baseline.grads, run.grads)):
            if (want is None) != (got is None) or (want is not None and not bitwise_equal(want, got)):
                raise ConformanceFailure(
                    "autograd-gradients", subject, f"n{i}.grad as without the mutation: {want}",
                    f"n{i}.grad = {got}", source(mutation))
    return "clean"


def check_program(program: Program, device: str = "cpu", offset: int = 0, observe=None) -> str:
    """Run ``program`` unmutated, then with every mutation of :func:`mutations`; check each run.

    ``observe(program, mutation, outcome)`` sees every checked run (for coverage counts). Returns the
    baseline's outcome; a program whose own forward writes into a saved tensor is not mutated further.
    """
    __tracebackhide__ = True
    if not isinstance(targets.current(), targets.Eager):
        return check_program_on_target(program, device, offset, observe)
    with torch.autograd.set_grad_enabled(True):
        baseline = execute(program, device)
        outcome = check_run(program, baseline, None, None, device)
        if observe:
            observe(program, None, outcome)
        if outcome != "clean":
            return outcome
        for mutation in mutations(program, offset):
            result = check_run(program, execute(program, device, mutation), mutation, baseline, device)
            if observe:
                observe(program, mutation, result)
    return outcome


def check_program_on_target(program: Program, device: str = "cpu", offset: int = 0, observe=None) -> str:
    """:func:`check_program` with the forward on the active target (one compiled graph for all runs)."""
    __tracebackhide__ = True
    with torch.autograd.set_grad_enabled(True):
        eager = execute(program, device)
        forward = forward_on_target(program, device)
        baseline = execute_on_target(program, forward, device)
        subject = f"program of {len(program.steps)} steps, forward on target {targets.current().name}, on {device}"
        if eager.error is not None and MESSAGE in str(eager.error):  # the forward writes into what it saved
            if baseline.error is None or MESSAGE not in str(baseline.error):
                raise ConformanceFailure("autograd-raises", subject, "raises as eager does: the forward writes into "
                                         "a tensor it saved", _describe(baseline), target_source(program, None))
            return "raised"
        outcome = check_run(program, baseline, None, None, device, lambda m: target_source(program, m))
        if observe:
            observe(program, None, outcome)
        if outcome != "clean":
            return outcome
        for mutation in mutations(program, offset):
            result = check_run(program, execute_on_target(program, forward, device, mutation), mutation, baseline,
                               device, lambda m: target_source(program, m))
            if observe:
                observe(program, mutation, result)
    return outcome
