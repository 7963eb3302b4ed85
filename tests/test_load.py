"""A light load: 8 threads x 10 queries sharing one Project on DuckDB and PostgreSQL give the
answers each query gives alone, with bounded connections; raw results stream in bounded memory.
The heavy run (32 threads x 100 queries, 5M streamed rows) is ``python -m benchmarks.load``."""

from __future__ import annotations

import pytest

from benchmarks.load import load, setup, stream, stream_sql


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_concurrent_queries_agree_and_connections_stay_bounded(engine: str, tmp_path) -> None:
    url = setup([engine], tmp_path)[engine]
    figures = load(engine, url, threads=8, per_thread=10)
    assert figures.queries == 80
    assert figures.wrong == 0 and figures.errors == 0
    if engine == "postgresql":
        assert figures.peak_statements <= 4  # the pool's bound
    assert figures.rss_after_mb - figures.rss_before_mb < 100


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_large_results_stream_in_bounded_memory(engine: str, tmp_path) -> None:
    import segwise

    url = setup([engine], tmp_path)[engine]
    with segwise.Project(warehouse=url, event_tables=[{"table": "events", "event_name": "e"}]) as project:
        figures = stream(engine, project.adapter(), stream_sql(engine, 1_500_000))
    assert figures.rows == 1_500_000
    assert figures.batches > 1
    assert figures.rss_growth_peak_mb < figures.result_mb * 0.75, figures  # never the whole result at once
