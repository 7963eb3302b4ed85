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
"""

from __future__ import annotations

import calendar
import math
import re
import string
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ROLLING_ALIASES = {"dau": 1, "wau": 7, "mau": 30}
OTHER = "Other"
ONE_MICROSECOND = timedelta(microseconds=1)


# ---------------------------------------------------------------------------------------------
# time


def to_local(value: datetime, tz: ZoneInfo) -> datetime:
    """An event timestamp (naive means UTC) as naive local time in ``tz``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz).replace(tzinfo=None)


def _bound(value: Any) -> datetime:
    """A date_range bound as naive local time: dates mean midnight."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if ("T" in value or " " in value) else date.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("the oracle takes naive (local) datetimes in absolute ranges")
        return value
    return datetime(value.year, value.month, value.day)


def minus_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved back ``months`` calendar months, the day clamped to the month's end."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def date_range(spec: dict[str, Any], tz: ZoneInfo, now: datetime | None) -> tuple[datetime, datetime]:
    """``(from, to)`` as naive local datetimes."""
    if "last" in spec:
        match = re.fullmatch(r"\s*(\d+)\s*([hdwmqy])\s*", str(spec["last"]), re.IGNORECASE)
        if match is None:
            raise ValueError(f"bad relative range {spec['last']!r}")
        amount, unit = int(match.group(1)), match.group(2).lower()
        if now is None:
            now = datetime.now(UTC)
        end = now.astimezone(tz).replace(tzinfo=None) if now.tzinfo is not None else now
        if unit == "h":
            start = end - timedelta(hours=amount)
        elif unit == "d":
            start = end - timedelta(days=amount)
        elif unit == "w":
            start = end - timedelta(weeks=amount)
        else:
            start = minus_months(end, amount * {"m": 1, "q": 3, "y": 12}[unit])
        return start, end
    return _bound(spec["from"]), _bound(spec["to"])


def truncate(moment: datetime, grain: str, week_start: int) -> datetime:
    """The start of the ``grain`` bucket holding the naive local ``moment``."""
    if grain == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    midnight = datetime(moment.year, moment.month, moment.day)
    if grain == "day":
        return midnight
    if grain == "week":
        return midnight - timedelta(days=(moment.weekday() - week_start) % 7)
    if grain == "month":
        return datetime(moment.year, moment.month, 1)
    if grain == "quarter":
        return datetime(moment.year, (moment.month - 1) // 3 * 3 + 1, 1)
    if grain == "year":
        return datetime(moment.year, 1, 1)
    raise ValueError(f"unknown grain {grain!r}")


def next_bucket(start: datetime, grain: str) -> datetime:
    if grain == "hour":
        return start + timedelta(hours=1)
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    index = start.year * 12 + (start.month - 1) + months
    return start.replace(year=index // 12, month=index % 12 + 1)


def exists(local: datetime, tz: ZoneInfo) -> bool:
    """Whether a naive local time happens at all (it does not inside a daylight-saving gap)."""
    return local.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def bucket_list(start: datetime, end: datetime, grain: str, week_start: int, tz: ZoneInfo) -> list[datetime]:
    """Bucket starts from truncate(from), one grain at a time, while before ``to``.

    A bucket that no real time falls in (an hour wholly inside a daylight-saving gap) is left out:
    checked minute by minute, since gaps are whole minutes.
    """
    if grain == "total":
        return [start]
    buckets = []
    bucket = truncate(start, grain, week_start)
    while bucket < end:
        following = next_bucket(bucket, grain)
        minutes = (bucket + timedelta(minutes=m) for m in range(int((following - bucket).total_seconds()) // 60))
        if exists(bucket, tz) or any(exists(m, tz) for m in minutes):
            buckets.append(bucket)
        bucket = following
    return buckets


def aware(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive local time made aware with fold=0: an ambiguous time takes the earlier instant, a
    time inside a gap the offset before the jump (so a day starting in a gap starts when the gap ends).
    """
    if tz.key == "UTC":
        return local.replace(tzinfo=UTC)
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)  # normalized wall time


