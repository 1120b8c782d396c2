"""Land JSON records (API pages, JSON-lines files) set-based: Python cuts each record into
the texts of the columns its mapping reads, as `RowParser` reads them (`json_text`), and
COPYs them with the record's lineage; the compiled mapping (extractors/mapping_sql.py)
types, checks and quarantines them in the database in one statement.

What stays per record in Python is what only Python does cheaply here: decoding the JSON
and its values as texts. A record keeps its source object, its position there and its
text as delivered (or, for API pages, as the record-at-a-time landing writes it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from extractors.csv_landing import refuse_unassignable
from extractors.mapping import json_text
from extractors.mapping_sql import CompiledMapping, checked_query
from warehouse.landing import BatchWriter

_RECORDS = "pg_temp.landing_records"
BLOCK = 1 << 20  # bytes per COPY write
# COPY's text format: a field's backslash, tab and line breaks escaped. A record's fields
# are joined by NUL first, which PostgreSQL text cannot hold: it becomes the tab.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\t"})


_NUL = "holds a NUL character (\\u0000), which PostgreSQL text cannot store"
_SURROGATE = "holds a lone UTF-16 surrogate, which has no UTF-8 form"


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A record that is no JSON value at all; the reason is its quarantine reason."""

    reason: str


# (source object, position, text, the decoded value (a dict of column -> value) or
# Unreadable, the date the file's name holds or None)
Record = tuple[str, str, str, Any, date | None]


def _copy_line(record: Record, number: int, header: Sequence[str], not_object: str) -> str:
    """One record as a line of COPY text: line_no, source_object, source_position,
    file_date, line, refused (why the record has no fields, NULL when it has), then its
    text of every header column."""
    source_object, position, text, document, file_date = record
    dated = "\\N" if file_date is None else file_date.isoformat()
    if isinstance(document, dict):
        values = "\0".join(
            v.strip() if type(v) is str else json_text(v).strip() for v in map(document.get, header)
        )
        if "\0" not in text and values.count("\0") == len(header) - 1:
            lineage = f"{number}\0{source_object}\0{position}".translate(_ESCAPES)
            return (
                f"{lineage}\t{dated}\t{text.translate(_ESCAPES)}\t\\N\t{values.translate(_ESCAPES)}"
            )
        document = Unreadable(_NUL)
    refused = document.reason if isinstance(document, Unreadable) else not_object
    # A NUL in the record's text is kept as the JSON escape that stands for it.
    text = text.replace("\0", "\\u0000")
    lineage = f"{number}\0{source_object}\0{position}".translate(_ESCAPES)
    rest = f"{text}\0{refused}".translate(_ESCAPES)
    return "\t".join([lineage, dated, rest, *(["\\N"] * len(header))])


def _copy_text(
    records: Iterable[Record], header: Sequence[str], not_object: str
) -> Iterator[bytes]:
    """The records as COPY text in UTF-8, in blocks of about BLOCK bytes."""
    block, size = [], 0
    for number, record in enumerate(records, start=1):
        try:
            line = _copy_line(record, number, header, not_object).encode()
        except UnicodeEncodeError:
            # A lone surrogate (a JSON escape such as "\ud800" without its pair) has no UTF-8
            # form; the record's text keeps it as that escape.
            source_object, position, text, _, file_date = record
            text = text.encode("utf-8", "backslashreplace").decode()
            unreadable = (source_object, position, text, Unreadable(_SURROGATE), file_date)
            line = _copy_line(unreadable, number, header, not_object).encode()
        block.append(line)
        size += len(line)
        if size >= BLOCK:
            yield b"\n".join(block) + b"\n"
            block, size = [], 0
    if block:
        yield b"\n".join(block) + b"\n"


def land_records(
    writer: BatchWriter,
    table: str,
    columns: Sequence[str],
    compiled: CompiledMapping,
    checks: list[tuple[str, str]],
    records: Iterable[Record],
    not_object: str = "record is not a JSON object",
    day: date | None = None,
    versioned: tuple[str, str, str | None] | None = None,
) -> None:
    """Land `records` into raw.<table>; one that decodes to no JSON object is quarantined
    with `not_object` as its reason. With `day`, the records are of many days and only
    that day's land (the mapping's day_column); one whose day cannot be read stops it."""
    conn = writer.conn
    header = compiled.header
    texts = [f"c{i}" for i in range(1, len(header) + 1)]
    conn.execute(f"drop table if exists {_RECORDS}")
    conn.execute(
        "create temp table landing_records (line_no bigint, source_object text,"
        " source_position text, file_date date, line text, refused text,"
        f" {', '.join(f'{c} text' for c in texts)}) on commit drop"
    )
    with conn.cursor() as cur, cur.copy(f"copy {_RECORDS} from stdin") as copy:
        for block in _copy_text(records, header, not_object):
            copy.write(block)
    fields = f"case when refused is null then array[{', '.join(texts)}] end"
    if day is not None:
        relation = (
            f"(select *, line_no as ordinal, source_object || ' record ' || source_position"
            f" as position from {_RECORDS}) as numbered"
        )
        refuse_unassignable(writer, compiled, relation, fields, "")
    carry = ("source_object", "source_position", "refused", "file_date")
    writer.land_checked(
        table,
        columns,
        lambda lines: checked_query(
            compiled,
            columns,
            checks,
            lines,
            day=day,
            fields=fields,
            carry=carry,
            unreadable="refused",
            versioned=versioned,
        ),
        _RECORDS,
    )
    conn.execute(f"drop table {_RECORDS}")
