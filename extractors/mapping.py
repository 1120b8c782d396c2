"""Vendor mappings: how one vendor's export fills one canonical raw table, as YAML.

A mapping names the delivery (its kind, and for files the name pattern, the column that
holds the day when one file covers many days, the sheet of a workbook, ...), the time zone
of clock times, and for every contract field where its value comes from: source columns
(joined, or the first non-empty of several), a constant, the date of the file, or a
value derived from other fields; its type and format, the values that mean "empty", a
value map, a condition that blanks it, and whether it is personal data. Row rules
quarantine, flag or skip rows by source values.

`load_mapping` validates a file and raises `MappingError` listing every mistake with its
place and what is accepted there. A mapping that loads is one the landing can read: the
compiled SQL (extractors/mapping_sql.py) is the only reading of it.
See mappings/README.md for the reference.
"""

from __future__ import annotations

import re
from datetime import timedelta
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

from extractors import rest_client
from extractors.contracts import CONTRACTS, DAY_FIELDS, DEFAULT_TABLE, ContractField
from extractors.strftime import UnreadableFormat, compile_strftime

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
# The texts a number or an ISO-8601 value may have: ASCII digits only; for times, hours
# 00-23, seconds 00-59 and offsets within +-15:59 (PostgreSQL alone would take 24:00 and a
# leap second).
WHOLE_NUMBER = r"^[+-]?[0-9]+$"
INTEGRAL_DECIMAL = r"^[+-]?[0-9]+(\.0*)?$"
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


class Condition(_Strict):
    column: str
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in", "matches", "not matches"]
    value: str | int | float | list[str | int | float]

    @model_validator(mode="after")
    def _pattern_compiles(self) -> Condition:
        if self.op in ("matches", "not matches"):
            if not isinstance(self.value, str):
                raise ValueError(f"'{self.op}' needs a regular expression as its value")
            try:
                re.compile(self.value)
            except re.error as error:
                raise ValueError(f"{self.value!r} is not a regular expression: {error}") from None
        return self


class Derivation(_Strict):
    """A timestamp computed from two other mapped fields: `base` plus (or minus) a number
    of seconds (answer time = call time + speed of answer)."""

    base: str
    plus_seconds: str | None = None
    minus_seconds: str | None = None

    @model_validator(mode="after")
    def _one_offset(self) -> Derivation:
        if (self.plus_seconds is None) == (self.minus_seconds is None):
            raise ValueError("give exactly one of plus_seconds or minus_seconds")
        return self

    @property
    def offset(self) -> str:
        return self.plus_seconds or self.minus_seconds or ""


class FieldSpec(_Strict):
    source: str | list[str] | None = Field(None, alias="from")
    join: str = "-"
    first_of: list[str] | None = None  # the first of these columns that is not empty
    constant: str | int | bool | None = None
    file_date: bool = False  # the date the file's name holds (its day, or month)
    derive: Derivation | None = None
    type: FieldType | None = None
    format: str | None = None
    date_from: str | None = None
    date_format: str | None = None
    date_from_file: bool = False  # a clock time on the date the file's name holds
    not_before: str | None = None
    null_values: list[str] = []
    null_when: list[Condition] = []  # all hold: the field is empty (not known yet)
    values: dict[str, str | bool] | None = None
    integral_decimals: bool = False  # "53.0" reads as the whole number 53
    personal_data: bool = False

    @model_validator(mode="after")
    def _one_origin(self) -> FieldSpec:
        origins = [
            self.source is not None,
            self.first_of is not None,
            self.constant is not None,
            self.file_date,
            self.derive is not None,
        ]
        if sum(origins) != 1:
            raise ValueError(
                "give exactly one origin: 'from' (source columns), 'first_of' (the first"
                " non-empty of several columns), 'constant', 'file_date: true' or 'derive'"
            )
        if self.date_from and self.date_from_file:
            raise ValueError("give one of date_from (a column) or date_from_file, not both")
        return self

    @property
    def columns(self) -> list[str]:
        if self.first_of is not None:
            return list(self.first_of)
        if self.source is None:
            return []
        return [self.source] if isinstance(self.source, str) else list(self.source)

    @property
    def reads_text(self) -> bool:
        """Whether the value comes from source columns (and so can be unreadable)."""
        return bool(self.columns)


class Rule(_Strict):
    when: list[Condition] = Field(min_length=1)
    # quarantine: an error, kept with its reason; flag: lands with the reason in
    # quality_flags; skip: a line that is no record of this source (a subtotal, a
    # comment), counted in the manifest as skipped.
    action: Literal["quarantine", "flag", "skip"]
    reason: str


