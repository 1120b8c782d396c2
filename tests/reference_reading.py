"""An independent reading of a mapping in Python, record by record: the reference the tests
compare the landing's compiled SQL with. Production never uses it.

`RowParser` turns one source record (column -> text) into the contract's values, or
rejects it with the reason; the per-source readers below cut a delivery into records as
the landing did before it was set-based (lines of a delimited file, JSON lines, API pages,
database rows, workbook rows) and apply each source's contract rules in Python, the twins
of the SQL rules in extractors/<source>/rules.py. `land_rows` writes such rows into the
raw schema record by record (the benchmark's "before").

This is the record-at-a-time reading the project shipped until the landing became one
compiled reading (git history: extractors/mapping.py, extractors/<source>/parse.py,
warehouse/landing.py), adapted to the mapping vocabulary added since (first_of, file_date,
date_from_file, derive, null_when, integral_decimals, the matches operators and the skip
action).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from extractors.contracts import CALL_CENTER, CONTRACTS, SUPERVISOR_INPUTS, SURVEY, ContractField
from extractors.mapping import (
    DECIMAL_NUMBER,
    DEFAULT_TYPE,
    INTEGRAL_DECIMAL,
    ISO8601,
    ISO_DATE,
    ISO_TIME_WITH_OFFSET,
    ISO_TIME_WITHOUT_OFFSET,
    MIDNIGHT_SLACK,
    WHOLE_NUMBER,
    Condition,
    FieldSpec,
    SourceMapping,
)

# -- rows ---------------------------------------------------------------------------------------


class RowRejected(ValueError):
    """A row that cannot land; its message is the quarantine reason."""


class RowSkipped(ValueError):
    """A line that is no record of the source (a skip rule holds); its message is the rule's
    reason."""


def quarantine_rule(reason: str) -> str:
    """The rule a quarantined row broke, as a stable name to count by: the field (or the
    mapping rule) its reason names, e.g. 'csat_score: 7 is outside 1..5' -> 'csat_score'."""
    head = reason.split(":", 1)[0] if ":" in reason else reason
    return re.sub(r"[^a-z0-9]+", "_", head.strip().lower()).strip("_")[:80] or "unparseable"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One record as read from a source object, parsed (values) or rejected (reason), or
    skipped (no record of the source)."""

    source_object: str
    position: str
    raw_text: str
    values: tuple | None = None
    reason: str | None = None
    skipped: bool = False


def content_hash(raw_text: str) -> str:
    return hashlib.md5(raw_text.encode("utf-8"), usedforsecurity=False).hexdigest()


# -- one record ---------------------------------------------------------------------------------


