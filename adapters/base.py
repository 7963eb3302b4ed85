"""The adapter contract: an adapter is a flavor plus a connection, by composition.

* a **flavor** (:class:`SqlFlavor`): how a few portable ideas (truncate a timestamp to a grain,
  convert to the project's time zone, an exact percentile, cast to text) become sqlglot
  expressions for one dialect, and how an expression is rendered. A flavor is a plain object:
  it renders without connecting (``segwise sql --dialect snowflake``). One flavor per dialect.
* an **adapter** (:class:`Adapter`): a connection that holds the flavor of the SQL it speaks
  (``flavor_class``, instantiated as ``adapter.flavor``): connect from a URL, run a rendered
  statement and return Arrow, and describe tables for the catalog.

Everything the compiler needs from a warehouse goes through these two classes, so a new
warehouse is one module (see ``docs/plugins.md``). The compiler is given ``adapter.flavor``,
never the adapter.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from sqlglot import exp

from segwise.timeformat import ISO, tokens

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterator

    import pyarrow as pa

    from segwise.timeformat import TimeEncoding

    from .filetables import FileTable


GRAIN_UNITS = {
    "hour": "HOUR",
    "day": "DAY",
    "week": "WEEK",
    "month": "MONTH",
    "quarter": "QUARTER",
    "year": "YEAR",
}


@dataclass(frozen=True)
class Capabilities:
    """What a dialect's SQL can express (a flavor's); the compiler checks these and explains refusals."""

    timezones: bool = True  # can convert timestamps between IANA zones in SQL
    exact_percentiles: bool = True
    # rolling users: the days one unsigned integer per user can hold as a bitmask of its active
    # days (``SqlFlavor.day_mask_*``); 0: no such integer, rolling users by intervals
    day_mask_bits: int = 0
    # ``a ASOF LEFT JOIN b ON a.k = b.k AND b.t > a.t``: per left row the one right row with the
    # smallest later time (ordered funnels follow their steps this way, engine/lower/funnel_asof.py)
    asof_join: bool = False
    # a per-unit value every row of the unit reads is cheaper as a window (``MIN(..) OVER (PARTITION
    # BY unit)``) than as an aggregate joined back on the unit: PostgreSQL estimates an aggregate of
    # a CTE poorly and may join it by a nested loop (first-time retention, engine/lower/retention_first.py)
    per_unit_windows: bool = False
    # ``WITH x AS MATERIALIZED (..)``: the CTE runs once however often it is read. DuckDB decides
    # per plan, and under the row guard's ``LIMIT`` it inlined a ranked funnel's attempts chain
    # (read by the top-N ranking and the best attempt) and ran its ASOF joins twice
    materialized_ctes: bool = False
    # per-unit lists aggregated in order (``ARRAY_AGG(x ORDER BY t) FILTER (WHERE ..)``) of structs,
    # read by 1-based subscripts (``l[i].t``): many-step ordered funnels follow every step by a
    # subscript instead of a join per step (engine/lower/funnel_lists.py)
    ordered_lists: bool = False


@dataclass(frozen=True)
class ConnectionCapabilities:
    """What an adapter's connections can do (an adapter's, not its flavor's)."""

    read_only_connections: bool = False  # the warehouse itself refuses writes on segwise's sessions
    cancel: bool = False  # a running statement can be stopped on the warehouse (timeouts, Ctrl-C)
    # the warehouse stops a statement at its timeout by itself (ClickHouse's max_execution_time),
    # even where a running statement cannot be cancelled from outside
    timeouts: bool = False


# SQLSTATEs worth another attempt for segwise's idempotent reads: the connection failed or was
# closed by the server, a serialization failure or deadlock, the server is starting or out of slots.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03", "53300"})


def is_transient(sqlstate: str | None) -> bool:
    """Whether an error with this SQLSTATE may go away if the (read-only) statement is retried."""
    return bool(sqlstate) and (sqlstate in TRANSIENT_SQLSTATES or str(sqlstate).startswith("08"))


