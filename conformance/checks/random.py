"""The contract of a random in-place call (``uniform_``, ``normal_``, ...) on one drawn tensor.

Values cannot equal a twin computed on copies, so the value clauses become: every value lies inside the
distribution's support (``support``); the same generator seed gives the same values, through an explicit
``torch.Generator`` and through the device's default generator alike (``seed``); on contiguous ``self``
the values equal the out-of-place twin drawn from a generator seeded alike (``twin-values``); and on a
large sample the empirical distribution function is within a Kolmogorov-Smirnov bound of the declared
one (``distribution``), whatever the layout. Storage, identity, version and sentinel clauses are the
generic ones; parameters outside the distribution's domain must raise and write nothing (``error-parity``,
``unchanged-on-error``).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from strategies.layouts import Layout
from strategies.tensors import BuiltTensor, build

from ..capabilities import has
from ..targets import wrap as on_target
from .compare import bitwise_equal, comparable
from .failure import ConformanceFailure
from .inplace import StorageMetadata, call
from .mutation import (expect_identity, expect_metadata_kept, expect_outside_view_kept, expect_unchanged,
                       expect_version_bumped, expect_views_see_write, snippet, tensor_lines)
from .repro import describe_tensor, scalar_literal

RANDOM_CHECKS = {
    "support": "every drawn value lies inside the distribution's support for the given parameters",
    "seed": "the same generator seed draws the same values (explicit generator and default generator alike)",
    "distribution": "on a large sample, the empirical distribution is within a KS bound of the declared one",
}

KS_SAMPLE = 2048
KS_BOUND = 0.07
"""Kolmogorov-Smirnov bound for ``KS_SAMPLE`` draws: exceeded by chance with probability about
``2 * exp(-2 * n * d**2)`` = 4e-9 per sample, so a failure is a wrong distribution, not bad luck.
(2048 elements also stay below the size where CPU kernels go multi-threaded, which costs more than it
saves on small tensors.)"""


def default_generator(device: str) -> torch.Generator | None:
    """The generator an op uses when passed none, for the devices the kit knows; None otherwise."""
    kind = torch.device(device)
    if kind.type == "cpu":
        return torch.default_generator
    if kind.type == "cuda":
        return torch.cuda.default_generators[kind.index or 0]
    return None


def seeded(device: str, seed: int) -> torch.Generator:
    return torch.Generator(device).manual_seed(seed)


def _kwargs_text(params: dict) -> str:
    def literal(v):
        if isinstance(v, torch.Tensor):
            return f"torch.tensor({comparable(v).tolist()}, dtype={v.dtype})"
        return scalar_literal(v)
    return ", ".join(f"**{{{k!r}: {literal(v)}}}" if k == "from" else f"{k}={literal(v)}" for k, v in params.items())


def _call_line(spec, receiver: str, params: dict, seed: int, device: str) -> str:
    args = _kwargs_text(params)
    if not has(device, "values"):  # as check_random_rejects calls it there: no generator
        return f"{receiver}.{spec.name}({args})"
    generator = f'torch.Generator("{device}").manual_seed({seed})'
    return f"{receiver}.{spec.name}({args + ', ' if args else ''}generator={generator})"


def _fresh(built: BuiltTensor, device: str) -> BuiltTensor:
    """Another tensor with ``built``'s layout, in a storage of its own (sentinels included)."""
    lay = built.layout
    storage = built.storage.clone()
    return BuiltTensor(storage.as_strided(lay.shape, lay.stride, lay.offset), storage, lay)


