"""What the benchmarks share: a database of their own on the warehouse server, the
simulated CRM API in a process of its own, the DAG's stage timing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def bench_database(name: str) -> str:
    """A fresh database `name` on the warehouse server (WAREHOUSE_URL or the embedded one),
    so a benchmark never touches the sample warehouse; its URL."""
    import psycopg

    from warehouse.connection import libpq_url

    server = libpq_url(os.environ["WAREHOUSE_URL"])
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")
        conn.execute(f"create database {name}")
    base, _, query = server.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


# The daily DAG's stages: the five extracts (read, land, validate), dbt, audit, publish.
STAGES = {"extract": "extract_", "build": "dbt_build", "audit": "audit", "publish": "publish"}


def timed_day(dag, day, timezone: str) -> dict:
    """Run the DAG for `day` (dag.test) and return its wall time, each stage's seconds and
    each task's ("tasks"), from the run's task instances."""
    import gc
    import time

    from cli.daily_runs import run_business_day

    # dag.test runs every task in this one process, whose heap grows with each (Airflow,
    # dbt's manifests, GX): every full collection scans it all (0.3-1 s each, a dozen per
    # run). A production worker starts each task in a fresh process; freezing what is
    # already here keeps the collections to what the run itself allocates.
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    run = run_business_day(dag, day, timezone)
    stages = dict.fromkeys(STAGES, 0.0)
    tasks = {}
    for ti in run.get_task_instances():
        stage = next(s for s, prefix in STAGES.items() if ti.task_id.startswith(prefix))
        tasks[ti.task_id] = (ti.end_date - ti.start_date).total_seconds()
        stages[stage] += tasks[ti.task_id]
    return {"wall": time.perf_counter() - started, **stages, "tasks": tasks}


@contextmanager
def crm_api(folder: Path) -> Iterator[str]:
    """Serve the simulated CRM `folder` from a process of its own; its URL. Served from a
    thread of the benchmark, its months of tickets (millions of Python objects) made every
    full garbage collection of the measured DAG slow: 13 of them, 5.7 s, up to 1 s each,
    in one run of the 6-month history, which no production worker carries."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "simulator.crm_api", "--folder", str(folder), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = server.stdout.readline()  # printed once the data is loaded and it listens
        if "simulated CRM API on" not in ready:
            raise RuntimeError(f"the simulated CRM API did not start: {ready!r}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()
