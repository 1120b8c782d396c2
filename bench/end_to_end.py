"""End to end: business days of a simulated center through the whole daily DAG, with the
share of each stage, at several sizes (scaling), in a database of their own.

    .venv/bin/python bench/end_to_end.py --agents 200 1000 2000 --days 3 --repeat 3

For each size, `--days` days (from 2026-10-01) are simulated once and run one after the
other with Airflow's dag.test into a fresh database `ccp_bench_e2e`; the last day (history
in the warehouse, as every day but the first has) is the figure: its wall time and each
stage's share from the run's task instances (extract = the five extract tasks: read,
land, validate; build = dbt; audit = Great Expectations + dbt tests; publish). With
`--repeat`, every size is run that many times from a fresh database, the sizes in rotation
(the machine's noise falls on all of them), and the figures are the medians.
`--backfill` also times every day (the 30-day backfill of 200 agents: `--agents 200
--days 30`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

from common import STAGES, bench_database, crm_api, timed_day

from cli import environment  # the project is installed in .venv (make install)

START = date(2026, 10, 1)


def simulate(agents: int, days: int, folder: Path) -> None:
    from simulator.__main__ import generate
    from simulator.config import SimulationConfig

    counts = generate(SimulationConfig(start_date=START, days=days, n_agents=agents), folder)
    print(f"  {agents} agents simulated: {counts}", flush=True)


def run_size(agents: int, days: int, server: str, folder: Path) -> list[dict]:
    """Each day's wall time and stage seconds for the center of `agents` simulated in
    `folder`, from a fresh database."""
    from cli.daily_runs import load_daily_dag

    os.environ["WAREHOUSE_URL"] = server  # a fresh database on the server
    os.environ["WAREHOUSE_URL"] = bench_database("ccp_bench_e2e")
    timezone = "Asia/Shanghai"
    results = []
    os.environ["SOURCE_LANDING_DIR"] = str(folder)
    with crm_api(folder / "crm") as crm:
        os.environ["CRM_API_URL"] = crm
        dag = load_daily_dag()
        for offset in range(days):
            day = START + timedelta(days=offset)
            results.append({"day": day, **timed_day(dag, day, timezone)})
            print(f"  {agents} agents, {day}: {results[-1]['wall']:.1f} s", flush=True)
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
    parser.add_argument("--repeat", type=int, default=1, help="runs of every size (medians)")
    args = parser.parse_args()
    os.environ["DAILY_DAG_RETRIES"] = "0"
    environment.prepare()
    environment.migrate_airflow_db()
    server = os.environ["WAREHOUSE_URL"]
    last: dict[int, list[dict]] = {agents: [] for agents in args.agents}
    with ExitStack() as stack:
        folders = {}
        for agents in args.agents:
            folders[agents] = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            simulate(agents, args.days, folders[agents])
        for attempt in range(args.repeat):
            shift = attempt % len(args.agents)
            for agents in args.agents[shift:] + args.agents[:shift]:
                days = run_size(agents, args.days, server, folders[agents])
                if args.backfill:
                    total = {k: sum(d[k] for d in days) for k in ("wall", *STAGES)}
                    for row in days:
                        print(_line(f"{agents} agents {row['day']}", row))
                    print(_line(f"{agents} agents, {args.days} days", total))
                last[agents].append(days[-1])
    median = {
        agents: {k: statistics.median(r[k] for r in runs) for k in ("wall", *STAGES)}
        for agents, runs in last.items()
    }
    runs_word = f"median of {args.repeat} runs" if args.repeat > 1 else "one run"
    print(f"\nlast day ({START + timedelta(days=args.days - 1)}), whole DAG, {runs_word}:")
    smallest = min(median)
    for agents, row in median.items():
        walls = ", ".join(f"{r['wall']:.1f}" for r in last[agents])
        print(
            _line(f"{agents} agents", row)
            + f"   x{row['wall'] / median[smallest]['wall']:.2f} for x{agents / smallest:g}"
            + f" agents   runs: {walls}"
        )
    largest = max(median)
    extracts = {
        task: statistics.median(r["tasks"][task] for r in last[largest])
        for task in last[largest][0]["tasks"]
        if task.startswith(STAGES["extract"])
    }
    listed = ", ".join(f"{t} {s:.1f} s" for t, s in sorted(extracts.items(), key=lambda x: -x[1]))
    print(f"extract tasks at {largest} agents: {listed}")


if __name__ == "__main__":
    main()
