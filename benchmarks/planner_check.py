"""One (engine, size, layout) of the planner benchmark: each variant's answer compared with
``segwise.run``, then timed and profiled (see ``benchmarks/planner.py``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

import segwise
from benchmarks.planner_data import project_for
from benchmarks.planner_hand import hand_sql
from benchmarks.planner_naive import naive_plan
from benchmarks.planner_queries import NOW, REL_TOL, VARIANTS, Execute
from benchmarks.planner_targets import Timeout

# -- comparing answers -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _bucket(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    return value


def canonical(table: pa.Table, total: bool) -> dict[tuple[Any, ...], Any]:
    """{(series, bucket, groups...): value}; rows whose value is 0 or null (segwise's fill) dropped.

    Breakdown columns are every column other than series, bucket and value, in order (``_g0`` ...
    from segwise's SQL, the breakdown names from ``segwise.run``, ``g0`` ... from ours).
    """
    groups = [c for c in table.column_names if c not in ("series", "bucket", "value")]
    out: dict[tuple[Any, ...], Any] = {}
    for row in table.to_pylist():
        value = _plain(row["value"])
        if value is None or value == 0:
            continue
        bucket = None if total or "bucket" not in row else _bucket(row["bucket"])
        key = (row["series"], bucket, *(row[g] for g in groups))
        if key in out:
            raise AssertionError(f"duplicate row {key}")
        out[key] = value
    return out


def differences(got: dict[tuple[Any, ...], Any], want: dict[tuple[Any, ...], Any], limit: int = 5) -> list[str]:
    problems = []
    for key in sorted(set(got) | set(want), key=repr):
        g, w = got.get(key), want.get(key)
        if g is None or w is None:
            same = g is None and w is None
        elif isinstance(g, int) and isinstance(w, int):
            same = g == w
        else:
            same = abs(float(g) - float(w)) <= REL_TOL * max(abs(float(w)), 1e-300)
        if not same:
            problems.append(f"{key}: {g!r} vs segwise.run {w!r}")
            if len(problems) >= limit:
                break
    return problems


# -- one (engine, size, layout) ---------------------------------------------------------------------------


def single(sql_of: Callable[[], str]) -> Callable[[Execute], pa.Table]:
    return lambda execute: execute(sql_of())


def check_target(
    target: Any, layout: str, queries: dict[str, dict[str, Any]], now: datetime = NOW
) -> dict[str, dict[str, list[str]]]:
    """Every variant's answer against ``segwise.run``, untimed: {query: {variant: differences}}."""
    project = project_for(target.url, layout)
    out: dict[str, dict[str, list[str]]] = {}
    try:
        for name, query in queries.items():
            total = query.get("time_grain", "day") == "total"
            want = canonical(segwise.run(query, project, now=now), total)
            plans = {
                "naive": naive_plan(query, target.engine, now),
                "segwise": single(lambda q=query: project.compile(q, now=now)),
                "hand": single(lambda n=name, q=query: hand_sql(n, q, target.engine, now)),
            }
            out[name] = {v: differences(canonical(plan(target.execute), total), want) for v, plan in plans.items()}
    finally:
        project.close()
    return out


def run_target(
    target: Any,
    layout: str,
    queries: dict[str, dict[str, Any]],
    repeat: int,
    slow: float,
    log: Callable[[str], None] = print,
    now: datetime = NOW,
) -> dict[str, Any]:
    project = project_for(target.url, layout)
    entry: dict[str, Any] = {"events": target.events, "queries": {}}
    try:
        for name, query in queries.items():
            total = query.get("time_grain", "day") == "total"
            cell: dict[str, Any] = {}
            entry["queries"][name] = cell
            want = canonical(segwise.run(query, project, now=now), total)
            cell["rows"] = len(want)
            # segwise's SQL is compiled once, outside the timing: the plans are compared as
            # statements; planning time is measured on its own (``plan_ms``)
            compiled = project.compile(query, now=now)
            compile_samples = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                project.compile(query, now=now)
                compile_samples.append(time.perf_counter() - t0)
            plans = {
                "naive": naive_plan(query, target.engine, now),
                "segwise": single(lambda sql=compiled: sql),
                "hand": single(lambda n=name, q=query: hand_sql(n, q, target.engine, now)),
            }
            samples: dict[str, list[float]] = {}
            for variant, plan in plans.items():  # warm-up runs, checked against segwise.run
                result: dict[str, Any] = {}
                cell[variant] = result
                try:
                    t0 = time.perf_counter()
                    got = canonical(plan(target.execute), total)
                    first = time.perf_counter() - t0
                except Timeout as exc:
                    result["error"] = f"timeout ({exc})"
                    log(f"  {name:<32} {variant:<8} timed out")
                    continue
                problems = differences(got, want)
                result["same_as_run"] = not problems
                if problems:
                    result["differences"] = problems
                samples[variant] = [first] if first > slow else []
            # timed runs interleaved, the order rotated each round (naive segwise hand, segwise
            # hand naive, hand naive segwise, ...): drift on a shared machine hits every variant
            # alike, and none always runs right after the naive plan has evicted the cache
            once = {v for v, t in samples.items() if t}  # slow: the warm-up is its one sample
            order = list(plans)
            for round_ in range(repeat):
                shift = round_ % len(order)
                for variant in order[shift:] + order[:shift]:
                    plan = plans[variant]
                    if variant not in samples or variant in once:
                        continue
                    t0 = time.perf_counter()
                    plan(target.execute)
                    samples[variant].append(time.perf_counter() - t0)
            for variant, plan in plans.items():
                if variant not in samples:
                    continue
                result = cell[variant]
                result["median_ms"] = round(statistics.median(samples[variant]) * 1000, 2)
                result["runs"] = len(samples[variant])
                try:
                    result.update(target.profile(plan))
                except Timeout:
                    result["profile"] = "timeout"
            cell["segwise"]["plan_ms"] = round(statistics.median(compile_samples) * 1000, 2)
            line = "  ".join(
                f"{v} {cell[v].get('median_ms', float('nan')):>9.1f}"
                + ("" if cell[v].get("same_as_run", True) else "!")
                for v in VARIANTS
            )
            log(f"  {name:<32} {line}")
    finally:
        project.close()
    return entry
