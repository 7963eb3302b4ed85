"""The plan is the single source of truth for what lowering and shaping used to derive from the
query again: the time key (``plan_time.Bucketing`` on ``GroupBy.time``: grain, zone, week start
and the bucket expression), a retention's numbered buckets in shaping and in the SQL to paste
(``ReturnPeriods.frame``) and how errors at lowering name a series (``SeriesNode.location``); the
columns a rollup scan reads (``Scan.rollup_read``, rule ``rollups``) are tested beside the built
rollups, tests/test_rollups.py. A plan changed
by hand changes the SQL or the answer, whatever the query says.

Planning is the same on every engine (the flavor only renders), so these run on DuckDB. Expected
values come from the contract (docs/queries.md: buckets of local time, weeks from the project's
week start, retention periods reported only once they started), computed here with the standard
library, never with the planner's helpers; what the answers mean is checked by the oracle suites
on every engine (tests/test_segmentation*.py, tests/test_retention*.py, tests/test_rollups.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlglot import exp

import segwise
from segwise.adapters.duckdb import DuckDBFlavor
from segwise.dispatch import execute_compiled
from segwise.errors import SpecError
from segwise.lower import lower
from segwise.pipeline import _inputs, _optimized, compile_query
from segwise.plan_retention import ReturnPeriods
from segwise.plan_time import Bucketing, bucketing
from segwise.present_retention import paste_retention
from segwise.shape_retention import shape_retention
from tests.test_plan_series import _query, project

__all__ = ["project"]  # test_plan_series' project: UTC, weeks from Monday, one refund on 2025-01-07 12:00 UTC

REFUND = datetime(2025, 1, 7, 12, 0, tzinfo=UTC)


def _compiled_with(project, query: dict, edit):  # type: ignore[no-untyped-def, type-arg]
    """The compiled query, and the same with its optimized plan changed by ``edit`` and lowered again."""
    compiled = compile_query(project, query)
    inputs = _inputs(query, project, None, None, True, "auto", (), "auto")
    bound, plan = _optimized(inputs, project)
    edit(plan)
    statement = lower(bound, plan, inputs.flavor)
    return compiled, replace(compiled, sql=inputs.flavor.render(statement), expression=statement, plan=plan)


def _buckets(project, compiled) -> list:  # type: ignore[no-untyped-def, type-arg]
    raw = execute_compiled(project, compiled, cache=False)
    return (
        sorted(b.replace(tzinfo=None) for b in raw.column("bucket").to_pylist()) if "bucket" in raw.schema.names else []
    )


FLAVOR = DuckDBFlavor()  # the project's warehouse: the plan's expressions are built in its flavor


def _time(plan, grain: str, zone: str = "UTC", week_start: int = 0) -> None:  # type: ignore[no-untyped-def]
    plan.group_by = replace(plan.group_by, time=bucketing(FLAVOR, grain, zone, week_start))


def test_the_plan_carries_its_time_key(project) -> None:  # type: ignore[no-untyped-def]
    plan = segwise.plan(_query({"event": "refund"}), project)
    time = plan.group_by.time if plan.group_by is not None else None
    assert isinstance(time, Bucketing)
    assert (time.grain, time.timezone, time.week_start, time.total) == ("week", "UTC", 0, False)
    text = "\n".join(plan.describe())
    assert "Bucket         week of the local time in UTC, weeks start on monday" in text
    assert time.sql is not None and "__segwise_local" in time.sql and "WEEK" in time.sql.upper()
    assert plan.to_json()["bucket"]["grain"] == "week"
    total = segwise.plan(_query({"event": "refund"}, time_grain="total"), project)
    assert total.group_by is not None and total.group_by.time is not None and total.group_by.time.total


@pytest.mark.parametrize(
    ("grain", "zone", "week_start"),
    [("day", "UTC", 0), ("week", "UTC", 6), ("hour", "Pacific/Kiritimati", 0), ("hour", "Asia/Kolkata", 0)],
)
def test_lowering_buckets_as_the_plan_says(project, grain: str, zone: str, week_start: int) -> None:  # type: ignore[no-untyped-def]
    """The query asks for weekly buckets in UTC (weeks from Monday); the plan's time key changed by
    hand: the one refund lands in the bucket the plan's grain, zone and week start give. (The zone
    is read with hour buckets: in this UTC project the day partition column stands in for the
    event time of day and coarser buckets, rule ``partitions``.)"""
    query = _query({"event": "refund"})
    compiled, edited = _compiled_with(project, query, lambda plan: _time(plan, grain, zone, week_start))
    assert _buckets(project, compiled) == [datetime(2025, 1, 6)]  # Monday of the refund's week
    local = REFUND.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    if grain == "hour":
        expected = local.replace(minute=0, second=0, microsecond=0)
    else:
        expected = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if grain == "week":  # back to the week's first day (0 Monday .. 6 Sunday)
            expected -= timedelta(days=(expected.weekday() - week_start) % 7)
    assert expected != datetime(2025, 1, 6)  # each case moves the bucket
    assert _buckets(project, edited) == [expected]


def test_a_total_has_no_bucket_when_the_plan_says_so(project) -> None:  # type: ignore[no-untyped-def]
    compiled, edited = _compiled_with(project, _query({"event": "refund"}), lambda plan: _time(plan, "total"))
    assert "AS bucket" in compiled.sql and "AS bucket" not in edited.sql
    raw = execute_compiled(project, edited, cache=False)
    assert "bucket" not in raw.schema.names and raw.column("value").to_pylist() == [1]


RETENTION = {"retention": {"start": "login", "return": "purchase", "periods": 2, "start_mode": "recurring"}}


def test_retention_shapes_and_pastes_from_the_plans_frame(project) -> None:  # type: ignore[no-untyped-def]
    """Three weekly cohorts (every login week), two periods, the range long past: every cohort reports periods 0..2
    (9 cells, 3 summary rows). The plan's frame cut by hand to the three cohort weeks (as if now
    were the end of the range): cohort c reports min(3, 3 - c) periods (6 cells, 3 summary rows),
    in the shaped answer and in the SQL to paste, whatever the query says."""
    query = {**_query({"event": "login"}), **RETENTION}
    query.pop("series")
    compiled = compile_query(project, query)
    assert compiled.plan is not None and compiled.plan.analysis is not None
    raw = execute_compiled(project, compiled, cache=False)
    full = shape_retention(raw, compiled).to_pylist()
    assert len([r for r in full if r["cohort"] is not None]) == 9 and len(full) == 12
    assert any(r["count"] for r in full if r["period"] > 0)  # non-trivial: some returns

    cut = compiled.plan.copy()
    assert cut.analysis is not None
    at = next(i for i, op in enumerate(cut.analysis.operators) if isinstance(op, ReturnPeriods))
    periods = cut.analysis.operators[at]
    cut.analysis.operators[at] = replace(periods, frame=replace(periods.frame, buckets=periods.frame.buckets[:3]))
    shaped = shape_retention(raw, replace(compiled, plan=cut)).to_pylist()
    cells = [(r["cohort"].replace(tzinfo=None), r["period"]) for r in shaped if r["cohort"] is not None]
    weeks = [datetime(2025, 1, 6) + timedelta(weeks=c) for c in range(3)]
    assert cells == [(weeks[c], k) for c in range(3) for k in range(min(3, 3 - c))]
    assert len(shaped) - len(cells) == 3  # summary rows: periods 0..2
    kept = {(r["cohort"], r["period"]): r["count"] for r in full}
    assert all(kept[(r["cohort"], r["period"])] == r["count"] for r in shaped if r["cohort"] is not None)

    def grid(statement: exp.Expr) -> int:
        cte = next(c for c in statement.find_all(exp.CTE) if c.alias == "_p_grid")
        return len(list(cte.this.find_all(exp.Tuple)))

    assert grid(paste_retention(compiled, FLAVOR)) == 9
    assert grid(paste_retention(replace(compiled, plan=cut), FLAVOR)) == 6


def test_lowering_names_a_series_by_the_plans_location(project) -> None:  # type: ignore[no-untyped-def]
    """A measured property the table lacks (set by hand on the plan's Aggregate) is refused at
    lowering, named by the node's location: the bound query's, or the plan's when changed."""
    from segwise.plan import Aggregate

    query = _query({"event": "purchase", "measure": "sum:amount"})
    inputs = _inputs(query, project, None, None, True, "auto", (), "never")
    bound, plan = _optimized(inputs, project)
    assert plan.nodes[0].location == "series[0] (label A)"
    ops = plan.nodes[0].operators
    at = next(i for i, op in enumerate(ops) if isinstance(op, Aggregate))
    ops[at] = replace(ops[at], prop=replace(ops[at].prop, name="nope", column="nope"))
    with pytest.raises(SpecError) as error:
        lower(bound, plan, inputs.flavor)
    assert error.value.where == "series[0] (label A) > measure"
    plan.nodes[0].location = "series[7] (label Z)"
    with pytest.raises(SpecError) as moved:
        lower(bound, plan, inputs.flavor)
    assert moved.value.where == "series[7] (label Z) > measure"
