"""Check a vendor mapping against a sample file before anything touches the warehouse.

Reads the file exactly as the extractor would, with the same parser, and reports what
would land, what would be quarantined and why, and which quality flags rows would carry;
personal data is masked in everything it prints.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from extractors.call_center.parse import COLUMNS, parse_lines, split_line
from extractors.mapping import (
    ApiDelivery,
    RowParser,
    SourceMapping,
    SpreadsheetDelivery,
    SqlDelivery,
)
from warehouse.landing import SourceRow

MASK = "***"


@dataclass
class CheckReport:
    mapping: SourceMapping
    path: Path
    header: list[str]
    unread_columns: list[str]
    rows_by_day: Counter = field(default_factory=Counter)
    landed: int = 0
    quarantined: Counter = field(default_factory=Counter)
    flags: Counter = field(default_factory=Counter)
    landed_samples: list[dict] = field(default_factory=list)
    quarantined_samples: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.landed + sum(self.quarantined.values())

    def render(self) -> str:
        m = self.mapping
        lines = [
            f"mapping: {m.vendor} -> raw.{m.raw_table} contract (valid)",
            f"file:    {self.path} ({len(self.header)} columns; the mapping reads"
            f" {len(m.source_columns())}, ignores {self.unread_columns or 'none'})",
            f"rows read {self.read} = would land {self.landed} + would be quarantined"
            f" {sum(self.quarantined.values())}",
        ]
        if len(self.rows_by_day) > 1:
            days = sorted(self.rows_by_day)
            lines.append(f"days: {len(days)} ({days[0]} .. {days[-1]}), one batch each")
        if self.quarantined:
            lines.append("quarantined, by reason:")
            lines += [f"  {n:>7}  {reason}" for reason, n in self.quarantined.most_common()]
        if self.flags:
            lines.append("landed with quality flags:")
            lines += [f"  {n:>7}  {flag}" for flag, n in self.flags.most_common()]
        not_available = [f.name for f in m.contract if f.name not in m.fields]
        if not_available:
            lines.append(
                f"not available from this source (land as NULL): {', '.join(not_available)}"
            )
        if self.landed_samples:
            lines.append("sample of rows that would land (personal data masked):")
            for sample in self.landed_samples:
                lines.append(
                    "  " + ", ".join(f"{k}={v}" for k, v in sample.items() if v is not None)
                )
        if self.quarantined_samples:
            lines.append("sample of rows that would be quarantined:")
            lines += [
                f"  at {p}: {reason}\n      {text}" for p, reason, text in self.quarantined_samples
            ]
        return "\n".join(lines)


def _masked_json(text: str, personal_columns: set[str]) -> str:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return f"<not JSON, {len(text)} characters: not shown, it may hold personal data>"
    if not isinstance(document, dict):
        return "<not a JSON object>"
    return json.dumps({k: (MASK if k in personal_columns else v) for k, v in document.items()})


def _structured_rows(mapping: SourceMapping, path: Path) -> tuple[list[str], list[SourceRow]]:
    """(columns seen, parsed rows) of a database table or of a saved API page."""
    parser = RowParser(mapping)
    delivery = mapping.delivery
    if isinstance(delivery, SqlDelivery):
        from extractors.qa.parse import table_rows

        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            cursor = db.execute(f"select * from {delivery.table} order by {delivery.key_column}")
            names = [d[0] for d in cursor.description]
            records = [dict(zip(names, row, strict=True)) for row in cursor]
        except sqlite3.Error as error:
            raise ValueError(f"{path.name}: {error}") from None
        finally:
            db.close()
        source_object = f"{path.name}:{delivery.table}"
        return names, list(table_rows(source_object, records, parser, delivery.key_column))
    from extractors.crm.parse import page_rows

    payload = json.loads(path.read_text(encoding="utf-8"))
    records = payload.get(delivery.data_key) if isinstance(payload, dict) else None
    if not isinstance(records, list):
        raise ValueError(f"{path.name}: a saved page needs a {delivery.data_key!r} list")
    names = sorted({k for r in records if isinstance(r, dict) for k in r})
    return names, list(page_rows(path.name, payload, parser, delivery.data_key))


def _workbook_rows(mapping: SourceMapping, path: Path):
    """(columns, parsed rows, how to show a rejected row) of a delivered workbook."""
    from extractors.supervisor.parse import header_and_rows, sheet_rows

    header, cells = header_and_rows(path, mapping.delivery.sheet)
    personal_columns = mapping.personal_columns()
    rows = (
        []
        if mapping.missing_columns(header)
        else list(sheet_rows(header, cells, path.name, RowParser(mapping)))
    )
    return header, rows, lambda row: _masked_json(row.raw_text, personal_columns)


def _file_rows(mapping: SourceMapping, path: Path):
    """(columns, parsed rows, how to show a rejected row) of a delivered file."""
    parser = RowParser(mapping)
    delivery = mapping.delivery
    if isinstance(delivery, SpreadsheetDelivery):
        return _workbook_rows(mapping, path)
    personal_columns = mapping.personal_columns()
    with path.open(encoding=delivery.encoding, newline="") as handle:
        lines = handle.readlines()
    if delivery.format == "jsonl":
        from extractors.survey.parse import parse_lines as parse_json_lines

        keys = set()
        for line in lines:
            try:
                document = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(document, dict):
                keys |= set(document)
        rows = list(parse_json_lines(lines, path.name, parser))
        return sorted(keys), rows, lambda row: _masked_json(row.raw_text, personal_columns)
    header = split_line(lines[0].rstrip("\r\n"), delivery.delimiter) if lines else []
    masked = [i for i, name in enumerate(header) if name in personal_columns]

    def shown(row: SourceRow) -> str:
        fields = split_line(row.raw_text, delivery.delimiter)
        return " | ".join(MASK if i in masked else f for i, f in enumerate(fields))

    if mapping.missing_columns(header):
        return header, [], shown
    return header, list(parse_lines(lines[1:], header, path.name, parser)), shown


def check_file(mapping: SourceMapping, path: Path, samples: int = 3) -> CheckReport:
    """Read `path` as the extractor would and report; raises ValueError on missing columns.

    `path` is a sample export file; for a database mapping, the database file; for an API
    mapping, one page of the API's response saved as JSON."""
    delivery = mapping.delivery
    if isinstance(delivery, SqlDelivery | ApiDelivery):
        header, rows = _structured_rows(mapping, path)
        personal = mapping.personal_columns()

        def shown(row: SourceRow) -> str:
            if row.raw_text.startswith("{"):
                return _masked_json(row.raw_text, personal)
            return f"<table row {row.position}: not shown, it may hold personal data>"
    else:
        header, rows, shown = _file_rows(mapping, path)
    missing = mapping.missing_columns(header)
    if missing:
        raise ValueError(
            f"{path.name} lacks columns {missing} that the mapping reads (has: {header})"
        )
    report = CheckReport(mapping, path, header, sorted(set(header) - mapping.source_columns()))
    personal_fields = {f.name for f in mapping.contract if f.personal_data}
    if mapping.raw_table == "call_center_contacts":
        columns = list(COLUMNS)
    else:
        columns = [f.name for f in mapping.contract]
    day_column = getattr(delivery, "day_column", None)
    day_at = header.index(day_column) if day_column and delivery.format == "csv" else None
    for row in rows:
        if day_at is not None:
            fields = split_line(row.raw_text, delivery.delimiter)
            if len(fields) == len(header):
                report.rows_by_day[fields[day_at]] += 1
        if row.values is None:
            report.quarantined[row.reason] += 1
            if len(report.quarantined_samples) < samples:
                report.quarantined_samples.append((row.position, row.reason, shown(row)))
            continue
        report.landed += 1
        values = dict(zip(columns, row.values, strict=True))
        for flag in (values.get("quality_flags") or "").split(","):
            if flag:
                report.flags[flag] += 1
        if len(report.landed_samples) < samples:
            report.landed_samples.append(
                {
                    k: (MASK if k in personal_fields and v is not None else v)
                    for k, v in values.items()
                }
            )
    return report
