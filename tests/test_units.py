"""Units on every live engine against the oracle (tests/oracle_units.py): a subset of the shared
segmentation cases counted per account (a user-table property; personal users and users without a
users row have none) and per session (an event property, null on some events), lifecycle and
stickiness per account, the ``unique:P`` measure; bad input."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest

import segwise
from tests.conftest import assert_same, skip_declared_gaps
from tests.oracle import oracle
from tests.oracle_analyses import local_rows
from tests.oracle_lifecycle import lifecycle_oracle
from tests.oracle_stickiness import stickiness_oracle
from tests.oracle_units import event_columns, unit_reader
from tests.segmentation_cases import ALL, GENERATED_RANDOM, WEEK, c, nontrivial, q, random_query, s
from tests.test_segmentation import GENERATED

UNITS = {"account": "account_id", "session": "session_id"}

# The shared segmentation cases run again per account: unique, rolling and per-user measures,
# events per user, frequency, grains, time zones, breakdowns (by a user property an account's users
# may differ in), top-N, relative ranges. Spark (slow) runs the cases marked so.
SHARED = [
    "total",
    "week",
    "month",
    "ny_week_sunday",
    "kolkata_day",
    "last_4w",
    "breakdown_user_prop",
    "breakdown_event_and_user",
    "wau_week_breakdown",
    "mau_month",
    "active_3d_week_breakdown",
    "wau_total_breakdown",
    "mau_relative_breakdown_limit",
    "events_per_user_breakdown",
    "any_of_with_any",
]
SPARK = {"week", "wau_week_breakdown", "mau_relative_breakdown_limit", "own: per-user and frequency", "own: segment"}

OWN: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "per-user and frequency": (q(s("page_view", "user_avg:events"), grain="week", breakdown=["platform"]), {}),
    "frequency": (q(s("login", "frequency"), grain="week", rng=ALL), {}),
    "segment": (
        q(
            s("any", "unique_users"),
            grain="week",
            segment={"did": {"event": "purchase"}, "did_not": {"event": "signup"}},
        ),
        {},
    ),
    "segment split": (
        q(s("login", "wau"), grain="week", segment={"did": {"event": "purchase"}}, breakdown=["segment"]),
        {},
    ),
    "first occurrence": (q(s("feature_used", "unique_users", occurrence="first"), grain="week", rng=ALL), {}),
    "top-N by user property": (
        q(s("any", "unique_users"), s("purchase", "events"), grain="week", breakdown=["country"], breakdown_limit=3),
        {},
    ),
    "filtered by user property": (q(s("any", "dau", c("subscription_type", "neq", "free")), grain="week"), {}),
    "unique values and events": (
        q(s("page_view", "unique:url"), s("purchase", "unique:platform"), s("any", "events"), grain="week"),
        {},
    ),
}


def _cases() -> list[Any]:
    out = []
    for name in SHARED:
        query, options = GENERATED[name]
        out.append(pytest.param(name, {**query, "unit": "account"}, options, id=f"account-{name}"))
    for name, (query, options) in OWN.items():
        for unit in ("account", "session"):
            out.append(pytest.param(f"own: {name}", {**query, "unit": unit}, options, id=f"{unit}-{name}"))
    return out


def unit_project(dataset: Any, timezone: str = "UTC", week_start: str = "monday") -> segwise.Project:
    """The dataset's project with units declared."""
    return dataset.project(timezone, week_start, units=UNITS)


def expected(dataset: Any, query: dict[str, Any], **options: Any) -> list[dict[str, Any]]:
    rows = dataset.events.to_pylist()
    unit_of = unit_reader(query, UNITS, event_columns(rows))
    return oracle(query, rows, dataset.users.to_pylist(), event_name_col=dataset.event_name, unit_of=unit_of, **options)


def check(dataset: Any, query: dict[str, Any], options: dict[str, Any]) -> list[dict[str, Any]]:
    timezone = options.get("timezone", "UTC")
    project = unit_project(dataset, timezone, options.get("week_start", "monday"))
    now = options.get("now")
    skip_declared_gaps(project, query, dataset.backend, now)
    result = segwise.run(query, project, now=now)
    want = expected(dataset, query, **options)
    assert_same(result, want, query, timezone)
    return want


def _spark_lean(backend: str, name: str) -> None:
    if backend == "spark" and name not in SPARK:
        pytest.skip("Spark runs the marked subset (one JVM, slow)")


@pytest.mark.parametrize(("name", "query", "options"), _cases())
def test_units_equal_the_oracle(generated: Any, name: str, query: dict[str, Any], options: dict[str, Any]) -> None:
    _spark_lean(generated.backend, name)
    nontrivial(check(generated, query, options))


