"""Helpers for planted-bug tests: run a suite property under a deliberately broken torch and collect the failure."""
from __future__ import annotations

import hypothesis
import pytest
import torch

from conformance.checks import ConformanceFailure
from conformance.properties import RunOptions
from strategies.dtypes import CORE_DTYPES

PLANTED = hypothesis.settings(max_examples=300, derandomize=True, database=None, deadline=None,
                              report_multiple_bugs=False, suppress_health_check=list(hypothesis.HealthCheck))


def options(**overrides) -> RunOptions:
    """Fast, deterministic options, with every core dtype available to operands (as on the CPU)."""
    return RunOptions(settings=overrides.pop("settings", PLANTED), operand_dtypes=CORE_DTYPES, **overrides)


def expect_failure(check: str, run) -> ConformanceFailure:
    """Run ``run()``; it must raise a ConformanceFailure of ``check``. Returns the failure for more asserts."""
    with pytest.raises(ConformanceFailure) as info:
        run()
    assert info.value.check == check, f"expected the {check!r} check to fail, got:\n{info.value}"
    return info.value


def patch_method(monkeypatch, name: str, replacement) -> None:
    """Replace ``torch.Tensor.<name>`` for the duration of one test."""
    monkeypatch.setattr(torch.Tensor, name, replacement)
