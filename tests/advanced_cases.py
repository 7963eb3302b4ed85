"""The advanced cases on the generated data (``test_advanced.py``'s ``GENERATED_ADVANCED``): combined
events, first/last occurrence, formulas, per-user measures and frequency."""

from __future__ import annotations

from tests.advanced_support import did, f, member
from tests.segmentation_cases import ALL, FEB, JAN, WEEK, c, q, s

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
