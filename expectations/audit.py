"""The audit step of write-audit-publish: everything a run wrote is checked before BI sees it.

1. Contract and reconciliation checks in SQL, per batch of the run's business day: rows read
   = landed + quarantined, raw rows = the manifest's landed rows, quarantine rows = the
   manifest's quarantined rows, no empty call-center delivery, unknown agents below a
   threshold; staged rows = distinct landed keys (the documented deduplication); totals of
   agent_days = the staged records behind them.
   Column types of every raw table against the contract.
2. Great Expectations suites (expectations/suites.py) on the run's batch of every raw table
   and on every mart about to be published, with Data Docs written per run.

Every result goes to `audit.checks`, the run to `audit.runs`, quarantine counts to
`audit.quarantine_counts`, committed even when the audit fails; a failure then raises
AuditFailed naming the source, the batch and the rule, and nothing is published.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from expectations.suites import MART_CHECKS, RAW_TABLES, Check, raw_checks

log = logging.getLogger(__name__)
DEFAULT_AUDIT_DIR = Path(__file__).resolve().parents[1] / ".local" / "audit"
# Share of a day's rows naming an agent who is not on the roster that stops the run.
UNKNOWN_AGENT_MAX_SHARE = float(os.environ.get("UNKNOWN_AGENT_MAX_SHARE", "0.01"))
# Sources whose daily delivery must not be empty (an ACD export with no calls is broken).
MUST_NOT_BE_EMPTY = ("call_center",)

# staged model -> (raw table, the key staging deduplicates on)
STAGED_KEYS = {
    "stg_call_center__contacts": ("call_center_contacts", "contact_id"),
    "stg_survey__responses": ("survey_responses", "response_id"),
    "stg_crm__teams": ("crm_teams", "team_id"),
    "stg_crm__agents": ("crm_agents", "agent_id"),
    "stg_crm__team_assignments": ("crm_team_assignments", "assignment_id"),
    "stg_crm__tickets": ("crm_tickets", "ticket_id"),
    "stg_crm__ticket_events": ("crm_ticket_events", "event_id"),
    "stg_qa__inspections": ("qa_inspections", "inspection_id"),
    "stg_qa__deductions": ("qa_deductions", "deduction_id"),
    "stg_qa__rectifications": ("qa_rectifications", "rectification_id"),
    "stg_supervisor__inputs": ("supervisor_inputs", "agent_id, month"),
}
# The staged key where staging renames it.
STAGED_KEY_NAMES = {"stg_supervisor__inputs": "agent_id, month_start"}
# agent_days total -> the staged records it counts
MART_TOTALS = {
    "coalesce(sum(phone_contacts_handled + chat_contacts_handled), 0)": (
        "select count(*) from staging.stg_call_center__contacts where not is_abandoned"
    ),
    "coalesce(sum(email_contacts_handled), 0)": (
        "select count(*) from staging.stg_crm__tickets"
        " where channel = 'email' and first_response_at is not null and not is_withheld"
    ),
    "coalesce(sum(tickets_handled_count), 0)": (
        "select count(*) from staging.stg_crm__tickets"
        " where first_response_at is not null and not is_withheld"
    ),
    "coalesce(sum(qa_inspection_count), 0)": (
        "select count(*) from staging.stg_qa__inspections where not is_withheld"
    ),
    "coalesce(sum(survey_response_count), 0)": (
        "select count(*) from staging.stg_survey__responses"
    ),
}
# The staging models of versioned records (extractors/contracts.py VERSIONED): a key whose
# newest version is quarantined is withheld from the KPIs, and listed by a warning.
WITHHELD = (
    ("stg_crm__tickets", "ticket_id", "ticket"),
    ("stg_qa__inspections", "inspection_id", "inspection"),
    ("stg_qa__rectifications", "rectification_id", "rectification"),
)
AUDIT_DDL = """
create schema if not exists audit;
create table if not exists audit.runs (
    run_id text not null, business_date date not null, audited_at timestamptz not null,
    outcome text not null, checks_run integer not null, checks_failed integer not null,
    rows_quarantined bigint not null, failures text, data_docs text);
alter table audit.runs add column if not exists audited_build text;
create table if not exists audit.checks (
    run_id text not null, business_date date not null, check_kind text not null,
    target text not null, source_system text, batch_id text, rule text not null,
    success boolean not null, observed text, detail text, checked_at timestamptz not null);
create table if not exists audit.quarantine_counts (
    run_id text not null, business_date date not null, source_system text not null,
    batch_id text not null, rule text, reason text not null, row_count bigint not null);
