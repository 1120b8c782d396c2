"""The publish gate: the only code that writes the `reporting` schema BI tools read.

dbt builds `staging`, `intermediate` and `marts` out of BI's sight; `publish` copies the
marts into `reporting` in one transaction, so a reader sees either the previous published
version or the new one, never a half-built one, and records the publication in `audit`.
(The audit step that must pass before publishing comes with the quality-gate issue; this
is where it plugs in.)
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import psycopg
from psycopg import sql

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
        conn.execute("select pg_advisory_xact_lock(hashtext('publish_reporting'))")
        conn.execute("create schema if not exists reporting")
        conn.execute("create schema if not exists audit")
        conn.execute(
            "create table if not exists audit.publications ("
            " run_id text not null, business_date date not null, table_name text not null,"
            " row_count bigint not null, published_at timestamptz not null)"
        )
        published_at = datetime.now(UTC)
        for name, mart in PUBLISHED.items():
            staged = sql.Identifier(f"{name}__publishing")
            conn.execute(sql.SQL("drop table if exists reporting.{}").format(staged))
            conn.execute(
                sql.SQL("create table reporting.{} as select * from marts.{}").format(
                    staged, sql.Identifier(mart)
                )
            )
            conn.execute(sql.SQL("drop table if exists reporting.{}").format(sql.Identifier(name)))
            conn.execute(
                sql.SQL("alter table reporting.{} rename to {}").format(
                    staged, sql.Identifier(name)
                )
            )
            row_count = conn.execute(
                sql.SQL("select count(*) from reporting.{}").format(sql.Identifier(name))
            ).fetchone()[0]
            conn.execute(
                "insert into audit.publications values (%s, %s, %s, %s, %s)",
                (run_id, business_date, name, row_count, published_at),
            )
            counts[name] = row_count
    log.info("published %s for %s (run %s)", counts, business_date, run_id)
    return counts
