"""The ClickHouse adapters: embedded chDB and the clickhouse-connect client.

The shared suite (``test_segmentation.py`` and friends) runs on chDB through ``tests.backends``;
this module covers what is particular to ClickHouse: URLs, the one-directory-per-process rule of
chDB, catalog, result types (``UInt64`` counts, ``DateTime`` as seconds), read-only sessions,
pruning with the partition and primary keys, the clickhouse-connect path, and ``segwise run``
printing the same JSON as DuckDB.

There is no ClickHouse server on these machines (Debian's package is release 18.16), so the
clickhouse-connect adapter is exercised with clickhouse-connect's in-process chDB transport: the
same client API (``query_arrow``, bound parameters, per-request settings, error types) minus the
HTTP wire.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

import segwise
from segwise.adapters.base import TableRef
from segwise.adapters.clickhouse import (
    ChdbAdapter,
    ClickHouseAdapter,
    classify_clickhouse_type,
    client_settings,
    http_options,
    session_path,
)
from segwise.adapters.dialects import ClickHouseFlavor
from segwise.cli import main
from segwise.errors import CatalogError, WarehouseError
from segwise.registry import adapter_classes, open_adapter
from tests.adapters.hand import assert_answers_match_duckdb, hand_tables
from tests.backends import BACKENDS, schema_for

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("chdb") is None, reason="chdb is not installed (pip install 'segwise[clickhouse]')"
)

RANGE = {"from": "2024-01-01", "to": "2024-07-01"}


@pytest.fixture(scope="module")
def hand_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return BACKENDS["chdb"].load(hand_tables(), tmp_path_factory.mktemp("ch-hand"), "hand")


@pytest.fixture
def chdb_adapter(hand_url: str) -> Any:
    adapter = open_adapter(hand_url)
    yield adapter
    adapter.close()


def _project(url: str, table: str = "events") -> segwise.Project:
    return segwise.Project(
        warehouse=url, event_tables=[{"table": table, "event_name": "event_type"}], user_tables=[{"table": "users"}]
    )


# -- registration and URLs --------------------------------------------------------------------------


def test_registered_by_scheme() -> None:
    classes = adapter_classes()
    assert classes["chdb"] is ChdbAdapter
    assert classes["clickhouse"] is ClickHouseAdapter
    assert classes["clickhouses"] is ClickHouseAdapter
    assert ChdbAdapter.flavor_class is ClickHouseAdapter.flavor_class is ClickHouseFlavor
    assert ClickHouseFlavor.dialect == "clickhouse"


def test_import_segwise_does_not_import_the_drivers() -> None:
    code = (
        "import sys, segwise; from segwise.registry import adapter_classes; adapter_classes(); "
        "loaded = [m for m in ('chdb', 'clickhouse_connect', 'pyspark') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def refuse(name: str, *args: Any) -> Any:
        if name.startswith(("chdb", "clickhouse_connect")):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", refuse)
    for url in ("chdb:///:memory:", "clickhouse://localhost:1/db"):
        with pytest.raises(WarehouseError) as info:
            open_adapter(url)
        assert info.value.hint == "pip install 'segwise[clickhouse]'"


def test_chdb_paths(tmp_path: Path) -> None:
    assert session_path("chdb:///data/ch", tmp_path) == (str(tmp_path / "data/ch"), {})
    assert session_path("chdb:////abs/ch?database=x", None) == ("/abs/ch", {"database": "x"})
    assert session_path("chdb:///:memory:", None)[0] == ":memory:"
    assert session_path("chdb://", None)[0] == ":memory:"
    with pytest.raises(WarehouseError, match="no host"):
        session_path("chdb://host/dir", None)
    with pytest.raises(WarehouseError, match="unknown chdb URL parameter"):
        session_path("chdb:////abs?readonly=0", None)
    with pytest.raises(WarehouseError, match="not found") as info:
        ChdbAdapter(f"chdb:///{tmp_path}/missing")
    assert "four slashes" in (info.value.hint or "")


def test_http_options() -> None:
    options = http_options("clickhouse://ann:s%40cret@ch.example:9000/analytics?max_execution_time=30&compress=false")
    assert options["host"] == "ch.example"
    assert options["port"] == 9000
    assert (options["username"], options["password"]) == ("ann", "s@cret")
    assert options["database"] == "analytics"
    assert options["secure"] is False
    assert options["compress"] is False
    assert options["settings"] == {
        "max_execution_time": "30",
        "session_timezone": "UTC",
        "join_use_nulls": "1",
        "max_query_size": "67108864",
        "readonly": "1",
    }
    assert list(options["settings"])[-1] == "readonly"  # applied with the others, frozen after
    secure = http_options("clickhouses://ch.example")
    assert (secure["secure"], secure["port"], secure["username"]) == (True, 8443, "default")
    assert "database" not in secure
    assert http_options("clickhouse://h?secure=true")["port"] == 8443


def test_unreachable_server_is_a_warehouse_error() -> None:
    with pytest.raises(WarehouseError) as info:
        ClickHouseAdapter("clickhouse://default:pw@127.0.0.1:9/db?connect_timeout=2")
    assert "cannot connect to ClickHouse" in str(info.value)
    assert "pw" not in str(info.value)  # the password is redacted from messages
    assert "8123" in (info.value.hint or "")


def test_type_kinds() -> None:
    cases = {
        "LowCardinality(Nullable(String))": "string",
        "Nullable(Int64)": "integer",
        "UInt64": "integer",
        "Float32": "float",
        "Decimal(18, 2)": "float",
        "Bool": "boolean",
        "Date32": "date",
        "DateTime": "timestamp",
        "DateTime64(6)": "timestamp",
        "DateTime('Europe/Berlin')": "timestamptz",
        "Nullable(DateTime64(3, 'UTC'))": "timestamptz",
        "Enum8('a' = 1)": "string",
        "Array(String)": "other",
    }
    assert {raw: classify_clickhouse_type(raw) for raw in cases} == cases


# -- chDB: catalog, types, read-only ----------------------------------------------------------------


def test_columns_and_kinds(chdb_adapter: ChdbAdapter) -> None:
    columns = chdb_adapter.columns(TableRef.parse("events"))
    assert [c.name for c in columns] == [
        "event_time", "event_type", "user_id", "price", "product-id", "qty", "flag", "brand"
    ]  # fmt: skip
    assert [c.kind for c in columns] == [
        "timestamp", "string", "string", "float", "string", "integer", "boolean", "string"
    ]  # fmt: skip
    assert chdb_adapter.columns(TableRef.parse("events_tz"))[0].kind == "timestamptz"
    database = chdb_adapter.current_database()
    assert chdb_adapter.columns(TableRef.parse(f"{database}.users"))[0].name == "user_id"


def test_missing_tables_are_catalog_errors(chdb_adapter: ChdbAdapter) -> None:
    with pytest.raises(CatalogError, match="no_such_table"):
        chdb_adapter.columns(TableRef.parse("no_such_table"))
    with pytest.raises(CatalogError):
        chdb_adapter.columns(TableRef.parse("no_such_db.events"))
    with pytest.raises(CatalogError, match="two parts"):
        chdb_adapter.columns(TableRef.parse("a.b.c"))
    with pytest.raises(WarehouseError, match="UNKNOWN_TABLE") as info:
        chdb_adapter.execute("SELECT * FROM no_such_table")
    assert info.value.sqlstate == "60"  # ClickHouse's error code, kept as the state


def test_result_types_are_segwise_types(chdb_adapter: ChdbAdapter) -> None:
    table = chdb_adapter.execute(
        "SELECT count() AS n, toStartOfDay(max(event_time), 'UTC') AS day, max(event_time) AS t64, "
        "toDateTime('2024-03-01 12:30:00', 'Asia/Tokyo') AS tokyo, toDate('2024-02-29') AS d, "
        "true AS b, toUInt32(7) AS u, toUInt8(200) AS u8, sum(qty) AS s, toDecimal64(1.25, 2) AS dec, "
        "toLowCardinality('x') AS lc FROM events"
    )
    assert table.schema == pa.schema(
        [
            ("n", pa.int64()),
            ("day", pa.timestamp("us")),
            ("t64", pa.timestamp("us")),
            ("tokyo", pa.timestamp("us")),
            ("d", pa.date32()),
            ("b", pa.bool_()),
            ("u", pa.int64()),
            ("u8", pa.int64()),
            ("s", pa.int64()),
            ("dec", pa.float64()),
            ("lc", pa.string()),
        ]
    )
    row = table.to_pylist()[0]
    assert row["n"] == 13
    assert row["day"] == datetime(2024, 7, 1)
    assert row["t64"] == datetime(2024, 7, 1)
    assert row["tokyo"] == datetime(2024, 3, 1, 3, 30)  # an instant: shown as its UTC wall clock
    assert (row["d"], row["b"], row["u"], row["u8"], row["dec"]) == (date(2024, 2, 29), True, 7, 200, 1.25)


def test_empty_results_keep_their_columns(chdb_adapter: ChdbAdapter) -> None:
    table = chdb_adapter.execute(
        "SELECT toStartOfDay(event_time, 'UTC') AS b, count() AS n FROM events WHERE 0 GROUP BY b"
    )
    assert table.num_rows == 0
    assert table.schema == pa.schema([("b", pa.timestamp("us")), ("n", pa.int64())])


def test_sessions_are_read_only(chdb_adapter: ChdbAdapter) -> None:
    before = chdb_adapter.execute("SELECT count() AS n FROM events").column(0)[0].as_py()
    for statement in (
        "INSERT INTO events (event_type, user_id) VALUES ('x', 'intruder')",
        "CREATE TABLE intruder (x Int8) ENGINE = Memory",
        "SET readonly = 0",
        "SELECT 1 AS x SETTINGS readonly = 0",
    ):
        with pytest.raises(WarehouseError, match="read-only") as info:
            chdb_adapter.execute(statement)
        assert info.value.sqlstate == "164"
    assert chdb_adapter.execute("SELECT count() AS n FROM events").column(0)[0].as_py() == before
    settings = chdb_adapter.execute(
        "SELECT getSetting('readonly') AS r, getSetting('session_timezone') AS z, getSetting('join_use_nulls') AS j"
    ).to_pylist()[0]
    # readonly = 2: settings may change per query (a statement's max_execution_time); segwise's
    # guard sends nothing but one query, so a SET never reaches the session
    assert settings == {"r": 2, "z": "UTC", "j": True}
    from segwise.errors import SegwiseError
    from segwise.observe import execute_observed

    with pytest.raises(SegwiseError):
        execute_observed(chdb_adapter, "SET join_use_nulls = 0")


def test_one_directory_per_process(hand_url: str, tmp_path: Path) -> None:
    first = open_adapter(hand_url)  # the process's embedded server is on the backends' directory
    other = tmp_path / "other"
    other.mkdir()
    try:
        with pytest.raises(WarehouseError, match="cannot open chdb session") as info:
            ChdbAdapter(f"chdb:///{other}")
        assert "one embedded ClickHouse per process" in (info.value.hint or "")
        second = open_adapter(hand_url)  # the same directory: shared
        assert second.execute("SELECT 1 AS x").to_pylist() == [{"x": 1}]
        second.close()
        assert first.execute("SELECT 2 AS x").to_pylist() == [{"x": 2}]
    finally:
        first.close()


# -- answers: the same as DuckDB's ------------------------------------------------------------------

QUERIES: dict[str, dict[str, Any]] = {
    "sum_week": {"series": [{"event": "view", "measure": "sum:price"}], "date_range": RANGE, "time_grain": "week"},
    "counts_month_breakdown": {
        "series": [{"event": "any", "measure": "events"}, {"event": "any", "measure": "unique_users"}],
        "date_range": RANGE,
        "time_grain": "month",
        "breakdown": ["plan"],
    },
    "median_flag": {
        "series": [{"event": "any", "measure": "median:price"}],
        "date_range": RANGE,
        "time_grain": "total",
        "breakdown": ["flag", "signup"],
    },
    "wau_top1": {
        "series": [{"event": "view", "measure": "wau"}],
        "date_range": {"from": "2024-01-01", "to": "2024-01-15"},
        "time_grain": "day",
        "breakdown": ["brand"],
        "breakdown_limit": 1,
    },
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_answers_match_duckdb(name: str, hand_url: str, tmp_path: Path) -> None:
    ch = _project(hand_url)
    try:
        assert_answers_match_duckdb(ch, {name: QUERIES[name]}, tmp_path)
    finally:
        ch.close()


# -- pruning: partition key and primary key ---------------------------------------------------------


@pytest.fixture(scope="module")
def partitioned_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Five months of events in a MergeTree partitioned by month, ordered by (event name, time)."""
    import chdb.session

    directory = BACKENDS["chdb"].directory()  # type: ignore[attr-defined]
    database = schema_for("pruning", tmp_path_factory.mktemp("ch-pruning"))
    session = chdb.session.Session(str(directory))
    try:
        session.query(f"CREATE DATABASE {database}")
        session.query(
            f"CREATE TABLE {database}.events (event_time DateTime64(6, 'UTC'), event_name LowCardinality(String), "
            "user_id String, amount Nullable(Float64)) ENGINE = MergeTree PARTITION BY toYYYYMM(event_time) "
            "ORDER BY (event_name, event_time) SETTINGS index_granularity = 64"
        )
        session.query(
            f"INSERT INTO {database}.events SELECT "
            "toDateTime64('2025-01-01', 6, 'UTC') + toIntervalMinute(number * 7), "
            "['view', 'cart', 'buy'][number % 3 + 1], toString(number % 97), number % 11 FROM numbers(30000)"
        )
    finally:
        session.close()
    return f"chdb:///{directory}?database={database}"