class Completion(_Strict):
    """When a delivered file is whole (extractors/file_snapshot.py). Without it, a file is
    landed when it is not changing while read, which cannot tell a paused writer from a
    finished one: state a rule whenever the vendor writes files in place."""

    # A file the vendor writes after the export, relative to the landing folder:
    # strftime of the day (or month), `{file}` the export's name, e.g.
    # "call_center/{file}.done" or "exports/%Y%m%d.ctl".
    marker: str | None = None
    # The marker's content is the number of records in the export, checked on landing.
    marker_row_count: bool = False
    # Size and modification time unchanged this long before the read (waited, once).
    stable_seconds: int = Field(0, ge=0, le=900)

    @model_validator(mode="after")
    def _something(self) -> Completion:
        if self.marker is None and not self.stable_seconds:
            raise ValueError("complete_when needs a marker or stable_seconds")
        if self.marker_row_count and self.marker is None:
            raise ValueError("marker_row_count needs a marker")
        return self


class _FileDelivery(_Strict):
    """Files in the landing folder: one per day (`file_pattern` is strftime of the day and
    may hold a glob), one file for many days (`day_column` says whose row is whose), or
    with `period: month` one per month (strftime of the month's first day; each run also
    reads `months_back` months before, for inputs delivered after the month ends)."""

    file_pattern: str
    period: Literal["day", "month"] = "day"
    months_back: int = Field(0, ge=0, le=12)
    day_column: str | None = None
    day_format: str | None = None
    # Each run re-reads the files of this many earlier days and re-lands a day whose file
    # changed since it was landed (a late or corrected delivery), as that day's batch.
    lookback_days: int = Field(0, ge=0, le=31)
    complete_when: Completion | None = None

    @model_validator(mode="after")
    def _day_column_has_format(self) -> _FileDelivery:
        if (self.day_column is None) != (self.day_format is None):
            raise ValueError("day_column and day_format go together")
        if self.period == "month" and self.day_column is not None:
            raise ValueError("a monthly file (period: month) has no day_column")
        if self.period == "day" and self.months_back:
            raise ValueError("months_back is for monthly files (period: month)")
        return self

    @property
    def one_file_per_day(self) -> bool:
        return self.period == "day" and self.day_column is None


class DelimitedDelivery(_FileDelivery):
    """A delimited text file (CSV, tab-separated, ...) with a header line."""

    format: Literal["csv"] = "csv"
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8"


class JsonLinesDelivery(_FileDelivery):
    """One JSON object per line; the "columns" are the keys."""

    format: Literal["jsonl"]
    encoding: str = "utf-8"


class WorkbookDelivery(_FileDelivery):
    """A spreadsheet (.xlsx or OpenDocument .ods); the column names are in `header_row`."""

    format: Literal["xlsx", "ods"]
    sheet: str | None = None  # the first sheet by default
    header_row: int = Field(1, ge=1, le=1000)


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
    # Bounds of every request (extractors/rest_client.py): connecting, the longest silence
    # while reading, and the whole exchange (a server that drips never passes the total); a
    # timeout is retried like a 5xx. A Retry-After is waited at most max_retry_after_seconds.
    connect_timeout_seconds: float = Field(rest_client.CONNECT_TIMEOUT_SECONDS, gt=0, le=600)
    read_timeout_seconds: float = Field(rest_client.READ_TIMEOUT_SECONDS, gt=0, le=3600)
    total_timeout_seconds: float = Field(rest_client.TOTAL_TIMEOUT_SECONDS, gt=0, le=3600)
    max_retry_after_seconds: float = Field(rest_client.MAX_RETRY_AFTER_SECONDS, ge=0, le=3600)
    # A page whose body is larger stops the run (memory stays bounded by it).
    max_page_bytes: int = Field(rest_client.MAX_PAGE_BYTES, ge=1024, le=1024**3)

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
    """A table of the source's own SQL database (SQLite file or any SQLAlchemy URL, given
    by the deployment), read incrementally by a change timestamp."""

    format: Literal["sql", "sqlite"]
    table: Identifier
    key_column: Identifier = "id"
    changed_at_column: Identifier
    changed_at_format: str = "%Y-%m-%d %H:%M:%S"
    changed_at_timezone: str = "UTC"
    parent: ParentTable | None = None
    # Each run re-reads the changes of this many earlier days and re-lands a day whose
    # rows differ from what was landed for it (records written late into the tool).
    lookback_days: int = Field(0, ge=0, le=31)


