"""What the stickiness and lifecycle references share: the event rows as the oracle sees them, the
range and grain, and each row's breakdown group (user properties or segment)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.oracle import WEEKDAYS, segment_test
from tests.oracle_cohorts import Behaviour, group_sort_key
from tests.oracle_conditions import Resolver, Row, breakdown_text
from tests.oracle_time import date_range, to_local


@dataclass
class Prepared:
    rows: list[Row]
    resolver: Resolver
    tz: ZoneInfo
    week_start: int
    start: datetime
    end: datetime
    grain: str
    breakdown: list[str]
    group_of: Callable[[Row], tuple[str | None, ...]]
    restricted: Callable[[Row], bool]  # the segment restricts and the row's user is not in it
    group_key: Callable[[tuple[str | None, ...]], Any]  # how the answer orders groups


def prepare(
    query: dict[str, Any],
    events: list[dict[str, Any]],
    users: list[dict[str, Any]] | None,
    event_name_col: str,
    timezone: str,
    week_start: str,
    now: datetime | None,
    unit_of: Callable[[dict[str, Any], dict[str, Any] | None], Any] | None = None,
    cohorts: dict[str, Any] | None = None,
    categories: dict[str, Any] | None = None,
) -> Prepared:
    """The rows and groups of a query; ``cohorts`` and ``categories`` are the project's."""
    tz = ZoneInfo(timezone)
    users = users or []
    users_by_id = {u["user_id"]: u for u in users}
    event_columns = set().union(*(e.keys() for e in events)) - {"user_id", "event_time", event_name_col}
    user_columns = set().union(*(u.keys() for u in users)) - {"user_id"} if users else set()
    resolver = Resolver(event_columns, user_columns)
    rows = []
    for e in events:
        user = users_by_id.get(e["user_id"])
        unit = e["user_id"] if unit_of is None else unit_of(e, user)  # the id counted (tests/oracle_units.py)
        rows.append(Row(e, to_local(e["event_time"], tz), user, e[event_name_col], unit))
    start, end = date_range(query["date_range"], tz, now)
    breakdown = query.get("breakdown") or []
    segment = query.get("segment")
    in_segment = segment_test(segment, rows, resolver, users_by_id, tz, now, cohorts) if segment else None
    defined = {**(categories or {}), **query.get("categories", {})}
    behaviour = Behaviour(rows, resolver, users_by_id, tz, now, cohorts, per_unit=unit_of is not None)
    category_of = {name: behaviour.category(defined[name]) for name in breakdown if name in defined}
    split = in_segment is not None and "segment" in breakdown

    def group_of(row: Row) -> tuple[str | None, ...]:
        parts: list[str | None] = []
        for name in breakdown:
            if name == "segment":
                parts.append("in" if in_segment(row.user_id) else "not in")
            elif name in category_of:
                parts.append(category_of[name](row.user_id))
            else:
                parts.append(breakdown_text(resolver.value(name, row)))
        return tuple(parts)

    def restricted(row: Row) -> bool:
        return in_segment is not None and not split and not in_segment(row.user_id)

    grain = query.get("time_grain", "day")
    key = group_sort_key([defined.get(name) for name in breakdown])
    return Prepared(
        rows, resolver, tz, WEEKDAYS.index(week_start), start, end, grain, breakdown, group_of, restricted, key
    )


def local_rows(table: Any, timezone: str) -> list[dict[str, Any]]:
    """An engine's answer with its buckets as naive local times (how the references write them)."""
    rows = table.to_pylist()
    for row in rows:
        row["bucket"] = row["bucket"].astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return rows
