"""PostgreSQL over ADBC (``adbc-driver-postgresql``): ``postgresql://user:password@host:port/db``.

Sessions are read-only (``default_transaction_read_only``) and pooled (``ConnectionPool``);
statements run in autocommit mode
(so a failed statement never leaves the connection in an aborted transaction), and results come
back as Arrow through the driver's binary COPY.

Driver facts this module relies on (adbc-driver-postgresql 1.x):

* parameters are ``$1``, ``$2`` ...;
* queries run as ``COPY (query) TO STDOUT``: ``SHOW`` does not work (use ``current_setting``);
* errors carry ``sqlstate`` for failed statements but not for failed connections, so the
  connection errors below derive it from the server's message (the code the server sent).
"""

from __future__ import annotations

import contextlib
import re
import threading
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pyarrow as pa
from sqlglot import exp

from segwise.errors import CatalogError, WarehouseError
from segwise.hookspecs import hookimpl

from .adbc import driver_message, import_driver, redact, sqlstate_of
from .base import (
    Adapter,
    Capabilities,
    ColumnInfo,
    ConnectionCapabilities,
    SqlFlavor,
    Statement,
    TableRef,
    TableStats,
    Writer,
    _as_datetime,
    classify_type,
    dialect_call,
)

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterator
    from pathlib import Path

CONNECT_TIMEOUT_SECONDS = 10

_COLUMNS_SQL = (
    "SELECT column_name::text AS name, data_type::text AS type FROM information_schema.columns "
    "WHERE table_name = $1::text "
    "AND table_schema = coalesce($2::text, current_schema()::text) "
    "AND table_catalog = coalesce($3::text, current_database()::text) "
    "ORDER BY ordinal_position"
)

# The data version (the result cache): the WAL insert position (any committed write to a logged
# table moves it; a standby: the replay position) and the tables' statistics counters; with the
# tables' kinds, since only ordinary, partitioned and materialized permanent tables are covered.
_VERSION_SQL = (
    "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text "
    "AS lsn, c.oid::bigint AS relid, c.relkind::text AS kind, c.relpersistence::text AS persistence, "
    "s.n_tup_ins, s.n_tup_upd, s.n_tup_del "
    "FROM (VALUES {names}) AS t(name) LEFT JOIN pg_class c ON c.oid = to_regclass(t.name) "
    "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid ORDER BY t.name"
)  # {names}: ($1::text), ($2::text), ... one parameter per table

# (pattern in the server's or libpq's message, SQLSTATE the server sent, what we tell the user)
_CONNECT_FAILURES = tuple(
    (re.compile(pattern, re.IGNORECASE), code, text)
    for pattern, code, text in (
        (r"password authentication failed", "28P01", "PostgreSQL refused the login (wrong user or password)"),
        (r'role ".*" does not exist', "28000", "PostgreSQL refused the login (no such role)"),
        (r"no pg_hba\.conf entry", "28000", "PostgreSQL refused the connection (pg_hba.conf)"),
        (r"authentication failed", "28000", "PostgreSQL refused the login"),
        (r'database ".*" does not exist', "3D000", "the PostgreSQL database does not exist"),
        (r"the database system is", "57P03", "the PostgreSQL server is not accepting connections now"),
        (r"too many (clients|connections)", "53300", "the PostgreSQL server has no free connection slots"),
        (r"connection refused", "08001", "cannot reach the PostgreSQL server"),
        (r"timeout expired|timed out", "08001", "cannot reach the PostgreSQL server (connection timed out)"),
        (r"could not translate host name", "08001", "cannot reach the PostgreSQL server (unknown host)"),
        (r"no route to host|network is unreachable", "08001", "cannot reach the PostgreSQL server"),
        (r"no such file or directory", "08001", "cannot reach the PostgreSQL server (no socket there)"),
    )
)


