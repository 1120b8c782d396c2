"""The Superset dashboards in a real browser: two days published by Airflow, Superset
started on the test warehouse with the files of bi/assets, every dashboard opened in
headless Chromium after logging in, a screenshot of each kept, no chart may fail, and the
numbers Superset served the browser (its chart-data API) equal `reporting`'s."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bi import dashboards
from simulator.config import SimulationConfig
from tests.conftest import empty_warehouse
from tests.e2e.sources import simulated_sources
from warehouse.connection import connect

pytestmark = pytest.mark.e2e
DAYS = [date(2026, 10, 8), date(2026, 10, 9)]
CONFIG = SimulationConfig(start_date=DAYS[0], days=len(DAYS), n_agents=20)
TZ = "Asia/Shanghai"
SLUGS = ["manager-monthly-scorecard", "agent-monthly-review", "qa-feedback", "daily-operations"]
ARTIFACTS = Path(
    os.environ.get("TEST_ARTIFACTS_DIR", dashboards.REPO_ROOT / ".local" / "artifacts")
)


def _chromium() -> str:
    """Debian's chromium (with CJK fonts for the Chinese labels), installed if missing."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail("the browser test needs Debian's chromium: apt-get install chromium")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        stdout=subprocess.DEVNULL,
    )
    return shutil.which("chromium") or pytest.fail("chromium did not install")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _query(statement: str) -> list[tuple]:
    with connect() as conn:
        return conn.execute(statement).fetchall()


@pytest.fixture(scope="module")
def served(tmp_path_factory, warehouse_url, airflow_db):
    """Each dashboard as the browser got it: {slug: {chart name: chart-data result}}, with
    the chart-data failures and page errors seen on the way."""
    from playwright.sync_api import sync_playwright

    from cli.daily_runs import load_daily_dag, run_business_day

    browser_path = _chromium()
    empty_warehouse(warehouse_url)
    sample = tmp_path_factory.mktemp("dashboards")
    with simulated_sources(sample, CONFIG):
        dag = load_daily_dag()
        for day in DAYS:
            run_business_day(dag, day, TZ)
    instance = dashboards.Superset(tmp_path_factory.mktemp("superset"))
    dashboards.install(instance, warehouse_url, os.environ["BI_READER_PASSWORD"])
    port = _free_port()
    server = dashboards.serve(instance, port, instance.home / "superset.log")
    base = f"http://127.0.0.1:{port}"
    shots = ARTIFACTS / "dashboards"
    shots.mkdir(parents=True, exist_ok=True)
    seen: dict[str, dict[str, dict]] = {}
    failures: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=browser_path, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1600, "height": 1700})
            page.on("pageerror", lambda error: failures.append(f"page error: {error}"))
            password = instance.admin_password_file.read_text().strip()
            for _ in range(3):  # the login form may render before its handlers attach
                page.goto(f"{base}/login/")
                page.fill("[data-test=username-input]", dashboards.ADMIN_USER)
                page.fill("[data-test=password-input]", password)
                page.click("[data-test=login-button]")
                page.wait_for_load_state("networkidle")
                if "/login" not in page.url:
                    break
            else:
                pytest.fail(f"could not log in to Superset; see {instance.home / 'superset.log'}")
            for slug in SLUGS:
                responses: list = []

                def record(response, responses=responses):
                    responses.append(response)

                page.on("response", record)
                page.goto(f"{base}/superset/dashboard/{slug}/")
                page.wait_for_load_state("networkidle", timeout=120_000)
                page.wait_for_timeout(2_000)  # the charts paint after their data arrives
                page.screenshot(path=str(shots / f"{slug}.png"))
                page.remove_listener("response", record)
                charts: dict[str, dict] = {}
                for response in responses:
                    if "/api/v1/chart/data" not in response.url:
                        continue
                    body = response.json()
                    chart_id = response.request.post_data_json["form_data"]["slice_id"]
                    name = page.request.get(f"{base}/api/v1/chart/{chart_id}").json()
                    name = name["result"]["slice_name"]
                    if response.status != 200 or body["result"][0].get("error"):
                        failures.append(f"{slug} / {name}: {response.status} {body}")
                    else:
                        charts[name] = body["result"][0]
                errors = page.locator(".ant-alert-error, [data-test=chart-error]").count()
                if errors:
                    failures.append(f"{slug}: {errors} chart error(s) shown")
                seen[slug] = charts
            browser.close()
    finally:
        server.terminate()
        server.wait()
    yield {"seen": seen, "failures": failures}


