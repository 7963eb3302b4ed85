"""Units through every interface: ``segwise run`` / ``explain`` / ``sql --dialect``, the Python
API and ``/api/query`` / ``/api/explain``, answers compared with the oracle, errors located."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient

import segwise
from segwise.cli import main
from segwise.server import ServerSettings, create_app
from tests.explorer_support import NOW, UNITS, demo_tables, make_demo, same_rows
from tests.oracle import oracle
from tests.oracle_units import unit_reader

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "active_accounts_per_license_type.yaml"
ACCOUNTS = {
    "series": [{"event": "login", "measure": "unique_users"}, {"event": "any", "measure": "mau"}],
    "unit": "account",
    "date_range": {"from": "2025-05-05", "to": "2025-06-02"},
    "time_grain": "week",
    "breakdown": ["license_type"],
}


@pytest.fixture(scope="module")
def project_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo(tmp_path_factory.mktemp("units-interfaces"))  # declares units: {account: account_id}


@pytest.fixture(scope="module")
def client(project_file: Path) -> Iterator[TestClient]:
    with segwise.Project.load(project_file) as project, TestClient(create_app(project, ServerSettings(now=NOW))) as c:
        yield c


def expected(query: dict[str, Any]) -> list[dict[str, Any]]:
    users, events = demo_tables()
    unit_of = unit_reader(query, UNITS, set(events.column_names))
    rows = oracle(query, events, users, now=NOW, unit_of=unit_of)
    assert any(r["value"] for r in rows), "a case that checks little"
    return [{**row, "bucket": row["bucket"].isoformat()} for row in rows]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_run_explain_and_sql(project_file: Path) -> None:
    common = ["--project", str(project_file), "--now", NOW.isoformat()]
    code, out, _ = invoke("run", str(EXAMPLE), "--format", "json", *common)
    assert code == 0
    assert same_rows(json.loads(out), expected(yaml.safe_load(EXAMPLE.read_text())))
    code, out, _ = invoke("explain", str(EXAMPLE), *common)
    assert code == 0
    assert "Unit           account: column 'account_id' of user table users, joined on user_id" in out
    code, out, _ = invoke("sql", str(EXAMPLE), "--dialect", "snowflake", *common)
    assert code == 0 and 'COUNT(DISTINCT "U0"."ACCOUNT_ID")' in out


def test_cli_refuses_user_where_with_a_unit(project_file: Path, tmp_path: Path) -> None:
    query = {**ACCOUNTS, "segment": {"user_where": [{"property": "country", "op": "eq", "value": "US"}]}}
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump(query))
    code, _, err = invoke("run", str(path), "--project", str(project_file))
    assert code == 2
    assert "segment > user_where[0]" in err and "counts account units" in err and "Traceback" not in err


def test_python_api(project_file: Path) -> None:
    with segwise.Project.load(project_file) as project:
        table = segwise.run(ACCOUNTS, project, now=NOW)
    got = [{**r, "bucket": r["bucket"].isoformat()} for r in table.to_pylist()]
    assert same_rows(got, expected(ACCOUNTS))


def test_http_query_and_explain(client: TestClient) -> None:
    response = client.post("/api/query", json=ACCOUNTS)
    assert response.status_code == 200, response.text
    assert same_rows(response.json(), expected(ACCOUNTS))
    response = client.post("/api/explain", json=ACCOUNTS)
    assert response.status_code == 200
    assert response.json()["plan_tree"]["unit"].startswith("account: column 'account_id' of user table users")


def test_http_errors_name_the_unit(client: TestClient) -> None:
    response = client.post("/api/query", json={**ACCOUNTS, "unit": "team"})
    assert response.status_code == 422  # bad input, as for every query the catalog refuses
    error = response.json()["error"]
    assert (
        error["where"] == "unit" and "unknown unit 'team'; this project's units are: user, account" in error["message"]
    )
