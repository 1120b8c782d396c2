"""Limits and named source errors: a record or field longer than the mapping's `limits`
is quarantined with that reason (a JSON-lines record is never read past its limit); a QA
database locked by its writer is waited for and then reported busy (transient); a damaged
one names its file, source and batch."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from extractors import deliveries
from extractors.daily import extract
from extractors.deliveries import bounded_lines
from extractors.settings import ALL_SOURCES, DEFAULT_MAPPINGS, SourceSettings
from simulator import exports
from simulator.config import SimulationConfig
from simulator.world import build_world
from warehouse.connection import connect
from warehouse.landing import ContractError

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 10, 8)
CONFIG = SimulationConfig(start_date=DAY, days=1, n_agents=12, dirt=False)


@pytest.fixture
def sample(tmp_path, clean_warehouse):
    exports.write_all(build_world(CONFIG), tmp_path / "landing")
    shutil.copytree(DEFAULT_MAPPINGS, tmp_path / "mappings")
    return tmp_path


def _limits(sample, mapping: str, **limits) -> None:
    path = sample / "mappings" / mapping
    document = yaml.safe_load(path.read_text())
    document["limits"] = limits
    path.write_text(yaml.safe_dump(document))


def _land(sample, source: str, run: str = "r1") -> dict:
    settings = SourceSettings(
        landing_dir=sample / "landing",
        crm_api_url="http://127.0.0.1:9",
        qa_db_path=sample / "landing" / "qa" / "qa_tool.sqlite",
        timezone="Asia/Shanghai",
        mappings_dir=sample / "mappings",
        enabled_sources=ALL_SOURCES,
    )
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=TZ)
    return extract(source, start, start + timedelta(days=1), f"r__{run}", source, settings)


def _quarantined(source: str) -> list[tuple[str, int]]:
    with connect() as conn:
        return conn.execute(
            "select reason, length(raw_text) from raw.quarantine where source_system = %s",
            (source,),
        ).fetchall()


def test_a_json_line_is_read_no_further_than_its_limit():
    limit = 1_000
    handle = io.StringIO('{"a": 1}\n' + "x" * 5_000_000 + "\n" + '{"b": 2}\n')
    lines = list(bounded_lines(handle, limit))
    assert [(len(text), whole) for text, whole in lines] == [
        (9, True),
        (limit + 1, False),
        (9, True),
    ]
    # A line exactly at the limit (its line break past it) is whole.
    assert list(bounded_lines(io.StringIO("y" * limit + "\n"), limit)) == [
        ("y" * limit + "\n", True)
    ]


def test_a_survey_line_over_the_limit_is_quarantined_and_the_rest_lands(sample):
    _limits(sample, "survey.yml", max_record_chars=10_000)
    path = sample / "landing" / "surveys" / f"responses_{DAY:%Y%m%d}.jsonl"
    lines = path.read_text().splitlines()
    huge = json.loads(lines[1])
    huge["comment"] = "z" * 3_000_000  # a 3 MB line
    lines[1] = json.dumps(huge)
    path.write_text("\n".join(lines) + "\n")
    summary = _land(sample, "survey")
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (len(lines) - 1, 1)
    assert _quarantined("survey") == [
        (
            "a record of more than 10000 characters, more than limits.max_record_chars (10000)",
            10_000,
        )
    ]


def test_a_csv_field_or_line_over_the_limit_is_quarantined(sample):
    _limits(sample, "call_center.yml", max_record_chars=5_000, max_field_chars=500)
    path = sample / "landing" / "call_center" / f"contacts_{DAY:%Y%m%d}.csv"
    header, *records = path.read_text().splitlines()
    queue = header.split(",").index("Queue")
    long_field = records[2].split(",")
    long_field[queue] = "q" * 600
    records[2] = ",".join(long_field)
    long_line = records[4].split(",")
    long_line[queue] = "w" * 6_000
    records[4] = ",".join(long_line)
    path.write_text("\n".join([header, *records]) + "\n")
    summary = _land(sample, "call_center")
    assert summary["rows_quarantined"] == 2
    assert sorted(_quarantined("call_center")) == sorted(
        [
            ("queue_name: 600 characters, more than limits.max_field_chars (500)", len(records[2])),
            (
                f"a record of {len(records[4])} characters, more than limits.max_record_chars"
                " (5000)",
                5_000,
            ),
        ]
    )


def test_a_locked_qa_database_is_waited_for_then_reported_busy(sample, monkeypatch):
    monkeypatch.setattr(deliveries, "SQLITE_BUSY_SECONDS", 0.3)
    database = sample / "landing" / "qa" / "qa_tool.sqlite"
    writer = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    writer.execute("begin exclusive")  # the QA tool in the middle of a write
    try:
        with pytest.raises(ContractError) as busy:
            _land(sample, "qa")
        message = str(busy.value)
        assert "[qa] batch r__r1/qa broke rule 'source_busy'" in message
        assert f"{database} stayed locked by another program through 3 tries of 0.3 s" in message
        # The writer commits while the extract waits: the next try reads it.
        threading.Timer(0.4, lambda: writer.execute("commit")).start()
        _land(sample, "qa", run="r2")
        with connect() as conn:
            landed = conn.execute(
                "select source_object from raw.batch_manifest where batch_id = 'r__r2/qa'"
                " order by 1"
            ).fetchall()
        assert landed == [
            ("qa_tool.sqlite:inspection_items",),
            ("qa_tool.sqlite:inspections",),
            ("qa_tool.sqlite:rectifications",),
        ]
    finally:
        writer.close()


def test_a_damaged_qa_database_names_its_file_source_and_batch(sample):
    database = sample / "landing" / "qa" / "qa_tool.sqlite"
    data = database.read_bytes()
    database.write_bytes(data[:100] + b"\x00" * 4096 + data[4196 : len(data) // 2])
    with pytest.raises(ContractError) as damaged:
        _land(sample, "qa")
    message = str(damaged.value)
    assert "[qa] batch r__r1/qa broke rule 'source_readable'" in message
    assert f"{database} cannot be read (" in message
    assert "copied while it was being written?" in message
