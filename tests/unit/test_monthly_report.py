"""The month-close report renders hand-made scorecards into CSVs, PNGs and one HTML page.

Expected numbers are worked out by hand in the comments (linear-interpolation quartiles:
position (n - 1) * p in the sorted scores; rounding half up to 2 decimals), never by
calling the module's own helpers.
"""

import base64
import csv
import random
import re
import statistics
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from operations.monthly_report import write_monthly_report

MONTH = date(2026, 10, 1)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def card(agent_id, name, team_id, score, grade, rank, bonus, ranked=True):
    team_name = {"T1": "Alpha", "T2": "Beta"}[team_id]
    return {
        "agent_id": agent_id,
        "agent_name": name,
        "team_id": team_id,
        "team_name": team_name,
        "total_score": score,
        "grade": grade,
        "grade_zh": {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}[grade],
        "is_ranked": ranked,
        "team_rank": rank,
        "center_rank": None,
        "bonus_amount": bonus,
        "working_days": 21 if ranked else 4,
        "qa_severe_defect_count": 0,
        "phone": "13800000000",  # personal data that must not reach the CSV
    }


# T1 (Decimal scores): A1 and A3 tie at rank 2, A2 is not ranked.
# T2 (float scores): ranks run opposite to the agent ids.
SCORECARDS = [
    card("A3", "Cy", "T1", Decimal("85.0000"), "good", 2, Decimal("340.00")),
    card("A2", "Dee & Co", "T1", Decimal("70.0000"), "pass", None, Decimal("280.00"), False),
    card("A1", "Bob", "T1", Decimal("85.0000"), "good", 2, Decimal("340.00")),
    card("A4", "Ann <Lead>", "T1", Decimal("92.5000"), "excellent", 1, Decimal("370.00")),
    card("A6", "Fay", "T2", 78.4, "pass", 2, Decimal("313.60")),
    card("A5", "Eve", "T2", 55.0, "fail", 3, Decimal("220.00")),
    card("A7", "Gus", "T2", 88.1, "good", 1, Decimal("352.40")),
]


def qa(team_id, month, records, avg, accuracy, compliance, severe, change):
    return {
        "team_id": team_id,
        "month_start": month,
        "records_inspected": records,
        "qa_score_avg": avg,
        "information_accuracy": accuracy,
        "compliance_avg": compliance,
        "severe_defect_count": severe,
        "qa_score_change": change,
    }


SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
QA_TREND = [
    qa("T2", OCT, 0, None, None, None, 0, None),  # no inspections in October
    qa("T1", OCT, 40, Decimal("88.456"), Decimal("0.95"), Decimal("91.5"), 1, Decimal("1.2")),
    qa("T2", SEP, 30, Decimal("80.0"), Decimal("0.9"), Decimal("85.0"), 2, None),
    qa("T1", SEP, 35, Decimal("87.256"), Decimal("0.93"), Decimal("90.0"), 0, None),
    qa("T1", NOV, 50, Decimal("99.0"), Decimal("1"), Decimal("99.0"), 0, Decimal("10.5")),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("report") / "2026-10"  # does not exist yet
    paths = write_monthly_report(MONTH, SCORECARDS, QA_TREND, out_dir)
    return out_dir, paths


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_files_written_are_returned(report):
    out_dir, paths = report
    assert [p.name for p in paths] == [
        "scorecards_2026-10.csv",
        "team_summary_2026-10.csv",
        "qa_trend_2026-10.csv",
        "score_distribution_2026-10.png",
        "grade_counts_2026-10.png",
        "qa_trend_2026-10.png",
        "report_2026-10.html",
    ]
    assert all(p.parent == out_dir and p.is_file() for p in paths)


def test_scorecards_are_ordered_by_team_rank_then_agent_with_the_unranked_last(report):
    out_dir, _ = report
    rows = read_csv(out_dir / "scorecards_2026-10.csv")
    assert [r["agent_id"] for r in rows] == ["A4", "A1", "A3", "A2", "A7", "A6", "A5"]
    assert list(rows[0]) == [
        "agent_id",
        "agent_name",
        "team_id",
        "team_name",
        "total_score",
        "grade",
        "grade_zh",
        "is_ranked",
        "team_rank",
        "center_rank",
        "bonus_amount",
        "working_days",
        "qa_severe_defect_count",
    ]
    unranked = rows[3]
    assert (unranked["agent_name"], unranked["team_rank"], unranked["is_ranked"]) == (
        "Dee & Co",
        "",
        "false",
    )
    assert rows[0]["grade_zh"] == "优秀"
    assert "13800000000" not in (out_dir / "scorecards_2026-10.csv").read_text(encoding="utf-8")


def test_team_summary_matches_the_hand_computed_figures(report):
    out_dir, _ = report
    rows = {r["team_id"]: r for r in read_csv(out_dir / "team_summary_2026-10.csv")}
    assert list(rows) == ["T1", "T2", "CENTER"]
    figures = (
        "agents",
        "ranked_agents",
        "score_min",
        "score_p25",
        "score_median",
        "score_p75",
        "score_max",
        "score_mean",
        "excellent",
        "good",
        "pass",
        "fail",
        "bonus_total",
        "qa_score_avg",
        "qa_score_change",
    )
    expected = {
        # T1 sorted 70, 85, 85, 92.5 (n=4): p25 at 0.75 -> 70 + 0.75 * 15 = 81.25;
        # median at 1.5 -> 85; p75 at 2.25 -> 85 + 0.25 * 7.5 = 86.875 -> 86.88;
        # mean 332.5 / 4 = 83.125 -> 83.13; bonus 340 + 280 + 340 + 370 = 1330.
        "T1": ("4", "3", "70.00", "81.25", "85.00", "86.88", "92.50", "83.13")
        + ("1", "2", "1", "0", "1330.00", "88.46", "1.20"),
        # T2 sorted 55, 78.4, 88.1 (n=3): p25 at 0.5 -> 55 + 0.5 * 23.4 = 66.7;
        # median 78.4; p75 at 1.5 -> 78.4 + 0.5 * 9.7 = 83.25; mean 221.5 / 3 = 73.833;
        # bonus 313.6 + 220 + 352.4 = 886; October QA has no average, so blanks.
        "T2": ("3", "3", "55.00", "66.70", "78.40", "83.25", "88.10", "73.83")
        + ("0", "1", "1", "1", "886.00", "", ""),
        # All 7 sorted 55, 70, 78.4, 85, 85, 88.1, 92.5: p25 at 1.5 -> 70 + 0.5 * 8.4 = 74.2;
        # median at 3 -> 85; p75 at 4.5 -> 85 + 0.5 * 3.1 = 86.55; mean 554 / 7 = 79.143.
        "CENTER": ("7", "6", "55.00", "74.20", "85.00", "86.55", "92.50", "79.14")
        + ("1", "3", "2", "1", "2216.00", "", ""),
    }
    for team_id, values in expected.items():
        assert tuple(rows[team_id][f] for f in figures) == values, team_id
    assert (rows["T1"]["team_name"], rows["T2"]["team_name"]) == ("Alpha", "Beta")


def test_quartiles_agree_with_statistics_and_numpy(tmp_path):
    # The documented method: statistics.quantiles(inclusive) == numpy's default percentile.
    rng = random.Random(7)
    scores = [round(rng.uniform(40, 100), 4) for _ in range(23)]
    cards = [
        card(f"B{i:02d}", f"Agent {i}", "T1", s, "pass", i + 1, Decimal("0"))
        for i, s in enumerate(scores)
    ]
    write_monthly_report(MONTH, cards, [], tmp_path)
    team = read_csv(tmp_path / "team_summary_2026-10.csv")[0]
    got = [float(team[c]) for c in ("score_p25", "score_median", "score_p75")]
    stdlib = statistics.quantiles(scores, n=4, method="inclusive")
    assert got == pytest.approx(stdlib, abs=0.005)
    assert got == pytest.approx(list(np.percentile(scores, [25, 50, 75])), abs=0.005)


def test_qa_trend_rows_are_ordered_by_team_and_month_up_to_the_report_month(report):
    out_dir, _ = report
    with (out_dir / "qa_trend_2026-10.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        [
            "team_id",
            "month_start",
            "records_inspected",
            "qa_score_avg",
            "information_accuracy",
            "compliance_avg",
            "severe_defect_count",
            "qa_score_change",
        ],
        ["T1", "2026-09-01", "35", "87.256", "0.93", "90.0", "0", ""],
        ["T1", "2026-10-01", "40", "88.456", "0.95", "91.5", "1", "1.2"],
        ["T2", "2026-09-01", "30", "80.0", "0.9", "85.0", "2", ""],
        ["T2", "2026-10-01", "0", "", "", "", "0", ""],
    ]  # November is after the report month: left out


@pytest.mark.parametrize("chart", ["score_distribution", "grade_counts", "qa_trend"])
def test_charts_are_real_pngs(report, chart):
    out_dir, _ = report
    data = (out_dir / f"{chart}_2026-10.png").read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 5_000  # a drawn chart, not an empty canvas


def test_html_page_escapes_names_and_embeds_the_three_charts(report):
    out_dir, _ = report
    page = (out_dir / "report_2026-10.html").read_text(encoding="utf-8")
    assert "<title>Contact center monthly scorecard report 2026-10</title>" in page
    for name in ("Ann &lt;Lead&gt;", "Dee &amp; Co", "Bob", "Cy", "Eve", "Fay", "Gus"):
        assert name in page
    assert "Ann <Lead>" not in page and "Dee & Co" not in page
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3
    assert all(base64.b64decode(data).startswith(PNG_MAGIC) for data in images)
    assert 'src="http' not in page and "<link" not in page  # self-contained
    # T1's ranking: Ann first, the tie Bob/Cy by agent id, then Dee "not ranked".
    t1 = page.split("<h3>Alpha (T1)</h3>")[1].split("<h3>")[0]
    order = [t1.index(n) for n in ("Ann &lt;Lead&gt;", "Bob", "Cy", "Dee &amp; Co")]
    assert order == sorted(order)
    assert "<td>not ranked</td><td>Dee &amp; Co</td>" in t1


def test_output_is_deterministic(tmp_path):
    first = write_monthly_report(MONTH, SCORECARDS, QA_TREND, tmp_path / "a")
    second = write_monthly_report(MONTH, list(reversed(SCORECARDS)), QA_TREND, tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        if a.suffix in (".csv", ".html"):
            assert a.read_bytes() == b.read_bytes(), a.name


def test_an_unknown_grade_is_refused(tmp_path):
    bad = [card("A1", "Bob", "T1", 50.0, "fail", 1, Decimal("0")) | {"grade": "meh"}]
    with pytest.raises(ValueError, match="unknown grade 'meh'"):
        write_monthly_report(MONTH, bad, [], tmp_path)
