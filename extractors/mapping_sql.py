"""A vendor mapping compiled to set-based SQL: the one reading of a mapping. Python only
cuts each record into the texts of the columns the mapping reads (a delimited line is even
split in SQL, extractors/csv_landing.py); PostgreSQL types, checks and quarantines them
in one statement. The expressions work over `f`, the array of a record's texts:

- `texts()`: each contract field's source text (stripped, joined or the first non-empty,
  empty / null values and the field's `null_when` -> NULL);
- `typed()`: each field's value, NULL when missing or unreadable (`problem` says why);
- `finals()`: timestamps in the center's zone, rolled past midnight against their anchor,
  and the derived fields;
- `quarantine_reason()` / `flags()` / `skipped()`: the mapping's row rules in order, then
  the fields, then the contract's own rules;
- `checked_query()`: all of it as one query over a relation of records (`line_no`, `line`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from extractors.contracts import ContractField
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
from extractors.strftime import WIDTH, Strftime, compile_strftime

_NUMERIC = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_WHITESPACE = r"E' \t\n\r\f\v'"
_SQL_TYPE = {
    "text": "text",
    "integer": "integer",
    "number": "numeric",
    "seconds": "integer",
    "duration": "integer",
    "boolean": "boolean",
    "timestamp": "timestamptz",
    "date": "date",
}


def literal(value: object) -> str:
    """A SQL literal of a Python value from the mapping file (never of delivered data)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _repr_sql(text_sql: str) -> str:
    """SQL giving Python's repr() of a text: reasons quote the value they refuse."""
    return f"raw.py_repr({text_sql})"


def one_of(name: str, allowed: frozenset[str], label: str | None = None) -> tuple[str, str]:
    """The contract rule "<name> is one of <allowed>" over the final value: (condition,
    reason) in SQL, the reason "<name>: <value> is not one of [...]"."""
    listed = str(sorted(allowed)).replace("'", "''")
    head = f"{name}: " if label is None else label
    return (
        f"x_{name} is null or x_{name} not in ({', '.join(literal(v) for v in sorted(allowed))})",
        f"{literal(head)} || coalesce(raw.py_repr(x_{name}), 'None') || ' is not one of {listed}'",
    )


def _regex_class_char(char: str) -> str:
    return "\\" + char if char in "]\\^-[" else char


def _canonical(text_sql: str, fmt: Strftime, kind: str) -> str:
    """SQL text 'YYYY-MM-DD HH:MM:SS.ffffff' (or the date) from the parts of a text that
    strptime would read with the format; NULL when it would not. Parts the format lacks
    default as strptime's do."""

    def assemble(part) -> str:
        def get(directive: str, default: str) -> str:
            return part(directive) if directive in fmt.groups else literal(default)

        if "y" in fmt.groups:
            # strptime's century for two-digit years: 69-99 -> 19xx, 00-68 -> 20xx.
            yy = part("y")
            year = f"(case when {yy}::int < 69 then '20' else '19' end || {yy})"
        else:
            year = get("Y", "1900")
        pieces = [year, "'-'", get("m", "1"), "'-'", get("d", "1")]
        if kind != "date":
            pieces += ["' '", get("H", "0"), "':'", get("M", "0"), "':'", get("S", "0")]
            pieces += ["'.'", get("f", "0")]
        return " || ".join(pieces)

    def by_position(directive: str) -> str:
        return f"substr({text_sql}, {fmt.positions[directive]}, {WIDTH[directive]})"

    captures = f"regexp_match({text_sql}, {literal(fmt.pattern)})"

    def by_capture(directive: str) -> str:
        return f"btrim(({captures})[{fmt.groups[directive]}])"

    padded = text_sql if fmt.iso_like else assemble(by_position)
    # The padded shape: every digit where the format has one; PostgreSQL refuses month 13,
    # day 32 and minute 60 when reading the result, but takes hour 24 and second 60.
    same_shape = f"translate({text_sql}, '0123456789', '0000000000') = {literal(fmt.shape)}"
    for directive, limit in (("H", "24"), ("S", "60")):
        if directive in fmt.positions:
            same_shape += f" and {by_position(directive)} < '{limit}'"
    return (
        f"(case when {same_shape} then {padded}"
        f" when {text_sql} ~ {literal(fmt.pattern)} then {assemble(by_capture)} end)"
    )


