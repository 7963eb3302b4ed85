"""The hand-checked dozen events of the oracle's own tests (``tests/test_oracle*.py``) and the
helpers that run the oracle on them.

2025-01-01 is a Wednesday; 2025-01-05 a Sunday; 2025-01-06 a Monday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.oracle import oracle

D = datetime

# fmt: off
#   id    event       user   event_time (UTC)         price  brand
ROWS = [
    ("e1",  "view",     "u1", D(2025, 1, 1, 10, 0),   10.0, "acme"),
    ("e2",  "view",     "u2", D(2025, 1, 1, 12, 0),   20.0, "bolt"),
    ("e3",  "cart",     "u1", D(2025, 1, 2, 9, 0),    30.0, "acme"),
    ("e4",  "view",     "u3", D(2025, 1, 2, 3, 0),    None, None),
    ("e5",  "purchase", "u1", D(2025, 1, 3, 15, 0),   40.0, "Acme"),
    ("e6",  "view",     "u4", D(2025, 1, 3, 23, 30),  5.0,  ""),
    ("e7",  "cart",     "u2", D(2025, 1, 4, 0, 30),   15.0, "bolt"),
    ("e8",  "view",     "u1", D(2025, 1, 5, 8, 0),    25.0, "crest"),
    ("e9",  "purchase", "u2", D(2025, 1, 5, 20, 0),   60.0, "bolt"),
    ("e10", "view",     "u3", D(2025, 1, 6, 11, 0),   12.5, "acme"),
    ("e11", "view",     "u1", D(2024, 12, 30, 10, 0), 1.0,  "acme"),   # before the usual range
    ("e12", "view",     "u2", D(2025, 1, 8, 0, 0),    2.0,  "acme"),   # exactly the usual `to`
    ("e13", "view",     "u2", D(2024, 12, 26, 12, 0), 2.0,  "acme"),   # far before
]
# fmt: on
EVENTS = [
    {"id": i, "event_name": n, "user_id": u, "event_time": t, "price": p, "brand": b} for i, n, u, t, p, b in ROWS
]
# u4 has no row in the users table: all its user properties are null.
USERS = [
    {"user_id": "u1", "country": "DE", "vip": True},
    {"user_id": "u2", "country": "US", "vip": False},
    {"user_id": "u3", "country": None, "vip": False},
]
WEEK = {"from": date(2025, 1, 1), "to": date(2025, 1, 8)}  # e1..e10 are inside; e11..e13 are not


def run(query: dict, **kwargs) -> list[tuple]:
    """The oracle's rows as tuples: (bucket, *breakdown values, series, value)."""
    return [tuple(row.values()) for row in oracle(query, EVENTS, USERS, **kwargs)]


def values(query: dict, **kwargs) -> list:
    return [row["value"] for row in oracle(query, EVENTS, USERS, **kwargs)]


def total(series: dict, **query) -> int | float | None:
    [row] = oracle({"series": [series], "date_range": WEEK, "time_grain": "total", **query}, EVENTS, USERS)
    return row["value"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# view events in WEEK: e1 u1 10.0, e2 u2 20.0, e4 u3 null, e6 u4 5.0, e8 u1 25.0, e10 u3 12.5
VIEW = {"event": "view"}

ACME_VIEWS = {"event": "view", "where": [{"property": "brand", "op": "eq", "value": "acme"}]}
# acme views: e13 u2 12-26, e11 u1 12-30, e1 u1 01-01, e10 u3 01-06, e12 u2 01-08 00:00
