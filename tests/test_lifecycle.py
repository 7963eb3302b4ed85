"""Lifecycle on every live engine against the plain-Python reference (tests/oracle_lifecycle.py):
hour, day, week and month grains, a range that does not start on a bucket, breakdowns by user
properties and by segment, segments, filters, combined events, a time zone with Sunday weeks;
hand-built statuses; the SQL to paste; bad input."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb
import pytest

import segwise
from tests.conftest import skip_declared_gaps
from tests.oracle_analyses import local_rows
from tests.oracle_lifecycle import lifecycle_oracle

WEEKS = {"from": date(2025, 1, 13), "to": date(2025, 2, 17)}


def q(event: Any = "login", *, grain: str = "week", rng: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    spec = {"event": event, **extra.pop("spec", {})}
    return {"lifecycle": spec, "date_range": rng or WEEKS, "time_grain": grain, **extra}


CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "weekly": (q("login"), {}),
    "daily": (q("purchase", grain="day", rng={"from": date(2025, 1, 20), "to": date(2025, 2, 3)}), {}),
    "monthly": (q("page_view", grain="month", rng={"from": date(2025, 2, 1), "to": date(2025, 3, 1)}), {}),
    "hourly": (q("any", grain="hour", rng={"from": datetime(2025, 1, 20, 8), "to": datetime(2025, 1, 20, 20)}), {}),
    "range off the buckets": (q("login", rng={"from": date(2025, 1, 15), "to": date(2025, 2, 12)}), {}),
    "by a user property": (q("page_view", breakdown=["country"]), {}),
    "filtered": (q("page_view", spec={"where": [{"property": "platform", "op": "eq", "value": "web"}]}), {}),
    "combined event": (q({"any_of": [{"event": "login"}, {"event": "purchase"}]}), {}),
    "segment restricts": (q("login", segment={"did": {"event": "purchase"}}), {}),
    "segment splits": (q("login", segment={"did": {"event": "purchase"}}, breakdown=["segment"]), {}),
    "sunday weeks in Kolkata": (q("page_view"), {"timezone": "Asia/Kolkata", "week_start": "sunday"}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_lifecycle_equals_the_oracle(generated: Any, name: str) -> None:
    query, options = CASES[name]
    timezone = options.get("timezone", "UTC")
    project = generated.project(timezone, options.get("week_start", "monday"))
    skip_declared_gaps(project, query, generated.backend, None)
    table = segwise.run(query, project)
    assert table.column_names == ["bucket", *query.get("breakdown", []), "status", "value"]
    expected = lifecycle_oracle(
        query, generated.events.to_pylist(), generated.users.to_pylist(), event_name_col=generated.event_name, **options
    )
    assert local_rows(table, timezone) == expected
    assert {r["status"] for r in expected if r["value"]} >= {"new", "dormant"}, "a case that checks little"


def test_hand_built_statuses(tmp_path) -> None:
    """a: new in week 2, returning in 3, dormant in 4, resurrecting in 5; b: active before the
    range (dormant in week 1); c: first event long ago, so active in week 1 is resurrecting, not new."""
    path = tmp_path / "l.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE events (user_id VARCHAR, event_time TIMESTAMP, event_name VARCHAR)")
    rows = [
        ("a", datetime(2025, 1, 14, 9), "x"),
        ("a", datetime(2025, 1, 21, 9), "x"),
        ("a", datetime(2025, 2, 4, 9), "x"),
    ]
    rows += [
        ("b", datetime(2025, 1, 2, 9), "x"),
        ("c", datetime(2024, 6, 1, 9), "x"),
        ("c", datetime(2025, 1, 8, 9), "x"),
    ]
    rows += [(None, datetime(2025, 1, 8, 9), "x"), ("a", datetime(2025, 1, 15, 9), "y")]
    con.executemany("INSERT INTO events VALUES (?, ?, ?)", rows)
    con.close()
    project = segwise.Project(
        warehouse=f"duckdb:///{path}", event_tables=[{"table": "events", "event_name": "event_name"}]
    )
    query = {
        "lifecycle": {"event": "x"},
        "date_range": {"from": "2025-01-06", "to": "2025-02-10"},
        "time_grain": "week",
    }
    table = segwise.run(query, project)
    got = {(r["bucket"].date().isoformat(), r["status"]): r["value"] for r in table.to_pylist() if r["value"]}
    assert got == {
        ("2025-01-06", "resurrecting"): 1,  # c (first event in June)
        ("2025-01-06", "dormant"): 1,  # b (active the week before the range)
        ("2025-01-13", "new"): 1,  # a
        ("2025-01-13", "dormant"): 1,  # c
        ("2025-01-20", "returning"): 1,  # a
        ("2025-01-27", "dormant"): 1,  # a
        ("2025-02-03", "resurrecting"): 1,  # a
    }
    assert table.num_rows == 5 * 4  # every bucket x status
    project.close()


@pytest.mark.parametrize("name", ["weekly", "by a user property", "segment splits"])
def test_the_sql_to_paste_answers_as_run(generated: Any, name: str) -> None:
    from tests.test_paste import check_paste

    query, options = CASES[name]
    check_paste(generated.project(options.get("timezone", "UTC"), options.get("week_start", "monday")), query)


@pytest.mark.parametrize(
    ("query", "message", "where"),
    [
        (
            {"lifecycle": {"event": "login"}, "time_grain": "quarter"},
            "use time_grain hour, day, week or month",
            "query",
        ),
        ({"lifecycle": {"event": "login"}, "breakdown": ["url"]}, "user properties", "breakdown[0]"),
        ({"lifecycle": {"event": "login"}, "compare": "previous_period"}, "does not take it", "query"),
        (
            {"lifecycle": {"event": "login"}, "stickiness": {"event": "login"}, "time_grain": "week"},
            "one question",
            "query",
        ),
    ],
)
def test_bad_lifecycle_queries_are_refused(generated: Any, query: dict[str, Any], message: str, where: str) -> None:
    if generated.backend != "duckdb":
        pytest.skip("validation; one engine is enough")
    with pytest.raises(segwise.SegwiseError) as info:
        segwise.run(query, generated.project("UTC", "monday"))
    assert message in info.value.message
    assert (info.value.where or "").startswith(where)
