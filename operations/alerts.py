"""What happens when a task fails for good (after its retries): a log line that names the
DAG, run, task and error, a row in `audit.task_failures`, and, when ALERT_WEBHOOK_URL is
set, a JSON POST to it (a chat or paging webhook). A notification that cannot be
delivered is logged, never raised: it must not hide the original failure."""

from __future__ import annotations

import json
import logging
import os
import urllib.request

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


def record_failure(message: dict) -> None:
    """Keep the failure in `audit.task_failures` too, next to the audited runs (a run that
    failed before its audit, e.g. at an extract, is recorded there)."""
    from warehouse import lease
    from warehouse.connection import connect

    try:
        with connect() as conn:
            conn.execute("create schema if not exists audit")
            conn.execute(
                "create table if not exists audit.task_failures (dag_id text, run_id text,"
                " task_id text, try_number integer, error text,"
                " failed_at timestamptz not null default now())"
            )
            conn.execute(
                "insert into audit.task_failures (dag_id, run_id, task_id, try_number, error)"
                " values (%s, %s, %s, %s, %s)",
                tuple(message[k] for k in ("dag_id", "run_id", "task_id", "try_number", "error")),
            )
            # A failed run gives the warehouse back to the next run's build.
            if message["run_id"] and lease.release(conn, message["run_id"]):
                log.info("run %s released the warehouse lease", message["run_id"])
    except (psycopg.Error, OSError) as error:  # the warehouse may be what failed
        log.error("could not record the failure in audit.task_failures: %s", error)


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
