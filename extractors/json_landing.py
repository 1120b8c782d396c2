"""Land JSON records (API pages) set-based: Python cuts each record into the texts of the
columns its mapping reads, as `RowParser` reads them (`json_text`), and COPYs them with the
record's text; the compiled mapping (extractors/mapping_sql.py) types, checks and
quarantines them in the database in one statement.

What stays per record in Python is what only Python does cheaply here: the record's text
for lineage (sorted keys, as the record-at-a-time landing writes it) and its JSON values as
texts. Every record keeps its page (`source_object`) and its index in the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from extractors.mapping import json_text
from extractors.mapping_sql import CompiledMapping, checked_query
from warehouse.landing import BatchWriter

_RECORDS = "pg_temp.landing_records"
BLOCK = 1 << 20  # characters per COPY write
# COPY's text format: a field's backslash, tab and line breaks escaped. A record's fields
# are joined by NUL first, which PostgreSQL text cannot hold: it becomes the tab.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\t"})


def _copy_lines(pages: Iterable[tuple[str, list]], header: Sequence[str]) -> Iterable[str]:
    """Blocks of COPY text: line_no, source_object, source_position, line, is_record, then
    the record's text of every header column (NULL when it is not a JSON object)."""
    number, block, size = 0, [], 0
    absent = ["\\N"] * len(header)
    for source_object, records in pages:
        for index, document in enumerate(records):
            number += 1
            text = json.dumps(document, sort_keys=True, ensure_ascii=False)
            if isinstance(document, dict):
                fields = [
                    v.strip() if type(v) is str else json_text(v).strip()
                    for v in map(document.get, header)
                ]
                row = "\0".join([str(number), source_object, str(index), text, "t", *fields])
                line = row.translate(_ESCAPES)
            else:
                first = "\0".join([str(number), source_object, str(index), text, "f"])
                line = "\t".join([first.translate(_ESCAPES), *absent])
            block.append(line)
            size += len(line)
            if size >= BLOCK:
                yield "\n".join(block) + "\n"
                block, size = [], 0
    if block:
        yield "\n".join(block) + "\n"


def land_records(
    writer: BatchWriter,
    table: str,
    columns: Sequence[str],
    compiled: CompiledMapping,
    checks: list[tuple[str, str]],
    pages: Iterable[tuple[str, list]],
) -> None:
    """Land every record of `pages` ((source object, records)) into raw.<table>."""
    conn = writer.conn
    header = compiled.header
    texts = [f"c{i}" for i in range(1, len(header) + 1)]
    conn.execute(f"drop table if exists {_RECORDS}")
    conn.execute(
        "create temp table landing_records (line_no bigint, source_object text,"
        f" source_position text, line text, is_record boolean,"
        f" {', '.join(f'{c} text' for c in texts)}) on commit drop"
    )
    with conn.cursor() as cur, cur.copy(f"copy {_RECORDS} from stdin") as copy:
        for block in _copy_lines(pages, header):
            copy.write(block)
    # A record that is no JSON object has no fields: the checked query quarantines it.
    fields = f"case when is_record then array[{', '.join(texts)}] end"
    carry = ("source_object", "source_position")
    writer.land_checked(
        table,
        columns,
        lambda lines: checked_query(compiled, columns, checks, lines, fields=fields, carry=carry),
        _RECORDS,
    )
    conn.execute(f"drop table {_RECORDS}")
