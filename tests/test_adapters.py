"""The PostgreSQL and SQLite adapters: connection, catalog, errors, read-only sessions, SQLite date
arithmetic, and end-to-end answers identical to DuckDB's (values and Arrow types).

PostgreSQL tests use the session server from ``tests/pg.py`` and are skipped when there is none
(they fail instead with ``SEGWISE_REQUIRE_POSTGRES=1``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi as pg_dbapi
import pyarrow as pa
import pytest
from sqlglot import exp

import segwise
from segwise.adapters import adbc
from segwise.adapters.base import Adapter, ConnectionCapabilities, SqlFlavor, TableRef
from segwise.adapters.postgresql import PostgresAdapter, libpq_uri
from segwise.adapters.sqlite import SQLiteAdapter, SQLiteFlavor, database_path
from segwise.errors import CatalogError, UnsupportedError, WarehouseError
from segwise.registry import adapter_classes, flavor_classes, open_adapter
from tests.backends import BACKENDS, canonical_text, quote
from tests.pg import PostgresServer, get_server, postgres_dsn

ENGINES = ("duckdb", "sqlite", "postgresql")
RANGE = {"from": "2024-01-01", "to": "2024-07-01"}


# -- a small hand-made dataset ------------------------------------------------------------------


def _events() -> pa.Table:
    """Prices are multiples of 1/4, so every sum is exact whatever the summation order."""
    rows: list[tuple[datetime, str, str, float | None, str | None, int, bool | None, str | None]] = [
        # time, event, user, price, product-id, qty, flag, brand
        (datetime(2024, 1, 1, 0, 0), "view", "u1", None, None, 1, None, None),  # leading nulls
        (datetime(2024, 1, 1, 9, 30, 0, 250000), "view", "u2", 2.5, "p-1", 2, True, "B"),
        (datetime(2024, 1, 1, 23, 59, 59, 999999), "cart", "u1", 10.25, "p-2", 1, False, "a"),
        (datetime(2024, 1, 6, 12, 0), "view", "u3", 1.0, "p-1", 3, True, "_"),
        (datetime(2024, 1, 7, 8, 0), "purchase", "u2", 99.75, "p-3", 1, True, "Z"),
        (datetime(2024, 1, 7, 23, 0), "view", "u1", 4.0, "p-2", 1, False, "B"),
        (datetime(2024, 1, 8, 0, 0), "view", "u4", 0.5, "p-1", 5, None, "a"),
        (datetime(2024, 1, 14, 18, 45), "cart", "u3", 7.75, "p-3", 2, True, "_"),
        (datetime(2024, 2, 29, 12, 0), "view", "u5", 3.25, "p-2", 1, False, "Z"),
        (datetime(2024, 3, 31, 23, 59, 59), "purchase", "u4", 20.0, "p-1", 4, True, "B"),
        (datetime(2024, 4, 1, 0, 0), "view", "u1", 5.5, "p-3", 1, True, "a"),
        (datetime(2024, 6, 30, 23, 0), "cart", "u2", 0.25, None, 2, False, "_"),
        (datetime(2024, 7, 1, 0, 0), "view", "u5", 1.5, "p-1", 1, True, "Z"),  # outside [from, to)
    ]
    names = ["event_time", "event_type", "user_id", "price", "product-id", "qty", "flag", "brand"]
    types = [
        pa.timestamp("us"),
        pa.string(),
        pa.string(),
        pa.float64(),
        pa.string(),
        pa.int64(),
        pa.bool_(),
        pa.string(),
    ]
    columns = list(zip(*rows, strict=True))
    return pa.table([pa.array(c, type=t) for c, t in zip(columns, types, strict=True)], names=names)


def _users() -> pa.Table:
    return pa.table(
        {
            "user_id": ["u1", "u2", "u3", "u4"],
            "plan": ["free", "pro", None, "free"],
            "signup": pa.array([date(2023, 12, 1), date(2024, 1, 1), None, date(2024, 1, 8)], type=pa.date32()),
            "vip": pa.array([False, True, None, False], type=pa.bool_()),
            "score": pa.array([1.0, 2.5, 1e20, 3.0], type=pa.float64()),
        }
    )


def hand_tables() -> dict[str, pa.Table]:
    events = _events()
    utc = events.set_column(0, "event_time", events.column("event_time").cast(pa.timestamp("us", tz="UTC")))
    return {"events": events, "events_tz": utc, "users": _users()}


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Engine -> URL of the hand-made dataset (PostgreSQL loads lazily: see ``url_for``)."""
    return {}


