"""The plan is the single source of truth for the user join, the unit and a behavioural
condition's measured property: ``Join`` (and retention's ``MemberJoin``) carry the user tables
(reference, user-id key, the columns read, the join's kind; ``plan_users``), the plan the unit it
counts (``LogicalPlan.counted``) and whether a reduced row holds one user per group
(``users_unique``, ``TopN.users_are_units``), ``Cohorts.windows`` how a first-time cohort is
found, a ``Threshold`` its property resolved. Explain prints them; lowering reads them: a plan
changed by hand changes the SQL (and the answer), whatever the query and the catalog say.

Planning is the same on every engine (the flavor only renders), so these run on DuckDB. The data
is built here in Python and every expected answer is computed from it by plain Python from the
contract (docs/queries.md), never from the planner or the SQL under test.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlglot import exp

import segwise
from segwise.adapters.base import TableRef
from segwise.catalog import EVENT_PROPERTY, ResolvedProperty
from segwise.pipeline import _inputs, _optimized
from segwise.plan import PreAggregate, TopN
from segwise.plan_events import CohortCondition
from segwise.plan_retention import Cohorts, MemberJoin
from segwise.plan_users import Join, UserTable, event_join
from segwise.units import Unit
from tests.test_plan_analyses import _op, _sql

RANGE = {"from": "2025-01-06", "to": "2025-01-27"}  # UTC days; every event below is inside
USERS = [f"u{k}" for k in range(6)]
COUNTRY = {u: ["de", "fr"][k % 2] for k, u in enumerate(USERS)}
PLAN = {u: ["free", "pro", "team"][k % 3] for k, u in enumerate(USERS)}
ACCOUNT = {u: f"a{k % 2}" for k, u in enumerate(USERS)}
FEW = ("u0", "u1")  # the users of table few (a copy of their events)
PERSON_COUNTRY = {u: ["it", "es", "pt"][k % 3] for k, u in enumerate(USERS)}  # another table, keyed otherwise
# (user, time, event, platform, amount, price): 60 events every 5 hours from Monday Jan 6, UTC
EVENTS = [
    (
        USERS[i % 5],  # u5 has no events
        datetime(2025, 1, 6) + timedelta(hours=5 * i),
        ["login", "purchase"][i % 2],
        ["ios", "web"][i % 4 // 2],
        float(i % 5),
        float((i % 7) * 2),
    )
    for i in range(60)
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = tmp_path_factory.mktemp("plan_users") / "events.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE events (user_id VARCHAR, event_time TIMESTAMP, event_name VARCHAR, platform VARCHAR, "
        "amount DOUBLE, price DOUBLE)"
    )
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", EVENTS)
    con.execute("CREATE TABLE users (user_id VARCHAR, country VARCHAR, plan VARCHAR, account VARCHAR)")
    con.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", [(u, COUNTRY[u], PLAN[u], ACCOUNT[u]) for u in USERS])
    con.execute(f"CREATE TABLE few AS SELECT * FROM events WHERE user_id IN {FEW}")  # not in the project
    con.execute("CREATE TABLE people (person_id VARCHAR, country VARCHAR)")
    con.executemany("INSERT INTO people VALUES (?, ?)", list(PERSON_COUNTRY.items()))
    con.close()
    return path


@pytest.fixture(scope="module")
def project(db: Path):  # type: ignore[no-untyped-def]
    loaded = segwise.Project(
        warehouse=f"duckdb:///{db}",
        event_tables=[{"table": "events", "event_name": "event_name"}],
        user_tables=[{"table": "users"}],
        units={"account": "account", "device": "platform"},
    )
    yield loaded
    loaded.close()


def _rows(project: segwise.Project, sql: str) -> dict[tuple[Any, ...], Any]:
    """The statement's long-form rows as {(breakdown values...): value} (one series, total)."""
    table = project.adapter().execute(sql)
    groups = sorted(n for n in table.column_names if n.startswith("_g"))
    return {tuple(row[g] for g in groups): row["value"] for row in table.to_pylist()}


