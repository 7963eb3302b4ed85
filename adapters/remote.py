"""Cloud warehouses over their ADBC drivers: Snowflake, BigQuery and any Arrow Flight SQL server.

Each holds a flavor from ``dialects.py`` (the SQL it needs) and an ADBC connection.
The drivers are optional extras (``segwise[snowflake]``, ``segwise[bigquery]``,
``segwise[flightsql]``) imported on first connect. Catalog introspection uses ADBC's own
``adbc_get_table_schema`` (the driver asks the warehouse), so no catalog SQL is written by hand;
column kinds come from the Arrow types.

URLs:

* ``snowflake://user:password@account/database/schema?warehouse=WH&role=ROLE`` (the driver's DSN)
* ``bigquery://project/dataset`` (credentials from the environment, as Google's libraries do)
* ``grpc://host:port?dialect=duckdb`` / ``grpc+tls://...`` (a Flight SQL server; ``dialect`` names
  the sqlglot dialect it speaks, default ``duckdb``)

These adapters are exercised in the tests up to the driver boundary (URL parsing, flavors, type
mapping, the missing-driver message); no live Snowflake/BigQuery/Flight SQL service runs here.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import pyarrow as pa

from segwise.errors import CatalogError, WarehouseError
from segwise.hookspecs import hookimpl

from .adbc import driver_message, import_driver, redact, sqlstate_of
from .base import Adapter, ColumnInfo, SqlFlavor, TableRef
from .dialects import BigQueryFlavor, SnowflakeFlavor

if TYPE_CHECKING:
    from types import ModuleType


def kind_of(arrow_type: pa.DataType) -> str:
    """segwise's logical kind of an Arrow column type."""
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    return "other"


class RemoteAdbcAdapter(Adapter):
    """Shared connection handling; subclasses give the driver module and connect arguments."""

    driver_module: ClassVar[str] = ""
    extra: ClassVar[str] = ""

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        super().__init__(url, base_dir)
        self._lock = threading.Lock()
        driver = import_driver(self.driver_module, self.name, self.extra)
        try:
            self._con = self.connect(driver)
        except Exception as exc:
            raise WarehouseError(
                f"cannot connect to {self.name}: {driver_message(exc)}", where=redact(url), sqlstate=sqlstate_of(exc)
            ) from exc

    def connect(self, driver: ModuleType) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        self._con.close()

    def execute(self, sql: str) -> pa.Table:
        with self._lock, self._con.cursor() as cursor:
            try:
                cursor.execute(sql)
                return cursor.fetch_arrow_table()
            except Exception as exc:
                raise WarehouseError(
                    f"{self.name} failed: {driver_message(exc)}", where=redact(self.url), sqlstate=sqlstate_of(exc)
                ) from exc

    def columns(self, table: TableRef) -> list[ColumnInfo]:
        *prefix, name = table.parts
        schema = prefix[-1] if prefix else None
        catalog = prefix[-2] if len(prefix) >= 2 else None
        try:
            with self._lock:
                arrow_schema = self._con.adbc_get_table_schema(name, catalog_filter=catalog, db_schema_filter=schema)
        except Exception as exc:
            raise CatalogError(
                f"table {str(table)!r} not found or not readable in {self.name}: {driver_message(exc)}",
                where=redact(self.url),
            ) from exc
        return [ColumnInfo(self.column_name(f.name), str(f.type), kind_of(f.type)) for f in arrow_schema]

    def column_name(self, name: str) -> str:
        return name


class SnowflakeAdapter(RemoteAdbcAdapter):
    name: ClassVar[str] = "snowflake"
    schemes: ClassVar[tuple[str, ...]] = ("snowflake",)
    flavor_class: ClassVar[type[SqlFlavor]] = SnowflakeFlavor
    driver_module: ClassVar[str] = "adbc_driver_snowflake.dbapi"
    extra: ClassVar[str] = "snowflake"

    def connect(self, driver: ModuleType) -> Any:
        dsn = self.url.split("://", 1)[1]
        return driver.connect(dsn, autocommit=True)

    def column_name(self, name: str) -> str:
        # Snowflake stores unquoted names in upper case; the flavor upper-cases simple lower-case
        # names when rendering, so the project file can say `user_id` for USER_ID.
        return name.lower() if name.isupper() and name.replace("_", "").isalnum() else name


class BigQueryAdapter(RemoteAdbcAdapter):
    name: ClassVar[str] = "bigquery"
    schemes: ClassVar[tuple[str, ...]] = ("bigquery",)
    flavor_class: ClassVar[type[SqlFlavor]] = BigQueryFlavor
    driver_module: ClassVar[str] = "adbc_driver_bigquery.dbapi"
    extra: ClassVar[str] = "bigquery"

    def connect(self, driver: ModuleType) -> Any:
        project, dataset = bigquery_location(self.url)
        kwargs = {"adbc.bigquery.sql.project_id": project}
        if dataset:
            kwargs["adbc.bigquery.sql.dataset_id"] = dataset
        return driver.connect(db_kwargs=kwargs, autocommit=True)


def bigquery_location(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url)
    dataset = unquote(parts.path.strip("/")) or None
    if not parts.netloc:
        raise WarehouseError(f"a BigQuery URL names the project: bigquery://project/dataset, not {url!r}")
    return unquote(parts.netloc), dataset


class FlightSqlFlavor(SqlFlavor):
    """The SQL of a Flight SQL server: sqlglot's rendering in the dialect its URL names.

    Rendered offline (``--dialect flightsql``) it is sqlglot's generic SQL; the adapter gives
    each instance the URL's ``?dialect=``.
    """

    name: ClassVar[str] = "flightsql"

    def __init__(self, dialect: str = "") -> None:
        self.dialect = dialect  # type: ignore[misc]


class FlightSqlAdapter(RemoteAdbcAdapter):
    """Any Arrow Flight SQL server; ``?dialect=`` says which SQL it speaks (default duckdb)."""

    name: ClassVar[str] = "flightsql"
    schemes: ClassVar[tuple[str, ...]] = ("grpc", "grpc+tls", "grpc+tcp")
    flavor_class: ClassVar[type[SqlFlavor]] = FlightSqlFlavor
    driver_module: ClassVar[str] = "adbc_driver_flightsql.dbapi"
    extra: ClassVar[str] = "flightsql"

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        dialect = flightsql_dialect(url)  # a bad ?dialect= fails before the driver is needed
        super().__init__(url, base_dir)
        self.flavor = FlightSqlFlavor(dialect)

    def connect(self, driver: ModuleType) -> Any:
        parts = urlsplit(self.url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "dialect"]
        target = (
            f"{parts.scheme}://{parts.hostname}:{parts.port}" if parts.port else f"{parts.scheme}://{parts.hostname}"
        )
        kwargs = dict(query)
        if parts.username:
            kwargs["username"] = unquote(parts.username)
        if parts.password:
            kwargs["password"] = unquote(parts.password)
        return driver.connect(target, db_kwargs=kwargs, autocommit=True)


def flightsql_dialect(url: str) -> str:
    dialect = dict(parse_qsl(urlsplit(url).query)).get("dialect", "duckdb")
    from sqlglot.dialects.dialect import Dialect

    try:
        Dialect.get_or_raise(dialect)
    except ValueError:
        raise WarehouseError(f"unknown SQL dialect {dialect!r} in the Flight SQL URL {redact(url)!r}") from None
    return dialect


@hookimpl
def segwise_adapters() -> list[type[Adapter]]:
    return [SnowflakeAdapter, BigQueryAdapter, FlightSqlAdapter]
