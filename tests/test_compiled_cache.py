"""The compiled-query cache (``segwise.pipeline.COMPILED``): a repeated question skips bind, plan,
lower and render, and never answers with a statement compiled for other inputs."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

import segwise
from segwise import guard, pipeline, registry
from segwise.adapters.duckdb import DuckDBFlavor
from segwise.demo.generate import write_duckdb
from segwise.hookspecs import hookimpl
from segwise.pipeline import COMPILED, compile_query

NOW = "2025-01-31"
QUERY = {"series": [{"event": "login", "measure": "unique_users"}], "date_range": {"last": "7d"}}


def spec(db: Any) -> dict[str, Any]:
    return {
        "warehouse": f"duckdb:///{db}",
        "event_tables": [{"table": "events", "event_name": "event_name"}],
        "user_tables": [{"table": "users"}],
    }


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("cache") / "demo.duckdb"
    write_duckdb(path, users=100, days=30)
    return path


@pytest.fixture
def project(db: Any) -> Iterator[segwise.Project]:
    COMPILED.clear()
    with segwise.Project(**spec(db)) as proj:
        yield proj
    COMPILED.clear()


def test_the_same_question_is_compiled_once(project: segwise.Project) -> None:
    first = compile_query(project, QUERY, now=NOW)
    again = compile_query(project, dict(QUERY), now=NOW)
    assert again is first and COMPILED.hits == 1
    # The canonical form: defaults and spellings that parse to the same query share the entry.
    spelled = {**QUERY, "time_grain": "DAY", "breakdown": [], "series": [{**QUERY["series"][0], "label": "A"}]}
    assert compile_query(project, spelled, now=NOW) is first
    assert segwise.run(QUERY, project, now=NOW).equals(segwise.run(QUERY, project, now=NOW))


def test_every_input_of_the_statement_is_in_the_key(project: segwise.Project) -> None:
    first = compile_query(project, QUERY, now=NOW)
    others = [
        compile_query(project, QUERY, now="2025-01-30"),  # another "now": another range
        compile_query(project, {**QUERY, "time_grain": "week"}, now=NOW),
        compile_query(project, {**QUERY, "series": [{"event": "login", "measure": "events"}]}, now=NOW),
        compile_query(project, QUERY, now=NOW, dialect="postgres"),
        compile_query(project, QUERY, now=NOW, share_scans="never"),
        compile_query(project, QUERY, now=NOW, disabled_rules=("partitions",)),
        compile_query(project, QUERY, now=NOW, rollups=False),
        compile_query(project, QUERY, now=NOW, preaggregate="always"),
    ]
    assert all(other is not first for other in others)
    assert others[0].sql != first.sql and others[0].timeframe != first.timeframe
    assert others[3].dialect == "postgresql"


def test_a_range_resolved_against_the_clock_is_not_cached(project: segwise.Project) -> None:
    first = compile_query(project, QUERY)
    second = compile_query(project, QUERY)
    assert first is not second and len(COMPILED) == 0
    # An absolute range does not move with the clock: cached without `now`.
    absolute = {**QUERY, "date_range": {"from": "2025-01-01", "to": "2025-01-15"}}
    assert compile_query(project, absolute) is compile_query(project, absolute)


def test_a_refreshed_catalog_is_a_miss(project: segwise.Project) -> None:
    first = compile_query(project, QUERY, now=NOW)
    project.catalog(refresh=True)
    second = compile_query(project, QUERY, now=NOW)
    assert second is not first and second.sql == first.sql
    assert compile_query(project, QUERY, now=NOW) is second
    project.close()  # a reopened project discovers a new catalog
    assert compile_query(project, QUERY, now=NOW) is not second


def test_projects_are_told_apart_and_not_kept_alive(db: Any) -> None:
    COMPILED.clear()
    one, two = segwise.Project(**spec(db)), segwise.Project(**{**spec(db), "timezone": "Asia/Tokyo"})
    try:
        a, b = compile_query(one, QUERY, now=NOW), compile_query(two, QUERY, now=NOW)
        assert a is not b and a.sql != b.sql
    finally:
        two.close()
    gone = weakref.ref(two)
    del two, b
    gc.collect()
    assert gone() is None  # the cache holds projects weakly
    assert compile_query(one, QUERY, now=NOW) is a
    one.close()


def test_the_cache_is_bounded(project: segwise.Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(COMPILED, "size", 3)
    compiled = [compile_query(project, QUERY, now=f"2025-01-{day:02d}") for day in range(10, 15)]
    assert len(COMPILED) == 3
    assert compile_query(project, QUERY, now="2025-01-14") is compiled[-1]
    assert compile_query(project, QUERY, now="2025-01-10") is not compiled[0]  # evicted


def test_a_plugin_rule_registered_later_applies(project: segwise.Project) -> None:
    first = compile_query(project, QUERY, now=NOW)

    class Comment:
        @staticmethod
        @hookimpl
        def segwise_plan_rules():
            return [_comment]

    pm = registry.get_plugin_manager()
    pm.register(Comment(), name="cache-comment")
    try:
        ruled = compile_query(project, QUERY, now=NOW)
        assert ruled is not first and "cached-rule" in ruled.sql
    finally:
        pm.unregister(name="cache-comment")
    assert compile_query(project, QUERY, now=NOW) is first


def test_a_plugin_rule_is_applied_on_every_call(project: segwise.Project) -> None:
    """A rewrite may depend on state of its own (fault injection does): the cache holds the
    statement before the rewrites, which run on a copy every time."""
    state = {"comment": "first"}

    def rule(expression: Any, compiled: Any) -> Any:
        expression.add_comments([state["comment"]])
        return expression

    class Stateful:
        @staticmethod
        @hookimpl
        def segwise_plan_rules():
            return [rule]

    pm = registry.get_plugin_manager()
    pm.register(Stateful(), name="cache-stateful")
    try:
        first = compile_query(project, QUERY, now=NOW)
        state["comment"] = "second"
        second = compile_query(project, QUERY, now=NOW)
        assert "first" in first.sql and "second" in second.sql and "first" not in second.sql
        assert COMPILED.hits == 1  # bind, plan, lower were skipped all the same
    finally:
        pm.unregister(name="cache-stateful")


def _comment(expression: Any, compiled: Any) -> Any:
    expression.add_comments(["cached-rule"])
    return expression


def test_threads_share_the_cache(project: segwise.Project) -> None:
    queries = [{**QUERY, "date_range": {"last": f"{days}d"}} for days in (3, 5, 7, 9)]
    want = [segwise.run(q, project, now=NOW) for q in queries]
    COMPILED.clear()
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(12):
                q = (i + offset) % len(queries)
                assert segwise.run(queries[q], project, now=NOW).equals(want[q])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(COMPILED) == len(queries) and COMPILED.hits >= 6 * 12 - 6 * len(queries)


def test_a_cached_query_is_walked_once_and_its_text_scanned_every_time(
    project: segwise.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = {**QUERY, "breakdown": ["country"]}
    segwise.run(query, project, now=NOW)  # the catalog is discovered (statements of its own)
    COMPILED.clear()
    counts = {"walks": 0, "renders": 0, "texts": 0}
    check_expression, render, check_text = guard.check_expression, DuckDBFlavor.render, guard.check_text

    def counting(name: str, fn: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return fn(*args, **kwargs)

        return counted

    monkeypatch.setattr(guard, "check_expression", counting("walks", check_expression))
    monkeypatch.setattr(DuckDBFlavor, "render", counting("renders", render))
    monkeypatch.setattr(guard, "check_text", counting("texts", check_text))
    first = segwise.run(query, project, now=NOW)
    assert counts == {"walks": 1, "renders": 1, "texts": 1}
    again = segwise.run(query, project, now=NOW)
    assert counts == {"walks": 1, "renders": 1, "texts": 2} and again.equals(first)


def test_plan_is_not_cached(project: segwise.Project) -> None:
    assert pipeline.plan(QUERY, project, now=NOW) is not pipeline.plan(QUERY, project, now=NOW)
