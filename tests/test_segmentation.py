"""The shared segmentation suite: every engine's answers against the reference oracle.

Each case is a query run on a dataset loaded into each backend of ``tests.backends.BACKENDS``
(see ``conftest.py``); ``dataset.check`` asserts that the engine's Arrow table and the oracle's
rows agree in schema, order and values. Nothing here depends on a particular engine.

Datasets:
- ``generated``: the demo generator (400 users, 60 days from 2025-01-01); users ending in 7 are
  missing from the users table, and the users table has its own nullable ``platform``.
- ``simple``: the real e-commerce sample (2,999 events on 2020-01-01 00:00..04:31 UTC), with a
  derived users table (``tier`` with nulls, ``score``, ``vip``; ids divisible by 7 missing).
- ``subscriptions``: the real subscription sample (2021-01-02..2021-06-05, crosses a DST change).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import segwise
from tests.conftest import assert_same

JAN = {"from": "2025-01-10", "to": "2025-02-10"}
FEB = {"from": date(2025, 2, 1), "to": date(2025, 3, 1)}
WEEK = {"from": date(2025, 1, 13), "to": date(2025, 1, 20)}
ALL = {"from": date(2025, 1, 1), "to": date(2025, 3, 2)}
SIMPLE_DAY = {"from": date(2020, 1, 1), "to": date(2020, 1, 2)}
SUBS = {"from": date(2021, 1, 1), "to": date(2021, 7, 1)}


def q(*series: dict[str, Any], grain: str = "day", rng: dict | None = None, **extra: Any) -> dict[str, Any]:
    return {"series": list(series), "date_range": rng or JAN, "time_grain": grain, **extra}


def s(event: Any, measure: str = "events", *where: dict[str, Any], **extra: Any) -> dict[str, Any]:
    series: dict[str, Any] = {"event": event, "measure": measure, **extra}
    if where:
        series["where"] = list(where)
    return series


def c(prop: str, op: str, *operands: Any) -> dict[str, Any]:
    """A condition: one operand is ``value``; several (or a list for in/not_in) are ``values``."""
    cond: dict[str, Any] = {"property": prop, "op": op}
    if op in ("in", "not_in", "between"):
        cond["values"] = list(operands)
    elif operands:
        (cond["value"],) = operands
    return cond


def nontrivial(rows: list[dict[str, Any]]) -> None:
    """A guard against vacuous cases: the oracle's answer holds some non-zero value."""
    assert rows, "the oracle returned no rows"
    assert any(r["value"] for r in rows), "every value is 0 or null: the case checks nothing"


# ---------------------------------------------------------------------------------------------------
# generated data

