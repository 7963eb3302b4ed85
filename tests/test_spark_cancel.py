"""Timeouts and Ctrl-C on Spark stop the statement's jobs on Spark, not only the waiting client.

The events are a view whose ``slow`` column sleeps one second per row when it is read (a static
Java call through Spark SQL's ``reflect``); a question that filters on ``slow`` keeps Spark busy
for many seconds, any other question is quick. After the timeout (or Ctrl-C), Spark's own status
tracker must show the statement's job group with no running job and no active stage.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import segwise
from segwise.adapters.spark import SparkAdapter
from segwise.errors import WarehouseError
from tests.backends import spark_session, spark_url
from tests.cancel_support import ctrl_c_after

SLOW_ROWS = 40  # one second each, two tasks at a time: 20 s of work if nobody stops it
SLOW_QUERY = {
    "series": [{"event": "open", "where": [{"property": "slow", "op": "is_null"}], "measure": "events"}],
    "date_range": {"from": "2025-01-01", "to": "2025-01-03"},
    "time_grain": "total",
}
QUICK_QUERY = {
    "series": [{"event": "open", "measure": "events"}],
    **{k: SLOW_QUERY[k] for k in ("date_range", "time_grain")},
}


def slow_events_table(rows: int = SLOW_ROWS) -> pa.Table:
    """``rows`` "open" events on 2025-01-01 by users u0..u4 (the quick answer is ``rows``)."""
    from datetime import datetime, timedelta

    start = datetime(2025, 1, 1)
    return pa.table(
        {
            "user_id": [f"u{i % 5}" for i in range(rows)],
            "event_name": ["open"] * rows,
            "event_time": pa.array([start + timedelta(minutes=i) for i in range(rows)], type=pa.timestamp("us")),
        }
    )


def create_slow_view(spark: Any, folder: Path, name: str, partitions: int = 2) -> str:
    """A global temporary view ``global_temp.<name>`` over the events with the sleeping ``slow`` column."""
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(slow_events_table(), folder / "part-0.parquet")
    frame = spark.read.parquet(str(folder)).repartition(partitions)
    frame.selectExpr(
        "*", "reflect('java.lang.Thread', 'sleep', CAST(1000 AS BIGINT)) AS slow"
    ).createOrReplaceGlobalTempView(name)
    return f"global_temp.{name}"


def slow_project(table: str, url: str | None = None) -> segwise.Project:
    return segwise.Project(
        warehouse=url or spark_url({}),
        event_tables=[{"table": table, "user_id": "user_id", "event_time": "event_time", "event_name": "event_name"}],
    )


def group_jobs(spark: Any, group: str) -> tuple[list[int], list[str]]:
    """The job ids Spark ran for ``group`` and their statuses (``RUNNING``, ``FAILED``, ...)."""
    tracker = spark.sparkContext.statusTracker()
    ids = list(tracker.getJobIdsForGroup(group))
    statuses = []
    for job in ids:
        info = tracker.getJobInfo(job)
        statuses.append(str(info.status) if info is not None else "GONE")
    return ids, statuses


def assert_stopped(spark: Any, group: str, within: float = 5.0) -> None:
    """The group ran at least one job, and within ``within`` s none of its jobs runs and Spark has
    no active job or stage at all (nothing else runs Spark in this test process meanwhile)."""
    tracker = spark.sparkContext.statusTracker()
    deadline = time.monotonic() + within
    while True:
        ids, statuses = group_jobs(spark, group)
        busy = "RUNNING" in statuses or tracker.getActiveJobsIds() or tracker.getActiveStageIds()
        if ids and not busy:
            return
        assert time.monotonic() < deadline, (
            f"Spark still busy: jobs {ids} {statuses}, stages {tracker.getActiveStageIds()}"
        )
        time.sleep(0.1)


@pytest.fixture(scope="module")
def spark() -> Any:
    return spark_session()


@pytest.fixture(scope="module")
def slow(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    table = create_slow_view(spark, tmp_path_factory.mktemp("slow") / "events", "segwise_slow_events")
    project = slow_project(table)
    assert project.run(QUICK_QUERY).column("value").to_pylist() == [SLOW_ROWS]  # the quick question is quick
    yield project
    project.close()


def test_timeout_cancels_the_job_group(spark: Any, slow: segwise.Project) -> None:
    started = time.monotonic()
    with pytest.raises(WarehouseError, match="timed out after 2 s") as info:
        slow.run(SLOW_QUERY, timeout=2)
    elapsed = time.monotonic() - started
    assert elapsed < 2 + 4, elapsed  # the deadline plus the wait for Spark to confirm the stop
    assert "has not stopped it yet" not in info.value.message
    adapter = slow.adapter()
    assert isinstance(adapter, SparkAdapter) and adapter.last_job_group
    assert_stopped(spark, adapter.last_job_group)
    _, statuses = group_jobs(spark, adapter.last_job_group)
    assert statuses and all(status == "FAILED" for status in statuses), statuses  # cancelled, not finished
    started = time.monotonic()
    assert slow.run(QUICK_QUERY).column("value").to_pylist() == [SLOW_ROWS]  # Spark is free again
    assert time.monotonic() - started < 15


def test_ctrl_c_cancels_the_job_group(spark: Any, slow: segwise.Project) -> None:
    adapter = slow.adapter()
    started = time.monotonic()
    with ctrl_c_after(1.5):  # with Python's plain SIGINT handler, not PySpark's (cancels every job)
        slow.run(SLOW_QUERY)
    assert time.monotonic() - started < 1.5 + 6
    assert isinstance(adapter, SparkAdapter) and adapter.last_job_group
    assert_stopped(spark, adapter.last_job_group)


def test_a_statement_cancelled_before_it_starts_does_not_start(spark: Any, slow: segwise.Project) -> None:
    from segwise.adapters.base import Statement

    adapter = slow.adapter()
    assert isinstance(adapter, SparkAdapter)
    statement = Statement()
    statement.cancel()
    with pytest.raises(WarehouseError, match="cancelled before it started"):
        adapter.execute_statement(slow.compile(QUICK_QUERY), statement)
    assert group_jobs(spark, adapter.last_job_group or "")[0] == []
