"""The simulated contact center's events, generated day by day from a seed.

Each day draws from its own random stream, so the first days of a long simulation equal
a short simulation of the same days: a test can simulate three days and get the same
events as the first three days of the demo month.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from simulator.config import SimulationConfig

CHANNEL_CYCLE = (
    "phone",
    "chat",
    "phone",
    "email",
    "chat",
    "phone",
    "chat",
    "phone",
    "email",
    "phone",
)
DIMENSIONS = (
    "service_attitude",
    "professional_knowledge",
    "communication",
    "problem_solving",
    "work_standards",
)
SEVERITY_POINTS = {"minor": (1, 3), "general": (4, 6), "severe": (7, 10)}
FAMILY_NAMES = (
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Lin",
    "Gao",
    "Luo",
)
GIVEN_NAMES = (
    "Wei",
    "Fang",
    "Na",
    "Min",
    "Jing",
    "Lei",
    "Jun",
    "Yan",
    "Tao",
    "Ming",
    "Hui",
    "Qiang",
    "Li",
    "Xin",
    "Yu",
    "Hao",
    "Ting",
    "Bo",
    "Lan",
    "Kai",
)
CATEGORIES = ("billing", "delivery", "account", "technical")


@dataclass(frozen=True)
class Team:
    team_id: str
    team_name: str
    business_line: str
    supervisor_name: str
    lead_name: str


@dataclass(frozen=True)
class Agent:
    agent_id: str
    agent_name: str
    team_id: str  # the team on the day the agent was hired
    primary_channel: str
    hired_on: date
    skill: float
    left_on: date | None = None  # the last day worked

    def employed_on(self, day: date) -> bool:
        return self.hired_on <= day and (self.left_on is None or day <= self.left_on)


@dataclass(frozen=True)
class TeamAssignment:
    """The CRM's team-assignment history: the agent belongs to the team from valid_from
    to valid_to (inclusive; None while current)."""

    assignment_id: str
    agent_id: str
    team_id: str
    valid_from: date
    valid_to: date | None


@dataclass
class TicketEvent:
    """A CRM ticket event: a correction of the agent's data entry or routing, or a
    reassignment (workload, not an error)."""

    event_id: str
    ticket_id: str
    event_type: str  # data_correction | routing_correction | reassignment
    responsible_agent_id: str
    occurred_at: datetime


@dataclass
class SupervisorInput:
    """One agent's line in the team's monthly supervisor spreadsheet."""

    month: date
    team_id: str
    agent_id: str
    teamwork_rating: float
    training_sessions_scheduled: int
    training_sessions_attended: int
    exam_score: int | None
    discipline_points: int
    plan_items_due: int
    plan_items_closed_on_time: int
    comment: str


@dataclass
class Contact:
    """A phone call or chat session as the ACD records it."""

    contact_id: str
    channel: str
    queue_name: str
    agent_id: str | None
    customer_number: str
    offered_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    talk_seconds: int
    hold_seconds: int
    acw_seconds: int
    is_abandoned: bool
    is_transferred: bool
    disposition: str


@dataclass
class Ticket:
    ticket_id: str
    channel: str
    category: str
    priority: str
    assignee_agent_id: str
    customer_name: str
    source_contact_id: str | None
    created_at: datetime
    first_response_at: datetime
    resolved_at: datetime
    sla_due_at: datetime
    is_complaint: bool = False
    complaint_cause: str | None = None
    complained_agent_id: str | None = None

    def state_as_of(self, moment: datetime) -> dict | None:
        """The ticket as the CRM shows it at `moment` (None before it exists)."""
        if self.created_at >= moment:
            return None
        first_response = self.first_response_at if self.first_response_at < moment else None
        resolved = self.resolved_at if self.resolved_at < moment else None
        status = "resolved" if resolved else ("responded" if first_response else "open")
        updated = max(t for t in (self.created_at, first_response, resolved) if t is not None)
        return {
            "ticket_id": self.ticket_id,
            "channel": self.channel,
            "category": self.category,
            "priority": self.priority,
            "status": status,
            "assignee_agent_id": self.assignee_agent_id,
            "customer_name": self.customer_name,
            "source_contact_id": self.source_contact_id,
            "created_at": self.created_at,
            "first_response_at": first_response,
            "resolved_at": resolved,
            "sla_due_at": self.sla_due_at,
            "reopen_count": 0,
            "is_complaint": self.is_complaint,
            "complaint_cause": self.complaint_cause,
            "complained_agent_id": self.complained_agent_id,
            "updated_at": updated,
        }

    @property
    def change_times(self) -> list[datetime]:
        return sorted({self.created_at, self.first_response_at, self.resolved_at})


@dataclass
class Survey:
    response_id: str
    contact_id: str
    channel: str
    agent_id: str
    contact_at: datetime
    responded_at: datetime
    csat_score: int
    nps_score: int
    comment_text: str
    tags: list[str]


@dataclass
class Deduction:
    deduction_id: str
    dimension: str
    severity: str
    points: int
    note: str


@dataclass
class Inspection:
    inspection_id: str
    record_type: str
    record_id: str
    agent_id: str
    record_at: datetime
    inspector_name: str
    inspected_at: datetime
    deductions: list[Deduction]


@dataclass
class Rectification:
    rectification_id: str
    inspection_id: str
    agent_id: str
    description: str
    due_date: date
    closed_at: datetime | None
    created_at: datetime


@dataclass
class World:
    config: SimulationConfig
    teams: list[Team]
    agents: list[Agent]
    contacts: list[Contact] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    surveys: list[Survey] = field(default_factory=list)
    inspections: list[Inspection] = field(default_factory=list)
    rectifications: list[Rectification] = field(default_factory=list)
    assignments: list[TeamAssignment] = field(default_factory=list)
    ticket_events: list[TicketEvent] = field(default_factory=list)
    supervisor_inputs: list[SupervisorInput] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.timezone)

    def team_on(self, agent_id: str, day: date) -> str | None:
        for a in self.assignments:
            if (
                a.agent_id == agent_id
                and a.valid_from <= day
                and (a.valid_to is None or day <= a.valid_to)
            ):
                return a.team_id
        return None


def build_world(config: SimulationConfig) -> World:
    teams, agents = _roster(config)
    world = World(config=config, teams=teams, agents=agents)
    world.assignments = _team_assignments(config, teams, agents)
    customers = _customer_pool(config)
    for day in config.dates:
        _simulate_day(world, day, customers)
    world.supervisor_inputs = _supervisor_inputs(world)
    return world


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY_NAMES)} {rng.choice(GIVEN_NAMES)}{rng.choice(GIVEN_NAMES).lower()}"


def _customer_name(rng: random.Random) -> str:
    """Customers are addressed with a title, so their names never equal an employee's."""
    return f"{rng.choice(('Mr.', 'Ms.'))} {rng.choice(FAMILY_NAMES)} {rng.choice(GIVEN_NAMES)}"


