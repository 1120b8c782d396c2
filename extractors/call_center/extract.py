"""Land one day's ACD export into raw.call_center_contacts, as the vendor mapping reads it."""

from __future__ import annotations

from pathlib import Path

import psycopg

from extractors.call_center.parse import (
    COLUMNS,
    CONTACT_CHECKS,
    UnassignableRow,
    parse_lines,
    split_line,
)
from extractors.csv_landing import UnassignableLine, land_lines
from extractors.mapping import RowParser, SourceMapping
from extractors.mapping_sql import CompiledMapping, NotCompilable
from warehouse.landing import (
    Batch,
    BatchSummary,
    BatchWriter,
    ContractError,
    delivered_file,
    file_checksum,
    require_complete_file,
)


def run(
    conn: psycopg.Connection, batch: Batch, landing_dir: Path, mapping: SourceMapping
) -> BatchSummary:
    delivery = mapping.delivery
    path = delivered_file(landing_dir, delivery.file_pattern, batch)
    multi_day = delivery.day_column is not None
    # Universal newlines: \r\n and \r end a line as \n does, in Python and in COPY alike.
    with path.open(encoding=delivery.encoding) as handle:
        try:
            header_line = handle.readline()
        except UnicodeDecodeError as error:
            raise ContractError(
                batch.source_system,
                batch.batch_id,
                "encoding",
                f"{path.name} is not {delivery.encoding}: {error}",
            ) from None
        header = (
            split_line(header_line.rstrip("\r\n"), delivery.delimiter)
            if header_line.strip()
            else []
        )
        require_complete_file(
            path,
            batch,
            lambda last: len(split_line(last.rstrip("\r"), delivery.delimiter)) == len(header),
        )
        missing = mapping.missing_columns(header)
        if missing:
            raise ContractError(
                batch.source_system,
                batch.batch_id,
                "required_columns",
                f"{path.name} lacks columns {missing} that mapping '{mapping.vendor}' reads",
            )
        try:
            with BatchWriter(conn, batch, ["call_center_contacts"]) as writer:
                writer.register_object(path.name, file_checksum(path))
                day = batch.batch_date if multi_day else None
                try:
                    compiled = CompiledMapping(mapping, header)
                except NotCompilable:
                    # A reading only Python gives (a rare strftime directive): row by row.
                    rows = parse_lines(handle, header, path.name, RowParser(mapping), day)
                    writer.land("call_center_contacts", COLUMNS, rows)
                else:
                    land_lines(
                        writer,
                        handle,
                        path.name,
                        compiled,
                        "call_center_contacts",
                        COLUMNS,
                        CONTACT_CHECKS,
                        day,
                    )
        except (UnassignableRow, UnassignableLine) as error:
            raise ContractError(
                batch.source_system, batch.batch_id, "row_has_a_day", f"{path.name} {error}"
            ) from None
        except UnicodeDecodeError as error:
            raise ContractError(
                batch.source_system,
                batch.batch_id,
                "encoding",
                f"{path.name} is not {delivery.encoding}: {error}",
            ) from None
    return writer.summary()
