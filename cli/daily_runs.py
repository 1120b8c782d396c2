"""Run the daily DAG with Airflow for business days (each as its own Airflow DAG run)."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cli.environment import REPO_ROOT

DAG_FILE = REPO_ROOT / "dags" / "contact_center_daily.py"
CLOSE_DAG_FILE = REPO_ROOT / "dags" / "contact_center_monthly_close.py"


class DagRunFailed(RuntimeError):
    pass


def _load(path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)()


def load_daily_dag():
    return _load(DAG_FILE, "contact_center_daily")


def load_close_dag():
    return _load(CLOSE_DAG_FILE, "contact_center_monthly_close")


def close_run_date(month_start: date, close_day: int, timezone: str) -> datetime:
    """The close DAG's logical date for a month: `close_day` of the next month, 06:00 local."""
    following = (month_start.replace(day=28) + timedelta(days=4)).replace(day=close_day)
    return datetime.combine(following, time(6), tzinfo=ZoneInfo(timezone))


def run_month_close(dag, month_start: date, timezone: str, close_day: int = 5):
    """`dag.test` of the monthly close run that closes `month_start`."""
    dag_run = dag.test(logical_date=close_run_date(month_start, close_day, timezone))
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    if dag_run.state != "success":
        raise DagRunFailed(f"close of {month_start:%Y-%m} ended {dag_run.state}: {states}")
    return dag_run


def run_business_day(dag, day: date, timezone: str):
    """`dag.test` for the run that owns `day`: its interval is [day 00:00, day+1 00:00) local."""
    run_after = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))
    dag_run = dag.test(logical_date=run_after)
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    # A run before the DAG's start_date "succeeds" without running anything: not a success.
    if set(states) != set(dag.task_ids):
        raise DagRunFailed(
            f"run for {day} ran {sorted(states)} of {sorted(dag.task_ids)}: is {day} before the"
            f" DAG's start_date {dag.start_date.astimezone(ZoneInfo(timezone)):%Y-%m-%d}"
            " (DAILY_DAG_START_DATE)?"
        )
    unfinished = {t: s for t, s in states.items() if s not in ("success", "skipped")}
    if dag_run.state != "success" or unfinished:
        raise DagRunFailed(f"run for {day} ended {dag_run.state}; not successful: {unfinished}")
    return dag_run
