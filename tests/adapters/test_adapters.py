"""The PostgreSQL and SQLite adapters: registration, connection, catalog, errors and read-only
sessions. SQLite files, date arithmetic and breakdown text are in ``test_sqlite.py``, end-to-end
answers identical to DuckDB's (values and Arrow types) in ``test_answers.py``; the hand-made dataset
in ``hand.py`` and the fixtures in ``conftest.py``.

PostgreSQL tests use the session server from ``tests/pg.py`` and are skipped when there is none
(they fail instead with ``SEGWISE_REQUIRE_POSTGRES=1``).
"""

from __future__ import annotations

import subprocess
import sys
import time

import adbc_driver_postgresql.dbapi as pg_dbapi
import pytest
from sqlglot import exp

from segwise.adapters import adbc
from segwise.adapters.base import Adapter, ConnectionCapabilities, SqlFlavor, TableRef
from segwise.adapters.postgresql import PostgresAdapter, libpq_uri
from segwise.adapters.sqlite import SQLiteAdapter
from segwise.errors import CatalogError, WarehouseError
from segwise.registry import adapter_classes, flavor_classes, open_adapter
from tests.adapters.hand import url_for
from tests.backends import BACKENDS, quote
from tests.pg import PostgresServer

# -- registration -----------------------------------------------------------------------------


def test_adapters_are_registered_by_scheme() -> None:
    classes = adapter_classes()
    assert classes["postgresql"] is PostgresAdapter
    assert classes["postgres"] is PostgresAdapter
    assert classes["sqlite"] is SQLiteAdapter
    assert (PostgresAdapter.name, PostgresAdapter.flavor_class.dialect) == ("postgresql", "postgres")
    assert (SQLiteAdapter.name, SQLiteAdapter.flavor_class.dialect) == ("sqlite", "sqlite")


# Every registered adapter, whichever plugin brought it (a new one is checked here automatically).
ADAPTERS = sorted(set(adapter_classes().values()), key=lambda cls: cls.name)
# Registered adapters without a live engine in tests/backends.py, and why.
NO_LIVE_BACKEND = {
    "clickhouse": "a ClickHouse server; its SQL, catalog and results are chdb's (same flavor and code)",
    "snowflake": "a cloud service (tests/test_remote_adapters.py goes up to the driver)",
    "bigquery": "a cloud service (tests/test_remote_adapters.py goes up to the driver)",
    "flightsql": "a Flight SQL server (tests/test_remote_adapters.py goes up to the driver)",
}


@pytest.mark.parametrize("cls", ADAPTERS, ids=[cls.name for cls in ADAPTERS])
def test_an_adapter_is_a_connection_holding_a_registered_flavor(cls: type[Adapter]) -> None:
    assert not issubclass(cls, SqlFlavor), "an adapter holds its flavor (flavor_class), it is not one"
    assert issubclass(cls.flavor_class, SqlFlavor) and cls.flavor_class is not SqlFlavor
    assert flavor_classes()[cls.flavor_class.name] is cls.flavor_class
    assert isinstance(cls.capabilities, ConnectionCapabilities)
    assert cls.schemes and all(adapter_classes()[scheme] is cls for scheme in cls.schemes)


@pytest.mark.parametrize("cls", ADAPTERS, ids=[cls.name for cls in ADAPTERS])
def test_every_adapter_has_a_live_engine_or_says_why_not(cls: type[Adapter]) -> None:
    assert cls.name in BACKENDS or cls.name in NO_LIVE_BACKEND, (
        f"add a backend for {cls.name} to tests/backends.py (or a reason to NO_LIVE_BACKEND)"
    )


def test_a_live_adapter_renders_with_its_flavor(adapter: Adapter) -> None:
    assert type(adapter.flavor) is adapter.flavor_class
    assert adapter.flavor.render(exp.select(exp.Literal.number(1).as_("one"))).upper().startswith("SELECT")


