"""Embedded PostgreSQL (the `pgserver` package) so a fresh machine needs no system server.

pgserver makes its clusters with `trust` authentication: any password is accepted for any
role. The server started here requires passwords instead (scram-sha-256, on the socket and
on TCP): its superuser `postgres` has a generated password, kept next to the data folder
in `<data folder>_superuser_password` (`.local/pgdata_superuser_password`, mode 0600), and
the URL `start` returns carries it, so every connection of the project (psycopg, dbt,
Great Expectations, Airflow tasks) uses it. A cluster made by an older version (trust) is
converted the next time it is started, running or not.

A new cluster runs with pgserver's trust rules between its initdb and the end of the first
`start`: it listens on no TCP address, only on a socket in the data folder (mode 0700), so
no other user can reach it meanwhile.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlparse, urlunparse

from warehouse.local_secrets import read_or_create

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT / ".local" / "pgdata"
SUPERUSER = "postgres"
# Replaces pgserver's trust rules: every connection needs the role's password.
PG_HBA = """\
# Written by warehouse/embedded.py: every connection needs the role's password.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  scram-sha-256
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
"""


def password_file(data_dir: Path) -> Path:
    """Where the superuser password of the server on `data_dir` is kept (mode 0600)."""
    return data_dir.with_name(f"{data_dir.name}_superuser_password")


def start(data_dir: Path = DEFAULT_DATA_DIR, cleanup_mode: str | None = None) -> str:
    """Start (or attach to) the embedded server and return its connection URL, with the
    superuser's password in it.

    By default the server is left running when this process exits so that Airflow tasks,
    dbt and the tests can share it; pgserver attaches to a server already running on the
    same folder. `cleanup_mode` is pgserver's ("stop", "delete": when `stop` is called or
    the process exits)."""
    import pgserver  # heavy import, only when the embedded default is used

    data_dir.mkdir(parents=True, exist_ok=True)
    password = read_or_create(password_file(data_dir))
    with _converting(data_dir):
        server = pgserver.get_server(str(data_dir), cleanup_mode=cleanup_mode)
        trusting = server.get_uri()  # pgserver's URL: no password
        if (data_dir / "pg_hba.conf").read_text() != PG_HBA:
            _require_passwords(data_dir, trusting, password)
    return with_password(trusting, SUPERUSER, password)


def stop(data_dir: Path) -> None:
    """Stop the server on `data_dir` (and delete the folder if `start` was given
    cleanup_mode="delete" in this process)."""
    import pgserver

    pgserver.get_server(str(data_dir)).cleanup()


def with_password(url: str, user: str, password: str) -> str:
    """`url` logging in as `user` with `password`."""
    parsed = urlparse(url)
    address = parsed.netloc.rpartition("@")[2]
    return urlunparse(parsed._replace(netloc=f"{quote(user)}:{quote(password, safe='')}@{address}"))


def _require_passwords(data_dir: Path, trusting: str, password: str) -> None:
    """Give the superuser its password, replace the trust rules and make the running server
    read them; return once it refuses a wrong password."""
    import psycopg
    from psycopg import sql

    # Under trust any password is accepted, so this also works for a server that already
    # requires this password but whose pg_hba.conf is not ours.
    with psycopg.connect(with_password(trusting, SUPERUSER, password), autocommit=True) as conn:
        conn.execute("set password_encryption = 'scram-sha-256'")
        conn.execute(
            sql.SQL("alter role {} password {}").format(
                sql.Identifier(SUPERUSER), sql.Literal(password)
            )
        )
        hba = data_dir / "pg_hba.conf"
        draft = hba.with_name("pg_hba.conf.draft")
        draft.write_text(PG_HBA)
        owner = hba.stat()
        draft.chmod(0o600)
        if hasattr(os, "chown"):  # as root, pgserver runs the server as its own user
            os.chown(draft, owner.st_uid, owner.st_gid)
        os.replace(draft, hba)
        errors = conn.execute("select error from pg_hba_file_rules where error is not null")
        if problems := [e for (e,) in errors.fetchall()]:
            raise RuntimeError(f"{hba}: {'; '.join(problems)}")
        conn.execute("select pg_reload_conf()")
    # The postmaster reloads on its own time: wait until a wrong password is refused.
    wrong = with_password(trusting, SUPERUSER, f"not-{password}")
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(wrong).close()
        except psycopg.OperationalError:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server on {data_dir} still accepts any password")
        time.sleep(0.05)
    psycopg.connect(with_password(trusting, SUPERUSER, password)).close()


@contextmanager
def _converting(data_dir: Path) -> Iterator[None]:
    """One process at a time starts the server on `data_dir` and converts it (two Airflow
    tasks starting at once on an old trust cluster)."""
    lock = data_dir.with_name(f".{data_dir.name}.lock")
    with open(lock, "a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)
