"""Retention: segwise's statement vs the best hand-written SQL and the cohort x period cross join
peers use, same engine, same data (the demo generator, ~10M events: 100,000 users x 365 days).

Queries (now = the end of the data):

* weekly first-time retention of sign-ups over 12 weeks, ``return: any`` (range: the last 12 weeks);
* daily recurring retention of purchases over 30 days (range: the last 30 days);
* each with and without a breakdown by ``country`` (a user property);
* the weekly one by ``platform``, a property of the start event (each user's first sign-up's).

``segwise`` is ``segwise.run`` end to end (compile, execute, shape: zero fill, summary rows);
``hand`` is one hand-written statement (per-user distinct buckets, a self-join on the user within
the horizon; no fill, no summary); ``cross`` is the peers' form: every cohort member x every period
0..P joined with the raw events in that period's window, ``COUNT(DISTINCT)``. Before timing, the
non-zero (cohort, group, period) counts of all three are compared.

    python -m benchmarks.retention [--users 100000] [--engines duckdb,postgresql] [--repeat 3] [--json F]

``--guard-limit``: instead, segwise with the row guard's ``LIMIT 1000001`` forced vs as it sends
the statement now (without it where the plan bounds the answer's rows) vs the hand-written SQL,
interleaved, as ratios (the cross join is not run).

The data is generated into ``benchmarks/data`` and loaded into a throwaway PostgreSQL, or taken as
it is: ``--duckdb FILE`` an existing DuckDB file of the planner benchmark's data (opened read-only),
``--pg-schema S`` a schema holding it on the server ``--pg-dsn`` (default ``SEGWISE_POSTGRES_DSN``),
as ``benchmarks.planner_targets.load_postgres`` loads it (partitioned by ``event_date``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

import segwise
from benchmarks.common import timed, timed_together
from benchmarks.planner_data import write_chunked
from segwise import dispatch
from segwise.demo.generate import DEFAULT_START

DATA = Path(__file__).parent / "data"
DAYS = 365
NOW = datetime.combine(DEFAULT_START + timedelta(days=DAYS), datetime.min.time())
WEEKLY_START = NOW - timedelta(weeks=12)
DAILY_START = NOW - timedelta(days=30)

QUERIES: dict[str, dict[str, Any]] = {
    "weekly first-time sign-ups, 12 weeks": {
        "retention": {"start": "signup", "return": "any", "periods": 12},
        "date_range": {"from": WEEKLY_START.date(), "to": NOW.date()},
        "time_grain": "week",
    },
    "daily recurring purchases, 30 days": {
        "retention": {"start": "purchase", "start_mode": "recurring", "periods": 30},
        "date_range": {"from": DAILY_START.date(), "to": NOW.date()},
        "time_grain": "day",
    },
}


def _ts(value: datetime) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


BREAKDOWNS: dict[str, list[tuple[str | None, str]]] = {  # query -> (breakdown, its label)
    "weekly first-time sign-ups, 12 weeks": [(None, ""), ("country", " by country"), ("platform", " by platform")],
    "daily recurring purchases, 30 days": [(None, ""), ("country", " by country")],
}


def _group(by: str | None, alias: str) -> tuple[str, str, str]:
    """(the users join, the group column, its GROUP BY item) for a breakdown by country (a user
    property) or platform (the start event's, a column ``p`` of the cohorts)."""
    if by is None:
        return "", "'' AS g", ""
    if by == "platform":
        return "", f"{alias}.p AS g", ", g"
    return f"LEFT JOIN users AS u ON u.user_id = {alias}.user_id", "u.country AS g", ", g"


def _first_signups(engine: str, by: str | None) -> str:
    """Each user's first sign-up (and, by platform, its platform: ties to the smallest)."""
    if by != "platform":
        return f"""SELECT user_id, MIN(event_time) AS t0 FROM events
                   WHERE event_name = 'signup' AND event_time < {_ts(NOW)} GROUP BY user_id"""
    if engine == "postgresql":
        return f"""SELECT DISTINCT ON (user_id) user_id, event_time AS t0, platform AS p FROM events
                   WHERE event_name = 'signup' AND event_time < {_ts(NOW)} ORDER BY user_id, event_time, platform"""
    return f"""SELECT user_id, MIN(event_time) AS t0, arg_min(platform, (event_time, platform)) AS p FROM events
               WHERE event_name = 'signup' AND event_time < {_ts(NOW)} GROUP BY user_id"""


def hand_sql(name: str, by: str | None, engine: str) -> str:
    """The best statement we could write by hand for ``name``: per-user distinct buckets, a
    self-join on the user within the horizon."""
    join, group, group_by = _group(by, "c")
    if name.startswith("weekly"):
        diff = (
            "(CAST(r.b AS DATE) - CAST(c.b AS DATE)) / 7"
            if engine == "postgresql"
            else "date_diff('day', c.b, r.b) // 7"
        )
        carried = ", p" if by == "platform" else ""
        return f"""
        WITH f AS ({_first_signups(engine, by)}),
        c AS (SELECT user_id, date_trunc('week', t0) AS b{carried} FROM f
              WHERE t0 >= {_ts(WEEKLY_START)} AND t0 < {_ts(NOW)}),
        r AS (SELECT DISTINCT user_id, date_trunc('week', event_time) AS b FROM events
              WHERE event_time >= {_ts(WEEKLY_START)} AND event_time < {_ts(NOW)})
        SELECT c.b AS cohort, {group}, {diff} AS period, COUNT(*) AS n
        FROM c JOIN r ON r.user_id = c.user_id AND r.b >= c.b AND r.b <= c.b + INTERVAL '84 days' {join}
        GROUP BY c.b, period{group_by}"""
    diff = "(CAST(r.b AS DATE) - CAST(c.b AS DATE))" if engine == "postgresql" else "date_diff('day', c.b, r.b)"
    return f"""
        WITH d AS (SELECT DISTINCT user_id, date_trunc('day', event_time) AS b FROM events
                   WHERE event_name = 'purchase' AND event_time >= {_ts(DAILY_START)} AND event_time < {_ts(NOW)})
        SELECT c.b AS cohort, {group}, {diff} AS period, COUNT(*) AS n
        FROM d AS c JOIN d AS r ON r.user_id = c.user_id AND r.b >= c.b AND r.b <= c.b + INTERVAL '30 days' {join}
        GROUP BY c.b, period{group_by}"""


def cross_sql(name: str, by: str | None, engine: str) -> str:
    """The peers' form: cohort members x periods 0..P, each joined with the raw events of its window."""
    join, group, group_by = _group(by, "c")
    series = "generate_series(0, {p}) AS p(k)" if engine == "postgresql" else "range(0, {p} + 1) AS p(k)"
    if name.startswith("weekly"):
        step, periods = "INTERVAL '7 days'", 12
        carried = ", p" if by == "platform" else ""
        cohorts = f"""SELECT user_id, date_trunc('week', t0) AS b{carried} FROM ({_first_signups(engine, by)}) AS f
                      WHERE t0 >= {_ts(WEEKLY_START)}"""
        returning = ""
    else:
        step, periods = "INTERVAL '1 day'", 30
        cohorts = f"""SELECT DISTINCT user_id, date_trunc('day', event_time) AS b FROM events
                      WHERE event_name = 'purchase' AND event_time >= {_ts(DAILY_START)} AND event_time < {_ts(NOW)}"""
        returning = "AND e.event_name = 'purchase'"
    return f"""
        WITH c AS ({cohorts})
        SELECT c.b AS cohort, {group}, p.k AS period, COUNT(DISTINCT c.user_id) AS n
        FROM c CROSS JOIN {series.format(p=periods)}
        JOIN events AS e ON e.user_id = c.user_id {returning}
          AND e.event_time >= c.b + p.k * {step} AND e.event_time < c.b + (p.k + 1) * {step}
          AND e.event_time < {_ts(NOW)} {join}
        GROUP BY c.b, p.k{group_by}"""


def _cells(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(str(r["cohort"])[:19], r.get("g") or "", int(r["period"]), int(r["n"])) for r in rows if int(r["n"])}


def _segwise_cells(table: Any, by: str | None) -> set[tuple[Any, ...]]:
    return {
        (str(r["cohort"].replace(tzinfo=None))[:19], (r.get(by) or "") if by else "", r["period"], r["count"])
        for r in table.to_pylist()
        if r["cohort"] is not None and r["count"]
    }


def connect(engine: str, source: Path, directory: Path, pg_schema: str | None = None) -> segwise.Project:
    if engine == "postgresql" and pg_schema is not None:  # the shared server's copy (partitioned by day)
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from benchmarks.planner_data import project_for
        from benchmarks.planner_queries import PG_SETTINGS
        from tests.backends import with_search_path

        dsn = os.environ.get("SEGWISE_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:55432/postgres")
        options = "".join(f"%20-c%20{k}%3D{v}" for k, v in PG_SETTINGS.items())
        return project_for(with_search_path(dsn, pg_schema) + options, "partitioned")
    if engine == "duckdb":
        url = f"duckdb:///{source}"
    else:  # the suite's PostgreSQL loader: a throwaway local cluster
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.backends import BACKENDS

        con = duckdb.connect(str(source), read_only=True)
        try:
            tables = {
                "events": con.sql("SELECT user_id, event_time, event_name FROM events").to_arrow_table(),
                "users": con.sql("SELECT user_id, country FROM users").to_arrow_table(),
            }
        finally:
            con.close()
        url = BACKENDS[engine].load(tables, directory, "retention")
    return segwise.Project(
        warehouse=url,
        event_tables=[{"table": "events", "event_name": "event_name"}],
        user_tables=[{"table": "users"}],
    )


def run(
    users: int,
    engines: list[str],
    repeat: int,
    source: Path | None = None,
    pg_schema: str | None = None,
    match: str = "",
    guard: bool = False,
) -> dict[str, Any]:
    if source is None:
        DATA.mkdir(parents=True, exist_ok=True)
        source = DATA / f"retention-{users}.duckdb"
        if not source.exists():
            write_chunked(source, users, DAYS, DEFAULT_START)
    report: dict[str, Any] = {
        "users": users,
        "events": duckdb.connect(str(source), read_only=True).sql("SELECT count(*) FROM events").fetchall()[0][0],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "date": date.today().isoformat(),
        "rows": [],
    }
    with tempfile.TemporaryDirectory() as scratch:
        for engine in engines:
            project = connect(engine, source, Path(scratch), pg_schema)
            adapter = project.adapter()
            for name, base in QUERIES.items():
                for by, label in BREAKDOWNS[name]:
                    if not re.search(match, name + label):
                        continue
                    query = {**base, "breakdown": [by]} if by else base
                    hand = hand_sql(name, by, engine)
                    if guard:
                        row = guard_limit_row(project, engine, name + label, query, hand, repeat)
                        print(json.dumps(row), flush=True)
                        report["rows"].append(row)
                        continue
                    cross = cross_sql(name, by, engine)
                    (seconds, table), (hand_s, hand_rows) = timed_together(
                        [
                            lambda q=query, p=project: segwise.run(q, p, now=NOW, cache=False),
                            lambda s=hand, a=adapter: a.execute(s).to_pylist(),
                        ],
                        repeat,
                    )
                    cross_s, cross_rows = timed(lambda s=cross, a=adapter: a.execute(s).to_pylist(), 1)
                    same = _segwise_cells(table, by) == _cells(hand_rows) == _cells(cross_rows)
                    row = {
                        "engine": engine,
                        "query": name + label,
                        "segwise_ms": round(seconds * 1000, 1),
                        "hand_ms": round(hand_s * 1000, 1),
                        "cross_ms": round(cross_s * 1000, 1),
                        "same_answer": same,
                    }
                    print(json.dumps(row), flush=True)
                    report["rows"].append(row)
            project.close()
    return report


def _forced_limit(query: dict[str, Any], project: segwise.Project) -> Any:
    """``segwise.run`` with the row guard's LIMIT sent whatever the plan's bound (as before it had one)."""
    real = dispatch.guard_limit
    dispatch.guard_limit = lambda compiled: (True, "forced by the benchmark")
    try:
        return segwise.run(query, project, now=NOW, cache=False)
    finally:
        dispatch.guard_limit = real


def guard_limit_row(
    project: segwise.Project, engine: str, name: str, query: dict[str, Any], hand: str, repeat: int
) -> dict[str, Any]:
    """``--guard-limit``: segwise.run with the LIMIT forced, as it sends it now (no LIMIT where the
    plan bounds the answer), and the hand-written statement, interleaved ``repeat`` rounds."""
    adapter = project.adapter()
    compiled = segwise.compile_query(project, query, now=NOW)
    (limited_s, limited), (now_s, table), (hand_s, _rows) = timed_together(
        [
            lambda: _forced_limit(query, project),
            lambda: segwise.run(query, project, now=NOW, cache=False),
            lambda: adapter.execute(hand).to_pylist(),
        ],
        repeat,
    )
    assert limited.equals(table), name
    return {
        "engine": engine,
        "query": name,
        "max_rows": compiled.max_rows,
        "limit_sent": dispatch.guard_limit(compiled)[0],
        "limited_ms": round(limited_s * 1000, 2),
        "segwise_ms": round(now_s * 1000, 2),
        "hand_ms": round(hand_s * 1000, 2),
        "limited_over_hand": round(limited_s / hand_s, 3),
        "segwise_over_hand": round(now_s / hand_s, 3),
        "load": round(os.getloadavg()[0], 2),
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| engine | query | segwise (ms) | hand-written (ms) | cross join (ms) | segwise / hand | same answer |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in report["rows"]:
        ratio = r["segwise_ms"] / r["hand_ms"] if r["hand_ms"] else float("nan")
        lines.append(
            f"| {r['engine']} | {r['query']} | {r['segwise_ms']} | {r['hand_ms']} | {r['cross_ms']} | "
            f"{ratio:.2f}x | {'yes' if r['same_answer'] else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--engines", default="duckdb,postgresql")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--duckdb", type=Path, help="an existing DuckDB file of the data (read-only)")
    parser.add_argument("--pg-schema", help="a schema of the data on the server SEGWISE_POSTGRES_DSN")
    parser.add_argument("--match", default="", help="only the queries whose name matches this regex")
    parser.add_argument(
        "--guard-limit",
        action="store_true",
        help="time segwise with the row guard's LIMIT forced vs as sent now (no LIMIT where the plan bounds the "
        "answer) vs hand-written, interleaved (no cross join)",
    )
    args = parser.parse_args(argv)
    report = run(
        args.users, args.engines.split(","), args.repeat, args.duckdb, args.pg_schema, args.match, args.guard_limit
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if not args.guard_limit:
        print(markdown(report))


if __name__ == "__main__":
    main()
