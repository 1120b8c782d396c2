"""Only complete deliveries land (extractors/file_snapshot.py): a file is read once, so the
manifest's checksum is of the bytes landed; a file growing, rewritten or replaced during
the read is refused (a replaced one is at worst read whole, never spliced); a mapping's
`complete_when` (a marker file with the row count, or a quiet time) refuses a file cut at
a line break, which looks whole; a corrected file of a past day is landed again by the
next run's lookback."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from extractors.daily import extract
from extractors.file_snapshot import read_once
from extractors.mapping import Completion
from extractors.settings import ALL_SOURCES, DEFAULT_MAPPINGS, SourceSettings
from simulator import exports
from simulator.config import SimulationConfig
from simulator.world import build_world
from warehouse.connection import connect
from warehouse.landing import ContractError

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 10, 8)
midnight = datetime.min.time()
CONFIG = SimulationConfig(start_date=DAY - timedelta(days=1), days=2, n_agents=12, dirt=False)


@pytest.fixture
def sample(tmp_path, clean_warehouse):
    exports.write_all(build_world(CONFIG), tmp_path / "landing")
    mappings = tmp_path / "mappings"
    shutil.copytree(DEFAULT_MAPPINGS, mappings)
    return {"landing": tmp_path / "landing", "mappings": mappings}


def _complete_when(sample, **rule) -> None:
    path = sample["mappings"] / "call_center.yml"
    document = yaml.safe_load(path.read_text())
    document["delivery"]["complete_when"] = rule
    path.write_text(yaml.safe_dump(document))


def _land(sample, day: date = DAY, run: str = "r1") -> dict:
    settings = SourceSettings(
        landing_dir=sample["landing"],
        crm_api_url="http://127.0.0.1:9",
        qa_db_path=sample["landing"] / "qa" / "qa_tool.sqlite",
        timezone="Asia/Shanghai",
        mappings_dir=sample["mappings"],
        enabled_sources=ALL_SOURCES,
    )
    start = datetime.combine(day, midnight, tzinfo=TZ)
    return extract("call_center", start, start + timedelta(days=1), f"r__{run}", "cc", settings)


def _contacts(sample, day: date = DAY) -> Path:
    return sample["landing"] / "call_center" / f"contacts_{day:%Y%m%d}.csv"


def _landed(day: date = DAY) -> tuple[int, str | None]:
    with connect() as conn:
        (rows,) = conn.execute(
            "select count(*) from raw.call_center_contacts where batch_date = %s", (day,)
        ).fetchone()
        checksum = conn.execute(
            "select file_checksum from raw.batch_manifest where source_system = 'call_center'"
            " and batch_date = %s",
            (day,),
        ).fetchone()
    return rows, checksum[0] if checksum else None


def _refused(sample, *expected: str) -> str:
    with pytest.raises(ContractError) as refused:
        _land(sample, run="r2")
    message = str(refused.value)
    assert "complete_delivery" in message and "r__r2/cc" in message
    for text in expected:
        assert text in message
    return message


def _refuse(rule, detail):
    return ContractError("call_center", "b1", rule, detail)


def test_the_manifest_checksum_is_of_the_bytes_landed(sample):
    path = _contacts(sample)
    _land(sample)
    rows, checksum = _landed()
    assert checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rows == len(path.read_text().splitlines()) - 1


@pytest.mark.parametrize("change", ["grows", "is rewritten"])
def test_a_file_that_changes_during_the_read_is_refused(sample, change):
    """A writer appends to (or writes a corrected version over) the file for as long as
    the read lasts: the read sees it change and nothing of the file lands."""
    path = _contacts(sample)
    original = path.read_bytes()
    header, *records = original.decode().splitlines(keepends=True)
    path.write_bytes(header.encode() + b"".join(r.encode() for r in records) * 400)
    _land(sample)
    before = _landed()
    stop = threading.Event()

    def writer():
        with path.open("r+b") as handle:
            while not stop.is_set():
                if change == "grows":
                    handle.seek(0, os.SEEK_END)
                else:  # a corrected version written over it, record by record
                    handle.seek(len(header))
                handle.write(records[0].encode())
                handle.flush()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        _refused(sample, "changed while it was read")
    finally:
        stop.set()
        thread.join()
    assert _landed() == before  # the day's earlier batch is kept as it was


def test_a_file_cut_at_a_line_break_is_refused_by_its_marker_row_count(sample):
    _complete_when(sample, marker="call_center/{file}.done", marker_row_count=True)
    path = _contacts(sample)
    lines = path.read_text().splitlines(keepends=True)
    marker = path.with_name(path.name + ".done")
    marker.write_text(f"{len(lines) - 1}\n")
    _land(sample)
    before = _landed()
    assert before[0] == len(lines) - 1
    cut = len(lines) * 6 // 10  # 60% of the day, ending at a line break: looks whole
    path.write_text("".join(lines[:cut]))
    _refused(sample, f"holds {cut - 1} records but its marker says {len(lines) - 1}")
    assert _landed() == before
    marker.unlink()
    _refused(sample, f"its marker {marker.name} is missing")
    path.write_text("".join(lines))
    marker.write_text(f"rows={len(lines) - 1}")
    _land(sample, run="r3")
    assert _landed()[0] == len(lines) - 1


def test_a_file_changed_within_its_quiet_time_waits_then_lands_or_is_refused(tmp_path):
    """stable_seconds: a file last changed 1 s ago is waited for (the rest of the quiet
    time, once); one that changes again meanwhile is refused; an old one is read at once."""
    path = tmp_path / "contacts.csv"
    path.write_text("a,b\n1,2\n")
    rule = Completion(stable_seconds=2)
    now = time.time()
    os.utime(path, (now - 1, now - 1))
    slept = []

    def waits(seconds):
        slept.append(seconds)
        time.sleep(seconds)

    with read_once(path, tmp_path, DAY, rule, _refuse, sleep=waits) as (copy, _, _):
        assert copy.read_text() == "a,b\n1,2\n"
    assert len(slept) == 1 and 0.5 < slept[0] <= 1.1

    def still_writing(seconds):
        slept.append(seconds)
        with path.open("a") as handle:
            handle.write("3,4\n")

    os.utime(path, (time.time() - 1, time.time() - 1))
    with (
        pytest.raises(ContractError, match="still being written: it changed in the last 2 s"),
        read_once(path, tmp_path, DAY, rule, _refuse, sleep=still_writing),
    ):
        pass
    os.utime(path, (now - 60, now - 60))
    slept.clear()
    with read_once(path, tmp_path, DAY, rule, _refuse, sleep=slept.append) as (copy, digest, _):
        assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert slept == []


def test_a_corrected_file_of_a_past_day_is_landed_by_the_next_run(sample):
    """The call center's lookback (mappings/simulator/call_center.yml): the day before's
    file is corrected after it was landed; the next day's run lands it again."""
    earlier = DAY - timedelta(days=1)
    _land(sample, day=earlier, run="r0")
    path = _contacts(sample, earlier)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-3]))  # three contacts withdrawn by the vendor
    summary = _land(sample)
    assert [s["batch_date"] for s in summary["relanded"]] == [earlier.isoformat()]
    rows, checksum = _landed(earlier)
    assert rows == len(lines) - 4
    assert checksum == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_replaced_during_the_read_is_never_landed_as_a_splice(tmp_path):
    """A corrected file renamed over the export (a new inode) again and again while it is
    read: each read lands one whole version or is refused, never a mix of two."""
    path = tmp_path / "contacts.csv"
    versions = [b"h\n" + bytes([65 + n]) * 4_000_000 + b"\n" for n in range(2)]
    path.write_bytes(versions[0])
    stop = threading.Event()

    def replacer():
        turn = 0
        while not stop.is_set():
            turn = 1 - turn
            fresh = tmp_path / f"fresh{turn}.tmp"
            fresh.write_bytes(versions[turn])
            os.replace(fresh, path)

    thread = threading.Thread(target=replacer)
    thread.start()
    outcomes = []
    try:
        for _ in range(20):
            try:
                with read_once(path, tmp_path, DAY, None, _refuse) as (copy, digest, _):
                    data = copy.read_bytes()
                    assert data in versions
                    assert digest == hashlib.sha256(data).hexdigest()
                    outcomes.append("whole")
            except ContractError as refused:
                assert "changed while it was read" in str(refused)
                outcomes.append("refused")
    finally:
        stop.set()
        thread.join()
    assert "refused" in outcomes  # the replacement was seen
