"""A vendor mapping compiled to set-based SQL: a delivered file typed, checked and
quarantined by PostgreSQL in one statement, instead of field by field in Python.

`RowParser` (extractors/mapping.py) reads one record at a time and stays the reference:
the mapping preview and the record-at-a-time sources (API pages, SQL rows, workbooks) use
it, and tests land the same lines both ways and require the same values and reasons. This
module gives the same meaning as SQL expressions over `f`, the array of a line's fields:

- `texts()`: each contract field's source text (stripped, joined, empty / null values -> NULL);
- `typed()`: each field's value and the reason it cannot be read (NULL when it can);
- `finals()`: timestamps in the center's zone, rolled past midnight against their anchor;
- `quarantine_reason()` / `flags()`: the mapping's row rules in order, then the fields.

A mapping that uses something SQL here cannot read (a strftime directive other than
%Y %y %m %d %H %M %S %f) raises `NotCompilable`; its files land through `RowParser`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.contracts import ContractField
from extractors.mapping import (
    DEFAULT_TYPE,
    ISO8601,
    MIDNIGHT_SLACK,
    Condition,
    FieldSpec,
    SourceMapping,
)

# CPython's own patterns for these strptime directives (Lib/_strptime.py), so the two
# readings accept the same texts; seconds stop at 59 (datetime refuses 60 and 61).
_DIRECTIVES = {
    "Y": r"(\d\d\d\d)",
    "y": r"(\d\d)",
    "m": r"(1[0-2]|0[1-9]|[1-9])",
    "d": r"(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])",
    "H": r"(2[0-3]|[01]\d|\d)",
    "M": r"([0-5]\d|\d)",
    "S": r"([0-5]\d|\d)",
    "f": r"(\d{1,6})",
}
_ISO_WITH_OFFSET = (
    r"^\d{4}-\d\d-\d\d([T ]\d\d(:\d\d(:\d\d([.,]\d{1,6})?)?)?)?(Z|[+-]\d\d(:?\d\d)?)$"
)
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


class NotCompilable(ValueError):
    """The mapping needs a reading this compiler does not give: land it record by record."""


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
    """SQL giving Python's repr() of a text, as the reasons RowParser writes show values."""
    return f"raw.py_repr({text_sql})"


def _regex_class_char(char: str) -> str:
    return "\\" + char if char in "]\\^-[" else char


@dataclass(frozen=True)
class _Strftime:
    pattern: str  # POSIX regular expression for the whole text
    groups: dict[str, int]  # directive -> capture group number


def _compile_strftime(fmt: str) -> _Strftime:
    pattern, groups, index, position = "^", {}, 0, 0
    while position < len(fmt):
        char = fmt[position]
        if char == "%" and position + 1 < len(fmt):
            directive = fmt[position + 1]
            position += 2
            if directive == "%":
                pattern += "%"
                continue
            if directive not in _DIRECTIVES or directive in groups:
                raise NotCompilable(f"strftime directive %{directive} in {fmt!r}")
            index += 1
            groups[directive] = index
            pattern += _DIRECTIVES[directive]
            continue
        position += 1
        # strptime reads any run of whitespace where the format has whitespace.
        pattern += r"\s+" if char.isspace() else re.escape(char)
    if "Y" in groups and "y" in groups:
        raise NotCompilable(f"both %Y and %y in {fmt!r}")
    return _Strftime(pattern + "$", groups)


def _canonical(text_sql: str, fmt: _Strftime, kind: str) -> str:
    """SQL text 'YYYY-MM-DD HH:MM:SS.ffffff' (or the date) from the captured parts, NULL when
    the text does not have the format. Parts the format lacks default as strptime's do."""

    def part(directive: str, default: str) -> str:
        return f"\\{fmt.groups[directive]}" if directive in fmt.groups else default

    year = part("y", "") or part("Y", "1900")
    body = f"{year}-{part('m', '1')}-{part('d', '1')}"
    if kind != "date":
        body += f" {part('H', '0')}:{part('M', '0')}:{part('S', '0')}.{part('f', '0')}"
    pattern = literal(fmt.pattern)
    canonical = f"regexp_replace({text_sql}, {pattern}, {literal(body)})"
    if "y" in fmt.groups:
        # strptime's century for two-digit years: 69-99 -> 19xx, 00-68 -> 20xx.
        canonical = (
            f"(case when left({canonical}, 2)::int < 69 then '20' else '19' end || {canonical})"
        )
    return f"(case when {text_sql} ~ {pattern} then {canonical} end)"


