"""The warehouse lease: one run at a time between its dbt build and its publish.

The build, the audit and the publish are separate Airflow tasks, so a lock held by one
process cannot span them. Without more, a second run's build can slip in between a run's
audit and its publish (concurrent backfill runs do this): the publish then refuses marts
its audit never saw and the run fails. The lease is a row in the warehouse naming the run
that holds it: `dbt_build` takes it (waiting while another run holds it), the publish
gives it back, and so does any failure of the run (the failure hook, the audit and the
build).

A holder that died without a word is found out, not waited for: each of the holder's
tasks records its database session in the lease (`attend`). A waiting run takes the lease
over at once when the holder's session is gone and Airflow says the holder's run has
ended; when Airflow cannot say (a run killed with its process stays "running" in
Airflow's books), once no session of the holder has been seen for
WAREHOUSE_LEASE_GRACE_SECONDS (default 120: longer than the pause between two of a run's
tasks). A waiting run logs who holds the lease, since when, and whether it is alive;
`python -m cli lease` shows it and `python -m cli lease --release` gives it back.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from warehouse import locks

log = logging.getLogger(__name__)

_DDL = (
    "create schema if not exists audit;"
    " create table if not exists audit.warehouse_lease ("
    " only_row boolean primary key default true check (only_row),"
    " run_id text not null, acquired_at timestamptz not null);"
    # Older versions let a lease expire after an hour; a dead holder is now found out.
    " alter table audit.warehouse_lease drop column if exists expires_at;"
    # The holder's newest task session (pg_stat_activity's pid and backend_start).
    " alter table audit.warehouse_lease add column if not exists dag_id text;"
    " alter table audit.warehouse_lease add column if not exists holder_pid integer;"
    " alter table audit.warehouse_lease add column if not exists holder_since timestamptz;"
    " alter table audit.warehouse_lease add column if not exists attended_at timestamptz"
)
# Airflow's states of a run that will not come back to publish.
ENDED = ("success", "failed")
# (dag_id, run_id) -> the run's state in Airflow, or None when Airflow cannot say.
RunState = Callable[[str, str], str | None]


class LeaseTimeout(RuntimeError):
    """Another run kept the warehouse longer than this run was willing to wait."""


class LeaseLost(RuntimeError):
    """The lease this run held was taken over (its run looked dead): it must not publish."""


@dataclass(frozen=True)
class Holder:
    run_id: str
    dag_id: str | None
    acquired_at: datetime
    attended_at: datetime | None
    is_alive: bool  # its newest task session is still connected

    def describe(self) -> str:
        alive = "its session is alive" if self.is_alive else "no session of it is connected"
        return (
            f"run {self.run_id} ({self.dag_id or 'no DAG'}) since {self.acquired_at:%F %T%z},"
            f" last seen {self.attended_at:%F %T%z}: {alive}"
            if self.attended_at
            else f"run {self.run_id} since {self.acquired_at:%F %T%z}: {alive}"
        )


def _grace_seconds() -> float:
    return float(os.environ.get("WAREHOUSE_LEASE_GRACE_SECONDS", "120"))


def airflow_run_state(dag_id: str, run_id: str) -> str | None:
    """The run's state as Airflow's task runner reports it; None outside a task."""
    try:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        return str(RuntimeTaskInstance.get_dagrun_state(dag_id, run_id))
    except Exception as error:  # any failure (no task runner, no such run): cannot say
        log.debug("Airflow cannot say the state of run %s: %s", run_id, error)
        return None


def acquire(
    conn: psycopg.Connection,
    run_id: str,
    dag_id: str | None = None,
    wait_seconds: float = 7200,
    poll: float = 1.0,
    run_state: RunState = airflow_run_state,
) -> None:
    """Take the lease for `run_id` (again, if it holds it already), waiting for a living
    holder; the lease then names this session as the holder's."""
    deadline = time.monotonic() + wait_seconds
    logged = None
    # (holder run, its last attendance) -> when this waiter first saw it without a session
    gone_since: dict[tuple, float] = {}
    while True:
        with conn.transaction():
            locks.take(conn, "warehouse_lease")
            conn.execute(_DDL)
            holder = current(conn)
            takeover = None
            if holder is not None and holder.run_id != run_id and not holder.is_alive:
                state = run_state(holder.dag_id, holder.run_id) if holder.dag_id else None
                first_seen = gone_since.setdefault(
                    (holder.run_id, holder.attended_at), time.monotonic()
                )
                if state in ENDED:
                    takeover = f"its run has {state} in Airflow"
                elif time.monotonic() - first_seen >= _grace_seconds():
                    takeover = f"no session of it for {_grace_seconds():.0f} s"
            if holder is None or holder.run_id == run_id or takeover:
                if takeover:
                    log.warning("lease of %s taken over: %s", holder.describe(), takeover)
                conn.execute("delete from audit.warehouse_lease")
                now = datetime.now(UTC)
                conn.execute(
                    "insert into audit.warehouse_lease (only_row, run_id, acquired_at, dag_id)"
                    " values (true, %s, %s, %s)",
                    (run_id, now, dag_id),
                )
                _attend(conn, run_id)
                return
        if logged != holder:
            log.info("waiting for the warehouse lease, held by %s", holder.describe())
            logged = holder
        if time.monotonic() > deadline:
            raise LeaseTimeout(
                f"the warehouse lease is still held by {holder.describe()} after"
                f" {wait_seconds:.0f} s; `python -m cli lease --release` gives it back"
            )
        time.sleep(poll)


