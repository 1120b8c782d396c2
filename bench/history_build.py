"""Daily build cost at any history length: the same business day run by the daily DAG
with 1 month and with 6 months of history already in the warehouse, side by side.

    .venv/bin/python bench/history_build.py --agents 200 --months 1 6 --repeat 3

The center is simulated once for the longest history (ending on END); each history gets a
database of its own (`ccp_bench_history_<months>`) into which the days before END are
landed by the extract tasks' own code (fast: no build per day) and built once by the DAG
for the day before END. Then END is run by the DAG (dag.test: extract, build, audit,
publish) `--repeat` times, alternating between the histories, and each stage's median
time is printed with the ratio of the longest history to the shortest. The prepared
databases and the simulated folder are kept: the simulation (under .local/bench/) is made
again only when its size changes, and `--reuse` times the prepared databases again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from common import STAGES, bench_database, crm_api, timed_day

from cli import environment  # the project is installed in .venv (make install)

END = date(2027, 3, 31)
TIMEZONE = "Asia/Shanghai"


def _start(months: int) -> date:
    first = END.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _database_url(name: str, fresh: bool) -> str:
    if fresh:
        return bench_database(name)
    base, _, query = os.environ["WAREHOUSE_URL"].partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


def prepare(months: int, folder, dag) -> None:
    """Land every day of the history before END, then build it once (the DAG for END-1)."""
    from cli.daily_runs import run_business_day
    from extractors.daily import extract
    from extractors.settings import ALL_SOURCES

    day = _start(months)
    started = time.perf_counter()
    while day < END - timedelta(days=1):
        begin = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(TIMEZONE))
        for source in ALL_SOURCES:
            extract(source, begin, begin + timedelta(days=1), f"history__{day}", "extract")
        day += timedelta(days=1)
    run_business_day(dag, END - timedelta(days=1), TIMEZONE)
    print(f"  {months} month(s) of history prepared in {time.perf_counter() - started:.0f} s")


def timed_run(dag) -> dict:
    return timed_day(dag, END, TIMEZONE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--months", type=int, nargs="+", default=[1, 6])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the prepared histories")
    args = parser.parse_args()
    os.environ["DAILY_DAG_RETRIES"] = "0"
    environment.prepare()
    environment.migrate_airflow_db()
    from cli.daily_runs import load_daily_dag
    from simulator.__main__ import generate
    from simulator.config import SimulationConfig

    folder = environment.LOCAL_DIR / "bench" / f"history-{args.agents}"
    first = _start(max(args.months))
    wanted = {"agents": args.agents, "start": first.isoformat(), "end": END.isoformat()}
    stamp = folder / "simulation.json"
    if not (stamp.exists() and json.loads(stamp.read_text()) == wanted):
        config = SimulationConfig(
            start_date=first, days=(END - first).days + 1, n_agents=args.agents
        )
        started = time.perf_counter()
        print(f"simulating {config.days} days of {args.agents} agents: {generate(config, folder)}")
        print(f"  in {time.perf_counter() - started:.0f} s")
        stamp.write_text(json.dumps(wanted))
        args.reuse = False  # new data: the histories are prepared again
    os.environ["SOURCE_LANDING_DIR"] = str(folder)
    server = os.environ["WAREHOUSE_URL"]
    runs: dict[int, list[dict]] = {m: [] for m in args.months}
    with crm_api(folder / "crm") as crm:
        os.environ["CRM_API_URL"] = crm
        dag = load_daily_dag()
        urls = {}
        for months in args.months:
            os.environ["WAREHOUSE_URL"] = server
            urls[months] = _database_url(f"ccp_bench_history_{months}", fresh=not args.reuse)
            if not args.reuse:
                os.environ["WAREHOUSE_URL"] = urls[months]
                prepare(months, folder, dag)
        for months in args.months:
            # One untimed run each: the first build after a change of the models rebuilds
            # everything (and records the batches the incremental ones start from).
            os.environ["WAREHOUSE_URL"] = urls[months]
            timed_run(dag)
        for attempt in range(args.repeat):
            for months in args.months if attempt % 2 == 0 else reversed(args.months):
                os.environ["WAREHOUSE_URL"] = urls[months]
                runs[months].append(timed_run(dag))
                stages = {k: round(runs[months][-1][k], 2) for k in ("wall", *STAGES)}
                print(f"  run {attempt + 1}, {months} month(s): {stages}", flush=True)
    medians = {
        m: {k: statistics.median(r[k] for r in rs) for k in ("wall", *STAGES)}
        for m, rs in runs.items()
    }
    shortest, longest = min(args.months), max(args.months)
    print(f"\n{END}, {args.agents} agents, median of {args.repeat} runs of the daily DAG:")
    print(f"{'history':<10}" + "".join(f"{k:>10}" for k in ("wall", *STAGES)))
    for months, median in medians.items():
        print(f"{months:>2} months " + "".join(f"{median[k]:>9.1f}s" for k in ("wall", *STAGES)))
    print(
        f"ratio {longest}/{shortest} months "
        + "".join(f"{medians[longest][k] / medians[shortest][k]:>10.2f}" for k in ("wall", *STAGES))
    )


if __name__ == "__main__":
    main()
