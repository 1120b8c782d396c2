"""Airflow's own backfill, run by a real scheduler, builds the same warehouse as dag.test.

`airflow backfill create` is executed by real `airflow scheduler`, `airflow dag-processor`
and `airflow api-server --apps execution` processes (Airflow 3 task processes report to the
execution API) with a LocalExecutor and a PostgreSQL metadata database on the tests'
server. Meanwhile the same business days are run one by one with `dag.test` in this
process into a second database of the same server, and the two warehouses are compared
table by table and column by column, leaving out the columns that name the run or the
wall-clock time it ran (tests/e2e/snapshot.py).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlparse, urlunparse
from zoneinfo import ZoneInfo

import psycopg
import pytest

from simulator import exports, ground_truth
from simulator.config import SimulationConfig
from simulator.crm_api import CrmApiServer
from simulator.world import build_world
from tests.conftest import REPO_ROOT, empty_warehouse
from tests.e2e.snapshot import column_snapshot, differences
from warehouse.connection import connect, dbt_env, libpq_url

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Shanghai")
DAG_ID = "contact_center_daily"
# Five consecutive days after the National Day holidays (Oct 1-7).
DAYS = [date(2026, 10, 8) + timedelta(days=i) for i in range(5)]
CONFIG = SimulationConfig(start_date=DAYS[0], days=len(DAYS), n_agents=20)
METADATA_DATABASE = "airflow_backfill_test"
DAY_BY_DAY_DATABASE = "ccp_test_day_by_day"  # dag.test's warehouse, on the same server
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
TERMINAL = {"success", "failed"}
RUNS_TIMEOUT = 600  # seconds for the whole backfill; one run takes ~30 s


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, clock(0), tzinfo=TZ)


def cli_date(day: date) -> str:
    """`--from-date`/`--to-date` for business day `day`: its local midnight, with offset."""
    return local_midnight(day).isoformat()


class AirflowStack:
    """Scheduler, dag-processor and execution API over a metadata database of their own."""

    def __init__(self, home: Path, env: dict[str, str], metadata_url: str):
        self.home = home
        self.env = env
        self.metadata_url = metadata_url
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *arguments: str) -> None:
        with (self.home / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [AIRFLOW, *arguments],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with its children
            )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def cli(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [AIRFLOW, *arguments], env=self.env, capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            self.fail(
                f"airflow {' '.join(arguments)} exited {done.returncode}:\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done

    def query(self, sql: str, params=None) -> list[tuple]:
        with psycopg.connect(self.metadata_url) as conn:
            return conn.execute(sql, params).fetchall()

    def wait_until(self, what: str, condition, timeout: float, interval: float = 2.0):
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            dead = {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}
            if dead:
                self.fail(f"waiting for {what}: Airflow processes exited: {dead}")
            if time.monotonic() > deadline:
                self.fail(f"timed out after {timeout} s waiting for {what}")
            time.sleep(interval)

    def backfill_runs(self, backfill_id: int) -> list[dict]:
        rows = self.query(
            "select run_id, run_type, state, logical_date, data_interval_start,"
            " data_interval_end from dag_run where dag_id = %s and backfill_id = %s"
            " order by logical_date",
            (DAG_ID, backfill_id),
        )
        keys = ("run_id", "run_type", "state", "logical_date", "start", "end")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def latest_backfill(self) -> int | None:
        rows = self.query("select max(id) from backfill where dag_id = %s", (DAG_ID,))
        return rows[0][0]

    def wait_for_runs(self, backfill_id: int, expected_runs: int, check=True) -> list[dict]:
        """The backfill's runs, once all of them are finished (successfully, with `check`)."""

        def finished():
            runs = self.backfill_runs(backfill_id)
            if len(runs) == expected_runs and all(r["state"] in TERMINAL for r in runs):
                return runs
            return None

        runs = self.wait_until(f"the runs of backfill {backfill_id}", finished, RUNS_TIMEOUT)
        if check and any(r["state"] != "success" for r in runs):
            self.fail(f"backfill {backfill_id} runs: {runs}")
        return runs

    def wait_for_completion(self, backfill_id: int) -> None:
        """The scheduler marks a finished backfill complete every 30 s; until then no other
        backfill of the DAG can be created."""
        self.wait_until(
            f"backfill {backfill_id} marked complete",
            lambda: self.query(
                "select 1 from backfill where id = %s and completed_at is not null",
                (backfill_id,),
            ),
            timeout=120,
        )

    def diagnostics(self) -> str:
        """Tails of the processes' logs and of the logs of every task that did not succeed."""
        parts = []
        for log in sorted(self.home.glob("*.log")):
            parts.append(f"===== {log.name} (tail)\n{_tail(log, 60)}")
        try:
            failed = self.query(
                "select run_id, task_id, state from task_instance where dag_id = %s"
                " and state is distinct from 'success' order by run_id, task_id",
                (DAG_ID,),
            )
        except psycopg.Error as error:
            failed = []
            parts.append(f"(task instances not readable: {error})")
        for run_id, task_id, state in failed:
            parts.append(f"===== task {run_id} {task_id}: {state}")
            folder = self.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}"
            for log in sorted(folder.glob(f"task_id={task_id}/*.log")):
                parts.append(f"--- {log.name}\n{_tail(log, 40)}")
        return "\n".join(parts)

    def fail(self, message: str):
        pytest.fail(f"{message}\n{self.diagnostics()}", pytrace=False)


