from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from extractors.batch import business_day, day_bounds

TZ = ZoneInfo("Asia/Shanghai")


def test_a_local_calendar_day_is_the_business_day():
    assert business_day(
        datetime(2026, 10, 1, tzinfo=TZ), datetime(2026, 10, 2, tzinfo=TZ), "Asia/Shanghai"
    ) == date(2026, 10, 1)
    # The same instants written in UTC: 16:00 the evening before.
    assert business_day(
        datetime(2026, 9, 30, 16, tzinfo=UTC),
        datetime(2026, 10, 1, 16, tzinfo=UTC),
        "Asia/Shanghai",
    ) == date(2026, 10, 1)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 10, 1, tzinfo=TZ), datetime(2026, 10, 1, tzinfo=TZ)),  # cron: start == end
        (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)),  # a UTC day
        (datetime(2026, 10, 1, tzinfo=TZ), datetime(2026, 10, 3, tzinfo=TZ)),  # two days
    ],
)
def test_anything_but_one_local_day_is_refused(start, end):
    with pytest.raises(ValueError, match="is not one local business day"):
        business_day(start, end, "Asia/Shanghai")


def test_day_bounds_are_half_open_local_midnights():
    start, end = day_bounds(date(2026, 10, 1), "Asia/Shanghai")
    assert start.isoformat() == "2026-10-01T00:00:00+08:00"
    assert end.isoformat() == "2026-10-02T00:00:00+08:00"


def test_a_logical_date_inside_the_interval_is_accepted():
    start, end = datetime(2026, 10, 1, tzinfo=TZ), datetime(2026, 10, 2, tzinfo=TZ)
    # Scheduled and backfill runs: logical date = start; a UI trigger at D+1: = end.
    for logical in (start, end, datetime(2026, 10, 1, 12, tzinfo=TZ)):
        assert business_day(start, end, "Asia/Shanghai", logical) == date(2026, 10, 1)


def test_a_logical_date_outside_the_interval_is_refused():
    # `airflow dags trigger -l 2026-10-02` on 2026-11-25 gets the interval of 2026-11-24.
    with pytest.raises(ValueError, match="outside the run's data interval"):
        business_day(
            datetime(2026, 11, 24, tzinfo=TZ),
            datetime(2026, 11, 25, tzinfo=TZ),
            "Asia/Shanghai",
            datetime(2026, 10, 2, tzinfo=TZ),
        )
