from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from extractors.call_center.extract import run
from extractors.call_center.parse import COLUMNS, parse_lines
from extractors.mapping import RowParser, load_mapping
from extractors.settings import DEFAULT_MAPPINGS
from simulator.exports import CALL_CENTER_HEADER
from warehouse.landing import Batch, ContractError

TZ = ZoneInfo("Asia/Shanghai")
MAPPING = load_mapping(DEFAULT_MAPPINGS / "call_center.yml")
HEADER = list(CALL_CENTER_HEADER)
GOOD = (
    "CC1,phone,phone_vip,AG0001,13800000000,2026-10-01 08:30:02,2026-10-01 08:30:32,"
    "2026-10-01 08:35:32,280,20,45,N,N,resolved,30"
)


def parse(*lines):
    return list(parse_lines(lines, HEADER, "contacts_20261001.csv", RowParser(MAPPING)))


def test_a_good_row_is_typed_in_the_centers_time_zone():
    [row] = parse(GOOD)
    assert row.reason is None
    assert row.position == "2" and row.raw_text == GOOD
    values = dict(zip(COLUMNS, row.values, strict=True))
    assert values["offered_at"] == datetime(2026, 10, 1, 8, 30, 2, tzinfo=TZ)
    assert values["offered_at"].utcoffset().total_seconds() == 8 * 3600
    assert (values["talk_seconds"], values["hold_seconds"], values["acw_seconds"]) == (280, 20, 45)
    assert values["queue_seconds"] == 30
    assert values["is_abandoned"] is False and values["is_transferred"] is False
    assert values["quality_flags"] is None


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("TalkSec", "n/a", "TalkSec: 'n/a' is not a whole number"),
        ("HoldSec", "-5", "HoldSec: -5 seconds is negative"),
        ("Abandoned", "maybe", "Abandoned: 'maybe' is not one of ['N', 'Y']"),
        ("OfferedTime", "01/10/2026 08:30", "OfferedTime: '01/10/2026 08:30' does not match"),
        ("AgentID", "", "an answered contact needs an agent: none given"),
        ("AnsweredTime", "", "an answered contact needs an answer time: none given"),
        ("AnsweredTime", "2026-10-01 08:00:00", "answered before it was offered"),
        ("EndTime", "2026-10-01 08:30:00", "the contact ended before it was answered"),
        ("Channel", "fax", "Channel: 'fax' is not one of ['chat', 'phone']"),
        ("CallID", "", "CallID: required value is missing"),
    ],
)
def test_malformed_rows_are_rejected_with_a_reason(column, value, reason):
    fields = GOOD.split(",")
    fields[HEADER.index(column)] = value
    [row] = parse(",".join(fields))
    assert row.values is None
    assert reason in row.reason
    assert row.raw_text == ",".join(fields)


def test_a_row_with_the_wrong_number_of_fields_is_rejected():
    [row] = parse(GOOD + ",extra")
    assert row.reason == "expected 15 fields, found 16"


def test_an_abandoned_call_needs_no_agent():
    fields = GOOD.split(",")
    for column, value in (
        ("AgentID", ""),
        ("AnsweredTime", ""),
        ("TalkSec", "0"),
        ("Abandoned", "Y"),
    ):
        fields[HEADER.index(column)] = value
    [row] = parse(",".join(fields))
    assert row.reason is None
    values = dict(zip(COLUMNS, row.values, strict=True))
    assert values["agent_id"] is None and values["is_abandoned"] is True


def _batch():
    start = datetime(2026, 10, 1, tzinfo=TZ)
    return Batch("run/extract_call_center", "call_center", date(2026, 10, 1), start, start, start)


def test_a_missing_delivery_stops_the_run(tmp_path):
    with pytest.raises(ContractError, match="delivery_present") as error:
        run(None, _batch(), tmp_path, MAPPING)
    assert "[call_center] batch run/extract_call_center" in str(error.value)


def test_a_renamed_column_stops_the_run(tmp_path):
    header = ",".join(HEADER).replace("TalkSec", "TalkTime")
    (tmp_path / "call_center").mkdir()
    (tmp_path / "call_center" / "contacts_20261001.csv").write_text(header + "\n" + GOOD + "\n")
    with pytest.raises(ContractError, match=r"required_columns.*\['TalkSec'\]"):
        run(None, _batch(), tmp_path, MAPPING)
