"""``segwise rollup build NAME``: create or refresh a rollup, chunk by chunk (the one command that writes).

The build reads the rollup's source table and writes exactly two tables, both where the project
file points: the rollup's ``table`` and ``segwise_rollup_state`` in the same schema. Every statement
passes the write guard (``guard.check_write``): it may create, fill, clear or drop only those
tables, and read only the configured event table.

Incremental by partition: a first build (or ``--full``) starts at the first event; later builds
start where the last one stopped (``covered_to``), or earlier with ``--since`` to take late
events in. Only whole buckets up to ``now`` are written (the partial current day is read from raw
events at query time). Each chunk (a month of buckets) is one transaction: delete the chunk's
buckets, insert them again from the source with the partition predicate, advance the state, so an
interrupted build leaves a consistent rollup that the next run continues.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.adapters.base import Adapter

from .errors import SpecError
from .guard import check_expression, check_text, check_write
from .lower.rollup_rows import rollup_rows
from .lower.rows import RowSource, TimeBounds
from .lower.scope import Scope
from .observe import configured_tables
from .partitions import floor_to
from .query import Query
from .registry import adapter_class
from .rollups import BUCKET, RollupInfo, rollups, state_ref
from .timeframe import add_months, parse_now, resolve_timeframe, to_utc, ts_text

if TYPE_CHECKING:
    import pyarrow as pa

    from segwise.adapters.base import TableRef, Writer

    from .project import Project

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BuildReport:
    name: str
    table: str
    covered_from: datetime | None
    covered_to: datetime | None
    chunks: int
    rows: int
    seconds: float
    mode: str  # full | incremental | up to date

    def summary(self) -> str:
        if self.mode == "up to date":
            return f"rollup {self.name} ({self.table}) is up to date through {self.covered_to:%Y-%m-%d %H:%M}"
        return (
            f"rollup {self.name} ({self.table}): {self.mode} build of {self.chunks} chunk(s) in {self.seconds:.1f} s; "
            f"covers {self.covered_from:%Y-%m-%d %H:%M} to {self.covered_to:%Y-%m-%d %H:%M} (local), "
            f"{self.rows:,} rows"
        )


def build(
    project: Project,
    name: str,
    *,
    full: bool = False,
    since: datetime | str | None = None,
    now: datetime | str | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Create or refresh rollup ``name``; see the module docstring."""
    import time

    started = time.perf_counter()
    rollup = project.rollup(name)
    catalog = project.catalog(refresh=True)
    info = next(i for i in rollups(project, catalog) if i.spec.name == name)
    adapter = project.adapter()
    writer_class = adapter_class(project.warehouse)
    if writer_class.open_writer.__func__ is Adapter.open_writer.__func__:  # type: ignore[attr-defined]
        writer_class.open_writer(project.warehouse)  # raises the adapter's "cannot build rollups"
    tz = project.tz
    end = floor_to(parse_now(now, tz), rollup.grain)
    rebuild = full or info.state is None or info.problem is not None
    state = None if rebuild else info.state  # where the last build stopped, when it is continued
    query = Query.parse({"series": [{"event": "any"}], "date_range": {"last": "1d"}, "time_grain": "total"})
    timeframe = resolve_timeframe(query, project.timezone, project.week_start_index, now)
    scope = Scope(project, catalog, adapter.flavor, timeframe)

    def source(bounds: TimeBounds) -> RowSource:
        rows = RowSource(scope, list(query.series[0].members), [], None, f"rollups > {name}")
        rows.tables, rows.union = [info.source], False
        rows.bounds = bounds
        return rows

    if rebuild:
        first = _first_event(adapter, source(TimeBounds(None, None)))
        if first is None:
            raise SpecError(f"rollup {name}: the source table {info.source.ref} has no events", where="rollup build")
        start = floor_to(first, rollup.grain)
        covered_from = start
    else:
        assert state is not None
        start = state.covered_to
        covered_from = state.covered_from
        if since is not None:
            start = min(start, max(covered_from, floor_to(parse_now(since, tz), rollup.grain)))
    if not rebuild and start >= end:
        return BuildReport(
            name, rollup.table, covered_from, state.covered_to if state is not None else None, 0, 0, 0.0, "up to date"
        )
    if start >= end:
        raise SpecError(
            f"rollup {name}: nothing to build before {end:%Y-%m-%d %H:%M} (the first event is later)",
            where="rollup build",
        )
    chunks = _chunks(start, end, rollup.grain)
    reads = configured_tables(project)
    targets = [info.ref, state_ref(info.ref)]
    source(TimeBounds(None, None))  # discovers what it needs (event names) while the session is open
    project.close()  # the read-only session; DuckDB cannot open the file twice with other settings
    writer = writer_class.open_writer(project.warehouse, project._base_dir)
    send = _Sender(writer, adapter, targets, reads)
    try:
        _prepare(send, info, source(TimeBounds(to_utc(start, tz), to_utc(start, tz))), rebuild)
        covered_to = state.covered_to if state is not None else start
        for number, (lo, hi) in enumerate(chunks, 1):
            if progress is not None:
                progress(number - 1, len(chunks), f"{lo:%Y-%m-%d} to {hi:%Y-%m-%d}")
            covered_to = max(covered_to, hi)
            send.begin()
            try:
                send(_delete_buckets(info, adapter, lo, hi))
                insert = exp.insert(
                    rollup_rows(scope, info, source(TimeBounds(to_utc(lo, tz), to_utc(hi, tz)))),
                    info.ref.expression(),
                )
                send(insert)
                _write_state(send, info, adapter, covered_from, covered_to)
                send.commit()
            except BaseException:
                send.rollback()
                raise
        count = send(exp.select(exp.Count(this=exp.Star()).as_("n")).from_(info.ref.expression()))
        rows = int(count.column("n")[0].as_py()) if count is not None else 0
        send.begin()
        _write_state(send, info, adapter, covered_from, covered_to, rows)
        send.commit()
        if progress is not None:
            progress(len(chunks), len(chunks), "done")
    finally:
        writer.close()
    mode = "full" if rebuild else "incremental"
    return BuildReport(
        name, rollup.table, covered_from, covered_to, len(chunks), rows, time.perf_counter() - started, mode
    )


