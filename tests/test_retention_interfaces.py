"""Retention through every interface, on a small demo database (the generator behind
``segwise demo``; "now" is the end of its data): the examples of ``examples/retention/`` against
the reference, the CLI's ``run`` / ``sql`` / ``explain``, ``/api/query`` and ``/api/explain``,
the Python API, and the SQL to paste on every live engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient

import segwise
from segwise.cli import main
from segwise.demo.generate import DEFAULT_START, write_duckdb
from segwise.server import ServerSettings, create_app
from tests.oracle_retention import retention_oracle
from tests.test_retention import CASES, engine_rows

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "retention"
DEMO_PROJECT = EXAMPLES.parent / "segwise.yaml"
USERS, DAYS = 300, 120
NOW = datetime.combine(DEFAULT_START + timedelta(days=DAYS), datetime.min.time())
PATHS = sorted(EXAMPLES.glob("*.yaml"))
WEEKLY, BUYERS = EXAMPLES / "weekly_signup_retention.yaml", EXAMPLES / "returning_buyers_on_or_after.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("retention-demo") / "demo.duckdb"
    write_duckdb(path, users=USERS, days=DAYS)
    spec = yaml.safe_load(DEMO_PROJECT.read_text(encoding="utf-8"))
    (path.parent / "segwise.yaml").write_text(yaml.safe_dump({**spec, "warehouse": f"duckdb:///{path}"}))
    con = duckdb.connect(str(path), read_only=True)
    try:
        for name in ("events", "users"):
            ROWS[name] = con.sql(f"SELECT * FROM {name}").to_arrow_table().to_pylist()
    finally:
        con.close()
    return path


ROWS: dict[str, list[dict[str, Any]]] = {}  # the demo tables, read once for the reference


@pytest.fixture(scope="module")
def project(demo: Path) -> Iterator[segwise.Project]:
    with segwise.Project.load(demo.parent / "segwise.yaml") as p:
        yield p


def _expected(query: dict[str, Any]) -> list[dict[str, Any]]:
    return retention_oracle(query, ROWS["events"], ROWS["users"], now=NOW)


def test_the_three_examples_are_there() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in PATHS)
    assert len(PATHS) == 3 and "cumulative: true" in text and "time_grain: month" in text and "periods: 8" in text
    for path in PATHS:
        assert path.read_text(encoding="utf-8").splitlines()[0].rstrip().endswith("?"), path.name


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_example_against_the_oracle(demo: Path, project: segwise.Project, path: Path) -> None:
    query = yaml.safe_load(path.read_text(encoding="utf-8"))
    got = engine_rows(segwise.run(path, project, now=NOW), "UTC")
    expected = _expected(query)
    assert [{k: v for k, v in r.items() if k != "rate"} for r in got] == [
        {k: v for k, v in r.items() if k != "rate"} for r in expected
    ]
    assert any(r["period"] >= 1 and r["count"] for r in expected), "the example answers nothing on the demo data"


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_cli_run_sql_and_explain(demo: Path, project: segwise.Project) -> None:
    path = WEEKLY
    project_file = str(demo.parent / "segwise.yaml")
    rows = json.loads(_invoke("run", str(path), "-p", project_file, "-f", "json", "--now", NOW.isoformat()))
    want = segwise.run(path, project, now=NOW).to_pylist()
    assert [(r["period"], r["count"], r["cohort_size"]) for r in rows] == [
        (r["period"], r["count"], r["cohort_size"]) for r in want
    ]
    assert rows[-1]["cohort"] is None  # the summary rows come last
    sql = _invoke("sql", str(path), "-p", project_file, "--now", NOW.isoformat())
    assert "_p_cells" in sql and "rk" in sql
    explained = _invoke("explain", str(path), "-p", project_file, "--now", NOW.isoformat())
    for operator in ("Retention signup -> any", "Cohorts", "ReturnPeriods", "RetentionCounts", "Scan"):
        assert operator in explained
    bad_file = demo.parent / "bad.yaml"
    bad_file.write_text("retention: {start: any}\n")
    bad = CliRunner().invoke(main, ["run", str(bad_file), "-p", project_file])
    assert bad.exit_code == 2 and "first event of any kind" in bad.stderr and "Traceback" not in bad.stderr


def test_http_query_and_explain(project: segwise.Project) -> None:
    query = yaml.safe_load(WEEKLY.read_text(encoding="utf-8"))
    with TestClient(create_app(project, ServerSettings(now=NOW))) as client:
        response = client.post("/api/query", json=query)
        assert response.status_code == 200, response.text
        want = segwise.run(query, project, now=NOW).to_pylist()
        assert [r["count"] for r in response.json()] == [r["count"] for r in want]
        plan = client.post("/api/explain", json=query).json()
        assert "Cohorts" in json.dumps(plan)
        refused = client.post("/api/query", json={**query, "time_grain": "quarter"})
        assert refused.status_code in (400, 422) and "hour, day, week or month" in refused.json()["error"]["message"]


def test_python_api_compiles_for_render_only_dialects(project: segwise.Project) -> None:
    query = yaml.safe_load(BUYERS.read_text(encoding="utf-8"))
    for dialect in ("snowflake", "bigquery"):
        sql = project.compile(query, dialect=dialect)
        assert "rk" in sql and "GROUP BY" in sql


@pytest.mark.parametrize("name", ["weekly sign-ups", "by country, top 3", "recurring weekly logins, on or after"])
def test_the_sql_to_paste_answers_as_run(generated: Any, name: str) -> None:
    from tests.test_paste import check_paste

    if generated.backend == "spark" and name != "by country, top 3":
        pytest.skip("Spark pastes one of the cases (one slow JVM)")
    query, _now, _options = CASES[name]
    check_paste(generated.project(), query)


@pytest.mark.parametrize("cumulative", [False, True])
def test_postgres_joins_user_properties_before_the_windows_filter(project: segwise.Project, cumulative: bool) -> None:
    """PostgreSQL estimates the filter on the per-unit windows of first-time retention at a few
    rows; a user table joined after it was planned as a nested loop reading the whole table per
    counted row (31 s at 1M events, unfinished at 10M). The user table must be joined to the
    windowed rows ``rw`` (one join per query, as the rows of ``ru`` are estimated), not later."""
    import sqlglot

    query = {"retention": {"start": "signup", "return": "any", "periods": 4, "cumulative": cumulative}}
    query |= {"date_range": {"last": "8w"}, "time_grain": "week", "breakdown": ["country"]}
    tree = sqlglot.parse_one(project.compile(query, dialect="postgres", now=NOW), read="postgres")
    ctes = {cte.alias: cte.this for cte in tree.find_all(sqlglot.exp.CTE)}
    assert "rw" in ctes and "rf" not in ctes  # the windowed form (PostgreSQL's), not the join of DuckDB's

    def user_tables(node: sqlglot.exp.Expr) -> list[str]:
        return [t.name for t in node.find_all(sqlglot.exp.Table) if t.name == "users"]

    assert user_tables(ctes["rw"]) == ["users"]
    assert user_tables(tree) == ["users"]  # nowhere else: not in the counted rows' selects


def test_explain_lists_the_operators_in_the_order_the_data_flows(project: segwise.Project) -> None:
    """A breakdown by a user property joins the users table to the cohort members after the
    reduction: ``explain`` prints it above Cohorts (operators are printed last first); a user
    property in a filter is joined to the scan's events, below."""
    query = {"retention": {"start": "signup", "return": "any"}, "date_range": {"last": "8w"}, "time_grain": "week"}
    kinds = {}
    for name, extra in {
        "by country": {"breakdown": ["country"]},
        "filtered": {
            "retention": {"start": {"event": "signup", "where": [{"property": "country", "op": "eq", "value": "US"}]}}
        },
    }.items():
        lines = segwise.plan({**query, **extra}, project, now=NOW).describe()
        kinds[name] = [line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("    ")]
    assert kinds["by country"] == ["RetentionCounts", "ReturnPeriods", "Join", "Cohorts", "Scan"]
    assert kinds["filtered"] == ["RetentionCounts", "ReturnPeriods", "Cohorts", "Join", "Scan"]