def _roster(config: SimulationConfig) -> tuple[list[Team], list[Agent]]:
    rng = random.Random(f"{config.seed}:roster")
    n_teams = max(1, round(config.n_agents / 9))
    teams = [
        Team(
            team_id=f"T{i + 1:02d}",
            team_name=f"Team {i + 1:02d}",
            business_line="presales" if i % 2 == 0 else "aftersales",
            supervisor_name=_name(rng),
            lead_name=_name(rng),
        )
        for i in range(n_teams)
    ]
    agents = [
        Agent(
            agent_id=f"AG{i + 1:04d}",
            agent_name=_name(rng),
            team_id=teams[i % n_teams].team_id,
            primary_channel=CHANNEL_CYCLE[i % len(CHANNEL_CYCLE)],
            hired_on=config.start_date - timedelta(days=rng.randint(60, 2000)),
            skill=round(rng.uniform(0.55, 1.0), 3),
        )
        for i in range(config.n_agents)
    ]
    # Mid-month movers of the roster: two joiners (on the 10th and the 25th: the second
    # works too few days to be ranked) and a leaver (last day the 20th).
    n = config.n_agents
    start = config.start_date
    changes = {n - 1: {"hired_on": start + timedelta(days=9)}}
    changes[n - 2] = {"hired_on": start + timedelta(days=24)}
    changes[n - 3] = {"left_on": start + timedelta(days=19)}
    for index, change in changes.items():
        if index >= 0:
            agents[index] = replace(agents[index], **change)
    return teams, agents


