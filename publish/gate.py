"""The publish gate: a run's audited build goes to `reporting`, all of it or nothing.

dbt builds `staging`, `intermediate` and `marts` out of BI's sight; `expectations.audit`
checks the run (the DAG publishes only after it passed); `publish` then copies each
published mart into the `reporting` table of the same name in one transaction
(`publish.tables.replace_table`), so a reader sees either the previous published version
or the new one, never a mix, and neither waits for the other. It grants the BI role read
access to `reporting` (and nothing else), stamps `reporting.publication` (what is
published, as of which business day) and records the publication in `audit`.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import psycopg
from psycopg import sql

from publish import closed_months
from publish.tables import describe, grant_bi_reader, replace_table
from warehouse import lease, locks

log = logging.getLogger(__name__)

# The marts published, each under its own name (dbt_project/models/marts: contracts,
# descriptions, indexes).
PUBLISHED = (
    "agents",
    "agent_days",
    "queue_days",
    "agent_month_kpis",
    "agent_month_scorecards",
    "agent_period_scorecards",
    "kpi_rollups",
    "qa_agent_weeks",
    "qa_team_months",
    "kpi_inputs",
)


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
        for name in PUBLISHED:
            # A closed month's scorecards come from its snapshot, not from this build.
            source = (
                closed_months.frozen_select(conn, name)
                if name in closed_months.FROZEN
                else sql.SQL("select * from marts.{}").format(sql.Identifier(name))
            )
            row_count = replace_table(conn, name, source, ("marts", name))
            conn.execute(
                "insert into audit.publications values (%s, %s, %s, %s, %s)",
                (run_id, business_date, name, row_count, published_at),
            )
            counts[name] = row_count
        if closed_months.is_in_use(conn):
            counts["scorecard_adjustments"] = closed_months.record_adjustments(conn, run_id)
            closed_months.publish_close_tables(conn)
        _stamp(conn, run_id, published_at)
        grant_bi_reader(conn)
        lease.release(conn, run_id)  # published: the next run may build
    log.info("published %s for %s (run %s)", counts, business_date, run_id)
    return counts


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


def _stamp(conn: psycopg.Connection, run_id: str, at: datetime) -> None:
    """reporting.publication: one row, what a dashboard shows as "data as of". A rerun of
    an earlier day publishes the later days too: the data runs through the latest day
    ever published, not the rerun's day."""
    replace_table(
        conn,
        "publication",
        sql.SQL(
            "select {}::text as run_id, max(business_date) as data_through,"
            " {}::timestamptz as published_at from audit.publications"
        ).format(sql.Literal(run_id), sql.Literal(at)),
    )
    describe(
        conn,
        "publication",
        {
            None: "The publication BI reads now: one row (replaced with every other"
            " reporting table, in the same transaction).",
            "run_id": "The Airflow run whose audited build is published.",
            "data_through": "The latest local business day published (data as of).",
            "published_at": "When it was published.",
        },
    )
