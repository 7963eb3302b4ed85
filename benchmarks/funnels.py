"""Funnels on 10M events (issue 16, "Performance"): segwise against the best hand-written SQL per
engine and the one-LEFT-JOIN-per-step SQL peers generate, on DuckDB and PostgreSQL.

    python -m benchmarks.funnels [--engines duckdb,postgresql] [--size 10m] [--repeat 3] [--timeout 120]
                                 [--peer-timeout 60] [--out benchmarks/results/funnels.json]

Data: the planner benchmark's 10m partitioned tables — DuckDB ``benchmarks/data/planner-10m-
partitioned.duckdb`` (read-only), PostgreSQL the schema ``planner_10m_partitioned`` on
``SEGWISE_POSTGRES_DSN`` (loaded by ``benchmarks.planner_targets.load_postgres``; read only).

Cases (``benchmarks.funnel_sql``): a 4-step ordered funnel over 30 days with a 7-day window,
total and weekly by country (top 5 + Other), and a 20-step funnel over the same 30 days with a
14-day window. Per engine and case, every plan runs once as a warm-up with its answer compared
with segwise's (units per step, per week and group for the weekly case), then ``--repeat`` rounds
run the plans interleaved (one round = each plan once, in turn); the figure is each plan's
median. The weekly case on DuckDB also runs ``hand_full`` (``funnel_sql.hand_full_sql``: the same
result as segwise's, compared cell by cell with the average and median seconds; the other hand
forms are compared on units only). A plan over ``--timeout`` is reported as such and left out
of the rounds. The peer SQL (total cases) runs once with ``--peer-timeout``. Peak memory:
DuckDB's ``peak_buffer_memory`` from its profiler, PostgreSQL's summed sort/hash peaks from
``EXPLAIN ANALYZE`` (one more run of each plan's statement).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

import segwise
from benchmarks.funnel_sql import END, START, hand_full_sql, hand_sql, peer_sql
from benchmarks.planner_data import duckdb_path, project_for
from benchmarks.planner_queries import RESULTS
from benchmarks.planner_targets import DuckDBTarget, PostgresTarget, Timeout

FOUR = ["login", "page_view", "feature_used", "purchase"]
TWENTY = [["page_view", "feature_used", "login", "page_view"][i % 4] for i in range(20)]
DSN = "postgresql://postgres@127.0.0.1:55432/postgres"


def query(steps: list[str], window: str, **extra: Any) -> dict[str, Any]:
    spec = {"steps": [{"event": s} for s in steps], "window": window}
    return {"funnel": spec, "date_range": {"from": START.date().isoformat(), "to": END.date().isoformat()}, **extra}


CASES: list[tuple[str, list[str], int, dict[str, Any], bool]] = [
    ("4-step total", FOUR, 7, query(FOUR, "7d"), False),
    (
        "4-step weekly by country top 5",
        FOUR,
        7,
        query(FOUR, "7d", time_grain="week", breakdown=["country"], breakdown_limit=5),
        True,
    ),
    ("20-step total", TWENTY, 14, query(TWENTY, "14d"), False),
]


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def segwise_counts(rows: list[dict[str, Any]], weekly: bool) -> dict[Any, Any]:
    """Units per step (total), or per (week, group, step) the units and the average and median
    seconds (rounded to the millisecond: sums in parallel differ in the last bits), zero counts
    dropped."""
    if not weekly:
        return {r["step"]: r["count"] for r in rows if r["count"]}
    return {
        (_day(r["bucket"]), r["country"], r["step"]): (r["count"], _ms(r["avg_seconds"]), _ms(r["median_seconds"]))
        for r in rows
        if r["count"]
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def full_counts(rows: list[dict[str, Any]]) -> dict[Any, Any]:
    """``hand_full_sql``'s answer as ``segwise_counts`` of the weekly case."""
    return {(_day(r["wk"]), r["grp"], r["step"]): (r["n"], _ms(r["avg_s"]), _ms(r["median_s"])) for r in rows if r["n"]}


