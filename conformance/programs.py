"""Short programs of mutations and reads over views of one tensor, run on a target and eagerly, compared.

A :class:`Program` is source code (``def program(b, w): ...``): ``b`` is the base tensor, ``w`` a view of it the
caller made (two aliased inputs), and each statement mutates a view (``add_``, ``mul_``, setitem, ``index_put_``,
``_foreach_add_``, a write through a dtype-reinterpreted view) or reads one into an output (a clone, a flipped
copy, a ``.view(dtype)`` reinterpretation, a sum). The target (``compile``: one graph, compiled afresh) runs it on
fresh clones and must agree with eager bit for bit: every output, the final base, the views the caller made before
the call, the storage, and the version counter bumped. Values are small integers, so every result is exact.
"""
from __future__ import annotations

import dataclasses

import torch
from hypothesis import strategies as st

from . import targets
from .checks.failure import ConformanceFailure

DTYPES = {"float32": torch.int32, "int64": torch.float64, "int32": torch.float32, "float64": torch.int64}
"""Base dtypes and the same-size dtype their values are reinterpreted as (``b.view(torch.int32)``)."""

CHECKS = {"target-program": "a drawn program of mutations and reads over views of one tensor gives, on the "
                            "target, eager's outputs, final values, storage and version bump"}


@dataclasses.dataclass(frozen=True)
class Program:
    dtype: str
    shape: tuple[int, ...]
    values: tuple[int, ...]
    outside: str                    # the view ``w`` the caller passes (and keeps)
    statements: tuple[str, ...]

    def source(self) -> str:
        body = [f"    {s}" for s in self.statements]
        outputs = [s.split(" = ", 1)[0] for s in self.statements if s.startswith("r") and " = " in s]
        return "\n".join(["def program(b, w):", *body, f"    return ({''.join(o + ', ' for o in outputs)})"])

    def setup(self) -> str:
        return (f"b = torch.tensor({list(self.values)}, dtype=torch.{self.dtype}).reshape({self.shape})\n"
                f"w = {self.outside}")


def _views(shape: tuple[int, ...]) -> list[str]:
    """Views of ``b`` the statements use (and ``w`` itself)."""
    if len(shape) == 1:
        n = shape[0]
        return ["b", "w", "b[1:]", "b[::2]", f"b[:{n - 1}]", "b[1::2]"]
    return ["b", "w", "b[0]", "b[:, 1]", "b.t()", "b[1:, ::2]", "b[-1]"]


@st.composite
def programs(draw, max_statements: int = 3) -> Program:
    dtype = draw(st.sampled_from(sorted(DTYPES)), label="dtype")
    shape = draw(st.sampled_from([(4,), (6,), (3, 4), (2, 3)]), label="shape")
    numel = 1
    for s in shape:
        numel *= s
    values = tuple(draw(st.lists(st.integers(-8, 8), min_size=numel, max_size=numel), label="values"))
    views = _views(shape)
    outside = draw(st.sampled_from([v for v in views if v not in ("b", "w")]), label="w")
    exact = "int" in dtype
    statements = []
    n_mut = draw(st.integers(2, max_statements), label="mutations")
    for k in range(n_mut):
        v = draw(st.sampled_from(views), label="view")
        c = draw(st.integers(-3, 3), label="constant")
        kind = draw(st.sampled_from(["add_", "mul_", "setitem", "setitem_mask", "index_put_", "foreach",
                                     "reinterpret"]), label="mutation")
        if kind in ("add_", "mul_"):
            statements.append(f"{v}.{kind}({c})")
        elif kind == "setitem":
            statements.append(f"{v}[0] = {c}")
        elif kind == "setitem_mask":
            statements.append(f"{v}[{v} > {c}] = {c + 1}")
        elif kind == "index_put_":
            accumulate = draw(st.booleans(), label="accumulate")
            index = "[0, 0]" if accumulate else "[0]"
            statements.append(f"{v}.index_put_((torch.tensor({index}),), torch.tensor({c}, dtype={v}.dtype), "
                              f"accumulate={accumulate})")
        elif kind == "foreach":
            other = draw(st.sampled_from(views), label="second view")
            statements.append(f"torch._foreach_add_([{v}, {other}], {c})")
        else:  # reinterpret: a write through the same-size integer or float view of the bits
            view_dtype = DTYPES[dtype]
            statements.append(f"{v}.view(torch.{str(view_dtype).removeprefix('torch.')})[0] = "
                              f"{c if not view_dtype.is_floating_point else float(c)}")
        read = draw(st.sampled_from(["clone", "flip", "reinterpret", "sum", "none"]), label="read")
        r = draw(st.sampled_from(views), label="read view")
        name = f"r{k}"
        if read == "clone":
            statements.append(f"{name} = {r}.clone()")
        elif read == "flip":
            statements.append(f"{name} = {r}.flip(0)")
        elif read == "reinterpret":
            statements.append(f"{name} = {r}.view(torch.{str(DTYPES[dtype]).removeprefix('torch.')}).clone()")
        elif read == "sum" and exact:
            statements.append(f"{name} = {r}.sum()")
    return Program(dtype, shape, values, outside, tuple(statements))


