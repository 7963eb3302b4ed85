"""The gallery's cohort and category examples (``examples/power_users_over_time.yaml``,
``examples/users_by_engagement_tier.yaml``) on a small demo database, with the cohorts and
categories of ``examples/segwise.yaml``, against the plain-Python reference."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

import segwise
from segwise.demo.generate import DEFAULT_START, write_duckdb
from tests.conftest import assert_same
from tests.oracle import oracle

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PATHS = [EXAMPLES / "power_users_over_time.yaml", EXAMPLES / "users_by_engagement_tier.yaml"]
USERS, DAYS = 300, 120
NOW = datetime.combine(DEFAULT_START + timedelta(days=DAYS), datetime.min.time())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort-demo") / "demo.duckdb"
    write_duckdb(path, users=USERS, days=DAYS)
    return path


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_example_against_the_oracle(demo: Path, path: Path) -> None:
    spec = yaml.safe_load((EXAMPLES / "segwise.yaml").read_text(encoding="utf-8"))
    query = yaml.safe_load(path.read_text(encoding="utf-8"))
    con = duckdb.connect(str(demo), read_only=True)
    try:
        events, users = (con.sql(f"SELECT * FROM {t}").to_arrow_table() for t in ("events", "users"))
    finally:
        con.close()
    with segwise.Project(**{**spec, "warehouse": f"duckdb:///{demo}"}) as project:
        result = segwise.run(path, project, now=NOW)
    expected = oracle(query, events, users, now=NOW, cohorts=spec["cohorts"], categories=spec["categories"])
    assert_same(result, expected, query, "UTC")
    assert any(r["value"] for r in expected), "the example answers nothing on the demo data"
    if query.get("breakdown"):
        assert len({r["engagement"] for r in expected if r["value"]}) == 4, "every tier has users"
