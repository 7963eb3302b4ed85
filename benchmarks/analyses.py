"""Lifecycle and stickiness: ``segwise.run`` vs the best hand-written SQL (issue 15, "Performance").

Three queries on the planner benchmark's data (the demo generator's tables, ``benchmarks/data/``,
time-ordered with the ``event_date`` day partition declared): weekly lifecycle of ``login`` over
12 weeks, weekly stickiness of ``feature_used`` over 8 weeks, and the same broken down by the
user property ``country``. Each runs three ways on the same engine, data and connection settings:

* **segwise** — ``segwise.run(query, project)``: compile, execute, shape (zero fill) — what a user
  waits for;
* **segwise SQL** — the statement ``project.compile`` returns, executed alone (the warehouse's
  share of the above);
* **hand** — SQL written by hand for the query by someone who knows the data (``HAND``): the
  ``event_date`` partition column alone for the whole-day UTC ranges; lifecycle as one pass of
  window functions (``lag``/``lead`` over each user's active weeks) joined to each user's first
  week; stickiness as ``count(DISTINCT event_date)`` per (week, user), the user table joined
  after that reduction.

Before anything is timed every answer is compared with ``segwise.run`` (zero rows dropped). The
variants then run interleaved (one round = each variant once, in turn), ``--repeat`` rounds after
a checked warm-up; the figure is each variant's median. The ratio is segwise / hand (target ≤ 1.5).

    python -m benchmarks.analyses --size 10m --engines duckdb,postgresql --repeat 5

PostgreSQL runs on a throwaway local cluster (``tests/pg.py``, or ``SEGWISE_POSTGRES_DSN``) loaded
from the DuckDB file like the planner benchmark's partitioned layout. Writes JSON (``--out``) and
prints the Markdown table of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

import segwise
from benchmarks.planner_data import duckdb_path, project_for, write_chunked
from benchmarks.planner_queries import DAYS, PG_SETTINGS, RESULTS, SIZES
from benchmarks.planner_targets import DuckDBTarget, PostgresTarget, load_postgres
from segwise.demo.generate import DEFAULT_START

LAYOUT = "partitioned"
VARIANTS = ("segwise", "segwise_sql", "hand")
WEEKS = {"lifecycle_12w": 12, "stickiness_8w": 8, "stickiness_8w_by_country": 8}


def window(days: int = DAYS, weeks: int = 12) -> tuple[date, date]:
    """``weeks`` whole Monday weeks ending at the last Monday on or before the end of the data."""
    end = DEFAULT_START + timedelta(days=days)
    end -= timedelta(days=end.weekday())
    return end - timedelta(weeks=weeks), end


def queries(days: int = DAYS) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, weeks in WEEKS.items():
        start, end = window(days, weeks)
        rng = {"from": start.isoformat(), "to": end.isoformat()}
        if name.startswith("lifecycle"):
            out[name] = {"lifecycle": {"event": "login"}, "date_range": rng, "time_grain": "week"}
        else:
            out[name] = {"stickiness": {"event": "feature_used"}, "date_range": rng, "time_grain": "week"}
            if name.endswith("by_country"):
                out[name]["breakdown"] = ["country"]
    return out


# -- the hand-written SQL ----------------------------------------------------------------------------
#
# Portable between DuckDB and PostgreSQL. Placeholders: {lo} the Monday before the range (lifecycle
# reads the bucket before), {s} / {e} the range, {last} the range's last Monday. event_date is the
# UTC date of event_time, the project's zone is UTC and weeks start on Monday (date_trunc's week).

WEEK = "date_trunc('week', CAST(event_date AS TIMESTAMP))"

_FEATURE_DAYS = (
    "WHERE event_name = 'feature_used' AND event_date >= DATE '{s}' AND event_date < DATE '{e}' AND user_id IS NOT NULL"
)
_PER_USER_DISTINCT = (
    f"WITH su AS (SELECT {WEEK} AS w, user_id AS u, count(DISTINCT event_date) AS n FROM events "
    f"{_FEATURE_DAYS} GROUP BY 1, 2) "
)
_PER_USER_PAIRS = (
    f"WITH d AS (SELECT DISTINCT user_id AS u, event_date AS d FROM events {_FEATURE_DAYS}), "
    "su AS (SELECT date_trunc('week', CAST(d AS TIMESTAMP)) AS w, u, count(*) AS n FROM d GROUP BY 1, 2) "
)
_BY_COUNTRY = (
    "SELECT su.w AS bucket, users.country AS g0, su.n AS days, count(*) AS value "
    "FROM su LEFT JOIN users ON users.user_id = su.u GROUP BY 1, 2, 3"
)

HAND: dict[str, str | dict[str, str]] = {
    # Each user's active weeks in one pass: lag/lead give the week before and after; a user's first
    # login week (min event_date: the partition column, exact in UTC) decides "new".
    "lifecycle_12w": (
        f"WITH a AS (SELECT DISTINCT user_id AS u, {WEEK} AS w FROM events "
        "WHERE event_name = 'login' AND event_date >= DATE '{lo}' AND event_date < DATE '{e}' "
        "AND user_id IS NOT NULL), "
        "f AS (SELECT user_id AS u, date_trunc('week', CAST(min(event_date) AS TIMESTAMP)) AS fw FROM events "
        "WHERE event_name = 'login' AND event_date < DATE '{e}' AND user_id IS NOT NULL GROUP BY user_id), "
        "s AS (SELECT u, w, lag(w) OVER (PARTITION BY u ORDER BY w) AS prev, "
        "lead(w) OVER (PARTITION BY u ORDER BY w) AS nxt FROM a) "
        "SELECT s.w AS bucket, CASE WHEN f.fw = s.w THEN 'new' "
        "WHEN s.prev = s.w - INTERVAL '7 days' THEN 'returning' ELSE 'resurrecting' END AS status, "
        "count(*) AS value FROM s JOIN f ON f.u = s.u WHERE s.w >= TIMESTAMP '{s}' GROUP BY 1, 2 "
        "UNION ALL "
        "SELECT s.w + INTERVAL '7 days' AS bucket, 'dormant' AS status, count(*) AS value FROM s "
        "WHERE (s.nxt IS NULL OR s.nxt <> s.w + INTERVAL '7 days') AND s.w < TIMESTAMP '{last}' GROUP BY 1, 2"
    ),
    # Days per (week, user), then users per (week, days): on DuckDB one aggregation with
    # count(DISTINCT); on PostgreSQL (whose count(DISTINCT) sorts) distinct (user, day) pairs first.
    "stickiness_8w": {
        "duckdb": _PER_USER_DISTINCT + "SELECT w AS bucket, n AS days, count(*) AS value FROM su GROUP BY 1, 2",
        "postgresql": _PER_USER_PAIRS + "SELECT w AS bucket, n AS days, count(*) AS value FROM su GROUP BY 1, 2",
    },
    # The same reduction; the user table joined to the (week, user) rows, not to the events.
    "stickiness_8w_by_country": {
        engine: first + _BY_COUNTRY
        for engine, first in (("duckdb", _PER_USER_DISTINCT), ("postgresql", _PER_USER_PAIRS))
    },
}


def hand_sql(name: str, engine: str, days: int = DAYS) -> str:
    start, end = window(days, WEEKS[name])
    week = timedelta(weeks=1)
    text = HAND[name]
    text = text if isinstance(text, str) else text[engine]
    return text.format(lo=start - week, s=start, e=end, last=end - week)


# -- comparing answers -------------------------------------------------------------------------------


def plain_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # the project's zone is UTC
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    return value


def canonical(table: pa.Table) -> dict[tuple[Any, ...], int]:
    """{(bucket, groups..., status | days): users}, columns by position, zero rows (the fill) dropped."""
    out: dict[tuple[Any, ...], int] = {}
    for row in table.to_pylist():
        *key, value = (plain_value(v) for v in row.values())
        if value:
            assert tuple(key) not in out, f"duplicate row {key}"
            out[tuple(key)] = int(value)
    return out


def differences(got: dict[tuple[Any, ...], int], want: dict[tuple[Any, ...], int], limit: int = 5) -> list[str]:
    keys = sorted(set(got) | set(want), key=repr)
    return [f"{k}: {got.get(k)!r} vs segwise.run {want.get(k)!r}" for k in keys if got.get(k) != want.get(k)][:limit]


# -- one engine ---------------------------------------------------------------------------------------


def variants(target: Any, project: segwise.Project, name: str, days: int) -> dict[str, Callable[[], pa.Table]]:
    query = queries(days)[name]
    compiled = project.compile(query)
    hand = hand_sql(name, target.engine, days)
    return {
        "segwise": lambda: segwise.run(query, project),
        "segwise_sql": lambda: target.execute(compiled),
        "hand": lambda: target.execute(hand),
    }


def check(target: Any, project: segwise.Project, days: int = DAYS) -> list[str]:
    """Where segwise's compiled SQL or the hand-written SQL differs from ``segwise.run`` (empty: none)."""
    problems: list[str] = []
    for name in WEEKS:
        runs = variants(target, project, name, days)
        want = canonical(runs["segwise"]())
        assert want, f"{name}: an empty answer checks nothing"
        for variant in VARIANTS[1:]:
            if found := differences(canonical(runs[variant]()), want):
                problems.append(f"{target.engine} {name} {variant}: {found}")
    return problems