def json_text(value: Any) -> str:
    """A JSON value as the text a mapping reads: null is empty, lists comma-joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(sorted(str(v) for v in value))
    return str(value)


def json_record(document: dict) -> dict[str, str]:
    """A JSON object as the text record a mapping reads."""
    return {key: json_text(value) for key, value in document.items()}


def _number(text: str) -> float:
    return float(text) if any(c in text for c in ".eE") else int(text)


def _holds(condition: Condition, record: Mapping[str, str]) -> bool:
    raw = (record.get(condition.column) or "").strip()
    wanted = condition.value
    if condition.op in ("matches", "not matches"):
        return (re.search(str(wanted), raw) is not None) == (condition.op == "matches")
    if condition.op in ("in", "not in"):
        options = {str(v) for v in (wanted if isinstance(wanted, list) else [wanted])}
        return (raw in options) == (condition.op == "in")
    if isinstance(wanted, int | float):
        try:
            value: Any = _number(raw)
        except ValueError:
            return False
    else:
        value = raw
    return {
        "=": value == wanted,
        "!=": value != wanted,
        "<": value < wanted,
        "<=": value <= wanted,
        ">": value > wanted,
        ">=": value >= wanted,
    }[condition.op]


def _duration_seconds(label: str, text: str) -> int:
    parts = text.split(":")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise RowRejected(f"{label}: {text!r} is not a duration H:MM:SS") from None
    seconds = 0
    for number in numbers:
        seconds = seconds * 60 + number
    if len(parts) > 3 or any(n < 0 for n in numbers):
        raise RowRejected(f"{label}: {text!r} is not a duration H:MM:SS")
    return seconds


@dataclass
class RowParser:
    """Turns a record (source column -> text) into contract values, or rejects it."""

    mapping: SourceMapping
    _order: list[ContractField] = field(init=False)

    def __post_init__(self) -> None:
        contract = list(self.mapping.contract)
        fields = self.mapping.fields
        # Fields others must not precede are parsed first, derived ones last (after the
        # fields they are computed from).
        anchors = {spec.not_before for spec in fields.values() if spec.not_before}
        derived = {name for name, spec in fields.items() if spec.derive is not None}
        self._order = sorted(contract, key=lambda f: (f.name in derived, f.name not in anchors))
        self._positions = {f.name: i for i, f in enumerate(contract)}

    def day_of(self, record: Mapping[str, str]) -> date:
        """The business day a row of a multi-day file belongs to."""
        delivery = self.mapping.delivery
        text = (record.get(delivery.day_column) or "").strip()
        try:
            return datetime.strptime(text, delivery.day_format).date()
        except ValueError:
            raise RowRejected(
                f"{delivery.day_column}: {text!r} does not match {delivery.day_format}"
            ) from None

    def parse(
        self, record: Mapping[str, str], file_date: date | None = None
    ) -> tuple[tuple, list[str]]:
        """(values in contract order, quality flags); raises RowRejected with the reason,
        or RowSkipped when a skip rule holds. `file_date` is the date the record's file
        name holds (file_date, date_from_file)."""
        for rule in self.mapping.rules:
            if rule.action == "skip" and all(_holds(c, record) for c in rule.when):
                raise RowSkipped(rule.reason)
        flags = []
        for rule in self.mapping.rules:
            if rule.action != "skip" and all(_holds(c, record) for c in rule.when):
                if rule.action == "quarantine":
                    raise RowRejected(rule.reason)
                flags.append(rule.reason)
        values: list[Any] = [None] * len(self._positions)
        parsed: dict[str, Any] = {}
        for contract_field in self._order:
            spec = self.mapping.fields.get(contract_field.name)
            value = (
                None
                if spec is None
                else self._value(contract_field, spec, record, parsed, file_date)
            )
            if value is None and contract_field.required and spec is not None and spec.reads_text:
                raise RowRejected(
                    f"{self._label(contract_field.name, spec)}: required value is missing"
                )
            parsed[contract_field.name] = value
            values[self._positions[contract_field.name]] = value
        return tuple(values), flags

    def _label(self, name: str, spec: FieldSpec | None) -> str:
        return "+".join(spec.columns) if spec and spec.columns else name

    def _text(self, spec: FieldSpec, record: Mapping[str, str]) -> str | None:
        """The field's source text: stripped, joined or the first non-empty; None when
        empty, a null value, or blanked by null_when."""
        empty = {"", *spec.null_values}
        parts = [(record.get(c) or "").strip() for c in spec.columns]
        if spec.first_of is not None:
            text = next((p for p in parts if p not in empty), None)
        elif any(p in empty for p in parts):
            text = None
        else:
            text = spec.join.join(parts)
        if spec.null_when and all(_holds(c, record) for c in spec.null_when):
            return None
        return text

    def _value(
        self,
        target: ContractField,
        spec: FieldSpec,
        record: Mapping[str, str],
        parsed: dict,
        file_date: date | None,
    ):
        label = self._label(target.name, spec)
        if spec.constant is not None:
            return spec.constant
        if spec.file_date:
            return file_date
        if spec.derive is not None:
            base, offset = parsed.get(spec.derive.base), parsed.get(spec.derive.offset)
            if base is None or offset is None:
                return None
            seconds = timedelta(seconds=offset)
            return base + seconds if spec.derive.plus_seconds else base - seconds
        text = self._text(spec, record)
        if text is None:
            return None
        kind = spec.type or DEFAULT_TYPE[target.kind]
        if spec.integral_decimals and re.fullmatch(INTEGRAL_DECIMAL, text):
            text = text.split(".", 1)[0]  # "53.0" is the whole number 53
        if spec.values is not None:
            if text not in spec.values:
                raise RowRejected(f"{label}: {text!r} is not one of {sorted(spec.values)}")
            mapped = spec.values[text]
            if target.kind == "boolean":
                return bool(mapped)
            text = str(mapped)
        if kind == "text":
            return text
        if kind in ("integer", "seconds"):
            if not re.fullmatch(WHOLE_NUMBER, text):
                raise RowRejected(f"{label}: {text!r} is not a whole number")
            number = int(text)
            if not -(2**31) <= number < 2**31:  # the raw column is a PostgreSQL integer
                raise RowRejected(f"{label}: {text} is out of range")
            if kind == "seconds" and number < 0:
                raise RowRejected(f"{label}: {number} seconds is negative")
            return number
        if kind == "number":
            if not re.fullmatch(DECIMAL_NUMBER, text):
                raise RowRejected(f"{label}: {text!r} is not a number")
            return Decimal(text)
        if kind == "duration":
            return _duration_seconds(label, text)
        if kind == "boolean":
            raise RowRejected(f"{label}: {text!r} has no boolean meaning in the mapping")
        if kind == "date":
            try:
                if spec.format == ISO8601:
                    if not re.fullmatch(ISO_DATE, text):
                        raise ValueError(text)
                    return date.fromisoformat(text)
                return datetime.strptime(text, spec.format).date()
            except ValueError:
                raise RowRejected(f"{label}: {text!r} is not a date like {spec.format}") from None
        return self._timestamp(label, spec, text, record, parsed, file_date)

    def _timestamp(
        self, label, spec: FieldSpec, text: str, record, parsed, file_date: date | None
    ) -> datetime:
        if spec.format == ISO8601:
            for pattern in (ISO_TIME_WITH_OFFSET, ISO_TIME_WITHOUT_OFFSET):
                if re.fullmatch(pattern, text):
                    try:
                        moment = datetime.fromisoformat(text)
                    except ValueError:
                        break  # no such day (2026-02-30)
                    if moment.tzinfo is None:
                        # An ISO time without its offset is ambiguous: refused, not guessed.
                        raise RowRejected(f"{label}: {text!r} has no time zone offset")
                    return moment
            raise RowRejected(f"{label}: {text!r} is not an ISO-8601 time")
        try:
            if spec.date_from:
                clock: time = datetime.strptime(text, spec.format).time()
                day_text = (record.get(spec.date_from) or "").strip()
                day = datetime.strptime(day_text, spec.date_format).date()
                moment = datetime.combine(day, clock)
            elif spec.date_from_file:
                clock = datetime.strptime(text, spec.format).time()
                if file_date is None:
                    raise ValueError("no file date")
                moment = datetime.combine(file_date, clock)
            else:
                moment = datetime.strptime(text, spec.format)
        except ValueError:
            raise RowRejected(f"{label}: {text!r} does not match {spec.format}") from None
        moment = moment.replace(tzinfo=moment.tzinfo or self.mapping.tz)
        anchor = parsed.get(spec.not_before) if spec.not_before else None
        dated = spec.date_from or spec.date_from_file
        if anchor is not None and dated and moment < anchor - MIDNIGHT_SLACK:
            # Hours earlier than its anchor on the same date: the contact crossed midnight.
            # (A few seconds earlier is clock skew between systems, not a new day.)
            moment += timedelta(days=1)
        return moment


def _read(
    source_object: str,
    position: str,
    text: str,
    parse: Callable[[], tuple[tuple, list[str]]],
    check: Callable[[tuple], None],
    flagged: bool = False,
) -> SourceRow:
    """One record's row: its values (with its flags when `flagged`), its reason, or skipped."""
    try:
        values, flags = parse()
        check(values)
    except RowSkipped:
        return SourceRow(source_object, position, text, skipped=True)
    except RowRejected as rejected:
        return SourceRow(source_object, position, text, reason=str(rejected))
    if flagged:
        values = (*values, ",".join(flags) or None)
    return SourceRow(source_object, position, text, values=values)