def same(got: dict[Any, Any], answer: dict[Any, Any]) -> bool:
    """A plan's answer equals segwise's: the whole cells, or the units where it counts only."""
    if any(isinstance(v, tuple) for v in got.values()):
        return got == answer
    return got == {k: v[0] if isinstance(v, tuple) else v for k, v in answer.items()}


def hand_counts(rows: list[dict[str, Any]], weekly: bool) -> dict[Any, int]:
    if not weekly:
        return {r["step"]: r["n"] for r in rows if r["n"]}
    return {(_day(r["wk"]), r["grp"], r["step"]): r["n"] for r in rows if r["n"]}


class Engine:
    """One engine's target, segwise project and hand-written forms."""

    def __init__(self, name: str, timeout: float, size: str) -> None:
        self.name = name
        if name == "duckdb":
            self.target: Any = DuckDBTarget(duckdb_path(size, "partitioned"), timeout)
            self.forms = ["asof", "range", "lists", "full"]
        else:
            self.target = PostgresTarget(
                os.environ.get("SEGWISE_POSTGRES_DSN", DSN), f"planner_{size}_partitioned", timeout
            )
            self.forms = ["range"]
        self.project = project_for(self.target.url, "partitioned")

    def hand(self, steps: list[str], days: int, form: str, weekly: bool) -> str:
        if form == "full":
            return hand_full_sql(steps, days)
        return hand_sql(steps, days, form, weekly, postgres=self.name == "postgresql")

    def plans(self, steps: list[str], days: int, q: dict[str, Any], weekly: bool) -> dict[str, Callable[[], Any]]:
        plans: dict[str, Callable[[], Any]] = {
            "segwise": lambda: segwise_counts(segwise.run(q, self.project).to_pylist(), weekly)
        }
        for form in self.forms:
            if form == "full":  # the same result as segwise's (units, avg and median seconds): weekly only
                if weekly:
                    sql = self.hand(steps, days, form, weekly)
                    plans["hand_full"] = lambda sql=sql: full_counts(self.target.execute(sql).to_pylist())
                continue
            sql = self.hand(steps, days, form, weekly)
            plans[f"hand_{form}"] = lambda sql=sql: hand_counts(self.target.execute(sql).to_pylist(), weekly)
        return plans

    def peak(self, sql: str) -> dict[str, int]:
        profile = self.target.profile(lambda execute: execute(sql))
        return {k: int(profile[k]) for k in ("peak_memory", "temp_bytes") if k in profile}

    def peer(self, steps: list[str], days: int, seconds: float) -> tuple[float | None, list[int] | None]:
        """(seconds, units per step) of the peer SQL, or (None, None) past ``seconds``."""
        saved = self.target.timeout
        self.target.timeout = seconds
        try:
            if self.name == "postgresql":
                self.target.cur.execute(f"SET statement_timeout = '{int(seconds * 1000)}ms'")
            started = time.perf_counter()
            row = self.target.execute(peer_sql(steps, days)).to_pylist()[0]
            return time.perf_counter() - started, list(row.values())
        except Timeout:
            return None, None
        finally:
            self.target.timeout = saved
            if self.name == "postgresql":
                self.target.cur.execute(f"SET statement_timeout = '{int(saved * 1000)}ms'")

    def close(self) -> None:
        self.project.close()
        self.target.close()


