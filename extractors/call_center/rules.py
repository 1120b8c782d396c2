"""What every contact keeps, whatever the vendor: the contract's own rules over the final
values (x_<field>) of the compiled mapping, in order: (condition, reason), both SQL."""

from extractors.contracts import CALL_CENTER

TABLES = {
    "call_center_contacts": [
        (
            "not x_is_abandoned and x_agent_id is null",
            "'an answered contact needs an agent: none given'",
        ),
        (
            "not x_is_abandoned and x_answered_at is null",
            "'an answered contact needs an answer time: none given'",
        ),
        (
            "x_channel not in ('phone', 'chat')",
            "'channel ' || raw.py_repr(x_channel) || ' is not phone or chat'",
        ),
        ("x_ended_at < x_answered_at", "'the contact ended before it was answered'"),
        ("x_answered_at < x_offered_at", "'answered before it was offered'"),
    ]
}
# The raw table also keeps the row rules' quality flags.
COLUMNS = {"call_center_contacts": (*(f.name for f in CALL_CENTER), "quality_flags")}
