"""Behavioural cohorts and categories: segwise vs the best hand-written SQL, same engine, same data.

Two questions on the planner benchmark's data (the demo generator, 365 days; ``--size 10m``:
100,000 users, 10,207,611 events, partitioned layout; ``now`` = the end of the data):

* ``cohort``: weekly active users (last 12 weeks) restricted to users who purchased at least 3
  times in the last 30 days (``segment: {did: {event: purchase, date_range: {last: 30d},
  having: {measure: events, op: gte, value: 3}}}``);
* ``tiers``: the same weekly active users broken down by a 4-tier category (spent >= 100 in the
  last 30 days, >= 3 purchases, >= 1 purchase, else none).

The hand-written SQL reduces the purchases per user once (``GROUP BY user_id HAVING``) and joins
that to the events, with the partition predicates a careful analyst writes. Both answers are
compared (non-zero cells) before any time is reported. Times are medians after one warm-up.

    python -m benchmarks.cohorts [--size 10m] [--repeat 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import segwise
from benchmarks.common import timed
from benchmarks.planner_data import duckdb_path, ensure_duckdb
from benchmarks.planner_queries import NOW, PARTITION

SIZES = {"1m": 10_000, "10m": 100_000}
WINDOW = {"last": "30d"}
PURCHASED_3 = {"event": "purchase", "date_range": WINDOW, "having": {"measure": "events", "op": "gte", "value": 3}}
TIERS = {
    "of": [
        {
            "label": "big spender",
            "segment": {
                "did": {
                    "event": "purchase",
                    "date_range": WINDOW,
                    "having": {"measure": "sum:revenue", "op": "gte", "value": 100},
                }
            },
        },
        {"label": "frequent", "segment": {"did": PURCHASED_3}},
        {"label": "buyer", "segment": {"did": {"event": "purchase", "date_range": WINDOW}}},
    ],
    "else": "none",
}
BASE = {"series": [{"event": "any", "measure": "unique_users"}], "date_range": {"last": "12w"}, "time_grain": "week"}
QUERIES = {"cohort": {**BASE, "segment": {"did": PURCHASED_3}}, "tiers": {**BASE, "breakdown": ["tier"]}}


def hand_sql(name: str) -> str:
    """The best hand-written DuckDB SQL for each question (one reduction, one join)."""
    start, end = NOW - timedelta(weeks=12), NOW
    low = NOW - timedelta(days=30)
    window = (
        f"event_time >= TIMESTAMP '{low}' AND event_time < TIMESTAMP '{end}' "
        f"AND event_date >= DATE '{low.date()}' AND event_date <= DATE '{end.date()}'"
    )
    rows = (
        f"e.event_time >= TIMESTAMP '{start}' AND e.event_time < TIMESTAMP '{end}' "
        f"AND e.event_date >= DATE '{start.date()}' AND e.event_date <= DATE '{end.date()}'"
    )
    if name == "cohort":
        return f"""
            WITH c AS (SELECT user_id FROM events WHERE event_name = 'purchase' AND {window}
                       GROUP BY user_id HAVING count(*) >= 3)
            SELECT date_trunc('week', e.event_time) AS bucket, count(DISTINCT e.user_id) AS value
            FROM events AS e WHERE {rows} AND e.user_id IN (SELECT user_id FROM c)
            GROUP BY 1 ORDER BY 1"""
    return f"""
        WITH t AS (SELECT user_id, CASE WHEN sum(revenue) >= 100 THEN 'big spender'
                                        WHEN count(*) >= 3 THEN 'frequent' ELSE 'buyer' END AS tier
                   FROM events WHERE event_name = 'purchase' AND {window} GROUP BY user_id)
        SELECT date_trunc('week', e.event_time) AS bucket, coalesce(t.tier, 'none') AS tier,
               count(DISTINCT e.user_id) AS value
        FROM events AS e LEFT JOIN t ON t.user_id = e.user_id
        WHERE {rows} AND e.user_id IS NOT NULL
        GROUP BY 1, 2 ORDER BY 1, 2"""


def cells(rows: list[dict[str, Any]], group: str | None) -> dict[tuple[Any, ...], int]:
    out = {}
    for row in rows:
        if row["value"]:
            bucket = row["bucket"].replace(tzinfo=None)
            out[(bucket, row.get(group) if group else None)] = int(row["value"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="10m")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    ensure_duckdb(args.size, SIZES[args.size])
    project = segwise.Project(
        warehouse=f"duckdb:///{duckdb_path(args.size, 'partitioned')}",
        event_tables=[{"table": "events", "event_name": "event_name", "partition": PARTITION}],
        user_tables=[{"table": "users"}],
        categories={"tier": TIERS},
    )
    adapter = project.adapter()  # one connection for both (same engine, same settings)
    figures = []
    for name, query in QUERIES.items():
        group = "tier" if name == "tiers" else None
        ours, table = timed(lambda q=query: segwise.run(q, project, now=NOW), args.repeat)
        sql = hand_sql(name)
        theirs, hand = timed(lambda s=sql: adapter.execute(s), args.repeat)
        assert cells(table.to_pylist(), group) == cells(hand.to_pylist(), group), f"{name}: answers differ"
        plan = segwise.plan(query, project, now=NOW)
        scans = len(plan.cohort.scans) if plan.cohort else 0
        figures.append(
            {"query": name, "segwise_s": ours, "hand_s": theirs, "ratio": ours / theirs, "cohort_scans": scans}
        )
        print(
            f"{name:8} segwise {ours * 1000:8.1f} ms   hand-written {theirs * 1000:8.1f} ms   "
            f"ratio {ours / theirs:5.2f}   cohort scans of events: {scans}"
        )
    project.close()
    if args.json:
        args.json.write_text(json.dumps({"size": args.size, "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
