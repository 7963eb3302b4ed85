"""Time spans: when each event table's events begin and end, and a warning for a range that misses them.

A relative range (``{last: 12w}``) counts back from today; on data that ended months ago it holds
no events and the answer is all zeros. :func:`range_warnings` says so, with the table's span, so
the user knows to pass ``--now`` or an absolute range. The spans are the adapters' table
statistics (``Adapter.table_stats``), the same the cost model uses, cached by the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from .catalog import Catalog
    from .compiled import CompiledQuery
    from .project import Project
    from .query import Query


@dataclass(frozen=True)
class Span:
    """An event table's rows and first/last event (naive UTC; None when the table is empty)."""

    table: str
    rows: int
    first: datetime | None
    last: datetime | None

    def to_json(self) -> dict[str, object]:
        return {
            "table": self.table,
            "rows": self.rows,
            "first_event": self.first.isoformat(sep=" ") if self.first else None,
            "last_event": self.last.isoformat(sep=" ") if self.last else None,
        }

    def describe(self) -> str:
        if self.first is None or self.last is None:
            return f"{self.table} holds no events"
        if self.first.time() == self.last.time() == datetime.min.time():
            first, last = _fmt(self.first), _fmt(self.last)
        else:
            first, last = f"{self.first:%Y-%m-%d %H:%M:%S}", f"{self.last:%Y-%m-%d %H:%M:%S}"
        return f"{self.table} holds {self.rows:,} events from {first} to {last} UTC"


def spans(catalog: Catalog) -> list[Span]:
    """Each event table's span, from the catalog's (cached) table statistics."""
    out = []
    for info in catalog.event_tables:
        stats = catalog.stats(info)
        out.append(Span(info.spec.table, stats.rows, stats.min_time, stats.max_time))
    return out


def range_warnings(compiled: CompiledQuery, catalog: Catalog) -> list[str]:
    """One sentence per event table the query reads whose events all lie outside the query's range.

    The range checked is the widest any series reads (a rolling measure looks back its window;
    the previous period is earlier), so a warning means no row of the table could count.
    """
    reads: dict[int, tuple[datetime, datetime]] = {}
    for output in compiled.outputs:
        series = compiled.series_of(output)
        start, end = output.timeframe.start_utc, output.timeframe.end_utc
        if output.measure.is_rolling:
            start -= timedelta(days=(output.measure.window_days or 1) - 1)
        if series.occurrence and series.occurrence_scope == "ever":
            continue  # first/last ever: reads the whole history
        for member in series.members:
            for index in catalog.tables_with_event(member.event):
                low, high = reads.get(index, (start, end))
                reads[index] = (min(low, start), max(high, end))
    warnings = []
    tf = compiled.timeframe
    for index, (start, end) in sorted(reads.items()):
        info = catalog.event_tables[index]
        stats = catalog.stats(info)
        if stats.rows == 0 or stats.min_time is None or stats.max_time is None:
            continue
        if stats.max_time < start or stats.min_time >= end:
            span = Span(info.spec.table, stats.rows, stats.min_time, stats.max_time)
            hint = (
                f"; the range counts back from now ({_fmt(tf.now)}): pass --now or an absolute date_range"
                if tf.now is not None
                else "; choose a date_range that overlaps it"
            )
            warnings.append(
                f"no events of {info.spec.table} in the query's range [{_fmt(start)}, {_fmt(end)}) UTC: "
                f"{span.describe()}{hint}"
            )
    return warnings


def query_warnings(
    project: Project, query: Query | dict[str, Any] | str | Path, now: datetime | str | None = None
) -> list[str]:
    """:func:`range_warnings` for ``query`` as ``segwise run`` answers it (compiled again: ~ms)."""
    from .pipeline import compile_query

    return range_warnings(compile_query(project, query, now=now), project.catalog())


def _fmt(moment: datetime) -> str:
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M:%S")
