"""Run dbt (in-process, through dbt's Python entry point) against the warehouse."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from warehouse.connection import connect, dbt_env

log = logging.getLogger(__name__)
DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


class DbtFailed(RuntimeError):
    pass


def run_dbt(args: list[str], variables: dict | None = None):
    """Invoke `dbt <args>` on the project and return dbt's result; raise DbtFailed naming
    the failing nodes."""
    from dbt.cli.main import dbtRunner

    if not os.environ.get("PII_HASH_KEY"):
        raise DbtFailed("PII_HASH_KEY is not set: staging cannot hash personal data without it")
    os.environ.update(dbt_env())
    command = [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    if variables:
        command += ["--vars", json.dumps(variables)]
    # One dbt at a time per warehouse: two runs building the same models at once (a backfill
    # next to a scheduled run) collide on dbt's table swaps ("__dbt_backup already exists").
    with connect(autocommit=True) as lock:
        lock.execute("select pg_advisory_lock(hashtext('dbt_build'))")
        result = dbtRunner().invoke(command)
    if not result.success:
        failures = []
        for node in getattr(result.result, "results", None) or []:
            if str(node.status) in ("error", "fail"):
                failures.append(f"{node.node.unique_id}: {node.message}")
        detail = "; ".join(failures) or str(result.exception)
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}")
    return result
