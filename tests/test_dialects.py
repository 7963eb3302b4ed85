"""Dialects: the SQL segwise writes for every registered flavor, without connecting to it.

The dialects are what the registry holds (``registry.flavor_classes()``: the flavors plugins
register with ``segwise_dialects`` and every adapter's ``flavor_class``), so a newly registered
dialect is tested here without editing this file: it fails until its snapshots exist.

For a set of representative queries and each dialect, the compiled SQL must

1. parse back with sqlglot in that dialect,
2. match the snapshot in ``tests/snapshots/<dialect>/<case>.sql`` (pretty-printed, as
   ``segwise sql`` prints it; regenerate with ``SEGWISE_UPDATE_SNAPSHOTS=1``),
3. contain the constructs that make it mean the same as on DuckDB (exact percentiles,
   session-independent time-zone conversion, Monday weeks ...) and none that do not,

and combinations a dialect cannot answer exactly (its ``capabilities``) raise ``UnsupportedError``.

The SQL for ClickHouse and Databricks was also run on chDB 4.4 (ClickHouse 26.9) and PySpark
4.3 against this demo data, in non-UTC session zones, and gave DuckDB's rows; the optional
``test_clickhouse_matches_duckdb`` repeats that for ClickHouse where ``chdb`` is installed.
"""

from __future__ import annotations

import difflib
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
import yaml
from click.testing import CliRunner
from sqlglot import exp

import segwise
from segwise.adapters.base import SqlFlavor
from segwise.cli import main
from segwise.demo.generate import write_duckdb
from segwise.pipeline import compile_query
from segwise.registry import adapter_classes, flavor_classes, get_flavor
from tests.test_retention_rolling import ROLLING_DIALECT_QUERY

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("SEGWISE_UPDATE_SNAPSHOTS") == "1"
NOW = "2025-01-31"

# Every registered flavor once, by its name (aliases such as ``postgres`` are the same flavor).
FLAVORS: dict[str, type[SqlFlavor]] = {cls.name: cls for cls in flavor_classes().values()}
DIALECTS = tuple(sorted(FLAVORS))

