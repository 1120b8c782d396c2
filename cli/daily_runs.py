"""Run the daily DAG with Airflow for business days (each as its own Airflow DAG run)."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cli.environment import REPO_ROOT

DAG_FILE = REPO_ROOT / "dags" / "contact_center_daily.py"


class DagRunFailed(RuntimeError):
    pass


def load_daily_dag():
    spec = importlib.util.spec_from_file_location("contact_center_daily", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.contact_center_daily()


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
