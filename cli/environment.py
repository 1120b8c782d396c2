"""The local environment a command runs in: `.local/` for the embedded warehouse, Airflow's
home, the sample deliveries and the personal-data hashing key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

from warehouse.local_secrets import read_or_create

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCAL_DIR = REPO_ROOT / ".local"
BI_READER_PASSWORD_FILE = "bi_reader_password"


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
    os.environ.setdefault("PII_HASH_KEY", read_or_create(local_dir / "pii_hash_key"))
    if not os.environ.get("WAREHOUSE_URL"):
        from warehouse import embedded

        os.environ["WAREHOUSE_URL"] = embedded.start(local_dir / "pgdata")
        # The embedded server requires passwords: the BI role gets one of its own.
        if not os.environ.get("BI_READER_PASSWORD"):
            bi_password = read_or_create(local_dir / BI_READER_PASSWORD_FILE)
            os.environ["BI_READER_PASSWORD"] = bi_password


def masked(url: str) -> str:
    """`url` with its password, if any, shown as ****: for printing."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    user, _, address = parsed.netloc.rpartition("@")
    return urlunparse(parsed._replace(netloc=f"{user.partition(':')[0]}:****@{address}"))


def password_file_of(url: str, local_dir: Path = LOCAL_DIR) -> Path | None:
    """The file under `.local/` holding `url`'s password: the embedded server's superuser
    password file when `url` is the one `prepare` made (else None)."""
    from warehouse import embedded

    password = urlparse(url).password
    kept = embedded.password_file(local_dir / "pgdata")
    if password and kept.exists() and kept.read_text().strip() == unquote(password):
        return kept
    return None


def migrate_airflow_db() -> None:
    """Create or upgrade Airflow's metadata database (SQLite under AIRFLOW_HOME by default)."""
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        check=True,
        stdout=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
