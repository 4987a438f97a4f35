"""Stop a test that runs past its time limit, in three steps, so that even a hang in C code ends.

1. At the limit, SIGALRM raises :class:`TestTimeout` in the test (main thread, POSIX): a Python loop or a
   blocking call that returns on a signal (``time.sleep``, locks, I/O) stops there and the run goes on.
2. ``grace`` seconds later, if the test is still running (a C kernel that ignores signals), a watchdog thread
   dumps every thread's stack, calls ``on_hang`` (which records the test) and ends the process with
   ``os._exit``: under pytest-xdist the worker is replaced and the run goes on.
3. ``grace`` seconds after that, if even the watchdog thread could not run (C code holding the GIL),
   ``faulthandler`` dumps the stacks and exits from its own C thread.

No pytest here; ``report_plugin`` arms a :class:`Watchdog` around each test.
"""
from __future__ import annotations

import faulthandler
import os
import signal
import tempfile
import threading
import traceback

HANG_EXIT_STATUS = 70
"""Exit status of a process the watchdog ended (step 2)."""


class TestTimeout(BaseException):
    """A test ran past its time limit. A BaseException, so that Hypothesis does not take it for a failing
    example and shrink it (which would run the hanging call again)."""

    __test__ = False  # not a test class, whatever pytest's collection rules say


def _reason(seconds: float) -> str:
    return f"timed out after {seconds:g} s"


class Watchdog:
    """Arms the three steps for one test at a time. ``on_hang(label, reason, stacks)`` runs in the
    watchdog thread before the process exits; ``use_faulthandler`` allows step 3; stacks are printed to the
    file descriptor ``stream`` (a copy of the terminal's stderr, which pytest captures per test)."""

    def __init__(self, on_hang=None, *, use_faulthandler: bool = True, stream: int = 2):
        self.on_hang = on_hang
        self.use_faulthandler = use_faulthandler
        self.stream = stream
        self.interruptible = True
        """Whether step 1 may raise now: the caller clears it while its own bookkeeping runs (step 2 still
        ends a process that does not finish the test)."""
        self.fired: str | None = None
        """Why the current test was stopped ("timed out after N s" and where), once step 1 fired: whatever
        the test made of the exception (Hypothesis may wrap it), the test timed out."""
        self._timer: threading.Timer | None = None
        self._alarm_set = False
        self._previous_handler = None

    def arm(self, label: str, seconds: float) -> None:
        self.disarm()
        self.fired = None
        grace = min(10.0, seconds)
        if (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)):
            def alarm(signum, frame):
                if not self.interruptible:
                    return  # between phases, in pytest's own code: step 2 ends a real hang
                self.fired = f"{_reason(seconds)}, in:\n{''.join(traceback.format_stack(frame)[-8:])}"
                raise TestTimeout(_reason(seconds))
            self._previous_handler = signal.signal(signal.SIGALRM, alarm)
            signal.setitimer(signal.ITIMER_REAL, seconds)
            self._alarm_set = True
        self._timer = threading.Timer(seconds + grace, self._hung, (label, seconds))
        self._timer.daemon = True
        self._timer.start()
        if self.use_faulthandler:
            faulthandler.dump_traceback_later(seconds + 2 * grace, exit=True, file=self.stream)

    def disarm(self) -> None:
        if self._alarm_set:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous_handler or signal.SIG_DFL)
            self._alarm_set = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.use_faulthandler:
            faulthandler.cancel_dump_traceback_later()

    def _hung(self, label: str, seconds: float) -> None:
        reason = f"{_reason(seconds)} (did not stop on SIGALRM; process ended)"
        stacks = _stacks()
        try:
            os.write(self.stream, f"\n[inplace-conformance] {label}: {reason}\n{stacks}\n".encode(errors="replace"))
            if self.on_hang is not None:
                self.on_hang(label, reason, stacks)
        finally:
            os._exit(HANG_EXIT_STATUS)


def _stacks() -> str:
    """Every thread's Python stack, as faulthandler prints it."""
    with tempfile.TemporaryFile("w+") as out:
        faulthandler.dump_traceback(out, all_threads=True)
        out.seek(0)
        return out.read()