class Statement:
    """One statement on its way through an adapter: how long it may run and how to stop it.

    The adapter running it registers a canceller (``set_canceller``) while the warehouse works on
    it; any thread may call ``cancel()`` (a timeout watchdog, a Ctrl-C handler). A statement
    cancelled before it starts must not start: adapters check ``cancelled`` after registering.
    """

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout
        self.cancelled = False
        self._lock = threading.Lock()
        self._canceller: Callable[[], object] | None = None

    def set_canceller(self, canceller: Callable[[], object] | None) -> None:
        with self._lock:
            self._canceller = canceller

    def cancel(self) -> bool:
        """Ask the warehouse to stop the statement; True if a canceller was called."""
        with self._lock:
            self.cancelled = True
            canceller = self._canceller
        if canceller is None:
            return False
        try:
            canceller()
        except Exception:  # a statement that just finished, a driver without cancel: best effort
            return False
        return True


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the warehouse describes it; ``kind`` is segwise's logical type."""

    name: str
    raw_type: str
    kind: str  # string | integer | float | boolean | timestamp | timestamptz | date | other


@dataclass(frozen=True)
class TableRef:
    """A possibly schema-qualified table name, split into parts (never parsed as SQL)."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, name: str) -> TableRef:
        return cls(tuple(part for part in name.split(".")))

    def expression(self, alias: str | None = None) -> exp.Table:
        *prefix, table = self.parts
        catalog = prefix[-2] if len(prefix) >= 2 else None
        db = prefix[-1] if prefix else None
        return exp.table_(
            exp.to_identifier(table, quoted=True),
            db=exp.to_identifier(db, quoted=True) if db else None,
            catalog=exp.to_identifier(catalog, quoted=True) if catalog else None,
            alias=exp.to_identifier(alias, quoted=True) if alias else None,
        )

    def __str__(self) -> str:
        return ".".join(self.parts)


def classify_type(raw: str) -> str:
    """Map a warehouse type name onto segwise's logical kinds."""
    t = raw.strip().upper()
    if t.startswith(("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP_TZ")):
        return "timestamptz"
    if t.startswith(("TIMESTAMP", "DATETIME")):
        return "timestamp"
    if t == "DATE":
        return "date"
    if t.startswith(("BOOL",)):
        return "boolean"
    if t.startswith(
        (
            "TINYINT",
            "SMALLINT",
            "INT",
            "BIGINT",
            "HUGEINT",
            "UBIGINT",
            "UINTEGER",
            "USMALLINT",
            "UTINYINT",
            "UHUGEINT",
            "SERIAL",
            "BIGSERIAL",
        )
    ):
        return "integer"
    if t.startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC")):
        return "float"
    if t.startswith(("VARCHAR", "TEXT", "CHAR", "STRING", "CHARACTER", "UUID", "ENUM")):
        return "string"
    return "other"


