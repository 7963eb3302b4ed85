"""A relative range's answer at a later "now" (``segwise.moving``): served from the result cache
only where it is provably the same answer, on every engine with a data version.

Every expected answer comes from the oracle (``tests.oracle``) at the "now" of the request, over
the rows the test wrote; where the cache hits, the test also checks (with the oracle) that the
answers at the two "now"s are the same, and where it must miss, that they differ.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

import segwise
from segwise.cache import Lookup
from segwise.dispatch import cache_state
from segwise.execute import answer
from segwise.moving import moved_literals, probes, template
from tests.backends import BACKENDS
from tests.conftest import assert_same
from tests.oracle import oracle
from tests.oracle_funnel import funnel_oracle
from tests.oracle_retention import retention_oracle
from tests.test_funnel import assert_funnel
from tests.test_result_cache import APPEND, events

QUERY: dict[str, Any] = {
    "series": [{"event": "view", "measure": "unique_users"}, {"event": "any", "measure": "events"}],
    "date_range": {"last": "3d"},
    "time_grain": "day",
}
# A funnel reads events up to the range's end + window, at most "now" (conversions after the range
# count): with `last:` its range ends at "now", so every literal that moves bounds the event time.
FUNNEL: dict[str, Any] = {
    "funnel": {"steps": [{"event": "view"}, {"event": "click"}], "window": "3d"},
    "date_range": {"last": "3d"},
    "time_grain": "day",
}
# Recurring retention: start and return events are bounded by the range and "now" row by row.
RETENTION: dict[str, Any] = {
    "retention": {"start": {"event": "view"}, "return": {"event": "click"}, "start_mode": "recurring", "periods": 3},
    "date_range": {"last": "3d"},
    "time_grain": "day",
}
# First-time retention: a unit's cohort is its first start event ever (MIN over its events, which
# is one of its events: decided by that event's comparison with the range).
FIRST_TIME: dict[str, Any] = {**RETENTION, "retention": {**RETENTION["retention"], "start_mode": "first_time"}}
QUERIES = {"segmentation": QUERY, "funnel": FUNNEL, "retention": RETENTION, "first_time_retention": FIRST_TIME}
NOW = datetime(2025, 1, 6, 12, 0, 0)  # events() writes events at hh:30 only
LATER = NOW + timedelta(seconds=10)


def row(user: str, at: datetime, name: str = "view") -> pa.Table:
    return pa.table(
        {
            "user_id": pa.array([user], pa.string()),
            "event_time": pa.array([at], pa.timestamp("us")),
            "event_name": pa.array([name], pa.string()),
        }
    )


def expected(table: pa.Table, now: datetime, query: dict[str, Any] = QUERY) -> list[dict[str, Any]]:
    reference = funnel_oracle if "funnel" in query else retention_oracle if "retention" in query else oracle
    return reference(query, table.to_pylist(), None, now=now)


def check(result: pa.Table, table: pa.Table, now: datetime, query: dict[str, Any]) -> None:
    want = expected(table, now, query)
    if "funnel" in query:
        assert any(r["step"] == 2 and r["count"] for r in want), "nobody converts: a case that checks little"
        assert_funnel(result, want, query)
    elif "retention" in query:
        assert any(r["period"] > 0 and r["count"] for r in want), "nobody returns: a case that checks little"
        got = [{**r, "cohort": r["cohort"] and r["cohort"].replace(tzinfo=None)} for r in result.to_pylist()]
        assert [{**r, "rate": None} for r in got] == [{**r, "rate": None} for r in want]
        for g, w in zip(got, want, strict=True):
            assert g["rate"] == w["rate"] or g["rate"] == pytest.approx(w["rate"], rel=1e-12)
    else:
        assert_same(result, want, query, "UTC")


def ask(project: segwise.Project, now: datetime, query: dict[str, Any] = QUERY) -> tuple[pa.Table, str]:
    lookup = Lookup()
    result = answer(query, project, now=now.isoformat(), cache=True, lookup=lookup)
    return result, lookup.status


def explained(project: segwise.Project, now: datetime, query: dict[str, Any] = QUERY) -> str:
    """What explain says the cache would do at ``now``; checks that saying it counts nothing."""
    before = project.result_cache().stats()
    state = cache_state(project, segwise.compile_query(project, query, now=now), True)
    assert {k: v for k, v in state.items() if k != "status"} == before
    return str(state["status"])


def _project(engine: str, table: pa.Table, tmp_path: Path, dataset: str) -> tuple[segwise.Project, str]:
    url = BACKENDS[engine].load({"events": table}, tmp_path, dataset)
    return segwise.Project(warehouse=url, event_tables=[{"table": "events", "event_name": "event_name"}]), url


# -- the proof, on trees ----------------------------------------------------------------------------


def _tree(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, dialect="duckdb")


def test_moved_literals_only_where_only_literals_differ() -> None:
    old = _tree("SELECT count(*) FROM events AS e WHERE e.t >= '2025-01-01 10:00:00' AND e.n = 'a'")
    new = _tree("SELECT count(*) FROM events AS e WHERE e.t >= '2025-01-01 10:00:05' AND e.n = 'a'")
    moved = moved_literals(old, new)
    assert moved is not None and [(a.this, b.this) for a, b in moved] == [
        ("2025-01-01 10:00:00", "2025-01-01 10:00:05")
    ]
    assert moved_literals(old, old.copy()) == []
    other = _tree("SELECT count(*) FROM events AS e WHERE e.t > '2025-01-01 10:00:05' AND e.n = 'a'")
    assert moved_literals(old, other) is None  # another comparison: not the same statement
    assert template(old.sql()) == template(new.sql()) != template(other.sql())


@pytest.mark.parametrize(
    ("sql", "provable"),
    [
        ("SELECT count(*) FROM events AS e WHERE e.t >= CAST('{t}' AS TIMESTAMP)", True),
        # a pass-through column of a derived table (first occurrence) is the stored table's
        (
            "SELECT count(*) FROM (SELECT e.*, rank() OVER (ORDER BY e.t) AS r FROM events AS e) AS e "
            "WHERE e.t < '{t}'",
            True,
        ),
        ("WITH c AS (SELECT e.t AS t FROM events AS e) SELECT count(*) FROM c WHERE c.t < '{t}'", True),
        # a column computed from one row of the stored table (a funnel's EPOCH_US(e.t)), passed on
        (
            "WITH c AS (SELECT CAST(e.t AS TIMESTAMP) + INTERVAL 0 SECOND AS t FROM events AS e), "
            "d AS (SELECT c.t AS s FROM c) SELECT count(*) FROM d WHERE d.s < '{t}'",
            True,
        ),
        # MIN / MAX (also over a window) are one row's value: a first-time retention's first event
        ("WITH c AS (SELECT min(e.t) AS t FROM events AS e) SELECT count(*) FROM c WHERE c.t < '{t}'", True),
        (
            "WITH c AS (SELECT max(e.t) OVER (PARTITION BY e.u) AS t FROM events AS e) "
            "SELECT count(*) FROM c GROUP BY c.t HAVING min(c.t) < '{t}'",
            True,
        ),
        # a UNION ALL whose branches compute the column alike from one stored table (a first-time
        # retention's two disjoint scans): the probe covers every branch; computed otherwise: nothing
        (
            "WITH c AS (SELECT x.t AS t FROM (SELECT e.t AS t, 0 AS r FROM events AS e WHERE e.u IS NULL "
            "UNION ALL SELECT e.t, 1 FROM events AS e WHERE NOT e.u IS NULL) AS x) "
            "SELECT count(*) FROM c GROUP BY c.t HAVING min(c.t) < '{t}'",
            True,
        ),
        (
            "SELECT count(*) FROM (SELECT e.t AS t FROM events AS e UNION ALL SELECT e.u FROM events AS e) AS x "
            "WHERE x.t < '{t}'",
            False,
        ),
        # computed from another aggregate or from two tables; an outer join's padded side (a function
        # of its NULL need not be NULL); arithmetic on the literal; a column named like a star's: nothing
        ("WITH c AS (SELECT avg(e.t) AS t FROM events AS e) SELECT count(*) FROM c WHERE c.t < '{t}'", False),
        (
            "WITH c AS (SELECT min(e.t) + max(e.u) AS t FROM events AS e) SELECT count(*) FROM c WHERE c.t < '{t}'",
            False,
        ),
        (
            "WITH c AS (SELECT coalesce(e.t, x.t) AS t FROM events AS e JOIN events AS x ON e.u = x.u) "
            "SELECT count(*) FROM c WHERE c.t < '{t}'",
            False,
        ),
        (
            "SELECT count(*) FROM events AS e LEFT JOIN events AS x ON x.t = e.u "
            "WHERE coalesce(x.t, CAST('2025-01-01 10:00:03' AS TIMESTAMP)) < '{t}'",
            False,
        ),
        ("SELECT count(*) FROM events AS e WHERE e.t < CAST('{t}' AS TIMESTAMP) + INTERVAL 1 DAY", False),
        ("SELECT count(*) FROM (SELECT e.*, e.u AS t FROM events AS e) AS e WHERE e.t < '{t}'", False),
        ("SELECT count(*) FROM events AS e WHERE e.t < '{t}' AND e.t < current_timestamp", False),
    ],
)
def test_probes_only_for_bounds_on_stored_columns(sql: str, provable: bool) -> None:
    old, new = _tree(sql.format(t="2025-01-01 10:00:00")), _tree(sql.format(t="2025-01-01 10:00:05"))
    moved = moved_literals(old, new)
    assert moved and len(moved) == 1
    found = probes(new, moved)
    assert (found is not None) == provable
    if found is not None:  # it runs, on the stored table's own columns, and finds exactly the rows between
        assert len(found) == 1 and found[0].find(exp.Table).name == "events"
        con = duckdb.connect()
        con.execute("CREATE TABLE events (t TIMESTAMP, u TIMESTAMP)")
        con.execute(
            "INSERT INTO events VALUES ('2025-01-01 09:00:00', NULL), ('2025-01-01 10:00:07', NULL), (NULL, NULL)"
        )
        probe = found[0].sql(dialect="duckdb")
        assert con.sql(probe).fetchall() == []
        con.execute("INSERT INTO events VALUES ('2025-01-01 10:00:02', NULL)")
        assert con.sql(probe).fetchall() == [(1,)]


# -- on every engine with a data version ------------------------------------------------------------


@pytest.mark.parametrize("kind", list(QUERIES))
@pytest.mark.parametrize("engine", sorted(APPEND))
def test_a_moment_later_hits_and_an_append_misses(engine: str, kind: str, tmp_path: Path) -> None:
    query = QUERIES[kind]
    before = events(0, 12)
    project, url = _project(engine, before, tmp_path, "moving_append")
    try:
        first, status = ask(project, NOW, query)
        assert status == "miss"
        check(first, before, NOW, query)
        assert expected(before, NOW, query) == expected(before, LATER, query)  # truly the same answer

        assert explained(project, LATER, query) == "hit"  # explain says what run does (the proof, not the key)
        again, status = ask(project, LATER, query)  # (a) a moment later: proven the same, not sent again
        assert status == "hit" and project.result_cache().moved_hits == 1
        check(again, before, LATER, query)

        new = row("u900", NOW - timedelta(days=1))  # (b) an appended event inside the range
        APPEND[engine](project, url, new, tmp_path, "moving_append")
        after = pa.concat_tables([before, new])
        later = LATER + timedelta(seconds=10)
        assert expected(after, later, query) != expected(before, later, query)
        assert explained(project, later, query) == "miss"
        fresh, status = ask(project, later, query)
        assert status == "miss"
        check(fresh, after, later, query)
    finally:
        project.close()


@pytest.mark.parametrize("kind", list(QUERIES))
@pytest.mark.parametrize("engine", sorted(APPEND))
@pytest.mark.parametrize(
    ("at", "name"),
    [
        (NOW + timedelta(seconds=5), "view"),
        (NOW - timedelta(days=3) + timedelta(seconds=5), "view"),
        (NOW + timedelta(seconds=5), "click"),
    ],
    ids=["dated-between-the-nows", "at-the-old-start", "a-conversion-between-the-nows"],
)
def test_a_row_between_the_old_and_new_bounds_misses(
    engine: str, kind: str, at: datetime, name: str, tmp_path: Path
) -> None:
    """(c) A row already in the table that one "now" counts and the other does not: a row dated
    between the two "now"s (in the future at the first), or one the range's start moves past; for
    a funnel also a conversion between the two "now"s (events after the range's end count, up to
    "now")."""
    query = QUERIES[kind]
    if name == "click" and kind == "segmentation":
        pytest.skip("a conversion or a return is a funnel's or a retention's")
    extra = (
        row("u901", at, name)
        if name == "view"
        else pa.concat_tables([row("u950", at - timedelta(days=1)), row("u950", at, name)])
    )
    table = pa.concat_tables([events(0, 12), extra])
    project, _ = _project(engine, table, tmp_path, "moving_between")
    try:
        assert expected(table, NOW, query) != expected(table, LATER, query)  # the row changes the answer
        first, status = ask(project, NOW, query)
        assert status == "miss"
        check(first, table, NOW, query)
        assert explained(project, LATER, query) == "miss"  # a probe finds the row
        second, status = ask(project, LATER, query)
        assert status == "miss" and project.result_cache().moved_hits == 0
        check(second, table, LATER, query)
    finally:
        project.close()
