"""Injection-proof SQL on every live engine (``tests.backends.BACKENDS``).

Adversarial property values and event names (quotes, semicolons, ``--`` and ``/* */`` comments,
backslashes, LIKE wildcards, placeholders, RTL and emoji, 100k-character strings) and columns
really named with quotes, semicolons and spaces come back exactly as the oracle says; names that
do not exist are refused before any SQL is sent; NUL bytes are refused with a located SpecError;
every statement that reaches an engine is exactly one read-only SELECT (the guard, and an
independent sqlglot parse of what was sent); the data is unchanged afterwards; and each engine
refuses writes by itself (read-only sessions), with the guard out of the way.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

import segwise
from segwise import guard
from segwise.adapters.base import TableRef
from segwise.hookspecs import hookimpl
from segwise.observe import execute_observed
from segwise.registry import get_plugin_manager
from tests.backends import BACKENDS
from tests.conftest import Dataset

LONG = "x'; DROP TABLE events; --" * 4000  # 100,000 characters

VALUES = [
    "O'Brien",
    "''",
    "'",
    "\\",
    "\\'",
    "a\\",
    "'; DROP TABLE events; --",
    "1; DELETE FROM events",
    "x' OR '1'='1",
    "-- comment",
    "/* comment */",
    "*/",
    '" OR ""="',
    '";',
    "%",
    "_",
    "%_\\%",
    "$$ $1 ? :name %s {?: }",
    "\u202egnp.exe",  # right-to-left override
    "שלום عربى",
    "emoji 🎉 👩‍👩‍👧",
    "zero\u200bwidth e\u0301",
    "new\nline\r\ttab",
    "Other",
    "",
    LONG,
]

COLUMNS = [
    'we"ird',
    "semi;colon",
    "has space",
    "O'Brien",
    "--dash",
    "/*c*/",
    "back\\slash",
    "émoji🎉",
    "\u202ertl",
    "select",
    'DROP TABLE events; --"',
]
NUMERIC_COLUMN = "amount; DROP TABLE users"

START = datetime(2025, 3, 1)
RANGE = {"from": "2025-03-01", "to": "2025-03-08"}


def adversarial_tables() -> dict[str, pa.Table]:
    rows: list[dict[str, Any]] = []
    for i, value in enumerate(VALUES):
        for copy in range(1 + i % 3):
            rows.append(
                {
                    "user_id": f"u{(i + copy) % 7}" if i % 5 else None,
                    "event_time": START + timedelta(hours=5 * i + copy),
                    "event_name": value,
                    "label": value,
                    "n": i,
                    **{name: VALUES[(i + j) % len(VALUES)] for j, name in enumerate(COLUMNS)},
                    NUMERIC_COLUMN: None if i % 4 == 0 else i * 0.5,
                }
            )
    schema = pa.schema(
        [
            ("user_id", pa.string()),
            ("event_time", pa.timestamp("us")),
            ("event_name", pa.string()),
            ("label", pa.string()),
            ("n", pa.int64()),
            *[(name, pa.string()) for name in COLUMNS],
            (NUMERIC_COLUMN, pa.float64()),
        ]
    )
    events = pa.Table.from_pylist(rows, schema=schema)
    users = pa.table({"user_id": [f"u{i}" for i in range(7)], "tier": [VALUES[i] for i in range(7)]})
    return {"events": events, "users": users}


@pytest.fixture(scope="module")
def adversarial(backend: str, tmp_path_factory: pytest.TempPathFactory):
    tables = adversarial_tables()
    directory = tmp_path_factory.mktemp(f"{backend}-adversarial")
    url = BACKENDS[backend].load(tables, directory, "adversarial")
    dataset = Dataset("adversarial", backend, url, tables["events"], tables["users"], "event_name")
    yield dataset
    dataset.close()


class Recorder:
    """A plugin that keeps every statement segwise sends."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    @hookimpl
    def segwise_query_executed(self, event: Any) -> None:
        self.sql.append(event.sql)


@pytest.fixture
def recorder():
    pm = get_plugin_manager()
    plugin = Recorder()
    pm.register(plugin, name=f"recorder-{id(plugin)}")
    yield plugin
    pm.unregister(plugin)


