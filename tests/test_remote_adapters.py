"""Snowflake, BigQuery and Flight SQL over ADBC, up to the driver boundary (no live service here)."""

from __future__ import annotations

import pyarrow as pa
import pytest

import segwise
from segwise.adapters.remote import (
    BigQueryAdapter,
    FlightSqlAdapter,
    SnowflakeAdapter,
    bigquery_location,
    flightsql_dialect,
    kind_of,
)
from segwise.registry import adapter_classes


def test_schemes_map_to_the_adapters() -> None:
    classes = adapter_classes()
    assert classes["snowflake"] is SnowflakeAdapter
    assert classes["bigquery"] is BigQueryAdapter
    assert classes["grpc"] is FlightSqlAdapter and classes["grpc+tls"] is FlightSqlAdapter


@pytest.mark.parametrize(
    ("arrow", "kind"),
    [
        (pa.timestamp("us"), "timestamp"),
        (pa.timestamp("ns", tz="UTC"), "timestamptz"),
        (pa.date32(), "date"),
        (pa.bool_(), "boolean"),
        (pa.int64(), "integer"),
        (pa.uint32(), "integer"),
        (pa.float64(), "float"),
        (pa.decimal128(38, 2), "float"),
        (pa.string(), "string"),
        (pa.large_string(), "string"),
        (pa.list_(pa.int64()), "other"),
    ],
)
def test_arrow_types_classify(arrow: pa.DataType, kind: str) -> None:
    assert kind_of(arrow) == kind


def test_url_parsing() -> None:
    assert bigquery_location("bigquery://my-project/analytics") == ("my-project", "analytics")
    assert bigquery_location("bigquery://my-project") == ("my-project", None)
    with pytest.raises(segwise.WarehouseError, match="names the project"):
        bigquery_location("bigquery:///analytics")
    assert flightsql_dialect("grpc://localhost:31337") == "duckdb"
    assert flightsql_dialect("grpc+tls://host:443?dialect=trino") == "trino"
    with pytest.raises(segwise.WarehouseError, match="unknown SQL dialect 'nosuch'"):
        flightsql_dialect("grpc://h:1?dialect=nosuch")


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("snowflake://me:secret@acct/db/schema?warehouse=wh", "snowflake"),
        ("bigquery://proj/ds", "bigquery"),
        ("grpc://127.0.0.1:1", "flightsql"),
    ],
)
def test_missing_driver_names_the_extra_and_hides_passwords(url: str, extra: str, tmp_path) -> None:
    """With the driver installed this is a connection error instead; either way, a clear message."""
    project = segwise.Project(warehouse=url, event_tables=[{"table": "events", "event_name": "event_name"}])
    with pytest.raises(segwise.WarehouseError) as info:
        project.adapter()
    text = str(info.value) + (info.value.hint or "")
    assert f"segwise[{extra}]" in text or "cannot connect" in text
    assert "secret" not in text


def test_snowflake_column_names_fold_to_the_project_spelling() -> None:
    adapter = SnowflakeAdapter.__new__(SnowflakeAdapter)
    assert adapter.column_name("USER_ID") == "user_id"
    assert adapter.column_name("MixedCase") == "MixedCase"
    assert adapter.column_name("PRODUCT-ID") == "PRODUCT-ID"
