"""The planner: the logical plan, each rewrite rule on its own, scan sharing on every engine
(answers equal the oracle either way), the cost model, and calibration on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import segwise
from segwise.calibrate import calibrate, fit
from segwise.cli import main
from segwise.cost import Coefficients, load_coefficients
from segwise.execute import compile_query

from .conftest import Dataset, _load, assert_same, generated_tables, partitioned_project

NOW = "2025-02-27T15:30:00"


def q(series: list[dict[str, Any]], **rest: Any) -> dict[str, Any]:
    return {"series": series, "date_range": {"from": "2025-01-06", "to": "2025-02-24"}, "time_grain": "week", **rest}


SHAREABLE = {
    "same filters, two measures": q(
        [{"event": "page_view", "measure": "unique_users"}, {"event": "page_view", "measure": "events"}],
        breakdown=["platform"],
    ),
    "different events and filters": q(
        [
            {"event": "page_view", "measure": "unique_users"},
            {"event": "payment", "measure": "sum:amount"},
            {"event": "payment", "measure": "avg:amount", "where": [{"property": "plan", "op": "is_not_null"}]},
            {"event": "signup", "measure": "events_per_user"},
        ]
    ),
    "a group only one series has": q(
        [{"event": "payment", "measure": "max:amount"}, {"event": "signup", "measure": "events"}],
        time_grain="total",
        breakdown=["platform"],
    ),
    "previous period": {
        "series": [{"event": "signup", "measure": "events"}, {"event": "page_view", "measure": "min:amount"}],
        "date_range": {"from": "2025-02-03", "to": "2025-02-17"},
        "time_grain": "day",
        "compare": "previous_period",
    },
    "a total, one series matching nothing": q(
        [
            {"event": "payment", "measure": "sum:amount"},
            {
                "event": "page_view",
                "measure": "events",
                "where": [{"property": "campaign", "op": "eq", "value": "none"}],
            },
            {"event": "signup", "measure": "min:amount", "where": [{"property": "plan", "op": "eq", "value": "none"}]},
        ],
        time_grain="total",
    ),
    "combined event and any, by event": q(
        [
            {
                "event": {
                    "any_of": [
                        {"event": "page_view", "where": [{"property": "platform", "op": "eq", "value": "ios"}]},
                        {"event": "payment"},
                    ]
                },
                "measure": "events",
            },
            {"event": "any", "measure": "unique_users"},
        ],
        breakdown=["event"],
    ),
}


REDUCIBLE = {
    "unique users by country": q([{"event": "page_view", "measure": "unique_users"}], breakdown=["country"]),
    "events by two user properties, total": q(
        [{"event": "page_view", "measure": "events"}], time_grain="total", breakdown=["subscription_type", "platform"]
    ),
    "sum and avg with a user-property filter": q(
        [
            {"event": "payment", "measure": "sum:amount"},
            {"event": "payment", "measure": "avg:amount", "where": [{"property": "country", "op": "is_not_null"}]},
        ],
        time_grain="month",
        breakdown=["country"],
    ),
    "wau by country": {
        "series": [{"event": "any", "measure": "wau"}],
        "date_range": {"from": "2025-02-01", "to": "2025-02-20"},
        "time_grain": "day",
        "breakdown": ["country"],
    },
    "per-user average, top 3": q(
        [{"event": "page_view", "measure": "user_avg:events"}], breakdown=["country"], breakdown_limit=3
    ),
    "unique users by country, top 3 (a user is in one group)": q(
        [{"event": "any", "measure": "unique_users"}], time_grain="total", breakdown=["country"], breakdown_limit=3
    ),
    "unique users by campaign, top 2 (a user is in several)": q(
        [{"event": "page_view", "measure": "unique_users"}, {"event": "page_view", "measure": "events"}],
        breakdown=["campaign"],
        breakdown_limit=2,
    ),
    "frequency by country": q(
        [{"event": "page_view", "measure": "frequency"}], time_grain="total", breakdown=["country"]
    ),
    "segment with user_where": q(
        [{"event": "page_view", "measure": "events_per_user"}],
        segment={"did": {"event": "payment"}, "user_where": [{"property": "country", "op": "neq", "value": "US"}]},
    ),
}


@pytest.mark.parametrize("name", list(REDUCIBLE))
def test_reduce_per_user_before_join_equals_oracle(generated: Dataset, name: str) -> None:
    query = REDUCIBLE[name]
    project = generated.project()
    reduced = compile_query(project, query, preaggregate="always")
    assert reduced.plan is not None and all(n.preaggregate for n in reduced.plan.nodes)
    assert any(op.kind == "PreAggregate" and "before the join" in op.detail for op in reduced.plan.nodes[0].operators)
    joined = compile_query(project, query, preaggregate="never")
    assert joined.plan is not None and not any(n.preaggregate for n in joined.plan.nodes)
    expected = generated.expected(query)
    assert_same(segwise.run(query, project, preaggregate="always"), expected, query, "UTC")
    assert_same(segwise.run(query, project, preaggregate="never"), expected, query, "UTC")


def test_reduce_rule_by_cost(generated: Dataset) -> None:
    """Distinct counts by a user property are reduced first; every decision is the cheaper estimate."""
    project = generated.project()
    counted = compile_query(
        project, q([{"event": "any", "measure": "unique_users"}], time_grain="total", breakdown=["country"])
    )
    assert counted.plan is not None and counted.plan.nodes[0].preaggregate
    assert any("reduced per (bucket, user) before the user join" in d for d in counted.decisions)
    for query in REDUCIBLE.values():
        plan = compile_query(project, query).plan
        assert plan is not None
        joined = {a.name.split(":")[0]: a for a in plan.alternatives if a.name.endswith("join users to each event")}
        reduced = {a.name.split(":")[0]: a for a in plan.alternatives if a.name.endswith("reduce per user, then join")}
        assert joined.keys() == reduced.keys() and joined
        for node in plan.nodes:
            if node.label in joined:
                cheaper = reduced[node.label].seconds < joined[node.label].seconds
                assert node.preaggregate == cheaper and reduced[node.label].chosen == cheaper
    off = compile_query(project, REDUCIBLE["unique users by country"], disabled_rules=("preaggregate",))
    assert off.plan is not None and "preaggregate" not in off.plan.rules and not off.plan.nodes[0].preaggregate


@pytest.mark.parametrize("name", list(SHAREABLE))
def test_shared_scan_equals_oracle(generated: Dataset, name: str) -> None:
    query = SHAREABLE[name]
    project = generated.project()
    shared = compile_query(project, query, share_scans="always")
    assert shared.plan is not None and shared.plan.shared, shared.decisions
    assert "sh" in shared.sql and "one shared scan" in " ".join(shared.decisions)
    separate = compile_query(project, query, share_scans="never")
    assert separate.plan is not None and not separate.plan.shared
    expected = generated.expected(query)
    assert_same(segwise.run(query, project, share_scans="always"), expected, query, "UTC")
    assert_same(segwise.run(query, project, share_scans="never"), expected, query, "UTC")


def test_not_shareable_series_stay_apart(generated: Dataset) -> None:
    project = generated.project()
    query = q(
        [
            {"event": "page_view", "measure": "median:amount"},  # percentile: not shareable
            {"event": "page_view", "measure": "unique_users", "occurrence": "first"},
            {"event": "page_view", "measure": "events", "where": [{"property": "country", "op": "eq", "value": "DE"}]},
            {"event": "page_view", "measure": "wau"},
        ]
    )
    if generated.backend == "sqlite":
        query["series"] = query["series"][1:]
    compiled = compile_query(project, query, share_scans="always")
    assert compiled.plan is not None and compiled.plan.shared == []


def test_cost_model_decides_sharing(generated: Dataset, tmp_path: Path) -> None:
    """Where reading rows is expensive, one scan wins; where aggregating is, one scan per series."""
    if generated.backend != "duckdb":
        pytest.skip("a planning decision; one engine is enough")
    query = SHAREABLE["different events and filters"]
    choices = {}
    for name, coefficients in {
        "row store": {"overhead": 0.001, "scan_row": 5e-7, "agg_row": 1e-9},
        "columnar": {"overhead": 0.0, "scan_row": 1e-10, "agg_row": 5e-7},
    }.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"adapter": "duckdb", "coefficients": coefficients}))
        project = segwise.Project(
            warehouse=generated.url,
            event_tables=[{"table": "events", "event_name": "event_name"}],
            user_tables=[{"table": "users"}],
            calibration=str(path),
        )
        compiled = compile_query(project, query)
        assert compiled.plan is not None and "calibrated" in compiled.plan.cost_source
        choices[name] = bool(compiled.plan.shared)
        chosen = [a for a in compiled.plan.alternatives if a.chosen]
        assert len(chosen) == 1 and ("shared" in chosen[0].name) == choices[name]
        assert_same(segwise.run(query, project), generated.expected(query), query, "UTC")
        project.close()
    assert choices == {"row store": True, "columnar": False}


TOPN_SHAREABLE = {
    "sum and visitors by country, top 3": q(
        [{"event": "payment", "measure": "sum:amount"}, {"event": "page_view", "measure": "unique_users"}],
        time_grain="total",
        breakdown=["country"],
        breakdown_limit=3,
    ),
    "weekly counts, users and maxima by country, top 2": q(
        [
            {"event": "page_view", "measure": "events"},
            {"event": "signup", "measure": "unique_users"},
            {"event": "payment", "measure": "max:amount"},
        ],
        breakdown=["country"],
        breakdown_limit=2,
    ),
    "a combined event's users beside page views": q(
        [
            {"event": "page_view", "measure": "events"},
            {"event": {"any_of": [{"event": "payment"}, {"event": "signup"}]}, "measure": "unique_users"},
        ],
        time_grain="total",
        breakdown=["country"],
        breakdown_limit=2,
    ),
    "user and event breakdowns, top 3": q(
        [{"event": "page_view", "measure": "events"}, {"event": "payment", "measure": "min:amount"}],
        breakdown=["country", "campaign"],
        breakdown_limit=3,
    ),
}


@pytest.mark.parametrize("name", list(TOPN_SHAREABLE))
def test_topn_series_share_one_reduced_scan(generated: Dataset, name: str) -> None:
    """Top-N series over different events read the table once, reduced per (bucket, event,
    user); each takes its events' rows by name. Both plans equal the oracle."""
    query = TOPN_SHAREABLE[name]
    project = generated.project()
    shared = compile_query(project, query, share_scans="always")
    assert shared.plan is not None and [g.positions for g in shared.plan.shared_rows] == [
        tuple(range(len(query["series"])))
    ]
    assert "_revents1 > 0" in shared.sql and "one reduced scan" in "\n".join(shared.plan.describe())
    assert any("reduced per (bucket, user) serves every series" in d for d in shared.decisions)
    separate = compile_query(project, query, share_scans="never")
    assert separate.plan is not None and not separate.plan.shared_rows and "_revents1" not in separate.sql
    expected = generated.expected(query)
    assert_same(segwise.run(query, project, share_scans="always"), expected, query, "UTC")
    assert_same(segwise.run(query, project, share_scans="never"), expected, query, "UTC")


