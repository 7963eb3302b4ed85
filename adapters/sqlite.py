"""SQLite over ADBC (``adbc-driver-sqlite``): ``sqlite:////abs/path.db`` or ``sqlite:///relative.db``.

SQLite has no timestamp type. segwise reads UTC timestamps stored as ISO 8601 text, canonically
``YYYY-MM-DD HH:MM:SS[.ffffff]`` (what Python's ``sqlite3`` and SQLite's own functions write), in
columns *declared* ``TIMESTAMP``/``DATETIME`` (``DATE`` for dates): the declared type is how the
catalog knows a column holds times. The ``T`` separator (what ``adbc_ingest`` writes) works
everywhere; ``Z`` or ``+hh:mm`` suffixes work for bucketing and the date range (which normalise
through ``strftime``) but not for ordering events (first/last occurrence).

* Buckets come back as text ``YYYY-MM-DD HH:MM:SS``; post-processing parses them.
* Time comparisons happen at millisecond precision (``strftime('%f')``).
* No IANA time zones and no exact percentiles (SQLite has neither built in).
* The file is opened read-only (``mode=ro`` URI) and the session is ``query_only``.
* The ADBC driver infers each result column's Arrow type from its first batch, so a column whose
  first rows are NULL fails later with "Type mismatch": results are fetched as one batch.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

import pyarrow as pa
from sqlglot import exp

from segwise.errors import CatalogError, UnsupportedError, WarehouseError
from segwise.hookspecs import hookimpl
from segwise.timeformat import TimeEncoding

from .adbc import driver_message, import_driver, sqlstate_of
from .base import (
    Adapter,
    Capabilities,
    ColumnInfo,
    ConnectionCapabilities,
    SqlFlavor,
    Statement,
    TableRef,
    classify_type,
    dialect_call,
)
from .filetables import file_version

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterator

MEMORY = ":memory:"
# One batch per result (see the module docstring); the driver's limit is a C int.
BATCH_ROWS = 1_000_000_000
BUSY_TIMEOUT_MS = 5_000


def database_path(url: str, base_dir: Path | None) -> str:
    """``sqlite:///rel.db`` -> base_dir/rel.db; ``sqlite:////abs.db`` -> /abs.db; ``sqlite://`` -> memory."""
    parts = urlsplit(url)
    if parts.netloc:
        raise WarehouseError(
            f"SQLite URLs have no host: write sqlite:///relative.db or sqlite:////absolute.db, not {url!r}"
        )
    path = unquote(parts.path)
    if path in ("", "/", "/" + MEMORY):
        return MEMORY
    relative = path[1:]  # the third slash separates the (empty) host from the path
    if relative.startswith("/"):
        return relative
    return str((base_dir or Path.cwd()) / relative)


def _text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


