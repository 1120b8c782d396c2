"""Where the warehouse is: `WAREHOUSE_URL`, or the embedded PostgreSQL under `.local/`."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlparse

import psycopg


def warehouse_url() -> str:
    """The warehouse URL from the environment, starting the embedded server when unset."""
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        return url
    from warehouse import embedded

    url = embedded.start()
    os.environ["WAREHOUSE_URL"] = url
    return url


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(libpq_url(url or warehouse_url()), **kwargs)


def libpq_url(url: str) -> str:
    """The URL as libpq takes it (psycopg, dbt); accepts SQLAlchemy's driver suffix too."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def dbt_env(url: str | None = None) -> dict[str, str]:
    """The environment variables `dbt_project/profiles.yml` reads, from one URL.

    A Unix-socket URL (pgserver's `?host=/path`) becomes a host that is a directory, which
    libpq understands as a socket folder.
    """
    parsed = urlparse(libpq_url(url or warehouse_url()))
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or "localhost"])[0]
    return {
        "DBT_PG_HOST": host,
        "DBT_PG_PORT": str(parsed.port or query.get("port", ["5432"])[0]),
        "DBT_PG_USER": unquote(parsed.username or "postgres"),
        "DBT_PG_PASSWORD": unquote(parsed.password or ""),
        "DBT_PG_DBNAME": (parsed.path or "/postgres").lstrip("/") or "postgres",
    }


# The session setting that holds the personal-data hashing key (macros/pii_hash.sql).
HASH_KEY_SETTING = "ccp.pii_hash_key"


def session_options() -> str:
    """libpq options (PGOPTIONS) giving a session PII_HASH_KEY as `ccp.pii_hash_key`;
    libpq splits options at spaces, so spaces and backslashes in the key are escaped."""
    key = os.environ["PII_HASH_KEY"].replace("\\", "\\\\").replace(" ", "\\ ")
    return f"-c {HASH_KEY_SETTING}={key}"
