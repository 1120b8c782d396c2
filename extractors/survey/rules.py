"""What every survey response keeps, whatever the vendor: (condition, reason) in SQL over
the compiled mapping's final values (x_<field>)."""

from extractors.mapping_sql import one_of

CHANNELS = frozenset({"phone", "chat", "email"})

TABLES = {
    "survey_responses": [
        (
            "x_csat_score not between 1 and 5",
            "'csat_score: ' || x_csat_score || ' is outside 1..5'",
        ),
        (
            "x_nps_score not between 0 and 10",
            "'nps_score: ' || x_nps_score || ' is outside 0..10'",
        ),
        one_of("channel", CHANNELS, label="channel "),
        ("x_responded_at < x_contact_at", "'responded before the contact began'"),
    ]
}
