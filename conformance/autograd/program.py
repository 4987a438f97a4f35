"""Small forward programs over float64 leaves that require grad, one mutation after the forward, and their run.

A :class:`Program` is source code, statement by statement (``n3 = n1.sin()``): what runs is what a failure
prints. Ops are called as ``torch.Tensor`` methods looked up at run time, so a patched torch is what runs.
"""
from __future__ import annotations

import dataclasses
import functools

import torch
from hypothesis import strategies as st

UNARY = ("sin", "exp", "tanh", "sigmoid", "relu", "neg")   # save: self, result, result, result, result, nothing
BINARY = ("add", "mul", "sub", "div")                      # save: nothing, both, nothing, both
REDUCTIONS = ("sum", "prod", "amax")                       # save: nothing, self and result, self and result
VIEWS = ("t", "narrow", "select", "diagonal", "unsqueeze")
FORMS = ("unary", "binary", "reduction", "matmul", "view", "inplace unary", "inplace binary")


@dataclasses.dataclass(frozen=True)
class Node:
    """What drawing knows of a program tensor: shape, the node owning its storage, whether it is leaf-like."""

    shape: tuple[int, ...]
    base: int          # index of the node whose storage this one lives in
    leafish: bool      # a leaf or a view of one: in-place with grad enabled is forbidden there
    alias_of: int      # the first node bound to the same tensor object (in-place steps return self)


@dataclasses.dataclass(frozen=True)
class Step:
    """``n{index} = expr``; ``inplace`` names the mutated input (its index), else None."""

    expr: str
    inplace: int | None = None
    view_of: int | None = None


@dataclasses.dataclass(frozen=True)
class Program:
    seed: int
    leaf_shapes: tuple[tuple[int, ...], ...]
    steps: tuple[Step, ...]
    nodes: tuple[Node, ...]

    def lines(self) -> list[str]:
        """The forward pass and the loss (every node weighted by a constant that does not require grad)."""
        lines = [f"g = torch.Generator().manual_seed({self.seed})"]
        lines += [f"n{i} = torch.randn({s}, generator=g, dtype=torch.float64).to(device).requires_grad_()"
                  for i, s in enumerate(self.leaf_shapes)]
        lines += [f"n{len(self.leaf_shapes) + i} = {step.expr}" for i, step in enumerate(self.steps)]
        return lines

    def loss_lines(self) -> list[str]:
        distinct = self.distinct_nodes()
        lines = [f"w{i} = torch.randn({self.nodes[i].shape}, generator=g, dtype=torch.float64).to(device)"
                 for i in distinct]
        return lines + ["loss = " + " + ".join(f"(n{i} * w{i}).sum()" for i in distinct)]

    def distinct_nodes(self) -> list[int]:
        """One index per distinct tensor object."""
        return [i for i, node in enumerate(self.nodes) if node.alias_of == i]

    def source(self, mutation: Mutation | None = None) -> str:
        body = self.lines() + self.loss_lines() + (mutation.lines(self) if mutation else [])
        return "\n".join(["import torch", 'device = "cpu"', *body, "loss.backward()"])


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(reversed(shape), reversed(target)))


def _candidates(form: str, nodes: list[Node]) -> list[tuple[str, Step, Node]]:
    """Every fully specified step of ``form`` applicable to ``nodes``: ``(op, step, new node)``."""
    out = []
    n = len(nodes)
    for i, a in enumerate(nodes):
        fresh = Node(a.shape, n, False, n)
        if form == "unary":
            out += [(op, Step(f"n{i}.{op}()"), fresh) for op in UNARY]
        elif form == "binary":
            out += [(op, Step(f"n{i}.{op}(n{j})"), fresh) for op in BINARY
                    for j, b in enumerate(nodes) if _broadcasts_to(b.shape, a.shape)]
        elif form == "reduction":
            out += [(op, Step(f"n{i}.{op}({d}, keepdim=True)"), Node(a.shape[:d] + (1,) + a.shape[d + 1:], n, False, n))
                    for op in REDUCTIONS for d in range(len(a.shape))]
        elif form == "matmul" and len(a.shape) == 2:
            out += [("matmul", Step(f"n{i} @ n{j}"), Node((a.shape[0], b.shape[1]), n, False, n))
                    for j, b in enumerate(nodes) if len(b.shape) == 2 and b.shape[0] == a.shape[1]]
        elif form == "view":
            out += _views(i, a, n)
        elif form == "inplace unary" and not a.leafish:
            out += [(f"{op}_", Step(f"n{i}.{op}_()", inplace=i, view_of=a.base if a.base != a.alias_of else None),
                     Node(a.shape, a.base, False, a.alias_of)) for op in UNARY]
        elif form == "inplace binary" and not a.leafish:
            out += [(f"{op}_", Step(f"n{i}.{op}_(n{j})", inplace=i, view_of=a.base if a.base != a.alias_of else None),
                     Node(a.shape, a.base, False, a.alias_of))
                    for op in BINARY for j, b in enumerate(nodes)
                    if b.base != a.base and _broadcasts_to(b.shape, a.shape)]
    return out


