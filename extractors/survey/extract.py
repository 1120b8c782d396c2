"""Land one day's survey export into raw.survey_responses, as the vendor mapping reads it."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from extractors.mapping import RowParser, SourceMapping
from extractors.survey.parse import COLUMNS, parse_lines
from warehouse.landing import (
    Batch,
    BatchSummary,
    BatchWriter,
    delivered_file,
    file_checksum,
    require_complete_file,
)


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def run(
    conn: psycopg.Connection, batch: Batch, landing_dir: Path, mapping: SourceMapping
) -> BatchSummary:
    path = delivered_file(landing_dir, mapping.delivery.file_pattern, batch)
    require_complete_file(path, batch, _is_json)
    with (
        path.open(encoding=mapping.delivery.encoding) as handle,
        BatchWriter(conn, batch, ["survey_responses"]) as writer,
    ):
        writer.register_object(path.name, file_checksum(path))
        writer.land("survey_responses", COLUMNS, parse_lines(handle, path.name, RowParser(mapping)))
    return writer.summary()