class SQLiteFlavor(SqlFlavor):
    """SQLite SQL: date arithmetic with ``datetime``/``strftime`` modifiers on ISO text."""

    name: ClassVar[str] = "sqlite"
    dialect: ClassVar[str] = "sqlite"
    capabilities: ClassVar[Capabilities] = Capabilities(timezones=False, exact_percentiles=False)
    text_time_default: ClassVar[str | None] = "iso"  # SQLite's own convention for dates

    def truncate(self, grain: str, ts: exp.Expr) -> exp.Expr:
        # sqlglot renders date_trunc for SQLite as TIMESTAMP_TRUNC(x, DAY), which SQLite lacks.
        if grain == "hour":
            return dialect_call("strftime", _text("%Y-%m-%d %H:00:00"), ts)
        if grain == "day":
            return dialect_call("datetime", ts, _text("start of day"))
        if grain == "week":  # Monday on or before: back 6 days, then forward to the next Monday
            return dialect_call("datetime", ts, _text("start of day"), _text("-6 days"), _text("weekday 1"))
        if grain == "month":
            return dialect_call("datetime", ts, _text("start of month"))
        if grain == "quarter":
            # back (month - 1) % 3 months from the month's start; || binds tighter than % and
            # sqlglot does not parenthesise for SQLite, hence the explicit parentheses.
            month = exp.cast(dialect_call("strftime", _text("%m"), ts.copy()), exp.DataType.Type.INT)
            back = exp.paren(
                exp.Mod(
                    this=exp.paren(exp.Sub(this=month, expression=exp.Literal.number(1))),
                    expression=exp.Literal.number(3),
                )
            )
            modifier = exp.DPipe(this=exp.DPipe(this=_text("-"), expression=back), expression=_text(" months"))
            return dialect_call("datetime", ts, _text("start of month"), modifier)
        if grain == "year":
            return dialect_call("datetime", ts, _text("start of year"))
        raise UnsupportedError(f"SQLite cannot truncate to {grain!r}")

    def add_days(self, ts: exp.Expr, days: int) -> exp.Expr:
        return dialect_call("datetime", ts, _text(f"{days:+d} days"))

    def parse_time_text(self, expr: exp.Expr, pattern: str) -> exp.Expr:
        """ISO text is SQLite's own date form (taken as is, like a TIMESTAMP column); a pattern of
        fixed-width fields is cut into ``YYYY-MM-DD HH:MM:SS[.ffffff]`` with ``substr``."""
        if pattern == "iso":
            return expr
        layout = TimeEncoding(pattern).fixed_layout()
        unreadable = [code for code in ("b", "I", "p", "j") if code in (layout or {})]
        if layout is None or unreadable:
            raise UnsupportedError(
                f"SQLite has no date parser: it reads event_time_format patterns of fixed-width numbers "
                f"(%Y %y %m %d %H %M %S %f and text), not {pattern!r}"
            )

        def part(code: str, default: str) -> exp.Expr:
            if code not in layout:
                return _text(default)
            start, width = layout[code]
            return exp.Substring(this=expr.copy(), start=exp.Literal.number(start), length=exp.Literal.number(width))

        year = part("Y", "") if "Y" in layout else exp.DPipe(this=_text("20"), expression=part("y", "00"))
        pieces: list[exp.Expr] = [year, _text("-"), part("m", "01"), _text("-"), part("d", "01"), _text(" ")]
        pieces += [part("H", "00"), _text(":"), part("M", "00"), _text(":"), part("S", "00")]
        if "f" in layout:
            pieces += [_text("."), part("f", "000000")]
        out = pieces[0]
        for piece in pieces[1:]:
            out = exp.DPipe(this=out, expression=piece)
        return exp.paren(out, copy=False)

    def epoch_to_timestamp(self, expr: exp.Expr, unit: str) -> exp.Expr:
        """``datetime(x, 'unixepoch')`` for seconds; milli- and microseconds keep their fraction
        as text (``....SS.mmm``), by integer arithmetic."""
        if unit == "s":
            return dialect_call("datetime", expr, _text("unixepoch"))
        per, digits = (1_000, 3) if unit == "ms" else (1_000_000, 6)
        whole = exp.cast(expr, exp.DataType.Type.BIGINT)
        seconds = dialect_call(  # an integer divided by an integer: SQLite divides integers exactly
            "datetime", exp.Div(this=whole, expression=exp.Literal.number(per), typed=True), _text("unixepoch")
        )
        remainder = exp.Mod(this=whole.copy(), expression=exp.Literal.number(per))
        fraction = dialect_call("printf", _text(f"%0{digits}d"), remainder)
        return exp.paren(exp.DPipe(this=exp.DPipe(this=seconds, expression=_text(".")), expression=fraction))

    def to_local(self, ts: exp.Expr, timezone: str, has_tz: bool) -> exp.Expr:
        if timezone != "UTC":
            raise UnsupportedError(f"SQLite cannot convert times to the time zone {timezone!r}; use UTC")
        # Stored times are UTC already. Only the 'T' separator (what adbc_ingest writes) is
        # normalised, so local times compare as text with timestamp_literal and order exactly
        # (strftime would do more but keeps milliseconds only).
        return dialect_call("replace", ts, _text("T"), _text(" "))

    def epoch_micros(self, ts: exp.Expr) -> exp.Expr:
        """Whole seconds from ``strftime('%s')`` plus the milliseconds of ``strftime('%f')``
        (``SS.mmm``; SQLite's date functions keep milliseconds), by integer arithmetic."""
        seconds = exp.cast(dialect_call("strftime", _text("%s"), ts), exp.DataType.Type.BIGINT)
        millis = exp.cast(
            exp.Substring(this=dialect_call("strftime", _text("%f"), ts.copy()), start=exp.Literal.number(4)),
            exp.DataType.Type.BIGINT,
        )
        return exp.paren(
            exp.Add(
                this=exp.Mul(this=seconds, expression=exp.Literal.number(1_000_000)),
                expression=exp.Mul(this=millis, expression=exp.Literal.number(1_000)),
            )
        )

    def timestamp_literal(self, value: str, has_tz: bool) -> exp.Expr:
        """``YYYY-MM-DD HH:MM:SS`` (a whole second) or ``...SS.mmm``: compares as text with both
        truncated buckets and ``time_for_compare`` (a shorter prefix sorts first)."""
        whole, _, fraction = value.partition(".")
        millis = (fraction + "000")[:3]
        return _text(whole if not fraction.strip("0") else f"{whole}.{millis}")

    def time_for_compare(self, column: exp.Expr, kind: str) -> exp.Expr:
        # Normalise whatever ISO form is stored ('T', 'Z', no fraction, a bare date) to
        # 'YYYY-MM-DD HH:MM:SS.mmm' so that text comparison is time comparison.
        return dialect_call("strftime", _text("%Y-%m-%d %H:%M:%f"), column)

    def as_text(self, value: exp.Expr, kind: str) -> exp.Expr:
        """Breakdown values as DuckDB and PostgreSQL print them."""
        if kind in ("string", "date"):
            return value
        if kind == "boolean":  # stored as 0/1
            return exp.Case(
                ifs=[
                    exp.If(this=value.copy(), true=_text("true")),
                    exp.If(this=exp.Not(this=value.copy()), true=_text("false")),
                ]
            )
        text = exp.cast(value, exp.DataType.Type.TEXT)
        if kind == "float":
            return _float_text(value)
        if kind in ("timestamp", "timestamptz"):  # '2024-01-02T10:00:00.500000' -> '2024-01-02 10:00:00.5'
            spaced = dialect_call("replace", value, _text("T"), _text(" "))
            trimmed = dialect_call("rtrim", dialect_call("rtrim", spaced.copy(), _text("0")), _text("."))
            dot = dialect_call("instr", spaced.copy(), _text("."))
            has_fraction = exp.GT(this=dot, expression=exp.Literal.number(0))
            return exp.Case(ifs=[exp.If(this=has_fraction, true=trimmed)], default=spaced)
        return text

    def values_table(self, rows: list[exp.Tuple], columns: list[str]) -> exp.Select:
        # SQLite takes no column list on a VALUES alias; its VALUES columns are column1, column2 ...
        outputs = [exp.column(f"column{i + 1}").as_(name) for i, name in enumerate(columns)]
        return exp.select(*outputs, copy=False).from_(exp.Values(expressions=rows), copy=False)


