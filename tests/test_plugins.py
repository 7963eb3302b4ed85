"""The plugin system: hooks documented and tested, duplicates refused, entry points loaded."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

import segwise
from segwise import registry
from segwise.hookspecs import hookimpl
from segwise.measures import MeasureDefinition
from segwise.planner import RULES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_project(tmp_path_factory: pytest.TempPathFactory) -> segwise.Project:
    path = tmp_path_factory.mktemp("plugins") / "e.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """CREATE TABLE events AS SELECT * FROM (VALUES
           ('u1', TIMESTAMP '2024-01-01 10:00', 'buy', 10.0),
           ('u1', TIMESTAMP '2024-01-01 11:00', 'buy', 30.0),
           ('u2', TIMESTAMP '2024-01-02 09:00', 'buy', 5.5),
           ('u3', TIMESTAMP '2024-01-02 12:00', 'view', NULL)) AS t(user_id, event_time, event_name, price)"""
    )
    con.close()
    return segwise.Project(
        warehouse=f"duckdb:///{path}", event_tables=[{"table": "events", "event_name": "event_name"}]
    )


@pytest.fixture
def clean_registry():
    pm = registry.get_plugin_manager()
    before = {name for name, _ in pm.list_name_plugin()}
    yield pm
    for name, plugin in list(pm.list_name_plugin()):
        if name not in before:
            pm.unregister(plugin)
    registry.measure_definitions.cache_clear()


def test_every_hook_is_documented_and_tested() -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text()
    tests = Path(__file__).read_text()
    hooks = [name for name in dir(registry.get_plugin_manager().hook) if name.startswith("segwise_")]
    assert hooks, "no hooks found"
    for name in hooks:
        assert re.search(rf"^### `{name}\(", docs, re.M), f"{name} has no heading in docs/plugins.md"
        assert re.search(rf"def {name}\(", tests), f"{name} has no implementation under test here"


def test_builtin_measure_plugin_matches_python(small_project: segwise.Project) -> None:
    # segwise_measures: the built-in revenue_per_user plugin registers like a third party.
    table = segwise.run(
        {
            "series": [{"event": "buy", "measure": "revenue_per_user:price"}],
            "date_range": {"from": "2024-01-01", "to": "2024-01-03"},
            "time_grain": "day",
        },
        small_project,
    )
    # Day 1: (10 + 30) / 1 user = 40; day 2: 5.5 / 1 user.
    assert [r["value"] for r in table.to_pylist()] == [40.0, 5.5]
    assert "revenue_per_user" in registry.measure_definitions()


def test_duplicate_measure_names_both_plugins(clean_registry) -> None:
    definition = MeasureDefinition(name="revenue_per_user", aggregate=lambda ctx: exp.Count(this=exp.Star()))

    class Clash:
        @staticmethod
        @hookimpl
        def segwise_measures() -> list[MeasureDefinition]:
            return [definition]

    clean_registry.register(Clash(), name="clash-plugin")
    registry.measure_definitions.cache_clear()
    with pytest.raises(segwise.SpecError) as info:
        registry.measure_definitions()
    assert "segwise.plugins.revenue_per_user" in str(info.value)
    assert "clash-plugin" in str(info.value)


def test_builtin_measure_name_cannot_be_taken(clean_registry) -> None:
    class Shadow:
        @staticmethod
        @hookimpl
        def segwise_measures() -> list[MeasureDefinition]:
            return [MeasureDefinition(name="events", aggregate=lambda ctx: exp.Count(this=exp.Star()))]

    clean_registry.register(Shadow(), name="shadow")
    registry.measure_definitions.cache_clear()
    with pytest.raises(segwise.SpecError, match="built in"):
        registry.measure_definitions()


def test_duplicate_adapter_scheme_names_both(clean_registry) -> None:
    from segwise.adapters.duckdb import DuckDBAdapter

    class OtherDuck(DuckDBAdapter):
        name = "otherduck"

    class Dup:
        @staticmethod
        @hookimpl
        def segwise_adapters() -> list[type]:
            return [OtherDuck]

    clean_registry.register(Dup(), name="dup")
    with pytest.raises(segwise.SpecError) as info:
        registry.adapter_classes()
    assert "DuckDBAdapter" in str(info.value) and "OtherDuck" in str(info.value)


def test_duplicate_dialect_names_both(clean_registry) -> None:
    from segwise.adapters.base import SqlFlavor

    class MySnowflake(SqlFlavor):
        name = "snowflake"
        dialect = "snowflake"

    class Dup:
        @staticmethod
        @hookimpl
        def segwise_dialects() -> list[type]:
            return [MySnowflake]

    clean_registry.register(Dup(), name="dup-dialect")
    with pytest.raises(segwise.SpecError, match="MySnowflake"):
        registry.flavor_classes()


def test_a_plugin_dialect_renders_under_its_name_and_aliases(clean_registry) -> None:
    from segwise.adapters.base import SqlFlavor

    class MyDialect(SqlFlavor):
        name = "mydialect"
        aliases = ("mine",)
        dialect = "trino"

    class Plugin:
        @staticmethod
        @hookimpl
        def segwise_dialects() -> list[type]:
            return [MyDialect]

    clean_registry.register(Plugin(), name="my-dialect")
    flavors = registry.flavor_classes()
    assert flavors["mydialect"] is MyDialect and flavors["mine"] is MyDialect
    assert type(registry.get_flavor("mine")) is MyDialect


def test_an_adapters_flavor_is_registered_as_a_dialect(clean_registry) -> None:
    from segwise.adapters.base import Adapter, SqlFlavor

    class MyFlavor(SqlFlavor):
        name = "mywh"
        dialect = "trino"

    class MyWarehouse(Adapter):
        name = "mywh"
        schemes = ("mywh",)
        flavor_class = MyFlavor

    class Plugin:
        @staticmethod
        @hookimpl
        def segwise_adapters() -> list[type]:
            return [MyWarehouse]

    clean_registry.register(Plugin(), name="my-warehouse")
    assert registry.flavor_classes()["mywh"] is MyFlavor
    assert type(registry.get_flavor("mywh")) is MyFlavor


def test_duplicate_dialect_alias_names_both(clean_registry) -> None:
    from segwise.adapters.base import SqlFlavor

    class MyPostgres(SqlFlavor):
        name = "mypostgres"
        aliases = ("postgres",)

    class Dup:
        @staticmethod
        @hookimpl
        def segwise_dialects() -> list[type]:
            return [MyPostgres]

    clean_registry.register(Dup(), name="dup-alias")
    with pytest.raises(segwise.SpecError) as info:
        registry.flavor_classes()
    assert "MyPostgres" in str(info.value) and "PostgreSQLFlavor" in str(info.value)


def test_query_executed_hook_sees_every_statement(small_project: segwise.Project, clean_registry) -> None:
    seen = []

    class Observer:
        @staticmethod
        @hookimpl
        def segwise_query_executed(event) -> None:
            seen.append(event)

    clean_registry.register(Observer(), name="observer")
    segwise.run({"series": [{"event": "buy"}], "date_range": {"from": "2024-01-01", "to": "2024-01-03"}}, small_project)
    final = seen[-1]
    assert final.adapter == "duckdb" and final.error is None
    assert final.rows == 2 and final.duration_s >= 0
    assert "SELECT" in final.sql


def test_plan_rules_rewrite_before_rendering(small_project: segwise.Project, clean_registry) -> None:
    calls = []

    def tag(expression, compiled):
        calls.append(compiled.query.series[0].event)
        expression.add_comments(["rewritten by a plugin rule"])
        return expression

    class Rules:
        @staticmethod
        @hookimpl
        def segwise_plan_rules():
            return [tag]

    clean_registry.register(Rules(), name="rules")
    sql = small_project.compile(
        {"series": [{"event": "buy"}], "date_range": {"from": "2024-01-01", "to": "2024-01-02"}}
    )
    assert calls == ["buy"]
    assert "rewritten by a plugin rule" in sql
    query = {"series": [{"event": "buy"}], "date_range": {"from": "2024-01-01", "to": "2024-01-02"}}
    assert segwise.compile_query(small_project, query).max_rows is None  # a rewrite's rows: the guard's LIMIT


def test_entry_point_plugin_adds_a_measure_usable_from_the_cli(tmp_path: Path, small_project) -> None:
    """A package installed only through its entry point (group ``segwise``) adds a measure."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "spread_plugin.py").write_text(
        textwrap.dedent(
            """
            from sqlglot import exp
            from segwise.hookspecs import hookimpl
            from segwise.measures import MeasureDefinition

            def spread(ctx):
                return exp.Sub(this=exp.Max(this=ctx.value), expression=exp.Min(this=ctx.value))

            @hookimpl
            def segwise_measures():
                return [MeasureDefinition(name="spread", aggregate=spread, property="required",
                                          description="max - min of P")]
            """
        )
    )
    dist = site / "spread_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: spread-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[segwise]\nspread = spread_plugin\n")
    project_file = tmp_path / "p.yaml"
    project_file.write_text(
        f"warehouse: {small_project.warehouse}\nevent_tables: [{{table: events, event_name: event_name}}]\n"
    )
    query_file = tmp_path / "q.yaml"
    query_file.write_text(
        "series: [{event: buy, measure: 'spread:price'}]\n"
        "date_range: {from: 2024-01-01, to: 2024-01-03}\ntime_grain: total\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    segwise_cli = [sys.executable, "-m", "segwise.cli"]
    listed = subprocess.run([*segwise_cli, "plugins"], capture_output=True, text=True, env=env, check=True)
    assert "spread" in listed.stdout
    ran = subprocess.run(
        [*segwise_cli, "run", str(query_file), "-p", str(project_file), "-f", "json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ran.returncode == 0, ran.stderr
    # buy prices: 10, 30, 5.5 -> spread 24.5
    assert json.loads(ran.stdout)[0]["value"] == 24.5
    # Without the entry point the same query is an unknown measure, exit status 2.
    missing = subprocess.run(
        [*segwise_cli, "run", str(query_file), "-p", str(project_file)], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "unknown measure 'spread:price'" in missing.stderr


def test_estimate_cost_hook_replaces_the_estimate(small_project: segwise.Project, clean_registry) -> None:
    from segwise.cost import CostEstimate, estimate_cost
    from segwise.pipeline import compile_query

    compiled = compile_query(
        small_project, {"series": [{"event": "buy"}], "date_range": {"from": "2024-01-01", "to": "2024-01-03"}}
    )
    builtin = estimate_cost(compiled, small_project.catalog())
    # The built-in model: the table has 4 rows and no partition column, so all 4 are read.
    assert builtin.rows == 4 and builtin.scans[0].table_rows == 4 and "none" in builtin.scans[0].pruning

    class FromWarehouse:
        @staticmethod
        @hookimpl
        def segwise_estimate_cost(compiled, estimate):
            return CostEstimate(estimate.scans[:0], source="my warehouse's EXPLAIN")

    clean_registry.register(FromWarehouse(), name="cost-plugin")
    replaced = estimate_cost(compiled, small_project.catalog())
    assert replaced.source == "my warehouse's EXPLAIN" and replaced.rows == 0


def test_a_plugin_planner_rule_runs_after_the_built_ins(small_project: segwise.Project, clean_registry) -> None:
    """A plugin rule has the built-ins' form: it sees the optimized plan, records its decision,
    leaves the plan it was given unchanged, and is skipped by name."""
    seen: list[list[str]] = []

    def count_scans(plan, context):
        seen.append(list(plan.rules))
        changed = plan.copy()
        changed.decisions.append(f"count_scans: {len(plan.nodes)} scan(s) of {context.bound.project.warehouse}")
        return changed

    class Rules:
        @hookimpl
        def segwise_optimizer_rules(self):
            return [("count_scans", count_scans)]

    clean_registry.register(Rules(), name="test-optimizer-rules")
    query = {
        "series": [{"event": "buy", "measure": "sum:price"}],
        "date_range": {"from": "2024-01-01", "to": "2024-01-03"},
    }
    compiled = segwise.compile_query(small_project, query)
    built_ins = [name for name, _rule in RULES]
    assert built_ins[:5] == ["rollups", "partitions", "preaggregate", "sharing", "rolling"]
    assert seen == [built_ins]  # every built-in ran before the plugin's rule
    assert compiled.plan is not None and compiled.plan.rules[-1] == "count_scans"
    assert compiled.plan.max_rows is None and compiled.max_rows is None  # a plugin rule's plan: no bound proven
    assert any(d.startswith("count_scans: 1 scan(s)") for d in compiled.decisions)
    assert segwise.run(query, small_project)["value"].to_pylist() == [40.0, 5.5]  # the answer is unchanged
    skipped = segwise.compile_query(small_project, query, disabled_rules=("count_scans",))
    assert not any(d.startswith("count_scans") for d in skipped.decisions)
    with pytest.raises(segwise.SpecError, match="unknown planner rule"):
        segwise.compile_query(small_project, query, disabled_rules=("count_scan",))


def test_a_plugin_rule_cannot_take_a_built_in_name(small_project: segwise.Project, clean_registry) -> None:
    class Rules:
        @hookimpl
        def segwise_optimizer_rules(self):
            return [("sharing", lambda plan, context: plan)]

    clean_registry.register(Rules(), name="test-optimizer-clash")
    with pytest.raises(segwise.SpecError, match="'sharing'"):
        segwise.compile_query(small_project, {"series": [{"event": "buy"}], "date_range": {"last": "7d"}})
