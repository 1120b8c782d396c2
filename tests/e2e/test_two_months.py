"""The whole KPI catalog and scorecard policy over two simulated months, against the truth.

October and November 2026 are simulated (60 agents in 7 teams, National Day holidays,
agents moving team on the 12th, a joiner on the 10th and one on the 25th, a leaver on the
20th, supervisor workbooks per team per month). Days 1..60 are landed by the extractors
the DAG's extract tasks call (a backfill without 60 full builds); the DAG itself then runs
the last day, which lands it, builds and publishes. Every KPI input of every agent-day,
every roll-up by month/quarter/year and agent/team/center, and every scorecard score,
grade, rank and bonus is compared with the simulator's ground truth (computed from its
events) and with the policy recomputed in plain Python (tests/e2e/policy.py).
"""

from __future__ import annotations

import csv
import math
import os
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from simulator import ground_truth
from simulator.config import SimulationConfig
from tests.conftest import empty_warehouse
from tests.e2e import policy
from tests.e2e.sources import land_days, simulated_sources
from warehouse.connection import connect

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Shanghai")
CONFIG = SimulationConfig(start_date=date(2026, 10, 1), days=61, n_agents=60)
AS_OF = CONFIG.dates[-1]
MIN_WORKING_DAYS = 10  # dbt var min_working_days_for_rank
BONUS_BASE = 400  # dbt var bonus_base_amount


@pytest.fixture(scope="module")
def months2(tmp_path_factory, warehouse_url, airflow_db):
    from cli.daily_runs import load_daily_dag, run_business_day

    empty_warehouse(warehouse_url)
    sample = tmp_path_factory.mktemp("two_months")
    with simulated_sources(sample, CONFIG) as (world, _):
        land_days(CONFIG.dates[:-1])
        run = run_business_day(load_daily_dag(), AS_OF, "Asia/Shanghai")
    assert os.environ.get("SOURCE_LANDING_DIR") != str(sample)
    yield {"world": world, "run": run}


def _rows(sql: str, params=None) -> list[dict]:
    with connect() as conn:
        cursor = conn.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _number(value) -> float | None:
    return None if value is None else float(value)


def test_every_agent_day_input_and_team_equals_the_truth(months2):
    world = months2["world"]
    truth = ground_truth.agent_days(world, AS_OF)
    teams = ground_truth.agent_day_teams(world, truth)
    rows = _rows("select * from reporting.agent_days")
    published = {(r["agent_id"], r["business_date"]): r for r in rows}
    assert set(published) == set(truth)
    mismatches = [
        (key, metric, truth[key][metric], published[key][metric])
        for key in truth
        for metric in ground_truth.METRICS
        if _number(published[key][metric]) != truth[key][metric]
    ]
    assert mismatches == []
    assert {k: r["team_id"] for k, r in published.items()} == teams
    for metric in ground_truth.METRICS:  # every input has data somewhere
        assert sum(values[metric] for values in truth.values()) > 0, metric


def test_an_agent_who_moves_counts_for_the_old_team_until_the_11th(months2):
    world = months2["world"]
    moved = [a for a in world.assignments if a.valid_to == date(2026, 10, 11)]
    assert len(moved) == 2
    for old in moved:
        new = world.team_on(old.agent_id, date(2026, 10, 12))
        assert new != old.team_id
        days = _rows(
            "select business_date, team_id from reporting.agent_days"
            " where agent_id = %s and business_date between '2026-10-01' and '2026-10-31'",
            (old.agent_id,),
        )
        assert {d["team_id"] for d in days if d["business_date"] <= date(2026, 10, 11)} == {
            old.team_id
        }
        assert {d["team_id"] for d in days if d["business_date"] >= date(2026, 10, 12)} == {new}
        history = _rows(
            "select team_id, valid_from, valid_to from reporting.agents where agent_id = %s"
            " order by valid_from",
            (old.agent_id,),
        )
        assert [(h["team_id"], h["valid_to"]) for h in history][:2] == [
            (old.team_id, date(2026, 10, 12)),
            (new, date(2026, 11, 12) if len(history) > 2 else None),
        ]


