"""The project: where the events live and how to read them (``segwise.yaml``).

>>> p = ProjectSpec(warehouse="duckdb:///:memory:",
...                 event_tables=[{"table": "events", "event_name": "event_type"}])
>>> p.timezone
'UTC'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from .cache import DEFAULT_MAX_BYTES
from .errors import SpecError
from .formats import looks_like_file
from .loading import load_mapping, validate_model
from .query_parts import Category, Segment
from .timeformat import check_format

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_IDENT = re.compile(r"^[^\x00]+$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


def _check_name(value: str, what: str) -> str:
    if not value or not _IDENT.match(value):
        raise ValueError(f"{what} must be a non-empty name")
    return value


class Partition(_Model):
    """A column that encodes the event's date, used to prune partitions."""

    column: str
    """The column holding the event's (UTC) date or hour."""
    granularity: Literal["hour", "day", "month"] = "day"
    """What one partition value covers."""
    format: str = "date"
    """How the column encodes it: date, timestamp, "string:<strftime>" or "int:<strftime>" (year first)."""

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value in ("date", "timestamp"):
            return value
        kind, sep, pattern = value.partition(":")
        if sep and kind in ("string", "int") and "%" in pattern:
            return value
        raise ValueError(
            'format must be date, timestamp, "string:<strftime pattern>" or "int:<strftime pattern>" '
            f"(like string:%Y-%m-%d or int:%Y%m%d); got {value!r}"
        )


