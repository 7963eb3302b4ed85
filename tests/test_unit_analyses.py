"""Units combined with behavioural segments (``having``), named cohorts and categories in
segmentation, lifecycle, stickiness, funnels and retention, on every live engine against the
references (tests/oracle.py, tests/oracle_lifecycle.py, tests/oracle_stickiness.py,
tests/oracle_funnel.py, tests/oracle_retention.py; the last four through tests/oracle_analyses.py:
the unit id from tests/oracle_units.py, segments and categories from tests/oracle_cohorts.py);
the SQL to paste; bad input. Spark (slow) runs the cases marked so."""

from __future__ import annotations

from typing import Any

import pytest

import segwise
from tests.cohort_cases import ANALYSES, CASES, CATEGORIES, COHORTS, LAST_30, NOW, did, having, weekly
from tests.conftest import assert_same
from tests.oracle import oracle
from tests.oracle_analyses import local_rows
from tests.oracle_funnel import funnel_oracle
from tests.oracle_lifecycle import lifecycle_oracle
from tests.oracle_stickiness import stickiness_oracle
from tests.oracle_units import event_columns, unit_reader
from tests.segmentation_cases import nontrivial, s
from tests.test_funnel import assert_funnel, f
from tests.test_retention import check as check_retention
from tests.test_retention import q as r
from tests.test_units import UNITS

ACTIVE = {"did": did("any", having("active_days", "gte", 5), LAST_30)}

FUNNELS: dict[str, dict[str, Any]] = {
    "per account": f("login", "page_view", "purchase", spec={"window": "7d"}, unit="account"),
    "per account by engagement": f(
        "login", "purchase", spec={"window": "7d"}, time_grain="week", unit="account", breakdown=["engagement"]
    ),
    "by spend, users": f("page_view", "purchase", spec={"window": "3d"}, breakdown=["spend"]),
    "per session by engagement and segment": f(
        "page_view",
        "feature_used",
        spec={"window": "1d"},
        unit="session",
        segment=ACTIVE,
        breakdown=["engagement", "segment"],
    ),
    "named cohort and having, per account": f(
        "login", "page_view", spec={"window": "2d"}, unit="account", segment={"cohort": "repeat_buyers", **ACTIVE}
    ),
}
RETENTIONS: dict[str, dict[str, Any]] = {
    "per account": r(spec={"return": {"event": "any"}, "periods": 4}, unit="account"),
    "per account by engagement": r(spec={"return": "login", "periods": 3}, unit="account", breakdown=["engagement"]),
    "by spend, recurring, users": r("login", spec={"start_mode": "recurring", "periods": 3}, breakdown=["spend"]),
    "per session by engagement": r(
        "page_view", grain="day", spec={"return": "page_view", "periods": 2}, unit="session", breakdown=["engagement"]
    ),
    "named cohort and having per account, split": r(
        spec={"return": "any", "periods": 3, "cumulative": True},
        unit="account",
        segment={"cohort": "buyers", "did": did("purchase", having("events", "gte", 2))},
        breakdown=["segment", "spend"],
    ),
    # A user property, per account (its users differ in country); the account is in one group
    # per cohort, the value of the user whose start event made it a member (ANALYSES.md, "Retention").
    "recurring per account by country": r(
        "login", spec={"start_mode": "recurring", "periods": 3, "return": "any"}, unit="account", breakdown=["country"]
    ),
    "first-time per account by country": r(spec={"return": "any", "periods": 4}, unit="account", breakdown=["country"]),
}
SEGMENTS: dict[str, dict[str, Any]] = {
    "having segment, per account": weekly(
        s("login", "unique_users"), segment={"did": did("purchase", having("events", "gte", 2))}, unit="account"
    ),
    "named cohort, per session": weekly(s("page_view", "events"), segment={"cohort": "buyers"}, unit="session"),
    "named cohort of cohorts and having, per account": weekly(
        s("any", "unique_users"), segment={"cohort": "engaged_buyers", **ACTIVE}, unit="account"
    ),
    "category breakdown, per account": weekly(s("any", "unique_users"), breakdown=["engagement"], unit="account"),
    "the four tiers, weekly active accounts": {**CASES["the four tiers, weekly active users"][0], "unit": "account"},
    "category and segment split, per session": weekly(
        s("page_view", "unique_users"), segment=ACTIVE, breakdown=["segment", "engagement"], unit="session"
    ),
    **{f"{name}, per account": {**query, "unit": "account"} for name, query in ANALYSES.items()},
}
SPARK = {"per account by engagement", "category breakdown, per account"}


def project_of(dataset: Any) -> segwise.Project:
    """The dataset's project with units, the cohort suite's named cohorts and its categories."""
    return dataset.project(units=UNITS, cohorts=COHORTS, categories=CATEGORIES)


def reference(dataset: Any, query: dict[str, Any]) -> dict[str, Any]:
    """The oracles' unit reader, named cohorts and categories for ``query``."""
    unit_of = unit_reader(query, UNITS, event_columns(dataset._rows))
    return {"unit_of": unit_of, "cohorts": COHORTS, "categories": CATEGORIES}


