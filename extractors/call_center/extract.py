"""Land one day's ACD export file into raw.call_center_contacts."""

from __future__ import annotations

import csv
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from extractors.call_center.parse import COLUMNS, SIMULATOR_EXPORT, ExportFormat, parse_lines
from warehouse.landing import (
    Batch,
    BatchSummary,
    BatchWriter,
    ContractError,
    delivered_file,
    file_checksum,
)

SOURCE_SYSTEM = "call_center"


def run(
    conn: psycopg.Connection,
    batch: Batch,
    folder: Path,
    timezone: str,
    fmt: ExportFormat = SIMULATOR_EXPORT,
) -> BatchSummary:
    path = delivered_file(folder, fmt.file_pattern, batch)
    with path.open(encoding="utf-8", newline="") as handle:
        header_line = handle.readline()
        header = next(csv.reader([header_line])) if header_line.strip() else []
        missing = fmt.missing(header)
        if missing:
            raise ContractError(
                SOURCE_SYSTEM,
                batch.batch_id,
                "required_columns",
                f"{path.name} lacks columns {missing}",
            )
        with BatchWriter(conn, batch, ["call_center_contacts"]) as writer:
            writer.register_object(path.name, file_checksum(path))
            writer.land(
                "call_center_contacts",
                COLUMNS,
                parse_lines(handle, header, path.name, fmt, ZoneInfo(timezone)),
            )
    return writer.summary()