def run_case(
    engine: Engine, case: tuple[str, list[str], int, dict[str, Any], bool], args: argparse.Namespace
) -> dict[str, Any]:
    name, steps, days, q, weekly = case
    plans = engine.plans(steps, days, q, weekly)
    samples: dict[str, list[float]] = {p: [] for p in plans}
    notes: dict[str, str] = {}
    answer = None
    for plan, fn in plans.items():  # warm-up: every answer compared with segwise's
        started = time.perf_counter()
        try:
            got = fn()
        except Timeout:
            notes[plan] = f"over {args.timeout:.0f} s (left out)"
            continue
        log(f"{engine.name} {name} warm-up {plan}: {time.perf_counter() - started:.2f} s")
        if answer is None:
            answer = got
        assert same(got, answer), (engine.name, name, plan)
    live = [p for p in plans if p not in notes]
    for _ in range(args.repeat):
        for plan in live:
            started = time.perf_counter()
            assert same(plans[plan](), answer), (engine.name, name, plan)
            samples[plan].append(time.perf_counter() - started)
    median = {p: statistics.median(s) for p, s in samples.items() if s}
    hands = {p: m for p, m in median.items() if p.startswith("hand")}
    best = min(hands, key=lambda p: hands[p]) if hands else None
    row: dict[str, Any] = {
        "case": name,
        "median_s": median,
        "samples_s": samples,
        "notes": notes,
        "best_hand": best,
        "segwise_vs_best_hand": median["segwise"] / hands[best] if best else None,
        # the weekly case: the hand forms but hand_full count units only (a smaller question)
        "segwise_vs_same_result": median["segwise"] / median["hand_full"] if "hand_full" in median else None,
        "units_per_step": [v for _, v in sorted(answer.items())] if answer and not weekly else None,
        "cells": len(answer or {}),
    }
    compiled = engine.project.compile(q)
    row["peak"] = {"segwise": engine.peak(compiled)}
    if best:
        row["peak"][best] = engine.peak(engine.hand(steps, days, best.removeprefix("hand_"), weekly))
    if not weekly:
        seconds, counts = engine.peer(steps, days, args.peer_timeout)
        if counts is not None:
            assert answer is not None and counts == [answer.get(k, 0) for k in range(1, len(steps) + 1)], counts
        row["peer_s"] = seconds
        row["peer_note"] = None if seconds is not None else f"did not finish in {args.peer_timeout:.0f} s"
        row["peer_vs_segwise"] = (seconds or args.peer_timeout) / median["segwise"]
    return row


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def markdown(report: dict[str, Any]) -> str:
    lines = []
    for engine, rows in report["results"].items():
        lines += [
            f"**{engine}**",
            "",
            "| case | segwise | best hand-written | segwise / hand | peer (one join per step) | peak memory |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for r in rows:
            m = r["median_s"]
            best = r["best_hand"]
            hand = f"{m[best]:.2f} s ({best})" if best else "; ".join(f"{k}: {v}" for k, v in r["notes"].items())
            ratio = f"{r['segwise_vs_best_hand']:.2f}x" if best else "—"
            if r.get("segwise_vs_same_result"):
                ratio += f" (same result: {r['segwise_vs_same_result']:.2f}x of hand_full {m['hand_full']:.2f} s)"
            if "peer_s" not in r:
                peer = "—"
            elif r["peer_s"] is None:
                peer = f"> {r['peer_note'].split()[-2]} s (≥ {r['peer_vs_segwise']:.1f}x segwise)"
            else:
                peer = f"{r['peer_s']:.2f} s ({r['peer_vs_segwise']:.1f}x segwise)"
            mb = ", ".join(f"{k} {v['peak_memory'] / 1e6:,.0f} MB" for k, v in r["peak"].items())
            lines.append(f"| {r['case']} | {m['segwise']:.2f} s | {hand} | {ratio} | {peer} | {mb} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="duckdb,postgresql")
    parser.add_argument("--size", default="10m", choices=["1m", "10m"])
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--peer-timeout", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "funnels.json")
    args = parser.parse_args(argv)
    wanted = [c.strip() for c in args.cases.split(",") if c.strip()]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    report: dict[str, Any] = {
        "started": datetime.now().isoformat(timespec="seconds"),
        "commit": commit,
        "duckdb": duckdb.__version__,
        "load_before": os.getloadavg(),
        "repeat": args.repeat,
        "size": args.size,
        "results": {},
    }
    for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
        engine = Engine(name, args.timeout, args.size)
        report["results"][name] = []
        try:
            for case in CASES:
                if not wanted or case[0] in wanted:
                    row = run_case(engine, case, args)
                    row["load"] = os.getloadavg()
                    report["results"][name].append(row)
                    log(json.dumps({k: v for k, v in row.items() if k != "samples_s"}, default=str))
        finally:
            engine.close()
    report["load_after"] = os.getloadavg()
    report["finished"] = datetime.now().isoformat(timespec="seconds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
