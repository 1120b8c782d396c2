"""The canonical raw contract of each file-delivered source: the fields a mapping can fill.

A vendor mapping (mappings/<vendor>/<source>.yml) says how to read each field from the
vendor's export; a field the vendor does not provide lands as NULL, which downstream means
"not available from this source", never zero.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContractField:
    name: str
    kind: str  # text | integer | seconds | boolean | timestamp
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

CONTRACTS = {"call_center": CALL_CENTER, "survey": SURVEY}
