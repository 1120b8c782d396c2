"""Write-audit-publish, proved with Airflow runs: a good day is published; a bad delivery
the next day fails the run at the audit (or at the extract) and leaves `reporting` exactly
as it was; the corrected delivery then publishes. The BI role reads `reporting` only."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from simulator.config import SimulationConfig
from tests.conftest import empty_warehouse
from tests.e2e.sources import simulated_sources, unknown_agents
from warehouse.connection import connect, libpq_url

pytestmark = pytest.mark.e2e
DAYS = [date(2026, 10, 8), date(2026, 10, 9)]
CONFIG = SimulationConfig(start_date=DAYS[0], days=len(DAYS), n_agents=20)


def _reporting() -> dict[str, tuple]:
    """Row count and content hash of every reporting table."""
    prints = {}
    with connect() as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'reporting'"
        ).fetchall()
        for (table,) in tables:
            prints[table] = conn.execute(
                f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), ''))"
                f" from reporting.{table} as t"
            ).fetchone()
    return prints


def _query(sql: str, params=()) -> list[tuple]:
    with connect() as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def gate(tmp_path_factory, warehouse_url, airflow_db):
    from cli.daily_runs import load_daily_dag

    empty_warehouse(warehouse_url)
    sample = tmp_path_factory.mktemp("gate")
    with simulated_sources(sample, CONFIG):
        yield {"dag": load_daily_dag(), "sample": sample}


def test_a_bad_delivery_fails_the_run_and_leaves_reporting_as_it_was(gate):
    from cli.daily_runs import DagRunFailed, run_business_day

    dag, sample = gate["dag"], gate["sample"]
    run_business_day(dag, DAYS[0], "Asia/Shanghai")
    published = _reporting()
    assert published["agent_month_scorecards"][0] > 0
    assert _query("select outcome, checks_failed from audit.runs") == [("passed", 0)]
    good_file = sample / "call_center" / f"contacts_{DAYS[1]:%Y%m%d}.csv"
    good = good_file.read_bytes()

    # 1. Unknown agents on 10% of the day's calls: lands, builds, fails the audit.
    unknown_agents(good_file, 0.10)
    with pytest.raises(DagRunFailed, match="audit"):
        run_business_day(dag, DAYS[1], "Asia/Shanghai")
    assert _reporting() == published
    (failures,) = _query(
        "select failures from audit.runs where business_date = %s and outcome = 'failed'",
        (DAYS[1],),
    )[0]
    assert "call_center: source call_center, batch " in failures
    assert "rule unknown_agents_below_threshold" in failures
    assert "rows name agents not on the roster" in failures
    docs = _query("select data_docs from audit.runs where business_date = %s", (DAYS[1],))
    assert Path(docs[0][0]).is_file() and Path(docs[0][0]).name == "index.html"

    # 2. A renamed column: the extract stops before anything is landed or published.
    lines = good.decode().splitlines()
    good_file.write_text("\n".join([lines[0].replace("ANI", "CallerNumber"), *lines[1:]]))
    with pytest.raises(DagRunFailed, match="extract_call_center"):
        run_business_day(dag, DAYS[1], "Asia/Shanghai")
    assert _reporting() == published
    (error,) = _query(
        "select error from audit.task_failures where task_id = 'extract_call_center'"
    )[0]
    assert "broke rule 'required_columns'" in error and "lacks columns ['ANI']" in error

    # 3. The corrected delivery goes through and is published.
    good_file.write_bytes(good)
    run_business_day(dag, DAYS[1], "Asia/Shanghai")
    assert _reporting() != published
    outcomes = _query(
        "select outcome from audit.runs where business_date = %s order by audited_at", (DAYS[1],)
    )
    assert outcomes == [("failed",), ("passed",)]
    days = _query("select distinct business_date from reporting.agent_days order by 1")
    assert [d for (d,) in days][-1] == DAYS[1]


def test_the_audit_records_every_check_of_the_run(gate):
    runs = _query(
        "select run_id, checks_run, checks_failed from audit.runs where outcome = 'passed'"
    )
    assert len(runs) == 2
    for run_id, checks_run, _ in runs:
        kinds = dict(
            _query(
                "select check_kind, count(*) from audit.checks where run_id = %s group by 1",
                (run_id,),
            )
        )
        assert set(kinds) == {"contract", "reconciliation", "expectation", "warning"}
        assert sum(kinds.values()) == checks_run > 100
        targets = {
            t
            for (t,) in _query(
                "select distinct target from audit.checks"
                " where run_id = %s and check_kind = 'expectation'",
                (run_id,),
            )
        }
        assert {
            "raw.call_center_contacts",
            "raw.qa_deductions",
            "marts.agent_month_scorecards",
        } <= targets
    counts = _query(
        "select source_system, sum(row_count) from audit.quarantine_counts q"
        " join audit.runs r using (run_id) where r.outcome = 'passed' group by 1"
    )
    manifest = _query(
        "select source_system, sum(rows_quarantined) from raw.batch_manifest group by 1"
        " having sum(rows_quarantined) > 0"
    )
    assert dict(counts) == {s: n for s, n in manifest}


def test_the_bi_role_reads_reporting_and_nothing_else(gate):
    url = libpq_url(os.environ["WAREHOUSE_URL"])
    with psycopg.connect(url, user="bi_reader", password="test-only-bi-password") as bi:
        assert bi.execute("select count(*) from reporting.agent_month_scorecards").fetchone()[0]
        for table in (
            "raw.call_center_contacts",
            "staging.stg_crm__tickets",
            "marts.agent_days",
            "audit.runs",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(f"select 1 from {table} limit 1")
            bi.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("create table reporting.mine (x int)")


def test_publish_refuses_marts_its_audit_did_not_see(gate):
    """Another run rebuilt the marts after this run's audit: its publish changes nothing."""
    from publish.gate import PublishRefused, publish

    (run_id,) = _query(
        "select run_id from audit.runs where outcome = 'passed' order by audited_at desc limit 1"
    )[0]
    published = _reporting()
    with connect() as conn:
        conn.execute("update marts.build_stamp set run_id = 'a-backfill-run'")
    try:
        with (
            connect() as conn,
            pytest.raises(PublishRefused, match="rebuilt by run a-backfill-run"),
        ):
            publish(conn, run_id, DAYS[1])
        assert _reporting() == published
        with connect() as conn, pytest.raises(PublishRefused, match="no passed audit"):
            publish(conn, "never-audited", DAYS[1])
    finally:
        with connect() as conn:
            conn.execute("update marts.build_stamp set run_id = %s", (run_id,))
    with connect() as conn:
        assert publish(conn, run_id, DAYS[1])["agent_month_scorecards"] > 0


