"""The planner benchmark's engines: DuckDB and PostgreSQL targets that time statements and profile
them (rows and bytes scanned, peak memory), and loading PostgreSQL (see ``benchmarks/planner.py``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from benchmarks.planner_queries import DUCKDB_CONFIG, LAYOUTS, PG_SETTINGS, Execute, lit
from segwise.demo.generate import EVENTS_SCHEMA

# -- engines: timing and profiles ---------------------------------------------------------------------


class Timeout(Exception):
    pass


class DuckDBTarget:
    """One DuckDB file: a timing connection and a profiling one (same database instance)."""

    engine = "duckdb"

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.url = f"duckdb:///{self.path.resolve()}"
        self.timeout = timeout
        self.con = duckdb.connect(str(self.path), read_only=True, config=dict(DUCKDB_CONFIG))
        self.prof = self.con.cursor()
        self.prof.execute("PRAGMA enable_profiling='no_output'")
        self.prof.execute("SET profiling_mode='detailed'")
        self.events = self.con.sql("SELECT count(*) FROM events").fetchall()[0][0]
        self.widths = {t: self._widths(t) for t in ("events", "users")}

    def _widths(self, table: str) -> dict[str, float]:
        """Bytes per value of each column, uncompressed: the type's width; text: average length."""
        widths: dict[str, float] = {}
        for name, kind in self.con.sql(
            f"SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '{table}'"
        ).fetchall():
            if kind == "VARCHAR":
                widths[name] = float(
                    self.con.sql(f'SELECT coalesce(avg(strlen("{name}")), 0) FROM {table}').fetchall()[0][0]
                )
            else:
                widths[name] = {"DATE": 4.0, "BOOLEAN": 1.0, "INTEGER": 4.0}.get(kind, 8.0)
        return widths

    def execute(self, sql: str, con: Any = None) -> pa.Table:
        con = con or self.con
        timer = threading.Timer(self.timeout, con.interrupt)
        timer.start()
        try:
            return con.sql(sql).to_arrow_table()
        except duckdb.InterruptException as exc:
            raise Timeout(f"over {self.timeout:.0f} s") from exc
        finally:
            timer.cancel()

    def profile(self, plan: Callable[[Execute], pa.Table]) -> dict[str, Any]:
        """Run once with profiling; sum scans over every statement the plan sends."""
        totals = {"rows_scanned": 0, "bytes_scanned": 0, "bytes_read_from_file": 0, "peak_memory": 0, "statements": 0}

        def execute(sql: str) -> pa.Table:
            result = self.execute(sql, self.prof)
            info = json.loads(self.prof.get_profiling_information(format="json"))
            totals["statements"] += 1
            totals["rows_scanned"] += int(info["query"]["total_rows_scanned"])
            totals["bytes_read_from_file"] += int(info["io"]["total_bytes_read"])
            totals["peak_memory"] = max(totals["peak_memory"], int(info["system"]["peak_buffer_memory"]))
            totals["bytes_scanned"] += int(sum(self._scan_bytes(op) for op in info["operator"]))
            return result

        plan(execute)
        return totals

    def _scan_bytes(self, node: dict[str, Any]) -> float:
        total = sum(self._scan_bytes(child) for child in node.get("children", []))
        if node.get("type") == "TABLE_SCAN" and "rows_scanned" in node:
            extra = node.get("extra_info", {})
            table = str(extra.get("Table", "")).rsplit(".", 1)[-1]
            widths = self.widths.get(table, {})
            text = json.dumps([extra.get("Projections"), extra.get("Filters")])
            read = [w for col, w in widths.items() if f"{col}" in _words(text)]
            total += node["rows_scanned"] * sum(read)
        return total

    def close(self) -> None:
        self.prof.close()
        self.con.close()


def _words(text: str) -> set[str]:
    import re

    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


class PostgresTarget:
    """One schema on the throwaway cluster; EXPLAIN (ANALYZE, BUFFERS) through a plpgsql wrapper."""

    engine = "postgresql"

    def __init__(self, dsn: str, schema: str, timeout: float) -> None:
        import adbc_driver_postgresql.dbapi as pg

        from tests.backends import with_search_path

        options = " ".join(f"-c {k}={v}" for k, v in PG_SETTINGS.items())
        self.url = with_search_path(dsn, schema) + "%20" + options.replace(" ", "%20").replace("=", "%3D")
        self.timeout = timeout
        self.con = pg.connect(self.url, autocommit=True)
        self.cur = self.con.cursor()
        self.cur.execute(f"SET statement_timeout = '{int(timeout * 1000)}ms'")
        self.events = self.scalar("SELECT count(*) FROM events")

    def scalar(self, sql: str) -> Any:
        return self.execute(sql).column(0)[0].as_py()

    def execute(self, sql: str) -> pa.Table:
        try:
            self.cur.execute(sql)
            return self.cur.fetch_arrow_table()
        except Exception as exc:
            if "statement timeout" in str(exc) or "canceling statement" in str(exc) or "CANCELLED" in str(exc):
                self.cur = self.con.cursor()
                raise Timeout(f"over {self.timeout:.0f} s") from exc
            raise

    def profile(self, plan: Callable[[Execute], pa.Table]) -> dict[str, Any]:
        totals = {"rows_scanned": 0, "bytes_scanned": 0, "peak_memory": 0, "temp_bytes": 0, "statements": 0}

        def execute(sql: str) -> pa.Table:
            text = self.scalar(f"SELECT bench_explain({lit(sql)})")
            root = json.loads(text)[0]["Plan"]
            totals["statements"] += 1
            totals["rows_scanned"] += int(_pg_rows(root))
            blocks = root.get("Shared Hit Blocks", 0) + root.get("Shared Read Blocks", 0)
            totals["bytes_scanned"] += blocks * 8192
            totals["temp_bytes"] += (root.get("Temp Read Blocks", 0) + root.get("Temp Written Blocks", 0)) * 8192
            totals["peak_memory"] = max(totals["peak_memory"], int(_pg_memory(root)))
            return self.execute(sql)  # the plan's next step needs the rows (EXPLAIN returns none)

        plan(execute)
        return totals

    def close(self) -> None:
        self.cur.close()
        self.con.close()


