"""Check a vendor mapping against a sample delivery before a run lands anything.

The sample is landed exactly as the daily extract lands it (extractors/deliveries.py: the
same compiled SQL types, checks and quarantines it, the contract's rules and the row's
day included), batch by batch, inside one transaction that is rolled back: the report is
what the landing does, and the warehouse is left as it was. It gives, per contract: rows
read = would land + would be quarantined + skipped, the days and their batches, the
quarantine reasons and quality flags with counts, the contract fields the source does not
provide (NULL: "not available"), and samples with personal data masked.
"""

from __future__ import annotations

import csv
import glob
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from extractors.batch import day_bounds
from extractors.deliveries import Places, land_table, page_records
from extractors.mapping import ApiDelivery, SourceMapping, SqlDelivery
from extractors.workbook import read_workbook
from warehouse.landing import Batch, BatchWriter, ensure_raw_schema

MASK = "***"


@dataclass
class CheckReport:
    mapping: SourceMapping
    path: Path
    header: list[str]
    unread_columns: list[str]
    rows_by_day: Counter = field(default_factory=Counter)  # business day -> rows read
    landed: int = 0
    skipped: int = 0
    quarantined: Counter = field(default_factory=Counter)
    flags: Counter = field(default_factory=Counter)
    landed_samples: list[dict] = field(default_factory=list)
    quarantined_samples: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.landed + sum(self.quarantined.values()) + self.skipped

    def render(self) -> str:
        m = self.mapping
        lines = [
            f"mapping: {m.vendor} -> raw.{m.raw_table} contract (valid)",
            f"file:    {self.path} ({len(self.header)} columns; the mapping reads"
            f" {len(m.source_columns())}, ignores {self.unread_columns or 'none'})",
            f"rows read {self.read} = would land {self.landed} + would be quarantined"
            f" {sum(self.quarantined.values())}"
            + (f" + skipped {self.skipped}" if self.skipped else ""),
        ]
        if self.rows_by_day:
            days = sorted(self.rows_by_day)
            span = f"{days[0]}" if len(days) == 1 else f"{days[0]} .. {days[-1]}"
            lines.append(f"days: {len(days)} ({span}), one batch each")
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


def _columns(mapping: SourceMapping, path: Path) -> list[str]:
    """The columns (keys) the sample has, to tell which the mapping ignores."""
    delivery = mapping.delivery
    if isinstance(delivery, SqlDelivery):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return [r[1] for r in db.execute(f"pragma table_info({delivery.table})")]
        finally:
            db.close()
    if isinstance(delivery, ApiDelivery):
        payload = json.loads(path.read_text(encoding="utf-8"))
        records = payload.get(delivery.data_key) if isinstance(payload, dict) else None
        if not isinstance(records, list):
            raise ValueError(f"{path.name}: a saved page needs a {delivery.data_key!r} list")
        return sorted({k for r in records if isinstance(r, dict) for k in r})
    if delivery.format in ("xlsx", "ods"):
        return read_workbook(path, delivery.sheet, delivery.header_row)[0]
    with path.open(encoding=delivery.encoding, errors="replace") as handle:
        if delivery.format == "csv":
            return next(
                csv.reader([handle.readline().rstrip("\r\n")], delimiter=delivery.delimiter)
            )
        keys: set[str] = set()
        for line in handle:
            try:
                document = json.loads(line)
            except ValueError:
                continue
            if isinstance(document, dict):
                keys |= set(document)
        return sorted(keys)