def _team_assignments(
    config: SimulationConfig, teams: list[Team], agents: list[Agent]
) -> list[TeamAssignment]:
    """Each agent's team history: two agents move to the next team on the 12th of every
    simulated month (they count for the old team until the 11th)."""
    moves: dict[str, list[tuple[date, int]]] = {}
    for day in config.dates:
        if day.day != 12:
            continue
        rng = random.Random(f"{config.seed}:moves:{day:%Y-%m}")
        for agent in rng.sample(agents, k=min(2, len(agents))):
            moves.setdefault(agent.agent_id, []).append((day, rng.randrange(1, len(teams) or 1)))
    assignments = []
    team_index = {t.team_id: i for i, t in enumerate(teams)}
    for agent in agents:
        team, since, number = agent.team_id, agent.hired_on, 0
        for day, step in sorted(moves.get(agent.agent_id, [])):
            number += 1
            assignments.append(
                TeamAssignment(
                    f"TA{agent.agent_id}-{number}",
                    agent.agent_id,
                    team,
                    since,
                    day - timedelta(days=1),
                )
            )
            team = teams[(team_index[team] + step) % len(teams)].team_id
            since = day
        assignments.append(
            TeamAssignment(
                f"TA{agent.agent_id}-{number + 1}", agent.agent_id, team, since, agent.left_on
            )
        )
    return assignments


def _customer_pool(config: SimulationConfig) -> list[str]:
    rng = random.Random(f"{config.seed}:customers")
    return [
        f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"
        for _ in range(config.n_agents * 1200)
    ]


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz)


def _within_hours(moment: datetime, config: SimulationConfig, rng: random.Random) -> datetime:
    """Move an e-mail reply that would fall outside working hours, or on a public holiday,
    to some minutes after the next opening."""
    day = moment.date()
    if day not in config.holidays:
        opens = _at(day, config.opens_at, moment.tzinfo)
        if moment < opens:
            return opens + timedelta(seconds=rng.randint(60, 3600))
        if moment < _at(day, config.closes_at, moment.tzinfo):
            return moment
    day += timedelta(days=1)
    while day in config.holidays:
        day += timedelta(days=1)
    return _at(day, config.opens_at, moment.tzinfo) + timedelta(seconds=rng.randint(60, 3600))


def _simulate_day(world: World, day: date, customers: list[str]) -> None:
    config, tz = world.config, world.tz
    rng = random.Random(f"{config.seed}:{day.isoformat()}")
    opens = _at(day, config.opens_at, tz)
    open_seconds = int((_at(day, config.closes_at, tz) - opens).total_seconds())
    employed = [a for a in world.agents if a.employed_on(day)]
    working = [a for a in employed if rng.random() < 0.86]
    email_agents = [a for a in employed if a.primary_channel == "email"] or employed
    first_ticket = len(world.tickets)
    seq = 0

    def next_id(prefix: str) -> str:
        nonlocal seq
        seq += 1
        return f"{prefix}{day:%Y%m%d}{seq:05d}"

    handled: list[tuple[str, str, str, datetime, datetime, Agent]] = []  # records to survey/QA
    for agent in working:
        if agent.primary_channel == "email":
            for _ in range(rng.randint(12, 25)):
                received = _at(day, time(7, 0), tz) + timedelta(seconds=rng.randint(0, 15 * 3600))
                first = _within_hours(
                    received + timedelta(seconds=rng.randint(600, 5 * 3600)), config, rng
                )
                ticket = Ticket(
                    ticket_id=next_id("TK"),
                    channel="email",
                    category=rng.choice(CATEGORIES),
                    priority=rng.choice(("low", "normal", "normal", "high")),
                    assignee_agent_id=agent.agent_id,
                    customer_name=_customer_name(rng),
                    source_contact_id=None,
                    created_at=received,
                    first_response_at=first,
                    resolved_at=first + timedelta(seconds=rng.randint(0, 30 * 3600)),
                    sla_due_at=received + timedelta(hours=24),
                )
                world.tickets.append(ticket)
                handled.append(
                    ("email", ticket.ticket_id, ticket.ticket_id, received, first, agent)
                )
            continue
        phone = agent.primary_channel == "phone"
        for _ in range(rng.randint(22, 40) if phone else rng.randint(25, 45)):
            offered = opens + timedelta(seconds=rng.randint(0, open_seconds - 1800))
            wait = min(int(rng.expovariate(1 / (35 if phone else 25))), 900)
            answered = offered + timedelta(seconds=wait)
            talk = max(
                20,
                int(rng.lognormvariate(5.5 if phone else 5.9, 0.45) * (1.25 - agent.skill * 0.3)),
            )
            hold = rng.randint(5, 180) if phone and rng.random() < 0.3 else 0
            acw = rng.randint(5, 120) if phone else rng.randint(0, 30)
            transferred = rng.random() < 0.07
            disposition = (
                "transferred"
                if transferred
                else rng.choices(
                    ("resolved", "escalated", "follow_up"),
                    weights=(0.85 * agent.skill + 0.1, 0.05, 0.1),
                )[0]
            )
            contact = Contact(
                contact_id=next_id("CC"),
                channel=agent.primary_channel,
                queue_name=f"{agent.primary_channel}_{rng.choice(('general', 'billing', 'vip'))}",
                agent_id=agent.agent_id,
                customer_number=rng.choice(customers),
                offered_at=offered,
                answered_at=answered,
                ended_at=answered + timedelta(seconds=talk + hold),
                talk_seconds=talk,
                hold_seconds=hold,
                acw_seconds=acw,
                is_abandoned=False,
                is_transferred=transferred,
                disposition=disposition,
            )
            world.contacts.append(contact)
            handled.append(
                (contact.channel, contact.contact_id, contact.contact_id, offered, answered, agent)
            )
            if disposition in ("escalated", "follow_up"):
                created = contact.ended_at + timedelta(seconds=60)
                world.tickets.append(
                    Ticket(
                        ticket_id=next_id("TK"),
                        channel=contact.channel,
                        category=rng.choice(CATEGORIES),
                        priority="high" if disposition == "escalated" else "normal",
                        assignee_agent_id=agent.agent_id,
                        customer_name=_customer_name(rng),
                        source_contact_id=contact.contact_id,
                        created_at=created,
                        first_response_at=created,
                        resolved_at=created + timedelta(seconds=rng.randint(3600, 60 * 3600)),
                        sla_due_at=created + timedelta(hours=48),
                    )
                )
            if rng.random() < 0.012:
                cause = rng.choices(("agent", "policy", "product"), weights=(0.6, 0.25, 0.15))[0]
                created = contact.ended_at + timedelta(seconds=rng.randint(3600, 20 * 3600))
                first = created + timedelta(seconds=rng.randint(1800, 8 * 3600))
                world.tickets.append(
                    Ticket(
                        ticket_id=next_id("TK"),
                        channel=contact.channel,
                        category="complaint",
                        priority="high",
                        assignee_agent_id=rng.choice(email_agents).agent_id,
                        customer_name=_customer_name(rng),
                        source_contact_id=contact.contact_id,
                        created_at=created,
                        first_response_at=first,
                        resolved_at=first + timedelta(seconds=rng.randint(3600, 48 * 3600)),
                        sla_due_at=created + timedelta(hours=72),
                        is_complaint=True,
                        complaint_cause=cause,
                        complained_agent_id=agent.agent_id,
                    )
                )
    answered_today = sum(1 for record in handled if record[0] != "email")
    _abandoned_calls(world, rng, customers, next_id, opens, open_seconds, answered_today)
    for record in handled:
        _survey_and_inspect(world, rng, record, next_id)
    for ticket in world.tickets[first_ticket:]:
        _ticket_events(world, rng, ticket)


