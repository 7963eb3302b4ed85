"""Partition pruning predicates: exact bounds per format/granularity, and answers unchanged."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segwise
from segwise.adapters.duckdb import DuckDBFlavor
from segwise.partitions import floor_to, partition_filter
from segwise.project import Partition

FLAVOR = DuckDBFlavor()


def encode(moment: datetime, partition: Partition):
    """What a partition column would hold for an event at ``moment`` (independent of the code)."""
    fmt = partition.format
    if fmt == "date":
        return moment.date()
    if fmt == "timestamp":
        return floor_to(moment, partition.granularity)
    kind, _, pattern = fmt.partition(":")
    text = floor_to(moment, partition.granularity).strftime(pattern)
    return int(text) if kind == "int" else text


CASES = [
    Partition(column="p", granularity="day", format="date"),
    Partition(column="p", granularity="hour", format="timestamp"),
    Partition(column="p", granularity="month", format="string:%Y-%m"),
    Partition(column="p", granularity="day", format="string:%Y-%m-%d"),
    Partition(column="p", granularity="day", format="int:%Y%m%d"),
    Partition(column="p", granularity="hour", format="int:%Y%m%d%H"),
]


@pytest.mark.parametrize("partition", CASES, ids=lambda p: f"{p.granularity}-{p.format}")
def test_predicate_text(partition: Partition) -> None:
    column = duckdb_column()
    sql = [
        c.sql("duckdb")
        for c in partition_filter(FLAVOR, partition, column, datetime(2025, 1, 31, 22, 30), datetime(2025, 3, 1))
    ]
    assert all(s.startswith('"p" ') for s in sql), sql  # the bare column, never wrapped
    assert len(sql) == 2


def duckdb_column():
    from sqlglot import exp

    return exp.column("p", quoted=True)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(CASES),
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 1, 1)),
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=90)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=120)),
)
def test_every_event_in_range_passes_and_far_ones_do_not(partition, start, length, offset) -> None:
    """Evaluate the predicate in DuckDB on encoded values: a superset of the range, no wider
    than one partition on each side."""
    end = start + length
    inside = start + min(offset, length - timedelta(microseconds=1))
    before = floor_to(start, partition.granularity) - timedelta(microseconds=1)
    after = end + (
        timedelta(hours=1)
        if partition.granularity == "hour"
        else timedelta(days=32 if partition.granularity == "month" else 1)
    )
    after = floor_to(after, partition.granularity)
    filters = partition_filter(FLAVOR, partition, duckdb_column(), start, end)
    where = " AND ".join(f.sql("duckdb") for f in filters)
    con = duckdb.connect()
    for moment, expected in ((inside, True), (before, False), (after, False)):
        value = encode(moment, partition)
        got = con.execute(f'SELECT {where} FROM (SELECT ? AS "p")', [value]).fetchone()[0]
        assert got is expected, (moment, value, where)


def test_project_partition_prunes_and_answers_the_same(tmp_path) -> None:
    path = tmp_path / "p.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """CREATE TABLE events AS SELECT
             'u' || (i % 50) AS user_id,
             TIMESTAMP '2025-01-01' + INTERVAL (i * 37) MINUTE AS event_time,
             CAST(TIMESTAMP '2025-01-01' + INTERVAL (i * 37) MINUTE AS DATE) AS event_date,
             strftime(TIMESTAMP '2025-01-01' + INTERVAL (i * 37) MINUTE, '%Y%m%d')::INTEGER AS day_int,
             'open' AS event_name
           FROM range(20000) t(i)"""
    )
    con.close()
    query = {
        "series": [{"event": "open", "measure": "unique_users"}],
        "time_grain": "day",
        "date_range": {"from": "2025-02-01", "to": "2025-02-08"},
    }
    plain = segwise.Project(
        warehouse=f"duckdb:///{path}", event_tables=[{"table": "events", "event_name": "event_name"}]
    )
    answers = []
    for partition in (None, {"column": "event_date", "format": "date"}, {"column": "day_int", "format": "int:%Y%m%d"}):
        spec = {"table": "events", "event_name": "event_name", **({"partition": partition} if partition else {})}
        project = segwise.Project(warehouse=plain.warehouse, timezone="Europe/Berlin", event_tables=[spec])
        sql = project.compile(query)
        if partition:
            assert f'"e"."{partition["column"]}" >=' in sql
        answers.append(segwise.run(query, project).to_pylist())
        project.close()
    assert answers[0] == answers[1] == answers[2]


def test_partition_type_must_match_format(tmp_path) -> None:
    path = tmp_path / "p.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE events (user_id VARCHAR, event_time TIMESTAMP, event_name VARCHAR, d VARCHAR)")
    con.close()
    project = segwise.Project(
        warehouse=f"duckdb:///{path}",
        event_tables=[{"table": "events", "event_name": "event_name", "partition": {"column": "d", "format": "date"}}],
    )
    with pytest.raises(segwise.CatalogError, match="does not match format 'date'"):
        project.catalog()
