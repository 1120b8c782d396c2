"""What every QA record keeps, whatever the tool: (condition, reason) in SQL over the
compiled mapping's final values (x_<field>), per raw table; a deduction's points lie in
its severity's band (minor 1-3, general 4-6, severe 7-10)."""

from extractors.mapping_sql import literal, one_of

RECORD_TYPES = frozenset({"call", "chat", "email"})
DIMENSIONS = frozenset(
    {
        "service_attitude",
        "professional_knowledge",
        "communication",
        "problem_solving",
        "work_standards",
    }
)
SEVERITY_BANDS = {"minor": (1, 3), "general": (4, 6), "severe": (7, 10)}
_OUTSIDE = " or ".join(
    f"(x_severity = {literal(s)} and x_points not between {low} and {high})"
    for s, (low, high) in SEVERITY_BANDS.items()
)
_BAND = " ".join(
    f"when {literal(s)} then '{low}..{high}'" for s, (low, high) in SEVERITY_BANDS.items()
)

TABLES = {
    "qa_inspections": [one_of("record_type", RECORD_TYPES)],
    "qa_deductions": [
        one_of("dimension", DIMENSIONS),
        one_of("severity", frozenset(SEVERITY_BANDS)),
        (
            _OUTSIDE,
            f"'points (' || x_severity || '): ' || x_points || ' is outside '"
            f" || case x_severity {_BAND} end",
        ),
    ],
    "qa_rectifications": [],
}