def test_topn_series_that_cannot_share_stay_apart(generated: Dataset) -> None:
    if generated.backend != "duckdb":
        pytest.skip("a planning decision; one engine is enough")
    project = generated.project()
    apart = {
        "same event twice": [
            {"event": "page_view", "measure": "events"},
            {"event": "page_view", "measure": "sum:amount"},
        ],
        "a filter on one event": [
            {"event": "page_view", "measure": "events"},
            {"event": {"any_of": [{"event": "payment", "where": [{"property": "plan", "op": "is_not_null"}]}]}},
        ],
        "two measured properties": [
            {"event": "payment", "measure": "sum:amount"},
            {"event": "purchase", "measure": "sum:revenue"},
        ],
        "a measure that does not combine": [
            {"event": "page_view", "measure": "events"},
            {"event": "payment", "measure": "avg:amount"},
        ],
    }
    for what, series in apart.items():
        query = q(series, time_grain="total", breakdown=["country"], breakdown_limit=2)
        compiled = compile_query(project, query, share_scans="always")
        assert compiled.plan is not None and not compiled.plan.shared_rows, what


def test_partition_rule(generated: Dataset) -> None:
    project = partitioned_project(generated)
    query = q([{"event": "page_view"}])
    on = compile_query(project, query)
    off = compile_query(project, query, disabled_rules=("partitions",))
    assert "event_date" in on.sql and "event_date" not in off.sql
    assert on.plan is not None and on.plan.nodes[0].prune and "partitions" in on.plan.rules
    assert off.plan is not None and not off.plan.nodes[0].prune and "partitions" not in off.plan.rules
    assert any("partitions   event_date >= P(2025-01-06" in line for line in on.plan.describe())
    for compiled in (on, off):
        assert compiled.sql  # both run and agree with the oracle
    assert_same(segwise.run(query, project), generated.expected(query), query, "UTC")
    assert_same(segwise.run(query, project, disabled_rules=("partitions",)), generated.expected(query), query, "UTC")
    project.close()


