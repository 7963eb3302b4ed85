"""Rolling active users: segwise's SQL against the best hand-written SQL and the date-spine join,
per engine (DuckDB, PostgreSQL), data size, window and range, in one interleaved run.

    python -m benchmarks.rolling [--sizes 1m,10m] [--engines duckdb,postgresql] [--pg-dsn URL] [--pg-prefix P]
        [--load-only]
        [--windows 7,30] [--ranges 60,365] [--rounds 5] [--json out.json]

Data: the demo generator over 365 days (``1m``: 10,000 users, ``10m``: 100,000, ``50m``:
500,000 in chunks of 100,000) in the shared planner files ``benchmarks/data/planner-<size>-partitioned.duckdb``
when present (else generated once into ``benchmarks/data/r<size>.duckdb``), copied into PostgreSQL schema
``<--pg-prefix>_<size>`` (user_id, event_time, event_name, event_date, platform; rows in time order, a B-tree on
event_time). Every range ends on 2025-12-31 (exclusive), day grain, ``event: any``.

Per case three statements run on one connection of the engine (execution and Arrow fetch, no
compile; segwise's SQL is ``project.compile(query)`` as is):

* **segwise** — what segwise generates (per-user day bitmasks on both engines);
* **hand** — the fastest SQL written by hand for the engine (``mask_sql``): per-user day masks
  (DuckDB UHUGEINT, 128 days a word; PostgreSQL BIGINT, 63 days), one word or words with a carry
  row, and a histogram of their bytes;
* **hand intervals** — the best interval SQL by hand: per-user intervals ``[day, min(next day,
  day + N))`` by one LEAD window and a running sum of +1/-1 edges (what segwise generated before);
* **spine** — the naive date-spine join: every raw event joined to every day whose window holds
  it, ``COUNT(DISTINCT user_id)`` per day (skipped past ``--spine-limit`` rows x days).

The references (hand intervals, spine) run once per case when their checking run takes over
``--spine-once`` seconds (the figure is then that one run).

All answers are compared day by day before anything is timed. Rounds are interleaved and the
order rotates each round, so load on the shared machine hits every variant alike; medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import segwise
from benchmarks.planner_data import duckdb_path
from segwise.demo.generate import write_duckdb

DATA = Path(__file__).parent / "data"
SIZES = {"1m": 10_000, "10m": 100_000, "50m": 500_000}
END = date(2025, 12, 31)
PG_OPTIONS = "options=-c%20work_mem%3D128MB%20-c%20jit%3Doff"


def spine_sql(engine: str, table: str, window: int, start: date, end: date) -> str:
    """The naive plan: raw events x date spine, then COUNT(DISTINCT) per day."""
    series = (
        f"SELECT CAST(d AS TIMESTAMP) AS day FROM range(TIMESTAMP '{start}', TIMESTAMP '{end}', INTERVAL 1 DAY) AS t(d)"
        if engine == "duckdb"
        else f"SELECT d AS day FROM generate_series(TIMESTAMP '{start}', TIMESTAMP '{end - timedelta(days=1)}', "
        "INTERVAL '1 day') AS t(d)"
    )
    return f"""WITH spine AS ({series})
        SELECT spine.day AS bucket, COUNT(DISTINCT e.user_id) AS value
        FROM spine JOIN {table} AS e
          ON e.event_time >= spine.day - INTERVAL '{window - 1} day' AND e.event_time < spine.day + INTERVAL '1 day'
        GROUP BY spine.day ORDER BY spine.day"""


def intervals_sql(table: str, window: int, start: date, end: date) -> str:
    """Per-user intervals [day, min(next active day, day + N)) and a running sum of their edges."""
    first = start - timedelta(days=window - 1)
    return f"""WITH d AS (
          SELECT DISTINCT user_id AS u, CAST(event_time AS DATE) AS d FROM {table}
          WHERE event_time >= TIMESTAMP '{first}' AND event_time < TIMESTAMP '{end}' AND user_id IS NOT NULL),
        iv AS (SELECT d, LEAST(LEAD(d) OVER (PARTITION BY u ORDER BY d), d + {window}) AS x FROM d),
        ed AS (SELECT d AS day, 1 AS c FROM iv UNION ALL SELECT x, -1 FROM iv),
        dd AS (SELECT day, SUM(c) AS c FROM ed GROUP BY day),
        run AS (SELECT day, SUM(c) OVER (ORDER BY day) AS v FROM dd)
        SELECT day AS bucket, CAST(v AS BIGINT) AS value FROM run
        WHERE day >= DATE '{start}' AND day < DATE '{end}' AND v > 0 ORDER BY day"""


# per engine: mask type, word width, the cast of a shift's bit count, integer division, numbers 0..n-1
MASKS = {
    "duckdb": ("UHUGEINT", 128, "::UHUGEINT", "//", "range({n})"),
    "postgresql": ("BIGINT", 63, "", "/", "generate_series(0, {n} - 1)"),
}


def mask_sql(engine: str, table: str, window: int, start: date, end: date) -> str:
    """Per-user day masks (bit d: d days before the last day), spread over the window, users per
    day from a histogram of the masks' bytes; words with a carry row when the days read do not
    fit one (DuckDB: UHUGEINT, 128 days; PostgreSQL: BIGINT, 63 days)."""
    kind, width, shift, div, numbers = MASKS[engine]
    first, last = start - timedelta(days=window - 1), end - timedelta(days=1)
    days = (last - first).days + 1
    before = f"(DATE '{last}' - CAST(event_time AS DATE))"
    where = f"event_time >= TIMESTAMP '{first}' AND event_time < TIMESTAMP '{end}' AND user_id IS NOT NULL"

    def smear(m: str) -> str:
        return " | ".join(f"({m} >> {k}{shift})" if k else m for k in range(window))

    if days <= width:
        masks = f"""m AS (SELECT bit_or(CAST(1 AS {kind}) << ({before}){shift}) AS m FROM {table} WHERE {where}
              GROUP BY user_id),
            w AS (SELECT 0 AS k, {smear("m")} AS m FROM m)"""
    else:
        low = f"CAST({(1 << (window - 1)) - 1} AS {kind})"
        carry = f"(((({smear(f'((m & {low}) << {window - 1}{shift})')})) & {low}) << {width - window + 1}{shift})"
        masks = f"""m AS (SELECT user_id AS u, {before} {div} {width} AS k,
              bit_or(CAST(1 AS {kind}) << ({before} % {width}){shift}) AS m FROM {table} WHERE {where} GROUP BY 1, 2),
            w AS (SELECT k, bit_or(m) AS m FROM (
              SELECT u, k, {smear("m")} AS m FROM m UNION ALL SELECT u, k - 1, {carry} FROM m WHERE k > 0) AS x
              GROUP BY u, k)"""
    byte = f"CAST(((m >> (8 * y){shift}) & CAST(255 AS {kind})) AS INTEGER)"
    return f"""WITH {masks},
        h AS (SELECT k, y, v, count(*) AS n FROM (
          SELECT k, y, {byte} AS v FROM w, {numbers.format(n=(width + 7) // 8)} AS r(y)) AS x
          WHERE v <> 0 GROUP BY 1, 2, 3),
        p AS (SELECT k * {width} + y * 8 + j AS p, sum(n) AS n FROM h, {numbers.format(n=8)} AS b(j)
          WHERE (v >> CAST(j AS INTEGER)) & 1 = 1 GROUP BY 1)
        SELECT DATE '{last}' - CAST(p AS INTEGER) AS bucket, CAST(n AS BIGINT) AS value FROM p
        WHERE p < {(end - start).days} ORDER BY bucket"""


def hand_sql(engine: str, table: str, window: int, start: date, end: date) -> dict[str, str]:
    """The hand-written statements of an engine: the fastest (``hand``) and the interval form."""
    return {
        "hand": mask_sql(engine, table, window, start, end),
        "hand intervals": intervals_sql(table, window, start, end),
    }


def answer(table: Any) -> list[tuple[str, int]]:
    """(day, value) of a result, non-zero values only, days as ISO dates."""
    names = table.column_names
    days = [str(d)[:10] for d in table.column(names.index("bucket")).to_pylist()]
    values = [int(v) for v in table.column(names.index("value")).to_pylist()]
    return sorted((d, v) for d, v in zip(days, values, strict=True) if v)


def duckdb_file(size: str) -> Path:
    """The size's DuckDB file: the shared planner data (the same demo generator over 365 days from
    2025-01-01, rows in event_time order) when present, else ``r<size>.duckdb``, generated once."""
    shared = duckdb_path(size, "partitioned")
    return shared if shared.exists() else DATA / f"r{size}.duckdb"


def ensure_data(size: str, engines: list[str], dsn: str | None, prefix: str = "rolling") -> None:
    DATA.mkdir(exist_ok=True)
    path = duckdb_file(size)
    if not path.exists():
        write_duckdb(path, users=SIZES[size], days=365)
    if "postgresql" in engines and dsn:
        import adbc_driver_postgresql.dbapi as pg
        import duckdb
        import pyarrow as pa

        from tests.backends import create_table_sql, plain_types

        schema = f"{prefix}_{size}"
        with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM information_schema.tables WHERE table_schema = '{schema}'")
            if cur.fetchone()[0]:
                return
            cur.execute(f"CREATE SCHEMA {schema}")
            src = duckdb.connect(str(path), read_only=True)
            columns = "user_id, event_time, event_name, event_date, platform"
            reader = src.sql(f"SELECT {columns} FROM events ORDER BY event_time").to_arrow_reader(1_000_000)
            created = False
            for batch in reader:
                rows = plain_types(pa.Table.from_batches([batch]))
                if not created:
                    cur.execute(create_table_sql("events", rows.schema, schema))
                    created = True
                cur.adbc_ingest("events", rows, mode="append", db_schema_name=schema)
            src.close()
            cur.execute(f"CREATE INDEX ON {schema}.events (event_time)")
            cur.execute(f"VACUUM ANALYZE {schema}.events")


def project_for(engine: str, size: str, dsn: str | None, prefix: str = "rolling") -> tuple[segwise.Project, str]:
    if engine == "duckdb":
        url, table = f"duckdb:///{duckdb_file(size)}", "events"
    else:
        assert dsn
        url, table = dsn + ("&" if "?" in dsn else "?") + PG_OPTIONS, f"{prefix}_{size}.events"
    spec = {"table": table, "event_name": "event_name"}
    return segwise.Project(warehouse=url, timezone="UTC", event_tables=[spec]), table


def run_case(
    project: segwise.Project,
    engine: str,
    table: str,
    window: int,
    days: int,
    rounds: int,
    references: tuple[str, ...],
    once: float,
) -> dict[str, Any]:
    started, load = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), os.getloadavg()[0]
    start = END - timedelta(days=days)
    query = {
        "series": [{"event": "any", "measure": f"active_users:{window}d"}],
        "time_grain": "day",
        "date_range": {"from": str(start), "to": str(END)},
    }
    statements = {"segwise": project.compile(query), **hand_sql(engine, table, window, start, END)}
    statements = {name: sql for name, sql in statements.items() if name in ("segwise", "hand", *references)}
    if "spine" in references:
        statements["spine"] = spine_sql(engine, table, window, start, END)
    adapter = project.adapter()
    reference = answer(segwise.run(query, project))
    samples: dict[str, list[float]] = {name: [] for name in statements}
    cpu: dict[str, list[float]] = {name: [] for name in statements}  # this process's CPU: DuckDB's threads

    def timed(name: str) -> Any:
        c0, t0 = time.process_time(), time.perf_counter()
        result = adapter.execute(statements[name])
        samples[name].append(time.perf_counter() - t0)
        cpu[name].append(time.process_time() - c0)
        return result

    for name in statements:  # the checking run (also the warm-up)
        got = answer(timed(name))
        assert got == reference, f"{engine} {name} N={window} {days} days: answers differ"
    slow = {name for name, s in samples.items() if name not in ("segwise", "hand") and s[0] > once}
    names = list(statements)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            if name not in slow:
                timed(name)
    for name in names:
        if name not in slow and len(samples[name]) > 1:
            samples[name], cpu[name] = samples[name][1:], cpu[name][1:]  # drop the checking run
    medians = {name: statistics.median(s) for name, s in samples.items()}
    cpu_medians = {name: statistics.median(s) for name, s in cpu.items()}
    row: dict[str, Any] = {
        "engine": engine,
        "started_utc": started,
        "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],  # 1-minute, at start and end
        "window": window,
        "range_days": days,
        "buckets": len(reference),
        "ms": {name: round(m * 1000, 1) for name, m in medians.items()},
        "runs": {name: len(s) for name, s in samples.items()},
        "segwise_over_hand": round(medians["segwise"] / medians["hand"], 2),
    }
    if engine == "duckdb":  # in-process: CPU time is less swayed by other processes than wall time
        row["cpu_ms"] = {name: round(m * 1000, 1) for name, m in cpu_medians.items()}
        row["segwise_over_hand_cpu"] = round(cpu_medians["segwise"] / cpu_medians["hand"], 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1m,10m")
    parser.add_argument("--engines", default="duckdb,postgresql")
    parser.add_argument("--pg-dsn", help="a PostgreSQL server to load into and query (libpq URL)")
    parser.add_argument("--windows", default="7,30")
    parser.add_argument("--ranges", default="60,365")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--spine-once", type=float, default=5.0, help="seconds: slower spines run once")
    parser.add_argument("--spine-limit", type=float, default=1e9, help="events x range days above which no spine")
    parser.add_argument("--no-intervals", action="store_true", help="leave out the hand intervals reference")
    parser.add_argument("--pg-prefix", default="rolling", help="PostgreSQL schemas: <prefix>_<size>")
    parser.add_argument("--load-only", action="store_true", help="load the data, run nothing")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    engines = [e for e in args.engines.split(",") if e != "postgresql" or args.pg_dsn]
    results = []
    for size in args.sizes.split(","):
        ensure_data(size, engines, args.pg_dsn, args.pg_prefix)
        if args.load_only:
            continue
        for engine in engines:
            project, table = project_for(engine, size, args.pg_dsn, args.pg_prefix)
            events = project.adapter().execute(f"SELECT count(*) AS n FROM {table}").column(0)[0].as_py()
            for days in [int(x) for x in args.ranges.split(",")]:
                for window in [int(x) for x in args.windows.split(",")]:
                    references: tuple[str, ...] = () if args.no_intervals else ("hand intervals",)
                    if events * days <= args.spine_limit:
                        references += ("spine",)
                    row = run_case(project, engine, table, window, days, args.rounds, references, args.spine_once)
                    row.update(size=size, events=events)
                    results.append(row)
                    print(json.dumps(row), flush=True)
                    if args.json:  # after every case: a cut-short run keeps what it measured
                        args.json.write_text(json.dumps(results, indent=2))
            project.close()


if __name__ == "__main__":
    main()
