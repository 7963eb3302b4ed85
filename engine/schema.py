"""JSON Schemas of the project and query files, and docs/project.md generated from the models.

``segwise schema project|query`` prints the JSON Schema (point an editor's YAML language server at
it for completion). ``python -m segwise.schema --write docs/project.md`` regenerates the
project-file reference; ``tests/test_schema.py`` fails when it is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .errors import SpecError
from .project import CacheSpec, EventTable, Partition, ProjectSpec, Rollup, UserTable
from .query import Query

HEADER = """# The project file (`segwise.yaml`)

<!-- Generated from the pydantic models in engine/project.py by `python -m segwise.schema --write
docs/project.md`; tests/test_schema.py fails when it is out of date. Edit the models, not this file. -->

A project file says where the events are and how to read them. Every field, with its type and
default; `segwise schema project` prints the same as JSON Schema (for editor completion), and
`segwise init FILE_OR_URL` writes a first one from your data.

```yaml
# events in files, read by the embedded DuckDB (warehouse left out)
event_tables:
  - table: events                  # the name queries and errors use
    file: data/events/*.parquet    # relative to this file; a glob
    user_id: user_id
    event_time: event_time
    event_name: event_type
user_tables:
  - {table: users, file: users.csv, user_id: user_id}
```

```yaml
# events in a warehouse
warehouse: "duckdb:///events.duckdb"   # quote URLs: YAML reads ':' specially
timezone: UTC
week_start: monday
event_tables:
  - table: analytics.events
    event_name: event_type
    partition: {column: event_date, granularity: day, format: date}
```
"""

MODELS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("Project (top level)", ProjectSpec),
    ("event_tables[]", EventTable),
    ("user_tables[]", UserTable),
    ("partition", Partition),
    ("rollups[]", Rollup),
    ("cache (CacheSpec)", CacheSpec),
)


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a ``project`` or ``query`` file."""
    if kind == "project":
        schema = ProjectSpec.model_json_schema(by_alias=True)
    elif kind == "query":
        schema = Query.model_json_schema(by_alias=True)
    else:
        raise SpecError(f"unknown schema {kind!r}; use project or query")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "enum" in spec:
        return " \\| ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    if "anyOf" in spec:
        return " or ".join(_type(s) for s in spec["anyOf"] if s.get("type") != "null")
    if spec.get("type") == "array":
        return f"list of {_type(spec.get('items', {}))}"
    return str(spec.get("type", "any"))


def _default(name: str, spec: dict[str, Any], required: list[str]) -> str:
    if name in required:
        return "**required**"
    if "default" not in spec:
        return ""
    value = spec["default"]
    return "none" if value is None else f"`{json.dumps(value)}`"


def reference() -> str:
    """docs/project.md: one table per model, rows in field order."""
    lines = [HEADER]
    for title, model in MODELS:
        schema = model.model_json_schema(by_alias=True)
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        lines += [f"## {title}", "", doc, "", "| field | type | default | meaning |", "|---|---|---|---|"]
        required = schema.get("required", [])
        for name, spec in schema["properties"].items():
            meaning = str(spec.get("description", "")).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{name}` | {_type(spec)} | {_default(name, spec, required)} | {meaning} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--write"] and len(args) == 2:
        Path(args[1]).write_text(reference(), encoding="utf-8")
        return 0
    print(reference())
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
