"""The oracle against hand-worked answers: rolling active users and daylight saving (the events of
``tests/oracle_cases.py``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.oracle import oracle
from tests.oracle_cases import ACME_VIEWS, EVENTS, USERS, VIEW, WEEK, D, run, utc, values

# -- rolling active users ----------------------------------------------------------------------------


def test_wau_looks_back_before_from():
    q = {
        "series": [{**ACME_VIEWS, "measure": "wau"}],
        "time_grain": "day",
        "date_range": {"from": date(2025, 1, 2), "to": date(2025, 1, 8)},
    }
    # 01-02: window 12-27..01-02 -> u1 (e11, e1; both before `from`); e13 (12-26) is outside -> 1
    # 01-03 .. 01-05: u1 -> 1
    # 01-06: window 12-31..01-06 -> u1 (e1), u3 (e10) -> 2
    # 01-07: window 01-01..01-07 -> u1 (e1), u3 -> 2; e12 is exactly `to` and never counts
    assert values(q) == [1, 1, 1, 1, 2, 2]
    # plain unique users per day over the same range: only e10 on 01-06
    q["series"][0]["measure"] = "unique_users"
    assert values(q) == [0, 0, 0, 0, 1, 0]


def test_rolling_week_grain_and_total():
    # Monday weeks over WEEK: 2024-12-30 (window ends 01-05: 12-30..01-05 -> u1) and 2025-01-06
    # (last day clipped to 01-07: 01-01..01-07 -> u1, u3)
    q = {"series": [{**ACME_VIEWS, "measure": "wau"}], "time_grain": "week", "date_range": WEEK}
    assert values(q) == [1, 2]
    # total: window 01-01..01-07 -> u1 u3
    q["time_grain"] = "total"
    assert values(q) == [2]
    # dau at total: only 01-07 -> nobody
    q["series"][0]["measure"] = "dau"
    assert values(q) == [0]
    # active_users:3d ending 01-07: 01-05..01-07 -> u3 (e10)
    q["series"][0]["measure"] = "active_users:3d"
    assert values(q) == [1]


def test_rolling_breakdown():
    # wau per country, all views, days 01-05 and 01-06:
    # 01-05 window 12-30..01-05: DE u1 (e11 e1 e8), US u2 (e2), null u3 (e4) u4 (e6)
    # 01-06 window 12-31..01-06: DE u1, US u2, null u3 u4
    q = {
        "series": [{**VIEW, "measure": "wau"}],
        "time_grain": "day",
        "breakdown": ["country"],
        "date_range": {"from": date(2025, 1, 5), "to": date(2025, 1, 7)},
    }
    assert [(r[1], r[3]) for r in run(q)] == [("DE", 1), ("DE", 1), ("US", 1), ("US", 1), (None, 2), (None, 2)]


# -- daylight saving ---------------------------------------------------------------------------------


def test_hour_skipped_by_spring_forward_is_not_a_bucket():
    # New York 2025-03-09: 02:00 jumps to 03:00, so local 02:00..03:00 never happens.
    ny = ZoneInfo("America/New_York")
    q = {
        "series": [{"event": "any"}],
        "time_grain": "hour",
        "date_range": {"from": D(2025, 3, 9, 0), "to": D(2025, 3, 9, 5)},
    }
    buckets = [r["bucket"] for r in oracle(q, EVENTS, USERS, timezone="America/New_York")]
    assert buckets == [datetime(2025, 3, 9, h, tzinfo=ny) for h in (0, 1, 3, 4)]
    # 01:00 EST to 03:00 EDT is one real hour
    assert buckets[2].astimezone(UTC) - buckets[1].astimezone(UTC) == timedelta(hours=1)


def test_fall_back_hour_is_one_bucket_at_its_earlier_instant():
    # New York 2025-11-02: 01:00..02:00 happens twice; one bucket, at the first 01:00 (EDT).
    q = {
        "series": [{"event": "any"}],
        "time_grain": "hour",
        "date_range": {"from": D(2025, 11, 2, 0), "to": D(2025, 11, 2, 3)},
    }
    buckets = [r["bucket"] for r in oracle(q, EVENTS, USERS, timezone="America/New_York")]
    assert [b.astimezone(UTC).hour for b in buckets] == [4, 5, 7]  # 00:00 EDT, 01:00 EDT, 02:00 EST


def test_day_starting_in_a_gap_starts_when_the_gap_ends():
    # Beirut 2025-03-30: midnight jumps to 01:00 (UTC+2 -> UTC+3); the day is still a bucket,
    # starting at 01:00 +03:00 = 22:00 UTC on the 29th.
    q = {
        "series": [{"event": "any"}],
        "time_grain": "day",
        "date_range": {"from": date(2025, 3, 29), "to": date(2025, 3, 31)},
    }
    buckets = [r["bucket"] for r in oracle(q, EVENTS, USERS, timezone="Asia/Beirut")]
    assert [b.astimezone(UTC) for b in buckets] == [utc(2025, 3, 28, 22), utc(2025, 3, 29, 22)]


def test_hour_partly_in_a_half_hour_gap_is_kept():
    # Lord Howe Island 2025-10-05: 02:00 jumps to 02:30 (+10:30 -> +11). Local 02:30..03:00 exists,
    # so the 02:00 hour bucket stays; it starts at 02:30 +11:00 = 15:30 UTC on the 4th.
    q = {
        "series": [{"event": "any"}],
        "time_grain": "hour",
        "date_range": {"from": D(2025, 10, 5, 1), "to": D(2025, 10, 5, 4)},
    }
    buckets = [r["bucket"].astimezone(UTC) for r in oracle(q, EVENTS, USERS, timezone="Australia/Lord_Howe")]
    assert buckets == [utc(2025, 10, 4, 14, 30), utc(2025, 10, 4, 15, 30), utc(2025, 10, 4, 16)]


def test_rolling_groups_in_range_or_counted_from_look_back():
    extra = [
        # in range but without a user: a user-less row makes no group
        {
            "id": "x1",
            "event_name": "view",
            "user_id": None,
            "event_time": D(2025, 1, 6, 9),
            "price": None,
            "brand": "ghost",
        },
        # only before `from`, inside the 7-day look-back of 01-06: the group is shown
        {
            "id": "x2",
            "event_name": "view",
            "user_id": "u4",
            "event_time": D(2025, 1, 2, 9),
            "price": None,
            "brand": "old",
        },
        # only before the look-back: not shown
        {
            "id": "x3",
            "event_name": "view",
            "user_id": "u4",
            "event_time": D(2024, 12, 20, 9),
            "price": None,
            "brand": "older",
        },
    ]
    q = {
        "series": [{"event": "view", "measure": "wau"}],
        "time_grain": "day",
        "breakdown": ["brand"],
        "date_range": {"from": date(2025, 1, 6), "to": date(2025, 1, 8)},
    }
    rows = [(r["brand"], r["value"]) for r in oracle(q, EVENTS + extra, USERS)]
    # views by brand with windows 12-31..01-06 and 01-01..01-07:
    # "" u4 (e6) 1 1; acme u1 (e1) u3 (e10) 2 2; bolt u2 (e2) 1 1; crest u1 (e8) 1 1;
    # ghost: no user, no group; old u4 (x2 on 01-02) 1 1; null u3 (e4 on 01-02) 1 1
    assert rows == [
        ("", 1),
        ("", 1),
        ("acme", 2),
        ("acme", 2),
        ("bolt", 1),
        ("bolt", 1),
        ("crest", 1),
        ("crest", 1),
        ("old", 1),
        ("old", 1),
        (None, 1),
        (None, 1),
    ]


def test_rolling_groups_need_a_row_in_some_window():
    # dau at `total` over WEEK looks at 01-07 only; no view is on 01-07, so no brand group is shown,
    # although every brand has views in range
    q = {
        "series": [{"event": "view", "measure": "dau"}],
        "time_grain": "total",
        "breakdown": ["brand"],
        "date_range": WEEK,
    }
    assert oracle(q, EVENTS, USERS) == []
    # a view without a user on 01-07 does not make its group appear
    extra = [
        {
            "id": "x",
            "event_name": "view",
            "user_id": None,
            "event_time": D(2025, 1, 7, 9),
            "price": None,
            "brand": "ghost",
        }
    ]
    assert oracle(q, EVENTS + extra, USERS) == []
    # without a breakdown the one empty group is always there
    q.pop("breakdown")
    assert [r["value"] for r in oracle(q, EVENTS, USERS)] == [0]
