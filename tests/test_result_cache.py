"""The result cache (``segwise.cache``, ``cache:`` in the project file): answers are served from
memory only while the warehouse's data is unchanged, counted, bounded in bytes, expired by ``ttl``.

Every expected answer comes from the oracle (``tests.oracle``) over the rows the test wrote, so a
stale answer after an append fails. Engines with a data version (DuckDB file, SQLite file,
PostgreSQL, DuckDB over ``file:`` tables) append events and must see them; engines without one
(chDB, Spark) cache only with a ``ttl``, expired with an injected clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import segwise
from segwise.cache import Lookup, PairMemo, ResultCache
from segwise.cli import main
from segwise.execute import answer
from segwise.server import ServerSettings, create_app
from tests.backends import BACKENDS, plain_types, schema_for, sqlite_ready
from tests.conftest import assert_same
from tests.oracle import oracle

QUERY: dict[str, Any] = {
    "series": [{"event": "view", "measure": "unique_users"}, {"event": "any", "measure": "events"}],
    "date_range": {"from": "2025-01-01", "to": "2025-01-08"},
    "time_grain": "day",
}


def events(first_user: int, users: int, day: int = 0) -> pa.Table:
    """Events of ``users`` users from ``first_user`` on: each views on a few days from ``day`` on."""
    rows: dict[str, list[Any]] = {"user_id": [], "event_time": [], "event_name": []}
    for u in range(first_user, first_user + users):
        for k in range(u % 3 + 1):
            rows["user_id"].append(f"u{u}")
            rows["event_time"].append(datetime(2025, 1, 1 + (day + u + 2 * k) % 7, 9 + k, 30))
            rows["event_name"].append("view" if k % 2 == 0 else "click")
    return pa.table(
        {
            "user_id": pa.array(rows["user_id"], pa.string()),
            "event_time": pa.array(rows["event_time"], pa.timestamp("us")),
            "event_name": pa.array(rows["event_name"], pa.string()),
        }
    )


def expected(table: pa.Table) -> list[dict[str, Any]]:
    return oracle(QUERY, table.to_pylist(), None)


def check(result: pa.Table, table: pa.Table) -> None:
    assert_same(result, expected(table), QUERY, "UTC")


def run(project: segwise.Project, cache: bool | None = None) -> tuple[pa.Table, str]:
    lookup = Lookup()
    result = answer(QUERY, project, cache=cache, lookup=lookup)
    return result, lookup.status


# -- the store --------------------------------------------------------------------------------------


def small(n: int) -> pa.Table:
    return pa.table({"x": pa.array(range(n), pa.int64())})  # 8 bytes a row


def test_lru_by_bytes_counts_and_evicts() -> None:
    store = ResultCache(max_bytes=8 * 25)
    assert store.put("a", 1, small(10)) and store.put("b", 1, small(10))
    assert store.get("a", 1) is not None  # a is now the most recently used
    assert store.put("c", 1, small(10))  # 240 bytes > 200: b goes
    assert "b" not in store and "a" in store and "c" in store
    assert store.nbytes == 160 and store.evictions == 1
    assert store.get("b", 1) is None
    assert (store.hits, store.misses) == (1, 1)
    assert not store.put("huge", 1, small(26))  # larger than the whole bound: not kept
    assert "huge" not in store and len(store) == 2


def test_another_version_is_a_miss_and_replaced() -> None:
    store = ResultCache()
    store.put("q", ("file", 1), small(3))
    assert store.peek("q", ("file", 1)) and not store.peek("q", ("file", 2))
    assert store.get("q", ("file", 2)) is None
    assert "q" not in store and store.nbytes == 0  # the stale entry is dropped at once
    assert (store.hits, store.misses) == (0, 1)


def test_pair_memo_holds_objects_weakly() -> None:
    memo = PairMemo(size=2)
    a, b, c = small(1), small(2), small(3)
    memo.put(a, b, "ab")
    assert memo.get(a, b) == "ab" and memo.get(b, a) is None
    memo.put(a, c, "ac")
    memo.put(b, c, "bc")  # the least recently used (a, b) goes
    assert memo.get(a, b) is None and memo.get(b, c) == "bc" and len(memo) == 2
    del a
    assert memo.get(small(1), c) is None  # a new object, even at a reused address, is not the old one


def test_ttl_with_an_injected_clock() -> None:
    now = [100.0]
    store = ResultCache(ttl=30, clock=lambda: now[0])
    assert store.cacheable(None)  # no version: a ttl makes it cacheable
    store.put("q", None, small(3))
    now[0] = 129.9
    assert store.get("q", None) is not None
    now[0] = 130.0
    assert store.get("q", None) is None and "q" not in store
    assert not ResultCache().cacheable(None) and not ResultCache().put("q", None, small(3))


# -- appending events: the answer changes -----------------------------------------------------------


def _append_duckdb(project: segwise.Project, url: str, new: pa.Table, directory: Path, dataset: str) -> None:
    project.close()  # DuckDB: one process holds a file either read-only or writable
    con = duckdb.connect(url.removeprefix("duckdb:///"))
    con.register("_new", new)
    con.execute('INSERT INTO "events" SELECT * FROM _new')
    con.close()


def _append_sqlite(project: segwise.Project, url: str, new: pa.Table, directory: Path, dataset: str) -> None:
    import adbc_driver_sqlite.dbapi as sqlite

    with sqlite.connect(url.removeprefix("sqlite:///")) as con:  # while the project's connection is open
        with con.cursor() as cur:
            cur.adbc_ingest("events", sqlite_ready(new), mode="append")
        con.commit()


def _append_postgresql(project: segwise.Project, url: str, new: pa.Table, directory: Path, dataset: str) -> None:
    import adbc_driver_postgresql.dbapi as pg

    from tests.pg import postgres_dsn

    with pg.connect(postgres_dsn(), autocommit=True) as con, con.cursor() as cur:
        cur.adbc_ingest("events", plain_types(new), mode="append", db_schema_name=schema_for(dataset, directory))


APPEND: dict[str, Callable[[segwise.Project, str, pa.Table, Path, str], None]] = {
    "duckdb": _append_duckdb,
    "sqlite": _append_sqlite,
    "postgresql": _append_postgresql,
}


@pytest.mark.parametrize("engine", sorted(APPEND))
def test_appended_events_are_seen(engine: str, tmp_path: Path) -> None:
    before = events(0, 12)
    url = BACKENDS[engine].load({"events": before}, tmp_path, "cache_append")
    project = segwise.Project(warehouse=url, event_tables=[{"table": "events", "event_name": "event_name"}], cache=True)
    try:
        first, status = run(project)
        check(first, before)
        assert status == "miss"
        again, status = run(project)
        assert status == "hit" and again is first  # the cached answer's shaped table (execute.SHAPED)
        assert (project.result_cache().hits, project.result_cache().misses) == (1, 1)

        new = events(100, 5, day=3)
        APPEND[engine](project, url, new, tmp_path, "cache_append")
        after = pa.concat_tables([before, new])
        assert expected(after) != expected(before)  # the appended events change the answer
        fresh, status = run(project)
        assert status == "miss"
        check(fresh, after)
        _, status = run(project)
        assert status == "hit"
        assert (project.result_cache().hits, project.result_cache().misses) == (2, 2)
    finally:
        project.close()


def test_file_tables_see_a_rewritten_file(tmp_path: Path) -> None:
    """DuckDB over ``file:`` tables (in memory): the files' identity and times are the version."""
    before = events(0, 10)
    path = tmp_path / "events.csv"
    pacsv.write_csv(before, path)
    spec = {"table": "events", "file": str(path), "event_name": "event_name"}
    project = segwise.Project(event_tables=[spec], cache=True)
    try:
        check(run(project)[0], before)
        assert run(project)[1] == "hit"
        after = pa.concat_tables([before, events(50, 4, day=2)])
        pacsv.write_csv(after, path)
        project.close()  # the views were made over the files at connect time: reopen to read them again
        result, status = run(project)
        assert status == "miss"
        check(result, after)
    finally:
        project.close()


