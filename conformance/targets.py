"""How the op under test is executed (``--target``): eagerly, compiled, under ``FakeTensorMode``, or by a vendor.

Every check makes its in-place call through :func:`wrap`, which runs it under the target that
:func:`active` set for the running property (``properties.run`` does), so the checks keep one code path:

- ``eager``: the call as written.
- ``compile``: the call inside a function compiled by ``torch.compile`` (Inductor, ``fullgraph=True``), compiled
  afresh for every call (``torch._dynamo.reset()``), so no call ever falls back to eager after a recompile limit;
  a call Dynamo cannot capture in one graph is *not applicable* (counted, never run eagerly instead).
- ``fake``: the call on fake copies under ``FakeTensorMode`` next to the call on real copies: the decision to
  raise, and the shapes, strides, storage offsets and dtypes of the result and of every input, must agree
  (check ``fake-raises`` or ``fake-metadata``); the example then ends (:class:`Checked`): values are meaningless.
- ``module:callable``: a vendor's wrapper (see :class:`Wrapped` for the protocol).

Nothing happens at import: Dynamo, Inductor and fake tensors are imported when a target first runs.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import importlib
import logging
import re

import torch

from .checks.failure import ConformanceFailure

BUILTIN = ("eager", "compile", "fake")

TARGET_CHECKS = {
    "fake-raises": "under FakeTensorMode the call raises exactly when the eager call raises (value-independent errors)",
    "fake-metadata": "under FakeTensorMode the result and every input get the eager call's shapes, strides, "
                     "storage offsets and dtypes, and the result is the same input object",
}


class TargetError(ValueError):
    """A ``--target`` that names no target, or a vendor wrapper that cannot be imported."""


class Signal(Exception):
    """Control flow from a target to :func:`conformance.properties.run`; never an outcome of the call."""


class NotApplicable(Signal):
    """The target cannot run this call (Dynamo cannot capture it in one graph): the example checks nothing."""


class Checked(Signal):
    """The target checked everything it checks about this example (``fake``): the example ends here."""


@dataclasses.dataclass(frozen=True)
class Target:
    """A way to execute a call. ``name`` as given on the command line; ``suffix`` ends non-eager test ids."""

    name: str

    @property
    def suffix(self) -> str:
        return self.name

    def run(self, fn, args, kwargs):
        return fn(*args, **kwargs)


class Eager(Target):
    @property
    def suffix(self) -> str:
        return ""


@contextlib.contextmanager
def _quiet(*loggers: str):
    """Silence torch's own error logging around one call (the kit reports the outcome itself)."""
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in loggers]
    for logger, _ in saved:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


_TORCH_LOGGERS = ("torch._subclasses.fake_tensor", "torch._dynamo", "torch._inductor", "torch.fx")


