"""Parse CRM API records into raw.crm_teams, raw.crm_agents and raw.crm_tickets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from extractors import values
from warehouse.landing import RowRejected, SourceRow

TEAM_COLUMNS = (
    "team_id",
    "team_name",
    "business_line",
    "supervisor_name",
    "lead_name",
    "updated_at",
)
AGENT_COLUMNS = (
    "agent_id",
    "agent_name",
    "team_id",
    "primary_channel",
    "hired_on",
    "left_on",
    "updated_at",
)
TICKET_COLUMNS = (
    "ticket_id",
    "channel",
    "category",
    "priority",
    "status",
    "assignee_agent_id",
    "customer_name",
    "source_contact_id",
    "created_at",
    "first_response_at",
    "resolved_at",
    "sla_due_at",
    "reopen_count",
    "is_complaint",
    "complaint_cause",
    "complained_agent_id",
    "updated_at",
)
TICKET_CHANNELS = frozenset({"phone", "chat", "email"})
TICKET_STATUSES = frozenset({"open", "responded", "resolved", "closed"})


def parse_team(r: dict) -> tuple:
    return (
        values.required("team_id", r.get("team_id")),
        r.get("team_name"),
        r.get("business_line"),
        r.get("supervisor_name"),
        r.get("lead_name"),
        values.aware_time("updated_at", r.get("updated_at")),
    )


def parse_agent(r: dict) -> tuple:
    return (
        values.required("agent_id", r.get("agent_id")),
        r.get("agent_name"),
        values.required("team_id", r.get("team_id")),
        values.optional(r.get("primary_channel")),
        values.iso_date("hired_on", r.get("hired_on")),
        values.iso_date("left_on", r.get("left_on")),
        values.aware_time("updated_at", r.get("updated_at")),
    )


def parse_ticket(r: dict) -> tuple:
    created = values.aware_time("created_at", r.get("created_at"))
    if created is None:
        raise RowRejected("created_at: required value is missing")
    resolved = values.aware_time("resolved_at", r.get("resolved_at"))
    if resolved is not None and resolved < created:
        raise RowRejected("resolved_at: resolved before it was created")
    is_complaint = r.get("is_complaint")
    if not isinstance(is_complaint, bool):
        raise RowRejected(f"is_complaint: {is_complaint!r} is not true or false")
    return (
        values.required("ticket_id", r.get("ticket_id")),
        values.one_of("channel", r.get("channel"), TICKET_CHANNELS),
        r.get("category"),
        r.get("priority"),
        values.one_of("status", r.get("status"), TICKET_STATUSES),
        values.required("assignee_agent_id", r.get("assignee_agent_id")),
        r.get("customer_name"),
        values.optional(r.get("source_contact_id")),
        created,
        values.aware_time("first_response_at", r.get("first_response_at")),
        resolved,
        values.aware_time("sla_due_at", r.get("sla_due_at")),
        values.integer_in("reopen_count", r.get("reopen_count", 0), 0, 1000),
        is_complaint,
        values.optional(r.get("complaint_cause")),
        values.optional(r.get("complained_agent_id")),
        values.aware_time("updated_at", r.get("updated_at")),
    )


def page_rows(
    source_object: str, payload: dict, parse: Callable[[dict], tuple]
) -> Iterator[SourceRow]:
    data = payload.get("data")
    if not isinstance(data, list):
        raise ValueError(f"{source_object}: response has no 'data' list")
    for index, record in enumerate(data):
        text = json.dumps(record, sort_keys=True, ensure_ascii=False)
        try:
            if not isinstance(record, dict):
                raise RowRejected("record is not a JSON object")
            yield SourceRow(source_object, str(index), text, values=parse(record))
        except RowRejected as rejected:
            yield SourceRow(source_object, str(index), text, reason=str(rejected))