def _views(i: int, a: Node, n: int) -> list[tuple[str, Step, Node]]:
    def view(op, expr, shape):
        return op, Step(expr), Node(shape, a.base, a.leafish, n)
    rank, shape = len(a.shape), a.shape
    out = [view("unsqueeze", f"n{i}.unsqueeze(0)", (1, *shape))] if rank < 3 else []
    if rank == 2:
        out += [view("t", f"n{i}.t()", shape[::-1]), view("diagonal", f"n{i}.diagonal()", (min(shape),))]
    for d in range(rank):
        out.append(view("select", f"n{i}.select({d}, {shape[d] - 1})", shape[:d] + shape[d + 1:]))
        if shape[d] > 1:
            out.append(view("narrow", f"n{i}.narrow({d}, 1, {shape[d] - 1})",
                            shape[:d] + (shape[d] - 1,) + shape[d + 1:]))
    return out


@st.composite
def programs(draw, max_leaves: int = 3, max_steps: int = 6) -> Program:
    """A drawn program: 1 to ``max_leaves`` leaves of shape (), (m,) or (m, m), then up to ``max_steps`` steps
    (an in-place step may come with a fresh view of an intermediate to write through: one more step)."""
    m = draw(st.integers(2, 3), label="m")
    shapes = tuple(draw(st.lists(st.sampled_from([(m, m), (m,), ()]), min_size=1, max_size=max_leaves),
                        label="leaf shapes"))
    nodes = [Node(s, i, True, i) for i, s in enumerate(shapes)]
    steps = []
    for _ in range(draw(st.integers(1, max_steps), label="steps")):
        form = draw(st.sampled_from([f for f in FORMS if _candidates(f, nodes)]), label="form")
        if form.startswith("inplace") and draw(st.booleans(), label="on a fresh view of an intermediate?"):
            views = [c for c in _candidates("view", nodes) if not c[2].leafish]
            if views:  # the write then goes through the base's CopySlices node
                _, step, node = draw(st.sampled_from(views), label="view step")
                steps.append(step)
                nodes.append(node)
                on_view = [c for f in (form, "inplace unary") for c in _candidates(f, nodes)
                           if c[1].inplace == len(nodes) - 1]
                _, step, node = draw(st.sampled_from(on_view), label="step")
                steps.append(step)
                nodes.append(node)
                continue
        _, step, node = draw(st.sampled_from(_candidates(form, nodes)), label="step")
        steps.append(step)
        nodes.append(node)
    seed = draw(st.integers(0, 2**16), label="seed")
    return Program(seed, shapes, tuple(steps), tuple(nodes))


# How a mutation reaches the target's memory; ESCAPES share the storage but not the version counter.
CHANNELS = ("detach", "direct", "view", "no_grad", "inference_mode", "data", "inference_alias")
ESCAPES = ("data", "inference_alias")
MUTATORS = ("h.add_(0.5)", "h.mul_(-1.5)", "h.zero_()", "h.fill_(0.25)", "h.copy_(torch.full_like(h, 2.0))",
            "h.sin_()", "h[...] = 0.75", "h += 1.0")


