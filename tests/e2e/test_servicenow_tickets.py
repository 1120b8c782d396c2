"""A help-desk ticket system's file export as the CRM's tickets, through the daily DAG by
mapping alone (mappings/servicenow/crm_tickets.yml), with no roster and no ticket events.

The real ServiceNow incident event log (data/servicenow_incidents) is one CSV of every
update event of 20,769 incidents. The DAG runs its first week day by day; after the third
and after the last, the tickets due and on time per agent per day published in
`reporting.agent_days` must equal an independent pandas recomputation from the file
(tests/e2e/servicenow_truth.py: the newest valid version of each incident as known on that
day; an incident whose newest version is invalid is withheld), and the KPIs whose inputs
the export lacks (tickets handled: no first-response time; operation errors: no events;
complaints) must be NULL, not zero. The last four days are run as a new user runs them,
with `python -m cli run-days`, whose closing lines say where to query.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import urllib.parse
import zipfile
from datetime import date, timedelta

import pandas as pd
import pytest

from cli.environment import masked
from tests.conftest import REPO_ROOT, empty_warehouse
from tests.e2e.servicenow_truth import (
    CSV_NAME,
    expected_ticket_days,
    load_events,
    withheld_incidents,
)
from warehouse.connection import connect

pytestmark = pytest.mark.e2e
ARCHIVE = REPO_ROOT / "data" / "servicenow_incidents" / "IT_Incident_Data.zip"
FIRST_DAY = date(2016, 2, 29)
# Seven days: from the 4th some tickets are resolved "in the future", from the 6th some late.
DAYS = [FIRST_DAY + timedelta(days=n) for n in range(7)]


def _frame(sql: str, params=()) -> pd.DataFrame:
    with connect() as conn:
        cursor = conn.execute(sql, params)
        return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


def _published_ticket_days() -> pd.DataFrame:
    frame = _frame(
        "select agent_id, business_date, tickets_due_count, tickets_on_time_count"
        " from reporting.agent_days where tickets_due_count > 0"
        " order by agent_id, business_date"
    )
    return frame.astype({"tickets_due_count": int, "tickets_on_time_count": int})


@pytest.fixture(scope="module")
def servicenow(warehouse_url, airflow_db, tmp_path_factory):
    from cli.daily_runs import load_daily_dag, run_business_day
    from cli.main import run_days

    landing = tmp_path_factory.mktemp("servicenow")
    with zipfile.ZipFile(ARCHIVE) as archive:
        archive.extract(CSV_NAME, landing)
    empty_warehouse(warehouse_url)
    env = pytest.MonkeyPatch()
    env.setenv("SOURCE_LANDING_DIR", str(landing))
    env.setenv("SOURCE_MAPPINGS_DIR", str(REPO_ROOT / "mappings" / "servicenow"))
    env.setenv("ENABLED_SOURCES", "crm")
    env.setenv("CENTER_TIMEZONE", "UTC")
    env.setenv("DAILY_DAG_START_DATE", "2016-01-01")
    published = {}
    try:
        dag = load_daily_dag()
        for day in DAYS[:3]:
            run_business_day(dag, day, "UTC")
        published[DAYS[2]] = _published_ticket_days()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            run_days(argparse.Namespace(start=DAYS[3], end=DAYS[-1]))
        published[DAYS[-1]] = _published_ticket_days()
        yield {"events": load_events(ARCHIVE), "published": published, "printed": printed}
    finally:
        env.undo()


@pytest.mark.parametrize("through", [DAYS[2], DAYS[-1]])
def test_tickets_due_and_on_time_equal_a_pandas_recomputation(servicenow, through):
    expected = expected_ticket_days(servicenow["events"], FIRST_DAY, through)
    published = servicenow["published"][through]
    assert len(expected) > 20  # enough agent-days to mean something
    if through == DAYS[-1]:
        assert (expected.tickets_on_time_count < expected.tickets_due_count).any()  # late ones
    pd.testing.assert_frame_equal(
        published.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )


def test_each_day_lands_the_versions_written_that_day(servicenow):
    events = servicenow["events"]
    updated = pd.to_datetime(events["sys_updated_at"], format="%d/%m/%Y %H:%M").dt.date
    manifest = _frame(
        "select batch_date, rows_read, rows_loaded, rows_quarantined, rows_skipped"
        " from raw.batch_manifest where source_system = 'crm' order by batch_date"
    )
    assert list(manifest.batch_date) == DAYS
    for row in manifest.itertuples():
        assert row.rows_read == (updated == row.batch_date).sum()
        assert row.rows_read == row.rows_loaded + row.rows_quarantined + row.rows_skipped
    # Nothing lands on a day that was not run: no agent-day after the last one.
    last = _frame("select max(business_date) as last from reporting.agent_days").last[0]
    assert last <= DAYS[-1]


def test_an_incident_whose_newest_version_is_quarantined_counts_nowhere(servicenow):
    withheld = withheld_incidents(servicenow["events"], FIRST_DAY, DAYS[-1])
    assert withheld  # the export has such incidents (no assignee on the newest version)
    staged = _frame("select ticket_id from staging.stg_crm__tickets where is_withheld")
    # A withheld incident with no valid version at all is not staged.
    assert set(staged.ticket_id) <= withheld
    assert set(staged.ticket_id)  # and some have an older valid version that is held back


def test_kpis_the_export_cannot_give_are_not_available(servicenow):
    row = _frame(
        "select count(*) as days, count(tickets_handled_count) as handled,"
        " count(operation_error_count) as errors, count(complaint_count) as complaints,"
        " count(tickets_due_count) as due from reporting.agent_days"
    ).iloc[0]
    assert row.days > 0
    assert (row.handled, row.errors, row.complaints) == (0, 0, 0)  # all NULL
    assert row.due == row.days  # tickets are delivered: 0 on a day without due tickets


def test_run_days_says_where_to_query_and_its_example_answers(servicenow):
    printed = servicenow["printed"].getvalue()
    for day in DAYS[3:]:
        assert f"business day {day}: DAG run succeeded" in printed
    url = os.environ["WAREHOUSE_URL"]
    assert f"connection: {masked(url)}" in printed
    password = urllib.parse.urlparse(url).password
    assert not password or password not in printed  # masked, and said where it is
    assert "schema:     reporting" in printed
    (example,) = re.findall(r'-c "(.+)"', printed)
    assert f"'{DAYS[3]}' and '{DAYS[-1]}'" in example
    answered = _frame(example)
    expected = _frame(
        "select * from reporting.agent_days where business_date between %s and %s",
        (DAYS[3], DAYS[-1]),
    )
    assert len(answered) == len(expected) > 0
    assert sorted(answered.agent_id) == sorted(expected.agent_id)