PG_SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Tid Scan"}


def _pg_rows(node: dict[str, Any]) -> float:
    """Rows read by table scans: (rows returned + removed by filters) x loops."""
    total = sum(_pg_rows(child) for child in node.get("Plans", []))
    if node.get("Node Type") in PG_SCANS:
        per_loop = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        per_loop += node.get("Rows Removed by Index Recheck", 0)
        total += per_loop * node.get("Actual Loops", 1)
    return total


def _pg_memory(node: dict[str, Any]) -> float:
    """Bytes: sum of the in-memory sorts', hashes' and hash aggregates' reported peaks (an upper
    bound of the statement's working memory: the nodes may not all peak at once)."""
    total = sum(_pg_memory(child) for child in node.get("Plans", []))
    kb = node.get("Peak Memory Usage", 0)
    if node.get("Sort Space Type") == "Memory":
        kb += node.get("Sort Space Used", 0)
    return total + kb * 1024


EXPLAIN_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_explain(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || q INTO plan;
  RETURN plan::text;
END $$"""


def load_postgres(
    dsn: str,
    name: str,
    paths: dict[str, Path],
    log: Callable[[str], None] = print,
    layouts: tuple[str, ...] = LAYOUTS,
    schema_name: Callable[[str], str] | None = None,
) -> dict[str, str]:
    """The ``layouts`` (``paths``: layout -> DuckDB file) into schemas on the server; {layout: schema}.

    Schemas are ``planner_{name}_{layout}`` unless ``schema_name(layout)`` names them.

    partitioned: ``events`` PARTITION BY RANGE (event_date), one partition per month, rows in time
    order; unpartitioned: one heap table, rows in the shuffled order. Both: a B-tree on
    (event_name, event_date) (per partition), users with a PRIMARY KEY, ANALYZE, VACUUM.
    """
    import adbc_driver_postgresql.dbapi as pg

    from tests.backends import create_table_sql, plain_types

    schemas = {}
    for layout in layouts:
        schema = schema_name(layout) if schema_name else f"planner_{name}_{layout}"
        schemas[layout] = schema
        t0 = time.perf_counter()
        src = duckdb.connect(str(paths[layout]), read_only=True, config=dict(DUCKDB_CONFIG))
        try:
            with pg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
                cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                cur.execute(f"CREATE SCHEMA {schema}")
                cur.execute(f"SET search_path = {schema}")
                cur.execute(EXPLAIN_FUNCTION)
                users = plain_types(src.sql("SELECT * FROM users").to_arrow_table())
                cur.execute(create_table_sql("users", users.schema, schema))
                cur.adbc_ingest("users", users, mode="append", db_schema_name=schema)
                cur.execute(f"ALTER TABLE {schema}.users ADD PRIMARY KEY (user_id)")
                ddl = create_table_sql("events", pa.schema(list(EVENTS_SCHEMA)), schema)
                if layout == "partitioned":
                    cur.execute(ddl + " PARTITION BY RANGE (event_date)")
                    low, high = src.sql("SELECT min(event_date), max(event_date) FROM events").fetchall()[0]
                    month = low.replace(day=1)
                    while month <= high:
                        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
                        cur.execute(
                            f"CREATE TABLE {schema}.events_{month:%Y_%m} PARTITION OF {schema}.events "
                            f"FOR VALUES FROM ('{month}') TO ('{following}')"
                        )
                        month = following
                else:
                    cur.execute(ddl)
                reader = src.sql("SELECT * FROM events").to_arrow_reader(batch_size=1_000_000)
                for batch in reader:
                    cur.adbc_ingest(
                        "events", plain_types(pa.Table.from_batches([batch])), mode="append", db_schema_name=schema
                    )
                cur.execute(f"CREATE INDEX ON {schema}.events (event_name, event_date)")
                cur.execute(f"VACUUM ANALYZE {schema}.events")
                cur.execute(f"VACUUM ANALYZE {schema}.users")
        finally:
            src.close()
        log(f"postgresql {name} {layout}: loaded into {schema} in {time.perf_counter() - t0:.0f} s")
    return schemas
