"""Vendor mappings: how one vendor's export fills the canonical raw contract, as YAML.

A mapping names the delivery (file pattern per day, format, delimiter, encoding, the
column that holds the day when one file covers many days), the time zone, and for every
canonical field where its value comes from: one or more source columns or a constant,
the type and format, the values that mean "empty", a value map (answered / abandoned /
transferred codes), whether the field holds personal data, and for clock times without a
date, the column that gives the date and the field they cannot precede (a call that crosses
midnight). Row rules quarantine or flag rows by source values.

`load_mapping` validates a file and raises `MappingError` listing every mistake with its
place in the file; `RowParser` turns one source record into the contract's values.
See mappings/README.md for the reference and a worked example.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    model_validator,
)

from extractors.contracts import CONTRACTS, DEFAULT_TABLE, ContractField
from warehouse.landing import RowRejected

FieldType = Literal[
    "text", "integer", "number", "seconds", "duration", "boolean", "timestamp", "date"
]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
# Which mapping types can feed which contract kinds.
FEEDS = {
    "text": {"text"},
    "integer": {"integer"},
    "number": {"number", "integer"},
    "seconds": {"seconds", "duration"},
    "boolean": {"boolean"},
    "timestamp": {"timestamp"},
    "date": {"date"},
}
MIDNIGHT_SLACK = timedelta(hours=12)
ISO8601 = "iso8601"  # a timestamp format: ISO-8601 with its UTC offset
# The texts a number or an ISO-8601 value may have, the same for RowParser and for the
# set-based landing (extractors/mapping_sql.py applies them in PostgreSQL): ASCII digits
# only (Python's int() also reads "1_000" and other scripts' digits, PostgreSQL does not);
# for times, hours 00-23, seconds 00-59 and offsets within +-15:59, which both read alike
# (PostgreSQL takes 24:00 and a leap second 60, Python offsets up to +-23:59).
WHOLE_NUMBER = r"^[+-]?[0-9]+$"
DECIMAL_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ISO_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
ISO_TIME_WITH_OFFSET = (
    rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ]{_ISO_CLOCK}(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)$"
)
ISO_TIME_WITHOUT_OFFSET = rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}([T ]{_ISO_CLOCK})?$"
DEFAULT_TYPE = {
    "text": "text",
    "integer": "integer",
    "number": "number",
    "seconds": "seconds",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "date": "date",
}


class MappingError(ValueError):
    """A mapping that cannot be used; the message lists every problem found."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the mapping:\n{listing}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FieldSpec(_Strict):
    source: str | list[str] | None = Field(None, alias="from")
    join: str = "-"
    constant: str | int | bool | None = None
    type: FieldType | None = None
    format: str | None = None
    date_from: str | None = None
    date_format: str | None = None
    not_before: str | None = None
    null_values: list[str] = []
    values: dict[str, str | bool] | None = None
    personal_data: bool = False

    @model_validator(mode="after")
    def _one_origin(self) -> FieldSpec:
        if (self.source is None) == (self.constant is None):
            raise ValueError("give exactly one of 'from' (source columns) or 'constant'")
        return self

    @property
    def columns(self) -> list[str]:
        if self.source is None:
            return []
        return [self.source] if isinstance(self.source, str) else list(self.source)


class Condition(_Strict):
    column: str
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in"]
    value: str | int | float | list[str | int | float]


class Rule(_Strict):
    when: list[Condition] = Field(min_length=1)
    action: Literal["quarantine", "flag"]
    reason: str


class Delivery(_Strict):
    """A daily export file (CSV or JSON lines) in the landing folder."""

    file_pattern: str
    format: Literal["csv", "jsonl"] = "csv"
    delimiter: str = ","
    encoding: str = "utf-8"
    day_column: str | None = None
    day_format: str | None = None
    # Each run re-reads the files of this many earlier days and re-lands a day whose file
    # changed since it was landed (a late or corrected delivery).
    lookback_days: int = Field(0, ge=0, le=31)

    @model_validator(mode="after")
    def _day_column_has_format(self) -> Delivery:
        if (self.day_column is None) != (self.day_format is None):
            raise ValueError("day_column and day_format go together")
        return self


class SpreadsheetDelivery(_Strict):
    """Monthly workbooks (one per team per month). `file_pattern` is strftime of the
    month's first day and may hold a glob (`team_*.xlsx`). Each daily run reads the
    workbooks of its month and of `months_back` months before: inputs for a month arrive
    after it ends, before the monthly close."""

    format: Literal["xlsx"]
    file_pattern: str
    sheet: str | None = None
    months_back: int = Field(1, ge=0, le=12)


