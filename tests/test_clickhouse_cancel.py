"""Timeouts on chDB stop the statement in the engine (``max_execution_time``); cancelling a chDB
statement from another thread (Ctrl-C, a disconnected client) kills it from a second session
(``system.processes`` shows it running before, and gone right after); cancelling a statement over
HTTP sends ``KILL QUERY`` for its ``query_id``."""

from __future__ import annotations

import importlib.util
import threading
import time
from typing import Any

import pyarrow as pa
import pytest

from segwise.adapters.base import Statement, TableRef
from segwise.adapters.clickhouse import ChdbAdapter, ClickHouseAdapter, with_max_execution_time
from segwise.errors import WarehouseError
from segwise.observe import execute_observed
from segwise.registry import open_adapter
from tests.adapters.hand import hand_tables
from tests.backends import BACKENDS, clickhouse_ident
from tests.cancel_support import ctrl_c_after

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
    # the adapter runs one statement at a time: a quick one answered at once (and system.processes)
    # proves the slow one is gone
    started = time.monotonic()
    assert chdb_adapter.execute(ACTIVE_SQL).to_pylist() == [{"n": 0}]
    assert time.monotonic() - started < 2


@pytest.fixture
def observer(slow_url: str) -> Any:
    """A second adapter (its own chDB session) that looks into system.processes meanwhile."""
    adapter = open_adapter(slow_url)
    yield adapter
    adapter.close()


def running(observer: Any) -> int:
    return int(observer.execute(ACTIVE_SQL).column("n")[0].as_py())


def run_in_thread(adapter: ChdbAdapter, statement: Statement) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = adapter.execute_statement(SLOW_SQL, statement)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, box


def assert_cancelled(thread: threading.Thread, box: dict[str, Any], observer: Any) -> None:
    """The statement ended at once with the cancel's error, and the engine runs nothing of it."""
    thread.join(3)
    assert not thread.is_alive(), "the chDB statement kept running after its cancel"
    error = box.get("error")
    assert isinstance(error, WarehouseError) and error.sqlstate == "57014", box
    assert "cancelled" in error.message
    assert running(observer) == 0


def test_cancel_from_another_thread_stops_the_chdb_statement(chdb_adapter: ChdbAdapter, observer: Any) -> None:
    statement = Statement(timeout=120)  # the engine's own stop, far beyond the test, only as a safety net
    thread, box = run_in_thread(chdb_adapter, statement)
    deadline = time.monotonic() + 10
    while running(observer) == 0:  # the statement is really running in the engine
        assert time.monotonic() < deadline and thread.is_alive(), box
        time.sleep(0.05)
    time.sleep(0.5)
    assert running(observer) == 1 and thread.is_alive()  # and keeps running: minutes of work
    started = time.monotonic()
    assert statement.cancel()
    assert_cancelled(thread, box, observer)
    assert time.monotonic() - started < 3
    started = time.monotonic()
    assert chdb_adapter.execute("SELECT 7 AS n").to_pylist() == [{"n": 7}]  # the next answer is right, at once
    assert time.monotonic() - started < 2


def test_a_cancel_before_the_engine_registered_the_statement_still_stops_it(
    chdb_adapter: ChdbAdapter, observer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first KILL goes out just before the statement reaches the engine (it kills nothing:
    nothing is in system.processes yet); the repeated one must still stop it, every time."""
    session = chdb_adapter._session
    send = session.query
    for _ in range(3):
        statement = Statement(timeout=20)  # a safety net only: the cancel must stop it within 3 s

        def cancel_then_send(sql: str, *args: Any, _statement: Statement = statement, **kwargs: Any) -> Any:
            if "slow_numbers" in sql:
                assert _statement.cancel()  # the KILL ran, on this thread, before the statement exists
            return send(sql, *args, **kwargs)

        monkeypatch.setattr(session, "query", cancel_then_send)
        thread, box = run_in_thread(chdb_adapter, statement)
        assert_cancelled(thread, box, observer)
        monkeypatch.setattr(session, "query", send)


def test_ctrl_c_stops_the_chdb_statement(chdb_adapter: ChdbAdapter, observer: Any) -> None:
    started = time.monotonic()
    with ctrl_c_after(1.0):
        execute_observed(chdb_adapter, SLOW_SQL, tables=[TableRef.parse("slow_numbers")])
    assert time.monotonic() - started < 1 + 3
    assert running(observer) == 0


def test_chdb_timeout_error_names_max_execution_time(chdb_adapter: ChdbAdapter) -> None:
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
    assert client.killed and all(kill == {"id": client.queries[0]["query_id"]} for kill in client.killed)
    assert "max_execution_time" not in client.queries[0]  # readonly = 1 requests may not change settings


def test_a_failed_statement_does_not_answer_the_next_one(chdb_adapter: ChdbAdapter) -> None:
    """chDB 4.4 returns a statement that failed while running as the next statement's result (its
    columns, no rows); the adapter takes that stale result away, so the next answer is right."""
    with pytest.raises(WarehouseError, match="boom"):
        chdb_adapter.execute("SELECT throwIf(number = 5, 'boom') AS t FROM numbers(1000000)")
    assert chdb_adapter.execute("SELECT 7 AS n").to_pylist() == [{"n": 7}]
