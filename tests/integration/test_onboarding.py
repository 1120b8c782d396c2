"""A new center's onboarding mistakes and its vendors' quirks, each with its documented
outcome: a mapping refused with a sentence naming what is accepted, a delivery stopped
naming source, batch and rule, or rows quarantined with their reason; none lands a row on
a day that is not its batch's. And the same data delivered in another kind (a workbook or
an OpenDocument spreadsheet for every source, a JSON-lines file of many days) lands the
same rows as the source's own delivery."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yaml

from extractors.batch import make_batch
from extractors.daily import land_mappings, source_mappings
from extractors.deliveries import Places, changed_rows
from extractors.mapping import MappingError, load_mapping
from extractors.settings import DEFAULT_MAPPINGS
from simulator import exports
from simulator.config import SimulationConfig
from simulator.crm_api import CrmData
from simulator.world import build_world
from warehouse.connection import connect
from warehouse.landing import ContractError

pytestmark = pytest.mark.integration
ZONE = "Asia/Shanghai"
DAY = date(2026, 10, 8)
CONFIG = SimulationConfig(start_date=DAY - timedelta(days=2), days=3, n_agents=12, dirt=False)
LINEAGE = {"source_object", "source_position", "batch_id", "extracted_at", "content_hash"}


def _mapping(tmp_path: Path, document: dict, name: str = "mapping.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return load_mapping(path)


def _simulator(name: str) -> dict:
    return yaml.safe_load((DEFAULT_MAPPINGS / name).read_text())


def _refused(tmp_path, document) -> str:
    with pytest.raises(MappingError) as error:
        _mapping(tmp_path, document)
    return str(error.value)


def _land(mapping, folder: Path, day: date = DAY, run: str = "r1", places: Places | None = None):
    batch = make_batch(mapping.source_system, day, ZONE, run, "extract", datetime.now(UTC))
    with connect() as conn:
        return land_mappings(conn, batch, {mapping.raw_table: mapping}, places or Places(folder))


def _rows(table: str, day: date | None = None) -> pd.DataFrame:
    with connect() as conn:
        cursor = conn.execute(
            f"select * from raw.{table}" + (" where batch_date = %s" if day else ""),
            (day,) if day else (),
        )
        frame = pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])
    kept = [c for c in frame.columns if c not in LINEAGE]
    return frame[kept].sort_values(kept[0], ignore_index=True).astype(str)


def _reasons() -> list[str]:
    with connect() as conn:
        return [r[0] for r in conn.execute("select reason from raw.quarantine order by reason")]


@pytest.fixture
def sample(tmp_path, clean_warehouse):
    exports.write_all(build_world(CONFIG), tmp_path)
    return tmp_path


# -- mappings refused before anything lands -----------------------------------------------------


def test_clock_times_without_a_date_are_refused(tmp_path):
    document = _simulator("call_center.yml")
    document["fields"]["offered_at"] = {"from": "OfferedTime", "format": "%H:%M:%S"}
    message = _refused(tmp_path, document)
    assert "fields.offered_at.format: '%H:%M:%S' names no day" in message
    assert "every row would land on 1900-01-01" in message
    assert "date_from" in message and "date_from_file: true" in message


def test_unknown_and_unused_keys_are_refused_naming_what_is_accepted(tmp_path):
    document = _simulator("call_center.yml")
    document["delivery"]["sheet"] = "Calls"  # a workbook's key on a csv delivery
    document["fields"]["queue_name"]["formt"] = "x"
    message = _refused(tmp_path, document)
    assert "delivery.sheet: unknown key (keys of a csv delivery: file_pattern" in message
    assert "fields.queue_name.formt: unknown key (keys of a field: from, join" in message
    document = _simulator("call_center.yml")
    document["fields"]["queue_name"]["format"] = "%Y"
    document["fields"]["channel"] = {"constant": "phone", "null_values": ["-"]}
    message = _refused(tmp_path, document)
    assert "fields.queue_name.format: only dates and times have a format" in message
    assert "fields.channel.null_values: the field reads no source column" in message


def test_a_derived_field_of_the_wrong_type_is_refused(tmp_path):
    document = _simulator("call_center.yml")
    document["fields"]["talk_seconds"] = {
        "derive": {"base": "offered_at", "plus_seconds": "queue_seconds"}
    }
    document["fields"]["answered_at"] = {"derive": {"base": "queue_seconds", "plus_seconds": "x"}}
    message = _refused(tmp_path, document)
    assert "fields.talk_seconds.derive: a derived field is a timestamp" in message
    assert "fields.answered_at.derive.base: 'queue_seconds' is a seconds field" in message
    assert "fields.answered_at.derive.plus_seconds: 'x' is not a mapped field" in message


def test_an_unreadable_format_and_a_file_pattern_without_a_day_are_refused(tmp_path):
    document = _simulator("call_center.yml")
    document["fields"]["offered_at"]["format"] = "%d %b %Y %H:%M"
    document["delivery"]["file_pattern"] = "calls.csv"
    message = _refused(tmp_path, document)
    assert "%b in '%d %b %Y %H:%M' is not read (the directives read: %Y %y %m" in message
    assert "delivery.file_pattern: 'calls.csv' names no day" in message
    assert "a file for many days needs day_column and day_format" in message
    document = _simulator("survey.yml")
    document["delivery"]["format"] = "parquet"
    assert "'parquet' is not a delivery kind (kinds: csv, jsonl, xlsx, ods" in _refused(
        tmp_path, document
    )


def test_an_api_without_a_cursor_for_an_event_table_is_refused(tmp_path):
    document = _simulator("crm_tickets.yml")
    del document["delivery"]["since_param"], document["delivery"]["before_param"]
    assert "an endpoint without a cursor would land its whole history every day" in _refused(
        tmp_path, document
    )


# -- deliveries stopped or rows quarantined ---------------------------------------------------


def test_a_binary_file_given_as_csv_is_stopped(sample, tmp_path):
    mapping = load_mapping(DEFAULT_MAPPINGS / "call_center.yml")
    path = sample / DAY.strftime(mapping.delivery.file_pattern)
    pd.read_csv(path, dtype=str).to_excel(tmp_path / "book.xlsx", index=False)
    path.write_bytes((tmp_path / "book.xlsx").read_bytes())
    with pytest.raises(ContractError, match="is a zip archive \\(a workbook\\?\\), not csv text"):
        _land(mapping, sample)
    path.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    with pytest.raises(ContractError, match="rule 'text_delivery'.* is a PNG image"):
        _land(mapping, sample)


def test_rows_on_another_day_are_quarantined_and_a_wrong_day_file_is_stopped(sample):
    mapping = load_mapping(DEFAULT_MAPPINGS / "call_center.yml")
    day_before = DAY - timedelta(days=1)
    path = sample / DAY.strftime(mapping.delivery.file_pattern)
    lines = path.read_text().splitlines()
    earlier = (sample / day_before.strftime(mapping.delivery.file_pattern)).read_text()
    moved = earlier.splitlines()[1]  # a contact of the day before, in this day's file
    path.write_text("\n".join([*lines, moved]) + "\n")
    summary = _land(mapping, sample)
    assert summary.rows_read == len(lines)  # the header is not a row
    assert summary.rows_quarantined == 1
    [reason] = _reasons()
    assert reason == (
        f"row on another day: offered_at falls on {day_before}, the batch holds the days {DAY}"
    )
    assert (_rows("call_center_contacts").offered_at.str[:10] == str(DAY)).all()
    # The day before's whole file delivered as this day's: stopped, nothing of it lands.
    path.write_text(earlier)
    with pytest.raises(ContractError, match="lie on other days") as error:
        _land(mapping, sample, run="r2")
    assert "rule 'row_on_another_day'" in str(error.value)
    assert len(_rows("call_center_contacts")) == len(lines) - 1  # the first landing stays


def test_a_json_lines_file_of_many_days_lands_each_day_once(sample, tmp_path):
    """A day_column on a JSON-lines delivery: each run lands its day's rows only."""
    folder = tmp_path / "one_file"
    folder.mkdir()
    mapping_doc = _simulator("survey.yml")
    lines = []
    for path in sorted((sample / "surveys").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            record["received"] = path.stem.split("_")[1]
            lines.append(json.dumps(record))
    (folder / "all.jsonl").write_text("\n".join(lines) + "\n")
    mapping_doc["delivery"].update(
        file_pattern="all.jsonl", day_column="received", day_format="%Y%m%d"
    )
    mapping = _mapping(tmp_path, mapping_doc)
    own = load_mapping(DEFAULT_MAPPINGS / "survey.yml")
    for day in (DAY - timedelta(days=1), DAY):
        summary = _land(mapping, folder, day)
        received = [json.loads(li) for li in lines if json.loads(li)["received"] == f"{day:%Y%m%d}"]
        assert summary.rows_read == len(received) > 0
    _land(mapping, folder, DAY, run="again")  # a rerun replaces, never doubles
    one_file = _rows("survey_responses")
    with connect() as conn:
        conn.execute("truncate raw.survey_responses, raw.batch_manifest, raw.quarantine")
    for day in (DAY - timedelta(days=1), DAY):
        _land(own, sample, day)
    pd.testing.assert_frame_equal(one_file, _rows("survey_responses"))


# -- the same data in another delivery kind lands the same rows --------------------------------


def _records_of(table: str, sample: Path) -> list[dict]:
    """The simulator's own delivery of DAY for a table, as records of texts."""
    source = next(s for s in ("call_center", "survey", "crm", "qa") if table.startswith(s))
    mapping = source_mappings(source, DEFAULT_MAPPINGS)[table]
    delivery = mapping.delivery
    if table == "call_center_contacts":
        with (sample / DAY.strftime(delivery.file_pattern)).open() as handle:
            return list(csv.DictReader(handle))
    if table == "survey_responses":
        text = (sample / DAY.strftime(delivery.file_pattern)).read_text()
        return [json.loads(line) for line in text.splitlines()]
    if table == "crm_tickets":
        tz = ZoneInfo(ZONE)
        start = datetime.combine(DAY - timedelta(days=3), datetime.min.time(), tzinfo=tz)
        return CrmData(sample / "crm").tickets_updated(start, start + timedelta(days=4))
    if table == "qa_inspections":
        # The rows the database delivery reads for the day: changed in its interval.
        batch = make_batch("qa", DAY, ZONE, "r0", "extract", datetime.now(UTC))
        names, rows = changed_rows(str(sample / "qa" / "qa_tool.sqlite"), delivery, batch)
        return [dict(zip(names, row, strict=True)) for row in rows]
    raise AssertionError(table)


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(sorted(str(v) for v in value))
    return str(value)


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
@pytest.mark.parametrize(
    ("table", "name"),
    [
        ("call_center_contacts", "call_center.yml"),
        ("survey_responses", "survey.yml"),
        ("crm_tickets", "crm_tickets.yml"),
        ("qa_inspections", "qa_inspections.yml"),
    ],
)
def test_a_workbook_delivers_what_the_sources_own_delivery_does(
    sample, tmp_path, kind, table, name
):
    records = _records_of(table, sample)
    assert records
    columns = sorted({k for r in records for k in r})
    frame = pd.DataFrame([[_as_text(r.get(c)) for c in columns] for r in records], columns=columns)
    folder = tmp_path / "books"
    folder.mkdir()
    frame.to_excel(folder / f"export_{DAY:%Y%m%d}.{kind}", index=False, engine=None)
    document = _simulator(name)
    own = _mapping(tmp_path, document, "own.yml")
    document["delivery"] = {"format": kind, "file_pattern": f"export_%Y%m%d.{kind}"}
    if "lookback_days" in own.delivery.model_fields_set:
        document["delivery"]["lookback_days"] = own.delivery.lookback_days
    book = _mapping(tmp_path, document, "book.yml")
    places = Places(sample, api_url=None, database=str(sample / "qa" / "qa_tool.sqlite"))
    if table == "crm_tickets":
        from simulator.crm_api import CrmApiServer

        with CrmApiServer(sample / "crm") as api:
            _land(own, sample, places=Places(sample, api_url=api.url))
    elif table == "qa_inspections":
        # The database's rows of the day's interval (and its lookback) are the book's rows.
        _land(own, sample, places=places)
    else:
        _land(own, sample)
    expected = _rows(table)
    with connect() as conn:
        conn.execute(f"truncate raw.{table}, raw.batch_manifest, raw.quarantine")
    _land(book, folder)
    landed = _rows(table)
    pd.testing.assert_frame_equal(landed, expected)


# -- transforms, declared in the mapping --------------------------------------------------------

ACD_DAY = """CallId,Time,Agent,Outcome,SpeedOfAnswer,Talk
C-1001,08:00:00,ann,Answered,53.0,120
C-1002,09:30:05,bob,Abandoned,41,0
C-1003,23:59:30,ann,Answered,45.00,60
X-9,10:00:00,ann,Answered,5,10
Total,,,,,190
C-1004,11:00:00,ann,Answered,7.5,10
"""


def test_transforms_read_a_one_day_export_without_dates(tmp_path, clean_warehouse):
    """The day from the file name; answer time = call time + speed of answer; the agent of
    an unanswered call blanked; an id that must match a shape; a subtotal line skipped (not
    quarantined); '53.0' as a whole number of seconds."""
    (tmp_path / f"acd_{DAY:%Y-%m-%d}.csv").write_text(ACD_DAY)
    mapping = _mapping(
        tmp_path,
        {
            "source_system": "call_center",
            "vendor": "One-day ACD",
            "timezone": ZONE,
            "delivery": {"format": "csv", "file_pattern": "acd_%Y-%m-%d.csv"},
            "fields": {
                "contact_id": {"from": "CallId"},
                "channel": {"constant": "phone"},
                "agent_id": {
                    "from": "Agent",
                    "null_when": [{"column": "Outcome", "op": "=", "value": "Abandoned"}],
                },
                "offered_at": {"from": "Time", "format": "%H:%M:%S", "date_from_file": True},
                "queue_seconds": {"from": "SpeedOfAnswer", "integral_decimals": True},
                "answered_at": {
                    "derive": {"base": "offered_at", "plus_seconds": "queue_seconds"},
                },
                "talk_seconds": {"from": "Talk"},
                "is_abandoned": {
                    "from": "Outcome",
                    "values": {"Answered": False, "Abandoned": True},
                },
            },
            "rules": [
                {
                    "when": [{"column": "CallId", "op": "=", "value": "Total"}],
                    "action": "skip",
                    "reason": "subtotal line",
                },
                {
                    "when": [{"column": "CallId", "op": "not matches", "value": "^C-[0-9]+$"}],
                    "action": "quarantine",
                    "reason": "contact_id: not a call id (C-<digits>)",
                },
            ],
        },
    )
    summary = _land(mapping, tmp_path)
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (6, 3, 2)
    assert summary.rows_skipped == 1
    with connect() as conn:
        rows = conn.execute(
            "select contact_id, agent_id, offered_at, answered_at, queue_seconds"
            " from raw.call_center_contacts order by contact_id"
        ).fetchall()
        manifest = conn.execute(
            "select rows_read, rows_loaded, rows_quarantined, rows_skipped from raw.batch_manifest"
        ).fetchone()
    tz = ZoneInfo(ZONE)

    def at(hour: int, minute: int, second: int) -> datetime:
        return datetime(DAY.year, DAY.month, DAY.day, hour, minute, second, tzinfo=tz)

    assert rows == [
        ("C-1001", "ann", at(8, 0, 0), at(8, 0, 53), 53),
        ("C-1002", None, at(9, 30, 5), at(9, 30, 46), 41),
        ("C-1003", "ann", at(23, 59, 30), at(23, 59, 30) + timedelta(seconds=45), 45),
    ]
    assert manifest == (6, 3, 2, 1)
    assert _reasons() == [
        "SpeedOfAnswer: '7.5' is not a whole number",
        "contact_id: not a call id (C-<digits>)",
    ]


def test_a_database_given_by_a_sqlalchemy_url_lands_as_the_file_does(sample):
    mapping = load_mapping(DEFAULT_MAPPINGS / "qa_inspections.yml")
    database = sample / "qa" / "qa_tool.sqlite"
    by_path = _land(mapping, sample, places=Places(sample, database=str(database)))
    from_path = _rows("qa_inspections")
    with connect() as conn:
        conn.execute("truncate raw.qa_inspections, raw.batch_manifest, raw.quarantine")
    by_url = _land(mapping, sample, places=Places(sample, database=f"sqlite:///{database}"))
    assert by_url.rows_read == by_path.rows_read > 0
    pd.testing.assert_frame_equal(_rows("qa_inspections"), from_path)
    with connect() as conn:
        [objects] = conn.execute(
            "select array_agg(source_object) from raw.batch_manifest"
        ).fetchone()
    assert objects == [f"sqlite:///{database}:inspections"]
