"""In-place callables outside ``torch.Tensor``'s ``op_`` methods, read as tables: ``torch.nn.functional``
activations (``relu_``) and functions taking ``inplace=True``, a few ``inplace=True`` modules, in-place
operator dunders (``x += y``), ``torch.nn.init.*_`` and ``torch._foreach_*_``.

Activations, ``inplace=True`` functions, modules and dunders obey the pointwise contract and run through
the generic property (``properties.inplace_agrees_with_twin``); init and foreach entries have their own
checks (``conformance/checks/init.py``, ``conformance/checks/foreach.py``).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable

import torch
from hypothesis import strategies as st

from strategies.values import Bounds

from .args import Choice, Operand, Scalar
from .spec import OpSpec, resolve

FLOATING = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
F = "torch.nn.functional"
SEED = 20240
"""Seed of the default generator around both calls of a random ``inplace=True`` function (dropout,
``rrelu(training=True)``), so that the in-place call and its twin draw the same mask."""


def seeded(fn: Callable) -> Callable:
    """``fn`` run with the default generator seeded to :data:`SEED`, its state restored afterwards."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        state = torch.default_generator.get_state()
        try:
            torch.default_generator.manual_seed(SEED)
            return fn(*args, **kwargs)
        finally:
            torch.default_generator.set_state(state)
    return call


@dataclasses.dataclass(frozen=True)
class CallSpec(OpSpec):
    """An op checked by the generic pointwise property, called with extra keywords.

    ``call_kwargs`` go to the in-place call (``inplace=True``), ``twin_kwargs`` to the twin
    (``inplace=False``); ``seeded`` runs both under the same default-generator seed; ``module`` names an
    ``nn.Module`` class built per call (``name`` is then the module path); ``dtypes`` the suite's dtypes;
    ``no_op(self, kwargs)`` the declared reason when a call legitimately changes nothing and need not
    bump the version counter (None otherwise).
    """

    call_kwargs: tuple[tuple[str, object], ...] = ()
    twin_kwargs: tuple[tuple[str, object], ...] = ()
    seeded: bool = False
    module: bool = False
    dtypes: tuple[torch.dtype, ...] = (torch.float32,)
    no_op: Callable | None = None

    def _callable(self, path: str, kwargs) -> Callable:
        if self.module:
            fn = resolve(path)(**dict(kwargs))
        else:
            fn = functools.partial(resolve(path), **dict(kwargs)) if kwargs else resolve(path)
        return seeded(fn) if self.seeded else fn

    def inplace(self) -> Callable:
        return self._callable(self.name, self.call_kwargs)

    def out_of_place(self) -> Callable:
        return self._callable(self.twin, self.twin_kwargs)


# ---- torch.nn.functional.*_ activations: twin the same function without the underscore --------------

ALPHA = Scalar("alpha", ("float",), Bounds(0.125, 3), keyword=True, optional=True)
SLOPE = Scalar("negative_slope", ("float",), Bounds(-1, 1), keyword=True, optional=True)
# Overlapping ranges: min_val > max_val must raise (F.hardtanh raises ValueError).
MIN_VAL = Scalar("min_val", ("float",), Bounds(-4, 2), keyword=True, optional=True)
MAX_VAL = Scalar("max_val", ("float",), Bounds(-2, 4), keyword=True, optional=True)
THRESHOLD = (Scalar("threshold", ("int", "float"), Bounds(-4, 4)), Scalar("value", ("int", "float"), Bounds(-4, 4)))
RRELU = (Scalar("lower", ("float",), Bounds(0, 0.25), keyword=True, optional=True),
         Scalar("upper", ("float",), Bounds(0.25, 1), keyword=True, optional=True))
TRAINING = Choice("training", (True, False), keyword=True)
DROPOUT_P = Choice("p", (0.0, 0.25, 0.5, 1.0), keyword=True)