class _Sender:
    """Renders, guards and sends one build statement."""

    def __init__(self, writer: Writer, adapter: Adapter, targets: list[TableRef], reads: list[TableRef]) -> None:
        self.writer, self.adapter, self.targets, self.reads = writer, adapter, targets, reads

    def __call__(self, statement: exp.Expr) -> pa.Table | None:
        if isinstance(statement, exp.Select):
            literals = check_expression(statement, [*self.targets, *self.reads])
        else:
            literals = check_write(statement, self.targets, self.reads)
        sql = self.adapter.flavor.render(statement)
        check_text(sql, self.adapter.flavor.dialect, literals)
        return self.writer.execute(sql)

    def begin(self) -> None:
        self.writer.begin()

    def commit(self) -> None:
        self.writer.commit()

    def rollback(self) -> None:
        self.writer.rollback()


def _chunks(start: datetime, end: datetime, grain: str) -> list[tuple[datetime, datetime]]:
    """Calendar months of buckets (the partition-sized unit of work), clipped to the range."""
    out = []
    lo = start
    while lo < end:
        month_end = add_months(lo.replace(day=1, hour=0, minute=0, second=0, microsecond=0), 1)
        hi = min(month_end, end)
        out.append((lo, hi))
        lo = hi
    return out


def _first_event(adapter: Adapter, rows: RowSource) -> datetime | None:
    from .observe import execute_observed

    select = rows.select([exp.Min(this=rows.local_time()).as_("first")])
    table = execute_observed(adapter, adapter.flavor.render(select), expression=select, tables=[rows.tables[0].ref])
    value = table.column("first")[0].as_py()
    if value is None:
        return None
    return value.replace(tzinfo=None) if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def _prepare(send: _Sender, info: RollupInfo, empty: RowSource, rebuild: bool) -> None:
    """The schema, the state table, and (on a full build) a fresh rollup table of the right types."""
    if len(info.ref.parts) > 1:
        schema = exp.Create(
            this=exp.Table(this=exp.to_identifier(info.ref.parts[-2], quoted=True)), kind="SCHEMA", exists=True
        )
        send(schema)
    state = state_ref(info.ref)
    columns = [
        ("name", exp.DataType.Type.VARCHAR),
        ("definition", exp.DataType.Type.VARCHAR),
        ("covered_from", exp.DataType.Type.TIMESTAMP),
        ("covered_to", exp.DataType.Type.TIMESTAMP),
        ("built_at", exp.DataType.Type.TIMESTAMP),
        ("row_count", exp.DataType.Type.BIGINT),
    ]
    schema_def = exp.Schema(
        this=state.expression(),
        expressions=[
            exp.ColumnDef(this=exp.to_identifier(n, quoted=True), kind=exp.DataType.build(t)) for n, t in columns
        ],
    )
    send(exp.Create(this=schema_def, kind="TABLE", exists=True))
    if rebuild:
        send(exp.Drop(tables=[info.ref.expression()], kind="TABLE", exists=True))
        send(_delete_state(info))
    shape = rollup_rows(empty.c, info, empty)  # zero rows: the start equals the end
    send(exp.Create(this=info.ref.expression(), kind="TABLE", exists=True, expression=shape))


def _delete_buckets(info: RollupInfo, adapter: Adapter, lo: datetime, hi: datetime) -> exp.Delete:
    bucket = exp.column(BUCKET, quoted=True)
    condition = exp.and_(
        exp.GTE(this=bucket, expression=adapter.flavor.timestamp_literal(ts_text(lo), False)),
        exp.LT(this=bucket.copy(), expression=adapter.flavor.timestamp_literal(ts_text(hi), False)),
    )
    return exp.delete(info.ref.expression(), where=condition)


def _delete_state(info: RollupInfo) -> exp.Delete:
    where = exp.EQ(this=exp.column("name", quoted=True), expression=exp.Literal.string(info.spec.name))
    return exp.delete(state_ref(info.ref).expression(), where=where)


def _write_state(
    send: _Sender,
    info: RollupInfo,
    adapter: Adapter,
    covered_from: datetime,
    covered_to: datetime,
    rows: int | None = None,
) -> None:
    send(_delete_state(info))
    now = datetime.now().replace(microsecond=0)
    values = exp.Tuple(
        expressions=[
            exp.Literal.string(info.spec.name),
            exp.Literal.string(info.definition),
            adapter.flavor.timestamp_literal(ts_text(covered_from), False),
            adapter.flavor.timestamp_literal(ts_text(covered_to), False),
            adapter.flavor.timestamp_literal(ts_text(now), False),
            exp.cast(exp.Literal.number(rows), exp.DataType.Type.BIGINT)
            if rows is not None
            else exp.cast(exp.Null(), exp.DataType.Type.BIGINT),
        ]
    )
    send(exp.insert(exp.Values(expressions=[values]), state_ref(info.ref).expression()))
