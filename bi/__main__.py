"""`python -m bi`: import the dashboards of bi/assets and serve them until stopped.

The team install's Superset container (docker-compose.yml) runs this with Superset
installed system-wide (BI_VENV=/usr/local); locally `make bi` reaches the same functions
through `python -m cli bi`. Everything comes from the environment: WAREHOUSE_URL (its
host, port and database; the login is the BI role's), BI_READER_PASSWORD, SUPERSET_HOME."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from bi import dashboards


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bi", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument(
        "--wait-for-publication",
        action="store_true",
        help="wait for the first publish instead of refusing to import before it",
    )
    args = parser.parse_args()
    instance = dashboards.Superset(Path(os.environ["SUPERSET_HOME"]))
    dashboards.install(
        instance,
        os.environ["WAREHOUSE_URL"],
        os.environ["BI_READER_PASSWORD"],
        wait=args.wait_for_publication,
    )
    print(
        f"Superset on {args.host}:{args.port}; login {dashboards.ADMIN_USER}, password in"
        f" {instance.admin_password_file}",
        flush=True,
    )
    server = dashboards.serve(instance, args.port, None, host=args.host)
    # Stopped (a container's SIGTERM, a test's terminate): gunicorn stops too, not orphaned.
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    server.wait()


if __name__ == "__main__":
    main()
