"""Peak memory of landing a call-center day: bounded by streaming, whatever the file size.

    .venv/bin/python bench/landing_memory.py --agents 2000 --copies 1 4 8

One simulated day of `--agents` (each `--copies` value concatenates it that many times
with fresh contact ids: several hundred thousand contacts) is landed by the pipeline in a
fresh process per file, which reports its peak resident memory (VmHWM) and its
resident memory before landing (imports, connection); pandas `read_csv` + `to_sql` of
the same file is measured the same way for comparison.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import tempfile
from pathlib import Path

from common import bench_database
from landing_throughput import BENCH_DATABASE, _delivery, land_pandas, land_pipeline

from cli import environment  # the project is installed in .venv (make install)

METHODS = {"pipeline": land_pipeline, "pandas": land_pandas}


def _child(method: str, url: str, folder: str, path: str, out) -> None:
    # What every method imports is loaded first, so it counts in the baseline, not the peak.
    for module in ("psycopg", "extractors.daily"):
        importlib.import_module(module)
    before = _high_water_kib()
    METHODS[method](url, Path(folder), Path(path))
    out.send((before, _high_water_kib()))


def _high_water_kib() -> int:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that over
    from the parent through fork and exec, so a child would report the parent's size."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def measure(method: str, url: str, folder: Path, path: Path) -> tuple[float, float]:
    """(MB resident before landing, MB peak) of a fresh process landing the file."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(method, url, str(folder), str(path), send))
    process.start()
    before, peak = receive.recv()
    process.join()
    return before / 1024, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--skip", action="append", default=[], choices=sorted(METHODS))
    args = parser.parse_args()
    environment.prepare()
    url = bench_database(BENCH_DATABASE)
    print(f"{'method':<10}{'rows':>10}{'MB file':>9}{'MB before':>11}{'MB peak':>9}")
    for copies in args.copies:
        with tempfile.TemporaryDirectory(prefix="ccp-bench-") as tmp:
            folder = Path(tmp)
            path, rows = _delivery(folder, args.agents, copies)
            size = path.stat().st_size / 1e6
            for method in METHODS:
                if method in args.skip:
                    continue
                before, peak = measure(method, url, folder, path)
                print(f"{method:<10}{rows:>10,}{size:>9.1f}{before:>11.0f}{peak:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