def test_every_rollup_by_period_and_level_equals_the_truth(months2):
    truth = ground_truth.rollups(months2["world"], AS_OF)
    rows = _rows("select * from reporting.kpi_rollups")
    assert {r["period_type"] for r in rows} == {"month", "quarter", "year"}
    assert {r["rollup_level"] for r in rows} == {"agent", "team", "center"}
    published = defaultdict(dict)
    for r in rows:
        member = r["agent_id"] if r["rollup_level"] == "agent" else r["team_id"]
        published[(r["period_type"], r["period_start"], r["rollup_level"], member)][
            r["kpi_code"]
        ] = r
    assert set(published) == set(truth)
    for key, values in truth.items():
        assert set(published[key]) == set(policy.KPIS)
        for code in policy.KPIS:
            numerator, denominator, value = policy.kpi(values, code)
            got = published[key][code]
            assert (_number(got["numerator"]), _number(got["denominator"])) == pytest.approx(
                (numerator, denominator)
            ), (key, code)
            if value is None:
                assert got["kpi_value"] is None, (key, code)
            else:
                assert float(got["kpi_value"]) == pytest.approx(value, rel=1e-9), (key, code)
    center_year = truth[("year", date(2026, 1, 1), "center", None)]
    assert center_year["working_days"] > 2000


def _expected_cards(world) -> dict[tuple[str, str], dict]:
    months = {
        (agent_id, month): values for (agent_id, month), values in _agent_months(world).items()
    }
    teams = ground_truth.agent_months_scored_in(world, AS_OF)
    channels = {a.agent_id: a.primary_channel for a in world.agents}
    return policy.scorecards(months, teams, channels, MIN_WORKING_DAYS, BONUS_BASE)


def _agent_months(world) -> dict[tuple[str, str], dict]:
    months: dict[tuple[str, str], dict] = defaultdict(
        lambda: dict.fromkeys(ground_truth.ALL_METRICS, 0)
    )
    for (agent_id, _team, month), values in ground_truth.agent_team_months(world, AS_OF).items():
        for metric, value in values.items():
            months[(agent_id, month)][metric] += value
    return dict(months)


def test_every_monthly_scorecard_equals_the_policy_recomputed(months2):
    expected = _expected_cards(months2["world"])
    rows = _rows("select * from reporting.agent_month_scorecards")
    published = {(r["agent_id"], f"{r['month_start']:%Y-%m}"): r for r in rows}
    assert set(published) == set(expected)
    for key, card in expected.items():
        got = published[key]
        assert got["team_id"] == card["team_id"], key
        assert float(got["total_score"]) == pytest.approx(card["total"], abs=1e-4), key
        for code in policy.KPIS:
            want = card["scores"].get(code)
            have = _number(got[f"{code}_score"])
            assert (have is None) == (want is None), (key, code)
            if want is not None:
                assert have == pytest.approx(want, abs=1e-9), (key, code)
        assert got["unscored_kpis"] == card["unscored"], key
        assert got["grade"] == card["grade"], key
        assert got["is_ranked"] == card["is_ranked"], key
        assert got["team_rank"] == card.get("team_rank"), key
        assert got["center_rank"] == card.get("center_rank"), key
        assert float(got["bonus_amount"]) == pytest.approx(card["bonus"], abs=0.005), key
    grades = {c["grade"] for c in expected.values()}
    assert len(grades) >= 3, grades  # the targets separate agents
    # The joiner on the 25th works too few days in October to be ranked.
    joiner = months2["world"].agents[-2].agent_id
    assert not published[(joiner, "2026-10")]["is_ranked"]
    assert published[(joiner, "2026-10")]["center_rank"] is None
    # Small samples: some weights were shared out, and the column says which.
    assert any(c["unscored"] for c in expected.values())


def test_a_team_override_applies_from_its_effective_date(months2):
    rows = _rows(
        "select team_id, month_start, target from reporting.agent_month_kpis"
        " where kpi_code = 'first_contact_resolution' and weight is not null"
    )
    targets = {(r["team_id"], r["month_start"], float(r["target"])) for r in rows}
    assert ("T02", date(2026, 11, 1), 0.8) in targets
    assert ("T02", date(2026, 10, 1), 0.85) in targets
    assert not any(t == 0.8 for team, _, t in targets if team != "T02")


