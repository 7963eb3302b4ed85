"""(a) The naive generator of the planner benchmark: the SQL a straightforward generator emits
(see ``benchmarks/planner.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa

from benchmarks.planner_queries import EVENT_COLUMNS, NOW, Execute, collate, date_range, lit, rolling_days

# -- (a) the naive generator ---------------------------------------------------------------------


def _naive_prop(name: str) -> str:
    name = name.removeprefix("event.") if name.startswith("event.") else name
    if name.startswith("user."):
        return f"u.{name[5:]}"
    return f"e.{name}" if name in EVENT_COLUMNS else f"u.{name}"


def _naive_condition(cond: dict[str, Any]) -> str:
    col, op = _naive_prop(cond["property"]), cond["op"]
    simple = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
    if op in simple:
        return f"{col} {simple[op]} {lit(cond['value'])}"
    if op in ("in", "not_in"):
        values = ", ".join(lit(v) for v in cond["values"])
        return f"{col} {'NOT IN' if op == 'not_in' else 'IN'} ({values})"
    if op == "is_null":
        return f"{col} IS NULL"
    if op == "is_not_null":
        return f"{col} IS NOT NULL"
    if op == "between":
        low, high = cond["values"]
        return f"{col} BETWEEN {lit(low)} AND {lit(high)}"
    raise ValueError(f"the naive generator does not know the operator {op!r}")


def _conditions(where: Any) -> list[dict[str, Any]]:
    if not where:
        return []
    return list(where) if isinstance(where, list) else [where]


def _naive_event(event: Any) -> list[str]:
    """WHERE terms for a series' event (a name, ``any``, or ``{any_of: [...]}``)."""
    if event == "any":
        return []
    if isinstance(event, dict) and "any_of" in event:
        members = []
        for member in event["any_of"]:
            if isinstance(member, str):
                member = {"event": member}
            terms = [] if member["event"] == "any" else [f"e.event_name = {lit(member['event'])}"]
            terms += [_naive_condition(c) for c in _conditions(member.get("where"))]
            members.append("(" + (" AND ".join(terms) or "TRUE") + ")")
        return ["(" + " OR ".join(members) + ")"]
    return [f"e.event_name = {lit(event)}"]


def _naive_where(series: dict[str, Any], start: date, end: date, lookback: int = 0) -> str:
    """The filter a straightforward generator writes: the time column wrapped in a cast."""
    first = start - timedelta(days=lookback)
    terms = [
        f"CAST(e.event_time AS DATE) >= DATE '{first}'",
        f"CAST(e.event_time AS DATE) < DATE '{end}'",
    ]
    terms += _naive_event(series["event"])
    terms += [_naive_condition(c) for c in _conditions(series.get("where"))]
    return " AND ".join(terms)


def _naive_measure(measure: str) -> str:
    if measure == "events":
        return "COUNT(*)"
    if measure == "unique_users":
        return "COUNT(DISTINCT e.user_id)"
    kind, _, prop = measure.partition(":")
    if kind in ("sum", "avg", "min", "max"):
        return f"{kind.upper()}(CAST({_naive_prop(prop)} AS DOUBLE PRECISION))"
    raise ValueError(f"the naive generator does not know the measure {measure!r}")


NAIVE_FROM = "events AS e LEFT JOIN users AS u ON u.user_id = e.user_id"


def naive_plan(query: dict[str, Any], engine: str, now: datetime = NOW) -> Callable[[Execute], pa.Table]:
    """The naive generator: a function that runs the query through ``execute`` (one or two statements)."""
    start, end = date_range(query, now)
    grain = query.get("time_grain", "day")
    breakdown = query.get("breakdown") or []
    breakdown = [breakdown] if isinstance(breakdown, str) else list(breakdown)
    limit = query.get("breakdown_limit")
    series_list = query["series"]
    labels = [s.get("label") or chr(ord("A") + i) for i, s in enumerate(series_list)]
    groups = [_naive_prop(b) for b in breakdown]
    bucket = None if grain == "total" else f"date_trunc('{grain}', e.event_time)"

    def select(series: dict[str, Any], label: str, group_exprs: list[str]) -> str:
        window = rolling_days(str(series.get("measure", "events")))
        if window is not None:  # rolling users: raw events x date spine
            if group_exprs or grain != "day":
                raise ValueError("the naive rolling plan covers day grain without breakdowns")
            return (
                f"SELECT {lit(label)} AS series, spine.day AS bucket, COUNT(DISTINCT e.user_id) AS value "
                f"FROM (SELECT CAST(d AS TIMESTAMP) AS day FROM generate_series(TIMESTAMP '{start}', "
                f"TIMESTAMP '{end - timedelta(days=1)}', INTERVAL '1 day') AS t(d)) AS spine "
                f"JOIN {NAIVE_FROM} ON e.event_time >= spine.day - INTERVAL '{window - 1} days' "
                f"AND e.event_time < spine.day + INTERVAL '1 day' "
                f"WHERE {_naive_where(series, start, end, lookback=window - 1)} GROUP BY spine.day"
            )
        cols = [f"{lit(label)} AS series"]
        keys = []
        if bucket:
            cols.append(f"{bucket} AS bucket")
            keys.append(bucket)
        cols += [f"{g} AS g{j}" for j, g in enumerate(group_exprs)]
        keys += group_exprs
        cols.append(f"{_naive_measure(str(series.get('measure', 'events')))} AS value")
        sql = f"SELECT {', '.join(cols)} FROM {NAIVE_FROM} WHERE {_naive_where(series, start, end)}"
        return sql + (f" GROUP BY {', '.join(keys)}" if keys else "")

    def run(execute: Execute) -> pa.Table:
        group_exprs = groups
        if limit and groups:  # first pass: rank the groups of the first series
            first = series_list[0]
            order = ", ".join(f"{g}{collate(engine)} NULLS LAST" for g in groups)
            ranking = (
                f"SELECT {', '.join(f'{g} AS g{j}' for j, g in enumerate(groups))}, "
                f"{_naive_measure(str(first.get('measure', 'events')))} AS v "
                f"FROM {NAIVE_FROM} WHERE {_naive_where(first, start, end)} GROUP BY {', '.join(groups)} "
                f"ORDER BY v DESC NULLS LAST, {order} LIMIT {int(limit)}"
            )
            winners = execute(ranking).to_pylist()
            if winners:
                match = " OR ".join(
                    "("
                    + " AND ".join(
                        f"{g} IS NULL" if row[f"g{j}"] is None else f"{g} = {lit(row[f'g{j}'])}"
                        for j, g in enumerate(groups)
                    )
                    + ")"
                    for row in winners
                )
                group_exprs = [f"CASE WHEN {match} THEN {g} ELSE 'Other' END" for g in groups]
            else:
                group_exprs = ["'Other'" for _ in groups]
        sql = " UNION ALL ".join(select(s, label, group_exprs) for s, label in zip(series_list, labels, strict=True))
        return execute(sql)

    return run
