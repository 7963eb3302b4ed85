"""The reference for ``retention`` queries, written from ANALYSES.md / docs/queries.md
("Retention") in plain Python over event dicts, independent of the engine and its SQL.

- Events at or after ``now`` (naive local) are ignored; events without a unit id never count.
- Buckets: the range's buckets are the cohorts; later buckets continue them one grain at a time.
  Only buckets that start before ``now`` exist for the answer: period k of cohort c is reported
  when the k-th bucket after c starts before now.
- ``first_time``: a unit's cohort is the bucket of its first start event ever, when that event is
  inside the range; ``recurring``: every bucket of the range with a start event of the unit.
- Period k >= 1 ("on"): a return event in the k-th bucket after the cohort's; ``cumulative``
  ("on or after"): in that bucket or any later one (up to now). Period 0: the cohort itself.
- ``windows: rolling``: t0 is the cohort entry (first_time: the first start event ever; recurring:
  the first start event in the cohort's bucket); period k >= 1 is a return event in
  [t0 + k·P, t0 + (k+1)·P), ``cumulative`` at or after t0 + k·P; P is one grain of elapsed time
  (hour, 24 hours, 7 x 24 hours), measured between UTC instants.
- Groups: user properties / segment / categories (one group per unit; a category's values in
  declaration order) and properties of the start event: the value of the event that made the
  unit a member (first_time: its first start event ever; recurring: its first start event in the
  cohort's bucket; at the same time, the smallest value, nulls last), so a unit may be in another
  group in each cohort; the unit id, segments and categories come through ``prepare``; top-N
  by summed cohort size (ties by value, nulls last), the rest merged into ``Other``.
- Rows: cohort x group x reported period, then summary rows (cohort None) per group and period,
  summed over the cohorts that report that period.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.oracle import _group_key
from tests.oracle_analyses import prepare
from tests.oracle_conditions import series_matches
from tests.oracle_time import bucket_list, instant, next_bucket, truncate
from tests.oracle_units import UnitOf

Group = tuple[str | None, ...]


def _event(spec: Any) -> dict[str, Any]:
    return {"event": spec} if isinstance(spec, str) else spec


def retention_oracle(
    query: dict[str, Any],
    events: list[dict[str, Any]],
    users: list[dict[str, Any]] | None,
    *,
    now: datetime,
    event_name_col: str = "event_name",
    timezone: str = "UTC",
    week_start: str = "monday",
    unit_of: UnitOf | None = None,
    cohorts: dict[str, Any] | None = None,
    categories: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Rows ``cohort`` (naive local, None for summaries), breakdown values, ``period``, ``count``,
    ``cohort_size``, ``rate``, in the engine's order."""
    spec = query["retention"]
    start_event = _event(spec["start"])
    return_event = _event(spec.get("return", spec["start"]))
    periods = spec.get("periods", 8)
    cumulative = spec.get("cumulative", False)
    first_time = spec.get("start_mode", "first_time") == "first_time"
    rolling = spec.get("windows", "calendar") == "rolling"
    p = prepare(query, events, users, event_name_col, timezone, week_start, now, unit_of, cohorts, categories)
    grain = p.grain

    cohort_buckets = [b for b in bucket_list(p.start, p.end, grain, p.week_start, p.tz) if b < now]
    far = bucket_list(p.start, p.end, grain, p.week_start, p.tz)[-1]
    for _ in range(periods + 1):
        far = next_bucket(far, grain)
    listed = [b for b in bucket_list(p.start, far, grain, p.week_start, p.tz) if b < now]
    index = {b: i for i, b in enumerate(listed)}
    beyond = float("inf")

    if not listed:  # the range starts after now
        listed = [datetime.max]
    rows = [r for r in p.rows if r.user_id is not None and r.local < now and not p.restricted(r)]
    # A start event's group: the unit's properties and the start event's own (the same ordering as
    # the answer's: a unit's entry is its earliest start event, ties to the smallest values).
    starts: dict[Any, list[tuple[datetime, Any, Group]]] = {}  # (local, sort key, group)
    returns: dict[Any, list[float]] = {}
    start_at: dict[Any, list[tuple[datetime, datetime, Any, Group]]] = {}  # (UTC instant, local, key, group)
    return_at: dict[Any, list[datetime]] = {}  # UTC instants of return events
    for r in rows:
        if series_matches(start_event, r, p.resolver):
            group = p.group_of(r)
            starts.setdefault(r.user_id, []).append((r.local, _group_key(group), group))
            start_at.setdefault(r.user_id, []).append(
                (instant(r.event["event_time"]), r.local, _group_key(group), group)
            )
        if series_matches(return_event, r, p.resolver):
            return_at.setdefault(r.user_id, []).append(instant(r.event["event_time"]))
        bucket = truncate(r.local, grain, p.week_start)
        if series_matches(return_event, r, p.resolver) and bucket >= listed[0]:  # earlier: before every cohort
            returns.setdefault(r.user_id, []).append(index.get(bucket, beyond))  # not listed: after them

    members: list[tuple[Any, int, Group]] = []  # (unit, cohort number, group)
    for unit, times in starts.items():
        if first_time:
            t0, _key, group = min(times, key=lambda e: e[:2])
            if p.start <= t0 < p.end:
                members.append((unit, index[truncate(t0, grain, p.week_start)], group))
        else:
            entry: dict[int, Group] = {}
            for t, _key, group in sorted((e for e in times if p.start <= e[0] < p.end), key=lambda e: e[:2]):
                entry.setdefault(index[truncate(t, grain, p.week_start)], group)  # the bucket's first
            members += [(unit, c, group) for c, group in sorted(entry.items())]

    if rolling:
        members = []
        t0s: dict[tuple[Any, int], datetime] = {}
        for unit, entries in start_at.items():
            ordered = sorted(entries, key=lambda e: (e[0], e[2]))
            if first_time:
                chosen = ordered[:1] if p.start <= ordered[0][1] < p.end else []
            else:
                chosen = [e for e in ordered if p.start <= e[1] < p.end]
            for t0, local, _key, group in chosen:
                c = index[truncate(local, grain, p.week_start)]
                if (unit, c) not in t0s:  # the first start event in the bucket
                    t0s[(unit, c)] = t0
                    members.append((unit, c, group))
        length = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[grain]
        returns = {}
        for unit, c, _group in members:  # the periods as numbers "after" the cohort (c + k)
            t0 = t0s[(unit, c)]
            returns[unit, c] = [c + (t - t0) // length for t in return_at.get(unit, []) if t >= t0]

    counts: dict[tuple[Group, int, int], int] = {}
    for unit, c, group in members:
        after = [i - c for i in returns.get((unit, c) if rolling else unit, []) if i > c]
        for k in range(periods + 1):
            hit = k == 0 or (max(after, default=0) >= k if cumulative else k in after)
            if hit:
                counts[(group, c, k)] = counts.get((group, c, k), 0) + 1

    groups = {g for _u, _c, g in members} or ({()} if not p.breakdown else set())
    limit = query.get("breakdown_limit")
    if p.breakdown and limit is not None and len(groups) > limit:
        size = {g: sum(n for (gg, _c, k), n in counts.items() if gg == g and k == 0) for g in groups}
        kept = sorted(groups, key=lambda g: (-size[g], _group_key(g)))[:limit]
        other: Group = tuple("Other" for _ in p.breakdown)
        merged: dict[tuple[Group, int, int], int] = {}
        for (g, c, k), n in counts.items():
            key = (g if g in kept else other, c, k)
            merged[key] = merged.get(key, 0) + n
        counts, groups = merged, {*kept, other}

    def reported(c: int) -> int:
        return min(periods + 1, len(listed) - c)

    def row(cohort: datetime | None, group: Group, k: int, count: int, size: int) -> dict[str, Any]:
        return {
            "cohort": cohort,
            **dict(zip(p.breakdown, group, strict=True)),
            "period": k,
            "count": count,
            "cohort_size": size,
            "rate": count / size if size else None,
        }

    ordered = sorted(groups, key=p.group_key)
    out = [
        row(cohort_buckets[c], g, k, counts.get((g, c, k), 0), counts.get((g, c, 0), 0))
        for c in range(len(cohort_buckets))
        for g in ordered
        for k in range(reported(c))
    ]
    longest = max((reported(c) for c in range(len(cohort_buckets))), default=0)
    for g in ordered:
        for k in range(longest):
            shown = [c for c in range(len(cohort_buckets)) if k < reported(c)]
            count = sum(counts.get((g, c, k), 0) for c in shown)
            size = sum(counts.get((g, c, 0), 0) for c in shown)
            out.append(row(None, g, k, count, size))
    return out
