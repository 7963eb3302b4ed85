"""A deterministic, realistic product-analytics data set for the demo, the gallery and tests.

One numpy ``Generator`` drives everything, always in the same order, so a seed gives the same tables
on every machine. Work is vectorised per stage (users, sessions, events in sessions, payments,
push notifications); there is no Python loop per event.

The story the data tells: a SaaS product with a marketing site. Users sign up over the period (some
signed up up to 60 days before it, so the data starts with an existing base), come back in sessions
at a heavy-tailed per-user rate, busier on weekdays and in their local working hours, and stop after
a personal lifetime (many try it once, paying users stay long). Paying users are billed monthly or
yearly; mobile users get push notifications, a few of which they open.

The product is described in ``model`` (events, vocabularies, weights); ``users`` draws the users,
``activity`` their sessions, payments and push notifications, with ``sampling``'s vectorised
helpers. This module runs the stages in order, assembles the Arrow tables and writes DuckDB.

    >>> users, events = generate_tables(users=200, days=14)
    >>> users.num_rows, events.column_names[:4]
    (200, ['user_id', 'event_time', 'event_name', 'event_date'])

Only events inside ``[start, start + days)`` are kept. A user who signed up before ``start``
therefore has no ``signup`` event (it predates the data); every user who signed up inside the range
has exactly one, at ``signup_time``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .activity import Events, make_payments, make_push, make_sessions
from .model import (
    ACCOUNT_SIZE,
    ACCOUNTS,
    CAMPAIGNS,
    CHANNELS,
    CITIES,
    COUNTRIES,
    DAY,
    DEFAULT_START,
    EPOCH,
    EVENT_NAMES,
    EVENTS_SCHEMA,
    FEATURES,
    LICENSES,
    NOTIFICATIONS,
    PLANS,
    PLATFORMS,
    REFERRERS,
    SUBSCRIPTIONS,
    URLS,
    USERS_SCHEMA,
)
from .users import Users, make_users

__all__ = [
    "DEFAULT_START",
    "EVENTS_SCHEMA",
    "EVENT_NAMES",
    "USERS_SCHEMA",
    "DemoInfo",
    "generate_tables",
    "write_duckdb",
]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoInfo:
    """What ``write_duckdb`` wrote."""

    path: Path
    users: int
    events: int
    first_event_time: datetime
    last_event_time: datetime
    start_date: date
    end_date: date  # exclusive: events lie in [start_date, end_date)


# -- Arrow assembly --------------------------------------------------------------------------------


def _strings(vocab: Sequence[str], codes: np.ndarray) -> pa.Array:
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.array(list(vocab), pa.string()).take(indices)


def _floats(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=np.isnan(values))


def _timestamps(us: np.ndarray) -> pa.Array:
    return pa.array(us.astype("datetime64[us]"), pa.timestamp("us"))


def _users_table(u: Users, user_ids: list[str]) -> pa.Table:
    columns = [
        pa.array(user_ids, pa.string()),
        _timestamps(u.signup),
        _strings(COUNTRIES, u.country),
        _strings(CITIES, u.city),
        _strings(SUBSCRIPTIONS, u.subscription),
        _strings(LICENSES, u.license),
        _strings(ACCOUNTS, u.account),
        _strings(CHANNELS, u.channel),
        _account_ids(u),
    ]
    return pa.Table.from_arrays(columns, schema=USERS_SCHEMA)


def _account_ids(u: Users) -> pa.Array:
    """The organisation account of each business or education user (null for personal ones): in
    sign-up order, every ``ACCOUNT_SIZE`` such users of one license type share an account. Drawn
    from no random numbers, so every other column stays as it was."""
    ids: list[str | None] = []
    seen: dict[int, int] = {}
    for license_, account in zip(u.license.tolist(), u.account.tolist(), strict=True):
        if account <= 0:  # personal
            ids.append(None)
            continue
        n = seen.get(license_, 0)
        seen[license_] = n + 1
        ids.append(f"acct-{LICENSES[license_]}-{n // ACCOUNT_SIZE:04d}")
    return pa.array(ids, pa.string())


def _events_table(cols: dict[str, np.ndarray], user_ids: pa.Array, sessions: int) -> pa.Table:
    session_ids = pa.array([f"s{i + 1:07d}" for i in range(sessions)], pa.string())
    session = cols["session"]
    columns = [
        user_ids.take(pa.array(cols["user"])),
        _timestamps(cols["time"]),
        _strings(EVENT_NAMES, cols["name"]),
        pa.array((cols["time"] // DAY).astype(np.int32), pa.date32()),
        _strings(PLATFORMS, cols["platform"]),
        _strings(CAMPAIGNS, cols["campaign"]),
        _strings(URLS, cols["url"]),
        _strings(REFERRERS, cols["referrer"]),
        _strings(FEATURES, cols["feature"]),
        _floats(cols["revenue"]),
        _strings(PLANS, cols["plan"]),
        _floats(cols["amount"]),
        _strings(NOTIFICATIONS, cols["notification"]),
        session_ids.take(pa.array(session.astype(np.int64), mask=session < 0)),
    ]
    return pa.Table.from_arrays(columns, schema=EVENTS_SCHEMA)


def _epoch_us(day: date) -> int:
    return (day - EPOCH).days * DAY


def generate_tables(
    users: int = 20_000,
    days: int = 180,
    seed: int = 7,
    start: date = DEFAULT_START,
    progress: Progress | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Generate ``(users, events)`` Arrow tables; the same arguments always give the same tables.

    Events lie in ``[start, start + days)`` (naive timestamps meaning UTC), sorted by
    ``event_time``.
    ``progress(done, total)`` is called after each stage.

        >>> users_table, events_table = generate_tables(users=100, days=7, seed=1)
        >>> users_table.column("user_id")[0].as_py()
        'u000001'
    """
    if users < 1:
        raise ValueError(f"users must be at least 1, got {users}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if isinstance(start, datetime):
        start = start.date()
    total = 6

    def step(done: int) -> None:
        if progress is not None:
            progress(done, total)

    rng = np.random.default_rng(seed)
    start_us = _epoch_us(start)
    end_us = start_us + days * DAY
    u = make_users(rng, users, start_us, end_us)
    step(1)
    events = Events()
    sessions = make_sessions(rng, u, start_us, end_us, events)
    step(2)
    make_payments(rng, u, start_us, end_us, events)
    step(3)
    make_push(rng, u, start_us, end_us, events)
    step(4)

    cols = events.concatenated()
    inside = (cols["time"] >= start_us) & (cols["time"] < end_us)
    order = np.argsort(cols["time"][inside], kind="stable")
    cols = {k: v[inside][order] for k, v in cols.items()}
    width = max(6, len(str(users)))
    user_ids = [f"u{i + 1:0{width}d}" for i in range(users)]
    users_table = _users_table(u, user_ids)
    step(5)
    events_table = _events_table(
        cols,
        users_table.column("user_id").combine_chunks(),
        sessions,
    )
    step(6)
    return users_table, events_table


def write_duckdb(
    path: str | os.PathLike[str],
    users: int = 20_000,
    days: int = 180,
    seed: int = 7,
    start: date = DEFAULT_START,
    progress: Progress | None = None,
) -> DemoInfo:
    """Generate the demo data and write tables ``users`` and ``events`` to a DuckDB file.

    An existing file is replaced (atomically: the new database is written beside it first).

        >>> info = write_duckdb("demo.duckdb", users=500, days=30)  # doctest: +SKIP
        >>> info.end_date
        datetime.date(2025, 1, 31)
    """
    import duckdb

    target = Path(path)
    total = 7

    def forward(done: int, _total: int) -> None:
        if progress is not None:
            progress(done, total)

    users_table, events_table = generate_tables(users, days, seed, start, forward)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for leftover in (scratch, Path(f"{scratch}.wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch))
    try:
        con.register("demo_users_arrow", users_table)
        con.execute("CREATE TABLE users AS SELECT * FROM demo_users_arrow")
        con.unregister("demo_users_arrow")
        con.register("demo_events_arrow", events_table)
        con.execute("CREATE TABLE events AS SELECT * FROM demo_events_arrow")
        con.unregister("demo_events_arrow")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    # a stale write-ahead log next to the target would be replayed into the new file
    Path(f"{target}.wal").unlink(missing_ok=True)
    os.replace(scratch, target)
    forward(total, total)

    times = events_table.column("event_time")
    bounds = pc.min_max(times)
    if isinstance(start, datetime):
        start = start.date()
    return DemoInfo(
        path=target,
        users=users_table.num_rows,
        events=events_table.num_rows,
        first_event_time=bounds["min"].as_py(),
        last_event_time=bounds["max"].as_py(),
        start_date=start,
        end_date=start + timedelta(days=days),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m segwise.demo.generate demo.duckdb [--users N] [--days N] [--seed N]``."""
    parser = argparse.ArgumentParser(description="Write the segwise demo data set to DuckDB.")
    parser.add_argument("path", nargs="?", default="demo.duckdb")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    info = write_duckdb(args.path, args.users, args.days, args.seed, args.start)
    print(
        f"wrote {info.path}: {info.users:,} users, {info.events:,} events "
        f"from {info.first_event_time} to {info.last_event_time} "
        f"in {time.perf_counter() - began:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
