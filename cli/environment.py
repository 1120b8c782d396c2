"""The local environment a command runs in: `.local/` for the embedded warehouse, Airflow's
home, the sample deliveries and the personal-data hashing key."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCAL_DIR = REPO_ROOT / ".local"


def prepare(local_dir: Path = LOCAL_DIR) -> None:
    """Set the environment Airflow, dbt and the extractors read (before importing airflow)."""
    local_dir.mkdir(parents=True, exist_ok=True)
    airflow_home = local_dir / "airflow"
    os.environ.setdefault("AIRFLOW_HOME", str(airflow_home))
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO_ROOT / "dags"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("DAILY_DAG_RETRIES", "0")  # a local run fails fast and says why
    os.environ.setdefault("DBT_QUIET", "true")  # the CLI prints its own progress
    os.environ.setdefault("SOURCE_LANDING_DIR", str(local_dir / "sample"))
    os.environ.setdefault("PII_HASH_KEY", _local_secret(local_dir / "pii_hash_key"))
    if not os.environ.get("WAREHOUSE_URL"):
        from warehouse import embedded

        os.environ["WAREHOUSE_URL"] = embedded.start(local_dir / "pgdata")


def _local_secret(path: Path) -> str:
    """A per-checkout random key, so nothing secret is ever in the repository."""
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def migrate_airflow_db() -> None:
    """Create or upgrade Airflow's metadata database (SQLite under AIRFLOW_HOME by default)."""
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        check=True,
        stdout=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