def _last_passed_run() -> str:
    return _query(
        "select run_id from audit.runs where outcome = 'passed' order by audited_at desc limit 1"
    )[0][0]


def _bi() -> psycopg.Connection:
    url = libpq_url(os.environ["WAREHOUSE_URL"])
    return psycopg.connect(url, user="bi_reader", password="test-only-bi-password")


def test_a_bi_session_idle_in_a_transaction_and_the_publish_never_wait_for_each_other(gate):
    """A BI session left idle in a transaction on reporting.agent_days does not hold the
    publish up, and a BI query during a publish reads the previous rows at once."""
    from publish.gate import publish
    from publish.tables import replace_table

    run_id = _last_passed_run()
    (before,) = _query("select count(*) from reporting.agent_days")[0]
    with _bi() as idle, _bi() as reader, connect() as publisher:
        idle.execute("select count(*) from reporting.agent_days")  # and stays idle
        reader.autocommit = True
        reader.execute("set statement_timeout = '5s'")  # waiting would fail the test
        publisher.execute("set statement_timeout = '60s'")  # so would a hung publish
        publisher.commit()
        with publisher.transaction(force_rollback=True):
            emptied = replace_table(
                publisher, "agent_days", sql.SQL("select * from marts.agent_days limit 0")
            )
            assert emptied == 0
            # Mid-publish (uncommitted): the reader sees the published rows, unblocked.
            (seen,) = reader.execute("select count(*) from reporting.agent_days").fetchone()
            assert seen == before > 0
        # A whole publish while the idle transaction is still open.
        counts = publish(publisher, run_id, DAYS[1])
        assert counts["agent_days"] == before
        assert idle.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        assert reader.execute("select count(*) from reporting.agent_days").fetchone()[0] == before


def test_a_table_that_must_be_recreated_waits_for_readers_a_bounded_time(gate, monkeypatch):
    """Only a changed shape needs the table to itself: the publish then waits for an idle
    BI transaction at most PUBLISH_LOCK_TIMEOUT_SECONDS, fails naming it, publishes nothing,
    and succeeds once the reader is gone."""
    from publish.gate import publish
    from publish.tables import PublishBlocked

    monkeypatch.setenv("PUBLISH_LOCK_TIMEOUT_SECONDS", "1")
    run_id = _last_passed_run()
    with connect() as conn:
        conn.execute("alter table reporting.agent_days add column stale_column integer")
    published = _reporting()
    with _bi() as idle, connect() as publisher:
        (pid,) = idle.execute("select pg_backend_pid()").fetchone()
        idle.execute("select count(*) from reporting.agent_days")  # and stays idle
        with pytest.raises(PublishBlocked, match=f"pid {pid} of bi_reader, idle in transaction"):
            publish(publisher, run_id, DAYS[1])
        assert _reporting() == published
        idle.rollback()
        assert publish(publisher, run_id, DAYS[1])["agent_days"] > 0
    columns = _query(
        "select count(*) from information_schema.columns where table_schema = 'reporting'"
        " and table_name = 'agent_days' and column_name = 'stale_column'"
    )
    assert columns == [(0,)]
