"""Random in-place methods of ``torch.Tensor``: one entry per distribution, read as a table.

Each entry says how to draw the distribution's parameters, which values are inside its support, its
cumulative distribution function (to test the parameters on a large sample) and, where torch has one, a
twin that draws the same values from a generator seeded alike (compared on contiguous ``self`` only:
random ops on non-contiguous tensors draw in another order by design, so other layouts are compared by
support and distribution).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable

import torch
from hypothesis import strategies as st

from strategies.dtypes import CORE_DTYPES
from strategies.shapes import broadcastable_to
from strategies.values import Bounds, arrays

from .spec import OpSpec

FLOATING = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
COMPLEX = (torch.complex64, torch.complex128)
REAL = tuple(d for d in CORE_DTYPES if not d.is_complex)
INTEGRAL = tuple(d for d in REAL if not d.is_floating_point)


@dataclasses.dataclass(frozen=True)
class RandomSpec(OpSpec):
    """A random in-place op: ``self.op_(**params, generator=g)`` fills ``self`` with draws.

    ``params(dtype, shape)`` draws the keyword parameters; ``support(values, params, dtype)`` is a boolean
    mask of values inside the support (``values`` in float64, a complex tensor as its real and imaginary
    parts, parameters rounded to ``dtype`` as the op rounds them); ``cdf(x, params, dtype)`` the
    distribution function in float64, or None when the parameters
    make it degenerate or it is not checked; ``twin_call(shape, dtype, params, generator)`` the
    out-of-place call drawing the same values, or None; ``invalid(dtype)`` draws parameters
    that torch must reject (raise, writing nothing).
    """

    family: str = "random"
    checks: tuple[str, ...] = ("identity", "storage", "version", "outside-view", "views-see-write", "error-parity",
                               "unchanged-on-error", "support", "seed", "twin-values", "distribution")
    params: Callable = None
    support: Callable = None
    cdf: Callable | None = None
    twin_call: Callable | None = None
    dtypes: tuple[torch.dtype, ...] = FLOATING
    invalid: Callable | None = None


def rounded(value: float, dtype: torch.dtype) -> float:
    """``value`` as ``dtype`` holds it (round to nearest), back in float64."""
    return torch.tensor(value, dtype=torch.float64).to(dtype).double().item()


def _phi(z: torch.Tensor) -> torch.Tensor:
    """The standard normal distribution function."""
    return 0.5 * torch.erfc(-z / math.sqrt(2))


def _floats(lo: float, hi: float) -> st.SearchStrategy:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def integer_range(dtype: torch.dtype) -> tuple[int, int]:
    """The integers ``random_(from, to)`` may draw for ``dtype``: all of them for integers, the exactly
    representable ones (up to 2**digits) for floating dtypes."""
    if dtype == torch.bool:
        return 0, 1
    if dtype.is_floating_point:
        digits = {torch.float16: 11, torch.bfloat16: 8, torch.float32: 24, torch.float64: 53}[dtype]
        return -(2 ** digits), 2 ** digits
    info = torch.iinfo(dtype)
    return info.min, info.max


# ---- uniform_(from=0, to=1): the interval [from, to], rounded to self's dtype -----------------------

@st.composite
def _uniform_params(draw, dtype, shape):
    if draw(st.booleans(), label="default interval [0, 1)"):
        return {}
    low = draw(_floats(-100, 100), label="from")
    # Widths of a few ulps would test reduced-precision arithmetic, not the distribution: start at 0.01.
    width = draw(st.one_of(st.just(0.0), _floats(0.01, 100)), label="width")
    return {"from": low, "to": low + width}


def _uniform_bounds(params, dtype):
    return rounded(params.get("from", 0.0), dtype), rounded(params.get("to", 1.0), dtype)


def _uniform_support(v, params, dtype):
    low, high = _uniform_bounds(params, dtype)
    return (v >= low) & (v <= high)


def _uniform_cdf(x, params, dtype):
    low, high = params.get("from", 0.0), params.get("to", 1.0)
    return None if high <= low else ((x - low) / (high - low)).clamp(0, 1)


def _uniform_twin(shape, dtype, params, generator):
    if params:
        return None  # torch.rand draws the same values only for the default interval
    return torch.rand(shape, generator=generator, dtype=dtype)


# ---- normal_(mean=0, std=1) ------------------------------------------------------------------------

@st.composite
def _normal_params(draw, dtype, shape):
    if draw(st.booleans(), label="standard normal"):
        return {}
    return {"mean": draw(_floats(-10, 10), label="mean"),
            "std": draw(st.one_of(st.just(0.0), _floats(0.01, 10)), label="std")}


def _normal_support(v, params, dtype):
    if params.get("std", 1.0) == 0:
        return v == rounded(params["mean"], dtype)
    return ~v.isnan()


def _normal_cdf(x, params, dtype):
    std = params.get("std", 1.0) / (math.sqrt(2) if dtype.is_complex else 1)  # per part of a complex draw
    return None if std == 0 else _phi((x - params.get("mean", 0.0)) / std)


def _normal_twin(shape, dtype, params, generator):
    return torch.normal(params.get("mean", 0.0), params.get("std", 1.0), shape, generator=generator, dtype=dtype)


# ---- bernoulli_(p=0.5): p a float or a tensor of probabilities broadcastable to self ----------------

@st.composite
def _bernoulli_params(draw, dtype, shape):
    form = draw(st.sampled_from(["default", "float", "tensor"]), label="p form")
    if form == "default":
        return {}
    if form == "float":
        return {"p": draw(st.one_of(st.sampled_from([0.0, 1.0]), _floats(0, 1)), label="p")}
    p_shape = draw(broadcastable_to(shape), label="p shape")
    p_dtype = draw(st.sampled_from([torch.float32, torch.float64]), label="p dtype")
    values = draw(arrays(p_dtype, p_shape, Bounds(0, 1)), label="p values")
    return {"p": torch.from_numpy(values.copy()).to(p_dtype)}


def _bernoulli_support(v, params, dtype):
    ok = (v == 0) | (v == 1)
    p = params.get("p", 0.5)
    p = p.double().expand(v.shape) if isinstance(p, torch.Tensor) else torch.full_like(v, p)
    return ok & ~((p == 0) & (v != 0)) & ~((p == 1) & (v != 1))


def _bernoulli_cdf(x, params, dtype):
    p = params.get("p", 0.5)
    if isinstance(p, torch.Tensor):
        return None
    return torch.where(x < 0, 0.0, torch.where(x < 1, 1 - p, 1.0))


def _bernoulli_twin(shape, dtype, params, generator):
    p = params.get("p", 0.5)
    if isinstance(p, torch.Tensor):
        return torch.bernoulli(p.expand(shape).contiguous(), generator=generator).to(dtype)
    return torch.bernoulli(torch.empty(shape, dtype=dtype), p, generator=generator)


# ---- random_(from=0, to=None): integers in [from, to), or [0, 2**digits] / [0, max] by default -------

@st.composite
def _random_params(draw, dtype, shape):
    low, high = integer_range(dtype)
    form = draw(st.sampled_from(["default", "to", "from-to"]), label="random_ form")
    if form == "default":
        return {}
    if form == "to":
        return {"to": draw(st.integers(1, min(high, 1000) if dtype != torch.bool else 2), label="to")}
    start = draw(st.integers(max(low, -1000), min(high, 1000) - 1 if dtype != torch.bool else 0), label="from")
    stop_max = (min(high, 1000) if dtype != torch.bool else 2)
    return {"from": start, "to": draw(st.integers(start + 1, max(stop_max, start + 1)), label="to")}


def _random_interval(params, dtype):
    """``[low, high]`` (inclusive) that ``random_`` draws from."""
    if "to" in params:
        return params.get("from", 0), params["to"] - 1
    return 0, integer_range(dtype)[1]


def _random_support(v, params, dtype):
    low, high = _random_interval(params, dtype)
    return (v == v.floor()) & (v >= low) & (v <= high)


def _random_cdf(x, params, dtype):
    low, high = _random_interval(params, dtype)
    return ((x.floor() - low + 1) / (high - low + 1)).clamp(0, 1)


def _random_twin(shape, dtype, params, generator):
    if "to" not in params:
        return None
    return torch.randint(params.get("from", 0), params["to"], shape, generator=generator, dtype=dtype)


# ---- exponential_(lambd=1), geometric_(p), cauchy_(median=0, sigma=1), log_normal_(mean=1, std=2) ----

@st.composite
def _exponential_params(draw, dtype, shape):
    return {"lambd": draw(_floats(0.1, 10), label="lambd")}


def _exponential_cdf(x, params, dtype):
    return (1 - torch.exp(-params["lambd"] * x)).clamp(min=0)


@st.composite
def _geometric_params(draw, dtype, shape):
    # p >= 0.2 keeps draws below 127 (int8's maximum) with overwhelming probability.
    return {"p": draw(_floats(0.2, 0.99), label="p")}  # torch requires 0 < p < 1


def _geometric_support(v, params, dtype):
    ok = (v == v.floor()) & (v >= 1)
    return ok


def _geometric_cdf(x, params, dtype):
    return torch.where(x < 1, 0.0, 1 - (1 - params["p"]) ** x.floor().clamp(min=0))


@st.composite
def _cauchy_params(draw, dtype, shape):
    return {"median": draw(_floats(-10, 10), label="median"), "sigma": draw(_floats(0.1, 10), label="sigma")}


def _cauchy_cdf(x, params, dtype):
    return 0.5 + torch.atan((x - params["median"]) / params["sigma"]) / math.pi


@st.composite
def _log_normal_params(draw, dtype, shape):
    return {"mean": draw(_floats(-2, 2), label="mean"), "std": draw(_floats(0.1, 2), label="std")}


def _log_normal_cdf(x, params, dtype):
    return torch.where(x <= 0, 0.0, _phi((x.clamp(min=1e-300).log() - params["mean"]) / params["std"]))


def _not_nan(v, params, dtype):
    return ~v.isnan()


def _non_negative(v, params, dtype):
    return v >= 0


# ---- parameters torch must reject -----------------------------------------------------------------

def _negative(name: str, allow_zero: bool, **fixed):
    """Parameters with ``name`` negative (or zero when ``allow_zero``), the others fixed."""
    top = 0.0 if allow_zero else -0.01
    return lambda dtype: _floats(-10, top).map(lambda v: {**fixed, name: v})


def _outside_unit(closed: bool):
    """``p`` outside ``[0, 1]`` (``closed``) or outside ``(0, 1)``."""
    edges = [] if closed else [st.sampled_from([0.0, 1.0])]
    return lambda dtype: st.one_of(_floats(-2, -0.01), _floats(1.01, 2), *edges).map(lambda p: {"p": p})


def _reversed_interval(dtype):
    return st.tuples(_floats(-10, 10), _floats(0.01, 10)).map(lambda t: {"from": t[0] + t[1], "to": t[0]})


def _bad_integer_range(dtype):
    low, high = integer_range(dtype)
    empty = st.integers(-3, 3).flatmap(lambda a: st.integers(a - 3, a).map(lambda b: {"from": a, "to": b}))
    if dtype.is_floating_point or dtype == torch.bool:
        return empty
    return st.one_of(empty, st.just({"from": low - 1, "to": low + 1}), st.just({"to": high + 2}))


SPECS: tuple[RandomSpec, ...] = (
    RandomSpec("uniform_", "torch.rand", params=_uniform_params, support=_uniform_support, cdf=_uniform_cdf,
               twin_call=_uniform_twin, dtypes=FLOATING + COMPLEX, invalid=_reversed_interval,
               notes="support [from, to] after rounding (each part of a complex value); twin torch.rand for [0, 1)"),
    RandomSpec("normal_", "torch.normal", params=_normal_params, support=_normal_support, cdf=_normal_cdf,
               twin_call=_normal_twin, dtypes=FLOATING + COMPLEX, invalid=_negative("std", False, mean=0.0),
               notes="std=0 gives mean everywhere; each part of a complex draw has std / sqrt(2)"),
    RandomSpec("bernoulli_", "torch.bernoulli", params=_bernoulli_params, support=_bernoulli_support,
               cdf=_bernoulli_cdf, twin_call=_bernoulli_twin, dtypes=REAL, invalid=_outside_unit(True),
               notes="values 0 or 1; 0 where p is 0 and 1 where p is 1"),
    RandomSpec("random_", "torch.randint", params=_random_params, support=_random_support, cdf=_random_cdf,
               twin_call=_random_twin, dtypes=REAL, invalid=_bad_integer_range,
               notes="integers in [from, to); default [0, 2**digits] for floats, [0, max] for integers"),
    RandomSpec("exponential_", "", params=_exponential_params, support=_non_negative, cdf=_exponential_cdf,
               invalid=_negative("lambd", True)),
    RandomSpec("geometric_", "", params=_geometric_params, support=_geometric_support, cdf=_geometric_cdf,
               invalid=_outside_unit(False),
               dtypes=tuple(d for d in REAL if d != torch.bool), notes="integers >= 1 (trials to first success)"),
    RandomSpec("cauchy_", "", params=_cauchy_params, support=_not_nan, cdf=_cauchy_cdf,
               invalid=_negative("sigma", True, median=0.0),
               notes="+-inf allowed: reduced-precision draws overflow"),
    RandomSpec("log_normal_", "", params=_log_normal_params, support=_non_negative, cdf=_log_normal_cdf,
               invalid=_negative("std", True, mean=0.0)),
)