# ---------------------------------------------------------------------------------------------
# properties and conditions


class Row:
    """One event with what the oracle derives from it."""

    __slots__ = ("day", "event", "local", "name", "user", "user_id")

    def __init__(
        self, event: dict[str, Any], local: datetime, user: dict[str, Any] | None, name: str, user_id: Any
    ) -> None:
        self.event = event
        self.local = local
        self.day = local.date()
        self.user = user
        self.name = name
        self.user_id = user_id


class Resolver:
    """Property lookup: event columns first, then user columns; ``event.x`` / ``user.x`` force one."""

    def __init__(self, event_columns: set[str], user_columns: set[str]) -> None:
        self.event_columns = event_columns
        self.user_columns = user_columns

    def source(self, name: str) -> tuple[str, str]:
        prefix, dot, rest = name.partition(".")
        if name in self.event_columns:
            return "event", name
        if dot and prefix == "event" and rest in self.event_columns:
            return "event", rest
        if dot and prefix == "user" and rest in self.user_columns:
            return "user", rest
        if name in self.user_columns:
            return "user", name
        raise KeyError(f"oracle: unknown property {name!r}")

    def value(self, name: str, row: Row) -> Any:
        where, column = self.source(name)
        if where == "event":
            return row.event.get(column)
        return None if row.user is None else row.user.get(column)


def _coerce(operand: Any, like: Any) -> Any:
    """Make a condition operand comparable with a property value of the same kind."""
    if isinstance(like, bool):
        if not isinstance(operand, bool):
            raise TypeError(f"oracle: cannot compare boolean with {operand!r}")
        return operand
    if isinstance(like, (int, float)):
        if isinstance(operand, bool) or not isinstance(operand, (int, float)):
            raise TypeError(f"oracle: cannot compare number with {operand!r}")
        return operand
    if isinstance(like, str):
        if not isinstance(operand, str):
            raise TypeError(f"oracle: cannot compare text with {operand!r}")
        return operand
    if isinstance(like, datetime):
        if isinstance(operand, str):
            operand = datetime.fromisoformat(operand)
        elif not isinstance(operand, datetime) and isinstance(operand, date):
            operand = datetime(operand.year, operand.month, operand.day)
        return operand
    if isinstance(like, date):
        if isinstance(operand, str):
            operand = date.fromisoformat(operand)
        elif isinstance(operand, datetime):
            raise TypeError("oracle: compare a date property with a date")
        return operand
    raise TypeError(f"oracle: unsupported property value {like!r}")


def condition_holds(cond: dict[str, Any], value: Any) -> bool:
    """One condition on a property value, with SQL null semantics."""
    op = cond["op"]
    if op == "is_null":
        return value is None
    if op == "is_not_null":
        return value is not None
    if value is None:
        return False  # a null matches no operator but is_null
    if op in ("in", "not_in"):
        operands = [_coerce(v, value) for v in cond["values"]]
        inside = any(value == v for v in operands)
        return inside if op == "in" else not inside
    if op == "between":
        low, high = (_coerce(v, value) for v in cond["values"])
        return low <= value <= high
    operand = _coerce(cond["value"], value)
    if op == "eq":
        return value == operand
    if op == "neq":
        return value != operand
    if op == "gt":
        return value > operand
    if op == "gte":
        return value >= operand
    if op == "lt":
        return value < operand
    if op == "lte":
        return value <= operand
    if not isinstance(value, str):
        raise TypeError(f"oracle: {op} needs a text property, got {value!r}")
    if op == "contains":
        return operand in value
    if op == "not_contains":
        return operand not in value
    if op == "starts_with":
        return value.startswith(operand)
    raise ValueError(f"oracle: unknown operator {op!r}")


def _conditions(where: Any) -> list[dict[str, Any]]:
    if where is None:
        return []
    return [where] if isinstance(where, dict) else list(where)


