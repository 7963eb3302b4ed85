"""Per-query overhead: ``segwise.run()`` against executing segwise's own SQL directly (issues #13, #18).

For each query, in one process, on one DuckDB database (the project's own connection), interleaved:

* **direct** — the exact statement ``segwise.run()`` sends (captured from the
  ``segwise_query_executed`` hook, ``LIMIT`` guardrail included), run with
  ``cursor.sql(sql).to_arrow_table()`` on one cursor of the project's connection, opened once. A
  cursor, not the connection itself: DuckDB's Python client gives a connection from
  ``duckdb.connect`` the progress bar on (``enable_progress_bar``) and its cursors off, and segwise
  runs each statement on a cursor; the direct side gets the same settings;
* **again** — the direct side a second time (an A/A control: the median of ``again - direct`` is
  what the method reads as "overhead" where there is none — the statement's own noise and the
  order's bias at the machine's load);
* **adapter** — the statement through the adapter's cancellable path alone
  (``segwise.observe.run_statement``: a cursor per statement, Ctrl-C handler, ``interrupt()``
  hooked up; no guard, hooks or shaping): the execute stage's share of the overhead, interleaved;
* **run** — ``segwise.run(query, project, now=NOW)`` end to end, the same query again: parse,
  plan and compile (from the compiled-query cache, ``segwise.pipeline.COMPILED``, where the
  revision has one), guard, render, execute, check and shape the result;
* **cold** — the same with the compiled-query cache emptied before each run: compiled afresh.

The order rotates every iteration and the overhead is the median of the per-iteration
differences ``run - direct`` and ``cold - direct`` (also reported: each side's median, the
control ``again - direct`` and ``adapter - direct``; the load averages before and after, the
machine being shared).
A second, separate loop wraps the pipeline's functions with timers to split ``run()`` into stages
(exclusive time: a stage nested in another is not counted twice); ``--profile`` adds a cProfile
listing of the heaviest functions.

The data is the planner benchmark's (``benchmarks/planner.py``: the demo generator, event_time
order, cached in ``benchmarks/data/``), ``--size 10m`` by default (10,207,611 events).

    python -m benchmarks.overhead                                  # the default queries at 10M
    python -m benchmarks.overhead --size 1m --repeat 50 --profile
    python -m benchmarks.overhead --against-rev aec10b1 --rounds 3 # before/after, alternating processes

``--against-rev REV`` exports revision REV's package (``git archive``) to a scratch folder and runs
this benchmark alternately under that package and under the working tree's, ``--rounds`` times
each, in fresh processes; it reports per-query medians over the rounds and the new/old ratio, and
checks that both give the same answers (a digest of each result table).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import hashlib
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

import segwise
from benchmarks.planner import EXTRA_QUERIES, NOW, SIZES, duckdb_path, gallery_queries, project_for, write_chunked
from segwise.demo.gallery import examples_dir
from segwise.hookspecs import hookimpl

RESULTS = Path(__file__).parent / "results"
TARGET_MS = 2.0  # the issues' target: median overhead of run() over its own SQL (#13, #18)
ROOT = Path(__file__).resolve().parents[1]

# A 7-day query (the issue's), gallery questions of each shape, and the advanced examples whose
# answers are shaped the most (a formula, the previous period, a frequency distribution).
DEFAULT_QUERIES = (
    "x_seven_day_dau",
    "daily_active_users",
    "signups_per_country",
    "total_revenue",
    "traffic_per_campaign",
    "revenue_per_account_type",
    "advanced/stickiness_dau_over_mau",
    "advanced/signups_vs_previous_period",
    "advanced/login_frequency",
)


def all_queries() -> dict[str, dict[str, Any]]:
    queries = {**gallery_queries(), **EXTRA_QUERIES}
    for path in sorted((examples_dir() / "advanced").glob("*.yaml")):
        queries[f"advanced/{path.stem}"] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return queries


def chosen(names: str) -> dict[str, dict[str, Any]]:
    """The queries ``--queries`` names (comma-separated, or "all"), by name."""
    queries = all_queries()
    return queries if names == "all" else {name: queries[name] for name in names.split(",")}


# -- stage timers -----------------------------------------------------------------------------------

# Stage -> functions ("module:qualname"); names missing in a revision are skipped, so the same
# benchmark splits the old and the new pipeline.
STAGES: dict[str, tuple[str, ...]] = {
    "parse": ("segwise.query:Query.parse", "segwise.session:Project.parse"),
    "plan+compile": ("segwise.execute:compile_query", "segwise.pipeline:compile_query"),
    "guard": ("segwise.guard:check_expression", "segwise.guard:check_text", "segwise.guard:check_sql"),
    "render": ("sqlglot.expressions:Expr.sql", "sqlglot.expressions:Expression.sql"),
    "execute": ("segwise.observe:run_statement",),
    "shape": (
        "segwise.execute:shape_result",
        "segwise.dispatch:check_result_size",
        "segwise.observe:check_result_size",
        "segwise.shape:shape_result",
        "segwise.shape:check_result_size",
    ),
}


class StageTimer:
    """Exclusive wall time per stage, accumulated across calls (per thread stack)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._local = threading.local()
        self._undo: list[Callable[[], None]] = []

    def _stack(self) -> list[list[Any]]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            stack = self._stack()
            now = time.perf_counter()
            if stack:
                parent = stack[-1]
                self.totals[parent[0]] = self.totals.get(parent[0], 0.0) + now - parent[1]
            frame = [stage, now]
            stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                end = time.perf_counter()
                self.totals[stage] = self.totals.get(stage, 0.0) + end - frame[1]
                stack.pop()
                if stack:
                    stack[-1][1] = end

        return timed

    def install(self) -> list[str]:
        """Wrap every function of STAGES that exists, wherever a segwise module holds it."""
        installed = []
        for stage, targets in STAGES.items():
            for target in targets:
                module_name, qualname = target.split(":")
                module = sys.modules.get(module_name)
                if module is None:
                    try:
                        module = __import__(module_name, fromlist=["_"])
                    except ImportError:
                        continue
                owner: Any = module
                *path, name = qualname.split(".")
                for part in path:
                    owner = getattr(owner, part, None)
                if owner is None or name not in vars(owner):
                    continue
                raw = vars(owner)[name]
                if isinstance(raw, classmethod):
                    self._set(owner, name, classmethod(self.wrap(stage, raw.__func__)))
                elif isinstance(owner, type):
                    self._set(owner, name, self.wrap(stage, raw))
                else:  # a module function: replace it in every module that imported it
                    wrapped = self.wrap(stage, raw)
                    for mod in list(sys.modules.values()):
                        if (getattr(mod, "__name__", "") or "").startswith("segwise") and vars(mod).get(name) is raw:
                            self._set(mod, name, wrapped)
                installed.append(target)
        return installed

    def _set(self, owner: Any, name: str, value: Any) -> None:
        old = vars(owner)[name]
        setattr(owner, name, value)
        self._undo.append(lambda: setattr(owner, name, old))

    def uninstall(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()


# -- measuring ----------------------------------------------------------------------------------------


class Recorder:
    """A plugin that remembers the statements segwise sends."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    @hookimpl
    def segwise_query_executed(self, event: Any) -> None:
        self.sql.append(event.sql)


class StatementClock:
    """Times each statement inside ``run()`` (the adapter's ``execute_statement``: cursor, statement,
    fetch), so a run splits into its own statement and everything segwise adds around it, in the
    same iteration (the statement's run-to-run spread then falls on one side only)."""

    def __init__(self, adapter: Any) -> None:
        self.adapter, self.last = adapter, 0.0
        original = adapter.execute_statement

        def timed(sql: str, statement: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(sql, statement)
            finally:
                self.last = time.perf_counter() - started

        adapter.execute_statement = timed  # an instance attribute: the class's method is untouched

    def close(self) -> None:
        del self.adapter.execute_statement


def digest(table: pa.Table) -> str:
    """The table's schema and values; floats to 9 significant digits (DuckDB's parallel float sums
    differ in the last bits from run to run)."""
    values = {
        name: [f"{v:.9g}" if isinstance(v, float) else v for v in column] for name, column in table.to_pydict().items()
    }
    text = repr(table.schema) + repr(values)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def measure(project: segwise.Project, query: dict[str, Any], repeat: int) -> dict[str, Any]:
    from segwise.registry import get_plugin_manager

    con = project.adapter()._con  # type: ignore[attr-defined]  # the project's own DuckDB connection
    segwise.run(query, project, now=NOW)  # the first run discovers the catalog (statements of its own)
    recorder = Recorder()
    pm = get_plugin_manager()
    pm.register(recorder)
    try:
        answer = segwise.run(query, project, now=NOW)
    finally:
        pm.unregister(recorder)
    if len(recorder.sql) != 1:
        raise RuntimeError(f"expected one statement, segwise sent {len(recorder.sql)}")
    sql = recorder.sql[0]

    cache = compiled_cache()
    cursor = con.cursor()  # the settings of segwise's own statement cursors (see the module docstring)
    adapter = project.adapter()
    from segwise.observe import run_statement

    def direct() -> None:
        cursor.sql(sql).to_arrow_table()

    def through_adapter() -> None:
        run_statement(adapter, sql, None)

    clock = StatementClock(adapter)
    inside: list[float] = []  # the statement's own time within each interleaved run

    def through() -> None:
        segwise.run(query, project, now=NOW)
        inside.append(clock.last)

    def cold() -> None:  # compiled afresh: the compiled-query cache emptied first (where there is one)
        if cache is not None:
            cache.clear()
        segwise.run(query, project, now=NOW)

    sides = (("direct", direct), ("again", direct), ("adapter", through_adapter), ("run", through), ("cold", cold))
    for _ in range(3):  # warm-up: caches, the buffer pool
        for _name, fn in sides:
            fn()
    samples: dict[str, list[float]] = {name: [] for name, _fn in sides}
    for i in range(repeat):
        shift = i % len(sides)  # the order rotates every iteration
        for name, fn in sides[shift:] + sides[:shift]:
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    cursor.close()
    clock.close()
    inside = inside[-repeat:]  # the timed iterations' (the warm-up's first)

    def over(side: str) -> float:  # the median per-iteration difference to the direct side, ms
        return statistics.median(r - d for r, d in zip(samples[side], samples["direct"], strict=True)) * 1000

    timer = StageTimer()
    timer.install()
    stage_samples: dict[str, dict[str, list[float]]] = {"run": {}, "cold": {}}
    python: list[float] = []  # per cached run: everything but the execute stage
    try:
        for i in range(2 * max(5, repeat // 2)):
            side, fn = ("run", through) if i % 2 == 0 else ("cold", cold)
            if cache is not None and side == "cold":
                cache.clear()  # outside the timed call: the split is of the run itself
            timer.totals = {}
            started = time.perf_counter()
            segwise.run(query, project, now=NOW)
            total = time.perf_counter() - started
            for stage in (*STAGES, "other"):
                value = timer.totals.get(stage, 0.0) if stage != "other" else total - sum(timer.totals.values())
                stage_samples[side].setdefault(stage, []).append(value)
            if side == "run":
                python.append(total - timer.totals.get("execute", 0.0))
    finally:
        timer.uninstall()
    return {
        "direct_ms": statistics.median(samples["direct"]) * 1000,
        "run_ms": statistics.median(samples["run"]) * 1000,
        "overhead_ms": over("run"),
        "cold_run_ms": statistics.median(samples["cold"]) * 1000,
        "cold_overhead_ms": over("cold"),
        "control_ms": over("again"),
        "adapter_ms": over("adapter"),
        "python_ms": statistics.median(python) * 1000,
        # the interleaved runs split: run() minus its own statement, and that statement minus the SQL alone
        "around_ms": statistics.median(r - x for r, x in zip(samples["run"], inside, strict=True)) * 1000,
        "statement_ms": statistics.median(x - d for x, d in zip(inside, samples["direct"], strict=True)) * 1000,
        "stages_ms": {stage: statistics.median(v) * 1000 for stage, v in stage_samples["run"].items()},
        "cold_stages_ms": {stage: statistics.median(v) * 1000 for stage, v in stage_samples["cold"].items()},
        "rows": answer.num_rows,
        "digest": digest(answer),
        "repeat": repeat,
    }


def compiled_cache() -> Any:
    """The revision's compiled-query cache (``segwise.pipeline.COMPILED``), or None before it existed."""
    try:
        from segwise import pipeline
    except ImportError:
        return None
    return getattr(pipeline, "COMPILED", None)


def profile(project: segwise.Project, query: dict[str, Any], calls: int, top: int) -> str:
    segwise.run(query, project, now=NOW)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        segwise.run(query, project, now=NOW)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def ensure_data(size: str) -> Path:
    path = duckdb_path(size, "partitioned")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        events = write_chunked(path, SIZES[size])
        print(f"generated {events:,} events into {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def run_here(args: argparse.Namespace) -> dict[str, Any]:
    path = ensure_data(args.size)
    queries = chosen(args.queries)
    results: dict[str, Any] = {}
    started_load = os.getloadavg()
    project = project_for(f"duckdb:///{path.resolve()}", "partitioned")
    try:
        events = project.adapter()._con.sql("SELECT count(*) FROM events").fetchall()[0][0]  # type: ignore[attr-defined]
        for name in queries:
            results[name] = measure(project, queries[name], args.repeat)
            r = results[name]
            print(
                f"{name:<40} direct {r['direct_ms']:8.2f} ms  run {r['run_ms']:8.2f} ms  "
                f"overhead {r['overhead_ms']:6.2f} ms  cold {r['cold_overhead_ms']:6.2f} ms  "
                f"A/A {r['control_ms']:6.2f} ms  adapter {r['adapter_ms']:6.2f} ms  Python {r['python_ms']:5.2f} ms  "
                f"around {r['around_ms']:5.2f} ms  statement {r['statement_ms']:6.2f} ms  "
                f"{verdict(r['overhead_ms'])}",
                file=sys.stderr,
            )
            if args.profile:
                print(profile(project, queries[name], args.profile_calls, args.profile_top), file=sys.stderr)
    finally:
        project.close()
    load = [round(x, 2) for x in (*started_load, *os.getloadavg())]  # 1/5/15-minute averages, before and after
    where = str(Path(segwise.__file__).parent)
    return {"size": args.size, "events": events, "segwise": where, "load": load, "queries": results}


# -- before/after ---------------------------------------------------------------------------------------


def export_revision(rev: str, directory: Path) -> Path:
    """Revision ``rev``'s package laid out importable (``PYTHONPATH=<returned>``): segwise from engine/,
    segwise.adapters and segwise.plugins inside it, examples/ beside it (the gallery finds it there)."""
    pkg = directory / "pkg"
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "engine", "adapters", "plugins", "examples"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    pkg.mkdir()
    (directory / "engine").rename(pkg / "segwise")
    (directory / "adapters").rename(pkg / "segwise" / "adapters")
    (directory / "plugins").rename(pkg / "segwise" / "plugins")
    (directory / "examples").rename(pkg / "examples")
    return pkg


def alternate(module: str, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """``python -m module`` (``--size``, ``--repeat``, ``--queries`` from ``args``) under revision
    ``args.against_rev``'s package ("old") and the working tree's ("new"), alternately in fresh
    processes, ``args.rounds`` each (the side that starts alternates too); each process's JSON report."""
    ensure_data(args.size)
    runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory(prefix="segwise-overhead-") as tmp:
        old_path = export_revision(args.against_rev, Path(tmp))
        for round_ in range(args.rounds):
            for side in ("old", "new") if round_ % 2 == 0 else ("new", "old"):
                out = Path(tmp) / f"{side}-{round_}.json"
                path = [str(old_path), str(ROOT)] if side == "old" else [str(ROOT)]
                env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
                command = [sys.executable, "-m", module, "--size", args.size, "--repeat", str(args.repeat)]
                command += ["--queries", args.queries, "--json", str(out)]
                print(f"round {round_ + 1}/{args.rounds}: {side}", file=sys.stderr)
                subprocess.run(command, check=True, env=env, cwd=ROOT)
                runs[side].append(json.loads(out.read_text()))
    return runs


def compare(args: argparse.Namespace) -> dict[str, Any]:
    runs = alternate("benchmarks.overhead", args)
    report: dict[str, Any] = {"size": args.size, "against": args.against_rev, "rounds": args.rounds, "queries": {}}
    report["load"] = {side: [r["load"] for r in runs[side]] for side in runs}
    for name in runs["new"][0]["queries"]:
        row: dict[str, Any] = {}
        for side in ("old", "new"):
            cells = [r["queries"][name] for r in runs[side]]
            keys = ("direct_ms", "run_ms", "overhead_ms", "cold_run_ms", "cold_overhead_ms", "control_ms")
            keys += ("adapter_ms", "python_ms", "around_ms", "statement_ms")
            row[side] = {key: statistics.median(c[key] for c in cells) for key in keys}
            for split in ("stages_ms", "cold_stages_ms"):
                row[side][split] = {
                    stage: statistics.median(c[split].get(stage, 0.0) for c in cells) for stage in cells[0][split]
                }
            row[side]["digest"] = cells[0]["digest"]
        row["same_answer"] = row["old"]["digest"] == row["new"]["digest"]
        report["queries"][name] = row
    return report


def verdict(overhead_ms: float) -> str:
    """One line's verdict against the target (the median overhead of the cached path)."""
    ok = overhead_ms <= TARGET_MS
    return f"{'PASS' if ok else 'FAIL'}: overhead {overhead_ms:.2f} ms {'<=' if ok else '>'} {TARGET_MS:g} ms"


def verdicts(report: dict[str, Any]) -> str:
    """A verdict line per query (the new side with --against-rev) and the load averages seen."""
    lines = []
    for name, row in report["queries"].items():
        cell = row["new"] if "against" in report else row
        lines.append(
            f"verdict {name}: {verdict(cell['overhead_ms'])} (A/A control {cell['control_ms']:.2f} ms, "
            f"adapter path {cell['adapter_ms']:.2f} ms, Python stages {cell['python_ms']:.2f} ms; "
            f"split in the same runs: around the statement {cell['around_ms']:.2f} ms, "
            f"the statement over the SQL alone {cell['statement_ms']:.2f} ms)"
        )
    lines.append(f"load averages (1/5/15 min, before and after each process): {report['load']}")
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    """Overhead = run() minus the SQL alone (medians of per-iteration differences, ms); "cached": the
    same query again (its compiled form from the compiled-query cache), "cold": compiled afresh
    every time; "A/A": the SQL alone minus itself (the method's noise floor); "adapter": the
    statement through the adapter's cancellable path minus the SQL alone; "Python": run() minus its
    execute stage (the wrapped runs); "around": run() minus its own statement and "statement": that
    statement minus the SQL alone, both in the interleaved runs themselves."""
    stages = [*STAGES, "other"]

    def split(cells: dict[str, float]) -> str:
        return " / ".join(f"{cells.get(s, 0.0):.2f}" for s in stages)

    if "against" in report:
        lines = [
            "| query | SQL alone | A/A old / new | overhead old / new | around old / new | statement old / new "
            "| adapter old / new | Python old / new "
            f"| Python new/old | shape old / new | same answer | new split cached ({', '.join(stages)}) |",
            "|---|---:|---|---|---|---|---|---|---:|---|:---:|---|",
        ]
        for name, row in report["queries"].items():
            old, new = row["old"], row["new"]

            def pair(key: str, old: dict[str, Any] = old, new: dict[str, Any] = new) -> str:
                return f"{old[key]:.2f} / {new[key]:.2f}"

            ratio = new["python_ms"] / old["python_ms"] if old["python_ms"] > 0 else float("nan")
            shape = f"{old['stages_ms'].get('shape', 0.0):.2f} / {new['stages_ms'].get('shape', 0.0):.2f}"
            lines.append(
                f"| {name} | {new['direct_ms']:.2f} | {pair('control_ms')} | {pair('overhead_ms')} | "
                f"{pair('around_ms')} | {pair('statement_ms')} | {pair('adapter_ms')} | {pair('python_ms')} | "
                f"{ratio:.2f} | {shape} | "
                f"{'yes' if row['same_answer'] else 'NO'} | {split(new['stages_ms'])} |"
            )
        return "\n".join(lines)
    lines = [
        "| query | rows | SQL alone | A/A | overhead, cached | around | statement | adapter | Python "
        f"| overhead, cold | split cached ({', '.join(stages)}) | split cold |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, r in report["queries"].items():
        lines.append(
            f"| {name} | {r['rows']} | {r['direct_ms']:.2f} | {r['control_ms']:.2f} | {r['overhead_ms']:.2f} | "
            f"{r['around_ms']:.2f} | {r['statement_ms']:.2f} | {r['adapter_ms']:.2f} | {r['python_ms']:.2f} | "
            f"{r['cold_overhead_ms']:.2f} | "
            f"{split(r['stages_ms'])} | {split(r['cold_stages_ms'])} |"
        )
    return "\n".join(lines)


def options(description: str, size: str, repeat: int, rounds: int) -> argparse.ArgumentParser:
    """The options this benchmark and ``benchmarks/overhead_python.py`` share."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", default=size, choices=sorted(SIZES))
    parser.add_argument("--repeat", type=int, default=repeat, help="timed runs per query")
    parser.add_argument("--queries", default=",".join(DEFAULT_QUERIES), help="comma-separated names, or all")
    parser.add_argument("--against-rev", help="also run git revision REV's package, alternating processes")
    parser.add_argument("--rounds", type=int, default=rounds, help="processes per side with --against-rev")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    return parser


def report_to(args: argparse.Namespace, report: dict[str, Any], table: str) -> None:
    """Write ``report`` where ``--json`` says, and print ``table``."""
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    print(table)


def main(argv: list[str] | None = None) -> None:
    parser = options(__doc__.splitlines()[0], size="10m", repeat=60, rounds=3)
    parser.add_argument("--profile", action="store_true", help="print a cProfile listing per query")
    parser.add_argument("--profile-calls", type=int, default=30)
    parser.add_argument("--profile-top", type=int, default=30)
    args = parser.parse_args(argv)
    report = compare(args) if args.against_rev else run_here(args)
    report_to(args, report, markdown(report))
    print(verdicts(report))


if __name__ == "__main__":
    main()
