"""Business-hours arithmetic: weekends, holidays, both DST changes, 24x7."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailroom.sla.calendar import Calendar, Duration

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = ((9 * 60, 17 * 60),)


def business(zone: str = "America/Los_Angeles", holidays=(), week=None) -> Calendar:
    return Calendar.business("business", zone, week or {d: NINE_TO_FIVE for d in ("mon", "tue", "wed", "thu", "fri")}, holidays)


def at(zone, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_friday_afternoon_plus_one_hour_is_monday_morning():
    cal = business()
    assert cal.add(at(LA, 2026, 1, 9, 16, 30), timedelta(hours=1)) == at(LA, 2026, 1, 12, 9, 30)


def test_result_is_utc():
    result = business().add(at(LA, 2026, 1, 9, 16, 30), timedelta(hours=1))
    assert result.tzinfo is UTC
    assert result == datetime(2026, 1, 12, 17, 30, tzinfo=UTC)


def test_naive_start_is_utc():
    cal = business()
    assert cal.add(datetime(2026, 1, 12, 17, 0), timedelta(hours=1)) == datetime(2026, 1, 12, 18, 0, tzinfo=UTC)


def test_start_outside_hours_counts_from_next_opening():
    cal = business()
    assert cal.add(at(LA, 2026, 1, 10, 12, 0), timedelta(hours=2)) == at(LA, 2026, 1, 12, 11, 0)  # Saturday
    assert cal.add(at(LA, 2026, 1, 12, 6, 0), timedelta(hours=2)) == at(LA, 2026, 1, 12, 11, 0)  # early
    assert cal.add(at(LA, 2026, 1, 12, 17, 0), timedelta(hours=1)) == at(LA, 2026, 1, 13, 10, 0)  # at closing


def test_exactly_to_closing_time_stays_that_day():
    assert business().add(at(LA, 2026, 1, 9, 16, 0), timedelta(hours=1)) == at(LA, 2026, 1, 9, 17, 0)


def test_zero_is_the_start():
    start = at(LA, 2026, 1, 10, 12, 0)
    assert business().add(start, timedelta(0)) == start


def test_across_thanksgiving():
    cal = business(holidays=[date(2026, 11, 26), date(2026, 11, 27)])
    assert cal.add(at(LA, 2026, 11, 25, 16, 30), timedelta(hours=1)) == at(LA, 2026, 11, 30, 9, 30)


def test_holiday_start_counts_from_next_working_day():
    cal = business(holidays=[date(2026, 12, 25)])
    assert cal.add(at(LA, 2026, 12, 25, 10, 0), timedelta(hours=1)) == at(LA, 2026, 12, 28, 10, 0)


def test_los_angeles_spring_forward_weekend():
    # DST starts Sunday 8 March 2026: Friday is PST (UTC-8), Monday PDT (UTC-7).
    result = business().add(at(LA, 2026, 3, 6, 16, 30), timedelta(hours=1))
    assert result == at(LA, 2026, 3, 9, 9, 30)
    assert result == datetime(2026, 3, 9, 16, 30, tzinfo=UTC)


def test_los_angeles_fall_back_weekend():
    # DST ends Sunday 1 November 2026: Friday is PDT, Monday PST.
    result = business().add(at(LA, 2026, 10, 30, 16, 30), timedelta(hours=1))
    assert result == at(LA, 2026, 11, 2, 9, 30)
    assert result == datetime(2026, 11, 2, 17, 30, tzinfo=UTC)


def test_berlin_both_changes():
    cal = business("Europe/Berlin")
    assert cal.add(at(BERLIN, 2026, 3, 27, 16, 0), timedelta(hours=2)) == at(BERLIN, 2026, 3, 30, 10, 0)
    assert cal.add(at(BERLIN, 2026, 10, 23, 16, 0), timedelta(hours=2)) == at(BERLIN, 2026, 10, 26, 10, 0)
    assert cal.add(at(BERLIN, 2026, 3, 30, 9, 0), timedelta(hours=1)) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_round_the_clock_hours_follow_the_wall_clock_on_dst_days():
    # With 00:00-24:00 every day, the spring-forward Sunday holds only 23 working hours.
    every_day = {d: ((0, 1440),) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    cal = business("Europe/Berlin", week=every_day)
    start = at(BERLIN, 2026, 3, 28, 12, 0)
    result = cal.add(start, timedelta(hours=24))
    assert result - start == timedelta(hours=24)
    assert result.astimezone(BERLIN) == at(BERLIN, 2026, 3, 29, 13, 0)
    assert cal.working_between(at(BERLIN, 2026, 10, 25, 0, 0), at(BERLIN, 2026, 10, 26, 0, 0)) == timedelta(hours=25)


def test_24x7_ignores_weekends_holidays_and_dst():
    for cal in (Calendar.always(), Calendar.always("always", "America/Los_Angeles")):
        start = at(LA, 2026, 3, 7, 12, 0)  # Saturday before spring forward
        assert cal.add(start, timedelta(hours=24)) - start == timedelta(hours=24)
        assert cal.add(start, timedelta(hours=24)) == at(LA, 2026, 3, 8, 13, 0)
        assert cal.working_between(start, start.astimezone(UTC) + timedelta(days=3)) == timedelta(days=3)
        assert cal.is_open(start)
        assert cal.next_open(start) == start


@pytest.mark.parametrize(
    "start",
    [
        at(LA, 2026, 1, 9, 16, 30),
        at(LA, 2026, 3, 6, 12, 0),
        at(LA, 2026, 10, 30, 8, 0),
        at(LA, 2026, 11, 25, 13, 15),
        at(LA, 2026, 12, 26, 3, 0),
    ],
)
@pytest.mark.parametrize("hours", [0.25, 1, 7.5, 8, 13, 40, 100])
def test_working_between_is_the_inverse_of_add(start, hours):
    cal = business(holidays=[date(2026, 11, 26), date(2026, 11, 27), date(2026, 12, 25)])
    working = timedelta(hours=hours)
    assert cal.working_between(start, cal.add(start, working)) == working


def test_working_between_counts_only_hours():
    cal = business()
    assert cal.working_between(at(LA, 2026, 1, 9, 16, 0), at(LA, 2026, 1, 12, 10, 0)) == timedelta(hours=2)
    assert cal.working_between(at(LA, 2026, 1, 10, 0, 0), at(LA, 2026, 1, 11, 23, 0)) == timedelta(0)
    assert cal.working_between(at(LA, 2026, 1, 12, 10, 0), at(LA, 2026, 1, 12, 9, 0)) == timedelta(0)


def test_split_day_with_a_lunch_break():
    lunch = ((9 * 60, 12 * 60), (13 * 60, 17 * 60))
    cal = business(week={d: lunch for d in ("mon", "tue", "wed", "thu", "fri")})
    assert cal.add(at(LA, 2026, 1, 12, 11, 30), timedelta(hours=1)) == at(LA, 2026, 1, 12, 13, 30)
    assert cal.duration(Duration(1, "d")) == timedelta(hours=7)
    assert not cal.is_open(at(LA, 2026, 1, 12, 12, 30))
    assert cal.next_open(at(LA, 2026, 1, 12, 12, 30)) == at(LA, 2026, 1, 12, 13, 0)


def test_durations_in_a_business_calendar():
    cal = business()
    assert cal.duration(Duration(90, "m")) == timedelta(minutes=90)
    assert cal.duration(Duration(4, "h")) == timedelta(hours=4)
    assert cal.duration(Duration(1, "d")) == timedelta(hours=8)
    assert cal.duration(Duration(2, "d")) == timedelta(hours=16)
    assert cal.duration(Duration(1, "w")) == timedelta(hours=40)
    assert cal.day_length() == timedelta(hours=8)


def test_durations_in_24x7():
    cal = Calendar.always()
    assert cal.duration(Duration(1, "d")) == timedelta(hours=24)
    assert cal.duration(Duration(1, "w")) == timedelta(days=7)
    assert cal.duration(Duration(30, "s")) == timedelta(seconds=30)


def test_due_counts_working_days():
    cal = business()
    assert cal.due(at(LA, 2026, 1, 13, 10, 0), Duration(1, "d")) == at(LA, 2026, 1, 14, 10, 0)
    assert cal.due(at(LA, 2026, 1, 9, 16, 30), Duration(1, "h")) == at(LA, 2026, 1, 12, 9, 30)
    assert cal.due(at(LA, 2026, 1, 12, 9, 0), Duration(1, "w")) == at(LA, 2026, 1, 16, 17, 0)


def test_duration_parse_and_text():
    assert Duration.parse("4h") == Duration(4.0, "h")
    assert str(Duration.parse("4h")) == "4h"
    assert str(Duration.parse("1.5d")) == "1.5d"
    with pytest.raises(ValueError):
        Duration.parse("four hours")


def test_zone_and_timezone_name():
    cal = business()
    assert cal.zone == LA
    assert cal.timezone == "America/Los_Angeles"
    assert Calendar.always().timezone == "UTC"
    assert not cal.is_24x7 and Calendar.always().is_24x7
