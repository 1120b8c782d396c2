"""The `reporting` schema as analysts and BI tools use it, proved with Airflow runs: what
users build on it (a view, another role's grant, an idle session) survives every publish;
readers never see half a publication; tables and columns carry their dbt descriptions and
the keys dashboards filter by are indexed; a shape change keeps views or is refused by
name; a model whose column changes type fails its build, naming the column."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from datetime import date

import psycopg
import pytest
from psycopg import sql

from simulator import ground_truth
from simulator.config import SimulationConfig
from tests.conftest import empty_warehouse
from tests.e2e.sources import simulated_sources, unknown_agents
from warehouse.connection import connect, libpq_url

pytestmark = pytest.mark.e2e
DAYS = [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 11)]
CONFIG = SimulationConfig(start_date=DAYS[0], days=len(DAYS), n_agents=20)
TZ = "Asia/Shanghai"


def _query(statement, params=()) -> list[tuple]:
    with connect() as conn:
        return conn.execute(statement, params).fetchall()


def _bi() -> psycopg.Connection:
    url = libpq_url(os.environ["WAREHOUSE_URL"])
    return psycopg.connect(url, user="bi_reader", password="test-only-bi-password")


def _reporting_prints() -> dict[str, tuple]:
    prints = {}
    for (table,) in _query(
        "select table_name from information_schema.tables where table_schema = 'reporting'"
    ):
        prints[table] = _query(
            f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), ''))"
            f" from reporting.{table} as t"
        )[0]
    return prints


class _Watcher(threading.Thread):
    """A BI reader polling, in single statements (one snapshot each), which run is
    published and how many rows three tables have."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: set[tuple] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        with _bi() as bi:
            bi.autocommit = True
            while not self.stop.is_set():
                self.seen.add(
                    bi.execute(
                        "select (select run_id from reporting.publication),"
                        " (select count(*) from reporting.agent_days),"
                        " (select count(*) from reporting.kpi_rollups),"
                        " (select count(*) from reporting.agent_month_scorecards)"
                    ).fetchone()
                )
                time.sleep(0.05)


@pytest.fixture(scope="module")
def layer(tmp_path_factory, warehouse_url, airflow_db):
    """Four days: the first published, then an analyst's view, another role's grant, a
    watcher and an idle BI transaction; days 2 and 3 published, day 4 fails its audit."""
    from cli.daily_runs import DagRunFailed, load_daily_dag, run_business_day

    empty_warehouse(warehouse_url)
    sample = tmp_path_factory.mktemp("layer")
    with simulated_sources(sample, CONFIG) as (world, _):
        dag = load_daily_dag()
        run_business_day(dag, DAYS[0], TZ)
        with connect() as conn:
            conn.execute("drop role if exists team_leads")
            conn.execute("create role team_leads nologin")
            conn.execute("create schema analyst")
            conn.execute(
                "create view analyst.agent_day_contacts as select agent_id, business_date,"
                " contacts_handled from reporting.agent_days"
            )
            conn.execute("grant usage on schema reporting, analyst to team_leads")
            conn.execute("grant select on reporting.agent_days to team_leads")
            conn.execute("grant select on analyst.agent_day_contacts to team_leads")
        watcher = _Watcher()
        watcher.start()
        idle = _bi()
        idle.execute("set statement_timeout = '5s'")  # waiting would fail the test
        idle.execute("select count(*) from reporting.agent_days")  # and stays idle
        run_business_day(dag, DAYS[1], TZ)  # published while `idle` holds its transaction
        idle_status = idle.info.transaction_status
        started = time.monotonic()
        after_publish = idle.execute("select max(business_date) from reporting.agent_days")
        idle_answer = (after_publish.fetchone()[0], time.monotonic() - started)
        idle.close()
        run_business_day(dag, DAYS[2], TZ)
        audited = _reporting_prints()
        unknown_agents(sample / "call_center" / f"contacts_{DAYS[3]:%Y%m%d}.csv", 0.10)
        with pytest.raises(DagRunFailed, match="audit"):
            run_business_day(dag, DAYS[3], TZ)
        watcher.stop.set()
        watcher.join()
        yield {
            "world": world,
            "audited": audited,
            "seen": watcher.seen,
            "idle_status": idle_status,
            "idle_answer": idle_answer,
        }


def test_an_analysts_view_answers_with_the_newest_audited_data(layer):
    assert _reporting_prints() == layer["audited"]  # the failed day changed nothing
    truth = ground_truth.agent_days(layer["world"], DAYS[2])
    expected = {key: metrics["contacts_handled"] for key, metrics in truth.items()}
    viewed = {
        (agent, day): handled
        for agent, day, handled in _query("select * from analyst.agent_day_contacts")
    }
    assert len(expected) > 40 and max(day for _, day in expected) == DAYS[2]
    assert viewed == expected
    (newest_run,) = _query(
        "select run_id from audit.runs where outcome = 'passed' order by audited_at desc limit 1"
    )[0]
    with _bi() as bi:
        stamp = bi.execute("select run_id, data_through from reporting.publication").fetchall()
    assert stamp == [(newest_run, DAYS[2])]


