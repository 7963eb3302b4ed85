"""What /api/catalog and /api/examples answer: events, properties with sample values, operators, gallery.

Sample values come from one small query per property, through the same guarded choke point as
every query (``observe.execute_observed``); the answer is computed once per server and cached.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import SegwiseError
from ..output import json_value
from .settings import ServerSettings

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..session import Project

#: Operators that make sense for each property type (the page offers these; the engine checks).
OPERATORS_BY_TYPE: dict[str, list[str]] = {
    "string": [
        "eq",
        "neq",
        "in",
        "not_in",
        "contains",
        "not_contains",
        "starts_with",
        "gt",
        "gte",
        "lt",
        "lte",
        "is_null",
        "is_not_null",
    ],
    "integer": ["eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "not_in", "is_null", "is_not_null"],
    "float": ["eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "not_in", "is_null", "is_not_null"],
    "boolean": ["eq", "neq", "is_null", "is_not_null"],
    "date": ["eq", "neq", "gt", "gte", "lt", "lte", "between", "is_null", "is_not_null"],
    "timestamp": ["gt", "gte", "lt", "lte", "between", "eq", "neq", "is_null", "is_not_null"],
    "timestamptz": ["gt", "gte", "lt", "lte", "between", "eq", "neq", "is_null", "is_not_null"],
    "other": ["is_null", "is_not_null"],
}
NUMERIC_TYPES = ("integer", "float")


@dataclass
class CatalogView:
    """What /api/catalog answers, computed once (event counts and sample values are cached)."""

    payload: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def property_listing(catalog: Catalog) -> list[dict[str, Any]]:
    """Event properties, then user properties (``user.x`` where an event property shares the name)."""
    event_props = catalog.event_properties()
    listing: list[dict[str, Any]] = []
    for name, col in event_props.items():
        table = next(i for i, t in enumerate(catalog.event_tables) if name in t.properties)
        listing.append({"name": name, "source": "event", "type": col.kind, "_table": ("event", table, name)})
    for name, (index, col) in catalog.user_properties().items():
        shown = f"user.{name}" if name in event_props else name
        listing.append({"name": shown, "source": "user", "type": col.kind, "_table": ("user", index, name)})
    return listing


def sample_values(catalog: Catalog, where: tuple[str, int, str], rows: int, limit: int) -> list[Any]:
    """The most frequent values of a column among (at most) its table's first ``rows`` rows.

    One small query per property: ``SELECT v, COUNT(*) FROM (SELECT col AS v FROM t LIMIT rows)
    WHERE v IS NOT NULL GROUP BY v ORDER BY COUNT(*) DESC, v LIMIT limit``.
    """
    source, index, column = where
    info = catalog.event_tables[index] if source == "event" else catalog.user_tables[index]
    adapter = catalog.adapter
    assert adapter is not None
    inner = exp.select(exp.column(column, quoted=True).as_("v", quoted=True)).from_(info.ref.expression()).limit(rows)
    value = exp.column("v", table="s", quoted=True)
    count = exp.Count(this=exp.Star())
    query = (
        exp.select(value.as_("v", quoted=True), count.as_("n", quoted=True))
        .from_(inner.subquery("s", copy=False))
        .where(exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())))
        .group_by(value.copy())
        .order_by(exp.Ordered(this=count.copy(), desc=True), exp.Ordered(this=value.copy()))
        .limit(limit)
    )
    from ..observe import execute_observed

    # Through the same choke point as every query: guard, retries, the query hook.
    table = execute_observed(adapter, adapter.flavor.render(query), expression=query, tables=[info.ref])
    return [json_value(v) for v in table.column(0).to_pylist()]


def build_catalog(project: Project, settings: ServerSettings) -> dict[str, Any]:
    from ..registry import flavor_classes, measure_definitions

    catalog = project.catalog()
    events = [{"name": name, "count": count} for name, count in catalog.event_names().items()]
    properties = property_listing(catalog)
    for index, prop in enumerate(properties):
        where = prop.pop("_table")
        if index >= settings.max_sampled_properties or prop["type"] == "other":
            prop["samples"] = []
            continue
        try:
            prop["samples"] = sample_values(catalog, where, settings.sample_rows, settings.sample_values)
        except SegwiseError:  # samples are a convenience; a column the warehouse cannot group is still usable
            prop["samples"] = []
    adapter = project.adapter()
    return {
        "project": {
            "dialect": adapter.flavor.name,
            "timezone": project.timezone,
            "week_start": project.week_start,
            "now": settings.now.isoformat() if settings.now else None,
        },
        "events": events,
        "properties": properties,
        "operators": OPERATORS_BY_TYPE,
        "measures": {
            "counts": ["events", "unique_users", "dau", "wau", "mau"],
            "numbers": ["events_per_user"],
            "of_property": ["sum", "avg", "min", "max", "median", "p90", "p99"],
            "plugins": sorted(measure_definitions()),
        },
        "dialects": sorted(flavor_classes()),
        # the project's named cohorts (`segment: {cohort: NAME}`) and categories (a breakdown by NAME)
        "cohorts": sorted(project.cohorts),
        "categories": [{"name": name, "labels": c.labels} for name, c in sorted(project.categories.items())],
        # what a query may count instead of users (`unit: NAME`), with the property holding its id
        "units": [{"name": name, "property": prop} for name, prop in sorted(project.units.items())],
    }


def query_events(data: dict[str, Any]) -> set[str]:
    """The event names a query file names: its series', its analysis' (``lifecycle: {event}``), a
    funnel's steps and exclusions, retention's start and return events (names or ``{event}``)."""
    parts: list[Any] = [*data.get("series", [])]
    for value in data.values():
        if not isinstance(value, dict):
            continue
        parts.append(value)
        parts += [*value.get("steps", []), *value.get("exclude", [])]
        parts += [{"event": value[k]} if isinstance(value.get(k), str) else value.get(k) for k in ("start", "return")]
    return {p["event"] for p in parts if isinstance(p, dict) and isinstance(p.get("event"), str)}


def gallery_examples(project: Project) -> list[dict[str, Any]]:
    """The example gallery (``examples/*.yaml`` of a source checkout), then the funnel and retention
    examples of its subfolders, limited to events the project has."""
    from ..demo.gallery import analysis_examples, gallery
    from ..loading import load_mapping

    try:
        items = gallery() + analysis_examples()
    except SegwiseError:
        return []  # an installed wheel has no gallery
    known = set(project.catalog().event_names()) | {"any"}
    out = []
    for question, path in items:
        data = json.loads(json.dumps(load_mapping(path, what="query"), default=json_value))
        if query_events(data) <= known:
            out.append({"name": path.stem, "question": question, "query": data})
    return out
