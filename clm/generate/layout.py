"""Time helpers and the drop calendar: which drop carries which version of a record.

Drop 0 is the backfill at ``end - 14 days``: every record created up to the end of that day, in its state at
that moment. Drops 1..14 are the daily drops up to and including ``end``: each carries the records that were
created or changed that day, in their state at the end of the day. ``appended`` more daily drops follow
``end`` (``clm generate --append-day``), the same way.

Two horizons: the simulation runs every customer to ``sim_horizon`` (``end`` + APPEND_LIMIT_DAYS, whatever
``appended`` is) and the drops are cut at ``horizon`` (the last appended day). Records therefore never depend
on where they are cut, so a drop appended later continues the written history exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from clm.generate.catalog import DAY

DAILY_DROPS = 14
APPEND_LIMIT_DAYS = 92  # how far past ``end`` customers are simulated, hence how many days can be appended
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# A record's history: (time of the change, the full record as of that change), in time order.
Version = tuple[int, dict]


def epoch(d: date) -> int:
    """Unix seconds of midnight UTC starting ``d``."""
    return (d.toordinal() - _EPOCH_ORDINAL) * DAY


def to_date(ts: int) -> date:
    return date.fromordinal(ts // DAY + _EPOCH_ORDINAL)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_len(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _MONTH_DAYS[month - 1]


def add_months(ts: int, months: int) -> int:
    """``ts`` moved by whole calendar months, day clamped to the month's end (Stripe billing anchors)."""
    days, secs = divmod(ts, DAY)
    d = date.fromordinal(days + _EPOCH_ORDINAL)
    m0 = d.month - 1 + months
    year, month = d.year + m0 // 12, m0 % 12 + 1
    day = min(d.day, _month_len(year, month))
    return (date(year, month, day).toordinal() - _EPOCH_ORDINAL) * DAY + secs


_TZ_CACHE: dict[int, timezone] = {}


def iso(ts: int, offset_minutes: int) -> str:
    """ISO-8601 with an explicit offset, e.g. 2024-03-01T07:00:00-05:00 (same instant as ts)."""
    tz = _TZ_CACHE.get(offset_minutes)
    if tz is None:
        tz = _TZ_CACHE[offset_minutes] = timezone(timedelta(minutes=offset_minutes))
    return datetime.fromtimestamp(ts, tz).isoformat()


def iso_z(ts: int) -> str:
    """ISO-8601 in UTC with a Z suffix, as Zendesk exports."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DropLayout:
    start: date
    end: date
    appended: int = 0  # daily drops after ``end``

    def __post_init__(self) -> None:
        if not 0 <= self.appended <= APPEND_LIMIT_DAYS:
            raise ValueError(f"at most {APPEND_LIMIT_DAYS} days can be appended after end ({self.end})")
        if self.start < date(2000, 1, 1):
            raise ValueError("start must be 2000-01-01 or later: ingestion rejects earlier event times")
        if self.end - self.start < timedelta(days=DAILY_DROPS + 30):
            raise ValueError(
                f"end ({self.end}) must be at least {DAILY_DROPS + 30} days after start ({self.start})"
            )

    @property
    def load_dates(self) -> tuple[date, ...]:
        backfill = self.end - timedelta(days=DAILY_DROPS)
        return tuple(backfill + timedelta(days=k) for k in range(DAILY_DROPS + 1 + self.appended))

    @property
    def start_ts(self) -> int:
        return epoch(self.start)

    @property
    def horizon(self) -> int:
        """Last second of the last load date (``end`` + ``appended``): nothing later is ever written."""
        return epoch(self.end) + (self.appended + 1) * DAY - 1

    @property
    def end_horizon(self) -> int:
        """Last second of ``end``: what the simulation's parameters (the sign-up spread) are measured by."""
        return epoch(self.end) + DAY - 1

    @property
    def sim_horizon(self) -> int:
        """Where every customer's simulation stops, the same for any ``appended``."""
        return self.end_horizon + APPEND_LIMIT_DAYS * DAY

    @property
    def backfill_cutoff(self) -> int:
        return epoch(self.load_dates[0]) + DAY - 1

    def cutoff(self, drop: int) -> int:
        return self.backfill_cutoff + drop * DAY

    def drop_of(self, ts: int) -> int:
        """Index of the drop whose load date holds the instant ``ts`` (0 = backfill)."""
        c0 = self.backfill_cutoff
        return 0 if ts <= c0 else 1 + (ts - c0 - 1) // DAY

    def place(self, versions: list[Version]) -> list[tuple[int, dict]]:
        """(drop, version) pairs to write: the last version of each drop in which the record changed."""
        first_ts = versions[0][0]
        horizon = self.horizon
        if first_ts > horizon:
            return []
        c0 = self.backfill_cutoff
        if versions[-1][0] <= c0:  # fast path: history ends before the daily drops
            return [(0, versions[-1][1])]
        out: list[tuple[int, dict]] = []
        last_drop = -1
        for ts, rec in versions:
            if ts > horizon:
                break
            drop = 0 if ts <= c0 else 1 + (ts - c0 - 1) // DAY
            if drop == last_drop:
                out[-1] = (drop, rec)
            else:
                out.append((drop, rec))
                last_drop = drop
        return out
