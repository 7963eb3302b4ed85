"""``segwise init FILE_OR_URL``: look at the data, guess the columns, write a project file that works.

For a file (or glob) the project reads it with ``file:`` on the embedded DuckDB; for a warehouse
URL it names ``--table``. The user id, event time and event name columns are guessed from their
names, types and contents (a handful of rows and distinct counts), the guesses are printed with
the reason for each, and the written file is loaded back and summarised (events, span) so what
was written is known to work. An existing file is only replaced with ``--force``.
"""

from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlglot import exp

from .errors import SpecError
from .timeformat import guess_epoch_unit, guess_text_format

if TYPE_CHECKING:
    from segwise.adapters.base import Adapter, ColumnInfo, TableRef

TIME_NAMES = ("event_time", "timestamp", "event_timestamp", "ts", "time", "created_at", "occurred_at", "datetime")
USER_NAMES = (
    "user_id",
    "userid",
    "user",
    "uid",
    "distinct_id",
    "customer_id",
    "account_id",
    "anonymous_id",
    "person_id",
)
EVENT_NAMES = ("event_name", "event_type", "event", "name", "action", "type", "event_id")
SAMPLE_ROWS = 10_000


@dataclass(frozen=True)
class Guess:
    field: str
    column: str
    reason: str


def _name_rank(name: str, preferred: tuple[str, ...], fragment: str) -> int | None:
    low = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if low in preferred:
        return preferred.index(low)
    if fragment in low:
        return len(preferred) + 1
    return None


def _encoded_time(columns: list[ColumnInfo], samples: dict[str, list[Any]]) -> tuple[ColumnInfo, str] | None:
    """A text or number column named like a time whose sampled values all read as one format."""
    named = [c for c in columns if c.kind in ("string", "integer", "float")]
    named = [c for c in named if _name_rank(c.name, TIME_NAMES, "time") is not None or c.name.lower().endswith("_at")]
    named.sort(key=lambda c: _name_rank(c.name, TIME_NAMES, "time") or len(TIME_NAMES) + 2)
    for column in named:
        values = samples.get(column.name) or []
        if column.kind == "string":
            fmt = guess_text_format([str(v) for v in values if v is not None])
        else:
            fmt = guess_epoch_unit([v for v in values if v is not None])
        if fmt is not None:
            return column, fmt
    return None