# -- call center: delimited lines -----------------------------------------------------------------

CALL_CENTER_COLUMNS = (*(f.name for f in CALL_CENTER), "quality_flags")
_CONTACT_AT = {f.name: i for i, f in enumerate(CALL_CENTER)}


class UnassignableRow(ValueError):
    """A row of a multi-day file whose day cannot be read: no batch can own it."""


def check_contact(values: tuple) -> None:
    """Rules every contact keeps, whatever the vendor."""
    at = _CONTACT_AT
    abandoned = values[at["is_abandoned"]]
    offered, answered = values[at["offered_at"]], values[at["answered_at"]]
    if not abandoned and values[at["agent_id"]] is None:
        raise RowRejected("an answered contact needs an agent: none given")
    if not abandoned and answered is None:
        raise RowRejected("an answered contact needs an answer time: none given")
    if values[at["channel"]] not in ("phone", "chat"):
        raise RowRejected(f"channel {values[at['channel']]!r} is not phone or chat")
    ended = values[at["ended_at"]]
    if answered is not None and ended is not None and ended < answered:
        raise RowRejected("the contact ended before it was answered")
    if answered is not None and answered < offered:
        raise RowRejected("answered before it was offered")


def split_line(text: str, delimiter: str) -> list[str]:
    return next(csv.reader([text], delimiter=delimiter))


