"""Sending statements: the one place SQL leaves segwise.

Every statement goes through :func:`execute_observed`, which

* refuses anything but one read-only query (``segwise.guard``) before it is sent;
* enforces a per-statement timeout (``timeout`` seconds): the statement runs on a worker thread
  while the calling thread waits, and when it is due the statement is cancelled on the warehouse
  (``Statement.cancel``: DuckDB ``interrupt()``, ADBC ``adbc_cancel()``; PostgreSQL also gets a
  server-side ``statement_timeout``) and a ``WarehouseError`` "timed out after N s" is raised;
* cancels the running statement on the warehouse when the waiting thread is interrupted
  (Ctrl-C: ``KeyboardInterrupt``), then re-raises the interrupt;
* lets another thread cancel every statement a thread runs inside a :class:`CancelScope`
  (``segwise serve`` cancels a request's statements when its client disconnects);
* retries transient failures (lost connection, serialization failure, server restarting: see
  ``segwise.adapters.base.TRANSIENT_SQLSTATES``) with exponential backoff, a bounded number of
  times, logging each retry as a warning on the ``segwise`` logger. Reads are idempotent and a
  result is only ever returned whole, so a retry never mixes partial answers;
* reports each attempt to the ``segwise_query_executed`` hook.

``segwise.dispatch`` sends compiled queries through it, with the result-size guardrails.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from segwise.adapters.base import Statement, TableRef

from .errors import SpecError, WarehouseError
from .guard import CheckedTree, check_statement
from .hooktypes import QueryEvent

if TYPE_CHECKING:
    from segwise.adapters.base import Adapter


log = logging.getLogger("segwise")

RETRY_ATTEMPTS = 3  # attempts in all for a transient failure (the first and two retries)
RETRY_BASE_DELAY = 0.2  # seconds before the first retry; doubled each time, plus up to 50% jitter
CANCEL_GRACE = 5.0  # seconds to wait for a cancelled statement to stop before giving up on it
# The C-level handler setter behind ``signal.signal`` (whose Python wrapper turns handlers into
# enums and back, ~20 µs a call, twice per statement); the same effect, the wrapper where absent.
_set_signal_handler = getattr(signal, "_signal", signal).signal
_POLL = 0.1  # how often a waiting main thread wakes up (signals are handled between waits)


def execute_observed(
    adapter: Adapter,
    sql: str,
    *,
    expression: exp.Expr | None = None,
    tables: list[TableRef] | None = None,
    timeout: float | None = None,
    checked: CheckedTree | None = None,
) -> pa.Table:
    """Check, run (with timeout, cancellation and retries) and report ``sql`` on ``adapter``.

    ``expression`` is the sqlglot tree ``sql`` was rendered from (the guard then checks the tree
    and the text instead of parsing); ``tables`` the tables the statement may read; ``checked``:
    that tree already checked by :func:`segwise.guard.check_tree` (it is not walked again).
    """
    from .registry import get_plugin_manager

    if timeout is not None and timeout <= 0:
        raise SpecError(f"a timeout must be a positive number of seconds, not {timeout!r}", where="timeout")
    check_statement(sql, adapter.flavor.dialect, expression, tables, checked)
    hook = get_plugin_manager().hook.segwise_query_executed
    attempt = 0
    while True:
        attempt += 1
        started = time.perf_counter()
        try:
            table = run_statement(adapter, sql, timeout)
        except BaseException as exc:
            hook(event=QueryEvent(adapter.name, sql, time.perf_counter() - started, None, exc))
            if isinstance(exc, WarehouseError) and attempt < RETRY_ATTEMPTS and adapter.is_transient(exc):
                delay = RETRY_BASE_DELAY * 2 ** (attempt - 1) * (1 + random.random() / 2)
                log.warning(
                    "segwise: transient warehouse error (SQLSTATE %s) on attempt %d of %d, retrying in %.2f s: %s",
                    exc.sqlstate,
                    attempt,
                    RETRY_ATTEMPTS,
                    delay,
                    exc.message,
                )
                time.sleep(delay)
                continue
            if isinstance(exc, WarehouseError) and attempt > 1:
                exc.message += f" (gave up after {attempt} attempts)"
                exc.args = (exc.message,)
            raise
        hook(event=QueryEvent(adapter.name, sql, time.perf_counter() - started, table.num_rows))
        return table


# Adapters whose driver stops a statement running on the main thread by itself when Ctrl-C arrives
# (DuckDB checks for signals while it executes): without a timeout they run on the calling thread.
IN_PLACE_DIALECTS = frozenset({"duckdb"})


def run_statement(adapter: Adapter, sql: str, timeout: float | None) -> pa.Table:
    """One attempt: run ``sql``; cancel it on the warehouse when ``timeout`` passes or on Ctrl-C."""
    statement = Statement(timeout)
    scope = current_scope()
    if scope is None:
        return _run_statement(adapter, sql, statement)
    scope.add(statement, adapter.name)
    try:
        return _run_statement(adapter, sql, statement)
    finally:
        scope.remove(statement)


def _run_statement(adapter: Adapter, sql: str, statement: Statement) -> pa.Table:
    timeout = statement.timeout
    if timeout is None and threading.current_thread() is not threading.main_thread():
        return adapter.execute_statement(sql, statement)  # nothing to watch: no deadline, no Ctrl-C here
    if timeout is None and adapter.flavor.dialect in IN_PLACE_DIALECTS and adapter.capabilities.cancel:
        return _run_in_place(adapter, sql, statement)
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["result"] = adapter.execute_statement(sql, statement)
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name="segwise-statement", daemon=True)
    # An adapter that cannot cancel leaves the statement running: do not wait for it (unless the
    # warehouse stops it at its timeout by itself, as ClickHouse does).
    grace = CANCEL_GRACE if adapter.capabilities.cancel else 0.0
    timeout_grace = CANCEL_GRACE if adapter.capabilities.timeouts else grace
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        worker.start()
        while not done.wait(_POLL if deadline is None else max(0.0, min(_POLL, deadline - time.monotonic()))):
            if deadline is not None and time.monotonic() >= deadline:
                statement.cancel()
                done.wait(timeout_grace)
                if "result" in box:  # it finished as it was cancelled: the answer is whole
                    return box["result"]
                stopped = "" if done.is_set() else " (the warehouse has not stopped it yet)"
                raise WarehouseError(
                    f"the query timed out after {timeout:g} s and was cancelled{stopped}",
                    where=adapter.name,
                    hint="raise --timeout (timeout=), narrow the date range or use a coarser time_grain",
                    sqlstate="57014",
                )
    except KeyboardInterrupt:
        statement.cancel()
        done.wait(grace)
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]


def _run_in_place(adapter: Adapter, sql: str, statement: Statement) -> pa.Table:
    """Run on the main thread, no worker: Ctrl-C cancels the statement on the warehouse (the driver
    runs Python's signal handlers while it waits), then KeyboardInterrupt is raised as usual."""
    interrupted: list[bool] = []

    def on_sigint(signum: int, frame: Any) -> None:
        interrupted.append(True)
        statement.cancel()

    try:
        previous = _set_signal_handler(signal.SIGINT, on_sigint)
    except ValueError:  # not the main interpreter's main thread after all
        return adapter.execute_statement(sql, statement)
    try:
        result = adapter.execute_statement(sql, statement)
    except WarehouseError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        _set_signal_handler(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt
    return result


_scopes = threading.local()


def current_scope() -> CancelScope | None:
    """The :class:`CancelScope` the calling thread is in, if any."""
    return getattr(_scopes, "current", None)


class CancelScope:
    """Every statement the entering thread runs inside ``with CancelScope() as scope:``, cancellable
    from any thread: ``scope.cancel()`` cancels the running ones on the warehouse (as a timeout
    does) and refuses later ones (``WarehouseError``, SQLSTATE 57014)."""

    def __init__(self) -> None:
        self.cancelled = False
        self._lock = threading.Lock()
        self._running: list[Statement] = []

    def __enter__(self) -> CancelScope:
        _scopes.current = self
        return self

    def __exit__(self, *exc: object) -> None:
        _scopes.current = None

    def add(self, statement: Statement, where: str) -> None:
        with self._lock:
            if self.cancelled:
                raise WarehouseError("the query was cancelled before it was sent", where=where, sqlstate="57014")
            self._running.append(statement)

    def remove(self, statement: Statement) -> None:
        with self._lock:
            if statement in self._running:
                self._running.remove(statement)

    def cancel(self) -> int:
        """Cancel the running statements and refuse further ones; how many were asked to stop."""
        with self._lock:
            self.cancelled = True
            running = list(self._running)
        return sum(statement.cancel() for statement in running)
