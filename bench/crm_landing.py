"""CRM landing: the set-based landing of the API pages against the record-by-record one.

    .venv/bin/python bench/crm_landing.py --agents 2000 --repeat 3

One simulated business day of the CRM (`--agents`; the third of three simulated days, so
the tickets' lookback re-reads changes) served by the simulated CRM API in a process of its
own, landed into a database `ccp_bench_crm` of the warehouse server (WAREHOUSE_URL or the
embedded one) two ways, `--repeat` times in rotation after an untimed warm-up of each:

- set-based: `extractors.daily.land_mappings` (each JSON record cut into its mapped texts
  in Python and COPYed; typed, checked and quarantined by the compiled mapping in SQL);
- record-by-record: the same pages (`extractors.deliveries.api_pages`) through the test
  reference's `page_rows` (RowParser and the CRM's checks in Python) and `land_rows` (COPY
  of the typed rows), tests/reference_reading.py: the landing before the set-based one.
  (It does not hold tickets and events to their batch's day, as the set-based one does.)

Both fetch the same pages over HTTP, so the difference is the landing itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import bench_database, crm_api

from cli import environment  # the project is installed in .venv (make install)

DAY = date(2026, 10, 8)
REPO_ROOT = Path(__file__).resolve().parents[1]


def _record_by_record(conn, batch, url: str, mappings) -> None:
    from extractors.daily import table_columns
    from extractors.deliveries import api_pages
    from extractors.rest_client import RestClient
    from tests.reference_reading import RowParser, land_rows, page_rows
    from warehouse.landing import BatchWriter

    client = RestClient(url)
    with BatchWriter(conn, batch, list(mappings)) as writer:
        for table, mapping in mappings.items():
            parser = RowParser(mapping)
            data_key = mapping.delivery.data_key
            for source_object, payload in api_pages(client, batch, mapping.delivery):
                writer.register_object(source_object)
                rows = page_rows(source_object, payload, parser, data_key)
                land_rows(writer, table, table_columns(table), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    environment.prepare()
    sys.path.insert(0, str(REPO_ROOT))  # the record-by-record reading is the tests' reference
    from extractors.batch import make_batch
    from extractors.daily import land_mappings, source_mappings
    from extractors.deliveries import Places
    from extractors.settings import DEFAULT_MAPPINGS
    from simulator import exports
    from simulator.config import SimulationConfig
    from simulator.world import build_world
    from warehouse.connection import connect

    url = bench_database("ccp_bench_crm")
    mappings = source_mappings("crm", DEFAULT_MAPPINGS)
    methods = {
        "set-based": lambda conn, batch, api: land_mappings(
            conn, batch, mappings, Places(Path("."), api_url=api)
        ),
        "record-by-record": lambda conn, batch, api: _record_by_record(conn, batch, api, mappings),
    }
    seconds: dict[str, list[float]] = {m: [] for m in methods}
    with tempfile.TemporaryDirectory(prefix="ccp-bench-") as tmp:
        folder = Path(tmp) / "crm"
        config = SimulationConfig(
            start_date=DAY - timedelta(days=2), days=3, n_agents=args.agents, dirt=False
        )
        exports.write_crm(build_world(config), folder)
        with crm_api(folder) as api:
            for attempt in range(args.repeat + 1):
                order = list(methods) if attempt % 2 == 0 else list(reversed(methods))
                for method in order:
                    batch = make_batch(
                        "crm", DAY, "Asia/Shanghai", "bench", "extract_crm", datetime.now(UTC)
                    )
                    with connect(url) as conn:
                        started = time.perf_counter()
                        methods[method](conn, batch, api)
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
