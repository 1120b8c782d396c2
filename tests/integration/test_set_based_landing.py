"""The set-based landing (the mapping compiled to SQL) reads every line as the Python
reference does (`RowParser` + the contract's checks): same values, same quarantine reasons.

Each case lands a file through `extractors.call_center.extract.run` into PostgreSQL and
compares every line with `parse_lines` over the same text: the independent reading."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from extractors.batch import make_batch
from extractors.call_center.extract import run
from extractors.call_center.parse import COLUMNS, parse_lines, split_line
from extractors.mapping import RowParser, load_mapping
from extractors.mapping_sql import CompiledMapping, NotCompilable
from extractors.settings import DEFAULT_MAPPINGS
from simulator.exports import CALL_CENTER_HEADER
from tests.conftest import REPO_ROOT
from warehouse.connection import connect

pytestmark = pytest.mark.integration
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
        summary = run(conn, batch, tmp_path, mapping)
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
    rows = list(parse_lines(lines, header, "file", RowParser(mapping), day))
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


def test_a_mapping_sql_cannot_read_lands_record_by_record(clean_warehouse, tmp_path):
    """A strftime directive the compiler does not know (%b): the Python reading lands it."""
    spec = SIMULATOR.model_dump(by_alias=True)
    spec["fields"]["offered_at"]["format"] = "%d %b %Y %H:%M:%S"
    mapping = type(SIMULATOR).model_validate(spec)
    with pytest.raises(NotCompilable, match="%b"):
        CompiledMapping(mapping, list(CALL_CENTER_HEADER))
    fields = GOOD.split(",")
    fields[5] = "01 Oct 2026 08:30:02"
    text = ",".join(CALL_CENTER_HEADER) + "\n" + ",".join(fields) + "\n"
    _, landed, quarantined = _land(
        tmp_path, mapping, "call_center/contacts_20261001.csv", text, date(2026, 10, 1)
    )
    assert quarantined == {}
    assert landed == _reference(mapping, text)[0]
    offered = landed["2"][COLUMNS.index("offered_at")]
    assert offered == datetime(2026, 10, 1, 8, 30, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
