"""The reference for ``funnel`` queries, written from the contract (ANALYSES.md "Funnels",
docs/queries.md "Funnels") in plain Python over event dicts, one attempt at a time, independent of
the engine's SQL.

Ordered: every event of step 1 inside the range starts an attempt at t1; each next step is the
earliest event of that step strictly after the previous matched one and at most t1 + window
(held properties equal to step 1's, non-null). An exclusion event strictly after the matched
``after_step`` and strictly before the matched ``before_step`` (not reached: before t1 + window)
disqualifies the attempt. Any order: every event of any step in the range starts an attempt at
t0; it reaches the number of steps with an event in [t0, t0 + window]. Per unit, entry bucket and
group (beyond the top N: Other) the best valid attempt reaches furthest, ties to the latest start,
then to the earliest matched times; it counts at steps 1..reached. Events at or after ``now``
are ignored.
"""

from __future__ import annotations

import re
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.oracle import _group_key
from tests.oracle_analyses import prepare
from tests.oracle_conditions import Row, series_matches
from tests.oracle_time import bucket_list, instant, truncate
from tests.oracle_units import UnitOf

_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def window_of(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([hdw])", text)
    assert match is not None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def step_label(step: dict[str, Any]) -> str:
    if step.get("label"):
        return str(step["label"])
    event = step["event"]
    if isinstance(event, dict):
        return " or ".join(m if isinstance(m, str) else m["event"] for m in event["any_of"])
    return str(event)


Timed = list[tuple[datetime, Row, bool]]  # (UTC instant, row, inside the range), by time


def _attempts_ordered(spec: dict[str, Any], rows: Timed, matches: Any, held: Any, window: timedelta, excluded: Any):
    """(t1 row, matched times) of every attempt of one unit, valid ones only."""
    n = len(spec["steps"])
    exclusions = [(x.get("after_step", 1), x.get("before_step", n), x) for x in spec.get("exclude", [])]
    for t1, r1, in_range in rows:
        if not in_range or not matches(0, r1):
            continue
        h = held(r1)
        times = [t1]
        for k in range(1, n):
            later = [t for t, r, _in in rows if t > times[-1] and t <= t1 + window and matches(k, r) and held(r) == h]
            if not later:
                break
            times.append(min(later))
        valid = True
        for after, before, x in exclusions:
            if after > len(times):
                continue
            bound = times[before - 1] if before <= len(times) else t1 + window
            if any(times[after - 1] < t < bound and excluded(x, r) for t, r, _in in rows):
                valid = False
        if valid:
            yield r1, times


def _attempts_any(spec: dict[str, Any], rows: Timed, matches: Any, held: Any, window: timedelta):
    n = len(spec["steps"])
    for t0, r0, in_range in rows:
        if not in_range or not any(matches(k, r0) for k in range(n)):
            continue
        h = held(r0)
        reached = sum(
            1 for k in range(n) if any(t0 <= t <= t0 + window and matches(k, r) and held(r) == h for t, r, _in in rows)
        )
        yield r0, [t0], reached


def funnel_oracle(
    query: dict[str, Any],
    events: list[dict[str, Any]],
    users: list[dict[str, Any]] | None,
    *,
    event_name_col: str = "event_name",
    timezone: str = "UTC",
    week_start: str = "monday",
    now: datetime | None = None,
    unit_of: UnitOf | None = None,
    cohorts: dict[str, Any] | None = None,
    categories: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Rows ``bucket`` (naive local), breakdown values, ``step``, ``step_label``, ``count``,
    ``conversion``, ``from_previous``, ``median_seconds``, ``avg_seconds``, in the engine's order."""
    query = {"time_grain": "total", **query}
    p = prepare(query, events, users, event_name_col, timezone, week_start, now, unit_of, cohorts, categories)
    spec = query["funnel"]
    steps = spec["steps"]
    n = len(steps)
    window = window_of(spec.get("window", "14d"))
    hold = spec.get("hold", [])
    ordered = spec.get("order", "ordered") == "ordered"
    now_utc = None if now is None else now.replace(tzinfo=p.tz).astimezone(UTC)

    def matches(k: int, row: Row) -> bool:
        return all(p.resolver.value(h, row) is not None for h in hold) and series_matches(steps[k], row, p.resolver)

    def held(row: Row) -> tuple[Any, ...]:
        return tuple(p.resolver.value(h, row) for h in hold)

    def excluded(x: dict[str, Any], row: Row) -> bool:
        return series_matches(x, row, p.resolver)

    per_user: dict[Any, Timed] = {}
    for r in p.rows:
        t = instant(r.event["event_time"])
        if r.user_id is None or p.restricted(r) or (now_utc is not None and t >= now_utc):
            continue
        per_user.setdefault(r.user_id, []).append((t, r, p.start <= r.local < p.end))
    attempts: list[tuple[Any, Row, list[datetime], int]] = []  # user, start row, times, reached
    for user, rows in per_user.items():
        rows.sort(key=lambda tr: tr[0])
        if ordered:
            attempts += [
                (user, r1, times, len(times))
                for r1, times in _attempts_ordered(spec, rows, matches, held, window, excluded)
            ]
        else:
            attempts += [(user, r0, times, m) for r0, times, m in _attempts_any(spec, rows, matches, held, window)]
    limit = query.get("breakdown_limit")
    kept: set[tuple[str | None, ...]] | None = None
    if limit is not None and p.breakdown:
        units: dict[tuple[str | None, ...], set[Any]] = {}
        for user, r, _times, _m in attempts:
            units.setdefault(p.group_of(r), set()).add(user)
        ranked = sorted(units, key=lambda g: (-len(units[g]), _group_key(g)))
        kept = set(ranked[:limit])

    def group(r: Row) -> tuple[str | None, ...]:
        g = p.group_of(r)
        return g if kept is None or g in kept else tuple("Other" for _ in g)

    def bucket(r: Row) -> datetime:
        return p.start if p.grain == "total" else truncate(r.local, p.grain, p.week_start)

    best: dict[tuple[Any, datetime, tuple[str | None, ...]], tuple[int, list[datetime]]] = {}
    for user, r, times, m in attempts:
        key = (user, bucket(r), group(r))
        rank = (m, times[0], [-(t - times[0]).total_seconds() for t in times[1:]])
        if key not in best or rank > best[key][0]:
            best[key] = (rank, times)  # type: ignore[assignment]
    counts: dict[tuple[datetime, tuple[str | None, ...], int], int] = {}
    seconds: dict[tuple[datetime, tuple[str | None, ...], int], list[float]] = {}
    for (_user, b, g), (rank, times) in best.items():
        for k in range(1, rank[0] + 1):  # type: ignore[index]
            counts[(b, g, k)] = counts.get((b, g, k), 0) + 1
            if ordered and k >= 2:
                seconds.setdefault((b, g, k), []).append((times[k - 1] - times[k - 2]).total_seconds())
    buckets = [p.start] if p.grain == "total" else bucket_list(p.start, p.end, p.grain, p.week_start, p.tz)
    groups = sorted({g for _u, _b, g in best} or ({()} if not p.breakdown else set()), key=p.group_key)
    labels = [f"any {k} of {n}" for k in range(1, n + 1)] if not ordered else [step_label(s) for s in steps]
    out: list[dict[str, Any]] = []
    for g in groups:
        for b in buckets:
            first = counts.get((b, g, 1), 0)
            for k in range(1, n + 1):
                count = counts.get((b, g, k), 0)
                before = counts.get((b, g, k - 1), 0) if k > 1 else count
                times_k = seconds.get((b, g, k), [])
                out.append(
                    {
                        "bucket": b,
                        **dict(zip(p.breakdown, g, strict=True)),
                        "step": k,
                        "step_label": labels[k - 1],
                        "count": count,
                        "conversion": count / first if first else None,
                        "from_previous": count / before if before else None,
                        "median_seconds": statistics.median(times_k) if times_k else None,
                        "avg_seconds": statistics.fmean(times_k) if times_k else None,
                    }
                )
    return out