create table if not exists audit.run_batches (
    run_id text not null, business_date date not null, source_system text not null,
    batch_id text not null, source_object text not null, rows_read integer not null,
    rows_loaded integer not null, rows_quarantined integer not null, file_checksum text,
    extracted_at timestamptz not null);
"""


class AuditFailed(RuntimeError):
    """The run's audit failed: nothing is published."""


@dataclass
class CheckResult:
    kind: str  # contract | reconciliation | expectation | warning
    target: str  # table or mart
    rule: str
    success: bool
    observed: str = ""
    detail: str = ""
    source_system: str | None = None
    batch_id: str | None = None

    @property
    def fails_the_run(self) -> bool:
        return not self.success and self.kind != "warning"

    def describe(self) -> str:
        where = f"source {self.source_system}, batch {self.batch_id}, " if self.batch_id else ""
        return f"{self.target}: {where}rule {self.rule}: {self.detail or self.observed}"


def _batches(conn: psycopg.Connection, day: date) -> list[tuple]:
    """(source, batch, read, loaded, quarantined, skipped) of each source's batch for the day."""
    return conn.execute(
        "select source_system, min(batch_id), sum(rows_read), sum(rows_loaded),"
        " sum(rows_quarantined), sum(rows_skipped) from raw.batch_manifest where batch_date = %s"
        " group by source_system order by source_system",
        (day,),
    ).fetchall()


def _relanded_days(conn: psycopg.Connection, run_id: str, day: date) -> list[date]:
    """Earlier days this run landed again (late data in the sources' lookback)."""
    rows = conn.execute(
        "select distinct batch_date from raw.batch_manifest"
        " where starts_with(batch_id, %s) and batch_date <> %s order by batch_date",
        (f"{run_id}/", day),
    ).fetchall()
    return [r[0] for r in rows]


def _count(conn: psycopg.Connection, sql: str, params=()) -> int:
    return conn.execute(sql, params).fetchone()[0]


def _table_exists(conn: psycopg.Connection, qualified: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (qualified,)).fetchone()[0]


def contract_checks(conn: psycopg.Connection, day: date) -> list[CheckResult]:
    """Each batch of the day against its manifest, its quarantine and the roster."""
    results = []
    roster = _table_exists(conn, "staging.stg_crm__agents") and _count(
        conn, "select count(*) from staging.stg_crm__agents"
    )
    for source, batch_id, read, loaded, quarantined, skipped in _batches(conn, day):

        def check(rule, success, observed, detail, kind="contract", source=source, batch=batch_id):
            results.append(
                CheckResult(kind, source, rule, success, str(observed), detail, source, batch)
            )

        tables = [t for t, s in RAW_TABLES.items() if s == source]
        raw_rows = sum(
            _count(
                conn,
                f"select count(*) from raw.{t} where source_system = %s and batch_date = %s",
                (source, day),
            )
            for t in tables
        )
        check(
            "landed_rows_match_the_manifest",
            raw_rows == loaded,
            raw_rows,
            f"raw holds {raw_rows} rows of the batch, the manifest says {loaded} landed",
            "reconciliation",
        )
        in_quarantine = _count(
            conn,
            "select count(*) from raw.quarantine where source_system = %s and batch_date = %s",
            (source, day),
        )
        check(
            "quarantined_rows_match_the_manifest",
            in_quarantine == quarantined and read == loaded + quarantined + skipped,
            in_quarantine,
            f"read {read} = landed {loaded} + quarantined {quarantined} + skipped {skipped};"
            f" {in_quarantine} rows in raw.quarantine",
            "reconciliation",
        )
        if source in MUST_NOT_BE_EMPTY:
            check(
                "delivery_not_empty",
                read > 0,
                read,
                f"the {source} delivery for {day} holds no rows: an empty or truncated export",
            )
        agent_tables = {
            "call_center": "call_center_contacts",
            "survey": "survey_responses",
            "qa": "qa_inspections",
        }
        if roster and source in agent_tables:
            total, unknown = conn.execute(
                f"select count(*) filter (where agent_id is not null),"
                f" count(*) filter (where agent_id is not null and agent_id not in"
                f" (select agent_id from staging.stg_crm__agents))"
                f" from raw.{agent_tables[source]} where source_system = %s and batch_date = %s",
                (source, day),
            ).fetchone()
            share = unknown / total if total else 0.0
            check(
                "unknown_agents_below_threshold",
                share <= UNKNOWN_AGENT_MAX_SHARE,
                f"{unknown}/{total}",
                f"{unknown} of {total} rows name agents not on the roster"
                f" ({share:.1%} > {UNKNOWN_AGENT_MAX_SHARE:.1%})"
                if share > UNKNOWN_AGENT_MAX_SHARE
                else f"{unknown} of {total} rows name agents not on the roster",
            )
    return results


