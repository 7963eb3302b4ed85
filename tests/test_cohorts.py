"""Behavioural segments (``having``, lists of ``did`` / ``did_not``), named cohorts and categories
on every live engine against the plain-Python reference (``tests/oracle_cohorts.py`` through
``tests/oracle.py``): segmentation, lifecycle and stickiness, one table and several, partitions;
the per-unit reduction's SQL shape; bad input refused with located errors."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot
from sqlglot import exp

import segwise
from tests.cohort_cases import ANALYSES, CASES, CATEGORIES, COHORTS, NOW, SPARK_CASES
from tests.conftest import assert_same, partitioned_project, skip_declared_gaps
from tests.oracle import oracle
from tests.oracle_analyses import local_rows
from tests.oracle_lifecycle import lifecycle_oracle
from tests.oracle_stickiness import stickiness_oracle
from tests.segmentation_cases import nontrivial


def project_of(dataset: Any, timezone: str = "UTC") -> segwise.Project:
    """The dataset's project with the suite's named cohorts and categories."""
    return dataset.project(timezone, cohorts=COHORTS, categories=CATEGORIES)


def expected(dataset: Any, query: dict[str, Any], timezone: str = "UTC") -> list[dict[str, Any]]:
    return oracle(
        query,
        dataset._rows,
        dataset._user_rows,
        **({"event_name_col": dataset.event_name} if dataset.name != "multi" else _canonical()),
        timezone=timezone,
        now=NOW,
        cohorts=COHORTS,
        categories=CATEGORIES,
    )


def _canonical() -> dict[str, str]:
    from tests.oracle import CANONICAL

    return dict(CANONICAL)


def _run_and_compare(project: segwise.Project, dataset: Any, query: dict[str, Any], timezone: str = "UTC") -> None:
    skip_declared_gaps(project, query, dataset.backend, NOW)
    rows = expected(dataset, query, timezone)
    nontrivial(rows)
    assert_same(segwise.run(query, project, now=NOW), rows, query, timezone)


@pytest.mark.parametrize("name", list(CASES))
def test_segmentation_equals_the_oracle(generated: Any, name: str) -> None:
    if generated.backend == "spark" and name not in SPARK_CASES:
        pytest.skip("Spark runs the subset SPARK_CASES (one JVM, slow per query)")
    query, options = CASES[name]
    timezone = options.get("timezone", "UTC")
    _run_and_compare(project_of(generated, timezone), generated, query, timezone)


def test_segments_cut_the_population(generated: Any) -> None:
    """The cases select something and leave something out: did and did_not with the same
    condition split the users exactly (the negation), and a category's groups partition them."""
    if generated.backend != "duckdb":
        pytest.skip("a property of the oracle's cases; one engine is enough")
    base = {"series": [{"event": "any", "measure": "unique_users"}], "date_range": CASES["category breakdown"][0]}
    base = {**CASES["category breakdown"][0], "breakdown": []}
    condition = {"event": "purchase", "having": {"measure": "events", "op": "gte", "value": 2}}
    total = sum(r["value"] for r in expected(generated, base))
    inside = sum(r["value"] for r in expected(generated, {**base, "segment": {"did": condition}}))
    outside = sum(r["value"] for r in expected(generated, {**base, "segment": {"did_not": condition}}))
    assert 0 < inside < total and inside + outside == total
    tiers = expected(generated, {**base, "breakdown": ["spend"]})
    assert {r["spend"] for r in tiers if r["value"]} == {"whale", "repeat", "once", "none"}
    assert [r["spend"] for r in tiers][:1] == ["whale"]  # declaration order, else last
    assert sum(r["value"] for r in tiers) == total


@pytest.mark.parametrize("name", list(ANALYSES))
def test_lifecycle_and_stickiness_by_category(generated: Any, name: str) -> None:
    if generated.backend == "spark" and name != "stickiness by category":
        pytest.skip("Spark runs one of the analyses (one JVM, slow per query)")
    query = ANALYSES[name]
    project = project_of(generated)
    reference = lifecycle_oracle if "lifecycle" in query else stickiness_oracle
    rows = reference(
        query,
        generated._rows,
        generated._user_rows,
        event_name_col=generated.event_name,
        now=NOW,
        cohorts=COHORTS,
        categories=CATEGORIES,
    )
    assert any(r["value"] for r in rows) and len({r[query["breakdown"][0]] for r in rows}) > 1
    assert local_rows(segwise.run(query, project, now=NOW), "UTC") == rows


