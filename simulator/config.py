"""Size and shape of the simulated contact center."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta


@dataclass(frozen=True)
class SimulationConfig:
    start_date: date = date(2026, 10, 1)
    days: int = 31
    n_agents: int = 60
    seed: int = 20261001
    timezone: str = "Asia/Shanghai"
    opens_at: time = time(8, 30)
    closes_at: time = time(17, 30)
    # Deliberate dirt in the deliveries (duplicated and unparseable rows), logged so the
    # tests know exactly what must be quarantined or deduplicated.
    dirt: bool = True
    # The center's calendar (the same as the dbt seeds business_hours and holidays): e-mail
    # replies and ticket SLAs run on business time, which stops outside these hours and on
    # public holidays. Phone and chat are answered every day.
    holidays: tuple[date, ...] = tuple(date(2026, 10, d) for d in range(1, 8)) + (
        date(2026, 1, 1),
        date(2027, 1, 1),
    )
    # Ticket SLA in business hours by priority (the seed ticket_sla).
    sla_business_hours: tuple[tuple[str, int], ...] = (("high", 9), ("normal", 18), ("low", 27))

    @property
    def dates(self) -> list[date]:
        return [self.start_date + timedelta(days=i) for i in range(self.days)]
