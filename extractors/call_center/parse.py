"""Parse an ACD export's lines into the canonical `raw.call_center_contacts` contract.

How a vendor's columns fill the contract is the vendor mapping's business
(extractors/mapping.py); what every contact must satisfy whatever the vendor is here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date

from extractors.contracts import CALL_CENTER
from extractors.mapping import RowParser
from warehouse.landing import RowRejected, SourceRow

COLUMNS = (*(f.name for f in CALL_CENTER), "quality_flags")
_AT = {f.name: i for i, f in enumerate(CALL_CENTER)}


class UnassignableRow(ValueError):
    """A row of a multi-day file whose day cannot be read: no batch can own it."""


def check_contact(values: tuple) -> None:
    """Rules every contact keeps, whatever the vendor."""
    abandoned = values[_AT["is_abandoned"]]
    offered, answered = values[_AT["offered_at"]], values[_AT["answered_at"]]
    if not abandoned and values[_AT["agent_id"]] is None:
        raise RowRejected("an answered contact needs an agent: none given")
    if not abandoned and answered is None:
        raise RowRejected("an answered contact needs an answer time: none given")
    if values[_AT["channel"]] not in ("phone", "chat"):
        raise RowRejected(f"channel {values[_AT['channel']]!r} is not phone or chat")
    ended = values[_AT["ended_at"]]
    if answered is not None and ended is not None and ended < answered:
        raise RowRejected("the contact ended before it was answered")
    if answered is not None and answered < offered:
        raise RowRejected("answered before it was offered")


# check_contact over the final values (x_<field>) of the set-based landing, in its order:
# (condition, reason as SQL).
CONTACT_CHECKS = [
    (
        "not x_is_abandoned and x_agent_id is null",
        "'an answered contact needs an agent: none given'",
    ),
    (
        "not x_is_abandoned and x_answered_at is null",
        "'an answered contact needs an answer time: none given'",
    ),
    (
        "x_channel not in ('phone', 'chat')",
        "'channel ' || raw.py_repr(x_channel) || ' is not phone or chat'",
    ),
    ("x_ended_at < x_answered_at", "'the contact ended before it was answered'"),
    ("x_answered_at < x_offered_at", "'answered before it was offered'"),
]


def split_line(text: str, delimiter: str) -> list[str]:
    return next(csv.reader([text], delimiter=delimiter))


def parse_lines(
    lines: Iterable[str],
    header: list[str],
    source_object: str,
    parser: RowParser,
    day: date | None = None,
    first_line: int = 2,
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
        try:
            values, flags = parser.parse(record)
            check_contact(values)
        except RowRejected as rejected:
            yield SourceRow(source_object, position, text, reason=str(rejected))
        else:
            yield SourceRow(
                source_object, position, text, values=(*values, ",".join(flags) or None)
            )