MULTI_CASES = {
    "conditions over several tables": CASES["list of did: purchases and active days in 30 days"][0],
    "category over several tables": CASES["the four tiers, weekly active users"][0],
    "did_not over several tables": CASES["did_not list: none of them"][0],
}


@pytest.mark.parametrize("name", list(MULTI_CASES))
def test_several_event_tables(multi: Any, name: str) -> None:
    """Conditions whose events live in different tables: one pruned scan per table, UNION ALL,
    reduced per unit."""
    if multi.backend == "spark" and name != "category over several tables":
        pytest.skip("Spark runs one of these (one JVM, slow per query)")
    project = project_of(multi)
    _run_and_compare(project, multi, MULTI_CASES[name])


def test_partitions_pruned_to_each_window(generated: Any) -> None:
    """With a declared partition, each condition's scan carries its own window's partition
    predicate, and the answer is unchanged."""
    if generated.backend not in ("duckdb", "postgresql"):
        pytest.skip("the partition column is declared on two engines; the SQL shape is the point")
    project = partitioned_project(generated, cohorts=COHORTS, categories=CATEGORIES)
    try:
        query = CASES["the four tiers, weekly active users"][0]
        sql = project.compile(query, now=NOW)
        cohort = next(c for c in sqlglot.parse_one(sql, read="duckdb").find_all(exp.CTE) if c.alias == "_cohort")
        assert 'event_date" >=' in cohort.sql(dialect="duckdb"), cohort.sql()
        assert_same(segwise.run(query, project, now=NOW), expected(generated, query), query, "UTC")
    finally:
        project.close()


def test_one_reduction_one_scan_no_id_lists(generated: Any) -> None:
    """A query's segment and category are computed once: one CTE, one scan of the events table
    for every condition, joined to the events by a subquery (never a list of ids)."""
    if generated.backend != "duckdb":
        pytest.skip("the SQL's shape; one engine is enough")
    project = project_of(generated)
    query = {**CASES["category with a segment, a property and top-N"][0]}
    sql = project.compile(query, now=NOW)
    ctes = [cte for cte in sqlglot.parse_one(sql, read="duckdb").find_all(exp.CTE) if cte.alias == "_cohort"]
    assert len(ctes) == 1
    assert [t.name for t in ctes[0].find_all(exp.Table)] == ["events"] and ctes[0].find(exp.Group) is not None
    assert "IN (SELECT _u FROM _cohort" in sql
    plan = segwise.plan(query, project, now=NOW)
    assert plan.cohort is not None and len(plan.cohort.scans) == 1
    described = "\n".join(plan.describe())
    assert "Cohort" in described and "~" in described, described


@pytest.mark.parametrize(
    ("query", "message", "where"),
    [
        ({"segment": {"cohort": "buyer"}}, "unknown cohort 'buyer'", "segment > cohort"),
        ({"breakdown": ["tiers"]}, "unknown property 'tiers'", "breakdown[0]"),
        (
            {"segment": {"did": {"event": "purchase", "having": {"measure": "sum:platform", "op": "gt", "value": 1}}}},
            "needs a numeric event property",
            "segment > did[0] > having > measure",
        ),
        (
            {"segment": {"did": {"event": "purchase", "having": {"measure": "sum:country", "op": "gt", "value": 1}}}},
            "needs a numeric event property",
            "segment > did[0] > having > measure",
        ),
        (
            {"segment": {"did": {"event": "buy", "having": {"measure": "median:revenue", "op": "gt", "value": 2}}}},
            "having.measure is events, active_days",
            "segment > did[0] > having > measure",
        ),
        (
            {"segment": {"did": {"event": "purchase", "having": {"measure": "events", "op": "between", "value": 1}}}},
            "needs `values: [low, high]`",
            "segment > did[0] > having",
        ),
        (
            {"categories": {"tier": {"else": "rest"}}, "breakdown": ["tier"]},
            "a category needs `of`",
            "categories > tier",
        ),
        (
            {"categories": {"tier": {"of": [{"label": "x", "segment": {"cohort": "nope"}}]}}, "breakdown": ["tier"]},
            "unknown cohort 'nope'",
            "categories > tier > of[0] > segment > cohort",
        ),
        (
            {"segment": {"did": {"event": "purchas"}}},
            "unknown event 'purchas'",
            "segment > did[0] > event",
        ),
    ],
)
def test_bad_input_is_refused(generated: Any, query: dict[str, Any], message: str, where: str) -> None:
    if generated.backend != "duckdb":
        pytest.skip("validation; one engine is enough")
    full = {"series": [{"event": "login"}], "date_range": {"from": "2025-01-01", "to": "2025-02-01"}, **query}
    with pytest.raises(segwise.SegwiseError) as info:
        segwise.run(full, project_of(generated), now=NOW)
    assert message in info.value.message, info.value.message
    located = info.value.where if info.value.where != "query" else info.value.message
    assert (located or "").startswith(where), (info.value.where, info.value.message)


