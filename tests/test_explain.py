"""`segwise explain`: the resolved query, cost estimate from table statistics, SQL, engine plans."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest
from click.testing import CliRunner

import segwise
from segwise.cli import main
from segwise.cost import estimate_cost
from segwise.execute import compile_query
from tests.backends import BACKENDS


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory):
    """365 days x 100 events per day, with a date partition column."""
    import pyarrow as pa

    times = [datetime(2025, 1, 1) + (datetime(2025, 1, 2) - datetime(2025, 1, 1)) * (i / 100) for i in range(36500)]
    events = pa.table(
        {
            "user_id": [f"u{i % 300}" for i in range(36500)],
            "event_time": pa.array(times, type=pa.timestamp("us")),
            "event_date": pa.array([t.date() for t in times], type=pa.date32()),
            "event_name": ["open"] * 36500,
        }
    )
    return events, tmp_path_factory.mktemp("explain")


@pytest.mark.parametrize("engine", sorted(BACKENDS))
def test_table_stats_are_exact_or_close(engine: str, year) -> None:
    events, directory = year
    url = BACKENDS[engine].load({"events": events}, directory, "explain_year")
    project = segwise.Project(warehouse=url, event_tables=[{"table": "events", "event_name": "event_name"}])
    info = project.catalog().event_tables[0]
    stats = project.catalog().stats(info)
    assert stats.min_time == datetime(2025, 1, 1) and stats.max_time == max(events.column("event_time").to_pylist())
    if stats.exact:
        assert stats.rows == 36500
    else:  # planner statistics (PostgreSQL after ANALYZE) are estimates
        assert 0 <= stats.rows <= 36500 * 1.2
    project.close()


def test_estimate_prunes_with_a_partition_column(year) -> None:
    events, directory = year
    url = BACKENDS["duckdb"].load({"events": events}, directory, "explain_year")
    query = {"series": [{"event": "open"}], "date_range": {"from": "2025-03-01", "to": "2025-03-08"}}
    for partition, expected in ((None, 36500), ({"column": "event_date", "format": "date"}, 700)):
        spec = {"table": "events", "event_name": "event_name", **({"partition": partition} if partition else {})}
        project = segwise.Project(warehouse=url, event_tables=[spec])
        estimate = estimate_cost(compile_query(project, query), project.catalog())
        # 7 of 365 days: 7/364.99 of 36,500 rows ~ 700
        assert estimate.rows == pytest.approx(expected, rel=0.01), estimate
        assert ("partition column 'event_date'" in estimate.scans[0].pruning) is bool(partition)
        project.close()


@pytest.mark.parametrize("engine", ["duckdb", "postgresql", "sqlite"])
def test_explain_analyze_shows_the_engines_plan(engine: str, year, tmp_path) -> None:
    events, directory = year
    if engine not in BACKENDS:
        pytest.skip(f"{engine} is not a live engine here")
    url = BACKENDS[engine].load({"events": events}, directory, "explain_year")
    project = tmp_path / "p.yaml"
    project.write_text(f"warehouse: {url}\nevent_tables: [{{table: events, event_name: event_name}}]\n")
    query = tmp_path / "q.yaml"
    query.write_text("series: [{event: open, measure: unique_users}]\ndate_range: {from: 2025-03-01, to: 2025-03-08}\n")
    result = CliRunner().invoke(main, ["explain", str(query), "-p", str(project), "--analyze"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "estimate    ~" in out and "SELECT" in out and "own plan" in out
    marker = {"duckdb": "Table Scan", "postgresql": "Seq Scan", "sqlite": "SCAN"}[engine]
    assert marker in out, out[-2000:]


def test_duckdb_plan_scans_few_row_groups_with_sorted_time(tmp_path) -> None:
    """The raw-column time filter lets DuckDB skip row groups of a time-sorted table."""
    path = tmp_path / "big.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """CREATE TABLE events AS SELECT 'u' || (i % 1000) AS user_id,
           TIMESTAMP '2025-01-01' + INTERVAL (i * 5) SECOND AS event_time, 'open' AS event_name
           FROM range(2000000) t(i)"""
    )
    con.close()
    project = segwise.Project(
        warehouse=f"duckdb:///{path}", event_tables=[{"table": "events", "event_name": "event_name"}]
    )
    compiled = compile_query(
        project, {"series": [{"event": "open"}], "date_range": {"from": "2025-01-02", "to": "2025-01-03"}}
    )
    plan = project.adapter().explain(compiled.sql, analyze=True)
    scanned, total = next(
        map(int, line.split(":")[1].split("/"))
        for line in plan.splitlines()
        if "Row Groups Scanned" in line
        for line in [line.strip("│ ")]
    )
    assert scanned <= 3 and total >= 15, plan
    project.close()