def call_center_lines(
    lines: Iterable[str],
    header: list[str],
    source_object: str,
    parser: RowParser,
    day: date | None = None,
    first_line: int = 2,
    file_date: date | None = None,
) -> Iterator[SourceRow]:
    """Parse data lines one by one, keeping each line's raw text for lineage and quarantine.

    With `day`, the file covers many days and only that day's rows are read (the mapping's
    day column says which); the others belong to other batches.
    """
    delimiter = parser.mapping.delivery.delimiter
    for number, line in enumerate(lines, start=first_line):
        text = line.rstrip("\r\n")
        if not text:
            continue
        fields = split_line(text, delimiter)
        position = str(number)
        if len(fields) != len(header):
            if day is not None:
                raise UnassignableRow(
                    f"line {number}: {len(fields)} fields, the header has {len(header)}"
                )
            yield SourceRow(
                source_object,
                position,
                text,
                reason=f"expected {len(header)} fields, found {len(fields)}",
            )
            continue
        record = dict(zip(header, fields, strict=True))
        if day is not None:
            try:
                if parser.day_of(record) != day:
                    continue
            except RowRejected as rejected:
                raise UnassignableRow(f"line {number}: {rejected}") from None
        yield _read(
            source_object,
            position,
            text,
            lambda record=record: parser.parse(record, file_date),
            check_contact,
            flagged=True,
        )


# -- survey: JSON lines ---------------------------------------------------------------------------

SURVEY_COLUMNS = tuple(f.name for f in SURVEY)
_SURVEY_AT = {name: i for i, name in enumerate(SURVEY_COLUMNS)}
SURVEY_CHANNELS = frozenset({"phone", "chat", "email"})
NOT_AN_OBJECT = "line is not a JSON object"


def check_response(values: tuple) -> None:
    csat, nps = values[_SURVEY_AT["csat_score"]], values[_SURVEY_AT["nps_score"]]
    if csat is not None and not 1 <= csat <= 5:
        raise RowRejected(f"csat_score: {csat} is outside 1..5")
    if nps is not None and not 0 <= nps <= 10:
        raise RowRejected(f"nps_score: {nps} is outside 0..10")
    if values[_SURVEY_AT["channel"]] not in SURVEY_CHANNELS:
        raise RowRejected(
            f"channel {values[_SURVEY_AT['channel']]!r} is not one of {sorted(SURVEY_CHANNELS)}"
        )
    responded, contact = values[_SURVEY_AT["responded_at"]], values[_SURVEY_AT["contact_at"]]
    if responded is not None and responded < contact:
        raise RowRejected("responded before the contact began")


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A line that is no JSON value at all; the reason is its quarantine reason."""

    reason: str


def line_records(
    lines: Iterable[str], source_object: str
) -> Iterator[tuple[str, str, str, object]]:
    """(file, line number, line, its JSON) of every line that is not blank."""
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            document: object = json.loads(text)
        except json.JSONDecodeError as error:
            document = Unreadable(f"not valid JSON: {error.msg}")
        yield source_object, str(number), text, document


def _json_parse(parser: RowParser, document: object, not_object: str, file_date=None):
    def parse() -> tuple[tuple, list[str]]:
        if isinstance(document, Unreadable):
            raise RowRejected(document.reason)
        if not isinstance(document, dict):
            raise RowRejected(not_object)
        return parser.parse(json_record(document), file_date)

    return parse


def survey_lines(
    lines: Iterable[str], source_object: str, parser: RowParser, file_date: date | None = None
) -> Iterator[SourceRow]:
    """The lines one by one (`extractors/survey/rules.py` is the SQL twin of the checks)."""
    for _, position, text, document in line_records(lines, source_object):
        parse = _json_parse(parser, document, NOT_AN_OBJECT, file_date)
        yield _read(source_object, position, text, parse, check_response)


# -- CRM: API pages -------------------------------------------------------------------------------

CRM_TABLES = (
    "crm_teams",
    "crm_agents",
    "crm_team_assignments",
    "crm_tickets",
    "crm_ticket_events",
)
CRM_COLUMNS = {table: tuple(f.name for f in CONTRACTS[table]) for table in CRM_TABLES}
TICKET_CHANNELS = frozenset({"phone", "chat", "email"})
TICKET_STATUSES = frozenset({"open", "responded", "resolved", "closed"})
TICKET_EVENT_TYPES = frozenset({"data_correction", "routing_correction", "reassignment"})


def check_ticket(values: tuple) -> None:
    row = dict(zip(CRM_COLUMNS["crm_tickets"], values, strict=True))
    if row["channel"] not in TICKET_CHANNELS:
        raise RowRejected(f"channel: {row['channel']!r} is not one of {sorted(TICKET_CHANNELS)}")
    if row["status"] not in TICKET_STATUSES:
        raise RowRejected(f"status: {row['status']!r} is not one of {sorted(TICKET_STATUSES)}")
    if row["resolved_at"] is not None and row["resolved_at"] < row["created_at"]:
        raise RowRejected("resolved_at: resolved before it was created")


def check_assignment(values: tuple) -> None:
    row = dict(zip(CRM_COLUMNS["crm_team_assignments"], values, strict=True))
    if row["valid_to"] is not None and row["valid_to"] < row["valid_from"]:
        raise RowRejected("valid_to: the assignment ends before it starts")


def check_event(values: tuple) -> None:
    row = dict(zip(CRM_COLUMNS["crm_ticket_events"], values, strict=True))
    if row["event_type"] not in TICKET_EVENT_TYPES:
        raise RowRejected(
            f"event_type: {row['event_type']!r} is not one of {sorted(TICKET_EVENT_TYPES)}"
        )


def _no_rule(values: tuple) -> None:
    """Rows that keep only the contract's required fields."""


