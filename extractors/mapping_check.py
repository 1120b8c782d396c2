"""Check a vendor mapping against a sample file before anything touches the warehouse.

Reads the file exactly as the extractor would, with the same parser, and reports what
would land, what would be quarantined and why, and which quality flags rows would carry;
personal data is masked in everything it prints.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from extractors.call_center.parse import COLUMNS, parse_lines, split_line
from extractors.mapping import RowParser, SourceMapping
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
            f"mapping: {m.vendor} -> {m.source_system} contract (valid)",
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
                f"  line {p}: {reason}\n      {text}"
                for p, reason, text in self.quarantined_samples
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


def check_file(mapping: SourceMapping, path: Path, samples: int = 3) -> CheckReport:
    """Read `path` as the extractor would and report; raises ValueError on missing columns."""
    parser = RowParser(mapping)
    delivery = mapping.delivery
    personal_fields = {f.name for f in mapping.contract if f.personal_data}
    personal_columns = mapping.personal_columns()
    columns = [f.name for f in mapping.contract]
    with path.open(encoding=delivery.encoding, newline="") as handle:
        if delivery.format == "jsonl":
            from extractors.survey.parse import parse_lines as parse_json_lines

            lines = handle.readlines()
            keys = set()
            for line in lines:
                try:
                    document = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(document, dict):
                    keys |= set(document)
            header = sorted(keys)
            rows = parse_json_lines(lines, path.name, parser)

            def shown(row: SourceRow) -> str:
                return _masked_json(row.raw_text, personal_columns)
        else:
            header = split_line(handle.readline().rstrip("\r\n"), delivery.delimiter)
            rows = parse_lines(handle, header, path.name, parser)
            columns = list(COLUMNS)
            masked_positions = [i for i, name in enumerate(header) if name in personal_columns]

            def shown(row: SourceRow) -> str:
                fields = split_line(row.raw_text, delivery.delimiter)
                for i in masked_positions:
                    if i < len(fields):
                        fields[i] = MASK
                return " | ".join(fields)

        missing = mapping.missing_columns(header)
        if missing:
            raise ValueError(
                f"{path.name} lacks columns {missing} that the mapping reads (has: {header})"
            )
        report = CheckReport(mapping, path, header, sorted(set(header) - mapping.source_columns()))
        day_at = (
            header.index(delivery.day_column)
            if delivery.day_column and delivery.format == "csv"
            else None
        )
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
