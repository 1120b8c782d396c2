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
