"""Parse survey export lines into raw.survey_responses."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from extractors import values
from warehouse.landing import RowRejected, SourceRow

COLUMNS = (
    "response_id",
    "contact_id",
    "channel",
    "agent_id",
    "contact_at",
    "responded_at",
    "csat_score",
    "nps_score",
    "comment_text",
    "tags",
)
CHANNELS = frozenset({"phone", "chat", "email"})


def parse_record(r: dict, tz: ZoneInfo) -> tuple:
    tags = r.get("tags") or []
    if not isinstance(tags, list):
        raise RowRejected(f"tags: {tags!r} is not a list")
    return (
        values.required("response_id", r.get("response_id")),
        values.required("contact_id", r.get("contact_id")),
        values.one_of("channel", r.get("channel"), CHANNELS),
        values.required("agent_id", r.get("agent_id")),
        values.aware_time("contact_time", r.get("contact_time")),
        values.aware_time("responded_time", r.get("responded_time")),
        values.integer_in("csat", r.get("csat"), 1, 5) if r.get("csat") is not None else None,
        values.integer_in("nps", r.get("nps"), 0, 10) if r.get("nps") is not None else None,
        r.get("comment") or None,
        ",".join(sorted(str(t) for t in tags)),
    )


def parse_lines(lines: Iterable[str], source_object: str, tz: ZoneInfo) -> Iterator[SourceRow]:
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        position = str(number)
        try:
            record = json.loads(text)
            if not isinstance(record, dict):
                raise RowRejected("line is not a JSON object")
            parsed = parse_record(record, tz)
        except json.JSONDecodeError as error:
            yield SourceRow(source_object, position, text, reason=f"not valid JSON: {error.msg}")
        except RowRejected as rejected:
            yield SourceRow(source_object, position, text, reason=str(rejected))
        else:
            yield SourceRow(source_object, position, text, values=parsed)
