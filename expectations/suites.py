"""The Great Expectations suites of the quality gate, written as code.

Raw suites are derived from the canonical contracts (extractors/contracts.py: columns,
required fields) plus the value ranges, sets and cross-field rules each table keeps; they
validate one batch (the run's business day) of each raw table. Mart suites validate what
is about to be published. Every expectation carries `meta.rule`, the name the audit
records and the error message use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractors.contracts import CONTRACTS
from warehouse.landing import LINEAGE_COLUMNS

SEVERITY_BANDS = {"minor": (1, 3), "general": (4, 6), "severe": (7, 10)}
CHANNELS = ["phone", "chat", "email"]
# raw table -> source system (a source's tables share its name as prefix)
RAW_TABLES = {
    table: table.split("_")[0] if table != "call_center_contacts" else "call_center"
    for table in CONTRACTS
}
RAW_TABLES["supervisor_inputs"] = "supervisor"


@dataclass
class Check:
    """One expectation: its GX class name, arguments and the rule name it reports as."""

    rule: str
    expectation: str
    kwargs: dict = field(default_factory=dict)


def _raw_columns(table: str) -> list[str]:
    columns = [f.name for f in CONTRACTS[table]]
    if table == "call_center_contacts":
        columns.append("quality_flags")
    return [*columns, *LINEAGE_COLUMNS]


def _between(column: str, low, high) -> Check:
    return Check(
        f"{column}_between_{low}_and_{high}",
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": low, "max_value": high},
    )


def _in_set(column: str, values: list[str]) -> Check:
    return Check(
        f"{column}_in_set", "ExpectColumnValuesToBeInSet", {"column": column, "value_set": values}
    )


def _not_before(later: str, earlier: str) -> Check:
    return Check(
        f"{later}_not_before_{earlier}",
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {
            "column_A": later,
            "column_B": earlier,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    )


def _no_rows(rule: str, where: str, columns: str) -> Check:
    """A cross-field rule as the rows that break it ({batch} is the batch's rows)."""
    return Check(
        rule,
        "UnexpectedRowsExpectation",
        {"unexpected_rows_query": f"select {columns} from {{batch}} where {where}"},
    )


# Value ranges, sets and cross-field rules of each raw table, beyond the contract's shape.
RAW_RULES: dict[str, list[Check]] = {
    "call_center_contacts": [
        _in_set("channel", ["phone", "chat"]),
        _between("queue_seconds", 0, 86_400),
        _between("talk_seconds", 0, 86_400),
        _between("hold_seconds", 0, 86_400),
        _between("acw_seconds", 0, 86_400),
        _not_before("answered_at", "offered_at"),
        _not_before("ended_at", "answered_at"),
        _no_rows(
            "answered_contact_has_agent",
            "not is_abandoned and (agent_id is null or answered_at is null)",
            "contact_id",
        ),
    ],
    "survey_responses": [
        _in_set("channel", CHANNELS),
        _between("csat_score", 1, 5),
        _between("nps_score", 0, 10),
        _not_before("responded_at", "contact_at"),
    ],
    "crm_teams": [],
    "crm_agents": [_in_set("primary_channel", CHANNELS), _not_before("left_on", "hired_on")],
    "crm_team_assignments": [_not_before("valid_to", "valid_from")],
    "crm_tickets": [
        _in_set("channel", CHANNELS),
        _in_set("status", ["open", "responded", "resolved", "closed"]),
        _not_before("resolved_at", "created_at"),
        _not_before("first_response_at", "created_at"),
        _no_rows(
            "complaint_has_cause",
            "is_complaint and complaint_cause is null",
            "ticket_id",
        ),
    ],
    "crm_ticket_events": [
        _in_set("event_type", ["data_correction", "routing_correction", "reassignment"]),
    ],
    "qa_inspections": [
        _in_set("record_type", ["call", "chat", "email"]),
        _not_before("inspected_at", "record_at"),
    ],
    "qa_deductions": [
        _in_set("severity", list(SEVERITY_BANDS)),
        _between("points", 1, 10),
        _no_rows(
            "deduction_within_its_severity_band",
            " or ".join(
                f"(severity = '{name}' and points not between {low} and {high})"
                for name, (low, high) in SEVERITY_BANDS.items()
            ),
            "deduction_id, severity, points",
        ),
    ],
    "qa_rectifications": [],
    "supervisor_inputs": [
        _between("teamwork_rating", 1, 5),
        _between("exam_score", 0, 100),
        _between("discipline_points", 0, 100),
        _no_rows(
            "attended_within_scheduled",
            "training_sessions_attended > training_sessions_scheduled"
            " or plan_items_closed_on_time > plan_items_due",
            "agent_id, month",
        ),
    ],
}


def raw_checks(table: str) -> list[Check]:
    """Shape (exact columns), required fields and the table's rules, for one batch."""
    checks = [
        Check(
            "columns_match_the_contract",
            "ExpectTableColumnsToMatchSet",
            {"column_set": _raw_columns(table), "exact_match": True},
        )
    ]
    required = [f.name for f in CONTRACTS[table] if f.required]
    for column in [*required, "batch_id", "source_object", "source_position", "content_hash"]:
        checks.append(
            Check(f"{column}_not_null", "ExpectColumnValuesToNotBeNull", {"column": column})
        )
    return checks + RAW_RULES[table]


def _unique(*columns: str) -> Check:
    if len(columns) == 1:
        return Check(f"{columns[0]}_unique", "ExpectColumnValuesToBeUnique", {"column": columns[0]})
    return Check(
        f"{'_'.join(columns)}_unique",
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": list(columns)},
    )


def _not_more(part: str, whole: str) -> Check:
    return Check(
        f"{part}_not_more_than_{whole}",
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {
            "column_A": whole,
            "column_B": part,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    )


SHARE_KPIS = (
    "first_contact_resolution",
    "ticket_on_time_rate",
    "information_accuracy",
    "complaint_rate",
    "operation_error_rate",
    "csat_satisfied_share",
    "negative_review_share",
    "training_attendance",
    "improvement_plan",
)

# mart -> checks of what is about to be published
MART_CHECKS: dict[str, list[Check]] = {
    "agents": [_unique("agent_version_key"), _unique("agent_id", "valid_from")],
    "agent_days": [
        _unique("agent_id", "business_date"),
        Check("agent_id_not_null", "ExpectColumnValuesToNotBeNull", {"column": "agent_id"}),
        _between("contacts_handled", 0, 10_000),
        _not_more("fcr_resolved_count", "fcr_eligible_count"),
        _not_more("tickets_on_time_count", "tickets_due_count"),
        _not_more("qa_accurate_count", "qa_inspection_count"),
        _not_more("csat_satisfied_count", "csat_response_count"),
        _not_more("rectifications_on_time_count", "rectifications_due_count"),
        _no_rows(
            "csat_sum_within_1_to_5_per_response",
            "csat_score_sum not between csat_response_count and 5 * csat_response_count",
            "agent_id, business_date",
        ),
        _no_rows(
            "qa_score_sum_within_0_to_100_per_inspection",
            "qa_score_sum not between 0 and 100 * qa_inspection_count",
            "agent_id, business_date",
        ),
    ],
    "kpi_inputs": [
        _in_set("input_grain", ["agent_day", "agent_month"]),
        _not_more("fcr_resolved_count", "fcr_eligible_count"),
        _not_more("csat_satisfied_count", "csat_response_count"),
        _not_more("improvement_items_on_time_count", "improvement_items_due_count"),
    ],
    "queue_days": [
        _unique("queue_name", "channel", "business_date"),
        _not_more("answered_count", "offered_count"),
    ],
    "kpi_rollups": [
        _unique("period_type", "period_start", "rollup_level", "agent_id", "team_id", "kpi_code"),
        _in_set("period_type", ["month", "quarter", "year"]),
        _no_rows(
            "share_kpis_between_0_and_1",
            "kpi_code in ({}) and kpi_value not between 0 and 1".format(
                ", ".join(f"'{k}'" for k in SHARE_KPIS)
            ),
            "period_type, period_start, rollup_level, agent_id, team_id, kpi_code",
        ),
    ],
    "agent_month_kpis": [
        _unique("agent_id", "month_start", "kpi_code"),
        _between("attainment", 0, 1.2),
        _no_rows(
            "effective_weights_add_up_to_100",
            "true group by agent_id, month_start"
            " having count(*) filter (where is_scored) > 0"
            " and abs(sum(effective_weight) filter (where is_scored) - 100) > 0.000001",
            "agent_id, month_start",
        ),
    ],
    "agent_month_scorecards": [
        _unique("agent_id", "month_start"),
        _between("total_score", 0, 120),
        _in_set("grade", ["excellent", "good", "pass", "fail"]),
        _between("bonus_amount", 0, 10_000),
        _no_rows(
            "ranked_agents_have_a_center_rank",
            "is_ranked and center_rank is null or not is_ranked and center_rank is not null",
            "agent_id, month_start",
        ),
        _no_rows(
            "excellent_has_no_severe_defect",
            "grade = 'excellent' and qa_severe_defect_count > 0",
            "agent_id, month_start",
        ),
    ],
    "agent_period_scorecards": [
        _unique("agent_id", "period_type", "period_start"),
        _between("total_score", 0, 120),
    ],
    "qa_agent_weeks": [
        _unique("agent_id", "week_start"),
        _between("qa_score_avg", 0, 100),
    ],
    "qa_team_months": [
        _unique("team_id", "month_start"),
        _between("qa_score_avg", 0, 100),
    ],
}
