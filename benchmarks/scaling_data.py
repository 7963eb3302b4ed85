"""The 50M comparison's data (``benchmarks/scaling.py``): the planner benchmark's time-ordered DuckDB
file exported once for the other engines, each in the layout a user of that engine would choose.

* **Parquet** (Spark): ``events/event_month=YYYY-MM-01/part-0.parquet`` — Hive directories by
  month, one file per month written in ``event_time`` order (one ``COPY`` per month, so each file
  keeps the source's order and its row groups' min/max on ``event_time`` are narrow: about a day
  each); ``users/part-0.parquet``. Month, not day: 13 directories of ~4M rows instead of 365 of
  ~140k (fewer files to list and open, ~100 MB files, Spark's split size) and the same unit as
  PostgreSQL's monthly partitions; queries still skip inside a month by row-group statistics.
  The project declares ``partition: {column: event_month, granularity: month, format: date}``.
* **chDB**: a MergeTree database loaded from that Parquet, ``PARTITION BY toYYYYMM(event_time)
  ORDER BY (event_name, event_time)`` (docs/scaling.md's advice for ClickHouse).
* **PostgreSQL**: ``planner_targets.load_postgres``'s partitioned layout (a partition per month,
  a B-tree on (event_name, event_date), VACUUM ANALYZE) into its own schema.

    python -m benchmarks.scaling_data --parquet --chdb --postgresql
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb

from benchmarks.planner_data import duckdb_path
from benchmarks.planner_queries import DATA

SIZE = "50m"
OUT = DATA / "scale50"
PARQUET = OUT / "parquet"
CHDB_DIR = OUT / "chdb"
CHDB_DATABASE = "scale50"
PG_SCHEMA = "scale50"
MONTH_PARTITION = {"column": "event_month", "granularity": "month", "format": "date"}


def _months(low: date, high: date) -> list[date]:
    months, month = [], low.replace(day=1)
    while month <= high:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def export_parquet(source: Path, out: Path = PARQUET, log: Callable[[str], None] = print) -> None:
    """Hive directories by month (see the module's docstring); skipped when already complete."""
    if (out / "_SUCCESS").exists():
        return
    con = duckdb.connect(str(source), read_only=True, config={"memory_limit": "2GB", "threads": "2"})
    try:
        started = time.perf_counter()
        (out / "users").mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY users TO '{out / 'users' / 'part-0.parquet'}' (FORMAT parquet)")
        low, high = con.sql("SELECT min(event_date), max(event_date) FROM events").fetchall()[0]
        for month in _months(low, high):
            following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
            folder = out / "events" / f"event_month={month.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"COPY (SELECT * FROM events WHERE event_date >= DATE '{month}' AND event_date < DATE '{following}') "
                f"TO '{folder / 'part-0.parquet'}' (FORMAT parquet, ROW_GROUP_SIZE 122880)"
            )
            log(f"parquet: {folder.name} written ({time.perf_counter() - started:.0f} s)")
        (out / "_SUCCESS").touch()
    finally:
        con.close()


def load_chdb(parquet: Path = PARQUET, directory: Path = CHDB_DIR, log: Callable[[str], None] = print) -> str:
    """The MergeTree database in a chDB session directory; its ``chdb://`` URL."""
    import chdb.session
    import pyarrow.parquet as pq

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.backends import clickhouse_ident, clickhouse_type

    url = f"chdb:///{directory.resolve()}?database={CHDB_DATABASE}"
    if (directory / "_SUCCESS").exists():
        return url
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    session = chdb.session.Session(str(directory))
    try:
        session.query("SET session_timezone = 'UTC'")
        session.query(f"DROP DATABASE IF EXISTS {CHDB_DATABASE}")
        session.query(f"CREATE DATABASE {CHDB_DATABASE}")
        for table, layout in (
            ("users", "ORDER BY user_id"),
            ("events", "PARTITION BY toYYYYMM(event_time) ORDER BY (event_name, event_time)"),
        ):
            files = sorted((parquet / table).rglob("*.parquet"))
            schema = pq.read_schema(files[0])
            nullable = {f.name for f in schema if f.name not in ("user_id", "event_time", "event_name", "event_date")}
            columns = ", ".join(f"{clickhouse_ident(f.name)} {clickhouse_type(f, f.name in nullable)}" for f in schema)
            target = f"{CHDB_DATABASE}.{table}"
            session.query(f"CREATE TABLE {target} ({columns}) ENGINE = MergeTree {layout}")
            names = ", ".join(clickhouse_ident(f.name) for f in schema)
            for path in files:
                session.query(f"INSERT INTO {target} SELECT {names} FROM file('{path}', Parquet)")
            log(f"chdb: {table} loaded ({time.perf_counter() - started:.0f} s)")
        session.query(f"OPTIMIZE TABLE {CHDB_DATABASE}.events FINAL")
    finally:
        session.close()
    (directory / "_SUCCESS").touch()
    log(f"chdb: loaded in {time.perf_counter() - started:.0f} s")
    return url


def load_pg(dsn: str, log: Callable[[str], None] = print) -> str:
    from benchmarks.planner_targets import load_postgres

    source = {"partitioned": duckdb_path(SIZE, "partitioned")}
    return load_postgres(dsn, SIZE, source, log, ("partitioned",), lambda _layout: PG_SCHEMA)["partitioned"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet", action="store_true")
    parser.add_argument("--chdb", action="store_true")
    parser.add_argument("--postgresql", default=None, metavar="DSN")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.parquet:
        export_parquet(duckdb_path(SIZE, "partitioned"), log=log)
    if args.chdb:
        load_chdb(log=log)
    if args.postgresql:
        load_pg(args.postgresql, log)


if __name__ == "__main__":
    main()
