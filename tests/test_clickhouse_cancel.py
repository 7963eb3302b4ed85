"""Timeouts on chDB stop the statement in the engine (``max_execution_time``); cancelling a
statement over HTTP sends ``KILL QUERY`` for its ``query_id``."""

from __future__ import annotations

import importlib.util
import threading
import time
from typing import Any

import pyarrow as pa
import pytest

from segwise.adapters.base import TableRef
from segwise.adapters.clickhouse import ChdbAdapter, ClickHouseAdapter, with_max_execution_time
from segwise.errors import WarehouseError
from segwise.observe import execute_observed
from segwise.registry import open_adapter
from tests.adapters.hand import hand_tables
from tests.backends import BACKENDS, clickhouse_ident

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("chdb") is None, reason="chdb is not installed (pip install 'segwise[clickhouse]')"
)

# Minutes of hashing if nobody stops it; the view keeps the statement to one configured table.
SLOW_VIEW = "SELECT number, sipHash64(number) AS h FROM numbers(100000000000)"
SLOW_SQL = "SELECT count() AS n FROM slow_numbers WHERE h % 7 = 3"
ACTIVE_SQL = (
    "SELECT count() AS n FROM system.processes WHERE query LIKE '%slow_numbers%' AND query NOT LIKE '%system.%'"
)


@pytest.fixture(scope="module")
def slow_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    import chdb.session

    url = BACKENDS["chdb"].load(hand_tables(), tmp_path_factory.mktemp("ch-slow"), "slow")
    database = url.rpartition("database=")[2]
    session = chdb.session.Session(str(BACKENDS["chdb"].directory()))  # type: ignore[attr-defined]
    try:
        session.query(f"CREATE VIEW IF NOT EXISTS {clickhouse_ident(database)}.slow_numbers AS {SLOW_VIEW}")
    finally:
        session.close()
    return url


@pytest.fixture
def chdb_adapter(slow_url: str) -> Any:
    adapter = open_adapter(slow_url)
    assert isinstance(adapter, ChdbAdapter)
    yield adapter
    adapter.close()


def test_max_execution_time_joins_the_settings_clause() -> None:
    assert with_max_execution_time("SELECT 1 AS x", 2) == "SELECT 1 AS x SETTINGS max_execution_time = 2"
    assert (
        with_max_execution_time("SELECT a FROM t LEFT JOIN u USING (a) SETTINGS join_use_nulls = 1", 1.25)
        == "SELECT a FROM t LEFT JOIN u USING (a) SETTINGS join_use_nulls = 1, max_execution_time = 1.25"
    )
    # a literal that merely ends like a SETTINGS clause is not one
    quoted = "SELECT 'x SETTINGS a = 1' AS s"
    assert with_max_execution_time(quoted, 3) == quoted + " SETTINGS max_execution_time = 3"


def test_chdb_stops_the_statement_at_the_timeout(chdb_adapter: ChdbAdapter) -> None:
    tables = [TableRef.parse("slow_numbers")]
    started = time.monotonic()
    with pytest.raises(WarehouseError, match="timed out after 1 s") as info:
        execute_observed(chdb_adapter, SLOW_SQL, tables=tables, timeout=1)
    elapsed = time.monotonic() - started
    assert elapsed < 1 + 4, elapsed  # chDB gave up at its own deadline (plus a loaded machine), not minutes later
    assert "has not stopped it yet" not in info.value.message
    assert info.value.sqlstate == "57014"
    # chDB runs one statement at a time: a quick one answered at once proves the slow one is gone
    started = time.monotonic()
    assert chdb_adapter.execute(ACTIVE_SQL).to_pylist() == [{"n": 0}]
    assert time.monotonic() - started < 2


def test_chdb_timeout_error_names_max_execution_time(chdb_adapter: ChdbAdapter) -> None:
    from segwise.adapters.base import Statement

    with pytest.raises(WarehouseError, match=r"stopped by chdb \(max_execution_time\)") as info:
        chdb_adapter.execute_statement(SLOW_SQL, Statement(timeout=0.5))
    assert info.value.sqlstate == "57014"


def test_chdb_sessions_stay_read_only(chdb_adapter: ChdbAdapter) -> None:
    for sql in ("CREATE TABLE intruder (a Int8) ENGINE = Memory", "SELECT 1 SETTINGS readonly = 0"):
        with pytest.raises(WarehouseError, match="readonly") as info:
            chdb_adapter.execute(sql)
        assert info.value.sqlstate == "164"


class RecordingClient:
    """A clickhouse-connect client stand-in: the query blocks until a KILL QUERY arrives."""

    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []
        self.killed: list[dict[str, Any]] = []
        self._killed = threading.Event()

    def query_arrow(self, sql: str, parameters: Any = None, settings: Any = None, use_strings: bool = True) -> pa.Table:
        self.queries.append(dict(settings or {}))
        if not self._killed.wait(10):
            return pa.table({"n": [1]})
        raise RuntimeError("Code: 394. DB::Exception: Query was cancelled. (QUERY_WAS_CANCELLED)")

    def command(self, sql: str, parameters: Any = None) -> None:
        assert sql == "KILL QUERY WHERE query_id = {id:String} ASYNC"
        self.killed.append(dict(parameters))
        self._killed.set()

    def close(self) -> None:
        pass


def test_http_cancel_kills_the_query_by_its_id() -> None:
    client = RecordingClient()
    adapter = ClickHouseAdapter.from_client(client, "clickhouse://server")
    started = time.monotonic()
    with pytest.raises(WarehouseError, match=r"timed out after 0\.5 s"):
        execute_observed(adapter, "SELECT 1 AS n", timeout=0.5)
    assert time.monotonic() - started < 3
    assert len(client.queries) == 1 and client.queries[0]["query_id"].startswith("segwise-")
    assert client.killed == [{"id": client.queries[0]["query_id"]}]
    assert "max_execution_time" not in client.queries[0]  # readonly = 1 requests may not change settings


def test_a_failed_statement_does_not_answer_the_next_one(chdb_adapter: ChdbAdapter) -> None:
    """chDB 4.4 returns a statement that failed while running as the next statement's result (its
    columns, no rows); the adapter takes that stale result away, so the next answer is right."""
    with pytest.raises(WarehouseError, match="boom"):
        chdb_adapter.execute("SELECT throwIf(number = 5, 'boom') AS t FROM numbers(1000000)")
    assert chdb_adapter.execute("SELECT 7 AS n").to_pylist() == [{"n": 7}]
