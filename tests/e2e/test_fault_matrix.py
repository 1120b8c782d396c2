"""The fault matrix: each fault hits a run of the daily DAG run by Airflow (`dag.test` in a
subprocess, killed with SIGKILL where the fault is a crash), the fault's outcome is
checked, and the run of the same day after it must leave the warehouse equal to a clean
run of the same days (the fingerprint of every raw, staging, intermediate, mart and
reporting table, without the columns that name runs and times: tests/e2e/snapshot.py).

The runs are paused at the point a fault aims at by locks: the pipeline's own
(audit.pipeline_locks, warehouse/locks.py), or a read of a mart the build must replace
midway. The test holds the lock the step needs next, sees the run wait for it, and
strikes: no fault depends on a poll catching a step in time. The warehouse is a server
of this module's own, killed and started again for the database faults. Every run is
bounded: a run that does not end within RUN_SECONDS fails the test.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import urlopen

import psycopg
import pytest
import yaml

from simulator.config import SimulationConfig
from tests.conftest import REPO_ROOT
from tests.e2e.snapshot import column_snapshot, differences, snapshot
from tests.e2e.sources import simulated_sources
from warehouse import locks
from warehouse.connection import libpq_url

pytestmark = pytest.mark.e2e
DAYS = [date(2026, 10, 8), date(2026, 10, 9)]
CONFIG = SimulationConfig(start_date=DAYS[0], days=len(DAYS), n_agents=12)
RUN_SECONDS = 300  # the bound on every run, faulty or not
LEASE_GRACE_SECONDS = "5"
_RUN = (
    "import sys; from datetime import date;"
    " from cli.daily_runs import load_daily_dag, run_business_day;"
    " run_business_day(load_daily_dag(), date.fromisoformat(sys.argv[1]), 'Asia/Shanghai')"
)


class Server:
    """The module's own embedded PostgreSQL, started (and started again) in a subprocess,
    so a kill of its postmaster leaves nothing stale in this process."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir

    def start(self) -> str:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from warehouse import embedded;"
                " print(embedded.start(Path(sys.argv[1])))",
                str(self.data_dir),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
        )
        return done.stdout.strip().splitlines()[-1]

    def postmaster(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def kill(self) -> None:
        pid = self.postmaster()
        os.kill(pid, signal.SIGKILL)
        _until(lambda: not _alive(pid), "the killed postmaster to be gone")

    def stop(self) -> None:
        pid = self.postmaster()
        os.kill(pid, signal.SIGINT)  # fast shutdown
        _until(lambda: not _alive(pid), "the postmaster to stop")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def _until(condition: Callable[[], object], what: str, seconds: float = 180.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


class Run:
    """One DAG run for a business day, in its own process group."""

    def __init__(self, day: date, env: dict):
        # Its output to a file: a pipe nobody reads until the end would fill and stop it.
        self.log = Path(tempfile.mkdtemp(prefix="ccp-fault-run-")) / "run.log"
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _RUN, day.isoformat()],
                cwd=REPO_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.running():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(RUN_SECONDS)

    def finish(self) -> tuple[int, str]:
        try:
            self.process.wait(timeout=RUN_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the run did not end within {RUN_SECONDS} s") from None
        return self.process.returncode, self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None


def _a_session(url: str, where: str) -> bool:
    """Some session of the run (not the test's) is in pg_stat_activity `where`."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        query = f"select 1 from pg_stat_activity where pid <> pg_backend_pid() and {where}"
        return bool(conn.execute(query).fetchone())


HOLDER = "fault-matrix"  # the application name of the test's own sessions
# A mart the build replaces (materialized as a table) after the incremental agent-days:
# a read of it keeps dbt waiting midway, with part of the build done.
MIDWAY_MART = "marts.agent_month_kpis"


def _waiting_on_a_lock(url: str) -> bool:
    """A session of the run waits for one of the pipeline's locks (the one the test holds)."""
    return _a_session(
        url,
        f"application_name <> '{HOLDER}' and wait_event_type = 'Lock'"
        " and query like '%%pipeline_locks%%'",
    )


def _dbt_waits_midway(url: str) -> bool:
    return _a_session(url, "application_name = 'dbt' and wait_event_type = 'Lock'")


def _still_running(run: Run) -> None:
    if not run.running():
        code, output = run.finish()
        raise AssertionError(f"the run ended ({code}) before the fault:\n{output[-4000:]}")


class Holding:
    """The test holding one of the pipeline's locks, or (name None) a read of the midway
    mart, on a session of its own."""

    def __init__(self, url: str, name: str | None):
        self.conn = psycopg.connect(libpq_url(url), application_name=HOLDER)
        if name is None:
            self.conn.execute(f"select from {MIDWAY_MART} limit 0")
        else:
            locks.take(self.conn, name)

    def release(self) -> None:
        try:
            self.conn.rollback()
            self.conn.close()
        except psycopg.Error:
            pass  # the server was killed under it


class Api(ThreadingHTTPServer):
    """In front of the simulated CRM API: passes requests on, or (mode) drips the answer
    one byte a second, or answers 429 with a Retry-After of a day once per endpoint."""

    def __init__(self, upstream: str):
        self.upstream, self.mode, self.throttled = upstream, "pass", set()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                api, endpoint = self.server, self.path.split("?")[0]
                if api.mode == "throttle" and endpoint not in api.throttled:
                    api.throttled.add(endpoint)
                    self.send_response(429)
                    self.send_header("Retry-After", "86400")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with urlopen(api.upstream + self.path, timeout=30) as answer:
                    body = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if api.mode != "drip":
                    self.wfile.write(body)
                    return
                for byte in body[:60]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(1)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.daemon_threads = True
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, airflow_db):
    server = Server(tmp_path_factory.mktemp("faults") / "pgdata")
    admin = server.start()
    url = _database_url(admin, "faults")
    with psycopg.connect(libpq_url(admin), autocommit=True) as conn:
        conn.execute("create database faults")
    mappings = tmp_path_factory.mktemp("fault_mappings")
    shutil.copytree(REPO_ROOT / "mappings" / "simulator", mappings, dirs_exist_ok=True)
    for path in mappings.glob("crm_*.yml"):  # a CRM that hangs or throttles fails fast
        document = yaml.safe_load(path.read_text())
        document["delivery"].update(total_timeout_seconds=3, max_retry_after_seconds=2)
        path.write_text(yaml.safe_dump(document))
    # Airflow's metadata of its own: a run killed mid-write may damage its SQLite file.
    airflow_home = tmp_path_factory.mktemp("fault_airflow")
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "AIRFLOW_HOME": str(airflow_home)},
    )
    sample = tmp_path_factory.mktemp("fault_sample")
    with simulated_sources(sample, CONFIG):
        api = Api(os.environ["CRM_API_URL"])
        env = {
            **os.environ,
            "WAREHOUSE_URL": url,
            "CRM_API_URL": api.url,
            "SOURCE_MAPPINGS_DIR": str(mappings),
            "WAREHOUSE_LEASE_GRACE_SECONDS": LEASE_GRACE_SECONDS,
            "AIRFLOW_HOME": str(airflow_home),
        }
        matrix = {"server": server, "admin": admin, "url": url, "env": env, "api": api}
        matrix["sample"] = sample
        _clean(Run(DAYS[0], env))
        matrix["reporting_before"] = snapshot(url, schemas=("reporting",))
        with psycopg.connect(libpq_url(admin), autocommit=True) as conn:
            conn.execute("create database faults_first_day template faults")
        _clean(Run(DAYS[1], env))
        matrix["clean"] = column_snapshot(url)
        try:
            yield matrix
        finally:
            api.shutdown()
            server.stop()


