"""``file:`` tables as the adapters see them: one declaration resolved to its files, and the files'
version (identity, size, modification times) that the result cache compares."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

HIVE_SEGMENT = re.compile(r"^([^=/]+)=([^/]*)$")


@dataclass(frozen=True)
class FileTable:
    """One ``file:`` declaration, resolved: the table name, its files and how to read them."""

    name: str
    pattern: str
    paths: tuple[str, ...]  # absolute, sorted
    format: str
    hive_partitioning: bool
    root: str  # the folder before the first glob or key=value segment (Spark's basePath)
    where: str

    @property
    def hive_keys(self) -> list[str]:
        """Directory keys (``event_date`` of ``event_date=2025-01-01/``) in path order."""
        if not self.hive_partitioning:
            return []
        keys: list[str] = []
        for path in self.paths:
            for segment in Path(path).parent.parts:
                match = HIVE_SEGMENT.match(segment)
                if match and match.group(1) not in keys:
                    keys.append(match.group(1))
        return keys

    def hive_values(self, key: str) -> list[str]:
        values: set[str] = set()
        for path in self.paths:
            for segment in Path(path).parent.parts:
                match = HIVE_SEGMENT.match(segment)
                if match and match.group(1) == key:
                    values.add(match.group(2))
        return sorted(values)


def file_version(paths: Iterable[str]) -> tuple[tuple[object, ...], ...]:
    """The identity, size and modification times of ``paths`` (a missing file is a state too): a
    file replaced, written or appended to gives another value."""
    version: list[tuple[object, ...]] = []
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            version.append((path,))
            continue
        version.append((path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(version)
