"""The daily DAG run by Airflow for three simulated days against the embedded PostgreSQL.

The warehouse is checked against the simulator's ground truth (computed from its events,
not from the deliveries) and a rerun of a day against the warehouse before it. The whole
KPI catalog and the scorecard policy over two months are in test_two_months.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from simulator import ground_truth
from simulator.config import SimulationConfig
from tests.conftest import empty_warehouse
from tests.e2e.snapshot import snapshot
from tests.e2e.sources import simulated_sources
from warehouse.connection import connect

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Shanghai")
# Working days after the National Day holidays (e-mails are answered on working days).
DAYS = [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
CONFIG = SimulationConfig(start_date=DAYS[0], days=len(DAYS), n_agents=30)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, warehouse_url, airflow_db):
    from cli.daily_runs import load_daily_dag, run_business_day

    empty_warehouse(warehouse_url)
    sample = tmp_path_factory.mktemp("sample")
    with simulated_sources(sample, CONFIG) as (world, dirt):
        dag = load_daily_dag()
        runs = [run_business_day(dag, day, "Asia/Shanghai") for day in DAYS]
        yield {"world": world, "dirt": dirt, "sample": sample, "dag": dag, "runs": runs}


def _utc_day(day: date) -> tuple[str, str]:
    """A local business day as the QA tool's UTC text bounds."""
    start = datetime.combine(day, time(0), tzinfo=TZ).astimezone(ZoneInfo("UTC"))
    return tuple(f"{t:%Y-%m-%d %H:%M:%S}" for t in (start, start + timedelta(days=1)))


def _query(sql: str, params=None) -> list[tuple]:
    with connect() as conn:
        return conn.execute(sql, params).fetchall()


def test_each_run_owned_one_local_business_day(pipeline):
    for day, run in zip(DAYS, pipeline["runs"], strict=True):
        assert run.state == "success"
        assert run.data_interval_start == datetime.combine(day, time(0), tzinfo=TZ)
        assert run.data_interval_end == datetime.combine(
            day + timedelta(days=1), time(0), tzinfo=TZ
        )


def test_every_agent_day_kpi_equals_the_ground_truth(pipeline):
    truth = ground_truth.agent_days(pipeline["world"], DAYS[-1])
    columns = ", ".join(ground_truth.METRICS)
    rows = _query(f"select agent_id, business_date, {columns} from reporting.agent_days")
    warehouse = {(r[0], r[1]): dict(zip(ground_truth.METRICS, r[2:], strict=True)) for r in rows}
    assert set(warehouse) == set(truth)
    assert len(truth) > 60
    mismatches = [
        (key, metric, truth[key][metric], warehouse[key][metric])
        for key in truth
        for metric in ground_truth.METRICS
        if float(warehouse[key][metric]) != truth[key][metric]
    ]
    assert mismatches == []
    # The truth is not trivially zero: every KPI input has data somewhere (rectification
    # items fall due a week after an inspection: three days hold none).
    for metric in ground_truth.METRICS:
        if not metric.startswith("rectifications_"):
            assert sum(values[metric] for values in truth.values()) > 0, metric


def test_every_landed_row_is_accounted_for(pipeline):
    sample, dirt = pipeline["sample"], pipeline["dirt"]
    manifest = _query(
        "select source_system, source_object, rows_read, rows_loaded, rows_quarantined,"
        " file_checksum from raw.batch_manifest"
    )
    assert {m[0] for m in manifest} == {"call_center", "crm", "qa", "survey", "supervisor"}
    for system, obj, read, loaded, quarantined, checksum in manifest:
        assert read == loaded + quarantined
        if system == "call_center":
            path = sample / "call_center" / obj
            assert read == len(path.read_text().splitlines()) - 1
            assert checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    loaded_files = {f"contacts_{d:%Y%m%d}.csv" for d in DAYS} | {
        f"responses_{d:%Y%m%d}.jsonl" for d in DAYS
    }
    expected_quarantine = sorted(
        (d["source"], d["object"])
        for d in dirt
        if d["kind"] != "duplicate_row" and d["object"] in loaded_files
    )
    quarantined = sorted(_query("select source_system, source_object from raw.quarantine"))
    assert quarantined == expected_quarantine
    duplicates = sum(
        1 for d in dirt if d["kind"] == "duplicate_row" and d["object"] in loaded_files
    )
    raw_rows, staged = _query(
        "select (select count(*) from raw.call_center_contacts),"
        " (select count(*) from staging.stg_call_center__contacts)"
    )[0]
    assert raw_rows - staged == duplicates
    assert staged == sum(1 for c in pipeline["world"].contacts)