def url_for(name: str, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    if name not in urls:
        directory = tmp_path_factory.mktemp(f"adapters-{name}")
        urls[name] = BACKENDS[name].load(hand_tables(), directory, "hand")
    return urls[name]


@pytest.fixture
def adapter(engine: str, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    opened = open_adapter(url_for(engine, urls, tmp_path_factory))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def server() -> PostgresServer:
    postgres_dsn()  # skips (or fails with SEGWISE_REQUIRE_POSTGRES=1) when there is no server
    return get_server()


def _project(url: str, table: str = "events", **options: Any) -> segwise.Project:
    return segwise.Project(
        warehouse=url,
        event_tables=[{"table": table, "event_name": "event_type"}],
        user_tables=[{"table": "users"}],
        **options,
    )


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


# -- SQLite files and URLs -------------------------------------------------------------------------


def test_sqlite_database_path(tmp_path: Path) -> None:
    assert database_path("sqlite:////abs/events.db", None) == "/abs/events.db"
    assert database_path("sqlite:///rel/events.db", tmp_path) == str(tmp_path / "rel/events.db")
    assert database_path("sqlite:///with%20space.db", tmp_path) == str(tmp_path / "with space.db")
    assert database_path("sqlite:///:memory:", None) == ":memory:"
    assert database_path("sqlite://", None) == ":memory:"
    with pytest.raises(WarehouseError, match="no host"):
        database_path("sqlite://host/events.db", None)


def test_sqlite_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="not found"):
        SQLiteAdapter(f"sqlite:///{tmp_path}/missing.db")
    assert not (tmp_path / "missing.db").exists()  # read-only: nothing created


def test_sqlite_relative_url_and_awkward_path(
    tmp_path: Path, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = Path(database_path(url_for("sqlite", urls, tmp_path_factory), None))
    folder = tmp_path / "a folder #1"
    folder.mkdir()
    (folder / "hand?.sqlite").write_bytes(source.read_bytes())
    relative = SQLiteAdapter("sqlite:///a%20folder%20%231/hand%3F.sqlite", base_dir=tmp_path)
    try:
        assert relative.execute("SELECT count(*) AS n FROM events").column(0)[0].as_py() == 13
    finally:
        relative.close()


def test_sqlite_reads_t_separated_times(
    tmp_path: Path, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """adbc_ingest writes '2024-01-01T09:30:00.250000': the same answers as the canonical form."""
    import adbc_driver_sqlite.dbapi as sqlite_dbapi

    from tests.backends import create_table_sql, sqlite_ready

    path = tmp_path / "t.sqlite"
    with sqlite_dbapi.connect(str(path)) as con:
        with con.cursor() as cur:
            for name, table in hand_tables().items():
                ready = sqlite_ready(table)
                if "event_time" in table.column_names:
                    iso = [
                        None if v is None else v.replace(tzinfo=None).isoformat()
                        for v in table["event_time"].to_pylist()
                    ]
                    ready = ready.set_column(0, "event_time", pa.array(iso, type=pa.string()))
                cur.execute(create_table_sql(name, table.schema))
                cur.adbc_ingest(name, ready, mode="append")
        con.commit()
    with _project(f"sqlite:///{path}") as t_form, _project(url_for("sqlite", urls, tmp_path_factory)) as canonical:
        assert t_form.adapter().execute("SELECT min(event_time) AS t FROM events").column(0)[0].as_py()[10] == "T"
        first_views = {
            "series": [{"event": "view", "measure": "unique_users", "occurrence": "first", "occurrence_scope": "ever"}],
            "date_range": {"from": "2024-01-01 09:30:00", "to": RANGE["to"]},
            "time_grain": "month",
        }
        queries = [QUERIES[name] for name in ("events_by_day", "events_by_hour", "filters", "weekly_active_users")]
        for query in [*queries, first_views]:
            want = segwise.run(query, canonical).to_pylist()
            assert want and segwise.run(query, t_form).to_pylist() == want


def test_sqlite_leading_nulls_keep_their_types() -> None:
    """The driver infers a column's type from its first batch; one batch avoids 'Type mismatch'."""
    sqlite = SQLiteAdapter("sqlite:///:memory:")
    sql = (
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 5000) "
        "SELECT CASE WHEN i > 4000 THEN i * 0.5 END AS v, CASE WHEN i > 4500 THEN 'x' END AS s, "
        "CASE WHEN i > 3000 THEN i END AS n FROM r"
    )
    try:
        table = sqlite.execute(sql)
        assert table.schema.types == [pa.float64(), pa.string(), pa.int64()]
        assert [table.column(i).null_count for i in range(3)] == [4000, 4500, 3000]
        batches = list(sqlite.execute_batches(sql))
        assert sum(b.num_rows for b in batches) == 5000
    finally:
        sqlite.close()


# -- SQLite date arithmetic ------------------------------------------------------------------------

GRAINS = ("hour", "day", "week", "month", "quarter", "year")
STAMPS = (
    "2024-01-01 00:00:00",  # a Monday, a year, quarter and month start
    "2024-03-31 23:59:59.999999",  # a Sunday, the last microsecond of a quarter
    "2024-02-29T12:34:56",  # leap day, 'T' separator
    "2023-12-31 23:30:00.5",  # a Sunday at the end of a year
    "2024-11-03 01:30:00",
    "2024-06-30T08:15:00.000001",
    "2025-01-05 00:00:00",  # a Sunday at midnight
    "2024-07-04",  # a bare date
)


def py_truncate(value: datetime, grain: str, week_start: int = 0) -> datetime:
    """Plain datetime arithmetic (week_start: 0 Monday ... 6 Sunday)."""
    if grain == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=(day.weekday() - week_start) % 7)
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    assert grain == "year"
    return day.replace(month=1, day=1)


def _sqlite_values(expressions: list[exp.Expr]) -> list[Any]:
    flavor = SQLiteFlavor()
    sqlite = SQLiteAdapter("sqlite:///:memory:")
    try:
        select = exp.select(*[e.as_(f"c{i}") for i, e in enumerate(expressions)])
        return list(sqlite.execute(flavor.render(select)).to_pylist()[0].values())
    finally:
        sqlite.close()


@pytest.mark.parametrize("grain", GRAINS)
def test_sqlite_truncation_matches_python(grain: str) -> None:
    flavor = SQLiteFlavor()
    got = _sqlite_values([flavor.truncate(grain, exp.Literal.string(s)) for s in STAMPS])
    for stamp, text in zip(STAMPS, got, strict=True):
        assert len(text) == 19, text  # 'YYYY-MM-DD HH:MM:SS', the form literals and buckets share
        assert datetime.fromisoformat(text) == py_truncate(datetime.fromisoformat(stamp), grain), stamp


@pytest.mark.parametrize(("week_start", "day_name"), [(0, "monday"), (2, "wednesday"), (6, "sunday")])
def test_sqlite_weeks_starting_any_day(week_start: int, day_name: str) -> None:
    """What the compiler builds for week_start != monday: shift, truncate to Monday, shift back."""
    flavor = SQLiteFlavor()

    def bucket(ts: exp.Expr) -> exp.Expr:
        if not week_start:
            return flavor.truncate("week", ts)
        return flavor.add_days(flavor.truncate("week", flavor.add_days(ts, -week_start)), week_start)

    got = _sqlite_values([bucket(exp.Literal.string(s)) for s in STAMPS])
    for stamp, text in zip(STAMPS, got, strict=True):
        want = py_truncate(datetime.fromisoformat(stamp), "week", week_start)
        assert datetime.fromisoformat(text) == want, (day_name, stamp)
        assert want.strftime("%A").lower() == day_name


def _utc_naive(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = (moment - moment.utcoffset()).replace(tzinfo=None)  # type: ignore[operator]
    return moment


def test_sqlite_time_comparisons_follow_time_order() -> None:
    """Stored text in any ISO form, compared with a bound, agrees with comparing the instants."""
    stored = (
        "2024-01-01 10:00:00",
        "2024-01-01 10:00:00.000000",
        "2024-01-01T10:00:00",
        "2024-01-01 09:59:59.999999",
        "2024-01-01 10:00:00.5",
        "2024-01-01T10:00:01Z",
        "2024-01-01",
        "2024-01-01 12:00:00+02:00",
    )
    bounds = (datetime(2024, 1, 1), datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 10, 0, 0, 500000))
    flavor = SQLiteFlavor()
    expressions: list[exp.Expr] = []
    expected: list[int] = []
    for text in stored:
        for bound in bounds:
            literal = flavor.timestamp_literal(bound.strftime("%Y-%m-%d %H:%M:%S.%f"), False)
            column = flavor.time_for_compare(exp.Literal.string(text), "timestamp")
            expressions.append(exp.GTE(this=column, expression=literal))
            expressions.append(exp.LT(this=column, expression=literal.copy()))
            expected += [int(_utc_naive(text) >= bound), int(_utc_naive(text) < bound)]
    assert _sqlite_values(expressions) == expected


def test_stored_canonical_text_sorts_in_time_order() -> None:
    moments = [datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 10, 0, 0, 1), datetime(2024, 1, 1, 10, 0, 0, 500000)]
    texts = [str(canonical_text(m)) for m in moments]
    assert texts == ["2024-01-01 10:00:00", "2024-01-01 10:00:00.000001", "2024-01-01 10:00:00.500000"]
    assert sorted(texts) == texts


