"""The daily DAG: imports cleanly, has the intended shape, and owns one real local day."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.timetables.base import TimeRestriction

from extractors.batch import business_day
from operations.alerts import notify_failure
from tests.conftest import REPO_ROOT

TZ = ZoneInfo("Asia/Shanghai")
EXTRACTS = {
    "extract_call_center",
    "extract_crm",
    "extract_qa",
    "extract_survey",
    "extract_supervisor",
}


@pytest.fixture(scope="module")
def dag():
    with pytest.MonkeyPatch.context() as env:
        env.delenv("DAILY_DAG_RETRIES", raising=False)  # the defaults a deployment gets
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags["contact_center_daily"]


def test_the_extracts_run_in_parallel_then_dbt_then_audit_then_publish(dag):
    assert set(dag.task_ids) == EXTRACTS | {"dbt_build", "audit", "publish_reporting"}
    for task_id in EXTRACTS:
        assert dag.get_task(task_id).upstream_task_ids == set()
    assert dag.get_task("dbt_build").upstream_task_ids == EXTRACTS
    assert dag.get_task("audit").upstream_task_ids == {"dbt_build"}
    assert dag.get_task("publish_reporting").upstream_task_ids == {"audit"}
    # A failed audit is not retried: the data, not the machine, is wrong.
    assert dag.get_task("audit").retries == 0
    # A task that fails for good is logged and posted to ALERT_WEBHOOK_URL when set.
    for task in dag.tasks:
        assert (
            task.on_failure_callback == [notify_failure]
            or task.on_failure_callback == notify_failure
        )
    # A source the center does not have is skipped; the build still runs, a failure stops it.
    assert dag.get_task("dbt_build").trigger_rule == "none_failed_min_one_success"
    # One build at a time across runs: the others wait in the scheduler for the lease.
    assert dag.get_task("dbt_build").max_active_tis_per_dag == 1


def test_operational_settings(dag):
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert {"contact-center", "scorecard"} <= set(dag.tags)
    assert "business day" in dag.doc_md
    for task_id in EXTRACTS:
        task = dag.get_task(task_id)
        assert task.retries == 3
        assert task.retry_delay == timedelta(minutes=5)
        assert task.retry_exponential_backoff


def test_a_scheduled_run_owns_one_whole_local_day(dag):
    info = dag.timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(
            earliest=datetime(2026, 10, 1, tzinfo=TZ), latest=None, catchup=True
        ),
    )
    start, end = info.data_interval.start, info.data_interval.end
    assert start == datetime(2026, 10, 1, tzinfo=TZ) and end == datetime(2026, 10, 2, tzinfo=TZ)
    assert end - start == timedelta(days=1)
    assert info.run_after == end  # the day is run once it is over
    assert business_day(start, end, "Asia/Shanghai").isoformat() == "2026-10-01"


def test_a_manual_run_owns_the_day_before_it(dag):
    interval = dag.timetable.infer_manual_data_interval(
        run_after=datetime(2026, 10, 6, 9, 15, tzinfo=TZ)
    )
    assert interval.start == datetime(2026, 10, 5, tzinfo=TZ)
    assert interval.end == datetime(2026, 10, 6, tzinfo=TZ)
