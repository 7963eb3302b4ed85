"""The plan is the single source of truth for what a scan reads: its events and its time range
are typed predicates with sqlglot expressions (``plan_parts``), a rolling count carries its date
``Spine``, rule ``sharing`` a typed ``SharedScan``; lowering places them as they are.

Planning is the same on every engine (the flavor only renders), so these run on DuckDB. The
expected instants are computed here from the contract (docs/queries.md: ranges are local days of
the project's time zone; an N-day rolling count reads N-1 days before the range; a first
occurrence ever reads the history up to the range's end, a last occurrence ever everything from
its start), never from the planner's own helpers; what the results mean is checked by the oracle
suites on every engine (tests/test_segmentation*.py, tests/test_oracle_rolling.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

import segwise
from segwise.lower import lower
from segwise.pipeline import _inputs, _optimized, compile_query
from segwise.plan_parts import SharedScan, Spine, TimeRange, time_range

BERLIN = ZoneInfo("Europe/Berlin")
RANGE = {"from": "2025-01-06", "to": "2025-01-27"}  # half-open: Monday 6 to Sunday 26 January, local days


def utc(local: datetime) -> datetime:
    """A naive Berlin wall time as a naive UTC instant (independent of segwise.timeframe)."""
    return local.replace(tzinfo=BERLIN).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


START, END = utc(datetime(2025, 1, 6)), utc(datetime(2025, 1, 27))  # [Jan 6, Jan 27) local


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path: Path = tmp_path_factory.mktemp("plan_parts") / "events.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE events AS SELECT 'u' || (i % 7) AS user_id, "
        "TIMESTAMP '2024-12-20' + i * INTERVAL 3 HOUR AS event_time, "
        "CAST(TIMESTAMP '2024-12-20' + i * INTERVAL 3 HOUR AS DATE) AS event_date, "
        "['login', 'purchase', 'page_view'][1 + i % 3] AS event_name, "
        "['ios', 'web'][1 + i % 2] AS platform FROM range(400) t(i)"
    )
    con.execute(
        "CREATE TABLE users AS SELECT 'u' || i AS user_id, ['de', 'fr'][1 + i % 2] AS country FROM range(7) t(i)"
    )
    con.close()
    loaded = segwise.Project(
        warehouse=f"duckdb:///{path}",
        timezone="Europe/Berlin",
        event_tables=[
            {"table": "events", "event_name": "event_name", "partition": {"column": "event_date", "format": "date"}}
        ],
        user_tables=[{"table": "users"}],
    )
    yield loaded
    loaded.close()


def _query(*series: dict, **extra) -> dict:  # type: ignore[type-arg]
    return {"series": list(series), "date_range": RANGE, "time_grain": "week", **extra}


def test_each_scan_carries_the_range_it_reads(project) -> None:  # type: ignore[no-untyped-def]
    query = _query(
        {"event": "login", "measure": "wau"},
        {"event": "purchase", "occurrence": "first", "occurrence_scope": "ever"},
        {"event": "purchase", "occurrence": "last", "occurrence_scope": "ever"},
        {"event": {"any_of": [{"event": "login"}, {"event": "purchase"}]}},
    )
    plan = segwise.plan(query, project, share_scans="never")
    times = [node.scan.time for node in plan.nodes]
    assert all(isinstance(t, TimeRange) for t in times)
    # wau: 6 local days before Jan 6 (Dec 31, 00:00 Berlin = Dec 30, 23:00 UTC) up to the range's end
    look_back = utc(datetime(2025, 1, 6) - timedelta(days=6))
    assert look_back == datetime(2024, 12, 30, 23)
    assert [(t.start, t.end) for t in times if t is not None] == [
        (look_back, END),
        (None, END),  # first ever: the whole history up to the end
        (START, None),  # last ever: everything from the start
        (START, END),
    ]
    # partition pruning reads the same bounds (explain showed other ones for "last ever" before)
    bounds = [node.scan.partition.bounds[0] for node in plan.nodes if node.scan.partition is not None]
    assert [(b.low, b.high) for b in bounds] == [(t.start, t.end) for t in times if t is not None]
    events = [node.scan.events for node in plan.nodes]
    assert [e.names for e in events if e is not None] == [
        ("login",),
        ("purchase",),
        ("purchase",),
        ("login", "purchase"),
    ]
    assert events[3] is not None and events[3].sql == "\"event_name\" IN ('login', 'purchase')"


def test_lowering_places_the_plans_predicates(project) -> None:  # type: ignore[no-untyped-def]
    """Change the plan's time range and events: the SQL follows the plan, not the query."""
    query = _query({"event": "login", "measure": "events"})
    inputs = _inputs(query, project, None, None, True, "auto", (), "auto")
    bound, plan = _optimized(inputs, project)
    before = inputs.flavor.render(lower(bound, plan, inputs.flavor))
    assert "2025-01-05 23:00:00" in before and "2025-01-26 23:00:00" in before  # the range, in UTC
    scan = plan.nodes[0].scan
    moved_start, moved_end = datetime(2025, 1, 7, 5, 30), datetime(2025, 1, 20, 17, 15)
    scan.time = time_range(inputs.flavor, scan.tables, moved_start, moved_end)
    after = inputs.flavor.render(lower(bound, plan, inputs.flavor))
    assert "2025-01-07 05:30:00" in after and "2025-01-20 17:15:00" in after
    assert "2025-01-05 23:00:00" not in after and "2025-01-26 23:00:00" not in after
    assert "\"event_date\" >= CAST('2025-01-07' AS DATE)" in after  # the partition predicate follows it


def test_rolling_counts_carry_their_spine(project) -> None:  # type: ignore[no-untyped-def]
    plan = segwise.plan(_query({"event": "login", "measure": "wau"}), project)
    spines = [op for op in plan.nodes[0].operators if isinstance(op, Spine)]
    assert len(spines) == 1
    # weeks from Monday Jan 6; each bucket's window ends on its last day (the range ends on Sunday 26)
    assert spines[0].rows == (
        (datetime(2025, 1, 6), datetime(2025, 1, 12)),
        (datetime(2025, 1, 13), datetime(2025, 1, 19)),
        (datetime(2025, 1, 20), datetime(2025, 1, 26)),
    )
    text = "\n".join(plan.describe())
    assert "Spine          3 week buckets 2025-01-06 .. 2025-01-20" in text
    assert "time in [2024-12-30 23:00:00, 2025-01-26 23:00:00) UTC (range + 6 days look-back)" in text


def test_a_shared_scan_is_typed_and_reads_the_hull(project) -> None:  # type: ignore[no-untyped-def]
    query = _query({"event": "login"}, {"event": "purchase", "measure": "unique_users"}, compare="previous_period")
    plan = segwise.plan(query, project, share_scans="always")
    assert len(plan.shared) == 1 and isinstance(plan.shared[0], SharedScan)
    shared = plan.shared[0]
    assert len(shared.positions) == 4 and not shared.identical  # two series and their previous periods
    previous_start = utc(datetime(2025, 1, 6) - timedelta(days=21))  # the 21 days before the range
    assert (shared.time.start, shared.time.end) == (previous_start, END)
    assert shared.events.names == ("login", "purchase")
    assert "IN ('login', 'purchase')" in compile_query(project, query, share_scans="always").sql
    data = plan.to_json()["shared_scans"][0]
    assert data["time"]["sql"] == shared.time.sql and data["how"] == "conditional aggregates"
