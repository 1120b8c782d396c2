"""End to end: business days of a simulated center through the whole daily DAG, with the
share of each stage, at several sizes (scaling), in a database of their own.

    .venv/bin/python bench/end_to_end.py --agents 200 1000 2000 --days 3

For each size, `--days` days (from 2026-10-01) are simulated and run one after the other
with Airflow's dag.test into a fresh database `ccp_bench_e2e`; the last day (history in
the warehouse, as every day but the first has) is the figure: its wall time and each
stage's share from the run's task instances (extract = the five extract tasks: read,
land, validate; build = dbt; audit = Great Expectations + dbt tests; publish).
`--backfill` also times every day (the 30-day backfill of 200 agents: `--agents 200
--days 30`).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

from common import STAGES, bench_database, crm_api, timed_day

from cli import environment  # the project is installed in .venv (make install)

START = date(2026, 10, 1)


def run_size(agents: int, days: int, server: str) -> list[dict]:
    """Each day's wall time and stage seconds for a center of `agents`."""
    from cli.daily_runs import load_daily_dag
    from simulator.__main__ import generate
    from simulator.config import SimulationConfig

    os.environ["WAREHOUSE_URL"] = server  # a fresh database on the server
    os.environ["WAREHOUSE_URL"] = bench_database("ccp_bench_e2e")
    timezone = "Asia/Shanghai"
    results = []
    with tempfile.TemporaryDirectory(prefix="ccp-e2e-") as tmp:
        folder = Path(tmp)
        config = SimulationConfig(start_date=START, days=days, n_agents=agents)
        counts = generate(config, folder)
        os.environ["SOURCE_LANDING_DIR"] = str(folder)
        with crm_api(folder / "crm") as crm:
            os.environ["CRM_API_URL"] = crm
            dag = load_daily_dag()
            for offset in range(days):
                day = START + timedelta(days=offset)
                results.append({"day": day, **timed_day(dag, day, timezone)})
                print(f"  {agents} agents, {day}: {results[-1]['wall']:.1f} s", flush=True)
    print(f"  simulated: {counts}")
    return results


def _line(label: str, row: dict) -> str:
    tasks = sum(row[s] for s in STAGES)
    shares = "  ".join(f"{s} {row[s]:6.1f} s ({row[s] / tasks:4.0%})" for s in STAGES)
    return f"{label:<22}{row['wall']:7.1f} s   {shares}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[200, 1000, 2000])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--backfill", action="store_true", help="print every day's figures")
    args = parser.parse_args()
    os.environ["DAILY_DAG_RETRIES"] = "0"
    environment.prepare()
    environment.migrate_airflow_db()
    last, server = {}, os.environ["WAREHOUSE_URL"]
    for agents in args.agents:
        days = run_size(agents, args.days, server)
        if args.backfill:
            total = {k: sum(d[k] for d in days) for k in ("wall", *STAGES)}
            for row in days:
                print(_line(f"{agents} agents {row['day']}", row))
            print(_line(f"{agents} agents, {args.days} days", total))
        last[agents] = days[-1]
    print(f"\nlast day ({START + timedelta(days=args.days - 1)}), whole DAG:")
    smallest = min(last)
    for agents, row in last.items():
        print(
            _line(f"{agents} agents", row)
            + f"   x{row['wall'] / last[smallest]['wall']:.2f} for x{agents / smallest:g} agents"
        )


if __name__ == "__main__":
    main()
