"""An ACD export's lines as the landing reads them (extractors/daily.land_mappings into
the warehouse), each read alike by the Python reference (tests/reference_reading.py)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from extractors.daily import land_mappings, table_columns
from extractors.deliveries import Places
from extractors.mapping import load_mapping
from extractors.settings import DEFAULT_MAPPINGS
from simulator.exports import CALL_CENTER_HEADER
from tests.reference_reading import RowParser, call_center_lines, kept_rows, landed_rows
from warehouse.connection import connect
from warehouse.landing import Batch, ContractError

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")
MAPPING = load_mapping(DEFAULT_MAPPINGS / "call_center.yml")
COLUMNS = table_columns("call_center_contacts")
HEADER = list(CALL_CENTER_HEADER)
FILE = "contacts_20261001.csv"
GOOD = (
    "CC1,phone,phone_vip,AG0001,13800000000,2026-10-01 08:30:02,2026-10-01 08:30:32,"
    "2026-10-01 08:35:32,280,20,45,N,N,resolved,30"
)


def _land(conn, folder):
    return land_mappings(conn, _batch(), {MAPPING.raw_table: MAPPING}, Places(folder))


@pytest.fixture
def parse(clean_warehouse, tmp_path):
    """Land the lines as the day's export; the rows landed and quarantined, in line order,
    which must be the reference's reading of the same lines."""

    def parse(*lines):
        path = tmp_path / "call_center" / FILE
        path.parent.mkdir(exist_ok=True)
        path.write_text(",".join(HEADER) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
        texts = {(FILE, str(number)): line for number, line in enumerate(lines, start=2)}
        with connect() as conn:
            _land(conn, tmp_path)
            rows = landed_rows(conn, "call_center_contacts", COLUMNS, MAPPING.timezone, texts)
        reference = call_center_lines(lines, HEADER, FILE, RowParser(MAPPING))
        assert rows == kept_rows(reference)
        return rows

    return parse


def test_a_good_row_is_typed_in_the_centers_time_zone(parse):
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
def test_malformed_rows_are_rejected_with_a_reason(parse, column, value, reason):
    fields = GOOD.split(",")
    fields[HEADER.index(column)] = value
    [row] = parse(",".join(fields))
    assert row.values is None
    assert reason in row.reason
    assert row.raw_text == ",".join(fields)


def test_a_row_with_the_wrong_number_of_fields_is_rejected(parse):
    [row] = parse(GOOD + ",extra")
    assert row.reason == "expected 15 fields, found 16"


def test_an_abandoned_call_needs_no_agent(parse):
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
    end = datetime(2026, 10, 2, tzinfo=TZ)
    return Batch("run/extract_call_center", "call_center", date(2026, 10, 1), start, end, start)


def test_a_missing_delivery_stops_the_run(clean_warehouse, tmp_path):
    with connect() as conn, pytest.raises(ContractError, match="delivery_present") as error:
        _land(conn, tmp_path)
    assert "[call_center] batch run/extract_call_center" in str(error.value)


def test_a_renamed_column_stops_the_run(clean_warehouse, tmp_path):
    header = ",".join(HEADER).replace("TalkSec", "TalkTime")
    (tmp_path / "call_center").mkdir()
    (tmp_path / "call_center" / "contacts_20261001.csv").write_text(header + "\n" + GOOD + "\n")
    with (
        connect() as conn,
        pytest.raises(ContractError, match=r"required_columns.*\['TalkSec'\]"),
    ):
        _land(conn, tmp_path)
