"""Time each task of the daily DAG for one business day of the sample (after `make run`).

    .venv/bin/python bench/profile_day.py --day 2026-10-31 --repeat 2

Runs the DAG with Airflow's dag.test against the sample in .local/sample (serving its
simulated CRM) and prints each task's wall time from the run's task instances. The first
repeat pays the process's imports; later ones show the steady cost. It reruns the day, so
the warehouse is left as it was.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from pathlib import Path

from cli import environment  # the project is installed in .venv (make install)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=date.fromisoformat, required=True)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ["DAILY_DAG_RETRIES"] = "0"
    environment.prepare()
    from cli.daily_runs import load_daily_dag, run_business_day
    from simulator.crm_api import CrmApiServer

    timezone = os.environ.get("CENTER_TIMEZONE", "Asia/Shanghai")
    with CrmApiServer(Path(os.environ["SOURCE_LANDING_DIR"]) / "crm") as crm:
        os.environ["CRM_API_URL"] = crm.url
        dag = load_daily_dag()
        for attempt in range(1, args.repeat + 1):
            started = time.perf_counter()
            run = run_business_day(dag, args.day, timezone)
            total = time.perf_counter() - started
            tasks = sorted(run.get_task_instances(), key=lambda ti: ti.start_date)
            print(f"run {attempt}: {total:.1f} s")
            for ti in tasks:
                print(f"  {ti.task_id:<22}{(ti.end_date - ti.start_date).total_seconds():6.2f} s")


if __name__ == "__main__":
    main()