def _tail(path: Path, lines: int) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_database(server_url: str, name: str) -> str:
    """An empty database `name` on the tests' server (dropped first if it exists); its URL."""
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")
        conn.execute(f"create database {name}")
    parsed = urlparse(libpq_url(server_url))
    return urlunparse(parsed._replace(path=f"/{name}"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The simulated deliveries of DAYS, and the CRM API serving them."""
    folder = tmp_path_factory.mktemp("backfill-sample")
    world = build_world(CONFIG)
    exports.write_all(world, folder)
    with CrmApiServer(folder / "crm") as crm:
        yield {"world": world, "folder": folder, "crm_url": crm.url}


@pytest.fixture(scope="module")
def stack(tmp_path_factory, server_url, warehouse_url, sample):
    """Scheduler, dag-processor and the execution API (Airflow 3's task processes report to
    it: scheduler and dag-processor alone run no task) with their metadata in a fresh
    PostgreSQL database and a home of their own, running the repository's DAGs against the
    tests' warehouse; stopped (process groups) at the end of the module."""
    metadata = _fresh_database(server_url, METADATA_DATABASE)
    home = tmp_path_factory.mktemp("airflow-backfill-home")
    sqlalchemy_url = metadata.replace("postgresql://", "postgresql+psycopg://", 1)
    port = _free_port()
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlalchemy_url,
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC=sqlalchemy_url,
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO_ROOT / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="8",
        # As `make airflow`: a new DAG is paused; the test unpauses it (a paused DAG's
        # backfill runs stay queued, pinned below).
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        # No scheduled runs: unpausing would otherwise also schedule the latest day, which
        # has no delivery. Backfill runs are still started.
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="600",  # parsed once is enough
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(16),
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        WAREHOUSE_URL=warehouse_url,
        SOURCE_LANDING_DIR=str(sample["folder"]),
        QA_DB_PATH=str(sample["folder"] / "qa" / "qa_tool.sqlite"),
        CRM_API_URL=sample["crm_url"],
        DAILY_DAG_RETRIES="0",
        DAILY_DAG_START_DATE="2026-10-01",
        # dbt's artifacts away from the checkout's target/, which other runs may share.
        DBT_TARGET_PATH=str(home / "dbt-target"),
        DBT_LOG_PATH=str(home / "dbt-logs"),
        AUDIT_DIR=str(home / "audit"),
        # dag.test publishes into its own database at the same time: a role of their own,
        # as two concurrent ALTER ROLE of one role can fail ("tuple concurrently updated").
        BI_READER_ROLE="bi_reader_backfill",
    )
    stack = AirflowStack(home, env, metadata)
    stack.cli("db", "migrate")
    try:
        stack.start("dag-processor", "dag-processor")
        stack.start("scheduler", "scheduler")
        stack.start("api-server", "api-server", "--apps", "execution", "--port", str(port))
        stack.wait_until(
            f"{DAG_ID} parsed into the metadata database",
            lambda: stack.query("select 1 from serialized_dag where dag_id = %s", (DAG_ID,)),
            timeout=180,
        )
        yield stack
    finally:
        stack.stop()


DRY_RUN_DATE = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[+-]\d\d:\d\d")


def dry_run(stack: AirflowStack, *arguments: str) -> list[datetime]:
    """The logical dates `backfill create --dry-run` lists (it prints the first one in the
    offset of --from-date, the others in UTC)."""
    out = stack.cli("backfill", "create", "--dag-id", DAG_ID, "--dry-run", *arguments).stdout
    listed = out.partition("Runs to be attempted:")[2]
    return [datetime.fromisoformat(d) for d in DRY_RUN_DATE.findall(listed)]


def per_day_truth(world) -> dict[date, tuple[int, int]]:
    """Ground truth per business day: agent-day rows and contacts handled."""
    truth: dict[date, tuple[int, int]] = {}
    for (_, day), metrics in ground_truth.agent_days(world, DAYS[-1]).items():
        rows, handled = truth.get(day, (0, 0))
        truth[day] = (rows + 1, handled + metrics["contacts_handled"])
    return truth


def per_day_warehouse(url: str) -> dict[date, tuple[int, int]]:
    with connect(url) as conn:
        rows = conn.execute(
            "select business_date, count(*), sum(contacts_handled) from reporting.agent_days"
            " group by business_date"
        ).fetchall()
    return {day: (count, int(handled)) for day, count, handled in rows}


# How long a new backfill is left with its DAG paused before the DAG is unpaused: the
# scheduler loops about once a second, so the runs of an unpaused DAG would have started.
PAUSED_WAIT = 5


@contextmanager
def dag_test_environment(sample, warehouse_url: str, scratch: Path):
    """This process's environment for dag.test runs of the sample into `warehouse_url`
    (dbt's artifacts and logs under `scratch`, as the scheduler's are under its home)."""
    from cli.daily_runs import load_daily_dag

    env = pytest.MonkeyPatch()
    env.setenv("WAREHOUSE_URL", warehouse_url)
    env.setenv("SOURCE_LANDING_DIR", str(sample["folder"]))
    env.setenv("QA_DB_PATH", str(sample["folder"] / "qa" / "qa_tool.sqlite"))
    env.setenv("CRM_API_URL", sample["crm_url"])
    env.setenv("DBT_TARGET_PATH", str(scratch / "target"))
    env.setenv("DBT_LOG_PATH", str(scratch / "logs"))
    # Set by dbt and audit runs from WAREHOUSE_URL: restored afterwards too.
    for name, value in dbt_env(warehouse_url).items():
        env.setenv(name, value)
    env.delenv("AUDIT_GX_WAREHOUSE_URL", raising=False)
    try:
        yield load_daily_dag()
    finally:
        env.undo()


@pytest.fixture(scope="module")
def builds(stack, sample, warehouse_url, server_url, airflow_db, tmp_path_factory):
    """DAYS built twice at the same time: backfilled by the scheduler into the tests'
    warehouse (one run at a time), and run one by one with dag.test in this process into
    a second, fresh database of the same server."""
    from cli.daily_runs import run_business_day

    empty_warehouse(warehouse_url)
    day_by_day_url = _fresh_database(server_url, DAY_BY_DAY_DATABASE)
    dry_runs = {
        "bare dates": dry_run(
            stack, "--from-date", DAYS[0].isoformat(), "--to-date", DAYS[-1].isoformat()
        ),
        "local midnights": dry_run(
            stack, "--from-date", cli_date(DAYS[0]), "--to-date", cli_date(DAYS[-1])
        ),
    }
    started = time.monotonic()
    stack.cli(
        "backfill", "create", "--dag-id", DAG_ID,
        "--from-date", cli_date(DAYS[0]), "--to-date", cli_date(DAYS[-1]),
        "--max-active-runs", "1",
    )  # fmt: skip
    backfill_id = stack.latest_backfill()
    time.sleep(PAUSED_WAIT)  # the DAG is still paused, as every new DAG here
    while_paused = [r["state"] for r in stack.backfill_runs(backfill_id)]
    stack.cli("dags", "unpause", DAG_ID)
    with dag_test_environment(sample, day_by_day_url, tmp_path_factory.mktemp("dag-test")) as dag:
        for day in DAYS:
            run_business_day(dag, day, "Asia/Shanghai")
    day_by_day_done = time.monotonic() - started
    runs = stack.wait_for_runs(backfill_id, len(DAYS))
    print(
        f"\n{len(DAYS)} days: dag.test {day_by_day_done:.0f} s,"
        f" scheduler backfill {time.monotonic() - started:.0f} s after its creation"
    )
    return {
        "backfill_id": backfill_id,
        "dry_runs": dry_runs,
        "while_paused": while_paused,
        "runs": runs,
        "backfill": column_snapshot(warehouse_url),
        "day_by_day": column_snapshot(day_by_day_url),
        "backfill_per_day": per_day_warehouse(warehouse_url),
        "day_by_day_per_day": per_day_warehouse(day_by_day_url),
    }


def test_backfill_dates_are_instants_and_bare_dates_are_utc_midnights(builds):
    # Logical dates are the local midnights D 00:00 Asia/Shanghai (= D-1 16:00 UTC) that
    # start the business days; --from-date and --to-date are instants bounding them,
    # both inclusive. A bare date is midnight in Airflow's default timezone (UTC), that is
    # 08:00 in Shanghai: `--from-date D1` leaves D1 out.
    assert builds["dry_runs"]["bare dates"] == [local_midnight(d) for d in DAYS[1:]]
    assert builds["dry_runs"]["local midnights"] == [local_midnight(d) for d in DAYS]


def test_a_paused_dags_backfill_waits_until_the_dag_is_unpaused(builds):
    assert builds["while_paused"] == ["queued"] * len(DAYS)


def test_the_backfill_ran_one_run_per_business_day(builds):
    runs = builds["runs"]
    assert [r["logical_date"] for r in runs] == [local_midnight(d) for d in DAYS]
    for day, run in zip(DAYS, runs, strict=True):
        assert run["run_type"] == "backfill"
        assert run["state"] == "success"
        assert run["start"] == local_midnight(day)
        assert run["end"] == local_midnight(day + timedelta(days=1))


def test_both_warehouses_hold_the_simulated_days(builds, sample):
    truth = per_day_truth(sample["world"])
    assert sorted(truth) == DAYS
    assert all(rows >= 10 and handled > 100 for rows, handled in truth.values())
    assert builds["backfill_per_day"] == truth
    assert builds["day_by_day_per_day"] == truth


def test_the_backfill_builds_the_warehouse_dag_test_builds(builds):
    assert len(builds["backfill"]) > 40
    assert differences(builds["backfill"], builds["day_by_day"]) == {}


def test_reprocessing_a_completed_day_reruns_its_run_and_changes_nothing(
    builds, stack, warehouse_url
):
    day = cli_date(DAYS[1])
    window = ("--from-date", day, "--to-date", day)
    # An existing successful run is skipped by the default reprocess behaviour ("none").
    assert dry_run(stack, *window) == []
    stack.wait_for_completion(builds["backfill_id"])  # one backfill of a DAG at a time
    original = builds["runs"][1]
    stack.cli(
        "backfill", "create", "--dag-id", DAG_ID, *window, "--reprocess-behavior", "completed"
    )
    rerun_id = stack.latest_backfill()
    assert rerun_id != builds["backfill_id"]
    (rerun,) = stack.wait_for_runs(rerun_id, 1)
    # "completed" clears the existing run and queues it again under the new backfill: the
    # same run (run id, interval), its tasks on their second try.
    assert rerun["run_id"] == original["run_id"]
    assert (rerun["start"], rerun["end"]) == (original["start"], original["end"])
    tries = stack.query(
        "select distinct try_number from task_instance where dag_id = %s and run_id = %s",
        (DAG_ID, original["run_id"]),
    )
    assert tries == [(2,)]
    assert differences(builds["backfill"], column_snapshot(warehouse_url)) == {}