def test_personal_data_does_not_reach_reporting_or_staging(pipeline):
    world = pipeline["world"]
    secrets = {c.customer_number for c in world.contacts} | {t.customer_name for t in world.tickets}
    secrets |= {s.comment_text for s in world.surveys if s.comment_text}
    for schema in ("staging", "intermediate", "marts", "reporting"):
        columns = _query(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = %s and data_type in ('text', 'character varying')",
            (schema,),
        )
        for table, column in columns:
            values = {r[0] for r in _query(f'select distinct "{column}" from {schema}."{table}"')}
            assert not values & secrets, f"{schema}.{table}.{column} holds personal data"
    keys = _query("select customer_key from staging.stg_call_center__contacts limit 1")[0][0]
    assert len(keys) == 64


def test_rerunning_a_day_leaves_every_table_identical(pipeline):
    from cli.daily_runs import run_business_day

    before = snapshot()
    assert len(before) > 25
    run_business_day(pipeline["dag"], DAYS[1], "Asia/Shanghai")
    after = snapshot()
    assert after == before
    batches = _query(
        "select count(distinct batch_id) from raw.batch_manifest where batch_date = %s", (DAYS[1],)
    )
    assert batches == [(5,)]  # one per source system
    published = _query("select count(distinct run_id) from audit.publications")
    assert published == [(len(DAYS) + 1,)]
    json.dumps(after)  # fingerprints are plain data, printable on failure
    assert (
        os.environ["WAREHOUSE_URL"].endswith("ccp_test")
        or "ccp_test" in os.environ["WAREHOUSE_URL"]
    )


def test_a_stale_source_stops_the_build(pipeline):
    from warehouse.dbt_build import DbtFailed, run_dbt

    with connect() as conn:
        conn.execute(
            "update raw.batch_manifest set extracted_at = extracted_at - interval '4 days'"
            " where source_system = 'qa'"
        )
    try:
        with pytest.raises(DbtFailed, match="source.contact_center.qa.qa_batches"):
            run_dbt(["source", "freshness"])
    finally:
        with connect() as conn:
            conn.execute(
                "update raw.batch_manifest set extracted_at = extracted_at + interval '4 days'"
                " where source_system = 'qa'"
            )
    run_dbt(["source", "freshness"])  # fresh again once the batch is recent


