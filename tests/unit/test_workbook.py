"""Workbook deliveries: .xlsx and .ods read by content into the same header and row texts."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from extractors.workbook import UnreadableWorkbook, cell_text, read_workbook

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"


def _xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _ods(path: Path, tables: str, mimetype: str = ODS_MIMETYPE) -> Path:
    """An .ods written by hand: `tables` is the XML of its table:table elements."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:automatic-styles/><office:body><office:spreadsheet>"
        f"{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # first and stored, as ODF says
        archive.writestr("content.xml", content)
    return path


def _cell(text: str, repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{repeated}>'
        f"<text:p>{text}</text:p></table:table-cell>"
    )


def _row(*cells: str, repeat: int = 1) -> str:
    repeated = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{repeated}>{''.join(cells)}</table:table-row>"


def _table(name: str, *rows: str) -> str:
    return f'<table:table table:name="{name}">{"".join(rows)}</table:table>'


EMPTY_CELL = "<table:table-cell/>"
EMPTY_ROW = _row(EMPTY_CELL)
TAIL = _row('<table:table-cell table:number-columns-repeated="16384"/>', repeat=1_048_000)


def _read(path: Path, **options) -> tuple[list[str], list[tuple[int, list[str]]]]:
    header, rows = read_workbook(path, **options)
    return header, list(rows)


# cell_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (53.0, "53"),
        (-0.0, "0"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (1e-07, "1e-07"),
        (53, "53"),
        (True, "true"),
        (False, "false"),
        (datetime(2026, 10, 1, 8, 30), "2026-10-01 08:30:00"),
        (date(2026, 10, 1), "2026-10-01"),
        (time(8, 30), "08:30:00"),
        (time(8, 30, 0, 500_000), "08:30:00.500000"),
        (timedelta(hours=8, minutes=30), "08:30:00"),
        (timedelta(hours=36), "36:00:00"),
        (timedelta(minutes=-90), "-01:30:00"),
        ("  agent 7 \n", "agent 7"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


# .xlsx


def test_xlsx_header_rows_and_texts(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "team.xlsx",
        {
            "Inputs": [
                ["agent_id", " score ", "coached", "day", "at", "start"],
                ["A1", 53.0, True, date(2026, 10, 1), datetime(2026, 10, 1, 8, 30), time(8, 30)],
                [None, None, None],
                ["A2", 1.5, False],
                ["A3", 7, None, None, None, None, "extra"],
            ]
        },
    )
    header, rows = _read(path)
    assert header == ["agent_id", "score", "coached", "day", "at", "start"]
    assert rows == [
        (2, ["A1", "53", "true", "2026-10-01", "2026-10-01 08:30:00", "08:30:00"]),
        (4, ["A2", "1.5", "false", "", "", ""]),
        (5, ["A3", "7", "", "", "", "", "extra"]),
    ]


def test_xlsx_gaps_and_a_wrong_dimension(tmp_path: Path) -> None:
    """Rows never written are empty rows; a sheet whose declared size is too small is
    still read to its end."""
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "name"])
    sheet["A5"], sheet["B5"] = 5, "five"
    sheet["A9"] = 9
    path = tmp_path / "team.xlsx"
    book.save(path)
    shrunk = tmp_path / "shrunk.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(shrunk, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', data)
            target.writestr(item, data)
    for each in (path, shrunk):
        assert _read(each) == (["id", "name"], [(5, ["5", "five"]), (9, ["9", ""])])


def test_xlsx_sheet_selection_and_header_row(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "team.xlsx",
        {
            "Notes": [["read me"]],
            "Inputs": [["Team T01"], [], ["agent_id", "score"], ["A1", 4], ["A2", 5]],
        },
    )
    assert _read(path) == (["read me"], [])
    assert _read(path, sheet="Inputs", header_row=3) == (
        ["agent_id", "score"],
        [(4, ["A1", "4"]), (5, ["A2", "5"])],
    )


# .ods


