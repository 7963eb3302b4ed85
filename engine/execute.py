"""Answer a query on a loaded project and shape the answer in Arrow (fill, types, sort order)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .cache import Lookup, PairMemo
from .compiled import CompiledQuery
from .dispatch import execute_compiled
from .formulas import Node, evaluate_arrays, parse_formula, references
from .group_order import dictionary_rank
from .pipeline import compile_query
from .query import Query
from .shape_funnel import shape_funnel
from .shape_grid import LAYOUTS, CellKeys, DenseLayout, dense_answer
from .shape_grid import position as _position
from .shape_lifecycle import shape_lifecycle
from .shape_retention import shape_retention
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
    cache: bool | None = None,
    lookup: Lookup | None = None,
) -> pa.Table:
    """Answer ``query`` on a loaded project: compile (``segwise.pipeline``), execute once
    (``segwise.dispatch``; ``cache`` and ``lookup``: the result cache, see there), shape in Arrow.
    ``segwise.run`` coerces its project and calls this."""
    compiled = compile_query(
        project,
        query,
        now=now,
        rollups=rollups,
        share_scans=share_scans,
        disabled_rules=disabled_rules,
        preaggregate=preaggregate,
    )
    used = lookup if lookup is not None else Lookup()
    raw = execute_compiled(project, compiled, timeout=timeout, cache=cache, lookup=used)
    shaper = SHAPERS.get(compiled.query.analysis, shape_result)
    if used.status not in ("hit", "miss"):  # an answer of its own: shaped once
        return shaper(raw, compiled)
    shaped = SHAPED.get(raw, compiled)  # the result cache's answer, shaped for this compiled query before
    if shaped is None:
        shaped = shaper(raw, compiled)
        SHAPED.put(raw, compiled, shaped)
    return shaped


SHAPED = PairMemo()
"""Shaped answers of the result cache's raw tables per compiled query (both immutable, held weakly)."""


def shape_result(raw: pa.Table, compiled: CompiledQuery) -> pa.Table:
    """Long form: fill empty buckets per (series, breakdown values), align the previous period,
    add formula rows, exact types, sorted (see docs/queries.md, "The result").

    No Acero and no Python loop over rows: series are numbered by ``index_in``, breakdown values
    by ``dictionary_encode``, buckets by their position in the time frame; the dense grid (series,
    breakdown values) x buckets is filled by scattering the found values into numpy arrays, found
    rows off the grid are kept as they are, formulas are evaluated over their operands' columns
    aligned on one grid (numpy), and the whole answer is sorted once by integer ranks and built
    with one ``take`` per text column.
    """
    value_type = pa.int64() if compiled.value_is_integer else pa.float64()
    labels = [o.label for o in compiled.outputs]
    found = _Found(raw, compiled, value_type, labels)  # the previous period not moved yet
    names = labels + [f.label for f in compiled.query.formulas]
    if found.frequency is not None:  # a distribution: only what occurs, no fill
        found.move_previous(compiled)
        parts = [found.rows(np.flatnonzero(found.series >= 0))]
    else:
        fill = compiled.plan.fill if compiled.plan is not None else None
        assert fill is not None, "the plan of a segmentation carries its fill"
        grid = _bucket_values(fill.buckets, fill.grain)  # the buckets every series covers
        fills = np.array(fill.zero, dtype=bool)  # 0 for counts, else null
        if not len(found.groups):  # no breakdown: the same grid every time (segwise.shape_grid)
            tf = compiled.timeframe  # with the compiled query, fixes the plan's fill
            layout = LAYOUTS.get(compiled, tf)
            if layout is None:
                layout = _dense_layout(found, grid, fills, names, value_type, compiled)
                LAYOUTS.put(compiled, tf, layout)
            args = (found.series, found.bucket, found.bucket_valid, found.value, found.valid)
            dense = dense_answer(layout, *args)  # places the previous period itself
            if dense is not None:
                return dense
        found.move_previous(compiled)
        parts = _filled(found, grid, fills)
        for index, formula in enumerate(compiled.query.formulas, start=len(labels)):
            parts.append(_formula(found, grid, fills, labels, index, formula.expression))
    rows = _Rows(*(np.concatenate(column, axis=-1) for column in zip(*parts, strict=True)))
    return _answer(rows, found, names, value_type, compiled)


BUCKET = pa.timestamp("us")
_UNIFORM = {"day": timedelta(days=1), "week": timedelta(weeks=1)}  # naive local steps, never skipped
_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1)


