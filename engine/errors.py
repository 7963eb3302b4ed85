"""The error hierarchy: one root, a few meaningful kinds.

Every error carries ``where`` (file, series, field ...) so that the CLI and the HTTP API can say
what was wrong and where without a traceback.
"""

from __future__ import annotations


class SegwiseError(Exception):
    """Root of every error segwise raises on purpose."""

    def __init__(self, message: str, where: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" Hint: {self.hint}"
        return text


class SpecError(SegwiseError):
    """A query or project file is malformed or invalid (before touching the warehouse)."""


class CatalogError(SegwiseError):
    """The query names an event, property or table the warehouse does not have."""


class UnsupportedError(SegwiseError):
    """The query is valid but the chosen warehouse or dialect cannot answer it."""


class WarehouseError(SegwiseError):
    """The warehouse failed: unreachable, refused, timed out or returned an error."""

    def __init__(
        self,
        message: str,
        where: str | None = None,
        hint: str | None = None,
        sqlstate: str | None = None,
    ) -> None:
        self.sqlstate = sqlstate
        super().__init__(message, where, hint)
