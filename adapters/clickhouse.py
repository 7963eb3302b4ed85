"""ClickHouse, live: a server over HTTP (``clickhouse://``) or embedded through chDB (``chdb://``).

URLs
----

* ``clickhouse://user:password@host:8123/database`` — a ClickHouse server over its HTTP
  interface with `clickhouse-connect <https://clickhouse.com/docs/integrations/python>`_;
  results arrive in ClickHouse's Arrow format (``query_arrow``). ``clickhouses://`` (or
  ``?secure=true``) is HTTPS, default port 8443. Other query parameters are passed on as
  ClickHouse settings (``?max_execution_time=60``).
* ``chdb:///relative/dir`` (to the project file) and ``chdb:////absolute/dir`` — an embedded
  ClickHouse (chDB) on a session directory that an earlier chDB session created, in the same
  SQLAlchemy-style spelling as ``duckdb:///`` and ``sqlite:///``. ``chdb:///:memory:`` is the
  process's in-memory embedded server (useful to an application that created tables in it).
  ``?database=NAME`` picks the default database (otherwise ``default``).

chDB runs **one** embedded ClickHouse per process, on one directory: any number of adapters (and
the application's own ``chdb.session.Session`` objects) can share that directory, but opening a
second directory while the first is open fails with a message that says so.

SQL
---

The SQL is :class:`~segwise.adapters.dialects.ClickHouseFlavor`, the same flavor ``segwise sql
--dialect clickhouse`` renders with (checked against chDB to give DuckDB's answers). Every
session is pinned to ``session_timezone = 'UTC'`` and ``join_use_nulls = 1`` and then made
read-only (``readonly = 1`` over HTTP: no writes, no further setting changes; the ``SETTINGS
join_use_nulls = 1`` the flavor appends to outer joins is then a no-op, which ClickHouse allows;
chDB: ``readonly = 2``, see below).

Timeouts and cancel
-------------------

chDB: a statement with a timeout carries ClickHouse's own ``max_execution_time``, so the engine
stops it at the deadline (error 159, TIMEOUT_EXCEEDED) whatever the client does; chDB sessions are
therefore ``readonly = 2`` (reads only; settings may change per query, ``readonly`` itself
cannot). Each statement also carries a unique ``log_comment``, and cancelling it (the timeout,
Ctrl-C, a disconnected client) kills it by that name from a second session (``chdb_cancel``).

HTTP: each statement has a ``query_id`` (a transport parameter), and cancelling it (the timeout,
Ctrl-C, a disconnected client) sends ``KILL QUERY WHERE query_id = ... ASYNC`` (a read-only user
may kill its own queries), repeated until the request returns (a KILL that comes before the
server registered the query kills nothing). Requests stay ``readonly = 1`` and carry no ``max_execution_time``
(a ``readonly = 1`` request may not change settings); a server profile can set one.

Results
-------

ClickHouse's Arrow output is not what the other engines return: counts are ``UInt64``,
``DateTime`` is ``uint32`` seconds, ``Bool`` and ``Date`` may be small unsigned integers.
:func:`normalise` converts every result to segwise's types: signed ``int64``; ``float64``;
``DateTime``/``DateTime64`` as naive ``timestamp[us]`` holding the UTC wall clock (how segwise
represents local bucket starts, and what DuckDB returns); ``Date`` as ``date32``; strings as
``string``. When a result has a small unsigned column its ClickHouse types are read with
``DESCRIBE TABLE (query)`` (analysis only; cached per statement) so a ``DateTime`` is not taken
for a ``UInt32``.

Pruning
-------

The time filter is on the raw event-time column (``event_time >= toDateTime64('…', 6, 'UTC')
AND event_time < …``), never on an expression of it, so a MergeTree table prunes with both of
its keys: parts whose partition (``PARTITION BY toYYYYMM(event_time)`` or ``toDate(...)``) lies
outside the range are skipped by the partition key's min/max index, and inside the remaining
parts the primary key (``ORDER BY (event_name, event_time)`` or ``(event_time)``) skips
granules. ``EXPLAIN indexes = 1`` on the generated SQL shows both (``tests/test_clickhouse.py``).
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from segwise.errors import CatalogError, WarehouseError
from segwise.hookspecs import hookimpl

from .adbc import redact
from .base import Adapter, ColumnInfo, ConnectionCapabilities, SqlFlavor, Statement, TableRef
from .cancel import RepeatedCancel
from .chdb_cancel import ChdbKiller, new_marker, with_max_execution_time
from .dialects import ClickHouseFlavor

if TYPE_CHECKING:
    from types import ModuleType

MEMORY = ":memory:"
DEFAULT_HTTP_PORT = 8123
DEFAULT_HTTPS_PORT = 8443
CONNECT_TIMEOUT_SECONDS = 10

# Settings every segwise session runs with; ``readonly`` is applied last (it freezes the others).
# max_query_size: the parser's limit (256 KiB by default) counts literals too; a query with long
# IN lists or values must not fail on it.
SESSION_SETTINGS: dict[str, str] = {"session_timezone": "UTC", "join_use_nulls": "1", "max_query_size": "67108864"}
READ_ONLY: dict[str, str] = {"readonly": "1"}
CHDB_READ_ONLY: dict[str, str] = {"readonly": "2"}  # reads only; per-query settings (the timeout) allowed
_TIMEOUT_EXCEEDED = "159"
_COLUMNS_SQL = (
    "SELECT name, type FROM system.columns WHERE database = {database:String} AND table = {table:String} "
    "ORDER BY position"
)
_CURRENT_DATABASE_SQL = "SELECT currentDatabase() AS d"


# -- types ----------------------------------------------------------------------------------------


def base_type(raw: str) -> str:
    """``LowCardinality(Nullable(String))`` -> ``String``."""
    raw = raw.strip()
    while True:
        for wrapper in ("Nullable(", "LowCardinality("):
            if raw.startswith(wrapper) and raw.endswith(")"):
                raw = raw[len(wrapper) : -1].strip()
                break
        else:
            return raw


def classify_clickhouse_type(raw: str) -> str:
    """A ClickHouse type's logical kind (``DateTime('UTC')`` is ``timestamptz``, a bare
    ``DateTime`` is ``timestamp``: naive, read in the session zone, which segwise pins to UTC)."""
    t = base_type(raw)
    name = t.split("(")[0]
    if name in ("DateTime", "DateTime64"):
        return "timestamptz" if "'" in t else "timestamp"
    if name in ("Date", "Date32"):
        return "date"
    if name == "Bool":
        return "boolean"
    if re.fullmatch(r"U?Int(8|16|32|64|128|256)", name):
        return "integer"
    if re.fullmatch(r"Float(32|64)|BFloat16|Decimal(32|64|128|256)?", name):
        return "float"
    if name in ("String", "FixedString", "UUID", "Enum8", "Enum16", "Enum", "IPv4", "IPv6"):
        return "string"
    return "other"


def _timestamp_from_seconds(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    seconds = column.cast(pa.int64())
    return pc.multiply(seconds, 1_000_000).cast(pa.timestamp("us"))


def normalise(table: pa.Table, types: list[str] | None = None) -> pa.Table:
    """ClickHouse Arrow -> segwise's Arrow types (see the module docstring).

    ``types`` are the ClickHouse types of the columns (from ``DESCRIBE``), needed only to tell a
    ``DateTime`` (``uint32``) or a ``Bool`` (``uint8``) from an unsigned integer.
    """
    columns: list[Any] = []
    fields: list[pa.Field] = []
    for index, column in enumerate(table.columns):
        t = column.type
        raw = base_type(types[index]) if types and index < len(types) else ""
        name = raw.split("(")[0]
        if pa.types.is_dictionary(t):
            column = column.cast(t.value_type)
            t = t.value_type
        if name == "DateTime" and pa.types.is_integer(t):
            column = _timestamp_from_seconds(column)
        elif name == "Date" and pa.types.is_integer(t):
            column = column.cast(pa.int32()).cast(pa.date32())
        elif name == "Bool" and pa.types.is_integer(t):
            column = column.cast(pa.bool_())
        elif pa.types.is_integer(t):
            column = column.cast(pa.int64())  # safe: a count beyond int64 raises rather than wraps
        elif pa.types.is_floating(t) or pa.types.is_decimal(t):
            column = column.cast(pa.float64())
        elif pa.types.is_timestamp(t):
            column = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
        elif pa.types.is_large_string(t) or pa.types.is_string_view(t):
            column = column.cast(pa.string())
        elif pa.types.is_fixed_size_binary(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            column = pc.cast(column.cast(pa.binary()), pa.string())
        columns.append(column)
        fields.append(pa.field(table.schema.field(index).name, column.type))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _needs_types(schema: pa.Schema) -> bool:
    """Whether some column may be a DateTime/Bool/Date hiding as an unsigned integer."""
    return any(pa.types.is_unsigned_integer(f.type) and f.type.bit_width < 64 for f in schema)


# -- errors -----------------------------------------------------------------------------------------

_CODE = re.compile(r"Code: (\d+)\. ")
_NOISE = (
    re.compile(r"^(?:Code: \d+\. )?(?:DB::Exception: )+"),
    re.compile(r"^(?:Code: \d+\. )?(?:DB::Exception: )+"),
    re.compile(r"^[\w.]+: "),  # "default: Cannot execute ..." (the user name)
)


def clickhouse_message(exc: BaseException) -> tuple[str, str | None]:
    """The server's message without ``Code: N. DB::Exception:`` noise, and the code."""
    text = str(exc)
    codes = _CODE.findall(text)
    for marker in ("Stack trace", "\n\n"):
        text = text.split(marker)[0]
    text = text.strip()
    # clickhouse-connect prefixes 'HTTPDriver for http://... received ClickHouse error code 60'
    text = re.sub(
        r"^HTTPDriver for \S+ (?:returned response code \d+\)?|received ClickHouse error code \d+)\s*", "", text
    )
    text = text.strip(" \n:")
    for pattern in _NOISE:
        text = pattern.sub("", text, count=1)
    return " ".join(text.split()), (codes[0] if codes else None)