def test_import_segwise_does_not_import_the_drivers() -> None:
    code = (
        "import sys, segwise; from segwise.registry import adapter_classes; adapter_classes(); "
        "loaded = [m for m in ('adbc_driver_postgresql', 'adbc_driver_sqlite') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    ("module", "engine_name", "extra"),
    [("adbc_driver_postgresql.dbapi", "PostgreSQL", "postgresql"), ("adbc_driver_sqlite.dbapi", "SQLite", "sqlite")],
)
def test_missing_driver_names_the_pip_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, engine_name: str, extra: str
) -> None:
    def refuse(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(adbc.importlib, "import_module", refuse)
    with pytest.raises(WarehouseError) as info:
        adbc.import_driver(module, engine_name, extra)
    assert f"segwise[{extra}]" in str(info.value)
    assert engine_name in str(info.value)


# -- catalog ----------------------------------------------------------------------------------


def test_columns_in_order_with_kinds(adapter: Adapter) -> None:
    columns = adapter.columns(TableRef.parse("events"))
    assert [c.name for c in columns] == [
        "event_time", "event_type", "user_id", "price", "product-id", "qty", "flag", "brand"
    ]  # fmt: skip
    assert [c.kind for c in columns] == [
        "timestamp", "string", "string", "float", "string", "integer", "boolean", "string"
    ]  # fmt: skip
    users = {c.name: c.kind for c in adapter.columns(TableRef.parse("users"))}
    assert users == {"user_id": "string", "plan": "string", "signup": "date", "vip": "boolean", "score": "float"}
    tz = adapter.columns(TableRef.parse("events_tz"))
    assert tz[0].kind == "timestamptz"


def test_missing_table_is_a_catalog_error(adapter: Adapter) -> None:
    with pytest.raises(CatalogError, match="no_such_table"):
        adapter.columns(TableRef.parse("no_such_table"))


def test_sqlite_schema_qualified_names(urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> None:
    sqlite = open_adapter(url_for("sqlite", urls, tmp_path_factory))
    try:
        assert sqlite.columns(TableRef.parse("main.users"))[0].name == "user_id"
        with pytest.raises(CatalogError):
            sqlite.columns(TableRef.parse("temp.users"))
        with pytest.raises(CatalogError, match="two parts"):
            sqlite.columns(TableRef.parse("a.b.c"))
    finally:
        sqlite.close()


def test_postgres_schema_qualified_names(
    server: PostgresServer, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    schema = f"segwise_other_{int(time.time() * 1000) % 10**9}"
    with pg_dbapi.connect(server.dsn, autocommit=True) as con, con.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {quote(schema)}")
        cur.execute(f'CREATE TABLE {quote(schema)}."events" ("product-id" TEXT, "at" TIMESTAMPTZ, "n" BIGINT)')
    postgres = open_adapter(url_for("postgresql", urls, tmp_path_factory))
    try:
        database = postgres.execute("SELECT current_database() AS d").column(0)[0].as_py()
        for name in (f"{schema}.events", f"{database}.{schema}.events"):
            columns = postgres.columns(TableRef.parse(name))
            assert [(c.name, c.kind) for c in columns] == [
                ("product-id", "string"), ("at", "timestamptz"), ("n", "integer")
            ]  # fmt: skip
        # unqualified names resolve in the URL's search_path (the dataset's schema), not elsewhere
        assert "price" in [c.name for c in postgres.columns(TableRef.parse("events"))]
        with pytest.raises(CatalogError, match="not found in schema"):
            postgres.columns(TableRef.parse(f"{schema}.users"))
        with pytest.raises(CatalogError):
            postgres.columns(TableRef.parse(f"other_db.{schema}.events"))
    finally:
        postgres.close()
        with pg_dbapi.connect(server.dsn, autocommit=True) as con, con.cursor() as cur:
            cur.execute(f"DROP SCHEMA {quote(schema)} CASCADE")


# -- read-only sessions ---------------------------------------------------------------------------


def test_writes_are_refused(engine: str, adapter: Adapter) -> None:
    count = "SELECT count(*) AS n FROM events"
    before = adapter.execute(count).column(0)[0].as_py()
    with pytest.raises(WarehouseError) as info:
        adapter.execute("INSERT INTO events (event_type, user_id) VALUES ('x', 'intruder')")
    if engine == "postgresql":
        assert info.value.sqlstate == "25006"  # read_only_sql_transaction
        assert "read-only" in str(info.value)
    if engine == "sqlite":
        assert "readonly" in str(info.value) or "read-only" in str(info.value)
    assert adapter.execute(count).column(0)[0].as_py() == before


def test_threads_can_share_one_adapter(adapter: Adapter) -> None:
    """The HTTP server runs requests in threads; without a lock libpq loses protocol sync."""
    from concurrent.futures import ThreadPoolExecutor

    def job(i: int) -> tuple[int, int]:
        row = adapter.execute(f"SELECT {i} AS i, count(*) AS n FROM events").to_pylist()[0]
        return row["i"], row["n"]

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(job, range(40))) == [(i, 13) for i in range(40)]


def test_postgres_statement_errors_keep_sqlstate(server: PostgresServer) -> None:
    postgres = PostgresAdapter(server.dsn)
    try:
        with pytest.raises(WarehouseError) as info:
            postgres.execute("SELECT * FROM no_such_relation")
        assert info.value.sqlstate == "42P01"
        assert 'relation "no_such_relation" does not exist' in str(info.value)
        # autocommit: the failed statement leaves no aborted transaction behind
        assert postgres.execute("SELECT 1 AS one").column(0)[0].as_py() == 1
    finally:
        postgres.close()


def test_no_server_skips_or_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests import pg

    monkeypatch.setattr(pg, "_server", None)
    monkeypatch.setattr(pg, "_failure", "no PostgreSQL server for the tests: (simulated)")
    monkeypatch.delenv(pg.ENV_REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="simulated"):
        pg.postgres_dsn()
    monkeypatch.setenv(pg.ENV_REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match="SEGWISE_REQUIRE_POSTGRES is set"):
        pg.postgres_dsn()


# -- connection failures -------------------------------------------------------------------------


def test_postgres_wrong_password(server: PostgresServer) -> None:
    try:
        PostgresAdapter(server.with_credentials(password="definitely-not-the-password")).close()
    except WarehouseError as exc:
        assert exc.sqlstate == "28P01"
        assert "refused the login" in str(exc)
        assert "definitely-not-the-password" not in str(exc)
        assert exc.hint and "password" in exc.hint
    else:
        pytest.skip("this server accepts any password (trust authentication)")


def test_postgres_unknown_role(server: PostgresServer) -> None:
    try:
        PostgresAdapter(server.with_credentials(user="segwise_no_such_role", password="x")).close()
    except WarehouseError as exc:
        assert exc.sqlstate in ("28P01", "28000")
        assert "segwise_no_such_role" in str(exc)
    else:
        pytest.fail("an unknown role could log in")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_postgres_unreachable_port_fails_fast_with_a_clear_message() -> None:
    began = time.monotonic()
    with pytest.raises(WarehouseError) as info:
        PostgresAdapter(f"postgresql://segwise:sekret@127.0.0.1:{_free_port()}/events")
    assert time.monotonic() - began < 5
    assert info.value.sqlstate == "08001"
    assert "cannot reach the PostgreSQL server" in str(info.value)
    assert "sekret" not in str(info.value)  # the password is redacted from messages


def test_postgres_silent_server_times_out() -> None:
    """A port that accepts TCP but never answers: libpq's connect_timeout ends the wait."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        began = time.monotonic()
        with pytest.raises(WarehouseError) as info:
            PostgresAdapter(f"postgresql://segwise@127.0.0.1:{port}/events", connect_timeout=1)
        assert time.monotonic() - began < 10
    assert info.value.sqlstate == "08001"
    assert "timed out" in str(info.value)


def test_libpq_uri_adds_timeouts_and_keeps_parameters() -> None:
    uri = libpq_uri("postgres://u:p@h:5433/db?options=-c%20search_path%3Dx")
    assert uri == "postgresql://u:p@h:5433/db?options=-c%20search_path%3Dx&connect_timeout=10&application_name=segwise"
    assert libpq_uri("postgresql://h/db?connect_timeout=3&application_name=me") == (
        "postgresql://h/db?connect_timeout=3&application_name=me"
    )
