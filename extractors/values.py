"""Field parsers shared by the extractors; each raises RowRejected with a readable reason."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from warehouse.landing import RowRejected


def required(field: str, value: str | None) -> str:
    if value is None or str(value).strip() == "":
        raise RowRejected(f"{field}: required value is missing")
    return str(value).strip()


def optional(value: str | None) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    return str(value).strip()


def integer_in(field: str, value, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise RowRejected(f"{field}: {value!r} is not an integer") from None
    if not low <= number <= high:
        raise RowRejected(f"{field}: {number} is outside {low}..{high}")
    return number


def one_of(field: str, value: str | None, allowed: frozenset[str]) -> str:
    text = required(field, value).lower()
    if text not in allowed:
        raise RowRejected(f"{field}: {value!r} is not one of {sorted(allowed)}")
    return text


def local_time(field: str, value: str | None, fmt: str, tz: ZoneInfo) -> datetime | None:
    """A clock time written without a zone, in the source's local zone."""
    if value is None or value.strip() == "":
        return None
    try:
        return datetime.strptime(value.strip(), fmt).replace(tzinfo=tz)
    except ValueError:
        raise RowRejected(f"{field}: {value!r} does not match {fmt}") from None


def aware_time(field: str, value: str | None, assume: ZoneInfo | None = None) -> datetime | None:
    """An ISO-8601 time; one without an offset is refused unless the source's zone is known."""
    if value is None or str(value).strip() == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise RowRejected(f"{field}: {value!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        if assume is None:
            raise RowRejected(f"{field}: {value!r} has no time zone")
        moment = moment.replace(tzinfo=assume)
    return moment


def iso_date(field: str, value: str | None) -> date | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise RowRejected(f"{field}: {value!r} is not a date") from None
