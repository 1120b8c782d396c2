"""Records the tests share: a good CRM ticket as the simulated API serves it."""

TICKET = {
    "ticket_id": "TK1",
    "channel": "email",
    "category": "billing",
    "priority": "normal",
    "status": "resolved",
    "assignee_agent_id": "AG0004",
    "customer_name": "Wang Fang",
    "source_contact_id": None,
    "created_at": "2026-10-01T09:00:00+08:00",
    "first_response_at": "2026-10-01T10:00:00+08:00",
    "resolved_at": "2026-10-02T09:00:00+08:00",
    "sla_due_at": "2026-10-02T09:00:00+08:00",
    "reopen_count": 0,
    "is_complaint": False,
    "complaint_cause": None,
    "complained_agent_id": None,
    "updated_at": "2026-10-02T09:00:00+08:00",
}