def _planned(project: segwise.Project, query: dict[str, Any], pre: str = "auto") -> tuple[Any, Any, Any]:
    """The bound query, its optimized plan (``pre``: rule preaggregate's choice) and the flavor."""
    inputs = _inputs(query, project, None, None, True, "auto", (), pre)
    bound, plan = _optimized(inputs, project)
    return bound, plan, inputs.flavor


def _total(**extra: Any) -> dict[str, Any]:
    return {"date_range": RANGE, "time_grain": "total", **extra}


def _logins_by(mapping: dict[str, str]) -> dict[tuple[Any, ...], int]:
    """The oracle: login events per value of ``mapping`` (of the event's user)."""
    return dict(Counter((mapping[u],) for u, _t, name, *_ in EVENTS if name == "login"))


def test_the_join_carries_the_user_table_and_the_answer_follows_it(project) -> None:  # type: ignore[no-untyped-def]
    """Logins by country: the plan's Join names the users table, its key and the column read;
    explain prints it. Swapped by hand for another table keyed by another column (``people``,
    ``person_id``), the statement joins that one, and the answer is people's countries."""
    query = _total(series=[{"event": "login"}], breakdown=["country"])
    bound, plan, flavor = _planned(project, query)
    join = event_join(plan.nodes[0].operators)
    assert join is not None and join.how == "left"
    [users] = join.tables
    assert (users.index, users.name, users.key.name, [c for c, _ in users.columns]) == (
        0,
        "users",
        "user_id",
        ["country"],
    )
    text = "\n".join(plan.describe())
    assert "Join           LEFT JOIN users (country) ON users.user_id = the event's user id" in text
    assert plan.to_json()["nodes"][0]["operators"]  # the JSON has the operator
    before = _sql(bound, plan, flavor)
    assert _rows(project, before) == _logins_by(COUNTRY)
    assert {v for (v,) in _logins_by(COUNTRY)} == {"de", "fr"}  # non-trivial: both countries log in
    people = dataclasses.replace(
        users,
        name="people",
        table=exp.table_(exp.to_identifier("people", quoted=True)),
        key=exp.to_identifier("person_id", quoted=True),
    )
    plan.nodes[0].operators[plan.nodes[0].operators.index(join)] = dataclasses.replace(join, tables=(people,))
    after = _sql(bound, plan, flavor)
    assert '"people"' in after and '"person_id"' in after and '"users"' not in after
    assert _rows(project, after) == _logins_by(PERSON_COUNTRY)
    assert _logins_by(PERSON_COUNTRY) != _logins_by(COUNTRY)


def test_lowering_reads_the_user_tables_column_from_the_plan(project) -> None:  # type: ignore[no-untyped-def]
    """The plan's join reads column ``country``; changed by hand to name ``plan`` for it, the
    statement reads ``u0.plan`` and the logins are counted by plan."""
    query = _total(series=[{"event": "login"}], breakdown=["country"])
    bound, plan, flavor = _planned(project, query)
    ops = plan.nodes[0].operators
    join = event_join(ops)
    assert join is not None
    [users] = join.tables
    renamed = dataclasses.replace(users, columns=(("country", exp.to_identifier("plan", quoted=True)),))
    ops[ops.index(join)] = dataclasses.replace(join, tables=(renamed,))
    after = _sql(bound, plan, flavor)
    assert '"u0"."plan"' in after and '"country"' not in after
    assert _rows(project, after) == _logins_by(PLAN)