# name -> (project kind, query). Project kinds: utc, berlin (Europe/Berlin), sunday (weeks start Sunday).
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "events_daily": (
        "utc",
        {
            "series": [{"event": "page_view", "measure": "events"}],
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "time_grain": "day",
        },
    ),
    "unique_users_week_sunday": (
        "sunday",
        {
            "series": [{"event": "login", "measure": "unique_users"}],
            "date_range": {"from": "2025-01-05", "to": "2025-01-26"},
            "time_grain": "week",
        },
    ),
    "active_accounts_by_license": (  # unit from a user table; a distinct count of values
        "utc",
        {
            "series": [
                {"event": "any", "measure": "unique_users"},
                {"event": "login", "measure": "wau"},
                {"event": "page_view", "measure": "unique:url"},
            ],
            "unit": "account",
            "date_range": {"from": "2025-01-06", "to": "2025-01-27"},
            "time_grain": "week",
            "breakdown": ["license_type"],
        },
    ),
    "sessions_per_user_segment": (  # unit from an event column, in a segment
        "utc",
        {
            "series": [{"event": "page_view", "measure": "user_avg:events"}],
            "unit": "session",
            "segment": {"did": {"event": "purchase"}},
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "time_grain": "week",
        },
    ),
    "revenue_by_country_top3": (
        "utc",
        {
            "series": [{"event": "purchase", "measure": "sum:revenue"}],
            "date_range": {"last": "4w"},
            "time_grain": "week",
            "breakdown": ["country"],
            "breakdown_limit": 3,
        },
    ),
    "p90_amount": (
        "utc",
        {
            "series": [
                {"event": "payment", "measure": "p90:amount"},
                {"event": "payment", "measure": "median:amount"},
            ],
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "time_grain": "week",
        },
    ),
    "wau_top2_platform": (
        "utc",
        {
            "series": [{"event": "any", "measure": "wau"}],
            "date_range": {"from": "2025-01-06", "to": "2025-01-27"},
            "time_grain": "week",
            "breakdown": ["platform"],
            "breakdown_limit": 2,
        },
    ),
    "berlin_events_per_user": (
        "berlin",
        {
            "series": [
                {"event": "feature_used", "measure": "events_per_user"},
                {"event": "page_view", "measure": "dau"},
            ],
            "date_range": {"from": "2025-01-10", "to": "2025-01-20"},
            "time_grain": "day",
        },
    ),
    "funnel_weekly_top2": (
        "utc",
        {
            "funnel": {
                "steps": [{"event": "login"}, {"event": "page_view"}, {"event": "purchase"}],
                "window": "7d",
                "exclude": [{"event": "push_sent", "after_step": 2}],
                "hold": ["platform"],
            },
            "date_range": {"from": "2025-01-06", "to": "2025-01-27"},
            "time_grain": "week",
            "breakdown": ["country"],
            "breakdown_limit": 2,
        },
    ),
    "berlin_hour_breakdown": (
        "berlin",
        {
            "series": [{"event": "page_view", "measure": "events"}],
            "date_range": {"from": "2025-01-15", "to": "2025-01-16"},
            "time_grain": "hour",
            "breakdown": ["platform"],
        },
    ),
    "user_filter_month": (
        "utc",
        {
            "series": [
                {
                    "event": "login",
                    "measure": "unique_users",
                    "where": [{"property": "account_type", "op": "in", "values": ["business", "education"]}],
                },
                {"event": "page_view", "measure": "events"},
            ],
            "date_range": {"from": "2025-01-01", "to": "2025-02-01"},
            "time_grain": "month",
            "breakdown": ["user.country", "user.account_type"],
        },
    ),
    "text_ops_total": (
        "utc",
        {
            "series": [
                {
                    "event": "page_view",
                    "measure": "unique_users",
                    "where": [{"property": "url", "op": "contains", "value": "doc"}],
                },
                {
                    "event": "page_view",
                    "measure": "unique_users",
                    "where": [{"property": "referrer", "op": "starts_with", "value": "gö"}],
                },
                {"event": "purchase", "measure": "avg:revenue"},
                {"event": "purchase", "measure": "max:revenue"},
            ],
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "time_grain": "total",
        },
    ),
    "retention_weekly_sunday": (
        "sunday",
        {
            "retention": {"start": "login", "return": "any", "start_mode": "recurring", "cumulative": True},
            "date_range": {"from": "2025-01-05", "to": "2025-01-26"},
            "time_grain": "week",
            "breakdown": ["country"],
            "breakdown_limit": 3,
        },
    ),
    "retention_berlin_daily": (
        "berlin",
        {
            "retention": {"start": "signup", "return": "purchase", "periods": 5},
            "date_range": {"from": "2025-01-10", "to": "2025-01-20"},
            "time_grain": "day",
        },
    ),
    "retention_rolling_daily": ("berlin", ROLLING_DIALECT_QUERY),  # 24-hour periods from each unit's t0
    "cohort_tiers": (  # behavioural segment (having, lists, did_not) and a category breakdown
        "utc",
        {
            "series": [{"event": "any", "measure": "unique_users"}],
            "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
            "time_grain": "week",
            "segment": {
                "did": {
                    "event": "any",
                    "date_range": {"last": "14d"},
                    "having": {"measure": "active_days", "op": "gte", "value": 2},
                },
                "did_not": [
                    {"event": "purchase", "having": {"measure": "sum:revenue", "op": "between", "values": [1, 5]}}
                ],
            },
            "categories": {
                "tier": {
                    "of": [
                        {
                            "label": "buyer",
                            "segment": {
                                "did": {"event": "purchase", "having": {"measure": "events", "op": "gte", "value": 2}}
                            },
                        },
                        {"label": "visitor", "segment": {"did": {"event": "page_view"}}},
                    ],
                    "else": "rest",
                }
            },
            "breakdown": ["tier"],
        },
    ),
}

# Dialects with no exact percentile aggregate: median/pNN must be refused, not approximated.
NO_EXACT_PERCENTILE = tuple(d for d in DIALECTS if not FLAVORS[d].capabilities.exact_percentiles)
NO_TIMEZONES = tuple(d for d in DIALECTS if not FLAVORS[d].capabilities.timezones)
PERCENTILE_CASES = ("p90_amount",)