def time_target(
    target: Any, project: segwise.Project, repeat: int, log: Callable[[str], None], days: int = DAYS
) -> dict[str, Any]:
    """The answers checked (also the warm-up), then per query ``repeat`` interleaved rounds; medians."""
    if problems := check(target, project, days):
        raise AssertionError("answers differ: " + "; ".join(problems))
    out: dict[str, Any] = {}
    for name in WEEKS:
        runs = variants(target, project, name, days)
        samples: dict[str, list[float]] = {v: [] for v in VARIANTS}
        answers: dict[str, pa.Table] = {}
        for _ in range(repeat):
            for variant in VARIANTS:
                started = time.perf_counter()
                answers[variant] = runs[variant]()
                samples[variant].append(time.perf_counter() - started)
        medians = {v: statistics.median(s) for v, s in samples.items()}
        out[name] = {
            "rows": len(canonical(answers["segwise"])),
            "samples_s": samples,
            "median_s": medians,
            "ratio": medians["segwise"] / medians["hand"],
            "ratio_sql": medians["segwise_sql"] / medians["hand"],
        }
        log(f"{target.engine} {name}: " + ", ".join(f"{v} {m:.3f} s" for v, m in medians.items()))
    return out


# -- the run ------------------------------------------------------------------------------------------


def postgres_dsn(report: dict[str, Any]) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.pg import get_server

    dsn = get_server().dsn
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
        cur.execute("SELECT version()")
        report["machine"]["postgresql"] = cur.fetch_arrow_table().column(0)[0].as_py()
    return dsn


