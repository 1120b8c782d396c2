"""The true KPI inputs of every agent-day and agent-month, computed from the simulator's events.

This is the independent check on the warehouse: plain Python over the events, sharing no
code with the extractors or the dbt models. `as_of` is the last business day whose
deliveries have been loaded; only what was known by the end of that day counts (a survey
answered later, a ticket due later, an inspection done later are not yet known).

Attribution (documented in the dbt docs too): phone/chat work to the local day the contact
was offered; e-mails and tickets handled to the day of the agent's first reply (operation
errors found later too); tickets to the day their business-time SLA ran out; complaints to
the day they were raised, against the agent who caused them; surveys and QA inspections to
the day of the contact or record they are about; rectification items to their due date.

Business time (e-mail first response, ticket SLA) is computed here by walking the
simulator's own calendar (working hours every day, none on holidays), not with the
warehouse's position arithmetic.
"""

from __future__ import annotations

import bisect
import csv
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
    "tickets_handled_count",
    "operation_error_count",
    "complaint_count",
    "qa_score_sum",
    "qa_inspection_count",
    "qa_accurate_count",
    "compliance_score_sum",
    "qa_severe_defect_count",
    "rectifications_due_count",
    "rectifications_on_time_count",
    "survey_response_count",
    "csat_score_sum",
    "csat_response_count",
    "csat_satisfied_count",
    "nps_promoter_count",
    "nps_detractor_count",
    "nps_response_count",
    "negative_response_count",
    "praise_count",
)
SUPERVISOR_METRICS = (
    "teamwork_rating_sum",
    "teamwork_rating_count",
    "training_sessions_scheduled",
    "training_sessions_attended",
    "exam_score_sum",
    "exam_count",
    "discipline_points",
    "supervisor_input_count",
    "plan_items_due",
    "plan_items_closed_on_time",
)
ACCURACY_DIMENSIONS = {"professional_knowledge"}
COMPLIANCE_DIMENSIONS = {"work_standards"}
ERROR_EVENTS = {"data_correction", "routing_correction"}


