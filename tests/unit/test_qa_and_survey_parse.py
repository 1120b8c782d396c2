import json
from zoneinfo import ZoneInfo

import pytest

from extractors.mapping import RowParser, load_mapping
from extractors.qa.extract import changed_rows_query
from extractors.qa.parse import table_rows
from extractors.settings import DEFAULT_MAPPINGS
from extractors.survey.parse import parse_lines

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


def _qa_parser(table: str) -> RowParser:
    return RowParser(load_mapping(DEFAULT_MAPPINGS / f"{table}.yml"))


def test_qa_times_are_utc_text():
    [row] = table_rows(
        "qa_tool.sqlite:inspections", [INSPECTION], _qa_parser("qa_inspections"), "id"
    )
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
def test_deductions_outside_their_severity_band_are_rejected(change, reason):
    [row] = table_rows(
        "qa_tool.sqlite:inspection_items", [DEDUCTION | change], _qa_parser("qa_deductions"), "id"
    )
    assert row.values is None and reason in row.reason
    assert row.position == "QI1-1"


def test_deduction_items_are_read_with_their_inspections_changes():
    delivery = load_mapping(DEFAULT_MAPPINGS / "qa_deductions.yml").delivery
    assert changed_rows_query(delivery) == (
        "select child.* from inspection_items as child join inspections as parent"
        " on parent.id = child.inspection_id where parent.updated_at >= ? and parent.updated_at < ?"
        " order by child.id"
    )


def test_survey_lines_parse_and_bad_ones_are_rejected():
    lines = [
        json.dumps(SURVEY),
        json.dumps(SURVEY | {"csat": 7}),
        json.dumps(SURVEY)[:40],
        json.dumps(SURVEY | {"contact_time": "2026-10-01T09:00:00"}),
        "",
        json.dumps(SURVEY | {"nps": 11}),
        json.dumps(SURVEY | {"csat": "four"}),
        json.dumps(SURVEY | {"responded_time": "2026-09-30T10:00:00+08:00"}),
        json.dumps([1, 2]),
    ]
    parser = RowParser(load_mapping(DEFAULT_MAPPINGS / "survey.yml"))
    rows = list(parse_lines(lines, "responses_20261002.jsonl", parser))
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
