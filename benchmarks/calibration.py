"""Calibration on DuckDB and PostgreSQL: fitted coefficients, the plans they choose, and whether
those plans were the faster ones.

The same generated events (``--users``: 10,000 users ~ 1M events) go into a DuckDB file and a
throwaway local PostgreSQL cluster (``tests/pg.py``), both partitioned by ``event_date`` in the
project. ``segwise calibrate`` runs on each; then, for multi-series queries that scan sharing can
serve, the benchmark records the plan each calibration chooses (one shared scan, or one scan per
series) and times both plans on that engine (median of ``--repeat``), answers compared first.

    python -m benchmarks.calibration [--users 10000] [--repeat 3] [--json benchmarks/results/calibration.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import segwise
from benchmarks.common import same, timed
from segwise.calibrate import calibrate
from segwise.demo.generate import generate_tables
from segwise.execute import compile_query

QUERIES: dict[str, dict[str, Any]] = {
    "visitors and page views (same filters)": {
        "series": [{"event": "page_view", "measure": "unique_users"}, {"event": "page_view", "measure": "events"}],
        "date_range": {"from": "2025-01-01", "to": "2025-04-01"},
        "time_grain": "week",
        "breakdown": ["platform"],
    },
    "four events, four measures": {
        "series": [
            {"event": "page_view", "measure": "unique_users"},
            {"event": "payment", "measure": "sum:amount"},
            {"event": "signup", "measure": "events"},
            {"event": "feature_used", "measure": "events_per_user"},
        ],
        "date_range": {"from": "2025-01-01", "to": "2025-04-01"},
        "time_grain": "day",
    },
    "signups vs previous period": {
        "series": [{"event": "signup", "measure": "events"}],
        "date_range": {"from": "2025-03-01", "to": "2025-04-01"},
        "time_grain": "day",
        "compare": "previous_period",
    },
    "rare events, two series": {
        "series": [{"event": "payment", "measure": "events"}, {"event": "signup", "measure": "events"}],
        "date_range": {"from": "2025-01-01", "to": "2025-04-01"},
        "time_grain": "week",
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "calibration.json")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.backends import BACKENDS

    users, events = generate_tables(users=args.users, days=args.days)
    print(f"{events.num_rows:,} events")
    out: dict[str, Any] = {"events": events.num_rows, "engines": {}}
    with tempfile.TemporaryDirectory() as scratch:
        for engine in ("duckdb", "postgresql"):
            folder = Path(scratch) / engine
            folder.mkdir()
            url = BACKENDS[engine].load({"events": events, "users": users}, folder, "calibration")
            spec = {
                "warehouse": url,
                "event_tables": [
                    {
                        "table": "events",
                        "event_name": "event_name",
                        "partition": {"column": "event_date", "granularity": "day", "format": "date"},
                    }
                ],
                "user_tables": [{"table": "users"}],
                "calibration": str(folder / "calibration.json"),
            }
            project = segwise.Project(**spec)
            fitted = calibrate(project, repeat=args.repeat)
            coefficients = fitted["coefficients"]
            print(
                f"{engine}: overhead {coefficients['overhead'] * 1000:.2f} ms, "
                f"{coefficients['scan_row'] * 1e9:.2f} ns/row read, "
                f"{coefficients['agg_row'] * 1e9:.2f} ns/row/aggregate"
            )
            rows = []
            for name, query in QUERIES.items():
                compiled = compile_query(project, query)
                assert compiled.plan is not None
                chosen = "shared" if compiled.plan.shared else "separate"
                shared_s, shared = timed(
                    lambda q=query, p=project: segwise.run(q, p, share_scans="always"), args.repeat
                )
                separate_s, separate = timed(
                    lambda q=query, p=project: segwise.run(q, p, share_scans="never"), args.repeat
                )
                assert same(shared.to_pylist(), separate.to_pylist()), f"{engine} {name}: answers differ"
                faster = "shared" if shared_s < separate_s else "separate"
                rows.append(
                    {
                        "query": name,
                        "chosen": chosen,
                        "shared_s": shared_s,
                        "separate_s": separate_s,
                        "faster": faster,
                        "estimate": [a.__dict__ for a in compiled.plan.alternatives],
                    }
                )
                print(
                    f"  {name:<40} chose {chosen:<8} shared {shared_s:.3f} s  separate {separate_s:.3f} s"
                    f"  -> {'right' if chosen == faster else 'wrong'}"
                )
            out["engines"][engine] = {"coefficients": coefficients, "probes": fitted["probes"], "queries": rows}
            project.close()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
