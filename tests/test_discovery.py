"""Discovery finds the installed torch's in-place callables; the inventory and the coverage test account for them."""
from __future__ import annotations

import pytest
import torch

from conformance import discovery, inventory
from conformance.catalog.spec import resolve
from conformance.discovery import Discovered
from conformance.suite import test_catalog_covers_torch as coverage


@pytest.fixture(scope="module")
def found():
    return discovery.discover()


def by_name(found, kind):
    return {d.name: d for d in found if d.kind == kind}


def test_every_public_inplace_tensor_method(found):
    methods = by_name(found, "method")
    expected = {n for n in dir(torch.Tensor) if n.endswith("_") and not n.startswith("_")}
    assert set(methods) == expected
    if torch.__version__.startswith("2.13"):
        assert len(methods) == 162
    assert methods["add_"].twin == "add" and methods["add_"].aten == "add_"
    assert methods["apply_"].twin is None and methods["apply_"].aten is None


def test_aten_inplace_overloads_write_their_first_tensor(found):
    aten = by_name(found, "aten")
    assert {"aten::add_.Tensor", "aten::add_.Scalar", "aten::abs_", "aten::index_put_"} <= set(aten)
    assert "aten::add_.t" not in aten  # a TorchScript list op: its first argument is t[](a!), not a Tensor
    assert not any(name.startswith("aten::_") for name in aten)  # private ops (_foreach_* via their kind)
    assert aten["aten::add_.Tensor"].twin == "aten::add.Tensor"
    assert aten["aten::add_.Tensor"].aten == "add_"
    for schema in torch._C._jit_get_all_schemas():
        name = schema.name + (f".{schema.overload_name}" if schema.overload_name else "")
        if name in aten:
            first = schema.arguments[0]
            assert str(first.type) == "Tensor" and first.alias_info.is_write, name


def test_out_overloads_and_their_functional_twins(found):
    out = by_name(found, "out")
    assert out["aten::add.out"].twin == "aten::add.Tensor"
    assert out["aten::add.Scalar_out"].twin == "aten::add.Scalar"
    assert out["aten::max.dim_max"].twin == "aten::max.dim"
    assert out["aten::sum.IntList_out"].twin == "aten::sum.dim_IntList"
    assert not any(name.split("::")[1].split(".")[0].endswith("_") for name in out)


def test_other_kinds_and_their_twins(found):
    functions = by_name(found, "function")
    assert functions["torch.relu_"].twin == "torch.relu"
    assert functions["torch.nn.functional.relu_"].aten == "relu_"
    assert functions["torch.nn.functional.silu"].note.startswith("with inplace=True")
    assert functions["torch.nn.functional.silu"].aten == "silu_"
    assert by_name(found, "dunder")["__iadd__"].twin == "__add__"
    assert "__index__" not in by_name(found, "dunder") and "__init__" not in by_name(found, "dunder")
    assert by_name(found, "foreach")["torch._foreach_add_"].twin == "torch._foreach_add"
    assert "torch.nn.init.kaiming_uniform_" in by_name(found, "init")


def test_python_names_resolve_as_the_catalog_spells_them(found):
    for d in found:
        if d.kind not in ("aten", "out"):
            assert callable(resolve(d.name)), d.name
            if d.twin:
                assert callable(resolve(d.twin)), d.twin


def test_discover_is_sorted_and_unique(found):
    keys = [(discovery.KIND_ORDER.index(d.kind), d.name) for d in found]
    assert keys == sorted(set(keys))


# The inventory: how entries are accounted for.

def test_aten_overloads_are_accounted_by_the_method_that_calls_them():
    entries = {e.name: e for e in inventory.build()}
    for name in ("aten::add_.Tensor", "aten::add_.Scalar"):
        assert entries[name].status == "checked"
        assert entries[name].covered_by == "add_"
        assert "add_" in entries[name].reason
    assert entries["torch.abs_"].covered_by == "abs_"
    assert entries["add_"].covered_by is None and entries["add_"].checks


def test_exclusions_carry_their_reason_and_module():
    entries = {e.name: e for e in inventory.build()}
    assert entries["apply_"].status == "excluded" and "Python" in entries["apply_"].reason
    assert entries["apply_"].family == "conformance.catalog.excluded"
    assert entries["aten::sparse_resize_"].status == "excluded"  # through the excluded method
    assert entries["aten::gelu_"].status == "excluded"  # by aten name: no Python callable reaches it
    assert not entries["apply_"].checks


def test_out_overloads_are_checked_on_a_sample_and_excluded_otherwise():
    entries = {e.name: e for e in inventory.build() if e.kind == "out"}
    assert entries["aten::add.out"].status == "checked" and entries["aten::add.out"].covered_by == "torch.add"
    assert "out-alias" in entries["aten::add.out"].checks
    assert entries["aten::mm.out"].status == "excluded" and "sample" in entries["aten::mm.out"].reason


# The coverage test names an op that a newer torch adds (a planted discovery result).

NEW_METHOD = Discovered("frobnicate_", "method", "frobnicate", "frobnicate_")
NEW_ATEN = Discovered("aten::frobnicate_.Tensor", "aten", "aten::frobnicate.Tensor", "frobnicate_")


def with_new_ops(monkeypatch, *new):
    real = discovery.discover

    def discover(include_out=True):
        return real(include_out) + new
    monkeypatch.setattr(discovery, "discover", discover)


def only_new_ops(monkeypatch, *new):
    """The real catalog, a discovery that finds nothing but ``new``: the test fails exactly on them."""
    monkeypatch.setattr(discovery, "discover", lambda include_out=True: new)


def test_coverage_test_names_a_new_method_and_what_to_add(monkeypatch):
    only_new_ops(monkeypatch, NEW_METHOD, NEW_ATEN)
    with pytest.raises(AssertionError) as info:
        coverage.test_every_discovered_callable_is_checked_or_excluded()
    message = str(info.value)
    assert "2 in-place callables" in message
    assert "method frobnicate_: add an OpSpec named 'frobnicate_' (twin 'frobnicate')" in message
    assert "aten aten::frobnicate_.Tensor: no checked callable reaches aten::frobnicate_" in message
    assert "EXCLUDED" in message


def test_coverage_test_names_a_new_op_among_the_real_ones(monkeypatch):
    with_new_ops(monkeypatch, NEW_METHOD)
    with pytest.raises(AssertionError) as info:
        coverage.test_every_discovered_callable_is_checked_or_excluded()
    assert "method frobnicate_: add an OpSpec named 'frobnicate_'" in str(info.value)


def test_coverage_test_passes_when_the_new_op_is_excluded(monkeypatch):
    only_new_ops(monkeypatch, NEW_METHOD, NEW_ATEN)
    monkeypatch.setitem(__import__("conformance.catalog.excluded", fromlist=["EXCLUDED"]).EXCLUDED,
                        "frobnicate_", "planted: a reason")
    coverage.test_every_discovered_callable_is_checked_or_excluded()  # the aten op is reached only through it
    entries = {e.name: e for e in inventory.build()}
    assert entries["aten::frobnicate_.Tensor"].status == "excluded"
    assert "frobnicate_" in entries["aten::frobnicate_.Tensor"].reason


def test_coverage_test_passes_when_a_method_reaching_a_new_aten_op_is_checked(monkeypatch):
    add = Discovered("aten::add_.Brand_new", "aten", None, "add_")
    only_new_ops(monkeypatch, Discovered("add_", "method", "add", "add_"), add)
    coverage.test_every_discovered_callable_is_checked_or_excluded()
    assert coverage.unaccounted_report(inventory.build()) == ""
