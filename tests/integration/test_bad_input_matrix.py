"""Dirty input, tried on purpose: each kind with its expected outcome (quarantined,
corrected, retried, kept and reported, or the run stopped naming source, batch and rule),
and in every case nothing lost or doubled: rows read = landed + quarantined, every landed
row is in raw once, and a refused delivery leaves the previous batch as it was."""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.request
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest

from expectations.audit import contract_checks, reconciliation_checks
from extractors.daily import extract
from extractors.settings import ALL_SOURCES, DEFAULT_MAPPINGS, SourceSettings
from simulator import exports
from simulator.config import SimulationConfig
from simulator.crm_api import CrmApiServer
from simulator.world import build_world
from warehouse.connection import connect
from warehouse.landing import ContractError

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 10, 8)
CONFIG = SimulationConfig(start_date=DAY, days=1, n_agents=12, dirt=False)


@pytest.fixture
def sample(tmp_path, clean_warehouse):
    exports.write_all(build_world(CONFIG), tmp_path)
    return tmp_path


def _land(source: str, sample, crm_url: str = "http://127.0.0.1:9", run: str = "r1") -> dict:
    settings = SourceSettings(
        landing_dir=sample,
        crm_api_url=crm_url,
        qa_db_path=sample / "qa" / "qa_tool.sqlite",
        timezone="Asia/Shanghai",
        mappings_dir=DEFAULT_MAPPINGS,
        enabled_sources=ALL_SOURCES,
    )
    start = datetime.combine(DAY, time(0), tzinfo=TZ)
    return extract(source, start, start + timedelta(days=1), f"matrix__{run}", source, settings)


def _one(sql: str, params=()):
    with connect() as conn:
        return conn.execute(sql, params).fetchone()


def _reasons(source: str) -> list[str]:
    with connect() as conn:
        rows = conn.execute(
            "select reason from raw.quarantine where source_system = %s order by reason", (source,)
        )
        return [r[0] for r in rows]


def _accounted(source: str, table: str, data_rows: int | None = None) -> tuple[int, int]:
    """read = landed + quarantined, raw holds the landed rows once (over all the source's
    tables, `table` being a prefix); (landed, quarantined)."""
    read, loaded, quarantined = _one(
        "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from raw.batch_manifest"
        " where source_system = %s",
        (source,),
    )
    assert read == loaded + quarantined
    with connect() as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'raw' and table_name like %s",
                (f"{table}%",),
            )
        ]
        landed = sum(conn.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in tables)
    assert landed == loaded
    assert _one("select count(*) from raw.quarantine where source_system = %s", (source,))[0] == (
        quarantined
    )
    if data_rows is not None:
        assert read == data_rows
    return loaded, quarantined


def _contacts_file(sample):
    return sample / "call_center" / f"contacts_{DAY:%Y%m%d}.csv"


def _survey_file(sample):
    return sample / "surveys" / f"responses_{DAY:%Y%m%d}.jsonl"


def _edit_csv(path, row: int, column: str, value: str) -> list[str]:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    fields = lines[row].split(",")
    fields[header.index(column)] = value
    lines[row] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    return lines


def _edit_survey(path, line: int, **changes) -> int:
    lines = path.read_text().splitlines()
    document = json.loads(lines[line])
    document.update(changes)
    lines[line] = json.dumps(document)
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def _refused(source: str, sample, rule: str) -> None:
    with pytest.raises(ContractError) as refused:
        _land(source, sample, run="r2")
    message = str(refused.value)
    assert source in message and f"matrix__r2/{source}" in message and rule in message


# -- call center ------------------------------------------------------------------------


