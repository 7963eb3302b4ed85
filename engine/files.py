"""Files as tables: the ``file:`` declarations of a project, resolved to the paths they name.

A table declared with ``file:`` (a path or a glob, relative to the project file) is read by the
engine itself (DuckDB's ``read_csv``/``read_parquet``/``read_json``, Spark's readers) under the
table's name; queries only ever name the table. This module does the engine-independent part:
expand the glob, check each file can be read, settle the format, and list the Hive-style
directory keys (``event_date=2025-01-01/``) of a ``hive_partitioning`` table::

    event_tables:
      - table: events
        file: data/events/**/*.parquet
        hive_partitioning: true          # event_date becomes a column (and the partition)

Errors name the path: a glob that matches nothing, a file that cannot be read, an extension
that does not say the format.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.adapters.filetables import HIVE_SEGMENT, FileTable

from .errors import SpecError
from .formats import FORMATS, format_of

if TYPE_CHECKING:
    from .project import EventTable, ProjectSpec, UserTable

_GLOB_CHARS = re.compile(r"[*?\[]")


def resolve(spec: EventTable | UserTable, base_dir: Path | None, where: str) -> FileTable:
    """Expand ``spec.file`` (relative to ``base_dir``) and check every file it matches."""
    assert spec.file is not None
    pattern = os.path.expanduser(spec.file)
    full = pattern if os.path.isabs(pattern) else str((base_dir or Path.cwd()) / pattern)
    if os.path.isdir(full):  # a folder: every file of a known format below it
        matched = [p for p in glob.glob(os.path.join(full, "**", "*"), recursive=True) if format_of(p, spec.format)]
        root = full
    else:
        matched = glob.glob(full, recursive=True)
        root = _root(full)
    paths = sorted(os.path.abspath(p) for p in matched if os.path.isfile(p) and not _hidden(p, root))
    if not paths:
        what = "folder holds no file of a known format" if os.path.isdir(full) else "matches no file"
        raise SpecError(f"file: {spec.file!r} {what} (looked for {full})", where=where)
    formats = {format_of(p, spec.format) for p in paths}
    if None in formats:
        odd = next(p for p in paths if format_of(p) is None)
        raise SpecError(
            f"file: cannot tell the format of {odd} from its extension; add `format:` (one of {', '.join(FORMATS)})",
            where=where,
        )
    if len(formats) > 1:
        raise SpecError(
            f"file: {spec.file!r} matches files of several formats ({', '.join(sorted(map(str, formats)))}); "
            "narrow the glob or add `format:`",
            where=where,
        )
    for path in paths:
        try:
            with open(path, "rb") as handle:
                handle.read(1)
        except OSError as exc:
            raise SpecError(f"file: cannot read {path}: {exc.strerror or exc}", where=where) from None
    fmt = formats.pop()
    assert fmt is not None
    return FileTable(spec.table, spec.file, tuple(paths), fmt, spec.hive_partitioning, root, where)


def file_tables(project: ProjectSpec) -> list[FileTable]:
    """Every ``file:`` table of the project, resolved (event tables, then user tables)."""
    specs: list[tuple[str, int, EventTable | UserTable]] = [
        *(("event_tables", i, t) for i, t in enumerate(project.event_tables)),
        *(("user_tables", i, t) for i, t in enumerate(project.user_tables)),
    ]
    out: list[FileTable] = []
    for kind, index, spec in specs:
        if spec.file is not None:
            out.append(resolve(spec, project.base_dir, f"{project.origin} > {kind}[{index}] ({spec.table})"))
    return out


def hive_date_key(table: FileTable) -> str | None:
    """The one Hive key whose values are all ``YYYY-MM-DD`` dates (a day partition), if any."""
    dated = [
        key
        for key in table.hive_keys
        if table.hive_values(key) and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in table.hive_values(key))
    ]
    return dated[0] if len(dated) == 1 else None


def with_hive_partition(spec: EventTable, table: FileTable | None, kinds: dict[str, str]) -> EventTable:
    """``spec`` with its Hive date directory declared as the partition (when it has one and none is
    declared), so the planner prunes directories: ``event_date=2025-01-01/`` -> ``partition:
    {column: event_date, granularity: day, format: date}``."""
    if table is None or spec.partition is not None or not spec.hive_partitioning:
        return spec
    key = hive_date_key(table)
    if key is None or kinds.get(key) != "date":
        return spec
    partition = {"column": key, "granularity": "day", "format": "date"}
    return type(spec).model_validate({**spec.model_dump(exclude_unset=True), "partition": partition})


def _root(pattern: str) -> str:
    parts = Path(pattern).parts
    kept: list[str] = []
    for part in parts[:-1]:
        if _GLOB_CHARS.search(part) or HIVE_SEGMENT.match(part):
            break
        kept.append(part)
    return str(Path(*kept)) if kept else os.sep


def _hidden(path: str, root: str) -> bool:
    """Spark/Hadoop markers and hidden files (``_SUCCESS``, ``.crc``) are not data."""
    relative = os.path.relpath(path, root)
    return any(part.startswith((".", "_")) for part in Path(relative).parts)
