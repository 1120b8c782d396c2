"""The set-based landing of JSON records (the CRM's API pages) reads every record as the
Python reference does (`page_rows`: RowParser + the CRM's checks): the same values, the
same quarantine reasons, the same lineage (page, index, record text and its hash) and the
same manifest counts per page.

Each case lands pages through `extractors.json_landing.land_records` into PostgreSQL and
compares every record with `page_rows` over the same pages: the independent reading."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest

from extractors.batch import make_batch
from extractors.crm.parse import COLUMNS, SQL_CHECKS, page_rows
from extractors.json_landing import land_records
from extractors.mapping import RowParser, load_mapping
from extractors.mapping_sql import CompiledMapping
from extractors.settings import DEFAULT_MAPPINGS
from warehouse.connection import connect
from warehouse.landing import BatchWriter

pytestmark = pytest.mark.integration
DAY = date(2026, 10, 2)
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


def _tickets() -> list:
    """The good ticket changed one field at a time, in ways an API gets wrong."""
    changes = [
        {},
        {"resolved_at": "2026-09-30T09:00:00+08:00"},
        {"created_at": "2026-10-01T09:00:00"},
        {"created_at": "2026-02-30T09:00:00+08:00"},
        {"created_at": "yesterday"},
        {"is_complaint": "no"},
        {"is_complaint": True, "complaint_cause": "agent", "complained_agent_id": "AG0004"},
        {"channel": "pigeon"},
        {"channel": "  chat  "},
        {"channel": None},
        {"status": "it's done"},
        {"assignee_agent_id": ""},
        {"assignee_agent_id": "   "},
        {"reopen_count": "twice"},
        {"reopen_count": 2.0},
        {"reopen_count": " 3 "},
        {"reopen_count": 99999999999},
        {"reopen_count": True},
        {"category": ["refund", "billing"]},
        {"category": {"main": "billing"}},
        {"customer_name": 'Li "Lei"\t\\ back\nslash, 王芳'},
        {"first_response_at": None, "resolved_at": None},
        {"sla_due_at": "2026-10-02 09:00:00+08:00"},
        {"updated_at": 1759366800},
    ]
    records: list = []
    for number, change in enumerate(changes):
        records.append(TICKET | {"ticket_id": f"TK{number + 1}"} | change)
    without_priority = dict(TICKET, ticket_id="TK99")
    del without_priority["priority"]
    return [*records, without_priority, "not an object", ["TK100"], None]


def _land(table: str, pages: list[tuple[str, list]]):
    mapping = load_mapping(DEFAULT_MAPPINGS / f"{table}.yml")
    compiled = CompiledMapping(mapping, sorted(mapping.source_columns()))
    batch = make_batch("crm", DAY, mapping.timezone, "run", "extract_crm", datetime.now(UTC))
    with connect() as conn:
        with BatchWriter(conn, batch, [table]) as writer:
            for source_object, _ in pages:
                writer.register_object(source_object)
            land_records(writer, table, COLUMNS[table], compiled, SQL_CHECKS[table], pages)
        names = ", ".join(COLUMNS[table])
        landed = {
            (row[0], row[1]): row[2:]
            for row in conn.execute(
                f"select source_object, source_position, content_hash, {names} from raw.{table}"
            ).fetchall()
        }
        quarantined = {
            (row[0], row[1]): row[2:]
            for row in conn.execute(
                "select source_object, source_position, reason, raw_text from raw.quarantine"
            ).fetchall()
        }
        manifest = {
            row[0]: row[1:]
            for row in conn.execute(
                "select source_object, rows_read, rows_loaded, rows_quarantined"
                " from raw.batch_manifest"
            ).fetchall()
        }
    return landed, quarantined, manifest


def _reference(table: str, pages: list[tuple[str, list]]):
    parser = RowParser(load_mapping(DEFAULT_MAPPINGS / f"{table}.yml"))
    landed, quarantined, manifest = {}, {}, {}
    for source_object, records in pages:
        rows = list(page_rows(source_object, {"data": records}, parser))
        for row in rows:
            key = (row.source_object, row.position)
            if row.values is None:
                quarantined[key] = (row.reason, row.raw_text)
            else:
                digest = hashlib.md5(row.raw_text.encode(), usedforsecurity=False).hexdigest()
                landed[key] = (digest, *row.values)
        good = sum(r.values is not None for r in rows)
        manifest[source_object] = (len(rows), good, len(rows) - good)
    return landed, quarantined, manifest


def test_every_kind_of_ticket_reads_as_the_python_reference(clean_warehouse):
    records = _tickets()
    # Three pages, the indexes restarting on each, and an empty last page.
    pages = [
        ("GET /api/v1/tickets?page=1", records[:10]),
        ("GET /api/v1/tickets?page=2", records[10:]),
        ("GET /api/v1/tickets?page=3", []),
    ]
    landed, quarantined, manifest = _land("crm_tickets", pages)
    expected_landed, expected_quarantined, expected_manifest = _reference("crm_tickets", pages)
    assert quarantined == expected_quarantined
    assert landed == expected_landed
    assert manifest == expected_manifest
    # Both kinds are present, on both pages, so the comparison covers them.
    assert len(expected_landed) >= 8 and len(expected_quarantined) >= 14
    assert {source for source, _ in expected_quarantined} == {p for p, _ in pages[:2]}
    assert manifest["GET /api/v1/tickets?page=3"] == (0, 0, 0)


@pytest.mark.parametrize(
    ("table", "good", "changes"),
    [
        (
            "crm_team_assignments",
            {
                "id": "AS1",
                "agent": "AG0001",
                "team": "T01",
                "from": "2026-09-01",
                "to": None,
                "updated_at": "2026-09-01T00:00:00+08:00",
            },
            [{"to": "2026-08-31"}, {"to": "2026-09-01"}, {"from": "soon"}, {"agent": None}],
        ),
        (
            "crm_ticket_events",
            {
                "event_id": "EV1",
                "ticket_id": "TK1",
                "event_type": "reassignment",
                "responsible_agent_id": "AG0001",
                "occurred_at": "2026-10-01T11:00:00+08:00",
            },
            [
                {"event_type": "escalation"},
                {"event_type": None},
                {"ticket_id": ""},
                {"responsible_agent_id": None},
            ],
        ),
    ],
)
def test_roster_and_event_rules_read_as_the_python_reference(clean_warehouse, table, good, changes):
    key = next(iter(good))
    records = [good] + [good | {key: f"{good[key]}-{n}"} | c for n, c in enumerate(changes)]
    pages = [(f"GET /api/v1/{table}?page=1", records)]
    landed, quarantined, manifest = _land(table, pages)
    expected = _reference(table, pages)
    assert (landed, quarantined, manifest) == expected
    assert len(expected[0]) >= 2 and len(expected[1]) >= 2
    assert any(" is not one of " in r or "before it starts" in r for r, _ in expected[1].values())
