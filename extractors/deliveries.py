"""Land one raw table's batch from whatever delivery its mapping names: delimited files,
JSON lines, .xlsx/.ods workbooks (one file per day, one per month, or one file for many
days), a paginated REST API, or tables of a SQL database. The same for every source.

Python finds the batch's source objects and cuts each record into the texts its mapping
reads; the compiled mapping (extractors/mapping_sql.py) types, checks and quarantines
them in PostgreSQL. Whatever the delivery, a row lands only on its own business day: a
row whose day field (contracts.DAY_FIELDS) falls outside the batch's day (and the
source's lookback) is quarantined, and a batch where most rows do is stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from extractors.contracts import CONTRACTS, DAY_FIELDS, VERSIONED
from extractors.csv_landing import land_lines
from extractors.file_snapshot import read_once, require_row_count
from extractors.json_landing import Record, Unreadable, land_records
from extractors.mapping import (
    ApiDelivery,
    DelimitedDelivery,
    JsonLinesDelivery,
    SourceMapping,
    SqlDelivery,
    WorkbookDelivery,
)
from extractors.mapping_sql import CompiledMapping, literal
from extractors.rest_client import ApiError, RestClient
from extractors.workbook import UnreadableWorkbook, read_workbook
from warehouse.landing import OTHER_DAY_RULE, Batch, BatchWriter, ContractError, file_checksum

Check = tuple[str, str]
log = logging.getLogger(__name__)
_ZIP = b"PK\x03\x04"
# What a file is when it starts so: never a text export.
_SIGNATURES = {
    _ZIP: "a zip archive (a workbook?)",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or other OLE2 file",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"\x89PNG": "a PNG image",
}


@dataclass(frozen=True)
class Places:
    """Where one source's systems are: deployment configuration, not part of a mapping."""

    landing_dir: Path  # the folder files are delivered to
    api_url: str | None = None  # base URL of a REST API
    database: str | None = None  # a SQLite file, or any SQLAlchemy URL


def _fail(batch: Batch, rule: str, detail: str) -> ContractError:
    return ContractError(batch.source_system, batch.batch_id, rule, detail)


# -- the business day of a row ------------------------------------------------------------------


def day_rule(mapping: SourceMapping, batch: Batch) -> Check | None:
    """The check that a row lies on its batch's day; None for tables without a day field
    or a mapping that does not fill it. Versions of a record (a ticket, an inspection:
    contracts.VERSIONED) may also lie on the lookback's days before it, as an API's cursor
    reaching back re-reads them. An event (a contact, a survey response) may not: a
    lookback re-lands the earlier day's own batch, never moves a row into another day's."""
    name = DAY_FIELDS.get(mapping.raw_table)
    if name is None or name not in mapping.fields:
        return None
    delivery = mapping.delivery
    day = batch.batch_date
    files = mapping.file_delivery
    if files is not None and files.period == "month":
        first = month_starts(day, files.months_back)[0]
        bounds, held = (first, date(day.year, day.month, 1)), "months"
    else:
        versions = isinstance(delivery, ApiDelivery) or mapping.raw_table in VERSIONED
        lookback = getattr(delivery, "lookback_days", 0) if versions else 0
        bounds, held = (day - timedelta(days=lookback), day), "days"
    lo, hi = (literal(b.isoformat()) + "::date" for b in bounds)
    kind = {f.name: f.kind for f in CONTRACTS[mapping.raw_table]}[name]
    zone = batch.interval_start.tzinfo
    local = f"x_{name}" if kind == "date" else f"(x_{name} at time zone {literal(str(zone))})::date"
    shown = f"{bounds[0]}" if bounds[0] == bounds[1] else f"{bounds[0]} .. {bounds[1]}"
    return (
        f"{local} not between {lo} and {hi}",
        f"'{OTHER_DAY_RULE.replace('_', ' ')}: {name} falls on ' || {local}"
        f" || ', the batch holds the {held} {shown}'",
    )


def month_starts(day: date, months_back: int) -> list[date]:
    """The first days of the day's month and the `months_back` months before, in order."""
    months, year, month = [], day.year, day.month
    for _ in range(months_back + 1):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(months)


# -- files --------------------------------------------------------------------------------------


