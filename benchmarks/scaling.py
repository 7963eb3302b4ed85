"""The same questions at 50M events on DuckDB, chDB, PostgreSQL and Spark (issue 19, item 5).

Data: the planner benchmark's 50m file (``planner-50m-partitioned.duckdb``: the demo generator,
500,000 users x 365 days, ~51.6M events in ``event_time`` order), and what
``benchmarks/scaling_data.py`` made of it for the other engines (month-partitioned Parquet for
Spark, a MergeTree database for chDB, a month-partitioned PostgreSQL schema).

Queries (``queries()``, most valuable first): nine of the gallery's segmentations (``FIRST``), a 4-step ordered
funnel (login -> page_view -> feature_used -> purchase, 30 days, 7-day window), weekly first-time
retention of sign-ups (12 weeks, return any) and weekly lifecycle of ``login`` (12 weeks), then
the gallery's other 14 segmentations, each through ``segwise.run`` (compile, execute, shape) at the
end of the data. ``--queries first`` / ``rest`` runs the first twelve / the other fourteen.

Per engine and query: one run that is the warm-up and gives the answer (``--timeout`` per
statement, ``--analysis-timeout`` for the three analyses, cancelled on the warehouse), ``--repeat``
timed runs (the figure is their median; a query whose first run took ``--repeat-under`` seconds or
more is not repeated and that run is the figure), then
one run of the compiled statement where the engine reports what it read:

* DuckDB: the profiler's rows scanned (``EXPLAIN ANALYZE``'s figures);
* PostgreSQL: ``EXPLAIN (ANALYZE, BUFFERS)``: rows read by the scans, partitions scanned, buffers;
* chDB: rows and bytes read from storage (its result's ``storage_rows_read``), and parts kept by
  the partition key (``EXPLAIN indexes = 1``);
* Spark: each file scan's SQL metrics (directories, files and rows read).

Every engine runs in its own child process (Spark allows one SparkContext per process; chDB one
session directory); ``spark-cluster`` runs on a standalone master and one worker started with the
suite's own helper (``tests/spark_cluster.py``). Answers are compared with the first engine's
before any time is reported: a time whose answer differs is not shown.

    python -m benchmarks.scaling_data --parquet --chdb --postgresql postgresql://...   # once
    python -m benchmarks.scaling --engines duckdb,chdb,postgresql,spark-local,spark-cluster

Writes ``--out`` (default ``benchmarks/results/scaling-50m.json``; engines and queries already in
it and not run again are kept, each engine's runs with ``uptime`` before and after) and prints
the Markdown tables of docs/scaling.md. Run one engine per invocation to keep them apart.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import segwise
from benchmarks.analyses import queries as analysis_queries
from benchmarks.common import same
from benchmarks.funnels import FOUR
from benchmarks.funnels import query as funnel_query
from benchmarks.planner import _git_head
from benchmarks.planner_data import duckdb_path, project_for
from benchmarks.planner_queries import NOW, RESULTS, gallery_queries, lit
from benchmarks.retention import QUERIES as RETENTION_QUERIES
from benchmarks.scaling_data import CHDB_DIR, MONTH_PARTITION, PARQUET, PG_SCHEMA, SIZE

ENGINES = ("duckdb", "chdb", "postgresql", "spark-local", "spark-cluster")
DSN = os.environ.get("SEGWISE_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:55432/postgres")
# The first gallery questions measured: each kind of segmentation once (daily unique users, a
# rolling WAU, an event-property and a user-property breakdown, a sum, counts by a user property
# and by an event property over 26 weeks, totals); the other 14 of the gallery's 23 follow them.
FIRST = (
    "daily_active_users",
    "weekly_active_users",
    "most_engaging_features",
    "users_by_country",
    "activity_per_subscription_type",
    "revenue_over_time",
    "traffic_per_campaign",
    "unique_users_last_30_days",
    "total_signups",
)
ANALYSES = ("funnel_4_steps_30d", "retention_weekly_signups_12w", "lifecycle_weekly_12w")
SPARK_CONFIG = {  # every Spark target; see docs/scaling.md
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
SPARK_LOCAL = {"spark.driver.memory": "3g"}
SPARK_CLUSTER = {  # tests/spark_cluster.py's CLUSTER_CONFIG, with more memory for 50M rows
    "spark.driver.memory": "1g",
    "spark.executor.memory": "2g",
    "spark.executor.cores": "2",
    "spark.cores.max": "2",
}
WORKER_MEMORY = "2g"


def queries() -> dict[str, dict[str, Any]]:
    """Every question, most valuable first: the first nine gallery segmentations, the three analyses,
    then the gallery's other segmentations."""
    gallery = gallery_queries()
    out = {name: gallery[name] for name in FIRST}
    out["funnel_4_steps_30d"] = funnel_query(FOUR, "7d")
    out["retention_weekly_signups_12w"] = RETENTION_QUERIES["weekly first-time sign-ups, 12 weeks"]
    out["lifecycle_weekly_12w"] = analysis_queries()["lifecycle_12w"]
    out.update((name, query) for name, query in gallery.items() if name not in out)
    return out


