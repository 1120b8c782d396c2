"""The check command lands a real export with its mapping, as the extract would, in a
transaction it rolls back: its report is what the landing does, and nothing stays."""

import csv
import subprocess
import sys
from collections import Counter

import pytest

from extractors.mapping import load_mapping
from extractors.mapping_check import check_file
from extractors.settings import enabled_sources
from tests.conftest import REPO_ROOT
from warehouse.connection import connect

pytestmark = pytest.mark.integration

EXPORT = REPO_ROOT / "data" / "anonymous_bank" / "data_anonymous_bank_february.txt"
MAPPING = REPO_ROOT / "mappings" / "anonymous_bank" / "call_center.yml"


def test_the_check_accounts_for_every_row_of_the_real_export(clean_warehouse):
    report = check_file(load_mapping(MAPPING), EXPORT)
    with EXPORT.open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    outcomes = Counter(r["outcome"] for r in rows)
    assert report.read == len(rows) == 33344
    assert (
        report.quarantined["phantom call: logged by the ACD but no call took place"]
        == outcomes["PHANTOM"]
    )
    no_server = sum(1 for r in rows if r["outcome"] == "AGENT" and r["server"] == "NO_SERVER")
    assert report.quarantined["an answered contact needs an agent: none given"] == no_server == 491
    assert len(report.rows_by_day) == 28
    assert "days: 28 (1999-02-01 .. 1999-02-28), one batch each" in report.render()
    # Landed and rolled back: the warehouse holds nothing of it.
    with connect() as conn:
        assert conn.execute("select count(*) from raw.call_center_contacts").fetchone()[0] == 0
    assert report.flags["hang_up_with_service_time"] == 97
    # Samples show instants on the center's clock (Israel, UTC+2 in February), as the
    # export wrote them.
    by_id = {f"{r['vru+line']}-{r['call_id']}": r for r in rows}
    for sample in report.landed_samples:
        row = by_id[sample["contact_id"]]
        day = f"19{row['date'][:2]}-{row['date'][2:4]}-{row['date'][4:]}"
        assert (
            sample["offered_at"]
            == f"{day}T{int(row['vru_entry'][:-6]):02d}{row['vru_entry'][-6:]}+02:00"
        )
    text = report.render()
    assert "not available from this source (land as NULL): hold_seconds, acw_seconds" in text
    # Caller ids are personal data: never printed.
    caller_ids = {r["customer_id"] for r in rows if r["customer_id"] != "0"}
    assert not any(caller in text for caller in caller_ids)


def test_the_cli_prints_the_report_and_refuses_a_broken_mapping(tmp_path, warehouse_url):
    command = [
        sys.executable,
        "-m",
        "cli",
        "check-mapping",
        "--mapping",
        str(MAPPING),
        "--file",
        str(EXPORT),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert "rows read 33344 = would land 32525 + would be quarantined 819" in done.stdout
    broken = tmp_path / "call_center.yml"
    broken.write_text(
        MAPPING.read_text().replace("timezone: Asia/Jerusalem", "timezone: Israel/Haifa")
    )
    command[command.index(str(MAPPING))] = str(broken)
    failed = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    assert failed.returncode == 1
    assert "timezone: 'Israel/Haifa' is not an IANA time zone" in failed.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("call_center", "crm", "qa", "survey", "supervisor")),
        ("call_center", ("call_center",)),
        (" crm , survey ", ("crm", "survey")),
    ],
)
def test_enabled_sources(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("ENABLED_SOURCES", raising=False)
    else:
        monkeypatch.setenv("ENABLED_SOURCES", value)
    assert enabled_sources() == expected


def test_an_unknown_source_is_refused(monkeypatch):
    monkeypatch.setenv("ENABLED_SOURCES", "call_center,billing")
    with pytest.raises(ValueError, match="ENABLED_SOURCES='call_center,billing'"):
        enabled_sources()


def test_a_json_lines_export_is_checked_with_personal_data_masked(tmp_path, warehouse_url):
    from simulator import exports
    from simulator.config import SimulationConfig
    from simulator.world import build_world

    world = build_world(SimulationConfig(days=2, n_agents=20, dirt=False))
    exports.write_surveys(world, tmp_path, [])
    path = tmp_path / "responses_20261002.jsonl"
    lines = path.read_text().splitlines()
    lines.insert(1, lines[0][:30])  # a truncated line
    path.write_text("\n".join(lines) + "\n")
    report = check_file(load_mapping(REPO_ROOT / "mappings" / "simulator" / "survey.yml"), path)
    assert report.read == len(lines)
    [(reason, count)] = report.quarantined.items()
    assert reason.startswith("not valid JSON") and count == 1
    comments = {s.comment_text for s in world.surveys if s.comment_text}
    assert not any(comment in report.render() for comment in comments)


def test_database_and_api_mappings_are_checked_against_samples(tmp_path, warehouse_url):
    import json as json_module
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from simulator import exports
    from simulator.config import SimulationConfig
    from simulator.crm_api import CrmData
    from simulator.world import build_world

    world = build_world(SimulationConfig(days=12, n_agents=20, dirt=False))
    exports.write_qa(world, tmp_path / "qa.sqlite")
    deductions = check_file(
        load_mapping(REPO_ROOT / "mappings" / "simulator" / "qa_deductions.yml"),
        tmp_path / "qa.sqlite",
    )
    assert deductions.read == deductions.landed == sum(len(i.deductions) for i in world.inspections)
    exports.write_crm(world, tmp_path / "crm")
    tz = ZoneInfo("Asia/Shanghai")
    page = {
        "data": CrmData(tmp_path / "crm").tickets_updated(
            datetime(2026, 10, 1, tzinfo=tz), datetime(2026, 10, 2, tzinfo=tz)
        ),
        "next_page": None,
    }
    page["data"][0]["created_at"] = "2026-10-01 09:00"  # no offset: refused, not guessed
    (tmp_path / "page.json").write_text(json_module.dumps(page))
    tickets = check_file(
        load_mapping(REPO_ROOT / "mappings" / "simulator" / "crm_tickets.yml"),
        tmp_path / "page.json",
    )
    assert tickets.read == len(page["data"]) and tickets.landed == len(page["data"]) - 1
    assert list(tickets.quarantined) == ["created_at: '2026-10-01 09:00' has no time zone offset"]
    names = {t.customer_name for t in world.tickets}
    assert not any(name in tickets.render() for name in names)