class _FileFields(_Model):
    """``file:`` and its options, shared by event and user tables (see segwise.files)."""

    table: str
    """The table's name: a warehouse table (schema.table allowed), or the name queries use for a `file:`."""
    file: str | None = None
    """A file or glob relative to the project file (CSV, TSV, Parquet, JSON, NDJSON; .gz too)."""
    format: Literal["csv", "tsv", "parquet", "json", "ndjson"] | None = None
    """The files' format when the extension does not say (.jsonl is ndjson)."""
    hive_partitioning: bool = False
    """Directories like event_date=2025-01-01 become columns; a date one is the pruned partition."""

    @field_validator("file")
    @classmethod
    def _file(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("file must be a path or a glob like data/*.csv")
        return value

    @model_validator(mode="after")
    def _file_or_table(self) -> Self:
        if self.file is None:
            if looks_like_file(self.table):
                raise ValueError(
                    f"table: {self.table!r} looks like a file or a table function; name the table and give the "
                    f"path as `file:` (like table: events, file: {self.table.strip()!r})"
                )
            for option in ("format", "hive_partitioning"):
                if option in self.model_fields_set:
                    raise ValueError(f"`{option}` applies to a `file:` table only")
        elif not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", self.table):
            raise ValueError(
                f"table: a file table is named by a plain name (letters, digits, _), which queries use; "
                f"got {self.table!r}"
            )
        return self


class EventTable(_FileFields):
    """A table of events: one row per event (a warehouse table, or files with ``file:``)."""

    user_id: str = "user_id"
    """The column holding the user id."""
    event_time: str = "event_time"
    """The event's timestamp column (naive means UTC)."""
    event_time_format: str | None = None
    """How a text or number event_time encodes the time: iso, a strftime pattern like '%Y-%m-%d %H:%M:%S'
    (text, read as UTC), or epoch_s | epoch_ms | epoch_us (numbers). Ignored on a timestamp or date column;
    a TEXT column on SQLite defaults to iso."""
    event_name: str | None = None
    """The column holding the event name (or give event_name_value)."""
    event_name_value: str | None = None
    """Every row of this table is this one event (instead of event_name)."""
    partition: Partition | None = None
    """A date/hour column the planner prunes on."""

    @field_validator("table", "user_id", "event_time")
    @classmethod
    def _names(cls, value: str) -> str:
        return _check_name(value, "a column or table name")

    @field_validator("event_time_format")
    @classmethod
    def _time_format(cls, value: str | None) -> str | None:
        return None if value is None else check_format(value)

    @model_validator(mode="after")
    def _one_name_source(self) -> Self:
        if (self.event_name is None) == (self.event_name_value is None):
            raise ValueError(
                "give exactly one of `event_name` (the column holding the event name) or "
                "`event_name_value` (every row of this table is this one event)"
            )
        return self


class UserTable(_FileFields):
    """A user dimension table, one row per user, joined to events on the user id."""

    user_id: str = "user_id"
    """The column holding the user id."""


ROLLUP_MEASURES = re.compile(r"^(events|(sum|count|min|max):[^:\x00]+)$")
_ROLLUP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Rollup(_Model):
    """A pre-aggregated table the planner may answer from (``segwise rollup build NAME`` writes it).

    One row per (``grain`` bucket in the project's time zone, dimension values[, user]) with the
    declared measures: ``events`` (a count), ``sum:P``, ``count:P`` (non-null values), ``min:P``,
    ``max:P`` — all additive or combinable, so coarser buckets and fewer dimensions are exact.
    ``users: true`` keeps the user id, which makes unique users, per-user measures and rolling
    active users exact too (the rollup is then distinct (bucket, dimensions, user) rows).
    """

    name: str
    """The rollup's name (segwise rollup build NAME)."""
    table: str
    """The table it is written to."""
    source: str | None = None
    """The event table it reads (needed with several)."""
    grain: Literal["hour", "day"] = "day"
    """Bucket size of its rows."""
    dimensions: list[str] = []
    """Properties kept as columns."""
    measures: list[str] = ["events"]
    """events, sum:P, count:P, min:P, max:P."""
    users: bool = False
    """Keep the user id (exact unique and active users)."""

    @field_validator("name")
    @classmethod
    def _rollup_name(cls, value: str) -> str:
        if not _ROLLUP_NAME.match(value):
            raise ValueError(f"a rollup name is letters, digits and _ (not starting with a digit); got {value!r}")
        return value

    @field_validator("table")
    @classmethod
    def _rollup_table(cls, value: str) -> str:
        return _check_name(value, "a table name")

    @field_validator("measures")
    @classmethod
    def _rollup_measures(cls, value: list[str]) -> list[str]:
        for item in value:
            if not ROLLUP_MEASURES.match(item.strip()):
                raise ValueError(
                    f"rollup measure {item!r} is not additive or combinable; allowed: events, sum:P, count:P, "
                    "min:P, max:P (unique users: set users: true)"
                )
        if "events" not in value:
            value = ["events", *value]  # the row count is what every other measure is weighed with
        return list(dict.fromkeys(m.strip() for m in value))

    @field_validator("dimensions")
    @classmethod
    def _rollup_dimensions(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("rollup dimensions must be distinct")
        return value


class CacheSpec(_Model):
    """The result cache (``cache:``): answers kept in memory while the warehouse's data is unchanged.

    ``cache: true`` (or these settings) turns it on for ``segwise.run`` and the API; ``segwise serve``
    has it on unless ``cache: false``. See docs/explorer.md, "Result cache".
    """

    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=0)
    """Size bound of the answers kept (Arrow bytes); the least recently used go first."""
    ttl: float | None = Field(default=None, gt=0)
    """Seconds an answer may be served at most. Required to cache at all on warehouses without a data
    version (an in-memory DuckDB, ClickHouse, Spark, remote warehouses): answers may then be this old."""


# The declarations only; ``segwise.Project`` (``segwise.session``) adds the open warehouse.
class ProjectSpec(_Model):
    """Where the events live. Load with ``Project.load("segwise.yaml")`` or build in Python."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True, title="Project")

    warehouse: str = "duckdb:///:memory:"
    """Where the events are (duckdb:///rel.duckdb, postgresql://...); optional when every table is a `file:`."""
    timezone: str = "UTC"
    """IANA time zone buckets and date ranges are read in."""
    week_start: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    """First day of a week bucket."""
    event_tables: list[EventTable] = Field(min_length=1)
    """Tables of events, one row per event."""
    user_tables: list[UserTable] = []
    """User tables: properties joined on the user id."""
    rollups: list[Rollup] = []
    """Pre-aggregated tables the planner may answer from (docs/rollups.md)."""
    cohorts: dict[str, Segment] = {}
    """Named behavioural cohorts (segments), used by queries as `segment: {cohort: NAME}`."""
    categories: dict[str, Category] = {}
    """Named categories (ordered labelled segments, first match wins), used as breakdowns by name."""
    units: dict[str, str] = {}
    """What a query may count instead of users (`unit: account`): a name -> the event or user-table
    property holding the unit's id, like `account: account_id` (docs/queries.md, "Units")."""
    calibration: str | None = None
    """The planner's cost coefficients (default .segwise/calibration-<adapter>.json)."""
    cache: bool | CacheSpec | None = None
    """The result cache: true, false, or its settings (on in `segwise serve` unless false)."""

    _base_dir: Path | None = PrivateAttr(default=None)
    _origin: str = PrivateAttr(default="project")

    @model_validator(mode="after")
    def _warehouse_given(self) -> Self:
        if "warehouse" not in self.model_fields_set:
            tables = [*self.event_tables, *self.user_tables]
            missing = [t.table for t in tables if t.file is None]
            if missing:
                raise ValueError(
                    f"warehouse: required field is missing (it may be left out only when every table is a "
                    f"`file:`; {', '.join(map(repr, missing))} is not)"
                )
        return self

    @model_validator(mode="after")
    def _rollup_sources(self) -> Self:
        names: set[str] = set()
        tables = [t.table for t in self.event_tables]
        for index, rollup in enumerate(self.rollups):
            if rollup.name in names:
                raise ValueError(f"rollups[{index}]: the name {rollup.name!r} is used twice")
            names.add(rollup.name)
            if rollup.source is None and len(tables) > 1:
                raise ValueError(
                    f"rollups[{index}] ({rollup.name}): give `source`, the event table it reads (one of {tables})"
                )
            if rollup.source is not None and rollup.source not in tables:
                raise ValueError(f"rollups[{index}] ({rollup.name}): source {rollup.source!r} is not one of {tables}")
            if rollup.table in tables or rollup.table in [t.table for t in self.user_tables]:
                raise ValueError(
                    f"rollups[{index}] ({rollup.name}): table {rollup.table!r} is an event or user table; "
                    "a rollup is written to a table of its own"
                )
        return self

    def cache_settings(self, default: bool) -> CacheSpec | None:
        """The result cache's settings, or None when it is off: ``cache: false`` is off; left out,
        it is ``default`` (off for ``segwise.run``, on for ``segwise serve``)."""
        if self.cache is None:
            return CacheSpec() if default else None
        if isinstance(self.cache, bool):
            return CacheSpec() if self.cache else None
        return self.cache

    @field_validator("units")
    @classmethod
    def _units(cls, value: dict[str, str]) -> dict[str, str]:
        for name, prop in value.items():
            if not _ROLLUP_NAME.match(name) or name == "user":
                raise ValueError(
                    f"units: a unit name is letters, digits and _ (not starting with a digit, not `user`, which "
                    f"is always there); got {name!r}"
                )
            if not isinstance(prop, str) or not prop.strip():
                raise ValueError(f"units: {name}: give the property holding the unit's id, like `{name}: {name}_id`")
        return value

    def rollup(self, name: str) -> Rollup:
        for rollup in self.rollups:
            if rollup.name == name:
                return rollup
        known = ", ".join(r.name for r in self.rollups) or "none are declared"
        raise SpecError(
            f"unknown rollup {name!r} (rollups in this project: {known})", where=f"{self._origin} > rollups"
        )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like UTC or Europe/Berlin") from None
        return value

    @field_validator("week_start", mode="before")
    @classmethod
    def _week_start(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("warehouse")
    @classmethod
    def _url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError(
                f"warehouse must be a URL like duckdb:///events.duckdb or postgresql://user@host/db; got {value!r}"
            )
        scheme, _, rest = value.partition("://")
        if scheme.lower() == "duckdb" and rest and not rest.startswith("/"):
            raise ValueError(
                f"a DuckDB URL has three slashes before a relative path: write duckdb:///{rest} "
                f"(or duckdb:////absolute/path.duckdb, or duckdb:///:memory:), not {value!r}"
            )
        return value

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a project file; relative file paths in the URL resolve against its folder."""
        data = load_mapping(path, what="project")
        project = validate_model(cls, data, origin=str(path), describe=_describe)
        project._base_dir = Path(path).resolve().parent
        project._origin = str(path)
        return project

    @classmethod
    def parse(cls, source: ProjectSpec | dict[str, Any] | str | Path) -> Self:
        if isinstance(source, cls):
            return source
        if isinstance(source, dict):
            return validate_model(cls, source, origin="project", describe=_describe)
        if isinstance(source, (str, Path)):
            return cls.load(source)
        raise SpecError(f"a project must be a dict, a Project or a path, not {type(source).__name__}")

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def base_dir(self) -> Path | None:
        """The project file's folder: relative paths (warehouse, files, calibration) resolve here."""
        return self._base_dir

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def week_start_index(self) -> int:
        """0 for Monday ... 6 for Sunday."""
        return WEEKDAYS.index(self.week_start)


def _describe(loc: tuple[str | int, ...], data: Any) -> str:
    parts: list[str] = []
    for key in loc:
        if isinstance(key, int) and parts:
            parts[-1] = f"{parts[-1]}[{key}]"
        else:
            parts.append(str(key))
    return " > ".join(parts)
