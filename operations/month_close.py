"""Monthly close: the scorecards that pay bonuses are frozen once a month is complete.

- `check_ready` refuses to close a month unless every day of it was landed from every
  enabled source and published after that, every agent who worked in the month has
  the supervisor's monthly inputs, and the whole history reconciles (staging keeps one
  row per landed key, the agent-day totals count the staged records: the daily audit
  checks only the keys each run landed).
- `close_month` copies the month's published scorecards and KPI rows into a numbered
  snapshot (`closing.scorecard_snapshots`, `closing.kpi_snapshots`). From then on
  `reporting` shows the snapshot for that month, whatever later runs compute
  (`publish.closed_months`): weights or targets changed later rebuild
  open months only.
- Late data for a closed month does not change it: each publish records the differences
  between the freshly built KPI values and the snapshot as adjustments (agent, KPI, closed
  value, current value) in `closing.adjustments` (`reporting.scorecard_adjustments`).
- `reopen_month` (python -m cli reopen-month) reopens a month on purpose, with who and why;
  the next publish shows its current figures, and closing it again takes a new snapshot.
  Every close, refusal and reopen is an event in `audit.month_close_events`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg
import psycopg.rows
from psycopg import sql

from expectations.audit import reconciliation_checks
from publish.closed_months import FROZEN, publish_close_tables
from warehouse import locks
from warehouse.catalog import table_exists, typed_columns

log = logging.getLogger(__name__)

_DDL = """
create schema if not exists closing;
create schema if not exists audit;
create table if not exists closing.months (
    month_start date primary key,
    status text not null check (status in ('closed', 'reopened')),
    snapshot_version integer not null,
    changed_at timestamptz not null,
    changed_by text not null,
    run_id text,
    report_dir text
);
create table if not exists closing.adjustments (
    month_start date not null,
    snapshot_version integer not null,
    agent_id text not null,
    kpi_code text not null,
    closed_value numeric,
    current_value numeric,
    first_seen_run text not null,
    first_seen_at timestamptz not null,
    last_seen_run text not null,
    last_seen_at timestamptz not null,
    primary key (month_start, snapshot_version, agent_id, kpi_code)
);
create table if not exists audit.month_close_events (
    month_start date not null,
    action text not null,
    snapshot_version integer,
    actor text not null,
    reason text,
    run_id text,
    details jsonb not null default '{}',
    happened_at timestamptz not null
);
create table if not exists audit.monthly_reports (
    month_start date not null,
    snapshot_version integer not null,
    report_dir text not null,
    files jsonb not null,
    run_id text,
    written_at timestamptz not null
);
"""


class MonthNotReady(RuntimeError):
    """The month cannot be closed yet: the message lists what is missing."""


class MonthStateError(RuntimeError):
    """Reopening a month that is not closed, or closing a month in the future."""


@dataclass(frozen=True)
class Readiness:
    month_start: date
    missing_days: dict[str, list[str]]  # source -> days not landed or not published since
    agents_without_inputs: list[str]
    # Whole-history reconciliation checks that failed (the daily audit reconciles only the
    # keys each run landed): staging or the agent-days drifted from raw.
    unreconciled: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.missing_days and not self.agents_without_inputs and not self.unreconciled

    def describe(self) -> str:
        parts = [f"{source}: {_ranges(days)}" for source, days in self.missing_days.items()]
        if self.agents_without_inputs:
            parts.append(
                f"no supervisor inputs for {len(self.agents_without_inputs)} agents who worked:"
                f" {', '.join(self.agents_without_inputs)}"
            )
        if self.unreconciled:
            parts.append(
                "the warehouse does not reconcile with raw (rebuild it: `python -m cli dbt"
                " build --full-refresh`, then rerun the last day): " + "; ".join(self.unreconciled)
            )
        return f"{self.month_start:%Y-%m} cannot be closed: " + "; ".join(parts)


def _ranges(findings: list[str]) -> str:
    """'2026-11-07 not landed', '2026-11-08 not landed' -> '2026-11-07..2026-11-08 not landed'."""
    runs: list[list] = []
    for finding in findings:
        day, what = date.fromisoformat(finding[:10]), finding[11:]
        if runs and runs[-1][2] == what and runs[-1][1] + timedelta(days=1) == day:
            runs[-1][1] = day
        else:
            runs.append([day, day, what])
    return ", ".join(
        f"{first}{'' if first == last else f'..{last}'} {what}" for first, last, what in runs
    )


def ensure_schema(conn: psycopg.Connection) -> None:
    with conn.transaction():
        locks.take(conn, "month_close")
        conn.execute(_DDL)


def month_of(text: str | date) -> date:
    day = text if isinstance(text, date) else date.fromisoformat(f"{text}-01")
    return day.replace(day=1)


def _month_days(month_start: date) -> list[date]:
    following = (month_start + timedelta(days=32)).replace(day=1)
    return [month_start + timedelta(days=i) for i in range((following - month_start).days)]


def check_ready(conn: psycopg.Connection, month_start: date, sources: tuple[str, ...]) -> Readiness:
    """Every day of the month landed from every enabled source and published after it was
    landed (a day landed again later must have been published again), and supervisor
    inputs for every agent with a working day in the month."""
    days = _month_days(month_start)
    last_published = None
    if table_exists(conn, "audit.publications"):
        last_published = conn.execute(
            "select max(published_at) from audit.publications"
        ).fetchone()[0]
    landed = {}
    if table_exists(conn, "raw.batch_manifest"):
        landed = {
            (source, day): extracted
            for source, day, extracted in conn.execute(
                "select source_system, batch_date, max(extracted_at) from raw.batch_manifest"
                " where batch_date between %s and %s group by source_system, batch_date",
                (days[0], days[-1]),
            ).fetchall()
        }
    missing: dict[str, list[str]] = {}
    for source in sources:
        for day in days:
            extracted = landed.get((source, day))
            if extracted is None:
                missing.setdefault(source, []).append(f"{day} not landed")
            elif last_published is None or extracted > last_published:
                missing.setdefault(source, []).append(f"{day} not published")
    without_inputs: list[str] = []
    if "supervisor" in sources and table_exists(conn, "reporting.agent_days"):
        without_inputs = [
            r[0]
            for r in conn.execute(
                "select distinct days.agent_id from reporting.agent_days as days"
                " where days.month_start = %s and days.is_working_day and not exists ("
                "  select from staging.stg_supervisor__inputs as inputs"
                "  where inputs.agent_id = days.agent_id and inputs.month_start = %s)"
                " order by 1",
                (month_start, month_start),
            ).fetchall()
        ]
    unreconciled = [
        check.describe() for check in reconciliation_checks(conn) if check.fails_the_run
    ]
    return Readiness(month_start, missing, without_inputs, unreconciled)


def _event(conn, month_start, action, actor, version=None, reason=None, run_id=None, **details):
    conn.execute(
        "insert into audit.month_close_events (month_start, action, snapshot_version, actor,"
        " reason, run_id, details, happened_at) values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            month_start,
            action,
            version,
            actor,
            reason,
            run_id,
            json.dumps(details),
            datetime.now(UTC),
        ),
    )


def status(conn: psycopg.Connection, month_start: date) -> tuple[str, int] | None:
    row = conn.execute(
        "select status, snapshot_version from closing.months where month_start = %s",
        (month_start,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def refuse(conn: psycopg.Connection, readiness: Readiness, actor: str, run_id: str | None) -> None:
    """Record the refusal (committed) and raise MonthNotReady."""
    ensure_schema(conn)
    with conn.transaction():
        _event(
            conn,
            readiness.month_start,
            "close_refused",
            actor,
            run_id=run_id,
            missing_days=readiness.missing_days,
            agents_without_inputs=readiness.agents_without_inputs,
            unreconciled=readiness.unreconciled,
        )
    conn.commit()  # the refusal stays on record although the run fails
    raise MonthNotReady(readiness.describe())


def _copy_snapshot(
    conn, reporting_table: str, snapshot: str, month_start: date, version: int
) -> int:
    """Copy the month's published rows into closing.<snapshot> under `version`; a column the
    mart gained since the first close is added to the snapshot table."""
    source = sql.Identifier("reporting", reporting_table)
    target = sql.Identifier("closing", snapshot)
    if not table_exists(conn, f"closing.{snapshot}"):
        conn.execute(
            sql.SQL(
                "create table {} as select 0 as snapshot_version, * from {} with no data"
            ).format(target, source)
        )
    columns = typed_columns(conn, "reporting", reporting_table)
    for name, type_ in columns:
        conn.execute(
            sql.SQL("alter table {} add column if not exists {} {}").format(
                target, sql.Identifier(name), sql.SQL(type_)
            )
        )
    names = sql.SQL(", ").join(sql.Identifier(n) for n, _ in columns)
    return conn.execute(
        sql.SQL(
            "insert into {} (snapshot_version, {}) select %s, {} from {} where month_start = %s"
        ).format(target, names, names, source),
        (version, month_start),
    ).rowcount


def close_month(
    conn: psycopg.Connection, month_start: date, actor: str, run_id: str | None = None
) -> int:
    """Freeze the month's published scorecards; return the snapshot version. Closing a
    month that is closed changes nothing (a rerun of the close)."""
    ensure_schema(conn)
    with conn.transaction():
        locks.take(conn, "month_close")
        # No publish may replace `reporting` while it is copied.
        locks.take(conn, "publish_reporting")
        current = status(conn, month_start)
        if current and current[0] == "closed":
            log.info("%s is already closed (snapshot %s)", month_start, current[1])
            return current[1]
        version = (current[1] if current else 0) + 1
        counts = {
            table: _copy_snapshot(conn, table, snapshot, month_start, version)
            for table, snapshot in FROZEN.items()
        }
        if not counts["agent_month_scorecards"]:
            raise MonthNotReady(f"{month_start:%Y-%m} has no published scorecards to freeze")
        conn.execute(
            "insert into closing.months values (%s, 'closed', %s, %s, %s, %s, null)"
            " on conflict (month_start) do update set status = 'closed',"
            " snapshot_version = excluded.snapshot_version, changed_at = excluded.changed_at,"
            " changed_by = excluded.changed_by, run_id = excluded.run_id, report_dir = null",
            (month_start, version, datetime.now(UTC), actor, run_id),
        )
        _event(conn, month_start, "close", actor, version, run_id=run_id, rows=counts)
        publish_close_tables(conn)
    log.info("closed %s: snapshot %s (%s)", month_start, version, counts)
    return version


def reopen_month(conn: psycopg.Connection, month_start: date, actor: str, reason: str) -> int:
    """Reopen a closed month on purpose: the next publish shows its current figures and
    stops reporting adjustments for it; closing it again takes a new snapshot."""
    if not reason.strip():
        raise MonthStateError("a reason is required to reopen a month")
    ensure_schema(conn)
    with conn.transaction():
        locks.take(conn, "month_close")
        locks.take(conn, "publish_reporting")
        current = status(conn, month_start)
        if not current or current[0] != "closed":
            raise MonthStateError(f"{month_start:%Y-%m} is not closed: nothing to reopen")
        pending = conn.execute(
            "select count(*) from closing.adjustments where month_start = %s"
            " and snapshot_version = %s",
            (month_start, current[1]),
        ).fetchone()[0]
        conn.execute(
            "update closing.months set status = 'reopened', changed_at = %s, changed_by = %s,"
            " run_id = null where month_start = %s",
            (datetime.now(UTC), actor, month_start),
        )
        _event(conn, month_start, "reopen", actor, current[1], reason, adjustments_pending=pending)
        publish_close_tables(conn)
    return current[1]


def record_report(conn, month_start: date, version: int, report_dir: str, files, run_id) -> None:
    with conn.transaction():
        conn.execute(
            "insert into audit.monthly_reports values (%s, %s, %s, %s, %s, %s)",
            (month_start, version, report_dir, json.dumps(files), run_id, datetime.now(UTC)),
        )
        conn.execute(
            "update closing.months set report_dir = %s where month_start = %s"
            " and snapshot_version = %s",
            (report_dir, month_start, version),
        )
        publish_close_tables(conn)


def closing_month(logical_date: datetime, timezone: str) -> date:
    """The month a close run owns: the calendar month before its (local) logical date."""
    from zoneinfo import ZoneInfo

    local = logical_date.astimezone(ZoneInfo(timezone)).date()
    return (local.replace(day=1) - timedelta(days=1)).replace(day=1)


def report_month(conn: psycopg.Connection, month_start: date, run_id: str, out_root) -> dict:
    """Write the closed month's report from its snapshot and the QA trend, record it."""
    from pathlib import Path

    from operations.monthly_report import write_monthly_report

    current = status(conn, month_start)
    if not current or current[0] != "closed":
        raise MonthStateError(f"{month_start:%Y-%m} is not closed: no report")
    version = current[1]
    written = conn.execute(
        "select report_dir from audit.monthly_reports where month_start = %s"
        " and snapshot_version = %s",
        (month_start, version),
    ).fetchone()
    if written:  # a rerun of the close: the snapshot, hence the report, is the same
        return {"month": f"{month_start:%Y-%m}", "version": version, "report_dir": written[0]}
    cursor = conn.cursor(row_factory=psycopg.rows.dict_row)
    scorecards = cursor.execute(
        "select * from closing.scorecard_snapshots where month_start = %s"
        " and snapshot_version = %s",
        (month_start, version),
    ).fetchall()
    qa_trend = []
    if table_exists(conn, "reporting.qa_team_months"):
        qa_trend = cursor.execute(
            "select * from reporting.qa_team_months where month_start <= %s", (month_start,)
        ).fetchall()
    out_dir = Path(out_root) / f"{month_start:%Y-%m}" / f"v{version}"
    files = write_monthly_report(month_start, scorecards, qa_trend, out_dir)
    record_report(conn, month_start, version, str(out_dir), [f.name for f in files], run_id)
    log.info("monthly report of %s (snapshot %s) in %s", month_start, version, out_dir)
    return {"month": f"{month_start:%Y-%m}", "version": version, "report_dir": str(out_dir)}
