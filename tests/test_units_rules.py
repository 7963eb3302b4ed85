"""Units and ``unique:P`` meet the planner's rules: rollups and per-user reductions keep user ids,
and a distinct count does not re-aggregate, so the rules refuse them where they would be wrong (and
the answers still equal the oracle); bad input (unknown unit, a unit whose column does not exist,
``user_where`` with a unit, ``unique`` without a property) is refused naming where."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

import segwise
from segwise.errors import CatalogError, SpecError
from segwise.pipeline import compile_query
from segwise.rollup_build import build
from tests.conftest import Dataset, _load, assert_same, generated_tables, partitioned_project
from tests.oracle import oracle
from tests.oracle_units import event_columns, unit_reader
from tests.segmentation_cases import c, nontrivial, q, s

UNITS = {"account": "account_id", "session": "session_id"}
NOW = "2025-02-27T15:30:00"
ROLLUPS = [
    {"name": "daily", "table": "r_daily", "dimensions": ["event", "platform"], "users": True},
    {"name": "slim", "table": "r_slim", "dimensions": ["event", "platform"]},
]


@pytest.fixture(scope="module")
def rolled(tmp_path_factory: pytest.TempPathFactory):
    """The generated data in DuckDB with units and a day rollup keeping user ids, built up to a week
    before NOW; a cost model under which the planner takes every exact rollup."""
    users, events = generated_tables()
    dataset = _load("units_rules", "duckdb", tmp_path_factory, {"events": events, "users": users}, "event_name")
    calibration = tmp_path_factory.mktemp("calibration") / "c.json"
    costs = {"overhead": 0.001, "scan_row": 1e-6, "agg_row": 1e-12}
    calibration.write_text(json.dumps({"adapter": "duckdb", "coefficients": costs}))
    project = partitioned_project(dataset, units=UNITS, rollups=ROLLUPS, calibration=str(calibration))
    for name in ("daily", "slim"):
        assert build(project, name, now="2025-02-20T00:00:00").rows > 0
    yield dataset, project
    project.close()


def expected(dataset: Dataset, query: dict[str, Any]) -> list[dict[str, Any]]:
    rows = dataset.events.to_pylist()
    assert dataset.users is not None
    unit_of = unit_reader(query, UNITS, event_columns(rows))
    now = datetime.fromisoformat(NOW)
    return oracle(query, rows, dataset.users.to_pylist(), unit_of=unit_of, now=now)


def answer(project: segwise.Project, dataset: Dataset, query: dict[str, Any], **options: Any) -> list[str]:
    """Run ``query``, check it against the oracle (non-trivially), return the planner's decisions."""
    compiled = compile_query(project, query, now=NOW, **options)
    want = expected(dataset, query)
    assert_same(segwise.run(query, project, now=NOW, **options), want, query, "UTC")
    nontrivial(want)
    return compiled.decisions


def last(days: int, **rest: Any) -> dict[str, Any]:
    return {**q(rng={"last": f"{days}d"}), **rest}


def test_events_per_account_still_use_the_rollup(rolled: tuple[Dataset, segwise.Project]) -> None:
    dataset, project = rolled
    query = {**last(20, series=[s("page_view", "events")], breakdown=["platform"]), "unit": "account"}
    assert "A: answered from rollup slim" in answer(project, dataset, query)


def test_counting_accounts_refuses_the_rollup_of_user_ids(rolled: tuple[Dataset, segwise.Project]) -> None:
    dataset, project = rolled
    users = last(20, series=[s("page_view", "unique_users")], breakdown=["platform"])
    assert "A: answered from rollup daily" in answer(project, dataset, users)
    decisions = answer(project, dataset, {**users, "unit": "account"})
    assert "A: rollup daily not used: the query counts account units, and a rollup keeps user ids" in decisions


def test_unique_values_never_come_from_a_rollup(rolled: tuple[Dataset, segwise.Project]) -> None:
    dataset, project = rolled
    query = last(20, series=[s("page_view", "unique:url")], breakdown=["platform"], time_grain="week")
    decisions = answer(project, dataset, query)
    assert any(d.startswith("A: rollup daily not used: unique:url counts distinct values") for d in decisions)


REDUCED = {
    "accounts by user property": {
        **last(20, series=[s("any", "unique_users")], breakdown=["country"]),
        "unit": "account",
    },
    "accounts, no breakdown": {**last(20, series=[s("any", "unique_users")], time_grain="total"), "unit": "account"},
    "accounts top-N per-user": {
        **last(20, series=[s("any", "user_avg:events")], breakdown=["country"], breakdown_limit=2),
        "unit": "account",
    },
    "accounts top-N total": {
        **last(20, series=[s("any", "unique_users")], breakdown=["country"], breakdown_limit=2, time_grain="total"),
        "unit": "account",
    },
    "accounts rolling": {**last(20, series=[s("login", "wau")], breakdown=["country"]), "unit": "account"},
}
NOT_REDUCED = {
    "unique values": last(20, series=[s("page_view", "unique:url")], breakdown=["country"]),
    "sessions by user property": {
        **last(20, series=[s("any", "unique_users")], breakdown=["country"]),
        "unit": "session",
    },
}


@pytest.mark.parametrize("name", list(REDUCED))
def test_reduced_per_user_then_counted_per_account(rolled: tuple[Dataset, segwise.Project], name: str) -> None:
    """A unit on the user table: events reduced per (bucket, user) before the join stay exact, as the
    account id is read after the join and its users counted distinct (an account has several)."""
    dataset, project = rolled
    query = REDUCED[name]
    compiled = compile_query(project, query, now=NOW, preaggregate="always", rollups=False)
    assert compiled.plan is not None and all(n.preaggregate for n in compiled.plan.nodes)
    answer(project, dataset, query, preaggregate="always", rollups=False)
    answer(project, dataset, query, preaggregate="never", rollups=False)


