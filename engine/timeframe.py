"""Date ranges and buckets, computed in Python once per query.

The range is resolved to naive local datetimes in the project's time zone ``[start, end)``, and to
UTC instants for the filter on the raw event-time column (so the warehouse can prune on it). The
list of buckets is what post-processing fills; the warehouse computes the same truncation in SQL.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .errors import SpecError
from .query import AbsoluteRange, Query, RelativeRange

MAX_BUCKETS = 50_000


@dataclass(frozen=True)
class Timeframe:
    """A resolved range: local ``[start, end)``, the same in UTC, and the bucket starts."""

    start: datetime  # naive, local
    end: datetime  # naive, local
    start_utc: datetime  # naive, UTC
    end_utc: datetime  # naive, UTC
    grain: str
    buckets: tuple[datetime, ...]  # naive local bucket starts (for "total": the range start)
    timezone: str
    now: datetime | None = None  # naive local "now" used for relative ranges


def ts_text(value: datetime) -> str:
    """A naive timestamp as SQL literal text (microseconds always written)."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def parse_now(now: datetime | str | None, tz: ZoneInfo) -> datetime:
    """ "now" as a naive local datetime; a naive ``now`` is read in the project's time zone."""
    if now is None:
        return datetime.now(tz).replace(tzinfo=None)
    if isinstance(now, str):
        try:
            now = datetime.fromisoformat(now.strip().replace("Z", "+00:00"))
        except ValueError:
            raise SpecError(f"--now must be an ISO 8601 date or time, like 2025-06-30T00:00:00; got {now!r}") from None
    if now.tzinfo is not None:
        return now.astimezone(tz).replace(tzinfo=None)
    return now


def as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value
    return datetime(value.year, value.month, value.day)


def add_months(value: datetime, months: int) -> datetime:
    month_index = value.year * 12 + value.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    days_in_month = (datetime(year + (month == 12), month % 12 + 1, 1) - datetime(year, month, 1)).days
    return value.replace(year=year, month=month, day=min(value.day, days_in_month))


def shift(value: datetime, amount: int, unit: str) -> datetime:
    """``value`` moved by ``amount`` units (hours, days, weeks, months, quarters, years)."""
    if unit in ("hours", "days", "weeks"):
        return value + timedelta(**{unit: amount})
    months = {"months": 1, "quarters": 3, "years": 12}[unit]
    return add_months(value, amount * months)


def local_range(query: Query, tz: ZoneInfo, now: datetime | str | None) -> tuple[datetime, datetime]:
    return _local_range(query.date_range, tz, now)


def _local_range(
    rng: AbsoluteRange | RelativeRange, tz: ZoneInfo, now: datetime | str | None
) -> tuple[datetime, datetime]:
    if isinstance(rng, AbsoluteRange):
        start, end = as_datetime(rng.from_), as_datetime(rng.to)
        if start.tzinfo is not None:
            start = start.astimezone(tz).replace(tzinfo=None)
        if end.tzinfo is not None:
            end = end.astimezone(tz).replace(tzinfo=None)
        if end <= start:
            raise SpecError(f"date_range: `to` ({end}) must be after `from` ({start})", where="date_range")
        return start, end
    assert isinstance(rng, RelativeRange)
    end = parse_now(now, tz)
    return shift(end, -rng.amount, rng.unit), end


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


def to_local(utc: datetime, tz: ZoneInfo) -> datetime:
    """A naive UTC instant as naive local time in ``tz`` (the inverse of :func:`to_utc`)."""
    return utc.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)


def truncate(value: datetime, grain: str, week_start: int) -> datetime:
    """Python twin of the SQL truncation (naive local time)."""
    if grain == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=(day.weekday() - week_start) % 7)
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
    if grain == "year":
        return day.replace(day=1, month=1)
    raise ValueError(grain)


_STEP = {
    "hour": (1, "hours"),
    "day": (1, "days"),
    "week": (1, "weeks"),
    "month": (1, "months"),
    "quarter": (1, "quarters"),
    "year": (1, "years"),
}


@functools.lru_cache(maxsize=512)
def bucket_starts(
    start: datetime, end: datetime, grain: str, week_start: int, tz: ZoneInfo | None = None
) -> tuple[datetime, ...]:
    """The bucket starts of ``[start, end)`` (naive local); remembered (a pure function of its
    arguments: a repeated question does not walk its buckets again)."""
    if grain == "total":
        return (start,)
    amount, unit = _STEP[grain]
    first = truncate(start, grain, week_start)
    estimate = _estimate(start, end, grain)
    if estimate > MAX_BUCKETS:
        raise SpecError(
            f"the range {start:%Y-%m-%d} to {end:%Y-%m-%d} at {grain} grain makes about {estimate:,} buckets "
            f"(the limit is {MAX_BUCKETS:,})",
            where="time_grain",
            hint="choose a coarser time_grain or a shorter date_range",
        )
    buckets = []
    current, index = first, 0
    while current < end:
        # An hour wholly skipped by a daylight-saving jump does not exist: no event can be in it.
        if grain != "hour" or tz is None or _first_existing(current, tz) < current + timedelta(hours=1):
            buckets.append(current)
        index += 1
        current = shift(first, index * amount, unit)
    return tuple(buckets)


def _first_existing(local: datetime, tz: ZoneInfo) -> datetime:
    """``local`` itself if it exists in ``tz``, else the first local time after the DST gap."""
    return local.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)


def _estimate(start: datetime, end: datetime, grain: str) -> int:
    seconds = (end - start).total_seconds()
    per = {
        "hour": 3600,
        "day": 86400,
        "week": 7 * 86400,
        "month": 28 * 86400,
        "quarter": 90 * 86400,
        "year": 365 * 86400,
    }[grain]
    return int(seconds // per) + 1


def resolve_timeframe(query: Query, timezone: str, week_start: int, now: datetime | str | None) -> Timeframe:
    tz = ZoneInfo(timezone)
    # retention reports the periods that started before now, whatever the range
    moves = not isinstance(query.date_range, AbsoluteRange) or query.retention is not None
    local_now = parse_now(now, tz) if moves or now is not None else None
    start, end = local_range(query, tz, local_now)
    return _frame(start, end, query.time_grain, week_start, tz, timezone, local_now)


def _frame(
    start: datetime, end: datetime, grain: str, week_start: int, tz: ZoneInfo, timezone: str, now: datetime | None
) -> Timeframe:
    return Timeframe(
        start=start,
        end=end,
        start_utc=to_utc(start, tz),
        end_utc=to_utc(end, tz),
        grain=grain,
        buckets=bucket_starts(start, end, grain, week_start, tz),
        timezone=timezone,
        now=now,
    )


def resolve_range(rng: AbsoluteRange | RelativeRange, timezone: str, now: datetime | None) -> Timeframe:
    """A date range other than the query's (a segment's window), as one ``total`` bucket."""
    tz = ZoneInfo(timezone)
    start, end = _local_range(rng, tz, now)
    return _frame(start, end, "total", 0, tz, timezone, now)


def previous_timeframe(query: Query, current: Timeframe, week_start: int, tz: ZoneInfo) -> Timeframe:
    """The range of the same length just before ``current`` (N units back for ``last``)."""
    rng = query.date_range
    if isinstance(rng, RelativeRange):
        start = shift(current.start, -rng.amount, rng.unit)
    else:
        start = current.start - (current.end - current.start)
    return _frame(start, current.start, current.grain, week_start, tz, current.timezone, current.now)