def _compiled_function(program: Program):
    namespace = {"torch": torch}
    exec(compile(program.source(), "<program>", "exec"), namespace)
    return namespace["program"]


@dataclasses.dataclass
class _Run:
    outputs: tuple | None
    error: BaseException | None
    base: torch.Tensor
    outside: list
    bumped: bool
    data_ptr: int


def _run(program: Program, fn) -> _Run:
    b = torch.tensor(list(program.values), dtype=getattr(torch, program.dtype)).reshape(program.shape)
    w = eval(program.outside, {"b": b, "torch": torch})  # noqa: S307 - the kit's own drawn source
    kept = [eval(v, {"b": b, "w": w, "torch": torch}) for v in _views(program.shape)]  # noqa: S307
    version, ptr = b._version, b.untyped_storage().data_ptr()
    outputs, error = None, None
    try:
        outputs = fn(b, w)
    except targets.Signal:
        raise
    except Exception as exc:  # noqa: BLE001 - an outcome to compare
        error = exc
    return _Run(outputs, error, b, kept, b._version > version, ptr)


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous().reshape(-1).view(torch.uint8) if t.numel() else t.reshape(-1)


def same_bits(a, b) -> bool:
    """Equal structure, dtypes, shapes and bit patterns (NaN payloads included)."""
    if isinstance(a, torch.Tensor):
        return (isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape
                and torch.equal(_bits(a), _bits(b)))
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(same_bits(x, y) for x, y in zip(a, b))
    return a == b


def check_program(program: Program) -> str:
    """Run ``program`` eagerly and on the active target, on fresh inputs; raise on any difference."""
    __tracebackhide__ = True
    target = targets.current()
    eager = _run(program, _compiled_function(program))
    got = _run(program, targets.wrap(_compiled_function(program)))
    subject = f"a program over views of one {program.dtype} tensor of shape {program.shape} on target {target.name}"
    repro = "\n".join(["import torch", program.source(), program.setup(),
                       "result = program(b, w)   # eager; then torch.compile(program, fullgraph=True) on fresh b, w"])

    def fail(expected: str, observed: str):
        raise ConformanceFailure("target-program", subject, expected, observed, repro)
    if (eager.error is None) != (got.error is None):
        fail(f"{'raises' if eager.error else 'returns'} as eager ({_describe(eager.error)})", _describe(got.error))
    if eager.error is not None:
        return "raised"
    if not same_bits(eager.outputs, got.outputs):
        i = next((i for i, (x, y) in enumerate(zip(eager.outputs, got.outputs)) if not same_bits(x, y)), None)
        fail(f"outputs as eager{'' if i is None else f': r{i} = {eager.outputs[i]}'}",
             f"{'different outputs' if i is None else f'{got.outputs[i]}'}")
    if not same_bits(eager.base, got.base):
        fail(f"b afterwards as eager: {eager.base.tolist()}", f"{got.base.tolist()}")
    for view, want, have in zip(_views(program.shape), eager.outside, got.outside):
        if not same_bits(want, have):
            fail(f"the caller's view {view} afterwards as eager: {want.tolist()}", f"{have.tolist()}")
    if got.base.untyped_storage().data_ptr() != got.data_ptr:
        fail("b keeps its storage", "b's storage was replaced")
    if eager.bumped and not got.bumped:
        fail("b's version counter bumped (eager bumps it)", "version counter unchanged")
    return "returned"


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "returned"
    text = str(error).strip()
    return f"raised {type(error).__name__}: {text.splitlines()[0] if text else ''}"
