"""Business-hours arithmetic: working time added to an instant, and counted between two instants."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from mailroom.clock import as_utc
from mailroom.config.units import split_duration

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Far enough for any SLA; only a calendar whose every working day is a holiday gets there.
_HORIZON_DAYS = 3660
_ZERO = timedelta(0)

Ranges = tuple[tuple[int, int], ...]  # (start, end) in minutes after local midnight; end may be 1440


@dataclass(frozen=True)
class Duration:
    """An SLA length as written (`4h`, `1d`): its meaning depends on the calendar it is counted in."""

    amount: float
    unit: str  # s | m | h | d | w

    @classmethod
    def parse(cls, text: str) -> Duration:
        """`"4h"` → Duration(4.0, "h"); raises ValueError with a readable message."""
        amount, unit = split_duration(text)
        return cls(amount, unit)

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount}{self.unit}"


@dataclass(frozen=True)
class Calendar:
    """Working time: 24x7 (no `week`), or weekly hours in a timezone minus holidays."""

    name: str
    zone: tzinfo = field(default=UTC)
    week: tuple[Ranges, ...] = ()  # seven entries, Monday first; empty for 24x7
    holidays: frozenset[date] = frozenset()

    @classmethod
    def always(cls, name: str = "always", timezone: str = "UTC") -> Calendar:
        """A calendar where every instant is working time."""
        return cls(name, _zone(timezone))

    @classmethod
    def business(
        cls, name: str, timezone: str, week: dict[str, Ranges] | tuple[Ranges, ...], holidays: Iterable[date] = ()
    ) -> Calendar:
        """Weekly hours (by day name or Monday-first tuple) in a zone, with holidays off."""
        if isinstance(week, dict):
            week = tuple(tuple(week.get(day, ())) for day in WEEKDAYS)
        return cls(name, _zone(timezone), tuple(week), frozenset(holidays))

    @property
    def is_24x7(self) -> bool:
        """True when every instant counts."""
        return not self.week

    @property
    def timezone(self) -> str:
        """The zone's IANA name."""
        return getattr(self.zone, "key", None) or str(self.zone)

    def day_length(self) -> timedelta:
        """One working day: the most common daily total (8h for 09:00–17:00); 24h for 24x7."""
        totals = [sum(end - start for start, end in day) for day in self.week]
        totals = [t for t in totals if t]
        if not totals:
            return timedelta(hours=24)
        counts = Counter(totals)
        best = max(counts.items(), key=lambda item: (item[1], item[0]))[0]
        return timedelta(minutes=best)

    def duration(self, d: Duration) -> timedelta:
        """The working length of `d`: `d` is one working day, `w` five of them (7 days in 24x7)."""
        if d.unit in ("s", "m", "h"):
            return timedelta(seconds=d.amount * {"s": 1, "m": 60, "h": 3600}[d.unit])
        if self.is_24x7:
            return timedelta(days=d.amount * (7 if d.unit == "w" else 1))
        days = d.amount * (5 if d.unit == "w" else 1)
        return self.day_length() * days

    def due(self, start: datetime, d: Duration) -> datetime:
        """When `d` of working time from `start` runs out."""
        return self.add(start, self.duration(d))

    def add(self, start: datetime, working: timedelta) -> datetime:
        """The instant (UTC) when `working` time has passed, counting only working hours."""
        start = as_utc(start)
        if working <= _ZERO:
            return start
        if self.is_24x7:
            return start + working
        remaining = working
        for opens, closes in self._intervals_from(start):
            if closes <= start:
                continue
            begin = max(opens, start)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise ValueError(f"calendar '{self.name}' has no working hours left within ten years")

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero when `end` is not after `start`)."""
        start, end = as_utc(start), as_utc(end)
        if end <= start:
            return _ZERO
        if self.is_24x7:
            return end - start
        total = _ZERO
        last_day = end.astimezone(self.zone).date()
        for day in self._days_from(start):
            if day > last_day:
                break
            for opens, closes in self.intervals(day):
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
        return total

    def is_open(self, at: datetime) -> bool:
        """True when `at` is working time."""
        if self.is_24x7:
            return True
        at = as_utc(at)
        return any(opens <= at < closes for opens, closes in self.intervals(at.astimezone(self.zone).date()))

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when it is working time, else the next opening (UTC)."""
        at = as_utc(at)
        if self.is_24x7:
            return at
        for opens, closes in self._intervals_from(at):
            if closes > at:
                return max(opens, at)
        raise ValueError(f"calendar '{self.name}' has no working hours left within ten years")

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of one local date, as UTC instants (none on a holiday)."""
        if day in self.holidays or not self.week:
            return []
        return [(self._instant(day, start), self._instant(day, end)) for start, end in self.week[day.weekday()]]

    def _days_from(self, start: datetime) -> Iterator[date]:
        day = start.astimezone(self.zone).date()
        for offset in range(_HORIZON_DAYS):
            yield day + timedelta(days=offset)

    def _intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        for day in self._days_from(start):
            yield from self.intervals(day)

    def _instant(self, day: date, minute: int) -> datetime:
        # Wall-clock opening hours become real instants through the zone, so a working day that
        # spans a DST change is as long as the clocks on the wall say it is.
        if minute >= 1440:
            day, minute = day + timedelta(days=1), minute - 1440
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.zone)
        return local.astimezone(UTC)


def _zone(name: str) -> tzinfo:
    return UTC if name.upper() == "UTC" else ZoneInfo(name)