@dataclass
class CompiledMapping:
    """SQL for one mapping over a relation with `f` (text[]) holding a line's fields."""

    mapping: SourceMapping
    header: list[str]
    # SQL of the date the record's file name holds (its day, or its month's first day).
    file_date: str = "null::date"

    def __post_init__(self) -> None:
        # A repeated header name reads its last column, as dict(zip(header, fields)) does.
        self._index = {name: i + 1 for i, name in enumerate(self.header)}
        self._contract = {f.name: f for f in self.mapping.contract}
        self._formats: dict[str, tuple[Strftime, Strftime | None]] = {}
        for name, spec in self.mapping.fields.items():
            target = self._contract[name]
            if not spec.reads_text or target.kind not in ("timestamp", "date"):
                continue
            if spec.format == ISO8601:
                continue
            clock = compile_strftime(spec.format)
            day = compile_strftime(spec.date_format) if spec.date_from else None
            self._formats[name] = (clock, day)

    # -- the source texts ----------------------------------------------------------------------

    def _field(self, name: str) -> str:
        """A source column's text in `f` (fields come stripped), '' when the line is short."""
        return f"coalesce(f[{self._index[name]}], '')"

    def column(self, name: str) -> str:
        """A source column's text where the row rules read it: r<n>, carried from `texts`."""
        return f"r{self._index[name]}"

    def texts(self) -> dict[str, str]:
        """t_<field>: the field's text before typing; NULL when empty or a null value
        (d_<field>: the text of the column a clock time takes its date from; r<n>: the
        columns the row rules read)."""
        out = {}
        for name, spec in self.mapping.fields.items():
            if not spec.reads_text:
                continue
            empties = ", ".join(["''", *(literal(v) for v in spec.null_values)])
            if spec.first_of is not None:
                parts = [
                    f"case when {self._field(c)} in ({empties}) then null else {self._field(c)} end"
                    for c in spec.columns
                ]
                text = f"coalesce({', '.join(parts)})"
            elif len(spec.columns) == 1 and not spec.null_values:
                text = f"nullif(f[{self._index[spec.columns[0]]}], '')"
            else:
                parts = [self._field(c) for c in spec.columns]
                joined = f" || {literal(spec.join)} || ".join(parts)
                is_null = " or ".join(f"{p} in ({empties})" for p in parts)
                text = f"case when {is_null} then null else {joined} end"
            if spec.null_when:
                blank = " and ".join(self._holds(c, self._field(c.column)) for c in spec.null_when)
                text = f"case when {blank} then null else {text} end"
            out[f"t_{name}"] = text
            if spec.date_from:
                out[f"d_{name}"] = self._field(spec.date_from)
        for rule in self.mapping.rules:
            for condition in rule.when:
                out[self.column(condition.column)] = self._field(condition.column)
        return out

    def skipped(self) -> str:
        """Whether a skip rule holds: the line is no record of this source."""
        skips = [cond for cond, _ in self._rules("skip")]
        return f"coalesce({' or '.join(skips)}, false)" if skips else "false"

    def canonical(self) -> dict[str, str]:
        """c_<field>: a date or time as the text PostgreSQL reads unambiguously, NULL when it
        does not have the mapping's format (computed once: the value and its check use it)."""
        out = {}
        for name, (clock, day) in self._formats.items():
            kind = self._contract[name].kind
            text = f"t_{name}"
            if self.mapping.fields[name].date_from_file:
                clock_part = _canonical(text, clock, "timestamp")
                out[f"c_{name}"] = (
                    f"(to_char({self.file_date}, 'YYYY-MM-DD') || ' '"
                    f" || split_part({clock_part}, ' ', 2))"
                )
            elif day is None:
                out[f"c_{name}"] = _canonical(text, clock, kind)
            else:
                clock_part = _canonical(text, clock, "timestamp")
                day_part = _canonical(f"d_{name}", day, "date")
                out[f"c_{name}"] = f"({day_part} || ' ' || split_part({clock_part}, ' ', 2))"
        return out

    # -- typed values ----------------------------------------------------------------------------

    def _label(self, name: str, spec: FieldSpec) -> str:
        return "+".join(spec.columns) if spec.columns else name

    def typed(self) -> dict[str, str]:
        """v_<field>: the value, NULL when missing or unreadable (`problem` says why)."""
        out = {}
        for target in self.mapping.contract:
            spec = self.mapping.fields.get(target.name)
            sql_type = _SQL_TYPE[target.kind]
            if spec is None or spec.derive is not None:
                out[f"v_{target.name}"] = f"null::{sql_type}"  # derived: see finals()
            elif spec.constant is not None:
                out[f"v_{target.name}"] = f"{literal(spec.constant)}::{sql_type}"
            elif spec.file_date:
                out[f"v_{target.name}"] = f"({self.file_date})::{sql_type}"
            else:
                out[f"v_{target.name}"] = self._value(target, spec)
        return out

    def _mapped(self, target: ContractField, spec: FieldSpec) -> str:
        """The text after the mapping's value map (NULL when the value is not in it)."""
        text = f"t_{target.name}"
        if spec.integral_decimals:
            # "53.0" is the whole number 53; "53.5" stays and is refused as not whole.
            text = (
                f"(case when {text} ~ {literal(INTEGRAL_DECIMAL)}"
                f" then split_part({text}, '.', 1) else {text} end)"
            )
        if spec.values is None:
            return text
        cases = " ".join(
            f"when {literal(k)} then {literal(str(v))}" for k, v in spec.values.items()
        )
        return f"(case {text} {cases} end)"

    def _value(self, target: ContractField, spec: FieldSpec) -> str:
        name = target.name
        if spec.values is not None and target.kind == "boolean":
            cases = " ".join(
                f"when {literal(k)} then {literal(bool(v))}" for k, v in spec.values.items()
            )
            return f"(case t_{name} {cases} end)"
        text = self._mapped(target, spec)
        kind = spec.type or DEFAULT_TYPE[target.kind]
        if kind == "text":
            return text
        if kind in ("integer", "seconds"):
            # Digits with at most a sign (translate() is cheaper than a regular expression;
            # the input function refuses a misplaced sign, and 0x.. or 1_000 are kept out).
            ok = (
                f"translate({text}, '0123456789', '') in ('', '+', '-')"
                f" and pg_input_is_valid({text}, 'integer')"
            )
            if kind == "seconds":
                ok += f" and {text}::integer >= 0"
            return f"case when {ok} then {text}::integer end"
        if kind == "number":
            ok = f"{text} ~ {literal(DECIMAL_NUMBER)} and pg_input_is_valid({text}, 'numeric')"
            return f"case when {ok} then {text}::numeric end"
        if kind == "duration":
            return f"case when {_duration_ok(text)} then {_duration(text)}::integer end"
        if kind == "boolean":
            return "null::boolean"
        if spec.format == ISO8601:
            if kind == "date":
                ok = f"{text} ~ {literal(ISO_DATE)} and pg_input_is_valid({text}, 'date')"
                return f"case when {ok} then {text}::date end"
            shape = literal(ISO_TIME_WITH_OFFSET)
            ok = f"{text} ~ {shape} and pg_input_is_valid({text}, 'timestamptz')"
            return f"case when {ok} then {text}::timestamptz end"
        # A strftime format: a wall time (`finals` gives it the center's zone) or a date.
        sql_type = "date" if kind == "date" else "timestamp"
        return f"case when pg_input_is_valid(c_{name}, '{sql_type}') then c_{name}::{sql_type} end"

    def problem(self, target: ContractField, spec: FieldSpec) -> str | None:
        """Why a field with a text has no value, as RowParser words it (SQL text); None for
        a field that cannot be unreadable (a text without a value map)."""
        label = literal(self._label(target.name, spec))
        text = f"t_{target.name}"

        def says(value: str, words: str) -> str:
            return f"{label} || ': ' || {value} || {literal(words)}"

        whens = []
        if spec.values is not None:
            keys = ", ".join(literal(k) for k in spec.values)
            listed = " is not one of " + str(sorted(spec.values))
            whens.append(f"when {text} not in ({keys}) then {says(_repr_sql(text), listed)}")
            if target.kind == "boolean":
                return f"case {' '.join(whens)} end"
            text = self._mapped(target, spec)
        shown = _repr_sql(text)
        kind = spec.type or DEFAULT_TYPE[target.kind]
        if kind == "text":
            pass  # a text is never unreadable: only a value map can refuse it
        elif kind in ("integer", "seconds"):
            whens += [
                f"when {text} !~ {literal(WHOLE_NUMBER)}"
                f" then {says(shown, ' is not a whole number')}",
                f"when not pg_input_is_valid({text}, 'integer')"
                f" then {says(text, ' is out of range')}",
                f"when {text}::integer < 0 then {says(f'{text}::integer', ' seconds is negative')}",
            ]
        elif kind == "duration":
            whens += [
                f"when not ({_duration_ok(text, bounded=False)})"
                f" then {says(shown, ' is not a duration H:MM:SS')}",
                f"when true then {says(text, ' is out of range')}",
            ]
        elif spec.format == ISO8601 and kind == "timestamp":
            no_zone = (
                f"{text} ~ {literal(ISO_TIME_WITHOUT_OFFSET)}"
                f" and pg_input_is_valid({text}, 'timestamp')"
            )
            whens += [
                f"when {no_zone} then {says(shown, ' has no time zone offset')}",
                f"when true then {says(shown, ' is not an ISO-8601 time')}",
            ]
        else:
            words = {
                "number": " is not a number",
                "boolean": " has no boolean meaning in the mapping",
                "date": f" is not a date like {spec.format}",
                "timestamp": f" does not match {spec.format}",
            }[kind]
            whens.append(f"when true then {says(shown, words)}")
        return f"case {' '.join(whens)} end" if whens else None

    # -- final values --------------------------------------------------------------------------

    def finals(self) -> dict[str, str]:
        """x_<field>: the contract value. Wall times get the center's zone; a clock time hours
        before its anchor (not_before) on the same date crossed midnight: the next day."""
        zone = literal(self.mapping.timezone)
        slack = f"interval '{int(MIDNIGHT_SLACK.total_seconds())} seconds'"
        out = {}
        for target in self.mapping.contract:
            name = target.name
            spec = self.mapping.fields.get(name)
            if name not in self._formats or target.kind != "timestamp":
                out[f"x_{name}"] = f"v_{name}"
                continue
            out[f"x_{name}"] = self._final_time(name, spec, zone, slack)
        for name, spec in self.mapping.fields.items():
            if spec.derive is not None:
                base = out[f"x_{spec.derive.base}"]
                sign = "+" if spec.derive.plus_seconds else "-"
                out[f"x_{name}"] = f"(({base}) {sign} v_{spec.derive.offset} * interval '1 second')"
        return out

    def _final_time(self, name: str, spec: FieldSpec, zone: str, slack: str) -> str:
        """A wall time in the mapping's zone; a clock time hours before its anchor
        (not_before) on the same date crossed midnight: the next day."""
        moment = f"(v_{name} at time zone {zone})"
        anchor = spec.not_before
        if not anchor or not (spec.date_from or spec.date_from_file):
            return moment
        anchor_value = f"v_{anchor}"
        if anchor in self._formats:
            anchor_value = f"(v_{anchor} at time zone {zone})"
        return (
            f"case when {anchor_value} is not null and {moment} < {anchor_value} - {slack}"
            f" then ((v_{name} + interval '1 day') at time zone {zone}) else {moment} end"
        )

    # -- the row rules ---------------------------------------------------------------------------

    def _holds(self, condition: Condition, raw: str | None = None) -> str:
        raw = raw or self.column(condition.column)
        wanted = condition.value
        if condition.op in ("matches", "not matches"):
            op = "~" if condition.op == "matches" else "!~"
            return f"({raw} {op} {literal(wanted)})"
        if condition.op in ("in", "not in"):
            options = wanted if isinstance(wanted, list) else [wanted]
            listed = ", ".join(literal(str(v)) for v in options)
            return f"({raw} {condition.op} ({listed}))"
        op = {"=": "=", "!=": "<>"}.get(condition.op, condition.op)
        if isinstance(wanted, int | float) and not isinstance(wanted, bool):
            return (
                f"(case when {raw} ~ {literal(_NUMERIC)}"
                f" then {raw}::numeric {op} {wanted!r} else false end)"
            )
        return f'({raw} collate "C" {op} {literal(str(wanted))})'

    def _rules(self, action: str) -> list[tuple[str, str]]:
        return [
            (" and ".join(self._holds(c) for c in rule.when), rule.reason)
            for rule in self.mapping.rules
            if rule.action == action
        ]

    def quarantine_reason(self, checks: list[tuple[str, str]]) -> str:
        """The first reason a row cannot land, NULL when it lands: a quarantine rule, then
        each field in RowParser's order (anchors first), then `checks` (condition, reason
        as SQL) over the final values. Reasons are built only for the rows that have one."""
        anchors = {s.not_before for s in self.mapping.fields.values() if s.not_before}
        order = sorted(self.mapping.contract, key=lambda f: f.name not in anchors)
        rules = [
            f"when {cond} then {literal(reason)}" for cond, reason in self._rules("quarantine")
        ]
        fields, read, required = [], [], []
        for target in order:
            spec = self.mapping.fields.get(target.name)
            if spec is None or not spec.reads_text:
                continue
            name, label = target.name, literal(self._label(target.name, spec))
            read.append(name)
            if target.required:
                required.append(f"t_{name}")
                fields.append(
                    f"when t_{name} is null then {label} || ': required value is missing'"
                )
            problem = self.problem(target, spec)
            if problem is not None:
                fields.append(f"when t_{name} is not null and v_{name} is null then {problem}")
        later = [f"when {cond} then {reason}" for cond, reason in checks]
        # Most rows are fine: one test tells (every field with a text has a value, and no
        # required one is empty) before the field-by-field search for the first problem.
        texts = ", ".join(f"t_{n}" for n in read)
        values = ", ".join(f"v_{n}" for n in read)
        fine = f"num_nulls({texts}) = num_nulls({values})"
        if required:
            fine += f" and num_nonnulls({', '.join(required)}) = {len(required)}"
        clean = f"case {' '.join([*rules, *later])} end" if rules or later else "null::text"
        return (
            f"case when {fine} then {clean} else case {' '.join([*rules, *fields, *later])} end end"
        )

    def flags(self) -> str:
        flagged = [
            f"case when {cond} then {literal(reason)} end" for cond, reason in self._rules("flag")
        ]
        if not flagged:
            return "null::text"
        return f"nullif(concat_ws(',', {', '.join(flagged)}), '')"

    def day_check(self) -> tuple[str, str, str]:
        """For a file of many days: (the row's day as SQL, the check it is readable, why not)."""
        delivery = self.mapping.delivery
        assert delivery.day_column is not None and delivery.day_format is not None
        text = self._field(delivery.day_column)
        fmt = compile_strftime(delivery.day_format)
        canonical = _canonical(text, fmt, "date")
        ok = f"coalesce(pg_input_is_valid({canonical}, 'date'), false)"
        reason = (
            f"{literal(delivery.day_column)} || ': ' || {_repr_sql(text)} || ' does not match '"
            f" || {literal(delivery.day_format)}"
        )
        return f"case when {ok} then ({canonical})::date end", ok, reason


