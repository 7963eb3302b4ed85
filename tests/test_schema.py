"""docs/project.md is generated from the models and up to date; ``segwise schema`` prints JSON Schema
that accepts the repository's own files; validation messages say what to write (issue 14, item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs  # what schemathesis (a test dependency) validates with
import pytest
import yaml
from click.testing import CliRunner

from segwise.cli import main
from segwise.schema import reference

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_project_reference_is_up_to_date() -> None:
    assert (ROOT / "docs" / "project.md").read_text() == reference(), (
        "docs/project.md is stale: run `python -m segwise.schema --write docs/project.md`"
    )


def test_reference_lists_every_field() -> None:
    from segwise.project import EventTable, ProjectSpec

    text = reference()
    for model in (ProjectSpec, EventTable):
        for name in model.model_fields:
            assert f"| `{name}` |" in text, name


@pytest.mark.parametrize(
    ("kind", "files"),
    [
        (
            "project",
            [
                "examples/segwise.yaml",
                "examples/advanced/several_tables/segwise.yaml",
                "examples/advanced/shop/segwise.yaml",
            ],
        ),
        ("query", ["examples/daily_active_users.yaml", "examples/advanced/signups_vs_previous_period.yaml"]),
    ],
)
def test_schema_command_prints_json_schema_accepting_real_files(kind: str, files: list[str]) -> None:
    code, out, _ = invoke("schema", kind)
    assert code == 0
    schema = json.loads(out)
    validator = jsonschema_rs.Draft202012Validator(schema)
    for name in files:
        data = json.loads(json.dumps(yaml.safe_load((ROOT / name).read_text()), default=str))
        assert validator.is_valid(data), list(validator.iter_errors(data))
    assert not validator.is_valid({"series": [{"event": "x"}], "nonsense": 1} if kind == "query" else {"warehose": 1})


QUERY_CASES = {
    "text_range": ("series: [{event: purchase}]\ndate_range: last 30 days\n", "write {last: 30d}", None),
    "text_range_weeks": ("series: [{event: purchase}]\ndate_range: last 12 weeks\n", "write {last: 12w}", None),
    "event_list": ("series: [{event: [view, cart]}]\n", "event: {any_of: [view, cart]}", None),
    "impossible_date": (
        "series: [{event: purchase}]\ndate_range: {from: 2021-02-30, to: 2021-03-05}\n",
        "a date or time that does not exist",
        ":2:20",
    ),
    "typo": ("series: [{event: purchase}]\ntime_grian: day\n", "did you mean 'time_grain'?", None),
}


@pytest.mark.parametrize("case", sorted(QUERY_CASES))
def test_validation_messages_say_what_to_write(tmp_path: Path, case: str) -> None:
    text, needle, where = QUERY_CASES[case]
    (tmp_path / "q.yaml").write_text(text)
    (tmp_path / "p.yaml").write_text("event_tables: [{table: e, file: e.csv, event_name: n}]\n")
    code, _, err = invoke("run", str(tmp_path / "q.yaml"), "-p", str(tmp_path / "p.yaml"))
    assert code == 2 and needle in err and "Traceback" not in err, err
    if where:
        assert f"q.yaml{where}: " in err, err


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("warehose: duckdb:///x.duckdb\nevent_tables: [{table: e, event_name: n}]\n", "did you mean 'warehouse'?"),
        ("warehouse: duckdb://x.duckdb\nevent_tables: [{table: e, event_name: n}]\n", "write duckdb:///x.duckdb"),
        (
            "warehouse: duckdb:///:memory:\nevent_tables: [{table: e, event_name: n}]\n",
            'warehouse: "duckdb:///:memory:"',
        ),
    ],
)
def test_project_messages_say_what_to_write(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "p.yaml").write_text(text)
    code, _, err = invoke("catalog", "-p", str(tmp_path / "p.yaml"))
    assert code == 2 and needle in err, err
