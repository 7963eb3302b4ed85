"""Bad input through the command line: each gives one clear paragraph naming what and where, a
non-zero exit (2 for the user's input, 3 for the warehouse) and never a traceback.

Extends ``tests/test_cli.py`` (which covers an unknown event, property, measure and operator, a
wrong value type, ``to`` before ``from``, malformed YAML, too many buckets, an unknown URL scheme,
a missing DuckDB file and table) without repeating it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner

from segwise.cli import main
from segwise.dispatch import MAX_GROUPS
from tests.backends import BACKENDS
from tests.fuzz import fuzz_tables

PROJECT = (
    "warehouse: duckdb:///{db}\nevent_tables: [{{table: events, event_name: event_name}}]\n"
    "user_tables: [{{table: users}}]\n"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bad-input")
    url = BACKENDS["duckdb"].load(fuzz_tables(), directory, "demo")
    path = directory / "segwise.yaml"
    path.write_text(PROJECT.format(db=url.removeprefix("duckdb:///")))
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def assert_clean(code: int, out: str, err: str, expected_code: int, *needles: str) -> None:
    assert code == expected_code, (code, out, err)
    assert "Traceback" not in out + err
    assert err.startswith("error: "), err
    assert err.count("\n") == 1, f"not one paragraph: {err!r}"  # one line, then the final newline
    for needle in needles:
        assert needle in err, (needle, err)


RANGE = "date_range: {from: 2025-01-05, to: 2025-01-12}\n"

# name -> (file name, content, what the message must say)
BAD_QUERIES: dict[str, tuple[str, str | bytes, list[str]]] = {
    "malformed_json": ("q.json", '{"series": [{"event": "login"},]}', ["malformed JSON", "q.json:1:"]),
    "json_not_an_object": ("q.json", '[{"event": "login"}]', ["must hold a mapping", "list"]),
    "yaml_unclosed_bracket": ("q.yaml", "series: [{event: login\n", ["malformed YAML", "q.yaml:2:"]),
    "yaml_tab_indent": ("q.yaml", "series:\n\t- event: login\n", ["malformed YAML", "q.yaml:2:1"]),
    "empty_file": ("q.yaml", "", ["must hold a mapping", "empty"]),
    "not_utf8": ("q.yaml", b"series: [{event: \xff\xfe}]\n", ["cannot read query file", "q.yaml"]),
    "series_not_a_list": ("q.yaml", "series: 5\n", ["series", "valid list"]),
    "no_series": ("q.yaml", RANGE, ["a query asks one question: give `series`"]),
    "unknown_field": ("q.yaml", "series: [{event: login}]\nbreakdwn: [country]\n", ["breakdwn: unknown field"]),
    "wrong_type_limit": (
        "q.yaml",
        "series: [{event: login}]\nbreakdown: [country]\nbreakdown_limit: ten\n",
        ["breakdown_limit", "integer"],
    ),
    "limit_out_of_range": (
        "q.yaml",
        "series: [{event: login}]\nbreakdown: [country]\nbreakdown_limit: 0\n",
        ["breakdown_limit", "greater than or equal to 1"],
    ),
    "wrong_type_grain": (
        "q.yaml",
        "series: [{event: login}]\ntime_grain: fortnight\n",
        ["time_grain", "must be one of"],
    ),
    "value_is_a_mapping": (
        "q.yaml",
        "series: [{event: login, where: [{property: platform, op: eq, value: {a: 1}}]}]\n",
        ["series[0] (label A) > where[0] > value"],
    ),
    "eq_without_value": (
        "q.yaml",
        "series: [{event: login, where: [{property: platform, op: eq}]}]\n",
        ["operator 'eq' needs `value`", "is_null"],
    ),
    "in_without_values": (
        "q.yaml",
        "series: [{event: login, where: [{property: platform, op: in, value: web}]}]\n",
        ["operator 'in' needs a non-empty list `values`"],
    ),
    "between_one_value": (
        "q.yaml",
        "series: [{event: login, where: [{property: amount, op: between, values: [1]}]}]\n",
        ["between", "[low, high]"],
    ),
    "contains_a_number": (
        "q.yaml",
        "series: [{event: login, where: [{property: platform, op: contains, value: 5}]}]\n",
        ["operator 'contains' needs a text `value`"],
    ),
    "empty_operator": (
        "q.yaml",
        "series: [{event: login, where: [{property: platform, op: '', value: x}]}]\n",
        ["where[0] > op", "must be one of"],
    ),
    "unknown_event_in_any_of": (
        "q.yaml",
        "series: [{event: {any_of: [login, logn]}}]\n" + RANGE,
        ["unknown event 'logn'", "did you mean 'login'", "series[0] (label A) > event"],
    ),
    "unknown_breakdown_property": (
        "q.yaml",
        "series: [{event: login}]\nbreakdown: [countyr]\n" + RANGE,
        ["breakdown[0]", "unknown property 'countyr'", "did you mean 'country'"],
    ),
    "measure_unknown_property": (
        "q.yaml",
        "series: [{event: purchase, measure: 'sum:revenu'}]\n" + RANGE,
        ["measure", "unknown property 'revenu'"],
    ),
    "measure_on_text": (
        "q.yaml",
        "series: [{event: purchase, measure: 'avg:platform'}]\n" + RANGE,
        ["measure 'avg:platform' needs a numeric property", "string"],
    ),
    "measure_bad_percentile": ("q.yaml", "series: [{event: purchase, measure: 'p100:revenue'}]\n", ["p100"]),
    "measure_bad_window": ("q.yaml", "series: [{event: login, measure: 'active_users:0d'}]\n", ["active_users"]),
    "date_value_for_a_date": (
        "q.yaml",
        "series: [{event: login, where: [{property: event_date, op: gt, value: yesterday}]}]\n" + RANGE,
        ["where[0]", "event_date"],
    ),
    "empty_range": ("q.yaml", "series: [{event: login}]\ndate_range: {from: 2025-01-05, to: 2025-01-05}\n", ["`to`"]),
    "invalid_date": (
        "q.yaml",
        "series: [{event: login}]\ndate_range: {from: 2025-13-01, to: 2025-14-01}\n",
        ["malformed YAML", "month must be in 1..12"],
    ),
    "invalid_date_json": (
        "q.json",
        '{"series": [{"event": "login"}], "date_range": {"from": "2025-02-30", "to": "2025-03-01"}}',
        ["date_range > from", "date"],
    ),
    "relative_zero": ("q.yaml", "series: [{event: login}]\ndate_range: {last: 0d}\n", ["`last` must be a positive"]),
    "relative_unit": ("q.yaml", "series: [{event: login}]\ndate_range: {last: 3 fortnights}\n", ["`last`"]),
    "both_range_kinds": (
        "q.yaml",
        "series: [{event: login}]\ndate_range: {last: 3d, from: 2025-01-01}\n",
        ["date_range"],
    ),
    "duplicate_labels": ("q.yaml", "series: [{event: login, label: x}, {event: signup, label: x}]\n", ["labelled 'x'"]),
    "reserved_breakdown": (
        "q.yaml",
        "series: [{event: login}]\nbreakdown: [value]\n" + RANGE,
        ["breakdown[0]", "value"],
    ),
    "nul_in_value": (
        "q.json",
        json.dumps({"series": [{"event": "login", "where": [{"property": "platform", "op": "eq", "value": "a\x00"}]}]}),
        ["series[0] > where[0] > value", "NUL"],
    ),
    "lone_surrogate": ("q.json", '{"series": [{"event": "log\\ud800in"}]}', ["series[0] > event", "Unicode"]),
    "too_many_buckets_hint": (
        "q.yaml",
        "series: [{event: login}]\ndate_range: {from: 2000-01-01, to: 2025-01-01}\ntime_grain: hour\n",
        ["time_grain", "buckets", "Hint: choose a coarser time_grain"],
    ),
}


# Found by these tests, in compile_query (not this suite's code): the reserved-name check runs
# before the query's file is attached to errors, so the message names the field but not the file.
KNOWN_GAPS: set[str] = set()


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="message lacks the file")) if n in KNOWN_GAPS else n
        for n in sorted(BAD_QUERIES)
    ],
)
def test_bad_query_files(project: Path, tmp_path: Path, name: str) -> None:
    filename, content, needles = BAD_QUERIES[name]
    path = tmp_path / filename
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    code, out, err = invoke("run", str(path), "-p", str(project))
    assert_clean(code, out, err, 2, str(path), *needles)


BAD_PROJECTS: dict[str, tuple[str, list[str], int]] = {
    "malformed": ("warehouse: [duckdb\n", ["malformed YAML"], 2),
    "no_event_tables": ("warehouse: duckdb:///x.duckdb\n", ["event_tables: required field is missing"], 2),
    "not_a_url": ("warehouse: events.duckdb\nevent_tables: [{table: e, event_name: n}]\n", ["must be a URL"], 2),
    "unknown_timezone": (
        "warehouse: duckdb:///x.duckdb\ntimezone: Mars/Olympus\nevent_tables: [{table: e, event_name: n}]\n",
        ["unknown time zone 'Mars/Olympus'"],
        2,
    ),
    "bad_week_start": (
        "warehouse: duckdb:///x.duckdb\nweek_start: someday\nevent_tables: [{table: e, event_name: n}]\n",
        ["week_start"],
        2,
    ),
    "two_name_sources": (
        "warehouse: duckdb:///x.duckdb\nevent_tables: [{table: e, event_name: n, event_name_value: x}]\n",
        ["exactly one of `event_name`"],
        2,
    ),
    "sqlite_file_missing": (
        "warehouse: sqlite:////nonexistent/dir/x.db\nevent_tables: [{table: e, event_name: n}]\n",
        ["SQLite database file not found"],
        3,
    ),
    "duckdb_url_with_host": (
        "warehouse: duckdb://host/x.duckdb\nevent_tables: [{table: e, event_name: n}]\n",
        ["three slashes", "duckdb:///host/x.duckdb"],
        2,  # a project error (issue 14), not the warehouse's
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_PROJECTS))
def test_bad_project_files(tmp_path: Path, name: str) -> None:
    content, needles, expected = BAD_PROJECTS[name]
    project = tmp_path / "segwise.yaml"
    project.write_text(content)
    query = tmp_path / "q.yaml"
    query.write_text("series: [{event: login}]\n")
    code, out, err = invoke("run", str(query), "-p", str(project))
    assert_clean(code, out, err, expected, *needles)


def test_wrong_column_in_the_project_names_the_table(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "segwise.yaml"
    bad.write_text(project.read_text().replace("event_name: event_name", "event_name: event_type"))
    query = tmp_path / "q.yaml"
    query.write_text("series: [{event: login}]\n")
    code, out, err = invoke("run", str(query), "-p", str(bad))
    assert_clean(code, out, err, 2, "event_tables[0] (events)", "column 'event_type' not found", "'event_name'")


def test_bad_options(project: Path, tmp_path: Path) -> None:
    query = tmp_path / "q.yaml"
    query.write_text("series: [{event: login}]\n" + RANGE)
    for args, needle in (
        (["--timeout", "0"], "--timeout"),
        (["--timeout", "-3"], "--timeout"),
        (["--timeout", "soon"], "--timeout"),
        (["--format", "xml"], "--format"),
        (["--now", "tomorrowish"], "--now"),
    ):
        result = CliRunner().invoke(main, ["run", str(query), "-p", str(project), *args])
        assert result.exit_code == 2, (args, result.output)
        assert needle in result.stderr and "Traceback" not in result.output
    code, out, err = invoke("run", str(tmp_path / "absent.yaml"), "-p", str(project))
    assert_clean(code, out, err, 2, "query file not found", "absent.yaml")


# -- too many breakdown groups --------------------------------------------------------------------


@pytest.fixture(scope="module")
def many_groups(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("groups")
    con = duckdb.connect(str(directory / "g.duckdb"))
    con.execute(
        "CREATE TABLE events AS SELECT 'u' || (i % 500) AS user_id, "
        "TIMESTAMP '2025-01-01' + INTERVAL (i % 86400) SECOND AS event_time, 'view' AS event_name, "
        f"'s' || i AS session FROM range({MAX_GROUPS + 50}) t(i)"
    )
    con.close()
    path = directory / "segwise.yaml"
    path.write_text(
        f"warehouse: duckdb:///{directory}/g.duckdb\nevent_tables: [{{table: events, event_name: event_name}}]\n"
    )
    return path


def test_too_many_breakdown_groups_is_refused_with_a_hint(many_groups: Path, tmp_path: Path) -> None:
    query = tmp_path / "q.yaml"
    query.write_text("series: [{event: view}]\ndate_range: {from: 2025-01-01, to: 2025-01-02}\nbreakdown: [session]\n")
    code, out, err = invoke("run", str(query), "-p", str(many_groups), "-f", "json")
    assert_clean(code, out, err, 2, f"{MAX_GROUPS + 50:,} groups", "breakdown", "Hint: set breakdown_limit")
    assert out == ""  # nothing printed: no truncated answer
    query.write_text(query.read_text() + "breakdown_limit: 3\n")
    code, out, err = invoke("run", str(query), "-p", str(many_groups), "-f", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert sorted(r["session"] for r in rows) == ["Other", "s0", "s1", "s10"]
    assert sum(r["value"] for r in rows) == MAX_GROUPS + 50  # every event, none lost


def test_too_many_result_rows_is_refused_not_truncated(many_groups: Path, tmp_path: Path, monkeypatch) -> None:
    import segwise
    from segwise import dispatch

    monkeypatch.setattr(dispatch, "MAX_RESULT_ROWS", 100)
    project = segwise.Project.load(many_groups)
    query = {
        "series": [{"event": "view"}],
        "date_range": {"from": "2025-01-01", "to": "2025-01-02"},
        "time_grain": "hour",
    }
    query["breakdown"] = ["session"]
    query["breakdown_limit"] = 50
    with pytest.raises(segwise.SpecError, match=r"more than 100 rows|would have"):
        segwise.run(query, project)
    project.close()


# -- warehouses that cannot be used ------------------------------------------------------------------


def _pg_project(tmp_path: Path, url: str, table: str = "events") -> Path:
    path = tmp_path / "pg.yaml"
    path.write_text(f"warehouse: '{url}'\nevent_tables: [{{table: {table}, event_name: event_name}}]\n")
    return path


def test_unreachable_postgres(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    query = tmp_path / "q.yaml"
    query.write_text("series: [{event: login}]\n")
    code, out, err = invoke(
        "run", str(query), "-p", str(_pg_project(tmp_path, f"postgresql://u:secret@127.0.0.1:{port}/db"))
    )
    assert_clean(
        code, out, err, 3, "cannot reach the PostgreSQL server", f"127.0.0.1:{port}", "Hint: is the server running"
    )
    assert "secret" not in err  # the password is never shown


def test_wrong_postgres_credentials_and_missing_table(tmp_path: Path) -> None:
    from tests.pg import postgres_dsn

    dsn = postgres_dsn()
    from tests.pg import get_server

    wrong = get_server().with_credentials(password="not-the-password")
    query = tmp_path / "q.yaml"
    query.write_text("series: [{event: login}]\n")
    code, out, err = invoke("run", str(query), "-p", str(_pg_project(tmp_path, wrong)))
    assert_clean(code, out, err, 3, "PostgreSQL refused the login", "Hint: check the user and password")
    assert "not-the-password" not in err
    code, out, err = invoke("run", str(query), "-p", str(_pg_project(tmp_path, dsn, table="no_such_events")))
    assert_clean(code, out, err, 2, "table 'no_such_events' not found", "pg.yaml")


def test_missing_sqlite_table(tmp_path: Path) -> None:
    url = BACKENDS["sqlite"].load({"other": pa.table({"a": [1]})}, tmp_path, "empty")
    project = tmp_path / "s.yaml"
    project.write_text(f"warehouse: {url}\nevent_tables: [{{table: events, event_name: event_name}}]\n")
    query = tmp_path / "q.yaml"
    query.write_text("series: [{event: login}]\n")
    code, out, err = invoke("run", str(query), "-p", str(project))
    assert_clean(code, out, err, 2, "table 'events' not found in the SQLite database")


# -- a real process ------------------------------------------------------------------------------------


def test_bad_input_in_a_real_process(project: Path, tmp_path: Path) -> None:
    """The installed entry point: exit codes, one-paragraph stderr, no traceback, nothing on stdout."""
    cases = [
        ("series: [{event: login, measure: countt}]\n", 2, "unknown measure 'countt'"),
        ("series: [{event: login}\n", 2, "malformed YAML"),
        ("series: [{event: login}]\nbreakdown: [nosuch]\n" + RANGE, 2, "unknown property 'nosuch'"),
    ]
    for index, (text, expected, needle) in enumerate(cases):
        query = tmp_path / f"q{index}.yaml"
        query.write_text(text)
        done = subprocess.run(
            [sys.executable, "-m", "segwise.cli", "run", str(query), "-p", str(project)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == expected, done.stderr
        assert needle in done.stderr and str(query) in done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""
        assert done.stderr.count("\n") == 1
