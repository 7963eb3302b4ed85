"""The planner benchmark's data: the demo generator's tables in DuckDB files, cached per size and
layout (see ``benchmarks/planner.py``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

import segwise
from benchmarks.planner_queries import DATA, DAYS, PARTITION
from segwise.demo.generate import DEFAULT_START

# -- data ----------------------------------------------------------------------------------------------


def duckdb_path(size: str, layout: str) -> Path:
    return DATA / f"planner-{size}-{layout}.duckdb"


def ensure_duckdb(size: str, users: int, log: Callable[[str], None] = print) -> None:
    """Both layouts of one size as DuckDB files (generated once, then cached).

    partitioned: events in event_time order (the generator's), so row-group zone maps on
    event_time / event_date prune; unpartitioned: the same rows shuffled (no useful zone maps).
    """
    part, flat = duckdb_path(size, "partitioned"), duckdb_path(size, "unpartitioned")
    DATA.mkdir(parents=True, exist_ok=True)
    if not part.exists():
        t0 = time.perf_counter()
        events = write_chunked(part, users)
        log(f"generated {events:,} events ({users:,} users) into {part} in {time.perf_counter() - t0:.0f} s")
    if not flat.exists():
        t0 = time.perf_counter()
        scratch = flat.with_name(f".{flat.name}.{os.getpid()}.tmp")
        scratch.unlink(missing_ok=True)
        con = duckdb.connect(str(scratch), config={"memory_limit": "6GB"})
        try:
            con.execute(f"ATTACH '{part}' AS src (READ_ONLY)")
            con.execute("CREATE TABLE users AS SELECT * FROM src.users")
            # a fixed pseudo-random order: no correlation between storage position and time
            con.execute(
                "CREATE TABLE events AS SELECT * FROM src.events ORDER BY hash(session_id, event_time, user_id)"
            )
            con.execute("DETACH src")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(scratch, flat)
        log(f"shuffled {part.name} into {flat.name} in {time.perf_counter() - t0:.0f} s")


CHUNK_USERS = 100_000  # the generator holds ~3.5 GB for 100,000 users; larger sizes are made of chunks


def write_chunked(path: Path, users: int, days: int = DAYS, start: date = DEFAULT_START) -> int:
    """The demo data for ``users`` users in event_time order; above CHUNK_USERS, independent chunks
    (seeds 7, 8, ...) whose user and session ids get a chunk prefix (``c1-u000001``), so memory
    stays bounded. One chunk is exactly ``write_duckdb``'s data."""
    from segwise.demo.generate import generate_tables

    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch), config={"memory_limit": "6GB"})
    try:
        chunks = max(1, -(-users // CHUNK_USERS))
        for k in range(chunks):
            n = min(CHUNK_USERS, users - k * CHUNK_USERS)
            user_table, events = generate_tables(users=n, days=days, seed=7 + k, start=start)
            prefix = "" if chunks == 1 else f"c{k}-"
            con.register("_users", user_table)
            con.register("_events", events)
            ids = f"'{prefix}' || user_id AS user_id"
            if k == 0:
                con.execute("CREATE TABLE users AS SELECT * REPLACE (" + ids + ") FROM _users WHERE false")
                con.execute("CREATE TABLE raw AS SELECT * FROM _events WHERE false")
            con.execute(f"INSERT INTO users SELECT * REPLACE ({ids}) FROM _users")
            con.execute(
                f"INSERT INTO raw SELECT * REPLACE ({ids}, '{prefix}' || session_id AS session_id) FROM _events"
            )
            con.unregister("_users")
            con.unregister("_events")
            del user_table, events
        if chunks == 1:
            con.execute("ALTER TABLE raw RENAME TO events")  # already in event_time order
        else:
            con.execute("CREATE TABLE events AS SELECT * FROM raw ORDER BY event_time")
            con.execute("DROP TABLE raw")
        con.execute("CHECKPOINT")
        count = con.sql("SELECT count(*) FROM events").fetchall()[0][0]
    finally:
        con.close()
    Path(f"{scratch}.wal").unlink(missing_ok=True)
    os.replace(scratch, path)
    return int(count)


def project_for(url: str, layout: str, partition: dict[str, str] | None = None) -> segwise.Project:
    """The benchmark's project on ``url``; ``partitioned``: with the day partition ``event_date``
    declared (or ``partition``)."""
    table: dict[str, Any] = {"table": "events", "user_id": "user_id", "event_time": "event_time"}
    table["event_name"] = "event_name"
    if layout == "partitioned":
        table["partition"] = partition or PARTITION
    return segwise.Project(
        warehouse=url, timezone="UTC", week_start="monday", event_tables=[table], user_tables=[{"table": "users"}]
    )
