"""
### Contact-center monthly close

Closes the calendar month before its run, on `MONTH_CLOSE_DAY` of the next month (default
the 5th, 06:00 center time): the run at 2026-11-05 closes October 2026.

1. `check_month_ready`: every day of the month landed from every enabled source and
   published since, every agent who worked in the month has the supervisor's monthly
   inputs, and the whole history reconciles with raw (the daily audit checks only the
   keys each run landed). Otherwise the run fails listing what is missing (recorded in
   `audit.month_close_events`).
2. `freeze_scorecards`: the month's published scorecards and KPI rows become snapshot
   version N in `closing`; `reporting` shows the snapshot from now on, and data arriving
   later is reported in `reporting.scorecard_adjustments` instead of changing it.
   Rerunning a close of a closed month changes nothing; `python -m cli reopen-month`
   reopens one on purpose.
3. `write_monthly_report`: per team score distribution, ranking, grade counts and QA trend
   (CSV, PNG, one HTML page) under `AUDIT_DIR/monthly_reports/YYYY-MM/vN`, recorded in
   `audit.monthly_reports`.

Every task fails when it runs longer than `TASK_TIMEOUT_MINUTES` (default 60).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from operations.alerts import notify_failure

CENTER_TIMEZONE = os.environ.get("CENTER_TIMEZONE", "Asia/Shanghai")
CLOSE_DAY = int(os.environ.get("MONTH_CLOSE_DAY", "5"))
START_DATE = os.environ.get("DAILY_DAG_START_DATE", "2020-01-01")
# No task runs for ever: a task still running after its timeout fails.
TASK_TIMEOUT = timedelta(minutes=float(os.environ.get("TASK_TIMEOUT_MINUTES", "60")))


@dag(
    dag_id="contact_center_monthly_close",
    schedule=CronTriggerTimetable(f"0 6 {CLOSE_DAY} * *", timezone=CENTER_TIMEZONE),
    start_date=pendulum.parse(START_DATE, tz=CENTER_TIMEZONE),
    catchup=False,
    max_active_runs=1,
    # A close is never retried blindly: a missing day needs a person, not a second try.
    default_args={
        "on_failure_callback": notify_failure,
        "retries": 0,
        "execution_timeout": TASK_TIMEOUT,
    },
    tags=["contact-center", "scorecard", "monthly"],
    doc_md=__doc__,
)
def contact_center_monthly_close():
    @task
    def check_month_ready(logical_date=None, run_id=None) -> str:
        from extractors.settings import enabled_sources
        from operations import month_close
        from warehouse.connection import connect

        month = month_close.closing_month(logical_date, CENTER_TIMEZONE)
        with connect() as conn:
            month_close.ensure_schema(conn)
            current = month_close.status(conn, month)
            if current and current[0] == "closed":
                return month.isoformat()  # already frozen: the rerun changes nothing
            readiness = month_close.check_ready(conn, month, enabled_sources())
            if not readiness.ready:
                month_close.refuse(conn, readiness, "contact_center_monthly_close", run_id)
        return month.isoformat()

    @task
    def freeze_scorecards(month: str, run_id=None) -> str:
        from datetime import date

        from operations import month_close
        from warehouse.connection import connect

        with connect() as conn:
            month_close.close_month(
                conn, date.fromisoformat(month), "contact_center_monthly_close", run_id
            )
        return month

    @task
    def write_monthly_report(month: str, run_id=None) -> dict:
        from datetime import date

        from expectations.audit import audit_dir
        from operations import month_close
        from warehouse.connection import connect

        with connect() as conn:
            return month_close.report_month(
                conn, date.fromisoformat(month), run_id, audit_dir() / "monthly_reports"
            )

    write_monthly_report(freeze_scorecards(check_month_ready()))


contact_center_monthly_close()
