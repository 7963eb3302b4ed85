"""The execute -> shape end of the pipeline without waste: one guard walk, one render, no worker
thread on DuckDB, formulas over Arrow columns exactly as the per-value reference computes them."""

from __future__ import annotations

import math
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import segwise
from segwise import dispatch, guard, observe, pipeline
from segwise.adapters.duckdb import DuckDBAdapter, DuckDBFlavor
from segwise.demo.gallery import examples_dir
from segwise.demo.generate import write_duckdb
from segwise.formulas import evaluate, evaluate_columns, parse_formula, references
from segwise.pipeline import compile_query
from segwise.registry import get_flavor

NOW = "2025-01-31"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("overhead") / "demo.duckdb"
    write_duckdb(db, users=150, days=30)
    with segwise.Project(
        warehouse=f"duckdb:///{db}",
        event_tables=[{"table": "events", "event_name": "event_name"}],
        user_tables=[{"table": "users"}],
    ) as proj:
        yield proj


def example_queries() -> list[tuple[str, dict[str, Any]]]:
    folder = examples_dir()
    paths = [p for p in sorted(folder.glob("*.yaml")) if p.name != "segwise.yaml"]
    paths += sorted((folder / "advanced").glob("*.yaml"))
    return [(p.stem, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in paths]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite", "spark", "clickhouse"])
def test_limited_sql_is_the_rendering_of_the_limited_tree(project: Any, dialect: str) -> None:
    """The LIMIT guardrail appended to the compiler's text is exactly what rendering the limited
    tree gives (the flavors that wrap a limited UNION, ClickHouse, get the tree rendered)."""
    try:
        flavor = get_flavor(dialect)
    except segwise.UnsupportedError:
        pytest.skip(f"no {dialect} flavor")
    checked = 0
    for name, query in example_queries():
        try:
            compiled = compile_query(project, query, dialect=flavor.name, now=NOW)
        except segwise.SegwiseError:
            continue  # a declared refusal of this dialect
        want = flavor.render(compiled.expression.copy().limit(dispatch.MAX_RESULT_ROWS + 1))
        assert dispatch.limited_sql(flavor, compiled) == want, name
        checked += 1
    assert checked >= 20


def test_one_guard_walk_and_one_render_per_run(project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    query = {
        "series": [{"event": "login", "measure": "unique_users"}, {"event": "purchase", "measure": "sum:revenue"}],
        "breakdown": ["country"],
        "date_range": {"last": "14d"},
        "time_grain": "day",
    }
    segwise.run(query, project, now=NOW)  # the catalog is discovered (statements of its own)
    pipeline.COMPILED.clear()  # compiled afresh (a cached query is walked and rendered 0 times)
    walks: list[int] = []
    renders: list[int] = []
    check_expression = guard.check_expression
    render = DuckDBFlavor.render

    def counting_check(*args: Any, **kwargs: Any) -> Any:
        walks.append(1)
        return check_expression(*args, **kwargs)

    def counting_render(self: Any, *args: Any, **kwargs: Any) -> Any:
        renders.append(1)
        return render(self, *args, **kwargs)

    monkeypatch.setattr(guard, "check_expression", counting_check)
    monkeypatch.setattr(DuckDBFlavor, "render", counting_render)
    table = segwise.run(query, project, now=NOW)
    assert table.num_rows > 0
    assert len(walks) == 1
    assert len(renders) == 1


def test_the_text_is_still_scanned(project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guarding the tree once does not skip the text: a broken text is refused."""
    query = {"series": [{"event": "login"}], "date_range": {"last": "7d"}}
    monkeypatch.setattr(dispatch, "statement_sql", lambda flavor, compiled: compiled.sql + "; SELECT 1")
    with pytest.raises(guard.RefusedStatement, match="outside quotes"):
        segwise.run(query, project, now=NOW)


def test_duckdb_runs_on_the_calling_thread(project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    segwise.run({"series": [{"event": "login"}], "date_range": {"last": "7d"}}, project, now=NOW)

    def no_thread(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a worker thread was started")

    monkeypatch.setattr(observe.threading.Thread, "start", no_thread)
    assert threading.current_thread() is threading.main_thread()
    assert segwise.run({"series": [{"event": "login"}], "date_range": {"last": "7d"}}, project, now=NOW).num_rows


def test_ctrl_c_on_the_calling_thread_cancels_duckdb() -> None:
    """SIGINT while DuckDB runs on the main thread: the statement is interrupted and
    KeyboardInterrupt raised (not a driver error), promptly; the handler is restored."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    adapter = DuckDBAdapter("duckdb:///:memory:")
    before = signal.getsignal(signal.SIGINT)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            observe.run_statement(adapter, "SELECT count(*) FROM range(100000000000) a", None)
    finally:
        timer.cancel()
        adapter.close()
    assert time.monotonic() - started < 5
    assert signal.getsignal(signal.SIGINT) is before


def test_check_result_size_counts_null_groups_once() -> None:
    raw = pa.table(
        {
            "series": ["a", "a", "a", "b"],
            "_g0": [None, None, "x", None],
            "bucket": pa.array([0, 1, 0, 0], type=pa.int64()),
            "value": [1, 2, 3, 4],
        }
    )

    class Compiled:  # only what check_result_size reads
        breakdown = ("country",)

        class query:
            breakdown = ("country",)
            breakdown_limit = None

        class timeframe:
            grain = "day"
            buckets = tuple(range(300_000))

    # (a, null), (a, x), (b, null): 3 groups x 300,000 buckets fill 900,000 rows (nulls: one group)
    dispatch.check_result_size(raw, Compiled())  # type: ignore[arg-type]
    raw = pa.concat_tables([raw, pa.table({"series": ["b"], "_g0": ["y"], "bucket": [0], "value": [5]})])
    with pytest.raises(segwise.SpecError, match="once empty buckets are filled"):
        dispatch.check_result_size(raw, Compiled())  # type: ignore[arg-type]


FORMULAS = ["a / b * 100", "-a + 2 * (b - c)", "a / (b - b)", "(a + 1) / c", "2 * 3", "-(a) / -b"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formulas_over_columns_match_the_reference(text: str) -> None:
    rng = random.Random(text)
    size = 400
    pool = [None, 0, 0.0, -0.0, 1, -3, 2.5, 1e300, -1e-300, float("inf"), 7]
    columns = {name: [rng.choice(pool) for _ in range(size)] for name in "abc"}
    tree = parse_formula(text)
    arrays = {name: pa.array(values, type=pa.float64()) for name, values in columns.items() if name in references(tree)}
    got = evaluate_columns(tree, arrays, size).to_pylist()
    for i in range(size):
        want = evaluate(tree, {name: columns[name][i] for name in "abc"})
        if want is None or got[i] is None:
            assert want is None and got[i] is None, (text, i)
        elif math.isnan(want):
            assert math.isnan(got[i])
        else:
            assert got[i] == want and math.copysign(1, got[i]) == math.copysign(1, want), (text, i)


def test_benchmark_stage_timer_finds_the_pipeline(tmp_path: Path) -> None:
    from benchmarks.overhead import StageTimer

    timer = StageTimer()
    try:
        installed = timer.install()
    finally:
        timer.uninstall()
    assert {"segwise.guard:check_expression", "segwise.observe:run_statement"} <= set(installed)


def test_group_counting_matches_acero() -> None:
    """check_result_size counts (series, breakdown values) in numpy as Acero's group_by would."""
    rng = random.Random(11)
    for size in (0, 1, 7, 300):
        table = pa.table(
            {
                "series": [rng.choice(["A", "B", "A (previous)"]) for _ in range(size)],
                "_g0": [rng.choice([None, "x", "y", ""]) for _ in range(size)],
                "_g1": pa.array([rng.choice([None, 1, 2]) for _ in range(size)], type=pa.int64()),
            }
        )
        for names in (["series", "_g0"], ["series", "_g0", "_g1"]):
            assert dispatch._groups(table, names) == dispatch._groups_by_acero(table, names), (size, names)
