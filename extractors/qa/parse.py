"""Parse QA database rows into raw.qa_inspections, raw.qa_deductions, raw.qa_rectifications.

The vendor mapping says which table and column hold each field; the rules every QA record
keeps, whatever the tool, are here (a deduction's points lie in its severity's band).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from extractors.contracts import CONTRACTS
from extractors.mapping import RowParser
from warehouse.landing import RowRejected, SourceRow

QA_TABLES = ("qa_inspections", "qa_deductions", "qa_rectifications")
COLUMNS = {table: tuple(f.name for f in CONTRACTS[table]) for table in QA_TABLES}
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


def _named(table: str, values: tuple) -> dict:
    return dict(zip(COLUMNS[table], values, strict=True))


def check_inspection(values: tuple) -> None:
    record_type = _named("qa_inspections", values)["record_type"]
    if record_type not in RECORD_TYPES:
        raise RowRejected(f"record_type: {record_type!r} is not one of {sorted(RECORD_TYPES)}")


def check_deduction(values: tuple) -> None:
    row = _named("qa_deductions", values)
    if row["dimension"] not in DIMENSIONS:
        raise RowRejected(f"dimension: {row['dimension']!r} is not one of {sorted(DIMENSIONS)}")
    if row["severity"] not in SEVERITY_BANDS:
        raise RowRejected(f"severity: {row['severity']!r} is not one of {sorted(SEVERITY_BANDS)}")
    low, high = SEVERITY_BANDS[row["severity"]]
    if not low <= row["points"] <= high:
        raise RowRejected(f"points ({row['severity']}): {row['points']} is outside {low}..{high}")


def check_rectification(values: tuple) -> None:
    """No rule beyond the contract's required fields."""


CHECKS: dict[str, Callable[[tuple], None]] = {
    "qa_inspections": check_inspection,
    "qa_deductions": check_deduction,
    "qa_rectifications": check_rectification,
}


def table_rows(
    source_object: str, records: Iterable[dict], parser: RowParser, key_column: str
) -> Iterator[SourceRow]:
    """Rows keyed by their primary key, the position of a table row."""
    check = CHECKS[parser.mapping.raw_table]
    for record in records:
        text = "|".join("" if v is None else str(v) for v in record.values())
        position = str(record.get(key_column))
        try:
            values, _flags = parser.parse(
                {k: "" if v is None else str(v) for k, v in record.items()}
            )
            check(values)
        except RowRejected as rejected:
            yield SourceRow(source_object, position, text, reason=str(rejected))
        else:
            yield SourceRow(source_object, position, text, values=values)
