"""Single flight: identical statements asked at once are sent to the warehouse once.

When the result cache is in use (``segwise.dispatch``), a miss does not send its statement
itself: it joins the *flight* of its key (the cache's key and the data version), starting one if
none is in the air. A flight runs the statement once, on a thread of its own, and every caller
waiting on it gets the same answer (or the same error: the statement failed for all of them).

Each caller waits on its own terms, and leaving never hurts the others:

* its own ``timeout`` (seconds): when it passes, that caller gets "timed out" and leaves;
* its own cancellation: a caller inside a ``segwise.observe.CancelScope`` (``segwise serve``'s
  request whose client went away) leaves when the scope is cancelled; Ctrl-C (KeyboardInterrupt)
  on the waiting thread makes it leave too;
* the statement itself is cancelled on the warehouse only when **every** caller has left (the
  flight is then forgotten: a caller arriving later starts a new one). So one caller's timeout
  or cancel never cancels the run the others wait for, and no caller ever sees a cancellation it
  did not cause.

The flight's statement runs **without a timeout of its own**, whoever started it: the callers'
deadlines decide, by leaving. So:

* the caller that started the flight (the leader) is one caller like the others: its timeout
  makes it leave, and the statement runs on for the callers still waiting;
* a caller without a timeout keeps the statement running for as long as it waits (until its
  cancellation): a follower's timeout never bounds it, whether the leader or a follower;
* when every caller has left (timed out, cancelled or interrupted, in any order), the last one
  out cancels the statement on the warehouse, which is then as if each had run it alone with its
  own deadline: the statement stops at the latest of the waiting callers' deadlines, or never
  before a caller without one leaves.

``tests/test_flight.py`` checks each case with a statement double and with a real DuckDB
statement. A failed flight is not remembered: the next caller tries again.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from segwise.adapters.base import Statement

from .errors import SpecError, WarehouseError
from .observe import CancelScope, current_scope

T = TypeVar("T")


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.scope = CancelScope()  # the flight's statements: cancelled when every caller has left
        self.callers: list[threading.Event] = []  # each waiting caller's wake-up
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None


class Flights(Generic[T]):
    """The flights in the air, by key (thread-safe). ``runs`` counts the flights started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight[T]] = {}
        self.runs = 0
        self.joined = 0  # callers that found a flight in the air

    def __len__(self) -> int:
        return len(self._flights)

    def run(self, key: Hashable, work: Callable[[], T], timeout: float | None, where: str) -> tuple[T, bool]:
        """``work()``'s value, run once for every caller asking for ``key`` meanwhile; and whether
        this caller joined a flight another had started. ``timeout``: seconds this caller waits."""
        if timeout is not None and timeout <= 0:
            raise SpecError(f"a timeout must be a positive number of seconds, not {timeout!r}", where="timeout")
        wake = threading.Event()
        with self._lock:
            flight = self._flights.get(key)
            joined = flight is not None
            if flight is None:
                flight = self._flights[key] = _Flight()
                self.runs += 1
            else:
                self.joined += 1
            flight.callers.append(wake)
        if not joined:
            threading.Thread(target=self._fly, args=(key, flight, work), name="segwise-flight", daemon=True).start()
        return self._wait(key, flight, wake, timeout, where), joined

    def _fly(self, key: Hashable, flight: _Flight[T], work: Callable[[], T]) -> None:
        try:
            with flight.scope:
                flight.result = work()
        except BaseException as exc:  # handed to every caller
            flight.error = exc
        with self._lock:
            flight.done = True
            if self._flights.get(key) is flight:
                del self._flights[key]
            callers = list(flight.callers)
        for wake in callers:
            wake.set()

    def _wait(self, key: Hashable, flight: _Flight[T], wake: threading.Event, timeout: float | None, where: str) -> T:
        left = _Left()
        scope = current_scope()
        watch = Statement()
        watch.set_canceller(left.cancel(wake))
        try:
            if scope is not None:
                try:
                    scope.add(watch, where)  # the caller's own cancellation wakes it (and only it)
                except WarehouseError:  # cancelled before it waited
                    watch.cancel()
            try:
                finished = wake.wait(timeout)
            finally:
                if scope is not None:
                    scope.remove(watch)
        except BaseException:  # Ctrl-C
            self._leave(key, flight, wake)
            raise
        if flight.done and not left.cancelled:
            if flight.error is not None:
                raise _copy(flight.error)
            return flight.result  # type: ignore[return-value]
        last = self._leave(key, flight, wake)
        still = " (other callers still wait for it)"
        if left.cancelled:
            raise WarehouseError(f"the query was cancelled{'' if last else still}", where=where, sqlstate="57014")
        stopped = " and was cancelled" if last else still
        assert not finished
        raise WarehouseError(
            f"the query timed out after {timeout:g} s{stopped}",
            where=where,
            hint="raise --timeout (timeout=), narrow the date range or use a coarser time_grain",
            sqlstate="57014",
        )

    def _leave(self, key: Hashable, flight: _Flight[T], wake: threading.Event) -> bool:
        """Take a caller off its flight; True when it was the last one (the statement is cancelled)."""
        with self._lock:
            if wake in flight.callers:
                flight.callers.remove(wake)
            last = not flight.callers and not flight.done
            if last and self._flights.get(key) is flight:
                del self._flights[key]
        if last:
            flight.scope.cancel()
        return last


class _Left:
    """Whether a caller was cancelled while it waited."""

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self, wake: threading.Event) -> Callable[[], None]:
        def on_cancel() -> None:
            self.cancelled = True
            wake.set()

        return on_cancel


def _copy(error: BaseException) -> BaseException:
    """The flight's error for one caller (each raises its own copy: tracebacks are per raise)."""
    try:
        return copy.copy(error)
    except Exception:
        return error