def test_quarter_and_year_scorecards_follow_the_monthly_ones(months2):
    monthly = _expected_cards(months2["world"])
    severe = {
        key: values["qa_severe_defect_count"]
        for key, values in _agent_months(months2["world"]).items()
    }
    working = {
        key: values["working_days"] for key, values in _agent_months(months2["world"]).items()
    }
    bands = policy.load_grade_bands()
    rows = _rows("select * from reporting.agent_period_scorecards")
    for period_type, start in (("quarter", date(2026, 10, 1)), ("year", date(2026, 1, 1))):
        published = {
            r["agent_id"]: r
            for r in rows
            if r["period_type"] == period_type and r["period_start"] == start
        }
        agents = {a for a, _ in monthly}
        assert set(published) == agents
        totals = {}
        for agent_id in agents:
            keys = [k for k in monthly if k[0] == agent_id]
            # The mean of the published (4-decimal) monthly scores.
            total = float(policy.mean_of_published([monthly[k]["total"] for k in keys]))
            totals[agent_id] = total
            got = published[agent_id]
            assert float(got["total_score"]) == pytest.approx(total, abs=1e-4), agent_id
            assert got["months_scored"] == len(keys)
            assert float(got["bonus_amount"]) == pytest.approx(
                sum(monthly[k]["bonus"] for k in keys), abs=0.01
            )
            assert got["grade"] == policy.grade(total, sum(severe[k] for k in keys), bands)
        ranked = {
            a: totals[a]
            for a in agents
            if sum(working[k] for k in working if k[0] == a) >= MIN_WORKING_DAYS
        }
        for agent_id, rank in policy.competition_ranks(ranked).items():
            assert published[agent_id]["center_rank"] == rank, agent_id


def test_weekly_qa_feedback_and_monthly_team_trend_equal_the_truth(months2):
    world = months2["world"]
    known_before = datetime.combine(AS_OF + timedelta(days=1), time(0), tzinfo=TZ)
    weeks: dict[tuple[str, date], dict] = defaultdict(lambda: defaultdict(int))
    trend: dict[tuple[str, date], dict] = defaultdict(lambda: defaultdict(int))
    inspections = [i for i in world.inspections if i.inspected_at < known_before]
    for i in inspections:
        day = i.inspected_at.astimezone(TZ).date()
        week = weeks[(i.agent_id, day - timedelta(days=day.weekday()))]
        score = max(0, 100 - sum(d.points for d in i.deductions))
        week["records_inspected"] += 1
        week["qa_score_sum"] += score
        for d in i.deductions:
            week[f"{d.dimension}_points"] += d.points
            week[f"{d.severity}_defect_count"] += 1
        work_day = i.record_at.astimezone(TZ).date()
        team = trend[(world.team_on(i.agent_id, work_day), work_day.replace(day=1))]
        team["records_inspected"] += 1
        team["qa_score_sum"] += score
        team["severe_defect_count"] += sum(d.severity == "severe" for d in i.deductions)
    issued = {i.inspection_id: i.inspected_at for i in inspections}
    for (agent_id, week_start), week in weeks.items():
        week_end = datetime.combine(week_start + timedelta(days=7), time(0), tzinfo=TZ)
        for r in world.rectifications:
            closed = r.closed_at if r.closed_at and r.closed_at < known_before else None
            if (
                r.agent_id == agent_id
                and r.inspection_id in issued
                and issued[r.inspection_id] < week_end
                and (closed is None or closed >= week_end)
            ):
                week["open_rectification_items"] += 1
                week["overdue_rectification_items"] += int(
                    r.due_date < week_start + timedelta(days=7)
                )
    published = {
        (r["agent_id"], r["week_start"]): r for r in _rows("select * from reporting.qa_agent_weeks")
    }
    assert set(published) == set(weeks)
    for key, week in weeks.items():
        for column in published[key]:
            if column.endswith(("_points", "_count", "_items")) or column in (
                "records_inspected",
                "qa_score_sum",
            ):
                assert float(published[key][column]) == week.get(column, 0), (key, column)
    assert sum(w["open_rectification_items"] for w in weeks.values()) > 0
    published = {
        (r["team_id"], r["month_start"]): r for r in _rows("select * from reporting.qa_team_months")
    }
    assert set(published) == set(trend)
    for key, team in trend.items():
        got = published[key]
        assert got["records_inspected"] == team["records_inspected"]
        assert float(got["qa_score_avg"]) == pytest.approx(
            round(team["qa_score_sum"] / team["records_inspected"], 2)
        )
        assert got["severe_defect_count"] == team["severe_defect_count"]
    november = [k for k in trend if k[1] == date(2026, 11, 1)]
    for team_id, month in november:
        previous = published.get((team_id, date(2026, 10, 1)))
        if previous is not None:
            assert float(published[(team_id, month)]["qa_score_change"]) == pytest.approx(
                float(published[(team_id, month)]["qa_score_avg"])
                - float(previous["qa_score_avg"]),
                abs=0.011,
            )


