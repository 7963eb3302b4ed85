"""The SQLite adapter: database files and URLs, date arithmetic against Python's, and breakdown
values as text, the same on every engine (see ``tests/adapters/test_adapters.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlglot import exp

import segwise
from segwise.adapters.base import Adapter
from segwise.adapters.sqlite import SQLiteAdapter, SQLiteFlavor, database_path
from segwise.errors import WarehouseError
from segwise.registry import open_adapter
from tests.adapters.hand import QUERIES, RANGE, hand_project, hand_tables, url_for
from tests.backends import canonical_text

# -- SQLite files and URLs -------------------------------------------------------------------------


def test_sqlite_database_path(tmp_path: Path) -> None:
    assert database_path("sqlite:////abs/events.db", None) == "/abs/events.db"
    assert database_path("sqlite:///rel/events.db", tmp_path) == str(tmp_path / "rel/events.db")
    assert database_path("sqlite:///with%20space.db", tmp_path) == str(tmp_path / "with space.db")
    assert database_path("sqlite:///:memory:", None) == ":memory:"
    assert database_path("sqlite://", None) == ":memory:"
    with pytest.raises(WarehouseError, match="no host"):
        database_path("sqlite://host/events.db", None)


def test_sqlite_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="not found"):
        SQLiteAdapter(f"sqlite:///{tmp_path}/missing.db")
    assert not (tmp_path / "missing.db").exists()  # read-only: nothing created


def test_sqlite_relative_url_and_awkward_path(
    tmp_path: Path, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = Path(database_path(url_for("sqlite", urls, tmp_path_factory), None))
    folder = tmp_path / "a folder #1"
    folder.mkdir()
    (folder / "hand?.sqlite").write_bytes(source.read_bytes())
    relative = SQLiteAdapter("sqlite:///a%20folder%20%231/hand%3F.sqlite", base_dir=tmp_path)
    try:
        assert relative.execute("SELECT count(*) AS n FROM events").column(0)[0].as_py() == 13
    finally:
        relative.close()


def test_sqlite_reads_t_separated_times(
    tmp_path: Path, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """adbc_ingest writes '2024-01-01T09:30:00.250000': the same answers as the canonical form."""
    import adbc_driver_sqlite.dbapi as sqlite_dbapi

    from tests.backends import create_table_sql, sqlite_ready

    path = tmp_path / "t.sqlite"
    with sqlite_dbapi.connect(str(path)) as con:
        with con.cursor() as cur:
            for name, table in hand_tables().items():
                ready = sqlite_ready(table)
                if "event_time" in table.column_names:
                    iso = [
                        None if v is None else v.replace(tzinfo=None).isoformat()
                        for v in table["event_time"].to_pylist()
                    ]
                    ready = ready.set_column(0, "event_time", pa.array(iso, type=pa.string()))
                cur.execute(create_table_sql(name, table.schema))
                cur.adbc_ingest(name, ready, mode="append")
        con.commit()
    with (
        hand_project(f"sqlite:///{path}") as t_form,
        hand_project(url_for("sqlite", urls, tmp_path_factory)) as canonical,
    ):
        assert t_form.adapter().execute("SELECT min(event_time) AS t FROM events").column(0)[0].as_py()[10] == "T"
        first_views = {
            "series": [{"event": "view", "measure": "unique_users", "occurrence": "first", "occurrence_scope": "ever"}],
            "date_range": {"from": "2024-01-01 09:30:00", "to": RANGE["to"]},
            "time_grain": "month",
        }
        queries = [QUERIES[name] for name in ("events_by_day", "events_by_hour", "filters", "weekly_active_users")]
        for query in [*queries, first_views]:
            want = segwise.run(query, canonical).to_pylist()
            assert want and segwise.run(query, t_form).to_pylist() == want


def test_sqlite_leading_nulls_keep_their_types() -> None:
    """The driver infers a column's type from its first batch; one batch avoids 'Type mismatch'."""
    sqlite = SQLiteAdapter("sqlite:///:memory:")
    sql = (
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 5000) "
        "SELECT CASE WHEN i > 4000 THEN i * 0.5 END AS v, CASE WHEN i > 4500 THEN 'x' END AS s, "
        "CASE WHEN i > 3000 THEN i END AS n FROM r"
    )
    try:
        table = sqlite.execute(sql)
        assert table.schema.types == [pa.float64(), pa.string(), pa.int64()]
        assert [table.column(i).null_count for i in range(3)] == [4000, 4500, 3000]
        batches = list(sqlite.execute_batches(sql))
        assert sum(b.num_rows for b in batches) == 5000
    finally:
        sqlite.close()


