"""How an event-time column encodes its instant when it is not a timestamp (``event_time_format``).

* ``iso``: ISO 8601 text (``2025-01-31``, ``2025-01-31 12:00:00``, ``2025-01-31T12:00:00.123456``),
  read as UTC;
* a strftime pattern (``%Y-%m-%d %H:%M:%S``, ``%d/%m/%Y %H:%M``), read as UTC; the directives
  ``%Y %y %m %b %d %H %I %p %M %S %f %j %%`` are understood;
* ``epoch_s``, ``epoch_ms``, ``epoch_us``: numbers since 1970-01-01 00:00 UTC.

The time filter compares the *raw* column with constants in its encoding wherever the encoding
sorts like time, so the warehouse can still prune and use indexes (:meth:`TimeEncoding.raw_bounds`):
epoch numbers always; year-first zero-padded patterns (``%Y-%m-%d %H:%M:%S``, ``%Y%m%d``) exactly
when the bound is representable, else as a whole-day superset beside the exact filter; ISO text as a
superset widened by a day (its separator and offset are unknown). Other patterns are converted
in the filter, which ``segwise explain`` says. Nothing here knows a SQL dialect: the flavors parse
(``SqlFlavor.parse_time_text``, ``SqlFlavor.epoch_to_timestamp``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

ISO = "iso"
EPOCH_UNITS = {"epoch_s": 1, "epoch_ms": 1_000, "epoch_us": 1_000_000}
DIRECTIVES = {
    # directive: (width when fixed, or None; what it means)
    "Y": (4, "year"),
    "y": (2, "year in the century"),
    "m": (2, "month"),
    "b": (None, "month name (Jan)"),
    "d": (2, "day"),
    "H": (2, "hour (24)"),
    "I": (2, "hour (12)"),
    "p": (None, "AM/PM"),
    "M": (2, "minute"),
    "S": (2, "second"),
    "f": (6, "microseconds"),
    "j": (3, "day of the year"),
}
# Year first, then ever smaller units: such patterns sort like time when zero-padded.
_ORDERED = ("Y", "m", "d", "H", "M", "S", "f")
_EPOCH = datetime(1970, 1, 1)


def tokens(pattern: str) -> list[tuple[str, str]]:
    """``[("directive", "Y"), ("text", "-"), ...]``; ``%%`` is the text ``%``. ValueError names a
    directive segwise does not read."""
    out: list[tuple[str, str]] = []
    text = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch != "%":
            text += ch
            i += 1
            continue
        if i + 1 >= len(pattern):
            raise ValueError(f"the pattern {pattern!r} ends with a lone %")
        code = pattern[i + 1]
        i += 2
        if code == "%":
            text += "%"
            continue
        if code not in DIRECTIVES:
            known = " ".join(f"%{d}" for d in DIRECTIVES)
            raise ValueError(f"%{code} in {pattern!r} is not a directive segwise reads (it reads {known} and %%)")
        if text:
            out.append(("text", text))
            text = ""
        out.append(("directive", code))
    if text:
        out.append(("text", text))
    return out


def check_format(value: str) -> str:
    """The ``event_time_format`` validator (ValueError with what to write)."""
    value = value.strip()
    if value.lower() == ISO:
        return ISO
    if value.lower() in EPOCH_UNITS:
        return value.lower()
    if "%" not in value:
        raise ValueError(
            f"event_time_format must be iso, epoch_s, epoch_ms, epoch_us or a strftime pattern like "
            f"'%Y-%m-%d %H:%M:%S'; got {value!r}"
        )
    codes = [t for kind, t in tokens(value) if kind == "directive"]
    if not any(c in codes for c in ("Y", "y")) or not (any(c in codes for c in ("m", "b", "j"))):
        raise ValueError(
            f"the pattern {value!r} needs a year (%Y or %y) and a month (%m, %b) or a day of the year (%j)"
        )
    if len(set(codes)) != len(codes):
        raise ValueError(f"the pattern {value!r} repeats a directive")
    return value


@dataclass(frozen=True)
class TimeEncoding:
    """A declared (or defaulted) ``event_time_format``: ``iso``, a pattern, or an ``epoch_*`` unit."""

    format: str

    @property
    def is_epoch(self) -> bool:
        return self.format in EPOCH_UNITS

    @property
    def is_iso(self) -> bool:
        return self.format == ISO

    @property
    def per_second(self) -> int:
        return EPOCH_UNITS[self.format]

    @property
    def ordered_pattern(self) -> bool:
        """A pattern whose text sorts like time: year first, zero-padded, each unit smaller than
        the one before (``%Y-%m-%d %H:%M:%S``, ``%Y%m%d%H``) — compared raw."""
        if self.is_epoch or self.is_iso:
            return False
        codes = [t for kind, t in tokens(self.format) if kind == "directive"]
        return codes == list(_ORDERED[: len(codes)]) and len(codes) >= 3

    @property
    def order_preserving(self) -> bool:
        return self.is_epoch or self.is_iso or self.ordered_pattern

    def fixed_layout(self) -> dict[str, tuple[int, int]] | None:
        """``{directive: (1-based position, width)}`` when every part has a fixed width, else None."""
        if self.is_epoch or self.is_iso:
            return None
        layout: dict[str, tuple[int, int]] = {}
        position = 1
        for kind, text in tokens(self.format):
            if kind == "text":
                position += len(text)
                continue
            width = DIRECTIVES[text][0]
            if width is None:
                return None
            layout[text] = (position, width)
            position += width
        return layout

    # -- constants in the column's encoding -----------------------------------------------------------

    def encode(self, moment: datetime) -> str | int | Decimal:
        """``moment`` (naive UTC) as the raw column holds it."""
        if self.is_epoch:
            micros = (moment - _EPOCH) // timedelta(microseconds=1)
            per = self.per_second
            scaled = Decimal(micros) * per / 1_000_000
            return int(scaled) if scaled == scaled.to_integral_value() else scaled
        if self.is_iso:
            return moment.strftime("%Y-%m-%d")
        return moment.strftime(self.format)

    def raw_bounds(
        self, start: datetime | None, end: datetime | None
    ) -> tuple[str | int | Decimal | None, str | int | Decimal | None, str, bool]:
        """``(low, high, high_op, exact)`` for ``low <= raw``, ``raw <high_op> high`` (``<`` or ``<=``):
        a predicate on the raw column that holds for every event in ``[start, end)``; ``exact``
        when it holds for no other (no converted filter is needed then)."""
        if self.is_epoch:
            return (
                None if start is None else self.encode(start),
                None if end is None else self.encode(end),
                "<",
                True,
            )
        if self.is_iso:  # the date prefix, a day wider each side (an offset may move the date)
            low = None if start is None else self.encode(start - timedelta(days=1))
            high = None if end is None else self.encode(end + timedelta(days=1))
            return low, high, "<=", False
        exact = all(b is None or self.decode(str(self.encode(b))) == b for b in (start, end))
        if exact:
            return (
                None if start is None else self.encode(start),
                None if end is None else self.encode(end),
                "<",
                True,
            )
        # whole days: the text of the day's midnight is a prefix-wise lower bound of its moments
        low = None if start is None else self.encode(start.replace(hour=0, minute=0, second=0, microsecond=0))
        next_day = (end + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0) if end else None
        high = None if next_day is None else self.encode(next_day)
        return low, high, "<=", False

    # -- reading values in Python (init's guesses, table statistics) -----------------------------------

    def decode(self, value: object) -> datetime | None:
        """A raw value as a naive UTC datetime (None for None); ValueError when it does not fit."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        if self.is_epoch:
            number = Decimal(str(value))
            return _EPOCH + timedelta(microseconds=int(number * 1_000_000 / self.per_second))
        text = str(value).strip()
        if self.is_iso:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo is None else parsed.astimezone(UTC).replace(tzinfo=None)
        return datetime.strptime(text, self.format)

    def describe(self, column: str) -> str:
        """How the time filter reads the column (for ``segwise explain``)."""
        if self.is_epoch:
            return f"{column} as {self.format}: the raw column compared with constants in {self.format}"
        if self.order_preserving:
            return (
                f"{column} as {self.format}: the raw column compared with constants in its encoding "
                "(the parsed time too where a bound falls between its values)"
            )
        return f"{column} as {self.format}: does not sort like time, the column is converted (no pruning on it)"


def guess_text_format(values: list[str]) -> str | None:
    """The format every non-empty sample value fits: ``iso`` or a common pattern; None if none does."""
    samples = [v.strip() for v in values if v and v.strip()]
    if not samples:
        return None
    candidates = [
        ISO,
        "%Y-%m-%d %H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%d/%m/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%m/%d/%Y %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%Y%m%d%H%M%S",
        "%Y%m%d",
        "%d/%m/%Y",
        "%m/%d/%Y",
    ]
    iso_shape = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$")
    for candidate in candidates:
        encoding = TimeEncoding(candidate)
        try:
            for sample in samples:
                if candidate == ISO and not iso_shape.match(sample):
                    raise ValueError(sample)
                encoding.decode(sample)
        except ValueError:
            continue
        return candidate
    return None


def guess_epoch_unit(values: list[float | int]) -> str | None:
    """The epoch unit that puts every sample between 1990 and 2100, if one does."""
    numbers = [float(v) for v in values if v is not None]
    if not numbers:
        return None
    low, high = 631_152_000, 4_102_444_800  # 1990-01-01, 2100-01-01 in seconds
    for unit, per in EPOCH_UNITS.items():
        if all(low * per <= n < high * per for n in numbers):
            return unit
    return None