def selected(spec: str | None) -> list[str]:
    """``--queries``: names, or the groups ``first`` (the nine + the analyses) and ``rest``."""
    names = list(queries())
    if not spec:
        return names
    out: list[str] = []
    for item in (i.strip() for i in spec.split(",") if i.strip()):
        if item == "first":
            out += [*FIRST, *ANALYSES]
        elif item == "rest":
            out += [n for n in names if n not in FIRST and n not in ANALYSES]
        elif item in names:
            out.append(item)
        else:
            raise SystemExit(f"--queries: unknown {item!r}; one of first, rest, {', '.join(names)}")
    return out


# -- engines: a project and what the engine says it read ---------------------------------------------

Reads = Callable[[str], dict[str, Any]]


def open_duckdb(timeout: float) -> tuple[segwise.Project, Reads, Callable[[], None]]:
    from benchmarks.planner_targets import DuckDBTarget

    target = DuckDBTarget(duckdb_path(SIZE, "partitioned"), timeout)

    def reads(sql: str) -> dict[str, Any]:
        totals = target.profile(lambda execute: execute(sql))
        return {"rows_read": totals["rows_scanned"], "peak_memory": totals["peak_memory"]}

    return project_for(target.url, "partitioned"), reads, target.close


def open_postgresql(timeout: float) -> tuple[segwise.Project, Reads, Callable[[], None]]:
    from benchmarks.planner_targets import PostgresTarget, _pg_rows

    target = PostgresTarget(DSN, PG_SCHEMA, timeout)
    partitions = target.scalar(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent "
        f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'events' AND n.nspname = {lit(PG_SCHEMA)}"
    )

    def reads(sql: str) -> dict[str, Any]:
        root = json.loads(target.scalar(f"SELECT bench_explain({lit(sql)})"))[0]["Plan"]
        scanned: set[str] = set()

        def walk(node: dict[str, Any]) -> None:
            if node.get("Relation Name", "").startswith("events_") and node.get("Actual Loops", 0) > 0:
                scanned.add(node["Relation Name"])
            for child in node.get("Plans", []):
                walk(child)

        walk(root)
        blocks = root.get("Shared Hit Blocks", 0) + root.get("Shared Read Blocks", 0)
        return {
            "rows_read": int(_pg_rows(root)),
            "partitions_read": len(scanned),
            "partitions": partitions,
            "buffers_mb": round(blocks * 8192 / 2**20),
            "temp_mb": round((root.get("Temp Read Blocks", 0) + root.get("Temp Written Blocks", 0)) * 8192 / 2**20),
        }

    return project_for(target.url, "partitioned"), reads, target.close


def open_chdb(timeout: float) -> tuple[segwise.Project, Reads, Callable[[], None]]:
    import chdb.session

    from segwise.adapters.clickhouse import with_max_execution_time

    url = f"chdb:///{CHDB_DIR.resolve()}?database=scale50"
    project = project_for(url, "unpartitioned")  # MergeTree prunes on event_time itself
    adapter: Any = project.adapter()
    raw = chdb.session.Session(str(CHDB_DIR.resolve()))  # the same embedded server: result statistics
    raw.query("USE scale50")

    def reads(sql: str) -> dict[str, Any]:
        result = raw.query(with_max_execution_time(sql, timeout), "Arrow")
        # the events' indexes, in order: Min-Max and Partition (the partition key), PrimaryKey
        indexes = [i for i in adapter.index_usage(sql) if "event_" in json.dumps(i.get("Keys"))]

        def total(kind: str, figure: str) -> int:
            return sum(int(i.get(figure, 0)) for i in indexes if i.get("Type") == kind)

        return {
            "rows_read": int(result.storage_rows_read()),
            "mb_read": round(result.storage_bytes_read() / 2**20),
            "parts": total("Min-Max", "Initial Parts"),
            "parts_read": total("Partition", "Selected Parts"),
            "granules": total("PrimaryKey", "Initial Granules"),
            "granules_read": total("PrimaryKey", "Selected Granules"),
        }

    return project, reads, raw.close