def check_random_call(spec, built: BuiltTensor, params: dict, seed: int, device: str) -> None:
    """Check one call ``self.<op>_(**params, generator=g)``; raise :class:`ConformanceFailure` on a breach."""
    __tracebackhide__ = True
    self_t = built.tensor
    subject = f"{spec.name} on self {describe_tensor(self_t)}"
    before = built.storage.clone()

    def repro(extra: str = "") -> str:
        return snippet(*tensor_lines("self", built, before, device),
                       f"result = {_call_line(spec, 'self', params, seed, device)}", *([extra] if extra else []))

    meta, version = StorageMetadata.of(self_t), self_t._version
    fresh = (_fresh(built, device), _fresh(built, device))  # copies made before the call
    outcome = call(on_target(spec.inplace()), self_t, **params, generator=seeded(device, seed))
    if built.layout.has_internal_overlap:
        if not outcome.raised:
            raise ConformanceFailure("error-parity", subject, "raises because self has internal overlap",
                                     "returned without error", repro())
        expect_unchanged(built, before, "self has internal overlap", outcome.describe(), subject, repro)
        return
    if outcome.raised:
        raise ConformanceFailure("error-parity", subject, "no error", outcome.describe(), repro())
    expect_identity(outcome.value, self_t, subject, repro)
    expect_metadata_kept(meta, self_t, subject, repro)
    expect_version_bumped(version, self_t, subject, repro)
    expect_outside_view_kept(built, before, subject, repro)
    expect_views_see_write(built, subject, repro)
    check_support(spec, self_t, params, subject, repro)
    check_same_seed(spec, built.tensor, (fresh[0].tensor, fresh[1].tensor), params, seed, device, subject, repro)
    if built.layout.is_contiguous and spec.twin_call is not None:
        expected = spec.twin_call(tuple(self_t.shape), self_t.dtype, params, seeded(device, seed))
        if expected is not None and not bitwise_equal(expected.to(self_t.device), self_t):
            raise ConformanceFailure("twin-values", subject,
                                     f"equal to {spec.twin} with a generator seeded alike: "
                                     f"{comparable(expected).tolist()}",
                                     f"{comparable(self_t).tolist()}", repro())


def components(values: torch.Tensor) -> torch.Tensor:
    """Values as float64 on the CPU; a complex tensor as its real and imaginary parts (a last dim of 2)."""
    values = comparable(values).detach().cpu()
    return torch.view_as_real(values).double() if values.is_complex() else values.double()


def part_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype of each component: float32 for complex64, float64 for complex128."""
    return {torch.complex64: torch.float32, torch.complex128: torch.float64}.get(dtype, dtype)


def check_random_rejects(spec, built: BuiltTensor, params: dict, seed: int, device: str) -> None:
    """Parameters outside the distribution's domain: the call raises and writes nothing."""
    __tracebackhide__ = True
    self_t = built.tensor
    subject = f"{spec.name}({_kwargs_text(params)}) on self {describe_tensor(self_t)}"
    before, meta = built.storage.clone(), StorageMetadata.of(self_t)

    def repro() -> str:
        return snippet(*tensor_lines("self", built, before, device),
                       f"result = {_call_line(spec, 'self', params, seed, device)}")

    # Without values (meta: no generator either) nothing is drawn: the call must still reject the parameters.
    generator = seeded(device, seed) if has(device, "values") else None
    outcome = call(on_target(spec.inplace()), self_t, **params, generator=generator)
    if not outcome.raised:
        raise ConformanceFailure("error-parity", subject, "raises: the parameters are outside the distribution's "
                                 "domain", "returned without error", repro())
    expect_metadata_kept(meta, self_t, subject, repro)
    expect_unchanged(built, before, "invalid parameters", outcome.describe(), subject, repro)


def check_support(spec, values: torch.Tensor, params: dict, subject: str, repro) -> None:
    v = components(values)
    inside = spec.support(v, params, part_dtype(values.dtype))
    if not bool(inside.all()):
        outside = v[~inside][:5].tolist()
        raise ConformanceFailure("support", subject,
                                 f"values inside the support of {spec.name}({_kwargs_text(params)})",
                                 f"values outside it: {outside}", repro())


def check_same_seed(spec, values, targets, kwargs, seed, device, subject, repro) -> None:
    """Draw again into ``targets[0]`` with a generator seeded alike, and into ``targets[1]`` with the default
    generator seeded alike (its state restored after): both must give ``values``."""
    result = spec.inplace()(targets[0], **kwargs, generator=seeded(device, seed))
    if not bitwise_equal(result, values):
        raise ConformanceFailure("seed", subject,
                                 f"the same values again with the same seed: {comparable(values).tolist()}",
                                 f"{comparable(result).tolist()}", repro())
    generator = default_generator(device)
    if generator is None:
        return
    state = generator.get_state()
    try:
        generator.manual_seed(seed)
        spec.inplace()(targets[1], **kwargs)
    finally:
        generator.set_state(state)
    if not bitwise_equal(targets[1], values):
        raise ConformanceFailure("seed", subject, "the default generator seeded alike draws the same values: "
                                 f"{comparable(values).tolist()}", f"{comparable(targets[1]).tolist()}",
                                 repro(f"# then torch.default_generator.manual_seed({seed}) and the call "
                                       "without generator"))


