"""The monthly supervisor workbooks: reading .xlsx through a mapping, the range rules,
which months a daily run looks for, and the simulator's truth for business time."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from extractors.mapping import RowParser, load_mapping
from extractors.mapping_check import check_file
from extractors.settings import DEFAULT_MAPPINGS
from extractors.supervisor.extract import delivered_workbooks
from extractors.supervisor.parse import UnreadableWorkbook, header_and_rows, sheet_rows
from simulator.config import SimulationConfig
from simulator.exports import SUPERVISOR_HEADER
from simulator.ground_truth import BusinessClock

MAPPING = load_mapping(DEFAULT_MAPPINGS / "supervisor.yml")
GOOD = ["2026-10", "T01", "AG0001", 4.5, 4, 3, 88, 2, 2, 1, "called Mr. Wang back"]


def _workbook(path, *rows, header=SUPERVISOR_HEADER, sheet="Monthly inputs"):
    book = Workbook()
    book.active.title = sheet
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def _parse(path):
    header, cells = header_and_rows(path, MAPPING.delivery.sheet)
    return list(sheet_rows(header, cells, path.name, RowParser(MAPPING)))


def test_a_workbook_line_lands_with_its_numbers(tmp_path):
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
def test_impossible_lines_are_quarantined_with_the_reason(tmp_path, column, value, reason):
    bad = list(GOOD)
    bad[column] = value
    rows = _parse(_workbook(tmp_path / "team_T01.xlsx", GOOD, bad, [None] * 11))
    assert [r.reason for r in rows] == [None, reason]  # the empty line is skipped


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "team_T01.xlsx"
    path.write_text("Month,Team\n2026-10,T01\n")
    with pytest.raises(UnreadableWorkbook, match="not a readable .xlsx workbook"):
        header_and_rows(path, None)
    book = _workbook(tmp_path / "other.xlsx", GOOD, sheet="Sheet1")
    with pytest.raises(UnreadableWorkbook, match="has no sheet 'Monthly inputs'"):
        header_and_rows(book, "Monthly inputs")


def test_a_daily_run_reads_its_month_and_the_month_before(tmp_path):
    for month in ("2026-09", "2026-10", "2026-11", "2026-12"):
        (tmp_path / "supervisor" / month).mkdir(parents=True)
        for team in ("T01", "T02"):
            (tmp_path / "supervisor" / month / f"team_{team}.xlsx").write_bytes(b"")
    found = delivered_workbooks(tmp_path, MAPPING.delivery.file_pattern, date(2026, 11, 3), 1)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "supervisor/2026-10/team_T01.xlsx",
        "supervisor/2026-10/team_T02.xlsx",
        "supervisor/2026-11/team_T01.xlsx",
        "supervisor/2026-11/team_T02.xlsx",
    ]
    january = delivered_workbooks(tmp_path, MAPPING.delivery.file_pattern, date(2027, 1, 5), 1)
    assert [p.parent.name for p in january] == ["2026-12", "2026-12"]
    assert delivered_workbooks(tmp_path, MAPPING.delivery.file_pattern, date(2027, 3, 1), 1) == []


def test_check_mapping_reads_a_workbook_and_masks_the_comment(tmp_path):
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
