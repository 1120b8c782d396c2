"""What a daily build must recompute, so its cost follows what changed, not the history.

Before a build, the batches in the raw manifest are compared with those the last
successful build saw (`marts.built_batches`). The incremental models rebuild only what
the difference can reach, given to dbt as variables:

- `batches_changed_from`: the earliest batch date landed, re-landed or removed since (the
  incremental staging of contacts re-reads the versions of every contact in these batches);
- `contacts_changed_from`: the earliest business day of a contact in those batches, as
  delivered now or as built before (the contact models rebuild from there, reaching back
  the FCR window).

With no record of an earlier build (a new warehouse, or one built by hand) no variable is
given and the models rebuild everything. A batch committed while a build runs is not in
that build's record, so the next build takes it again: never less, sometimes more.
"""

from __future__ import annotations

import os
from datetime import date

import psycopg

BUILT = "marts.built_batches"
_NEVER = "9999-12-31"  # nothing changed: the window starts after every day


def landed(conn: psycopg.Connection) -> set[tuple[str, date, str]]:
    """(source system, batch date, batch id) of every batch in the raw manifest."""
    if not _exists(conn, "raw.batch_manifest"):
        return set()
    return set(
        conn.execute(
            "select distinct source_system, batch_date, batch_id from raw.batch_manifest"
        ).fetchall()
    )


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def variables(conn: psycopg.Connection, now: set[tuple[str, date, str]]) -> dict[str, str]:
    """The window variables of a build that sees the batches `now` (empty: everything)."""
    if not _exists(conn, BUILT) or not _exists(conn, "staging.stg_call_center__contacts"):
        return {}
    before = set(conn.execute(f"select source_system, batch_date, batch_id from {BUILT}"))
    changed = sorted(day for system, day, _ in now ^ before if system == "call_center")
    if not changed:
        return {"batches_changed_from": _NEVER, "contacts_changed_from": _NEVER}
    first = changed[0]
    zone = os.environ.get("CENTER_TIMEZONE", "Asia/Shanghai")
    touched = conn.execute(
        """
        select least(
            (select min((offered_at at time zone %(zone)s)::date)
             from raw.call_center_contacts
             where source_system = 'call_center' and batch_date = any(%(days)s)),
            (select min(business_date) from staging.stg_call_center__contacts
             where batch_date >= %(first)s)
        )
        """,
        {"zone": zone, "days": changed, "first": first},
    ).fetchone()[0]
    return {
        "batches_changed_from": first.isoformat(),
        "contacts_changed_from": (touched or first).isoformat(),
    }


def record(conn: psycopg.Connection, now: set[tuple[str, date, str]]) -> None:
    """Remember the batches a successful build saw (in the caller's transaction)."""
    conn.execute(
        f"create table if not exists {BUILT}"
        " (source_system text not null, batch_date date not null, batch_id text not null)"
    )
    conn.execute(f"delete from {BUILT}")
    with conn.cursor() as cur:
        cur.executemany(f"insert into {BUILT} values (%s, %s, %s)", sorted(now))
