"""Answer a query on a loaded project and shape the answer in Arrow (fill, types, sort order)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .compiled import CompiledQuery
from .dispatch import execute_compiled
from .formulas import evaluate_columns, parse_formula, references
from .pipeline import compile_query
from .query import Query
from .shape_lifecycle import shape_lifecycle
from .shape_stickiness import shape_stickiness

if TYPE_CHECKING:
    from .loaded import LoadedProject


def answer(
    query: Query | dict[str, Any] | str | Path,
    project: LoadedProject,
    now: datetime | str | None = None,
    timeout: float | None = None,
    rollups: bool = True,
    share_scans: str = "auto",
    disabled_rules: frozenset[str] | tuple[str, ...] = (),
    preaggregate: str = "auto",
) -> pa.Table:
    """Answer ``query`` on a loaded project: compile (``segwise.pipeline``), execute once
    (``segwise.dispatch``), shape in Arrow. ``segwise.run`` coerces its project and calls this."""
    compiled = compile_query(
        project,
        query,
        now=now,
        rollups=rollups,
        share_scans=share_scans,
        disabled_rules=disabled_rules,
        preaggregate=preaggregate,
    )
    raw = execute_compiled(project, compiled, timeout=timeout)
    if compiled.query.stickiness is not None:
        return shape_stickiness(raw, compiled)
    if compiled.query.lifecycle is not None:
        return shape_lifecycle(raw, compiled)
    return shape_result(raw, compiled)


def shape_result(raw: pa.Table, compiled: CompiledQuery) -> pa.Table:
    """Long form: fill empty buckets per (series, breakdown values), align the previous period,
    add formula rows, exact types, sorted (see docs/queries.md, "The result").

    All in Arrow compute: buckets are filled by a full outer join of the found rows with the grid
    (series, breakdown values) x buckets, formulas are evaluated over columns aligned on the same grid.
    """
    tf = compiled.timeframe
    groups = [f"_g{j}" for j in range(len(compiled.breakdown))]
    value_type = pa.int64() if compiled.value_is_integer else pa.float64()
    found = _found(raw, compiled, groups, value_type)
    labels = pa.array([o.label for o in compiled.outputs], type=pa.string())
    fill_for = {o.label: (0 if o.measure.is_count else None) for o in compiled.outputs}
    frequency = "_f" in raw.column_names
    outputs = found.filter(pc.is_in(found["series"], value_set=labels))
    if frequency:  # a distribution: only what occurs, no fill
        parts = [outputs]
    else:
        parts = [_filled(outputs, compiled, groups, labels, fill_for, value_type)]
        parts += _formula_parts(found, compiled, groups, fill_for)
    table = pa.concat_tables([part.select(found.column_names) for part in parts])
    # Sorted by series, breakdown values (nulls last), bucket, frequency (a null one as 0).
    order = {"series": table["series"]}
    for g in groups:
        order[f"{g}_null"] = pc.is_null(table[g])
        order[g] = table[g]
    order["bucket"] = table["bucket"]
    if frequency:
        order["_f"] = pc.fill_null(table["_f"], 0)
    table = table.take(pc.sort_indices(pa.table(order), sort_keys=[(name, "ascending") for name in order]))
    arrays = [_bucket_array(table["bucket"].combine_chunks(), tf.timezone)]
    arrays += [table[g].combine_chunks() for g in groups]
    names = ["bucket", *compiled.breakdown]
    if frequency:
        arrays.append(table["_f"].combine_chunks())
        names.append("frequency")
    arrays += [table["series"].combine_chunks(), table["value"].combine_chunks()]
    return pa.Table.from_arrays(arrays, names=[*names, "series", "value"])


BUCKET = pa.timestamp("us")


def _found(raw: pa.Table, compiled: CompiledQuery, groups: list[str], value_type: pa.DataType) -> pa.Table:
    """The warehouse's rows with exact column types: series, breakdown values (text), naive bucket
    (the previous period's moved onto the current one's), [frequency], value."""
    tf = compiled.timeframe
    n = raw.num_rows
    series = pc.cast(raw["series"], pa.string())
    if tf.grain != "total":
        bucket = _naive_buckets(raw["bucket"])
    else:
        bucket = pa.chunked_array([pa.repeat(pa.scalar(tf.start, BUCKET), n)], type=BUCKET)
    columns: dict[str, Any] = {"series": series}
    columns.update({g: pc.cast(raw[g], pa.string()) for g in groups})
    columns["bucket"] = bucket
    if "_f" in raw.column_names:
        columns["_f"] = pc.cast(raw["_f"], pa.int64())
    columns["value"] = _values(raw["value"], value_type)
    table = pa.table(columns)
    previous = [o for o in compiled.outputs if o.previous]
    if not previous or tf.grain == "total":
        return table
    # The previous period's i-th bucket is reported at the current period's i-th bucket; a previous
    # bucket beyond the current period's length is dropped.
    keep = pa.chunked_array([pa.repeat(pa.scalar(True), n)], type=pa.bool_())
    moved = bucket
    for output in previous:
        count = min(len(output.timeframe.buckets), len(tf.buckets))
        source = pa.array(output.timeframe.buckets[:count], type=BUCKET)
        target = pa.array(tf.buckets[:count], type=BUCKET)
        mine = pc.fill_null(pc.equal(series, output.label), False)
        index = pc.index_in(bucket, value_set=source)
        moved = pc.if_else(mine, pc.take(target, index), moved)
        keep = pc.and_(keep, pc.invert(pc.and_(mine, pc.is_null(index))))
    table = table.set_column(table.schema.get_field_index("bucket"), "bucket", moved)
    return table.filter(keep)


def _naive_buckets(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Bucket starts as naive microsecond timestamps: wall-clock time of zoned values, text parsed
    (engines without a timestamp type, SQLite, return ISO text)."""
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        column = pc.local_timestamp(column)
    return pc.cast(column, BUCKET, safe=False)