def dropout_no_op(self_t: torch.Tensor, kwargs: dict) -> str | None:
    """Why a dropout call returns ``self`` untouched, its version not necessarily bumped."""
    if kwargs.get("p", 0.5) == 0 or not kwargs.get("training", kwargs.get("train", True)) or self_t.numel() == 0:
        return ("dropout with p=0, training=False or an empty input returns self without writing and, by "
                "design, without bumping the version (aten dropout_ returns early)")
    return None


def _activation(name: str, *args, dtypes=(torch.float32,), **kw) -> CallSpec:
    return CallSpec(f"{F}.{name}_", f"{F}.{name}", "nn.functional", tuple(args), kind="function", dtypes=dtypes, **kw)


ACTIVATIONS: tuple[CallSpec, ...] = (
    _activation("relu", dtypes=(torch.int32, torch.float16, torch.float32)),
    _activation("elu", ALPHA),
    _activation("celu", ALPHA),
    _activation("selu"),
    _activation("leaky_relu", SLOPE),
    _activation("hardtanh", MIN_VAL, MAX_VAL),
    _activation("threshold", *THRESHOLD, dtypes=(torch.int64, torch.float32)),
    _activation("rrelu", *RRELU, TRAINING, seeded=True,
                notes="training=True draws random slopes: both calls run under the same generator seed"),
)


# ---- functions taking inplace=: inplace=True against inplace=False ----------------------------------

def _flagged(name: str, *args, random: bool = False, no_op=None) -> CallSpec:
    return CallSpec(f"{F}.{name}", f"{F}.{name}", "nn.functional", tuple(args), kind="function",
                    call_kwargs=(("inplace", True),), twin_kwargs=(("inplace", False),), seeded=random, no_op=no_op,
                    notes="inplace=True against inplace=False" + (" under the same generator seed" if random else ""))


INPLACE_FLAG: tuple[CallSpec, ...] = (
    *(_flagged(n) for n in ("relu", "relu6", "selu", "silu", "mish", "hardsigmoid", "hardswish")),
    _flagged("elu", ALPHA), _flagged("celu", ALPHA), _flagged("leaky_relu", SLOPE),
    _flagged("hardtanh", MIN_VAL, MAX_VAL), _flagged("threshold", *THRESHOLD),
    _flagged("rrelu", *RRELU, TRAINING, random=True),
    *(_flagged(n, DROPOUT_P, TRAINING, random=True, no_op=dropout_no_op) for n in (
        "dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d")),
)

# torch.feature_dropout_ is reached by no torch.nn.functional function (dropout1d/2d/3d call it out of place).
FEATURE_DROPOUT = CallSpec("torch.feature_dropout_", "torch.feature_dropout", "nn.functional",
                           (DROPOUT_P, Choice("train", (True, False), keyword=True)), kind="function", seeded=True,
                           no_op=dropout_no_op, notes="twin torch.feature_dropout under the same generator seed")



def embedding_renorm(weight: torch.Tensor, indices: torch.Tensor, max_norm: float, norm_type: float) -> torch.Tensor:
    """Kit-written twin of ``torch.embedding_renorm_`` (torch has none): each indexed row whose
    ``norm_type``-norm exceeds ``max_norm`` is scaled by ``max_norm / (norm + 1e-7)``, on a copy."""
    if weight.dim() != 2:
        raise RuntimeError("embedding_renorm_: weight must be 2-D")
    out = weight.clone()
    for i in indices.unique().tolist():
        norm = out[i].norm(norm_type).item()
        if norm > max_norm:
            out[i] = out[i] * (max_norm / (norm + 1e-7))
    return out


# Drawn by mutation_properties.embedding_renorm_conforms: a 2-D weight, in-range indices with duplicates.
EMBEDDING_RENORM = CallSpec("torch.embedding_renorm_", "conformance.catalog.nn_ops.embedding_renorm", "nn.functional",
                            kind="function", dtypes=(torch.float32, torch.float64),
                            notes="F.embedding(max_norm=) calls it; twin written by the kit")

