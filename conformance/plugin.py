"""The pytest plugin: options, Hypothesis profiles, devices and parametrization of the suite.

Registered through the ``pytest11`` entry point (and the repository's ``conftest.py``), so an installed kit
works from any folder. Nothing happens at import; profiles are registered when pytest configures.
"""
from __future__ import annotations

import dataclasses
import functools
import gc
import re

import pytest
from hypothesis import Phase, settings

from strategies.dtypes import CORE_DTYPES, dtype_name, supported_dtypes

from . import capabilities
from .catalog import all_specs
from .devices import BACKEND_SETUP_ENV, DeviceError, backend_setup_spec, run_backend_setup, validate_device
from .known_issues import issue_for
from .profiles import PROFILES, default_profile, register_profiles
from .properties import RunOptions
from .targets import TargetError
from .targets import get as get_target
from .tolerances import ToleranceError
from .tolerances import describe as describe_tolerances
from .tolerances import load as load_tolerances

# Each part of the vendor workflow is a plugin module of its own, registered with this one.
pytest_plugins = ["conformance.report_plugin", "conformance.expectations_plugin", "conformance.nightly_plugin"]


def pytest_addoption(parser):
    group = parser.getgroup("inplace-conformance", "torch in-place conformance")
    group.addoption("--device", action="append", default=None, metavar="DEVICE",
                    help="device to check (repeatable): cpu, cuda, cuda:1, mps, xpu, meta, ... (default: cpu)")
    group.addoption("--reference-device", default=None, metavar="DEVICE",
                    help="compute every out-of-place twin on this device (default: the device under test)")
    group.addoption("--backend-setup", default=None, metavar="MODULE[:CALLABLE]",
                    help="import MODULE (registering a vendor backend) and call CALLABLE if named, before the "
                         f"devices are checked (default: ${BACKEND_SETUP_ENV})")
    group.addoption("--tolerances", default=None, metavar="FILE",
                    help="TOML file of per-dtype and per-op rtol/atol for cross-device comparisons "
                         "(see docs/devices.md)")
    group.addoption("--reproduce-blob", default=None, metavar="BLOB",
                    help="replay one failing example: the blob Hypothesis printed for the selected test")
    group.addoption("--target", action="append", default=None, metavar="TARGET",
                    help="how the op under test runs (repeatable): eager (default), compile (torch.compile, "
                         "Inductor), fake (FakeTensorMode against eager), or module:callable (a vendor wrapper, "
                         "see docs/targets.md)")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    register_profiles()
    config.addinivalue_line("markers", "conformance: a property of the in-place conformance suite")
    config.addinivalue_line("markers", "requires(*capabilities): skip on devices lacking one of them "
                                       f"({', '.join(capabilities.CAPABILITIES)})")
    profile = config.getoption("hypothesis_profile", None) or default_profile()
    try:
        profile_settings = settings.get_profile(profile)
    except Exception:  # noqa: BLE001 - Hypothesis raises InvalidArgument for unknown names
        raise pytest.UsageError(f"unknown Hypothesis profile {profile!r}; the kit's profiles are "
                                f"{', '.join(PROFILES)}") from None
    try:
        run_backend_setup(backend_setup_spec(config.getoption("backend_setup")))
        devices = [validate_device(d) for d in (config.getoption("device") or ["cpu"])]
        reference = config.getoption("reference_device")
        reference = validate_device(reference) if reference else None
        if reference and not capabilities.has(reference, "values"):
            raise DeviceError(f"reference device {reference!r} lacks capability values "
                              f"({capabilities.CAPABILITIES['values']}): twins computed there cannot be compared")
        tolerances = config.getoption("tolerances")
        tolerances = load_tolerances(tolerances, {s.name for s in all_specs()}) if tolerances else None
    except (DeviceError, ToleranceError) as error:
        raise pytest.UsageError(str(error)) from None
    try:
        targets = list(dict.fromkeys(get_target(t).name for t in (config.getoption("target") or ["eager"])))
    except TargetError as error:
        raise pytest.UsageError(str(error)) from None
    config._conformance = {"devices": devices, "profile": profile, "options": RunOptions(
        settings=profile_settings, reference_device=reference,
        reproduce_blob=config.getoption("reproduce_blob"), tolerances=tolerances)}
    config._conformance["capabilities"] = {d: dict(capabilities.probe(d)) for d in dict.fromkeys(
        devices + ([reference] if reference else []))}
    config._conformance["targets"] = targets


def pytest_report_header(config):
    state = getattr(config, "_conformance", None)
    if state:
        return [f"inplace-conformance: devices {', '.join(state['devices'])}; profile {state['profile']}; "
                f"reference device {state['options'].reference_device or 'same as tested'}; "
                f"targets {', '.join(state.get('targets', ['eager']))}",
                *(f"  capabilities of {capabilities.summary(d)}" for d in state.get("capabilities", {})),
                *([f"  {describe_tolerances(state['options'].tolerances)}"] if state["options"].tolerances else [])]


def pytest_collection_modifyitems(config, items):
    """Mark tests that a known torch bug makes fail (``known_issues.toml``) as non-strict xfail; those
    whose bug kills the process are reported without running."""
    targets = config._conformance.get("targets", ["eager"])
    for item in items:
        target = _target_of(item)
        if target is None and "eager" not in targets and {"device", "conformance_target"} & set(
                getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.skip(reason=f"checks eager torch only; targets {', '.join(targets)}"))
        _skip_without_capabilities(item)
        issue = issue_for(item.name, target or "eager")
        if issue is not None:
            item.add_marker(pytest.mark.xfail(reason=f"known torch issue {issue.id}: {issue.summary}",
                                              strict=False, run=not issue.crashes))


