"""The warehouse lease: one run at a time between its dbt build and its publish.

The build, the audit and the publish are separate Airflow tasks, so a lock held by one
process cannot span them. Without more, a second run's build can slip in between a run's
audit and its publish (concurrent backfill runs do this): the publish then refuses marts
its audit never saw and the run fails. The lease is a row in the warehouse naming the run
that holds it: `dbt_build` takes it (waiting while another run holds it), the publish
gives it back, and so does any failure of the run (the failure hook, the audit and the
build). A run that dies without a word loses it after WAREHOUSE_LEASE_MINUTES.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime, timedelta

import psycopg

log = logging.getLogger(__name__)

_DDL = (
    "create schema if not exists audit;"
    " create table if not exists audit.warehouse_lease ("
    " only_row boolean primary key default true check (only_row),"
    " run_id text not null, acquired_at timestamptz not null, expires_at timestamptz not null)"
)
_LOCK = "hashtext('warehouse_lease')"


class LeaseTimeout(RuntimeError):
    """Another run kept the warehouse longer than this run was willing to wait."""


def _minutes() -> int:
    return int(os.environ.get("WAREHOUSE_LEASE_MINUTES", "60"))


def acquire(
    conn: psycopg.Connection, run_id: str, wait_seconds: float = 7200, poll: float = 1.0
) -> None:
    """Take the lease for `run_id` (again, if it holds it already), waiting for the holder."""
    deadline = time.monotonic() + wait_seconds
    logged = None
    while True:
        with conn.transaction():
            conn.execute(f"select pg_advisory_xact_lock({_LOCK})")
            conn.execute(_DDL)
            now = datetime.now(UTC)
            holder = conn.execute("select run_id, expires_at from audit.warehouse_lease").fetchone()
            if holder is None or holder[0] == run_id or holder[1] < now:
                if holder is not None and holder[0] != run_id:
                    log.warning("the lease of run %s expired at %s: taken over", *holder)
                conn.execute("delete from audit.warehouse_lease")
                conn.execute(
                    "insert into audit.warehouse_lease values (true, %s, %s, %s)",
                    (run_id, now, now + timedelta(minutes=_minutes())),
                )
                return
        if logged != holder[0]:
            log.info("waiting for run %s to publish before building (lease)", holder[0])
            logged = holder[0]
        if time.monotonic() > deadline:
            raise LeaseTimeout(
                f"run {holder[0]} has held the warehouse since before {wait_seconds:.0f} s ago"
            )
        time.sleep(poll)


def release(conn: psycopg.Connection, run_id: str) -> bool:
    """Give the lease back if `run_id` holds it (in the caller's transaction, if any)."""
    if not conn.execute("select to_regclass('audit.warehouse_lease') is not null").fetchone()[0]:
        return False
    return bool(
        conn.execute("delete from audit.warehouse_lease where run_id = %s", (run_id,)).rowcount
    )


def holder(conn: psycopg.Connection) -> str | None:
    if not conn.execute("select to_regclass('audit.warehouse_lease') is not null").fetchone()[0]:
        return None
    row = conn.execute("select run_id from audit.warehouse_lease").fetchone()
    return row[0] if row else None
