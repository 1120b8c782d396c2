"""The monthly close DAG: imports cleanly, runs on the close day and closes the month before."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.timetables.base import TimeRestriction

from cli.daily_runs import close_run_date
from operations.month_close import closing_month
from tests.conftest import REPO_ROOT

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def dag():
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags["contact_center_monthly_close"]


def test_checks_then_freezes_then_reports(dag):
    assert dag.get_task("check_month_ready").upstream_task_ids == set()
    assert dag.get_task("freeze_scorecards").upstream_task_ids == {"check_month_ready"}
    assert dag.get_task("write_monthly_report").upstream_task_ids == {"freeze_scorecards"}
    # A month that is not ready needs a person, not a retry.
    assert {task.retries for task in dag.tasks} == {0}
    assert dag.max_active_runs == 1 and dag.catchup is False


def test_runs_on_the_fifth_at_six_and_closes_the_month_before(dag):
    info = dag.timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(
            earliest=datetime(2026, 10, 20, tzinfo=TZ), latest=None, catchup=True
        ),
    )
    assert info.run_after == datetime(2026, 11, 5, 6, 0, tzinfo=TZ)
    assert closing_month(info.logical_date, "Asia/Shanghai").isoformat() == "2026-10-01"
    # January closes December of the year before; UTC logical dates are read locally.
    assert closing_month(datetime(2027, 1, 4, 22, 0, tzinfo=ZoneInfo("UTC")), "Asia/Shanghai") == (
        closing_month(datetime(2027, 1, 5, 6, 0, tzinfo=TZ), "Asia/Shanghai")
    )
    assert closing_month(datetime(2027, 1, 5, 6, 0, tzinfo=TZ), "Asia/Shanghai").isoformat() == (
        "2026-12-01"
    )


def test_the_cli_closes_a_month_with_the_run_of_its_close_day():
    assert close_run_date(datetime(2026, 12, 1).date(), 5, "Asia/Shanghai") == datetime(
        2027, 1, 5, 6, 0, tzinfo=TZ
    )
    assert close_run_date(datetime(2027, 1, 1).date(), 5, "Asia/Shanghai") == datetime(
        2027, 2, 5, 6, 0, tzinfo=TZ
    )
