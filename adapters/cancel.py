"""A cancel request that is repeated until the statement is over.

Some warehouses cancel by *naming* a statement — Spark Connect's ``interruptTag``, ClickHouse's
``KILL QUERY WHERE ...`` — and act only on the statements they run when the request arrives. A
statement that is still on its way (sent, not yet registered), or the next request of a statement
that makes several, escapes such a cancel and runs to its end. :class:`RepeatedCancel` sends the
request at once and then again every ``REPEAT_S`` seconds, from a thread of its own, until the
statement's thread calls :meth:`~RepeatedCancel.finish` (it is done with the warehouse).
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

REPEAT_S = 0.25


class RepeatedCancel:
    """A statement's canceller (``Statement.set_canceller``): ``send`` now, then every ``every`` s
    until :meth:`finish`. The first ``send`` runs on the cancelling thread, so its failure is the
    caller's to see; the repeats ignore ``errors`` (the statement fails or ends anyway)."""

    def __init__(
        self,
        send: Callable[[], object],
        errors: tuple[type[BaseException], ...] = (Exception,),
        every: float = REPEAT_S,
        name: str = "segwise-cancel",
    ) -> None:
        self._send = send
        self._errors = errors
        self._every = every
        self._name = name
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._repeater: threading.Thread | None = None
        self.sent = 0  # how many requests went out

    def __call__(self) -> None:
        """Cancel (any thread; may be called more than once)."""
        with self._lock:
            if self._repeater is None and not self._done.is_set():
                self._repeater = threading.Thread(target=self._repeat, name=self._name, daemon=True)
                self._repeater.start()
        self._request()

    def _request(self) -> None:
        self.sent += 1
        self._send()

    def _repeat(self) -> None:
        while not self._done.wait(self._every):
            with contextlib.suppress(*self._errors):
                self._request()

    def finish(self) -> None:
        """The statement's thread is done with the warehouse: stop repeating."""
        self._done.set()