class Compiled(Target):
    """``torch.compile(fn, backend=Inductor, fullgraph=True)``, compiled afresh for each call.

    A fresh compile per call (``torch._dynamo.reset()``) keeps Dynamo's recompile limit out of reach, and
    ``suppress_errors=False`` keeps a failing compile from falling back to eager: every call that returns
    went through a graph the counting backend saw, or the call is :class:`NotApplicable`. Costs about 1 to 2
    seconds per call on a CPU (the first compile of a process about 20).
    """

    def run(self, fn, args, kwargs):
        return self.compiled(fn)(*args, **kwargs)

    def compiled(self, fn):
        """``fn`` compiled afresh; later calls reuse the graph, and a recompile is :class:`NotApplicable`."""
        import torch._dynamo
        from torch._dynamo import exc
        from torch._inductor.compile_fx import compile_fx

        graphs = []

        def backend(gm, example_inputs):
            graphs.append(gm)
            return compile_fx(gm, example_inputs)

        def call_under_test(*a, **k):
            return fn(*a, **k)

        torch._dynamo.reset()
        compiled = torch.compile(call_under_test, backend=backend, fullgraph=True, dynamic=False)

        def call(*args, **kwargs):
            with torch._dynamo.config.patch(suppress_errors=False, error_on_recompile=bool(graphs)), \
                    _quiet(*_TORCH_LOGGERS):
                try:
                    result = compiled(*args, **kwargs)
                except exc.Unsupported as error:
                    raise NotApplicable(f"Dynamo cannot capture the call in one graph: {_first_line(error)}") from None
                except exc.RecompileError as error:
                    raise NotApplicable(f"the call would recompile: {_first_line(error)}") from None
                except exc.UserError as error:  # data-dependent shapes or values: not one static graph
                    raise NotApplicable(f"Dynamo cannot capture the call in one graph: {_first_line(error)}") from None
                except (exc.TorchRuntimeError, exc.BackendCompilerFailed) as error:
                    # The op raised while traced on fake tensors, or inside the backend: that error is the outcome.
                    raise _original(error, exc.TorchDynamoException) from None
                except Exception as error:  # noqa: BLE001 - re-raised unless it came from an uncompiled call
                    if not graphs:  # Dynamo skipped the frame (disabled, or found no frame): the call ran eagerly
                        raise NotApplicable(f"Dynamo compiled no graph for the call (it ran eagerly and "
                                            f"{_describe_error(error)})") from None
                    raise
            if not graphs:
                raise NotApplicable("Dynamo compiled no graph for the call (it would have run eagerly)")
            return result
        return call


_BOUNDS = re.compile(r"out of (bounds|range)")
"""Index bounds are values: a fake tensor never checks them, even where every index is out of bounds."""
_KERNEL_DTYPES = re.compile(r"not implemented for '|ZeroDivisionError")
"""The dtypes a device's kernels dispatch on (``"sign_cpu" not implemented for 'UInt16'``) and integer division by
a zero scalar are decided by the kernel, not by the op's meta function: fake tensors are not asked to decide them."""
_OVERLAP = re.compile(r"refers? to a single memory location")
"""Torch 2.13's fake tensors never check memory overlap (known issue ``fake-no-memory-overlap-check``): one test
checks it (``test_fake_raises_on_memory_overlap``), so that every per-op test still checks everything else."""


class Fake(Target):
    """The call under ``FakeTensorMode`` compared with the eager call (see the module docstring)."""

    def run(self, fn, args, kwargs):
        from torch._subclasses.fake_tensor import (DataDependentOutputException, DynamicOutputShapeException,
                                                   FakeTensorMode)
        mode = FakeTensorMode(allow_non_fake_inputs=True)
        if _has_storage((args, kwargs)):
            raise NotApplicable("fake tensors cannot stand for a storage argument")
        # The fake copies first, then the eager call on the check's own tensors (views stay views in both);
        # the example ends with this call, so nothing reads those tensors afterwards.
        text = _fake_reproduction(fn, args, kwargs)
        fake_args, fake_kwargs = _map_tensors((args, kwargs), mode.from_tensor)
        real_args, real_kwargs = args, kwargs
        eager = _outcome(fn, real_args, real_kwargs)
        with _quiet(*_TORCH_LOGGERS), mode:
            fake = _outcome(fn, fake_args, fake_kwargs)
        subject = f"{_name(fn)} under FakeTensorMode on {_describe_inputs((args, kwargs))}"
        def repro():
            return text
        if isinstance(fake[1], (DataDependentOutputException, DynamicOutputShapeException)):
            raise Checked("the fake call needs values to decide")  # undecidable without values: nothing to compare
        if eager[1] is not None and fake[1] is None:
            if _KERNEL_DTYPES.search(str(eager[1])):
                raise Checked("which dtypes a device's kernels implement is not a fake kernel's decision")
            if _BOUNDS.search(str(eager[1])) or not value_independent_error(fn, args, kwargs):
                raise Checked("eager raised for these values only")
            if _OVERLAP.search(str(eager[1])):
                raise Checked("memory overlap: test_fake_raises_on_memory_overlap checks it once")
            raise ConformanceFailure("fake-raises", subject, f"raises as eager does: {_describe_error(eager[1])}",
                                     "returned without error", repro())
        if eager[1] is None and fake[1] is not None:
            raise ConformanceFailure("fake-raises", subject, "returns as eager does",
                                     _describe_error(fake[1]), repro())
        if eager[1] is None:
            want = _signature(eager[0], _tensors((real_args, real_kwargs)))
            got = _signature(fake[0], _tensors((fake_args, fake_kwargs)))
            if want != got:
                raise ConformanceFailure("fake-metadata", subject, f"result {want}", f"result {got}", repro())
            want = [_meta(t) for t in _tensors((real_args, real_kwargs))]
            got = [_meta(t) for t in _tensors((fake_args, fake_kwargs))]
            if want != got:
                i = next(i for i, (w, g) in enumerate(zip(want, got)) if w != g)
                raise ConformanceFailure("fake-metadata", subject, f"tensor input {i} afterwards {want[i]}",
                                         f"{got[i]}", repro())
        raise Checked("compared")


