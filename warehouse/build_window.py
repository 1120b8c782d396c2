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
from datetime import date, timedelta

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
        first = min(touched or days[0], _watermark_moved(source, before, now) or days[0])
        out[f"{source}_batches_changed_from"] = days[0].isoformat()
        out[f"{chain}_changed_from"] = first.isoformat()
    return out


def _watermark_moved(
    source: str, before: set[tuple[str, date, str]], now: set[tuple[str, date, str]]
) -> date | None:
    """The first day a move of `source`'s last batch date makes countable (items due on or
    before it count: CRM tickets, QA rectification items): the day after the earlier of the
    two, when it moved; a jump over a day never landed (a failed landing, a backfill out of
    order) makes the days between countable too."""
    last_before = max((d for s, d, _ in before if s == source), default=None)
    last_now = max((d for s, d, _ in now if s == source), default=None)
    if last_before is None or last_now is None or last_before == last_now:
        return None
    return min(last_before, last_now) + timedelta(days=1)


_STAGED = (
    "stg_call_center__contacts",
    "stg_crm__tickets",
    "stg_survey__responses",
    "stg_qa__inspections",
    "stg_qa__rectifications",
)


def _first_day(source: str, raw_table: str, raw_day: str, staged: str, key: str, day: str) -> str:
    """The earliest business day of the rows of `source`'s changed batches: `raw_day` (an
    expression) of the rows as landed now, or the `day` of the row built before, whether
    it came from those batches or a newer version of its `key` is in them (a corrected
    due date or record time leaves the old day to recompute)."""
    return f"""
        select least(
            (select min({raw_day})
             from raw.{raw_table}
             where source_system = '{source}' and batch_date = any(%(days)s)),
            -- "+ 0": not the min() by the day's index, which walks the whole history
            -- before it meets the rows of recent batches.
            (select min({day} + 0) from staging.{staged}
             where batch_date >= %(first)s),
            (select min(built.{day})
             from raw.{raw_table} as landed
             cross join lateral (
                select {day} from staging.{staged} as built where built.{key} = landed.{key}
             ) as built
             where landed.source_system = '{source}' and landed.batch_date = any(%(days)s)))
        """


_QA_INSPECTIONS = _first_day(
    "qa",
    "qa_inspections",
    "(record_at at time zone %(zone)s)::date",
    "stg_qa__inspections",
    "inspection_id",
    "business_date",
)
_QA_ITEMS = _first_day(
    "qa", "qa_rectifications", "due_date", "stg_qa__rectifications", "rectification_id", "due_date"
)

# (source, chain, the earliest business day its changed batches touch: as delivered now
# or as built before). A ticket counts on its creation day or later; an event of a ticket
# changes the figures of that ticket's days; a response counts on its contact's day.
_CHAINS = (
    (
        "call_center",
        "contacts",
        _first_day(
            "call_center",
            "call_center_contacts",
            "(offered_at at time zone %(zone)s)::date",
            "stg_call_center__contacts",
            "contact_id",
            "business_date",
        ),
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
    (
        "survey",
        "surveys",
        _first_day(
            "survey",
            "survey_responses",
            "(contact_at at time zone %(zone)s)::date",
            "stg_survey__responses",
            "response_id",
            "business_date",
        ),
    ),
    # An inspection counts on the day of the inspected work, a rectification item on its due
    # day (the days a new QA watermark makes countable: _watermark_moved).
    ("qa", "qa", f"select least(({_QA_INSPECTIONS}), ({_QA_ITEMS}))"),
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
