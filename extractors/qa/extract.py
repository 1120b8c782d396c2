"""Land the QA records changed in the run's interval, each table as its vendor mapping reads it."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from extractors.mapping import RowParser, SourceMapping, SqlDelivery
from extractors.qa.parse import COLUMNS, QA_TABLES, table_rows
from warehouse.landing import Batch, BatchSummary, BatchWriter, ContractError


def changed_rows_query(delivery: SqlDelivery) -> str:
    """Rows changed in [?, ?); a child table follows its parent's changes. Names are
    identifiers validated by the mapping, so composing them is safe."""
    if delivery.parent is None:
        return (
            f"select * from {delivery.table} where {delivery.changed_at_column} >= ?"
            f" and {delivery.changed_at_column} < ? order by {delivery.key_column}"
        )
    parent = delivery.parent
    return (
        f"select child.* from {delivery.table} as child join {parent.table} as parent"
        f" on parent.{parent.key} = child.{parent.foreign_key}"
        f" where parent.{delivery.changed_at_column} >= ?"
        f" and parent.{delivery.changed_at_column} < ?"
        f" order by child.{delivery.key_column}"
    )


def _window(delivery: SqlDelivery, start: datetime, end: datetime) -> tuple[str, str]:
    zone = ZoneInfo(delivery.changed_at_timezone)
    return start.astimezone(zone).strftime(delivery.changed_at_format), end.astimezone(
        zone
    ).strftime(delivery.changed_at_format)


def _records(cursor: sqlite3.Cursor, digest=None) -> Iterator[dict]:
    """The rows as dicts; `digest` (hashlib) sees every row, so the manifest records a
    fingerprint of what was read and a later run can tell whether the day changed."""
    names = [d[0] for d in cursor.description]
    for row in cursor:
        if digest is not None:
            digest.update(repr(row).encode())
        yield dict(zip(names, row, strict=True))


def _open(db_path: Path, batch: Batch) -> sqlite3.Connection:
    if not db_path.is_file():
        raise ContractError(
            batch.source_system, batch.batch_id, "source_reachable", f"no QA database at {db_path}"
        )
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)


def fingerprints(db_path: Path, batch: Batch, mappings: dict[str, SourceMapping]) -> dict:
    """{source object: fingerprint} of the rows the batch's interval holds now."""
    db = _open(db_path, batch)
    try:
        found = {}
        for table in QA_TABLES:
            delivery = mappings[table].delivery
            digest = hashlib.sha256()
            cursor = db.execute(
                changed_rows_query(delivery),
                _window(delivery, batch.interval_start, batch.interval_end),
            )
            for _ in _records(cursor, digest):
                pass
            found[f"{db_path.name}:{delivery.table}"] = digest.hexdigest()
        return found
    finally:
        db.close()


def run(
    conn: psycopg.Connection, batch: Batch, db_path: Path, mappings: dict[str, SourceMapping]
) -> BatchSummary:
    db = _open(db_path, batch)
    try:
        with BatchWriter(conn, batch, list(QA_TABLES)) as writer:
            for table in QA_TABLES:
                mapping = mappings[table]
                delivery = mapping.delivery
                try:
                    cursor = db.execute(
                        changed_rows_query(delivery),
                        _window(delivery, batch.interval_start, batch.interval_end),
                    )
                except sqlite3.OperationalError as error:
                    raise ContractError(
                        batch.source_system,
                        batch.batch_id,
                        "required_columns",
                        f"{db_path.name}:{delivery.table}: {error}",
                    ) from None
                missing = mapping.missing_columns([d[0] for d in cursor.description])
                if missing:
                    raise ContractError(
                        batch.source_system,
                        batch.batch_id,
                        "required_columns",
                        f"{db_path.name}:{delivery.table} lacks columns {missing}",
                    )
                source_object = f"{db_path.name}:{delivery.table}"
                writer.register_object(source_object)
                digest = hashlib.sha256()
                writer.land(
                    table,
                    COLUMNS[table],
                    table_rows(
                        source_object,
                        _records(cursor, digest),
                        RowParser(mapping),
                        delivery.key_column,
                    ),
                )
                writer.register_object(source_object, digest.hexdigest())
    finally:
        db.close()
    return writer.summary()
