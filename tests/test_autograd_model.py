"""The saved-tensor model on hand-written graphs: it reads what each node saved, by storage, before writes."""
from __future__ import annotations

import torch

from conformance.autograd.model import SavedModel, storage_key
from conformance.autograd.program import Mutation, mutations


def leaf(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


def saved(t: torch.Tensor) -> frozenset:
    model = SavedModel()
    model.observe([t])
    return model.saved_by_id(id(t.grad_fn))


def test_what_common_ops_save():
    """DESIGN.md: relu and exp save their result, mul both inputs, add nothing."""
    x, y = leaf(3), leaf(3)
    r, e = x.relu(), x.exp()
    assert saved(r) == {storage_key(r)} and saved(e) == {storage_key(e)}
    assert saved(x * y) == {storage_key(x), storage_key(y)}
    assert saved(x + y) == frozenset()


def test_views_and_detach_relate_by_storage():
    x = leaf(2, 3)
    assert storage_key(x.detach()) == storage_key(x.t()) == storage_key(x[1]) == storage_key(x)
    assert storage_key(x.clone()) != storage_key(x)


def test_inplace_on_a_view_is_read_through_copy_slices():
    """The op's node hides in CopySlices: the model replays it on a clone and maps the storage back."""
    x = leaf(2, 3)
    ns = {"n0": x}
    exec("n1 = n0 * 1\nn2 = n1.select(0, 0)", None, ns)
    model = SavedModel()
    model.observe([ns["n2"]])
    model.observe_wrapped_inplace(compile("n3 = n2.exp_()", "<test>", "exec"), ns, "n2", "n3")
    copy_slices = ns["n1"].grad_fn
    assert type(copy_slices).__name__ == "CopySlices"
    assert storage_key(ns["n1"]) in model.saved_by_id(id(copy_slices))  # exp_ saved its result, a view of n1


def test_reachable_nodes_and_unreadable_saved_tensors():
    x = leaf(3)
    y = x * x
    model = SavedModel()
    model.observe([y])
    assert id(y.grad_fn) in model.reachable_nodes(y)
    z = x.sin()
    x.detach().add_(1)      # a write before the model read SinBackward0
    model.observe([z])
    assert model.unreadable and "modified by an inplace operation" in str(model.unreadable[0])


def test_mutations_skip_writes_that_raise_at_the_write():
    """A leaf (or a view of one) is written only through detach, .data, no_grad or inference mode."""
    from hypothesis import given, settings

    from conformance.autograd.program import programs

    @settings(max_examples=30, derandomize=True, database=None, deadline=None)
    @given(programs())
    def prop(program):
        for m in mutations(program, 0):
            assert isinstance(m, Mutation)
            if program.nodes[m.target].leafish:
                assert m.channel not in ("direct", "view")
    prop()