def test_a_condition_is_placed_where_the_plans_scan_says(project) -> None:  # type: ignore[no-untyped-def]
    """Logins on ios by users in de: the plan's scan pushes ``platform`` into the scan
    (``Scan.filters``) and keeps ``country`` for after the user join (``outer_filters``).
    Moved by hand after the join, ``platform`` leaves the scan's WHERE for the outer one (the
    reduced rows keep the column for it) and the answer is unchanged; dropped from the scan,
    the condition is not placed from the catalog: lowering refuses."""
    ios_de = [{"property": "platform", "op": "eq", "value": "ios"}, {"property": "country", "op": "eq", "value": "de"}]
    query = _total(series=[{"event": "login", "where": ios_de}])
    bound, plan, flavor = _planned(project, query)
    scan = plan.nodes[0].scan
    [platform] = [p for p in scan.filters if p.condition is not None]
    assert [p.condition.property for p in scan.outer_filters if p.condition is not None] == ["country"]
    expected = {(): sum(1 for u, _t, n, p, *_ in EVENTS if n == "login" and p == "ios" and COUNTRY[u] == "de")}
    assert 0 < expected[()] < sum(1 for e in EVENTS if e[2] == "login")  # the filters remove some logins
    before = _sql(bound, plan, flavor)
    outer = before[before.rindex("WHERE") :]
    assert "\"platform\" = 'ios'" in before and "platform" not in outer and '"country"' in outer
    assert _rows(project, before) == expected
    scan.filters.remove(platform)
    scan.outer_filters.insert(0, platform)
    after = _sql(bound, plan, flavor)
    assert '"e"."platform" = \'ios\'' in after[after.rindex("WHERE") :]
    assert _rows(project, after) == expected
    scan.outer_filters.remove(platform)
    with pytest.raises(AssertionError, match="the plan's scan places condition 'platform'"):
        _sql(bound, plan, flavor)


def test_a_behavioural_condition_reads_the_plans_table(project) -> None:  # type: ignore[no-untyped-def]
    """Users who log in, in the segment ``did purchase``: the reduction's CohortScan carries the
    events table it reads. Swapped by hand for table ``few`` (the events of u0 and u1 only, not
    in the project), the reduction reads it and only u0 and u1 are in the segment."""
    query = _total(series=[{"event": "login", "measure": "unique_users"}], segment={"did": {"event": "purchase"}})
    bound, plan, flavor = _planned(project, query)
    assert plan.cohort is not None
    [scan] = plan.cohort.scans
    assert (scan.table, [c.flag for c in scan.conditions]) == ("events", [0])
    logins = {u for u, _t, name, *_ in EVENTS if name == "login"}
    buyers = {u for u, _t, name, *_ in EVENTS if name == "purchase"}
    assert _rows(project, _sql(bound, plan, flavor)) == {(): len(logins & buyers)}
    few = dataclasses.replace(scan, info=dataclasses.replace(scan.info, ref=TableRef(("few",))))
    plan.cohort = dataclasses.replace(plan.cohort, scans=(few,))
    after = _sql(bound, plan, flavor)
    assert '"few"' in after[after.index("_cohort AS (") :]
    assert _rows(project, after) == {(): len(logins & buyers & set(FEW))}
    assert len(logins & buyers & set(FEW)) < len(logins & buyers)  # the swap changes the answer


def test_a_segments_user_condition_is_the_plans_predicate(project) -> None:  # type: ignore[no-untyped-def]
    """Logins by users in the segment ``user_where country = de``: the plan's GroupBy carries the
    condition as a predicate over the bare column with its property resolved. Its value changed by
    hand to ``fr``, the statement compares with 'fr' and counts the logins of users in fr; a plan
    without it is refused, not rebuilt from the query's condition and the catalog."""
    query = _total(
        series=[{"event": "login"}], segment={"user_where": [{"property": "country", "op": "eq", "value": "de"}]}
    )
    bound, plan, flavor = _planned(project, query)
    [predicate] = plan.group_by.user_where
    assert predicate.prop is not None
    assert (predicate.prop.column, predicate.prop.user_table, predicate.text) == ("country", 0, "country eq")
    assert _rows(project, _sql(bound, plan, flavor)) == {(): _logins_by(COUNTRY)[("de",)]}
    fr = predicate.expression.transform(lambda n: exp.Literal.string("fr") if n == exp.Literal.string("de") else n)
    edited = dataclasses.replace(predicate, expression=fr)
    plan.group_by = dataclasses.replace(plan.group_by, user_where=(edited,))
    after = _sql(bound, plan, flavor)
    assert "'fr'" in after and "'de'" not in after
    assert _rows(project, after) == {(): _logins_by(COUNTRY)[("fr",)]}
    assert _logins_by(COUNTRY)[("fr",)] != _logins_by(COUNTRY)[("de",)]
    plan.group_by = dataclasses.replace(plan.group_by, user_where=())
    with pytest.raises(AssertionError, match="the plan's GroupBy carries user condition 'country'"):
        _sql(bound, plan, flavor)