PG_TYPES = {
    "text": "text",
    "integer": "integer",
    "seconds": "integer",
    "number": "numeric",
    "boolean": "boolean",
    "timestamp": "timestamp with time zone",
    "date": "date",
}


def type_checks(conn: psycopg.Connection, day: date) -> list[CheckResult]:
    """Each raw table of the day's sources has the contract's column types."""
    from extractors.contracts import CONTRACTS

    sources = {s for s, *_ in _batches(conn, day)}
    results = []
    for table, source in RAW_TABLES.items():
        if source not in sources:
            continue
        actual = dict(
            conn.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'raw' and table_name = %s",
                (table,),
            ).fetchall()
        )
        wrong = {
            f.name: actual.get(f.name)
            for f in CONTRACTS[table]
            if actual.get(f.name) != PG_TYPES[f.kind]
        }
        results.append(
            CheckResult(
                "contract",
                f"raw.{table}",
                "column_types_match_the_contract",
                not wrong,
                str(len(wrong)),
                f"columns with another type than the contract's: {wrong}" if wrong else "",
                source,
            )
        )
    return results


def reconciliation_checks(
    conn: psycopg.Connection, days: Sequence[date] | None = None
) -> list[CheckResult]:
    """Staging keeps one row per landed key; the agent-day totals count staged records.

    With `days` (the daily audit: the day and the days its run landed again) the keys are
    those of the batches of these days, so the check costs what the run landed, not the
    history; without (the monthly close, before scorecards are frozen), every key."""
    results = []
    params = () if days is None else (list(days),)
    for model, (table, key) in STAGED_KEYS.items():
        if not _table_exists(conn, f"staging.{model}"):
            continue
        landed_keys = f"select distinct {key} from raw.{table}"
        if days is not None:
            # The batch index leads with the source system (a raw table holds one).
            landed_keys += f" where source_system = '{RAW_TABLES[table]}' and batch_date = any(%s)"
        landed = _count(conn, f"select count(*) from ({landed_keys}) as k", params)
        if days is None:
            staged = _count(conn, f"select count(*) from staging.{model}")
        else:
            staged_key = STAGED_KEY_NAMES.get(model, key)
            staged = _count(
                conn,
                f"select count(*) from staging.{model} where ({staged_key}) in ({landed_keys})",
                params,
            )
        scope = "" if days is None else f" of the batches of {', '.join(map(str, days))}"
        results.append(
            CheckResult(
                "reconciliation",
                model,
                "staged_rows_equal_distinct_landed_keys",
                staged == landed,
                str(staged),
                f"{staged} staged rows, {landed} distinct landed keys ({key}){scope}"
                f" in raw.{table}",
            )
        )
    if _table_exists(conn, "staging.stg_survey__responses") and _count(
        conn, "select count(*) from staging.stg_call_center__contacts"
    ):
        # A survey about a contact the call center never delivered still rates the agent it
        # names, so it counts; the audit lists how many there are (e-mail surveys name tickets).
        if days is None:
            orphans_sql = (
                # A set difference: one pass over each side whatever the planner knows.
                "select count(*) from (select contact_id from staging.stg_survey__responses"
                " where channel in ('phone', 'chat')"
                " except select contact_id from staging.stg_call_center__contacts) as orphans"
            )
        else:
            orphans_sql = (
                # The run's responses, each looked up by the staged contacts' key index.
                "select count(*) from (select distinct s.contact_id"
                " from staging.stg_survey__responses as s"
                " where s.batch_date = any(%s) and s.channel in ('phone', 'chat')"
                " and not exists (select from staging.stg_call_center__contacts as c"
                " where c.contact_id = s.contact_id)) as orphans"
            )
        orphans = _count(conn, orphans_sql, params)
        results.append(
            CheckResult(
                "warning",
                "stg_survey__responses",
                "surveyed_contacts_are_known",
                orphans == 0,
                str(orphans),
                f"{orphans} surveyed phone/chat contacts were never delivered by the call"
                " center (their responses are kept: they rate the agent they name)",
            )
        )
    for model, key, what in WITHHELD:
        if not _table_exists(conn, f"staging.{model}"):
            continue
        withheld = conn.execute(
            f"select count(*), string_agg({key}, ', ' order by {key})"
            f" filter (where rank <= 5) from (select {key}, row_number() over"
            f" (order by {key}) as rank from staging.{model} where is_withheld) as w"
        ).fetchone()
        results.append(
            CheckResult(
                "warning",
                model,
                f"newest_{what}_versions_are_valid",
                withheld[0] == 0,
                str(withheld[0]),
                f"{withheld[0]} {what}s are withheld from the KPIs: their newest version is"
                f" quarantined (raw.quarantine, record_key), e.g. {withheld[1]}"
                if withheld[0]
                else "",
            )
        )
    for total, staged_sql in MART_TOTALS.items():
        if not _table_exists(conn, "marts.agent_days"):
            break
        in_mart = _count(conn, f"select {total} from marts.agent_days")
        staged = _count(conn, staged_sql)
        results.append(
            CheckResult(
                "reconciliation",
                "agent_days",
                f"total_matches_staging: {total}",
                in_mart == staged,
                str(in_mart),
                f"agent_days {in_mart}, staging {staged}",
            )
        )
    return results


