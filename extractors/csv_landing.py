"""Land a delimited export set-based: COPY its lines as they are, then type, check and
quarantine them with the compiled mapping (extractors/mapping_sql.py) in one statement.

Python only streams the file (decoding it, in blocks: memory does not grow with the file)
and checks its header; no row is parsed in Python. Each line keeps its number, raw text and
content hash for lineage, and a line that cannot be read goes to the quarantine with the
reason RowParser would give it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import date
from typing import TextIO

from extractors.mapping_sql import CompiledMapping, checked_query, split_fields
from warehouse.landing import BatchWriter, ContractError

BLOCK = 1 << 20  # characters per COPY write
# COPY reads each line whole, as one CSV field: separator and quote are characters a text
# export never holds (a delivery that does is refused rather than misread).
_SEPARATOR, _QUOTE = "\x01", "\x02"


def split_line(text: str, delimiter: str) -> list[str]:
    """A header line's fields (the data lines are split in SQL, `split_fields`)."""
    return next(csv.reader([text], delimiter=delimiter))


def _blocks(handle: TextIO, writer: BatchWriter, name: str) -> Iterator[str]:
    for block in iter(lambda: handle.read(BLOCK), ""):
        if _SEPARATOR in block or _QUOTE in block:
            batch = writer.batch
            raise ContractError(
                batch.source_system,
                batch.batch_id,
                "text_delivery",
                f"{name} holds control characters \\x01/\\x02: not a text export",
            )
        yield block


def copy_lines(writer: BatchWriter, handle: TextIO, name: str) -> None:
    """The rest of the file into pg_temp.landing_lines (line_no from 1, line text;
    blank lines NULL), streamed in blocks; every line of the file must arrive."""
    conn = writer.conn
    conn.execute("drop table if exists pg_temp.landing_lines")
    conn.execute(
        "create temp table landing_lines"
        " (line_no bigint generated always as identity, line text) on commit drop"
    )
    lines, last = 0, ""
    with (
        conn.cursor() as cur,
        cur.copy(
            "copy pg_temp.landing_lines (line) from stdin"
            " (format csv, delimiter E'\\x01', quote E'\\x02')"
        ) as copy,
    ):
        for block in _blocks(handle, writer, name):
            lines += block.count("\n")
            last = block
            copy.write(block)
    lines += bool(last) and not last.endswith("\n")
    copied = conn.execute("select count(*) from pg_temp.landing_lines").fetchone()[0]
    if copied != lines:
        # COPY stops at a line holding only "\." (its end-of-data mark): never lose the rest.
        batch = writer.batch
        raise ContractError(
            batch.source_system,
            batch.batch_id,
            "complete_delivery",
            f"{name}: {lines} lines after the header, {copied} read by COPY",
        )


def first_unassignable(
    writer: BatchWriter, compiled: CompiledMapping, relation: str, fields: str
) -> str | None:
    """In a file of many days, the first record that belongs to no day (a wrong number of
    fields, or a day that cannot be read), described; None when every record has a day.
    `fields` is the SQL of a record's texts `f` in `relation`."""
    _, day_ok, day_reason = compiled.day_check()
    width = len(compiled.header)
    row = writer.conn.execute(
        f"""
        select position, case when f is null then 'not a record'
            when cardinality(f) <> {width}
            then cardinality(f) || ' fields, the header has {width}' else {day_reason} end
        from (select {fields} as f, position, ordinal from {relation} where line is not null)
            as lines
        where f is null or cardinality(f) <> {width} or not ({day_ok})
        order by ordinal limit 1
        """.replace("%", "%%")
    ).fetchone()
    return None if row is None else f"{row[0]}: {row[1]}"


def refuse_unassignable(writer, compiled, relation: str, fields: str, name: str) -> None:
    unassignable = first_unassignable(writer, compiled, relation, fields)
    if unassignable:
        batch = writer.batch
        raise ContractError(
            batch.source_system, batch.batch_id, "row_has_a_day", f"{name} {unassignable}"
        )


def land_lines(
    writer: BatchWriter,
    handle: TextIO,
    name: str,
    compiled: CompiledMapping,
    table: str,
    columns: Sequence[str],
    checks: list[tuple[str, str]],
    day: date | None = None,
    versioned: tuple[str, str, str | None] | None = None,
) -> None:
    """Land the lines after the header of an open export (one source object) into
    raw.<table>; with `day`, a file of many days gives only that day's lines."""
    copy_lines(writer, handle, name)
    if day is not None:
        split = split_fields(compiled.mapping.delivery.delimiter)
        relation = (
            "(select line, line_no as ordinal, 'line ' || (line_no + 1) as position"
            " from pg_temp.landing_lines) as numbered"
        )
        refuse_unassignable(writer, compiled, relation, split, name)
    writer.land_checked(
        table,
        columns,
        lambda lines: checked_query(compiled, columns, checks, lines, day=day, versioned=versioned),
        "pg_temp.landing_lines",
        source_object=name,
    )
    writer.conn.execute("drop table pg_temp.landing_lines")
