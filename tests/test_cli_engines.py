"""`segwise run --format json` gives the same JSON on every live engine for the same data and query."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from segwise.cli import main
from tests.backends import BACKENDS
from tests.conftest import read_simple

QUERIES = {
    "views_and_carts_by_brand_top5": {
        "series": [{"event": "view", "measure": "unique_users"}, {"event": "cart", "measure": "events"}],
        "date_range": {"from": "2020-01-01", "to": "2020-01-01T04:00:00"},
        "time_grain": "hour",
        "breakdown": ["brand"],
        "breakdown_limit": 5,
    },
    "avg_price_of_purchases_by_event": {
        "series": [{"event": {"any_of": ["cart", "purchase"]}, "measure": "avg:price"}],
        "date_range": {"from": "2020-01-01", "to": "2020-01-02"},
        "time_grain": "total",
        "breakdown": ["event"],
    },
    "dau_with_a_filter": {
        "series": [{"event": "any", "measure": "dau", "where": [{"property": "category_code", "op": "is_not_null"}]}],
        "date_range": {"from": "2020-01-01", "to": "2020-01-02"},
        "time_grain": "day",
    },
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("cli-engines")
    events = read_simple()
    files = {}
    for name, backend in BACKENDS.items():
        url = backend.load({"events": events}, directory, "cli_simple")
        path = directory / f"{name}.yaml"
        path.write_text(
            yaml.safe_dump({"warehouse": url, "event_tables": [{"table": "events", "event_name": "event_type"}]})
        )
        files[name] = path
    return files


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_same_json_on_every_engine(projects: dict[str, Path], tmp_path: Path, name: str) -> None:
    query = tmp_path / f"{name}.yaml"
    query.write_text(yaml.safe_dump(QUERIES[name]))
    answers = {}
    for engine, project in projects.items():
        result = CliRunner().invoke(main, ["run", str(query), "-p", str(project), "-f", "json"])
        assert result.exit_code == 0, (engine, result.stderr)
        answers[engine] = json.loads(result.stdout)
    reference = answers.pop("duckdb")
    assert reference, "the query should have rows"
    for engine, answer in answers.items():
        assert _close(answer, reference), (engine, answer[:3], reference[:3])


def _close(got: list[dict], want: list[dict]) -> bool:
    """Identical JSON, except floats equal to 1e-12 relative (engines sum in different orders)."""
    if len(got) != len(want):
        return False
    for g, w in zip(got, want, strict=True):
        if g.keys() != w.keys():
            return False
        for key, value in w.items():
            other = g[key]
            if isinstance(value, float) and isinstance(other, float):
                if abs(value - other) > 1e-12 * max(1.0, abs(value)):
                    return False
            elif other != value or type(other) is not type(value):
                return False
    return True