def all_hold(where: Any, row: Row, resolver: Resolver) -> bool:
    return all(condition_holds(c, resolver.value(c["property"], row)) for c in _conditions(where))


def series_matches(series: dict[str, Any], row: Row, resolver: Resolver) -> bool:
    event = series["event"]
    if isinstance(event, dict):
        members = [{"event": m} if isinstance(m, str) else m for m in event["any_of"]]
    else:
        members = [{"event": event}]
    hit = any(
        (m["event"] == "any" or m["event"] == row.name) and all_hold(m.get("where"), row, resolver) for m in members
    )
    return hit and all_hold(series.get("where"), row, resolver)


def breakdown_text(value: Any) -> str | None:
    """A breakdown value as the engine prints it (DuckDB's cast to text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"oracle: cannot print breakdown value {value!r}")


# ---------------------------------------------------------------------------------------------
# measures


def parse_measure(text: str) -> tuple[str, Any]:
    """``(kind, argument)``: ('events', None), ('sum', 'price'), ('pct', (0.9, 'price')), ('rolling', 7)."""
    name, _, arg = text.strip().partition(":")
    name = name.strip().lower()
    arg = arg.strip()
    if name in ("events", "unique_users", "events_per_user"):
        return name, None
    if name in ROLLING_ALIASES:
        return "rolling", ROLLING_ALIASES[name]
    if name == "active_users":
        return "rolling", int(arg.lower().removesuffix("d"))
    if name in ("sum", "avg", "min", "max"):
        return name, arg
    if name == "median":
        return "pct", (0.5, arg)
    if re.fullmatch(r"p\d{1,2}", name):
        return "pct", (int(name[1:]) / 100, arg)
    raise ValueError(f"oracle: unknown measure {text!r}")


def is_count(measure: tuple[str, Any]) -> bool:
    return measure[0] in ("events", "unique_users", "rolling")


def percentile_cont(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def aggregate(measure: tuple[str, Any], rows: list[Row], resolver: Resolver) -> int | float | None:
    """A non-rolling measure over ``rows`` (rolling measures: distinct users, for ranking)."""
    kind, arg = measure
    users = {r.user_id for r in rows if r.user_id is not None}
    if kind == "events":
        return len(rows)
    if kind in ("unique_users", "rolling"):
        return len(users)
    if kind == "events_per_user":
        return len(rows) / len(users) if users else None
    prop = arg[1] if kind == "pct" else arg
    values = [float(v) for v in (resolver.value(prop, r) for r in rows) if v is not None]
    if not values:
        return None
    if kind == "sum":
        return math.fsum(values)
    if kind == "avg":
        return math.fsum(values) / len(values)
    if kind == "min":
        return min(values)
    if kind == "max":
        return max(values)
    if kind == "pct":
        return percentile_cont(values, arg[0])
    raise ValueError(f"oracle: unknown measure kind {kind!r}")


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
) -> list[dict[str, Any]]:
    """The rows the engine must return for ``query``, in order (see the module docstring)."""
    tz = ZoneInfo(timezone)
    ws = WEEKDAYS.index(week_start.lower())
    event_rows, event_columns = _rows(events)
    user_rows, user_columns = _rows(users)
    reserved = {event_name_col, user_id_col, event_time_col}
    resolver = Resolver(event_columns - reserved, user_columns - {users_user_id_col})
    users_by_id = {u[users_user_id_col]: u for u in user_rows}

    start, end = date_range(query.get("date_range", {"last": "30d"}), tz, now)
    grain = str(query.get("time_grain", "day")).lower()
    buckets = bucket_list(start, end, grain, ws, tz)
    last_range_day = (end - ONE_MICROSECOND).date()

    breakdown = query.get("breakdown") or []
    if isinstance(breakdown, str):
        breakdown = [breakdown]
    limit = query.get("breakdown_limit")

    series_list = query["series"]
    labels = [s.get("label") or _label(i) for i, s in enumerate(series_list)]
    measures = [parse_measure(s.get("measure", "events")) for s in series_list]
    integer = all(is_count(m) for m in measures)

    rows = []
    for event in event_rows:
        local = to_local(event[event_time_col], tz)
        if local >= end:
            continue  # nothing on or after `to` ever counts
        uid = event[user_id_col]
        rows.append(Row(event, local, users_by_id.get(uid), event[event_name_col], uid))

    def group_of(row: Row) -> tuple[str | None, ...]:
        return tuple(row.name if name == "event" else breakdown_text(resolver.value(name, row)) for name in breakdown)

    # Matching rows of each series (all before `to`; rolling measures may look before `from`).
    matched = [[r for r in rows if series_matches(s, r, resolver)] for s in series_list]

    # breakdown_limit: rank the first series' groups over the whole range.
    keep: set[tuple[str | None, ...]] | None = None
    if breakdown and limit is not None:
        by_group: dict[tuple[str | None, ...], list[Row]] = {}
        for r in matched[0]:
            if r.local >= start:
                by_group.setdefault(group_of(r), []).append(r)
        scored = [(aggregate(measures[0], rs, resolver), g) for g, rs in by_group.items()]
        scored.sort(key=lambda item: _group_key(item[1]))
        scored.sort(key=lambda item: (item[0] is None, -(item[0] or 0)))
        keep = {g for _, g in scored[:limit]}

    def final_group(row: Row) -> tuple[str | None, ...]:
        group = group_of(row)
        if keep is not None and group not in keep:
            return (OTHER,) * len(breakdown)
        return group

    out: list[dict[str, Any]] = []
    for index in sorted(range(len(series_list)), key=lambda i: labels[i]):
        measure = measures[index]
        fill = 0 if is_count(measure) else None
        grouped: dict[tuple[str | None, ...], list[Row]] = {}
        for r in matched[index]:
            grouped.setdefault(final_group(r), []).append(r)
        values: dict[tuple[str | None, ...], list[Any]] = {}
        for group, group_rows in grouped.items():
            if measure[0] == "rolling":
                days = measure[1]
                cells = []
                counted = False  # a row of the group falls in some bucket's window
                for i, bucket in enumerate(buckets):
                    if grain == "total":
                        last = last_range_day
                    else:
                        bucket_end = buckets[i + 1] if i + 1 < len(buckets) else next_bucket(bucket, grain)
                        last = min((bucket_end - ONE_MICROSECOND).date(), last_range_day)
                    first = last - timedelta(days=days - 1)
                    users = {r.user_id for r in group_rows if first <= r.day <= last and r.user_id is not None}
                    counted = counted or bool(users)
                    cells.append(len(users))
                # A rolling group is shown when one of its users is active in some bucket's window
                # (possibly through a look-back row from before `from`); rows without a user never
                # make a group, nor do in-range rows outside every window (coarse grains, `total`).
                if counted:
                    values[group] = cells
            else:
                in_range = [r for r in group_rows if r.local >= start]
                if not in_range:
                    continue
                per_bucket: dict[datetime, list[Row]] = {}
                for r in in_range:
                    bucket = start if grain == "total" else truncate(r.local, grain, ws)
                    per_bucket.setdefault(bucket, []).append(r)
                values[group] = [
                    aggregate(measure, per_bucket[b], resolver) if b in per_bucket else fill for b in buckets
                ]
        if not breakdown:
            values.setdefault((), [fill] * len(buckets))
        for group in sorted(values, key=_group_key):
            for bucket, value in zip(buckets, values[group], strict=True):
                row: dict[str, Any] = {"bucket": aware(bucket, tz)}
                for name, text in zip(breakdown, group, strict=True):
                    row[name] = text
                row["series"] = labels[index]
                if value is not None:
                    value = int(value) if integer else float(value)
                row["value"] = value
                out.append(row)
    return out
