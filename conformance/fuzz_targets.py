"""Fuzz targets for HypoFuzz (``hypothesis fuzz``): the pointwise contract as module-level ``@given`` tests.

HypoFuzz collects with ``pytest --collect-only -m hypothesis`` and fuzzes only test functions that are
``@given`` tests themselves and request no fixture (``parametrize`` arguments are fine), skipping xfail and
skip marks. The suite's tests build their ``@given`` test inside a test taking fixtures (settings, budget,
database key), so HypoFuzz finds none of them: this module restates the pointwise ones in that form, with
the same names, so known issues and expectations files apply. Not collected by a plain ``pytest`` run (its
name does not start with ``test_``); name it to run it: see docs/nightly.md.
"""
from __future__ import annotations

from hypothesis import event, given, strategies as st

from strategies.dtypes import CORE_DTYPES, supported_dtypes

from .catalog import cases, pointwise
from .checks import check_inplace_call
from .plugin import parametrize_ops
from .support import unimplemented_reason

MAIN_ALIASING = (None, None, None, "dense")  # as in the suite: about one example in four aliases self


def pytest_generate_tests(metafunc):
    tensor_operands = [s for s in pointwise.SPECS if s.tensor_operands]
    parametrize_ops(metafunc, tensor_operands if "aliased" in metafunc.function.__name__ else pointwise.SPECS)


def _check(data, spec, dtypes, device, aliasing) -> None:
    dtype = data.draw(st.sampled_from(dtypes), label="dtype")
    mode = data.draw(st.sampled_from(aliasing), label="aliasing")
    case = data.draw(cases(spec, dtype, device, operand_dtypes=supported_dtypes(device, CORE_DTYPES),
                           aliasing=mode), label="case")
    event("raised" if check_inplace_call(case).raised else "returned")


@given(data=st.data())
def test_inplace_agrees_with_twin(spec, dtype, device, data):
    """The suite's test of the same name: the whole contract of ``spec`` on ``self`` of ``dtype``."""
    _check(data, spec, [dtype], device, MAIN_ALIASING if spec.tensor_operands else (None,))


@given(data=st.data())
def test_inplace_with_strided_aliased_operand(spec, device, data):
    """The suite's test of the same name: an operand that is a stepped, non-dense view of self's storage."""
    dtypes = [d for d in supported_dtypes(device) if not unimplemented_reason(spec, d, device)]
    _check(data, spec, dtypes, device, ("strided",))
