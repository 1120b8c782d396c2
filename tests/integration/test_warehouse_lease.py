"""Concurrent runs: a run's build waits while another run is between its build and publish.

Without the lease, a second run's dbt build slips in between a run's audit and its
publish and the publish refuses (the race concurrent backfill runs can hit); these tests
try it against the real warehouse and the real dbt runner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from operations.alerts import record_failure
from warehouse import lease
from warehouse.connection import connect
from warehouse.dbt_build import DbtFailed, run_dbt

pytestmark = pytest.mark.integration


def _stamp() -> str | None:
    with connect() as conn:
        if not conn.execute("select to_regclass('marts.build_stamp') is not null").fetchone()[0]:
            return None
        row = conn.execute("select run_id from marts.build_stamp").fetchone()
        return row[0] if row else None


def test_a_second_runs_build_waits_until_the_first_run_publishes(clean_warehouse):
    started = time.monotonic()
    run_dbt(["ls", "--select", "agents", "--quiet"])  # dbt imported and parsed: warm
    unhindered = time.monotonic() - started
    with connect(autocommit=True) as first:
        lease.acquire(first, "run-A")  # run A built and is being audited
        finished = threading.Event()
        errors: list[Exception] = []

        def second_run_builds():
            try:
                # dbt's real entry point with a stamp, as the DAG's dbt_build calls it.
                run_dbt(["ls", "--select", "agents", "--quiet"], stamp="run-B")
            except (DbtFailed, psycopg.Error, lease.LeaseTimeout) as error:
                errors.append(error)  # re-raised in the main thread
            finished.set()

        thread = threading.Thread(target=second_run_builds)
        thread.start()
        # Long enough for B to have built twice over had it not waited.
        assert not finished.wait(max(5.0, 2 * unhindered))
        assert _stamp() is None
        assert lease.holder(first) == "run-A"
        with first.transaction():  # run A publishes, which gives the lease back
            assert lease.release(first, "run-A")
        assert finished.wait(120)
        thread.join()
    if errors:
        raise errors[0]
    assert _stamp() == "run-B"
    with connect() as conn:
        assert lease.holder(conn) == "run-B"  # until B publishes or fails


def test_the_holder_may_build_again_and_a_failed_run_gives_the_lease_back(clean_warehouse):
    with connect(autocommit=True) as conn:
        lease.acquire(conn, "run-A")
        lease.acquire(conn, "run-A", wait_seconds=0)  # a retry of A's build
        with pytest.raises(lease.LeaseTimeout, match="run-A"):
            lease.acquire(conn, "run-B", wait_seconds=0.5, poll=0.1)
    # The failure hook of any task of run A releases it.
    record_failure(
        {"dag_id": "contact_center_daily", "run_id": "run-A", "task_id": "audit", "try_number": 1}
        | {"error": "AuditFailed: ..."}
    )
    with connect(autocommit=True) as conn:
        assert lease.holder(conn) is None
        lease.acquire(conn, "run-B", wait_seconds=0)
        assert lease.holder(conn) == "run-B"


def test_a_lease_whose_holder_ended_is_taken_over_at_once(clean_warehouse):
    """The holder's session is gone and Airflow says its run failed: no wait at all."""
    with connect(autocommit=True) as dead:
        lease.acquire(dead, "run-dead", "contact_center_daily")
    asked = []

    def airflow(dag_id, run_id):
        asked.append((dag_id, run_id))
        return "failed"

    with connect(autocommit=True) as conn:
        started = time.monotonic()
        lease.acquire(conn, "run-B", "contact_center_daily", wait_seconds=0, run_state=airflow)
        assert time.monotonic() - started < 5
        assert lease.holder(conn) == "run-B"
    assert asked == [("contact_center_daily", "run-dead")]


def test_a_holder_airflow_cannot_vouch_for_is_taken_over_after_the_grace(
    clean_warehouse, monkeypatch, caplog
):
    """A run killed with its process stays "running" in Airflow's books: the lease goes
    once none of its sessions has been seen for the grace; until then the waiter logs who
    holds it, since when, and that it is not alive."""
    monkeypatch.setenv("WAREHOUSE_LEASE_GRACE_SECONDS", "1.5")
    with connect(autocommit=True) as killed:
        lease.acquire(killed, "run-killed", "contact_center_daily")
    caplog.set_level("INFO", logger="warehouse.lease")
    with connect(autocommit=True) as conn:
        started = time.monotonic()
        lease.acquire(conn, "run-B", wait_seconds=30, poll=0.1, run_state=lambda d, r: "running")
        waited = time.monotonic() - started
        assert lease.holder(conn) == "run-B"
    assert waited >= 1.5
    assert "held by run run-killed (contact_center_daily) since" in caplog.text
    assert "no session of it is connected" in caplog.text
    assert "taken over: no session of it for 2 s" in caplog.text


