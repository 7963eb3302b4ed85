"""The Spark adapter: URLs, sessions, catalog, refusing commands, partition pruning, the CLI.

The shared suite runs on Spark through ``tests.backends.SparkBackend``; this module covers what is
particular to Spark. Every test shares the process's one SparkSession (``spark_session``); each
adapter works in its own ``newSession()`` of it. Skipped without PySpark or Java, except with
``SEGWISE_REQUIRE_SPARK=1`` (CI), where that fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import segwise
from segwise.adapters import spark as spark_module
from segwise.adapters.base import TableRef
from segwise.adapters.spark import SparkAdapter, SparkTarget, classify_spark_type
from segwise.cli import main
from segwise.errors import CatalogError, WarehouseError
from segwise.registry import adapter_classes, open_adapter
from tests.adapters.hand import assert_answers_match_duckdb, hand_tables
from tests.backends import BACKENDS, spark_session, spark_url
from tests.spark_connect import ConnectServer, connect_server  # noqa: F401  (the fixture)
from tests.test_clickhouse import QUERIES

PARTITION = {"column": "event_date", "granularity": "day", "format": "date"}


@pytest.fixture(scope="module")
def spark() -> Any:
    return spark_session()


@pytest.fixture(scope="module")
def hand_url(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    return BACKENDS["spark"].load(hand_tables(), tmp_path_factory.mktemp("spark-hand"), "hand")


@pytest.fixture
def adapter(hand_url: str) -> Any:
    opened = open_adapter(hand_url)
    yield opened
    opened.close()


def _project(url: str, table: str = "events", **event_table: Any) -> segwise.Project:
    return segwise.Project(
        warehouse=url,
        event_tables=[{"table": table, "event_name": "event_type", **event_table}],
        user_tables=[{"table": "users"}],
    )


# -- registration, URLs, missing pieces -------------------------------------------------------------


def test_registered_by_scheme() -> None:
    classes = adapter_classes()
    assert classes["spark"] is SparkAdapter
    assert classes["sc"] is SparkAdapter
    assert (SparkAdapter.name, SparkAdapter.flavor_class.dialect) == ("spark", "spark")


def test_urls(tmp_path: Path) -> None:
    assert SparkTarget("spark://local").master == "local"
    assert SparkTarget("spark://local[4]").master == "local[4]"
    assert SparkTarget("spark://local[*]?database=db").master == "local[*]"
    cluster = SparkTarget("spark://master.example:7077?spark.executor.memory=4g")
    assert (cluster.master, cluster.connect, cluster.config) == ("spark://master.example:7077", False, {
        "spark.executor.memory": "4g"
    })  # fmt: skip
    connect = SparkTarget("sc://spark.example:15002/;token=abc?database=analytics")
    assert (connect.master, connect.connect, connect.database) == (
        "sc://spark.example:15002/;token=abc",
        True,
        "analytics",
    )
    views = SparkTarget("spark://local?parquet.events=data/ev&parquet.users=/abs/us", base_dir=tmp_path)
    assert views.views == {"events": str(tmp_path / "data/ev"), "users": "/abs/us"}
    for bad in ("spark://", "spark://local/extra/path", "sc://", "spark://local?path=/x"):
        with pytest.raises(WarehouseError):
            SparkTarget(bad)


def test_spark_kinds() -> None:
    cases = {
        "string": "string",
        "varchar(10)": "string",
        "bigint": "integer",
        "int": "integer",
        "double": "float",
        "decimal(10,2)": "float",
        "boolean": "boolean",
        "date": "date",
        "timestamp_ntz": "timestamp",
        "timestamp": "timestamptz",
        "array<string>": "other",
    }
    assert {raw: classify_spark_type(raw) for raw in cases} == cases


def test_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = spark_module.importlib.import_module

    def refuse(name: str, *args: Any) -> Any:
        if name.startswith("pyspark"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args)

    monkeypatch.setattr(spark_module.importlib, "import_module", refuse)
    with pytest.raises(WarehouseError) as info:
        open_adapter("spark://local")
    assert info.value.hint == "pip install 'segwise[spark]'"


def test_missing_java_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setattr(spark_module, "java_available", lambda: False)
    with pytest.raises(WarehouseError, match="needs Java") as info:
        open_adapter("spark://local[1]")
    assert "JAVA_HOME" in (info.value.hint or "")


def test_unreachable_spark_connect_fails_fast() -> None:
    pytest.importorskip("pyspark.sql.connect.session")
    with pytest.raises(WarehouseError, match="cannot reach the Spark Connect server") as info:
        open_adapter("sc://127.0.0.1:9/;user_id=me")
    assert "start-connect-server" in (info.value.hint or "")


# -- catalog and execution -------------------------------------------------------------------------


def test_columns_and_kinds(adapter: SparkAdapter) -> None:
    columns = adapter.columns(TableRef.parse("events"))
    assert [c.name for c in columns] == [
        "event_time", "event_type", "user_id", "price", "product-id", "qty", "flag", "brand"
    ]  # fmt: skip
    assert [c.kind for c in columns] == [
        "timestamp", "string", "string", "float", "string", "integer", "boolean", "string"
    ]  # fmt: skip
    assert adapter.columns(TableRef.parse("events_tz"))[0].kind == "timestamptz"
    with pytest.raises(CatalogError, match="no_such_table"):
        adapter.columns(TableRef.parse("no_such_table"))
    with pytest.raises(CatalogError):
        adapter.columns(TableRef.parse("no_such_db.events"))


def test_result_types(adapter: SparkAdapter) -> None:
    table = adapter.execute(
        "SELECT COUNT(*) AS n, MAX(event_time) AS t, MAX(event_time) AS t2, CAST(1.5 AS DECIMAL(4, 2)) AS d, "
        "CAST(2 AS INT) AS i, CAST(1.5 AS FLOAT) AS f, MAX(brand) AS s FROM events"
    )
    assert table.schema == pa.schema(
        [
            ("n", pa.int64()),
            ("t", pa.timestamp("us")),
            ("t2", pa.timestamp("us")),
            ("d", pa.float64()),
            ("i", pa.int64()),
            ("f", pa.float64()),
            ("s", pa.string()),
        ]
    )
    assert table.to_pylist()[0]["t"] == datetime(2024, 7, 1)


def test_commands_are_refused(adapter: SparkAdapter, spark: Any) -> None:
    for statement in (
        "CREATE TABLE intruder (x INT) USING parquet",
        "DROP VIEW events",
        "INSERT INTO events SELECT * FROM events",
        "SELECT 1; DROP VIEW events",
        "SET spark.sql.session.timeZone = America/New_York",
    ):
        with pytest.raises(WarehouseError, match="read-only"):
            adapter.execute(statement)
    assert adapter.execute("SELECT COUNT(*) AS n FROM events").to_pylist() == [{"n": 13}]
    assert not spark.catalog.tableExists("intruder")


def test_errors_are_warehouse_errors(adapter: SparkAdapter) -> None:
    with pytest.raises(WarehouseError, match="nosuch") as info:
        adapter.execute("SELECT nosuch FROM events")
    assert info.value.sqlstate == "42703"
    assert "at org.apache" not in str(info.value)


def test_a_second_master_in_one_process_is_refused(spark: Any) -> None:
    """Spark runs one SparkContext per process: a cluster URL is refused, not answered by the running one."""
    with pytest.raises(WarehouseError, match="already runs Spark on") as info:
        SparkAdapter("spark://127.0.0.1:1")
    assert "one SparkContext per process" in (info.value.hint or "")


def test_sessions_are_isolated(hand_url: str, spark: Any) -> None:
    """Each adapter has its own views, database and settings on the one SparkContext."""
    first, second = open_adapter(hand_url), open_adapter(hand_url)
    try:
        assert first._spark is not second._spark
        assert first._spark.sparkContext is second._spark.sparkContext
        assert first._spark.conf.get("spark.sql.session.timeZone") == "UTC"
        second.close()
        assert first.execute("SELECT COUNT(*) AS n FROM events").to_pylist() == [{"n": 13}]
    finally:
        first.close()


def test_catalog_tables_and_database_parameter(spark: Any, tmp_path: Path) -> None:
    tables = hand_tables()
    spark.sql("CREATE DATABASE IF NOT EXISTS segwise_catalog_test")
    for name in ("events", "users"):
        folder = tmp_path / name
        folder.mkdir()
        pq.write_table(tables[name], folder / "part-0.parquet")
        spark.sql(f"CREATE TABLE IF NOT EXISTS segwise_catalog_test.{name} USING parquet LOCATION '{folder}'")
    query = QUERIES["counts_month_breakdown"]
    try:
        by_database = _project("spark://local[2]?database=segwise_catalog_test")
        qualified = segwise.Project(
            warehouse="spark://local[2]",
            event_tables=[{"table": "segwise_catalog_test.events", "event_name": "event_type"}],
            user_tables=[{"table": "segwise_catalog_test.users"}],
        )
        # A directory is declared as a file table (`table:` itself never names a path).
        direct = segwise.Project(
            warehouse="spark://local[2]",
            event_tables=[
                {"table": "events", "file": str(tmp_path / "events" / "*.parquet"), "event_name": "event_type"}
            ],
        )
        with pytest.raises(ValueError, match="looks like a file"):
            segwise.Project(
                warehouse="spark://local[2]",
                event_tables=[{"table": f"parquet.{tmp_path / 'events'}", "event_name": "event_type"}],
            )
        try:
            first = by_database.run(query)
            assert first.num_rows > 0
            assert qualified.run(query) == first
            single = {**query, "breakdown": []}
            assert direct.run(single) == by_database.run(single)
        finally:
            for project in (by_database, qualified, direct):
                project.close()
    finally:
        spark.sql("DROP DATABASE segwise_catalog_test CASCADE")


@pytest.mark.parametrize("name", list(QUERIES))
def test_answers_match_duckdb(name: str, hand_url: str, tmp_path: Path) -> None:
    sp = _project(hand_url)
    try:
        assert_answers_match_duckdb(sp, {name: QUERIES[name]}, tmp_path)
    finally:
        sp.close()


# -- partition pruning on a date-partitioned Parquet directory ---------------------------------------


@pytest.fixture(scope="module")
def partitioned(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    """60 days of demo events under ``events/event_date=YYYY-MM-DD/`` (Hive-style directories)."""
    from segwise.demo.generate import generate_tables

    _, events = generate_tables(users=100, days=60, seed=5)
    root = tmp_path_factory.mktemp("spark-partitioned") / "events"
    pads.write_dataset(
        events,
        root,
        format="parquet",
        partitioning=pads.partitioning(pa.schema([("event_date", pa.date32())]), flavor="hive"),
    )
    return spark_url({"events": root}), len(list(root.iterdir()))


def _scan_metrics(adapter: SparkAdapter, sql: str) -> dict[str, int]:
    ((name, metrics),) = adapter.scan_metrics(sql)  # one scan: the events table
    assert name == "Scan parquet"
    return metrics


def test_partition_pruning_from_the_physical_plan(partitioned: tuple[str, int]) -> None:
    url, days = partitioned
    query = {
        "series": [{"event": "any", "measure": "unique_users"}],
        "date_range": {"from": "2025-01-10", "to": "2025-01-17"},
        "time_grain": "day",
    }
    declared = segwise.Project(
        warehouse=url, event_tables=[{"table": "events", "event_name": "event_name", "partition": PARTITION}]
    )
    undeclared = segwise.Project(warehouse=url, event_tables=[{"table": "events", "event_name": "event_name"}])
    try:
        sql = declared.compile(query)
        adapter = declared.adapter()
        assert isinstance(adapter, SparkAdapter)
        plan = adapter.explain(sql)
        partition_filters = next(line for line in plan.splitlines() if "PartitionFilters" in line)
        assert "event_date" in partition_filters
        assert ">= 2025-01-10" in partition_filters and "<= 2025-01-16" in partition_filters
        # whole UTC days over a day/date partition: the partition predicate is exact, so the
        # event time is neither filtered nor read (docs/planner.md, rule 2)
        assert "event_time" not in plan
        metrics = _scan_metrics(adapter, sql)
        assert days == 60
        assert metrics["numPartitions"] == 7  # of 60 date directories
        assert "numPartitions=7" in adapter.explain(sql, analyze=True)

        # without the declaration the time filter is still pushed into the Parquet reader
        # (row groups skipped by statistics), but every directory is listed and opened
        plain_sql = undeclared.compile(query)
        plain_plan = undeclared.adapter().explain(plain_sql)
        assert "PartitionFilters" not in plain_plan  # EXPLAIN FORMATTED leaves out an empty list
        assert "GreaterThanOrEqual(event_time,2025-01-10T00:00)" in plain_plan
        assert _scan_metrics(undeclared.adapter(), plain_sql)["numPartitions"] == 60  # type: ignore[arg-type]

        assert declared.run(query) == undeclared.run(query)
    finally:
        declared.close()
        undeclared.close()


def test_scan_metrics_under_adaptive_execution(partitioned: tuple[str, int]) -> None:
    """Spark's default (adaptive query execution) wraps the plan in AdaptiveSparkPlan and its
    query stages, which are leaves: the scans are inside them and still found."""
    url, _ = partitioned
    project = segwise.Project(
        warehouse=url, event_tables=[{"table": "events", "event_name": "event_name", "partition": PARTITION}]
    )
    try:
        query = {
            "series": [{"event": "any", "measure": "unique_users"}],
            "date_range": {"from": "2025-01-10", "to": "2025-01-17"},
            "time_grain": "day",
        }
        sql = project.compile(query)
        adapter = project.adapter()
        assert isinstance(adapter, SparkAdapter)
        adapter._spark.conf.set("spark.sql.adaptive.enabled", "true")  # this adapter's own session only
        frame = adapter._spark.sql(sql)
        frame.toArrow()
        assert str(frame._jdf.queryExecution().executedPlan().nodeName()) == "AdaptiveSparkPlan"
        assert _scan_metrics(adapter, sql)["numPartitions"] == 7  # of 60 date directories
    finally:
        project.close()


# -- the CLI: the same JSON as DuckDB ------------------------------------------------------------------


def test_cli_json_matches_duckdb(spark: Any, tmp_path: Path) -> None:
    from segwise.demo.generate import generate_tables

    users, events = generate_tables(users=150, days=40, seed=11)
    tables = {"events": events, "users": users}
    examples = Path(__file__).resolve().parents[1] / "examples"
    gallery = ["daily_active_users", "revenue_per_account_type", "signups_per_country", "weekly_active_users"]
    outputs: dict[str, list[str]] = {}
    for engine in ("duckdb", "spark"):
        (tmp_path / engine).mkdir()
        url = BACKENDS[engine].load(tables, tmp_path / engine, "demo")
        project = tmp_path / f"{engine}.yaml"
        event_table = {"table": "events", "event_name": "event_name", "partition": PARTITION}
        project.write_text(
            json.dumps({"warehouse": url, "event_tables": [event_table], "user_tables": [{"table": "users"}]})
        )
        outputs[engine] = []
        for name in gallery:
            args = ["run", str(examples / f"{name}.yaml"), "--project", str(project), "--format", "json"]
            result = CliRunner().invoke(main, [*args, "--now", "2025-02-05"])
            assert result.exit_code == 0, result.output
            outputs[engine].append(result.output)
    assert outputs["spark"] == outputs["duckdb"]
    assert all(json.loads(text) for text in outputs["duckdb"])


def test_import_segwise_does_not_start_spark() -> None:
    code = "import sys, segwise, segwise.adapters.spark; assert 'pyspark' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_dates_in_results(adapter: SparkAdapter) -> None:
    table = adapter.execute("SELECT CAST('2024-02-29' AS DATE) AS d")
    assert table.to_pylist() == [{"d": date(2024, 2, 29)}]


# -- Spark Connect: a real server (tests/spark_connect.py) -------------------------------------------


def test_spark_connect_answers_match_duckdb(connect_server: ConnectServer, tmp_path: Path) -> None:  # noqa: F811
    """``sc://`` URLs: the same answers, catalog and errors through a Spark Connect server."""
    tables = hand_tables()
    views = {}
    for name in ("events", "users"):
        (tmp_path / name).mkdir()
        pq.write_table(tables[name], tmp_path / name / "part-0.parquet")
        views[name] = tmp_path / name
    query_string = "&".join(f"parquet.{name}={path}" for name, path in views.items())
    remote = _project(f"{connect_server.url}/;user_id=segwise-tests?{query_string}")
    try:
        assert_answers_match_duckdb(remote, QUERIES, tmp_path)
        adapter = remote.adapter()
        assert isinstance(adapter, SparkAdapter) and adapter.target.connect
        assert "Scan parquet" in adapter.explain(remote.compile(QUERIES["sum_week"]))
        with pytest.raises(CatalogError):
            adapter.columns(TableRef.parse("no_such_table"))
        with pytest.raises(WarehouseError, match="nosuch"):
            adapter.execute("SELECT nosuch FROM events")
        with pytest.raises(WarehouseError, match="read-only"):
            adapter.execute("DROP VIEW events")
    finally:
        remote.close()