def _duration_ok(text: str, bounded: bool = True) -> str:
    shape = f"{text} ~ '^[0-9]{{1,9}}(:[0-9]{{1,9}}){{0,2}}$'"
    return f"{shape} and {_duration(text)} <= 2147483647" if bounded else shape


def _duration(text: str) -> str:
    """Seconds of 'H:MM:SS', 'M:SS' or 'S'."""
    return (
        f"(select sum(p::bigint * 60 ^ (cardinality(a) - n))::bigint"
        f" from (select string_to_array({text}, ':') as a) as s,"
        f" unnest(a) with ordinality as u(p, n))"
    )


def split_fields(delimiter: str) -> str:
    """SQL splitting `line` into its CSV fields, each stripped of surrounding whitespace as
    RowParser strips them: a plain split unless the line has quotes or blanks to strip."""
    blanks = "".join(c for c in " \t\n\r\f\v" if c != delimiter)
    escaped = (
        blanks.encode("unicode_escape").decode().replace("\\x0b", "\\v").replace("\\x0c", "\\f")
    )
    d = _regex_class_char(delimiter)
    padded = f"(^|[{d}])[{escaped}]|[{escaped}]([{d}]|$)"
    return (
        f"case when strpos(line, '\"') = 0 and line !~ {literal(padded)}"
        f" then string_to_array(line, {literal(delimiter)})"
        f" else raw.csv_fields(line, {literal(delimiter)}, {literal(d)}) end"
    )


