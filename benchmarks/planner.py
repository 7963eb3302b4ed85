"""Naive vs segwise vs hand-written SQL: the planner benchmark (issue #5, "Benchmarks").

Every benchmark query (the ``examples/*.yaml`` gallery plus rolling users, a combined event, a
multi-property top-N breakdown and a 7-day query) runs three ways on the same engine and data:

* **naive** — the SQL a straightforward generator emits (``naive_plan``): ``FROM events LEFT JOIN
  users`` for every query, the date range as ``CAST(event_time AS DATE)`` comparisons (the column
  wrapped in a function, no partition predicate), every series its own scan (``UNION ALL``),
  rolling users as a join of raw events to a date spine, and top-N as a second round trip (rank the
  groups, then re-run with a ``CASE`` listing the winners);
* **segwise** — ``project.compile(query, now=NOW)``, compiled afresh at run time;
* **hand** — SQL written by hand for each query (``HAND``) by someone who knows the data: the
  ``event_date`` partition column alone for day-aligned ranges, distinct (user, bucket) or per-user
  pre-aggregation before the user-table join, one scan with conditional aggregates for several
  series, per-user intervals and a running sum for rolling users.

Before anything is timed each variant's answer is compared with ``segwise.run`` (shapes
normalised: filled empty buckets dropped, floats to 1e-9 relative). Then, per variant: the
median latency of ``--repeat`` runs after one warm-up (profiling off), and one separate profiled
run for rows scanned, bytes scanned and peak memory (see ``docs/benchmarks.md`` for what each
engine reports).

    python -m benchmarks.planner --sizes 1m,10m,50m --engines duckdb,postgresql --repeat 3

Generated DuckDB files are cached in ``benchmarks/data/`` (two layouts per size); PostgreSQL runs
on a throwaway local cluster (``tests/pg.py``) loaded from them. Writes JSON (``--out``) and prints
the Markdown tables of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.planner_check import canonical, check_target, differences, run_target
from benchmarks.planner_data import duckdb_path, ensure_duckdb, project_for, write_chunked
from benchmarks.planner_hand import HAND, hand_sql
from benchmarks.planner_naive import naive_plan
from benchmarks.planner_queries import (
    DAYS,
    ENGINES,
    EXTRA_QUERIES,
    LAYOUTS,
    NOW,
    PG_SETTINGS,
    RESULTS,
    SIZES,
    VARIANTS,
    benchmark_queries,
    gallery_queries,
)
from benchmarks.planner_report import done_when, markdown, summary
from benchmarks.planner_targets import DuckDBTarget, PostgresTarget, load_postgres

# The benchmark's pieces, as the smoke test (tests/test_benchmark_planner.py) and benchmarks/overhead.py
# reach them: planner_queries (settings, queries, SQL helpers), planner_naive (a), planner_hand (c),
# planner_data (the DuckDB files), planner_targets (engines), planner_check (one engine, size and
# layout), planner_report (the Markdown); this module runs them.
__all__ = [
    "DAYS",
    "ENGINES",
    "EXTRA_QUERIES",
    "HAND",
    "LAYOUTS",
    "NOW",
    "SIZES",
    "VARIANTS",
    "DuckDBTarget",
    "PostgresTarget",
    "benchmark_queries",
    "canonical",
    "check_target",
    "differences",
    "done_when",
    "duckdb_path",
    "gallery_queries",
    "hand_sql",
    "load_postgres",
    "main",
    "markdown",
    "naive_plan",
    "project_for",
    "run",
    "run_target",
    "summary",
    "write_chunked",
]

# -- the run -------------------------------------------------------------------------------------------


def run(
    sizes: list[str],
    engines: list[str],
    repeat: int,
    timeout: float,
    slow: float,
    only: list[str] | None = None,
    pg_sizes: list[str] | None = None,
    layouts: list[str] | None = None,
    log: Callable[[str], None] = print,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    queries = benchmark_queries()
    if only:
        queries = {k: v for k, v in queries.items() if k in only}
    report: dict[str, Any] = {
        "date": datetime.now().isoformat(timespec="minutes"),
        "now": NOW.isoformat(),
        "days": DAYS,
        "repeat": repeat,
        "timeout_s": timeout,
        "slow_s": slow,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "duckdb": duckdb.__version__,
        },
        "postgres_settings": PG_SETTINGS,
        "segwise_commit": _git_head(),
        "results": [],
    }
    started = time.perf_counter()
    dsn = None
    for size in sizes:
        ensure_duckdb(size, SIZES[size], log)
    for engine in engines:
        for size in sizes:
            if engine == "postgresql" and pg_sizes is not None and size not in pg_sizes:
                continue
            schemas: dict[str, str] = {}
            if engine == "postgresql":
                sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
                from tests.pg import get_server

                if dsn is None:
                    dsn = get_server().dsn
                    import adbc_driver_postgresql.dbapi as pg

                    with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
                        cur.execute("SELECT version()")
                        report["machine"]["postgresql"] = cur.fetch_arrow_table().column(0)[0].as_py()
                schemas = load_postgres(dsn, size, {lay: duckdb_path(size, lay) for lay in LAYOUTS}, log)
            for layout in layouts or LAYOUTS:
                log(f"{engine} {size} {layout}")
                if engine == "duckdb":
                    target: Any = DuckDBTarget(duckdb_path(size, layout), timeout)
                else:
                    target = PostgresTarget(dsn or "", schemas[layout], timeout)
                try:
                    entry = run_target(target, layout, queries, repeat, slow, log)
                finally:
                    target.close()
                entry.update({"engine": engine, "size": size, "layout": layout})
                report["results"].append(entry)
                report["elapsed_s"] = round(time.perf_counter() - started, 1)
                if on_progress:
                    on_progress(report)
            if engine == "postgresql" and dsn is not None:
                import adbc_driver_postgresql.dbapi as pg

                with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
                    for schema in schemas.values():
                        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return report


def _git_head() -> str:
    """The repository's HEAD, with ``+dirty`` when engine/ has uncommitted changes (what was measured)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "engine"], cwd=root, capture_output=True, text=True)
    except OSError:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,10m,50m")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--pg-sizes", default=None, help="sizes to run on PostgreSQL (default: all of --sizes)")
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--queries", default=None, help="comma-separated subset of query names")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per statement before it is cancelled")
    parser.add_argument("--slow", type=float, default=15.0, help="a variant whose first run takes longer is timed once")
    parser.add_argument("--out", type=Path, default=RESULTS / "planner.json")
    parser.add_argument("--report-only", action="store_true", help="re-print the Markdown of an existing --out JSON")
    args = parser.parse_args(argv)

    def split(text: str | None) -> list[str] | None:
        return None if text is None else [t.strip() for t in text.split(",") if t.strip()]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def save(report: dict[str, Any]) -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        partial = args.out.with_suffix(".json.tmp")
        partial.write_text(json.dumps(report, indent=1, default=str) + "\n")
        os.replace(partial, args.out)

    if args.report_only:  # the docs/benchmarks.md tables: the detail table, the ratio matrices, done-when
        report = json.loads(args.out.read_text())
        print(markdown(report, only_detail=True) + "\n\n" + summary(report))
        return
    report = run(
        split(args.sizes) or [],
        split(args.engines) or [],
        args.repeat,
        args.timeout,
        args.slow,
        only=split(args.queries),
        pg_sizes=split(args.pg_sizes),
        layouts=split(args.layouts),
        log=log,
        on_progress=save,
    )
    save(report)
    text = markdown(report) + "\n\n" + summary(report)  # every table of the run
    args.out.with_suffix(".md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
