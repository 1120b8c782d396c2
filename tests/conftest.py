"""Test environment: a throw-away Airflow home, an embedded PostgreSQL (or WAREHOUSE_URL's
server) with a database of its own, and a random personal-data hashing key in a file.

Airflow reads its configuration when first imported, so the environment is set here,
before any test module imports it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from warehouse.local_secrets import read_or_create

REPO_ROOT = Path(__file__).resolve().parents[1]
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="ccp-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["DAILY_DAG_RETRIES"] = "0"
# A random key in a 0600 file of its own, made as `cli.environment` makes `.local/`'s: no
# other file the tests' runs write may hold it (tests/e2e/test_daily_dag.py greps them).
PII_HASH_KEY_FILE = Path(tempfile.mkdtemp(prefix="ccp-secrets-")) / "pii_hash_key"
os.environ["PII_HASH_KEY"] = read_or_create(PII_HASH_KEY_FILE)
os.environ["DBT_QUIET"] = "true"
os.environ["AUDIT_DIR"] = tempfile.mkdtemp(prefix="ccp-audit-")  # Data Docs of test runs
os.environ["BI_READER_PASSWORD"] = "test-only-bi-password"

WAREHOUSE_SCHEMAS = (
    "raw",
    "staging",
    "intermediate",
    "marts",
    "seeds",
    "reporting",
    "audit",
    "analytics",
    "closing",
)
TEST_DATABASE = "ccp_test"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    """The PostgreSQL server the tests use: WAREHOUSE_URL's, or an embedded one of their own
    (started as the project starts it: passwords required, the superuser's in the URL)."""
    given = os.environ.get("WAREHOUSE_URL")
    if given:
        yield given
        return
    from warehouse import embedded

    data_dir = tmp_path_factory.mktemp("pgdata")
    yield embedded.start(data_dir, cleanup_mode="delete")
    embedded.stop(data_dir)  # now, while pytest's log streams are still open, not at exit


@pytest.fixture(scope="session")
def warehouse_url(server_url) -> str:
    """A database of the tests' own on that server, dropped and made anew each session."""
    import psycopg

    from warehouse.connection import libpq_url

    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f"drop database if exists {TEST_DATABASE} with (force)")
        conn.execute(f"create database {TEST_DATABASE}")
    parsed = urlparse(libpq_url(server_url))
    url = urlunparse(parsed._replace(path=f"/{TEST_DATABASE}"))
    os.environ["WAREHOUSE_URL"] = url
    return url


def empty_warehouse(warehouse_url: str) -> str:
    """Drop every schema the pipeline writes (module fixtures start from nothing)."""
    from warehouse.connection import connect

    with connect(warehouse_url, autocommit=True) as conn:
        for schema in WAREHOUSE_SCHEMAS:
            conn.execute(f"drop schema if exists {schema} cascade")
    return warehouse_url


@pytest.fixture
def clean_warehouse(warehouse_url) -> str:
    """An empty warehouse: every schema the pipeline writes is dropped."""
    return empty_warehouse(warehouse_url)


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """Airflow's metadata database (SQLite in the throw-away home), migrated once."""
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        check=True,
        stdout=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    return _AIRFLOW_HOME
