"""Indexing assignment ``t[key] = value`` and the calls it lowers to, against NumPy (docs/indexing.md).

One test per form x dtype x device. Exception-safety findings (a call that raised after writing part of
its result, an out-of-bounds index accepted because nothing is written) do not fail a test: each kind is
shown once per test as a :class:`ExceptionSafetyFinding` warning and recorded as a test property.
"""
from __future__ import annotations

import warnings

import pytest
import torch

from conformance import setitem_properties
from conformance.checks.setitem import FORMS
from strategies.dtypes import dtype_name, supported_dtypes


class ExceptionSafetyFinding(UserWarning):
    """A finding about what a raising call left behind: reported, not failed (DESIGN.md point 3)."""


def pytest_generate_tests(metafunc):
    devices = metafunc.config._conformance["devices"]
    if {"form", "dtype", "device"} <= set(metafunc.fixturenames):
        metafunc.parametrize("form, dtype, device", [
            pytest.param(form, dtype, device, id=f"{form}-{dtype_name(dtype)}-{device}")
            for device in devices for form in FORMS for dtype in supported_dtypes(device)])
    elif {"form", "device"} <= set(metafunc.fixturenames):
        metafunc.parametrize("form, device", [pytest.param(form, device, id=f"{form}-{device}")
                                              for device in devices for form in setitem_properties.OVERLAP_FORMS])
    elif "device" in metafunc.fixturenames:
        metafunc.parametrize("device", devices)


def report_findings(findings, record_property) -> None:
    """One warning and one test property per kind of finding, with the first reproduction."""
    by_kind = {}
    for finding in findings:
        by_kind.setdefault(finding.kind, []).append(finding)
    for kind, found in by_kind.items():
        record_property(f"finding:{kind}", f"{len(found)} example(s); first:\n{found[0]}")
        warnings.warn(ExceptionSafetyFinding(f"{len(found)} example(s) of {found[0]}"), stacklevel=2)


@pytest.mark.requires("values")
def test_assignment_conforms(form, dtype, device, conformance_options, request, record_property):
    """Positions written equal NumPy's ``a[key] = v`` (any one value for duplicate targets), others and
    sentinels unchanged; self keeps identity, storage and strides; the version bumps even when nothing
    changes; a view made before sees the write; errors as NumPy (and torch's stated rules) say, self
    unchanged after errors found before writing."""
    findings = []
    unimplemented = setitem_properties.assignment_conforms(form, dtype, device, conformance_options,
                                                           findings=findings, database_key=request.node.nodeid)
    report_findings(findings, record_property)
    if unimplemented:
        pytest.skip(f"not implemented on {device} (checked that it raises, self unchanged): {unimplemented}")


@pytest.mark.requires("values")
def test_assignment_from_view_of_self(form, device, conformance_options, request, record_property):
    """The value is a view of self's own storage: raise, or equal NumPy's assignment of the value as it
    was before the call. Every supported dtype is drawn within the one test per form."""
    findings = []
    setitem_properties.assignment_from_self_conforms(form, supported_dtypes(device), device, conformance_options,
                                                     findings=findings, database_key=request.node.nodeid)
    report_findings(findings, record_property)


@pytest.mark.requires("values")
def test_out_of_bounds_index_raises_with_empty_result(device):
    """NumPy raises IndexError for an out-of-bounds index even when the indexed result is empty."""
    t = torch.zeros(3, 0, device=device)
    with pytest.raises(IndexError):
        t[torch.tensor([5], device=device)] = 1.0
