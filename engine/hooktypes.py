"""The typed values plugin hooks receive and return (``segwise.hookspecs``), kept apart from the
modules that produce them so the hook contract imports nothing above it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .measures import Measure
    from .query import Query


class CompiledStatement(Protocol):
    """What a hook sees of a compiled query (``segwise.CompiledQuery`` is one)."""

    @property
    def sql(self) -> str: ...
    @property
    def dialect(self) -> str: ...
    @property
    def query(self) -> Query: ...
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def measures(self) -> tuple[Measure, ...]: ...
    @property
    def breakdown(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class ScanEstimate:
    """One series' read of one event table."""

    series: str
    table: str
    table_rows: int
    rows: int
    bytes: int
    pruning: str


@dataclass(frozen=True)
class CostEstimate:
    scans: tuple[ScanEstimate, ...]
    source: str = "segwise statistics model"

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.scans)

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.scans)
