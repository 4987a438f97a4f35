"""Errors the checks keep as outcomes (a raising call, backward's error, an in-place call on a leaf) keep no
traceback: its frames reach, through ``f_back``, the caller that holds the error, a reference cycle per raising
call that only the garbage collector frees. The autograd properties spent an eighth of their time in it."""
from __future__ import annotations

import gc

import torch

from conformance.autograd.leaves import _raises
from conformance.autograd.program import Mutation, Node, Program, Step, execute
from conformance.checks.inplace import call


def cyclic_garbage_left_by(fn) -> int:
    """Objects that only the garbage collector frees after ``fn()`` returns."""
    gc.collect()
    gc.disable()
    try:
        fn()
        return gc.collect()
    finally:
        gc.enable()


def test_a_raising_call_leaves_no_cycle():
    def check():
        outcome = call(torch.Tensor.add_, torch.zeros(2), torch.zeros(3))
        assert outcome.raised and "must match" in str(outcome.error)

    assert cyclic_garbage_left_by(check) == 0


def test_an_inplace_call_refused_on_a_leaf_leaves_no_cycle():
    def check():
        leaf = torch.zeros(2, requires_grad=True)
        error = _raises(lambda: leaf.add_(1), "leaf Variable that requires grad")
        assert isinstance(error, RuntimeError) and "other error" not in str(error)

    assert cyclic_garbage_left_by(check) == 0


def test_backward_error_of_a_run_leaves_no_cycle():
    program = Program(seed=0, leaf_shapes=((3,),), steps=(Step("n0.sin()"),),
                      nodes=(Node((3,), 0, True, 0), Node((3,), 1, False, 1)))

    def check():
        run = execute(program, "cpu", Mutation(target=0, channel="detach", mutator="h.add_(0.5)"))
        assert "modified by an inplace operation" in str(run.error)

    assert cyclic_garbage_left_by(check) == 0