def test_another_roles_grants_hold_after_every_publish(layer):
    privileges = _query(
        "select has_table_privilege('team_leads', 'reporting.agent_days', 'select'),"
        " has_table_privilege('team_leads', 'reporting.agent_month_scorecards', 'select'),"
        " has_table_privilege('team_leads', 'analyst.agent_day_contacts', 'select')"
    )
    assert privileges == [(True, False, True)]
    with connect() as conn:
        conn.execute("set role team_leads")
        (days,) = conn.execute(
            "select count(distinct business_date) from analyst.agent_day_contacts"
        ).fetchone()
    assert days == 3


def test_readers_never_saw_half_a_publication(layer):
    published = {}
    for run_id, table, rows in _query(
        "select run_id, table_name, row_count from audit.publications"
        " where table_name in ('agent_days', 'kpi_rollups', 'agent_month_scorecards')"
    ):
        published.setdefault(run_id, {})[table] = rows
    states = {
        (run, t["agent_days"], t["kpi_rollups"], t["agent_month_scorecards"])
        for run, t in published.items()
    }
    assert len(states) == 3  # days 1-3; day 4 published nothing
    seen = layer["seen"]
    assert seen <= states
    assert len(seen) >= 2  # the watcher saw at least one publication happen


def test_a_bi_session_idle_in_a_transaction_neither_blocks_nor_waits(layer):
    assert layer["idle_status"] == psycopg.pq.TransactionStatus.INTRANS
    newest, waited = layer["idle_answer"]
    assert newest == DAYS[1]  # read committed: its next query sees the new publication
    assert waited < 5  # statement_timeout would have failed it otherwise


def test_every_table_and_column_carries_its_dbt_description(layer):
    from publish.gate import PUBLISHED
    from warehouse.dbt_build import DBT_PROJECT_DIR

    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    models = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"] in PUBLISHED
    }
    assert set(models) == set(PUBLISHED)
    for name, node in models.items():
        (table_comment,) = _query(
            "select obj_description(%s::regclass, 'pg_class')", (f"reporting.{name}",)
        )[0]
        assert table_comment.strip() == node["description"].strip() != ""
        comments = dict(
            _query(
                "select attname, col_description(attrelid, attnum) from pg_attribute"
                " where attrelid = %s::regclass and attnum > 0 and not attisdropped",
                (f"reporting.{name}",),
            )
        )
        described = {c: spec["description"].strip() for c, spec in node["columns"].items()}
        assert {c: (text or "").strip() for c, text in comments.items()} == described, name
        assert all(described.values()), name
    (zh,) = _query(
        "select col_description('reporting.agent_month_scorecards'::regclass, attnum)"
        " from pg_attribute where attrelid = 'reporting.agent_month_scorecards'::regclass"
        " and attname = 'month_start'"
    )[0]
    assert "考核月" in zh


def test_the_keys_dashboards_filter_by_are_indexed(layer):
    indexed = {
        (table, tuple(columns))
        for table, columns in _query(
            "select ix.indrelid::regclass::text, array_agg(att.attname::text order by key.ord)"
            " from pg_index as ix"
            " cross join unnest(ix.indkey) with ordinality as key (attnum, ord)"
            " join pg_attribute as att on att.attrelid = ix.indrelid and att.attnum = key.attnum"
            " join pg_class as rel on rel.oid = ix.indrelid"
            " where rel.relnamespace = 'reporting'::regnamespace group by ix.indexrelid, 1"
        )
    }
    assert {
        ("reporting.agent_days", ("agent_id", "business_date")),
        ("reporting.agent_days", ("business_date",)),
        ("reporting.agent_days", ("team_id", "business_date")),
        ("reporting.agent_days", ("month_start",)),
        ("reporting.agent_month_scorecards", ("month_start", "agent_id")),
        ("reporting.agent_month_scorecards", ("team_id", "month_start")),
        ("reporting.agent_month_kpis", ("month_start", "agent_id")),
        ("reporting.kpi_rollups", ("period_type", "period_start")),
        ("reporting.queue_days", ("business_date",)),
        ("reporting.qa_team_months", ("month_start",)),
        ("reporting.agents", ("agent_id",)),
    } <= indexed
    (unique,) = _query(
        "select bool_or(ix.indisunique) from pg_index as ix"
        " where ix.indrelid = 'reporting.agent_days'::regclass"
    )[0]
    assert unique


def _published(table: str) -> sql.Composable:
    return sql.SQL("select * from marts.{}").format(sql.Identifier(table))


