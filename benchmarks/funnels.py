"""Funnels on 10M events (the planner benchmark's 10m partitioned DuckDB file): segwise against a
hand-written DuckDB form (an ASOF join for step 2, range joins with min() after) and against
the one-LEFT-JOIN-per-step SQL peers generate (Mitzu's shape), same engine, same data.

    python -m benchmarks.funnels [--repeat 5] [--timeout 60] [--json out.json]

Queries: a 4-step ordered funnel over 30 days with a 7-day window (total, and weekly by country
top 5 + Other), a 20-step funnel over 30 days with a 14-day window. The step counts of every plan
are compared before any time is reported (units reaching step k: the best attempt reaches k
exactly when some attempt does). Peak memory is DuckDB's own (``duckdb_memory()`` high-water is
not kept, so the process' peak RSS after each plan is reported).
"""

from __future__ import annotations

import argparse
import json
import resource
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

import segwise
from benchmarks.common import timed
from benchmarks.planner_data import duckdb_path, ensure_duckdb
from benchmarks.planner_queries import SIZES

START, END = datetime(2025, 6, 2), datetime(2025, 7, 2)
FOUR = ["login", "page_view", "feature_used", "purchase"]
TWENTY = [["page_view", "feature_used", "login", "page_view"][i % 4] for i in range(20)]


def query(steps: list[str], window: str, **extra: Any) -> dict[str, Any]:
    spec = {"steps": [{"event": s} for s in steps], "window": window}
    return {"funnel": spec, "date_range": {"from": START.date().isoformat(), "to": END.date().isoformat()}, **extra}


def _ts(value: datetime) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


def hand_sql(steps: list[str], window_days: int) -> str:
    """The hand-written DuckDB form: attempts, an ASOF join for step 2, then one range join with
    min() per step on the attempts still going; units per step."""
    w = f"INTERVAL {window_days} DAY"
    names = ", ".join(f"'{n}'" for n in dict.fromkeys(steps))
    parts = [
        f"e AS (SELECT user_id AS u, event_time AS t, event_name AS n FROM events WHERE event_time >= {_ts(START)} "
        f"AND event_time < {_ts(END)} + {w} AND event_name IN ({names}) AND user_id IS NOT NULL)",
        f"a1 AS (SELECT u, t AS t1, t AS tk FROM e WHERE n = '{steps[0]}' AND t < {_ts(END)})",
        f"s2 AS (SELECT u, t FROM e WHERE n = '{steps[1]}')",
        f"a2 AS (SELECT a1.u, a1.t1, s2.t AS tk FROM a1 ASOF JOIN s2 ON a1.u = s2.u AND s2.t > a1.tk "
        f"WHERE s2.t <= a1.t1 + {w})",
    ]
    for k in range(3, len(steps) + 1):
        parts.append(
            f"a{k} AS (SELECT p.u, p.t1, min(e.t) AS tk FROM a{k - 1} AS p JOIN e ON e.n = '{steps[k - 1]}' "
            f"AND e.u = p.u AND e.t > p.tk AND e.t <= p.t1 + {w} GROUP BY p.u, p.t1, p.tk)"
        )
    counts = " UNION ALL ".join(
        f"SELECT {k} AS step, count(DISTINCT u) AS n FROM a{k}" for k in range(1, len(steps) + 1)
    )
    return f"WITH {', '.join(parts)} {counts} ORDER BY step"


def peer_sql(steps: list[str], window_days: int) -> str:
    """One LEFT JOIN per step over raw events (Mitzu 0.6.11's shape): rows multiply per step."""
    w = f"INTERVAL {window_days} DAY"
    sql = (
        f"SELECT {', '.join(f'count(DISTINCT s{k}.user_id) AS c{k}' for k in range(1, len(steps) + 1))} "
        f"FROM events AS s1"
    )
    for k in range(2, len(steps) + 1):
        sql += (
            f" LEFT JOIN events AS s{k} ON s{k}.user_id = s{k - 1}.user_id AND s{k}.event_name = '{steps[k - 1]}'"
            f" AND s{k}.event_time > s{k - 1}.event_time AND s{k}.event_time <= s1.event_time + {w}"
        )
    return sql + f" WHERE s1.event_name = '{steps[0]}' AND s1.event_time >= {_ts(START)} AND s1.event_time < {_ts(END)}"


def with_timeout(adapter: Any, sql: str, seconds: float) -> list[int] | None:
    """The one row of ``sql``, or None when it did not finish in ``seconds`` (cancelled)."""
    timer = threading.Timer(seconds, adapter.cancel)
    timer.start()
    try:
        return list(adapter.execute(sql).to_pylist()[0].values())
    except segwise.SegwiseError:
        return None
    finally:
        timer.cancel()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    ensure_duckdb("10m", SIZES["10m"])
    path = duckdb_path("10m", "partitioned")
    project = segwise.Project(
        warehouse=f"duckdb:///{path}",
        event_tables=[{"table": "events", "event_name": "event_name"}],
        user_tables=[{"table": "users"}],
    )
    con = project.adapter()  # one connection for every plan (same engine, same settings)
    rows: list[dict[str, Any]] = []
    cases = [
        ("4-step total", FOUR, 7, query(FOUR, "7d")),
        (
            "4-step weekly by country top 5",
            FOUR,
            7,
            query(FOUR, "7d", time_grain="week", breakdown=["country"], breakdown_limit=5),
        ),
        ("20-step total", TWENTY, 14, query(TWENTY, "14d")),
    ]
    for name, steps, days, q in cases:
        seconds, table = timed(lambda q=q: segwise.run(q, project), args.repeat)
        row: dict[str, Any] = {"case": name, "segwise_s": seconds, "segwise_peak_rss_mb": peak_mb()}
        if "total" in name:
            ours = [r["count"] for r in table.to_pylist()]
            hand_s, hand = timed(lambda s=steps, d=days: con.execute(hand_sql(s, d)), args.repeat)
            assert ours == hand.column("n").to_pylist(), (name, ours, hand)
            row.update(hand_s=hand_s, vs_hand=seconds / hand_s, steps_reached=ours)
            peer = with_timeout(con, peer_sql(steps, days), args.timeout) if len(steps) <= 4 else None
            if peer is not None:
                assert peer == ours, (name, peer, ours)
                peer_s, _ = timed(lambda s=steps, d=days: with_timeout(con, peer_sql(s, d), args.timeout), 1)
                row.update(peer_s=peer_s, peer_vs_segwise=peer_s / seconds)
            else:
                row.update(peer_s=None, peer_note=f"not run or did not finish in {args.timeout:.0f} s")
        rows.append(row)
        print(json.dumps(row))
    project.close()
    print(f"DuckDB {duckdb.__version__}, 10M events, median of {args.repeat} after a warm-up")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