# A sample of modules built with inplace=True (they call the functions above).
MODULES: tuple[CallSpec, ...] = tuple(
    CallSpec(f"torch.nn.{cls}", f"torch.nn.{cls}", "nn.module", kind="function", module=True,
             call_kwargs=(("inplace", True),), twin_kwargs=(("inplace", False),), seeded=random,
             no_op=dropout_no_op if random else None,
             notes="module(inplace=True)(x) against module(inplace=False)(x)")
    for cls, random in (("ReLU", False), ("LeakyReLU", False), ("Hardtanh", False), ("Dropout", True)))


# ---- in-place operator dunders: x op= y against x op y ----------------------------------------------

ARITHMETIC = ("add", "sub", "mul", "truediv", "div", "floordiv", "mod", "pow")
BITWISE = ("and", "or", "xor", "lshift", "rshift")
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "div": "/ (legacy __idiv__)", "floordiv": "//",
           "mod": "%", "pow": "**", "and": "&", "or": "|", "xor": "^", "lshift": "<<", "rshift": ">>"}
OTHER = Operand("other", scalar_kinds=("bool", "int", "float", "complex"))

DUNDERS: tuple[CallSpec, ...] = tuple(
    CallSpec(f"__i{op}__", f"__{op}__", "dunder", (OTHER,), kind="dunder",
             dtypes=(torch.int64, torch.float32) if op in ARITHMETIC else (
                 (torch.int64,) if op.endswith("shift") else (torch.bool, torch.int64)),
             notes=f"x {SYMBOLS[op]}= y keeps x's identity and storage and agrees with x {SYMBOLS[op]} y")
    for op in ARITHMETIC + BITWISE)


# ---- torch.nn.init.*_: no twin; values obey the initialiser's rule -----------------------------------

@dataclasses.dataclass(frozen=True)
class InitSpec(OpSpec):
    """A ``torch.nn.init`` function ``init(tensor, **kwargs)``.

    ``draw_kwargs(shape)`` draws its keyword arguments; ``dims`` the tensor ranks it accepts (others must
    raise ``ValueError``); ``rule(values, kwargs, shape, dtype)`` a boolean mask of acceptable float64 values, or
    ``exact(shape, dtype, kwargs)`` the exact result; ``random`` that it takes ``generator=``.
    """

    family: str = "nn.init"
    kind: str = "init"
    checks: tuple[str, ...] = ("identity", "parameter", "storage", "version", "outside-view", "views-see-write",
                               "twin-values", "values-in-range", "seed", "error-parity", "unchanged-on-error")
    draw_kwargs: Callable = None
    dims: tuple[int, ...] = (0, 1, 2, 3, 4)
    rule: Callable | None = None
    exact: Callable | None = None
    random: bool = False
    dtypes: tuple[torch.dtype, ...] = FLOATING


def _rounded(value: float, dtype: torch.dtype) -> float:
    return torch.tensor(value, dtype=torch.float64).to(dtype).double().item()


def _fans(shape) -> tuple[int, int]:
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _within(bound_of):
    """Rule: ``|x| <= bound`` (the bound rounded to the dtype, plus one part in a thousand)."""
    def rule(v, kwargs, shape, dtype):
        return v.abs() <= _rounded(bound_of(kwargs, shape), dtype) * 1.001
    return rule


def _between(v, kwargs, shape, dtype):
    return (v >= _rounded(kwargs.get("a", 0.0), dtype)) & (v <= _rounded(kwargs.get("b", 1.0), dtype))


def _finite(v, kwargs, shape, dtype):
    return v.isfinite()


def _gain(kwargs) -> float:
    nonlinearity = kwargs.get("nonlinearity", "leaky_relu")
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + kwargs.get("a", 0) ** 2))
    return 1.0


def _kaiming_bound(kwargs, shape) -> float:
    fan_in, fan_out = _fans(shape)
    return _gain(kwargs) * math.sqrt(3.0 / (fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out))


def _xavier_bound(kwargs, shape) -> float:
    fan_in, fan_out = _fans(shape)
    return kwargs.get("gain", 1.0) * math.sqrt(6.0 / (fan_in + fan_out))