class SqlFlavor:
    """Dialect-specific expression building and rendering. Override what the dialect needs.

    A flavor holds no connection and takes no arguments: ``MyFlavor().render(expression)``
    works offline. ``name`` is the key ``--dialect`` and the registry use (``aliases`` are other
    keys for the same flavor), ``dialect`` the sqlglot dialect it renders.
    """

    name: ClassVar[str] = "generic"
    aliases: ClassVar[tuple[str, ...]] = ()
    dialect: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    series_function: ClassVar[str | None] = None  # a table function (start, stop, interval) -> timestamps
    text_time_default: ClassVar[str | None] = None  # the event_time_format of a text column when none is given
    # strftime directive -> the dialect's parse-format token (None: sqlglot's own translation)
    time_format_tokens: ClassVar[dict[str, str] | None] = None

    def truncate(self, grain: str, ts: exp.Expr) -> exp.Expr:
        """``ts`` (a naive local timestamp) truncated to the start of its ``grain`` bucket."""
        return exp.TimestampTrunc(this=ts, unit=exp.var(GRAIN_UNITS[grain]))

    def interval(self, count: int, unit: str) -> exp.Interval:
        """A constant interval of ``count`` ``unit`` (DAY, MONTH, YEAR)."""
        return exp.Interval(this=exp.Literal.string(str(count)), unit=exp.var(unit))

    def add_days(self, ts: exp.Expr, days: int) -> exp.Expr:
        return exp.Add(this=ts, expression=self.interval(days, "DAY"))

    def to_local(self, ts: exp.Expr, timezone: str, has_tz: bool) -> exp.Expr:
        """Convert an event timestamp (naive = UTC, or with time zone) to naive local time."""
        if not has_tz and timezone == "UTC":
            return ts
        utc = ts if has_tz else exp.AtTimeZone(this=ts, zone=exp.Literal.string("UTC"))
        return exp.AtTimeZone(this=utc, zone=exp.Literal.string(timezone))

    def timestamp_literal(self, value: str, has_tz: bool) -> exp.Expr:
        """A timestamp constant comparable with the raw event-time column."""
        if has_tz:
            return exp.cast(exp.Literal.string(value + "+00:00"), exp.DataType.Type.TIMESTAMPTZ)
        return exp.cast(exp.Literal.string(value), exp.DataType.Type.TIMESTAMP)

    def time_for_compare(self, column: exp.Expr, kind: str) -> exp.Expr:
        """The raw event-time column as compared with ``timestamp_literal`` (keep it bare so
        the warehouse can prune; override only where the storage format demands it)."""
        return column

    # -- event times stored as text or numbers (event_time_format, segwise.timeformat) -------------

    def event_time(self, column: exp.Expr, encoding: TimeEncoding) -> exp.Expr:
        """A text or epoch event-time column as a naive UTC timestamp."""
        if encoding.is_epoch:
            return self.epoch_to_timestamp(column, encoding.format.removeprefix("epoch_"))
        return self.parse_time_text(column, encoding.format)

    def parse_time_text(self, expr: exp.Expr, pattern: str) -> exp.Expr:
        """Text in ``pattern`` (a strftime pattern, or ``iso``) as a naive timestamp (the text's wall
        clock, read as UTC)."""
        if pattern == ISO:
            return exp.cast(expr, exp.DataType.Type.TIMESTAMP)
        if self.time_format_tokens is None:
            return exp.StrToTime(this=expr, format=exp.Literal.string(pattern))
        return exp.StrToTime(this=expr, format=exp.Literal.string(self.parse_format(pattern)))

    def parse_format(self, pattern: str, quote: Callable[[str], str] | None = None) -> str:
        """``pattern`` in the dialect's tokens (``time_format_tokens``); literal text through ``quote``."""
        table = self.time_format_tokens or {}
        out = []
        for kind, text in tokens(pattern):
            if kind == "text":
                out.append(quote(text) if quote else text)
            elif text in table:
                out.append(table[text])
            else:
                from segwise.errors import UnsupportedError

                raise UnsupportedError(f"{self.name} cannot parse %{text} (in the event_time_format {pattern!r})")
        return "".join(out)

    def epoch_to_timestamp(self, expr: exp.Expr, unit: str) -> exp.Expr:
        """A number of ``unit`` (``s``, ``ms``, ``us``) since 1970-01-01 UTC as a naive UTC timestamp."""
        step = {"s": "SECOND", "ms": "MILLISECOND", "us": "MICROSECOND"}[unit]
        epoch = self.timestamp_literal("1970-01-01 00:00:00", False)
        return exp.paren(exp.Add(this=epoch, expression=exp.Mul(this=expr, expression=self.interval(1, step))))

    def epoch_micros(self, ts: exp.Expr) -> exp.Expr:
        """A naive UTC timestamp as whole microseconds since 1970-01-01 (an integer), so times compare,
        order and subtract as integers in every engine (funnels)."""
        epoch = self.timestamp_literal("1970-01-01 00:00:00", False)
        return exp.DateDiff(this=ts, expression=epoch, unit=exp.var("MICROSECOND"))

    def zoned_bucket(self, ts: exp.Expr, timezone: str) -> exp.Expr:
        """A naive local bucket start as a timestamp with the time zone (pasteable SQL's ``bucket``);
        the default leaves it naive (the wall clock in the project's zone)."""
        return ts

    def percentile(self, value: exp.Expr, quantile: float) -> exp.Expr:
        """Exact continuous percentile (linear interpolation, as PERCENTILE_CONT)."""
        return exp.WithinGroup(
            this=exp.PercentileCont(this=exp.Literal.number(quantile)),
            expression=exp.Order(expressions=[exp.Ordered(this=value, nulls_first=False)]),
        )

    def as_text(self, value: exp.Expr, kind: str) -> exp.Expr:
        """A breakdown value as text (breakdown columns are strings in every engine)."""
        if kind == "string":
            return value
        return exp.cast(value, exp.DataType.Type.VARCHAR)

    def as_bigint(self, value: exp.Expr) -> exp.Expr:
        return exp.cast(value, exp.DataType.Type.BIGINT)

    def as_double(self, value: exp.Expr) -> exp.Expr:
        return exp.cast(value, exp.DataType.Type.DOUBLE)

    def text_sort_key(self, value: exp.Expr) -> exp.Expr:
        """An expression that orders text by code point (byte order), whatever the collation."""
        return value

    def timestamp_series(self, first: str, last: str, step: int, unit: str) -> exp.Select | None:
        """``SELECT _b`` over the naive timestamps ``first``, ``first + step unit``, ... up to
        ``last`` inclusive, generated by the warehouse (``series_function``); None where it has no
        generator, and the caller lists the values instead."""
        if self.series_function is None:
            return None
        interval = self.interval(step, unit)
        call = dialect_call(
            self.series_function, self.timestamp_literal(first, False), self.timestamp_literal(last, False), interval
        )
        alias = exp.TableAlias(this=exp.to_identifier("g"), columns=[exp.to_identifier("_b")])
        return exp.select(exp.column("_b", table="g"), copy=False).from_(exp.Table(this=call, alias=alias), copy=False)

    def values_table(self, rows: list[exp.Tuple], columns: list[str]) -> exp.Select:
        """A constant table ``SELECT * FROM (VALUES ...) AS v(columns)``."""
        alias = exp.TableAlias(this=exp.to_identifier("v"), columns=[exp.to_identifier(c) for c in columns])
        return exp.select(exp.Star(), copy=False).from_(exp.Values(expressions=rows, alias=alias), copy=False)

    def null_safe_eq(self, left: exp.Expr, right: exp.Expr) -> exp.Expr:
        """``left IS NOT DISTINCT FROM right``."""
        return exp.NullSafeEQ(this=left, expression=right)

    def starts_with(self, column: exp.Expr, prefix: str) -> exp.Expr:
        """``column`` begins with ``prefix`` (compared by characters, case-sensitive)."""
        head = exp.Substring(this=column, start=exp.Literal.number(1), length=exp.Literal.number(len(prefix)))
        return exp.EQ(this=head, expression=exp.Literal.string(prefix))

    # -- day bitmasks (rolling users; only where ``capabilities.day_mask_bits`` is not 0) -----------

    day_mask_type: ClassVar[str] = ""  # the integer type of a day mask, in ``dialect``
    day_mask_shift_type: ClassVar[str] = ""  # the type of a shift's bit count (default: the mask's)

    def _mask(self, value: exp.Expr) -> exp.Expr:
        return exp.cast(value, exp.DataType.build(self.day_mask_type, dialect=self.dialect))

    def _bits(self, value: exp.Expr) -> exp.Expr:
        kind = self.day_mask_shift_type or self.day_mask_type
        return exp.cast(value, exp.DataType.build(kind, dialect=self.dialect))

    def day_mask_bit(self, position: exp.Expr) -> exp.Expr:
        """The mask with only bit ``position`` set (0 <= position < ``day_mask_bits``)."""
        return exp.BitwiseLeftShift(this=self._mask(exp.Literal.number(1)), expression=self._bits(position))

    def day_mask_shift(self, mask: exp.Expr, bits: int) -> exp.Expr:
        """``mask`` shifted ``bits`` towards bit 0 (the bits below fall off)."""
        if bits == 0:
            return mask
        return exp.paren(exp.BitwiseRightShift(this=_operand(mask), expression=self._bits(exp.Literal.number(bits))))

    def day_mask_word(self, days: exp.Expr) -> exp.Expr:
        """The word holding day ``days`` (an integer): ``days`` integer-divided by the word width."""
        return exp.IntDiv(this=exp.paren(days), expression=exp.Literal.number(self.capabilities.day_mask_bits))

    def day_mask_up(self, mask: exp.Expr, bits: int) -> exp.Expr:
        """``mask`` shifted ``bits`` away from bit 0 (the caller keeps it inside the width)."""
        return exp.paren(exp.BitwiseLeftShift(this=_operand(mask), expression=self._bits(exp.Literal.number(bits))))

    def day_mask_low(self, bits: int) -> exp.Expr:
        """The mask of bits 0 .. ``bits`` - 1."""
        return self._mask(exp.Literal.number((1 << bits) - 1))

    def day_mask_byte(self, mask: exp.Expr, index: exp.Expr) -> exp.Expr:
        """Byte ``index`` (0: bits 0-7) of ``mask`` as an integer 0 .. 255."""
        at = self._bits(exp.Mul(this=index, expression=exp.Literal.number(8)))
        byte = exp.BitwiseAnd(
            this=exp.paren(exp.BitwiseRightShift(this=_operand(mask), expression=at)),
            expression=self._mask(exp.Literal.number(255)),
        )
        return exp.cast(byte, exp.DataType.Type.INT)

    def days_before(self, day: exp.Expr, last: str) -> exp.Expr:
        """Whole days from the local midnight ``day`` (a timestamp or a date) to the day ``last``
        (``YYYY-MM-DD``): date - date, an integer where there are masks (less CPU than DATE_DIFF)."""
        later = exp.cast(exp.Literal.string(last), exp.DataType.Type.DATE)
        return exp.paren(exp.Sub(this=later, expression=self.day_date(day)))

    def day_date(self, day: exp.Expr) -> exp.Expr:
        """The local midnight ``day`` as a DATE (dialects unwrap their own day truncation)."""
        return exp.cast(day, exp.DataType.Type.DATE)

    def day_before(self, last: str, days: exp.Expr) -> exp.Expr:
        """The local midnight ``days`` days before the day ``last`` as a naive timestamp (date - int)."""
        date = exp.Sub(this=exp.cast(exp.Literal.string(last), "DATE"), expression=exp.cast(days, "INT"))
        return exp.cast(date, exp.DataType.Type.TIMESTAMP)

    def render(self, expression: exp.Expr, pretty: bool = False) -> str:
        return expression.sql(dialect=self.dialect, pretty=pretty)


