"""Behavioural cohorts and categories: segwise vs the best hand-written SQL, same engine, same data.

Two questions on the planner benchmark's data (the demo generator, 365 days; ``--size 10m``:
100,000 users, 10,207,611 events, partitioned layout; ``now`` = the end of the data):

* ``cohort``: weekly active users (last 12 weeks) restricted to users who purchased at least 3
  times in the last 30 days (``segment: {did: {event: purchase, date_range: {last: 30d},
  having: {measure: events, op: gte, value: 3}}}``);
* ``tiers``: the same weekly active users broken down by a 4-tier category (spent >= 100 in the
  last 30 days, >= 3 purchases, >= 1 purchase, else none).

Each runs three ways on the same engine, data and connection: **segwise** (``segwise.run``:
compile, execute, shape), **segwise SQL** (the compiled statement alone; where the planner reduced
the events per (week, user) first, also the statement it would send without that reduction,
``segwise_sql_joined``, ``preaggregate="never"``) and **hand**: the fastest
of the hand-written forms (``HAND``) — each reduces the purchases per user once (``GROUP BY user_id
HAVING``, or a ``CASE`` over ``sum(revenue)`` and ``count(*)``) with the partition predicates a
careful analyst writes, then either counts distinct users of the matching events
(``distinct``) or reduces the events to distinct (week, user) pairs first and counts those
(``pairs``; PostgreSQL's ``count(DISTINCT)`` sorts). Every answer is compared (non-zero cells)
with ``segwise.run`` before anything is timed; then ``--repeat`` interleaved rounds (each variant
once per round, in turn); the figures are medians.

    python -m benchmarks.cohorts --size 10m --engines duckdb,postgresql --repeat 5 \\
        [--pg-schema planner_10m_partitioned]   # with SEGWISE_POSTGRES_DSN: an already loaded schema

PostgreSQL runs on ``SEGWISE_POSTGRES_DSN`` (else a throwaway local cluster, ``tests/pg.py``),
in ``--pg-schema`` when given (read only, never dropped), else loaded from the DuckDB file into a
schema of its own (dropped after). Writes JSON (``--out``) and prints the Markdown table of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

import segwise
from benchmarks.analyses import plain_value, time_engines
from benchmarks.planner_data import duckdb_path, ensure_duckdb
from benchmarks.planner_queries import NOW, PARTITION, PG_SETTINGS, RESULTS

SIZES = {"1m": 10_000, "10m": 100_000}
LAYOUT = "partitioned"
VARIANTS = ("segwise", "segwise_sql", "hand")
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

# -- the hand-written SQL (portable DuckDB / PostgreSQL) ----------------------------------------------
#
# {window}: the 30-day window of the purchases (event time and partition column); {rows}: the 12
# weeks of events (whole UTC days: the partition column alone, as for segwise).

_COHORT = "SELECT user_id FROM events WHERE event_name = 'purchase' AND {window} GROUP BY user_id HAVING count(*) >= 3"
_TIERS = (
    "SELECT user_id, CASE WHEN sum(revenue) >= 100 THEN 'big spender' WHEN count(*) >= 3 THEN 'frequent' "
    "ELSE 'buyer' END AS tier FROM events WHERE event_name = 'purchase' AND {window} GROUP BY user_id"
)
_WEEK = "date_trunc('week', CAST(event_date AS TIMESTAMP))"
HAND: dict[str, dict[str, str]] = {
    "cohort": {
        "distinct": (
            f"WITH c AS ({_COHORT}) SELECT {_WEEK} AS bucket, count(DISTINCT user_id) AS value FROM events "
            "WHERE {rows} AND user_id IN (SELECT user_id FROM c) GROUP BY 1"
        ),
        "pairs": (
            f"WITH c AS ({_COHORT}), a AS (SELECT DISTINCT {_WEEK} AS w, user_id FROM events "
            "WHERE {rows} AND user_id IN (SELECT user_id FROM c)) "
            "SELECT w AS bucket, count(*) AS value FROM a GROUP BY 1"
        ),
    },
    "tiers": {
        "distinct": (
            f"WITH t AS ({_TIERS}) SELECT {_WEEK} AS bucket, coalesce(t.tier, 'none') AS tier, "
            "count(DISTINCT e.user_id) AS value FROM events AS e LEFT JOIN t ON t.user_id = e.user_id "
            "WHERE {rows} AND e.user_id IS NOT NULL GROUP BY 1, 2"
        ),
        "pairs": (
            f"WITH t AS ({_TIERS}), a AS (SELECT DISTINCT {_WEEK} AS w, user_id FROM events "
            "WHERE {rows} AND user_id IS NOT NULL) "
            "SELECT a.w AS bucket, coalesce(t.tier, 'none') AS tier, count(*) AS value "
            "FROM a LEFT JOIN t ON t.user_id = a.user_id GROUP BY 1, 2"
        ),
    },
}


def hand_sql(name: str, form: str) -> str:
    start, end, low = NOW - timedelta(weeks=12), NOW, NOW - timedelta(days=30)
    window = (
        f"event_time >= TIMESTAMP '{low}' AND event_time < TIMESTAMP '{end}' "
        f"AND event_date >= DATE '{low.date()}' AND event_date <= DATE '{end.date()}'"
    )
    rows = f"event_date >= DATE '{start.date()}' AND event_date < DATE '{end.date()}'"
    return HAND[name][form].format(window=window, rows=rows)


def cells(table: pa.Table) -> dict[tuple[Any, ...], int]:
    """{(bucket, tier?): users} of the non-zero rows (the series label and fill dropped)."""
    out: dict[tuple[Any, ...], int] = {}
    for row in table.to_pylist():
        if row["value"]:
            groups = tuple(v for k, v in row.items() if k not in ("series", "bucket", "value"))
            out[(plain_value(row["bucket"]), *groups)] = int(row["value"])
    return out


def project_on(url: str) -> segwise.Project:
    table = {"table": "events", "user_id": "user_id", "event_time": "event_time", "event_name": "event_name"}
    return segwise.Project(
        warehouse=url,
        timezone="UTC",
        week_start="monday",
        event_tables=[{**table, "partition": PARTITION}],
        user_tables=[{"table": "users"}],
        categories={"tier": TIERS},
    )


def time_target(target: Any, project: segwise.Project, repeat: int, log: Callable[[str], None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, query in QUERIES.items():
        compiled = project.compile(query, now=NOW)
        runs: dict[str, Callable[[], pa.Table]] = {
            "segwise": lambda q=query: segwise.run(q, project, now=NOW),
            "segwise_sql": lambda s=compiled: target.execute(s),
        }
        # the form without the per-(bucket, user) reduction (rule preaggregate off), when it differs
        joined = segwise.compile_query(project, query, now=NOW, preaggregate="never").sql
        if joined != compiled:
            runs["segwise_sql_joined"] = lambda s=joined: target.execute(s)
        for form in HAND[name]:
            sql = hand_sql(name, form)
            runs[f"hand_{form}"] = lambda s=sql: target.execute(s)
        want = cells(runs["segwise"]())
        assert want, f"{name}: an empty answer checks nothing"
        for variant, fn in runs.items():  # also the warm-up
            assert cells(fn()) == want, f"{target.engine} {name} {variant}: answers differ"
        samples: dict[str, list[float]] = {v: [] for v in runs}
        for _ in range(repeat):
            for variant, fn in runs.items():
                started = time.perf_counter()
                fn()
                samples[variant].append(time.perf_counter() - started)
        medians = {v: statistics.median(s) for v, s in samples.items()}
        best = min((v for v in runs if v.startswith("hand_")), key=lambda v: medians[v])
        medians["hand"] = medians[best]
        plan = segwise.plan(query, project, now=NOW)
        out[name] = {
            "samples_s": samples,
            "median_s": medians,
            "best_hand_form": best.removeprefix("hand_"),
            "ratio": medians["segwise"] / medians["hand"],
            "ratio_sql": medians["segwise_sql"] / medians["hand"],
            "cohort_scans": len(plan.cohort.scans) if plan.cohort else 0,
            "plan": plan.describe(),
        }
        log(f"{target.engine} {name}: " + ", ".join(f"{v} {m:.3f} s" for v, m in medians.items()))
    return out


def run(
    size: str, engines: list[str], repeat: int, pg_schema: str | None = None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    ensure_duckdb(size, SIZES[size])
    path = duckdb_path(size, LAYOUT)
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M", time.gmtime()),
        "size": size,
        "layout": LAYOUT,
        "repeat": repeat,
        "queries": QUERIES,
        "hand_sql": {name: {form: hand_sql(name, form) for form in forms} for name, forms in HAND.items()},
        "machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()},
        "postgres_settings": PG_SETTINGS,
        "results": {},
    }
    return time_engines(
        report,
        engines,
        path,
        f"cohorts_{size}",
        pg_schema,
        log,
        project_on,
        lambda target, project: time_target(target, project, repeat, log),
    )


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| engine | question | segwise.run s | segwise SQL s | best hand s (form) | segwise / hand | SQL / hand "
        "| cohort scans |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for engine, results in report["results"].items():
        for name in QUERIES:
            cell = results[name]
            m = cell["median_s"]
            lines.append(
                f"| {engine} | {name} | {m['segwise']:.3f} | {m['segwise_sql']:.3f} | {m['hand']:.3f} "
                f"({cell['best_hand_form']}) | {cell['ratio']:.2f}x | {cell['ratio_sql']:.2f}x "
                f"| {cell['cohort_scans']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="10m")
    parser.add_argument("--engines", default="duckdb,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-schema", default=None, help="an already loaded schema (with SEGWISE_POSTGRES_DSN)")
    parser.add_argument("--out", type=Path, default=RESULTS / "cohorts.json")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    report = run(args.size, engines, args.repeat, args.pg_schema, log)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
