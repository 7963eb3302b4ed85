"""The buckets a retention query numbers, computed in Python once (lowering, shaping and the SQL
to paste read the same list).

Bucket 0 is the range's first bucket; the range's buckets are the cohorts; the buckets after
them, up to ``periods`` beyond the last cohort, are where returns land. Only buckets that start
before ``now`` are listed (events at or after now are ignored), so period k of cohort c is
reported exactly when bucket ``c + k`` is listed. Buckets come from ``timeframe.bucket_starts``,
the helper every analysis buckets with (time zone, DST, week start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from .errors import SpecError
from .timeframe import Timeframe, bucket_starts, parse_now, shift, to_utc

MAX_BUCKETS = 10_000  # cohort buckets + periods: the numbered buckets (a constant table in the SQL)
MAX_CELLS = 200_000  # cohorts x (periods + 1): the answer's rows per breakdown group

_UNITS = {"hour": "hours", "day": "days", "week": "weeks", "month": "months"}


@dataclass(frozen=True)
class RetentionFrame:
    buckets: tuple[datetime, ...]  # naive local starts, each before now: cohorts first, then later ones
    cohorts: int  # how many of them are cohort buckets (the range's buckets that start before now)
    periods: int
    now: datetime  # naive local
    now_utc: datetime

    @property
    def beyond(self) -> int:
        """The index that stands for a return after the last numbered bucket (later than any
        reported period of any cohort)."""
        return self.cohorts + self.periods + 1

    def reported(self, cohort: int) -> int:
        """How many periods (0, 1, ...) of cohort ``cohort`` are reported."""
        return max(0, min(self.periods + 1, len(self.buckets) - cohort))


def retention_frame(tf: Timeframe, periods: int) -> RetentionFrame:
    """The numbered buckets of a retention query over ``tf`` (whose ``now`` is set). They continue
    the range's buckets from its first, which is a bucket start (so its weekday is the week start)."""
    tz = ZoneInfo(tf.timezone)
    now = tf.now if tf.now is not None else parse_now(None, tz)
    range_buckets = [b for b in tf.buckets if b < now]
    if len(tf.buckets) + periods > MAX_BUCKETS or len(tf.buckets) * (periods + 1) > MAX_CELLS:
        raise SpecError(
            f"{len(tf.buckets):,} cohort buckets x {periods + 1} periods is too many (at most {MAX_BUCKETS:,} "
            f"buckets in all and {MAX_CELLS:,} cohort x period cells)",
            where="retention > periods",
            hint="choose a coarser time_grain, a shorter date_range or fewer periods",
        )
    last = shift(tf.buckets[-1], periods + 1, _UNITS[tf.grain])
    later = bucket_starts(tf.buckets[0], last, tf.grain, tf.buckets[0].weekday(), tz)
    listed = [b for b in later[: len(tf.buckets) + periods] if b < now]
    return RetentionFrame(tuple(listed), len(range_buckets), periods, now, to_utc(now, tz))