def _orthogonal(v, kwargs, shape, dtype):
    rows = shape[0]
    w = v.reshape(rows, -1)
    gram = w @ w.T if rows <= w.shape[1] else w.T @ w
    eye = torch.eye(gram.shape[0], dtype=torch.float64) * kwargs.get("gain", 1.0) ** 2
    ok = (gram - eye).abs().max() <= 1e-4 * max(1.0, kwargs.get("gain", 1.0) ** 2)
    return torch.full_like(v, bool(ok), dtype=torch.bool)


def _sparse(v, kwargs, shape, dtype):
    zeros_per_column = (v == 0).sum(0)
    ok = bool((zeros_per_column >= math.ceil(kwargs["sparsity"] * shape[0])).all())
    return torch.full_like(v, ok, dtype=torch.bool)


def _dirac(shape, dtype, kwargs):
    groups = kwargs.get("groups", 1)
    out = torch.zeros(shape, dtype=dtype)
    per_group = shape[0] // groups
    centre = tuple(side // 2 for side in shape[2:])
    for g in range(groups):
        for d in range(min(per_group, shape[1])):
            out[(g * per_group + d, d, *centre)] = 1
    return out


@st.composite
def _dirac_kwargs(draw, shape):
    divisors = [g for g in range(1, shape[0] + 1) if shape[0] % g == 0] if shape else [1]
    return {"groups": draw(st.sampled_from(divisors), label="groups")}


def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _none(shape):
    return st.just({})


GAIN = st.fixed_dictionaries({}, optional={"gain": _floats(0.5, 2)})
KAIMING = st.fixed_dictionaries({}, optional={"a": _floats(0, 1), "mode": st.sampled_from(["fan_in", "fan_out"]),
                                              "nonlinearity": st.sampled_from(["relu", "leaky_relu", "linear"])})
INIT = "torch.nn.init"
WEIGHTS = (2, 3, 4)

INIT_SPECS: tuple[InitSpec, ...] = (
    InitSpec(f"{INIT}.uniform_", "", draw_kwargs=lambda s: st.fixed_dictionaries(
        {"a": _floats(-10, 0), "b": _floats(0, 10)}), rule=_between, random=True),
    InitSpec(f"{INIT}.normal_", "", draw_kwargs=lambda s: st.fixed_dictionaries(
        {"mean": _floats(-10, 10), "std": _floats(0, 10)}), rule=_finite, random=True),
    InitSpec(f"{INIT}.trunc_normal_", "", draw_kwargs=lambda s: st.fixed_dictionaries(
        {"mean": _floats(-2, 2), "std": _floats(0.1, 2), "a": _floats(-3, -0.5), "b": _floats(0.5, 3)}),
        rule=_between, random=True, notes="values inside [a, b]"),
    InitSpec(f"{INIT}.constant_", "", draw_kwargs=lambda s: st.fixed_dictionaries({"val": _floats(-100, 100)}),
             exact=lambda shape, dtype, kw: torch.full(shape, kw["val"], dtype=dtype)),
    InitSpec(f"{INIT}.ones_", "", draw_kwargs=_none, exact=lambda shape, dtype, kw: torch.ones(shape, dtype=dtype)),
    InitSpec(f"{INIT}.zeros_", "", draw_kwargs=_none, exact=lambda shape, dtype, kw: torch.zeros(shape, dtype=dtype)),
    InitSpec(f"{INIT}.eye_", "", draw_kwargs=_none, dims=(2,),
             exact=lambda shape, dtype, kw: torch.eye(*shape, dtype=dtype)),
    InitSpec(f"{INIT}.dirac_", "", draw_kwargs=_dirac_kwargs, dims=(3, 4, 5), exact=_dirac,
             notes="identity-preserving convolution weights, per group"),
    InitSpec(f"{INIT}.xavier_uniform_", "", draw_kwargs=lambda s: GAIN, dims=WEIGHTS, rule=_within(_xavier_bound),
             random=True, notes="|x| <= gain * sqrt(6 / (fan_in + fan_out))"),
    InitSpec(f"{INIT}.xavier_normal_", "", draw_kwargs=lambda s: GAIN, dims=WEIGHTS, rule=_finite, random=True),
    InitSpec(f"{INIT}.kaiming_uniform_", "", draw_kwargs=lambda s: KAIMING, dims=WEIGHTS,
             rule=_within(_kaiming_bound), random=True, notes="|x| <= gain * sqrt(3 / fan)"),
    InitSpec(f"{INIT}.kaiming_normal_", "", draw_kwargs=lambda s: KAIMING, dims=WEIGHTS, rule=_finite, random=True),
    InitSpec(f"{INIT}.orthogonal_", "", draw_kwargs=lambda s: GAIN, dims=WEIGHTS, rule=_orthogonal, random=True,
             dtypes=(torch.float32, torch.float64),
             notes="rows (or columns) orthonormal times gain; QR is not implemented for float16/bfloat16"),
    InitSpec(f"{INIT}.sparse_", "", draw_kwargs=lambda s: st.fixed_dictionaries(
        {"sparsity": _floats(0, 1), "std": _floats(0.001, 1)}), dims=(2,), rule=_sparse, random=True,
        notes="at least ceil(sparsity * rows) zeros in every column"),
)


# ---- torch._foreach_*_: against a loop of the single-tensor op ---------------------------------------

@dataclasses.dataclass(frozen=True)
class ForeachSpec(OpSpec):
    """``torch._foreach_<op>_(tensors, *args)`` against ``for t in tensors: t.<op>_(*args_i)``.

    ``forms`` lists the argument forms drawn: ``none``, ``scalar``, ``scalars`` (one per tensor),
    ``tensors`` (a list shaped like ``tensors``), ``tensor`` (one 0-d tensor), ``ternary`` (two tensor
    lists and a scalar, a scalar list or a 1-d tensor of scalars), ``lerp`` (a tensor list and a scalar
    or a weight list). ``loop`` is the single-tensor callable (``add_``; ``torch.maximum`` has no
    in-place method, so its result is written back by the check).
    """

    family: str = "foreach"
    kind: str = "foreach"
    checks: tuple[str, ...] = ("identity", "storage", "version", "outside-view", "views-see-write", "twin-values",
                               "error-parity")
    forms: tuple[str, ...] = ("none",)
    loop: str = ""
    alpha: bool = False
    dtypes: tuple[torch.dtype, ...] = (torch.float32, torch.float64, torch.bfloat16, torch.int64)


FOREACH_UNARY = """
abs acos asin atan ceil cos cosh erf erfc exp expm1 floor frac lgamma log log10 log1p log2 neg reciprocal round
rsqrt sigmoid sign sin sinh sqrt tan tanh trunc zero
""".split()
SCALAR_OR_LISTS = ("scalar", "scalars", "tensors")


def _foreach(op: str, forms=("none",), loop: str | None = None, **kw) -> ForeachSpec:
    return ForeachSpec(f"torch._foreach_{op}_", f"torch._foreach_{op}", forms=forms, loop=loop or f"{op}_", **kw)


FOREACH: tuple[ForeachSpec, ...] = (  # grouped by argument forms: a suite test runs each group on shared draws
    *(_foreach(op) for op in FOREACH_UNARY),
    _foreach("add", SCALAR_OR_LISTS + ("tensor",), alpha=True),
    _foreach("sub", SCALAR_OR_LISTS, alpha=True, notes="no (list, 0-d tensor, alpha=) overload, unlike add"),
    *(_foreach(op, SCALAR_OR_LISTS + ("tensor",)) for op in ("mul", "div")),
    *(_foreach(op, SCALAR_OR_LISTS) for op in ("clamp_min", "clamp_max", "pow")),
    *(_foreach(op, SCALAR_OR_LISTS, loop=f"torch.{op}", notes="the loop writes torch.{op}'s result back")
      for op in ("maximum", "minimum")),
    *(_foreach(op, ("ternary",)) for op in ("addcmul", "addcdiv")),
    _foreach("lerp", ("lerp",), dtypes=(torch.float32, torch.float64, torch.bfloat16)),
    _foreach("copy", ("tensors",)),
)
