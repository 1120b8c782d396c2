"""`make airflow`: Airflow 3 itself (api-server, scheduler, dag-processor, triggerer via
`airflow standalone`) with a LocalExecutor, its metadata in a database `airflow` of the
embedded PostgreSQL (or AIRFLOW_DATABASE_URL), the project's DAGs, and the simulated CRM
API serving `.local/sample` so the sample days can be triggered and backfilled in the UI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cli import environment

SERVER_HOME = environment.LOCAL_DIR / "airflow-server"


def metadata_url() -> str:
    """AIRFLOW_DATABASE_URL, or a database `airflow` next to the embedded warehouse."""
    given = os.environ.get("AIRFLOW_DATABASE_URL")
    if given:
        return given
    import psycopg

    from warehouse.connection import libpq_url

    warehouse = libpq_url(os.environ["WAREHOUSE_URL"])
    with psycopg.connect(warehouse, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = 'airflow'").fetchone():
            conn.execute("create database airflow")
    base, _, query = warehouse.partition("?")
    url = base.rsplit("/", 1)[0] + "/airflow" + (f"?{query}" if query else "")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def airflow_env(port: int = 8080) -> dict[str, str]:
    """The environment the local Airflow server and its CLI share."""
    # A server keeps the deployment's retries; the DAG starts paused so nothing runs for
    # days that have no deliveries until someone triggers or backfills one.
    os.environ.setdefault("DAILY_DAG_RETRIES", "3")
    os.environ.setdefault("AIRFLOW_HOME", str(SERVER_HOME))
    environment.prepare()
    url = metadata_url()
    bin_dir = Path(sys.executable).parent
    return dict(
        os.environ,
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=url,
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC=url,
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        AIRFLOW__API__PORT=str(port),
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    )


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def run_cli(arguments: list[str]) -> int:
    """`airflow <arguments>` against the local server's metadata database."""
    return subprocess.run([_airflow(), *arguments], env=airflow_env(), check=False).returncode


def serve(port: int) -> None:
    env = airflow_env(port)
    subprocess.run([_airflow(), "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    from simulator.crm_api import CrmApiServer

    crm_folder = Path(os.environ["SOURCE_LANDING_DIR"]) / "crm"
    print(
        f"Airflow UI: http://127.0.0.1:{port} (user admin; password in"
        f" {os.environ['AIRFLOW_HOME']}/simple_auth_manager_passwords.json.generated)",
        flush=True,
    )
    if not crm_folder.is_dir():
        print("no sample yet (make run creates .local/sample): the CRM API is not served")
        subprocess.run([_airflow(), "standalone"], env=env, check=False)
        return
    with CrmApiServer(crm_folder, port=int(os.environ.get("CRM_API_PORT", "8765"))):
        subprocess.run([_airflow(), "standalone"], env=env, check=False)