# -- breakdown values as text: the same on every engine ---------------------------------------------

TEXT_CASES: list[tuple[str, Any]] = [
    ("float", 3.0),
    ("float", -7.0),
    ("float", 2.5),
    ("float", 1e20),
    ("float", 1.5e-07),
    ("float", 123456789.0),
    ("float", 0.30000000000000004),
    ("float", 1e16),
    ("float", 1.2345678901234568e16),
    ("float", -1.5e16),
    ("float", 1e15),
    ("float", 1e17),
    ("float", 1e-05),
    ("integer", 1234567890123456789),
    ("boolean", True),
    ("boolean", False),
    ("date", "2024-01-02"),
    ("timestamp", "2024-01-02 10:00:00"),
    ("timestamp", "2024-01-02 10:00:00.5"),
    ("timestamp", "2024-01-02 10:00:00.123456"),
]


def _typed(engine: str, kind: str, value: Any) -> exp.Expr:
    """A value as the engine stores it (SQLite: booleans 0/1, dates and times as text)."""
    if kind == "float":
        return exp.cast(exp.Literal.number(repr(value)), exp.DataType.Type.DOUBLE)
    if kind == "integer":
        return exp.cast(exp.Literal.number(str(value)), exp.DataType.Type.BIGINT)
    if kind == "boolean":
        return exp.Literal.number(int(value)) if engine == "sqlite" else exp.Boolean(this=value)
    if engine == "sqlite":
        return exp.Literal.string(value)
    kind_type = exp.DataType.Type.DATE if kind == "date" else exp.DataType.Type.TIMESTAMP
    return exp.cast(exp.Literal.string(value), kind_type)