def _float_text(value: exp.Expr) -> exp.Expr:
    """A REAL as Python's ``repr`` (and DuckDB) print it.

    SQLite prints the shortest round-trip digits too, but writes ``1.0e+20`` for ``1e+20`` and
    switches to exponents only from 1e17, where Python switches at 1e16:
    ``10000000000000000.0`` is ``1e+16`` and ``12345678901234568.0`` is ``1.2345678901234568e+16``.
    """
    plain = dialect_call("replace", exp.cast(value.copy(), exp.DataType.Type.TEXT), _text(".0e"), _text("e"))
    magnitude = dialect_call("abs", value.copy())
    in_gap = exp.and_(
        exp.GTE(this=magnitude, expression=exp.Literal.number("1e16")),
        exp.LT(this=magnitude.copy(), expression=exp.Literal.number("1e17")),
    )
    # 17 integer digits, trailing zeros dropped: the mantissa's digits
    digits = dialect_call(
        "rtrim",
        dialect_call(
            "substr", exp.cast(magnitude.copy(), exp.DataType.Type.TEXT), exp.Literal.number(1), exp.Literal.number(17)
        ),
        _text("0"),
    )
    fraction = exp.Case(
        ifs=[
            exp.If(
                this=exp.GT(this=dialect_call("length", digits.copy()), expression=exp.Literal.number(1)),
                true=exp.DPipe(
                    this=_text("."), expression=dialect_call("substr", digits.copy(), exp.Literal.number(2))
                ),
            )
        ],
        default=_text(""),
    )
    sign = exp.Case(
        ifs=[exp.If(this=exp.LT(this=value.copy(), expression=exp.Literal.number(0)), true=_text("-"))],
        default=_text(""),
    )
    first = dialect_call("substr", digits, exp.Literal.number(1), exp.Literal.number(1))
    exponent_form = exp.DPipe(
        this=exp.DPipe(this=exp.DPipe(this=sign, expression=first), expression=fraction), expression=_text("e+16")
    )
    return exp.Case(ifs=[exp.If(this=in_gap, true=exponent_form)], default=plain)