def _values(column: pa.ChunkedArray, value_type: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_union(column.type):  # chDB: a UNION ALL of Int64, Float64 and NULL is a Variant
        column = pa.chunked_array([_from_union(chunk, value_type) for chunk in column.chunks], type=value_type)
    if pa.types.is_decimal(column.type) and pa.types.is_floating(value_type):
        column = pc.cast(column, pa.string())  # text to double rounds correctly; decimal to double may not
    return pc.cast(column, value_type, safe=False)  # to integers: truncated toward zero, as int() does


def _from_union(array: pa.Array, value_type: pa.DataType) -> pa.Array:
    """A union array's values as one type: each member cast, picked by the type codes."""
    codes = array.type_codes
    result = pa.nulls(len(array), type=value_type)
    for position, code in enumerate(array.type.type_codes):
        child = array.field(position)
        if pa.types.is_null(child.type) or len(child) == 0:
            continue
        values = pc.cast(child, value_type, safe=False)
        mine = pc.equal(codes, pa.scalar(code, pa.int8()))
        if array.type.mode == "dense":  # children hold only their own values, at the offsets
            values = pc.take(values, pc.if_else(mine, array.offsets, 0))
        result = pc.if_else(mine, values, result)
    return result


def _keyed(table: pa.Table, groups: list[str]) -> pa.Table:
    """``table`` with a null-safe join key per breakdown column (``_k<j>``: '0' for null, '1' + value)."""
    for j, g in enumerate(groups):
        key = pc.fill_null(pc.binary_join_element_wise("1", table[g], ""), "0")
        table = table.append_column(f"_k{j}", key)
    return table


def _grid(keys: pa.Table, buckets: tuple[datetime, ...]) -> pa.Table:
    """Every row of ``keys`` with every bucket (keys-major), numbered ``_i``."""
    n, b = keys.num_rows, len(buckets)
    grid = keys.take(pa.array(np.repeat(np.arange(n, dtype=np.int64), b)))
    grid = grid.append_column("bucket", pa.array(buckets, type=BUCKET).take(pa.array(np.tile(np.arange(b), n))))
    return grid.append_column("_i", pa.array(np.arange(n * b, dtype=np.int64)))


def _filled(
    found: pa.Table,
    compiled: CompiledQuery,
    groups: list[str],
    labels: pa.Array,
    fill_for: dict[str, Any],
    value_type: pa.DataType,
) -> pa.Table:
    """Every output series over every bucket for each breakdown value it has (without breakdown:
    one row per bucket even with no rows at all), plus found buckets off the grid; empty cells
    take the series' fill (0 for counts, null otherwise)."""
    if groups:
        keys = found.select(["series", *groups]).group_by(["series", *groups], use_threads=False).aggregate([])
    else:
        keys = pa.table({"series": labels})
    join_keys = ["series", *(f"_k{j}" for j in range(len(groups))), "bucket"]
    grid = _keyed(_grid(keys, compiled.timeframe.buckets), groups).drop_columns(["_i"])
    found = _keyed(found, groups).append_column("_present", pa.repeat(pa.scalar(True), found.num_rows))
    joined = grid.drop_columns(groups).join(
        found.drop_columns(groups), keys=join_keys, join_type="full outer", use_threads=False
    )
    counts = pa.array([label for label, fill in fill_for.items() if fill == 0], type=pa.string())
    fill = pc.if_else(
        pc.is_in(joined["series"], value_set=counts), pa.scalar(0, value_type), pa.scalar(None, value_type)
    )
    value = pc.if_else(pc.is_null(joined["_present"]), fill, joined["value"])
    out = {"series": joined["series"], **_decoded(joined, groups), "bucket": joined["bucket"], "value": value}
    return pa.table(out)


def _decoded(table: pa.Table, groups: list[str]) -> dict[str, pa.ChunkedArray]:
    """The breakdown values back from their join keys."""
    out = {}
    for j, g in enumerate(groups):
        key = table[f"_k{j}"]
        out[g] = pc.if_else(pc.equal(key, "0"), pa.scalar(None, pa.string()), pc.utf8_slice_codeunits(key, 1))
    return out


def _formula_parts(
    found: pa.Table, compiled: CompiledQuery, groups: list[str], fill_for: dict[str, Any]
) -> list[pa.Table]:
    """Per formula: one row per (breakdown values, bucket) present in any series it names, its
    value computed over the named series' columns aligned on that grid (null operands and x/0: null)."""
    parts = []
    buckets = compiled.timeframe.buckets
    join_keys = [*(f"_k{j}" for j in range(len(groups))), "bucket"]
    keyed = _keyed(found, groups).append_column("_present", pa.repeat(pa.scalar(True), found.num_rows))
    for formula in compiled.query.formulas:
        tree = parse_formula(formula.expression)
        names = references(tree)
        if groups:
            used = found.filter(pc.is_in(found["series"], value_set=pa.array(names, type=pa.string())))
            keys = used.select(groups).group_by(groups, use_threads=False).aggregate([])
        else:
            keys = pa.table({"_": pa.array([0])})
        grid = _keyed(_grid(keys, buckets), groups)
        columns: dict[str, pa.ChunkedArray] = {}
        for name in names:
            fill = fill_for[name]
            rows = keyed.filter(pc.equal(keyed["series"], name)).select([*join_keys, "value", "_present"])
            joined = grid.select([*join_keys, "_i"]).join(
                rows, keys=join_keys, join_type="left outer", use_threads=False
            )
            joined = joined.sort_by("_i")
            value = pc.cast(joined["value"], pa.float64())
            if fill is not None:
                value = pc.if_else(pc.is_null(joined["_present"]), pa.scalar(float(fill)), value)
            columns[name] = value
        size = grid.num_rows
        value = evaluate_columns(tree, columns, size)
        out = {"series": pa.repeat(pa.scalar(formula.label), size), **{g: grid[g] for g in groups}}
        out.update({"bucket": grid["bucket"], "value": value})
        parts.append(pa.table(out))
    return parts


def _bucket_array(buckets: pa.Array, timezone: str) -> pa.Array:
    if timezone == "UTC":
        return buckets.cast(pa.timestamp("us", tz="UTC"))
    # A local midnight skipped by a daylight-saving jump starts at the first instant after it.
    return pc.assume_timezone(buckets, timezone=timezone, ambiguous="earliest", nonexistent="latest")
