"""``examples/advanced/``: every query answers on a small demo database exactly as the oracle does.

The demo database is written by the generator behind ``segwise demo`` (fewer users and days);
"now" is the end of its data, as in ``segwise demo``. The queries of ``several_tables/`` run on the
same database after ``split_tables.sql`` has spread its events over three tables, with that
folder's project file (its warehouse pointed at the test database).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

import segwise
from segwise.demo.generate import DEFAULT_START, write_duckdb
from tests.conftest import assert_same
from tests.oracle import oracle, oracle_tables
from tests.oracle_funnel import funnel_oracle
from tests.test_funnel import assert_funnel

ADVANCED = Path(__file__).resolve().parent.parent / "examples" / "advanced"
SEVERAL = ADVANCED / "several_tables"
DEMO_PROJECT = ADVANCED.parent / "segwise.yaml"
USERS, DAYS = 300, 120
NOW = datetime.combine(DEFAULT_START + timedelta(days=DAYS), datetime.min.time())

SINGLE = sorted(ADVANCED.glob("*.yaml"))
MULTI = sorted(p for p in SEVERAL.glob("*.yaml") if p.name != "segwise.yaml")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("advanced-demo") / "demo.duckdb"
    write_duckdb(path, users=USERS, days=DAYS)
    con = duckdb.connect(str(path))
    try:
        con.execute((SEVERAL / "split_tables.sql").read_text(encoding="utf-8"))
    finally:
        con.close()
    return path


def _project(project_file: Path, database: Path) -> segwise.Project:
    spec = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    return segwise.Project(**{**spec, "warehouse": f"duckdb:///{database}"})


def _tables(database: Path, names: list[str]) -> dict[str, Any]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {name: con.sql(f'SELECT * FROM "{name}"').to_arrow_table() for name in names}
    finally:
        con.close()


def test_every_capability_has_an_example() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in [*SINGLE, *MULTI])
    for needle in (
        "any_of",
        "occurrence: first",
        "occurrence: last",
        "formula",
        "user_median:events",
        "measure: frequency",
        "segment:",
        "breakdown: [segment]",
        "compare: previous_period",
        "measure: wau",
        "dau",
        "funnel:",
    ):
        assert needle in text, needle
    assert len(MULTI) >= 2
    for path in [*SINGLE, *MULTI]:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# ") and first.rstrip().endswith("?"), f"{path.name}: the first line asks the question"


@pytest.mark.parametrize("path", SINGLE, ids=[p.stem for p in SINGLE])
def test_example_against_the_oracle(demo: Path, path: Path) -> None:
    query = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables = _tables(demo, ["events", "users"])
    with _project(DEMO_PROJECT, demo) as project:
        result = segwise.run(path, project, now=NOW)
    if "funnel" in query:  # its own reference and result shape
        funnel = funnel_oracle(query, tables["events"].to_pylist(), tables["users"].to_pylist(), now=NOW)
        assert_funnel(result, funnel, query)
        assert any(r["step"] == len(query["funnel"]["steps"]) and r["count"] for r in funnel), "converts nobody"
        return
    expected = oracle(query, tables["events"], tables["users"], now=NOW)
    assert_same(result, expected, query, "UTC")
    assert any(r["value"] for r in expected), "the example answers nothing on the demo data"


@pytest.mark.parametrize("path", MULTI, ids=[p.stem for p in MULTI])
def test_several_tables_example_against_the_oracle(demo: Path, path: Path) -> None:
    query = yaml.safe_load(path.read_text(encoding="utf-8"))
    project_spec = yaml.safe_load((SEVERAL / "segwise.yaml").read_text(encoding="utf-8"))
    specs = project_spec["event_tables"]
    tables = _tables(demo, [spec["table"] for spec in specs] + ["users"])
    with _project(SEVERAL / "segwise.yaml", demo) as project:
        result = segwise.run(path, project, now=NOW)
    expected = oracle_tables(query, [(spec, tables[spec["table"]]) for spec in specs], tables["users"], now=NOW)
    assert_same(result, expected, query, "UTC")
    assert any(r["value"] for r in expected), "the example answers nothing on the demo data"
