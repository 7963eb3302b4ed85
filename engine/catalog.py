"""The catalog: what the warehouse holds, discovered from it (tables, columns, events, properties).

Identifiers in generated SQL come only from here: a property a query names must be a column the
warehouse reported, so a query file cannot smuggle SQL in through a name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from segwise.adapters.base import ColumnInfo, TableRef

from .errors import CatalogError
from .files import with_hive_partition
from .observe import execute_observed
from .timeformat import EPOCH_UNITS, TimeEncoding

if TYPE_CHECKING:
    from segwise.adapters.base import Adapter, TableStats
    from segwise.adapters.filetables import FileTable

    from .project import EventTable, ProjectSpec, UserTable

EVENT_PROPERTY = "event"
USER_PROPERTY = "user"


@dataclass(frozen=True)
class ResolvedProperty:
    """A property name resolved to a column: ``source`` is ``event`` or ``user``."""

    name: str
    source: str
    column: str
    kind: str
    user_table: int | None = None  # index into project.user_tables for user properties


@dataclass
class EventTableInfo:
    spec: EventTable
    ref: TableRef
    columns: dict[str, ColumnInfo]
    encoding: TimeEncoding | None = None  # text or epoch numbers (event_time_format); None: a timestamp or date

    @property
    def time_kind(self) -> str:
        """The event time's kind as the compiler reads it: a text or epoch column parses to a
        naive UTC ``timestamp``."""
        return "timestamp" if self.encoding is not None else self.columns[self.spec.event_time].kind

    @property
    def properties(self) -> dict[str, ColumnInfo]:
        reserved = {self.spec.user_id, self.spec.event_time, self.spec.event_name}
        return {name: col for name, col in self.columns.items() if name not in reserved}


@dataclass
class UserTableInfo:
    spec: UserTable
    ref: TableRef
    columns: dict[str, ColumnInfo]

    @property
    def properties(self) -> dict[str, ColumnInfo]:
        return {name: col for name, col in self.columns.items() if name != self.spec.user_id}


@dataclass
class Catalog:
    """Tables and columns of a project's warehouse; event names are counted on first use."""

    event_tables: list[EventTableInfo]
    user_tables: list[UserTableInfo]
    adapter: Adapter | None = None
    _event_counts: list[dict[str, int]] | None = field(default=None, repr=False)
    _stats: dict[str, TableStats] = field(default_factory=dict, repr=False)
    rollup_infos: list[Any] | None = field(default=None, repr=False)  # segwise.rollups.rollups caches here
    _user_rows: int | None = field(default=None, repr=False)

    @classmethod
    def discover(cls, project: ProjectSpec, adapter: Adapter, files: dict[str, FileTable] | None = None) -> Catalog:
        events = []
        for index, spec in enumerate(project.event_tables):
            ref = TableRef.parse(spec.table)
            columns = {c.name: c for c in _columns(adapter, ref, f"{project.origin} > event_tables[{index}]")}
            where = f"{project.origin} > event_tables[{index}] ({spec.table})"
            for field_name in ("user_id", "event_time", "event_name"):
                column = getattr(spec, field_name)
                if column is not None and column not in columns:
                    raise CatalogError(
                        f"{field_name}: column {column!r} not found; the table has {_listing(columns)}",
                        where=where,
                    )
            encoding = _time_encoding(spec, columns[spec.event_time], adapter.flavor.text_time_default, where)
            if encoding is not None and not encoding.is_epoch:
                _check_sample(adapter, ref, spec, encoding, where)
            if spec.file is not None:  # a Hive date directory is the partition unless one is declared
                kinds = {n: c.kind for n, c in columns.items()}
                spec = with_hive_partition(spec, (files or {}).get(spec.table), kinds)
            if spec.partition is not None:
                _check_partition(spec, columns, where)
            events.append(EventTableInfo(spec, ref, columns, encoding))
        users = []
        for index, user_spec in enumerate(project.user_tables):
            ref = TableRef.parse(user_spec.table)
            columns = {c.name: c for c in _columns(adapter, ref, f"{project.origin} > user_tables[{index}]")}
            if user_spec.user_id not in columns:
                raise CatalogError(
                    f"user_id: column {user_spec.user_id!r} not found; the table has {_listing(columns)}",
                    where=f"{project.origin} > user_tables[{index}] ({user_spec.table})",
                )
            users.append(UserTableInfo(user_spec, ref, columns))
        return cls(events, users, adapter)

    # -- events ------------------------------------------------------------------------------------

    def event_counts(self) -> list[dict[str, int]]:
        """Per event table: event name -> number of rows (one grouped scan per table, cached)."""
        if self._event_counts is None:
            counts: list[dict[str, int]] = []
            for info in self.event_tables:
                if info.spec.event_name_value is not None:
                    counts.append({info.spec.event_name_value: self._count_rows(info)})
                    continue
                assert self.adapter is not None and info.spec.event_name is not None
                name = exp.column(info.spec.event_name, quoted=True)
                query = (
                    exp.select(name.as_("name"), exp.Count(this=exp.Star()).as_("n"))
                    .from_(info.ref.expression())
                    .group_by(name)
                )
                table = execute_observed(
                    self.adapter, self.adapter.flavor.render(query), expression=query, tables=[info.ref]
                )
                counts.append(
                    {
                        str(k): int(v)
                        for k, v in zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True)
                        if k is not None
                    }
                )
            self._event_counts = counts
        return self._event_counts

    def stats(self, info: EventTableInfo) -> TableStats:
        """Row count and time range of an event table (from the adapter; cached). A text or
        epoch event time is read through its parsed expression."""
        key = str(info.ref)
        if key not in self._stats:
            assert self.adapter is not None
            time_expr = None
            if info.encoding is not None:
                time_expr = self.adapter.flavor.event_time(exp.column(info.spec.event_time, quoted=True), info.encoding)
            try:
                self._stats[key] = self.adapter.table_stats(info.ref, info.spec.event_time, time_expr)
            except ValueError as error:  # a raw value the adapter cannot read as a time
                raise CatalogError(
                    f"event_time: cannot read the time span of {info.spec.event_time!r} ({error}); "
                    "check event_time_format",
                    where=f"event table {info.spec.table}",
                ) from None
        return self._stats[key]

    def user_rows(self) -> int:
        """Rows of the user tables (an upper bound on distinct users; cached)."""
        if self._user_rows is None:
            assert self.adapter is not None
            total = 0
            for info in self.user_tables:
                query = exp.select(exp.Count(this=exp.Star())).from_(info.ref.expression())
                table = execute_observed(
                    self.adapter, self.adapter.flavor.render(query), expression=query, tables=[info.ref]
                )
                total = max(total, int(table.column(0)[0].as_py()))
            self._user_rows = total
        return self._user_rows

    def _count_rows(self, info: EventTableInfo) -> int:
        assert self.adapter is not None
        query = exp.select(exp.Count(this=exp.Star())).from_(info.ref.expression())
        table = execute_observed(self.adapter, self.adapter.flavor.render(query), expression=query, tables=[info.ref])
        return int(table.column(0)[0].as_py())

    def event_names(self) -> dict[str, int]:
        merged: dict[str, int] = {}
        for table_counts in self.event_counts():
            for name, count in table_counts.items():
                merged[name] = merged.get(name, 0) + count
        return dict(sorted(merged.items()))

    def tables_with_event(self, event: str) -> list[int]:
        """Indexes of the event tables holding ``event`` ("any": every table)."""
        counts = self.event_counts()
        if event == "any":
            return list(range(len(self.event_tables)))
        return [i for i, table_counts in enumerate(counts) if event in table_counts]

    def check_event(self, event: str, where: str) -> None:
        if event == "any" or self.tables_with_event(event):
            return
        names = list(self.event_names())
        raise CatalogError(f"unknown event {event!r}{_suggest(event, names)}", where=where)

    # -- properties --------------------------------------------------------------------------------

    def event_properties(self) -> dict[str, ColumnInfo]:
        merged: dict[str, ColumnInfo] = {}
        for info in self.event_tables:
            for name, col in info.properties.items():
                merged.setdefault(name, col)
        return merged

    def user_properties(self) -> dict[str, tuple[int, ColumnInfo]]:
        merged: dict[str, tuple[int, ColumnInfo]] = {}
        for index, info in enumerate(self.user_tables):
            for name, col in info.properties.items():
                merged.setdefault(name, (index, col))
        return merged

    def resolve(self, name: str, where: str) -> ResolvedProperty:
        """Find a property: event columns first, then user tables; ``event.x``/``user.x`` pick one."""
        prefix, dot, rest = name.partition(".")
        event_props = self.event_properties()
        user_props = self.user_properties()
        if dot and prefix in (EVENT_PROPERTY, USER_PROPERTY) and name not in event_props:
            if prefix == EVENT_PROPERTY and rest in event_props:
                return ResolvedProperty(name, EVENT_PROPERTY, rest, event_props[rest].kind)
            if prefix == USER_PROPERTY and rest in user_props:
                index, col = user_props[rest]
                return ResolvedProperty(name, USER_PROPERTY, rest, col.kind, index)
        elif name in event_props:
            return ResolvedProperty(name, EVENT_PROPERTY, name, event_props[name].kind)
        elif name in user_props:
            index, col = user_props[name]
            return ResolvedProperty(name, USER_PROPERTY, name, col.kind, index)
        known = list(event_props) + [f"user.{n}" if n in event_props else n for n in user_props]
        raise CatalogError(f"unknown property {name!r}{_suggest(name, known)}", where=where)