def test_time_filter_prunes_partitions_and_granules(partitioned_url: str) -> None:
    project = segwise.Project(warehouse=partitioned_url, event_tables=[{"table": "events", "event_name": "event_name"}])
    query = {
        "series": [{"event": "buy", "measure": "sum:amount"}],
        "date_range": {"from": "2025-02-03", "to": "2025-02-10"},
    }
    try:
        sql = project.compile(query)
        assert "`event_time` >= toDateTime64('2025-02-03 00:00:00.000000', 6, 'UTC')" in sql.replace('"', "`")
        adapter = project.adapter()
        assert isinstance(adapter, ChdbAdapter)
        indexes = {index["Type"]: index for index in adapter.index_usage(sql)}
        assert "PrimaryKey" in adapter.explain(sql)
        minmax, primary = indexes["Min-Max"], indexes["PrimaryKey"]
        # the partition key's min/max index keeps one month of five ...
        assert (minmax["Initial Parts"], minmax["Selected Parts"]) == (5, 1)
        # ... and the primary key (event_name, event_time) keeps a fraction of its granules
        assert primary["Keys"] == ["event_name", "event_time"]
        assert primary["Selected Granules"] * 10 < primary["Initial Granules"]
        assert project.run(query).column("value")[0].as_py() > 0
    finally:
        project.close()