@functools.lru_cache(maxsize=256)
def _bucket_values(buckets: tuple[datetime, ...], grain: str) -> np.ndarray:
    """The bucket starts as naive microseconds since 1970 (read-only; cached: a repeated query,
    or one from the compiled-query cache, brings the same time frame)."""
    step = _UNIFORM.get(grain)
    if step is not None and len(buckets) > 1 and buckets[0] + step * (len(buckets) - 1) == buckets[-1]:
        first = (buckets[0] - _EPOCH) // _MICROSECOND
        values = np.arange(len(buckets), dtype=np.int64) * (step // _MICROSECOND) + first
    else:
        values = _ints(pa.array(buckets, type=BUCKET).view(pa.int64()), 0)
    values.flags.writeable = False
    return values


def _ints(array: pa.Array, null: int) -> np.ndarray:
    """An integer Arrow array as int64 numpy, nulls as ``null``."""
    if array.null_count:
        array = pc.fill_null(array, null)
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.int64)


def _valid(array: pa.Array) -> np.ndarray:
    if not array.null_count:
        return np.ones(len(array), dtype=bool)
    return np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


class _Rows(NamedTuple):
    """Rows of the answer as numbers: series (index into the answer's names), breakdown values
    (one column per breakdown: dictionary index, -1 null), bucket (microseconds) and its validity,
    frequency and its validity, value and its validity."""

    series: np.ndarray
    groups: np.ndarray  # shape (breakdowns, rows)
    bucket: np.ndarray
    bucket_valid: np.ndarray
    frequency: np.ndarray
    frequency_valid: np.ndarray
    value: np.ndarray
    valid: np.ndarray