# (case or "*", dialect) -> (fragments that must appear, fragments that must not)
EXPECT: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    # every dialect: never an approximate aggregate
    **{("*", d): ((), ("APPROX", "approx", "Approx")) for d in DIALECTS},
    # exact percentiles, in each dialect's own spelling
    ("p90_amount", "databricks"): (
        ("PERCENTILE(CAST(`e`.`amount` AS DOUBLE), 0.9)", "PERCENTILE(CAST(`e`.`amount` AS DOUBLE), 0.5)"),
        ("PERCENTILE_CONT", "PERCENTILE_APPROX"),
    ),
    ("p90_amount", "clickhouse"): (("quantileExactInclusive(0.9)(", "quantileExactInclusive(0.5)("), ("PERCENTILE",)),
    ("p90_amount", "snowflake"): (("PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY",), ()),
    ("p90_amount", "redshift"): (("PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY",), ()),
    # the non-UTC project converts naive UTC times without consulting a session time zone
    ("berlin_events_per_user", "snowflake"): (("CONVERT_TIMEZONE('UTC', 'Europe/Berlin', ",), ("AT TIME ZONE",)),
    ("berlin_events_per_user", "redshift"): (("CONVERT_TIMEZONE('UTC', 'Europe/Berlin', ",), ("AT TIME ZONE",)),
    ("berlin_events_per_user", "databricks"): (
        ("CONVERT_TIMEZONE('UTC', 'Europe/Berlin', ",),
        ("FROM_UTC_TIMESTAMP", "DATE_TRUNC"),
    ),
    ("berlin_events_per_user", "bigquery"): (
        ("DATETIME(TIMESTAMP(`e`.`event_time`, 'UTC'), 'Europe/Berlin')", "DATETIME_TRUNC("),
        ("TIMESTAMP_TRUNC",),
    ),
    ("berlin_events_per_user", "trino"): (
        ("AT_TIMEZONE(WITH_TIMEZONE(\"e\".\"event_time\", 'UTC'), 'Europe/Berlin') AS TIMESTAMP(6))",),
        (),
    ),
    ("berlin_events_per_user", "clickhouse"): (
        ('timeZoneOffset(toTimeZone("e"."event_time", \'Europe/Berlin\'))', "toStartOfDay("),
        ("AT TIME ZONE", "dateTrunc"),
    ),
    ("berlin_hour_breakdown", "clickhouse"): (("toStartOfHour(",), ()),
    ("berlin_hour_breakdown", "databricks"): (("TIMESTAMPADD(HOUR, HOUR(",), ("DATE_TRUNC",)),
    # Monday weeks that do not depend on WEEK_START / BigQuery's Sunday WEEK
    ("unique_users_week_sunday", "snowflake"): (("DAYOFWEEKISO(",), ("DATE_TRUNC('WEEK'",)),
    ("unique_users_week_sunday", "bigquery"): (("ISOWEEK",), ()),
    ("unique_users_week_sunday", "clickhouse"): (("toMonday(",), ()),
    ("unique_users_week_sunday", "databricks"): (("TRUNC(CAST(", "'WEEK')"), ()),
    # null-safe breakdown join, spine and counts
    # (as equalities an engine can hash: IS NOT DISTINCT FROM made PostgreSQL loop rows x groups)
    ("revenue_by_country_top3", "redshift"): (
        ("COALESCE(p0._g0, '') = COALESCE(_rank._g0, '')",),
        ("IS NOT DISTINCT FROM",),
    ),
    ("wau_top2_platform", "redshift"): (("UNION ALL",), ("IS NOT DISTINCT FROM", "VALUES")),
    ("wau_top2_platform", "bigquery"): (("UNNEST([STRUCT(",), ("VALUES",)),
    ("wau_top2_platform", "clickhouse"): (("CROSS JOIN", "toInt64(COUNT(DISTINCT"), ("VALUES",)),
    ("user_filter_month", "clickhouse"): (("SETTINGS join_use_nulls = 1",), ()),
    # Snowflake resolves the compiler's quoted lower-case names as the upper-case unquoted ones
    ("user_filter_month", "snowflake"): (('"E"."EVENT_TIME"', 'FROM "EVENTS" AS "E"', '"U0"."COUNTRY"'), ('"e".',)),
    # text operators: ClickHouse substring() counts bytes
    ("text_ops_total", "clickhouse"): (("substringUTF8(",), ("SUBSTRING(",)),
}


