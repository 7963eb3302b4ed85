"""Timeouts, Ctrl-C and cancel over Spark Connect stop the statement on the server, not only the client.

A real Connect server (``tests/spark_connect.py``: ``local[1]``, one task slot) holds a global
temporary view whose ``slow`` column sleeps a second per row (``tests/test_spark_cancel.py``): the
slow question is 40 s of work for the server if nobody stops it, the quick one a second. After each
cancel the server's own REST API must show no running job and no active stage (and stay so), and
the quick question must be answered at once (with one slot, a job left running would hold it).

The interrupt (``interruptTag``) only reaches operations the server is running when it arrives, so
the tests aim at the gaps: one cancels exactly as the query's operation leaves the client (the
server has not registered it yet), one sweeps timeouts across the statement's three requests
(``spark.sql()``, the schema, the run).

The sessions run without adaptive query execution (``spark.sql.adaptive.enabled=false`` in the
URL): Spark 4's AQE submits shuffle stages from a thread of its own, and a stage submitted just
after the interrupt runs to its end (docs/scaling.md, "Timeouts and cancel per engine").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import segwise
from segwise.adapters.base import Statement
from segwise.adapters.spark import SparkAdapter
from segwise.errors import WarehouseError
from segwise.registry import open_adapter
from tests.cancel_support import ctrl_c_after
from tests.spark_connect import ConnectServer, connect_server  # noqa: F401  (the fixture)
from tests.test_spark_cancel import QUICK_QUERY, SLOW_QUERY, SLOW_ROWS, create_slow_view, slow_project

RELIABLE = "?spark.sql.adaptive.enabled=false"  # see the module's docstring
STOPPED_WITHIN_S = 5.0  # after the call returned: the server confirms the stop (40 s of work if not)
QUICK_WITHIN_S = 10.0
TIMEOUTS_S = (0.1, 0.2, 0.3, 0.5, 0.8, 1.2)  # across spark.sql(), the schema request and the run


def connect_slow_view(server: ConnectServer, folder: Path, name: str) -> str:
    """``global_temp.<name>`` on the Connect server: the events with the sleeping ``slow`` column."""
    adapter = open_adapter(server.url)
    try:
        assert isinstance(adapter, SparkAdapter)
        return create_slow_view(adapter._spark, folder, name)
    finally:
        adapter.close()


@pytest.fixture(scope="module")
def slow(connect_server: ConnectServer, tmp_path_factory: pytest.TempPathFactory) -> Any:  # noqa: F811
    table = connect_slow_view(connect_server, tmp_path_factory.mktemp("slow") / "events", "segwise_connect_slow")
    project = slow_project(table, connect_server.url + RELIABLE)
    assert project.run(QUICK_QUERY).column("value").to_pylist() == [SLOW_ROWS]  # warm: the first is slow
    assert_quick(project)
    yield project
    project.close()


def assert_quick(project: segwise.Project) -> None:
    """The quick question is answered at once: the server's one slot is free."""
    started = time.monotonic()
    assert project.run(QUICK_QUERY).column("value").to_pylist() == [SLOW_ROWS]
    assert time.monotonic() - started < QUICK_WITHIN_S, "the server's slot was still taken"


def assert_server_stopped(server: ConnectServer, adapter: Any) -> None:
    """Nothing runs on the server (for a settle time: a job that starts late is seen), and no job
    of the statement's tag has run the slow stage to its end (each of its jobs was cancelled or
    was the quick map stage before it)."""
    assert isinstance(adapter, SparkAdapter) and adapter.last_job_group
    server.wait_idle(STOPPED_WITHIN_S)
    jobs = server.jobs(adapter.last_job_group)
    assert all(job["status"] in ("FAILED", "SUCCEEDED") for job in jobs), jobs
    slow_finished = [job for job in jobs if job["status"] == "SUCCEEDED" and job["numTasks"] > 1]
    assert not slow_finished, f"a job of the statement ran to its end: {slow_finished}"


def test_a_cancel_sent_as_the_query_leaves_the_client_stops_it(
    connect_server: ConnectServer,  # noqa: F811
    slow: segwise.Project,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first interrupt reaches the server before the query's operation does (nothing to
    interrupt yet); the statement must still be stopped on the server, every time."""
    adapter = slow.adapter()
    assert isinstance(adapter, SparkAdapter)
    client = adapter._spark.client
    send = client.to_table
    for _ in range(3):
        statement = Statement()

        def cancel_then_send(*args: Any, _statement: Statement = statement, **kwargs: Any) -> Any:
            assert _statement.cancel()  # the canceller ran: interruptTag went out, and found nothing
            return send(*args, **kwargs)

        monkeypatch.setattr(client, "to_table", cancel_then_send)
        started = time.monotonic()
        with pytest.raises(WarehouseError, match="cancelled"):
            adapter.execute_statement(slow.compile(SLOW_QUERY), statement)
        assert time.monotonic() - started < STOPPED_WITHIN_S
        assert adapter.last_cancel is not None and adapter.last_cancel.interrupted  # a later interrupt hit it
        assert_server_stopped(connect_server, adapter)
        monkeypatch.setattr(client, "to_table", send)
        assert_quick(slow)


def test_timeouts_stop_the_statement_on_the_server(connect_server: ConnectServer, slow: segwise.Project) -> None:  # noqa: F811
    adapter = slow.adapter()
    for timeout in TIMEOUTS_S:
        started = time.monotonic()
        with pytest.raises(WarehouseError, match=f"timed out after {timeout:g} s") as info:
            slow.run(SLOW_QUERY, timeout=timeout)
        assert time.monotonic() - started < timeout + STOPPED_WITHIN_S
        assert "has not stopped it yet" not in info.value.message, timeout
        assert_server_stopped(connect_server, adapter)
    assert_quick(slow)


def test_ctrl_c_stops_the_statement_on_the_server(connect_server: ConnectServer, slow: segwise.Project) -> None:  # noqa: F811
    started = time.monotonic()
    with ctrl_c_after(1.5):
        slow.run(SLOW_QUERY)
    assert time.monotonic() - started < 1.5 + STOPPED_WITHIN_S
    assert_server_stopped(connect_server, slow.adapter())
    assert_quick(slow)
