"""Parse CRM API pages into the raw.crm_* tables (roster, team history, tickets, events).

The vendor mapping says which JSON keys hold each field; the rules every ticket keeps,
whatever the CRM, are here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from extractors.contracts import CONTRACTS
from extractors.mapping import RowParser, json_record
from warehouse.landing import RowRejected, SourceRow

CRM_TABLES = (
    "crm_teams",
    "crm_agents",
    "crm_team_assignments",
    "crm_tickets",
    "crm_ticket_events",
)
COLUMNS = {table: tuple(f.name for f in CONTRACTS[table]) for table in CRM_TABLES}
TICKET_CHANNELS = frozenset({"phone", "chat", "email"})
TICKET_STATUSES = frozenset({"open", "responded", "resolved", "closed"})
TICKET_EVENT_TYPES = frozenset({"data_correction", "routing_correction", "reassignment"})


def check_ticket(values: tuple) -> None:
    row = dict(zip(COLUMNS["crm_tickets"], values, strict=True))
    if row["channel"] not in TICKET_CHANNELS:
        raise RowRejected(f"channel: {row['channel']!r} is not one of {sorted(TICKET_CHANNELS)}")
    if row["status"] not in TICKET_STATUSES:
        raise RowRejected(f"status: {row['status']!r} is not one of {sorted(TICKET_STATUSES)}")
    if row["resolved_at"] is not None and row["resolved_at"] < row["created_at"]:
        raise RowRejected("resolved_at: resolved before it was created")


def check_assignment(values: tuple) -> None:
    row = dict(zip(COLUMNS["crm_team_assignments"], values, strict=True))
    if row["valid_to"] is not None and row["valid_to"] < row["valid_from"]:
        raise RowRejected("valid_to: the assignment ends before it starts")


def check_event(values: tuple) -> None:
    row = dict(zip(COLUMNS["crm_ticket_events"], values, strict=True))
    if row["event_type"] not in TICKET_EVENT_TYPES:
        raise RowRejected(
            f"event_type: {row['event_type']!r} is not one of {sorted(TICKET_EVENT_TYPES)}"
        )


def _no_rule(values: tuple) -> None:
    """Roster rows keep only the contract's required fields."""


CHECKS: dict[str, Callable[[tuple], None]] = {
    "crm_teams": _no_rule,
    "crm_agents": _no_rule,
    "crm_team_assignments": check_assignment,
    "crm_tickets": check_ticket,
    "crm_ticket_events": check_event,
}


def _one_of(name: str, allowed: frozenset[str]) -> tuple[str, str]:
    """The SQL twin of "<name>: <value!r> is not one of [...]" over the final value."""
    listed = str(sorted(allowed)).replace("'", "''")
    return (
        f"x_{name} is null or x_{name} not in ({', '.join(repr(v) for v in sorted(allowed))})",
        f"'{name}: ' || coalesce(raw.py_repr(x_{name}), 'None') || ' is not one of {listed}'",
    )


# The same rules over the final values (x_<field>) of the set-based landing
# (extractors/json_landing.py), in their order: (condition, reason as SQL).
SQL_CHECKS: dict[str, list[tuple[str, str]]] = {
    "crm_teams": [],
    "crm_agents": [],
    "crm_team_assignments": [
        ("x_valid_to < x_valid_from", "'valid_to: the assignment ends before it starts'"),
    ],
    "crm_tickets": [
        _one_of("channel", TICKET_CHANNELS),
        _one_of("status", TICKET_STATUSES),
        ("x_resolved_at < x_created_at", "'resolved_at: resolved before it was created'"),
    ],
    "crm_ticket_events": [_one_of("event_type", TICKET_EVENT_TYPES)],
}


def record_text(document: object) -> str:
    """A record's text for lineage and its content hash: its JSON with sorted keys."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


def page_records(pages: Iterable[tuple[str, list]]) -> Iterator[tuple[str, str, str, object]]:
    """(page, index in the page, text, record) of every record: the set-based landing's
    input (extractors/json_landing.py)."""
    for source_object, records in pages:
        for index, document in enumerate(records):
            yield source_object, str(index), record_text(document), document


def page_rows(
    source_object: str, payload: dict, parser: RowParser, data_key: str = "data"
) -> Iterator[SourceRow]:
    """A page's records one by one (the reference reading; `SQL_CHECKS` is its twin)."""
    data = payload.get(data_key)
    if not isinstance(data, list):
        raise ValueError(f"{source_object}: response has no {data_key!r} list")
    check = CHECKS[parser.mapping.raw_table]
    for _, position, text, document in page_records([(source_object, data)]):
        try:
            if not isinstance(document, dict):
                raise RowRejected("record is not a JSON object")
            values, _flags = parser.parse(json_record(document))
            check(values)
        except RowRejected as rejected:
            yield SourceRow(source_object, position, text, reason=str(rejected))
        else:
            yield SourceRow(source_object, position, text, values=values)