FileDelivery = DelimitedDelivery | JsonLinesDelivery | WorkbookDelivery
AnyDelivery = FileDelivery | ApiDelivery | SqlDelivery
_KINDS: dict[str, type[_Strict]] = {
    "csv": DelimitedDelivery,
    "jsonl": JsonLinesDelivery,
    "xlsx": WorkbookDelivery,
    "ods": WorkbookDelivery,
    "rest_api": ApiDelivery,
    "sql": SqlDelivery,
    "sqlite": SqlDelivery,
}


def _delivery_kind(value: Any) -> str:
    """Which delivery model a `delivery:` block is, by its format (csv by default)."""
    fmt = value.get("format", "csv") if isinstance(value, dict) else getattr(value, "format", "csv")
    return fmt if fmt in _KINDS else "csv"


class Limits(_Strict):
    """How long a record and a field may be. A longer one is quarantined with the reason
    (kept cut at the record limit); a JSON-lines record is read no further than the
    limit, so memory stays bounded whatever the file holds. (An API page's size is its
    delivery's `max_page_bytes`.)"""

    max_record_chars: int = Field(1_000_000, ge=1_000, le=100_000_000)
    max_field_chars: int = Field(100_000, ge=100, le=10_000_000)


class SourceMapping(_Strict):
    source_system: Literal["call_center", "survey", "crm", "qa", "supervisor"]
    table: str | None = None
    vendor: str
    description: str = ""
    timezone: str
    delivery: Annotated[
        Annotated[DelimitedDelivery, Tag("csv")]
        | Annotated[JsonLinesDelivery, Tag("jsonl")]
        | Annotated[WorkbookDelivery, Tag("xlsx")]
        | Annotated[WorkbookDelivery, Tag("ods")]
        | Annotated[ApiDelivery, Tag("rest_api")]
        | Annotated[SqlDelivery, Tag("sql")]
        | Annotated[SqlDelivery, Tag("sqlite")],
        Discriminator(_delivery_kind),
    ]
    fields: dict[str, FieldSpec]
    rules: list[Rule] = []
    limits: Limits = Limits()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def raw_table(self) -> str:
        return self.table or DEFAULT_TABLE.get(self.source_system, "")

    @property
    def contract(self) -> tuple[ContractField, ...]:
        return CONTRACTS[self.raw_table]

    @property
    def file_delivery(self) -> FileDelivery | None:
        delivery = self.delivery
        return delivery if isinstance(delivery, _FileDelivery) else None

    def source_columns(self) -> set[str]:
        """Every source column the mapping reads."""
        specs = self.fields.values()
        columns = {c for spec in specs for c in spec.columns}
        columns |= {spec.date_from for spec in specs if spec.date_from}
        columns |= {c.column for spec in specs for c in spec.null_when}
        columns |= {c.column for rule in self.rules for c in rule.when}
        files = self.file_delivery
        if files is not None and files.day_column:
            columns.add(files.day_column)
        return columns

    def missing_columns(self, header: list[str]) -> list[str]:
        return sorted(self.source_columns() - set(header))

    def personal_columns(self) -> set[str]:
        return {c for spec in self.fields.values() if spec.personal_data for c in spec.columns}


def _format_problem(place: str, fmt: str, *, needs: str) -> str | None:
    """Why a strftime format cannot be read, or lacks what it must name (None: fine)."""
    try:
        compiled = compile_strftime(fmt)
    except UnreadableFormat as error:
        return f"{place}: {error}"
    if needs == "date" and not compiled.has_date:
        return (
            f"{place}: {fmt!r} names no day (year, month and day of month): every row would"
            " land on 1900-01-01"
        )
    if needs == "month" and not compiled.has_month:
        return f"{place}: {fmt!r} names no year and month"
    return None


