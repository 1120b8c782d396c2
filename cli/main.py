"""ccpipe: generate a sample month, run the daily DAG for it, show the scorecard.

python -m cli run-month [--month 2026-10] [--agents 60] [--seed N]
python -m cli scorecard [--month 2026-10] [--top 10]
python -m cli run-days --start YYYY-MM-DD --end YYYY-MM-DD
python -m cli check-mapping --mapping FILE.yml --file SAMPLE
python -m cli close-month --month YYYY-MM
python -m cli reopen-month --month YYYY-MM --reason TEXT [--by NAME]
python -m cli month-status
python -m cli lease [--release]
python -m cli dbt <dbt arguments>
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import sys
import time
import warnings
from datetime import date
from pathlib import Path

from cli import environment

SCORECARD_TABLE = "reporting.agent_month_scorecards"


def _month(text: str) -> date:
    return date.fromisoformat(f"{text}-01")


def _simulator_fingerprint() -> str:
    import hashlib

    import simulator

    digest = hashlib.sha256()
    for path in sorted(Path(simulator.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def generate_sample(month_start: date, agents: int, seed: int, out_dir: Path) -> None:
    """Write the simulator's deliveries for the month, unless the same ones are already there."""
    from simulator.__main__ import generate
    from simulator.config import SimulationConfig

    days = calendar.monthrange(month_start.year, month_start.month)[1]
    config = SimulationConfig(start_date=month_start, days=days, n_agents=agents, seed=seed)
    stamp = out_dir / "simulation.json"
    wanted = {
        "start": month_start.isoformat(),
        "days": days,
        "agents": agents,
        "seed": seed,
        # A changed simulator writes other files: the sample is made again.
        "simulator": _simulator_fingerprint(),
    }
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        print(f"sample deliveries already in {out_dir}")
        return
    counts = generate(config, out_dir)
    stamp.write_text(json.dumps(wanted))
    print(f"simulated {days} days of {agents} agents into {out_dir}: {counts}")


def run_month(args: argparse.Namespace) -> None:
    environment.prepare()
    month_start = _month(args.month)
    sample_dir = Path(os.environ["SOURCE_LANDING_DIR"])
    generate_sample(month_start, args.agents, args.seed, sample_dir)
    environment.migrate_airflow_db()

    from cli.daily_runs import load_daily_dag, run_business_day
    from simulator.crm_api import CrmApiServer

    timezone = os.environ.get("CENTER_TIMEZONE", "Asia/Shanghai")
    dag = load_daily_dag()
    days = calendar.monthrange(month_start.year, month_start.month)[1]
    with CrmApiServer(sample_dir / "crm") as crm_api:
        os.environ["CRM_API_URL"] = crm_api.url
        for offset in range(days):
            day = date(month_start.year, month_start.month, offset + 1)
            started = time.monotonic()
            run_business_day(dag, day, timezone)
            print(
                f"business day {day}: DAG run succeeded in {time.monotonic() - started:.1f}s",
                flush=True,
            )
    show_scorecard(month_start, args.top)


def run_days(args: argparse.Namespace) -> None:
    """Run the daily DAG for each business day from --start to --end with the sources the
    environment configures (SOURCE_LANDING_DIR, SOURCE_MAPPINGS_DIR, ENABLED_SOURCES,
    CENTER_TIMEZONE, CRM_API_URL, QA_DB_PATH)."""
    environment.prepare()
    environment.migrate_airflow_db()
    from datetime import timedelta

    from cli.daily_runs import load_daily_dag, run_business_day

    timezone = os.environ.get("CENTER_TIMEZONE", "Asia/Shanghai")
    dag = load_daily_dag()
    day = args.start
    while day <= args.end:
        started = time.monotonic()
        run_business_day(dag, day, timezone)
        took = time.monotonic() - started
        print(f"business day {day}: DAG run succeeded in {took:.1f}s", flush=True)
        day += timedelta(days=1)
    print_where_to_query(
        "select * from reporting.agent_days"
        f" where business_date between '{args.start}' and '{args.end}' order by agent_id"
    )


