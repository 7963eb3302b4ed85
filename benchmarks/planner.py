"""Naive vs segwise vs hand-written SQL: the planner benchmark (issue #5, "Benchmarks").

Every benchmark query (the ``examples/*.yaml`` gallery plus rolling users, a combined event, a
multi-property top-N breakdown and a 7-day query) runs three ways on the same engine and data:

* **naive** — the SQL a straightforward generator emits (``naive_plan``): ``FROM events LEFT JOIN
  users`` for every query, the date range as ``CAST(event_time AS DATE)`` comparisons (the column
  wrapped in a function, no partition predicate), every series its own scan (``UNION ALL``),
  rolling users as a join of raw events to a date spine, and top-N as a second round trip (rank the
  groups, then re-run with a ``CASE`` listing the winners);
* **segwise** — ``project.compile(query, now=NOW)``, compiled afresh at run time;
* **hand** — SQL written by hand for each query (``HAND``) by someone who knows the data: the
  ``event_date`` partition column alone for day-aligned ranges, distinct (user, bucket) or per-user
  pre-aggregation before the user-table join, one scan with conditional aggregates for several
  series, per-user intervals and a running sum for rolling users.

Before anything is timed each variant's answer is compared with ``segwise.run`` (shapes
normalised: filled empty buckets dropped, floats to 1e-9 relative). Then, per variant: the
median latency of ``--repeat`` runs after one warm-up (profiling off), and one separate profiled
run for rows scanned, bytes scanned and peak memory (see ``docs/benchmarks.md`` for what each
engine reports).

    python -m benchmarks.planner --sizes 1m,10m,50m --engines duckdb,postgresql --repeat 3

Generated DuckDB files are cached in ``benchmarks/data/`` (two layouts per size); PostgreSQL runs
on a throwaway local cluster (``tests/pg.py``) loaded from them. Writes JSON (``--out``) and prints
the Markdown tables of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

import segwise
from segwise.demo.gallery import examples_dir
from segwise.demo.generate import DEFAULT_START, EVENTS_SCHEMA, USERS_SCHEMA

DATA = Path(__file__).parent / "data"
RESULTS = Path(__file__).parent / "results"
DAYS = 365
NOW = datetime.combine(DEFAULT_START + timedelta(days=DAYS), datetime.min.time())  # end of the data
SIZES = {"1m": 10_000, "10m": 100_000, "50m": 500_000}  # users; ~102 events per user-year
LAYOUTS = ("partitioned", "unpartitioned")
VARIANTS = ("naive", "segwise", "hand")
ENGINES = ("duckdb", "postgresql")
DUCKDB_CONFIG = {"enable_external_access": False, "python_enable_replacements": False}  # as segwise opens it
PG_SETTINGS = {"work_mem": "128MB", "jit": "off"}
PARTITION = {"column": "event_date", "granularity": "day", "format": "date"}
EVENT_COLUMNS = set(EVENTS_SCHEMA.names)
USER_COLUMNS = set(USERS_SCHEMA.names) - {"user_id"}
REL_TOL = 1e-9

Execute = Callable[[str], pa.Table]


# -- the queries ---------------------------------------------------------------------------------


EXTRA_QUERIES: dict[str, dict[str, Any]] = {
    "x_rolling_wau_90d": {
        "series": [{"event": "any", "measure": "wau", "label": "WAU"}],
        "date_range": {"last": "90d"},
        "time_grain": "day",
    },
    "x_rolling_mau_90d": {
        "series": [{"event": "any", "measure": "mau", "label": "MAU"}],
        "date_range": {"last": "90d"},
        "time_grain": "day",
    },
    "x_combined_event": {
        "series": [
            {
                "event": {
                    "any_of": [
                        {"event": "purchase", "where": [{"property": "revenue", "op": "gt", "value": 50}]},
                        {"event": "payment", "where": [{"property": "plan", "op": "eq", "value": "yearly"}]},
                    ]
                },
                "measure": "unique_users",
                "label": "big spenders",
            }
        ],
        "date_range": {"last": "90d"},
        "time_grain": "week",
    },
    "x_breakdown_top10": {
        "series": [{"event": "page_view", "measure": "events", "label": "page views"}],
        "date_range": {"last": "90d"},
        "time_grain": "week",
        "breakdown": ["country", "platform"],
        "breakdown_limit": 10,
    },
    "x_seven_day_dau": {
        "series": [{"event": "any", "measure": "unique_users", "label": "active users"}],
        "date_range": {"last": "7d"},
        "time_grain": "day",
    },
}


def gallery_queries() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(examples_dir().glob("*.yaml")):
        if path.name != "segwise.yaml":
            out[path.stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return out


def benchmark_queries() -> dict[str, dict[str, Any]]:
    return {**gallery_queries(), **EXTRA_QUERIES}


def date_range(query: dict[str, Any], now: datetime) -> tuple[date, date]:
    """[start, end) as dates; the benchmark's ranges are whole days (``last`` in d or w)."""
    spec = query.get("date_range") or {"last": "30d"}
    if "last" in spec:
        text = str(spec["last"])
        n, unit = int(text[:-1]), text[-1]
        days = {"d": 1, "w": 7}[unit] * n
        return (now - timedelta(days=days)).date(), now.date()
    return date.fromisoformat(str(spec["from"])), date.fromisoformat(str(spec["to"]))


def rolling_days(measure: str) -> int | None:
    if measure in ("dau", "wau", "mau"):
        return {"dau": 1, "wau": 7, "mau": 30}[measure]
    if measure.startswith("active_users:"):
        return int(measure.split(":")[1].rstrip("d"))
    return None


# -- SQL helpers shared by the naive and hand-written SQL (portable DuckDB / PostgreSQL) -----------------