class ApiDelivery(_Strict):
    """A paginated JSON REST endpoint; with a cursor, only what changed in the run's interval."""

    format: Literal["rest_api"]
    endpoint: str
    data_key: str = "data"
    page_param: str = "page"
    page_size_param: str = "page_size"
    page_size: int = Field(500, ge=1, le=10_000)
    next_page_key: str = "next_page"
    since_param: str | None = None
    before_param: str | None = None
    # The cursor starts this many days before the run's interval: changes the source
    # recorded late are read again (the newest version of a record wins in staging).
    lookback_days: int = Field(0, ge=0, le=31)

    @model_validator(mode="after")
    def _cursor_pair(self) -> ApiDelivery:
        if (self.since_param is None) != (self.before_param is None):
            raise ValueError("since_param and before_param go together (the interval's two ends)")
        return self


class ParentTable(_Strict):
    """A child table read with its parent's changes (deduction items with their inspection)."""

    table: Identifier
    key: Identifier
    foreign_key: Identifier


class SqlDelivery(_Strict):
    """A table of the source's own SQL database, read incrementally by a change timestamp."""

    format: Literal["sqlite"]
    table: Identifier
    key_column: Identifier = "id"
    changed_at_column: Identifier
    changed_at_format: str = "%Y-%m-%d %H:%M:%S"
    changed_at_timezone: str = "UTC"
    parent: ParentTable | None = None
    # Each run re-reads the changes of this many earlier days and re-lands a day whose
    # rows differ from what was landed for it (records written late into the tool).
    lookback_days: int = Field(0, ge=0, le=31)


def _delivery_kind(value: Any) -> str:
    """Which delivery model a `delivery:` block is, by its format (files by default)."""
    fmt = value.get("format", "csv") if isinstance(value, dict) else getattr(value, "format", "csv")
    return {"rest_api": "api", "sqlite": "sql", "xlsx": "sheet"}.get(fmt, "file")


class SourceMapping(_Strict):
    source_system: Literal["call_center", "survey", "crm", "qa", "supervisor"]
    table: str | None = None
    vendor: str
    description: str = ""
    timezone: str
    delivery: Annotated[
        Annotated[Delivery, Tag("file")]
        | Annotated[ApiDelivery, Tag("api")]
        | Annotated[SqlDelivery, Tag("sql")]
        | Annotated[SpreadsheetDelivery, Tag("sheet")],
        Discriminator(_delivery_kind),
    ]
    fields: dict[str, FieldSpec]
    rules: list[Rule] = []

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def raw_table(self) -> str:
        return self.table or DEFAULT_TABLE.get(self.source_system, "")

    @property
    def contract(self) -> tuple[ContractField, ...]:
        return CONTRACTS[self.raw_table]

    def source_columns(self) -> set[str]:
        """Every source column the mapping reads."""
        columns = {c for spec in self.fields.values() for c in spec.columns}
        columns |= {spec.date_from for spec in self.fields.values() if spec.date_from}
        columns |= {c.column for rule in self.rules for c in rule.when}
        if isinstance(self.delivery, Delivery) and self.delivery.day_column:
            columns.add(self.delivery.day_column)
        return columns

    def missing_columns(self, header: list[str]) -> list[str]:
        return sorted(self.source_columns() - set(header))

    def personal_columns(self) -> set[str]:
        return {c for spec in self.fields.values() if spec.personal_data for c in spec.columns}


