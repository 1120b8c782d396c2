"""The true KPI inputs of every agent-day and agent-month, computed from the simulator's events.

This is the independent check on the warehouse: plain Python over the events, sharing no
code with the extractors or the dbt models. `as_of` is the last business day whose
deliveries have been loaded; only what was known by the end of that day counts (a survey
answered later, a ticket due later, an inspection done later are not yet known).

Attribution (documented in the dbt docs too): phone/chat work to the local day the contact
was offered; e-mails to the day of the agent's first reply; tickets to the day they were
due; complaints to the day they were raised, against the agent who caused them; surveys
and QA inspections to the day of the contact or record they are about.
"""

from __future__ import annotations

import bisect
import csv
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

from simulator.world import World

FCR_REPEAT_WINDOW = timedelta(days=7)
METRICS = (
    "phone_contacts_handled",
    "chat_contacts_handled",
    "email_contacts_handled",
    "contacts_handled",
    "first_response_seconds_sum",
    "first_response_count",
    "queue_wait_seconds_sum",
    "queue_wait_count",
    "talk_seconds_sum",
    "hold_seconds_sum",
    "acw_seconds_sum",
    "handle_seconds_sum",
    "handle_count",
    "fcr_resolved_count",
    "fcr_eligible_count",
    "tickets_due_count",
    "tickets_on_time_count",
    "complaint_count",
    "qa_score_sum",
    "qa_inspection_count",
    "csat_score_sum",
    "csat_response_count",
    "csat_satisfied_count",
    "nps_promoter_count",
    "nps_detractor_count",
    "nps_response_count",
)


def agent_days(world: World, as_of: date) -> dict[tuple[str, date], dict[str, int]]:
    tz = world.tz
    known_before = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=tz)
    rows: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: dict.fromkeys(METRICS, 0))

    def local_day(moment: datetime) -> date:
        return moment.astimezone(tz).date()

    contacts = [c for c in world.contacts if c.offered_at < known_before]
    contacts_by_customer: dict[str, list[datetime]] = defaultdict(list)
    for c in contacts:
        contacts_by_customer[c.customer_number].append(c.offered_at)
    for times in contacts_by_customer.values():
        times.sort()

    for c in contacts:
        if c.is_abandoned:
            continue
        row = rows[(c.agent_id, local_day(c.offered_at))]
        row[f"{c.channel}_contacts_handled"] += 1
        row["contacts_handled"] += 1
        row["first_response_seconds_sum"] += int((c.answered_at - c.offered_at).total_seconds())
        row["first_response_count"] += 1
        row["queue_wait_seconds_sum"] += int((c.answered_at - c.offered_at).total_seconds())
        row["queue_wait_count"] += 1
        row["talk_seconds_sum"] += c.talk_seconds
        row["hold_seconds_sum"] += c.hold_seconds
        row["acw_seconds_sum"] += c.acw_seconds
        row["handle_seconds_sum"] += c.talk_seconds + c.hold_seconds + c.acw_seconds
        row["handle_count"] += 1
        times = contacts_by_customer[c.customer_number]
        later = bisect.bisect_right(times, c.offered_at)
        repeated = later < len(times) and times[later] <= c.offered_at + FCR_REPEAT_WINDOW
        row["fcr_eligible_count"] += 1
        row["fcr_resolved_count"] += int(
            not c.is_transferred and c.disposition != "escalated" and not repeated
        )

    for t in world.tickets:
        if t.channel == "email" and t.first_response_at < known_before:
            row = rows[(t.assignee_agent_id, local_day(t.first_response_at))]
            row["email_contacts_handled"] += 1
            row["contacts_handled"] += 1
            row["first_response_seconds_sum"] += int(
                (t.first_response_at - t.created_at).total_seconds()
            )
            row["first_response_count"] += 1
        if t.sla_due_at < known_before:
            row = rows[(t.assignee_agent_id, local_day(t.sla_due_at))]
            row["tickets_due_count"] += 1
            row["tickets_on_time_count"] += int(t.resolved_at <= t.sla_due_at)
        if t.is_complaint and t.complaint_cause == "agent" and t.created_at < known_before:
            rows[(t.complained_agent_id, local_day(t.created_at))]["complaint_count"] += 1

    for s in world.surveys:
        if s.responded_at >= known_before:
            continue
        row = rows[(s.agent_id, local_day(s.contact_at))]
        row["csat_score_sum"] += s.csat_score
        row["csat_response_count"] += 1
        row["csat_satisfied_count"] += int(s.csat_score >= 4)
        row["nps_promoter_count"] += int(s.nps_score >= 9)
        row["nps_detractor_count"] += int(s.nps_score <= 6)
        row["nps_response_count"] += 1

    for i in world.inspections:
        if i.inspected_at >= known_before:
            continue
        row = rows[(i.agent_id, local_day(i.record_at))]
        row["qa_score_sum"] += max(0, 100 - sum(d.points for d in i.deductions))
        row["qa_inspection_count"] += 1

    # Everything known is about work done on or before as_of; the filter states it.
    return {key: dict(value) for key, value in rows.items() if key[1] <= as_of}


def agent_months(
    days: dict[tuple[str, date], dict[str, int]],
) -> dict[tuple[str, str], dict[str, int]]:
    months: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(METRICS, 0))
    for (agent_id, day), values in days.items():
        month = months[(agent_id, f"{day:%Y-%m}")]
        for metric in METRICS:
            month[metric] += values[metric]
    return {key: dict(value) for key, value in months.items()}


def write(world: World, as_of: date, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    days = agent_days(world, as_of)
    _write_csv(folder / "agent_days.csv", ("agent_id", "business_date"), days)
    _write_csv(folder / "agent_months.csv", ("agent_id", "month"), agent_months(days))


def _write_csv(path: Path, keys: tuple[str, str], rows: dict) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow((*keys, *METRICS))
        for key in sorted(rows):
            writer.writerow((*key, *(rows[key][m] for m in METRICS)))