def delivered_files(
    mapping: SourceMapping, landing_dir: Path, batch: Batch
) -> list[tuple[Path, date | None]]:
    """(file, the date its name holds) of every file the batch reads: the day's files, the
    one file of many days, or the workbooks of the month and the months before it."""
    files = mapping.file_delivery
    assert files is not None
    day = batch.batch_date
    if files.period == "month":
        months: dict[Path, date] = {}
        for month in month_starts(day, files.months_back):
            for path in sorted(landing_dir.glob(month.strftime(files.file_pattern))):
                months.setdefault(path, month)
        return list(months.items())  # none is fine: a month's inputs arrive after it ends
    pattern = day.strftime(files.file_pattern)
    found = [p for p in sorted(landing_dir.glob(pattern)) if p.is_file()]
    if not found:
        raise _fail(
            batch,
            "delivery_present",
            f"no export file {landing_dir / pattern} for {day}",
        )
    return [(p, None if files.day_column else day) for p in found]


def _text_handle(path: Path, delivery, batch: Batch):
    """The file opened as text, refused if it is a workbook or another binary file."""
    with path.open("rb") as raw:
        head = raw.read(4096)
    what = next((w for s, w in _SIGNATURES.items() if head.startswith(s)), None)
    if what is None and head.count(b"\0") * 100 > len(head):
        what = "a binary file"  # a stray NUL in a record is that record's quarantine
    if what is not None:
        raise _fail(
            batch,
            "text_delivery",
            f"{path.name} is {what}, not {delivery.format} text: is the mapping's format right"
            " (xlsx or ods for a workbook)?",
        )
    # Universal newlines: \r\n and \r end a line as \n does, in Python and in COPY alike.
    return path.open(encoding=delivery.encoding)


def _decoding(path: Path, delivery, batch: Batch, error: UnicodeDecodeError) -> ContractError:
    return _fail(batch, "encoding", f"{path.name} is not {delivery.encoding}: {error}")


def _land_delimited(writer, mapping, path, name, file_date, table, columns, checks) -> None:
    from extractors.csv_landing import split_line

    delivery: DelimitedDelivery = mapping.delivery
    batch = writer.batch
    with _text_handle(path, delivery, batch) as handle:
        try:
            header_line = handle.readline()
            header = (
                split_line(header_line.rstrip("\r\n"), delivery.delimiter)
                if header_line.strip()
                else []
            )
            _require_complete(path, batch, delivery.delimiter, len(header))
            _require_columns(mapping, header, name, batch)
            compiled = CompiledMapping(
                mapping,
                header,
                file_date=literal(file_date.isoformat()) + "::date" if file_date else "null::date",
            )
            day = batch.batch_date if delivery.day_column else None
            land_lines(
                writer,
                handle,
                name,
                compiled,
                table,
                columns,
                checks,
                day,
                versioned=VERSIONED.get(table),
            )
        except UnicodeDecodeError as error:
            raise _decoding(path, delivery, batch, error) from None


def _require_complete(path: Path, batch: Batch, delimiter: str, width: int) -> None:
    """A text export cut off in transfer ends in the middle of its last record: no line
    break after it, and the line is short of fields. (A file that merely lacks the final
    line break, as some vendors write them, is fine.)"""
    from extractors.csv_landing import split_line

    size = path.stat().st_size
    if not size:
        return
    with path.open("rb") as handle:
        handle.seek(max(0, size - 65_536))
        tail = handle.read()
    if tail.endswith(b"\n"):
        return
    last = tail.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace").rstrip("\r")
    whole = len(split_line(last, delimiter)) == width if delimiter else _is_json(last)
    if not whole:
        raise _fail(
            batch,
            "complete_delivery",
            f"{path.name} ends in the middle of a record: a truncated delivery",
        )


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _require_columns(mapping: SourceMapping, header: list[str], name: str, batch: Batch) -> None:
    missing = mapping.missing_columns(header)
    if missing:
        raise _fail(
            batch,
            "required_columns",
            f"{name} lacks columns {missing} that mapping '{mapping.vendor}' reads"
            f" (it has: {header})",
        )


def json_line_records(
    handle: TextIO, source_object: str, file_date: date | None, max_chars: int
) -> Iterator[Record]:
    """(file, line number, line, its JSON, file date) of every line that is not blank; a
    line longer than `max_chars` is read no further (its reason says so)."""
    for number, (line, whole) in enumerate(bounded_lines(handle, max_chars), start=1):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        if not whole:
            document = Unreadable(
                f"a record of more than {max_chars} characters, more than"
                f" limits.max_record_chars ({max_chars})"
            )
            yield source_object, str(number), text, document, file_date
            continue
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            document = Unreadable(f"not valid JSON: {error.msg}")
        yield source_object, str(number), text, document, file_date


