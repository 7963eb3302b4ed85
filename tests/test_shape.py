"""Shaping the answer (``segwise.execute.shape_result``) against a per-row Python reference of the
rules in docs/queries.md "The result", on every example query and on altered warehouse answers:
rows dropped, null values, rows off the grid, several chunks, text buckets, decimals, no rows."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml

import segwise
from segwise import execute, shape_grid
from segwise.compiled import CompiledQuery
from segwise.demo.gallery import examples_dir
from segwise.demo.generate import write_duckdb
from segwise.dispatch import execute_compiled
from segwise.execute import shape_result
from segwise.formulas import evaluate, parse_formula, references
from segwise.pipeline import compile_query

NOW = "2025-01-31T10:00:00"
EXTRA: dict[str, dict[str, Any]] = {
    "division by zero": {
        "series": [{"event": "login"}, {"event": "purchase"}],
        "formulas": [{"label": "f1", "expression": "A / (B - B)"}, {"label": "f2", "expression": "-(B) / A + 2"}],
        "date_range": {"last": "10d"},
        "breakdown": ["country", "platform"],
    },
    "no data": {
        "series": [{"event": "login"}, {"event": "purchase", "measure": "avg:revenue"}],
        "formulas": [{"label": "f", "expression": "A / B"}],
        "date_range": {"from": "2030-01-01", "to": "2030-01-05"},
    },
    "month, previous period": {
        "series": [{"event": "login", "measure": "unique_users"}],
        "date_range": {"last": "2mo"},
        "time_grain": "month",
        "compare": "previous_period",
    },
    "total with breakdown and formula": {
        "series": [{"event": "login"}, {"event": "purchase", "measure": "sum:revenue"}],
        "time_grain": "total",
        "breakdown": ["platform"],
        "date_range": {"last": "20d"},
        "formula": "B / A",
    },
    "hours": {"series": [{"event": "login"}], "date_range": {"last": "2d"}, "time_grain": "hour"},
}


@pytest.fixture(scope="module", params=["UTC", "Asia/Kathmandu"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.getbasetemp() / "shape.duckdb"
    if not db.exists():
        write_duckdb(db, users=150, days=30)
    with segwise.Project(
        warehouse=f"duckdb:///{db}",
        timezone=request.param,
        event_tables=[{"table": "events", "event_name": "event_name"}],
        user_tables=[{"table": "users"}],
    ) as proj:
        yield proj


def queries() -> list[tuple[str, dict[str, Any]]]:
    folder = examples_dir()
    paths = [p for p in sorted(folder.glob("*.yaml")) if p.name != "segwise.yaml"]
    paths += sorted((folder / "advanced").glob("*.yaml"))
    found = [(p.stem, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in paths]
    # segmentations only: the other analyses have their own shaping, tested with their oracles
    return [(name, q) for name, q in found if q.get("series")] + list(EXTRA.items())


def reference(raw: pa.Table, compiled: CompiledQuery) -> list[tuple[Any, ...]]:
    """The answer's rows (naive local bucket, breakdown values, [frequency], series, value), row by row."""
    tf = compiled.timeframe
    groups = [f"_g{j}" for j in range(len(compiled.breakdown))]
    labels = [o.label for o in compiled.outputs]
    integer = compiled.value_is_integer
    frequency = "_f" in raw.column_names
    found = []
    for row in raw.to_pylist():
        bucket = tf.start if tf.grain == "total" else row["bucket"]
        if isinstance(bucket, str):
            bucket = datetime.fromisoformat(bucket)
        value = row["value"]
        if value is not None:
            value = int(value) if integer else float(value)
        key = tuple(None if row[g] is None else str(row[g]) for g in groups)
        found.append([str(row["series"]), key, bucket, row.get("_f"), value])
    for output in compiled.outputs:  # the previous period, moved by position
        if output.previous and tf.grain != "total":
            position = {b: i for i, b in enumerate(output.timeframe.buckets)}
            for row in [r for r in found if r[0] == output.label]:
                i = position.get(row[2])
                if i is None or i >= len(tf.buckets):
                    found.remove(row)
                else:
                    row[2] = tf.buckets[i]
    fill = {o.label: (0 if integer else 0.0) if o.measure.is_count else None for o in compiled.outputs}
    outputs = [r for r in found if r[0] in labels]
    rows: list[tuple[Any, ...]] = []
    if frequency:
        rows = [(s, g, b, f, v) for s, g, b, f, v in outputs]
    else:
        keys = dict.fromkeys((r[0], r[1]) for r in outputs) if groups else {(label, ()): None for label in labels}
        cells = {(s, g, b): fill[s] for s, g in keys for b in tf.buckets}
        for s, g, b, _f, v in outputs:
            if (s, g, b) in cells:
                cells[(s, g, b)] = v
            else:
                rows.append((s, g, b, None, v))
        rows += [(s, g, b, None, v) for (s, g, b), v in cells.items()]
        for formula in compiled.query.formulas:
            tree = parse_formula(formula.expression)
            names = references(tree)
            values = {(r[0], r[1], r[2]): r[4] for r in found}
            formula_keys = dict.fromkeys(r[1] for r in found if r[0] in names) if groups else {(): None}
            for g in formula_keys:
                for b in tf.buckets:
                    operands = {n: values.get((n, g, b), fill[n]) for n in names}
                    rows.append((formula.label, g, b, None, evaluate(tree, operands)))
    rows.sort(key=lambda r: (r[0].encode(), [(v is None, v or "") for v in r[1]], r[2], r[3] or 0))
    return [(b, *g, *([f] if frequency else []), s, v) for s, g, b, f, v in rows]