# -- SQLite date arithmetic ------------------------------------------------------------------------

GRAINS = ("hour", "day", "week", "month", "quarter", "year")
STAMPS = (
    "2024-01-01 00:00:00",  # a Monday, a year, quarter and month start
    "2024-03-31 23:59:59.999999",  # a Sunday, the last microsecond of a quarter
    "2024-02-29T12:34:56",  # leap day, 'T' separator
    "2023-12-31 23:30:00.5",  # a Sunday at the end of a year
    "2024-11-03 01:30:00",
    "2024-06-30T08:15:00.000001",
    "2025-01-05 00:00:00",  # a Sunday at midnight
    "2024-07-04",  # a bare date
)


def py_truncate(value: datetime, grain: str, week_start: int = 0) -> datetime:
    """Plain datetime arithmetic (week_start: 0 Monday ... 6 Sunday)."""
    if grain == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=(day.weekday() - week_start) % 7)
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    assert grain == "year"
    return day.replace(month=1, day=1)


def _sqlite_values(expressions: list[exp.Expr]) -> list[Any]:
    flavor = SQLiteFlavor()
    sqlite = SQLiteAdapter("sqlite:///:memory:")
    try:
        select = exp.select(*[e.as_(f"c{i}") for i, e in enumerate(expressions)])
        return list(sqlite.execute(flavor.render(select)).to_pylist()[0].values())
    finally:
        sqlite.close()


@pytest.mark.parametrize("grain", GRAINS)
def test_sqlite_truncation_matches_python(grain: str) -> None:
    flavor = SQLiteFlavor()
    got = _sqlite_values([flavor.truncate(grain, exp.Literal.string(s)) for s in STAMPS])
    for stamp, text in zip(STAMPS, got, strict=True):
        assert len(text) == 19, text  # 'YYYY-MM-DD HH:MM:SS', the form literals and buckets share
        assert datetime.fromisoformat(text) == py_truncate(datetime.fromisoformat(stamp), grain), stamp


@pytest.mark.parametrize(("week_start", "day_name"), [(0, "monday"), (2, "wednesday"), (6, "sunday")])
def test_sqlite_weeks_starting_any_day(week_start: int, day_name: str) -> None:
    """What the compiler builds for week_start != monday: shift, truncate to Monday, shift back."""
    flavor = SQLiteFlavor()

    def bucket(ts: exp.Expr) -> exp.Expr:
        if not week_start:
            return flavor.truncate("week", ts)
        return flavor.add_days(flavor.truncate("week", flavor.add_days(ts, -week_start)), week_start)

    got = _sqlite_values([bucket(exp.Literal.string(s)) for s in STAMPS])
    for stamp, text in zip(STAMPS, got, strict=True):
        want = py_truncate(datetime.fromisoformat(stamp), "week", week_start)
        assert datetime.fromisoformat(text) == want, (day_name, stamp)
        assert want.strftime("%A").lower() == day_name