def _ticket_events(world: World, rng: random.Random, ticket: Ticket) -> None:
    draws = (("data_correction", 0.04), ("routing_correction", 0.02), ("reassignment", 0.03))
    for number, (event_type, chance) in enumerate(draws, start=1):
        if rng.random() < chance:
            world.ticket_events.append(
                TicketEvent(
                    event_id=f"EV{ticket.ticket_id[2:]}-{number}",
                    ticket_id=ticket.ticket_id,
                    event_type=event_type,
                    responsible_agent_id=ticket.assignee_agent_id,
                    occurred_at=ticket.first_response_at
                    + timedelta(seconds=rng.randint(600, 20 * 3600)),
                )
            )


def _months(config: SimulationConfig) -> list[tuple[date, date]]:
    """(first day, last day) of every calendar month the simulation covers completely."""
    covered = set(config.dates)
    months = []
    for day in config.dates:
        if day.day == 1:
            last = (day + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            if last in covered:
                months.append((day, last))
    return months


def _supervisor_inputs(world: World) -> list[SupervisorInput]:
    """The supervisors' monthly spreadsheet lines: every agent employed in the month, under
    the team the agent ended the month in."""
    inputs = []
    for first, last in _months(world.config):
        rng = random.Random(f"{world.config.seed}:supervisor:{first:%Y-%m}")
        for agent in world.agents:
            if agent.hired_on > last or (agent.left_on and agent.left_on < first):
                continue
            scheduled = rng.choice((2, 3, 4))
            due = rng.choice((0, 0, 1, 2, 3))
            inputs.append(
                SupervisorInput(
                    month=first,
                    team_id=world.team_on(agent.agent_id, min(last, agent.left_on or last)),
                    agent_id=agent.agent_id,
                    teamwork_rating=round(
                        min(5.0, max(1.0, rng.gauss(2 + 3 * agent.skill, 0.5))), 1
                    ),
                    training_sessions_scheduled=scheduled,
                    training_sessions_attended=scheduled
                    - rng.choices((0, 1, 2), weights=(0.6, 0.3, 0.1))[0],
                    exam_score=None if rng.random() < 0.1 else rng.randint(55, 100),
                    discipline_points=rng.choices((0, 1, 2, 5), weights=(0.7, 0.15, 0.1, 0.05))[0],
                    plan_items_due=due,
                    plan_items_closed_on_time=max(0, due - rng.choice((0, 0, 0, 1))),
                    comment=rng.choice(("", "steady month", "called customer Mr. Wang back late")),
                )
            )
    return inputs


def _abandoned_calls(world, rng, customers, next_id, opens, open_seconds, answered_today) -> None:
    for _ in range(round(answered_today * 0.06)):
        offered = opens + timedelta(seconds=rng.randint(0, open_seconds - 1))
        channel = rng.choice(("phone", "phone", "chat"))
        world.contacts.append(
            Contact(
                contact_id=next_id("CC"),
                channel=channel,
                queue_name=f"{channel}_general",
                agent_id=None,
                customer_number=rng.choice(customers),
                offered_at=offered,
                answered_at=None,
                ended_at=offered + timedelta(seconds=rng.randint(5, 300)),
                talk_seconds=0,
                hold_seconds=0,
                acw_seconds=0,
                is_abandoned=True,
                is_transferred=False,
                disposition="abandoned",
            )
        )


def _survey_and_inspect(world: World, rng: random.Random, record, next_id) -> None:
    channel, record_id, contact_id, started, worked, agent = record
    if rng.random() < 0.18:
        # Responses arrive up to 7 days after the contact began.
        latest = started + timedelta(days=7, seconds=-60)
        responded = min(worked + timedelta(seconds=int(rng.expovariate(1 / (30 * 3600)))), latest)
        csat = min(5, max(1, round(rng.gauss(1.5 + 3.5 * agent.skill, 0.9))))
        nps = min(10, max(0, csat * 2 + rng.randint(-2, 1)))
        tags = []
        if csat == 5 and rng.random() < 0.3:
            tags.append("praise")
        if csat <= 2 and rng.random() < 0.5:
            tags.append("complaint")
        comment = rng.choice(
            (
                "",
                "thanks",
                "slow answer",
                "very helpful",
                f"please call me back on {rng.randint(13_000_000_000, 13_999_999_999)}",
            )
        )
        world.surveys.append(
            Survey(
                response_id=next_id("SV"),
                contact_id=contact_id,
                channel=channel,
                agent_id=agent.agent_id,
                contact_at=started,
                responded_at=responded,
                csat_score=csat,
                nps_score=nps,
                comment_text=comment,
                tags=tags,
            )
        )
    if rng.random() < 0.05:
        inspected_day = worked.date() + timedelta(days=rng.randint(1, 10))
        inspected = _at(inspected_day, time(10, 0), world.tz) + timedelta(
            seconds=rng.randint(0, 7 * 3600)
        )
        inspection_id = next_id("QI")
        deductions = []
        for n in range(rng.choices((0, 1, 2, 3), weights=(agent.skill, 0.5, 0.25, 0.1))[0]):
            severity = rng.choices(("minor", "general", "severe"), weights=(0.7, 0.25, 0.05))[0]
            low, high = SEVERITY_POINTS[severity]
            deductions.append(
                Deduction(
                    deduction_id=f"{inspection_id}-{n + 1}",
                    dimension=rng.choice(DIMENSIONS),
                    severity=severity,
                    points=rng.randint(low, high),
                    note=rng.choice(
                        ("", "missed verification step", "tone", "wrong policy quoted")
                    ),
                )
            )
        world.inspections.append(
            Inspection(
                inspection_id=inspection_id,
                record_type={"phone": "call", "chat": "chat", "email": "email"}[channel],
                record_id=record_id,
                agent_id=agent.agent_id,
                record_at=worked,
                inspector_name=_name(rng),
                inspected_at=inspected,
                deductions=deductions,
            )
        )
        if any(d.severity != "minor" for d in deductions):
            closed = inspected + timedelta(days=rng.randint(1, 12)) if rng.random() < 0.8 else None
            world.rectifications.append(
                Rectification(
                    rectification_id=f"RF{inspection_id[2:]}",
                    inspection_id=inspection_id,
                    agent_id=agent.agent_id,
                    description="review the script and re-take the module quiz",
                    due_date=inspected_day + timedelta(days=7),
                    closed_at=closed,
                    created_at=inspected,
                )
            )