PARTITION_TIME = {
    "daily unique users": q([{"event": "any", "measure": "unique_users"}], time_grain="day"),
    "weekly events by platform": q([{"event": "page_view"}], breakdown=["platform"]),
    "wau (look-back)": q([{"event": "any", "measure": "wau"}], time_grain="day"),
    "mau by country, top 2 (reduced per user first)": q(
        [{"event": "any", "measure": "mau"}], time_grain="week", breakdown=["country"], breakdown_limit=2
    ),
    "hourly (the partition cannot stand in)": {
        "series": [{"event": "page_view"}],
        "date_range": {"from": "2025-02-01", "to": "2025-02-03"},
        "time_grain": "hour",
    },
    "a range that is not whole days": {
        "series": [{"event": "page_view", "measure": "unique_users"}],
        "date_range": {"from": "2025-02-01T06:00:00", "to": "2025-02-10T18:30:00"},
        "time_grain": "day",
    },
}


@pytest.mark.parametrize("name", list(PARTITION_TIME))
def test_partition_column_stands_in_for_event_time(generated: Dataset, name: str) -> None:
    query = PARTITION_TIME[name]
    project = partitioned_project(generated)
    compiled = compile_query(project, query, dialect="duckdb")
    assert compiled.plan is not None and all(n.partition_time for n in compiled.plan.nodes)
    # day buckets, or a rolling day mask's day number (date subtraction from the date itself)
    by_partition = (
        'CAST("e"."event_date" AS TIMESTAMP)' in compiled.sql or '- CAST("e"."event_date" AS DATE)' in compiled.sql
    )
    assert by_partition == (query["time_grain"] != "hour")  # day and coarser buckets come from it
    whole_days = "T" not in str(query["date_range"]["from"])
    assert ('"e"."event_time" >=' in compiled.sql) == (not whole_days)  # exact partition predicate
    expected = generated.expected(query)
    assert_same(segwise.run(query, project), expected, query, "UTC")
    assert_same(segwise.run(query, project, disabled_rules=("partitions",)), expected, query, "UTC")
    project.close()


