"""Land the CRM roster snapshot and the tickets updated in the run's interval."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg

from extractors.crm.client import CrmClient
from extractors.crm.parse import (
    AGENT_COLUMNS,
    TEAM_COLUMNS,
    TICKET_COLUMNS,
    page_rows,
    parse_agent,
    parse_team,
    parse_ticket,
)
from warehouse.landing import Batch, BatchSummary, BatchWriter, SourceRow

SOURCE_SYSTEM = "crm"


def _rows(writer: BatchWriter, pages, parse: Callable[[dict], tuple]) -> Iterator[SourceRow]:
    for source_object, payload in pages:
        writer.register_object(source_object)
        yield from page_rows(source_object, payload, parse)


def run(conn: psycopg.Connection, batch: Batch, client: CrmClient) -> BatchSummary:
    cursor = {
        "updated_since": batch.interval_start.isoformat(),
        "updated_before": batch.interval_end.isoformat(),
    }
    with BatchWriter(conn, batch, ["crm_teams", "crm_agents", "crm_tickets"]) as writer:
        writer.land(
            "crm_teams", TEAM_COLUMNS, _rows(writer, client.pages("/api/v1/teams"), parse_team)
        )
        writer.land(
            "crm_agents", AGENT_COLUMNS, _rows(writer, client.pages("/api/v1/agents"), parse_agent)
        )
        writer.land(
            "crm_tickets",
            TICKET_COLUMNS,
            _rows(writer, client.pages("/api/v1/tickets", cursor), parse_ticket),
        )
    return writer.summary()
