"""CRM landing: the set-based landing of the API pages against the record-by-record one.

    .venv/bin/python bench/crm_landing.py --agents 2000 --repeat 3

One simulated business day of the CRM (`--agents`; the third of three simulated days, so
the tickets' lookback re-reads changes) served by the simulated CRM API in a process of its
own, landed into a database `ccp_bench_crm` of the warehouse server (WAREHOUSE_URL or the
embedded one) two ways, `--repeat` times in rotation after an untimed warm-up of each:

- set-based: `extractors.crm.extract.run` (each JSON record cut into its mapped texts in
  Python and COPYed; typed, checked and quarantined by the compiled mapping in SQL);
- record-by-record: the same pages through `page_rows` (RowParser and the CRM's checks in
  Python) and `BatchWriter.land` (COPY of the typed rows), the landing before this change
  and still the one of a mapping SQL cannot read (`land_endpoint(..., set_based=False)`).

Both fetch the same pages over HTTP, so the difference is the landing itself.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import bench_database, crm_api

from cli import environment  # the project is installed in .venv (make install)

DAY = date(2026, 10, 8)


def _record_by_record(conn, batch, client, mappings) -> None:
    from extractors.crm.extract import endpoint_pages, land_endpoint
    from extractors.crm.parse import CRM_TABLES
    from warehouse.landing import BatchWriter

    with BatchWriter(conn, batch, list(CRM_TABLES)) as writer:
        for table in CRM_TABLES:
            pages = endpoint_pages(client, batch, mappings[table])
            land_endpoint(writer, table, pages, mappings[table], set_based=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    environment.prepare()
    from extractors.batch import make_batch
    from extractors.crm import extract
    from extractors.crm.client import CrmClient
    from extractors.crm.parse import CRM_TABLES
    from extractors.mapping import load_mapping
    from extractors.settings import DEFAULT_MAPPINGS
    from simulator import exports
    from simulator.config import SimulationConfig
    from simulator.world import build_world
    from warehouse.connection import connect

    url = bench_database("ccp_bench_crm")
    mappings = {t: load_mapping(DEFAULT_MAPPINGS / f"{t}.yml") for t in CRM_TABLES}
    methods = {
        "set-based": lambda conn, batch, client: extract.run(conn, batch, client, mappings),
        "record-by-record": lambda conn, batch, client: _record_by_record(
            conn, batch, client, mappings
        ),
    }
    seconds: dict[str, list[float]] = {m: [] for m in methods}
    with tempfile.TemporaryDirectory(prefix="ccp-bench-") as tmp:
        folder = Path(tmp) / "crm"
        config = SimulationConfig(
            start_date=DAY - timedelta(days=2), days=3, n_agents=args.agents, dirt=False
        )
        exports.write_crm(build_world(config), folder)
        with crm_api(folder) as api:
            client = CrmClient(api)
            for attempt in range(args.repeat + 1):
                order = list(methods) if attempt % 2 == 0 else list(reversed(methods))
                for method in order:
                    batch = make_batch(
                        "crm", DAY, "Asia/Shanghai", "bench", "extract_crm", datetime.now(UTC)
                    )
                    with connect(url) as conn:
                        started = time.perf_counter()
                        methods[method](conn, batch, client)
                        elapsed = time.perf_counter() - started
                        rows = conn.execute(
                            "select sum(rows_read) from raw.batch_manifest"
                        ).fetchone()[0]
                    if attempt:  # the first round warms up
                        seconds[method].append(elapsed)
    print(f"CRM day of {args.agents} agents: {rows:,} records")
    base = statistics.median(seconds["record-by-record"])
    print(f"{'method':<18}{'median s':>10}{'records/s':>12}{'vs before':>10}  runs (s)")
    for method, runs in seconds.items():
        median = statistics.median(runs)
        print(
            f"{method:<18}{median:>10.2f}{rows / median:>12,.0f}{base / median:>9.2f}x  "
            + ", ".join(f"{r:.2f}" for r in runs)
        )


if __name__ == "__main__":
    main()
