"""Single flight (``segwise.flight``): identical statements at once run once; a caller leaving
(its timeout, its cancellation) never cancels the run the others wait for, and the run is
cancelled when every caller has left. A slow adapter double (a work function held on an event)
makes the overlap certain, without sleeping."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import segwise
from segwise import dispatch
from segwise.adapters.base import Statement
from segwise.cache import Lookup
from segwise.errors import WarehouseError
from segwise.execute import answer
from segwise.flight import Flights
from segwise.observe import CancelScope, current_scope, execute_observed
from tests.backends import BACKENDS
from tests.conftest import assert_same
from tests.oracle import oracle
from tests.test_result_cache import QUERY, events


class Slow:
    """A statement double: runs until released, or until its flight cancels it."""

    def __init__(self, value: Any = "answer", error: BaseException | None = None) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.cancelled = threading.Event()
        self.calls = 0
        self.value, self.error = value, error

    def __call__(self) -> Any:
        self.calls += 1
        statement = Statement()
        statement.set_canceller(self.cancelled.set)
        scope = current_scope()
        assert scope is not None  # the flight's own scope
        scope.add(statement, "double")
        self.started.set()
        try:
            while not self.release.wait(0.01):
                if self.cancelled.is_set():
                    raise WarehouseError("the double was cancelled", sqlstate="57014")
        finally:
            scope.remove(statement)
        if self.error is not None:
            raise self.error
        return self.value


def call(
    flights: Flights[Any], work: Slow, timeout: float | None, out: list[Any], scope: CancelScope | None = None
) -> threading.Thread:
    def target() -> None:
        try:
            if scope is not None:
                with scope:
                    out.append(flights.run("k", work, timeout, "test"))
            else:
                out.append(flights.run("k", work, timeout, "test"))
        except BaseException as exc:
            out.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def wait_for(condition: Any) -> None:
    done = threading.Event()
    for _ in range(2000):
        if condition():
            return
        done.wait(0.005)
    raise AssertionError("condition not reached")


def test_callers_at_once_share_one_run() -> None:
    flights: Flights[Any] = Flights()
    work = Slow()
    outs: list[list[Any]] = [[] for _ in range(5)]
    threads = [call(flights, work, None, out) for out in outs]
    wait_for(lambda: flights.joined == 4)
    work.release.set()
    for t in threads:
        t.join()
    assert work.calls == 1 and flights.runs == 1 and len(flights) == 0
    assert sorted(out[0][1] for out in outs) == [False, True, True, True, True]
    assert all(out[0][0] == "answer" for out in outs)


def test_one_callers_timeout_leaves_the_run_to_the_others() -> None:
    flights: Flights[Any] = Flights()
    work = Slow()
    first: list[Any] = []
    second: list[Any] = []
    t1 = call(flights, work, 0.05, first)  # gives up soon
    work.started.wait(5)
    t2 = call(flights, work, None, second)
    t1.join()
    assert isinstance(first[0], WarehouseError) and "other callers still wait" in str(first[0])
    assert not work.cancelled.is_set()  # the run goes on for the second caller
    work.release.set()
    t2.join()
    assert second == [("answer", True)] and work.calls == 1


def test_a_cancelled_caller_leaves_and_the_last_one_cancels_the_run() -> None:
    flights: Flights[Any] = Flights()
    work = Slow()
    scopes = [CancelScope(), CancelScope()]
    outs: list[list[Any]] = [[], []]
    threads = [call(flights, work, None, out, scope) for out, scope in zip(outs, scopes, strict=True)]
    wait_for(lambda: flights.joined == 1)
    scopes[0].cancel()  # one client goes away: the other still waits, the run goes on
    threads[0].join()
    assert isinstance(outs[0][0], WarehouseError) and "other callers still wait" in str(outs[0][0])
    assert not work.cancelled.is_set()
    scopes[1].cancel()  # the last one goes: the statement is cancelled on the warehouse
    threads[1].join()
    assert isinstance(outs[1][0], WarehouseError) and outs[1][0].message == "the query was cancelled"
    wait_for(work.cancelled.is_set)
    assert len(flights) == 0  # forgotten: the next caller starts afresh
    again = Slow(value="fresh")
    again.release.set()
    assert flights.run("k", again, None, "test") == ("fresh", False) and flights.runs == 2


def test_a_failed_run_reaches_every_caller_and_is_not_remembered() -> None:
    flights: Flights[Any] = Flights()
    work = Slow(error=WarehouseError("boom", sqlstate="42000"))
    outs: list[list[Any]] = [[], []]
    threads = [call(flights, work, None, out) for out in outs]
    wait_for(lambda: flights.joined == 1)
    work.release.set()
    for t in threads:
        t.join()
    errors = [out[0] for out in outs]
    assert all(isinstance(e, WarehouseError) and e.message == "boom" and e.sqlstate == "42000" for e in errors)
    assert errors[0] is not errors[1]  # each raised its own copy
    ok = Slow()
    ok.release.set()
    assert flights.run("k", ok, None, "test") == ("answer", False) and ok.calls == 1


def test_concurrent_identical_queries_send_one_statement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the pipeline, on DuckDB: eight threads ask the same question at once; the warehouse
    sees one statement and every thread gets the oracle's answer."""
    table = events(0, 10)
    url = BACKENDS["duckdb"].load({"events": table}, tmp_path, "flight")
    project = segwise.Project(warehouse=url, event_tables=[{"table": "events", "event_name": "event_name"}], cache=True)
    sent: list[str] = []
    gate = threading.Event()
    real = dispatch._send

    def held(*args: Any) -> pa.Table:
        sent.append(args[2])
        gate.wait(30)  # until every thread has joined the flight
        return real(*args)

    monkeypatch.setattr(dispatch, "_send", held)
    flights_before = dispatch.FLIGHTS.joined
    results: list[Any] = [None] * 8
    lookups = [Lookup() for _ in results]

    def ask(i: int) -> None:
        results[i] = answer(QUERY, project, lookup=lookups[i])

    try:
        project.catalog()
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(results))]
        for t in threads:
            t.start()
        wait_for(lambda: dispatch.FLIGHTS.joined - flights_before == len(results) - 1)
        gate.set()
        for t in threads:
            t.join()
        assert len(sent) == 1
        assert sorted(lk.shared for lk in lookups) == [False] + [True] * 7
        for result in results:
            assert_same(result, oracle(QUERY, table.to_pylist(), None), QUERY, "UTC")
        assert answer(QUERY, project, lookup=(after := Lookup())) is not None and after.status == "hit"
    finally:
        project.close()


