"""Value tolerances: the kit's per-dtype defaults and a vendor's overrides from a TOML file.

Floating and complex results are compared with ``isclose(rtol, atol)``; integers and bools exactly. A vendor
whose kernels round differently from the reference device loosens the tolerances per dtype, or per op and
dtype, in a file given with ``--tolerances``::

    same_device = false            # also apply to same-device comparisons (default: cross-device only)

    [default.float16]              # every op, this dtype
    rtol = 1e-2
    atol = 1e-3

    [op."add_".bfloat16]           # one op (its catalog name), this dtype; a missing key keeps the default
    rtol = 5e-2

The file applies where the twin runs on another device than the tested one (``--reference-device``),
and, with ``same_device = true``, everywhere.
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
import types

import torch

from strategies.dtypes import dtype_from_name, dtype_name, is_exact

#: (rtol, atol) by dtype, as torch.testing.assert_close chooses them; float32's for dtypes not listed.
DEFAULTS: dict[torch.dtype, tuple[float, float]] = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
    torch.complex64: (1.3e-6, 1e-5),
    torch.complex128: (1e-7, 1e-7),
    torch.float8_e4m3fn: (0.125, 1e-3),
    torch.float8_e5m2: (0.25, 1e-3),
}

_TOP_KEYS = {"same_device", "default", "op"}


class ToleranceError(ValueError):
    """The tolerances file is malformed or names an unknown dtype or op."""


@dataclasses.dataclass(frozen=True)
class Tolerances:
    """Overrides from a file: ``default`` per dtype, ``ops`` per op name and dtype, and their scope."""

    default: types.MappingProxyType
    ops: types.MappingProxyType
    same_device: bool = False
    source: str = ""

    def table(self, op: str, *, cross_device: bool) -> dict[torch.dtype, tuple[float, float]] | None:
        """``{dtype: (rtol, atol)}`` for comparisons of ``op``'s results, or None (the kit's defaults) where
        the file does not apply (a same-device comparison without ``same_device = true``)."""
        if not (cross_device or self.same_device):
            return None
        table = dict(DEFAULTS)
        for overrides in (self.default, self.ops.get(op, {})):
            for dtype, pair in overrides.items():
                base = table.get(dtype, DEFAULTS[torch.float32])
                table[dtype] = (pair.get("rtol", base[0]), pair.get("atol", base[1]))
        return table


def _entry(where: str, value) -> dict[torch.dtype, dict[str, float]]:
    """``{dtype-name: {rtol, atol}}`` checked: known, inexact dtypes; only rtol/atol; finite, >= 0."""
    if not isinstance(value, dict):
        raise ToleranceError(f"{where} must be a table of dtypes, like [{where}.float16]")
    parsed = {}
    for name, pair in value.items():
        try:
            dtype = dtype_from_name(name)
        except ValueError as error:
            raise ToleranceError(f"{where}: {error}") from None
        if is_exact(dtype):
            raise ToleranceError(f"{where}.{name}: {name} is compared exactly; tolerances apply to floating "
                                 "and complex dtypes")
        if not isinstance(pair, dict) or not pair:
            raise ToleranceError(f"{where}.{name} must set rtol and/or atol")
        unknown = set(pair) - {"rtol", "atol"}
        if unknown:
            raise ToleranceError(f"{where}.{name}: unknown key(s) {', '.join(sorted(unknown))} (use rtol, atol)")
        for key, number in pair.items():
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) \
                    or number < 0:
                raise ToleranceError(f"{where}.{name}.{key} must be a finite number >= 0, got {number!r}")
        parsed[dtype] = {k: float(v) for k, v in pair.items()}
    return parsed


def parse(text: str, known_ops, source: str = "<string>") -> Tolerances:
    """The :class:`Tolerances` a TOML ``text`` describes; ``known_ops`` are the op names it may name."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ToleranceError(f"malformed TOML: {error}") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ToleranceError(f"unknown key(s) {', '.join(sorted(unknown))}; expected same_device, [default.DTYPE] "
                             'and [op."NAME".DTYPE]')
    same_device = data.get("same_device", False)
    if not isinstance(same_device, bool):
        raise ToleranceError(f"same_device must be true or false, got {same_device!r}")
    ops = data.get("op", {})
    if not isinstance(ops, dict):
        raise ToleranceError('op must be a table of ops, like [op."add_".float16]')
    known = set(known_ops)
    for name in ops:
        if name not in known:
            raise ToleranceError(f"unknown op {name!r} in [op.{name!r}]; names are the catalog's "
                                 "(see `inplace-conformance ops`)")
    return Tolerances(types.MappingProxyType(_entry("default", data.get("default", {}))),
                      types.MappingProxyType({name: _entry(f'op."{name}"', v) for name, v in ops.items()}),
                      same_device, source)


def load(path: str, known_ops) -> Tolerances:
    """:func:`parse` the file at ``path``; unreadable files raise :class:`ToleranceError` too."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise ToleranceError(f"cannot read {path}: {error.strerror}") from None
    try:
        return parse(text, known_ops, path)
    except ToleranceError as error:
        raise ToleranceError(f"{path}: {error}") from None


def describe(tolerances: Tolerances) -> str:
    """One line for the report header."""
    ops = len(tolerances.ops)
    dtypes = ", ".join(dtype_name(d) for d in tolerances.default)
    return (f"tolerances from {tolerances.source}: defaults for {dtypes or 'no dtype'}, {ops} op(s); "
            f"{'all comparisons' if tolerances.same_device else 'cross-device comparisons'}")