GENERATED: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # measures
    "events": (q(s("page_view")), {}),
    "unique_users": (q(s("login", "unique_users")), {}),
    "events_per_user": (q(s("feature_used", "events_per_user")), {}),
    "sum": (q(s("purchase", "sum:revenue")), {}),
    "avg": (q(s("purchase", "avg:revenue"), grain="week"), {}),
    "min": (q(s("purchase", "min:revenue"), grain="week"), {}),
    "max": (q(s("purchase", "max:revenue"), grain="week"), {}),
    "median": (q(s("purchase", "median:revenue"), grain="week"), {}),
    "p90": (q(s("purchase", "p90:revenue"), grain="month", rng=ALL), {}),
    "p5_amount": (q(s("payment", "p5:amount"), grain="total", rng=ALL), {}),
    "sum_over_nulls": (q(s("any", "sum:revenue"), grain="week"), {}),  # nulls of other events skipped
    "avg_breakdown": (q(s("payment", "avg:amount"), grain="month", rng=ALL, breakdown=["plan"]), {}),
    # string operators on a property with nulls (feature is set on feature_used only)
    "str_eq": (q(s("any", "events", c("feature", "eq", "reports"))), {}),
    "str_neq": (q(s("any", "events", c("feature", "neq", "reports")), grain="week"), {}),
    "str_in": (q(s("any", "events", c("feature", "in", "export", "api", "nothing")), grain="week"), {}),
    "str_not_in": (q(s("any", "events", c("feature", "not_in", "export", "api")), grain="week"), {}),
    "str_contains": (q(s("page_view", "events", c("url", "contains", "doc")), grain="week"), {}),
    "str_not_contains": (q(s("any", "events", c("url", "not_contains", "doc")), grain="week"), {}),
    "str_starts_with": (q(s("page_view", "events", c("referrer", "starts_with", "mail.")), grain="total"), {}),
    "str_is_null": (q(s("any", "events", c("campaign", "is_null")), grain="week"), {}),
    "str_is_not_null": (q(s("any", "events", c("campaign", "is_not_null")), grain="week"), {}),
    "str_gt": (q(s("page_view", "events", c("url", "gt", "/docs")), grain="week"), {}),
    "str_between": (q(s("page_view", "events", c("referrer", "between", "b", "l")), grain="week"), {}),
    # numeric operators (revenue is null on every event but purchase)
    "num_gt": (q(s("any", "events", c("revenue", "gt", 50))), {}),
    "num_gte_int": (q(s("payment", "events", c("amount", "gte", 49)), grain="week"), {}),
    "num_lt": (q(s("any", "unique_users", c("revenue", "lt", 20.5)), grain="week"), {}),
    "num_lte": (q(s("payment", "events", c("amount", "lte", 29)), grain="week"), {}),
    "num_between": (q(s("any", "events", c("revenue", "between", 10, 30)), grain="week"), {}),
    "num_eq": (q(s("payment", "events", c("amount", "eq", 99)), grain="month", rng=ALL), {}),
    "num_neq_skips_nulls": (q(s("any", "events", c("amount", "neq", 9)), grain="week"), {}),
    "num_in": (q(s("any", "events", c("amount", "in", 9, 299)), grain="month", rng=ALL), {}),
    "num_not_in": (q(s("any", "events", c("amount", "not_in", 9, 299)), grain="month", rng=ALL), {}),
    "num_is_null": (q(s("purchase", "events", c("amount", "is_null")), grain="week"), {}),
    "date_gte": (q(s("login", "events", c("event_date", "gte", date(2025, 1, 20)))), {}),
    "date_between": (q(s("login", "events", c("event_date", "between", date(2025, 1, 15), date(2025, 1, 17)))), {}),
    # user properties (users ending in 7 have none)
    "user_eq": (q(s("login", "unique_users", c("country", "eq", "US")), grain="week"), {}),
    "user_in": (q(s("any", "events", c("subscription_type", "in", "pro", "enterprise")), grain="week"), {}),
    "user_neq_skips_missing": (q(s("any", "unique_users", c("account_type", "neq", "personal")), grain="week"), {}),
    "user_is_null_missing_users": (q(s("any", "unique_users", c("country", "is_null")), grain="week"), {}),
    "user_starts_with": (q(s("page_view", "events", c("city", "starts_with", "San ")), grain="week"), {}),
    "user_prefix": (q(s("any", "events", c("user.platform", "eq", "web")), grain="week"), {}),
    "event_prefix": (q(s("any", "events", c("event.platform", "eq", "web")), grain="week"), {}),
    "unprefixed_is_event": (q(s("any", "events", c("platform", "eq", "web")), grain="week"), {}),
    "user_and_event_conds": (q(s("page_view", "events", c("country", "eq", "US"), c("platform", "neq", "web"))), {}),
    # events
    "any_event": (q(s("any", "unique_users"), grain="week"), {}),
    "any_event_where": (q(s("any", "events", c("platform", "eq", "android"))), {}),
    "any_of": (q(s({"any_of": ["signup", {"event": "purchase", "where": [c("revenue", "gt", 40)]}]})), {}),
    "any_of_series_where": (
        q(s({"any_of": ["login", "signup"]}, "unique_users", c("platform", "eq", "ios")), grain="week"),
        {},
    ),
    "several_series": (
        q(
            s("page_view", label="views"),
            s("signup", "unique_users", label="signups"),
            s("purchase", "sum:revenue", label="revenue"),
            grain="week",
        ),
        {},
    ),
    "several_series_default_labels": (q(s("login"), s("signup"), s("payment", "unique_users")), {}),
    # grains
    "hour": (q(s("any"), grain="hour", rng={"from": datetime(2025, 1, 14, 6), "to": datetime(2025, 1, 15, 18)}), {}),
    "week": (q(s("any"), grain="week", rng=ALL), {}),
    "month": (q(s("any", "unique_users"), grain="month", rng=ALL, breakdown=["platform"]), {}),
    "quarter": (q(s("any"), grain="quarter", rng={"from": date(2024, 11, 1), "to": date(2025, 5, 1)}), {}),
    "year": (q(s("signup", "unique_users"), grain="year", rng={"from": date(2024, 6, 1), "to": date(2026, 1, 1)}), {}),
    "total": (q(s("page_view", "events_per_user"), grain="total", breakdown=["platform"]), {}),
    "range_mid_day": (q(s("any"), rng={"from": datetime(2025, 1, 10, 13, 30), "to": datetime(2025, 1, 14, 9, 15)}), {}),
    "week_mid_week_range": (q(s("any"), grain="week", rng={"from": "2025-01-08", "to": "2025-01-30"}), {}),
    # week start and time zones
    "week_sunday": (q(s("any"), grain="week", rng=ALL), {"week_start": "sunday"}),
    "week_sunday_breakdown": (
        q(s("login", "unique_users"), grain="week", breakdown=["platform"]),
        {"week_start": "sunday"},
    ),
    "week_wednesday": (q(s("any"), grain="week"), {"week_start": "wednesday"}),
    "ny_day": (q(s("any")), {"timezone": "America/New_York"}),
    "ny_hour": (
        q(s("any"), grain="hour", rng={"from": date(2025, 1, 14), "to": date(2025, 1, 15)}),
        {"timezone": "America/New_York"},
    ),
    "ny_week_sunday": (
        q(s("any", "unique_users"), grain="week"),
        {"timezone": "America/New_York", "week_start": "sunday"},
    ),
    "kolkata_day": (q(s("page_view", "unique_users"), breakdown=["platform"]), {"timezone": "Asia/Kolkata"}),
    "kolkata_hour": (
        q(s("any"), grain="hour", rng={"from": date(2025, 1, 14), "to": date(2025, 1, 15)}),
        {"timezone": "Asia/Kolkata"},
    ),
    "kolkata_month": (q(s("purchase", "sum:revenue"), grain="month", rng=ALL), {"timezone": "Asia/Kolkata"}),
    # relative ranges
    "last_30d": (q(s("any"), rng={"last": "30d"}), {"now": datetime(2025, 2, 15, 12, 0)}),
    "last_4w": (q(s("any", "unique_users"), grain="week", rng={"last": "4w"}), {"now": datetime(2025, 2, 20)}),
    "last_12h": (q(s("any"), grain="hour", rng={"last": "12h"}), {"now": datetime(2025, 1, 20, 15, 30)}),
    "last_1m_aware_ny": (
        q(s("any"), rng={"last": "1m"}),
        {"now": datetime(2025, 3, 1, 3, 0, tzinfo=UTC), "timezone": "America/New_York"},
    ),
    "last_1q": (q(s("any"), grain="month", rng={"last": "1q"}), {"now": datetime(2025, 3, 2)}),
    "last_2d_kolkata": (
        q(s("any"), grain="hour", rng={"last": "2d"}),
        {"now": datetime(2025, 2, 1, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata")), "timezone": "Asia/Kolkata"},
    ),
    # breakdowns
    "breakdown_event": (q(s("any"), grain="week", breakdown=["event"]), {}),
    "breakdown_user_prop": (q(s("any", "unique_users"), grain="week", breakdown=["country"]), {}),
    "breakdown_two": (q(s("page_view"), grain="week", breakdown=["platform", "campaign"]), {}),
    "breakdown_event_and_user": (q(s("any", "unique_users"), grain="total", breakdown=["event", "account_type"]), {}),
    "breakdown_user_prefix": (q(s("login"), grain="week", breakdown=["user.platform"]), {}),
    "breakdown_date": (q(s("signup"), grain="week", rng=WEEK, breakdown=["event_date"]), {}),
    "breakdown_sparse_fill": (q(s("purchase"), breakdown=["platform"]), {}),
    "breakdown_several_series": (
        q(s("purchase", "sum:revenue"), s("purchase", "unique_users"), grain="week", breakdown=["platform"]),
        {},
    ),
    # rolling active users
    "dau_day_breakdown": (q(s("any", "dau"), breakdown=["platform"]), {}),
    "wau_day": (q(s("login", "wau")), {}),
    "wau_week_breakdown": (q(s("any", "wau"), grain="week", rng=ALL, breakdown=["platform"]), {}),
    "mau_day": (q(s("any", "mau"), rng=FEB), {}),
    "mau_month": (q(s("any", "mau"), grain="month", rng=ALL), {}),
    "active_3d_day_breakdown": (q(s("feature_used", "active_users:3d"), breakdown=["feature"]), {}),
    "active_3d_week_breakdown": (q(s("any", "active_users:3d"), grain="week", breakdown=["country"]), {}),
    "wau_total": (q(s("page_view", "wau"), grain="total"), {}),
    "wau_sunday": (q(s("any", "wau"), grain="week"), {"week_start": "sunday"}),
    "wau_ny": (q(s("any", "wau")), {"timezone": "America/New_York"}),
    "wau_filtered": (q(s("any", "wau", c("country", "eq", "US")), grain="week"), {}),
    "wau_relative_mid_day": (q(s("any", "wau"), rng={"last": "10d"}), {"now": datetime(2025, 2, 10, 8)}),
    "dau_with_events": (q(s("login", "dau"), s("login", "events")), {}),
    "rolling_with_float_series": (q(s("login", "wau"), s("purchase", "avg:revenue"), grain="week"), {}),
    # edges
    "last_1m_clamped": (q(s("any"), rng={"last": "1m"}), {"now": datetime(2025, 3, 31, 6)}),
    "last_1y": (q(s("signup", "unique_users"), grain="quarter", rng={"last": "1y"}), {"now": datetime(2025, 2, 14)}),
    "breakdown_integral_floats": (q(s("payment"), grain="month", rng=ALL, breakdown=["amount"]), {}),
    "events_per_user_breakdown": (q(s("any", "events_per_user"), grain="week", breakdown=["subscription_type"]), {}),
    "in_single_value": (q(s("any", "events", c("platform", "in", "ios"))), {}),
    "any_of_with_any": (q(s({"any_of": ["any", "login"]}, "unique_users"), grain="week"), {}),
    "same_event_two_measures": (q(s("purchase", "events"), s("purchase", "max:revenue"), grain="week"), {}),
    "week_from_on_week_start": (q(s("any"), grain="week", rng={"from": "2025-01-06", "to": "2025-02-03"}), {}),
    "quarter_ny": (q(s("any", "unique_users"), grain="quarter", rng=ALL), {"timezone": "America/New_York"}),
    "dau_hour_kolkata": (
        q(s("login", "dau"), grain="hour", rng={"from": date(2025, 1, 14), "to": date(2025, 1, 15)}),
        {"timezone": "Asia/Kolkata"},
    ),
    "wau_total_breakdown": (q(s("any", "wau"), grain="total", breakdown=["account_type"]), {}),
    "mau_relative_breakdown_limit": (
        q(s("any", "mau"), grain="week", rng={"last": "5w"}, breakdown=["country"], breakdown_limit=3),
        {"now": datetime(2025, 2, 26, 18)},
    ),
    "breakdown_all_null_for_series": (q(s("login"), grain="week", breakdown=["campaign"]), {}),
}


@pytest.mark.parametrize("case", list(GENERATED))
def test_generated(generated, case):
    query, options = GENERATED[case]
    nontrivial(generated.check(query, **options))


# breakdown_limit ------------------------------------------------------------------------------------


def _groups_sum(rows: list[dict[str, Any]], column: str) -> dict[Any, Any]:
    return {r[column]: r["value"] for r in rows}


def test_limit_unique_users_counts_a_user_once_in_other(generated):
    base = q(s("feature_used", "unique_users"), grain="total", breakdown=["feature"])
    unlimited = generated.check(base)
    limited = generated.check({**base, "breakdown_limit": 3})
    values = _groups_sum(limited, "feature")
    kept = sorted(unlimited, key=lambda r: -r["value"])[:3]
    assert len(limited) == 4 and "Other" in values
    assert {r["feature"] for r in kept} == set(values) - {"Other"}
    others = [r["value"] for r in unlimited if r["feature"] not in values]
    # the data must contain users in two of the other groups, else this case proves nothing
    assert values["Other"] < sum(others)
    assert values["Other"] >= max(others)


def test_limit_on_sum(generated):
    nontrivial(
        generated.check(
            q(
                s("page_view", "events"),
                s("purchase", "sum:revenue"),
                grain="week",
                breakdown=["country"],
                breakdown_limit=4,
            )
        )
    )
    rows = generated.check(q(s("purchase", "sum:revenue"), grain="week", breakdown=["country"], breakdown_limit=3))
    assert len({r["country"] for r in rows}) == 4


def test_limit_ranks_by_first_series_and_applies_to_all(generated):
    # A ranks the referrers (iOS page views); B (all page views) keeps A's top 3 and folds the rest
    rows = generated.check(
        q(
            s("page_view", "unique_users", c("platform", "eq", "ios")),
            s("page_view"),
            grain="week",
            breakdown=["referrer"],
            breakdown_limit=3,
        )
    )
    kept = {r["referrer"] for r in rows if r["series"] == "A"} - {"Other"}
    assert len(kept) == 3
    assert {r["referrer"] for r in rows if r["series"] == "B"} == kept | {"Other"}


@pytest.mark.parametrize(
    "query",
    [
        q(s("purchase", "avg:revenue"), grain="week", breakdown=["country"], breakdown_limit=3),
        q(s("purchase", "p90:revenue"), grain="total", breakdown=["country"], breakdown_limit=3),
        q(
            s("purchase", "min:revenue"),
            s("purchase", "max:revenue"),
            grain="week",
            breakdown=["city"],
            breakdown_limit=4,
        ),
        q(s("page_view", "events_per_user"), grain="week", breakdown=["referrer"], breakdown_limit=3),
        q(s("page_view", "events"), s("page_view", "mau"), grain="week", breakdown=["campaign"], breakdown_limit=2),
        q(s("any", "unique_users"), grain="week", breakdown=["platform", "account_type"], breakdown_limit=4),
        q(s("any", "wau"), grain="week", breakdown=["feature"], breakdown_limit=2),
        q(s("payment", "events"), grain="month", rng=ALL, breakdown=["plan"], breakdown_limit=10),
        q(s("any", "events"), grain="week", breakdown=["event"], breakdown_limit=3),
        q(s("page_view", "avg:revenue"), s("page_view"), grain="total", breakdown=["campaign"], breakdown_limit=2),
    ],
    ids=[
        "avg_pooled",
        "percentile_pooled",
        "min_max",
        "events_per_user",
        "rolling_second",
        "two_columns",
        "rolling",
        "limit_above_groups",
        "by_event",
        "null_measure_ranks",
    ],
)
def test_limit_cases(generated, query):
    nontrivial(generated.check(query))


# ---------------------------------------------------------------------------------------------------
# simple.csv: real data with empty strings, a dashed column name and 19-digit integers

SIMPLE: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "hour_unique_users": (q(s("view", "unique_users"), grain="hour", rng=SIMPLE_DAY), {}),
    "brand_eq_empty": (q(s("any", "events", c("brand", "eq", "")), grain="hour", rng=SIMPLE_DAY), {}),
    "brand_neq_empty": (q(s("any", "events", c("brand", "neq", "")), grain="hour", rng=SIMPLE_DAY), {}),
    "category_code_eq_empty": (q(s("any", "events", c("category_code", "eq", "")), grain="total", rng=SIMPLE_DAY), {}),
    "category_code_is_not_null": (
        q(s("any", "events", c("category_code", "is_not_null")), grain="total", rng=SIMPLE_DAY),
        {},
    ),
    "category_code_contains": (
        q(s("any", "events", c("category_code", "contains", "appliances.")), grain="total", rng=SIMPLE_DAY),
        {},
    ),
    "category_id_19_digits": (
        q(s("any", "events", c("category_id", "eq", 1487580005754995573)), grain="total", rng=SIMPLE_DAY),
        {},
    ),
    "category_id_in": (
        q(
            s("any", "events", c("category_id", "in", 1487580005754995573, 1602943681873052386)),
            grain="hour",
            rng=SIMPLE_DAY,
        ),
        {},
    ),
    "product_id_eq": (q(s("any", "events", c("product-id", "eq", "5809910")), grain="total", rng=SIMPLE_DAY), {}),
    "product_id_starts_with": (
        q(s("any", "unique_users", c("product-id", "starts_with", "58")), grain="hour", rng=SIMPLE_DAY),
        {},
    ),
    "price_between": (q(s("cart", "events", c("price", "between", 2, 5.24)), grain="hour", rng=SIMPLE_DAY), {}),
    "price_gt_sum": (q(s("purchase", "sum:price", c("price", "gt", 10)), grain="hour", rng=SIMPLE_DAY), {}),
    "median_price": (q(s("view", "median:price"), grain="hour", rng=SIMPLE_DAY), {}),
    "p75_price_by_event": (q(s("any", "p75:price"), grain="total", rng=SIMPLE_DAY, breakdown=["event"]), {}),
    "brand_contains": (q(s("any", "events", c("brand", "contains", "ru")), grain="total", rng=SIMPLE_DAY), {}),
    "brand_not_contains": (q(s("any", "events", c("brand", "not_contains", "a")), grain="hour", rng=SIMPLE_DAY), {}),
    "user_tier_is_null": (q(s("any", "unique_users", c("tier", "is_null")), grain="hour", rng=SIMPLE_DAY), {}),
    "user_tier_neq": (q(s("any", "unique_users", c("tier", "neq", "gold")), grain="hour", rng=SIMPLE_DAY), {}),
    "user_score_gt": (q(s("cart", "events", c("score", "gt", 50)), grain="hour", rng=SIMPLE_DAY), {}),
    "user_vip_eq_true": (q(s("cart", "events", c("vip", "eq", True)), grain="hour", rng=SIMPLE_DAY), {}),
    "avg_user_score": (q(s("purchase", "avg:score"), grain="total", rng=SIMPLE_DAY), {}),
    "breakdown_brand_with_empty": (
        q(s("purchase", "unique_users"), grain="total", rng=SIMPLE_DAY, breakdown=["brand"]),
        {},
    ),
    "breakdown_price_floats": (q(s("purchase"), grain="total", rng=SIMPLE_DAY, breakdown=["price"]), {}),
    "breakdown_category_id": (
        q(s("cart", "events", c("brand", "eq", "runail")), grain="total", rng=SIMPLE_DAY, breakdown=["category_id"]),
        {},
    ),
    "breakdown_product_id": (
        q(s("purchase", "events", c("brand", "eq", "")), grain="total", rng=SIMPLE_DAY, breakdown=["product-id"]),
        {},
    ),
    "breakdown_user_tier_vip": (
        q(s("view", "unique_users"), grain="hour", rng=SIMPLE_DAY, breakdown=["tier", "vip"]),
        {},
    ),
    "limit_brand_unique_users": (
        q(s("any", "unique_users"), grain="hour", rng=SIMPLE_DAY, breakdown=["brand"], breakdown_limit=5),
        {},
    ),
    "limit_brand_sum_price": (
        q(s("purchase", "sum:price"), grain="total", rng=SIMPLE_DAY, breakdown=["brand"], breakdown_limit=3),
        {},
    ),
    "funnel_series": (
        q(
            s("view", "unique_users"),
            s("cart", "unique_users"),
            s("purchase", "unique_users"),
            grain="hour",
            rng=SIMPLE_DAY,
        ),
        {},
    ),
    "ny_previous_day": (
        q(s("any"), rng={"from": date(2019, 12, 31), "to": date(2020, 1, 2)}),
        {"timezone": "America/New_York"},
    ),
    "kolkata_hour": (q(s("any", "unique_users"), grain="hour", rng=SIMPLE_DAY), {"timezone": "Asia/Kolkata"}),
    "relative_3h": (q(s("view"), grain="hour", rng={"last": "3h"}), {"now": datetime(2020, 1, 1, 4, 10)}),
    "dau_hour": (q(s("cart", "dau"), grain="hour", rng=SIMPLE_DAY, breakdown=["event"]), {}),
    "median_user_score": (q(s("view", "median:score"), grain="hour", rng=SIMPLE_DAY), {}),
    "sum_min_user_score": (q(s("cart", "sum:score"), s("cart", "min:score"), grain="hour", rng=SIMPLE_DAY), {}),
    "float_value_on_int_property": (q(s("any", "events", c("score", "gt", 49.5)), grain="total", rng=SIMPLE_DAY), {}),
}


