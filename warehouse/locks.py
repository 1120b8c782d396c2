"""The pipeline's locks: rows of `audit.pipeline_locks`, locked FOR UPDATE.

Not advisory locks: any role may call pg_advisory_lock, so a BI session could take the
build's lock and hold it for as long as it liked. A row lock needs UPDATE on a table in
`audit`, which the BI role cannot even see. A lock is held by a transaction, and goes with
its session: a holder that dies releases it at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

_DDL = (
    "create schema if not exists audit;"
    " create table if not exists audit.pipeline_locks (name text primary key)"
)


def take(conn: psycopg.Connection, name: str) -> None:
    """Wait for and take lock `name` in `conn`'s open transaction (until it ends). Names
    in use: dbt_build (one dbt at a time per warehouse), publish_reporting, month_close,
    warehouse_lease (the lease's own book), raw_schema, landing/<source>/<day>."""
    if not conn.execute("select to_regclass('audit.pipeline_locks') is not null").fetchone()[0]:
        try:
            with conn.transaction():  # a savepoint: a first creation may race another
                conn.execute(_DDL)
        except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
            pass  # the other made it
    conn.execute(
        "insert into audit.pipeline_locks values (%s) on conflict (name) do nothing", (name,)
    )
    conn.execute("select from audit.pipeline_locks where name = %s for update", (name,))


@contextmanager
def held(name: str) -> Iterator[psycopg.Connection]:
    """Hold lock `name` on a session of its own for the `with` block: a transaction left
    open on purpose, so no idle-in-transaction timeout may end it."""
    from warehouse.connection import connect

    with connect() as session:
        session.execute("set idle_in_transaction_session_timeout = 0")
        session.commit()
        take(session, name)
        try:
            yield session
        finally:
            session.rollback()
