"""A reference implementation of segmentation queries, row by row in plain Python.

The oracle answers the same questions as the engine, independently: no SQL, no DuckDB, nothing
imported from ``segwise``. It is written to be obviously correct rather than fast, and the shared
suite compares the engine's answers to it.

    >>> from datetime import datetime
    >>> events = [{"user_id": "a", "event_time": datetime(2025, 1, 1, 10), "event_name": "view"}]
    >>> rows = oracle({"series": [{"event": "view"}],
    ...                "date_range": {"from": "2025-01-01", "to": "2025-01-02"}}, events, None)
    >>> [(r["bucket"].isoformat(), r["series"], r["value"]) for r in rows]
    [('2025-01-01T00:00:00+00:00', 'A', 1)]

Semantics (see DESIGN.md and ``docs/queries.md``): timestamps are converted to the project's time
zone and the range ``[from, to)`` and the buckets are computed on naive local time; property names
resolve to event columns first, then user columns; conditions follow SQL null semantics; count
measures fill empty buckets with 0, the others with null; ``breakdown_limit`` keeps the top N
groups of the first series over the whole range and relabels every other group ``Other``.

The pieces: ``oracle_time.py`` (ranges and buckets), ``oracle_conditions.py`` (properties,
conditions, breakdown text), ``oracle_measures.py`` (measures and formulas); this module merges
several event tables, decides segments and periods and shapes the rows.
"""

from __future__ import annotations

import re
import string
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from tests.oracle_cohorts import Behaviour, group_sort_key
from tests.oracle_conditions import (
    Resolver,
    Row,
    breakdown_text,
    series_matches,
)
from tests.oracle_measures import (
    aggregate,
    evaluate_formula,
    formula_labels,
    is_count,
    parse_measure,
    per_user_values,
    query_formulas,
    ranks_by_users,
)
from tests.oracle_time import aware, bucket_list, date_range, instant, minus_months, next_bucket, to_local, truncate

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
OTHER = "Other"
ONE_MICROSECOND = timedelta(microseconds=1)


# ---------------------------------------------------------------------------------------------
# several event tables


CANONICAL = {"user_id_col": "__user_id", "event_time_col": "__event_time", "event_name_col": "__event_name"}


def merge_event_tables(tables: list[tuple[dict[str, Any], list[dict[str, Any]] | pa.Table]]) -> list[dict[str, Any]]:
    """Rows of several event tables as one list with the canonical columns of ``CANONICAL``.

    Each table is ``(spec, rows)`` with the project's ``user_id``, ``event_time`` and either
    ``event_name`` (a column) or ``event_name_value`` (every row is that event). The other columns
    are properties; a property a table lacks is simply absent (null) in its rows.
    """
    merged = []
    for spec, data in tables:
        rows, _ = _rows(data)
        reserved = {spec.get("user_id", "user_id"), spec.get("event_time", "event_time"), spec.get("event_name")}
        for row in rows:
            out = {k: v for k, v in row.items() if k not in reserved}
            out["__user_id"] = row[spec.get("user_id", "user_id")]
            out["__event_time"] = row[spec.get("event_time", "event_time")]
            out["__event_name"] = row[spec["event_name"]] if spec.get("event_name") else spec["event_name_value"]
            merged.append(out)
    return merged


def oracle_tables(
    query: dict[str, Any],
    tables: list[tuple[dict[str, Any], list[dict[str, Any]] | pa.Table]],
    users: list[dict[str, Any]] | pa.Table | None,
    **options: Any,
) -> list[dict[str, Any]]:
    """``oracle`` for a project with several event tables (see ``merge_event_tables``)."""
    return oracle(query, merge_event_tables(tables), users, **CANONICAL, **options)


# ---------------------------------------------------------------------------------------------
# the oracle


def _rows(data: list[dict[str, Any]] | pa.Table | None) -> tuple[list[dict[str, Any]], set[str]]:
    if data is None:
        return [], set()
    if isinstance(data, pa.Table):
        return data.to_pylist(), set(data.column_names)
    columns: set[str] = set()
    for row in data:
        columns.update(row)
    return list(data), columns