def test_incremental_builds_equal_a_full_rebuild(pipeline):
    """The daily builds recompute only what changed (warehouse/build_window.py): each day's
    build after the first was incremental (contacts and tickets rebuilt from the days their
    changes reach); after a corrected re-delivery of the first day (one contact gone, one
    moved to another agent, one survey response gone) and its rerun, and a QA correction
    (an inspection deleted, one re-scored) that the last day's rerun finds in its lookback,
    every staging, intermediate and mart table equals a full rebuild."""
    from cli.daily_runs import run_business_day
    from warehouse.dbt_build import run_dbt

    path = pipeline["sample"] / "call_center" / f"contacts_{DAYS[0]:%Y%m%d}.csv"
    original = path.read_text(encoding="utf-8")
    header, *lines = original.splitlines()
    gone, moved = lines[3], lines[4].split(",")
    moved[3] = lines[10].split(",")[3] if lines[10].split(",")[3] != moved[3] else "AG0001"
    corrected = [line for line in lines if line != gone]
    corrected[corrected.index(lines[4])] = ",".join(moved)
    path.write_text("\n".join([header, *corrected]) + "\n", encoding="utf-8")
    qa_db = pipeline["sample"] / "qa" / "qa_tool.sqlite"
    qa_original = qa_db.read_bytes()
    surveys = pipeline["sample"] / "surveys" / f"responses_{DAYS[0]:%Y%m%d}.jsonl"
    surveys_original = surveys.read_text(encoding="utf-8")
    responses = surveys_original.splitlines()
    gone_response = json.loads(responses[2])["response_id"]
    assert sum(gone_response in line for line in responses) == 1
    surveys.write_text("\n".join(responses[:2] + responses[3:]) + "\n", encoding="utf-8")
    try:
        run_business_day(pipeline["dag"], DAYS[0], "Asia/Shanghai")
        assert _query(
            "select count(*) from staging.stg_survey__responses where response_id = %s",
            (gone_response,),
        ) == [(0,)]
        gone_id = gone.split(",")[0]
        assert _query(
            "select count(*) from staging.stg_call_center__contacts where contact_id = %s",
            (gone_id,),
        ) == [(0,)]
        assert _query(
            "select agent_id from staging.stg_call_center__contacts where contact_id = %s",
            (moved[0],),
        ) == [(moved[3],)]
        windows = _query("select count(*) from marts.built_batches")
        assert windows == [(5 * len(DAYS),)]  # the build recorded every batch it saw
        # A QA correction the last day's rerun reads (its day, and DAYS[1] by its lookback):
        # one inspection re-scored (a deduction point more), one deleted.
        with sqlite3.connect(qa_db) as qa:
            first, (deleted,) = qa.execute(
                "select id from inspections where updated_at >= ? and updated_at < ?"
                " order by id in (select inspection_id from inspection_items) desc, id limit 2",
                (_utc_day(DAYS[1])[0], _utc_day(DAYS[2])[1]),
            ).fetchall()
            qa.execute("delete from inspection_items where inspection_id = ?", (deleted,))
            qa.execute("delete from rectifications where inspection_id = ?", (deleted,))
            qa.execute("delete from inspections where id = ?", (deleted,))
            qa.execute(
                "update inspection_items set points = points + 1 where id = ("
                " select min(id) from inspection_items where inspection_id = ? and points < 10)",
                first,
            )
            # A newer version of another inspection that breaks the contract: it is
            # quarantined with its key, and the inspection counts nowhere (its older
            # version left its day's delivery, which the lookback lands again without it).
            noon = datetime.combine(DAYS[2], time(12), tzinfo=TZ).astimezone(ZoneInfo("UTC"))
            (broken,) = qa.execute(
                "select min(id) from inspections where id not in (?, ?) and updated_at < ?",
                (*first, deleted, _utc_day(DAYS[2])[0]),
            ).fetchone()
            qa.execute(
                "update inspections set record_type = 'video', updated_at = ? where id = ?",
                (f"{noon:%Y-%m-%d %H:%M:%S}", broken),
            )
        [(score,)] = _query(
            "select qa_score from intermediate.int_qa_inspections_scored where inspection_id = %s",
            first,
        )
        run_business_day(pipeline["dag"], DAYS[2], "Asia/Shanghai")
        assert _query(
            "select qa_score from intermediate.int_qa_inspections_scored"
            " where inspection_id in (%s, %s)",
            (*first, deleted),
        ) == [(score - 1,)]
        assert _query(
            "select raw_table, batch_date, reason from raw.quarantine where record_key = %s",
            (broken,),
        ) == [
            (
                "qa_inspections",
                DAYS[2],
                "record_type: 'video' is not one of ['call', 'chat', 'email']",
            )
        ]
        for model in ("staging.stg_qa__inspections", "intermediate.int_qa_inspections_scored"):
            assert _query(f"select count(*) from {model} where inspection_id = %s", (broken,)) == [
                (0,)
            ]
        schemas = ("staging", "intermediate", "marts")
        incremental = snapshot(schemas=schemas)
        run_dbt(["build", "--full-refresh", "--exclude-resource-type", "unit_test"])
        assert snapshot(schemas=schemas) == incremental
    finally:
        path.write_text(original, encoding="utf-8")
        surveys.write_text(surveys_original, encoding="utf-8")
        qa_db.write_bytes(qa_original)
        run_business_day(pipeline["dag"], DAYS[0], "Asia/Shanghai")
        run_business_day(pipeline["dag"], DAYS[2], "Asia/Shanghai")


