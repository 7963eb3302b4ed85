"""The representative queries whose SQL ``tests/test_dialects.py`` renders for every dialect and
compares with ``tests/snapshots/<dialect>/<case>.sql``."""

from __future__ import annotations

from typing import Any

# name -> (project kind, query). Project kinds: utc, berlin (Europe/Berlin), sunday (weeks start Sunday).
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "events_daily": (
        "utc",
        {
            "series": [{"event": "page_view", "measure": "events"}],
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "time_grain": "day",
        },
    ),
    "unique_users_week_sunday": (
        "sunday",
        {
            "series": [{"event": "login", "measure": "unique_users"}],
            "date_range": {"from": "2025-01-05", "to": "2025-01-26"},
            "time_grain": "week",
        },
    ),
    "active_accounts_by_license": (  # unit from a user table; a distinct count of values
        "utc",
        {
            "series": [
                {"event": "any", "measure": "unique_users"},
                {"event": "login", "measure": "wau"},
                {"event": "page_view", "measure": "unique:url"},
            ],
            "unit": "account",
            "date_range": {"from": "2025-01-06", "to": "2025-01-27"},
            "time_grain": "week",
            "breakdown": ["license_type"],
        },
    ),
    "sessions_per_user_segment": (  # unit from an event column, in a segment
        "utc",
        {
            "series": [{"event": "page_view", "measure": "user_avg:events"}],
            "unit": "session",
            "segment": {"did": {"event": "purchase"}},
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "time_grain": "week",
        },
    ),
    "revenue_by_country_top3": (
        "utc",
        {
            "series": [{"event": "purchase", "measure": "sum:revenue"}],
            "date_range": {"last": "4w"},
            "time_grain": "week",
            "breakdown": ["country"],
            "breakdown_limit": 3,
        },
    ),
    "p90_amount": (
        "utc",
        {
            "series": [
                {"event": "payment", "measure": "p90:amount"},
                {"event": "payment", "measure": "median:amount"},
            ],
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "time_grain": "week",
        },
    ),
    "wau_top2_platform": (
        "utc",
        {
            "series": [{"event": "any", "measure": "wau"}],
            "date_range": {"from": "2025-01-06", "to": "2025-01-27"},
            "time_grain": "week",
            "breakdown": ["platform"],
            "breakdown_limit": 2,
        },
    ),
    "berlin_events_per_user": (
        "berlin",
        {
            "series": [
                {"event": "feature_used", "measure": "events_per_user"},
                {"event": "page_view", "measure": "dau"},
            ],
            "date_range": {"from": "2025-01-10", "to": "2025-01-20"},
            "time_grain": "day",
        },
    ),
    "funnel_weekly_top2": (
        "utc",
        {
            "funnel": {
                "steps": [{"event": "login"}, {"event": "page_view"}, {"event": "purchase"}],
                "window": "7d",
                "exclude": [{"event": "push_sent", "after_step": 2}],
                "hold": ["platform"],
            },
            "date_range": {"from": "2025-01-06", "to": "2025-01-27"},
            "time_grain": "week",
            "breakdown": ["country"],
            "breakdown_limit": 2,
        },
    ),
    "berlin_hour_breakdown": (
        "berlin",
        {
            "series": [{"event": "page_view", "measure": "events"}],
            "date_range": {"from": "2025-01-15", "to": "2025-01-16"},
            "time_grain": "hour",
            "breakdown": ["platform"],
        },
    ),
    "user_filter_month": (
        "utc",
        {
            "series": [
                {
                    "event": "login",
                    "measure": "unique_users",
                    "where": [{"property": "account_type", "op": "in", "values": ["business", "education"]}],
                },
                {"event": "page_view", "measure": "events"},
            ],
            "date_range": {"from": "2025-01-01", "to": "2025-02-01"},
            "time_grain": "month",
            "breakdown": ["user.country", "user.account_type"],
        },
    ),
    "text_ops_total": (
        "utc",
        {
            "series": [
                {
                    "event": "page_view",
                    "measure": "unique_users",
                    "where": [{"property": "url", "op": "contains", "value": "doc"}],
                },
                {
                    "event": "page_view",
                    "measure": "unique_users",
                    "where": [{"property": "referrer", "op": "starts_with", "value": "gö"}],
                },
                {"event": "purchase", "measure": "avg:revenue"},
                {"event": "purchase", "measure": "max:revenue"},
            ],
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "time_grain": "total",
        },
    ),
    "retention_weekly_sunday": (
        "sunday",
        {
            "retention": {"start": "login", "return": "any", "start_mode": "recurring", "cumulative": True},
            "date_range": {"from": "2025-01-05", "to": "2025-01-26"},
            "time_grain": "week",
            "breakdown": ["country"],
            "breakdown_limit": 3,
        },
    ),
    "retention_berlin_daily": (
        "berlin",
        {
            "retention": {"start": "signup", "return": "purchase", "periods": 5},
            "date_range": {"from": "2025-01-10", "to": "2025-01-20"},
            "time_grain": "day",
        },
    ),
    "retention_rolling_daily": (  # 24-hour periods from each unit's t0
        "berlin",
        {
            "retention": {"start": "login", "start_mode": "recurring", "periods": 4, "windows": "rolling"},
            "date_range": {"from": "2025-01-10", "to": "2025-01-20"},
            "time_grain": "day",
        },
    ),
    "retention_by_start_platform": (  # the first sign-up's platform (and a user property, joined late)
        "utc",
        {
            "retention": {"start": "signup", "return": "any", "periods": 4},
            "date_range": {"from": "2025-01-06", "to": "2025-02-03"},
            "time_grain": "week",
            "breakdown": ["event.platform", "country"],
            "breakdown_limit": 3,
        },
    ),
    "retention_rolling_by_start_url": (  # each bucket's first page view's url, rolling "on or after"
        "utc",
        {
            "retention": {
                "start": "page_view",
                "start_mode": "recurring",
                "periods": 3,
                "windows": "rolling",
                "cumulative": True,
            },
            "date_range": {"from": "2025-01-10", "to": "2025-01-20"},
            "time_grain": "day",
            "breakdown": ["url"],
        },
    ),
    "retention_accounts_by_country": (  # per account: the start event's user's country, one group per cohort
        "utc",
        {
            "retention": {"start": "login", "start_mode": "recurring", "periods": 3},
            "unit": "account",
            "date_range": {"from": "2025-01-06", "to": "2025-01-27"},
            "time_grain": "week",
            "breakdown": ["country"],
        },
    ),
    "cohort_tiers": (  # behavioural segment (having, lists, did_not) and a category breakdown
        "utc",
        {
            "series": [{"event": "any", "measure": "unique_users"}],
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "time_grain": "week",
            "segment": {
                "did": {
                    "event": "any",
                    "date_range": {"last": "14d"},
                    "having": {"measure": "active_days", "op": "gte", "value": 2},
                },
                "did_not": [
                    {"event": "purchase", "having": {"measure": "sum:revenue", "op": "between", "values": [1, 5]}}
                ],
            },
            "categories": {
                "tier": {
                    "of": [
                        {
                            "label": "buyer",
                            "segment": {
                                "did": {"event": "purchase", "having": {"measure": "events", "op": "gte", "value": 2}}
                            },
                        },
                        {"label": "visitor", "segment": {"did": {"event": "page_view"}}},
                    ],
                    "else": "rest",
                }
            },
            "breakdown": ["tier"],
        },
    ),
    "funnel_account_tier": (  # a funnel per account (user-table unit) by a category
        "utc",
        {
            "funnel": {"steps": [{"event": "login"}, {"event": "purchase"}], "window": "7d"},
            "unit": "account",
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "categories": {
                "tier": {
                    "of": [
                        {"label": "buyer", "segment": {"did": {"event": "purchase", "date_range": {"last": "30d"}}}},
                    ],
                    "else": "rest",
                }
            },
            "breakdown": ["tier"],
        },
    ),
}
