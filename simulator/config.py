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

    @property
    def dates(self) -> list[date]:
        return [self.start_date + timedelta(days=i) for i in range(self.days)]
