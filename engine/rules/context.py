"""What a rule may consult: the bound query (project, catalog, query), the cost model and the
caller's options. Not a rule: every rule imports it, none imports another rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segwise.bind import BoundQuery
    from segwise.cost import Coefficients


@dataclass
class Context:
    """What rules may consult: the bound query (project, catalog, query) and the cost model."""

    bound: BoundQuery
    costs: Coefficients
    use_rollups: bool = True
    share_scans: str = "auto"  # auto (by cost) | always | never
    disabled: frozenset[str] = frozenset()  # rule names to skip (tests, benchmarks)
    preaggregate: str = "auto"  # auto (by cost) | always | never