@contextmanager
def engine_target(
    engine: str, path: Path, name: str, pg_schema: str | None, report: dict[str, Any], log: Callable[[str], None]
) -> Iterator[Any]:
    """The benchmark's target on ``engine``: DuckDB on the file ``path``; PostgreSQL on ``pg_schema``
    (an already loaded schema, kept) or on a schema ``name`` loaded from the file for this run and
    dropped afterwards."""
    schema = None
    if engine == "duckdb":
        target: Any = DuckDBTarget(path, timeout=600)
    else:
        dsn = postgres_dsn(report)
        schema = pg_schema or load_postgres(dsn, name, {LAYOUT: path}, log, layouts=(LAYOUT,))[LAYOUT]
        target = PostgresTarget(dsn, schema, timeout=600)
    try:
        yield target
    finally:
        target.close()
        if schema is not None and schema != pg_schema:
            import adbc_driver_postgresql.dbapi as pg

            with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
                cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def time_engines(
    report: dict[str, Any],
    engines: list[str],
    path: Path,
    name: str,
    pg_schema: str | None,
    log: Callable[[str], None],
    open_project: Callable[[str], Any],
    measure: Callable[[Any, Any], dict[str, Any]],
) -> dict[str, Any]:
    """``report`` with ``measure(target, project)``'s results per engine (and its events), each engine's
    target from :func:`engine_target` and its project from ``open_project(url)``; the load after."""
    for engine in engines:
        with engine_target(engine, path, name, pg_schema, report, log) as target:
            project = open_project(target.url)
            try:
                report["results"][engine] = measure(target, project)
                report["results"][engine]["events"] = target.events
            finally:
                project.close()
    report["machine"]["load_after"] = os.getloadavg()
    return report


def run(
    size: str, engines: list[str], repeat: int, pg_schema: str | None = None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """``pg_schema``: a schema on the server (``SEGWISE_POSTGRES_DSN``) already holding this size's
    tables (as ``load_postgres`` loads them); neither loaded nor dropped."""
    path = duckdb_path(size, LAYOUT)  # the planner benchmark's file, shared with it
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        events = write_chunked(path, SIZES[size])
        log(f"generated {events:,} events into {path} in {time.perf_counter() - started:.0f} s")
    report: dict[str, Any] = {
        "date": datetime.now().isoformat(timespec="minutes"),
        "size": size,
        "layout": LAYOUT,
        "repeat": repeat,
        "queries": queries(),
        "hand_sql": {e: {name: hand_sql(name, e) for name in WEEKS} for e in engines},
        "machine": {
            "cores": os.cpu_count(),
            "load_before": os.getloadavg(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        "postgres_settings": PG_SETTINGS,
        "results": {},
    }
    return time_engines(
        report,
        engines,
        path,
        f"analyses_{size}",
        pg_schema,
        log,
        lambda url: project_for(url, LAYOUT),
        lambda target, project: time_target(target, project, repeat, log),
    )


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| engine | query | segwise.run s | segwise SQL s | hand s | segwise / hand | SQL / hand |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for engine, cells in report["results"].items():
        for name in WEEKS:
            cell = cells[name]
            m = cell["median_s"]
            lines.append(
                f"| {engine} | {name} | {m['segwise']:.3f} | {m['segwise_sql']:.3f} | {m['hand']:.3f} "
                f"| {cell['ratio']:.2f}x | {cell['ratio_sql']:.2f}x |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="10m", choices=list(SIZES))
    parser.add_argument("--engines", default="duckdb,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-schema", default=None, help="an already loaded schema (with SEGWISE_POSTGRES_DSN)")
    parser.add_argument("--out", type=Path, default=RESULTS / "analyses.json")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = run(args.size, [e.strip() for e in args.engines.split(",") if e.strip()], args.repeat, args.pg_schema, log)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