def test_first_time_reads_history_and_range_in_two_disjoint_branches(project: segwise.Project) -> None:
    """First-time retention reads the start events before the range's start and the start and
    return events from it in two branches of one ``UNION ALL`` (the second pruned to the range),
    each row in one branch; recurring reads the range once. Start and return the same events
    (recurring, "on"): the numbered buckets ``rq`` joined with themselves, no ``rr``, no union."""
    import sqlglot

    def ctes(query: dict[str, Any]) -> dict[str, sqlglot.exp.Expr]:
        tree = sqlglot.parse_one(project.compile(query, dialect="duckdb", now=NOW), read="duckdb")
        return {cte.alias: cte.this for cte in tree.find_all(sqlglot.exp.CTE)}

    base = {"date_range": {"last": "8w"}, "time_grain": "week"}
    first = ctes({"retention": {"start": "signup", "return": "any"}, **base})
    unions = list(first["ru"].find_all(sqlglot.exp.Union))
    assert len(unions) == 1 and not unions[0].args.get("distinct")

    def bounds(branch: sqlglot.exp.Expr) -> set[str]:
        """Which sides of the event time (or its day partition) the branch's WHERE bounds."""
        where, sides = branch.args["where"], set()
        for kind, side in ((sqlglot.exp.LT, "upper"), (sqlglot.exp.LTE, "upper"), (sqlglot.exp.GTE, "lower")):
            for node in where.find_all(kind):
                if isinstance(node.this, sqlglot.exp.Column) and node.this.name in ("event_time", "event_date"):
                    sides.add(side)
        return sides

    before, within = unions[0].this, unions[0].expression
    assert bounds(before) == {"upper"} and "'signup'" in before.args["where"].sql("duckdb")
    assert bounds(within) == {"lower", "upper"}
    recurring = ctes({"retention": {"start": "login", "start_mode": "recurring", "return": "any"}, **base})
    assert not list(recurring["ru"].find_all(sqlglot.exp.Union)) and "rr" in recurring
    same = ctes({"retention": {"start": "login", "start_mode": "recurring"}, **base})
    assert "rq" in same and "rr" not in same and "rc" not in same
    # the range ends at now: every row read is a start inside the range (no flag to compute); a
    # range that ended before now reads later returns too, so the start flag stays
    assert same["ru"].selects[-1].alias == "_s" and same["ru"].selects[-1].this.sql() == "1"
    ended = {
        "date_range": {"from": str((NOW - timedelta(weeks=8)).date()), "to": str((NOW - timedelta(weeks=2)).date())}
    }
    earlier = ctes({"retention": {"start": "login", "start_mode": "recurring"}, "time_grain": "week", **ended})
    assert isinstance(earlier["ru"].selects[-1].this, sqlglot.exp.Max)


