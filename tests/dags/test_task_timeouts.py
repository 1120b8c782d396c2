"""No task runs for ever: every task of both DAGs has an execution_timeout, set by
TASK_TIMEOUT_MINUTES (dbt_build, which may wait for the warehouse lease, by
DBT_BUILD_TIMEOUT_MINUTES)."""

from datetime import timedelta

import pytest

from cli.daily_runs import load_close_dag, load_daily_dag


@pytest.mark.parametrize("load", [load_daily_dag, load_close_dag])
def test_every_task_has_an_execution_timeout(load, monkeypatch):
    monkeypatch.delenv("TASK_TIMEOUT_MINUTES", raising=False)
    monkeypatch.delenv("DBT_BUILD_TIMEOUT_MINUTES", raising=False)
    dag = load()
    timeouts = {task.task_id: task.execution_timeout for task in dag.tasks}
    expected = {task_id: timedelta(minutes=60) for task_id in timeouts}
    if "dbt_build" in expected:
        expected["dbt_build"] = timedelta(minutes=240)
    assert timeouts == expected


@pytest.mark.parametrize("load", [load_daily_dag, load_close_dag])
def test_the_timeouts_are_configured_by_the_environment(load, monkeypatch):
    monkeypatch.setenv("TASK_TIMEOUT_MINUTES", "7")
    monkeypatch.setenv("DBT_BUILD_TIMEOUT_MINUTES", "90")
    timeouts = {task.task_id: task.execution_timeout for task in load().tasks}
    assert timeouts.pop("dbt_build", timedelta(minutes=90)) == timedelta(minutes=90)
    assert set(timeouts.values()) == {timedelta(minutes=7)}