def test_breakdown_text_is_the_same_on_every_engine(
    engine: str, adapter: Adapter, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    def texts(on: Adapter, name: str) -> list[Any]:
        f = on.flavor
        select = exp.select(*[f.as_text(_typed(name, k, v), k).as_(f"c{i}") for i, (k, v) in enumerate(TEXT_CASES)])
        return list(on.execute(f.render(select)).to_pylist()[0].values())

    duckdb = open_adapter(url_for("duckdb", urls, tmp_path_factory))
    try:
        want = texts(duckdb, "duckdb")
    finally:
        duckdb.close()
    assert want[:3] == ["3.0", "-7.0", "2.5"]
    assert texts(adapter, engine) == want


# -- end to end: the same answers as DuckDB ---------------------------------------------------------

QUERIES: dict[str, dict[str, Any]] = {
    "events_by_day": {"series": [{"event": "view"}], "date_range": RANGE, "time_grain": "day"},
    "events_by_hour": {
        "series": [{"event": "any"}],
        "date_range": {"from": "2024-01-01", "to": "2024-01-02"},
        "time_grain": "hour",
    },
    "unique_users_by_week": {
        "series": [{"event": "any", "measure": "unique_users"}],
        "date_range": RANGE,
        "time_grain": "week",
    },
    "sum_by_month": {"series": [{"event": "any", "measure": "sum:price"}], "date_range": RANGE, "time_grain": "month"},
    "top_brands_with_ties": {
        "series": [{"event": "any", "measure": "events"}, {"event": "any", "measure": "sum:price"}],
        "date_range": RANGE,
        "time_grain": "quarter",
        "breakdown": ["brand"],
        "breakdown_limit": 2,
    },
    "flag_and_plan": {
        "series": [{"event": "any", "measure": "events_per_user"}],
        "date_range": RANGE,
        "time_grain": "year",
        "breakdown": ["flag", "plan"],
    },
    "numbers_as_breakdowns": {
        "series": [{"event": "any", "measure": "avg:price"}, {"event": "view", "measure": "max:qty"}],
        "date_range": RANGE,
        "time_grain": "total",
        "breakdown": ["qty", "score", "signup"],
    },
    "filters": {
        "series": [
            {"event": "any", "where": [{"property": "price", "op": "gte", "value": 2.5}], "measure": "min:price"},
            {"event": "any", "where": [{"property": "product-id", "op": "eq", "value": "p-1"}]},
            {"event": "any", "where": [{"property": "flag", "op": "eq", "value": True}]},
            {"event": "any", "where": [{"property": "brand", "op": "is_null"}]},
            {"event": "any", "where": [{"property": "signup", "op": "gte", "value": "2024-01-01"}]},
            {"event": "any", "where": [{"property": "product-id", "op": "starts_with", "value": "p-"}]},
        ],
        "date_range": RANGE,
        "time_grain": "month",
    },
    "weekly_active_users": {
        "series": [{"event": "any", "measure": "wau"}],
        "date_range": {"from": "2024-01-01", "to": "2024-02-01"},
        "time_grain": "week",
        "breakdown": ["brand"],
        "breakdown_limit": 2,
    },
}


@pytest.fixture(scope="module")
def duckdb_answers(urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], pa.Table]:
    url = url_for("duckdb", urls, tmp_path_factory)
    answers = {}
    for week_start in ("monday", "sunday"):
        with _project(url, week_start=week_start) as project:
            for name, query in QUERIES.items():
                answers[(name, week_start)] = segwise.run(query, project)
    return answers