@pytest.mark.parametrize("case", list(SIMPLE))
def test_simple(simple, case):
    query, options = SIMPLE[case]
    nontrivial(simple.check(query, **options))


def test_simple_category_code_is_null_matches_nothing(simple):
    # the CSV has empty strings, not nulls: is_null matches no row, eq '' matches most of them
    rows = simple.check(q(s("any", "events", c("category_code", "is_null")), grain="total", rng=SIMPLE_DAY))
    assert [r["value"] for r in rows] == [0]


# ---------------------------------------------------------------------------------------------------
# subscriptions.csv: string user ids over five months, across the March DST change; every event is
# at midnight UTC on the 2nd or 5th of a month

SUBSCRIPTIONS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "month_events": (q(s("renewed_subscription"), grain="month", rng=SUBS), {}),
    "week_unique_users_by_event": (q(s("any", "unique_users"), grain="week", rng=SUBS, breakdown=["event"]), {}),
    "ny_day_across_dst": (
        q(s("any"), rng={"from": date(2021, 3, 1), "to": date(2021, 4, 1)}),
        {"timezone": "America/New_York"},
    ),
    "ny_hour_spring_forward": (
        q(s("any"), grain="hour", rng={"from": datetime(2021, 3, 4, 12), "to": datetime(2021, 3, 15)}),
        {"timezone": "America/New_York"},
    ),
    "ny_week_sunday": (
        q(s("new_subscription", "unique_users"), grain="week", rng=SUBS),
        {"timezone": "America/New_York", "week_start": "sunday"},
    ),
    "mau_week": (q(s("any", "mau"), grain="week", rng={"from": date(2021, 2, 1), "to": date(2021, 4, 1)}), {}),
    "wau_day_ny": (
        q(s("renewed_subscription", "wau"), rng={"from": date(2021, 3, 1), "to": date(2021, 3, 31)}),
        {"timezone": "America/New_York"},
    ),
    "two_series_quarter": (
        q(s("new_subscription"), s("renewed_subscription", "unique_users"), grain="quarter", rng=SUBS),
        {},
    ),
}