class BusinessClock:
    """The center's working hours by walking day by day (independent of the warehouse)."""

    def __init__(self, config):
        self.config = config
        self.tz = ZoneInfo(config.timezone)

    def _hours(self, day: date) -> tuple[datetime, datetime] | None:
        if day in self.config.holidays:
            return None
        return (
            datetime.combine(day, self.config.opens_at, tzinfo=self.tz),
            datetime.combine(day, self.config.closes_at, tzinfo=self.tz),
        )

    def seconds_between(self, start: datetime, end: datetime) -> int:
        total = 0.0
        day = start.astimezone(self.tz).date()
        while day <= end.astimezone(self.tz).date():
            hours = self._hours(day)
            if hours:
                overlap = (min(end, hours[1]) - max(start, hours[0])).total_seconds()
                total += max(0.0, overlap)
            day += timedelta(days=1)
        return round(total)

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` business seconds after `start`."""
        day = start.astimezone(self.tz).date()
        left = seconds
        while True:
            hours = self._hours(day)
            if hours and start < hours[1]:
                begin = max(start, hours[0])
                available = (hours[1] - begin).total_seconds()
                if left <= available:
                    return begin + timedelta(seconds=left)
                left -= available
            day += timedelta(days=1)


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

    clock = BusinessClock(world.config)
    sla_hours = dict(world.config.sla_business_hours)
    tickets = {t.ticket_id: t for t in world.tickets}
    for t in world.tickets:
        if t.first_response_at < known_before:
            row = rows[(t.assignee_agent_id, local_day(t.first_response_at))]
            row["tickets_handled_count"] += 1
            if t.channel == "email":
                row["email_contacts_handled"] += 1
                row["contacts_handled"] += 1
                row["first_response_seconds_sum"] += clock.seconds_between(
                    t.created_at, t.first_response_at
                )
                row["first_response_count"] += 1
        due = clock.add(t.created_at, sla_hours[t.priority] * 3600)
        if due < known_before:
            row = rows[(t.assignee_agent_id, local_day(due))]
            row["tickets_due_count"] += 1
            row["tickets_on_time_count"] += int(t.resolved_at <= due)
        if t.is_complaint and t.complaint_cause == "agent" and t.created_at < known_before:
            rows[(t.complained_agent_id, local_day(t.created_at))]["complaint_count"] += 1

    for e in world.ticket_events:
        if e.event_type in ERROR_EVENTS and e.occurred_at < known_before:
            ticket = tickets[e.ticket_id]
            rows[(e.responsible_agent_id, local_day(ticket.first_response_at))][
                "operation_error_count"
            ] += 1

    for sv in world.surveys:
        if sv.responded_at >= known_before:
            continue
        row = rows[(sv.agent_id, local_day(sv.contact_at))]
        row["survey_response_count"] += 1
        row["csat_score_sum"] += sv.csat_score
        row["csat_response_count"] += 1
        row["csat_satisfied_count"] += int(sv.csat_score >= 4)
        row["nps_promoter_count"] += int(sv.nps_score >= 9)
        row["nps_detractor_count"] += int(sv.nps_score <= 6)
        row["nps_response_count"] += 1
        row["negative_response_count"] += int(sv.csat_score <= 2)
        row["praise_count"] += int("praise" in sv.tags)

    for i in world.inspections:
        if i.inspected_at >= known_before:
            continue
        row = rows[(i.agent_id, local_day(i.record_at))]
        row["qa_score_sum"] += max(0, 100 - sum(d.points for d in i.deductions))
        row["qa_inspection_count"] += 1
        row["qa_accurate_count"] += int(
            not any(d.dimension in ACCURACY_DIMENSIONS for d in i.deductions)
        )
        row["compliance_score_sum"] += max(
            0, 100 - sum(d.points for d in i.deductions if d.dimension in COMPLIANCE_DIMENSIONS)
        )
        row["qa_severe_defect_count"] += sum(d.severity == "severe" for d in i.deductions)

    for r in world.rectifications:
        if r.due_date <= as_of:
            row = rows[(r.agent_id, r.due_date)]
            row["rectifications_due_count"] += 1
            closed_in_time = (
                r.closed_at is not None
                and r.closed_at < known_before
                and local_day(r.closed_at) <= r.due_date
            )
            row["rectifications_on_time_count"] += int(closed_in_time)

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


def agent_day_teams(world: World, days) -> dict[tuple[str, date], str | None]:
    """The team of each agent-day: the CRM assignment in force that day."""
    return {(agent_id, day): world.team_on(agent_id, day) for agent_id, day in days}


def supervisor_inputs(world: World, as_of: date) -> dict[tuple[str, str | None, str], dict]:
    """The monthly supervisor inputs of months complete by as_of, by (agent, team, month)."""
    rows: dict[tuple[str, str | None, str], dict] = {}
    for i in world.supervisor_inputs:
        last = (i.month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if last > as_of:
            continue
        rows[(i.agent_id, i.team_id, f"{i.month:%Y-%m}")] = {
            "teamwork_rating_sum": i.teamwork_rating,
            "teamwork_rating_count": 1,
            "training_sessions_scheduled": i.training_sessions_scheduled,
            "training_sessions_attended": i.training_sessions_attended,
            "exam_score_sum": i.exam_score or 0,
            "exam_count": int(i.exam_score is not None),
            "discipline_points": i.discipline_points,
            "supervisor_input_count": 1,
            "plan_items_due": i.plan_items_due,
            "plan_items_closed_on_time": i.plan_items_closed_on_time,
        }
    return rows


ALL_METRICS = (
    *METRICS,
    *SUPERVISOR_METRICS,
    "improvement_items_on_time_count",
    "improvement_items_due_count",
    "working_days",
)


def agent_team_months(world: World, as_of: date) -> dict[tuple[str, str | None, str], dict]:
    """Every input summed by (agent, team of the day, month), with the supervisor inputs
    under the team of the workbook: the rows every roll-up sums."""
    days = agent_days(world, as_of)
    teams = agent_day_teams(world, days)
    out: dict[tuple[str, str | None, str], dict] = defaultdict(
        lambda: dict.fromkeys(ALL_METRICS, 0)
    )
    for (agent_id, day), values in days.items():
        row = out[(agent_id, teams[(agent_id, day)], f"{day:%Y-%m}")]
        for metric in METRICS:
            row[metric] += values[metric]
        row["working_days"] += int(values["contacts_handled"] > 0)
    for key, values in supervisor_inputs(world, as_of).items():
        row = out[key]
        for metric in SUPERVISOR_METRICS:
            row[metric] += values[metric]
    for row in out.values():
        row["improvement_items_on_time_count"] = (
            row["rectifications_on_time_count"] + row["plan_items_closed_on_time"]
        )
        row["improvement_items_due_count"] = row["rectifications_due_count"] + row["plan_items_due"]
    return dict(out)


def rollups(world: World, as_of: date) -> dict[tuple[str, str, str, str | None], dict]:
    """(period_type, period_start, level, member) -> summed inputs, for month, quarter and
    year at agent, team (of the day) and center level."""
    out: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(ALL_METRICS, 0))
    for (agent_id, team_id, month), values in agent_team_months(world, as_of).items():
        first = date.fromisoformat(f"{month}-01")
        periods = {
            "month": first,
            "quarter": first.replace(month=(first.month - 1) // 3 * 3 + 1),
            "year": first.replace(month=1),
        }
        for period_type, start in periods.items():
            for level, member in (("agent", agent_id), ("team", team_id), ("center", None)):
                row = out[(period_type, start, level, member)]
                for metric in ALL_METRICS:
                    row[metric] += values[metric]
    return dict(out)


def agent_months_scored_in(world: World, as_of: date) -> dict[tuple[str, str], str | None]:
    """The team an agent-month is scored and ranked in: the team of the last working day
    of the month, or the workbook's team if the agent did not work in it."""
    days = agent_days(world, as_of)
    last: dict[tuple[str, str], date] = {}
    for (agent_id, day), values in days.items():
        if values["contacts_handled"] > 0:
            key = (agent_id, f"{day:%Y-%m}")
            last[key] = max(last.get(key, day), day)
    teams = {key: world.team_on(key[0], day) for key, day in last.items()}
    for agent_id, team_id, month in supervisor_inputs(world, as_of):
        teams.setdefault((agent_id, month), team_id)
    candidates: dict[tuple[str, str], set] = defaultdict(set)
    for agent_id, day in days:
        candidates[(agent_id, f"{day:%Y-%m}")].add(world.team_on(agent_id, day))
    for key, options in candidates.items():
        named = sorted(t for t in options if t is not None)
        teams.setdefault(key, named[0] if named else None)
    return teams


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
