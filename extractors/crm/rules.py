"""What every CRM record keeps, whatever the CRM: (condition, reason) in SQL over the
compiled mapping's final values (x_<field>), per raw table. A center delivers the tables
it has; each is read by its own mapping (mappings/<vendor>/<table>.yml)."""

from extractors.mapping_sql import one_of

TICKET_CHANNELS = frozenset({"phone", "chat", "email"})
TICKET_STATUSES = frozenset({"open", "responded", "resolved", "closed"})
TICKET_EVENT_TYPES = frozenset({"data_correction", "routing_correction", "reassignment"})

TABLES = {
    "crm_teams": [],
    "crm_agents": [],
    "crm_team_assignments": [
        ("x_valid_to < x_valid_from", "'valid_to: the assignment ends before it starts'"),
    ],
    "crm_tickets": [
        one_of("channel", TICKET_CHANNELS),
        one_of("status", TICKET_STATUSES),
        ("x_resolved_at < x_created_at", "'resolved_at: resolved before it was created'"),
    ],
    "crm_ticket_events": [one_of("event_type", TICKET_EVENT_TYPES)],
}