def spark_url(master: str, config: dict[str, str]) -> str:
    views = {"events": PARQUET / "events", "users": PARQUET / "users"}
    params = [f"parquet.{name}={quote(str(path.resolve()), safe='/')}" for name, path in views.items()]
    params += [f"{key}={quote(value, safe='')}" for key, value in {**SPARK_CONFIG, **config}.items()]
    return f"spark://{master.removeprefix('spark://')}?" + "&".join(params)


def open_spark(master: str) -> tuple[segwise.Project, Reads, Callable[[], None]]:
    config = SPARK_LOCAL if master.startswith("local") else SPARK_CLUSTER
    if not master.startswith("local"):
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.spark_cluster import CLUSTER_CONFIG

        config = {**CLUSTER_CONFIG, **config}
    project = project_for(spark_url(master, config), "partitioned", MONTH_PARTITION)
    adapter: Any = project.adapter()

    def reads(sql: str) -> dict[str, Any]:
        # the events' scans: the partitioned table (the users' scan has no numPartitions)
        scans = [metrics for _, metrics in adapter.scan_metrics(sql) if "numPartitions" in metrics]
        return {
            "rows_read": sum(m.get("numOutputRows", 0) for m in scans),
            "partitions_read": sum(m.get("numPartitions", 0) for m in scans),
            "files_read": sum(m.get("numFiles", 0) for m in scans),
            "scans": len(scans),
        }

    return project, reads, lambda: None


