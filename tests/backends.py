"""Loading test data into each live engine.

A backend takes named pyarrow tables, stores them in its engine, and returns the warehouse URL
for a project. The shared suite is parametrized over ``BACKENDS``; each engine's own setup
(files, servers) lives here so that tests stay engine-agnostic.

Every engine gets tables with the same declared types (``column_types``): ``BIGINT``,
``DOUBLE PRECISION``, ``BOOLEAN``, ``TEXT``, ``DATE``, ``TIMESTAMP`` / ``TIMESTAMPTZ``. SQLite stores
timestamps as text in one canonical form, Python's ``str(datetime)`` (UTC for time-zone-aware
columns): ``YYYY-MM-DD HH:MM:SS`` plus ``.ffffff`` when there are microseconds.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa


class Backend:
    name: str = ""

    def load(self, tables: dict[str, pa.Table], directory: Path, dataset: str) -> str:
        """Store ``tables`` (name -> Arrow table) and return the warehouse URL."""
        raise NotImplementedError


# -- shared: declared types and Arrow normalisation ----------------------------------------------


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_type(arrow_type: pa.DataType) -> str:
    """The declared SQL type for an Arrow column (the same names on every engine)."""
    if pa.types.is_dictionary(arrow_type):
        return sql_type(arrow_type.value_type)
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE PRECISION"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "TEXT"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    raise TypeError(f"no test mapping for the Arrow type {arrow_type}")


def create_table_sql(name: str, schema: pa.Schema, qualifier: str | None = None) -> str:
    columns = ", ".join(f"{quote(f.name)} {sql_type(f.type)}" for f in schema)
    target = f"{quote(qualifier)}.{quote(name)}" if qualifier else quote(name)
    return f"CREATE TABLE {target} ({columns})"


def plain_types(table: pa.Table) -> pa.Table:
    """Dictionaries decoded, ints as int64, floats as float64, strings as string, times in µs."""
    columns = []
    for column in table.columns:
        t = column.type
        if pa.types.is_dictionary(t):
            column = column.cast(t.value_type)
            t = t.value_type
        if pa.types.is_integer(t):
            column = column.cast(pa.int64())
        elif pa.types.is_floating(t):
            column = column.cast(pa.float64())
        elif pa.types.is_large_string(t):
            column = column.cast(pa.string())
        elif pa.types.is_timestamp(t):
            column = column.cast(pa.timestamp("us", tz=t.tz))
        elif pa.types.is_date(t):
            column = column.cast(pa.date32())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def canonical_text(value: datetime | None) -> str | None:
    """SQLite's stored form of a timestamp: ``str()`` of the naive UTC datetime."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return str(value)


def sqlite_ready(table: pa.Table) -> pa.Table:
    """Timestamps and dates as canonical text, booleans as 0/1 (what SQLite stores anyway)."""
    table = plain_types(table)
    columns: list[Any] = []
    for column in table.columns:
        t = column.type
        if pa.types.is_timestamp(t):
            column = pa.array([canonical_text(v) for v in column.to_pylist()], type=pa.string())
        elif pa.types.is_date(t):
            column = column.cast(pa.string())
        elif pa.types.is_boolean(t):
            column = column.cast(pa.int64())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


# -- DuckDB ---------------------------------------------------------------------------------------


class DuckDBBackend(Backend):
    name = "duckdb"

    def load(self, tables: dict[str, pa.Table], directory: Path, dataset: str) -> str:
        path = directory / f"{dataset}.duckdb"
        if not path.exists():
            con = duckdb.connect(str(path))
            for table_name, table in tables.items():
                con.register("_incoming", table)
                con.execute(f'CREATE TABLE "{table_name}" AS SELECT * FROM _incoming')
                con.unregister("_incoming")
            con.close()
        return f"duckdb:///{path}"


# -- SQLite ---------------------------------------------------------------------------------------


class SQLiteBackend(Backend):
    """A file ``<directory>/<dataset>.sqlite``: typed tables, then a bulk ``adbc_ingest``."""

    name = "sqlite"

    def load(self, tables: dict[str, pa.Table], directory: Path, dataset: str) -> str:
        import adbc_driver_sqlite.dbapi as sqlite

        path = directory / f"{dataset}.sqlite"
        if not path.exists():
            partial = directory / f"{dataset}.sqlite.loading"
            partial.unlink(missing_ok=True)
            with sqlite.connect(str(partial)) as con:
                with con.cursor() as cur:
                    for table_name, table in tables.items():
                        cur.execute(create_table_sql(table_name, table.schema))
                        cur.adbc_ingest(table_name, sqlite_ready(table), mode="append")
                con.commit()
            partial.rename(path)
        return f"sqlite:///{path}"  # an absolute path: sqlite:////tmp/...


