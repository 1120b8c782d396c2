"""Vendor mappings: every mistake is reported with its place; good mappings parse rows,
alike in the landing's compiled SQL and in the Python reference (tests/reference_reading.py)."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from extractors.batch import make_batch
from extractors.daily import table_columns
from extractors.json_landing import land_records
from extractors.mapping import MappingError, load_mapping
from extractors.mapping_sql import CompiledMapping
from tests.conftest import REPO_ROOT
from tests.reference_reading import RowParser, RowRejected, landed_rows
from warehouse.connection import connect
from warehouse.landing import BatchWriter

BANK = REPO_ROOT / "mappings" / "anonymous_bank" / "call_center.yml"
SIMULATOR = REPO_ROOT / "mappings" / "simulator" / "call_center.yml"
BANK_HEADER = [
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
]


def _write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "mapping.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _broken(tmp_path, change) -> MappingError:
    document = yaml.safe_load(SIMULATOR.read_text())
    change(document)
    with pytest.raises(MappingError) as error:
        load_mapping(_write(tmp_path, document))
    return error.value


def test_the_shipped_mappings_are_valid():
    shipped = sorted((REPO_ROOT / "mappings").glob("*/*.yml"))
    names = [p.relative_to(REPO_ROOT / "mappings").as_posix() for p in shipped]
    assert "anonymous_bank/call_center.yml" in names
    # The simulator's own formats are mappings too, one per raw table it fills.
    assert {n.split("/")[1] for n in names if n.startswith("simulator/")} >= {
        "call_center.yml",
        "survey.yml",
        "qa_inspections.yml",
        "qa_deductions.yml",
        "qa_rectifications.yml",
        "crm_teams.yml",
        "crm_agents.yml",
        "crm_tickets.yml",
    }
    for path in shipped:
        mapping = load_mapping(path)
        assert path.stem in (mapping.source_system, mapping.raw_table)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["fields"].update(talk_secs={"from": "TalkSec"}),
            "fields.talk_secs: not a field of the call_center_contacts contract",
        ),
        (
            lambda d: d["fields"].pop("contact_id"),
            "fields.contact_id: required by the contract but not mapped",
        ),
        (
            lambda d: d["fields"]["talk_seconds"].update(type="text"),
            "fields.talk_seconds.type: 'text' cannot fill a seconds field",
        ),
        (
            lambda d: d["fields"]["talk_seconds"].update(type="float"),
            "fields.talk_seconds.type: Input should be",
        ),
        (
            lambda d: d["fields"]["offered_at"].pop("format"),
            "fields.offered_at.format: a timestamp needs",
        ),
        (
            lambda d: d["fields"]["is_abandoned"].pop("values"),
            "fields.is_abandoned.values: say which source",
        ),
        (
            lambda d: d["fields"]["customer_number"].pop("personal_data"),
            "fields.customer_number.personal_data: this field holds personal data",
        ),
        (
            lambda d: d.update(timezone="China/Beijing"),
            "timezone: 'China/Beijing' is not an IANA time zone",
        ),
        (
            lambda d: d["fields"]["channel"].update(constant="phone"),
            "give exactly one origin: 'from' (source columns)",
        ),
        (
            lambda d: d.update(colour="blue"),
            "colour: unknown key (top-level keys: source_system, table, vendor",
        ),
        (lambda d: d.pop("delivery"), "delivery: Field required"),
        (
            lambda d: d["delivery"].update(day_column="date"),
            "day_column and day_format go together",
        ),
        (
            lambda d: d.update(source_system="billing"),
            "source_system: Input should be 'call_center'",
        ),
        (
            lambda d: d["fields"]["ended_at"].update(not_before="talk_seconds"),
            "fields.ended_at.not_before: 'talk_seconds' is not a mapped timestamp field",
        ),
    ],
)
def test_each_mistake_is_named_with_its_place(tmp_path, change, expected):
    error = _broken(tmp_path, change)
    assert expected in str(error)
    assert str(tmp_path / "mapping.yml") in str(error)


def test_all_mistakes_are_listed_at_once(tmp_path):
    def two_mistakes(d):
        d["fields"].pop("contact_id")
        d.update(timezone="Mars/Olympus")

    assert len(_broken(tmp_path, two_mistakes).problems) == 2


def test_a_file_that_is_not_yaml_is_refused(tmp_path):
    path = tmp_path / "mapping.yml"
    path.write_text("fields: [unclosed")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(path)


def test_columns_the_file_lacks_are_named():
    mapping = load_mapping(BANK)
    header = [c for c in BANK_HEADER if c not in ("server", "q_time")]
    assert mapping.missing_columns(header) == ["q_time", "server"]


def _bank_record(**values) -> dict:
    line = (
        "AA0102 31307 0 0 PS 990220 23:59:32 23:59:44 12 0:00:00 0:00:00 0 AGENT 23:59:43 0:01:28"
        " 105 DARMON"
    )
    record = dict(zip(BANK_HEADER, line.split(" "), strict=True))
    record.update(values)
    return record


def _landed(mapping, record: dict) -> tuple[tuple, list[str]]:
    """One record read by the landing's compiled mapping, in the warehouse, as
    RowParser.parse gives it: (values in contract order, flags), or RowRejected with the
    reason. No contract rule is applied (only the mapping's own rules), as in parse."""
    table = mapping.raw_table
    columns = table_columns(table)
    compiled = CompiledMapping(mapping, sorted(mapping.source_columns()), file_date="file_date")
    batch = make_batch(
        mapping.source_system, date(2026, 10, 1), mapping.timezone, "run", "test", datetime.now(UTC)
    )
    with connect() as conn:
        with BatchWriter(conn, batch, [table]) as writer:
            writer.register_object("record")
            text = json.dumps(record)
            land_records(
                writer, table, columns, compiled, [], [("record", "1", text, record, None)]
            )
        [row] = landed_rows(conn, table, columns, mapping.timezone)
    if row.values is None:
        raise RowRejected(row.reason)
    if columns[-1] == "quality_flags":
        flags = row.values[-1]
        return row.values[:-1], flags.split(",") if flags else []
    return row.values, []


@pytest.fixture(params=["reference", pytest.param("landing", marks=pytest.mark.integration)])
def parse(request):
    """parse(mapping, record) of one of the two readings: the Python reference, record by
    record, or the landing's compiled SQL (which needs the warehouse)."""
    if request.param == "reference":
        return lambda mapping, record: RowParser(mapping).parse(record)
    request.getfixturevalue("clean_warehouse")
    return _landed


def test_clock_times_take_the_date_and_cross_midnight(parse):
    mapping = load_mapping(BANK)
    values, flags = parse(mapping, _bank_record())
    row = dict(zip([f.name for f in mapping.contract], values, strict=True))
    tz = ZoneInfo("Asia/Jerusalem")
    assert row["contact_id"] == "AA0102-31307"
    assert row["offered_at"] == datetime(1999, 2, 20, 23, 59, 32, tzinfo=tz)
    assert row["answered_at"] == datetime(1999, 2, 20, 23, 59, 43, tzinfo=tz)
    assert row["ended_at"] == datetime(1999, 2, 21, 0, 1, 28, tzinfo=tz)  # next day
    assert row["customer_number"] is None  # customer 0: unidentified
    assert row["hold_seconds"] is None and row["is_transferred"] is None  # not available
    assert row["channel"] == "phone" and row["is_abandoned"] is False and flags == []


def test_a_few_seconds_of_clock_skew_is_not_a_new_day(parse):
    mapping = load_mapping(BANK)
    values, _ = parse(
        mapping, _bank_record(vru_entry="7:02:56", ser_start="7:02:55", ser_exit="7:05:41")
    )
    row = dict(zip([f.name for f in mapping.contract], values, strict=True))
    assert row["answered_at"] == datetime(1999, 2, 20, 7, 2, 55, tzinfo=ZoneInfo("Asia/Jerusalem"))


def test_rules_quarantine_or_flag_by_source_values(parse):
    mapping = load_mapping(BANK)
    with pytest.raises(RowRejected, match="phantom call"):
        parse(mapping, _bank_record(outcome="PHANTOM"))
    _, flags = parse(mapping, _bank_record(outcome="HANG", vru_time="-57"))
    assert flags == ["negative_vru_time", "hang_up_with_service_time"]
    with pytest.raises(RowRejected, match=r"outcome: 'BUSY' is not one of \['AGENT', 'HANG'\]"):
        parse(mapping, _bank_record(outcome="BUSY"))


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        (
            "qa_inspections.yml",
            lambda d: d["delivery"].update(table="inspections; drop table x"),
            "delivery.table: String should match pattern",
        ),
        (
            "qa_inspections.yml",
            lambda d: d.update(table="qa_audits"),
            "table: 'qa_audits' is not a raw table of qa",
        ),
        (
            "crm_tickets.yml",
            lambda d: d["delivery"].pop("before_param"),
            "since_param and before_param go together",
        ),
        (
            "crm_agents.yml",
            lambda d: d["fields"]["hired_on"].pop("format"),
            "fields.hired_on.format: a date needs its strftime format",
        ),
    ],
)
def test_api_and_database_mapping_mistakes_are_named(tmp_path, file, change, expected):
    document = yaml.safe_load((REPO_ROOT / "mappings" / "simulator" / file).read_text())
    change(document)
    with pytest.raises(MappingError) as error:
        load_mapping(_write(tmp_path, document))
    assert expected in str(error.value)


@pytest.mark.parametrize(
    ("text", "seconds"), [("0:01:05", 65), ("1:00:00", 3600), ("42", 42), ("0:-1:00", None)]
)
def test_durations_read_as_seconds(parse, tmp_path, text, seconds):
    document = yaml.safe_load(SIMULATOR.read_text())
    document["fields"]["hold_seconds"] = {"from": "HoldSec", "type": "duration"}
    mapping = load_mapping(_write(tmp_path, document))
    record = {
        "Channel": "phone",
        "OfferedTime": "2026-10-01 08:30:00",
        "Abandoned": "Y",
        "HoldSec": text,
        "CallID": "CC1",
    }
    if seconds is None:
        with pytest.raises(RowRejected, match="is not a duration H:MM:SS"):
            parse(mapping, record)
    else:
        values, _ = parse(mapping, record)
        assert values[[f.name for f in mapping.contract].index("hold_seconds")] == seconds