@pytest.mark.parametrize("case", list(SUBSCRIPTIONS))
def test_subscriptions(subscriptions, case):
    query, options = SUBSCRIPTIONS[case]
    nontrivial(subscriptions.check(query, **options))


def test_no_match_without_breakdown_is_zero_filled(generated):
    rows = generated.check(q(s("purchase", "events", c("revenue", "gt", 1e9)), grain="week"))
    assert rows and all(r["value"] == 0 for r in rows)
    rows = generated.check(q(s("purchase", "avg:revenue", c("revenue", "gt", 1e9)), grain="week"))
    assert rows and all(r["value"] is None for r in rows)


def test_no_match_with_breakdown_has_no_rows(generated):
    assert generated.check(q(s("purchase", "events", c("revenue", "gt", 1e9)), breakdown=["platform"])) == []


def test_limit_when_first_series_is_empty_folds_everything(generated):
    # the first series ranks no group, so every group of the second one is Other
    rows = generated.check(
        q(
            s("purchase", "events", c("revenue", "gt", 1e9)),
            s("page_view"),
            grain="week",
            breakdown=["platform"],
            breakdown_limit=2,
        )
    )
    assert {r["platform"] for r in rows} == {"Other"}


def test_day_starting_in_a_dst_gap(subscriptions):
    # Beirut skips 2021-03-28 00:00..01:00; the day is still a bucket, starting at 01:00 local
    nontrivial(
        subscriptions.check(
            q(s("any"), rng={"from": date(2021, 3, 20), "to": date(2021, 4, 6)}), timezone="Asia/Beirut"
        )
    )
    nontrivial(
        subscriptions.check(
            q(s("any", "wau"), grain="week", rng={"from": date(2021, 3, 1), "to": date(2021, 4, 30)}),
            timezone="Asia/Beirut",
        )
    )