def _utc_naive(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = (moment - moment.utcoffset()).replace(tzinfo=None)  # type: ignore[operator]
    return moment


def test_sqlite_time_comparisons_follow_time_order() -> None:
    """Stored text in any ISO form, compared with a bound, agrees with comparing the instants."""
    stored = (
        "2024-01-01 10:00:00",
        "2024-01-01 10:00:00.000000",
        "2024-01-01T10:00:00",
        "2024-01-01 09:59:59.999999",
        "2024-01-01 10:00:00.5",
        "2024-01-01T10:00:01Z",
        "2024-01-01",
        "2024-01-01 12:00:00+02:00",
    )
    bounds = (datetime(2024, 1, 1), datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 10, 0, 0, 500000))
    flavor = SQLiteFlavor()
    expressions: list[exp.Expr] = []
    expected: list[int] = []
    for text in stored:
        for bound in bounds:
            literal = flavor.timestamp_literal(bound.strftime("%Y-%m-%d %H:%M:%S.%f"), False)
            column = flavor.time_for_compare(exp.Literal.string(text), "timestamp")
            expressions.append(exp.GTE(this=column, expression=literal))
            expressions.append(exp.LT(this=column, expression=literal.copy()))
            expected += [int(_utc_naive(text) >= bound), int(_utc_naive(text) < bound)]
    assert _sqlite_values(expressions) == expected


def test_stored_canonical_text_sorts_in_time_order() -> None:
    moments = [datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 10, 0, 0, 1), datetime(2024, 1, 1, 10, 0, 0, 500000)]
    texts = [str(canonical_text(m)) for m in moments]
    assert texts == ["2024-01-01 10:00:00", "2024-01-01 10:00:00.000001", "2024-01-01 10:00:00.500000"]
    assert sorted(texts) == texts


# -- breakdown values as text: the same on every engine ---------------------------------------------

TEXT_CASES: list[tuple[str, Any]] = [
    ("float", 3.0),
    ("float", -7.0),
    ("float", 2.5),
    ("float", 1e20),
    ("float", 1.5e-07),
    ("float", 123456789.0),
    ("float", 0.30000000000000004),
    ("float", 1e16),
    ("float", 1.2345678901234568e16),
    ("float", -1.5e16),
    ("float", 1e15),
    ("float", 1e17),
    ("float", 1e-05),
    ("integer", 1234567890123456789),
    ("boolean", True),
    ("boolean", False),
    ("date", "2024-01-02"),
    ("timestamp", "2024-01-02 10:00:00"),
    ("timestamp", "2024-01-02 10:00:00.5"),
    ("timestamp", "2024-01-02 10:00:00.123456"),
]


def _typed(engine: str, kind: str, value: Any) -> exp.Expr:
    """A value as the engine stores it (SQLite: booleans 0/1, dates and times as text)."""
    if kind == "float":
        return exp.cast(exp.Literal.number(repr(value)), exp.DataType.Type.DOUBLE)
    if kind == "integer":
        return exp.cast(exp.Literal.number(str(value)), exp.DataType.Type.BIGINT)
    if kind == "boolean":
        return exp.Literal.number(int(value)) if engine == "sqlite" else exp.Boolean(this=value)
    if engine == "sqlite":
        return exp.Literal.string(value)
    kind_type = exp.DataType.Type.DATE if kind == "date" else exp.DataType.Type.TIMESTAMP
    return exp.cast(exp.Literal.string(value), kind_type)


def test_breakdown_text_is_the_same_on_every_engine(
    engine: str, adapter: Adapter, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    def texts(on: Adapter, name: str) -> list[Any]:
        f = on.flavor
        select = exp.select(*[f.as_text(_typed(name, k, v), k).as_(f"c{i}") for i, (k, v) in enumerate(TEXT_CASES)])
        return list(on.execute(f.render(select)).to_pylist()[0].values())

    duckdb = open_adapter(url_for("duckdb", urls, tmp_path_factory))
    try:
        want = texts(duckdb, "duckdb")
    finally:
        duckdb.close()
    assert want[:3] == ["3.0", "-7.0", "2.5"]
    assert texts(adapter, engine) == want