@pytest.mark.parametrize("name", list(NOT_REDUCED))
def test_no_per_user_reduction_where_it_would_be_wrong(rolled: tuple[Dataset, segwise.Project], name: str) -> None:
    """Forced on, the pre-aggregation still leaves these alone: rows reduced per (bucket, user) lose
    the distinct values, and an event column's unit id (a session) is not kept by the reduction."""
    dataset, project = rolled
    query = NOT_REDUCED[name]
    compiled = compile_query(project, query, now=NOW, preaggregate="always", rollups=False)
    assert compiled.plan is not None and not any(n.preaggregate for n in compiled.plan.nodes)
    answer(project, dataset, query, preaggregate="always", rollups=False)
    users = {k: v for k, v in query.items() if k != "unit"}
    if "unit" in query:  # while for users the same query is reduced
        reduced = compile_query(project, users, now=NOW, preaggregate="always", rollups=False)
        assert reduced.plan is not None and all(n.preaggregate for n in reduced.plan.nodes)


def test_unique_values_under_top_n_are_not_summed(rolled: tuple[Dataset, segwise.Project]) -> None:
    dataset, project = rolled
    query = last(
        20, series=[s("page_view", "unique:url")], breakdown=["country"], breakdown_limit=2, time_grain="total"
    )
    answer(project, dataset, query)
    other = [r for r in expected(dataset, query) if r["country"] == "Other"]
    parts = last(20, series=[s("page_view", "unique:url")], breakdown=["country"], time_grain="total")
    kept = {r["country"] for r in expected(dataset, query)}
    summed = sum(r["value"] for r in expected(dataset, parts) if r["country"] not in kept)
    assert other and other[0]["value"] < summed, "the Other group overlaps: a sum would be wrong"


# -- bad input ---------------------------------------------------------------------------------------------


def test_unknown_unit(rolled: tuple[Dataset, segwise.Project]) -> None:
    _, project = rolled
    with pytest.raises(SpecError) as info:
        segwise.run({**q(s("any", "unique_users")), "unit": "team"}, project)
    assert info.value.where == "unit"
    assert "unknown unit 'team'; this project's units are: user, account, session" in info.value.message


def test_unit_column_that_does_not_exist(rolled: tuple[Dataset, segwise.Project]) -> None:
    dataset, _ = rolled
    project = segwise.Project(
        warehouse=dataset.url, event_tables=[{"table": "events", "event_name": "event_name"}], units={"team": "team_id"}
    )
    with pytest.raises(CatalogError) as info:
        segwise.run({**q(s("any", "unique_users")), "unit": "team"}, project)
    assert info.value.where == "project > units > team (the query's unit)"
    assert "unknown property 'team_id'" in info.value.message
    project.close()


def test_user_where_is_refused_for_another_unit(rolled: tuple[Dataset, segwise.Project]) -> None:
    _, project = rolled
    query = {**q(s("any", "unique_users"), segment={"user_where": [c("country", "eq", "US")]}), "unit": "account"}
    with pytest.raises(SpecError) as info:
        segwise.run(query, project)
    assert info.value.where == "segment > user_where[0]"
    assert "user_where picks users, but this query counts account units" in info.value.message
    assert segwise.run({**query, "unit": "user"}, project).num_rows > 0


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ({"user": "account_id"}, "not `user`"),
        ({"1team": "account_id"}, "a unit name is letters"),
        ({"team": " "}, "give the property holding the unit's id"),
    ],
)
def test_units_are_validated(units: dict[str, str], message: str) -> None:
    with pytest.raises(SpecError) as info:
        segwise.Project.parse(
            {"warehouse": "duckdb:///:memory:", "event_tables": [{"table": "e", "event_name": "n"}], "units": units}
        )
    assert message in str(info.value)


def test_unique_needs_a_property(rolled: tuple[Dataset, segwise.Project]) -> None:
    _, project = rolled
    with pytest.raises(SpecError) as info:
        segwise.run(q(s("any", "unique")), project)
    assert "write unique:<property>" in str(info.value)


def test_a_unit_on_an_event_column_the_table_lacks(tmp_path) -> None:
    """With several event tables, a unit read from an event column must be in each table read."""
    import duckdb

    path = tmp_path / "two.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE a (user_id TEXT, event_time TIMESTAMP, event_name TEXT, team TEXT)")
    con.execute("CREATE TABLE b (user_id TEXT, event_time TIMESTAMP)")
    con.execute("INSERT INTO a VALUES ('u1', '2025-01-02 10:00', 'open', 't1')")
    con.execute("INSERT INTO b VALUES ('u1', '2025-01-02 11:00')")
    con.close()
    project = segwise.Project(
        warehouse=f"duckdb:///{path}",
        event_tables=[{"table": "a", "event_name": "event_name"}, {"table": "b", "event_name_value": "buy"}],
        units={"team": "team"},
    )
    base = {"date_range": {"from": "2025-01-01", "to": "2025-01-03"}, "time_grain": "total", "unit": "team"}
    assert segwise.run({**base, "series": [s("open", "unique_users")]}, project).column("value").to_pylist() == [1]
    with pytest.raises(SpecError) as info:
        segwise.run({**base, "series": [s("buy", "unique_users")]}, project)
    assert info.value.where == "series[0] (label A) > unit"
    assert "column 'team', which b does not have" in info.value.message
    project.close()
