"""Warehouse faults: statement timeouts, Ctrl-C, connections killed mid-query, transient errors
retried with backoff, connections released, never a partial answer.

A slow statement comes from a test-only plan rule (``SlowRule``) that keeps the query's result but
adds a predicate over a three-way cross join of the event table (billions of row combinations:
minutes on every engine unless cancelled), or ``pg_sleep`` on PostgreSQL for a bounded delay.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlglot import exp

import segwise
from segwise import observe
from segwise.adapters.duckdb import DuckDBAdapter
from segwise.cli import main
from segwise.hookspecs import hookimpl
from segwise.registry import get_plugin_manager
from tests.backends import BACKENDS
from tests.fuzz import fuzz_tables

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("duckdb", "postgresql", "sqlite")
QUERY: dict[str, Any] = {
    "series": [{"event": "login", "measure": "unique_users"}],
    "date_range": {"from": "2025-01-01", "to": "2025-01-15"},
}
SLOW_ALIAS = "slow_a"


class SlowRule:
    """Plan rule: ``mode`` "cross" (practically endless) or a number of seconds of ``pg_sleep``."""

    def __init__(self, mode: str | float = "cross") -> None:
        self.mode = mode

    @hookimpl
    def segwise_plan_rules(self) -> list[Any]:
        return [self.rule]

    def rule(self, expression: exp.Expr, compiled: Any) -> exp.Expr:
        if isinstance(self.mode, (int, float)):
            sleep = exp.Anonymous(this="pg_sleep", expressions=[exp.Literal.number(self.mode)])
            slow: exp.Expr = exp.EQ(this=exp.cast(sleep, exp.DataType.Type.TEXT), expression=exp.Literal.string(""))
        else:
            names = [exp.column("event_name", table=alias, quoted=True) for alias in ("slow_a", "slow_b", "slow_c")]
            join = exp.NEQ(this=exp.DPipe(this=names[0], expression=names[1]), expression=names[2])
            count = (
                exp.select(exp.Count(this=exp.Star()))
                .from_(exp.to_table('"events"').as_(SLOW_ALIAS))
                .join(exp.to_table('"events"').as_("slow_b"), join_type="cross")
                .join(exp.to_table('"events"').as_("slow_c"), join_type="cross")
                .where(join)
            )
            slow = exp.GTE(this=exp.Subquery(this=count), expression=exp.Literal.number(0))
        return exp.select(exp.Star()).from_(expression.subquery("q")).where(slow)


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return fuzz_tables()


@pytest.fixture
def url(request: pytest.FixtureRequest, tables, tmp_path_factory: pytest.TempPathFactory) -> str:
    engine = request.param
    return BACKENDS[engine].load(tables, tmp_path_factory.mktemp(f"{engine}-faults"), "faults")


def project_for(url: str) -> segwise.Project:
    return segwise.Project(
        warehouse=url, event_tables=[{"table": "events", "event_name": "event_name"}], user_tables=[{"table": "users"}]
    )


@pytest.fixture
def slow():
    rule = SlowRule()
    pm = get_plugin_manager()
    pm.register(rule, name=f"slow-{id(rule)}")
    yield rule
    pm.unregister(rule)


def pg_running(marker: str) -> list[dict[str, Any]]:
    """Statements other sessions are running that contain ``marker``."""
    import adbc_driver_postgresql.dbapi as pg

    from tests.pg import postgres_dsn

    with pg.connect(postgres_dsn(), autocommit=True) as con, con.cursor() as cur:
        cur.execute(
            "SELECT pid, state, query FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            f"AND state = 'active' AND position({split(marker)} in lower(query)) > 0"
        )
        return cur.fetch_arrow_table().to_pylist()


def split(marker: str) -> str:
    """``marker`` as a SQL expression that does not contain it (so a query looking for it in
    pg_stat_activity does not find itself)."""
    return f"'{marker[:2]}' || '{marker[2:]}'"


def wait_until(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# -- timeouts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ENGINES, indirect=True)
def test_timeout_cancels_the_statement_on_the_warehouse(url: str, slow: SlowRule) -> None:
    with project_for(url) as project:
        project.catalog().event_counts()
        began = time.monotonic()
        with pytest.raises(segwise.WarehouseError, match=r"timed out after 0\.5 s") as caught:
            project.run(QUERY, timeout=0.5)
        elapsed = time.monotonic() - began
        assert caught.value.sqlstate == "57014"
        assert elapsed < 0.5 + 3, elapsed
        if url.startswith("postgresql"):
            assert wait_until(lambda: not pg_running(SLOW_ALIAS), 5), "the statement still runs on the server"
        slow.mode = 0.0 if url.startswith("postgresql") else "off"
        if slow.mode == "off":
            get_plugin_manager().unregister(slow)
        began = time.monotonic()
        assert project.run(QUERY, timeout=30).num_rows == 14  # the adapter is usable at once
        assert time.monotonic() - began < 5
        if slow.mode == "off":
            get_plugin_manager().register(slow, name=f"slow-{id(slow)}")


def test_cli_timeout_exits_3(slow: SlowRule, tables, tmp_path: Path) -> None:
    url = BACKENDS["duckdb"].load(tables, tmp_path, "faults")
    (tmp_path / "segwise.yaml").write_text(
        f"warehouse: {url}\nevent_tables: [{{table: events, event_name: event_name}}]\n"
    )
    (tmp_path / "q.yaml").write_text("series: [{event: login}]\ndate_range: {from: 2025-01-01, to: 2025-01-03}\n")
    began = time.monotonic()
    result = CliRunner().invoke(
        main, ["run", str(tmp_path / "q.yaml"), "-p", str(tmp_path / "segwise.yaml"), "--timeout", "0.4"]
    )
    assert result.exit_code == 3, result.output
    assert "timed out after 0.4 s" in result.stderr and "Hint:" in result.stderr and "Traceback" not in result.output
    assert time.monotonic() - began < 5


# -- Ctrl-C ----------------------------------------------------------------------------------------------

SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from segwise.registry import get_plugin_manager
from tests.test_faults import SlowRule

class Flagged(SlowRule):
    def rule(self, expression, compiled):
        Path({flag!r}).write_text("compiled")
        return super().rule(expression, compiled)

get_plugin_manager().register(Flagged(), name="slow")
from segwise.cli import main
main()
"""


