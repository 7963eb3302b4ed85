"""The HTTP API: answers checked against the oracle, Arrow IPC, SQL and explain, structured errors,
the bearer token, limits (body size, timeout, concurrency, queue), cancellation, and the command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pyarrow as pa
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import segwise
from segwise.cli import main
from segwise.errors import WarehouseError
from segwise.output import pretty_sql
from segwise.present import paste_statement
from segwise.server import ARROW_STREAM, ServerSettings, create_app
from tests.explorer_support import (
    NOW,
    demo_tables,
    expected_rows,
    free_port,
    gallery_queries,
    live_server,
    make_demo,
    menu_queries,
    same_rows,
)

SIGNUPS = {"series": [{"event": "signup", "measure": "unique_users"}], "time_grain": "week"}


@pytest.fixture(scope="module")
def project_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo(tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="module")
def project(project_file: Path) -> Iterator[segwise.Project]:
    with segwise.Project.load(project_file) as p:
        yield p


@pytest.fixture(scope="module")
def client(project: segwise.Project) -> Iterator[TestClient]:
    with TestClient(create_app(project, ServerSettings(now=NOW))) as c:
        yield c


def assert_error(response: httpx2.Response, status: int, *fragments: str, where: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text and 'File "' not in response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "where"}
    for fragment in fragments:
        assert fragment in error["message"], error
    if where is not None:
        assert error["where"] is not None and where in error["where"], error
    return error


# -- answers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,question,query", menu_queries(), ids=[g[0] for g in menu_queries()])
def test_every_gallery_question_matches_the_oracle(
    client: TestClient, name: str, question: str, query: dict[str, Any]
) -> None:
    response = client.post("/api/query", json=query)
    assert response.status_code == 200, response.text
    want = expected_rows(query)
    assert same_rows(response.json(), want), (response.json()[:5], want[:5])


def test_query_rows_are_the_cli_json(client: TestClient, project_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    path.write_text(json.dumps(SIGNUPS))
    result = CliRunner().invoke(
        main, ["run", str(path), "-p", str(project_file), "-f", "json", "--now", NOW.isoformat()]
    )
    assert result.exit_code == 0, result.output
    response = client.post("/api/query", json=SIGNUPS)
    assert response.json() == json.loads(result.stdout)
    assert int(response.headers["x-segwise-rows"]) == len(response.json())
    assert response.headers["server-timing"].startswith("query;dur=")


def test_arrow_stream_when_asked(client: TestClient, project: segwise.Project) -> None:
    query = {
        **SIGNUPS,
        "breakdown": ["platform"],
        "series": [*SIGNUPS["series"], {"event": "purchase", "measure": "sum:revenue"}],
    }
    response = client.post("/api/query", json=query, headers={"Accept": f"{ARROW_STREAM}, application/json;q=0.5"})
    assert response.status_code == 200
    assert response.headers["content-type"] == ARROW_STREAM
    table = pa.ipc.open_stream(response.content).read_all()
    assert table.equals(segwise.run(query, project, now=NOW))
    assert table.schema.field("bucket").type == pa.timestamp("us", tz="UTC")


def test_now_parameter_moves_relative_ranges(client: TestClient) -> None:
    query = {"series": [{"event": "any", "measure": "unique_users"}], "date_range": {"last": "7d"}}
    earlier = client.post("/api/query?now=2025-03-01", json=query).json()
    assert earlier[0]["bucket"].startswith("2025-02-22") and len(earlier) == 7
    assert earlier == expected_rows_at(query, "2025-03-01")
    assert_error(client.post("/api/query?now=yesterday", json=query), 400, "ISO 8601", where="now")


def expected_rows_at(query: dict[str, Any], now: str) -> list[dict[str, Any]]:
    from datetime import datetime

    from tests.oracle import oracle

    users, events = demo_tables()
    return [
        {**r, "bucket": r["bucket"].isoformat()} for r in oracle(query, events, users, now=datetime.fromisoformat(now))
    ]


# -- catalog, sql, explain --------------------------------------------------------------------------


def test_catalog_lists_events_properties_types_and_samples(client: TestClient) -> None:
    _, events = demo_tables()
    payload = client.get("/api/catalog").json()
    names = events.column("event_name").to_pylist()
    assert {e["name"]: e["count"] for e in payload["events"]} == {n: names.count(n) for n in set(names)}
    props = {p["name"]: p for p in payload["properties"]}
    assert props["platform"]["source"] == "event" and props["platform"]["type"] == "string"
    assert props["revenue"]["type"] == "float"
    assert props["country"]["source"] == "user"
    assert set(props["platform"]["samples"]) <= set(events.column("platform").to_pylist())
    assert 0 < len(props["country"]["samples"]) <= 12
    assert "event_name" not in props and "user_id" not in props
    assert payload["operators"]["string"][0] == "eq" and "contains" not in payload["operators"]["float"]
    assert payload["project"] == {
        "dialect": "duckdb",
        "timezone": "UTC",
        "week_start": "monday",
        "now": NOW.isoformat(),
    }
    assert "snowflake" in payload["dialects"]


def test_sample_values_are_one_small_query_per_property_and_cached(project_file: Path) -> None:
    with segwise.Project.load(project_file) as project:
        project.catalog().event_names()
        adapter = project.adapter()
        seen: list[str] = []
        original = adapter.execute_statement  # where every guarded statement is run

        def spy(sql: str, statement: Any) -> pa.Table:
            seen.append(sql)
            return original(sql, statement)

        adapter.execute_statement = spy  # type: ignore[method-assign]
        with TestClient(create_app(project, ServerSettings(sample_rows=1000))) as c:
            first = c.get("/api/catalog").json()
            assert c.get("/api/catalog").json() == first
        assert len(seen) == len(first["properties"])
        assert all("LIMIT 1000" in sql for sql in seen)


def test_sql_for_the_warehouse_and_other_dialects(client: TestClient, project: segwise.Project) -> None:
    response = client.post("/api/sql", json=SIGNUPS)
    compiled = segwise.compile_query(project, SIGNUPS, now=NOW)
    pasted = paste_statement(compiled, project.adapter().flavor)  # what `segwise run` answers, as one statement
    assert response.json() == {"sql": pretty_sql(pasted, compiled.dialect), "dialect": "duckdb"}
    rows = project.adapter().execute(response.json()["sql"].rstrip(";")).to_pylist()
    assert rows == segwise.run(SIGNUPS, project, now=NOW).to_pylist()
    snowflake = client.post("/api/sql?dialect=snowflake", json=SIGNUPS).json()
    assert snowflake["dialect"] == "snowflake" and snowflake["sql"] != response.json()["sql"]
    assert_error(client.post("/api/sql?dialect=nosuch", json=SIGNUPS), 400, "unknown SQL dialect", where="dialect")


def test_explain(client: TestClient) -> None:
    payload = client.post(
        "/api/explain", json={**SIGNUPS, "date_range": {"from": "2025-01-01", "to": "2025-02-01"}}
    ).json()
    assert payload["range"]["from"] == "2025-01-01T00:00:00" and payload["time_grain"] == "week"
    assert payload["buckets"] == 5 and payload["series"][0] == {
        "label": "A",
        "event": "signup",
        "measure": "unique_users",
        "filters": 0,
    }
    assert payload["sql"].startswith("SELECT")


def test_explain_lists_previous_period_series(client: TestClient) -> None:
    payload = client.post(
        "/api/explain",
        json={**SIGNUPS, "date_range": {"from": "2025-02-01", "to": "2025-03-01"}, "compare": "previous_period"},
    ).json()
    assert [s["label"] for s in payload["series"]] == ["A", "A (previous)"]
    assert payload["series"][1]["event"] == "signup"


def test_examples_are_the_gallery(client: TestClient) -> None:
    examples = client.get("/api/examples").json()
    assert [e["name"] for e in examples] == [g[0] for g in menu_queries()]
    assert {e["name"] for e in examples} > {g[0] for g in gallery_queries()}  # funnels and retention too
    assert examples[0]["query"] == gallery_queries()[0][2]


def test_openapi_describes_the_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) >= {"/api/catalog", "/api/query", "/api/sql", "/api/explain"}
    query = spec["paths"]["/api/query"]["post"]
    assert query["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Query"}
    assert set(query["responses"]["200"]["content"]) == {"application/json", ARROW_STREAM}
    assert {"400", "413", "422", "502", "504"} <= set(query["responses"])
    assert "401" not in query["responses"]  # no token configured
    assert "Query" in spec["components"]["schemas"] and "Condition" in spec["components"]["schemas"]


# -- errors -----------------------------------------------------------------------------------------


def test_bad_requests_are_400(client: TestClient) -> None:
    assert_error(client.post("/api/query", content=b'{"series": ['), 400, "not valid JSON", where="body:1")
    assert_error(client.post("/api/query", content=b"[1, 2]"), 400, "JSON object")
    assert_error(client.post("/api/query", content=b""), 400, "empty")
    assert_error(client.post("/api/query", content=b"\xff\xfe"), 400, "not valid JSON")


def test_invalid_queries_are_422_with_the_cli_message(client: TestClient, project_file: Path, tmp_path: Path) -> None:
    bad = {"series": [{"event": "signupx"}]}
    error = assert_error(client.post("/api/query", json=bad), 422, "unknown event 'signupx'", where="series[0]")
    assert error["kind"] == "catalog"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = CliRunner().invoke(main, ["run", str(path), "-p", str(project_file)])
    assert result.exit_code == 2 and error["message"] in result.output
    op = {"series": [{"event": "signup", "where": [{"property": "platform", "op": "like", "value": "x"}]}]}
    assert_error(client.post("/api/query", json=op), 422, "series[0] (label A) > where[0] > op")
    number = {"series": [{"event": "purchase", "where": [{"property": "revenue", "op": "gt", "value": "abc"}]}]}
    assert_error(client.post("/api/query", json=number), 422, "not a number")
    prop = {"series": [{"event": "purchase", "measure": "sum:nothing"}]}
    assert_error(client.post("/api/sql", json=prop), 422, "nothing")
    assert_error(client.post("/api/explain", json={"series": []}), 422, "a query asks one question: give `series`")


def test_unknown_paths_and_methods_answer_json(client: TestClient) -> None:
    assert_error(client.get("/api/nothing"), 404)
    assert_error(client.get("/api/query"), 405)


def test_body_size_limit(project: segwise.Project) -> None:
    with TestClient(create_app(project, ServerSettings(max_body_bytes=200))) as c:
        big = {"series": [{"event": "signup", "label": "x" * 180}]}
        assert_error(c.post("/api/query", json=big), 413, "larger than 200 bytes")

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
            yield b'{"series": [{"event": "signup", "label": "'
            for _ in range(10):
                yield b"y" * 50
            yield b'"}]}'

        assert_error(c.post("/api/query", content=chunks()), 413)


def test_warehouse_failures_are_502_or_504_and_crashes_500_without_traceback(
    project: segwise.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import segwise.execute

    def fail(exc: BaseException) -> None:
        def run(*args: Any, **kwargs: Any) -> pa.Table:
            raise exc

        monkeypatch.setattr(segwise.execute, "answer", run)

    with TestClient(create_app(project), raise_server_exceptions=False) as c:
        fail(WarehouseError("DuckDB failed: IO Error: disk on fire", where="duckdb:///demo.duckdb"))
        error = assert_error(c.post("/api/query", json=SIGNUPS), 502, "disk on fire")
        assert error["kind"] == "warehouse" and error["where"] == "duckdb:///demo.duckdb"
        fail(WarehouseError("the query timed out after 5 s and was cancelled", where="duckdb", sqlstate="57014"))
        assert_error(c.post("/api/query", json=SIGNUPS), 504, "timed out")
        fail(RuntimeError("secret internals"))
        error = assert_error(c.post("/api/query", json=SIGNUPS), 500, "internal error")
        assert "secret internals" not in json.dumps(error)


# -- token, limits, cancellation ------------------------------------------------------------------------


def test_bearer_token(project: segwise.Project) -> None:
    with TestClient(create_app(project, ServerSettings(token="s3cret", now=NOW))) as c:
        assert c.get("/").status_code == 200  # the page itself holds no data
        response = c.post("/api/query", json=SIGNUPS)
        assert_error(response, 401, "bearer token", where="Authorization")
        assert response.headers["www-authenticate"] == "Bearer"
        assert_error(c.get("/api/catalog", headers={"Authorization": "Bearer wrong"}), 401)
        ok = c.post("/api/query", json=SIGNUPS, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        spec = c.get("/openapi.json").json()
        assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
        assert spec["paths"]["/api/query"]["post"]["security"] == [{"bearer": []}]


class SlowRun:
    """Wrap ``segwise.execute.answer`` (the server's unit of warehouse work): every call sleeps first;
    counts the calls that started and the most that overlapped."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, delay: float) -> None:
        import segwise.execute

        self.original = segwise.execute.answer
        self.delay = delay
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.started = 0
        monkeypatch.setattr(segwise.execute, "answer", self)

    def __call__(self, *args: Any, **kwargs: Any) -> pa.Table:
        with self.lock:
            self.running += 1
            self.started += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(self.delay)
            return self.original(*args, **kwargs)
        finally:
            with self.lock:
                self.running -= 1


def test_concurrent_queries_are_bounded_and_queued(project_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with live_server(project_file, max_concurrent_queries=2) as server:
        slow = SlowRun(monkeypatch, 0.1)
        results: list[int] = []

        def ask() -> None:
            results.append(httpx2.post(f"{server.url}/api/query", json=SIGNUPS, timeout=30).status_code)

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [200] * 8
        assert slow.peak == 2 and server.runner.peak_running == 2


def test_timeout_is_504_and_a_full_queue_503(project_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with live_server(project_file, max_concurrent_queries=1, max_waiting=0, query_timeout_s=0.3) as server:
        slow = SlowRun(monkeypatch, 4.0)
        started = time.perf_counter()
        response = httpx2.post(f"{server.url}/api/query", json=SIGNUPS, timeout=30)
        # Answered long before the 4 s query would have finished (generous: the machine is shared).
        assert time.perf_counter() - started < 3.0
        assert assert_error(response, 504, "did not finish within 0.3 s")["kind"] == "timeout"
        # The abandoned call still holds the only slot for a moment: a second request is refused.
        busy = httpx2.post(f"{server.url}/api/query", json=SIGNUPS, timeout=30)
        assert assert_error(busy, 503, "busy")["kind"] == "busy"
        assert busy.headers["retry-after"] == "1"
        time.sleep(4.0)
        slow.delay = 0
        assert httpx2.post(f"{server.url}/api/query", json=SIGNUPS, timeout=30).status_code == 200


def test_a_client_that_goes_away_drops_its_queued_query(project_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with live_server(project_file, max_concurrent_queries=1) as server:
        slow = SlowRun(monkeypatch, 1.2)
        first = threading.Thread(target=lambda: httpx2.post(f"{server.url}/api/query", json=SIGNUPS, timeout=30))
        first.start()
        time.sleep(0.2)  # the first query holds the only slot
        with pytest.raises(httpx2.TimeoutException):
            httpx2.post(f"{server.url}/api/query", json={**SIGNUPS, "time_grain": "day"}, timeout=0.3)
        first.join()
        time.sleep(0.5)
        assert server.runner.cancelled == 1
        assert slow.started == 1  # the second query never reached the warehouse


# -- the command ------------------------------------------------------------------------------------------


def test_serve_command_binds_loopback_and_checks_the_host(project_file: Path) -> None:
    port = free_port()
    env = {**os.environ, "SEGWISE_TOKEN": "t0ken"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "segwise.cli",
            "serve",
            "-p",
            str(project_file),
            "--port",
            str(port),
            "--now",
            "2025-06-30",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx2.get(base + "/", timeout=1)
                break
            except httpx2.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()  # type: ignore[union-attr]
                time.sleep(0.1)
        assert page.status_code == 200 and "segwise explorer" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        auth = {"Authorization": "Bearer t0ken"}
        catalog = httpx2.get(base + "/api/catalog", headers=auth, timeout=10).json()
        assert catalog["project"]["now"] == "2025-06-30T00:00:00"
        assert httpx2.get(base + "/api/catalog", timeout=10).status_code == 401
        rebound = httpx2.get(base + "/api/catalog", headers={**auth, "Host": "attacker.example"}, timeout=10)
        assert rebound.status_code == 400  # DNS rebinding: only loopback names are served
        assets = re.findall(r'(?:src|href)="(assets/[^"]+)"', page.text)  # every script and style the page loads
        assert {"assets/app.js", "assets/chart.js", "assets/vendor/echarts.min.js", "assets/style.css"} <= set(assets)
        for asset in assets:
            assert httpx2.get(f"{base}/{asset}", timeout=10).status_code == 200, asset
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "http://127.0.0.1:" in (process.stderr.read() if process.stderr else "")


def test_serve_command_reports_a_broken_project(tmp_path: Path) -> None:
    (tmp_path / "segwise.yaml").write_text(
        "warehouse: duckdb:///missing.duckdb\nevent_tables: [{table: events, event_name: e}]\n"
    )
    result = CliRunner().invoke(main, ["serve", "-p", str(tmp_path / "segwise.yaml")])
    assert result.exit_code == 3 and "not found" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["serve", "-p", str(tmp_path / "segwise.yaml"), "--now", "soon"])
    assert result.exit_code == 2 and "--now" in result.output


# -- charts outside the browser ----------------------------------------------------------------------------


def test_plot_html_is_standalone(project_file: Path, tmp_path: Path) -> None:
    query = tmp_path / "signups.yaml"
    query.write_text("# Sign-ups per week\n" + json.dumps({**SIGNUPS, "date_range": {"last": "8w"}}))
    out = tmp_path / "chart.html"
    result = CliRunner().invoke(
        main, ["run", str(query), "-p", str(project_file), "--now", "2025-06-30", "--plot", str(out)]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "echarts" in page and "segwiseChart" in page and "Sign-ups per week" in page
    assert "http://" not in page.split("<script>")[0] and "<script src" not in page  # nothing loaded from elsewhere
    assert '"2025-06-23T00:00:00+00:00"' in page


def test_plot_png_needs_chromium(project_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    query = tmp_path / "q.json"
    query.write_text(json.dumps(SIGNUPS))
    monkeypatch.setenv("SEGWISE_CHROMIUM", str(tmp_path / "no-such-chromium"))
    result = CliRunner().invoke(main, ["run", str(query), "-p", str(project_file), "--plot", str(tmp_path / "c.png")])
    assert result.exit_code == 2 and "apt-get install chromium" in result.output
    result = CliRunner().invoke(main, ["run", str(query), "-p", str(project_file), "--plot", str(tmp_path / "c.svg")])
    assert result.exit_code == 2 and ".html or .png" in result.output