def _group_key(group: tuple[str | None, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, "" if v is None else v) for v in group)


def _label(index: int) -> str:
    letters = string.ascii_uppercase
    return letters[index] if index < 26 else letters[index // 26 - 1] + letters[index % 26]


class Period:
    """A range ``[start, end)`` (naive local) with its buckets."""

    def __init__(self, start: datetime, end: datetime, grain: str, week_start: int, tz: ZoneInfo) -> None:
        self.start = start
        self.end = end
        self.grain = grain
        self.week_start = week_start
        self.buckets = bucket_list(start, end, grain, week_start, tz)
        self.index = {b: i for i, b in enumerate(self.buckets)}
        self.last_day = (end - ONE_MICROSECOND).date()

    def contains(self, row: Row) -> bool:
        return self.start <= row.local < self.end

    def bucket_index(self, row: Row) -> int:
        if self.grain == "total":
            return 0
        return self.index[truncate(row.local, self.grain, self.week_start)]

    def window_end(self, i: int) -> date:
        """The last day of bucket ``i``'s rolling window (clipped to the range's last day)."""
        if self.grain == "total":
            return self.last_day
        bucket = self.buckets[i]
        bucket_end = self.buckets[i + 1] if i + 1 < len(self.buckets) else next_bucket(bucket, self.grain)
        return min((bucket_end - ONE_MICROSECOND).date(), self.last_day)


def previous_start(spec: dict[str, Any], start: datetime, end: datetime) -> datetime:
    """Where the previous period starts: N units before ``start`` for ``last``, else start - (end - start)."""
    if "last" in spec:
        match = re.fullmatch(r"\s*(\d+)\s*([hdwmqy])\s*", str(spec["last"]), re.IGNORECASE)
        assert match is not None
        amount, unit = int(match.group(1)), match.group(2).lower()
        if unit in "hdw":
            return start - timedelta(**{{"h": "hours", "d": "days", "w": "weeks"}[unit]: amount})
        return minus_months(start, amount * {"m": 1, "q": 3, "y": 12}[unit])
    return start - (end - start)


def segment_test(
    segment: dict[str, Any],
    rows: list[Row],
    resolver: Resolver,
    users_by_id: dict[Any, dict[str, Any]],
    tz: ZoneInfo,
    now: datetime | None,
    cohorts: dict[str, Any] | None = None,
) -> Any:
    """A function user id -> whether the user is in the segment (a null id never is); the
    behavioural segments, cohorts and categories are in ``tests/oracle_cohorts.py``."""
    return Behaviour(rows, resolver, users_by_id, tz, now, cohorts).segment(segment)


def oracle(
    query: dict[str, Any],
    events: list[dict[str, Any]] | pa.Table,
    users: list[dict[str, Any]] | pa.Table | None,
    *,
    event_name_col: str = "event_name",
    user_id_col: str = "user_id",
    event_time_col: str = "event_time",
    users_user_id_col: str = "user_id",
    timezone: str = "UTC",
    week_start: str = "monday",
    now: datetime | None = None,
    cohorts: dict[str, Any] | None = None,
    categories: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The rows the engine must return for ``query``, in order (see the module docstring);
    ``cohorts`` and ``categories`` are the project's."""
    tz = ZoneInfo(timezone)
    ws = WEEKDAYS.index(week_start.lower())
    event_rows, event_columns = _rows(events)
    user_rows, user_columns = _rows(users)
    reserved = {event_name_col, user_id_col, event_time_col}
    resolver = Resolver(event_columns - reserved, user_columns - {users_user_id_col})
    users_by_id = {u[users_user_id_col]: u for u in user_rows}

    range_spec = query.get("date_range", {"last": "30d"})
    start, end = date_range(range_spec, tz, now)
    grain = str(query.get("time_grain", "day")).lower()
    current = Period(start, end, grain, ws, tz)
    n_buckets = len(current.buckets)
    previous = None
    if query.get("compare") == "previous_period":
        previous = Period(previous_start(range_spec, start, end), start, grain, ws, tz)

    breakdown = query.get("breakdown") or []
    if isinstance(breakdown, str):
        breakdown = [breakdown]
    limit = query.get("breakdown_limit")

    series_list = query["series"]
    labels = [s.get("label") or _label(i) for i, s in enumerate(series_list)]
    measures = [parse_measure(s.get("measure", "events")) for s in series_list]
    formulas = query_formulas(query)
    integer = all(is_count(m) for m in measures) and not formulas
    frequency = any(m[0] == "frequency" for m in measures)
    if frequency and (len(series_list) > 1 or formulas or previous is not None):
        raise ValueError("oracle: frequency is alone in its query")

    rows = [
        Row(
            event,
            to_local(event[event_time_col], tz),
            users_by_id.get(event[user_id_col]),
            event[event_name_col],
            event[user_id_col],
        )
        for event in event_rows
    ]

    segment = query.get("segment")
    in_segment = segment_test(segment, rows, resolver, users_by_id, tz, now, cohorts) if segment else None
    split = in_segment is not None and "segment" in breakdown  # a breakdown instead of a restriction
    defined = {**(categories or {}), **query.get("categories", {})}
    behaviour = Behaviour(rows, resolver, users_by_id, tz, now, cohorts)
    category_of = {name: behaviour.category(defined[name]) for name in breakdown if name in defined}
    group_key = group_sort_key([defined.get(name) for name in breakdown])

    def group_of(row: Row) -> tuple[str | None, ...]:
        parts: list[str | None] = []
        for name in breakdown:
            if name == "event":
                parts.append(row.name)
            elif name == "segment" and split:
                parts.append("in" if in_segment(row.user_id) else "not in")
            elif name in category_of:
                parts.append(category_of[name](row.user_id))
            else:
                parts.append(breakdown_text(resolver.value(name, row)))
        return tuple(parts)

    # Every matching row of each series, at any time (segment restriction applied).
    matched = []
    for s in series_list:
        hits = [r for r in rows if series_matches(s, r, resolver)]
        if in_segment is not None and not split:
            hits = [r for r in hits if in_segment(r.user_id)]
        matched.append(hits)

    def counting_rows(index: int, period: Period) -> list[Row]:
        """The series' rows that count for ``period``: in range (rolling: also before it)."""
        series = series_list[index]
        occurrence = series.get("occurrence")
        if occurrence is None:
            if measures[index][0] == "rolling":
                return [r for r in matched[index] if r.local < period.end]
            return [r for r in matched[index] if period.contains(r)]
        candidates = [r for r in matched[index] if r.user_id is not None]
        if series.get("occurrence_scope", "ever") == "range":
            candidates = [r for r in candidates if period.contains(r)]
        extreme: dict[Any, datetime] = {}
        pick = min if occurrence == "first" else max
        for r in candidates:
            moment = instant(r.event[event_time_col])
            extreme[r.user_id] = pick(extreme.get(r.user_id, moment), moment)
        kept = [r for r in candidates if instant(r.event[event_time_col]) == extreme[r.user_id]]
        return [r for r in kept if period.contains(r)]

    # breakdown_limit: rank the first series' groups over the current range.
    keep: set[tuple[str | None, ...]] | None = None
    if breakdown and limit is not None:
        by_group: dict[tuple[str | None, ...], list[Row]] = {}
        for r in counting_rows(0, current):
            if current.contains(r):
                by_group.setdefault(group_of(r), []).append(r)
        rank_measure = ("unique_users", None) if ranks_by_users(measures[0]) else measures[0]
        scored = [(aggregate(rank_measure, rs, resolver), g) for g, rs in by_group.items()]
        scored.sort(key=lambda item: _group_key(item[1]))
        scored.sort(key=lambda item: (item[0] is None, -(item[0] or 0)))
        keep = {g for _, g in scored[:limit]}

    def final_group(row: Row) -> tuple[str | None, ...]:
        group = group_of(row)
        if keep is not None and group not in keep:
            return (OTHER,) * len(breakdown)
        return group

    def series_cells(index: int, period: Period) -> dict[tuple[str | None, ...], Any]:
        """group -> one value per *current* bucket (the period's i-th bucket at position i; extra
        buckets of a longer previous period dropped, missing ones filled); for frequency,
        group -> {(position, times): users}. Only groups with something in a kept bucket."""
        measure = measures[index]
        fill = 0 if is_count(measure) else None
        positions = range(min(len(period.buckets), n_buckets))
        grouped: dict[tuple[str | None, ...], list[Row]] = {}
        for r in counting_rows(index, period):
            grouped.setdefault(final_group(r), []).append(r)
        out: dict[tuple[str | None, ...], Any] = {}
        for group, group_rows in grouped.items():
            if measure[0] == "rolling":
                cells = []
                for i in positions:
                    last = period.window_end(i)
                    first = last - timedelta(days=measure[1] - 1)
                    cells.append(
                        len({r.user_id for r in group_rows if first <= r.day <= last and r.user_id is not None})
                    )
                # a rolling group shows when one of its users is active in some bucket's window
                if any(cells):
                    out[group] = cells + [0] * (n_buckets - len(cells))
                continue
            per_bucket: dict[int, list[Row]] = {}
            for r in group_rows:
                i = period.bucket_index(r)
                if i < n_buckets:
                    per_bucket.setdefault(i, []).append(r)
            if measure[0] in ("per_user", "frequency"):
                # null user ids are nobody: they make no per-user value (nor a group)
                per_bucket = {i: [r for r in rs if r.user_id is not None] for i, rs in per_bucket.items()}
                per_bucket = {i: rs for i, rs in per_bucket.items() if rs}
            if not per_bucket:
                continue
            if measure[0] == "frequency":
                counts: dict[tuple[int, int], int] = {}
                for i, rs in per_bucket.items():
                    for times in per_user_values(None, rs, resolver).values():
                        key = (i, int(times))
                        counts[key] = counts.get(key, 0) + 1
                out[group] = counts
                continue
            out[group] = [
                aggregate(measure, per_bucket[i], resolver) if i in per_bucket else fill for i in range(n_buckets)
            ]
        if not breakdown and measure[0] != "frequency":
            out.setdefault((), [fill] * n_buckets)
        return out

    entries: list[tuple[str, tuple[str | None, ...], int, int | None, Any]] = []

    def add(label: str, cells: dict[tuple[str | None, ...], Any]) -> None:
        for group, values in cells.items():
            if isinstance(values, dict):
                entries.extend((label, group, i, times, users) for (i, times), users in values.items())
            else:
                entries.extend((label, group, i, None, value) for i, value in enumerate(values))

    current_cells = {}
    for index, label in enumerate(labels):
        current_cells[label] = series_cells(index, current)
        add(label, current_cells[label])
    if previous is not None:
        for index, label in enumerate(labels):
            add(f"{label} (previous)", series_cells(index, previous))
    fill_of = {label: (0 if is_count(m) else None) for label, m in zip(labels, measures, strict=True)}
    for formula_label, expression in formulas:
        used = formula_labels(expression)
        groups = {g for label in used for g in current_cells[label]} if breakdown else {()}
        for group in groups:
            for i in range(n_buckets):
                operands = {
                    label: current_cells[label][group][i] if group in current_cells[label] else fill_of[label]
                    for label in used
                }
                entries.append((formula_label, group, i, None, evaluate_formula(expression, operands)))

    entries.sort(key=lambda e: (e[0], group_key(e[1]), e[2], e[3] or 0))
    out: list[dict[str, Any]] = []
    for label, group, i, times, value in entries:
        row: dict[str, Any] = {"bucket": aware(current.buckets[i], tz)}
        for name, text in zip(breakdown, group, strict=True):
            row[name] = text
        if frequency:
            row["frequency"] = times
        row["series"] = label
        if value is not None:
            value = int(value) if integer else float(value)
        row["value"] = value
        out.append(row)
    return out