def _days(mapping: SourceMapping, path: Path, day: date | None) -> list[date | None]:
    """The batches a sample holds: its day (named or read from the file name), every day
    of its day column, or one batch of no day (a saved API page, a database)."""
    delivery = mapping.delivery
    if isinstance(delivery, ApiDelivery | SqlDelivery):
        return [day]
    if delivery.day_column:
        days = set()
        texts = _day_texts(mapping, path)
        for text in texts:
            try:
                days.add(datetime.strptime(text.strip(), delivery.day_format).date())
            except ValueError:
                continue  # the landing refuses it, naming the line
        return sorted(days) or [day or date.today()]
    if day is not None:
        return [day]
    # The day (or month) from the file's name or its folders, as the pattern names it.
    for part, named in zip(
        reversed(Path(delivery.file_pattern).parts), reversed(path.resolve().parts), strict=False
    ):
        if "%" in part and not any(c in part for c in "*?["):
            try:
                return [datetime.strptime(named, part).date()]
            except ValueError:
                continue
    if delivery.period == "month":
        return [None]  # a workbook outside its month's folder: its rows, of any month
    raise ValueError(
        f"{path} does not match the mapping's file_pattern {delivery.file_pattern!r}: give"
        " the business day it holds with --day YYYY-MM-DD"
    )


def _day_texts(mapping: SourceMapping, path: Path):
    delivery = mapping.delivery
    column = delivery.day_column
    if delivery.format in ("xlsx", "ods"):
        header, rows = read_workbook(path, delivery.sheet, delivery.header_row)
        at = header.index(column) if column in header else None
        return [cells[at] for _, cells in rows if at is not None and at < len(cells)]
    with path.open(encoding=delivery.encoding, errors="replace") as handle:
        if delivery.format == "csv":
            return [
                r.get(column) or "" for r in csv.DictReader(handle, delimiter=delivery.delimiter)
            ]
        texts = []
        for line in handle:
            try:
                document = json.loads(line)
            except ValueError:
                continue
            if isinstance(document, dict) and document.get(column) is not None:
                texts.append(str(document[column]))
        return texts


def _as_sample(mapping: SourceMapping, path: Path) -> tuple[SourceMapping, Places]:
    """The mapping reading exactly `path`, wherever it lies."""
    delivery = mapping.delivery
    if isinstance(delivery, SqlDelivery):
        return mapping, Places(path.parent, database=str(path))
    if isinstance(delivery, ApiDelivery):
        return mapping, Places(path.parent)
    sample = delivery.model_copy(update={"file_pattern": glob.escape(path.name).replace("%", "%%")})
    return mapping.model_copy(update={"delivery": sample}), Places(path.parent)


def check_file(
    mapping: SourceMapping,
    path: Path,
    samples: int = 3,
    day: date | None = None,
    conn: psycopg.Connection | None = None,
    timezone: str | None = None,
) -> CheckReport:
    """Land `path` as the extractor would, roll it back, and report.

    `path` is a sample export file; for a database mapping, the database file; for an API
    mapping, one page of the API's response saved as JSON."""
    from extractors.daily import source_rules, table_columns
    from warehouse.connection import connect

    path = Path(path)
    header = _columns(mapping, path)
    missing = mapping.missing_columns(header)
    if missing:
        raise ValueError(
            f"{path.name} lacks columns {missing} that the mapping reads (has: {header})"
        )
    report = CheckReport(mapping, path, header, sorted(set(header) - mapping.source_columns()))
    sample, places = _as_sample(mapping, path)
    table = mapping.raw_table
    columns = table_columns(table)
    checks = source_rules(mapping.source_system)[table]
    zone = timezone or mapping.timezone
    own = conn is None
    conn = conn or connect()
    try:
        ensure_raw_schema(conn)  # kept: the landing's schema, empty, as any first run makes it
        with conn.transaction(force_rollback=True):
            for batch_day in _days(mapping, path, day):
                batch = _batch(mapping, batch_day, zone)
                with BatchWriter(conn, batch, [table]) as writer:
                    if isinstance(mapping.delivery, ApiDelivery):
                        _land_page(writer, sample, path, columns, checks)
                    else:
                        land_table(
                            writer, sample, columns, checks, places, held_to_day=bool(batch_day)
                        )
                _tally(conn, report, batch, writer, samples, ZoneInfo(zone))
    finally:
        if own:
            conn.close()
    return report