# -- no data version: only with a ttl -------------------------------------------------------------


def _project(url: str, cache: Any) -> segwise.Project:
    return segwise.Project(warehouse=url, event_tables=[{"table": "events", "event_name": "event_name"}], cache=cache)


@pytest.mark.parametrize("engine", ["chdb", "spark", "duckdb-memory"])
def test_without_a_data_version_only_a_ttl_caches(engine: str, tmp_path: Path) -> None:
    table = events(0, 9)
    if engine == "duckdb-memory":  # an application's own connection: its data can change unseen
        con = duckdb.connect()
        con.register("_t", table)
        con.execute("CREATE TABLE events AS SELECT * FROM _t")
        project = _project("duckdb:///:memory:", True)
        project._adapter = segwise.adapters.duckdb.DuckDBAdapter.from_connection(con)  # type: ignore[attr-defined]
        ttl_project = _project("duckdb:///:memory:", {"ttl": 60})
        ttl_project._adapter = segwise.adapters.duckdb.DuckDBAdapter.from_connection(con)  # type: ignore[attr-defined]
    else:
        url = BACKENDS[engine].load({"events": table}, tmp_path, "cache_ttl")
        project, ttl_project = _project(url, True), _project(url, {"ttl": 60})
    try:
        for _ in range(2):
            result, status = run(project)
            assert status == "uncacheable"
            check(result, table)
        assert len(project.result_cache()) == 0

        now = [1000.0]
        ttl_project.result_cache().clock = lambda: now[0]
        assert run(ttl_project)[1] == "miss"
        now[0] += 59
        result, status = run(ttl_project)
        assert status == "hit"
        check(result, table)
        now[0] += 1  # 60 s after it was stored
        assert run(ttl_project)[1] == "miss"
    finally:
        project.close()
        ttl_project.close()