@dataclass
class CompiledMapping:
    """SQL for one mapping over a relation with `f` (text[]) holding a line's fields."""

    mapping: SourceMapping
    header: list[str]

    def __post_init__(self) -> None:
        # A repeated header name reads its last column, as dict(zip(header, fields)) does.
        self._index = {name: i + 1 for i, name in enumerate(self.header)}
        self._contract = {f.name: f for f in self.mapping.contract}
        self._formats: dict[str, tuple[_Strftime, _Strftime | None]] = {}
        for name, spec in self.mapping.fields.items():
            target = self._contract[name]
            if spec.constant is not None or target.kind not in ("timestamp", "date"):
                continue
            if spec.format == ISO8601:
                continue
            if spec.values is not None:
                raise NotCompilable(f"fields.{name}: a value map on a {target.kind}")
            clock = _compile_strftime(spec.format)
            day = _compile_strftime(spec.date_format) if spec.date_from else None
            self._formats[name] = (clock, day)

    # -- layer 1: the source texts -----------------------------------------------------------

    def column(self, name: str) -> str:
        """A source column's text, stripped as RowParser strips it ('' when absent)."""
        return f"btrim(coalesce(f[{self._index[name]}], ''), {_WHITESPACE})"

    def texts(self) -> dict[str, str]:
        """t_<field>: the field's text before typing; NULL when empty or a null value."""
        out = {}
        for name, spec in self.mapping.fields.items():
            if spec.constant is not None:
                continue
            parts = [self.column(c) for c in spec.columns]
            empties = ["''", *(literal(v) for v in spec.null_values)]
            is_null = " or ".join(f"{p} in ({', '.join(empties)})" for p in parts)
            joined = f" || {literal(spec.join)} || ".join(parts)
            out[f"t_{name}"] = f"case when {is_null} then null else {joined} end"
        for name, spec in self.mapping.fields.items():
            if spec.date_from:
                out[f"d_{name}"] = self.column(spec.date_from)
        return out

    # -- layer 2: typed values and the reason a field cannot be read ---------------------------

    def _label(self, name: str, spec: FieldSpec) -> str:
        return "+".join(spec.columns) if spec.columns else name

    def typed(self) -> dict[str, str]:
        """v_<field> (the value, NULL when unreadable) and e_<field> (why, NULL when fine)."""
        out = {}
        for target in self.mapping.contract:
            spec = self.mapping.fields.get(target.name)
            if spec is None:
                out[f"v_{target.name}"] = f"null::{_SQL_TYPE[target.kind]}"
                out[f"e_{target.name}"] = "null::text"
            elif spec.constant is not None:
                out[f"v_{target.name}"] = (
                    f"{literal(spec.constant)}::{_SQL_TYPE[target.kind]}"
                )
                out[f"e_{target.name}"] = "null::text"
            else:
                value, error = self._typed(target, spec)
                out[f"v_{target.name}"] = value
                out[f"e_{target.name}"] = error
        return out

    def _typed(self, target: ContractField, spec: FieldSpec) -> tuple[str, str]:
        label = literal(self._label(target.name, spec))
        text = f"t_{target.name}"
        problems: list[tuple[str, str]] = []  # (condition, reason) in RowParser's order
        if spec.values is not None:
            if target.kind == "boolean":
                cases = " ".join(
                    f"when {literal(k)} then {literal(bool(v))}" for k, v in spec.values.items()
                )
                value = f"(case {text} {cases} end)"
            else:
                cases = " ".join(
                    f"when {literal(k)} then {literal(str(v))}" for k, v in spec.values.items()
                )
                value = None
            listed = literal(str(sorted(spec.values)))
            problems.append(
                (
                    f"{text} not in ({', '.join(literal(k) for k in spec.values)})",
                    f"{label} || ': ' || {_repr_sql(text)} || ' is not one of ' || {listed}",
                )
            )
            if value is not None:
                return value, self._error(problems, target, spec, text)
            text = f"(case {text} {cases} end)"
        kind = spec.type or DEFAULT_TYPE[target.kind]
        if kind == "text":
            value = text
        elif kind in ("integer", "seconds"):
            whole = f"{text} ~ '^[+-]?[0-9]+$'"
            problems.append(
                (f"not ({whole})", f"{label} || ': ' || {_repr_sql(text)} || ' is not a whole number'")
            )
            problems.append(
                (
                    f"not pg_input_is_valid({text}, 'integer')",
                    f"{label} || ': ' || {text} || ' is out of range'",
                )
            )
            if kind == "seconds":
                problems.append(
                    (f"{text}::integer < 0", f"{label} || ': ' || {text}::integer || ' seconds is negative'")
                )
            value = f"case when {whole} and pg_input_is_valid({text}, 'integer') then {text}::integer end"
        elif kind == "number":
            ok = (
                f"pg_input_is_valid({text}, 'numeric')"
                f" and {text} !~* '^\\s*[+-]?(nan|inf|infinity)\\s*$'"
            )
            problems.append((f"not ({ok})", f"{label} || ': ' || {_repr_sql(text)} || ' is not a number'"))
            value = f"case when {ok} then {text}::numeric end"
        elif kind == "duration":
            shape = f"{text} ~ '^[0-9]{{1,9}}(:[0-9]{{1,9}}){{0,2}}$'"
            seconds = (
                f"(select sum(p::bigint * 60 ^ (cardinality(a) - n))::bigint"
                f" from (select string_to_array({text}, ':') as a) as s,"
                f" unnest(a) with ordinality as u(p, n))"
            )
            problems.append(
                (f"not ({shape})", f"{label} || ': ' || {_repr_sql(text)} || ' is not a duration H:MM:SS'")
            )
            problems.append(
                (f"{seconds} > 2147483647", f"{label} || ': ' || {text} || ' is out of range'")
            )
            value = f"case when {shape} and {seconds} <= 2147483647 then {seconds}::integer end"
        elif kind == "boolean":
            problems.append(
                ("true", f"{label} || ': ' || {_repr_sql(text)} || ' has no boolean meaning in the mapping'")
            )
            value = "null::boolean"
        elif kind == "date":
            value, check, reason = self._date(target.name, spec, text, label)
            problems.append((f"not ({check})", reason))
        else:
            value, check, reason = self._timestamp(target.name, spec, text, label)
            problems.append((f"not ({check})", reason))
        return value, self._error(problems, target, spec, text)

    def _error(
        self, problems: list[tuple[str, str]], target: ContractField, spec: FieldSpec, text: str
    ) -> str:
        label = literal(self._label(target.name, spec))
        required = (
            f"when t_{target.name} is null then {label} || ': required value is missing' "
            if target.required
            else f"when t_{target.name} is null then null "
        )
        whens = " ".join(f"when {cond} then {reason}" for cond, reason in problems)
        return f"case {required}{whens} end"

    def _date(self, name: str, spec: FieldSpec, text: str, label: str) -> tuple[str, str, str]:
        reason = (
            f"{label} || ': ' || {_repr_sql(text)} || ' is not a date like ' || {literal(spec.format)}"
        )
        if spec.format == ISO8601:
            ok = f"{text} ~ '^\\d{{4}}-\\d\\d-\\d\\d$' and pg_input_is_valid({text}, 'date')"
            return f"case when {ok} then {text}::date end", ok, reason
        clock, _ = self._formats[name]
        canonical = _canonical(text, clock, "date")
        ok = f"coalesce(pg_input_is_valid({canonical}, 'date'), false)"
        return f"case when {ok} then ({canonical})::date end", ok, reason

    def _timestamp(
        self, name: str, spec: FieldSpec, text: str, label: str
    ) -> tuple[str, str, str]:
        """A timestamp as local wall time (`timestamp`), or for ISO-8601 with its offset as
        an instant (`timestamptz`); `finals()` puts wall times in the center's zone."""
        if spec.format == ISO8601:
            ok = f"{text} ~ {literal(_ISO_WITH_OFFSET)} and pg_input_is_valid({text}, 'timestamptz')"
            no_zone = (
                f"{text} ~ '^\\d{{4}}-\\d\\d-\\d\\d([T ][0-9:.,]+)?$'"
                f" and pg_input_is_valid({text}, 'timestamp')"
            )
            reason = (
                f"case when {no_zone} then {label} || ': ' || {_repr_sql(text)}"
                f" || ' has no time zone offset' else {label} || ': ' || {_repr_sql(text)}"
                f" || ' is not an ISO-8601 time' end"
            )
            return f"case when {ok} then {text}::timestamptz end", ok, reason
        clock, day = self._formats[name]
        reason = f"{label} || ': ' || {_repr_sql(text)} || ' does not match ' || {literal(spec.format)}"
        if day is None:
            canonical = _canonical(text, clock, "timestamp")
        else:
            # A clock time whose date is in another column.
            clock_part = _canonical(text, clock, "timestamp")
            day_part = _canonical(f"d_{name}", day, "date")
            canonical = f"({day_part} || ' ' || split_part({clock_part}, ' ', 2))"
        ok = f"coalesce(pg_input_is_valid({canonical}, 'timestamp'), false)"
        return f"case when {ok} then ({canonical})::timestamp end", ok, reason

    # -- layer 3: final values ----------------------------------------------------------------

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
            moment = f"(v_{name} at time zone {zone})"
            anchor = spec.not_before
            if anchor and spec.date_from:
                anchor_value = (
                    f"(v_{anchor} at time zone {zone})" if anchor in self._formats else f"v_{anchor}"
                )
                moment = (
                    f"case when {anchor_value} is not null and {moment} < {anchor_value} - {slack}"
                    f" then ((v_{name} + interval '1 day') at time zone {zone}) else {moment} end"
                )
            out[f"x_{name}"] = moment
        return out

    # -- the row rules ---------------------------------------------------------------------------

    def _holds(self, condition: Condition) -> str:
        raw = self.column(condition.column)
        wanted = condition.value
        if condition.op in ("in", "not in"):
            options = wanted if isinstance(wanted, list) else [wanted]
            listed = ", ".join(literal(str(v)) for v in options)
            return f"({raw} {condition.op} ({listed}))"
        op = {"=": "=", "!=": "<>"}.get(condition.op, condition.op)
        if isinstance(wanted, int | float) and not isinstance(wanted, bool):
            return f"(case when {raw} ~ {literal(_NUMERIC)} then {raw}::numeric {op} {wanted!r} else false end)"
        return f"({raw} collate \"C\" {op} {literal(str(wanted))})"

    def _rules(self, action: str) -> list[tuple[str, str]]:
        return [
            (" and ".join(self._holds(c) for c in rule.when), rule.reason)
            for rule in self.mapping.rules
            if rule.action == action
        ]

    def quarantine_reason(self, checks: list[tuple[str, str]]) -> str:
        """The first reason a row cannot land: a quarantine rule, then each field in
        RowParser's order (anchors first), then `checks` (condition, reason) on x_ values."""
        anchors = {s.not_before for s in self.mapping.fields.values() if s.not_before}
        order = sorted(self.mapping.contract, key=lambda f: f.name not in anchors)
        rules = [f"case when {cond} then {literal(reason)} end" for cond, reason in self._rules("quarantine")]
        fields = [f"e_{f.name}" for f in order]
        tail = " ".join(f"when {cond} then {reason}" for cond, reason in checks)
        later = [f"case {tail} end"] if checks else []
        return "coalesce(" + ", ".join([*rules, *fields, *later]) + ")"

    def flags(self) -> str:
        flagged = [f"case when {cond} then {literal(reason)} end" for cond, reason in self._rules("flag")]
        if not flagged:
            return "null::text"
        return f"nullif(concat_ws(',', {', '.join(flagged)}), '')"

    def day_check(self) -> tuple[str, str, str]:
        """For a file of many days: (the row's day as SQL, the check it is readable, why not)."""
        delivery = self.mapping.delivery
        text = self.column(delivery.day_column)
        fmt = _compile_strftime(delivery.day_format)
        canonical = _canonical(text, fmt, "date")
        ok = f"coalesce(pg_input_is_valid({canonical}, 'date'), false)"
        reason = (
            f"{literal(delivery.day_column)} || ': ' || {_repr_sql(text)} || ' does not match '"
            f" || {literal(delivery.day_format)}"
        )
        return f"case when {ok} then ({canonical})::date end", ok, reason


def split_fields(delimiter: str) -> str:
    """SQL splitting `line` into its CSV fields: a plain split unless the line has quotes."""
    return (
        f"case when strpos(line, '\"') = 0 then string_to_array(line, {literal(delimiter)})"
        f" else raw.csv_fields(line, {literal(delimiter)}, {literal(_regex_class_char(delimiter))})"
        " end"
    )
