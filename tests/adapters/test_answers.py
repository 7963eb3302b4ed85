"""End to end on the hand-made dataset of ``tests/adapters/hand.py``: SQLite and PostgreSQL give
the same answers as DuckDB (values and Arrow types); see ``tests/adapters/test_adapters.py``."""

from __future__ import annotations

import pyarrow as pa
import pytest

import segwise
from segwise.errors import UnsupportedError
from tests.adapters.hand import QUERIES, RANGE, hand_project, url_for
from tests.pg import PostgresServer

# -- end to end: the same answers as DuckDB ---------------------------------------------------------


@pytest.fixture(scope="module")
def duckdb_answers(urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], pa.Table]:
    url = url_for("duckdb", urls, tmp_path_factory)
    answers = {}
    for week_start in ("monday", "sunday"):
        with hand_project(url, week_start=week_start) as project:
            for name, query in QUERIES.items():
                answers[(name, week_start)] = segwise.run(query, project)
    return answers


@pytest.mark.parametrize("week_start", ["monday", "sunday"])
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_same_answers_as_duckdb(
    engine: str,
    name: str,
    week_start: str,
    urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    duckdb_answers: dict[tuple[str, str], pa.Table],
) -> None:
    want = duckdb_answers[(name, week_start)]
    assert want.num_rows > 0
    with hand_project(url_for(engine, urls, tmp_path_factory), week_start=week_start) as project:
        got = segwise.run(QUERIES[name], project)
    assert got.schema == want.schema
    assert got.to_pylist() == want.to_pylist()


def test_breakdown_ties_rank_by_code_point(duckdb_answers: dict[tuple[str, str], pa.Table]) -> None:
    """B, _ and a tie on events; code-point order keeps B and _ (an ICU collation would keep _ and a)."""
    answer = duckdb_answers[("top_brands_with_ties", "monday")]
    assert sorted({row["brand"] for row in answer.to_pylist()}) == ["B", "Other", "_"]


def test_time_zone_aware_event_times(
    engine: str, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = url_for(engine, urls, tmp_path_factory)
    query = QUERIES["unique_users_by_week"]
    with hand_project(url) as naive, hand_project(url, table="events_tz") as aware:
        assert segwise.run(query, aware).to_pylist() == segwise.run(query, naive).to_pylist()


@pytest.mark.parametrize("name", ["events_by_day", "sum_by_month", "top_brands_with_ties", "weekly_active_users"])
def test_raw_results_are_int64_and_float64(
    engine: str, name: str, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """What the warehouse itself returns, before post-processing: no decimals, no int32."""
    with hand_project(url_for(engine, urls, tmp_path_factory)) as project:
        compiled = segwise.compile_query(project, QUERIES[name])
        raw = project.adapter().execute(compiled.sql)
    types = {label: raw.schema.field(label).type for label in ("series", "value", "bucket")}
    assert types["series"] == pa.string()
    assert types["value"] in ((pa.int64(),) if compiled.value_is_integer else (pa.float64(), pa.int64()))
    if not compiled.value_is_integer:
        assert types["value"] == pa.float64() or raw.column("value").null_count == raw.num_rows
    assert types["bucket"] == (pa.string() if engine == "sqlite" else pa.timestamp("us"))


def test_postgres_time_zones_and_percentiles_match_duckdb(
    server: PostgresServer, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    query = {
        "series": [{"event": "any", "measure": "median:price"}, {"event": "any", "measure": "p90:price"}],
        "date_range": RANGE,
        "time_grain": "day",
    }
    answers = []
    for name in ("duckdb", "postgresql"):
        with hand_project(url_for(name, urls, tmp_path_factory), timezone="America/New_York") as project:
            answers.append(segwise.run(query, project))
    assert answers[0].schema == answers[1].schema
    want, got = answers[0].to_pylist(), answers[1].to_pylist()
    assert [{**r, "value": None} for r in got] == [{**r, "value": None} for r in want]
    # interpolation rounds differently in the last bit (9.475 vs 9.475000000000001)
    for g, w in zip(got, want, strict=True):
        assert (g["value"] is None and w["value"] is None) or g["value"] == pytest.approx(w["value"], rel=1e-12)


def test_sqlite_refuses_time_zones_and_percentiles(
    urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = url_for("sqlite", urls, tmp_path_factory)
    with hand_project(url, timezone="Europe/Berlin") as project, pytest.raises(UnsupportedError, match="time zone"):
        segwise.run(QUERIES["events_by_day"], project)
    median = {"series": [{"event": "any", "measure": "median:price"}], "date_range": RANGE}
    with hand_project(url) as project, pytest.raises(UnsupportedError, match="percentile"):
        segwise.run(median, project)
