"""The daily build's window (warehouse/build_window.py) on hand-made batches: the first day
it gives must reach every day a full rebuild would count differently.

Raw rows are written directly (raw_schema.sql), and the staging tables hold the rows as
the last build made them, reduced to the columns the window reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from warehouse import build_window
from warehouse.connection import connect
from warehouse.landing import ensure_raw_schema

pytestmark = pytest.mark.integration

STAGED = {
    "stg_call_center__contacts": "contact_id text, business_date date, batch_date date",
    "stg_crm__tickets": "ticket_id text, created_at timestamptz, batch_date date",
    "stg_survey__responses": "response_id text, business_date date, batch_date date",
    "stg_qa__inspections": "inspection_id text, business_date date, batch_date date",
    "stg_qa__rectifications": "rectification_id text, due_date date, batch_date date",
}


def _batch(day: date) -> tuple[str, date, str]:
    return ("qa", day, f"qa-{day}")


def _rectification(conn, item: str, due: date, batch_day: date) -> None:
    conn.execute(
        "insert into raw.qa_rectifications (rectification_id, inspection_id, agent_id, due_date,"
        " source_system, source_object, source_position, batch_id, batch_date, extracted_at,"
        " content_hash) values (%s, 'QI1', 'AG1', %s, 'qa', 'rectifications', '1', %s, %s, %s,"
        " 'x')",
        (item, due, f"qa-{batch_day}", batch_day, datetime.now(UTC)),
    )


@pytest.fixture
def warehouse(clean_warehouse):
    with connect() as conn:
        ensure_raw_schema(conn)
        conn.execute("create schema if not exists staging")
        for table, columns in STAGED.items():
            conn.execute(f"create table staging.{table} ({columns})")
        conn.execute("create schema if not exists marts")
        conn.commit()
        yield conn


def test_a_corrected_due_date_reaches_the_items_old_day(warehouse):
    """R1 was landed on 03-05 due 03-08 (counted there); the 03-12 batch moves it to 03-20.
    The old day changes too (R1 leaves it), though no row of the new batch names it."""
    conn = warehouse
    _rectification(conn, "R1", date(2027, 3, 8), date(2027, 3, 5))
    _rectification(conn, "R1", date(2027, 3, 20), date(2027, 3, 12))
    conn.execute(
        "insert into staging.stg_qa__rectifications values ('R1', '2027-03-08', '2027-03-05')"
    )
    before = {_batch(date(2027, 3, d)) for d in range(1, 12)}
    build_window.record(conn, before)
    window = build_window.variables(conn, before | {_batch(date(2027, 3, 12))})
    assert window["qa_batches_changed_from"] == "2027-03-12"
    assert window["qa_changed_from"] == "2027-03-08"


def test_a_jump_of_the_watermark_makes_the_days_between_countable(warehouse):
    """QA landed through 03-09; the 03-10 landing failed and 03-11 lands: items due on 03-10,
    landed long before, now count (due on or before the last QA batch)."""
    conn = warehouse
    before = {_batch(date(2027, 3, d)) for d in range(1, 10)}
    build_window.record(conn, before)
    window = build_window.variables(conn, before | {_batch(date(2027, 3, 11))})
    assert window["qa_batches_changed_from"] == "2027-03-11"
    assert window["qa_changed_from"] == "2027-03-10"
    # The next day in order moves nothing further back than itself.
    build_window.record(conn, before | {_batch(date(2027, 3, 11))})
    window = build_window.variables(
        conn, before | {_batch(date(2027, 3, 11)), _batch(date(2027, 3, 12))}
    )
    assert window["qa_changed_from"] == "2027-03-12"
    assert window["contacts_changed_from"] == "9999-12-31"  # no call-center batch changed
