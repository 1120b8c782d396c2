"""The scorecard policy recomputed in plain Python from the simulator's ground truth.

This shares no code with the dbt models: it reads the same configuration (the seeds) and
applies domain.md's rules to the truth's sums, so a wrong join, formula or ranking in the
warehouse shows up as a difference.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"

# KPI -> (numerator, denominator, scale, is_count) over the truth's metric names.
KPIS = {
    "first_response_time": (("first_response_seconds_sum",), "first_response_count", 1, False),
    "average_handle_time": (("handle_seconds_sum",), "handle_count", 1, False),
    "first_contact_resolution": (("fcr_resolved_count",), "fcr_eligible_count", 1, False),
    "ticket_on_time_rate": (("tickets_on_time_count",), "tickets_due_count", 1, False),
    "information_accuracy": (("qa_accurate_count",), "qa_inspection_count", 1, False),
    "compliance": (("compliance_score_sum",), "qa_inspection_count", 1, False),
    "complaint_rate": (("complaint_count",), "contacts_handled", 1, False),
    "operation_error_rate": (("operation_error_count",), "tickets_handled_count", 1, False),
    "csat": (("csat_score_sum",), "csat_response_count", 1, False),
    "csat_satisfied_share": (("csat_satisfied_count",), "csat_response_count", 1, False),
    "nps": (("nps_promoter_count", "-nps_detractor_count"), "nps_response_count", 100, False),
    "negative_review_share": (("negative_response_count",), "survey_response_count", 1, False),
    "praise_count": (("praise_count",), "survey_response_count", 1, True),
    "teamwork": (("teamwork_rating_sum",), "teamwork_rating_count", 1, False),
    "training_attendance": (
        ("training_sessions_attended",),
        "training_sessions_scheduled",
        1,
        False,
    ),
    "exam_score": (("exam_score_sum",), "exam_count", 1, False),
    "improvement_plan": (
        ("improvement_items_on_time_count",),
        "improvement_items_due_count",
        1,
        False,
    ),
    "qa_score": (("qa_score_sum",), "qa_inspection_count", 1, False),
    "discipline_deductions": (("discipline_points",), "supervisor_input_count", 1, False),
}


def kpi(values: dict, code: str) -> tuple[float, float, float | None]:
    """(numerator, denominator, value) of one KPI from summed inputs."""
    parts, denominator_name, scale, is_count = KPIS[code]
    numerator = sum(-values[p[1:]] if p.startswith("-") else values[p] for p in parts)
    denominator = values[denominator_name]
    if is_count:
        return numerator, denominator, numerator
    return numerator, denominator, (numerator / denominator * scale if denominator else None)


@dataclass(frozen=True)
class Rule:
    kpi_code: str
    team_id: str
    channel: str
    effective_from: date
    weight: float
    direction: str
    target: float
    floor: float
    band_low: float
    band_high: float
    band_falloff: float
    cap: float
    min_sample: float


def _number(text: str) -> float:
    return float(text) if text != "" else math.nan


def load_rules() -> list[Rule]:
    with (SEEDS / "kpi_scoring.csv").open() as handle:
        return [
            Rule(
                r["kpi_code"],
                r["team_id"],
                r["channel"],
                date.fromisoformat(r["effective_from"]),
                *(
                    _number(r[k]) if k != "direction" else r[k]
                    for k in (
                        "weight",
                        "direction",
                        "target",
                        "floor",
                        "band_low",
                        "band_high",
                        "band_falloff",
                        "cap",
                        "min_sample",
                    )
                ),
            )
            for r in csv.DictReader(handle)
        ]


def load_grade_bands() -> list[tuple[str, float]]:
    with (SEEDS / "grade_bands.csv").open() as handle:
        bands = [(r["grade"], float(r["min_total_score"])) for r in csv.DictReader(handle)]
    return sorted(bands, key=lambda b: -b[1])


def rule_for(rules: list[Rule], code: str, team: str | None, channel: str, month: date):
    """The most specific rule in force: own team over all teams, own channel over 'all',
    then the latest effective date."""
    candidates = [
        r
        for r in rules
        if r.kpi_code == code
        and r.team_id in ("", team)
        and r.channel in ("all", channel)
        and r.effective_from <= month
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (r.team_id != "", r.channel != "all", r.effective_from))


def attainment(rule: Rule, value: float) -> float:
    if rule.direction == "band":
        if value < rule.band_low:
            return max(0.0, 1 - (rule.band_low - value) / rule.band_falloff)
        if value > rule.band_high:
            return max(0.0, 1 - (value - rule.band_high) / rule.band_falloff)
        return 1.0
    if rule.direction == "higher":
        raw = (value - rule.floor) / (rule.target - rule.floor)
    else:
        raw = (rule.floor - value) / (rule.floor - rule.target)
    return min(rule.cap, max(0.0, raw))


def round_half_up(value: float | Decimal, places: int) -> Decimal:
    """Round as PostgreSQL rounds numeric (half away from zero), not as float round()."""
    step = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)


def mean_of_published(totals: list[float]) -> Decimal:
    """The mean of monthly totals as published (4 decimals), rounded like the warehouse."""
    published = [round_half_up(t, 4) for t in totals]
    return round_half_up(sum(published) / len(published), 4)


def grade(total: float, severe_defects: int, bands) -> str:
    return next(
        name
        for name, minimum in bands
        if minimum <= round_half_up(total, 4) and (name != "excellent" or severe_defects == 0)
    )


def competition_ranks(scores: dict[str, float]) -> dict[str, int]:
    """Equal scores share a rank, the next rank skips (1, 1, 3)."""
    return {
        key: 1 + sum(other > score for other in scores.values()) for key, score in scores.items()
    }


def scorecards(
    months: dict[tuple[str, str], dict],
    teams: dict[tuple[str, str], str | None],
    channels: dict[str, str],
    min_working_days: int,
    bonus_base: float,
) -> dict[tuple[str, str], dict]:
    """One scorecard per agent-month: KPI scores, total, grade, ranks and bonus."""
    rules, bands = load_rules(), load_grade_bands()
    cards = {}
    for (agent_id, month), values in months.items():
        month_start = date.fromisoformat(f"{month}-01")
        team = teams[(agent_id, month)]
        scored, unscored = {}, []
        for code in KPIS:
            rule = rule_for(rules, code, team, channels[agent_id], month_start)
            if rule is None or not rule.weight > 0:
                continue
            _, denominator, value = kpi(values, code)
            if value is None or denominator < rule.min_sample:
                unscored.append(code)
                continue
            scored[code] = (rule.weight, attainment(rule, value))
        weights = sum(w for w, _ in scored.values())
        scores = {code: w * 100 / weights * a for code, (w, a) in scored.items()}
        total = sum(scores.values())
        cards[(agent_id, month)] = {
            "team_id": team,
            "scores": scores,
            "total": total,
            "unscored": ",".join(sorted(unscored)),
            "grade": grade(total, values["qa_severe_defect_count"], bands),
            "is_ranked": values["working_days"] >= min_working_days,
            "bonus": float(round_half_up(bonus_base * round_half_up(total, 4) / 100, 2)),
        }
    for month in {m for _, m in cards}:
        ranked = {
            k: round_half_up(c["total"], 4)
            for k, c in cards.items()
            if k[1] == month and c["is_ranked"]
        }
        for key, rank in competition_ranks(ranked).items():
            cards[key]["center_rank"] = rank
        for team in {cards[k]["team_id"] for k in ranked} - {None}:  # no team, no team rank
            in_team = {k: v for k, v in ranked.items() if cards[k]["team_id"] == team}
            for key, rank in competition_ranks(in_team).items():
                cards[key]["team_rank"] = rank
    return cards
