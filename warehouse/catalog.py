"""What PostgreSQL's catalog says about a relation: whether it exists, its typed columns."""

from __future__ import annotations

import psycopg


def table_exists(conn: psycopg.Connection, qualified: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (qualified,)).fetchone()[0]


def typed_columns(conn: psycopg.Connection, schema: str, table: str) -> list[tuple[str, str]]:
    """(name, SQL type with its modifiers) of each column of schema.table, in order."""
    return conn.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute"
        " where attrelid = %s::regclass and attnum > 0 and not attisdropped order by attnum",
        (f'"{schema}"."{table}"',),
    ).fetchall()