def show_scorecard(month_start: date, top: int) -> None:
    from warehouse.connection import connect

    columns = (
        "center_rank",
        "team_rank",
        "agent_id",
        "agent_name",
        "team_id",
        "total_score",
        "grade",
        "bonus_amount",
        "unscored_kpis",
    )
    with connect() as conn:
        rows = conn.execute(
            f"select {', '.join(columns)} from {SCORECARD_TABLE}"
            " where month_start = %s order by center_rank limit %s",
            (month_start, top),
        ).fetchall()
    widths = [
        max(len(c), *(len(str(r[i])) for r in rows)) if rows else len(c)
        for i, c in enumerate(columns)
    ]
    print(f"\nMonthly agent scorecard {month_start:%Y-%m} (top {top} of the center):")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
    print_where_to_query(
        f"select * from {SCORECARD_TABLE} where month_start = '{month_start}'"
        " order by center_rank limit 10"
    )


def print_where_to_query(example: str) -> None:
    """Where the published tables are, without printing a password: the embedded server's
    passwords are in their files under `.local/`, a given WAREHOUSE_URL's is in the URL."""
    url = os.environ["WAREHOUSE_URL"]
    shown = environment.masked(url)
    kept = environment.password_file_of(url)
    if kept:
        password = f"  password:   in {kept}\n"
        client = f"PGPASSWORD=\"$(cat {kept})\" psql '{shown.replace(':****@', '@', 1)}'"
    elif shown != url:
        password = "  password:   the one in WAREHOUSE_URL\n"
        client = 'psql "$WAREHOUSE_URL"'
    else:
        password, client = "", f"psql '{url}'"
    bi_file = environment.LOCAL_DIR / environment.BI_READER_PASSWORD_FILE
    if (
        kept
        and bi_file.exists()
        and bi_file.read_text().strip() == os.environ.get("BI_READER_PASSWORD")
    ):
        role = os.environ.get("BI_READER_ROLE", "bi_reader")
        password += f"  BI tools:   user {role} (reads reporting only), password in {bi_file}\n"
    print(
        "\nQuery it yourself:\n"
        f"  connection: {shown}\n"
        f"{password}"
        f"  schema:     reporting\n"
        f"  table:      agent_month_scorecards\n"
        f"              (also agent_month_kpis, agent_period_scorecards, kpi_rollups,\n"
        f"               agent_days, kpi_inputs, queue_days, agents, qa_agent_weeks,\n"
        f"               qa_team_months, publication; KPI metrics: python -m cli metrics)\n"
        f'  e.g.        {client} -c "{example}"'
    )


def scorecard(args: argparse.Namespace) -> None:
    environment.prepare()
    show_scorecard(_month(args.month), args.top)


def dbt(args: argparse.Namespace) -> None:
    """Any dbt command against the warehouse, e.g. `python -m cli dbt docs generate`."""
    environment.prepare()
    from warehouse.dbt_build import run_dbt

    run_dbt(args.dbt_args)


def metrics(args: argparse.Namespace) -> None:
    """MetricFlow's CLI on the KPI metrics, e.g. `python -m cli metrics query --metrics csat
    --group-by metric_time__month,team`."""
    environment.prepare()
    from warehouse.dbt_build import run_dbt
    from warehouse.metrics import mf

    run_dbt(["parse"])  # the semantic manifest mf reads, current with the project
    sys.exit(mf(args.mf_args).returncode)


def check_mapping(args: argparse.Namespace) -> None:
    """Validate a vendor mapping and land a sample file with it in a transaction that is
    rolled back: the report is what the landing does; the warehouse is left as it was."""
    from extractors.mapping import MappingError, load_mapping
    from warehouse.landing import ContractError

    try:
        mapping = load_mapping(args.mapping)
    except (MappingError, OSError) as error:
        raise SystemExit(str(error)) from None
    environment.prepare()
    from extractors.mapping_check import check_file

    try:
        report = check_file(
            mapping,
            args.file,
            samples=args.samples,
            day=args.day,
            timezone=os.environ.get("CENTER_TIMEZONE"),
        )
    except (ContractError, ValueError, OSError) as error:
        raise SystemExit(str(error)) from None
    print(report.render())


def trace(args: argparse.Namespace) -> None:
    """List the source records behind one agent-month KPI of the published scorecard."""
    environment.prepare()
    from warehouse.connection import connect
    from warehouse.trace import trace as trace_kpi

    with connect() as conn:
        records = trace_kpi(conn, args.agent, _month(args.month), args.kpi)
        value = conn.execute(
            "select numerator, denominator, kpi_value from reporting.agent_month_kpis"
            " where agent_id = %s and month_start = %s and kpi_code = %s",
            (args.agent, _month(args.month), args.kpi),
        ).fetchone()
    print(f"{args.kpi} of {args.agent} in {args.month}: numerator, denominator, value = {value}")
    print(f"{len(records)} source records:")
    print("part\trecord\tkey\tsource\tbatch\tbatch_date\tsource_object\tposition")
    for r in records:
        print(
            f"{r.part}\t{r.record}\t{r.record_key}\t{r.source_system}\t{r.batch_id}\t"
            f"{r.batch_date}\t{r.source_object}\t{r.source_position}"
        )


