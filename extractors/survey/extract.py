"""Land one day's survey export into raw.survey_responses."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from extractors.survey.parse import COLUMNS, parse_lines
from warehouse.landing import (
    Batch,
    BatchSummary,
    BatchWriter,
    delivered_file,
    file_checksum,
)

SOURCE_SYSTEM = "survey"
FILE_PATTERN = "responses_%Y%m%d.jsonl"


def run(conn: psycopg.Connection, batch: Batch, folder: Path, timezone: str) -> BatchSummary:
    path = delivered_file(folder, FILE_PATTERN, batch)
    with (
        path.open(encoding="utf-8") as handle,
        BatchWriter(conn, batch, ["survey_responses"]) as writer,
    ):
        writer.register_object(path.name, file_checksum(path))
        writer.land("survey_responses", COLUMNS, parse_lines(handle, path.name, ZoneInfo(timezone)))
    return writer.summary()