def test_a_living_holder_is_waited_for_and_a_taken_over_run_may_not_go_on(
    clean_warehouse, monkeypatch
):
    """Its session connected, the holder keeps the lease past any grace; once another run
    took it over (the holder looked dead), the holder's next task is refused."""
    monkeypatch.setenv("WAREHOUSE_LEASE_GRACE_SECONDS", "0")
    with connect(autocommit=True) as alive, connect(autocommit=True) as other:
        lease.acquire(alive, "run-A", "contact_center_daily")
        with pytest.raises(lease.LeaseTimeout, match="run-A .*its session is alive"):
            lease.acquire(other, "run-B", wait_seconds=0.5, poll=0.1, run_state=lambda d, r: None)
    with connect(autocommit=True) as conn:
        lease.acquire(conn, "run-B", wait_seconds=5, poll=0.1, run_state=lambda d, r: None)
    with connect() as audit, pytest.raises(lease.LeaseLost, match="taken over"):
        lease.attend(audit, "run-A")


def test_the_cli_shows_and_releases_the_lease(clean_warehouse, warehouse_url):
    with connect(autocommit=True) as conn:
        lease.acquire(conn, "run-stuck", "contact_center_daily")
    command = [sys.executable, "-m", "cli", "lease"]
    env = {**os.environ, "WAREHOUSE_URL": warehouse_url}
    shown = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    assert "held by run run-stuck (contact_center_daily) since" in shown.stdout
    assert "no session of it is connected" in shown.stdout
    released = subprocess.run(
        [*command, "--release"], capture_output=True, text=True, env=env, check=True
    )
    assert "released the lease of run run-stuck" in released.stdout
    with connect() as conn:
        assert lease.holder(conn) is None
    again = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    assert "nobody holds the warehouse lease" in again.stdout


def test_the_bi_role_cannot_take_the_pipelines_locks(clean_warehouse, warehouse_url):
    """The pipeline's locks are rows of audit.pipeline_locks: the BI role cannot see them."""
    from publish.tables import grant_bi_reader

    with connect() as conn:
        lease.acquire(conn, "run-A")  # the lock table exists
        conn.execute("create schema if not exists reporting")
        grant_bi_reader(conn)
        conn.execute("set local role bi_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select from audit.pipeline_locks where name = 'dbt_build' for update")


def test_a_failure_met_while_the_warehouse_is_down_is_recorded_when_it_is_back(
    clean_warehouse, warehouse_url, monkeypatch, tmp_path, caplog
):
    """The failure hook cannot reach the warehouse: the failure is in the task log and a
    local spool, and the next recorded failure writes both, each with its own time."""
    from operations.alerts import record_pending

    monkeypatch.setenv("FAILURE_SPOOL_PATH", str(tmp_path / "spool.jsonl"))
    failure = {"dag_id": "contact_center_daily", "task_id": "publish_reporting"}
    with monkeypatch.context() as down:
        down.setenv("WAREHOUSE_URL", "postgresql://nobody@127.0.0.1:9/nowhere")
        record_failure(failure | {"run_id": "run-down", "try_number": 1, "error": "Killed"})
    assert "the failure waits in" in caplog.text
    (spooled,) = [json.loads(line) for line in (tmp_path / "spool.jsonl").read_text().splitlines()]
    assert spooled["run_id"] == "run-down"
    record_failure(failure | {"run_id": "run-next", "try_number": 2, "error": "AuditFailed"})
    with connect() as conn:
        rows = conn.execute(
            "select run_id, error, failed_at from audit.task_failures order by failed_at"
        ).fetchall()
        assert record_pending(conn) == 0  # written once
    assert [(r[0], r[1]) for r in rows] == [("run-down", "Killed"), ("run-next", "AuditFailed")]
    assert rows[0][2].isoformat() == spooled["failed_at"].replace("Z", "+00:00")
    assert (tmp_path / "spool.jsonl").read_text() == ""
