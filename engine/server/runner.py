"""Running blocking warehouse calls for the async routes: a bounded pool, deadlines, cancellation.

Warehouse work is blocking, so it runs in a small thread pool whose size *is* the bound on
concurrent warehouse queries; requests beyond it wait in the pool's queue (a request that is
still queued when it times out or its client goes away is dropped before it reaches the warehouse;
one that is running has its statements cancelled on the warehouse: ``segwise.observe.CancelScope``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import Request

from ..observe import CancelScope
from .http import ApiError

T = TypeVar("T")


class QueryRunner:
    """Blocking warehouse calls in a bounded thread pool, each with a deadline.

    The pool's size bounds concurrent warehouse queries. A call that is still queued when its
    deadline passes (or its client disconnects) is cancelled before it starts; one that is
    already running has its statements cancelled on the warehouse (a ``CancelScope`` around the
    call) where the engine can cancel (DuckDB, PostgreSQL, Spark), and otherwise finishes in the
    background (or, on ClickHouse, stops at its ``max_execution_time``) while the client gets its
    499 or 504.
    """

    def __init__(self, max_concurrent: int, max_waiting: int, timeout_s: float) -> None:
        self.max_concurrent = max(1, max_concurrent)
        self.max_waiting = max(0, max_waiting)
        self.timeout_s = timeout_s
        self._pool: ThreadPoolExecutor | None = None  # opened on first use, again after close()
        self._lock = threading.Lock()
        self._pending = 0
        self._running = 0
        self.peak_running = 0  # the most calls seen running at once (tests check the bound)
        self.cancelled = 0  # calls abandoned because the client went away
        self.timed_out = 0

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def running(self) -> int:
        """Calls running now (a call whose statement was cancelled stops counting once it returns)."""
        return self._running

    def _wrap(self, fn: Callable[[], T], scope: CancelScope) -> Callable[[], T]:
        def call() -> T:
            with self._lock:
                self._running += 1
                self.peak_running = max(self.peak_running, self._running)
            try:
                with scope:
                    return fn()
            finally:
                with self._lock:
                    self._running -= 1

        return call

    def _done(self, _: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1

    async def call(self, fn: Callable[[], T], request: Request | None = None) -> T:
        with self._lock:
            if self._pending >= self.max_concurrent + self.max_waiting:
                raise ApiError(
                    503,
                    f"the server is busy: {self._pending} warehouse queries are running or waiting; retry shortly",
                    kind="busy",
                )
            self._pending += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.max_concurrent, thread_name_prefix="segwise-query")
            pool = self._pool
        scope = CancelScope()
        future = pool.submit(self._wrap(fn, scope))
        future.add_done_callback(self._done)
        waiter = asyncio.wrap_future(future)
        watcher = asyncio.ensure_future(disconnected(request)) if request is not None else None
        try:
            done, _ = await asyncio.wait(
                [waiter] + ([watcher] if watcher else []),
                timeout=self.timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if waiter in done:
                return waiter.result()
            future.cancel()  # a call still in the queue never reaches the warehouse
            scope.cancel()  # a running one has its statements cancelled on the warehouse
            if watcher is not None and watcher in done:
                self.cancelled += 1
                raise ApiError(499, "the client went away; the query was cancelled", kind="cancelled")
            self.timed_out += 1
            raise ApiError(
                504,
                f"the query did not finish within {self.timeout_s:g} s and was abandoned",
                kind="timeout",
                hint="narrow the date range, use a coarser time grain, or raise the server's --timeout",
            )
        finally:
            if watcher is not None:
                watcher.cancel()
            if not waiter.done():
                waiter.cancel()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


async def disconnected(request: Request) -> None:
    """Return once the client has gone away (the page's Cancel button aborts its fetch)."""
    while not await request.is_disconnected():
        await asyncio.sleep(0.2)
