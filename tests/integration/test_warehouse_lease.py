"""Concurrent runs: a run's build waits while another run is between its build and publish.

Without the lease, a second run's dbt build slips in between a run's audit and its
publish and the publish refuses (the race concurrent backfill runs can hit); these tests
try it against the real warehouse and the real dbt runner.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

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
    run_dbt(["ls", "--select", "dim_agents", "--quiet"])  # dbt imported and parsed: warm
    unhindered = time.monotonic() - started
    with connect(autocommit=True) as first:
        lease.acquire(first, "run-A")  # run A built and is being audited
        finished = threading.Event()
        errors: list[Exception] = []

        def second_run_builds():
            try:
                # dbt's real entry point with a stamp, as the DAG's dbt_build calls it.
                run_dbt(["ls", "--select", "dim_agents", "--quiet"], stamp="run-B")
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


def test_a_lease_left_by_a_run_that_died_expires(clean_warehouse):
    with connect(autocommit=True) as conn:
        lease.acquire(conn, "run-dead")
        conn.execute(
            "update audit.warehouse_lease set expires_at = %s",
            (datetime.now(UTC) - timedelta(seconds=1),),
        )
        started = time.monotonic()
        lease.acquire(conn, "run-B", wait_seconds=0)
        assert time.monotonic() - started < 5
        assert lease.holder(conn) == "run-B"