def _database_url(url: str, database: str) -> str:
    from urllib.parse import urlparse, urlunparse

    return urlunparse(urlparse(libpq_url(url))._replace(path=f"/{database}"))


def _clean(run: Run) -> str:
    code, output = run.finish()
    assert code == 0, output[-4000:]
    return output


def _failed(run: Run, *expected: str) -> str:
    code, output = run.finish()
    assert code != 0, output[-4000:]
    for text in expected:
        assert text in output, output[-4000:]
    return output


def _from_the_first_day(matrix) -> None:
    """The warehouse as the clean run of the first day left it."""
    with psycopg.connect(libpq_url(matrix["admin"]), autocommit=True) as conn:
        conn.execute("drop database if exists faults with (force)")
        conn.execute("create database faults template faults_first_day")


def _then_a_rerun_equals_a_clean_run(matrix) -> None:
    _clean(Run(DAYS[1], matrix["env"]))
    _equals_a_clean_run(matrix)


def _equals_a_clean_run(matrix) -> None:
    assert differences(column_snapshot(matrix["url"]), matrix["clean"]) == {}


def _nothing_published(matrix) -> None:
    assert snapshot(matrix["url"], schemas=("reporting",)) == matrix["reporting_before"]


# -- crashes ----------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["landing", "build", "audit", "publish"])
def test_a_run_killed_in_each_step_is_rerun_to_a_clean_warehouse(matrix, step):
    """kill -9 of the whole run (its process group) in the call center's landing, midway
    through the dbt build, in the audit or in the publish: nothing is published; the rerun
    of the day (the lease of the dead run is taken over) leaves the warehouse as a clean
    run."""
    _from_the_first_day(matrix)
    url = matrix["url"]
    # The lock the step needs next, held from the start (only that step takes it).
    name = {"landing": f"landing/call_center/{DAYS[1]}", "publish": "publish_reporting"}
    held = [Holding(url, name.get(step))] if step != "audit" else [Holding(url, None)]
    run = Run(DAYS[1], matrix["env"])
    try:
        if step in ("build", "audit"):
            _until(lambda: _dbt_waits_midway(url) or not run.running(), "the dbt build")
            _still_running(run)
        if step == "audit":
            # The audit takes the build's lock: queue for it behind the build, let the
            # build end, and the audit waits for the test.
            queued = threading.Thread(target=lambda: held.append(Holding(url, "dbt_build")))
            queued.start()
            _until(lambda: _waiting_on_a_test_session(url), "the test to queue for the build")
            held.pop(0).release()
            queued.join(RUN_SECONDS)
        if step != "build":
            _until(lambda: _waiting_on_a_lock(url) or not run.running(), f"the {step}")
            _still_running(run)
    finally:
        run.kill()  # also when a wait above failed: no run outlives its test
        for holding in held:
            holding.release()
    _nothing_published(matrix)
    _then_a_rerun_equals_a_clean_run(matrix)


