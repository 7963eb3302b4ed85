"""The cases of the behavioural-segment suite (``tests/test_cohorts.py``): the project's named
cohorts and categories, and queries over the generated data (2025-01-01..2025-03-02, "now"
2025-02-20 15:30) using every option of docs/queries.md "Behavioural segments, cohorts and
categories"."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.advanced_support import NOW
from tests.segmentation_cases import ALL, FEB, c, q, s

LAST_30 = {"last": "30d"}


def did(event: Any, having: dict[str, Any] | None = None, window: dict[str, Any] | None = None, *where: Any) -> Any:
    spec: dict[str, Any] = {"event": event}
    if having is not None:
        spec["having"] = having
    if window is not None:
        spec["date_range"] = window
    if where:
        spec["where"] = list(where)
    return spec


def having(measure: str, op: str, *operands: float) -> dict[str, Any]:
    if op == "between":
        return {"measure": measure, "op": op, "values": list(operands)}
    return {"measure": measure, "op": op, "value": operands[0]}


COHORTS: dict[str, Any] = {
    "buyers": {"did": did("purchase")},
    "repeat_buyers": {"did": did("purchase", having("events", "gte", 2))},
    "power_users": {"did": did("any", having("active_days", "gte", 10), LAST_30)},
    "engaged_buyers": {"cohort": ["buyers", "power_users"]},  # a cohort made of cohorts
    "quiet": {"did_not": did("login", None, LAST_30), "user_where": [c("license_type", "is_not_null")]},
}

CATEGORIES: dict[str, Any] = {
    "engagement": {
        "of": [
            {"label": "new", "segment": {"did": did("signup", None, LAST_30)}},
            {"label": "power", "segment": {"cohort": "power_users"}},
            {"label": "casual", "segment": {"did": did("any", having("active_days", "gte", 3), LAST_30)}},
        ],
        "else": "rare",
    },
    "spend": {  # the 4-tier category of the benchmark, by purchases in the last 30 days
        "of": [
            {"label": "whale", "segment": {"did": did("purchase", having("sum:revenue", "gte", 100), LAST_30)}},
            {"label": "repeat", "segment": {"did": did("purchase", having("events", "gte", 2), LAST_30)}},
            {"label": "once", "segment": {"did": did("purchase", None, LAST_30)}},
        ],
        "else": "none",
    },
}

WEEKLY = {"time_grain": "week", "rng": ALL}


def weekly(series: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return q(series, grain="week", rng=ALL, **extra)


# name -> (query, options for the check: timezone, week_start)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "having events gte, ever": (
        weekly(s("login", "unique_users"), segment={"did": did("purchase", having("events", "gte", 2))}),
        {},
    ),
    "list of did: purchases and active days in 30 days": (
        weekly(
            s("any", "unique_users"),
            segment={
                "did": [
                    did("purchase", having("events", "gte", 1), LAST_30),
                    did("any", having("active_days", "gte", 8), LAST_30),
                ]
            },
        ),
        {},
    ),
    "did_not with having is the exact negation": (
        weekly(s("page_view", "unique_users"), segment={"did_not": did("purchase", having("events", "gte", 2))}),
        {},
    ),
    "did_not list: none of them": (
        weekly(
            s("login", "events"),
            segment={"did_not": [did("purchase"), did("payment", having("sum:amount", "gt", 50))]},
        ),
        {},
    ),
    "sum, avg, min, max and between": (
        weekly(
            s("any", "unique_users"),
            segment={
                "did": [
                    did("payment", having("avg:amount", "between", 10, 80)),
                    did("payment", having("max:amount", "lte", 100)),
                    did("payment", having("min:amount", "gte", 5)),
                ]
            },
        ),
        {},
    ),
    "eq, neq, gt, lt": (
        weekly(
            s("login", "unique_users"),
            segment={
                "did": [did("purchase", having("events", "neq", 2)), did("purchase", having("events", "lt", 4))],
                "did_not": did("purchase", having("events", "eq", 3)),
            },
        ),
        {},
    ),
    "having with filters and a window": (
        weekly(
            s("feature_used", "unique_users"),
            segment={"did": did("purchase", having("events", "gt", 0), FEB, c("revenue", "gt", 20))},
        ),
        {},
    ),
    "a named cohort": (weekly(s("any", "unique_users"), segment={"cohort": "power_users"}), {}),
    "cohorts of cohorts, a list, with did_not and user_where": (
        weekly(
            s("page_view", "events"),
            segment={
                "cohort": ["engaged_buyers", "repeat_buyers"],
                "did_not": did("push_opened"),
                "user_where": [c("country", "neq", "US")],
            },
        ),
        {},
    ),
    "a cohort of units without events (did_not only) and user_where": (
        weekly(s("page_view", "unique_users"), segment={"cohort": "quiet"}),
        {},
    ),
    "category breakdown": (weekly(s("any", "unique_users"), breakdown=["engagement"]), {}),
    "the four tiers, weekly active users": (weekly(s("any", "wau"), breakdown=["spend"]), {}),
    "category with a segment, a property and top-N": (
        weekly(
            s("page_view", "events"),
            breakdown=["spend", "country"],
            breakdown_limit=4,
            segment={"did": did("login", having("events", "gte", 3))},
        ),
        {},
    ),
    "a query's category wins over the project's": (
        weekly(
            s("login", "unique_users"),
            breakdown=["engagement"],
            categories={
                "engagement": {
                    "of": [
                        {"label": "buyer", "segment": {"cohort": "buyers"}},
                        {"label": "germany", "segment": {"user_where": [c("country", "eq", "DE")]}},
                    ]
                }
            },
        ),
        {},
    ),
    "category and segment breakdowns, per-user measure": (
        weekly(
            s("feature_used", "events_per_user"),
            breakdown=["segment", "engagement"],
            segment={"cohort": "buyers"},
        ),
        {},
    ),
    "active days in the project's time zone": (
        q(
            s("login", "unique_users"),
            grain="month",
            rng={"from": date(2025, 1, 1), "to": date(2025, 3, 1)},
            segment={"did": did("any", having("active_days", "gte", 12), {"from": "2025-01-01", "to": "2025-02-01"})},
            breakdown=["engagement"],
        ),
        {"timezone": "Asia/Kolkata"},
    ),
}

# Spark starts one JVM for the session and is slow per query: it runs these.
SPARK_CASES = {
    "list of did: purchases and active days in 30 days",
    "a named cohort",
    "the four tiers, weekly active users",
}

ANALYSES: dict[str, dict[str, Any]] = {
    "lifecycle by category, in a cohort": {
        "lifecycle": {"event": "login"},
        "date_range": {"from": date(2025, 1, 6), "to": date(2025, 3, 3)},
        "time_grain": "week",
        "breakdown": ["engagement"],
        "segment": {"did_not": did("purchase", having("events", "gte", 2))},
    },
    "stickiness by category": {
        "stickiness": {"event": "page_view"},
        "date_range": {"from": date(2025, 1, 6), "to": date(2025, 3, 3)},
        "time_grain": "week",
        "breakdown": ["spend"],
        "segment": {"cohort": "power_users"},
    },
}

__all__ = ["ANALYSES", "CASES", "CATEGORIES", "COHORTS", "NOW", "SPARK_CASES", "WEEKLY"]