SAMPLE_LAYOUTS = ("contiguous", "transposed", "stepped")


def sample_layout(kind: str, n: int = KS_SAMPLE) -> Layout:
    """A layout of ``n`` (a power of two) elements: contiguous, a transposed matrix, or every other element."""
    if kind == "transposed":
        rows = 2 ** (int(math.log2(n)) // 2)
        return Layout("permuted", (n // rows, rows), (1, n // rows), 0, n)
    if kind == "stepped":
        return Layout("strided", (n,), (2,), 1, 2 * n + 1)
    return Layout("contiguous", (n,), (1,), 0, n)


def check_random_distribution(spec, dtype: torch.dtype, device: str, params: dict, seed: int,
                              layout_kind: str) -> None:
    """Draw a large sample in ``layout_kind`` and compare its distribution with ``spec.cdf``."""
    __tracebackhide__ = True
    if spec.cdf is None or spec.cdf(torch.zeros(1, dtype=torch.float64), params, dtype) is None:
        return  # not checked, or degenerate for these parameters (the support check covers it)
    layout = sample_layout(layout_kind)
    built = build(np.zeros(layout.shape), layout, dtype, device)
    subject = f"{spec.name} on a {layout_kind} sample {describe_tensor(built.tensor)}"
    line = _call_line(spec, "self", params, seed, device)

    def repro(extra: str = "") -> str:
        return snippet(f"self = torch.zeros({layout.storage_size}, dtype=torch.{str(dtype).removeprefix('torch.')}"
                       f", device='{device}').as_strided({layout.shape}, {layout.stride}, {layout.offset})",
                       f"result = {line}", *([extra] if extra else []))

    spec.inplace()(built.tensor, **params, generator=seeded(device, seed))
    check_support(spec, built.tensor, params, subject, repro)
    x = components(built.tensor)
    x = (x[..., 0] if dtype.is_complex else x).reshape(-1).sort().values  # a complex sample: its real parts
    distance, where = ks_distance(x, part_dtype(dtype), lambda t: spec.cdf(t, params, dtype))
    if distance > KS_BOUND:
        raise ConformanceFailure("distribution", subject,
                                 f"sample distribution within {KS_BOUND} of the declared one (Kolmogorov-Smirnov)",
                                 f"distance {distance:.3f} at x={where}", repro())


def ks_distance(sorted_x: torch.Tensor, dtype: torch.dtype, cdf) -> tuple[float, float]:
    """Largest gap between the empirical and the declared distribution function, rounding-aware.

    A draw stored as ``x`` in ``dtype`` came from a real value between the midpoints to ``x``'s neighbours,
    so the declared probability of "stored value <= x" is ``cdf`` at the upper midpoint (and of "< x" at
    the lower one): reduced-precision dtypes are compared with the distribution they can actually hold.
    """
    n = sorted_x.numel()
    values, counts = torch.unique_consecutive(sorted_x, return_counts=True)
    upper_count = counts.cumsum(0).double() / n
    lower_count = upper_count - counts.double() / n
    if dtype == torch.float64:  # no room for midpoints: "<= x" and "< x" themselves
        hi, lo = values, torch.nextafter(values, torch.tensor(-math.inf, dtype=torch.float64))
    elif dtype.is_floating_point:
        as_dtype, inf = values.to(dtype), torch.tensor(math.inf, dtype=dtype)
        hi = (values + torch.nextafter(as_dtype, inf).double()) / 2
        lo = (values + torch.nextafter(as_dtype, -inf).double()) / 2
    else:
        hi, lo = values + 0.5, values - 0.5
    gaps = torch.maximum((upper_count - cdf(hi)).abs(), (lower_count - cdf(lo)).abs())
    gaps = torch.nan_to_num(gaps, nan=0.0)
    i = int(gaps.argmax())
    return float(gaps[i]), float(values[i])