def _waiting_on_a_test_session(url: str) -> bool:
    return _a_session(url, f"application_name = '{HOLDER}' and wait_event_type = 'Lock'")


@pytest.mark.parametrize("step", ["build", "publish"])
def test_the_database_killed_mid_run_then_started_again(matrix, step):
    """PostgreSQL killed (SIGKILL of its postmaster) midway through the dbt build, or while
    the publish waits for its lock: the run fails, its failure is kept in a local spool
    (the warehouse is down) and recorded by the next run's audit; the server is started
    again and the rerun leaves the warehouse as a clean run."""
    _from_the_first_day(matrix)
    url, server = matrix["url"], matrix["server"]
    held = Holding(url, None if step == "build" else "publish_reporting")
    run = Run(DAYS[1], matrix["env"])
    try:
        waiting = _dbt_waits_midway if step == "build" else _waiting_on_a_lock
        _until(lambda: waiting(url) or not run.running(), f"the {step}")
        _still_running(run)
        server.kill()
    except BaseException:
        run.kill()  # no run outlives its test
        raise
    finally:
        held.release()
    _failed(run)
    assert server.start() == matrix["admin"]
    _nothing_published(matrix)
    _then_a_rerun_equals_a_clean_run(matrix)
    with psycopg.connect(libpq_url(url)) as conn:  # the first day's runs had none
        failed = conn.execute("select task_id from audit.task_failures").fetchall()
    expected = "dbt_build" if step == "build" else "publish_reporting"
    assert (expected,) in failed


