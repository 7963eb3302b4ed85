"""The reference for ``stickiness`` queries, written from docs/queries.md ("Stickiness") in plain
Python over event dicts, independent of the engine.

For each bucket of the range (the whole range for ``total``) and each breakdown group, the users
with a matching event on exactly ``d`` distinct local days of the bucket (``cumulative``: at
least ``d``), for every ``d`` from 1 to the bucket's local days inside the range.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tests.oracle import ONE_MICROSECOND
from tests.oracle_analyses import prepare
from tests.oracle_conditions import series_matches
from tests.oracle_time import bucket_list, next_bucket, truncate


def stickiness_oracle(
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
    """Rows ``bucket`` (naive local), breakdown values, ``days``, ``value``, in the engine's order."""
    p = prepare(query, events, users, event_name_col, timezone, week_start, now, **project)
    start, end, grain, breakdown, ws = p.start, p.end, p.grain, p.breakdown, p.week_start
    buckets = [start] if grain == "total" else bucket_list(start, end, grain, ws, p.tz)
    spans = []
    for i, bucket in enumerate(buckets):
        later = buckets[i + 1] if i + 1 < len(buckets) else None
        bucket_end = end if grain == "total" else (later or next_bucket(bucket, grain))
        first: date = max(bucket, start).date()
        last: date = (min(bucket_end, end) - ONE_MICROSECOND).date()
        spans.append((last - first).days + 1)

    active: dict[tuple[tuple[str | None, ...], int, Any], set[date]] = {}
    for row in p.rows:
        matching = start <= row.local < end and series_matches(query["stickiness"], row, p.resolver)
        if row.user_id is None or not matching or p.restricted(row):
            continue
        index = 0 if grain == "total" else buckets.index(truncate(row.local, grain, ws))
        active.setdefault((p.group_of(row), index, row.user_id), set()).add(row.day)
    exact: dict[tuple[tuple[str | None, ...], int, int], int] = {}
    for (group, index, _user), days in active.items():
        exact[(group, index, len(days))] = exact.get((group, index, len(days)), 0) + 1
    groups = sorted({g for g, _i, _u in active} or ({()} if not breakdown else set()), key=p.group_key)
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
