"""Stickiness on every live engine against the plain-Python reference (tests/oracle_stickiness.py):
weekly, monthly, total, cumulative, partial buckets at the range's edges, breakdowns by user
properties and by segment, segments, filters, combined events, time zones; hand-built edge cases;
bad input refused with located errors."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb
import pytest

import segwise
from tests.conftest import skip_declared_gaps
from tests.oracle_analyses import local_rows
from tests.oracle_stickiness import stickiness_oracle

JAN = {"from": date(2025, 1, 6), "to": date(2025, 2, 3)}  # four whole weeks
ODD = {"from": date(2025, 1, 8), "to": date(2025, 2, 12)}  # partial weeks at both ends


def q(event: Any = "login", *, grain: str = "week", rng: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "stickiness": {"event": event, **extra.pop("spec", {})},
        "date_range": rng or JAN,
        "time_grain": grain,
        **extra,
    }


CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "weekly": (q("login"), {}),
    "weekly cumulative": (q("page_view", cumulative=True), {}),
    "partial weeks": (q("page_view", rng=ODD), {}),
    "monthly": (q("any", grain="month", rng={"from": date(2025, 1, 1), "to": date(2025, 3, 1)}), {}),
    "total": (q("page_view", grain="total"), {}),
    "by a user property": (q("page_view", breakdown=["country"]), {}),
    "by two user properties, cumulative": (
        q("login", breakdown=["license_type", "user.platform"], cumulative=True),
        {},
    ),
    "filtered": (q("page_view", spec={"where": [{"property": "platform", "op": "eq", "value": "web"}]}), {}),
    "combined event": (q({"any_of": [{"event": "login"}, {"event": "purchase"}]}), {}),
    "segment restricts": (q("page_view", segment={"did": {"event": "purchase"}}), {}),
    "segment splits": (q("login", segment={"did": {"event": "purchase"}}, breakdown=["segment"]), {}),
    "sunday weeks in Kolkata": (q("page_view"), {"timezone": "Asia/Kolkata", "week_start": "sunday"}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_stickiness_equals_the_oracle(generated: Any, name: str) -> None:
    query, options = CASES[name]
    timezone = options.get("timezone", "UTC")
    project = generated.project(timezone, options.get("week_start", "monday"))
    skip_declared_gaps(project, query, generated.backend, None)
    table = segwise.run(query, project)
    assert table.column_names == ["bucket", *query.get("breakdown", []), "days", "value"]
    assert str(table.schema.field("days").type) == "int64" and str(table.schema.field("value").type) == "int64"
    expected = stickiness_oracle(
        query,
        generated.events.to_pylist(),
        generated.users.to_pylist(),
        event_name_col=generated.event_name,
        **options,
    )
    assert local_rows(table, timezone) == expected
    assert any(r["value"] for r in expected), "a case that checks nothing"


def test_hand_built_edges(tmp_path) -> None:
    """A user active every day of a week counts once at days 7; two events on one day are one
    day; a day split by the time zone's midnight is two days; events without a user id and
    outside the range never count; a partial last bucket has fewer days."""
    path = tmp_path / "s.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE events (user_id VARCHAR, event_time TIMESTAMP, event_name VARCHAR)")
    rows = [("a", datetime(2025, 1, 6 + d, 9), "x") for d in range(7)]  # every day of the week of Jan 6
    rows += [("b", datetime(2025, 1, 7, 1), "x"), ("b", datetime(2025, 1, 7, 23), "x")]  # one UTC day, two in Berlin
    rows += [(None, datetime(2025, 1, 8, 12), "x"), ("c", datetime(2025, 1, 20, 12), "x")]  # no user; outside
    rows += [("d", datetime(2025, 1, 14, 12), "x"), ("d", datetime(2025, 1, 15, 12), "y")]
    con.executemany("INSERT INTO events VALUES (?, ?, ?)", rows)
    con.close()
    rng = {"from": "2025-01-06", "to": "2025-01-16"}  # one whole week and 3 days of the next (13th to 15th)
    for timezone in ("UTC", "Europe/Berlin"):
        project = segwise.Project(
            warehouse=f"duckdb:///{path}",
            timezone=timezone,
            event_tables=[{"table": "events", "event_name": "event_name"}],
        )
        table = segwise.run({"stickiness": {"event": "x"}, "date_range": rng, "time_grain": "week"}, project)
        got = [(r["days"], r["value"]) for r in table.to_pylist()]
        b_days = 1 if timezone == "UTC" else 2
        first_week = [(d, int(d == 7) + int(d == b_days)) for d in range(1, 8)]
        assert got == [*first_week, (1, 1), (2, 0), (3, 0)]  # d: x on Jan 14 only (y does not count)
        cumulative = segwise.run(
            {"stickiness": {"event": "x"}, "date_range": rng, "time_grain": "week", "cumulative": True}, project
        )
        assert [r["value"] for r in cumulative.to_pylist()][:7] == [
            sum(v for d, v in first_week if d >= k) for k in range(1, 8)
        ]
        project.close()


@pytest.mark.parametrize(
    ("query", "message", "where"),
    [
        ({"stickiness": {"event": "login"}, "time_grain": "day"}, "use time_grain week", "query"),
        (
            {"stickiness": {"event": "login"}, "time_grain": "week", "breakdown": ["url"]},
            "user properties",
            "breakdown[0]",
        ),
        ({"stickiness": {"event": "login"}, "time_grain": "week", "formula": "A"}, "does not take it", "query"),
        ({"series": [{"event": "login"}], "cumulative": True}, "belongs to a stickiness query", "query"),
        ({"series": [{"event": "login"}], "stickiness": {"event": "login"}}, "one question", "query"),
        ({"stickiness": {"event": "logn"}, "time_grain": "week"}, "unknown event 'logn'", "stickiness > event"),
    ],
)
def test_bad_stickiness_queries_are_refused(generated: Any, query: dict[str, Any], message: str, where: str) -> None:
    if generated.backend != "duckdb":
        pytest.skip("validation; one engine is enough")
    with pytest.raises(segwise.SegwiseError) as info:
        segwise.run(query, generated.project("UTC", "monday"))
    assert message in info.value.message
    assert (info.value.where or "").startswith(where)


@pytest.mark.parametrize("name", ["weekly cumulative", "partial weeks", "total", "by two user properties, cumulative"])
def test_the_sql_to_paste_answers_as_run(generated: Any, name: str) -> None:
    """``segwise sql`` prints a statement whose result is ``segwise run``'s answer (zero-filled
    days, cumulative sums, renamed breakdown columns, order) on every engine."""
    from tests.test_paste import check_paste

    query, options = CASES[name]
    check_paste(generated.project(options.get("timezone", "UTC"), options.get("week_start", "monday")), query)