def close_month(args: argparse.Namespace) -> None:
    """Run the monthly close DAG (Airflow's dag.test) for a month now, not on its day."""
    environment.prepare()
    from cli.daily_runs import DagRunFailed, load_close_dag, run_month_close

    month = _month(args.month)
    try:
        run_month_close(
            load_close_dag(),
            month,
            os.environ.get("CENTER_TIMEZONE", "Asia/Shanghai"),
            int(os.environ.get("MONTH_CLOSE_DAY", "5")),
        )
    except DagRunFailed as error:
        raise SystemExit(f"{error}\nsee audit.month_close_events for what is missing") from None
    month_status(args)


def reopen_month(args: argparse.Namespace) -> None:
    """Reopen a closed month on purpose (audited): later data changes it again."""
    environment.prepare()
    from operations.month_close import MonthStateError
    from operations.month_close import reopen_month as reopen
    from warehouse.connection import connect

    with connect() as conn:
        try:
            version = reopen(conn, _month(args.month), args.by, args.reason)
        except MonthStateError as error:
            raise SystemExit(str(error)) from None
    print(
        f"{args.month} reopened (snapshot {version} kept in closing.scorecard_snapshots); the"
        " next daily run publishes its current figures; close it again with"
        f" `python -m cli close-month --month {args.month}`"
    )


def month_status(args: argparse.Namespace) -> None:
    """Closed and reopened months, their open adjustments and the last close events."""
    environment.prepare()
    from operations.month_close import ensure_schema
    from warehouse.connection import connect

    with connect() as conn:
        ensure_schema(conn)
        months = conn.execute(
            "select month_start, status, snapshot_version, changed_by, changed_at, report_dir,"
            " (select count(*) from closing.adjustments a where a.month_start = m.month_start"
            "  and a.snapshot_version = m.snapshot_version and m.status = 'closed')"
            " from closing.months m order by month_start"
        ).fetchall()
    print("month\tstatus\tsnapshot\tby\tat\tadjustments\treport")
    for month, state, version, by, at, report, adjustments in months:
        print(
            f"{month:%Y-%m}\t{state}\t{version}\t{by}\t{at:%Y-%m-%d %H:%M}\t{adjustments}\t{report}"
        )


def airflow(args: argparse.Namespace) -> None:
    """Airflow 3 itself, locally: UI, scheduler and dag-processor on the embedded PostgreSQL."""
    from cli.airflow_server import serve

    serve(args.port)