@pytest.mark.parametrize("week_start", ["monday", "sunday"])
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_same_answers_as_duckdb(
    engine: str,
    name: str,
    week_start: str,
    urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    duckdb_answers: dict[tuple[str, str], pa.Table],
) -> None:
    want = duckdb_answers[(name, week_start)]
    assert want.num_rows > 0
    with _project(url_for(engine, urls, tmp_path_factory), week_start=week_start) as project:
        got = segwise.run(QUERIES[name], project)
    assert got.schema == want.schema
    assert got.to_pylist() == want.to_pylist()


def test_breakdown_ties_rank_by_code_point(duckdb_answers: dict[tuple[str, str], pa.Table]) -> None:
    """B, _ and a tie on events; code-point order keeps B and _ (an ICU collation would keep _ and a)."""
    answer = duckdb_answers[("top_brands_with_ties", "monday")]
    assert sorted({row["brand"] for row in answer.to_pylist()}) == ["B", "Other", "_"]


def test_time_zone_aware_event_times(
    engine: str, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = url_for(engine, urls, tmp_path_factory)
    query = QUERIES["unique_users_by_week"]
    with _project(url) as naive, _project(url, table="events_tz") as aware:
        assert segwise.run(query, aware).to_pylist() == segwise.run(query, naive).to_pylist()


@pytest.mark.parametrize("name", ["events_by_day", "sum_by_month", "top_brands_with_ties", "weekly_active_users"])
def test_raw_results_are_int64_and_float64(
    engine: str, name: str, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """What the warehouse itself returns, before post-processing: no decimals, no int32."""
    with _project(url_for(engine, urls, tmp_path_factory)) as project:
        compiled = segwise.compile_query(project, QUERIES[name])
        raw = project.adapter().execute(compiled.sql)
    types = {label: raw.schema.field(label).type for label in ("series", "value", "bucket")}
    assert types["series"] == pa.string()
    assert types["value"] in ((pa.int64(),) if compiled.value_is_integer else (pa.float64(), pa.int64()))
    if not compiled.value_is_integer:
        assert types["value"] == pa.float64() or raw.column("value").null_count == raw.num_rows
    assert types["bucket"] == (pa.string() if engine == "sqlite" else pa.timestamp("us"))


def test_postgres_time_zones_and_percentiles_match_duckdb(
    server: PostgresServer, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    query = {
        "series": [{"event": "any", "measure": "median:price"}, {"event": "any", "measure": "p90:price"}],
        "date_range": RANGE,
        "time_grain": "day",
    }
    answers = []
    for name in ("duckdb", "postgresql"):
        with _project(url_for(name, urls, tmp_path_factory), timezone="America/New_York") as project:
            answers.append(segwise.run(query, project))
    assert answers[0].schema == answers[1].schema
    want, got = answers[0].to_pylist(), answers[1].to_pylist()
    assert [{**r, "value": None} for r in got] == [{**r, "value": None} for r in want]
    # interpolation rounds differently in the last bit (9.475 vs 9.475000000000001)
    for g, w in zip(got, want, strict=True):
        assert (g["value"] is None and w["value"] is None) or g["value"] == pytest.approx(w["value"], rel=1e-12)


def test_sqlite_refuses_time_zones_and_percentiles(
    urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = url_for("sqlite", urls, tmp_path_factory)
    with _project(url, timezone="Europe/Berlin") as project, pytest.raises(UnsupportedError, match="time zone"):
        segwise.run(QUERIES["events_by_day"], project)
    median = {"series": [{"event": "any", "measure": "median:price"}], "date_range": RANGE}
    with _project(url) as project, pytest.raises(UnsupportedError, match="percentile"):
        segwise.run(median, project)