def test_a_condition_reads_the_column_of_the_plans_property(project) -> None:  # type: ignore[no-untyped-def]
    """Logins with amount > 2: the scan's predicate carries the condition's property resolved.
    Changed by hand to the column ``price``, the statement compares price and counts the logins
    with price > 2: lowering names the column from the plan, not from the condition's name."""
    query = _total(series=[{"event": "login", "where": [{"property": "amount", "op": "gt", "value": 2}]}])
    bound, plan, flavor = _planned(project, query)
    scan = plan.nodes[0].scan
    [amount] = [p for p in scan.filters if p.condition is not None]
    assert amount.prop is not None and amount.prop.column == "amount"
    by_amount = sum(1 for _u, _t, n, _p, a, _c in EVENTS if n == "login" and a > 2)
    by_price = sum(1 for _u, _t, n, _p, _a, c in EVENTS if n == "login" and c > 2)
    assert by_amount != by_price
    assert _rows(project, _sql(bound, plan, flavor)) == {(): by_amount}
    price = dataclasses.replace(amount.prop, name="price", column="price")
    scan.filters[scan.filters.index(amount)] = dataclasses.replace(amount, prop=price)
    after = _sql(bound, plan, flavor)
    assert '"price" > 2' in after and '"amount"' not in after
    assert _rows(project, after) == {(): by_price}


def test_reduced_rows_are_measured_from_the_plans_columns(project) -> None:  # type: ignore[no-untyped-def]
    """The sum of amount over logins by country, reduced per user before the join (rule
    preaggregate): the plan's PreAggregate carries the columns the measure reads (``read``).
    Its ``sum`` input pointed by hand at the reduced rows' maximum, the statement adds up each
    user's largest login amount per country instead."""
    query = _total(series=[{"event": "login", "measure": "sum:amount"}], breakdown=["country"])
    bound, plan, flavor = _planned(project, query, pre="always")
    ops = plan.nodes[0].operators
    reduction = next(op for op in ops if isinstance(op, PreAggregate) and op.reduces_events)
    assert reduction.read is not None and reduction.read.prop == "amount"
    logins = [(u, a) for u, _t, n, _p, a, _c in EVENTS if n == "login"]
    sums: dict[tuple[Any, ...], float] = defaultdict(float)
    largest: dict[str, float] = {}
    for user, amount in logins:
        sums[(COUNTRY[user],)] += amount
        largest[user] = max(largest.get(user, amount), amount)
    maxima: dict[tuple[Any, ...], float] = defaultdict(float)
    for user, amount in largest.items():
        maxima[(COUNTRY[user],)] += amount
    assert dict(maxima) != dict(sums)
    assert _rows(project, _sql(bound, plan, flavor)) == pytest.approx(dict(sums))
    columns = tuple(
        dataclasses.replace(c, column=reduction.read.column("max") or "") if c.input == "sum" else c
        for c in reduction.read.columns
    )
    ops[ops.index(reduction)] = dataclasses.replace(
        reduction, read=dataclasses.replace(reduction.read, columns=columns)
    )
    assert _rows(project, _sql(bound, plan, flavor)) == pytest.approx(dict(maxima))


