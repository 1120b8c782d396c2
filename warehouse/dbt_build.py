"""Run dbt (in-process, through dbt's Python entry point) against the warehouse."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from warehouse import build_window, lease, locks
from warehouse.connection import connect, dbt_env, session_options

log = logging.getLogger(__name__)
DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


class DbtFailed(RuntimeError):
    pass


# The daily build's window and run id, as JSON, read by macros/rebuild_window.sql.
BUILD_PARAMETERS = "CCP_DBT_BUILD"


def run_dbt(args: list[str], stamp: str | None = None, dag_id: str | None = None):
    """Invoke `dbt <args>` on the project and return dbt's result; raise DbtFailed naming
    the failing nodes. With `stamp` (the run's id, of DAG `dag_id`), the run takes the
    warehouse lease first, and a successful build is stamped in `marts.build_stamp` under
    the same lock, so the audit and the publish can tell which build they saw."""
    if not os.environ.get("PII_HASH_KEY"):
        raise DbtFailed("PII_HASH_KEY is not set: staging cannot hash personal data without it")
    os.environ.update(dbt_env())
    os.environ.pop(BUILD_PARAMETERS, None)  # only a stamped build has a window
    command = [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    # One dbt at a time per warehouse: two runs building the same models at once (a backfill
    # next to a scheduled run) collide on dbt's table swaps ("__dbt_backup already exists").
    with connect(autocommit=True) as lock:
        if stamp:
            # This run keeps the warehouse until its publish (or failure): no other run's
            # build may replace the marts between its audit and its publish.
            lease.acquire(lock, stamp, dag_id)
        with locks.held("dbt_build"):
            return _build(lock, command, args, stamp)


@contextmanager
def _hashing_key_in_session() -> Iterator[None]:
    """dbt's sessions get PII_HASH_KEY as the setting `ccp.pii_hash_key`, which
    macros/pii_hash.sql reads: through libpq's PGOPTIONS (dbt-postgres connects with
    psycopg2, i.e. libpq), for this dbt invocation only. The key is never rendered into
    SQL, so it is in none of dbt's files (compiled SQL, manifest, run results, logs)."""
    before = os.environ.get("PGOPTIONS")
    os.environ["PGOPTIONS"] = " ".join(filter(None, [before, session_options()]))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = before


def _build(lock: psycopg.Connection, command: list[str], args: list[str], stamp: str | None):
    from dbt.cli.main import dbtRunner

    if stamp:
        # A run's build recomputes what changed since the last one (build_window.py),
        # and marks the agent-days it rebuilt with the run's id. Given to the models in
        # the environment, not as --vars: dbt's partial parsing holds across runs.
        seen = build_window.landed(lock)
        window = build_window.variables(lock, seen)
        log.info("build window: %s", window)
        os.environ[BUILD_PARAMETERS] = json.dumps({**window, "run_id": stamp})
    try:
        with _hashing_key_in_session():
            result = dbtRunner().invoke(command)
    finally:
        os.environ.pop(BUILD_PARAMETERS, None)
    if not result.success and stamp:
        lease.release(lock, stamp)
    if result.success and stamp:
        with lock.transaction():
            lock.execute("create schema if not exists marts")
            lock.execute(
                "create table if not exists marts.build_stamp (run_id text not null,"
                " built_at timestamptz not null default now())"
            )
            lock.execute("delete from marts.build_stamp")
            lock.execute("insert into marts.build_stamp (run_id) values (%s)", (stamp,))
            build_window.record(lock, seen)
    if not result.success:
        failures = []
        for node in getattr(result.result, "results", None) or []:
            if str(node.status) in ("error", "fail"):
                failures.append(f"{node.node.unique_id}: {node.message}")
        detail = "; ".join(failures) or str(result.exception)
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}")
    return result