def dialect_call(name: str, *args: exp.Expr) -> exp.Anonymous:
    """A dialect function call rendered exactly as named (sqlglot does not translate it)."""
    return exp.Anonymous(this=name, expressions=list(args))


def _operand(value: exp.Expr) -> exp.Expr:
    """``value`` in parentheses unless it is a column, a literal or a cast (operator precedence
    differs between dialects: PostgreSQL reads ``a & b << c`` left to right, C-like grammars do not)."""
    return value if isinstance(value, (exp.Column, exp.Literal, exp.Cast, exp.Paren)) else exp.paren(value)


class Adapter:
    """A live warehouse connection holding the flavor of its SQL.

    Subclasses set ``name`` (shown in messages, events and calibration files), ``schemes`` (the
    URL schemes it answers), ``flavor_class`` (the dialect it speaks; ``self.flavor`` is an
    instance of it) and ``capabilities`` (what its connections can do).
    """

    name: ClassVar[str] = "generic"
    schemes: ClassVar[tuple[str, ...]] = ()
    flavor_class: ClassVar[type[SqlFlavor]] = SqlFlavor
    capabilities: ClassVar[ConnectionCapabilities] = ConnectionCapabilities()

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        self.url = url
        self.base_dir = base_dir
        self.flavor: SqlFlavor = self.flavor_class()

    # -- life cycle ------------------------------------------------------------------------------

    def close(self) -> None:  # pragma: no cover - trivial default
        """Release the connection."""

    # -- execution -------------------------------------------------------------------------------

    def execute(self, sql: str) -> pa.Table:
        """Run one read-only statement and return its result as an Arrow table."""
        raise NotImplementedError

    def execute_statement(self, sql: str, statement: Statement) -> pa.Table:
        """Run ``sql`` as ``statement``: register how to cancel it and honour ``statement.timeout``
        where the warehouse can enforce it itself.

        The default runs ``execute`` and cancels through ``cancel()`` (every statement of this
        adapter). ``segwise.observe`` enforces the timeout in any case by cancelling the statement
        when it is due; an adapter that cannot cancel leaves the statement running and the caller
        gets the timeout error anyway.
        """
        statement.set_canceller(self.cancel)
        try:
            return self.execute(sql)
        finally:
            statement.set_canceller(None)

    def cancel(self) -> None:
        """Stop every statement this adapter is running (best effort; default: nothing)."""

    def data_version(self, tables: list[TableRef]) -> Hashable | None:
        """A value that changes whenever the data in ``tables`` may have changed, for the result
        cache (``segwise.cache``); None when the adapter cannot tell (the default: answers are then
        cached only with a ``ttl``). Read before each statement, so it must be cheap; it may
        change more often than the data (a miss), never less (a stale answer)."""
        return None

    def is_transient(self, error: BaseException) -> bool:
        """Whether a failed read is worth another attempt (default: by SQLSTATE, see TRANSIENT_SQLSTATES)."""
        return is_transient(getattr(error, "sqlstate", None))

    def execute_batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        """Stream a result as record batches (default: the whole table as batches)."""
        yield from self.execute(sql).to_batches()

    # -- catalog ---------------------------------------------------------------------------------

    def columns(self, table: TableRef) -> list[ColumnInfo]:
        """Columns of ``table`` in order; raise CatalogError when the table does not exist."""
        raise NotImplementedError

    def table_stats(self, table: TableRef, time_column: str, time_expr: exp.Expr | None = None) -> TableStats:
        """Row count and event-time range of ``table``, for the cost model.

        The default asks the table itself (one aggregate query, built with sqlglot); adapters with
        cheaper metadata (PostgreSQL's ``pg_class``/``pg_stats``) override it. ``time_expr``: the
        event time as a timestamp when the column is text or a number (``flavor.event_time``).
        """
        column = time_expr if time_expr is not None else exp.column(time_column, quoted=True)
        query = exp.select(
            exp.Count(this=exp.Star()).as_("n"), exp.Min(this=column).as_("lo"), exp.Max(this=column).as_("hi")
        ).from_(table.expression())
        row = self.execute(self.flavor.render(query)).to_pylist()[0]
        return TableStats(rows=int(row["n"] or 0), min_time=_as_datetime(row["lo"]), max_time=_as_datetime(row["hi"]))

    def attach_files(self, tables: list[FileTable]) -> None:
        """Make each ``file:`` table of the project readable under its name (at connect time).

        Only the declared paths may become readable; queries still name tables, never files.
        """
        from segwise.errors import UnsupportedError

        names = ", ".join(t.name for t in tables)
        raise UnsupportedError(
            f"{self.name} cannot read `file:` tables ({names}); use DuckDB (leave `warehouse` out) or Spark",
            where=tables[0].where if tables else None,
        )

    def explain(self, sql: str, analyze: bool = False) -> str:
        """The warehouse's own plan for ``sql`` (with run-time figures when ``analyze``)."""
        raise NotImplementedError(f"{self.name} cannot show its plans")

    @classmethod
    def open_writer(cls, url: str, base_dir: Path | None = None) -> Writer:
        """A writable session for ``segwise rollup build`` (the only statements that write).

        Adapters that support rollups override this; the build closes the project's read-only
        adapter first and sends only statements the write guard allows (``guard.check_write``).
        """
        from segwise.errors import UnsupportedError

        raise UnsupportedError(f"{cls.name} cannot build rollups yet (DuckDB and PostgreSQL can)", where="rollup build")


class Writer:
    """A writable session: one transaction at a time, statements as text (already guarded)."""

    def execute(self, sql: str) -> pa.Table | None:  # pragma: no cover - interface
        raise NotImplementedError

    def begin(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def commit(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def rollback(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class TableStats:
    """What the cost model knows about an event table."""

    rows: int
    min_time: datetime | None
    max_time: datetime | None
    exact: bool = True


def _as_datetime(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("T", " "))
    return None