def test_hour_half_in_a_dst_gap(subscriptions):
    # Lord Howe Island jumps 02:00 -> 02:30 on 2021-10-03: the 02:00 hour still has 02:30..03:00
    subscriptions.check(
        q(s("any"), grain="hour", rng={"from": datetime(2021, 10, 3, 0), "to": datetime(2021, 10, 3, 5)}),
        timezone="Australia/Lord_Howe",
    )


def test_fall_back_hour_buckets(subscriptions):
    # 2021-11-07 01:00 happens twice in New York; the bucket list is one naive local hour per step
    rows = subscriptions.check(
        q(s("any"), grain="hour", rng={"from": date(2021, 11, 7), "to": datetime(2021, 11, 7, 4)}),
        timezone="America/New_York",
    )
    assert len(rows) == 4


# ---------------------------------------------------------------------------------------------------
# edge: awkward values (see conftest.edge_tables), with a naive and a time-zone-aware event_time

EDGE = {"from": date(2025, 6, 1), "to": date(2025, 6, 11)}

EDGE_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "bounds_half_open": (q(s("any"), rng=EDGE), {}),
    "contains_underscore_is_literal": (q(s("any", "events", c("label", "contains", "_")), grain="total", rng=EDGE), {}),
    "contains_percent_is_literal": (q(s("any", "events", c("label", "contains", "%")), grain="total", rng=EDGE), {}),
    "starts_with_wildcards": (
        q(
            s("any", "events", c("label", "starts_with", "a_")),
            s("any", "events", c("label", "starts_with", "a%")),
            grain="total",
            rng=EDGE,
        ),
        {},
    ),
    "not_contains_underscore": (q(s("any", "events", c("label", "not_contains", "_")), grain="total", rng=EDGE), {}),
    "quote_and_backslash": (
        q(
            s("any", "events", c("label", "eq", "O'Brien")),
            s("any", "events", c("label", "contains", "\\")),
            s("any", "events", c("label", "in", "O'Brien", "back\\slash")),
            grain="total",
            rng=EDGE,
        ),
        {},
    ),
    "string_order_is_code_point": (
        q(
            s("any", "events", c("label", "gt", "a")),
            s("any", "events", c("label", "lt", "Z")),
            s("any", "events", c("label", "between", "Z", "z")),
            grain="total",
            rng=EDGE,
        ),
        {},
    ),
    "breakdown_sorted_by_code_point": (q(s("any"), grain="total", rng=EDGE, breakdown=["label"]), {}),
    "limit_ties_by_code_point": (
        q(s("any", "unique_users"), grain="total", rng=EDGE, breakdown=["label"], breakdown_limit=4),
        {},
    ),
    "limit_with_a_real_other_value": (
        q(s("any", "events"), grain="week", rng=EDGE, breakdown=["cohort"], breakdown_limit=2),
        {},
    ),
    "null_user_ids": (q(s("any", "unique_users"), s("any", "events_per_user"), s("any", "wau"), rng=EDGE), {}),
    "int_property_measures": (
        q(s("any", "sum:n"), s("any", "avg:n"), s("any", "median:n"), grain="week", rng=EDGE),
        {},
    ),
    "float_in_int_mix": (q(s("any", "events", c("x", "in", 5, 6.25, 7.5)), grain="total", rng=EDGE), {}),
    "bool_eq_false": (q(s("any", "events", c("flag", "eq", False)), grain="total", rng=EDGE), {}),
    "bool_neq_true_skips_null": (q(s("any", "events", c("flag", "neq", True)), grain="total", rng=EDGE), {}),
    "bool_is_null_breakdown": (q(s("any", "events"), grain="total", rng=EDGE, breakdown=["flag"]), {}),
    "date_eq_string": (q(s("any", "events", c("day", "eq", "2025-06-03")), grain="total", rng=EDGE), {}),
    "date_lt": (q(s("any", "events", c("day", "lt", date(2025, 6, 4))), rng=EDGE), {}),
    "date_breakdown": (q(s("buy", "unique_users"), grain="total", rng=EDGE, breakdown=["day"]), {}),
    "int_breakdown_with_nulls": (q(s("any", "sum:x"), grain="total", rng=EDGE, breakdown=["n"]), {}),
    "user_cohort_unicode": (
        q(
            s("any", "unique_users", c("cohort", "in", "é", "Z")),
            s("any", "events", c("cohort", "is_null")),
            rng=EDGE,
        ),
        {},
    ),
    "rolling_lookback_only_group": (q(s("open", "wau"), rng=EDGE, breakdown=["label"]), {}),
    "total_relative_non_midnight": (
        q(s("any", "unique_users"), grain="total", rng={"last": "3d"}),
        {"now": datetime(2025, 6, 8, 13, 45)},
    ),
    "relative_hours_tokyo": (
        q(s("any"), grain="hour", rng={"last": "20h"}),
        {"now": datetime(2025, 6, 5, 9, 0, tzinfo=UTC), "timezone": "Asia/Tokyo"},
    ),
    "percentiles_extreme": (q(s("any", "p1:x"), s("any", "p99:x"), s("buy", "median:x"), grain="week", rng=EDGE), {}),
    "breakdown_awkward_floats": (q(s("any"), grain="total", rng=EDGE, breakdown=["big"]), {}),
    "filter_awkward_floats": (
        q(
            s("any", "events", c("big", "eq", 0.30000000000000004)),
            s("any", "events", c("big", "in", 1e16, 1e-05)),
            s("any", "sum:big", c("big", "lt", 1e15)),
            grain="total",
            rng=EDGE,
        ),
        {},
    ),
    "breakdown_timestamp_fractions": (q(s("buy"), grain="total", rng=EDGE, breakdown=["seen"]), {}),
    "filter_timestamp_property": (
        q(
            s("any", "events", c("seen", "gte", datetime(2025, 5, 1, 12))),
            s("any", "events", c("seen", "lt", "2025-05-01 06:30:00")),
            grain="week",
            rng=EDGE,
        ),
        {},
    ),
    "empty_needle": (
        q(
            s("any", "events", c("label", "contains", "")),
            s("any", "events", c("label", "starts_with", "")),
            s("any", "events", c("label", "not_contains", "")),
            grain="total",
            rng=EDGE,
        ),
        {},
    ),
    "ny_repeated_hour": (
        q(s("click"), grain="hour", rng={"from": datetime(2025, 11, 2), "to": datetime(2025, 11, 2, 4)}),
        {"timezone": "America/New_York"},
    ),
    "ny_repeated_hour_day": (
        q(s("click", "unique_users"), rng={"from": date(2025, 11, 1), "to": date(2025, 11, 4)}),
        {"timezone": "America/New_York"},
    ),
    "ny_skipped_hour": (
        q(s("click"), grain="hour", rng={"from": datetime(2025, 3, 9), "to": datetime(2025, 3, 9, 5)}),
        {"timezone": "America/New_York"},
    ),
    "ny_relative_naive_now": (
        q(s("any"), grain="hour", rng={"last": "6h"}),
        {"now": datetime(2025, 11, 2, 3, 0), "timezone": "America/New_York"},
    ),
    "tokyo_now_for_ny_project": (
        q(s("any"), rng={"last": "2d"}),
        {"now": datetime(2025, 6, 6, 9, tzinfo=ZoneInfo("Asia/Tokyo")), "timezone": "America/New_York"},
    ),
}

