"""Write the simulated world as each vendor delivers it.

- call center: one CSV export per local day (`call_center/contacts_YYYYMMDD.csv`), local
  clock times without a zone, Y/N flags;
- CRM: JSON files behind the REST API of `simulator.crm_api`;
- QA: the QA tool's own SQLite database (`qa/qa_tool.sqlite`), times in UTC;
- surveys: one JSON-lines export per local day of response (`surveys/responses_YYYYMMDD.jsonl`);
- supervisor inputs: one spreadsheet per team per month (`supervisor/YYYY-MM/team_TNN.xlsx`).

With `config.dirt`, some deliveries get a duplicated or unparseable row; every one is
written to `dirt.json` so the tests know what must be deduplicated or quarantined.
"""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from simulator.world import World

CALL_CENTER_HEADER = (
    "CallID",
    "Channel",
    "Queue",
    "AgentID",
    "ANI",
    "OfferedTime",
    "AnsweredTime",
    "EndTime",
    "TalkSec",
    "HoldSec",
    "WrapSec",
    "Abandoned",
    "Transferred",
    "Disposition",
    "QueueSec",
)


def write_all(world: World, out_dir: Path) -> list[dict]:
    """Write every source and return the dirt log."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dirt: list[dict] = []
    write_call_center(world, out_dir / "call_center", dirt)
    write_crm(world, out_dir / "crm")
    write_qa(world, out_dir / "qa" / "qa_tool.sqlite")
    write_surveys(world, out_dir / "surveys", dirt)
    write_supervisor_inputs(world, out_dir / "supervisor", dirt)
    (out_dir / "dirt.json").write_text(json.dumps(dirt, indent=1))
    return dirt


def _local_text(moment: datetime | None, world: World) -> str:
    return moment.astimezone(world.tz).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _utc_text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else None


def _dirt_rng(world: World, source: str, day: date) -> random.Random:
    return random.Random(f"{world.config.seed}:dirt:{source}:{day.isoformat()}")


def write_call_center(world: World, folder: Path, dirt: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    by_day: dict[date, list] = {day: [] for day in world.config.dates}
    for c in world.contacts:
        by_day[c.offered_at.astimezone(world.tz).date()].append(
            [
                c.contact_id,
                c.channel,
                c.queue_name,
                c.agent_id or "",
                c.customer_number,
                _local_text(c.offered_at, world),
                _local_text(c.answered_at, world),
                _local_text(c.ended_at, world),
                c.talk_seconds,
                c.hold_seconds,
                c.acw_seconds,
                "Y" if c.is_abandoned else "N",
                "Y" if c.is_transferred else "N",
                c.disposition,
                int(((c.answered_at or c.ended_at) - c.offered_at).total_seconds()),
            ]
        )
    for day, rows in by_day.items():
        rows.sort(key=lambda r: (r[5], r[0]))
        name = f"contacts_{day:%Y%m%d}.csv"
        if world.config.dirt and rows:
            rng = _dirt_rng(world, "call_center", day)
            if rng.random() < 0.35:
                copy = list(rng.choice(rows))
                rows.insert(rng.randrange(len(rows) + 1), copy)
                dirt.append(
                    {
                        "source": "call_center",
                        "object": name,
                        "kind": "duplicate_row",
                        "key": copy[0],
                    }
                )
            if rng.random() < 0.25:
                bad = list(rng.choice(rows))
                bad[0] = f"{bad[0]}X"
                bad[8] = "n/a"
                rows.insert(rng.randrange(len(rows) + 1), bad)
                dirt.append(
                    {
                        "source": "call_center",
                        "object": name,
                        "kind": "unparseable_row",
                        "key": bad[0],
                    }
                )
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CALL_CENTER_HEADER)
            writer.writerows(rows)


def write_crm(world: World, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    updated = datetime.combine(world.config.start_date, datetime.min.time(), tzinfo=world.tz)
    teams = [asdict(t) | {"updated_at": updated.isoformat()} for t in world.teams]
    last_day = world.config.dates[-1]
    agents = [
        {
            "agent_id": a.agent_id,
            "agent_name": a.agent_name,
            # The roster shows today's team; the history is in team_assignments.
            "team_id": world.team_on(a.agent_id, min(last_day, a.left_on or last_day)) or a.team_id,
            "primary_channel": a.primary_channel,
            "hired_on": a.hired_on.isoformat(),
            "left_on": a.left_on.isoformat() if a.left_on else None,
            "updated_at": updated.isoformat(),
        }
        for a in world.agents
    ]
    assignments = [
        {
            "id": a.assignment_id,
            "agent": a.agent_id,
            "team": a.team_id,
            "from": a.valid_from.isoformat(),
            "to": a.valid_to.isoformat() if a.valid_to else None,
            "updated_at": updated.isoformat(),
        }
        for a in world.assignments
    ]
    (folder / "teams.json").write_text(json.dumps(teams))
    (folder / "agents.json").write_text(json.dumps(agents))
    (folder / "team_assignments.json").write_text(json.dumps(assignments))
    with (folder / "ticket_events.jsonl").open("w", encoding="utf-8") as handle:
        for e in world.ticket_events:
            handle.write(json.dumps(asdict(e) | {"occurred_at": e.occurred_at.isoformat()}) + "\n")
    with (folder / "tickets.jsonl").open("w", encoding="utf-8") as handle:
        for t in world.tickets:
            record = {
                k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(t).items()
            }
            handle.write(json.dumps(record) + "\n")


def write_qa(world: World, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(
        """
        create table inspections (
            id text primary key, record_type text, record_id text, agent_code text,
            record_time text, inspector text, inspected_time text, updated_at text);
        create table inspection_items (
            id text primary key, inspection_id text references inspections(id), dimension text,
            severity text, points integer, note text);
        create table rectifications (
            id text primary key, inspection_id text references inspections(id), agent_code text,
            description text, due_date text, closed_time text, updated_at text);
        create index inspections_updated on inspections (updated_at);
        create index rectifications_updated on rectifications (updated_at);
        """
    )
    db.executemany(
        "insert into inspections values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i.inspection_id,
                i.record_type,
                i.record_id,
                i.agent_id,
                _utc_text(i.record_at),
                i.inspector_name,
                _utc_text(i.inspected_at),
                _utc_text(i.inspected_at),
            )
            for i in world.inspections
        ],
    )
    db.executemany(
        "insert into inspection_items values (?, ?, ?, ?, ?, ?)",
        [
            (d.deduction_id, i.inspection_id, d.dimension, d.severity, d.points, d.note)
            for i in world.inspections
            for d in i.deductions
        ],
    )
    # The database as it stands at the end of the simulated horizon: an item closed later
    # is still open in it (and was last updated when it was issued).
    horizon = datetime.combine(
        world.config.dates[-1] + timedelta(days=1), datetime.min.time(), tzinfo=world.tz
    )
    rectifications = []
    for r in world.rectifications:
        closed = r.closed_at if r.closed_at is not None and r.closed_at < horizon else None
        rectifications.append(
            (
                r.rectification_id,
                r.inspection_id,
                r.agent_id,
                r.description,
                r.due_date.isoformat(),
                _utc_text(closed),
                _utc_text(closed or r.created_at),
            )
        )
    db.executemany("insert into rectifications values (?, ?, ?, ?, ?, ?, ?)", rectifications)
    db.commit()
    db.close()


def write_surveys(world: World, folder: Path, dirt: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    by_day: dict[date, list[str]] = {day: [] for day in world.config.dates}
    for s in sorted(world.surveys, key=lambda s: (s.responded_at, s.response_id)):
        day = s.responded_at.astimezone(world.tz).date()
        if day not in by_day:
            continue  # arrives after the simulated horizon
        by_day[day].append(
            json.dumps(
                {
                    "response_id": s.response_id,
                    "contact_id": s.contact_id,
                    "channel": s.channel,
                    "agent_id": s.agent_id,
                    "contact_time": s.contact_at.isoformat(),
                    "responded_time": s.responded_at.astimezone(world.tz).isoformat(),
                    "csat": s.csat_score,
                    "nps": s.nps_score,
                    "comment": s.comment_text,
                    "tags": s.tags,
                },
                ensure_ascii=False,
            )
        )
    for day, lines in by_day.items():
        name = f"responses_{day:%Y%m%d}.jsonl"
        if world.config.dirt and lines:
            rng = _dirt_rng(world, "survey", day)
            if rng.random() < 0.25:
                position = rng.randrange(len(lines))
                lines.insert(position, lines[position][: len(lines[position]) // 2])
                dirt.append(
                    {
                        "source": "survey",
                        "object": name,
                        "kind": "truncated_line",
                        "key": str(position + 1),
                    }
                )
        (folder / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


SUPERVISOR_HEADER = (
    "Month",
    "Team",
    "Agent ID",
    "Teamwork (1-5)",
    "Training sessions",
    "Sessions attended",
    "Exam score",
    "Discipline points",
    "Plan items due",
    "Plan items closed on time",
    "Supervisor comment",
)


def write_supervisor_inputs(world: World, folder: Path, dirt: list[dict]) -> None:
    """One workbook per team per month, as the team's supervisor fills it in."""
    from openpyxl import Workbook

    sheets: dict[tuple[str, str], list[list]] = {}
    for i in world.supervisor_inputs:
        sheets.setdefault((f"{i.month:%Y-%m}", i.team_id), []).append(
            [
                f"{i.month:%Y-%m}",
                i.team_id,
                i.agent_id,
                i.teamwork_rating,
                i.training_sessions_scheduled,
                i.training_sessions_attended,
                i.exam_score,
                i.discipline_points,
                i.plan_items_due,
                i.plan_items_closed_on_time,
                i.comment,
            ]
        )
    for (month, team_id), rows in sorted(sheets.items()):
        name = f"{month}/team_{team_id}.xlsx"
        if world.config.dirt and team_id == world.teams[0].team_id:
            # A typo the spreadsheet let through: an exam score out of range.
            bad = list(rows[0])
            bad[2], bad[6] = f"{bad[2]}-TYPO", 130
            rows = [*rows, bad]
            dirt.append(
                {"source": "supervisor", "object": name, "kind": "out_of_range", "key": bad[2]}
            )
        book = Workbook()
        sheet = book.active
        sheet.title = "Monthly inputs"
        sheet.append(SUPERVISOR_HEADER)
        for row in rows:
            sheet.append(row)
        (folder / month).mkdir(parents=True, exist_ok=True)
        book.save(folder / name)