def test_a_team_move_rebuilds_the_agent_days_from_the_move_only(pipeline):
    """A team move entered in the CRM after the fact arrives with the next day's roster (a
    batch of its own: no daily input's window reaches back to the move). It is found by
    comparing the roster with the one the last build saw (int_agent_days_rebuild_window),
    and carried over a build that stopped before the agent-days: the agent's days from the
    move are rebuilt with the new team, every other agent-day keeps its build, and the
    result equals a full rebuild."""
    from warehouse import lease
    from warehouse.dbt_build import run_dbt

    (agent, team), *_ = _query(
        "select agent_id, team_id from marts.agent_days where business_date = %s"
        " and agent_id in (select agent_id from marts.agent_days where business_date = %s)"
        " order by agent_id",
        (DAYS[0], DAYS[2]),
    )
    [(other,)] = _query(
        "select min(team_id) from staging.stg_crm__teams where team_id <> %s", (team,)
    )
    next_day = DAYS[-1] + timedelta(days=1)
    built_before = dict(
        _query("select agent_id || business_date, built_by_run_id from marts.agent_days")
    )
    with connect() as conn:
        conn.execute(
            "insert into raw.batch_manifest select 'team-move', source_system, source_object,"
            " %s, interval_start + interval '1 day', interval_end + interval '1 day', 2, 2, 0,"
            " null, extracted_at + interval '1 day' from raw.batch_manifest"
            " where source_system = 'crm' and batch_date = %s",
            (next_day, DAYS[-1]),
        )
        # The agent left `team` after DAYS[0] and is in `other` from DAYS[1].
        moved = (
            "insert into raw.crm_team_assignments select {id}, agent_id, {team}, {since},"
            " {until}, updated_at, source_system, source_object, source_position, 'team-move',"
            " %(next)s, extracted_at + interval '1 day', content_hash"
            " from raw.crm_team_assignments"
            " where agent_id = %(agent)s and batch_date = %(last)s and valid_to is null"
        )
        values = {"next": next_day, "agent": agent, "last": DAYS[-1], "other": other}
        conn.execute(
            moved.format(id="assignment_id", team="team_id", since="valid_from", until="%(d0)s"),
            values | {"d0": DAYS[0]},
        )
        conn.execute(
            moved.format(
                id="assignment_id || '-moved'", team="%(other)s", since="%(d1)s", until="null"
            ),
            values | {"d1": DAYS[1]},
        )
    try:
        # A build that stops before the agent-days (as if agent_days failed) records
        # the batches it saw: the next build still owes the move (carried window).
        build = ["build", "--exclude-resource-type", "unit_test"]
        run_dbt([*build, "--exclude", "agent_days+"], stamp="team-move")
        assert _query(
            "select team_id from marts.agent_days where agent_id = %s and business_date = %s",
            (agent, DAYS[2]),
        ) == [(team,)]
        run_dbt(build, stamp="team-move")
        [(rebuilt_from,)] = _query(
            "select rebuilt_from from intermediate.int_agent_days_rebuild_window"
        )
        assert rebuilt_from == DAYS[1]
        days = _query(
            "select business_date, team_id, built_by_run_id from marts.agent_days"
            " where agent_id = %s and business_date <= %s order by business_date",
            (agent, DAYS[-1]),
        )
        assert [(d, t) for d, t, _ in days] == [(DAYS[0], team), (DAYS[1], other), (DAYS[2], other)]
        assert [r for *_, r in days][1:] == ["team-move", "team-move"]
        rewritten = {
            key
            for key, run in _query(
                "select agent_id || business_date, built_by_run_id from marts.agent_days"
                " where business_date <= %s",
                (DAYS[-1],),
            )
            if run != built_before[key]
        }
        assert rewritten == {f"{agent}{DAYS[1]}", f"{agent}{DAYS[2]}"}
        schemas = ("staging", "intermediate", "marts")
        incremental = snapshot(schemas=schemas)
        run_dbt(["build", "--full-refresh", "--exclude-resource-type", "unit_test"])
        assert snapshot(schemas=schemas) == incremental
    finally:
        with connect() as conn:
            conn.execute("delete from raw.crm_team_assignments where batch_id = 'team-move'")
            conn.execute("delete from raw.batch_manifest where batch_id = 'team-move'")
        run_dbt(["build", "--exclude-resource-type", "unit_test"], stamp="team-move")
        with connect(autocommit=True) as conn:
            lease.release(conn, "team-move")
        assert _query(
            "select team_id from marts.agent_days where agent_id = %s and business_date = %s",
            (agent, DAYS[-1]),
        ) == [(team,)]


def test_daily_reconciliation_covers_the_run_and_the_close_covers_history(pipeline):
    """The daily audit reconciles the keys of the batches its run landed; a staged row
    lost from an earlier day escapes it but stops the monthly close, which reconciles the
    whole history. (An abandoned contact, which no agent-day total counts, is deleted in a
    transaction that is rolled back.)"""
    from expectations.audit import reconciliation_checks
    from operations.month_close import check_ready

    def failing(checks) -> list[str]:
        return [c.target for c in checks if c.fails_the_run]

    with connect() as conn:
        assert failing(reconciliation_checks(conn)) == []
        lost = conn.execute(
            "delete from staging.stg_call_center__contacts where contact_id = ("
            " select min(contact_id) from staging.stg_call_center__contacts"
            " where batch_date = %s and is_abandoned) returning contact_id",
            (DAYS[0],),
        ).fetchone()
        assert lost is not None
        assert failing(reconciliation_checks(conn, [DAYS[-1]])) == []
        found = [c for c in reconciliation_checks(conn, [DAYS[0]]) if c.fails_the_run]
        assert [c.target for c in found] == ["stg_call_center__contacts"]
        landed = _query(
            "select count(distinct contact_id) from raw.call_center_contacts where batch_date = %s",
            (DAYS[0],),
        )[0][0]
        assert found[0].observed == str(landed - 1)
        assert failing(reconciliation_checks(conn)) == ["stg_call_center__contacts"]
        readiness = check_ready(conn, DAYS[0].replace(day=1), ("call_center",))
        assert not readiness.ready
        assert any(u.startswith("stg_call_center__contacts:") for u in readiness.unreconciled), (
            readiness.unreconciled
        )
        assert "does not reconcile with raw" in readiness.describe()
        conn.rollback()
    with connect() as conn:
        assert failing(reconciliation_checks(conn)) == []


