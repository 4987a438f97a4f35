"""Hypothesis properties of the random, metadata, nn.init and foreach families. No pytest here.

Like :mod:`conformance.properties`, each builds its ``@given`` test on call with the run's explicit
settings and runs it through :func:`conformance.properties.run`.
"""
from __future__ import annotations

from hypothesis import given, strategies as st

from strategies.shapes import shapes
from strategies.tensors import BuiltTensor, built_tensors

from .checks.metadata import check_metadata_call
from .checks.random import SAMPLE_LAYOUTS, check_random_call, check_random_distribution
from .properties import RunOptions, run

SEEDS = st.integers(0, 2**32 - 1)


def _dtype(data, dtypes):
    return dtypes[0] if len(dtypes) == 1 else data.draw(st.sampled_from(dtypes), label="dtype")


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
        params = data.draw(spec.params(dtype, shape), label="parameters")
        seed = data.draw(SEEDS, label="seed")
        check_random_call(spec, built, params, seed, device)
        layout_kind = data.draw(st.sampled_from(SAMPLE_LAYOUTS), label="large sample layout")
        check_random_distribution(spec, dtype, device, params, seed, layout_kind)

    run(prop, options, database_key or f"{spec.name}-{device}-{dtypes}")


def _resizable(built: BuiltTensor) -> BuiltTensor:
    """``built`` in a storage torch owns (a storage built from NumPy cannot grow)."""
    storage = built.storage.clone()
    lay = built.layout
    return BuiltTensor(storage.as_strided(lay.shape, lay.stride, lay.offset), storage, lay)


@st.composite
def _autograd_subject(draw, built: BuiltTensor):
    """``self`` for ``detach_``: the built view itself, a tensor that is no view, or a non-leaf."""
    forms = ["view", "plain"] + (["non-leaf"] if built.tensor.dtype.is_floating_point else [])
    form = draw(st.sampled_from(forms), label="detach_ subject")
    if form == "view":
        return None
    plain = built.tensor.detach().clone()
    return plain if form == "plain" else plain.requires_grad_() * 1


def metadata_op_conforms(spec, device, options: RunOptions, *, dtypes=None, database_key: str = "") -> None:
    """A metadata op on drawn tensors of every layout and dtype with drawn (sometimes invalid) arguments."""
    __tracebackhide__ = True
    dtypes = tuple(dtypes or spec.dtypes)

    @given(data=st.data())
    def prop(data):
        dtype = _dtype(data, dtypes)
        shape = data.draw(shapes(), label="self shape")
        built = _resizable(data.draw(built_tensors(dtype, shape, device, label="self"), label="self"))
        args = data.draw(spec.draw_args(shape), label="arguments")
        subject = data.draw(_autograd_subject(built), label="subject") if spec.exception("view") else None
        check_metadata_call(spec, built, args, device, subject_tensor=subject)

    run(prop, options, database_key or f"{spec.name}-{device}-{dtypes}")
