"""Hypothesis properties of the random, metadata, nn.init and foreach families. No pytest here.

Like :mod:`conformance.properties`, each builds its ``@given`` test on call with the run's explicit
settings and runs it through :func:`conformance.properties.run`.
"""
from __future__ import annotations

import torch
from hypothesis import given, strategies as st

from strategies.layouts import LAYOUT_KINDS
from strategies.reuse import sampled_from
from strategies.shapes import shapes
from strategies.tensors import BuiltTensor, built_tensors
from strategies.values import Bounds

from .catalog import Case, cases
from .checks import check_inplace_call
from .checks.foreach import check_foreach_call, fresh, fresh_arg
from .checks.init import check_init_call
from .checks.metadata import check_metadata_call
from .checks.mutation import check_declared_no_op
from .checks.random import SAMPLE_LAYOUTS, check_random_call, check_random_distribution, check_random_rejects
from .properties import RunOptions, run

SEEDS = st.integers(0, 2**32 - 1)


def _dtype(data, dtypes):
    return dtypes[0] if len(dtypes) == 1 else data.draw(sampled_from(tuple(dtypes)), label="dtype")


def random_op_conforms(spec, device, options: RunOptions, *, dtypes=None, database_key: str = "") -> None:
    """A random op on drawn tensors of every layout and of a dtype drawn from ``dtypes`` (default: the
    catalog's): the storage contract, support, seed, twin and (on a large sample in a drawn layout) the
    distribution its parameters declare."""
    __tracebackhide__ = True
    dtypes = tuple(dtypes or spec.dtypes)

    @given(data=st.data())
    def prop(data):
        dtype = _dtype(data, dtypes)
        shape = data.draw(shapes(), label="self shape")
        built = data.draw(built_tensors(dtype, shape, device, label="self"), label="self")
        seed = data.draw(SEEDS, label="seed")
        params = data.draw(spec.params(dtype, shape), label="parameters")
        check_random_call(spec, built, params, seed, device)
        layout_kind = data.draw(st.sampled_from(SAMPLE_LAYOUTS), label="large sample layout")
        check_random_distribution(spec, dtype, device, params, seed, layout_kind)

    run(prop, options, database_key or f"{spec.name}-{device}-{dtypes}")


def numpy_dtypes(dtypes) -> tuple:
    """The dtypes whose tensors ``torch.from_numpy`` makes directly (bfloat16 and float8 have no NumPy twin)."""
    return tuple(d for d in dtypes if d not in (torch.bfloat16, torch.float8_e4m3fn, torch.float8_e5m2))


def random_op_rejects_invalid(spec, device, options: RunOptions, *, dtypes=None, database_key: str = "") -> None:
    """A random op with parameters outside its distribution's domain (``spec.invalid``) on drawn tensors of
    every layout: it raises and writes nothing."""
    __tracebackhide__ = True
    dtypes = tuple(dtypes or spec.dtypes)

    @given(data=st.data())
    def prop(data):
        dtype = _dtype(data, dtypes)
        built = data.draw(built_tensors(dtype, data.draw(shapes(), label="self shape"), device, label="self"),
                          label="self")
        params = data.draw(spec.invalid(dtype), label="invalid parameters")
        check_random_rejects(spec, built, params, data.draw(SEEDS, label="seed"), device)

    run(prop, options, database_key or f"{spec.name}-invalid-{device}-{dtypes}")


def _owned(built: BuiltTensor, numpy_storage: bool) -> BuiltTensor:
    """``built`` in a storage torch owns (it can grow), or in one NumPy owns (it cannot)."""
    storage = torch.from_numpy(built.storage.cpu().numpy().copy()) if numpy_storage else built.storage.clone()
    lay = built.layout
    return BuiltTensor(storage.as_strided(lay.shape, lay.stride, lay.offset), storage, lay)


@st.composite
def _autograd_subject(draw, built: BuiltTensor):
    """``self`` for ``detach_``: the built view itself, a tensor that is no view, or a non-leaf."""
    forms = ["view", "plain"] + (["non-leaf"] if built.tensor.dtype.is_floating_point else [])
    form = draw(sampled_from(tuple(forms)), label="detach_ subject")
    if form == "view":
        return None
    plain = built.tensor.detach().clone()
    return plain if form == "plain" else plain.requires_grad_() * 1