@pytest.mark.parametrize(("start", "decided"), [("2025-02-10", True), ("2025-03-30", False)])
def test_first_time_branches_decide_the_time_test_only_at_a_fixed_offset(
    demo: Path, tmp_path: Path, start: str, decided: bool
) -> None:
    """Berlin time: away from a clock change each branch of the first-time scan knows whether its
    rows are at or after the range's start (``_r`` 0 in the first, the return test alone in the
    second, no time test left); on the day the clocks change (2025-03-30) the local-time test stays
    in both branches. The answers equal the reference's either way (tests/test_retention.py)."""
    import sqlglot

    spec = yaml.safe_load((demo.parent / "segwise.yaml").read_text(encoding="utf-8"))
    (tmp_path / "segwise.yaml").write_text(yaml.safe_dump({**spec, "timezone": "Europe/Berlin"}))
    query = {"retention": {"start": "signup", "return": "purchase", "periods": 7}, "time_grain": "day"}
    query["date_range"] = {"from": start, "to": "2025-04-20"}
    with segwise.Project.load(tmp_path / "segwise.yaml") as berlin:
        tree = sqlglot.parse_one(berlin.compile(query, dialect="duckdb", now=NOW), read="duckdb")
    ru = next(cte.this for cte in tree.find_all(sqlglot.exp.CTE) if cte.alias == "ru")
    union = next(ru.find_all(sqlglot.exp.Union))
    before, within = union.this, union.expression
    flags = [b.selects[-1] for b in (before, within)]
    assert [f.alias for f in flags] == ["_r", "_r"]
    # the time test: the local event time compared with the range's start (Berlin midnight)
    tests = [b.sql("duckdb").count(f">= CAST('{start} 00:00:00.000000' AS TIMESTAMP)") for b in (before, within)]
    if decided:
        assert flags[0].this.sql() == "0"
        assert flags[1].this.sql("duckdb") == 'CASE WHEN "e"."event_name" = \'purchase\' THEN 1 ELSE 0 END'
        assert tests == [0, 0]
    else:
        assert tests[0] >= 1 and tests[1] >= 2  # in _r, and in the second branch's filter too