@dataclasses.dataclass(frozen=True)
class Mutation:
    """One write after the forward pass into node ``target`` through ``channel`` with ``mutator``."""

    target: int
    channel: str
    mutator: str

    @property
    def counted(self) -> bool:
        """Whether the write goes through the target's version counter (not a documented escape)."""
        return self.channel not in ESCAPES

    def lines(self, program: Program) -> list[str]:
        t = f"n{self.target}"
        rank = len(program.nodes[self.target].shape)
        handle = {
            "detach": f"{t}.detach()", "direct": t, "no_grad": t, "inference_mode": t, "data": f"{t}.data",
            "view": f"{t}.select(0, 0)" if rank else f"{t}[...]",
            "inference_alias": f"torch.empty(0, dtype={t}.dtype, device={t}.device).set_("
                               f"{t}.untyped_storage(), {t}.storage_offset(), {t}.shape, {t}.stride())",
        }[self.channel]
        body = [f"h = {handle}", self.mutator]
        context = {"no_grad": "torch.no_grad()", "inference_mode": "torch.inference_mode()",
                   "inference_alias": "torch.inference_mode()"}.get(self.channel)
        return [f"with {context}:", *("    " + line for line in body)] if context else body


def mutations(program: Program, offset: int) -> list[Mutation]:
    """Every target and channel allowed with grad enabled, the mutator cycling from ``offset``."""
    out = []
    for target in program.distinct_nodes():
        leafish = program.nodes[target].leafish
        for channel in CHANNELS:
            if leafish and channel in ("direct", "view"):
                continue  # raises at the write by design (property of leaves and views)
            out.append(Mutation(target, channel, MUTATORS[(offset + len(out)) % len(MUTATORS)]))
    return out


@functools.lru_cache(maxsize=4096)
def _compiled(source: str):
    return compile(source, "<program>", "exec")


@dataclasses.dataclass
class Event:
    """An in-place write: which storage it reached, whether it was counted, which nodes existed before it."""

    text: str
    storage: int
    counted: bool
    nodes_before: frozenset


@dataclasses.dataclass
class Run:
    """What running a program observed: its writes, the model, the loss, and backward's error or grads."""

    events: list
    model: object
    error: BaseException | None = None
    grads: list = dataclasses.field(default_factory=list)
    loss: torch.Tensor | None = None

    @functools.cached_property
    def _backward_nodes(self) -> frozenset[int]:
        return self.model.reachable_nodes(self.loss)

    def _reached_saved(self, event: Event) -> bool:
        return any(event.storage in self.model.saved_by_id(n) for n in self._backward_nodes & event.nodes_before)

    def predicted_raise(self) -> list[Event]:
        """The counted writes into a storage that a node run by backward saved before the write."""
        return [e for e in self.events if e.counted and self._reached_saved(e)]

    def touched_saved(self) -> list[Event]:
        """Every write, counted or not, into a storage that backward's nodes saved before it."""
        return [e for e in self.events if self._reached_saved(e)]


def execute(program: Program, device: str = "cpu", mutation: Mutation | None = None) -> Run:
    """Run ``program`` (reading each new node's saved tensors right after its step), apply ``mutation``,
    then backward."""
    from .model import SavedModel, storage_key

    ns = {"torch": torch, "device": device}
    model = SavedModel()
    run = Run([], model)
    lines = program.lines()
    n_leaves = len(program.leaf_shapes)
    for k, line in enumerate(lines):
        step = program.steps[k - n_leaves - 1] if k > n_leaves else None
        if step is not None and step.inplace is not None:
            run.events.append(Event(line, storage_key(ns[f"n{step.inplace}"]), True, model.observed()))
            if step.view_of is not None:
                model.observe_wrapped_inplace(_compiled(line), ns, f"n{step.inplace}", f"n{k - 1}")
                continue
        exec(_compiled(line), None, ns)
        if step is not None:
            model.observe([ns[f"n{k - 1}"]])  # read every new node at once, before anything can mutate
    return finish_run(run, program, mutation, ns, model, [ns[f"n{i}"] for i in range(n_leaves)])


def finish_run(run, program, mutation, ns: dict, model, leaves: list):
    """The part of a run after the forward (eager or compiled): the loss, the mutation, then backward."""
    from .model import storage_key  # model imports this module

    for line in program.loss_lines():
        exec(_compiled(line), None, ns)
    run.loss = ns["loss"]
    model.observe([run.loss])
    if mutation is not None:
        text = "\n".join(mutation.lines(program))
        run.events.append(Event(text, storage_key(ns[f"n{mutation.target}"]), mutation.counted, model.observed()))
        exec(_compiled(text), None, ns)
    try:
        if model.unreadable:  # a saved tensor changed before the model could read it: no write predicted that
            raise model.unreadable[0]
        run.loss.backward()
    except RuntimeError as error:
        run.error = error.with_traceback(None)  # no reference cycle through its frames (see checks.inplace.call)
    run.grads = [leaf.grad for leaf in leaves]
    return run
