"""The report people read when a month is closed: CSVs, PNG charts and one self-contained
HTML page, rendered from the frozen monthly scorecards and the team QA trend.

Pure Python (no database): the caller reads the rows, this module only renders them, so
the same input always gives byte-identical CSVs and HTML (sorted orders, no timestamps).

Numbers are kept in Decimal and rounded half up (like PostgreSQL's `round(numeric)`), not
with float rounding, so a hand-checked 83.125 prints as 83.13 in every file. Percentiles
use linear interpolation between closest ranks, the numpy/pandas default, which is also
`statistics.quantiles(method="inclusive")`.
"""

from __future__ import annotations

import base64
import csv
import html
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

GRADES = ("excellent", "good", "pass", "fail")  # best first: column and stacking order
GRADE_COLORS = {"excellent": "#2e7d32", "good": "#1e88e5", "pass": "#f9a825", "fail": "#c62828"}
CENTER = "CENTER"
NO_TEAM = ""  # agents without a team are reported together under an empty team id
NOT_RANKED = "not ranked"

SCORECARD_COLUMNS = (
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
)
SUMMARY_COLUMNS = (
    "team_id",
    "team_name",
    "agents",
    "ranked_agents",
    "score_min",
    "score_p25",
    "score_median",
    "score_p75",
    "score_max",
    "score_mean",
    *GRADES,
    "bonus_total",
    "qa_score_avg",
    "qa_score_change",
)
QA_TREND_COLUMNS = (
    "team_id",
    "month_start",
    "records_inspected",
    "qa_score_avg",
    "information_accuracy",
    "compliance_avg",
    "severe_defect_count",
    "qa_score_change",
)
CENT = Decimal("0.01")


