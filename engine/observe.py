"""Sending statements: the one place SQL leaves segwise.

Every statement goes through :func:`execute_observed`, which

* refuses anything but one read-only query (``segwise.guard``) before it is sent;
* enforces a per-statement timeout (``timeout`` seconds): the statement runs on a worker thread
  while the calling thread waits, and when it is due the statement is cancelled on the warehouse
  (``Statement.cancel``: DuckDB ``interrupt()``, ADBC ``adbc_cancel()``; PostgreSQL also gets a
  server-side ``statement_timeout``) and a ``WarehouseError`` "timed out after N s" is raised;
* cancels the running statement on the warehouse when the waiting thread is interrupted
  (Ctrl-C: ``KeyboardInterrupt``), then re-raises the interrupt;
* retries transient failures (lost connection, serialization failure, server restarting: see
  ``segwise.adapters.base.TRANSIENT_SQLSTATES``) with exponential backoff, a bounded number of
  times, logging each retry as a warning on the ``segwise`` logger. Reads are idempotent and a
  result is only ever returned whole, so a retry never mixes partial answers;
* reports each attempt to the ``segwise_query_executed`` hook.

:func:`execute_compiled` adds the result-size guardrails for compiled segmentation queries.
"""

from __future__ import annotations

import functools
import logging
import random
import signal
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from segwise.adapters.base import Statement, TableRef

from .errors import SpecError, WarehouseError
from .guard import CheckedTree, check_statement, check_tree

if TYPE_CHECKING:
    from segwise.adapters.base import Adapter, SqlFlavor

    from .compiled import CompiledQuery
    from .project import Project

log = logging.getLogger("segwise")

RETRY_ATTEMPTS = 3  # attempts in all for a transient failure (the first and two retries)
RETRY_BASE_DELAY = 0.2  # seconds before the first retry; doubled each time, plus up to 50% jitter
CANCEL_GRACE = 5.0  # seconds to wait for a cancelled statement to stop before giving up on it
_POLL = 0.1  # how often a waiting main thread wakes up (signals are handled between waits)

MAX_RESULT_ROWS = 1_000_000  # rows of a segmentation answer (in the warehouse's and in the filled result)
MAX_GROUPS = 10_000  # breakdown groups of one series without breakdown_limit


@dataclass(frozen=True)
class QueryEvent:
    """What ``segwise_query_executed`` receives."""

    adapter: str
    sql: str
    duration_s: float
    rows: int | None
    error: BaseException | None = None


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
    # An adapter that cannot cancel leaves the statement running: do not wait for it.
    grace = CANCEL_GRACE if adapter.capabilities.cancel else 0.0
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        worker.start()
        while not done.wait(_POLL if deadline is None else max(0.0, min(_POLL, deadline - time.monotonic()))):
            if deadline is not None and time.monotonic() >= deadline:
                statement.cancel()
                done.wait(grace)
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
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main interpreter's main thread after all
        return adapter.execute_statement(sql, statement)
    try:
        result = adapter.execute_statement(sql, statement)
    except WarehouseError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt
    return result


# -- compiled segmentation queries ---------------------------------------------------------------


def configured_tables(project: Project) -> list[TableRef]:
    names = [t.table for t in project.event_tables] + [t.table for t in project.user_tables]
    refs = [TableRef.parse(name) for name in names]
    if project.rollups:  # the planner may answer from a rollup (read-only, like any table)
        from .rollups import state_ref

        rollups = [TableRef.parse(r.table) for r in project.rollups]
        refs += rollups + [state_ref(r) for r in rollups]
    return refs


def execute_compiled(project: Project, compiled: CompiledQuery, timeout: float | None = None) -> pa.Table:
    """Run a compiled query with the result-size guardrails; the raw (unshaped) Arrow table.

    The statement is sent with ``LIMIT MAX_RESULT_ROWS + 1``: getting the extra row means the
    answer is too big, which is refused with a hint, never returned cut short. The tree is guarded
    once (before anything else: a plan rule may have made anything) and rendered once, by the
    compiler: the limit is appended to that text where the flavor renders it as a plain suffix.
    """
    adapter = project.adapter()
    tables = configured_tables(project)
    checked = check_tree(compiled.expression, tables)
    sql = limited_sql(adapter, compiled)
    raw = execute_observed(adapter, sql, tables=tables, timeout=timeout, checked=checked)
    check_result_size(raw, compiled)
    return raw


