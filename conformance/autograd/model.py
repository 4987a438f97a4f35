"""The kit's own model of what a graph saved for backward, built by walking ``grad_fn`` *before* a mutation.

It never reads ``_version``: an op that forgets to bump a counter must be caught, not excused. Tensors are
related by storage (views, ``detach()`` and the base share it; every other op allocates a new one), and the
escapes that share storage without sharing the counter (``.data``, inference-mode aliases) are declared by
the mutation, not discovered.
"""
from __future__ import annotations

import functools

import torch


def storage_key(t: torch.Tensor) -> int:
    """Which storage ``t`` lives in: the tensors of one version counter share it."""
    return t.untyped_storage().data_ptr()


def _saved_attributes(node) -> list[str]:
    if isinstance(node, torch.autograd.function.BackwardCFunction):  # a custom autograd.Function's node
        return [n for n in dir(node) if n.startswith("_saved_")] + ["saved_tensors"]
    return _node_saved_attributes(type(node))


@functools.lru_cache(maxsize=None)
def _node_saved_attributes(node_type: type) -> list[str]:
    """The ``_saved_*`` attributes of a built-in node class: declared by the class, the same for every node
    (``dir`` on each node cost a twentieth of the autograd properties' time)."""
    return [n for n in dir(node_type) if n.startswith("_saved_")]


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors(v)


class SavedModel:
    """Which storages each autograd node saved, read once per node while the saved tensors are intact.

    Call :meth:`observe` on every new tensor right after the step that made it. A write must make backward
    raise when a node read before it, and run by backward (:meth:`reachable_nodes`), saved its storage.
    """

    def __init__(self):
        self._nodes: dict[int, tuple[object, frozenset[int]]] = {}  # id(node) -> (node kept alive, storages)
        self.unreadable: list[RuntimeError] = []

    @staticmethod
    def _read(node) -> frozenset[int]:
        return frozenset(storage_key(s) for name in _saved_attributes(node) for s in _tensors(getattr(node, name)))

    def observe(self, tensors, nodes: bool = False) -> None:
        """Read the saved tensors of every node reachable from ``tensors`` (or from ``nodes``) not read yet."""
        stack = list(tensors) if nodes else [t.grad_fn for t in tensors]
        while stack:
            node = stack.pop()
            if node is None or id(node) in self._nodes:
                continue
            try:
                keys = self._read(node)
            except RuntimeError as error:  # unpacking checks the version: something wrote in the same step
                self.unreadable.append(error.with_traceback(None))
                keys = frozenset()
            self._nodes[id(node)] = (node, keys)
            stack.extend(next_node for next_node, _ in node.next_functions)

    def observed(self) -> frozenset[int]:
        """Ids of the nodes read so far (each is kept alive, so ids stay unique)."""
        return frozenset(self._nodes)

    def saved_by_id(self, node_id: int) -> frozenset[int]:
        entry = self._nodes.get(node_id)
        return entry[1] if entry else frozenset()

    def observe_wrapped_inplace(self, line, ns: dict, view: str, result: str) -> None:
        """Run ``line`` (``result = view.op_(...)``, ``view`` a view of a non-leaf) and record what it saved.

        The op's node hides inside the base's ``CopySlices``, which exposes no ``_saved_*``: the model replays
        the op on a clone of the view, reads that node's saved tensors, and maps the clone's storage back
        to the view's before attributing them to the ``CopySlices`` node.
        """
        target = ns[view]
        probe_ns = {**ns, view: target.clone()}
        exec(line, None, probe_ns)
        probe_node, clone_key = probe_ns[result].grad_fn, storage_key(probe_ns[view])
        keys = frozenset(storage_key(target) if k == clone_key else k for k in self._read(probe_node))
        exec(line, None, ns)
        copy_slices = target._base.grad_fn
        self._nodes[id(copy_slices)] = (copy_slices, keys)
        self.observe([n for n, _ in copy_slices.next_functions if n is not None], nodes=True)

    def reachable_nodes(self, root: torch.Tensor) -> frozenset[int]:
        """Ids of the nodes backward from ``root`` runs (all of them: every leaf requires grad)."""
        seen, stack = {}, [root.grad_fn]  # seen keeps the nodes alive, so ids stay unique
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen[id(node)] = node
            stack.extend(next_node for next_node, _ in node.next_functions)
        return frozenset(seen)