def test_logical_plan_shape(generated: Dataset) -> None:
    project = generated.project()
    query = q(
        [
            {"event": "page_view", "measure": "wau"},
            {
                "event": "page_view",
                "measure": "user_avg:events",
                "where": [{"property": "country", "op": "is_not_null"}],
            },
            {"event": "signup", "measure": "events", "occurrence": "first"},
        ],
        breakdown=["platform"],
        breakdown_limit=2,
        formulas=[{"label": "r", "expression": "C / A"}],
    )
    compiled = compile_query(project, query, share_scans="never", preaggregate="never")
    plan = compiled.plan
    assert plan is not None
    kinds = [[op.kind for op in node.operators] for node in plan.nodes]
    if project.adapter().flavor.capabilities.day_mask_bits:  # a day-mask word (rule rolling)
        assert kinds[0] == ["TopN", "DayMask", "Spine", "Aggregate"]
    else:
        assert kinds[0] == ["TopN", "PreAggregate", "Intervals", "Spine", "Aggregate"]
    assert kinds[1] == ["Join", "TopN", "PreAggregate", "Aggregate"]
    assert kinds[2] == ["Window", "TopN", "Aggregate"]
    assert [str(f) for f in plan.nodes[1].scan.outer_filters] == ["country is_not_null"]
    assert "formula r = C / A" in plan.post
    text = "\n".join(plan.describe())
    assert "Series A  active_users:7d" in text and "after join   country is_not_null" in text