def only_selects(recorder: Recorder, dialect: str) -> None:
    """Every statement sent parses (independently of the guard's fast path) as one SELECT."""
    assert recorder.sql, "no statement was sent"
    for sql in recorder.sql:
        statement = guard.check_sql(sql, dialect, [TableRef.parse("events"), TableRef.parse("users")])
        assert isinstance(statement, (exp.Select, exp.SetOperation))


def fingerprint(dataset: Dataset) -> list[dict[str, Any]]:
    """What the tables hold, read through segwise itself (event counts per label, users per tier)."""
    project = dataset.project()
    by_label = segwise.run(
        {"series": [{"event": "any"}], "date_range": RANGE, "time_grain": "total", "breakdown": ["label"]}, project
    )
    by_tier = segwise.run(
        {"series": [{"event": "any", "measure": "unique_users"}], "date_range": RANGE, "time_grain": "total"}, project
    )
    return by_label.to_pylist() + by_tier.to_pylist()


# -- values and event names --------------------------------------------------------------------


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# Engines where every series costs a distributed job (~0.5 s each on Spark local): they get the
# most hostile values only, so the suite stays within its time budget.
SLOW = {"spark"}
HOSTILE = ["O'Brien", "\\'", "a\\", "'; DROP TABLE events; --", "/* comment */", "%_\\%", "\u202egnp.exe", LONG]
OPERATORS = ["eq", "neq", "in", "not_in", "contains", "not_contains", "starts_with", "gte"]


def test_adversarial_values_in_conditions(adversarial: Dataset, recorder: Recorder) -> None:
    before = fingerprint(adversarial)
    series = []
    slow = adversarial.backend in SLOW
    for op in OPERATORS:
        # every value with eq; the most hostile ones with every other operator
        for value in (HOSTILE[:5] if slow else VALUES) if op == "eq" else (HOSTILE[3:5] if slow else HOSTILE):
            condition: dict[str, Any] = {"property": "label", "op": op}
            if op in ("in", "not_in"):
                condition["values"] = [value, "nothing like it"]
            else:
                condition["value"] = value
            series.append({"event": "any", "where": [condition]})
    for group in chunks(series, 52):
        adversarial.check({"series": group, "date_range": RANGE, "time_grain": "total"})
    only_selects(recorder, segwise.registry.open_adapter(adversarial.url).flavor.dialect)
    assert fingerprint(adversarial) == before


def test_adversarial_event_names(adversarial: Dataset, recorder: Recorder) -> None:
    names = [value for value in (HOSTILE if adversarial.backend in SLOW else VALUES) if value]  # "" is refused
    series = [{"event": value, "measure": "unique_users"} for value in names]
    adversarial.check({"series": series, "date_range": RANGE, "time_grain": "week"})
    combined = {
        "any_of": [VALUES[0], {"event": VALUES[6], "where": [{"property": "label", "op": "neq", "value": "'"}]}]
    }
    adversarial.check({"series": [{"event": combined}], "date_range": RANGE, "time_grain": "total"})
    only_selects(recorder, segwise.registry.open_adapter(adversarial.url).flavor.dialect)


def test_adversarial_values_come_back_as_breakdowns_and_labels(adversarial: Dataset) -> None:
    expected = adversarial.check(
        {
            "series": [{"event": "any", "label": "'; DROP TABLE events; --"}, {"event": "any", "label": "é\\'\""}],
            "date_range": RANGE,
            "time_grain": "total",
            "breakdown": ["label", "event"],
        }
    )
    assert {row["label"] for row in expected} == set(VALUES)
    adversarial.check(
        {
            "series": [{"event": "any", "measure": "unique_users"}],
            "date_range": RANGE,
            "time_grain": "total",
            "breakdown": ["label"],
            "breakdown_limit": 4,
        }
    )


# -- property names -----------------------------------------------------------------------------------


def test_columns_named_with_quotes_semicolons_and_spaces(adversarial: Dataset, recorder: Recorder) -> None:
    assert set(COLUMNS) <= set(adversarial.project().catalog().event_properties())
    for group in chunks(COLUMNS, 4)[: 1 if adversarial.backend in SLOW else None]:
        adversarial.check(
            {
                "series": [
                    {"event": "any", "where": [{"property": name, "op": "neq", "value": "Other"}]} for name in COLUMNS
                ],
                "date_range": RANGE,
                "time_grain": "total",
                "breakdown": group[:3],
            }
        )
    adversarial.check(
        {
            "series": [
                {"event": "any", "measure": f"sum:{NUMERIC_COLUMN}"},
                {
                    "event": "any",
                    "measure": f"max:{NUMERIC_COLUMN}",
                    "where": [{"property": "tier", "op": "eq", "value": "'"}],
                },
            ],
            "date_range": RANGE,
            "time_grain": "day",
            "breakdown": ["tier"],
        }
    )
    only_selects(recorder, segwise.registry.open_adapter(adversarial.url).flavor.dialect)


