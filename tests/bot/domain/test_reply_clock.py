"""Tests for the reply clock (bot/reply_clock.py).

Holiday dates below are the ones the `holidays` package (>= 0.109) gives for Vietnam; where a
year's official schedule is not yet published the package estimates it, and these tests pin the
estimate so a package upgrade that changes it is noticed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.reply_clock import (
    END_OF_DAY,
    DayUnit,
    HolidayOverride,
    OverrideKind,
    WorkCalendar,
    compute_due,
    days_left,
    end_of_day,
    working_days_between,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = DayUnit.CALENDAR
WORK = DayUnit.WORKING


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar()


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


def due_date(received: datetime, days: int, unit: DayUnit, cal: WorkCalendar | None = None) -> date:
    due = compute_due(received, days, unit, cal or WorkCalendar(), VN)
    assert due.timetz() == END_OF_DAY.replace(tzinfo=VN)
    return due.date()


# --- WorkCalendar -----------------------------------------------------------------------------


class TestWorkCalendar:
    def test_weekdays_and_weekends(self, calendar: WorkCalendar) -> None:
        # Week of 3–9 March 2025 has no holiday.
        days = [date(2025, 3, 3) + timedelta(days=i) for i in range(7)]
        assert [calendar.is_working_day(d) for d in days] == [True] * 5 + [False] * 2
        assert calendar.day_off_name(date(2025, 3, 8)) is None  # plain Saturday

    @pytest.mark.parametrize(
        ("year", "first", "last"),
        [
            # Package dates (29 Tết/giao thừa to mùng 4/5) plus the weekends that join them.
            (2025, date(2025, 1, 25), date(2025, 2, 2)),
            (2026, date(2026, 2, 14), date(2026, 2, 22)),
            (2027, date(2027, 2, 4), date(2027, 2, 10)),
        ],
    )
    def test_tet_block_is_off(
        self, calendar: WorkCalendar, year: int, first: date, last: date
    ) -> None:
        day = first
        while day <= last:
            assert not calendar.is_working_day(day), day
            day += timedelta(days=1)
        assert calendar.is_working_day(first - timedelta(days=1))
        assert calendar.next_working_day(last) == last + timedelta(days=1)

    def test_tet_names(self, calendar: WorkCalendar) -> None:
        assert calendar.day_off_name(date(2025, 1, 29)) == "Tết Nguyên Đán"
        assert calendar.day_off_name(date(2026, 2, 17)) == "Tết Nguyên Đán"
        assert calendar.day_off_name(date(2027, 2, 6)) == "Tết Nguyên Đán"
        assert calendar.day_off_name(date(2026, 2, 16)) == "Giao thừa Tết Nguyên Đán"

    def test_reunification_and_labour_day_2025_swap(self, calendar: WorkCalendar) -> None:
        for d in (date(2025, 4, 30), date(2025, 5, 1), date(2025, 5, 2)):
            assert not calendar.is_working_day(d)
        assert calendar.day_off_name(date(2025, 4, 30)) == "Ngày Chiến thắng"
        assert calendar.day_off_name(date(2025, 5, 1)) == "Ngày Quốc tế Lao động"
        # 2 May 2025 was given off in exchange for working Saturday 26 April.
        assert calendar.is_working_day(date(2025, 4, 26))
        assert calendar.make_up_days(2025) == [
            (date(2025, 4, 26), "Ngày làm bù (nghỉ ngày 02/05/2025)")
        ]

    def test_national_day(self, calendar: WorkCalendar) -> None:
        assert not calendar.is_working_day(date(2025, 9, 1))
        assert not calendar.is_working_day(date(2025, 9, 2))
        assert calendar.is_working_day(date(2025, 9, 3))
        assert calendar.day_off_name(date(2025, 9, 2)) == "Quốc khánh"

    def test_culture_day_from_2026(self, calendar: WorkCalendar) -> None:
        assert calendar.is_working_day(date(2025, 11, 24))  # Monday, not yet a holiday
        assert not calendar.is_working_day(date(2026, 11, 24))
        assert calendar.day_off_name(date(2026, 11, 24)) == "Ngày Văn hóa Việt Nam"

    def test_days_off_lists_holidays_not_weekends(self, calendar: WorkCalendar) -> None:
        off = dict(calendar.days_off(2025))
        assert off[date(2025, 1, 1)] == "Tết Dương lịch"
        assert date(2025, 3, 8) not in off
        assert all(d.year == 2025 for d in off)
        assert list(off) == sorted(off)
        assert len(off) == 13

    def test_cross_year_make_up_day(self, calendar: WorkCalendar) -> None:
        # The 2015 schedule gave Friday 2 January 2015 off for Saturday 27 December 2014.
        assert calendar.is_working_day(date(2014, 12, 27))
        assert [d for d, _ in calendar.make_up_days(2014)] == [
            date(2014, 4, 26),
            date(2014, 9, 6),
            date(2014, 12, 27),
        ]

    def test_off_override_on_a_weekday(self) -> None:
        extra = HolidayOverride(date(2025, 3, 5), "off", "Nghỉ bù thử")
        cal = WorkCalendar([extra])
        assert not cal.is_working_day(date(2025, 3, 5))
        assert cal.day_off_name(date(2025, 3, 5)) == "Nghỉ bù thử"
        assert (date(2025, 3, 5), "Nghỉ bù thử") in cal.days_off(2025)

    def test_off_override_without_name_keeps_package_name(self) -> None:
        cal = WorkCalendar([HolidayOverride(date(2025, 9, 2), "off")])
        assert cal.day_off_name(date(2025, 9, 2)) == "Quốc khánh"

    def test_work_override_on_a_saturday(self) -> None:
        cal = WorkCalendar([HolidayOverride(date(2025, 3, 8), "work", "Làm bù")])
        assert cal.is_working_day(date(2025, 3, 8))
        assert (date(2025, 3, 8), "Làm bù") in cal.make_up_days(2025)
        assert date(2025, 3, 8) not in dict(cal.days_off(2025))

    def test_work_override_cancels_a_package_holiday(self) -> None:
        cal = WorkCalendar([HolidayOverride(date(2025, 5, 2), "work")])
        assert cal.is_working_day(date(2025, 5, 2))
        assert cal.day_off_name(date(2025, 5, 2)) is None
        assert date(2025, 5, 2) not in dict(cal.days_off(2025))

    def test_off_override_cancels_a_package_make_up_day(self) -> None:
        cal = WorkCalendar([HolidayOverride(date(2025, 4, 26), "off", "Không làm bù")])
        assert not cal.is_working_day(date(2025, 4, 26))
        assert cal.make_up_days(2025) == []

    def test_next_working_day_is_strictly_after(self, calendar: WorkCalendar) -> None:
        assert calendar.next_working_day(date(2025, 3, 3)) == date(2025, 3, 4)
        assert calendar.next_working_day(date(2025, 3, 7)) == date(2025, 3, 10)

    def test_duplicate_override_rejected(self) -> None:
        with pytest.raises(ValueError, match="more than one override"):
            WorkCalendar(
                [
                    HolidayOverride(date(2025, 3, 5), "off"),
                    HolidayOverride(date(2025, 3, 5), "work"),
                ]
            )

    def test_bad_override_kind_rejected(self) -> None:
        with pytest.raises(ValueError, match="kind"):
            HolidayOverride(date(2025, 3, 5), "holiday")  # type: ignore[arg-type]

    def test_overrides_property_is_sorted(self) -> None:
        a = HolidayOverride(date(2025, 6, 1), "work")
        b = HolidayOverride(date(2025, 1, 2), "off")
        assert WorkCalendar([a, b]).overrides == (b, a)


# --- compute_due: examples --------------------------------------------------------------------


class TestComputeDue:
    def test_plain_ten_days(self) -> None:
        # Received Wednesday 5 March 2025; day 10 is Saturday 15 March → Monday 17 March.
        assert due_date(local(2025, 3, 5), 10, CAL) == date(2025, 3, 17)
        # Received Monday 3 March; day 10 is Thursday 13 March, a working day.
        assert due_date(local(2025, 3, 3), 10, CAL) == date(2025, 3, 13)

    def test_result_is_end_of_day_in_tz(self) -> None:
        due = compute_due(local(2025, 3, 3), 10, CAL, WorkCalendar(), VN)
        assert due == datetime(2025, 3, 13, 23, 59, 59, tzinfo=VN)
        assert due.tzinfo is VN

    def test_weekend_last_day_moves_to_monday(self) -> None:
        assert due_date(local(2025, 3, 7), 1, CAL) == date(2025, 3, 10)  # Fri +1 = Sat
        assert due_date(local(2025, 3, 7), 2, CAL) == date(2025, 3, 10)  # Fri +2 = Sun
        assert due_date(local(2025, 3, 7), 3, CAL) == date(2025, 3, 10)  # Fri +3 = Mon

    def test_working_days_skip_weekend(self) -> None:
        assert due_date(local(2025, 3, 7), 1, WORK) == date(2025, 3, 10)
        assert due_date(local(2025, 3, 7), 5, WORK) == date(2025, 3, 14)
        assert due_date(local(2025, 3, 3), 10, WORK) == date(2025, 3, 17)

    def test_received_on_a_weekend(self) -> None:
        # Saturday receipt: Sunday is day 1 (calendar) and the deadline moves to Monday.
        assert due_date(local(2025, 3, 8), 1, CAL) == date(2025, 3, 10)
        assert due_date(local(2025, 3, 8), 1, WORK) == date(2025, 3, 10)

    def test_tet_2025(self) -> None:
        # Tết 2025 off: Sat 25 Jan – Sun 2 Feb. Friday 24 Jan + 1 → Monday 3 Feb.
        assert due_date(local(2025, 1, 24), 1, CAL) == date(2025, 2, 3)
        assert due_date(local(2025, 1, 24), 1, WORK) == date(2025, 2, 3)
        # Received Wed 22 Jan, 10 days → Sat 1 Feb (mùng 4) → Mon 3 Feb.
        assert due_date(local(2025, 1, 22), 10, CAL) == date(2025, 2, 3)
        # Ten working days from Wed 22 Jan: 23, 24, then 3–7 Feb, 10, 11, 12 Feb.
        assert due_date(local(2025, 1, 22), 10, WORK) == date(2025, 2, 12)

    def test_tet_2026(self) -> None:
        # Tết 2026 off Mon 16 – Fri 20 Feb, inside two weekends.
        assert due_date(local(2026, 2, 13), 3, CAL) == date(2026, 2, 23)
        assert due_date(local(2026, 2, 12), 10, CAL) == date(2026, 2, 23)  # day 10 = Sun 22
        assert due_date(local(2026, 2, 12), 2, WORK) == date(2026, 2, 23)  # 13, then 23
        assert due_date(local(2026, 2, 6), 10, CAL) == date(2026, 2, 23)  # day 10 = Mon 16

    def test_tet_2027(self) -> None:
        # Package estimate for Tết 2027: Thu 4 – Wed 10 Feb off.
        assert due_date(local(2027, 2, 3), 1, CAL) == date(2027, 2, 11)
        assert due_date(local(2027, 2, 3), 1, WORK) == date(2027, 2, 11)
        assert due_date(local(2027, 2, 1), 10, CAL) == date(2027, 2, 11)  # day 10 = Thu 11

    def test_reunification_and_labour_day(self) -> None:
        # 2025: Wed 30 Apr, Thu 1 May, Fri 2 May (swapped) off.
        assert due_date(local(2025, 4, 29), 1, CAL) == date(2025, 5, 5)
        assert due_date(local(2025, 4, 29), 2, WORK) == date(2025, 5, 6)
        # The make-up Saturday 26 April 2025 counts as a working day …
        assert due_date(local(2025, 4, 25), 1, WORK) == date(2025, 4, 26)
        # … and is a valid last day in calendar mode.
        assert due_date(local(2025, 4, 25), 1, CAL) == date(2025, 4, 26)

    def test_national_day(self) -> None:
        # 2025: Mon 1 and Tue 2 Sep off. Fri 29 Aug + 3 = Mon 1 Sep → Wed 3 Sep.
        assert due_date(local(2025, 8, 29), 3, CAL) == date(2025, 9, 3)
        assert due_date(local(2025, 8, 29), 1, WORK) == date(2025, 9, 3)

    def test_culture_day_2026(self) -> None:
        assert due_date(local(2026, 11, 23), 1, CAL) == date(2026, 11, 25)
        assert due_date(local(2026, 11, 23), 1, WORK) == date(2026, 11, 25)
        # Not a holiday in 2025.
        assert due_date(local(2025, 11, 23), 1, CAL) == date(2025, 11, 24)

    def test_year_end_crossing(self) -> None:
        # Received Wed 24 Dec 2025 + 8 = Thu 1 Jan 2026 (holiday) → Fri 2 Jan.
        assert due_date(local(2025, 12, 24), 8, CAL) == date(2026, 1, 2)

    def test_off_override_delays(self) -> None:
        cal = WorkCalendar([HolidayOverride(date(2025, 3, 13), "off", "Nghỉ bù")])
        assert due_date(local(2025, 3, 3), 10, CAL, cal) == date(2025, 3, 14)
        assert due_date(local(2025, 3, 12), 1, WORK, cal) == date(2025, 3, 14)

    def test_work_override_makes_saturday_a_valid_last_day(self) -> None:
        cal = WorkCalendar([HolidayOverride(date(2025, 3, 15), "work", "Làm bù")])
        assert due_date(local(2025, 3, 5), 10, CAL, cal) == date(2025, 3, 15)
        assert due_date(local(2025, 3, 14), 1, WORK, cal) == date(2025, 3, 15)

    def test_work_override_on_holiday(self) -> None:
        cal = WorkCalendar([HolidayOverride(date(2025, 9, 2), "work")])
        assert due_date(local(2025, 8, 29), 1, WORK, cal) == date(2025, 9, 2)

    def test_unit_may_be_given_as_string(self) -> None:
        due = compute_due(local(2025, 3, 3), 10, DayUnit("working"), WorkCalendar(), VN)
        assert due.date() == date(2025, 3, 17)
        assert DayUnit.CALENDAR == "calendar"


class TestBoundaries:
    def test_local_2359_is_still_that_day(self) -> None:
        assert due_date(local(2025, 3, 5, 23, 59), 1, CAL) == date(2025, 3, 6)

    def test_local_midnight_is_the_next_day(self) -> None:
        assert due_date(local(2025, 3, 6, 0, 0), 1, CAL) == date(2025, 3, 7)

    def test_utc_input_near_local_midnight(self) -> None:
        # 16:59 UTC is 23:59 in Vietnam (UTC+7); 17:00 UTC is already the next local day.
        before = datetime(2025, 3, 5, 16, 59, 59, tzinfo=UTC)
        after = datetime(2025, 3, 5, 17, 0, tzinfo=UTC)
        assert due_date(before, 1, CAL) == date(2025, 3, 6)
        assert due_date(after, 1, CAL) == date(2025, 3, 7)
        # Thursday 17:00 UTC = Friday 00:00 local, so one calendar day lands on Saturday → Mon.
        assert due_date(datetime(2025, 3, 6, 17, 0, tzinfo=UTC), 1, CAL) == date(2025, 3, 10)

    def test_fixed_offset_input(self) -> None:
        received = datetime(2025, 3, 5, 12, 30, tzinfo=timezone(timedelta(hours=-5)))
        # 12:30 at UTC-5 is 00:30 on 6 March in Vietnam.
        assert due_date(received, 1, CAL) == date(2025, 3, 7)

    def test_vietnam_has_no_dst(self) -> None:
        offsets = {datetime(2025, m, 15, 12, tzinfo=VN).utcoffset() for m in range(1, 13)}
        assert offsets == {timedelta(hours=7)}
        for month in (1, 4, 7, 10):
            due = compute_due(local(2025, month, 6), 10, CAL, WorkCalendar(), VN)
            assert due.utcoffset() == timedelta(hours=7)

    def test_other_tz_with_dst_still_ends_at_local_2359(self) -> None:
        paris = ZoneInfo("Europe/Paris")
        # Received Friday 28 March 2025; DST starts Sunday 30 March in Paris.
        received = datetime(2025, 3, 28, 9, tzinfo=paris)
        due = compute_due(received, 3, CAL, WorkCalendar(), paris)
        assert due == datetime(2025, 3, 31, 23, 59, 59, tzinfo=paris)
        assert due.utcoffset() == timedelta(hours=2)

    def test_end_of_day_helper(self) -> None:
        assert end_of_day(date(2025, 3, 5), VN) == datetime(2025, 3, 5, 23, 59, 59, tzinfo=VN)


class TestErrors:
    def test_naive_received_at(self) -> None:
        naive = local(2025, 3, 5).replace(tzinfo=None)
        with pytest.raises(ValueError, match="timezone-aware"):
            compute_due(naive, 10, CAL, WorkCalendar(), VN)

    @pytest.mark.parametrize("days", [0, -1, -10])
    def test_days_must_be_positive(self, days: int) -> None:
        with pytest.raises(ValueError, match="at least 1"):
            compute_due(local(2025, 3, 5), days, CAL, WorkCalendar(), VN)

    def test_bad_unit(self) -> None:
        with pytest.raises(ValueError):
            compute_due(local(2025, 3, 5), 1, "weeks", WorkCalendar(), VN)  # type: ignore[arg-type]

    def test_naive_in_helpers(self) -> None:
        aware = local(2025, 3, 5)
        naive = aware.replace(tzinfo=None)
        with pytest.raises(ValueError):
            working_days_between(naive, aware, WorkCalendar(), VN)
        with pytest.raises(ValueError):
            working_days_between(aware, naive, WorkCalendar(), VN)
        with pytest.raises(ValueError):
            days_left(naive, aware, VN)
        with pytest.raises(ValueError):
            days_left(aware, naive, VN)


# --- working_days_between and days_left -------------------------------------------------------


class TestWorkingDaysBetween:
    def test_same_day_is_zero(self, calendar: WorkCalendar) -> None:
        assert working_days_between(local(2025, 3, 3, 8), local(2025, 3, 3, 17), calendar, VN) == 0

    def test_end_before_start_is_zero(self, calendar: WorkCalendar) -> None:
        assert working_days_between(local(2025, 3, 5), local(2025, 3, 3), calendar, VN) == 0

    def test_over_a_weekend(self, calendar: WorkCalendar) -> None:
        # Fri 7 → Mon 10 March: only Monday counts.
        assert working_days_between(local(2025, 3, 7), local(2025, 3, 10), calendar, VN) == 1

    def test_transfer_window(self, calendar: WorkCalendar) -> None:
        received = local(2025, 3, 3)  # Monday
        assert working_days_between(received, local(2025, 3, 10), calendar, VN) == 5
        assert working_days_between(received, local(2025, 3, 11), calendar, VN) == 6

    def test_over_tet_2025(self, calendar: WorkCalendar) -> None:
        # Fri 24 Jan → Mon 3 Feb 2025: the whole Tết block is skipped.
        assert working_days_between(local(2025, 1, 24), local(2025, 2, 3), calendar, VN) == 1

    def test_matches_compute_due_in_working_mode(self, calendar: WorkCalendar) -> None:
        received = local(2025, 4, 28)
        due = compute_due(received, 5, WORK, calendar, VN)
        assert working_days_between(received, due, calendar, VN) == 5

    def test_uses_local_dates(self, calendar: WorkCalendar) -> None:
        # 17:00 UTC Friday is Saturday 00:00 local: nothing working in between.
        start = datetime(2025, 3, 6, 16, 0, tzinfo=UTC)  # Thu 23:00 local
        end = datetime(2025, 3, 7, 17, 0, tzinfo=UTC)  # Sat 00:00 local
        assert working_days_between(start, end, calendar, VN) == 1


class TestDaysLeft:
    def test_counts_local_dates(self) -> None:
        due = end_of_day(date(2025, 3, 13), VN)
        assert days_left(local(2025, 3, 3, 9), due, VN) == 10
        assert days_left(local(2025, 3, 13, 23, 0), due, VN) == 0
        assert days_left(local(2025, 3, 14, 0, 0), due, VN) == -1
        assert days_left(local(2025, 3, 20), due, VN) == -7

    def test_utc_now(self) -> None:
        due = end_of_day(date(2025, 3, 13), VN)
        assert days_left(datetime(2025, 3, 12, 16, 59, tzinfo=UTC), due, VN) == 1
        assert days_left(datetime(2025, 3, 12, 17, 0, tzinfo=UTC), due, VN) == 0


# --- Properties -------------------------------------------------------------------------------

# Years the package's lunar calendar covers comfortably and that the bot will actually see.
_MIN = datetime.combine(date(2020, 1, 1), time())
_MAX = datetime.combine(date(2034, 12, 31), time(23, 59, 59))
_ZONES = st.sampled_from([VN, UTC, ZoneInfo("Europe/Paris"), timezone(timedelta(hours=-11))])

received_times = st.datetimes(min_value=_MIN, max_value=_MAX, timezones=_ZONES)
periods = st.integers(min_value=1, max_value=60)
units = st.sampled_from(list(DayUnit))
_KINDS: tuple[OverrideKind, ...] = ("off", "work")


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    """A calendar with a few random overrides in 2020–2035."""
    days = draw(
        st.lists(
            st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 3, 31)),
            max_size=6,
            unique=True,
        )
    )
    kinds = draw(st.lists(st.sampled_from(_KINDS), min_size=len(days), max_size=len(days)))
    return WorkCalendar(HolidayOverride(d, k) for d, k in zip(days, kinds, strict=True))


_SHARED = WorkCalendar()
_PROPS = settings(max_examples=150, deadline=None)


@_PROPS
@given(received=received_times, days=periods, unit=units, cal=calendars())
def test_due_is_a_working_day_after_receipt(
    received: datetime, days: int, unit: DayUnit, cal: WorkCalendar
) -> None:
    due = compute_due(received, days, unit, cal, VN)
    assert cal.is_working_day(due.date())
    assert due > received
    assert due.date() > received.astimezone(VN).date()
    assert due.tzinfo is VN
    assert (due.hour, due.minute, due.second, due.microsecond) == (23, 59, 59, 0)


@_PROPS
@given(received=received_times, days=periods, unit=units, cal=calendars())
def test_more_days_never_earlier(
    received: datetime, days: int, unit: DayUnit, cal: WorkCalendar
) -> None:
    assert compute_due(received, days, unit, cal, VN) <= compute_due(
        received, days + 1, unit, cal, VN
    )


@_PROPS
@given(received=received_times, days=periods)
def test_working_mode_never_earlier_than_calendar_mode(received: datetime, days: int) -> None:
    assert compute_due(received, days, WORK, _SHARED, VN) >= compute_due(
        received, days, CAL, _SHARED, VN
    )


@_PROPS
@given(
    received=received_times,
    days=periods,
    unit=units,
    extra=st.lists(st.integers(min_value=0, max_value=90), min_size=1, max_size=5, unique=True),
)
def test_extra_day_off_never_makes_due_earlier(
    received: datetime, days: int, unit: DayUnit, extra: list[int]
) -> None:
    start = received.astimezone(VN).date()
    overrides = [HolidayOverride(start + timedelta(days=n), "off") for n in extra]
    before = compute_due(received, days, unit, _SHARED, VN)
    after = compute_due(received, days, unit, WorkCalendar(overrides), VN)
    assert after >= before


@_PROPS
@given(received=received_times, days=periods, cal=calendars())
def test_working_mode_counts_exactly_n_working_days(
    received: datetime, days: int, cal: WorkCalendar
) -> None:
    due = compute_due(received, days, WORK, cal, VN)
    assert working_days_between(received, due, cal, VN) == days
    # One day earlier would be one working day short.
    assert working_days_between(received, due - timedelta(days=1), cal, VN) == days - 1


@_PROPS
@given(received=received_times, days=periods)
def test_calendar_mode_is_first_working_day_on_or_after_day_n(
    received: datetime, days: int
) -> None:
    due = compute_due(received, days, CAL, _SHARED, VN).date()
    nominal = received.astimezone(VN).date() + timedelta(days=days)
    assert due >= nominal
    day = nominal
    while day < due:
        assert not _SHARED.is_working_day(day)
        day += timedelta(days=1)


@_PROPS
@given(now=received_times, due=received_times)
def test_days_left_is_antisymmetric(now: datetime, due: datetime) -> None:
    assert days_left(now, due, VN) == -days_left(due, now, VN)
