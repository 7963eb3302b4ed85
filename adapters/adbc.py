"""Shared plumbing for adapters over ADBC drivers: lazy driver import and error translation."""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from segwise.errors import WarehouseError

if TYPE_CHECKING:
    from types import ModuleType


def import_driver(module: str, engine: str, extra: str) -> ModuleType:
    """Import an ADBC DBAPI module on first use, so ``import segwise`` works without it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0].replace("_", "-")
        raise WarehouseError(
            f"the {engine} adapter needs the ADBC driver {package}, which is not installed ({exc})",
            hint=f"pip install 'segwise[{extra}]'",
        ) from exc


def redact(url: str) -> str:
    """``url`` without its password (for messages and ``where``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


_NOISE = (
    re.compile(r"^[A-Z_]+: "),  # ADBC status prefix: "IO: ", "NOT_FOUND: "
    re.compile(r"^\[[A-Za-z]+\] "),  # driver tag: "[libpq] ", "[SQLite] "
    re.compile(r"^Failed to (prepare|execute|step) query(?: '.*?')?: (could not begin COPY: )?", re.DOTALL),
    re.compile(r"^Failed to connect: "),
    re.compile(r"^(ERROR|FATAL): +"),
)
_CONTEXT = re.compile(r"\nLINE \d+: .*", re.DOTALL)  # libpq's echo of the statement with a caret


def driver_message(exc: BaseException) -> str:
    """The useful part of an ADBC error: no status prefix, no echoed query, one paragraph."""
    text = str(exc)
    for marker in ("\nQuery was:", "\nquery:", ". SQLSTATE:"):
        text = text.split(marker)[0]
    text = _CONTEXT.sub("", text)
    for pattern in _NOISE:
        text = pattern.sub("", text, count=1)
    return " ".join(text.split())


def sqlstate_of(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None)
    return state if isinstance(state, str) and state.strip("\x00") else None