def test_01_a_duplicated_row_lands_twice_and_stages_once(sample):
    lines = _contacts_file(sample).read_text().splitlines()
    _contacts_file(sample).write_text("\n".join([*lines, lines[5]]) + "\n")
    _land("call_center", sample)
    assert _accounted("call_center", "call_center_contacts", len(lines)) == (len(lines), 0)
    key = lines[5].split(",")[0]
    positions = _one(
        "select count(distinct source_position), count(distinct content_hash)"
        " from raw.call_center_contacts where contact_id = %s",
        (key,),
    )
    assert positions == (2, 1)  # the staging model keeps the latest position (e2e tests)


def test_02_a_corrected_redelivery_replaces_the_day(sample):
    _land("call_center", sample)
    lines = _edit_csv(_contacts_file(sample), 3, "TalkSec", "777")
    _land("call_center", sample, run="r2")
    assert _accounted("call_center", "call_center_contacts", len(lines) - 1)[1] == 0
    key = lines[3].split(",")[0]
    assert _one(
        "select talk_seconds, batch_id from raw.call_center_contacts where contact_id = %s",
        (key,),
    ) == (777, "matrix__r2/call_center")


def test_03_a_truncated_file_is_refused_and_the_day_kept(sample):
    _land("call_center", sample)
    before = _accounted("call_center", "call_center_contacts")
    text = _contacts_file(sample).read_text()
    cut = text.index("\n", len(text) // 2) + 10  # ten characters into a record
    _contacts_file(sample).write_text(text[:cut])
    _refused("call_center", sample, "complete_delivery")
    assert _accounted("call_center", "call_center_contacts") == before


def test_04_a_wrong_encoding_is_refused(sample):
    lines = _contacts_file(sample).read_text().splitlines()
    lines[2] = lines[2].replace("phone_", "电话_").replace("chat_", "在线_")
    _contacts_file(sample).write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    _refused("call_center", sample, "encoding")


def test_05_a_renamed_column_is_refused(sample):
    text = _contacts_file(sample).read_text()
    _contacts_file(sample).write_text(text.replace("TalkSec", "TalkTime", 1))
    _refused("call_center", sample, "required_columns")


def test_06_a_negative_duration_is_quarantined(sample):
    lines = _edit_csv(_contacts_file(sample), 4, "TalkSec", "-12")
    _land("call_center", sample)
    assert _accounted("call_center", "call_center_contacts", len(lines) - 1)[1] == 1
    assert _reasons("call_center") == ["TalkSec: -12 seconds is negative"]


def test_07_an_unknown_agent_lands_and_counts_against_the_threshold(sample):
    lines = _edit_csv(_contacts_file(sample), 4, "AgentID", "AG9999")
    _land("call_center", sample)
    assert _accounted("call_center", "call_center_contacts", len(lines) - 1)[1] == 0
    assert _one("select count(*) from raw.call_center_contacts where agent_id = 'AG9999'") == (1,)
    # Above UNKNOWN_AGENT_MAX_SHARE the audit stops the run (tests/e2e/test_quality_gate.py).


def test_08_an_empty_day_lands_nothing_and_the_audit_stops_the_run(sample):
    header = _contacts_file(sample).read_text().splitlines()[0]
    _contacts_file(sample).write_text(header + "\n")
    _land("call_center", sample)
    assert _accounted("call_center", "call_center_contacts", 0) == (0, 0)
    with connect() as conn:
        checks = {c.rule: c for c in contract_checks(conn, DAY)}
    assert not checks["delivery_not_empty"].success
    assert "holds no rows" in checks["delivery_not_empty"].describe()


# -- surveys ----------------------------------------------------------------------------


def test_09_csat_7_is_quarantined(sample):
    lines = _edit_survey(_survey_file(sample), 0, csat=7)
    _land("survey", sample)
    assert _accounted("survey", "survey_responses", lines)[1] == 1
    assert _reasons("survey") == ["csat_score: 7 is outside 1..5"]


def test_10_a_time_without_its_zone_is_quarantined_not_guessed(sample):
    lines = _edit_survey(_survey_file(sample), 1, responded_time="2026-10-08T10:00:00")
    _land("survey", sample)
    assert _accounted("survey", "survey_responses", lines)[1] == 1
    assert _reasons("survey") == ["responded_time: '2026-10-08T10:00:00' has no time zone offset"]


def test_11_a_time_in_utc_instead_of_local_is_read_as_the_same_instant(sample):
    document = json.loads(_survey_file(sample).read_text().splitlines()[2])
    local = datetime.fromisoformat(document["responded_time"])
    lines = _edit_survey(
        _survey_file(sample), 2, responded_time=local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    _land("survey", sample)
    assert _accounted("survey", "survey_responses", lines)[1] == 0
    stored = _one(
        "select responded_at from raw.survey_responses where response_id = %s",
        (document["response_id"],),
    )[0]
    assert stored == local


def test_12_a_survey_for_an_unknown_contact_is_kept_and_reported(sample):
    from warehouse.dbt_build import run_dbt

    lines = _edit_survey(_survey_file(sample), 0, contact_id="CC-NEVER-DELIVERED", channel="phone")
    _land("call_center", sample)
    _land("survey", sample)
    assert _accounted("survey", "survey_responses", lines)[1] == 0
    run_dbt(["run", "--select", "stg_call_center__contacts", "stg_survey__responses"])
    with connect() as conn:
        check = next(
            c for c in reconciliation_checks(conn) if c.rule == "surveyed_contacts_are_known"
        )
    assert (check.success, check.observed, check.fails_the_run) == (False, "1", False)


# -- CRM --------------------------------------------------------------------------------


class _Flaky:
    """A proxy before the CRM API that answers `status` to the first `failures` requests."""

    def __init__(self, upstream: str, status: int, failures: int):
        self.calls = 0

        flaky = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                flaky.calls += 1
                if flaky.calls <= failures:
                    self.send_response(status)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                with urllib.request.urlopen(upstream + self.path) as response:
                    body = response.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.mark.parametrize(("status", "failures"), [(503, 2), (429, 1)])
def test_13_14_a_failing_or_throttled_api_is_retried_and_nothing_is_lost(sample, status, failures):
    with CrmApiServer(sample / "crm") as crm:
        flaky = _Flaky(crm.url, status, failures)
        try:
            _land("crm", sample, flaky.url)
        finally:
            flaky.server.shutdown()
    assert flaky.calls > failures
    loaded, quarantined = _accounted("crm", "crm_")
    assert quarantined == 0
    tickets = len((sample / "crm" / "tickets.jsonl").read_text().splitlines())
    started = _one("select count(*) from raw.crm_tickets")[0]
    assert 0 < started <= tickets
    assert _one("select count(*) from raw.crm_agents")[0] == CONFIG.n_agents


def test_15_a_ticket_resolved_before_it_was_created_is_quarantined(sample):
    path = sample / "crm" / "tickets.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    victim = next(r for r in records if r["resolved_at"] < f"{DAY + timedelta(days=1)}")
    victim["resolved_at"] = (
        datetime.fromisoformat(victim["created_at"]) - timedelta(hours=1)
    ).isoformat()
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with CrmApiServer(sample / "crm") as crm:
        _land("crm", sample, crm.url)
    _accounted("crm", "crm_")
    assert "resolved_at: resolved before it was created" in _reasons("crm")


# -- QA ---------------------------------------------------------------------------------


def test_16_a_deduction_outside_its_severity_band_is_quarantined(sample):
    db = sqlite3.connect(sample / "qa" / "qa_tool.sqlite")
    db.execute("update inspection_items set severity = 'minor', points = 9 where rowid = 1")
    db.execute("update inspections set updated_at = '2026-10-08 02:00:00'")
    db.commit()
    db.close()
    _land("qa", sample)
    _accounted("qa", "qa_")
    assert _reasons("qa") == ["points (minor): 9 is outside 1..3"]


def test_17_a_missing_delivery_is_refused(sample):
    _contacts_file(sample).unlink()
    _refused("call_center", sample, "delivery_present")
