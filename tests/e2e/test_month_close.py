"""Late data, the monthly close, adjustments, reopening and a weight change, end to end.

October 1 to November 6, 2026 are simulated (20 agents). Days up to November 5 are landed
by the extractors the DAG's extract tasks call; the daily DAG runs November 6 (land,
build, audit, publish) and is rerun after each change below. The close is the monthly
close DAG run by Airflow (dag.test). The tests run in order, each on the state the
previous one left:

1. a late survey (a re-delivered file of November 4 with one more response, for a contact
   of October 30) changes that agent-day and that agent's October KPIs, nothing else;
2. October closes: its published scorecards are frozen and the monthly report written;
3. November cannot close (days missing), and says which;
4. another late survey for October is an adjustment: reporting keeps the frozen month;
5. reopening (audited) shows the current figures; closing again takes snapshot 2;
6. a weight changed in the seeds rebuilds November, not the closed October.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from simulator.config import SimulationConfig
from tests.conftest import REPO_ROOT, empty_warehouse
from tests.e2e.sources import ALL_SOURCES as SOURCES
from tests.e2e.sources import land_days, simulated_sources
from warehouse.connection import connect

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Shanghai")
CONFIG = SimulationConfig(start_date=date(2026, 10, 1), days=37, n_agents=20)
LAST_DAY = CONFIG.dates[-1]  # 2026-11-06
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
SURVEY_COUNTS = {  # agent-day inputs a CSAT 1 / NPS 2 response adds to
    "survey_response_count": 1,
    "csat_score_sum": 1,
    "csat_response_count": 1,
    "nps_detractor_count": 1,
    "nps_response_count": 1,
    "negative_response_count": 1,
}


@pytest.fixture(scope="module")
def center(tmp_path_factory, warehouse_url, airflow_db):
    from cli.daily_runs import load_close_dag, load_daily_dag, run_business_day

    assert date(2026, 11, 6) == LAST_DAY
    empty_warehouse(warehouse_url)
    sample = tmp_path_factory.mktemp("month_close")
    with simulated_sources(sample, CONFIG):
        land_days(CONFIG.dates[:-1])
        daily = load_daily_dag()
        first = run_business_day(daily, LAST_DAY, "Asia/Shanghai")
        state = {"sample": sample, "daily": daily, "close": load_close_dag(), "runs": [first]}

        def rerun_last_day():
            run = run_business_day(daily, LAST_DAY, "Asia/Shanghai")
            state["runs"].append(run)
            return run

        state["rerun"] = rerun_last_day
        yield state


def _rows(sql: str, params=None) -> list[dict]:
    with connect() as conn:
        cursor = conn.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _keyed(rows: list[dict], *key: str) -> dict:
    return {tuple(r[k] for k in key): r for r in rows}


def _late_survey(sample: Path, file_day: date, contact_day: date, taken: set) -> dict:
    """Append one response (CSAT 1, NPS 2) for a handled phone contact of `contact_day`
    without a response yet to the export of `file_day`: the vendor re-delivered the file."""
    contact = _rows(
        "select contacts.contact_id, contacts.agent_id, contacts.offered_at"
        " from staging.stg_call_center__contacts as contacts"
        " where contacts.business_date = %s and contacts.channel = 'phone'"
        " and contacts.agent_id is not null and contacts.answered_at is not null"
        " and contacts.agent_id <> all(%s)"
        " and not exists (select from staging.stg_survey__responses as responses"
        "  where responses.contact_id = contacts.contact_id)"
        " order by contacts.contact_id limit 1",
        (contact_day, sorted(taken)),
    )[0]
    path = sample / "surveys" / f"responses_{file_day:%Y%m%d}.jsonl"
    line = {
        "response_id": f"LATE-{contact['contact_id']}",
        "contact_id": contact["contact_id"],
        "channel": "phone",
        "agent_id": contact["agent_id"],
        "contact_time": contact["offered_at"].astimezone(TZ).isoformat(),
        "responded_time": datetime.combine(file_day, time(21, 30), tzinfo=TZ).isoformat(),
        "csat": 1,
        "nps": 2,
        "comment": "",
        "tags": [],
    }
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text + ("" if text.endswith("\n") or not text else "\n") + json.dumps(line) + "\n",
        encoding="utf-8",
    )
    taken.add(contact["agent_id"])
    return contact


AGENTS_WITH_LATE_SURVEYS: set = set()


def test_a_late_survey_changes_its_agent_day_and_that_month_only(center):
    agent_days_before = _keyed(_rows("select * from marts.agent_days"), "agent_id", "business_date")
    kpis_before = _keyed(
        _rows("select * from marts.agent_month_kpis"), "agent_id", "month_start", "kpi_code"
    )
    manifest_before = _rows(
        "select * from raw.batch_manifest where batch_date < %s order by 1, 2, 3", (LAST_DAY,)
    )
    late = _late_survey(
        center["sample"], date(2026, 11, 4), date(2026, 10, 30), AGENTS_WITH_LATE_SURVEYS
    )
    run = center["rerun"]()

    agent_days = _keyed(_rows("select * from marts.agent_days"), "agent_id", "business_date")
    touched = (late["agent_id"], date(2026, 10, 30))
    assert set(agent_days) == set(agent_days_before)
    changed = {key for key in agent_days if agent_days[key] != agent_days_before[key]}
    assert changed == {touched}
    for column, value in agent_days[touched].items():
        before = agent_days_before[touched][column]
        if column in SURVEY_COUNTS:
            assert value == before + SURVEY_COUNTS[column], column
        elif column not in ("row_hash", "built_by_run_id"):
            assert value == before, column
    # Only that agent-day was rewritten: every other row keeps the run that built it.
    assert agent_days[touched]["built_by_run_id"] == run.run_id
    assert {r["built_by_run_id"] for k, r in agent_days.items() if k != touched} <= {
        center["runs"][0].run_id,
        "manual",
    }

    # The survey batch of November 4 was landed again by this run, with one more row;
    # every other earlier batch is as it was.
    manifest = _rows(
        "select * from raw.batch_manifest where batch_date < %s order by 1, 2, 3", (LAST_DAY,)
    )
    relanded = [m for m in manifest if m["batch_id"].startswith(f"{run.run_id}/")]
    assert [(m["source_system"], m["batch_date"]) for m in relanded] == [
        ("survey", date(2026, 11, 4))
    ]
    old = next(
        m
        for m in manifest_before
        if (m["source_system"], m["batch_date"]) == ("survey", date(2026, 11, 4))
    )
    assert relanded[0]["rows_loaded"] == old["rows_loaded"] + 1
    # ... and audited by it: the re-landed batch against its manifest and quarantine.
    audited = _rows(
        "select rule, success from audit.checks where run_id = %s and batch_id = %s",
        (run.run_id, relanded[0]["batch_id"]),
    )
    assert {"landed_rows_match_the_manifest", "quarantined_rows_match_the_manifest"} <= {
        a["rule"] for a in audited
    }
    assert all(a["success"] for a in audited)
    assert [m for m in manifest if m not in relanded] == [
        m for m in manifest_before if m is not old
    ]

    # October KPIs change for that agent only; November for nobody.
    kpis = _keyed(
        _rows("select * from marts.agent_month_kpis"), "agent_id", "month_start", "kpi_code"
    )
    assert set(kpis) == set(kpis_before)
    moved = {key for key in kpis if kpis[key] != kpis_before[key]}
    assert moved and {(a, m) for a, m, _ in moved} == {(late["agent_id"], OCTOBER)}
    csat_before = kpis_before[(late["agent_id"], OCTOBER, "csat")]
    csat = kpis[(late["agent_id"], OCTOBER, "csat")]
    assert csat["numerator"] == csat_before["numerator"] + 1
    assert csat["denominator"] == csat_before["denominator"] + 1
    assert float(csat["kpi_value"]) == pytest.approx(
        float(csat_before["numerator"] + 1) / float(csat_before["denominator"] + 1), abs=1e-4
    )
    published = _rows(
        "select csat_value from reporting.agent_month_scorecards"
        " where agent_id = %s and month_start = %s",
        (late["agent_id"], OCTOBER),
    )
    assert published == [{"csat_value": csat["kpi_value"]}]


def test_october_closes_with_a_frozen_snapshot_and_its_report(center):
    from cli.daily_runs import run_month_close
    from expectations.audit import audit_dir
    from operations.month_close import check_ready

    with connect() as conn:
        readiness = check_ready(conn, OCTOBER, SOURCES)
    assert readiness.ready, readiness.describe()
    published = _rows(
        "select * from reporting.agent_month_scorecards where month_start = %s", (OCTOBER,)
    )
    run_month_close(center["close"], OCTOBER, "Asia/Shanghai")

    assert _rows("select month_start, status, snapshot_version from closing.months") == [
        {"month_start": OCTOBER, "status": "closed", "snapshot_version": 1}
    ]
    snapshot = _rows("select * from closing.scorecard_snapshots where month_start = %s", (OCTOBER,))
    assert len(snapshot) == len(published) >= 20
    assert _keyed(
        [{k: v for k, v in r.items() if k != "snapshot_version"} for r in snapshot], "agent_id"
    ) == _keyed(published, "agent_id")
    events = _rows("select month_start, action, snapshot_version from audit.month_close_events")
    assert events == [{"month_start": OCTOBER, "action": "close", "snapshot_version": 1}]

    folder = audit_dir() / "monthly_reports" / "2026-10" / "v1"
    recorded = _rows("select report_dir, files from audit.monthly_reports")
    assert recorded[0]["report_dir"] == str(folder)
    assert "report_2026-10.html" in recorded[0]["files"]
    assert (folder / "report_2026-10.html").stat().st_size > 10_000
    with (folder / "team_summary_2026-10.csv").open(encoding="utf-8") as handle:
        summary = {row["team_id"]: row for row in csv.DictReader(handle)}
    teams: dict[str, list[dict]] = {}
    for row in published:
        teams.setdefault(row["team_id"], []).append(row)
    assert set(summary) == {*teams, "CENTER"}
    for team, rows in teams.items():
        assert int(summary[team]["agents"]) == len(rows)
        for grade in ("excellent", "good", "pass", "fail"):
            assert int(summary[team][grade]) == sum(r["grade"] == grade for r in rows)
        assert Decimal(summary[team]["score_max"]) == max(r["total_score"] for r in rows).quantize(
            Decimal("0.01")
        )
    assert int(summary["CENTER"]["agents"]) == len(published)

    # Closing a closed month again changes nothing.
    run_month_close(center["close"], OCTOBER, "Asia/Shanghai")
    assert len(_rows("select * from closing.scorecard_snapshots")) == len(snapshot)


def test_november_cannot_close_before_its_days_are_in(center):
    from cli.daily_runs import DagRunFailed, run_month_close
    from operations.month_close import check_ready

    with pytest.raises(DagRunFailed):
        run_month_close(center["close"], NOVEMBER, "Asia/Shanghai")
    with connect() as conn:
        readiness = check_ready(conn, NOVEMBER, SOURCES)
    expected = [f"2026-11-{d:02d} not landed" for d in range(7, 31)]
    assert readiness.missing_days == {source: expected for source in SOURCES}
    refused = _rows(
        "select action, details from audit.month_close_events where month_start = %s",
        (NOVEMBER,),
    )
    assert [r["action"] for r in refused] == ["close_refused"]
    assert refused[0]["details"]["missing_days"]["call_center"] == expected
    assert _rows("select month_start from closing.months") == [{"month_start": OCTOBER}]


def _published_october() -> dict:
    rows = _rows(
        "select * from reporting.agent_month_scorecards where month_start = %s", (OCTOBER,)
    )
    return _keyed(rows, "agent_id")


def test_late_data_for_a_closed_month_is_an_adjustment(center):
    frozen = _published_october()
    late = _late_survey(
        center["sample"], date(2026, 11, 5), date(2026, 10, 31), AGENTS_WITH_LATE_SURVEYS
    )
    center["rerun"]()

    assert _published_october() == frozen  # reporting keeps the closed month
    snapshot = _keyed(
        _rows(
            "select agent_id, kpi_code, kpi_value from closing.kpi_snapshots"
            " where month_start = %s",
            (OCTOBER,),
        ),
        "agent_id",
        "kpi_code",
    )
    built = _keyed(
        _rows(
            "select agent_id, kpi_code, kpi_value from marts.agent_month_kpis"
            " where month_start = %s",
            (OCTOBER,),
        ),
        "agent_id",
        "kpi_code",
    )
    differences = {
        key: (snapshot[key]["kpi_value"], built[key]["kpi_value"])
        for key in snapshot
        if snapshot[key]["kpi_value"] != built[key]["kpi_value"]
    }
    adjustments = _rows(
        "select agent_id, kpi_code, closed_value, current_value, month_start"
        " from reporting.scorecard_adjustments"
    )
    assert {
        (a["agent_id"], a["kpi_code"]): (a["closed_value"], a["current_value"]) for a in adjustments
    } == differences
    assert {a["agent_id"] for a in adjustments} == {late["agent_id"]}
    assert {a["month_start"] for a in adjustments} == {OCTOBER}
    csat = next(a for a in adjustments if a["kpi_code"] == "csat")
    kpi = _rows(
        "select numerator, denominator from marts.agent_month_kpis"
        " where agent_id = %s and month_start = %s and kpi_code = 'csat'",
        (late["agent_id"], OCTOBER),
    )[0]
    assert float(csat["current_value"]) == pytest.approx(
        float(kpi["numerator"]) / float(kpi["denominator"]), abs=1e-4
    )
    assert float(csat["closed_value"]) == pytest.approx(
        float(kpi["numerator"] - 1) / float(kpi["denominator"] - 1), abs=1e-4
    )


def test_reopening_is_audited_and_closing_again_takes_a_new_snapshot(center):
    from cli.daily_runs import run_month_close
    from operations.month_close import MonthStateError, reopen_month

    with connect() as conn, pytest.raises(MonthStateError):
        reopen_month(conn, NOVEMBER, "qa.lead", "not closed")
    with connect() as conn:
        assert reopen_month(conn, OCTOBER, "qa.lead", "late surveys accepted by the review") == 1
    center["rerun"]()
    built = _keyed(
        _rows("select * from marts.agent_month_scorecards where month_start = %s", (OCTOBER,)),
        "agent_id",
    )
    assert _published_october() == built  # the month shows its current figures again
    assert _rows("select * from reporting.scorecard_adjustments") == []

    run_month_close(center["close"], OCTOBER, "Asia/Shanghai")
    versions = _rows(
        "select snapshot_version, count(*) as agents from closing.scorecard_snapshots"
        " group by 1 order by 1"
    )
    assert [v["snapshot_version"] for v in versions] == [1, 2]
    second = _keyed(
        _rows(
            "select * from closing.scorecard_snapshots where snapshot_version = 2",
        ),
        "agent_id",
    )
    assert {
        key: {c: v for c, v in row.items() if c != "snapshot_version"}
        for key, row in second.items()
    } == built
    events = _rows(
        "select action, snapshot_version, actor, reason from audit.month_close_events"
        " where month_start = %s order by happened_at",
        (OCTOBER,),
    )
    assert [(e["action"], e["snapshot_version"]) for e in events] == [
        ("close", 1),
        ("reopen", 1),
        ("close", 2),
    ]
    assert events[1]["actor"] == "qa.lead" and events[1]["reason"].startswith("late surveys")
    reports = _rows("select snapshot_version from audit.monthly_reports order by written_at")
    assert [r["snapshot_version"] for r in reports] == [1, 2]


def test_a_weight_change_rebuilds_open_months_only(center):
    seeds = REPO_ROOT / "dbt_project" / "seeds" / "kpi_scoring.csv"
    original = seeds.read_text(encoding="utf-8")
    october, november = (
        _published_october(),
        _keyed(
            _rows(
                "select * from reporting.agent_month_scorecards where month_start = %s", (NOVEMBER,)
            ),
            "agent_id",
        ),
    )
    changed = original.replace("\ncsat,,all,1900-01-01,5,", "\ncsat,,all,1900-01-01,8,").replace(
        "\nnps,,all,1900-01-01,5,", "\nnps,,all,1900-01-01,2,"
    )
    assert changed.count("\n") == original.count("\n") and changed != original
    try:
        seeds.write_text(changed, encoding="utf-8")
        center["rerun"]()
    finally:
        seeds.write_text(original, encoding="utf-8")
    assert _published_october() == october
    weights = _rows(
        "select month_start, weight from reporting.agent_month_kpis where kpi_code = 'csat'"
        " group by 1, 2 order by 1, 2"
    )
    assert weights == [
        {"month_start": OCTOBER, "weight": Decimal("5")},
        {"month_start": NOVEMBER, "weight": Decimal("8")},
    ]
    after = _keyed(
        _rows("select * from reporting.agent_month_scorecards where month_start = %s", (NOVEMBER,)),
        "agent_id",
    )
    assert any(after[a]["total_score"] != november[a]["total_score"] for a in november)
    assert _rows("select * from reporting.scorecard_adjustments") == []
