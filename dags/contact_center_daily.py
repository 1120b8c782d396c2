"""
### Contact-center daily load

Owns one **local business day** D of the center (default Asia/Shanghai): the run scheduled
at D+1 00:00 local has the half-open data interval [D 00:00, D+1 00:00).

1. The five extracts (call center, CRM, QA, surveys, monthly supervisor inputs) run in
   parallel, each landing its source into `raw` with lineage, a
   manifest row per source object and quarantined rows with their reason. A rerun
   replaces the day's batch.
2. `dbt_build` checks source freshness, then builds staging -> intermediate -> marts with
   the seeds (weights, targets, calendars, grade bands) and runs the dbt tests.
3. `audit` checks the run (expectations/audit.py): every batch against its manifest and
   quarantine, unknown agents, staged rows against landed keys, mart totals against
   staging, and the Great Expectations suites on the day's raw batches and on the marts
   (Data Docs per run under `AUDIT_DIR`). Results go to the `audit` schema; a failure
   stops the run naming the source, batch and rule.
4. `publish_reporting` copies the marts into `reporting` in one transaction; the BI role
   can read `reporting` and nothing else.

Sources are located by `SOURCE_LANDING_DIR`, `CRM_API_URL` and `QA_DB_PATH`, read with
the vendor mappings in `SOURCE_MAPPINGS_DIR`; a center without some systems lists the
ones it has in `ENABLED_SOURCES` (the others' extracts are skipped and their KPIs are
"not available"). The warehouse is `WAREHOUSE_URL`; staging hashes personal data with
`PII_HASH_KEY`.

Every task fails when it runs longer than `TASK_TIMEOUT_MINUTES` (default 60);
`dbt_build`, which may first wait for the warehouse lease, after
`DBT_BUILD_TIMEOUT_MINUTES` (default 240). Each API request has its own deadlines (the
mapping's `*_timeout_seconds`).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from operations.alerts import notify_failure

CENTER_TIMEZONE = os.environ.get("CENTER_TIMEZONE", "Asia/Shanghai")
# Interactive runs (the CLI, the tests) fail fast instead of waiting out retry delays.
RETRIES = int(os.environ.get("DAILY_DAG_RETRIES", "3"))
# The first business day the DAG may run for (backfills of older history set it earlier).
START_DATE = os.environ.get("DAILY_DAG_START_DATE", "2020-01-01")
# No task runs for ever: a task still running after its timeout fails (and is retried).
TASK_TIMEOUT = timedelta(minutes=float(os.environ.get("TASK_TIMEOUT_MINUTES", "60")))
# The build may first wait up to two hours for the warehouse lease (warehouse/lease.py).
DBT_BUILD_TIMEOUT = timedelta(minutes=float(os.environ.get("DBT_BUILD_TIMEOUT_MINUTES", "240")))


def _extract(source_system: str, context: dict) -> dict:
    from airflow.sdk.exceptions import AirflowSkipException

    from extractors.daily import SourceNotConfigured, extract

    try:
        return extract(
            source_system,
            context["data_interval_start"],
            context["data_interval_end"],
            context["run_id"],
            context["ti"].task_id,
            logical_date=context["logical_date"],
        )
    except SourceNotConfigured as reason:
        raise AirflowSkipException(str(reason)) from None


@dag(
    dag_id="contact_center_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=CENTER_TIMEZONE),
    start_date=pendulum.parse(START_DATE, tz=CENTER_TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={
        "on_failure_callback": notify_failure,
        "retries": RETRIES,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "execution_timeout": TASK_TIMEOUT,
    },
    tags=["contact-center", "scorecard", "daily"],
    doc_md=__doc__,
)
def contact_center_daily():
    @task
    def extract_call_center(**context):
        return _extract("call_center", context)

    @task
    def extract_crm(**context):
        return _extract("crm", context)

    @task
    def extract_qa(**context):
        return _extract("qa", context)

    @task
    def extract_survey(**context):
        return _extract("survey", context)

    @task
    def extract_supervisor(**context):
        return _extract("supervisor", context)

    # Runs when no extract failed: a source the center does not have is skipped, not failed.
    # One build at a time across runs (the others queue in the scheduler, not in a worker
    # slot); the build takes the warehouse lease its publish gives back (warehouse/lease.py).
    @task(
        retries=min(RETRIES, 1),
        trigger_rule="none_failed_min_one_success",
        max_active_tis_per_dag=1,
        execution_timeout=DBT_BUILD_TIMEOUT,
    )
    def dbt_build(
        data_interval_start=None, data_interval_end=None, logical_date=None, run_id=None, dag=None
    ):
        from extractors.batch import business_day
        from extractors.settings import enabled_sources
        from warehouse.dbt_build import run_dbt

        day = business_day(data_interval_start, data_interval_end, CENTER_TIMEZONE, logical_date)
        dag_id = dag.dag_id
        # A configured source not loaded for days stops the run here.
        batches = [f"source:{name}.{name}_batches" for name in enabled_sources()]
        run_dbt(["source", "freshness", "--select", *batches])
        # dbt unit tests prove the formulas in CI (make test), not on every production run.
        run_dbt(["build", "--exclude-resource-type", "unit_test"], stamp=run_id, dag_id=dag_id)
        return day.isoformat()

    # Write-audit-publish: a failed audit fails the run and leaves `reporting` as it was.
    @task(retries=0)
    def audit(business_date: str, run_id=None):
        from datetime import date

        from expectations.audit import run_audit
        from warehouse.connection import connect

        with connect() as conn:
            run_audit(conn, run_id, date.fromisoformat(business_date))
        return business_date

    @task(retries=min(RETRIES, 1))
    def publish_reporting(business_date: str, run_id=None):
        from datetime import date

        from publish.gate import publish
        from warehouse.connection import connect

        with connect() as conn:
            return publish(conn, run_id, date.fromisoformat(business_date))

    extracts = [
        extract_call_center(),
        extract_crm(),
        extract_qa(),
        extract_survey(),
        extract_supervisor(),
    ]
    built = dbt_build()
    extracts >> built
    publish_reporting(audit(built))


contact_center_daily()
