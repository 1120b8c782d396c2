"""The Superset dashboards in a real browser: two days published by Airflow, Superset
started on the test warehouse with the files of bi/assets, every dashboard opened in
headless Chromium after logging in, a screenshot of each kept, no chart may fail, and the
numbers Superset served the browser (its chart-data API) equal `reporting`'s."""

from __future__ import annotations

import json
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
# the last day of a month and the first of the next: the month filter must pick the newest,
# and the review shows last month beside it
DAYS = [date(2026, 10, 31), date(2026, 11, 1)]
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
    """Each dashboard as the browser got it: {slug: {chart name: chart-data result}}, the
    chart-data requests, the failures and page errors seen on the way, and what the import
    said before anything was published. Superset runs as the team install's container does
    (`python -m bi --wait-for-publication` with Superset's own Python), started before the
    days are published."""
    from playwright.sync_api import sync_playwright

    from cli.daily_runs import load_daily_dag, run_business_day

    browser_path = _chromium()
    empty_warehouse(warehouse_url)
    home = tmp_path_factory.mktemp("superset")
    password = os.environ["BI_READER_PASSWORD"]
    unpublished = subprocess.run(
        [
            str(dashboards.BI_VENV / "bin" / "python"),
            str(dashboards.REPO_ROOT / "bi" / "superset_load.py"),
            str(dashboards.bundle(home / "unpublished", warehouse_url)),
        ],
        env={**os.environ, "SUPERSET_WAREHOUSE_PASSWORD": password},
        capture_output=True,
        text=True,
    )
    port = _free_port()
    log = home / "superset.log"
    with log.open("ab") as out:
        server = subprocess.Popen(
            [
                str(dashboards.BI_VENV / "bin" / "python"),
                "-m",
                "bi",
                "--port",
                str(port),
                "--wait-for-publication",
            ],
            cwd=dashboards.REPO_ROOT,
            env={
                **os.environ,
                "SUPERSET_HOME": str(home),
                "WAREHOUSE_URL": warehouse_url,
                "PYTHONPATH": str(dashboards.REPO_ROOT),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    shots = ARTIFACTS / "dashboards"
    shots.mkdir(parents=True, exist_ok=True)
    seen: dict[str, dict[str, dict]] = {}
    asked: dict[str, dict[str, dict]] = {}
    failures: list[str] = []
    try:
        sample = tmp_path_factory.mktemp("dashboards")
        with simulated_sources(sample, CONFIG):
            dag = load_daily_dag()
            for day in DAYS:
                run_business_day(dag, day, TZ)
        dashboards.wait_until_up(server, port, 600, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=browser_path, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1600, "height": 1700})
            page.on("pageerror", lambda error: failures.append(f"page error: {error}"))
            admin = (home / "admin_password").read_text().strip()
            for _ in range(3):  # the login form may render before its handlers attach
                page.goto(f"{base}/login/")
                page.fill("[data-test=username-input]", dashboards.ADMIN_USER)
                page.fill("[data-test=password-input]", admin)
                page.click("[data-test=login-button]")
                page.wait_for_load_state("networkidle")
                if "/login" not in page.url:
                    break
            else:
                pytest.fail(f"could not log in to Superset; see {log}")
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
                requests: dict[str, dict] = {}
                for response in responses:  # in order: a chart's last answer wins
                    if "/api/v1/chart/data" not in response.url:
                        continue
                    body = response.json()
                    request = response.request.post_data_json
                    chart_id = request["form_data"].get("slice_id")
                    if chart_id is None:  # a filter asking for its values
                        name = f"filter {request['form_data'].get('native_filter_id')}"
                    else:
                        name = page.request.get(f"{base}/api/v1/chart/{chart_id}").json()
                        name = name["result"]["slice_name"]
                    if response.status != 200 or body["result"][0].get("error"):
                        failures.append(f"{slug} / {name}: {response.status} {body}")
                    elif chart_id is not None:
                        charts[name] = body["result"][0]
                        requests[name] = request
                errors = page.locator(".ant-alert-error, [data-test=chart-error]").count()
                if errors:
                    failures.append(f"{slug}: {errors} chart error(s) shown")
                seen[slug] = charts
                asked[slug] = requests
            browser.close()
        (shots / "chart-data.json").write_text(json.dumps(seen, default=str, indent=1))
    finally:
        server.terminate()
        server.wait()
    with socket.socket() as probe:  # stopping `python -m bi` stops Superset's server too
        left_running = probe.connect_ex(("127.0.0.1", port)) == 0
    yield {
        "seen": seen,
        "asked": asked,
        "failures": failures,
        "unpublished": unpublished,
        "left_running": left_running,
    }


def test_the_import_refuses_before_anything_is_published(served):
    refused = served["unpublished"]
    assert refused.returncode != 0
    assert "cannot import the dashboards" in refused.stderr, refused.stderr
    assert "imported" not in refused.stdout


def test_stopping_it_stops_superset(served):
    assert served["left_running"] is False


def test_the_month_filter_shows_the_newest_month_by_default(served):
    months = [
        m for (m,) in _query("select distinct month_start from reporting.agent_month_scorecards")
    ]
    assert sorted(months) == [date(2026, 10, 1), date(2026, 11, 1)]
    for name, request in served["asked"]["manager-monthly-scorecard"].items():
        filters = {f["col"]: f for f in request["queries"][0].get("filters", [])}
        if name.startswith("Team KPIs"):  # one row per month: outside the month filter
            assert "month_start" not in filters
        else:
            assert filters["month_start"]["op"] == "IN", name
            assert [_day(v) for v in filters["month_start"]["val"]] == ["2026-11-01"], name


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


def _day(value) -> str:
    """A date as Superset serves it (epoch milliseconds or an ISO text) as YYYY-MM-DD."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC).date().isoformat()
    return str(value).removeprefix("bonus, ")[:10]


def _newest_month() -> date:
    return _query("select max(month_start) from reporting.agent_month_scorecards")[0][0]


def test_the_bonus_by_team_is_the_published_bonus(served):
    chart = served["seen"]["manager-monthly-scorecard"]["Bonus by team 团队奖金"]
    # one series per month: the bars' columns are the months (the filter keeps the newest)
    shown = {
        (row["team_name"], _day(column)): round(Decimal(str(row[column])), 2)
        for row in chart["data"]
        for column in chart["colnames"]
        if column != "team_name" and row[column] is not None
    }
    expected = {
        (team, month.isoformat()): bonus
        for team, month, bonus in _query(
            "select team_name, month_start, round(sum(bonus_amount), 2)"
            " from reporting.agent_month_scorecards"
            f" where month_start = '{_newest_month()}' group by 1, 2"
        )
    }
    assert shown == expected and len(shown) > 1


def test_team_kpis_are_the_published_roll_ups(served):
    chart = served["seen"]["manager-monthly-scorecard"]["Team KPIs 团队指标 (ratios of sums)"]
    rollups = {
        (team, month.isoformat()): value
        for team, month, value in _query(
            "select team_id, period_start, kpi_value from reporting.kpi_rollups"
            " where rollup_level = 'team' and period_type = 'month'"
            " and kpi_code = 'first_contact_resolution'"
        )
    }
    shown = {
        (row["team_id"], _day(row["month_start"])): row["first_contact_resolution"]
        for row in chart["data"]
    }
    assert set(shown) == set(rollups) and len(shown) > 1
    for key, value in shown.items():
        assert value == pytest.approx(float(rollups[key]), rel=1e-9), key


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
    days = {(_day(k[0]), k[1], k[2]): v for k, v in shown.items()}
    assert days == expected and len(days) > 1


def test_the_review_shows_each_kpi_with_last_month_and_the_command_behind_it(served):
    chart = served["seen"]["agent-monthly-review"]["Monthly review 每月绩效面谈"]
    published = {
        (agent, month, kpi): value
        for agent, month, kpi, value in _query(
            "select agent_id, month_start, kpi_code, kpi_value from reporting.agent_month_kpis"
        )
    }
    newest = _newest_month()
    assert chart["rowcount"] == sum(month == newest for _, month, _ in published)
    for row in chart["data"]:
        command = row["trace_command"]
        agent = command.split(" --agent ")[1].split(" --month ")[0]
        kpi = command.rsplit(" --kpi ", 1)[1]
        assert command == f"python -m cli trace --agent {agent} --month 2026-11 --kpi {kpi}"
        value = published[(agent, newest, kpi)]
        last = published.get((agent, date(2026, 10, 1), kpi))
        for shown, expected in ((row["kpi_value"], value), (row["last_month_value"], last)):
            if expected is None:
                assert shown is None, (agent, kpi)
            else:
                assert shown == pytest.approx(float(expected), rel=1e-9), (agent, kpi)
    assert sum(row["last_month_value"] is not None for row in chart["data"]) > 100