def write_monthly_report(
    month_start: date, scorecards: list[dict], qa_trend: list[dict], out_dir: Path
) -> list[Path]:
    """Write the month's report into `out_dir` (created if missing) and return the paths
    written: three CSVs, three PNGs, then the HTML page that embeds the PNGs."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    month = f"{month_start:%Y-%m}"
    cards = sorted(scorecards, key=_card_order)
    # A re-run for an old month may be handed the whole trend table: later months are not
    # part of that month's report.
    trend = sorted(
        (row for row in qa_trend if row["month_start"] <= month_start),
        key=lambda row: (_team_key(row["team_id"]), row["month_start"]),
    )
    summary = _team_summary(month_start, cards, trend)

    csvs = {
        out_dir / f"scorecards_{month}.csv": (SCORECARD_COLUMNS, cards),
        out_dir / f"team_summary_{month}.csv": (SUMMARY_COLUMNS, summary),
        out_dir / f"qa_trend_{month}.csv": (QA_TREND_COLUMNS, trend),
    }
    for path, (columns, rows) in csvs.items():
        _write_csv(path, columns, rows)

    charts = {
        out_dir / f"score_distribution_{month}.png": _score_distribution_chart(cards, month),
        out_dir / f"grade_counts_{month}.png": _grade_counts_chart(summary, month),
        out_dir / f"qa_trend_{month}.png": _qa_trend_chart(trend, month),
    }
    for path, figure in charts.items():
        FigureCanvasAgg(figure).print_png(path)

    report = out_dir / f"report_{month}.html"
    report.write_text(_html_page(month, summary, cards, trend, list(charts)), encoding="utf-8")
    return [*csvs, *charts, report]


# --- ordering and numbers -------------------------------------------------------------


def _team_key(team_id: str | None) -> tuple[bool, str]:
    return (team_id is None, team_id or "")  # agents without a team come last


def _card_order(card: dict) -> tuple:
    rank = card.get("team_rank")
    return (*_team_key(card.get("team_id")), rank is None, rank or 0, card["agent_id"])


def _decimal(value: Decimal | float | int) -> Decimal:
    # str() first so a float such as 78.4 becomes Decimal("78.4"), not its binary expansion.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _two_places(value: Decimal | float | int | None) -> Decimal | None:
    return None if value is None else _decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _percentile(ordered: Sequence[Decimal], fraction: Decimal) -> Decimal:
    """Linear interpolation between the closest ranks (numpy's default `linear` method):
    position (n - 1) * fraction in the sorted values."""
    position = (len(ordered) - 1) * fraction
    below = int(position)
    if below + 1 >= len(ordered):
        return ordered[below]
    return ordered[below] + (position - below) * (ordered[below + 1] - ordered[below])


def _summary_row(team_id: str, team_name: str | None, cards: list[dict]) -> dict:
    scores = sorted(_decimal(card["total_score"]) for card in cards)
    grades = dict.fromkeys(GRADES, 0)
    for card in cards:
        if card["grade"] not in grades:
            raise ValueError(f"agent {card['agent_id']}: unknown grade {card['grade']!r}")
        grades[card["grade"]] += 1
    row = {
        "team_id": team_id,
        "team_name": team_name,
        "agents": len(cards),
        "ranked_agents": sum(1 for card in cards if card["is_ranked"]),
        **grades,
        "bonus_total": _two_places(sum((_decimal(c["bonus_amount"]) for c in cards), Decimal(0))),
    }
    if scores:  # a month without any scorecard still gets its (empty) CENTER row
        row |= {
            "score_min": _two_places(scores[0]),
            "score_p25": _two_places(_percentile(scores, Decimal("0.25"))),
            "score_median": _two_places(_percentile(scores, Decimal("0.5"))),
            "score_p75": _two_places(_percentile(scores, Decimal("0.75"))),
            "score_max": _two_places(scores[-1]),
            "score_mean": _two_places(sum(scores, Decimal(0)) / len(scores)),
        }
    return row


def _team_summary(month_start: date, cards: list[dict], trend: list[dict]) -> list[dict]:
    """One row per team (in team order), then CENTER over all agents. CENTER carries no
    QA figures: the QA trend is per team and an average of team averages would mislead."""
    teams: dict[str, list[dict]] = {}
    for card in cards:  # cards are already in team order
        teams.setdefault(card.get("team_id") or NO_TEAM, []).append(card)
    qa = {row["team_id"]: row for row in trend if row["month_start"] == month_start}
    rows = []
    for team_id, members in teams.items():
        team_name = next((c["team_name"] for c in members if c.get("team_name")), None)
        row = _summary_row(team_id, team_name, members)
        month_qa = qa.get(team_id, {})
        row["qa_score_avg"] = _two_places(month_qa.get("qa_score_avg"))
        row["qa_score_change"] = _two_places(month_qa.get("qa_score_change"))
        rows.append(row)
    rows.append(_summary_row(CENTER, None, cards))
    return rows


# --- CSV ------------------------------------------------------------------------------


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict]) -> None:
    # Only the named columns: extra keys of the input (personal data included) stay out.
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(row.get(column)) for column in columns] for row in rows)


# --- charts ---------------------------------------------------------------------------
# Figure + FigureCanvasAgg rather than pyplot: no global figure state and no display, so
# rendering is safe inside a worker process. Team ids label the axes because team names
# may use characters the default font cannot draw.


def _figure(title: str) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    return figure, axes


def _no_data(axes: Axes) -> None:
    axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)


def _score_distribution_chart(cards: list[dict], month: str) -> Figure:
    figure, axes = _figure(f"Total score by team, {month}")
    teams: dict[str, list[float]] = {}
    for card in cards:
        teams.setdefault(card.get("team_id") or "(no team)", []).append(float(card["total_score"]))
    if not teams:
        _no_data(axes)
        return figure
    axes.boxplot(list(teams.values()))
    axes.set_xticks(range(1, len(teams) + 1), list(teams))
    axes.set_xlabel("team")
    axes.set_ylabel("total score")
    return figure


def _grade_counts_chart(summary: list[dict], month: str) -> Figure:
    figure, axes = _figure(f"Agents by grade and team, {month}")
    teams = [row for row in summary if row["team_id"] != CENTER]
    if not teams:
        _no_data(axes)
        return figure
    labels = [row["team_id"] or "(no team)" for row in teams]
    bottom = [0] * len(teams)
    for grade in GRADES:
        counts = [row[grade] for row in teams]
        axes.bar(labels, counts, bottom=bottom, label=grade, color=GRADE_COLORS[grade])
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_xlabel("team")
    axes.set_ylabel("agents")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # agents are whole numbers
    axes.legend(loc="upper left", bbox_to_anchor=(1, 1))  # outside: never hides a bar
    return figure


def _qa_trend_chart(trend: list[dict], month: str) -> Figure:
    figure, axes = _figure(f"QA score average by month, up to {month}")
    months = sorted({row["month_start"] for row in trend})
    if not months:
        _no_data(axes)
        return figure
    index = {m: i for i, m in enumerate(months)}
    teams: dict[str, list[dict]] = {}
    for row in trend:  # already in team, month order
        teams.setdefault(row["team_id"] or "(no team)", []).append(row)
    for team_id, rows in teams.items():
        # A month without inspections (avg None) is a gap, not a zero.
        xs = [index[row["month_start"]] for row in rows]
        ys = [float("nan") if r["qa_score_avg"] is None else float(r["qa_score_avg"]) for r in rows]
        axes.plot(xs, ys, marker="o", label=team_id)
    axes.set_xticks(range(len(months)), [f"{m:%Y-%m}" for m in months])
    axes.set_xlabel("month")
    axes.set_ylabel("QA score average")
    axes.legend()
    return figure


# --- HTML -----------------------------------------------------------------------------

STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #bbb;padding:.25em .6em}td.n{text-align:right}"
    "img{max-width:100%}"
)


def _table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for value in row:
            numeric = isinstance(value, int | Decimal) and not isinstance(value, bool)
            text = html.escape(str(_cell(value)))
            cells.append(f'<td class="n">{text}</td>' if numeric else f"<td>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _team_label(team_id: str, team_name: str | None) -> str:
    if not team_id:
        return "(no team)"
    return f"{team_name} ({team_id})" if team_name else team_id


def _rankings(summary: list[dict], cards: list[dict]) -> str:
    parts = []
    for team in summary[:-1]:  # the last row is CENTER
        members = [c for c in cards if (c.get("team_id") or NO_TEAM) == team["team_id"]]
        rows = [
            (
                NOT_RANKED if card.get("team_rank") is None else card["team_rank"],
                card.get("agent_name") or card["agent_id"],
                card["agent_id"],
                _two_places(card["total_score"]),
                f"{card['grade']} ({card['grade_zh']})" if card.get("grade_zh") else card["grade"],
                _two_places(card["bonus_amount"]),
            )
            for card in members  # ranked first by rank, then the unranked (card order)
        ]
        parts.append(f"<h3>{html.escape(_team_label(team['team_id'], team['team_name']))}</h3>")
        parts.append(_table(("rank", "agent", "agent id", "score", "grade", "bonus"), rows))
    return "".join(parts)


def _html_page(
    month: str, summary: list[dict], cards: list[dict], trend: list[dict], charts: list[Path]
) -> str:
    distribution, grade_counts, qa_chart = charts
    title = f"Contact center monthly scorecard report {month}"
    grade_rows = [
        (row["team_id"], row["team_name"], *(row[g] for g in GRADES), row["agents"])
        for row in summary
    ]
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        "<h2>Team summary</h2>",
        _table(SUMMARY_COLUMNS, ([row.get(c) for c in SUMMARY_COLUMNS] for row in summary)),
        "<p>Scores rounded to 2 decimals; quartiles by linear interpolation.</p>",
        "<h2>Score distribution</h2>",
        _image(distribution, f"Total score by team, {month}"),
        "<h2>Grade counts</h2>",
        _table(("team_id", "team_name", *GRADES, "agents"), grade_rows),
        _image(grade_counts, f"Agents by grade and team, {month}"),
        "<h2>Rankings by team</h2>",
        _rankings(summary, cards),
        "<h2>QA trend</h2>",
        _table(QA_TREND_COLUMNS, ([row.get(c) for c in QA_TREND_COLUMNS] for row in trend)),
        _image(qa_chart, f"QA score average by month, up to {month}"),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n{chr(10).join(sections)}\n</body>\n</html>\n"
    )