def guess_columns(
    columns: list[ColumnInfo], distinct: dict[str, int], rows: int, samples: dict[str, list[Any]] | None = None
) -> list[Guess]:
    """(user_id, event_time[, event_time_format], event_name) guesses, each with why; SpecError when
    one cannot be found. ``samples``: a few values of the text and number columns (for formats)."""
    times = [c for c in columns if c.kind in ("timestamp", "timestamptz", "date")]
    ranked = sorted(
        times,
        key=lambda c: (
            _name_rank(c.name, TIME_NAMES, "time") is None,
            _name_rank(c.name, TIME_NAMES, "time") or 0,
            c.kind == "date",
        ),
    )
    encoded = None if ranked else _encoded_time(columns, samples or {})
    if not ranked and encoded is None:
        texts = [c.name for c in columns if c.kind in ("string", "integer", "float")]
        raise SpecError(
            "no timestamp column found (columns: "
            + ", ".join(f"{c.name} {c.raw_type}" for c in columns)
            + ")"
            + (
                f"; no text or number column ({', '.join(texts)}) read as times in a known format: set event_time "
                "and event_time_format (iso, a strftime pattern, epoch_s|epoch_ms|epoch_us) in the written file"
                if texts
                else ""
            ),
            where="segwise init",
        )
    if encoded is not None:
        time, fmt = encoded
        guesses = [
            Guess("event_time", time.name, f"{time.raw_type}, by name"),
            Guess("event_time_format", fmt, f"every sampled value reads as {fmt}"),
        ]
    else:
        time = ranked[0]
        if _name_rank(time.name, TIME_NAMES, "time") is not None:
            how = "by name"
        else:
            how = "the only time column" if len(times) == 1 else "the first time column"
        guesses = [Guess("event_time", time.name, f"{time.raw_type}, {how}")]

    rest = [c for c in columns if c.name != time.name and c.kind in ("string", "integer")]
    users = sorted(
        (c for c in rest if _name_rank(c.name, USER_NAMES, "user") is not None),
        key=lambda c: _name_rank(c.name, USER_NAMES, "user") or 0,
    )
    if users:
        user = users[0]
        user_reason = "by name"
    else:  # the most varied id-like column
        candidates = [c for c in rest if distinct.get(c.name, 0) > 1]
        if not candidates:
            raise SpecError("no user id column found: name one `user_id` in the written file", where="segwise init")
        user = max(candidates, key=lambda c: distinct.get(c.name, 0))
        user_reason = "most distinct values"
    guesses.insert(
        0, Guess("user_id", user.name, f"{user_reason}; {distinct.get(user.name, 0):,} distinct in {rows:,} rows")
    )

    names = [c for c in rest if c.kind == "string" and c.name != user.name]
    few = [c for c in names if 0 < distinct.get(c.name, 0) <= max(200, rows // 20) or rows <= 20]
    by_name = sorted(
        (c for c in few if _name_rank(c.name, EVENT_NAMES, "event") is not None),
        key=lambda c: _name_rank(c.name, EVENT_NAMES, "event") or 0,
    )
    if by_name:
        event = by_name[0]
        event_reason = "by name"
    elif few:
        event = min(few, key=lambda c: distinct.get(c.name, 0))
        event_reason = "fewest distinct text values"
    else:
        raise SpecError(
            "no event name column found (a text column with few distinct values); "
            "set `event_name` or `event_name_value` in the written file",
            where="segwise init",
        )
    guesses.append(Guess("event_name", event.name, f"{event_reason}; {distinct.get(event.name, 0):,} distinct values"))
    return guesses


def _distinct_counts(adapter: Adapter, ref: TableRef, columns: list[ColumnInfo]) -> tuple[int, dict[str, int]]:
    from .observe import execute_observed

    sample = exp.select(exp.Star()).from_(ref.expression()).limit(SAMPLE_ROWS).subquery("s")
    counted = [c for c in columns if c.kind in ("string", "integer")]
    selects: list[exp.Expr] = [exp.Count(this=exp.Star()).as_("_rows")]
    selects += [
        exp.Count(this=exp.Distinct(expressions=[exp.column(c.name, quoted=True)])).as_(f"_c{i}")
        for i, c in enumerate(counted)
    ]
    query = exp.select(*selects).from_(sample)
    row = execute_observed(adapter, adapter.flavor.render(query), expression=query, tables=[ref]).to_pylist()[0]
    return int(row["_rows"]), {c.name: int(row[f"_c{i}"]) for i, c in enumerate(counted)}


def _samples(adapter: Adapter, ref: TableRef, columns: list[ColumnInfo]) -> dict[str, list[Any]]:
    """Up to 50 rows of the text and number columns (their formats are guessed from them)."""
    from .observe import execute_observed

    picked = [c for c in columns if c.kind in ("string", "integer", "float")]
    if not picked:
        return {}
    query = exp.select(*[exp.column(c.name, quoted=True) for c in picked]).from_(ref.expression()).limit(50)
    table = execute_observed(adapter, adapter.flavor.render(query), expression=query, tables=[ref])
    return {c.name: table.column(i).to_pylist() for i, c in enumerate(picked)}


def init_project(source: str, output: Path, table: str | None = None, force: bool = False) -> str:
    """Write the project file for ``source``; return what to print (guesses and a catalog summary)."""
    from segwise.adapters.base import TableRef
    from segwise.adapters.filetables import FileTable

    from .files import resolve
    from .formats import format_of
    from .project import EventTable
    from .registry import open_adapter
    from .session import Project

    if output.exists() and not force:
        raise SpecError(f"{output} exists; pass --force to replace it", where="segwise init")
    base = output.resolve().parent
    is_url = "://" in source
    entry: dict[str, Any]
    if is_url:
        if not table:
            raise SpecError("name the events table of the warehouse with --table", where="segwise init")
        Project.model_validate({"warehouse": source, "event_tables": [{"table": table, "event_name_value": "x"}]})
        adapter = open_adapter(source, base_dir=base, where=source)
        ref = TableRef.parse(table)
        entry = {"table": table}
        files: list[FileTable] = []
    else:
        path = os.path.abspath(os.path.expanduser(source))
        declared = os.path.relpath(path, base) if not os.path.isabs(source) or path.startswith(str(base)) else path
        name = table or _table_name(path)
        spec = EventTable(table=name, file=declared, event_name_value="x")
        files = [resolve(spec, base, f"segwise init {source}")]
        entry = {"table": name, "file": declared}
        if format_of(path) is None and files[0].format:
            entry["format"] = files[0].format
        adapter = open_adapter("duckdb:///:memory:", base_dir=base)
        ref = TableRef.parse(name)
    try:
        if files:
            adapter.attach_files(files)
        columns = adapter.columns(ref)
        rows, distinct = _distinct_counts(adapter, ref, columns)
        samples = _samples(adapter, ref, columns)
    finally:
        adapter.close()
    guesses = guess_columns(columns, distinct, rows, samples)
    for guess in guesses:
        entry[guess.field] = guess.column
    text = _render(source if is_url else None, entry, guesses, columns)
    output.write_text(text, encoding="utf-8")
    lines = [f"wrote {output}"] + [f"  {g.field:<11} {g.column}  ({g.reason})" for g in guesses]
    with Project.load(output) as project:
        catalog = project.catalog()
        from .span import spans

        lines += ["", *[s.describe() for s in spans(catalog)]]
        events = catalog.event_names()
        shown = sorted(events.items(), key=lambda kv: -kv[1])[:10]
        lines.append(f"{len(events)} event names: " + ", ".join(f"{n} ({c:,})" for n, c in shown))
        if len(events) > 10:
            lines[-1] += ", ..."
        props = list(catalog.event_properties())
        lines.append(f"{len(props)} properties: " + ", ".join(props[:15]) + (", ..." if len(props) > 15 else ""))
    lines += ["", f"next: segwise catalog -p {output}"]
    return "\n".join(lines)


def _table_name(path: str) -> str:
    stem = Path(path.rstrip("/")).name.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_") or "events"
    return name if not name[0].isdigit() else f"t_{name}"


def _render(warehouse: str | None, entry: dict[str, Any], guesses: list[Guess], columns: list[ColumnInfo]) -> str:
    why = {g.field: g.reason for g in guesses}
    lines = ["# segwise project file, written by `segwise init` (docs/project.md lists every field)."]
    if warehouse is None:
        lines.append("# warehouse: left out, every table is a file (read by an in-memory DuckDB)")
    else:
        lines.append(f"warehouse: {yaml.safe_dump(warehouse, default_style=chr(34)).strip()}")
    lines += ["timezone: UTC                # naive timestamps are read as UTC", "week_start: monday", "event_tables:"]
    first = True
    for key, value in entry.items():
        prefix = "  - " if first else "    "
        first = False
        comment = f"  # guessed: {why[key]}" if key in why else ""
        if key == "file":
            comment = "  # relative to this file; a glob works too (data/*.parquet)"
        lines.append(f"{prefix}{key}: {yaml.safe_dump(value, default_style=chr(34)).strip()}{comment}")
    listing = ", ".join(f"{c.name} ({c.kind})" for c in columns)
    lines += ["# columns: " + part for part in textwrap.wrap(listing, 100)]
    lines.append("# user_tables:                  # optional: user properties joined on user_id")
    lines.append("#   - {table: users, file: users.csv, user_id: user_id}")
    return "\n".join(lines) + "\n"
