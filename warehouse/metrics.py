"""MetricFlow, the dbt semantic layer's engine, on the project against the warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from warehouse.connection import dbt_env
from warehouse.dbt_build import DBT_PROJECT_DIR


def mf(args: list[str], **run_options) -> subprocess.CompletedProcess:
    """Run `mf <args>` (MetricFlow's CLI) in the dbt project with the warehouse's
    connection. It reads target/semantic_manifest.json, which every dbt parse or build
    writes (the metrics: models/marts/_marts__semantic.yml)."""
    command = [str(Path(sys.executable).with_name("mf")), *args]
    env = {**os.environ, **dbt_env(), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, check=False, **run_options)