def test_ods_values_of_every_type(tmp_path: Path) -> None:
    header = _row(*(_cell(name) for name in ("n", "pct", "cur", "day", "at", "start", "ok", "t")))
    values = _row(
        '<table:table-cell office:value-type="float" office:value="53"><text:p>53</text:p>'
        "</table:table-cell>",
        '<table:table-cell office:value-type="percentage" office:value="0.25"><text:p>25%'
        "</text:p></table:table-cell>",
        '<table:table-cell office:value-type="currency" office:currency="EUR" office:value="12.5">'
        "<text:p>12,50 €</text:p></table:table-cell>",
        '<table:table-cell office:value-type="date" office:date-value="2026-10-01">'
        "<text:p>01/10/26</text:p></table:table-cell>",
        '<table:table-cell office:value-type="date" office:date-value="2026-10-01T08:30:00">'
        "<text:p>01/10/26 08:30</text:p></table:table-cell>",
        '<table:table-cell office:value-type="time" office:time-value="PT08H30M00S">'
        "<text:p>08:30</text:p></table:table-cell>",
        '<table:table-cell office:value-type="boolean" office:boolean-value="true">'
        "<text:p>TRUE</text:p></table:table-cell>",
        '<table:table-cell office:value-type="string"><text:p>two<text:s text:c="2"/>spaces'
        '</text:p><text:p>and <text:span text:style-name="T1">a line</text:span></text:p>'
        "<office:annotation><text:p>a comment, not the cell</text:p></office:annotation>"
        "</table:table-cell>",
    )
    more = _row(
        '<table:table-cell office:value-type="float" office:value="53.0"><text:p>53.0</text:p>'
        "</table:table-cell>",
        '<table:table-cell office:value-type="float" office:value="-1.5"/>',
        '<table:table-cell office:value-type="float" office:value="12345678901234567890"/>',
        '<table:table-cell office:value-type="string" office:string-value=" padded "/>',
        '<table:table-cell office:value-type="boolean" office:boolean-value="false"/>',
        '<table:table-cell office:value-type="time" office:time-value="PT36H00M00S"/>',
        "<table:table-cell><text:p>no type</text:p></table:table-cell>",
    )
    path = _ods(tmp_path / "team.ods", _table("Inputs", header, values, more, TAIL))
    assert _read(path) == (
        ["n", "pct", "cur", "day", "at", "start", "ok", "t"],
        [
            (
                2,
                [
                    "53",
                    "0.25",
                    "12.5",
                    "2026-10-01",
                    "2026-10-01 08:30:00",
                    "08:30:00",
                    "true",
                    "two  spaces\nand a line",
                ],
            ),
            (
                3,
                [
                    "53",
                    "-1.5",
                    "12345678901234567890",
                    "padded",
                    "false",
                    "36:00:00",
                    "no type",
                    "",
                ],
            ),
        ],
    )


def test_ods_repeated_columns_and_rows(tmp_path: Path) -> None:
    """Repeated cells with a value are spread out, empty ones only before a value; a repeated
    row with values is that many rows; empty repeated rows (the million-row tail) are skipped
    without being expanded."""
    path = _ods(
        tmp_path / "team.ods",
        _table(
            "Inputs",
            _row(
                _cell("a"),
                _cell("b"),
                _cell("c"),
                _cell("d"),
                '<table:table-cell table:number-columns-repeated="16380"/>',
            ),
            _row(_cell("x", repeat=2), '<table:table-cell table:number-columns-repeated="2"/>'),
            _row('<table:table-cell table:number-columns-repeated="3"/>', _cell("last")),
            _row(_cell("same"), repeat=3),
            _row('<table:table-cell table:number-columns-repeated="1024"/>', repeat=5),
            _row(_cell("after the gap")),
            _row(EMPTY_CELL, repeat=10**15),  # were empty rows counted out, this would not end
            TAIL,
        ),
    )
    assert _read(path) == (
        ["a", "b", "c", "d"],
        [
            (2, ["x", "x", "", ""]),
            (3, ["", "", "", "last"]),
            (4, ["same", "", "", ""]),
            (5, ["same", "", "", ""]),
            (6, ["same", "", "", ""]),
            (12, ["after the gap", "", "", ""]),
        ],
    )


def test_ods_merged_and_covered_cells_and_row_groups(tmp_path: Path) -> None:
    merged = (
        '<table:table-cell table:number-columns-spanned="2" office:value-type="string">'
        "<text:p>merged</text:p></table:table-cell>"
        '<table:covered-table-cell office:value-type="string"><text:p>hidden</text:p>'
        "</table:covered-table-cell>"
    )
    path = _ods(
        tmp_path / "team.ods",
        _table(
            "Inputs",
            '<table:table-column table:number-columns-repeated="3"/>',
            f"<table:table-header-rows>{_row(_cell('a'), _cell('b'), _cell('c'))}"
            "</table:table-header-rows>",
            f"<table:table-row-group>{_row(merged, _cell('z'))}{EMPTY_ROW}</table:table-row-group>",
            _row('<table:covered-table-cell table:number-columns-repeated="3"/>'),
            _row(_cell("end")),
        ),
    )
    assert _read(path) == (["a", "b", "c"], [(2, ["merged", "", "z"]), (5, ["end", "", ""])])


def test_ods_sheet_selection_and_header_row(tmp_path: Path) -> None:
    path = _ods(
        tmp_path / "team.ods",
        _table("Notes", _row(_cell("read me")), TAIL)
        + _table(
            "Inputs",
            _row(_cell("Team T01")),
            EMPTY_ROW,
            _row(_cell("agent_id"), _cell("score")),
            _row(_cell("A1"), '<table:table-cell office:value-type="float" office:value="4"/>'),
            TAIL,
        ),
    )
    assert _read(path) == (["read me"], [])
    assert _read(path, sheet="Inputs", header_row=3) == (
        ["agent_id", "score"],
        [(4, ["A1", "4"])],
    )


def test_the_format_is_told_by_content(tmp_path: Path) -> None:
    xlsx = _xlsx(tmp_path / "delivery.ods", {"S": [["id"], [1]]})
    ods = _ods(tmp_path / "delivery.xlsx", _table("S", _row(_cell("id")), _row(_cell("1"))))
    for path in (xlsx, ods):
        assert _read(path) == (["id"], [(2, ["1"])])