def test_bad_project_cohorts_are_refused(generated: Any) -> None:
    if generated.backend != "duckdb":
        pytest.skip("validation; one engine is enough")
    loop = segwise.Project(
        warehouse=generated.url,
        event_tables=[{"table": "events", "event_name": generated.event_name}],
        cohorts={"a": {"cohort": "b"}, "b": {"cohort": "a"}},
    )
    with pytest.raises(segwise.SpecError) as info:
        segwise.run({"series": [{"event": "login"}], "segment": {"cohort": "a"}}, loop, now=NOW)
    assert "refers to itself" in info.value.message and "cohorts > b > cohort" in (info.value.where or "")
    loop.close()
    with pytest.raises(segwise.SpecError) as bad:
        segwise.Project.parse(
            {"warehouse": generated.url, "event_tables": [{"table": "events", "event_name": "event_name"}]}
            | {"categories": {"x": {"of": []}}}
        )
    assert "categories > x > of" in str(bad.value)


def test_cli_and_http_api(generated: Any, tmp_path: Any) -> None:
    """A project file's cohorts and categories through ``segwise run`` / ``sql --dialect`` /
    ``explain`` and ``POST /api/query``: the same rows as the reference; bad names located."""
    if generated.backend != "duckdb":
        pytest.skip("the interfaces; one engine is enough")
    import json

    import yaml
    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from segwise.cli import main
    from segwise.server import ServerSettings, create_app

    spec = {
        "warehouse": generated.url,
        "event_tables": [{"table": "events", "event_name": generated.event_name}],
        "user_tables": [{"table": "users"}],
        "cohorts": COHORTS,
        "categories": CATEGORIES,
    }
    project_file, query_file = tmp_path / "segwise.yaml", tmp_path / "q.yaml"
    project_file.write_text(yaml.safe_dump(spec))
    query = CASES["the four tiers, weekly active users"][0]
    query_file.write_text(yaml.safe_dump(json.loads(json.dumps(query, default=str))))
    runner = CliRunner()
    common = [str(query_file), "--project", str(project_file), "--now", NOW.isoformat()]
    ran = runner.invoke(main, ["run", *common, "--format", "json"])
    assert ran.exit_code == 0, ran.output
    rows = expected(generated, query)
    got = json.loads(ran.output)
    assert [(r["spend"], r["value"]) for r in got] == [(r["spend"], r["value"]) for r in rows]
    snowflake = runner.invoke(main, ["sql", *common, "--dialect", "snowflake"])
    assert snowflake.exit_code == 0 and "_COHORT" in snowflake.output.upper(), snowflake.output
    explained = runner.invoke(main, ["explain", *common])
    assert explained.exit_code == 0 and "Cohort" in explained.output, explained.output
    query_file.write_text(yaml.safe_dump({"series": [{"event": "login"}], "segment": {"cohort": "nobody"}}))
    refused = runner.invoke(main, ["run", *common])
    assert refused.exit_code == 2 and "unknown cohort 'nobody'" in refused.output, refused.output
    with (
        segwise.Project.load(project_file) as project,
        TestClient(create_app(project, ServerSettings(now=NOW))) as client,
    ):
        answer = client.post("/api/query", json=json.loads(json.dumps(query, default=str)))
        assert answer.status_code == 200, answer.text
        assert [(r["spend"], r["value"]) for r in answer.json()] == [(r["spend"], r["value"]) for r in rows]
        wrong = client.post("/api/query", json={"series": [{"event": "login"}], "breakdown": ["spnd"]})
        assert wrong.status_code in (400, 422) and "spnd" in wrong.json()["error"]["message"]