def _charts_of(slug: str) -> set[str]:
    import yaml

    dashboard = next(
        d
        for d in (
            yaml.safe_load(p.read_text()) for p in (dashboards.ASSETS / "dashboards").iterdir()
        )
        if d["slug"] == slug
    )
    return {
        i["meta"]["sliceName"]
        for i in dashboard["position"].values()
        if isinstance(i, dict) and i.get("type") == "CHART"
    }


def test_every_dashboard_shows_every_chart_without_an_error(served):
    assert served["failures"] == []
    for slug in SLUGS:
        assert set(served["seen"][slug]) == _charts_of(slug), slug
        assert (ARTIFACTS / "dashboards" / f"{slug}.png").stat().st_size > 20_000
    assert all(
        chart["rowcount"] > 0 for charts in served["seen"].values() for chart in charts.values()
    )


def test_the_bonus_by_team_is_the_published_bonus(served):
    chart = served["seen"]["manager-monthly-scorecard"]["Bonus by team 团队奖金"]
    shown = {row["team_name"]: round(Decimal(str(row["bonus"])), 2) for row in chart["data"]}
    expected = _query(
        "select team_name, round(sum(bonus_amount), 2) from reporting.agent_month_scorecards"
        " group by team_name"
    )
    assert shown == dict(expected) and len(shown) > 1


def test_team_kpis_are_the_published_roll_ups(served):
    chart = served["seen"]["manager-monthly-scorecard"]["Team KPIs 团队指标 (ratios of sums)"]
    rollups = dict(
        _query(
            "select team_id, kpi_value from reporting.kpi_rollups where rollup_level = 'team'"
            " and period_type = 'month' and kpi_code = 'first_contact_resolution'"
        )
    )
    shown = {row["team_id"]: row["first_contact_resolution"] for row in chart["data"]}
    assert set(shown) == set(rollups) and len(shown) > 1
    for team, value in shown.items():
        assert value == pytest.approx(float(rollups[team]), rel=1e-9), team


def test_the_queue_day_counts_are_the_published_ones(served):
    chart = served["seen"]["daily-operations"]["Queues by day 队列日报"]
    shown = {
        (row["business_date"], row["queue_name"], row["channel"]): (
            row["offered"],
            row["abandoned"],
        )
        for row in chart["data"]
    }
    expected = {
        (day.isoformat(), queue, channel): (int(offered), int(abandoned))
        for day, queue, channel, offered, abandoned in _query(
            "select business_date, queue_name, channel, sum(offered_count),"
            " sum(abandoned_in_queue_count) from reporting.queue_days group by 1, 2, 3"
        )
    }
    # Superset serves temporal values as epoch milliseconds (UTC midnight of the date)
    days = {
        (datetime.fromtimestamp(k[0] / 1000, UTC).date().isoformat(), k[1], k[2]): v
        for k, v in shown.items()
    }
    assert days == expected and len(days) > 1


def test_the_review_shows_each_kpi_with_the_command_behind_it(served):
    chart = served["seen"]["agent-monthly-review"]["Monthly review 每月绩效面谈"]
    expected = _query("select agent_id, kpi_code, kpi_value from reporting.agent_month_kpis")
    assert chart["rowcount"] == len(expected)
    row = next(r for r in chart["data"] if r["kpi_value"] is not None)
    agent, kpi = (
        row["trace_command"].split(" --agent ")[1].split(" --month ")[0],
        row["trace_command"].rsplit(" --kpi ", 1)[1],
    )
    value = {(a, k): v for a, k, v in expected}[(agent, kpi)]
    assert row["kpi_value"] == pytest.approx(float(value), rel=1e-9)
    assert (
        row["trace_command"] == f"python -m cli trace --agent {agent} --month 2026-10 --kpi {kpi}"
    )