# -- the clickhouse-connect adapter (in-process transport) --------------------------------------------


@pytest.fixture
def connect_adapter(hand_url: str) -> Any:
    clickhouse_connect = pytest.importorskip("clickhouse_connect")
    database = hand_url.rpartition("database=")[2]
    client = clickhouse_connect.get_client(
        interface="chdb",
        path=str(BACKENDS["chdb"].directory()),  # type: ignore[attr-defined]
        database=database,
        settings=client_settings(),
    )
    adapter = ClickHouseAdapter.from_client(client, "clickhouse://in-process")
    yield adapter
    adapter.close()


def test_clickhouse_connect_adapter(connect_adapter: ClickHouseAdapter, chdb_adapter: ChdbAdapter) -> None:
    assert [c.kind for c in connect_adapter.columns(TableRef.parse("users"))] == [
        "string", "string", "date", "boolean", "float"
    ]  # fmt: skip
    with pytest.raises(CatalogError):
        connect_adapter.columns(TableRef.parse("nope"))
    sql = "SELECT toStartOfDay(event_time, 'UTC') AS b, count() AS n FROM events GROUP BY b ORDER BY b"
    assert connect_adapter.execute(sql) == chdb_adapter.execute(sql)
    with pytest.raises(WarehouseError, match="read-only") as info:
        connect_adapter.execute("INSERT INTO users (user_id) VALUES ('intruder')")
    assert info.value.sqlstate == "164"
    with pytest.raises(WarehouseError, match="UNKNOWN_TABLE"):
        connect_adapter.execute("SELECT * FROM nope")


