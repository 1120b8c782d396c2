"""Read a supervisor workbook's rows into the canonical `raw.supervisor_inputs` contract.

The vendor mapping says which header holds each field; the ranges every line keeps,
whoever filled in the spreadsheet, are here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zipfile import BadZipFile

from extractors.contracts import SUPERVISOR_INPUTS
from extractors.mapping import RowParser
from warehouse.landing import RowRejected, SourceRow

COLUMNS = tuple(f.name for f in SUPERVISOR_INPUTS)
_AT = {name: i for i, name in enumerate(COLUMNS)}


class UnreadableWorkbook(ValueError):
    pass


def check_input(values: tuple) -> None:
    row = dict(zip(COLUMNS, values, strict=True))
    if row["month"].day != 1:
        raise RowRejected(f"month: {row['month']} is not the first day of a month")
    rating = row["teamwork_rating"]
    if rating is not None and not 1 <= rating <= 5:
        raise RowRejected(f"teamwork_rating: {rating} is outside 1..5")
    exam = row["exam_score"]
    if exam is not None and not 0 <= exam <= 100:
        raise RowRejected(f"exam_score: {exam} is outside 0..100")
    for name in COLUMNS:
        if name.startswith(("training_", "discipline_", "plan_")) and (row[name] or 0) < 0:
            raise RowRejected(f"{name}: {row[name]} is negative")
    pairs = (
        ("training_sessions_attended", "training_sessions_scheduled"),
        ("plan_items_closed_on_time", "plan_items_due"),
    )
    for part, whole in pairs:
        if row[part] is not None and row[whole] is not None and row[part] > row[whole]:
            raise RowRejected(f"{part}: {row[part]} is more than {whole} {row[whole]}")


def _text(value) -> str:
    """A cell as the text a mapping reads (whole numbers without a decimal point)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def header_and_rows(path: Path, sheet: str | None) -> tuple[list[str], Iterator[tuple[int, list]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as error:
        raise UnreadableWorkbook(f"{path.name} is not a readable .xlsx workbook: {error}") from None
    if sheet is not None and sheet not in book.sheetnames:
        raise UnreadableWorkbook(f"{path.name} has no sheet {sheet!r} (sheets: {book.sheetnames})")
    rows = (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)
    header = [_text(c) for c in next(rows, ())]
    return header, ((number, list(row)) for number, row in enumerate(rows, start=2))


def sheet_rows(
    header: list[str], rows: Iterator[tuple[int, list]], source_object: str, parser: RowParser
) -> Iterator[SourceRow]:
    for number, cells in rows:
        texts = [_text(c) for c in cells]
        if not any(texts):
            continue
        record = dict(zip(header, texts, strict=False))
        raw_text = json.dumps(record, ensure_ascii=False)
        try:
            values, _flags = parser.parse(record)
            check_input(values)
        except RowRejected as rejected:
            yield SourceRow(source_object, str(number), raw_text, reason=str(rejected))
        else:
            yield SourceRow(source_object, str(number), raw_text, values=values)