class Wrapped(Target):
    """A vendor's ``module:callable``. The callable is either

    - a ``TorchDispatchMode`` or ``TorchFunctionMode`` subclass: each call runs inside a fresh instance
      (``with Mode(): fn(*args, **kwargs)``), or
    - any other callable ``wrapper(fn)``, called once per call with the function to run, returning either a
      context manager (the call runs inside it) or a callable taking ``fn``'s arguments (it makes the call).

    A wrapper may raise :class:`NotApplicable` for calls it cannot run. All checks apply to what it returns.
    """

    @property
    def suffix(self) -> str:
        return _short_name(self.name)

    @functools.cached_property
    def wrapper(self):
        return _import(self.name)

    def run(self, fn, args, kwargs):
        from torch.overrides import TorchFunctionMode
        from torch.utils._python_dispatch import TorchDispatchMode
        wrapper = self.wrapper
        if isinstance(wrapper, type) and issubclass(wrapper, (TorchDispatchMode, TorchFunctionMode)):
            with wrapper():
                return fn(*args, **kwargs)
        made = wrapper(fn)
        if hasattr(made, "__enter__") and hasattr(made, "__exit__"):
            with made:
                return fn(*args, **kwargs)
        if callable(made):
            return made(*args, **kwargs)
        raise TypeError(f"target {self.name}: {wrapper!r}(fn) returned {made!r}, neither a context manager nor a "
                        f"callable")


def _original(error: BaseException, wrapper: type) -> BaseException:
    """The first exception of ``error``'s cause/context chain that Dynamo did not wrap (``error`` if none)."""
    seen, current = set(), error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, Exception) and not isinstance(current, wrapper):
            return current
        current = current.__cause__ or getattr(current, "inner_exception", None) or current.__context__
    return error


def _short_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", name.rpartition(":")[2].rpartition(".")[2])


def _import(name: str):
    module_name, _, attribute = name.partition(":")
    try:
        obj = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except Exception as error:  # noqa: BLE001 - any import failure is the user's input to report
        raise TargetError(f"cannot import target {name!r}: {type(error).__name__}: {error}") from None
    if not callable(obj):
        raise TargetError(f"target {name!r} is {obj!r}, not a callable or a mode class")
    return obj


@functools.lru_cache(maxsize=None)
def get(name: str) -> Target:
    """The target named ``name`` (``eager``, ``compile``, ``fake``, ``module:callable``); raises
    :class:`TargetError` for anything else, importing a vendor's module to check it."""
    if name == "eager":
        return Eager(name)
    if name == "compile":
        return Compiled(name)
    if name == "fake":
        return Fake(name)
    if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*", name):
        target = Wrapped(name)
        target.wrapper  # noqa: B018 - import now, so a bad name fails before collection
        return target
    raise TargetError(f"unknown target {name!r}; use eager, compile, fake or module:callable (a vendor wrapper)")