def test_explain_prints_the_reduced_columns_and_the_user_conditions(project) -> None:  # type: ignore[no-untyped-def]
    """What lowering reads of the plan, explain prints: the columns a measure reads of rows reduced
    before the join (``PreAggregate.read``, under its operator) and the segment's user conditions
    (``GroupBy.user_where``: the column of the user table and the expression), as text and JSON."""
    from segwise.explain import Explanation
    from segwise.pipeline import compile_query

    query = _total(
        series=[{"event": "login", "measure": "sum:amount"}],
        breakdown=["platform"],
        segment={"user_where": [{"property": "country", "op": "eq", "value": "de"}]},
    )
    explanation = Explanation.of(project, compile_query(project, query, preaggregate="always"))
    text = explanation.to_text()
    reduced = next(i for i, line in enumerate(text) if line.startswith("  PreAggregate   per (bucket"))
    assert text[reduced + 1] == (
        "    measure      events -> events (sum); sum -> sum_amount (sum); count -> count_amount (sum); "
        "min -> min_amount (min); max -> max_amount (max)"
    )
    where = text.index("UserWhere      country eq: user table 0 column 'country'")
    assert text[where + 1] == "               \"country\" = 'de'"
    data = explanation.to_json()
    [operator] = [op for op in data["plan_tree"]["nodes"][0]["operators"] if op["kind"] == "PreAggregate"]
    read = operator["parts"]["measure"]
    assert read["prop"] == "amount"
    assert [(c["input"], c["column"], c["combine"]) for c in read["columns"]] == [
        ("events", "events", "sum"),
        ("sum", "sum_amount", "sum"),
        ("count", "count_amount", "sum"),
        ("min", "min_amount", "min"),
        ("max", "max_amount", "max"),
    ]
    assert data["plan_tree"]["user_where"] == [{"text": "country eq", "sql": "\"country\" = 'de'"}]


def test_a_plan_without_the_join_is_not_lowered_from_the_catalog(project) -> None:  # type: ignore[no-untyped-def]
    """Lowering never looks a user table up in the catalog: a plan whose Join was dropped by hand
    cannot be lowered (the planner always plans the join the rows read)."""
    bound, plan, flavor = _planned(project, _total(series=[{"event": "login"}], breakdown=["country"]))
    plan.nodes[0].operators = [op for op in plan.nodes[0].operators if not isinstance(op, Join)]
    with pytest.raises(AssertionError, match="the plan joins the user tables"):
        _sql(bound, plan, flavor)


def test_the_unit_counted_is_the_plans(project) -> None:  # type: ignore[no-untyped-def]
    """Unique users of login: users u0 .. u4 log in (5). The plan's unit changed by hand to the
    device (the event column ``platform``): the statement counts devices (ios, web: 2)."""
    bound, plan, flavor = _planned(project, _total(series=[{"event": "login", "measure": "unique_users"}]))
    assert plan.counted.is_user and plan.users_unique
    users = {u for u, _t, name, *_ in EVENTS if name == "login"}
    devices = {p for _u, _t, name, p, *_ in EVENTS if name == "login"}
    assert (len(users), len(devices)) == (5, 2)
    assert _rows(project, _sql(bound, plan, flavor)) == {(): len(users)}
    plan.counted = Unit("device", ResolvedProperty("platform", EVENT_PROPERTY, "platform", "string"))
    after = _sql(bound, plan, flavor)
    assert 'COUNT(DISTINCT "e"."platform")' in after
    assert _rows(project, after) == {(): len(devices)}
    # the planner's own unit for `unit: device`, explained
    device = segwise.plan(_total(series=[{"event": "login", "measure": "unique_users"}], unit="device"), project)
    assert device.counted.name == "device" and not device.counted.is_user and not device.users_unique


