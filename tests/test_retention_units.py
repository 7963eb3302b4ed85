"""Retention per account broken down by a user property its users differ in, on a hand-made
dataset, on every live engine against the reference (tests/oracle_retention.py).

The contract (ANALYSES.md "Retention", docs/queries.md "Retention"): a unit is in one group per
cohort — the group of the start event that made it a member (first_time: its first start event
ever; recurring: its first start event in the cohort's bucket), for a user property the value of
that event's user — and its returns are the account's, whichever user comes back. So an account
is never counted twice in a cohort (once per country of its users), and a return of two of its
users in one bucket counts once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from tests.backends import BACKENDS
from tests.conftest import Dataset
from tests.oracle_retention import retention_oracle
from tests.oracle_units import unit_reader
from tests.test_retention import check

UNITS = {"account": "account_id"}
USERS = [  # (user, account, country)
    ("u1", "A", "US"),
    ("u2", "A", "DE"),
    ("u3", "B", "US"),
    ("u4", None, "FR"),  # no account: never counts
    ("u5", "C", "BR"),
    ("u6", "C", "AR"),
]
EVENTS = [  # (user, naive UTC time, event)
    ("u1", datetime(2025, 3, 3, 9), "signup"),  # A enters on the 3rd by u1: US
    ("u2", datetime(2025, 3, 3, 10), "signup"),  # later in the same bucket: A stays US
    ("u2", datetime(2025, 3, 4, 9), "open"),  # A returns on the 4th by two users: once
    ("u1", datetime(2025, 3, 4, 10), "open"),
    ("u2", datetime(2025, 3, 4, 11), "signup"),  # recurring: A's entry on the 4th is u2's: DE
    ("u1", datetime(2025, 3, 5, 10), "open"),
    ("u3", datetime(2025, 3, 4, 8), "signup"),
    ("u3", datetime(2025, 3, 6, 9), "open"),
    ("u4", datetime(2025, 3, 3, 9), "signup"),
    ("u4", datetime(2025, 3, 4, 9), "open"),
    ("u5", datetime(2025, 3, 5, 12), "signup"),  # C: two users at one instant: the smallest, AR
    ("u6", datetime(2025, 3, 5, 12), "signup"),
    ("u5", datetime(2025, 3, 6, 12), "open"),
]
DAILY = {
    "retention": {"start": "signup", "return": "open", "periods": 3},
    "date_range": {"from": "2025-03-03", "to": "2025-03-06"},
    "time_grain": "day",
    "unit": "account",
    "breakdown": ["country"],
}
NOW = datetime(2025, 3, 9)


def _with(**spec: Any) -> dict[str, Any]:
    return {**DAILY, "retention": {**DAILY["retention"], **spec}}


CASES: dict[str, dict[str, Any]] = {
    "first time": DAILY,
    "first time, on or after": _with(cumulative=True),
    "recurring": _with(start_mode="recurring"),
    "recurring, on or after": _with(start_mode="recurring", cumulative=True),
    "rolling recurring": _with(windows="rolling", start_mode="recurring"),
    "rolling first time": _with(windows="rolling"),
}
SPARK = {"first time", "recurring"}


@pytest.fixture(scope="module")
def accounts(backend: str, tmp_path_factory: pytest.TempPathFactory):
    events = pa.table(
        {
            "user_id": pa.array([e[0] for e in EVENTS], pa.string()),
            "event_time": pa.array([e[1] for e in EVENTS], pa.timestamp("us")),
            "event_name": pa.array([e[2] for e in EVENTS], pa.string()),
        }
    )
    users = pa.table(
        {
            name: pa.array([u[j] for u in USERS], pa.string())
            for j, name in enumerate(("user_id", "account_id", "country"))
        }
    )
    tables = {"events": events, "users": users}
    url = BACKENDS[backend].load(tables, tmp_path_factory.mktemp(f"{backend}-retention-accounts"), "retention_accounts")
    dataset = Dataset("retention_accounts", backend, url, events, users, "event_name")
    yield dataset
    dataset.close()


@pytest.mark.parametrize("name", list(CASES))
def test_accounts_by_a_user_property_equal_the_oracle(accounts: Any, name: str) -> None:
    if accounts.backend == "spark" and name not in SPARK:
        pytest.skip("Spark runs a few of the cases (one slow JVM)")
    query = CASES[name]
    unit_of = unit_reader(query, UNITS, {"user_id", "event_time", "event_name"})
    check(accounts, query, NOW, {}, accounts.project(units=UNITS), unit_of=unit_of)


def _oracle(name: str) -> dict[tuple[Any, str | None, int], tuple[int, int]]:
    events = [dict(zip(("user_id", "event_time", "event_name"), e, strict=True)) for e in EVENTS]
    users = [dict(zip(("user_id", "account_id", "country"), u, strict=True)) for u in USERS]
    unit_of = unit_reader(CASES[name], UNITS, {"user_id", "event_time", "event_name"})
    rows = retention_oracle(CASES[name], events, users, now=NOW, unit_of=unit_of)
    return {(r["cohort"], r["country"], r["period"]): (r["count"], r["cohort_size"]) for r in rows}


def test_the_reference_agrees_with_the_hand_worked_answers() -> None:
    d3, d4, d5 = (datetime(2025, 3, d) for d in (3, 4, 5))
    first = _oracle("first time")
    assert {g for _c, g, _k in first} == {"US", "AR"}  # not DE (A is US), not FR (u4 has no account)
    assert [first[(d3, "US", k)] for k in range(4)] == [(1, 1), (1, 1), (1, 1), (0, 1)]  # A, once on the 4th
    assert [first[(d4, "US", k)][0] for k in range(4)] == [1, 0, 1, 0]  # B
    assert first[(d5, "AR", 0)] == (1, 1) and first[(d5, "AR", 1)] == (1, 1)  # C (u5's return counts)
    recurring = _oracle("recurring")
    assert {g for _c, g, _k in recurring} == {"US", "DE", "AR"}
    assert recurring[(d3, "US", 1)] == (1, 1)  # A's two users came back on the 4th: one account
    assert [recurring[(d4, "DE", k)][0] for k in range(4)] == [1, 1, 0, 0]  # A again, by u2
    assert [recurring[(d4, "US", k)][0] for k in range(4)] == [1, 0, 1, 0]  # B
    assert recurring[(None, "US", 0)] == (2, 2) and recurring[(None, "DE", 0)] == (1, 1)