EAGER = Eager("eager")
_ACTIVE: contextvars.ContextVar[Target] = contextvars.ContextVar("conformance_target", default=EAGER)


@dataclasses.dataclass
class Tally:
    """Examples a target could not run, with the first reason, for one property run."""

    not_applicable: int = 0
    reason: str = ""

    def note(self, error: NotApplicable) -> None:
        self.not_applicable += 1
        self.reason = self.reason or str(error)


_TALLY: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("conformance_target_tally", default=None)


@contextlib.contextmanager
def active(target: Target | str):
    """Make every :func:`wrap`-ped call inside the block run under ``target``; yields a :class:`Tally`."""
    target = get(target) if isinstance(target, str) else target
    tally = Tally()
    tokens = _ACTIVE.set(target), _TALLY.set(tally)
    try:
        yield tally
    finally:
        _ACTIVE.reset(tokens[0])
        _TALLY.reset(tokens[1])


def current() -> Target:
    return _ACTIVE.get()


def note(signal: Signal) -> None:
    """Record a :class:`NotApplicable` example in the running property's tally."""
    tally = _TALLY.get()
    if tally is not None and isinstance(signal, NotApplicable):
        tally.note(signal)


def wrap(fn, *, reuse: bool = False):
    """``fn`` as the active target runs it (``fn`` itself under ``eager``). ``reuse``: calls with inputs of the
    same metadata share one compiled graph (``compile``), for many runs of one program."""
    target = current()
    if isinstance(target, Eager):
        return fn
    if reuse and isinstance(target, Compiled):
        return target.compiled(fn)

    @functools.wraps(fn)
    def under_target(*args, **kwargs):
        return target.run(fn, args, kwargs)
    return under_target


# ---- tensors inside arguments ----

