"""SQL you can paste (``segwise sql``, ``/api/sql``): run as printed, directly on each live engine, it
gives exactly what ``segwise.run`` returns — columns, names, order, values (floats to 1e-9), zero-filled
buckets and formula rows; buckets are compared as instants (SQLite has no zoned timestamps).

The queries are the example gallery (``examples/*.yaml``) and the shared suite's query shapes
(``tests.test_segmentation.GENERATED``), on the generated dataset loaded into every backend.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
import yaml

import segwise
from segwise.demo.gallery import examples_dir, gallery
from segwise.pipeline import compile_query
from segwise.present import paste_statement
from tests.conftest import declared_gaps
from tests.test_segmentation import GENERATED

NOW = datetime(2025, 3, 2)
GALLERY = {path.stem: yaml.safe_load(path.read_text()) for _, path in gallery(examples_dir())}
SHAPES = {name: query for name, (query, extra) in GENERATED.items() if not extra}
EXTRA = {
    "formulas_by_group": {
        "series": [{"event": "purchase", "measure": "sum:revenue"}, {"event": "login", "measure": "unique_users"}],
        "formulas": [{"label": "ARPU", "expression": "A / B"}, {"label": "D", "expression": "A - 2 * B"}],
        "breakdown": ["country"],
        "breakdown_limit": 3,
        "date_range": {"from": "2025-01-10", "to": "2025-02-10"},
        "time_grain": "week",
    },
    "previous_period": {
        "series": [{"event": "login", "measure": "unique_users"}],
        "compare": "previous_period",
        "date_range": {"from": "2025-02-01", "to": "2025-02-15"},
        "time_grain": "day",
    },
    "berlin_hours": {
        "series": [{"event": "page_view"}],
        "date_range": {"from": "2025-01-10", "to": "2025-01-11"},
        "time_grain": "hour",
        "timezone": "Europe/Berlin",
    },
}


def instant(value: Any, timezone: str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(UTC)


def same(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if isinstance(want, float) or isinstance(got, float):
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)
    return got == want


def check_paste(project: segwise.Project, query: dict[str, Any]) -> None:
    if declared_gaps(project, query):
        pytest.skip("the engine declares it cannot answer this query")
    try:
        want = segwise.run(query, project, now=NOW)
    except segwise.CatalogError as error:  # a gallery query naming a demo column the dataset lacks
        pytest.skip(f"not answerable on the generated dataset: {error}")
    compiled = compile_query(project, query, now=NOW)
    flavor = project.adapter().flavor
    got: pa.Table = project.adapter().execute(flavor.render(paste_statement(compiled, flavor)))
    assert got.column_names == want.column_names
    timezone = compiled.timeframe.timezone
    # chDB's Arrow output drops a DateTime64's zone: its (zoned) buckets arrive as naive UTC instants;
    # SQLite's are naive local text.
    naive_zone = "UTC" if flavor.name == "clickhouse" else timezone
    got_rows, want_rows = got.to_pylist(), want.to_pylist()
    assert len(got_rows) == len(want_rows), (len(got_rows), len(want_rows))
    first = want.column_names[0]  # bucket; for retention cohort, null on the summary rows
    for i, (g, w) in enumerate(zip(got_rows, want_rows, strict=True)):
        if w[first] is None:
            assert g[first] is None, (i, g, w)
        else:
            assert instant(g[first], naive_zone) == instant(w[first], timezone), (i, g, w)
        for name in want.column_names[1:]:
            assert same(g[name], w[name]), (i, name, g, w)


GALLERY_PROJECT = yaml.safe_load((examples_dir() / "segwise.yaml").read_text())


@pytest.mark.parametrize("name", sorted(GALLERY))
def test_gallery_paste_equals_run(generated: Any, name: str) -> None:
    query = GALLERY[name]
    categories = set(query.get("breakdown", [])) & set(GALLERY_PROJECT.get("categories", {}))
    if "segment" not in query and "unit" not in query and not categories:
        check_paste(generated.project(), query)
        return
    # the gallery's units, named cohorts and categories (examples/segwise.yaml) over the generated data
    with segwise.Project(
        warehouse=generated.url,
        event_tables=[{"table": "events", "event_name": generated.event_name}],
        user_tables=[{"table": "users"}],
        units=GALLERY_PROJECT.get("units", {}),
        cohorts=GALLERY_PROJECT.get("cohorts", {}),
        categories=GALLERY_PROJECT.get("categories", {}),
    ) as project:
        check_paste(project, query)


@pytest.mark.parametrize("name", sorted(SHAPES) + sorted(EXTRA))
def test_query_shapes_paste_equals_run(generated: Any, name: str) -> None:
    query = dict(SHAPES.get(name) or EXTRA[name])
    timezone = query.pop("timezone", "UTC")
    check_paste(generated.project(timezone=timezone), query)


def test_cli_sql_prints_the_paste_statement(generated: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from segwise.cli import main

    if generated.backend != "duckdb":
        pytest.skip("the CLI path is the same on every engine")
    project = tmp_path / "segwise.yaml"
    spec = {
        "warehouse": generated.url,
        "event_tables": [{"table": "events", "event_name": "event_name"}],
        "user_tables": [{"table": "users"}],
    }
    project.write_text(yaml.safe_dump(spec))
    query = tmp_path / "q.yaml"
    query.write_text(yaml.safe_dump(EXTRA["formulas_by_group"]))
    result = CliRunner().invoke(main, ["sql", str(query), "-p", str(project)])
    assert result.exit_code == 0, result.output
    assert '"_p_all"' in result.output and 'AS "country"' in result.output and "NULLIF" in result.output
