"""Read a spreadsheet delivery, .xlsx or OpenDocument .ods, as rows of cell texts.

The format is told by the file's content, not by its name. Both are streamed, so memory stays
flat however long the sheet: an .xlsx through openpyxl's read-only mode, an .ods by parsing
its content.xml with iterparse (repeated rows and columns are never expanded when empty, so
the usual trailing "1,048,000 empty rows" costs nothing). The same content gives the same
texts in both formats (see cell_text).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Protocol
from xml.etree import ElementTree as ET

from openpyxl import load_workbook

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
MAX_COLUMNS = 16_384  # the widest sheet Excel and LibreOffice Calc make
MAX_SPACES = 32_767  # the longest text an .xlsx cell holds

_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_SHEET = _TABLE + "table"
_ROW = _TABLE + "table-row"
_CELL = _TABLE + "table-cell"
_COVERED = _TABLE + "covered-table-cell"
_PARAGRAPHS = (_TEXT + "p", _TEXT + "h")
_NUMERIC = ("float", "percentage", "currency")
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')  # "text", \c, [Red] or [$-409]
_INTEGER = re.compile(r"[+-]?\d+")
_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?"
)
_ODS_READ_ERRORS = (ET.ParseError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError)
# What openpyxl raises on a damaged sheet part as it streams it.
_XLSX_READ_ERRORS = (*_ODS_READ_ERRORS, KeyError, IndexError, ValueError, TypeError)

Block = tuple[int, int, list[str]]  # first row number, how many identical rows, their texts


class UnreadableWorkbook(ValueError):
    """A delivery that cannot be read as a workbook; the message names the file and why."""


def cell_text(value: object) -> str:
    """A cell as the text a mapping reads: None -> ""; a float that is integral -> its int
    text ("53" for 53.0); other floats -> str(value); bool -> "true"/"false"; datetime ->
    isoformat(sep=" ") ("2026-10-01 08:30:00"); date -> isoformat; time -> isoformat; a
    duration (timedelta) -> [-]HH:MM:SS[.ffffff] with hours past 24 kept ("36:00:00");
    anything else -> str(value).strip()."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _duration_text(value)
    return str(value).strip()


def read_workbook(
    path: Path, sheet: str | None = None, header_row: int = 1
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """(header texts, iterator of (row number as in the spreadsheet, 1-based; cell texts)) of
    the sheet (the first sheet when None). The header is row `header_row`; data rows follow
    it, skipping rows whose cells are all empty. Each data row is padded with "" to the
    header's width; non-empty cells past the header are kept (the row is then longer).

    The header is read at once: a file that is not an .xlsx or .ods workbook, a missing
    sheet, a header row past the end, empty, or with an empty or repeated column name raise
    UnreadableWorkbook here. The rows are streamed; the file stays open until the iterator
    is exhausted or closed."""
    if header_row < 1:
        raise ValueError(f"header_row counts from 1, not {header_row}")
    rows = _sheet_rows(Path(path), sheet, header_row)
    _, header = next(rows)
    return header, rows


class _Sheet(Protocol):
    title: str

    def blocks(self, first_row: int) -> Iterator[Block]: ...

    def close(self) -> None: ...


def _sheet_rows(path: Path, sheet: str | None, header_row: int) -> Iterator[tuple[int, list[str]]]:
    """The header row first (with its number), then the data rows."""
    with path.open("rb") as handle:
        kind = _kind(handle, path.name)
        source: _Sheet = (
            _XlsxSheet(handle, path.name, sheet)
            if kind == "xlsx"
            else _OdsSheet(handle, path.name, sheet)
        )
        try:
            yield from _rows(
                f"{path.name}, sheet {source.title!r}", source.blocks(header_row), header_row
            )
        finally:
            source.close()


def _kind(handle: IO[bytes], name: str) -> str:
    """ "xlsx" or "ods", told by the content."""
    start = handle.read(512)
    handle.seek(0)
    if not start:
        detail = "the file is empty"
    else:
        try:
            with zipfile.ZipFile(handle) as archive:
                members = set(archive.namelist())
                if "xl/workbook.xml" in members:
                    return "xlsx"
                if "mimetype" in members:
                    with archive.open("mimetype") as member:
                        mimetype = member.read(200).decode("ascii", "replace").strip()
                    if mimetype == ODS_MIMETYPE:
                        return "ods"
                    detail = f"a zip archive of {mimetype!r}, not of a spreadsheet"
                else:
                    detail = "a zip archive holding no xl/workbook.xml and no mimetype"
        # What zipfile raises for a file that is no zip, a damaged one, or one it cannot
        # open (encrypted: RuntimeError; an unsupported compression: NotImplementedError):
        # all refuse the delivery, with the reason.
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            RuntimeError,
            NotImplementedError,
        ) as error:
            detail = (
                "not a zip archive"
                if isinstance(error, zipfile.BadZipFile)
                else f"a zip archive that cannot be read ({type(error).__name__}: {error})"
            )
            if b"\0" not in start:
                detail += " (it begins like a text file: a CSV renamed?)"
        finally:
            handle.seek(0)
    raise UnreadableWorkbook(f"{name} is not an .xlsx or .ods workbook: {detail}")