def attend(conn: psycopg.Connection, run_id: str) -> None:
    """Record this session as the holder's (a task of the holding run starts its work);
    raise LeaseLost when another run took the lease over."""
    with conn.transaction():
        locks.take(conn, "warehouse_lease")
        holder = current(conn)
        if holder is None or holder.run_id != run_id:
            raise LeaseLost(
                f"run {run_id} no longer holds the warehouse lease"
                + (f" ({holder.describe()})" if holder else "")
                + ": it was taken over while the run looked dead; rerun the day"
            )
        _attend(conn, run_id)


def _attend(conn: psycopg.Connection, run_id: str) -> None:
    conn.execute(
        "update audit.warehouse_lease set holder_pid = pg_backend_pid(),"
        " holder_since = (select backend_start from pg_stat_activity"
        " where pid = pg_backend_pid()), attended_at = now() where run_id = %s",
        (run_id,),
    )


def current(conn: psycopg.Connection) -> Holder | None:
    """Who holds the lease, and whether its newest task session is still connected."""
    if not conn.execute("select to_regclass('audit.warehouse_lease') is not null").fetchone()[0]:
        return None
    if not conn.execute(
        "select 1 from information_schema.columns where table_schema = 'audit'"
        " and table_name = 'warehouse_lease' and column_name = 'holder_pid'"
    ).fetchone():
        conn.execute(_DDL)  # a lease table of an older version
    row = conn.execute(
        "select run_id, dag_id, acquired_at, attended_at, exists (select from pg_stat_activity"
        " as a where a.pid = l.holder_pid and a.backend_start = l.holder_since)"
        " from audit.warehouse_lease as l"
    ).fetchone()
    return Holder(*row) if row else None


def release(conn: psycopg.Connection, run_id: str | None = None) -> bool:
    """Give the lease back if `run_id` holds it (any holder, when None), in the caller's
    transaction if any."""
    if not conn.execute("select to_regclass('audit.warehouse_lease') is not null").fetchone()[0]:
        return False
    if run_id is None:
        return bool(conn.execute("delete from audit.warehouse_lease").rowcount)
    return bool(
        conn.execute("delete from audit.warehouse_lease where run_id = %s", (run_id,)).rowcount
    )


def holder(conn: psycopg.Connection) -> str | None:
    found = current(conn)
    return found.run_id if found else None