# Codes: https://github.com/ClickHouse/ClickHouse/blob/master/src/Common/ErrorCodes.cpp
_UNKNOWN_TABLE = {"60", "81"}  # UNKNOWN_TABLE, UNKNOWN_DATABASE
_READONLY = "164"


# -- what both connections share ----------------------------------------------------------------------


class _ClickHouseAdapter(Adapter):
    """What both ClickHouse connections share: catalog, result types, error translation."""

    flavor_class: ClassVar[type[SqlFlavor]] = ClickHouseFlavor
    capabilities: ClassVar[ConnectionCapabilities] = ConnectionCapabilities(read_only_connections=True)
    display_url: str = ""
    _TYPE_CACHE_SIZE = 256

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        super().__init__(url, base_dir)
        self._types: OrderedDict[str, list[str]] = OrderedDict()
        self._types_lock = threading.Lock()

    # transport, per connection kind (``statement``: its timeout and canceller, when one is run)
    def _arrow(
        self, sql: str, parameters: dict[str, Any] | None = None, statement: Statement | None = None
    ) -> pa.Table:
        raise NotImplementedError

    def _engine(self) -> str:
        return "ClickHouse"

    # -- execution ---------------------------------------------------------------------------

    def execute(self, sql: str) -> pa.Table:
        return self._execute(sql, None)

    def _execute(self, sql: str, statement: Statement | None) -> pa.Table:
        table = self._arrow(sql, statement=statement)
        types = self._describe(sql) if _needs_types(table.schema) else None
        return normalise(table, types)

    def execute_statement(self, sql: str, statement: Statement) -> pa.Table:
        """Run ``sql`` with ClickHouse's ``max_execution_time`` when the statement has a timeout;
        cancelling ``statement`` kills it on the engine."""
        try:
            return self._execute(sql, statement)
        except WarehouseError as exc:
            if statement.cancelled and exc.sqlstate != "57014":
                raise WarehouseError(
                    f"the {self._engine()} statement was cancelled", where=self.display_url, sqlstate="57014"
                ) from exc
            if exc.sqlstate == _TIMEOUT_EXCEEDED and statement.timeout is not None:
                raise WarehouseError(
                    f"the query timed out after {statement.timeout:g} s and was stopped by {self._engine()} "
                    "(max_execution_time)",
                    where=self.display_url,
                    hint="raise --timeout (timeout=), narrow the date range or use a coarser time_grain",
                    sqlstate="57014",
                ) from exc
            raise

    def _describe(self, sql: str) -> list[str]:
        with self._types_lock:
            if sql in self._types:
                self._types.move_to_end(sql)
                return self._types[sql]
        described = self._arrow(f"DESCRIBE TABLE ({sql})")
        types = [str(t) for t in described.column(1).to_pylist()]
        with self._types_lock:
            self._types[sql] = types
            while len(self._types) > self._TYPE_CACHE_SIZE:
                self._types.popitem(last=False)
        return types

    def explain(self, sql: str, analyze: bool = False) -> str:
        """ClickHouse's plan with the indexes it uses (``EXPLAIN indexes = 1``): for each MergeTree
        read, the partition key's min/max and partition indexes and the primary key, with parts
        and granules before and after. ``analyze`` adds ``EXPLAIN ESTIMATE`` (parts, rows and
        marks to read per table); ClickHouse has no EXPLAIN ANALYZE."""
        text = "\n".join(str(v) for v in self._arrow(f"EXPLAIN indexes = 1 {sql}").column(0).to_pylist())
        if analyze:
            estimate = self._arrow(f"EXPLAIN ESTIMATE {sql}").to_pylist()
            text += "\n\nEstimate (database, table, parts, rows, marks):\n" + "\n".join(
                ", ".join(str(v) for v in row.values()) for row in estimate
            )
        return text

    def index_usage(self, sql: str) -> list[dict[str, Any]]:
        """The indexes ClickHouse uses for ``sql``: one entry per index of every MergeTree read
        (``EXPLAIN json = 1, indexes = 1``): type (Min-Max, Partition, PrimaryKey, Skip), keys,
        condition, and parts and granules before and after."""
        import json

        text = self._arrow(f"EXPLAIN json = 1, indexes = 1, description = 0 {sql}").column(0)[0].as_py()
        found: list[dict[str, Any]] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for index in node.get("Indexes", []) if node.get("Node Type") == "ReadFromMergeTree" else []:
                    found.append(index)
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(json.loads(text))
        return found

    # -- catalog -----------------------------------------------------------------------------

    def columns(self, table: TableRef) -> list[ColumnInfo]:
        if len(table.parts) > 2:
            raise CatalogError(
                f"ClickHouse table names have at most two parts (database.table), not {str(table)!r}",
                where=self.display_url,
            )
        *prefix, name = table.parts
        database = prefix[0] if prefix else self.current_database()
        rows = self._arrow(_COLUMNS_SQL, {"database": database, "table": name}).to_pylist()
        if not rows:
            raise CatalogError(
                f"table {str(table)!r} not found in the ClickHouse database {database!r}", where=self.display_url
            )
        return [ColumnInfo(row["name"], row["type"], classify_clickhouse_type(row["type"])) for row in rows]

    @functools.cached_property
    def _current_database(self) -> str:
        return str(self._arrow(_CURRENT_DATABASE_SQL).column(0)[0].as_py())

    def current_database(self) -> str:
        return self._current_database

    # -- errors ------------------------------------------------------------------------------

    def _error(self, exc: BaseException, what: str = "failed") -> WarehouseError:
        message, code = clickhouse_message(exc)
        if code == _READONLY:
            message += " (segwise opens ClickHouse sessions read-only)"
        detail = f" [code {code}]" if code else ""
        return WarehouseError(f"{self._engine()} {what}: {message}{detail}", where=self.display_url, sqlstate=code)