# -- PostgreSQL -----------------------------------------------------------------------------------


def schema_for(dataset: str, directory: Path) -> str:
    """One schema per (directory, dataset), like one DuckDB file per directory and dataset."""
    slug = re.sub(r"[^a-z0-9]+", "_", dataset.lower()).strip("_")[:40] or "dataset"
    digest = hashlib.sha1(f"{directory.resolve()}|{dataset}|{os.getpid()}".encode()).hexdigest()[:10]
    return f"t_{slug}_{digest}"


def with_search_path(dsn: str, schema: str) -> str:
    """The DSN with ``options=-c search_path=<schema>`` (libpq decodes %XX in URI parameters)."""
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}options=-c%20search_path%3D{schema}"


class PostgresBackend(Backend):
    """A schema per dataset on the session's server (see ``tests/pg.py``), started on first use.

    The URL sets ``search_path`` to the dataset's schema, so projects name tables unqualified.
    Skips the test when no server can be had (fails with ``SEGWISE_REQUIRE_POSTGRES=1``).
    """

    name = "postgresql"

    def __init__(self) -> None:
        self._urls: dict[tuple[str, str], str] = {}
        self._schemas: list[str] = []

    def load(self, tables: dict[str, pa.Table], directory: Path, dataset: str) -> str:
        key = (str(directory.resolve()), dataset)
        if key in self._urls:
            return self._urls[key]
        import adbc_driver_postgresql.dbapi as pg

        from tests.pg import get_server, postgres_dsn

        dsn = postgres_dsn()
        external = get_server().origin == "env"  # a throwaway server is deleted whole at exit
        schema = schema_for(dataset, directory)
        with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")
            cur.execute(f"CREATE SCHEMA {quote(schema)}")
            if external and not self._schemas:
                atexit.register(self._drop_schemas, dsn)
            self._schemas.append(schema)
            for table_name, table in tables.items():
                cur.execute(create_table_sql(table_name, table.schema, schema))
                cur.adbc_ingest(table_name, plain_types(table), mode="append", db_schema_name=schema)
        url = with_search_path(dsn, schema)
        self._urls[key] = url
        return url

    def _drop_schemas(self, dsn: str) -> None:
        """At exit, before the server stops (atexit runs last-registered first)."""
        import adbc_driver_postgresql.dbapi as pg

        with contextlib.suppress(Exception), pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
            for schema in self._schemas:
                cur.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")


# -- ClickHouse (embedded: chDB) -------------------------------------------------------------------


def clickhouse_type(field: pa.Field, nullable: bool) -> str:
    """The ClickHouse column type for an Arrow field (``DateTime64(6)`` naive, ``(6, 'UTC')`` aware)."""
    t = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
    if pa.types.is_boolean(t):
        name = "Bool"
    elif pa.types.is_integer(t):
        name = "Int64"
    elif pa.types.is_floating(t):
        name = "Float64"
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        name = "String"
    elif pa.types.is_date(t):
        name = "Date32"
    elif pa.types.is_timestamp(t):
        name = "DateTime64(6, 'UTC')" if t.tz else "DateTime64(6)"
    else:
        raise TypeError(f"no test mapping for the Arrow type {t}")
    return f"Nullable({name})" if nullable else name


