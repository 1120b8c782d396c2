"""Land one day's survey export into raw.survey_responses, as the vendor mapping reads it:
set-based (extractors/json_landing.py), or line by line when SQL cannot read the mapping."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from extractors.json_landing import land_records
from extractors.mapping import RowParser, SourceMapping
from extractors.mapping_sql import CompiledMapping, NotCompilable
from extractors.survey.parse import (
    COLUMNS,
    NOT_AN_OBJECT,
    RESPONSE_CHECKS,
    line_records,
    parse_lines,
)
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
        try:
            compiled = CompiledMapping(mapping, sorted(mapping.source_columns()))
        except NotCompilable:
            # A reading only Python gives (a rare strftime directive): line by line.
            rows = parse_lines(handle, path.name, RowParser(mapping))
            writer.land("survey_responses", COLUMNS, rows)
        else:
            land_records(
                writer,
                "survey_responses",
                COLUMNS,
                compiled,
                RESPONSE_CHECKS,
                line_records(handle, path.name),
                NOT_AN_OBJECT,
            )
    return writer.summary()
