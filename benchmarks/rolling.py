"""Rolling active users: segwise's plan vs the naive date-spine join, same engine, same data.

segwise reduces events to distinct (user, day) pairs in the warehouse first, then rolls them over a
small bucket table. The naive plan joins every raw event to every day of the spine whose window
contains it (N matches per event for an N-day window) and counts distinct users per day.

    python -m benchmarks.rolling [--users 75000 --days 365] [--repeat 3] [--json out.json]

Both answers are compared row by row before any time is reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import duckdb

import segwise
from segwise.demo.generate import write_duckdb

DATA = Path(__file__).parent / "data"


def naive_sql(window: int, start: date, end: date) -> str:
    """A straightforward generator's SQL: raw events x date spine, then COUNT(DISTINCT)."""
    return f"""
        WITH spine AS (
          SELECT CAST(d AS TIMESTAMP) AS day
          FROM range(TIMESTAMP '{start}', TIMESTAMP '{end}', INTERVAL 1 DAY) AS t(d)
        )
        SELECT spine.day AS bucket, COUNT(DISTINCT e.user_id) AS value
        FROM spine JOIN events AS e
          ON e.event_time >= spine.day - INTERVAL {window - 1} DAY
         AND e.event_time < spine.day + INTERVAL 1 DAY
        GROUP BY spine.day ORDER BY spine.day"""


def timed(run, repeat: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = run()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=75_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--range-days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    DATA.mkdir(exist_ok=True)
    db = DATA / f"rolling-{args.users}-{args.days}.duckdb"
    if not db.exists():
        info = write_duckdb(db, users=args.users, days=args.days)
        print(f"generated {info.events:,} events into {db}")
    end = date(2025, 1, 1) + timedelta(days=args.days)
    start = end - timedelta(days=args.range_days)
    project = segwise.Project(
        warehouse=f"duckdb:///{db}", event_tables=[{"table": "events", "event_name": "event_name"}]
    )
    adapter = project.adapter()  # one connection for both plans (same engine, same settings)
    events = adapter.execute("SELECT count(*) AS n FROM events").column(0)[0].as_py()
    rows = []
    for measure, window in (("wau", 7), ("mau", 30)):
        query = {
            "series": [{"event": "any", "measure": measure}],
            "time_grain": "day",
            "date_range": {"from": str(start), "to": str(end)},
        }
        seg_time, table = timed(partial(segwise.run, query, project), args.repeat)
        naive_time, naive = timed(partial(adapter.execute, naive_sql(window, start, end)), args.repeat)
        ours = [(r["bucket"].replace(tzinfo=None), r["value"]) for r in table.to_pylist()]
        theirs = list(zip(naive.column("bucket").to_pylist(), naive.column("value").to_pylist(), strict=True))
        assert ours == theirs, f"{measure}: answers differ"
        rows.append(
            {
                "measure": measure,
                "window_days": window,
                "events": events,
                "buckets": len(ours),
                "segwise_s": seg_time,
                "naive_s": naive_time,
                "speedup": naive_time / seg_time,
            }
        )
    project.close()
    print(f"{events:,} events, DuckDB {duckdb.__version__}, {args.range_days} daily buckets, median of {args.repeat}")
    print(f"{'measure':<8} {'segwise s':>10} {'naive s':>10} {'speedup':>8}")
    for r in rows:
        print(f"{r['measure']:<8} {r['segwise_s']:>10.3f} {r['naive_s']:>10.3f} {r['speedup']:>7.1f}x")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
