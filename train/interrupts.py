"""Ctrl-C in step loops: let the step in flight finish, then stop."""

import contextlib
import signal
import threading


@contextlib.contextmanager
def ctrl_c_between_steps():
    """Defer Ctrl-C to between steps: while active, it only appends to the yielded list.

    The step loop reads the list after each step: the interrupt then never lands between a step
    call and the assignment of its result,
    where the donated old state is gone and the new one not yet bound. Off the main thread, or
    where SIGINT is ignored (a background job), nothing changes.
    """
    requested = []
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, None):
        yield requested
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: requested.append(signum))
    try:
        yield requested
    finally:
        signal.signal(signal.SIGINT, previous)