def _rows(where: str, blocks: Iterator[Block], header_row: int) -> Iterator[tuple[int, list[str]]]:
    header: list[str] | None = None
    last = 0
    for first, count, cells in blocks:
        last = first + count - 1
        if header is None:
            if last < header_row:
                continue
            if first > header_row or not cells:
                raise UnreadableWorkbook(f"{where}: header row {header_row} is empty")
            header = _header(where, header_row, cells)
            yield header_row, header
            first, count = header_row + 1, last - header_row
        if cells:
            width = len(header)
            for row_no in range(first, first + count):
                yield row_no, cells + [""] * (width - len(cells))
    if header is None:
        end = f" (its last row is {last})" if last else ""
        raise UnreadableWorkbook(f"{where}: header row {header_row} is past the end{end}")


def _header(where: str, row: int, cells: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    for position, text in enumerate(cells, 1):
        column = f"column {position} ({_letters(position)}) of header row {row}"
        if not text:
            raise UnreadableWorkbook(f"{where}: {column} is empty")
        if text in seen:
            raise UnreadableWorkbook(
                f"{where}: {column} repeats the name {text!r} of column {seen[text]}"
            )
        seen[text] = position
    return list(cells)


def _letters(position: int) -> str:
    letters = ""
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _trimmed(cells: list[str]) -> list[str]:
    """Without its trailing empty cells (a row of only empty cells becomes [])."""
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    del cells[end:]
    return cells


def _duration_text(value: timedelta) -> str:
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    minutes, seconds = divmod(value.days * 86_400 + value.seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{text}.{value.microseconds:06d}" if value.microseconds else text


class _XlsxSheet:
    def __init__(self, handle: IO[bytes], name: str, sheet: str | None):
        # A handle, not the path: openpyxl would refuse a workbook by its suffix alone.
        try:
            self._book = load_workbook(handle, read_only=True, data_only=True)
        except Exception as error:  # openpyxl fails on a damaged package in many ways
            raise UnreadableWorkbook(f"{name} is not a readable .xlsx workbook: {error}") from None
        sheets = self._book.worksheets  # chart sheets left out: they hold no cells
        chosen = [s for s in sheets if sheet is None or s.title == sheet][:1]
        if not chosen:
            self._book.close()
            raise UnreadableWorkbook(_no_sheet(name, sheet, [s.title for s in sheets]))
        self._sheet = chosen[0]
        self.title: str = self._sheet.title
        self._name = name

    def blocks(self, first_row: int) -> Iterator[Block]:
        # The declared dimension may be wrong (too small): read every row the sheet holds.
        self._sheet.reset_dimensions()
        rows = self._sheet.iter_rows(min_row=first_row)
        try:
            for row_no, row in enumerate(rows, start=first_row):
                yield row_no, 1, _trimmed([_xlsx_text(cell) for cell in row])
        except _XLSX_READ_ERRORS as error:
            raise UnreadableWorkbook(
                f"{self._name}: sheet {self.title!r} is damaged: {error}"
            ) from None

    def close(self) -> None:
        self._book.close()


def _xlsx_text(cell: object) -> str:
    value = getattr(cell, "value", None)
    # A date comes back as a datetime at midnight: a cell formatted as a date only (showing
    # no hours or seconds) reads as the date, as the same cell of an .ods does.
    if (
        isinstance(value, datetime)
        and value.tzinfo is None
        and value.time() == time()
        and not _shows_time(getattr(cell, "number_format", None))
    ):
        return value.date().isoformat()
    return cell_text(value)


def _shows_time(number_format: str | None) -> bool:
    """Whether an Excel number format shows a time of day (its literals left out)."""
    codes = _FORMAT_LITERALS.sub("", (number_format or "").split(";")[0]).lower()
    return any(code in codes for code in ("h", "s", "am/pm", "a/p"))


def _no_sheet(name: str, sheet: str | None, present: list[str]) -> str:
    if not present:
        return f"{name} has no sheet"
    return f"{name} has no sheet {sheet!r}; its sheets are {', '.join(map(repr, present))}"


class _OdsSheet:
    def __init__(self, handle: IO[bytes], name: str, sheet: str | None):
        self._name = name
        self._archive = zipfile.ZipFile(handle)
        try:
            self._content = self._archive.open("content.xml")
        except KeyError:
            self._archive.close()
            raise UnreadableWorkbook(
                f"{name} is not a readable .ods workbook: no content.xml"
            ) from None
        except _ODS_READ_ERRORS as error:
            self._archive.close()
            raise UnreadableWorkbook(f"{name} is not a readable .ods workbook: {error}") from None
        self._walk = self._elements()
        try:
            self.title = self._find(sheet)
        except BaseException:
            self.close()
            raise

    def _elements(self) -> Iterator[tuple[str, ET.Element]]:
        """("sheet", a sheet's element as it opens), ("row", one of its rows, whole) and
        ("end", the sheet as it closes), in document order. Each row is dropped from the
        tree once handled, so the tree never holds more than one."""
        parents: list[ET.Element] = []
        depth = 0  # of sheets: a table inside a cell is not one
        try:
            for event, element in ET.iterparse(self._content, events=("start", "end")):
                if event == "start":
                    if element.tag == _SHEET:
                        depth += 1
                        if depth == 1:
                            yield "sheet", element
                    parents.append(element)
                    continue
                parents.pop()
                if element.tag == _ROW:
                    if depth == 1:
                        yield "row", element
                elif element.tag == _SHEET:
                    depth -= 1
                    if depth == 0:
                        yield "end", element
                else:
                    continue
                if parents:
                    parents[-1].remove(element)
        except _ODS_READ_ERRORS as error:
            raise UnreadableWorkbook(f"{self._name}: content.xml cannot be read: {error}") from None

    def _find(self, sheet: str | None) -> str:
        present: list[str] = []
        for kind, element in self._walk:
            if kind == "sheet":
                title = element.get(_TABLE + "name", "")
                if sheet is None or title == sheet:
                    return title
                present.append(title)
        raise UnreadableWorkbook(_no_sheet(self._name, sheet, present))

    def blocks(self, first_row: int) -> Iterator[Block]:
        row_no = 1
        for kind, element in self._walk:
            if kind == "end":
                return
            if kind == "row":
                count = self._count(element, "number-rows-repeated", None)
                # Rows before the header are only counted, never read.
                cells = self._cells(element) if row_no + count > first_row else []
                yield row_no, count, cells
                row_no += count

    def _count(self, element: ET.Element, attribute: str, limit: int | None) -> int:
        text = element.get(_TABLE + attribute, "1")
        if not text.isdigit() or int(text) < 1 or (limit is not None and int(text) > limit):
            raise UnreadableWorkbook(f"{self._name}: content.xml has {attribute}={text!r}")
        return int(text)

    def _cells(self, row: ET.Element) -> list[str]:
        """The row's texts, without its trailing empty cells: empty repeated cells are only
        counted, and spread out only when a cell with a value follows them."""
        cells: list[str] = []
        empty = 0
        for cell in row:
            if cell.tag not in (_CELL, _COVERED):
                continue
            count = self._count(cell, "number-columns-repeated", MAX_COLUMNS)
            # A covered cell is the hidden part of a merged range: empty, as in an .xlsx.
            text = self._value(cell) if cell.tag == _CELL else ""
            if not text:
                empty += count
                continue
            if len(cells) + empty + count > MAX_COLUMNS:
                raise UnreadableWorkbook(
                    f"{self._name}: a row holds a value past column {MAX_COLUMNS}"
                )
            cells.extend([""] * empty)
            cells.extend([text] * count)
            empty = 0
        return cells

    def _value(self, cell: ET.Element) -> str:
        kind = cell.get(_OFFICE + "value-type")
        if kind in _NUMERIC:
            number = _number_text(cell.get(_OFFICE + "value", ""))
            if number is not None:
                return number
        elif kind == "date":
            moment = _date_text(cell.get(_OFFICE + "date-value", ""))
            if moment is not None:
                return moment
        elif kind == "time":
            duration = _ods_duration(cell.get(_OFFICE + "time-value", ""))
            if duration is not None:
                return cell_text(duration)
        elif kind == "boolean":
            flag = cell.get(_OFFICE + "boolean-value", "").strip().lower()
            if flag in ("true", "1", "false", "0"):
                return cell_text(flag in ("true", "1"))
        elif kind == "string":
            string = cell.get(_OFFICE + "string-value")
            if string is not None:
                return cell_text(string)
        # No typed value (or one that cannot be read): the cell's paragraphs as shown.
        return cell_text("\n".join(self._inline(p) for p in cell if p.tag in _PARAGRAPHS))

    def _inline(self, element: ET.Element) -> str:
        parts = [element.text or ""]
        for child in element:
            if child.tag == _TEXT + "s":
                text = child.get(_TEXT + "c", "1")
                if not text.isdigit() or int(text) > MAX_SPACES:
                    raise UnreadableWorkbook(f"{self._name}: content.xml has text:c={text!r}")
                parts.append(" " * int(text))
            elif child.tag == _TEXT + "tab":
                parts.append("\t")
            elif child.tag == _TEXT + "line-break":
                parts.append("\n")
            elif child.tag != _OFFICE + "annotation":
                parts.append(self._inline(child))  # spans, links, fields: their text
            parts.append(child.tail or "")
        return "".join(parts)

    def close(self) -> None:
        self._walk.close()
        self._content.close()
        self._archive.close()


def _number_text(raw: str) -> str | None:
    raw = raw.strip()
    if _INTEGER.fullmatch(raw):
        return str(int(raw))  # exactly, however long (as openpyxl reads an integer)
    try:
        return cell_text(float(raw))
    except ValueError:
        return None


def _date_text(raw: str) -> str | None:
    raw = raw.strip()
    try:
        return cell_text(datetime.fromisoformat(raw) if "T" in raw else date.fromisoformat(raw))
    except ValueError:
        return None


def _ods_duration(raw: str) -> timedelta | None:
    """PT08H30M00S (ISO 8601, as ODF writes a time) as a timedelta; None when unreadable or
    counted in years or months."""
    match = _DURATION.fullmatch(raw.strip())
    if match is None or raw.strip() in ("P", "-P", "PT", "-PT"):
        return None
    sign, years, months, days, hours, minutes, seconds = match.groups()
    if int(years or 0) or int(months or 0):
        return None
    duration = timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )
    return -duration if sign else duration