class _Found:
    """The warehouse's rows, numbered: series (position in the outputs' labels, -1: not an output),
    breakdown values (dictionary-encoded text), naive bucket (as the warehouse gave it; a previous
    period's moved onto the current one's by :meth:`move_previous`), [frequency], value (exact type)."""

    def __init__(self, raw: pa.Table, compiled: CompiledQuery, value_type: pa.DataType, labels: list[str]) -> None:
        tf = compiled.timeframe
        n = raw.num_rows
        series = _text(_whole(raw["series"]))
        self.series = _ints(pc.index_in(series, value_set=_strings(tuple(labels))), -1)
        self.dictionaries: list[pa.Array] = []
        codes = []
        for j in range(len(compiled.breakdown)):
            encoded = pc.dictionary_encode(_text(_whole(raw[f"_g{j}"])))
            self.dictionaries.append(encoded.dictionary)
            codes.append(_ints(encoded.indices, -1))
        self.groups = np.array(codes, dtype=np.int64).reshape(len(codes), n)
        if tf.grain != "total":
            bucket = _naive_buckets(_whole(raw["bucket"]))
            self.bucket, self.bucket_valid = _ints(bucket.view(pa.int64()), 0), _valid(bucket)
        else:
            self.bucket = np.full(n, (tf.start - _EPOCH) // _MICROSECOND, dtype=np.int64)
            self.bucket_valid = np.ones(n, dtype=bool)
        self.frequency: np.ndarray | None = None
        self.frequency_valid = np.ones(n, dtype=bool)
        if "_f" in raw.column_names:
            frequency = pc.cast(_whole(raw["_f"]), pa.int64())
            self.frequency, self.frequency_valid = _ints(frequency, 0), _valid(frequency)
        column = raw["value"]
        if pa.types.is_union(column.type):  # chDB: a Variant (UNION ALL of Int64, Float64, NULL); may have no chunk
            column = pa.chunked_array([_from_union(chunk, value_type) for chunk in column.chunks], type=value_type)
        value = _values(_whole(column), value_type)
        self.valid = _valid(value)
        self.value = np.asarray(pc.fill_null(value, 0).to_numpy(zero_copy_only=False) if value.null_count else value)

    def move_previous(self, compiled: CompiledQuery) -> None:
        """The previous period's i-th bucket is reported at the current period's i-th bucket; a
        previous bucket beyond the current period's length is dropped (:func:`_cell_keys` places
        the rows of a dense answer so, without moving them)."""
        tf = compiled.timeframe
        if tf.grain == "total" or not any(output.previous for output in compiled.outputs):
            return
        current = _bucket_values(tf.buckets, tf.grain)
        keep = np.ones(len(self.series), dtype=bool)
        moved = self.bucket
        for i, output in enumerate(compiled.outputs):
            if not output.previous:
                continue
            count = min(len(output.timeframe.buckets), len(tf.buckets))
            source = _bucket_values(output.timeframe.buckets, tf.grain)[:count]
            index = _position(self.bucket, self.bucket_valid, source)
            mine = self.series == i
            hit = mine & (index >= 0)
            if hit.any():
                moved = moved.copy() if moved is self.bucket else moved
                moved[hit] = current[index[hit]]
            keep &= ~(mine & (index < 0))
        self.bucket = moved
        if not keep.all():
            for name in ("series", "bucket", "bucket_valid", "frequency_valid", "value", "valid"):
                setattr(self, name, getattr(self, name)[keep])
            self.groups = self.groups[:, keep]
            if self.frequency is not None:
                self.frequency = self.frequency[keep]

    def rows(self, index: np.ndarray) -> _Rows:
        """Found rows ``index`` as they are."""
        frequency = self.frequency if self.frequency is not None else np.zeros(len(self.series), dtype=np.int64)
        return _Rows(
            self.series[index],
            self.groups[:, index],
            self.bucket[index],
            self.bucket_valid[index],
            frequency[index],
            self.frequency_valid[index],
            self.value[index],
            self.valid[index],
        )


def _whole(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array (copied only when it has several chunks)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


@functools.lru_cache(maxsize=256)
def _strings(values: tuple[str, ...]) -> pa.Array:
    """Labels as an Arrow string array (cached: a repeated query brings the same labels)."""
    return pa.array(values, type=pa.string())


def _text(column: pa.Array) -> pa.Array:
    return column if column.type == pa.string() else pc.cast(column, pa.string())


def _naive_buckets(column: pa.Array) -> pa.Array:
    """Bucket starts as naive microsecond timestamps: wall-clock time of zoned values, text parsed
    (engines without a timestamp type, SQLite, return ISO text)."""
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        column = pc.local_timestamp(column)
    return column if column.type == BUCKET else pc.cast(column, BUCKET, safe=False)


def _values(column: pa.Array, value_type: pa.DataType) -> pa.Array:
    if column.type == value_type:
        return column
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


def _keys(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows numbered by their combination of codes (each >= -1): (each row's key, each key's first row)."""
    key = columns[0] + 1
    bound = int(key.max(initial=0)) + 1  # key < bound
    for column in columns[1:]:
        radix = int(column.max(initial=-1)) + 2
        if bound * radix >= 2**62:  # dense again first, so the product stays small
            _, key = np.unique(key, return_inverse=True)
            key, bound = key.reshape(-1), int(key.max(initial=0)) + 1
        key, bound = key * radix + column + 1, bound * radix
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.reshape(-1), first


def _grid_rows(found: _Found, grid: np.ndarray, keys: int, key_rows: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """Breakdown values, buckets and bucket validity of ``keys`` x ``grid`` (keys-major)."""
    width = len(grid)
    if key_rows is None:
        groups = np.zeros((0, keys * width), dtype=np.int64)
    else:
        groups = np.repeat(found.groups[:, key_rows], width, axis=1)
    return groups, np.tile(grid, keys), np.ones(keys * width, dtype=bool)


def _filled(found: _Found, grid: np.ndarray, fills: np.ndarray) -> list[_Rows]:
    """Every output series over every bucket for each breakdown value it has (without breakdown:
    one row per bucket even with no rows at all), plus found buckets off the grid; empty cells
    take the series' fill (0 for counts, null otherwise)."""
    rows = np.flatnonzero(found.series >= 0)
    series = found.series[rows]
    width = len(grid)
    key_rows: np.ndarray | None = None
    if len(found.groups):
        key, first = _keys([series, *found.groups[:, rows]])
        keys, key_series, key_rows = len(first), series[first], rows[first]
    else:
        key, keys, key_series = series, len(fills), np.arange(len(fills))
    position = _position(found.bucket[rows], found.bucket_valid[rows], grid)
    on = position >= 0
    cells, on_rows, extra = key[on] * width + position[on], rows[on], rows[~on]
    if len(cells) and np.bincount(cells).max() > 1:  # the same cell twice: both rows are kept
        _, once = np.unique(cells, return_index=True)
        first_time = np.zeros(len(cells), dtype=bool)
        first_time[once] = True
        extra = np.concatenate([extra, on_rows[~first_time]])
        cells, on_rows = cells[first_time], on_rows[first_time]
    valid = np.repeat(fills[key_series], width)
    values = np.zeros(keys * width, dtype=found.value.dtype)
    values[cells] = found.value[on_rows]
    valid[cells] = found.valid[on_rows]
    groups, bucket, bucket_valid = _grid_rows(found, grid, keys, key_rows)
    no_frequency = np.zeros(keys * width, dtype=np.int64)
    filled = _Rows(np.repeat(key_series, width), groups, bucket, bucket_valid, no_frequency, valid, values, valid)
    return [filled, found.rows(np.sort(extra))]


@functools.lru_cache(maxsize=256)
def _parsed(expression: str) -> tuple[Node, tuple[str, ...]]:
    tree = parse_formula(expression)
    return tree, tuple(references(tree))


def _formula(
    found: _Found, grid: np.ndarray, fills: np.ndarray, labels: list[str], index: int, expression: str
) -> _Rows:
    """One row per (breakdown values, bucket) present in any series the formula names, its value
    computed over the named series' columns aligned on that grid (null operands and x/0: null)."""
    tree, names = _parsed(expression)
    wanted = [labels.index(name) for name in names]
    rows = np.flatnonzero(np.isin(found.series, wanted))
    width = len(grid)
    key_rows: np.ndarray | None = None
    if len(found.groups):
        key, first = _keys(list(found.groups[:, rows]))
        keys, key_rows = len(first), rows[first]
    else:
        key, keys = np.zeros(len(rows), dtype=np.int64), 1
    size = keys * width
    position = _position(found.bucket[rows], found.bucket_valid[rows], grid)
    cells = key * width + position
    columns = {}
    for name, series in zip(names, wanted, strict=True):
        mine = (found.series[rows] == series) & (position >= 0)
        values = np.zeros(size, dtype=np.float64)
        valid = np.full(size, fills[series], dtype=bool)
        values[cells[mine]] = found.value[rows[mine]]
        valid[cells[mine]] = found.valid[rows[mine]]
        columns[name] = (values, valid)
    value, valid = evaluate_arrays(tree, columns, size)
    groups, bucket, bucket_valid = _grid_rows(found, grid, keys, key_rows)
    series_index = np.full(size, index, dtype=np.int64)
    return _Rows(series_index, groups, bucket, bucket_valid, np.zeros(size, dtype=np.int64), valid, value, valid)


def _answer(rows: _Rows, found: _Found, names: list[str], value_type: pa.DataType, compiled: CompiledQuery) -> pa.Table:
    """The rows sorted by series, breakdown values (nulls last), bucket (nulls last), frequency (a
    null one as 0), as the answer's Arrow columns."""
    return _table(rows, _order(rows, found, names, compiled), found, names, value_type, compiled)


def _order(rows: _Rows, found: _Found, names: list[str], compiled: CompiledQuery) -> np.ndarray:
    """The rows' order in the answer (see :func:`_answer`)."""
    order_of_names = sorted(range(len(names)), key=names.__getitem__)  # code points: Arrow's byte order
    name_rank = np.empty(len(names), dtype=np.int64)
    name_rank[order_of_names] = np.arange(len(names))
    keys = [name_rank[rows.series]]
    keys += [
        dictionary_rank(dictionary, order)[codes]
        for dictionary, codes, order in zip(found.dictionaries, rows.groups, compiled.group_orders, strict=True)
    ]
    keys += [~rows.bucket_valid, rows.bucket]
    if found.frequency is not None:
        keys.append(np.where(rows.frequency_valid, rows.frequency, 0))
    return np.lexsort(keys[::-1])


def _table(
    rows: _Rows, order: np.ndarray, found: _Found, names: list[str], value_type: pa.DataType, compiled: CompiledQuery
) -> pa.Table:
    """The rows in ``order`` as the answer's Arrow columns."""
    tf = compiled.timeframe
    bucket_valid = rows.bucket_valid[order]
    utc = tf.timezone == "UTC"  # naive UTC wall time is the instant itself: no conversion
    kind = pa.timestamp("us", tz="UTC") if utc else BUCKET
    bucket = pa.array(rows.bucket[order], type=kind, mask=None if bucket_valid.all() else ~bucket_valid)
    arrays = [bucket if utc else _bucket_array(bucket, tf.timezone)]
    for dictionary, codes in zip(found.dictionaries, rows.groups, strict=True):
        codes = codes[order]
        arrays.append(dictionary.take(pa.array(codes, mask=codes < 0)))
    columns = ["bucket", *compiled.breakdown]
    if found.frequency is not None:
        valid = rows.frequency_valid[order]
        arrays.append(pa.array(rows.frequency[order], type=pa.int64(), mask=None if valid.all() else ~valid))
        columns.append("frequency")
    arrays.append(_strings(tuple(names)).take(pa.array(rows.series[order])))
    valid = rows.valid[order]
    arrays.append(pa.array(rows.value[order], type=value_type, mask=None if valid.all() else ~valid))
    return pa.Table.from_arrays(arrays, names=[*columns, "series", "value"])


def _dense_layout(
    found: _Found,
    grid: np.ndarray,
    fills: np.ndarray,
    names: list[str],
    value_type: pa.DataType,
    compiled: CompiledQuery,
) -> DenseLayout:
    """The fixed part of the answer without breakdown (``segwise.shape_grid``), by this module's own
    rules: the rows of the filled grid and the formulas, as :func:`_filled` and :func:`_formula`
    lay them out (series-major), ordered by :func:`_order`, the columns built by :func:`_table`."""
    width, count = len(grid), len(names)
    size = count * width
    skeleton = _Rows(
        np.repeat(np.arange(count), width),
        np.zeros((0, size), dtype=np.int64),
        np.tile(grid, count),
        np.ones(size, dtype=bool),
        np.zeros(size, dtype=np.int64),
        np.ones(size, dtype=bool),
        np.zeros(size, dtype=found.value.dtype),
        np.ones(size, dtype=bool),
    )
    order = _order(skeleton, found, names, compiled)
    table = _table(skeleton, order, found, names, value_type, compiled)
    labels = names[: len(fills)]
    formulas = []
    for formula in compiled.query.formulas:
        tree, operands = _parsed(formula.expression)
        formulas.append((tree, operands, tuple(labels.index(name) for name in operands)))
    return DenseLayout(
        grid=grid,
        keys=_cell_keys(compiled, grid),
        fill_valid=np.repeat(fills, width),
        value_dtype=found.value.dtype,
        formulas=tuple(formulas),
        order=order,
        columns=tuple(table.column(i).chunk(0) for i in range(table.num_columns - 1)),
        names=tuple(table.column_names),
        value_type=value_type,
    )


def _cell_keys(compiled: CompiledQuery, grid: np.ndarray) -> CellKeys | None:
    """Where a found row of a dense answer goes, by its output and its bucket as the warehouse
    gave it: as :meth:`_Found.move_previous` moves a previous period's bucket (the i-th of its own
    range to the current range's i-th; beyond the current length: dropped) and :func:`_position`
    places it on ``grid``. None where the keys would not fit in 63 bits."""
    tf = compiled.timeframe
    width = len(grid)
    sources, cells, drops = [], [], []
    for s, output in enumerate(compiled.outputs):
        moves = tf.grain != "total" and output.previous
        if moves:
            count = min(len(output.timeframe.buckets), len(tf.buckets))
            source = _bucket_values(output.timeframe.buckets, tf.grain)[:count]
            moved = _bucket_values(tf.buckets, tf.grain)[:count]
            target = _position(moved, np.ones(count, dtype=bool), grid)
        else:
            source, target = grid, np.arange(width)
        sources.append(source)
        cells.append(np.where(target >= 0, s * width + target, -1))
        drops.append(moves)
    values = np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)
    base = int(values.min()) if len(values) else 0
    span = int(values.max()) - base + 1 if len(values) else 1
    if len(sources) * span >= 2**62:
        return None
    keys = np.concatenate([s * span + (source - base) for s, source in enumerate(sources)]) if sources else values
    return CellKeys(keys, np.concatenate(cells) if cells else values, np.array(drops, dtype=bool), base, span)


def _bucket_array(buckets: pa.Array, timezone: str) -> pa.Array:
    if timezone == "UTC":
        return buckets.cast(pa.timestamp("us", tz="UTC"))
    # A local midnight skipped by a daylight-saving jump starts at the first instant after it.
    return pc.assume_timezone(buckets, timezone=timezone, ambiguous="earliest", nonexistent="latest")


# The shaping of each analysis other than a segmentation (``Query.analysis``).
SHAPERS: dict[str, Callable[[pa.Table, CompiledQuery], pa.Table]] = {
    "stickiness": shape_stickiness,
    "lifecycle": shape_lifecycle,
    "funnel": shape_funnel,
    "retention": shape_retention,
}