# -- chDB (embedded) ----------------------------------------------------------------------------------


def import_module(module: str, engine: str, extra: str, package: str) -> ModuleType:
    """Import an optional driver on first use, so ``import segwise`` works without it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise WarehouseError(
            f"the {engine} adapter needs the Python package {package}, which is not installed ({exc})",
            hint=f"pip install 'segwise[{extra}]'",
        ) from exc


def session_path(url: str, base_dir: Path | None) -> tuple[str, dict[str, str]]:
    """``chdb:///rel`` -> base_dir/rel; ``chdb:////abs`` -> /abs; ``chdb:///:memory:``; plus the
    query parameters."""
    parts = urlsplit(url)
    if parts.netloc:
        raise WarehouseError(
            f"chdb URLs have no host: write chdb:///relative/dir or chdb:////absolute/dir, not {url!r}", where=url
        )
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - {"database"})
    if unknown:
        raise WarehouseError(f"unknown chdb URL parameter(s) {', '.join(unknown)}; known: database", where=url)
    path = unquote(parts.path)
    if path in ("", "/", "/" + MEMORY):
        return MEMORY, options
    relative = path[1:]  # the third slash separates the (empty) host from the path
    if relative.startswith("/"):
        return relative, options
    return str((base_dir or Path.cwd()) / relative), options


class ChdbAdapter(_ClickHouseAdapter):
    """Embedded ClickHouse through chDB, on a session directory (read-only)."""

    name: ClassVar[str] = "chdb"
    schemes: ClassVar[tuple[str, ...]] = ("chdb",)
    capabilities: ClassVar[ConnectionCapabilities] = ConnectionCapabilities(
        read_only_connections=True, cancel=True, timeouts=True
    )

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        super().__init__(url, base_dir)
        self.display_url = url
        self.path, options = session_path(url, base_dir)
        if self.path != MEMORY and not Path(self.path).is_dir():
            raise WarehouseError(
                f"chdb session directory not found: {self.path}",
                where=url,
                hint="write chdb:////absolute/dir (four slashes) for an absolute path; the directory must hold "
                "a chDB session's data",
            )
        session_module = import_module("chdb.session", "chdb (embedded ClickHouse)", "clickhouse", "chdb")
        try:
            self._session: Any = session_module.Session(self.path)
            self._lock = threading.Lock()
            self._killer = ChdbKiller(session_module.Session, self.path)
        except Exception as exc:
            message, _ = clickhouse_message(exc)
            hint = None
            if "already initialized with path" in message:
                hint = (
                    "chDB runs one embedded ClickHouse per process, on one directory: close the other chdb "
                    "sessions (or projects) first, or keep all databases in one directory (chdb:///dir?database=NAME)"
                )
            raise WarehouseError(f"cannot open chdb session {self.path}: {message}", where=url, hint=hint) from exc
        try:
            if options.get("database"):
                self._session.query(f"USE {_quote_identifier(options['database'])}")
            for key, value in {**SESSION_SETTINGS, **CHDB_READ_ONLY}.items():
                self._session.query(f"SET {key} = {_setting_literal(value)}")
        except Exception as exc:
            self._session.close()
            raise self._error(exc, "could not set up the session") from exc

    def _engine(self) -> str:
        return "chdb"

    def close(self) -> None:
        self._killer.close()
        self._session.close()

    def _arrow(
        self, sql: str, parameters: dict[str, Any] | None = None, statement: Statement | None = None
    ) -> pa.Table:
        cancel = None
        if statement is not None:
            marker = new_marker()
            sql = with_max_execution_time(sql, statement.timeout, marker)
            cancel = self._killer.canceller(marker)
            statement.set_canceller(cancel)
        with self._lock:  # a session runs one statement at a time; the lock keeps each with its cleanup
            try:
                if statement is not None and statement.cancelled:
                    raise WarehouseError("the chdb statement was cancelled before it started", sqlstate="57014")
                # ArrowStream, copied out of chDB's buffer before it is read (bytes()), not chDB's
                # own "ArrowTable" conversion, which reads the buffer in place.
                data = self._session.query(sql, "ArrowStream", params=parameters or None).bytes()
            except WarehouseError:
                raise
            except Exception as exc:
                # chDB 4.4 hands a statement that failed while running (a timeout, throwIf) on as
                # the *next* statement's result (the failed one's columns, no rows): take it now.
                with contextlib.suppress(Exception):
                    self._session.query("SELECT 1", "ArrowStream")
                raise self._error(exc) from exc
            finally:
                if statement is not None and cancel is not None:
                    statement.set_canceller(None)
                    cancel.finish()
        if not data:  # a statement without a result set
            return pa.table({})
        return pa.ipc.open_stream(data).read_all()


def _quote_identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _setting_literal(value: str) -> str:
    return value if value.isdigit() else "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# -- ClickHouse server over HTTP ---------------------------------------------------------------------


def _truthy(value: str) -> bool:
    return value.lower() in ("1", "true", "yes", "on")


def http_options(url: str) -> dict[str, Any]:
    """clickhouse-connect ``get_client`` arguments for a ``clickhouse://`` or ``clickhouses://`` URL."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    secure = parts.scheme.lower() == "clickhouses" or _truthy(query.pop("secure", "false"))
    options: dict[str, Any] = {
        "host": parts.hostname or "localhost",
        "port": parts.port or (DEFAULT_HTTPS_PORT if secure else DEFAULT_HTTP_PORT),
        "username": unquote(parts.username) if parts.username else "default",
        "password": unquote(parts.password) if parts.password else "",
        "secure": secure,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "client_name": "segwise",
        "autogenerate_session_id": False,  # stateless requests: threads may share the client
    }
    database = unquote(parts.path.lstrip("/"))
    if database:
        options["database"] = database
    for key in list(query):
        if key in ("verify", "compress"):
            options[key] = _truthy(query.pop(key))
        elif key in ("connect_timeout", "send_receive_timeout"):
            options[key] = int(query.pop(key))
    options["settings"] = client_settings(query)
    return options


