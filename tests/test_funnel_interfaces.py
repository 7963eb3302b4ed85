"""Funnels through every interface on the demo database: the CLI (``run``, ``sql``, ``explain``),
the Python API, the HTTP API (``/api/query``, ``/api/sql``, ``/api/explain``), each answer
compared with the plain-Python reference; and bad funnel queries refused with located messages."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

import segwise
from segwise.server import ServerSettings, create_app
from tests.explorer_support import NOW, demo_tables, make_demo
from tests.oracle_funnel import funnel_oracle
from tests.test_cli import invoke

QUERY: dict[str, Any] = {
    "funnel": {
        "steps": [{"event": "signup"}, {"event": "feature_used", "label": "activated"}, {"event": "purchase"}],
        "window": "14d",
        "exclude": [{"event": "push_opened", "after_step": 2, "before_step": 3}],
    },
    "date_range": {"from": "2025-04-01", "to": "2025-06-01"},
    "time_grain": "month",
    "breakdown": ["country"],
    "breakdown_limit": 3,
}


@pytest.fixture(scope="module")
def project_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo(tmp_path_factory.mktemp("funnel-interfaces"))


@pytest.fixture(scope="module")
def expected() -> list[dict[str, Any]]:
    users, events = demo_tables()
    rows = funnel_oracle(QUERY, events.to_pylist(), users.to_pylist(), now=NOW)
    assert any(r["step"] == 3 and r["count"] for r in rows), "a case that checks little"
    return [{**r, "bucket": r["bucket"].isoformat()} for r in rows]


def same(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert set(g) == set(w)
        for key, value in w.items():
            if key == "bucket":
                assert g[key].replace("+00:00", "").replace("T", " ")[:19] == value.replace("T", " ")[:19]
            elif isinstance(value, float):
                assert g[key] is not None and math.isclose(g[key], value, rel_tol=1e-9, abs_tol=2e-3), (key, g, w)
            else:
                assert g[key] == value, (key, g, w)


def test_cli_run_sql_explain(project_file: Path, tmp_path: Path, expected: list[dict[str, Any]]) -> None:
    query = tmp_path / "funnel.yaml"
    query.write_text(yaml.safe_dump(QUERY), encoding="utf-8")
    code, out, err = invoke("run", str(query), "-p", str(project_file), "-f", "json", "--now", NOW.isoformat())
    assert code == 0, err
    same(json.loads(out), expected)
    code, out, _ = invoke("sql", str(query), "-p", str(project_file), "--now", NOW.isoformat())
    assert code == 0 and "ASOF LEFT JOIN" in out  # DuckDB: ordered steps by ASOF joins, no window pass
    assert "RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING" not in out
    code, out, _ = invoke("explain", str(query), "-p", str(project_file), "--now", NOW.isoformat())
    assert code == 0
    for operator in ("StepMatch", "FunnelTopN", "BestAttempt", "StepAggregate", "Scan"):
        assert operator in out, out
    assert "follow steps 2..3, each the next step event strictly later, within 14d" in out
    assert "funnel (duckdb): steps followed by ASOF joins on the attempts" in out


def test_python_api(project_file: Path, expected: list[dict[str, Any]]) -> None:
    with segwise.Project.load(project_file) as project:
        table = segwise.run(QUERY, project, now=NOW)
        rows = [{**r, "bucket": r["bucket"].isoformat()} for r in table.to_pylist()]
        same(rows, expected)
        general = project.compile(QUERY, dialect="postgresql", now=NOW)  # no ASOF join: the window pass
        assert "RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING" in general and "ASOF" not in general


@pytest.fixture(scope="module")
def client(project_file: Path) -> Iterator[TestClient]:
    with segwise.Project.load(project_file) as project, TestClient(create_app(project, ServerSettings(now=NOW))) as c:
        yield c


def test_http_api(client: TestClient, expected: list[dict[str, Any]]) -> None:
    response = client.post("/api/query", json=QUERY)
    assert response.status_code == 200, response.text
    same(response.json(), expected)
    response = client.post("/api/sql?dialect=clickhouse", json=QUERY)
    assert response.status_code == 200 and "toUnixTimestamp64Micro" in response.json()["sql"]
    response = client.post("/api/explain", json=QUERY)
    assert response.status_code == 200
    kinds = [op["kind"] for op in response.json()["plan_tree"]["analysis"]["operators"]]
    assert kinds == ["StepAggregate", "BestAttempt", "FunnelTopN", "StepMatch", "Join"]
    bad = client.post("/api/query", json={"funnel": {"steps": [{"event": "signup"}]}})
    assert bad.status_code == 422 and "2 to 20 steps" in bad.json()["error"]["message"]


def steps(*events: str) -> list[dict[str, Any]]:
    return [{"event": e} for e in events]


BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"steps": steps("signup")}, "a funnel has 2 to 20 steps, not 1", "funnel > steps"),
    ({"steps": steps(*["login"] * 21)}, "a funnel has 2 to 20 steps, not 21", "funnel > steps"),
    ({"steps": steps("signup", "login"), "window": "0d"}, "positive duration", "funnel > window"),
    ({"steps": steps("signup", "login"), "window": "3 days"}, "positive duration", "funnel > window"),
    ({"steps": steps("signup", "login"), "window": "30m"}, "hours, days or weeks", "funnel > window"),
    (
        {"steps": steps("signup", "login"), "order": "any", "exclude": [{"event": "push_sent"}]},
        "refused with order: any",
        "funnel > exclude",
    ),
    (
        {"steps": steps("signup", "login", "payment"), "exclude": [{"event": "push_sent", "after_step": 3}]},
        "after_step (3) must come before before_step (3)",
        "funnel > exclude[0]",
    ),
    (
        {"steps": steps("signup", "login"), "exclude": [{"event": "push_sent", "before_step": 4}]},
        "past the last step",
        "funnel > exclude[0] > before_step",
    ),
    ({"steps": steps("signup", "login"), "hold": ["country"]}, "is a user property", "funnel > hold[0]"),
    ({"steps": steps("signup", "login"), "hold": ["colour"]}, "unknown property 'colour'", "funnel > hold[0]"),
    ({"steps": steps("signup", "logn")}, "unknown event 'logn'", "funnel > steps[1] > event"),
    (
        {"steps": [{"event": "signup"}, {"event": "login", "where": [{"property": "plann", "op": "eq", "value": 1}]}]},
        "unknown property 'plann'",
        "funnel > steps[1] > where[0]",
    ),
]


@pytest.mark.parametrize(("spec", "message", "where"), BAD, ids=[b[1][:30] for b in BAD])
def test_bad_funnels_are_refused(project_file: Path, spec: dict[str, Any], message: str, where: str) -> None:
    with segwise.Project.load(project_file) as project, pytest.raises(segwise.SegwiseError) as info:
        segwise.run({"funnel": spec}, project, now=NOW)
    assert message in info.value.message, info.value.message
    assert where in f"{info.value.where} {info.value}", (info.value.where, str(info.value))


def test_a_funnel_takes_no_segmentation_keys(project_file: Path) -> None:
    for extra, message in (({"formula": "A"}, "does not take it"), ({"time_grain": "quarter"}, "time_grain")):
        with segwise.Project.load(project_file) as project, pytest.raises(segwise.SegwiseError) as info:
            segwise.run({"funnel": {"steps": steps("signup", "login")}, **extra}, project, now=NOW)
        assert message in info.value.message


def test_duckdb_connections_segwise_opens_keep_asof_joins(project_file: Path, tmp_path: Path) -> None:
    """The funnel's ASOF chains must not turn into nested loops on a small estimate: every DuckDB
    connection segwise opens (a database file, in-memory, ``file:`` tables) has
    ``asof_loop_join_threshold`` 0; an application's own connection keeps its setting."""
    import duckdb

    from segwise.adapters.duckdb import DuckDBAdapter
    from segwise.adapters.filetables import FileTable

    sql = "SELECT current_setting('asof_loop_join_threshold') AS s"
    database = yaml.safe_load(project_file.read_text())["warehouse"]
    csv = tmp_path / "t.csv"
    csv.write_text("a\n1\n")
    opened = [DuckDBAdapter(database, base_dir=project_file.parent), DuckDBAdapter("duckdb:///:memory:")]
    files = DuckDBAdapter("duckdb:///:memory:")
    files.attach_files([FileTable("t", str(csv), (str(csv),), "csv", False, str(tmp_path), "t")])
    for adapter in [*opened, files]:
        assert adapter.execute(sql).column("s").to_pylist() == [0]
        adapter.close()
    app = duckdb.connect()
    default = app.execute(sql).fetchall()[0][0]
    assert default > 0
    assert DuckDBAdapter.from_connection(app).execute(sql).column("s").to_pylist() == [default]