def _field_problems(mapping: SourceMapping, name: str, spec: FieldSpec, wanted) -> list[str]:
    problems = []
    place = f"fields.{name}"
    contract = {f.name: f for f in mapping.contract}
    kind = spec.type or DEFAULT_TYPE[wanted.kind]
    if kind not in FEEDS[wanted.kind]:
        problems.append(
            f"{place}.type: {kind!r} cannot fill a {wanted.kind} field"
            f" (use one of {sorted(FEEDS[wanted.kind])})"
        )
    files = mapping.file_delivery
    dated = spec.date_from or spec.date_from_file
    if wanted.kind in ("timestamp", "date") and spec.reads_text:
        if not spec.format:
            problems.append(
                f"{place}.format: a {wanted.kind} needs its strftime format (or iso8601)"
            )
        elif spec.format != ISO8601:
            if wanted.kind == "timestamp" and not dated:
                problem = _format_problem(f"{place}.format", spec.format, needs="date")
                if problem and "names no day" in problem:
                    problem += (
                        "; give the column holding the date (date_from, date_format) or"
                        " date_from_file: true when the file's name holds the day"
                    )
            else:
                problem = _format_problem(
                    f"{place}.format", spec.format, needs="month" if wanted.kind == "date" else ""
                )
            if problem:
                problems.append(problem)
            if spec.values is not None:
                problems.append(f"{place}.values: a {wanted.kind} has no value map")
    elif spec.format is not None and not (kind == "duration" or spec.derive):
        problems.append(f"{place}.format: only dates and times have a format")
    if spec.format == ISO8601 and dated:
        problems.append(f"{place}.date_from: an ISO-8601 time carries its own date")
    if spec.date_from and not spec.date_format:
        problems.append(f"{place}.date_format: date_from needs the date's strftime format")
    if spec.date_format is not None:
        if not spec.date_from:
            problems.append(f"{place}.date_format: only with date_from (the column of the date)")
        else:
            problem = _format_problem(f"{place}.date_format", spec.date_format, needs="date")
            if problem:
                problems.append(problem)
    if dated and wanted.kind != "timestamp":
        problems.append(f"{place}: date_from and date_from_file are for clock times (timestamps)")
    if (spec.date_from_file or spec.file_date) and (files is None or files.period != "day"):
        if spec.file_date and files is not None and files.period == "month":
            pass  # a monthly file's name holds its month: the month's first day
        else:
            problems.append(
                f"{place}: the file's date is for files named by their day (a file delivery"
                " whose file_pattern names the day)"
            )
    if (spec.date_from_file or spec.file_date) and files is not None and files.day_column:
        problems.append(
            f"{place}: one file holds many days here (day_column): take the date from a column"
        )
    if spec.file_date and wanted.kind != "date":
        problems.append(f"{place}.file_date: fills a date field, not a {wanted.kind}")
    if wanted.kind == "boolean" and spec.reads_text and not spec.values:
        problems.append(f"{place}.values: say which source values mean true and false")
    if wanted.personal_data and not spec.personal_data:
        problems.append(
            f"{place}.personal_data: this field holds personal data; mark it"
            " 'personal_data: true' so it is hashed downstream and masked in checks"
        )
    if spec.not_before is not None:
        other = contract.get(spec.not_before)
        if other is None or other.kind != "timestamp" or spec.not_before not in mapping.fields:
            problems.append(
                f"{place}.not_before: {spec.not_before!r} is not a mapped timestamp field"
            )
        elif not dated:
            problems.append(
                f"{place}.not_before: only a clock time whose date comes from elsewhere"
                " (date_from, date_from_file) can roll past midnight"
            )
    if not spec.reads_text:
        for key in ("null_values", "values", "null_when", "format", "integral_decimals"):
            if key in spec.model_fields_set and not (key == "format" and spec.derive):
                problems.append(f"{place}.{key}: the field reads no source column")
    if "join" in spec.model_fields_set and not (
        isinstance(spec.source, list) and len(spec.source) > 1
    ):
        problems.append(f"{place}.join: only for a field read from several columns ('from' list)")
    if spec.integral_decimals and kind not in ("integer", "seconds"):
        problems.append(f"{place}.integral_decimals: only for whole numbers (integer, seconds)")
    if spec.derive is not None:
        problems += _derivation_problems(mapping, place, spec.derive, wanted)
    return problems


def _derivation_problems(mapping, place: str, derive: Derivation, wanted) -> list[str]:
    contract = {f.name: f for f in mapping.contract}
    problems = []
    if wanted.kind != "timestamp":
        problems.append(
            f"{place}.derive: a derived field is a timestamp (base plus or minus seconds),"
            f" not a {wanted.kind}"
        )
    for role, other, kinds in (
        ("base", derive.base, {"timestamp"}),
        ("plus_seconds" if derive.plus_seconds else "minus_seconds", derive.offset, None),
    ):
        spec = mapping.fields.get(other)
        target = contract.get(other)
        if spec is None or target is None:
            problems.append(f"{place}.derive.{role}: {other!r} is not a mapped field")
            continue
        if spec.derive is not None:
            problems.append(f"{place}.derive.{role}: {other!r} is derived itself")
        allowed = kinds or {"seconds", "integer"}
        if target.kind not in allowed:
            problems.append(
                f"{place}.derive.{role}: {other!r} is a {target.kind} field, not"
                f" {' or '.join(sorted(allowed))}"
            )
    return problems


