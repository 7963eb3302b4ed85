"""event_time_format: text (ISO, strftime patterns) and epoch numbers on every live engine.

The real sample ``simple.csv`` (2,999 events, 2020-01-01 00:00..04:31 UTC) is loaded with its event
time stored several ways side by side (``TEXT`` and ``BIGINT`` columns, see ``time_columns``); a
project reads one of them as the event time, and the engine's answer must equal the oracle's on the
true times (``tests.oracle``: plain Python on ``datetime`` values). The raw-column pushdown is checked
on the SQL: order-preserving encodings compare the bare column with constants in its encoding.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

import segwise
from tests.backends import BACKENDS
from tests.conftest import assert_same, declared_gaps, read_simple
from tests.oracle import oracle

EPOCH = datetime(1970, 1, 1)
VARIANTS = {
    # column: (event_time_format, how a datetime is stored)
    "t_iso": ("iso", lambda t: t.isoformat(sep=" ")),
    "t_iso_t": ("iso", lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f")),
    "t_ymd": ("%Y-%m-%d %H:%M:%S", lambda t: t.strftime("%Y-%m-%d %H:%M:%S")),
    "t_compact": ("%Y%m%d%H%M%S", lambda t: t.strftime("%Y%m%d%H%M%S")),
    "t_dmy": ("%d/%m/%Y %H:%M:%S", lambda t: t.strftime("%d/%m/%Y %H:%M:%S")),
    "t_s": ("epoch_s", lambda t: (t - EPOCH) // pa.scalar(1, pa.duration("s")).as_py()),
    "t_ms": ("epoch_ms", lambda t: (t - EPOCH) // pa.scalar(1, pa.duration("ms")).as_py()),
    "t_us": ("epoch_us", lambda t: (t - EPOCH) // pa.scalar(1, pa.duration("us")).as_py()),
}


def time_columns(events: pa.Table) -> pa.Table:
    times = events.column("event_time").to_pylist()
    for name, (fmt, encode) in VARIANTS.items():
        kind = pa.int64() if fmt.startswith("epoch") else pa.string()
        events = events.append_column(name, pa.array([encode(t) for t in times], type=kind))
    return events


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    events = time_columns(read_simple())
    directory = tmp_path_factory.mktemp(f"{request.param}-timefmt")
    url = BACKENDS[request.param].load({"events": events}, directory, "timefmt")
    yield request.param, url, events.select(["event_time", "event_type", "user_id", "brand", "price"]).to_pylist(), []


@pytest.fixture(autouse=True)
def _close_projects(request: pytest.FixtureRequest):
    yield
    if "loaded" in request.fixturenames:
        projects = request.getfixturevalue("loaded")[3]
        while projects:
            projects.pop().close()


def project_for(loaded: Any, column: str, timezone: str = "UTC", fmt: str | None = None) -> segwise.Project:
    _, url, _, projects = loaded
    spec = {"table": "events", "event_name": "event_type", "event_time": column}
    if fmt is not None:
        spec["event_time_format"] = fmt
    project = segwise.Project(warehouse=url, timezone=timezone, event_tables=[spec])
    projects.append(project)
    return project


QUERIES = {
    "hourly_unaligned": {
        "series": [{"event": "view"}, {"event": "cart", "measure": "unique_users"}],
        "date_range": {"from": "2020-01-01 00:30:30", "to": "2020-01-01 09:15:00"},
        "time_grain": "hour",
    },
    "day_breakdown": {
        "series": [{"event": "view", "measure": "sum:price"}],
        "date_range": {"from": "2020-01-01", "to": "2020-01-03"},
        "time_grain": "day",
        "breakdown": ["brand"],
        "breakdown_limit": 3,
    },
    "first_occurrence": {
        "series": [{"event": "cart", "measure": "unique_users", "occurrence": "first"}],
        "date_range": {"from": "2020-01-01 01:00", "to": "2020-01-01 09:00"},
        "time_grain": "hour",
    },
}


@pytest.mark.parametrize("query_name", sorted(QUERIES))
@pytest.mark.parametrize("column", sorted(VARIANTS))
def test_encoded_event_time_matches_oracle(loaded: Any, column: str, query_name: str) -> None:
    _, _, rows, _ = loaded
    fmt = VARIANTS[column][0]
    query = QUERIES[query_name]
    for timezone in ("UTC", "Asia/Kolkata"):  # +05:30: bounds that are not whole UTC hours
        project = project_for(loaded, column, timezone, fmt)
        if declared_gaps(project, query):
            with pytest.raises(segwise.UnsupportedError):
                segwise.run(query, project)
            continue
        result = segwise.run(query, project)
        expected = oracle(query, rows, None, event_name_col="event_type", timezone=timezone)
        assert any(r["value"] for r in expected)
        assert_same(result, expected, query, timezone)


def test_pushdown_compares_the_raw_column(loaded: Any) -> None:
    """Order-preserving encodings keep the bare column in the WHERE; others are converted."""
    query = QUERIES["hourly_unaligned"]
    backend = loaded[0]
    for column in ("t_ymd", "t_ms", "t_iso"):
        project = project_for(loaded, column, "UTC", VARIANTS[column][0])
        sql = project.compile(query)
        where = sql.split("WHERE", 1)[1]
        quoted = "`" if backend == "spark" else '"'
        assert f"{quoted}e{quoted}.{quoted}{column}{quoted} >= " in where, where
    ms = project_for(loaded, "t_ms", "UTC", "epoch_ms").compile(query).split("WHERE", 1)[1]
    assert "1577838630000" in ms  # 2020-01-01 00:30:30 UTC in milliseconds
    plan = segwise.plan(query, project_for(loaded, "t_dmy", "UTC", "%d/%m/%Y %H:%M:%S"))
    assert "does not sort like time" in "\n".join(plan.describe())


def test_sqlite_text_defaults_to_iso(loaded: Any) -> None:
    backend = loaded[0]
    query = QUERIES["hourly_unaligned"]
    if backend != "sqlite":
        with pytest.raises(segwise.CatalogError, match="event_time_format"):
            project_for(loaded, "t_iso").catalog()
        return
    result = segwise.run(query, project_for(loaded, "t_iso_t"))
    assert_same(result, oracle(query, loaded[2], None, event_name_col="event_type"), query, "UTC")


def test_format_that_does_not_fit_the_data(loaded: Any) -> None:
    project = project_for(loaded, "t_dmy", "UTC", "%Y-%m-%d %H:%M:%S")
    with pytest.raises(segwise.CatalogError, match=r"does not read 't_dmy'.*'\d\d/\d\d/2020"):
        project.catalog()
    with pytest.raises(segwise.CatalogError, match="epoch_s, epoch_ms or epoch_us"):
        project_for(loaded, "t_ms", "UTC", "iso").catalog()
    with pytest.raises(segwise.CatalogError, match="for numbers"):
        project_for(loaded, "t_ymd", "UTC", "epoch_ms").catalog()


def test_format_ignored_on_a_timestamp_column(loaded: Any) -> None:
    query = QUERIES["hourly_unaligned"]
    project = project_for(loaded, "event_time", "UTC", "%d/%m/%Y")
    assert_same(segwise.run(query, project), oracle(query, loaded[2], None, event_name_col="event_type"), query, "UTC")


# -- segwise init guesses the format ------------------------------------------------------------------


def written(path: Any) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text())["event_tables"][0]


def _write_csv(path: Any, column: str, values: list[Any], events: pa.Table) -> None:
    import pyarrow.csv as pacsv

    table = pa.table({column: values, "user_id": events.column("user_id"), "event_type": events.column("event_type")})
    pacsv.write_csv(table, path)


@pytest.mark.parametrize("column", ["t_ms", "t_s"])
def test_init_guesses_an_epoch_unit(tmp_path: Any, column: str) -> None:
    from click.testing import CliRunner

    from segwise.cli import main

    events = time_columns(read_simple())
    _write_csv(tmp_path / "events.csv", "created_at", events.column(column).to_pylist(), events)
    out = tmp_path / "segwise.yaml"
    result = CliRunner().invoke(main, ["init", str(tmp_path / "events.csv"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert written(out)["event_time_format"] == VARIANTS[column][0]
    query = QUERIES["hourly_unaligned"]
    rows = events.select(["event_time", "event_type", "user_id"]).to_pylist()
    with segwise.Project.load(out) as project:
        assert_same(segwise.run(query, project), oracle(query, rows, None, event_name_col="event_type"), query, "UTC")


def test_init_guesses_a_text_pattern_on_sqlite(tmp_path: Any) -> None:
    """A SQLite table whose times are day-first text: init names the pattern, the project runs."""
    from click.testing import CliRunner

    from segwise.cli import main

    events = time_columns(read_simple()).rename_columns({"t_dmy": "ts"} | {n: n for n in read_simple().column_names})
    events = events.select(["ts", "user_id", "event_type"])
    url = BACKENDS["sqlite"].load({"events": events}, tmp_path, "init_dmy")
    out = tmp_path / "segwise.yaml"
    result = CliRunner().invoke(main, ["init", url, "--table", "events", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert written(out)["event_time_format"] == "%d/%m/%Y %H:%M:%S"
    assert "event_time_format" in result.output
    query = QUERIES["hourly_unaligned"]
    rows = time_columns(read_simple()).select(["event_time", "event_type", "user_id"]).to_pylist()
    with segwise.Project.load(out) as project:
        assert_same(segwise.run(query, project), oracle(query, rows, None, event_name_col="event_type"), query, "UTC")
