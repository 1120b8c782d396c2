"""The publish gate: the only code that writes the `reporting` schema BI tools read.

dbt builds `staging`, `intermediate` and `marts` out of BI's sight; `expectations.audit`
checks the run (the DAG publishes only after it passed); `publish` then copies the marts
into `reporting` in one transaction (`replace_table`), so a reader sees either the previous
published version or the new one, never a half-built one, and neither waits for the
other; it grants the BI role read access to `reporting` (and nothing else), and records
the publication in `audit`.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime

import psycopg
from psycopg import sql

from operations import month_close
from warehouse import lease, locks

log = logging.getLogger(__name__)

# reporting name -> mart it publishes
PUBLISHED = {
    "agents": "dim_agents",
    "agent_days": "fct_agent_days",
    "queue_days": "fct_queue_days",
    "agent_month_kpis": "fct_agent_month_kpis",
    "agent_month_scorecards": "fct_agent_month_scorecards",
    "agent_period_scorecards": "fct_agent_period_scorecards",
    "kpi_rollups": "fct_kpi_rollups",
    "qa_agent_weeks": "fct_qa_agent_weeks",
    "qa_team_months": "fct_qa_team_months",
}


def publish(conn: psycopg.Connection, run_id: str, business_date: date) -> dict[str, int]:
    counts: dict[str, int] = {}
    with conn.transaction():
        locks.take(conn, "publish_reporting")
        # No build while publishing, and only the build this run's audit passed.
        locks.take(conn, "dbt_build")
        _require_audited_build(conn, run_id)
        conn.execute("create schema if not exists reporting")
        conn.execute("create schema if not exists audit")
        conn.execute(
            "create table if not exists audit.publications ("
            " run_id text not null, business_date date not null, table_name text not null,"
            " row_count bigint not null, published_at timestamptz not null)"
        )
        published_at = datetime.now(UTC)
        for name, mart in PUBLISHED.items():
            # A closed month's scorecards come from its snapshot, not from this build.
            source = (
                month_close.frozen_select(conn, name)
                if name in month_close.FROZEN
                else sql.SQL("select * from marts.{}").format(sql.Identifier(mart))
            )
            row_count = replace_table(conn, name, source)
            conn.execute(
                "insert into audit.publications values (%s, %s, %s, %s, %s)",
                (run_id, business_date, name, row_count, published_at),
            )
            counts[name] = row_count
        if month_close.is_in_use(conn):
            counts["scorecard_adjustments"] = month_close.record_adjustments(conn, run_id)
            month_close.publish_close_tables(conn)
        grant_bi_reader(conn)
        lease.release(conn, run_id)  # published: the next run may build
    log.info("published %s for %s (run %s)", counts, business_date, run_id)
    return counts


class PublishBlocked(RuntimeError):
    """A reporting table must be recreated and readers kept it past the bound."""


def _lock_timeout() -> str:
    return f"{int(float(os.environ.get('PUBLISH_LOCK_TIMEOUT_SECONDS', '30')) * 1000)}ms"


def replace_table(conn: psycopg.Connection, name: str, source: sql.Composable) -> int:
    """Replace reporting.<name> with the rows of `source` in the caller's transaction;
    return its row count. The one way `reporting` is written.

    Readers never wait for it, nor it for them: the rows are deleted and inserted
    (row locks only), so a BI query, even a session idle in a transaction, goes on
    reading the previous rows until the publish commits. Only a new table or a changed
    shape (columns, types) needs DDL and so the table to itself: it waits for readers
    at most PUBLISH_LOCK_TIMEOUT_SECONDS (readers queue behind it no longer), then fails
    naming the sessions in the way; the task's retry tries again."""
    target = sql.Identifier("reporting", name)
    exists = conn.execute("select to_regclass(%s) is not null", (f"reporting.{name}",))
    current = sql.SQL("select * from {}").format(target)
    if exists.fetchone()[0] and _shape(conn, current) == _shape(conn, source):
        conn.execute(sql.SQL("delete from {}").format(target))
        return conn.execute(sql.SQL("insert into {} ").format(target) + source).rowcount
    staged = sql.Identifier("reporting", f"{name}__publishing")
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("set local lock_timeout = {}").format(sql.Literal(_lock_timeout()))
            )
            conn.execute(sql.SQL("drop table if exists {}").format(staged))
            conn.execute(sql.SQL("create table {} as ").format(staged) + source)
            conn.execute(sql.SQL("drop table if exists {}").format(target))
            conn.execute(
                sql.SQL("alter table {} rename to {}").format(staged, sql.Identifier(name))
            )
            conn.execute("set local lock_timeout = default")
    except psycopg.errors.LockNotAvailable:
        raise PublishBlocked(
            f"reporting.{name} changed shape and must be recreated, but sessions kept it"
            f" past {_lock_timeout()} ({_readers(conn, name)}); nothing was published"
        ) from None
    count = conn.execute(sql.SQL("select count(*) from {}").format(target)).fetchone()[0]
    return count


def _shape(conn: psycopg.Connection, query: sql.Composable) -> list[tuple]:
    """The columns a query gives: name, type, size, precision, scale."""
    cursor = conn.execute(sql.SQL("select * from ({}) as shape limit 0").format(query))
    return [
        (c.name, c.type_code, c.internal_size, c.precision, c.scale) for c in cursor.description
    ]


def _readers(conn: psycopg.Connection, name: str) -> str:
    rows = conn.execute(
        "select a.pid, a.usename, a.state, a.xact_start from pg_locks as l"
        " join pg_stat_activity as a on a.pid = l.pid"
        " where l.relation = to_regclass(%s) and l.granted and a.pid <> pg_backend_pid()",
        (f"reporting.{name}",),
    ).fetchall()
    return (
        "; ".join(
            f"pid {pid} of {user}, {state} since {since:%F %T%z}"
            for pid, user, state, since in rows
        )
        or "sessions since gone"
    )


def grant_bi_reader(conn: psycopg.Connection) -> None:
    """The read-only BI role (BI_READER_ROLE, default bi_reader) may read `reporting` and
    nothing else. It logs in with BI_READER_PASSWORD; without one it is created without
    login (a DBA can set its password). Tables are recreated on every publish, so the grant
    is renewed in the same transaction."""
    role = os.environ.get("BI_READER_ROLE", "bi_reader")
    password = os.environ.get("BI_READER_PASSWORD")
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    if password:
        conn.execute(
            sql.SQL("alter role {} login password {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    conn.execute(sql.SQL("grant usage on schema reporting to {}").format(sql.Identifier(role)))
    conn.execute(
        sql.SQL("grant select on all tables in schema reporting to {}").format(sql.Identifier(role))
    )


class PublishRefused(RuntimeError):
    """The marts are not the build this run's audit passed: nothing is published."""


def _require_audited_build(conn: psycopg.Connection, run_id: str) -> None:
    audited = conn.execute(
        "select audited_build from audit.runs where run_id = %s and outcome = 'passed'"
        " order by audited_at desc limit 1",
        (run_id,),
    ).fetchone()
    current = conn.execute("select run_id from marts.build_stamp").fetchone()
    if audited is None:
        raise PublishRefused(f"run {run_id} has no passed audit: nothing is published")
    if current is None or current[0] != audited[0]:
        raise PublishRefused(
            f"the marts were rebuilt by run {current[0] if current else '?'} after run"
            f" {run_id} audited build {audited[0]}: nothing is published; rerun the day"
        )
