"""Cost estimates: how many rows and bytes a compiled query reads, from the adapter's statistics.

The estimate is deliberately simple and explainable: per series and event table, the rows whose
event time falls in the series' window (assuming events spread evenly over the table's time range)
when the table declares a partition column — the warehouse can then skip everything else — and
the whole table otherwise; bytes are rows times the widths of the columns the statement reads.
Plugins can refine or replace it through the ``segwise_estimate_cost`` hook.

    >>> estimate = estimate_cost(compiled, project.catalog())   # doctest: +SKIP
    >>> estimate.rows, estimate.bytes                            # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from .hooktypes import CostEstimate, ScanEstimate

if TYPE_CHECKING:
    from .catalog import Catalog, EventTableInfo
    from .compiled import CompiledQuery
    from .project import ProjectSpec

__all__ = ["CostEstimate", "ScanEstimate"]  # plugins name them from here

WIDTHS = {"integer": 8, "float": 8, "timestamp": 8, "timestamptz": 8, "date": 4, "boolean": 1, "string": 16}


def estimate_cost(compiled: CompiledQuery, catalog: Catalog) -> CostEstimate:
    """The built-in estimate, then the ``segwise_estimate_cost`` hook (first non-None wins)."""
    from .registry import get_plugin_manager

    estimate = _builtin_estimate(compiled, catalog)
    replaced = get_plugin_manager().hook.segwise_estimate_cost(compiled=compiled, estimate=estimate)
    return replaced if replaced is not None else estimate


def _builtin_estimate(compiled: CompiledQuery, catalog: Catalog) -> CostEstimate:
    referenced = {c.name for c in compiled.expression.find_all(exp.Column)}
    scans = []
    nodes = compiled.plan.nodes if compiled.plan is not None else []
    for position, output in enumerate(compiled.outputs):
        series = compiled.series_of(output)
        node = nodes[position] if position < len(nodes) else None
        if node is not None and node.scan.rollup is not None:
            rollup = node.scan.rollup
            note = f"rollup {rollup.spec.name}: whole covered buckets, raw events only at the edges"
            scans.append(
                ScanEstimate(output.label, str(rollup.ref), node.scan.table_rows, node.scan.rows, node.scan.bytes, note)
            )
            continue
        tables: list[int] = []
        for member in series.members:
            for index in catalog.tables_with_event(member.event):
                if index not in tables:
                    tables.append(index)
        start = output.timeframe.start_utc
        if output.measure.is_rolling:
            start -= timedelta(days=(output.measure.window_days or 1) - 1)
        if series.occurrence and series.occurrence_scope == "ever":
            start = datetime.min
        for index in tables:
            info = catalog.event_tables[index]
            scans.append(_scan(output.label, info, catalog, start, output.timeframe.end_utc, referenced))
    analysis = compiled.plan.analysis if compiled.plan is not None else None
    if analysis is not None:  # another analysis: its one scan over the range
        for info in analysis.scan.tables:
            start = analysis.start or datetime.min
            scans.append(_scan(analysis.kind, info, catalog, start, analysis.tf.end_utc, referenced))
    return CostEstimate(tuple(scans))


def _scan(
    label: str, info: EventTableInfo, catalog: Catalog, start: datetime, end: datetime, referenced: set[str]
) -> ScanEstimate:
    stats = catalog.stats(info)
    width = sum(WIDTHS.get(col.kind, 16) for name, col in info.columns.items() if name in referenced) or 8
    rows = stats.rows
    pruning = "none: the whole table is read (declare a partition column to prune)"
    if info.spec.partition is not None and stats.min_time is not None and stats.max_time is not None:
        span = (stats.max_time - stats.min_time).total_seconds()
        overlap = (min(end, stats.max_time) - max(start, stats.min_time)).total_seconds()
        fraction = 1.0 if span <= 0 else max(0.0, min(1.0, overlap / span))
        rows = round(stats.rows * fraction)
        pruning = f"partition column {info.spec.partition.column!r}: {fraction:.1%} of the table"
    return ScanEstimate(label, str(info.ref), stats.rows, rows, rows * width, pruning)


# -- the planner's cost model: seconds from rows, with coefficients calibrated per warehouse --------------


@dataclass(frozen=True)
class Coefficients:
    """Seconds per unit of work, for one warehouse (``segwise calibrate`` fits them).

    ``overhead``: per scan (statement part); ``scan_row``: per row read; ``agg_row``: per row and
    aggregate computed (a conditional aggregate evaluates its CASE on every row it sees).
    """

    overhead: float = 2e-3
    scan_row: float = 2e-9
    agg_row: float = 4e-9
    source: str = "built-in defaults (not calibrated: run `segwise calibrate`)"

    def seconds(self, rows: float, aggregated_rows: float, aggregates: int) -> float:
        """A statement's time: its overhead plus :meth:`work`."""
        return self.overhead + self.work(rows, aggregated_rows, aggregates)

    def work(self, rows: float, aggregated_rows: float, aggregates: int) -> float:
        """A scan's time inside a statement (the statement overhead is paid once either way)."""
        return self.scan_row * rows + self.agg_row * aggregated_rows * aggregates

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def calibration_file(project: ProjectSpec, adapter_name: str) -> Path | None:
    """Where the planner looks for ``adapter_name``'s coefficients: the project's ``calibration``
    path, else ``.segwise/calibration-<adapter>.json`` beside a project file (None: defaults)."""
    base = project.base_dir
    if project.calibration is not None:
        path = Path(project.calibration)
        return path if path.is_absolute() or base is None else base / path
    if base is None:
        return None
    return base / ".segwise" / f"calibration-{adapter_name}.json"


_LOADED: dict[tuple[str, float], Coefficients] = {}


def load_coefficients(project: ProjectSpec, adapter_name: str) -> Coefficients:
    """The calibrated coefficients for this project's warehouse, or the defaults."""
    from .errors import SpecError

    path = calibration_file(project, adapter_name)
    if path is None or not path.exists():
        return Coefficients()
    key = (str(path), path.stat().st_mtime)
    if key not in _LOADED:
        try:
            data = json.loads(path.read_text())
            fitted = data["coefficients"]
            if data.get("adapter") != adapter_name:
                raise SpecError(
                    f"this calibration is for {data.get('adapter')!r}, not {adapter_name!r}", where=str(path)
                )
            _LOADED[key] = Coefficients(
                overhead=float(fitted["overhead"]),
                scan_row=float(fitted["scan_row"]),
                agg_row=float(fitted["agg_row"]),
                source=f"calibrated {data.get('calibrated_at', '')} ({path.name})",
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SpecError(
                f"cannot read the calibration file: {exc}", where=str(path), hint="run `segwise calibrate` again"
            ) from None
    return _LOADED[key]


def series_rows(catalog: Catalog, info: EventTableInfo, start: datetime, end: datetime) -> tuple[int, int, str]:
    """(rows read, table rows, pruning note) for one scan of ``info`` over UTC ``[start, end)``."""
    scan = _scan("", info, catalog, start, end, set())
    return scan.rows, scan.table_rows, scan.pruning