@pytest.mark.parametrize(
    "name",
    [
        'label" FROM users; --',
        "label; DROP TABLE events",
        "label' OR '1'='1",
        "label /* */",
        "LABEL",
        "user.label",
        "event.tier",
        "nosuch",
    ],
)
def test_names_that_do_not_exist_are_refused_before_any_sql(
    adversarial: Dataset, recorder: Recorder, name: str
) -> None:
    project = adversarial.project()
    project.catalog().event_counts()  # warm the catalog, so any statement now would be the query's
    recorder.sql.clear()
    for query in (
        {"series": [{"event": "any", "where": [{"property": name, "op": "eq", "value": 1}]}], "date_range": RANGE},
        {"series": [{"event": "any"}], "date_range": RANGE, "breakdown": [name]},
        {"series": [{"event": "any", "measure": f"sum:{name}"}], "date_range": RANGE},
    ):
        with pytest.raises(segwise.SegwiseError) as caught:
            segwise.run(query, project)
        assert name in str(caught.value) or "property" in str(caught.value)
    assert recorder.sql == []


# -- NUL and invalid Unicode -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "where"),
    [
        (
            {"series": [{"event": "any", "where": [{"property": "label", "op": "eq", "value": "a\x00b"}]}]},
            "where[0] > value",
        ),
        (
            {"series": [{"event": "any", "where": [{"property": "label", "op": "in", "values": ["ok", "\x00"]}]}]},
            "values[1]",
        ),
        ({"series": [{"event": "x\x00; DROP TABLE events"}]}, "series[0] > event"),
        ({"series": [{"event": {"any_of": [{"event": "a\x00"}]}}]}, "any_of[0] > event"),
        ({"series": [{"event": "any", "label": "A\x00"}]}, "series[0] > label"),
        ({"series": [{"event": "any"}], "breakdown": ["label\x00"]}, "breakdown[0]"),
        ({"series": [{"event": "any", "where": [{"property": "label", "op": "eq", "value": "\ud800"}]}]}, "value"),
    ],
)
def test_nul_and_lone_surrogates_are_refused_with_where(
    adversarial: Dataset, recorder: Recorder, query: dict[str, Any], where: str
) -> None:
    with pytest.raises(segwise.SpecError) as caught:
        segwise.run({**query, "date_range": RANGE}, adversarial.project())
    assert where in str(caught.value)
    assert "NUL" in str(caught.value) or "Unicode" in str(caught.value)
    assert recorder.sql == []


# -- literals round-trip exactly on each engine (hypothesis) ------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=60)