def bounded_lines(handle: TextIO, max_chars: int) -> Iterator[tuple[str, bool]]:
    """(line, whether it is whole) of every line; a line longer than `max_chars` comes
    cut just past it, and the rest of it is skipped in blocks, never held."""
    while line := handle.readline(max_chars + 1):
        if len(line) <= max_chars or line.endswith("\n"):
            yield line, True
            continue
        while (rest := handle.readline(1 << 20)) and not rest.endswith("\n"):
            pass
        yield line, False


def _land_json_lines(writer, mapping, path, name, file_date, table, columns, checks) -> None:
    delivery: JsonLinesDelivery = mapping.delivery
    batch = writer.batch
    _require_complete(path, batch, "", 0)
    with _text_handle(path, delivery, batch) as handle:
        try:
            _land(
                writer,
                mapping,
                table,
                columns,
                checks,
                json_line_records(handle, name, file_date, mapping.limits.max_record_chars),
                "line is not a JSON object",
            )
        except UnicodeDecodeError as error:
            raise _decoding(path, delivery, batch, error) from None


def _land_workbook(writer, mapping, path, name, file_date, table, columns, checks) -> None:
    delivery: WorkbookDelivery = mapping.delivery
    try:
        header, rows = read_workbook(path, delivery.sheet, delivery.header_row)
    except UnreadableWorkbook as error:
        raise _fail(writer.batch, "readable", str(error)) from None
    _require_columns(mapping, header, name, writer.batch)

    def records() -> Iterator[Record]:
        for number, cells in rows:
            record = dict(zip(header, cells, strict=False))
            text = json.dumps(record, ensure_ascii=False)
            yield name, str(number), text, record, file_date

    try:
        _land(writer, mapping, table, columns, checks, records(), "row is not a record")
    except UnreadableWorkbook as error:
        raise _fail(writer.batch, "readable", str(error)) from None


def _land(writer, mapping, table, columns, checks, records, not_object: str) -> None:
    compiled = CompiledMapping(mapping, sorted(mapping.source_columns()), file_date="file_date")
    land_records(
        writer,
        table,
        columns,
        compiled,
        checks,
        records,
        not_object,
        day=writer.batch.batch_date if getattr(mapping.delivery, "day_column", None) else None,
        versioned=VERSIONED.get(table),
    )


_FILE_READERS = {
    "csv": _land_delimited,
    "jsonl": _land_json_lines,
    "xlsx": _land_workbook,
    "ods": _land_workbook,
}


# -- APIs and databases -------------------------------------------------------------------------


def api_client(base_url: str, delivery: ApiDelivery) -> RestClient:
    """The REST client of an endpoint, with the mapping's bounds on time and page size."""
    return RestClient(
        base_url,
        connect_timeout_seconds=delivery.connect_timeout_seconds,
        read_timeout_seconds=delivery.read_timeout_seconds,
        total_timeout_seconds=delivery.total_timeout_seconds,
        max_page_bytes=delivery.max_page_bytes,
        max_retry_after_seconds=delivery.max_retry_after_seconds,
    )


def api_pages(client: RestClient, batch: Batch, delivery: ApiDelivery, table: str = ""):
    """The pages of one endpoint for the batch: a snapshot whole, or what changed in the
    run's interval and the mapping's lookback days before it. A request that fails for
    good (after its retries) stops the run naming the source, batch, table and URL."""
    params = {}
    if delivery.since_param:
        since = batch.interval_start - timedelta(days=delivery.lookback_days)
        params = {
            delivery.since_param: since.isoformat(),
            delivery.before_param: batch.interval_end.isoformat(),
        }
    try:
        yield from client.pages(
            delivery.endpoint,
            params,
            page_param=delivery.page_param,
            page_size_param=delivery.page_size_param,
            page_size=delivery.page_size,
            next_page_key=delivery.next_page_key,
        )
    except ApiError as error:
        raise _fail(batch, error.rule, f"{table or delivery.endpoint}: {error}") from error


