"""Parse QA database rows into raw.qa_inspections, raw.qa_deductions, raw.qa_rectifications."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from extractors import values
from warehouse.landing import RowRejected, SourceRow

INSPECTION_COLUMNS = (
    "inspection_id",
    "record_type",
    "record_id",
    "agent_id",
    "record_at",
    "inspector_name",
    "inspected_at",
    "updated_at",
)
DEDUCTION_COLUMNS = ("deduction_id", "inspection_id", "dimension", "severity", "points", "note")
RECTIFICATION_COLUMNS = (
    "rectification_id",
    "inspection_id",
    "agent_id",
    "description",
    "due_date",
    "closed_at",
    "updated_at",
)
RECORD_TYPES = frozenset({"call", "chat", "email"})
DIMENSIONS = frozenset(
    {
        "service_attitude",
        "professional_knowledge",
        "communication",
        "problem_solving",
        "work_standards",
    }
)
SEVERITY_BANDS = {"minor": (1, 3), "general": (4, 6), "severe": (7, 10)}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def utc_time(field: str, value: str | None) -> datetime | None:
    """The QA tool stores UTC clock times as text."""
    return values.local_time(field, value, TIME_FORMAT, UTC)


def parse_inspection(r: dict) -> tuple:
    record_at = utc_time("record_time", r["record_time"])
    if record_at is None:
        raise RowRejected("record_time: required value is missing")
    return (
        values.required("id", r["id"]),
        values.one_of("record_type", r["record_type"], RECORD_TYPES),
        values.required("record_id", r["record_id"]),
        values.required("agent_code", r["agent_code"]),
        record_at,
        r["inspector"],
        utc_time("inspected_time", r["inspected_time"]),
        utc_time("updated_at", r["updated_at"]),
    )


def parse_deduction(r: dict) -> tuple:
    severity = values.one_of("severity", r["severity"], frozenset(SEVERITY_BANDS))
    low, high = SEVERITY_BANDS[severity]
    return (
        values.required("id", r["id"]),
        values.required("inspection_id", r["inspection_id"]),
        values.one_of("dimension", r["dimension"], DIMENSIONS),
        severity,
        values.integer_in(f"points ({severity})", r["points"], low, high),
        r["note"],
    )


def parse_rectification(r: dict) -> tuple:
    return (
        values.required("id", r["id"]),
        values.required("inspection_id", r["inspection_id"]),
        values.required("agent_code", r["agent_code"]),
        r["description"],
        values.iso_date("due_date", r["due_date"]),
        utc_time("closed_time", r["closed_time"]),
        utc_time("updated_at", r["updated_at"]),
    )


def table_rows(
    source_object: str, records: Iterable[dict], parse: Callable[[dict], tuple]
) -> Iterator[SourceRow]:
    """Rows keyed by their primary key, the position of a table row."""
    for record in records:
        text = "|".join("" if v is None else str(v) for v in record.values())
        position = str(record["id"])
        try:
            yield SourceRow(source_object, position, text, values=parse(record))
        except RowRejected as rejected:
            yield SourceRow(source_object, position, text, reason=str(rejected))
