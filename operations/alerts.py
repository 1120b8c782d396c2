"""What happens when a task fails for good (after its retries): a log line that names the
DAG, run, task and error, a row in `audit.task_failures`, and, when ALERT_WEBHOOK_URL is
set, a JSON POST to it (a chat or paging webhook). A notification that cannot be
delivered is logged, never raised: it must not hide the original failure.

When the warehouse is what failed, the row waits in a local file (FAILURE_SPOOL_PATH,
default `$AIRFLOW_HOME/undelivered_task_failures.jsonl`) and is written, with its own
time, by the next failure recorded or the next audit (`record_pending`)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import psycopg

log = logging.getLogger(__name__)


def failure_message(context: dict) -> dict:
    ti = context.get("task_instance") or context.get("ti")
    run = context.get("dag_run")
    return {
        "event": "task_failed",
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(run, "run_id", None) or getattr(ti, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "error": str(context.get("exception") or ""),
    }


_DDL = (
    "create schema if not exists audit;"
    " create table if not exists audit.task_failures (dag_id text, run_id text,"
    " task_id text, try_number integer, error text,"
    " failed_at timestamptz not null default now())"
)
_FIELDS = ("dag_id", "run_id", "task_id", "try_number", "error", "failed_at")


def spool_path() -> Path:
    default = Path(os.environ.get("AIRFLOW_HOME", ".")) / "undelivered_task_failures.jsonl"
    return Path(os.environ.get("FAILURE_SPOOL_PATH", str(default)))


def record_failure(message: dict) -> None:
    """Keep the failure in `audit.task_failures` too, next to the audited runs (a run that
    failed before its audit, e.g. at an extract, is recorded there); spooled when the
    warehouse cannot take it."""
    from warehouse.connection import connect

    message = {**message, "failed_at": message.get("failed_at") or datetime.now(UTC).isoformat()}
    try:
        with connect() as conn:
            _insert(conn, message)
            record_pending(conn)
    except (psycopg.Error, OSError) as error:  # the warehouse may be what failed
        log.error("could not record the failure in audit.task_failures: %s", error)
        with _spool() as spool:
            spool.seek(0, os.SEEK_END)
            spool.write(json.dumps(message) + "\n")
        log.error("the failure waits in %s for the warehouse to be back", spool_path())


def record_pending(conn: psycopg.Connection) -> int:
    """Write the spooled failures into `audit.task_failures` (in `conn`, committed)."""
    if not spool_path().exists():
        return 0
    with _spool() as spool:
        spool.seek(0)
        pending = [json.loads(line) for line in spool if line.strip()]
        for message in pending:
            # Late: the run may since have been cleared and be running again; a dead
            # holder's lease is taken over anyway (warehouse/lease.py).
            _insert(conn, message, release=False)
        conn.commit()
        spool.truncate(0)
    if pending:
        log.info("recorded %d task failures spooled while the warehouse was away", len(pending))
    return len(pending)


@contextmanager
def _spool() -> Iterator[TextIO]:
    """The spool file, opened and locked (one writer or flusher at a time)."""
    path = spool_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield handle


def _insert(conn: psycopg.Connection, message: dict, release: bool = True) -> None:
    from warehouse import lease

    conn.execute(_DDL)
    conn.execute(
        "insert into audit.task_failures (dag_id, run_id, task_id, try_number, error, failed_at)"
        " values (%s, %s, %s, %s, %s, %s)",
        tuple(message.get(k) for k in _FIELDS),
    )
    # A failed run gives the warehouse back to the next run's build.
    if release and message.get("run_id") and lease.release(conn, message["run_id"]):
        log.info("run %s released the warehouse lease", message["run_id"])
    conn.commit()


def notify_failure(context: dict) -> None:
    message = failure_message(context)
    log.error("pipeline failure: %s", json.dumps(message))
    record_failure(message)
    url = os.environ.get("ALERT_WEBHOOK_URL")
    if not url:
        return
    request = urllib.request.Request(
        url,
        data=json.dumps(message).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except OSError as error:
        log.error("could not deliver the failure notification to the webhook: %s", error)