# -- one engine (a child process) --------------------------------------------------------------------


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as JSON values (dates and timestamps as ISO text), the form answers are compared in."""
    return list(json.loads(json.dumps(rows, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))))


def run_engine(args: argparse.Namespace, only: list[str], save: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """The ``only`` queries on ``args.child``; ``save`` gets the entry after each query (a run stopped
    halfway keeps what it measured). A query whose first run took ``--repeat-under`` seconds or more
    is not repeated: its figure is that one run (``single``)."""
    engine, master, log = args.child, args.master, _log
    timeout = args.timeout
    started = time.perf_counter()
    longest = max(timeout, args.analysis_timeout)  # for the reads' runs
    if engine == "duckdb":
        project, reads, close = open_duckdb(longest)
    elif engine == "postgresql":
        project, reads, close = open_postgresql(longest)
    elif engine == "chdb":
        project, reads, close = open_chdb(longest)
    else:
        project, reads, close = open_spark(master or "local[2]")
    entry: dict[str, Any] = {"url": project.warehouse.split("?")[0], "queries": {}, "answers": {}}
    try:
        project.catalog().event_counts()
        entry["open_s"] = round(time.perf_counter() - started, 1)
        every = queries()
        for name in only:
            query = every[name]
            limit = args.analysis_timeout if name in ANALYSES else timeout
            cell: dict[str, Any] = {"timeout_s": limit, "started": datetime.now().isoformat(timespec="seconds")}
            entry["queries"][name] = cell
            try:
                t0 = time.perf_counter()
                answer = segwise.run(query, project, now=NOW, timeout=limit)
                first = time.perf_counter() - t0
                cell["first_s"] = round(first, 3)
                samples: list[float] = []
                for _ in range(args.repeat if first < args.repeat_under else 0):
                    t0 = time.perf_counter()
                    segwise.run(query, project, now=NOW, timeout=limit)
                    samples.append(time.perf_counter() - t0)
            except segwise.SegwiseError as exc:
                cell["error"] = str(exc).splitlines()[0]
                log(f"{engine} {name}: {cell['error']}")
                save(entry)
                continue
            if not samples:  # slow: the first run is the figure
                samples, cell["single"] = [first], True
            cell["samples_s"] = [round(s, 3) for s in samples]
            cell["median_s"] = round(statistics.median(samples), 3)
            cell["rows"] = answer.num_rows
            entry["answers"][name] = _plain(answer.to_pylist())
            if args.reads_under is not None and first >= args.reads_under:
                cell["reads_error"] = f"not measured: the query took {first:.0f} s (--reads-under {args.reads_under:g})"
            else:
                cell.update(_measure_reads(reads, project.compile(query, now=NOW)))
            log(f"{engine} {name}: {cell['median_s']:.2f} s, {cell['rows']} rows, {cell.get('reads')}")
            save(entry)
    finally:
        project.close()
        close()
    entry["elapsed_s"] = round(time.perf_counter() - started, 1)
    return entry


def _measure_reads(reads: Reads, sql: str) -> dict[str, Any]:
    try:
        return {"reads": reads(sql)}
    except Exception as exc:  # what the engine read is a report; its absence is noted, not fatal
        return {"reads_error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def _log(message: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {message}", file=sys.stderr, flush=True)


# -- the run: each engine in a child process ---------------------------------------------------------


def run_child(engine: str, args: argparse.Namespace, master: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="scale50-") as tmp:
        part = Path(tmp) / "part.json"
        command = [sys.executable, "-m", "benchmarks.scaling", "--child", engine, "--part", str(part)]
        command += ["--repeat", str(args.repeat), "--timeout", str(args.timeout)]
        command += ["--analysis-timeout", str(args.analysis_timeout), "--repeat-under", str(args.repeat_under)]
        command += ["--reads-under", str(args.reads_under)] if args.reads_under is not None else []
        command += ["--queries", args.queries] if args.queries else []
        command += ["--master", master] if master else []
        load, uptime = os.getloadavg(), _uptime()
        _log(f"{engine}: uptime before: {uptime}")
        t0 = time.perf_counter()
        done = subprocess.run(command, cwd=Path(__file__).resolve().parents[1], check=False)
        if not part.exists():
            return {"error": f"the child process ended with {done.returncode}", "load_before": load}
        entry: dict[str, Any] = json.loads(part.read_text())
        if done.returncode != 0:  # stopped halfway: what it measured until then
            entry["incomplete"] = f"the child process ended with {done.returncode}"
    entry.update(load_before=load, load_after=os.getloadavg(), wall_s=round(time.perf_counter() - t0, 1))
    entry.update(uptime_before=uptime, uptime_after=_uptime(), queries_run=list(entry["queries"]))
    _log(f"{engine}: uptime after: {entry['uptime_after']}")
    return entry


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {"engines": {}}
    report.update(
        date=datetime.now().isoformat(timespec="minutes"),
        segwise_commit=_git_head(),
        now=NOW.isoformat(),
        repeat=args.repeat,
        repeat_under_s=args.repeat_under,
        timeout_s=args.timeout,
        analysis_timeout_s=args.analysis_timeout,
        queries=queries(),
        machine={"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        configuration={"spark": SPARK_CONFIG, "spark-local": SPARK_LOCAL, "spark-cluster": SPARK_CLUSTER},
    )
    answers_file = _answers_file(args.out)
    answers: dict[str, Any] = json.loads(answers_file.read_text()) if answers_file.exists() else {}
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        _log(f"{engine}: starting")
        if engine == "spark-cluster":
            entry = _on_cluster(functools.partial(run_child, engine, args))
        else:
            entry = run_child(engine, args, "local[2]" if engine == "spark-local" else None)
        # one engine's runs add up: this run's queries replace the same queries of earlier runs
        answers.setdefault(engine, {}).update(entry.pop("answers", {}))
        previous = report["engines"].get(engine, {})
        entry["queries"] = {**previous.get("queries", {}), **entry.get("queries", {})}
        entry["runs"] = [*previous.get("runs", []), {k: v for k, v in entry.items() if k not in ("queries", "runs")}]
        report["engines"][engine] = entry
        answers_file.write_text(json.dumps(answers, indent=0) + "\n")
        args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    compare(report, answers)
    args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return report


def _answers_file(out: Path) -> Path:
    return out.with_name(out.stem + "-answers.json")


def _on_cluster(work: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """A master and one worker (2 cores, ``WORKER_MEMORY``) for ``work(master_url)``, then stopped."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.spark_cluster import Cluster

    with tempfile.TemporaryDirectory(prefix="scale50-cluster-") as tmp:
        cluster = Cluster(Path(tmp), worker_memory=WORKER_MEMORY)
        t0 = time.perf_counter()
        cluster.start()
        started = round(time.perf_counter() - t0, 1)
        try:
            entry = work(cluster.url)
        finally:
            cluster.stop()
    entry["cluster_start_s"] = started
    return entry


def compare(report: dict[str, Any], answers: dict[str, Any]) -> None:
    """``same_as`` per engine and query: the answer equals the reference engine's (first in ENGINES
    order that has one); a difference keeps its first rows."""
    for name in queries():
        holders = [e for e in ENGINES if name in answers.get(e, {})]
        if not holders:
            continue
        reference = answers[holders[0]][name]
        for engine in holders:
            cell = report["engines"][engine]["queries"][name]
            cell["same_as"] = holders[0]
            cell["same"] = same(answers[engine][name], reference)
            if not cell["same"]:
                cell["first_difference"] = next(
                    (
                        [got, want]
                        for got, want in zip(answers[engine][name], reference, strict=False)
                        if not same([got], [want])
                    ),
                    [len(answers[engine][name]), len(reference)],
                )


