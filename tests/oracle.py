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


def instant(value: datetime) -> datetime:
    """An event timestamp as an aware UTC instant (naive means UTC): orders events across zones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    """``(kind, argument)``: ('events', None), ('sum', 'price'), ('pct', (0.9, 'price')), ('rolling', 7),
    ('frequency', None), ('per_user', (across, q, prop)) for ``user_<across>:events`` / ``:sum:prop``
    (``across`` is avg, min, max or pct with quantile ``q``; ``prop`` None counts events).
    """
    name, _, arg = text.strip().partition(":")
    name = name.strip().lower()
    arg = arg.strip()
    if name in ("events", "unique_users", "events_per_user", "frequency"):
        return name, None
    if name in ROLLING_ALIASES:
        return "rolling", ROLLING_ALIASES[name]
    if name == "active_users":
        return "rolling", int(arg.lower().removesuffix("d"))
    if name.startswith("user_"):
        across = name.removeprefix("user_")
        quantile = None
        if across == "median":
            across, quantile = "pct", 0.5
        elif re.fullmatch(r"p\d{1,2}", across):
            across, quantile = "pct", int(across[1:]) / 100
        elif across not in ("avg", "min", "max"):
            raise ValueError(f"oracle: unknown per-user measure {text!r}")
        per, _, prop = arg.partition(":")
        if per.strip() == "events" and not prop:
            return "per_user", (across, quantile, None)
        if per.strip() == "sum" and prop.strip():
            return "per_user", (across, quantile, prop.strip())
        raise ValueError(f"oracle: unknown per-user measure {text!r}")
    if name in ("sum", "avg", "min", "max"):
        return name, arg
    if name == "median":
        return "pct", (0.5, arg)
    if re.fullmatch(r"p\d{1,2}", name):
        return "pct", (int(name[1:]) / 100, arg)
    raise ValueError(f"oracle: unknown measure {text!r}")


def is_count(measure: tuple[str, Any]) -> bool:
    return measure[0] in ("events", "unique_users", "rolling", "frequency")


def ranks_by_users(measure: tuple[str, Any]) -> bool:
    """Measures whose top-N groups are ranked by distinct users over the range."""
    return measure[0] in ("unique_users", "rolling", "per_user", "frequency")


def percentile_cont(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _across(kind: str, quantile: float | None, values: list[float]) -> float | None:
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
        assert quantile is not None
        return percentile_cont(values, quantile)
    raise ValueError(f"oracle: unknown aggregate {kind!r}")


def per_user_values(prop: str | None, rows: list[Row], resolver: Resolver) -> dict[Any, float]:
    """Each non-null user's number of events, or sum of ``prop`` (nulls ignored; all null -> 0)."""
    collected: dict[Any, list[float]] = {}
    for r in rows:
        if r.user_id is None:
            continue
        values = collected.setdefault(r.user_id, [])
        if prop is None:
            values.append(1.0)
        elif (value := resolver.value(prop, r)) is not None:
            values.append(float(value))
    return {user: math.fsum(values) for user, values in collected.items()}


def aggregate(measure: tuple[str, Any], rows: list[Row], resolver: Resolver) -> int | float | None:
    """A non-rolling measure over ``rows`` (rolling measures: distinct users, for ranking)."""
    kind, arg = measure
    users = {r.user_id for r in rows if r.user_id is not None}
    if kind == "events":
        return len(rows)
    if kind in ("unique_users", "rolling", "frequency"):
        return len(users)
    if kind == "events_per_user":
        return len(rows) / len(users) if users else None
    if kind == "per_user":
        across, quantile, prop = arg
        return _across(across, quantile, [float(v) for v in per_user_values(prop, rows, resolver).values()])
    prop = arg[1] if kind == "pct" else arg
    values = [float(v) for v in (resolver.value(prop, r) for r in rows) if v is not None]
    return _across(kind, arg[0] if kind == "pct" else None, values)