class PostgreSQLFlavor(SqlFlavor):
    """PostgreSQL SQL: sqlglot's ``postgres`` dialect plus byte-order ranking and float text.

    ``--dialect postgresql`` and ``--dialect postgres`` (sqlglot's name) are this one flavor.
    """

    name: ClassVar[str] = "postgresql"
    aliases: ClassVar[tuple[str, ...]] = ("postgres",)
    dialect: ClassVar[str] = "postgres"
    series_function: ClassVar[str | None] = "generate_series"
    time_format_tokens: ClassVar[dict[str, str] | None] = {
        "Y": "YYYY", "y": "YY", "m": "MM", "b": "Mon", "d": "DD", "H": "HH24", "I": "HH12", "p": "AM",
        "M": "MI", "S": "SS", "f": "US", "j": "DDD",
    }  # fmt: skip

    # BIGINT: 63 days per word (bit 63 is the sign, never set, so >> brings in no ones)
    capabilities: ClassVar[Capabilities] = Capabilities(day_mask_bits=63, per_unit_windows=True)
    day_mask_type: ClassVar[str] = "BIGINT"
    day_mask_shift_type: ClassVar[str] = "INT"  # bigint << int

    def day_date(self, day: exp.Expr) -> exp.Expr:
        # a day truncated from a timestamp is the timestamp cast to a date (cheaper than
        # truncating first)
        if isinstance(day, exp.TimestampTrunc) and day.unit is not None and day.unit.name.upper() == "DAY":
            day = day.this
        return super().day_date(day)

    def day_mask_word(self, days: exp.Expr) -> exp.Expr:
        # integer / integer truncates (DIV() would go through numeric)
        return exp.Div(this=exp.paren(days), expression=exp.Literal.number(self.capabilities.day_mask_bits), typed=True)

    def parse_time_text(self, expr: exp.Expr, pattern: str) -> exp.Expr:
        if pattern == "iso":
            return exp.cast(expr, exp.DataType.Type.TIMESTAMP)
        # to_timestamp reads the fields in the session zone and the cast back gives the same wall
        # clock, whatever the session zone; literal text is double-quoted (letters are not codes).
        fmt = self.parse_format(pattern, quote=lambda text: '"' + text.replace('"', '\\"') + '"')
        parsed = dialect_call("to_timestamp", expr, exp.Literal.string(fmt))
        return exp.cast(parsed, exp.DataType.Type.TIMESTAMP)

    def zoned_bucket(self, ts: exp.Expr, timezone: str) -> exp.Expr:
        return exp.AtTimeZone(this=ts, zone=exp.Literal.string(timezone))  # naive AT TIME ZONE: timestamptz

    def text_sort_key(self, value: exp.Expr) -> exp.Expr:
        # The database collation (often en_US or ICU) sorts 'a' before 'B'; DuckDB and SQLite
        # compare code points. COLLATE "C" makes ranking ties break the same way everywhere.
        return exp.Collate(this=value, expression=exp.to_identifier("C", quoted=True))

    def as_text(self, value: exp.Expr, kind: str) -> exp.Expr:
        if kind == "float":
            # float8 text drops ".0" from whole numbers ('3'); DuckDB and Python print '3.0'.
            whole = exp.and_(
                exp.EQ(this=value.copy(), expression=exp.Floor(this=value.copy())),
                exp.LT(this=exp.Abs(this=value.copy()), expression=exp.Literal.number("1e16")),
            )
            as_integer = exp.cast(exp.cast(value.copy(), exp.DataType.Type.BIGINT), exp.DataType.Type.VARCHAR)
            return exp.Case(
                ifs=[exp.If(this=whole, true=exp.DPipe(this=as_integer, expression=exp.Literal.string(".0")))],
                default=exp.cast(value, exp.DataType.Type.VARCHAR),
            )
        return super().as_text(value, kind)


class _Connection:
    """One pooled ADBC connection and the ``statement_timeout`` segwise set on it (ms; None: the
    server's default)."""

    __slots__ = ("con", "timeout_ms")

    def __init__(self, con: Any) -> None:
        self.con = con
        self.timeout_ms: int | None = None


