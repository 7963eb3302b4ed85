"""What the stages use of a loaded project: its declarations and its open warehouse.

``segwise.Project`` (``segwise.session``) implements it. The stages (pipeline, dispatch,
explain, ...) name this abstract class rather than the session class, which sits above them
and calls them.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING

from .project import ProjectSpec

if TYPE_CHECKING:
    from segwise.adapters.base import Adapter

    from .cache import ResultCache
    from .catalog import Catalog


class LoadedProject(ProjectSpec):
    """A project with its warehouse: the adapter and the catalog, opened on first use."""

    @abstractmethod
    def adapter(self) -> Adapter:
        """The connected adapter for ``warehouse`` (opened on first use, then reused)."""

    @abstractmethod
    def catalog(self, refresh: bool = False) -> Catalog:
        """Tables, columns, event names and properties discovered from the warehouse (cached)."""

    @abstractmethod
    def result_cache(self) -> ResultCache:
        """The project's result cache (``segwise.cache``), made on first use with the ``cache:``
        settings; whether a query uses it is decided per call (``cache_settings``)."""

    @abstractmethod
    def close(self) -> None:
        """Release the warehouse connection."""
