"""The exactly-when property with the forward pass run on a non-eager target (``--target compile``).

The program's steps become one function of its leaves returning every node; the active target runs it
(``torch.compile``: one graph, compiled afresh, whose backward is a ``CompiledFunctionBackward`` node). The
saved-tensor model then walks that graph as it walks an eager one (``saved_tensors`` of the compiled node), so
``backward()`` must raise "modified by an inplace operation" exactly when a write after the forward reached a
storage the compiled graph saved. Writes inside the forward are the compiled graph's own: when the eager program
already writes into a tensor it saved, the compiled run must raise too (at the forward call or at backward).
"""
from __future__ import annotations

import torch

from conformance import targets

from .program import Mutation, Program, Run, _compiled, finish_run


def forward_source(program: Program) -> str:
    n_leaves = len(program.leaf_shapes)
    body = program.lines()[1 + n_leaves:]
    names = [f"n{i}" for i in range(len(program.nodes))]
    return "\n".join([f"def forward({', '.join(names[:n_leaves])}):", *("    " + line for line in body),
                      f"    return ({', '.join(names)},)"])


def source(program: Program, mutation: Mutation | None) -> str:
    """The failing run as a script: the forward compiled, the mutation, backward."""
    n_leaves = len(program.leaf_shapes)
    lines = ["import torch", 'device = "cpu"', *program.lines()[:1 + n_leaves], forward_source(program),
             f"{', '.join(f'n{i}' for i in range(len(program.nodes)))}, = torch.compile(forward, fullgraph=True)"
             f"({', '.join(f'n{i}' for i in range(n_leaves))})",
             *program.loss_lines(), *(mutation.lines(program) if mutation else []), "loss.backward()"]
    return "\n".join(lines)


def forward_on_target(program: Program, device: str = "cpu"):
    """The program's forward as the active target runs it, compiled once for all its runs."""
    namespace = {"torch": torch, "device": device}
    exec(compile(forward_source(program), "<forward>", "exec"), namespace)
    return targets.wrap(namespace["forward"], reuse=True)


def execute_on_target(program: Program, forward, device: str = "cpu", mutation: Mutation | None = None) -> Run:
    """Run ``program``'s forward through ``forward`` (:func:`forward_on_target`), apply ``mutation`` eagerly,
    then backward."""
    from .model import SavedModel

    ns = {"torch": torch, "device": device}
    model = SavedModel()
    run = Run([], model)
    n_leaves = len(program.leaf_shapes)
    for line in program.lines()[:1 + n_leaves]:
        exec(_compiled(line), None, ns)
    leaves = [ns[f"n{i}"] for i in range(n_leaves)]
    try:
        outputs = forward(*leaves)
    except targets.Signal:
        raise
    except RuntimeError as error:  # the compiled forward may raise backward's error already
        run.error = error.with_traceback(None)  # no reference cycle through its frames
        return run
    ns.update({f"n{i}": t for i, t in enumerate(outputs)})
    model.observe([t for t in outputs if isinstance(t, torch.Tensor)])
    return finish_run(run, program, mutation, ns, model, leaves)
