"""The typed parts of a logical plan that lowering renders as they are: a scan's predicates
(its events, its time range, its conditions) as sqlglot expressions over the tables' bare
columns, the date spine of rolling counts, and the shared scans the rule ``sharing`` creates.

The planner builds them (``time_range``, ``event_names``, ``spine``); explain prints them
(``LogicalPlan.describe`` / ``to_json``); lowering places each expression on the columns as its
statement names them (``Predicate.column_in``, ``qualified``) instead of deriving it again from
the query. ``segwise.plan`` holds the nodes these parts belong to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

from .conditions import build_condition
from .eventtime import time_filter
from .partitions import partition_filter
from .query import ANY_EVENT
from .timeframe import to_utc, truncate

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from .adapters.base import SqlFlavor
    from .catalog import Catalog, EventTableInfo, ResolvedProperty
    from .query import Condition
    from .timeframe import Timeframe

# Bucket grains a generated series can step through: (step, interval unit).
SERIES_STEPS: dict[str, tuple[int, str]] = {
    "day": (1, "DAY"),
    "week": (7, "DAY"),
    "month": (1, "MONTH"),
    "quarter": (3, "MONTH"),
    "year": (1, "YEAR"),
}


def qualified(expression: exp.Expr, alias: str, names: set[str]) -> exp.Expr:
    """A copy of ``expression`` with its bare columns named ``names`` read from table ``alias``."""

    def place(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in names:
            return exp.column(node.name, table=alias, quoted=True)
        return node

    return expression.copy().transform(place, copy=False)


@dataclass(frozen=True)
class Predicate:
    """A filter of a scan: what it reads, as text for explain and as a sqlglot expression over the
    table's raw columns (values are literals of the column's type). A condition of the query
    keeps which one it is, the bare column its expression reads and its property resolved
    (``prop``: the event or user-table column), so lowering can place the expression on the column
    as the scan names it (``column_in``) without resolving the property again."""

    text: str
    expression: exp.Expr | None = None
    condition: Condition | None = None
    column: exp.Column | None = None
    prop: ResolvedProperty | None = None

    def __str__(self) -> str:
        return self.text

    def column_in(self, column: exp.Expr) -> exp.Expr:
        """The expression with its bare column replaced by ``column`` (a qualified column, or a
        typed NULL in a table without it)."""
        assert self.expression is not None and self.column is not None
        bare = self.column
        return self.expression.copy().transform(lambda node: column.copy() if node == bare else node, copy=False)

    @property
    def sql(self) -> str | None:
        """The expression as (dialect-neutral) SQL, for explain."""
        return self.expression.sql() if self.expression is not None else None


def condition_predicate(flavor: SqlFlavor, catalog: Catalog, cond: Condition) -> tuple[Predicate, ResolvedProperty]:
    """A filter of the query as a predicate: its expression over the property's bare column (the
    condition's identity kept, so lowering places it on the column as its statement names it)."""
    prop = catalog.resolve(cond.property, "plan")  # bind checked the name
    bare = exp.column(prop.column, quoted=True)
    expression = build_condition(flavor, bare, prop, cond, "plan")
    return Predicate(f"{cond.property} {cond.op}", expression, cond, bare, prop), prop


@dataclass(frozen=True)
class TablePredicate(Predicate):
    """A predicate with one expression per table of the scan (each over that table's bare
    columns, ``column``: the column it reads); ``expression`` is the one of a single table."""

    tables: tuple[tuple[str, tuple[exp.Expr, ...]], ...] = ()  # (table ref, its comparisons)
    reads: str = ""  # which column of each table: "time" (event time), "name" (event name), "partition"

    def on(self, info: EventTableInfo, alias: str) -> list[exp.Expr] | None:
        """The comparisons of ``info`` read from ``alias`` (None: the scan does not read it)."""
        partition = info.spec.partition
        column = {
            "time": info.spec.event_time,
            "name": info.spec.event_name,
            "partition": partition.column if partition is not None else None,
        }[self.reads]
        for ref, parts in self.tables:
            if ref == str(info.ref):
                return [qualified(p, alias, {column} if column else set()) for p in parts]
        return None