def test_top_n_reads_whether_a_reduced_row_holds_one_unit(project) -> None:  # type: ignore[no-untyped-def]
    """Top-N over rows reduced per (groups, user), total: with users counted a user is on one
    reduced row per group, so the rank counts rows; the plan's TopN says so, and changed by hand
    (as for a unit of several users) the rank counts distinct units."""
    query = _total(series=[{"event": "login", "measure": "unique_users"}], breakdown=["platform"], breakdown_limit=1)
    inputs_bound, plan, flavor = _planned(project, query, pre="always")
    top = next(op for op in plan.nodes[0].operators if isinstance(op, TopN))
    assert top.users_are_units
    before = _sql(inputs_bound, plan, flavor)
    ops = plan.nodes[0].operators
    ops[ops.index(top)] = dataclasses.replace(top, users_are_units=False)
    after = _sql(inputs_bound, plan, flavor)
    rank = [sql[sql.index("_rank AS (") : sql.index("_rank AS (") + 200] for sql in (before, after)]
    assert "COUNT(DISTINCT" not in rank[0] and "COUNT(DISTINCT" in rank[1]
    accounts = segwise.plan({**query, "unit": "account"}, project, preaggregate="always")
    assert not next(op for op in accounts.nodes[0].operators if isinstance(op, TopN)).users_are_units


def test_lowering_reads_whether_users_are_unique_after_the_reduction(project) -> None:  # type: ignore[no-untyped-def]
    """Logins' unique users by country, reduced per (country, user) before the join: each user is
    on one reduced row per country, so the plan says users are unique and the count needs no
    DISTINCT; the plan changed by hand, the statement counts distinct users."""
    query = _total(series=[{"event": "login", "measure": "unique_users"}], breakdown=["country"])
    bound, plan, flavor = _planned(project, query, pre="always")
    assert plan.users_unique
    before = _sql(bound, plan, flavor)
    plan.users_unique = False
    after = _sql(bound, plan, flavor)
    assert "COUNT(DISTINCT" not in before and "COUNT(DISTINCT" in after


def test_a_first_time_cohort_is_found_as_the_plan_says(project) -> None:  # type: ignore[no-untyped-def]
    """First-time retention on DuckDB (no per-unit windows preferred): each user's first start is
    aggregated per user and joined back (``rf``); the plan's ``Cohorts.windows`` changed by hand,
    the statement finds it by windows over the user's rows instead. For a unit of several users
    with groups of its own (the segment) the planner chooses the windows itself."""
    retention = {"start": "login", "return": "purchase", "periods": 2, "start_mode": "first_time"}
    query = {"retention": retention, "date_range": RANGE, "time_grain": "week"}
    bound, plan, flavor = _planned(project, query)
    cohorts = _op(plan, Cohorts)
    assert not cohorts.windows and "(an aggregate per user, joined back)" in cohorts.detail
    before = _sql(bound, plan, flavor)
    plan.analysis.operators[plan.analysis.operators.index(cohorts)] = dataclasses.replace(cohorts, windows=True)
    after = _sql(bound, plan, flavor)
    assert "rf AS (" in before and "rf AS (" not in after and "OVER (PARTITION BY" in after
    segment = {"did": {"event": "purchase"}}
    accounts = segwise.plan({**query, "unit": "account", "segment": segment, "breakdown": ["segment"]}, project)
    assert _op(accounts, Cohorts).windows
    assert not _op(segwise.plan({**query, "unit": "account"}, project), Cohorts).windows


def test_retention_joins_the_plans_user_table_to_the_cohort_members(project) -> None:  # type: ignore[no-untyped-def]
    """Retention by country (users counted): the plan's MemberJoin joins the users table to the
    cohort members after the reduction, for the breakdown ``country``; its column changed by hand,
    the statement reads the plan's."""
    retention = {"start": "login", "return": "purchase", "periods": 2}
    query = {"retention": retention, "date_range": RANGE, "time_grain": "week", "breakdown": ["country"]}
    bound, plan, flavor = _planned(project, query)
    member = _op(plan, MemberJoin)
    assert member.names == ("country",) and [t.name for t in member.tables] == ["users"]
    assert event_join(plan.analysis.operators) is None  # not joined to every event
    assert "Join           LEFT JOIN users (country) ON users.user_id = the cohort member's user id" in "\n".join(
        plan.describe()
    )
    before = _sql(bound, plan, flavor)
    [users] = member.tables
    renamed = dataclasses.replace(users, columns=(("country", exp.to_identifier("plan", quoted=True)),))
    plan.analysis.operators[plan.analysis.operators.index(member)] = dataclasses.replace(member, tables=(renamed,))
    after = _sql(bound, plan, flavor)
    assert '"_lu0"."country"' in before and '"_lu0"."plan"' in after and '"_lu0"."country"' not in after


