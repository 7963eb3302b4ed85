"""Time spans: ``catalog`` shows each event table's first and last event; a range that misses every
event of a table warns (stderr, exit 0; the API in ``warnings``). Spans are checked against Python
reading the sample CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from segwise.cli import main
from segwise.server import create_app
from tests.test_files import SAMPLES

RELATIVE = {"series": [{"event": "renewed_subscription", "measure": "events"}], "date_range": {"last": "12w"}}
INSIDE = {**RELATIVE, "date_range": {"from": "2021-02-01", "to": "2021-03-01"}, "time_grain": "month"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("span")
    (folder / "subs.csv").write_bytes((SAMPLES / "subscriptions.csv").read_bytes())
    path = folder / "segwise.yaml"
    path.write_text(
        yaml.safe_dump({"event_tables": [{"table": "subs", "file": "subs.csv", "event_name": "event_type"}]})
    )
    (folder / "relative.yaml").write_text(yaml.safe_dump(RELATIVE))
    (folder / "inside.yaml").write_text(yaml.safe_dump(INSIDE))
    return path


def span() -> tuple[str, str, int]:
    with open(SAMPLES / "subscriptions.csv", newline="") as handle:
        times = [row["event_time"] for row in csv.DictReader(handle)]
    return min(times), max(times), len(times)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_catalog_shows_each_event_tables_span(project: Path) -> None:
    first, last, n = span()
    code, out, _ = invoke("catalog", "-p", str(project), "-f", "json")
    assert code == 0
    assert json.loads(out)["event_tables"] == [{"table": "subs", "rows": n, "first_event": first, "last_event": last}]
    code, out, _ = invoke("catalog", "-p", str(project))
    assert code == 0 and f"subs holds {n:,} events from {first[:10]} to {last[:10]} UTC" in out


def test_a_range_without_events_warns_with_the_span(project: Path) -> None:
    first, last, _ = span()
    code, _, err = invoke("run", str(project.parent / "relative.yaml"), "-p", str(project))
    assert code == 0, err
    assert err.startswith("warning: no events of subs in the query's range"), err
    assert f"from {first[:10]} to {last[:10]} UTC" in err and "--now" in err
    code, _, err = invoke("run", str(project.parent / "relative.yaml"), "-p", str(project), "--now", "2021-04-01")
    assert code == 0 and err == ""
    code, _, err = invoke("run", str(project.parent / "inside.yaml"), "-p", str(project))
    assert code == 0 and err == ""


def test_the_api_returns_the_same_warning(project: Path) -> None:
    from fastapi.testclient import TestClient

    import segwise

    with segwise.Project.load(project) as p, TestClient(create_app(p)) as client:
        response = client.post("/api/query", json=RELATIVE)
        assert response.status_code == 200
        warnings = json.loads(response.headers["X-Segwise-Warnings"])
        assert len(warnings) == 1 and "subs holds" in warnings[0]
        explain = client.post("/api/explain", json=RELATIVE).json()
        assert explain["warnings"] == warnings
        inside = client.post("/api/query", json=INSIDE)
        assert "X-Segwise-Warnings" not in inside.headers
        assert client.post("/api/explain", json=INSIDE).json()["warnings"] == []
