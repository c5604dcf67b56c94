"""A wall-clock limit for work in this process's main thread (``liandan render --timeout``).

A preset can make one frame slow (heavy loops in every code block, many shape instances): a
check between frames would only notice after that frame. A real-time timer (SIGALRM) interrupts
the Python code running the preset's equations wherever it is, so the limit holds to within one
numpy or GL call. Used only on the main thread (signals are delivered there); elsewhere the limit
is not armed and the caller's own checks apply.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class TimeLimitExceeded(Exception):
    """The work ran past its limit; ``seconds`` is the limit."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"took longer than {seconds:g} s")


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise TimeLimitExceeded inside the block once ``seconds`` of wall time have passed
    (None or 0: no limit). Restores the previous SIGALRM handler and timer on exit."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise TimeLimitExceeded(seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)
