"""Parse a survey export's JSON lines into the canonical `raw.survey_responses` contract.

How a vendor's keys fill the contract is the vendor mapping's business; the rules every
response keeps, whatever the vendor, are here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from extractors.contracts import SURVEY
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


def parse_lines(lines: Iterable[str], source_object: str, parser: RowParser) -> Iterator[SourceRow]:
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        position = str(number)
        try:
            document = json.loads(text)
            if not isinstance(document, dict):
                raise RowRejected("line is not a JSON object")
            values, _flags = parser.parse(json_record(document))
            check_response(values)
        except json.JSONDecodeError as error:
            yield SourceRow(source_object, position, text, reason=f"not valid JSON: {error.msg}")
        except RowRejected as rejected:
            yield SourceRow(source_object, position, text, reason=str(rejected))
        else:
            yield SourceRow(source_object, position, text, values=values)
