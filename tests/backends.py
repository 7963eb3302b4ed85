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


BACKENDS: dict[str, Backend] = {
    "duckdb": DuckDBBackend(),
    "sqlite": SQLiteBackend(),
    "postgresql": PostgresBackend(),
}
