"""Parse a survey export's JSON lines into the canonical `raw.survey_responses` contract.

How a vendor's keys fill the contract is the vendor mapping's business; the rules every
response keeps, whatever the vendor, are here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from extractors.contracts import SURVEY
from extractors.json_landing import Record, Unreadable
from extractors.mapping import RowParser, json_record
from warehouse.landing import RowRejected, SourceRow

COLUMNS = tuple(f.name for f in SURVEY)
_AT = {name: i for i, name in enumerate(COLUMNS)}
CHANNELS = frozenset({"phone", "chat", "email"})


def check_response(values: tuple) -> None:
    csat, nps = values[_AT["csat_score"]], values[_AT["nps_score"]]
    if csat is not None and not 1 <= csat <= 5:
        raise RowRejected(f"csat_score: {csat} is outside 1..5")
    if nps is not None and not 0 <= nps <= 10:
        raise RowRejected(f"nps_score: {nps} is outside 0..10")
    if values[_AT["channel"]] not in CHANNELS:
        raise RowRejected(f"channel {values[_AT['channel']]!r} is not one of {sorted(CHANNELS)}")
    responded, contact = values[_AT["responded_at"]], values[_AT["contact_at"]]
    if responded is not None and responded < contact:
        raise RowRejected("responded before the contact began")


# check_response over the final values (x_<field>) of the set-based landing, in its order:
# (condition, reason as SQL).
RESPONSE_CHECKS = [
    ("x_csat_score not between 1 and 5", "'csat_score: ' || x_csat_score || ' is outside 1..5'"),
    ("x_nps_score not between 0 and 10", "'nps_score: ' || x_nps_score || ' is outside 0..10'"),
    (
        f"x_channel is null or x_channel not in ({', '.join(map(repr, sorted(CHANNELS)))})",
        "'channel ' || coalesce(raw.py_repr(x_channel), 'None') || ' is not one of "
        + str(sorted(CHANNELS)).replace("'", "''")
        + "'",
    ),
    ("x_responded_at < x_contact_at", "'responded before the contact began'"),
]
NOT_AN_OBJECT = "line is not a JSON object"


def line_records(lines: Iterable[str], source_object: str) -> Iterator[Record]:
    """(file, line number, line, its JSON) of every line that is not blank: the set-based
    landing's input (extractors/json_landing.py)."""
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            document = Unreadable(f"not valid JSON: {error.msg}")
        yield source_object, str(number), text, document


def parse_lines(lines: Iterable[str], source_object: str, parser: RowParser) -> Iterator[SourceRow]:
    """The lines one by one (the reference reading; `RESPONSE_CHECKS` is its twin)."""
    for _, position, text, document in line_records(lines, source_object):
        try:
            if isinstance(document, Unreadable):
                raise RowRejected(document.reason)
            if not isinstance(document, dict):
                raise RowRejected(NOT_AN_OBJECT)
            values, _flags = parser.parse(json_record(document))
            check_response(values)
        except RowRejected as rejected:
            yield SourceRow(source_object, position, text, reason=str(rejected))
        else:
            yield SourceRow(source_object, position, text, values=values)
