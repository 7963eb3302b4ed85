"""Every hook segwise offers to plugins (project name and entry-point group ``segwise``).

Built-in adapters and dialects are registered through these same hooks (see ``plugins.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from segwise.adapters.base import Adapter, SqlFlavor

hookspec = pluggy.HookspecMarker("segwise")
hookimpl = pluggy.HookimplMarker("segwise")

# --------------------------------------------------------------------------------------------
# Warehouses
# --------------------------------------------------------------------------------------------


@hookspec
def segwise_adapters() -> list[type[Adapter]]:
    """Return adapter classes (subclasses of ``segwise.adapters.base.Adapter``).

    Each declares ``name`` and the URL ``schemes`` it answers, e.g. ``("duckdb",)``.
    """


@hookspec
def segwise_dialects() -> list[type[SqlFlavor]]:
    """Return render-only SQL flavors (``segwise sql --dialect NAME``) keyed by their ``name``."""
