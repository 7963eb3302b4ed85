"""``segwise serve``: a client that disconnects has its query cancelled in the warehouse.

Each engine gets an event table and a view ``slow_events`` over it with a ``slow`` column that is
expensive to compute (DuckDB: a hundred nested md5 per row over a million rows; PostgreSQL: a
function that sleeps a second per row; Spark: ``reflect`` of ``Thread.sleep``), so a question that
filters on ``slow`` keeps the warehouse busy for far longer than the test, while the catalog's
queries (which never read ``slow``) stay quick. The client sends that question over a raw socket
and closes it once the warehouse is working on it; then

* the server's runner has no call running any more within seconds (its worker thread only
  returns once the warehouse statement has ended), and counts the call as cancelled;
* PostgreSQL: ``pg_stat_activity`` shows no active statement on ``slow_events``;
* Spark: the status tracker shows the statement's job group with no running job or stage;
* Spark Connect: the server's REST API shows no running job or stage (and stays so);
* a following question is answered at once.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import segwise
from segwise.server import ServerSettings
from tests.explorer_support import LiveServer
from tests.spark_connect import ConnectServer, connect_server  # noqa: F401  (the fixture)
from tests.test_spark_cancel import QUICK_QUERY, SLOW_ROWS, assert_stopped, create_slow_view, slow_events_table

SLOW_QUERY = {
    "series": [{"event": "open", "where": [{"property": "slow", "op": "eq", "value": "x"}], "measure": "events"}],
    "date_range": {"from": "2025-01-01", "to": "2025-01-03"},
    "time_grain": "total",
}
DUCKDB_ROWS = 1_000_000


def _duckdb(tmp: Path) -> tuple[str, int, Callable[[], str | None]]:
    import duckdb

    path = tmp / "slow.duckdb"
    nested = "n"
    for _ in range(100):
        nested = f"md5({nested})"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE events AS SELECT 'u' || (i % 5) AS user_id, 'open' AS event_name, i::VARCHAR AS n, "
            f"TIMESTAMP '2025-01-01' + INTERVAL (i % 1000) MINUTE AS event_time FROM range({DUCKDB_ROWS}) t(i)"
        )
        con.execute(f"CREATE VIEW slow_events AS SELECT *, {nested} AS slow FROM events")
    return f"duckdb:///{path}", DUCKDB_ROWS, lambda: None


def _postgresql(tmp: Path) -> tuple[str, int, Callable[[], str | None]]:
    import adbc_driver_postgresql.dbapi as pg

    from tests.backends import BACKENDS

    url = BACKENDS["postgresql"].load({"events": slow_events_table()}, tmp, "slow")
    with pg.connect(url, autocommit=True) as con, con.cursor() as cur:  # in the dataset's schema (search_path)
        cur.execute(
            "CREATE OR REPLACE FUNCTION segwise_slow(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE "
            "AS $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$"
        )
        cur.execute("CREATE VIEW slow_events AS SELECT *, segwise_slow(user_id) AS slow FROM events")

    def busy() -> str | None:
        with pg.connect(url, autocommit=True) as con, con.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%slow_events%' "
                "AND pid <> pg_backend_pid()"
            )
            active = cur.fetchone()[0]
        return f"{active} statement(s) on slow_events still active in pg_stat_activity" if active else None

    return url, SLOW_ROWS, busy


def _spark(tmp: Path) -> tuple[str, int, Callable[[], str | None]]:
    from tests.backends import spark_session, spark_url

    create_slow_view(spark_session(), tmp / "events", "segwise_server_slow")
    return spark_url({}), SLOW_ROWS, lambda: None


def _spark_connect(tmp: Path, server: ConnectServer) -> tuple[str, int, Callable[[], str | None]]:
    from tests.test_spark_connect_cancel import RELIABLE, connect_slow_view

    connect_slow_view(server, tmp / "events", "segwise_server_slow")

    def busy() -> str | None:
        server.wait_idle(5)  # the server confirms the stop (its REST API), or this fails
        return None

    return server.url + RELIABLE, SLOW_ROWS, busy


ENGINES = {"duckdb": _duckdb, "postgresql": _postgresql, "spark": _spark, "spark-connect": None}


@pytest.fixture(params=sorted(ENGINES))
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, LiveServer, int, Any]]:
    engine = request.param
    opener = ENGINES[engine]
    if opener is None:
        url, rows, busy = _spark_connect(tmp_path, request.getfixturevalue("connect_server"))
    else:
        url, rows, busy = opener(tmp_path)
    table = "global_temp.segwise_server_slow" if engine.startswith("spark") else "slow_events"
    project = segwise.Project(
        warehouse=url,
        event_tables=[{"table": table, "user_id": "user_id", "event_time": "event_time", "event_name": "event_name"}],
    )
    project.catalog().event_names()  # quick: the catalog never reads `slow`
    server = LiveServer(project, ServerSettings(query_timeout_s=120)).start()
    try:
        yield engine, server, rows, busy
    finally:
        server.stop()
        project.close()


def post(server: LiveServer, query: dict[str, Any]) -> socket.socket:
    """Send POST /api/query and return the open socket (not read)."""
    body = json.dumps(query).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = (
        f"POST /api/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    sock.sendall(head + body)
    return sock


def wait_for(condition: Callable[[], object], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_disconnected_client_has_its_query_cancelled(served: tuple[str, LiveServer, int, Any]) -> None:
    engine, server, rows, busy = served
    runner = server.runner
    sock = post(server, SLOW_QUERY)
    wait_for(lambda: runner.running == 1, 30, "the query never started")
    time.sleep(1.5)  # the warehouse is working on it
    assert runner.running == 1  # still running: the slow question is really slow
    sock.close()
    wait_for(lambda: runner.running == 0, 10, f"{engine}: the query kept running after the client left")
    assert runner.cancelled == 1
    assert busy() is None
    if engine == "spark":
        from tests.backends import spark_session

        adapter = server.project.adapter()
        assert_stopped(spark_session(), adapter.last_job_group)
    started = time.monotonic()
    with post(server, QUICK_QUERY) as quick:
        answer = b""
        while chunk := quick.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])[0]["value"] == rows
    assert time.monotonic() - started < 20