_PARTITION_KINDS = {
    "date": ("date",),
    "timestamp": ("timestamp", "timestamptz"),
    "int": ("integer",),
    "string": ("string",),
}


def _check_partition(spec: EventTable, columns: dict[str, ColumnInfo], where: str) -> None:
    partition = spec.partition
    assert partition is not None
    if partition.column not in columns:
        raise CatalogError(
            f"partition: column {partition.column!r} not found; the table has {_listing(columns)}", where=where
        )
    kind = columns[partition.column].kind
    expected = _PARTITION_KINDS[partition.format.partition(":")[0]]
    if kind not in expected and kind != "other":
        raise CatalogError(
            f"partition: column {partition.column!r} is {columns[partition.column].raw_type}, which does not "
            f"match format {partition.format!r}",
            where=where,
        )


def _columns(adapter: Adapter, ref: TableRef, where: str) -> list[ColumnInfo]:
    try:
        return adapter.columns(ref)
    except CatalogError as exc:
        raise CatalogError(exc.message, where=f"{where} ({ref})") from None


def _time_encoding(spec: EventTable, column: ColumnInfo, text_default: str | None, where: str) -> TimeEncoding | None:
    """The event time's encoding: None for a timestamp or date column (any declared format is
    ignored), the declared (or the dialect's default) text format, or an epoch unit for numbers."""
    if column.kind in ("timestamp", "timestamptz", "date"):
        return None
    declared = spec.event_time_format
    if column.kind == "string":
        fmt = declared or text_default
        if fmt is None:
            raise CatalogError(
                f"event_time: column {spec.event_time!r} is {column.raw_type}, not a timestamp; say how it encodes "
                "the time with event_time_format: iso, or a strftime pattern like '%Y-%m-%d %H:%M:%S'",
                where=where,
            )
        if fmt in EPOCH_UNITS:
            raise CatalogError(
                f"event_time_format: {fmt} is for numbers, but {spec.event_time!r} is {column.raw_type} "
                "(text: use iso or a strftime pattern)",
                where=where,
            )
        return TimeEncoding(fmt)
    if column.kind in ("integer", "float"):
        if declared is None or declared not in EPOCH_UNITS:
            got = f"event_time_format: {declared!r} is for text" if declared else "no event_time_format is given"
            raise CatalogError(
                f"event_time: column {spec.event_time!r} is {column.raw_type} (a number) and {got}; "
                "give event_time_format: epoch_s, epoch_ms or epoch_us",
                where=where,
            )
        return TimeEncoding(declared)
    raise CatalogError(
        f"event_time: column {spec.event_time!r} is {column.raw_type}, not a timestamp, text or number", where=where
    )


