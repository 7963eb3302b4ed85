"""The reference for ``lifecycle`` queries, written from docs/queries.md ("Lifecycle") in plain
Python over event dicts, independent of the engine.

Buckets are whole: activity is read from the start of the bucket before the range to the range's
end. For each bucket of the range, a user active in it is ``new`` when the first matching event of
their whole history is in it, else ``returning`` when also active in the bucket before, else
``resurrecting``; a user active in the bucket before and not in it is ``dormant``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.oracle import WEEKDAYS, _group_key, segment_test
from tests.oracle_conditions import Resolver, Row, breakdown_text, series_matches
from tests.oracle_time import bucket_list, date_range, minus_months, next_bucket, to_local, truncate

STATUSES = ("new", "returning", "resurrecting", "dormant")


def _before(bucket: datetime, grain: str) -> datetime:
    if grain == "month":
        return minus_months(bucket, 1)
    return bucket - {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[grain]


def lifecycle_oracle(
    query: dict[str, Any],
    events: list[dict[str, Any]],
    users: list[dict[str, Any]] | None,
    *,
    event_name_col: str = "event_name",
    timezone: str = "UTC",
    week_start: str = "monday",
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Rows ``bucket`` (naive local), breakdown values, ``status``, ``value``, in the engine's order."""
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
    buckets = bucket_list(start, end, grain, ws, tz)
    edges = [_before(buckets[0], grain), *buckets, next_bucket(buckets[-1], grain)]
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

    matched = [
        r for r in rows if r.user_id is not None and r.local < end and series_matches(query["lifecycle"], r, resolver)
    ]
    first: dict[Any, datetime] = {}
    for r in matched:
        first[r.user_id] = min(first.get(r.user_id, r.local), r.local)
    active: dict[tuple[Any, tuple[str | None, ...]], set[int]] = {}
    for r in matched:
        if r.local < edges[0] or (in_segment is not None and not split and not in_segment(r.user_id)):
            continue
        k = edges.index(truncate(r.local, grain, ws))
        active.setdefault((r.user_id, group_of(r)), set()).add(k)
    counts: dict[tuple[tuple[str | None, ...], str, int], int] = {}
    for (user, group), ks in active.items():
        for k in range(1, len(edges) - 1):
            if k in ks:
                if edges[k] <= first[user] < edges[k + 1]:
                    status = "new"
                else:
                    status = "returning" if k - 1 in ks else "resurrecting"
            elif k - 1 in ks:
                status = "dormant"
            else:
                continue
            counts[(group, status, k)] = counts.get((group, status, k), 0) + 1
    groups = sorted({g for _u, g in active} or ({()} if not breakdown else set()), key=_group_key)
    return [
        {
            "bucket": edges[k],
            **dict(zip(breakdown, group, strict=True)),
            "status": status,
            "value": counts.get((group, status, k), 0),
        }
        for group in groups
        for status in STATUSES
        for k in range(1, len(edges) - 1)
    ]