@dataclass(frozen=True)
class TimeRange(TablePredicate):
    """The UTC instants ``[start, end)`` a scan reads (None: that side open), as comparisons on
    each table's raw event-time column (``eventtime.time_filter``: the raw encoding kept bare)."""

    start: datetime | None = None
    end: datetime | None = None

    def covers(self, start: datetime | None, end: datetime | None) -> bool:
        return (self.start, self.end) == (start, end)


@dataclass(frozen=True)
class PartitionRange(TimeRange):
    """Rule ``partitions``: the partition predicate of a scan reading UTC ``[start, end)``, as
    comparisons on each partitioned table's bare partition column (``partitions.partition_filter``:
    never wrapped in a function, so the warehouse skips partitions)."""


def partition_range(
    flavor: SqlFlavor, tables: list[EventTableInfo], start: datetime | None, end: datetime | None
) -> PartitionRange:
    """The partition predicate of a scan of ``tables`` reading UTC ``[start, end)``."""
    per_table: list[tuple[str, tuple[exp.Expr, ...]]] = []
    for info in tables:
        spec = info.spec.partition
        if spec is not None:
            bare = exp.column(spec.column, quoted=True)
            per_table.append((str(info.ref), tuple(partition_filter(flavor, spec, bare, start, end))))
    single = per_table[0][1] if len(tables) == 1 and per_table else ()
    expression = (exp.and_(*single) if len(single) > 1 else single[0]) if single else None
    text = "partitions of the time range"
    return PartitionRange(text, expression, tables=tuple(per_table), reads="partition", start=start, end=end)


@dataclass(frozen=True)
class EventNames(TablePredicate):
    """The events a scan reads: per table, its event-name column equal to the one name or in the
    list (no comparison for any event, or a table whose constant event is one of them)."""

    names: tuple[str, ...] = ()


def time_range(
    flavor: SqlFlavor, tables: list[EventTableInfo], start: datetime | None, end: datetime | None, note: str = ""
) -> TimeRange:
    """The time predicate of a scan of ``tables`` reading UTC ``[start, end)``."""
    low = f"{start:%Y-%m-%d %H:%M:%S}" if start else "-inf"
    high = f"{end:%Y-%m-%d %H:%M:%S}" if end else "+inf"
    text = f"time in [{low}, {high}) UTC" + (f" ({note})" if note else "")
    per_table = tuple((str(t.ref), tuple(time_filter(flavor, t, None, start, end))) for t in tables)
    single = per_table[0][1] if len(per_table) == 1 else ()
    expression = (exp.and_(*single) if len(single) > 1 else single[0]) if single else None
    return TimeRange(text, expression, tables=per_table, reads="time", start=start, end=end)


def event_names(tables: list[EventTableInfo], names: list[str]) -> EventNames:
    """The event predicate of a scan of ``names`` in ``tables``."""
    wanted = tuple(dict.fromkeys(names))
    if ANY_EVENT in wanted:
        return EventNames("any event", tables=tuple((str(t.ref), ()) for t in tables), reads="name", names=wanted)
    text = "event in (" + ", ".join(repr(n) for n in wanted) + ")"
    per_table: list[tuple[str, tuple[exp.Expr, ...]]] = []
    for info in tables:
        column = info.spec.event_name
        if column is None:  # a table of one event: every row, or none
            held = info.spec.event_name_value in wanted
            per_table.append((str(info.ref), () if held else (exp.false(),)))
            continue
        bare = exp.column(column, quoted=True)
        literals = [exp.Literal.string(n) for n in wanted]
        test = exp.EQ(this=bare, expression=literals[0]) if len(literals) == 1 else bare.isin(*literals)
        per_table.append((str(info.ref), (test,)))
    single = per_table[0][1] if len(per_table) == 1 else ()
    return EventNames(text, single[0] if single else None, tables=tuple(per_table), reads="name", names=wanted)


class Part(Protocol):
    """A typed part an operator carries (``plan_events.Match``): explain's lines and data."""

    def describe(self, name: str, indent: str = "    ") -> list[str]: ...

    def to_json(self) -> dict[str, Any]: ...


