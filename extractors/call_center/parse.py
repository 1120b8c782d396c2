"""Parse an ACD export's rows into the canonical `raw.call_center_contacts` contract."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from extractors import values
from warehouse.landing import RowRejected, SourceRow

COLUMNS = (
    "contact_id",
    "channel",
    "queue_name",
    "agent_id",
    "customer_number",
    "offered_at",
    "answered_at",
    "ended_at",
    "talk_seconds",
    "hold_seconds",
    "acw_seconds",
    "is_abandoned",
    "is_transferred",
    "disposition",
)
CHANNELS = frozenset({"phone", "chat"})


@dataclass(frozen=True)
class ExportFormat:
    """How one vendor names and writes the canonical fields (the seam for vendor mappings)."""

    columns: dict[str, str]  # canonical name -> the vendor's header
    time_format: str
    file_pattern: str  # strftime pattern of the daily file name

    def missing(self, header: list[str]) -> list[str]:
        return [vendor for vendor in self.columns.values() if vendor not in header]


SIMULATOR_EXPORT = ExportFormat(
    columns={
        "contact_id": "CallID",
        "channel": "Channel",
        "queue_name": "Queue",
        "agent_id": "AgentID",
        "customer_number": "ANI",
        "offered_at": "OfferedTime",
        "answered_at": "AnsweredTime",
        "ended_at": "EndTime",
        "talk_seconds": "TalkSec",
        "hold_seconds": "HoldSec",
        "acw_seconds": "WrapSec",
        "is_abandoned": "Abandoned",
        "is_transferred": "Transferred",
        "disposition": "Disposition",
    },
    time_format="%Y-%m-%d %H:%M:%S",
    file_pattern="contacts_%Y%m%d.csv",
)


def parse_record(record: dict[str, str], fmt: ExportFormat, tz: ZoneInfo) -> tuple:
    c = fmt.columns
    abandoned = values.flag(c["is_abandoned"], record[c["is_abandoned"]])
    offered = values.local_time(c["offered_at"], record[c["offered_at"]], fmt.time_format, tz)
    if offered is None:
        raise RowRejected(f"{c['offered_at']}: required value is missing")
    answered = values.local_time(c["answered_at"], record[c["answered_at"]], fmt.time_format, tz)
    ended = values.local_time(c["ended_at"], record[c["ended_at"]], fmt.time_format, tz)
    agent_id = values.optional(record[c["agent_id"]])
    if not abandoned and (agent_id is None or answered is None):
        raise RowRejected("an answered contact needs an agent and an answer time")
    if answered is not None and answered < offered:
        raise RowRejected(f"{c['answered_at']}: answered before it was offered")
    return (
        values.required(c["contact_id"], record[c["contact_id"]]),
        values.one_of(c["channel"], record[c["channel"]], CHANNELS),
        values.optional(record[c["queue_name"]]),
        agent_id,
        values.optional(record[c["customer_number"]]),
        offered,
        answered,
        ended,
        values.seconds(c["talk_seconds"], record[c["talk_seconds"]]),
        values.seconds(c["hold_seconds"], record[c["hold_seconds"]]),
        values.seconds(c["acw_seconds"], record[c["acw_seconds"]]),
        abandoned,
        values.flag(c["is_transferred"], record[c["is_transferred"]]),
        values.optional(record[c["disposition"]]),
    )


def parse_lines(
    lines: Iterable[str],
    header: list[str],
    source_object: str,
    fmt: ExportFormat,
    tz: ZoneInfo,
    first_line: int = 2,
) -> Iterator[SourceRow]:
    """Parse data lines one by one, keeping each line's raw text for lineage and quarantine."""
    for number, line in enumerate(lines, start=first_line):
        text = line.rstrip("\r\n")
        if not text:
            continue
        fields = next(csv.reader([text]))
        position = str(number)
        if len(fields) != len(header):
            yield SourceRow(
                source_object,
                position,
                text,
                reason=f"expected {len(header)} fields, found {len(fields)}",
            )
            continue
        try:
            parsed = parse_record(dict(zip(header, fields, strict=True)), fmt, tz)
        except RowRejected as rejected:
            yield SourceRow(source_object, position, text, reason=str(rejected))
        else:
            yield SourceRow(source_object, position, text, values=parsed)
