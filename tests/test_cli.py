"""The command line: answers (JSON/CSV/Parquet) checked against the oracle, and clean failures."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from segwise.cli import main
from tests.conftest import read_simple
from tests.oracle import oracle

QUERIES = {
    "unique_users_by_brand_top3": {
        "series": [
            {"event": "view", "measure": "unique_users"},
            {"event": "cart", "measure": "avg:price", "where": [{"property": "brand", "op": "neq", "value": ""}]},
        ],
        "date_range": {"from": "2020-01-01", "to": "2020-01-01T05:00:00"},
        "time_grain": "hour",
        "breakdown": ["brand"],
        "breakdown_limit": 3,
    },
    "p90_price_quoted_property": {
        "series": [
            {"event": "purchase", "measure": "p90:price", "where": [{"property": "product-id", "op": "is_not_null"}]}
        ],
        "date_range": {"from": "2020-01-01", "to": "2020-01-02"},
        "time_grain": "total",
    },
    "events_per_user_any_event_by_event": {
        "series": [{"event": "any", "measure": "events_per_user"}],
        "date_range": {"from": "2020-01-01", "to": "2020-01-01T03:00:00"},
        "time_grain": "hour",
        "breakdown": ["event"],
    },
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    directory = tmp_path_factory.mktemp("cli")
    events = read_simple()
    con = duckdb.connect(str(directory / "simple.duckdb"))
    con.register("incoming", events)
    con.execute("CREATE TABLE events AS SELECT * FROM incoming")
    con.close()
    (directory / "segwise.yaml").write_text(
        "warehouse: duckdb:///simple.duckdb\nevent_tables:\n  - {table: events, event_name: event_type}\n"
    )
    for name, query in QUERIES.items():
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(query))
    return directory, events.to_pylist()


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_run_json_matches_oracle(files: tuple[Path, list[dict]], name: str) -> None:
    directory, rows = files
    code, out, err = invoke("run", str(directory / f"{name}.yaml"), "-p", str(directory / "segwise.yaml"), "-f", "json")
    assert code == 0, err
    got = json.loads(out)
    want = oracle(QUERIES[name], rows, None, event_name_col="event_type")
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert datetime.fromisoformat(g["bucket"]) == w["bucket"]
        assert g["series"] == w["series"]
        for key in QUERIES[name].get("breakdown", []):
            assert g[key] == w[key]
        if w["value"] is None:
            assert g["value"] is None
        else:
            assert math.isclose(g["value"], w["value"], rel_tol=1e-9)


def test_csv_and_parquet_outputs(files: tuple[Path, list[dict]], tmp_path: Path) -> None:
    directory, rows = files
    query = str(directory / "p90_price_quoted_property.yaml")
    project = str(directory / "segwise.yaml")
    code, out, _ = invoke("run", query, "-p", project, "-f", "csv")
    assert code == 0 and out.splitlines()[0] == '"bucket","series","value"'
    target = tmp_path / "out.parquet"
    code, _, _ = invoke("run", query, "-p", project, "-f", "parquet", "-o", str(target))
    assert code == 0
    table = pq.read_table(target)
    want = oracle(QUERIES["p90_price_quoted_property"], rows, None, event_name_col="event_type")
    assert math.isclose(table.column("value")[0].as_py(), want[0]["value"], rel_tol=1e-9)
    code, _, err = invoke("run", query, "-p", project, "-f", "parquet")
    assert code == 2 and "--output" in err


def test_sql_explain_catalog(files: tuple[Path, list[dict]]) -> None:
    directory, _ = files
    project = str(directory / "segwise.yaml")
    query = str(directory / "unique_users_by_brand_top3.yaml")
    code, out, _ = invoke("sql", query, "-p", project)
    assert code == 0 and out.rstrip().endswith(";") and '"product-id"' not in out
    code, out, _ = invoke("explain", query, "-p", project)
    assert code == 0 and "top 3 + Other" in out and "5 bucket(s)" in out
    code, out, _ = invoke("catalog", "-p", project, "-f", "json")
    catalog = json.loads(out)
    counts = {e["name"]: e["count"] for e in catalog["events"]}
    assert counts == {"view": 1556, "cart": 787, "remove_from_cart": 569, "purchase": 87}
    assert {"name": "product-id", "type": "string"} in catalog["event_properties"]


BAD_QUERIES = {
    "unknown_event": ("series: [{event: viewz}]\n", "unknown event 'viewz'; did you mean 'view'"),
    "unknown_property": (
        "series: [{event: view, where: [{property: brnd, op: eq, value: x}]}]\n",
        "series[0] (label A) > where[0] > property: unknown property 'brnd'",
    ),
    "wrong_type": (
        "series: [{event: view, where: [{property: price, op: gt, value: cheap}]}]\n",
        "'cheap' is not a number",
    ),
    "to_before_from": (
        "series: [{event: view}]\ndate_range: {from: 2020-02-01, to: 2020-01-01}\n",
        "`to` (2020-01-01) must be after `from` (2020-02-01)",
    ),
    "malformed_yaml": ("series:\n  - event: view\n   measure: events\n", "malformed YAML"),
    "unknown_measure": ("series: [{event: view, measure: countt}]\n", "unknown measure 'countt'"),
    "unknown_operator": (
        "series: [{event: view, where: [{property: brand, op: like, value: x}]}]\n",
        "series[0] (label A) > where[0] > op: must be one of",
    ),
    "too_many_buckets": (
        "series: [{event: view}]\ndate_range: {from: 2000-01-01, to: 2020-01-01}\ntime_grain: hour\n",
        "coarser time_grain",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_QUERIES))
def test_bad_input_exits_2_with_a_located_message(files: tuple[Path, list[dict]], tmp_path: Path, name: str) -> None:
    directory, _ = files
    text, expected = BAD_QUERIES[name]
    query = tmp_path / f"{name}.yaml"
    query.write_text(text)
    code, out, err = invoke("run", str(query), "-p", str(directory / "segwise.yaml"))
    assert code == 2, (out, err)
    assert expected in err
    assert str(query) in err  # the message names the file
    assert "Traceback" not in err + out


def test_bad_project_and_unreachable_warehouse(tmp_path: Path, files: tuple[Path, list[dict]]) -> None:
    directory, _ = files
    query = str(directory / "p90_price_quoted_property.yaml")
    project = tmp_path / "p.yaml"
    project.write_text("warehouse: nosuch://x\nevent_tables: [{table: events, event_name: event_type}]\n")
    code, _, err = invoke("run", query, "-p", str(project))
    assert code == 2 and "no adapter for the URL scheme 'nosuch'" in err
    project.write_text("warehouse: duckdb:///missing.duckdb\nevent_tables: [{table: events, event_name: e}]\n")
    code, _, err = invoke("run", query, "-p", str(project))
    assert code == 3 and "not found" in err
    project.write_text(
        f"warehouse: duckdb:///{directory}/simple.duckdb\nevent_tables: [{{table: nope, event_name: e}}]\n"
    )
    code, _, err = invoke("run", query, "-p", str(project))
    assert code == 2 and "table 'nope' not found" in err and str(project) in err
    code, _, err = invoke("run", query, "-p", str(tmp_path / "absent.yaml"))
    assert code == 2 and "project file not found" in err


def test_relative_range_uses_now(files: tuple[Path, list[dict]], tmp_path: Path) -> None:
    directory, rows = files
    query = {
        "series": [{"event": "view", "measure": "unique_users"}],
        "date_range": {"last": "2h"},
        "time_grain": "hour",
    }
    path = tmp_path / "rel.yaml"
    path.write_text(yaml.safe_dump(query))
    code, out, err = invoke(
        "run", str(path), "-p", str(directory / "segwise.yaml"), "-f", "json", "--now", "2020-01-01T03:00:00"
    )
    assert code == 0, err
    want = oracle(query, rows, None, event_name_col="event_type", now=datetime(2020, 1, 1, 3))
    assert [r["value"] for r in json.loads(out)] == [w["value"] for w in want]
    code, _, err = invoke("run", str(path), "-p", str(directory / "segwise.yaml"), "--now", "yesterday")
    assert code == 2 and "--now" in err


def test_demo_answers_the_whole_gallery(tmp_path: Path) -> None:
    code, out, err = invoke("demo", "--dir", str(tmp_path / "demo"), "--users", "300", "--days", "180")
    assert code == 0, err
    from segwise.demo.gallery import gallery

    assert f"answered {len(gallery())} of {len(gallery())} questions" in out
    for question, _ in gallery():
        assert question in out
