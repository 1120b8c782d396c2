"""QA database rows and survey JSON lines as the landing reads them (into the warehouse),
each read alike by the Python reference (tests/reference_reading.py)."""

import json
import sqlite3
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from extractors.batch import make_batch
from extractors.contracts import VERSIONED
from extractors.daily import land_mappings, source_rules, table_columns
from extractors.deliveries import Places, changed_rows_query
from extractors.json_landing import land_records
from extractors.mapping import load_mapping
from extractors.mapping_sql import CompiledMapping
from extractors.settings import DEFAULT_MAPPINGS
from tests.reference_reading import (
    RowParser,
    kept_rows,
    landed_rows,
    survey_lines,
    table_rows,
)
from warehouse.connection import connect
from warehouse.landing import BatchWriter

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")
DEDUCTION = {
    "id": "QI1-1",
    "inspection_id": "QI1",
    "dimension": "communication",
    "severity": "general",
    "points": 5,
    "note": "",
}
INSPECTION = {
    "id": "QI1",
    "record_type": "call",
    "record_id": "CC1",
    "agent_code": "AG0001",
    "record_time": "2026-10-01 01:00:00",
    "inspector": "Li Na",
    "inspected_time": "2026-10-03 02:00:00",
    "updated_at": "2026-10-03 02:00:00",
}
SURVEY = {
    "response_id": "SV1",
    "contact_id": "CC1",
    "channel": "phone",
    "agent_id": "AG0001",
    "contact_time": "2026-10-01T09:00:00+08:00",
    "responded_time": "2026-10-02T10:00:00+08:00",
    "csat": 4,
    "nps": 9,
    "comment": "thanks",
    "tags": ["praise"],
}


def _qa_mapping(table: str):
    return load_mapping(DEFAULT_MAPPINGS / f"{table}.yml")


def _qa_reference(table: str, source_object: str, records: list[dict]):
    mapping = _qa_mapping(table)
    rows = table_rows(source_object, records, RowParser(mapping), mapping.delivery.key_column)
    return kept_rows(rows)


def _texts(rows) -> dict:
    return {(r.source_object, r.position): r.raw_text for r in rows}


def _land_qa_database(tmp_path, records: list[dict]):
    """The inspections as rows of the QA tool's SQLite database, landed for the day they
    changed on (the whole path: the changed rows' query, then the compiled mapping); the
    reference reads them alike."""
    database = tmp_path / "qa_tool.sqlite"
    columns = list(records[0])
    with sqlite3.connect(database) as db:
        db.execute(f"create table inspections ({', '.join(columns)})")
        db.executemany(
            f"insert into inspections values ({', '.join('?' * len(columns))})",
            [tuple(r.values()) for r in records],
        )
    db.close()
    mapping = _qa_mapping("qa_inspections")
    batch = make_batch("qa", date(2026, 10, 3), "Asia/Shanghai", "run", "extract_qa", _now())
    places = Places(tmp_path, database=str(database))
    reference = _qa_reference("qa_inspections", "qa_tool.sqlite:inspections", records)
    with connect() as conn:
        land_mappings(conn, batch, {"qa_inspections": mapping}, places)
        columns = table_columns("qa_inspections")
        rows = landed_rows(conn, "qa_inspections", columns, mapping.timezone, _texts(reference))
    assert rows == reference
    return rows


def _land_qa_rows(table: str, source_object: str, records: list[dict]):
    """Rows of a QA table as the landing cuts a database's rows (extractors/deliveries.py:
    the row's values joined by '|' as its text, its key as its position), typed and
    checked by the compiled mapping. (A deduction without its inspection_id would not even
    be read from the database, whose query joins it to its inspection.)"""
    mapping = _qa_mapping(table)
    key = mapping.delivery.key_column
    cut = [
        (
            source_object,
            str(record.get(key)),
            "|".join("" if v is None else str(v) for v in record.values()),
            record,
            None,
        )
        for record in records
    ]
    compiled = CompiledMapping(mapping, sorted(mapping.source_columns()), file_date="file_date")
    batch = make_batch("qa", date(2026, 10, 3), "Asia/Shanghai", "run", "extract_qa", _now())
    columns = table_columns(table)
    reference = _qa_reference(table, source_object, records)
    with connect() as conn:
        with BatchWriter(conn, batch, [table]) as writer:
            writer.register_object(source_object)
            land_records(
                writer,
                table,
                columns,
                compiled,
                source_rules("qa")[table],
                cut,
                "row is not a record",
                versioned=VERSIONED.get(table),
            )
        rows = landed_rows(conn, table, columns, mapping.timezone, _texts(reference))
    assert rows == reference
    return rows