def test_units_count_differently_from_users(generated: Any) -> None:
    """The cases are not vacuous: accounts and sessions give other answers than users."""
    _spark_lean(generated.backend, "week")
    query = q(s("any", "unique_users"), grain="week", rng=ALL)
    users = expected(generated, query)
    accounts = check(generated, {**query, "unit": "account"}, {})
    sessions = check(generated, {**query, "unit": "session"}, {})
    values = [[r["value"] for r in rows] for rows in (users, accounts, sessions)]
    assert values[1] != values[0] != values[2]
    assert all(0 < a < u for a, u in zip(values[1], values[0], strict=True))  # nulls and shared accounts


def test_events_without_a_unit_still_count_as_events(generated: Any) -> None:
    _spark_lean(generated.backend, "week")
    query = q(s("any", "events"), s("purchase", "sum:revenue"), grain="week", rng=WEEK)
    plain = check(generated, query, {})
    assert check(generated, {**query, "unit": "account"}, {}) == plain


ANALYSES = {
    "lifecycle": (
        {
            "lifecycle": {"event": "login"},
            "date_range": {"from": "2025-01-13", "to": "2025-02-17"},
            "time_grain": "week",
        },
        lifecycle_oracle,
        "status",
    ),
    "lifecycle by license": (
        {
            "lifecycle": {"event": "page_view"},
            "date_range": {"from": "2025-01-13", "to": "2025-02-17"},
            "time_grain": "week",
            "breakdown": ["license_type"],
            "segment": {"did": {"event": "purchase"}},
        },
        lifecycle_oracle,
        "status",
    ),
    "stickiness": (
        {
            "stickiness": {"event": "login"},
            "date_range": {"from": "2025-01-13", "to": "2025-02-10"},
            "time_grain": "week",
        },
        stickiness_oracle,
        "days",
    ),
    "stickiness cumulative by license": (
        {
            "stickiness": {"event": "any"},
            "date_range": {"from": "2025-01-01", "to": "2025-03-01"},
            "time_grain": "month",
            "cumulative": True,
            "breakdown": ["license_type"],
        },
        stickiness_oracle,
        "days",
    ),
}


@pytest.mark.parametrize("name", list(ANALYSES))
@pytest.mark.parametrize("unit", ["account", "session"])
def test_analyses_per_unit(generated: Any, name: str, unit: str) -> None:
    if generated.backend == "spark" and (unit, name) != ("account", "lifecycle by license"):
        pytest.skip("Spark runs the marked subset (one JVM, slow)")
    base, reference, column = ANALYSES[name]
    query = {**base, "unit": unit}
    table = segwise.run(query, unit_project(generated))
    assert table.column_names == ["bucket", *query.get("breakdown", []), column, "value"]
    rows = generated.events.to_pylist()
    unit_of = unit_reader(query, UNITS, event_columns(rows))
    want = reference(query, rows, generated.users.to_pylist(), event_name_col=generated.event_name, unit_of=unit_of)
    assert local_rows(table, "UTC") == want
    users = reference(base, rows, generated.users.to_pylist(), event_name_col=generated.event_name)
    assert sum(r["value"] for r in want) > 0 and want != users, "a case that checks little"


def test_explain_names_the_unit(generated: Any) -> None:
    _spark_lean(generated.backend, "week")
    project = unit_project(generated)
    account = segwise.plan({**q(s("any", "unique_users")), "unit": "account"}, project).describe()
    assert account[0] == (
        "Unit           account: column 'account_id' of user table users, joined on user_id = the event's user id"
    )
    session = segwise.plan({**q(s("any", "unique_users")), "unit": "session"}, project).describe()
    assert session[0].startswith("Unit           session: event column 'session_id'")
    assert not segwise.plan(q(s("any", "unique_users")), project).describe()[0].startswith("Unit")


def test_now_relative_ranges_use_the_unit(generated: Any) -> None:
    _spark_lean(generated.backend, "week")
    query = {**q(s("any", "wau"), grain="week", rng={"last": "3w"}), "unit": "account"}
    nontrivial(check(generated, query, {"now": datetime(2025, 2, 20)}))


RANDOM = {**GENERATED_RANDOM, "measures": [*GENERATED_RANDOM["measures"], "unique:url", "unique:platform"]}


@pytest.mark.parametrize("seed", range(24))
def test_random_queries_per_unit(generated: Any, seed: int) -> None:
    """Fixed-seed random queries (tests/segmentation_cases.py) counted per account or per session."""
    if generated.backend == "spark" and seed >= 3:
        pytest.skip("Spark runs the first seeds (one JVM, slow)")
    rng = random.Random(7000 + seed)
    query, options = random_query(rng, **RANDOM)
    check(generated, {**query, "unit": rng.choice(["account", "session"])}, options)