class Operator:
    """An operator above a scan. ``kind`` names it in explain, ``detail`` says what it does,
    ``parts`` the typed parts lowering renders (named, for explain)."""

    @property
    def kind(self) -> str:
        return type(self).__name__

    @property
    def detail(self) -> str:  # pragma: no cover - every operator says
        raise NotImplementedError

    @property
    def parts(self) -> tuple[tuple[str, Part], ...]:
        return ()

    def describe(self) -> list[str]:
        """Explain's lines: the operator, then its parts."""
        lines = [f"  {self.kind:<14} {self.detail}"]
        return lines + [line for name, part in self.parts for line in part.describe(name)]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "detail": self.detail}
        if self.parts:
            out["parts"] = {name: part.to_json() for name, part in self.parts}
        return out


@dataclass(frozen=True)
class Spine(Operator):
    """The date spine of a rolling count: every bucket's start and the range's last day in it
    (where its window ends), generated by the warehouse where the grain steps evenly (``step``),
    else one row per bucket."""

    grain: str
    rows: tuple[tuple[datetime, datetime], ...]  # (bucket start, its last day), naive local
    last_day: datetime
    step: tuple[int, str] | None

    @property
    def detail(self) -> str:
        how = "generated" if self.step else "literal rows"
        first, last = self.rows[0][0], self.rows[-1][0]
        return (
            f"{len(self.rows)} {self.grain} buckets {first:%Y-%m-%d} .. {last:%Y-%m-%d}, each to its last day ({how})"
        )


def spine(tf: Timeframe) -> Spine:
    """The spine of ``tf``'s buckets (see :class:`Spine`)."""
    last_day = truncate(tf.end - timedelta(microseconds=1), "day", 0)
    buckets = tf.buckets
    rows: list[tuple[datetime, datetime]] = []
    for i, start in enumerate(buckets):
        following = buckets[i + 1] if i + 1 < len(buckets) else None
        end_day = truncate(following - timedelta(microseconds=1), "day", 0) if following else last_day
        rows.append((start, min(end_day, last_day)))
    return Spine(tf.grain, tuple(rows), last_day, SERIES_STEPS.get(tf.grain))


def rolling_days(tf: Timeframe, window_days: int) -> tuple[datetime, datetime]:
    """The first and last local day (naive midnights) an N-day rolling count reads: N-1 days
    before the range's first day up to the range's last day."""
    first = (tf.start - timedelta(days=window_days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    last = (tf.end - timedelta(microseconds=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return first, last


def look_back_start(tf: Timeframe, window_days: int, tz: ZoneInfo) -> datetime:
    """The UTC instant an N-day rolling count reads from: its first local day's midnight."""
    return min(tf.start_utc, to_utc(rolling_days(tf, window_days)[0], tz))


@dataclass(frozen=True)
class SharedScan:
    """Rule ``sharing``: one scan of ``table`` serves the series at ``positions`` (conditional
    aggregates, or plain ones when their filters are ``identical``), reading the hull of their
    ranges (``time``) and every one of their events (``events``)."""

    positions: tuple[int, ...]
    table: str
    identical: bool
    time: TimeRange
    events: EventNames
    partitions: PartitionRange | None = None  # the partition predicate of the hull (rule partitions pruned)

    @property
    def how(self) -> str:
        return "plain aggregates (same filters)" if self.identical else "conditional aggregates"


@dataclass(frozen=True)
class SharedReducedScan:
    """Rule ``sharing`` under top-N: one scan of ``table`` reduced per (bucket, event dimensions,
    user) for the series at ``positions``, each with its partial aggregates under its events'
    condition (``reads``: per position its events and its measured property)."""

    positions: tuple[int, ...]
    table: str
    reads: tuple[tuple[int, tuple[str, ...], str | None], ...]
    events: EventNames

    def describe(self) -> str:
        return "; ".join(
            f"c{p}: {', '.join(names)}" + (f" (of {prop})" if prop else "") for p, names, prop in self.reads
        )