def limited_sql(adapter: SqlFlavor, compiled: CompiledQuery, limit: int = MAX_RESULT_ROWS + 1) -> str:
    """The compiled statement with ``LIMIT limit``, as ``adapter`` renders ``expression.limit(limit)``.

    Where the flavor renders a limit on this kind of statement as `` LIMIT n`` after the rest (checked
    once per flavor and statement type on a probe), that is appended to ``compiled.sql``; otherwise
    (a statement with a limit, or anything rendered after one, of its own: ClickHouse's SETTINGS; a
    dialect that wraps a limited UNION; another dialect than the compiled one) the tree is copied,
    limited and rendered."""
    statement = compiled.expression
    assert isinstance(statement, exp.Query), type(statement)
    plain = (
        compiled.sql
        and compiled.dialect == adapter.flavor.name
        and not any(statement.args.get(arg) for arg in _trailing_args(type(statement)))
        and _limit_is_suffix(type(adapter.flavor), adapter.flavor.dialect, type(statement))
    )
    if plain:
        return f"{compiled.sql} LIMIT {int(limit)}"
    limited = statement.copy().limit(limit, copy=False)
    return adapter.flavor.render(limited)


@functools.cache
def _trailing_args(root: type[exp.Expr]) -> tuple[str, ...]:
    """The statement's arguments rendered from LIMIT on (LIMIT, OFFSET, locks, SETTINGS, ...)."""
    names = list(root.arg_types)
    return tuple(names[names.index("limit") :]) if "limit" in names else tuple(names)


@functools.cache
def _limit_is_suffix(flavor: type[SqlFlavor], dialect: str, root: type[exp.Expr]) -> bool:
    first = exp.select(exp.column("a", quoted=True)).from_(exp.table_("t", quoted=True))
    second = exp.select(exp.column("b", quoted=True)).from_(exp.table_("u", quoted=True))
    probe: exp.Query = exp.union(first, second, distinct=False) if issubclass(root, exp.SetOperation) else first
    if type(probe) is not root:
        return False
    plain = probe.sql(dialect=dialect)
    return probe.limit(7).sql(dialect=dialect) == f"{plain} LIMIT 7"


def check_result_size(raw: pa.Table, compiled: CompiledQuery) -> None:
    """Refuse answers beyond the guardrails (too many rows, too many breakdown groups)."""
    query = compiled.query
    if raw.num_rows > MAX_RESULT_ROWS:
        raise SpecError(
            f"the answer has more than {MAX_RESULT_ROWS:,} rows",
            where="breakdown" if query.breakdown else "time_grain",
            hint="set breakdown_limit, break down by fewer properties, use a coarser time_grain or a shorter range",
        )
    if not compiled.breakdown:
        return
    names = ["series", *(f"_g{j}" for j in range(len(compiled.breakdown)))]
    combos = raw.select(names).group_by(names, use_threads=False).aggregate([])  # nulls group together
    per_series = combos.group_by("series", use_threads=False).aggregate([([], "count_all")])
    counts = per_series.column(per_series.num_columns - 1)
    largest = int(pc.max(counts).as_py() or 0) if len(counts) else 0
    if query.breakdown_limit is None and largest > MAX_GROUPS:
        raise SpecError(
            f"breaking down by {', '.join(compiled.breakdown)} gives {largest:,} groups in one series "
            f"(the limit without breakdown_limit is {MAX_GROUPS:,})",
            where="breakdown",
            hint="set breakdown_limit (for example breakdown_limit: 10) to keep the top groups and merge the rest "
            "into 'Other', or break down by a property with fewer values",
        )
    buckets = len(compiled.timeframe.buckets) if compiled.timeframe.grain != "total" else 1
    filled = combos.num_rows * buckets
    if filled > MAX_RESULT_ROWS:
        raise SpecError(
            f"the answer would have {filled:,} rows once empty buckets are filled (the limit is {MAX_RESULT_ROWS:,})",
            where="breakdown",
            hint="set breakdown_limit, use a coarser time_grain or a shorter date_range",
        )