def test_the_hashing_key_is_in_no_file_the_runs_wrote_but_its_own(
    pipeline, tmp_path_factory, capfd, caplog
):
    """A day is run once more with its task logs (dag.test writes them to the console,
    not to files) captured at debug level; then every file under the folders the runs
    wrote is read whole: dbt's target (compiled SQL, manifest, run results, partial parse)
    and logs, Airflow's home, the Data Docs, the tests' basetemp (the warehouse's data
    folder and its log) and the key's own folder. The hashing key, and the warehouse
    superuser's password, are in none of the logs, and each is found only in a 0600 file
    that holds nothing else."""
    import contextlib
    import logging
    import stat
    from pathlib import Path
    from urllib.parse import unquote, urlparse

    from cli.daily_runs import run_business_day
    from expectations.audit import audit_dir
    from tests.conftest import PII_HASH_KEY_FILE
    from warehouse.dbt_build import DBT_PROJECT_DIR

    key = os.environ["PII_HASH_KEY"].encode()
    password = urlparse(os.environ["WAREHOUSE_URL"]).password
    secrets = [key] + ([unquote(password).encode()] if password else [])
    caplog.set_level(logging.DEBUG)
    assert run_business_day(pipeline["dag"], DAYS[-1], "Asia/Shanghai").state == "success"
    printed, errors = capfd.readouterr()
    logged = f"{printed}{errors}{caplog.text}".encode()
    assert b"build window" in logged  # the dbt_build task's own log line
    assert [secret for secret in secrets if secret in logged] == []

    airflow_home = Path(os.environ["AIRFLOW_HOME"])
    folders = [
        DBT_PROJECT_DIR / "target",
        DBT_PROJECT_DIR / "logs",
        airflow_home,
        audit_dir(),
        tmp_path_factory.getbasetemp(),
        PII_HASH_KEY_FILE.parent,
    ]
    contents = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                # dbt's files are shared with any other session building at the same time
                with contextlib.suppress(FileNotFoundError):
                    contents[path] = path.read_bytes()
    names = {path.name for path in contents}
    assert {"manifest.json", "run_results.json", "partial_parse.msgpack", "dbt.log"} <= names
    assert "index.html" in names  # Data Docs
    # the compiled hashing models, where the key was once written out, are among them
    hashing = b"current_setting('ccp.pii_hash_key')"
    assert any(hashing in data for p, data in contents.items() if "compiled" in p.parts)
    assert any(p.name == "airflow.db" and airflow_home in p.parents for p in contents)
    assert any(p.name == "PG_VERSION" for p in contents)  # the warehouse's data folder
    for secret in secrets:
        holders = [path for path, data in contents.items() if secret in data]
        assert all(contents[path].strip() == secret for path in holders), holders
        assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in holders), holders
    assert [path for path, data in contents.items() if key in data] == [PII_HASH_KEY_FILE]


def test_personal_data_is_hashed_with_the_key_as_sha256_of_key_colon_value(pipeline):
    """Recomputed in Python from the raw caller numbers: sha256(key || ':' || trimmed)."""
    key = os.environ["PII_HASH_KEY"]
    rows = _query(
        "select staged.customer_key, landed.customer_number"
        " from staging.stg_call_center__contacts as staged"
        " inner join raw.call_center_contacts as landed"
        " using (contact_id, batch_id, source_position)"
    )
    assert sum(1 for hashed, _ in rows if hashed) > 100
    for hashed, number in rows:
        value = (number or "").strip(" ")
        assert hashed == (hashlib.sha256(f"{key}:{value}".encode()).hexdigest() if value else None)
