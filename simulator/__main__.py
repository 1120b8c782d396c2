"""python -m simulator --out DIR [--start YYYY-MM-DD] [--days N] [--agents N] [--seed N]"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from simulator import exports, ground_truth
from simulator.config import SimulationConfig
from simulator.world import build_world


def generate(config: SimulationConfig, out_dir: Path) -> dict:
    world = build_world(config)
    dirt = exports.write_all(world, out_dir)
    ground_truth.write(world, config.dates[-1], out_dir / "ground_truth")
    return {
        "contacts": len(world.contacts),
        "tickets": len(world.tickets),
        "surveys": len(world.surveys),
        "inspections": len(world.inspections),
        "dirt": len(dirt),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--start", type=date.fromisoformat, default=SimulationConfig.start_date)
    parser.add_argument("--days", type=int, default=SimulationConfig.days)
    parser.add_argument("--agents", type=int, default=SimulationConfig.n_agents)
    parser.add_argument("--seed", type=int, default=SimulationConfig.seed)
    parser.add_argument("--clean", action="store_true", help="deliveries without deliberate dirt")
    args = parser.parse_args()
    config = SimulationConfig(
        start_date=args.start,
        days=args.days,
        n_agents=args.agents,
        seed=args.seed,
        dirt=not args.clean,
    )
    print(generate(config, args.out))


if __name__ == "__main__":
    main()
