"""Run a compiled query and shape the answer in Arrow (fill, types, sort order)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from .compile import CompiledQuery, QueryCompiler
from .errors import CatalogError, SpecError, UnsupportedError
from .formulas import evaluate, parse_formula, references
from .observe import execute_compiled
from .project import Project
from .query import Query
from .registry import get_flavor
from .timeframe import resolve_timeframe

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

RESERVED_COLUMNS = ("bucket", "series", "value")


def compile_query(
    project: Project,
    query: Query | dict[str, Any] | str | Path,
    dialect: str | None = None,
    now: datetime | str | None = None,
    rollups: bool = True,
    share_scans: str = "auto",
    disabled_rules: frozenset[str] | tuple[str, ...] = (),
    preaggregate: str = "auto",
) -> CompiledQuery:
    """Validate ``query`` against the project's catalog and build its SQL.

    ``rollups=False`` reads raw events even where a declared rollup could answer;
    ``share_scans`` and ``preaggregate``: ``auto`` (by the cost model), ``always`` or ``never``;
    ``disabled_rules``: planner rules to skip (``rollups``, ``partitions``, ``preaggregate``,
    ``sharing``; see docs/planner.md)."""
    q = Query.parse(query)
    adapter = project.adapter()
    flavor: SqlFlavor = adapter.flavor if dialect is None or dialect == adapter.flavor.name else get_flavor(dialect)
    catalog = project.catalog()  # errors here are about the project, not the query
    try:
        for index, name in enumerate(q.breakdown):
            if name in RESERVED_COLUMNS:
                raise SpecError(
                    f"a breakdown column cannot be named {name!r} (a result column has that name); "
                    f"write event.{name} or user.{name}",
                    where=f"breakdown[{index}]",
                )
        timeframe = resolve_timeframe(q, project.timezone, project.week_start_index, now)
        for option, value in (("share_scans", share_scans), ("preaggregate", preaggregate)):
            if value not in ("auto", "always", "never"):
                raise SpecError(f"{option} must be auto, always or never, not {value!r}", where=option)
        return QueryCompiler(
            project,
            catalog,
            flavor,
            q,
            timeframe,
            use_rollups=rollups,
            share_scans=share_scans,
            disabled_rules=frozenset(disabled_rules),
            preaggregate=preaggregate,
        ).compile()
    except (SpecError, CatalogError, UnsupportedError) as exc:
        if q.origin != "query" and not (exc.where or "").startswith(q.origin):
            exc.where = f"{q.origin}: {exc.where}" if exc.where else q.origin
        raise


def run(
    query: Query | dict[str, Any] | str | Path,
    project: Project | dict[str, Any] | str | Path,
    now: datetime | str | None = None,
    timeout: float | None = None,
    rollups: bool = True,
    share_scans: str = "auto",
    disabled_rules: frozenset[str] | tuple[str, ...] = (),
    preaggregate: str = "auto",
) -> pa.Table:
    """Answer ``query`` on ``project``'s warehouse; see DESIGN.md "Result" for the shape.

    ``timeout``: seconds each statement may run before it is cancelled (docs/reliability.md).
    ``rollups=False``: read raw events even where a declared rollup could answer; ``share_scans``
    and ``disabled_rules``: planner choices (see :func:`compile_query`).

    >>> table = run("examples/daily_active_users.yaml", "examples/segwise.yaml")  # doctest: +SKIP
    """
    proj = Project.parse(project)
    compiled = compile_query(
        proj,
        query,
        now=now,
        rollups=rollups,
        share_scans=share_scans,
        disabled_rules=disabled_rules,
        preaggregate=preaggregate,
    )
    raw = execute_compiled(proj, compiled, timeout=timeout)
    return shape_result(raw, compiled)


def shape_result(raw: pa.Table, compiled: CompiledQuery) -> pa.Table:
    """Long form: fill empty buckets per (series, breakdown values), align the previous period,
    add formula rows, exact types, sorted (see docs/queries.md, "The result")."""
    tf = compiled.timeframe
    n_groups = len(compiled.breakdown)
    has_bucket = tf.grain != "total"
    columns = raw.to_pydict()
    series_col = columns["series"]
    bucket_col = columns["bucket"] if has_bucket else [tf.start] * len(series_col)
    group_cols = [columns[f"_g{j}"] for j in range(n_groups)]
    values = columns["value"]
    frequencies = columns.get("_f")
    outputs = {o.label: o for o in compiled.outputs}
    # The previous period's i-th bucket is reported at the current period's i-th bucket.
    align = {o.label: dict(zip(o.timeframe.buckets, tf.buckets, strict=False)) for o in compiled.outputs if o.previous}

    found: dict[tuple[str, tuple[Any, ...]], dict[Any, Any]] = {}
    for i, label in enumerate(series_col):
        key = (label, tuple(col[i] for col in group_cols))
        bucket = _naive(bucket_col[i])
        if label in align and has_bucket:
            if bucket not in align[label]:
                continue  # a previous bucket beyond the current period's length
            bucket = align[label][bucket]
        cell = (bucket, frequencies[i]) if frequencies is not None else bucket
        found.setdefault(key, {})[cell] = values[i]

    fill_for = {o.label: (0 if o.measure.is_count else None) for o in compiled.outputs}
    rows: list[tuple[datetime, tuple[Any, ...], str, int | None, Any]] = []
    for label in outputs:
        combos = {key[1] for key in found if key[0] == label}
        if n_groups == 0:
            combos = {()}
        for combo in combos:
            cells = found.get((label, combo), {})
            if frequencies is not None:  # a distribution: only what occurs, no fill
                rows.extend((bucket, combo, label, times, value) for (bucket, times), value in cells.items())
                continue
            for bucket in tf.buckets if not cells else sorted(set(tf.buckets) | set(cells)):
                rows.append((bucket, combo, label, None, cells.get(bucket, fill_for[label])))
    rows.extend(_formula_rows(compiled, found, fill_for))
    rows.sort(key=lambda r: (r[2], _group_sort_key(r[1]), r[0], r[3] or 0))

    value_type = pa.int64() if compiled.value_is_integer else pa.float64()
    arrays: list[pa.Array] = [_bucket_array([r[0] for r in rows], tf.timezone)]
    names = ["bucket"]
    for j, name in enumerate(compiled.breakdown):
        arrays.append(pa.array([r[1][j] for r in rows], type=pa.string()))
        names.append(name)
    if frequencies is not None:
        arrays.append(pa.array([r[3] for r in rows], type=pa.int64()))
        names.append("frequency")
    arrays.append(pa.array([r[2] for r in rows], type=pa.string()))
    names.append("series")
    arrays.append(pa.array([_number(r[4], value_type) for r in rows], type=value_type))
    names.append("value")
    return pa.Table.from_arrays(arrays, names=names)


def _naive(bucket: Any) -> Any:
    if isinstance(bucket, str):  # engines without a timestamp type (SQLite) return text
        bucket = datetime.fromisoformat(bucket)
    if isinstance(bucket, datetime) and bucket.tzinfo is not None:
        bucket = bucket.replace(tzinfo=None)
    return bucket


def _formula_rows(
    compiled: CompiledQuery,
    found: dict[tuple[str, tuple[Any, ...]], dict[Any, Any]],
    fill_for: dict[str, Any],
) -> list[tuple[datetime, tuple[Any, ...], str, int | None, Any]]:
    """One row per (breakdown values, bucket) present in any series a formula names."""
    rows: list[tuple[datetime, tuple[Any, ...], str, int | None, Any]] = []
    buckets = compiled.timeframe.buckets
    for formula in compiled.query.formulas:
        tree = parse_formula(formula.expression)
        labels = references(tree)
        combos = {key[1] for key in found if key[0] in labels}
        if not compiled.breakdown:
            combos = {()}
        for combo in combos:
            for bucket in buckets:
                values = {label: found.get((label, combo), {}).get(bucket, fill_for[label]) for label in labels}
                rows.append((bucket, combo, formula.label, None, evaluate(tree, values)))
    return rows


def _group_sort_key(combo: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, "" if v is None else str(v)) for v in combo)


def _number(value: Any, value_type: pa.DataType) -> Any:
    if value is None:
        return None
    return int(value) if pa.types.is_integer(value_type) else float(value)


def _bucket_array(buckets: list[datetime], timezone: str) -> pa.Array:
    naive = pa.array(buckets, type=pa.timestamp("us"))
    if timezone == "UTC":
        return naive.cast(pa.timestamp("us", tz="UTC"))
    # A local midnight skipped by a daylight-saving jump starts at the first instant after it.
    return pc.assume_timezone(naive, timezone=timezone, ambiguous="earliest", nonexistent="latest")