class ConnectionPool:
    """At most ``size`` connections, opened on demand and reused; broken ones are dropped.

    One statement at a time per connection (a libpq connection shared by threads loses protocol
    sync), so ``size`` bounds both the connections and the statements in flight.
    """

    def __init__(self, connect: Any, size: int) -> None:
        self._connect = connect
        self.size = size
        self._idle: list[_Connection] = []
        self._open = 0
        self._closed = False
        self._cond = threading.Condition()
        self.peak = 0  # most connections open at once (for the load figures)

    @property
    def open(self) -> int:
        return self._open

    def add(self, connection: _Connection) -> None:
        with self._cond:
            self._open += 1
            self.peak = max(self.peak, self._open)
            self._idle.append(connection)

    def acquire(self) -> _Connection:
        with self._cond:
            while True:
                if self._closed:
                    raise WarehouseError("the PostgreSQL adapter is closed")
                if self._idle:
                    return self._idle.pop()
                if self._open < self.size:
                    self._open += 1
                    self.peak = max(self.peak, self._open)
                    break
                self._cond.wait()
        try:
            return self._connect()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def release(self, connection: _Connection, broken: bool = False) -> None:
        with self._cond:
            keep = not broken and not self._closed
            if keep:
                self._idle.append(connection)
            else:
                self._open -= 1
            self._cond.notify()
        if not keep:
            with contextlib.suppress(Exception):
                connection.con.close()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for connection in idle:
            with contextlib.suppress(Exception):
                connection.con.close()