def _layer(source: str, carry: Sequence[str], columns: dict[str, str], where: str = "") -> str:
    """One layer: the columns it computes plus those later layers still read. `offset 0`
    keeps PostgreSQL from inlining it into the next, which would evaluate an expression
    once per use instead of once per line."""
    listed = ", ".join([*carry, *(f"{expr} as {name}" for name, expr in columns.items())])
    return f"select {listed} from ({source}) as s {where} offset 0"


def checked_query(
    compiled: CompiledMapping,
    columns: Sequence[str],
    checks: list[tuple[str, str]],
    lines: str,
    *,
    day: date | None = None,
    fields: str | None = None,
    carry: Sequence[str] = (),
    unreadable: str = "'unreadable record'",
    versioned: tuple[str, str, str | None] | None = None,
) -> str:
    """The query giving every record of `lines` its values and its reason: fields ->
    texts -> canonical dates -> typed -> final values -> reason. `checks` are the
    contract's own rules over the final values (x_<field>).

    `fields` is the SQL of a record's `f` (default: `line` split by the delivery's
    delimiter); a record with a NULL `f` has no fields (a JSON value that is no object)
    and `unreadable` (SQL) is its reason.
    `carry` names columns of `lines` passed through (the lineage of records from many
    source objects). `versioned` names the key, version-time and version-number fields of
    a table whose records have versions: a quarantined record keeps them (record_key,
    record_version_at, record_version_number) so a newer bad version withholds an older one.
    `skipped` is true for a record a skip rule holds for (it has no reason)."""
    delivery = compiled.mapping.delivery
    split = fields or split_fields(delivery.delimiter)
    where = "where line is not null"
    if day is not None:
        day_value, _, _ = compiled.day_check()
        where += f" and {day_value} = date '{day.isoformat()}'"
    base = ", ".join(["line_no", "line", *carry])
    record = (
        f"select {base}, f, cardinality(f) as width"
        f" from (select {base}, {split} as f from {lines} as l offset 0) as split {where}"
    )
    texts = compiled.texts()
    canonical = compiled.canonical()
    typed = compiled.typed()
    finals = compiled.finals()
    kept = ["line_no", "line", *carry, "width", *(c for c in texts if c.startswith("r"))]
    text_columns = [c for c in texts if c.startswith("t_")]
    layers = _layer(record, ["line_no", "line", *carry, "width"], texts)
    if canonical:
        layers = _layer(layers, [*kept, *text_columns], canonical)
    layers = _layer(layers, [*kept, *text_columns, *canonical], typed)
    layers = _layer(layers, [*kept, *text_columns, *typed], finals)
    width = len(compiled.header)
    limits = compiled.mapping.limits
    record, field = limits.max_record_chars, limits.max_field_chars
    too_long = "".join(
        f" when length({c}) > {field} then '{c[2:]}: ' || length({c})"
        f" || ' characters, more than limits.max_field_chars ({field})'"
        for c in text_columns
    )
    reason = (
        f"case when width is null then {unreadable}"
        f" when length(line) > {record} then 'a record of ' || length(line)"
        f" || ' characters, more than limits.max_record_chars ({record})'"
        f" when width <> {width} then 'expected {width} fields, found ' || width"
        f"{too_long}"
        f" else {compiled.quarantine_reason(checks)} end"
    )
    flags = compiled.flags()
    skipped = f"(width = {width} and {compiled.skipped()})"
    outputs = {name: (flags if name == "quality_flags" else f"x_{name}") for name in columns}
    if versioned is not None:
        key, at, number = versioned
        fields_mapped = compiled.mapping.fields
        outputs["record_key"] = f"t_{key}" if f"t_{key}" in text_columns else "null::text"
        outputs["record_version_at"] = f"x_{at}" if at in fields_mapped else "null::timestamptz"
        outputs["record_version_number"] = (
            f"x_{number}" if number in fields_mapped else "null::integer"
        )
    else:
        outputs["record_key"] = "null::text"
        outputs["record_version_at"] = "null::timestamptz"
        outputs["record_version_number"] = "null::integer"
    listed = ", ".join(f"{expr} as {name}" for name, expr in outputs.items())
    # A record over the limit is kept cut at it (it is quarantined: nothing else reads it).
    return (
        f"select line_no, left(line, {record}) as line, {', '.join([*carry, ''])}"
        f"case when {skipped} then null else {reason} end as reason,"
        f" {skipped} as skipped, {listed} from ({layers}) as typed"
    )
