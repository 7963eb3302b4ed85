"""The reference for ``stickiness`` queries, written from docs/queries.md ("Stickiness") in plain
Python over event dicts, independent of the engine.

For each bucket of the range (the whole range for ``total``) and each breakdown group, the users
with a matching event on exactly ``d`` distinct local days of the bucket (``cumulative``: at
least ``d``), for every ``d`` from 1 to the bucket's local days inside the range.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.oracle import ONE_MICROSECOND, WEEKDAYS, _group_key, segment_test
from tests.oracle_conditions import Resolver, Row, breakdown_text, series_matches
from tests.oracle_time import bucket_list, date_range, next_bucket, to_local, truncate


def stickiness_oracle(
    query: dict[str, Any],
    events: list[dict[str, Any]],
    users: list[dict[str, Any]] | None,
    *,
    event_name_col: str = "event_name",
    timezone: str = "UTC",
    week_start: str = "monday",
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Rows ``bucket`` (naive local), breakdown values, ``days``, ``value``, in the engine's order."""
    tz = ZoneInfo(timezone)
    ws = WEEKDAYS.index(week_start)
    users = users or []
    users_by_id = {u["user_id"]: u for u in users}
    event_columns = set().union(*(e.keys() for e in events)) - {"user_id", "event_time", event_name_col}
    user_columns = set().union(*(u.keys() for u in users)) - {"user_id"} if users else set()
    resolver = Resolver(event_columns, user_columns)
    rows = [
        Row(e, to_local(e["event_time"], tz), users_by_id.get(e["user_id"]), e[event_name_col], e["user_id"])
        for e in events
    ]
    start, end = date_range(query["date_range"], tz, now)
    grain = query.get("time_grain", "day")
    buckets = [start] if grain == "total" else bucket_list(start, end, grain, ws, tz)
    spans = []
    for i, bucket in enumerate(buckets):
        bucket_end = (
            end if grain == "total" else (buckets[i + 1] if i + 1 < len(buckets) else next_bucket(bucket, grain))
        )
        first: date = max(bucket, start).date()
        last: date = (min(bucket_end, end) - ONE_MICROSECOND).date()
        spans.append((last - first).days + 1)

    breakdown = query.get("breakdown") or []
    segment = query.get("segment")
    in_segment = segment_test(segment, rows, resolver, users_by_id, tz, now) if segment else None
    split = in_segment is not None and "segment" in breakdown

    def group_of(row: Row) -> tuple[str | None, ...]:
        parts: list[str | None] = []
        for name in breakdown:
            if name == "segment":
                parts.append("in" if in_segment(row.user_id) else "not in")
            else:
                parts.append(breakdown_text(resolver.value(name, row)))
        return tuple(parts)

    active: dict[tuple[tuple[str | None, ...], int, Any], set[date]] = {}
    for row in rows:
        if (
            row.user_id is None
            or not (start <= row.local < end)
            or not series_matches(query["stickiness"], row, resolver)
        ):
            continue
        if in_segment is not None and not split and not in_segment(row.user_id):
            continue
        index = 0 if grain == "total" else buckets.index(truncate(row.local, grain, ws))
        active.setdefault((group_of(row), index, row.user_id), set()).add(row.day)
    exact: dict[tuple[tuple[str | None, ...], int, int], int] = {}
    for (group, index, _user), days in active.items():
        exact[(group, index, len(days))] = exact.get((group, index, len(days)), 0) + 1
    groups = sorted({g for g, _i, _u in active} or ({()} if not breakdown else set()), key=_group_key)
    out = []
    for group in groups:
        for index, bucket in enumerate(buckets):
            for d in range(1, spans[index] + 1):
                if query.get("cumulative"):
                    value = sum(exact.get((group, index, n), 0) for n in range(d, spans[index] + 1))
                else:
                    value = exact.get((group, index, d), 0)
                out.append({"bucket": bucket, **dict(zip(breakdown, group, strict=True)), "days": d, "value": value})
    return out
