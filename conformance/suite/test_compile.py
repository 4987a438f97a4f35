"""Programs of two or three mutations and reads over views of one tensor, on a non-eager ``--target`` against
eager (docs/targets.md): outputs, final values, the caller's views, storage and version bump agree bit for bit."""
from __future__ import annotations

import pytest
from hypothesis import event, given, strategies as st

from conformance import programs
from conformance.properties import run


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", [d for d in metafunc.config._conformance["devices"] if d == "cpu"] or
                             [pytest.param("cpu", marks=pytest.mark.skip(reason="programs run on the CPU"))])


def test_programs_agree_with_eager(device, conformance_options, request):
    """Drawn programs (setitem, index_put_, _foreach_add_, writes and reads through views, flips and
    ``.view(dtype)``) on the target and eagerly, each on fresh clones."""
    if conformance_options.target == "eager":
        pytest.skip("compares a non-eager --target (compile, fake, module:callable) with eager")

    @given(data=st.data())
    def prop(data):
        event(programs.check_program(data.draw(programs.programs(), label="program")))

    run(prop, conformance_options, request.node.nodeid)


OVERLAP_CALLS = {
    "internal": "x = torch.zeros(3).expand(2, 3); x.add_(1)",
    "partial": "b = torch.arange(6.); b[1:].copy_(b[:-1])",
    "index_copy_": "x = torch.zeros(1).expand(4); x.index_copy_(0, torch.tensor([0]), torch.ones(1))",
}


def test_fake_raises_on_memory_overlap(device, conformance_target):
    """Under ``--target fake``: a call eager rejects for memory overlap (of self with itself, or with an
    operand) raises under FakeTensorMode too. The per-op tests leave this decision to this test."""
    if conformance_target != "fake":
        pytest.skip("checks --target fake")
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    def raises(call: str) -> bool:
        try:
            exec(call, {"torch": torch})
        except RuntimeError as error:
            return "single memory location" in str(error)
        return False

    for kind, call in sorted(OVERLAP_CALLS.items()):
        assert raises(call), f"eager accepts the {kind} overlap of {call!r}"
        with FakeTensorMode():
            assert raises(call), f"[fake-raises] FakeTensorMode accepts the {kind} overlap of {call!r}; eager raises"
