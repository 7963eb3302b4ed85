"""What the cancel tests of several engines share: Ctrl-C in the middle of a statement."""

from __future__ import annotations

import _thread
import contextlib
import signal
import threading
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def ctrl_c_after(delay: float) -> Iterator[None]:
    """Ctrl-C (``KeyboardInterrupt`` in the main thread) ``delay`` s into the block, which must end
    with it. Python's plain SIGINT handler is in place meanwhile: PySpark installs one that cancels
    every job of the context, and the plain one shows that segwise's own cancel stops the engine.
    Skips off the main thread, which is the only one Ctrl-C reaches."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("Ctrl-C reaches the main thread only")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(delay, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            yield
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