def page_records(writer: BatchWriter, pages, mapping: SourceMapping) -> Iterator[Record]:
    """(page, index in the page, text, record) of every record, each page registered in
    the manifest; a page without its data list, or whose records all lack a column the
    contract requires, stops the run (a renamed key would quarantine every record)."""
    delivery: ApiDelivery = mapping.delivery
    required = {
        c
        for f in mapping.contract
        if f.required and f.name in mapping.fields
        for c in mapping.fields[f.name].columns
    }
    for source_object, payload in pages:
        writer.register_object(source_object)
        records = payload.get(delivery.data_key) if isinstance(payload, dict) else None
        if not isinstance(records, list):
            raise _fail(
                writer.batch,
                "api_contract",
                f"{source_object}: response has no {delivery.data_key!r} list",
            )
        keys = {k for record in records if isinstance(record, dict) for k in record}
        missing = sorted(required - keys) if records else []
        if missing:
            raise _fail(
                writer.batch, "required_columns", f"{source_object}: no record has {missing}"
            )
        for index, document in enumerate(records):
            text = json.dumps(document, sort_keys=True, ensure_ascii=False)
            yield source_object, str(index), text, document, None


def changed_rows_query(delivery: SqlDelivery) -> str:
    """Rows changed in [?, ?); a child table follows its parent's changes. Names are
    identifiers validated by the mapping, so composing them is safe."""
    if delivery.parent is None:
        return (
            f"select * from {delivery.table} where {delivery.changed_at_column} >= :start"
            f" and {delivery.changed_at_column} < :end order by {delivery.key_column}"
        )
    parent = delivery.parent
    return (
        f"select child.* from {delivery.table} as child join {parent.table} as parent"
        f" on parent.{parent.key} = child.{parent.foreign_key}"
        f" where parent.{delivery.changed_at_column} >= :start"
        f" and parent.{delivery.changed_at_column} < :end"
        f" order by child.{delivery.key_column}"
    )


def _window(delivery: SqlDelivery, start: datetime, end: datetime) -> dict[str, str]:
    zone = ZoneInfo(delivery.changed_at_timezone)
    fmt = delivery.changed_at_format
    return {
        "start": start.astimezone(zone).strftime(fmt),
        "end": end.astimezone(zone).strftime(fmt),
    }


def database_name(database: str) -> str:
    """How a database appears in lineage: a file's name, a URL without its password."""
    if "://" not in database:
        return Path(database).name
    from sqlalchemy.engine import make_url

    return make_url(database).render_as_string(hide_password=True)


def changed_rows(database: str, delivery: SqlDelivery, batch: Batch):
    """(column names, rows) changed in the batch's interval, from a SQLite file (read-only)
    or any SQLAlchemy URL; a missing database or table stops the run with its name."""
    query = changed_rows_query(delivery)
    window = _window(delivery, batch.interval_start, batch.interval_end)
    where = f"{database_name(database)}:{delivery.table}"
    if "://" not in database:
        return _sqlite_rows(database, query, window, batch)
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = create_engine(database)
        with engine.connect() as db:
            result = db.execute(text(query), window)
            return list(result.keys()), [tuple(r) for r in result]
    except SQLAlchemyError as error:
        raise _fail(batch, "source_readable", f"{where}: {error}") from None


# A database another program is writing: wait this long for its lock, this many times.
SQLITE_BUSY_SECONDS, SQLITE_ATTEMPTS = 10.0, 3


def _sqlite_rows(database: str, query: str, window: dict, batch: Batch, pause=time.sleep):
    """The query's (column names, rows) from a SQLite file, read-only. A database locked
    by its writer is waited for and tried again, then reported as busy (transient: the
    task's retry reads it again); one that cannot be read names its file."""
    if not Path(database).is_file():
        raise _fail(batch, "source_reachable", f"no database at {database}")
    attempt = 0
    while True:
        attempt += 1
        try:
            return _sqlite_query(database, query, window)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise _unreadable(database, error, batch) from None
            if attempt == SQLITE_ATTEMPTS:
                raise _fail(
                    batch,
                    "source_busy",
                    f"{database} stayed locked by another program through {attempt} tries of"
                    f" {SQLITE_BUSY_SECONDS:g} s ({error}): a transient state; the task's"
                    " retry reads it again",
                ) from None
            log.warning("%s is locked (%s): trying again", database, error)
            pause(attempt * SQLITE_BUSY_SECONDS / 2)
        except sqlite3.DatabaseError as error:
            raise _unreadable(database, error, batch) from None