class _Slot:
    """The connection statements run on, one at a time (``lock``); ``abandoned`` once a statement
    on it was cancelled (SQLite's ADBC driver cannot interrupt it), so others get a fresh one."""

    __slots__ = ("abandoned", "busy", "con", "lock")

    def __init__(self, con: Any) -> None:
        self.con = con
        self.lock = threading.RLock()
        self.abandoned = False
        self.busy = 0


class SQLiteAdapter(Adapter):
    """A read-only SQLite database file over ADBC.

    The driver cannot cancel a running statement. A statement that is cancelled (timeout, Ctrl-C)
    is left to finish on its own connection, which is then closed; later statements run on a new
    read-only connection instead of waiting behind it.
    """

    name: ClassVar[str] = "sqlite"
    schemes: ClassVar[tuple[str, ...]] = ("sqlite",)
    flavor_class: ClassVar[type[SqlFlavor]] = SQLiteFlavor
    capabilities: ClassVar[ConnectionCapabilities] = ConnectionCapabilities(read_only_connections=True)

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        super().__init__(url, base_dir)
        self._swap = threading.Lock()
        self.path = database_path(url, base_dir)
        if self.path != MEMORY and not Path(self.path).is_file():
            # (mode=ro on a missing file fails with a misleading "failed to allocate memory")
            raise WarehouseError(f"SQLite database file not found: {self.path}", where=url)
        dbapi = import_driver("adbc_driver_sqlite.dbapi", "SQLite", "sqlite")
        self._dbapi = dbapi
        self._error: type[Exception] = dbapi.Error
        self._uri = MEMORY if self.path == MEMORY else f"file:{quote(self.path)}?mode=ro"
        self._slot = self._open_slot()
        self._version_slot: _Slot | None = None  # PRAGMA data_version (the result cache), opened on first use

    def _open_slot(self) -> _Slot:
        try:
            con = self._dbapi.connect(self._uri, autocommit=True)
        except self._error as exc:
            raise WarehouseError(
                f"cannot open SQLite database {self.path}: {driver_message(exc)}",
                where=self.url,
                sqlstate=sqlstate_of(exc),
            ) from exc
        slot = _Slot(con)
        for pragma in ("PRAGMA query_only = ON", f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"):
            self._on(slot, pragma)
        return slot

    def close(self) -> None:
        with self._swap:
            slots = [self._slot, self._version_slot]
            self._version_slot = None
        for slot in slots:
            if slot is not None:
                with slot.lock:
                    slot.con.close()

    def data_version(self, tables: list[TableRef]) -> Hashable | None:
        """SQLite's ``PRAGMA data_version`` on a connection of its own (it changes whenever
        another connection, in any process, commits), with the database file's identity, size and
        times and its write-ahead log's or journal's; None for an in-memory database. The own
        connection is never behind a long statement."""
        if self.path == MEMORY:
            return None
        with self._swap:
            if self._version_slot is None:
                self._version_slot = self._open_slot()
            slot = self._version_slot
        try:
            counter = self._on(slot, "PRAGMA data_version").column(0)[0].as_py()
        except WarehouseError:
            return None
        return (counter, file_version((self.path, self.path + "-wal", self.path + "-journal")))

    # -- execution ---------------------------------------------------------------------------

    def _cursor(self, slot: _Slot) -> Any:
        cursor = slot.con.cursor()
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
        return cursor

    def _on(self, slot: _Slot, sql: str, parameters: tuple[Any, ...] | None = None) -> pa.Table:
        try:
            with slot.lock, self._cursor(slot) as cur:
                cur.execute(sql, parameters)
                return cur.fetch_arrow_table()
        except self._error as exc:
            raise self._statement_error(exc) from exc

    def _run(self, sql: str, parameters: tuple[Any, ...] | None = None, statement: Statement | None = None) -> pa.Table:
        statement = statement or Statement()
        with self._swap:
            slot = self._slot
            slot.busy += 1
        statement.set_canceller(lambda: self._abandon(slot))
        try:
            with slot.lock:
                if statement.cancelled:
                    raise WarehouseError("the SQLite statement was cancelled", where=self.url, sqlstate="57014")
                return self._on(slot, sql, parameters)
        finally:
            statement.set_canceller(None)
            with self._swap:
                slot.busy -= 1
                finished = slot.abandoned and slot.busy == 0
            if finished:
                with slot.lock:
                    slot.con.close()

    def _abandon(self, slot: _Slot) -> None:
        """Leave ``slot`` to the statement running there; new statements get a new connection."""
        fresh = self._open_slot()
        with self._swap:
            if self._slot is slot and not slot.abandoned:
                slot.abandoned = True
                self._slot = fresh
                return
        fresh.con.close()

    def execute(self, sql: str) -> pa.Table:
        return self._run(sql)

    def execute_statement(self, sql: str, statement: Statement) -> pa.Table:
        return self._run(sql, statement=statement)

    def execute_batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        """The result as record batches. The driver infers column types from the first batch
        (see the module docstring), so SQLite results come as one batch: not memory-bounded."""
        with self._swap:
            slot = self._slot
        try:
            with slot.lock, self._cursor(slot) as cur:  # held while the caller iterates
                cur.execute(sql)
                yield from cur.fetch_record_batch()
        except self._error as exc:
            raise self._statement_error(exc) from exc

    def _statement_error(self, exc: Exception) -> WarehouseError:
        message = driver_message(exc)
        if "readonly database" in message or "query_only" in message:
            message += " (segwise opens SQLite databases read-only)"
        return WarehouseError(f"SQLite failed: {message}", where=self.url, sqlstate=sqlstate_of(exc))

    # -- catalog -----------------------------------------------------------------------------

    def explain(self, sql: str, analyze: bool = False) -> str:
        """SQLite's ``EXPLAIN QUERY PLAN`` (SQLite has no run-time analysis)."""
        table = self._run("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(detail) for detail in table.column("detail").to_pylist())

    def columns(self, table: TableRef) -> list[ColumnInfo]:
        if len(table.parts) > 2:
            raise CatalogError(
                f"SQLite table names have at most two parts (schema.table), not {str(table)!r}", where=self.url
            )
        *prefix, name = table.parts
        if prefix:
            rows = self._run("SELECT name, type FROM pragma_table_info(?, ?) ORDER BY cid", (name, prefix[0]))
        else:
            rows = self._run("SELECT name, type FROM pragma_table_info(?) ORDER BY cid", (name,))
        found = rows.to_pylist()
        if not found:
            raise CatalogError(f"table {str(table)!r} not found in the SQLite database {self.path}", where=self.url)
        return [ColumnInfo(row["name"], row["type"] or "", classify_sqlite_type(row["type"] or "")) for row in found]


def classify_sqlite_type(declared: str) -> str:
    """A declared type's kind: segwise's names first, then SQLite's affinity rules."""
    kind = classify_type(declared)
    if kind != "other" or not declared:
        return kind
    upper = declared.upper()
    if "INT" in upper:
        return "integer"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "string"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "float"
    return "other"


@hookimpl
def segwise_adapters() -> list[type[Adapter]]:
    return [SQLiteAdapter]