# ---------------------------------------------------------------------------------------------
# formulas: numbers, labels, + - * /, unary minus, parentheses; null in -> null out; x/0 -> null

_FORMULA_TOKEN = re.compile(
    r"\s*(?:(?P<num>[0-9]+\.?[0-9]*|\.[0-9]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/()]))"
)


def formula_tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _FORMULA_TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"oracle: bad formula {text!r} at {position}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def evaluate_formula(text: str, values: dict[str, int | float | None]) -> float | None:
    """``text`` evaluated with the series ``values`` (label -> number or None)."""
    tokens = formula_tokens(text)
    at = 0

    def peek() -> tuple[str, str] | None:
        return tokens[at] if at < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal at
        at += 1
        return tokens[at - 1]

    def combine(op: str, left: float | None, right: float | None) -> float | None:
        if left is None or right is None:
            return None
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        return None if right == 0 else left / right

    def expression() -> float | None:
        value = term()
        while peek() in (("op", "+"), ("op", "-")):
            value = combine(take()[1], value, term())
        return value

    def term() -> float | None:
        value = factor()
        while peek() in (("op", "*"), ("op", "/")):
            value = combine(take()[1], value, factor())
        return value

    def factor() -> float | None:
        kind, token = take()
        if (kind, token) == ("op", "-"):
            inner = factor()
            return None if inner is None else -inner
        if (kind, token) == ("op", "("):
            inner = expression()
            if take() != ("op", ")"):
                raise ValueError(f"oracle: missing ')' in {text!r}")
            return inner
        if kind == "num":
            return float(token)
        if kind == "name":
            value = values[token]
            return None if value is None else float(value)
        raise ValueError(f"oracle: unexpected {token!r} in {text!r}")

    result = expression()
    if at != len(tokens):
        raise ValueError(f"oracle: trailing tokens in {text!r}")
    return result


def formula_labels(text: str) -> list[str]:
    return list(dict.fromkeys(token for kind, token in formula_tokens(text) if kind == "name"))


def query_formulas(query: dict[str, Any]) -> list[tuple[str, str]]:
    """``(label, expression)`` of ``formulas`` then the ``formula`` shorthand (labelled by itself)."""
    out = [(f["label"], f["expression"]) for f in query.get("formulas") or []]
    if query.get("formula"):
        out.append((query["formula"], query["formula"]))
    return out


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
) -> Any:
    """A function user id -> whether the user is in the segment (a null id never is)."""

    def who_did(spec: dict[str, Any] | None) -> set[Any] | None:
        if spec is None:
            return None
        window = date_range(spec["date_range"], tz, now) if spec.get("date_range") else None
        return {
            r.user_id
            for r in rows
            if r.user_id is not None
            and (window is None or window[0] <= r.local < window[1])
            and series_matches(spec, r, resolver)
        }

    did, did_not = who_did(segment.get("did")), who_did(segment.get("did_not"))
    user_where = _conditions(segment.get("user_where"))
    for cond in user_where:
        if resolver.source(cond["property"])[0] != "user":
            raise ValueError(f"oracle: user_where takes user properties, not {cond['property']!r}")

    def test(user_id: Any) -> bool:
        if user_id is None:
            return False
        if did is not None and user_id not in did:
            return False
        if did_not is not None and user_id in did_not:
            return False
        user = users_by_id.get(user_id)
        return all(
            condition_holds(c, None if user is None else user.get(resolver.source(c["property"])[1]))
            for c in user_where
        )

    return test


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
    in_segment = segment_test(segment, rows, resolver, users_by_id, tz, now) if segment else None
    split = in_segment is not None and "segment" in breakdown  # a breakdown instead of a restriction

    def group_of(row: Row) -> tuple[str | None, ...]:
        parts: list[str | None] = []
        for name in breakdown:
            if name == "event":
                parts.append(row.name)
            elif name == "segment" and split:
                parts.append("in" if in_segment(row.user_id) else "not in")
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

    entries.sort(key=lambda e: (e[0], _group_key(e[1]), e[2], e[3] or 0))
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
