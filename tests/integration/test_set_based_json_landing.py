"""The set-based landing of JSON records (the CRM's API pages, the survey's JSON lines)
reads every record as the Python reference does (`page_rows` / `survey_lines` of
tests/reference_reading.py: RowParser and the contract's checks): the same values, the
same quarantine reasons, the same lineage (object, position, record text and its hash) and
the same manifest counts.

Each case lands records through `extractors.json_landing.land_records` (API pages) or
`extractors.daily.land_mappings` (a JSON-lines file) into PostgreSQL and compares every
record with the record-at-a-time reading of the same input."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import pytest

from extractors.batch import make_batch
from extractors.contracts import VERSIONED
from extractors.crm.rules import TABLES as SQL_CHECKS
from extractors.daily import land_mappings, table_columns
from extractors.deliveries import Places
from extractors.json_landing import land_records
from extractors.mapping import load_mapping
from extractors.mapping_sql import CompiledMapping
from extractors.settings import DEFAULT_MAPPINGS
from tests.reference_reading import (
    CRM_COLUMNS,
    SURVEY_COLUMNS,
    RowParser,
    page_records,
    page_rows,
    survey_lines,
)
from tests.sample_records import TICKET
from warehouse.connection import connect
from warehouse.landing import BatchWriter

pytestmark = pytest.mark.integration
DAY = date(2026, 10, 2)
COLUMNS = {table: table_columns(table) for table in CRM_COLUMNS}
assert COLUMNS == CRM_COLUMNS and table_columns("survey_responses") == SURVEY_COLUMNS


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
        # ISO-8601 texts PostgreSQL and Python read differently, unless both refuse them.
        {"created_at": "2026-10-01T24:00:00+08:00"},
        {"created_at": "2026-10-01T08:59:60+08:00"},
        {"created_at": "2026-10-01+08:00"},
        {"created_at": "2026-10-01Z"},
        {"created_at": "2026-10-01T09:00:00.1234567+08:00"},
        {"created_at": "20261001T090000+0800"},
        {"created_at": "2026-10-01T09:00:00,5+08:00"},
        {"created_at": "2026-10-01T09:00+16:00"},
        {"created_at": "2026-10-01 09:00:00.5+0800"},
        {"created_at": "2026-10-01T01:00Z"},
        {"created_at": "2026-10-01T09:00:00+08"},
        {"reopen_count": "1_000"},
        {"reopen_count": "\u0663"},
        {"reopen_count": "\uff13"},
        {"reopen_count": "007"},
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
            # The records as the landing cuts a page (extractors/deliveries.page_records):
            # (page, index, text, record, no file date).
            records = ((*record, None) for record in page_records(pages))
            land_records(
                writer,
                table,
                COLUMNS[table],
                compiled,
                SQL_CHECKS[table],
                records,
                versioned=VERSIONED.get(table),
            )
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
            [
                {"to": "2026-08-31"},
                {"to": "2026-09-01"},
                {"from": "soon"},
                {"agent": None},
                {"from": "20260901"},
                {"from": "2026-W36-2"},
            ],
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


RESPONSE = {
    "response_id": "R1",
    "contact_id": "CC1",
    "channel": "phone",
    "agent_id": "AG0001",
    "contact_time": "2026-10-02T09:00:00+08:00",
    "responded_time": "2026-10-02T09:30:00+08:00",
    "csat": 4,
    "nps": 9,
    "comment": "friendly",
    "tags": ["praise"],
}


def _survey_lines() -> list[str]:
    changes = [
        {},
        {"csat": 7},
        {"csat": 0},
        {"csat": "5"},
        {"csat": 4.0},
        {"nps": 11},
        {"nps": -1},
        {"nps": None},
        {"channel": "fax"},
        {"channel": None},
        {"channel": " email "},
        {"responded_time": "2026-10-02T08:00:00+08:00"},
        {"contact_time": "2026-10-02T09:00:00"},
        {"response_id": ""},
        {"tags": ["praise", "complaint"]},
        {"comment": 'said "thanks"\t\\ and 好'},
    ]
    lines = [
        json.dumps(RESPONSE | {"response_id": f"R{n + 1}"} | change, ensure_ascii=False)
        for n, change in enumerate(changes)
    ]
    spaced = json.dumps(RESPONSE | {"response_id": "R90"}, indent=None, separators=(" ,\t", ": "))
    return [*lines, spaced, "", "   ", '{"response_id": "R91", "csat": ', "[1, 2]", "null", "42"]


def _land_survey(conn, batch, folder, mapping):
    return land_mappings(conn, batch, {mapping.raw_table: mapping}, Places(folder))


def test_every_kind_of_survey_line_reads_as_the_python_reference(clean_warehouse, tmp_path):
    mapping = load_mapping(DEFAULT_MAPPINGS / "survey.yml")
    path = tmp_path / DAY.strftime(mapping.delivery.file_pattern)
    path.parent.mkdir(parents=True)
    text = "\r\n".join(_survey_lines()) + "\r\n"
    path.write_bytes(text.encode())
    batch = make_batch("survey", DAY, mapping.timezone, "run", "extract", datetime.now(UTC))
    with connect() as conn:
        summary = _land_survey(conn, batch, tmp_path, mapping)
        names = ", ".join(SURVEY_COLUMNS)
        landed = {
            row[0]: row[1:]
            for row in conn.execute(
                f"select source_position, content_hash, {names} from raw.survey_responses"
            ).fetchall()
        }
        quarantined = {
            row[0]: row[1:]
            for row in conn.execute(
                "select source_position, reason, raw_text from raw.quarantine"
            ).fetchall()
        }
    with path.open(encoding="utf-8") as handle:
        rows = list(survey_lines(handle, path.name, RowParser(mapping)))
    assert quarantined == {r.position: (r.reason, r.raw_text) for r in rows if r.values is None}
    assert landed == {
        r.position: (hashlib.md5(r.raw_text.encode()).hexdigest(), *r.values)
        for r in rows
        if r.values is not None
    }
    assert len(landed) >= 6 and len(quarantined) >= 12
    assert (summary.rows_read, summary.rows_loaded) == (len(rows), len(landed))


def test_a_nul_or_a_lone_surrogate_quarantines_its_record_and_lands_the_rest(
    clean_warehouse, tmp_path
):
    """PostgreSQL text cannot hold NUL, nor UTF-8 a lone surrogate: a record holding one
    (as a JSON escape, or a raw NUL in a line, which is no valid JSON) is quarantined with
    the reason, the others land."""
    mapping = load_mapping(DEFAULT_MAPPINGS / "survey.yml")
    path = tmp_path / DAY.strftime(mapping.delivery.file_pattern)
    path.parent.mkdir(parents=True)
    escaped = json.dumps(RESPONSE | {"response_id": "R2", "comment": "a\u0000b"})
    raw = json.dumps(RESPONSE | {"response_id": "R3"}).replace("friendly", "fri\0endly")
    lone = json.dumps(RESPONSE | {"response_id": "R4", "comment": "\ud800"})
    lines = [json.dumps(RESPONSE), escaped, raw, lone]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = make_batch("survey", DAY, mapping.timezone, "run", "extract", datetime.now(UTC))
    with connect() as conn:
        summary = _land_survey(conn, batch, tmp_path, mapping)
        landed = conn.execute("select response_id from raw.survey_responses").fetchall()
        quarantined = conn.execute(
            "select source_position, reason, raw_text from raw.quarantine order by 1"
        ).fetchall()
    assert landed == [("R1",)]
    assert quarantined == [
        ("2", "holds a NUL character (\\u0000), which PostgreSQL text cannot store", escaped),
        ("3", "not valid JSON: Invalid control character at", raw.replace("\0", "\\u0000")),
        ("4", "holds a lone UTF-16 surrogate, which has no UTF-8 form", lone),
    ]
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (4, 1, 3)