def _batch(mapping: SourceMapping, day: date | None, zone: str) -> Batch:
    now = datetime.now(UTC)
    if day is None:
        # A saved page or a whole database: no run's interval, every record read.
        start = datetime(1900, 1, 1, tzinfo=UTC)
        return Batch(
            "check-mapping/all",
            mapping.source_system,
            date(1900, 1, 1),
            start,
            start + timedelta(days=365 * 300),
            now,
        )
    start, end = day_bounds(day, zone)
    return Batch(f"check-mapping/{day}", mapping.source_system, day, start, end, now)


def _land_page(writer, mapping, path, columns, checks) -> None:
    from extractors.deliveries import _land

    payload = json.loads(path.read_text(encoding="utf-8"))
    records = page_records(writer, [(path.name, payload)], mapping)
    # A saved page has no run's interval: its rows are not held to a day.
    _land(
        writer, mapping, mapping.raw_table, columns, checks, records, "record is not a JSON object"
    )


def _tally(
    conn, report: CheckReport, batch: Batch, writer: BatchWriter, samples: int, zone: ZoneInfo
) -> None:
    summary = writer.summary()
    report.landed += summary.rows_loaded
    report.skipped += summary.rows_skipped
    if batch.batch_id != "check-mapping/all" and summary.rows_read:
        report.rows_by_day[batch.batch_date] += summary.rows_read
    key = (batch.source_system, batch.batch_date)
    for reason, count in conn.execute(
        "select reason, count(*) from raw.quarantine where source_system = %s and batch_date = %s"
        " group by reason",
        key,
    ):
        report.quarantined[reason] += count
    table = sql.Identifier(report.mapping.raw_table)
    landed = conn.execute(
        sql.SQL(
            "select * from raw.{} where source_system = %s and batch_date = %s"
            " order by source_object, source_position limit %s"
        ).format(table),
        (*key, samples),
    )
    names = [c.name for c in landed.description]
    personal = {f.name for f in report.mapping.contract if f.personal_data}
    contract = {f.name for f in report.mapping.contract} | {"quality_flags"}
    for row in landed:
        if len(report.landed_samples) < samples:
            report.landed_samples.append(
                {
                    k: _shown(v, k in personal, zone)
                    for k, v in zip(names, row, strict=True)
                    if k in contract
                }
            )
    if "quality_flags" in (c for c in names):
        for flag, count in conn.execute(
            sql.SQL(
                "select flag, count(*) from raw.{}, unnest(string_to_array(quality_flags, ','))"
                " as flag where source_system = %s and batch_date = %s group by flag"
            ).format(table),
            key,
        ):
            report.flags[flag] += count
    for position, reason, text in conn.execute(
        "select source_position, reason, raw_text from raw.quarantine"
        " where source_system = %s and batch_date = %s order by source_object, source_position"
        " limit %s",
        (*key, samples),
    ):
        if len(report.quarantined_samples) < samples:
            report.quarantined_samples.append((position, reason, _masked(report, text or "")))


def _shown(value, personal: bool, zone: ZoneInfo):
    """A landed value as the report shows it: personal data masked, an instant in the
    center's time zone (the zone its days are counted in)."""
    if personal and value is not None:
        return MASK
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat()
    return value


def _masked(report: CheckReport, text: str) -> str:
    """A quarantined record's text with the personal columns masked."""
    personal = report.mapping.personal_columns()
    delivery = report.mapping.delivery
    if getattr(delivery, "format", "") == "csv":
        fields = next(csv.reader([text], delimiter=delivery.delimiter))
        hidden = {i for i, name in enumerate(report.header) if name in personal}
        return " | ".join(MASK if i in hidden else f for i, f in enumerate(fields))
    if isinstance(delivery, SqlDelivery):
        return "<table row: not shown, it may hold personal data>"
    try:
        document = json.loads(text)
    except ValueError:
        return f"<not JSON, {len(text)} characters: not shown, it may hold personal data>"
    if not isinstance(document, dict):
        return "<not a JSON object>"
    return json.dumps({k: (MASK if k in personal else v) for k, v in document.items()})
