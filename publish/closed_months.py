"""What closed months publish (operations/month_close.py closes and reopens them).

A closed month's scorecards and KPI rows are published from its snapshot, not from the
build (`frozen_select`); each publish records how the freshly built KPI values differ
from the snapshots (`record_adjustments`) and publishes the close tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from psycopg import sql

from publish.tables import grant_bi_reader, replace_table
from warehouse.catalog import table_exists, typed_columns

# reporting table (and the mart of the same name) -> the snapshot that replaces its
# rows for closed months
FROZEN = {
    "agent_month_scorecards": "scorecard_snapshots",
    "agent_month_kpis": "kpi_snapshots",
}


def is_in_use(conn: psycopg.Connection) -> bool:
    """A month was closed once: publishes keep the close tables current."""
    return table_exists(conn, "closing.months")


def frozen_select(conn: psycopg.Connection, reporting_table: str) -> sql.Composable:
    """What the publish gate copies into reporting.<table>: the mart's rows of open months
    and the snapshot rows of closed months (a column the snapshot lacks is NULL)."""
    snapshot = FROZEN[reporting_table]
    mart_ref = sql.Identifier("marts", reporting_table)
    if not is_in_use(conn) or not table_exists(conn, f"closing.{snapshot}"):
        return sql.SQL("select * from {}").format(mart_ref)
    columns = typed_columns(conn, "marts", reporting_table)
    kept = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'closing' and table_name = %s",
            (snapshot,),
        ).fetchall()
    }
    frozen_columns = sql.SQL(", ").join(
        sql.SQL("snapshot.{}").format(sql.Identifier(n))
        if n in kept
        else sql.SQL("null::{} as {}").format(sql.SQL(t), sql.Identifier(n))
        for n, t in columns
    )
    return sql.SQL(
        "select * from {mart} where month_start not in"
        " (select month_start from closing.months where status = 'closed')"
        " union all"
        " select {columns} from closing.{snapshot} as snapshot"
        " join closing.months as closed on closed.month_start = snapshot.month_start"
        " and closed.snapshot_version = snapshot.snapshot_version and closed.status = 'closed'"
    ).format(mart=mart_ref, columns=frozen_columns, snapshot=sql.Identifier(snapshot))


def record_adjustments(conn: psycopg.Connection, run_id: str) -> int:
    """In the publish transaction: the current differences between the built KPI values
    and each closed month's snapshot. A difference seen before keeps when it was first
    seen; one that went away is dropped. Returns the number of open adjustments."""
    if not table_exists(conn, "closing.kpi_snapshots"):
        return 0
    now = datetime.now(UTC)
    conn.execute(
        "create temporary table current_adjustments on commit drop as"
        " with closed as (select month_start, snapshot_version from closing.months"
        "  where status = 'closed'),"
        " frozen as (select snapshot.* from closing.kpi_snapshots as snapshot"
        "  join closed using (month_start, snapshot_version)),"
        " built as (select kpis.*, closed.snapshot_version from marts.agent_month_kpis"
        "  as kpis join closed using (month_start))"
        " select coalesce(built.month_start, frozen.month_start) as month_start,"
        "  coalesce(built.snapshot_version, frozen.snapshot_version) as snapshot_version,"
        "  coalesce(built.agent_id, frozen.agent_id) as agent_id,"
        "  coalesce(built.kpi_code, frozen.kpi_code) as kpi_code,"
        "  frozen.kpi_value as closed_value, built.kpi_value as current_value"
        " from frozen full join built on built.month_start = frozen.month_start"
        "  and built.agent_id = frozen.agent_id and built.kpi_code = frozen.kpi_code"
        " where frozen.kpi_value is distinct from built.kpi_value"
    )
    conn.execute(
        "delete from closing.adjustments as kept where (month_start, snapshot_version) in"
        " (select month_start, snapshot_version from closing.months where status = 'closed')"
        " and not exists (select from current_adjustments as now"
        "  where now.month_start = kept.month_start and now.agent_id = kept.agent_id"
        "  and now.kpi_code = kept.kpi_code and now.snapshot_version = kept.snapshot_version)"
    )
    conn.execute(
        "insert into closing.adjustments select month_start, snapshot_version, agent_id,"
        " kpi_code, closed_value, current_value, %s, %s, %s, %s from current_adjustments"
        " on conflict (month_start, snapshot_version, agent_id, kpi_code)"
        " do update set current_value = excluded.current_value,"
        " last_seen_run = excluded.last_seen_run, last_seen_at = excluded.last_seen_at",
        (run_id, now, run_id, now),
    )
    return conn.execute(
        "select count(*) from closing.adjustments where (month_start, snapshot_version) in"
        " (select month_start, snapshot_version from closing.months where status = 'closed')"
    ).fetchone()[0]


def publish_close_tables(conn: psycopg.Connection) -> None:
    """reporting.month_closes and reporting.scorecard_adjustments (the open adjustments of
    closed months), replaced in the caller's transaction."""
    conn.execute("create schema if not exists reporting")
    replace_table(
        conn, "month_closes", sql.SQL("select * from closing.months"), ("closing", "months")
    )
    replace_table(
        conn,
        "scorecard_adjustments",
        sql.SQL(
            "select adjustments.* from closing.adjustments as adjustments"
            " join closing.months as closed on closed.month_start = adjustments.month_start"
            " and closed.snapshot_version = adjustments.snapshot_version"
            " and closed.status = 'closed'"
        ),
        ("closing", "adjustments"),
    )
    grant_bi_reader(conn)
