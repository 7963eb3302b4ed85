"""``segwise calibrate``: fit the planner's cost coefficients to a warehouse by timing probe queries.

The planner prices a scan as ``overhead + scan_row x rows read + agg_row x rows aggregated x
aggregates`` (``cost.Coefficients``). The defaults are a guess; how expensive reading a row is
compared with aggregating it differs a lot between a columnar in-process engine (DuckDB) and a
row store over the network (PostgreSQL), and that ratio decides, for instance, whether several
series should share one scan with conditional aggregates.

The probes read the project's (first) event table over growing time ranges: a filtered count of
its rarest event (what reading rows costs, with next to nothing aggregated) and 1, 4 and 8
conditional aggregates (``COUNT(CASE WHEN event = ... THEN 1 END)`` grouped by day: what
aggregating costs), through the same guarded read-only path as every query. Rows are the planner's own estimate for each
probe, so the fit also absorbs how well the engine prunes. A least-squares fit with
non-negative coefficients gives the three numbers, written as JSON where the planner looks for
them (``.segwise/calibration-<adapter>.json`` beside the project file, or ``calibration:``).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from .cost import Coefficients, calibration_file, series_rows
from .errors import SpecError
from .lower.rows import RowSource, TimeBounds
from .lower.scope import Scope
from .observe import execute_observed
from .query import Query

if TYPE_CHECKING:
    from .project import Project

FRACTIONS = (0.125, 0.25, 0.5, 1.0)
AGGREGATES = (0, 1, 4, 8)  # 0: a filtered count of the rarest event (reading rows, aggregating ~none)
Progress = Callable[[int, int], None]


def calibrate(
    project: Project, repeat: int = 3, output: Path | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Run the probes, fit, write the calibration file; returns what was written."""
    from .timeframe import resolve_timeframe

    adapter = project.adapter()
    catalog = project.catalog()
    info = catalog.event_tables[0]
    stats = catalog.stats(info)
    if not stats.rows or stats.min_time is None or stats.max_time is None:
        raise SpecError(f"cannot calibrate on an empty table ({info.ref})", where="calibrate")
    query = Query.parse({"series": [{"event": "any"}], "date_range": {"last": "1d"}, "time_grain": "day"})
    timeframe = resolve_timeframe(query, project.timezone, project.week_start_index, None)
    scope = Scope(project, catalog, adapter.flavor, timeframe)
    names = sorted(catalog.event_counts()[0], key=lambda n: -catalog.event_counts()[0][n])
    if not names:
        names = [info.spec.event_name_value or ""]
    start, end = stats.min_time, stats.max_time + timedelta(microseconds=1)  # naive UTC (TableStats)
    span = end - start
    probes = [(f, k) for f in FRACTIONS for k in AGGREGATES]
    samples: list[dict[str, Any]] = []
    for number, (fraction, aggregates) in enumerate(probes):
        lo = end - span * fraction
        source = RowSource(scope, list(query.series[0].members), [], None, "calibrate")
        source.tables, source.union, source.bounds = [info], False, TimeBounds(lo, end)
        day = scope.flavor.truncate("day", source.local_time())
        outputs: list[exp.Expr] = [day.as_("_b")]
        for j in range(aggregates):
            name = names[j % len(names)]
            hit = exp.EQ(this=source.event_name(), expression=exp.Literal.string(name))
            outputs.append(
                exp.Count(this=exp.Case(ifs=[exp.If(this=hit, true=exp.Literal.number(j + 1))])).as_(f"_a{j}")
            )
        select = source.select(outputs).group_by(day.copy(), copy=False)
        sql = adapter.flavor.render(select)
        execute_observed(adapter, sql, expression=select, tables=[info.ref])  # warm
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            execute_observed(adapter, sql, expression=select, tables=[info.ref])
            times.append(time.perf_counter() - started)
        rows = series_rows(catalog, info, lo, end)[0]
        samples.append({"rows": rows, "aggregates": aggregates, "seconds": statistics.median(times)})
        if progress is not None:
            progress(number + 1, len(probes))
    fitted = fit(samples)
    # Keyed as the planner looks coefficients up (planner.py: by the compiling flavor's name), which
    # is the adapter's name for every adapter but chdb (its flavor is ClickHouse's).
    key = adapter.flavor.name
    result = {
        "adapter": key,
        "table": str(info.ref),
        "table_rows": stats.rows,
        "calibrated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "repeat": repeat,
        "coefficients": {"overhead": fitted.overhead, "scan_row": fitted.scan_row, "agg_row": fitted.agg_row},
        "probes": samples,
    }
    path = output or calibration_file(project, key)
    if path is None:
        raise SpecError("give --output: this project was not loaded from a file", where="calibrate")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    result["path"] = str(path)
    return result


def fit(samples: list[dict[str, Any]]) -> Coefficients:
    """Least squares ``seconds ~ overhead + scan_row*rows + agg_row*rows*aggregates``, all >= 0."""
    import numpy as np

    design = np.array([[1.0, s["rows"], s["rows"] * s["aggregates"]] for s in samples])
    target = np.array([s["seconds"] for s in samples])
    active = [0, 1, 2]
    solution = np.zeros(3)
    while active:  # drop coefficients that come out negative and refit the rest (tiny NNLS)
        coef, *_ = np.linalg.lstsq(design[:, active], target, rcond=None)
        if (coef >= 0).all():
            solution[active] = coef
            break
        active = [a for a, c in zip(active, coef, strict=True) if c >= 0] or []
    overhead, scan_row, agg_row = (float(v) for v in solution)
    floor = 1e-12  # a zero would let the other terms decide everything
    return Coefficients(max(overhead, 0.0), max(scan_row, floor), max(agg_row, floor), source="calibrated")
