"""Compile-time benchmark: query -> SQL text, no execution.

The catalog is discovered once (as a long-lived process would); each timed iteration parses
the query dict, resolves the time frame, builds the sqlglot expression and renders SQL.

    python -m benchmarks.compile_time [--iterations 2000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import segwise
from segwise.demo.generate import write_duckdb

QUERIES = {
    "two series + breakdown": {
        "series": [
            {
                "event": "page_view",
                "measure": "unique_users",
                "where": [{"property": "platform", "op": "eq", "value": "web"}],
            },
            {"event": "purchase", "measure": "sum:revenue"},
        ],
        "date_range": {"from": "2025-01-01", "to": "2025-04-01"},
        "time_grain": "week",
        "breakdown": ["country"],
    },
    "two series + breakdown, top 10 + Other": {
        "series": [
            {"event": "page_view", "measure": "unique_users"},
            {"event": "purchase", "measure": "sum:revenue"},
        ],
        "date_range": {"from": "2025-01-01", "to": "2025-04-01"},
        "time_grain": "week",
        "breakdown": ["country"],
        "breakdown_limit": 10,
    },
    "one series, no breakdown": {
        "series": [{"event": "signup", "measure": "unique_users"}],
        "date_range": {"last": "30d"},
        "time_grain": "day",
    },
    "rolling wau by license type": {
        "series": [{"event": "any", "measure": "wau"}],
        "date_range": {"from": "2025-03-01", "to": "2025-06-01"},
        "time_grain": "day",
        "breakdown": ["license_type"],
    },
}


def measure(project: segwise.Project, query: dict, iterations: int) -> dict[str, float]:
    for _ in range(50):  # warm caches (catalog, sqlglot generator)
        project.compile(query, now="2025-06-30")
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        project.compile(query, now="2025-06-30")
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p95_ms": samples[int(len(samples) * 0.95)],
        "min_ms": samples[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        write_duckdb(db, users=200, days=30)
        project = segwise.Project(
            warehouse=f"duckdb:///{db}",
            event_tables=[{"table": "events", "event_name": "event_name"}],
            user_tables=[{"table": "users"}],
        )
        results = {name: measure(project, q, args.iterations) for name, q in QUERIES.items()}
        project.close()
    print(f"{'query':<42} {'median ms':>10} {'p95 ms':>8} {'min ms':>8}")
    for name, r in results.items():
        print(f"{name:<42} {r['median_ms']:>10.3f} {r['p95_ms']:>8.3f} {r['min_ms']:>8.3f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