def _segment_users(having_column: int) -> set[str]:
    """The oracle: users with purchases whose summed ``amount`` (4) or ``price`` (5) is >= 18."""
    sums: dict[str, float] = defaultdict(float)
    for event in EVENTS:
        if event[2] == "purchase":
            sums[event[0]] += float(event[having_column])  # type: ignore[arg-type]
    return {u for u, total in sums.items() if total >= 18}


def test_a_threshold_measures_the_plans_property(project) -> None:  # type: ignore[no-untyped-def]
    """Logins' unique users in the segment ``did purchase having sum:amount gte 18``: the plan's
    threshold carries ``amount`` resolved; changed by hand to ``price``, the reduction sums price
    and the users counted are those whose purchases' prices reach 18."""
    segment = {"did": {"event": "purchase", "having": {"measure": "sum:amount", "op": "gte", "value": 18}}}
    query = _total(series=[{"event": "login", "measure": "unique_users"}], segment=segment)
    bound, plan, flavor = _planned(project, query)
    assert plan.cohort is not None
    [condition] = plan.cohort.conditions
    assert condition.threshold is not None and condition.threshold.column is not None
    assert (condition.threshold.column.column, condition.threshold.column.source) == ("amount", EVENT_PROPERTY)
    logins = {e[0] for e in EVENTS if e[2] == "login"}
    by_amount, by_price = logins & _segment_users(4), logins & _segment_users(5)
    assert by_amount and by_amount != by_price  # non-trivial: the two segments differ
    before = _sql(bound, plan, flavor)
    assert _rows(project, before) == {(): len(by_amount)}
    price = ResolvedProperty("price", EVENT_PROPERTY, "price", "float")
    moved = dataclasses.replace(condition, threshold=dataclasses.replace(condition.threshold, column=price))
    plan.cohort = dataclasses.replace(plan.cohort, scans=_with_condition(plan.cohort.scans, moved))
    after = _sql(bound, plan, flavor)
    assert '"price"' in after and '"amount"' not in after
    assert _rows(project, after) == {(): len(by_price)}


def _with_condition(scans: tuple[Any, ...], condition: CohortCondition) -> tuple[Any, ...]:
    """The reduction's scans with the condition of the same flag replaced."""
    return tuple(
        dataclasses.replace(
            scan, conditions=tuple(condition if c.flag == condition.flag else c for c in scan.conditions)
        )
        for scan in scans
    )


def test_the_reduction_joins_the_plans_user_table_for_a_unit_on_it(project) -> None:  # type: ignore[no-untyped-def]
    """Accounts (a users-table column) in the segment ``did purchase``: the per-unit reduction
    reads the account through the users table; the plan's reduction carries that join, explain
    prints it, and its table swapped by hand is the one the reduction's scan joins."""
    query = _total(series=[{"event": "login", "measure": "unique_users"}], segment={"did": {"event": "purchase"}})
    bound, plan, flavor = _planned(project, {**query, "unit": "account"})
    assert plan.cohort is not None and plan.cohort.users is not None
    [users] = plan.cohort.users.tables
    assert (users.name, [c for c, _ in users.columns]) == ("users", ["account"])
    assert "  Join         LEFT JOIN users (account) ON users.user_id" in "\n".join(plan.describe())
    assert segwise.plan(query, project).cohort.users is None  # users counted: nothing to join
    accounts: UserTable = dataclasses.replace(
        users, name="accounts", table=exp.table_(exp.to_identifier("accounts", quoted=True))
    )
    plan.cohort = dataclasses.replace(plan.cohort, users=dataclasses.replace(plan.cohort.users, tables=(accounts,)))
    after = _sql(bound, plan, flavor)
    cohort = after[after.index("_cohort AS (") :]
    assert 'JOIN "accounts" AS "u0"' in cohort