def answer_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    local = table.set_column(0, "bucket", pc.local_timestamp(table["bucket"]))
    return [tuple(row.values()) for row in local.to_pylist()]


def altered(raw: pa.Table, rng: random.Random, previous: tuple[str, ...] = ()) -> list[tuple[str, pa.Table]]:
    out = [("as is", raw), ("no rows", raw.slice(0, 0))]
    n = raw.num_rows
    if n > 1:
        out.append(("chunks", pa.concat_tables([raw.slice(0, n // 2), raw.slice(n // 2)])))
        out.append(("rows dropped", raw.filter(pa.array([rng.random() < 0.6 for _ in range(n)]))))
        out.append(("reversed", raw.take(pa.array(np.arange(n)[::-1].copy()))))
    if n:
        kind = raw.schema.field("value").type
        values = [None if rng.random() < 0.3 else v for v in raw["value"].to_pylist()]
        nulls = raw.set_column(raw.schema.get_field_index("value"), "value", pa.array(values, kind))
        out.append(("null values", nulls))
        if pa.types.is_floating(kind):
            decimal = pc.cast(pc.round(raw["value"], 4), pa.decimal128(38, 4))
            out.append(("decimal values", raw.set_column(raw.schema.get_field_index("value"), "value", decimal)))
        if "bucket" in raw.column_names and pa.types.is_timestamp(raw.schema.field("bucket").type):
            i = raw.schema.get_field_index("bucket")
            text = pc.strftime(raw["bucket"], "%Y-%m-%d %H:%M:%S")
            out.append(("text buckets", raw.set_column(i, "bucket", text)))
            off = pc.add(raw["bucket"], pa.scalar(timedelta(seconds=1))).slice(0, 1)
            out.append(("off the grid", pa.concat_tables([raw, raw.slice(0, 1).set_column(i, "bucket", off)])))
            # a previous period's row at a bucket that is not one of its range's: dropped, not kept off the grid
            if previous:
                row = raw.slice(0, 1).set_column(i, "bucket", off)
                label = pa.array([previous[0]], type=raw.schema.field("series").type)
                row = row.set_column(row.schema.get_field_index("series"), "series", label)
                out.append(("previous off its range", pa.concat_tables([raw, row])))
    return out


@pytest.mark.parametrize(("name", "query"), queries(), ids=[name for name, _ in queries()])
def test_shape_matches_the_reference(
    project: Any, name: str, query: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        compiled = compile_query(project, query, now=NOW)
    except segwise.SegwiseError:
        pytest.skip("not answerable on this project")
    raw = execute_compiled(project, compiled)
    rng = random.Random(name)
    dense: list[bool] = []  # per altered answer: shaped by the dense layout (segwise.shape_grid)

    def spy(*args: Any) -> pa.Table | None:
        table = shape_grid.dense_answer(*args)
        dense.append(table is not None)
        return table

    monkeypatch.setattr(execute, "dense_answer", spy)
    whats = []
    previous = tuple(o.label for o in compiled.outputs if o.previous)
    for what, table in altered(raw, rng, previous):
        dense_before = len(dense)
        shaped = shape_result(table, compiled)
        whats.append((what, dense[dense_before:] == [True]))
        assert shaped.column_names[0] == "bucket" and shaped.column_names[-2:] == ["series", "value"], what
        assert shaped["bucket"].type == pa.timestamp("us", tz=project.timezone), what
        assert shaped["value"].type == (pa.int64() if compiled.value_is_integer else pa.float64()), what
        assert all(shaped[c].num_chunks == 1 for c in shaped.column_names), what
        want, got = reference(table, compiled), answer_rows(shaped)
        assert len(got) == len(want), what
        for w, g in zip(want, got, strict=True):
            assert w[:-1] == g[:-1], (what, w, g)
            if isinstance(w[-1], float) and isinstance(g[-1], float) and w[-1] != w[-1]:
                assert g[-1] != g[-1], (what, w, g)  # NaN
            else:
                assert w[-1] == g[-1] and type(w[-1]) is type(g[-1]), (what, w, g)
    # Both ways are exercised: without breakdown (and not a distribution) the dense layout answers,
    # except for a row off the grid, which the general algorithm keeps.
    plain = not compiled.breakdown and not compiled.frequency
    if previous and compiled.timeframe.grain != "total" and raw.num_rows:
        assert "previous off its range" in dict(whats)
    for what, was_dense in whats:
        assert was_dense == (plain and what != "off the grid"), (what, was_dense)