# -- whose deadline the shared statement runs under --------------------------------------------------
# The flight's statement has no timeout of its own: each caller's timeout only decides when that
# caller leaves, and the statement is cancelled when the last caller has left (timed out or
# cancelled). So a caller without a timeout keeps it running for as long as it waits.


def test_a_follower_with_a_timeout_never_bounds_a_leader_without_one() -> None:
    flights: Flights[Any] = Flights()
    work = Slow()
    leader: list[Any] = []
    follower: list[Any] = []
    t1 = call(flights, work, None, leader)  # starts the flight, waits as long as it takes
    work.started.wait(5)
    t2 = call(flights, work, 0.05, follower)
    t2.join()
    assert isinstance(follower[0], WarehouseError) and "timed out after 0.05 s" in str(follower[0])
    assert "other callers still wait" in str(follower[0])
    assert not work.cancelled.is_set() and t1.is_alive() and len(flights) == 1
    work.release.set()
    t1.join()
    assert leader == [("answer", False)] and work.calls == 1


def test_when_every_caller_has_timed_out_the_run_is_cancelled() -> None:
    flights: Flights[Any] = Flights()
    work = Slow()
    first: list[Any] = []
    second: list[Any] = []
    t1 = call(flights, work, 0.05, first)
    work.started.wait(5)
    t2 = call(flights, work, 0.3, second)  # joins; leaves after the first
    t1.join()
    assert "other callers still wait" in str(first[0]) and not work.cancelled.is_set()
    t2.join()
    assert isinstance(second[0], WarehouseError) and second[0].message.endswith("and was cancelled")
    wait_for(work.cancelled.is_set)  # the last one out cancels the statement
    assert len(flights) == 0 and work.calls == 1


# four-way cross product (900^4 rows) under a predicate no join can use: hours unless interrupted
SLOW_SQL = (
    'SELECT count(*) AS n FROM "events" AS a, "events" AS b, "events" AS c, "events" AS d '
    "WHERE hash(a.event_time, b.event_time, c.event_time, d.event_time) % 7 = 0"
)


def _slow_duckdb(tmp_path: Path) -> tuple[segwise.Project, Any]:
    """A real DuckDB statement that runs for hours (a four-way cross join) unless interrupted; the
    work function a flight runs (through ``segwise.observe``, as ``segwise.dispatch`` sends it),
    recording how it ended."""
    url = BACKENDS["duckdb"].load({"events": events(0, 900)}, tmp_path, "flight_slow")
    project = segwise.Project(warehouse=url, event_tables=[{"table": "events", "event_name": "event_name"}])
    adapter, tables = project.adapter(), dispatch.configured_tables(project)
    ended: list[BaseException | None] = []
    finished = threading.Event()

    def work() -> Any:
        try:
            result = execute_observed(adapter, SLOW_SQL, tables=tables)
        except BaseException as exc:
            ended.append(exc)
            raise
        else:
            ended.append(None)
            return result
        finally:
            finished.set()

    work.ended, work.finished = ended, finished  # type: ignore[attr-defined]
    return project, work


def test_a_real_duckdb_statement_outlives_a_followers_timeout_and_stops_with_the_last_caller(tmp_path: Path) -> None:
    project, work = _slow_duckdb(tmp_path)
    flights: Flights[Any] = Flights()
    scope = CancelScope()
    try:
        leader: list[Any] = []
        follower: list[Any] = []
        t1 = call(flights, work, None, leader, scope)  # no timeout: the leader waits until its client leaves
        wait_for(lambda: len(flights) == 1)
        t2 = call(flights, work, 0.2, follower)
        t2.join()
        assert "timed out after 0.2 s" in str(follower[0]) and "other callers still wait" in str(follower[0])
        assert not work.finished.wait(0.3) and t1.is_alive()  # still running on DuckDB for the leader
        scope.cancel()  # the leader's client goes away: the last caller, so DuckDB is interrupted
        t1.join(10)
        assert isinstance(leader[0], WarehouseError) and leader[0].message == "the query was cancelled"
        assert work.finished.wait(10), "the statement was not interrupted"
        assert isinstance(work.ended[0], WarehouseError)
    finally:
        scope.cancel()
        work.finished.wait(10)
        project.close()


def test_a_real_duckdb_statement_is_interrupted_when_every_caller_timed_out(tmp_path: Path) -> None:
    project, work = _slow_duckdb(tmp_path)
    flights: Flights[Any] = Flights()
    try:
        outs: list[list[Any]] = [[], []]
        threads = [call(flights, work, timeout, out) for timeout, out in zip((0.2, 0.4), outs, strict=True)]
        for t in threads:
            t.join(10)
        assert "other callers still wait" in str(outs[0][0])
        assert outs[1][0].message.endswith("and was cancelled")
        assert work.finished.wait(10), "the statement was not interrupted"
        assert isinstance(work.ended[0], WarehouseError) and len(flights) == 0
    finally:
        work.finished.wait(10)
        project.close()
