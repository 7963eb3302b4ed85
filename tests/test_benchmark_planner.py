"""Smoke test of the planner benchmark (``benchmarks/planner.py``) at a tiny scale, no timing.

For every benchmark query (the gallery plus the extra ones), the naive generator's SQL, segwise's
compiled SQL and the hand-written SQL must give ``segwise.run``'s answer, on both layouts
(time-ordered with a declared partition; shuffled without one), in DuckDB and in PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from benchmarks import planner

DAYS = 30
NOW = datetime.combine(date(2025, 1, 1) + timedelta(days=DAYS), datetime.min.time())


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("planner")
    part, flat = folder / "part.duckdb", folder / "flat.duckdb"
    planner.write_chunked(part, users=300, days=DAYS)
    con = duckdb.connect(str(flat))
    con.execute(f"ATTACH '{part}' AS src (READ_ONLY)")
    con.execute("CREATE TABLE users AS SELECT * FROM src.users")
    con.execute("CREATE TABLE events AS SELECT * FROM src.events ORDER BY hash(session_id, event_time, user_id)")
    con.close()
    return {"partitioned": part, "unpartitioned": flat}


def _failures(report: dict[str, dict[str, list[str]]]) -> list[str]:
    return [
        f"{name} {variant}: {problems}"
        for name, cell in report.items()
        for variant, problems in cell.items()
        if problems
    ]


def test_the_benchmark_covers_the_gallery_and_every_query_has_hand_written_sql() -> None:
    queries = planner.benchmark_queries()
    assert set(planner.gallery_queries()) <= set(queries)
    assert len(planner.gallery_queries()) >= 23
    assert set(queries) == set(planner.HAND)


@pytest.mark.parametrize("layout", planner.LAYOUTS)
def test_duckdb_variants_agree(files: dict[str, Path], layout: str) -> None:
    target = planner.DuckDBTarget(files[layout], timeout=60)
    try:
        report = planner.check_target(target, layout, planner.benchmark_queries(), now=NOW)
    finally:
        target.close()
    assert len(report) == len(planner.benchmark_queries())
    assert not _failures(report), "\n".join(_failures(report))


def test_postgres_variants_agree(files: dict[str, Path]) -> None:
    from tests.pg import postgres_dsn

    dsn = postgres_dsn()  # skips without a server (fails with SEGWISE_REQUIRE_POSTGRES=1)
    schemas = planner.load_postgres(dsn, f"smoke{os.getpid()}", files, log=lambda _: None)
    try:
        for layout in planner.LAYOUTS:
            target = planner.PostgresTarget(dsn, schemas[layout], timeout=60)
            try:
                report = planner.check_target(target, layout, planner.benchmark_queries(), now=NOW)
            finally:
                target.close()
            assert not _failures(report), f"{layout}:\n" + "\n".join(_failures(report))
    finally:
        import adbc_driver_postgresql.dbapi as pg

        with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
            for schema in schemas.values():
                cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_run_target_times_the_plans_and_planning_apart(files: dict[str, Path]) -> None:
    """Each variant is timed ``repeat`` times after a checked warm-up; segwise's planning time is
    its own figure (``plan_ms``), and the report shows it without mixing it into the ratios."""
    queries = {k: v for k, v in planner.benchmark_queries().items() if k in ("daily_active_users", "users_by_city")}
    target = planner.DuckDBTarget(files["partitioned"], timeout=60)
    try:
        entry = planner.run_target(target, "partitioned", queries, repeat=2, slow=60, log=lambda _: None, now=NOW)
    finally:
        target.close()
    for name in queries:
        cell = entry["queries"][name]
        assert all(cell[v]["same_as_run"] and cell[v]["runs"] == 2 for v in planner.VARIANTS)
        assert cell["segwise"]["plan_ms"] > 0 and "plan_ms" not in cell["hand"]
    entry.update({"engine": "duckdb", "size": "10m", "layout": "partitioned"})
    report = {"timeout_s": 60, "results": [entry]}
    text = planner.markdown(report)
    assert "planning ms" in text and "planning (compiling the query" in text
