"""segwise: warehouse-native user segmentation.

    >>> import segwise
    >>> project = segwise.Project.load("segwise.yaml")          # doctest: +SKIP
    >>> table = segwise.run({"series": [{"event": "signup", "measure": "unique_users"}],
    ...                      "date_range": {"last": "30d"}, "time_grain": "week"}, project)  # doctest: +SKIP

``run`` returns a long-form ``pyarrow.Table``: bucket, breakdown columns, series, value.
"""

from __future__ import annotations

from .compiled import CompiledQuery
from .errors import CatalogError, SegwiseError, SpecError, UnsupportedError, WarehouseError
from .execute import run
from .pipeline import compile_query, plan
from .project import EventTable, Partition, Project, UserTable
from .query import AbsoluteRange, AnyOf, Condition, EventFilter, Query, RelativeRange, Series

__version__ = "0.1.0"

__all__ = [
    "AbsoluteRange",
    "AnyOf",
    "CatalogError",
    "CompiledQuery",
    "Condition",
    "EventFilter",
    "EventTable",
    "Partition",
    "Project",
    "Query",
    "RelativeRange",
    "SegwiseError",
    "Series",
    "SpecError",
    "UnsupportedError",
    "UserTable",
    "WarehouseError",
    "__version__",
    "compile_query",
    "plan",
    "run",
]