# -- the report --------------------------------------------------------------------------------------


def _reads(engine: str, reads: dict[str, Any] | None) -> str:
    if not reads:
        return "—"
    rows = f"{reads['rows_read'] / 1e6:.1f}M"
    if engine == "postgresql":
        return f"{rows}, {reads['partitions_read']}/{reads['partitions']} part."
    if engine == "chdb":
        return f"{rows}, {reads['parts_read']}/{reads['parts']} parts"
    if engine.startswith("spark"):
        return f"{rows}, {reads['partitions_read']} dirs"
    return rows


def markdown(report: dict[str, Any]) -> str:
    """The times table (a figure marked * is one run, not a median: its first run took
    ``--repeat-under`` seconds or more; the total covers the queries every engine answered) and
    the reads table."""
    engines = [e for e in ENGINES if e in report["engines"] and "error" not in report["engines"][e]]
    header = "| query | rows | " + " | ".join(engines) + " |"
    rule = "|---|---:|" + "---:|" * len(engines)
    times, reads = [header, rule], [header.replace("| rows ", ""), rule.replace("---:|", "", 1)]
    totals = dict.fromkeys(engines, 0.0)
    for name in report["queries"]:
        cells, read_cells, rows = [], [], "—"
        timed = {e: report["engines"][e]["queries"].get(name, {}) for e in engines}
        everywhere = all("median_s" in c and c.get("same") for c in timed.values())
        for engine, cell in timed.items():
            if "median_s" in cell and cell.get("same"):
                totals[engine] += cell["median_s"] if everywhere else 0.0
                cells.append(f"{cell['median_s']:,.2f}" + ("*" if cell.get("single") else ""))
                rows = str(cell["rows"])
            elif "median_s" in cell:
                cells.append("differs")
            else:
                cells.append("timeout" if "timed out" in cell.get("error", "") else cell.get("error", "—")[:40])
            read_cells.append(_reads(engine, cell.get("reads")))
        times.append(f"| {name} | {rows} | " + " | ".join(cells) + " |")
        reads.append(f"| {name} | " + " | ".join(read_cells) + " |")
    times.append("| **total** | | " + " | ".join(f"**{totals[e]:,.1f}**" for e in engines) + " |")
    loads = " | ".join(
        "; ".join(f"{r['load_before'][0]:.0f} / {r['load_after'][0]:.0f}" for r in report["engines"][e].get("runs", []))
        or "{:.0f} / {:.0f}".format(report["engines"][e]["load_before"][0], report["engines"][e]["load_after"][0])
        for e in engines
    )
    times.append(f"| *load average before / after (each run)* | | {loads} |")
    return "\n".join(times) + "\n\n" + "\n".join(reads)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--queries", default=None, help="comma-separated names, or the groups first and rest")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per statement before it is cancelled")
    parser.add_argument(
        "--analysis-timeout", type=float, default=900.0, help="--timeout of the funnel, retention, lifecycle"
    )
    parser.add_argument(
        "--repeat-under", type=float, default=60.0, help="repeat only queries whose first run was faster"
    )
    parser.add_argument("--reads-under", type=float, default=None, help="measure reads only below these seconds")
    parser.add_argument("--out", type=Path, default=RESULTS / "scaling-50m.json")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--merge", type=Path, nargs="*", help="other runs' JSON to fold into --out")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--part", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--master", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        only = selected(args.queries)

        def save(entry: dict[str, Any]) -> None:
            args.part.with_suffix(".tmp").write_text(json.dumps(entry, default=str) + "\n")
            os.replace(args.part.with_suffix(".tmp"), args.part)

        save(run_engine(args, only, save))
        return
    if args.merge or args.report_only:  # fold other runs (their JSON and answers) into --out, compare again
        report = json.loads(args.out.read_text())
        answers = json.loads(_answers_file(args.out).read_text())
        for other in args.merge or []:
            report["engines"].update(json.loads(other.read_text())["engines"])
            answers.update(json.loads(_answers_file(other).read_text()))
        compare(report, answers)
        _answers_file(args.out).write_text(json.dumps(answers, indent=0) + "\n")
        args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    else:
        report = run(args)
    print(markdown(report))


if __name__ == "__main__":
    main()