def test_supervisor_workbooks_land_with_their_typo_quarantined(months2):
    quarantined = _rows(
        "select source_object, reason from raw.quarantine where source_system = 'supervisor'"
        " and batch_date = %s",
        (AS_OF,),
    )
    assert {q["source_object"] for q in quarantined} == {
        "supervisor/2026-10/team_T01.xlsx",
        "supervisor/2026-11/team_T01.xlsx",
    }
    assert all("exam_score: 130 is outside 0..100" in q["reason"] for q in quarantined)
    staged = _rows("select count(*) as n from staging.stg_supervisor__inputs")[0]["n"]
    assert staged == len(months2["world"].supervisor_inputs)


def _mf_query(metrics: list[str], group_by: list[str], out: Path) -> list[dict]:
    """`mf query` (MetricFlow's CLI) on the project, against the test warehouse."""
    from warehouse.metrics import mf

    done = mf(
        ["query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by)]
        + ["--csv", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and out.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_semantic_layer_metric_equals_the_published_rollups(months2, tmp_path):
    """Every KPI's MetricFlow metric (models/marts/_marts__semantic.yml), for each agent,
    team (of the day) and the center, by month, quarter and year, equals
    reporting.kpi_rollups."""
    kpis = [r["kpi_code"] for r in _rows("select distinct kpi_code from reporting.kpi_rollups")]
    assert len(kpis) == 19
    compared = 0
    for period in ("month", "quarter", "year"):
        for level, entity in (("agent", "agent"), ("team", "team"), ("center", None)):
            time_column = f"metric_time__{period}"
            rows = _mf_query(
                kpis, [time_column] + ([entity] if entity else []), tmp_path / f"{period}.csv"
            )
            served = {
                (row[time_column][:10], row[entity] or None if entity else None): {
                    kpi: None if row[kpi] == "" else float(row[kpi]) for kpi in kpis
                }
                for row in rows
            }
            assert len(served) == len(rows)  # one row per group, a NULL team included
            published = defaultdict(dict)
            for row in _rows(
                "select period_start, agent_id, team_id, kpi_code, kpi_value"
                " from reporting.kpi_rollups where period_type = %s and rollup_level = %s",
                (period, level),
            ):
                key = (f"{row['period_start']:%Y-%m-%d}", row[f"{entity}_id"] if entity else None)
                published[key][row["kpi_code"]] = _number(row["kpi_value"])
            assert set(served) == set(published), (period, level)
            for key, values in published.items():
                for kpi, value in values.items():
                    mf_value = served[key][kpi]
                    assert (value is None) == (mf_value is None), (period, level, key, kpi)
                    if value is not None:
                        assert math.isclose(mf_value, value, rel_tol=1e-9, abs_tol=1e-9), (
                            period,
                            level,
                            key,
                            kpi,
                            mf_value,
                            value,
                        )
                    compared += 1
    assert compared > 19 * 60 * 3


def test_dbt_unit_tests_prove_every_formula_and_scoring_rule(months2):
    """The hand-computed dbt unit tests (models/*/_*unit_tests.yml and the FCR/QA cases)
    run against the built warehouse; production runs skip them, so they run here."""
    from warehouse.dbt_build import run_dbt

    result = run_dbt(["test", "--select", "test_type:unit"])
    statuses = {str(node.node.name): str(node.status) for node in result.result.results}
    assert len(statuses) >= 20
    assert set(statuses.values()) == {"pass"}
    for case in (
        "business_time_skips_nights_and_holidays",
        "a_team_change_mid_month_splits_the_inputs_by_team",
        "every_kpi_formula_is_a_ratio_of_summed_inputs",
        "attainment_caps_bands_and_shares_the_weight_of_small_samples",
        "grades_ranks_and_bonus",
        "an_inspection_whose_newest_version_is_quarantined_is_withheld",
        "a_rectification_whose_newest_version_is_quarantined_is_withheld",
    ):
        assert case in statuses


def test_weights_that_do_not_add_up_to_100_fail_the_build(months2):
    """The weights test is not decorative: break one scorecard's weights and it fails."""
    from warehouse.dbt_build import DbtFailed, run_dbt

    with connect() as conn:
        conn.execute("update seeds.kpi_scoring set weight = weight + 5 where kpi_code = 'csat'")
    try:
        run_dbt(["run", "--select", "int_kpi_rules_in_force"])
        with pytest.raises(DbtFailed, match="assert_kpi_weights_add_up_to_100"):
            run_dbt(["test", "--select", "assert_kpi_weights_add_up_to_100"])
    finally:
        run_dbt(["build", "--select", "kpi_scoring", "int_kpi_rules_in_force"])
    run_dbt(["test", "--select", "assert_kpi_weights_add_up_to_100"])


def test_a_scorecard_number_traces_to_its_source_records(months2):
    """For agent-month KPIs, the traced records are exactly the ones counted, and each
    one is a landed raw row in the batch and source object it names."""
    from warehouse.trace import trace

    world = months2["world"]
    agent_id = next(a.agent_id for a in world.agents if a.primary_channel == "phone")
    month = date(2026, 11, 1)
    kpis = {
        r["kpi_code"]: r
        for r in _rows(
            "select * from reporting.agent_month_kpis where agent_id = %s and month_start = %s",
            (agent_id, month),
        )
    }
    sums = _rows(
        "select sum(survey_response_count) as surveys, sum(handle_count) as handled,"
        " sum(tickets_handled_count) as tickets_handled"
        " from reporting.agent_days where agent_id = %s and month_start = %s",
        (agent_id, month),
    )[0]
    with connect() as conn:
        traced = {
            code: trace(conn, agent_id, month, code)
            for code in (
                "csat",
                "average_handle_time",
                "qa_score",
                "ticket_on_time_rate",
                "operation_error_rate",
                "teamwork",
                "first_contact_resolution",
            )
        }
        records = [r for rs in traced.values() for r in rs]
        for r in records:
            table = {
                "contact": "call_center_contacts",
                "survey response": "survey_responses",
                "qa inspection": "qa_inspections",
                "qa deduction": "qa_deductions",
                "ticket due": "crm_tickets",
                "ticket handled": "crm_tickets",
                "operation error": "crm_ticket_events",
                "supervisor input": "supervisor_inputs",
            }[r.record]
            landed = conn.execute(
                f"select count(*) from raw.{table} where batch_id = %s and source_object = %s"
                " and source_position = %s",
                (r.batch_id, r.source_object, r.source_position),
            ).fetchone()[0]
            assert landed == 1, r
    assert len(traced["csat"]) == sums["surveys"] > 0
    assert len(traced["average_handle_time"]) == sums["handled"] > 0
    inspections = [r for r in traced["qa_score"] if r.record == "qa inspection"]
    assert len(inspections) == float(kpis["qa_score"]["denominator"])
    assert len(traced["ticket_on_time_rate"]) == float(kpis["ticket_on_time_rate"]["denominator"])
    errors = [r for r in traced["operation_error_rate"] if r.part == "numerator"]
    assert len(errors) == float(kpis["operation_error_rate"]["numerator"])
    handled = [r for r in traced["operation_error_rate"] if r.part == "denominator"]
    assert len(handled) == sums["tickets_handled"] > 0
    assert [r.source_object for r in traced["teamwork"]] == [
        f"supervisor/2026-11/team_{months2['world'].team_on(agent_id, date(2026, 11, 30))}.xlsx"
    ]
    fcr = traced["first_contact_resolution"]
    assert len(fcr) == float(kpis["first_contact_resolution"]["denominator"])
    assert {r.source_object for r in fcr} <= {f"contacts_{d:%Y%m%d}.csv" for d in CONFIG.dates}
