"""What a daily build must recompute, so its cost follows what changed, not the history.

Before a build, the batches in the raw manifest are compared with those the last
successful build saw (`marts.built_batches`). The incremental models rebuild only what
the difference can reach, given to dbt as these values (warehouse/dbt_build.py passes
them in the environment, macros/rebuild_window.sql reads them):

- `<source>_batches_changed_from` (call_center, crm, survey, qa): the earliest batch date
  landed, re-landed or removed since (the incremental staging of contacts, tickets,
  survey responses, QA inspections and rectification items re-reads every version of each
  key in these batches);
- `contacts_changed_from` / `tickets_changed_from` / `surveys_changed_from` /
  `qa_changed_from`: the earliest business day a record of those batches counts on, as
  delivered now or as built before (the models of the chain rebuild from there; contacts
  reach back the FCR window, macros/rebuild_window.sql).

With no record of an earlier build (a new warehouse, or one built by hand) no value is
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
    if not _exists(conn, BUILT) or not all(_exists(conn, f"staging.{m}") for m in _STAGED):
        return {}
    before = set(conn.execute(f"select source_system, batch_date, batch_id from {BUILT}"))
    changed: dict[str, list[date]] = {}
    for system, day, _ in now ^ before:
        changed.setdefault(system, []).append(day)
    zone = os.environ.get("CENTER_TIMEZONE", "Asia/Shanghai")
    out = {}
    for source, chain, touched_sql in _CHAINS:
        days = sorted(set(changed.get(source, [])))
        if not days:
            out[f"{source}_batches_changed_from"] = out[f"{chain}_changed_from"] = _NEVER
            continue
        touched = conn.execute(
            touched_sql, {"zone": zone, "days": days, "first": days[0]}
        ).fetchone()[0]
        out[f"{source}_batches_changed_from"] = days[0].isoformat()
        out[f"{chain}_changed_from"] = (touched or days[0]).isoformat()
    return out


_STAGED = (
    "stg_call_center__contacts",
    "stg_crm__tickets",
    "stg_survey__responses",
    "stg_qa__inspections",
    "stg_qa__rectifications",
)


def _first_day(source: str, raw_table: str, moment: str, staged: str) -> str:
    """The earliest business day of the rows of `source`'s changed batches: the local day
    of `moment` as landed now, or the business_date of the row built before."""
    return f"""
        select least(
            (select min(({moment} at time zone %(zone)s)::date)
             from raw.{raw_table}
             where source_system = '{source}' and batch_date = any(%(days)s)),
            (select min(business_date) from staging.{staged}
             where batch_date >= %(first)s))
        """


# (source, chain, the earliest business day its changed batches touch: as delivered now
# or as built before). A ticket counts on its creation day or later; an event of a ticket
# changes the figures of that ticket's days; a response counts on its contact's day.
_CHAINS = (
    (
        "call_center",
        "contacts",
        _first_day("call_center", "call_center_contacts", "offered_at", _STAGED[0]),
    ),
    (
        "crm",
        "tickets",
        """
        select least(
            (select min((created_at at time zone %(zone)s)::date)
             from raw.crm_tickets
             where source_system = 'crm' and batch_date = any(%(days)s)),
            (select min((created_at at time zone %(zone)s)::date)
             from staging.stg_crm__tickets
             where batch_date >= %(first)s
                or ticket_id in (
                    select ticket_id from raw.crm_ticket_events
                    where source_system = 'crm' and batch_date = any(%(days)s))))
        """,
    ),
    ("survey", "surveys", _first_day("survey", "survey_responses", "contact_at", _STAGED[2])),
    # An inspection counts on the day of the inspected work, a rectification item on its due
    # day; items count once due on or before the QA watermark (the last QA batch date), so
    # a new batch also makes its own day countable: the first changed batch date bounds it.
    (
        "qa",
        "qa",
        f"""
        select least(
            ({_first_day("qa", "qa_inspections", "record_at", _STAGED[3])}),
            (select min(due_date) from raw.qa_rectifications
             where source_system = 'qa' and batch_date = any(%(days)s)),
            (select min(due_date) from staging.{_STAGED[4]} where batch_date >= %(first)s),
            %(first)s)
        """,
    ),
)


def record(conn: psycopg.Connection, now: set[tuple[str, date, str]]) -> None:
    """Remember the batches a successful build saw (in the caller's transaction)."""
    conn.execute(
        f"create table if not exists {BUILT}"
        " (source_system text not null, batch_date date not null, batch_id text not null)"
    )
    conn.execute(f"delete from {BUILT}")
    with conn.cursor() as cur:
        cur.executemany(f"insert into {BUILT} values (%s, %s, %s)", sorted(now))