def bi(args: argparse.Namespace) -> None:
    """Import the dashboards of bi/assets into a local Superset on the warehouse and serve
    them until interrupted."""
    environment.prepare()
    from bi import dashboards
    from warehouse.catalog import table_exists
    from warehouse.connection import connect

    with connect() as conn:
        if not table_exists(conn, "reporting.publication"):
            raise SystemExit("nothing is published yet: run `make run` first")
    password = os.environ.get("BI_READER_PASSWORD")
    if not password:
        raise SystemExit("BI_READER_PASSWORD is not set: the BI role has no login")
    instance = dashboards.Superset(environment.LOCAL_DIR / "superset")
    print("importing the dashboards into Superset ...", flush=True)
    dashboards.install(instance, os.environ["WAREHOUSE_URL"], password)
    server = dashboards.serve(instance, args.port, instance.home / "superset.log")
    print(
        f"\nSuperset: http://127.0.0.1:{args.port}/dashboard/list/\n"
        f"  login:    {dashboards.ADMIN_USER}, password in {instance.admin_password_file}\n"
        f"  log:      {instance.home / 'superset.log'}\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    try:
        server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait()


def show_lease(args: argparse.Namespace) -> None:
    """Who holds the warehouse lease (warehouse/lease.py), and with --release give it back:
    for a run that died holding it, when waiting out the grace is not wanted."""
    environment.prepare()
    from warehouse import lease
    from warehouse.connection import connect

    with connect() as conn:
        holder = lease.current(conn)
        if holder is None:
            print("nobody holds the warehouse lease")
            return
        print(f"the warehouse lease is held by {holder.describe()}")
        if args.release:
            lease.release(conn, holder.run_id)
            conn.commit()
            print(f"released the lease of run {holder.run_id}: the next run may build")


def airflow_cli(args: argparse.Namespace) -> None:
    """Any `airflow` command against the local server (`make airflow`)."""
    from cli.airflow_server import run_cli

    raise SystemExit(run_cli(args.airflow_args))


def main() -> None:
    # Library chatter that says nothing about this pipeline.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    parser = argparse.ArgumentParser(
        prog="ccpipe", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run-month", help="simulate a month and run the daily DAG for every day"
    )
    run.add_argument("--month", default="2026-10", help="YYYY-MM (default 2026-10)")
    run.add_argument("--agents", type=int, default=60)
    run.add_argument("--seed", type=int, default=20261001)
    run.add_argument("--top", type=int, default=10)
    run.set_defaults(func=run_month)
    show = commands.add_parser("scorecard", help="print the published scorecard of a month")
    show.add_argument("--month", default="2026-10")
    show.add_argument("--top", type=int, default=10)
    show.set_defaults(func=scorecard)
    days = commands.add_parser("run-days", help="run the daily DAG for a range of business days")
    days.add_argument("--start", type=date.fromisoformat, required=True)
    days.add_argument("--end", type=date.fromisoformat, required=True)
    days.set_defaults(func=run_days)
    check = commands.add_parser(
        "check-mapping",
        help="check a vendor mapping against a sample file (landed and rolled back)",
    )
    check.add_argument("--mapping", type=Path, required=True, help="mappings/<vendor>/<source>.yml")
    check.add_argument(
        "--file",
        type=Path,
        required=True,
        help="a sample export file (a database mapping: the database; an API one: a saved page)",
    )
    check.add_argument("--samples", type=int, default=3)
    check.add_argument(
        "--day",
        type=date.fromisoformat,
        help="the business day a one-day file holds (default: read from its name)",
    )
    check.set_defaults(func=check_mapping)
    tracer = commands.add_parser(
        "trace", help="the batches, source objects and keys behind one agent-month KPI"
    )
    tracer.add_argument("--agent", required=True)
    tracer.add_argument("--month", required=True, help="YYYY-MM")
    tracer.add_argument("--kpi", required=True, help="a kpi_code of seeds/kpi_catalog.csv")
    tracer.set_defaults(func=trace)
    leased = commands.add_parser(
        "lease", help="show who holds the warehouse lease; --release gives it back"
    )
    leased.add_argument("--release", action="store_true")
    leased.set_defaults(func=show_lease)
    server = commands.add_parser(
        "airflow", help="start Airflow 3 (UI, scheduler, dag-processor) with the project's DAGs"
    )
    server.add_argument("--port", type=int, default=8080)
    server.set_defaults(func=airflow)
    dashboards = commands.add_parser(
        "bi", help="import the dashboards into a local Superset on reporting and serve them"
    )
    dashboards.add_argument("--port", type=int, default=8088)
    dashboards.set_defaults(func=bi)
    server_cli = commands.add_parser(
        "airflow-cli", help="run an `airflow` command against the local server's database"
    )
    server_cli.add_argument("airflow_args", nargs=argparse.REMAINDER)
    server_cli.set_defaults(func=airflow_cli)
    closer = commands.add_parser(
        "close-month", help="run the monthly close for a month (checks, snapshot, report)"
    )
    closer.add_argument("--month", required=True, help="YYYY-MM")
    closer.set_defaults(func=close_month)
    reopener = commands.add_parser(
        "reopen-month", help="reopen a closed month on purpose (audited; needs a reason)"
    )
    reopener.add_argument("--month", required=True, help="YYYY-MM")
    reopener.add_argument("--reason", required=True)
    reopener.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who reopens")
    reopener.set_defaults(func=reopen_month)
    status = commands.add_parser("month-status", help="closed months, adjustments, reports")
    status.set_defaults(func=month_status)
    passthrough = commands.add_parser(
        "dbt", help="run a dbt command with the warehouse's connection"
    )
    passthrough.add_argument("dbt_args", nargs=argparse.REMAINDER)
    passthrough.set_defaults(func=dbt)
    semantic = commands.add_parser(
        "metrics", help="MetricFlow's mf command on the KPI metrics, against the warehouse"
    )
    semantic.add_argument("mf_args", nargs=argparse.REMAINDER)
    semantic.set_defaults(func=metrics)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
