"""What the benchmarks share: a database of their own on the warehouse server."""

from __future__ import annotations

import os


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
    """Run the DAG for `day` (dag.test) and return its wall time and each stage's seconds,
    from the run's task instances."""
    import time

    from cli.daily_runs import run_business_day

    started = time.perf_counter()
    run = run_business_day(dag, day, timezone)
    stages = dict.fromkeys(STAGES, 0.0)
    for ti in run.get_task_instances():
        stage = next(s for s, prefix in STAGES.items() if ti.task_id.startswith(prefix))
        stages[stage] += (ti.end_date - ti.start_date).total_seconds()
    return {"wall": time.perf_counter() - started, **stages}