CHECKS: dict[str, Callable[[tuple], None]] = {
    "crm_teams": _no_rule,
    "crm_agents": _no_rule,
    "crm_team_assignments": check_assignment,
    "crm_tickets": check_ticket,
    "crm_ticket_events": check_event,
}


def record_text(document: object) -> str:
    """A record's text for lineage and its content hash: its JSON with sorted keys."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


def page_records(pages: Iterable[tuple[str, list]]) -> Iterator[tuple[str, str, str, object]]:
    """(page, index in the page, text, record) of every record."""
    for source_object, records in pages:
        for index, document in enumerate(records):
            yield source_object, str(index), record_text(document), document


def page_rows(
    source_object: str, payload: dict, parser: RowParser, data_key: str = "data"
) -> Iterator[SourceRow]:
    """A page's records one by one (`extractors/crm/rules.py` is the SQL twin of the checks)."""
    data = payload.get(data_key)
    if not isinstance(data, list):
        raise ValueError(f"{source_object}: response has no {data_key!r} list")
    check = CHECKS[parser.mapping.raw_table]
    for _, position, text, document in page_records([(source_object, data)]):
        parse = _json_parse(parser, document, "record is not a JSON object")
        yield _read(source_object, position, text, parse, check)


# -- QA: database rows ----------------------------------------------------------------------------

QA_TABLES = ("qa_inspections", "qa_deductions", "qa_rectifications")
QA_COLUMNS = {table: tuple(f.name for f in CONTRACTS[table]) for table in QA_TABLES}
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
    return dict(zip(QA_COLUMNS[table], values, strict=True))


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


QA_CHECKS: dict[str, Callable[[tuple], None]] = {
    "qa_inspections": check_inspection,
    "qa_deductions": check_deduction,
    "qa_rectifications": check_rectification,
}


def table_rows(
    source_object: str, records: Iterable[dict], parser: RowParser, key_column: str
) -> Iterator[SourceRow]:
    """Rows keyed by their primary key, the position of a table row."""
    check = QA_CHECKS[parser.mapping.raw_table]
    for record in records:
        text = "|".join("" if v is None else str(v) for v in record.values())
        position = str(record.get(key_column))
        texts = {k: "" if v is None else str(v) for k, v in record.items()}
        yield _read(source_object, position, text, lambda t=texts: parser.parse(t), check)


# -- supervisor: workbook rows --------------------------------------------------------------------

SUPERVISOR_COLUMNS = tuple(f.name for f in SUPERVISOR_INPUTS)


class UnreadableWorkbook(ValueError):
    pass


