"""Trace a published agent-month KPI to the source records behind it.

`python -m cli trace --agent AG0001 --month 2026-10 --kpi csat` lists, for every record
that fed the KPI's numerator or denominator: the source system, the batch that landed it
(`<airflow run id>/<task id>` and business day), the source object (file, API page URL,
database table), the position in it (line, page index, primary key) and the record's own
key. Each staged record keeps that lineage from `raw`, so any number on a scorecard can be
followed back to the delivery it came from. The record sets follow the KPI attribution of
the dbt models (the day the agent did the work; see the `kpi_attribution` doc block).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg

LINEAGE = "source_system, batch_id, batch_date, source_object, source_position"
_LOCAL = "(({column}) at time zone %(tz)s)::date"


def _local(column: str) -> str:
    return _LOCAL.format(column=column)


_IN_MONTH = "between %(start)s and %(end)s"
CONTACTS = (
    f"select 'contact' as record, contact_id as record_key, {LINEAGE}"
    " from staging.stg_call_center__contacts"
    f" where agent_id = %(agent)s and business_date {_IN_MONTH} and not is_abandoned"
)
FCR_CONTACTS = CONTACTS + " and customer_key is not null"
EMAILS = (
    f"select 'e-mail ticket', ticket_id, {LINEAGE} from staging.stg_crm__tickets"
    f" where assignee_agent_id = %(agent)s and channel = 'email'"
    f" and {_local('first_response_at')} {_IN_MONTH}"
)
TICKETS_HANDLED = (
    f"select 'ticket handled', ticket_id, {LINEAGE} from staging.stg_crm__tickets"
    f" where assignee_agent_id = %(agent)s and {_local('first_response_at')} {_IN_MONTH}"
)
TICKETS_DUE = (
    f"select 'ticket due', t.ticket_id, {', '.join('t.' + c for c in LINEAGE.split(', '))}"
    " from staging.stg_crm__tickets as t"
    " join intermediate.int_tickets_timed_in_business_hours as timed using (ticket_id)"
    " where t.assignee_agent_id = %(agent)s"
    f" and {_local('timed.sla_business_due_at')} {_IN_MONTH}"
    " and timed.sla_business_due_at < (select max(interval_end) from raw.batch_manifest"
    " where source_system = 'crm')"
)
COMPLAINTS = (
    f"select 'complaint', ticket_id, {LINEAGE} from staging.stg_crm__tickets"
    " where complained_agent_id = %(agent)s and is_complaint and complaint_cause = 'agent'"
    f" and {_local('created_at')} {_IN_MONTH}"
)
ERRORS = (
    f"select 'operation error', e.event_id, {', '.join('e.' + c for c in LINEAGE.split(', '))}"
    " from staging.stg_crm__ticket_events as e join staging.stg_crm__tickets as t"
    " using (ticket_id) where e.responsible_agent_id = %(agent)s and e.is_operation_error"
    f" and {_local('t.first_response_at')} {_IN_MONTH}"
)
INSPECTIONS = (
    f"select 'qa inspection', inspection_id, {LINEAGE} from staging.stg_qa__inspections"
    f" where agent_id = %(agent)s and business_date {_IN_MONTH}"
)
DEDUCTIONS = (
    f"select 'qa deduction', d.deduction_id, {', '.join('d.' + c for c in LINEAGE.split(', '))}"
    " from staging.stg_qa__deductions as d join staging.stg_qa__inspections as i"
    f" using (inspection_id) where i.agent_id = %(agent)s and i.business_date {_IN_MONTH}"
)
RECTIFICATIONS = (
    f"select 'rectification due', rectification_id, {LINEAGE}"
    " from staging.stg_qa__rectifications"
    f" where agent_id = %(agent)s and due_date {_IN_MONTH}"
    " and due_date <= (select max(batch_date) from raw.batch_manifest where source_system = 'qa')"
)
SURVEYS = (
    f"select 'survey response', response_id, {LINEAGE} from staging.stg_survey__responses"
    f" where agent_id = %(agent)s and business_date {_IN_MONTH}"
)
SUPERVISOR = (
    f"select 'supervisor input', agent_id || ' ' || month_start, {LINEAGE}"
    " from staging.stg_supervisor__inputs where agent_id = %(agent)s and month_start = %(start)s"
)
# KPI -> {numerator/denominator: the record sets behind it}
SOURCES = {
    "first_response_time": {"records": [CONTACTS, EMAILS]},
    "average_handle_time": {"records": [CONTACTS]},
    "first_contact_resolution": {"records": [FCR_CONTACTS]},
    "ticket_on_time_rate": {"records": [TICKETS_DUE]},
    "information_accuracy": {"records": [INSPECTIONS, DEDUCTIONS]},
    "compliance": {"records": [INSPECTIONS, DEDUCTIONS]},
    "qa_score": {"records": [INSPECTIONS, DEDUCTIONS]},
    "complaint_rate": {"numerator": [COMPLAINTS], "denominator": [CONTACTS, EMAILS]},
    "operation_error_rate": {"numerator": [ERRORS], "denominator": [TICKETS_HANDLED]},
    "csat": {"records": [SURVEYS]},
    "csat_satisfied_share": {"records": [SURVEYS]},
    "nps": {"records": [SURVEYS]},
    "negative_review_share": {"records": [SURVEYS]},
    "praise_count": {"records": [SURVEYS]},
    "teamwork": {"records": [SUPERVISOR]},
    "training_attendance": {"records": [SUPERVISOR]},
    "exam_score": {"records": [SUPERVISOR]},
    "discipline_deductions": {"records": [SUPERVISOR]},
    "improvement_plan": {"records": [RECTIFICATIONS, SUPERVISOR]},
}


@dataclass(frozen=True)
class SourceRecord:
    part: str  # numerator | denominator | records (both)
    record: str
    record_key: str
    source_system: str
    batch_id: str
    batch_date: date
    source_object: str
    source_position: str


def trace(
    conn: psycopg.Connection, agent_id: str, month: date, kpi_code: str
) -> list[SourceRecord]:
    if kpi_code not in SOURCES:
        raise ValueError(f"unknown KPI {kpi_code!r}; known: {', '.join(SOURCES)}")
    start = month.replace(day=1)
    next_month = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    params = {
        "agent": agent_id,
        "start": start,
        "end": next_month - timedelta(days=1),
        "tz": os.environ.get("CENTER_TIMEZONE", "Asia/Shanghai"),
    }
    records = []
    for part, queries in SOURCES[kpi_code].items():
        for query in queries:
            if not _relations_exist(conn, query):
                continue
            for row in conn.execute(query, params):
                records.append(SourceRecord(part, *row))
    return sorted(records, key=lambda r: (r.part, r.record, r.batch_date, r.record_key))


def _relations_exist(conn: psycopg.Connection, query: str) -> bool:
    """A source this center does not have has no staged relation: it contributes nothing."""
    names = {
        w for w in query.replace("(", " ").split() if w.startswith(("staging.", "intermediate."))
    }
    return all(
        conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0] for name in names
    )
