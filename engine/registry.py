"""The plugin manager: built-ins first, then entry points, all through the same hooks."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pluggy

from . import hookspecs
from .errors import SpecError, UnsupportedError
from .measures import RESERVED_NAMES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from segwise.adapters.base import Adapter, SqlFlavor

    from .measures import MeasureDefinition

BUILTIN_MEASURES_PLUGIN = "segwise.plugins.measures"
DEFAULT_PLUGINS: tuple[str, ...] = (
    BUILTIN_MEASURES_PLUGIN,
    "segwise.adapters.duckdb",
    "segwise.adapters.postgresql",
    "segwise.adapters.sqlite",
    "segwise.adapters.clickhouse",
    "segwise.adapters.spark",
    "segwise.adapters.dialects",
    "segwise.adapters.remote",
    "segwise.plugins.revenue_per_user",
)


@functools.cache
def get_plugin_manager() -> pluggy.PluginManager:
    """Build the plugin manager once: specs, built-ins, entry points, then a pending check."""
    import importlib

    pm = pluggy.PluginManager("segwise")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints("segwise")
    pm.check_pending()
    return pm


def _by_name(kind: str, groups: Iterable[Iterable[Any]], keys: Callable[[Any], Iterable[str]]) -> dict[str, Any]:
    """Key -> class over every plugin's classes; one key claimed by two classes names both."""
    found: dict[str, Any] = {}
    for group in groups:
        for cls in group:
            for key in keys(cls):
                if key in found and found[key] is not cls:
                    raise SpecError(
                        f"two plugins register the {kind} {key!r}: {found[key].__module__}.{found[key].__name__} "
                        f"and {cls.__module__}.{cls.__name__}"
                    )
                found[key] = cls
    return found


def adapter_classes() -> dict[str, type[Adapter]]:
    """URL scheme -> adapter class."""
    return _by_name("adapter", get_plugin_manager().hook.segwise_adapters(), lambda cls: cls.schemes or (cls.name,))


def flavor_classes() -> dict[str, type[SqlFlavor]]:
    """Dialect name (or alias) -> flavor class: the flavors plugins register with
    ``segwise_dialects`` and every registered adapter's ``flavor_class``. Adapters sharing one
    flavor (ClickHouse's two) and a flavor registered both ways are one entry."""
    dialects = get_plugin_manager().hook.segwise_dialects()
    of_adapters = dict.fromkeys(cls.flavor_class for cls in adapter_classes().values())
    return _by_name("dialect", [*dialects, of_adapters], lambda cls: (cls.name, *cls.aliases))


@functools.cache
def measure_definitions() -> dict[str, MeasureDefinition]:
    """Every registered measure by name, the built-ins (``segwise.plugins.measures``) first; a
    plugin's name that the grammar reads itself or that another plugin took is an error naming
    both sides."""
    pm = get_plugin_manager()
    found: dict[str, tuple[MeasureDefinition, str]] = {}
    impls = sorted(
        pm.hook.segwise_measures.get_hookimpls(), key=lambda i: pm.get_name(i.plugin) != BUILTIN_MEASURES_PLUGIN
    )
    for impl in impls:
        plugin_name = pm.get_name(impl.plugin) or repr(impl.plugin)
        builtin = plugin_name == BUILTIN_MEASURES_PLUGIN
        definitions: list[MeasureDefinition] = impl.function() or []  # type: ignore[assignment]
        for definition in definitions:
            name = definition.name.lower()
            taken = found.get(name)
            reserved = name in RESERVED_NAMES or (name.startswith("p") and name[1:].isdigit())
            if not builtin and (reserved or (taken is not None and taken[1] == BUILTIN_MEASURES_PLUGIN)):
                raise SpecError(f"plugin {plugin_name} registers the measure {name!r}, which is built in")
            if taken is not None:
                raise SpecError(f"two plugins register the measure {name!r}: {taken[1]} and {plugin_name}")
            found[name] = (definition, plugin_name)
    return {name: definition for name, (definition, _) in found.items()}


def optimizer_rules(builtin: Iterable[str]) -> tuple[tuple[str, Callable[[Any, Any], Any]], ...]:
    """Planner rules from plugins as (name, rule), in registration order; a name that repeats a
    built-in rule's (``builtin``) or another plugin's is an error naming it."""
    found: list[tuple[str, Callable[[Any, Any], Any]]] = []
    names = set(builtin)
    for rules in reversed(get_plugin_manager().hook.segwise_optimizer_rules()):  # pluggy calls LIFO
        for name, rule in rules:
            if name in names:
                raise SpecError(f"a plugin registers the planner rule {name!r}, a name already taken")
            names.add(name)
            found.append((name, rule))
    return tuple(found)


def plan_rules() -> list[Any]:
    """Rewrite rules from plugins, in registration order."""
    return [rule for rules in get_plugin_manager().hook.segwise_plan_rules() for rule in rules]


def adapter_class(url: str, where: str | None = None) -> type[Adapter]:
    """The adapter class for a warehouse URL's scheme."""
    # not urlsplit: a Spark master URL (spark://local[4]) is not a valid host for it
    scheme = (url.split("://", 1)[0] if "://" in url else urlsplit(url).scheme).split("+")[0].lower()
    classes = adapter_classes()
    if scheme not in classes:
        known = ", ".join(sorted(classes))
        raise UnsupportedError(
            f"no adapter for the URL scheme {scheme!r} in warehouse {url!r}; installed: {known}",
            where=where,
        )
    return classes[scheme]


def open_adapter(url: str, base_dir: Path | None = None, where: str | None = None) -> Adapter:
    return adapter_class(url, where)(url, base_dir=base_dir)


def get_flavor(name: str) -> SqlFlavor:
    """A flavor of the dialect ``name``, ready to render; no adapter is opened.

    >>> get_flavor("postgres").name  # an alias of the PostgreSQL flavor
    'postgresql'
    """
    flavors = flavor_classes()
    if name not in flavors:
        raise UnsupportedError(f"unknown SQL dialect {name!r}; known: {', '.join(sorted(flavors))}")
    return flavors[name]()
