"""The example gallery on every live engine, from one run: median latency per query and result rows.

The demo data (``segwise.demo.generate.generate_tables``) is loaded into each engine the way the
test suite loads it (``tests/backends.py``: a DuckDB file, a SQLite file, a PostgreSQL schema on
a throwaway local cluster, a chDB MergeTree database partitioned by month and ordered by time,
Parquet files read by a local Spark), with the gallery's project (``examples/segwise.yaml``:
``partition: event_date``). Every ``examples/*.yaml`` query then runs through ``segwise.run``
(compile, execute, shape) once to warm up, compared with DuckDB's answer, and ``--repeat`` times
timed.

    python -m benchmarks.engines                               # the demo: 20,000 users x 180 days
    python -m benchmarks.engines --users 20000 --days 180 --engines duckdb,chdb,spark --repeat 3

Writes JSON (``--out``, default ``benchmarks/results/engines.json``) and prints a Markdown table
(the figures in docs/scaling.md and docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

import segwise
from segwise.demo.gallery import examples_dir
from segwise.demo.generate import DEFAULT_START, generate_tables

ENGINES = ("duckdb", "sqlite", "postgresql", "chdb", "spark")


def _load(engine: str, tables: dict[str, pa.Table], directory: Path) -> str:
    # the suite's loaders; imported here so that the module imports without the test tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.backends import BACKENDS

    folder = directory / engine
    folder.mkdir()
    return BACKENDS[engine].load(tables, folder, "bench")


def _project(url: str) -> segwise.Project:
    spec = segwise.Project.load(examples_dir() / "segwise.yaml").model_dump()
    spec["warehouse"] = url
    return segwise.Project(**spec)


def run(users: int, days: int, repeat: int, engines: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    user_table, events = generate_tables(users=users, days=days)
    tables = {"events": events, "users": user_table}
    now = datetime.combine(DEFAULT_START + timedelta(days=days), datetime.min.time())
    queries = sorted(examples_dir().glob("*.yaml"))
    queries = [q for q in queries if q.name != "segwise.yaml"]
    report: dict[str, Any] = {
        "data": {"users": users, "days": days, "events": events.num_rows, "now": now.isoformat()},
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "repeat": repeat,
        "engines": {},
    }
    reference: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="segwise-engines-") as tmp:
        for engine in engines:
            entry: dict[str, Any] = {"queries": {}}
            report["engines"][engine] = entry
            t0 = time.perf_counter()
            try:
                url = _load(engine, tables, Path(tmp))
            except BaseException as exc:  # pytest.skip from a loader is a BaseException
                entry["error"] = f"{type(exc).__name__}: {exc}"
                print(f"{engine}: not available ({entry['error']})", file=sys.stderr)
                continue
            entry["load_s"] = round(time.perf_counter() - t0, 2)
            project = _project(url)
            try:
                t0 = time.perf_counter()
                project.catalog().event_counts()
                entry["catalog_s"] = round(time.perf_counter() - t0, 3)
                for path in queries:
                    name = path.stem
                    cell: dict[str, Any] = {}
                    entry["queries"][name] = cell
                    try:
                        t0 = time.perf_counter()
                        first = segwise.run(path, project, now=now)
                        cell["first_ms"] = round((time.perf_counter() - t0) * 1000, 1)
                    except segwise.SegwiseError as exc:
                        cell["error"] = str(exc).splitlines()[0]
                        continue
                    rows = first.to_pylist()
                    cell["rows"] = len(rows)
                    if engine == engines[0]:
                        reference[name] = rows
                    elif name in reference:
                        cell["same_as_" + engines[0]] = _same(rows, reference[name])
                    timings = []
                    for _ in range(repeat):
                        t0 = time.perf_counter()
                        segwise.run(path, project, now=now)
                        timings.append((time.perf_counter() - t0) * 1000)
                    cell["median_ms"] = round(statistics.median(timings), 1)
                    print(f"{engine:>10} {name:<36} {cell['median_ms']:>9.1f} ms {len(rows):>6} rows", file=sys.stderr)
            finally:
                project.close()
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    return report


def _same(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want, strict=True):
        for key, value in w.items():
            other = g.get(key)
            if isinstance(value, float) and isinstance(other, float):
                if abs(value - other) > 1e-9 * max(1.0, abs(value)):
                    return False
            elif other != value:
                return False
    return True


def markdown(report: dict[str, Any]) -> str:
    engines = [e for e, entry in report["engines"].items() if "error" not in entry]
    reference = next(iter(report["engines"]))
    names = sorted({q for e in engines for q in report["engines"][e]["queries"]})
    data = report["data"]
    lines = [
        f"{data['events']:,} events, {data['users']:,} users, {data['days']} days; median of {report['repeat']} "
        f"runs after one warm-up, milliseconds, through `segwise.run` (compile + execute + shape).",
        "",
        "| query | rows | " + " | ".join(engines) + " |",
        "|---|---:|" + "---:|" * len(engines),
    ]
    totals = dict.fromkeys(engines, 0.0)
    mismatches = []
    for name in names:
        cells = []
        rows = None
        for engine in engines:
            cell = report["engines"][engine]["queries"].get(name, {})
            if "median_ms" in cell:
                totals[engine] += cell["median_ms"]
                cells.append(f"{cell['median_ms']:,.1f}")
                rows = rows if rows is not None else cell["rows"]
                if cell.get("same_as_" + reference) is False:
                    mismatches.append(f"{name} on {engine}")
            else:
                cells.append("refused" if "error" in cell else "—")
        lines.append(f"| {name} | {rows if rows is not None else '—'} | " + " | ".join(cells) + " |")
    lines.append("| **total** | | " + " | ".join(f"**{totals[e]:,.0f}**" for e in engines) + " |")
    loads = " | ".join(f"{report['engines'][e].get('load_s', 0):.1f} s" for e in engines)
    lines.append(f"| *load (not timed above)* | | {loads} |")
    lines.append("")
    if mismatches:
        lines.append(f"Answers differing from {reference}: {', '.join(mismatches)}.")
    else:
        lines.append(f"Every answer is identical to {reference}'s.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "engines.json")
    args = parser.parse_args(argv)
    report = run(args.users, args.days, args.repeat, [e.strip() for e in args.engines.split(",") if e.strip()])
    report["date"] = date.today().isoformat()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
