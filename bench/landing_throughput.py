"""Landing throughput: the pipeline's call-center landing against a bare COPY and pandas.

    .venv/bin/python bench/landing_throughput.py --agents 2000 --copies 4 --repeat 3

One simulated day of call-center contacts (`--agents`; `--copies` concatenates the day
that many times with fresh contact ids, for a bigger file) is landed three ways, side by
side, in a database `ccp_bench` of the warehouse server (WAREHOUSE_URL or the embedded
one), `--repeat` times in rotation, and the median rows per second of each is printed
with its ratio to the bare COPY:

- pipeline: `extractors.daily.land_mappings` (vendor mapping compiled to SQL: parse and
  validate every field, lineage and content hash per row, manifest, quarantine, ANALYZE);
- copy: PostgreSQL `COPY ... FROM STDIN (FORMAT csv, HEADER)` of the file into a plain
  table of text columns (the physical limit: no parsing in Python at all);
- pandas: `pandas.read_csv` then `DataFrame.to_sql` (SQLAlchemy, default inserts, in
  chunks of 10,000), the approach many pipelines use;
- floor: `COPY` of the pipeline's own output (the typed rows with their lineage columns,
  exported once by an untimed pipeline landing) into a fresh table shaped like
  `raw.call_center_contacts` with its indexes: the write alone, with nothing parsed,
  checked or hashed; the most any landing into that table could reach.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from common import bench_database

from cli import environment  # the project is installed in .venv (make install)

DAY = date(2026, 10, 8)
BENCH_DATABASE = "ccp_bench"


def _delivery(folder: Path, agents: int, copies: int) -> tuple[Path, int]:
    """The day's export, `copies` times over with distinct contact ids; (path, rows)."""
    from simulator import exports
    from simulator.config import SimulationConfig
    from simulator.world import build_world

    world = build_world(SimulationConfig(start_date=DAY, days=1, n_agents=agents, dirt=False))
    exports.write_call_center(world, folder / "call_center", [])
    path = folder / "call_center" / f"contacts_{DAY:%Y%m%d}.csv"
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        for copy in range(copies):
            # The contact id is the first column: prefix it so every copy is a new contact.
            out.writelines(f"C{copy}-{line}\n" for line in lines)
    return path, len(lines) * copies


def land_pipeline(url: str, folder: Path, path: Path) -> None:
    from extractors.batch import make_batch
    from extractors.daily import land_mappings
    from extractors.deliveries import Places
    from extractors.mapping import load_mapping
    from extractors.settings import DEFAULT_MAPPINGS
    from warehouse.connection import connect

    mapping = load_mapping(DEFAULT_MAPPINGS / "call_center.yml")
    batch = make_batch("call_center", DAY, "Asia/Shanghai", "bench", "land", datetime.now(UTC))
    with connect(url) as conn:
        summary = land_mappings(conn, batch, {mapping.raw_table: mapping}, Places(folder))
    assert summary.rows_quarantined == 0, summary


def land_copy(url: str, folder: Path, path: Path) -> None:
    from warehouse.connection import connect

    with path.open(encoding="utf-8") as handle:
        columns = handle.readline().rstrip("\n").split(",")
    with connect(url) as conn:
        conn.execute("drop table if exists public.bare_copy")
        conn.execute(
            "create table public.bare_copy (" + ", ".join(f'"{c}" text' for c in columns) + ")"
        )
        with (
            conn.cursor() as cur,
            cur.copy("copy public.bare_copy from stdin (format csv, header)") as copy,
            path.open("rb") as handle,
        ):
            for block in iter(lambda: handle.read(1 << 20), b""):
                copy.write(block)


def land_pandas(url: str, folder: Path, path: Path) -> None:
    import pandas
    import sqlalchemy

    frame = pandas.read_csv(path, dtype=str)
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        frame.to_sql("pandas_to_sql", engine, if_exists="replace", index=False, chunksize=10_000)
    finally:
        engine.dispose()


def export_landed(url: str, folder: Path) -> None:
    """The rows the pipeline landed, as COPY text, for the floor (run after a landing)."""
    from warehouse.connection import connect

    with (
        connect(url) as conn,
        conn.cursor() as cur,
        cur.copy("copy raw.call_center_contacts to stdout") as copy,
        (folder / "landed.copy").open("wb") as out,
    ):
        for block in copy:
            out.write(block)


def land_floor(url: str, folder: Path, path: Path) -> None:
    from warehouse.connection import connect

    with connect(url) as conn:
        conn.execute("drop table if exists public.floor_copy")
        conn.execute("create table public.floor_copy (like raw.call_center_contacts including all)")
        with (
            conn.cursor() as cur,
            cur.copy("copy public.floor_copy from stdin") as copy,
            (folder / "landed.copy").open("rb") as handle,
        ):
            for block in iter(lambda: handle.read(1 << 20), b""):
                copy.write(block)


METHODS = {
    "pipeline": land_pipeline,
    "copy": land_copy,
    "pandas": land_pandas,
    "floor": land_floor,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", action="append", default=[], choices=sorted(METHODS))
    args = parser.parse_args()
    environment.prepare()
    url = bench_database(BENCH_DATABASE)
    seconds: dict[str, list[float]] = {m: [] for m in METHODS if m not in args.skip}
    with tempfile.TemporaryDirectory(prefix="ccp-bench-") as tmp:
        folder = Path(tmp)
        path, rows = _delivery(folder, args.agents, args.copies)
        size = path.stat().st_size
        print(f"file: {rows:,} rows, {size / 1e6:.1f} MB ({args.agents} agents x {args.copies})")
        land_pipeline(url, folder, path)  # untimed: creates the raw tables, warms the caches
        export_landed(url, folder)
        for attempt in range(args.repeat):
            # Rotate the order so no method always runs first (cold caches, autovacuum).
            order = (
                list(seconds)[attempt % len(seconds) :] + list(seconds)[: attempt % len(seconds)]
            )
            for method in order:
                started = time.perf_counter()
                METHODS[method](url, folder, path)
                seconds[method].append(time.perf_counter() - started)
    copy_rate = rows / statistics.median(seconds["copy"]) if "copy" in seconds else None
    print(f"{'method':<10}{'median s':>10}{'rows/s':>12}{'vs copy':>9}  runs (s)")
    for method, runs in seconds.items():
        rate = rows / statistics.median(runs)
        ratio = f"{rate / copy_rate:.2f}" if copy_rate else "-"
        print(
            f"{method:<10}{statistics.median(runs):>10.2f}{rate:>12,.0f}{ratio:>9}  "
            + ", ".join(f"{r:.2f}" for r in runs)
        )


if __name__ == "__main__":
    main()
