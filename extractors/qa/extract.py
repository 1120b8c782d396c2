"""Land the QA inspections, their deductions and the rectification items changed in the interval."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import psycopg

from extractors.qa.parse import (
    DEDUCTION_COLUMNS,
    INSPECTION_COLUMNS,
    RECTIFICATION_COLUMNS,
    TIME_FORMAT,
    parse_deduction,
    parse_inspection,
    parse_rectification,
    table_rows,
)
from warehouse.landing import Batch, BatchSummary, BatchWriter, ContractError

SOURCE_SYSTEM = "qa"
QUERIES = {
    "inspections": "select * from inspections where updated_at >= ? and updated_at < ? order by id",
    # Deductions have no timestamp of their own: they travel with their inspection.
    "inspection_items": (
        "select items.* from inspection_items as items join inspections"
        " on inspections.id = items.inspection_id"
        " where inspections.updated_at >= ? and inspections.updated_at < ? order by items.id"
    ),
    "rectifications": (
        "select * from rectifications where updated_at >= ? and updated_at < ? order by id"
    ),
}


def _records(db: sqlite3.Connection, table: str, window: tuple[str, str]) -> Iterator[dict]:
    cursor = db.execute(QUERIES[table], window)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def run(conn: psycopg.Connection, batch: Batch, db_path: Path) -> BatchSummary:
    if not db_path.is_file():
        raise ContractError(
            SOURCE_SYSTEM, batch.batch_id, "source_reachable", f"no QA database at {db_path}"
        )
    window = (
        batch.interval_start.astimezone(UTC).strftime(TIME_FORMAT),
        batch.interval_end.astimezone(UTC).strftime(TIME_FORMAT),
    )
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        with BatchWriter(
            conn, batch, ["qa_inspections", "qa_deductions", "qa_rectifications"]
        ) as writer:
            for table, raw_table, columns, parse in (
                ("inspections", "qa_inspections", INSPECTION_COLUMNS, parse_inspection),
                ("inspection_items", "qa_deductions", DEDUCTION_COLUMNS, parse_deduction),
                ("rectifications", "qa_rectifications", RECTIFICATION_COLUMNS, parse_rectification),
            ):
                source_object = f"{db_path.name}:{table}"
                writer.register_object(source_object)
                writer.land(
                    raw_table,
                    columns,
                    table_rows(source_object, _records(db, table, window), parse),
                )
    finally:
        db.close()
    return writer.summary()