@pytest.mark.parametrize("url", ["duckdb", "postgresql"], indirect=True)
def test_ctrl_c_cancels_the_running_query(url: str, tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    script = tmp_path / "slow_cli.py"
    script.write_text(SCRIPT.format(root=str(ROOT), flag=str(flag)))
    (tmp_path / "segwise.yaml").write_text(
        f"warehouse: '{url}'\nevent_tables: [{{table: events, event_name: event_name}}]\n"
    )
    (tmp_path / "q.yaml").write_text("series: [{event: login}]\ndate_range: {from: 2025-01-01, to: 2025-01-03}\n")
    process = subprocess.Popen(
        [sys.executable, str(script), "run", str(tmp_path / "q.yaml"), "-p", str(tmp_path / "segwise.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert wait_until(flag.exists, 60), "the query never started"
        if url.startswith("postgresql"):
            assert wait_until(lambda: bool(pg_running(SLOW_ALIAS)), 10)
        else:
            time.sleep(1.0)  # well inside the statement
        assert process.poll() is None, process.communicate()
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert took < 6, took
    if url.startswith("postgresql"):
        assert wait_until(lambda: not pg_running(SLOW_ALIAS), 5), "the statement still runs on the server"


# -- a connection killed mid-query (PostgreSQL) --------------------------------------------------------


class Killer(threading.Thread):
    """Terminates every backend running a statement with ``marker``, ``times`` times (0: until stopped)."""

    def __init__(self, marker: str, times: int = 0) -> None:
        super().__init__(daemon=True)
        self.marker = marker
        self.times = times
        self.killed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import adbc_driver_postgresql.dbapi as pg

        from tests.pg import postgres_dsn

        con = None
        while not self.stop.is_set() and (self.times == 0 or self.killed < self.times):
            try:
                con = con or pg.connect(postgres_dsn(), autocommit=True)
                with con.cursor() as cur:
                    cur.execute(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = 'segwise' AND state = 'active' "
                        f"AND position({split(self.marker)} in lower(query)) > 0"
                    )
                    pids = [row["pid"] for row in cur.fetch_arrow_table().to_pylist()]
                for pid in pids:
                    with con.cursor() as cur:  # (not inside COPY, where the driver runs queries)
                        cur.adbc_statement.set_options(**{"adbc.postgresql.use_copy": "false"})
                        cur.execute(f"SELECT pg_terminate_backend({int(pid)}) AS t")
                        cur.fetchall()
                    self.killed += 1
            except pg.Error:
                if con is not None:
                    con.close()
                con = None
            time.sleep(0.05)
        if con is not None:
            con.close()


@pytest.mark.parametrize("url", ["postgresql"], indirect=True)
def test_connection_killed_mid_query_is_retried_then_reported(url: str, slow: SlowRule, caplog) -> None:
    with project_for(url) as project:
        slow.mode = 0.0
        alone = project.run(QUERY)
        slow.mode = 0.1  # per result row: ~1.4 s
        killer = Killer("pg_sleep", times=1)
        killer.start()
        with caplog.at_level(logging.WARNING, logger="segwise"):
            again = project.run(QUERY)  # killed once, retried on a new connection
        killer.join(5)
        assert killer.killed == 1
        assert again.equals(alone)
        assert any("57P01" in r.getMessage() or "08006" in r.getMessage() for r in caplog.records)

        killer = Killer("pg_sleep")
        killer.start()
        try:
            with pytest.raises(segwise.WarehouseError) as caught:
                project.run(QUERY)
        finally:
            killer.stop.set()
            killer.join(5)
        message = str(caught.value)
        assert "connection was closed" in message and "gave up after 3 attempts" in message
        assert "no partial result" in message
        adapter = project.adapter()
        assert adapter.pool.open <= adapter.pool.size  # type: ignore[attr-defined]
        slow.mode = 0.0
        assert project.run(QUERY).equals(alone)  # the pool replaced the dead connections


# -- transient errors -------------------------------------------------------------------------------------


class Flaky(DuckDBAdapter):
    """Fails its first ``failures`` statements with ``sqlstate``."""

    failures = 0
    sqlstate = "40001"
    attempts = 0

    def execute_statement(self, sql: str, statement: Any) -> pa.Table:
        type(self).attempts += 1
        if type(self).attempts <= type(self).failures:
            raise segwise.WarehouseError("could not serialize access", sqlstate=type(self).sqlstate)
        return super().execute_statement(sql, statement)


@pytest.mark.parametrize(
    ("failures", "sqlstate", "attempts", "succeeds"),
    [
        (2, "40001", 3, True),  # serialization failure: retried, the third attempt answers
        (1, "08006", 2, True),  # connection failure
        (1, "57P01", 2, True),  # admin shutdown
        (5, "40P01", 3, False),  # deadlock, every time: gives up after 3 attempts
        (1, "42P01", 1, False),  # undefined table: not transient, no retry
        (1, "57014", 1, False),  # a timeout or cancel is never retried
    ],
)
def test_transient_errors_are_retried_with_backoff(
    tables, tmp_path: Path, caplog, monkeypatch, failures: int, sqlstate: str, attempts: int, succeeds: bool
) -> None:
    monkeypatch.setattr(observe, "RETRY_BASE_DELAY", 0.01)
    url = BACKENDS["duckdb"].load(tables, tmp_path, "flaky")
    project = project_for(url)
    project.catalog().event_counts()
    expected = project.run(QUERY)
    flaky = Flaky(url)
    Flaky.failures, Flaky.sqlstate, Flaky.attempts = failures, sqlstate, 0
    project._adapter = flaky  # the same catalog, a flaky connection
    seen: list[Any] = []

    class Observer:
        @staticmethod
        @hookimpl
        def segwise_query_executed(event: Any) -> None:
            seen.append(event)

    pm = get_plugin_manager()
    pm.register(Observer, name="observer-flaky")
    try:
        with caplog.at_level(logging.WARNING, logger="segwise"):
            if succeeds:
                assert project.run(QUERY).equals(expected)
            else:
                with pytest.raises(segwise.WarehouseError) as caught:
                    project.run(QUERY)
                assert (f"gave up after {attempts} attempts" in str(caught.value)) == (attempts > 1)
    finally:
        pm.unregister(name="observer-flaky")
        project.close()
    assert Flaky.attempts == attempts
    assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == (attempts - 1)
    assert [e.error is not None for e in seen] == [True] * min(failures, attempts) + [False] * (attempts - failures)


# -- connections are released -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["postgresql"], indirect=True)
def test_postgres_connections_are_bounded_and_released(url: str, slow: SlowRule) -> None:
    import adbc_driver_postgresql.dbapi as pg

    from tests.pg import postgres_dsn

    name = f"segwise_release_{os.getpid()}"
    tagged = url + f"&application_name={name}&pool_size=3"

    def sessions() -> int:
        with pg.connect(postgres_dsn(), autocommit=True) as con, con.cursor() as cur:
            cur.execute(f"SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = '{name}'")
            return int(cur.fetch_arrow_table().column("n")[0].as_py())

    slow.mode = 0.0
    project = project_for(tagged)
    project.catalog().event_counts()
    errors = []

    def worker(i: int) -> None:
        try:
            if i % 5 == 0:
                project.run({**QUERY, "series": [{"event": "login", "measure": "sum:nosuch"}]})
            slow.mode = 0.3 if i % 7 == 0 else 0.0
            project.run(QUERY, timeout=0.1 if i % 7 == 0 else None)
        except segwise.SegwiseError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    adapter = project.adapter()
    assert adapter.pool.peak <= 3  # type: ignore[attr-defined]
    assert sessions() <= 3
    assert errors  # the failures happened, and did not leak connections
    project.close()
    assert wait_until(lambda: sessions() == 0, 5)