def _gx_url() -> str:
    from warehouse.connection import libpq_url, warehouse_url

    return libpq_url(warehouse_url()).replace("postgresql://", "postgresql+psycopg://", 1)


def expectation_checks(
    conn: psycopg.Connection, day: date, run_id: str, docs_dir: Path
) -> list[CheckResult]:
    """The GX suites on the day's batch of each raw table and on every mart; Data Docs of
    this run in docs_dir."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    for site in list(context.list_data_docs_sites() or {}):
        context.delete_data_docs_site(site)
    context.add_data_docs_site(
        site_name="audit",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    # A socket URL is refused as a literal; a ${VAR} is resolved when GX connects.
    os.environ["AUDIT_GX_WAREHOUSE_URL"] = _gx_url()
    source = context.data_sources.add_postgres(
        name="warehouse", connection_string="${AUDIT_GX_WAREHOUSE_URL}"
    )
    targets: dict[str, tuple[str, str | None, list[Check]]] = {}
    definitions = []
    batch_ids = dict((s, b) for s, b, *_ in _batches(conn, day))
    for table, system in RAW_TABLES.items():
        if system not in batch_ids:
            continue
        asset = source.add_query_asset(
            name=f"raw_{table}",
            # The source system leads the batch index: without it the day's rows are found
            # by scanning the whole index, which grows with the history.
            query=(
                f"select * from raw.{table}"
                f" where source_system = '{system}' and batch_date = '{day.isoformat()}'"
            ),
        )
        checks = raw_checks(table)
        landed = conn.execute(
            "select rows_loaded from raw.batch_tables where raw_table = %s and batch_date = %s",
            (table, day),
        ).fetchone()
        if landed is not None:
            checks.append(
                Check(
                    "row_count_equals_rows_landed",
                    "ExpectTableRowCountToEqual",
                    {"value": landed[0]},
                )
            )
        targets[f"raw.{table}"] = (system, batch_ids[system], checks)
        definitions.append((f"raw.{table}", asset))
    for mart, checks in MART_CHECKS.items():
        if _table_exists(conn, f"marts.{mart}"):
            asset = source.add_table_asset(name=mart, table_name=mart, schema_name="marts")
            targets[f"marts.{mart}"] = (None, None, checks)
            definitions.append((f"marts.{mart}", asset))
    validations = []
    for target, asset in definitions:
        suite = gx.ExpectationSuite(name=target)
        for check in targets[target][2]:
            suite.add_expectation(
                getattr(gxe, check.expectation)(**check.kwargs, meta={"rule": check.rule})
            )
        validations.append(
            gx.ValidationDefinition(
                name=target,
                data=asset.add_batch_definition_whole_table(name="batch"),
                suite=context.suites.add(suite),
            )
        )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="audit",
            validation_definitions=[context.validation_definitions.add(v) for v in validations],
            result_format={"result_format": "SUMMARY"},
        )
    )
    outcome = checkpoint.run(run_id=gx.RunIdentifier(run_name=run_id))
    # The site once, after every validation: the checkpoint's UpdateDataDocsAction rebuilds
    # it (index included) after each of the ~20 validations, ~4 s a run.
    context.build_data_docs(site_names=["audit"])
    results = []
    for validation in outcome.run_results.values():
        target = validation.suite_name
        system, batch_id, _ = targets[target]
        for result in validation.results:
            config = result.expectation_config
            summary = result.result or {}
            observed = summary.get("unexpected_count", summary.get("observed_value", ""))
            error = (result.exception_info or {}).get("exception_message")
            detail = error or (
                f"{summary.get('unexpected_count')} unexpected rows,"
                f" e.g. {summary.get('partial_unexpected_list', [])[:3]}"
                if summary.get("unexpected_count")
                else f"observed {summary.get('observed_value')}"
            )
            results.append(
                CheckResult(
                    "expectation",
                    target,
                    (config.meta or {}).get("rule", config.type),
                    bool(result.success),
                    str(observed),
                    detail,
                    system,
                    batch_id,
                )
            )
    return results


def _record(
    conn: psycopg.Connection,
    run_id: str,
    day: date,
    results: list[CheckResult],
    docs: Path | None,
) -> None:
    now = datetime.now(UTC)
    failures = [r for r in results if r.fails_the_run]
    with conn.transaction():
        conn.execute(AUDIT_DDL)
        for table in ("runs", "checks", "quarantine_counts", "run_batches"):
            conn.execute(f"delete from audit.{table} where run_id = %s", (run_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "insert into audit.checks values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        run_id,
                        day,
                        r.kind,
                        r.target,
                        r.source_system,
                        r.batch_id,
                        r.rule,
                        r.success,
                        r.observed[:1000],
                        r.detail[:2000],
                        now,
                    )
                    for r in results
                ],
            )
        conn.execute(
            "insert into audit.quarantine_counts"
            " (run_id, business_date, source_system, batch_id, rule, reason, row_count)"
            " select %s, %s, source_system, batch_id, rule, reason, count(*) from raw.quarantine"
            " where batch_date = %s group by source_system, batch_id, rule, reason",
            (run_id, day, day),
        )
        conn.execute(
            "insert into audit.run_batches"
            " select %s, %s, source_system, batch_id, source_object, rows_read, rows_loaded,"
            " rows_quarantined, file_checksum, extracted_at from raw.batch_manifest"
            " where batch_date = %s",
            (run_id, day, day),
        )
        quarantined = _count(
            conn, "select count(*) from raw.quarantine where batch_date = %s", (day,)
        )
        build = (
            conn.execute("select run_id from marts.build_stamp").fetchone()
            if _table_exists(conn, "marts.build_stamp")
            else None
        )
        conn.execute(
            "insert into audit.runs (run_id, business_date, audited_at, outcome, checks_run,"
            " checks_failed, rows_quarantined, failures, data_docs, audited_build)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                run_id,
                day,
                now,
                "failed" if failures else "passed",
                len(results),
                len(failures),
                quarantined,
                "\n".join(r.describe() for r in failures) or None,
                str(docs / "index.html") if docs else None,
                build[0] if build else None,
            ),
        )


def audit_dir() -> Path:
    return Path(os.environ.get("AUDIT_DIR", str(DEFAULT_AUDIT_DIR)))


def run_audit(conn: psycopg.Connection, run_id: str, day: date) -> dict:
    """Audit the run; record everything; raise AuditFailed if any check failed."""
    from operations import alerts
    from warehouse import lease, locks

    docs = audit_dir() / "data_docs" / re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)
    conn.commit()
    lease.attend(conn, run_id)  # this run still holds the warehouse, and is alive
    alerts.record_pending(conn)  # failures met while the warehouse was away
    conn.commit()
    # No dbt build may change the marts while they are audited (a backfill run next door).
    with locks.held("dbt_build"):
        try:
            days = [day, *_relanded_days(conn, run_id, day)]
            results = [c for d in days for c in contract_checks(conn, d)]
            results += type_checks(conn, day)
            # The keys this run landed; the whole history is reconciled by the monthly close.
            results += reconciliation_checks(conn, days)
            results += expectation_checks(conn, day, run_id, docs)
            _record(conn, run_id, day, results, docs)
            conn.commit()  # the record stays even though the run fails below
        finally:
            conn.rollback()  # nothing uncommitted is kept; a failed statement is cleared
    failures = [r for r in results if r.fails_the_run]
    log.info(
        "audit of %s: %d checks, %d failed; data docs %s",
        day,
        len(results),
        len(failures),
        docs / "index.html",
    )
    if failures:
        lease.release(conn, run_id)  # nothing to publish: the next run may build
        conn.commit()
        raise AuditFailed(
            f"audit of {day} failed {len(failures)} of {len(results)} checks; nothing was"
            " published:\n" + "\n".join(r.describe() for r in failures)
        )
    return {"checks": len(results), "failed": 0, "data_docs": str(docs / "index.html")}