def clickhouse_ident(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


class ChdbBackend(Backend):
    """Embedded ClickHouse (chDB): one session directory per process, a database per dataset.

    chDB runs one embedded server per process on one directory, so every dataset of the process
    lives in that directory, each in its own database (``chdb:////dir?database=NAME``). Event
    tables are MergeTree tables partitioned by month and ordered by time, as a ClickHouse user
    would lay them out; others are ordered by nothing. Skips when chdb is not installed.
    """

    name = "chdb"

    def __init__(self) -> None:
        self._directory: Path | None = None
        self._urls: dict[tuple[str, str], str] = {}

    def directory(self) -> Path:
        if self._directory is None:
            import shutil
            import tempfile

            self._directory = Path(tempfile.mkdtemp(prefix="segwise-chdb-"))
            atexit.register(shutil.rmtree, self._directory, True)
        return self._directory

    def load(self, tables: dict[str, pa.Table], directory: Path, dataset: str) -> str:
        key = (str(directory.resolve()), dataset)
        if key in self._urls:
            return self._urls[key]
        import pytest

        pytest.importorskip("chdb", reason="chdb is not installed (pip install 'segwise[clickhouse]')")
        import chdb.session
        import pyarrow.parquet as pq

        database = schema_for(dataset, directory)
        session = chdb.session.Session(str(self.directory()))
        try:
            session.query("SET session_timezone = 'UTC'")
            session.query(f"DROP DATABASE IF EXISTS {clickhouse_ident(database)}")
            session.query(f"CREATE DATABASE {clickhouse_ident(database)}")
            for table_name, table in tables.items():
                table = plain_types(table)
                columns = ", ".join(
                    f"{clickhouse_ident(f.name)} {clickhouse_type(f, table.column(f.name).null_count > 0)}"
                    for f in table.schema
                )
                timed = "event_time" in table.column_names and table.column("event_time").null_count == 0
                layout = "PARTITION BY toYYYYMM(event_time) ORDER BY event_time" if timed else "ORDER BY tuple()"
                target = f"{clickhouse_ident(database)}.{clickhouse_ident(table_name)}"
                session.query(f"CREATE TABLE {target} ({columns}) ENGINE = MergeTree {layout}")
                parquet = directory / f"{dataset}.{table_name}.chdb.parquet"
                pq.write_table(table, parquet)
                session.query(f"INSERT INTO {target} SELECT * FROM file('{parquet}', Parquet)")
        finally:
            session.close()
        url = f"chdb:///{self.directory()}?database={database}"
        self._urls[key] = url
        return url


# -- Spark (local mode) -------------------------------------------------------------------------------

SPARK_TEST_CONFIG = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "1g",
    "spark.sql.adaptive.enabled": "false",  # tiny data: re-planning costs more than it saves
    "spark.sql.codegen.wholeStage": "false",
}
# local[2], or a standalone cluster's master (tests/test_spark_cluster.py runs part of the suite so)
SPARK_MASTER = os.environ.get("SEGWISE_SPARK_MASTER") or "local[2]"


def spark_session() -> Any:
    """The process's one SparkSession (started on first use, shared by every test and adapter).

    Skips when PySpark or Java is missing; with ``SEGWISE_REQUIRE_SPARK=1`` (CI) that fails instead.
    """
    import pytest

    required = os.environ.get("SEGWISE_REQUIRE_SPARK") == "1"

    def unavailable(reason: str) -> None:
        if required:
            pytest.fail(f"{reason}, and SEGWISE_REQUIRE_SPARK=1", pytrace=False)
        pytest.skip(reason)

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        unavailable("PySpark is not installed (pip install 'segwise[spark]')")
    from segwise.adapters.spark import java_available

    if not java_available():
        unavailable("Spark needs Java 17+ and there is none here (no JAVA_HOME, no java on PATH)")
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(SPARK_MASTER).appName("segwise-tests")
    config = dict(SPARK_TEST_CONFIG)
    if SPARK_MASTER.startswith("spark://"):
        from tests.spark_cluster import CLUSTER_CONFIG

        config.update(CLUSTER_CONFIG)
    for key, value in config.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("FATAL")  # failing-query tests would log JVM stack traces
    return spark


def spark_url(views: dict[str, Path], **options: str) -> str:
    from urllib.parse import quote

    params = [f"parquet.{name}={quote(str(path), safe='/')}" for name, path in views.items()]
    params += [f"{key}={quote(value, safe='')}" for key, value in options.items()]
    master = SPARK_MASTER.removeprefix("spark://")
    return f"spark://{master}?" + "&".join(params)


class SparkBackend(Backend):
    """Spark in local mode: each table a Parquet directory, named in the URL (``parquet.NAME=PATH``).

    One SparkSession per process (``spark_session``); each project's adapter works in its own
    ``newSession()`` of it.
    """

    name = "spark"

    def load(self, tables: dict[str, pa.Table], directory: Path, dataset: str) -> str:
        import pyarrow.parquet as pq

        spark_session()
        views = {}
        for table_name, table in tables.items():
            folder = directory / f"{dataset}.spark" / table_name
            if not folder.exists():
                folder.mkdir(parents=True)
                pq.write_table(plain_types(table), folder / "part-0.parquet")
            views[table_name] = folder
        return spark_url(views)


BACKENDS: dict[str, Backend] = {
    "duckdb": DuckDBBackend(),
    "sqlite": SQLiteBackend(),
    "postgresql": PostgresBackend(),
    "chdb": ChdbBackend(),
    "spark": SparkBackend(),
}