def _sqlite_query(database: str, query: str, window: dict):
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=SQLITE_BUSY_SECONDS)
    try:
        cursor = db.execute(
            query.replace(":start", "?").replace(":end", "?"), (window["start"], window["end"])
        )
        return [d[0] for d in cursor.description], cursor.fetchall()
    finally:
        db.close()


def _unreadable(database: str, error: Exception, batch: Batch) -> ContractError:
    return _fail(
        batch,
        "source_readable",
        f"{database} cannot be read ({error}): a damaged file, or one copied while it was"
        " being written?",
    )


def _row_records(source_object, names, rows, key_column) -> Iterator[Record]:
    key_at = names.index(key_column) if key_column in names else None
    for number, row in enumerate(rows, start=1):
        text = "|".join("" if v is None else str(v) for v in row)
        position = str(row[key_at]) if key_at is not None else str(number)
        yield source_object, position, text, dict(zip(names, row, strict=True)), None


def rows_fingerprint(rows) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


# -- one table's batch --------------------------------------------------------------------------


def land_table(
    writer: BatchWriter,
    mapping: SourceMapping,
    columns: tuple[str, ...],
    checks: list[Check],
    places: Places,
    held_to_day: bool = True,
) -> None:
    """Land the batch's records of one raw table from its delivery; `held_to_day` off
    lands rows of any day (a mapping check of a whole database)."""
    batch = writer.batch
    table = mapping.raw_table
    rule = day_rule(mapping, batch) if held_to_day else None
    checks = [*([rule] if rule else []), *checks]
    delivery = mapping.delivery
    if isinstance(delivery, ApiDelivery):
        if not places.api_url:
            raise _fail(batch, "source_reachable", f"no API URL for {batch.source_system}")
        pages = api_pages(api_client(places.api_url, delivery), batch, delivery, table)
        _land(
            writer,
            mapping,
            table,
            columns,
            checks,
            page_records(writer, pages, mapping),
            "record is not a JSON object",
        )
        return
    if isinstance(delivery, SqlDelivery):
        if not places.database:
            raise _fail(batch, "source_reachable", f"no database for {batch.source_system}")
        names, rows = changed_rows(places.database, delivery, batch)
        _require_columns(
            mapping, names, f"{database_name(places.database)}:{delivery.table}", batch
        )
        source_object = f"{database_name(places.database)}:{delivery.table}"
        writer.register_object(source_object, rows_fingerprint(rows))
        _land(
            writer,
            mapping,
            table,
            columns,
            checks,
            _row_records(source_object, names, rows, delivery.key_column),
            "row is not a record",
        )
        return
    found = delivered_files(mapping, places.landing_dir, batch)
    if not found:
        writer.register_object(batch.batch_date.strftime(delivery.file_pattern))

    def refuse(rule: str, detail: str) -> ContractError:
        return _fail(batch, rule, detail)

    for path, file_date in found:
        name = object_name(mapping, places, path)
        day = file_date or batch.batch_date
        # Read once: every read below is of the copy whose checksum the manifest keeps.
        with read_once(path, places.landing_dir, day, delivery.complete_when, refuse) as (
            copy,
            checksum,
            expected,
        ):
            writer.register_object(name, checksum)
            _FILE_READERS[delivery.format](
                writer, mapping, copy, name, file_date, table, columns, checks
            )
            require_row_count(name, writer.counts[name].rows_read, expected, refuse)


def fingerprints(mapping: SourceMapping, places: Places, batch: Batch) -> dict[str, str] | None:
    """{source object: checksum} of what the batch's day holds now (files: their sha256;
    a database: a hash of the rows its interval returns); None for an API, which widens its
    cursor instead."""
    delivery = mapping.delivery
    if isinstance(delivery, ApiDelivery):
        return None
    if isinstance(delivery, SqlDelivery):
        if not places.database:
            return {}
        _, rows = changed_rows(places.database, delivery, batch)
        return {f"{database_name(places.database)}:{delivery.table}": rows_fingerprint(rows)}
    try:
        found = delivered_files(mapping, places.landing_dir, batch)
    except ContractError:
        return {}
    return {object_name(mapping, places, path): file_checksum(path) for path, _ in found}


def object_name(mapping: SourceMapping, places: Places, path: Path) -> str:
    """A file in lineage: its name; a monthly file, its path in the landing folder (the
    month's folder tells the workbooks of different months apart)."""
    files = mapping.file_delivery
    if files is not None and files.period == "month":
        return path.relative_to(places.landing_dir).as_posix()
    return path.name