def test_any_text_round_trips_as_a_literal(adversarial: Dataset) -> None:
    adapter = adversarial.project().adapter()

    examples = 8 if adversarial.backend in SLOW else 60

    @settings(max_examples=examples, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(TEXT, TEXT)
    def round_trip(a: str, b: str) -> None:
        expression = exp.select(exp.Literal.string(a).as_("a"), exp.Literal.string(b).as_("b"))
        table = execute_observed(adapter, adapter.flavor.render(expression), expression=expression, tables=[])
        assert table.to_pylist() == [{"a": a, "b": b}]

    round_trip()
    for value in HOSTILE if adversarial.backend in SLOW else VALUES:
        expression = exp.select(exp.Literal.string(value).as_("v"))
        table = execute_observed(adapter, adapter.flavor.render(expression), expression=expression, tables=[])
        assert table.column("v").to_pylist() == [value]


# -- the engines refuse writes themselves -------------------------------------------------------------

WRITES = [
    "CREATE TABLE segwise_probe (i INTEGER)",
    "INSERT INTO events (user_id) VALUES ('x')",
    "DELETE FROM events",
    "UPDATE events SET label = 'x'",
    "DROP TABLE users",
]


@pytest.mark.parametrize("sql", WRITES)
def test_engine_refuses_writes_without_the_guard(adversarial: Dataset, sql: str) -> None:
    """The guard is bypassed (``adapter.execute``): the session itself is read-only."""
    adapter = adversarial.project().adapter()
    if adversarial.backend not in ("duckdb", "sqlite", "postgresql"):
        pytest.skip(f"{adversarial.backend}: no read-only session to test")
    with pytest.raises(segwise.WarehouseError):
        adapter.execute(sql)
    assert fingerprint(adversarial)  # still readable, unchanged tables


def test_duckdb_cannot_read_files_or_attach(tmp_path, adversarial: Dataset) -> None:
    if adversarial.backend != "duckdb":
        pytest.skip("DuckDB only")
    adapter = adversarial.project().adapter()
    (tmp_path / "secret.csv").write_text("a\n1\n")
    for sql in (
        f"SELECT * FROM read_csv('{tmp_path}/secret.csv')",
        f"SELECT * FROM '{tmp_path}/secret.csv'",
        f"ATTACH '{tmp_path}/other.duckdb' AS other",
        "SET enable_external_access = true",
    ):
        with pytest.raises(segwise.WarehouseError):
            adapter.execute(sql)


def test_sqlite_attached_databases_stay_read_only(tmp_path, adversarial: Dataset) -> None:
    """SQLite's engine does not stop ATTACH over ADBC (no authorizer or limits there): the guard
    does. Even attached, nothing can be written: the session is query_only."""
    if adversarial.backend != "sqlite":
        pytest.skip("SQLite only")
    adapter = adversarial.project().adapter()
    with pytest.raises(guard.RefusedStatement):
        execute_observed(adapter, f"ATTACH '{tmp_path}/other.db' AS other")
    adapter.execute(f"ATTACH '{tmp_path}/other.db' AS other")  # the guard bypassed
    try:
        for sql in ("CREATE TABLE other.t (i INTEGER)", "CREATE TEMP TABLE t (i INTEGER)"):
            with pytest.raises(segwise.WarehouseError, match=r"read-only|readonly|query_only|attempt to write"):
                adapter.execute(sql)
    finally:
        adapter.execute("DETACH other")
    assert not (tmp_path / "other.db").exists() or (tmp_path / "other.db").stat().st_size == 0


def test_postgres_backslashes_survive_standard_conforming_strings_off(adversarial: Dataset) -> None:
    """A server or role default of standard_conforming_strings = off would make the backslash in
    'a\\' an escape (and 'x\\'' OR 1=1 --' an injection); segwise sets it on for its sessions."""
    if adversarial.backend != "postgresql":
        pytest.skip("PostgreSQL only")
    import adbc_driver_postgresql.dbapi as pg

    from tests.pg import get_server

    server = get_server()
    role = f"segwise_scs_off_{int(time.time() * 1000) % 10**9}"
    with pg.connect(server.dsn, autocommit=True) as con, con.cursor() as cur:
        cur.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw' IN ROLE pg_read_all_data")
        cur.execute(f"ALTER ROLE {role} SET standard_conforming_strings = off")
    try:
        url = adversarial.url.replace(server.dsn, server.with_credentials(role, "pw"))
        assert role in url
        dataset = Dataset("adversarial", "postgresql", url, adversarial.events, adversarial.users, "event_name")
        adapter = dataset.project().adapter()
        setting = adapter.execute("SELECT current_setting('standard_conforming_strings') AS s").column("s")
        assert setting.to_pylist() == ["on"]
        values = ["a\\", "\\'", "x\\' OR 1=1 --", "back\\slash"]
        dataset.check(
            {
                "series": [{"event": "any", "where": [{"property": "label", "op": "eq", "value": v}]} for v in values],
                "date_range": RANGE,
                "time_grain": "total",
            }
        )
        dataset.close()
    finally:
        with pg.connect(server.dsn, autocommit=True) as con, con.cursor() as cur:
            cur.execute(f"DROP OWNED BY {role}")
            cur.execute(f"DROP ROLE {role}")


# -- the guard itself ------------------------------------------------------------------------------------

REFUSED = [
    "SELECT 1; DROP TABLE events",
    "SELECT 1; SELECT 2",
    "DROP TABLE events",
    "DELETE FROM events",
    "INSERT INTO events SELECT * FROM events",
    "UPDATE events SET label = 'x'",
    "CREATE TABLE t AS SELECT 1",
    "ALTER TABLE events ADD COLUMN x INT",
    "TRUNCATE events",
    "PRAGMA query_only = OFF",
    "ATTACH 'x.db' AS x",
    "COPY events TO '/tmp/x.csv'",
    "SET default_transaction_read_only = off",
    "CALL my_procedure()",
    "SELECT * INTO new_table FROM events",
    "SELECT * FROM events FOR UPDATE",
    "WITH d AS (DELETE FROM events RETURNING *) SELECT * FROM d",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM generate_series((SELECT max(x) FROM secrets), 10, 1) AS g(n)",
    "SELECT * FROM generate_series(1, (SELECT count(*) FROM events), 1) AS g(n)",
    "SELECT * FROM generate_series(secret_column, 10, 1) AS g(n)",
    "SELECT * FROM unnest_secrets(1, 2) AS g(n)",
    "SELECT * FROM '/etc/passwd'",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT query_to_xml('DELETE FROM events', true, true, '')",
    "SELECT * FROM pg_catalog.pg_authid",
    "SELECT * FROM secrets",
    "SELECT * FROM events JOIN other.users ON true",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT * FROM events WHERE label = 'a\x00b'",
    "EXPLAIN ANALYZE DELETE FROM events",
    "VACUUM",
    "CHECKPOINT",
]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
@pytest.mark.parametrize("sql", REFUSED)
def test_guard_refuses_anything_but_one_read_only_query(sql: str, dialect: str) -> None:
    tables = [TableRef.parse("events"), TableRef.parse("users")]
    with pytest.raises(guard.RefusedStatement):
        guard.check_sql(sql, dialect, tables)


def test_guard_accepts_queries_over_configured_tables_and_ctes() -> None:
    tables = [TableRef.parse("events"), TableRef.parse("analytics.users")]
    for sql in (
        "SELECT count(*) FROM events",
        'WITH s0 AS (SELECT * FROM "events") SELECT * FROM s0 UNION ALL SELECT * FROM analytics.users',
        "SELECT * FROM (VALUES (1, 2)) AS v(a, b)",
        "SELECT g.b FROM generate_series(TIMESTAMP '2025-01-01', TIMESTAMP '2025-03-01', INTERVAL '1 day') AS g(b)",
        "SELECT 'DROP TABLE x; --' AS harmless",
    ):
        guard.check_sql(sql, "duckdb", tables)


def test_text_check_catches_an_escaping_error() -> None:
    """If a renderer ever forgot to double a quote, the text check refuses what the tree allows."""
    value = "x' OR '1'='1"
    tree = (
        exp.select(exp.Star())
        .from_("events")
        .where(exp.EQ(this=exp.column("label"), expression=exp.Literal.string(value)))
    )
    good = tree.sql("duckdb")
    guard.check_statement(good, "duckdb", tree, [TableRef.parse("events")])
    broken = good.replace("''", "'")
    with pytest.raises(guard.RefusedStatement):
        guard.check_statement(broken, "duckdb", tree, [TableRef.parse("events")])
    for text in (
        good + "; DROP TABLE events",
        good + " -- trailing",
        good.replace("'x", "E'x", 1),
        good.replace("SELECT", "SELECT 'unterminated", 1),
        good + " /* a comment */ \x00",
    ):
        with pytest.raises(guard.RefusedStatement):
            guard.check_statement(text, "duckdb", tree, [TableRef.parse("events")])


def test_guard_refuses_a_plan_rule_that_writes(adversarial: Dataset) -> None:
    """A (buggy or hostile) plan rule cannot turn a query into a write: nothing is sent."""

    def rule(expression: exp.Expr, compiled: Any) -> exp.Expr:
        return exp.Delete(this=exp.to_table("events"))

    class Rules:
        @staticmethod
        @hookimpl
        def segwise_plan_rules() -> list[Any]:
            return [rule]

    pm = get_plugin_manager()
    plugin = Rules()
    pm.register(plugin, name="hostile-rule")
    try:
        with pytest.raises(guard.RefusedStatement, match="read-only"):
            segwise.run({"series": [{"event": "any"}], "date_range": RANGE}, adversarial.project())
    finally:
        pm.unregister(plugin)
    assert fingerprint(adversarial)
