"""The monthly supervisor workbooks: reading .xlsx through a mapping (the landing, each
row read alike by the Python reference of tests/reference_reading.py), the range rules,
which months a daily run looks for, and the simulator's truth for business time."""

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from extractors.batch import make_batch
from extractors.daily import land_mappings, table_columns
from extractors.deliveries import Places, delivered_files
from extractors.mapping import load_mapping
from extractors.mapping_check import check_file
from extractors.settings import DEFAULT_MAPPINGS
from extractors.workbook import UnreadableWorkbook, read_workbook
from simulator.config import SimulationConfig
from simulator.exports import SUPERVISOR_HEADER
from simulator.ground_truth import BusinessClock
from tests.reference_reading import RowParser, header_and_rows, kept_rows, landed_rows, sheet_rows
from warehouse.connection import connect

MAPPING = load_mapping(DEFAULT_MAPPINGS / "supervisor.yml")
COLUMNS = table_columns("supervisor_inputs")
MONTH = date(2026, 10, 1)  # the month of the workbooks' lines
GOOD = ["2026-10", "T01", "AG0001", 4.5, 4, 3, 88, 2, 2, 1, "called Mr. Wang back"]


def _workbook(path, *rows, header=SUPERVISOR_HEADER, sheet="Monthly inputs"):
    book = Workbook()
    book.active.title = sheet
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def _batch(day: date):
    return make_batch("supervisor", day, MAPPING.timezone, "run", "extract", datetime.now(UTC))


def _parse(path):
    """The workbook delivered as a team's for October, landed by the run of 3 November
    (a month's inputs arrive after it ends): the rows landed and quarantined, in sheet
    order, which must be the reference's reading of the workbook."""
    landing = path.parent / "landing"
    name = f"supervisor/{MONTH:%Y-%m}/{path.name}"
    (landing / name).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, landing / name)
    header, cells = header_and_rows(path, MAPPING.delivery.sheet)
    reference = kept_rows(sheet_rows(header, cells, name, RowParser(MAPPING), MONTH))
    texts = {(r.source_object, r.position): r.raw_text for r in reference}
    with connect() as conn:
        land_mappings(
            conn, _batch(date(2026, 11, 3)), {"supervisor_inputs": MAPPING}, Places(landing)
        )
        rows = landed_rows(conn, "supervisor_inputs", COLUMNS, MAPPING.timezone, texts)
    assert rows == reference
    return rows


@pytest.mark.integration
def test_a_workbook_line_lands_with_its_numbers(clean_warehouse, tmp_path):
    (row,) = _parse(_workbook(tmp_path / "team_T01.xlsx", GOOD))
    assert row.reason is None and row.position == "2"
    assert row.values == (
        date(2026, 10, 1),
        "T01",
        "AG0001",
        Decimal("4.5"),
        4,
        3,
        Decimal("88"),
        2,
        2,
        1,
        "called Mr. Wang back",
    )


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (3, 6, "teamwork_rating: 6 is outside 1..5"),
        (6, 130, "exam_score: 130 is outside 0..100"),
        (5, 5, "training_sessions_attended: 5 is more than training_sessions_scheduled 4"),
        (9, 3, "plan_items_closed_on_time: 3 is more than plan_items_due 2"),
        (7, -1, "discipline_points: -1 is negative"),
        (2, None, "Agent ID: required value is missing"),
        (0, "Oct-2026", "Month: 'Oct-2026' is not a date like %Y-%m"),
        (3, "good", "Teamwork (1-5): 'good' is not a number"),
    ],
)
@pytest.mark.integration
def test_impossible_lines_are_quarantined_with_the_reason(
    clean_warehouse, tmp_path, column, value, reason
):
    bad = list(GOOD)
    bad[column] = value
    rows = _parse(_workbook(tmp_path / "team_T01.xlsx", GOOD, bad, [None] * 11))
    assert [r.reason for r in rows] == [None, reason]  # the empty line is skipped


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "team_T01.xlsx"
    path.write_text("Month,Team\n2026-10,T01\n")
    with pytest.raises(UnreadableWorkbook, match=r"is not an \.xlsx or \.ods workbook"):
        read_workbook(path, None)
    book = _workbook(tmp_path / "other.xlsx", GOOD, sheet="Sheet1")
    with pytest.raises(UnreadableWorkbook, match="has no sheet 'Monthly inputs'"):
        read_workbook(book, "Monthly inputs")


def test_a_daily_run_reads_its_month_and_the_month_before(tmp_path):
    for month in ("2026-09", "2026-10", "2026-11", "2026-12"):
        (tmp_path / "supervisor" / month).mkdir(parents=True)
        for team in ("T01", "T02"):
            (tmp_path / "supervisor" / month / f"team_{team}.xlsx").write_bytes(b"")
    assert MAPPING.delivery.months_back == 1

    def delivered_workbooks(day: date) -> list:
        return [path for path, _ in delivered_files(MAPPING, tmp_path, _batch(day))]

    found = delivered_workbooks(date(2026, 11, 3))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "supervisor/2026-10/team_T01.xlsx",
        "supervisor/2026-10/team_T02.xlsx",
        "supervisor/2026-11/team_T01.xlsx",
        "supervisor/2026-11/team_T02.xlsx",
    ]
    january = delivered_workbooks(date(2027, 1, 5))
    assert [p.parent.name for p in january] == ["2026-12", "2026-12"]
    assert delivered_workbooks(date(2027, 3, 1)) == []


@pytest.mark.integration
def test_check_mapping_reads_a_workbook_and_masks_the_comment(clean_warehouse, tmp_path):
    bad = list(GOOD)
    bad[6] = 130
    report = check_file(MAPPING, _workbook(tmp_path / "team_T01.xlsx", GOOD, bad))
    assert (report.landed, dict(report.quarantined)) == (
        1,
        {"exam_score: 130 is outside 0..100": 1},
    )
    assert report.landed_samples[0]["comment_text"] == "***"
    assert "Mr. Wang" not in report.quarantined_samples[0][2]


def test_the_truth_business_clock_stops_at_night_and_on_holidays():
    clock = BusinessClock(SimulationConfig())
    tz = ZoneInfo("Asia/Shanghai")
    # 17:20 -> 08:40 next morning: 10 + 10 minutes.
    assert (
        clock.seconds_between(
            datetime(2026, 10, 8, 17, 20, tzinfo=tz), datetime(2026, 10, 9, 8, 40, tzinfo=tz)
        )
        == 20 * 60
    )
    # Before the National Day week to after it: 30 + 30 minutes.
    assert (
        clock.seconds_between(
            datetime(2026, 9, 30, 17, 0, tzinfo=tz), datetime(2026, 10, 8, 9, 0, tzinfo=tz)
        )
        == 60 * 60
    )
    # 9 business hours from 17:00 on the 30th: 30 minutes then, 8.5 hours on the 8th.
    assert clock.add(datetime(2026, 9, 30, 17, 0, tzinfo=tz), 9 * 3600) == datetime(
        2026, 10, 8, 17, 0, tzinfo=tz
    )
