"""Rollups at scale: build time, size, and every gallery query answered from rollups vs raw events.

The demo generator's data (``--users 100000 --days 365``: 10.2M events) in a DuckDB file of its
own, partitioned by ``event_date``, with three rollups declared the way a team would:

* ``daily_users``  — day x event x user (``users: true``): unique users, rolling users, per-user
  measures and user-property breakdowns;
* ``daily_props``  — day x event x the event properties the gallery filters on, with counts and
  revenue/amount sums (no user ids: much smaller);
* ``hourly``       — hour x event, counts only.

Each gallery query (``examples/*.yaml``) plus rolling wau/mau runs with rollups and with
``rollups=False``; both answers are compared (floats to 1e-9) before any time is reported, and the
planner's choice per series is recorded. ``--now`` is mid-day, so relative ranges also read raw
edges.

    python -m benchmarks.rollups [--users 100000] [--repeat 3] [--json benchmarks/results/rollups.json]
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from pathlib import Path

import segwise
from benchmarks.common import same, timed
from segwise.demo.gallery import examples_dir
from segwise.demo.generate import write_duckdb
from segwise.execute import compile_query
from segwise.query import Query
from segwise.rollup_build import build

DATA = Path(__file__).parent / "data"
ROLLUPS = [
    {"name": "daily_users", "table": "rollups.daily_users", "dimensions": ["event"], "users": True},
    {
        "name": "daily_props",
        "table": "rollups.daily_props",
        "dimensions": ["event", "platform", "campaign", "feature", "plan", "notification_type", "referrer"],
        "measures": ["events", "sum:revenue", "count:revenue", "sum:amount", "count:amount"],
    },
    {"name": "hourly", "table": "rollups.hourly", "grain": "hour", "dimensions": ["event"]},
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "rollups.json")
    args = parser.parse_args()

    DATA.mkdir(exist_ok=True)
    db = DATA / f"rollups-{args.users}-{args.days}.duckdb"
    db.unlink(missing_ok=True)
    info = write_duckdb(db, users=args.users, days=args.days)
    end = date(2025, 1, 1) + timedelta(days=args.days)
    now = f"{end - timedelta(days=1)}T14:30:00"
    spec = {
        "warehouse": f"duckdb:///{db}",
        "event_tables": [
            {
                "table": "events",
                "event_name": "event_name",
                "partition": {"column": "event_date", "granularity": "day", "format": "date"},
            }
        ],
        "user_tables": [{"table": "users"}],
        "rollups": ROLLUPS,
    }
    project = segwise.Project(**spec)
    builds = []
    for rollup in ROLLUPS:
        report = build(project, rollup["name"], now=now)
        builds.append({"name": rollup["name"], "seconds": report.seconds, "rows": report.rows, "chunks": report.chunks})
        print(f"built {rollup['name']}: {report.rows:,} rows in {report.seconds:.1f} s ({report.chunks} chunks)")
    project = segwise.Project(**spec)
    queries = {p.stem: Query.load(p) for p in sorted(examples_dir().glob("*.yaml")) if p.name != "segwise.yaml"}
    start = end - timedelta(days=90)
    for measure in ("wau", "mau"):
        queries[f"rolling_{measure}_90d"] = Query.parse(
            {
                "series": [{"event": "any", "measure": measure}],
                "date_range": {"from": str(start), "to": str(end)},
                "time_grain": "day",
            }
        )
    rows = []
    for name, query in queries.items():
        compiled = compile_query(project, query, now=now)
        used = sorted({d.rsplit(" ", 1)[-1] for d in compiled.decisions if "answered from rollup" in d})
        raw_s, raw = timed(lambda q=query: segwise.run(q, project, now=now, rollups=False), args.repeat)
        roll_s, rolled = timed(lambda q=query: segwise.run(q, project, now=now), args.repeat)
        assert same(rolled.to_pylist(), raw.to_pylist()), f"{name}: rollup and raw answers differ"
        rows.append(
            {
                "query": name,
                "rollups": used,
                "series_from_rollups": sum("answered from rollup" in d for d in compiled.decisions),
                "series": len(compiled.outputs),
                "raw_s": raw_s,
                "rollup_s": roll_s,
                "speedup": raw_s / roll_s,
            }
        )
        print(
            f"{name:<36} {','.join(used) or '-':<26} raw {raw_s:7.3f} s  rollup {roll_s:7.3f} s  {raw_s / roll_s:5.1f}x"
        )
    project.close()
    out = {"events": info.events, "users": info.users, "days": args.days, "now": now, "builds": builds, "queries": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
