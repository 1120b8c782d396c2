"""Land the supervisor workbooks of the run's month (and the months before it that may
still be delivered late) into raw.supervisor_inputs, as the vendor mapping reads them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg

from extractors.mapping import RowParser, SourceMapping
from extractors.supervisor.parse import COLUMNS, UnreadableWorkbook, header_and_rows, sheet_rows
from warehouse.landing import Batch, BatchSummary, BatchWriter, ContractError, file_checksum


def _month_starts(day: date, months_back: int) -> list[date]:
    months = []
    year, month = day.year, day.month
    for _ in range(months_back + 1):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(months)


def delivered_workbooks(landing_dir: Path, pattern: str, day: date, months_back: int) -> list:
    """The workbooks present for the day's month and the months before it (none is fine:
    a month's inputs arrive after it ends)."""
    found = []
    for month in _month_starts(day, months_back):
        found.extend(sorted(landing_dir.glob(month.strftime(pattern))))
    return found


def run(
    conn: psycopg.Connection, batch: Batch, landing_dir: Path, mapping: SourceMapping
) -> BatchSummary:
    delivery = mapping.delivery
    parser = RowParser(mapping)
    paths = delivered_workbooks(
        landing_dir, delivery.file_pattern, batch.batch_date, delivery.months_back
    )
    with BatchWriter(conn, batch, ["supervisor_inputs"]) as writer:
        if not paths:
            # Nothing delivered yet is normal mid-month; the manifest still says what was
            # looked for, so the batch (and its freshness) exists.
            writer.register_object(batch.batch_date.strftime(delivery.file_pattern))
        for path in paths:
            name = path.relative_to(landing_dir).as_posix()
            try:
                header, rows = header_and_rows(path, delivery.sheet)
            except UnreadableWorkbook as error:
                raise ContractError(
                    batch.source_system, batch.batch_id, "readable", str(error)
                ) from None
            missing = mapping.missing_columns(header)
            if missing:
                raise ContractError(
                    batch.source_system,
                    batch.batch_id,
                    "required_columns",
                    f"{name} lacks columns {missing} that mapping '{mapping.vendor}' reads",
                )
            writer.register_object(name, file_checksum(path))
            writer.land("supervisor_inputs", COLUMNS, sheet_rows(header, rows, name, parser))
    return writer.summary()