def metadata_op_conforms(spec, device, options: RunOptions, *, dtypes=None, numpy_storage: bool = False,
                         database_key: str = "") -> None:
    """A metadata op on drawn tensors of every layout and dtype with drawn (sometimes invalid) arguments;
    with ``numpy_storage`` (CPU only) in a storage NumPy owns, which cannot grow."""
    __tracebackhide__ = True
    dtypes = tuple(dtypes or spec.dtypes)
    dtypes = numpy_dtypes(dtypes) if numpy_storage else dtypes

    @given(data=st.data())
    def prop(data):
        dtype = _dtype(data, dtypes)
        shape = data.draw(shapes(), label="self shape")
        built = _owned(data.draw(built_tensors(dtype, shape, device, label="self"), label="self"), numpy_storage)
        args = data.draw(spec.draw_args(shape), label="arguments")
        subject = data.draw(_autograd_subject(built), label="subject") if spec.exception("view") else None
        check_metadata_call(spec, built, args, device, subject_tensor=subject)

    run(prop, options, database_key or f"{spec.name}-{device}-{dtypes}")


def flagged_op_conforms(spec, dtype, device, options: RunOptions, *, database_key: str = "") -> None:
    """The generic pointwise contract (``check_inplace_call``) for a catalog entry with declared no-op
    calls (``spec.no_op``): those must return ``self`` and change nothing, not even the version."""
    __tracebackhide__ = True

    @given(data=st.data())
    def prop(data):
        case = data.draw(cases(spec, dtype, device, operand_dtypes=options.operand_dtypes), label="case")
        case.reference_device = options.reference_device
        case.tolerances = options.tolerances_for(spec.name, device)
        reason = spec.no_op(case.self.tensor, case.kwargs) if spec.no_op else None
        if reason:
            check_declared_no_op(case, reason)
        else:
            check_inplace_call(case)

    run(prop, options, database_key or f"{spec.name}-{dtype}-{device}")


NOT_EXPANDED = tuple(k for k in LAYOUT_KINDS if k != "expanded")


def init_conforms(spec, device, options: RunOptions, *, dtypes=None, database_key: str = "") -> None:
    """A ``torch.nn.init`` function on drawn non-empty tensors (plain or ``nn.Parameter``) of every
    layout but expanded, with drawn arguments and seed."""
    __tracebackhide__ = True
    dtypes = tuple(dtypes or spec.dtypes)

    @given(data=st.data())
    def prop(data):
        dtype = _dtype(data, dtypes)
        shape = data.draw(shapes(max_dims=5 if 5 in spec.dims else 4, allow_empty=False), label="self shape")
        built = data.draw(built_tensors(dtype, shape, device, layout_kinds=NOT_EXPANDED, label="self"), label="self")
        kwargs = data.draw(spec.draw_kwargs(shape), label="arguments")
        seed = data.draw(SEEDS, label="seed")
        as_parameter = data.draw(st.booleans(), label="as nn.Parameter")
        check_init_call(spec, built, kwargs, seed, device, as_parameter=as_parameter)

    run(prop, options, database_key or f"{spec.name}-{device}-{dtypes}")


SCALARS = st.one_of(st.integers(-4, 4), st.floats(-4, 4, allow_nan=False, width=32))