def test_a_new_column_is_added_in_place_and_views_keep_working(layer):
    from publish.tables import replace_table

    with connect() as conn, conn.transaction(force_rollback=True):
        conn.execute(
            "create view analyst.team_qa as select team_id, month_start, qa_score_avg"
            " from reporting.qa_team_months"
        )
        (oid,) = conn.execute("select 'reporting.qa_team_months'::regclass::oid").fetchone()
        source = sql.SQL("select *, records_inspected * 2 as records_doubled from {}").format(
            sql.Identifier("marts", "qa_team_months")
        )
        rows = replace_table(conn, "qa_team_months", source, ("marts", "qa_team_months"))
        assert conn.execute("select 'reporting.qa_team_months'::regclass::oid").fetchone() == (oid,)
        doubled = conn.execute(
            "select bool_and(records_doubled = 2 * records_inspected), count(*)"
            " from reporting.qa_team_months"
        ).fetchone()
        assert doubled == (True, rows) and rows > 0
        assert conn.execute("select count(*) from analyst.team_qa").fetchone() == (rows,)


def test_a_removed_column_a_view_reads_is_refused_naming_the_view(layer):
    from publish.tables import ShapeChangeRefused, replace_table

    before = _reporting_prints()["qa_team_months"]
    with connect() as conn, conn.transaction(force_rollback=True):
        conn.execute(
            "create view analyst.team_qa as select team_id, month_start, qa_score_change"
            " from reporting.qa_team_months"
        )
        columns = [
            c
            for (c,) in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'marts' and table_name = 'qa_team_months'"
                " and column_name <> 'qa_score_change' order by ordinal_position"
            )
        ]
        source = sql.SQL("select {} from marts.qa_team_months").format(
            sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with pytest.raises(ShapeChangeRefused) as refused, conn.transaction():
            replace_table(conn, "qa_team_months", source, ("marts", "qa_team_months"))
        assert "qa_score_change numeric (no longer published)" in str(refused.value)
        assert "analyst.team_qa" in str(refused.value)
        assert conn.execute("select count(*) from analyst.team_qa").fetchone()[0] > 0
    assert _reporting_prints()["qa_team_months"] == before


def test_a_retyped_column_nothing_reads_recreates_the_table_with_its_grants(layer):
    from publish.tables import replace_table

    with connect() as conn, conn.transaction(force_rollback=True):
        conn.execute("grant select on reporting.queue_days to team_leads")
        (oid,) = conn.execute("select 'reporting.queue_days'::regclass::oid").fetchone()
        source = sql.SQL(
            "select queue_name, channel, business_date, offered_count::numeric as offered_count,"
            " answered_count, abandoned_in_queue_count, abandoned_before_queue_count,"
            " answer_wait_seconds_sum, answer_wait_count from marts.queue_days"
        )
        rows = replace_table(conn, "queue_days", source, ("marts", "queue_days"))
        (new_oid,) = conn.execute("select 'reporting.queue_days'::regclass::oid").fetchone()
        assert new_oid != oid
        assert conn.execute(
            "select format_type(atttypid, atttypmod) from pg_attribute"
            " where attrelid = 'reporting.queue_days'::regclass and attname = 'offered_count'"
        ).fetchone() == ("numeric",)
        assert conn.execute(
            "select has_table_privilege('team_leads', 'reporting.queue_days', 'select'),"
            " has_table_privilege('bi_reader', 'reporting.queue_days', 'select'),"
            " col_description('reporting.queue_days'::regclass, 1) is not null,"
            " (select count(*) from pg_index where indrelid = 'reporting.queue_days'::regclass),"
            " (select count(*) from reporting.queue_days)"
        ).fetchone() == (True, True, True, 1, rows)


def test_a_model_whose_published_column_changes_type_fails_its_build(layer, tmp_path, monkeypatch):
    """The contract is checked before anything is built: the mart is left as it was."""
    from warehouse import dbt_build

    project = tmp_path / "dbt_project"
    shutil.copytree(
        dbt_build.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    model = project / "models" / "marts" / "qa_team_months.sql"
    text = model.read_text()
    assert text.count("        agents_inspected,\n") == 1
    model.write_text(
        text.replace(
            "        agents_inspected,\n", "        agents_inspected::text as agents_inspected,\n"
        )
    )
    before = _query("select count(*), sum(agents_inspected) from marts.qa_team_months")
    monkeypatch.setattr(dbt_build, "DBT_PROJECT_DIR", project)
    with pytest.raises(dbt_build.DbtFailed) as failed:
        dbt_build.run_dbt(["run", "--select", "qa_team_months"])
    message = str(failed.value)
    assert "model.contact_center.qa_team_months" in message
    assert "contract" in message and "agents_inspected" in message
    assert "data type mismatch" in message
    assert _query("select count(*), sum(agents_inspected) from marts.qa_team_months") == before
