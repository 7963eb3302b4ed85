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

This module runs the generated data (and ``breakdown_limit``); ``test_segmentation_samples.py`` the
real samples, ``test_segmentation_edge.py`` the edge dataset, ``test_segmentation_random.py`` the
fixed-seed random queries. Ranges, query builders and the random generator: ``segmentation_cases.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import segwise
from tests.conftest import assert_same
from tests.segmentation_cases import ALL, FEB, WEEK, c, nontrivial, q, s

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