class PostgresAdapter(Adapter):
    """Read-only PostgreSQL sessions over ADBC, pooled (``pool_size`` connections, default 4).

    Every session is ``default_transaction_read_only`` and ``standard_conforming_strings`` (so a
    backslash in a string literal is an ordinary character, as segwise renders it, whatever the
    server, database or role default). ``?pool_size=N`` in the URL sets the pool's bound (it is not
    passed to libpq). A per-statement timeout is a server-side ``statement_timeout``; cancelling
    sends the server a cancel request (``adbc_cancel``).
    """

    name: ClassVar[str] = "postgresql"
    schemes: ClassVar[tuple[str, ...]] = ("postgresql", "postgres")
    flavor_class: ClassVar[type[SqlFlavor]] = PostgreSQLFlavor
    capabilities: ClassVar[ConnectionCapabilities] = ConnectionCapabilities(read_only_connections=True, cancel=True)
    POOL_SIZE: ClassVar[int] = 4

    def __init__(
        self,
        url: str,
        base_dir: Path | None = None,
        connect_timeout: int = CONNECT_TIMEOUT_SECONDS,
        pool_size: int | None = None,
    ) -> None:
        super().__init__(url, base_dir)
        self.display_url = redact(url)
        url, given_size = _pop_pool_size(url)
        self._libpq_uri = libpq_uri(url, connect_timeout)
        dbapi = import_driver("adbc_driver_postgresql.dbapi", "PostgreSQL", "postgresql")
        self._dbapi = dbapi
        self._error: type[Exception] = dbapi.Error
        self.pool = ConnectionPool(self._open_connection, pool_size or given_size or self.POOL_SIZE)
        self._running: set[Any] = set()
        self._running_lock = threading.Lock()
        # Connect now, so a wrong URL or password fails here with a clear message.
        self.pool.add(self._open_connection())

    def _open_connection(self) -> _Connection:
        try:
            con = self._dbapi.connect(self._libpq_uri, autocommit=True)
        except self._error as exc:
            raise self._connect_error(exc) from exc
        try:
            with con.cursor() as cur:
                cur.execute(_SESSION_SQL)
                cur.fetch_arrow_table()
        except self._error as exc:
            con.close()
            raise self._statement_error(exc) from exc
        return _Connection(con)

    def close(self) -> None:
        self.pool.close()

    # -- execution ---------------------------------------------------------------------------

    def _run(self, sql: str, parameters: tuple[Any, ...] | None = None, statement: Statement | None = None) -> pa.Table:
        statement = statement or Statement()
        connection = self.pool.acquire()
        broken = False
        try:
            self._set_timeout(connection, statement.timeout)
            with connection.con.cursor() as cur:
                with self._running_lock:
                    self._running.add(cur)
                statement.set_canceller(cur.adbc_cancel)
                try:
                    if statement.cancelled:
                        raise WarehouseError(
                            "the PostgreSQL statement was cancelled before it started",
                            where=self.display_url,
                            sqlstate="57014",
                        )
                    cur.execute(sql, parameters)
                    return cur.fetch_arrow_table()
                finally:
                    statement.set_canceller(None)
                    with self._running_lock:
                        self._running.discard(cur)
        except self._error as exc:
            error = self._statement_error(exc, statement.timeout)
            broken = _connection_lost(error)
            raise error from exc
        finally:
            self.pool.release(connection, broken)

    def _set_timeout(self, connection: _Connection, timeout: float | None) -> None:
        """The server-side ``statement_timeout`` for the next statement (the server's own
        default when there is no timeout)."""
        wanted = None if timeout is None else max(1, round(timeout * 1000))
        if connection.timeout_ms == wanted:
            return
        with connection.con.cursor() as cur:
            if wanted is None:
                cur.execute("SET statement_timeout TO DEFAULT")
            else:
                cur.execute(f"SELECT set_config('statement_timeout', '{int(wanted)}', false)")
                cur.fetch_arrow_table()
        connection.timeout_ms = wanted

    def execute(self, sql: str) -> pa.Table:
        return self._run(sql)

    def execute_statement(self, sql: str, statement: Statement) -> pa.Table:
        return self._run(sql, statement=statement)

    def cancel(self) -> None:
        with self._running_lock:
            running = list(self._running)
        for cur in running:
            with contextlib.suppress(Exception):
                cur.adbc_cancel()

    def execute_batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        """Record batches as the server sends them (binary COPY): bounded memory; the
        connection is held until the iteration ends or the generator is closed."""
        connection = self.pool.acquire()
        broken = False
        try:
            self._set_timeout(connection, None)
            with connection.con.cursor() as cur:
                cur.execute(sql)
                yield from cur.fetch_record_batch()
        except self._error as exc:
            error = self._statement_error(exc)
            broken = _connection_lost(error)
            raise error from exc
        finally:
            self.pool.release(connection, broken)

    def data_version(self, tables: list[TableRef]) -> Hashable | None:
        """The WAL insert position and the tables' ``pg_stat_user_tables`` counters
        (``n_tup_ins``/``upd``/``del``), read in one statement. None (no caching without a ``ttl``) when a table is a
        view, a foreign or an unlogged table (their changes need not move this server's WAL), or
        when the server does not answer."""
        names = [".".join(_quoted(part) for part in table.parts[-2:]) for table in tables]
        try:
            placeholders = ", ".join(f"(${i}::text)" for i in range(1, len(names) + 1))
            rows = self._run(_VERSION_SQL.format(names=placeholders), tuple(names)).to_pylist()
        except WarehouseError:
            return None
        covered = [r["relid"] is None or (r["kind"] in ("r", "p", "m") and r["persistence"] == "p") for r in rows]
        if not rows or not all(covered):  # (a table not created yet is covered: creating it moves the WAL)
            return None
        return (rows[0]["lsn"], *((r["relid"], r["n_tup_ins"], r["n_tup_upd"], r["n_tup_del"]) for r in rows))

    # -- catalog -----------------------------------------------------------------------------

    def explain(self, sql: str, analyze: bool = False) -> str:
        """PostgreSQL's plan; ``analyze`` runs it (``EXPLAIN (ANALYZE, BUFFERS)``). The driver
        normally wraps statements in COPY, which EXPLAIN cannot be part of, so COPY is off here."""
        options = "ANALYZE, BUFFERS, FORMAT TEXT" if analyze else "FORMAT TEXT"
        connection = self.pool.acquire()
        broken = False
        try:
            with connection.con.cursor() as cur:
                cur.adbc_statement.set_options(**{"adbc.postgresql.use_copy": "false"})
                cur.execute(f"EXPLAIN ({options}) {sql}")
                return "\n".join(str(row[0]) for row in cur.fetchall())
        except self._error as exc:
            error = self._statement_error(exc, None)
            broken = _connection_lost(error)
            raise error from exc
        finally:
            self.pool.release(connection, broken)

    def table_stats(self, table: TableRef, time_column: str, time_expr: exp.Expr | None = None) -> TableStats:
        """Rows from the planner's statistics (``pg_class.reltuples``) when the table has been
        analysed, else counted; the time range with MIN/MAX (an index answers it at once)."""
        *prefix, name = table.parts
        schema = prefix[-1] if prefix else None
        estimate = self._run(
            "SELECT c.reltuples::float8 AS n FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace "
            "WHERE c.relname = $1 AND ns.nspname = coalesce($2, current_schema())",
            (name, schema),
        ).to_pylist()
        rows = estimate[0]["n"] if estimate else None
        exact = super().table_stats(table, time_column, time_expr) if rows is None or rows < 0 else None
        if exact is not None:
            return exact
        column = time_expr if time_expr is not None else exp.column(time_column, quoted=True)
        span = self._run(
            self.flavor.render(
                exp.select(exp.Min(this=column).as_("lo"), exp.Max(this=column).as_("hi")).from_(table.expression())
            )
        ).to_pylist()[0]
        low, high = _as_datetime(span["lo"]), _as_datetime(span["hi"])
        return TableStats(rows=int(rows or 0), min_time=low, max_time=high, exact=False)

    def columns(self, table: TableRef) -> list[ColumnInfo]:
        if len(table.parts) > 3:
            raise CatalogError(
                f"PostgreSQL table names have at most three parts (database.schema.table), not {str(table)!r}",
                where=self.display_url,
            )
        *prefix, name = table.parts
        schema = prefix[-1] if prefix else None
        database = prefix[-2] if len(prefix) >= 2 else None
        rows = self._run(_COLUMNS_SQL, (name, schema, database)).to_pylist()
        if not rows:
            where = f"schema {schema!r}" if schema else "the current schema"
            raise CatalogError(
                f"table {str(table)!r} not found in {where} of the PostgreSQL database", where=self.display_url
            )
        return [ColumnInfo(row["name"], row["type"], classify_type(row["type"])) for row in rows]

    # -- errors ------------------------------------------------------------------------------

    @classmethod
    def open_writer(cls, url: str, base_dir: Path | None = None) -> Writer:
        dbapi = import_driver("adbc_driver_postgresql.dbapi", "PostgreSQL", "postgresql")
        plain, _size = _pop_pool_size(url)
        try:
            con = dbapi.connect(libpq_uri(plain), autocommit=True)
            with con.cursor() as cur:
                cur.execute("SELECT set_config('standard_conforming_strings', 'on', false)")
                cur.fetch_arrow_table()
        except dbapi.Error as exc:
            raise WarehouseError(
                f"cannot open PostgreSQL for writing: {driver_message(exc)}", where=redact(url)
            ) from exc
        return PostgreSQLWriter(con, dbapi.Error, redact(url))

    def _statement_error(self, exc: Exception, timeout: float | None = None) -> WarehouseError:
        state = sqlstate_of(exc)
        message = driver_message(exc)
        if state == "25006":
            message += " (segwise opens PostgreSQL sessions read-only)"
        if state is None and _LOST.search(message):
            state = "08006"  # libpq reports a dead connection without a SQLSTATE: connection_failure
        if state == "57014" and "statement timeout" in message:
            after = f" after {timeout:g} s" if timeout is not None else ""
            return WarehouseError(
                f"the query timed out{after} and was cancelled (PostgreSQL statement_timeout)",
                where=self.display_url,
                sqlstate=state,
            )
        if state in ("57P01", "57P02", "08006"):
            message = f"the connection was closed while the query ran ({message}); no partial result was kept"
        return WarehouseError(f"PostgreSQL failed: {message}", where=self.display_url, sqlstate=state)

    def _connect_error(self, exc: Exception) -> WarehouseError:
        message = driver_message(exc)
        state = sqlstate_of(exc)
        summary = "cannot connect to PostgreSQL"
        for pattern, code, text in _CONNECT_FAILURES:
            if pattern.search(message):
                state, summary = state or code, text
                break
        hint = None
        if state in ("28P01", "28000"):
            hint = "check the user and password in the warehouse URL (or PGPASSWORD, ~/.pgpass)"
        elif state == "08001":
            hint = "is the server running, and are the host and port in the warehouse URL right?"
        return WarehouseError(f"{summary}: {message}", where=self.display_url, hint=hint, sqlstate=state)