def _check_sample(adapter: Adapter, ref: TableRef, spec: EventTable, encoding: TimeEncoding, where: str) -> None:
    """Read one value of a text event time and parse it in Python: a format that does not fit the
    data is a project error naming the value, not a warehouse error (or nulls) later."""
    column = exp.column(spec.event_time, quoted=True)
    present = exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null()))
    query = exp.select(column).from_(ref.expression()).where(present).limit(1)
    rows = execute_observed(adapter, adapter.flavor.render(query), expression=query, tables=[ref]).to_pylist()
    if not rows:
        return
    value = next(iter(rows[0].values()))
    try:
        encoding.decode(value)
    except ValueError:
        raise CatalogError(
            f"event_time_format: {encoding.format!r} does not read {spec.event_time!r}'s value {value!r}",
            where=where,
            hint="give the strftime pattern the column holds (like '%Y-%m-%d %H:%M:%S'), or iso",
        ) from None


def _listing(columns: dict[str, ColumnInfo]) -> str:
    return ", ".join(repr(c) for c in columns)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3)
    if close:
        return f"; did you mean {', '.join(repr(c) for c in close)}?"
    shown = ", ".join(repr(k) for k in known[:20])
    more = f" (and {len(known) - 20} more)" if len(known) > 20 else ""
    return f"; known: {shown}{more}" if known else ""