_FROZE = pytest.StashKey[bool]()
"""Set where this run froze the garbage collector (and so unfreezes it at the end)."""


def pytest_collection_finish(session):
    """Freeze what collection built (test items, parametrizations, imported modules) out of the garbage
    collector: it lives as long as the session, and every full collection would scan it again (Hypothesis
    allocates enough per example to set one off every few dozen examples). See benchmarks/README.md.

    Only in runs of the kit's properties: the plugin loads in every pytest run where the kit is installed,
    and other projects' test runs are none of its business."""
    if any("conformance_options" in getattr(item, "fixturenames", ()) for item in session.items):
        gc.collect()
        gc.freeze()
        session.config.stash[_FROZE] = True


def pytest_unconfigure(config):
    if config.stash.get(_FROZE, False):
        gc.unfreeze()  # in-process runs (pytest.main, pytester) get the interpreter back as they found it


def _skip_without_capabilities(item) -> None:
    """Skip a test marked ``@pytest.mark.requires("values", ...)`` on a device lacking one of them."""
    required = [c for mark in item.iter_markers("requires") for c in mark.args]
    callspec = getattr(item, "callspec", None)
    device = callspec.params.get("device") if callspec else None
    if not required or device is None:
        return
    for capability in required:
        if capability not in capabilities.CAPABILITIES:
            raise pytest.UsageError(f"{item.nodeid}: unknown capability {capability!r} in @pytest.mark.requires; "
                                    f"known: {', '.join(capabilities.CAPABILITIES)}")
    lacking = capabilities.missing(device, required)
    if lacking:
        item.add_marker(pytest.mark.skip(reason=f"device {device} lacks capability {', '.join(lacking)}: "
                                                + "; ".join(capabilities.CAPABILITIES[c] for c in lacking)))


def _target_of(item) -> str | None:
    """The target an item is parametrized with; None for a test that is not (it runs eagerly)."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("conformance_target") if callspec else None


@pytest.fixture
def conformance_target() -> str:
    """The target of the test (``eager`` unless ``--target`` names others: then it is parametrized)."""
    return "eager"


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    """Cross the suite's parametrization over ``device`` with the run's targets (tests taking
    ``conformance_target``, as ``conformance_options`` does): ``add_-float16-cpu-compile``; eager ids keep
    their form. The suite's own ``pytest_generate_tests`` runs after this hook and calls the wrapper."""
    targets = metafunc.config._conformance.get("targets", ["eager"])
    if "conformance_target" not in metafunc.fixturenames or targets == ["eager"]:
        return
    metafunc.parametrize = functools.partial(_parametrize_with_targets, metafunc, metafunc.parametrize, targets)


_PARAMETER_SET = type(pytest.param(None))


def _parametrize_with_targets(metafunc, parametrize, targets, argnames, argvalues, *args, **kwargs):
    names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
    if "device" not in names or args or kwargs or getattr(metafunc, "_conformance_targets_done", False):
        return parametrize(argnames, argvalues, *args, **kwargs)
    params = []
    for value in argvalues:
        if not isinstance(value, _PARAMETER_SET):
            value = pytest.param(*(value if len(names) > 1 else (value,)),
                                 id="-".join(str(v) for v in (value if len(names) > 1 else (value,))))
        for target in targets:
            suffix = get_target(target).suffix
            params.append(pytest.param(*value.values, target, marks=value.marks,
                                       id=f"{value.id}-{suffix}" if suffix else value.id))
    metafunc._conformance_targets_done = True
    return parametrize([*names, "conformance_target"], params)


@pytest.fixture
def conformance_options(request, conformance_target) -> RunOptions:
    """The run's :class:`~conformance.properties.RunOptions`, with operand dtypes of the tested device.

    An expected failure stops at its first failing example: shrinking it would only cost time.
    """
    options = request.config._conformance["options"]
    device = request.node.callspec.params.get("device", "cpu") if hasattr(request.node, "callspec") else "cpu"
    run_settings = options.settings
    if request.node.get_closest_marker("xfail") is not None:
        run_settings = settings(run_settings, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                                report_multiple_bugs=False)
    return dataclasses.replace(options, settings=run_settings, operand_dtypes=supported_dtypes(device, CORE_DTYPES),
                               target=conformance_target)


def parametrize_ops(metafunc, specs) -> None:
    """Parametrize a suite test over ``spec`` x ``dtype`` x ``device``, ids like ``add_-float16-cpu``;
    a test without a ``dtype`` argument (it draws the dtype) over ``spec`` x ``device``: ``add_-cpu``."""
    if not {"spec", "device"} <= set(metafunc.fixturenames):
        return
    devices = metafunc.config._conformance["devices"]
    if "dtype" not in metafunc.fixturenames:
        metafunc.parametrize("spec, device", [pytest.param(spec, device, id=f"{spec.name}-{device}")
                                              for device in devices for spec in specs])
        return
    params = [
        pytest.param(spec, dtype, device, id=f"{spec.name}-{dtype_name(dtype)}-{device}")
        for device in devices
        for spec in specs
        for dtype in supported_dtypes(device)
    ]
    metafunc.parametrize("spec, dtype, device", params)


_BLOB = re.compile(r"@reproduce_failure\('[^']+', b'([^']+)'\)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Append a one-line reproduction (``pytest ID --reproduce-blob=...``) to a failing suite test."""
    report = yield
    if report.failed and call.when == "call" and "spec" in getattr(item, "fixturenames", ()):
        match = _BLOB.search(str(report.longrepr))
        if match:
            report.sections.append(("one-line reproduction",
                                    f"pytest '{item.nodeid}' --reproduce-blob={match.group(1)}"))
    return report
