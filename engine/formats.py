"""File formats segwise reads as tables, told by a path's extension (``x.csv.gz`` is CSV), and
whether a ``table:`` value is really a path (the project model refuses it with a hint)."""

from __future__ import annotations

import os

FORMATS = ("csv", "tsv", "parquet", "json", "ndjson")
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
COMPRESSIONS = (".gz", ".gzip")


def format_of(path: str, declared: str | None = None) -> str | None:
    """The format a path's extension says (``x.csv.gz`` -> csv), or ``declared`` when given."""
    if declared is not None:
        return declared
    name = path.lower()
    for suffix in COMPRESSIONS:
        name = name.removesuffix(suffix)
    return EXTENSIONS.get(os.path.splitext(name)[1])


def looks_like_file(name: str) -> bool:
    """Whether a ``table:`` value is a path or a table function rather than a table name."""
    if any(ch in name for ch in "/\\()'") or "*" in name:
        return True
    return format_of(name) is not None