def test_clickhouse_connect_answers(connect_adapter: ClickHouseAdapter, hand_url: str) -> None:
    ch = _project(hand_url)
    try:
        for query in QUERIES.values():
            compiled = ch.compile(query)
            got, want = connect_adapter.execute(compiled), ch.adapter().execute(compiled)
            assert got.schema == want.schema
            assert sorted(got.to_pylist(), key=repr) == sorted(want.to_pylist(), key=repr)
    finally:
        ch.close()


# -- the CLI: the same JSON as DuckDB ----------------------------------------------------------------


def test_cli_json_matches_duckdb(tmp_path: Path) -> None:
    from segwise.demo.generate import generate_tables

    users, events = generate_tables(users=150, days=40, seed=11)
    tables = {"events": events, "users": users}
    examples = Path(__file__).resolve().parents[1] / "examples"
    gallery = ["daily_active_users", "revenue_per_account_type", "signups_per_country", "weekly_active_users"]
    outputs: dict[str, list[str]] = {}
    for engine in ("duckdb", "chdb"):
        (tmp_path / engine).mkdir()
        url = BACKENDS[engine].load(tables, tmp_path / engine, "demo")
        project = tmp_path / f"{engine}.yaml"
        project.write_text(
            json.dumps(
                {
                    "warehouse": url,
                    "event_tables": [
                        {
                            "table": "events",
                            "event_name": "event_name",
                            "partition": {"column": "event_date", "granularity": "day", "format": "date"},
                        }
                    ],
                    "user_tables": [{"table": "users"}],
                }
            )
        )
        outputs[engine] = []
        for name in gallery:
            result = CliRunner().invoke(
                main,
                [
                    "run",
                    str(examples / f"{name}.yaml"),
                    "--project",
                    str(project),
                    "--format",
                    "json",
                    "--now",
                    "2025-02-05",
                ],
            )
            assert result.exit_code == 0, result.output
            outputs[engine].append(result.output)
    assert outputs["chdb"] == outputs["duckdb"]
    assert all(json.loads(text) for text in outputs["duckdb"])
