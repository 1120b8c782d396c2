"""The simulated source systems the end-to-end tests run against."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from simulator import exports
from simulator.config import SimulationConfig
from simulator.crm_api import CrmApiServer
from simulator.world import World, build_world

ALL_SOURCES = ("call_center", "crm", "qa", "survey", "supervisor")


@contextmanager
def simulated_sources(folder: Path, config: SimulationConfig) -> Iterator[tuple[World, list]]:
    """Write the simulated world's deliveries to `folder`, serve its CRM API and point the
    pipeline's source settings at them; yield (world, dirt log); undo on exit."""
    world = build_world(config)
    dirt = exports.write_all(world, folder)
    env = pytest.MonkeyPatch()
    try:
        env.setenv("SOURCE_LANDING_DIR", str(folder))
        env.setenv("QA_DB_PATH", str(folder / "qa" / "qa_tool.sqlite"))
        with CrmApiServer(folder / "crm") as crm:
            env.setenv("CRM_API_URL", crm.url)
            yield world, dirt
    finally:
        env.undo()


def land_days(days: list[date], timezone: str = "Asia/Shanghai") -> None:
    """Land each day of every source with the functions the DAG's extract tasks call (a
    backfill without a build per day)."""
    from extractors.daily import extract

    for day in days:
        start = datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
        for source in ALL_SOURCES:
            extract(source, start, start + timedelta(days=1), f"backfill__{day}", source)


def unknown_agents(path: Path, share: float) -> None:
    """Rewrite a share of a call-center file's answered contacts to an agent nobody has
    heard of (enough of them fails the day's audit)."""
    rows = list(csv.reader(path.open(newline="")))
    header, body = rows[0], rows[1:]
    answered = [r for r in body if r[header.index("AgentID")]]
    for row in answered[: int(len(answered) * share)]:
        row[header.index("AgentID")] = "AG9999"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *body])
