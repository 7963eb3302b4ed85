"""Render-only SQL flavors for warehouses segwise can write SQL for without a live connection."""

from __future__ import annotations

from typing import ClassVar

from segwise.hookspecs import hookimpl

from .base import SqlFlavor


class SnowflakeFlavor(SqlFlavor):
    name: ClassVar[str] = "snowflake"
    dialect: ClassVar[str] = "snowflake"


class BigQueryFlavor(SqlFlavor):
    name: ClassVar[str] = "bigquery"
    dialect: ClassVar[str] = "bigquery"


class RedshiftFlavor(SqlFlavor):
    name: ClassVar[str] = "redshift"
    dialect: ClassVar[str] = "redshift"


class TrinoFlavor(SqlFlavor):
    name: ClassVar[str] = "trino"
    dialect: ClassVar[str] = "trino"


class ClickHouseFlavor(SqlFlavor):
    name: ClassVar[str] = "clickhouse"
    dialect: ClassVar[str] = "clickhouse"


class DatabricksFlavor(SqlFlavor):
    name: ClassVar[str] = "databricks"
    dialect: ClassVar[str] = "databricks"


class PostgresFlavor(SqlFlavor):
    name: ClassVar[str] = "postgres"
    dialect: ClassVar[str] = "postgres"


@hookimpl
def segwise_dialects() -> list[type[SqlFlavor]]:
    return [
        SnowflakeFlavor,
        BigQueryFlavor,
        RedshiftFlavor,
        TrinoFlavor,
        ClickHouseFlavor,
        DatabricksFlavor,
        PostgresFlavor,
    ]