# -- switches -------------------------------------------------------------------------------------------


@pytest.fixture
def duckdb_file(tmp_path: Path) -> str:
    return BACKENDS["duckdb"].load({"events": events(0, 8)}, tmp_path, "cache_switch")


@pytest.mark.parametrize(
    ("setting", "call", "used"),
    [
        (None, None, False),  # left out: off for segwise.run ...
        (None, True, True),  # ... on where the caller asks (segwise serve)
        (True, None, True),
        ({"max_bytes": 1_000_000}, None, True),
        (False, True, False),  # cache: false wins over serve's default
        (True, False, False),  # --no-cache wins over cache: true
    ],
)
def test_switches(duckdb_file: str, setting: Any, call: bool | None, used: bool) -> None:
    project = _project(duckdb_file, setting)
    try:
        statuses = [run(project, cache=call)[1] for _ in range(2)]
        assert statuses == (["miss", "hit"] if used else ["off", "off"])
    finally:
        project.close()


def test_cache_settings_are_checked() -> None:
    base = {"warehouse": "duckdb:///:memory:", "event_tables": [{"table": "e", "event_name": "n"}]}
    for cache, message in (
        ({"ttl": 0}, "cache > CacheSpec > ttl: Input should be greater than 0"),
        ({"x": 1}, "x: unknown field"),
    ):
        with pytest.raises(segwise.SpecError, match=message):
            segwise.Project.parse({**base, "cache": cache})


def test_server_headers_and_explain(duckdb_file: str) -> None:
    project = _project(duckdb_file, None)  # left out: on in the server
    try:
        with TestClient(create_app(project, ServerSettings())) as client:
            seen = []
            for _ in range(3):
                response = client.post("/api/query", json=QUERY)
                assert response.status_code == 200
                seen.append(
                    tuple(
                        response.headers[h]
                        for h in ("X-Segwise-Cache", "X-Segwise-Cache-Hits", "X-Segwise-Cache-Misses")
                    )
                )
            assert seen == [("miss", "0", "1"), ("hit", "1", "1"), ("hit", "2", "1")]
            rows = client.post("/api/query", json=QUERY).json()
            assert len(rows) == len(expected(events(0, 8)))
            explained = client.post("/api/explain", json=QUERY).json()["cache"]
            assert explained["status"] == "hit" and explained["hits"] == 3 and explained["entries"] == 1
        with TestClient(create_app(project, ServerSettings(cache=False))) as client:
            response = client.post("/api/query", json=QUERY)
            assert response.headers["X-Segwise-Cache"] == "off" and "X-Segwise-Cache-Hits" not in response.headers
            assert client.post("/api/explain", json=QUERY).json()["cache"] == {"status": "off"}
    finally:
        project.close()


def test_explain_analyze_and_no_cache(duckdb_file: str, tmp_path: Path) -> None:
    project_file = tmp_path / "segwise.yaml"
    project_file.write_text(
        f"warehouse: '{duckdb_file}'\ncache: {{max_bytes: 5000000}}\n"
        "event_tables:\n  - {table: events, event_name: event_name}\n"
    )
    query_file = tmp_path / "q.yaml"
    query_file.write_text(
        "series: [{event: view, measure: unique_users}]\ndate_range: {from: 2025-01-01, to: 2025-01-08}\n"
    )
    runner = CliRunner()
    out = runner.invoke(main, ["explain", str(query_file), "-p", str(project_file), "--analyze"])
    assert out.exit_code == 0, out.output
    assert "-- result cache: this statement is not in the cache" in out.output
    assert "0 hits, 0 misses, 0 entries, 0 of 5,000,000 bytes" in out.output
    off = runner.invoke(main, ["explain", str(query_file), "-p", str(project_file), "--analyze", "--no-cache"])
    assert off.exit_code == 0 and "-- result cache: off" in off.output
    ran = runner.invoke(main, ["run", str(query_file), "-p", str(project_file), "--no-cache", "-f", "json"])
    assert ran.exit_code == 0, ran.output


def test_relative_ranges_never_serve_another_now(duckdb_file: str) -> None:
    project = _project(duckdb_file, True)
    query = {**QUERY, "date_range": {"last": "3d"}}
    try:
        answers = []
        for now in ("2025-01-05T00:00:00", "2025-01-05T00:00:00", "2025-01-07T00:00:00"):
            lookup = Lookup()
            answers.append((answer(query, project, now=now, lookup=lookup), lookup.status))
        assert [s for _, s in answers] == ["miss", "hit", "miss"]
        table = events(0, 8)
        for (result, _), now in zip(answers, ("2025-01-05", "2025-01-05", "2025-01-07"), strict=True):
            at = datetime.fromisoformat(now)
            assert_same(result, oracle(query, table.to_pylist(), None, now=at), query, "UTC")
        assert not answers[0][0].equals(answers[2][0])  # the later "now" has another answer
    finally:
        project.close()