# Known engine bugs, reported with a reproduction; the case fails until fixed (strict xfail).
EDGE_KNOWN_BUGS = {}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge(edge, case, request):
    reason = EDGE_KNOWN_BUGS.get((edge.backend, case))
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    query, options = EDGE_CASES[case]
    nontrivial(edge.check(query, **options))


def test_edge_relative_hours_across_dst(subscriptions):
    # {last: 24h} ending 2021-03-14 12:00 in New York: the range is 24 local (wall-clock) hours,
    # 23 real ones, as for every relative unit (naive local arithmetic)
    subscriptions.check(
        q(s("any"), grain="hour", rng={"last": "24h"}),
        now=datetime(2021, 3, 14, 16, tzinfo=UTC),
        timezone="America/New_York",
    )


# ---------------------------------------------------------------------------------------------------
# random queries: a fixed-seed sample of the query space, engine against oracle

RANDOM_GRAINS = ["hour", "day", "week", "month", "quarter", "year", "total"]
RANDOM_TZS = ["UTC", "UTC", "America/New_York", "Asia/Kolkata"]


def _random_condition(rng: random.Random, catalog: list[tuple[str, str, Any]]) -> dict[str, Any]:
    prop, op, operand = rng.choice(catalog)
    cond: dict[str, Any] = {"property": prop, "op": op}
    if isinstance(operand, list):
        cond["values"] = operand
    elif operand is not None:
        cond["value"] = operand
    return cond


