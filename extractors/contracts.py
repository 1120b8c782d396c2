"""The canonical raw contract of each raw table: the fields a vendor mapping can fill.

A vendor mapping (mappings/<vendor>/<source>.yml) says how to read each field from the
vendor's export; a field the vendor does not provide lands as NULL, which downstream means
"not available from this source", never zero.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContractField:
    name: str
    kind: str  # text | integer | number | seconds | boolean | timestamp | date
    required: bool = False
    personal_data: bool = False
    doc: str = ""


CALL_CENTER = (
    ContractField("contact_id", "text", required=True, doc="unique id of the call or chat"),
    ContractField("channel", "text", required=True, doc="phone or chat"),
    ContractField("queue_name", "text", doc="queue, skill or call type"),
    ContractField("agent_id", "text", doc="who answered; empty when nobody did"),
    ContractField(
        "customer_number", "text", personal_data=True, doc="caller id; hashed in staging"
    ),
    ContractField("offered_at", "timestamp", required=True, doc="the customer's first contact"),
    ContractField("answered_at", "timestamp", doc="the agent's first answer"),
    ContractField("ended_at", "timestamp", doc="end of the conversation"),
    ContractField("queue_seconds", "seconds", doc="wait in queue before answer or abandon"),
    ContractField("talk_seconds", "seconds", doc="talk or chat time"),
    ContractField("hold_seconds", "seconds", doc="hold time"),
    ContractField("acw_seconds", "seconds", doc="after-call work (wrap-up) time"),
    ContractField(
        "is_abandoned", "boolean", required=True, doc="the customer gave up before an answer"
    ),
    ContractField("is_transferred", "boolean", doc="the contact was transferred"),
    ContractField("disposition", "text", doc="outcome code (resolved, escalated, ...)"),
)

SURVEY = (
    ContractField("response_id", "text", required=True, doc="unique id of the response"),
    ContractField(
        "contact_id", "text", required=True, doc="the contact (call, chat, ticket) surveyed"
    ),
    ContractField("channel", "text", required=True, doc="phone, chat or email"),
    ContractField("agent_id", "text", required=True, doc="the agent who served the contact"),
    ContractField("contact_at", "timestamp", required=True, doc="when the contact began"),
    ContractField("responded_at", "timestamp", doc="when the customer answered"),
    ContractField("csat_score", "integer", doc="satisfaction 1-5"),
    ContractField("nps_score", "integer", doc="likelihood to recommend 0-10"),
    ContractField("comment_text", "text", personal_data=True, doc="free text; stays in raw"),
    ContractField("tags", "text", doc="comma-separated tags (praise, complaint)"),
)

CRM_TEAMS = (
    ContractField("team_id", "text", required=True),
    ContractField("team_name", "text"),
    ContractField("business_line", "text", doc="presales / aftersales"),
    ContractField("supervisor_name", "text"),
    ContractField("lead_name", "text"),
    ContractField("updated_at", "timestamp"),
)

CRM_AGENTS = (
    ContractField("agent_id", "text", required=True),
    ContractField("agent_name", "text"),
    ContractField("team_id", "text", required=True),
    ContractField("primary_channel", "text"),
    ContractField("hired_on", "date"),
    ContractField("left_on", "date"),
    ContractField("updated_at", "timestamp"),
)

CRM_TICKETS = (
    ContractField("ticket_id", "text", required=True),
    ContractField("channel", "text", required=True, doc="phone, chat or email"),
    ContractField("category", "text"),
    ContractField("priority", "text"),
    ContractField("status", "text", required=True, doc="open, responded, resolved or closed"),
    ContractField("assignee_agent_id", "text", required=True),
    ContractField("customer_name", "text", personal_data=True, doc="hashed in staging"),
    ContractField("source_contact_id", "text", doc="the call or chat that opened it"),
    ContractField("created_at", "timestamp", required=True),
    ContractField("first_response_at", "timestamp"),
    ContractField("resolved_at", "timestamp"),
    ContractField("sla_due_at", "timestamp", doc="the CRM's own due time (for reference)"),
    ContractField(
        "is_sla_met",
        "boolean",
        doc="the CRM's own verdict that the ticket met its SLA; when given, it decides on time",
    ),
    ContractField("reopen_count", "integer"),
    ContractField("is_complaint", "boolean", doc="empty when the CRM records no complaints"),
    ContractField("complaint_cause", "text", doc="agent, policy, product"),
    ContractField("complained_agent_id", "text", doc="the agent a complaint is about"),
    ContractField("updated_at", "timestamp", doc="when this version was written"),
    ContractField(
        "version_number", "integer", doc="the CRM's version counter: the newest version wins"
    ),
)

CRM_TEAM_ASSIGNMENTS = (
    ContractField("assignment_id", "text", required=True),
    ContractField("agent_id", "text", required=True),
    ContractField("team_id", "text", required=True),
    ContractField("valid_from", "date", required=True, doc="first day in the team"),
    ContractField("valid_to", "date", doc="last day in the team; empty while current"),
    ContractField("updated_at", "timestamp"),
)

CRM_TICKET_EVENTS = (
    ContractField("event_id", "text", required=True),
    ContractField("ticket_id", "text", required=True),
    ContractField(
        "event_type",
        "text",
        required=True,
        doc="data_correction, routing_correction (operation errors) or reassignment",
    ),
    ContractField("responsible_agent_id", "text", doc="whose operation was corrected"),
    ContractField("occurred_at", "timestamp", required=True),
)

QA_INSPECTIONS = (
    ContractField("inspection_id", "text", required=True),
    ContractField("record_type", "text", required=True, doc="call, chat or email"),
    ContractField("record_id", "text", required=True),
    ContractField("agent_id", "text", required=True),
    ContractField("record_at", "timestamp", required=True, doc="when the inspected work was done"),
    ContractField("inspector_name", "text"),
    ContractField("inspected_at", "timestamp"),
    ContractField("updated_at", "timestamp"),
)

QA_DEDUCTIONS = (
    ContractField("deduction_id", "text", required=True),
    ContractField("inspection_id", "text", required=True),
    ContractField("dimension", "text", required=True),
    ContractField("severity", "text", required=True, doc="minor 1-3, general 4-6, severe 7-10"),
    ContractField("points", "integer", required=True),
    ContractField("note", "text", personal_data=True, doc="free text; stays in raw"),
)

QA_RECTIFICATIONS = (
    ContractField("rectification_id", "text", required=True),
    ContractField("inspection_id", "text", required=True),
    ContractField("agent_id", "text", required=True),
    ContractField("description", "text"),
    ContractField("due_date", "date"),
    ContractField("closed_at", "timestamp"),
    ContractField("updated_at", "timestamp"),
)

SUPERVISOR_INPUTS = (
    ContractField("month", "date", required=True, doc="first day of the month rated"),
    ContractField("team_id", "text"),
    ContractField("agent_id", "text", required=True),
    ContractField("teamwork_rating", "number", doc="supervisor / peer rating 1-5"),
    ContractField("training_sessions_scheduled", "integer"),
    ContractField("training_sessions_attended", "integer"),
    ContractField("exam_score", "number", doc="training exam 0-100; empty if not sat"),
    ContractField("discipline_points", "integer", doc="discipline deductions"),
    ContractField("plan_items_due", "integer", doc="improvement-plan items due in the month"),
    ContractField("plan_items_closed_on_time", "integer"),
    ContractField("comment_text", "text", personal_data=True, doc="free text; stays in raw"),
)

# raw table -> contract; a source system's tables share its name as prefix.
CONTRACTS = {
    "call_center_contacts": CALL_CENTER,
    "survey_responses": SURVEY,
    "crm_teams": CRM_TEAMS,
    "crm_agents": CRM_AGENTS,
    "crm_tickets": CRM_TICKETS,
    "crm_team_assignments": CRM_TEAM_ASSIGNMENTS,
    "crm_ticket_events": CRM_TICKET_EVENTS,
    "qa_inspections": QA_INSPECTIONS,
    "qa_deductions": QA_DEDUCTIONS,
    "qa_rectifications": QA_RECTIFICATIONS,
    "supervisor_inputs": SUPERVISOR_INPUTS,
}
# The raw table of a source system delivered as one table.
DEFAULT_TABLE = {
    "call_center": "call_center_contacts",
    "survey": "survey_responses",
    "supervisor": "supervisor_inputs",
}

# The field that places a row on a business day: a batch of day D holds the rows whose
# field falls on D (or, for sources with a lookback, on the lookback's days before it); a
# row on another day is quarantined, and a batch where most rows are is stopped. Tables
# delivered as a whole snapshot (rosters) and rows without a time of their own (deduction
# items, read with their inspection) have none.
DAY_FIELDS = {
    "call_center_contacts": "offered_at",
    "survey_responses": "responded_at",
    "crm_tickets": "updated_at",
    "crm_ticket_events": "occurred_at",
    "qa_inspections": "updated_at",
    "qa_rectifications": "updated_at",
    "supervisor_inputs": "month",
}
# Tables whose records have versions (the newest wins in staging): key, version time and
# version number (None: the table has none). A quarantined version keeps them, so a newer
# bad version is not silently outvoted by an older good one: staging withholds the key.
VERSIONED: dict[str, tuple[str, str, str | None]] = {
    "crm_tickets": ("ticket_id", "updated_at", "version_number"),
    "qa_inspections": ("inspection_id", "updated_at", None),
    "qa_rectifications": ("rectification_id", "updated_at", None),
}