def lit(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def collate(engine: str) -> str:
    """Byte-order text comparison for ranking ties (segwise ranks by code point everywhere)."""
    return ' COLLATE "C"' if engine == "postgresql" else ""


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


# -- (c) hand-written SQL ----------------------------------------------------------------------------
#
# Placeholders: {T} the time filter on the partition column (exact: event_date is the UTC date of
# event_time and every range here is whole UTC days), {s} / {e} the range as dates, {lo} the first
# day a rolling window reads, {C} byte-order collation for ranking ties (PostgreSQL).

WEEK = "date_trunc('week', CAST(event_date AS TIMESTAMP))"
MONTH = "date_trunc('month', CAST(event_date AS TIMESTAMP))"
DAY = "CAST(event_date AS TIMESTAMP)"


def _rolling(label: str, days: int) -> str:
    """Active users in the N days ending each day: each (user, day) opens the half-open interval
    [day, min(next active day, day + N)) — a user's intervals never overlap — and a running sum of
    +1 at interval starts and -1 at ends counts the users covering each day."""
    return (
        "WITH d AS (SELECT DISTINCT user_id, event_date AS d FROM events "
        "WHERE event_date >= DATE '{lo}' AND event_date < DATE '{e}' AND user_id IS NOT NULL), "
        f"iv AS (SELECT d AS s, LEAST(COALESCE(LEAD(d) OVER (PARTITION BY user_id ORDER BY d), d + {days}), "
        f"d + {days}) AS t FROM d), "
        "delta AS (SELECT s AS day, 1 AS c FROM iv UNION ALL SELECT t AS day, -1 AS c FROM iv "
        "UNION ALL SELECT CAST(x AS DATE) AS day, 0 AS c FROM generate_series(TIMESTAMP '{s}', "
        "TIMESTAMP '{e}', INTERVAL '1 day') AS g(x)), "
        "daily AS (SELECT day, SUM(c) AS c FROM delta GROUP BY day), "
        "run AS (SELECT day, SUM(c) OVER (ORDER BY day) AS active FROM daily) "
        f"SELECT '{label}' AS series, CAST(day AS TIMESTAMP) AS bucket, CAST(active AS BIGINT) AS value "
        "FROM run WHERE day >= DATE '{s}' AND day < DATE '{e}'"
    )


def _distinct_users_by_user_prop(label: str, event: str, bucket: str | None, prop: str) -> str:
    """unique_users by a user property: distinct (user, bucket) first, then the user-table join."""
    b_sel = f", {bucket} AS bucket" if bucket else ""
    b_out = "d.bucket, " if bucket else ""
    return (
        f"WITH d AS (SELECT DISTINCT user_id{b_sel} FROM events WHERE {{T}}{event}) "
        f"SELECT '{label}' AS series, {b_out}u.{prop} AS g0, COUNT(d.user_id) AS value "
        f"FROM d LEFT JOIN users AS u ON u.user_id = d.user_id GROUP BY {b_out}u.{prop}"
    )


def _top_users_by_user_props(label: str, event: str, props: list[str], limit: int) -> str:
    """Top-N groups of a user property by distinct users: each user is in exactly one group, so the
    'Other' group's distinct users are the sum of its groups' counts."""
    g = ", ".join(f"u.{p} AS g{j}" for j, p in enumerate(props))
    gk = ", ".join(f"g{j}" for j in range(len(props)))
    order = ", ".join(f"g{j}{{C}} NULLS LAST" for j in range(len(props)))
    cases = ", ".join(f"CASE WHEN rk <= {limit} THEN g{j} ELSE 'Other' END AS g{j}" for j in range(len(props)))
    return (
        f"WITH d AS (SELECT DISTINCT user_id FROM events WHERE {{T}}{event}), "
        f"c AS (SELECT {g}, COUNT(d.user_id) AS n FROM d LEFT JOIN users AS u ON u.user_id = d.user_id "
        f"GROUP BY {', '.join(f'u.{p}' for p in props)}), "
        f"r AS (SELECT {gk}, n, ROW_NUMBER() OVER (ORDER BY n DESC, {order}) AS rk FROM c), "
        f"o AS (SELECT {cases}, n FROM r) "
        f"SELECT '{label}' AS series, {gk}, CAST(SUM(n) AS BIGINT) AS value FROM o GROUP BY {gk}"
    )


HAND: dict[str, str] = {
    "active_users_per_license_type": _distinct_users_by_user_prop("active users", "", WEEK, "license_type"),
    "activity_per_subscription_type": (
        f"WITH p AS (SELECT user_id, {WEEK} AS bucket, COUNT(*) AS n FROM events "
        "WHERE {T} AND event_name = 'feature_used' GROUP BY user_id, bucket) "
        "SELECT 'feature uses' AS series, p.bucket, u.subscription_type AS g0, CAST(SUM(p.n) AS BIGINT) AS value "
        "FROM p LEFT JOIN users AS u ON u.user_id = p.user_id GROUP BY p.bucket, u.subscription_type"
    ),
    "best_campaigns_last_4_weeks": (
        "WITH p AS (SELECT campaign AS g, user_id, COUNT(*) AS n FROM events "
        "WHERE {T} AND event_name = 'page_view' AND campaign IS NOT NULL GROUP BY campaign, user_id), "
        "r AS (SELECT g, ROW_NUMBER() OVER (ORDER BY COUNT(user_id) DESC, g{C}) AS rk FROM p GROUP BY g), "
        "a AS (SELECT CASE WHEN r.rk <= 5 THEN p.g ELSE 'Other' END AS g0, COUNT(DISTINCT p.user_id) AS users, "
        "CAST(SUM(p.n) AS BIGINT) AS views FROM p JOIN r ON r.g = p.g GROUP BY 1) "
        "SELECT v.series, a.g0, CASE WHEN v.series = 'visitors' THEN a.users ELSE a.views END AS value "
        "FROM a CROSS JOIN (VALUES ('visitors'), ('page views')) AS v(series)"
    ),
    "daily_active_users": (
        f"SELECT 'active users' AS series, {DAY} AS bucket, COUNT(DISTINCT user_id) AS value "
        "FROM events WHERE {T} GROUP BY event_date"
    ),
    "monthly_active_users": _rolling("MAU", 30),
    "monthly_payment_users": (
        f"SELECT 'monthly payers' AS series, {WEEK} AS bucket, COUNT(DISTINCT user_id) AS value FROM events "
        "WHERE {T} AND event_name = 'payment' AND plan = 'monthly' GROUP BY bucket"
    ),
    "most_engaging_features": (
        "WITH d AS (SELECT DISTINCT user_id, feature FROM events WHERE {T} AND event_name = 'feature_used') "
        "SELECT 'users' AS series, u.subscription_type AS g0, d.feature AS g1, COUNT(d.user_id) AS value "
        "FROM d LEFT JOIN users AS u ON u.user_id = d.user_id GROUP BY u.subscription_type, d.feature"
    ),
    "push_notifications_per_day": (
        f"SELECT 'sent' AS series, {DAY} AS bucket, notification_type AS g0, COUNT(*) AS value FROM events "
        "WHERE {T} AND event_name = 'push_sent' GROUP BY event_date, notification_type"
    ),
    "revenue_by_visitors": (
        "WITH pu AS (SELECT user_id, SUM(revenue) FILTER (WHERE event_name = 'purchase') AS rev, "
        "COUNT(*) FILTER (WHERE event_name = 'purchase') AS np, "
        "COUNT(*) FILTER (WHERE event_name = 'page_view') AS npv "
        "FROM events WHERE {T} AND event_name IN ('purchase', 'page_view') GROUP BY user_id), "
        "j AS (SELECT u.country AS g, pu.rev, pu.np, pu.npv FROM pu LEFT JOIN users AS u ON u.user_id = pu.user_id), "
        "r AS (SELECT g, ROW_NUMBER() OVER (ORDER BY SUM(rev) DESC NULLS LAST, g{C} NULLS LAST) AS rk "
        "FROM j WHERE np > 0 GROUP BY g), "
        "a AS (SELECT CASE WHEN r.rk <= 10 THEN j.g ELSE 'Other' END AS g0, SUM(j.rev) AS revenue, "
        "COUNT(*) FILTER (WHERE j.npv > 0) AS visitors "
        "FROM j LEFT JOIN r ON r.g IS NOT DISTINCT FROM j.g GROUP BY 1) "
        "SELECT v.series, a.g0, CASE WHEN v.series = 'revenue' THEN a.revenue "
        "ELSE CAST(a.visitors AS DOUBLE PRECISION) END AS value "
        "FROM a CROSS JOIN (VALUES ('revenue'), ('visitors')) AS v(series)"
    ),
    "revenue_over_time": (
        f"SELECT 'revenue' AS series, {WEEK} AS bucket, SUM(revenue) AS value FROM events "
        "WHERE {T} AND event_name = 'purchase' GROUP BY bucket"
    ),
    "revenue_per_account_type": (
        f"WITH p AS (SELECT user_id, {MONTH} AS bucket, SUM(revenue) AS v FROM events "
        "WHERE {T} AND event_name = 'purchase' GROUP BY user_id, bucket) "
        "SELECT 'revenue' AS series, p.bucket, u.account_type AS g0, SUM(p.v) AS value "
        "FROM p LEFT JOIN users AS u ON u.user_id = p.user_id GROUP BY p.bucket, u.account_type"
    ),
    "signup_trends": _distinct_users_by_user_prop(
        "sign-ups", " AND event_name = 'signup'", MONTH, "acquisition_channel"
    ),
    "signups_over_time": (
        f"SELECT 'sign-ups' AS series, {WEEK} AS bucket, COUNT(DISTINCT user_id) AS value FROM events "
        "WHERE {T} AND event_name = 'signup' GROUP BY bucket"
    ),
    "signups_per_country": _top_users_by_user_props("sign-ups", " AND event_name = 'signup'", ["country"], 10),
    "total_revenue": (
        "WITH a AS (SELECT SUM(revenue) FILTER (WHERE event_name = 'purchase') AS p, "
        "SUM(amount) FILTER (WHERE event_name = 'payment') AS s FROM events "
        "WHERE {T} AND event_name IN ('purchase', 'payment')) "
        "SELECT v.series, CASE WHEN v.series = 'purchases' THEN a.p ELSE a.s END AS value "
        "FROM a CROSS JOIN (VALUES ('purchases'), ('subscriptions')) AS v(series)"
    ),
    "total_signups": (
        "SELECT 'sign-ups' AS series, COUNT(DISTINCT user_id) AS value FROM events WHERE {T} AND event_name = 'signup'"
    ),
    "traffic_per_campaign": (
        f"SELECT 'page views' AS series, {WEEK} AS bucket, campaign AS g0, COUNT(*) AS value FROM events "
        "WHERE {T} AND event_name = 'page_view' AND campaign IS NOT NULL GROUP BY bucket, campaign"
    ),
    "unique_users_last_30_days": (
        "SELECT 'active users' AS series, COUNT(DISTINCT user_id) AS value FROM events WHERE {T}"
    ),
    "unique_visitors": (
        f"SELECT 'visitors' AS series, {DAY} AS bucket, COUNT(DISTINCT user_id) AS value FROM events "
        "WHERE {T} AND event_name = 'page_view' GROUP BY event_date"
    ),
    "user_distribution": _top_users_by_user_props("users", "", ["account_type", "country"], 20),
    "users_by_city": _top_users_by_user_props("users", "", ["city"], 15),
    "users_by_country": _distinct_users_by_user_prop("users", "", None, "country"),
    "weekly_active_users": _rolling("WAU", 7),
    "x_rolling_wau_90d": _rolling("WAU", 7),
    "x_rolling_mau_90d": _rolling("MAU", 30),
    "x_combined_event": (
        f"SELECT 'big spenders' AS series, {WEEK} AS bucket, COUNT(DISTINCT user_id) AS value FROM events "
        "WHERE {T} AND event_name IN ('purchase', 'payment') "
        "AND ((event_name = 'purchase' AND revenue > 50) OR (event_name = 'payment' AND plan = 'yearly')) "
        "GROUP BY bucket"
    ),
    "x_breakdown_top10": (
        f"WITH p AS (SELECT user_id, platform, {WEEK} AS bucket, COUNT(*) AS n FROM events "
        "WHERE {T} AND event_name = 'page_view' GROUP BY user_id, platform, bucket), "
        "c AS (SELECT u.country AS g0, p.platform AS g1, p.bucket, SUM(p.n) AS n FROM p "
        "LEFT JOIN users AS u ON u.user_id = p.user_id GROUP BY u.country, p.platform, p.bucket), "
        "r AS (SELECT g0, g1, ROW_NUMBER() OVER (ORDER BY SUM(n) DESC, g0{C} NULLS LAST, g1{C} NULLS LAST) AS rk "
        "FROM c GROUP BY g0, g1) "
        "SELECT 'page views' AS series, c.bucket, CASE WHEN r.rk <= 10 THEN c.g0 ELSE 'Other' END AS g0, "
        "CASE WHEN r.rk <= 10 THEN c.g1 ELSE 'Other' END AS g1, CAST(SUM(c.n) AS BIGINT) AS value "
        "FROM c JOIN r ON r.g0 IS NOT DISTINCT FROM c.g0 AND r.g1 IS NOT DISTINCT FROM c.g1 GROUP BY 2, 3, 4"
    ),
    "x_seven_day_dau": (
        f"SELECT 'active users' AS series, {DAY} AS bucket, COUNT(DISTINCT user_id) AS value "
        "FROM events WHERE {T} GROUP BY event_date"
    ),
}


def hand_sql(name: str, query: dict[str, Any], engine: str, now: datetime = NOW) -> str:
    start, end = date_range(query, now)
    window = max((rolling_days(str(s.get("measure", "events"))) or 1) for s in query["series"])
    return HAND[name].format(
        T=f"event_date >= DATE '{start}' AND event_date < DATE '{end}'",
        s=start,
        e=end,
        lo=start - timedelta(days=window - 1),
        C=collate(engine),
    )


# -- comparing answers -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _bucket(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    return value


def canonical(table: pa.Table, total: bool) -> dict[tuple[Any, ...], Any]:
    """{(series, bucket, groups...): value}; rows whose value is 0 or null (segwise's fill) dropped.

    Breakdown columns are every column other than series, bucket and value, in order (``_g0`` ...
    from segwise's SQL, the breakdown names from ``segwise.run``, ``g0`` ... from ours).
    """
    groups = [c for c in table.column_names if c not in ("series", "bucket", "value")]
    out: dict[tuple[Any, ...], Any] = {}
    for row in table.to_pylist():
        value = _plain(row["value"])
        if value is None or value == 0:
            continue
        bucket = None if total or "bucket" not in row else _bucket(row["bucket"])
        key = (row["series"], bucket, *(row[g] for g in groups))
        if key in out:
            raise AssertionError(f"duplicate row {key}")
        out[key] = value
    return out


def differences(got: dict[tuple[Any, ...], Any], want: dict[tuple[Any, ...], Any], limit: int = 5) -> list[str]:
    problems = []
    for key in sorted(set(got) | set(want), key=repr):
        g, w = got.get(key), want.get(key)
        if g is None or w is None:
            same = g is None and w is None
        elif isinstance(g, int) and isinstance(w, int):
            same = g == w
        else:
            same = abs(float(g) - float(w)) <= REL_TOL * max(abs(float(w)), 1e-300)
        if not same:
            problems.append(f"{key}: {g!r} vs segwise.run {w!r}")
            if len(problems) >= limit:
                break
    return problems


# -- data ----------------------------------------------------------------------------------------------


def duckdb_path(size: str, layout: str) -> Path:
    return DATA / f"planner-{size}-{layout}.duckdb"


def ensure_duckdb(size: str, users: int, log: Callable[[str], None] = print) -> None:
    """Both layouts of one size as DuckDB files (generated once, then cached).

    partitioned: events in event_time order (the generator's), so row-group zone maps on
    event_time / event_date prune; unpartitioned: the same rows shuffled (no useful zone maps).
    """
    part, flat = duckdb_path(size, "partitioned"), duckdb_path(size, "unpartitioned")
    DATA.mkdir(parents=True, exist_ok=True)
    if not part.exists():
        t0 = time.perf_counter()
        events = write_chunked(part, users)
        log(f"generated {events:,} events ({users:,} users) into {part} in {time.perf_counter() - t0:.0f} s")
    if not flat.exists():
        t0 = time.perf_counter()
        scratch = flat.with_name(f".{flat.name}.{os.getpid()}.tmp")
        scratch.unlink(missing_ok=True)
        con = duckdb.connect(str(scratch), config={"memory_limit": "6GB"})
        try:
            con.execute(f"ATTACH '{part}' AS src (READ_ONLY)")
            con.execute("CREATE TABLE users AS SELECT * FROM src.users")
            # a fixed pseudo-random order: no correlation between storage position and time
            con.execute(
                "CREATE TABLE events AS SELECT * FROM src.events ORDER BY hash(session_id, event_time, user_id)"
            )
            con.execute("DETACH src")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(scratch, flat)
        log(f"shuffled {part.name} into {flat.name} in {time.perf_counter() - t0:.0f} s")


CHUNK_USERS = 100_000  # the generator holds ~3.5 GB for 100,000 users; larger sizes are made of chunks


def write_chunked(path: Path, users: int, days: int = DAYS, start: date = DEFAULT_START) -> int:
    """The demo data for ``users`` users in event_time order; above CHUNK_USERS, independent chunks
    (seeds 7, 8, ...) whose user and session ids get a chunk prefix (``c1-u000001``), so memory
    stays bounded. One chunk is exactly ``write_duckdb``'s data."""
    from segwise.demo.generate import generate_tables

    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch), config={"memory_limit": "6GB"})
    try:
        chunks = max(1, -(-users // CHUNK_USERS))
        for k in range(chunks):
            n = min(CHUNK_USERS, users - k * CHUNK_USERS)
            user_table, events = generate_tables(users=n, days=days, seed=7 + k, start=start)
            prefix = "" if chunks == 1 else f"c{k}-"
            con.register("_users", user_table)
            con.register("_events", events)
            ids = f"'{prefix}' || user_id AS user_id"
            if k == 0:
                con.execute("CREATE TABLE users AS SELECT * REPLACE (" + ids + ") FROM _users WHERE false")
                con.execute("CREATE TABLE raw AS SELECT * FROM _events WHERE false")
            con.execute(f"INSERT INTO users SELECT * REPLACE ({ids}) FROM _users")
            con.execute(
                f"INSERT INTO raw SELECT * REPLACE ({ids}, '{prefix}' || session_id AS session_id) FROM _events"
            )
            con.unregister("_users")
            con.unregister("_events")
            del user_table, events
        if chunks == 1:
            con.execute("ALTER TABLE raw RENAME TO events")  # already in event_time order
        else:
            con.execute("CREATE TABLE events AS SELECT * FROM raw ORDER BY event_time")
            con.execute("DROP TABLE raw")
        con.execute("CHECKPOINT")
        count = con.sql("SELECT count(*) FROM events").fetchall()[0][0]
    finally:
        con.close()
    Path(f"{scratch}.wal").unlink(missing_ok=True)
    os.replace(scratch, path)
    return int(count)


def project_for(url: str, layout: str) -> segwise.Project:
    table: dict[str, Any] = {"table": "events", "user_id": "user_id", "event_time": "event_time"}
    table["event_name"] = "event_name"
    if layout == "partitioned":
        table["partition"] = PARTITION
    return segwise.Project(
        warehouse=url, timezone="UTC", week_start="monday", event_tables=[table], user_tables=[{"table": "users"}]
    )


# -- engines: timing and profiles ---------------------------------------------------------------------


class Timeout(Exception):
    pass


class DuckDBTarget:
    """One DuckDB file: a timing connection and a profiling one (same database instance)."""

    engine = "duckdb"

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.url = f"duckdb:///{self.path.resolve()}"
        self.timeout = timeout
        self.con = duckdb.connect(str(self.path), read_only=True, config=dict(DUCKDB_CONFIG))
        self.prof = self.con.cursor()
        self.prof.execute("PRAGMA enable_profiling='no_output'")
        self.prof.execute("SET profiling_mode='detailed'")
        self.events = self.con.sql("SELECT count(*) FROM events").fetchall()[0][0]
        self.widths = {t: self._widths(t) for t in ("events", "users")}

    def _widths(self, table: str) -> dict[str, float]:
        """Bytes per value of each column, uncompressed: the type's width; text: average length."""
        widths: dict[str, float] = {}
        for name, kind in self.con.sql(
            f"SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '{table}'"
        ).fetchall():
            if kind == "VARCHAR":
                widths[name] = float(
                    self.con.sql(f'SELECT coalesce(avg(strlen("{name}")), 0) FROM {table}').fetchall()[0][0]
                )
            else:
                widths[name] = {"DATE": 4.0, "BOOLEAN": 1.0, "INTEGER": 4.0}.get(kind, 8.0)
        return widths

    def execute(self, sql: str, con: Any = None) -> pa.Table:
        con = con or self.con
        timer = threading.Timer(self.timeout, con.interrupt)
        timer.start()
        try:
            return con.sql(sql).to_arrow_table()
        except duckdb.InterruptException as exc:
            raise Timeout(f"over {self.timeout:.0f} s") from exc
        finally:
            timer.cancel()

    def profile(self, plan: Callable[[Execute], pa.Table]) -> dict[str, Any]:
        """Run once with profiling; sum scans over every statement the plan sends."""
        totals = {"rows_scanned": 0, "bytes_scanned": 0, "bytes_read_from_file": 0, "peak_memory": 0, "statements": 0}

        def execute(sql: str) -> pa.Table:
            result = self.execute(sql, self.prof)
            info = json.loads(self.prof.get_profiling_information(format="json"))
            totals["statements"] += 1
            totals["rows_scanned"] += int(info["query"]["total_rows_scanned"])
            totals["bytes_read_from_file"] += int(info["io"]["total_bytes_read"])
            totals["peak_memory"] = max(totals["peak_memory"], int(info["system"]["peak_buffer_memory"]))
            totals["bytes_scanned"] += int(sum(self._scan_bytes(op) for op in info["operator"]))
            return result

        plan(execute)
        return totals

    def _scan_bytes(self, node: dict[str, Any]) -> float:
        total = sum(self._scan_bytes(child) for child in node.get("children", []))
        if node.get("type") == "TABLE_SCAN" and "rows_scanned" in node:
            extra = node.get("extra_info", {})
            table = str(extra.get("Table", "")).rsplit(".", 1)[-1]
            widths = self.widths.get(table, {})
            text = json.dumps([extra.get("Projections"), extra.get("Filters")])
            read = [w for col, w in widths.items() if f"{col}" in _words(text)]
            total += node["rows_scanned"] * sum(read)
        return total

    def close(self) -> None:
        self.prof.close()
        self.con.close()


def _words(text: str) -> set[str]:
    import re

    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


class PostgresTarget:
    """One schema on the throwaway cluster; EXPLAIN (ANALYZE, BUFFERS) through a plpgsql wrapper."""

    engine = "postgresql"

    def __init__(self, dsn: str, schema: str, timeout: float) -> None:
        import adbc_driver_postgresql.dbapi as pg

        from tests.backends import with_search_path

        options = " ".join(f"-c {k}={v}" for k, v in PG_SETTINGS.items())
        self.url = with_search_path(dsn, schema) + "%20" + options.replace(" ", "%20").replace("=", "%3D")
        self.timeout = timeout
        self.con = pg.connect(self.url, autocommit=True)
        self.cur = self.con.cursor()
        self.cur.execute(f"SET statement_timeout = '{int(timeout * 1000)}ms'")
        self.events = self.scalar("SELECT count(*) FROM events")

    def scalar(self, sql: str) -> Any:
        return self.execute(sql).column(0)[0].as_py()

    def execute(self, sql: str) -> pa.Table:
        try:
            self.cur.execute(sql)
            return self.cur.fetch_arrow_table()
        except Exception as exc:
            if "statement timeout" in str(exc) or "canceling statement" in str(exc) or "CANCELLED" in str(exc):
                self.cur = self.con.cursor()
                raise Timeout(f"over {self.timeout:.0f} s") from exc
            raise

    def profile(self, plan: Callable[[Execute], pa.Table]) -> dict[str, Any]:
        totals = {"rows_scanned": 0, "bytes_scanned": 0, "peak_memory": 0, "temp_bytes": 0, "statements": 0}

        def execute(sql: str) -> pa.Table:
            text = self.scalar(f"SELECT bench_explain({lit(sql)})")
            root = json.loads(text)[0]["Plan"]
            totals["statements"] += 1
            totals["rows_scanned"] += int(_pg_rows(root))
            blocks = root.get("Shared Hit Blocks", 0) + root.get("Shared Read Blocks", 0)
            totals["bytes_scanned"] += blocks * 8192
            totals["temp_bytes"] += (root.get("Temp Read Blocks", 0) + root.get("Temp Written Blocks", 0)) * 8192
            totals["peak_memory"] = max(totals["peak_memory"], int(_pg_memory(root)))
            return self.execute(sql)  # the plan's next step needs the rows (EXPLAIN returns none)

        plan(execute)
        return totals

    def close(self) -> None:
        self.cur.close()
        self.con.close()


PG_SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Tid Scan"}


def _pg_rows(node: dict[str, Any]) -> float:
    """Rows read by table scans: (rows returned + removed by filters) x loops."""
    total = sum(_pg_rows(child) for child in node.get("Plans", []))
    if node.get("Node Type") in PG_SCANS:
        per_loop = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        per_loop += node.get("Rows Removed by Index Recheck", 0)
        total += per_loop * node.get("Actual Loops", 1)
    return total


def _pg_memory(node: dict[str, Any]) -> float:
    """Bytes: sum of the in-memory sorts', hashes' and hash aggregates' reported peaks (an upper
    bound of the statement's working memory: the nodes may not all peak at once)."""
    total = sum(_pg_memory(child) for child in node.get("Plans", []))
    kb = node.get("Peak Memory Usage", 0)
    if node.get("Sort Space Type") == "Memory":
        kb += node.get("Sort Space Used", 0)
    return total + kb * 1024


EXPLAIN_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_explain(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || q INTO plan;
  RETURN plan::text;
END $$"""


def load_postgres(dsn: str, name: str, paths: dict[str, Path], log: Callable[[str], None] = print) -> dict[str, str]:
    """Both layouts (``paths``: layout -> DuckDB file) into schemas on the server; {layout: schema}.

    partitioned: ``events`` PARTITION BY RANGE (event_date), one partition per month, rows in time
    order; unpartitioned: one heap table, rows in the shuffled order. Both: a B-tree on
    (event_name, event_date) (per partition), users with a PRIMARY KEY, ANALYZE, VACUUM.
    """
    import adbc_driver_postgresql.dbapi as pg

    from tests.backends import create_table_sql, plain_types

    schemas = {}
    for layout in LAYOUTS:
        schema = f"planner_{name}_{layout}"
        schemas[layout] = schema
        t0 = time.perf_counter()
        src = duckdb.connect(str(paths[layout]), read_only=True, config=dict(DUCKDB_CONFIG))
        try:
            with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
                cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                cur.execute(f"CREATE SCHEMA {schema}")
                cur.execute(f"SET search_path = {schema}")
                cur.execute(EXPLAIN_FUNCTION)
                users = plain_types(src.sql("SELECT * FROM users").to_arrow_table())
                cur.execute(create_table_sql("users", users.schema, schema))
                cur.adbc_ingest("users", users, mode="append", db_schema_name=schema)
                cur.execute(f"ALTER TABLE {schema}.users ADD PRIMARY KEY (user_id)")
                ddl = create_table_sql("events", pa.schema(list(EVENTS_SCHEMA)), schema)
                if layout == "partitioned":
                    cur.execute(ddl + " PARTITION BY RANGE (event_date)")
                    low, high = src.sql("SELECT min(event_date), max(event_date) FROM events").fetchall()[0]
                    month = low.replace(day=1)
                    while month <= high:
                        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
                        cur.execute(
                            f"CREATE TABLE {schema}.events_{month:%Y_%m} PARTITION OF {schema}.events "
                            f"FOR VALUES FROM ('{month}') TO ('{following}')"
                        )
                        month = following
                else:
                    cur.execute(ddl)
                reader = src.sql("SELECT * FROM events").to_arrow_reader(batch_size=1_000_000)
                for batch in reader:
                    cur.adbc_ingest(
                        "events", plain_types(pa.Table.from_batches([batch])), mode="append", db_schema_name=schema
                    )
                cur.execute(f"CREATE INDEX ON {schema}.events (event_name, event_date)")
                cur.execute(f"VACUUM ANALYZE {schema}.events")
                cur.execute(f"VACUUM ANALYZE {schema}.users")
        finally:
            src.close()
        log(f"postgresql {name} {layout}: loaded into {schema} in {time.perf_counter() - t0:.0f} s")
    return schemas


# -- one (engine, size, layout) ---------------------------------------------------------------------------


def single(sql_of: Callable[[], str]) -> Callable[[Execute], pa.Table]:
    return lambda execute: execute(sql_of())


def check_target(
    target: Any, layout: str, queries: dict[str, dict[str, Any]], now: datetime = NOW
) -> dict[str, dict[str, list[str]]]:
    """Every variant's answer against ``segwise.run``, untimed: {query: {variant: differences}}."""
    project = project_for(target.url, layout)
    out: dict[str, dict[str, list[str]]] = {}
    try:
        for name, query in queries.items():
            total = query.get("time_grain", "day") == "total"
            want = canonical(segwise.run(query, project, now=now), total)
            plans = {
                "naive": naive_plan(query, target.engine, now),
                "segwise": single(lambda q=query: project.compile(q, now=now)),
                "hand": single(lambda n=name, q=query: hand_sql(n, q, target.engine, now)),
            }
            out[name] = {v: differences(canonical(plan(target.execute), total), want) for v, plan in plans.items()}
    finally:
        project.close()
    return out


def run_target(
    target: Any,
    layout: str,
    queries: dict[str, dict[str, Any]],
    repeat: int,
    slow: float,
    log: Callable[[str], None] = print,
    now: datetime = NOW,
) -> dict[str, Any]:
    project = project_for(target.url, layout)
    entry: dict[str, Any] = {"events": target.events, "queries": {}}
    try:
        for name, query in queries.items():
            total = query.get("time_grain", "day") == "total"
            cell: dict[str, Any] = {}
            entry["queries"][name] = cell
            want = canonical(segwise.run(query, project, now=now), total)
            cell["rows"] = len(want)
            # segwise's SQL is compiled once, outside the timing: the plans are compared as
            # statements; planning time is measured on its own (``plan_ms``)
            compiled = project.compile(query, now=now)
            compile_samples = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                project.compile(query, now=now)
                compile_samples.append(time.perf_counter() - t0)
            plans = {
                "naive": naive_plan(query, target.engine, now),
                "segwise": single(lambda sql=compiled: sql),
                "hand": single(lambda n=name, q=query: hand_sql(n, q, target.engine, now)),
            }
            samples: dict[str, list[float]] = {}
            for variant, plan in plans.items():  # warm-up runs, checked against segwise.run
                result: dict[str, Any] = {}
                cell[variant] = result
                try:
                    t0 = time.perf_counter()
                    got = canonical(plan(target.execute), total)
                    first = time.perf_counter() - t0
                except Timeout as exc:
                    result["error"] = f"timeout ({exc})"
                    log(f"  {name:<32} {variant:<8} timed out")
                    continue
                problems = differences(got, want)
                result["same_as_run"] = not problems
                if problems:
                    result["differences"] = problems
                samples[variant] = [first] if first > slow else []
            # timed runs interleaved, the order rotated each round (naive segwise hand, segwise
            # hand naive, hand naive segwise, ...): drift on a shared machine hits every variant
            # alike, and none always runs right after the naive plan has evicted the cache
            once = {v for v, t in samples.items() if t}  # slow: the warm-up is its one sample
            order = list(plans)
            for round_ in range(repeat):
                shift = round_ % len(order)
                for variant in order[shift:] + order[:shift]:
                    plan = plans[variant]
                    if variant not in samples or variant in once:
                        continue
                    t0 = time.perf_counter()
                    plan(target.execute)
                    samples[variant].append(time.perf_counter() - t0)
            for variant, plan in plans.items():
                if variant not in samples:
                    continue
                result = cell[variant]
                result["median_ms"] = round(statistics.median(samples[variant]) * 1000, 2)
                result["runs"] = len(samples[variant])
                try:
                    result.update(target.profile(plan))
                except Timeout:
                    result["profile"] = "timeout"
            cell["segwise"]["plan_ms"] = round(statistics.median(compile_samples) * 1000, 2)
            line = "  ".join(
                f"{v} {cell[v].get('median_ms', float('nan')):>9.1f}"
                + ("" if cell[v].get("same_as_run", True) else "!")
                for v in VARIANTS
            )
            log(f"  {name:<32} {line}")
    finally:
        project.close()
    return entry


# -- the run -------------------------------------------------------------------------------------------


def run(
    sizes: list[str],
    engines: list[str],
    repeat: int,
    timeout: float,
    slow: float,
    only: list[str] | None = None,
    pg_sizes: list[str] | None = None,
    layouts: list[str] | None = None,
    log: Callable[[str], None] = print,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    queries = benchmark_queries()
    if only:
        queries = {k: v for k, v in queries.items() if k in only}
    report: dict[str, Any] = {
        "date": datetime.now().isoformat(timespec="minutes"),
        "now": NOW.isoformat(),
        "days": DAYS,
        "repeat": repeat,
        "timeout_s": timeout,
        "slow_s": slow,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "duckdb": duckdb.__version__,
        },
        "postgres_settings": PG_SETTINGS,
        "segwise_commit": _git_head(),
        "results": [],
    }
    started = time.perf_counter()
    dsn = None
    for size in sizes:
        ensure_duckdb(size, SIZES[size], log)
    for engine in engines:
        for size in sizes:
            if engine == "postgresql" and pg_sizes is not None and size not in pg_sizes:
                continue
            schemas: dict[str, str] = {}
            if engine == "postgresql":
                sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
                from tests.pg import get_server

                if dsn is None:
                    dsn = get_server().dsn
                    import adbc_driver_postgresql.dbapi as pg

                    with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
                        cur.execute("SELECT version()")
                        report["machine"]["postgresql"] = cur.fetch_arrow_table().column(0)[0].as_py()
                schemas = load_postgres(dsn, size, {lay: duckdb_path(size, lay) for lay in LAYOUTS}, log)
            for layout in layouts or LAYOUTS:
                log(f"{engine} {size} {layout}")
                if engine == "duckdb":
                    target: Any = DuckDBTarget(duckdb_path(size, layout), timeout)
                else:
                    target = PostgresTarget(dsn or "", schemas[layout], timeout)
                try:
                    entry = run_target(target, layout, queries, repeat, slow, log)
                finally:
                    target.close()
                entry.update({"engine": engine, "size": size, "layout": layout})
                report["results"].append(entry)
                report["elapsed_s"] = round(time.perf_counter() - started, 1)
                if on_progress:
                    on_progress(report)
            if engine == "postgresql" and dsn is not None:
                import adbc_driver_postgresql.dbapi as pg

                with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
                    for schema in schemas.values():
                        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return report


def _git_head() -> str:
    """The repository's HEAD, with ``+dirty`` when engine/ has uncommitted changes (what was measured)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "engine"], cwd=root, capture_output=True, text=True)
    except OSError:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


# -- the report -----------------------------------------------------------------------------------------


def _ms(cell: dict[str, Any]) -> str:
    if "median_ms" not in cell:
        return "timeout" if "error" in cell else "—"
    mark = "" if cell.get("same_as_run", True) else " ≠"
    return f"{cell['median_ms']:,.1f}{mark}"


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> str:
    if "median_ms" in a and "median_ms" in b and b["median_ms"] > 0:
        return f"{a['median_ms'] / b['median_ms']:.2f}"
    if "median_ms" in a and "error" in b:
        return f"<{a['median_ms'] / (b.get('timeout_ms') or 1e12):.2f}"
    return "—"


def _count(value: Any) -> str:
    if value is None:
        return "—"
    value = float(value)
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f}{unit}"
    return f"{value:.0f}"


def markdown(
    report: dict[str, Any],
    detail: tuple[str, str, str] = ("duckdb", "10m", "partitioned"),
    only_detail: bool = False,
) -> str:
    """A table per (engine, size, layout), the ``detail`` one with rows, bytes and memory too."""
    lines: list[str] = []
    gallery = set(gallery_queries())
    timeout_ms = report["timeout_s"] * 1000
    for entry in report["results"]:
        for q in entry["queries"].values():
            for v in VARIANTS:
                if "error" in q.get(v, {}):
                    q[v]["timeout_ms"] = timeout_ms
    for entry in report["results"]:
        key = (entry["engine"], entry["size"], entry["layout"])
        if only_detail and key != detail:
            continue
        lines.append(f"#### {entry['engine']}, {entry['events']:,} events, {entry['layout']}")
        lines.append("")
        if entry.get("partial"):
            lines += [f"Partial: {entry['partial']}.", ""]
        full = key == detail
        head = "| query | segwise ms | planning ms | hand ms | naive ms | segwise/hand | segwise/naive |"
        rule = "|---|---:|---:|---:|---:|---:|---:|"
        if full:
            head += " rows scanned s / h / n | bytes scanned s / h / n | peak memory s / h / n |"
            rule += "---:|---:|---:|"
        lines += [head, rule]
        for name, q in entry["queries"].items():
            s, h, n = (q.get(v, {}) for v in ("segwise", "hand", "naive"))
            mark = "" if name in gallery else " *"
            planning = f"{s['plan_ms']:.1f}" if "plan_ms" in s else "—"
            row = f"| {name}{mark} | {_ms(s)} | {planning} | {_ms(h)} | {_ms(n)} | {_ratio(s, h)} | {_ratio(s, n)} |"
            if full:
                row += " " + " / ".join(_count(c.get("rows_scanned")) for c in (s, h, n)) + " |"
                row += " " + " / ".join(_count(c.get("bytes_scanned")) for c in (s, h, n)) + " |"
                row += " " + " / ".join(_count(c.get("peak_memory")) for c in (s, h, n)) + " |"
            lines.append(row)
        lines.append("")
    lines += done_when(report, detail)
    return "\n".join(lines)


def _short(entry: dict[str, Any]) -> str:
    engine = {"duckdb": "DuckDB", "postgresql": "PG"}[entry["engine"]]
    return f"{engine} {entry['size'].upper()} {'part' if entry['layout'] == 'partitioned' else 'flat'}"


def summary(report: dict[str, Any]) -> str:
    """Two matrices over every (engine, size, layout): segwise / hand-written and segwise / naive."""
    entries = report["results"]
    names = list(entries[0]["queries"]) if entries else []
    gallery = set(gallery_queries())
    lines: list[str] = []
    for title, other in (("segwise / hand-written", "hand"), ("segwise / naive", "naive")):
        lines += [f"{title} (median latency ratio; < 1 means segwise is faster):", ""]
        lines.append("| query | " + " | ".join(_short(e) for e in entries) + " |")
        lines.append("|---|" + "---:|" * len(entries))
        for name in names:
            cells = []
            for e in entries:
                q = e["queries"].get(name, {})
                cells.append(_ratio(q.get("segwise", {}), q.get(other, {})))
            lines.append(f"| {name}{'' if name in gallery else ' *'} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def done_when(report: dict[str, Any], detail: tuple[str, str, str] = ("duckdb", "10m", "partitioned")) -> list[str]:
    entry = next(
        (e for e in report["results"] if (e["engine"], e["size"], e["layout"]) == detail),
        None,
    )
    if entry is None:
        return []
    lines = [f"Done-when figures ({detail[0]}, {entry['events']:,} events, {detail[2]}):", ""]
    seven = entry["queries"].get("x_seven_day_dau", {}).get("segwise", {})
    if "rows_scanned" in seven:
        share = seven["rows_scanned"] / entry["events"] * 100
        verdict = "meets" if share <= 5 else "misses"
        lines.append(
            f"- 7-day query on the 365-day partitioned table: segwise reads {seven['rows_scanned']:,} of "
            f"{entry['events']:,} rows = **{share:.2f}%** ({verdict} the ≤ 5% target)."
        )
    slower, over = [], []
    gallery = gallery_queries()
    for name in gallery:
        q = entry["queries"].get(name, {})
        s, h, n = (q.get(v, {}) for v in ("segwise", "hand", "naive"))
        if "median_ms" in s and "median_ms" in h and s["median_ms"] > 1.2 * h["median_ms"]:
            over.append(f"{name} ({s['median_ms'] / h['median_ms']:.2f}x)")
        if "median_ms" in s and "median_ms" in n and s["median_ms"] > n["median_ms"]:
            slower.append(f"{name} ({s['median_ms'] / n['median_ms']:.2f}x naive)")
    lines.append(
        f"- segwise within 1.2x of hand-written: {len(gallery) - len(over)} of {len(gallery)} gallery queries"
        + (f"; over: {', '.join(over)}." if over else ".")
    )
    lines.append(
        f"- segwise never slower than naive: {len(gallery) - len(slower)} of {len(gallery)} gallery queries"
        + (f"; slower: {', '.join(slower)}." if slower else ".")
    )
    planning = [
        entry["queries"][n]["segwise"]["plan_ms"]
        for n in gallery
        if "plan_ms" in entry["queries"].get(n, {}).get("segwise", {})
    ]
    if planning:
        lines.append(
            f"- planning (compiling the query, not in the ratios above): median {statistics.median(planning):.1f} ms, "
            f"at most {max(planning):.1f} ms per gallery query."
        )
    mismatches = [
        f"{e['engine']} {e['size']} {e['layout']} {name} {v}"
        for e in report["results"]
        for name, q in e["queries"].items()
        for v in VARIANTS
        if q.get(v, {}).get("same_as_run") is False
    ]
    lines.append(
        "- answers: "
        + ("every variant equals `segwise.run`." if not mismatches else "differ: " + "; ".join(mismatches))
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,10m,50m")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--pg-sizes", default=None, help="sizes to run on PostgreSQL (default: all of --sizes)")
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--queries", default=None, help="comma-separated subset of query names")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per statement before it is cancelled")
    parser.add_argument("--slow", type=float, default=15.0, help="a variant whose first run takes longer is timed once")
    parser.add_argument("--out", type=Path, default=RESULTS / "planner.json")
    parser.add_argument("--report-only", action="store_true", help="re-print the Markdown of an existing --out JSON")
    args = parser.parse_args(argv)

    def split(text: str | None) -> list[str] | None:
        return None if text is None else [t.strip() for t in text.split(",") if t.strip()]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def save(report: dict[str, Any]) -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        partial = args.out.with_suffix(".json.tmp")
        partial.write_text(json.dumps(report, indent=1, default=str) + "\n")
        os.replace(partial, args.out)

    if args.report_only:  # the docs/benchmarks.md tables: the detail table, the ratio matrices, done-when
        report = json.loads(args.out.read_text())
        print(markdown(report, only_detail=True) + "\n\n" + summary(report))
        return
    report = run(
        split(args.sizes) or [],
        split(args.engines) or [],
        args.repeat,
        args.timeout,
        args.slow,
        only=split(args.queries),
        pg_sizes=split(args.pg_sizes),
        layouts=split(args.layouts),
        log=log,
        on_progress=save,
    )
    save(report)
    text = markdown(report) + "\n\n" + summary(report)  # every table of the run
    args.out.with_suffix(".md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
