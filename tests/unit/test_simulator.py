import hashlib
import json
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

from simulator import exports
from simulator.config import SimulationConfig
from simulator.crm_api import CrmData
from simulator.world import SEVERITY_POINTS, build_world


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".sqlite"
    }


def test_the_same_seed_gives_the_same_deliveries(tmp_path):
    config = SimulationConfig(days=2, n_agents=20)
    exports.write_all(build_world(config), tmp_path / "a")
    exports.write_all(build_world(config), tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    other = SimulationConfig(days=2, n_agents=20, seed=7)
    exports.write_all(build_world(other), tmp_path / "c")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_a_short_simulation_is_the_start_of_a_long_one():
    short = build_world(SimulationConfig(days=2, n_agents=20))
    long = build_world(SimulationConfig(days=5, n_agents=20))
    early = [c for c in long.contacts if c.offered_at.date() < date(2026, 10, 3)]
    assert [c.contact_id for c in short.contacts] == [c.contact_id for c in early]


def test_the_default_center_is_shaped_like_the_domain():
    world = build_world(SimulationConfig(days=3))
    sizes = Counter(a.team_id for a in world.agents)
    assert len(world.agents) == 60 and all(8 <= n <= 10 for n in sizes.values())
    assert set(a.primary_channel for a in world.agents) == {"phone", "chat", "email"}
    tz = world.tz
    for c in world.contacts:
        local = c.offered_at.astimezone(tz).time()
        assert time(8, 30) <= local < time(17, 30)
    for s in world.surveys:
        assert timedelta(0) <= s.responded_at - s.contact_at <= timedelta(days=7)
    for i in world.inspections:
        assert i.inspected_at > i.record_at
        for d in i.deductions:
            low, high = SEVERITY_POINTS[d.severity]
            assert low <= d.points <= high
    per_day = Counter(c.offered_at.date() for c in world.contacts)
    assert all(900 <= n <= 2500 for n in per_day.values())


def test_the_crm_cursor_shows_each_ticket_as_of_the_window(tmp_path):
    world = build_world(SimulationConfig(start_date=date(2026, 10, 8), days=3, n_agents=20))
    exports.write_crm(world, tmp_path)
    crm = CrmData(tmp_path)
    tz = world.tz
    ticket = next(
        t
        for t in world.tickets
        if t.channel == "email"
        and t.created_at.astimezone(tz).date() == date(2026, 10, 8)
        and t.resolved_at.astimezone(tz).date() == date(2026, 10, 9)
        and t.first_response_at.astimezone(tz).date() == date(2026, 10, 8)
    )

    def day(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=tz)

    first = {
        s["ticket_id"]: s
        for s in crm.tickets_updated(day(date(2026, 10, 8)), day(date(2026, 10, 9)))
    }
    second = {
        s["ticket_id"]: s
        for s in crm.tickets_updated(day(date(2026, 10, 9)), day(date(2026, 10, 10)))
    }
    assert first[ticket.ticket_id]["status"] == "responded"
    assert first[ticket.ticket_id]["resolved_at"] is None
    assert second[ticket.ticket_id]["status"] == "resolved"
    assert second[ticket.ticket_id]["resolved_at"] == ticket.resolved_at.isoformat()


def test_dirt_is_logged_where_it_was_written(tmp_path):
    world = build_world(SimulationConfig(days=10, n_agents=20))
    dirt = exports.write_all(world, tmp_path)
    assert json.loads((tmp_path / "dirt.json").read_text()) == dirt
    assert {d["kind"] for d in dirt} >= {"duplicate_row", "unparseable_row"}
    for d in dirt:
        if d["source"] == "call_center":
            text = (tmp_path / "call_center" / d["object"]).read_text()
            expected = 2 if d["kind"] == "duplicate_row" else 1
            assert text.count(d["key"] + ",") == expected