def _delivery_problems(mapping: SourceMapping) -> list[str]:
    problems = []
    files = mapping.file_delivery
    delivery = mapping.delivery
    day_field = DAY_FIELDS.get(mapping.raw_table)
    if files is not None:
        if files.day_column:
            problem = _format_problem("delivery.day_format", files.day_format, needs="date")
            if problem:
                problems.append(problem)
        else:
            pattern = files.file_pattern
            needs = "month" if files.period == "month" else "date"
            if files.period == "day" and day_field is None:
                pass  # a snapshot (a roster) may be one file read whole each day
            else:
                problem = _format_problem("delivery.file_pattern", pattern, needs=needs)
                if problem:
                    problems.append(
                        problem.replace(": every row would land on 1900-01-01", "")
                        + (
                            "; a file for many days needs day_column and day_format"
                            if needs == "date"
                            else ""
                        )
                    )
    if isinstance(delivery, ApiDelivery) and day_field and delivery.since_param is None:
        problems.append(
            f"delivery.since_param: {mapping.raw_table} is read by the run's interval; an"
            " endpoint without a cursor would land its whole history every day"
        )
    if isinstance(delivery, SqlDelivery):
        try:
            ZoneInfo(delivery.changed_at_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"delivery.changed_at_timezone: {delivery.changed_at_timezone!r} is not an"
                " IANA time zone"
            )
        problem = _format_problem(
            "delivery.changed_at_format", delivery.changed_at_format, needs="date"
        )
        if problem:
            problems.append(problem)
    return problems


def _rule_problems(mapping: SourceMapping) -> list[str]:
    problems = []
    conditions = [
        (f"rules[{i}].when[{j}]", c)
        for i, rule in enumerate(mapping.rules)
        for j, c in enumerate(rule.when)
    ]
    conditions += [
        (f"fields.{name}.null_when[{j}]", c)
        for name, spec in mapping.fields.items()
        for j, c in enumerate(spec.null_when)
    ]
    for place, condition in conditions:
        if isinstance(condition.value, list) and condition.op not in ("in", "not in"):
            problems.append(f"{place}.value: a list goes with 'in' or 'not in'")
    return problems


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
        problems += _field_problems(mapping, name, spec, wanted)
    problems += _delivery_problems(mapping)
    problems += _rule_problems(mapping)
    return problems


def _accepted_keys(loc: tuple, document: dict) -> str:
    """The keys accepted where pydantic found an unknown one."""
    if loc[:1] == ("delivery",) and len(loc) == 2:
        model = _KINDS[_delivery_kind(document.get("delivery") or {})]
        kind = _delivery_kind(document.get("delivery") or {})
        return f"keys of a {kind} delivery: {', '.join(model.model_fields)}"
    if loc[:1] == ("fields",) and len(loc) == 3:
        names = [f.alias or n for n, f in FieldSpec.model_fields.items()]
        return f"keys of a field: {', '.join(names)}"
    if loc[:1] == ("rules",):
        model = Condition if "when" in loc else Rule
        return f"keys: {', '.join(model.model_fields)}"
    if len(loc) == 1:
        return f"top-level keys: {', '.join(SourceMapping.model_fields)}"
    return ""


def _pydantic_problems(error: ValidationError, document: dict) -> list[str]:
    problems = []
    for e in error.errors():
        # The tag of a discriminated union is noise in a place: delivery.csv.sheet.
        loc = tuple(p for p in e["loc"] if p not in _KINDS or e["loc"][0] != "delivery")
        place = ".".join(str(p) for p in loc) or "(top)"
        if e["type"] == "extra_forbidden":
            problems.append(f"{place}: unknown key ({_accepted_keys(loc, document)})")
            continue
        message = f"{place}: {e['msg']}"
        if e["type"] in {"literal_error", "string_type"}:
            message += f" (got {e['input']!r})"
        problems.append(message)
    return problems


def load_mapping(path: Path | str) -> SourceMapping:
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MappingError(str(path), [f"not valid YAML: {error}"]) from None
    if not isinstance(document, dict):
        raise MappingError(str(path), ["the file must hold a mapping (key: value) at the top"])
    delivery = document.get("delivery")
    kind = delivery.get("format", "csv") if isinstance(delivery, dict) else None
    if kind is not None and kind not in _KINDS:
        raise MappingError(
            str(path),
            [f"delivery.format: {kind!r} is not a delivery kind (kinds: {', '.join(_KINDS)})"],
        )
    try:
        mapping = SourceMapping.model_validate(document)
    except ValidationError as error:
        raise MappingError(str(path), _pydantic_problems(error, document)) from None
    problems = _semantic_problems(mapping)
    if problems:
        raise MappingError(str(path), problems)
    return mapping


def json_text(value: Any) -> str:
    """A JSON value as the text a mapping reads: null is empty, lists comma-joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(sorted(str(v) for v in value))
    return str(value)
