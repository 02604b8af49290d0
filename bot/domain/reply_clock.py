"""The reply clock: when a PAKN case is due, and how many working days have passed.

Counting follows Bộ luật Dân sự 2015:

* Điều 147 khoản 2 — when a period is counted in days, the first day (the day of receipt) is
  not counted; the period starts on the next day.
* Điều 148 khoản 1 and 6 — a period counted in days ends at the end (24:00) of its last day.
* Điều 148 khoản 5 — if the last day is a weekend day or a public holiday, the period ends at
  the end of the next working day.

Days are local days in the agency's time zone (Asia/Ho_Chi_Minh in production), so every
timestamp is converted to that zone before its date is taken.

Working days come from the `holidays` package's Vietnam calendar (public holidays including
lunar Tết, swapped days off, and make-up working Saturdays it knows about) corrected by the
admins' overrides for each year's official schedule (nghỉ bù, làm bù).

This module is pure: no I/O, no clock. Callers pass "now" in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from holidays import HolidayBase


# Điều 148 khoản 6 says a day ends at 24:00. 24:00 is not representable, and 00:00 of the
# next day would display as the wrong date, so a deadline is the last whole second of its day.
# Whole seconds keep the value identical on every storage backend and in every rendering; a
# reply sent during the final sub-second (23:59:59.x) is the only thing this treats as late.
END_OF_DAY = time(23, 59, 59)

# Monday=0 … Friday=4: the civil-service week (Nghị định 45/2013/NĐ-CP: Saturday and Sunday
# are the weekly days off).
_LAST_WEEKDAY = 4

# Name given to a make-up working day that comes from the holidays package, which records the
# date but no name. Admin overrides carry their own names.
MAKE_UP_DAY_NAME = "Ngày làm bù"

OverrideKind = Literal["off", "work"]


class DayUnit(StrEnum):
    """How a reply period is counted: every day, or only working days."""

    CALENDAR = "calendar"
    WORKING = "working"


@dataclass(frozen=True)
class HolidayOverride:
    """An admin's correction to the package calendar for one day.

    ``kind="off"`` makes the day a day off (an extra or swapped holiday, nghỉ bù);
    ``kind="work"`` makes it a working day (a make-up working Saturday, làm bù, or a package
    holiday that the year's official schedule does not give).
    """

    day: date
    kind: OverrideKind
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("off", "work"):
            raise ValueError(f"override kind must be 'off' or 'work', not {self.kind!r}")


class WorkCalendar:
    """Working days: Monday–Friday minus Vietnamese public holidays, corrected by overrides.

    Years of the package calendar are built lazily, the first time a date in or next to them is
    asked about; an instance can be kept for the life of the process and rebuilt when the admins
    change the overrides. Each day may have at most one override.
    """

    def __init__(self, overrides: Iterable[HolidayOverride] = ()) -> None:
        self._overrides: dict[date, HolidayOverride] = {}
        for override in overrides:
            if override.day in self._overrides:
                # Storage keeps one row per day; two rows for one day mean the admin data is
                # inconsistent and any silent choice between them could move a deadline.
                raise ValueError(f"more than one override for {override.day.isoformat()}")
            self._overrides[override.day] = override
        self._years: dict[int, HolidayBase] = {}

    @property
    def overrides(self) -> tuple[HolidayOverride, ...]:
        """The overrides this calendar applies, sorted by day."""
        return tuple(self._overrides[d] for d in sorted(self._overrides))

    def _package_year(self, year: int) -> HolidayBase:
        cached = self._years.get(year)
        if cached is None:
            import holidays  # on first use: a fifth of a second to import

            cached = holidays.country_holidays("VN", language="vi", years=year, expand=False)
            self._years[year] = cached
        return cached

    def _package_holiday(self, d: date) -> str | None:
        name = self._package_year(d.year).get(d)
        return str(name) if name is not None else None

    def _package_make_up_days(self, year: int) -> set[date]:
        # A swap can cross a year boundary (the 2015 schedule has Friday 2 January off for
        # Saturday 27 December 2014), so the neighbouring years are consulted too.
        found: set[date] = set()
        for y in (year - 1, year, year + 1):
            found.update(d for d in self._package_year(y).weekend_workdays if d.year == year)
        return found

    def _package_make_up_name(self, d: date) -> str:
        # The package names the swapped day off "Ngày nghỉ (thay cho ngày dd/mm/yyyy)"; find it
        # to say which day off this working day pays for.
        needle = d.strftime("%d/%m/%Y")
        for y in (d.year - 1, d.year, d.year + 1):
            for off_day, name in sorted(self._package_year(y).items()):
                if needle in str(name):
                    return f"{MAKE_UP_DAY_NAME} (nghỉ ngày {off_day.strftime('%d/%m/%Y')})"
        return MAKE_UP_DAY_NAME

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day; an override decides before anything else."""
        override = self._overrides.get(d)
        if override is not None:
            return override.kind == "work"
        if self._package_holiday(d) is not None:
            return False
        if d.weekday() > _LAST_WEEKDAY:
            return d in self._package_make_up_days(d.year)
        return True

    def day_off_name(self, d: date) -> str | None:
        """The holiday or override name when ``d`` is a non-weekend day off, else None.

        Plain weekends return None; a weekend day that is also a holiday returns its name.
        An "off" override without a name falls back to the package's name, then to "".
        """
        override = self._overrides.get(d)
        if override is not None:
            if override.kind == "work":
                return None
            return override.name or self._package_holiday(d) or ""
        return self._package_holiday(d)

    def days_off(self, year: int) -> list[tuple[date, str]]:
        """Public holidays and "off" overrides in ``year`` with their names, sorted by date.

        Plain weekends are not listed; package holidays cancelled by a "work" override are not
        listed either.
        """
        found: dict[date, str] = {}
        for d, name in self._package_year(year).items():
            if d.year == year:
                found[d] = str(name)
        for d, override in self._overrides.items():
            if d.year != year:
                continue
            if override.kind == "work":
                found.pop(d, None)
            else:
                found[d] = override.name or found.get(d, "")
        return sorted(found.items())

    def make_up_days(self, year: int) -> list[tuple[date, str]]:
        """Weekend days that are working days in ``year`` (làm bù), with names, sorted by date.

        These come from the package's known swaps and from "work" overrides on weekend days; a
        make-up day cancelled by an "off" override is not listed. A "work" override on a
        weekday (cancelling a holiday) is listed too, since it is also a working day the plain
        calendar would not show.
        """
        found: dict[date, str] = {
            d: self._package_make_up_name(d) for d in self._package_make_up_days(year)
        }
        for d, override in self._overrides.items():
            if d.year != year:
                continue
            if override.kind == "off":
                found.pop(d, None)
            else:
                found[d] = override.name or found.get(d, MAKE_UP_DAY_NAME)
        return sorted(found.items())

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        current = d + timedelta(days=1)
        while not self.is_working_day(current):
            current += timedelta(days=1)
        return current


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")


def _local_date(value: datetime, tz: ZoneInfo) -> date:
    return value.astimezone(tz).date()


def end_of_day(d: date, tz: ZoneInfo) -> datetime:
    """The deadline instant for local day ``d``: 23:59:59 local time in ``tz``."""
    return datetime.combine(d, END_OF_DAY, tzinfo=tz)


def compute_due(
    received_at: datetime,
    days: int,
    unit: DayUnit,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> datetime:
    """When a case received at ``received_at`` with a ``days``-long reply period is due.

    The day of receipt (a local date in ``tz``) is not counted. In calendar mode the last day
    is receipt date + ``days``, moved to the next working day if it is not one. In working-day
    mode the period is ``days`` working days counted from the day after receipt. The result is
    the end of the last day, 23:59:59 local time, tz-aware in ``tz``.

    Raises ValueError for a naive ``received_at`` or ``days`` < 1.
    """
    _require_aware(received_at, "received_at")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    received_on = _local_date(received_at, tz)
    unit = DayUnit(unit)
    if unit is DayUnit.CALENDAR:
        last = received_on + timedelta(days=days)
        if not calendar.is_working_day(last):
            last = calendar.next_working_day(last)
    else:
        last = received_on
        for _ in range(days):
            last = calendar.next_working_day(last)
    return end_of_day(last, tz)


def working_days_between(
    start: datetime,
    end: datetime,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> int:
    """Working days after ``start``'s local date up to and including ``end``'s local date.

    A case transferred on the fifth working day after receipt gives 5, which is still within
    the 5 working days of Nghị định 20/2008 Điều 9; more than 5 means a late transfer. Returns
    0 when ``end`` falls on or before ``start``'s local date.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    current = _local_date(start, tz)
    last = _local_date(end, tz)
    count = 0
    while current < last:
        current += timedelta(days=1)
        if calendar.is_working_day(current):
            count += 1
    return count


def days_left(now: datetime, due: datetime, tz: ZoneInfo) -> int:
    """Calendar days from ``now``'s local date to ``due``'s local date.

    0 on the due date itself, negative once the due date has passed.
    """
    _require_aware(now, "now")
    _require_aware(due, "due")
    return (_local_date(due, tz) - _local_date(now, tz)).days
