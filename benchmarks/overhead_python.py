"""The Python path of ``segwise.run()`` alone: the statement answered from memory (issue #13's overhead).

``benchmarks/overhead.py`` measures run() against its own SQL end to end, where a statement of 20-130 ms
and its run-to-run spread blur differences of a tenth of a millisecond, more so on a shared machine.
Here each query's raw answer is fetched once, then the adapter's ``execute_statement`` returns it
from memory, and ``run()`` is timed alone — everything segwise does around the statement (parse,
compiled-query cache, guard, hooks, the cancellable path, shaping), nothing of the warehouse's:

* **evicted** — before each timed run a 48 MB buffer is written, as a statement over millions of rows
  does: the CPU caches (2 MB L2 per core here) hold none of segwise's data and little of its code,
  which is how run() finds them after a real statement (shaping measured 2-3x slower right after
  one than in a loop, docs/benchmarks.md);
* **hot** — run after run, caches warm.

Medians of ``--repeat`` runs per query; ``--against-rev REV`` runs REV's package and the working
tree's alternately in fresh processes (``--rounds`` each), as ``benchmarks/overhead.py`` does.

    python -m benchmarks.overhead_python --size 1m --repeat 200 --against-rev b7895ff --rounds 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import numpy as np

import segwise
from benchmarks.overhead import alternate, chosen, ensure_data, options, report_to
from benchmarks.planner import NOW, project_for

EVICT_BYTES = 48 * 2**20


def measure(project: segwise.Project, query: dict[str, Any], repeat: int, buffer: np.ndarray) -> dict[str, float]:
    adapter = project.adapter()
    segwise.run(query, project, now=NOW)  # the catalog, the compiled-query cache
    answers: dict[str, Any] = {}
    original = adapter.execute_statement

    def from_memory(sql: str, statement: Any) -> Any:
        if sql not in answers:
            answers[sql] = original(sql, statement)
        return answers[sql]

    adapter.execute_statement = from_memory  # this instance only
    try:
        for _ in range(3):
            segwise.run(query, project, now=NOW)
        out = {}
        for mode in ("evicted", "hot"):
            samples = []
            for _ in range(repeat):
                if mode == "evicted":
                    buffer += 1
                started = time.perf_counter()
                segwise.run(query, project, now=NOW)
                samples.append(time.perf_counter() - started)
            out[f"{mode}_ms"] = statistics.median(samples) * 1000
    finally:
        del adapter.execute_statement
    return out


def run_here(args: argparse.Namespace) -> dict[str, Any]:
    path = ensure_data(args.size)
    queries = chosen(args.queries)
    buffer = np.zeros(EVICT_BYTES // 8)
    project = project_for(f"duckdb:///{path.resolve()}", "partitioned")
    load = list(os.getloadavg())
    try:
        results = {name: measure(project, queries[name], args.repeat, buffer) for name in queries}
    finally:
        project.close()
    return {"size": args.size, "load": [round(x, 2) for x in (*load, *os.getloadavg())], "queries": results}


def compare(args: argparse.Namespace) -> dict[str, Any]:
    runs = alternate("benchmarks.overhead_python", args)
    report: dict[str, Any] = {"size": args.size, "against": args.against_rev, "rounds": args.rounds, "queries": {}}
    report["load"] = {side: [r["load"] for r in runs[side]] for side in runs}
    for name in runs["new"][0]["queries"]:
        report["queries"][name] = {
            side: {
                key: statistics.median(r["queries"][name][key] for r in runs[side]) for key in ("evicted_ms", "hot_ms")
            }
            for side in runs
        }
    return report


def markdown(report: dict[str, Any]) -> str:
    if "against" not in report:
        lines = ["| query | evicted | hot |", "|---|---:|---:|"]
        lines += [f"| {n} | {r['evicted_ms']:.3f} | {r['hot_ms']:.3f} |" for n, r in report["queries"].items()]
        return "\n".join(lines)
    lines = [
        "| query | evicted old | evicted new | new/old | hot old | hot new | new/old |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in report["queries"].items():
        old, new = row["old"], row["new"]
        lines.append(
            f"| {name} | {old['evicted_ms']:.3f} | {new['evicted_ms']:.3f} "
            f"| {new['evicted_ms'] / old['evicted_ms']:.2f} "
            f"| {old['hot_ms']:.3f} | {new['hot_ms']:.3f} | {new['hot_ms'] / old['hot_ms']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__.splitlines()[0], size="1m", repeat=200, rounds=2).parse_args(argv)
    report = compare(args) if args.against_rev else run_here(args)
    report_to(args, report, markdown(report))
    print(f"load averages (1/5/15 min, before and after each process): {report['load']}")


if __name__ == "__main__":
    main()