# -- deliveries -------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["grows", "is rewritten"])
def test_a_file_changing_during_the_read_fails_the_run_and_the_rerun_lands_it(matrix, change):
    """The day's call-center file grows (or is rewritten in place) while the run reads it:
    the extract refuses it (rule complete_delivery), nothing is published; once the file
    is whole, the rerun leaves the warehouse as a clean run."""
    _from_the_first_day(matrix)
    path = matrix["sample"] / "call_center" / f"contacts_{DAYS[1]:%Y%m%d}.csv"
    original = path.read_bytes()
    header, _, body = original.partition(b"\n")
    path.write_bytes(header + b"\n" + body * 100)  # long enough to be caught being read
    stop = threading.Event()

    def writer():
        with path.open("r+b") as handle:
            while not stop.is_set():
                handle.seek(0, os.SEEK_END) if change == "grows" else handle.seek(len(header) + 1)
                handle.write(body[: body.index(b"\n") + 1])
                handle.flush()
                time.sleep(0.0005)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        _failed(Run(DAYS[1], matrix["env"]), "complete_delivery", "changed while it was read")
    finally:
        stop.set()
        thread.join()
        path.write_bytes(original)
    _nothing_published(matrix)
    _then_a_rerun_equals_a_clean_run(matrix)


# -- the CRM API ------------------------------------------------------------------------


def test_a_crm_that_drips_bytes_fails_the_run_at_its_deadline(matrix):
    """Every answer comes one byte a second: each request ends at the mapping's total
    deadline (3 s), the retries too, and the run fails naming the source and the rule."""
    _from_the_first_day(matrix)
    matrix["api"].mode = "drip"
    try:
        _failed(Run(DAYS[1], matrix["env"]), "[crm] batch", "source_deadline")
    finally:
        matrix["api"].mode = "pass"
    _nothing_published(matrix)
    _then_a_rerun_equals_a_clean_run(matrix)


def test_a_retry_after_of_a_day_is_waited_at_most_the_cap(matrix):
    """Each endpoint answers 429 with `Retry-After: 86400` once: the client waits the
    mapping's cap (2 s), tries again, and the run succeeds as a clean run."""
    _from_the_first_day(matrix)
    matrix["api"].mode, matrix["api"].throttled = "throttle", set()
    try:
        _clean(Run(DAYS[1], matrix["env"]))
    finally:
        matrix["api"].mode = "pass"
    assert matrix["api"].throttled  # it did throttle
    _equals_a_clean_run(matrix)


# -- BI sessions ------------------------------------------------------------------------


def _bi(matrix) -> psycopg.Connection:
    return psycopg.connect(
        libpq_url(matrix["url"]), user="bi_reader", password=os.environ["BI_READER_PASSWORD"]
    )


def test_a_bi_session_idle_in_a_transaction_does_not_hold_up_the_publish(matrix):
    _from_the_first_day(matrix)
    with _bi(matrix) as idle:
        idle.execute("select count(*) from reporting.agent_days")  # and stays idle
        _clean(Run(DAYS[1], matrix["env"]))
        assert idle.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    _equals_a_clean_run(matrix)


def test_the_bi_role_cannot_take_the_pipelines_locks(matrix):
    """The BI role holds every advisory lock the pipeline once used and cannot touch the
    locks it uses now: the run goes through."""
    _from_the_first_day(matrix)
    with _bi(matrix) as bi:
        bi.autocommit = True
        for name in ("dbt_build", "publish_reporting", "warehouse_lease", "raw_schema"):
            bi.execute("select pg_advisory_lock(hashtext(%s))", (name,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("select from audit.pipeline_locks for update")
        _clean(Run(DAYS[1], matrix["env"]))
    _equals_a_clean_run(matrix)