def client_settings(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ClickHouse settings a segwise client sends with every request (``readonly`` last)."""
    return {**(extra or {}), **SESSION_SETTINGS, **READ_ONLY}


class ClickHouseAdapter(_ClickHouseAdapter):
    """A ClickHouse server over HTTP(S) with clickhouse-connect, Arrow results, read-only requests."""

    name: ClassVar[str] = "clickhouse"
    schemes: ClassVar[tuple[str, ...]] = ("clickhouse", "clickhouses")
    capabilities: ClassVar[ConnectionCapabilities] = ConnectionCapabilities(read_only_connections=True, cancel=True)

    def __init__(self, url: str, base_dir: Path | None = None, client: Any = None) -> None:
        super().__init__(url, base_dir)
        self.display_url = redact(url)
        self._client: Any = client
        if client is not None:  # an application's own clickhouse-connect client (see from_client)
            return
        connect = import_module("clickhouse_connect", "ClickHouse", "clickhouse", "clickhouse-connect")
        try:
            options = http_options(url)
        except ValueError as exc:
            raise WarehouseError(f"bad ClickHouse URL: {exc}", where=self.display_url) from exc
        try:
            self._client = connect.get_client(**options)
        except Exception as exc:
            message, code = clickhouse_message(exc)
            raise WarehouseError(
                f"cannot connect to ClickHouse: {message}",
                where=self.display_url,
                hint="is the server running, and are the host, port (HTTP: 8123, HTTPS: 8443), user and password "
                "in the warehouse URL right?",
                sqlstate=code,
            ) from exc

    @classmethod
    def from_client(cls, client: Any, url: str = "clickhouse://") -> ClickHouseAdapter:
        """Wrap an existing clickhouse-connect client (make it with ``client_settings()``)."""
        return cls(url, client=client)

    def close(self) -> None:
        self._client.close()

    def _arrow(
        self, sql: str, parameters: dict[str, Any] | None = None, statement: Statement | None = None
    ) -> pa.Table:
        settings: dict[str, Any] | None = None
        cancel = None
        if statement is not None:
            query_id = f"segwise-{uuid.uuid4().hex}"
            settings = {"query_id": query_id}  # a transport parameter, not a setting: fine under readonly = 1
            cancel = RepeatedCancel(lambda: self.kill(query_id), name="segwise-clickhouse-kill")
            statement.set_canceller(cancel)
        try:
            if statement is not None and statement.cancelled:
                raise WarehouseError("the ClickHouse query was cancelled before it started", sqlstate="57014")
            return self._client.query_arrow(sql, parameters=parameters or None, settings=settings, use_strings=True)
        except WarehouseError:
            raise
        except Exception as exc:
            raise self._error(exc) from exc
        finally:
            if statement is not None and cancel is not None:
                statement.set_canceller(None)
                cancel.finish()

    def kill(self, query_id: str) -> None:
        """Ask the server to stop the query ``query_id`` (``KILL QUERY ... ASYNC``: does not wait)."""
        self._client.command("KILL QUERY WHERE query_id = {id:String} ASYNC", parameters={"id": query_id})


@hookimpl
def segwise_adapters() -> list[type[Adapter]]:
    return [ClickHouseAdapter, ChdbAdapter]