def _now() -> datetime:
    return datetime.now(UTC)


def test_qa_times_are_utc_text(clean_warehouse, tmp_path):
    [row] = _land_qa_database(tmp_path, [INSPECTION])
    assert row.values[4].isoformat() == "2026-10-01T01:00:00+00:00"
    assert row.values[4].astimezone(TZ).hour == 9
    assert row.position == "QI1"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"severity": "minor", "points": 5}, "points (minor): 5 is outside 1..3"),
        ({"severity": "severe", "points": 6}, "points (severe): 6 is outside 7..10"),
        ({"severity": "fatal"}, "severity: 'fatal' is not one of"),
        ({"dimension": "speed"}, "dimension: 'speed' is not one of"),
        ({"points": "five"}, "points: 'five' is not a whole number"),
        ({"inspection_id": None}, "inspection_id: required value is missing"),
    ],
)
def test_deductions_outside_their_severity_band_are_rejected(clean_warehouse, change, reason):
    [row] = _land_qa_rows("qa_deductions", "qa_tool.sqlite:inspection_items", [DEDUCTION | change])
    assert row.values is None and reason in row.reason
    assert row.position == "QI1-1"


def test_deduction_items_are_read_with_their_inspections_changes():
    delivery = load_mapping(DEFAULT_MAPPINGS / "qa_deductions.yml").delivery
    query = changed_rows_query(delivery)
    assert query == (
        "select child.* from inspection_items as child join inspections as parent"
        " on parent.id = child.inspection_id"
        " where parent.updated_at >= :start and parent.updated_at < :end"
        " order by child.id"
    )
    # As a SQLite file is asked (extractors/deliveries.changed_rows): the same query as before.
    assert query.replace(":start", "?").replace(":end", "?") == (
        "select child.* from inspection_items as child join inspections as parent"
        " on parent.id = child.inspection_id where parent.updated_at >= ? and parent.updated_at < ?"
        " order by child.id"
    )


def test_survey_lines_parse_and_bad_ones_are_rejected(clean_warehouse, tmp_path):
    lines = [
        json.dumps(SURVEY),
        json.dumps(SURVEY | {"csat": 7}),
        json.dumps(SURVEY)[:40],
        json.dumps(SURVEY | {"contact_time": "2026-10-01T09:00:00"}),
        "",
        json.dumps(SURVEY | {"nps": 11}),
        json.dumps(SURVEY | {"csat": "four"}),
        json.dumps(
            SURVEY
            | {
                "contact_time": "2026-10-02T12:00:00+08:00",
                "responded_time": "2026-10-02T10:00:00+08:00",
            }
        ),
        json.dumps([1, 2]),
    ]
    mapping = load_mapping(DEFAULT_MAPPINGS / "survey.yml")
    name = "responses_20261002.jsonl"
    path = tmp_path / date(2026, 10, 2).strftime(mapping.delivery.file_pattern)
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = make_batch("survey", date(2026, 10, 2), mapping.timezone, "run", "extract", _now())
    reference = kept_rows(survey_lines(lines, name, RowParser(mapping)))
    with connect() as conn:
        land_mappings(conn, batch, {"survey_responses": mapping}, Places(tmp_path))
        columns = table_columns("survey_responses")
        rows = landed_rows(conn, "survey_responses", columns, mapping.timezone, _texts(reference))
    assert rows == reference
    assert [r.position for r in rows] == ["1", "2", "3", "4", "6", "7", "8", "9"]
    assert rows[0].values[6:] == (4, 9, "thanks", "praise")
    assert rows[0].values[4].isoformat() == "2026-10-01T09:00:00+08:00"
    assert rows[1].reason == "csat_score: 7 is outside 1..5"
    assert rows[2].reason.startswith("not valid JSON")
    assert rows[3].reason == "contact_time: '2026-10-01T09:00:00' has no time zone offset"
    assert rows[4].reason == "nps_score: 11 is outside 0..10"
    assert rows[5].reason == "csat: 'four' is not a whole number"
    assert rows[6].reason == "responded before the contact began"
    assert rows[7].reason == "line is not a JSON object"
