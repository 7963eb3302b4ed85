"""The advanced cases on the generated data (``test_advanced.py``'s ``GENERATED_ADVANCED``): segments
and compare to the previous period."""

from __future__ import annotations

from datetime import datetime

from tests.advanced_support import NOW, did, f, member
from tests.segmentation_cases import ALL, FEB, JAN, c, q, s

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