_SESSION_SQL = (
    "SELECT set_config('default_transaction_read_only', 'on', false), "
    "set_config('standard_conforming_strings', 'on', false)"
)
_LOST = re.compile(
    r"no connection to the server|server closed the connection|connection to server .* lost|terminating connection",
    re.IGNORECASE,
)


def _quoted(name: str) -> str:
    """An identifier as PostgreSQL reads it in ``to_regclass`` (double quotes, doubled inside)."""
    return '"' + name.replace('"', '""') + '"'


def _connection_lost(error: WarehouseError) -> bool:
    state = error.sqlstate or ""
    return state.startswith("08") or state in ("57P01", "57P02", "57P03")


def _pop_pool_size(url: str) -> tuple[str, int | None]:
    """``url`` without segwise's own ``pool_size`` parameter, and its value."""
    parts = urlsplit(url)
    if "pool_size" not in parts.query:
        return url, None
    kept, size = [], None
    for item in parts.query.split("&"):
        key, _, value = item.partition("=")
        if key == "pool_size":
            if not value.isdigit() or int(value) < 1:
                raise WarehouseError(f"pool_size must be a positive whole number, not {value!r}", where=redact(url))
            size = int(value)
        elif item:
            kept.append(item)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), parts.fragment)), size


def libpq_uri(url: str, connect_timeout: int = CONNECT_TIMEOUT_SECONDS) -> str:
    """The URL as libpq wants it: ``postgresql://`` scheme, a connect timeout, an application name.

    Existing query parameters are kept byte for byte (libpq decodes ``%XX`` but not ``+``).
    """
    parts = urlsplit(url)
    given = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    extra = []
    if "connect_timeout" not in given:
        extra.append(f"connect_timeout={connect_timeout}")
    if "application_name" not in given:
        extra.append("application_name=segwise")
    query = "&".join([q for q in (parts.query, *extra) if q])
    return urlunsplit(("postgresql", parts.netloc, parts.path, query, parts.fragment))


class PostgreSQLWriter(Writer):
    """One ordinary (writable) session; transactions with explicit BEGIN/COMMIT."""

    def __init__(self, con: Any, error: type[Exception], where: str) -> None:
        self._con = con
        self._error = error
        self._where = where

    def execute(self, sql: str) -> pa.Table | None:
        try:
            with self._con.cursor() as cur:
                cur.execute(sql)
                try:
                    return cur.fetch_arrow_table()
                except self._error:
                    return None
        except self._error as exc:
            raise WarehouseError(
                f"PostgreSQL failed: {driver_message(exc)}", where=self._where, sqlstate=sqlstate_of(exc)
            ) from exc

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        with contextlib.suppress(WarehouseError):
            self.execute("ROLLBACK")

    def close(self) -> None:
        with contextlib.suppress(self._error):
            self._con.close()


@hookimpl
def segwise_adapters() -> list[type[Adapter]]:
    return [PostgresAdapter]