def _semantic_problems(mapping: SourceMapping) -> list[str]:
    problems = []
    table = mapping.raw_table
    if table not in CONTRACTS or not table.startswith(mapping.source_system):
        tables = [t for t in CONTRACTS if t.startswith(mapping.source_system)]
        return [
            f"table: {mapping.table!r} is not a raw table of {mapping.source_system}"
            f" (tables: {tables})"
        ]
    try:
        ZoneInfo(mapping.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"timezone: {mapping.timezone!r} is not an IANA time zone (e.g. Asia/Shanghai)"
        )
    contract = {f.name: f for f in mapping.contract}
    for name in mapping.fields:
        if name not in contract:
            problems.append(
                f"fields.{name}: not a field of the {mapping.raw_table} contract"
                f" (fields: {', '.join(contract)})"
            )
    for name, wanted in contract.items():
        spec = mapping.fields.get(name)
        if spec is None:
            if wanted.required:
                problems.append(f"fields.{name}: required by the contract but not mapped")
            continue
        kind = spec.type or DEFAULT_TYPE[wanted.kind]
        if kind not in FEEDS[wanted.kind]:
            problems.append(
                f"fields.{name}.type: {kind!r} cannot fill a {wanted.kind} field"
                f" (use one of {sorted(FEEDS[wanted.kind])})"
            )
        if wanted.kind in ("timestamp", "date") and spec.constant is None and not spec.format:
            problems.append(
                f"fields.{name}.format: a timestamp needs its strftime format (or iso8601)"
            )
        if spec.date_from and not spec.date_format:
            problems.append(
                f"fields.{name}.date_format: date_from needs the date's strftime format"
            )
        if wanted.kind == "boolean" and spec.constant is None and not spec.values:
            problems.append(f"fields.{name}.values: say which source values mean true and false")
        if wanted.personal_data and not spec.personal_data:
            problems.append(
                f"fields.{name}.personal_data: this field holds personal data; mark it"
                " 'personal_data: true' so it is hashed downstream and masked in checks"
            )
        if spec.not_before is not None:
            other = contract.get(spec.not_before)
            if other is None or other.kind != "timestamp" or spec.not_before not in mapping.fields:
                problems.append(
                    f"fields.{name}.not_before: {spec.not_before!r} is not a mapped timestamp field"
                )
    return problems


def load_mapping(path: Path | str) -> SourceMapping:
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MappingError(str(path), [f"not valid YAML: {error}"]) from None
    if not isinstance(document, dict):
        raise MappingError(str(path), ["the file must hold a mapping (key: value) at the top"])
    try:
        mapping = SourceMapping.model_validate(document)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            + (f" (got {e['input']!r})" if e["type"] in {"literal_error", "string_type"} else "")
            for e in error.errors()
        ]
        raise MappingError(str(path), problems) from None
    problems = _semantic_problems(mapping)
    if problems:
        raise MappingError(str(path), problems)
    return mapping


# ---------------------------------------------------------------------------------------------
# Parsing one record with a mapping


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
        # Fields others must not precede are parsed first.
        anchors = {spec.not_before for spec in self.mapping.fields.values() if spec.not_before}
        self._order = sorted(contract, key=lambda f: f.name not in anchors)
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

    def parse(self, record: Mapping[str, str]) -> tuple[tuple, list[str]]:
        """(values in contract order, quality flags); raises RowRejected with the reason."""
        flags = []
        for rule in self.mapping.rules:
            if all(_holds(c, record) for c in rule.when):
                if rule.action == "quarantine":
                    raise RowRejected(rule.reason)
                flags.append(rule.reason)
        values: list[Any] = [None] * len(self._positions)
        parsed: dict[str, Any] = {}
        for contract_field in self._order:
            spec = self.mapping.fields.get(contract_field.name)
            value = None if spec is None else self._value(contract_field, spec, record, parsed)
            if value is None and contract_field.required:
                raise RowRejected(
                    f"{self._label(contract_field.name, spec)}: required value is missing"
                )
            parsed[contract_field.name] = value
            values[self._positions[contract_field.name]] = value
        return tuple(values), flags

    def _label(self, name: str, spec: FieldSpec | None) -> str:
        return "+".join(spec.columns) if spec and spec.columns else name

    def _value(
        self, target: ContractField, spec: FieldSpec, record: Mapping[str, str], parsed: dict
    ):
        label = self._label(target.name, spec)
        if spec.constant is not None:
            return spec.constant
        parts = [(record.get(c) or "").strip() for c in spec.columns]
        if any(p == "" or p in spec.null_values for p in parts):
            return None
        text = spec.join.join(parts)
        if spec.values is not None:
            if text not in spec.values:
                raise RowRejected(f"{label}: {text!r} is not one of {sorted(spec.values)}")
            mapped = spec.values[text]
            if target.kind == "boolean":
                return bool(mapped)
            text = str(mapped)
        kind = spec.type or DEFAULT_TYPE[target.kind]
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
        return self._timestamp(label, spec, text, record, parsed)

    def _timestamp(self, label, spec: FieldSpec, text: str, record, parsed) -> datetime:
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
            else:
                moment = datetime.strptime(text, spec.format)
        except ValueError:
            raise RowRejected(f"{label}: {text!r} does not match {spec.format}") from None
        moment = moment.replace(tzinfo=moment.tzinfo or self.mapping.tz)
        anchor = parsed.get(spec.not_before) if spec.not_before else None
        if anchor is not None and spec.date_from and moment < anchor - MIDNIGHT_SLACK:
            # Hours earlier than its anchor on the same date: the contact crossed midnight.
            # (A few seconds earlier is clock skew between systems, not a new day.)
            moment += timedelta(days=1)
        return moment