def _project(path: Path, kind: str) -> segwise.Project:
    return segwise.Project(
        warehouse=f"duckdb:///{path}",
        timezone="Europe/Berlin" if kind == "berlin" else "UTC",
        week_start="sunday" if kind == "sunday" else "monday",
        event_tables=[{"table": "events", "event_name": "event_name"}],
        user_tables=[{"table": "users"}],
        units={"account": "account_id", "session": "session_id"},
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dialects") / "demo.duckdb"
    write_duckdb(path, users=200, days=30)
    return path


@pytest.fixture(scope="module")
def projects(demo_db: Path):  # type: ignore[no-untyped-def]
    made = {kind: _project(demo_db, kind) for kind in ("utc", "berlin", "sunday")}
    yield made
    for project in made.values():
        project.close()


def _supported(case: str, dialect: str) -> bool:
    if case in PERCENTILE_CASES and dialect in NO_EXACT_PERCENTILE:
        return False
    return not (CASES[case][0] == "berlin" and dialect in NO_TIMEZONES)


def check_snapshot(dialect: str, case: str, text: str) -> None:
    """Compare ``text`` with its snapshot file; rewrite it when SEGWISE_UPDATE_SNAPSHOTS=1."""
    path = SNAPSHOTS / dialect / f"{case}.sql"
    text = text.rstrip("\n") + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}; run with SEGWISE_UPDATE_SNAPSHOTS=1 to create it")
    expected = path.read_text(encoding="utf-8")
    if expected != text:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), text.splitlines(keepends=True), str(path), "rendered now"
            )
        )
        pytest.fail(
            f"SQL for {case} in {dialect} differs from its snapshot (SEGWISE_UPDATE_SNAPSHOTS=1 accepts it):\n{diff}"
        )


SUPPORTED = [(c, d) for c in CASES for d in DIALECTS if _supported(c, d)]


@pytest.mark.parametrize(("case", "dialect"), SUPPORTED, ids=[f"{d}-{c}" for c, d in SUPPORTED])
def test_dialect_sql(projects, case: str, dialect: str) -> None:  # type: ignore[no-untyped-def]
    kind, query = CASES[case]
    project = projects[kind]
    sql = project.compile(query, dialect=dialect, now=NOW)
    read = get_flavor(dialect).dialect

    # 1. valid for sqlglot's parser of that dialect
    parsed = sqlglot.parse_one(sql, read=read)

    # 2. the pretty form `segwise sql` prints is the same statement, and matches the snapshot
    compiled = compile_query(project, query, dialect=dialect, now=NOW)
    assert compiled.sql == sql
    pretty = compiled.expression.sql(dialect=read, pretty=True)
    assert sqlglot.parse_one(pretty, read=read) == parsed
    check_snapshot(dialect, case, pretty)

    # 3. dialect-specific constructs
    for key in (("*", dialect), (case, dialect)):
        present, absent = EXPECT.get(key, ((), ()))
        for fragment in present:
            assert fragment in sql, f"{dialect}/{case}: expected {fragment!r} in\n{sql}"
        for fragment in absent:
            assert fragment not in sql, f"{dialect}/{case}: unexpected {fragment!r} in\n{sql}"


def test_every_expectation_names_a_rendered_case() -> None:
    for case, dialect in EXPECT:
        assert case == "*" or (case in CASES and _supported(case, dialect)), (case, dialect)


@pytest.mark.parametrize("dialect", NO_EXACT_PERCENTILE)
@pytest.mark.parametrize("measure", ["p90:amount", "median:amount"])
def test_no_exact_percentile_is_refused(projects, dialect: str, measure: str) -> None:  # type: ignore[no-untyped-def]
    query = {
        "series": [{"event": "payment", "measure": measure}],
        "date_range": {"from": "2025-01-01", "to": "2025-01-31"},
        "time_grain": "week",
    }
    with pytest.raises(segwise.UnsupportedError, match=rf"{dialect} has no exact percentile"):
        projects["utc"].compile(query, dialect=dialect, now=NOW)


