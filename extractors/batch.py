"""The run's business day and batch identity, derived from the Airflow data interval."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from warehouse.landing import Batch


def business_day(
    interval_start: datetime,
    interval_end: datetime,
    timezone: str,
    logical_date: datetime | None = None,
) -> date:
    """The local business day a run owns: its interval must be [D 00:00, D+1 00:00) local.

    Airflow 3's default cron timetable gives start == end; this refuses any interval that is
    not exactly one local calendar day, so a wrongly scheduled DAG fails loudly. A run whose
    logical date lies outside its interval is refused too: `airflow dags trigger -l` (3.3)
    infers the interval from the time of triggering, not from the logical date given, and
    would silently load yesterday instead of the day asked for.
    """
    tz = ZoneInfo(timezone)
    start, end = interval_start.astimezone(tz), interval_end.astimezone(tz)
    day = start.date()
    if start.time() != time(0) or end != datetime.combine(
        day + timedelta(days=1), time(0), tzinfo=tz
    ):
        raise ValueError(
            f"data interval {interval_start.isoformat()} -> {interval_end.isoformat()} is not one"
            f" local business day in {timezone}"
        )
    if logical_date is not None and not interval_start <= logical_date <= interval_end:
        raise ValueError(
            f"logical date {logical_date.isoformat()} is outside the run's data interval"
            f" {interval_start.isoformat()} -> {interval_end.isoformat()}: to run a past day use"
            " `airflow backfill create` or trigger it from the UI/REST API with that logical date"
        )
    return day


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, start + timedelta(days=1)


def make_batch(
    source_system: str, day: date, timezone: str, run_id: str, task_id: str, extracted_at: datetime
) -> Batch:
    start, end = day_bounds(day, timezone)
    return Batch(
        batch_id=f"{run_id}/{task_id}",
        source_system=source_system,
        batch_date=day,
        interval_start=start,
        interval_end=end,
        extracted_at=extracted_at,
    )