def _map_tensors(value, fn):
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, tuple):
        return tuple(_map_tensors(v, fn) for v in value)
    if isinstance(value, list):
        return [_map_tensors(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _map_tensors(v, fn) for k, v in value.items()}
    return value


def _tensors(value) -> list[torch.Tensor]:
    out = []
    _map_tensors(value, out.append)
    return out


def clone_inputs(value, fill=None):
    """``value`` with every tensor replaced by a copy; tensors that shared a storage share one copy, with
    their own dtype, shape, strides and offset (aliasing kept). ``fill``: every copied storage holds that
    value instead (in each tensor's dtype)."""
    storages: dict[int, torch.UntypedStorage] = {}

    def copy(t: torch.Tensor) -> torch.Tensor:
        source = t.untyped_storage()
        storage = storages.get(source._cdata)
        if storage is None:
            storage = storages[source._cdata] = source.clone()
            if fill is not None and t.element_size() and storage.nbytes() >= t.element_size():
                whole = torch.empty(0, dtype=t.dtype, device=t.device)
                whole.set_(storage, 0, (storage.nbytes() // t.element_size(),), (1,))
                whole.fill_(fill)
        with torch.no_grad():
            out = torch.empty(0, dtype=t.dtype, device=t.device).set_(storage, t.storage_offset(), t.shape,
                                                                        t.stride())
        return out.requires_grad_(t.requires_grad) if t.is_leaf and t.dtype.is_floating_point else out
    return _map_tensors(value, copy)


def value_independent_error(fn, args, kwargs) -> bool:
    """Whether eager ``fn`` also raises when every tensor holds zeros and when every tensor holds ones: an
    error a fake tensor, which has no values, can be asked to decide."""
    for fill in (0, 1):
        fargs, fkwargs = clone_inputs((args, kwargs), fill=fill)
        if _outcome(fn, fargs, fkwargs)[1] is None:
            return False
    return True


def kernel_lacks_dtype(error: BaseException | None) -> bool:
    """Whether ``error`` says an eager kernel does not implement a dtype (``"add_stub" not implemented for
    'UInt64'``): a compiled target may generate code for it, so its returning is no parity failure."""
    return error is not None and bool(_KERNEL_DTYPES.search(str(error))) and "ZeroDivision" not in str(error)


def _has_storage(value) -> bool:
    if isinstance(value, (torch.UntypedStorage, torch.TypedStorage)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_storage(v) for v in value)
    if isinstance(value, dict):
        return any(_has_storage(v) for v in value.values())
    return False


def _outcome(fn, args, kwargs):
    try:
        return fn(*args, **kwargs), None
    except Signal:
        raise
    except Exception as error:  # noqa: BLE001 - any exception is an outcome to compare
        return None, error.with_traceback(None)  # no reference cycle through its frames (see checks.inplace.call)


def _meta(t: torch.Tensor) -> str:
    return (f"shape={tuple(t.shape)} stride={t.stride()} offset={t.storage_offset()} "
            f"dtype={str(t.dtype).removeprefix('torch.')}")


def _signature(value, inputs: list[torch.Tensor]):
    if isinstance(value, torch.Tensor):
        same = [i for i, t in enumerate(inputs) if value is t]
        return f"tensor input {same[0]} itself" if same else f"a new tensor {_meta(value)}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__}[" + ", ".join(_signature(v, inputs) for v in value) + "]"
    return type(value).__name__


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _describe_error(error: BaseException) -> str:
    return f"raised {type(error).__name__}: {_first_line(error)}"


def _describe_inputs(value) -> str:
    return "; ".join(f"{str(t.dtype).removeprefix('torch.')} shape={tuple(t.shape)} stride={t.stride()} "
                     f"offset={t.storage_offset()}" for t in _tensors(value)) or "no tensors"


def _fake_reproduction(fn, args, kwargs) -> str:
    """Source rebuilding the inputs (values and aliasing included) and comparing eager with fake."""
    from .checks.repro import PREAMBLE, scalar_literal
    lines = [PREAMBLE, "from torch._subclasses.fake_tensor import FakeTensorMode"]
    names: dict[int, str] = {}
    tensors = _tensors((args, kwargs))
    for i, t in enumerate(tensors):
        key = t.untyped_storage()._cdata
        if key not in names:
            names[key] = f"storage{len(names)}"
            lines.append(f"{names[key]} = torch.tensor({t.untyped_storage().cpu().tolist()}, "
                         f"dtype=torch.uint8).untyped_storage()  # the bytes")
        lines.append(f"t{i} = torch.empty(0, dtype={t.dtype}).set_({names[key]}, {t.storage_offset()}, "
                     f"{tuple(t.shape)}, {t.stride()})")
    counter = iter(range(len(tensors)))

    def spell(value):
        if isinstance(value, torch.Tensor):
            return f"t{next(counter)}"
        if isinstance(value, (list, tuple)):
            inner = ", ".join(spell(v) for v in value)
            return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
        return scalar_literal(value) if not callable(value) else repr(value)
    arguments = ", ".join([spell(a) for a in args] + [f"{k}={spell(v)}" for k, v in kwargs.items()])
    module = getattr(fn, "__module__", None) or ""
    spelled_fn = (f"torch.Tensor.{fn.__name__}" if getattr(fn, "__objclass__", None) is torch._C.TensorBase
                  else f"{module}.{_name(fn)}" if module else _name(fn))
    lines += [f"def call({', '.join(f't{i}' for i in range(len(tensors)))}):",
              f"    return {spelled_fn}({arguments})",
              "mode = FakeTensorMode(allow_non_fake_inputs=True)",
              f"fakes = [mode.from_tensor(t) for t in ({', '.join(f't{i}' for i in range(len(tensors)))},)]",
              "with mode:",
              "    fake = call(*fakes)   # compare raising, shapes and strides with:",
              f"eager = call({', '.join(f't{i}' for i in range(len(tensors)))})"]
    return "\n".join(lines)