def test_both_formats_give_the_same_texts(tmp_path: Path) -> None:
    import pandas  # writes .ods with odfpy, a dependency of the project

    frame = pandas.DataFrame(
        {
            "agent_id": ["A1", "A2", None],
            "calls": [53, 1.5, None],
            "at": [datetime(2026, 10, 1, 8, 30), datetime(2026, 10, 2), None],
            "day": [date(2026, 10, 1), None, None],
            "coached": [True, False, None],
            "note": ["  spaced  ", "", "only"],
        }
    )
    texts = []
    for suffix, engine in (("xlsx", "openpyxl"), ("ods", "odf")):
        path = tmp_path / f"team.{suffix}"
        frame.to_excel(path, index=False, engine=engine)
        texts.append(_read(path))
    assert (
        texts[0]
        == texts[1]
        == (
            ["agent_id", "calls", "at", "day", "coached", "note"],
            [
                (2, ["A1", "53", "2026-10-01 08:30:00", "2026-10-01", "true", "spaced"]),
                (3, ["A2", "1.5", "2026-10-02 00:00:00", "", "false", ""]),
                (4, ["", "", "", "", "", "only"]),
            ],
        )
    )


# what cannot be read


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        (
            "export.xlsx",
            lambda p: p.write_text("agent_id,score\nA1,4\n"),
            "not a zip archive (it begins like a text file: a CSV renamed?)",
        ),
        ("export.ods", lambda p: p.write_bytes(bytes(range(256)) * 4), "not a zip archive"),
        ("export.xlsx", lambda p: p.write_bytes(b""), "the file is empty"),
        (
            "export.ods",
            lambda p: _zip(p, {"mimetype": "application/vnd.oasis.opendocument.text"}),
            "a zip archive of 'application/vnd.oasis.opendocument.text', not of a spreadsheet",
        ),
        (
            "export.xlsx",
            lambda p: _zip(p, {"report.csv": "a,b\n"}),
            "a zip archive holding no xl/workbook.xml and no mimetype",
        ),
    ],
)
def test_not_a_workbook(tmp_path: Path, name: str, make, reason: str) -> None:
    path = tmp_path / name
    make(path)
    with pytest.raises(UnreadableWorkbook) as raised:
        read_workbook(path)
    assert str(raised.value) == f"{name} is not an .xlsx or .ods workbook: {reason}"


def _both(tmp_path: Path, rows: list[list[str]]) -> list[Path]:
    """The same rows as sheet Inputs of an .xlsx and of an .ods, each with a sheet Notes."""
    ods_rows = [_row(*(_cell(text) if text else EMPTY_CELL for text in row)) for row in rows]
    xlsx_rows = [[text or None for text in row] for row in rows]
    return [
        _xlsx(tmp_path / "team.xlsx", {"Inputs": xlsx_rows, "Notes": []}),
        _ods(tmp_path / "team.ods", _table("Inputs", *ods_rows) + _table("Notes", TAIL)),
    ]


def test_missing_sheet(tmp_path: Path) -> None:
    for path in _both(tmp_path, [["id"]]):
        with pytest.raises(UnreadableWorkbook) as raised:
            read_workbook(path, sheet="Scores")
        assert str(raised.value) == (
            f"{path.name} has no sheet 'Scores'; its sheets are 'Inputs', 'Notes'"
        )


@pytest.mark.parametrize(
    ("rows", "options", "problem"),
    [
        ([["id", "", "score"]], {}, "column 2 (B) of header row 1 is empty"),
        (
            [["id", "score", "id"]],
            {},
            "column 3 (C) of header row 1 repeats the name 'id' of column 1",
        ),
        ([["title"], [""], ["id"]], {"header_row": 2}, "header row 2 is empty"),
    ],
)
def test_bad_header(tmp_path: Path, rows: list[list[str]], options: dict, problem: str) -> None:
    for path in _both(tmp_path, rows):
        with pytest.raises(UnreadableWorkbook) as raised:
            read_workbook(path, **options)
        assert str(raised.value) == f"{path.name}, sheet 'Inputs': {problem}"


def test_header_row_past_the_end(tmp_path: Path) -> None:
    xlsx, ods = _both(tmp_path, [["id"], ["1"]])
    with pytest.raises(UnreadableWorkbook) as raised:
        read_workbook(xlsx, header_row=3)
    assert str(raised.value) == "team.xlsx, sheet 'Inputs': header row 3 is past the end"
    ods = _ods(ods, _table("Inputs", _row(_cell("id")), _row(_cell("1"))))
    with pytest.raises(UnreadableWorkbook) as raised:
        read_workbook(ods, header_row=3)
    assert str(raised.value) == (
        "team.ods, sheet 'Inputs': header row 3 is past the end (its last row is 2)"
    )


def test_damaged_ods_content(tmp_path: Path) -> None:
    path = _ods(tmp_path / "team.ods", _table("Inputs", _row(_cell("id")), "<table:table-row>"))
    header, rows = read_workbook(path)
    assert header == ["id"]
    with pytest.raises(UnreadableWorkbook, match=r"^team\.ods: content\.xml cannot be read: "):
        list(rows)
