"""(c) The hand-written SQL of the planner benchmark, one portable text per query (see
``benchmarks/planner.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from benchmarks.planner_queries import NOW, collate, date_range, rolling_days

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
