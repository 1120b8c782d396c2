"""The ranges every line of a supervisor workbook keeps, whoever filled it in:
(condition, reason) in SQL over the compiled mapping's final values (x_<field>)."""

from extractors.contracts import SUPERVISOR_INPUTS

_COUNTS = [
    f.name for f in SUPERVISOR_INPUTS if f.name.startswith(("training_", "discipline_", "plan_"))
]
_PAIRS = (
    ("training_sessions_attended", "training_sessions_scheduled"),
    ("plan_items_closed_on_time", "plan_items_due"),
)

TABLES = {
    "supervisor_inputs": [
        (
            "extract(day from x_month) <> 1",
            "'month: ' || x_month || ' is not the first day of a month'",
        ),
        (
            "x_teamwork_rating not between 1 and 5",
            "'teamwork_rating: ' || x_teamwork_rating || ' is outside 1..5'",
        ),
        (
            "x_exam_score not between 0 and 100",
            "'exam_score: ' || x_exam_score || ' is outside 0..100'",
        ),
        *((f"x_{name} < 0", f"'{name}: ' || x_{name} || ' is negative'") for name in _COUNTS),
        *(
            (
                f"x_{part} > x_{whole}",
                f"'{part}: ' || x_{part} || ' is more than {whole} ' || x_{whole}",
            )
            for part, whole in _PAIRS
        ),
    ]
}
