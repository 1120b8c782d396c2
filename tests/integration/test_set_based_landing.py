"""The set-based landing (the mapping compiled to SQL) reads every line as the Python
reference does (`RowParser` + the contract's checks, tests/reference_reading.py): same
values, same quarantine reasons.

Each case lands a file through `extractors.daily.land_mappings` into PostgreSQL and
compares every line with `call_center_lines` over the same text: the independent reading."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from extractors.batch import make_batch
from extractors.daily import land_mappings, table_columns
from extractors.deliveries import Places
from extractors.mapping import MappingError, load_mapping
from extractors.settings import DEFAULT_MAPPINGS
from simulator.exports import CALL_CENTER_HEADER
from tests.conftest import REPO_ROOT
from tests.reference_reading import (
    CALL_CENTER_COLUMNS,
    RowParser,
    call_center_lines,
    split_line,
)
from warehouse.connection import connect

pytestmark = pytest.mark.integration
COLUMNS = table_columns("call_center_contacts")
assert COLUMNS == CALL_CENTER_COLUMNS
SIMULATOR = load_mapping(DEFAULT_MAPPINGS / "call_center.yml")
BANK = load_mapping(REPO_ROOT / "mappings" / "anonymous_bank" / "call_center.yml")
BANK_EXPORT = REPO_ROOT / "data" / "anonymous_bank" / "data_anonymous_bank_february.txt"
GOOD = (
    "CC1,phone,phone_vip,AG0001,13800000000,2026-10-01 08:30:02,2026-10-01 08:30:32,"
    "2026-10-01 08:35:32,280,20,45,N,N,resolved,30"
)


def _variants() -> list[str]:
    """The good line changed one field at a time, in ways a vendor gets wrong."""
    header = list(CALL_CENTER_HEADER)
    changes = [
        ("TalkSec", "n/a"),
        ("TalkSec", "99999999999"),
        ("TalkSec", "+7"),
        ("TalkSec", " 12 "),
        ("HoldSec", "-5"),
        ("Abandoned", "maybe"),
        ("Abandoned", "it's"),
        ("OfferedTime", "01/10/2026 08:30"),
        ("OfferedTime", "2026-10-1 8:30:02"),
        ("OfferedTime", "2026-10-01  08:30:02"),
        ("OfferedTime", "2026-02-30 08:30:02"),
        ("OfferedTime", "2026-10-01 24:00:00"),
        ("OfferedTime", "2026-10-01 08:30:60"),
        ("OfferedTime", "2026-13-01 08:30:02"),
        ("OfferedTime", "2026-10-01T08:30:02"),
        ("AgentID", ""),
        ("AnsweredTime", ""),
        ("AnsweredTime", "2026-10-01 08:00:00"),
        ("EndTime", "2026-10-01 08:30:00"),
        ("Channel", "fax"),
        ("Channel", "  chat  "),
        ("CallID", ""),
        ("CallID", '"CC,quoted"'),
        ("Disposition", '"said ""hello"""'),
    ]
    lines = [GOOD]
    for number, (column, value) in enumerate(changes):
        fields = GOOD.split(",")
        fields[0] = f"CC{number + 2}" if column != "CallID" else fields[0]
        fields[header.index(column)] = value
        lines.append(",".join(fields))
    abandoned = GOOD.split(",")
    for column, value in (("AgentID", ""), ("AnsweredTime", ""), ("Abandoned", "Y")):
        abandoned[header.index(column)] = value
    abandoned[0] = "CC99"
    return [*lines, ",".join(abandoned), "", GOOD + ",extra", "CC100,short", "   "]


def _land(tmp_path, mapping, name: str, text: str, day: date):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    batch = make_batch("call_center", day, mapping.timezone, "run", "extract", datetime.now(UTC))
    with connect() as conn:
        summary = land_mappings(conn, batch, {mapping.raw_table: mapping}, Places(tmp_path))
        names = ", ".join(COLUMNS)
        landed = {
            row[0]: row[1:]
            for row in conn.execute(
                f"select source_position, {names} from raw.call_center_contacts"
            ).fetchall()
        }
        quarantined = dict(
            conn.execute("select source_position, reason from raw.quarantine").fetchall()
        )
    return summary, landed, quarantined


def _reference(mapping, text: str, day: date | None = None):
    header_line, *lines = text.split("\n")
    header = split_line(header_line, mapping.delivery.delimiter)
    rows = list(call_center_lines(lines, header, "file", RowParser(mapping), day))
    values = {r.position: r.values for r in rows if r.values is not None}
    reasons = {r.position: r.reason for r in rows if r.values is None}
    return values, reasons


def test_every_kind_of_line_reads_as_the_python_reference(clean_warehouse, tmp_path):
    text = ",".join(CALL_CENTER_HEADER) + "\n" + "\n".join(_variants()) + "\n"
    summary, landed, quarantined = _land(
        tmp_path, SIMULATOR, "call_center/contacts_20261001.csv", text, date(2026, 10, 1)
    )
    values, reasons = _reference(SIMULATOR, text)
    assert quarantined == reasons
    assert landed == values
    # Both kinds are present, so the comparison covers both.
    assert len(values) >= 8 and len(reasons) >= 15
    assert summary.rows_read == len(values) + len(reasons)
    assert (summary.rows_loaded, summary.rows_quarantined) == (len(values), len(reasons))