def random_query(
    rng: random.Random,
    events: list[str],
    conditions: list[tuple[str, str, Any]],
    measures: list[str],
    breakdowns: list[str],
    starts: list[datetime],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A random valid query: 1-3 series (some combined events), filters, grain, range, breakdown, top-N."""
    series = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        event: Any = rng.choice([*events, "any"])
        if rng.random() < 0.2:
            member = {"event": rng.choice(events), "where": [_random_condition(rng, conditions)]}
            event = {"any_of": [rng.choice(events), member]}
        one: dict[str, Any] = {"event": event, "measure": rng.choice(measures)}
        if rng.random() < 0.5:
            one["where"] = [_random_condition(rng, conditions) for _ in range(rng.choice([1, 2]))]
        series.append(one)
    grain = rng.choice(RANDOM_GRAINS)
    start = rng.choice(starts) + timedelta(hours=rng.choice([0, 0, 5, 30, 77]))
    length = timedelta(hours=rng.choice([6, 30])) if grain == "hour" else timedelta(days=rng.choice([3, 7, 10, 30]))
    query: dict[str, Any] = {"series": series, "time_grain": grain}
    if rng.random() < 0.3:
        spans = ["36h", "3d"] if grain == "hour" else ["3d", "1w", "36h", "10d", "1m", "1q"]
        query["date_range"] = {"last": rng.choice(spans)}
    else:
        query["date_range"] = {"from": start, "to": start + length}
    width = rng.choice([0, 0, 1, 1, 2])
    if width:
        query["breakdown"] = rng.sample(breakdowns, width)
        if rng.random() < 0.5:
            query["breakdown_limit"] = rng.choice([1, 2, 3])
    now = rng.choice(starts) + timedelta(days=rng.choice([3, 8]), hours=rng.choice([0, 13.5]))
    options = {"timezone": rng.choice(RANDOM_TZS), "week_start": rng.choice(["monday", "sunday"]), "now": now}
    return query, options


EDGE_RANDOM = {
    "events": ["open", "click", "buy"],
    "conditions": [
        ("label", "eq", "a_b"),
        ("label", "neq", "Other"),
        ("label", "in", ["Z", "z", ""]),
        ("label", "not_in", ["é"]),
        ("label", "contains", "b"),
        ("label", "not_contains", "%"),
        ("label", "starts_with", "a"),
        ("label", "is_null", None),
        ("label", "is_not_null", None),
        ("label", "gt", "a"),
        ("label", "between", ["A", "b"]),
        ("n", "gt", 2),
        ("n", "lte", 1),
        ("n", "between", [1, 3]),
        ("n", "is_null", None),
        ("n", "in", [0, 4]),
        ("x", "gte", 20.5),
        ("x", "lt", 50),
        ("x", "neq", 2.5),
        ("x", "not_in", [2.5, 5.0]),
        ("flag", "eq", True),
        ("flag", "is_null", None),
        ("day", "gte", date(2025, 6, 4)),
        ("cohort", "eq", "Z"),
        ("cohort", "is_null", None),
        ("cohort", "neq", "a_b"),
        ("user.cohort", "in", ["z", "é"]),
        ("big", "gt", 1e15),
        ("big", "in", [0.1, -2.5]),
        ("seen", "gte", datetime(2025, 5, 1, 12)),
    ],
    "measures": [
        "events",
        "unique_users",
        "events_per_user",
        "sum:x",
        "avg:n",
        "min:x",
        "max:n",
        "median:x",
        "p90:x",
        "dau",
        "wau",
        "active_users:3d",
        "mau",
        "sum:big",
    ],
    "breakdowns": ["label", "n", "flag", "day", "event", "cohort", "big", "seen", "x", "user.cohort"],
    "starts": [datetime(2025, 6, 1), datetime(2025, 6, 1), datetime(2025, 11, 1), datetime(2025, 3, 8)],
}

GENERATED_RANDOM = {
    "events": ["page_view", "login", "purchase", "payment", "feature_used", "signup"],
    "conditions": [
        ("platform", "eq", "web"),
        ("platform", "neq", "ios"),
        ("campaign", "in", ["brand_search", "newsletter"]),
        ("campaign", "is_null", None),
        ("referrer", "contains", ".co"),
        ("url", "starts_with", "/docs"),
        ("feature", "not_in", ["api"]),
        ("revenue", "gt", 20),
        ("amount", "between", [10, 100]),
        ("country", "eq", "US"),
        ("country", "is_null", None),
        ("user.platform", "neq", "web"),
        ("subscription_type", "in", ["pro", "basic"]),
        ("event_date", "lt", date(2025, 2, 1)),
        ("signup_time", "gte", datetime(2025, 1, 15)),
        ("city", "not_contains", "a"),
    ],
    "measures": [
        "events",
        "unique_users",
        "events_per_user",
        "sum:revenue",
        "avg:amount",
        "min:revenue",
        "max:amount",
        "median:revenue",
        "p75:amount",
        "dau",
        "wau",
        "active_users:2d",
        "mau",
    ],
    "breakdowns": [
        "platform",
        "country",
        "event",
        "campaign",
        "plan",
        "user.platform",
        "account_type",
        "amount",
        "event_date",
    ],
    "starts": [datetime(2025, 1, 1), datetime(2025, 1, 10), datetime(2025, 1, 21, 7), datetime(2025, 2, 10)],
}


@pytest.mark.parametrize("seed", range(60))
def test_random_queries_edge(edge, seed):
    query, options = random_query(random.Random(seed), **EDGE_RANDOM)
    edge.check(query, **options)


@pytest.mark.parametrize("seed", range(40))
def test_random_queries_generated(generated, seed):
    query, options = random_query(random.Random(1000 + seed), **GENERATED_RANDOM)
    generated.check(query, **options)


def test_yaml_query_file_gives_the_same_answer(generated, tmp_path):
    path = tmp_path / "query.yaml"
    path.write_text(
        "series:\n"
        "  - event: purchase\n"
        "    where:\n"
        "      - {property: revenue, op: between, values: [10, 30]}\n"
        "    measure: sum:revenue\n"
        "  - {event: page_view, measure: unique_users, label: visitors}\n"
        "date_range: {from: 2025-01-10, to: 2025-02-10}\n"
        "time_grain: week\n"
        "breakdown: [platform]\n"
        "breakdown_limit: 2\n"
    )
    query = q(
        s("purchase", "sum:revenue", c("revenue", "between", 10, 30)),
        s("page_view", "unique_users", label="visitors"),
        grain="week",
        breakdown=["platform"],
        breakdown_limit=2,
    )
    expected = generated.expected(query)
    assert_same(segwise.run(path, generated.project()), expected, query, "UTC")
    nontrivial(expected)