def test_explain_shows_plan_alternatives_and_sql(generated: Dataset, tmp_path: Path) -> None:
    if generated.backend != "duckdb":
        pytest.skip("CLI output; one engine is enough")
    project_file = tmp_path / "segwise.yaml"
    project_file.write_text(json.dumps(partitioned_project(generated).model_dump(exclude_defaults=True)))
    query_file = tmp_path / "q.json"
    query_file.write_text(json.dumps(SHAREABLE["different events and filters"]))
    result = CliRunner().invoke(main, ["explain", str(query_file), "-p", str(project_file)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "-- logical plan (rules applied: rollups, partitions, preaggregate, sharing, rolling, materialize)" in out
    assert "-- alternatives considered (cost model: built-in defaults" in out
    assert "one scan per series: ~" in out and "one shared scan of events: ~" in out
    assert out.count("  chosen ") == 1 and "SELECT" in out


def test_fit_recovers_known_coefficients() -> None:
    truth = Coefficients(overhead=0.004, scan_row=3e-9, agg_row=7e-9)
    samples = [
        {"rows": rows, "aggregates": k, "seconds": truth.seconds(rows, rows, k)}
        for rows in (10_000, 100_000, 1_000_000)
        for k in (1, 4, 8)
    ]
    got = fit(samples)
    assert got.overhead == pytest.approx(truth.overhead, rel=1e-6)
    assert got.scan_row == pytest.approx(truth.scan_row, rel=1e-6)
    assert got.agg_row == pytest.approx(truth.agg_row, rel=1e-6)
    # a negative least-squares term is dropped, never kept
    noisy = [{**s, "seconds": 0.01} for s in samples]
    flat = fit(noisy)
    assert flat.overhead == pytest.approx(0.01) and flat.scan_row >= 0 and flat.agg_row >= 0


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_calibrate_command(engine: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    users, events = generated_tables()
    dataset = _load("calibrate", engine, tmp_path_factory, {"events": events, "users": users}, "event_name")
    project_file = tmp_path / "segwise.yaml"
    project_file.write_text(json.dumps(partitioned_project(dataset).model_dump(exclude_defaults=True)))
    result = CliRunner().invoke(main, ["calibrate", "-p", str(project_file), "--repeat", "1"])
    assert result.exit_code == 0, result.output
    assert f"calibrated {engine} on events" in result.output
    written = json.loads((tmp_path / ".segwise" / f"calibration-{engine}.json").read_text())
    assert written["adapter"] == engine and len(written["probes"]) == 16
    assert all(v >= 0 for v in written["coefficients"].values())
    project = segwise.Project.load(project_file)
    assert load_coefficients(project, engine).source.startswith("calibrated")
    compiled = compile_query(project, SHAREABLE["different events and filters"])
    assert compiled.plan is not None and "calibrated" in compiled.plan.cost_source
    project.close()
    # calibrate() in Python, to a path of one's choosing
    project = partitioned_project(dataset)
    out = calibrate(project, repeat=1, output=tmp_path / "c.json")
    assert Path(out["path"]).exists()
    project.close()


def test_bad_calibration_file_is_a_clear_error(generated: Dataset, tmp_path: Path) -> None:
    if generated.backend != "duckdb":
        pytest.skip("file handling; one engine is enough")
    path = tmp_path / "c.json"
    path.write_text("{not json")
    project = segwise.Project(
        warehouse=generated.url, event_tables=[{"table": "events", "event_name": "event_name"}], calibration=str(path)
    )
    with pytest.raises(segwise.SpecError, match="cannot read the calibration file"):
        compile_query(project, q([{"event": "page_view"}]))
    path.write_text(json.dumps({"adapter": "postgresql", "coefficients": {"overhead": 0, "scan_row": 0, "agg_row": 0}}))
    with pytest.raises(segwise.SpecError, match="for 'postgresql', not 'duckdb'"):
        compile_query(project, q([{"event": "page_view"}]))
    project.close()
