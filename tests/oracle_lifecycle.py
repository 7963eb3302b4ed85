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

from tests.oracle_analyses import prepare
from tests.oracle_conditions import series_matches
from tests.oracle_time import bucket_list, minus_months, next_bucket, truncate

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
    **project: Any,
) -> list[dict[str, Any]]:
    """Rows ``bucket`` (naive local), breakdown values, ``status``, ``value``, in the engine's order."""
    p = prepare(query, events, users, event_name_col, timezone, week_start, now, **project)
    grain, end = p.grain, p.end
    buckets = bucket_list(p.start, end, grain, p.week_start, p.tz)
    edges = [_before(buckets[0], grain), *buckets, next_bucket(buckets[-1], grain)]
    matched = [
        r
        for r in p.rows
        if r.user_id is not None and r.local < end and series_matches(query["lifecycle"], r, p.resolver)
    ]
    first: dict[Any, datetime] = {}
    for r in matched:
        first[r.user_id] = min(first.get(r.user_id, r.local), r.local)
    active: dict[tuple[Any, tuple[str | None, ...]], set[int]] = {}
    for r in matched:
        if r.local < edges[0] or p.restricted(r):
            continue
        k = edges.index(truncate(r.local, grain, p.week_start))
        active.setdefault((r.user_id, p.group_of(r)), set()).add(k)
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
    groups = sorted({g for _u, g in active} or ({()} if not p.breakdown else set()), key=p.group_key)
    return [
        {
            "bucket": edges[k],
            **dict(zip(p.breakdown, group, strict=True)),
            "status": status,
            "value": counts.get((group, status, k), 0),
        }
        for group in groups
        for status in STATUSES
        for k in range(1, len(edges) - 1)
    ]