def _lean(backend: str, name: str) -> None:
    if backend == "spark" and name not in SPARK:
        pytest.skip("Spark runs the marked subset (one JVM, slow)")


def _groups(rows: list[dict[str, Any]], breakdown: list[str]) -> set[tuple[Any, ...]]:
    return {tuple(row[b] for b in breakdown) for row in rows}


@pytest.mark.parametrize("name", list(SEGMENTS))
def test_segments_and_categories_per_unit(generated: Any, name: str) -> None:
    _lean(generated.backend, name)
    query = SEGMENTS[name]
    project = project_of(generated)
    table = segwise.run(query, project, now=NOW)
    rows, users, more = generated._rows, generated._user_rows, reference(generated, query)
    if "lifecycle" in query or "stickiness" in query:
        analysis = lifecycle_oracle if "lifecycle" in query else stickiness_oracle
        want = analysis(query, rows, users, event_name_col=generated.event_name, now=NOW, **more)
        assert any(r["value"] for r in want)
        assert local_rows(table, "UTC") == want
    else:
        want = oracle(query, rows, users, event_name_col=generated.event_name, now=NOW, **more)
        nontrivial(want)
        assert_same(table, want, query, "UTC")
    if query.get("breakdown"):
        assert len(_groups([r for r in want if r["value"]], query["breakdown"])) > 1, "one group only"


@pytest.mark.parametrize("name", list(FUNNELS))
def test_funnels_per_unit_and_category(generated: Any, name: str) -> None:
    _lean(generated.backend, name)
    query = FUNNELS[name]
    table = segwise.run(query, project_of(generated), now=NOW)
    want = funnel_oracle(query, generated._rows, generated._user_rows, now=NOW, **reference(generated, query))
    assert_funnel(table, want, query)
    assert any(row["step"] > 1 and row["count"] for row in want), "a case that checks little"
    if query.get("breakdown"):
        assert len(_groups(want, query["breakdown"])) > 1, "one group only"


@pytest.mark.parametrize("name", list(RETENTIONS))
def test_retention_per_unit_and_category(generated: Any, name: str) -> None:
    _lean(generated.backend, name)
    query = RETENTIONS[name]
    want = check_retention(generated, query, NOW, {}, project_of(generated), **reference(generated, query))
    assert any(row["period"] > 0 and row["count"] for row in want), "a case that checks little"
    if query.get("breakdown"):
        assert len(_groups(want, query["breakdown"])) > 1, "one group only"


def test_units_change_the_answers(generated: Any) -> None:
    """Not vacuous: per account, funnels and retention count otherwise than per user."""
    _lean(generated.backend, "")
    for query in (FUNNELS["per account"], RETENTIONS["per account"]):
        users = {k: v for k, v in query.items() if k != "unit"}
        project = project_of(generated)
        assert segwise.run(users, project, now=NOW).to_pylist() != segwise.run(query, project, now=NOW).to_pylist()


BAD = [
    (f("login", "purchase", breakdown=["engagment"]), "categories: engagement, spend", "breakdown[0]"),
    (r(breakdown=["spending"]), "categories: engagement, spend", "breakdown[0]"),
    (
        f(
            "login",
            "purchase",
            unit="account",
            categories={
                "tier": {
                    "of": [
                        {
                            "label": "paid",
                            "segment": {"user_where": [{"property": "subscription_type", "op": "eq", "value": "pro"}]},
                        }
                    ]
                }
            },
            breakdown=["tier"],
        ),
        "user_where picks users",
        "categories > tier > of[0] > segment > user_where[0]",
    ),
    (
        r(unit="account", segment={"cohort": "quiet"}),
        "user_where picks users",
        "cohorts > quiet > user_where[0]",
    ),
]


@pytest.mark.parametrize(("query", "message", "where"), BAD)
def test_bad_input_is_refused(generated: Any, query: dict[str, Any], message: str, where: str) -> None:
    _lean(generated.backend, "")
    if generated.backend != "duckdb":
        pytest.skip("refused before any SQL: one engine is enough")
    with pytest.raises((segwise.SpecError, segwise.CatalogError)) as caught:
        segwise.run(query, project_of(generated), now=NOW)
    assert message in str(caught.value) and where in str(caught.value), str(caught.value)


PASTED = [
    ("funnel", "per account by engagement"),
    ("funnel", "per session by engagement and segment"),
    ("retention", "per account by engagement"),
    ("retention", "named cohort and having per account, split"),
]


@pytest.mark.parametrize(("kind", "name"), PASTED)
def test_the_sql_to_paste_answers_as_run(generated: Any, kind: str, name: str) -> None:
    """The SQL to paste orders category values in declaration order too, per unit."""
    from tests.test_paste import check_paste

    _lean(generated.backend, "" if kind == "retention" else name)
    check_paste(project_of(generated), (FUNNELS if kind == "funnel" else RETENTIONS)[name])
