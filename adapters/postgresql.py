"""PostgreSQL over ADBC (``adbc-driver-postgresql``): ``postgresql://user:password@host:port/db``.

The session is read-only (``default_transaction_read_only``), statements run in autocommit mode
(so a failed statement never leaves the connection in an aborted transaction), and results come
back as Arrow through the driver's binary COPY.

Driver facts this module relies on (adbc-driver-postgresql 1.x):

* parameters are ``$1``, ``$2`` ...;
* queries run as ``COPY (query) TO STDOUT``: ``SHOW`` does not work (use ``current_setting``);
* errors carry ``sqlstate`` for failed statements but not for failed connections, so the
  connection errors below derive it from the server's message (the code the server sent).
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pyarrow as pa
from sqlglot import exp

from segwise.errors import CatalogError, WarehouseError
from segwise.hookspecs import hookimpl

from .adbc import driver_message, import_driver, redact, sqlstate_of
from .base import Adapter, Capabilities, ColumnInfo, SqlFlavor, TableRef, classify_type

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CONNECT_TIMEOUT_SECONDS = 10

_COLUMNS_SQL = (
    "SELECT column_name::text AS name, data_type::text AS type FROM information_schema.columns "
    "WHERE table_name = $1::text "
    "AND table_schema = coalesce($2::text, current_schema()::text) "
    "AND table_catalog = coalesce($3::text, current_database()::text) "
    "ORDER BY ordinal_position"
)

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


class PostgresFlavor(SqlFlavor):
    """PostgreSQL SQL: sqlglot's ``postgres`` dialect plus byte-order ranking and float text."""

    name: ClassVar[str] = "postgresql"
    dialect: ClassVar[str] = "postgres"
    capabilities: ClassVar[Capabilities] = Capabilities(read_only_connections=True)

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


class PostgresAdapter(PostgresFlavor, Adapter):
    """A read-only PostgreSQL session over ADBC."""

    schemes: ClassVar[tuple[str, ...]] = ("postgresql", "postgres")

    def __init__(self, url: str, base_dir: Path | None = None, connect_timeout: int = CONNECT_TIMEOUT_SECONDS) -> None:
        super().__init__(url, base_dir)
        # One statement at a time: a libpq connection shared by threads loses protocol sync.
        self._lock = threading.RLock()
        self.display_url = redact(url)
        dbapi = import_driver("adbc_driver_postgresql.dbapi", "PostgreSQL", "postgresql")
        self._error: type[Exception] = dbapi.Error
        try:
            self._con: Any = dbapi.connect(libpq_uri(url, connect_timeout), autocommit=True)
        except self._error as exc:
            raise self._connect_error(exc) from exc
        try:
            self._run("SET default_transaction_read_only = on")
        except WarehouseError:
            self._con.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._con.close()

    # -- execution ---------------------------------------------------------------------------

    def _run(self, sql: str, parameters: tuple[Any, ...] | None = None) -> pa.Table:
        try:
            with self._lock, self._con.cursor() as cur:
                cur.execute(sql, parameters)
                return cur.fetch_arrow_table()
        except self._error as exc:
            raise self._statement_error(exc) from exc

    def execute(self, sql: str) -> pa.Table:
        return self._run(sql)

    def execute_batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        try:
            with self._lock, self._con.cursor() as cur:  # held while the caller iterates
                cur.execute(sql)
                yield from cur.fetch_record_batch()
        except self._error as exc:
            raise self._statement_error(exc) from exc

    # -- catalog -----------------------------------------------------------------------------

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

    def _statement_error(self, exc: Exception) -> WarehouseError:
        state = sqlstate_of(exc)
        message = driver_message(exc)
        if state == "25006":
            message += " (segwise opens PostgreSQL sessions read-only)"
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


@hookimpl
def segwise_adapters() -> list[type[Adapter]]:
    return [PostgresAdapter]
