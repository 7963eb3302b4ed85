"""Smoke test of the lifecycle and stickiness benchmark (``benchmarks/analyses.py``) at a tiny
scale, no timing: for each of its queries, ``segwise.run`` equals the plain-Python oracles
(tests/oracle_lifecycle.py, tests/oracle_stickiness.py), and segwise's compiled SQL and the
hand-written SQL give ``segwise.run``'s answer, in DuckDB and in PostgreSQL."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import segwise
from benchmarks import analyses
from benchmarks.planner_data import project_for, write_chunked
from tests.oracle_lifecycle import lifecycle_oracle
from tests.oracle_stickiness import stickiness_oracle

DAYS = 98  # the 12 lifecycle weeks and the week before them fit in the data


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analyses") / "part.duckdb"
    write_chunked(path, users=300, days=DAYS)
    return path


def test_the_queries_and_their_windows() -> None:
    queries = analyses.queries(DAYS)
    assert set(queries) == set(analyses.HAND) == set(analyses.WEEKS)
    for name, query in queries.items():
        start, end = (date.fromisoformat(query["date_range"][k]) for k in ("from", "to"))
        assert start.weekday() == 0 and (end - start).days == 7 * analyses.WEEKS[name]
    for engine in ("duckdb", "postgresql"):
        assert all("{" not in analyses.hand_sql(name, engine, DAYS) for name in queries)


def test_segwise_equals_the_oracles(data: Path) -> None:
    con = duckdb.connect(str(data), read_only=True)
    events, users = con.sql("SELECT * FROM events").to_arrow_table().to_pylist(), con.sql("SELECT * FROM users")
    user_rows = users.to_arrow_table().to_pylist()
    con.close()
    project = project_for(f"duckdb:///{data}", analyses.LAYOUT)
    try:
        for name, query in analyses.queries(DAYS).items():
            oracle = lifecycle_oracle if name.startswith("lifecycle") else stickiness_oracle
            expected = analyses.canonical(pa.Table.from_pylist(oracle(query, events, user_rows)))
            got = analyses.canonical(segwise.run(query, project))
            assert got == expected, f"{name}: {analyses.differences(got, expected)}"
            assert len(expected) >= 20, f"{name}: a case that checks little"
    finally:
        project.close()


def _check(target: Any) -> list[str]:
    project = project_for(target.url, analyses.LAYOUT)
    try:
        return analyses.check(target, project, DAYS)
    finally:
        project.close()


def test_duckdb_variants_agree(data: Path) -> None:
    target = analyses.DuckDBTarget(data, timeout=60)
    try:
        report = _check(target)
    finally:
        target.close()
    assert not report, "\n".join(report)


def test_postgres_variants_agree(data: Path) -> None:
    from tests.pg import postgres_dsn

    dsn = postgres_dsn()  # skips without a server (fails with SEGWISE_REQUIRE_POSTGRES=1)
    schema = analyses.load_postgres(
        dsn, f"smoke_analyses{os.getpid()}", {analyses.LAYOUT: data}, log=lambda _: None, layouts=(analyses.LAYOUT,)
    )[analyses.LAYOUT]
    try:
        target = analyses.PostgresTarget(dsn, schema, timeout=60)
        try:
            report = _check(target)
        finally:
            target.close()
        assert not report, "\n".join(report)
    finally:
        import adbc_driver_postgresql.dbapi as pg

        with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_time_target_checks_then_times_each_variant(data: Path) -> None:
    target = analyses.DuckDBTarget(data, timeout=60)
    project = project_for(target.url, analyses.LAYOUT)
    try:
        cells = analyses.time_target(target, project, repeat=2, log=lambda _: None, days=DAYS)
    finally:
        project.close()
        target.close()
    assert set(cells) == set(analyses.WEEKS)
    for cell in cells.values():
        assert cell["rows"] > 0 and all(len(s) == 2 for s in cell["samples_s"].values())
    text = analyses.markdown({"results": {"duckdb": cells}})
    assert text.count("| duckdb |") == len(analyses.WEEKS)


def test_hand_sql_that_miscounts_is_caught(data: Path) -> None:
    """The comparison can fail: a hand-written lifecycle that never says "returning" differs."""
    target = analyses.DuckDBTarget(data, timeout=60)
    project = project_for(target.url, analyses.LAYOUT)
    try:
        query = analyses.queries(DAYS)["lifecycle_12w"]
        wrong = analyses.hand_sql("lifecycle_12w", "duckdb", DAYS).replace("THEN 'returning'", "THEN 'resurrecting'")
        got = analyses.canonical(target.execute(wrong))
        assert analyses.differences(got, analyses.canonical(segwise.run(query, project)))
    finally:
        project.close()
        target.close()
