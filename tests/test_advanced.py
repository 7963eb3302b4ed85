"""The advanced series of ``docs/queries.md`` on every live engine, against the reference oracle.

Combined events, first/last occurrence, formulas, per-user measures and frequency, segments,
compare to the previous period and events spread over several tables; each alone and combined
with breakdowns, ``breakdown_limit``, rolling measures and one another. Every case runs on each
backend of ``tests.backends.BACKENDS`` through the fixtures of ``conftest.py``;
``dataset.check`` compares the engine's table with ``tests/oracle.py`` (schema, order, values).

Datasets (see ``conftest.py``): ``generated`` (the demo generator, 2025-01-01..2025-03-02),
``multi`` (the same events in four tables), ``simple`` (simple.csv, 2020-01-01 00:00..04:31 UTC:
view / cart / purchase), ``subscriptions`` (subscriptions.csv, new / renewed subscriptions on the
2nd and 5th of each month of 2021-01..06) and ``edge`` (null user ids, awkward labels).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.segmentation_cases import ALL, FEB, JAN, SIMPLE_DAY, SUBS, WEEK, c, nontrivial, q, s

NOW = datetime(2025, 2, 20, 15, 30)  # for relative ranges on the generated data
SUBS_NOW = datetime(2021, 4, 20)
EDGE = {"from": date(2025, 6, 1), "to": date(2025, 6, 11)}
MAR = {"from": date(2025, 3, 1), "to": date(2025, 4, 1)}


def f(label: str, expression: str) -> dict[str, str]:
    return {"label": label, "expression": expression}


def did(event: Any, *where: dict[str, Any], window: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"event": event}
    if where:
        spec["where"] = list(where)
    if window is not None:
        spec["date_range"] = window
    return spec


def member(event: str, *where: dict[str, Any]) -> dict[str, Any]:
    return {"event": event, "where": list(where)}


# Known engine bugs, reported with a minimal reproduction; the case fails until fixed (strict xfail).
# Keys: (backend or "*" for every backend, case name).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def check(dataset, case: str, cases: dict[str, Any], request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    reason = KNOWN_BUGS.get((dataset.backend, case)) or KNOWN_BUGS.get(("*", case))
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    query, options = cases[case]
    rows = dataset.check(query, **options)
    nontrivial(rows)
    return rows


# ---------------------------------------------------------------------------------------------------
# generated data

COMBINED = {
    "any_of_breakdown_event": (
        q(
            s(
                {
                    "any_of": [
                        "signup",
                        member("purchase", c("revenue", "gt", 40)),
                        member("page_view", c("campaign", "is_not_null")),
                    ]
                },
                "unique_users",
            ),
            grain="week",
            breakdown=["event"],
        ),
        {},
    ),
    "any_of_counts_user_once": (q(s({"any_of": ["login", "page_view", "feature_used"]}, "unique_users")), {}),
    "any_of_member_user_where": (
        q(
            s(
                {
                    "any_of": [
                        member("login", c("country", "eq", "US")),
                        member("purchase", c("account_type", "eq", "business")),
                    ]
                }
            ),
            grain="week",
            breakdown=["platform"],
        ),
        {},
    ),
    "any_of_series_where_and_limit": (
        q(
            s({"any_of": ["login", "feature_used", "purchase"]}, "unique_users", c("platform", "neq", "web")),
            grain="week",
            breakdown=["country"],
            breakdown_limit=3,
        ),
        {},
    ),
    "any_of_wau_breakdown_event": (
        q(
            s({"any_of": ["login", member("feature_used", c("feature", "eq", "reports"))]}, "wau"),
            grain="week",
            breakdown=["event"],
        ),
        {},
    ),
    "any_of_any_member_with_where": (
        q(s({"any_of": [member("any", c("platform", "eq", "ios")), "signup"]}, "events"), grain="week", rng=ALL),
        {},
    ),
    "any_of_sum_across_members": (
        q(
            s({"any_of": ["purchase", "payment"]}, "sum:revenue"),
            s({"any_of": ["purchase", "payment"]}, "sum:amount"),
            grain="week",
        ),
        {},
    ),
}

OCCURRENCE = {
    "first_segment_breakdown": (
        q(
            s("page_view", "unique_users", c("platform", "neq", "android"), occurrence="first"),
            grain="week",
            rng=ALL,
            breakdown=["segment", "account_type"],
            segment={"did": did("feature_used", window={"from": "2025-01-01", "to": "2025-01-10"})},
        ),
        {},
    ),
    "first_purchase_ever": (q(s("purchase", "unique_users", occurrence="first"), grain="week", rng=FEB), {}),
    "first_purchase_range": (
        q(s("purchase", "unique_users", occurrence="first", occurrence_scope="range"), grain="week", rng=FEB),
        {},
    ),
    "last_login_ever": (q(s("login", "unique_users", occurrence="last"), rng=JAN), {}),
    "last_login_range_events": (
        q(s("login", "events", occurrence="last", occurrence_scope="range"), grain="week", rng=JAN),
        {},
    ),
    "first_any_breakdown_event": (
        q(s("any", "unique_users", occurrence="first"), grain="week", rng=ALL, breakdown=["event"]),
        {},
    ),
    "first_breakdown_country_limit": (
        q(s("page_view", "unique_users", occurrence="first"), grain="week", breakdown=["country"], breakdown_limit=3),
        {},
    ),
    "first_user_prop_filter": (
        q(s("page_view", "events", c("country", "eq", "US"), occurrence="first"), grain="week", rng=ALL),
        {},
    ),
    "first_sum_revenue_month": (q(s("purchase", "sum:revenue", occurrence="first"), grain="month", rng=ALL), {}),
    "first_any_of_members": (
        q(
            s(
                {"any_of": ["purchase", member("payment", c("plan", "eq", "monthly"))]},
                "unique_users",
                occurrence="first",
            ),
            grain="week",
            rng=ALL,
            breakdown=["event"],
        ),
        {},
    ),
    "last_feature_by_feature_total": (
        q(s("feature_used", "unique_users", occurrence="last"), grain="total", rng=FEB, breakdown=["feature"]),
        {},
    ),
    "first_with_segment": (
        q(
            s("feature_used", "unique_users", occurrence="first"),
            grain="week",
            rng=ALL,
            segment={"did": did("signup", window={"from": "2025-01-01", "to": "2025-02-01"})},
        ),
        {},
    ),
    "first_and_plain_side_by_side": (
        q(s("login", "unique_users", occurrence="first", label="new"), s("login", "unique_users", label="all")),
        {},
    ),
    "first_ny_day": (q(s("purchase", "events", occurrence="first"), rng=FEB), {"timezone": "America/New_York"}),
}

FORMULAS = {
    "conversion_percent": (
        q(
            s("page_view", "unique_users", label="visitors"),
            s("purchase", "unique_users", label="buyers"),
            formulas=[f("conversion", "buyers / visitors * 100")],
        ),
        {},
    ),
    "shorthand": (q(s("login"), s("page_view"), grain="week", formula="B - A"), {}),
    "breakdown_limit": (
        q(
            s("login", "unique_users"),
            s("feature_used", "events"),
            grain="week",
            breakdown=["country"],
            breakdown_limit=2,
            formulas=[f("per_user", "B / A")],
        ),
        {},
    ),
    "division_by_zero": (
        q(s("signup"), s("login"), grain="week", breakdown=["platform"], formulas=[f("logins_per_signup", "B / A")]),
        {},
    ),
    "non_count_missing_is_null": (
        q(
            s("purchase", "sum:revenue"),
            s("purchase", "unique_users"),
            breakdown=["platform"],
            formulas=[f("arppu", "A / B")],
        ),
        {},
    ),
    "parentheses_unary_numbers": (
        q(s("login"), s("signup"), grain="week", formulas=[f("x", "-(A - B) / (A + 1) * 2.5"), f("y", "-A + .5")]),
        {},
    ),
    "stickiness_dau_over_mau": (
        q(s("any", "dau"), s("any", "mau"), rng=FEB, formulas=[f("stickiness", "A / B * 100")]),
        {},
    ),
    "union_of_groups": (
        # purchases have no campaign (one null group); page views have several
        q(s("purchase"), s("page_view"), grain="week", breakdown=["campaign"], formula="A / B"),
        {},
    ),
    "with_previous_period": (
        q(s("signup"), s("purchase", "unique_users"), grain="week", compare="previous_period", formula="B / A"),
        {},
    ),
    "per_user_operand": (
        q(s("feature_used", "user_avg:events"), s("feature_used", "unique_users"), grain="week", formula="A * B"),
        {},
    ),
}

PER_USER = {
    "user_avg_events_week": (q(s("feature_used", "user_avg:events"), grain="week"), {}),
    "user_median_events_day": (q(s("page_view", "user_median:events")), {}),
    "user_p90_sum_revenue_month": (q(s("purchase", "user_p90:sum:revenue"), grain="month", rng=ALL), {}),
    "user_max_events_breakdown": (q(s("login", "user_max:events"), grain="week", breakdown=["platform"]), {}),
    "user_min_sum_amount": (q(s("payment", "user_min:sum:amount"), grain="month", rng=ALL), {}),
    "user_avg_sum_all_null_is_zero": (q(s("any", "user_avg:sum:revenue"), grain="week"), {}),
    "user_p25_limit_ranked_by_users": (
        q(s("feature_used", "user_p25:events"), grain="week", breakdown=["feature"], breakdown_limit=2),
        {},
    ),
    "user_avg_total_segment": (
        q(
            s("page_view", "user_avg:events"),
            grain="total",
            breakdown=["account_type"],
            segment={"did": did("purchase")},
        ),
        {},
    ),
    "user_sum_over_null_property": (
        q(s("login", "user_max:sum:revenue"), s("purchase", "user_avg:sum:revenue"), grain="week"),
        {},
    ),
    "frequency_week": (q(s("login", "frequency"), grain="week"), {}),
    "frequency_total_breakdown": (q(s("page_view", "frequency"), grain="total", breakdown=["platform"]), {}),
    "frequency_limit": (
        q(s("feature_used", "frequency"), grain="week", rng=WEEK, breakdown=["country"], breakdown_limit=2),
        {},
    ),
    "frequency_segment_breakdown": (
        q(s("login", "frequency"), grain="month", rng=ALL, breakdown=["segment"], segment={"did": did("purchase")}),
        {},
    ),
    "frequency_first_occurrence": (q(s("any", "frequency", occurrence="first"), grain="week", rng=ALL), {}),
}

SEGMENTS = {
    "retention_active_in_january": (
        # of the users active in January, how many come back each week of February
        q(
            s("any", "unique_users"),
            grain="week",
            rng=FEB,
            segment={"did": did("any", window={"from": "2025-01-01", "to": "2025-02-01"})},
        ),
        {},
    ),
    "did_not_any_recently": (
        q(
            s("any", "unique_users"),
            grain="week",
            rng={"last": "8w"},
            breakdown=["segment"],
            segment={"did_not": did("any", window={"last": "7d"})},
        ),
        {"now": NOW},
    ),
    "window_in_project_time_zone": (
        q(
            s("login", "unique_users"),
            grain="week",
            rng=ALL,
            segment={"did": did("purchase", window={"from": "2025-01-15", "to": "2025-01-16"})},
        ),
        {"timezone": "America/New_York"},
    ),
    "everything_at_once": (
        q(
            s("page_view", "unique_users", occurrence="first", occurrence_scope="range"),
            s({"any_of": ["purchase", "payment"]}, "unique_users"),
            grain="week",
            rng=FEB,
            breakdown=["segment", "platform"],
            breakdown_limit=4,
            segment={"did": did("signup"), "user_where": [c("acquisition_channel", "neq", "partner")]},
            compare="previous_period",
            formulas=[f("paying_share", "B / A * 100"), f("same", "A * A - A")],
        ),
        {},
    ),
    "did_ever": (q(s("login", "unique_users"), grain="week", segment={"did": did("purchase")}), {}),
    "did_not_ever": (q(s("login", "unique_users"), grain="week", segment={"did_not": did("purchase")}), {}),
    "did_absolute_window_where": (
        q(
            s("feature_used", "unique_users"),
            grain="week",
            rng=ALL,
            segment={"did": did("purchase", c("revenue", "gt", 50), window={"from": "2025-01-01", "to": "2025-01-20"})},
        ),
        {},
    ),
    "did_relative_window": (
        q(
            s("page_view", "events"),
            rng={"last": "4w"},
            grain="week",
            segment={"did": did("feature_used", c("feature", "eq", "export"), window={"last": "14d"})},
        ),
        {"now": NOW},
    ),
    "did_not_window_user_where": (
        q(
            s("login", "unique_users"),
            grain="week",
            rng=ALL,
            segment={
                "did_not": did("login", window={"from": "2025-02-15", "to": "2025-03-02"}),
                "user_where": [c("country", "in", "US", "GB")],
            },
        ),
        {},
    ),
    "user_where_only": (
        q(s("any", "unique_users"), grain="week", segment={"user_where": [c("account_type", "eq", "business")]}),
        {},
    ),
    "user_where_is_null_missing_users": (
        q(s("any", "events"), grain="week", segment={"user_where": [c("country", "is_null")]}),
        {},
    ),
    "did_and_did_not": (
        q(
            s("page_view", "unique_users"),
            grain="week",
            rng=ALL,
            segment={"did": did("signup"), "did_not": did("purchase")},
        ),
        {},
    ),
    "breakdown_segment": (
        q(s("login", "unique_users"), grain="week", breakdown=["segment"], segment={"did": did("purchase")}),
        {},
    ),
    "breakdown_segment_and_platform_limit": (
        q(
            s("page_view", "unique_users"),
            s("feature_used"),
            grain="week",
            breakdown=["segment", "platform"],
            breakdown_limit=4,
            segment={
                "did": did("payment", window={"from": "2025-01-01", "to": "2025-02-01"}),
                "user_where": [c("subscription_type", "neq", "free")],
            },
        ),
        {},
    ),
    "wau_in_segment": (
        q(s("any", "wau"), grain="week", rng=ALL, segment={"did": did("signup", window={"last": "30d"})}),
        {"now": NOW},
    ),
    "breakdown_segment_mau": (
        q(s("any", "mau"), grain="week", rng=FEB, breakdown=["segment"], segment={"did": did("purchase")}),
        {},
    ),
    "did_any_of_member_where": (
        q(
            s("login", "events"),
            grain="week",
            segment={"did": did({"any_of": [member("payment", c("amount", "gte", 49)), "purchase"]})},
        ),
        {},
    ),
    "did_user_property_where": (
        q(s("feature_used", "unique_users"), grain="week", segment={"did": did("login", c("country", "eq", "DE"))}),
        {},
    ),
    "user_where_user_prefix": (
        q(s("login", "events"), grain="week", segment={"user_where": [c("user.platform", "eq", "ios")]}),
        {},
    ),
    "segment_with_formula": (
        q(
            s("page_view", "unique_users"),
            s("purchase", "unique_users"),
            grain="week",
            breakdown=["segment"],
            segment={"did": did("feature_used", window={"from": "2025-01-01", "to": "2025-01-15"})},
            formula="B / A",
        ),
        {},
    ),
}

COMPARE = {
    "wau_breakdown_limit": (
        q(
            s("any", "wau"),
            s("purchase", "unique_users"),
            grain="week",
            rng=FEB,
            breakdown=["country"],
            breakdown_limit=3,
            compare="previous_period",
        ),
        {},
    ),
    "day_events": (q(s("page_view"), rng=FEB, compare="previous_period"), {}),
    "wau_week": (q(s("any", "wau"), grain="week", rng=FEB, compare="previous_period"), {}),
    "wau_day_breakdown": (
        q(
            s("login", "wau"),
            rng={"from": "2025-02-10", "to": "2025-02-24"},
            breakdown=["platform"],
            compare="previous_period",
        ),
        {},
    ),
    "breakdown_limit_current_decides": (
        q(
            s("page_view", "unique_users"),
            s("purchase", "sum:revenue"),
            grain="week",
            rng=FEB,
            breakdown=["country"],
            breakdown_limit=3,
            compare="previous_period",
        ),
        {},
    ),
    "relative_weeks": (
        q(s("login", "unique_users"), grain="week", rng={"last": "4w"}, compare="previous_period"),
        {"now": NOW},
    ),
    "relative_month": (
        q(s("any", "events"), rng={"last": "1m"}, compare="previous_period"),
        {"now": datetime(2025, 3, 1, 12)},
    ),
    "month_grain_extra_previous_bucket_dropped": (
        # previous of [Feb 3, Mar 1) is [Jan 8, Feb 3): January is reported at February, its
        # February bucket is dropped
        q(
            s("login"),
            s("purchase", "avg:revenue"),
            grain="month",
            rng={"from": "2025-02-03", "to": "2025-03-01"},
            compare="previous_period",
        ),
        {},
    ),
    "month_grain_missing_previous_bucket_filled": (
        # previous of [Feb 1, Mar 2) is [Jan 3, Feb 1): one bucket for the current two
        q(
            s("login"),
            s("purchase", "avg:revenue"),
            grain="month",
            rng={"from": "2025-02-01", "to": "2025-03-02"},
            compare="previous_period",
        ),
        {},
    ),
    "week_mid_week": (
        q(
            s("feature_used", "avg:revenue"),
            s("feature_used"),
            grain="week",
            rng={"from": "2025-02-05", "to": "2025-02-26"},
            compare="previous_period",
        ),
        {},
    ),
    "total_sum": (
        q(
            s("purchase", "sum:revenue"),
            s("purchase", "unique_users"),
            grain="total",
            rng=FEB,
            compare="previous_period",
        ),
        {},
    ),
    "first_occurrence": (
        q(s("purchase", "unique_users", occurrence="first"), grain="week", rng=FEB, compare="previous_period"),
        {},
    ),
    "per_user": (q(s("login", "user_avg:events"), grain="week", rng=FEB, compare="previous_period"), {}),
    "segment": (
        q(
            s("login", "unique_users"),
            grain="week",
            rng=FEB,
            compare="previous_period",
            segment={"did": did("purchase")},
        ),
        {},
    ),
    "wau_total": (
        q(s("any", "wau"), s("login", "unique_users"), grain="total", rng=FEB, compare="previous_period"),
        {},
    ),
    "previous_before_the_data": (
        q(s("page_view", "unique_users"), grain="week", rng=JAN, breakdown=["campaign"], compare="previous_period"),
        {},
    ),
    "relative_days_total": (
        q(s("purchase", "sum:revenue"), grain="total", rng={"last": "10d"}, compare="previous_period"),
        {"now": NOW},
    ),
    "relative_hours": (
        q(s("page_view", "unique_users"), grain="hour", rng={"last": "12h"}, compare="previous_period"),
        {"now": datetime(2025, 2, 12, 14, 45)},
    ),
    "hour_grain": (
        q(
            s("any"),
            grain="hour",
            rng={"from": datetime(2025, 2, 3, 6), "to": datetime(2025, 2, 3, 18)},
            compare="previous_period",
        ),
        {},
    ),
    "ny": (
        q(s("any", "unique_users"), grain="week", rng=FEB, compare="previous_period"),
        {"timezone": "America/New_York"},
    ),
}

GENERATED_ADVANCED = {
    **{f"combined_{k}": v for k, v in COMBINED.items()},
    **{f"occurrence_{k}": v for k, v in OCCURRENCE.items()},
    **{f"formula_{k}": v for k, v in FORMULAS.items()},
    **{f"per_user_{k}": v for k, v in PER_USER.items()},
    **{f"segment_{k}": v for k, v in SEGMENTS.items()},
    **{f"compare_{k}": v for k, v in COMPARE.items()},
}


@pytest.mark.parametrize("case", list(GENERATED_ADVANCED))
def test_generated_advanced(generated, case, request):
    check(generated, case, GENERATED_ADVANCED, request)


# ---------------------------------------------------------------------------------------------------
# events in several tables

MULTI = {
    "combined_wau_breakdown_event_limit": (
        q(
            s({"any_of": ["signup", "purchase", member("login", c("platform", "eq", "web"))]}, "wau"),
            grain="week",
            rng=ALL,
            breakdown=["event"],
            breakdown_limit=2,
        ),
        {},
    ),
    "any_breakdown_event": (q(s("any"), grain="week", breakdown=["event"]), {}),
    "any_unique_users_platform": (q(s("any", "unique_users"), grain="week", breakdown=["platform"]), {}),
    "combined_across_tables": (
        q(
            s(
                {
                    "any_of": [
                        "signup",
                        "purchase",
                        member("push_opened", c("notification_type", "eq", "reminder")),
                        "login",
                    ]
                },
                "unique_users",
            ),
            grain="week",
            breakdown=["event"],
        ),
        {},
    ),
    "any_wau_breakdown_event": (q(s("any", "wau"), grain="week", rng=ALL, breakdown=["event"]), {}),
    "any_mau_day": (q(s("any", "mau"), rng=FEB), {}),
    "revenue_only_in_last_table": (q(s("any", "sum:revenue"), s("purchase", "avg:revenue"), grain="week"), {}),
    "breakdown_by_revenue": (q(s("any"), grain="total", rng=WEEK, breakdown=["revenue"]), {}),
    "condition_on_missing_column": (
        q(s("any", "events", c("event_date", "gte", date(2025, 1, 20))), grain="week", breakdown=["event"]),
        {},
    ),
    "is_null_on_missing_column": (
        q(s("any", "events", c("revenue", "is_null")), grain="week", breakdown=["event"]),
        {},
    ),
    "user_property_breakdown_limit": (
        q(s("any", "unique_users"), grain="week", breakdown=["country"], breakdown_limit=4),
        {},
    ),
    "first_occurrence_any": (
        q(s("any", "unique_users", occurrence="first"), grain="week", rng=ALL, breakdown=["event"]),
        {},
    ),
    "last_occurrence_combined": (
        q(
            s({"any_of": ["purchase", "push_opened"]}, "events", occurrence="last"),
            grain="week",
            rng=ALL,
            breakdown=["event"],
        ),
        {},
    ),
    "segment_did_single_event_table": (
        q(s("login", "unique_users"), grain="week", segment={"did": did("purchase")}),
        {},
    ),
    "segment_breakdown_combined": (
        q(
            s({"any_of": ["signup", "push_sent"]}, "unique_users"),
            grain="week",
            breakdown=["segment"],
            segment={"did_not": did("push_opened")},
        ),
        {},
    ),
    "compare": (q(s("any", "unique_users"), grain="week", rng=FEB, breakdown=["event"], compare="previous_period"), {}),
    "formula_purchases_per_signup": (q(s("signup"), s("purchase"), grain="week", formula="B / A"), {}),
    "per_user_any": (q(s("any", "user_avg:events"), grain="week", breakdown=["event"]), {}),
    "frequency_combined": (q(s({"any_of": ["purchase", "push_opened"]}, "frequency"), grain="month", rng=ALL), {}),
    "ny_hour_aware_and_naive": (
        q(s({"any_of": ["signup", "login"]}), grain="hour", rng={"from": date(2025, 1, 14), "to": date(2025, 1, 16)}),
        {"timezone": "America/New_York"},
    ),
    "combined_member_where_missing_column": (
        # revenue exists only in purchases; the login member reads the activity table
        q(
            s({"any_of": ["login", member("purchase", c("revenue", "gt", 40))]}, "unique_users"),
            grain="week",
            breakdown=["event"],
        ),
        {},
    ),
    "combined_member_user_property": (
        # a member filter on a user property is applied after the users join, across tables
        q(
            s(
                {
                    "any_of": [
                        member("signup", c("country", "eq", "US")),
                        member("purchase", c("revenue", "gt", 30)),
                        member("push_opened", c("account_type", "neq", "personal")),
                    ]
                },
                "events",
            ),
            grain="week",
            rng=ALL,
            breakdown=["event", "platform"],
        ),
        {},
    ),
    "segment_did_with_where_in_other_table": (
        q(
            s("any", "unique_users"),
            grain="week",
            breakdown=["event"],
            segment={"did": did("purchase", c("revenue", "gte", 50)), "did_not": did("push_opened")},
        ),
        {},
    ),
    "kolkata_wau_any": (q(s("any", "wau"), grain="week", rng=FEB, breakdown=["event"]), {"timezone": "Asia/Kolkata"}),
}


@pytest.mark.parametrize("case", list(MULTI))
def test_multi_table(multi, case, request):
    check(multi, case, MULTI, request)


# ---------------------------------------------------------------------------------------------------
# real samples: subscriptions.csv and simple.csv

SUBSCRIPTIONS = {
    # every new_subscription is on 2021-01-02; renewals on the 5th of each month, fewer each month
    "first_renewal_ever": (
        q(s("renewed_subscription", "unique_users", occurrence="first"), grain="month", rng=SUBS),
        {},
    ),
    "last_renewal_ever_churn_month": (
        q(s("renewed_subscription", "unique_users", occurrence="last"), grain="month", rng=SUBS),
        {},
    ),
    "first_renewal_range_window": (
        q(
            s("renewed_subscription", "unique_users", occurrence="first", occurrence_scope="range"),
            grain="week",
            rng={"from": date(2021, 3, 1), "to": date(2021, 5, 1)},
        ),
        {},
    ),
    "last_any_breakdown_event": (
        q(s("any", "events", occurrence="last"), grain="month", rng=SUBS, breakdown=["event"]),
        {},
    ),
    "segment_renewed_in_february_not_may": (
        q(
            s("renewed_subscription", "unique_users"),
            grain="month",
            rng=SUBS,
            segment={
                "did": did("renewed_subscription", window={"from": "2021-02-01", "to": "2021-03-01"}),
                "did_not": did("renewed_subscription", window={"from": "2021-05-01", "to": "2021-06-01"}),
            },
        ),
        {},
    ),
    "segment_did_not_renew_last_30d": (
        q(
            s("any", "unique_users"),
            grain="month",
            rng=SUBS,
            segment={"did_not": did("renewed_subscription", window={"last": "30d"})},
        ),
        {"now": SUBS_NOW},
    ),
    "segment_breakdown": (
        q(
            s("renewed_subscription", "events"),
            grain="month",
            rng=SUBS,
            breakdown=["segment"],
            segment={"did": did("renewed_subscription", window={"from": "2021-03-01", "to": "2021-04-01"})},
        ),
        {},
    ),
    "frequency_quarter": (q(s("renewed_subscription", "frequency"), grain="quarter", rng=SUBS), {}),
    "renewals_per_new": (
        q(
            s("new_subscription", label="new"),
            s("renewed_subscription", label="renewed"),
            grain="month",
            rng=SUBS,
            formula="renewed / new",
        ),
        {},
    ),
    "compare_month": (
        q(
            s("any", "unique_users"),
            grain="week",
            rng={"from": date(2021, 4, 1), "to": date(2021, 5, 1)},
            compare="previous_period",
        ),
        {},
    ),
    "user_max_events": (q(s("any", "user_max:events"), grain="quarter", rng=SUBS), {}),
    "compare_ny_across_dst": (
        q(s("any", "unique_users"), rng={"from": date(2021, 3, 1), "to": date(2021, 4, 1)}, compare="previous_period"),
        {"timezone": "America/New_York"},
    ),
    "last_renewal_ny_dst": (
        q(
            s("renewed_subscription", "unique_users", occurrence="last"),
            rng={"from": date(2021, 3, 1), "to": date(2021, 4, 1)},
        ),
        {"timezone": "America/New_York"},
    ),
}


@pytest.mark.parametrize("case", list(SUBSCRIPTIONS))
def test_subscriptions_advanced(subscriptions, case, request):
    check(subscriptions, case, SUBSCRIPTIONS, request)


SIMPLE = {
    "combined_funnel_events": (
        q(
            s({"any_of": ["view", "cart", "purchase"]}, "unique_users"),
            grain="hour",
            rng=SIMPLE_DAY,
            breakdown=["event"],
        ),
        {},
    ),
    "combined_member_where_brand": (
        q(
            s({"any_of": [member("view", c("brand", "eq", "runail")), member("cart", c("price", "gt", 5))]}, "events"),
            grain="hour",
            rng=SIMPLE_DAY,
        ),
        {},
    ),
    "conversion_purchase_over_view": (
        q(
            s("view", "unique_users", label="viewers"),
            s("purchase", "unique_users", label="buyers"),
            grain="hour",
            rng=SIMPLE_DAY,
            formulas=[f("conversion", "buyers / viewers * 100"), f("not_buying", "viewers - buyers")],
        ),
        {},
    ),
    "conversion_by_brand_limit": (
        q(
            s("view", "unique_users"),
            s("cart", "unique_users"),
            grain="total",
            rng=SIMPLE_DAY,
            breakdown=["brand"],
            breakdown_limit=5,
            formula="B / A * 100",
        ),
        {},
    ),
    "first_cart_range": (
        q(s("cart", "unique_users", occurrence="first", occurrence_scope="range"), grain="hour", rng=SIMPLE_DAY),
        {},
    ),
    "last_view_with_user_property": (
        q(s("view", "events", c("tier", "eq", "gold"), occurrence="last"), grain="hour", rng=SIMPLE_DAY),
        {},
    ),
    "user_avg_sum_price": (q(s("cart", "user_avg:sum:price"), grain="hour", rng=SIMPLE_DAY), {}),
    "user_max_sum_user_score": (
        q(s("view", "user_max:sum:score"), s("view", "user_min:sum:score"), grain="hour", rng=SIMPLE_DAY),
        {},
    ),
    "user_median_events_by_event": (
        q(s("any", "user_median:events"), grain="total", rng=SIMPLE_DAY, breakdown=["event"]),
        {},
    ),
    "frequency_views": (q(s("view", "frequency"), grain="hour", rng=SIMPLE_DAY), {}),
    "segment_buyers_user_where": (
        q(
            s("view", "unique_users"),
            grain="hour",
            rng=SIMPLE_DAY,
            segment={"did": did("cart"), "user_where": [c("tier", "eq", "gold")]},
        ),
        {},
    ),
    "segment_breakdown_vip": (
        q(
            s("any", "events"),
            grain="hour",
            rng=SIMPLE_DAY,
            breakdown=["segment", "event"],
            segment={"user_where": [c("vip", "eq", True)]},
        ),
        {},
    ),
    "compare_hours": (
        q(
            s("view", "unique_users"),
            s("purchase", "sum:price"),
            grain="hour",
            rng={"from": datetime(2020, 1, 1, 2), "to": datetime(2020, 1, 1, 4)},
            compare="previous_period",
        ),
        {},
    ),
}


@pytest.mark.parametrize("case", list(SIMPLE))
def test_simple_advanced(simple, case, request):
    check(simple, case, SIMPLE, request)


# ---------------------------------------------------------------------------------------------------
# the edge dataset: null user ids (every 11th event), users without a users row, awkward labels

EDGE_CASES = {
    "first_null_users_never_count": (q(s("any", "events", occurrence="first"), rng=EDGE, breakdown=["event"]), {}),
    "last_breakdown_label": (
        q(
            s("click", "unique_users", occurrence="last"),
            grain="total",
            rng={"from": date(2025, 6, 1), "to": date(2025, 7, 1)},
            breakdown=["label"],
        ),
        {},
    ),
    "per_user_null_users": (q(s("any", "user_avg:events"), grain="total", rng=EDGE, breakdown=["label"]), {}),
    "per_user_sum_nulls": (q(s("any", "user_max:sum:n"), s("buy", "user_min:sum:x"), rng=EDGE), {}),
    "frequency_null_users": (q(s("any", "frequency"), grain="total", rng=EDGE, breakdown=["flag"]), {}),
    "segment_breakdown_null_users_not_in": (
        q(s("any", "events"), rng=EDGE, breakdown=["segment"], segment={"did": did("buy", c("n", "gte", 2))}),
        {},
    ),
    "segment_did_not_excludes_null_users": (
        q(s("any", "events"), rng=EDGE, segment={"did_not": did("buy", c("n", "gte", 3))}),
        {},
    ),
    "segment_user_where_is_null": (
        # the users table has no row for u6 and a null cohort for u2; events without a user id are
        # in no segment
        q(s("any", "events"), grain="total", rng=EDGE, segment={"user_where": [c("cohort", "is_null")]}),
        {},
    ),
    "segment_user_where_breakdown": (
        q(
            s("any", "events"),
            grain="total",
            rng=EDGE,
            breakdown=["segment"],
            segment={"user_where": [c("cohort", "is_null")]},
        ),
        {},
    ),
    "formula_labels_and_other": (
        q(
            s("open"),
            s("click"),
            grain="total",
            rng=EDGE,
            breakdown=["label"],
            breakdown_limit=4,
            formula="A / (B - 2)",
        ),
        {},
    ),
    "compare_with_look_back": (
        q(s("open", "wau"), rng={"from": date(2025, 6, 5), "to": date(2025, 6, 10)}, compare="previous_period"),
        {},
    ),
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_advanced(edge, case, request):
    check(edge, case, EDGE_CASES, request)


def test_frequency_without_events_has_no_rows(generated):
    rows = generated.check(q(s("purchase", "frequency", c("revenue", "gt", 1e9)), grain="week"))
    assert rows == []


def test_formula_over_empty_series_is_null(generated):
    rows = generated.check(q(s("purchase", "events", c("revenue", "gt", 1e9)), s("purchase"), formula="B / A"))
    formula = [r["value"] for r in rows if r["series"] == "B / A"]
    assert formula and all(v is None for v in formula)


# ---------------------------------------------------------------------------------------------------
# a small hand-made dataset: one user's events around New York's fall-back hour, ties, null ids

TIES = [
    # (user, UTC time, event, plan)
    ("u1", datetime(2025, 11, 2, 6, 10), "view", "later-local-earlier-instant"),  # 01:10 EST, after 01:30 EDT
    ("u1", datetime(2025, 11, 2, 5, 30), "view", "earlier-instant"),  # 01:30 EDT
    ("u1", datetime(2025, 11, 2, 9, 0), "buy", "x"),
    ("u2", datetime(2025, 11, 2, 7, 0), "view", "tie-a"),
    ("u2", datetime(2025, 11, 2, 7, 0), "view", "tie-b"),  # the same instant: both are first
    ("u2", datetime(2025, 11, 3, 7, 0), "view", "tie-c"),
    ("u3", datetime(2025, 11, 1, 23, 0), "view", "before"),
    ("u3", datetime(2025, 11, 2, 12, 0), "view", "during"),
    (None, datetime(2025, 11, 2, 4, 0), "view", "nobody"),
    (None, datetime(2025, 11, 2, 4, 0), "buy", "nobody"),
]


@pytest.fixture(scope="module")
def ties(backend: str, tmp_path_factory: pytest.TempPathFactory):
    import pyarrow as pa

    from tests.conftest import _load

    events = pa.table(
        {
            "user_id": pa.array([r[0] for r in TIES], type=pa.string()),
            "event_time": pa.array([r[1] for r in TIES], type=pa.timestamp("us")),
            "event_name": pa.array([r[2] for r in TIES], type=pa.string()),
            "plan": pa.array([r[3] for r in TIES], type=pa.string()),
        }
    )
    users = pa.table({"user_id": ["u1", "u2"], "tier": ["gold", None]})
    dataset = _load("ties", backend, tmp_path_factory, {"events": events, "users": users}, "event_name")
    yield dataset
    dataset.close()


NOV2 = {"from": date(2025, 11, 2), "to": date(2025, 11, 3)}
TIES_CASES = {
    "first_by_instant_ny": (
        q(s("view", "events", occurrence="first"), grain="total", rng=NOV2, breakdown=["plan"]),
        {"timezone": "America/New_York"},
    ),
    "last_by_instant_ny_hour": (
        q(s("view", "events", occurrence="last", occurrence_scope="range"), grain="hour", rng=NOV2, breakdown=["plan"]),
        {"timezone": "America/New_York"},
    ),
    "first_ties_utc": (q(s("view", "events", occurrence="first"), grain="total", rng=NOV2, breakdown=["plan"]), {}),
    "first_ever_before_range": (
        q(
            s("view", "unique_users", occurrence="first"),
            s("view", "unique_users", occurrence="first", occurrence_scope="range"),
            rng={"from": date(2025, 11, 2), "to": date(2025, 11, 4)},
        ),
        {},
    ),
    "frequency_ties": (q(s("view", "frequency"), grain="total", rng=NOV2), {}),
    "segment_user_where_null_tier": (
        q(
            s("any", "events"),
            grain="total",
            rng=NOV2,
            breakdown=["segment"],
            segment={"user_where": [c("tier", "is_null")]},
        ),
        {},
    ),
    "per_user_with_null_ids": (
        q(s("any", "user_max:events"), s("any", "events"), grain="total", rng=NOV2, breakdown=["event"]),
        {},
    ),
}


@pytest.mark.parametrize("case", list(TIES_CASES))
def test_ties_advanced(ties, case, request):
    check(ties, case, TIES_CASES, request)


# ---------------------------------------------------------------------------------------------------
# consistency between queries (on the engine alone, independent of the oracle)


def _values(table) -> list[Any]:
    return table.column("value").to_pylist()


def test_previous_period_equals_the_previous_range_run_alone(generated):
    import segwise

    project = generated.project()
    base = q(
        s("login", "unique_users"),
        s("purchase", "sum:revenue"),
        grain="week",
        rng={"from": "2025-02-03", "to": "2025-02-24"},
    )
    compared = segwise.run({**base, "compare": "previous_period"}, project).to_pylist()
    alone = segwise.run({**base, "date_range": {"from": "2025-01-13", "to": "2025-02-03"}}, project).to_pylist()
    for label in ("A", "B"):
        previous = [r["value"] for r in compared if r["series"] == f"{label} (previous)"]
        assert previous == [r["value"] for r in alone if r["series"] == label]


def test_segment_breakdown_splits_the_unsegmented_answer(generated):
    import segwise

    project = generated.project()
    base = q(s("page_view", "events"), grain="week")
    whole = segwise.run(base, project).to_pylist()
    split = segwise.run({**base, "breakdown": ["segment"], "segment": {"did": did("purchase")}}, project).to_pylist()
    inside = segwise.run({**base, "segment": {"did": did("purchase")}}, project).to_pylist()
    outside = segwise.run({**base, "segment": {"did_not": did("purchase")}}, project).to_pylist()
    by_bucket: dict[Any, int] = {}
    for r in split:
        by_bucket[r["bucket"]] = by_bucket.get(r["bucket"], 0) + r["value"]
    assert [by_bucket[r["bucket"]] for r in whole] == [r["value"] for r in whole]
    assert [r["value"] for r in split if r["segment"] == "in"] == [r["value"] for r in inside]
    assert [r["value"] for r in split if r["segment"] == "not in"] == [r["value"] for r in outside]


def test_frequency_sums_to_unique_users(generated):
    import segwise

    project = generated.project()
    freq = segwise.run(q(s("login", "frequency"), grain="week"), project).to_pylist()
    users = segwise.run(q(s("login", "unique_users"), grain="week"), project).to_pylist()
    per_bucket: dict[Any, int] = {}
    for r in freq:
        per_bucket[r["bucket"]] = per_bucket.get(r["bucket"], 0) + r["value"]
    assert [per_bucket.get(r["bucket"], 0) for r in users] == [r["value"] for r in users]


# ---------------------------------------------------------------------------------------------------
# fixed-seed random queries mixing the advanced options (on top of the shared suite's generator)

ADVANCED_RANDOM = {
    "edge": {
        "per_user": ["user_avg:events", "user_max:sum:x", "user_median:events", "user_p75:sum:n", "user_min:events"],
        "user_where": [("cohort", "is_null", None), ("cohort", "in", ["Z", "z", "é"]), ("user.cohort", "neq", "a_b")],
    },
    "generated": {
        "per_user": ["user_avg:events", "user_max:sum:revenue", "user_median:events", "user_p90:sum:amount"],
        "user_where": [
            ("country", "eq", "US"),
            ("subscription_type", "in", ["pro", "enterprise"]),
            ("user.platform", "is_null", None),
            ("account_type", "neq", "personal"),
        ],
    },
}
FORMULA_SHAPES = ["{0} / {1}", "({0} + {1}) * 2", "-{0} + 1.5", "{0} / ({1} - {0})", "{0} * 100 / {1}", "{0} - {0}"]


def advanced_random_query(rng: random.Random, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A random query of the shared suite's generator, with occurrence, per-user measures,
    frequency, segments (restricting or as a breakdown), compare and formulas mixed in."""
    from tests.segmentation_cases import EDGE_RANDOM, GENERATED_RANDOM, random_condition, random_query

    base = EDGE_RANDOM if name == "edge" else GENERATED_RANDOM
    extra = ADVANCED_RANDOM[name]
    query, options = random_query(rng, **base)
    rolling = {"dau", "wau", "mau"}
    for one in query["series"]:
        if rng.random() < 0.25:
            one["measure"] = rng.choice(extra["per_user"])
        measure = one["measure"]
        if rng.random() < 0.3 and measure not in rolling and not measure.startswith("active_users"):
            one["occurrence"] = rng.choice(["first", "last"])
            if rng.random() < 0.5:
                one["occurrence_scope"] = "range"
    if rng.random() < 0.35:
        segment: dict[str, Any] = {}
        for key in rng.sample(["did", "did_not", "user_where"], rng.choice([1, 1, 2])):
            if key == "user_where":
                prop, op, value = rng.choice(extra["user_where"])
                segment[key] = [random_condition(rng, [(prop, op, value)])]
                continue
            spec: dict[str, Any] = {"event": rng.choice([*base["events"], "any"])}
            if rng.random() < 0.4:
                spec["where"] = [random_condition(rng, base["conditions"])]
            if rng.random() < 0.5:
                start = rng.choice(base["starts"])
                spec["date_range"] = rng.choice(
                    [
                        {"from": start, "to": start + timedelta(days=rng.choice([2, 9]))},
                        {"last": rng.choice(["5d", "2w"])},
                    ]
                )
            segment[key] = spec
        query["segment"] = segment
        if rng.random() < 0.4:
            query["breakdown"] = ["segment", *(query.get("breakdown") or [])[:1]]
    labels = [chr(ord("A") + i) for i in range(len(query["series"]))]
    if rng.random() < 0.3:
        query["compare"] = "previous_period"
    if rng.random() < 0.35:
        shape = rng.choice(FORMULA_SHAPES)
        query["formulas"] = [{"label": "f", "expression": shape.format(rng.choice(labels), rng.choice(labels))}]
    if rng.random() < 0.1:  # frequency stands alone
        query["series"] = [{**query["series"][0], "measure": "frequency"}]
        query.pop("formulas", None)
        query.pop("compare", None)
    return query, options


@pytest.mark.parametrize("seed", range(40))
def test_random_advanced_edge(edge, seed):
    query, options = advanced_random_query(random.Random(5000 + seed), "edge")
    edge.check(query, **options)


@pytest.mark.parametrize("seed", range(30))
def test_random_advanced_generated(generated, seed):
    query, options = advanced_random_query(random.Random(7000 + seed), "generated")
    generated.check(query, **options)