def check_input(values: tuple) -> None:
    row = dict(zip(SUPERVISOR_COLUMNS, values, strict=True))
    if row["month"].day != 1:
        raise RowRejected(f"month: {row['month']} is not the first day of a month")
    rating = row["teamwork_rating"]
    if rating is not None and not 1 <= rating <= 5:
        raise RowRejected(f"teamwork_rating: {rating} is outside 1..5")
    exam = row["exam_score"]
    if exam is not None and not 0 <= exam <= 100:
        raise RowRejected(f"exam_score: {exam} is outside 0..100")
    for name in SUPERVISOR_COLUMNS:
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
    header: list[str],
    rows: Iterator[tuple[int, list]],
    source_object: str,
    parser: RowParser,
    file_date: date | None = None,
) -> Iterator[SourceRow]:
    for number, cells in rows:
        texts = [_text(c) for c in cells]
        if not any(texts):
            continue
        record = dict(zip(header, texts, strict=False))
        raw_text = json.dumps(record, ensure_ascii=False)
        yield _read(
            source_object,
            str(number),
            raw_text,
            lambda record=record: parser.parse(record, file_date),
            check_input,
        )


# -- landing the rows record by record ------------------------------------------------------------


def land_rows(writer, table: str, columns: Sequence[str], rows: Iterable[SourceRow]) -> None:
    """COPY the reference's rows into raw.<table> through an open
    `warehouse.landing.BatchWriter` (its counts become the manifest), the rejected ones into
    raw.quarantine: the record-by-record landing the set-based one replaced."""
    from psycopg import sql

    from warehouse.landing import LINEAGE_COLUMNS, ObjectCounts

    batch = writer.batch
    copy_sql = sql.SQL("copy raw.{} ({}) from stdin").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, (*columns, *LINEAGE_COLUMNS))),
    )
    quarantine = []
    writer.table_rows.setdefault(table, 0)
    with writer.conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for row in rows:
            counts = writer.counts.setdefault(row.source_object, ObjectCounts())
            counts.rows_read += 1
            if row.skipped:
                counts.rows_skipped += 1
                continue
            if row.values is None:
                counts.rows_quarantined += 1
                quarantine.append(
                    (
                        batch.source_system,
                        row.source_object,
                        row.position,
                        batch.batch_id,
                        batch.batch_date,
                        quarantine_rule(row.reason),
                        row.reason,
                        row.raw_text,
                        batch.extracted_at,
                        table,
                    )
                )
                continue
            counts.rows_loaded += 1
            writer.table_rows[table] += 1
            copy.write_row(
                (
                    *row.values,
                    batch.source_system,
                    row.source_object,
                    row.position,
                    batch.batch_id,
                    batch.batch_date,
                    batch.extracted_at,
                    content_hash(row.raw_text),
                )
            )
    if quarantine:
        with (
            writer.conn.cursor() as cur,
            cur.copy(
                "copy raw.quarantine (source_system, source_object, source_position, batch_id,"
                " batch_date, rule, reason, raw_text, extracted_at, raw_table) from stdin"
            ) as copy,
        ):
            for record in quarantine:
                copy.write_row(record)


# -- the landing's rows, to compare with the reference's ------------------------------------------


def landed_rows(
    conn,
    table: str,
    columns: Sequence[str],
    timezone: str,
    texts: Mapping[tuple[str, str], str] | None = None,
) -> list[SourceRow]:
    """What a landing wrote for `table`, as the reference's rows, ordered by source object
    and position: each row of raw.<table> with its values (times read in `timezone`), each
    row of raw.quarantine with its reason and raw text. The warehouse keeps only the hash
    of a landed record's text: with `texts` ((object, position) -> the delivered text) a
    landed row gets its text, checked against that hash; without, the hash stands for it."""
    conn.execute("select set_config('TimeZone', %s, false)", (timezone,))
    listed = ", ".join(f'"{c}"' for c in columns)
    rows = []
    for source_object, position, digest, *values in conn.execute(
        f"select source_object, source_position, content_hash, {listed} from raw.{table}"
    ):
        text = digest
        if texts is not None:
            text = texts[(source_object, position)]
            assert content_hash(text) == digest, (source_object, position, text)
        rows.append(SourceRow(source_object, position, text, values=tuple(values)))
    for source_object, position, reason, raw_text in conn.execute(
        "select source_object, source_position, reason, raw_text from raw.quarantine"
    ):
        rows.append(SourceRow(source_object, position, raw_text, reason=reason))
    return sorted(rows, key=_place)


def _place(row: SourceRow) -> tuple:
    position = row.position
    return (row.source_object, (0, int(position), "") if position.isdigit() else (1, 0, position))


def kept_rows(rows: Iterable[SourceRow]) -> list[SourceRow]:
    """The reference's rows a landing keeps (landed or quarantined, not skipped), in the
    order of `landed_rows`."""
    return sorted((r for r in rows if not r.skipped), key=_place)
