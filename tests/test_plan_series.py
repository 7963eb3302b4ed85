"""The plan is the single source of truth on the segmentation path too: the breakdown's typed
group-by keys and the segment restriction (``GroupBy``), the shape a pre-aggregation reduces to
(``PreAggregate.shape``), the series sharing materialized rows under top-N (``SameRows``, rule
``materialize``), the scan's partition predicate (``PartitionPruning.predicate``), the statement's
``Union`` and shaping's ``Fill`` (``plan_series``). Explain prints them; lowering and shaping read
them: a plan changed by hand changes the SQL or the answer, whatever the query says.

Planning is the same on every engine (the flavor only renders), so these run on DuckDB. Expected
values come from the contract (docs/queries.md: half-open ranges of local days, weeks from
Monday, counts filled with 0 and other measures with null), never from the planner's helpers;
what the answers mean is checked by the oracle suites on every engine (tests/test_segmentation*.py,
tests/test_cohorts.py, tests/test_planner.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

import segwise
from segwise.dispatch import execute_compiled
from segwise.execute import shape_result
from segwise.lower import lower
from segwise.pipeline import _inputs, _optimized, compile_query
from segwise.plan_series import Fill, GroupKey, SameRows, Union

RANGE = {"from": "2025-01-06", "to": "2025-01-27"}  # Monday Jan 6 to Sunday Jan 26, UTC days
WEEKS = (datetime(2025, 1, 6), datetime(2025, 1, 13), datetime(2025, 1, 20))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path: Path = tmp_path_factory.mktemp("plan_series") / "events.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE events AS SELECT 'u' || (i % 7) AS user_id, "
        "TIMESTAMP '2024-12-20' + i * INTERVAL 3 HOUR AS event_time, "
        "CAST(TIMESTAMP '2024-12-20' + i * INTERVAL 3 HOUR AS DATE) AS event_date, "
        "['login', 'purchase', 'page_view'][1 + i % 3] AS event_name, "
        "['ios', 'web'][1 + i % 2] AS platform, ['a', 'b', 'c', 'd'][1 + i % 4] AS campaign, "
        "CAST(i % 5 AS DOUBLE) AS amount FROM range(400) t(i) "
        "UNION ALL SELECT 'u1', TIMESTAMP '2025-01-07 12:00', DATE '2025-01-07', 'refund', 'ios', 'a', 1.0"
    )
    con.execute(
        "CREATE TABLE users AS SELECT 'u' || i AS user_id, ['de', 'fr'][1 + i % 2] AS country FROM range(7) t(i)"
    )
    con.close()
    loaded = segwise.Project(
        warehouse=f"duckdb:///{path}",
        event_tables=[
            {"table": "events", "event_name": "event_name", "partition": {"column": "event_date", "format": "date"}}
        ],
        user_tables=[{"table": "users"}],
        categories={
            "buying": {"of": [{"label": "buyer", "segment": {"did": {"event": "purchase"}}}], "else": "browser"}
        },
    )
    yield loaded
    loaded.close()


def _query(*series: dict, **extra) -> dict:  # type: ignore[type-arg]
    return {"series": list(series), "date_range": RANGE, "time_grain": "week", **extra}


def _sql(project, query: dict, edit, **options) -> tuple[str, str]:  # type: ignore[no-untyped-def, type-arg]
    """The SQL of ``query`` as planned, and after ``edit(plan)`` changed the optimized plan."""
    inputs = _inputs(query, project, None, None, True, options.get("share", "auto"), (), options.get("pre", "auto"))
    bound, plan = _optimized(inputs, project)
    before = inputs.flavor.render(lower(bound, plan, inputs.flavor))
    edit(plan)
    return before, inputs.flavor.render(lower(bound, plan, inputs.flavor))


def test_the_breakdown_is_typed_keys_and_the_segment_a_typed_restriction(project) -> None:  # type: ignore[no-untyped-def]
    segment = {"did": {"event": "purchase"}}
    split = segwise.plan(
        _query({"event": "login"}, breakdown=["event", "platform", "country", "buying", "segment"], segment=segment),
        project,
    )
    groups = split.group_by
    assert groups is not None
    assert [(k.name, k.kind) for k in groups.keys] == [
        ("event", "event"),
        ("platform", "event_property"),
        ("country", "user_property"),
        ("buying", "category"),
        ("segment", "segment"),
    ]
    assert groups.keys[1].prop is not None and groups.keys[1].prop.column == "platform"
    assert groups.keys[2].prop is not None and groups.keys[2].prop.user_table == 0
    assert groups.keys[3].category is not None and groups.keys[3].category.labels == ("buyer", "browser")
    assert groups.segment is not None and groups.segment.split  # the segment key splits: no restriction
    restricted = segwise.plan(_query({"event": "login"}, breakdown=["platform"], segment=segment), project)
    assert restricted.group_by is not None and restricted.group_by.segment is not None
    assert not restricted.group_by.segment.split
    text = "\n".join(restricted.describe())
    assert "GroupBy        platform: event column 'platform'" in text
    assert "Segment        rows restricted to units in the segment (semi-join" in text
    data = restricted.to_json()
    assert data["group_by"] == [{"name": "platform", "kind": "event_property", "detail": str(groups.keys[1])}]


def test_lowering_groups_by_the_plans_keys(project) -> None:  # type: ignore[no-untyped-def]
    """The query breaks down by platform; the plan's key changed to campaign: the SQL groups by
    campaign, never by platform."""
    query = _query({"event": "login"}, breakdown=["platform"])

    def to_campaign(plan) -> None:  # type: ignore[no-untyped-def]
        key = plan.group_by.keys[0]
        moved = replace(key.prop, name="campaign", column="campaign")
        plan.group_by = replace(plan.group_by, keys=(GroupKey(0, "campaign", "event_property", prop=moved),))

    before, after = _sql(project, query, to_campaign)
    assert '"platform"' in before and '"campaign"' not in before
    assert '"campaign"' in after and '"platform"' not in after


def test_shaping_fills_the_plans_buckets(project) -> None:  # type: ignore[no-untyped-def]
    """A refund happens once, on Jan 7: weekly, the contract fills the two other weeks with 0 (a
    count) and leaves a sum's empty weeks null. Shaping covers the plan's buckets: a plan whose
    fill says one more week gets one more row."""
    query = _query({"event": "refund"}, {"event": "refund", "measure": "sum:amount"})
    plan = segwise.plan(query, project)
    assert plan.fill == Fill("week", WEEKS, (True, False))
    assert "Post-process   empty buckets filled: 3 week buckets 2025-01-06 00:00 .. 2025-01-20 00:00" in "\n".join(
        plan.describe()
    )
    compiled = compile_query(project, query)
    raw = execute_compiled(project, compiled, cache=False)
    answer = shape_result(raw, compiled).to_pylist()
    assert [(r["series"], r["bucket"].replace(tzinfo=None), r["value"]) for r in answer] == [
        ("A", WEEKS[0], 1),
        ("A", WEEKS[1], 0),
        ("A", WEEKS[2], 0),
        ("B", WEEKS[0], 1.0),
        ("B", WEEKS[1], None),
        ("B", WEEKS[2], None),
    ]
    assert compiled.plan is not None
    longer = compiled.plan.copy()
    longer.fill = Fill("week", (*WEEKS, datetime(2025, 1, 27)), (True, False))
    extended = shape_result(raw, replace(compiled, plan=longer)).to_pylist()
    assert [(r["series"], r["value"]) for r in extended if r["bucket"].replace(tzinfo=None) == datetime(2025, 1, 27)]
    assert len(extended) == 8


def test_the_union_of_series_is_an_operator_lowering_renders(project) -> None:  # type: ignore[no-untyped-def]
    query = _query({"event": "login"}, {"event": "purchase"}, {"event": "purchase", "measure": "unique_users"})
    separate = segwise.plan(query, project, share_scans="never")
    assert separate.union == Union(((0,), (1,), (2,)))
    assert "Union          UNION ALL of 3 branches: A, B, C" in "\n".join(separate.describe())
    shared = segwise.plan(query, project, share_scans="always")
    assert shared.union == Union(((0, 1, 2),))  # one branch: the shared scan serves all three

    def reverse(plan) -> None:  # type: ignore[no-untyped-def]
        plan.union = Union(tuple(reversed(plan.union.branches)))

    before, after = _sql(project, query, reverse, share="never")
    firsts = [sql.index(f"'{label}' AS series") for label in "ABC" for sql in (before,)]
    assert firsts == sorted(firsts)  # A, B, C in the plan's order
    reversed_at = [after.index(f"'{label}' AS series") for label in "ABC"]
    assert reversed_at == sorted(reversed_at, reverse=True)  # C, B, A


def test_the_scan_carries_its_partition_predicate(project) -> None:  # type: ignore[no-untyped-def]
    """UTC [Jan 6, Jan 27): the day partitions Jan 6 ..= Jan 26, on the bare column."""
    query = _query({"event": "login"})
    plan = segwise.plan(query, project)
    pruning = plan.nodes[0].scan.partition
    assert pruning is not None and pruning.predicate is not None
    expected = "\"event_date\" >= CAST('2025-01-06' AS DATE) AND \"event_date\" <= CAST('2025-01-26' AS DATE)"
    assert pruning.predicate.sql == expected
    assert f"                 {expected}" in "\n".join(plan.describe())

    def other_days(plan) -> None:  # type: ignore[no-untyped-def]
        predicate = plan.nodes[0].scan.partition.predicate
        column = exp.column("event_date", quoted=True)
        moved = exp.GTE(this=column, expression=exp.cast(exp.Literal.string("2025-01-09"), exp.DataType.Type.DATE))
        plan.nodes[0].scan.partition = replace(
            plan.nodes[0].scan.partition, predicate=replace(predicate, tables=((predicate.tables[0][0], (moved,)),))
        )

    before, after = _sql(project, query, other_days)
    assert "'2025-01-06' AS DATE" in before and "'2025-01-09'" not in before
    assert "'2025-01-09' AS DATE" in after and "'2025-01-06' AS DATE" not in after


def test_a_pre_aggregation_carries_its_shape(project) -> None:  # type: ignore[no-untyped-def]
    """Reduced per (bucket, event dimensions, user) before the user join: the event name and the
    event properties its condition and breakdown read (not the user's country), and the events
    plus the partials of the measured property."""
    where = [{"property": "campaign", "op": "neq", "value": "d"}]
    query = _query({"event": "purchase", "measure": "sum:amount", "where": where}, breakdown=["platform", "country"])
    plan = segwise.plan(query, project, preaggregate="always")
    shapes = [op.shape for op in plan.nodes[0].operators if op.kind == "PreAggregate"]
    assert len(shapes) == 1 and shapes[0] is not None
    assert shapes[0].dimensions == {"event": "event_name", "campaign": "campaign", "platform": "platform"}
    assert shapes[0].spec.measures == ["events", "sum:amount", "count:amount", "min:amount", "max:amount"]
    assert "PreAggregate   per (bucket, event, campaign, platform, user), before the join" in "\n".join(plan.describe())

    def without_platform(plan) -> None:  # type: ignore[no-untyped-def]
        ops = plan.nodes[0].operators
        at = next(i for i, op in enumerate(ops) if op.kind == "PreAggregate")
        dims = {k: v for k, v in ops[at].shape.dimensions.items() if k != "platform"}
        ops[at] = replace(ops[at], shape=replace(ops[at].shape, dimensions=dims))

    before, after = _sql(project, query, without_platform, pre="always")
    reduced = '"e"."platform" AS platform'  # the reduction's own column (the outer query reads it)
    assert reduced in before and reduced not in after  # the reduction keeps what the plan says


def test_series_over_the_same_rows_share_one_materialized_cte(project) -> None:  # type: ignore[no-untyped-def]
    """Top-N, a sum and an average of the same purchases: rule materialize records that they read
    the same rows, so one CTE holds them with both measures' inputs; without the rule each series
    materializes its own, and the answers are the same."""
    query = _query(
        {"event": "purchase", "measure": "sum:amount"},
        {"event": "purchase", "measure": "avg:amount"},
        breakdown=["country"],
        breakdown_limit=1,
    )
    plan = segwise.plan(query, project, preaggregate="always")
    assert plan.same_rows == [SameRows((0, 1), ("sum", "count"))]
    assert "SameRows       A, B: one materialized CTE with sum, count" in "\n".join(plan.describe())
    with_rule = compile_query(project, query, preaggregate="always")
    without = compile_query(project, query, preaggregate="always", disabled_rules=("materialize",))
    assert "s0 AS (" in with_rule.sql and "s1 AS (" not in with_rule.sql
    assert "s0 AS (" in without.sql and "s1 AS (" in without.sql
    one = segwise.run(query, project, preaggregate="always")
    two = segwise.run(query, project, preaggregate="always", disabled_rules=("materialize",))
    assert one.num_rows >= 6 and one.column("value").null_count < one.num_rows  # non-trivial
    assert one.equals(two)


@pytest.mark.parametrize("measure", ["sum:amount", "user_avg:sum:amount"])
def test_the_aggregate_carries_the_measured_property(project, measure: str) -> None:  # type: ignore[no-untyped-def]
    """The plan's Aggregate carries the measured property resolved; changed by hand to another
    column, the SQL reads that column, whatever the query's measure says."""
    from segwise.plan import Aggregate

    query = _query({"event": "purchase", "measure": measure})

    def to_campaign(plan) -> None:  # type: ignore[no-untyped-def]
        ops = plan.nodes[0].operators
        i = next(i for i, op in enumerate(ops) if isinstance(op, Aggregate))
        assert ops[i].prop is not None and ops[i].prop.column == "amount"
        ops[i] = replace(ops[i], prop=replace(ops[i].prop, name="campaign", column="campaign"))

    before, after = _sql(project, query, to_campaign, pre="never")
    assert '"amount"' in before and '"campaign"' not in before
    assert '"campaign"' in after and '"amount"' not in after


LOWERED = {
    "conditions": _query({"event": "login", "where": [{"property": "amount", "op": "gt", "value": 1}]}),
    "combined event, breakdown": _query(
        {"event": {"any_of": [{"event": "login", "where": [{"property": "platform", "op": "eq", "value": "ios"}]}]}},
        breakdown=["campaign", "country"],
    ),
    "top-N, segment": _query(
        {"event": "login", "measure": "unique_users"},
        {"event": "page_view"},
        breakdown=["platform"],
        breakdown_limit=1,
        segment={"did": {"event": "purchase", "where": [{"property": "amount", "op": "gt", "value": 2}]}},
    ),
    "rolling, category": _query({"event": "page_view", "measure": "wau"}, breakdown=["buying"]),
}


@pytest.mark.parametrize("name", list(LOWERED))
def test_lowering_a_plan_looks_no_name_up_again(project, monkeypatch, name: str) -> None:  # type: ignore[no-untyped-def]
    """Bind checked every event and property name and the planner found each scan's tables:
    lowering a plan builds its row sources from the plan's tables and checks no name again (the
    catalog's look-ups fail here, and the SQL is the same); rows without a plan (calibration,
    rollup builds) still check theirs."""
    from segwise.catalog import Catalog
    from segwise.errors import CatalogError
    from segwise.lower.rows import RowSource
    from segwise.lower.scope import Scope
    from segwise.query import EventFilter

    inputs = _inputs(LOWERED[name], project, None, None, True, "auto", (), "auto")
    bound, plan = _optimized(inputs, project)
    expected = inputs.flavor.render(lower(bound, plan, inputs.flavor))

    def looked_up(*_args: object) -> None:
        raise AssertionError("lowering looked a name up in the catalog")

    with monkeypatch.context() as patched:
        for method in ("check_event", "tables_with_event", "resolve"):
            patched.setattr(Catalog, method, looked_up)
        assert inputs.flavor.render(lower(bound, plan, inputs.flavor)) == expected
    scope = Scope(bound.project, bound.catalog, inputs.flavor, bound.timeframe)
    with pytest.raises(CatalogError, match="unknown event 'nope'"):
        RowSource(scope, [EventFilter(event="nope")], [], None, "calibrate")