@pytest.mark.parametrize("dialect", NO_TIMEZONES)
def test_no_timezones_is_refused(projects, dialect: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(segwise.UnsupportedError, match=rf"{dialect} cannot convert times between time zones"):
        projects["berlin"].compile(CASES["berlin_events_per_user"][1], dialect=dialect, now=NOW)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_render_is_idempotent(projects, dialect: str) -> None:  # type: ignore[no-untyped-def]
    """``render`` may rewrite in place (so ``segwise sql`` prints what ``compile`` returned); twice is once."""
    kind, query = CASES["user_filter_month"]
    compiled = compile_query(projects[kind], query, dialect=dialect, now=NOW)
    assert get_flavor(dialect).render(compiled.expression) == compiled.sql


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_flavor_renders_without_a_connection(monkeypatch: pytest.MonkeyPatch, dialect: str) -> None:
    """``get_flavor`` gives a plain flavor: no adapter is constructed, nothing connects."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"rendering {dialect} constructed an adapter")

    for adapter_class in adapter_classes().values():
        monkeypatch.setattr(adapter_class, "__init__", refuse)
    flavor = get_flavor(dialect)
    assert type(flavor) is FLAVORS[dialect]
    ts = exp.column("event_time", table="e", quoted=True)
    bucket = flavor.truncate("day", flavor.to_local(ts, "UTC", False))
    select = (
        exp.select(bucket.as_("bucket"), flavor.as_bigint(exp.Count(this=exp.Star())).as_("value"))
        .from_(exp.table_("events", alias="e"))
        .where(exp.GTE(this=ts.copy(), expression=flavor.timestamp_literal("2025-01-01 00:00:00", False)))
        .group_by(bucket.copy())
    )
    sqlglot.parse_one(flavor.render(select), read=flavor.dialect)


def test_aliases_are_the_same_flavor() -> None:
    for name, cls in flavor_classes().items():
        assert name == cls.name or name in cls.aliases
    assert type(get_flavor("postgres")) is type(get_flavor("postgresql"))


# Event times stored with a time zone (TIMESTAMPTZ in DuckDB's catalog): each dialect's own conversion
# (a newly registered dialect with time zones fails until it has an entry).
TIMESTAMPTZ_LOCAL = {
    "snowflake": 'CAST(CONVERT_TIMEZONE(\'Europe/Berlin\', "E"."EVENT_TIME") AS TIMESTAMPNTZ)',
    "bigquery": "DATETIME(`e`.`event_time`, 'Europe/Berlin')",
    "redshift": '"e"."event_time" AT TIME ZONE \'Europe/Berlin\'',
    "trino": 'CAST(AT_TIMEZONE("e"."event_time", \'Europe/Berlin\') AS TIMESTAMP(6))',
    "clickhouse": 'timeZoneOffset(toTimeZone("e"."event_time", \'Europe/Berlin\'))',
    "databricks": "CONVERT_TIMEZONE('Europe/Berlin', `e`.`event_time`)",
    "spark": "CONVERT_TIMEZONE('Europe/Berlin', `e`.`event_time`)",
    "duckdb": 'CAST("e"."event_time" AT TIME ZONE \'Europe/Berlin\' AS TIMESTAMP)',
    "postgresql": '"e"."event_time" AT TIME ZONE \'Europe/Berlin\'',
    "flightsql": '"e"."event_time" AT TIME ZONE \'Europe/Berlin\'',
}


@pytest.fixture(scope="module")
def tz_project(demo_db: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    import duckdb

    path = tmp_path_factory.mktemp("dialects_tz") / "tz.duckdb"
    con = duckdb.connect(str(path))
    con.sql("SET TimeZone = 'UTC'")
    con.sql(f"ATTACH '{demo_db}' AS src (READ_ONLY)")
    con.sql("CREATE TABLE events AS SELECT * REPLACE (event_time::TIMESTAMPTZ AS event_time) FROM src.events")
    con.sql("CREATE TABLE users AS SELECT * FROM src.users")
    con.close()
    project = _project(path, "berlin")
    yield project
    project.close()


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d not in NO_TIMEZONES])
def test_timestamptz_event_times(tz_project, dialect: str) -> None:  # type: ignore[no-untyped-def]
    assert dialect in TIMESTAMPTZ_LOCAL, f"add {dialect}'s conversion of a TIMESTAMPTZ event time"
    sql = tz_project.compile(CASES["berlin_events_per_user"][1], dialect=dialect, now=NOW)
    sqlglot.parse_one(sql, read=get_flavor(dialect).dialect)
    assert TIMESTAMPTZ_LOCAL[dialect] in sql
    assert "+00:00" in sql or " UTC'" in sql or dialect == "clickhouse"  # literals are instants


# -- the command line ------------------------------------------------------------------------------


def _write_files(tmp_path: Path, demo_db: Path) -> tuple[Path, Path]:
    query = tmp_path / "q.yaml"
    query.write_text(yaml.safe_dump(CASES["berlin_events_per_user"][1]), encoding="utf-8")
    project = tmp_path / "p.yaml"
    project.write_text(
        yaml.safe_dump(
            {
                "warehouse": f"duckdb:///{demo_db}",
                "timezone": "Europe/Berlin",
                "event_tables": [{"table": "events", "event_name": "event_name"}],
                "user_tables": [{"table": "users"}],
            }
        ),
        encoding="utf-8",
    )
    return query, project


def test_cli_sql_renders_bigquery(tmp_path: Path, demo_db: Path) -> None:
    query, project = _write_files(tmp_path, demo_db)
    result = CliRunner().invoke(main, ["sql", str(query), "-p", str(project), "--dialect", "bigquery", "--now", NOW])
    assert result.exit_code == 0, result.output
    assert result.output.lstrip().startswith("WITH") or "SELECT" in result.output
    assert "DATETIME_TRUNC(" in result.output and "'Europe/Berlin'" in result.output
    sqlglot.parse_one(result.output.strip().rstrip(";"), read="bigquery")


def test_cli_sql_prints_the_rewritten_statement(tmp_path: Path, demo_db: Path) -> None:
    """Rewrites made at render time (here Snowflake's identifier case) reach `segwise sql` too."""
    query, project = _write_files(tmp_path, demo_db)
    result = CliRunner().invoke(main, ["sql", str(query), "-p", str(project), "--dialect", "snowflake", "--now", NOW])
    assert result.exit_code == 0, result.output
    assert '"E"."EVENT_TIME"' in result.output and '"e".' not in result.output


def test_cli_unknown_dialect_lists_known_ones(tmp_path: Path, demo_db: Path) -> None:
    query, project = _write_files(tmp_path, demo_db)
    result = CliRunner().invoke(main, ["sql", str(query), "-p", str(project), "--dialect", "oracle"])
    assert result.exit_code == 2, result.output
    assert "oracle" in result.output
    for known in DIALECTS:
        assert known in result.output
    assert "Traceback" not in result.output


# -- optional: run the ClickHouse SQL on embedded ClickHouse (chdb) and compare with DuckDB -----------


def _normalise(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        items = []
        for key in sorted(row):
            value = row[key]
            if key == "bucket" and isinstance(value, int):  # chdb returns DateTime as epoch seconds
                value = datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None, microsecond=0)
            if isinstance(value, float) and not math.isnan(value):
                value = round(value, 9)
            items.append((key, value))
        out.append(tuple(items))
    return sorted(out, key=repr)


def test_clickhouse_matches_duckdb(demo_db: Path, tmp_path: Path) -> None:
    """The ClickHouse SQL gives DuckDB's rows on embedded ClickHouse, in a non-UTC session zone.

    Users whose id ends in 7 are left out of the users table and some countries are null, so
    unmatched user joins must give NULL (``join_use_nulls``), not ClickHouse's default ``''``;
    some referrers are non-ASCII, for ``starts_with`` (``substring`` counts bytes there).
    """
    chdb_session = pytest.importorskip("chdb.session")
    import duckdb

    variant = tmp_path / "variant.duckdb"
    con = duckdb.connect(str(variant))
    con.sql(f"ATTACH '{demo_db}' AS src (READ_ONLY)")
    con.sql("CREATE TABLE events AS SELECT * FROM src.events")
    con.sql("UPDATE events SET referrer = 'gö.example' WHERE referrer = 'bing.com'")  # non-ASCII starts_with
    con.sql(
        "CREATE TABLE users AS SELECT * REPLACE (CASE WHEN user_id LIKE '%3' THEN NULL ELSE country END AS country) "
        "FROM src.users WHERE user_id NOT LIKE '%7'"
    )
    for table in ("events", "users"):
        con.sql(f"COPY {table} TO '{tmp_path / table}.parquet' (FORMAT parquet)")
    con.close()
    projects = {kind: _project(variant, kind) for kind in ("utc", "berlin", "sunday")}
    # chDB runs one embedded server per process, on one directory: use the test backends' one
    from tests.backends import BACKENDS, schema_for

    session = chdb_session.Session(str(BACKENDS["chdb"].directory()))  # type: ignore[attr-defined]
    database = schema_for("dialects", tmp_path)
    try:
        session.query(f"CREATE DATABASE {database}")
        session.query(f"USE {database}")
        for table in ("events", "users"):
            session.query(
                f"CREATE TABLE {table} ENGINE = MergeTree ORDER BY tuple() AS "
                f"SELECT * FROM file('{tmp_path / table}.parquet', Parquet)"
            )
        session.query("SET session_timezone = 'America/New_York'")  # the SQL must not depend on it
        for case, (kind, query) in CASES.items():
            project = projects[kind]
            want = project.adapter().execute(project.compile(query, now=NOW)).to_pylist()
            result = session.query(project.compile(query, dialect="clickhouse", now=NOW), "ArrowStream")
            got = pa.ipc.open_stream(result.bytes()).read_all().to_pylist()
            assert _normalise(got) == _normalise(want), case
    finally:
        session.close()
        for project in projects.values():
            project.close()
