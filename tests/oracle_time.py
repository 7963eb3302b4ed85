"""The oracle's time: local time in the project's zone, date ranges, bucket truncation and the
bucket list (see ``tests/oracle.py``)."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


def to_local(value: datetime, tz: ZoneInfo) -> datetime:
    """An event timestamp (naive means UTC) as naive local time in ``tz``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz).replace(tzinfo=None)


def instant(value: datetime) -> datetime:
    """An event timestamp as an aware UTC instant (naive means UTC): orders events across zones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bound(value: Any) -> datetime:
    """A date_range bound as naive local time: dates mean midnight."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if ("T" in value or " " in value) else date.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("the oracle takes naive (local) datetimes in absolute ranges")
        return value
    return datetime(value.year, value.month, value.day)


def minus_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved back ``months`` calendar months, the day clamped to the month's end."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def date_range(spec: dict[str, Any], tz: ZoneInfo, now: datetime | None) -> tuple[datetime, datetime]:
    """``(from, to)`` as naive local datetimes."""
    if "last" in spec:
        match = re.fullmatch(r"\s*(\d+)\s*([hdwmqy])\s*", str(spec["last"]), re.IGNORECASE)
        if match is None:
            raise ValueError(f"bad relative range {spec['last']!r}")
        amount, unit = int(match.group(1)), match.group(2).lower()
        if now is None:
            now = datetime.now(UTC)
        end = now.astimezone(tz).replace(tzinfo=None) if now.tzinfo is not None else now
        if unit == "h":
            start = end - timedelta(hours=amount)
        elif unit == "d":
            start = end - timedelta(days=amount)
        elif unit == "w":
            start = end - timedelta(weeks=amount)
        else:
            start = minus_months(end, amount * {"m": 1, "q": 3, "y": 12}[unit])
        return start, end
    return _bound(spec["from"]), _bound(spec["to"])


def truncate(moment: datetime, grain: str, week_start: int) -> datetime:
    """The start of the ``grain`` bucket holding the naive local ``moment``."""
    if grain == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    midnight = datetime(moment.year, moment.month, moment.day)
    if grain == "day":
        return midnight
    if grain == "week":
        return midnight - timedelta(days=(moment.weekday() - week_start) % 7)
    if grain == "month":
        return datetime(moment.year, moment.month, 1)
    if grain == "quarter":
        return datetime(moment.year, (moment.month - 1) // 3 * 3 + 1, 1)
    if grain == "year":
        return datetime(moment.year, 1, 1)
    raise ValueError(f"unknown grain {grain!r}")


def next_bucket(start: datetime, grain: str) -> datetime:
    if grain == "hour":
        return start + timedelta(hours=1)
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    index = start.year * 12 + (start.month - 1) + months
    return start.replace(year=index // 12, month=index % 12 + 1)


def exists(local: datetime, tz: ZoneInfo) -> bool:
    """Whether a naive local time happens at all (it does not inside a daylight-saving gap)."""
    return local.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def bucket_list(start: datetime, end: datetime, grain: str, week_start: int, tz: ZoneInfo) -> list[datetime]:
    """Bucket starts from truncate(from), one grain at a time, while before ``to``.

    A bucket that no real time falls in (an hour wholly inside a daylight-saving gap) is left out:
    checked minute by minute, since gaps are whole minutes.
    """
    if grain == "total":
        return [start]
    buckets = []
    bucket = truncate(start, grain, week_start)
    while bucket < end:
        following = next_bucket(bucket, grain)
        minutes = (bucket + timedelta(minutes=m) for m in range(int((following - bucket).total_seconds()) // 60))
        if exists(bucket, tz) or any(exists(m, tz) for m in minutes):
            buckets.append(bucket)
        bucket = following
    return buckets


def aware(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive local time made aware with fold=0: an ambiguous time takes the earlier instant, a
    time inside a gap the offset before the jump (so a day starting in a gap starts when the gap ends).
    """
    if tz.key == "UTC":
        return local.replace(tzinfo=UTC)
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)  # normalized wall time
