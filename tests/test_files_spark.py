"""``file:`` tables on Spark (temporary views over the declared files), against plain Python."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

import segwise
from tests.backends import spark_session, spark_url
from tests.test_files import SAMPLES, WEEK, hive, rows, ts, write  # noqa: F401  (hive: the fixture)


@pytest.fixture(scope="module")
def spark() -> Any:
    return spark_session()


def test_spark_reads_csv_files(spark: Any, tmp_path: Path) -> None:
    (tmp_path / "simple.csv").write_bytes((SAMPLES / "simple.csv").read_bytes())
    project = write(
        tmp_path / "p.yaml",
        {
            "warehouse": spark_url({}),
            "event_tables": [{"table": "clicks", "file": "*.csv", "event_name": "event_type"}],
        },
    )
    query = {
        "series": [{"event": "view", "measure": "unique_users"}],
        "date_range": {"from": "2020-01-01", "to": "2020-01-01T05:00:00"},
        "time_grain": "hour",
    }
    viewers: dict[int, set[str]] = defaultdict(set)
    for row in rows("simple.csv"):
        if row["event_type"] == "view":
            viewers[ts(row["event_time"]).hour].add(row["user_id"])
    with segwise.Project.load(project) as p:
        got = {r["bucket"].hour: r["value"] for r in p.run(query).to_pylist()}
    assert got == {h: len(viewers[h]) for h in range(5)}


def spark_project(hive: Path) -> Path:  # noqa: F811
    """The hive fixture's project (``file: events/**/*.parquet``, hive partitioning) on Spark."""
    data = yaml.safe_load((hive / "segwise.yaml").read_text())
    data["warehouse"] = spark_url({})
    return write(hive / "spark.yaml", data)


def test_spark_reads_hive_parquet_and_prunes(spark: Any, hive: Path) -> None:  # noqa: F811
    project = spark_project(hive)
    expected = Counter(
        r["event_time"][:10]
        for r in rows("subscriptions.csv")
        if r["event_type"] == "renewed_subscription" and "2021-03-01" <= r["event_time"][:10] < "2021-03-08"
    )
    with segwise.Project.load(project) as p:
        got = {r["bucket"].strftime("%Y-%m-%d"): r["value"] for r in p.run(WEEK).to_pylist()}
        assert {k: v for k, v in got.items() if v} == dict(expected)
        plan = p.adapter().explain(p.compile(WEEK))
    assert re.search(r"PartitionFilters: \[[^\]]*event_date", plan), plan


def test_spark_opens_only_the_weeks_partition_directories(spark: Any, hive: Path) -> None:  # noqa: F811
    """The executed plan's scan metrics: the week's day directories are read, no others."""
    days = {r["event_time"][:10] for r in rows("subscriptions.csv")}
    week = {day for day in days if "2021-03-01" <= day < "2021-03-08"}
    assert 0 < len(week) < len(days)  # the data has days outside the week to skip
    with segwise.Project.load(spark_project(hive)) as p:
        adapter = p.adapter()
        scans = adapter.scan_metrics(p.compile(WEEK))  # type: ignore[attr-defined]
    assert len(scans) == 1, scans
    name, metrics = scans[0]
    assert metrics["numPartitions"] == len(week), (name, metrics)
    assert metrics["numFiles"] == len(week), (name, metrics)