def test_the_real_bank_export_reads_as_the_python_reference(clean_warehouse, tmp_path):
    """A day of the real multi-day export (clock times, a date column, midnight rollover,
    row rules), with the lines a rule quarantines or flags made sure of."""
    header, *lines = BANK_EXPORT.read_text(encoding="utf-8").split("\n")
    day = date(1999, 2, 3)
    kept = [line for line in lines if "\t990203\t" in line or "\t990204\t" in line][:3000]
    fields = kept[0].split("\t")
    phantom = fields.copy()
    phantom[12] = "PHANTOM"
    negative = fields.copy()
    negative[8] = "-3"
    late = fields.copy()
    late[6], late[13], late[14] = "23:59:50", "0:00:10", "0:03:00"  # crosses midnight
    broken = fields.copy()
    broken[6] = "25:00:00"
    extra = ["\t".join(f) for f in (phantom, negative, late, broken)]
    text = header + "\n" + "\n".join([*kept, *extra]) + "\n"
    _, landed, quarantined = _land(tmp_path, BANK, BANK.delivery.file_pattern, text, day)
    values, reasons = _reference(BANK, text, day)
    assert quarantined == reasons
    assert landed == values
    assert len(values) > 500 and len(reasons) >= 2
    flags = {v[-1] for v in values.values()}
    assert {"negative_vru_time"} <= flags


def test_a_mapping_sql_cannot_read_is_refused_when_it_is_loaded(tmp_path):
    """A strftime directive the compiled reading does not know (%b): the mapping is refused
    when it is loaded, naming the directive and the ones accepted (there is no other
    reading to land it with)."""
    spec = yaml.safe_load((DEFAULT_MAPPINGS / "call_center.yml").read_text(encoding="utf-8"))
    spec["fields"]["offered_at"]["format"] = "%d %b %Y %H:%M:%S"
    path = tmp_path / "call_center.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with pytest.raises(MappingError, match="%b") as error:
        load_mapping(path)
    assert "fields.offered_at.format" in str(error.value)
    assert "%Y %y %m %d %H %M %S %f" in str(error.value)


NEWER = {
    "source_system": "call_center",
    "vendor": "a vendor using the newer vocabulary",
    "timezone": "Asia/Shanghai",
    "delivery": {"file_pattern": "cc_%Y%m%d.csv", "format": "csv"},
    "fields": {
        "contact_id": {"first_of": ["CallID", "AltID"], "null_values": ["-"]},
        "channel": {"from": "Channel", "values": {"phone": "phone", "chat": "chat"}},
        "queue_name": {
            "from": "Queue",
            "null_when": [{"column": "Queue", "op": "matches", "value": "^test"}],
        },
        "agent_id": {"from": "Agent"},
        "offered_at": {"from": "Offered", "format": "%H:%M:%S", "date_from_file": True},
        "queue_seconds": {"from": "QueueSec", "integral_decimals": True},
        "answered_at": {"derive": {"base": "offered_at", "plus_seconds": "queue_seconds"}},
        "ended_at": {
            "from": "Ended",
            "format": "%H:%M:%S",
            "date_from_file": True,
            "not_before": "offered_at",
        },
        "is_abandoned": {"from": "Abandoned", "values": {"Y": True, "N": False}},
    },
    "rules": [
        {
            "when": [{"column": "CallID", "op": "matches", "value": "^TOTAL"}],
            "action": "skip",
            "reason": "a subtotal line",
        },
        {
            "when": [{"column": "Queue", "op": "not matches", "value": "^(vip|std|test)"}],
            "action": "flag",
            "reason": "odd_queue",
        },
        {
            "when": [{"column": "QueueSec", "op": ">", "value": 1000}],
            "action": "quarantine",
            "reason": "queue too long",
        },
    ],
}


def test_the_newer_mapping_vocabulary_reads_as_the_python_reference(clean_warehouse, tmp_path):
    """first_of, null_when with matches, integral_decimals, derive, date_from_file (with
    the midnight rollover), and the skip and flag rules."""
    path = tmp_path / "newer.yml"
    path.write_text(yaml.safe_dump(NEWER), encoding="utf-8")
    mapping = load_mapping(path)
    lines = [
        "C1,,phone,vip,A1,08:00:00,30,08:05:00,N",
        ",C2,phone,std,A1,08:00:00,30.0,08:05:00,N",
        "-,-,phone,std,A1,08:00:00,30,08:05:00,N",
        "C4,,chat,test1,A1,23:59:00,30,00:02:00,N",
        "C5,,phone,other,A1,08:00:00,30.5,08:05:00,N",
        "C6,,phone,other,A1,08:00:00,30,08:05:00,N",
        "TOTAL,,,,,,,,",
        "C8,,phone,vip,A1,08:00:00,2000,08:05:00,N",
        "C9,,phone,vip,A1,8:0:0,,,Y",
        "C10,,fax,vip,A1,08:00:00,30,08:05:00,N",
        "C11,,phone,vip,,25:00:00,30,08:05:00,N",
    ]
    header = "CallID,AltID,Channel,Queue,Agent,Offered,QueueSec,Ended,Abandoned"
    text = header + "\n" + "\n".join(lines) + "\n"
    day = date(2026, 10, 1)
    summary, landed, quarantined = _land(tmp_path, mapping, "cc_20261001.csv", text, day)
    rows = list(
        call_center_lines(lines, split_line(header, ","), "file", RowParser(mapping), file_date=day)
    )
    assert quarantined == {r.position: r.reason for r in rows if r.reason is not None}
    assert landed == {r.position: r.values for r in rows if r.values is not None}
    assert summary.rows_skipped == sum(r.skipped for r in rows) == 1
    assert summary.rows_read == len(rows)
    assert len(landed) >= 4 and len(quarantined) >= 4
    at = {name: i for i, name in enumerate(COLUMNS)}
    crossed = landed["5"]  # 23:59 to 00:02: ended the next day
    assert crossed[at["ended_at"]] == datetime(2026, 10, 2, 0, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert crossed[at["queue_name"]] is None and landed["7"][at["quality_flags"]] == "odd_queue"