@st.composite
def _foreach_arguments(draw, spec, selves, dtype, device):
    """``(args, kwargs)`` of one drawn argument form of ``spec`` for the tensors ``selves``."""
    def like_selves(label):
        return [draw(built_tensors(dtype, b.layout.shape, device, layout_kinds=NOT_EXPANDED, label=f"{label}[{j}]"),
                     label=f"{label}[{j}]") for j, b in enumerate(selves)]
    form = draw(sampled_from(tuple(spec.forms)), label="argument form")
    n = len(selves)
    if form == "none":
        return [], {}
    if form == "scalar":
        return [draw(SCALARS, label="scalar")], {}
    if form == "scalars":
        return [draw(st.lists(SCALARS, min_size=n, max_size=n), label="scalars")], {}
    if form == "lerp":
        weight = draw(st.one_of(st.floats(0, 1, width=32), st.none()), label="weight (None: a list)")
        return [like_selves("end"), weight if weight is not None else like_selves("weight")], {}
    if form == "ternary":
        value = draw(sampled_from(("scalar", "scalars", "tensor")), label="value form")
        scalars = draw(st.lists(SCALARS, min_size=n, max_size=n), label="values")
        value = {"scalar": scalars[0], "scalars": scalars, "tensor": torch.tensor(scalars, dtype=torch.float64)}[value]
        return [like_selves("tensor1"), like_selves("tensor2"), value], {}
    other = (like_selves("other") if form == "tensors" else
             draw(built_tensors(dtype, (), device, label="other"), label="other"))
    if spec.alpha and draw(st.booleans(), label="pass alpha?"):
        return [other], {"alpha": draw(st.integers(-3, 3), label="alpha")}
    return [other], {}


def foreach_groups(specs) -> list[tuple]:
    """Foreach specs grouped by argument forms, alpha and dtypes: one group shares every draw."""
    groups: dict = {}
    for spec in specs:
        groups.setdefault((spec.forms, spec.alpha, spec.dtypes), []).append(spec)
    return [tuple(g) for g in groups.values()]


def foreach_conforms(specs, device, options: RunOptions, *, dtypes=None, database_key: str = "") -> None:
    """Foreach ops sharing argument forms (see :func:`foreach_groups`) on 1 to 3 drawn tensors (each its
    own shape and layout): every op of ``specs`` runs on fresh copies of the same draws (draws dominate
    the cost), against the loop of its single-tensor op."""
    __tracebackhide__ = True
    specs = tuple(specs) if isinstance(specs, (tuple, list)) else (specs,)
    dtypes = tuple(dtypes or specs[0].dtypes)

    @given(data=st.data())
    def prop(data):
        dtype = _dtype(data, dtypes)
        n = data.draw(st.integers(1, 3), label="list length")
        selves = [data.draw(built_tensors(dtype, data.draw(shapes(max_dims=3), label=f"shape[{j}]"), device,
                                          layout_kinds=NOT_EXPANDED, label=f"self[{j}]"), label=f"self[{j}]")
                  for j in range(n)]
        args, kwargs = data.draw(_foreach_arguments(specs[0], selves, dtype, device), label="arguments")
        for spec in specs:
            check_foreach_call(spec, [fresh(b) for b in selves], fresh_arg(args), kwargs, device)

    run(prop, options, database_key or f"{specs[0].name}-{device}-{dtypes}")


@st.composite
def _embedding_renorm_case(draw, spec, dtype, device):
    """A 2-D weight of any layout but expanded, in-range row indices (duplicates allowed), max_norm, norm_type."""
    shape = draw(shapes(min_dims=2, max_dims=2, allow_empty=False), label="weight shape")
    built = draw(built_tensors(dtype, shape, device, layout_kinds=NOT_EXPANDED, bounds=Bounds(-10, 10),
                               label="weight"), label="weight")
    rows = draw(st.lists(st.integers(0, shape[0] - 1), max_size=6), label="indices")
    case = Case(spec, device, built)
    case.args = [torch.tensor(rows, dtype=torch.int64, device=device),
                 draw(st.floats(0.125, 8, width=32), label="max_norm"),
                 draw(sampled_from((1.0, 2.0, 3.0)), label="norm_type")]
    case.arg_names = ["indices", "max_norm", "norm_type"]
    return case


def embedding_renorm_conforms(spec, device, options: RunOptions, *, dtypes=None, database_key: str = "") -> None:
    """``torch.embedding_renorm_`` against the kit's reference, through the generic contract check."""
    __tracebackhide__ = True
    dtypes = tuple(dtypes or spec.dtypes)

    @given(data=st.data())
    def prop(data):
        case = data.draw(_embedding_renorm_case(spec, _dtype(data, dtypes), device), label="case")
        case.reference_device = options.reference_device
        case.tolerances = options.tolerances_for(spec.name, device)
        check_inplace_call(case)

    run(prop, options, database_key or f"{spec.name}-{device}-{dtypes}")
